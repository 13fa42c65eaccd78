//! Pushing the results branch: never forced. A non-fast-forward rejection fetches the remote
//! branch, replays our commits on top of it and pushes again.
//!
//! The network goes through the `git` CLI (as cargo's `git-fetch-with-cli` does), so a push
//! works wherever `git push` works by hand: ssh honours `~/.ssh/config` (host aliases,
//! IdentityFile, ProxyJump) and the ssh-agent, https honours the user's credential helpers and
//! proxies. git2 stays for the local work (commits, rebase). A token is offered only for an
//! https remote on the host it is bound to ([`crate::auth`]), through a credential helper that
//! reads it from the git process's environment: never in argv, in the URL or on disk.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use git2::build::CheckoutBuilder;
use git2::{ErrorCode, Oid, Sort};

use super::error::{GitError, Result, ResultExt};
use super::repo::author_signature;
use super::results_branch::ResultsBranch;
use crate::auth::{parse_remote_url, redact_url, Credentials, HostKind, Scheme, Secret};

/// How many times a rejected push is rebased and retried (someone else keeps pushing).
const MAX_PUSH_ATTEMPTS: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushOutcome {
    pub remote: String,
    pub branch: String,
    /// The commit the remote branch points at now.
    pub head: Oid,
    /// How many of our commits were replayed onto the remote branch before pushing.
    pub rebased: usize,
    /// The remote already had everything; nothing was sent.
    pub up_to_date: bool,
}

enum Attempt {
    Accepted,
    Rejected(String),
}

impl ResultsBranch {
    /// Pushes the results branch to `remote` (a configured remote name) with `git push`. An
    /// https remote on a host `credentials` binds a token to gets that token; any other remote
    /// gets only what the user's own git and ssh set-up provide. A non-fast-forward rejection is
    /// resolved by rebasing onto the remote branch, never by forcing.
    pub fn push(&self, remote: &str, credentials: &Credentials) -> Result<PushOutcome> {
        let target = self.push_target(remote, credentials)?;
        let mut rebased = 0;
        let mut last_rejection = String::new();
        for _ in 0..MAX_PUSH_ATTEMPTS {
            let head = self.head()?;
            match self.push_once(&target)? {
                Attempt::Accepted => {
                    return Ok(PushOutcome {
                        remote: remote.to_string(),
                        branch: self.branch().to_string(),
                        head,
                        rebased,
                        up_to_date: false,
                    })
                }
                Attempt::Rejected(message) => {
                    tracing::info!(branch = self.branch(), remote, reason = %message, "push rejected; fetching the remote branch");
                    last_rejection = message.clone();
                    let Some(remote_tip) = self.fetch_remote_branch(&target)? else {
                        return Err(self.rejected(remote, message));
                    };
                    if remote_tip == head
                        || self
                            .repo
                            .graph_descendant_of(remote_tip, head)
                            .unwrap_or(false)
                    {
                        // The remote already has our commits: catch the branch up.
                        self.move_branch(
                            head,
                            remote_tip,
                            &format!("trackit: fast-forward to {remote}"),
                        )?;
                        return Ok(PushOutcome {
                            remote: remote.to_string(),
                            branch: self.branch().to_string(),
                            head: remote_tip,
                            rebased,
                            up_to_date: true,
                        });
                    }
                    if self
                        .repo
                        .graph_descendant_of(head, remote_tip)
                        .unwrap_or(false)
                    {
                        // A fast-forward that was still refused: a hook or protection rule.
                        return Err(self.rejected(remote, message));
                    }
                    rebased += self.rebase_onto(remote, remote_tip)?;
                }
            }
        }
        Err(self.rejected(
            remote,
            format!("still rejected after {MAX_PUSH_ATTEMPTS} rebases: {last_rejection}"),
        ))
    }

    /// Moves the results branch to the remote's tip, dropping local commits the remote does
    /// not have: everything trackit commits there is rendered from track state, so the caller
    /// renders again on top. Used when the remote changed the same doc (another machine's
    /// tracker) and a rebase cannot replay ours. Returns the new tip (None: no remote branch).
    pub fn take_remote(&self, remote: &str, credentials: &Credentials) -> Result<Option<Oid>> {
        let target = self.push_target(remote, credentials)?;
        let Some(tip) = self.fetch_remote_branch(&target)? else {
            return Ok(None);
        };
        let head = self.head()?;
        self.repo
            .reference_matching(
                &self.refname(),
                tip,
                true,
                head,
                "trackit: take the remote branch",
            )
            .ctx(|| format!("moving {}", self.branch()))?;
        self.repo
            .checkout_head(Some(CheckoutBuilder::new().force()))
            .ctx(|| format!("updating worktree {}", self.worktree_path().display()))?;
        Ok(Some(tip))
    }

    fn rejected(&self, remote: &str, message: String) -> GitError {
        GitError::PushRejected {
            remote: remote.to_string(),
            refname: self.refname(),
            message,
        }
    }

    /// The remote's push URL and the token it may get.
    fn push_target(&self, remote: &str, credentials: &Credentials) -> Result<PushTarget> {
        let found = match self.repo.find_remote(remote) {
            Ok(r) => r,
            Err(e) if matches!(e.code(), ErrorCode::NotFound | ErrorCode::InvalidSpec) => {
                return Err(GitError::NoSuchRemote(remote.to_string()))
            }
            Err(e) => return Err(e).ctx(|| format!("reading remote {remote}")),
        };
        let url = match found.pushurl() {
            Ok(Some(push_url)) => push_url.to_string(),
            _ => found.url().unwrap_or_default().to_string(),
        };
        let (token, no_token) = token_for_url(&url, credentials);
        if let Some(why) = &no_token {
            tracing::debug!(url = %redact_url(&url), "no token offered: {why}");
        }
        let user_ssh_command = std::env::var_os("GIT_SSH_COMMAND").is_some()
            || std::env::var_os("GIT_SSH").is_some()
            || self
                .repo
                .config()
                .ok()
                .and_then(|c| c.get_string("core.sshCommand").ok())
                .is_some();
        Ok(PushTarget {
            remote: remote.to_string(),
            url,
            token,
            no_token,
            user_ssh_command,
        })
    }

    fn push_once(&self, target: &PushTarget) -> Result<Attempt> {
        let refname = self.refname();
        let refspec = format!("{refname}:{refname}");
        tracing::info!(branch = self.branch(), remote = %target.remote, url = %redact_url(&target.url), "pushing results branch");
        let out = self.git_network(target, &["push", "--porcelain", &target.remote, &refspec])?;
        // `--porcelain`: one line per ref, `<flag>\t<from>:<to>\t<summary>`; `!` is a rejection.
        let line = out
            .stdout
            .lines()
            .find(|l| l.split('\t').nth(1).is_some_and(|r| r.ends_with(&refname)));
        match line {
            Some(l) if !l.starts_with('!') && out.success => Ok(Attempt::Accepted),
            Some(l) => {
                let summary = l.split('\t').nth(2).unwrap_or(l).to_string();
                let said: Vec<&str> = out
                    .stderr
                    .lines()
                    .filter_map(|l| l.strip_prefix("remote:"))
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect();
                let message = if said.is_empty() {
                    summary.clone()
                } else {
                    format!("{summary} (remote: {})", said.join(" / "))
                };
                if summary.contains("non-fast-forward") || summary.contains("fetch first") {
                    Ok(Attempt::Rejected(target.scrub(&message)))
                } else {
                    // A hook or a protection rule: rebasing would not help.
                    Err(GitError::PushRejected {
                        remote: target.remote.clone(),
                        refname,
                        message: target.scrub(&message),
                    })
                }
            }
            None if out.success => Ok(Attempt::Accepted),
            None => Err(GitError::Push {
                remote: target.remote.clone(),
                url: redact_url(&target.url),
                refname,
                message: target.failure(&out),
            }),
        }
    }

    /// Fetches the remote's copy of the results branch; `None` if the remote has none.
    fn fetch_remote_branch(&self, target: &PushTarget) -> Result<Option<Oid>> {
        let tracking = format!("refs/remotes/{}/{}", target.remote, self.branch());
        // Forget the old tracking ref so a branch deleted on the remote reads as absent.
        if let Ok(mut old) = self.repo.find_reference(&tracking) {
            let _ = old.delete();
        }
        let refspec = format!("+{}:{tracking}", self.refname());
        let out = self.git_network(
            target,
            &[
                "fetch",
                "--no-tags",
                "--no-write-fetch-head",
                &target.remote,
                &refspec,
            ],
        )?;
        if !out.success {
            let missing = out.stderr.contains("couldn't find remote ref");
            if missing {
                return Ok(None);
            }
            return Err(GitError::Push {
                remote: target.remote.clone(),
                url: redact_url(&target.url),
                refname: self.refname(),
                message: format!("fetching the remote branch: {}", target.failure(&out)),
            });
        }
        match self.repo.refname_to_id(&tracking) {
            Ok(oid) => Ok(Some(oid)),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e).ctx(|| format!("reading {tracking}")),
        }
    }

    /// Runs `git ARGS` in the worktree for a network operation: no prompt (trackit never asks
    /// anything), a time limit, and the bound token (if any) through trackit's credential helper.
    fn git_network(&self, target: &PushTarget, args: &[&str]) -> Result<GitOutput> {
        let mut cmd = Command::new("git");
        cmd.current_dir(self.worktree_path())
            .env("GIT_TERMINAL_PROMPT", "0")
            .env_remove(TOKEN_ENV)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if !target.user_ssh_command {
            // ssh still reads ~/.ssh/config (aliases, IdentityFile, ProxyJump) and the agent;
            // BatchMode only stops it from prompting for a passphrase or a host key.
            cmd.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
        }
        if let Some((secret, protocol, host)) = &target.token {
            // Our helper first (an empty value resets the list), answering only for this
            // protocol and host, so a redirect to another host gets nothing.
            cmd.arg("-c")
                .arg("credential.helper=")
                .arg("-c")
                .arg(format!("credential.helper={CREDENTIAL_HELPER}"))
                .env(TOKEN_ENV, secret.expose())
                .env(TOKEN_PROTOCOL_ENV, protocol)
                .env(TOKEN_HOST_ENV, host);
        }
        cmd.args(args);
        run_with_timeout(cmd, NETWORK_TIMEOUT).map_err(|e| GitError::Push {
            remote: target.remote.clone(),
            url: redact_url(&target.url),
            refname: self.refname(),
            message: format!("running git {}: {e}", args.first().unwrap_or(&"")),
        })
    }

    /// Replays our commits that the remote lacks on top of `upstream` (like `git rebase`:
    /// merges are dropped, commits already upstream are skipped), moves the branch there
    /// and updates the worktree. Returns the number of commits replayed.
    fn rebase_onto(&self, remote: &str, upstream: Oid) -> Result<usize> {
        let repo = &self.repo;
        let head = self.head()?;
        let mut walk = repo.revwalk().ctx(|| "walking history".into())?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
            .ctx(|| "walking history".into())?;
        walk.push(head).ctx(|| "walking history".into())?;
        walk.hide(upstream).ctx(|| "walking history".into())?;
        let to_replay = walk
            .collect::<std::result::Result<Vec<Oid>, _>>()
            .ctx(|| "walking history".into())?;

        let committer = author_signature(repo)?;
        let mut onto = repo
            .find_commit(upstream)
            .ctx(|| format!("reading {remote}/{}", self.branch()))?;
        let mut replayed = 0;
        for oid in to_replay {
            let commit = repo.find_commit(oid).ctx(|| format!("reading {oid}"))?;
            if commit.parent_count() > 1 {
                continue;
            }
            let mut index = repo
                .cherrypick_commit(&commit, &onto, 0, None)
                .ctx(|| format!("replaying {oid}"))?;
            if index.has_conflicts() {
                let paths: Vec<String> = index
                    .conflicts()
                    .map(|conflicts| {
                        conflicts
                            .flatten()
                            .filter_map(|c| c.our.or(c.their).or(c.ancestor))
                            .map(|e| String::from_utf8_lossy(&e.path).into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                return Err(GitError::RebaseConflict {
                    branch: self.branch().to_string(),
                    upstream: format!("{remote}/{}", self.branch()),
                    commit: oid.to_string(),
                    paths: paths.join(", "),
                    worktree: self.worktree_path().to_path_buf(),
                });
            }
            let tree_id = index
                .write_tree_to(repo)
                .ctx(|| "writing the tree".into())?;
            if tree_id == onto.tree_id() {
                continue; // already upstream
            }
            let tree = repo.find_tree(tree_id).ctx(|| "reading the tree".into())?;
            let message = String::from_utf8_lossy(commit.message_raw_bytes()).into_owned();
            let new = repo
                .commit(
                    None,
                    &commit.author(),
                    &committer,
                    &message,
                    &tree,
                    &[&onto],
                )
                .ctx(|| format!("replaying {oid}"))?;
            onto = repo.find_commit(new).ctx(|| format!("reading {new}"))?;
            replayed += 1;
        }
        self.move_branch(
            head,
            onto.id(),
            &format!("trackit: rebase onto {remote}/{}", self.branch()),
        )?;
        tracing::info!(branch = self.branch(), replayed, onto = %upstream, "rebased results branch onto the remote");
        Ok(replayed)
    }

    /// Moves the branch from `from` to `to` (failing if it moved meanwhile) and makes the
    /// worktree match.
    fn move_branch(&self, from: Oid, to: Oid, log_message: &str) -> Result<()> {
        if from != to {
            self.repo
                .reference_matching(&self.refname(), to, true, from, log_message)
                .ctx(|| format!("moving {}", self.branch()))?;
        }
        self.repo
            .checkout_head(Some(CheckoutBuilder::new().force()))
            .ctx(|| format!("updating worktree {}", self.worktree_path().display()))
    }
}

/// How long one `git push` or `git fetch` may take before it is killed.
const NETWORK_TIMEOUT: Duration = Duration::from_secs(300);

/// Environment variables that carry the bound token to the credential helper (set on the git
/// process only, never in argv or in a file).
const TOKEN_ENV: &str = "TRACKIT_GIT_TOKEN";
const TOKEN_PROTOCOL_ENV: &str = "TRACKIT_GIT_PROTOCOL";
const TOKEN_HOST_ENV: &str = "TRACKIT_GIT_HOST";

/// A git credential helper (a shell function) that answers `get` with the token only when git
/// asks for the bound protocol and host. `printf` is a shell builtin, so the token never
/// reaches an argv.
const CREDENTIAL_HELPER: &str = r#"!f() { test "$1" = get || exit 0; p=; h=; while IFS= read -r l; do case "$l" in protocol=*) p="${l#protocol=}";; host=*) h="${l#host=}";; esac; done; if [ "$p" = "$TRACKIT_GIT_PROTOCOL" ] && [ "$h" = "$TRACKIT_GIT_HOST" ] && [ -n "$TRACKIT_GIT_TOKEN" ]; then printf 'username=x-access-token\npassword=%s\n' "$TRACKIT_GIT_TOKEN"; fi; }; f"#;

/// Where a push goes and what it may carry.
struct PushTarget {
    remote: String,
    url: String,
    /// The token, and the protocol and host (as git's credential protocol names them) it is
    /// bound to.
    token: Option<(Secret, String, String)>,
    /// Why no token is offered (for the error when the push then fails to authenticate).
    no_token: Option<String>,
    /// The user set their own ssh command: leave it alone.
    user_ssh_command: bool,
}

impl PushTarget {
    fn scrub(&self, text: &str) -> String {
        match &self.token {
            Some((t, _, _)) => t.scrub(text),
            None => text.to_string(),
        }
    }

    /// A failed git run, explained: git's own message, and for an authentication failure what
    /// trackit offered and how to set things up.
    fn failure(&self, out: &GitOutput) -> String {
        let said: Vec<&str> = out
            .stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let mut message = if said.is_empty() {
            format!("git exited with {}", out.status)
        } else {
            said.join(" / ")
        };
        let lower = message.to_ascii_lowercase();
        let auth = lower.contains("authentication failed")
            || lower.contains("could not read username")
            || lower.contains("permission denied")
            || lower.contains("terminal prompts disabled")
            || lower.contains("403");
        if auth {
            let hint = match (&self.token, &self.no_token) {
                (Some(_), _) => "the token trackit offered was refused; check its scopes (contents: write)".to_string(),
                (None, Some(why)) => why.clone(),
                (None, None) => "trackit offers no token over ssh: load a key GitHub knows into ssh-agent or name it in ~/.ssh/config".to_string(),
            };
            message = format!("{message}; {hint}");
        }
        self.scrub(&message)
    }
}

/// The token for a push URL: only https (or plain http to the loopback host, for test
/// servers), only on the host the token is bound to.
fn token_for_url(
    url: &str,
    credentials: &Credentials,
) -> (Option<(Secret, String, String)>, Option<String>) {
    let Some(remote) = parse_remote_url(url) else {
        return (None, None); // a local path or file:// URL
    };
    let protocol = match remote.scheme {
        Scheme::Https => "https",
        Scheme::Http if is_loopback(&remote.host) => "http",
        Scheme::Http => {
            return (
                None,
                Some(format!(
                "{} is plain http: trackit never sends a token over it; use an https or ssh remote",
                remote.host
            )),
            )
        }
        Scheme::Ssh | Scheme::Git => return (None, None),
    };
    let lookup = credentials.token_for(&remote.host);
    match lookup.token {
        Some((secret, _)) => {
            // git names a host with its non-default port, as the parser keeps it.
            (
                Some((secret, protocol.to_string(), remote.host.clone())),
                None,
            )
        }
        None => {
            let why = lookup.missing();
            if lookup.kind == HostKind::Other {
                tracing::info!("{why}");
            }
            (None, Some(why))
        }
    }
}

fn is_loopback(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or_default()
    };
    matches!(name, "127.0.0.1" | "localhost" | "::1")
}

struct GitOutput {
    success: bool,
    status: String,
    stdout: String,
    stderr: String,
}

/// Runs `cmd`, killing it after `timeout`. Output is read on threads so a chatty git cannot
/// block on a full pipe.
fn run_with_timeout(mut cmd: Command, timeout: Duration) -> std::io::Result<GitOutput> {
    let mut child = cmd.spawn()?;
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        buf
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {timeout:?} (killed)"),
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Ok(GitOutput {
        success: status.success(),
        status: status.to_string(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn tokens_only_for_bound_https_hosts() {
        let env: HashMap<String, String> = [
            ("GH_TOKEN", "t"),
            ("GH_HOST", "127.0.0.1:8080"),
            ("GH_ENTERPRISE_TOKEN", "e"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let c = Credentials::from_env_map(&env);
        let host = |url: &str| {
            token_for_url(url, &c)
                .0
                .map(|(s, p, h)| (s.expose().to_string(), p, h))
        };
        assert_eq!(
            host("https://github.com/o/r.git"),
            Some(("t".into(), "https".into(), "github.com".into()))
        );
        assert_eq!(host("https://gitlab.com/o/r.git"), None);
        assert_eq!(host("http://github.com/o/r.git"), None);
        assert_eq!(host("git@github.com:o/r.git"), None);
        assert_eq!(host("/srv/remote.git"), None);
        assert_eq!(
            host("http://127.0.0.1:8080/o/r.git"),
            Some(("e".into(), "http".into(), "127.0.0.1:8080".into()))
        );
        assert_eq!(host("http://127.0.0.1:9090/o/r.git"), None);
    }
}
