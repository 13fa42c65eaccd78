//! The results branch, checked out in a worktree of its own under `.trackit/worktrees/`, so
//! the user's checkout, index and uncommitted changes are never touched.

use std::fs;
use std::path::{Component, Path, PathBuf};

use git2::{BranchType, Oid, Reference, Repository, WorktreeAddOptions, WorktreePruneOptions};

use super::error::{GitError, Result, ResultExt};
use super::repo::{author_signature, current_branch, head_commit};

/// Where the results worktrees live, relative to the repository root.
pub const WORKTREES_DIR: &str = ".trackit/worktrees";

/// The line trackit adds to `.git/info/exclude` (never to the user's `.gitignore`), so the
/// worktrees never show up as untracked files. Only the worktrees: a `.trackit/policy.lua`
/// the user wants to commit stays visible.
const EXCLUDE_LINE: &str = "/.trackit/worktrees/";

/// `results/<experiment>-<YYYY-MM-DD>`, with the experiment reduced to characters that are
/// safe in a ref name.
pub fn results_branch_name(experiment: &str, date: chrono::NaiveDate) -> String {
    format!(
        "results/{}-{}",
        sanitise(experiment, "experiment"),
        date.format("%Y-%m-%d")
    )
}

/// Letters, digits, `.`, `_`, `-`; runs of anything else become one `-`.
fn sanitise(text: &str, fallback: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            out.push(c);
        } else if c == '.' {
            // ".." is not allowed in a ref name.
            if !out.ends_with('.') {
                out.push(c);
            }
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches(|c| c == '-' || c == '.');
    if trimmed.is_empty() {
        fallback.to_string()
    } else {
        trimmed.to_string()
    }
}

/// A results branch and the worktree it is checked out in.
pub struct ResultsBranch {
    repo_root: PathBuf,
    branch: String,
    worktree_path: PathBuf,
    /// The repository opened on the worktree (its HEAD is the results branch).
    pub(super) repo: Repository,
}

impl std::fmt::Debug for ResultsBranch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultsBranch")
            .field("repo_root", &self.repo_root)
            .field("branch", &self.branch)
            .field("worktree_path", &self.worktree_path)
            .finish()
    }
}

impl ResultsBranch {
    /// Opens the results branch `branch` of the repository at `repo_root`, creating it from
    /// the current HEAD if missing, and its worktree. Resuming reuses both; a worktree whose
    /// directory was deleted is pruned and recreated.
    pub fn open_or_create(repo_root: &Path, branch: &str) -> Result<Self> {
        let main = open_main(repo_root)?;
        let base = head_commit(&main)?;
        Self::open_with(main, repo_root, branch, base)
    }

    /// As [`ResultsBranch::open_or_create`], with an explicit base commit for a new branch.
    pub fn open_or_create_from(repo_root: &Path, branch: &str, base: Oid) -> Result<Self> {
        let main = open_main(repo_root)?;
        Self::open_with(main, repo_root, branch, base)
    }

    fn open_with(main: Repository, repo_root: &Path, branch: &str, base: Oid) -> Result<Self> {
        let refname = format!("refs/heads/{branch}");
        if !Reference::is_valid_name(&refname) {
            return Err(GitError::InvalidBranchName(branch.to_string()));
        }
        if current_branch(&main)?.as_deref() == Some(branch) {
            return Err(GitError::Git {
                context: format!("cannot use {branch} as the results branch"),
                source: git2::Error::from_str(
                    "it is checked out in your working tree; switch to another branch first",
                ),
            });
        }
        ensure_excluded(&main, EXCLUDE_LINE)?;

        let branch_ref = match main.find_branch(branch, BranchType::Local) {
            Ok(existing) => existing.into_reference(),
            Err(e) if e.code() == git2::ErrorCode::NotFound => {
                // Resuming on another clone: continue the pushed branch rather than fork it.
                let base = remote_tracking_tip(&main, branch).unwrap_or(base);
                let base_commit = main
                    .find_commit(base)
                    .ctx(|| format!("finding base commit {base}"))?;
                tracing::info!(branch, %base, "creating results branch");
                main.branch(branch, &base_commit, false)
                    .ctx(|| format!("creating branch {branch}"))?
                    .into_reference()
            }
            Err(e) => return Err(e).ctx(|| format!("looking up branch {branch}")),
        };

        let root = main
            .workdir()
            .ok_or_else(|| GitError::NotARepository(repo_root.into()))?
            .to_path_buf();
        let name = sanitise(branch, "results");
        let path = root.join(WORKTREES_DIR).join(&name);

        let repo = match reusable_worktree(&main, &name)? {
            Some(repo) => repo,
            None => {
                if path.exists() {
                    // trackit's own scratch directory, not registered with git: everything
                    // in it was committed, so it can go.
                    tracing::warn!(path = %path.display(), "removing unregistered results worktree directory");
                    fs::remove_dir_all(&path)
                        .ctx(|| format!("removing stale worktree {}", path.display()))?;
                }
                let parent = path.parent().unwrap_or(&root);
                fs::create_dir_all(parent).ctx(|| format!("creating {}", parent.display()))?;
                let mut opts = WorktreeAddOptions::new();
                opts.reference(Some(&branch_ref));
                let worktree = main
                    .worktree(&name, &path, Some(&opts))
                    .ctx(|| format!("adding a worktree for {branch} at {}", path.display()))?;
                Repository::open_from_worktree(&worktree)
                    .ctx(|| format!("opening worktree {}", path.display()))?
            }
        };

        let head_target = repo
            .find_reference("HEAD")
            .ok()
            .and_then(|h| h.symbolic_target().ok().flatten().map(str::to_string));
        if head_target.as_deref() != Some(refname.as_str()) {
            return Err(GitError::Git {
                context: format!("results worktree {} is not on {branch}", path.display()),
                source: git2::Error::from_str(&format!(
                    "its HEAD is {}; remove the directory to let trackit recreate it",
                    head_target.unwrap_or_else(|| "detached".into())
                )),
            });
        }
        let worktree_path = repo.workdir().unwrap_or(&path).to_path_buf();
        Ok(ResultsBranch {
            repo_root: root,
            branch: branch.to_string(),
            worktree_path,
            repo,
        })
    }

    pub fn branch(&self) -> &str {
        &self.branch
    }

    pub fn refname(&self) -> String {
        format!("refs/heads/{}", self.branch)
    }

    pub fn repo_root(&self) -> &Path {
        &self.repo_root
    }

    pub fn worktree_path(&self) -> &Path {
        &self.worktree_path
    }

    /// The commit the results branch points at.
    pub fn head(&self) -> Result<Oid> {
        self.repo
            .refname_to_id(&self.refname())
            .ctx(|| format!("reading branch {}", self.branch))
    }

    /// Writes `files` (paths relative to the repository root) into the worktree and commits
    /// them on the results branch as the configured git author. Returns `None` when the
    /// files are already committed with that content, so a resume makes no duplicate commit.
    pub fn commit_files<P: AsRef<Path>, B: AsRef<[u8]>>(
        &self,
        files: &[(P, B)],
        message: &str,
    ) -> Result<Option<Oid>> {
        let rel_paths = files
            .iter()
            .map(|(p, _)| checked_rel_path(p.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        let parent = self
            .repo
            .find_commit(self.head()?)
            .ctx(|| format!("reading the tip of {}", self.branch))?;
        let parent_tree = parent.tree().ctx(|| "reading the tip tree".into())?;

        // Stage on top of the branch tip, not on whatever the index held before.
        let mut index = self
            .repo
            .index()
            .ctx(|| "opening the worktree index".into())?;
        index
            .read_tree(&parent_tree)
            .ctx(|| "resetting the worktree index".into())?;
        for (rel, (_, bytes)) in rel_paths.iter().zip(files) {
            let full = self.worktree_path.join(rel);
            if let Some(dir) = full.parent() {
                fs::create_dir_all(dir).ctx(|| format!("creating {}", dir.display()))?;
            }
            write_atomically(&full, bytes.as_ref())?;
            index
                .add_path(rel)
                .ctx(|| format!("staging {}", rel.display()))?;
        }
        index.write().ctx(|| "writing the worktree index".into())?;
        let tree_id = index.write_tree().ctx(|| "writing the tree".into())?;
        if tree_id == parent_tree.id() {
            tracing::debug!(branch = %self.branch, "results unchanged; no commit");
            return Ok(None);
        }
        let tree = self
            .repo
            .find_tree(tree_id)
            .ctx(|| "reading the tree".into())?;
        let author = author_signature(&self.repo)?;
        let oid = self
            .repo
            .commit(Some("HEAD"), &author, &author, message, &tree, &[&parent])
            .ctx(|| format!("committing on {}", self.branch))?;
        tracing::info!(branch = %self.branch, commit = %oid, "committed results");
        Ok(Some(oid))
    }

    /// Removes the worktree directory and its registration; the branch stays. Call it when
    /// the experiment is finished.
    pub fn remove_worktree(self) -> Result<()> {
        let ResultsBranch {
            repo_root,
            worktree_path,
            repo,
            ..
        } = self;
        drop(repo);
        let main = open_main(&repo_root)?;
        let name = worktree_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if worktree_path.exists() {
            fs::remove_dir_all(&worktree_path)
                .ctx(|| format!("removing {}", worktree_path.display()))?;
        }
        if let Ok(worktree) = main.find_worktree(&name) {
            worktree
                .prune(Some(WorktreePruneOptions::new().valid(true).locked(true)))
                .ctx(|| format!("pruning worktree {name}"))?;
        }
        Ok(())
    }

    /// The committed content of `rel_path` on the results branch; `None` if absent.
    pub fn read_file(&self, rel_path: impl AsRef<Path>) -> Result<Option<Vec<u8>>> {
        let rel = checked_rel_path(rel_path.as_ref())?;
        let commit = self
            .repo
            .find_commit(self.head()?)
            .ctx(|| format!("reading the tip of {}", self.branch))?;
        let tree = commit.tree().ctx(|| "reading the tip tree".into())?;
        let entry = match tree.get_path(&rel) {
            Ok(entry) => entry,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(e).ctx(|| format!("looking up {}", rel.display())),
        };
        let object = entry
            .to_object(&self.repo)
            .ctx(|| format!("reading {}", rel.display()))?;
        Ok(object.as_blob().map(|b| b.content().to_vec()))
    }
}

/// The tip of `refs/remotes/<remote>/<branch>`, preferring `origin`.
fn remote_tracking_tip(repo: &Repository, branch: &str) -> Option<Oid> {
    if let Ok(oid) = repo.refname_to_id(&format!("refs/remotes/origin/{branch}")) {
        return Some(oid);
    }
    let refs = repo
        .references_glob(&format!("refs/remotes/*/{branch}"))
        .ok()?;
    refs.flatten()
        .filter(|r| r.name().is_ok_and(|n| n.ends_with(&format!("/{branch}"))))
        .find_map(|r| r.target())
}

fn open_main(repo_root: &Path) -> Result<Repository> {
    Repository::open(repo_root).map_err(|_| GitError::NotARepository(repo_root.into()))
}

/// The registered worktree `name`, opened, if it is still usable; a registration whose
/// directory is gone (or broken) is pruned so it can be recreated.
fn reusable_worktree(main: &Repository, name: &str) -> Result<Option<Repository>> {
    let worktree = match main.find_worktree(name) {
        Ok(wt) => wt,
        Err(_) => return Ok(None),
    };
    if worktree.validate().is_ok() && worktree.path().join(".git").exists() {
        if let Ok(repo) = Repository::open_from_worktree(&worktree) {
            return Ok(Some(repo));
        }
    }
    tracing::warn!(worktree = name, path = %worktree.path().display(), "pruning stale results worktree");
    worktree
        .prune(Some(
            WorktreePruneOptions::new()
                .valid(true)
                .locked(true)
                .working_tree(false),
        ))
        .ctx(|| format!("pruning stale worktree {name}"))?;
    Ok(None)
}

/// A relative path made only of normal components, none of them `.git`.
fn checked_rel_path(path: &Path) -> Result<PathBuf> {
    let invalid = |reason| GitError::InvalidPath {
        path: path.display().to_string(),
        reason,
    };
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => {
                if part.eq_ignore_ascii_case(".git") {
                    return Err(invalid("it is inside .git"));
                }
                out.push(part);
            }
            Component::CurDir => {}
            _ => {
                return Err(invalid(
                    "it must be relative and stay inside the repository",
                ))
            }
        }
    }
    if out.as_os_str().is_empty() {
        return Err(invalid("it is empty"));
    }
    Ok(out)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::atomic_file::write(path, bytes).ctx(|| format!("writing {}", path.display()))
}

/// Appends `line` to the repository's `info/exclude` unless it is already there.
fn ensure_excluded(repo: &Repository, line: &str) -> Result<()> {
    let info = repo.commondir().join("info");
    let path = info.join("exclude");
    let existing = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).ctx(|| format!("reading {}", path.display())),
    };
    if existing.lines().any(|l| l.trim() == line) {
        return Ok(());
    }
    fs::create_dir_all(&info).ctx(|| format!("creating {}", info.display()))?;
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# trackit results worktrees\n");
    text.push_str(line);
    text.push('\n');
    fs::write(&path, text).ctx(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_names_are_valid_refs() {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        assert_eq!(
            results_branch_name("resnet50 lr=3e-4", date),
            "results/resnet50-lr-3e-4-2026-11-28"
        );
        assert_eq!(
            results_branch_name("../x..y/", date),
            "results/x.y-2026-11-28"
        );
        assert_eq!(
            results_branch_name("", date),
            "results/experiment-2026-11-28"
        );
        for exp in ["a b", "~^:?*[", "x.lock", "naïve"] {
            let name = format!("refs/heads/{}", results_branch_name(exp, date));
            assert!(Reference::is_valid_name(&name), "{name}");
        }
    }

    #[test]
    fn rejects_paths_leaving_the_worktree() {
        assert!(checked_rel_path(Path::new("../x")).is_err());
        assert!(checked_rel_path(Path::new("/etc/passwd")).is_err());
        assert!(checked_rel_path(Path::new(".git/config")).is_err());
        assert!(checked_rel_path(Path::new("a/.GIT/x")).is_err());
        assert!(checked_rel_path(Path::new("")).is_err());
        assert_eq!(
            checked_rel_path(Path::new("./results/x.json")).unwrap(),
            PathBuf::from("results/x.json")
        );
    }
}
