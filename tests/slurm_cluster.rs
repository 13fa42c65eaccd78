//! The SLURM backend against a real single-node cluster (`scripts/slurm-dev.sh start`), plus a
//! few faults a real cluster cannot show on demand, played by `tests/fixtures/slurm/bin/`.
//!
//! The cluster tests submit real jobs and wait for SLURM's own verdict. They run concurrently
//! (one thread per test); `controller_outage_is_transient_and_job_completes` stops slurmctld for
//! a while, so every helper here treats transient errors as "ask again later", as trackit does.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use trackit::job::{JobInfo, JobState};
use trackit::slurm::{
    retry_transient, Backoff, JobRef, Poll, Slurm, SlurmCommands, SlurmError, Submitted,
};

const POLL_EVERY: Duration = Duration::from_millis(300);

// ------------------------------------------------------------------ helpers (SLURM-only)

/// A backend for the real cluster, or None (with the reason printed) when there is none here.
/// Under CI (`CI=true`) a missing cluster is a failure, not a skip.
async fn require_cluster() -> Option<Slurm> {
    let why_not = cluster_unavailable_reason().await;
    match why_not {
        None => Some(Slurm::default().with_timeout(Duration::from_secs(40))),
        Some(reason) => {
            crate::helper::missing(&format!("no SLURM cluster: {reason}"));
            None
        }
    }
}

async fn cluster_unavailable_reason() -> Option<String> {
    let ping = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::process::Command::new("scontrol")
            .arg("ping")
            .kill_on_drop(true)
            .output(),
    )
    .await;
    match ping {
        Err(_) => Some("`scontrol ping` did not answer within 10 s".into()),
        Ok(Err(e)) => Some(format!("cannot run `scontrol`: {e}")),
        Ok(Ok(out)) => {
            let text = String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr);
            if out.status.success() && text.contains("is UP") {
                None
            } else {
                Some(format!("`scontrol ping` says: {}", text.trim()))
            }
        }
    }
}

/// A job directory under /tmp (jobs run as root and write their output there).
fn job_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("trackit-slurm-")
        .tempdir_in("/tmp")
        .unwrap()
}

fn write_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/bash\n{body}\n")).unwrap();
    path
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

async fn submit(slurm: &Slurm, sbatch_args: &[&str], dir: &Path) -> Submitted {
    let a = args(sbatch_args);
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(5));
    retry_transient(&mut backoff, Duration::from_secs(120), || {
        slurm.submit(&a, dir, &[])
    })
    .await
    .unwrap_or_else(|e| panic!("sbatch {sbatch_args:?}: {e}"))
}

/// Polls until `done` says so; transient errors are counted and polled through.
async fn wait_for(
    slurm: &Slurm,
    jobs: &[JobRef],
    limit: Duration,
    what: &str,
    done: impl Fn(&Poll) -> bool,
) -> Poll {
    let start = Instant::now();
    let mut last = None;
    loop {
        match slurm.poll(jobs).await {
            Ok(p) if done(&p) => return p,
            Ok(p) => last = Some(p),
            Err(e) if e.is_transient() => eprintln!("poll: transient ({e}); polling on"),
            Err(e) => panic!("poll failed: {e}"),
        }
        assert!(
            start.elapsed() < limit,
            "{what}: not reached after {limit:?}; last poll: {last:#?}"
        );
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// Waits until the job (all `tasks` of it) is in a terminal state, and returns its entries.
async fn wait_terminal(slurm: &Slurm, job: &JobRef, tasks: usize, limit: Duration) -> Vec<JobInfo> {
    let p = wait_for(slurm, std::slice::from_ref(job), limit, "terminal", |p| {
        let mine: Vec<_> = p.for_job(&job.id).collect();
        mine.len() == tasks
            && mine
                .iter()
                .all(|j| j.state.is_some_and(|s| s.is_terminal()))
    })
    .await;
    p.for_job(&job.id).cloned().collect()
}

fn exit_text(info: &JobInfo) -> String {
    info.exit.map(|e| e.to_string()).unwrap_or_default()
}

fn timed(name: &str, start: Instant) {
    eprintln!("[timing] {name}: {:.1} s", start.elapsed().as_secs_f64());
}

// ------------------------------------------------------------------ real cluster

#[tokio::test(flavor = "multi_thread")]
async fn success_is_completed_0_0() {
    let Some(slurm) = require_cluster().await else {
        return;
    };
    let _cluster = crate::helper::cluster_shared();
    let t = Instant::now();
    let dir = job_dir();
    write_script(
        dir.path(),
        "ok.sh",
        "echo hello from $SLURM_JOB_ID\nsleep 1\necho done",
    );
    let sub = submit(
        &slurm,
        &["--job-name=ok", "--output=%x-%j.out", "ok.sh"],
        dir.path(),
    )
    .await;
    let details = slurm.job_details(&sub.job_id).await.unwrap();
    assert_eq!(details.len(), 1);
    let expected_out = dir.path().join(format!("ok-{}.out", sub.job_id));
    assert_eq!(details[0].stdout_path.as_deref(), expected_out.to_str());
    assert_eq!(details[0].work_dir.as_deref(), dir.path().to_str());
    assert_eq!(details[0].partition.as_deref(), Some("debug"));

    let job = sub.job_ref().named("ok");
    let info = wait_terminal(&slurm, &job, 1, Duration::from_secs(60)).await;
    assert_eq!(info[0].state, Some(JobState::Completed), "{info:#?}");
    assert_eq!(exit_text(&info[0]), "0:0");
    assert_eq!(info[0].stdout_path.as_deref(), expected_out.to_str());
    let text = std::fs::read_to_string(&expected_out).unwrap();
    assert!(text.contains("done"), "{text}");
    timed("success", t);
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_3_is_failed_3_0() {
    let Some(slurm) = require_cluster().await else {
        return;
    };
    let _cluster = crate::helper::cluster_shared();
    let t = Instant::now();
    let dir = job_dir();
    write_script(
        dir.path(),
        "fail.sh",
        "echo about to fail\necho some error >&2\nexit 3",
    );
    let sub = submit(&slurm, &["--output=fail-%j.out", "fail.sh"], dir.path()).await;
    let info = wait_terminal(&slurm, &sub.job_ref(), 1, Duration::from_secs(60)).await;
    assert_eq!(info[0].state, Some(JobState::Failed), "{info:#?}");
    assert_eq!(exit_text(&info[0]), "3:0");
    assert_eq!(info[0].reason.as_deref(), Some("NonZeroExitCode"));

    // sacct agrees (with its small lag).
    let acct = wait_accounting(&slurm, &sub.job_ref(), |a| {
        a.is_final() && a.step("batch").is_some()
    })
    .await;
    assert_eq!(acct.job.state, Some(JobState::Failed));
    assert_eq!(acct.job.exit.unwrap().to_string(), "3:0");
    // What was allocated, from sacct's AllocTRES and squeue's tres-alloc alike.
    let tres = acct.job.alloc_tres.clone().expect("AllocTRES");
    assert!(tres.contains("cpu=") && tres.contains("node=1"), "{tres}");
    assert!(
        info[0]
            .alloc_tres
            .as_deref()
            .is_some_and(|t| t.contains("cpu=")),
        "{info:#?}"
    );
    timed("exit 3", t);
}

#[tokio::test(flavor = "multi_thread")]
async fn time_limit_is_timeout() {
    let Some(slurm) = require_cluster().await else {
        return;
    };
    let _cluster = crate::helper::cluster_shared();
    let t = Instant::now();
    let dir = job_dir();
    write_script(dir.path(), "to.sh", "echo start $(date +%T)\nsleep 300");
    let sub = submit(
        &slurm,
        &["--time=1", "--output=to-%j.out", "to.sh"],
        dir.path(),
    )
    .await;
    let info = wait_terminal(&slurm, &sub.job_ref(), 1, Duration::from_secs(240)).await;
    assert_eq!(info[0].state, Some(JobState::Timeout), "{info:#?}");
    assert_eq!(info[0].timelimit_s, Some(60));
    assert_eq!(info[0].reason.as_deref(), Some("TimeLimit"));
    let out = std::fs::read_to_string(dir.path().join(format!("to-{}.out", sub.job_id))).unwrap();
    assert!(out.contains("DUE TO TIME LIMIT"), "{out}");
    timed("timeout (--time=1)", t);
}

async fn wait_accounting(
    slurm: &Slurm,
    job: &JobRef,
    ready: impl Fn(&trackit::slurm::JobAccounting) -> bool,
) -> trackit::slurm::JobAccounting {
    let start = Instant::now();
    loop {
        match slurm.accounting(std::slice::from_ref(job)).await {
            Ok(list) => {
                if let Some(a) = list.into_iter().find(|a| a.job.job_id == job.id) {
                    if ready(&a) {
                        return a;
                    }
                }
            }
            Err(e) if e.is_transient() => {}
            Err(e) => panic!("accounting: {e}"),
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no accounting for {}",
            job.id
        );
        tokio::time::sleep(POLL_EVERY).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_limit_is_out_of_memory_with_0_125_on_the_step() {
    let Some(slurm) = require_cluster().await else {
        return;
    };
    let _cluster = crate::helper::cluster_shared();
    let t = Instant::now();
    let dir = job_dir();
    // Holds ~300 MB for a few seconds so the limit is hit even without cgroup enforcement.
    write_script(
        dir.path(),
        "oom.sh",
        "echo allocating 300 MB\n/usr/bin/python3 -c '\nimport time\nb = bytearray(300*1024*1024)\nfor i in range(0, len(b), 4096): b[i] = 1\nprint(\"allocated\", flush=True)\ntime.sleep(5)\n'",
    );
    let sub = submit(
        &slurm,
        &["--mem=100M", "--output=oom-%j.out", "oom.sh"],
        dir.path(),
    )
    .await;
    let info = wait_terminal(&slurm, &sub.job_ref(), 1, Duration::from_secs(60)).await;
    assert_eq!(info[0].state, Some(JobState::OutOfMemory), "{info:#?}");
    assert_eq!(exit_text(&info[0]), "0:125");
    assert_eq!(info[0].req_mem_bytes, Some(100 << 20));

    // Right after the end, slurmdbd can still hold a half-written job line (seen: ReqMem `16?`
    // while the job line said PENDING), so wait for the finished line.
    let acct = wait_accounting(&slurm, &sub.job_ref(), |a| {
        a.is_final() && a.step("batch").is_some() && a.job.req_mem_bytes.is_some()
    })
    .await;
    let step = acct.oom_step().expect("an OUT_OF_MEMORY step");
    assert_eq!(step.step.as_deref(), Some("batch"));
    assert_eq!(step.exit.unwrap().to_string(), "0:125");
    assert_eq!(acct.job.state, Some(JobState::OutOfMemory));
    assert_eq!(acct.job.req_mem_bytes, Some(100 << 20));
    timed("oom (--mem=100M)", t);
}

#[tokio::test(flavor = "multi_thread")]
async fn scancel_is_cancelled() {
    let Some(slurm) = require_cluster().await else {
        return;
    };
    let _cluster = crate::helper::cluster_shared();
    let t = Instant::now();
    let dir = job_dir();
    write_script(dir.path(), "long.sh", "echo started\nsleep 300");
    let sub = submit(&slurm, &["--output=long-%j.out", "long.sh"], dir.path()).await;
    let job = sub.job_ref();
    wait_for(
        &slurm,
        std::slice::from_ref(&job),
        Duration::from_secs(60),
        "running",
        |p| {
            p.for_job(&job.id)
                .any(|j| j.state == Some(JobState::Running))
        },
    )
    .await;
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(5));
    retry_transient(&mut backoff, Duration::from_secs(120), || {
        slurm.cancel(std::slice::from_ref(&sub.job_id))
    })
    .await
    .unwrap();
    let info = wait_terminal(&slurm, &job, 1, Duration::from_secs(60)).await;
    assert_eq!(info[0].state, Some(JobState::Cancelled), "{info:#?}");
    let acct = wait_accounting(&slurm, &job, |a| a.is_final()).await;
    assert!(
        acct.job.state_text.starts_with("CANCELLED by"),
        "{}",
        acct.job.state_text
    );
    timed("cancelled", t);
}

#[tokio::test(flavor = "multi_thread")]
async fn array_of_4_is_watched_with_one_squeue_call_per_poll() {
    let Some(slurm) = require_cluster().await else {
        return;
    };
    let _cluster = crate::helper::cluster_shared();
    let t = Instant::now();
    let dir = job_dir();
    write_script(
        dir.path(),
        "arr.sh",
        "echo task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_JOB_ID\nsleep 2",
    );
    let sub = submit(
        &slurm,
        &[
            "--array=0-3",
            "--job-name=arr",
            "--output=arr-%A_%a.out",
            "arr.sh",
        ],
        dir.path(),
    )
    .await;
    let job = sub.job_ref().named("arr");
    let mut polls = 0;
    let tasks = loop {
        let before = slurm.calls();
        let result = slurm.poll(std::slice::from_ref(&job)).await;
        let used = slurm.calls().since(&before);
        polls += 1;
        assert_eq!(used.squeue, 1, "poll {polls}: {used:?}");
        assert_eq!(used.total(), 1, "poll {polls}: only squeue, got {used:?}");
        match result {
            Ok(p) => {
                let tasks: Vec<JobInfo> = p.for_job(&job.id).cloned().collect();
                assert!(p.missing.is_empty());
                if tasks.len() == 4
                    && tasks
                        .iter()
                        .all(|j| j.state.is_some_and(|s| s.is_terminal()))
                {
                    break tasks;
                }
            }
            Err(e) if e.is_transient() => {}
            Err(e) => panic!("{e}"),
        }
        assert!(t.elapsed() < Duration::from_secs(120), "array not done");
        tokio::time::sleep(POLL_EVERY).await;
    };
    let mut ids: Vec<_> = tasks.iter().map(|j| j.id.clone()).collect();
    ids.sort();
    let want: Vec<_> = (0..4).map(|i| format!("{}_{i}", sub.job_id)).collect();
    assert_eq!(ids, want);
    for task in &tasks {
        assert_eq!(task.state, Some(JobState::Completed), "{task:#?}");
        assert_eq!(exit_text(task), "0:0");
        let out = dir.path().join(format!("arr-{}.out", task.id));
        assert_eq!(task.stdout_path.as_deref(), out.to_str());
        assert!(out.exists(), "{out:?}");
    }
    eprintln!(
        "array: {polls} polls, {} squeue calls in all",
        slurm.calls().squeue
    );
    timed("array of 4", t);
}

#[tokio::test(flavor = "multi_thread")]
async fn dependency_and_refused_submission() {
    let Some(slurm) = require_cluster().await else {
        return;
    };
    let _cluster = crate::helper::cluster_shared();
    let t = Instant::now();
    let dir = job_dir();
    write_script(dir.path(), "first.sh", "sleep 3");
    write_script(dir.path(), "second.sh", "echo second ran");
    let first = submit(&slurm, &["--output=/dev/null", "first.sh"], dir.path()).await;
    let dep = format!("--dependency=afterok:{}", first.job_id);
    let second = submit(
        &slurm,
        &[&dep, "--output=second-%j.out", "second.sh"],
        dir.path(),
    )
    .await;
    let job = second.job_ref();
    let p = slurm.poll(&[first.job_ref(), job.clone()]).await.unwrap();
    let waiting = p.for_job(&job.id).next().unwrap();
    assert_eq!(waiting.state, Some(JobState::Pending), "{waiting:#?}");
    assert_eq!(waiting.reason.as_deref(), Some("Dependency"));
    let info = wait_terminal(&slurm, &job, 1, Duration::from_secs(60)).await;
    assert_eq!(info[0].state, Some(JobState::Completed));

    match slurm
        .submit(&args(&["--partition=nope", "--wrap=true"]), dir.path(), &[])
        .await
    {
        Err(SlurmError::Refused(msg)) => assert!(msg.contains("invalid partition"), "{msg}"),
        other => panic!("expected Refused, got {other:?}"),
    }
    match slurm
        .submit(&args(&["no-such-script.sh"]), dir.path(), &[])
        .await
    {
        Err(SlurmError::Refused(msg)) => assert!(msg.contains("Unable to open file"), "{msg}"),
        other => panic!("expected Refused, got {other:?}"),
    }
    timed("dependency + refused", t);
}

#[tokio::test(flavor = "multi_thread")]
async fn partition_limits() {
    let Some(slurm) = require_cluster().await else {
        return;
    };
    let _cluster = crate::helper::cluster_shared();
    let p = slurm
        .partition("debug")
        .await
        .unwrap()
        .expect("partition debug");
    assert_eq!(p.max_time_s, None); // MaxTime=UNLIMITED
    assert!(p.node_real_memory_bytes.unwrap() >= 512 << 20, "{p:#?}");
    assert!(p.total_cpus.unwrap() >= 1);
    assert_eq!(slurm.partition("nope").await.unwrap(), None);
}

/// Stops slurmctld while a job runs: polls during the outage are Transient (never a failed
/// state), and after a restart the job is seen to finish COMPLETED.
#[tokio::test(flavor = "multi_thread")]
async fn controller_outage_is_transient_and_job_completes() {
    let Some(slurm) = require_cluster().await else {
        return;
    };
    let _cluster = crate::helper::cluster_exclusive();
    if !crate::helper::require_root() {
        return;
    }
    let t = Instant::now();
    let dir = job_dir();
    write_script(dir.path(), "steady.sh", "echo start\nsleep 30\necho end");
    let sub = submit(&slurm, &["--output=steady-%j.out", "steady.sh"], dir.path()).await;
    let job = sub.job_ref();
    wait_for(
        &slurm,
        std::slice::from_ref(&job),
        Duration::from_secs(60),
        "running",
        |p| {
            p.for_job(&job.id)
                .any(|j| j.state == Some(JobState::Running))
        },
    )
    .await;

    let pid: i32 = std::fs::read_to_string("/run/slurmctld.pid")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SAFETY: plain kill(2) on the pid slurmctld wrote.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let stop = Instant::now();
    while unsafe { libc::kill(pid, 0) } == 0 {
        assert!(
            stop.elapsed() < Duration::from_secs(30),
            "slurmctld did not stop"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "slurmctld stopped after {:.1} s",
        stop.elapsed().as_secs_f64()
    );

    // Short timeout: squeue itself would retry for 9-18 s before giving up.
    let impatient = slurm.clone().with_timeout(Duration::from_secs(5));
    let outage = async {
        for i in 0..2 {
            let r = impatient.poll(std::slice::from_ref(&job)).await;
            match r {
                Err(e) if e.is_transient() => eprintln!("outage poll {i}: {e}"),
                other => panic!("poll during the outage must be Transient, got {other:?}"),
            }
        }
    };
    let restart = async {
        outage.await;
        let status = tokio::process::Command::new(if Path::new("/usr/sbin/slurmctld").exists() {
            "/usr/sbin/slurmctld"
        } else {
            "slurmctld"
        })
        .status()
        .await
        .expect("run slurmctld");
        assert!(status.success());
    };
    restart.await;
    eprintln!(
        "slurmctld restarted after {:.1} s down",
        stop.elapsed().as_secs_f64()
    );

    let info = wait_terminal(&slurm, &job, 1, Duration::from_secs(120)).await;
    assert_eq!(info[0].state, Some(JobState::Completed), "{info:#?}");
    assert_eq!(exit_text(&info[0]), "0:0");
    timed("controller outage", t);
}

// ------------------------------------------------------------------ fake commands

mod fake {
    use super::*;

    fn fake_bin() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/slurm/bin")
    }

    struct Fake {
        dir: tempfile::TempDir,
        slurm: Slurm,
    }

    impl Fake {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let slurm = Slurm::new(SlurmCommands::in_dir(&fake_bin()))
                .with_env("FAKE_SLURM_DIR", dir.path().to_str().unwrap())
                .with_timeout(Duration::from_secs(10));
            Fake { dir, slurm }
        }

        fn set(&self, file: &str, content: &str) {
            std::fs::write(self.dir.path().join(file), content).unwrap();
        }

        fn calls(&self, cmd: &str) -> Vec<String> {
            std::fs::read_to_string(self.dir.path().join(format!("{cmd}.calls")))
                .unwrap_or_default()
                .lines()
                .map(str::to_string)
                .collect()
        }

        fn controller_forgot_everything(&self) {
            self.set(
                "squeue.err",
                "slurm_load_jobs error: Invalid job id specified\n",
            );
            self.set("squeue.rc", "1");
        }
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    fn local(epoch: i64) -> String {
        trackit::slurm::format_slurm_time(epoch)
    }

    /// After MinJobAge squeue forgets; sacct knows an *older* job 4242 (the id was reused after
    /// a state reset) and the real 4243. The old row must not be taken for ours.
    #[tokio::test]
    async fn reused_job_id_in_sacct_is_ignored() {
        let f = Fake::new();
        f.controller_forgot_everything();
        let t = now();
        f.set(
            "sacct.out",
            &format!(
                "4242|4242|FAILED|1:0|00:00:05|UNLIMITED|256M|00:00:00|1|vm|None|2020-01-01T10:00:00|2020-01-01T10:00:01|2020-01-01T10:00:06||/old|billing=1,cpu=1,mem=256M,node=1|old\n\
                 4243|4243|COMPLETED|0:0|00:00:05|01:00:00|8G|00:00:04|4|vm|None|{}|{}|{}||/new|billing=4,cpu=4,mem=8G,node=1|train\n",
                local(t + 1),
                local(t + 2),
                local(t + 7)
            ),
        );
        let jobs = [
            JobRef::new("4242").submitted_after(t),
            JobRef::new("4243").submitted_after(t).named("train"),
        ];
        let p = f.slurm.poll(&jobs).await.unwrap();
        assert_eq!(p.missing, ["4242"]);
        assert_eq!(p.jobs.len(), 1);
        assert_eq!(p.jobs[0].id, "4243");
        assert_eq!(p.jobs[0].state, Some(JobState::Completed));
        assert_eq!(p.jobs[0].req_mem_bytes, Some(8 << 30));
        assert_eq!(p.jobs[0].timelimit_s, Some(3600));
        let calls = f.slurm.calls();
        assert_eq!((calls.squeue, calls.sacct, calls.scontrol), (1, 1, 0));
        let sacct = &f.calls("sacct")[0];
        assert!(sacct.contains("--jobs 4242,4243"), "{sacct}");
        assert!(sacct.contains("--allocations"), "{sacct}");
        assert!(
            sacct.contains(&format!("--starttime={}", local(t - 300))),
            "{sacct}"
        );
    }

    /// squeue still shows an older job under our id but with another name (ids wrapped round):
    /// it is not ours; sacct has nothing newer, so the job is reported missing.
    #[tokio::test]
    async fn reused_job_id_in_squeue_is_ignored() {
        let f = Fake::new();
        f.set(
            "squeue.out",
            "77|77|RUNNING|None|0|5:00|UNLIMITED|256M|cpu=1,mem=256M,node=1,billing=1|1|vm|2026-11-28T19:08:48|2026-11-28T19:08:48|NONE|bob|/x/o|/x/e|someone-else|\n",
        );
        let p = f
            .slurm
            .poll(&[JobRef::new("77").named("train")])
            .await
            .unwrap();
        assert!(p.jobs.is_empty(), "{p:?}");
        assert_eq!(p.missing, ["77"]);
    }

    #[tokio::test]
    async fn odd_squeue_lines_are_skipped_not_guessed() {
        let f = Fake::new();
        f.set(
            "squeue.out",
            "this is not squeue output\n5|5|RUNNING|None|0|0:10|1:00|256M||1|vm|2026-11-28T19:08:48|2026-11-28T19:08:49|NONE|root|/x/o-%j|/x/e-%j|ok|\n6|6|FAILED\n",
        );
        let p = f
            .slurm
            .poll(&[JobRef::new("5"), JobRef::new("6")])
            .await
            .unwrap();
        assert_eq!(p.jobs.len(), 1);
        assert_eq!(p.jobs[0].state, Some(JobState::Running));
        assert_eq!(p.jobs[0].stdout_path.as_deref(), Some("/x/o-5"));
        assert_eq!(p.missing, ["6"]);
    }

    #[tokio::test]
    async fn accounting_disabled_falls_back_to_scontrol() {
        let f = Fake::new();
        f.controller_forgot_everything();
        f.set("sacct.err", "Slurm accounting storage is disabled\n");
        f.set("sacct.rc", "1");
        f.set(
            "scontrol.out",
            include_str!("fixtures/slurm/captured/scontrol-job-cancelled.txt"),
        );
        let p = f.slurm.poll(&[JobRef::new("8")]).await.unwrap();
        assert_eq!(p.jobs.len(), 1);
        assert_eq!(p.jobs[0].state, Some(JobState::Cancelled));
        assert_eq!(exit_text(&p.jobs[0]), "0:15");
        assert_eq!(
            p.jobs[0].stdout_path.as_deref(),
            Some("/tmp/exp/long-long-root-vm-%-8.out")
        );
        assert_eq!(f.calls("scontrol"), ["--oneliner show job 8"]);
        assert!(matches!(
            f.slurm.accounting(&[JobRef::new("8")]).await,
            Err(SlurmError::AccountingDisabled)
        ));
    }

    #[tokio::test]
    async fn controller_and_database_failures_are_transient() {
        let f = Fake::new();
        f.set(
            "squeue.err",
            "squeue: error: Socket timed out on send/recv operation\n",
        );
        f.set("squeue.rc", "1");
        let e = f.slurm.poll(&[JobRef::new("1")]).await.unwrap_err();
        assert!(e.is_transient(), "{e}");
        assert_eq!(f.slurm.calls().sacct, 0, "no sacct after a failed squeue");

        // slurmdbd down (verbatim from SLURM 22.05).
        f.controller_forgot_everything();
        f.set(
            "sacct.err",
            "sacct: error: slurm_persist_conn_open_without_init: failed to open persistent connection to host:localhost:6819: Connection refused\n\
             sacct: error: Sending PersistInit msg: Connection refused\n\
             sacct: error: Problem talking to the database: Connection refused\n",
        );
        f.set("sacct.rc", "1");
        let e = f.slurm.poll(&[JobRef::new("1")]).await.unwrap_err();
        assert!(e.is_transient(), "{e}");

        f.set(
            "sbatch.err",
            "sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)\n",
        );
        f.set("sbatch.rc", "1");
        let e = f
            .slurm
            .submit(&args(&["job.sh"]), f.dir.path(), &[])
            .await
            .unwrap_err();
        assert!(
            e.is_transient(),
            "a controller outage is not a refused job: {e}"
        );
    }

    #[tokio::test]
    async fn a_hung_command_times_out_as_transient() {
        let f = Fake::new();
        f.set("squeue.sleep", "20");
        let slurm = f.slurm.clone().with_timeout(Duration::from_millis(500));
        let t = Instant::now();
        let e = slurm.poll(&[JobRef::new("1")]).await.unwrap_err();
        assert!(e.is_transient(), "{e}");
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    }

    #[tokio::test]
    async fn submit_passes_args_through_and_reads_cluster() {
        let f = Fake::new();
        f.set("sbatch.out", "4812331;sherlock\n");
        f.set("sbatch.err", "sbatch: warning: some site banner\n");
        let s = f
            .slurm
            .submit(
                &args(&[
                    "--array=0-3",
                    "--mem=8G",
                    "--dependency=afterok:12",
                    "job.sh",
                    "lr=3e-4",
                ]),
                f.dir.path(),
                &[("WANDB_MODE".into(), "offline".into())],
            )
            .await
            .unwrap();
        assert_eq!(s.job_id, "4812331");
        assert_eq!(s.cluster.as_deref(), Some("sherlock"));
        assert_eq!(
            f.calls("sbatch"),
            ["--parsable --array=0-3 --mem=8G --dependency=afterok:12 job.sh lr=3e-4"]
        );
    }
}

/// sbatch exports the submitter's environment (`--export=ALL`): a GitHub token in trackit's
/// environment must not reach the job.
#[tokio::test(flavor = "multi_thread")]
async fn the_job_never_sees_a_github_token() {
    let Some(slurm) = require_cluster().await else {
        return;
    };
    let _cluster = crate::helper::cluster_shared();
    let dir = job_dir();
    write_script(dir.path(), "env.sh", "env > env.txt");
    let slurm = slurm
        .with_env("GH_TOKEN", "gh-token-for-the-test")
        .with_env("GITHUB_TOKEN", "github-token-for-the-test")
        .with_env("GH_ENTERPRISE_TOKEN", "enterprise-token-for-the-test")
        .with_env("TRACKIT_TEST_MARKER", "exported");
    let sub = submit(
        &slurm,
        &["--export=ALL", "--output=/dev/null", "env.sh"],
        dir.path(),
    )
    .await;
    let job = sub.job_ref();
    let info = wait_terminal(&slurm, &job, 1, Duration::from_secs(60)).await;
    assert_eq!(info[0].state, Some(JobState::Completed), "{info:#?}");
    let env = std::fs::read_to_string(dir.path().join("env.txt")).unwrap();
    assert!(
        env.contains("TRACKIT_TEST_MARKER=exported"),
        "the environment was exported: {env}"
    );
    for name in ["GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN"] {
        assert!(!env.contains(&format!("{name}=")), "{name} reached the job");
    }
}
