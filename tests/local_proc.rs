//! The local backend against real processes: detached jobs, exit records, the PID-reuse guard,
//! pidfd waiting, attach and cancel.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use trackit::job::{ExitStatus, JobState};
use trackit::proc::{self, LocalJob};

fn sh(script: &str) -> Vec<String> {
    vec!["sh".into(), "-c".into(), script.into()]
}

async fn run_to_end(script: &str) -> (tempfile::TempDir, LocalJob, trackit::job::JobInfo) {
    let dir = tempfile::tempdir().unwrap();
    let job = proc::spawn(&sh(script), dir.path(), &[], &dir.path().join("run")).unwrap();
    let info = tokio::time::timeout(Duration::from_secs(20), proc::wait_exit(&job))
        .await
        .expect("job did not end");
    (dir, job, info)
}

fn log_text(job: &LocalJob) -> String {
    std::fs::read_to_string(job.log_path.as_ref().unwrap()).unwrap()
}

#[tokio::test]
async fn success_is_completed_with_output_env_and_cwd() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let env = vec![("TRACKIT_TEST_VAR".to_string(), "hello-env".to_string())];
    let job = proc::spawn(
        &sh("echo out; echo err >&2; echo $TRACKIT_TEST_VAR; pwd"),
        &work,
        &env,
        &dir.path().join("run"),
    )
    .unwrap();
    let info = proc::wait_exit(&job).await;
    assert_eq!(info.state, Some(JobState::Completed), "{info:?}");
    assert_eq!(info.exit, Some(ExitStatus::code(0)));
    assert!(info.end_time.is_some() && info.elapsed_s.is_some());
    let log = log_text(&job);
    for want in ["out", "err", "hello-env", work.to_str().unwrap()] {
        assert!(log.contains(want), "{want:?} missing from log {log:?}");
    }
    let rec = proc::read_exit_record(&job).unwrap();
    assert_eq!(rec.exit_code, Some(0));
    assert_eq!(rec.written_by.as_deref(), Some("wrapper"));
    // The stored record round-trips through the tracker's state file.
    let json = serde_json::to_string(&job).unwrap();
    assert_eq!(serde_json::from_str::<LocalJob>(&json).unwrap(), job);
    assert_eq!(proc::status(&job).state, Some(JobState::Completed));
}

#[tokio::test]
async fn non_zero_exit_is_failed_with_code() {
    let (_dir, _job, info) = run_to_end("exit 3").await;
    assert_eq!(info.state, Some(JobState::Failed));
    assert_eq!(info.exit, Some(ExitStatus::code(3)));
}

#[tokio::test]
async fn signal_death_is_failed_with_signal() {
    let (_dir, _job, info) = run_to_end("kill -9 $$").await;
    assert_eq!(info.state, Some(JobState::Failed), "{info:?}");
    assert_eq!(
        info.exit,
        Some(ExitStatus {
            code: 0,
            signal: Some(9)
        })
    );
}

#[test]
fn missing_program_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = proc::spawn(
        &["no-such-program-trackit".to_string()],
        dir.path(),
        &[],
        dir.path(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("no-such-program-trackit"), "{err}");
}

#[tokio::test]
async fn wait_exit_notices_the_end_promptly() {
    let dir = tempfile::tempdir().unwrap();
    let job = proc::spawn(&sh("sleep 1"), dir.path(), &[], dir.path()).unwrap();
    assert_eq!(proc::status(&job).state, Some(JobState::Running));
    let t0 = Instant::now();
    let info = proc::wait_exit(&job).await;
    let waited = t0.elapsed();
    assert_eq!(info.state, Some(JobState::Completed));
    // The job sleeps 1 s; pidfd should see the end at once. Generous bound: not a benchmark.
    assert!(waited < Duration::from_secs(4), "waited {waited:?}");
    assert!(
        waited >= Duration::from_millis(500),
        "returned early: {waited:?}"
    );
}

/// Not a real test: the body of the child process in `job_outlives_its_spawner`.
#[test]
fn spawner_helper_process() {
    let Ok(run_dir) = std::env::var("TRACKIT_TEST_SPAWNER_RUN_DIR") else {
        return;
    };
    let job = proc::spawn(
        &sh("sleep 2; echo done"),
        Path::new(&run_dir),
        &[],
        Path::new(&run_dir),
    )
    .unwrap();
    println!("JOB {}", serde_json::to_string(&job).unwrap());
    std::thread::sleep(Duration::from_secs(60));
}

#[tokio::test]
async fn job_outlives_its_spawner() {
    let dir = tempfile::tempdir().unwrap();
    // Cargo also builds this file as its own test binary, where the module path differs.
    let helper = match module_path!().split_once("::") {
        Some((_, module)) => format!("{module}::spawner_helper_process"),
        None => "spawner_helper_process".to_string(),
    };
    let mut spawner = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            helper.as_str(),
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("TRACKIT_TEST_SPAWNER_RUN_DIR", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(spawner.stdout.take().unwrap());
    let mut job: Option<LocalJob> = None;
    let mut line = String::new();
    while out.read_line(&mut line).unwrap() > 0 {
        // libtest prints "test name ... " in front of the helper's line.
        if let Some(at) = line.find("JOB ") {
            job = Some(serde_json::from_str(line[at + 4..].trim()).unwrap());
            break;
        }
        line.clear();
    }
    let job = job.expect("the spawner printed no job");

    // The tracker dies hard.
    spawner.kill().unwrap();
    spawner.wait().unwrap();
    // The wrapper holds none of the spawner's descriptors: its stdout pipe reaches EOF.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut rest = Vec::new();
        let _ = out.read_to_end(&mut rest);
        let _ = tx.send(());
    });
    rx.recv_timeout(Duration::from_secs(5))
        .expect("the job kept the dead spawner's stdout pipe open");

    assert!(proc::is_alive(&job), "the job died with its spawner");
    assert_eq!(proc::status(&job).state, Some(JobState::Running));
    let info = tokio::time::timeout(Duration::from_secs(20), proc::wait_exit(&job))
        .await
        .expect("job did not end");
    assert_eq!(info.state, Some(JobState::Completed), "{info:?}");
    assert!(job.status_path.as_ref().unwrap().exists());
    assert!(log_text(&job).contains("done"));
}

#[tokio::test]
async fn pid_reuse_guard_rejects_a_live_process_with_another_start_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let real = proc::attach(sleeper.id() as i32).unwrap();
    assert!(proc::is_alive(&real));
    // A stored record for this PID, but from another process's life.
    let impostor = LocalJob {
        start_ticks: real.start_ticks.wrapping_sub(1),
        run_dir: Some(dir.path().to_path_buf()),
        status_path: Some(dir.path().join(proc::STATUS_FILE)),
        log_path: None,
        attached: false,
        ..real.clone()
    };
    assert!(!proc::is_alive(&impostor));
    let info = proc::status(&impostor);
    assert_eq!(info.state, Some(JobState::Failed));
    assert_eq!(info.exit, None);
    assert!(info.reason.unwrap().contains("unknown"));
    // wait_exit does not wait for somebody else's process.
    let t0 = Instant::now();
    let info = tokio::time::timeout(Duration::from_secs(5), proc::wait_exit(&impostor))
        .await
        .expect("wait_exit waited for a reused PID");
    assert!(t0.elapsed() < Duration::from_secs(2));
    assert_eq!(info.state, Some(JobState::Failed));
    // The exit record, when one was written, still tells how our job ended.
    std::fs::write(
        dir.path().join(proc::STATUS_FILE),
        r#"{"exit_code":0,"signal":null,"ended_at_ms":1700000000000}"#,
    )
    .unwrap();
    assert_eq!(proc::status(&impostor).state, Some(JobState::Completed));
    // A cancel must not signal the stranger.
    let after = proc::cancel(&impostor, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(after.state, Some(JobState::Completed));
    assert!(proc::is_alive(&real), "cancel signalled a reused PID");
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
}

#[tokio::test]
async fn attach_to_a_foreign_process_sees_it_end_with_unknown_exit() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("foreign.log");
    // A shell (not us) is the parent of `sleep` and reaps it, as with a real foreign job.
    let mut parent = Command::new("sh")
        .arg("-c")
        .arg(format!("sleep 1 > '{}' & echo $!; wait", log.display()))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(parent.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pid: i32 = line.trim().parse().unwrap();
    // `$!` is known before the forked shell has exec'd `sleep`: wait for the exec.
    let mut job = proc::attach(pid).unwrap();
    let t0 = Instant::now();
    while job.command.first().map(String::as_str) != Some("sleep") && t0.elapsed().as_secs() < 2 {
        std::thread::sleep(Duration::from_millis(10));
        job = proc::attach(pid).unwrap();
    }
    assert!(job.attached);
    assert_eq!(job.command, vec!["sleep", "1"]);
    assert_eq!(job.log_path.as_deref(), Some(log.as_path()));
    assert_eq!(proc::status(&job).state, Some(JobState::Running));
    let t0 = Instant::now();
    let info = tokio::time::timeout(Duration::from_secs(10), proc::wait_exit(&job))
        .await
        .expect("attached process did not end");
    assert!(t0.elapsed() < Duration::from_secs(4));
    parent.wait().unwrap();
    let info = if info.exit.is_some() {
        // Caught as a zombie before the shell reaped it: then the code is real.
        assert_eq!(info.exit, Some(ExitStatus::code(0)));
        proc::status(&job)
    } else {
        info
    };
    assert_eq!(info.state, Some(JobState::Failed), "{info:?}");
    assert_eq!(info.exit, None);
    assert!(info.reason.unwrap().contains("exit status unknown"));
}

#[tokio::test]
async fn attach_reads_the_exit_of_a_zombie() {
    let mut child = Command::new("sh")
        .args(["-c", "sleep 0.3; exit 5"])
        .spawn()
        .unwrap();
    let job = proc::attach(child.id() as i32).unwrap();
    // We are the parent and do not reap yet: the exit status is still readable.
    let info = proc::wait_exit(&job).await;
    assert_eq!(info.state, Some(JobState::Failed));
    assert_eq!(info.exit, Some(ExitStatus::code(5)));
    child.wait().unwrap();
}

#[test]
fn attach_to_a_missing_pid_is_an_error() {
    assert!(proc::attach(i32::MAX).is_err());
}

#[tokio::test]
async fn cancel_terminates_the_whole_group() {
    let dir = tempfile::tempdir().unwrap();
    // The shell's child `sleep` is a grandchild of the wrapper: it must go too.
    let job = proc::spawn(
        &sh("sleep 60 & echo $! > child.pid; wait"),
        dir.path(),
        &[],
        &dir.path().join("run"),
    )
    .unwrap();
    let pid_file = dir.path().join("child.pid");
    let t0 = Instant::now();
    while !pid_file.exists() && t0.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let grandchild: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let t0 = Instant::now();
    let info = proc::cancel(&job, Duration::from_secs(10)).await.unwrap();
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "SIGTERM was not enough?"
    );
    assert_eq!(info.state, Some(JobState::Cancelled), "{info:?}");
    assert_eq!(info.exit.and_then(|e| e.signal), Some(15));
    assert_eq!(proc::status(&job).state, Some(JobState::Cancelled));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let gc = proc::proc_stat(grandchild);
    assert!(
        gc.is_none() || gc.unwrap().state == 'Z',
        "the grandchild survived the cancel"
    );
}

#[tokio::test]
async fn cancel_escalates_to_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    // Ignores SIGTERM (and `sleep` inherits the ignore).
    let job = proc::spawn(
        &sh("trap '' TERM; echo ready; sleep 60"),
        dir.path(),
        &[],
        &dir.path().join("run"),
    )
    .unwrap();
    let t0 = Instant::now();
    while !log_text(&job).contains("ready") && t0.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let t0 = Instant::now();
    let info = proc::cancel(&job, Duration::from_millis(500))
        .await
        .unwrap();
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert_eq!(info.state, Some(JobState::Cancelled), "{info:?}");
    assert!(!proc::is_alive(&job));
    // The wrapper died with the group, so the tracker wrote the record.
    let rec = proc::read_exit_record(&job).unwrap();
    assert_eq!(rec.written_by.as_deref(), Some("tracker"));
    assert_eq!(rec.signal, Some(9));
}

/// A local job never sees a GitHub token, though trackit's own environment has them.
#[test]
fn the_job_never_sees_a_github_token() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(crate::helper::trackit_bin())
        .args([
            "--no-git",
            "--max-attempts",
            "1",
            "run",
            "sh",
            "-c",
            "env > env.txt",
        ])
        .current_dir(dir.path())
        .env("GH_TOKEN", "gh-token-for-the-test")
        .env("GITHUB_TOKEN", "github-token-for-the-test")
        .env("GH_ENTERPRISE_TOKEN", "enterprise-token-for-the-test")
        .env("GITHUB_ENTERPRISE_TOKEN", "enterprise-token-for-the-test")
        .env("TRACKIT_TEST_MARKER", "inherited")
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let env = std::fs::read_to_string(dir.path().join("env.txt"))
        .unwrap_or_else(|e| panic!("no env.txt ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    assert!(env.contains("TRACKIT_TEST_MARKER=inherited"), "{env}");
    for name in [
        "GH_TOKEN",
        "GITHUB_TOKEN",
        "GH_ENTERPRISE_TOKEN",
        "GITHUB_ENTERPRISE_TOKEN",
    ] {
        assert!(
            !env.contains(&format!("{name}=")),
            "{name} reached the job: {env}"
        );
    }
}
