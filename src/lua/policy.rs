//! Finding a policy, and the embedded Lua library it can `require`.

use std::path::{Path, PathBuf};

/// Where the policy comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicySource {
    /// The built-in default policy (`lua/trackit/default.lua`, embedded in the binary).
    Builtin,
    File(PathBuf),
    /// A repository policy that is not trusted (new, changed, or owned by someone else): the
    /// built-in default runs instead, and `why` says what to do.
    Untrusted {
        path: PathBuf,
        why: String,
    },
}

impl PolicySource {
    /// The name shown in messages.
    pub fn display_name(&self) -> String {
        match self {
            PolicySource::Builtin => "builtin:default".to_string(),
            PolicySource::File(p) => p.display().to_string(),
            PolicySource::Untrusted { path, .. } => {
                format!("builtin:default ({} not trusted)", path.display())
            }
        }
    }
}

/// Policy resolution: `--policy FILE` (named by the user, so trusted), else
/// `.trackit/policy.lua` at the repository root if the user trusted it
/// ([`super::trust`]), else the built-in default.
pub fn resolve(explicit: Option<&Path>, start_dir: &Path) -> PolicySource {
    if let Some(p) = explicit {
        return PolicySource::File(p.to_path_buf());
    }
    if let Some(root) = repo_root(start_dir) {
        let candidate = root.join(".trackit").join("policy.lua");
        if candidate.is_file() {
            return match super::trust::check(&candidate) {
                super::trust::Verdict::Trusted => PolicySource::File(candidate),
                verdict => PolicySource::Untrusted {
                    why: verdict.explain(&candidate),
                    path: candidate,
                },
            };
        }
    }
    PolicySource::Builtin
}

/// The nearest ancestor holding `.git` (a directory, or a file for worktrees).
pub fn repo_root(start: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(start).ok()?;
    start
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// The built-in Lua library: module name → (chunk name, source).
pub const EMBEDDED: &[(&str, &str, &str)] = &[
    (
        "trackit.init",
        "=trackit/init.lua",
        include_str!("../../lua/trackit/init.lua"),
    ),
    (
        "trackit.default",
        "=trackit/default.lua",
        include_str!("../../lua/trackit/default.lua"),
    ),
    (
        "trackit.fixers",
        "=trackit/fixers.lua",
        include_str!("../../lua/trackit/fixers.lua"),
    ),
    (
        "trackit.report",
        "=trackit/report.lua",
        include_str!("../../lua/trackit/report.lua"),
    ),
];

/// Looks up an embedded module (`trackit.default`, ...).
pub fn embedded(name: &str) -> Option<(&'static str, &'static str)> {
    EMBEDDED
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, chunk, src)| (*chunk, *src))
}

/// A chunk name for a file: Lua cuts names at ~60 characters, so long paths keep their tail.
pub fn chunk_name(path: &Path) -> String {
    let shown = path.display().to_string();
    if shown.chars().count() <= 55 {
        return format!("@{shown}");
    }
    let comps: Vec<_> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let mut tail = String::new();
    for c in comps.iter().rev() {
        let candidate = if tail.is_empty() {
            c.clone()
        } else {
            format!("{c}/{tail}")
        };
        if candidate.chars().count() > 50 {
            break;
        }
        tail = candidate;
    }
    format!("@…/{tail}")
}

/// The first line of `source` that declares `key` as a table key (`key =` or `["key"] =`), for
/// pointing a rule error at `file:line`.
pub fn line_of_key(source: &str, key: &str) -> Option<usize> {
    let plain = regex::Regex::new(&format!(
        r#"(^|[\s,{{])({k}|\[\s*["']{k}["']\s*\])\s*="#,
        k = regex::escape(key)
    ))
    .ok()?;
    source
        .lines()
        .position(|l| plain.is_match(l))
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_chunk_names_keep_the_file() {
        let p = Path::new(
            "/very/long/path/that/goes/on/and/on/and/on/forever/policies/site/policy.lua",
        );
        let name = chunk_name(p);
        assert!(name.ends_with("site/policy.lua"), "{name}");
        assert!(name.chars().count() <= 58);
        assert_eq!(chunk_name(Path::new("p.lua")), "@p.lua");
    }

    #[test]
    fn rule_lines_are_found() {
        let src =
            "return {\n  rules = {\n    my_rule = { kind = 'oom' },\n    [\"other\"] = {},\n  }\n}";
        assert_eq!(line_of_key(src, "my_rule"), Some(3));
        assert_eq!(line_of_key(src, "other"), Some(4));
        assert_eq!(line_of_key(src, "missing"), None);
    }
}
