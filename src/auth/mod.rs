//! Credentials bound to hosts, as `gh` binds them. One [`Secret`] type and one remote-URL
//! parser serve the GitHub API client and the push alike, so both agree on which host a
//! remote is on and whether it gets a token:
//!
//! - `GH_TOKEN`, `GITHUB_TOKEN`: github.com only.
//! - `GH_ENTERPRISE_TOKEN`, `GITHUB_ENTERPRISE_TOKEN`: the GitHub Enterprise Server named by
//!   `GH_HOST` only.
//! - otherwise `gh auth token --hostname HOST` (gh only has a token for a host you logged in to).
//! - any other host (GitLab, a mirror, an unknown ssh alias) gets nothing, and
//!   [`TokenLookup::missing`] says how to set things up.
//!
//! Every token trackit resolved is remembered for [`known_tokens`], so output scrubbing covers a
//! token that came from `gh auth token` and was never in the environment.

mod remote;
mod secret;

pub use remote::{parse_remote_url, redact_url, RemoteRepo, Scheme};
pub use secret::Secret;

use std::collections::HashMap;
use std::sync::Mutex;

/// github.com's token variables, in the order gh reads them.
pub const DOTCOM_TOKEN_VARS: [&str; 2] = ["GH_TOKEN", "GITHUB_TOKEN"];
/// The GH_HOST enterprise server's token variables, in the order gh reads them.
pub const ENTERPRISE_TOKEN_VARS: [&str; 2] = ["GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"];
/// Every variable that may hold a GitHub token: never passed on to a job.
pub const TOKEN_VARS: [&str; 4] = [
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "GH_ENTERPRISE_TOKEN",
    "GITHUB_ENTERPRISE_TOKEN",
];

/// github.com under any of the names its web, git and API hosts go by.
pub fn is_dotcom(host: &str) -> bool {
    matches!(
        host.to_ascii_lowercase().as_str(),
        "github.com" | "www.github.com" | "api.github.com"
    )
}

/// A host name as compared for binding: lower-case, without `https://`, a trailing slash or
/// the default https port.
pub fn normalize_host(host: &str) -> String {
    let h = host.trim().to_ascii_lowercase();
    let h = h
        .strip_prefix("https://")
        .or_else(|| h.strip_prefix("http://"))
        .unwrap_or(&h);
    let h = h.trim_end_matches('/');
    h.strip_suffix(":443").unwrap_or(h).to_string()
}

/// Which kind of GitHub a host is, from the environment's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    Dotcom,
    /// The host `GH_HOST` names.
    Enterprise,
    /// Any other host: only a token gh holds for it.
    Other,
}

/// Where a token came from (for messages; never the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    Env(&'static str),
    GhCli,
}

impl std::fmt::Display for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenSource::Env(name) => f.write_str(name),
            TokenSource::GhCli => f.write_str("gh auth token"),
        }
    }
}

/// The answer for one host: a token and its source, or why there is none.
#[derive(Debug, Clone)]
pub struct TokenLookup {
    pub host: String,
    pub kind: HostKind,
    pub token: Option<(Secret, TokenSource)>,
}

impl TokenLookup {
    pub fn secret(&self) -> Option<&Secret> {
        self.token.as_ref().map(|(s, _)| s)
    }

    /// How to give trackit a token for this host (for a message when there is none).
    pub fn missing(&self) -> String {
        let h = &self.host;
        match self.kind {
            HostKind::Dotcom => format!(
                "no GitHub token for {h}: set GH_TOKEN (or GITHUB_TOKEN), or log in with `gh auth login`"
            ),
            HostKind::Enterprise => format!(
                "no token for the GitHub Enterprise host {h} (GH_HOST): set GH_ENTERPRISE_TOKEN \
                 (or GITHUB_ENTERPRISE_TOKEN), or run `gh auth login --hostname {h}`"
            ),
            HostKind::Other => format!(
                "no token for {h}: trackit sends GH_TOKEN/GITHUB_TOKEN only to github.com and \
                 GH_ENTERPRISE_TOKEN only to the GH_HOST host. For a GitHub Enterprise Server at \
                 {h}, set GH_HOST={h} and GH_ENTERPRISE_TOKEN, or run `gh auth login --hostname {h}`; \
                 if {h} is an ssh alias of github.com, set GH_REPO=OWNER/NAME (or \
                 GH_REPO=github.com/OWNER/NAME)"
            ),
        }
    }
}

/// The credentials the environment holds, and the host-binding rules that hand them out.
/// Built from the process environment, or from a map in tests; `gh` is asked only for a host
/// the environment has no token for.
pub struct Credentials {
    env: HashMap<String, String>,
    gh: GhToken,
}

/// Stands for `gh auth token --hostname HOST`.
type GhToken = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("gh_host", &self.gh_host())
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// The process environment, with `gh auth token --hostname H` as the fallback.
    pub fn from_process_env() -> Credentials {
        Credentials::with(std::env::vars().collect(), gh_auth_token)
    }

    /// An environment map and a stand-in for `gh auth token --hostname H`.
    pub fn with(
        env: HashMap<String, String>,
        gh: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Credentials {
        Credentials {
            env,
            gh: Box::new(gh),
        }
    }

    /// An environment map, without gh.
    pub fn from_env_map(env: &HashMap<String, String>) -> Credentials {
        Credentials::with(env.clone(), |_| None)
    }

    fn var(&self, key: &str) -> Option<&str> {
        self.env
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// `GH_HOST`, normalised.
    pub fn gh_host(&self) -> Option<String> {
        self.var("GH_HOST").map(normalize_host)
    }

    pub fn kind_of(&self, host: &str) -> HostKind {
        let host = normalize_host(host);
        if is_dotcom(&host) {
            HostKind::Dotcom
        } else if self.gh_host().as_deref() == Some(host.as_str()) {
            HostKind::Enterprise
        } else {
            HostKind::Other
        }
    }

    /// The token bound to `host`, if any.
    pub fn token_for(&self, host: &str) -> TokenLookup {
        let kind = self.kind_of(host);
        let host = if kind == HostKind::Dotcom {
            "github.com".to_string()
        } else {
            normalize_host(host)
        };
        let vars: &[&'static str] = match kind {
            HostKind::Dotcom => &DOTCOM_TOKEN_VARS,
            HostKind::Enterprise => &ENTERPRISE_TOKEN_VARS,
            HostKind::Other => &[],
        };
        let from_env = vars.iter().find_map(|name| {
            self.var(name)
                .map(|v| (Secret::new(v), TokenSource::Env(name)))
        });
        let token = from_env.or_else(|| {
            (self.gh)(&host)
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .map(|t| {
                    remember(&t);
                    (Secret::new(t), TokenSource::GhCli)
                })
        });
        TokenLookup { host, kind, token }
    }
}

/// Tokens resolved through gh in this process, for scrubbing.
static RESOLVED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn remember(token: &str) {
    let mut all = RESOLVED.lock().unwrap_or_else(|e| e.into_inner());
    if !all.iter().any(|t| t == token) {
        all.push(token.to_string());
    }
}

/// Every token value this process knows of: the token variables, and the tokens `gh auth
/// token` gives for github.com and the `GH_HOST` host (asked once per process) or gave for any
/// other host. Output is scrubbed of all of them.
pub fn known_tokens() -> Vec<String> {
    static GH_ASKED: std::sync::Once = std::sync::Once::new();
    GH_ASKED.call_once(|| {
        let mut hosts = vec!["github.com".to_string()];
        if let Ok(h) = std::env::var("GH_HOST") {
            if !h.trim().is_empty() {
                hosts.push(normalize_host(&h));
            }
        }
        for host in hosts {
            if let Some(t) = gh_auth_token(&host) {
                remember(&t);
            }
        }
    });
    let mut out: Vec<String> = TOKEN_VARS
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    out.extend(
        RESOLVED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned(),
    );
    out
}

/// `gh auth token --hostname HOST`, if gh is installed and logged in to that host.
pub fn gh_auth_token(host: &str) -> Option<String> {
    let out = std::process::Command::new("gh")
        .args(["auth", "token", "--hostname", host])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let token = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(pairs: &[(&str, &str)]) -> Credentials {
        let env = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Credentials::with(env, |host| {
            (host == "gh-only.example").then(|| "from-gh".into())
        })
    }

    fn token(c: &Credentials, host: &str) -> Option<String> {
        c.token_for(host).secret().map(|s| s.expose().to_string())
    }

    #[test]
    fn dotcom_tokens_go_to_github_com_only() {
        let c = creds(&[("GH_TOKEN", "a"), ("GITHUB_TOKEN", "b")]);
        assert_eq!(token(&c, "github.com").as_deref(), Some("a"));
        assert_eq!(token(&c, "GitHub.com").as_deref(), Some("a"));
        assert_eq!(token(&c, "gitlab.com"), None);
        assert_eq!(token(&c, "127.0.0.1:8080"), None);
        assert_eq!(token(&c, "my-ssh-alias"), None);
        let c = creds(&[("GITHUB_TOKEN", "b")]);
        assert_eq!(token(&c, "github.com").as_deref(), Some("b"));
    }

    #[test]
    fn enterprise_tokens_go_to_gh_host_only() {
        let c = creds(&[
            ("GH_TOKEN", "dotcom"),
            ("GH_HOST", "ghe.corp"),
            ("GH_ENTERPRISE_TOKEN", "ent"),
        ]);
        assert_eq!(token(&c, "ghe.corp").as_deref(), Some("ent"));
        assert_eq!(token(&c, "github.com").as_deref(), Some("dotcom"));
        assert_eq!(token(&c, "other.corp"), None);
        // The enterprise token without GH_HOST goes nowhere.
        let c = creds(&[("GH_ENTERPRISE_TOKEN", "ent")]);
        assert_eq!(token(&c, "ghe.corp"), None);
        assert_eq!(token(&c, "github.com"), None);
    }

    #[test]
    fn gh_is_asked_per_host_and_its_token_is_remembered_for_scrubbing() {
        let c = creds(&[]);
        let found = c.token_for("gh-only.example");
        assert_eq!(
            found.token.as_ref().map(|(_, s)| s.clone()),
            Some(TokenSource::GhCli)
        );
        assert!(known_tokens().iter().any(|t| t == "from-gh"));
        // Output is scrubbed of it, though it was never in the environment.
        assert_eq!(
            crate::report::Secrets::from_env().scrub("token from-gh leaked"),
            "token *** leaked"
        );
        let none = c.token_for("gitlab.com");
        assert!(none.token.is_none());
        assert!(
            none.missing().contains("GH_HOST=gitlab.com"),
            "{}",
            none.missing()
        );
    }
}
