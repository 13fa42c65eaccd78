//! A self-hosted runner for the fake GitHub: a dispatched run really executes its workflow.
//!
//! The ref is checked out into a folder of its own (`actions/checkout` is then a no-op), each
//! step's `run:` goes to bash (`bash -e {0}`, or `bash --noprofile --norc -eo pipefail {0}` for
//! `shell: bash`, as GitHub's runner does) with `${{ inputs.* }}` and a few `github.*` /
//! `runner.*` values filled in, and `actions/upload-artifact` zips its paths into an artifact.
//! The run goes queued → in_progress → completed; the conclusion comes from the exit codes.
//! Job logs are the steps' output, each line stamped as GitHub stamps it.
//!
//! Cancelling sends SIGINT to the running step's process group, then SIGTERM, then SIGKILL
//! (GitHub waits 7.5 s and 2.5 s; here 3 s and 2 s), so a workflow's `trap` can scancel its
//! job. Steps marked `if: always()` or `cancelled()` still run. The runner's environment holds
//! no GitHub token.

use super::repo::RepoAt;
use super::workflow::{self, Context, Workflow};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A step that runs longer than this is killed and fails (tests must not hang).
const STEP_LIMIT: Duration = Duration::from_secs(900);

#[derive(Debug, Clone)]
pub struct LiveStep {
    pub name: String,
    pub number: u32,
    pub status: &'static str,
    pub conclusion: Option<String>,
}

#[derive(Debug, Clone)]
pub struct LiveJob {
    pub id: u64,
    pub name: String,
    pub status: &'static str,
    pub conclusion: Option<String>,
    pub log: String,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub steps: Vec<LiveStep>,
}

#[derive(Debug, Clone)]
pub struct Artifact {
    pub id: u64,
    pub name: String,
    pub zip: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug)]
pub struct LiveState {
    pub status: &'static str,
    pub conclusion: Option<String>,
    pub jobs: Vec<LiveJob>,
    pub artifacts: Vec<Artifact>,
    pub started_at: Option<DateTime<Utc>>,
    /// Why the fake could not run the workflow faithfully (a test failure).
    pub problems: Vec<String>,
}

/// A run being executed; shared between the runner's thread and the fake's request handler.
#[derive(Debug)]
pub struct LiveRun {
    pub id: u64,
    state: Mutex<LiveState>,
    cancel: AtomicBool,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl LiveRun {
    pub fn state(&self) -> MutexGuard<'_, LiveState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// POST .../cancel: false when the run already completed (GitHub answers 409).
    pub fn request_cancel(&self) -> bool {
        if self.state().status == "completed" {
            return false;
        }
        self.cancel.store(true, Ordering::SeqCst);
        true
    }

    pub fn cancelling(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    /// Waits for the runner's thread (after a cancel at the end of a test).
    pub fn join(&self) {
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}

/// What the runner needs to execute one run.
pub struct RunOrder {
    pub run_id: u64,
    pub workflow: Workflow,
    pub repo: RepoAt,
    pub commit: String,
    pub ref_name: String,
    pub inputs: BTreeMap<String, String>,
    /// Pre-allocated job ids, one per workflow job.
    pub job_ids: Vec<u64>,
    /// Where the run's workspace and temp folders go (kept until the fake is dropped: a
    /// SLURM job's log lives there).
    pub work_root: PathBuf,
    /// How long the run stays queued before a runner picks it up.
    pub queued_for: Duration,
    /// The runner machine's environment beyond PATH, HOME, LANG, USER.
    pub machine_env: BTreeMap<String, String>,
}

pub fn start(order: RunOrder) -> Arc<LiveRun> {
    let jobs = order
        .workflow
        .jobs
        .iter()
        .zip(&order.job_ids)
        .map(|(j, id)| LiveJob {
            id: *id,
            name: j.name.clone(),
            status: "queued",
            conclusion: None,
            log: String::new(),
            started_at: None,
            completed_at: None,
            steps: Vec::new(),
        })
        .collect();
    let run = Arc::new(LiveRun {
        id: order.run_id,
        state: Mutex::new(LiveState {
            status: "queued",
            conclusion: None,
            jobs,
            artifacts: Vec::new(),
            started_at: None,
            problems: Vec::new(),
        }),
        cancel: AtomicBool::new(false),
        thread: Mutex::new(None),
    });
    let handle = {
        let run = Arc::clone(&run);
        std::thread::spawn(move || {
            // A runner that breaks must not leave the run in progress for ever.
            let done =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| execute(&run, order)));
            if let Err(e) = done {
                let mut s = run.state();
                s.problems.push(format!("the fake runner panicked: {e:?}"));
                s.status = "completed";
                s.conclusion = Some("failure".into());
            }
        })
    };
    *run.thread.lock().unwrap() = Some(handle);
    run
}

/// `2026-11-28T10:00:00.1234567Z`: GitHub's log timestamp.
pub fn stamp() -> String {
    let nanos = Utc::now().format("%Y-%m-%dT%H:%M:%S%.9f").to_string();
    format!("{}Z", &nanos[..nanos.len() - 2])
}

fn execute(run: &LiveRun, order: RunOrder) {
    let waited = Instant::now();
    while waited.elapsed() < order.queued_for && !run.cancelling() {
        std::thread::sleep(Duration::from_millis(20));
    }
    {
        let mut s = run.state();
        s.status = "in_progress";
        s.started_at = Some(Utc::now());
    }
    let run_dir = order.work_root.join(format!("run-{}", order.run_id));
    let workspace = run_dir.join("workspace");
    let temp = run_dir.join("temp");
    let _ = std::fs::create_dir_all(&temp);
    let checkout = order.repo.checkout(&order.commit, &workspace);
    let mut ctx = Context {
        inputs: order.inputs.clone(),
        ..Default::default()
    };
    for (k, v) in [
        ("run_id", order.run_id.to_string()),
        ("run_number", "1".into()),
        ("run_attempt", "1".into()),
        ("sha", order.commit.clone()),
        ("ref_name", order.ref_name.clone()),
        ("ref", format!("refs/heads/{}", order.ref_name)),
        ("workspace", workspace.display().to_string()),
        ("event_name", "workflow_dispatch".into()),
        ("repository", format!("{}/{}", super::OWNER, super::REPO)),
        ("actor", "octocat".into()),
    ] {
        ctx.github.insert(k.into(), v);
    }
    ctx.runner.insert("temp".into(), temp.display().to_string());
    ctx.runner.insert("os".into(), "Linux".into());
    let mut any_failed = false;
    for (j, job) in order.workflow.jobs.iter().enumerate() {
        let mut log = JobLog { run, j };
        {
            let mut s = run.state();
            s.jobs[j].status = "in_progress";
            s.jobs[j].started_at = Some(Utc::now());
        }
        log.line("Current runner version: '2.330.0' (fake, in the trackit tests)");
        let mut failed = false;
        if let Err(e) = &checkout {
            log.line(&format!(
                "##[error]checkout of {} failed: {e}",
                order.commit
            ));
            failed = true;
        }
        let mut env = order.workflow.env.clone();
        env.extend(job.env.clone());
        for (n, step) in job.steps.iter().enumerate() {
            let cancelled = run.cancelling();
            let name = step
                .name
                .clone()
                .unwrap_or_else(|| match (&step.uses, &step.run) {
                    (Some(u), _) => format!("Run {u}"),
                    (_, Some(r)) => format!("Run {}", r.lines().next().unwrap_or_default()),
                    _ => "step".into(),
                });
            let runs = match workflow::should_run(step.condition.as_deref(), failed, cancelled) {
                Ok(r) => r,
                Err(e) => {
                    run.state().problems.push(e);
                    false
                }
            };
            run.state().jobs[j].steps.push(LiveStep {
                name: name.clone(),
                number: n as u32 + 1,
                status: if runs { "in_progress" } else { "completed" },
                conclusion: (!runs).then(|| "skipped".to_string()),
            });
            if !runs {
                continue;
            }
            let ok = run_step(run, &mut log, step, &env, &ctx, &workspace, &temp, &order);
            let conclusion = if ok {
                "success"
            } else if run.cancelling() {
                "cancelled"
            } else {
                "failure"
            };
            {
                let mut s = run.state();
                let st = s.jobs[j].steps.last_mut().expect("pushed");
                st.status = "completed";
                st.conclusion = Some(conclusion.into());
            }
            if !ok && !step.continue_on_error {
                failed = true;
            }
        }
        if run.cancelling() {
            log.line("##[error]The operation was canceled.");
        }
        log.line("Cleaning up orphan processes");
        let conclusion = if run.cancelling() {
            "cancelled"
        } else if failed {
            "failure"
        } else {
            "success"
        };
        any_failed |= failed;
        let mut s = run.state();
        s.jobs[j].status = "completed";
        s.jobs[j].conclusion = Some(conclusion.into());
        s.jobs[j].completed_at = Some(Utc::now());
    }
    let mut s = run.state();
    s.conclusion = Some(
        if run.cancelling() {
            "cancelled"
        } else if any_failed {
            "failure"
        } else {
            "success"
        }
        .into(),
    );
    s.status = "completed";
}

struct JobLog<'a> {
    run: &'a LiveRun,
    j: usize,
}

impl JobLog<'_> {
    fn line(&mut self, text: &str) {
        let mut s = self.run.state();
        let log = &mut s.jobs[self.j].log;
        log.push_str(&stamp());
        log.push(' ');
        log.push_str(text);
        log.push('\n');
    }
}

#[allow(clippy::too_many_arguments)]
fn run_step(
    run: &LiveRun,
    log: &mut JobLog,
    step: &workflow::Step,
    env: &BTreeMap<String, String>,
    ctx: &Context,
    workspace: &Path,
    temp: &Path,
    order: &RunOrder,
) -> bool {
    let expand = |text: &str| workflow::expand(text, ctx);
    if let Some(uses) = &step.uses {
        let action = uses.split('@').next().unwrap_or(uses);
        return match action {
            "actions/checkout" => {
                log.line(&format!("##[group]Run {uses}"));
                log.line("##[endgroup]");
                log.line(&format!(
                    "Checked out {} at {}",
                    order.ref_name, order.commit
                ));
                true
            }
            "actions/upload-artifact" => {
                log.line(&format!("##[group]Run {uses}"));
                log.line("##[endgroup]");
                let with: Result<BTreeMap<String, String>, String> = step
                    .with
                    .iter()
                    .map(|(k, v)| expand(v).map(|v| (k.clone(), v)))
                    .collect();
                match with.and_then(|w| upload(run, &w, workspace, log)) {
                    Ok(()) => true,
                    Err(e) => {
                        log.line(&format!("##[error]{e}"));
                        false
                    }
                }
            }
            other => {
                run.state()
                    .problems
                    .push(format!("the fake runner cannot run action {other}"));
                false
            }
        };
    }
    let script = match expand(step.run.as_deref().unwrap_or_default()) {
        Ok(s) => s,
        Err(e) => {
            run.state().problems.push(e.clone());
            log.line(&format!("##[error]{e}"));
            return false;
        }
    };
    let mut step_env = env.clone();
    step_env.extend(step.env.clone());
    let step_env: Result<BTreeMap<String, String>, String> = step_env
        .iter()
        .map(|(k, v)| expand(v).map(|v| (k.clone(), v)))
        .collect();
    let step_env = match step_env {
        Ok(e) => e,
        Err(e) => {
            run.state().problems.push(e.clone());
            return false;
        }
    };
    let shell_args: Vec<&str> = match step.shell.as_deref() {
        None => vec!["-e"],
        Some("bash") => vec!["--noprofile", "--norc", "-eo", "pipefail"],
        Some(other) => {
            run.state()
                .problems
                .push(format!("the fake runner has no shell {other}"));
            return false;
        }
    };
    log.line(&format!(
        "##[group]Run {}",
        script.lines().next().unwrap_or_default()
    ));
    for l in script.lines() {
        log.line(l);
    }
    log.line(&format!(
        "shell: /usr/bin/bash {} {{0}}",
        shell_args.join(" ")
    ));
    if !step_env.is_empty() {
        log.line("env:");
        for (k, v) in &step_env {
            log.line(&format!("  {k}: {v}"));
        }
    }
    log.line("##[endgroup]");
    let path = temp.join(format!(
        "step-{}.sh",
        Utc::now().timestamp_nanos_opt().unwrap_or(0)
    ));
    std::fs::write(&path, &script).expect("write the step's script");
    let out_path = path.with_extension("out");
    let out = std::fs::File::create(&out_path).expect("step output file");
    let dir = match &step.working_directory {
        Some(d) => workspace.join(d),
        None => workspace.to_path_buf(),
    };
    let mut cmd = Command::new("bash");
    cmd.args(&shell_args)
        .arg(&path)
        .current_dir(&dir)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("dup"))
        .stderr(out)
        .process_group(0);
    for key in ["PATH", "HOME", "LANG", "USER", "LOGNAME", "TZ"] {
        if let Ok(v) = std::env::var(key) {
            cmd.env(key, v);
        }
    }
    cmd.env("CI", "true")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", workspace)
        .env("GITHUB_RUN_ID", order.run_id.to_string())
        .env("GITHUB_SHA", &order.commit)
        .env("GITHUB_REF_NAME", &order.ref_name)
        .env("RUNNER_TEMP", temp)
        .envs(&order.machine_env)
        .envs(&step_env);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            log.line(&format!("##[error]cannot start bash: {e}"));
            return false;
        }
    };
    let pgid = child.id() as i32;
    let mut reader = std::fs::File::open(&out_path).expect("read the step output");
    let mut pending = String::new();
    let mut drain = |log: &mut JobLog, pending: &mut String, all: bool| {
        let mut buf = String::new();
        let _ = reader.read_to_string(&mut buf);
        pending.push_str(&buf);
        while let Some(nl) = pending.find('\n') {
            let line: String = pending.drain(..=nl).collect();
            log.line(line.trim_end_matches('\n'));
        }
        if all && !pending.is_empty() {
            log.line(&std::mem::take(pending));
        }
    };
    let started = Instant::now();
    let mut signalled: Option<(Instant, i32)> = None;
    let status = loop {
        drain(log, &mut pending, false);
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        let escalate = match signalled {
            None if run.cancelling() || started.elapsed() > STEP_LIMIT => Some(libc::SIGINT),
            Some((at, libc::SIGINT)) if at.elapsed() > Duration::from_secs(3) => {
                Some(libc::SIGTERM)
            }
            Some((at, libc::SIGTERM)) if at.elapsed() > Duration::from_secs(2) => {
                Some(libc::SIGKILL)
            }
            _ => None,
        };
        if let Some(sig) = escalate {
            unsafe {
                libc::kill(-pgid, sig);
            }
            signalled = Some((Instant::now(), sig));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drain(log, &mut pending, true);
    // Whatever the step left behind in its group goes too, as the runner's orphan cleanup does.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
    if status.success() {
        return true;
    }
    let code = status.code().unwrap_or(128 + status_signal(&status));
    log.line(&format!(
        "##[error]Process completed with exit code {code}."
    ));
    false
}

fn status_signal(status: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.signal().unwrap_or(0)
}

/// `actions/upload-artifact`: the files under `path` (lines; files, folders or globs), stored
/// relative to the least common ancestor of the search paths, as the action does.
fn upload(
    run: &LiveRun,
    with: &BTreeMap<String, String>,
    workspace: &Path,
    log: &mut JobLog,
) -> Result<(), String> {
    for k in with.keys() {
        if ![
            "name",
            "path",
            "if-no-files-found",
            "retention-days",
            "compression-level",
            "overwrite",
        ]
        .contains(&k.as_str())
        {
            return Err(format!("upload-artifact: unsupported input `{k}`"));
        }
    }
    let name = with
        .get("name")
        .cloned()
        .unwrap_or_else(|| "artifact".into());
    let paths: Vec<&str> = with
        .get("path")
        .ok_or("upload-artifact: `path` is required")?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut roots: Vec<PathBuf> = Vec::new();
    let mut files: Vec<PathBuf> = Vec::new();
    for p in &paths {
        if p.starts_with('!') {
            return Err("upload-artifact: exclusions are not supported by the fake runner".into());
        }
        let abs = workspace.join(p);
        let pattern = abs.display().to_string();
        let is_glob = p.contains(['*', '?', '[']);
        let root = if is_glob {
            let fixed: PathBuf = Path::new(p)
                .components()
                .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
                .collect();
            workspace.join(fixed)
        } else if abs.is_dir() {
            abs.clone()
        } else {
            abs.parent().unwrap_or(workspace).to_path_buf()
        };
        roots.push(root);
        let matched: Vec<PathBuf> = if is_glob {
            glob::glob(&pattern)
                .map_err(|e| e.to_string())?
                .filter_map(Result::ok)
                .collect()
        } else if abs.exists() {
            vec![abs]
        } else {
            Vec::new()
        };
        for m in matched {
            walk(&m, &mut files);
        }
    }
    let base = common_ancestor(&roots);
    if files.is_empty() {
        let what = with
            .get("if-no-files-found")
            .map(String::as_str)
            .unwrap_or("warn");
        let msg = format!(
            "No files were found with the provided path: {}. No artifacts will be uploaded.",
            paths.join(", ")
        );
        return match what {
            "error" => Err(msg),
            "ignore" => Ok(()),
            _ => {
                log.line(&format!("##[warning]{msg}"));
                Ok(())
            }
        };
    }
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        files.sort();
        files.dedup();
        for f in &files {
            let rel = f.strip_prefix(&base).unwrap_or(f);
            w.start_file(rel.to_string_lossy(), opts)
                .map_err(|e| e.to_string())?;
            w.write_all(&std::fs::read(f).map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
        }
        w.finish().map_err(|e| e.to_string())?;
    }
    let mut s = run.state();
    if s.artifacts.iter().any(|a| a.name == name) {
        return Err(format!(
            "an artifact named {name} already exists in this run"
        ));
    }
    let id = run.id * 1000 + s.artifacts.len() as u64 + 1;
    s.artifacts.push(Artifact {
        id,
        name: name.clone(),
        zip: buf.into_inner(),
        created_at: Utc::now(),
    });
    drop(s);
    log.line(&format!(
        "With the provided path, there will be {} file(s) uploaded",
        files.len()
    ));
    log.line(&format!(
        "Artifact {name} has been successfully uploaded! Artifact ID is {id}"
    ));
    Ok(())
}

fn walk(p: &Path, out: &mut Vec<PathBuf>) {
    if p.is_dir() {
        if let Ok(rd) = std::fs::read_dir(p) {
            for e in rd.flatten() {
                walk(&e.path(), out);
            }
        }
    } else if p.is_file() {
        out.push(p.to_path_buf());
    }
}

fn common_ancestor(paths: &[PathBuf]) -> PathBuf {
    let mut base = paths.first().cloned().unwrap_or_default();
    for p in paths.iter().skip(1) {
        while !p.starts_with(&base) {
            if !base.pop() {
                break;
            }
        }
    }
    base
}
