//! What went wrong with an attempt: its logs and the scheduler's state, read through the policy.

use super::model::{Attempt, JobHandle, Track};
use super::spec::initial_spec;
use crate::diagnose::{Diagnosis, Input};
use crate::edits::{AppliedEdit, FixCtx};
use crate::job::JobState;
use crate::logtail::read_tail;
use crate::lua::{GuardedPolicy, PolicySource};
use std::path::PathBuf;

/// The log files of an attempt that can be read here: the job's own when they are local, and
/// the copies fetched from elsewhere (a remote host, a workflow run).
pub fn readable_logs(a: &Attempt) -> Vec<PathBuf> {
    let remote = matches!(
        &a.job,
        Some(JobHandle::Slurm {
            remote: Some(_),
            ..
        })
    );
    let mut logs: Vec<PathBuf> = if remote {
        Vec::new()
    } else {
        a.log_paths.clone()
    };
    for p in &a.fetched_logs {
        if !logs.contains(p) {
            logs.push(p.clone());
        }
    }
    logs
}

/// Reads the attempt's logs and asks the policy what went wrong.
pub fn diagnose_attempt(policy: &mut GuardedPolicy, track: &Track, a: &Attempt) -> Diagnosis {
    let opts = policy.host().settings().tail_options();
    let mut logs = Vec::new();
    let mut unreadable = Vec::new();
    for p in readable_logs(a) {
        match read_tail(&p, opts) {
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
    if a.launch_error.is_some() && d.kind == "unknown" {
        d.kind = "submit_error".into();
        d.fixable = false;
    }
    d
}

/// The policy a track was started with.
pub fn policy_of(t: &Track) -> GuardedPolicy {
    let source = match &t.policy {
        Some(p) => PolicySource::File(p.clone()),
        None => crate::lua::resolve(None, &t.root),
    };
    GuardedPolicy::load(&source)
}

/// For `--dry-run`: the diagnosis of the track's latest attempt and the fix the policy would
/// make, computed from the logs and state on disk. Nothing is written or submitted.
pub fn dry_run_plan(t: &Track) -> Option<(Diagnosis, Option<crate::edits::FixPlan>)> {
    let mut policy = policy_of(t);
    let a = t.current()?;
    let diagnosis = diagnose_attempt(&mut policy, t, a);
    if a.state() == Some(JobState::Completed) || !diagnosis.fixable {
        return Some((diagnosis, None));
    }
    let plan = plan_fix(&mut policy, t, &diagnosis)?;
    Some((diagnosis, Some(plan)))
}

/// The policy's fix for the current attempt's diagnosis: the fixers' edits, with caps and the
/// history of earlier edits enforced by Rust. None when the job cannot be described as a spec.
pub fn plan_fix(
    policy: &mut GuardedPolicy,
    t: &Track,
    diagnosis: &Diagnosis,
) -> Option<crate::edits::FixPlan> {
    let a = t.current()?;
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
    let ctx = FixCtx::new(diagnosis, a.deciding_task(), &spec, &settings)
        .with_attempt(a.n, t.max_attempts)
        .with_history(history)
        .with_repo_root(&t.root);
    Some(policy.plan_fix(&ctx, &spec, &t.root))
}
