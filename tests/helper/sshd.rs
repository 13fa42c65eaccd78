//! A real OpenSSH server on loopback for the tests, run as the current user with its own host
//! key, client key and `authorized_keys` in a temporary folder, killed on drop. Tests reach it
//! through an ssh client config file ([`Sshd::client_config`]) that defines host aliases, so they
//! never touch the user's own `~/.ssh`.
//!
//! Under CI (`CI=true`) a missing `sshd` is a failure; elsewhere [`Sshd::start`] returns `None`
//! and says why.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Sshd {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    /// The client key `authorized_keys` accepts.
    pub identity: PathBuf,
    pub user: String,
}

const SSHD: &str = "/usr/sbin/sshd";

fn keygen(path: &Path) {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .output()
        .expect("ssh-keygen runs");
    assert!(
        out.status.success(),
        "ssh-keygen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Sshd {
    /// Starts sshd on 127.0.0.1 on a free port; `None` (with the reason printed) when there is
    /// no sshd here, a panic under CI.
    pub fn start() -> Option<Sshd> {
        if !Path::new(SSHD).exists() {
            let reason = format!("{SSHD} is not installed (apt-get install openssh-server)");
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("sshd required under CI: {reason}");
            }
            eprintln!("SKIPPED: {reason}");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let host_key = dir.path().join("host_key");
        let identity = dir.path().join("id_ed25519");
        keygen(&host_key);
        keygen(&identity);
        let public = std::fs::read_to_string(identity.with_extension("pub")).unwrap();
        let authorized = dir.path().join("authorized_keys");
        std::fs::write(&authorized, public).unwrap();
        // sshd refuses keys in group/world-writable places even with StrictModes off for some
        // checks; keep everything private.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        // Privilege separation needs this folder when run as root.
        let _ = std::fs::create_dir_all("/run/sshd");
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.path().join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\nAuthorizedKeysFile {}\n\
                 StrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
                 PermitRootLogin prohibit-password\nAllowTcpForwarding yes\nLogLevel ERROR\n",
                host_key.display(),
                dir.path().join("sshd.pid").display(),
                authorized.display(),
            ),
        )
        .unwrap();
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sshd starts");
        let user = String::from_utf8(
            Command::new("id")
                .arg("-un")
                .output()
                .expect("id runs")
                .stdout,
        )
        .unwrap()
        .trim()
        .to_string();
        let sshd = Sshd {
            child,
            port,
            dir,
            identity,
            user,
        };
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(sshd);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("sshd did not listen on {port}");
    }

    /// Writes an ssh client config defining `Host` blocks (`alias` → this server, with the
    /// identity and no host-key prompts) plus `extra`, and returns its path.
    pub fn client_config(&self, alias: &str, extra: &str) -> PathBuf {
        let path = self.dir.path().join("ssh_config");
        std::fs::write(
            &path,
            format!(
                "Host {alias}\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  IdentityFile {}\n  \
                 IdentitiesOnly yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  \
                 BatchMode yes\n  LogLevel ERROR\n{extra}",
                self.port,
                self.user,
                self.identity.display()
            ),
        )
        .unwrap();
        path
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
