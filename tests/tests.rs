//! One integration-test binary (one link step); each area is a module.
mod helper;

mod cli_diagnose;
mod local_proc;
mod log_follow;
mod policy;
