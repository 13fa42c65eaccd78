//! The fake GitHub's Actions and contents operations when it is backed by a real repository
//! (the test's bare remote): `GET contents/{path}?ref=` read with git; a dispatch checked
//! against the inputs the workflow file declares at that ref (422 as GitHub answers) and then
//! executed by the fake runner; cancel; artifacts; job logs and artifact archives served by
//! 302 from the storage host ([`BlobServer`]), which must see no token.

use super::blob::BlobServer;
use super::repo::RepoAt;
use super::runs::{self, RunPlan, RunState};
use super::server::{paginate, Answer, Call};
use super::state::{ts, State};
use super::{runner, workflow};
use super::{FakeGithub, Flavor, LoggedRequest, OWNER, REPO};
use chrono::SubsecRound;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// One dispatch the fake accepted, as the test may inspect it.
#[derive(Debug, Clone)]
pub struct Dispatched {
    pub run_id: u64,
    pub workflow: String,
    pub git_ref: String,
    pub commit: String,
    /// Every declared input's value (defaults filled in).
    pub inputs: BTreeMap<String, String>,
    pub title: String,
}

pub(super) struct Actions {
    repo: Option<RepoAt>,
    blobs: BlobServer,
    work_root: Option<tempfile::TempDir>,
    queued_for: Duration,
    live: HashMap<u64, Arc<runner::LiveRun>>,
    dispatched: Vec<Dispatched>,
    /// The runner machine's own environment (e.g. `SCRATCH`), beyond PATH and HOME.
    machine_env: BTreeMap<String, String>,
}

impl Actions {
    pub(super) fn new() -> Actions {
        Actions {
            repo: None,
            blobs: BlobServer::start(),
            work_root: None,
            queued_for: Duration::from_millis(300),
            live: HashMap::new(),
            dispatched: Vec::new(),
            machine_env: BTreeMap::new(),
        }
    }
}

impl FakeGithub {
    /// Backs the fake with a real repository (the test's bare remote): contents are read from
    /// it, dispatches are checked against its workflow files and executed by the runner.
    pub fn serve_repo(&self, bare: &Path) {
        let mut s = self.lock();
        s.actions.repo = Some(RepoAt::new(bare));
        if s.actions.work_root.is_none() {
            // Under /tmp: SLURM jobs the runner submits write their logs there.
            s.actions.work_root = Some(
                tempfile::Builder::new()
                    .prefix("trackit-runner-")
                    .tempdir_in("/tmp")
                    .expect("runner folder"),
            );
        }
    }

    /// A variable of the runner machine's environment (as `SCRATCH` is set on Sherlock).
    pub fn set_runner_env(&self, key: &str, value: &str) {
        self.lock()
            .actions
            .machine_env
            .insert(key.to_string(), value.to_string());
    }

    /// How long a dispatched run stays queued before the runner picks it up.
    pub fn set_queue_delay(&self, d: Duration) {
        self.lock().actions.queued_for = d;
    }

    /// Requests the storage host (job logs, artifacts) received.
    pub fn blob_requests(&self) -> Vec<LoggedRequest> {
        self.lock().actions.blobs.requests()
    }

    pub fn blob_origin(&self) -> String {
        self.lock().actions.blobs.origin().to_string()
    }

    /// The dispatches the fake accepted, oldest first.
    pub fn dispatched(&self) -> Vec<Dispatched> {
        self.lock().actions.dispatched.clone()
    }

    /// A run's status and conclusion (as the runner has it).
    pub fn run_status(&self, run_id: u64) -> Option<(String, Option<String>)> {
        let live = self.lock().actions.live.get(&run_id).cloned()?;
        let s = live.state();
        Some((s.status.to_string(), s.conclusion.clone()))
    }

    /// A run's job logs, joined.
    pub fn run_log(&self, run_id: u64) -> String {
        let Some(live) = self.lock().actions.live.get(&run_id).cloned() else {
            return String::new();
        };
        let s = live.state();
        s.jobs
            .iter()
            .map(|j| j.log.clone())
            .collect::<Vec<_>>()
            .join("")
    }

    /// Cancels every run still going and waits for the runner (traps scancel their jobs).
    pub fn stop_runs(&self) {
        let live: Vec<_> = self.lock().actions.live.values().cloned().collect();
        for run in &live {
            run.request_cancel();
        }
        for run in &live {
            run.join();
        }
    }

    /// Problems the storage host and the runner met (part of the violations).
    pub(super) fn actions_violations(state: &State) -> Vec<String> {
        let mut v = state.actions.blobs.violations();
        for run in state.actions.live.values() {
            v.extend(
                run.state()
                    .problems
                    .iter()
                    .map(|p| format!("run {}: {p}", run.id)),
            );
        }
        v
    }

    pub(super) fn take_actions_violations(state: &mut State) -> Vec<String> {
        let mut v = state.actions.blobs.take_violations();
        for run in state.actions.live.values() {
            v.extend(std::mem::take(&mut run.state().problems));
        }
        v
    }
}

/// A run's status and conclusion when the runner executes it.
pub(super) fn live_status(state: &State, run_id: u64) -> Option<(&'static str, Option<String>)> {
    let live = state.actions.live.get(&run_id)?;
    let s = live.state();
    Some((s.status, s.conclusion.clone()))
}

pub(super) fn run_title(state: &State, run_id: u64) -> Option<(String, String)> {
    state
        .actions
        .dispatched
        .iter()
        .find(|d| d.run_id == run_id)
        .map(|d| (d.title.clone(), d.commit.clone()))
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (n, chunk) in bytes.chunks(3).enumerate() {
        // GitHub wraps the content every 60 characters (45 bytes).
        if n > 0 && n % 15 == 0 {
            out.push('\n');
        }
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let v = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(v >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out.push('\n');
    out
}

fn workflow_name(state: &State, id: &str) -> String {
    if id.parse::<u64>().is_ok() {
        if let Some((name, _)) = state.workflows.iter().find(|(_, v)| v.to_string() == id) {
            return name.clone();
        }
    }
    id.to_string()
}

/// Handles the operations below when they concern the repository or a live run; None lets
/// the plain fake answer.
pub(super) fn route(state: &mut State, call: &Call) -> Option<Answer> {
    Some(match (call.method, call.template) {
        ("GET", "/repos/{owner}/{repo}/contents/{path}") => contents(state, call),
        ("POST", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches") => {
            state.actions.repo.as_ref()?;
            dispatch(state, call)
        }
        ("POST", "/repos/{owner}/{repo}/actions/runs/{run_id}/cancel") => {
            let id = call.num("run_id");
            if let Some(live) = state.actions.live.get(&id).cloned() {
                if live.request_cancel() {
                    Answer::json(202, json!({}))
                } else {
                    Answer::error(409, "Cannot cancel a workflow run that is completed.")
                }
            } else if let Some(i) = state.runs.iter().position(|r| r.id == id) {
                if state.run_status(&state.runs[i]).0 == "completed" {
                    Answer::error(409, "Cannot cancel a workflow run that is completed.")
                } else {
                    state.runs[i].conclusion = "cancelled".into();
                    Answer::json(202, json!({}))
                }
            } else {
                Answer::error(404, "Not Found")
            }
        }
        ("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs") => {
            let id = call.num("run_id");
            let live = state.actions.live.get(&id).cloned()?;
            let run = state.runs.iter().find(|r| r.id == id)?;
            let jobs = live.state().jobs.clone();
            let items: Vec<Value> = jobs.iter().map(|j| live_job_json(state, run, j)).collect();
            paginate(state, call, items, Some("jobs"))
        }
        ("GET", "/repos/{owner}/{repo}/actions/jobs/{job_id}/logs") => {
            let id = call.num("job_id");
            let live_log = state.actions.live.values().find_map(|r| {
                r.state()
                    .jobs
                    .iter()
                    .find(|j| j.id == id)
                    .map(|j| j.log.clone())
            });
            let log = live_log.or_else(|| {
                state
                    .runs
                    .iter()
                    .flat_map(|r| &r.jobs)
                    .find(|j| j.id == id)
                    .map(|j| j.log.clone())
            });
            match log {
                Some(text) => {
                    let key = format!("job-logs/{id}/{}", state.id());
                    let url = state.actions.blobs.put(
                        &key,
                        text.into_bytes(),
                        "text/plain; charset=utf-8",
                    );
                    Answer::empty(302).header("Location", url)
                }
                None => Answer::error(404, "Not Found"),
            }
        }
        ("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}/artifacts") => {
            let id = call.num("run_id");
            let Some(run) = state.runs.iter().find(|r| r.id == id) else {
                return Some(Answer::error(404, "Not Found"));
            };
            let (branch, sha) = (run.branch.clone(), run_title(state, id).map(|t| t.1));
            let artifacts = state
                .actions
                .live
                .get(&id)
                .map(|l| l.state().artifacts.clone())
                .unwrap_or_default();
            let name = call.query("name");
            let items: Vec<Value> = artifacts
                .iter()
                .filter(|a| name.is_none_or(|n| n == a.name))
                .map(|a| artifact_json(state, id, &branch, sha.as_deref(), a))
                .collect();
            paginate(state, call, items, Some("artifacts"))
        }
        ("GET", "/repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}") => {
            let id = call.num("artifact_id");
            if call.params.get("archive_format").map(String::as_str) != Some("zip") {
                return Some(Answer::error(404, "Not Found"));
            }
            let zip = state.actions.live.values().find_map(|r| {
                r.state()
                    .artifacts
                    .iter()
                    .find(|a| a.id == id)
                    .map(|a| a.zip.clone())
            });
            match zip {
                Some(bytes) => {
                    let key = format!("artifacts/{id}/{}.zip", state.id());
                    let url = state.actions.blobs.put(&key, bytes, "application/zip");
                    Answer::empty(302).header("Location", url)
                }
                None => Answer::error(404, "Not Found"),
            }
        }
        _ => return None,
    })
}

fn contents(state: &mut State, call: &Call) -> Answer {
    let Some(repo) = state.actions.repo.clone() else {
        return Answer::error(404, "Not Found");
    };
    let file_path = call.params.get("path").cloned().unwrap_or_default();
    let wanted = call
        .query("ref")
        .map(str::to_string)
        .unwrap_or_else(|| repo.default_branch());
    let Some(commit) = repo.any_ref(&wanted) else {
        return Answer::error(404, &format!("No commit found for the ref {wanted}"));
    };
    let Some(bytes) = repo.file(&commit, &file_path) else {
        return Answer::error(404, "Not Found");
    };
    let sha = repo.blob_id(&commit, &file_path).unwrap_or_default();
    let mut json = state
        .spec
        .example("content-file-response-if-content-is-a-file");
    let api = format!("{}/repos/{OWNER}/{REPO}/contents/{file_path}", state.origin);
    let html = format!("{}/{OWNER}/{REPO}/blob/{wanted}/{file_path}", state.origin);
    let git = format!("{}/repos/{OWNER}/{REPO}/git/blobs/{sha}", state.origin);
    json["type"] = json!("file");
    json["encoding"] = json!("base64");
    json["size"] = json!(bytes.len());
    json["name"] = json!(file_path.rsplit('/').next().unwrap_or(&file_path));
    json["path"] = json!(file_path);
    json["content"] = json!(base64(&bytes));
    json["sha"] = json!(sha);
    json["url"] = json!(format!("{api}?ref={wanted}"));
    json["git_url"] = json!(git);
    json["html_url"] = json!(html);
    let n = state.id();
    json["download_url"] =
        json!(state
            .actions
            .blobs
            .put(&format!("raw/{sha}/{n}"), bytes, "text/plain"));
    json["_links"] = json!({"self": api, "git": git, "html": html});
    Answer::json(200, json)
}

fn dispatch(state: &mut State, call: &Call) -> Answer {
    let body = call.body;
    let repo = state.actions.repo.clone().expect("checked by the caller");
    let workflow = workflow_name(
        state,
        call.params
            .get("workflow_id")
            .map(String::as_str)
            .unwrap_or(""),
    );
    let file = format!(".github/workflows/{workflow}");
    // GitHub only knows a workflow_dispatch workflow that is on the default branch.
    let default = repo.default_branch();
    let on_default = repo
        .branch_or_tag(&default)
        .and_then(|c| repo.file(&c, &file))
        .is_some();
    if !on_default {
        return Answer::error(404, "Not Found");
    }
    if state.spec.flavor == Flavor::Ghes && body.get("return_run_details").is_some() {
        return Answer::error(
            422,
            "Invalid request.\n\n\"return_run_details\" is not a permitted key.",
        );
    }
    let git_ref = body["ref"].as_str().unwrap_or_default().to_string();
    let Some(commit) = repo.branch_or_tag(&git_ref) else {
        return Answer::error(422, &format!("No ref found for: {git_ref}"));
    };
    let Some(text) = repo.file(&commit, &file) else {
        return Answer::error(404, "Not Found");
    };
    let wf = match workflow::parse(&String::from_utf8_lossy(&text)) {
        Ok(wf) => wf,
        Err(e) => {
            state
                .violations
                .push(format!("{file} at {git_ref}: the fake cannot run it: {e}"));
            return Answer::error(422, &format!("Invalid workflow file: {e}"));
        }
    };
    let Some(declared) = &wf.dispatch_inputs else {
        return Answer::error(422, "Workflow does not have 'workflow_dispatch' trigger");
    };
    let given = body["inputs"].as_object().cloned().unwrap_or_default();
    let inputs = match workflow::check_inputs(declared, &given) {
        Ok(v) => v,
        Err(message) => return Answer::error(422, &message),
    };
    let branch_name = git_ref.trim_start_matches("refs/heads/").to_string();
    let ctx = workflow::Context {
        inputs: inputs.clone(),
        github: BTreeMap::from([
            ("actor".to_string(), "octocat".to_string()),
            ("ref_name".to_string(), branch_name.clone()),
            ("sha".to_string(), commit.clone()),
            ("event_name".to_string(), "workflow_dispatch".to_string()),
        ]),
        ..Default::default()
    };
    let title = match &wf.run_name {
        Some(t) => match workflow::expand(t, &ctx) {
            Ok(t) => t,
            Err(e) => {
                state.violations.push(format!("{file}: run-name: {e}"));
                return Answer::error(422, &e);
            }
        },
        None => wf.name.clone().unwrap_or_else(|| file.clone()),
    };
    let run_id = state.add_run(
        &workflow,
        &branch_name,
        "workflow_dispatch",
        RunPlan {
            conclusion: String::new(),
            jobs: Vec::new(),
        },
    );
    let job_ids: Vec<u64> = wf.jobs.iter().map(|_| state.id()).collect();
    let live = runner::start(runner::RunOrder {
        run_id,
        workflow: wf,
        repo,
        commit: commit.clone(),
        ref_name: branch_name,
        inputs: inputs.clone(),
        job_ids,
        work_root: state
            .actions
            .work_root
            .as_ref()
            .expect("set with the repo")
            .path()
            .to_path_buf(),
        queued_for: state.actions.queued_for,
        machine_env: state.actions.machine_env.clone(),
    });
    state.actions.live.insert(run_id, live);
    state.actions.dispatched.push(Dispatched {
        run_id,
        workflow: workflow.clone(),
        git_ref: git_ref.clone(),
        commit,
        inputs,
        title,
    });
    runs::dispatched(state, call, run_id)
}

fn live_job_json(state: &State, run: &RunState, job: &runner::LiveJob) -> Value {
    let mut json = runs::job_skeleton(state, run, job.id, &job.name);
    if let Some((_, sha)) = run_title(state, run.id) {
        json["head_sha"] = json!(sha);
    }
    json["status"] = json!(job.status);
    json["conclusion"] = json!(job.conclusion);
    json["started_at"] = json!(ts(job
        .started_at
        .map(|t| t.trunc_subsecs(0))
        .unwrap_or(run.created_at)));
    json["completed_at"] = json!(job.completed_at.map(|t| ts(t.trunc_subsecs(0))));
    json["steps"] = Value::Array(
        job.steps
            .iter()
            .map(|s| {
                json!({
                    "name": s.name,
                    "status": s.status,
                    "conclusion": s.conclusion,
                    "number": s.number,
                })
            })
            .collect(),
    );
    json
}

fn artifact_json(
    state: &State,
    run_id: u64,
    branch: &str,
    sha: Option<&str>,
    a: &runner::Artifact,
) -> Value {
    let mut json = state.spec.example("artifact-paginated")["artifacts"][0].clone();
    let api = format!(
        "{}/repos/{OWNER}/{REPO}/actions/artifacts/{}",
        state.origin, a.id
    );
    json["id"] = json!(a.id);
    json["node_id"] = json!(format!("MDg6QXJ0aWZhY3Q{}", a.id));
    json["name"] = json!(a.name);
    json["size_in_bytes"] = json!(a.zip.len());
    json["url"] = json!(api);
    json["archive_download_url"] = json!(format!("{api}/zip"));
    json["expired"] = json!(false);
    let created = a.created_at.trunc_subsecs(0);
    json["created_at"] = json!(ts(created));
    json["updated_at"] = json!(ts(created));
    json["expires_at"] = json!(ts(created + chrono::Duration::days(90)));
    json["workflow_run"]["id"] = json!(run_id);
    json["workflow_run"]["head_branch"] = json!(branch);
    if let Some(sha) = sha {
        json["workflow_run"]["head_sha"] = json!(sha);
    }
    json
}
