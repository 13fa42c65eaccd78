//! `trackit launch`: the job goes where a person on the cluster would send it, and the first line
//! says where and why.

use crate::helper::assert_exit;
use crate::helper::{stderr, stdout, trackit_bin, write};
use std::process::{Command, Output};

fn launch(dir: &std::path::Path, path: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(trackit_bin());
    crate::helper::isolate(&mut cmd, crate::helper::shared_home());
    cmd.args(args)
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env_remove("TRACKIT_HOST")
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_TOKEN")
        .output()
        .unwrap()
}

fn batch_script(dir: &std::path::Path) {
    write(
        dir,
        "job.sh",
        "#!/bin/bash\n#SBATCH --mem=100M\n#SBATCH --time=5\necho from the batch script\n",
    );
}

#[test]
fn a_batch_script_goes_to_sbatch_where_squeue_is() {
    let dir = tempfile::tempdir().unwrap();
    batch_script(dir.path());
    let shims = tempfile::tempdir().unwrap();
    for cmd in ["squeue", "sbatch"] {
        let p = write(shims.path(), cmd, "#!/bin/sh\nexit 0\n");
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    let out = launch(
        dir.path(),
        &shims.path().display().to_string(),
        &["--dry-run", "launch", "job.sh"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let first = stderr(&out).lines().next().unwrap_or_default().to_string();
    assert!(
        first.contains("SLURM (sbatch here)") && first.contains("squeue is on PATH"),
        "{first}"
    );
    assert!(
        stdout(&out).contains("would submit `sbatch job.sh`"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("nothing was submitted"));
}

#[test]
fn without_slurm_a_host_sends_it_over_ssh() {
    let dir = tempfile::tempdir().unwrap();
    batch_script(dir.path());
    let out = launch(
        dir.path(),
        "/nonexistent",
        &[
            "--dry-run",
            "--host",
            "mycluster",
            "--remote-dir",
            "proj",
            "launch",
            "job.sh",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let first = stderr(&out).lines().next().unwrap_or_default().to_string();
    assert!(first.contains("SLURM on mycluster over ssh"), "{first}");
    assert!(
        stdout(&out).contains("on mycluster in proj"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn without_any_cluster_the_script_runs_here_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    batch_script(dir.path());
    // PATH keeps the usual tools (bash) but no SLURM client.
    let tools = tempfile::tempdir().unwrap();
    for t in ["bash", "sh", "git"] {
        let real = Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .output()
            .unwrap();
        let real = String::from_utf8_lossy(&real.stdout).trim().to_string();
        std::os::unix::fs::symlink(real, tools.path().join(t)).unwrap();
    }
    let path = tools.path().display().to_string();
    let out = launch(dir.path(), &path, &["--dry-run", "launch", "job.sh"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.lines().next().unwrap().contains("a local process"),
        "{err}"
    );
    assert!(err.contains("#SBATCH lines are ignored"), "{err}");
    // And for real: it runs here and completes.
    let out = launch(dir.path(), &path, &["--no-git", "launch", "job.sh"]);
    assert_exit(&out, 0);
    let tracks = dir.path().join(".trackit/tracks");
    let track = std::fs::read_dir(&tracks)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let log = std::fs::read_to_string(track.join("attempt-1/output.log")).unwrap();
    assert!(log.contains("from the batch script"), "{log}");
}

#[test]
fn anything_else_runs_here() {
    let dir = tempfile::tempdir().unwrap();
    let path = std::env::var("PATH").unwrap();
    let out = launch(
        dir.path(),
        &path,
        &["--no-git", "launch", "sh", "-c", "echo plain command"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .lines()
            .next()
            .unwrap()
            .contains("not a batch script"),
        "{}",
        stderr(&out)
    );
}
