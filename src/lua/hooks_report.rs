//! The report hooks: `format_table`, `render_pr`, `commit_message` and `find_doc`.
//!
//! A policy without one of them gets the built-in renderer from `trackit.report` (the default
//! policy already sets them). What comes back is checked here: text where text is expected,
//! the PR's hidden marker and the commit trailer added if the hook left them out, tokens
//! scrubbed. [`GuardedPolicy`] falls back to the built-in policy, then to plain Rust text, so a
//! broken renderer never stops a report.

use super::{GuardedPolicy, Host, PolicyError};
use crate::report::text::{
    ensure_pr_marker, ensure_record, ensure_trailer, fallback_commit_message, fallback_pr,
    fallback_table,
};
use crate::report::{FindDocCtx, PrText, ReportCtx};
use mlua::{Function, Table};
use serde::{Deserialize, Serialize};

/// What `commit_message(ctx)` sees: the report, plus what the commit holds.
#[derive(Serialize)]
struct CommitCtx<'a> {
    #[serde(flatten)]
    report: &'a ReportCtx,
    what: &'a str,
}

/// A `render_pr` hook may return the whole text or just the body.
#[derive(Deserialize)]
#[serde(untagged)]
enum PrReturn {
    Full { title: Option<String>, body: String },
    Body(String),
}

impl Host {
    /// The policy's hook, else the built-in renderer of the same name.
    fn report_hook(&self, name: &str) -> Result<Function, PolicyError> {
        if let Some(f) = self.hook(name)? {
            return Ok(f);
        }
        let lerr = |e: mlua::Error| PolicyError::from_lua(&self.name, name, &e);
        self.budget.reset();
        let require: Function = self.lua.globals().get("require").map_err(lerr)?;
        let module: Table = require.call("trackit.report").map_err(lerr)?;
        module.get::<Function>(name).map_err(lerr)
    }

    /// The results section's markdown (the results table, or the failure report).
    pub fn format_table(&self, ctx: &ReportCtx) -> Result<String, PolicyError> {
        let f = self.report_hook("format_table")?;
        let out: Option<String> = self.call_hook("format_table", &f, ctx)?;
        let out = out.filter(|t| !t.trim().is_empty()).ok_or_else(|| {
            PolicyError::new(
                &self.name,
                "format_table",
                "returned nothing; the results table (markdown text) was expected",
            )
        })?;
        Ok(ctx.secrets.scrub(&out))
    }

    /// The pull request's title and body; the body always carries the hidden marker.
    pub fn render_pr(&self, ctx: &ReportCtx) -> Result<PrText, PolicyError> {
        let f = self.report_hook("render_pr")?;
        let out: Option<PrReturn> = self.call_hook("render_pr", &f, ctx)?;
        let (title, body) =
            match out {
                Some(PrReturn::Full { title, body }) => (title, body),
                Some(PrReturn::Body(body)) => (None, body),
                None => return Err(PolicyError::new(
                    &self.name,
                    "render_pr",
                    "returned nothing; { title = ..., body = ... } or the body text was expected",
                )),
            };
        let title = title
            .map(|t| t.lines().next().unwrap_or("").trim().to_string())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| format!("Results: {}", ctx.experiment));
        Ok(PrText {
            title: ctx.secrets.scrub(&title),
            body: ctx
                .secrets
                .scrub(&ensure_record(ensure_pr_marker(body, &ctx.track_id), ctx)),
        })
    }

    /// A commit message for the results branch; `what` says what the commit holds (`PENDING
    /// table`, `results table`, `failure report`; empty: derived from the status). It always
    /// ends with the `Trackit-Track: <id>` trailer.
    pub fn commit_message(&self, ctx: &ReportCtx, what: &str) -> Result<String, PolicyError> {
        let f = self.report_hook("commit_message")?;
        let cctx = CommitCtx { report: ctx, what };
        let out: Option<String> = self.call_hook("commit_message", &f, &cctx)?;
        let out = out
            .filter(|m| m.lines().next().is_some_and(|l| !l.trim().is_empty()))
            .ok_or_else(|| {
                PolicyError::new(
                    &self.name,
                    "commit_message",
                    "returned no subject line; a commit message was expected",
                )
            })?;
        Ok(ctx.secrets.scrub(&ensure_trailer(out, &ctx.track_id)))
    }

    /// The experiment doc the policy chooses (repository-relative), or None to let trackit
    /// search `docs/**/<experiment>*.md`. A policy without the hook says None.
    pub fn find_doc(&self, ctx: &FindDocCtx) -> Result<Option<String>, PolicyError> {
        let Some(f) = self.hook("find_doc")? else {
            return Ok(None);
        };
        let out: Option<String> = self.call_hook("find_doc", &f, ctx)?;
        Ok(out.filter(|p| !p.trim().is_empty()))
    }
}

impl GuardedPolicy {
    /// Runs `f` on the policy, then on the built-in policy if it fails, recording errors;
    /// None when both fail.
    fn report_with<T>(&mut self, f: impl Fn(&Host) -> Result<T, PolicyError>) -> Option<T> {
        if let Some(host) = &self.primary {
            match f(host) {
                Ok(v) => return Some(v),
                Err(e) => {
                    tracing::warn!("{e}; the built-in default policy renders instead");
                    self.errors.push(e);
                }
            }
        }
        match f(self.builtin()) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::error!("{e}; using plain text");
                self.errors.push(e);
                None
            }
        }
    }

    /// [`Host::format_table`], never failing.
    pub fn format_table(&mut self, ctx: &ReportCtx) -> String {
        self.report_with(|h| h.format_table(ctx))
            .unwrap_or_else(|| fallback_table(ctx))
    }

    /// [`Host::render_pr`], never failing.
    pub fn render_pr(&mut self, ctx: &ReportCtx) -> PrText {
        self.report_with(|h| h.render_pr(ctx))
            .unwrap_or_else(|| fallback_pr(ctx))
    }

    /// [`Host::commit_message`], never failing.
    pub fn commit_message(&mut self, ctx: &ReportCtx, what: &str) -> String {
        self.report_with(|h| h.commit_message(ctx, what))
            .unwrap_or_else(|| fallback_commit_message(ctx, what))
    }

    /// [`Host::find_doc`]: a failing hook counts as no answer.
    pub fn find_doc(&mut self, ctx: &FindDocCtx) -> Option<String> {
        let host = self.primary.as_ref()?;
        match host.find_doc(ctx) {
            Ok(answer) => answer,
            Err(e) => {
                tracing::warn!("{e}; searching docs/ instead");
                self.errors.push(e);
                None
            }
        }
    }
}

impl GuardedPolicy {
    /// The experiment doc for `ctx`: `--doc PATH`, else the policy's `find_doc` hook, else
    /// the first `docs/**/<experiment>*.md`, else a new `docs/experiments/<experiment>.md`.
    pub fn choose_doc(
        &mut self,
        root: &std::path::Path,
        ctx: &ReportCtx,
        explicit: Option<&std::path::Path>,
    ) -> anyhow::Result<crate::report::DocChoice> {
        let default = crate::report::doc::default_doc_path(&ctx.experiment);
        crate::report::choose_doc(root, &ctx.experiment, explicit, |candidates| {
            let fctx = FindDocCtx {
                experiment: ctx.experiment.clone(),
                track_id: ctx.track_id.clone(),
                candidates: candidates
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect(),
                default: default.to_string_lossy().into_owned(),
            };
            self.find_doc(&fctx)
        })
    }
}
