//! Commands on a remote machine (a cluster's login node) through the system OpenSSH client.
//!
//! The user's own `ssh` is used, so `~/.ssh/config` works exactly as it does for them: host
//! aliases, `ProxyJump`, `IdentityFile`, the agent. One multiplexed connection per host
//! (`ControlMaster=auto`, `ControlPersist`) carries every command, so a job tracked for a week
//! costs one login, plus one per dropped connection. The control socket lives in a private
//! directory (mode 0700, owned by the user) because anyone who can open it can run commands as
//! the user on the cluster.
//!
//! Exit status 255 is ssh's own failure (no route, connection dropped, authentication): it is
//! reported as [`SshError::Connection`], a transient fault for the caller to back off from, never
//! the remote command's result.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// How long an idle master connection stays up after the last command.
const CONTROL_PERSIST: &str = "15m";

#[derive(Debug, thiserror::Error)]
pub enum SshError {
    /// ssh itself failed (exit 255): unreachable host, dropped connection, refused login.
    #[error("ssh {host}: {message}")]
    Connection { host: String, message: String },
    /// No answer within the time limit; the ssh process was killed.
    #[error("ssh {host}: no answer within {timeout:?} (killed)")]
    Timeout { host: String, timeout: Duration },
    #[error("cannot run ssh: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("{0}")]
    Setup(String),
}

impl SshError {
    pub fn is_transient(&self) -> bool {
        matches!(self, SshError::Connection { .. } | SshError::Timeout { .. })
    }
}

/// What a remote command printed and how it ended.
#[derive(Debug, Clone)]
pub struct RemoteOutput {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl RemoteOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// One remote host, reached with the user's ssh. Cheap to clone; clones share the connection
/// and the counters.
#[derive(Debug, Clone)]
pub struct SshHost {
    host: String,
    /// The ssh program and options before ours (`ssh`, or `TRACKIT_SSH_COMMAND` split on
    /// whitespace, e.g. `ssh -F ~/.ssh/cluster_config`).
    program: Vec<String>,
    control_dir: PathBuf,
    timeout: Duration,
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    /// Commands run over ssh.
    commands: AtomicU64,
    /// Commands that found no master connection and so had to log in.
    logins: AtomicU64,
}

impl SshHost {
    /// `host` as the user would type it after `ssh` (an alias, `user@host`, `host:port` is not
    /// ssh syntax: use an alias with `Port`).
    pub fn new(host: &str) -> Result<SshHost, SshError> {
        if host.is_empty() || host.starts_with('-') || host.chars().any(char::is_whitespace) {
            return Err(SshError::Setup(format!(
                "'{host}' is not a host name or ssh alias"
            )));
        }
        let program = match std::env::var("TRACKIT_SSH_COMMAND") {
            Ok(cmd) if !cmd.trim().is_empty() => {
                cmd.split_whitespace().map(str::to_string).collect()
            }
            _ => vec!["ssh".to_string()],
        };
        Ok(SshHost {
            host: host.to_string(),
            program,
            control_dir: private_control_dir()?,
            timeout: Duration::from_secs(60),
            counters: Arc::default(),
        })
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// Commands run so far, and how many of them had to log in (no live master).
    pub fn counts(&self) -> (u64, u64) {
        (
            self.counters.commands.load(Ordering::Relaxed),
            self.counters.logins.load(Ordering::Relaxed),
        )
    }

    fn control_path(&self) -> PathBuf {
        // %C: a hash of local host, remote host, port and user: short enough for a socket path.
        self.control_dir.join("%C")
    }

    /// The ssh command line up to the host: our multiplexing options after the user's program,
    /// so `~/.ssh/config` still decides everything else.
    fn base_command(&self, batch: bool) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(&self.program[0]);
        cmd.args(&self.program[1..]);
        cmd.arg("-o").arg("ControlMaster=auto");
        cmd.arg("-o")
            .arg(format!("ControlPath={}", self.control_path().display()));
        cmd.arg("-o")
            .arg(format!("ControlPersist={CONTROL_PERSIST}"));
        // Keepalives notice a dead link in about a minute instead of TCP's hours.
        cmd.arg("-o").arg("ServerAliveInterval=15");
        cmd.arg("-o").arg("ServerAliveCountMax=3");
        if batch {
            // Unattended: never wait for a password prompt nobody will answer.
            cmd.arg("-o").arg("BatchMode=yes");
        }
        cmd.kill_on_drop(true);
        cmd
    }

    /// Is a master connection up (no login needed for the next command)?
    pub async fn master_alive(&self) -> bool {
        let mut cmd = self.base_command(true);
        cmd.arg("-O")
            .arg("check")
            .arg(&self.host)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        matches!(
            tokio::time::timeout(Duration::from_secs(10), cmd.status()).await,
            Ok(Ok(s)) if s.success()
        )
    }

    /// Asks the master connection to exit (best effort).
    pub async fn close_master(&self) {
        let mut cmd = self.base_command(true);
        cmd.arg("-O")
            .arg("exit")
            .arg(&self.host)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let _ = tokio::time::timeout(Duration::from_secs(10), cmd.status()).await;
    }

    /// Opens the master connection with the terminal attached, so a password or second factor
    /// can be typed once, before the tracker goes unattended.
    pub async fn connect_interactive(&self) -> Result<(), SshError> {
        if self.master_alive().await {
            return Ok(());
        }
        self.counters.logins.fetch_add(1, Ordering::Relaxed);
        let mut cmd = self.base_command(false);
        cmd.arg(&self.host).arg("true");
        let status = cmd.status().await.map_err(SshError::Spawn)?;
        if status.code() == Some(255) {
            return Err(SshError::Connection {
                host: self.host.clone(),
                message: "cannot connect (see ssh's message above)".into(),
            });
        }
        Ok(())
    }

    /// Runs `script` (a POSIX shell command line) on the host, feeding `stdin`.
    pub async fn run(&self, script: &str, stdin: Option<&[u8]>) -> Result<RemoteOutput, SshError> {
        if !self.master_alive().await {
            self.counters.logins.fetch_add(1, Ordering::Relaxed);
        }
        self.counters.commands.fetch_add(1, Ordering::Relaxed);
        let mut cmd = self.base_command(true);
        // `--` ends ssh's options; the remote shell gets one string.
        cmd.arg(&self.host).arg("--").arg(script);
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        tracing::debug!(host = %self.host, %script, "ssh");
        let mut child = cmd.spawn().map_err(SshError::Spawn)?;
        if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
            let data = data.to_vec();
            tokio::spawn(async move {
                let _ = pipe.write_all(&data).await;
                let _ = pipe.shutdown().await;
            });
        }
        let out = match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
            Ok(Ok(out)) => out,
            Ok(Err(e)) => return Err(SshError::Spawn(e)),
            Err(_) => {
                // A master whose link died silently makes every command hang: close it, so
                // the next command logs in afresh.
                self.close_master().await;
                return Err(SshError::Timeout {
                    host: self.host.clone(),
                    timeout: self.timeout,
                });
            }
        };
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if out.status.code() == Some(255) {
            self.close_master().await;
            return Err(SshError::Connection {
                host: self.host.clone(),
                message: if stderr.is_empty() {
                    "connection failed".into()
                } else {
                    stderr
                },
            });
        }
        Ok(RemoteOutput {
            code: out.status.code(),
            stdout: out.stdout,
            stderr,
        })
    }

    /// Writes `content` to `path` on the host atomically (temp file, then rename), creating
    /// its directory.
    pub async fn write_file(&self, path: &str, content: &[u8], mode: u32) -> Result<(), String> {
        let dir = Path::new(path)
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|| ".".into());
        let tmp = format!("{path}.partial.{}", std::process::id());
        let script = format!(
            "mkdir -p {d} && cat > {t} && chmod {mode:o} {t} && mv -f {t} {p}",
            d = quote(&dir),
            t = quote(&tmp),
            p = quote(path)
        );
        let out = self
            .run(&script, Some(content))
            .await
            .map_err(|e| e.to_string())?;
        if !out.success() {
            return Err(format!(
                "cannot write {path} on {}: {}",
                self.host, out.stderr
            ));
        }
        Ok(())
    }
}

/// Quotes one word for a POSIX shell.
pub fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b))
    {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// A command line of quoted words.
pub fn quote_all<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `$XDG_RUNTIME_DIR/trackit-ssh`, else `/tmp/trackit-ssh-<uid>`: created 0700, and refused
/// if it belongs to someone else or others can enter it. Short, because a Unix socket path
/// must fit in 108 bytes.
fn private_control_dir() -> Result<PathBuf, SshError> {
    let uid = unsafe { libc::geteuid() };
    let dir = match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(d) if !d.is_empty() && Path::new(&d).is_dir() => PathBuf::from(d).join("trackit-ssh"),
        _ => PathBuf::from(format!("/tmp/trackit-ssh-{uid}")),
    };
    match std::fs::create_dir(&dir) {
        Ok(()) => {
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| SshError::Setup(format!("cannot protect {}: {e}", dir.display())))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(SshError::Setup(format!(
                "cannot create {}: {e}",
                dir.display()
            )))
        }
    }
    let meta = std::fs::symlink_metadata(&dir)
        .map_err(|e| SshError::Setup(format!("cannot inspect {}: {e}", dir.display())))?;
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o077 != 0 {
        return Err(SshError::Setup(format!(
            "{} must be a directory owned by you with mode 0700 (it holds ssh control sockets); remove it and try again",
            dir.display()
        )));
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("squeue"), "squeue");
        assert_eq!(quote("--format=%i|%T"), "'--format=%i|%T'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote_all(&["a b", "c"]), "'a b' c");
    }

    #[test]
    fn host_names_are_checked() {
        assert!(SshHost::new("-oProxyCommand=x").is_err());
        assert!(SshHost::new("a b").is_err());
        assert!(SshHost::new("").is_err());
    }
}
