//! The results PR and the results collection, driven by the engine.
//!
//! The engine calls [`Publisher::sync`] at launch, on relaunch and at the end, and
//! [`Publisher::tick`] on every loop turn (a state change, or a queued GitHub update that is due).
//! Everything is derived from the track's state, so each call is idempotent: the doc's section
//! is rewritten in place, a commit with no change is skipped, `ensure_pr` finds the open PR,
//! milestone comments are remembered (and looked up by marker before posting).
//!
//! Order of side effects, each recorded in `track.published` before the next:
//! results worktree and doc → commit → push → PR → PR body, status comment, milestones.
//! GitHub being down (a transient error) queues the update with back-off; a 401/404 stops
//! GitHub updates for this track. Tracking never stops for publishing.

use super::model::{GithubUpdate, JobHandle, Launch, Outcome, ResultsSummary, Track};
use super::store::TrackDir;
use crate::github::{Client, Config, GithubError, RetryPolicy};
use crate::job::JobState;
use crate::lua::GuardedPolicy;
use crate::report::{self, JobRow, Links, PlotRef, ReportCtx, Secrets, TrackStatus};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Failed deliveries in a row before giving up on GitHub for this track.
const MAX_RETRIES: u32 = 30;
/// Longest wait between two delivery attempts.
const MAX_BACKOFF_S: i64 = 300;

/// What a push came to.
enum PushResult {
    /// Pushed, nothing to push, or failed for a reason a later retry handles.
    Done,
    /// The remote changed the same files: take its branch and render again.
    Conflict,
}

/// A line for the display: (event, message).
pub type Note = (&'static str, String);

pub struct Publisher {
    secrets: Secrets,
    /// Tokens bound to their hosts: the push offers one only to the host it belongs to.
    credentials: crate::auth::Credentials,
    /// Back-off base in seconds (short so a recovered GitHub is noticed soon).
    backoff_base_s: i64,
}

impl Default for Publisher {
    fn default() -> Self {
        Publisher::new()
    }
}

fn now_s() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Publisher {
    pub fn new() -> Publisher {
        Publisher {
            secrets: Secrets::from_env(),
            credentials: crate::auth::Credentials::from_process_env(),
            backoff_base_s: 1,
        }
    }

    fn scrub(&self, text: &str) -> String {
        self.secrets.scrub(&report::scrub(text, &[] as &[&str]))
    }

    /// A new attempt was launched (the first, or a relaunch): publish at once.
    pub async fn on_launch(
        &mut self,
        track: &mut Track,
        dir: &TrackDir,
        policy: &mut GuardedPolicy,
    ) -> Vec<Note> {
        track.published.launched_at = Some(now_s());
        self.sync(track, dir, policy).await
    }

    /// Called every loop turn: publish a state change, or retry what is queued when due.
    pub async fn tick(
        &mut self,
        track: &mut Track,
        dir: &TrackDir,
        policy: &mut GuardedPolicy,
    ) -> Vec<Note> {
        if Some(state_key(track)) != track.published.last_key {
            return self.sync(track, dir, policy).await;
        }
        let p = &track.published;
        let due = p.retry_at.is_none_or(|at| now_s() >= at);
        let unpushed =
            p.git && !track.publish_opts.no_pr && p.remote.is_some() && p.pushed != p.commit;
        if due && (unpushed || (!p.queue.is_empty() && p.github_error.is_none())) {
            return self.sync(track, dir, policy).await;
        }
        Vec::new()
    }

    /// At the end: deliver what is still queued, retrying for a bounded time.
    pub async fn drain(
        &mut self,
        track: &mut Track,
        dir: &TrackDir,
        policy: &mut GuardedPolicy,
        budget: Duration,
    ) -> Vec<Note> {
        let mut notes = self.sync(track, dir, policy).await;
        let end = std::time::Instant::now() + budget;
        while std::time::Instant::now() < end {
            let p = &track.published;
            let pending = (!p.queue.is_empty() && p.github_error.is_none())
                || (p.git
                    && !track.publish_opts.no_pr
                    && p.remote.is_some()
                    && p.pushed != p.commit);
            if !pending || p.retries >= MAX_RETRIES {
                break;
            }
            let wait = p
                .retry_at
                .map(|at| (at - now_s()).max(1))
                .unwrap_or(1)
                .min(5);
            tokio::time::sleep(Duration::from_secs(wait as u64)).await;
            track.published.retry_at = None;
            notes.extend(self.sync(track, dir, policy).await);
        }
        if !track.published.queue.is_empty() && track.published.github_error.is_none() {
            notes.push((
                "github_pending",
                format!(
                    "{} GitHub update(s) could not be delivered; they stay queued in the track state",
                    track.published.queue.len()
                ),
            ));
        }
        notes
    }

    /// Brings the doc, the results branch and the PR in line with the track's state.
    pub async fn sync(
        &mut self,
        track: &mut Track,
        dir: &TrackDir,
        policy: &mut GuardedPolicy,
    ) -> Vec<Note> {
        let mut notes = Vec::new();
        if !track.published.prepared {
            self.prepare(track, dir, policy, &mut notes);
            save(dir, track);
        }
        // A pipeline's results are its steps' (each collected its own).
        if track.outcome == Some(Outcome::Succeeded)
            && track.published.results.is_none()
            && !track.is_pipeline()
        {
            let summary = self.collect_results(track, policy);
            if !summary.errors.is_empty() {
                notes.push((
                    "results",
                    self.scrub(&format!("results: {}", summary.errors.join("; "))),
                ));
            }
            track.published.results = Some(summary);
            save(dir, track);
        }
        if !track.published.baseline_checked {
            self.resolve_baseline(track, &mut notes).await;
            save(dir, track);
        }
        let mut ctx = self.report_ctx(track, policy);
        let table = policy.format_table(&ctx);
        if track.published.git {
            let plot_commit = track.published.plot_commit.clone();
            self.commit_and_push(track, dir, policy, &ctx, &table, &mut notes);
            if track.published.plot_commit != plot_commit {
                // The plots' links name the commit just made.
                ctx = self.report_ctx(track, policy);
            }
        } else {
            let doc = PathBuf::from("report.md");
            if let Err(e) = report::write_doc(&dir.dir, &doc, &ctx, &table) {
                notes.push((
                    "error",
                    self.scrub(&format!("cannot write the report: {e:#}")),
                ));
            }
            track.published.doc = Some(doc);
        }
        if self.github_enabled(track) {
            self.enqueue(track, policy, &ctx);
            save(dir, track);
            self.flush(track, dir, &mut notes).await;
        }
        track.published.last_key = Some(state_key(track));
        save(dir, track);
        for (event, msg) in &notes {
            let _ = dir.append_event(event, json!({ "message": msg }));
        }
        notes
    }

    /// Looks for the run to compare with, once (again later only while GitHub is down).
    async fn resolve_baseline(&mut self, track: &mut Track, notes: &mut Vec<Note>) {
        if !track.published.git && track.publish_opts.baseline.is_none() {
            // `--no-git` (or no repository): nothing to look in.
            track.published.baseline_checked = true;
            return;
        }
        let client = if self.github_enabled(track) {
            self.client(track).ok()
        } else {
            None
        };
        match super::baseline::find_baseline(track, client.as_ref()).await {
            super::baseline::Lookup::Found(b) => {
                notes.push(("baseline", format!("compared with {}", b.label)));
                track.published.baseline = Some(b);
                track.published.baseline_checked = true;
            }
            super::baseline::Lookup::NotFound(why) => {
                if track.publish_opts.baseline.is_some() {
                    notes.push(("baseline", self.scrub(&why)));
                }
                track.published.baseline_note = Some(self.scrub(&why));
                track.published.baseline_checked = true;
            }
            super::baseline::Lookup::Retry(why) => {
                // GitHub is down: try again at the next publish, but not forever.
                if track.outcome.is_some() {
                    track.published.baseline_note =
                        Some(self.scrub(&format!("GitHub unreachable: {why}")));
                    track.published.baseline_checked = true;
                }
            }
        }
    }

    fn github_enabled(&self, track: &Track) -> bool {
        let p = &track.published;
        p.git && !track.publish_opts.no_pr && p.remote.is_some() && p.github_error.is_none()
    }

    /// Decides where things go: the results branch and its worktree, the doc, the PR's base.
    fn prepare(
        &mut self,
        track: &mut Track,
        dir: &TrackDir,
        policy: &mut GuardedPolicy,
        notes: &mut Vec<Note>,
    ) {
        let p = &mut track.published;
        p.prepared = true;
        p.git = false;
        let repo_root = if track.publish_opts.no_git {
            None
        } else {
            crate::git::find_repo_root(&track.root)
        };
        let Some(repo_root) = repo_root else {
            p.doc = Some(PathBuf::from("report.md"));
            // A pipeline's step reports through its pipeline: its own file is no news.
            if track.step_of.is_none() {
                notes.push((
                    "report",
                    format!("report in {}", dir.dir.join("report.md").display()),
                ));
            }
            return;
        };
        // Without a usable repository the report stays in the track dir.
        let give_up = |p: &mut crate::track::model::Published,
                       notes: &mut Vec<Note>,
                       e: &dyn std::fmt::Display| {
            p.git_error = Some(self.scrub(&e.to_string()));
            p.doc = Some(PathBuf::from("report.md"));
            notes.push((
                "error",
                self.scrub(&format!("git: {e}; the report stays in the track dir")),
            ));
        };
        let facts = match crate::git::repo_facts(&repo_root) {
            Ok(f) => f,
            Err(e) => return give_up(p, notes, &e),
        };
        let date = chrono::DateTime::parse_from_rfc3339(&track.created_at)
            .map(|d| d.date_naive())
            .unwrap_or_else(|_| chrono::Utc::now().date_naive());
        let branch = crate::git::results_branch_name(&track.experiment, date);
        // Several tracks may create the same branch and worktree at once: one at a time.
        let lock = crate::git::BranchLock::acquire(&repo_root, &branch, Duration::from_secs(120));
        let rb = match crate::git::ResultsBranch::open_or_create(&repo_root, &branch) {
            Ok(rb) => rb,
            Err(e) => return give_up(p, notes, &e),
        };
        drop(lock);
        let remote = facts
            .remotes
            .iter()
            .find(|r| r.name == "origin")
            .or(facts.remotes.first())
            .cloned();
        p.base = facts.branch.clone().or_else(|| {
            remote
                .as_ref()
                .and_then(|r| remote_default_branch(&repo_root, &r.name))
        });
        p.remote = remote.map(|r| r.name);
        p.branch = Some(branch.clone());
        p.git = true;
        // The commit the job runs from (the engine may have recorded it before the launch).
        if p.code.is_none() {
            p.code = super::baseline::code_version(&repo_root);
        }
        // `--doc` is a path in the user's tree: the same path inside the results worktree.
        let explicit = track.publish_opts.doc.as_ref().map(|d| {
            let abs = if d.is_absolute() {
                d.clone()
            } else {
                track.cwd.join(d)
            };
            report::doc::repo_relative(&repo_root, &abs).unwrap_or_else(|| d.clone())
        });
        let ctx = self.report_ctx(track, policy);
        match policy.choose_doc(rb.worktree_path(), &ctx, explicit.as_deref()) {
            Ok(choice) => {
                if let Some(n) = &choice.note {
                    notes.push(("policy_error", n.clone()));
                }
                track.published.doc = Some(choice.path);
            }
            Err(e) => {
                notes.push(("error", format!("{e:#}; using the default doc")));
                track.published.doc = Some(report::doc::default_doc_path(&track.experiment));
            }
        }
        if track.published.remote.is_none() && !track.publish_opts.no_pr {
            notes.push((
                "no_pr",
                "the repository has no remote: results are committed locally, no PR".into(),
            ));
        }
        notes.push((
            "results_branch",
            format!(
                "results branch {branch}, doc {}",
                track
                    .published
                    .doc
                    .as_deref()
                    .unwrap_or(Path::new("?"))
                    .display()
            ),
        ));
        let _ = dir;
    }

    /// Writes the doc (and the plot) in the results worktree, commits when it changed, pushes.
    fn commit_and_push(
        &mut self,
        track: &mut Track,
        dir: &TrackDir,
        policy: &mut GuardedPolicy,
        ctx: &ReportCtx,
        table: &str,
        notes: &mut Vec<Note>,
    ) {
        let (Some(branch), Some(doc)) =
            (track.published.branch.clone(), track.published.doc.clone())
        else {
            return;
        };
        let Some(repo_root) = crate::git::find_repo_root(&track.root) else {
            return;
        };
        // Other tracks of this experiment (today's reruns, a pipeline's steps) write the same
        // branch and doc: one writer at a time.
        let _lock =
            match crate::git::BranchLock::acquire(&repo_root, &branch, Duration::from_secs(120)) {
                Ok(l) => l,
                Err(e) => {
                    notes.push(("error", self.scrub(&format!("git: {e}"))));
                    return;
                }
            };
        let rb = match crate::git::ResultsBranch::open_or_create(&repo_root, &branch) {
            Ok(rb) => rb,
            Err(e) => {
                notes.push(("error", self.scrub(&format!("git: {e}"))));
                return;
            }
        };
        // Up to two rounds: when the remote changed the same doc (another machine's tracker),
        // take its branch and render again on top of it.
        for round in 0..2 {
            if !self.render_and_commit(&rb, track, dir, policy, ctx, table, &doc, notes) {
                return;
            }
            match self.push_results(&rb, track, dir, notes) {
                PushResult::Conflict if round == 0 => {
                    let remote = track.published.remote.clone().unwrap_or_default();
                    match rb.take_remote(&remote, &self.credentials) {
                        Ok(_) => {
                            let _ =
                                dir.append_event("took_remote_branch", json!({"branch": branch}));
                            continue;
                        }
                        Err(e) => {
                            notes.push(("push_failed", self.scrub(&format!("git: {e}"))));
                            return;
                        }
                    }
                }
                _ => return,
            }
        }
    }

    /// Writes the doc (on top of the branch's own copy, so other tracks' sections stay), the
    /// plots and an edited script into the results worktree, and commits what changed. False
    /// when a commit failed.
    #[allow(clippy::too_many_arguments)]
    fn render_and_commit(
        &mut self,
        rb: &crate::git::ResultsBranch,
        track: &mut Track,
        dir: &TrackDir,
        policy: &mut GuardedPolicy,
        ctx: &ReportCtx,
        table: &str,
        doc: &Path,
        notes: &mut Vec<Note>,
    ) -> bool {
        let branch = rb.branch().to_string();
        let doc = doc.to_path_buf();
        let wt = rb.worktree_path().to_path_buf();
        // The committed doc is the truth: another process may have moved the branch.
        if let Ok(Some(committed)) = rb.read_file(&doc) {
            if std::fs::read(wt.join(&doc)).ok().as_deref() != Some(committed.as_slice()) {
                let _ = std::fs::create_dir_all(wt.join(&doc).parent().unwrap_or(&wt));
                let _ = std::fs::write(wt.join(&doc), &committed);
            }
        }
        let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
        match report::write_doc(&wt, &doc, ctx, table) {
            Ok(_) => match std::fs::read(wt.join(&doc)) {
                Ok(bytes) => files.push((doc.clone(), bytes)),
                Err(e) => notes.push(("error", format!("cannot read {}: {e}", doc.display()))),
            },
            Err(e) => notes.push(("error", self.scrub(&format!("{e:#}")))),
        }
        if let Some(plot) = track
            .published
            .results
            .as_ref()
            .and_then(|r| r.plot.clone())
        {
            if let Ok(bytes) = std::fs::read(dir.dir.join("plot.svg")) {
                files.push((plot, bytes));
            }
        }
        // One plot per metric, drawn into the track dir when the results were collected.
        let plots: Vec<PathBuf> = track
            .published
            .results
            .as_ref()
            .map(|r| r.plots.iter().map(|(_, p)| p.clone()).collect())
            .unwrap_or_default();
        let mut with_plots = false;
        for plot in &plots {
            let local = dir
                .dir
                .join("plots")
                .join(plot.file_name().unwrap_or_default());
            if let Ok(bytes) = std::fs::read(local) {
                files.push((plot.clone(), bytes));
                with_plots = true;
            }
        }
        // An edited job script goes on the results branch at its own path, so the fix shows as
        // a reviewable diff against the user's branch.
        if let Some(crate::edits::JobSpec::Slurm {
            script_rel,
            script_text,
            ..
        }) = track.current().and_then(|a| a.spec.as_ref())
        {
            let original = std::fs::read_to_string(track.root.join(script_rel)).ok();
            if !script_rel.as_os_str().is_empty()
                && script_rel.is_relative()
                && original.as_deref() != Some(script_text.as_str())
            {
                files.push((script_rel.clone(), script_text.clone().into_bytes()));
            }
        }
        if files.is_empty() {
            return true;
        }
        let message = policy.commit_message(ctx, "");
        match rb.commit_files(&files, &message) {
            Ok(Some(oid)) => {
                track.published.commit = Some(oid.to_string());
                if with_plots && track.published.plot_commit.is_none() {
                    track.published.plot_commit = Some(oid.to_string());
                }
                save(dir, track);
                let _ = dir.append_event(
                    "committed",
                    json!({"commit": oid.to_string(), "branch": branch}),
                );
            }
            Ok(None) => {
                if track.published.commit.is_none() {
                    track.published.commit = rb.head().ok().map(|o| o.to_string());
                }
                if with_plots && track.published.plot_commit.is_none() {
                    track.published.plot_commit = rb.head().ok().map(|o| o.to_string());
                }
            }
            Err(e) => {
                notes.push(("error", self.scrub(&format!("git commit: {e}"))));
                return false;
            }
        }
        true
    }

    /// Pushes the results branch (unless `--no-pr`, already pushed, or backing off).
    fn push_results(
        &mut self,
        rb: &crate::git::ResultsBranch,
        track: &mut Track,
        dir: &TrackDir,
        notes: &mut Vec<Note>,
    ) -> PushResult {
        let branch = rb.branch().to_string();
        if track.publish_opts.no_pr || track.published.pushed == track.published.commit {
            return PushResult::Done;
        }
        let Some(remote) = track.published.remote.clone() else {
            return PushResult::Done;
        };
        if track.published.retry_at.is_some_and(|at| now_s() < at) {
            return PushResult::Done;
        }
        match rb.push(&remote, &self.credentials) {
            Ok(out) => {
                track.published.pushed = Some(out.head.to_string());
                track.published.commit = Some(out.head.to_string());
                save(dir, track);
                let _ = dir.append_event(
                    "pushed",
                    json!({"branch": branch, "commit": out.head.to_string()}),
                );
                PushResult::Done
            }
            Err(e @ crate::git::GitError::RebaseConflict { .. }) => {
                notes.push((
                    "push_conflict",
                    self.scrub(&format!(
                        "git push {remote} {branch}: {e}; rendering again on the remote's branch"
                    )),
                ));
                PushResult::Conflict
            }
            Err(e) => {
                self.back_off(track);
                notes.push((
                    "push_failed",
                    self.scrub(&format!("git push {remote} {branch}: {e}; retrying later")),
                ));
                PushResult::Done
            }
        }
    }

    fn back_off(&self, track: &mut Track) {
        let p = &mut track.published;
        p.retries += 1;
        let delay = (self.backoff_base_s << p.retries.min(10)).min(MAX_BACKOFF_S);
        p.retry_at = Some(now_s() + delay);
    }

    /// Queues the PR body, the status comment and any milestone not yet posted. Only the
    /// newest body and status are kept: older ones are superseded.
    fn enqueue(&mut self, track: &mut Track, policy: &mut GuardedPolicy, ctx: &ReportCtx) {
        let pr = policy.render_pr(ctx);
        let status = report::status_comment(ctx, None);
        let mut milestones: Vec<(String, String)> = Vec::new();
        for (i, a) in track.attempts.iter().enumerate().skip(1) {
            let Some(job) = &a.job else { continue };
            let name = format!("relaunch-{}", a.n);
            let failed = report_attempt(track, i - 1);
            let body = report::relaunch_comment(ctx, &failed, Some(&job.id()));
            milestones.push((name, body));
        }
        if track.outcome.is_some() {
            milestones.push(("final".into(), report::final_comment(ctx)));
        }
        let p = &mut track.published;
        p.queue
            .retain(|u| !matches!(u, GithubUpdate::PrBody { .. } | GithubUpdate::Status { .. }));
        // The PR may be shared with other tracks of the experiment: this track's part of it.
        p.queue.push(GithubUpdate::PrBody {
            title: self.scrub(&pr.title),
            body: report::text::pr_section(&track.id, &self.scrub(&pr.body)),
        });
        p.queue.push(GithubUpdate::Status {
            body: self.scrub(&status),
        });
        for (name, body) in milestones {
            let queued = p.queue.iter().any(
                |u| matches!(u, GithubUpdate::Comment { milestone, .. } if *milestone == name),
            );
            if !queued && !p.milestones.contains(&name) {
                p.queue.push(GithubUpdate::Comment {
                    milestone: name,
                    body: self.scrub(&body),
                });
            }
        }
    }

    fn client(&self, track: &Track) -> Result<Client, GithubError> {
        let url = track
            .published
            .remote
            .as_deref()
            .and_then(|name| remote_url(&track.root, name))
            .filter(|u| crate::github::parse_remote_url(u).is_some());
        let config = Config::from_process_env(url.as_deref())?;
        if config.token.is_none() {
            return Err(GithubError::Config(
                config.token_missing.clone().unwrap_or_else(|| {
                    "no GitHub token (set GH_TOKEN or GITHUB_TOKEN, or log in with gh)".into()
                }),
            ));
        }
        let retry = RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(1),
            max_total_wait: Duration::from_secs(2),
            request_timeout: Duration::from_secs(20),
        };
        Client::with_retry(config, retry)
    }

    /// Delivers the queue in order; stops at the first transient failure (back-off) and gives
    /// up on GitHub for this track at a non-transient one.
    async fn flush(&mut self, track: &mut Track, dir: &TrackDir, notes: &mut Vec<Note>) {
        if track.published.retry_at.is_some_and(|at| now_s() < at) {
            return;
        }
        if track.published.pushed.is_none() {
            return; // the PR needs the branch on the remote
        }
        let client = match self.client(track) {
            Ok(c) => c,
            Err(e) => {
                self.stop_github(track, &e, notes);
                return;
            }
        };
        let result = self.deliver(&client, track, dir, notes).await;
        match result {
            Ok(()) => {
                if track.published.retries > 0 {
                    notes.push((
                        "github_recovered",
                        "GitHub reachable again: updates delivered".into(),
                    ));
                }
                track.published.retries = 0;
                track.published.retry_at = None;
            }
            Err(e) if e.is_transient() => {
                self.back_off(track);
                if track.published.retries >= MAX_RETRIES {
                    self.stop_github(track, &e, notes);
                } else {
                    let wait = track.published.retry_at.unwrap_or(0) - now_s();
                    notes.push((
                        "github_unreachable",
                        self.scrub(&format!(
                            "{e}; {} update(s) queued, retrying in {wait}s",
                            track.published.queue.len()
                        )),
                    ));
                }
            }
            Err(e) => self.stop_github(track, &e, notes),
        }
        save(dir, track);
    }

    fn stop_github(&self, track: &mut Track, e: &GithubError, notes: &mut Vec<Note>) {
        let text = self.scrub(&e.to_string());
        track.published.github_error = Some(text.clone());
        track.published.queue.clear();
        notes.push((
            "github_error",
            format!("{text}; no more GitHub updates for this track (tracking goes on)"),
        ));
    }

    async fn deliver(
        &mut self,
        client: &Client,
        track: &mut Track,
        dir: &TrackDir,
        notes: &mut Vec<Note>,
    ) -> Result<(), GithubError> {
        if track.published.pr_number.is_none() {
            let (branch, base) = (
                track.published.branch.clone().unwrap_or_default(),
                track
                    .published
                    .base
                    .clone()
                    .unwrap_or_else(|| "main".into()),
            );
            let (title, body) = track
                .published
                .queue
                .iter()
                .rev()
                .find_map(|u| match u {
                    GithubUpdate::PrBody { title, body } => Some((title.clone(), body.clone())),
                    _ => None,
                })
                .unwrap_or_else(|| (format!("Results: {}", track.experiment), String::new()));
            let pr = client.ensure_pr(&branch, &base, &title, &body).await?;
            track.published.pr_number = Some(pr.number);
            track.published.pr_url = Some(pr.html_url.clone());
            save(dir, track);
            let _ = dir.append_event("pr", json!({"number": pr.number, "url": pr.html_url}));
            notes.push((
                "pr",
                format!("pull request #{}: {}", pr.number, pr.html_url),
            ));
        }
        let number = track.published.pr_number.unwrap_or_default();
        while let Some(update) = track.published.queue.first().cloned() {
            let delivered = match &update {
                GithubUpdate::PrBody { title, body } => {
                    // Read, merge this track's section, write: under the branch's lock, so
                    // two trackers of the experiment never overwrite each other's part.
                    let _lock = crate::git::find_repo_root(&track.root).and_then(|root| {
                        let branch = track.published.branch.clone()?;
                        crate::git::BranchLock::acquire(&root, &branch, Duration::from_secs(60))
                            .ok()
                    });
                    match client.get_pr(number).await {
                        Ok(pr) => {
                            let current = pr.body.unwrap_or_default();
                            let merged = report::text::merge_pr_body(&current, &track.id, body);
                            // The title is the first track's; later ones add sections.
                            let alone = merged.trim() == body.trim();
                            if merged == current && (!alone || pr.title == *title) {
                                Ok(())
                            } else {
                                client
                                    .update_pr(
                                        number,
                                        alone.then_some(title.as_str()),
                                        Some(&merged),
                                    )
                                    .await
                                    .map(|_| ())
                            }
                        }
                        Err(e) => Err(e),
                    }
                }
                GithubUpdate::Status { body } => client
                    .upsert_status_comment(number, &report::text::status_marker(&track.id), body)
                    .await
                    .map(|c| track.published.status_comment_id = Some(c.id)),
                GithubUpdate::Comment { milestone, body } => {
                    // Found by its hidden marker before posting: a tracker killed after posting,
                    // or a POST whose reply was lost, never posts it twice.
                    let marker = report::text::milestone_marker(&track.id, milestone);
                    client
                        .ensure_comment(number, &marker, body)
                        .await
                        .map(|_| track.published.milestones.push(milestone.clone()))
                }
            };
            match delivered {
                Ok(()) => {}
                // GitHub down or rate limiting: keep the queue, back off, retry later.
                Err(e) if e.is_transient() => return Err(e),
                // No access (or no repository): nothing later would get through either.
                Err(e) if stops_github(&e) => return Err(e),
                // This one update failed (a refused body, an unexpected reply): note it and go
                // on with the next, which may well get through.
                Err(e) => notes.push((
                    "github_update_failed",
                    self.scrub(&format!("{e}; this update is dropped, later ones go on")),
                )),
            }
            track.published.queue.remove(0);
            save(dir, track);
        }
        Ok(())
    }

    /// Result files (of every kind), the job's printed metrics, hyperparameters, metrics, the
    /// efficiency line and one plot per metric, for a track that succeeded.
    fn collect_results(&self, track: &Track, policy: &mut GuardedPolicy) -> ResultsSummary {
        let settings = policy.host().settings().clone();
        let mut summary = ResultsSummary::default();
        let spec = track
            .publish_opts
            .results
            .clone()
            .or(settings.results.clone());
        let since = track
            .published
            .launched_at
            .or_else(|| {
                chrono::DateTime::parse_from_rfc3339(&track.created_at)
                    .ok()
                    .map(|d| d.timestamp())
            })
            .map(|s| UNIX_EPOCH + Duration::from_secs(s.max(0) as u64))
            .unwrap_or(SystemTime::UNIX_EPOCH);
        // Results a backend fetched from elsewhere (a remote host, a run's artifacts) are read
        // where it put them; local jobs' results where they ran.
        let results_dir = track
            .current()
            .and_then(|a| a.results_dir.clone())
            .unwrap_or_else(|| track.cwd.clone());
        let limits = crate::results::DiscoverLimits::default();
        // A pipeline's steps run side by side in one folder: a step's result files are the ones
        // it names (`results =`), never whatever its neighbours wrote meanwhile.
        let found = if track.step_of.is_some() && spec.is_none() {
            Default::default()
        } else {
            match crate::results::discover_sources(spec.as_deref(), &results_dir, since, limits) {
                Ok(d) => d,
                Err(e) => {
                    summary.errors.push(format!("{e:#}"));
                    Default::default()
                }
            }
        };
        let mut collected = crate::results::collect_sources(&found.files);
        // What the job printed: for metrics no file has.
        // (a remote job's log is read from the copy fetched here)
        let log = track
            .current()
            .and_then(|a| crate::track::diagnosis::readable_logs(a).first().cloned());
        if let Some(raw) = log.as_deref().and_then(read_tail) {
            let from_log = policy.log_metrics(&raw);
            summary.from_log = crate::results::merge_log_metrics(&mut collected.results, from_log);
            if collected.links.is_empty() {
                let text = String::from_utf8_lossy(&raw);
                if let Some(url) = crate::results::trackers::wandb_run_url(&text) {
                    collected.links.push(url);
                }
            }
        }
        let results = &collected.results;
        summary.errors.extend(results.errors.iter().cloned());
        summary.files = results.files.clone();
        summary.skipped = found.skipped;
        summary.links = collected.links.clone();
        summary.hyperparams = Some(collected.hyperparams.clone()).filter(|h| !h.is_empty());
        let wanted = if track.publish_opts.metrics.is_empty() {
            settings.metrics.clone()
        } else {
            track.publish_opts.metrics.clone()
        };
        let has_numbers = !results.series.is_empty() || !results.finals.is_empty();
        if has_numbers {
            match crate::results::summarize(results, &wanted, &settings.metric_goals) {
                Ok(report) => {
                    summary.plots = self.draw_plots(track, results, &report);
                    summary.metrics = Some(report);
                }
                Err(e) => summary.errors.push(format!("{e:#}")),
            }
        } else if summary.errors.is_empty() {
            summary.errors.push(format!(
                "no results found in {} or the job's log (use --results PATH)",
                results_dir.display()
            ));
        }
        summary.efficiency = track
            .current()
            .and_then(|a| a.deciding_task())
            .map(|t| crate::results::efficiency(t).line)
            .filter(|l| !l.is_empty());
        summary
    }

    /// One SVG per reported metric with two points or more, drawn into `<track dir>/plots/`;
    /// returns (metric, where it goes: beside the doc on the results branch, or the track dir).
    fn draw_plots(
        &self,
        track: &Track,
        results: &crate::results::Results,
        report: &crate::results::MetricsReport,
    ) -> Vec<(String, PathBuf)> {
        let dir = TrackDir::new(&track.root, &track.id).dir.join("plots");
        let mut out = Vec::new();
        for m in &report.metrics {
            let Some(series) = results.series(&m.name).filter(|s| s.points.len() >= 2) else {
                continue;
            };
            let file = format!("{}.svg", plot_slug(&m.name));
            if out
                .iter()
                .any(|(_, p): &(String, PathBuf)| p.ends_with(&file))
            {
                continue;
            }
            let svg = crate::results::plot_svg(
                std::slice::from_ref(series),
                &format!("{}: {}", track.experiment, m.name),
            );
            if std::fs::create_dir_all(&dir)
                .and_then(|_| std::fs::write(dir.join(&file), svg))
                .is_err()
            {
                continue;
            }
            let path = if track.published.git {
                plot_dir(track.published.doc.as_deref(), &track.id).join(&file)
            } else {
                PathBuf::from("plots").join(&file)
            };
            out.push((m.name.clone(), path));
        }
        out
    }

    /// Everything the report hooks render from.
    pub fn report_ctx(&self, track: &Track, policy: &mut GuardedPolicy) -> ReportCtx {
        report_ctx(track, policy, self.secrets.clone())
    }
}

/// The report context of a track.
pub fn report_ctx(track: &Track, policy: &mut GuardedPolicy, secrets: Secrets) -> ReportCtx {
    let settings = policy.host().settings().clone();
    let status = match track.outcome {
        Some(Outcome::Succeeded) => TrackStatus::Completed,
        Some(Outcome::Failed) => TrackStatus::Failed,
        Some(Outcome::Cancelled) => TrackStatus::Cancelled,
        // A pipeline runs while any step does.
        None if !track.steps.is_empty() => {
            let running = track.steps.iter().any(|s| {
                s.current()
                    .and_then(|a| a.state())
                    .is_some_and(|st| st != JobState::Pending)
            });
            if running {
                TrackStatus::Running
            } else {
                TrackStatus::Pending
            }
        }
        None => match track.current().and_then(|a| a.state()) {
            Some(JobState::Pending) | None => TrackStatus::Pending,
            Some(_) => TrackStatus::Running,
        },
    };
    let (backend, command) = match &track.launch {
        Launch::Slurm { sbatch_args } => ("slurm", format!("sbatch {}", sbatch_args.join(" "))),
        Launch::Local { command } => ("local", command.join(" ")),
        Launch::AttachSlurm { job_id } => ("slurm", format!("trackit attach {job_id}")),
        Launch::AttachPid { pid } => ("local", format!("trackit attach pid:{pid}")),
        Launch::Pipeline { file, .. } => {
            ("pipeline", format!("trackit pipeline {}", file.display()))
        }
        Launch::Dispatch {
            workflow, inputs, ..
        } => (
            "workflow",
            format!(
                "trackit dispatch {workflow}{}",
                inputs
                    .iter()
                    .map(|(k, v)| format!(" -f {k}={v}"))
                    .collect::<String>()
            ),
        ),
    };
    let mut ctx = ReportCtx::new(&track.experiment, &track.id)
        .with_status(status)
        .with_backend(backend)
        .with_command(command)
        .with_max_attempts(track.max_attempts)
        .with_secrets(secrets);
    ctx.metrics_wanted = if track.publish_opts.metrics.is_empty() {
        settings.metrics.clone()
    } else {
        track.publish_opts.metrics.clone()
    };
    if !track.steps.is_empty() {
        step_rows(track, &mut ctx);
    } else {
        for (i, a) in track.attempts.iter().enumerate() {
            if a.withdrawn.is_some() {
                continue;
            }
            ctx.attempts.push(report_attempt(track, i));
            let Some(job) = &a.job else {
                continue;
            };
            let row = match a.deciding_task() {
                Some(t) => {
                    let mut r = JobRow::from_job(t, a.n);
                    r.job_id = job.id();
                    r
                }
                None => JobRow::pending(job.id(), a.n),
            };
            ctx.jobs.push(row);
        }
        task_rows(track, &mut ctx);
    }
    // `https://github.com/o/r`, once the PR exists.
    let repo_url = track
        .published
        .pr_url
        .as_deref()
        .and_then(|pr| pr.rsplit_once("/pull/"))
        .map(|(repo, _)| repo.to_string());
    ctx.code = track.published.code.clone().map(|mut c| {
        c.commit_url = repo_url
            .as_ref()
            .map(|r| format!("{r}/commit/{}", c.commit));
        c
    });
    ctx.baseline = track.published.baseline.clone();
    if let Some(r) = &track.published.results {
        let rel = |p: &Path| {
            p.strip_prefix(&track.cwd)
                .unwrap_or(p)
                .to_string_lossy()
                .into_owned()
        };
        ctx.hyperparams = r.hyperparams.clone().map(|mut h| {
            h.sources = h.sources.iter().map(|p| PathBuf::from(rel(p))).collect();
            h
        });
        ctx.sources = Some(report::SourcesReport {
            read: r.files.iter().map(|p| rel(p)).collect(),
            skipped: r
                .skipped
                .iter()
                .map(|s| report::SkippedFile {
                    path: rel(&s.path),
                    reason: s.reason.clone(),
                })
                .collect(),
            from_log: r.from_log.clone(),
            links: r.links.clone(),
            errors: r
                .errors
                .iter()
                .map(|e| e.replace(&format!("{}/", track.cwd.display()), ""))
                .collect(),
        });
        if let (Some(m), Some(b)) = (&r.metrics, &ctx.baseline) {
            ctx.comparison = report::compare(m, &b.record);
        }
        // Each metric's plot, linked by the commit that holds it: a branch dies with the PR.
        for (metric, path) in &r.plots {
            let url = match (&repo_url, &track.published.plot_commit) {
                (Some(repo), Some(sha)) => {
                    Some(format!("{repo}/raw/{sha}/{}", path.to_string_lossy()))
                }
                _ => None,
            };
            ctx.plots.push(PlotRef {
                path: path.to_string_lossy().into_owned(),
                title: Some(metric.clone()),
                url,
            });
        }
        ctx.metrics = r.metrics.clone();
        if let Some(plot) = &r.plot {
            // The PR body needs an absolute URL: the SVG as committed on the results branch.
            let url = match (&track.published.pr_url, &track.published.branch) {
                (Some(pr), Some(branch)) => pr
                    .rsplit_once("/pull/")
                    .map(|(repo, _)| format!("{repo}/raw/{branch}/{}", plot.to_string_lossy())),
                _ => None,
            };
            ctx.plots.push(PlotRef {
                path: plot.to_string_lossy().into_owned(),
                title: Some(format!("{} results", track.experiment)),
                url,
            });
        }
    }
    ctx.links = Links {
        pr_url: track.published.pr_url.clone(),
        pr_number: track.published.pr_number,
        branch: track.published.branch.clone(),
        commit: track.published.commit.clone(),
        doc: track
            .published
            .doc
            .as_ref()
            .map(|d| d.to_string_lossy().into_owned()),
        ..Links::default()
    };
    ctx.started_at = chrono::DateTime::parse_from_rfc3339(&track.created_at)
        .ok()
        .map(|d| d.with_timezone(&chrono::Utc));
    ctx.discussion = Some(policy.discussion(&ctx)).filter(|d| !d.is_empty());
    ctx
}

/// For the final report: the result files read, those passed over (and why), the metrics
/// taken from the log and the baseline. Empty before results are collected.
pub fn sources_lines(track: &Track) -> String {
    let Some(r) = &track.published.results else {
        return String::new();
    };
    let rel = |p: &Path| {
        p.strip_prefix(&track.cwd)
            .unwrap_or(p)
            .display()
            .to_string()
    };
    let mut out = String::new();
    if !r.files.is_empty() {
        let names: Vec<String> = r.files.iter().map(|p| rel(p)).collect();
        out.push_str(&format!("\nRead: {}\n", names.join(", ")));
    }
    if !r.from_log.is_empty() {
        out.push_str(&format!("From the job's log: {}\n", r.from_log.join(", ")));
    }
    for s in &r.skipped {
        out.push_str(&format!("Not read: {} ({})\n", rel(&s.path), s.reason));
    }
    for l in &r.links {
        out.push_str(&format!("W&B: {l}\n"));
    }
    if let Some(b) = &track.published.baseline {
        out.push_str(&format!("Compared with {}\n", b.label.replace('`', "")));
    }
    out
}

/// The last [`crate::results::MAX_LOG_BYTES`] of a log, or None when it cannot be read.
fn read_tail(path: &Path) -> Option<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    let max = crate::results::MAX_LOG_BYTES as u64;
    if len > max {
        f.seek(SeekFrom::Start(len - max)).ok()?;
    }
    let mut buf = Vec::new();
    f.read_to_end(&mut buf).ok()?;
    Some(buf)
}

/// A metric name as a file name: `val/mse` → `val-mse`.
fn plot_slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches(['-', '.']).to_string();
    if s.is_empty() {
        "metric".into()
    } else {
        s
    }
}

/// `docs/experiments/x.md` → `docs/experiments/x-<track>/` (the track's plots).
fn plot_dir(doc: Option<&Path>, track_id: &str) -> PathBuf {
    let doc = doc.unwrap_or(Path::new("docs/experiments/results.md"));
    let stem = doc
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "results".into());
    doc.with_file_name(format!("{stem}-{track_id}"))
}

/// A pipeline's table: one row per step (its newest job, its own metrics), and every step's
/// attempts for the failure report.
fn step_rows(track: &Track, ctx: &mut ReportCtx) {
    for step in &track.steps {
        let name = step
            .step_of
            .as_ref()
            .map(|s| s.name.clone())
            .unwrap_or_else(|| step.experiment.clone());
        let mut row = match step.current().filter(|a| a.withdrawn.is_none()) {
            Some(a) => {
                let id = a
                    .job
                    .as_ref()
                    .map(JobHandle::id)
                    .unwrap_or_else(|| "—".into());
                let mut r = match a.deciding_task() {
                    Some(t) => JobRow::from_job(t, a.n),
                    None => JobRow::pending(id.clone(), a.n),
                };
                r.job_id = id;
                r
            }
            None => JobRow::pending("—", 1),
        };
        if step.outcome == Some(Outcome::Cancelled) && step.current().is_none() {
            row.state = JobState::Cancelled;
        }
        row.name = Some(name.clone());
        row.attempt = step.attempts_used().max(1);
        row.metrics = step
            .published
            .results
            .as_ref()
            .and_then(|r| r.metrics.clone());
        ctx.jobs.push(row);
        for (k, a) in step.attempts.iter().enumerate() {
            if a.withdrawn.is_none() {
                let mut at = report_attempt(step, k);
                at.step = Some(name.clone());
                ctx.attempts.push(at);
            }
        }
    }
}

/// Most array tasks the table lists one by one; beyond, counts by state and the tasks that
/// did not complete.
const MAX_TASK_ROWS: usize = 20;

/// An array's table: one row per task, from the newest attempt that ran it (a relaunch of
/// the failed tasks keeps the others' rows).
fn task_rows(track: &Track, ctx: &mut ReportCtx) {
    let mut tasks: std::collections::BTreeMap<u64, (u32, crate::job::JobInfo)> =
        std::collections::BTreeMap::new();
    for a in track.attempts.iter().filter(|a| a.withdrawn.is_none()) {
        for t in &a.tasks {
            if let (_, Some(index)) = crate::slurm::split_array_id(&t.id) {
                if let Ok(index) = index.parse::<u64>() {
                    tasks.insert(index, (a.n, t.clone()));
                }
            }
        }
    }
    if tasks.len() < 2 {
        return;
    }
    let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for (_, t) in tasks.values() {
        let word = t
            .state
            .map(|s| s.to_string())
            .unwrap_or_else(|| "PENDING".into());
        *counts.entry(word).or_default() += 1;
    }
    let many = tasks.len() > MAX_TASK_ROWS;
    let last_metrics = ctx.jobs.last().and_then(|j| j.metrics.clone());
    ctx.jobs.clear();
    for (index, (n, t)) in &tasks {
        if many && t.state.is_some_and(|s| s.is_success()) {
            continue;
        }
        let mut r = JobRow::from_job(t, *n);
        r.name = Some(format!("task {index}"));
        ctx.jobs.push(r);
    }
    if let Some(last) = ctx.jobs.last_mut() {
        last.metrics = last.metrics.take().or(last_metrics);
    }
    if many {
        ctx.task_counts = counts.into_iter().collect();
    }
}

/// Attempt `i` for the failure report; its edits are the ones applied before the next one.
fn report_attempt(track: &Track, i: usize) -> report::Attempt {
    let a = &track.attempts[i];
    let id = a
        .job
        .as_ref()
        .map(JobHandle::id)
        .unwrap_or_else(|| "-".into());
    let mut out = match a.deciding_task() {
        Some(t) => report::Attempt::ended(a.n, t, a.diagnosis.as_ref()),
        None => {
            let mut r = report::Attempt::new(a.n, id.clone());
            r.diagnosis = a
                .diagnosis
                .as_ref()
                .map(report::model::AttemptDiagnosis::from_diagnosis);
            r
        }
    };
    out.job_id = id;
    out.state = a.state();
    if let Some(next) = track.attempts.get(i + 1) {
        out.edits = next.edits.clone();
    }
    out
}

/// An error after which no GitHub update of this track can succeed: no access, no repository,
/// no token.
fn stops_github(e: &GithubError) -> bool {
    matches!(e, GithubError::Config(_)) || matches!(e.status(), Some(401 | 403 | 404))
}

/// What a publish describes; a change of it triggers one.
fn state_key(track: &Track) -> String {
    let a = track.current();
    // A pipeline changes when any of its steps does.
    let steps: String = track
        .steps
        .iter()
        .map(state_key)
        .collect::<Vec<_>>()
        .join(";");
    format!(
        "{:?}|{}|{}|{:?}|{}|{steps}",
        track.outcome,
        a.map(|a| a.n).unwrap_or(0),
        a.and_then(|a| a.job.as_ref())
            .map(JobHandle::id)
            .unwrap_or_default(),
        a.and_then(|a| a.state()),
        a.is_some_and(|a| a.finished),
    )
}

fn remote_url(root: &Path, name: &str) -> Option<String> {
    let repo = git2::Repository::open(root).ok()?;
    let remote = repo.find_remote(name).ok()?;
    remote.url().ok().map(str::to_string)
}

/// The remote's default branch (`refs/remotes/<remote>/HEAD`), for a detached HEAD.
fn remote_default_branch(root: &Path, remote: &str) -> Option<String> {
    let repo = git2::Repository::open(root).ok()?;
    let head = repo
        .find_reference(&format!("refs/remotes/{remote}/HEAD"))
        .ok()?;
    let target = head.symbolic_target().ok()??.to_string();
    target
        .strip_prefix(&format!("refs/remotes/{remote}/"))
        .map(str::to_string)
}

fn save(dir: &TrackDir, track: &Track) {
    if let Err(e) = dir.save(track) {
        tracing::warn!(track = %track.id, "cannot save the track state: {e:#}");
    }
}
