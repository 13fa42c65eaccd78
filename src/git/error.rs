//! Errors of the git primitives. Messages carry no credentials: URLs go through
//! [`crate::git::redact_url`] and push errors are scrubbed of the token.

use std::path::PathBuf;

pub type Result<T, E = GitError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{0} is not inside a git repository with a working tree")]
    NotARepository(PathBuf),

    #[error(
        "git {missing} is not configured; trackit commits results as you. Set it with \
         `git config --global user.name \"Your Name\"` and \
         `git config --global user.email you@example.org`"
    )]
    AuthorNotConfigured { missing: &'static str },

    #[error("the repository at {0} has no commit yet (HEAD is unborn); make a first commit")]
    UnbornHead(PathBuf),

    #[error("invalid branch name {0:?}")]
    InvalidBranchName(String),

    #[error("invalid path {path:?} for a results file: {reason}")]
    InvalidPath { path: String, reason: &'static str },

    #[error("remote {0:?} is not configured in this repository")]
    NoSuchRemote(String),

    #[error("push of {refname} to {remote} was rejected: {message}")]
    PushRejected {
        remote: String,
        refname: String,
        message: String,
    },

    #[error("push of {refname} to {remote} ({url}) failed: {message}")]
    Push {
        remote: String,
        url: String,
        refname: String,
        message: String,
    },

    #[error(
        "cannot rebase {branch} onto {upstream}: commit {commit} conflicts in {paths}; \
         resolve it in {worktree} or delete the remote branch"
    )]
    RebaseConflict {
        branch: String,
        upstream: String,
        commit: String,
        paths: String,
        worktree: PathBuf,
    },

    #[error("{context}: {source}")]
    Git {
        context: String,
        #[source]
        source: git2::Error,
    },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

/// Adds a context sentence to git2 and io errors.
pub(crate) trait ResultExt<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> ResultExt<T> for std::result::Result<T, git2::Error> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| GitError::Git {
            context: context(),
            source,
        })
    }
}

impl<T> ResultExt<T> for std::result::Result<T, std::io::Error> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| GitError::Io {
            context: context(),
            source,
        })
    }
}
