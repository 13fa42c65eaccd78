//! Local jobs: detached processes that outlive the tracker, and foreign PIDs adopted with
//! `trackit attach pid:N`.
//!
//! # How a job is started
//! [`spawn`] forks a small *wrapper* process (no exec: a forked copy of the tracker that only
//! makes async-signal-safe calls). The wrapper calls `setsid`, so it leads its own session and
//! process group and no terminal hangup or tracker death reaches it. It points stdin at
//! `/dev/null` and stdout/stderr at `run_dir/output.log`, closes every other descriptor, then
//! forks the job itself and `execve`s the command. The wrapper ignores SIGTERM/SIGINT/SIGHUP,
//! waits for the job and writes `run_dir/exit_status.json` atomically (temp file + rename), so the
//! exact wait status (exit code, or the signal) is known even if the tracker was dead when the
//! job ended. Only then does the wrapper exit, so "wrapper gone" always means "status written",
//! unless the wrapper itself was SIGKILLed.
//!
//! # Identity and PID reuse
//! A [`LocalJob`] records the wrapper PID (which is also the process group ID) and its start
//! time in clock ticks since boot (field 22 of `/proc/PID/stat`). A live PID whose start time
//! differs is a different process that reuses the number: the job is treated as ended.
//!
//! # Attached processes
//! Linux reports an exit status only to the parent. For a PID adopted with [`attach`], the exit
//! status is read from `/proc/PID/stat` (field 52) if the process is caught as a zombie; once its
//! parent has reaped it, the end is reported as [`JobState::Failed`] with `exit: None` and a
//! `reason` saying the exit status is unknown. trackit never claims success it cannot see.
//!
//! # Normalised states
//! RUNNING while the wrapper is alive; COMPLETED on exit 0; FAILED with the code on a non-zero
//! exit; FAILED with `signal` set (code 0, SLURM's `0:S` form) when a signal ended the job, the
//! OOM killer's SIGKILL included (diagnosis tells the causes apart); CANCELLED after [`cancel`].

use crate::job::{ExitStatus, JobInfo, JobState};
use crate::prelude::*;
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::ffi::{CString, OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The job's combined stdout and stderr, inside the run directory.
pub const LOG_FILE: &str = "output.log";
/// The exit record the wrapper writes when the job ends.
pub const STATUS_FILE: &str = "exit_status.json";
/// Written by [`cancel`] before it signals the job, so a later [`status`] says CANCELLED.
pub const CANCEL_FILE: &str = "cancel_requested.json";
/// How often [`wait_exit`] looks when `pidfd_open` is not available.
pub const FALLBACK_POLL: Duration = Duration::from_secs(1);

/// One local job, as stored in the tracker's state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalJob {
    /// The wrapper's PID for a spawned job (also its process group and session ID); the
    /// process itself for an attached one.
    pub pid: i32,
    /// Start time of `pid` in clock ticks since boot (`/proc/PID/stat` field 22).
    pub start_ticks: u64,
    /// Wall-clock start, derived from `start_ticks` and the boot time.
    pub started_at: DateTime<Utc>,
    /// The command line (for an attached process, read from `/proc/PID/cmdline`).
    pub command: Vec<String>,
    /// The run directory of a spawned job (None when attached).
    #[serde(default)]
    pub run_dir: Option<PathBuf>,
    /// Where the output goes, when known.
    #[serde(default)]
    pub log_path: Option<PathBuf>,
    /// The wrapper's exit record (None when attached: nobody writes one).
    #[serde(default)]
    pub status_path: Option<PathBuf>,
    /// True for a PID adopted with [`attach`]: it is signalled alone, never its group.
    #[serde(default)]
    pub attached: bool,
    /// The machine the process runs on: a PID means nothing on another one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

impl LocalJob {
    /// The ID shown to users and stored in [`JobInfo::id`].
    pub fn id(&self) -> String {
        format!("pid:{}", self.pid)
    }

    /// False when the job was started on another machine (its PID says nothing here).
    pub fn is_on_this_host(&self) -> bool {
        self.host.as_deref().is_none_or(|h| h == hostname())
    }

    fn cancel_path(&self) -> Option<PathBuf> {
        self.run_dir.as_ref().map(|d| d.join(CANCEL_FILE))
    }
}

/// What the wrapper (or [`cancel`], when the wrapper was killed) writes when the job ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitRecord {
    /// PID of the command itself (the wrapper's child).
    #[serde(default)]
    pub job_pid: Option<i32>,
    /// Exit code when the job exited normally.
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// The signal that ended the job.
    #[serde(default)]
    pub signal: Option<i32>,
    /// End time, milliseconds since the Unix epoch.
    #[serde(default)]
    pub ended_at_ms: Option<i64>,
    /// "wrapper", or "tracker" when [`cancel`] had to write it.
    #[serde(default)]
    pub written_by: Option<String>,
}

impl ExitRecord {
    fn exit_status(&self) -> Option<ExitStatus> {
        match (self.exit_code, self.signal) {
            (_, Some(sig)) => Some(ExitStatus {
                code: self.exit_code.unwrap_or(0),
                signal: Some(sig),
            }),
            (Some(code), None) => Some(ExitStatus::code(code)),
            (None, None) => None,
        }
    }
}

/// Reads the exit record of a spawned job, if the wrapper (or [`cancel`]) wrote one.
pub fn read_exit_record(job: &LocalJob) -> Option<ExitRecord> {
    let path = job.status_path.as_ref()?;
    let text = fs::read_to_string(path).ok()?;
    match serde_json::from_str(&text) {
        Ok(rec) => Some(rec),
        Err(e) => {
            warn!("unreadable exit record {}: {e}", path.display());
            None
        }
    }
}

// ---------------------------------------------------------------------------------------------
// /proc

/// The fields of `/proc/PID/stat` trackit needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// One-letter state: R, S, D, Z (zombie), X (dead), T, ...
    pub state: char,
    pub ppid: i32,
    pub pgid: i32,
    /// Field 22: start time in clock ticks since boot.
    pub start_ticks: u64,
    /// Field 52: the waitpid-style exit status, meaningful for a zombie.
    pub exit_code: Option<i32>,
}

/// Reads `/proc/PID/stat`; None when there is no such process.
pub fn proc_stat(pid: i32) -> Option<ProcStat> {
    if pid <= 0 {
        return None;
    }
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

fn parse_stat(text: &str) -> Option<ProcStat> {
    // The command name is in parentheses and may itself contain spaces and ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // f[0] is field 3.
    let field = |n: usize| f.get(n - 3).copied();
    Some(ProcStat {
        state: field(3)?.chars().next()?,
        ppid: field(4)?.parse().ok()?,
        pgid: field(5)?.parse().ok()?,
        start_ticks: field(22)?.parse().ok()?,
        exit_code: field(52).and_then(|s| s.parse().ok()),
    })
}

fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

fn boot_time_unix() -> Option<i64> {
    let text = fs::read_to_string("/proc/stat").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

fn ticks_to_utc(start_ticks: u64) -> DateTime<Utc> {
    let tck = clock_ticks_per_second();
    let boot_ms = boot_time_unix().unwrap_or(0) * 1000;
    let ms = boot_ms + (start_ticks * 1000 / tck) as i64;
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_else(Utc::now)
}

/// The process's life as the PID-reuse guard sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Liveness {
    /// Our process, still running.
    Alive,
    /// Our process, exited but not yet reaped; carries the waitpid-style status.
    Zombie(Option<i32>),
    /// No process with this PID, or one with a different start time (PID reused).
    Gone,
}

fn liveness(job: &LocalJob) -> Liveness {
    match proc_stat(job.pid) {
        Some(st) if st.start_ticks == job.start_ticks => match st.state {
            'Z' | 'X' => Liveness::Zombie(st.exit_code),
            _ => Liveness::Alive,
        },
        _ => Liveness::Gone,
    }
}

/// True while the job's process (the wrapper for a spawned job) runs. A reused PID is not ours.
pub fn is_alive(job: &LocalJob) -> bool {
    liveness(job) == Liveness::Alive
}

/// Reaps the wrapper if it is our own exited child, so it does not linger as a zombie.
/// Only called after the start-time guard said the zombie is ours.
fn reap_if_child(pid: i32) {
    let mut st = 0;
    // SAFETY: plain syscall; WNOHANG never blocks, ECHILD for non-children is ignored.
    unsafe {
        libc::waitpid(pid, &mut st, libc::WNOHANG);
    }
}

fn decode_wait_status(st: i32) -> Option<ExitStatus> {
    if libc::WIFEXITED(st) {
        Some(ExitStatus::code(libc::WEXITSTATUS(st)))
    } else if libc::WIFSIGNALED(st) {
        Some(ExitStatus {
            code: 0,
            signal: Some(libc::WTERMSIG(st)),
        })
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// status

/// The job's normalised state now. Never fails: what cannot be known is left `None`.
pub fn status(job: &LocalJob) -> JobInfo {
    let mut info = JobInfo {
        id: job.id(),
        name: (!job.command.is_empty()).then(|| job.command.join(" ")),
        start_time: Some(job.started_at.to_rfc3339()),
        stdout_path: job.log_path.as_ref().map(|p| p.display().to_string()),
        stderr_path: job.log_path.as_ref().map(|p| p.display().to_string()),
        ..JobInfo::default()
    };
    let elapsed_to = |end: DateTime<Utc>| (end - job.started_at).num_seconds().max(0) as u64;

    let live = liveness(job);
    if live == Liveness::Alive {
        info.state = Some(JobState::Running);
        info.elapsed_s = Some(elapsed_to(Utc::now()));
        return info;
    }

    if job.attached {
        info.state = Some(JobState::Failed);
        match live {
            Liveness::Zombie(Some(ws)) if decode_wait_status(ws).is_some() => {
                info.exit = decode_wait_status(ws);
                if info.exit.is_some_and(|e| e.is_success()) {
                    info.state = Some(JobState::Completed);
                }
            }
            _ => {
                info.reason = Some(
                    "exit status unknown: the process was attached, not started by trackit, \
                     and Linux reports exit codes only to the parent"
                        .into(),
                );
            }
        }
        return info;
    }

    if matches!(live, Liveness::Zombie(_)) {
        reap_if_child(job.pid);
    }
    let cancelled = job.cancel_path().is_some_and(|p| p.exists());
    match read_exit_record(job) {
        Some(rec) => {
            info.exit = rec.exit_status();
            if let Some(ms) = rec.ended_at_ms {
                if let Some(end) = Utc.timestamp_millis_opt(ms).single() {
                    info.end_time = Some(end.to_rfc3339());
                    info.elapsed_s = Some(elapsed_to(end));
                }
            }
            let success = info.exit.is_some_and(|e| e.is_success());
            info.state = Some(if success {
                JobState::Completed
            } else if cancelled {
                JobState::Cancelled
            } else {
                JobState::Failed
            });
        }
        None => {
            info.state = Some(if cancelled {
                JobState::Cancelled
            } else {
                JobState::Failed
            });
            info.reason = Some(
                "exit status unknown: the job's wrapper ended without writing its exit record \
                 (killed with SIGKILL, or the PID was reused)"
                    .into(),
            );
        }
    }
    info
}

// ---------------------------------------------------------------------------------------------
// waiting

fn pidfd_open(pid: i32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: the kernel just gave us this descriptor; nobody else owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Resolves when the job has ended and returns its final [`status`].
///
/// Uses a pidfd (Linux ≥ 5.3; works for processes that are not our children), which becomes
/// readable when the process exits, so the end is seen at once without polling. Falls back to
/// looking every [`FALLBACK_POLL`] where pidfd is unavailable. For a spawned job the pidfd is
/// the wrapper's, which exits only after writing the exit record.
pub async fn wait_exit(job: &LocalJob) -> JobInfo {
    if let Some(fd) = pidfd_open(job.pid) {
        // The pidfd was opened by number: check it is still our process (PID-reuse guard).
        if liveness(job) == Liveness::Alive {
            // SAFETY: the OwnedFd moves into the AsyncFd, which owns it until dropped.
            let registered = unsafe {
                tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE)
            };
            match registered {
                Ok(afd) => match afd.readable().await {
                    Ok(_) => return status(job),
                    Err(e) => debug!("pidfd wait failed, polling instead: {e}"),
                },
                Err(e) => debug!("pidfd not usable with tokio, polling instead: {e}"),
            }
        }
    }
    while liveness(job) == Liveness::Alive {
        tokio::time::sleep(FALLBACK_POLL).await;
    }
    status(job)
}

// ---------------------------------------------------------------------------------------------
// cancel

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::atomic_file::write(path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

fn send_signal(job: &LocalJob, sig: i32) {
    // A spawned job owns its process group (pgid == wrapper pid): signal all of it, so shells'
    // grandchildren go too. An attached PID's group may be the user's shell: signal it alone.
    let target = if job.attached { job.pid } else { -job.pid };
    // SAFETY: plain syscall; the caller checked the PID is still ours just before.
    unsafe {
        libc::kill(target, sig);
    }
}

/// Cancels the job: SIGTERM to its process group (to the process alone when attached), SIGKILL
/// after `grace`. Returns the final status, CANCELLED unless the job had already ended.
///
/// A spawned job's cancellation is recorded in `run_dir` (so [`status`] says CANCELLED later);
/// if the wrapper had to be SIGKILLed and wrote no exit record, one is written here. An attached
/// job has no run directory: the caller keeps the returned CANCELLED state.
pub async fn cancel(job: &LocalJob, grace: Duration) -> Result<JobInfo> {
    if !is_alive(job) {
        return Ok(status(job));
    }
    if let Some(path) = job.cancel_path() {
        let body = serde_json::json!({ "requested_at_ms": now_ms() });
        write_atomic(&path, body.to_string().as_bytes())?;
    }
    send_signal(job, libc::SIGTERM);
    if tokio::time::timeout(grace, wait_exit(job)).await.is_err() && is_alive(job) {
        info!(
            "{} ignored SIGTERM for {grace:?}: sending SIGKILL",
            job.id()
        );
        send_signal(job, libc::SIGKILL);
        let _ = tokio::time::timeout(Duration::from_secs(10), wait_exit(job)).await;
    }
    if let (Some(path), None) = (&job.status_path, read_exit_record(job)) {
        if !is_alive(job) {
            let rec = ExitRecord {
                job_pid: None,
                exit_code: None,
                signal: Some(libc::SIGKILL),
                ended_at_ms: Some(now_ms()),
                written_by: Some("tracker".into()),
            };
            write_atomic(path, serde_json::to_string(&rec)?.as_bytes())?;
        }
    }
    let mut info = status(job);
    if job.attached && !is_alive(job) {
        info.state = Some(JobState::Cancelled);
    }
    Ok(info)
}

// ---------------------------------------------------------------------------------------------
// attach

/// Adopts a running process that trackit did not start. Its log is `/proc/PID/fd/1` when that
/// is a regular file. See the module docs for what can be known about its end.
pub fn attach(pid: i32) -> Result<LocalJob> {
    let st = proc_stat(pid).ok_or_else(|| anyhow!("no process with PID {pid}"))?;
    if matches!(st.state, 'Z' | 'X') {
        bail!("process {pid} has already exited");
    }
    let command = fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            raw.split(|&b| b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default();
    let log_path = fs::read_link(format!("/proc/{pid}/fd/1"))
        .ok()
        .filter(|p| p.is_absolute() && fs::metadata(p).is_ok_and(|m| m.is_file()));
    Ok(LocalJob {
        pid,
        start_ticks: st.start_ticks,
        started_at: ticks_to_utc(st.start_ticks),
        command,
        run_dir: None,
        log_path,
        status_path: None,
        attached: true,
        host: Some(hostname()),
    })
}

/// This machine's name (for leases and local jobs).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// spawn

fn cstring(bytes: &[u8], what: &str) -> Result<CString> {
    CString::new(bytes).map_err(|_| anyhow!("{what} contains a NUL byte"))
}

fn is_executable(path: &Path) -> bool {
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: c is a valid NUL-terminated path.
    fs::metadata(path).is_ok_and(|m| m.is_file())
        && unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0
}

/// Finds the program the way `execvp` would, but before forking (so a typo is a clear error and
/// the forked wrapper needs no allocation).
fn resolve_program(program: &str, cwd: &Path, path_var: Option<&OsStr>) -> Result<PathBuf> {
    if program.contains('/') {
        let p = cwd.join(program);
        if is_executable(&p) {
            return Ok(p);
        }
        bail!(
            "cannot run {program}: {} is not an executable file",
            p.display()
        );
    }
    let default = OsString::from("/usr/local/bin:/usr/bin:/bin");
    let dirs = path_var.unwrap_or(&default);
    for dir in std::env::split_paths(dirs) {
        let p = cwd.join(dir).join(program);
        if is_executable(&p) {
            return Ok(p);
        }
    }
    bail!("command not found: {program} (searched PATH)")
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("bad path {}", p.display()))
}

/// Starts `cmd` in `cwd` with `env` added to the tracker's environment, detached from the
/// tracker (see the module docs). Output goes to `run_dir/output.log` (appended), the exit
/// record to `run_dir/exit_status.json`. A stale exit record or cancel marker in `run_dir` is
/// removed first.
pub fn spawn(
    cmd: &[String],
    cwd: &Path,
    env: &[(String, String)],
    run_dir: &Path,
) -> Result<LocalJob> {
    let Some(program) = cmd.first() else {
        bail!("empty command");
    };
    let cwd = absolute(cwd)?;
    if !cwd.is_dir() {
        bail!("working directory {} is not a directory", cwd.display());
    }
    let run_dir = absolute(run_dir)?;
    fs::create_dir_all(&run_dir)
        .with_context(|| format!("cannot create run directory {}", run_dir.display()))?;
    let log_path = run_dir.join(LOG_FILE);
    let status_path = run_dir.join(STATUS_FILE);
    let status_tmp = run_dir.join(format!(".{STATUS_FILE}.tmp"));
    for stale in [&status_path, &run_dir.join(CANCEL_FILE)] {
        match fs::remove_file(stale) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).context(format!("cannot remove {}", stale.display())),
        }
    }

    // The environment: the tracker's, with the job's additions, never a GitHub token.
    let mut vars: Vec<(OsString, OsString)> = std::env::vars_os()
        .filter(|(k, _)| !env.iter().any(|(ek, _)| OsStr::new(ek) == k))
        .collect();
    vars.extend(env.iter().map(|(k, v)| (k.into(), v.into())));
    vars.retain(|(k, _)| !crate::auth::TOKEN_VARS.iter().any(|t| OsStr::new(t) == k));
    let path_var = vars
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_os_str());
    let exe = resolve_program(program, &cwd, path_var)?;

    // Everything the forked wrapper uses is prepared here: after fork it must not allocate.
    let exe_c = cstring(exe.as_os_str().as_bytes(), "program path")?;
    let argv_c: Vec<CString> = cmd
        .iter()
        .map(|a| cstring(a.as_bytes(), "an argument"))
        .collect::<Result<_>>()?;
    let envp_c: Vec<CString> = vars
        .iter()
        .filter_map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            CString::new(kv).ok()
        })
        .collect();
    let mut argv: Vec<*const libc::c_char> = argv_c.iter().map(|c| c.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = envp_c.iter().map(|c| c.as_ptr()).collect();
    envp.push(std::ptr::null());
    let cwd_c = cstring(cwd.as_os_str().as_bytes(), "working directory")?;
    let status_c = cstring(status_path.as_os_str().as_bytes(), "run directory")?;
    let tmp_c = cstring(status_tmp.as_os_str().as_bytes(), "run directory")?;
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("cannot open log {}", log_path.display()))?;
    let devnull = File::open("/dev/null").context("cannot open /dev/null")?;
    let plan = WrapperPlan {
        exe: &exe_c,
        argv: &argv,
        envp: &envp,
        cwd: &cwd_c,
        status: &status_c,
        status_tmp: &tmp_c,
        log_fd: log.as_raw_fd(),
        null_fd: devnull.as_raw_fd(),
    };

    // SAFETY: the child runs only async-signal-safe code (wrapper_main) and never returns.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error()).context("fork failed");
    }
    if pid == 0 {
        // SAFETY: we are the freshly forked child; see wrapper_main.
        unsafe { wrapper_main(&plan) }
    }
    drop((log, devnull));
    let st = proc_stat(pid)
        .ok_or_else(|| anyhow!("the wrapper process {pid} vanished before it could be recorded"))?;
    let job = LocalJob {
        pid,
        start_ticks: st.start_ticks,
        started_at: ticks_to_utc(st.start_ticks),
        command: cmd.to_vec(),
        run_dir: Some(run_dir),
        log_path: Some(log_path),
        status_path: Some(status_path),
        attached: false,
        host: Some(hostname()),
    };
    info!("started {} as {}", job.command.join(" "), job.id());
    Ok(job)
}

struct WrapperPlan<'a> {
    exe: &'a CString,
    argv: &'a [*const libc::c_char],
    envp: &'a [*const libc::c_char],
    cwd: &'a CString,
    status: &'a CString,
    status_tmp: &'a CString,
    log_fd: i32,
    null_fd: i32,
}

/// A fixed buffer for building text without allocating (after fork, malloc may be locked).
struct StackText {
    buf: [u8; 512],
    len: usize,
}

impl StackText {
    fn new() -> Self {
        StackText {
            buf: [0; 512],
            len: 0,
        }
    }

    fn push(&mut self, s: &[u8]) -> &mut Self {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
        self
    }

    fn push_int(&mut self, v: i64) -> &mut Self {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut u = v.unsigned_abs();
        loop {
            i -= 1;
            digits[i] = b'0' + (u % 10) as u8;
            u /= 10;
            if u == 0 {
                break;
            }
        }
        if v < 0 {
            self.push(b"-");
        }
        self.push(&digits[i..])
    }

    fn push_opt(&mut self, v: Option<i64>) -> &mut Self {
        match v {
            Some(v) => self.push_int(v),
            None => self.push(b"null"),
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

unsafe fn write_all(fd: i32, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let n = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
        if n < 0 && *libc::__errno_location() == libc::EINTR {
            continue;
        }
        if n <= 0 {
            return;
        }
        bytes = &bytes[n as usize..];
    }
}

unsafe fn fail_message(what: &[u8], detail: &CString) {
    let errno = *libc::__errno_location();
    let mut msg = StackText::new();
    msg.push(b"trackit: ")
        .push(what)
        .push(b" ")
        .push(detail.as_bytes())
        .push(b": errno ")
        .push_int(errno as i64)
        .push(b"\n");
    write_all(2, msg.bytes());
}

/// The wrapper, in the forked child. Only async-signal-safe calls, no allocation, never returns.
unsafe fn wrapper_main(plan: &WrapperPlan) -> ! {
    // Block everything while dispositions are reset, so nothing lands half-way.
    let mut all: libc::sigset_t = std::mem::zeroed();
    libc::sigfillset(&mut all);
    libc::sigprocmask(libc::SIG_SETMASK, &all, std::ptr::null_mut());
    // Handlers and ignores inherited from the tracker (Rust ignores SIGPIPE; tokio handles
    // SIGCHLD) must not leak into the job.
    for sig in 1..libc::SIGRTMAX() {
        if sig != libc::SIGKILL && sig != libc::SIGSTOP {
            libc::signal(sig, libc::SIG_DFL);
        }
    }
    libc::setsid();
    libc::dup2(plan.null_fd, 0);
    libc::dup2(plan.log_fd, 1);
    libc::dup2(plan.log_fd, 2);
    // Drop every other inherited descriptor: the wrapper lives for days and must not hold the
    // tracker's pipes or sockets open.
    if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) != 0 {
        for fd in 3..4096 {
            libc::close(fd);
        }
    }
    libc::prctl(libc::PR_SET_NAME, c"trackit-wrap".as_ptr());

    let child = libc::fork();
    if child == 0 {
        let empty: libc::sigset_t = std::mem::zeroed();
        if libc::chdir(plan.cwd.as_ptr()) != 0 {
            fail_message(b"cannot enter working directory", plan.cwd);
            libc::_exit(127);
        }
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        libc::execve(plan.exe.as_ptr(), plan.argv.as_ptr(), plan.envp.as_ptr());
        fail_message(b"cannot execute", plan.exe);
        libc::_exit(127);
    }
    if child < 0 {
        fail_message(b"fork failed for", plan.exe);
        libc::_exit(1);
    }
    // cancel() signals the whole group; the wrapper stays to record how the job ended.
    for sig in [
        libc::SIGTERM,
        libc::SIGINT,
        libc::SIGHUP,
        libc::SIGQUIT,
        libc::SIGPIPE,
        libc::SIGUSR1,
        libc::SIGUSR2,
    ] {
        libc::signal(sig, libc::SIG_IGN);
    }
    let empty: libc::sigset_t = std::mem::zeroed();
    libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());

    let mut ws = 0;
    loop {
        let r = libc::waitpid(child, &mut ws, 0);
        if r == child {
            break;
        }
        if r < 0 && *libc::__errno_location() != libc::EINTR {
            libc::_exit(1);
        }
    }
    let (code, signal) = if libc::WIFEXITED(ws) {
        (Some(libc::WEXITSTATUS(ws) as i64), None)
    } else if libc::WIFSIGNALED(ws) {
        (None, Some(libc::WTERMSIG(ws) as i64))
    } else {
        (None, None)
    };
    let mut ts: libc::timespec = std::mem::zeroed();
    libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts);
    let ms = ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000;

    let mut rec = StackText::new();
    rec.push(b"{\"job_pid\":")
        .push_int(child as i64)
        .push(b",\"exit_code\":")
        .push_opt(code)
        .push(b",\"signal\":")
        .push_opt(signal)
        .push(b",\"ended_at_ms\":")
        .push_int(ms)
        .push(b",\"written_by\":\"wrapper\"}\n");
    let fd = libc::open(
        plan.status_tmp.as_ptr(),
        libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC,
        0o644,
    );
    if fd < 0 {
        fail_message(b"cannot write exit record", plan.status_tmp);
        libc::_exit(1);
    }
    write_all(fd, rec.bytes());
    libc::fsync(fd);
    libc::close(fd);
    if libc::rename(plan.status_tmp.as_ptr(), plan.status.as_ptr()) != 0 {
        fail_message(b"cannot write exit record", plan.status);
        libc::_exit(1);
    }
    libc::_exit(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parses_odd_command_names() {
        let line = "4242 (we ird) name)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 \
                    987654 1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 \
                    0 0 0 0 0 0 0 256";
        let st = parse_stat(line).unwrap();
        assert_eq!(st.state, 'S');
        assert_eq!(st.pgid, 4242);
        assert_eq!(st.start_ticks, 987654);
        assert_eq!(st.exit_code, Some(256));
    }

    #[test]
    fn pidfd_is_available_on_this_kernel() {
        // wait_exit's fast path; if this fails, exits are seen by 1 s polling instead.
        assert!(pidfd_open(std::process::id() as i32).is_some());
    }

    #[test]
    fn stack_text_formats_integers() {
        let mut t = StackText::new();
        t.push_int(0)
            .push(b" ")
            .push_int(-42)
            .push(b" ")
            .push_opt(None);
        t.push(b" ").push_int(i64::MAX);
        assert_eq!(t.bytes(), b"0 -42 null 9223372036854775807");
    }

    #[test]
    fn own_process_is_alive_and_guard_rejects_wrong_start() {
        let me = attach(std::process::id() as i32).unwrap();
        assert!(is_alive(&me));
        let impostor = LocalJob {
            start_ticks: me.start_ticks + 1,
            ..me
        };
        assert!(!is_alive(&impostor));
    }
}
