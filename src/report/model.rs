//! What a report is made of: everything the engine knows about one track, as data. The same
//! value feeds the results table in the experiment doc, the pull request text, the commit
//! message and the status comments, and it is what a policy's report hooks receive.
//!
//! Build it with [`ReportCtx::new`] and the `with_*` methods, or fill the public fields.

use super::record::{Baseline, CodeVersion, Comparison};
use super::scrub::Secrets;
use crate::diagnose::{Diagnosis, Evidence};
use crate::job::{format_duration, JobInfo, JobState};
use crate::results::{efficiency, Efficiency, Hyperparams, MetricsReport};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where the track as a whole stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TrackStatus {
    /// Submitted, not started yet.
    #[default]
    Pending,
    Running,
    Completed,
    /// Failed for good: attempts used up, or a failure no relaunch can fix.
    Failed,
    Cancelled,
}

impl TrackStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TrackStatus::Pending => "PENDING",
            TrackStatus::Running => "RUNNING",
            TrackStatus::Completed => "COMPLETED",
            TrackStatus::Failed => "FAILED",
            TrackStatus::Cancelled => "CANCELLED",
        }
    }

    /// True once the track will not change any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TrackStatus::Completed | TrackStatus::Failed | TrackStatus::Cancelled
        )
    }
}

impl std::fmt::Display for TrackStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the results table: one job (a pipeline's step, an array's task).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRow {
    /// What the row is, when the table has more than one thing: a pipeline step's name, or
    /// `task N` of an array.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub job_id: String,
    /// 1-based attempt this job is.
    pub attempt: u32,
    pub state: JobState,
    /// `N` or `N:S`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timelimit_s: Option<u64>,
    /// Peak resident memory, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rss_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub req_mem_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The GPUs the scheduler allocated (`2 × a100`, `1 GPU`), from its TRES.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpus: Option<String>,
    /// Resource use, once the job has ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub efficiency: Option<Efficiency>,
    /// This job's metrics. When absent, the last row shows the track's [`ReportCtx::metrics`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricsReport>,
}

impl Default for JobRow {
    fn default() -> Self {
        JobRow {
            name: None,
            job_id: String::new(),
            attempt: 1,
            state: JobState::Pending,
            exit_code: None,
            elapsed_s: None,
            timelimit_s: None,
            max_rss_bytes: None,
            req_mem_bytes: None,
            node: None,
            gpus: None,
            efficiency: None,
            metrics: None,
        }
    }
}

impl JobRow {
    /// A job just submitted.
    pub fn pending(job_id: impl Into<String>, attempt: u32) -> JobRow {
        JobRow {
            job_id: job_id.into(),
            attempt,
            ..JobRow::default()
        }
    }

    /// A row from what the backend reports; the efficiency line once the job has ended.
    pub fn from_job(info: &JobInfo, attempt: u32) -> JobRow {
        let state = info.state.unwrap_or(JobState::Pending);
        JobRow {
            name: None,
            job_id: info.id.clone(),
            attempt,
            state,
            exit_code: info.exit.map(|e| e.to_string()),
            elapsed_s: info.elapsed_s,
            timelimit_s: info.timelimit_s,
            max_rss_bytes: info.max_rss_bytes,
            req_mem_bytes: info.req_mem_bytes,
            node: info.node_list.clone(),
            gpus: info
                .alloc_tres
                .as_deref()
                .and_then(crate::job::gpus_from_tres),
            efficiency: state.is_terminal().then(|| efficiency(info)),
            metrics: None,
        }
    }
}

/// Why an attempt failed, as the diagnosis put it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttemptDiagnosis {
    pub kind: String,
    pub summary: String,
    /// Evidence lines for people (`file:line: text`).
    #[serde(default)]
    pub evidence: Vec<String>,
}

impl AttemptDiagnosis {
    pub fn from_diagnosis(d: &Diagnosis) -> AttemptDiagnosis {
        AttemptDiagnosis {
            kind: d.kind.clone(),
            summary: d.summary.clone(),
            evidence: d.evidence.iter().map(evidence_line).collect(),
        }
    }
}

/// `file:line: text`, `scheduler: text`, or the text alone.
pub fn evidence_line(e: &Evidence) -> String {
    match (&e.file, e.line) {
        (Some(f), Some(l)) => format!("{f}:{l}: {}", e.text),
        (Some(f), None) => format!("{f}: {}", e.text),
        _ if e.source != "log" => format!("{}: {}", e.source, e.text),
        _ => e.text.clone(),
    }
}

/// One attempt of the track, for the failure report and the PR's attempts table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// The pipeline step it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// 1-based.
    pub number: u32,
    pub job_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<JobState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<AttemptDiagnosis>,
    /// The edits applied before the next attempt, as display strings (`--mem 16G → 32G`).
    #[serde(default)]
    pub edits: Vec<String>,
}

impl Attempt {
    pub fn new(number: u32, job_id: impl Into<String>) -> Attempt {
        Attempt {
            step: None,
            number,
            job_id: job_id.into(),
            state: None,
            exit_code: None,
            elapsed_s: None,
            diagnosis: None,
            edits: Vec::new(),
        }
    }

    /// An ended attempt: the backend's facts and the diagnosis.
    pub fn ended(number: u32, info: &JobInfo, diagnosis: Option<&Diagnosis>) -> Attempt {
        Attempt {
            step: None,
            number,
            job_id: info.id.clone(),
            state: info.state,
            exit_code: info.exit.map(|e| e.to_string()),
            elapsed_s: info.elapsed_s,
            diagnosis: diagnosis.map(AttemptDiagnosis::from_diagnosis),
            edits: Vec::new(),
        }
    }

    pub fn with_edits(mut self, edits: impl IntoIterator<Item = impl Into<String>>) -> Attempt {
        self.edits = edits.into_iter().map(Into::into).collect();
        self
    }

    /// `HH:MM:SS`, or empty.
    pub fn elapsed(&self) -> String {
        self.elapsed_s.map(format_duration).unwrap_or_default()
    }
}

/// A chart of the results, committed beside the doc.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlotRef {
    /// Repository-relative path of the SVG.
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// An absolute URL (for the PR body, where relative paths do not resolve).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Where the track's artefacts live.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Links {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr_number: Option<u64>,
    /// The results branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The last results commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_url: Option<String>,
    /// The experiment doc, repository-relative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_url: Option<String>,
    /// A GitHub Actions run that dispatched the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_url: Option<String>,
}

/// Which files the results came from, and which were passed over.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourcesReport {
    /// Files read, relative to the job's working directory.
    #[serde(default)]
    pub read: Vec<String>,
    /// Files passed over: (path, why).
    #[serde(default)]
    pub skipped: Vec<SkippedFile>,
    /// Metrics read from the job's log because no file had them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from_log: Vec<String>,
    /// Experiment-tracker pages (W&B runs), or how to upload an offline run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    /// Files that could not be read (`path: why`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

/// Everything a report is rendered from (module docs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportCtx {
    pub experiment: String,
    pub track_id: String,
    pub status: TrackStatus,
    /// `slurm`, `local`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// The command that was run (`sbatch job.sh`, `python train.py --lr 3e-4`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Rows of the results table, oldest first.
    #[serde(default)]
    pub jobs: Vec<JobRow>,
    /// A large array's tasks by state (`COMPLETED` 497, `FAILED` 3), when the table shows only
    /// the tasks that did not complete.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub task_counts: Vec<(String, usize)>,
    /// The metrics asked for ("Metrics to collect"); empty: whatever the results hold.
    #[serde(default)]
    pub metrics_wanted: Vec<String>,
    /// The results, once collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricsReport>,
    /// Attempts so far, oldest first.
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    /// Attempts allowed in all.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    #[serde(default)]
    pub plots: Vec<PlotRef>,
    #[serde(default)]
    pub links: Links,
    /// The commit the job ran from, and uncommitted changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeVersion>,
    /// The run's hyperparameters (Hydra, Lightning, W&B, MLflow).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hyperparams: Option<Hyperparams>,
    /// What the result files were, and which were passed over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<SourcesReport>,
    /// The run compared with: the previous results PR of the experiment, or `--baseline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
    /// This run's metrics against the baseline's, once both are known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comparison: Vec<Comparison>,
    /// The Discussion section (the policy's `discussion(ctx)`), once written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discussion: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Values scrubbed from everything rendered from this context. Never serialised: they
    /// reach neither Lua nor a state file.
    #[serde(skip)]
    pub secrets: Secrets,
}

fn default_max_attempts() -> u32 {
    3
}

impl ReportCtx {
    pub fn new(experiment: impl Into<String>, track_id: impl Into<String>) -> ReportCtx {
        ReportCtx {
            experiment: experiment.into(),
            track_id: track_id.into(),
            max_attempts: default_max_attempts(),
            ..ReportCtx::default()
        }
    }

    pub fn with_status(mut self, status: TrackStatus) -> Self {
        self.status = status;
        self
    }

    pub fn with_backend(mut self, backend: impl Into<String>) -> Self {
        self.backend = Some(backend.into());
        self
    }

    pub fn with_command(mut self, command: impl Into<String>) -> Self {
        self.command = Some(command.into());
        self
    }

    pub fn with_job(mut self, row: JobRow) -> Self {
        self.jobs.push(row);
        self
    }

    pub fn with_metrics_wanted(
        mut self,
        names: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.metrics_wanted = names.into_iter().map(Into::into).collect();
        self
    }

    pub fn with_metrics(mut self, report: MetricsReport) -> Self {
        self.metrics = Some(report);
        self
    }

    pub fn with_attempt(mut self, attempt: Attempt) -> Self {
        self.attempts.push(attempt);
        self
    }

    pub fn with_max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }

    pub fn with_plot(mut self, plot: PlotRef) -> Self {
        self.plots.push(plot);
        self
    }

    pub fn with_links(mut self, links: Links) -> Self {
        self.links = links;
        self
    }

    pub fn with_started_at(mut self, at: DateTime<Utc>) -> Self {
        self.started_at = Some(at);
        self
    }

    pub fn with_updated_at(mut self, at: DateTime<Utc>) -> Self {
        self.updated_at = Some(at);
        self
    }

    pub fn with_finished_at(mut self, at: DateTime<Utc>) -> Self {
        self.finished_at = Some(at);
        self
    }

    pub fn with_secrets(mut self, secrets: Secrets) -> Self {
        self.secrets = secrets;
        self
    }

    /// Replaces the row of the same job id, or appends it.
    pub fn upsert_job(&mut self, row: JobRow) {
        match self.jobs.iter_mut().find(|r| r.job_id == row.job_id) {
            Some(r) => {
                // Keep metrics already attached when the backend's update has none.
                let metrics = r.metrics.take();
                *r = row;
                if r.metrics.is_none() {
                    r.metrics = metrics;
                }
            }
            None => self.jobs.push(row),
        }
    }

    /// The newest job, if any.
    pub fn current_job(&self) -> Option<&JobRow> {
        self.jobs.last()
    }

    /// The attempt in progress (or the last one): the newest job's, else the attempts so far.
    pub fn current_attempt(&self) -> u32 {
        self.jobs
            .last()
            .map(|j| j.attempt)
            .or_else(|| self.attempts.last().map(|a| a.number))
            .unwrap_or(1)
    }

    /// The metrics a row shows: its own, else the track's for the newest row.
    pub fn row_metrics(&self, index: usize) -> Option<&MetricsReport> {
        let row = self.jobs.get(index)?;
        row.metrics.as_ref().or_else(|| {
            (index + 1 == self.jobs.len())
                .then_some(self.metrics.as_ref())
                .flatten()
        })
    }

    /// The hidden record of this track's results, once it has metrics.
    pub fn record(&self) -> Option<super::record::Record> {
        let m = self.metrics.as_ref().filter(|m| !m.metrics.is_empty())?;
        Some(super::record::Record::from_metrics(
            &self.track_id,
            &self.experiment,
            self.code.as_ref().map(|c| c.commit.as_str()),
            m,
        ))
    }

    /// The metric names, in column order: the ones asked for, else those the results hold.
    pub fn metric_columns(&self) -> Vec<String> {
        if !self.metrics_wanted.is_empty() {
            return self.metrics_wanted.clone();
        }
        let mut names: Vec<String> = Vec::new();
        let reports = self
            .jobs
            .iter()
            .filter_map(|r| r.metrics.as_ref())
            .chain(self.metrics.as_ref());
        for report in reports {
            for m in &report.metrics {
                if !names.contains(&m.name) {
                    names.push(m.name.clone());
                }
            }
        }
        names
    }
}
