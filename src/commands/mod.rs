//! One file per subcommand. Each returns the process exit code or an error (exit 1).

mod diagnose;
mod dispatch;
pub(crate) mod init;
mod policy;
pub mod track;

use crate::cli::{Cli, Command, PolicyCommand};
use anyhow::Result;
use std::process::ExitCode;

pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    let global = cli.global;
    match cli.command {
        Command::Diagnose(args) => diagnose::run(&global, args),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut cmd = crate::cli::Cli::command();
            clap_complete::generate(shell, &mut cmd, "trackit", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Dispatch {
            workflow,
            fields,
            git_ref,
        } => dispatch::run(&global, &workflow, &fields, git_ref.as_deref()),
        Command::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(crate::cli::Cli::command()).render(&mut std::io::stdout())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sbatch { args } => track::sbatch(&global, args, global.detach),
        Command::Run { command } => track::run(&global, command, global.detach),
        Command::Attach { target } => track::attach(&global, &target, global.detach),
        Command::Status { track: t, json } => track::status(&global, t.as_deref(), json),
        Command::List { json } => track::list(&global, json),
        Command::Logs { track: t, follow } => track::logs(&t, follow),
        Command::Resume { tracks } => track::resume(&global, &tracks),
        Command::Cancel { track: t } => track::cancel(&t),
        Command::Init(args) => init::run(&global, args),
        Command::Policy(PolicyCommand::Check { file }) => policy::check(&file),
        Command::Policy(PolicyCommand::Trust { file }) => policy::trust(file.as_deref()),
        Command::Policy(PolicyCommand::Test {
            policy,
            json,
            cases,
        }) => policy::test(
            policy.as_deref().or(global.policy.as_deref()),
            &cases,
            json || global.json,
        ),
    }
}

/// Loads the policy the user asked for (or the repository's, or the built-in one).
pub(crate) fn load_policy(explicit: Option<&std::path::Path>) -> Result<crate::lua::Host> {
    let cwd = std::env::current_dir()?;
    let source = crate::lua::resolve(explicit, &cwd);
    Ok(crate::lua::Host::load(&source)?)
}
