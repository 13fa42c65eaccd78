//! Shared test helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
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
    Command::new(trackit_bin())
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", test_config_home())
        .output()
        .expect("run trackit")
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
pub mod sshd;

/// Cluster tests share the cluster; a test that stops slurmctld takes it exclusively.
static CLUSTER: std::sync::RwLock<()> = std::sync::RwLock::new(());

pub fn cluster_shared() -> std::sync::RwLockReadGuard<'static, ()> {
    CLUSTER.read().unwrap_or_else(|e| e.into_inner())
}

pub fn cluster_exclusive() -> std::sync::RwLockWriteGuard<'static, ()> {
    CLUSTER.write().unwrap_or_else(|e| e.into_inner())
}

/// True when a SLURM cluster answers here. Without one: a skip with the reason, except under CI
/// (`CI=true`), where it is a failure.
pub fn require_cluster() -> bool {
    let out = Command::new("scontrol").arg("ping").output();
    let reason = match out {
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
    match reason {
        None => true,
        Some(r) => {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("SLURM cluster required under CI but unavailable: {r} (run `sudo scripts/slurm-dev.sh start`)");
            }
            eprintln!(
                "SKIPPED: no SLURM cluster: {r} (start one with `sudo scripts/slurm-dev.sh start`)"
            );
            false
        }
    }
}
