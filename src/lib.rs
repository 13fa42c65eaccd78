//! trackit: launch or adopt long jobs, open a results pull request, watch the job, diagnose a
//! failure through Lua policies, fix and relaunch, and report the results.
//!
//! The primitives (`slurm`, `proc`, `logtail`, `git`, `github`, `diagnose`, `results`) are plain
//! Rust and testable without Lua; only `lua` imports mlua.

pub mod atomic_file;
pub mod auth;
pub mod cli;
pub mod commands;
pub mod config;
pub mod diagnose;
pub mod edits;
pub mod find_named;
#[doc(hidden)]
pub mod fuzzing;
pub mod git;
pub mod github;
pub mod job;
pub mod logtail;
pub mod lua;
pub mod proc;
pub mod report;
pub mod results;
pub mod settings;
pub mod slurm;
pub mod ssh;
pub mod track;
pub mod walk;

pub(crate) mod prelude {
    #[allow(unused_imports)]
    pub use anyhow::{anyhow, bail, Context, Result};
    #[allow(unused_imports)]
    pub use tracing::{debug, error, info, trace, warn};
}

pub use cli::run;
