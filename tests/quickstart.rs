//! The README's first quick start, as written: no root, no cluster. A local job fails (its
//! output folder is missing), the built-in policy creates the folder and relaunches, and the
//! results table is filled on the results branch.

use crate::helper::{isolate, stderr, stdout, trackit_bin};
use std::path::Path;
use std::process::Command;

const COMMAND: &str = "trackit --no-pr run python3 train.py";

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    stdout(&out)
}

#[test]
fn the_local_quick_start_fails_is_fixed_and_fills_the_table() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(manifest.join("README.md")).unwrap();
    let local = readme.find(COMMAND).expect("the README shows the command");
    let slurm = readme
        .find("slurm-dev.sh start")
        .expect("the SLURM quick start");
    assert!(local < slurm, "the local quick start comes first");

    // A clone of the example, in a repository of its own.
    let repo = tempfile::Builder::new()
        .prefix("trackit-quickstart-")
        .tempdir_in("/tmp")
        .unwrap();
    let example = repo.path().join("examples/quickstart-local");
    std::fs::create_dir_all(&example).unwrap();
    for f in ["train.py", ".gitignore"] {
        std::fs::copy(
            manifest.join("examples/quickstart-local").join(f),
            example.join(f),
        )
        .unwrap();
    }
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "example"]);

    let home = tempfile::tempdir().unwrap();
    let mut c = Command::new(trackit_bin());
    isolate(&mut c, home.path());
    let args: Vec<&str> = COMMAND.split(' ').skip(1).collect();
    let out = c
        .args(&args)
        .current_dir(&example)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_TOKEN")
        .output()
        .unwrap();
    let (report, progress) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{report}{progress}");
    // The failure, the fix, the success.
    assert!(
        progress.contains("attempt 1/3 failed: path_error")
            && progress.contains("outputs/metrics.jsonl"),
        "{progress}"
    );
    assert!(
        progress.contains(&format!(
            "relaunching: mkdir {}",
            example.join("outputs").display()
        )),
        "{progress}"
    );
    assert!(report.contains("COMPLETED after 2 attempt(s)"), "{report}");
    assert!(
        report.contains("- loss 0.4972 (best 0.4972 at epoch 5)"),
        "{report}"
    );
    // The filled table, on the results branch; the working tree is untouched.
    let branch = git(
        repo.path(),
        &[
            "branch",
            "--list",
            "results/train-*",
            "--format=%(refname:short)",
        ],
    );
    let branch = branch.trim();
    let doc = git(
        repo.path(),
        &["show", &format!("{branch}:docs/experiments/train.md")],
    );
    let row = doc
        .lines()
        .find(|l| l.contains("| 2 | COMPLETED |"))
        .unwrap_or_else(|| panic!("no row for attempt 2:\n{doc}"));
    assert!(row.contains("0.7514") && row.contains("0.4972"), "{row}");
    assert!(doc.contains("| 1 | FAILED |"), "{doc}");
    assert_eq!(
        git(repo.path(), &["status", "--porcelain"]),
        "",
        "the working tree is clean"
    );
}
