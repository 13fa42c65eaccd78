//! A cluster reached over ssh: a real OpenSSH server on loopback in front of the real local
//! SLURM. trackit runs with shims in place of every SLURM command on its own PATH, so any
//! scheduler command run locally would show up (and fail); over ssh the real ones answer.

use crate::helper::sshd::{require_sshd, Sshd};
use crate::helper::{
    assert_exit, cluster_shared, require_cluster, run_within, stderr, stdout, trackit_bin,
    wait_for, write,
};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const FAST_POLICY: &str = r#"
local base = require("trackit.default")
return trackit.extend(base, { settings = { poll = { first_s = 1, growth = 1.5, max_s = 4, min_s = 0.5 } } })
"#;

const SLURM_COMMANDS: [&str; 5] = ["sbatch", "squeue", "sacct", "scontrol", "scancel"];

/// The laptop (a repository and trackit with shimmed SLURM commands) and the cluster (sshd on
/// loopback, the repository's checkout in another folder).
struct Remote {
    sshd: Sshd,
    local: tempfile::TempDir,
    checkout: tempfile::TempDir,
    shims: tempfile::TempDir,
}

impl Remote {
    fn new() -> Remote {
        let sshd = Sshd::start();
        let local = tempfile::Builder::new()
            .prefix("trackit-laptop-")
            .tempdir_in("/tmp")
            .unwrap();
        let checkout = tempfile::Builder::new()
            .prefix("trackit-cluster-")
            .tempdir_in("/tmp")
            .unwrap();
        let shims = tempfile::tempdir().unwrap();
        for cmd in SLURM_COMMANDS {
            let log = shims.path().join("calls.log");
            let body = format!(
                "#!/bin/sh\necho \"{cmd} $*\" >> '{}'\necho '{cmd}: not on this machine (shim)' >&2\nexit 1\n",
                log.display()
            );
            let p = write(shims.path(), cmd, &body);
            std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
        }
        write(local.path(), "fast.lua", FAST_POLICY);
        Remote {
            sshd,
            local,
            checkout,
            shims,
        }
    }

    fn script(&self, name: &str, body: &str) {
        let text =
            format!("#!/bin/bash\n#SBATCH --output=slurm-%j.out\n#SBATCH --time=5\n{body}\n");
        write(self.local.path(), name, &text);
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(trackit_bin());
        let path = format!(
            "{}:{}",
            self.shims.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        c.arg("--policy")
            .arg(self.local.path().join("fast.lua"))
            .args(["--no-git", "--host", &self.sshd.alias, "--remote-dir"])
            .arg(self.checkout.path())
            .args(args)
            .current_dir(self.local.path())
            .env("PATH", path)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG");
        crate::helper::isolate(&mut c, crate::helper::shared_home());
        for (k, v) in self.sshd.env() {
            c.env(k, v);
        }
        c
    }

    fn run_within(&self, args: &[&str], limit: Duration) -> Output {
        run_within(&mut self.cmd(args), limit)
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Submits a job on the cluster as its user would, in the checkout; its id.
    fn sbatch_on_host(&self, args: &str) -> String {
        let out = self.sshd.exec(&format!(
            "cd {} && sbatch --parsable {args}",
            self.checkout.path().display()
        ));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Scheduler commands trackit ran on this machine (must stay empty).
    fn local_calls(&self) -> String {
        std::fs::read_to_string(self.shims.path().join("calls.log")).unwrap_or_default()
    }

    /// The only track's state (Null before it is written).
    fn track(&self) -> serde_json::Value {
        let dir = self.local.path().join(".trackit/tracks");
        let Some(Ok(entry)) = std::fs::read_dir(&dir).ok().and_then(|mut d| d.next()) else {
            return serde_json::Value::Null;
        };
        std::fs::read_to_string(entry.path().join("state.json"))
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .map(|v| v["state"].clone())
            .unwrap_or_default()
    }

    fn track_dir(&self) -> PathBuf {
        let dir = self.local.path().join(".trackit/tracks");
        let id = std::fs::read_dir(&dir)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .file_name();
        dir.join(id)
    }
}

fn states(t: &serde_json::Value) -> Vec<String> {
    t["attempts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|a| a["tasks"][0]["state"].as_str().unwrap_or("-").to_string())
        .collect()
}

#[test]
fn remote_sbatch_runs_everything_on_the_host_and_fetches_results() {
    if !require_cluster() || !require_sshd() {
        return;
    }
    let _c = cluster_shared();
    let r = Remote::new();
    r.script(
        "train.sh",
        "echo \"running in $(pwd)\"\nsleep 2\necho '{\"loss\": 0.25, \"accuracy\": 0.9}' > metrics.json\necho done",
    );
    let out = r.run_within(&["sbatch", "train.sh"], Duration::from_secs(240));
    assert_exit(&out, 0);
    let t = r.track();
    assert_eq!(states(&t), ["COMPLETED"], "{t:#}");
    assert_eq!(
        r.local_calls(),
        "",
        "no scheduler command ran on this machine"
    );
    // The job ran in the remote checkout, from a copy of the script and its wrapper there.
    let id = t["id"].as_str().unwrap();
    let remote_track = r.checkout.path().join(".trackit/tracks").join(id);
    assert!(remote_track.join("attempt-1.sh").is_file());
    assert!(remote_track.join("attempt-1.wrapper.sh").is_file());
    assert!(r.checkout.path().join("metrics.json").is_file());
    // Its log was fetched for the diagnosis, its results for the report.
    let a = &t["attempts"][0];
    let fetched = a["fetched_logs"][0].as_str().expect("a fetched log");
    let log = std::fs::read_to_string(fetched).unwrap();
    assert!(
        log.contains(&format!("running in {}", r.checkout.path().display())),
        "{log}"
    );
    let results = PathBuf::from(a["results_dir"].as_str().expect("results fetched"));
    assert!(results.starts_with(r.track_dir()), "{results:?}");
    assert!(results.join("metrics.json").is_file());
    let metrics = t["published"]["results"]["metrics"]["metrics"]
        .as_array()
        .unwrap();
    let loss = metrics
        .iter()
        .find(|m| m["name"] == "loss")
        .expect("loss collected");
    assert_eq!(loss["final"], 0.25, "{metrics:?}");
    let logins = r.sshd.logins();
    assert!((1..=3).contains(&logins), "{logins} ssh logins for one job");
}

#[test]
fn remote_oom_is_diagnosed_from_the_fetched_log_and_fixed_there() {
    if !require_cluster() || !require_sshd() {
        return;
    }
    let _c = cluster_shared();
    let r = Remote::new();
    r.script(
        "grow.sh",
        "#SBATCH --mem=100M\npython3 -c \"x = bytearray(150*1024*1024); print('fits')\"",
    );
    let out = r.run_within(&["sbatch", "grow.sh"], Duration::from_secs(300));
    assert_exit(&out, 0);
    let t = r.track();
    assert_eq!(states(&t), ["OUT_OF_MEMORY", "COMPLETED"], "{t:#}");
    assert_eq!(t["attempts"][0]["diagnosis"]["kind"], "oom");
    let edits = t["attempts"][1]["edits"][0].as_str().unwrap();
    assert!(edits.starts_with("--mem 100M -> 200M"), "{edits}");
    // The edited copy ran on the cluster; the user's script is untouched.
    let id = t["id"].as_str().unwrap();
    let copy = r
        .checkout
        .path()
        .join(".trackit/tracks")
        .join(id)
        .join("attempt-2.sh");
    assert!(std::fs::read_to_string(copy)
        .unwrap()
        .contains("--mem=200M"));
    assert!(std::fs::read_to_string(r.local.path().join("grow.sh"))
        .unwrap()
        .contains("--mem=100M"));
    assert_eq!(r.local_calls(), "");
    let logins = r.sshd.logins();
    assert!((1..=3).contains(&logins), "{logins} ssh logins");
}

#[test]
fn remote_resume_cancel_and_logs() {
    if !require_cluster() || !require_sshd() {
        return;
    }
    let _c = cluster_shared();
    let r = Remote::new();
    r.script("long.sh", "echo started\nsleep 120\necho end");
    let mut tracker = r.spawn(&["sbatch", "long.sh"]);
    assert!(wait_for(Duration::from_secs(120), || {
        states(&r.track()) == ["RUNNING"]
    }));
    // The tracker dies; a new one resumes over ssh, then the track is cancelled.
    unsafe {
        libc::kill(tracker.id() as i32, libc::SIGKILL);
    }
    let _ = tracker.wait();
    let id = r.track()["id"].as_str().unwrap().to_string();
    let mut resumed = r.spawn(&["resume", &id]);
    std::thread::sleep(Duration::from_secs(3));
    let out = r.cmd(&["cancel", &id]).output().unwrap();
    assert_exit(&out, 0);
    let start = Instant::now();
    while resumed.try_wait().unwrap().is_none() && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = resumed.wait_with_output().unwrap();
    let t = r.track();
    assert_eq!(t["outcome"], "cancelled", "{}\n{t:#}", stderr(&out));
    assert_eq!(
        t["attempts"].as_array().unwrap().len(),
        1,
        "nothing was submitted twice"
    );
    assert_eq!(r.local_calls(), "");
    // Logs are read over ssh too.
    let out = r.cmd(&["logs", &id]).output().unwrap();
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("started"), "{}", stdout(&out));
    let logins = r.sshd.logins();
    assert!(logins <= 6, "{logins} logins across 4 trackit processes");
}

#[test]
fn a_dropped_connection_is_no_failure() {
    if !require_cluster() || !require_sshd() {
        return;
    }
    let _c = cluster_shared();
    let mut r = Remote::new();
    r.script("steady.sh", "echo start\nsleep 25\necho end");
    let mut tracker = r.spawn(&["sbatch", "steady.sh"]);
    assert!(wait_for(Duration::from_secs(120), || {
        states(&r.track()) == ["RUNNING"]
    }));
    // The network goes away for a while: the master connection dies with it.
    r.sshd.stop();
    std::thread::sleep(Duration::from_secs(10));
    r.sshd.resume();
    let start = Instant::now();
    while tracker.try_wait().unwrap().is_none() && start.elapsed() < Duration::from_secs(240) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = tracker.wait_with_output().unwrap();
    assert_exit(&out, 0);
    let t = r.track();
    assert_eq!(states(&t), ["COMPLETED"], "{t:#}");
    let events = std::fs::read_to_string(r.track_dir().join("events.jsonl")).unwrap();
    assert!(
        events.contains("scheduler_unreachable"),
        "the outage was noticed: {events}"
    );
    let logins = r.sshd.logins();
    assert!(
        (2..=3).contains(&logins),
        "{logins} logins: one, plus one after the outage"
    );
}

#[test]
fn remote_attach_adopts_a_job_on_the_host() {
    if !require_cluster() || !require_sshd() {
        return;
    }
    let _c = cluster_shared();
    let r = Remote::new();
    write(
        r.checkout.path(),
        "mine.sh",
        "#!/bin/bash\necho adopted\nsleep 4\n",
    );
    let job = r.sbatch_on_host("--output=mine-%j.out mine.sh");
    let out = r.run_within(&["attach", &job], Duration::from_secs(180));
    assert_exit(&out, 0);
    let t = r.track();
    assert_eq!(states(&t), ["COMPLETED"]);
    assert_eq!(t["attempts"][0]["job"]["id"], job.as_str());
    assert_eq!(r.local_calls(), "");
}

#[test]
fn a_remote_attached_job_is_relaunched_from_its_own_script_wrapped_on_the_host() {
    if !require_cluster() || !require_sshd() {
        return;
    }
    let _c = cluster_shared();
    let r = Remote::new();
    let body = "#!/bin/bash\npython3 -c \"x = bytearray(150*1024*1024); print('fits')\"\n";
    write(r.checkout.path(), "grow.sh", body);
    let job = r.sbatch_on_host("--mem=100M --time=5 --output=grow-%j.out grow.sh");
    // The script on the host changes after submission; the relaunch runs what was submitted.
    write(r.checkout.path(), "grow.sh", "#!/bin/bash\nexit 9\n");
    let out = r.run_within(&["attach", &job], Duration::from_secs(300));
    assert_exit(&out, 0);
    let t = r.track();
    assert_eq!(states(&t), ["OUT_OF_MEMORY", "COMPLETED"], "{t:#}");
    let edits = t["attempts"][1]["edits"][0].as_str().unwrap();
    assert!(edits.starts_with("--mem 100M -> 200M"), "{edits}");
    let kept = r
        .local
        .path()
        .join(format!(".trackit/attached/job-{job}.sh"));
    assert_eq!(std::fs::read_to_string(kept).unwrap(), body);
    // The relaunch ran the kept script through the exit-file wrapper, on the host.
    let id = t["id"].as_str().unwrap();
    let on_host = r.checkout.path().join(".trackit/tracks").join(id);
    let wrapper = std::fs::read_to_string(on_host.join("attempt-2.wrapper.sh")).unwrap();
    assert!(wrapper.contains("attempt-2.sh"), "{wrapper}");
    assert_eq!(
        std::fs::read_to_string(on_host.join("attempt-2.sh")).unwrap(),
        body
    );
    let exits = std::fs::read_dir(on_host.join("exits")).unwrap().count();
    assert_eq!(exits, 1, "the relaunch wrote its exit file");
    assert_eq!(t["attempts"][1]["job"]["name"], "grow.sh");
    assert_eq!(r.local_calls(), "");
}
