//! The results PR end to end, as a user runs it: `trackit run|sbatch` in a real git repository
//! with a real bare remote, the fake GitHub (checked against GitHub's OpenAPI description), real
//! local processes and the real SLURM cluster.

use crate::helper::fake_github::{FakeGithub, TEST_TOKEN};
use crate::helper::lab::{git, GitLab, GitSetup};
use crate::helper::{cluster_shared, data_dir, output_within, require_cluster, wait_for, write};
use std::ops::Deref;
use std::path::Path;
use std::process::{Child, Output};
use std::time::Duration;

const FAST_POLICY: &str = r#"
local base = require("trackit.default")
return trackit.extend(base, { settings = { poll = { first_s = 1, growth = 1.5, max_s = 3, min_s = 0.5 } } })
"#;

/// The lab of these tests (tests/helper/lab.rs) with `train.py` (writes a real trainer's
/// results after a sleep), `crash.py` (fails), a fast policy and the fake GitHub.
struct Repo(GitLab);

impl Deref for Repo {
    type Target = GitLab;

    fn deref(&self) -> &GitLab {
        &self.0
    }
}

impl Repo {
    fn new() -> Repo {
        let data = data_dir().join("results");
        let train = format!(
            "import shutil, sys, time\ntime.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 3)\n\
             shutil.copy({:?}, 'trainer_state.json')\nshutil.copy({:?}, 'all_results.json')\nprint('done')\n",
            data.join("hf_trainer.trainer_state.json").display().to_string(),
            data.join("hf_trainer.all_results.json").display().to_string()
        );
        let setup = GitSetup::new("trackit-publish-")
            .file("train.py", &train)
            .file(
                "crash.py",
                "import time\ntime.sleep(2)\nraise ValueError('loss is NaN at step 12')\n",
            )
            .file("README.md", "# lab\n");
        Repo(GitLab::new(setup, FakeGithub::start(), FAST_POLICY))
    }

    fn remote_branches(&self) -> Vec<String> {
        self.remote_git(&[
            "for-each-ref",
            "--format=%(refname:short)",
            "refs/heads/results/",
        ])
        .lines()
        .map(str::to_string)
        .collect()
    }

    fn track_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_dir(self.work.join(".trackit/tracks"))
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    }

    /// The track's state, or Null while it is not written yet (the folder comes first).
    fn state(&self, id: &str) -> serde_json::Value {
        std::fs::read_to_string(
            self.work
                .join(".trackit/tracks")
                .join(id)
                .join("state.json"),
        )
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .map(|v| v["state"].clone())
        .unwrap_or_default()
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn today_branch(exp: &str) -> String {
    format!("results/{exp}-{}", chrono::Utc::now().format("%Y-%m-%d"))
}

/// (a) A local job that writes real result files: numbers on the remote's results branch and in
/// the PR; one PR opened while the job ran, one status comment, milestone comment.
#[test]
fn local_job_results_reach_the_pushed_doc_and_the_pr() {
    let repo = Repo::new();
    let out = repo.run_within(
        &[
            "--metric",
            "eval_loss",
            "--metric",
            "eval_accuracy",
            "run",
            "python3",
            "train.py",
            "4",
        ],
        Duration::from_secs(90),
    );
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    let branch = today_branch("train");
    let doc_spec = format!("{branch}:docs/experiments/train.md");
    let doc = repo.remote_git(&["show", &doc_spec]);
    assert!(doc.contains("0.01954"), "{doc}");
    assert!(doc.contains("0.998"), "{doc}");
    assert!(doc.contains("COMPLETED"), "{doc}");
    assert!(
        !doc.contains("PENDING"),
        "the PENDING row is replaced in place:\n{doc}"
    );
    assert!(doc.contains("## Discussion"), "{doc}");
    // The plot is committed next to the doc.
    let files = repo.remote_git(&["ls-tree", "-r", "--name-only", &branch]);
    assert!(
        files
            .lines()
            .any(|f| f.starts_with("docs/experiments/train-") && f.ends_with(".svg")),
        "{files}"
    );
    // A commit with the PENDING (or RUNNING) table came before the results.
    let subjects = repo.remote_git(&["log", "--format=%s", &branch]);
    assert!(
        subjects.contains("PENDING table") || subjects.contains("RUNNING table"),
        "{subjects}"
    );
    assert!(
        subjects.lines().next().unwrap().contains("results table"),
        "{subjects}"
    );
    let author = repo.remote_git(&["log", "-1", "--format=%an <%ae>", &branch]);
    assert_eq!(author.trim(), "Ada Lovelace <ada@example.org>");

    let pulls = repo.gh.pulls();
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    let (number, state, head, base, title, body) = &pulls[0];
    assert_eq!(
        (state.as_str(), head.as_str(), base.as_str()),
        ("open", branch.as_str(), "main")
    );
    assert_eq!(title, "Results: train");
    assert!(body.contains("0.01954") && body.contains("0.998"), "{body}");
    assert!(
        body.contains("- [x] Results tables updated with actual metrics"),
        "{body}"
    );
    // One plot per metric shows in the PR too, linked by the commit that holds it (a branch
    // name would die with the branch), and that commit is on the remote with the SVG.
    assert!(!body.contains("/raw/results/"), "{body}");
    let plot_links: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("![") && l.ends_with(".svg)"))
        .collect();
    assert_eq!(plot_links.len(), 2, "{body}");
    for link in &plot_links {
        let url = &link[link.find("](").unwrap() + 2..link.len() - 1];
        let rest = &url[url.find("/raw/").unwrap() + 5..];
        let (sha, path) = rest.split_once('/').unwrap();
        assert_eq!(sha.len(), 40, "{url}");
        let svg = repo.remote_git(&["show", &format!("{sha}:{path}")]);
        assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "{url}");
    }
    let comments = repo.gh.comments(*number);
    let status: Vec<_> = comments
        .iter()
        .filter(|(_, b)| b.contains("<!-- trackit:status -->"))
        .collect();
    assert_eq!(status.len(), 1, "{comments:?}");
    assert!(status[0].1.contains("COMPLETED"), "{comments:?}");
    assert_eq!(
        comments
            .iter()
            .filter(|(_, b)| b.contains("**COMPLETED** after 1 attempt"))
            .count(),
        1,
        "{comments:?}"
    );
    // The PR was opened while the job was still running: its creation came before the job's
    // end was published (the PR body at creation said PENDING or RUNNING).
    let reqs = repo.gh.requests();
    let create = reqs
        .iter()
        .find(|r| r.method == "POST" && r.path().ends_with("/pulls"))
        .expect("a PR was created");
    assert!(
        create.body.contains("PENDING") || create.body.contains("RUNNING"),
        "{}",
        create.body
    );
    assert!(!create.body.contains("0.01954"));
    // The final report names the PR and the numbers.
    assert!(all.contains("Pull request: "), "{all}");
    assert!(all.contains("eval_loss 0.01954"), "{all}");
    assert!(
        all.contains("Efficiency:") || all.contains("elapsed"),
        "{all}"
    );
    // The user's tree is untouched but for the job's own outputs.
    assert_eq!(
        git(&repo.work, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "main"
    );
    repo.gh.assert_no_violations();
}

/// (b) The same flow for a SLURM job whose script writes a metrics JSON.
#[test]
fn slurm_job_results_reach_the_pushed_doc_and_the_pr() {
    if !require_cluster() {
        return;
    }
    let _guard = cluster_shared();
    let repo = Repo::new();
    write(
        &repo.work,
        "fit.sh",
        &format!(
            "#!/bin/bash\n#SBATCH --output={}/fit-%j.out\n#SBATCH --time=00:05:00\nsleep 3\n\
             echo '{{\"val_loss\": 0.4321, \"val_acc\": 0.8765}}' > metrics.json\necho done\n",
            repo.work.display()
        ),
    );
    let out = repo.run_within(&["--json", "sbatch", "fit.sh"], Duration::from_secs(400));
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    let branch = today_branch("fit");
    let doc = repo.remote_git(&["show", &format!("{branch}:docs/experiments/fit.md")]);
    assert!(doc.contains("0.4321") && doc.contains("0.8765"), "{doc}");
    let pulls = repo.gh.pulls();
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    assert!(pulls[0].5.contains("0.4321"), "{}", pulls[0].5);
    // The node from the scheduler, and the commit the job ran from.
    assert!(pulls[0].5.contains("Ran on node `vm`."), "{}", pulls[0].5);
    assert!(pulls[0].5.contains("Ran from commit ["), "{}", pulls[0].5);
    // --json: the final report carries the PR link and the metrics.
    let report: serde_json::Value = all
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["event"] == "report")
        .expect("a report line");
    assert!(
        report["pr_url"].as_str().is_some_and(|u| !u.is_empty()),
        "{report}"
    );
    assert!(report["metrics"].to_string().contains("0.4321"), "{report}");
    repo.gh.assert_no_violations();
}

/// (c) A failing job: the failure report in the doc and the PR.
#[test]
fn failing_job_gets_a_failure_report_in_the_doc_and_the_pr() {
    let repo = Repo::new();
    let out = repo.run_within(
        &["--max-attempts", "1", "run", "python3", "crash.py"],
        Duration::from_secs(90),
    );
    assert!(!out.status.success(), "{}", text(&out));
    let branch = today_branch("crash");
    let doc = repo.remote_git(&["show", &format!("{branch}:docs/experiments/crash.md")]);
    assert!(doc.contains("**FAILED** after 1 attempt"), "{doc}");
    assert!(doc.contains("loss is NaN"), "{doc}");
    let pulls = repo.gh.pulls();
    assert_eq!(pulls.len(), 1);
    assert!(
        pulls[0].5.contains("**FAILED** after 1 attempt"),
        "{}",
        pulls[0].5
    );
    assert!(pulls[0].5.contains("loss is NaN"), "{}", pulls[0].5);
    let comments = repo.gh.comments(pulls[0].0);
    assert!(
        comments
            .iter()
            .any(|(_, b)| b.contains("**FAILED** after 1 attempt")),
        "{comments:?}"
    );
    repo.gh.assert_no_violations();
}

/// (d) GitHub down during the job, back before the end: everything delivered, one PR.
#[test]
fn github_outage_is_queued_and_delivered_later() {
    let repo = Repo::new();
    repo.gh.start_outage(503);
    let child = repo.spawn(&["run", "python3", "train.py", "6"]);
    // The tracker queued its updates and keeps tracking.
    let queued = wait_for(Duration::from_secs(30), || {
        repo.track_ids().first().is_some_and(|id| {
            repo.state(id)["published"]["queue"]
                .as_array()
                .is_some_and(|q| !q.is_empty())
        })
    });
    assert!(queued, "updates were not queued during the outage");
    assert!(repo.gh.pulls().is_empty());
    std::thread::sleep(Duration::from_secs(2));
    repo.gh.end_outage();
    let out = output_within(child, Duration::from_secs(120), "trackit");
    assert!(out.status.success(), "{}", text(&out));
    let pulls = repo.gh.pulls();
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    assert!(pulls[0].5.contains("0.01954"), "{}", pulls[0].5);
    let id = repo.track_ids().remove(0);
    let state = repo.state(&id);
    assert_eq!(
        state["published"]["queue"].as_array().map(Vec::len),
        Some(0)
    );
    assert!(state["published"]["github_error"].is_null(), "{state}");
    let status = repo
        .gh
        .comments(pulls[0].0)
        .into_iter()
        .filter(|(_, b)| b.contains("<!-- trackit:status -->"))
        .count();
    assert_eq!(status, 1);
    repo.gh.assert_no_violations();
}

/// (e) The tracker killed after the PR was created, then resumed: still one PR.
#[test]
fn killed_tracker_resumes_without_a_second_pr() {
    let repo = Repo::new();
    let mut child = repo.spawn(&["run", "python3", "train.py", "6"]);
    assert!(
        wait_for(Duration::from_secs(30), || !repo.gh.pulls().is_empty()),
        "no PR was opened"
    );
    // Let the state record the PR, then kill -9.
    assert!(wait_for(Duration::from_secs(10), || {
        repo.track_ids()
            .first()
            .is_some_and(|id| repo.state(id)["published"]["pr_number"].is_u64())
    }));
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
    let id = repo.track_ids().remove(0);
    let out = output_within(
        repo.spawn(&["resume", &id]),
        Duration::from_secs(120),
        "trackit resume",
    );
    assert!(out.status.success(), "{}", text(&out));
    let pulls = repo.gh.pulls();
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    assert!(pulls[0].5.contains("0.01954"), "{}", pulls[0].5);
    let posts = repo
        .gh
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path().ends_with("/pulls"))
        .count();
    assert_eq!(posts, 1);
    let status = repo
        .gh
        .comments(pulls[0].0)
        .into_iter()
        .filter(|(_, b)| b.contains("<!-- trackit:status -->"))
        .count();
    assert_eq!(status, 1);
    repo.gh.assert_no_violations();
}

/// (f) `--no-pr` commits locally only; `--no-git` leaves the repository untouched.
#[test]
fn no_pr_commits_locally_and_no_git_touches_nothing() {
    let repo = Repo::new();
    let out = repo.run_within(
        &["--no-pr", "run", "python3", "train.py", "1"],
        Duration::from_secs(90),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(repo.gh.requests().is_empty(), "{:?}", repo.gh.requests());
    assert!(repo.remote_branches().is_empty());
    let doc = git(
        &repo.work,
        &[
            "show",
            &format!("{}:docs/experiments/train.md", today_branch("train")),
        ],
    );
    assert!(doc.contains("0.01954"), "{doc}");

    let repo = Repo::new();
    let branches_before = git(&repo.work, &["branch", "--list"]);
    let out = repo.run_within(
        &[
            "--no-git",
            "--experiment",
            "plain",
            "run",
            "python3",
            "-c",
            "print('hi')",
        ],
        Duration::from_secs(90),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(repo.gh.requests().is_empty());
    assert_eq!(git(&repo.work, &["status", "--porcelain"]), "");
    assert_eq!(git(&repo.work, &["branch", "--list"]), branches_before);
    assert!(repo.remote_branches().is_empty());
    let id = repo.track_ids().remove(0);
    let report = std::fs::read_to_string(
        repo.work
            .join(".trackit/tracks")
            .join(&id)
            .join("report.md"),
    )
    .unwrap();
    assert!(report.contains("COMPLETED"), "{report}");
    assert!(!repo.work.join(".trackit/worktrees").exists());
}

/// (g) The token appears nowhere trackit wrote or printed.
#[test]
fn the_token_is_nowhere() {
    let repo = Repo::new();
    // A job that prints something token-shaped of its own must not leak ours either.
    let ok = repo.run_within(
        &["run", "python3", "train.py", "1"],
        Duration::from_secs(90),
    );
    let failed = repo.run_within(
        &["--max-attempts", "1", "run", "python3", "crash.py"],
        Duration::from_secs(90),
    );
    let printed = text(&ok) + &text(&failed);
    assert!(
        !printed.contains(TEST_TOKEN),
        "printed output holds the token"
    );
    let mut hits = Vec::new();
    grep_tree(&repo.work.join(".trackit"), &mut hits);
    let log = repo.remote_git(&["log", "-p", "--all"]);
    if log.contains(TEST_TOKEN) {
        hits.push("remote history".into());
    }
    for (_, _, _, _, title, body) in repo.gh.pulls() {
        if title.contains(TEST_TOKEN) || body.contains(TEST_TOKEN) {
            hits.push("PR text".into());
        }
    }
    assert!(hits.is_empty(), "the token leaked into: {hits:?}");
    // Something was written at all (the test can fail).
    assert!(!repo.gh.pulls().is_empty());
    repo.gh.assert_no_violations();
}

fn grep_tree(dir: &Path, hits: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            grep_tree(&p, hits);
        } else if let Ok(bytes) = std::fs::read(&p) {
            if bytes
                .windows(TEST_TOKEN.len())
                .any(|w| w == TEST_TOKEN.as_bytes())
            {
                hits.push(p.display().to_string());
            }
        }
    }
}

/// A results PR of an earlier run of the experiment becomes the baseline: the new PR has the
/// comparison with its Δ column, the commit it ran from (with the uncommitted edit named), the
/// Discussion and the seed's test plan, all ticked.
#[test]
fn previous_results_pr_is_the_baseline() {
    let repo = Repo::new();
    let earlier = trackit::report::Record {
        track: "20261101-090000-train".into(),
        experiment: "train".into(),
        commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        metrics: vec![
            trackit::report::record::RecordMetric {
                name: "eval_loss".into(),
                final_value: Some(0.03),
                best: Some(0.03),
                goal: Some(trackit::results::Goal::Min),
            },
            trackit::report::record::RecordMetric {
                name: "eval_accuracy".into(),
                final_value: Some(0.999),
                best: Some(0.999),
                goal: Some(trackit::results::Goal::Max),
            },
        ],
    };
    let old = repo.gh.seed_pr(
        "results/train-2026-11-01",
        "closed",
        "Results: train",
        &format!(
            "<!-- trackit:pr track=20261101-090000-train -->\nold results\n{}\n",
            earlier.to_comment()
        ),
        chrono::Duration::days(28),
    );
    // Another experiment's newer PR is not a baseline.
    repo.gh.seed_pr(
        "results/train-big-2026-11-20",
        "open",
        "Results: train-big",
        &trackit::report::Record {
            track: "x".into(),
            experiment: "train-big".into(),
            commit: None,
            metrics: earlier.metrics.clone(),
        }
        .to_comment(),
        chrono::Duration::days(9),
    );
    // An edit that is not committed: the PR must name it.
    write(&repo.work, "README.md", "# lab\nedited, not committed\n");
    let head = git(&repo.work, &["rev-parse", "HEAD"]).trim().to_string();
    let out = repo.run_within(
        &[
            "--metric",
            "eval_loss",
            "--metric",
            "eval_accuracy",
            "run",
            "python3",
            "train.py",
            "2",
        ],
        Duration::from_secs(90),
    );
    assert!(out.status.success(), "{}", text(&out));
    let pulls = repo.gh.pulls();
    let ours = pulls
        .iter()
        .find(|p| p.0 != old && p.2 == today_branch("train"))
        .expect("our PR");
    let body = &ours.5;
    assert!(body.contains(&format!("Baseline: [PR #{old}](")), "{body}");
    assert!(
        body.contains("(track `20261101-090000-train`, commit `0123456`)."),
        "{body}"
    );
    assert!(
        body.contains("| eval_loss | 0.01954 | 0.03 | -0.01046 (-34.9%) better |"),
        "{body}"
    );
    assert!(
        body.contains("| eval_accuracy | 0.998 | 0.999 | -0.0009531 (-0.1%) worse |"),
        "{body}"
    );
    assert!(
        body.contains(&format!("Ran from commit [`{}`](", &head[..7])),
        "{body}"
    );
    assert!(
        body.contains(&format!("/commit/{head}) on `main`.")),
        "{body}"
    );
    assert!(body.contains("**Uncommitted changes.**"), "{body}");
    assert!(body.contains(" README.md | 1 +\n"), "{body}");
    assert!(body.contains("1 file changed, 1 insertion(+)."), "{body}");
    assert!(body.contains("Against the baseline (PR #"), "{body}");
    assert!(
        body.contains("- [x] Job ") && body.contains(" completes successfully"),
        "{body}"
    );
    assert!(
        body.contains("- [x] Discussion section filled in"),
        "{body}"
    );
    assert!(body.contains("- read `trainer_state.json`"), "{body}");
    // The doc has the same comparison and the discussion under its heading.
    let doc = repo.remote_git(&[
        "show",
        &format!("{}:docs/experiments/train.md", today_branch("train")),
    ]);
    assert!(doc.contains("| eval_loss | 0.01954 | 0.03 |"), "{doc}");
    assert!(
        doc.contains("## Discussion\n\n<!-- trackit:discussion:start track="),
        "{doc}"
    );
    assert!(
        doc.contains("The best eval_loss was 0.01954 at epoch 3, step 192"),
        "{doc}"
    );
    // The listing asked GitHub for the newest PRs first, as the API documents it.
    let listed = repo.gh.requests().into_iter().any(|r| {
        r.method == "GET"
            && r.path().ends_with("/pulls")
            && r.url.contains("sort=created")
            && r.url.contains("direction=desc")
            && r.url.contains("state=all")
    });
    assert!(listed);
    repo.gh.assert_no_violations();
}

/// Without GitHub: a rerun the same day compares with the earlier run on the same results
/// branch; `--baseline REF` names another one; metrics that only the log has are read.
#[test]
fn rerun_compares_with_the_earlier_run_and_log_metrics_are_read() {
    let repo = Repo::new();
    write(
        &repo.work,
        "fit.py",
        "import sys\nlr = float(sys.argv[1])\nfor e in range(3):\n    print(f'epoch {e}: val_loss={1.0 / (1 + e * lr):.4f} val_acc={0.5 + e * lr / 10:.4f}', flush=True)\n",
    );
    git(&repo.work, &["add", "fit.py"]);
    git(&repo.work, &["commit", "-q", "-m", "fit"]);
    let run = |args: &[&str]| {
        let out = repo.run_within(args, Duration::from_secs(90));
        assert!(out.status.success(), "{}", text(&out));
        text(&out)
    };
    run(&["--no-pr", "run", "python3", "fit.py", "1"]);
    let branch = today_branch("fit");
    let first = git(
        &repo.work,
        &["show", &format!("{branch}:docs/experiments/fit.md")],
    );
    // The job only printed its metrics: they come from its log, and the doc says so.
    assert!(
        first.contains("| val_acc | best val_acc | val_loss | best val_loss |"),
        "{first}"
    );
    assert!(
        first.contains(" | 0.7 | 0.7 (epoch 2) | 0.3333 | 0.3333 (epoch 2) |"),
        "{first}"
    );
    assert!(
        first.contains("- from the job's log (no file had them): val_acc, val_loss"),
        "{first}"
    );
    assert!(first.contains("0 files read, 0 passed over"), "{first}");
    let first_commit = git(&repo.work, &["rev-parse", &branch]).trim().to_string();
    std::thread::sleep(Duration::from_millis(1100)); // track ids are per second
    let printed = run(&["--no-pr", "run", "python3", "fit.py", "2"]);
    // The final report says where the numbers came from and what they were compared with.
    assert!(
        printed.contains("From the job's log: val_acc, val_loss"),
        "{printed}"
    );
    assert!(
        printed.contains(&format!("Compared with {branch}")),
        "{printed}"
    );
    let doc = git(
        &repo.work,
        &["show", &format!("{branch}:docs/experiments/fit.md")],
    );
    // Two sections, the second compared with the first: val_loss 0.3333 → 0.2.
    assert_eq!(
        doc.matches("<!-- trackit:results:start track=").count(),
        2,
        "{doc}"
    );
    assert!(
        doc.contains(&format!("Baseline: `{branch}` (track `")),
        "{doc}"
    );
    assert!(
        doc.contains("| val_loss | 0.2 | 0.3333 | -0.1333 (-40%) better |"),
        "{doc}"
    );
    // --baseline REF: the first run's results commit.
    std::thread::sleep(Duration::from_millis(1100));
    run(&[
        "--no-pr",
        "--baseline",
        &first_commit,
        "run",
        "python3",
        "fit.py",
        "4",
    ]);
    let doc = git(
        &repo.work,
        &["show", &format!("{branch}:docs/experiments/fit.md")],
    );
    assert!(
        doc.contains(&format!("Baseline: `{first_commit}`")),
        "{doc}"
    );
    assert!(
        doc.contains("| val_loss | 0.1111 | 0.3333 | -0.2222 (-66.7%) better |"),
        "{doc}"
    );
    // A ref that does not exist: a note, and the track still succeeds.
    let out = run(&[
        "--no-pr",
        "--baseline",
        "no-such-ref",
        "run",
        "python3",
        "fit.py",
        "1",
    ]);
    assert!(out.contains("--baseline no-such-ref"), "{out}");
}

/// GitHub replies that lack fields trackit does not use (older GHES) never stop later updates:
/// the PR body still reaches its final state and the final comment is posted.
#[test]
fn replies_lacking_fields_never_stop_later_updates() {
    let repo = Repo::new();
    repo.gh.omit_fields(
        "PATCH",
        "/repos/{owner}/{repo}/pulls/{pull_number}",
        &["id", "title", "state", "head", "base", "user", "created_at"],
    );
    repo.gh.omit_fields(
        "POST",
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
        &["html_url", "created_at", "updated_at", "user"],
    );
    let out = repo.run_within(
        &["run", "python3", "train.py", "2"],
        Duration::from_secs(90),
    );
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(!all.contains("no more GitHub updates"), "{all}");
    let pulls = repo.gh.pulls();
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    let (number, _, _, _, _, body) = &pulls[0];
    assert!(
        body.contains("- [x] Results tables updated with actual metrics"),
        "the body stayed behind: {body}"
    );
    let comments = repo.gh.comments(*number);
    assert!(
        comments.iter().any(|(_, c)| c.contains("COMPLETED")),
        "{comments:?}"
    );
}

/// Three runs of one experiment started at once: three tracks with their own ids, one results
/// branch, one PR holding all three results (a section and a status comment each), one doc with
/// three sections. Their writes to the branch, the doc and the PR are serialised, never lost.
#[test]
fn three_runs_at_once_share_one_pr_and_lose_nothing() {
    let repo = Repo::new();
    let runs: Vec<Child> = (0..3)
        .map(|i| {
            repo.spawn(&[
                "--experiment",
                "train",
                "run",
                "python3",
                "train.py",
                &format!("{}", 1 + i),
            ])
        })
        .collect();
    let outs: Vec<Output> = runs
        .into_iter()
        .map(|c| output_within(c, Duration::from_secs(180), "trackit"))
        .collect();
    for out in &outs {
        assert!(out.status.success(), "{}", text(out));
    }
    let ids = repo.track_ids();
    assert_eq!(ids.len(), 3, "three tracks, none overwritten: {ids:?}");
    let pulls = repo.gh.pulls();
    assert_eq!(pulls.len(), 1, "one PR for the experiment: {pulls:?}");
    let (number, _, head, _, _, body) = &pulls[0];
    assert_eq!(head, &today_branch("train"));
    for id in &ids {
        assert!(
            body.contains(&format!("<!-- trackit:pr-section:start track={id} -->")),
            "the PR has {id}'s section: {body}"
        );
    }
    assert_eq!(
        body.matches("0.01954").count() >= 3,
        true,
        "all three results: {body}"
    );
    let comments = repo.gh.comments(*number);
    for id in &ids {
        let status = comments
            .iter()
            .filter(|(_, c)| c.contains(&format!("<!-- trackit:status track={id} -->")))
            .count();
        assert_eq!(status, 1, "one status comment for {id}: {comments:?}");
    }
    let doc = repo.remote_git(&[
        "show",
        &format!("{}:docs/experiments/train.md", today_branch("train")),
    ]);
    for id in &ids {
        assert!(
            doc.contains(&format!("<!-- trackit:results:start track={id} -->")),
            "{doc}"
        );
    }
    repo.gh.assert_no_violations();
}
