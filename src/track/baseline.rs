//! The run a track is compared with, and the commit it ran from.
//!
//! The baseline is, first match wins:
//! 1. `--baseline REF`: `#N` (or `N`) is pull request N, read through the GitHub API; anything
//!    else is a git ref (a branch, a tag, a commit) whose experiment doc holds trackit's
//!    hidden records;
//! 2. the previous results PR of the same experiment: the newest pull request whose head is a
//!    results branch of this experiment (`results/<experiment>-<date>`, open, closed or merged)
//!    with a record of another track;
//! 3. without GitHub: the newest record of another track on this experiment's results branches
//!    in the local repository (a rerun the same day shares the branch and the doc).
//!
//! A record is the hidden `<!-- trackit:record ... -->` line every results section and PR body
//! carries ([`crate::report::record`]).

use super::model::Track;
use crate::github::{Client, GithubError};
use crate::report::{parse_records, Baseline, CodeVersion, Record};
use git2::Repository;
use std::path::Path;

/// What a lookup gave.
#[derive(Debug)]
pub enum Lookup {
    Found(Baseline),
    /// Nothing to compare with, and why (said once in the report).
    NotFound(String),
    /// GitHub could not be reached: ask again later.
    Retry(String),
}

/// How many recent pull requests are searched for the previous results PR.
const RECENT_PRS: u32 = 50;

/// The commit the job runs from and the tree's uncommitted changes (None outside git).
pub fn code_version(root: &Path) -> Option<CodeVersion> {
    let state = crate::git::tree_state(root).ok()?;
    Some(CodeVersion {
        dirty: state.dirty(),
        commit: state.head,
        branch: state.branch,
        commit_url: None,
        changes: state.changes,
        summary: state.summary,
    })
}

/// `results/<experiment>-` for the branches of `experiment`.
fn branch_prefix(experiment: &str) -> String {
    let day = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("a date");
    let name = crate::git::results_branch_name(experiment, day);
    name[..name.len() - "2000-01-01".len()].to_string()
}

/// True when `branch` is a results branch of the experiment whose prefix is `prefix`.
fn is_results_branch(branch: &str, prefix: &str) -> bool {
    branch.strip_prefix(prefix).is_some_and(|date| {
        date.len() == 10 && chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok()
    })
}

/// The newest record in `text` of a track other than `own` that has metrics.
fn other_record(text: &str, own: &str) -> Option<Record> {
    parse_records(text)
        .into_iter()
        .filter(|r| r.track != own && !r.metrics.is_empty())
        .max_by(|a, b| a.track.cmp(&b.track))
}

/// Finds the baseline of `track` (module docs). `client` is None without GitHub.
pub async fn find_baseline(track: &Track, client: Option<&Client>) -> Lookup {
    if let Some(spec) = track.publish_opts.baseline.as_deref().map(str::trim) {
        let number = spec.strip_prefix('#').unwrap_or(spec);
        if let Ok(n) = number.parse::<u64>() {
            let Some(client) = client else {
                return Lookup::NotFound(format!(
                    "--baseline {spec}: a pull request needs GitHub (a remote on GitHub and a token)"
                ));
            };
            return match client.get_pr(n).await {
                Ok(pr) => match other_record(pr.body.as_deref().unwrap_or(""), &track.id) {
                    Some(record) => Lookup::Found(Baseline {
                        label: format!("PR #{n}"),
                        url: Some(pr.html_url),
                        record,
                    }),
                    None => Lookup::NotFound(format!(
                        "--baseline {spec}: PR #{n} holds no trackit results"
                    )),
                },
                Err(e) if e.is_transient() => Lookup::Retry(e.to_string()),
                Err(e) => Lookup::NotFound(format!("--baseline {spec}: {e}")),
            };
        }
        return from_git_ref(track, spec);
    }
    if let Some(client) = client {
        match previous_pr(track, client).await {
            Ok(Some(b)) => return Lookup::Found(b),
            Ok(None) => {}
            Err(e) if e.is_transient() => return Lookup::Retry(e.to_string()),
            Err(e) => tracing::warn!("looking for the previous results PR: {e}"),
        }
    }
    from_local_branches(track)
}

async fn previous_pr(track: &Track, client: &Client) -> Result<Option<Baseline>, GithubError> {
    let prefix = branch_prefix(&track.experiment);
    let prs = client.recent_prs(RECENT_PRS).await?;
    for pr in prs {
        if !is_results_branch(&pr.head.ref_name, &prefix) {
            continue;
        }
        if let Some(record) = other_record(pr.body.as_deref().unwrap_or(""), &track.id) {
            return Ok(Some(Baseline {
                label: format!("PR #{}", pr.number),
                url: Some(pr.html_url),
                record,
            }));
        }
    }
    Ok(None)
}

/// The text of `path` in the tree of `commit`.
fn read_at(repo: &Repository, commit: &git2::Commit, path: &Path) -> Option<String> {
    let entry = commit.tree().ok()?.get_path(path).ok()?;
    let blob = entry.to_object(repo).ok()?.peel_to_blob().ok()?;
    String::from_utf8(blob.content().to_vec()).ok()
}

/// Every `.md` under `docs/` in the tree of `commit`: (path, text).
fn docs_at(repo: &Repository, commit: &git2::Commit) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(tree) = commit.tree() else { return out };
    let _ = tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        let name = entry.name().unwrap_or("");
        if dir.starts_with("docs/") && name.ends_with(".md") && out.len() < 200 {
            if let Ok(blob) = entry.to_object(repo).and_then(|o| o.peel_to_blob()) {
                if let Ok(text) = std::str::from_utf8(blob.content()) {
                    out.push(text.to_string());
                }
            }
        }
        git2::TreeWalkResult::Ok
    });
    out
}

/// The newest record of another track in the experiment doc at `commit` (the track's own doc
/// path first, else any doc under `docs/` with a record of the same experiment).
fn record_at(repo: &Repository, commit: &git2::Commit, track: &Track) -> Option<Record> {
    if let Some(doc) = &track.published.doc {
        if let Some(r) = read_at(repo, commit, doc).and_then(|t| other_record(&t, &track.id)) {
            return Some(r);
        }
    }
    docs_at(repo, commit)
        .iter()
        .filter_map(|t| other_record(t, &track.id))
        .filter(|r| r.experiment == track.experiment)
        .max_by(|a, b| a.track.cmp(&b.track))
}

fn from_git_ref(track: &Track, spec: &str) -> Lookup {
    let Some(root) = crate::git::find_repo_root(&track.root) else {
        return Lookup::NotFound(format!("--baseline {spec}: not in a git repository"));
    };
    let Ok(repo) = Repository::open(&root) else {
        return Lookup::NotFound(format!("--baseline {spec}: cannot open {}", root.display()));
    };
    let commit = match repo.revparse_single(spec).and_then(|o| o.peel_to_commit()) {
        Ok(c) => c,
        Err(_) => {
            // A results branch that only the remote has.
            match repo
                .revparse_single(&format!("origin/{spec}"))
                .and_then(|o| o.peel_to_commit())
            {
                Ok(c) => c,
                Err(e) => return Lookup::NotFound(format!("--baseline {spec}: {}", e.message())),
            }
        }
    };
    match record_at(&repo, &commit, track) {
        Some(record) => Lookup::Found(Baseline {
            label: format!("`{spec}`"),
            url: None,
            record,
        }),
        None => Lookup::NotFound(format!(
            "--baseline {spec}: no trackit results in the experiment doc at {}",
            &commit.id().to_string()[..7]
        )),
    }
}

fn from_local_branches(track: &Track) -> Lookup {
    let none = || Lookup::NotFound("no earlier run of this experiment was found".into());
    let Some(root) = crate::git::find_repo_root(&track.root) else {
        return none();
    };
    let Ok(repo) = Repository::open(&root) else {
        return none();
    };
    let prefix = branch_prefix(&track.experiment);
    let Ok(branches) = repo.branches(Some(git2::BranchType::Local)) else {
        return none();
    };
    let mut best: Option<(Record, String)> = None;
    for (branch, _) in branches.flatten() {
        let Ok(Some(name)) = branch.name() else {
            continue;
        };
        if !is_results_branch(name, &prefix) {
            continue;
        }
        let name = name.to_string();
        let Ok(commit) = branch.get().peel_to_commit() else {
            continue;
        };
        if let Some(r) = record_at(&repo, &commit, track) {
            // Earlier runs only: track ids start with their creation time.
            if r.track < track.id && best.as_ref().is_none_or(|(b, _)| r.track > b.track) {
                best = Some((r, name));
            }
        }
    }
    match best {
        Some((record, branch)) => Lookup::Found(Baseline {
            label: format!("`{branch}`"),
            url: None,
            record,
        }),
        None => none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_branches_of_an_experiment() {
        let p = branch_prefix("train");
        assert_eq!(p, "results/train-");
        assert!(is_results_branch("results/train-2026-11-28", &p));
        assert!(!is_results_branch("results/train-big-2026-11-28", &p));
        assert!(!is_results_branch("results/train-2026-11-28-x", &p));
    }
}
