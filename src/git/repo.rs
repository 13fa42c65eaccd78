//! Facts about the user's repository: where it is, HEAD, branch, author, remotes.

use std::path::{Path, PathBuf};

use git2::{Config, Oid, Repository, Signature};

use super::error::{GitError, Result, ResultExt};
use crate::auth::redact_url;

/// The top of the working tree that contains `start` (a linked worktree counts as its own
/// root); `None` outside a repository or in a bare one.
pub fn find_repo_root(start: &Path) -> Option<PathBuf> {
    let repo = Repository::discover(start).ok()?;
    let workdir = repo.workdir()?;
    Some(
        workdir
            .canonicalize()
            .unwrap_or_else(|_| workdir.to_path_buf()),
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteInfo {
    pub name: String,
    /// The fetch URL, with any embedded credentials redacted.
    pub url: String,
}

#[derive(Debug, Clone)]
pub struct RepoFacts {
    pub root: PathBuf,
    pub head: Oid,
    /// `None` on a detached HEAD.
    pub branch: Option<String>,
    pub remotes: Vec<RemoteInfo>,
}

/// HEAD commit, branch and remotes of the repository at (or above) `start`.
pub fn repo_facts(start: &Path) -> Result<RepoFacts> {
    let root = find_repo_root(start).ok_or_else(|| GitError::NotARepository(start.into()))?;
    let repo = Repository::open(&root).ctx(|| format!("opening {}", root.display()))?;
    let head = head_commit(&repo)?;
    let branch = current_branch(&repo)?;
    let mut remotes = Vec::new();
    let names = repo.remotes().ctx(|| "listing remotes".into())?;
    for name in names.iter().filter_map(|n| n.ok().flatten()) {
        let remote = repo
            .find_remote(name)
            .ctx(|| format!("reading remote {name}"))?;
        remotes.push(RemoteInfo {
            name: name.to_string(),
            url: redact_url(remote.url().unwrap_or_default()),
        });
    }
    Ok(RepoFacts {
        root,
        head,
        branch,
        remotes,
    })
}

/// The commit HEAD points at; a clear error on an unborn branch.
pub fn head_commit(repo: &Repository) -> Result<Oid> {
    match repo.head() {
        Ok(head) => head
            .peel_to_commit()
            .map(|c| c.id())
            .ctx(|| "HEAD does not point at a commit".into()),
        Err(e)
            if e.code() == git2::ErrorCode::UnbornBranch
                || e.code() == git2::ErrorCode::NotFound =>
        {
            Err(GitError::UnbornHead(repo.path().to_path_buf()))
        }
        Err(e) => Err(e).ctx(|| "reading HEAD".into()),
    }
}

/// The short name of the checked-out branch, `None` when HEAD is detached. An unborn
/// branch still has a name.
pub fn current_branch(repo: &Repository) -> Result<Option<String>> {
    if repo.head_detached().unwrap_or(false) {
        return Ok(None);
    }
    let head = repo.find_reference("HEAD").ctx(|| "reading HEAD".into())?;
    let target = match head.symbolic_target() {
        Ok(Some(target)) => Some(target.to_string()),
        _ => head.name().ok().map(str::to_string),
    };
    Ok(target.and_then(|t| t.strip_prefix("refs/heads/").map(str::to_string)))
}

/// The author from the repository's git configuration (local, global, system).
pub fn author_signature(repo: &Repository) -> Result<Signature<'static>> {
    let config = repo.config().ctx(|| "reading git config".into())?;
    author_from_config(&config)
}

/// `user.name` and `user.email` from `config`; [`GitError::AuthorNotConfigured`] names
/// the missing one and how to set it.
pub fn author_from_config(config: &Config) -> Result<Signature<'static>> {
    let read = |key: &str| {
        config
            .get_string(key)
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let name = read("user.name").ok_or(GitError::AuthorNotConfigured {
        missing: "user.name",
    })?;
    let email = read("user.email").ok_or(GitError::AuthorNotConfigured {
        missing: "user.email",
    })?;
    Signature::now(&name, &email).ctx(|| "building the author signature".into())
}
