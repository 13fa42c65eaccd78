//! A real OpenSSH server on loopback, one per test: its own host key, its own client key (so
//! its log counts this test's logins only), a client config with an alias, and a private
//! control-socket folder. `scripts/test.sh` installs `openssh-server`; without `sshd` the tests
//! fail (TRACKIT_SKIP_CLUSTER_TESTS=1 skips them on a machine where that is intended).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SSHD: &str = "/usr/sbin/sshd";

pub struct Sshd {
    dir: tempfile::TempDir,
    pub port: u16,
    child: Option<Child>,
    /// The alias in the client config.
    pub alias: String,
    fingerprint: String,
}

/// True when ssh tests can run; a failure without sshd, unless the developer skips cluster
/// tests on purpose (TRACKIT_SKIP_CLUSTER_TESTS=1).
pub fn require_sshd() -> bool {
    if Path::new(SSHD).is_file() {
        return true;
    }
    crate::helper::missing(&format!("{SSHD} is missing (package openssh-server)"))
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run a setup command");
    assert!(
        out.status.success(),
        "{:?}: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn whoami() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Sshd {
    pub fn start() -> Sshd {
        let dir = tempfile::Builder::new()
            .prefix("trackit-sshd-")
            .tempdir()
            .unwrap();
        let d = dir.path();
        for key in ["host_key", "client_key"] {
            run(Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", key, "-f"])
                .arg(d.join(key)));
        }
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
        let fp = Command::new("ssh-keygen")
            .args(["-l", "-f"])
            .arg(d.join("client_key.pub"))
            .output()
            .unwrap();
        let fingerprint = String::from_utf8_lossy(&fp.stdout)
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string();
        let port = free_port();
        let _ = std::fs::create_dir_all("/run/sshd");
        std::fs::write(
            d.join("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
                 AuthorizedKeysFile {d}/authorized_keys\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
                 PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\nLogLevel VERBOSE\n\
                 MaxSessions 50\nMaxStartups 50\n",
                d = d.display()
            ),
        )
        .unwrap();
        let host_pub = std::fs::read_to_string(d.join("host_key.pub")).unwrap();
        let mut fields = host_pub.split_whitespace();
        let (kind, key) = (fields.next().unwrap(), fields.next().unwrap());
        std::fs::write(
            d.join("known_hosts"),
            format!("[127.0.0.1]:{port} {kind} {key}\n"),
        )
        .unwrap();
        let alias = "trackit-test-cluster".to_string();
        std::fs::write(
            d.join("ssh_config"),
            format!(
                "Host {alias}\n  HostName 127.0.0.1\n  Port {port}\n  User {user}\n  IdentityFile {d}/client_key\n  IdentitiesOnly yes\n  UserKnownHostsFile {d}/known_hosts\n  StrictHostKeyChecking yes\n  LogLevel ERROR\n",
                user = whoami(),
                d = d.display()
            ),
        )
        .unwrap();
        std::fs::create_dir_all(d.join("run")).unwrap();
        let mut s = Sshd {
            dir,
            port,
            child: None,
            alias,
            fingerprint,
        };
        s.resume();
        s
    }

    /// (Re)starts the server on the same port.
    pub fn resume(&mut self) {
        let d = self.dir.path();
        let child = Command::new(SSHD)
            .args(["-D", "-f"])
            .arg(d.join("sshd_config"))
            .arg("-E")
            .arg(d.join("sshd.log"))
            .stdin(Stdio::null())
            .spawn()
            .expect("start sshd");
        self.child = Some(child);
        let up = crate::helper::wait_for(Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
        });
        assert!(up, "sshd did not start: {}", self.log());
    }

    /// Stops the server and drops every connection it carries (a network outage).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // The per-connection sshd processes are the listener's descendants. Only they go:
            // a session's own commands (a login shell's rc files, say) are left to finish, as
            // they would when a real link drops; killing them mid-way can leave their locks
            // behind (pyenv's rehash lock, for one, which then stalls every later login).
            let mut doomed = vec![c.id() as i32];
            let mut i = 0;
            while i < doomed.len() {
                doomed.extend(children_of(doomed[i]).into_iter().filter(|p| is_sshd(*p)));
                i += 1;
            }
            for pid in doomed.iter().rev() {
                unsafe {
                    libc::kill(*pid, libc::SIGKILL);
                }
            }
            let _ = c.wait();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// Logins with this test's key so far.
    pub fn logins(&self) -> usize {
        self.log()
            .lines()
            .filter(|l| l.contains("Accepted publickey") && l.contains(&self.fingerprint))
            .count()
    }

    /// The client key `authorized_keys` accepts.
    pub fn identity(&self) -> PathBuf {
        self.dir.path().join("client_key")
    }

    /// The user the server lets in (this one).
    pub fn user(&self) -> String {
        whoami()
    }

    /// Writes another client config: `alias` for this server (its key, its known host) plus
    /// `extra` (more `Host` blocks), and returns its path.
    pub fn client_config(&self, alias: &str, extra: &str) -> PathBuf {
        let d = self.dir.path();
        let path = d.join(format!("ssh_config.{alias}"));
        std::fs::write(
            &path,
            format!(
                "Host {alias}\n  HostName 127.0.0.1\n  Port {port}\n  User {user}\n  IdentityFile {d}/client_key\n  IdentitiesOnly yes\n  UserKnownHostsFile {d}/known_hosts\n  StrictHostKeyChecking yes\n  BatchMode yes\n  LogLevel ERROR\n{extra}",
                port = self.port,
                user = whoami(),
                d = d.display()
            ),
        )
        .unwrap();
        path
    }

    /// `ssh -F <config>`: what TRACKIT_SSH_COMMAND is set to.
    pub fn ssh_command(&self) -> String {
        format!("ssh -F {}", self.dir.path().join("ssh_config").display())
    }

    /// A private XDG_RUNTIME_DIR, so this test's master connection is its own.
    pub fn runtime_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    /// Runs a command on the server as the test user.
    pub fn exec(&self, script: &str) -> std::process::Output {
        Command::new("ssh")
            .args(["-F"])
            .arg(self.dir.path().join("ssh_config"))
            .arg(&self.alias)
            .arg(script)
            .output()
            .unwrap()
    }

    /// The environment a trackit process needs to use this server.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("TRACKIT_SSH_COMMAND".into(), self.ssh_command()),
            (
                "XDG_RUNTIME_DIR".into(),
                self.runtime_dir().display().to_string(),
            ),
        ]
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        // Close any master connection left in the private folder, then the server.
        let _ = Command::new("ssh")
            .args(["-F"])
            .arg(self.dir.path().join("ssh_config"))
            .args(["-o"])
            .arg(format!(
                "ControlPath={}/trackit-ssh/%C",
                self.runtime_dir().display()
            ))
            .args(["-O", "exit", &self.alias])
            .stderr(Stdio::null())
            .status();
        self.stop();
    }
}

/// Is this process an sshd (the listener or a per-connection one)?
fn is_sshd(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "sshd")
}

/// The direct children of a process, from /proc.
fn children_of(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.flatten() {
        let Ok(child) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // The fields after the command name (which may hold spaces) start after the last ')'.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let ppid = rest
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<i32>().ok());
        if ppid == Some(pid) {
            out.push(child);
        }
    }
    out
}
