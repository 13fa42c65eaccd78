//! Faults a tracker must survive without repeating or losing a side effect, on the real SLURM
//! cluster: a lost sbatch reply, a job the scheduler forgets, a job's end noticed from its exit
//! file before the first poll, and a local job that lives on another machine. Shims stand in for
//! a SLURM command only where a real cluster cannot show the fault on demand.

use crate::helper::assert_exit;
use crate::helper::{
    cluster_shared, require_cluster, run_within, stderr, stdout, trackit_bin, wait_for, write,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

struct Lab {
    dir: tempfile::TempDir,
    shims: tempfile::TempDir,
}

impl Lab {
    fn new(settings: &str) -> Lab {
        let dir = tempfile::Builder::new()
            .prefix("trackit-faults-")
            .tempdir_in("/tmp")
            .unwrap();
        write(
            dir.path(),
            "policy.lua",
            &format!(
                "local base = require('trackit.default')\nreturn trackit.extend(base, {{ settings = {{ {settings} }} }})\n"
            ),
        );
        Lab {
            dir,
            shims: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn script(&self, name: &str, body: &str) {
        let text = format!(
            "#!/bin/bash\n#SBATCH --output={}/{name}-%j.out\n{body}\n",
            self.path().display()
        );
        write(self.path(), name, &text);
    }

    /// A shim for `cmd` in front of the real one.
    fn shim(&self, cmd: &str, body: &str) {
        let p = write(self.shims.path(), cmd, &format!("#!/bin/bash\n{body}\n"));
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }

    fn run(&self, args: &[&str], limit: Duration) -> Output {
        run_within(&mut self.command(args), limit)
    }

    fn command(&self, args: &[&str]) -> Command {
        let path = format!(
            "{}:{}",
            self.shims.path().display(),
            std::env::var("PATH").unwrap()
        );
        let mut cmd = Command::new(trackit_bin());
        crate::helper::isolate(&mut cmd, crate::helper::shared_home());
        cmd.arg("--no-git")
            .arg("--policy")
            .arg(self.path().join("policy.lua"))
            .args(args)
            .current_dir(self.path())
            .env("PATH", path)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG");
        cmd
    }

    /// The job's id and log (`job.sh-<id>.out`, as [`Lab::script`] names it), once it exists.
    fn job_log(&self) -> Option<(String, String)> {
        std::fs::read_dir(self.path())
            .unwrap()
            .flatten()
            .find_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let id = name
                    .strip_prefix("job.sh-")?
                    .strip_suffix(".out")?
                    .to_string();
                Some((id, std::fs::read_to_string(e.path()).unwrap_or_default()))
            })
    }

    fn track_dir(&self) -> PathBuf {
        let dir = self.path().join(".trackit/tracks");
        std::fs::read_dir(&dir)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path()
    }

    fn track(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.track_dir().join("state.json")).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["state"].clone()
    }

    fn events(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.track_dir().join("events.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

const FAST: &str = "poll = { first_s = 1, growth = 1.5, max_s = 3, min_s = 0.5 }";

/// sbatch submitted the job but its reply was lost ("Socket timed out"): trackit finds the job
/// by its marker and adopts it; a blind retry would have made two jobs.
#[test]
fn a_lost_sbatch_reply_is_adopted_not_resubmitted() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let lab = Lab::new(FAST);
    lab.script("job.sh", "echo ran once\nsleep 2");
    let calls = lab.shims.path().join("sbatch.calls");
    lab.shim(
        "sbatch",
        &format!(
            "echo call >> '{}'\n/usr/bin/sbatch \"$@\" > /dev/null\necho 'sbatch: error: Batch job submission failed: Socket timed out on send/recv operation' >&2\nexit 1",
            calls.display()
        ),
    );
    let out = lab.run(&["sbatch", "job.sh"], Duration::from_secs(240));
    assert_exit(&out, 0);
    let sbatch_calls = std::fs::read_to_string(&calls).unwrap().lines().count();
    assert_eq!(
        sbatch_calls, 1,
        "sbatch ran once; the lost reply was not retried blindly"
    );
    let t = lab.track();
    let job = t["attempts"][0]["job"]["id"].as_str().unwrap().to_string();
    let marker = t["attempts"][0]["marker"].as_str().unwrap().to_string();
    // Exactly one job on the cluster carries this attempt's marker.
    let listed = Command::new("sacct")
        .args([
            "-n",
            "-X",
            "-P",
            "--starttime=now-1hour",
            "-o",
            "JobIDRaw,Comment",
        ])
        .output()
        .unwrap();
    let with_marker: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter(|l| l.ends_with(&marker))
        .map(|l| l.split('|').next().unwrap().to_string())
        .collect();
    if !with_marker.is_empty() {
        assert_eq!(with_marker, [job.clone()]);
    }
    let submitted: Vec<_> = lab
        .events()
        .into_iter()
        .filter(|e| e["event"] == "submitted")
        .collect();
    assert_eq!(submitted.len(), 1);
    assert_eq!(submitted[0]["data"]["adopted"], true, "{submitted:?}");
    assert_eq!(t["outcome"], "succeeded");
}

/// A job that neither squeue nor sacct knows any more ends as VANISHED, clearly, instead of
/// being waited on for ever.
#[test]
fn a_job_the_scheduler_forgot_ends_as_vanished() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let lab = Lab::new("poll = { first_s = 0.5, growth = 1, max_s = 1, min_s = 0.5, vanished_after_s = 3 }, max_attempts = 1");
    lab.script("job.sh", "sleep 30");
    // The scheduler answers, but knows nothing of any job.
    lab.shim("squeue", "exit 0");
    lab.shim("sacct", "exit 0");
    lab.shim(
        "scontrol",
        "echo 'slurm_load_jobs error: Invalid job id specified' >&2; exit 1",
    );
    let out = lab.run(&["sbatch", "job.sh"], Duration::from_secs(120));
    let t = lab.track();
    let _ = Command::new("scancel")
        .arg(t["attempts"][0]["job"]["id"].as_str().unwrap())
        .status();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(t["attempts"][0]["tasks"][0]["state"], "VANISHED", "{t:#}");
    assert_eq!(t["outcome"], "failed");
    assert_ne!(
        t["attempts"][0]["diagnosis"]["fixable"], true,
        "never a fix for a job we lost"
    );
}

/// With a slow poll (the first look after 2 minutes), the job's exit file says it ended within
/// seconds; the scheduler is then asked once and confirms.
#[test]
fn the_exit_file_brings_the_end_forward() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let lab = Lab::new(
        "poll = { first_s = 120, growth = 1.5, max_s = 180, min_s = 1 }, max_attempts = 1",
    );
    lab.script("job.sh", "echo working\nsleep 3\nexit 4");
    let start = Instant::now();
    let out = lab.run(&["sbatch", "job.sh"], Duration::from_secs(110));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(start.elapsed() < Duration::from_secs(110));
    let t = lab.track();
    assert_eq!(t["attempts"][0]["tasks"][0]["state"], "FAILED");
    assert_eq!(t["attempts"][0]["tasks"][0]["exit"]["code"], 4);
    let exited: Vec<_> = lab
        .events()
        .into_iter()
        .filter(|e| e["event"] == "exited")
        .collect();
    assert_eq!(exited.len(), 1, "the exit file was noticed");
    assert_eq!(exited[0]["data"]["exit"][0], "4");
    // The user's script ran unchanged (a copy), under a wrapper beside the state.
    let wrapper = std::fs::read_to_string(lab.track_dir().join("attempt-1.wrapper.sh")).unwrap();
    assert!(
        wrapper.contains("records this job's exit status"),
        "{wrapper}"
    );
    let (_, log) = lab
        .job_log()
        .expect("the job's log, named after the script");
    assert!(log.contains("working"), "{log}");
}

/// A job requeued after its first run wrote an exit file (its own `scontrol requeue`, as a
/// checkpoint-and-requeue script does; preemption and node failures look the same): that file
/// is the earlier run's. The tracker waits out the requeue at its usual pace, instead of
/// polling as fast as allowed to confirm an end that is not coming, and takes only the second
/// run's own exit file as its end.
#[test]
fn a_requeued_job_is_not_taken_as_ended_by_its_earlier_exit_file() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let lab =
        Lab::new("poll = { first_s = 2, growth = 1.5, max_s = 6, min_s = 0.5 }, max_attempts = 1");
    lab.script(
        "job.sh",
        "#SBATCH --open-mode=append\necho \"run ${SLURM_RESTART_COUNT:-0}\"\nif [ \"${SLURM_RESTART_COUNT:-0}\" = 0 ]; then scontrol requeue \"$SLURM_JOB_ID\"; sleep 60; fi\nsleep 10\necho done",
    );
    let calls = lab.shims.path().join("squeue.calls");
    lab.shim(
        "squeue",
        &format!(
            "echo call >> '{}'\nexec /usr/bin/squeue \"$@\"",
            calls.display()
        ),
    );
    // SLURM holds a requeued job for 2 minutes (BeginTime) before it runs again.
    let out = lab.run(&["sbatch", "job.sh"], Duration::from_secs(400));
    assert_exit(&out, 0);
    let t = lab.track();
    assert_eq!(t["outcome"], "succeeded", "{t:#}");
    let events = lab.events();
    let requeued = events.iter().filter(|e| e["event"] == "requeued").count();
    assert_eq!(requeued, 1, "{events:#?}");
    // After the requeue, only the second run's own file may be taken as its end (whether the
    // file or the next poll sees that end first is a race).
    let after: Vec<_> = events
        .iter()
        .skip_while(|e| e["event"] != "requeued")
        .filter(|e| e["event"] == "exited")
        .collect();
    assert!(
        after.iter().all(|e| e["data"]["exit"][0] == "0"),
        "{events:#?}"
    );
    // At the usual pace (at most one call every 6 s) the 2-minute hold costs about 25 calls;
    // confirming the stale end every 0.5 s would cost over 200.
    let squeue_calls = std::fs::read_to_string(&calls).unwrap().lines().count();
    assert!(squeue_calls < 80, "{squeue_calls} squeue calls");
    let (_, log) = lab.job_log().unwrap();
    assert!(
        log.contains("run 0") && log.contains("run 1") && log.contains("done"),
        "{log}"
    );
}

/// `sbatch --signal=B:USR1@90` (here `scancel --batch --signal=USR1`, which SLURM delivers the
/// same way) signals the batch shell only, which is trackit's wrapper: the job script's
/// checkpoint trap must still run, and its exit status is the job's.
#[test]
fn a_signal_for_the_batch_shell_reaches_the_job_scripts_trap() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let lab = Lab::new(&format!("{FAST}, max_attempts = 1"));
    lab.script(
        "job.sh",
        "trap 'echo checkpointed; exit 7' USR1\necho trap set\nsleep 120 &\nwait",
    );
    let child = lab
        .command(&["sbatch", "job.sh"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        wait_for(Duration::from_secs(120), || lab
            .job_log()
            .is_some_and(|(_, t)| t.contains("trap set"))),
        "the job never started"
    );
    let (job, _) = lab.job_log().unwrap();
    let sent = Command::new("scancel")
        .args(["--batch", "--signal=USR1", &job])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = crate::helper::output_within(child, Duration::from_secs(120), "trackit");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        lab.job_log().unwrap().1.contains("checkpointed"),
        "{:?}",
        lab.job_log()
    );
    let t = lab.track();
    assert_eq!(t["attempts"][0]["tasks"][0]["exit"]["code"], 7, "{t:#}");
}

/// A local job started on another machine: resuming here says where it runs instead of
/// declaring it failed.
#[test]
fn a_local_job_on_another_host_is_not_called_failed() {
    let lab = Lab::new(FAST);
    let out = lab.run(&["run", "sh", "-c", "echo ok"], Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0));
    // Rewrite the state as if the job were still running on another machine.
    let path = lab.track_dir().join("state.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let s = &mut v["state"];
    s["outcome"] = serde_json::Value::Null;
    s["attempts"][0]["finished"] = false.into();
    s["attempts"][0]["tasks"][0]["state"] = "RUNNING".into();
    s["attempts"][0]["job"]["host"] = "elsewhere.example.org".into();
    let id = s["id"].as_str().unwrap().to_string();
    std::fs::write(&path, v.to_string()).unwrap();
    let out = lab.run(&["resume", &id], Duration::from_secs(30));
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("elsewhere.example.org"),
        "{}",
        stderr(&out)
    );
    let t = lab.track();
    assert!(t["outcome"].is_null(), "not declared failed: {t:#}");
    assert!(wait_for(Duration::from_secs(1), || true));
}

/// An array whose task 2 alone runs out of memory: the relaunch takes only task 2, with more
/// memory, and the tasks that succeeded are not run again.
#[test]
fn an_array_relaunches_only_its_failed_tasks() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let lab = Lab::new(FAST);
    lab.script(
        "sweep.sh",
        "#SBATCH --array=0-3\n#SBATCH --mem=100M\necho task $SLURM_ARRAY_TASK_ID >> runs.txt\nif [ \"$SLURM_ARRAY_TASK_ID\" = 2 ]; then python3 -c \"x = bytearray(150*1024*1024)\"; fi",
    );
    let out = lab.run(&["sbatch", "sweep.sh"], Duration::from_secs(400));
    assert_exit(&out, 0);
    let t = lab.track();
    let a2 = &t["attempts"][1];
    let edits: Vec<&str> = a2["edits"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.as_str())
        .collect();
    assert!(
        edits.iter().any(|e| e.starts_with("--mem 100M -> 200M")),
        "{edits:?}"
    );
    assert!(
        edits.iter().any(|e| e.starts_with("--array 0-3 -> 2")),
        "{edits:?}"
    );
    let tasks: Vec<&str> = a2["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert!(tasks[0].ends_with("_2"), "{tasks:?}");
    // Tasks 0, 1 and 3 ran once; task 2 twice.
    let runs = std::fs::read_to_string(lab.path().join("runs.txt")).unwrap();
    let mut lines: Vec<&str> = runs.lines().collect();
    lines.sort();
    assert_eq!(lines, ["task 0", "task 1", "task 2", "task 2", "task 3"]);
    assert_eq!(t["outcome"], "succeeded");
}

/// sbatch refuses the job: the attempt fails as `submit_error`, with sbatch's own words as the
/// evidence, and nothing is relaunched.
#[test]
fn a_refused_submission_quotes_sbatch() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let lab = Lab::new(FAST);
    lab.script("job.sh", "echo never");
    let out = lab.run(
        &["sbatch", "--partition=no-such-partition", "job.sh"],
        Duration::from_secs(120),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let t = lab.track();
    let d = &t["attempts"][0]["diagnosis"];
    assert_eq!(d["kind"], "submit_error", "{d:#}");
    let evidence: Vec<&str> = d["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["text"].as_str())
        .collect();
    assert!(
        evidence.iter().any(|e| e.contains(
            "sbatch: error: Batch job submission failed: Invalid partition name specified"
        )),
        "{evidence:?}"
    );
    assert_eq!(t["attempts"].as_array().unwrap().len(), 1);
    assert!(
        stdout(&out).contains("Invalid partition name specified"),
        "{}",
        stdout(&out)
    );
}

/// A local job run from a subfolder writes to a relative folder that is missing: the fix
/// creates it where the job runs (the subfolder), and the relaunch succeeds.
#[test]
fn a_relative_folder_is_made_where_the_job_runs() {
    let lab = Lab::new(FAST);
    let sub = lab.path().join("exp");
    std::fs::create_dir_all(&sub).unwrap();
    let init = Command::new("git")
        .args(["init", "-q"])
        .current_dir(lab.path())
        .status()
        .unwrap();
    assert!(init.success());
    let mut cmd = Command::new(trackit_bin());
    crate::helper::isolate(&mut cmd, crate::helper::shared_home());
    let out = cmd
        .args(["--no-git", "--policy"])
        .arg(lab.path().join("policy.lua"))
        .args([
            "run",
            "python3",
            "-c",
            "open('outputs/r.json', 'w').write('{\"loss\": 1}')",
        ])
        .current_dir(&sub)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(
        lab.path().join(".trackit/tracks").is_dir(),
        "the track lives at the repository root"
    );
    assert!(
        sub.join("outputs/r.json").is_file(),
        "made in the job's folder"
    );
    assert!(
        !lab.path().join("outputs").exists(),
        "not at the repository root"
    );
}

/// A track whose lease names a tracker on another machine: resume refuses (that tracker may be
/// alive) and says how to take over; `resume --force` takes it over and finishes the track.
#[test]
fn resume_force_takes_over_a_lease_from_a_machine_that_is_gone() {
    let lab = Lab::new(FAST);
    let out = lab.run(&["run", "sh", "-c", "echo ok"], Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0));
    let path = lab.track_dir().join("state.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let s = &mut v["state"];
    s["outcome"] = serde_json::Value::Null;
    s["attempts"][0]["finished"] = false.into();
    s["lease"] = serde_json::json!({"pid": 4242, "start_ticks": 1, "host": "gone.example.org"});
    let id = s["id"].as_str().unwrap().to_string();
    std::fs::write(&path, v.to_string()).unwrap();
    let out = lab.run(&["resume", &id], Duration::from_secs(30));
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains("gone.example.org") && err.contains("--force"),
        "{err}"
    );
    let out = lab.run(&["resume", "--force", &id], Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(lab.track()["outcome"], "succeeded");
}

/// A track whose state file is damaged is listed as such, never hidden.
#[test]
fn a_damaged_track_is_shown_as_unreadable() {
    let lab = Lab::new(FAST);
    let out = lab.run(&["run", "sh", "-c", "echo ok"], Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0));
    let id = lab.track()["id"].as_str().unwrap().to_string();
    std::fs::write(
        lab.track_dir().join("state.json"),
        "{\"version\": 1, \"state\": {\"id\": 3",
    )
    .unwrap();
    let out = lab.run(&["list"], Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let line = stdout(&out)
        .lines()
        .find(|l| l.contains(&id))
        .map(str::to_string);
    assert!(
        line.as_deref().is_some_and(|l| l.contains("UNREADABLE")),
        "{}",
        stdout(&out)
    );
    let out = lab.run(&["status"], Duration::from_secs(30));
    assert!(
        stdout(&out).contains(&format!("{id}: UNREADABLE")),
        "{}",
        stdout(&out)
    );
}
