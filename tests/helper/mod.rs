//! Shared test helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The trackit binary cargo built for these tests.
pub fn trackit_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_trackit"))
}

/// The project's own test data (never ../shared).
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
}

/// The config directory (XDG_CONFIG_HOME) the tests' trackit runs use, so trusting a test
/// policy never touches the user's own `~/.config/trackit`. One per test process; trust records
/// are keyed by the policy's path, and every test has its own temporary repository.
pub fn test_config_home() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("trackit-test-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
    .clone()
}

/// Runs trackit with `args` in `cwd` and returns its output.
pub fn trackit(args: &[&str], cwd: &Path) -> Output {
    let mut c = Command::new(trackit_bin());
    isolate(&mut c, shared_home());
    c.args(args)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", test_config_home())
        .output()
        .expect("run trackit")
}

/// Points trackit's user config and track index under `home` (`home/.xdg/config`,
/// `home/.xdg/state`), so tests never read or write the real ones, and clears `TRACKIT_POLICY`.
/// A hidden folder: result discovery skips it.
pub fn isolate<'a>(cmd: &'a mut Command, home: &Path) -> &'a mut Command {
    cmd.env("XDG_CONFIG_HOME", home.join(".xdg/config"))
        .env("XDG_STATE_HOME", home.join(".xdg/state"))
        .env_remove("TRACKIT_POLICY")
}

/// A home for [`isolate`] shared by the tests that do not look at the track index.
pub fn shared_home() -> &'static Path {
    static HOME: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    HOME.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("xdg-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap()
    })
    .path()
}

/// Trusts the repository policy `.trackit/policy.lua` of the repository at `repo` with
/// `trackit policy trust`, as its owner would after reviewing it.
pub fn trust_policy(repo: &Path) {
    let out = trackit(&["policy", "trust"], repo);
    assert!(
        out.status.success(),
        "trackit policy trust: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Polls `cond` until it holds or `timeout` passes; returns whether it held.
pub fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    cond()
}

/// Runs `cmd` to its end with its output captured; kills it and fails the test once `limit`
/// has passed.
pub fn run_within(cmd: &mut Command, limit: Duration) -> Output {
    let program = Path::new(cmd.get_program())
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let what = format!("{program} {:?}", cmd.get_args().collect::<Vec<_>>());
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    output_within(child, limit, &what)
}

/// Waits for `child` (spawned with its output piped) and returns its output; kills it and fails
/// the test once `limit` has passed, showing what `what` printed.
pub fn output_within(mut child: Child, limit: Duration, what: &str) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{what} did not finish within {limit:?}\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().unwrap()
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, text).unwrap();
    path
}

pub mod fake_github;
pub mod lab;
pub mod sshd;

/// Cluster tests share the cluster; a test that stops slurmctld takes it exclusively.
static CLUSTER: std::sync::RwLock<()> = std::sync::RwLock::new(());

pub fn cluster_shared() -> std::sync::RwLockReadGuard<'static, ()> {
    CLUSTER.read().unwrap_or_else(|e| e.into_inner())
}

pub fn cluster_exclusive() -> std::sync::RwLockWriteGuard<'static, ()> {
    CLUSTER.write().unwrap_or_else(|e| e.into_inner())
}

/// Set to 1 to skip the tests that need the local SLURM cluster (or root to stop it) on a
/// machine where that is intended. Without it, a missing cluster fails those tests: CI can
/// never pass by skipping.
pub const SKIP_CLUSTER_ENV: &str = "TRACKIT_SKIP_CLUSTER_TESTS";

/// Fails the test, or skips it when the developer asked with TRACKIT_SKIP_CLUSTER_TESTS=1.
pub fn missing(what: &str) -> bool {
    if std::env::var(SKIP_CLUSTER_ENV).is_ok_and(|v| v == "1") {
        eprintln!("SKIPPED ({SKIP_CLUSTER_ENV}=1): {what}");
        return false;
    }
    panic!("{what}: run scripts/test.sh as root (it sets up the cluster), or set {SKIP_CLUSTER_ENV}=1 to skip these tests on purpose");
}

/// True when a SLURM cluster answers here; otherwise a failure (see [`missing`]).
pub fn require_cluster() -> bool {
    // A busy controller can miss one ping (two suites on a 2-CPU machine did): ask a few times
    // before calling the cluster missing.
    let mut reason = None;
    for attempt in 0..5 {
        if attempt > 0 {
            std::thread::sleep(std::time::Duration::from_secs(2));
        }
        reason = match Command::new("scontrol").arg("ping").output() {
            Err(e) => Some(format!("cannot run `scontrol`: {e}")),
            Ok(o) => {
                let text = String::from_utf8_lossy(&o.stdout).to_string()
                    + &String::from_utf8_lossy(&o.stderr);
                if o.status.success() && text.contains("is UP") {
                    None
                } else {
                    Some(format!("`scontrol ping` says: {}", text.trim()))
                }
            }
        };
        if reason.is_none() || matches!(&reason, Some(r) if r.starts_with("cannot run")) {
            break;
        }
    }
    match reason {
        None => true,
        Some(r) => missing(&format!("no SLURM cluster: {r}")),
    }
}

/// True when this process may stop and start the cluster's daemons (root).
pub fn require_root() -> bool {
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    missing("stopping slurmctld needs root")
}

/// Fails with the command's output unless it exited with `code`.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}{}",
        stdout(out),
        stderr(out)
    );
}
