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
//!
//! One file per concern: this one starts the fake and holds what every test uses (its address,
//! the request log, the violations); `server` takes a request through the checks to its route;
//! `spec` checks requests and answers against the OpenAPI description; `faults` injects
//! failures and outages; `pulls` serves pull requests, comments and labels; `runs` serves
//! workflow runs as plain records; `actions` serves contents, dispatch, cancel and artifacts
//! from a real repository whose runs really execute (`runner`, `workflow`, `repo`), with logs
//! and archives on a storage host of their own (`blob`); `http` is the loopback server under
//! both hosts.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

mod actions;
mod blob;
mod faults;
mod http;
mod pulls;
mod repo;
mod runner;
mod runs;
mod server;
mod spec;
mod state;
mod workflow;

#[allow(unused_imports)]
pub use actions::Dispatched;
pub use faults::Fault;
pub use runs::RunPlan;

use state::State;

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
    /// A request with its `headers` (names in lower case): the Authorization header is noted,
    /// not kept.
    fn new(method: &str, url: &str, headers: &[(String, String)], body: &str) -> LoggedRequest {
        LoggedRequest {
            method: method.to_string(),
            url: url.to_string(),
            headers: headers
                .iter()
                .filter(|(k, _)| k != "authorization")
                .cloned()
                .collect(),
            body: body.to_string(),
            authorized: headers.iter().any(|(k, _)| k == "authorization"),
        }
    }

    pub fn path(&self) -> &str {
        self.url.split('?').next().unwrap_or(&self.url)
    }
}

pub struct FakeGithub {
    server: http::Loopback,
    state: Arc<Mutex<State>>,
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
        let mut server = http::Loopback::bind("127.0.0.1");
        let state = Arc::new(Mutex::new(State::new(flavor, server.origin().to_string())));
        let serving = Arc::clone(&state);
        server.serve(move |request| server::serve(&serving, request));
        FakeGithub {
            server,
            state,
            flavor,
        }
    }

    /// The API root to give the client (`GITHUB_API_URL`).
    pub fn api_url(&self) -> String {
        match self.flavor {
            Flavor::Dotcom => self.server.origin().to_string(),
            Flavor::Ghes => format!("{}/api/v3", self.server.origin()),
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
}

impl Drop for FakeGithub {
    fn drop(&mut self) {
        self.stop_runs();
        self.server.stop();
        if !std::thread::panicking() {
            self.assert_no_violations();
        }
    }
}
