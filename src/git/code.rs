//! The commit a job runs from and what the working tree holds on top of it: the results
//! branch starts from HEAD, so uncommitted edits are in no commit and must at least be named.

use super::error::{Result, ResultExt};
use super::repo::{current_branch, head_commit};
use git2::{DiffOptions, DiffStatsFormat, Repository, Status, StatusOptions};
use std::path::Path;

/// HEAD, the branch, and the uncommitted changes of a working tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeState {
    pub head: String,
    pub branch: Option<String>,
    /// `git diff --stat HEAD`-like lines for changed tracked files, then `?? path` for
    /// untracked ones; trackit's own `.trackit/` is left out.
    pub changes: Vec<String>,
    /// `2 files changed, 5 insertions(+), 1 deletion(-)`, plus `, 1 untracked file`.
    pub summary: String,
}

impl TreeState {
    pub fn dirty(&self) -> bool {
        !self.changes.is_empty()
    }
}

/// Most lines listed; the summary still counts everything.
const MAX_LINES: usize = 40;

/// The state of the working tree at `root`.
pub fn tree_state(root: &Path) -> Result<TreeState> {
    let repo = Repository::open(root).ctx(|| format!("opening {}", root.display()))?;
    let head = head_commit(&repo)?;
    let branch = current_branch(&repo)?;
    let mut state = TreeState {
        head: head.to_string(),
        branch,
        ..TreeState::default()
    };
    let mut opts = StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(false)
        .exclude_submodules(true)
        .include_ignored(false);
    let statuses = repo
        .statuses(Some(&mut opts))
        .ctx(|| "reading the working tree's status".into())?;
    let own = |p: &str| p == ".trackit" || p.starts_with(".trackit/");
    let mut untracked: Vec<String> = Vec::new();
    let mut tracked_changed = false;
    for e in statuses.iter() {
        let Ok(path) = e.path() else { continue };
        if own(path) {
            continue;
        }
        let s = e.status();
        if s.contains(Status::WT_NEW) && !s.intersects(Status::INDEX_NEW) {
            untracked.push(path.to_string());
        } else if !s.is_empty() && !s.contains(Status::IGNORED) {
            tracked_changed = true;
        }
    }
    let mut parts = Vec::new();
    if tracked_changed {
        let tree = repo
            .find_commit(head)
            .and_then(|c| c.tree())
            .ctx(|| "reading HEAD's tree".into())?;
        let mut dopts = DiffOptions::new();
        dopts.include_untracked(false);
        let diff = repo
            .diff_tree_to_workdir_with_index(Some(&tree), Some(&mut dopts))
            .ctx(|| "diffing the working tree against HEAD".into())?;
        let stats = diff.stats().ctx(|| "diff stats".into())?;
        let text = stats
            .to_buf(DiffStatsFormat::FULL, 72)
            .ctx(|| "diff stats".into())?;
        let text = String::from_utf8_lossy(&text).into_owned();
        let mut lines: Vec<String> = text.lines().map(|l| l.trim_end().to_string()).collect();
        if let Some(last) = lines.pop() {
            parts.push(last.trim().to_string());
        }
        state
            .changes
            .extend(lines.into_iter().filter(|l| !l.trim().is_empty()));
    }
    if !untracked.is_empty() {
        parts.push(format!(
            "{} untracked file{}",
            untracked.len(),
            if untracked.len() == 1 { "" } else { "s" }
        ));
        state
            .changes
            .extend(untracked.iter().map(|p| format!(" ?? {p}")));
    }
    if state.changes.len() > MAX_LINES {
        let more = state.changes.len() - MAX_LINES;
        state.changes.truncate(MAX_LINES);
        state.changes.push(format!(" … and {more} more"));
    }
    state.summary = parts.join(", ");
    Ok(state)
}
