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
