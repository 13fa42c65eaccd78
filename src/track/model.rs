//! What a track is: one experiment with its attempts, as stored in `state.json`.

use crate::diagnose::Diagnosis;
use crate::job::{JobInfo, JobState};
use crate::logtail::follow::FollowPosition;
use crate::proc::LocalJob;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How the job is launched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Launch {
    /// `trackit sbatch ARGS...`: the arguments exactly as typed (options, script, script args).
    Slurm { sbatch_args: Vec<String> },
    /// `trackit run CMD...`
    Local { command: Vec<String> },
    /// `trackit attach JOBID`: adopted; relaunching resubmits its script with its resources.
    AttachSlurm { job_id: String },
    /// `trackit attach pid:N`: adopted; cannot be relaunched.
    AttachPid { pid: i32 },
    /// `trackit dispatch WORKFLOW -f KEY=VALUE... [--ref REF]`: the workflow with the user's
    /// own inputs, sent as typed (checked against the inputs the file declares). Nothing to
    /// edit, so a failure is diagnosed but not relaunched.
    Dispatch {
        workflow: String,
        inputs: std::collections::BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        git_ref: Option<String>,
    },
    /// `trackit pipeline FILE`: no job of its own; its steps are tracks under it (in
    /// `steps/<name>/` of its folder), and it publishes for all of them.
    Pipeline { file: PathBuf, steps: Vec<String> },
}

/// What a step track is to its pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepOf {
    /// The pipeline track's id.
    pub pipeline: String,
    pub name: String,
    /// The steps that must succeed first.
    #[serde(default)]
    pub after: Vec<String>,
}

impl StepOf {
    /// A step's track id: its folder under the pipeline's.
    pub fn track_id(pipeline: &str, name: &str) -> String {
        format!("{pipeline}/steps/{name}")
    }
}

/// A cluster reached over ssh: the host as the user types it after `ssh` (an alias from
/// `~/.ssh/config` works), and the repository's checkout on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Remote {
    pub host: String,
    /// The repository's checkout on the host (absolute, or relative to the remote home).
    pub dir: String,
}

impl Remote {
    /// The remote counterpart of a local path inside the repository `root`.
    pub fn path_for(&self, root: &Path, local: &Path) -> String {
        let rel = local.strip_prefix(root).unwrap_or(Path::new(""));
        let rel = rel.to_string_lossy();
        let base = self.dir.trim_end_matches('/');
        if rel.is_empty() {
            base.to_string()
        } else {
            format!("{base}/{rel}")
        }
    }
}

/// Where a track's attempts are launched. Chosen when the track is created and stored with it,
/// so `resume` and `cancel` use the same one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BackendSpec {
    /// A process on this machine.
    Local,
    /// SLURM through its commands here, or on a login node over ssh.
    Slurm {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        remote: Option<Remote>,
    },
    /// The policy's GitHub Actions workflow, run by a runner on the cluster. A submit-only
    /// workflow's job is then followed with squeue here, or over ssh on `remote`.
    Workflow {
        workflow: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        remote: Option<Remote>,
    },
}

impl BackendSpec {
    pub fn remote(&self) -> Option<&Remote> {
        match self {
            BackendSpec::Local => None,
            BackendSpec::Slurm { remote } | BackendSpec::Workflow { remote, .. } => remote.as_ref(),
        }
    }

    /// For messages: "local process", "SLURM", "SLURM on sherlock (ssh)", "workflow x.yml".
    pub fn describe(&self) -> String {
        match self {
            BackendSpec::Local => "a local process".into(),
            BackendSpec::Slurm { remote: None } => "SLURM (sbatch here)".into(),
            BackendSpec::Slurm { remote: Some(r) } => format!("SLURM on {} over ssh", r.host),
            BackendSpec::Workflow { workflow, .. } => format!("the GitHub workflow {workflow}"),
        }
    }
}

/// The job behind one attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JobHandle {
    Slurm {
        id: String,
        /// Epoch seconds just before submission (guards against reused ids).
        submitted_after: Option<i64>,
        name: Option<String>,
        /// Where the job lives when it is not on this machine's cluster.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        remote: Option<Remote>,
        /// The workflow run that submitted it (a submit-only dispatch workflow).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run_id: Option<u64>,
    },
    Local(LocalJob),
    /// A GitHub Actions run of the policy's dispatch workflow (a runner on the cluster submits).
    Workflow {
        workflow: String,
        run_id: u64,
        git_ref: String,
    },
}

impl JobHandle {
    pub fn id(&self) -> String {
        match self {
            JobHandle::Slurm { id, .. } => id.clone(),
            JobHandle::Local(j) => j.id(),
            JobHandle::Workflow { run_id, .. } => format!("run:{run_id}"),
        }
    }
}

/// One run of the job.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// 1-based.
    pub n: u32,
    /// Set before launching, cleared once the job is recorded: a resume that finds it set knows
    /// the launch may or may not have happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launching_since: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<JobHandle>,
    /// The sbatch arguments or command line of this attempt (after edits).
    #[serde(default)]
    pub launch_args: Vec<String>,
    /// The latest state of the job, and of each array task.
    #[serde(default)]
    pub tasks: Vec<JobInfo>,
    #[serde(default)]
    pub log_paths: Vec<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_position: Option<FollowPosition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<Diagnosis>,
    /// Human lines for the edits that produced this attempt.
    #[serde(default)]
    pub edits: Vec<String>,
    /// The edits that produced this attempt, as data (the fixers' history).
    #[serde(default)]
    pub applied: Vec<crate::edits::AppliedEdit>,
    /// What this attempt ran: the script text and sbatch arguments, or the command and env.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<crate::edits::JobSpec>,
    /// Why the launch itself failed (sbatch refused it), if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_error: Option<String>,
    /// The unique marker the submission carries (`trackit:<track>:<attempt>`, sbatch's
    /// `--comment`), so a submission whose reply was lost is found instead of repeated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    /// Where the job's wrapper writes its exit status (a folder here, or on the remote host):
    /// the end of the job is noticed from it without asking the scheduler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_dir: Option<String>,
    /// Local copies of the job's logs when they live elsewhere (a remote host, a workflow run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fetched_logs: Vec<PathBuf>,
    /// The local folder the results were fetched into when the job wrote them elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results_dir: Option<PathBuf>,
    /// Epoch s when the job's exit file was first seen (the job ended; the scheduler confirms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_seen_at: Option<i64>,
    /// The exit file there is an earlier run's (the job was requeued): ignored until the job
    /// runs again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exit_stale: bool,
    /// Epoch s since when the scheduler has not known the job at all (squeue nor sacct).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_since: Option<i64>,
    /// The jobs this one waits for (`--dependency=afterok:`), a pipeline's earlier steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Why this attempt was withdrawn without a diagnosis (a step it depended on failed and
    /// is relaunched): it does not count against `max_attempts`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    #[serde(default)]
    pub finished: bool,
}

impl Attempt {
    /// The attempt's overall state: the worst state among its tasks (an array fails if any task
    /// fails), or PENDING before anything is known.
    pub fn state(&self) -> Option<JobState> {
        if self.launch_error.is_some() {
            return Some(JobState::Failed);
        }
        if self.tasks.is_empty() {
            return None;
        }
        let states: Vec<JobState> = self.tasks.iter().filter_map(|t| t.state).collect();
        if states.len() < self.tasks.len() || states.iter().any(|s| !s.is_terminal()) {
            return Some(if states.contains(&JobState::Running) {
                JobState::Running
            } else {
                JobState::Pending
            });
        }
        states
            .iter()
            .copied()
            .find(|s| !s.is_success())
            .or(Some(JobState::Completed))
    }

    /// The task that decides the attempt: the first failed one, else the first.
    pub fn deciding_task(&self) -> Option<&JobInfo> {
        self.tasks
            .iter()
            .find(|t| t.state.is_some_and(|s| s.is_terminal() && !s.is_success()))
            .or(self.tasks.first())
    }
}

/// How a track ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    Failed,
    Cancelled,
}

/// The tracker process that owns a track right now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lease {
    pub pid: i32,
    pub start_ticks: u64,
    pub host: String,
}

/// One experiment and its attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Track {
    pub id: String,
    pub experiment: String,
    pub created_at: String,
    /// The repository root (or the working directory outside git): where `.trackit/` lives.
    pub root: PathBuf,
    /// Where the job is launched from.
    pub cwd: PathBuf,
    pub launch: Launch,
    /// Where attempts are launched (None in states written before backends were recorded:
    /// derived from `launch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<BackendSpec>,
    /// Set when this track is a step of a pipeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_of: Option<StepOf>,
    /// A pipeline's step tracks, attached by whoever reads them (the engine while it watches,
    /// `status`): never stored here, each step has its own state file.
    #[serde(skip)]
    pub steps: Vec<Track>,
    #[serde(default)]
    pub policy: Option<PathBuf>,
    pub max_attempts: u32,
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    #[serde(default)]
    pub outcome: Option<Outcome>,
    #[serde(default)]
    pub lease: Option<Lease>,
    /// Policy errors met while tracking (the built-in default decided instead).
    #[serde(default)]
    pub policy_errors: Vec<String>,
    /// What the user asked of the results PR and the results collection.
    #[serde(default)]
    pub publish_opts: PublishOptions,
    /// What was published so far (branch, doc, commit, PR, comments, queued GitHub updates)
    /// and the results summary.
    #[serde(default)]
    pub published: Published,
}

/// `--no-pr`, `--no-git`, `--doc`, `--results`, `--metric`, kept with the track so a resume
/// publishes the same way.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PublishOptions {
    pub no_pr: bool,
    pub no_git: bool,
    pub doc: Option<PathBuf>,
    pub results: Option<String>,
    pub metrics: Vec<String>,
    /// `--baseline REF`: a git ref or `#N` (a pull request) to compare with, instead of the
    /// previous results PR of the experiment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
}

/// One GitHub side effect waiting to be delivered (GitHub was unreachable).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GithubUpdate {
    /// Set the PR's title and body.
    PrBody { title: String, body: String },
    /// Rewrite the one status comment.
    Status { body: String },
    /// Post a milestone comment once (relaunch, final result).
    Comment { milestone: String, body: String },
}

/// The results of a finished track, for the final report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResultsSummary {
    pub files: Vec<PathBuf>,
    pub metrics: Option<crate::results::MetricsReport>,
    /// The efficiency line of the deciding job.
    pub efficiency: Option<String>,
    /// The SVG chart, relative to the repository (or the track dir). Older tracks; new ones
    /// have one plot per metric in `plots`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plot: Option<PathBuf>,
    /// One SVG per metric: (metric, path relative to the repository or the track dir).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plots: Vec<(String, PathBuf)>,
    pub errors: Vec<String>,
    /// The run's hyperparameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hyperparams: Option<crate::results::Hyperparams>,
    /// Files passed over, with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<crate::results::Skipped>,
    /// Metrics read from the job's log because no file had them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub from_log: Vec<String>,
    /// W&B run pages, or how to upload an offline run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
}

/// Every publishing step, recorded as it happens so a resume neither repeats nor loses one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Published {
    /// Set once the publisher has decided where things go.
    pub prepared: bool,
    /// False: no git (`--no-git`, outside a repository, or git failed): the report is
    /// `report.md` in the track dir.
    pub git: bool,
    pub branch: Option<String>,
    /// The PR's base branch.
    pub base: Option<String>,
    pub remote: Option<String>,
    /// The doc, relative to the results worktree (or the track dir without git).
    pub doc: Option<PathBuf>,
    /// The newest commit on the results branch, and the newest one pushed.
    pub commit: Option<String>,
    pub pushed: Option<String>,
    pub pr_number: Option<u64>,
    pub pr_url: Option<String>,
    pub status_comment_id: Option<u64>,
    /// Milestone comments already posted.
    pub milestones: Vec<String>,
    /// GitHub updates not delivered yet, oldest first.
    pub queue: Vec<GithubUpdate>,
    /// Failed deliveries in a row, and when to try again (epoch s).
    pub retries: u32,
    pub retry_at: Option<i64>,
    /// A GitHub error that stopped GitHub updates for this track (401, 404, ...).
    pub github_error: Option<String>,
    /// Why git publishing stopped or was skipped.
    pub git_error: Option<String>,
    /// What the last publish described (status, attempt, job, state): a change triggers one.
    pub last_key: Option<String>,
    /// Epoch s when the current attempt was launched (results written since then count).
    pub launched_at: Option<i64>,
    pub results: Option<ResultsSummary>,
    /// The commit the job ran from and the working tree's uncommitted changes, recorded when
    /// the track was first published (just after the launch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<crate::report::CodeVersion>,
    /// The run compared with, once looked for (`baseline_checked`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<crate::report::Baseline>,
    pub baseline_checked: bool,
    /// Why no baseline was found, or why the one asked for could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_note: Option<String>,
    /// The results commit that first held the plots: their links use it, not the branch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plot_commit: Option<String>,
}

impl Track {
    /// Where attempts are launched.
    pub fn backend_spec(&self) -> BackendSpec {
        match (&self.backend, &self.launch) {
            (Some(b), _) => b.clone(),
            (None, Launch::Local { .. } | Launch::AttachPid { .. } | Launch::Pipeline { .. }) => {
                BackendSpec::Local
            }
            (None, Launch::Slurm { .. } | Launch::AttachSlurm { .. }) => {
                BackendSpec::Slurm { remote: None }
            }
            (None, Launch::Dispatch { workflow, .. }) => BackendSpec::Workflow {
                workflow: workflow.clone(),
                remote: None,
            },
        }
    }

    pub fn current(&self) -> Option<&Attempt> {
        self.attempts.last()
    }

    /// Attempts that count against `max_attempts` (not the ones withdrawn because a step they
    /// depended on was relaunched).
    pub fn attempts_used(&self) -> u32 {
        self.attempts
            .iter()
            .filter(|a| a.withdrawn.is_none())
            .count() as u32
    }

    pub fn is_pipeline(&self) -> bool {
        matches!(self.launch, Launch::Pipeline { .. })
    }

    pub fn current_mut(&mut self) -> Option<&mut Attempt> {
        self.attempts.last_mut()
    }

    pub fn is_done(&self) -> bool {
        self.outcome.is_some()
    }

    /// A one-word status for lists: the outcome, else the current attempt's state.
    pub fn status_word(&self) -> String {
        match self.outcome {
            Some(Outcome::Succeeded) => "COMPLETED".into(),
            Some(Outcome::Failed) => "FAILED".into(),
            Some(Outcome::Cancelled) => "CANCELLED".into(),
            None => self
                .current()
                .and_then(|a| a.state())
                .map(|s| s.to_string())
                .unwrap_or_else(|| "PENDING".into()),
        }
    }
}

/// A readable, sortable track id: `YYYYMMDD-HHMMSS-<experiment>`.
pub fn new_track_id(experiment: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    format!("{}-{}", now.format("%Y%m%d-%H%M%S"), experiment)
}

/// An experiment name from what was launched: the script's or program's file stem.
pub fn experiment_from(args: &[String]) -> String {
    // The script is the first argument that names a file (not an interpreter).
    if let Some(stem) = args
        .iter()
        .filter(|a| !a.starts_with('-') && std::path::Path::new(a.as_str()).is_file())
        .filter_map(|a| {
            std::path::Path::new(a.as_str())
                .file_stem()
                .and_then(|s| s.to_str())
        })
        .find(|stem| !is_interpreter(stem))
    {
        return sanitize(stem);
    }
    // For sbatch: the first argument that is not an option (or an option's value) is the script.
    let mut skip_value = false;
    let mut candidate = None;
    for a in args {
        if skip_value {
            skip_value = false;
            continue;
        }
        if a.starts_with('-') {
            // `-p gpu` style takes a value; `--mem=8G` carries its own.
            skip_value = !a.contains('=')
                && a.len() == 2
                && !matches!(a.as_str(), "-v" | "-Q" | "-h" | "-H" | "-W");
            continue;
        }
        let stem = std::path::Path::new(a)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or(a);
        // `python train.py`: prefer the script to the interpreter.
        if candidate.is_none() && is_interpreter(stem) {
            candidate = Some(stem.to_string());
            continue;
        }
        candidate = Some(stem.to_string());
        break;
    }
    sanitize(&candidate.unwrap_or_else(|| "job".into()))
}

fn is_interpreter(name: &str) -> bool {
    matches!(
        name,
        "python"
            | "python3"
            | "bash"
            | "sh"
            | "Rscript"
            | "julia"
            | "srun"
            | "torchrun"
            | "accelerate"
            | "uv"
            | "conda"
    )
}

/// Keeps names safe for branches, file names and ids.
pub fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches(|c| c == '-' || c == '.').to_string();
    if s.is_empty() {
        "job".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn experiment_names() {
        assert_eq!(
            experiment_from(&v(&["--array=0-3", "--mem=8G", "job.sh", "lr=3e-4"])),
            "job"
        );
        assert_eq!(
            experiment_from(&v(&["-p", "gpu", "scripts/train_big.sbatch"])),
            "train_big"
        );
        assert_eq!(
            experiment_from(&v(&["python", "train.py", "--lr", "3e-4"])),
            "train"
        );
        assert_eq!(
            experiment_from(&v(&["./run experiment.sh"])),
            "run-experiment"
        );
    }

    #[test]
    fn array_state_is_the_worst_task() {
        let task = |s: JobState| JobInfo {
            state: Some(s),
            ..Default::default()
        };
        let mut a = Attempt {
            n: 1,
            ..Default::default()
        };
        assert_eq!(a.state(), None);
        a.tasks = vec![task(JobState::Completed), task(JobState::Running)];
        assert_eq!(a.state(), Some(JobState::Running));
        a.tasks = vec![task(JobState::Completed), task(JobState::OutOfMemory)];
        assert_eq!(a.state(), Some(JobState::OutOfMemory));
        assert_eq!(
            a.deciding_task().unwrap().state,
            Some(JobState::OutOfMemory)
        );
        a.tasks = vec![task(JobState::Completed), task(JobState::Completed)];
        assert_eq!(a.state(), Some(JobState::Completed));
    }
}
