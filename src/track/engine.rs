//! The tracking loop: launch, watch politely, diagnose, relaunch or finish, and survive being
//! killed at any point. Where jobs run is a [`Backend`]'s business; the loop only orders the
//! steps.
//!
//! One turn of the loop:
//!   1. `poll_due`        one call per backend whose pacer is due, for all of its jobs;
//!   2. `watch_exits`     a cheap look at the jobs' exit files: a job that ended brings its
//!                        backend's next poll forward, so its end is seen in seconds;
//!   3. `conclude_ended`  attempts that ended are diagnosed; relaunch or finish the track;
//!   4. `publish_tick`    the results branch, doc and PR follow the state;
//!   5. `tail_logs`, `draw` the live status.
//!
//! Every side effect is written down before and after it happens (`launching_since` and the
//! marker, then the job), so a resumed tracker neither repeats a launch nor loses one. Each
//! thing that happens goes through [`Engine::record`]: the journal (`events.jsonl`), the display
//! and the state file together.

use super::backend::{
    self, Backend, BackendKey, JobUpdate, LaunchError, LaunchRequest, Launched, PollError,
    PollItem, RecoverRequest, ResultsRequest,
};
use super::diagnosis::{diagnose_attempt, plan_fix, policy_of};
use super::display::{Display, Mode};
use super::lease::{lock, own_lease, TrackLock};
use super::model::{Attempt, BackendSpec, JobHandle, Launch, Outcome, Track};
use super::pacer::Pacer;
use super::publish::{Note, Publisher};
use super::spec::{base_args, initial_spec, launch_args, only_failed_tasks, typed_options};
use super::store::TrackDir;
use crate::diagnose::Diagnosis;
use crate::edits::{make_dirs, AppliedEdit, JobSpec};
use crate::job::{JobInfo, JobState};
use crate::logtail::follow::{Follower, Start};
use crate::lua::GuardedPolicy;
use crate::proc;
use crate::settings::PollSettings;
use anyhow::{bail, Result};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// How long after its exit file appeared a job is polled at the fastest allowed pace while the
/// scheduler still calls it running (COMPLETING: epilog, I/O flush); then the usual pace.
const CONFIRM_EXIT_FOR_S: i64 = 300;

pub use super::diagnosis::dry_run_plan;
pub use super::lease::lease_alive;
pub use super::summary::{attempt_rows, status_line};

/// Whether a pipeline step may launch.
enum Gate {
    /// A predecessor has not started (or not on the same cluster): not yet.
    Wait,
    /// Now, after these jobs (empty: right away).
    Go(Vec<String>),
    /// Never: a predecessor failed or was cancelled.
    Blocked(String),
}

/// How a tracker run ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// Every track finished; true if all succeeded.
    Finished { all_succeeded: bool },
    /// Stopped by Ctrl-C or SIGTERM; the jobs keep running.
    Interrupted,
}

/// One track being watched by this process.
struct Watched {
    track: Track,
    dir: TrackDir,
    policy: GuardedPolicy,
    poll: PollSettings,
    follower: Option<(u32, Follower)>,
    last_line: String,
    /// The job's progress, from its log (`epoch 3/10`).
    progress: Option<String>,
    /// Notes already shown once (a backend's explanation repeats on every poll).
    shown: HashSet<String>,
    /// A crash left a launch half-done and the backend could not yet say whether it happened:
    /// ask again at this time, and launch nothing meanwhile.
    recovery_due: Option<Instant>,
    /// The policy's `exit_files` setting: wrap batch scripts to notice their end at once.
    exit_files: bool,
    _lock: TrackLock,
}

pub struct Engine {
    watched: Vec<Watched>,
    display: Display,
    backends: HashMap<BackendKey, Box<dyn Backend>>,
    pacers: HashMap<BackendKey, Pacer>,
    /// When each backend's exit files are looked at next.
    exit_checks: HashMap<BackendKey, Instant>,
    /// The results branch, doc and PR of every track.
    publisher: Publisher,
}

impl Engine {
    pub fn new(mode: Mode) -> Engine {
        Engine {
            watched: Vec::new(),
            display: Display::new(mode),
            backends: HashMap::new(),
            pacers: HashMap::new(),
            exit_checks: HashMap::new(),
            publisher: Publisher::new(),
        }
    }

    /// Serves `key` with this backend instead of the default one (tests and benchmarks use
    /// SLURM commands from another folder).
    pub fn with_backend(mut self, backend: Box<dyn Backend>) -> Engine {
        self.backends.insert(backend.key(), backend);
        self
    }

    /// Adds a track to watch, taking its lease (refused if another live tracker holds it).
    pub fn add(&mut self, mut track: Track) -> Result<()> {
        let dir = TrackDir::new(&track.root, &track.id);
        let lock = lock(&dir.dir)
            .map_err(|e| anyhow::anyhow!("track {} is already being watched: {e}", track.id))?;
        if let Some(lease) = &track.lease {
            if lease_alive(lease) && lease.pid != std::process::id() as i32 {
                bail!(
                    "track {} is already being watched by trackit pid {} on {}; stop it first or wait for it (if that machine is gone: trackit resume --force {})",
                    track.id,
                    lease.pid,
                    lease.host,
                    track.id
                );
            }
        }
        track.lease = own_lease();
        let mut policy = policy_of(&track);
        let poll = policy.host().settings().poll;
        let exit_files = policy.host().settings().exit_files;
        let mut w = Watched {
            track,
            dir,
            policy,
            poll,
            follower: None,
            last_line: String::new(),
            progress: None,
            shown: HashSet::new(),
            recovery_due: None,
            exit_files,
            _lock: lock,
        };
        record_policy_errors(&mut w);
        w.dir.save(&w.track)?;
        self.watched.push(w);
        Ok(())
    }

    /// The tracks, for the caller's final report.
    pub fn tracks(&self) -> Vec<&Track> {
        self.watched.iter().map(|w| &w.track).collect()
    }

    /// Runs until every track has finished, or until interrupted.
    pub async fn run(&mut self) -> Result<RunEnd> {
        self.recover_interrupted_launches().await?;
        self.launch_pending().await?;
        self.advance_pipelines().await?;
        let mut interrupted = Box::pin(interrupt_signal());
        loop {
            if self.all_done() {
                break;
            }
            self.recover_interrupted_launches().await?;
            self.poll_due().await;
            self.watch_exits().await;
            self.conclude_ended().await?;
            self.advance_pipelines().await?;
            self.publish_tick().await;
            self.tail_logs();
            self.draw();
            if self.all_done() {
                break;
            }
            let wait = self.next_wait();
            let local_exit = self.first_local_exit();
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = local_exit => {}
                _ = &mut interrupted => {
                    self.display.clear();
                    for i in 0..self.watched.len() {
                        self.watched[i].track.lease = None;
                        self.record(i, "interrupted", None, json!({}));
                    }
                    return Ok(RunEnd::Interrupted);
                }
            }
        }
        for i in 0..self.watched.len() {
            self.attach_steps(i);
            let w = &mut self.watched[i];
            let notes = self
                .publisher
                .drain(&mut w.track, &w.dir, &mut w.policy, Duration::from_secs(60))
                .await;
            self.show_notes(i, notes);
        }
        self.display.clear();
        for w in &mut self.watched {
            w.track.lease = None;
            w.dir.save(&w.track)?;
        }
        let all_succeeded = self
            .watched
            .iter()
            .all(|w| w.track.outcome == Some(Outcome::Succeeded));
        Ok(RunEnd::Finished { all_succeeded })
    }

    fn all_done(&self) -> bool {
        self.watched.iter().all(|w| w.track.is_done())
    }

    /// The one path for "something happened": the journal, the display (when there is a
    /// message) and the state file, together.
    fn record(&mut self, i: usize, event: &str, message: Option<&str>, data: Value) {
        let w = &mut self.watched[i];
        if let Err(e) = w.dir.append_event(event, data.clone()) {
            tracing::warn!(track = %w.track.id, "cannot append to the journal: {e:#}");
        }
        if let Some(msg) = message {
            self.display.event(&w.track.id, event, msg, data);
        }
        if let Err(e) = w.dir.save(&w.track) {
            let msg = format!("cannot save the state of {}: {e:#}", w.track.id);
            self.display.event(&w.track.id, "error", &msg, json!({}));
        }
    }

    /// The backend that serves `key`, opened on first use.
    fn backend(&mut self, key: &BackendKey, i: usize) -> Result<&dyn Backend> {
        if !self.backends.contains_key(key) {
            let track = &self.watched[i].track;
            let b = backend::open(key, Some(&track.backend_spec()), track)?;
            self.backends.insert(key.clone(), b);
        }
        Ok(self.backends[key].as_ref())
    }

    fn pacer(&mut self, key: &BackendKey) -> &mut Pacer {
        if !self.pacers.contains_key(key) {
            // The most polite settings among the watched tracks' policies.
            let first = self.watched.first().map(|w| w.poll).unwrap_or_default();
            let mut p = Pacer::new(first);
            for w in &self.watched {
                p.politest(w.poll);
            }
            self.pacers.insert(key.clone(), p);
        }
        self.pacers.get_mut(key).expect("inserted")
    }

    // ---------------------------------------------------------------------------------------
    // Launching

    /// Launches the next attempt of every track that has none running.
    async fn launch_pending(&mut self) -> Result<()> {
        for i in 0..self.watched.len() {
            let needs = {
                let w = &self.watched[i];
                let t = &w.track;
                w.recovery_due.is_none()
                    && !t.is_done()
                    && !t.is_pipeline()
                    && t.step_of.is_none()
                    && t.current().is_none_or(|a| a.finished)
            };
            if needs {
                self.launch(i, None, Vec::new()).await?;
            }
        }
        Ok(())
    }

    /// The request for attempt `n` of track `i`.
    fn launch_request(&self, i: usize, a: &Attempt) -> LaunchRequest {
        let w = &self.watched[i];
        let t = &w.track;
        let (git_ref, results_branch) = match t.backend_spec() {
            BackendSpec::Workflow { .. } => backend::workflow::refs_of(t),
            _ => (None, None),
        };
        LaunchRequest {
            backend: t.backend_spec(),
            track_id: t.id.clone(),
            attempt: a.n,
            root: t.root.clone(),
            cwd: t.cwd.clone(),
            track_dir: w.dir.dir.clone(),
            spec: a.spec.clone(),
            args: a.launch_args.clone(),
            marker: a
                .marker
                .clone()
                .unwrap_or_else(|| format!("trackit:{}:{}", t.id.replace('/', ":"), a.n)),
            git_ref,
            results_branch,
            launch: t.launch.clone(),
            typed_options: typed_options(&base_args(t), &t.cwd),
            edits: a.edits.clone(),
            wrap: w.exit_files,
            depends_on: a.depends_on.clone(),
        }
    }

    /// Launches attempt n+1 with `spec` (None: the job as the user launched it).
    async fn launch(
        &mut self,
        i: usize,
        spec: Option<JobSpec>,
        applied: Vec<AppliedEdit>,
    ) -> Result<()> {
        self.launch_after(i, spec, applied, Vec::new()).await
    }

    /// Launches attempt n+1, after the jobs `depends_on` (SLURM `--dependency=afterok:`).
    async fn launch_after(
        &mut self,
        i: usize,
        spec: Option<JobSpec>,
        applied: Vec<AppliedEdit>,
        depends_on: Vec<String>,
    ) -> Result<()> {
        let (n, spec) = {
            let t = &self.watched[i].track;
            let spec = spec.or_else(|| initial_spec(t, &base_args(t)).ok());
            (t.attempts.len() as u32 + 1, spec)
        };
        let args = spec
            .as_ref()
            .map(launch_args)
            .unwrap_or_else(|| base_args(&self.watched[i].track));
        let edits: Vec<String> = applied.iter().map(|a| a.display.clone()).collect();
        let backend_spec = self.watched[i].track.backend_spec();
        {
            let w = &mut self.watched[i];
            let id = w.track.id.clone();
            w.track.attempts.push(Attempt {
                n,
                launching_since: Some(chrono::Utc::now().timestamp()),
                launch_args: args.clone(),
                edits: edits.clone(),
                applied,
                spec: spec.clone(),
                marker: Some(format!("trackit:{}:{n}", id.replace('/', ":"))),
                depends_on,
                ..Default::default()
            });
        }
        // Write down the intent before acting: a resume will look for this launch.
        self.record(
            i,
            "launching",
            None,
            json!({"attempt": n, "args": args, "edits": edits}),
        );
        let max = self.watched[i].track.max_attempts;
        if n > 1 {
            let msg = format!("attempt {n}/{max}: relaunching: {}", edits.join("; "));
            self.record(
                i,
                "relaunch",
                Some(&msg),
                json!({"attempt": n, "edits": edits}),
            );
        }
        if matches!(self.watched[i].track.launch, Launch::AttachPid { .. }) {
            self.launch_failed(
                i,
                n,
                "an attached process cannot be relaunched".into(),
                false,
            );
            self.publish_now(i, true).await;
            return Ok(());
        }
        let req = {
            let a = self.watched[i].track.current().expect("pushed").clone();
            self.launch_request(i, &a)
        };
        let key = backend::launch_key(&backend_spec, &self.watched[i].track);
        let mut result = match self.backend(&key, i) {
            Ok(b) => b.launch(&req).await,
            Err(e) => Err(LaunchError::Other(e)),
        };
        let mut used = key;
        if let Err(LaunchError::UseFallback(why)) = &result {
            // Dispatching would drop something: sbatch instead, here or over ssh.
            let remote = backend_spec.remote().cloned();
            if remote.is_none() && !crate::slurm::on_path("sbatch") {
                let msg = format!("cannot dispatch ({why}), and there is no sbatch here and no --host to submit with");
                result = Err(LaunchError::Other(anyhow::anyhow!(msg)));
            } else {
                let msg = format!(
                    "attempt {n}/{max}: not dispatching: {why}; submitting with sbatch instead"
                );
                self.record(
                    i,
                    "dispatch_declined",
                    Some(&msg),
                    json!({"attempt": n, "reason": why}),
                );
                used = BackendKey::Slurm(remote.as_ref().map(|r| r.host.clone()));
                let mut req = req.clone();
                req.backend = BackendSpec::Slurm { remote };
                result = match self.backend(&used, i) {
                    Ok(b) => b.launch(&req).await,
                    Err(e) => Err(LaunchError::Other(e)),
                };
            }
        }
        match result {
            Ok(launched) => {
                self.apply_launched(i, n, launched, "submitted");
                self.pacer(&used).launched();
            }
            Err(LaunchError::Refused(msg)) => self.launch_failed(i, n, msg, true),
            Err(LaunchError::UseFallback(msg)) => self.launch_failed(i, n, msg, false),
            Err(LaunchError::Other(e)) => self.launch_failed(i, n, format!("{e:#}"), false),
        }
        self.publish_now(i, true).await;
        Ok(())
    }

    /// Records the job a launch (or a recovery) produced.
    fn apply_launched(&mut self, i: usize, n: u32, launched: Launched, journal_event: &str) {
        let max = self.watched[i].track.max_attempts;
        let job_id = launched.job.id();
        {
            let a = self.watched[i].track.current_mut().expect("an attempt");
            a.job = Some(launched.job.clone());
            a.launching_since = None;
            a.log_paths = launched.log_paths;
            a.exit_dir = launched.exit_dir;
        }
        let event = match (journal_event, launched.event) {
            ("recovered_launch", _) => "recovered_launch",
            (_, "started") => "started",
            (_, "recovered") => "submitted",
            _ => "submitted",
        };
        let mut data = json!({"attempt": n, "job": job_id});
        if let JobHandle::Local(j) = &launched.job {
            data["pid"] = j.pid.into();
        }
        if let JobHandle::Workflow {
            workflow,
            run_id,
            git_ref,
        } = &launched.job
        {
            data["workflow"] = workflow.as_str().into();
            data["run"] = (*run_id).into();
            data["ref"] = git_ref.as_str().into();
        }
        if launched.event == "recovered" {
            data["adopted"] = true.into();
        }
        let msg = format!("attempt {n}/{max}: {}", launched.message);
        self.record(i, event, Some(&msg), data);
    }

    fn launch_failed(&mut self, i: usize, n: u32, error: String, refused: bool) {
        {
            let a = self.watched[i].track.current_mut().expect("an attempt");
            a.launching_since = None;
            a.launch_error = Some(error.clone());
        }
        let msg = format!("attempt {n}: launch failed: {error}");
        self.record(
            i,
            "launch_failed",
            Some(&msg),
            json!({"attempt": n, "error": error, "refused": refused}),
        );
    }

    /// After a crash between "launching" and "launched": ask the backend whether the launch
    /// happened (by the attempt's marker). Found: adopt it. Not found: launch again. The
    /// backend cannot tell (scheduler down): ask again later, launch nothing meanwhile.
    async fn recover_interrupted_launches(&mut self) -> Result<()> {
        let known: Vec<String> = self
            .watched
            .iter()
            .flat_map(|w| {
                w.track
                    .attempts
                    .iter()
                    .filter_map(|a| a.job.as_ref().map(|j| j.id()))
            })
            .collect();
        for i in 0..self.watched.len() {
            let pending = {
                let w = &self.watched[i];
                let due = w.recovery_due.is_none_or(|t| Instant::now() >= t);
                w.track
                    .current()
                    .filter(|a| a.job.is_none() && a.launch_error.is_none() && due)
                    .and_then(|a| a.launching_since.map(|t| (a.clone(), t)))
            };
            let Some((a, since)) = pending else { continue };
            let req = RecoverRequest {
                launch: self.launch_request(i, &a),
                since,
                known: known.clone(),
            };
            let key = backend::launch_key(&req.launch.backend, &self.watched[i].track);
            let mut found = match self.backend(&key, i) {
                Ok(b) => b.recover(&req).await,
                Err(e) => Err(e),
            };
            // A dispatch that fell back to sbatch: look there too.
            if matches!(found, Ok(None))
                && matches!(req.launch.backend, BackendSpec::Workflow { .. })
            {
                let remote = req.launch.backend.remote().cloned();
                let fallback = BackendKey::Slurm(remote.as_ref().map(|r| r.host.clone()));
                if remote.is_some() || crate::slurm::on_path("squeue") {
                    let mut r = req.clone();
                    r.launch.backend = BackendSpec::Slurm { remote };
                    if let Ok(b) = self.backend(&fallback, i) {
                        found = b.recover(&r).await;
                    }
                }
            }
            match found {
                Ok(Some(launched)) => {
                    self.watched[i].recovery_due = None;
                    self.apply_launched(i, a.n, launched, "recovered_launch");
                }
                Ok(None) => {
                    // Nothing was launched: drop the half-made attempt and launch it again.
                    self.watched[i].recovery_due = None;
                    self.watched[i].track.attempts.pop();
                    self.record(i, "relaunch_after_crash", None, json!({"attempt": a.n}));
                    let t = &self.watched[i].track;
                    if !t.is_done() && t.current().is_none_or(|a| a.finished) {
                        let (spec, applied) = (a.spec.clone(), a.applied.clone());
                        self.launch(i, spec, applied).await?;
                    }
                }
                Err(e) => {
                    self.watched[i].recovery_due = Some(Instant::now() + Duration::from_secs(30));
                    let msg = format!(
                        "attempt {}: cannot tell yet whether the interrupted launch happened ({e:#}); asking again in 30s, launching nothing meanwhile",
                        a.n
                    );
                    self.record(i, "recovery_pending", Some(&msg), json!({"attempt": a.n}));
                }
            }
        }
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Step 1: polling

    /// The active attempts' jobs, by backend.
    fn active_jobs(&self) -> HashMap<BackendKey, Vec<(usize, PollItem)>> {
        let mut by_key: HashMap<BackendKey, Vec<(usize, PollItem)>> = HashMap::new();
        for (i, w) in self.watched.iter().enumerate() {
            if w.track.is_done() {
                continue;
            }
            let Some(a) = w.track.current() else { continue };
            let (false, Some(job)) = (a.finished, &a.job) else {
                continue;
            };
            by_key
                .entry(BackendKey::of(job, &w.track))
                .or_default()
                .push((
                    i,
                    PollItem {
                        handle: job.clone(),
                        attempt_dir: w.dir.dir.join(format!("attempt-{}", a.n)),
                    },
                ));
        }
        by_key
    }

    async fn poll_due(&mut self) {
        let now = Instant::now();
        for (key, items) in self.active_jobs() {
            let local = key == BackendKey::Local;
            if !local && !self.pacer(&key).due(now) {
                continue;
            }
            let first = items[0].0;
            let jobs: Vec<PollItem> = items.iter().map(|(_, it)| it.clone()).collect();
            self.pacer(&key).calling();
            let result = match self.backend(&key, first) {
                Ok(b) => b.poll(&jobs).await,
                Err(e) => Err(PollError::Other(format!("{e:#}"))),
            };
            match result {
                Ok(report) => {
                    let mut changed = false;
                    for (id, update) in report.updates {
                        for (i, item) in &items {
                            if item.handle.id() == id {
                                changed |= self.apply_update(*i, update.clone());
                            }
                        }
                    }
                    for (i, item) in &items {
                        let missing = report.missing.contains(&item.handle.id());
                        changed |= self.note_missing(*i, missing);
                    }
                    for (i, _) in &items {
                        self.forget_stale_exit(*i);
                    }
                    if !local {
                        self.pacer(&key).answered(changed);
                        // A job whose exit file is there but whose state is not final yet
                        // (COMPLETING): look again as soon as the site allows, for a while.
                        let now = chrono::Utc::now().timestamp();
                        let confirming = items.iter().any(|(i, _)| {
                            self.watched[*i].track.current().is_some_and(|a| {
                                a.exit_seen_at.is_some_and(|t| now - t < CONFIRM_EXIT_FOR_S)
                                    && !a.state().is_some_and(|s| s.is_terminal())
                            })
                        });
                        if confirming {
                            self.pacer(&key).soon();
                        }
                    }
                    tracing::debug!(?key, jobs = jobs.len(), "poll cycle");
                }
                Err(e) => {
                    let delay = self.pacer(&key).failed();
                    let (word, what) = match &e {
                        PollError::Transient(m) => ("unreachable", m.clone()),
                        PollError::Other(m) => ("error", m.clone()),
                    };
                    let kind = if matches!(key, BackendKey::Workflow(_)) {
                        "github_unreachable"
                    } else {
                        "scheduler_unreachable"
                    };
                    let msg = format!("scheduler {word}: {what}; retrying in {}s", delay.as_secs());
                    let data = json!({"error": what, "retry_in_s": delay.as_secs()});
                    for (n, (i, _)) in items.iter().enumerate() {
                        // Shown once, written to every track's journal.
                        let m = (n == 0).then_some(msg.as_str());
                        self.record(*i, kind, m, data.clone());
                    }
                }
            }
        }
    }

    /// A job pending again after its exit file was seen was requeued (preemption, a node
    /// failure, its own `scontrol requeue`): that file is its earlier run's, and the job has
    /// not ended. The file is ignored until the job runs again (its wrapper removes it then).
    fn forget_stale_exit(&mut self, i: usize) {
        let Some(a) = self.watched[i].track.current_mut() else {
            return;
        };
        let state = a.state();
        if a.exit_stale && state == Some(JobState::Running) {
            a.exit_stale = false;
        }
        if a.exit_seen_at.is_none() || state != Some(JobState::Pending) {
            return;
        }
        a.exit_seen_at = None;
        a.exit_stale = true;
        let (n, id) = (a.n, a.job.as_ref().map(|j| j.id()).unwrap_or_default());
        let msg = format!("attempt {n}: job {id} was requeued; waiting for its next run");
        self.record(i, "requeued", Some(&msg), json!({"attempt": n, "job": id}));
    }

    /// Applies what a poll learned about track `i`'s current job. True if its state changed.
    fn apply_update(&mut self, i: usize, update: JobUpdate) -> bool {
        let max = self.watched[i].track.max_attempts;
        if let Some(note) = &update.note {
            if self.watched[i].shown.insert(note.clone()) {
                self.record(i, "note", Some(note), json!({"note": note}));
            }
        }
        if let Some(handoff) = update.handoff {
            let n = {
                let a = self.watched[i].track.current_mut().expect("an attempt");
                // The run's logs stay as evidence beside the job's own.
                for p in update.log_paths.unwrap_or_default() {
                    if !a.fetched_logs.contains(&p) {
                        a.fetched_logs.push(p);
                    }
                }
                a.job = Some(handoff.job.clone());
                a.log_paths = handoff.log_paths.clone();
                a.tasks.clear();
                a.n
            };
            let key = BackendKey::of(&handoff.job, &self.watched[i].track);
            self.pacer(&key).soon();
            let msg = format!("attempt {n}/{max}: {}", handoff.message);
            self.record(
                i,
                "handoff",
                Some(&msg),
                json!({"attempt": n, "job": handoff.job.id()}),
            );
            return true;
        }
        let (n, id, before, after, states_changed) = {
            let a = self.watched[i].track.current_mut().expect("an attempt");
            if let Some(logs) = update.log_paths {
                a.log_paths = logs;
            }
            if update.tasks.is_empty() {
                return false;
            }
            a.missing_since = None;
            let before = a.state();
            let states_before: Vec<_> = a
                .tasks
                .iter()
                .map(|t| (t.id.clone(), t.state, t.exit))
                .collect();
            a.tasks = update.tasks;
            let states_after: Vec<_> = a
                .tasks
                .iter()
                .map(|t| (t.id.clone(), t.state, t.exit))
                .collect();
            let id = a.job.as_ref().map(|j| j.id()).unwrap_or_default();
            (a.n, id, before, a.state(), states_before != states_after)
        };
        if !states_changed {
            return false;
        }
        let word = after
            .map(|s| s.to_string())
            .unwrap_or_else(|| "PENDING".into());
        let shown = if id.starts_with("run:") {
            format!("run {} {word}", id.trim_start_matches("run:"))
        } else if id.starts_with("pid:") {
            format!("{id} {word}")
        } else {
            format!("job {id} {word}")
        };
        let msg = format!("attempt {n}/{max}: {shown}");
        self.record(
            i,
            "state",
            Some(&msg),
            json!({"attempt": n, "job": id, "state": after, "before": before}),
        );
        true
    }

    /// A job the scheduler no longer knows at all: after a long while, a clear end
    /// (VANISHED) instead of waiting for ever. True if that changed the state.
    fn note_missing(&mut self, i: usize, missing: bool) -> bool {
        let now = chrono::Utc::now().timestamp();
        let after = self.watched[i].poll.vanished_after_s.max(1.0) as i64;
        let (n, id) = {
            let Some(a) = self.watched[i].track.current_mut() else {
                return false;
            };
            if !missing {
                return false;
            }
            let since = *a.missing_since.get_or_insert(now);
            if now - since < after || a.state().is_some_and(|s| s.is_terminal()) {
                return false;
            }
            let id = a.job.as_ref().map(|j| j.id()).unwrap_or_default();
            a.tasks = vec![JobInfo {
                id: id.clone(),
                state: Some(JobState::Vanished),
                reason: Some(format!(
                    "neither squeue nor sacct has known job {id} for {after} s"
                )),
                ..Default::default()
            }];
            (a.n, id)
        };
        let msg = format!(
            "attempt {n}: job {id} VANISHED: neither squeue nor sacct has known it for {after} s"
        );
        self.record(
            i,
            "state",
            Some(&msg),
            json!({"attempt": n, "job": id, "state": "VANISHED"}),
        );
        true
    }

    // ---------------------------------------------------------------------------------------
    // Step 2: exit files

    /// Looks at the exit files of running jobs (a stat here, one ssh call for a remote host).
    /// When every task of a job has written one, its backend's next poll comes at once.
    async fn watch_exits(&mut self) {
        let now = Instant::now();
        for (key, items) in self.active_jobs() {
            let first = items[0].0;
            let every = match self.backend(&key, first) {
                Ok(b) => b.exit_check_every(),
                Err(_) => None,
            };
            let Some(every) = every else { continue };
            if self.exit_checks.get(&key).is_some_and(|t| now < *t) {
                continue;
            }
            self.exit_checks.insert(key.clone(), now + every);
            let mut dirs: Vec<String> = Vec::new();
            let mut waiting = Vec::new();
            for (i, _) in &items {
                let a = self.watched[*i].track.current().expect("active");
                if a.exit_seen_at.is_some()
                    || a.exit_stale
                    || a.state().is_some_and(|s| s.is_terminal())
                {
                    continue;
                }
                if let Some(d) = &a.exit_dir {
                    if !dirs.contains(d) {
                        dirs.push(d.clone());
                    }
                    waiting.push(*i);
                }
            }
            if waiting.is_empty() {
                continue;
            }
            let files = match self.backend(&key, first) {
                Ok(b) => b.exit_files(&dirs).await,
                Err(_) => continue,
            };
            let mut any = false;
            for i in waiting {
                let (n, id, codes) = {
                    let a = self.watched[i].track.current().expect("active");
                    let Some(job) = &a.job else { continue };
                    let id = job.id();
                    let mine: Vec<&crate::slurm::exit_wrapper::ExitFile> = files
                        .iter()
                        .filter(|f| f.id == id || crate::slurm::split_array_id(&f.id).0 == id)
                        .collect();
                    // An array ends when every task known to the scheduler has written.
                    let tasks: Vec<&str> = a
                        .tasks
                        .iter()
                        .map(|t| t.id.as_str())
                        .filter(|t| *t != id)
                        .collect();
                    let complete = if tasks.is_empty() {
                        mine.iter().any(|f| f.id == id)
                    } else {
                        tasks.iter().all(|t| mine.iter().any(|f| f.id == *t))
                    };
                    if !complete {
                        continue;
                    }
                    let codes: Vec<String> = mine
                        .iter()
                        .map(|f| f.code.map(|c| c.to_string()).unwrap_or_else(|| "?".into()))
                        .collect();
                    (a.n, id, codes)
                };
                self.watched[i]
                    .track
                    .current_mut()
                    .expect("active")
                    .exit_seen_at = Some(chrono::Utc::now().timestamp());
                let msg = format!(
                    "attempt {n}: job {id} ended (exit {}); asking the scheduler for its final state",
                    codes.join(",")
                );
                self.record(
                    i,
                    "exited",
                    Some(&msg),
                    json!({"attempt": n, "job": id, "exit": codes}),
                );
                any = true;
            }
            if any {
                self.pacer(&key).soon();
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Step 3: ended attempts

    async fn conclude_ended(&mut self) -> Result<()> {
        for i in 0..self.watched.len() {
            // A step whose earlier step failed never ran: withdrawn, not diagnosed.
            if self.withdraw_if_orphaned(i).await {
                continue;
            }
            let ended = {
                let t = &self.watched[i].track;
                !t.is_done()
                    && t.current()
                        .is_some_and(|a| !a.finished && a.state().is_some_and(|s| s.is_terminal()))
            };
            if ended {
                self.conclude_attempt(i).await?;
            }
        }
        Ok(())
    }

    /// Accounting, logs brought here, the diagnosis; then relaunch or finish.
    async fn conclude_attempt(&mut self, i: usize) -> Result<()> {
        let mut attempt = self.watched[i]
            .track
            .current()
            .cloned()
            .expect("an attempt");
        if let Some(job) = attempt.job.clone() {
            let key = BackendKey::of(&job, &self.watched[i].track);
            let dest = self.watched[i]
                .dir
                .dir
                .join(format!("attempt-{}", attempt.n))
                .join("logs");
            if let Ok(b) = self.backend(&key, i) {
                b.finalize(&mut attempt).await;
                if matches!(
                    job,
                    JobHandle::Slurm {
                        remote: Some(_),
                        ..
                    }
                ) {
                    match b.fetch_logs(&attempt, &dest).await {
                        Ok(copies) => {
                            for p in copies {
                                if !attempt.fetched_logs.contains(&p) {
                                    attempt.fetched_logs.push(p);
                                }
                            }
                        }
                        Err(e) => tracing::warn!("cannot fetch the job's logs: {e:#}"),
                    }
                }
            }
        }
        let diagnosis = {
            let w = &mut self.watched[i];
            let d = diagnose_attempt(&mut w.policy, &w.track, &attempt);
            record_policy_errors(w);
            d
        };
        let state = attempt.state();
        let n = attempt.n;
        let max = self.watched[i].track.max_attempts;
        attempt.diagnosis = Some(diagnosis.clone());
        attempt.finished = true;
        *self.watched[i].track.current_mut().expect("an attempt") = attempt;
        self.record(
            i,
            "diagnosed",
            None,
            json!({"attempt": n, "diagnosis": diagnosis}),
        );
        if state == Some(JobState::Completed) {
            self.watched[i].track.outcome = Some(Outcome::Succeeded);
            self.fetch_results(i).await;
            let msg = format!("attempt {n}/{max}: completed");
            self.record(i, "finished", Some(&msg), json!({"outcome": "succeeded"}));
            self.publish_now(i, false).await;
            return Ok(());
        }
        let msg = format!(
            "attempt {n}/{max} failed: {}: {}",
            diagnosis.kind, diagnosis.summary
        );
        self.record(
            i,
            "diagnosed_failure",
            Some(&msg),
            json!({"attempt": n, "kind": diagnosis.kind, "summary": diagnosis.summary}),
        );
        match self.plan_relaunch(i, &diagnosis) {
            Some((spec, applied)) => self.launch(i, Some(spec), applied).await,
            None => {
                let cancelled = state == Some(JobState::Cancelled) && diagnosis.kind == "cancelled";
                self.watched[i].track.outcome = Some(if cancelled {
                    Outcome::Cancelled
                } else {
                    Outcome::Failed
                });
                self.fetch_results(i).await;
                let outcome = self.watched[i].track.outcome;
                self.record(i, "finished", None, json!({"outcome": outcome}));
                self.publish_now(i, false).await;
                Ok(())
            }
        }
    }

    /// Results the job wrote elsewhere (a remote host, a run's artifacts), fetched into the
    /// track's folder before they are collected.
    async fn fetch_results(&mut self, i: usize) {
        let Some(a) = self.watched[i].track.current().cloned() else {
            return;
        };
        let Some(job) = a.job.clone() else { return };
        let settings_results = self.watched[i].policy.host().settings().results.clone();
        let t = &self.watched[i].track;
        let req = ResultsRequest {
            track_dir: self.watched[i].dir.dir.clone(),
            attempt: a.n,
            root: t.root.clone(),
            cwd: t.cwd.clone(),
            since: t.published.launched_at,
            spec: t.publish_opts.results.clone().or(settings_results),
        };
        let key = backend::results_key(&job, t);
        let fetched = match self.backend(&key, i) {
            Ok(b) => b.fetch_results(&job, &req).await,
            Err(e) => Err(e),
        };
        match fetched {
            Ok(Some(dir)) => {
                self.watched[i]
                    .track
                    .current_mut()
                    .expect("an attempt")
                    .results_dir = Some(dir.clone());
                self.record(i, "results_fetched", None, json!({"dir": dir}));
            }
            Ok(None) => {}
            Err(e) => {
                let msg = format!("cannot fetch the results: {e:#}");
                self.record(
                    i,
                    "results_error",
                    Some(&msg),
                    json!({"error": format!("{e:#}")}),
                );
            }
        }
    }

    /// Whether to try again, and with what: the policy's fixer for the diagnosis, with caps and
    /// history enforced by Rust. None ends the track.
    fn plan_relaunch(
        &mut self,
        i: usize,
        diagnosis: &Diagnosis,
    ) -> Option<(JobSpec, Vec<AppliedEdit>)> {
        let (plan, kind) = {
            let w = &mut self.watched[i];
            let t = &w.track;
            if t.attempts_used() >= t.max_attempts || !diagnosis.fixable {
                return None;
            }
            if matches!(t.launch, Launch::AttachPid { .. }) {
                return None;
            }
            let plan = plan_fix(&mut w.policy, &w.track, diagnosis)?;
            record_policy_errors(w);
            (plan, diagnosis.kind.clone())
        };
        let n = self.watched[i].track.current().map(|a| a.n).unwrap_or(0);
        let _ = self.watched[i].dir.append_event(
            "fix_planned",
            json!({"attempt": n, "applied": plan.applied, "dropped": plan.dropped, "note": plan.note}),
        );
        if plan.nothing_left() {
            // Say why: an edit dropped (already applied, or nothing left under the cap) beats
            // the fixer's own note, which describes the edit it wanted.
            let dropped: Vec<String> = plan.dropped.iter().map(|d| d.reason.clone()).collect();
            let why = (!dropped.is_empty())
                .then(|| format!("the fix was not applied: {}", dropped.join("; ")))
                .or(plan.note.clone())
                .unwrap_or_else(|| {
                    if plan.proposed {
                        "the fixer has nothing left to try".into()
                    } else {
                        format!("no fixer for {kind}")
                    }
                });
            self.record(
                i,
                "no_fix",
                Some(&format!("no relaunch: {why}")),
                json!({"kind": kind}),
            );
            return None;
        }
        if let Err(e) = make_dirs(&plan.applied) {
            let msg = format!("cannot create a directory the fix needs: {e}");
            self.record(i, "error", Some(&msg), json!({}));
            return None;
        }
        let (mut spec, mut applied) = (plan.spec, plan.applied);
        // An array relaunches only its failed tasks; the others keep their results.
        if let Some(a) = self.watched[i].track.current() {
            if let Some(edit) = only_failed_tasks(&mut spec, a) {
                applied.push(edit);
            }
        }
        Some((spec, applied))
    }

    // ---------------------------------------------------------------------------------------
    // Pipelines: steps wait for their predecessors; a pipeline ends with its steps

    /// The watched step `name` of the same pipeline as track `i`.
    fn step_index(&self, i: usize, name: &str) -> Option<usize> {
        let pipeline = &self.watched[i].track.step_of.as_ref()?.pipeline;
        self.watched.iter().position(|w| {
            w.track
                .step_of
                .as_ref()
                .is_some_and(|s| &s.pipeline == pipeline && s.name == name)
        })
    }

    /// Whether step `i` can launch now, and after which jobs.
    fn gate(&self, i: usize) -> Gate {
        let t = &self.watched[i].track;
        let Some(step) = &t.step_of else {
            return Gate::Go(Vec::new());
        };
        let my_key = backend::launch_key(&t.backend_spec(), t);
        let mut after = Vec::new();
        for name in &step.after {
            let Some(j) = self.step_index(i, name) else {
                return Gate::Blocked(format!("its step {name} is not part of the pipeline"));
            };
            let pred = &self.watched[j].track;
            match pred.outcome {
                Some(Outcome::Succeeded) => continue,
                Some(o) => {
                    return Gate::Blocked(format!(
                        "step {name} {}",
                        match o {
                            Outcome::Failed => "failed",
                            _ => "was cancelled",
                        }
                    ))
                }
                None => {}
            }
            // Still running: the cluster can hold this step until it succeeds, when both run
            // on the same SLURM; otherwise wait here.
            let Some(a) = pred.current() else {
                return Gate::Wait;
            };
            match (&a.job, a.finished) {
                (Some(job @ JobHandle::Slurm { .. }), false)
                    if BackendKey::of(job, pred) == my_key
                        && matches!(my_key, BackendKey::Slurm(_)) =>
                {
                    after.push(job.id())
                }
                _ => return Gate::Wait,
            }
        }
        Gate::Go(after)
    }

    /// Withdraws step `i`'s current attempt when a job it waits for failed: its job is
    /// cancelled (SLURM would keep it pending for ever, or cancel it), and it will launch again
    /// after the relaunched step, or end with the pipeline. True if it was withdrawn.
    async fn withdraw_if_orphaned(&mut self, i: usize) -> bool {
        let failed_dep = {
            let t = &self.watched[i].track;
            let Some(a) = t
                .current()
                .filter(|a| !a.finished && !a.depends_on.is_empty())
            else {
                return false;
            };
            let Some(step) = &t.step_of else { return false };
            step.after.iter().find_map(|name| {
                let j = self.step_index(i, name)?;
                self.watched[j].track.attempts.iter().find_map(|pa| {
                    let id = pa.job.as_ref()?.id();
                    let failed = pa.finished && !pa.state().is_some_and(|s| s.is_success());
                    (failed && a.depends_on.contains(&id)).then(|| (name.clone(), id))
                })
            })
        };
        let Some((name, dep)) = failed_dep else {
            return false;
        };
        let job = self.watched[i].track.current().and_then(|a| a.job.clone());
        if let Some(job) = &job {
            let key = BackendKey::of(job, &self.watched[i].track);
            if let Ok(b) = self.backend(&key, i) {
                if let Err(e) = b.cancel(job).await {
                    tracing::warn!("cannot cancel {}: {e:#}", job.id());
                }
            }
        }
        let why = format!("step {name} failed (job {dep}), so this attempt could not run");
        let n = {
            let a = self.watched[i].track.current_mut().expect("an attempt");
            a.finished = true;
            a.withdrawn = Some(why.clone());
            a.n
        };
        let job_id = job.map(|j| j.id()).unwrap_or_default();
        let msg = format!("attempt {n}: withdrawn: {why}");
        self.record(
            i,
            "withdrawn",
            Some(&msg),
            json!({"attempt": n, "job": job_id, "reason": why}),
        );
        true
    }

    /// Launches the steps whose predecessors allow it, ends the steps that can never run, and
    /// ends each pipeline when all its steps have.
    async fn advance_pipelines(&mut self) -> Result<()> {
        for i in 0..self.watched.len() {
            let ready = {
                let w = &self.watched[i];
                let t = &w.track;
                t.step_of.is_some()
                    && !t.is_done()
                    && w.recovery_due.is_none()
                    && t.current().is_none_or(|a| a.finished)
            };
            if !ready {
                continue;
            }
            // A step concluded as a failure ended its track already; here only steps that have
            // not run, or whose attempt was withdrawn.
            match self.gate(i) {
                Gate::Wait => {}
                Gate::Go(after) => {
                    let spec = self.watched[i].track.current().and_then(|a| a.spec.clone());
                    self.launch_after(i, spec, Vec::new(), after).await?;
                }
                Gate::Blocked(why) => {
                    self.watched[i].track.outcome = Some(Outcome::Cancelled);
                    let msg = format!("not run: {why}");
                    self.record(
                        i,
                        "finished",
                        Some(&msg),
                        json!({"outcome": "cancelled", "reason": why}),
                    );
                }
            }
        }
        for i in 0..self.watched.len() {
            let t = &self.watched[i].track;
            if !t.is_pipeline() || t.is_done() {
                continue;
            }
            let steps: Vec<Option<Outcome>> = self
                .watched
                .iter()
                .filter(|w| w.track.step_of.as_ref().is_some_and(|s| s.pipeline == t.id))
                .map(|w| w.track.outcome)
                .collect();
            if steps.is_empty() || steps.iter().any(Option::is_none) {
                continue;
            }
            let outcome = if steps.iter().all(|o| *o == Some(Outcome::Succeeded)) {
                Outcome::Succeeded
            } else if steps.contains(&Some(Outcome::Failed)) {
                Outcome::Failed
            } else {
                Outcome::Cancelled
            };
            self.watched[i].track.outcome = Some(outcome);
            let msg = format!(
                "pipeline {}: {:?}",
                self.watched[i].track.experiment, outcome
            )
            .to_lowercase();
            self.record(i, "finished", Some(&msg), json!({"outcome": outcome}));
            self.publish_now(i, false).await;
        }
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Step 4: publishing

    /// A pipeline publishes its steps' rows: it gets a fresh copy of them first.
    fn attach_steps(&mut self, i: usize) {
        if !self.watched[i].track.is_pipeline() {
            return;
        }
        let id = self.watched[i].track.id.clone();
        let steps: Vec<Track> = self
            .watched
            .iter()
            .filter(|w| w.track.step_of.as_ref().is_some_and(|s| s.pipeline == id))
            .map(|w| w.track.clone())
            .collect();
        self.watched[i].track.steps = steps;
    }

    /// Publishes track `i` now: at launch (`launched`), relaunch and the end.
    async fn publish_now(&mut self, i: usize, launched: bool) {
        self.attach_steps(i);
        let w = &mut self.watched[i];
        let notes = if launched {
            self.publisher
                .on_launch(&mut w.track, &w.dir, &mut w.policy)
                .await
        } else {
            self.publisher
                .sync(&mut w.track, &w.dir, &mut w.policy)
                .await
        };
        record_policy_errors(w);
        self.show_notes(i, notes);
    }

    /// A state change, or queued GitHub updates that are due.
    async fn publish_tick(&mut self) {
        for i in 0..self.watched.len() {
            self.attach_steps(i);
            let w = &mut self.watched[i];
            let notes = self
                .publisher
                .tick(&mut w.track, &w.dir, &mut w.policy)
                .await;
            record_policy_errors(w);
            self.show_notes(i, notes);
        }
    }

    fn show_notes(&mut self, i: usize, notes: Vec<Note>) {
        let id = self.watched[i].track.id.clone();
        for (event, message) in notes {
            self.display.event(&id, event, &message, json!({}));
        }
    }

    // ---------------------------------------------------------------------------------------
    // Step 5: the live status

    /// New log lines of jobs whose logs are on this machine.
    fn tail_logs(&mut self) {
        for w in &mut self.watched {
            let Some(a) = w.track.current() else { continue };
            if a.finished
                || matches!(
                    &a.job,
                    Some(JobHandle::Slurm {
                        remote: Some(_),
                        ..
                    })
                )
            {
                continue;
            }
            let Some(path) = a.log_paths.first().cloned() else {
                continue;
            };
            let n = a.n;
            if w.follower.as_ref().is_none_or(|(fn_, _)| *fn_ != n) {
                let f = match &a.log_position {
                    Some(pos) => Follower::resume(path, pos.clone()),
                    None => Follower::new(path, Start::FromStart),
                };
                w.follower = Some((n, f));
            }
            let (_, f) = w.follower.as_mut().expect("set above");
            if let Ok(lines) = f.poll() {
                if let Some(p) = lines
                    .iter()
                    .rev()
                    .find_map(|l| super::summary::progress_of(l))
                {
                    w.progress = Some(p);
                }
                if let Some(last) = lines.iter().rev().find(|l| !l.trim().is_empty()) {
                    w.last_line = last.trim().to_string();
                }
                if let Some(partial) = f.partial_line() {
                    if !partial.trim().is_empty() {
                        w.last_line = partial.trim().to_string();
                    }
                }
            }
            let pos = f.position();
            if let Some(a) = w.track.current_mut() {
                a.log_position = Some(pos);
            }
        }
    }

    fn draw(&mut self) {
        if self.display.mode() != Mode::Tty {
            return;
        }
        let lines: Vec<(String, String)> = self
            .watched
            .iter()
            .filter(|w| !w.track.is_done() && !w.track.is_pipeline())
            .map(|w| {
                let line =
                    super::summary::status_line_with(&w.track, &w.last_line, w.progress.as_deref());
                (w.track.id.clone(), line)
            })
            .collect();
        self.display.status(&lines);
    }

    /// Sleep until the next poll or exit-file look, but at most a second while a person
    /// watches the live status or a local job runs.
    fn next_wait(&self) -> Duration {
        let now = Instant::now();
        let jobs = self.active_jobs();
        let mut wake = now + Duration::from_secs(5);
        for key in jobs.keys() {
            if *key == BackendKey::Local {
                wake = wake.min(now + Duration::from_secs(1));
                continue;
            }
            if let Some(p) = self.pacers.get(key) {
                wake = wake.min(p.next());
            }
            if let Some(t) = self.exit_checks.get(key) {
                wake = wake.min(*t);
            }
        }
        if self.display.mode() == Mode::Tty {
            wake = wake.min(now + Duration::from_secs(1));
        }
        if self.watched.iter().any(|w| w.recovery_due.is_some()) {
            wake = wake.min(now + Duration::from_secs(5));
        }
        wake.saturating_duration_since(now)
            .max(Duration::from_millis(50))
    }

    /// A future that resolves when any running local job exits (pidfd: no busy polling).
    fn first_local_exit(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        let jobs: Vec<proc::LocalJob> = self
            .watched
            .iter()
            .filter_map(|w| w.track.current())
            .filter(|a| !a.finished)
            .filter_map(|a| match &a.job {
                Some(JobHandle::Local(j)) if j.is_on_this_host() => Some(j.clone()),
                _ => None,
            })
            .collect();
        if jobs.is_empty() {
            return Box::pin(std::future::pending());
        }
        Box::pin(async move {
            let waits: Vec<_> = jobs.iter().map(|j| Box::pin(proc::wait_exit(j))).collect();
            futures_select_first(waits).await;
        })
    }
}

fn record_policy_errors(w: &mut Watched) {
    for e in w.policy.take_errors() {
        let text = e.to_string();
        let _ = w.dir.append_event("policy_error", json!({"error": text}));
        tracing::warn!(track = %w.track.id, "{text}");
        w.track.policy_errors.push(text);
    }
}

async fn interrupt_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// Resolves when the first of the futures does.
async fn futures_select_first<F: std::future::Future + Unpin>(futs: Vec<F>) {
    let mut futs = futs;
    std::future::poll_fn(move |cx| {
        for f in futs.iter_mut() {
            if std::pin::Pin::new(f).poll(cx).is_ready() {
                return std::task::Poll::Ready(());
            }
        }
        std::task::Poll::Pending
    })
    .await
}

/// Loads a stored track.
pub fn load_track(dir: &TrackDir) -> Result<Track> {
    use anyhow::Context;
    dir.load::<Track>()
        .with_context(|| format!("cannot load track {}", dir.dir.display()))
}

/// Cancels the current job of a track through the backend that serves it.
pub async fn cancel_job(track: &Track) -> Result<()> {
    let Some(job) = track.current().and_then(|a| a.job.clone()) else {
        return Ok(());
    };
    let key = BackendKey::of(&job, track);
    let b = backend::open(&key, Some(&track.backend_spec()), track)?;
    b.cancel(&job).await
}
