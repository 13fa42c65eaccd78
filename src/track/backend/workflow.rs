//! The policy's dispatch workflow: a GitHub Actions runner on the cluster submits the job.
//!
//! Before dispatching, the workflow file is read at the ref and only the inputs it declares are
//! sent: `script`, `wandb_run` (the track and attempt, which also names the run when the file's
//! `run-name` uses it) and, when declared, `args` (the sbatch options the user typed, with the
//! relaunch edits). When something would have to be dropped, the backend declines
//! ([`LaunchError::UseFallback`]) and the engine submits with sbatch instead.
//!
//! Two shapes of workflow are followed:
//! - submit, monitor and collect: the run ends when the job ends, and its conclusion is the job's;
//! - submit only: the run's log says `Submitted batch job N`; the job is then handed to the
//!   SLURM backend (squeue here, or over ssh on the track's host) and followed to its end.
//!
//! When trackit can see the cluster, a submitted job is always handed off, whatever the shape:
//! the scheduler's state (OUT_OF_MEMORY, TIMEOUT) and the job's own log make a better diagnosis
//! than a run's conclusion.

use super::slurm::SlurmBackend;
use super::{Backend, BackendKey, BoxFuture, JobUpdate, LaunchError, LaunchRequest, Launched};
use super::{PollError, PollItem, PollReport, RecoverRequest, ResultsRequest};
use crate::edits::JobSpec;
use crate::github::{workflow_file, Client, Config, GithubError, WorkflowRun};
use crate::job::{ExitStatus, JobInfo, JobState, CLOCK_SKEW_S};
use crate::track::model::{BackendSpec, JobHandle, Remote, Track};
use anyhow::{anyhow, Context};
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long to wait for a dispatched run to be listed.
const FIND_RUN_WAIT: Duration = Duration::from_secs(180);

pub struct WorkflowBackend {
    client: Client,
    root: PathBuf,
    /// How a job the run submitted is followed: squeue here (`Some(None)`), over ssh, or not
    /// at all (`None`: trackit cannot see the cluster).
    follow: Option<Option<Remote>>,
}

impl WorkflowBackend {
    /// The GitHub repository of the track's origin, with the token bound to its host.
    pub fn for_track(track: &Track) -> anyhow::Result<WorkflowBackend> {
        let facts = crate::git::repo_facts(&track.root)
            .with_context(|| format!("{} is not a git repository", track.root.display()))?;
        let origin = facts
            .remotes
            .iter()
            .find(|r| r.name == "origin")
            .map(|r| r.url.clone());
        let config = Config::from_process_env(origin.as_deref())
            .context("cannot work out the GitHub repository and token")?;
        let remote = match track.backend_spec() {
            BackendSpec::Workflow { remote, .. } | BackendSpec::Slurm { remote } => remote,
            BackendSpec::Local => None,
        };
        let follow = match remote {
            Some(r) => Some(Some(r)),
            None if crate::slurm::on_path("squeue") => Some(None),
            None => None,
        };
        Ok(WorkflowBackend {
            client: Client::new(config)?,
            root: track.root.clone(),
            follow,
        })
    }

    pub fn with_client(client: Client, root: PathBuf, follow: Option<Option<Remote>>) -> Self {
        WorkflowBackend {
            client,
            root,
            follow,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn follower(&self) -> Option<anyhow::Result<SlurmBackend>> {
        Some(match self.follow.as_ref()? {
            None => Ok(SlurmBackend::here(crate::slurm::Slurm::default())),
            Some(r) => SlurmBackend::over_ssh(r.clone()),
        })
    }

    /// The inputs to send, or why this workflow cannot take the job.
    fn inputs(
        &self,
        req: &LaunchRequest,
        declared: &workflow_file::DispatchSpec,
        workflow: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, String> {
        let Some(JobSpec::Slurm {
            script_rel,
            sbatch_args,
            ..
        }) = &req.spec
        else {
            return Err("a dispatch needs a batch script".into());
        };
        if script_rel.as_os_str().is_empty() {
            return Err("a `--wrap` job has no script to dispatch".into());
        }
        if !declared.dispatchable {
            return Err(format!("{workflow} has no workflow_dispatch trigger"));
        }
        if !declared.declares("script") {
            return Err(format!("{workflow} declares no `script` input"));
        }
        let mut inputs = serde_json::Map::new();
        inputs.insert("script".into(), script_rel.to_string_lossy().into());
        if declared.declares("wandb_run") {
            inputs.insert("wandb_run".into(), run_marker(req).into());
        }
        let at = crate::track::spec::script_index(sbatch_args, &req.cwd).unwrap_or(sbatch_args.len());
        let options = &sbatch_args[..at];
        let script_args = sbatch_args.get(at + 1..).unwrap_or(&[]);
        if !script_args.is_empty() {
            return Err(format!(
                "the script's arguments ({}) have no input to travel in",
                script_args.join(" ")
            ));
        }
        if !options.is_empty() {
            if !declared.declares("args") {
                return Err(format!(
                    "{workflow} declares no `args` input, so {} would be dropped",
                    options.join(" ")
                ));
            }
            inputs.insert(
                "args".into(),
                crate::ssh::quote_all(options).into(),
            );
        }
        let missing: Vec<&str> = declared
            .inputs
            .iter()
            .filter(|i| i.required && !i.has_default && !inputs.contains_key(&i.name))
            .map(|i| i.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "{workflow} requires inputs trackit cannot fill: {}",
                missing.join(", ")
            ));
        }
        Ok(inputs)
    }

    /// The run this dispatch created: the id GitHub returned, else the newest run created
    /// since the dispatch that no attempt knows, preferring one whose title carries the marker.
    async fn find_run(
        &self,
        workflow: &str,
        git_ref: &str,
        since: DateTime<Utc>,
        marker: Option<&str>,
        known: &HashSet<u64>,
    ) -> Result<Option<WorkflowRun>, GithubError> {
        let created = format!(">={}", since.format("%Y-%m-%dT%H:%M:%SZ"));
        let runs = self
            .client
            .list_workflow_runs(workflow, Some("workflow_dispatch"), Some(git_ref), Some(&created))
            .await?;
        let fresh: Vec<WorkflowRun> = runs
            .into_iter()
            .filter(|r| r.created_at >= since && !known.contains(&r.id))
            .collect();
        if let Some(m) = marker {
            // The workflow's run-name carries the marker: only a run with ours is ours.
            return Ok(fresh
                .into_iter()
                .find(|r| r.display_title.as_deref().is_some_and(|t| t.contains(m))));
        }
        Ok(fresh.into_iter().max_by_key(|r| (r.created_at, r.id)))
    }

    /// Downloads the logs of the run's jobs into `dir`.
    async fn download_logs(&self, run_id: u64, dir: &Path, failed_only: bool) -> Vec<PathBuf> {
        let mut logs = Vec::new();
        let _ = std::fs::create_dir_all(dir);
        let Ok(jobs) = self.client.list_run_jobs(run_id).await else {
            return logs;
        };
        for job in jobs {
            if failed_only && job.conclusion.as_deref() == Some("success") {
                continue;
            }
            if let Ok(text) = self.client.download_job_logs(job.id).await {
                let path = dir.join(format!("run-{run_id}-job-{}.log", job.id));
                if std::fs::write(&path, text).is_ok() {
                    logs.push(path);
                }
            }
        }
        logs
    }
}

/// `<track>-a<attempt>`: the `wandb_run` input, unique per attempt.
fn run_marker(req: &LaunchRequest) -> String {
    format!("{}-a{}", req.track_id, req.attempt)
}

/// The job a run's log says it submitted (`Submitted batch job N`, sbatch's own words).
pub fn submitted_job(logs: &[PathBuf]) -> Option<String> {
    for p in logs {
        let Ok(text) = std::fs::read_to_string(p) else {
            continue;
        };
        for line in text.lines() {
            if let Some(pos) = line.find("Submitted batch job ") {
                let id: String = line[pos + 20..]
                    .chars()
                    .take_while(|c| c.is_ascii_digit())
                    .collect();
                if !id.is_empty() {
                    return Some(id);
                }
            }
        }
    }
    None
}

fn run_state(run: &WorkflowRun) -> JobState {
    match (run.status.as_deref(), run.conclusion.as_deref()) {
        (Some("completed"), Some("success")) => JobState::Completed,
        (Some("completed"), Some("cancelled")) => JobState::Cancelled,
        (Some("completed"), Some("timed_out")) => JobState::Timeout,
        (Some("completed"), _) => JobState::Failed,
        (Some("in_progress"), _) => JobState::Running,
        _ => JobState::Pending,
    }
}

impl Backend for WorkflowBackend {
    fn key(&self) -> BackendKey {
        BackendKey::Workflow(self.root.to_string_lossy().into_owned())
    }

    fn launch<'a>(&'a self, req: &'a LaunchRequest) -> BoxFuture<'a, Result<Launched, LaunchError>> {
        Box::pin(async move {
            let BackendSpec::Workflow { workflow, .. } = &req.backend else {
                return Err(LaunchError::Other(anyhow!("not a workflow track")));
            };
            let git_ref = req
                .git_ref
                .clone()
                .ok_or_else(|| LaunchError::UseFallback("no branch to dispatch on".into()))?;
            let file = format!(".github/workflows/{workflow}");
            let text = match self.client.file_at_ref(&file, &git_ref).await {
                Ok(t) => t,
                Err(GithubError::Api { status: 404, .. }) => {
                    return Err(LaunchError::UseFallback(format!(
                        "{file} is not on {git_ref} in the GitHub repository (push it first)"
                    )))
                }
                Err(e) => return Err(LaunchError::Other(anyhow!("cannot read {file} at {git_ref}: {e}"))),
            };
            let declared = workflow_file::parse(&text);
            let inputs = self
                .inputs(req, &declared, workflow)
                .map_err(LaunchError::UseFallback)?;
            let marker = run_marker(req);
            let titled = declared
                .run_name
                .as_deref()
                .is_some_and(|n| n.contains("inputs.wandb_run"))
                && inputs.contains_key("wandb_run");
            let marker = titled.then_some(marker.as_str());
            // Runs that exist before the dispatch are not ours.
            let since = Utc::now() - chrono::Duration::seconds(CLOCK_SKEW_S);
            let known: HashSet<u64> = self
                .client
                .list_workflow_runs(workflow, Some("workflow_dispatch"), None, None)
                .await
                .map(|runs| runs.iter().map(|r| r.id).collect())
                .unwrap_or_default();
            let mut backoff = crate::slurm::Backoff::new(Duration::from_secs(2), Duration::from_secs(60));
            let mut tries = 0;
            let run_id = loop {
                tries += 1;
                match self.client.dispatch_once(workflow, &git_ref, &inputs).await {
                    Ok(Some(id)) => break Some(id),
                    Ok(None) => break None,
                    Err(e) if e.is_transient() && tries < 6 => {
                        // The reply may be lost after GitHub made the run: look before re-POSTing.
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        if let Ok(Some(run)) = self.find_run(workflow, &git_ref, since, marker, &known).await {
                            break Some(run.id);
                        }
                        tokio::time::sleep(backoff.next_delay()).await;
                    }
                    Err(GithubError::Api { status: 422, message, .. }) => {
                        return Err(LaunchError::Refused(format!(
                            "GitHub refused to dispatch {workflow}: {message}"
                        )))
                    }
                    Err(e) => return Err(LaunchError::Other(anyhow!("dispatching {workflow}: {e}"))),
                }
            };
            let run_id = match run_id {
                Some(id) => id,
                None => {
                    let started = std::time::Instant::now();
                    loop {
                        if let Ok(Some(run)) = self.find_run(workflow, &git_ref, since, marker, &known).await {
                            break run.id;
                        }
                        if started.elapsed() > FIND_RUN_WAIT {
                            return Err(LaunchError::Other(anyhow!(
                                "the run dispatched from {workflow} did not appear within 3 minutes"
                            )));
                        }
                        tokio::time::sleep(Duration::from_secs(2)).await;
                    }
                }
            };
            let carried = inputs
                .get("args")
                .and_then(|v| v.as_str())
                .map(|a| format!(" with args {a}"))
                .unwrap_or_default();
            Ok(Launched {
                job: JobHandle::Workflow {
                    workflow: workflow.clone(),
                    run_id,
                    git_ref: git_ref.clone(),
                },
                log_paths: Vec::new(),
                exit_dir: None,
                message: format!("dispatched {workflow} on {git_ref}{carried}: run {run_id}"),
                event: "submitted",
            })
        })
    }

    fn poll<'a>(&'a self, jobs: &'a [PollItem]) -> BoxFuture<'a, Result<PollReport, PollError>> {
        Box::pin(async move {
            let mut report = PollReport::default();
            for item in jobs {
                let handle = &item.handle;
                let JobHandle::Workflow { run_id, .. } = handle else {
                    continue;
                };
                let run = match self.client.get_run(*run_id).await {
                    Ok(r) => r,
                    Err(e) if e.is_transient() => return Err(PollError::Transient(format!("GitHub: {e}"))),
                    Err(e) => return Err(PollError::Other(format!("GitHub: {e}"))),
                };
                let state = run_state(&run);
                let mut update = JobUpdate::default();
                if state.is_terminal() {
                    let dir = item.attempt_dir.clone();
                    let logs = self.download_logs(*run_id, &dir, false).await;
                    let job = submitted_job(&logs);
                    match (job, state, self.follower()) {
                        (Some(id), JobState::Completed | JobState::Failed, Some(Ok(slurm))) => {
                            let details = slurm.slurm().job_details(&id).await.unwrap_or_default();
                            update.handoff = Some(Launched {
                                job: JobHandle::Slurm {
                                    id: id.clone(),
                                    submitted_after: Some(run.created_at.timestamp()),
                                    name: details.first().and_then(|d| d.name.clone()),
                                    remote: self.follow.clone().flatten(),
                                    run_id: Some(*run_id),
                                },
                                log_paths: crate::slurm::log_paths(&details),
                                exit_dir: None,
                                message: format!(
                                    "run {run_id} {}: it submitted job {id}, followed on the cluster from here",
                                    run.conclusion.as_deref().unwrap_or("ended")
                                ),
                                event: "handoff",
                            });
                            update.log_paths = Some(logs);
                            report.updates.push((handle.id(), update));
                            continue;
                        }
                        (Some(id), _, None) => {
                            update.note = Some(format!(
                                "run {run_id} submitted job {id}, but trackit cannot see the cluster from here (no squeue, no --host): the run's conclusion stands for the job's"
                            ));
                        }
                        (Some(id), _, Some(Err(e))) => {
                            update.note = Some(format!("cannot follow job {id}: {e:#}"));
                        }
                        _ => {}
                    }
                    update.log_paths = Some(logs);
                }
                update.tasks = vec![JobInfo {
                    id: handle.id(),
                    state: Some(state),
                    exit: state
                        .is_terminal()
                        .then(|| ExitStatus::code(if state.is_success() { 0 } else { 1 })),
                    ..Default::default()
                }];
                report.updates.push((handle.id(), update));
            }
            Ok(report)
        })
    }

    fn cancel<'a>(&'a self, job: &'a JobHandle) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            if let JobHandle::Workflow { run_id, .. } = job {
                self.client
                    .cancel_run(*run_id)
                    .await
                    .map_err(|e| anyhow!("cannot cancel run {run_id}: {e}"))?;
            }
            Ok(())
        })
    }

    fn fetch_results<'a>(
        &'a self,
        job: &'a JobHandle,
        req: &'a ResultsRequest,
    ) -> BoxFuture<'a, anyhow::Result<Option<PathBuf>>> {
        Box::pin(async move {
            let JobHandle::Workflow { run_id, .. } = job else {
                return Ok(None);
            };
            let dest = req
                .track_dir
                .join(format!("attempt-{}", req.attempt))
                .join("results");
            std::fs::create_dir_all(&dest)?;
            let artifacts = self
                .client
                .list_run_artifacts(*run_id)
                .await
                .map_err(|e| anyhow!("cannot list the artifacts of run {run_id}: {e}"))?;
            for a in artifacts.iter().filter(|a| !a.expired) {
                let zip = self
                    .client
                    .download_artifact(a.id)
                    .await
                    .map_err(|e| anyhow!("cannot download artifact {}: {e}", a.name))?;
                let into = dest.join(crate::track::model::sanitize(&a.name));
                crate::results::unzip::extract(&zip, &into)
                    .with_context(|| format!("artifact {} of run {run_id}", a.name))?;
            }
            Ok(Some(dest))
        })
    }

    fn recover<'a>(&'a self, req: &'a RecoverRequest) -> BoxFuture<'a, anyhow::Result<Option<Launched>>> {
        Box::pin(async move {
            let BackendSpec::Workflow { workflow, .. } = &req.launch.backend else {
                return Ok(None);
            };
            let Some(git_ref) = req.launch.git_ref.clone() else {
                return Ok(None);
            };
            let known: HashSet<u64> = req
                .known
                .iter()
                .filter_map(|k| k.strip_prefix("run:").and_then(|n| n.parse().ok()))
                .collect();
            let since = DateTime::from_timestamp(req.since - CLOCK_SKEW_S, 0).unwrap_or_else(Utc::now);
            let marker = run_marker(&req.launch);
            let run = self
                .find_run(workflow, &git_ref, since, Some(&marker), &known)
                .await
                .map_err(|e| anyhow!("cannot list the runs of {workflow}: {e}"))?;
            Ok(run.map(|run| Launched {
                job: JobHandle::Workflow {
                    workflow: workflow.clone(),
                    run_id: run.id,
                    git_ref: git_ref.clone(),
                },
                log_paths: Vec::new(),
                exit_dir: None,
                message: format!(
                    "attempt {}: found run {} dispatched before the tracker stopped",
                    req.launch.attempt, run.id
                ),
                event: "recovered",
            }))
        })
    }
}

