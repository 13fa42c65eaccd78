//! Workflow runs as plain records, for a fake that serves no repository: a dispatch makes a
//! run whose outcome the test planned ([`RunPlan`]), and each look at it moves it along
//! (queued, in progress, completed). With a repository, `actions` runs them for real.

use super::actions;
use super::server::{paginate, Answer, Call};
use super::state::{now, ts, State};
use super::{FakeGithub, Flavor, OWNER, REPO};
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{json, Value};

/// The outcome a dispatched run will have.
#[derive(Debug, Clone)]
pub struct RunPlan {
    pub conclusion: String,
    /// (job name, conclusion, log text)
    pub jobs: Vec<(String, String, String)>,
}

impl Default for RunPlan {
    fn default() -> Self {
        RunPlan {
            conclusion: "success".into(),
            jobs: vec![(
                "build".into(),
                "success".into(),
                "2026-01-01T00:00:00Z all good\n".into(),
            )],
        }
    }
}

pub(super) struct JobState {
    pub(super) id: u64,
    pub(super) name: String,
    pub(super) conclusion: String,
    pub(super) log: String,
}

pub(super) struct RunState {
    pub(super) id: u64,
    pub(super) workflow: String,
    pub(super) workflow_id: u64,
    pub(super) run_number: u64,
    pub(super) branch: String,
    pub(super) event: String,
    pub(super) created_at: DateTime<Utc>,
    pub(super) polls: u32,
    pub(super) conclusion: String,
    pub(super) jobs: Vec<JobState>,
}

impl State {
    pub(super) fn workflow_id(&mut self, workflow: &str) -> u64 {
        if let Ok(id) = workflow.parse() {
            return id;
        }
        let next = 161_335 + self.workflows.len() as u64;
        *self.workflows.entry(workflow.to_string()).or_insert(next)
    }

    pub(super) fn add_run(
        &mut self,
        workflow: &str,
        branch: &str,
        event: &str,
        plan: RunPlan,
    ) -> u64 {
        let id = self.id();
        let workflow_id = self.workflow_id(workflow);
        let run_number = self
            .runs
            .iter()
            .filter(|r| r.workflow_id == workflow_id)
            .count() as u64
            + 1;
        let jobs = plan
            .jobs
            .into_iter()
            .map(|(name, conclusion, log)| JobState {
                id: 0,
                name,
                conclusion,
                log,
            })
            .collect::<Vec<_>>();
        let jobs = jobs
            .into_iter()
            .map(|mut j| {
                j.id = self.id();
                j
            })
            .collect();
        self.runs.push(RunState {
            id,
            workflow: workflow.to_string(),
            workflow_id,
            run_number,
            branch: branch.to_string(),
            event: event.to_string(),
            created_at: now(),
            polls: 0,
            conclusion: plan.conclusion,
            jobs,
        });
        id
    }

    pub(super) fn run_status(&self, run: &RunState) -> (&'static str, Option<String>) {
        if run.polls <= self.queued_polls {
            ("queued", None)
        } else if run.polls <= self.queued_polls + self.running_polls {
            ("in_progress", None)
        } else {
            ("completed", Some(run.conclusion.clone()))
        }
    }
}

impl FakeGithub {
    /// The next dispatched run's outcome.
    pub fn plan_next_run(&self, plan: RunPlan) {
        self.lock().next_plan = Some(plan);
    }

    /// How many observations (GETs) a run stays `queued`, then `in_progress`.
    pub fn set_run_pace(&self, queued: u32, in_progress: u32) {
        let mut state = self.lock();
        state.queued_polls = queued;
        state.running_polls = in_progress;
    }

    /// Adds a run that existed before the test's dispatch.
    pub fn seed_run(
        &self,
        workflow: &str,
        branch: &str,
        event: &str,
        created_at: DateTime<Utc>,
    ) -> u64 {
        let mut state = self.lock();
        let id = state.add_run(workflow, branch, event, RunPlan::default());
        if let Some(run) = state.runs.iter_mut().find(|r| r.id == id) {
            run.created_at = created_at.trunc_subsecs(0);
        }
        id
    }
}

pub(super) fn route(state: &mut State, call: &Call) -> Option<Answer> {
    let answer = match (call.method, call.template) {
        ("POST", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches") => {
            dispatch(state, call)
        }
        ("GET", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs") => {
            list_runs(state, call)
        }
        ("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}") => get_run(state, call),
        ("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs") => list_jobs(state, call),
        ("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}/logs") => {
            Answer::empty(302).header("Location", format!("{}/_blobs/run-logs.zip", state.origin))
        }
        _ => return None,
    };
    Some(answer)
}

/// A run of the planned outcome ([`FakeGithub::plan_next_run`]).
fn dispatch(state: &mut State, call: &Call) -> Answer {
    let workflow = call.params.get("workflow_id").cloned().unwrap_or_default();
    let branch = call.body["ref"].as_str().unwrap_or_default().to_string();
    let plan = state.next_plan.take().unwrap_or_default();
    let id = state.add_run(&workflow, &branch, "workflow_dispatch", plan);
    dispatched(state, call, id)
}

/// The answer to an accepted dispatch of run `run_id`: 204, or (on api.github.com, when the
/// request asks with `return_run_details`) the run's id and addresses.
pub(super) fn dispatched(state: &State, call: &Call, run_id: u64) -> Answer {
    if state.spec.flavor == Flavor::Dotcom
        && call.body["return_run_details"].as_bool() == Some(true)
    {
        let mut details = state.spec.example("workflow-dispatch-response");
        details["workflow_run_id"] = json!(run_id);
        details["run_url"] = json!(format!(
            "{}/repos/{OWNER}/{REPO}/actions/runs/{run_id}",
            state.origin
        ));
        details["html_url"] = json!(format!(
            "{}/{OWNER}/{REPO}/actions/runs/{run_id}",
            state.origin
        ));
        return Answer::json(200, details);
    }
    Answer::empty(204)
}

fn list_runs(state: &mut State, call: &Call) -> Answer {
    let workflow = call.params.get("workflow_id").cloned().unwrap_or_default();
    let workflow_id = state.workflow_id(&workflow);
    let event = call.query("event");
    let branch = call.query("branch");
    let created = call.query("created").map(parse_created);
    let mut ids: Vec<u64> = state
        .runs
        .iter()
        .filter(|r| r.workflow_id == workflow_id)
        .filter(|r| event.is_none_or(|e| e == r.event))
        .filter(|r| branch.is_none_or(|b| b == r.branch))
        .filter(|r| {
            created
                .as_ref()
                .is_none_or(|range| range.contains(r.created_at))
        })
        .map(|r| r.id)
        .collect();
    ids.reverse(); // newest first
    let items: Vec<Value> = ids.iter().map(|id| observe_run(state, *id)).collect();
    paginate(state, call, items, Some("workflow_runs"))
}

fn get_run(state: &mut State, call: &Call) -> Answer {
    let id = call.num("run_id");
    if !state.runs.iter().any(|r| r.id == id) {
        return Answer::error(404, "Not Found");
    }
    Answer::json(200, observe_run(state, id))
}

fn list_jobs(state: &mut State, call: &Call) -> Answer {
    let id = call.num("run_id");
    let Some(run) = state.runs.iter().find(|r| r.id == id) else {
        return Answer::error(404, "Not Found");
    };
    let items: Vec<Value> = run.jobs.iter().map(|j| job_json(state, run, j)).collect();
    paginate(state, call, items, Some("jobs"))
}

/// A `created` filter in GitHub's search syntax: `>=T`, `>T`, `<=T`, `<T`, `A..B` or a date.
struct CreatedRange {
    from: Option<(DateTime<Utc>, bool)>,
    to: Option<(DateTime<Utc>, bool)>,
}

impl CreatedRange {
    fn contains(&self, t: DateTime<Utc>) -> bool {
        let after = self
            .from
            .is_none_or(|(f, inclusive)| if inclusive { t >= f } else { t > f });
        let before = self
            .to
            .is_none_or(|(u, inclusive)| if inclusive { t <= u } else { t < u });
        after && before
    }
}

fn parse_time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        })
        .unwrap_or_default()
}

fn parse_created(text: &str) -> CreatedRange {
    let range = |from, to| CreatedRange { from, to };
    if let Some(t) = text.strip_prefix(">=") {
        range(Some((parse_time(t), true)), None)
    } else if let Some(t) = text.strip_prefix('>') {
        range(Some((parse_time(t), false)), None)
    } else if let Some(t) = text.strip_prefix("<=") {
        range(None, Some((parse_time(t), true)))
    } else if let Some(t) = text.strip_prefix('<') {
        range(None, Some((parse_time(t), false)))
    } else if let Some((a, b)) = text.split_once("..") {
        range(Some((parse_time(a), true)), Some((parse_time(b), true)))
    } else {
        let day = parse_time(text);
        range(
            Some((day, true)),
            Some((day + chrono::Duration::days(1), false)),
        )
    }
}

/// A run as JSON; looking at it moves it along (queued → in_progress → completed).
pub(super) fn observe_run(state: &mut State, id: u64) -> Value {
    if let Some(run) = state.runs.iter_mut().find(|r| r.id == id) {
        run.polls += 1;
    }
    let run = state.runs.iter().find(|r| r.id == id).expect("run exists");
    let (status, conclusion) =
        actions::live_status(state, id).unwrap_or_else(|| state.run_status(run));
    let mut json = state.spec.example("workflow-run");
    let api = format!(
        "{}/repos/{OWNER}/{REPO}/actions/runs/{}",
        state.origin, run.id
    );
    json["id"] = json!(run.id);
    json["name"] = json!(run.workflow);
    json["path"] = json!(format!(".github/workflows/{}", run.workflow));
    json["head_branch"] = json!(run.branch);
    json["event"] = json!(run.event);
    json["display_title"] = json!(run.workflow);
    if let Some((title, sha)) = actions::run_title(state, id) {
        json["display_title"] = json!(title);
        json["head_sha"] = json!(sha);
    }
    json["status"] = json!(status);
    json["conclusion"] = json!(conclusion);
    json["workflow_id"] = json!(run.workflow_id);
    json["run_number"] = json!(run.run_number);
    json["run_attempt"] = json!(1);
    json["created_at"] = json!(ts(run.created_at));
    json["updated_at"] = json!(ts(now()));
    json["run_started_at"] = json!(ts(run.created_at));
    json["url"] = json!(api);
    json["html_url"] = json!(format!(
        "{}/{OWNER}/{REPO}/actions/runs/{}",
        state.origin, run.id
    ));
    json["jobs_url"] = json!(format!("{api}/jobs"));
    json["logs_url"] = json!(format!("{api}/logs"));
    json["pull_requests"] = json!([]);
    json
}

fn job_json(state: &State, run: &RunState, job: &JobState) -> Value {
    let (run_status, _) = state.run_status(run);
    let completed = run_status == "completed";
    let mut json = job_skeleton(state, run, job.id, &job.name);
    json["status"] = json!(run_status);
    json["conclusion"] = if completed {
        json!(job.conclusion)
    } else {
        Value::Null
    };
    json["started_at"] = json!(ts(run.created_at));
    json["completed_at"] = if completed {
        json!(ts(now()))
    } else {
        Value::Null
    };
    json["steps"] = json!([]);
    json
}

/// Job `id` of `run` as JSON on the published example, with its names and addresses; its
/// status, conclusion, times and steps are the caller's.
pub(super) fn job_skeleton(state: &State, run: &RunState, id: u64, name: &str) -> Value {
    let mut json = state.spec.example("job-paginated")["jobs"][0].clone();
    json["id"] = json!(id);
    json["run_id"] = json!(run.id);
    json["name"] = json!(name);
    json["workflow_name"] = json!(run.workflow);
    json["head_branch"] = json!(run.branch);
    // The published example has no `created_at`, which its schema requires.
    json["created_at"] = json!(ts(run.created_at));
    json["url"] = json!(format!(
        "{}/repos/{OWNER}/{REPO}/actions/jobs/{id}",
        state.origin
    ));
    json["run_url"] = json!(format!(
        "{}/repos/{OWNER}/{REPO}/actions/runs/{}",
        state.origin, run.id
    ));
    json["html_url"] = json!(format!(
        "{}/{OWNER}/{REPO}/actions/runs/{}/job/{id}",
        state.origin, run.id
    ));
    json
}
