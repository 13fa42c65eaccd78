//! The fix hook: `fixers[diagnosis.kind](ctx)` returns edits as data; Rust enforces caps and
//! history and applies them (see [`crate::edits`]).

use super::api::slurm::SlurmClient;
use super::{GuardedPolicy, Host, PolicyError};
use crate::edits::{self, Fix, FixCtx, FixPlan, JobSpec};
use crate::slurm::Slurm;
use mlua::{Table, Value};
use std::path::Path;

impl Host {
    /// Calls the policy's fixer for the diagnosis' kind. `None` when there is no fixer (or it is
    /// `false`) or it returned nil. The result is decoded strictly: unknown keys or ops fail.
    pub fn fix(&self, ctx: &FixCtx) -> Result<Option<Fix>, PolicyError> {
        let kind = &ctx.diagnosis.kind;
        let path = format!("fixers.{kind}");
        if let Ok(Value::Table(fixers)) = self.policy.get::<Value>("fixers") {
            if matches!(
                fixers.get::<Value>(kind.as_str()),
                Ok(Value::Boolean(false))
            ) {
                return Ok(None);
            }
        }
        let Some(f) = self.hook(&path)? else {
            return Ok(None);
        };
        // The track's repository (trackit's, not the policy's, say): its files may be read.
        if let Some(root) = &ctx.repo_root {
            self.allow_reads_below(Path::new(root));
        }
        self.call_hook(&path, &f, ctx)
    }

    /// The fixer's edits with caps and history enforced, applied to `spec`. Caps come from
    /// `ctx.settings` (the policy in charge of the track, even when another one's fixer ran).
    /// An edit that cannot be applied (unknown option, path outside the repository) is this
    /// policy's error.
    pub fn plan_fix(
        &self,
        ctx: &FixCtx,
        spec: &JobSpec,
        repo_root: &Path,
    ) -> Result<FixPlan, PolicyError> {
        let fix = self.fix(ctx)?;
        edits::plan(
            fix,
            spec,
            &ctx.settings,
            &ctx.history,
            repo_root,
            &edits::reason_of(&ctx.diagnosis),
        )
        .map_err(|e| {
            PolicyError::new(
                &self.name,
                &format!("fixers.{}", ctx.diagnosis.kind),
                format!("returned an edit trackit cannot apply: {e}"),
            )
        })
    }

    /// The SLURM client `trackit.slurm.*` uses (default: the commands on `PATH`).
    pub fn set_slurm(&self, slurm: Slurm) {
        self.lua.set_app_data(SlurmClient(slurm));
    }

    /// Whether the policy has a fixer for `kind`.
    pub fn has_fixer(&self, kind: &str) -> bool {
        let fixers: Option<Table> = self.policy.get("fixers").ok();
        fixers
            .and_then(|t| t.get::<Value>(kind).ok())
            .is_some_and(|v| matches!(v, Value::Function(_)))
    }
}

impl GuardedPolicy {
    /// The policy's fix, or the built-in fixers' when the policy's fixer fails (the error is
    /// kept, as with [`GuardedPolicy::diagnose`]).
    pub fn fix(&mut self, ctx: &FixCtx) -> Option<Fix> {
        if let Some(host) = &self.primary {
            match host.fix(ctx) {
                Ok(fix) => return fix,
                Err(e) => {
                    tracing::warn!("{e}; the built-in fixers decide instead");
                    self.errors.push(e);
                }
            }
        }
        match self.builtin().fix(ctx) {
            Ok(fix) => fix,
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    /// Like [`Host::plan_fix`], falling back to the built-in fixers when the policy's fixer
    /// fails or returns an edit that cannot be applied. Never fails: with no usable fix the
    /// plan is empty ("nothing left to try").
    pub fn plan_fix(&mut self, ctx: &FixCtx, spec: &JobSpec, repo_root: &Path) -> FixPlan {
        if let Some(host) = &self.primary {
            match host.plan_fix(ctx, spec, repo_root) {
                Ok(plan) => return plan,
                Err(e) => {
                    tracing::warn!("{e}; the built-in fixers decide instead");
                    self.errors.push(e);
                }
            }
        }
        match self.builtin().plan_fix(ctx, spec, repo_root) {
            Ok(plan) => plan,
            Err(e) => {
                self.errors.push(e);
                FixPlan::none(spec)
            }
        }
    }
}
