//! trackit's options where people type them: after the subcommands that pass nothing through,
//! between `sbatch`/`run` and the script, and refused (with the corrected command) among the
//! job's own arguments.

use crate::helper::assert_exit;
use crate::helper::{isolate, stderr, stdout, trackit, trackit_bin, write};
use std::path::Path;
use std::process::{Command, Output};

fn run_in(dir: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(trackit_bin());
    isolate(&mut c, dir);
    c.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn no_track_created(dir: &Path) -> bool {
    !dir.join(".trackit/tracks").exists()
}

#[test]
fn options_after_subcommands_that_pass_nothing_through() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(
        dir.path(),
        "job.log",
        "ModuleNotFoundError: No module named 'yaml'\n",
    );
    let l = log.to_str().unwrap();
    // `trackit diagnose job.log --json`, and the policy after the log too.
    for args in [
        vec!["diagnose", l, "--json"],
        vec!["diagnose", "--json", l],
        vec!["--json", "diagnose", l],
        vec!["diagnose", l, "--json", "--policy", "generic-slurm"],
    ] {
        let out = trackit(&args, dir.path());
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        let v: serde_json::Value = serde_json::from_str(stdout(&out).trim())
            .unwrap_or_else(|e| panic!("{args:?}: not one JSON object ({e}): {}", stdout(&out)));
        assert_eq!(v["kind"], "missing_dep", "{args:?}");
    }
    // list and status take them after the subcommand as well.
    let out = run_in(dir.path(), &["list", "--json"]);
    assert_eq!(stdout(&out).trim(), "[]", "{}", stderr(&out));
    let out = run_in(dir.path(), &["status", "--json"]);
    assert_eq!(stdout(&out).trim(), "[]", "{}", stderr(&out));
}

#[test]
fn trackit_options_between_sbatch_and_the_script() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "job.sh", "#!/bin/bash\necho hi\n");
    let out = run_in(dir.path(), &["sbatch", "--dry-run", "job.sh"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("dry run: would submit `sbatch job.sh`"),
        "{}",
        stdout(&out)
    );
    assert!(no_track_created(dir.path()), "a dry run creates nothing");

    // Mixed with sbatch's own options, in any order; the values of sbatch's options stay.
    let out = run_in(
        dir.path(),
        &[
            "--json",
            "sbatch",
            "--mem",
            "8G",
            "--dry-run",
            "-p",
            "gpu",
            "--policy",
            "sherlock",
            "--experiment=e1",
            "job.sh",
            "lr=3e-4",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(
        v["args"],
        serde_json::json!(["--mem", "8G", "-p", "gpu", "job.sh", "lr=3e-4"])
    );
    assert_eq!(v["policy"], "builtin:sherlock");
    assert_eq!(v["experiment"], "e1");

    // sbatch has -v/--verbose and --quiet too: there, they are sbatch's.
    let out = run_in(
        dir.path(),
        &["sbatch", "--dry-run", "-v", "--quiet", "job.sh"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("would submit `sbatch -v --quiet job.sh`"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn trackit_options_before_the_command_of_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        &[
            "run",
            "--dry-run",
            "--max-attempts",
            "2",
            "python3",
            "train.py",
            "--lr",
            "3",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("would run `python3 train.py --lr 3`") && text.contains("up to 2 attempt"),
        "{text}"
    );
    assert!(no_track_created(dir.path()));
}

#[test]
fn a_trackit_option_among_the_jobs_arguments_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "job.sh", "#!/bin/bash\necho hi\n");
    let out = run_in(dir.path(), &["sbatch", "--mem=1G", "job.sh", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.starts_with("trackit: error: --dry-run comes after the job's command (job.sh)"),
        "{err}"
    );
    assert!(
        err.contains("trackit --dry-run sbatch --mem=1G job.sh"),
        "{err}"
    );
    assert!(
        err.contains("trackit sbatch --mem=1G -- job.sh --dry-run"),
        "{err}"
    );
    assert!(no_track_created(dir.path()), "nothing was submitted");

    let out = run_in(
        dir.path(),
        &[
            "run", "python3", "train.py", "--policy", "local", "--epochs", "3",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("trackit --policy local run python3 train.py --epochs 3"),
        "{err}"
    );
    assert!(
        err.contains("trackit run -- python3 train.py --policy local --epochs 3"),
        "{err}"
    );
    assert!(no_track_created(dir.path()));
}

/// The corrected command from the message really works: after `--`, the job gets the
/// argument, verbatim.
#[test]
fn after_dashes_the_job_gets_the_argument() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        &[
            "run",
            "--no-git",
            "--",
            "sh",
            "-c",
            "echo got \"$1\"",
            "sh",
            "--dry-run",
        ],
    );
    assert_exit(&out, 0);
    let out = run_in(dir.path(), &["logs"]);
    assert_eq!(stdout(&out), "got --dry-run\n", "{}", stderr(&out));
    let out = run_in(dir.path(), &["list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v[0]["attempts"][0]["launch_args"],
        serde_json::json!(["sh", "-c", "echo got \"$1\"", "sh", "--dry-run"])
    );
}

/// Through the real sbatch: options before the script (trackit's and sbatch's, mixed) reach
/// the right program, and the job runs with sbatch's.
#[test]
fn sbatch_with_mixed_options_on_the_cluster() {
    if !crate::helper::require_cluster() {
        return;
    }
    let _c = crate::helper::cluster_shared();
    let dir = tempfile::Builder::new()
        .prefix("trackit-opts-")
        .tempdir_in("/tmp")
        .unwrap();
    write(
        dir.path(),
        "fast.lua",
        "local base = require('trackit.default')\nreturn trackit.extend(base, { settings = { poll = { first_s = 1, growth = 1.5, max_s = 3, min_s = 0.5 } } })\n",
    );
    write(
        dir.path(),
        "job.sh",
        &format!(
            "#!/bin/bash\n#SBATCH --output={}/job-%j.out\necho \"name=$SLURM_JOB_NAME args=$*\"\n",
            dir.path().display()
        ),
    );
    let policy = dir.path().join("fast.lua");
    let out = run_in(
        dir.path(),
        &[
            "sbatch",
            "--no-git",
            "-J",
            "mixed-opts",
            "--policy",
            policy.to_str().unwrap(),
            "--max-attempts=1",
            "job.sh",
            "a",
            "b",
        ],
    );
    assert_exit(&out, 0);
    let out = run_in(dir.path(), &["logs"]);
    assert_eq!(
        stdout(&out).trim(),
        "name=mixed-opts args=a b",
        "{}",
        stderr(&out)
    );
    let out = run_in(dir.path(), &["list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["max_attempts"], 1);
}
