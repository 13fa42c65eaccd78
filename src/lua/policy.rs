//! Finding a policy, and the embedded Lua library it can `require`.

use std::path::{Path, PathBuf};

/// Where the policy comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicySource {
    /// The built-in default policy (`lua/trackit/default.lua`, embedded in the binary).
    Builtin,
    /// A policy shipped with trackit and built into the binary (`policies/<name>.lua`), named
    /// on the command line (`--policy sherlock`). Trusted like the built-in default.
    Shipped(&'static str),
    File(PathBuf),
    /// A repository policy that is not trusted (new, changed, or owned by someone else): the
    /// built-in default runs instead, and `why` says what to do.
    Untrusted {
        path: PathBuf,
        why: String,
    },
}

/// The prefix that marks a built-in policy where a path is expected (`builtin:sherlock`), e.g.
/// in a track's state.
pub const BUILTIN_PREFIX: &str = "builtin:";

/// The shipped policies: name, chunk name (for `file:line` in errors), source.
pub const SHIPPED: &[(&str, &str, &str)] = &[
    (
        "sherlock",
        "=policies/sherlock.lua",
        include_str!("../../policies/sherlock.lua"),
    ),
    (
        "generic-slurm",
        "=policies/generic-slurm.lua",
        include_str!("../../policies/generic-slurm.lua"),
    ),
    (
        "local",
        "=policies/local.lua",
        include_str!("../../policies/local.lua"),
    ),
];

/// A shipped policy by name (`sherlock`, or `builtin:sherlock`): its name, chunk name and source.
pub fn shipped(name: &str) -> Option<(&'static str, &'static str, &'static str)> {
    let name = name.strip_prefix(BUILTIN_PREFIX).unwrap_or(name);
    SHIPPED.iter().find(|(n, _, _)| *n == name).copied()
}

/// The names `--policy` accepts besides a file: `default` and the shipped policies.
pub fn builtin_names() -> Vec<&'static str> {
    std::iter::once("default")
        .chain(SHIPPED.iter().map(|(n, _, _)| *n))
        .collect()
}

impl PolicySource {
    /// The name shown in messages.
    pub fn display_name(&self) -> String {
        match self {
            PolicySource::Builtin => format!("{BUILTIN_PREFIX}default"),
            PolicySource::Shipped(name) => format!("{BUILTIN_PREFIX}{name}"),
            PolicySource::File(p) => p.display().to_string(),
            PolicySource::Untrusted { path, .. } => {
                format!("builtin:default ({} not trusted)", path.display())
            }
        }
    }

    /// Built into the binary (the default or a shipped policy): nothing on disk to trust.
    pub fn is_builtin(&self) -> bool {
        !matches!(self, PolicySource::File(_))
    }

    /// A `File` whose "path" is really a built-in name (`builtin:sherlock`, as a track stores
    /// it) becomes that built-in policy.
    pub fn normalized(&self) -> PolicySource {
        match self {
            PolicySource::File(p) => {
                match p.to_str().and_then(|s| s.strip_prefix(BUILTIN_PREFIX)) {
                    Some("default") => PolicySource::Builtin,
                    Some(name) => match shipped(name) {
                        Some((n, _, _)) => PolicySource::Shipped(n),
                        None => self.clone(),
                    },
                    None => self.clone(),
                }
            }
            other => other.clone(),
        }
    }

    /// How a track records this policy so that a resume, from any directory, loads the same
    /// one: a built-in name, or the file's absolute path.
    pub fn to_recorded(&self) -> PathBuf {
        match self {
            PolicySource::File(p) => std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()),
            other => PathBuf::from(other.display_name()),
        }
    }
}

/// What `--policy VALUE` (or `TRACKIT_POLICY`, or the config's `policy`) names: a built-in
/// policy by name (`sherlock`, `builtin:sherlock`, `default`), else a file when it looks like a
/// path (has a `/`, ends in `.lua`) or exists (`./local` names a file called `local`). Anything
/// else is an error that lists the names and suggests the closest.
pub fn named(value: &Path) -> Result<PolicySource, String> {
    let text = value.to_string_lossy();
    let looks_like_path = text.contains('/') || text.ends_with(".lua");
    let bare = text.strip_prefix(BUILTIN_PREFIX).unwrap_or(&text);
    if !looks_like_path {
        if bare == "default" {
            return Ok(PolicySource::Builtin);
        }
        if let Some((name, _, _)) = shipped(bare) {
            return Ok(PolicySource::Shipped(name));
        }
    }
    if looks_like_path || (value.exists() && !text.starts_with(BUILTIN_PREFIX)) {
        return Ok(PolicySource::File(value.to_path_buf()));
    }
    let names = builtin_names();
    let hint = crate::settings::did_you_mean(bare, names.iter().copied())
        .map(|n| format!("; did you mean '{n}'?"))
        .unwrap_or_default();
    Err(format!(
        "no policy named '{bare}' (built in: {}; a file needs a path such as ./{bare}.lua){hint}",
        names.join(", ")
    ))
}

/// Policy resolution, in one place: `--policy NAME|FILE` (or `TRACKIT_POLICY`; named by the
/// user, so trusted), else `.trackit/policy.lua` at the repository root if the user trusted it
/// ([`super::trust`]), else the user's default (`policy` in
/// `~/.config/trackit/config.toml`), else the built-in default. An unknown name falls back to
/// the built-in default with a warning; the command line checks names first
/// ([`named`]) so a typo stops it before anything runs.
pub fn resolve(explicit: Option<&Path>, start_dir: &Path) -> PolicySource {
    if let Some(p) = explicit {
        return resolve_named(p);
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
    if let Some(p) = crate::config::current().default_policy() {
        return resolve_named(&p);
    }
    PolicySource::Builtin
}

fn resolve_named(p: &Path) -> PolicySource {
    named(p).unwrap_or_else(|e| {
        tracing::warn!("{e}; using the built-in default policy");
        PolicySource::Builtin
    })
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
/// The shipped policies are modules too (`require("trackit.policies.sherlock")`), so a
/// repository's policy can extend one without a copy of trackit's source.
pub fn embedded(name: &str) -> Option<(&'static str, &'static str)> {
    if let Some(policy) = name.strip_prefix("trackit.policies.") {
        return shipped(policy).map(|(_, chunk, src)| (chunk, src));
    }
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
    fn names_and_files() {
        assert_eq!(
            named(Path::new("sherlock")),
            Ok(PolicySource::Shipped("sherlock"))
        );
        assert_eq!(
            named(Path::new("builtin:local")),
            Ok(PolicySource::Shipped("local"))
        );
        assert_eq!(named(Path::new("default")), Ok(PolicySource::Builtin));
        assert_eq!(
            named(Path::new("site/sherlock.lua")),
            Ok(PolicySource::File("site/sherlock.lua".into()))
        );
        assert_eq!(
            named(Path::new("./local")),
            Ok(PolicySource::File("./local".into()))
        );
        let e = named(Path::new("generic_slurm")).unwrap_err();
        assert!(e.contains("did you mean 'generic-slurm'?"), "{e}");
        // A track records built-in policies by name; the engine's File(...) of that name loads
        // the built-in one.
        for src in [PolicySource::Shipped("sherlock"), PolicySource::Builtin] {
            let recorded = PolicySource::File(src.to_recorded());
            assert_eq!(recorded.normalized(), src);
        }
        assert!(PolicySource::Shipped("local").is_builtin());
        assert!(!PolicySource::File("x.lua".into()).is_builtin());
        // Every shipped policy loads.
        for (name, _, _) in SHIPPED {
            crate::lua::Host::load(&PolicySource::Shipped(name)).unwrap();
        }
    }

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
