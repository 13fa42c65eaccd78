//! `trackit init`: sets a repository up for trackit. Writes a starter policy, the Lua API types
//! for the editor, a `.luarc.json` pointing at them and an experiment doc template. It never
//! overwrites: a file that exists already is kept and reported as kept.

use crate::cli::GlobalOpts;
use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to set up (default: the repository root, else the current directory)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The files `init` writes, relative to the root, with their content.
const FILES: &[(&str, &str)] = &[
    (
        ".trackit/policy.lua",
        include_str!("../../lua/templates/policy.lua"),
    ),
    (
        ".trackit/types/trackit.lua",
        include_str!("../../lua/types/trackit.lua"),
    ),
    (".trackit/types/trackit/default.lua", DEFAULT_POLICY_COPY),
    (
        ".luarc.json",
        include_str!("../../lua/templates/luarc.json"),
    ),
    (
        "docs/experiments/TEMPLATE.md",
        include_str!("../../lua/templates/experiment.md"),
    ),
];

/// The built-in policy, for the editor (so `require("trackit.default")` resolves and its rules
/// can be read). The binary always uses its embedded copy, whatever this file says.
const DEFAULT_POLICY_COPY: &str = concat!(
    "-- A copy of trackit's built-in default policy, written by `trackit init` for your editor.\n",
    "-- trackit itself always uses the copy embedded in its binary: editing this file changes\n",
    "-- nothing. Extend the default in .trackit/policy.lua instead.\n",
    include_str!("../../lua/trackit/default.lua")
);

#[derive(Debug, Serialize)]
struct Outcome {
    path: String,
    /// `wrote` or `kept`.
    action: &'static str,
}

pub fn run(global: &GlobalOpts, args: InitArgs) -> Result<ExitCode> {
    let start = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::current_dir()?,
    };
    let root = match &args.dir {
        Some(d) => d.clone(),
        None => crate::lua::policy::repo_root(&start).unwrap_or(start),
    };
    if !root.is_dir() {
        anyhow::bail!("{} is not a directory", root.display());
    }
    let mut outcomes = Vec::new();
    for (rel, content) in FILES {
        let wrote = write_new(&root.join(rel), content)
            .with_context(|| format!("cannot write {}", root.join(rel).display()))?;
        outcomes.push(Outcome {
            path: rel.to_string(),
            action: if wrote { "wrote" } else { "kept" },
        });
    }
    if global.json {
        let out = serde_json::json!({ "root": root.display().to_string(), "files": outcomes });
        println!("{out}");
    } else if !global.quiet {
        println!("trackit init in {}", root.display());
        for o in &outcomes {
            let why = if o.action == "kept" {
                " (exists; left as it is)"
            } else {
                ""
            };
            println!("  {} {}{why}", o.action, o.path);
        }
        if outcomes.iter().any(|o| o.action == "wrote") {
            println!(
                "next: edit .trackit/policy.lua, then `trackit policy check .trackit/policy.lua`"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `content` to `path` unless something is there already; returns whether it wrote.
/// The file appears whole or not at all: it is written to a temporary name, then hard-linked
/// into place, which fails (rather than replaces) when the target exists.
fn write_new(path: &Path, content: &str) -> Result<bool> {
    if path.symlink_metadata().is_ok() {
        return Ok(false);
    }
    let dir = path.parent().context("a path with no parent")?;
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.trackit-init.{}", std::process::id()));
    let result = (|| -> Result<bool> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(content.as_bytes())?;
        f.sync_all()?;
        drop(f);
        match std::fs::hard_link(&tmp, path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            // Some filesystems have no hard links: fall back to create-if-absent.
            Err(_) => match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(mut f) => {
                    f.write_all(content.as_bytes())?;
                    f.sync_all()?;
                    Ok(true)
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(e.into()),
            },
        }
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_file_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b.txt");
        assert!(write_new(&p, "first").unwrap());
        assert!(!write_new(&p, "second").unwrap());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "first");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("a"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    }
}
