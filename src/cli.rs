//! The command line. trackit's own options work anywhere for the subcommands that pass nothing
//! through, and between `sbatch`/`run` and the script; after the script, the arguments belong to
//! sbatch or to the job, exactly as the user typed them (see [`placement`]).

mod placement;

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
    after_help = "Examples:\n  trackit sbatch --policy sherlock job.sh\n  trackit run --dry-run python train.py --lr 3e-4\n  trackit diagnose slurm-123.out --state OUT_OF_MEMORY --exit-code 0:125\n\nExit status: 0 success, 1 the job failed, 2 usage error, 3 trackit could not do its job, 130 interrupted (see `trackit man`)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

/// trackit's own options. They work before the subcommand, after it (`trackit diagnose
/// job.log --json`), and between `sbatch`/`run` and the script.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Global options")]
pub struct GlobalOpts {
    /// Policy: a built-in name (sherlock, generic-slurm, local, default) or a file (default:
    /// .trackit/policy.lua at the repository root, else `policy` in ~/.config/trackit/config.toml,
    /// else the built-in default)
    #[arg(long, global = true, value_name = "NAME|FILE", env = "TRACKIT_POLICY")]
    pub policy: Option<PathBuf>,
    /// Experiment name (default: from the script or command name)
    #[arg(long, global = true, value_name = "NAME")]
    pub experiment: Option<String>,
    /// Attempts before giving up (default: the policy's, 3)
    #[arg(long, global = true, value_name = "N")]
    pub max_attempts: Option<u32>,
    /// Machine-readable output: one JSON object (or one JSON event per line while tracking)
    #[arg(long, global = true)]
    pub json: bool,
    /// More detail (-v, -vv); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Less output: errors only
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Go on in the background and print the track id
    #[arg(long, global = true)]
    pub detach: bool,
    /// Show what would be submitted, or the diagnosis and the edits a relaunch would make;
    /// submit nothing
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// No pull request: commit the results on the results branch locally only
    #[arg(long, global = true)]
    pub no_pr: bool,
    /// No git at all: the report stays in .trackit/tracks/<id>/report.md
    #[arg(long, global = true)]
    pub no_git: bool,
    /// The experiment doc to fill (default: the policy's find_doc, else docs/**/<experiment>*.md)
    #[arg(long, global = true, value_name = "PATH")]
    pub doc: Option<PathBuf>,
    /// Where the result files are: a file, folder or glob (default: the policy's, else files the
    /// job wrote in its working directory)
    #[arg(long, global = true, value_name = "PATH")]
    pub results: Option<String>,
    /// A metric to report (repeatable; default: the policy's, else what the results hold)
    #[arg(long = "metric", global = true, value_name = "NAME")]
    pub metric: Vec<String>,
    /// Run on this cluster over ssh: every scheduler command, log read and results read happens
    /// on HOST (an alias from ~/.ssh/config works). Default: the policy's remote_host
    #[arg(long, value_name = "HOST", env = "TRACKIT_HOST")]
    pub host: Option<String>,
    /// The repository's checkout on HOST (default: the policy's remote_dir, else the same path
    /// relative to the home directory)
    #[arg(long, value_name = "DIR", requires = "host")]
    pub remote_dir: Option<String>,
    /// Compare with this run: a git ref whose experiment doc has trackit's results, or #N (a
    /// pull request) (default: the previous results PR of the experiment)
    #[arg(long, value_name = "REF")]
    pub baseline: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Submit with sbatch and track the job
    ///
    /// trackit sbatch [TRACKIT OPTIONS] [SBATCH OPTIONS] SCRIPT [ARGS]
    ///
    /// trackit's options may come before the script, mixed with sbatch's, except -v, -q,
    /// --verbose and --quiet, which sbatch has too (-q is sbatch's --qos). After the script, a
    /// trackit option is refused with the corrected command: give it before the script, or, if
    /// the script takes it itself, put `--` before the script: everything after `--` goes to
    /// sbatch and the script as typed.
    #[command(trailing_var_arg = true)]
    Sbatch {
        /// sbatch options, the script and its arguments, exactly as you would type them
        #[arg(required = true, allow_hyphen_values = true, num_args = 1.., value_name = "SBATCH_ARGS")]
        args: Vec<String>,
    },
    /// Launch a job where a person on the cluster would: the policy's dispatch workflow, else
    /// sbatch here, else sbatch over ssh (--host), else this machine; a command that is not a
    /// batch script runs here
    #[command(trailing_var_arg = true)]
    Launch {
        /// The batch script (or command) and its arguments; sbatch options may come first
        #[arg(required = true, allow_hyphen_values = true, num_args = 1.., value_name = "ARGS")]
        args: Vec<String>,
    },
    /// Run a command locally and track it
    ///
    /// trackit run [TRACKIT OPTIONS] CMD [ARGS]
    ///
    /// After the command, a trackit option is refused with the corrected command: give it
    /// before the command, or, if the command takes it itself, put `--` before the command:
    /// everything after `--` is the command as typed.
    #[command(trailing_var_arg = true)]
    Run {
        /// The command and its arguments
        #[arg(required = true, allow_hyphen_values = true, num_args = 1.., value_name = "CMD")]
        command: Vec<String>,
    },
    /// Run a pipeline (or a sweep) as one track: FILE.lua returns { steps = { { name =,
    /// sbatch = {...} | run = {...}, after = {...}, results =, metrics = }, ... } }
    Pipeline {
        /// The pipeline file (Lua: a loop makes a sweep)
        file: PathBuf,
    },
    /// Adopt a job that is already running: a SLURM job id, or pid:N
    Attach {
        /// 4812331 or pid:12345
        target: String,
    },
    /// Show active tracks (from every repository), or one track in detail
    Status {
        /// Track id, unique prefix or experiment name
        track: Option<String>,
    },
    /// List all tracks, from every repository (the index in ~/.local/state/trackit)
    List,
    /// Print a track's logs: every log file of the current attempt (or of --attempt N)
    Logs {
        /// Track id, unique prefix or experiment name (default: the latest track, of this
        /// repository if it has any)
        track: Option<String>,
        /// The attempt whose logs to print (1 is the first; default: the latest)
        #[arg(long, value_name = "N")]
        attempt: Option<u32>,
        /// Keep printing new lines until the attempt ends
        #[arg(short, long)]
        follow: bool,
    },
    /// Continue watching tracks (after a crash, a reboot or --detach)
    Resume {
        #[arg(required = true)]
        tracks: Vec<String>,
        /// Take over a track whose lease names a tracker on another machine that is gone
        #[arg(long)]
        force: bool,
    },
    /// Cancel a track's job and end the track
    Cancel { track: String },
    /// Diagnose a failure from log files and the scheduler's state
    Diagnose(DiagnoseArgs),
    /// Check or test a policy
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Dispatch a GitHub Actions workflow (e.g. sherlock-dispatch.yml) with your inputs and
    /// track it like a job: its run, the SLURM job it submits, a diagnosis from the logs, the
    /// results from its artifacts. The inputs are checked against the workflow file first
    Dispatch {
        /// Workflow file name under .github/workflows/
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
    /// Show the user config (~/.config/trackit/config.toml), its values, and the track index
    Config,
}

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// The scheduler's state, e.g. FAILED, OUT_OF_MEMORY, TIMEOUT, CANCELLED, NODE_FAIL
    #[arg(long, value_name = "STATE")]
    pub state: Option<String>,
    /// The exit code: SLURM's N:S (0:125) or a plain integer (137)
    #[arg(long, value_name = "CODE", allow_hyphen_values = true)]
    pub exit_code: Option<String>,
    /// A scheduler reason (job or step), repeatable
    #[arg(long, value_name = "REASON")]
    pub reason: Vec<String>,
    /// Also show which rules matched (with their lines), which were vetoed and why, and how the
    /// verdict was chosen
    #[arg(long)]
    pub explain: bool,
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
    /// Load and validate a policy: exit 0, or print the file:line error and exit 1; warns
    /// about misspelled or unread settings
    Check {
        /// The policy file, or a built-in name
        file: PathBuf,
    },
    /// Run a policy (--policy, else the repository's or the built-in one) over a folder of
    /// example logs with their expected kinds
    Test {
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

/// Exit statuses, like gh's.
pub mod exit {
    /// Success: the job (or every job) succeeded, or the command did what was asked.
    pub const SUCCESS: u8 = 0;
    /// The job failed (after its attempts), or a check failed (`policy check`, `policy test`).
    pub const JOB_FAILED: u8 = 1;
    /// The command line was wrong: an unknown option, a bad value, a misplaced trackit option,
    /// an unknown policy name, a track id that matches nothing.
    pub const USAGE: u8 = 2;
    /// trackit could not do its job: a broken config or policy, unreadable input, an I/O error,
    /// the scheduler or GitHub unreachable for good.
    pub const TROUBLE: u8 = 3;
    /// Interrupted (Ctrl-C, SIGTERM): the jobs keep running; `trackit resume` goes on.
    pub const INTERRUPTED: u8 = 130;
}

/// A usage error (exit 2): the command line asked for something that cannot be. Commands
/// return it through `anyhow`; [`run`] maps it to the exit status.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// `Err(UsageError)` as an `anyhow` error, for `return Err(usage(...))`.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// The variables trackit reads, for the man page's ENVIRONMENT section (a test checks this
/// list against the source).
pub const ENVIRONMENT: &[(&str, &str)] = &[
    ("TRACKIT_POLICY", "The policy, as --policy takes it (a built-in name or a file); --policy wins."),
    ("XDG_CONFIG_HOME", "Where config.toml is: $XDG_CONFIG_HOME/trackit/ (default ~/.config/trackit/)."),
    ("XDG_STATE_HOME", "Where the track index is: $XDG_STATE_HOME/trackit/ (default ~/.local/state/trackit/)."),
    ("HOME", "The fallback for the two above, and for ~ in config.toml; the ssh keys in ~/.ssh."),
    ("GH_TOKEN, GITHUB_TOKEN", "The GitHub token, in this order; else `gh auth token`. Sent only to the GitHub host of the repository; never written anywhere."),
    ("GH_ENTERPRISE_TOKEN, GITHUB_ENTERPRISE_TOKEN", "The token for the GitHub Enterprise host named by GH_HOST, and only for it."),
    ("GH_REPO", "owner/name (or HOST/owner/name) of the GitHub repository when the origin remote does not say it (an ssh alias), as gh reads it."),
    ("GIT_SSH, GIT_SSH_COMMAND", "Your own ssh for git pushes; when set, trackit leaves ssh's options to it (no BatchMode of its own)."),
    ("TRACKIT_GIT_TOKEN, TRACKIT_GIT_PROTOCOL, TRACKIT_GIT_HOST", "Set by trackit on its own git push process only, for the credential helper that offers the token to the host it is bound to; never read from your environment."),
    ("SUDO_UID", "Under sudo, the invoking user's id: a repository policy owned by them may be trusted (git's safe.directory does the same)."),
    ("GH_HOST", "A GitHub Enterprise host (else github.host in config.toml, else the origin remote's host)."),
    ("GITHUB_API_URL", "The GitHub REST API root (else github.api_url in config.toml, else derived from the host)."),
    ("GITHUB_REPOSITORY", "owner/name of the repository for pull requests and dispatch (else read from the origin remote)."),
    ("SSH_AUTH_SOCK", "The ssh agent used to push over ssh."),
    ("PATH", "Where sbatch, squeue, sacct, scontrol and scancel are looked for; `trackit launch` submits with sbatch when squeue is on it. A local job inherits it."),
    ("TRACKIT_HOST", "The cluster to reach over ssh, as --host takes it; --host wins."),
    ("TRACKIT_SSH_COMMAND", "The ssh command and its options (default `ssh`), e.g. `ssh -F ~/.ssh/cluster_config`; trackit adds its multiplexing options after them."),
    ("XDG_RUNTIME_DIR", "Where the private folder of ssh control sockets is made (trackit-ssh, mode 0700); else /tmp/trackit-ssh-<uid>."),
    ("RUST_LOG", "Log filter (tracing env-filter syntax); overrides -v and -q."),
    ("NO_COLOR", "Any value turns colour off."),
    ("(any)", "A policy may read variables through trackit.env(NAME), except ones that look secret (TOKEN, SECRET, PASSWORD, CREDENTIAL, PRIVATE, API_KEY in the name)."),
];

/// The files trackit reads and writes, for the man page's FILES section.
pub const FILES: &[(&str, &str)] = &[
    ("~/.config/trackit/config.toml", "The user config ($XDG_CONFIG_HOME/trackit/config.toml): the default policy (policy = \"sherlock\"), the cluster ([cluster] host, remote_dir) and GitHub settings ([github] host, api_url, pr). Never a token. `trackit config` shows it."),
    ("~/.local/state/trackit/index.json", "The track index ($XDG_STATE_HOME/trackit/index.json): every track's id and the folder that holds it, so list, status, logs, resume and cancel work from any directory. Written atomically under index.lock."),
    ("<repo>/.trackit/tracks/<id>/", "A track's state: state.json (written atomically), events.jsonl, the edited job scripts, a local job's output, tracker.log. Listed in .git/info/exclude."),
    ("<repo>/.trackit/policy.lua", "The repository's policy (loaded when no --policy is given)."),
    ("<repo>/.trackit/dispatch/<run>/", "The failed jobs' logs of a dispatched workflow run, downloaded for the diagnosis."),
    ("$XDG_RUNTIME_DIR/trackit-ssh/", "The ssh control sockets of the multiplexed connections to clusters (mode 0700; else /tmp/trackit-ssh-<uid>)."),
];

/// The man page: clap's sections, then EXIT STATUS, ENVIRONMENT and FILES.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    use clap::CommandFactory;
    let man = clap_mangen::Man::new(Cli::command());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    man.render_subcommands_section(&mut out)?;
    let esc = |t: &str| t.replace('\\', "\\\\").replace('-', "\\-");
    let mut extra = String::from(".SH \"EXIT STATUS\"\n");
    for (code, what) in [
        (exit::SUCCESS, "Success: the job succeeded (every job, when several are watched), or the command did what was asked."),
        (exit::JOB_FAILED, "The job failed after its attempts (the failure report says why), a dispatched run failed, or a check failed (policy check, policy test)."),
        (exit::USAGE, "Usage error: an unknown option or bad value, a trackit option after the script (the message shows the corrected command), an unknown policy name, a track that matches nothing."),
        (exit::TROUBLE, "trackit could not do its job: a broken config file or policy, an unreadable log or script, an I/O error, the scheduler or GitHub unreachable for good."),
        (exit::INTERRUPTED, "Interrupted (Ctrl-C or SIGTERM) while watching: the jobs keep running; continue with trackit resume."),
    ] {
        extra.push_str(&format!(".TP\n.B {code}\n{}\n", esc(what)));
    }
    extra.push_str(".SH ENVIRONMENT\n");
    for (name, what) in ENVIRONMENT {
        extra.push_str(&format!(".TP\n.B {}\n{}\n", esc(name), esc(what)));
    }
    extra.push_str(".SH FILES\n");
    for (path, what) in FILES {
        extra.push_str(&format!(".TP\n.I {}\n{}\n", esc(path), esc(what)));
    }
    out.extend_from_slice(extra.as_bytes());
    man.render_version_section(&mut out)?;
    Ok(out)
}

/// Parses the command line, runs the command and maps the outcome to an exit status (see
/// [`exit`]).
pub fn run() -> ExitCode {
    use clap::CommandFactory;
    let argv: Vec<String> = match std::env::args_os()
        .map(|a| a.into_string())
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(v) => v,
        Err(bad) => {
            eprintln!("trackit: error: an argument is not valid UTF-8: {bad:?}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let argv = match placement::place(&argv, &placement::Globals::from_command(&Cli::command())) {
        Ok(a) => a,
        Err(m) => {
            eprintln!("trackit: error: {m}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) => {
            let code = e.exit_code();
            if e.use_stderr() {
                // One prefix, like every other error.
                let text = e.render().to_string();
                let text = text.strip_prefix("error: ").unwrap_or(&text);
                eprint!("trackit: error: {text}");
            } else {
                let _ = e.print();
            }
            return ExitCode::from(code as u8);
        }
    };
    if cli.command.is_a_filter() {
        restore_sigpipe();
    }
    init_tracing(&cli.global);
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("trackit: error: {}", error_text(&e));
            ExitCode::from(if e.downcast_ref::<UsageError>().is_some() {
                exit::USAGE
            } else {
                exit::TROUBLE
            })
        }
    }
}

/// An error and its causes on one line, each cause once: a context that already quotes its
/// cause (`cannot read x: No such file`) does not repeat it.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        let text = text.trim();
        if text.is_empty() || parts.iter().any(|p| p.contains(text)) {
            continue;
        }
        parts.push(text.to_string());
    }
    parts.join(": ")
}

impl Command {
    /// Commands that print and end, like any Unix filter: when the reader goes away
    /// (`trackit completions zsh | head -1`), they end quietly instead of panicking on a
    /// broken pipe. The watching commands keep Rust's default (they must not die silently).
    fn is_a_filter(&self) -> bool {
        matches!(
            self,
            Command::Completions { .. }
                | Command::Man
                | Command::List
                | Command::Status { .. }
                | Command::Logs { .. }
                | Command::Diagnose(_)
                | Command::Policy(_)
                | Command::Config
        )
    }
}

/// Default SIGPIPE: a write to a closed pipe ends the process quietly, as `cat` does.
fn restore_sigpipe() {
    // SAFETY: setting a signal's disposition to the default before any thread writes.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Logs go to stderr; stdout stays for results. Colour only on a terminal and without NO_COLOR.
fn init_tracing(opts: &GlobalOpts) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{EnvFilter, Layer};
    let default = match (opts.quiet, opts.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info,trackit=debug",
        _ => "debug,trackit=trace",
    };
    let plain = opts.verbose == 0 && std::env::var_os("RUST_LOG").is_none();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let terminal = std::io::stderr().is_terminal();
    let ansi = terminal && std::env::var_os("NO_COLOR").is_none();
    // On a terminal the live status lines are indicatif bars (tracing-indicatif); log lines
    // go through the same writer, so they print above the bars instead of through them.
    let live = terminal && !opts.json && !opts.quiet;
    let indicatif = live.then(|| {
        tracing_indicatif::IndicatifLayer::new()
            .with_span_field_formatter(tracing_indicatif::filter::hide_indicatif_span_fields(
                tracing_subscriber::fmt::format::DefaultFields::new(),
            ))
            .with_progress_style(
                indicatif::ProgressStyle::with_template("{spinner} {wide_msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            )
    });
    type Boxed = Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>;
    let fmt: Boxed = match (&indicatif, plain) {
        (Some(l), true) => tracing_subscriber::fmt::layer()
            .with_writer(l.get_stderr_writer())
            .with_ansi(ansi)
            .event_format(PlainFormat)
            .with_filter(filter)
            .boxed(),
        (Some(l), false) => tracing_subscriber::fmt::layer()
            .with_writer(l.get_stderr_writer())
            .with_ansi(ansi)
            .with_filter(filter)
            .boxed(),
        // Warnings read like errors (`trackit: warning: ...`); -v and RUST_LOG add times and
        // module paths for debugging.
        (None, true) => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(ansi)
            .event_format(PlainFormat)
            .with_filter(filter)
            .boxed(),
        (None, false) => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(ansi)
            .with_filter(filter)
            .boxed(),
    };
    let mut layers: Vec<Boxed> = vec![fmt];
    if let Some(l) = indicatif {
        layers.push(
            l.with_filter(tracing_indicatif::filter::IndicatifFilter::new(false))
                .boxed(),
        );
    }
    let _ = tracing_subscriber::registry().with(layers).try_init();
}

/// `trackit: warning: message key=value`, the shape of trackit's error lines.
struct PlainFormat;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for PlainFormat
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => "error",
            tracing::Level::WARN => "warning",
            tracing::Level::INFO => "info",
            tracing::Level::DEBUG => "debug",
            tracing::Level::TRACE => "trace",
        };
        write!(writer, "trackit: {level}: ")?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
