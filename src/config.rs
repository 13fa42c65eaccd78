//! The user's own settings, shared by every repository, and where trackit keeps its per-user
//! files (XDG base directories):
//!
//! - `$XDG_CONFIG_HOME/trackit/config.toml` (else `~/.config/trackit/config.toml`): the default
//!   policy, the cluster's ssh host and remote directory, GitHub settings;
//! - `$XDG_STATE_HOME/trackit/` (else `~/.local/state/trackit/`): the track index.
//!
//! Tokens never go in the config file: they come from `GH_TOKEN`, `GITHUB_TOKEN` or
//! `gh auth token`.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// `~/.config/trackit/config.toml`, as a user writes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UserConfig {
    /// The policy used where a repository has no `.trackit/policy.lua` and no `--policy` is
    /// given: a shipped policy's name (`sherlock`, `generic-slurm`, `local`) or a file (a
    /// relative path is relative to the config file's folder; `~/` is the home folder).
    pub policy: Option<String>,
    pub cluster: ClusterConfig,
    pub github: GithubConfig,
}

/// The cluster trackit reaches over ssh.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// The login node, as `ssh` would take it (a `~/.ssh/config` alias works).
    pub host: Option<String>,
    /// The folder on the cluster that holds the repositories' clones.
    pub remote_dir: Option<String>,
}

/// GitHub settings (never a token).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GithubConfig {
    /// A GitHub Enterprise host (as `GH_HOST`); the environment wins.
    pub host: Option<String>,
    /// The REST API root (as `GITHUB_API_URL`); the environment wins.
    pub api_url: Option<String>,
    /// Open a pull request for each track (false: as if `--no-pr` were always given).
    pub pr: bool,
}

impl Default for GithubConfig {
    fn default() -> Self {
        GithubConfig {
            host: None,
            api_url: None,
            pr: true,
        }
    }
}

impl UserConfig {
    /// The cluster's ssh host, if the user set one.
    pub fn host(&self) -> Option<&str> {
        self.cluster
            .host
            .as_deref()
            .filter(|h| !h.trim().is_empty())
    }

    /// The folder on the cluster that holds the clones, if the user set one.
    pub fn remote_dir(&self) -> Option<&str> {
        self.cluster
            .remote_dir
            .as_deref()
            .filter(|d| !d.trim().is_empty())
    }

    /// The default policy as `--policy` would take it: a shipped name, or a file path with
    /// `~/` expanded and a relative path taken from the config file's folder.
    pub fn default_policy(&self) -> Option<PathBuf> {
        let p = self.policy.as_deref()?.trim();
        if p.is_empty() {
            return None;
        }
        // A name (`sherlock`, or a typo of one, which the check reports) unless it looks like a
        // path.
        let looks_like_path = p.contains('/') || p.ends_with(".lua") || p.starts_with('~');
        if !looks_like_path {
            return Some(PathBuf::from(p));
        }
        let path = expand_home(p);
        if path.is_relative() {
            if let Some(dir) = config_dir() {
                return Some(dir.join(path));
            }
        }
        Some(path)
    }

    /// Reads a config file. A missing file is the default config; anything else that goes wrong
    /// is an error naming the file (and the line, for a syntax error or an unknown key).
    pub fn load_from(path: &Path) -> Result<UserConfig, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(UserConfig::default()),
            Err(e) => {
                return Err(ConfigError {
                    path: path.to_path_buf(),
                    message: format!("cannot read it: {e}"),
                })
            }
        };
        toml::from_str::<UserConfig>(&text).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            message: explain_toml_error(&e, &text),
        })
    }

    /// The user's config file (see [`config_path`]).
    pub fn load() -> Result<UserConfig, ConfigError> {
        match config_path() {
            Some(p) => UserConfig::load_from(&p),
            None => Ok(UserConfig::default()),
        }
    }
}

/// The config file is broken: which file, and what is wrong (with a suggestion when a key is
/// misspelled).
#[derive(Debug, Clone, thiserror::Error)]
#[error("config file {}: {message}", path.display())]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
}

/// toml's message with the line, "did you mean" for a misspelled key, and a word on tokens.
/// The offending line itself is not quoted: it might hold a secret.
fn explain_toml_error(e: &toml::de::Error, text: &str) -> String {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    let at = line.map(|l| format!("line {l}: ")).unwrap_or_default();
    let message = e.message().trim_end();
    if let Some((key, known)) = crate::settings::unknown_field(message) {
        if key.to_ascii_lowercase().contains("token") {
            return format!("{at}`{key}` is not a config key: tokens do not belong in the config file; set GH_TOKEN or run `gh auth login`");
        }
        let hint = match crate::settings::did_you_mean(&key, known.iter().map(String::as_str)) {
            Some(best) => format!("; did you mean `{best}`?"),
            None => String::new(),
        };
        return format!(
            "{at}unknown key `{key}` (known: {}){hint}",
            known.join(", ")
        );
    }
    format!("{at}{message}")
}

/// `~/x` → `$HOME/x`; anything else unchanged.
pub fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ if p == "~" => home_dir().unwrap_or_else(|| PathBuf::from(p)),
        _ => PathBuf::from(p),
    }
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// An XDG base directory: the variable when it holds an absolute path (the spec says to ignore
/// a relative one), else `$HOME/<fallback>`.
fn xdg_dir(var: &str, fallback: &str) -> Option<PathBuf> {
    if let Some(v) = std::env::var_os(var) {
        let p = PathBuf::from(v);
        if p.is_absolute() {
            return Some(p);
        }
    }
    home_dir().map(|h| h.join(fallback))
}

/// `$XDG_CONFIG_HOME/trackit`, else `~/.config/trackit`.
pub fn config_dir() -> Option<PathBuf> {
    xdg_dir("XDG_CONFIG_HOME", ".config").map(|d| d.join("trackit"))
}

/// `$XDG_CONFIG_HOME/trackit/config.toml`, else `~/.config/trackit/config.toml`.
pub fn config_path() -> Option<PathBuf> {
    config_dir().map(|d| d.join("config.toml"))
}

/// `$XDG_STATE_HOME/trackit`, else `~/.local/state/trackit`: the track index.
pub fn state_dir() -> Option<PathBuf> {
    xdg_dir("XDG_STATE_HOME", ".local/state").map(|d| d.join("trackit"))
}

static CURRENT: OnceLock<UserConfig> = OnceLock::new();

/// The user's config for this process, read once. The command line checks it first (a broken
/// file stops trackit with exit 3 before anything starts); a reader deeper down that still
/// meets a broken file gets the defaults and a warning.
pub fn current() -> &'static UserConfig {
    CURRENT.get_or_init(|| match UserConfig::load() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("{e}; using the defaults");
            UserConfig::default()
        }
    })
}

/// Loads the config now, for the command line to report a broken file as an error.
pub fn check() -> Result<&'static UserConfig, ConfigError> {
    if let Some(c) = CURRENT.get() {
        return Ok(c);
    }
    let c = UserConfig::load()?;
    if let Some(p) = c.default_policy() {
        crate::lua::policy::named(&p).map_err(|message| ConfigError {
            path: config_path().unwrap_or_default(),
            message: format!("policy: {message}"),
        })?;
    }
    Ok(CURRENT.get_or_init(|| c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_config_parses_and_a_missing_one_is_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        assert_eq!(UserConfig::load_from(&path).unwrap(), UserConfig::default());
        std::fs::write(
            &path,
            "policy = \"sherlock\"\n[cluster]\nhost = \"login.sherlock.stanford.edu\"\nremote_dir = \"~/scratch/code\"\n[github]\nhost = \"github.example.edu\"\npr = false\n",
        )
        .unwrap();
        let c = UserConfig::load_from(&path).unwrap();
        assert_eq!(c.host(), Some("login.sherlock.stanford.edu"));
        assert_eq!(c.remote_dir(), Some("~/scratch/code"));
        assert_eq!(c.default_policy(), Some(PathBuf::from("sherlock")));
        assert_eq!(c.github.host.as_deref(), Some("github.example.edu"));
        assert!(!c.github.pr);
        assert!(GithubConfig::default().pr, "PRs are on unless turned off");
    }

    #[test]
    fn a_misspelled_key_names_the_file_line_and_the_intended_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "polcy = \"local\"\n").unwrap();
        let e = UserConfig::load_from(&path).unwrap_err().to_string();
        assert!(e.contains("config.toml"), "{e}");
        assert!(e.contains("line 1"), "{e}");
        assert!(e.contains("did you mean `policy`?"), "{e}");
        std::fs::write(&path, "[cluster]\nhots = \"x\"\n").unwrap();
        let e = UserConfig::load_from(&path).unwrap_err().to_string();
        assert!(e.contains("did you mean `host`?"), "{e}");
        std::fs::write(&path, "[github]\ntoken = \"ghp_x\"\n").unwrap();
        let e = UserConfig::load_from(&path).unwrap_err().to_string();
        assert!(e.contains("GH_TOKEN"), "{e}");
        assert!(!e.contains("ghp_x"), "the value is not echoed: {e}");
    }
}
