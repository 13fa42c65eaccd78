//! A stateful fake GitHub REST API for tests, checked against GitHub's OpenAPI description.
//!
//! Runs on 127.0.0.1 on a random port in a background thread. Every API request must be an
//! operation of `tests/data/github/*.subset.json` with valid path/query parameters and JSON
//! body; a request that is not gets 404/422 **and is recorded as a violation**. The fake's own
//! answers are validated too. Dropping a fake with violations fails the test, so every test
//! checks for zero violations without asking.
//!
//! State: pull requests, issue comments, labels, workflow runs with jobs and logs. Fault
//! injection: the next N requests answer 5xx, 429/403 with `retry-after`, or 403 with a spent
//! primary rate limit. GHES mode serves everything under `/api/v3` and validates against the
//! GHES 3.17 description (where a workflow dispatch answers 204 with no body).
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{json, Value};

#[path = "fake_actions.rs"]
mod actions;
#[allow(unused_imports)]
pub use actions::Dispatched;

/// The token every request must carry (`Authorization: Bearer …`).
pub const TEST_TOKEN: &str = "ghp_FAKEsecret0123456789TOKENabcdef";
pub const OWNER: &str = "octo";
pub const REPO: &str = "results";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// api.github.com: paths at the root.
    Dotcom,
    /// GitHub Enterprise Server 3.17: paths under `/api/v3`.
    Ghes,
}

/// An injected failure for one request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status (e.g. 500, 502, 503).
    Status(u16),
    /// Answer `status` (429 or 403) with `retry-after: secs`.
    RetryAfter { status: u16, secs: u64 },
    /// 403 with `x-ratelimit-remaining: 0` and a reset `secs` from now.
    PrimaryRateLimit { secs: u64 },
    /// The request is carried out (a comment is created), but the reply is lost: the client
    /// sees `status` (502, say) and cannot know the outcome.
    LostReply(u16),
}

/// One request as the server saw it; the Authorization header is left out.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    pub method: String,
    /// Path and query as sent.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Whether an Authorization header was present (its value is not kept).
    pub authorized: bool,
}

impl LoggedRequest {
    pub fn path(&self) -> &str {
        self.url.split('?').next().unwrap_or(&self.url)
    }
}

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

pub struct FakeGithub {
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
    state: Arc<Mutex<State>>,
    origin: String,
    flavor: Flavor,
}

impl FakeGithub {
    pub fn start() -> FakeGithub {
        Self::start_flavor(Flavor::Dotcom)
    }

    pub fn start_ghes() -> FakeGithub {
        Self::start_flavor(Flavor::Ghes)
    }

    pub fn start_flavor(flavor: Flavor) -> FakeGithub {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1"));
        let port = server.server_addr().to_ip().expect("an IP listener").port();
        let origin = format!("http://127.0.0.1:{port}");
        let state = Arc::new(Mutex::new(State::new(flavor, origin.clone())));
        let thread = {
            let server = Arc::clone(&server);
            let state = Arc::clone(&state);
            std::thread::spawn(move || {
                while let Ok(request) = server.recv() {
                    serve(&state, request);
                }
            })
        };
        FakeGithub {
            server,
            thread: Some(thread),
            state,
            origin,
            flavor,
        }
    }

    /// The API root to give the client (`GITHUB_API_URL`).
    pub fn api_url(&self) -> String {
        match self.flavor {
            Flavor::Dotcom => self.origin.clone(),
            Flavor::Ghes => format!("{}/api/v3", self.origin),
        }
    }

    /// An environment for `Config::from_env_map` pointing at this fake.
    pub fn env(&self) -> HashMap<String, String> {
        HashMap::from([
            ("GH_TOKEN".to_string(), TEST_TOKEN.to_string()),
            ("GITHUB_API_URL".to_string(), self.api_url()),
            ("GITHUB_REPOSITORY".to_string(), format!("{OWNER}/{REPO}")),
        ])
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues faults for the next API requests, in order.
    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        self.lock().faults.extend(faults);
    }

    /// Every API request answers `status` until [`FakeGithub::end_outage`].
    pub fn start_outage(&self, status: u16) {
        self.lock().outage = Some(status);
    }

    pub fn end_outage(&self) {
        self.lock().outage = None;
    }

    /// The next `method` request on `template` is carried out (the comment is created), but its
    /// reply is lost: the client sees 502.
    pub fn lose_next_reply(&self, method: &str, template: &str) {
        self.lock()
            .lost_replies
            .push((method.to_string(), template.to_string()));
    }

    /// `Link` headers point at `origin` from now on.
    pub fn set_link_origin(&self, origin: &str) {
        self.lock().link_origin = Some(origin.to_string());
    }

    /// Responses to `method` on the path template `template` (as in the description, e.g.
    /// `/repos/{owner}/{repo}/pulls/{pull_number}`) leave out `fields` (in the object, or in
    /// each object of a list).
    pub fn omit_fields(&self, method: &str, template: &str, fields: &[&str]) {
        self.lock().omissions.push((
            method.to_string(),
            template.to_string(),
            fields.iter().map(|f| f.to_string()).collect(),
        ));
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.lock().log.clone()
    }

    pub fn violations(&self) -> Vec<String> {
        let state = self.lock();
        let mut v = state.violations.clone();
        v.extend(Self::actions_violations(&state));
        v
    }

    /// Returns the violations and forgets them (for tests that provoke one on purpose).
    pub fn take_violations(&self) -> Vec<String> {
        let mut state = self.lock();
        let mut v = std::mem::take(&mut state.violations);
        v.extend(Self::take_actions_violations(&mut state));
        v
    }

    pub fn assert_no_violations(&self) {
        let violations = self.violations();
        assert!(
            violations.is_empty(),
            "requests or responses broke GitHub's OpenAPI description:\n{}",
            violations.join("\n")
        );
    }

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

    /// Open and closed PRs as (number, state, head, base, title, body).
    pub fn pulls(&self) -> Vec<(u64, String, String, String, String, String)> {
        self.lock()
            .prs
            .iter()
            .map(|p| {
                (
                    p.number,
                    p.state.clone(),
                    p.head.clone(),
                    p.base.clone(),
                    p.title.clone(),
                    p.body.clone(),
                )
            })
            .collect()
    }

    /// Comment bodies on an issue/PR, oldest first.
    /// A pull request made before the test (an earlier run's results PR): `state` is `open` or
    /// `closed`, created `age` ago. Returns its number.
    pub fn seed_pr(
        &self,
        head: &str,
        state: &str,
        title: &str,
        body: &str,
        age: chrono::Duration,
    ) -> u64 {
        let mut s = self.lock();
        let id = s.id();
        let number = s.next_number;
        s.next_number += 1;
        let at = now() - age;
        s.prs.push(PrState {
            id,
            number,
            state: state.to_string(),
            title: title.to_string(),
            body: body.to_string(),
            head: head.to_string(),
            base: "main".to_string(),
            draft: false,
            labels: Vec::new(),
            created_at: at,
            updated_at: at,
        });
        number
    }

    pub fn comments(&self, issue: u64) -> Vec<(u64, String)> {
        self.lock()
            .comments
            .iter()
            .filter(|c| c.issue == issue)
            .map(|c| (c.id, c.body.clone()))
            .collect()
    }

    pub fn labels(&self, issue: u64) -> Vec<String> {
        self.lock()
            .prs
            .iter()
            .find(|p| p.number == issue)
            .map(|p| p.labels.clone())
            .unwrap_or_default()
    }

    /// Adds comments directly (no request), e.g. to test pagination.
    pub fn seed_comments(&self, issue: u64, bodies: impl IntoIterator<Item = String>) {
        let mut state = self.lock();
        for body in bodies {
            state.add_comment(issue, body);
        }
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

impl Drop for FakeGithub {
    fn drop(&mut self) {
        self.stop_runs();
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        if !std::thread::panicking() {
            self.assert_no_violations();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// State

struct PrState {
    id: u64,
    number: u64,
    state: String,
    title: String,
    body: String,
    head: String,
    base: String,
    draft: bool,
    labels: Vec<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

struct CommentState {
    id: u64,
    issue: u64,
    body: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

struct JobState {
    id: u64,
    name: String,
    conclusion: String,
    log: String,
}

struct RunState {
    id: u64,
    workflow: String,
    workflow_id: u64,
    run_number: u64,
    branch: String,
    event: String,
    created_at: DateTime<Utc>,
    polls: u32,
    conclusion: String,
    jobs: Vec<JobState>,
}

struct State {
    spec: Spec,
    origin: String,
    next_id: u64,
    next_number: u64,
    prs: Vec<PrState>,
    comments: Vec<CommentState>,
    runs: Vec<RunState>,
    workflows: HashMap<String, u64>,
    next_plan: Option<RunPlan>,
    queued_polls: u32,
    running_polls: u32,
    faults: VecDeque<Fault>,
    outage: Option<u16>,
    log: Vec<LoggedRequest>,
    violations: Vec<String>,
    /// Contents, dispatch, runner, artifacts and the storage host (fake_actions.rs).
    actions: actions::Actions,
    /// `Link` headers name this origin instead of the fake's own (a hostile or broken server).
    link_origin: Option<String>,
    /// (method, path template, fields): responses to matching requests lack these fields, as
    /// older GitHub Enterprise versions' do. Not checked against the description.
    omissions: Vec<(String, String, Vec<String>)>,
    /// (method, path template): the next such request is carried out but answered 502.
    lost_replies: Vec<(String, String)>,
}

impl State {
    fn new(flavor: Flavor, origin: String) -> State {
        State {
            spec: Spec::load(flavor),
            origin,
            next_id: 1000,
            next_number: 1,
            prs: Vec::new(),
            comments: Vec::new(),
            runs: Vec::new(),
            workflows: HashMap::new(),
            next_plan: None,
            queued_polls: 1,
            running_polls: 1,
            faults: VecDeque::new(),
            outage: None,
            log: Vec::new(),
            violations: Vec::new(),
            actions: actions::Actions::new(),
            link_origin: None,
            omissions: Vec::new(),
            lost_replies: Vec::new(),
        }
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn add_comment(&mut self, issue: u64, body: String) -> u64 {
        let id = self.id();
        let now = now();
        self.comments.push(CommentState {
            id,
            issue,
            body,
            created_at: now,
            updated_at: now,
        });
        id
    }

    fn workflow_id(&mut self, workflow: &str) -> u64 {
        if let Ok(id) = workflow.parse() {
            return id;
        }
        let next = 161_335 + self.workflows.len() as u64;
        *self.workflows.entry(workflow.to_string()).or_insert(next)
    }

    fn add_run(&mut self, workflow: &str, branch: &str, event: &str, plan: RunPlan) -> u64 {
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

    fn run_status(&self, run: &RunState) -> (&'static str, Option<String>) {
        if run.polls <= self.queued_polls {
            ("queued", None)
        } else if run.polls <= self.queued_polls + self.running_polls {
            ("in_progress", None)
        } else {
            ("completed", Some(run.conclusion.clone()))
        }
    }
}

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

// ---------------------------------------------------------------------------------------------
// OpenAPI validation

struct Spec {
    flavor: Flavor,
    /// As published: examples are the response templates.
    raw: Value,
    /// `nullable` rewritten to type unions, `{`/`}` in `$ref`s percent-encoded.
    converted: Value,
    validators: HashMap<String, Arc<jsonschema::Validator>>,
}

impl Spec {
    fn load(flavor: Flavor) -> Spec {
        let file = match flavor {
            Flavor::Dotcom => "api.github.com.subset.json",
            Flavor::Ghes => "ghes-3.17.subset.json",
        };
        let path = format!("{}/tests/data/github/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let raw: Value = serde_json::from_str(&text).expect("OpenAPI JSON");
        let mut converted = raw.clone();
        openapi_to_json_schema(&mut converted);
        Spec {
            flavor,
            raw,
            converted,
            validators: HashMap::new(),
        }
    }

    fn prefix(&self) -> &'static str {
        match self.flavor {
            Flavor::Dotcom => "",
            Flavor::Ghes => "/api/v3",
        }
    }

    /// Follows an OpenAPI-level `$ref` (parameters, responses, request bodies).
    fn deref<'a>(&'a self, node: &'a Value) -> &'a Value {
        let mut node = node;
        for _ in 0..8 {
            match node.get("$ref").and_then(Value::as_str) {
                Some(reference) => {
                    let pointer = reference
                        .trim_start_matches('#')
                        .replace("%7B", "{")
                        .replace("%7D", "}");
                    node = self.converted.pointer(&pointer).unwrap_or(&Value::Null);
                }
                None => break,
            }
        }
        node
    }

    fn example(&self, name: &str) -> Value {
        self.raw["components"]["examples"][name]["value"].clone()
    }

    /// Finds the path template matching `path` (prefix removed), preferring literal segments.
    fn route(&self, path: &str) -> Option<(String, HashMap<String, String>)> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut best: Option<(usize, String, HashMap<String, String>)> = None;
        for template in self.converted["paths"].as_object()?.keys() {
            let parts: Vec<&str> = template.trim_matches('/').split('/').collect();
            let mut params = HashMap::new();
            let mut literals = 0;
            // `contents/{path}` takes the rest of the path, slashes and all (x-multi-segment).
            let segments: Vec<&str> = if template.ends_with("/contents/{path}") && segments.len() > parts.len() {
                let mut s = segments[..parts.len() - 1].to_vec();
                let rest = segments[parts.len() - 1..].join("/");
                s.push(Box::leak(rest.into_boxed_str()));
                s
            } else {
                segments.clone()
            };
            if parts.len() != segments.len() {
                continue;
            }
            let matched = parts.iter().zip(&segments).all(|(part, seg)| {
                if part.starts_with('{') && part.ends_with('}') {
                    let name = &part[1..part.len() - 1];
                    params.insert(name.to_string(), percent_decode(seg));
                    !seg.is_empty()
                } else {
                    literals += 1;
                    part == seg
                }
            });
            if matched && best.as_ref().is_none_or(|(n, _, _)| literals > *n) {
                best = Some((literals, template.clone(), params));
            }
        }
        best.map(|(_, template, params)| (template, params))
    }

    fn operation(&self, template: &str, method: &str) -> Option<&Value> {
        self.converted["paths"][template].get(method.to_ascii_lowercase())
    }

    fn validator(
        &mut self,
        key: String,
        schema: &Value,
        formats: bool,
    ) -> Arc<jsonschema::Validator> {
        if let Some(v) = self.validators.get(&key) {
            return Arc::clone(v);
        }
        let root = json!({
            "components": self.converted["components"],
            "allOf": [schema],
        });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(formats)
            .build(&root)
            .unwrap_or_else(|e| panic!("schema {key} does not compile: {e}"));
        let validator = Arc::new(validator);
        self.validators.insert(key, Arc::clone(&validator));
        validator
    }

    fn check(
        &mut self,
        key: String,
        schema: &Value,
        formats: bool,
        instance: &Value,
    ) -> Vec<String> {
        let validator = self.validator(key.clone(), schema, formats);
        validator
            .iter_errors(instance)
            .take(5)
            .map(|e| format!("{key}: {e} at {}", e.instance_path()))
            .collect()
    }

    /// Parameters and body of a request against operation `template`/`method`.
    fn check_request(
        &mut self,
        template: &str,
        method: &str,
        path_params: &HashMap<String, String>,
        query: &[(String, String)],
        body: &str,
    ) -> Vec<String> {
        let mut errors = Vec::new();
        let Some(op) = self.operation(template, method).cloned() else {
            return vec![format!("{method} {template}: no such operation")];
        };
        let op_key = format!("{method} {template}");
        let mut known = Vec::new();
        let params: Vec<Value> = op["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .chain(
                self.converted["paths"][template]["parameters"]
                    .as_array()
                    .unwrap_or(&Vec::new()),
            )
            .map(|p| self.deref(p).clone())
            .collect();
        for param in params {
            let name = param["name"].as_str().unwrap_or_default().to_string();
            let location = param["in"].as_str().unwrap_or_default();
            let required = param["required"].as_bool().unwrap_or(false);
            let schema = param["schema"].clone();
            let value = match location {
                "path" => path_params.get(&name).cloned(),
                "query" => {
                    known.push(name.clone());
                    let values: Vec<&String> = query
                        .iter()
                        .filter(|(k, _)| *k == name)
                        .map(|(_, v)| v)
                        .collect();
                    if values.len() > 1 {
                        errors.push(format!("{op_key}: query parameter {name} given twice"));
                    }
                    values.first().map(|v| (*v).clone())
                }
                _ => continue,
            };
            match value {
                None if required => {
                    errors.push(format!("{op_key}: missing {location} parameter {name}"))
                }
                None => {}
                Some(text) => {
                    let instance = coerce(&schema, &text);
                    // Query values such as `created=>=2026-01-01T00:00:00Z` use GitHub's search
                    // syntax, which the published `format: date-time` does not describe.
                    errors.extend(self.check(
                        format!("{op_key} param {name}"),
                        &schema,
                        false,
                        &instance,
                    ));
                }
            }
        }
        for (name, _) in query {
            if !known.contains(name) {
                errors.push(format!("{op_key}: unknown query parameter {name}"));
            }
        }
        let request_body = op.get("requestBody").map(|b| self.deref(b).clone());
        match request_body {
            None if !body.trim().is_empty() => errors.push(format!("{op_key}: takes no body")),
            None => {}
            Some(spec_body) => {
                let required = spec_body["required"].as_bool().unwrap_or(false);
                let schema = spec_body["content"]["application/json"]["schema"].clone();
                if body.trim().is_empty() {
                    if required {
                        errors.push(format!("{op_key}: body required"));
                    }
                } else {
                    match serde_json::from_str::<Value>(body) {
                        Ok(instance) => errors.extend(self.check(
                            format!("{op_key} body"),
                            &schema,
                            true,
                            &instance,
                        )),
                        Err(e) => errors.push(format!("{op_key}: body is not JSON: {e}")),
                    }
                }
            }
        }
        errors
    }

    /// The fake's own answer against the documented responses.
    fn check_response(
        &mut self,
        template: &str,
        method: &str,
        status: u16,
        body: Option<&Value>,
    ) -> Vec<String> {
        let Some(op) = self.operation(template, method).cloned() else {
            return Vec::new();
        };
        let op_key = format!("{method} {template}");
        // GitHub refuses a dispatch with 422 (undeclared or missing inputs, unknown ref) or 404
        // (no such workflow on the default branch), which the description leaves out
        // (tests/data/github/README.md).
        let dispatches = "POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches";
        if op_key == dispatches && matches!(status, 404 | 422) {
            return Vec::new();
        }
        let Some(response) = op["responses"]
            .get(status.to_string())
            .map(|r| self.deref(r).clone())
        else {
            return vec![format!(
                "fake answered {op_key} with undocumented status {status}"
            )];
        };
        let schema = response["content"]["application/json"]["schema"].clone();
        match (schema.is_null(), body) {
            (true, None) => Vec::new(),
            (true, Some(_)) => vec![format!(
                "fake answered {op_key} {status} with a body; none documented"
            )],
            (false, None) => vec![format!(
                "fake answered {op_key} {status} without the documented body"
            )],
            (false, Some(body)) => {
                self.check(format!("{op_key} response {status}"), &schema, true, body)
            }
        }
    }
}

/// OpenAPI 3.0 → JSON Schema: `nullable: true` becomes a type union (or `anyOf` with null),
/// and `{`/`}` in `$ref` pointers are percent-encoded.
fn openapi_to_json_schema(node: &mut Value) {
    match node {
        Value::Array(items) => items.iter_mut().for_each(openapi_to_json_schema),
        Value::Object(map) => {
            for value in map.values_mut() {
                openapi_to_json_schema(value);
            }
            if let Some(Value::String(reference)) = map.get_mut("$ref") {
                *reference = reference.replace('{', "%7B").replace('}', "%7D");
            }
            if map.get("nullable") == Some(&Value::Bool(true)) {
                map.remove("nullable");
                if let Some(Value::Array(options)) = map.get_mut("enum") {
                    if !options.contains(&Value::Null) {
                        options.push(Value::Null);
                    }
                }
                match map.get_mut("type") {
                    Some(Value::String(t)) => {
                        let t = t.clone();
                        map.insert("type".into(), json!([t, "null"]));
                    }
                    Some(Value::Array(types)) => {
                        if !types.contains(&json!("null")) {
                            types.push(json!("null"));
                        }
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(map));
                        map.insert("anyOf".into(), json!([inner, {"type": "null"}]));
                    }
                }
            }
        }
        _ => {}
    }
}

/// A query/path string as the JSON value its schema expects.
fn coerce(schema: &Value, text: &str) -> Value {
    let mentions = |t: &str| schema.to_string().contains(&format!("\"{t}\""));
    if mentions("integer") || mentions("number") {
        if let Ok(n) = text.parse::<i64>() {
            return json!(n);
        }
    }
    if mentions("boolean") && (text == "true" || text == "false") {
        return json!(text == "true");
    }
    json!(text)
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Serving

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    json: Option<Value>,
    text: Option<String>,
}

impl Answer {
    fn json(status: u16, body: Value) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            json: Some(body),
            text: None,
        }
    }
    fn empty(status: u16) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            json: None,
            text: None,
        }
    }
    fn error(status: u16, message: &str) -> Answer {
        Answer::json(
            status,
            json!({"message": message, "documentation_url": "https://docs.github.com/rest"}),
        )
    }
    fn header(mut self, name: &str, value: impl Into<String>) -> Answer {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

fn serve(state: &Arc<Mutex<State>>, mut request: tiny_http::Request) {
    let mut body = String::new();
    let _ = request.as_reader().read_to_string(&mut body);
    let method = request.method().as_str().to_string();
    let url = request.url().to_string();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_ascii_lowercase(),
                h.value.as_str().to_string(),
            )
        })
        .collect();
    let answer = {
        let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
        handle(&mut state, &method, &url, &headers, &body)
    };
    let (bytes, content_type) = match (&answer.json, &answer.text) {
        (Some(json), _) => (
            json.to_string().into_bytes(),
            Some("application/json; charset=utf-8"),
        ),
        (None, Some(text)) => (text.clone().into_bytes(), Some("text/plain; charset=utf-8")),
        (None, None) => (Vec::new(), None),
    };
    let mut response = tiny_http::Response::from_data(bytes).with_status_code(answer.status);
    if let Some(content_type) = content_type {
        response.add_header(
            tiny_http::Header::from_bytes("Content-Type", content_type).expect("header"),
        );
    }
    for (name, value) in &answer.headers {
        response.add_header(
            tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("header"),
        );
    }
    let _ = request.respond(response);
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn handle(
    state: &mut State,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &str,
) -> Answer {
    let authorization = header(headers, "authorization").map(str::to_string);
    state.log.push(LoggedRequest {
        method: method.to_string(),
        url: url.to_string(),
        headers: headers
            .iter()
            .filter(|(k, _)| k != "authorization")
            .cloned()
            .collect(),
        body: body.to_string(),
        authorized: authorization.is_some(),
    });
    let (path, query_string) = url.split_once('?').unwrap_or((url, ""));
    let query: Vec<(String, String)> = url::form_urlencoded::parse(query_string.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();

    let prefix = state.spec.prefix();
    let Some(api_path) = path.strip_prefix(prefix).filter(|p| p.starts_with('/')) else {
        state
            .violations
            .push(format!("{method} {url}: outside the API root {prefix:?}"));
        return Answer::error(404, "Not Found");
    };
    let Some((template, path_params)) = state.spec.route(api_path) else {
        state.violations.push(format!(
            "{method} {url}: no such path in the OpenAPI description"
        ));
        return Answer::error(404, "Not Found");
    };
    if state.spec.operation(&template, method).is_none() {
        state.violations.push(format!(
            "{method} {url}: no {method} operation on {template}"
        ));
        return Answer::error(404, "Not Found");
    }
    let mut problems = state
        .spec
        .check_request(&template, method, &path_params, &query, body);
    if header(headers, "accept") != Some("application/vnd.github+json") {
        problems.push(format!(
            "{method} {url}: Accept is not application/vnd.github+json"
        ));
    }
    if header(headers, "x-github-api-version") != Some("2022-11-28") {
        problems.push(format!(
            "{method} {url}: X-GitHub-Api-Version is not 2022-11-28"
        ));
    }
    if !header(headers, "user-agent").is_some_and(|ua| ua.starts_with("trackit/")) {
        problems.push(format!(
            "{method} {url}: User-Agent is not trackit/<version>"
        ));
    }
    if !problems.is_empty() {
        state.violations.extend(problems.iter().cloned());
        return Answer::error(422, &format!("Validation Failed: {}", problems.join("; ")));
    }
    if authorization.as_deref() != Some(&format!("Bearer {TEST_TOKEN}")) {
        return Answer::error(401, "Requires authentication");
    }

    if let Some(status) = state.outage {
        return Answer::error(status, "Server Error");
    }
    let mut lost_reply = None;
    if let Some(fault) = state.faults.pop_front() {
        match fault {
            Fault::LostReply(status) => lost_reply = Some(status),
            other => return fault_answer(other),
        }
    }

    if let Some(i) = state
        .lost_replies
        .iter()
        .position(|(m, t)| m == method && *t == template)
    {
        state.lost_replies.remove(i);
        lost_reply = Some(502);
    }
    let mut answer = route(state, method, &template, &path_params, &query, body, path);
    if let Some(status) = lost_reply {
        return Answer::error(status, "Bad Gateway");
    }
    let omitted: Vec<String> = state
        .omissions
        .iter()
        .filter(|(m, t, _)| m == method && *t == template)
        .flat_map(|(_, _, f)| f.clone())
        .collect();
    if omitted.is_empty() {
        let json = answer.json.clone();
        let problems = state
            .spec
            .check_response(&template, method, answer.status, json.as_ref());
        state.violations.extend(problems);
    } else if let Some(json) = answer.json.as_mut() {
        omit(json, &omitted);
    }
    let answer = actions::deliver(state, path, answer);
    let reset = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
        + 3600;
    answer
        .header("x-ratelimit-limit", "5000")
        .header("x-ratelimit-remaining", "4999")
        .header("x-ratelimit-reset", reset.to_string())
}

/// Removes `fields` from an object, from each object of a list, and from the lists GitHub
/// wraps (`workflow_runs`, `jobs`).
fn omit(json: &mut Value, fields: &[String]) {
    match json {
        Value::Array(items) => items.iter_mut().for_each(|i| omit(i, fields)),
        Value::Object(map) => {
            for f in fields {
                map.remove(f);
            }
            for key in ["workflow_runs", "jobs"] {
                if let Some(list) = map.get_mut(key) {
                    omit(list, fields);
                }
            }
        }
        _ => {}
    }
}

fn fault_answer(fault: Fault) -> Answer {
    match fault {
        Fault::LostReply(status) => Answer::error(status, "Bad Gateway"),
        Fault::Status(status) => Answer::error(status, "Server Error"),
        Fault::RetryAfter { status, secs } => {
            Answer::error(status, "You have exceeded a secondary rate limit.")
                .header("retry-after", secs.to_string())
        }
        Fault::PrimaryRateLimit { secs } => {
            let reset = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                + Duration::from_secs(secs);
            Answer::error(403, "API rate limit exceeded")
                .header("x-ratelimit-limit", "5000")
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset", reset.as_secs().to_string())
        }
    }
}

fn query_get<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn num(params: &HashMap<String, String>, name: &str) -> u64 {
    params.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn route(
    state: &mut State,
    method: &str,
    template: &str,
    params: &HashMap<String, String>,
    query: &[(String, String)],
    body: &str,
    path: &str,
) -> Answer {
    let body: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    if params.get("owner").map(String::as_str) != Some(OWNER)
        || params.get("repo").map(String::as_str) != Some(REPO)
    {
        if template.starts_with("/repos/") {
            return Answer::error(404, "Not Found");
        }
    }
    if let Some(answer) = actions::route(state, method, template, params, query, &body, path) {
        return answer;
    }
    match (method, template) {
        ("GET", "/repos/{owner}/{repo}/pulls") => {
            let wanted_state = query_get(query, "state").unwrap_or("open");
            let head = query_get(query, "head");
            let mut prs: Vec<&PrState> = state
                .prs
                .iter()
                .filter(|p| wanted_state == "all" || p.state == wanted_state)
                .filter(|p| head.is_none_or(|h| h == format!("{OWNER}:{}", p.head)))
                .collect();
            // GitHub's order, as documented: by `sort` (default `created`); `direction`
            // defaults to `desc` for `created`, else `asc`.
            let sort = query_get(query, "sort").unwrap_or("created");
            match sort {
                "updated" => prs.sort_by_key(|p| (p.updated_at, p.number)),
                _ => prs.sort_by_key(|p| (p.created_at, p.number)),
            }
            let default_direction = if sort == "created" { "desc" } else { "asc" };
            if query_get(query, "direction").unwrap_or(default_direction) == "desc" {
                prs.reverse();
            }
            let items: Vec<Value> = prs
                .into_iter()
                .map(|p| pr_json(state, p, "pull-request-simple-items"))
                .collect();
            paginate(state, path, query, items, |items| Value::Array(items))
        }
        ("POST", "/repos/{owner}/{repo}/pulls") => {
            let head = body["head"].as_str().unwrap_or_default();
            let head = head
                .split_once(':')
                .map(|(_, b)| b)
                .unwrap_or(head)
                .to_string();
            if state
                .prs
                .iter()
                .any(|p| p.state == "open" && p.head == head)
            {
                return Answer::error(
                    422,
                    &format!("A pull request already exists for {OWNER}:{head}."),
                );
            }
            let id = state.id();
            let number = state.next_number;
            state.next_number += 1;
            let now = now();
            let pr = PrState {
                id,
                number,
                state: "open".into(),
                title: body["title"].as_str().unwrap_or_default().to_string(),
                body: body["body"].as_str().unwrap_or_default().to_string(),
                head,
                base: body["base"].as_str().unwrap_or("main").to_string(),
                draft: body["draft"].as_bool().unwrap_or(false),
                labels: Vec::new(),
                created_at: now,
                updated_at: now,
            };
            let json = pr_json(state, &pr, "pull-request");
            state.prs.push(pr);
            Answer::json(201, json)
        }
        ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}") => {
            let number = num(params, "pull_number");
            match state.prs.iter().find(|p| p.number == number) {
                Some(p) => Answer::json(200, pr_json(state, p, "pull-request")),
                None => Answer::error(404, "Not Found"),
            }
        }
        ("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}") => {
            let number = num(params, "pull_number");
            let Some(index) = state.prs.iter().position(|p| p.number == number) else {
                return Answer::error(404, "Not Found");
            };
            let pr = &mut state.prs[index];
            if let Some(title) = body["title"].as_str() {
                pr.title = title.to_string();
            }
            if let Some(text) = body["body"].as_str() {
                pr.body = text.to_string();
            }
            if let Some(s) = body["state"].as_str() {
                pr.state = s.to_string();
            }
            pr.updated_at = now();
            Answer::json(200, pr_json(state, &state.prs[index], "pull-request"))
        }
        ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments") => {
            let issue = num(params, "issue_number");
            if !state.prs.iter().any(|p| p.number == issue) {
                return Answer::error(404, "Not Found");
            }
            let items: Vec<Value> = state
                .comments
                .iter()
                .filter(|c| c.issue == issue)
                .map(|c| comment_json(state, c))
                .collect();
            paginate(state, path, query, items, |items| Value::Array(items))
        }
        ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments") => {
            let issue = num(params, "issue_number");
            if !state.prs.iter().any(|p| p.number == issue) {
                return Answer::error(404, "Not Found");
            }
            let id =
                state.add_comment(issue, body["body"].as_str().unwrap_or_default().to_string());
            let comment = state
                .comments
                .iter()
                .find(|c| c.id == id)
                .expect("just added");
            Answer::json(201, comment_json(state, comment))
        }
        ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}") => {
            let id = num(params, "comment_id");
            let Some(index) = state.comments.iter().position(|c| c.id == id) else {
                return Answer::error(404, "Not Found");
            };
            state.comments[index].body = body["body"].as_str().unwrap_or_default().to_string();
            state.comments[index].updated_at = now();
            Answer::json(200, comment_json(state, &state.comments[index]))
        }
        ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels") => {
            let issue = num(params, "issue_number");
            let Some(index) = state.prs.iter().position(|p| p.number == issue) else {
                return Answer::error(404, "Not Found");
            };
            for label in body["labels"].as_array().cloned().unwrap_or_default() {
                let name = label
                    .as_str()
                    .or(label["name"].as_str())
                    .unwrap_or_default()
                    .to_string();
                if !state.prs[index].labels.contains(&name) {
                    state.prs[index].labels.push(name);
                }
            }
            let template = state.spec.example("label-items")[0].clone();
            let labels = state.prs[index]
                .labels
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let mut label = template.clone();
                    label["id"] = json!(9000 + i);
                    label["name"] = json!(name);
                    label["url"] = json!(format!(
                        "{}/repos/{OWNER}/{REPO}/labels/{name}",
                        state.origin
                    ));
                    label["default"] = json!(false);
                    label
                })
                .collect();
            Answer::json(200, Value::Array(labels))
        }
        ("POST", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches") => {
            let workflow = params.get("workflow_id").cloned().unwrap_or_default();
            let branch = body["ref"].as_str().unwrap_or_default().to_string();
            let plan = state.next_plan.take().unwrap_or_default();
            let id = state.add_run(&workflow, &branch, "workflow_dispatch", plan);
            if state.spec.flavor == Flavor::Dotcom
                && body["return_run_details"].as_bool() == Some(true)
            {
                let mut details = state.spec.example("workflow-dispatch-response");
                details["workflow_run_id"] = json!(id);
                details["run_url"] = json!(format!(
                    "{}/repos/{OWNER}/{REPO}/actions/runs/{id}",
                    state.origin
                ));
                details["html_url"] =
                    json!(format!("{}/{OWNER}/{REPO}/actions/runs/{id}", state.origin));
                return Answer::json(200, details);
            }
            Answer::empty(204)
        }
        ("GET", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs") => {
            let workflow = params.get("workflow_id").cloned().unwrap_or_default();
            let workflow_id = state.workflow_id(&workflow);
            let event = query_get(query, "event");
            let branch = query_get(query, "branch");
            let created = query_get(query, "created").map(parse_created);
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
            let total = items.len();
            paginate(
                state,
                path,
                query,
                items,
                move |items| json!({"total_count": total, "workflow_runs": items}),
            )
        }
        ("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}") => {
            let id = num(params, "run_id");
            if !state.runs.iter().any(|r| r.id == id) {
                return Answer::error(404, "Not Found");
            }
            Answer::json(200, observe_run(state, id))
        }
        ("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs") => {
            let id = num(params, "run_id");
            let Some(run) = state.runs.iter().find(|r| r.id == id) else {
                return Answer::error(404, "Not Found");
            };
            let items: Vec<Value> = run.jobs.iter().map(|j| job_json(state, run, j)).collect();
            let total = items.len();
            paginate(
                state,
                path,
                query,
                items,
                move |items| json!({"total_count": total, "jobs": items}),
            )
        }
        ("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}/logs") => {
            Answer::empty(302).header("Location", format!("{}/_blobs/run-logs.zip", state.origin))
        }
        ("GET", "/rate_limit") => {
            let mut overview = state.spec.example("rate-limit-overview");
            let reset = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs()
                + 3600;
            let core = json!({"limit": 5000, "remaining": 4999, "reset": reset, "used": 1});
            overview["resources"]["core"] = core.clone();
            overview["rate"] = core;
            Answer::json(200, overview)
        }
        _ => Answer::error(404, "Not Found"),
    }
}

/// Slices `items` by `per_page`/`page` and adds GitHub's `Link` header.
fn paginate(
    state: &State,
    path: &str,
    query: &[(String, String)],
    items: Vec<Value>,
    wrap: impl FnOnce(Vec<Value>) -> Value,
) -> Answer {
    let per_page = query_get(query, "per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(30usize)
        .clamp(1, 100);
    let page = query_get(query, "page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let link_to = |n: usize| {
        let mut pairs: Vec<(String, String)> =
            query.iter().filter(|(k, _)| k != "page").cloned().collect();
        pairs.push(("page".into(), n.to_string()));
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let origin = state.link_origin.as_deref().unwrap_or(&state.origin);
        format!("<{origin}{path}?{encoded}>")
    };
    let mut links = Vec::new();
    if page < last {
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
        links.push(format!("{}; rel=\"last\"", link_to(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", link_to(1)));
        links.push(format!("{}; rel=\"prev\"", link_to(page - 1)));
    }
    let answer = Answer::json(200, wrap(slice));
    if links.is_empty() {
        answer
    } else {
        answer.header("Link", links.join(", "))
    }
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

// ---------------------------------------------------------------------------------------------
// JSON built on the published examples, so every required field is there

fn pr_json(state: &State, pr: &PrState, example: &str) -> Value {
    let mut json = state.spec.example(example);
    if json.is_array() {
        json = json[0].clone();
    }
    let html = format!("{}/{OWNER}/{REPO}/pull/{}", state.origin, pr.number);
    let api = format!("{}/repos/{OWNER}/{REPO}/pulls/{}", state.origin, pr.number);
    json["id"] = json!(pr.id);
    json["number"] = json!(pr.number);
    json["state"] = json!(pr.state);
    json["title"] = json!(pr.title);
    json["body"] = json!(pr.body);
    json["draft"] = json!(pr.draft);
    json["html_url"] = json!(html);
    json["url"] = json!(api);
    json["created_at"] = json!(ts(pr.created_at));
    json["updated_at"] = json!(ts(pr.updated_at));
    json["closed_at"] = Value::Null;
    json["merged_at"] = Value::Null;
    json["head"]["ref"] = json!(pr.head);
    json["head"]["label"] = json!(format!("{OWNER}:{}", pr.head));
    json["base"]["ref"] = json!(pr.base);
    json["base"]["label"] = json!(format!("{OWNER}:{}", pr.base));
    json["labels"] = json!([]);
    // The published example's teams lack the required `type`.
    json["requested_teams"] = json!([]);
    json
}

fn comment_json(state: &State, comment: &CommentState) -> Value {
    let mut json = state.spec.example("issue-comment");
    json["id"] = json!(comment.id);
    json["body"] = json!(comment.body);
    json["html_url"] = json!(format!(
        "{}/{OWNER}/{REPO}/pull/{}#issuecomment-{}",
        state.origin, comment.issue, comment.id
    ));
    json["url"] = json!(format!(
        "{}/repos/{OWNER}/{REPO}/issues/comments/{}",
        state.origin, comment.id
    ));
    json["issue_url"] = json!(format!(
        "{}/repos/{OWNER}/{REPO}/issues/{}",
        state.origin, comment.issue
    ));
    json["created_at"] = json!(ts(comment.created_at));
    json["updated_at"] = json!(ts(comment.updated_at));
    json
}

/// A run as JSON; looking at it moves it along (queued → in_progress → completed).
fn observe_run(state: &mut State, id: u64) -> Value {
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
    let mut json = state.spec.example("job-paginated")["jobs"][0].clone();
    json["id"] = json!(job.id);
    json["run_id"] = json!(run.id);
    json["name"] = json!(job.name);
    json["workflow_name"] = json!(run.workflow);
    json["head_branch"] = json!(run.branch);
    json["status"] = json!(run_status);
    json["conclusion"] = if completed {
        json!(job.conclusion)
    } else {
        Value::Null
    };
    // The published example has no `created_at`, which its schema requires.
    json["created_at"] = json!(ts(run.created_at));
    json["started_at"] = json!(ts(run.created_at));
    json["completed_at"] = if completed {
        json!(ts(now()))
    } else {
        Value::Null
    };
    json["url"] = json!(format!(
        "{}/repos/{OWNER}/{REPO}/actions/jobs/{}",
        state.origin, job.id
    ));
    json["run_url"] = json!(format!(
        "{}/repos/{OWNER}/{REPO}/actions/runs/{}",
        state.origin, run.id
    ));
    json["html_url"] = json!(format!(
        "{}/{OWNER}/{REPO}/actions/runs/{}/job/{}",
        state.origin, run.id, job.id
    ));
    json["steps"] = json!([]);
    json
}
