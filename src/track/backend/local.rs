//! A process on this machine (`trackit run`, `trackit attach pid:N`): started detached through
//! [`crate::proc::spawn`], watched through `/proc` and the wrapper's exit record. No scheduler.

use super::{Backend, BackendKey, BoxFuture, JobUpdate, LaunchError, LaunchRequest, Launched};
use super::{PollError, PollItem, PollReport};
use crate::edits::JobSpec;
use crate::job::JobInfo;
use crate::proc;
use crate::track::model::JobHandle;
use std::time::Duration;

pub struct LocalBackend;

impl Backend for LocalBackend {
    fn key(&self) -> BackendKey {
        BackendKey::Local
    }

    fn launch<'a>(
        &'a self,
        req: &'a LaunchRequest,
    ) -> BoxFuture<'a, Result<Launched, LaunchError>> {
        Box::pin(async move {
            let env = match &req.spec {
                Some(JobSpec::Local { env, .. }) => env.clone(),
                _ => Vec::new(),
            };
            let run_dir = req.track_dir.join(format!("attempt-{}", req.attempt));
            let job = proc::spawn(&req.args, &req.cwd, &env, &run_dir)?;
            Ok(Launched {
                log_paths: job.log_path.iter().cloned().collect(),
                message: format!("started {} ({})", job.id(), req.args.join(" ")),
                event: "started",
                exit_dir: None,
                job: JobHandle::Local(job),
            })
        })
    }

    fn poll<'a>(&'a self, jobs: &'a [PollItem]) -> BoxFuture<'a, Result<PollReport, PollError>> {
        Box::pin(async move {
            let mut report = PollReport::default();
            for handle in jobs.iter().map(|j| &j.handle) {
                let JobHandle::Local(job) = handle else {
                    continue;
                };
                if !job.is_on_this_host() {
                    // A PID on another machine says nothing here: never call it failed.
                    report.updates.push((
                        handle.id(),
                        JobUpdate {
                            note: Some(format!(
                                "{} runs on {}, not here: resume this track on that machine",
                                job.id(),
                                job.host.as_deref().unwrap_or("another host")
                            )),
                            ..Default::default()
                        },
                    ));
                    continue;
                }
                report.updates.push((
                    handle.id(),
                    JobUpdate {
                        tasks: vec![proc::status(job)],
                        ..Default::default()
                    },
                ));
            }
            Ok(report)
        })
    }

    fn cancel<'a>(&'a self, job: &'a JobHandle) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            if let JobHandle::Local(j) = job {
                if !j.is_on_this_host() {
                    anyhow::bail!(
                        "{} runs on {}: cancel it there",
                        j.id(),
                        j.host.as_deref().unwrap_or("another host")
                    );
                }
                proc::cancel(j, Duration::from_secs(10)).await?;
            }
            Ok(())
        })
    }
}

/// The state of a local job right now (for callers outside the loop).
pub fn status(job: &proc::LocalJob) -> JobInfo {
    proc::status(job)
}
