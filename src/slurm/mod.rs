//! The SLURM backend: submit, poll, cancel and inspect jobs by running SLURM's own client
//! commands (`sbatch`, `squeue`, `sacct`, `scontrol`, `scancel`) on tokio, each call with a
//! timeout and `kill_on_drop`.
//!
//! Cluster politeness: [`Slurm::poll`] asks about all tracked jobs with **one** `squeue` call,
//! and calls `sacct` (once) only for jobs squeue no longer knows. Every call is counted
//! ([`Slurm::calls`]) so tests and benchmarks can check that.
//!
//! An unreachable controller or database is a [`SlurmError::Transient`], never a job state:
//! the caller backs off ([`Backoff`]) and asks again.

mod backoff;
pub mod exit_wrapper;
mod parse;
pub mod sbatch_options;

pub use backoff::{retry_transient, Backoff};
pub use parse::{
    expand_array_id, expand_output_pattern, first_node, format_slurm_time, parse_sacct,
    parse_sacct_with, parse_scontrol_job, parse_scontrol_line, parse_scontrol_partition,
    parse_slurm_time, parse_squeue, split_array_id, JobDetails, PartitionInfo, PatternContext,
    SacctRow, SqueueRow,
};

use crate::job::{JobInfo, JobState};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tracing::{debug, warn};

/// How much earlier than our own record SLURM's submit time may be before a row is taken
/// for an older job that had the same id (clock skew between us and the controller).
pub const SUBMIT_TIME_SLACK_S: i64 = crate::job::CLOCK_SKEW_S;

/// Is `program` an executable on this machine's PATH (e.g. is there a SLURM client here)?
pub fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|d| {
            std::fs::metadata(d.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// Default per-call timeout. SLURM's clients themselves retry for ~9-18 s when the controller
/// is down before they fail, so this must be well above 20 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum SlurmError {
    /// The controller, the database or the call itself failed in a way that says nothing about
    /// the job: back off and retry.
    #[error("transient SLURM error from {command}: {message}")]
    Transient { command: String, message: String },
    /// `sbatch` refused the job (`sbatch: error: ...`): a `submit_error` to diagnose.
    #[error("sbatch refused the job: {0}")]
    Refused(String),
    /// `sacct` says `Slurm accounting storage is disabled`.
    #[error("SLURM accounting storage is disabled on this cluster")]
    AccountingDisabled,
    #[error("{command} failed ({status}): {stderr}")]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("cannot run {command}: {source}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("unexpected output from {command}: {detail}")]
    Parse { command: String, detail: String },
}

impl SlurmError {
    pub fn is_transient(&self) -> bool {
        matches!(self, SlurmError::Transient { .. })
    }
}

/// Messages that mean "the infrastructure hiccuped", not "the job did something".
/// From SLURM 22.05 (controller down, slurmdbd down, munge down, overloaded controller).
const TRANSIENT_MARKERS: &[&str] = &[
    "unable to contact slurm controller",
    "socket timed out",
    "connection refused",
    "connection timed out",
    "connection reset",
    "problem talking to the database",
    "slurm_persist_conn_open",
    "zero bytes were transmitted or received",
    "communication connection failure",
    "transport endpoint is not connected",
    "no route to host",
    "temporary failure in name resolution",
    "resource temporarily unavailable",
    "slurm temporarily unable to accept job",
    "backup controller in standby mode",
    "munge",
];

/// True when stderr says the failure was the infrastructure's, not the job's.
pub fn is_transient_message(stderr: &str) -> bool {
    let lower = stderr.to_ascii_lowercase();
    TRANSIENT_MARKERS.iter().any(|m| lower.contains(m))
}

const INVALID_JOB_ID: &str = "Invalid job id specified";
const ACCOUNTING_DISABLED: &str = "accounting storage is disabled";

/// The SLURM client commands, by name (looked up in PATH) or by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlurmCommands {
    pub sbatch: PathBuf,
    pub squeue: PathBuf,
    pub sacct: PathBuf,
    pub scontrol: PathBuf,
    pub scancel: PathBuf,
}

impl Default for SlurmCommands {
    fn default() -> Self {
        SlurmCommands {
            sbatch: "sbatch".into(),
            squeue: "squeue".into(),
            sacct: "sacct".into(),
            scontrol: "scontrol".into(),
            scancel: "scancel".into(),
        }
    }
}

impl SlurmCommands {
    /// All five commands from one directory.
    pub fn in_dir(dir: &Path) -> Self {
        SlurmCommands {
            sbatch: dir.join("sbatch"),
            squeue: dir.join("squeue"),
            sacct: dir.join("sacct"),
            scontrol: dir.join("scontrol"),
            scancel: dir.join("scancel"),
        }
    }

    fn path(&self, cmd: SlurmCommand) -> &Path {
        match cmd {
            SlurmCommand::Sbatch => &self.sbatch,
            SlurmCommand::Squeue => &self.squeue,
            SlurmCommand::Sacct => &self.sacct,
            SlurmCommand::Scontrol => &self.scontrol,
            SlurmCommand::Scancel => &self.scancel,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlurmCommand {
    Sbatch,
    Squeue,
    Sacct,
    Scontrol,
    Scancel,
}

impl SlurmCommand {
    pub fn name(self) -> &'static str {
        match self {
            SlurmCommand::Sbatch => "sbatch",
            SlurmCommand::Squeue => "squeue",
            SlurmCommand::Sacct => "sacct",
            SlurmCommand::Scontrol => "scontrol",
            SlurmCommand::Scancel => "scancel",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// How many times each command was started (including calls that failed or timed out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CallCounts {
    pub sbatch: u64,
    pub squeue: u64,
    pub sacct: u64,
    pub scontrol: u64,
    pub scancel: u64,
}

impl CallCounts {
    pub fn total(&self) -> u64 {
        self.sbatch + self.squeue + self.sacct + self.scontrol + self.scancel
    }

    /// The calls made since `earlier` was taken.
    pub fn since(&self, earlier: &CallCounts) -> CallCounts {
        CallCounts {
            sbatch: self.sbatch - earlier.sbatch,
            squeue: self.squeue - earlier.squeue,
            sacct: self.sacct - earlier.sacct,
            scontrol: self.scontrol - earlier.scontrol,
            scancel: self.scancel - earlier.scancel,
        }
    }
}

/// A job we track, with what we know about it so an older job that reused its id is not
/// taken for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JobRef {
    /// `123`, or `123_4` for one array task. An array's id stands for all its tasks.
    pub id: String,
    /// Epoch seconds taken just before we submitted it: rows submitted (well) before that are
    /// another job with the same id.
    #[serde(default)]
    pub submitted_after: Option<i64>,
    /// The job name, if known: rows with another name are another job.
    #[serde(default)]
    pub name: Option<String>,
}

impl JobRef {
    pub fn new(id: impl Into<String>) -> Self {
        JobRef {
            id: id.into(),
            ..Default::default()
        }
    }

    pub fn submitted_after(mut self, epoch: i64) -> Self {
        self.submitted_after = Some(epoch);
        self
    }

    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Is this row (`id` as printed, `raw_id` = SLURM's own number) one of ours by id?
    fn matches_id(&self, id: &str, raw_id: &str) -> bool {
        self.id == id || self.id == raw_id || split_array_id(id).0 == self.id
    }

    /// Is a row with this id, submit time and name this job (and not an older one)?
    fn accepts(&self, submit_epoch: Option<i64>, name: Option<&str>) -> bool {
        if let (Some(after), Some(submit)) = (self.submitted_after, submit_epoch) {
            if submit + SUBMIT_TIME_SLACK_S < after {
                return false;
            }
        }
        if let (Some(want), Some(got)) = (self.name.as_deref(), name) {
            if want != got {
                return false;
            }
        }
        true
    }
}

/// What `sbatch --parsable` gave back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Submitted {
    pub job_id: String,
    pub cluster: Option<String>,
    /// Epoch seconds taken just before sbatch ran.
    pub submitted_at: i64,
}

impl Submitted {
    pub fn job_ref(&self) -> JobRef {
        JobRef::new(self.job_id.clone()).submitted_after(self.submitted_at)
    }
}

/// The answer to one poll.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Poll {
    /// One entry per job, and one per task of an array.
    pub jobs: Vec<JobInfo>,
    /// Tracked ids that neither squeue nor sacct (nor scontrol) knows — or only knows as an
    /// older job with the same id.
    pub missing: Vec<String>,
}

impl Poll {
    /// The entries that belong to `job` (the job itself or its array tasks).
    pub fn for_job<'a>(&'a self, job: &'a str) -> impl Iterator<Item = &'a JobInfo> + 'a {
        self.jobs
            .iter()
            .filter(move |j| j.id == job || split_array_id(&j.id).0 == job)
    }
}

/// `sacct` with steps for one job (or array task): the job line and its steps
/// (`batch`, `extern`, `0`, ...).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct JobAccounting {
    pub job: SacctRow,
    pub steps: Vec<SacctRow>,
}

impl JobAccounting {
    /// Peak RSS of the largest step (the job line has none).
    pub fn max_rss_bytes(&self) -> Option<u64> {
        self.steps.iter().filter_map(|s| s.max_rss_bytes).max()
    }

    /// The first step that SLURM marked OUT_OF_MEMORY.
    pub fn oom_step(&self) -> Option<&SacctRow> {
        self.steps
            .iter()
            .find(|s| s.state == Some(JobState::OutOfMemory))
    }

    pub fn step(&self, name: &str) -> Option<&SacctRow> {
        self.steps.iter().find(|s| s.step.as_deref() == Some(name))
    }

    /// True once slurmdbd has the final record: the job line and every step are terminal.
    /// Right after a job ends the job line can lag behind its steps (seen on 22.05: job line
    /// PENDING/RUNNING with ReqMem `16?` while `.batch` is already OUT_OF_MEMORY).
    pub fn is_final(&self) -> bool {
        let done = |r: &SacctRow| r.state.is_some_and(|s| s.is_terminal());
        done(&self.job) && self.steps.iter().all(done)
    }

    /// The job line with the peak RSS of its steps filled in.
    pub fn to_job_info(&self) -> JobInfo {
        let mut info = self.job.to_job_info();
        info.max_rss_bytes = self.max_rss_bytes().or(info.max_rss_bytes);
        info
    }
}

struct Output {
    success: bool,
    status: String,
    stdout: String,
    stderr: String,
}

/// The SLURM client commands, on this machine or on a login node over ssh. Cheap to clone;
/// clones share the call counters.
#[derive(Debug, Clone)]
pub struct Slurm {
    commands: SlurmCommands,
    timeout: Duration,
    env: Vec<(String, String)>,
    counters: Arc<[AtomicU64; 5]>,
    /// Where the commands run: None here, else on this host over ssh.
    remote: Option<crate::ssh::SshHost>,
}

impl Default for Slurm {
    fn default() -> Self {
        Slurm::new(SlurmCommands::default())
    }
}

impl Slurm {
    pub fn new(commands: SlurmCommands) -> Self {
        Slurm {
            commands,
            timeout: DEFAULT_TIMEOUT,
            env: Vec::new(),
            counters: Arc::new(Default::default()),
            remote: None,
        }
    }

    /// The same commands on a login node, over the user's ssh.
    pub fn over_ssh(host: crate::ssh::SshHost) -> Self {
        let mut slurm = Slurm::new(SlurmCommands::default());
        slurm.remote = Some(host.with_timeout(DEFAULT_TIMEOUT));
        slurm
    }

    /// The ssh host the commands run on, if not here.
    pub fn remote(&self) -> Option<&crate::ssh::SshHost> {
        self.remote.as_ref()
    }

    /// The timeout of every single command call; a call that exceeds it is killed and
    /// reported as transient.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// An environment variable for every command (e.g. `SLURM_CONF` for another cluster).
    pub fn with_env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn commands(&self) -> &SlurmCommands {
        &self.commands
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn calls(&self) -> CallCounts {
        let c = |cmd: SlurmCommand| self.counters[cmd.index()].load(Ordering::Relaxed);
        CallCounts {
            sbatch: c(SlurmCommand::Sbatch),
            squeue: c(SlurmCommand::Squeue),
            sacct: c(SlurmCommand::Sacct),
            scontrol: c(SlurmCommand::Scontrol),
            scancel: c(SlurmCommand::Scancel),
        }
    }

    async fn run(
        &self,
        cmd: SlurmCommand,
        args: &[String],
        cwd: Option<&Path>,
        env: &[(String, String)],
    ) -> Result<Output, SlurmError> {
        if let Some(host) = &self.remote {
            return self.run_remote(host, cmd, args, cwd, env).await;
        }
        let path = self.commands.path(cmd);
        let mut command = tokio::process::Command::new(path);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if cmd != SlurmCommand::Sbatch {
            // ISO timestamps whatever the user's SLURM_TIME_FORMAT says. Not for sbatch: the
            // job inherits sbatch's environment.
            command.env("SLURM_TIME_FORMAT", "standard");
        }
        for (k, v) in self.env.iter().chain(env) {
            command.env(k, v);
        }
        // sbatch exports its own environment to the job (--export=ALL): never a GitHub token.
        for k in crate::auth::TOKEN_VARS {
            command.env_remove(k);
        }
        if let Some(dir) = cwd {
            command.current_dir(dir);
        }
        self.counters[cmd.index()].fetch_add(1, Ordering::Relaxed);
        debug!(command = cmd.name(), ?args, "running SLURM command");
        let child = command.spawn().map_err(|source| SlurmError::Spawn {
            command: path.display().to_string(),
            source,
        })?;
        let out = match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
            Ok(Ok(out)) => out,
            Ok(Err(source)) => {
                return Err(SlurmError::Spawn {
                    command: path.display().to_string(),
                    source,
                })
            }
            Err(_) => {
                return Err(SlurmError::Transient {
                    command: cmd.name().to_string(),
                    message: format!("no answer within {:?} (killed)", self.timeout),
                })
            }
        };
        let output = Output {
            success: out.status.success(),
            status: out.status.to_string(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        };
        if !output.success && is_transient_message(&output.stderr) {
            return Err(SlurmError::Transient {
                command: cmd.name().to_string(),
                message: output.stderr,
            });
        }
        Ok(output)
    }

    /// One command on the login node: `cd DIR && env K=V... CMD ARGS...` in one ssh call over
    /// the shared connection. A dropped connection is transient, like an unreachable controller.
    async fn run_remote(
        &self,
        host: &crate::ssh::SshHost,
        cmd: SlurmCommand,
        args: &[String],
        cwd: Option<&Path>,
        env: &[(String, String)],
    ) -> Result<Output, SlurmError> {
        use crate::ssh::quote;
        let mut script = String::new();
        if let Some(dir) = cwd {
            script.push_str(&format!("cd {} && ", quote(&dir.to_string_lossy())));
        }
        let mut vars: Vec<(String, String)> = Vec::new();
        if cmd != SlurmCommand::Sbatch {
            vars.push(("SLURM_TIME_FORMAT".into(), "standard".into()));
        }
        vars.extend(self.env.iter().chain(env).cloned());
        if !vars.is_empty() {
            script.push_str("env ");
            for (k, v) in &vars {
                script.push_str(&quote(&format!("{k}={v}")));
                script.push(' ');
            }
        }
        script.push_str(cmd.name());
        for a in args {
            script.push(' ');
            script.push_str(&quote(a));
        }
        self.counters[cmd.index()].fetch_add(1, Ordering::Relaxed);
        debug!(
            command = cmd.name(),
            host = host.host(),
            ?args,
            "running SLURM command over ssh"
        );
        let out = host
            .run(&script, None)
            .await
            .map_err(|e| SlurmError::Transient {
                command: cmd.name().to_string(),
                message: e.to_string(),
            })?;
        let output = Output {
            success: out.success(),
            status: match out.code {
                Some(c) => format!("exit status: {c}"),
                None => "killed by a signal".into(),
            },
            stdout: out.stdout_text(),
            stderr: out.stderr.clone(),
        };
        if out.code == Some(127) {
            return Err(SlurmError::Spawn {
                command: format!("{} on {}", cmd.name(), host.host()),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, out.stderr),
            });
        }
        if !output.success && is_transient_message(&output.stderr) {
            return Err(SlurmError::Transient {
                command: cmd.name().to_string(),
                message: output.stderr,
            });
        }
        Ok(output)
    }

    fn failed(cmd: SlurmCommand, out: &Output) -> SlurmError {
        SlurmError::Failed {
            command: cmd.name().to_string(),
            status: out.status.clone(),
            stderr: out.stderr.clone(),
        }
    }

    /// Submits with `sbatch --parsable ARGS...`; `sbatch_args` are passed exactly as the user
    /// typed them after `trackit sbatch` (options, script, script arguments), so
    /// `--dependency=afterok:ID` and `--array=0-3` work as they do by hand.
    pub async fn submit(
        &self,
        sbatch_args: &[String],
        cwd: &Path,
        env: &[(String, String)],
    ) -> Result<Submitted, SlurmError> {
        let submitted_at = chrono::Utc::now().timestamp();
        let mut args = vec!["--parsable".to_string()];
        args.extend(sbatch_args.iter().cloned());
        let out = self
            .run(SlurmCommand::Sbatch, &args, Some(cwd), env)
            .await?;
        if !out.success {
            let msg = if out.stderr.is_empty() {
                format!("sbatch exited with {}", out.status)
            } else {
                out.stderr
            };
            return Err(SlurmError::Refused(msg));
        }
        if !out.stderr.is_empty() {
            warn!(stderr = %out.stderr, "sbatch accepted the job with messages");
        }
        let (job_id, cluster) =
            parse::parse_sbatch_parsable(&out.stdout).ok_or_else(|| SlurmError::Parse {
                command: "sbatch".into(),
                detail: format!("no job id in {:?}", out.stdout),
            })?;
        Ok(Submitted {
            job_id,
            cluster,
            submitted_at,
        })
    }

    /// The state of every tracked job: one `squeue` call for all of them, then one `sacct`
    /// call for those squeue no longer knows (or `scontrol show job` each, when accounting is
    /// disabled). Arrays are reported per task. Rows of an older job with the same id are
    /// ignored. Any transient failure fails the whole poll: a partial answer must not make a
    /// job look gone.
    pub async fn poll(&self, jobs: &[JobRef]) -> Result<Poll, SlurmError> {
        let mut result = Poll::default();
        if jobs.is_empty() {
            return Ok(result);
        }
        let ids = join_ids(jobs.iter().map(|j| j.id.as_str()));
        let args = strings(&[
            "--noheader",
            "--states=all",
            "--array",
            "--jobs",
            &ids,
            "--Format",
            &parse::squeue_format(),
        ]);
        let out = self.run(SlurmCommand::Squeue, &args, None, &[]).await?;
        let rows = if out.success {
            let (rows, bad) = parse_squeue(&out.stdout);
            for line in bad {
                warn!(%line, "squeue line with an unexpected shape, ignored");
            }
            rows
        } else if out.stderr.contains(INVALID_JOB_ID) {
            Vec::new() // none of the ids is known to the controller any more
        } else {
            return Err(Self::failed(SlurmCommand::Squeue, &out));
        };
        let mut known = vec![false; jobs.len()];
        for row in rows {
            let mut taken = false;
            for (i, job) in jobs.iter().enumerate() {
                if job.matches_id(&row.info.id, &row.raw_id)
                    && job.accepts(row.submit_epoch, row.info.name.as_deref())
                {
                    known[i] = true;
                    taken = true;
                }
            }
            if taken {
                result.jobs.push(row.info);
            }
        }
        let gone: Vec<&JobRef> = jobs
            .iter()
            .zip(&known)
            .filter(|(_, k)| !**k)
            .map(|(j, _)| j)
            .collect();
        if gone.is_empty() {
            return Ok(result);
        }
        match self.sacct_rows(&gone, true).await {
            Ok(rows) => {
                let mut found = vec![false; gone.len()];
                for row in rows.into_iter().filter(|r| r.step.is_none()) {
                    let mut taken = false;
                    for (i, job) in gone.iter().enumerate() {
                        if job.matches_id(&row.job_id, &row.raw_id)
                            && job.accepts(row.submit_epoch, row.name.as_deref())
                        {
                            found[i] = true;
                            taken = true;
                        }
                    }
                    if taken {
                        result.jobs.push(row.to_job_info());
                    }
                }
                for (job, f) in gone.iter().zip(found) {
                    if !f {
                        result.missing.push(job.id.clone());
                    }
                }
            }
            Err(SlurmError::AccountingDisabled) => {
                for job in gone {
                    let details = self.job_details(&job.id).await?;
                    let mut any = false;
                    for d in details {
                        if job.accepts(d.submit_epoch(), d.name.as_deref()) {
                            result.jobs.push(d.to_job_info());
                            any = true;
                        }
                    }
                    if !any {
                        result.missing.push(job.id.clone());
                    }
                }
            }
            Err(e) => return Err(e),
        }
        Ok(result)
    }

    async fn sacct_rows(
        &self,
        jobs: &[&JobRef],
        allocations_only: bool,
    ) -> Result<Vec<SacctRow>, SlurmError> {
        let ids = join_ids(jobs.iter().map(|j| j.id.as_str()));
        let mut args = strings(&["--parsable2", "--noheader", "--jobs", &ids]);
        if allocations_only {
            args.push("--allocations".into());
        }
        args.push(format!("--format={}", parse::sacct_format()));
        // With --jobs, sacct's default start is the epoch, which also finds older jobs with the
        // same id; start from the earliest submit time we recorded.
        let after: Option<Vec<i64>> = jobs.iter().map(|j| j.submitted_after).collect();
        if let Some(earliest) = after.and_then(|a| a.into_iter().min()) {
            args.push(format!(
                "--starttime={}",
                format_slurm_time(earliest - SUBMIT_TIME_SLACK_S)
            ));
        }
        let out = self.run(SlurmCommand::Sacct, &args, None, &[]).await?;
        if out.stderr.contains(ACCOUNTING_DISABLED) {
            return Err(SlurmError::AccountingDisabled);
        }
        if !out.success {
            return Err(Self::failed(SlurmCommand::Sacct, &out));
        }
        let (rows, bad) = parse_sacct(&out.stdout);
        for line in bad {
            warn!(%line, "sacct line with an unexpected shape, ignored");
        }
        Ok(rows)
    }

    /// `sacct` with steps (not `-X`) for the efficiency report and the diagnosis: per step
    /// MaxRSS, State, ExitCode (an OOM kill is step state OUT_OF_MEMORY with `0:125`).
    /// One entry per job or array task, in sacct's order.
    pub async fn accounting(&self, jobs: &[JobRef]) -> Result<Vec<JobAccounting>, SlurmError> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let refs: Vec<&JobRef> = jobs.iter().collect();
        let rows = self.sacct_rows(&refs, false).await?;
        let mut out: Vec<JobAccounting> = Vec::new();
        let mut rejected: HashSet<String> = HashSet::new();
        for row in rows {
            match row.step {
                None => {
                    let ours = jobs.iter().any(|j| {
                        j.matches_id(&row.job_id, &row.raw_id)
                            && j.accepts(row.submit_epoch, row.name.as_deref())
                    });
                    if ours {
                        out.push(JobAccounting {
                            job: row,
                            steps: Vec::new(),
                        });
                    } else {
                        rejected.insert(row.job_id);
                    }
                }
                Some(_) => {
                    if rejected.contains(&row.job_id) {
                        continue;
                    }
                    // Steps follow their job line; attach to the latest job line with that id.
                    if let Some(acct) = out.iter_mut().rev().find(|a| a.job.job_id == row.job_id) {
                        acct.steps.push(row);
                    }
                }
            }
        }
        Ok(out)
    }

    /// A job of ours that carries `marker` in its comment or its command (the wrapper path is
    /// unique per attempt), submitted at or after `since` (epoch s, minus the clock-skew window):
    /// squeue first, then sacct for jobs the controller has forgotten. Used before retrying a
    /// submission whose reply was lost, and after a crash mid-submission: never submit twice.
    /// `Ok(None)` means the scheduler answered and no such job exists.
    pub async fn find_marked(
        &self,
        markers: &[String],
        since: i64,
    ) -> Result<Option<String>, SlurmError> {
        let markers: Vec<&String> = markers.iter().filter(|m| !m.is_empty()).collect();
        if markers.is_empty() {
            return Ok(None);
        }
        let hit = |fields: &[&str]| {
            fields
                .iter()
                .any(|f| markers.iter().any(|m| f.contains(m.as_str())))
        };
        let args = strings(&[
            "--noheader",
            "--me",
            "--states=all",
            "--Format",
            "JobID:|,SubmitTime:|,Comment:|,Command:|",
        ]);
        let out = self.run(SlurmCommand::Squeue, &args, None, &[]).await?;
        if !out.success {
            return Err(Self::failed(SlurmCommand::Squeue, &out));
        }
        let mut found: Vec<String> = Vec::new();
        for line in out.stdout.lines() {
            let f: Vec<&str> = line.split('|').collect();
            if f.len() < 4 {
                continue;
            }
            let recent = parse_slurm_time(f[1]).is_none_or(|t| t + SUBMIT_TIME_SLACK_S >= since);
            if recent && hit(&f[2..]) {
                found.push(split_array_id(f[0].trim()).0.to_string());
            }
        }
        if found.is_empty() {
            let args = vec![
                "--noheader".to_string(),
                "--parsable2".into(),
                "--allocations".into(),
                format!(
                    "--starttime={}",
                    format_slurm_time(since - SUBMIT_TIME_SLACK_S)
                ),
                "--format=JobIDRaw,Comment,SubmitLine,WorkDir".into(),
            ];
            let out = self.run(SlurmCommand::Sacct, &args, None, &[]).await?;
            if out.stderr.contains(ACCOUNTING_DISABLED) {
                return Ok(None);
            }
            if !out.success {
                return Err(Self::failed(SlurmCommand::Sacct, &out));
            }
            for line in out.stdout.lines() {
                let f: Vec<&str> = line.split('|').collect();
                if f.len() >= 3 && hit(&f[1..]) {
                    found.push(split_array_id(f[0].trim()).0.to_string());
                }
            }
        }
        found.sort();
        found.dedup();
        Ok(found.pop())
    }

    /// `scancel` the given jobs (array ids cancel all tasks). Cancelling an unknown or finished
    /// job is not an error (scancel itself says nothing and exits 0).
    pub async fn cancel(&self, ids: &[String]) -> Result<(), SlurmError> {
        if ids.is_empty() {
            return Ok(());
        }
        let out = self.run(SlurmCommand::Scancel, ids, None, &[]).await?;
        if !out.success {
            return Err(Self::failed(SlurmCommand::Scancel, &out));
        }
        Ok(())
    }

    /// `scontrol show job -o ID`: one entry per job, or per task for an array id, with
    /// StdOut/StdErr patterns fully expanded. Empty when the controller no longer knows the
    /// id (after MinJobAge).
    pub async fn job_details(&self, id: &str) -> Result<Vec<JobDetails>, SlurmError> {
        let args = strings(&["--oneliner", "show", "job", id]);
        let out = self.run(SlurmCommand::Scontrol, &args, None, &[]).await?;
        if !out.success {
            if out.stderr.contains(INVALID_JOB_ID) {
                return Ok(Vec::new());
            }
            return Err(Self::failed(SlurmCommand::Scontrol, &out));
        }
        Ok(out
            .stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(parse_scontrol_job)
            .collect())
    }

    /// `scontrol write batch_script ID -`: the script the job was submitted with, as the
    /// controller keeps it. None when the job has no batch script (`srun`, `salloc`) or the
    /// controller no longer knows the job: SLURM 22.05 says so on stderr ("Job script not
    /// specified", "Invalid job id specified") and exits 0 with nothing on stdout.
    pub async fn batch_script(&self, id: &str) -> Result<Option<String>, SlurmError> {
        let args = strings(&["write", "batch_script", id, "-"]);
        let out = self.run(SlurmCommand::Scontrol, &args, None, &[]).await?;
        if !out.success && !out.stderr.contains(INVALID_JOB_ID) {
            return Err(Self::failed(SlurmCommand::Scontrol, &out));
        }
        Ok(Some(out.stdout).filter(|s| s.starts_with("#!")))
    }

    /// `scontrol show partition NAME -o`, plus the smallest RealMemory of its nodes
    /// (one more scontrol call). None when the partition does not exist.
    pub async fn partition(&self, name: &str) -> Result<Option<PartitionInfo>, SlurmError> {
        let args = strings(&["--oneliner", "show", "partition", name]);
        let out = self.run(SlurmCommand::Scontrol, &args, None, &[]).await?;
        if !out.success {
            // scontrol prints "Partition nope not found" on stdout, rc 1.
            let text = format!("{}{}", out.stdout, out.stderr);
            if text.contains("not found") || text.contains("Invalid partition") {
                return Ok(None);
            }
            return Err(Self::failed(SlurmCommand::Scontrol, &out));
        }
        let Some(mut part) = out.stdout.lines().find_map(parse_scontrol_partition) else {
            return Ok(None);
        };
        if let Some(nodes) = part.nodes.clone() {
            let args = strings(&["--oneliner", "show", "node", &nodes]);
            match self.run(SlurmCommand::Scontrol, &args, None, &[]).await {
                Ok(out) if out.success => {
                    part.node_real_memory_bytes =
                        parse::parse_node_real_memory(&out.stdout).into_iter().min();
                }
                Ok(out) => debug!(stderr = %out.stderr, "no node memory for partition"),
                Err(e) => debug!(error = %e, "no node memory for partition"),
            }
        }
        Ok(Some(part))
    }
}

fn join_ids<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    let mut seen = HashSet::new();
    ids.filter(|id| seen.insert(*id))
        .collect::<Vec<_>>()
        .join(",")
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// The distinct StdOut/StdErr files of a job and its array tasks, as `scontrol` reports them
/// (patterns expanded): where the job's log is, for tailing and diagnosis.
pub fn log_paths(details: &[JobDetails]) -> Vec<std::path::PathBuf> {
    let mut logs = Vec::new();
    for d in details {
        for p in [&d.stdout_path, &d.stderr_path].into_iter().flatten() {
            let p = std::path::PathBuf::from(p);
            if !logs.contains(&p) {
                logs.push(p);
            }
        }
    }
    logs
}
