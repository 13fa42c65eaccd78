//! Where jobs run. The engine's loop knows nothing of SLURM, processes or GitHub: it talks to a
//! [`Backend`], which launches an attempt, polls many jobs with one call, cancels, brings logs
//! and results to this machine, and finds a launch that a crash interrupted.
//!
//! Implementations:
//! - [`local::LocalBackend`]: a process on this machine;
//! - [`slurm::SlurmBackend`]: SLURM through its commands here, or on a login node over ssh (the
//!   same backend with the commands, logs and results reached through `ssh`);
//! - [`workflow::WorkflowBackend`]: the policy's GitHub Actions workflow, run by a runner on the
//!   cluster.
//!
//! Every job handle says where its job lives ([`JobHandle`]), so the engine groups handles by
//! [`BackendKey`] and polls each group with one call.

pub mod local;
pub mod slurm;
pub mod workflow;

use super::model::{Attempt, BackendSpec, JobHandle, Remote, Track};
use crate::edits::JobSpec;
use crate::job::JobInfo;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Which backend instance serves a job: one per kind and place, so one poll covers every job
/// in that place.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BackendKey {
    Local,
    /// SLURM here (None) or on a host over ssh.
    Slurm(Option<String>),
    /// GitHub Actions of one repository (its API base and full name).
    Workflow(String),
}

impl BackendKey {
    pub fn of(handle: &JobHandle, track: &Track) -> BackendKey {
        match handle {
            JobHandle::Local(_) => BackendKey::Local,
            JobHandle::Slurm { remote, .. } => {
                BackendKey::Slurm(remote.as_ref().map(|r| r.host.clone()))
            }
            JobHandle::Workflow { .. } => {
                BackendKey::Workflow(track.root.to_string_lossy().into_owned())
            }
        }
    }
}

/// Everything a backend needs to start one attempt.
#[derive(Debug, Clone)]
pub struct LaunchRequest {
    /// How the track launches (the workflow's name, the remote host).
    pub backend: BackendSpec,
    pub track_id: String,
    pub attempt: u32,
    /// The repository root and the launch directory, here.
    pub root: PathBuf,
    pub cwd: PathBuf,
    /// The track's folder here (edited scripts, wrappers, logs of local jobs).
    pub track_dir: PathBuf,
    /// What to run: the script and sbatch arguments (edits applied), or the command and env.
    pub spec: Option<JobSpec>,
    /// The sbatch arguments or command line as they stand for this attempt.
    pub args: Vec<String>,
    /// `trackit:<track>:<attempt>`: carried by the submission so it can be found again.
    pub marker: String,
    /// For a dispatch: the user's branch (or the ref `trackit dispatch --ref` named).
    pub git_ref: Option<String>,
    /// For a dispatch: the track's results branch, where a script that GitHub does not have
    /// at `git_ref` (edited by a fix, or changed locally) is committed and pushed, and which
    /// the run then checks out. None without git.
    pub results_branch: Option<String>,
    /// How the track launches (a `trackit dispatch` carries its own inputs).
    pub launch: super::model::Launch,
    /// The sbatch options the user typed on the command line, and the relaunch edits as
    /// options (a dispatch must carry both, or not dispatch).
    pub typed_options: Vec<String>,
    pub edits: Vec<String>,
    /// Wrap a batch script so the job's end is noticed from its exit file (the policy's
    /// `exit_files` setting).
    pub wrap: bool,
    /// Jobs this one may start only after they succeed (a pipeline's earlier steps, on the
    /// same cluster): sbatch's `--dependency=afterok:`.
    pub depends_on: Vec<String>,
}

/// A job that was started.
#[derive(Debug, Clone)]
pub struct Launched {
    pub job: JobHandle,
    pub log_paths: Vec<PathBuf>,
    pub exit_dir: Option<String>,
    /// One line for the user: "submitted job 123", "dispatched x.yml on main: run 9".
    pub message: String,
    pub event: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The scheduler or the service refused the job: a `submit_error` to diagnose.
    #[error("{0}")]
    Refused(String),
    /// This backend should not take the job; another should (a dispatch that would drop
    /// options falls back to sbatch). The reason is shown to the user.
    #[error("{0}")]
    UseFallback(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// What one poll learned about one job.
#[derive(Debug, Clone, Default)]
pub struct JobUpdate {
    /// The job, or its array tasks.
    pub tasks: Vec<JobInfo>,
    /// Log files learned on the way (a workflow run's job logs, fetched).
    pub log_paths: Option<Vec<PathBuf>>,
    /// The job now lives elsewhere: a submit-only workflow run submitted this SLURM job.
    pub handoff: Option<Launched>,
    /// Something to tell the user once (e.g. why a finished run is not the job's end).
    pub note: Option<String>,
}

/// One job to poll, with its attempt's folder here (for logs fetched on the way).
#[derive(Debug, Clone)]
pub struct PollItem {
    pub handle: JobHandle,
    pub attempt_dir: PathBuf,
}

/// The answer to one poll: an update per job handle id; jobs missing from it are unchanged.
#[derive(Debug, Clone, Default)]
pub struct PollReport {
    pub updates: Vec<(String, JobUpdate)>,
    /// Jobs the scheduler no longer knows at all (neither squeue nor sacct).
    pub missing: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// The scheduler or GitHub could not be asked right now: back off and ask again.
    #[error("{0}")]
    Transient(String),
    #[error("{0}")]
    Other(String),
}

/// A launch that a crash may have interrupted: what was being launched, and since when.
#[derive(Debug, Clone)]
pub struct RecoverRequest {
    pub launch: LaunchRequest,
    /// Epoch s when the launch began.
    pub since: i64,
    /// Job ids every attempt of every watched track already knows (never adopted twice).
    pub known: Vec<String>,
}

/// What `fetch_results` should bring back.
#[derive(Debug, Clone)]
pub struct ResultsRequest {
    /// The track's folder here; results go under `attempt-N/results/`.
    pub track_dir: PathBuf,
    pub attempt: u32,
    pub root: PathBuf,
    pub cwd: PathBuf,
    /// Files changed since then (epoch s) are results.
    pub since: Option<i64>,
    /// The policy's or the user's results spec (file, folder or glob), relative to the job's
    /// working directory.
    pub spec: Option<String>,
}

pub trait Backend: Send + Sync {
    fn key(&self) -> BackendKey;

    /// Starts one attempt.
    fn launch<'a>(&'a self, req: &'a LaunchRequest)
        -> BoxFuture<'a, Result<Launched, LaunchError>>;

    /// The state of many jobs with one call to the scheduler (or one per run for GitHub).
    fn poll<'a>(&'a self, jobs: &'a [PollItem]) -> BoxFuture<'a, Result<PollReport, PollError>>;

    /// Stops a job.
    fn cancel<'a>(&'a self, job: &'a JobHandle) -> BoxFuture<'a, anyhow::Result<()>>;

    /// Readable local copies of an attempt's logs (the files themselves when they are local).
    fn fetch_logs<'a>(
        &'a self,
        attempt: &'a Attempt,
        dest: &'a Path,
    ) -> BoxFuture<'a, anyhow::Result<Vec<PathBuf>>> {
        let _ = dest;
        Box::pin(async move { Ok(attempt.log_paths.clone()) })
    }

    /// Results the job wrote where trackit cannot read them, copied under `req.track_dir`.
    /// None when they are local already.
    fn fetch_results<'a>(
        &'a self,
        job: &'a JobHandle,
        req: &'a ResultsRequest,
    ) -> BoxFuture<'a, anyhow::Result<Option<PathBuf>>> {
        let _ = (job, req);
        Box::pin(async { Ok(None) })
    }

    /// After a crash between "launching" and recording the job: the job that launch made, if
    /// it can be found. None means nothing was launched, so launching again is safe.
    fn recover<'a>(
        &'a self,
        req: &'a RecoverRequest,
    ) -> BoxFuture<'a, anyhow::Result<Option<Launched>>> {
        let _ = req;
        Box::pin(async { Ok(None) })
    }

    /// Final accounting for an attempt that ended (peak memory, CPU time, reasons): best effort.
    fn finalize<'a>(&'a self, attempt: &'a mut Attempt) -> BoxFuture<'a, ()> {
        let _ = attempt;
        Box::pin(async {})
    }

    /// Jobs whose exit file appeared, among `dirs` (exit folders): a cheap look, never a
    /// scheduler call.
    fn exit_files<'a>(
        &'a self,
        dirs: &'a [String],
    ) -> BoxFuture<'a, Vec<crate::slurm::exit_wrapper::ExitFile>> {
        let _ = dirs;
        Box::pin(async { Vec::new() })
    }

    /// How long to wait between two looks at exit files.
    fn exit_check_every(&self) -> Option<std::time::Duration> {
        None
    }
}

/// Opens the backend that serves `key`, for the tracks given (a workflow backend reads the
/// repository's origin and the policy's settings).
pub fn open(
    key: &BackendKey,
    spec_hint: Option<&BackendSpec>,
    track: &Track,
) -> anyhow::Result<Box<dyn Backend>> {
    Ok(match key {
        BackendKey::Local => Box::new(local::LocalBackend),
        BackendKey::Slurm(None) => {
            Box::new(slurm::SlurmBackend::here(crate::slurm::Slurm::default()))
        }
        BackendKey::Slurm(Some(host)) => {
            let remote = spec_hint
                .and_then(|s| s.remote())
                .filter(|r| &r.host == host)
                .cloned()
                .or_else(|| remote_of_track(track, host))
                .unwrap_or(Remote {
                    host: host.clone(),
                    dir: String::new(),
                });
            Box::new(slurm::SlurmBackend::over_ssh(remote)?)
        }
        BackendKey::Workflow(_) => Box::new(workflow::WorkflowBackend::for_track(track)?),
    })
}

/// The remote of a track's jobs on `host`, from its backend or its attempts.
fn remote_of_track(track: &Track, host: &str) -> Option<Remote> {
    if let Some(r) = track.backend_spec().remote() {
        if r.host == host {
            return Some(r.clone());
        }
    }
    track.attempts.iter().rev().find_map(|a| match &a.job {
        Some(JobHandle::Slurm {
            remote: Some(r), ..
        }) if r.host == host => Some(r.clone()),
        _ => None,
    })
}

/// The backend that brings a job's results here: a SLURM job a workflow run submitted has its
/// results in the run's artifacts.
pub fn results_key(handle: &JobHandle, track: &Track) -> BackendKey {
    match (handle, track.backend_spec()) {
        (
            JobHandle::Slurm {
                run_id: Some(_), ..
            },
            BackendSpec::Workflow { .. },
        ) => BackendKey::Workflow(track.root.to_string_lossy().into_owned()),
        _ => BackendKey::of(handle, track),
    }
}

/// The key of the backend that launches new attempts of `spec`.
pub fn launch_key(spec: &BackendSpec, track: &Track) -> BackendKey {
    match spec {
        BackendSpec::Local => BackendKey::Local,
        BackendSpec::Slurm { remote } => BackendKey::Slurm(remote.as_ref().map(|r| r.host.clone())),
        BackendSpec::Workflow { .. } => {
            BackendKey::Workflow(track.root.to_string_lossy().into_owned())
        }
    }
}
