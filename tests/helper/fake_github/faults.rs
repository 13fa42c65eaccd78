//! Faults on demand: an outage, failures queued for the next requests (5xx, rate limits), a
//! reply lost after the request took effect, answers that lack fields, `Link` headers that
//! point elsewhere.

use super::server::Answer;
use super::state::State;
use super::FakeGithub;
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

impl FakeGithub {
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

    /// The next request whose path ends with `suffix` takes effect, but its reply is lost
    /// (answered 502, as a gateway that timed out after the work was done).
    pub fn lose_reply_to(&self, suffix: &str) {
        self.lock().lose_reply_to.push(suffix.to_string());
    }
}

/// Before the request is carried out: an outage or a queued fault answers in its place (Err);
/// Ok(Some(status)) when the request is to take effect but its reply be lost.
pub(super) fn before(
    state: &mut State,
    method: &str,
    template: &str,
) -> Result<Option<u16>, Answer> {
    if let Some(status) = state.outage {
        return Err(Answer::error(status, "Server Error"));
    }
    let mut lost_reply = None;
    if let Some(fault) = state.faults.pop_front() {
        match fault {
            Fault::LostReply(status) => lost_reply = Some(status),
            other => return Err(answer(other)),
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
    Ok(lost_reply)
}

/// The fields answers to `method` on `template` leave out ([`FakeGithub::omit_fields`]).
pub(super) fn omitted(state: &State, method: &str, template: &str) -> Vec<String> {
    state
        .omissions
        .iter()
        .filter(|(m, t, _)| m == method && *t == template)
        .flat_map(|(_, _, f)| f.clone())
        .collect()
}

/// Removes `fields` from an object, from each object of a list, and from the lists GitHub
/// wraps (`workflow_runs`, `jobs`).
pub(super) fn omit(json: &mut Value, fields: &[String]) {
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

/// What the client sees in the request's place (for a lost reply: after it took effect).
pub(super) fn answer(fault: Fault) -> Answer {
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

/// The answer actually sent: a lost reply after the effect took place
/// ([`FakeGithub::lose_reply_to`]).
pub(super) fn deliver(state: &mut State, path: &str, answer: Answer) -> Answer {
    if let Some(i) = state
        .lose_reply_to
        .iter()
        .position(|s| path.ends_with(s.as_str()))
    {
        state.lose_reply_to.remove(i);
        return Answer::error(502, "Server Error");
    }
    answer
}
