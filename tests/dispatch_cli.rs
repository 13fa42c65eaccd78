//! `trackit dispatch` against the OpenAPI-checked fake GitHub.

use crate::helper::fake_github::{FakeGithub, RunPlan};
use crate::helper::{stderr, stdout, trackit_bin, write};
use std::process::Command;

fn dispatch(fake: &FakeGithub, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    write(
        dir,
        "fast.lua",
        "local base = require('trackit.default')\nreturn trackit.extend(base, { settings = { poll = { first_s = 0.2, growth = 1, max_s = 0.5, min_s = 0.1 } } })\n",
    );
    let mut c = Command::new(trackit_bin());
    crate::helper::isolate(&mut c, crate::helper::shared_home());
    c.arg("--policy")
        .arg(dir.join("fast.lua"))
        .arg("dispatch")
        .args(args)
        .current_dir(dir);
    c.env_remove("GITHUB_TOKEN").env_remove("GH_HOST");
    for (k, v) in fake.env() {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn dispatch_finds_the_run_and_reports_success() {
    let fake = FakeGithub::start();
    fake.set_run_pace(1, 2);
    let dir = tempfile::tempdir().unwrap();
    let out = dispatch(
        &fake,
        dir.path(),
        &[
            "sherlock-dispatch.yml",
            "-f",
            "script=job.sh",
            "-f",
            "wandb_run=r1",
            "--ref",
            "main",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stderr(&out).contains("succeeded"), "{}", stderr(&out));
    let dispatched = fake
        .requests()
        .into_iter()
        .find(|r| r.path().ends_with("/dispatches"))
        .expect("a dispatch request");
    let body: serde_json::Value = serde_json::from_str(&dispatched.body).unwrap();
    assert_eq!(body["inputs"]["script"], "job.sh");
    assert_eq!(body["ref"], "main");
    assert!(fake.take_violations().is_empty());
}

#[test]
fn dispatch_failure_downloads_logs_and_diagnoses_them() {
    let fake = FakeGithub::start_ghes();
    fake.plan_next_run(RunPlan {
        conclusion: "failure".into(),
        jobs: vec![
            ("setup".into(), "success".into(), "setup ok\n".into()),
            ("submit".into(), "failure".into(), "2026-11-28T10:00:00Z sbatch: error: Batch job submission failed: Invalid partition name specified\n".into()),
        ],
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dispatch(&fake, dir.path(), &["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let mut c = Command::new(trackit_bin());
    crate::helper::isolate(&mut c, crate::helper::shared_home());
    c.arg("--json")
        .arg("--policy")
        .arg(dir.path().join("fast.lua"))
        .args([
            "dispatch",
            "sherlock-dispatch.yml",
            "-f",
            "script=job.sh",
            "--ref",
            "main",
        ]);
    c.current_dir(dir.path()).env_remove("GITHUB_TOKEN");
    for (k, v) in fake.env() {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let report: serde_json::Value =
        serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
    assert_eq!(report["conclusion"], "failure");
    assert_eq!(report["diagnosis"]["kind"], "submit_error");
    assert_eq!(
        report["logs"].as_array().unwrap().len(),
        1,
        "only the failed job's log"
    );
    let paths: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| r.path().to_string())
        .collect();
    // Every API call under /api/v3; only the logs' redirect target (storage) is elsewhere.
    assert!(
        paths
            .iter()
            .filter(|p| !p.starts_with("/api/v3/"))
            .all(|p| p.contains("log")),
        "{paths:?}"
    );
    assert!(fake.take_violations().is_empty());
}

/// A repository with the dispatch workflow, and an `sbatch` that must not be called.
fn dispatch_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write(
        p,
        ".github/workflows/sherlock-dispatch.yml",
        "on: workflow_dispatch\n",
    );
    write(
        p,
        "job.sh",
        "#!/bin/bash\n#SBATCH --mem=4G\npython3 train.py\n",
    );
    write(
        p,
        "fast.lua",
        "local base = require('trackit.default')\nreturn trackit.extend(base, { settings = { poll = { first_s = 0.2, growth = 1, max_s = 0.5, min_s = 0.1 } } })\n",
    );
    let shim = write(
        p,
        "shims/sbatch",
        &format!("#!/bin/sh\ntouch {}/SBATCH_CALLED\nexit 1\n", p.display()),
    );
    std::fs::set_permissions(&shim, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let git = |args: &[&str]| {
        assert!(
            Command::new("git")
                .args(args)
                .current_dir(p)
                .output()
                .unwrap()
                .status
                .success(),
            "git {args:?}"
        );
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["config", "user.name", "Test User"]);
    git(&["config", "user.email", "test@example.org"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "init"]);
    dir
}

fn sbatch_via_dispatch(
    fake: &FakeGithub,
    dir: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    let path = format!(
        "{}:{}",
        dir.join("shims").display(),
        std::env::var("PATH").unwrap()
    );
    let mut c = Command::new(trackit_bin());
    crate::helper::isolate(&mut c, crate::helper::shared_home());
    c.arg("--policy")
        .arg(dir.join("fast.lua"))
        .args(["--no-pr", "--json"])
        .args(extra)
        .args(["sbatch", "job.sh"]);
    c.current_dir(dir)
        .env("PATH", path)
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_HOST");
    for (k, v) in fake.env() {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn sbatch_dispatches_the_policys_workflow_when_the_repo_has_it() {
    let fake = FakeGithub::start();
    fake.set_run_pace(1, 1);
    let dir = dispatch_repo();
    let out = sbatch_via_dispatch(&fake, dir.path(), &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        !dir.path().join("SBATCH_CALLED").exists(),
        "sbatch must not run: the runner submits"
    );
    let dispatched: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path().ends_with("/dispatches"))
        .collect();
    assert_eq!(dispatched.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&dispatched[0].body).unwrap();
    assert_eq!(body["inputs"]["script"], "job.sh");
    assert!(
        body["inputs"]["wandb_run"]
            .as_str()
            .unwrap()
            .ends_with("-job-a1"),
        "{body}"
    );
    assert_eq!(body["ref"], "main");
    let report: serde_json::Value =
        serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
    assert_eq!(report["outcome"], "succeeded");
    assert!(fake.take_violations().is_empty());
}

#[test]
fn a_failed_dispatched_run_is_diagnosed_from_its_logs() {
    let fake = FakeGithub::start();
    fake.plan_next_run(RunPlan {
        conclusion: "failure".into(),
        jobs: vec![(
            "submit".into(),
            "failure".into(),
            "2026-11-28T10:00:00Z Submitted batch job 991\n2026-11-28T10:05:00Z slurmstepd: error: *** JOB 991 ON sh03-01n01 CANCELLED AT 2026-11-28T10:05:00 DUE TO TIME LIMIT ***\n".into(),
        )],
    });
    let dir = dispatch_repo();
    let out = sbatch_via_dispatch(&fake, dir.path(), &["--max-attempts", "1"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(!dir.path().join("SBATCH_CALLED").exists());
    let report: serde_json::Value =
        serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
    assert_eq!(report["outcome"], "failed");
    assert_eq!(
        report["attempts"][0]["diagnosis"]["kind"], "timeout",
        "{report}"
    );
    assert!(fake.take_violations().is_empty());
}

#[test]
fn without_the_workflow_file_sbatch_is_used() {
    let fake = FakeGithub::start();
    let dir = dispatch_repo();
    std::fs::remove_file(dir.path().join(".github/workflows/sherlock-dispatch.yml")).unwrap();
    let out = sbatch_via_dispatch(&fake, dir.path(), &["--max-attempts", "1"]);
    assert!(
        dir.path().join("SBATCH_CALLED").exists(),
        "{}",
        stderr(&out)
    );
    assert!(fake
        .requests()
        .iter()
        .all(|r| !r.path().ends_with("/dispatches")));
}

#[test]
fn a_tracker_killed_mid_dispatch_adopts_the_run_on_resume() {
    let fake = FakeGithub::start();
    fake.set_run_pace(40, 40); // the run stays queued, then in progress, for a while
    let dir = dispatch_repo();
    let path = format!(
        "{}:{}",
        dir.path().join("shims").display(),
        std::env::var("PATH").unwrap()
    );
    let cmd = |args: &[&str]| {
        let mut c = Command::new(trackit_bin());
        crate::helper::isolate(&mut c, crate::helper::shared_home());
        c.arg("--policy")
            .arg(dir.path().join("fast.lua"))
            .arg("--no-pr")
            .args(args);
        c.current_dir(dir.path())
            .env("PATH", &path)
            .env_remove("GITHUB_TOKEN")
            .env_remove("GH_HOST");
        for (k, v) in fake.env() {
            c.env(k, v);
        }
        c
    };
    let mut tracker = cmd(&["sbatch", "job.sh"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let tracks = dir.path().join(".trackit/tracks");
    let state_path = || {
        std::fs::read_dir(&tracks)
            .ok()?
            .next()?
            .ok()
            .map(|e| e.path().join("state.json"))
    };
    assert!(crate::helper::wait_for(
        std::time::Duration::from_secs(20),
        || {
            state_path()
                .and_then(|p| std::fs::read_to_string(p).ok())
                .is_some_and(|s| s.contains("\"workflow\""))
        }
    ));
    unsafe {
        libc::kill(tracker.id() as i32, libc::SIGKILL);
    }
    let _ = tracker.wait();
    // Rewrite the state as it was between the dispatch and the record.
    let p = state_path().unwrap();
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    let run_id = state["state"]["attempts"][0]["job"]["run_id"]
        .as_u64()
        .unwrap();
    state["state"]["attempts"][0]["job"] = serde_json::Value::Null;
    state["state"]["attempts"][0]["launching_since"] = (chrono::Utc::now().timestamp() - 20).into();
    std::fs::write(&p, state.to_string()).unwrap();
    fake.set_run_pace(0, 0);
    let id = p
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let out = cmd(&["resume", &id]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let dispatches = fake
        .requests()
        .iter()
        .filter(|r| r.path().ends_with("/dispatches"))
        .count();
    assert_eq!(
        dispatches, 1,
        "resume adopted the run instead of dispatching again"
    );
    let events = std::fs::read_to_string(p.parent().unwrap().join("events.jsonl")).unwrap();
    assert!(
        events.contains("recovered_launch") && events.contains(&format!("\"run\":{run_id}")),
        "{events}"
    );
    assert!(fake.take_violations().is_empty());
}
