//! What the fake knows: its pull requests, comments and runs, the faults waiting to happen, and
//! every request it saw and every violation it found.

use super::actions::Actions;
use super::faults::Fault;
use super::pulls::{CommentState, PrState};
use super::runs::{RunPlan, RunState};
use super::spec::Spec;
use super::{Flavor, LoggedRequest};
use chrono::{DateTime, SubsecRound, Utc};
use std::collections::{HashMap, VecDeque};

pub(super) struct State {
    pub spec: Spec,
    pub origin: String,
    pub next_id: u64,
    pub next_number: u64,
    pub prs: Vec<PrState>,
    pub comments: Vec<CommentState>,
    pub runs: Vec<RunState>,
    pub workflows: HashMap<String, u64>,
    pub next_plan: Option<RunPlan>,
    pub queued_polls: u32,
    pub running_polls: u32,
    pub faults: VecDeque<Fault>,
    pub outage: Option<u16>,
    pub log: Vec<LoggedRequest>,
    pub violations: Vec<String>,
    /// Contents, dispatch, runner, artifacts and the storage host (actions.rs).
    pub actions: Actions,
    /// `Link` headers name this origin instead of the fake's own (a hostile or broken server).
    pub link_origin: Option<String>,
    /// (method, path template, fields): responses to matching requests lack these fields, as
    /// older GitHub Enterprise versions' do. Not checked against the description.
    pub omissions: Vec<(String, String, Vec<String>)>,
    /// (method, path template): the next such request is carried out but answered 502.
    pub lost_replies: Vec<(String, String)>,
    /// Path suffixes: the next request whose path ends with one takes effect and is answered
    /// 502 after its answer was checked.
    pub lose_reply_to: Vec<String>,
}

impl State {
    pub fn new(flavor: Flavor, origin: String) -> State {
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
            actions: Actions::new(),
            link_origin: None,
            omissions: Vec::new(),
            lost_replies: Vec::new(),
            lose_reply_to: Vec::new(),
        }
    }

    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

pub(super) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

pub(super) fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
