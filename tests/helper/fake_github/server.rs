//! A request's way through the fake: logged; checked against the description (path, operation,
//! parameters, body, GitHub's headers) and the token; then an outage or a queued fault may
//! answer instead; then its route carries it out, and the answer is checked in turn.

use super::faults::{self, Fault};
use super::state::State;
use super::{actions, http, pulls, runs, LoggedRequest, OWNER, REPO, TEST_TOKEN};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

pub(super) struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub json: Option<Value>,
    pub text: Option<String>,
}

impl Answer {
    pub fn json(status: u16, body: Value) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            json: Some(body),
            text: None,
        }
    }
    pub fn empty(status: u16) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            json: None,
            text: None,
        }
    }
    pub fn error(status: u16, message: &str) -> Answer {
        Answer::json(
            status,
            json!({"message": message, "documentation_url": "https://docs.github.com/rest"}),
        )
    }
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Answer {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// A request that passed the checks, as the routes see it.
pub(super) struct Call<'a> {
    pub method: &'a str,
    /// The path template it matched, as in the description.
    pub template: &'a str,
    /// The path parameters by name.
    pub params: &'a HashMap<String, String>,
    pub query_pairs: &'a [(String, String)],
    /// The JSON body (Null when there is none).
    pub body: &'a Value,
    /// The path as sent (with the API root).
    pub path: &'a str,
}

impl<'a> Call<'a> {
    /// The value of a query parameter.
    pub fn query(&self, name: &str) -> Option<&'a str> {
        value_of(self.query_pairs, name)
    }

    /// A numeric path parameter (0 when it is not a number).
    pub fn num(&self, name: &str) -> u64 {
        self.params
            .get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

pub(super) fn serve(state: &Mutex<State>, mut request: tiny_http::Request) {
    let mut body = String::new();
    let _ = request.as_reader().read_to_string(&mut body);
    let method = request.method().as_str().to_string();
    let url = request.url().to_string();
    let headers = http::headers(&request);
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
    http::respond(request, answer.status, bytes, content_type, &answer.headers);
}

/// The first value named `name` (a header's, a query parameter's).
fn value_of<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
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
    state
        .log
        .push(LoggedRequest::new(method, url, headers, body));
    let authorization = value_of(headers, "authorization").map(str::to_string);
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
    if value_of(headers, "accept") != Some("application/vnd.github+json") {
        problems.push(format!(
            "{method} {url}: Accept is not application/vnd.github+json"
        ));
    }
    if value_of(headers, "x-github-api-version") != Some("2022-11-28") {
        problems.push(format!(
            "{method} {url}: X-GitHub-Api-Version is not 2022-11-28"
        ));
    }
    if !value_of(headers, "user-agent").is_some_and(|ua| ua.starts_with("trackit/")) {
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

    let lost_reply = match faults::before(state, method, &template) {
        Ok(lost_reply) => lost_reply,
        Err(answer) => return answer,
    };
    let body: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let call = Call {
        method,
        template: &template,
        params: &path_params,
        query_pairs: &query,
        body: &body,
        path,
    };
    let mut answer = route(state, &call);
    if let Some(status) = lost_reply {
        return faults::answer(Fault::LostReply(status));
    }
    let omitted = faults::omitted(state, method, &template);
    if omitted.is_empty() {
        let json = answer.json.clone();
        let problems = state
            .spec
            .check_response(&template, method, answer.status, json.as_ref());
        state.violations.extend(problems);
    } else if let Some(json) = answer.json.as_mut() {
        faults::omit(json, &omitted);
    }
    let answer = faults::deliver(state, path, answer);
    answer
        .header("x-ratelimit-limit", "5000")
        .header("x-ratelimit-remaining", "4999")
        .header("x-ratelimit-reset", reset_in_an_hour().to_string())
}

/// The route that carries the call out: a repository other than the fake's is not found.
fn route(state: &mut State, call: &Call) -> Answer {
    if call.params.get("owner").map(String::as_str) != Some(OWNER)
        || call.params.get("repo").map(String::as_str) != Some(REPO)
    {
        if call.template.starts_with("/repos/") {
            return Answer::error(404, "Not Found");
        }
    }
    actions::route(state, call)
        .or_else(|| pulls::route(state, call))
        .or_else(|| runs::route(state, call))
        .or_else(|| rate_limit(state, call))
        .unwrap_or_else(|| Answer::error(404, "Not Found"))
}

/// The rate limit's reset time (epoch seconds): an hour from now, never reached.
fn reset_in_an_hour() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
        + 3600
}

fn rate_limit(state: &State, call: &Call) -> Option<Answer> {
    if (call.method, call.template) != ("GET", "/rate_limit") {
        return None;
    }
    let mut overview = state.spec.example("rate-limit-overview");
    let core = json!({"limit": 5000, "remaining": 4999, "reset": reset_in_an_hour(), "used": 1});
    overview["resources"]["core"] = core.clone();
    overview["rate"] = core;
    Some(Answer::json(200, overview))
}

/// Slices `items` by `per_page`/`page` and adds GitHub's `Link` header. The page is a list, or,
/// for the lists GitHub wraps, `{"total_count": <all items>, <wrapped_in>: [...]}`.
pub(super) fn paginate(
    state: &State,
    call: &Call,
    items: Vec<Value>,
    wrapped_in: Option<&str>,
) -> Answer {
    let query = call.query_pairs;
    let path = call.path;
    let total = items.len();
    let per_page = call
        .query("per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(30usize)
        .clamp(1, 100);
    let page = call
        .query("page")
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
    let listing = match wrapped_in {
        None => Value::Array(slice),
        Some(key) => json!({"total_count": total, key: slice}),
    };
    let answer = Answer::json(200, listing);
    if links.is_empty() {
        answer
    } else {
        answer.header("Link", links.join(", "))
    }
}
