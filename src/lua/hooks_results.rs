//! The results hooks: `parse_metrics(line)` reads metrics out of one log line, `discussion(ctx)`
//! writes the Discussion section. Both return data (a table of numbers, a text) that is checked
//! here; a failing hook falls back to trackit's own reading or the built-in text.

use super::{GuardedPolicy, Host, PolicyError};
use crate::report::ReportCtx;
use crate::results::{line_metrics_from_map, LineMetrics, Results};
use mlua::{Function, Table};
use std::collections::BTreeMap;

impl Host {
    /// `parse_metrics(line)`: `{ name = number, ..., step = n, epoch = x }` or nil. Values that
    /// are not numbers are refused (an error naming the hook).
    pub fn parse_metrics(
        &self,
        f: &Function,
        line: &str,
    ) -> Result<Option<LineMetrics>, PolicyError> {
        let out: Option<BTreeMap<String, f64>> = self.call_hook("parse_metrics", f, &line)?;
        Ok(out.and_then(line_metrics_from_map))
    }

    /// The Discussion section's markdown: the policy's `discussion(ctx)`, else the built-in one.
    pub fn discussion(&self, ctx: &ReportCtx) -> Result<String, PolicyError> {
        let f = match self.hook("discussion")? {
            Some(f) => f,
            None => {
                let lerr = |e: mlua::Error| PolicyError::from_lua(self.name(), "discussion", &e);
                self.budget.reset();
                let require: Function = self.lua.globals().get("require").map_err(lerr)?;
                let module: Table = require.call("trackit.report").map_err(lerr)?;
                module.get::<Function>("discussion").map_err(lerr)?
            }
        };
        let out: Option<String> = self.call_hook("discussion", &f, ctx)?;
        let out = out.map(|t| t.trim().to_string()).unwrap_or_default();
        Ok(ctx.secrets.scrub(&out))
    }
}

impl GuardedPolicy {
    /// The metrics of a job's log: the policy's `parse_metrics` on every line when it has one,
    /// else trackit's own reading. A hook that fails stops being asked: the log is read again
    /// the default way, and the error is recorded.
    pub fn log_metrics(&mut self, raw: &[u8]) -> Results {
        let hook = self
            .primary
            .as_ref()
            .and_then(|h| h.hook("parse_metrics").ok().flatten());
        let (Some(f), Some(host)) = (hook, self.primary.as_ref()) else {
            return crate::results::log_metrics(raw);
        };
        let mut failed: Option<PolicyError> = None;
        let (results, _) = crate::results::collect_log(raw, |line| {
            if failed.is_some() {
                return None;
            }
            match host.parse_metrics(&f, line) {
                Ok(m) => m,
                Err(e) => {
                    failed = Some(e);
                    None
                }
            }
        });
        match failed {
            None => results,
            Some(e) => {
                tracing::warn!("{e}; reading the log's metrics the default way");
                self.errors.push(e);
                crate::results::log_metrics(raw)
            }
        }
    }

    /// [`Host::discussion`], never failing: the built-in text when the policy's hook fails.
    pub fn discussion(&mut self, ctx: &ReportCtx) -> String {
        if let Some(host) = &self.primary {
            match host.discussion(ctx) {
                Ok(v) => return v,
                Err(e) => {
                    tracing::warn!("{e}; the built-in discussion is used");
                    self.errors.push(e);
                }
            }
        }
        match self.builtin().discussion(ctx) {
            Ok(v) => v,
            Err(e) => {
                self.errors.push(e);
                String::new()
            }
        }
    }
}
