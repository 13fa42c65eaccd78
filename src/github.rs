//! GitHub REST client: pull requests, issue comments, labels and Actions workflow runs.
//!
//! Hand-written calls over reqwest with serde structs. Host resolution follows `gh` (`GH_REPO`,
//! `GH_HOST`, the remote's host; `GITHUB_API_URL`), and the token is the one bound to that host
//! ([`crate::auth`]): a repository whose remote is not on GitHub gets no token. Pagination links
//! are followed only on the API's own origin.
//! Every call retries 5xx and network errors with jittered exponential back-off, waits out
//! rate limits within a bounded budget, and otherwise fails with a [`GithubError`] whose
//! [`GithubError::is_transient`] tells the caller to queue the side effect and retry later.
//! The token lives in a [`Secret`] that never prints, serialises or reaches an error text.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, LOCATION};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use url::Url;

mod actions;
pub mod workflow_file;
pub use actions::Artifact;

/// The hidden marker that identifies trackit's single status comment on a pull request.
pub const STATUS_MARKER: &str = "<!-- trackit:status -->";
pub const API_VERSION: &str = "2022-11-28";
const DOTCOM_API: &str = "https://api.github.com";

use crate::auth::{is_dotcom, normalize_host, Credentials, TokenSource};
pub use crate::auth::{parse_remote_url, RemoteRepo, Secret};

// ---------------------------------------------------------------------------------------------
// Errors

#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// Network errors or 5xx answers until the retry budget ran out.
    #[error("GitHub unreachable after {attempts} attempt(s) in {waited:?}: {last}")]
    Unreachable {
        attempts: u32,
        waited: Duration,
        last: String,
    },
    /// A rate limit whose reset lies beyond the wait budget.
    #[error("GitHub rate limit hit on {path}; retry in {retry_in:?}")]
    RateLimited { path: String, retry_in: Duration },
    /// A non-retryable answer (4xx other than rate limits).
    #[error("GitHub answered {status} to {method} {path}: {message}")]
    Api {
        status: u16,
        method: String,
        path: String,
        message: String,
    },
    #[error("unexpected GitHub response from {path}: {message}")]
    Decode { path: String, message: String },
    #[error("GitHub configuration: {0}")]
    Config(String),
}

impl GithubError {
    /// True when the same call may succeed later: GitHub was down, slow or rate limiting.
    /// Callers queue the side effect and retry instead of giving up.
    pub fn is_transient(&self) -> bool {
        match self {
            GithubError::Unreachable { .. } | GithubError::RateLimited { .. } => true,
            GithubError::Api { status, .. } => *status >= 500 || *status == 429,
            GithubError::Decode { .. } | GithubError::Config(_) => false,
        }
    }

    /// The HTTP status of an API error, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            GithubError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

pub type Result<T, E = GithubError> = std::result::Result<T, E>;

/// A reqwest error's full cause chain. reqwest errors carry the URL, never headers; our URLs
/// never carry the token.
fn describe_transport_error(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

// ---------------------------------------------------------------------------------------------
// Configuration

/// `owner/name` of a repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoId {
    pub owner: String,
    pub name: String,
}

impl RepoId {
    /// Parses `owner/name`.
    pub fn parse(full_name: &str) -> Option<RepoId> {
        let (owner, name) = full_name.trim().split_once('/')?;
        let name = name.strip_suffix(".git").unwrap_or(name);
        if owner.is_empty() || name.is_empty() || name.contains('/') {
            return None;
        }
        Some(RepoId {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }
}

impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// Where to talk to and as whom.
#[derive(Debug, Clone)]
pub struct Config {
    /// API root without trailing slash, e.g. `https://api.github.com` or `https://HOST/api/v3`.
    pub api_base: String,
    /// The GitHub host the repository is on (`github.com`, or an enterprise host).
    pub host: String,
    pub repo: RepoId,
    /// The token bound to `host` (see [`crate::auth`]); never one meant for another host.
    pub token: Option<Secret>,
    pub token_source: Option<TokenSource>,
    /// Why there is no token, and how to set one up.
    pub token_missing: Option<String>,
}

impl Config {
    /// Resolves from an environment map and an optional remote URL, without running anything.
    /// Repository and host: `GH_REPO` (`[HOST/]OWNER/NAME`), else `GITHUB_REPOSITORY` or the
    /// remote for the repository and `GH_HOST` or the remote's host. API: `GITHUB_API_URL`, else
    /// `https://api.github.com` for github.com, else `https://HOST/api/v3`. Token: the one bound
    /// to the host (`GH_TOKEN`/`GITHUB_TOKEN` for github.com only, `GH_ENTERPRISE_TOKEN`/
    /// `GITHUB_ENTERPRISE_TOKEN` for the `GH_HOST` host only).
    pub fn from_env_map(env: &HashMap<String, String>, remote_url: Option<&str>) -> Result<Config> {
        Self::resolve_with(env, remote_url, |_| None)
    }

    /// Like [`Config::from_env_map`] over the process environment, with
    /// `gh auth token --hostname HOST` as the last token source. `github.host` and `github.api_url` from the user's config file stand
    /// in for `GH_HOST` and `GITHUB_API_URL` when those are not set.
    pub fn from_process_env(remote_url: Option<&str>) -> Result<Config> {
        let mut env: HashMap<String, String> = std::env::vars().collect();
        let user = &crate::config::current().github;
        for (key, value) in [("GH_HOST", &user.host), ("GITHUB_API_URL", &user.api_url)] {
            if let Some(v) = value {
                env.entry(key.to_string()).or_insert_with(|| v.clone());
            }
        }
        Self::resolve_with(&env, remote_url, crate::auth::gh_auth_token)
    }

    /// The resolution itself; `gh_token(host)` is asked when the environment has no token
    /// bound to the host.
    pub fn resolve_with(
        env: &HashMap<String, String>,
        remote_url: Option<&str>,
        gh_token: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Result<Config> {
        let get = |key: &str| env.get(key).map(|v| v.trim()).filter(|v| !v.is_empty());
        let remote = match remote_url {
            Some(url) => Some(parse_remote_url(url).ok_or_else(|| {
                GithubError::Config(format!(
                    "cannot read owner/repo from remote URL {:?}",
                    crate::auth::redact_url(url)
                ))
            })?),
            None => None,
        };
        let (host, repo) = if let Some(full) = get("GH_REPO") {
            // gh's GH_REPO: [HOST/]OWNER/REPO.
            let parts: Vec<&str> = full.split('/').collect();
            let (host, name) = match parts.len() {
                2 => ("github.com".to_string(), full.to_string()),
                3 => (
                    normalize_host(parts[0]),
                    format!("{}/{}", parts[1], parts[2]),
                ),
                _ => {
                    return Err(GithubError::Config(format!(
                        "GH_REPO={full:?} is not [HOST/]OWNER/NAME"
                    )))
                }
            };
            let repo = RepoId::parse(&name).ok_or_else(|| {
                GithubError::Config(format!("GH_REPO={full:?} is not [HOST/]OWNER/NAME"))
            })?;
            (host, repo)
        } else {
            let repo =
                match get("GITHUB_REPOSITORY") {
                    Some(full) => RepoId::parse(full).ok_or_else(|| {
                        GithubError::Config(format!("GITHUB_REPOSITORY={full:?} is not owner/name"))
                    })?,
                    None => match &remote {
                        Some(remote) => RepoId {
                            owner: remote.owner.clone(),
                            name: remote.name.clone(),
                        },
                        None => return Err(GithubError::Config(
                            "no repository: set GITHUB_REPOSITORY or GH_REPO, or give a remote URL"
                                .into(),
                        )),
                    },
                };
            let host = get("GH_HOST")
                .map(normalize_host)
                .or_else(|| remote.as_ref().map(|r| r.host.clone()))
                .unwrap_or_else(|| "github.com".to_string());
            (host, repo)
        };
        let host = if is_dotcom(&host) {
            "github.com".to_string()
        } else {
            host
        };
        let api_base = match get("GITHUB_API_URL") {
            Some(url) => url.trim_end_matches('/').to_string(),
            None if is_dotcom(&host) => DOTCOM_API.to_string(),
            None => format!("https://{host}/api/v3"),
        };
        let credentials = Credentials::with(env.clone(), gh_token);
        let lookup = credentials.token_for(&host);
        let token_missing = lookup.token.is_none().then(|| lookup.missing());
        let (token, token_source) = match lookup.token {
            Some((secret, source)) => (Some(secret), Some(source)),
            None => (None, None),
        };
        Ok(Config {
            api_base,
            host,
            repo,
            token,
            token_source,
            token_missing,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Retry policy

/// Back-off and waiting budget. Tests shrink the delays.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// First back-off delay; doubles each retry, plus up to 50 % jitter.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Most time one call may spend sleeping (back-off and rate-limit waits together).
    pub max_total_wait: Duration,
    /// Timeout of one HTTP exchange.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            max_total_wait: Duration::from_secs(300),
            request_timeout: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Delay before retry number `retry` (1-based).
    fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << (retry.saturating_sub(1)).min(16));
        let capped = exp.min(self.max_delay);
        let jitter = capped.mul_f64(jitter_fraction() * 0.5);
        (capped + jitter).min(self.max_delay.max(self.base_delay))
    }
}

/// A cheap pseudo-random fraction in [0, 1) for jitter; no RNG crate needed.
fn jitter_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    (hasher.finish() % 10_000) as f64 / 10_000.0
}

// ---------------------------------------------------------------------------------------------
// Data

// Responses are parsed for what trackit uses: every other field may be missing (older GHES
// versions, proxies), so a response without one never stops later updates.

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BranchRef {
    #[serde(rename = "ref")]
    pub ref_name: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub sha: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    #[serde(default)]
    pub id: u64,
    pub number: u64,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub html_url: String,
    #[serde(default)]
    pub head: BranchRef,
    #[serde(default)]
    pub base: BranchRef,
    #[serde(default)]
    pub draft: Option<bool>,
}

/// Short name used by callers.
pub type Pr = PullRequest;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueComment {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub html_url: String,
    #[serde(default)]
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowRun {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub head_branch: Option<String>,
    #[serde(default)]
    pub head_sha: String,
    #[serde(default)]
    pub event: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub workflow_id: u64,
    #[serde(default)]
    pub run_number: u64,
    #[serde(default)]
    pub html_url: String,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub updated_at: DateTime<Utc>,
    /// The run's title: the workflow's `run-name` with the inputs filled in.
    #[serde(default)]
    pub display_title: Option<String>,
}

impl WorkflowRun {
    pub fn is_completed(&self) -> bool {
        self.status.as_deref() == Some("completed")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: u64,
    #[serde(default)]
    pub run_id: u64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub html_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitWindow {
    pub limit: u64,
    pub remaining: u64,
    pub reset: u64,
    pub used: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    pub core: RateLimitWindow,
}

/// A newly created pull request.
#[derive(Debug, Clone, Serialize)]
pub struct NewPr<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub head: &'a str,
    pub base: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draft: Option<bool>,
}

// ---------------------------------------------------------------------------------------------
// Client

/// What one HTTP exchange came back with, body read.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| GithubError::Decode {
            path: path.to_string(),
            message: e.to_string(),
        })
    }
}

pub struct Client {
    http: reqwest::Client,
    /// Follows log redirects without credentials (the target is a signed blob URL).
    plain_http: reqwest::Client,
    config: Config,
    retry: RetryPolicy,
    per_page: u32,
    /// Set when GitHub said the primary rate limit is spent: no request before this instant.
    blocked_until: Mutex<Option<SystemTime>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(config: Config) -> Result<Client> {
        Self::with_retry(config, RetryPolicy::default())
    }

    pub fn with_retry(config: Config, retry: RetryPolicy) -> Result<Client> {
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/vnd.github+json"),
        );
        headers.insert(
            "X-GitHub-Api-Version",
            HeaderValue::from_static(API_VERSION),
        );
        if let Some(token) = &config.token {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .map_err(|_| GithubError::Config("the token has invalid characters".into()))?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let user_agent = concat!("trackit/", env!("CARGO_PKG_VERSION"));
        let build = |headers: HeaderMap| {
            reqwest::Client::builder()
                .default_headers(headers)
                .user_agent(user_agent)
                .redirect(reqwest::redirect::Policy::none())
                .timeout(retry.request_timeout)
                .build()
                .map_err(|e| GithubError::Config(format!("HTTP client: {e}")))
        };
        let plain_http = build(HeaderMap::new())?;
        let http = build(headers)?;
        Ok(Client {
            http,
            plain_http,
            config,
            retry,
            per_page: 100,
            blocked_until: Mutex::new(None),
        })
    }

    /// Page size for list calls (GitHub's maximum is 100).
    pub fn with_per_page(mut self, per_page: u32) -> Self {
        self.per_page = per_page.clamp(1, 100);
        self
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    fn repo_path(&self, rest: &str) -> String {
        format!(
            "/repos/{}/{}{}",
            self.config.repo.owner, self.config.repo.name, rest
        )
    }

    fn url(&self, path: &str, query: &[(&str, String)]) -> Result<Url> {
        let mut url = Url::parse(&format!("{}{}", self.config.api_base, path))
            .map_err(|e| GithubError::Config(format!("bad API URL: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }

    /// A pagination link, followed only on the API's own origin: the token goes with every
    /// request, so a `Link` header naming another host is refused.
    fn same_origin(&self, path: &str, link: &str) -> Result<Url> {
        let refused = |why: &str| GithubError::Decode {
            path: path.to_string(),
            message: format!("pagination link refused: {why}"),
        };
        let url = Url::parse(link).map_err(|_| refused("not a URL"))?;
        let api = Url::parse(&self.config.api_base).map_err(|_| refused("bad API URL"))?;
        if url.origin() != api.origin() {
            return Err(refused(&format!(
                "{} is not the API's origin {}",
                url.origin().ascii_serialization(),
                api.origin().ascii_serialization()
            )));
        }
        Ok(url)
    }

    /// Sends one request with retries and rate-limit waits. Returns 2xx and 3xx replies; turns
    /// anything else into an error.
    async fn send(&self, method: Method, url: Url, body: Option<&Value>) -> Result<Reply> {
        self.send_with(method, url, body, true).await
    }

    /// Like [`Client::send`]; with `blind_retry` false (a POST that creates something), a
    /// request that may have reached GitHub (a 5xx, a dropped connection) is not sent again:
    /// the caller looks for what it created first. Rate-limit refusals are still waited out,
    /// as GitHub did nothing.
    async fn send_with(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        blind_retry: bool,
    ) -> Result<Reply> {
        let path = url.path().to_string();
        let started = Instant::now();
        let mut waited = Duration::ZERO;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if let Some(until) = self.take_block() {
                let wait = until
                    .duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO);
                if waited + wait > self.retry.max_total_wait {
                    return Err(GithubError::RateLimited {
                        path,
                        retry_in: wait,
                    });
                }
                tokio::time::sleep(wait).await;
                waited += wait;
            }
            let mut request = self.http.request(method.clone(), url.clone());
            if let Some(body) = body {
                request = request.json(body);
            }
            tracing::debug!(%method, path = %path, attempt, "GitHub request");
            let failure = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    match response.bytes().await {
                        Ok(bytes) => {
                            let reply = Reply {
                                status,
                                headers,
                                body: bytes.to_vec(),
                            };
                            self.note_rate_limit(&reply);
                            match self.classify(&method, &path, reply) {
                                Outcome::Done(reply) => return Ok(reply),
                                Outcome::Fatal(err) => return Err(err),
                                Outcome::Wait(wait, why) => Failure::Wait(wait, why),
                                Outcome::Retry(why) => Failure::Retry(why),
                            }
                        }
                        Err(e) => Failure::Retry(describe_transport_error(&e)),
                    }
                }
                Err(e) => Failure::Retry(describe_transport_error(&e)),
            };
            let (wait, why, rate_limited) = match failure {
                Failure::Retry(why) => (self.retry.backoff(attempt), why, false),
                Failure::Wait(wait, why) => (wait, why, true),
            };
            tracing::warn!(%method, path = %path, attempt, ?wait, "GitHub: {why}");
            if !rate_limited && !blind_retry {
                return Err(GithubError::Unreachable {
                    attempts: attempt,
                    waited: started.elapsed(),
                    last: format!("{method} {path}: {why} (outcome unknown; not re-sent)"),
                });
            }
            let out_of_attempts = attempt >= self.retry.max_attempts;
            let out_of_time = waited + wait > self.retry.max_total_wait;
            if out_of_attempts || out_of_time {
                if rate_limited && out_of_time {
                    return Err(GithubError::RateLimited {
                        path,
                        retry_in: wait,
                    });
                }
                return Err(GithubError::Unreachable {
                    attempts: attempt,
                    waited: started.elapsed(),
                    last: format!("{method} {path}: {why}"),
                });
            }
            tokio::time::sleep(wait).await;
            waited += wait;
        }
    }

    fn take_block(&self) -> Option<SystemTime> {
        let mut blocked = self.blocked_until.lock().unwrap_or_else(|e| e.into_inner());
        match *blocked {
            Some(until) if until > SystemTime::now() => Some(until),
            _ => {
                *blocked = None;
                None
            }
        }
    }

    /// Remembers a spent primary rate limit so the next request waits for the reset.
    fn note_rate_limit(&self, reply: &Reply) {
        if header_u64(&reply.headers, "x-ratelimit-remaining") == Some(0)
            && reply.status.is_success()
        {
            if let Some(reset) = header_u64(&reply.headers, "x-ratelimit-reset") {
                let until = UNIX_EPOCH + Duration::from_secs(reset);
                *self.blocked_until.lock().unwrap_or_else(|e| e.into_inner()) = Some(until);
            }
        }
    }

    fn classify(&self, method: &Method, path: &str, reply: Reply) -> Outcome {
        let status = reply.status;
        if status.is_success() || status.is_redirection() {
            return Outcome::Done(reply);
        }
        let message = error_message(&reply.body);
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::FORBIDDEN {
            if let Some(secs) = header_u64(&reply.headers, "retry-after") {
                return Outcome::Wait(
                    Duration::from_secs(secs),
                    format!("{status} secondary rate limit, retry-after {secs}s"),
                );
            }
            if header_u64(&reply.headers, "x-ratelimit-remaining") == Some(0) {
                let reset = header_u64(&reply.headers, "x-ratelimit-reset").unwrap_or(0);
                let until = UNIX_EPOCH + Duration::from_secs(reset);
                // The reset is in whole seconds: wait until just past it.
                let wait = until
                    .duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO)
                    + Duration::from_millis(100);
                return Outcome::Wait(wait, format!("{status} primary rate limit spent"));
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                return Outcome::Wait(
                    self.retry.base_delay.max(Duration::from_secs(60)),
                    format!("{status} without retry-after"),
                );
            }
        }
        if status.is_server_error() {
            return Outcome::Retry(format!("{status}: {message}"));
        }
        Outcome::Fatal(GithubError::Api {
            status: status.as_u16(),
            method: method.to_string(),
            path: path.to_string(),
            message,
        })
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T> {
        let reply = self.send(Method::GET, self.url(path, query)?, None).await?;
        reply.json(path)
    }

    async fn send_json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &Value,
    ) -> Result<T> {
        let reply = self.send(method, self.url(path, &[])?, Some(body)).await?;
        reply.json(path)
    }

    /// GETs every page, following `Link: <…>; rel="next"`. `items` picks the list out of a page.
    async fn get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        items: impl Fn(Value) -> Option<Value>,
    ) -> Result<Vec<T>> {
        let mut query = query.to_vec();
        query.push(("per_page", self.per_page.to_string()));
        let mut next = Some(self.url(path, &query)?);
        let mut all = Vec::new();
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > 1000 {
                return Err(GithubError::Decode {
                    path: path.to_string(),
                    message: "more than 1000 pages".into(),
                });
            }
            let reply = self.send(Method::GET, url, None).await?;
            let page: Value = reply.json(path)?;
            let list = items(page).ok_or_else(|| GithubError::Decode {
                path: path.to_string(),
                message: "no list in the page".into(),
            })?;
            let mut list: Vec<T> =
                serde_json::from_value(list).map_err(|e| GithubError::Decode {
                    path: path.to_string(),
                    message: e.to_string(),
                })?;
            all.append(&mut list);
            next = match next_link(&reply.headers) {
                Some(link) => Some(self.same_origin(path, &link)?),
                None => None,
            };
        }
        Ok(all)
    }

    // --- pull requests -----------------------------------------------------------------------

    /// The open pull request whose head is `branch` in this repository, if any.
    pub async fn find_open_pr(&self, branch: &str) -> Result<Option<PullRequest>> {
        let prs: Vec<PullRequest> = self
            .get_json(
                &self.repo_path("/pulls"),
                &[
                    ("head", format!("{}:{}", self.config.repo.owner, branch)),
                    ("state", "open".to_string()),
                ],
            )
            .await?;
        Ok(prs.into_iter().find(|pr| pr.head.ref_name == branch))
    }

    /// The newest pull requests of this repository, open or not (one page of `per_page`),
    /// newest first: where a run looks for the previous results PR of its experiment.
    pub async fn recent_prs(&self, per_page: u32) -> Result<Vec<PullRequest>> {
        self.get_json(
            &self.repo_path("/pulls"),
            &[
                ("state", "all".to_string()),
                ("sort", "created".to_string()),
                ("direction", "desc".to_string()),
                ("per_page", per_page.clamp(1, 100).to_string()),
            ],
        )
        .await
    }

    pub async fn create_pr(&self, new: &NewPr<'_>) -> Result<PullRequest> {
        let body = serde_json::to_value(new).map_err(|e| GithubError::Config(e.to_string()))?;
        self.send_json(Method::POST, &self.repo_path("/pulls"), &body)
            .await
    }

    pub async fn get_pr(&self, number: u64) -> Result<PullRequest> {
        self.get_json(&self.repo_path(&format!("/pulls/{number}")), &[])
            .await
    }

    /// Changes the title and/or body; `None` leaves a field as it is.
    pub async fn update_pr(
        &self,
        number: u64,
        title: Option<&str>,
        body: Option<&str>,
    ) -> Result<PullRequest> {
        let mut patch = serde_json::Map::new();
        if let Some(title) = title {
            patch.insert("title".into(), json!(title));
        }
        if let Some(body) = body {
            patch.insert("body".into(), json!(body));
        }
        self.send_json(
            Method::PATCH,
            &self.repo_path(&format!("/pulls/{number}")),
            &Value::Object(patch),
        )
        .await
    }

    /// Returns the open PR for `branch`, creating it only when there is none. Safe to repeat
    /// (after a restart, or when another tracker created it in between).
    pub async fn ensure_pr(
        &self,
        branch: &str,
        base: &str,
        title: &str,
        body: &str,
    ) -> Result<PullRequest> {
        if let Some(pr) = self.find_open_pr(branch).await? {
            return Ok(pr);
        }
        let new = NewPr {
            title,
            body,
            head: branch,
            base,
            draft: None,
        };
        match self.create_pr(&new).await {
            Ok(pr) => Ok(pr),
            // "A pull request already exists": lost a race, or a retried POST had gone through.
            Err(err) if err.status() == Some(422) => match self.find_open_pr(branch).await? {
                Some(pr) => Ok(pr),
                None => Err(err),
            },
            Err(err) => Err(err),
        }
    }

    // --- comments and labels -----------------------------------------------------------------

    pub async fn list_comments(&self, issue: u64) -> Result<Vec<IssueComment>> {
        self.get_all(
            &self.repo_path(&format!("/issues/{issue}/comments")),
            &[],
            Some,
        )
        .await
    }

    /// Posts a comment, once: a reply lost on the way back is not answered by posting again
    /// (use [`Client::ensure_comment`], which looks for the comment first).
    pub async fn create_comment(&self, issue: u64, body: &str) -> Result<IssueComment> {
        let path = self.repo_path(&format!("/issues/{issue}/comments"));
        let reply = self
            .send_with(
                Method::POST,
                self.url(&path, &[])?,
                Some(&json!({ "body": body })),
                false,
            )
            .await?;
        reply.json(&path)
    }

    /// The comment carrying `marker` on the issue/PR, posting `body` only when there is none.
    /// When the POST's outcome is unknown (GitHub answered 5xx or the connection dropped), the
    /// comments are listed again before anything is re-sent, so a milestone is never posted
    /// twice.
    pub async fn ensure_comment(
        &self,
        issue: u64,
        marker: &str,
        body: &str,
    ) -> Result<IssueComment> {
        if let Some(found) = self.find_comment(issue, marker).await? {
            return Ok(found);
        }
        match self.create_comment(issue, body).await {
            Ok(c) => Ok(c),
            Err(e) if e.is_transient() => match self.find_comment(issue, marker).await {
                Ok(Some(found)) => Ok(found),
                _ => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    async fn find_comment(&self, issue: u64, marker: &str) -> Result<Option<IssueComment>> {
        Ok(self
            .list_comments(issue)
            .await?
            .into_iter()
            .find(|c| c.body.as_deref().is_some_and(|b| b.contains(marker))))
    }

    pub async fn update_comment(&self, comment_id: u64, body: &str) -> Result<IssueComment> {
        self.send_json(
            Method::PATCH,
            &self.repo_path(&format!("/issues/comments/{comment_id}")),
            &json!({ "body": body }),
        )
        .await
    }

    /// Keeps exactly one comment carrying `marker` on the issue/PR: edits it when it exists
    /// (and only when the text changed), creates it otherwise.
    pub async fn upsert_status_comment(
        &self,
        issue: u64,
        marker: &str,
        body: &str,
    ) -> Result<IssueComment> {
        let text = if body.contains(marker) {
            body.to_string()
        } else {
            format!("{marker}\n{body}")
        };
        let existing = self
            .list_comments(issue)
            .await?
            .into_iter()
            .find(|c| c.body.as_deref().is_some_and(|b| b.contains(marker)));
        match existing {
            Some(comment) if comment.body.as_deref() == Some(text.as_str()) => Ok(comment),
            Some(comment) => self.update_comment(comment.id, &text).await,
            None => self.ensure_comment(issue, marker, &text).await,
        }
    }

    pub async fn add_labels(&self, issue: u64, labels: &[&str]) -> Result<Vec<Label>> {
        self.send_json(
            Method::POST,
            &self.repo_path(&format!("/issues/{issue}/labels")),
            &json!({ "labels": labels }),
        )
        .await
    }

    // --- Actions -----------------------------------------------------------------------------

    /// Runs of a workflow, newest first. `event` and `created` (GitHub search syntax, e.g.
    /// `>=2026-01-01T00:00:00Z`) filter on the server.
    pub async fn list_workflow_runs(
        &self,
        workflow_id: &str,
        event: Option<&str>,
        branch: Option<&str>,
        created: Option<&str>,
    ) -> Result<Vec<WorkflowRun>> {
        let mut query = Vec::new();
        if let Some(event) = event {
            query.push(("event", event.to_string()));
        }
        if let Some(branch) = branch {
            query.push(("branch", branch.to_string()));
        }
        if let Some(created) = created {
            query.push(("created", created.to_string()));
        }
        self.get_all(
            &self.repo_path(&format!("/actions/workflows/{workflow_id}/runs")),
            &query,
            |mut page| page.get_mut("workflow_runs").map(Value::take),
        )
        .await
    }

    /// The `workflow_dispatch` run on `branch` created at or after `since` (pass the time taken
    /// just before dispatching, minus a little clock skew), excluding runs in `known`. Newest
    /// first; `None` while GitHub has not listed it yet.
    pub async fn find_dispatched_run(
        &self,
        workflow_id: &str,
        branch: &str,
        since: DateTime<Utc>,
        known: &HashSet<u64>,
    ) -> Result<Option<WorkflowRun>> {
        let created = format!(">={}", since.format("%Y-%m-%dT%H:%M:%SZ"));
        let runs = self
            .list_workflow_runs(
                workflow_id,
                Some("workflow_dispatch"),
                Some(branch),
                Some(&created),
            )
            .await?;
        Ok(runs
            .into_iter()
            .filter(|r| r.created_at >= since - chrono::Duration::seconds(1))
            .filter(|r| !known.contains(&r.id))
            .max_by_key(|r| (r.created_at, r.id)))
    }

    pub async fn get_run(&self, run_id: u64) -> Result<WorkflowRun> {
        self.get_json(&self.repo_path(&format!("/actions/runs/{run_id}")), &[])
            .await
    }

    /// Polls a run every `interval` until it completes or `max_polls` GETs were made; returns
    /// the last state seen (check [`WorkflowRun::is_completed`]).
    pub async fn wait_for_run(
        &self,
        run_id: u64,
        interval: Duration,
        max_polls: u32,
    ) -> Result<WorkflowRun> {
        let mut run = self.get_run(run_id).await?;
        for _ in 1..max_polls.max(1) {
            if run.is_completed() {
                break;
            }
            tokio::time::sleep(interval).await;
            run = self.get_run(run_id).await?;
        }
        Ok(run)
    }

    pub async fn list_run_jobs(&self, run_id: u64) -> Result<Vec<Job>> {
        self.get_all(
            &self.repo_path(&format!("/actions/runs/{run_id}/jobs")),
            &[],
            |mut page| page.get_mut("jobs").map(Value::take),
        )
        .await
    }

    /// A job's plain-text log. GitHub answers 302 to a short-lived signed URL, fetched without
    /// the token.
    pub async fn download_job_logs(&self, job_id: u64) -> Result<String> {
        let path = self.repo_path(&format!("/actions/jobs/{job_id}/logs"));
        let body = self.follow_redirect(&path).await?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    /// GETs `path` and, on a redirect, the `Location` with the plain (token-less) client.
    /// Logs and artifacts come this way; the token never goes to the redirect target.
    async fn follow_redirect(&self, path: &str) -> Result<Vec<u8>> {
        let reply = self.send(Method::GET, self.url(path, &[])?, None).await?;
        if reply.status.is_success() {
            return Ok(reply.body);
        }
        let location = reply
            .headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| GithubError::Decode {
                path: path.to_string(),
                message: format!("{} without a Location", reply.status),
            })?;
        let target = Url::parse(location)
            .or_else(|_| self.url(location, &[]).map_err(|_| ()))
            .map_err(|_| GithubError::Decode {
                path: path.to_string(),
                message: "unreadable Location".into(),
            })?;
        let response =
            self.plain_http
                .get(target)
                .send()
                .await
                .map_err(|e| GithubError::Unreachable {
                    attempts: 1,
                    waited: Duration::ZERO,
                    last: format!("download: {}", describe_transport_error(&e)),
                })?;
        let status = response.status();
        if !status.is_success() {
            return Err(GithubError::Api {
                status: status.as_u16(),
                method: "GET".into(),
                path: format!("{path} (redirect target)"),
                message: "download failed".into(),
            });
        }
        Ok(response
            .bytes()
            .await
            .map_err(|e| GithubError::Decode {
                path: path.to_string(),
                message: describe_transport_error(&e),
            })?
            .to_vec())
    }

    pub async fn rate_limit(&self) -> Result<RateLimit> {
        #[derive(Deserialize)]
        struct Overview {
            resources: RateLimit,
        }
        let overview: Overview = self.get_json("/rate_limit", &[]).await?;
        Ok(overview.resources)
    }
}

enum Outcome {
    Done(Reply),
    Fatal(GithubError),
    Wait(Duration, String),
    Retry(String),
}

enum Failure {
    Wait(Duration, String),
    Retry(String),
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// GitHub's `{"message": …}`, or a short prefix of the body.
fn error_message(body: &[u8]) -> String {
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        if let Some(message) = value.get("message").and_then(Value::as_str) {
            return message.to_string();
        }
    }
    let text = String::from_utf8_lossy(body);
    text.chars().take(200).collect()
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        is_next.then(|| {
            target
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "link",
            HeaderValue::from_static(
                "<https://x/a?page=2>; rel=\"next\", <https://x/a?page=3>; rel=\"last\"",
            ),
        );
        assert_eq!(next_link(&headers).as_deref(), Some("https://x/a?page=2"));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        assert!(policy.backoff(1) >= Duration::from_millis(100));
        assert!(policy.backoff(1) <= Duration::from_millis(150));
        assert!(policy.backoff(3) >= Duration::from_millis(400));
        assert!(policy.backoff(10) <= Duration::from_secs(1));
    }

    #[test]
    fn secret_never_prints() {
        let secret = Secret::new("ghp_abc");
        assert_eq!(format!("{secret} {secret:?}"), "*** Secret(***)");
        let config = Config {
            api_base: DOTCOM_API.into(),
            host: "github.com".into(),
            repo: RepoId::parse("o/r").unwrap_or_else(|| unreachable!()),
            token: Some(secret),
            token_source: None,
            token_missing: None,
        };
        assert!(!format!("{config:?}").contains("ghp_abc"));
    }
}
