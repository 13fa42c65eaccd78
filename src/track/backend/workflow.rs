//! The policy's dispatch workflow: a GitHub Actions runner on the cluster submits the job.
//!
//! Before dispatching, the workflow file is read at the ref and only the inputs it declares are
//! sent: `script`, `wandb_run` (the track and attempt, which also names the run when the file's
//! `run-name` uses it) and, when declared, `args` (the sbatch options the user typed, with the
//! relaunch edits). When something would have to be dropped, the backend declines
//! ([`LaunchError::UseFallback`]) and the engine submits with sbatch instead, saying why.
//! `trackit dispatch` sends the user's own inputs instead, checked against the same
//! declaration.
//!
//! The runner checks out the ref, so the script it submits is GitHub's copy. When that is not
//! the script to run (a fix edited it, or it differs locally), the script is committed on the
//! track's results branch, which is pushed and becomes the ref.
//!
//! Two shapes of workflow are followed:
//! - submit, monitor and collect: the run ends when the job ends, and its conclusion is the job's;
//! - submit only: the run's log says `Submitted batch job N`; the job is then handed to the
//!   SLURM backend (squeue here, or over ssh on the track's host) and followed to its end.
//!
//! When trackit can see the cluster, a submitted job is always handed off, whatever the shape:
//! the scheduler's state (OUT_OF_MEMORY, TIMEOUT) and the job's own log make a better diagnosis
//! than a run's conclusion. Results are the run's artifacts, unpacked into the track's folder.

use super::slurm::SlurmBackend;
use super::{Backend, BackendKey, BoxFuture, JobUpdate, LaunchError, LaunchRequest, Launched};
use super::{PollError, PollItem, PollReport, RecoverRequest, ResultsRequest};
use crate::edits::JobSpec;
use crate::github::workflow_file::{self, DispatchSpec};
use crate::github::{Client, GithubError, WorkflowRun};
use crate::job::{ExitStatus, JobInfo, JobState, CLOCK_SKEW_S};
use crate::track::model::{BackendSpec, JobHandle, Launch, Remote, Track};
use anyhow::{anyhow, Context};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long to wait for a dispatched run to be listed.
const FIND_RUN_WAIT: Duration = Duration::from_secs(180);
/// After a dispatch whose reply was lost: how long to look for the run it may have made
/// before dispatching again.
const LOST_REPLY_WAIT: Duration = Duration::from_secs(60);
/// Dispatch POSTs at most, lost replies included.
const MAX_DISPATCHES: u32 = 3;

pub struct WorkflowBackend {
    client: Client,
    root: PathBuf,
    /// How a job the run submitted is followed: squeue here (`Some(None)`), over ssh, or not
    /// at all (`None`: trackit cannot see the cluster).
    follow: Option<Option<Remote>>,
}

/// The ref a track dispatches on (the user's branch, or `trackit dispatch --ref`), and its
/// results branch (None without git).
pub fn refs_of(t: &Track) -> (Option<String>, Option<String>) {
    let git_ref = match &t.launch {
        Launch::Dispatch {
            git_ref: Some(r), ..
        } => Some(r.clone()),
        _ => crate::git::repo_facts(&t.root).ok().and_then(|f| f.branch),
    };
    let results = (!t.publish_opts.no_git).then(|| {
        t.published.branch.clone().unwrap_or_else(|| {
            // The name the publisher gives it (it may not have run yet).
            let date = DateTime::parse_from_rfc3339(&t.created_at)
                .map(|d| d.date_naive())
                .unwrap_or_else(|_| Utc::now().date_naive());
            crate::git::results_branch_name(&t.experiment, date)
        })
    });
    (git_ref, results)
}

/// What one dispatch sends, and how its run is recognised.
struct Plan {
    git_ref: String,
    inputs: Map<String, Value>,
    /// The title GitHub will give the run (its `run-name` rendered), when it can be known.
    title: Option<String>,
    /// Said to the user: where the script came from.
    note: String,
}

impl WorkflowBackend {
    /// The GitHub repository of the track's origin, with the token bound to its host.
    pub fn for_track(track: &Track) -> anyhow::Result<WorkflowBackend> {
        let config = crate::track::choose::github_config(&track.root)
            .map_err(|e| anyhow!("cannot work out the GitHub repository and token: {e}"))?;
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

    /// The workflow file at `git_ref`, parsed. A missing file (or ref) is `Ok(None)`.
    async fn declared_at(
        &self,
        workflow: &str,
        git_ref: &str,
    ) -> Result<Option<DispatchSpec>, GithubError> {
        let file = format!(".github/workflows/{workflow}");
        match self.client.file_at_ref(&file, git_ref).await {
            Ok(text) => Ok(Some(workflow_file::parse(&text))),
            Err(GithubError::Api { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The inputs to send for an sbatch-style job, or why this workflow cannot take it.
    fn inputs(
        &self,
        req: &LaunchRequest,
        declared: &DispatchSpec,
        workflow: &str,
    ) -> Result<Map<String, Value>, String> {
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
        let mut inputs = Map::new();
        inputs.insert("script".into(), script_rel.to_string_lossy().into());
        if declared.declares("wandb_run") {
            inputs.insert("wandb_run".into(), run_marker(req).into());
        }
        let at =
            crate::track::spec::script_index(sbatch_args, &req.cwd).unwrap_or(sbatch_args.len());
        let mut options = sbatch_args[..at].to_vec();
        let script_args = sbatch_args.get(at + 1..).unwrap_or(&[]);
        if !script_args.is_empty() {
            return Err(format!(
                "the script's arguments ({}) have no input to travel in",
                script_args.join(" ")
            ));
        }
        // The runner submits from the repository's root; the job must start where it would
        // have started here.
        if let Ok(rel) = req.cwd.strip_prefix(&req.root) {
            if !rel.as_os_str().is_empty() && !options.iter().any(|o| is_chdir(o)) {
                options.insert(0, format!("--chdir={}", rel.display()));
            }
        }
        if !options.is_empty() {
            if !declared.declares("args") {
                return Err(format!(
                    "{workflow} declares no `args` input, so {} would be dropped",
                    options.join(" ")
                ));
            }
            inputs.insert("args".into(), crate::ssh::quote_all(&options).into());
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

    /// The ref, inputs and expected title of one dispatch. For an sbatch-style job whose
    /// script GitHub does not have at the user's branch, this commits it on the results branch
    /// and pushes it (`push`), or only names that branch (`!push`, for a recovery).
    async fn plan(&self, req: &LaunchRequest, push: bool) -> Result<Plan, LaunchError> {
        let BackendSpec::Workflow { workflow, .. } = &req.backend else {
            return Err(LaunchError::Other(anyhow!("not a workflow track")));
        };
        let read_err = |git_ref: &str, e: GithubError| {
            LaunchError::Other(anyhow!(
                "cannot read .github/workflows/{workflow} at {git_ref}: {e}"
            ))
        };
        if let Launch::Dispatch { inputs, .. } = &req.launch {
            let git_ref = req.git_ref.clone().unwrap_or_else(|| "main".into());
            let declared = self
                .declared_at(workflow, &git_ref)
                .await
                .map_err(|e| read_err(&git_ref, e))?
                .ok_or_else(|| {
                    LaunchError::Refused(format!(
                        ".github/workflows/{workflow} is not on {git_ref} in the GitHub repository"
                    ))
                })?;
            declared
                .check_inputs(workflow, &git_ref, inputs)
                .map_err(LaunchError::Refused)?;
            let inputs: Map<String, Value> = inputs
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            return Ok(Plan {
                title: declared.run_title(&inputs),
                git_ref,
                inputs,
                note: String::new(),
            });
        }
        let base = req.git_ref.clone().ok_or_else(|| {
            LaunchError::UseFallback(
                "the repository is not on a branch (detached HEAD): no ref to dispatch on".into(),
            )
        })?;
        let Some(JobSpec::Slurm {
            script_rel,
            script_text,
            ..
        }) = &req.spec
        else {
            return Err(LaunchError::UseFallback(
                "a dispatch needs a batch script".into(),
            ));
        };
        let rel = script_rel.to_string_lossy().to_string();
        // The runner submits GitHub's copy at the ref: it must be the script to run.
        let theirs = match self.client.file_at_ref(&rel, &base).await {
            Ok(text) => Some(text),
            Err(GithubError::Api { status: 404, .. }) => None,
            Err(e) => {
                return Err(LaunchError::Other(anyhow!(
                    "cannot read {rel} at {base}: {e}"
                )))
            }
        };
        let (git_ref, note) = if theirs.as_deref() == Some(script_text.as_str()) {
            (base.clone(), String::new())
        } else {
            let why = if theirs.is_none() {
                format!("{rel} is not on {base} in the GitHub repository")
            } else if req.attempt > 1 {
                format!("the fix edited {rel}")
            } else {
                format!("{rel} differs from the copy on {base} in the GitHub repository")
            };
            let Some(branch) = req.results_branch.clone() else {
                return Err(LaunchError::UseFallback(format!(
                    "{why}, and without git (--no-git) there is no branch to put it on for the runner"
                )));
            };
            if push {
                let message = format!(
                    "trackit: {rel} for attempt {} of {}",
                    req.attempt, req.track_id
                );
                let (root, rel2, text, b) = (
                    req.root.clone(),
                    script_rel.clone(),
                    script_text.clone(),
                    branch.clone(),
                );
                tokio::task::spawn_blocking(move || {
                    put_on_branch(&root, &b, &rel2, &text, &message)
                })
                .await
                .map_err(|e| LaunchError::Other(anyhow!("{e}")))?
                .map_err(|e| {
                    LaunchError::UseFallback(format!(
                        "{why}, and pushing it on {branch} failed: {e:#}"
                    ))
                })?;
            }
            (branch.clone(), format!(" ({why}: committed on {branch})"))
        };
        let declared = self
            .declared_at(workflow, &git_ref)
            .await
            .map_err(|e| read_err(&git_ref, e))?
            .ok_or_else(|| {
                LaunchError::UseFallback(format!(
                    ".github/workflows/{workflow} is not on {git_ref} in the GitHub repository (push it first)"
                ))
            })?;
        let inputs = self
            .inputs(req, &declared, workflow)
            .map_err(LaunchError::UseFallback)?;
        Ok(Plan {
            title: declared.run_title(&inputs),
            git_ref,
            inputs,
            note,
        })
    }

    /// The run this dispatch created: among the runs created since the dispatch that no
    /// attempt knows, the one with the expected title, else (no title to go by) the newest.
    async fn find_run(
        &self,
        workflow: &str,
        branch: Option<&str>,
        since: DateTime<Utc>,
        title: Option<&str>,
        known: &HashSet<u64>,
    ) -> Result<Option<WorkflowRun>, GithubError> {
        let created = format!(">={}", since.format("%Y-%m-%dT%H:%M:%SZ"));
        let runs = self
            .client
            .list_workflow_runs(workflow, Some("workflow_dispatch"), branch, Some(&created))
            .await?;
        let fresh = runs
            .into_iter()
            .filter(|r| r.created_at >= since && !known.contains(&r.id));
        if let Some(t) = title {
            return Ok(fresh
                .filter(|r| r.display_title.as_deref() == Some(t))
                .max_by_key(|r| (r.created_at, r.id)));
        }
        Ok(fresh.max_by_key(|r| (r.created_at, r.id)))
    }

    /// Looks for the run a dispatch made, for up to `wait`.
    async fn wait_for_run(
        &self,
        workflow: &str,
        plan: &Plan,
        since: DateTime<Utc>,
        known: &HashSet<u64>,
        wait: Duration,
    ) -> Option<u64> {
        let started = std::time::Instant::now();
        loop {
            if let Ok(Some(run)) = self
                .find_run(
                    workflow,
                    Some(&plan.git_ref),
                    since,
                    plan.title.as_deref(),
                    known,
                )
                .await
            {
                return Some(run.id);
            }
            if started.elapsed() > wait {
                return None;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }

    /// One dispatch and its run id. A POST whose reply is lost may still have made a run: it
    /// is looked for before the POST is ever repeated.
    async fn dispatch(&self, workflow: &str, plan: &Plan) -> Result<u64, LaunchError> {
        let since = Utc::now() - chrono::Duration::seconds(CLOCK_SKEW_S);
        // Runs listed before the dispatch are not ours.
        let known: HashSet<u64> = self
            .client
            .list_workflow_runs(
                workflow,
                Some("workflow_dispatch"),
                None,
                Some(&format!(">={}", since.format("%Y-%m-%dT%H:%M:%SZ"))),
            )
            .await
            .map(|runs| runs.iter().map(|r| r.id).collect())
            .unwrap_or_default();
        let mut tries = 0;
        loop {
            tries += 1;
            match self.client.dispatch_once(workflow, &plan.git_ref, &plan.inputs).await {
                Ok(Some(id)) => return Ok(id),
                Ok(None) => {
                    return self
                        .wait_for_run(workflow, plan, since, &known, FIND_RUN_WAIT)
                        .await
                        .ok_or_else(|| {
                            LaunchError::Other(anyhow!(
                                "the run dispatched from {workflow} did not appear within 3 minutes"
                            ))
                        })
                }
                Err(e) if e.is_transient() => {
                    tracing::warn!("dispatch of {workflow}: {e}; looking for its run before trying again");
                    if let Some(id) = self.wait_for_run(workflow, plan, since, &known, LOST_REPLY_WAIT).await {
                        return Ok(id);
                    }
                    if tries >= MAX_DISPATCHES {
                        return Err(LaunchError::Other(anyhow!("dispatching {workflow}: {e}")));
                    }
                }
                Err(GithubError::Api { status: 422, message, .. }) => {
                    return Err(LaunchError::Refused(format!(
                        "GitHub refused to dispatch {workflow} on {}: {message}",
                        plan.git_ref
                    )))
                }
                Err(GithubError::Api { status: 404, .. }) => {
                    return Err(LaunchError::Refused(format!(
                        "GitHub does not know {workflow}: a workflow can be dispatched only once it is on the repository's default branch"
                    )))
                }
                Err(e) => return Err(LaunchError::Other(anyhow!("dispatching {workflow}: {e}"))),
            }
        }
    }

    /// Downloads the logs of the run's jobs into `dir`.
    async fn download_logs(&self, run_id: u64, dir: &Path) -> Vec<PathBuf> {
        let mut logs = Vec::new();
        let _ = std::fs::create_dir_all(dir);
        let Ok(jobs) = self.client.list_run_jobs(run_id).await else {
            return logs;
        };
        for job in jobs {
            match self.client.download_job_logs(job.id).await {
                Ok(text) => {
                    let path = dir.join(format!("run-{run_id}-job-{}.log", job.id));
                    if std::fs::write(&path, text).is_ok() {
                        logs.push(path);
                    }
                }
                Err(e) => tracing::warn!(
                    "cannot download the log of job {} of run {run_id}: {e}",
                    job.id
                ),
            }
        }
        logs
    }
}

fn is_chdir(option: &str) -> bool {
    option == "-D"
        || option.starts_with("--chdir")
        || (option.starts_with("-D") && option.len() > 2)
}

/// Commits `text` at `rel` on the results branch and pushes the branch to origin, so the
/// runner can check it out.
fn put_on_branch(
    root: &Path,
    branch: &str,
    rel: &Path,
    text: &str,
    message: &str,
) -> anyhow::Result<()> {
    let repo_root = crate::git::find_repo_root(root).context("not a git repository")?;
    let rb = crate::git::ResultsBranch::open_or_create(&repo_root, branch)?;
    rb.commit_files(&[(rel, text.as_bytes())], message)?;
    rb.push("origin", &crate::auth::Credentials::from_process_env())?;
    Ok(())
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

    fn launch<'a>(
        &'a self,
        req: &'a LaunchRequest,
    ) -> BoxFuture<'a, Result<Launched, LaunchError>> {
        Box::pin(async move {
            let BackendSpec::Workflow { workflow, .. } = &req.backend else {
                return Err(LaunchError::Other(anyhow!("not a workflow track")));
            };
            let plan = self.plan(req, true).await?;
            let run_id = self.dispatch(workflow, &plan).await?;
            let carried = plan
                .inputs
                .get("args")
                .and_then(|v| v.as_str())
                .map(|a| format!(" with args {a}"))
                .unwrap_or_default();
            Ok(Launched {
                job: JobHandle::Workflow {
                    workflow: workflow.clone(),
                    run_id,
                    git_ref: plan.git_ref.clone(),
                },
                log_paths: Vec::new(),
                exit_dir: None,
                message: format!(
                    "dispatched {workflow} on {}{carried}{}: run {run_id}",
                    plan.git_ref, plan.note
                ),
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
                    Err(e) if e.is_transient() => {
                        return Err(PollError::Transient(format!("GitHub: {e}")))
                    }
                    Err(e) => return Err(PollError::Other(format!("GitHub: {e}"))),
                };
                let state = run_state(&run);
                let mut update = JobUpdate::default();
                if state.is_terminal() {
                    let logs = self
                        .download_logs(*run_id, &item.attempt_dir.join("logs"))
                        .await;
                    let job = submitted_job(&logs);
                    match (job, state, self.follower()) {
                        (Some(id), JobState::Completed | JobState::Failed, Some(Ok(slurm))) => {
                            let details = slurm.slurm().job_details(&id).await.unwrap_or_default();
                            update.handoff = Some(Launched {
                                job: JobHandle::Slurm {
                                    id: id.clone(),
                                    submitted_after: Some(run.created_at.timestamp() - CLOCK_SKEW_S),
                                    name: details.first().and_then(|d| d.name.clone()),
                                    remote: self.follow.clone().flatten(),
                                    run_id: Some(*run_id),
                                },
                                log_paths: crate::slurm::log_paths(&details),
                                exit_dir: None,
                                message: format!(
                                    "run {run_id} {}: it submitted job {id}, followed on the cluster until it ends",
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
                                "run {run_id} submitted job {id}, but trackit cannot see the cluster from here (no squeue, no --host): the run's conclusion is taken as the job's, which holds only for a workflow that waits for its job"
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

    /// The run's artifacts, each unpacked under `attempt-N/results/<name>/`; None when the
    /// run uploaded none.
    fn fetch_results<'a>(
        &'a self,
        job: &'a JobHandle,
        req: &'a ResultsRequest,
    ) -> BoxFuture<'a, anyhow::Result<Option<PathBuf>>> {
        Box::pin(async move {
            let run_id = match job {
                JobHandle::Workflow { run_id, .. } => *run_id,
                JobHandle::Slurm {
                    run_id: Some(r), ..
                } => *r,
                _ => return Ok(None),
            };
            let artifacts = self
                .client
                .list_run_artifacts(run_id)
                .await
                .map_err(|e| anyhow!("cannot list the artifacts of run {run_id}: {e}"))?;
            let live: Vec<_> = artifacts.iter().filter(|a| !a.expired).collect();
            if live.is_empty() {
                return Ok(None);
            }
            let dest = req
                .track_dir
                .join(format!("attempt-{}", req.attempt))
                .join("results");
            std::fs::create_dir_all(&dest)?;
            for a in live {
                let zip = self.client.download_artifact(a.id).await.map_err(|e| {
                    anyhow!("cannot download artifact {} of run {run_id}: {e}", a.name)
                })?;
                let into = dest.join(crate::track::model::sanitize(&a.name));
                crate::results::unzip::extract(&zip, &into)
                    .with_context(|| format!("artifact {} of run {run_id}", a.name))?;
            }
            Ok(Some(dest))
        })
    }

    fn recover<'a>(
        &'a self,
        req: &'a RecoverRequest,
    ) -> BoxFuture<'a, anyhow::Result<Option<Launched>>> {
        Box::pin(async move {
            let BackendSpec::Workflow { workflow, .. } = &req.launch.backend else {
                return Ok(None);
            };
            // What the interrupted launch sent, to recognise its run by title. A launch that
            // would have declined fell back to sbatch: nothing to find here.
            let plan = match self.plan(&req.launch, false).await {
                Ok(p) => p,
                Err(LaunchError::UseFallback(_)) | Err(LaunchError::Refused(_)) => return Ok(None),
                Err(LaunchError::Other(e)) => return Err(e),
            };
            let known: HashSet<u64> = req
                .known
                .iter()
                .filter_map(|k| k.strip_prefix("run:").and_then(|n| n.parse().ok()))
                .collect();
            let since =
                DateTime::from_timestamp(req.since - CLOCK_SKEW_S, 0).unwrap_or_else(Utc::now);
            let run = self
                .find_run(workflow, None, since, plan.title.as_deref(), &known)
                .await
                .map_err(|e| anyhow!("cannot list the runs of {workflow}: {e}"))?;
            Ok(run.map(|run| Launched {
                job: JobHandle::Workflow {
                    workflow: workflow.clone(),
                    run_id: run.id,
                    git_ref: run.head_branch.clone().unwrap_or(plan.git_ref.clone()),
                },
                log_paths: Vec::new(),
                exit_dir: None,
                message: format!("found run {} dispatched before the tracker stopped", run.id),
                event: "recovered",
            }))
        })
    }
}
