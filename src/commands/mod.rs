//! One file per subcommand. Each returns the process exit status, or an error: a
//! [`crate::cli::UsageError`] exits 2, anything else 3 (see [`crate::cli::exit`]).

mod config;
mod diagnose;
mod dispatch;
pub(crate) mod init;
pub(crate) mod pipeline;
mod policy;
pub mod track;

use crate::cli::{Cli, Command, PolicyCommand};
use anyhow::Result;
use std::io::Write;
use std::process::ExitCode;

pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    let global = cli.global;
    if !matches!(cli.command, Command::Man | Command::Completions { .. }) {
        // A broken config stops everything (exit 3); a policy name that names nothing is a
        // usage error (exit 2). Both before anything starts.
        crate::config::check()?;
        if let Some(p) = &global.policy {
            crate::lua::policy::named(p).map_err(crate::cli::usage)?;
        }
    }
    match cli.command {
        Command::Diagnose(args) => diagnose::run(&global, args),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut cmd = crate::cli::Cli::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "trackit", &mut out);
            print_all(&out)
        }
        Command::Dispatch {
            workflow,
            fields,
            git_ref,
        } => dispatch::run(&global, &workflow, &fields, git_ref.as_deref()),
        Command::Man => print_all(&crate::cli::man_page()?),
        Command::Sbatch { args } => track::sbatch(&global, args, global.detach),
        Command::Run { command } => track::run(&global, command, global.detach),
        Command::Launch { args } => track::launch(&global, args, global.detach),
        Command::Pipeline { file } => pipeline::run(&global, &file, global.detach),
        Command::Attach { target } => track::attach(&global, &target, global.detach),
        Command::Status { track: t } => track::status(&global, t.as_deref(), global.json),
        Command::List => track::list(&global, global.json),
        Command::Logs {
            track: t,
            attempt,
            follow,
        } => track::logs(t.as_deref(), attempt, follow),
        Command::Resume { tracks, force } => track::resume(&global, &tracks, force),
        Command::Cancel { track: t } => track::cancel(&t),
        Command::Init(args) => init::run(&global, args),
        Command::Config => config::show(global.json),
        Command::Policy(PolicyCommand::Check { file }) => policy::check(&file),
        Command::Policy(PolicyCommand::Trust { file }) => policy::trust(file.as_deref()),
        Command::Policy(PolicyCommand::Test { cases }) => {
            policy::test(global.policy.as_deref(), &cases, global.json)
        }
    }
}

/// Writes to stdout; a reader that went away (`| head -1`) is no error.
fn print_all(bytes: &[u8]) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e.into()),
    }
}

/// Loads the policy the user asked for (or the repository's, or the built-in one).
pub(crate) fn load_policy(explicit: Option<&std::path::Path>) -> Result<crate::lua::Host> {
    let cwd = std::env::current_dir()?;
    let source = crate::lua::resolve(explicit, &cwd);
    Ok(crate::lua::Host::load(&source)?)
}
