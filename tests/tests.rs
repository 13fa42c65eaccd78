//! One integration-test binary (one link step); each area is a module.
mod helper;

mod cli_diagnose;
mod cli_docs;
mod dispatch_cli;
mod fixes;
mod fuzz_corpus;
mod git_repo;
mod github_api;
mod init;
mod local_proc;
mod log_follow;
mod lua_types;
mod policy;
mod publish_e2e;
mod report;
mod results_collect;
mod site_policies;
mod slurm_cluster;
mod tail_reader;
mod track_cli;
mod track_fix;
