//! The tracker as a user runs it: `trackit sbatch|run|resume|cancel|status|list`, on the real
//! SLURM cluster and with real local processes.

use crate::helper::{
    cluster_exclusive, cluster_shared, isolate, require_cluster, stderr, trackit_bin, wait_for,
    write,
};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A policy that polls every second or so, so tests don't wait minutes.
const FAST_POLICY: &str = r#"
local base = require("trackit.default")
return trackit.extend(base, { settings = { poll = { first_s = 1, growth = 1.5, max_s = 3, min_s = 0.5 } } })
"#;

struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Lab {
        // Under /tmp: jobs run on this machine and write their output here.
        let dir = tempfile::Builder::new()
            .prefix("trackit-test-")
            .tempdir_in("/tmp")
            .unwrap();
        write(dir.path(), "fast.lua", FAST_POLICY);
        Lab { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn script(&self, name: &str, body: &str) -> PathBuf {
        let text = format!(
            "#!/bin/bash\n#SBATCH --output={}/{name}-%j.out\n{body}\n",
            self.path().display()
        );
        write(self.path(), name, &text)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(trackit_bin());
        isolate(&mut c, self.path());
        c.arg("--policy").arg(self.path().join("fast.lua"));
        c.args(args)
            .current_dir(self.path())
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs to completion, but kills it (and fails the test) after `limit`.
    fn run_within(&self, args: &[&str], limit: Duration) -> Output {
        let mut child = self.spawn(args);
        let start = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > limit {
                kill9(&mut child);
                panic!("trackit {args:?} did not finish within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        child.wait_with_output().unwrap()
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn tracks(&self) -> Vec<serde_json::Value> {
        let out = isolate(&mut Command::new(trackit_bin()), self.path())
            .args(["list", "--json"])
            .current_dir(self.path())
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or_default()
    }

    fn only_track(&self) -> serde_json::Value {
        let t = self.tracks();
        assert_eq!(t.len(), 1, "{t:?}");
        t.into_iter().next().unwrap()
    }

    fn events(&self, id: &str) -> Vec<serde_json::Value> {
        let path = self
            .path()
            .join(".trackit/tracks")
            .join(id)
            .join("events.jsonl");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    fn count_events(&self, id: &str, name: &str) -> usize {
        self.events(id)
            .iter()
            .filter(|e| e["event"] == name)
            .count()
    }
}

fn attempt_state(track: &serde_json::Value, i: usize) -> (String, String) {
    let task = &track["attempts"][i]["tasks"][0];
    let exit = &task["exit"];
    let exit = match (exit["code"].as_i64(), exit["signal"].as_i64()) {
        (Some(c), Some(s)) => format!("{c}:{s}"),
        (Some(c), None) => c.to_string(),
        _ => "-".into(),
    };
    (task["state"].as_str().unwrap_or("-").to_string(), exit)
}

#[test]
fn slurm_success_exit3_and_oom() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let lab = Lab::new();
    lab.script(
        "ok.sh",
        "echo 'epoch 1 loss 0.5'\nsleep 2\necho 'epoch 2 loss 0.3'",
    );
    let out = lab.run(&["sbatch", "ok.sh"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let t = lab.only_track();
    assert_eq!(t["status"], "COMPLETED");
    assert_eq!(attempt_state(&t, 0), ("COMPLETED".into(), "0:0".into()));
    assert_eq!(lab.count_events(t["id"].as_str().unwrap(), "submitted"), 1);

    let lab = Lab::new();
    lab.script("fail.sh", "echo starting\nexit 3");
    let out = lab.run(&["sbatch", "fail.sh"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a final failure exits 1: {}",
        stderr(&out)
    );
    let t = lab.only_track();
    assert_eq!(attempt_state(&t, 0), ("FAILED".into(), "3:0".into()));
    assert_eq!(
        t["attempts"].as_array().unwrap().len(),
        1,
        "an unknown failure is not relaunched"
    );

    let lab = Lab::new();
    lab.script("oom.sh", "#SBATCH --mem=100M\npython3 -c \"x = bytearray(400*1024*1024); import time; time.sleep(2)\"");
    // Options before the script go to sbatch, as typed.
    let out = lab.run(&["--max-attempts", "1", "sbatch", "--mem=100M", "oom.sh"]);
    assert_eq!(out.status.code(), Some(1));
    let t = lab.only_track();
    assert_eq!(
        attempt_state(&t, 0),
        ("OUT_OF_MEMORY".into(), "0:125".into())
    );
    assert_eq!(t["attempts"][0]["diagnosis"]["kind"], "oom");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("| oom |"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn slurm_timeout_at_one_minute() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let lab = Lab::new();
    lab.script("slow.sh", "#SBATCH --time=1\necho start\nsleep 300");
    let out = lab.run(&["--max-attempts", "1", "sbatch", "slow.sh"]);
    assert_eq!(out.status.code(), Some(1));
    let t = lab.only_track();
    assert_eq!(attempt_state(&t, 0).0, "TIMEOUT");
    assert_eq!(t["attempts"][0]["diagnosis"]["kind"], "timeout");
}

#[test]
fn slurm_cancel_of_a_detached_track() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let lab = Lab::new();
    lab.script("long.sh", "echo running\nsleep 120");
    let out = lab.run(&["--detach", "sbatch", "long.sh"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        wait_for(Duration::from_secs(180), || lab
            .tracks()
            .first()
            .is_some_and(|t| t["status"] == "RUNNING")),
        "{:?}",
        lab.tracks()
    );
    let out = lab.run(&["cancel", &id]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        wait_for(Duration::from_secs(180), || lab.tracks()[0]["outcome"]
            == "cancelled"),
        "{:?}",
        lab.tracks()
    );
    let t = lab.only_track();
    assert_eq!(attempt_state(&t, 0).0, "CANCELLED");
    assert_eq!(
        t["attempts"].as_array().unwrap().len(),
        1,
        "a cancelled job is not relaunched"
    );
}

#[test]
fn slurm_array_of_4_with_one_squeue_call_per_poll() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let lab = Lab::new();
    // Shims that count scheduler calls, then run the real commands.
    let shims = lab.path().join("shims");
    std::fs::create_dir(&shims).unwrap();
    for cmd in ["squeue", "sacct", "scontrol", "sbatch"] {
        let real = which(cmd);
        let shim = write(
            &shims,
            cmd,
            &format!(
                "#!/bin/sh\necho {cmd} >> {}/calls.log\nexec {} \"$@\"\n",
                lab.path().display(),
                real.display()
            ),
        );
        std::fs::set_permissions(&shim, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
    lab.script(
        "arr.sh",
        "echo task $SLURM_ARRAY_TASK_ID\nsleep $((3 + SLURM_ARRAY_TASK_ID * 2))",
    );
    let path = format!("{}:{}", shims.display(), std::env::var("PATH").unwrap());
    let out = lab
        .cmd(&["sbatch", "--array=0-3", "arr.sh"])
        .env("PATH", path)
        .env("RUST_LOG", "trackit::track=debug")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let t = lab.only_track();
    let tasks = t["attempts"][0]["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 4, "{tasks:?}");
    assert!(tasks.iter().all(|t| t["state"] == "COMPLETED"));
    let cycles = stderr(&out).matches("poll cycle").count();
    let calls = std::fs::read_to_string(lab.path().join("calls.log")).unwrap();
    let squeue = calls.lines().filter(|l| *l == "squeue").count();
    let sacct = calls.lines().filter(|l| *l == "sacct").count();
    assert!(cycles >= 3, "{}", stderr(&out));
    assert_eq!(
        squeue, cycles,
        "one squeue call per poll cycle for all 4 tasks"
    );
    // sacct only for the final accounting (and for jobs squeue forgot, which these are not).
    assert!(sacct <= 5, "sacct calls: {sacct}");
}

fn which(cmd: &str) -> PathBuf {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {cmd}"))
        .output()
        .unwrap();
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn kill9(child: &mut Child) {
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
}

#[test]
fn slurm_tracker_killed_then_resumed_submits_nothing_twice() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let lab = Lab::new();
    lab.script("work.sh", "echo begin\nsleep 8\necho end");
    let mut tracker = lab.spawn(&["sbatch", "work.sh"]);
    assert!(wait_for(Duration::from_secs(180), || lab
        .tracks()
        .first()
        .is_some_and(|t| t["status"] == "RUNNING")));
    kill9(&mut tracker);
    let id = lab.only_track()["id"].as_str().unwrap().to_string();
    let out = lab.run(&["resume", &id]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let t = lab.only_track();
    assert_eq!(t["status"], "COMPLETED");
    assert_eq!(
        lab.count_events(&id, "submitted"),
        1,
        "the job was not submitted again"
    );
    assert_eq!(t["attempts"].as_array().unwrap().len(), 1);
}

#[test]
fn slurm_crash_between_submit_and_record_adopts_the_job() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let lab = Lab::new();
    lab.script("job.sh", "echo hi\nsleep 2");
    // A track whose tracker died right after sbatch returned, before it wrote the job id.
    let out = lab.run(&["--detach", "sbatch", "--hold", "job.sh"]);
    assert_eq!(out.status.code(), Some(0));
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(wait_for(Duration::from_secs(180), || lab
        .tracks()
        .first()
        .is_some_and(|t| !t["job"].is_null())));
    let t = lab.only_track();
    let job = t["job"].as_str().unwrap().to_string();
    // Stop the background tracker, then rewrite the state as it was mid-launch.
    let pid = std::fs::read_to_string(
        lab.path()
            .join(".trackit/tracks")
            .join(&id)
            .join("state.json"),
    )
    .unwrap();
    let state: serde_json::Value = serde_json::from_str(&pid).unwrap();
    let tracker_pid = state["state"]["lease"]["pid"].as_i64().unwrap() as i32;
    unsafe {
        libc::kill(tracker_pid, libc::SIGKILL);
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut state = state;
    let since = chrono::Utc::now().timestamp() - 30;
    state["state"]["attempts"][0]["job"] = serde_json::Value::Null;
    state["state"]["attempts"][0]["launching_since"] = since.into();
    std::fs::write(
        lab.path()
            .join(".trackit/tracks")
            .join(&id)
            .join("state.json"),
        state.to_string(),
    )
    .unwrap();
    Command::new("scontrol")
        .args(["release", &job])
        .status()
        .unwrap();
    let out = lab.run_within(&["resume", &id], Duration::from_secs(300));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let t = lab.only_track();
    assert_eq!(
        t["job"].as_str(),
        Some(job.as_str()),
        "the job submitted before the crash was adopted"
    );
    assert_eq!(lab.count_events(&id, "recovered_launch"), 1);
    assert_eq!(
        lab.count_events(&id, "submitted"),
        1,
        "nothing was submitted twice"
    );
}

#[test]
fn slurm_controller_outage_is_no_failure() {
    if !require_cluster() {
        return;
    }
    if !crate::helper::require_root() {
        return;
    }
    let _c = cluster_exclusive();
    let lab = Lab::new();
    lab.script("steady.sh", "echo begin\nsleep 45\necho end");
    let mut tracker = lab.spawn(&["sbatch", "steady.sh"]);
    assert!(wait_for(Duration::from_secs(180), || lab
        .tracks()
        .first()
        .is_some_and(|t| t["status"] == "RUNNING")));
    let pid: i32 = std::fs::read_to_string("/run/slurmctld.pid")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    assert!(
        wait_for(Duration::from_secs(20), || unsafe { libc::kill(pid, 0) }
            != 0),
        "slurmctld did not stop"
    );
    // Long enough that squeue's own retries give up (MessageTimeout): a real outage.
    std::thread::sleep(Duration::from_secs(20));
    let restarted = Command::new(if Path::new("/usr/sbin/slurmctld").exists() {
        "/usr/sbin/slurmctld"
    } else {
        "slurmctld"
    })
    .status()
    .unwrap();
    assert!(restarted.success());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = tracker.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(300) {
            kill9(&mut tracker);
            let id = lab.only_track()["id"].as_str().unwrap().to_string();
            panic!("tracker did not finish; events: {:#?}", lab.events(&id));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(status.code(), Some(0), "no false failure");
    let id = lab.only_track()["id"].as_str().unwrap().to_string();
    assert!(
        lab.count_events(&id, "scheduler_unreachable") >= 1,
        "the outage was seen: {:?}",
        lab.events(&id)
    );
    assert!(lab
        .events(&id)
        .iter()
        .all(|e| e["event"] != "state" || e["state"] != "FAILED"));
}

#[test]
fn local_success_and_failure() {
    let lab = Lab::new();
    let out = lab.run(&["run", "sh", "-c", "echo hello; sleep 0.5; echo bye"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let t = lab.only_track();
    assert_eq!(attempt_state(&t, 0), ("COMPLETED".into(), "0".into()));

    let lab = Lab::new();
    let out = lab.run(&[
        "--experiment",
        "shape-bug",
        "run",
        "python3",
        "-c",
        "raise ValueError('bad shape')",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let t = lab.only_track();
    assert!(t["id"].as_str().unwrap().ends_with("-shape-bug"));
    assert_eq!(attempt_state(&t, 0), ("FAILED".into(), "1".into()));
    assert_eq!(t["attempts"][0]["diagnosis"]["kind"], "user_code");
}

#[test]
fn local_tracker_killed_then_resumed() {
    let lab = Lab::new();
    let marker = lab.path().join("done.txt");
    let script = format!("sleep 3; echo finished > {}", marker.display());
    let mut tracker = lab.spawn(&["run", "sh", "-c", &script]);
    assert!(wait_for(Duration::from_secs(10), || lab
        .tracks()
        .first()
        .is_some_and(|t| t["status"] == "RUNNING")));
    kill9(&mut tracker);
    let id = lab.only_track()["id"].as_str().unwrap().to_string();
    // The job outlives its tracker and finishes on its own.
    assert!(wait_for(Duration::from_secs(10), || marker.exists()));
    let out = lab.run(&["resume", &id]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let t = lab.only_track();
    assert_eq!(attempt_state(&t, 0), ("COMPLETED".into(), "0".into()));
    assert_eq!(lab.count_events(&id, "started"), 1, "not started twice");
}

#[test]
fn status_logs_and_json_events() {
    let lab = Lab::new();
    let out = lab.run(&["--json", "run", "sh", "-c", "echo one; echo two"]);
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert!(lines.iter().any(|e| e["event"] == "started"));
    assert_eq!(lines.last().unwrap()["event"], "report");
    let id = lab.only_track()["id"].as_str().unwrap().to_string();
    let out = lab.run(&["logs", &id]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "one\ntwo\n");
    let out = lab.run(&["status", &id, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "COMPLETED");
    let out = lab.run(&["status", "nope"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a track that matches nothing is a usage error"
    );
    assert!(stderr(&out).contains("no track matches 'nope'"));
}

#[test]
fn live_status_on_a_terminal_and_plain_lines_elsewhere() {
    let lab = Lab::new();
    // `script` gives trackit a real pseudo-terminal.
    let cmd = format!(
        "{} --max-attempts 2 run sh -c 'echo Epoch 1/3; sleep 1.5; echo Epoch 2/3; sleep 1.5; echo done'",
        trackit_bin().display()
    );
    let out = isolate(&mut Command::new("script"), lab.path())
        .args(["-qfec", &cmd, "/dev/null"])
        .current_dir(lab.path())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let screen = String::from_utf8_lossy(&out.stdout);
    // The live line (an indicatif bar): attempt k/N, experiment, job, state, elapsed, the
    // progress the log shows, the last log line.
    assert!(screen.contains("[attempt 1/2] sh pid:"), "{screen}");
    assert!(screen.contains("RUNNING"), "{screen}");
    assert!(screen.contains("(epoch 1/3) | Epoch 1/3"), "{screen}");
    assert!(screen.contains("(epoch 2/3) | Epoch 2/3"), "{screen}");
    assert!(screen.contains("\r\x1b[2K"), "redrawn in place: {screen:?}");
    assert!(!screen.contains("\x1b[3"), "no colour: {screen:?}");
    // Lines printed while the bar is live are whole: what follows the bar's erase on a line is
    // the message alone, never the message and the bar run together.
    let printed: Vec<&str> = screen
        .split('\n')
        .map(|l| {
            l.rsplit("\x1b[2K")
                .next()
                .unwrap_or(l)
                .trim_end_matches('\r')
        })
        .collect();
    let state = printed
        .iter()
        .find(|l| l.contains(": pid:") && l.ends_with("COMPLETED"))
        .unwrap_or_else(|| panic!("no whole state line: {printed:?}"));
    assert!(state.starts_with("attempt 1/2: pid:"), "{state:?}");
    assert!(!state.contains("[attempt"), "garbled: {state:?}");

    // Piped: plain timestamped lines, no cursor movement.
    let out = lab.run(&["run", "sh", "-c", "echo hi"]);
    let text = stderr(&out);
    let line = text.lines().find(|l| l.contains("started")).unwrap();
    assert!(
        line.chars().take(4).all(|c| c.is_ascii_digit()) && line.contains("Z ["),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "{text:?}");
}

#[test]
fn local_policy_halves_batch_size_on_gpu_oom() {
    let lab = Lab::new();
    write(
        lab.path(),
        "train.py",
        "import os, sys\nbs = int(os.environ.get('BATCH_SIZE', 64))\nprint(f'batch size {bs}', flush=True)\n\
         if bs > 16:\n    print('torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.', file=sys.stderr)\n    sys.exit(1)\n\
         print('epoch 1 loss 0.42')\n",
    );
    let policy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/local.lua");
    let out = isolate(&mut Command::new(trackit_bin()), lab.path())
        .arg("--policy")
        .arg(&policy)
        .args([
            "--max-attempts",
            "4",
            "--no-git",
            "run",
            "python3",
            "train.py",
        ])
        .current_dir(lab.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    let t = lab.only_track();
    let edits: Vec<String> = t["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .map(|a| a["edits"][0].as_str().unwrap().to_string())
        .collect();
    assert_eq!(edits.len(), 2, "{edits:?}");
    assert!(
        edits[0].starts_with("env BATCH_SIZE (unset) -> 32")
            && edits[1].starts_with("env BATCH_SIZE 32 -> 16"),
        "{edits:?}"
    );
    assert_eq!(t["status"], "COMPLETED");
}
