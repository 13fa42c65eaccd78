//! Pull requests, their comments and labels: the results PR and its status comments.

use super::server::{paginate, Answer, Call};
use super::state::{now, ts, State};
use super::{FakeGithub, OWNER, REPO};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

pub(super) struct PrState {
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

pub(super) struct CommentState {
    id: u64,
    issue: u64,
    body: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl State {
    pub(super) fn add_comment(&mut self, issue: u64, body: String) -> u64 {
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
}

impl FakeGithub {
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

    /// Comment bodies on an issue/PR, oldest first.
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
}

pub(super) fn route(state: &mut State, call: &Call) -> Option<Answer> {
    let answer = match (call.method, call.template) {
        ("GET", "/repos/{owner}/{repo}/pulls") => list_pulls(state, call),
        ("POST", "/repos/{owner}/{repo}/pulls") => create_pull(state, call),
        ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}") => get_pull(state, call),
        ("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}") => update_pull(state, call),
        ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments") => {
            list_comments(state, call)
        }
        ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments") => {
            create_comment(state, call)
        }
        ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}") => {
            update_comment(state, call)
        }
        ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels") => add_labels(state, call),
        _ => return None,
    };
    Some(answer)
}

fn list_pulls(state: &mut State, call: &Call) -> Answer {
    let wanted_state = call.query("state").unwrap_or("open");
    let head = call.query("head");
    let mut prs: Vec<&PrState> = state
        .prs
        .iter()
        .filter(|p| wanted_state == "all" || p.state == wanted_state)
        .filter(|p| head.is_none_or(|h| h == format!("{OWNER}:{}", p.head)))
        .collect();
    // GitHub's order, as documented: by `sort` (default `created`); `direction`
    // defaults to `desc` for `created`, else `asc`.
    let sort = call.query("sort").unwrap_or("created");
    match sort {
        "updated" => prs.sort_by_key(|p| (p.updated_at, p.number)),
        _ => prs.sort_by_key(|p| (p.created_at, p.number)),
    }
    let default_direction = if sort == "created" { "desc" } else { "asc" };
    if call.query("direction").unwrap_or(default_direction) == "desc" {
        prs.reverse();
    }
    let items: Vec<Value> = prs
        .into_iter()
        .map(|p| pr_json(state, p, "pull-request-simple-items"))
        .collect();
    paginate(state, call, items, None)
}

/// A second open PR for the same head is refused, as GitHub refuses it.
fn create_pull(state: &mut State, call: &Call) -> Answer {
    let head = call.body["head"].as_str().unwrap_or_default();
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
        title: call.body["title"].as_str().unwrap_or_default().to_string(),
        body: call.body["body"].as_str().unwrap_or_default().to_string(),
        head,
        base: call.body["base"].as_str().unwrap_or("main").to_string(),
        draft: call.body["draft"].as_bool().unwrap_or(false),
        labels: Vec::new(),
        created_at: now,
        updated_at: now,
    };
    let json = pr_json(state, &pr, "pull-request");
    state.prs.push(pr);
    Answer::json(201, json)
}

fn get_pull(state: &mut State, call: &Call) -> Answer {
    let number = call.num("pull_number");
    match state.prs.iter().find(|p| p.number == number) {
        Some(p) => Answer::json(200, pr_json(state, p, "pull-request")),
        None => Answer::error(404, "Not Found"),
    }
}

fn update_pull(state: &mut State, call: &Call) -> Answer {
    let number = call.num("pull_number");
    let Some(index) = state.prs.iter().position(|p| p.number == number) else {
        return Answer::error(404, "Not Found");
    };
    let pr = &mut state.prs[index];
    if let Some(title) = call.body["title"].as_str() {
        pr.title = title.to_string();
    }
    if let Some(text) = call.body["body"].as_str() {
        pr.body = text.to_string();
    }
    if let Some(s) = call.body["state"].as_str() {
        pr.state = s.to_string();
    }
    pr.updated_at = now();
    Answer::json(200, pr_json(state, &state.prs[index], "pull-request"))
}

fn list_comments(state: &mut State, call: &Call) -> Answer {
    let issue = call.num("issue_number");
    if !state.prs.iter().any(|p| p.number == issue) {
        return Answer::error(404, "Not Found");
    }
    let items: Vec<Value> = state
        .comments
        .iter()
        .filter(|c| c.issue == issue)
        .map(|c| comment_json(state, c))
        .collect();
    paginate(state, call, items, None)
}

fn create_comment(state: &mut State, call: &Call) -> Answer {
    let issue = call.num("issue_number");
    if !state.prs.iter().any(|p| p.number == issue) {
        return Answer::error(404, "Not Found");
    }
    let id = state.add_comment(
        issue,
        call.body["body"].as_str().unwrap_or_default().to_string(),
    );
    let comment = state
        .comments
        .iter()
        .find(|c| c.id == id)
        .expect("just added");
    Answer::json(201, comment_json(state, comment))
}

fn update_comment(state: &mut State, call: &Call) -> Answer {
    let id = call.num("comment_id");
    let Some(index) = state.comments.iter().position(|c| c.id == id) else {
        return Answer::error(404, "Not Found");
    };
    state.comments[index].body = call.body["body"].as_str().unwrap_or_default().to_string();
    state.comments[index].updated_at = now();
    Answer::json(200, comment_json(state, &state.comments[index]))
}

fn add_labels(state: &mut State, call: &Call) -> Answer {
    let issue = call.num("issue_number");
    let Some(index) = state.prs.iter().position(|p| p.number == issue) else {
        return Answer::error(404, "Not Found");
    };
    for label in call.body["labels"].as_array().cloned().unwrap_or_default() {
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

// JSON built on the published examples, so every required field is there.

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
