//! One integration-test binary (one link step); each area is a module.
mod helper;

mod cli_diagnose;
mod github_api;
mod policy;
