//! The tracking loop: launch, watch politely, diagnose, relaunch or finish — and survive being
//! killed at any point.
//!
//! One tick (at most one second, or until the next scheduler poll is due):
//!   1. `poll_slurm`    — one squeue call (plus at most one sacct call) for every tracked SLURM
//!                        job, only when the adaptive interval says so;
//!   2. `poll_local`    — local jobs' status from /proc and their status files (no scheduler);
//!   3. `finish_ended`  — diagnose attempts that ended; relaunch or finish the track;
//!   4. `tail_logs`     — new log lines for the live status;
//!   5. `save`          — state is written atomically whenever something changed.
//!
//! Every side effect is written down before and after it happens (`launching_since`, then the
//! job id), so a resumed tracker neither repeats a submission nor loses one.

use super::display::{Display, Mode};
use super::model::{Attempt, JobHandle, Launch, Lease, Outcome, Track};
use super::publish::{Note, Publisher};
use super::store::TrackDir;
use crate::diagnose::{Diagnosis, Input};
use crate::edits::{make_dirs, AppliedEdit, FixCtx, JobSpec};
use crate::job::{format_duration, JobInfo, JobState};
use crate::logtail::follow::{Follower, Start};
use crate::logtail::read_tail;
use crate::lua::{GuardedPolicy, PolicySource};
use crate::proc;
use crate::settings::PollSettings;
use crate::slurm::{Backoff, JobRef, Slurm, SlurmError};
use anyhow::{bail, Context, Result};
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

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
    /// The GitHub client of a dispatched track, made once.
    github: Option<crate::github::Client>,
}

pub struct Engine {
    slurm: Slurm,
    watched: Vec<Watched>,
    display: Display,
    /// When the next scheduler poll is due, and the interval after it.
    next_poll: Instant,
    interval: Duration,
    backoff: Backoff,
    /// The results branch, doc and PR of every track.
    publisher: Publisher,
}

impl Engine {
    pub fn new(slurm: Slurm, mode: Mode) -> Engine {
        Engine {
            slurm,
            watched: Vec::new(),
            display: Display::new(mode),
            next_poll: Instant::now(),
            interval: Duration::from_secs(15),
            backoff: Backoff::new(Duration::from_secs(5), Duration::from_secs(300)),
            publisher: Publisher::new(),
        }
    }

    /// Adds a track to watch, taking its lease (refused if another live tracker holds it).
    pub fn add(&mut self, mut track: Track) -> Result<()> {
        let dir = TrackDir::new(&track.root, &track.id);
        if let Some(lease) = &track.lease {
            if lease_alive(lease) && lease.pid != std::process::id() as i32 {
                bail!(
                    "track {} is already being watched by trackit pid {} on {}; stop it first or wait for it",
                    track.id,
                    lease.pid,
                    lease.host
                );
            }
        }
        track.lease = own_lease();
        let source = match &track.policy {
            Some(p) => PolicySource::File(p.clone()),
            None => crate::lua::resolve(None, &track.root),
        };
        let mut policy = GuardedPolicy::load(&source);
        let poll = policy.host().settings().poll;
        let first = Duration::from_secs_f64(poll.first_s.max(poll.min_s).max(0.2));
        self.interval = if self.watched.is_empty() {
            first
        } else {
            self.interval.min(first)
        };
        let mut w = Watched {
            track,
            dir,
            policy,
            poll,
            follower: None,
            last_line: String::new(),
            github: None,
        };
        record_policy_errors(&mut w);
        w.dir.save(&w.track)?;
        self.watched.push(w);
        Ok(())
    }

    /// Launches the next attempt of every track that has none running (a new track, or one
    /// resumed before its first launch).
    pub async fn launch_pending(&mut self) -> Result<()> {
        for i in 0..self.watched.len() {
            let needs = {
                let t = &self.watched[i].track;
                !t.is_done() && t.current().is_none_or(|a| a.finished)
            };
            if needs {
                self.launch(i, None, Vec::new()).await?;
            }
        }
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
        let mut interrupted = Box::pin(interrupt_signal());
        loop {
            if self.watched.iter().all(|w| w.track.is_done()) {
                break;
            }
            let now = Instant::now();
            if now >= self.next_poll && self.has_active_slurm() {
                self.poll_slurm().await;
            }
            if now >= self.next_poll && self.has_active_workflow() {
                self.poll_workflows().await;
            }
            self.poll_local();
            self.finish_ended().await?;
            self.publish_tick().await;
            self.tail_logs();
            self.draw();
            if self.watched.iter().all(|w| w.track.is_done()) {
                break;
            }
            let wait = self.next_wait();
            let local_exit = self.first_local_exit();
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = local_exit => {}
                _ = &mut interrupted => {
                    self.display.clear();
                    for w in &mut self.watched {
                        w.track.lease = None;
                        let _ = w.dir.append_event("interrupted", json!({}));
                        let _ = w.dir.save(&w.track);
                    }
                    return Ok(RunEnd::Interrupted);
                }
            }
        }
        for i in 0..self.watched.len() {
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

    fn has_active_slurm(&self) -> bool {
        self.watched.iter().any(|w| {
            !w.track.is_done()
                && w.track
                    .current()
                    .is_some_and(|a| !a.finished && matches!(a.job, Some(JobHandle::Slurm { .. })))
        })
    }

    /// Sleep until the next poll, but at most a second when a person is watching the live
    /// status or a local job's log is followed.
    fn next_wait(&self) -> Duration {
        let until_poll = self.next_poll.saturating_duration_since(Instant::now());
        let tick = if self.display.mode() == Mode::Tty || !self.has_active_slurm() {
            Duration::from_secs(1)
        } else {
            Duration::from_secs(5)
        };
        until_poll.min(tick).max(Duration::from_millis(50))
    }

    /// A future that resolves when any running local job exits (pidfd: no busy polling).
    fn first_local_exit(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        let jobs: Vec<proc::LocalJob> = self
            .watched
            .iter()
            .filter_map(|w| w.track.current())
            .filter(|a| !a.finished)
            .filter_map(|a| match &a.job {
                Some(JobHandle::Local(j)) => Some(j.clone()),
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

    /// Step 1: one batched scheduler query for every active SLURM attempt.
    async fn poll_slurm(&mut self) {
        let mut refs = Vec::new();
        for w in &self.watched {
            if let Some(a) = w.track.current() {
                if let (
                    false,
                    Some(JobHandle::Slurm {
                        id,
                        submitted_after,
                        name,
                    }),
                ) = (a.finished, &a.job)
                {
                    let mut r = JobRef::new(id.clone());
                    r.submitted_after = *submitted_after;
                    r.name = name.clone();
                    refs.push(r);
                }
            }
        }
        if refs.is_empty() {
            return;
        }
        let result = self.slurm.poll(&refs).await;
        tracing::debug!(
            jobs = refs.len(),
            squeue_calls_total = self.slurm.calls().squeue,
            sacct_calls_total = self.slurm.calls().sacct,
            "poll cycle"
        );
        match result {
            Ok(poll) => {
                self.backoff.reset();
                let mut changed = false;
                for w in &mut self.watched {
                    let max = w.track.max_attempts;
                    let track_id = w.track.id.clone();
                    let Some(a) = w.track.current_mut() else {
                        continue;
                    };
                    let Some(JobHandle::Slurm { id, .. }) = &a.job else {
                        continue;
                    };
                    if a.finished {
                        continue;
                    }
                    let id = id.clone();
                    let tasks: Vec<JobInfo> = poll.for_job(&id).cloned().collect();
                    if tasks.is_empty() {
                        continue; // not visible yet (or forgotten): keep the last known state
                    }
                    let before = a.state();
                    let states_before: Vec<_> =
                        a.tasks.iter().map(|t| (t.id.clone(), t.state)).collect();
                    a.tasks = tasks;
                    let states_after: Vec<_> =
                        a.tasks.iter().map(|t| (t.id.clone(), t.state)).collect();
                    if states_before != states_after {
                        changed = true;
                        let after = a.state();
                        let n = a.n;
                        let word = after
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "PENDING".into());
                        let msg = format!("attempt {n}/{max}: job {id} {word}");
                        let _ = w.dir.append_event(
                            "state",
                            json!({"attempt": n, "job": id, "state": after, "before": before}),
                        );
                        self.display.event(
                            &track_id,
                            "state",
                            &msg,
                            json!({"attempt": n, "job": id, "state": after}),
                        );
                        let _ = w.dir.save(&w.track);
                    }
                }
                // Polite: back off while nothing changes, start over after a change.
                let poll_cfg = self.poll_settings();
                self.interval = if changed {
                    Duration::from_secs_f64(poll_cfg.first_s.max(poll_cfg.min_s))
                } else {
                    Duration::from_secs_f64(
                        (self.interval.as_secs_f64() * poll_cfg.growth)
                            .min(poll_cfg.max_s)
                            .max(poll_cfg.min_s),
                    )
                };
                self.next_poll = Instant::now() + self.interval;
            }
            Err(e) => {
                // Never a job state: wait and ask again.
                let delay = self.backoff.next_delay();
                let transient = e.is_transient();
                for w in &self.watched {
                    let _ = w.dir.append_event(
                        "scheduler_unreachable",
                        json!({"error": e.to_string(), "retry_in_s": delay.as_secs()}),
                    );
                }
                let msg = format!(
                    "scheduler {}: {e}; retrying in {}s",
                    if transient { "unreachable" } else { "error" },
                    delay.as_secs()
                );
                if let Some(w) = self.watched.first() {
                    self.display.event(
                        &w.track.id,
                        "scheduler_unreachable",
                        &msg,
                        json!({"retry_in_s": delay.as_secs()}),
                    );
                }
                self.next_poll = Instant::now() + delay;
            }
        }
    }

    /// The most polite poll settings among the watched tracks' policies.
    fn poll_settings(&self) -> PollSettings {
        let mut p = self.watched.first().map(|w| w.poll).unwrap_or_default();
        for w in &self.watched {
            p.first_s = p.first_s.max(w.poll.first_s);
            p.max_s = p.max_s.max(w.poll.max_s);
            p.min_s = p.min_s.max(w.poll.min_s);
            p.growth = p.growth.max(w.poll.growth);
        }
        p
    }

    /// Step 2: local jobs (cheap: /proc and the status file).
    fn poll_local(&mut self) {
        for w in &mut self.watched {
            let Some(a) = w.track.current_mut() else {
                continue;
            };
            if a.finished {
                continue;
            }
            let Some(JobHandle::Local(job)) = &a.job else {
                continue;
            };
            let info = proc::status(job);
            let before = a.state();
            let changed =
                a.tasks.first().map(|t| (t.state, t.exit)) != Some((info.state, info.exit));
            a.tasks = vec![info];
            if changed {
                let after = a.state();
                let (n, id) = (a.n, job.id());
                let _ = w.dir.append_event(
                    "state",
                    json!({"attempt": n, "job": id, "state": after, "before": before}),
                );
                let msg = format!(
                    "attempt {n}/{}: {id} {}",
                    w.track.max_attempts,
                    after.map(|s| s.to_string()).unwrap_or_default()
                );
                self.display.event(
                    &w.track.id,
                    "state",
                    &msg,
                    json!({"attempt": n, "job": id, "state": after}),
                );
                let _ = w.dir.save(&w.track);
            }
        }
    }

    /// Step 3: attempts that ended get diagnosed; then relaunch or finish.
    async fn finish_ended(&mut self) -> Result<()> {
        for i in 0..self.watched.len() {
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

    async fn conclude_attempt(&mut self, i: usize) -> Result<()> {
        self.enrich_with_accounting(i).await;
        let w = &mut self.watched[i];
        let attempt = w.track.current().cloned().expect("an attempt");
        let state = attempt.state();
        let diagnosis = diagnose_attempt(&mut w.policy, &w.track, &attempt);
        record_policy_errors(w);
        let n = attempt.n;
        {
            let a = w.track.current_mut().unwrap();
            a.diagnosis = Some(diagnosis.clone());
            a.finished = true;
        }
        let _ = w
            .dir
            .append_event("diagnosed", json!({"attempt": n, "diagnosis": diagnosis}));
        if state == Some(JobState::Completed) {
            w.track.outcome = Some(Outcome::Succeeded);
            w.dir.save(&w.track)?;
            let _ = w
                .dir
                .append_event("finished", json!({"outcome": "succeeded"}));
            let msg = format!("attempt {n}/{}: completed", w.track.max_attempts);
            self.display.event(
                &w.track.id,
                "finished",
                &msg,
                json!({"outcome": "succeeded"}),
            );
            self.publish_now(i, false).await;
            return Ok(());
        }
        let msg = format!(
            "attempt {n}/{} failed: {}: {}",
            w.track.max_attempts, diagnosis.kind, diagnosis.summary
        );
        self.display.event(
            &w.track.id,
            "diagnosed",
            &msg,
            json!({"attempt": n, "kind": diagnosis.kind, "summary": diagnosis.summary}),
        );
        w.dir.save(&w.track)?;

        match self.plan_relaunch(i, &diagnosis) {
            Some((spec, applied)) => self.launch(i, Some(spec), applied).await,
            None => {
                let w = &mut self.watched[i];
                let cancelled = state == Some(JobState::Cancelled) && diagnosis.kind == "cancelled";
                w.track.outcome = Some(if cancelled {
                    Outcome::Cancelled
                } else {
                    Outcome::Failed
                });
                w.dir.save(&w.track)?;
                let _ = w
                    .dir
                    .append_event("finished", json!({"outcome": w.track.outcome}));
                self.publish_now(i, false).await;
                Ok(())
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
        let w = &mut self.watched[i];
        let t = &w.track;
        if t.attempts.len() as u32 >= t.max_attempts || !diagnosis.fixable {
            return None;
        }
        if matches!(t.launch, Launch::AttachPid { .. }) {
            return None;
        }
        let current = t.current()?;
        let spec = match &current.spec {
            Some(s) => s.clone(),
            None => initial_spec(t, &current.launch_args).ok()?,
        };
        let history: Vec<AppliedEdit> = t
            .attempts
            .iter()
            .flat_map(|a| a.applied.iter().cloned())
            .collect();
        let settings = w.policy.host().settings().clone();
        let ctx = FixCtx::new(diagnosis, current.deciding_task(), &spec, &settings)
            .with_attempt(current.n, t.max_attempts)
            .with_history(history)
            .with_repo_root(&t.root);
        let root = t.root.clone();
        let plan = w.policy.plan_fix(&ctx, &spec, &root);
        record_policy_errors(w);
        let n = w.track.current().map(|a| a.n).unwrap_or(0);
        let _ = w.dir.append_event(
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
                        format!("no fixer for {}", diagnosis.kind)
                    }
                });
            self.display.event(
                &w.track.id,
                "no_fix",
                &format!("no relaunch: {why}"),
                json!({"kind": diagnosis.kind}),
            );
            return None;
        }
        if let Err(e) = make_dirs(&plan.applied) {
            self.display.event(
                &w.track.id,
                "error",
                &format!("cannot create a directory the fix needs: {e}"),
                json!({}),
            );
            return None;
        }
        Some((plan.spec, plan.applied))
    }

    /// Launches attempt n+1 with `args` (empty: the track's own launch arguments).
    async fn launch(
        &mut self,
        i: usize,
        spec: Option<JobSpec>,
        applied: Vec<AppliedEdit>,
    ) -> Result<()> {
        let w = &mut self.watched[i];
        let n = w.track.attempts.len() as u32 + 1;
        let spec = match spec {
            Some(s) => Some(s),
            None => initial_spec(&w.track, &base_args(&w.track)).ok(),
        };
        // An edited script is written beside the state: the user's own tree is never touched.
        let args = match &spec {
            Some(spec) => launch_args_for(&w.track, &w.dir, n, spec)?,
            None => base_args(&w.track),
        };
        let edits: Vec<String> = applied.iter().map(|a| a.display.clone()).collect();
        let now = chrono::Utc::now().timestamp();
        w.track.attempts.push(Attempt {
            n,
            launching_since: Some(now),
            launch_args: args.clone(),
            edits: edits.clone(),
            applied,
            spec: spec.clone(),
            ..Default::default()
        });
        // Write down the intent before acting: a resume will look for this launch.
        w.dir.save(&w.track)?;
        let _ = w.dir.append_event(
            "launching",
            json!({"attempt": n, "args": args, "edits": edits}),
        );
        if n > 1 {
            let msg = format!(
                "attempt {n}/{}: relaunching: {}",
                w.track.max_attempts,
                edits.join("; ")
            );
            self.display.event(
                &w.track.id,
                "relaunch",
                &msg,
                json!({"attempt": n, "edits": edits}),
            );
        }
        let result = match w.track.launch.clone() {
            Launch::Slurm { .. } => match self.dispatch_target(i) {
                Some((workflow, config)) => {
                    self.dispatch_run(i, &workflow, config, spec.as_ref()).await
                }
                None => self.submit_slurm(i, &args).await,
            },
            Launch::AttachSlurm { .. } => self.submit_slurm(i, &args).await,
            Launch::Local { .. } => {
                let env = match &spec {
                    Some(JobSpec::Local { env, .. }) => env.clone(),
                    _ => Vec::new(),
                };
                self.spawn_local(i, &args, &env)
            }
            Launch::AttachPid { .. } => {
                Err(anyhow::anyhow!("an attached process cannot be relaunched"))
            }
        };
        let w = &mut self.watched[i];
        if let Err(e) = result {
            let a = w.track.current_mut().unwrap();
            a.launching_since = None;
            a.launch_error = Some(format!("{e:#}"));
            w.dir.save(&w.track)?;
            let _ = w.dir.append_event(
                "launch_failed",
                json!({"attempt": n, "error": format!("{e:#}")}),
            );
            self.display.event(
                &w.track.id,
                "error",
                &format!("attempt {n}: launch failed: {e:#}"),
                json!({"attempt": n}),
            );
        }
        self.publish_now(i, true).await;
        Ok(())
    }

    /// Publishes track `i` now: at launch (`launched`), relaunch and the end.
    async fn publish_now(&mut self, i: usize, launched: bool) {
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

    /// The dispatch workflow to use instead of sbatch: the policy names one, the repository
    /// has it under `.github/workflows/`, and a GitHub repository and token resolve.
    fn dispatch_target(&mut self, i: usize) -> Option<(String, crate::github::Config)> {
        let w = &mut self.watched[i];
        let workflow = w.policy.host().settings().dispatch_workflow.clone()?;
        if !w
            .track
            .root
            .join(".github")
            .join("workflows")
            .join(&workflow)
            .is_file()
        {
            return None;
        }
        let facts = crate::git::repo_facts(&w.track.root).ok()?;
        let origin = facts
            .remotes
            .iter()
            .find(|r| r.name == "origin")
            .map(|r| r.url.clone());
        let config = crate::github::Config::from_process_env(origin.as_deref()).ok()?;
        config.token.as_ref()?;
        Some((workflow, config))
    }

    /// `trackit sbatch` through the cluster's dispatch workflow: a self-hosted runner submits the
    /// job. The run is found by listing runs created after the dispatch (GHES returns no id).
    async fn dispatch_run(
        &mut self,
        i: usize,
        workflow: &str,
        config: crate::github::Config,
        spec: Option<&JobSpec>,
    ) -> Result<()> {
        let Some(JobSpec::Slurm {
            script_rel,
            script_text,
            ..
        }) = spec
        else {
            bail!("dispatching {workflow} needs the job script");
        };
        if script_rel.as_os_str().is_empty() {
            bail!("dispatching {workflow} needs a script file (not --wrap)");
        }
        // An edited script must be on a branch the runner can check out: the results branch.
        let edited = std::fs::read_to_string(self.watched[i].track.root.join(script_rel))
            .map_or(true, |original| original != *script_text);
        if edited {
            self.publish_now(i, false).await;
        }
        let w = &self.watched[i];
        let git_ref = match (edited, &w.track.published.branch) {
            (true, Some(branch)) => branch.clone(),
            _ => crate::git::repo_facts(&w.track.root)
                .ok()
                .and_then(|f| f.branch)
                .unwrap_or_else(|| "main".into()),
        };
        let n = w.track.current().map(|a| a.n).unwrap_or(1);
        let mut inputs = serde_json::Map::new();
        inputs.insert("script".into(), json!(script_rel.to_string_lossy()));
        inputs.insert("wandb_run".into(), json!(format!("{}-a{n}", w.track.id)));
        let client = crate::github::Client::new(config)?;
        let Some(run_id) = client
            .dispatch_and_find_run(workflow, &git_ref, &inputs, Duration::from_secs(180))
            .await?
        else {
            bail!("the run dispatched from {workflow} did not appear within 3 minutes");
        };
        // Kept for the polls: no repository or config lookups per poll.
        self.watched[i].github = Some(client);
        let w = &mut self.watched[i];
        let a = w.track.current_mut().unwrap();
        a.job = Some(JobHandle::Workflow {
            workflow: workflow.to_string(),
            run_id,
            git_ref: git_ref.clone(),
        });
        a.launching_since = None;
        w.dir.save(&w.track)?;
        let _ = w.dir.append_event(
            "dispatched",
            json!({"attempt": n, "workflow": workflow, "run": run_id, "ref": git_ref}),
        );
        let msg = format!(
            "attempt {n}/{}: dispatched {workflow} on {git_ref}: run {run_id}",
            w.track.max_attempts
        );
        self.display.event(
            &w.track.id,
            "submitted",
            &msg,
            json!({"attempt": n, "run": run_id}),
        );
        self.next_poll = Instant::now() + Duration::from_secs_f64(w.poll.first_s.max(w.poll.min_s));
        Ok(())
    }

    fn has_active_workflow(&self) -> bool {
        self.watched.iter().any(|w| {
            !w.track.is_done()
                && w.track.current().is_some_and(|a| {
                    !a.finished && matches!(a.job, Some(JobHandle::Workflow { .. }))
                })
        })
    }

    /// The status of each active workflow run (one GET per run); failed jobs' logs are
    /// downloaded next to the state for the diagnosis.
    async fn poll_workflows(&mut self) {
        for i in 0..self.watched.len() {
            let (run_id, n) = {
                let w = &self.watched[i];
                match w.track.current() {
                    Some(a) if !a.finished && !w.track.is_done() => match &a.job {
                        Some(JobHandle::Workflow { run_id, .. }) => (*run_id, a.n),
                        _ => continue,
                    },
                    _ => continue,
                }
            };
            // After a resume the client is made once, from the repository's origin.
            if self.watched[i].github.is_none() {
                self.watched[i].github = self
                    .dispatch_target(i)
                    .and_then(|(_, config)| crate::github::Client::new(config).ok());
            }
            let Some(client) = self.watched[i].github.take() else {
                continue;
            };
            let run = match client.get_run(run_id).await {
                Ok(r) => r,
                Err(e) => {
                    self.watched[i].github = Some(client);
                    let id = self.watched[i].track.id.clone();
                    self.display.event(
                        &id,
                        "github_unreachable",
                        &format!("GitHub: {e}; retrying"),
                        json!({}),
                    );
                    continue;
                }
            };
            let state = match (run.status.as_deref(), run.conclusion.as_deref()) {
                (Some("completed"), Some("success")) => JobState::Completed,
                (Some("completed"), Some("cancelled")) => JobState::Cancelled,
                (Some("completed"), Some("timed_out")) => JobState::Timeout,
                (Some("completed"), _) => JobState::Failed,
                (Some("in_progress"), _) => JobState::Running,
                _ => JobState::Pending,
            };
            let mut logs = Vec::new();
            if state.is_terminal() && !state.is_success() {
                let dir = self.watched[i].dir.dir.join(format!("attempt-{n}"));
                let _ = std::fs::create_dir_all(&dir);
                if let Ok(jobs) = client.list_run_jobs(run_id).await {
                    for job in jobs
                        .iter()
                        .filter(|j| j.conclusion.as_deref() != Some("success"))
                    {
                        if let Ok(text) = client.download_job_logs(job.id).await {
                            let path = dir.join(format!("job-{}.log", job.id));
                            if std::fs::write(&path, text).is_ok() {
                                logs.push(path);
                            }
                        }
                    }
                }
            }
            let info = JobInfo {
                id: format!("run:{run_id}"),
                state: Some(state),
                exit: state
                    .is_terminal()
                    .then(|| crate::job::ExitStatus::code(if state.is_success() { 0 } else { 1 })),
                ..Default::default()
            };
            self.watched[i].github = Some(client);
            let w = &mut self.watched[i];
            let a = w.track.current_mut().unwrap();
            let changed = a.tasks.first().and_then(|t| t.state) != Some(state);
            a.tasks = vec![info];
            if !logs.is_empty() {
                a.log_paths = logs;
            }
            if changed {
                let _ = w.dir.append_event(
                    "state",
                    json!({"attempt": n, "job": format!("run:{run_id}"), "state": state}),
                );
                let msg = format!("attempt {n}/{}: run {run_id} {state}", w.track.max_attempts);
                let id = w.track.id.clone();
                let _ = w.dir.save(&w.track);
                self.display
                    .event(&id, "state", &msg, json!({"attempt": n, "state": state}));
            }
        }
        let p = self.poll_settings();
        self.interval = Duration::from_secs_f64(
            (self.interval.as_secs_f64() * p.growth)
                .min(p.max_s)
                .max(p.min_s),
        );
        self.next_poll = Instant::now() + self.interval;
    }

    async fn submit_slurm(&mut self, i: usize, args: &[String]) -> Result<()> {
        let cwd = self.watched[i].track.cwd.clone();
        let mut backoff = Backoff::new(Duration::from_secs(2), Duration::from_secs(120));
        let started = Instant::now();
        let submitted = loop {
            match self.slurm.submit(args, &cwd, &[]).await {
                Ok(s) => break s,
                Err(e) if e.is_transient() && started.elapsed() < Duration::from_secs(1800) => {
                    let delay = backoff.next_delay();
                    let w = &self.watched[i];
                    self.display.event(
                        &w.track.id,
                        "scheduler_unreachable",
                        &format!("sbatch: {e}; retrying in {}s", delay.as_secs()),
                        json!({}),
                    );
                    tokio::time::sleep(delay).await;
                }
                Err(SlurmError::Refused(stderr)) => {
                    bail!("sbatch refused the job: {}", stderr.trim())
                }
                Err(e) => return Err(e.into()),
            }
        };
        let details = self
            .slurm
            .job_details(&submitted.job_id)
            .await
            .unwrap_or_default();
        let w = &mut self.watched[i];
        let name = details.first().and_then(|d| d.name.clone());
        let logs = crate::slurm::log_paths(&details);
        let a = w.track.current_mut().unwrap();
        a.job = Some(JobHandle::Slurm {
            id: submitted.job_id.clone(),
            submitted_after: Some(submitted.submitted_at),
            name,
        });
        a.launching_since = None;
        a.log_paths = logs;
        let n = a.n;
        w.dir.save(&w.track)?;
        let _ = w
            .dir
            .append_event("submitted", json!({"attempt": n, "job": submitted.job_id}));
        let msg = format!(
            "attempt {n}/{}: submitted job {}",
            w.track.max_attempts, submitted.job_id
        );
        self.display.event(
            &w.track.id,
            "submitted",
            &msg,
            json!({"attempt": n, "job": submitted.job_id}),
        );
        // The first look comes after the policy's first interval, not at once.
        self.next_poll = Instant::now() + Duration::from_secs_f64(w.poll.first_s.max(w.poll.min_s));
        Ok(())
    }

    fn spawn_local(&mut self, i: usize, args: &[String], env: &[(String, String)]) -> Result<()> {
        let w = &mut self.watched[i];
        let n = w.track.current().unwrap().n;
        let run_dir = w.dir.dir.join(format!("attempt-{n}"));
        let job = proc::spawn(args, &w.track.cwd, env, &run_dir)?;
        let a = w.track.current_mut().unwrap();
        a.log_paths = job.log_path.iter().cloned().collect();
        a.job = Some(JobHandle::Local(job.clone()));
        a.launching_since = None;
        w.dir.save(&w.track)?;
        let _ = w
            .dir
            .append_event("started", json!({"attempt": n, "pid": job.pid}));
        let msg = format!(
            "attempt {n}/{}: started {} ({})",
            w.track.max_attempts,
            job.id(),
            args.join(" ")
        );
        self.display.event(
            &w.track.id,
            "started",
            &msg,
            json!({"attempt": n, "job": job.id()}),
        );
        Ok(())
    }

    /// After a crash between "launching" and "launched": find out whether the launch happened.
    async fn recover_interrupted_launches(&mut self) -> Result<()> {
        for i in 0..self.watched.len() {
            let pending = {
                let w = &self.watched[i];
                w.track.current().and_then(|a| {
                    a.launching_since
                        .filter(|_| a.job.is_none())
                        .map(|t| (a.n, t))
                })
            };
            let Some((n, since)) = pending else { continue };
            // A dispatch that may have happened: adopt the run it created, never dispatch twice.
            if matches!(self.watched[i].track.launch, Launch::Slurm { .. }) {
                if let Some((workflow, config)) = self.dispatch_target(i) {
                    let known: std::collections::HashSet<u64> = self.watched[i]
                        .track
                        .attempts
                        .iter()
                        .filter_map(|a| match &a.job {
                            Some(JobHandle::Workflow { run_id, .. }) => Some(*run_id),
                            _ => None,
                        })
                        .collect();
                    let git_ref = crate::git::repo_facts(&self.watched[i].track.root)
                        .ok()
                        .and_then(|f| f.branch)
                        .unwrap_or_else(|| "main".into());
                    let after = chrono::DateTime::from_timestamp(since - 5, 0)
                        .unwrap_or_else(chrono::Utc::now);
                    let run = match crate::github::Client::new(config) {
                        Ok(c) => c
                            .find_dispatched_run(&workflow, &git_ref, after, &known)
                            .await
                            .ok()
                            .flatten(),
                        Err(_) => None,
                    };
                    let w = &mut self.watched[i];
                    match run {
                        Some(run) => {
                            let a = w.track.current_mut().unwrap();
                            a.job = Some(JobHandle::Workflow {
                                workflow,
                                run_id: run.id,
                                git_ref,
                            });
                            a.launching_since = None;
                            let _ = w.dir.append_event(
                                "recovered_launch",
                                json!({"attempt": n, "run": run.id}),
                            );
                        }
                        None => {
                            w.track.attempts.pop();
                            let _ = w
                                .dir
                                .append_event("relaunch_after_crash", json!({"attempt": n}));
                        }
                    }
                    w.dir.save(&w.track)?;
                    continue;
                }
            }
            let found = match self.watched[i].track.launch {
                Launch::Slurm { .. } | Launch::AttachSlurm { .. } => {
                    self.find_submitted_since(i, since).await
                }
                _ => None,
            };
            let w = &mut self.watched[i];
            match found {
                Some(id) => {
                    let a = w.track.current_mut().unwrap();
                    a.job = Some(JobHandle::Slurm {
                        id: id.clone(),
                        submitted_after: Some(since),
                        name: None,
                    });
                    a.launching_since = None;
                    let _ = w
                        .dir
                        .append_event("recovered_launch", json!({"attempt": n, "job": id}));
                    self.display.event(
                        &w.track.id,
                        "recovered",
                        &format!(
                            "attempt {n}: found job {id} submitted before the tracker stopped"
                        ),
                        json!({}),
                    );
                }
                None => {
                    // Nothing was launched: drop the half-made attempt and launch it again.
                    w.track.attempts.pop();
                    let _ = w
                        .dir
                        .append_event("relaunch_after_crash", json!({"attempt": n}));
                }
            }
            w.dir.save(&w.track)?;
        }
        Ok(())
    }

    /// Our job submitted after `since` (epoch s) from this track's working directory with this
    /// track's script, that no attempt knows yet — if exactly one. Other jobs the user submits
    /// meanwhile differ in directory or script.
    async fn find_submitted_since(&self, i: usize, since: i64) -> Option<String> {
        let track = &self.watched[i].track;
        let cwd = std::fs::canonicalize(&track.cwd).unwrap_or_else(|_| track.cwd.clone());
        let script = track
            .current()
            .and_then(|a| script_of(&a.launch_args, &track.cwd));
        let user = std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(whoami);
        // Bounded like every other scheduler call: an unreachable controller must not hang resume.
        let query = tokio::process::Command::new(&self.slurm.commands().squeue)
            .args(["-h", "-u", &user, "-t", "all", "-o", "%i|%V|%Z|%o"])
            .env("SLURM_TIME_FORMAT", "%s")
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(self.slurm.timeout(), query)
            .await
            .ok()?
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
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
        let mut found: Vec<String> = text
            .lines()
            .filter_map(|l| {
                let mut f = l.splitn(4, '|');
                Some((f.next()?, f.next()?, f.next()?, f.next()?))
            })
            .filter(|(_, t, _, _)| t.trim().parse::<i64>().is_ok_and(|t| t + 2 >= since))
            .filter(|(_, _, dir, _)| std::fs::canonicalize(dir.trim()).is_ok_and(|d| d == cwd))
            .filter(|(_, _, _, cmd)| match &script {
                Some(name) => std::path::Path::new(cmd.trim())
                    .file_name()
                    .is_some_and(|n| n == name.as_os_str()),
                None => true,
            })
            .map(|(id, _, _, _)| id.split('_').next().unwrap_or(id).to_string())
            .filter(|id| !known.contains(id))
            .collect();
        found.sort();
        found.dedup();
        (found.len() == 1).then(|| found.remove(0))
    }

    /// Adds MaxRSS/ReqMem/CPU time from accounting to a finished SLURM attempt (best effort:
    /// sacct lags behind the job's end by a few seconds).
    async fn enrich_with_accounting(&mut self, i: usize) {
        let refs: Vec<JobRef> = match self.watched[i].track.current().and_then(|a| a.job.clone()) {
            Some(JobHandle::Slurm {
                id,
                submitted_after,
                ..
            }) => {
                let mut r = JobRef::new(id);
                r.submitted_after = submitted_after;
                vec![r]
            }
            _ => return,
        };
        for _ in 0..5 {
            match self.slurm.accounting(&refs).await {
                Ok(rows) if !rows.is_empty() && rows.iter().all(|r| r.is_final()) => {
                    let a = self.watched[i].track.current_mut().unwrap();
                    for acct in rows {
                        let info = acct.to_job_info();
                        if let Some(task) = a.tasks.iter_mut().find(|t| t.id == info.id) {
                            task.max_rss_bytes = info.max_rss_bytes.or(task.max_rss_bytes);
                            task.req_mem_bytes = task.req_mem_bytes.or(info.req_mem_bytes);
                            task.cpu_time_s = info.cpu_time_s.or(task.cpu_time_s);
                            task.elapsed_s = task.elapsed_s.or(info.elapsed_s);
                            if task.reason.is_none() {
                                task.reason = info.reason.clone();
                            }
                        }
                    }
                    return;
                }
                Err(SlurmError::AccountingDisabled) => return,
                _ => tokio::time::sleep(Duration::from_secs(1)).await,
            }
        }
    }

    /// Step 4: new log lines, for the live status.
    fn tail_logs(&mut self) {
        for w in &mut self.watched {
            let Some(a) = w.track.current() else { continue };
            if a.finished {
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
            let (_, f) = w.follower.as_mut().unwrap();
            if let Ok(lines) = f.poll() {
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
        let lines: Vec<String> = self
            .watched
            .iter()
            .filter(|w| !w.track.is_done())
            .map(|w| status_line(&w.track, &w.last_line))
            .collect();
        self.display.status(&lines);
    }
}

/// `[attempt 1/3] job 123 RUNNING 00:01:23 / 01:00:00 | last log line`
pub fn status_line(t: &Track, last: &str) -> String {
    let Some(a) = t.current() else {
        return format!("{}: starting", t.experiment);
    };
    let job = a
        .job
        .as_ref()
        .map(|j| j.id())
        .unwrap_or_else(|| "(launching)".into());
    let state = a
        .state()
        .map(|s| s.to_string())
        .unwrap_or_else(|| "PENDING".into());
    let task = a.deciding_task();
    let elapsed = task
        .and_then(|t| t.elapsed_s)
        .map(format_duration)
        .unwrap_or_else(|| "--:--:--".into());
    let limit = task
        .and_then(|t| t.timelimit_s)
        .map(|l| format!(" / {}", format_duration(l)))
        .unwrap_or_default();
    let mut line = format!(
        "[attempt {}/{}] {} {job} {state} {elapsed}{limit}",
        a.n, t.max_attempts, t.experiment
    );
    if !last.is_empty() {
        line.push_str(" | ");
        line.push_str(last);
    }
    line
}

/// The script's file name among sbatch arguments: the first argument that names a file.
fn script_of(args: &[String], cwd: &std::path::Path) -> Option<std::ffi::OsString> {
    args.iter()
        .filter(|a| !a.starts_with('-'))
        .map(|a| cwd.join(a))
        .find(|p| p.is_file())
        .and_then(|p| p.file_name().map(|n| n.to_os_string()))
}

fn whoami() -> String {
    // SAFETY: getpwuid returns a pointer into static storage or null.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if pw.is_null() {
            return "root".into();
        }
        std::ffi::CStr::from_ptr((*pw).pw_name)
            .to_string_lossy()
            .into_owned()
    }
}

/// The job as the user launched it, as a spec the fixers can edit.
fn initial_spec(t: &Track, args: &[String]) -> Result<JobSpec> {
    match &t.launch {
        Launch::Local { .. } | Launch::AttachPid { .. } => Ok(JobSpec::Local {
            command: args.to_vec(),
            env: Vec::new(),
        }),
        Launch::Slurm { .. } | Launch::AttachSlurm { .. } => {
            let script = args
                .iter()
                .filter(|a| !a.starts_with('-'))
                .map(|a| (a, t.cwd.join(a)))
                .find(|(_, p)| p.is_file());
            let (script_rel, script_text) = match script {
                Some((_, path)) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    let abs = std::fs::canonicalize(&path).unwrap_or(path);
                    let rel = abs
                        .strip_prefix(&t.root)
                        .map(|p| p.to_path_buf())
                        .unwrap_or(abs);
                    (rel, text)
                }
                None => (PathBuf::new(), String::new()), // --wrap: only sbatch options can change
            };
            Ok(JobSpec::Slurm {
                script_rel,
                script_text,
                sbatch_args: args.to_vec(),
            })
        }
    }
}

/// The command line that runs `spec`: for SLURM, the sbatch arguments with the script argument
/// pointing at this attempt's copy when the script was edited.
fn launch_args_for(t: &Track, dir: &TrackDir, n: u32, spec: &JobSpec) -> Result<Vec<String>> {
    match spec {
        JobSpec::Local { command, .. } => Ok(command.clone()),
        JobSpec::Slurm {
            script_rel,
            script_text,
            sbatch_args,
        } => {
            if script_rel.as_os_str().is_empty() {
                return Ok(sbatch_args.clone());
            }
            let original = t.root.join(script_rel);
            let unchanged =
                std::fs::read_to_string(&original).is_ok_and(|text| text == *script_text);
            if unchanged {
                return Ok(sbatch_args.clone());
            }
            std::fs::create_dir_all(&dir.dir)?;
            let copy = dir.dir.join(format!("attempt-{n}.sh"));
            std::fs::write(&copy, script_text)?;
            let name = original.file_name();
            let mut args = sbatch_args.clone();
            if let Some(slot) = args.iter_mut().find(|a| {
                !a.starts_with('-')
                    && std::path::Path::new(a.as_str()).file_name() == name
                    && t.cwd.join(a.as_str()).is_file()
            }) {
                *slot = copy.display().to_string();
            }
            Ok(args)
        }
    }
}

/// The launch arguments of a fresh track.
fn base_args(t: &Track) -> Vec<String> {
    match &t.launch {
        Launch::Slurm { sbatch_args } => sbatch_args.clone(),
        Launch::Local { command } => command.clone(),
        Launch::AttachSlurm { .. } | Launch::AttachPid { .. } => t
            .current()
            .map(|a| a.launch_args.clone())
            .unwrap_or_default(),
    }
}

/// Reads the attempt's logs and asks the policy what went wrong.
fn diagnose_attempt(policy: &mut GuardedPolicy, track: &Track, a: &Attempt) -> Diagnosis {
    let opts = policy.host().settings().tail_options();
    let mut logs = Vec::new();
    let mut unreadable = Vec::new();
    for p in &a.log_paths {
        match read_tail(p, opts) {
            Ok(t) => logs.push(t),
            Err(e) => unreadable.push(e.to_string()),
        }
    }
    if let Some(err) = &a.launch_error {
        logs.push(crate::logtail::LogTail {
            path: PathBuf::from("sbatch"),
            file_size: err.len() as u64,
            start_offset: 0,
            complete: true,
            lines: err.lines().map(|l| l.to_string()).collect(),
        });
    }
    let task = a.deciding_task().cloned();
    let input = Input {
        logs,
        state: a.state(),
        exit: task.as_ref().and_then(|t| t.exit),
        reasons: task
            .as_ref()
            .and_then(|t| t.reason.clone())
            .into_iter()
            .filter(|r| r != "None")
            .collect(),
        job: task,
    };
    let mut d = policy.diagnose(&input);
    if !unreadable.is_empty() {
        tracing::warn!(track = %track.id, "unreadable logs: {}", unreadable.join("; "));
    }
    if a.launch_error.is_some() && d.kind != "submit_error" && d.kind == "unknown" {
        d.kind = "submit_error".into();
        d.fixable = false;
    }
    d
}

fn record_policy_errors(w: &mut Watched) {
    for e in w.policy.take_errors() {
        let text = e.to_string();
        let _ = w.dir.append_event("policy_error", json!({"error": text}));
        tracing::warn!(track = %w.track.id, "{text}");
        w.track.policy_errors.push(text);
    }
}

fn own_lease() -> Option<Lease> {
    let pid = std::process::id() as i32;
    let start_ticks = proc::proc_stat(pid).map(|s| s.start_ticks)?;
    let host = hostname();
    Some(Lease {
        pid,
        start_ticks,
        host,
    })
}

/// This machine's name, for leases.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// Is the tracker that holds this lease still running (same pid, same start time)?
pub fn lease_alive(lease: &Lease) -> bool {
    if lease.host != hostname() {
        return true; // another machine: we cannot tell, so assume it is alive
    }
    proc::proc_stat(lease.pid).is_some_and(|s| s.start_ticks == lease.start_ticks && s.state != 'Z')
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
    dir.load::<Track>()
        .with_context(|| format!("cannot load track {}", dir.dir.display()))
}

/// Summaries per attempt for the failure report: one row each.
pub fn attempt_rows(t: &Track) -> Vec<HashMap<&'static str, String>> {
    t.attempts
        .iter()
        .map(|a| {
            let task = a.deciding_task();
            let mut row = HashMap::new();
            row.insert("attempt", a.n.to_string());
            row.insert(
                "job",
                a.job.as_ref().map(|j| j.id()).unwrap_or_else(|| "-".into()),
            );
            row.insert(
                "state",
                a.state()
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "-".into()),
            );
            row.insert(
                "exit",
                task.and_then(|t| t.exit)
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "-".into()),
            );
            row.insert(
                "elapsed",
                task.and_then(|t| t.elapsed_s)
                    .map(format_duration)
                    .unwrap_or_else(|| "-".into()),
            );
            row.insert(
                "kind",
                a.diagnosis
                    .as_ref()
                    .map(|d| d.kind.clone())
                    .unwrap_or_else(|| "-".into()),
            );
            row.insert(
                "summary",
                a.diagnosis
                    .as_ref()
                    .map(|d| d.summary.clone())
                    .unwrap_or_default(),
            );
            row.insert(
                "evidence",
                a.diagnosis
                    .as_ref()
                    .map(|d| {
                        d.evidence
                            .iter()
                            .take(3)
                            .map(|e| e.text.clone())
                            .collect::<Vec<_>>()
                            .join(" / ")
                    })
                    .unwrap_or_default(),
            );
            row.insert("edits", a.edits.join("; "));
            row
        })
        .collect()
}

/// For `--dry-run`: the diagnosis of the track's latest attempt and the fix the policy would
/// make, computed from the logs and state on disk. Nothing is written or submitted.
pub fn dry_run_plan(t: &Track) -> Option<(Diagnosis, Option<crate::edits::FixPlan>)> {
    let source = match &t.policy {
        Some(p) => PolicySource::File(p.clone()),
        None => crate::lua::resolve(None, &t.root),
    };
    let mut policy = GuardedPolicy::load(&source);
    let a = t.current()?;
    let diagnosis = diagnose_attempt(&mut policy, t, a);
    if a.state() == Some(JobState::Completed) || !diagnosis.fixable {
        return Some((diagnosis, None));
    }
    let spec = match &a.spec {
        Some(s) => s.clone(),
        None => initial_spec(t, &a.launch_args).ok()?,
    };
    let history: Vec<AppliedEdit> = t
        .attempts
        .iter()
        .flat_map(|a| a.applied.iter().cloned())
        .collect();
    let settings = policy.host().settings().clone();
    let ctx = FixCtx::new(&diagnosis, a.deciding_task(), &spec, &settings)
        .with_attempt(a.n, t.max_attempts)
        .with_history(history)
        .with_repo_root(&t.root);
    let plan = policy.plan_fix(&ctx, &spec, &t.root);
    Some((diagnosis, Some(plan)))
}
