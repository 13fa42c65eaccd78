//! The Lua host: loads a policy in a sandbox and exposes its hooks as typed Rust calls.
//! This is the only module that imports mlua.

pub mod api;
pub mod error;
mod hooks_fix;
mod hooks_report;
mod hooks_results;
pub mod limits;
pub mod pattern;
pub mod pipeline;
pub mod policy;
pub mod scope;
pub mod trust;

pub use error::PolicyError;
pub use policy::{resolve, PolicySource};

use crate::diagnose::{Diagnosis, Evidence, Explanation, Input, RuleSet, RuleSpec};
use crate::job::JobInfo;
use crate::settings::Settings;
use limits::Budget;
use mlua::{Function, Lua, LuaSerdeExt, Table, Value};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The keys a policy table may have. Anything else is a typo and fails the load.
pub const POLICY_KEYS: &[&str] = &[
    "name",
    "description",
    "settings",
    "rules",
    "diagnose",
    "fixers",
    "format_table",
    "render_pr",
    "find_doc",
    "commit_message",
    "parse_metrics",
    "discussion",
];

/// A loaded policy.
pub struct Host {
    lua: Lua,
    budget: Budget,
    policy: Table,
    source: PolicySource,
    name: String,
    source_text: Option<String>,
    settings: Settings,
    rules: RuleSet,
    /// Where `trackit.fs` and `trackit.log.tail` may read.
    scope: scope::SharedScope,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("policy", &self.name)
            .field("rules", &self.rules.len())
            .finish()
    }
}

impl Host {
    /// Loads and validates a policy.
    pub fn load(source: &PolicySource) -> Result<Host, PolicyError> {
        let source = &source.normalized();
        if let PolicySource::Untrusted { why, .. } = source {
            warn_once(why.clone());
            return Host::load(&PolicySource::Builtin).map(|mut h| {
                h.source = source.clone();
                h
            });
        }
        let name = source.display_name();
        let lerr = |e: mlua::Error| PolicyError::from_lua(&name, "load", &e);
        let (lua, budget) = limits::sandboxed_lua(limits::Limits::default()).map_err(lerr)?;
        let policy_dir = match source {
            PolicySource::File(p) => p.parent().map(Path::to_path_buf),
            PolicySource::Builtin | PolicySource::Shipped(_) | PolicySource::Untrusted { .. } => {
                None
            }
        };
        // Reads: the repository the policy belongs to and the one trackit runs in (the track's
        // folder is inside it); a hook's job logs are added per call.
        let scope = scope::SharedScope::default();
        {
            let mut sc = scope.lock();
            if let Some(root) = policy_dir.as_deref().and_then(policy::repo_root) {
                sc.allow_root(&root);
            }
            if let Ok(cwd) = std::env::current_dir() {
                sc.allow_root(&policy::repo_root(&cwd).unwrap_or(cwd));
            }
        }
        lua.set_app_data(scope.clone());
        install_searcher(&lua, policy_dir).map_err(lerr)?;
        api::register_all(&lua, budget.clone(), &name).map_err(lerr)?;
        budget.reset();
        let (chunk, src, text) = match source {
            PolicySource::Builtin | PolicySource::Untrusted { .. } => {
                let (chunk, src) =
                    policy::embedded("trackit.default").expect("embedded default policy");
                (chunk.to_string(), src.to_string(), None)
            }
            PolicySource::Shipped(shipped) => {
                let (_, chunk, src) = policy::shipped(shipped).expect("a shipped policy");
                (chunk.to_string(), src.to_string(), Some(src.to_string()))
            }
            PolicySource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    PolicyError::new(&name, "load", format!("cannot read policy file: {e}"))
                })?;
                (policy::chunk_name(path), text.clone(), Some(text))
            }
        };
        lua.load("require('trackit.init')")
            .set_name("=trackit/boot")
            .exec()
            .map_err(lerr)?;
        budget.reset();
        let value: Value = lua
            .load(src.as_str())
            .set_name(chunk.as_str())
            .eval()
            .map_err(lerr)?;
        let Value::Table(policy) = value else {
            let loc = text
                .as_ref()
                .map(|t| format!("{}:{}", name, t.lines().count().max(1)));
            return Err(PolicyError::new(
                &name,
                "load",
                format!(
                    "a policy must return a table of hooks and settings, but it returned {}",
                    value.type_name()
                ),
            )
            .with_location(loc));
        };
        let mut host = Host {
            lua,
            budget,
            policy,
            source: source.clone(),
            name,
            source_text: text,
            settings: Settings::default(),
            rules: RuleSet::compile(Vec::new(), Vec::new()).expect("empty rule set"),
            scope,
        };
        host.check_keys()?;
        host.settings = host.decode_settings()?;
        limits::apply_limits(&host.lua, &host.budget, host.settings.limits)
            .map_err(|e| PolicyError::from_lua(&host.name, "settings", &e))?;
        host.rules = host.compile_rules()?;
        for w in host.settings_warnings() {
            warn_once(format!("policy {}: {w}", host.name));
        }
        Ok(host)
    }

    /// The built-in default policy. It is tested, so failing to load it is a bug.
    pub fn builtin() -> Host {
        Host::load(&PolicySource::Builtin).expect("the built-in default policy loads")
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn source(&self) -> &PolicySource {
        &self.source
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Every function reachable from the `trackit` table, as `trackit.ns.name`, sorted.
    pub fn api_functions(&self) -> Vec<String> {
        fn walk(t: &Table, prefix: &str, depth: usize, out: &mut Vec<String>) {
            for (k, v) in t.pairs::<String, Value>().flatten() {
                let name = format!("{prefix}.{k}");
                match v {
                    Value::Function(_) => out.push(name),
                    Value::Table(sub) if depth < 3 => walk(&sub, &name, depth + 1, out),
                    _ => {}
                }
            }
        }
        let mut out = Vec::new();
        if let Ok(t) = self.lua.globals().get::<Table>("trackit") {
            walk(&t, "trackit", 0, &mut out);
        }
        out.sort();
        out
    }

    /// Memory the Lua state holds, in bytes.
    pub fn used_memory(&self) -> usize {
        self.lua.used_memory()
    }

    fn check_keys(&self) -> Result<(), PolicyError> {
        for pair in self.policy.pairs::<Value, Value>() {
            let (k, _) = pair.map_err(|e| PolicyError::from_lua(&self.name, "load", &e))?;
            let key = k.to_string().unwrap_or_default();
            if !POLICY_KEYS.contains(&key.as_str()) {
                return Err(PolicyError::new(
                    &self.name,
                    "load",
                    format!(
                        "unknown policy key '{key}' (known keys: {})",
                        POLICY_KEYS.join(", ")
                    ),
                )
                .with_location(self.locate(&key)));
            }
        }
        Ok(())
    }

    fn locate(&self, key: &str) -> Option<String> {
        let text = self.source_text.as_ref()?;
        policy::line_of_key(text, key).map(|line| format!("{}:{line}", self.name))
    }

    fn decode_settings(&self) -> Result<Settings, PolicyError> {
        let value: Value = self
            .policy
            .get("settings")
            .map_err(|e| PolicyError::from_lua(&self.name, "settings", &e))?;
        if value.is_nil() {
            return Ok(Settings::default());
        }
        let settings: Settings = self.lua.from_value(value).map_err(|e| {
            PolicyError::new(
                &self.name,
                "settings",
                format!("invalid settings: {}", with_suggestion(&e.to_string())),
            )
            .with_location(self.locate("settings"))
        })?;
        for key in settings.extra.keys() {
            tracing::debug!(policy = %self.name, "settings.{key} is not a trackit setting; kept for the policy's own use");
        }
        if let Err((key, why)) = settings.poll.check() {
            return Err(PolicyError::new(&self.name, "settings", why)
                .with_location(self.locate(key).or_else(|| self.locate("poll"))));
        }
        let held = settings.clone().with_ceilings();
        if held != settings {
            tracing::warn!(policy = %self.name, "settings above trackit's hard ceilings were lowered (limits, max_attempts, log_window_kib, max_line)");
        }
        Ok(held)
    }

    /// Settings the policy sets that are probably mistakes: a misspelled trackit setting, or a
    /// key of its own that no Lua code it loads ever reads.
    pub fn settings_warnings(&self) -> Vec<crate::settings::SettingsWarning> {
        let mut sources: Vec<String> = Vec::new();
        sources.extend(self.source_text.iter().cloned());
        if let Some(loaded) = self.lua.app_data_ref::<LoadedSources>() {
            sources.extend(loaded.0.lock().map(|v| v.clone()).unwrap_or_default());
        }
        let mut all: Vec<&str> = sources.iter().map(String::as_str).collect();
        all.extend(policy::EMBEDDED.iter().map(|(_, _, src)| *src));
        all.extend(policy::SHIPPED.iter().map(|(_, _, src)| *src));
        self.settings.warnings(&all)
    }

    fn compile_rules(&self) -> Result<RuleSet, PolicyError> {
        let err = |msg: String, key: Option<&str>| {
            PolicyError::new(&self.name, "rules", msg)
                .with_location(key.and_then(|k| self.locate(k)))
        };
        let rules: Value = self
            .policy
            .get("rules")
            .map_err(|e| PolicyError::from_lua(&self.name, "rules", &e))?;
        let mut specs = Vec::new();
        match rules {
            Value::Nil => {}
            Value::Table(t) => {
                for pair in t.pairs::<Value, Value>() {
                    let (k, v) =
                        pair.map_err(|e| PolicyError::from_lua(&self.name, "rules", &e))?;
                    let Value::String(key) = k else {
                        return Err(err(
                            "rules must be a table keyed by rule name (rules = { my_rule = { kind = ..., patterns = {...} } })".into(),
                            Some("rules"),
                        ));
                    };
                    let key = key.to_str().map(|s| s.to_string()).unwrap_or_default();
                    match v {
                        Value::Boolean(false) | Value::Nil => continue, // removed by an extending policy
                        Value::Table(_) => {}
                        other => {
                            return Err(err(
                                format!("rule '{key}' must be a table, not {}", other.type_name()),
                                Some(&key),
                            ))
                        }
                    }
                    let mut spec: RuleSpec = self
                        .lua
                        .from_value(v)
                        .map_err(|e| err(format!("rule '{key}': {e}"), Some(&key)))?;
                    spec.name = key;
                    specs.push(spec);
                }
            }
            other => {
                return Err(err(
                    format!("rules must be a table, not {}", other.type_name()),
                    Some("rules"),
                ))
            }
        }
        specs.sort_by(|a, b| a.name.cmp(&b.name));
        RuleSet::compile(specs, self.settings.fixable_kinds.clone())
            .and_then(|rules| {
                rules
                    .with_contest_margin(self.settings.contest_margin)
                    .with_ignored_blocks(&self.settings.ignored_blocks)
            })
            // `ignored_blocks[2]` is found in the source by its key.
            .map_err(|e| err(e.to_string(), e.rule.split('[').next()))
    }

    /// A hook function by dotted path (`diagnose`, `fixers.oom`), if the policy has one.
    pub fn hook(&self, path: &str) -> Result<Option<Function>, PolicyError> {
        let mut table = self.policy.clone();
        let mut parts = path.split('.').peekable();
        while let Some(part) = parts.next() {
            let v: Value = table
                .get(part)
                .map_err(|e| PolicyError::from_lua(&self.name, path, &e))?;
            match (v, parts.peek().is_some()) {
                (Value::Nil, _) => return Ok(None),
                (Value::Table(t), true) => table = t,
                (Value::Function(f), false) => return Ok(Some(f)),
                (other, _) => {
                    return Err(PolicyError::new(
                        &self.name,
                        path,
                        format!("'{path}' must be a function, not {}", other.type_name()),
                    )
                    .with_location(self.locate(part)))
                }
            }
        }
        Ok(None)
    }

    /// Calls a hook with `ctx` under the sandbox limits and decodes what it returns.
    /// `Ok(None)` when the hook returned nil.
    pub fn call_hook<C: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        f: &Function,
        ctx: &C,
    ) -> Result<Option<R>, PolicyError> {
        let ctx = self
            .lua
            .to_value_with(ctx, api::to_lua_options())
            .map_err(|e| PolicyError::from_lua(&self.name, path, &e))?;
        self.budget.reset();
        let out = f.call::<Value>(ctx);
        let out = match out {
            Ok(v) => v,
            Err(e) => {
                // A memory bomb leaves garbage behind; reclaim it so the next hook can run.
                let _ = self.lua.gc_collect();
                return Err(PolicyError::from_lua(&self.name, path, &e));
            }
        };
        if out.is_nil() {
            return Ok(None);
        }
        self.lua.from_value::<R>(out).map(Some).map_err(|e| {
            PolicyError::new(
                &self.name,
                path,
                format!(
                    "returned an invalid value: {}",
                    with_suggestion(&e.to_string())
                ),
            )
        })
    }

    /// Lets policy code read below `root` too (a track's folder outside the repository, say).
    pub fn allow_reads_below(&self, root: &Path) {
        self.scope.lock().allow_root(root);
    }

    /// Rules, then the policy's `diagnose(ctx)` hook, which may override the result.
    pub fn diagnose(&self, input: &Input) -> Result<Diagnosis, PolicyError> {
        let result = self.rules.diagnose(input);
        self.apply_hook(result, input)
    }

    /// Like [`Host::diagnose`], with how the rules reached their verdict and whether the
    /// policy's `diagnose` hook changed it.
    pub fn explain(&self, input: &Input) -> Result<(Diagnosis, Explanation), PolicyError> {
        let (result, mut explanation) = self.rules.explain(input);
        let rules_kind = result.kind.clone();
        let d = self.apply_hook(result, input)?;
        if d.kind != rules_kind {
            explanation.verdict.push_str(&format!(
                "; then the policy's diagnose hook changed {rules_kind} to {}{}",
                d.kind,
                d.rule
                    .as_deref()
                    .map(|r| format!(" (rule {r})"))
                    .unwrap_or_default()
            ));
        }
        Ok((d, explanation))
    }

    fn apply_hook(&self, result: Diagnosis, input: &Input) -> Result<Diagnosis, PolicyError> {
        let Some(hook) = self.hook("diagnose")? else {
            return Ok(result);
        };
        // The job's own log files may be read wherever they are.
        let logs = input.logs.iter().map(|l| l.path.clone()).chain(
            input
                .job
                .iter()
                .flat_map(|j| [j.stdout_path.clone(), j.stderr_path.clone()])
                .flatten()
                .map(PathBuf::from),
        );
        self.scope.lock().set_files(logs);
        let ctx = DiagnoseCtx::new(&result, input);
        let decided: Option<DiagnosisOverride> = self.call_hook("diagnose", &hook, &ctx)?;
        Ok(match decided {
            None => result,
            Some(o) => o.apply(result, &self.rules),
        })
    }
}

/// A warning printed once per process, however often the policy is loaded.
fn warn_once(message: String) {
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if !seen.contains(&message) {
        tracing::warn!("{message}");
        seen.push(message);
    }
}

/// The Lua files a policy `require`d from beside it, for the settings check.
struct LoadedSources(std::sync::Mutex<Vec<String>>);

/// serde's "unknown field `frist_s`, expected one of `first_s`, ..." plus "did you mean".
fn with_suggestion(message: &str) -> String {
    let Some((key, known)) = crate::settings::unknown_field(message) else {
        return message.to_string();
    };
    match crate::settings::did_you_mean(&key, known.iter().map(String::as_str)) {
        Some(best) => format!("{message}; did you mean `{best}`?"),
        None => message.to_string(),
    }
}

/// Looks up `require`d modules: the embedded library first, then Lua files beside the policy.
pub(crate) fn install_searcher(lua: &Lua, policy_dir: Option<PathBuf>) -> mlua::Result<()> {
    lua.set_app_data(LoadedSources(std::sync::Mutex::new(Vec::new())));
    let package: Table = lua.globals().get("package")?;
    let searchers: Table = package.get("searchers")?;
    let preload: Function = searchers.get(1)?;
    let searcher = lua.create_function(move |lua, name: String| {
        if let Some((chunk, src)) = policy::embedded(&name) {
            let f = lua.load(src).set_name(chunk).into_function()?;
            return Ok((Value::Function(f), Value::Nil));
        }
        if let Some(dir) = &policy_dir {
            if trust::module_allowed(&name) {
                let path = dir.join(format!("{}.lua", name.replace('.', "/")));
                if let Ok(src) = std::fs::read_to_string(&path) {
                    if let Some(loaded) = lua.app_data_ref::<LoadedSources>() {
                        if let Ok(mut v) = loaded.0.lock() {
                            v.push(src.clone());
                        }
                    }
                    let f = lua
                        .load(src)
                        .set_name(policy::chunk_name(&path))
                        .into_function()?;
                    return Ok((Value::Function(f), Value::Nil));
                }
            }
        }
        let msg = format!(
            "\n\tno embedded module 'trackit: {name}' and no '{name}.lua' beside the policy"
        );
        Ok((Value::String(lua.create_string(msg)?), Value::Nil))
    })?;
    let list = lua.create_sequence_from([preload, searcher])?;
    package.set("searchers", list)?;
    Ok(())
}

/// What a `diagnose(ctx)` hook sees.
#[derive(Serialize)]
struct DiagnoseCtx<'a> {
    /// The rule engine's diagnosis.
    result: &'a Diagnosis,
    state: Option<String>,
    exit_code: Option<String>,
    reasons: &'a [String],
    logs: Vec<LogCtx<'a>>,
    /// All log lines joined with newlines, for `string.find`.
    log: String,
    job: Option<&'a JobInfo>,
}

#[derive(Serialize)]
struct LogCtx<'a> {
    path: String,
    complete: bool,
    lines: &'a [String],
}

impl<'a> DiagnoseCtx<'a> {
    fn new(result: &'a Diagnosis, input: &'a Input) -> Self {
        DiagnoseCtx {
            result,
            state: input.state.map(|s| s.to_string()),
            exit_code: input.exit.map(|e| e.to_string()),
            reasons: &input.reasons,
            logs: input
                .logs
                .iter()
                .map(|l| LogCtx {
                    path: l.path.display().to_string(),
                    complete: l.complete,
                    lines: &l.lines,
                })
                .collect(),
            log: input
                .logs
                .iter()
                .map(|l| l.text())
                .collect::<Vec<_>>()
                .join("\n"),
            job: input.job.as_ref(),
        }
    }
}

/// What a `diagnose` hook may return: at least a kind; anything left out is kept or derived.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DiagnosisOverride {
    kind: String,
    summary: Option<String>,
    evidence: Option<Vec<Evidence>>,
    captures: Option<BTreeMap<String, serde_json::Value>>,
    fixable: Option<bool>,
    rule: Option<String>,
    decided_by: Option<String>,
}

impl DiagnosisOverride {
    fn apply(self, base: Diagnosis, rules: &RuleSet) -> Diagnosis {
        let changed = self.kind != base.kind;
        let mut captures = base.captures.clone();
        for (k, v) in self.captures.unwrap_or_default() {
            let text = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            captures.insert(k, text);
        }
        Diagnosis {
            fixable: self.fixable.unwrap_or_else(|| {
                if changed {
                    rules.kind_fixable(&self.kind)
                } else {
                    base.fixable
                }
            }),
            summary: self.summary.unwrap_or_else(|| {
                if changed {
                    format!("{} (decided by the policy)", self.kind)
                } else {
                    base.summary.clone()
                }
            }),
            evidence: self.evidence.unwrap_or(base.evidence),
            captures,
            rule: self.rule.or(base.rule),
            decided_by: self
                .decided_by
                .or_else(|| changed.then(|| "policy diagnose hook".to_string()))
                .or(base.decided_by),
            kind: self.kind,
        }
    }
}

/// A policy that never takes the tracker down: when it fails to load or a hook fails, the
/// built-in default decides instead and the error is kept for the track's record.
pub struct GuardedPolicy {
    primary: Option<Host>,
    fallback: Option<Host>,
    errors: Vec<PolicyError>,
}

impl GuardedPolicy {
    pub fn load(source: &PolicySource) -> GuardedPolicy {
        if let PolicySource::Untrusted { path, why } = source {
            // Reported in the track's record too, not only on stderr.
            let host = Host::load(source).ok();
            return GuardedPolicy {
                primary: host,
                fallback: None,
                errors: vec![PolicyError::new(
                    &path.display().to_string(),
                    "trust",
                    why.clone(),
                )],
            };
        }
        match Host::load(source) {
            Ok(host) => GuardedPolicy {
                primary: Some(host),
                fallback: None,
                errors: Vec::new(),
            },
            Err(e) => {
                tracing::warn!("{e}; using the built-in default policy");
                GuardedPolicy {
                    primary: None,
                    fallback: None,
                    errors: vec![e],
                }
            }
        }
    }

    /// The policy in charge: the user's, or the built-in one when it failed to load.
    pub fn host(&mut self) -> &Host {
        if self.primary.is_some() {
            return self.primary.as_ref().unwrap();
        }
        self.fallback.get_or_insert_with(Host::builtin)
    }

    fn builtin(&mut self) -> &Host {
        self.fallback.get_or_insert_with(Host::builtin)
    }

    /// Diagnoses with the policy, or with the built-in default if the policy fails.
    pub fn diagnose(&mut self, input: &Input) -> Diagnosis {
        if let Some(host) = &self.primary {
            match host.diagnose(input) {
                Ok(d) => return d,
                Err(e) => {
                    tracing::warn!("{e}; the built-in default policy decides instead");
                    self.errors.push(e);
                }
            }
        }
        match self.builtin().diagnose(input) {
            Ok(d) => d,
            Err(e) => {
                // The built-in policy is tested; if it fails anyway, the rules alone decide.
                let d = self.builtin().rules().diagnose(input);
                self.errors.push(e);
                d
            }
        }
    }

    /// Lets policy code read below `root` (the track's folder, when it is not inside the
    /// repository trackit runs in).
    pub fn allow_reads_below(&mut self, root: &Path) {
        if let Some(h) = &self.primary {
            h.allow_reads_below(root);
        }
        if let Some(h) = &self.fallback {
            h.allow_reads_below(root);
        }
    }

    /// Errors since the last call, for the track's event log.
    pub fn take_errors(&mut self) -> Vec<PolicyError> {
        std::mem::take(&mut self.errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_false_setting_is_a_value_not_a_removal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.lua");
        std::fs::write(
            &path,
            "local base = require('trackit.default')\nreturn trackit.extend(base, { settings = { exit_files = false }, rules = { generic_error = false } })\n",
        )
        .unwrap();
        let host = Host::load(&PolicySource::File(path)).unwrap();
        assert!(!host.settings().exit_files);
        assert!(Host::builtin().settings().exit_files);
    }
}
