//! Credentials for git2 transports, each method tried at most once per connection.
//!
//! libgit2 calls the credentials callback again after every failed attempt without saying
//! that the last one failed, so a callback that always answers loops forever (the classic
//! `ssh_key_from_agent` hang). The chain remembers what it offered and errors when nothing
//! is left.

use std::path::PathBuf;

use git2::{Config, Cred, CredentialType};

use super::secret::Secret;
use super::url::redact_url;

/// One way of authenticating, in the order the chain offers them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialMethod {
    /// An ssh URL without a user name: libgit2 asks for the name first.
    Username(String),
    /// Keys held by the ssh agent at `SSH_AUTH_SOCK`.
    SshAgent(String),
    /// An unencrypted key file such as `~/.ssh/id_ed25519` (no agent running).
    SshKeyFile { user: String, path: PathBuf },
    /// git's configured credential helpers (`credential.helper`).
    CredentialHelper,
    /// `x-access-token:<token>` over https (or plain http to the loopback host).
    Token,
}

impl CredentialMethod {
    fn label(&self) -> &'static str {
        match self {
            CredentialMethod::Username(_) => "ssh user name",
            CredentialMethod::SshAgent(_) => "ssh-agent",
            CredentialMethod::SshKeyFile { .. } => "ssh key file",
            CredentialMethod::CredentialHelper => "git credential helper",
            CredentialMethod::Token => "GH_TOKEN/GITHUB_TOKEN",
        }
    }
}

pub struct CredentialChain {
    config: Option<Config>,
    token: Option<Secret>,
    ssh_agent: bool,
    ssh_key_files: Vec<PathBuf>,
    offered: Vec<CredentialMethod>,
}

impl CredentialChain {
    /// Reads the environment: `SSH_AUTH_SOCK` for the agent, `~/.ssh/id_ed25519` and
    /// `~/.ssh/id_rsa` as key files.
    pub fn new(config: Option<Config>, token: Option<Secret>) -> Self {
        let ssh_agent = std::env::var_os("SSH_AUTH_SOCK").is_some_and(|s| !s.is_empty());
        let ssh_key_files = std::env::var_os("HOME")
            .map(PathBuf::from)
            .map(|home| {
                ["id_ed25519", "id_ecdsa", "id_rsa"]
                    .iter()
                    .map(|f| home.join(".ssh").join(f))
                    .filter(|p| p.is_file())
                    .collect()
            })
            .unwrap_or_default();
        Self::with_environment(config, token, ssh_agent, ssh_key_files)
    }

    /// As [`CredentialChain::new`] with the environment given explicitly (for tests).
    pub fn with_environment(
        config: Option<Config>,
        token: Option<Secret>,
        ssh_agent: bool,
        ssh_key_files: Vec<PathBuf>,
    ) -> Self {
        CredentialChain {
            config,
            token,
            ssh_agent,
            ssh_key_files,
            offered: Vec::new(),
        }
    }

    /// The next method not yet offered that fits the URL and what the server allows.
    pub fn next_method(
        &mut self,
        url: &str,
        username_from_url: Option<&str>,
        allowed: CredentialType,
    ) -> Option<CredentialMethod> {
        let user = username_from_url.unwrap_or("git").to_string();
        let mut candidates = Vec::new();
        if is_ssh_url(url) {
            if allowed.contains(CredentialType::USERNAME) {
                candidates.push(CredentialMethod::Username(user.clone()));
            }
            if allowed.contains(CredentialType::SSH_KEY) {
                if self.ssh_agent {
                    candidates.push(CredentialMethod::SshAgent(user.clone()));
                }
                for path in &self.ssh_key_files {
                    candidates.push(CredentialMethod::SshKeyFile {
                        user: user.clone(),
                        path: path.clone(),
                    });
                }
            }
        }
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            if self.config.is_some() {
                candidates.push(CredentialMethod::CredentialHelper);
            }
            if self.token.is_some() && token_allowed_for(url) {
                candidates.push(CredentialMethod::Token);
            }
        }
        let next = candidates.into_iter().find(|m| !self.offered.contains(m))?;
        self.offered.push(next.clone());
        Some(next)
    }

    /// The credentials callback body: the next method that yields a credential, or an
    /// error naming what was tried (never the token).
    pub fn credential(
        &mut self,
        url: &str,
        username_from_url: Option<&str>,
        allowed: CredentialType,
    ) -> Result<Cred, git2::Error> {
        while let Some(method) = self.next_method(url, username_from_url, allowed) {
            let made = match &method {
                CredentialMethod::Username(user) => Cred::username(user),
                CredentialMethod::SshAgent(user) => Cred::ssh_key_from_agent(user),
                CredentialMethod::SshKeyFile { user, path } => {
                    Cred::ssh_key(user, None, path, None)
                }
                CredentialMethod::CredentialHelper => match &self.config {
                    Some(config) => Cred::credential_helper(config, url, username_from_url),
                    None => continue,
                },
                CredentialMethod::Token => match &self.token {
                    Some(token) => Cred::userpass_plaintext("x-access-token", token.expose()),
                    None => continue,
                },
            };
            match made {
                Ok(cred) => {
                    tracing::debug!(method = method.label(), url = %redact_url(url), "offering credentials");
                    return Ok(cred);
                }
                Err(e) => {
                    tracing::debug!(method = method.label(), error = %e.message(), "credential method unavailable")
                }
            }
        }
        Err(git2::Error::from_str(&self.exhausted_message(url)))
    }

    fn exhausted_message(&self, url: &str) -> String {
        let tried: Vec<&str> = self
            .offered
            .iter()
            .filter(|m| !matches!(m, CredentialMethod::Username(_)))
            .map(CredentialMethod::label)
            .collect();
        let hint = if is_ssh_url(url) {
            "start an ssh-agent with a key GitHub knows (SSH_AUTH_SOCK), or use an https remote with GH_TOKEN"
        } else {
            "set GH_TOKEN or GITHUB_TOKEN, or configure a git credential helper"
        };
        if tried.is_empty() {
            format!("no credentials available for {}; {hint}", redact_url(url))
        } else {
            format!(
                "authentication failed for {} (tried: {}); {hint}",
                redact_url(url),
                tried.join(", ")
            )
        }
    }
}

fn is_ssh_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("ssh://")
        || lower.starts_with("git+ssh://")
        || lower.starts_with("ssh+git://")
    {
        return true;
    }
    // scp-like user@host:path
    !lower.contains("://")
        && url
            .split_once(':')
            .is_some_and(|(host, _)| !host.is_empty() && !host.contains('/') && host.len() > 1)
}

/// A token only travels encrypted, or to the loopback host (test servers).
fn token_allowed_for(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return true;
    }
    let Some(rest) = lower.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        host_port
            .split(']')
            .next()
            .unwrap_or_default()
            .trim_start_matches('[')
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    matches!(host, "127.0.0.1" | "localhost" | "::1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty_config() -> Config {
        Config::new().unwrap()
    }

    #[test]
    fn https_offers_helper_then_token_once_each() {
        let mut chain = CredentialChain::with_environment(
            Some(empty_config()),
            Some(Secret::new("t0k")),
            true,
            vec![],
        );
        let url = "https://github.com/o/r.git";
        let allowed = CredentialType::USER_PASS_PLAINTEXT;
        assert_eq!(
            chain.next_method(url, None, allowed),
            Some(CredentialMethod::CredentialHelper)
        );
        assert_eq!(
            chain.next_method(url, None, allowed),
            Some(CredentialMethod::Token)
        );
        assert_eq!(chain.next_method(url, None, allowed), None);
        assert_eq!(chain.next_method(url, None, allowed), None);
    }

    #[test]
    fn ssh_uses_agent_only_when_socket_set() {
        let url = "git@github.com:o/r.git";
        let allowed = CredentialType::SSH_KEY;
        let mut with_agent = CredentialChain::with_environment(None, None, true, vec![]);
        assert_eq!(
            with_agent.next_method(url, Some("git"), allowed),
            Some(CredentialMethod::SshAgent("git".into()))
        );
        assert_eq!(with_agent.next_method(url, Some("git"), allowed), None);

        let mut without =
            CredentialChain::with_environment(None, Some(Secret::new("t")), false, vec![]);
        assert_eq!(without.next_method(url, Some("git"), allowed), None);
        let err = without.credential(url, Some("git"), allowed).err().unwrap();
        assert!(
            err.message().contains("no credentials"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn agent_never_offered_for_https() {
        let mut chain = CredentialChain::with_environment(None, None, true, vec![]);
        let all = CredentialType::all();
        assert_eq!(chain.next_method("https://github.com/o/r", None, all), None);
    }

    #[test]
    fn token_only_over_https_or_loopback() {
        assert!(token_allowed_for("https://github.com/o/r"));
        assert!(token_allowed_for("http://127.0.0.1:8080/o/r"));
        assert!(token_allowed_for("http://localhost/o/r"));
        assert!(!token_allowed_for("http://github.com/o/r"));
        assert!(!token_allowed_for("http://127.0.0.1.evil.example/o/r"));
        assert!(!token_allowed_for("git@github.com:o/r"));
    }

    #[test]
    fn exhausted_error_names_methods_not_token() {
        let mut chain = CredentialChain::with_environment(
            Some(empty_config()),
            Some(Secret::new("ghp_verysecret")),
            false,
            vec![],
        );
        let url = "https://github.com/o/r.git";
        let allowed = CredentialType::USER_PASS_PLAINTEXT;
        // The empty config has no helper, so the first call already yields the token.
        assert!(chain.credential(url, None, allowed).is_ok());
        let err = chain.credential(url, None, allowed).err().unwrap();
        assert!(err.message().contains("GH_TOKEN"), "{}", err.message());
        assert!(!err.message().contains("ghp_verysecret"));
    }
}
