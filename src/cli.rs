//! The command line. trackit's own options go before the subcommand; everything after `sbatch`
//! or `run` belongs to sbatch or to the command, exactly as the user typed it.

use crate::commands;
use clap::{Args, Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "trackit",
    version,
    about = "Launch or adopt long jobs, open a results PR, diagnose and fix failures, report results",
    after_help = "Examples:\n  trackit --policy policies/sherlock.lua sbatch job.sh\n  trackit run python train.py --lr 3e-4\n  trackit diagnose --state OUT_OF_MEMORY --exit-code 0:125 slurm-123.out"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by the tracking commands. They go before the subcommand.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalOpts {
    /// Policy file (default: .trackit/policy.lua at the repository root, else the built-in one)
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Experiment name (default: from the script or command name)
    #[arg(long, value_name = "NAME")]
    pub experiment: Option<String>,
    /// Attempts before giving up (default: the policy's, 3)
    #[arg(long, value_name = "N")]
    pub max_attempts: Option<u32>,
    /// Machine-readable output: one JSON object (or one JSON event per line while tracking)
    #[arg(long)]
    pub json: bool,
    /// More detail (-v, -vv); RUST_LOG overrides
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Less output: errors only
    #[arg(short, long)]
    pub quiet: bool,
    /// Go on in the background and print the track id
    #[arg(long)]
    pub detach: bool,
    /// Show what would be submitted, or the diagnosis and the edits a relaunch would make;
    /// submit nothing
    #[arg(long)]
    pub dry_run: bool,
    /// No pull request: commit the results on the results branch locally only
    #[arg(long)]
    pub no_pr: bool,
    /// No git at all: the report stays in .trackit/tracks/<id>/report.md
    #[arg(long)]
    pub no_git: bool,
    /// The experiment doc to fill (default: the policy's find_doc, else docs/**/<experiment>*.md)
    #[arg(long, value_name = "PATH")]
    pub doc: Option<PathBuf>,
    /// Where the result files are: a file, folder or glob (default: the policy's, else files the
    /// job wrote in its working directory)
    #[arg(long, value_name = "PATH")]
    pub results: Option<String>,
    /// A metric to report (repeatable; default: the policy's, else what the results hold)
    #[arg(long = "metric", value_name = "NAME")]
    pub metric: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Submit with sbatch and track the job; everything after `sbatch` goes to sbatch
    #[command(trailing_var_arg = true)]
    Sbatch {
        /// sbatch options, the script and its arguments, exactly as you would type them
        #[arg(required = true, allow_hyphen_values = true, num_args = 1.., value_name = "SBATCH_ARGS")]
        args: Vec<String>,
    },
    /// Run a command locally and track it; everything after `run` is the command
    #[command(trailing_var_arg = true)]
    Run {
        /// The command and its arguments
        #[arg(required = true, allow_hyphen_values = true, num_args = 1.., value_name = "CMD")]
        command: Vec<String>,
    },
    /// Adopt a job that is already running: a SLURM job id, or pid:N
    Attach {
        /// 4812331 or pid:12345
        target: String,
    },
    /// Show active tracks, or one track in detail
    Status {
        /// Track id, unique prefix or experiment name
        track: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List all tracks
    List {
        #[arg(long)]
        json: bool,
    },
    /// Print the current attempt's log
    Logs {
        track: String,
        /// Keep printing new lines until the attempt ends
        #[arg(short, long)]
        follow: bool,
    },
    /// Continue watching tracks (after a crash, a reboot or --detach)
    Resume {
        #[arg(required = true)]
        tracks: Vec<String>,
    },
    /// Cancel a track's job and end the track
    Cancel { track: String },
    /// Diagnose a failure from log files and the scheduler's state
    Diagnose(DiagnoseArgs),
    /// Check or test a policy
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Dispatch a GitHub Actions workflow (e.g. sherlock-dispatch.yml), watch its run, and
    /// diagnose a failure from the failed jobs' logs
    Dispatch {
        /// Workflow file name or id
        workflow: String,
        /// A workflow input, KEY=VALUE (repeatable)
        #[arg(short = 'f', long = "field", value_name = "KEY=VALUE")]
        fields: Vec<String>,
        /// Branch or tag to run on (default: the current branch)
        #[arg(long = "ref", value_name = "REF")]
        git_ref: Option<String>,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff): trackit man > ~/.local/share/man/man1/trackit.1
    Man,
    /// Set this repository up for trackit: starter policy, editor types, experiment template (never overwrites)
    Init(crate::commands::init::InitArgs),
}

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// Policy file (overrides the global --policy)
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The scheduler's state, e.g. FAILED, OUT_OF_MEMORY, TIMEOUT, CANCELLED, NODE_FAIL
    #[arg(long, value_name = "STATE")]
    pub state: Option<String>,
    /// The exit code: SLURM's N:S (0:125) or a plain integer (137)
    #[arg(long, value_name = "CODE", allow_hyphen_values = true)]
    pub exit_code: Option<String>,
    /// A scheduler reason (job or step), repeatable
    #[arg(long, value_name = "REASON")]
    pub reason: Vec<String>,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
    /// Also show the edits the policy's fixer would make to this batch script for these logs
    /// (nothing is written or submitted)
    #[arg(long, value_name = "SCRIPT")]
    pub fix: Option<PathBuf>,
    /// Log files to read (only a tail window of each)
    #[arg(required = true, value_name = "LOG")]
    pub logs: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Load and validate a policy: exit 0, or print the file:line error and exit 1
    Check {
        /// The policy file
        file: PathBuf,
    },
    /// Run a policy over a folder of example logs with their expected kinds
    Test {
        /// Policy file (default: the repository's or the built-in one)
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// Print one JSON object
        #[arg(long)]
        json: bool,
        /// Folder of cases: *.log files named `<anything>-<kind>.log`, or listed in
        /// cases.json / labels.json ({file, kind or label, state, exit_code, accept})
        cases: PathBuf,
    },
    /// Trust a repository's policy (after reviewing it): a cloned .trackit/policy.lua runs only
    /// once trusted, and again only after you trust its changes
    Trust {
        /// The policy file (default: .trackit/policy.lua at the repository root)
        file: Option<PathBuf>,
    },
}

/// The CLI reference in markdown, generated from the clap definitions (docs/cli.md).
pub fn markdown_reference() -> String {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let mut out = String::from("# trackit command-line reference\n\nGenerated from the clap definitions (`tests/cli_docs.rs` fails when this file is stale;\nregenerate with `TRACKIT_UPDATE_DOCS=1 cargo test --test tests cli_docs`).\n\n");
    out.push_str("## trackit\n\n```\n");
    out.push_str(&cmd.render_long_help().to_string());
    out.push_str("```\n");
    fn walk(cmd: &mut clap::Command, path: &str, out: &mut String) {
        for sub in cmd.get_subcommands_mut() {
            if sub.get_name() == "help" {
                continue;
            }
            let name = format!("{path} {}", sub.get_name());
            out.push_str(&format!("\n## {name}\n\n```\n"));
            out.push_str(&sub.render_long_help().to_string());
            out.push_str("```\n");
            walk(sub, &name, out);
        }
    }
    walk(&mut cmd, "trackit", &mut out);
    out
}

/// Parses the command line, runs the command and maps the outcome to an exit code:
/// 0 success, 1 failure (job failed, unreadable input, broken policy), 2 usage error.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    init_tracing(&cli.global);
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("trackit: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Logs go to stderr; stdout stays for results. Colour only on a terminal and without NO_COLOR.
fn init_tracing(opts: &GlobalOpts) {
    use tracing_subscriber::EnvFilter;
    let default = match (opts.quiet, opts.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info,trackit=debug",
        _ => "debug,trackit=trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}
