//! Git primitives: repository facts, a results branch kept in its own worktree (the user's
//! checkout is never touched), commits of result files, and a push that rebases instead of
//! forcing. Plain Rust over git2; the Lua layer wraps these.

mod code;
mod error;
mod lock;
mod push;
mod repo;
mod results_branch;

pub use crate::auth::{parse_remote_url, redact_url, RemoteRepo, Secret};
pub use code::{tree_state, TreeState};
pub use error::{GitError, Result};
pub use lock::BranchLock;
pub use push::PushOutcome;
pub use repo::{
    author_from_config, author_signature, current_branch, find_repo_root, head_commit, repo_facts,
    RemoteInfo, RepoFacts,
};
pub use results_branch::{results_branch_name, ResultsBranch, WORKTREES_DIR};
