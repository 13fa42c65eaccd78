//! Policy settings: plain data a policy's `settings` table decodes into. Rust reads them; Lua
//! code may read its own extra keys freely.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Resource limits for policy code.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyLimits {
    /// Memory for the whole Lua state, in MiB.
    pub memory_mb: usize,
    /// VM instructions per hook call (and for loading the policy).
    pub instructions: u64,
    /// Time per hook call in milliseconds, time spent in trackit's own functions included.
    pub timeout_ms: u64,
}

impl Default for PolicyLimits {
    fn default() -> Self {
        PolicyLimits {
            memory_mb: 64,
            instructions: 20_000_000,
            timeout_ms: 500,
        }
    }
}

impl PolicyLimits {
    /// Hard ceilings a policy may not raise its limits above.
    pub fn clamped(self) -> PolicyLimits {
        PolicyLimits {
            memory_mb: self.memory_mb.clamp(8, 512),
            instructions: self.instructions.clamp(100_000, 1_000_000_000),
            timeout_ms: self.timeout_ms.clamp(10, 10_000),
        }
    }
}

/// How often the tracker asks the scheduler. Polite by default: the first check after ~15 s,
/// then ×1.5 while nothing changes, up to 3 min.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PollSettings {
    pub first_s: f64,
    pub growth: f64,
    pub max_s: f64,
    /// Site rule: never two scheduler calls closer than this.
    pub min_s: f64,
    /// A job neither squeue nor sacct has known for this long ends as VANISHED instead of
    /// being waited on for ever (sacct can lag, and purge old jobs).
    pub vanished_after_s: f64,
}

impl Default for PollSettings {
    fn default() -> Self {
        PollSettings {
            first_s: 15.0,
            growth: 1.5,
            max_s: 180.0,
            min_s: 5.0,
            vanished_after_s: 1800.0,
        }
    }
}

/// Caps a fixer may not exceed, per partition or for the whole site.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Caps {
    /// Largest `--mem` (e.g. `256G`).
    pub max_mem: Option<String>,
    /// Largest `--time` (e.g. `2-00:00:00`).
    pub max_time: Option<String>,
    /// GPUs, whether asked with `--gpus`, `--gpus-per-node` or `--gres=gpu:N`.
    pub max_gpus: Option<u32>,
    pub max_cpus: Option<u32>,
    /// `--nodes` (the upper end of a range such as `1-4`).
    pub max_nodes: Option<u32>,
    /// `--ntasks` and `--ntasks-per-node`.
    pub max_ntasks: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// How much of each log's tail the diagnosis reads, in KiB.
    pub log_window_kib: u64,
    /// Lines longer than this many bytes are cut.
    pub max_line: usize,
    pub max_attempts: u32,
    /// Kinds a relaunch may help with.
    pub fixable_kinds: Vec<String>,
    /// How close (priority points) a different fixable kind must come to the best rule to make
    /// the verdict `unknown` (contradictory evidence gets no relaunch).
    pub contest_margin: i64,
    /// Blocks of lines no diagnosis rule reads (a traceback Python printed and went on).
    pub ignored_blocks: Vec<crate::diagnose::IgnoredBlock>,
    pub poll: PollSettings,
    pub limits: PolicyLimits,
    /// Site-wide caps for fixers.
    pub caps: Caps,
    /// Per-partition caps (override `caps`).
    pub partitions: BTreeMap<String, Caps>,
    /// The workflow `trackit sbatch` dispatches instead of calling sbatch, when the repo has it.
    /// Off unless a policy names one (the shipped Sherlock policy does).
    pub dispatch_workflow: Option<String>,
    /// Wrap each batch script so the job writes its exit status to the track's folder when it
    /// ends: its end is then noticed within seconds instead of at the next scheduler poll.
    pub exit_files: bool,
    /// The cluster's login host, as typed after `ssh` (an alias works): `trackit launch` and
    /// `trackit sbatch` reach SLURM there when there is none here. `--host` overrides it.
    pub remote_host: Option<String>,
    /// The repository's checkout on the cluster (absolute, or relative to the remote home).
    /// Default: the same path relative to the home directory. `--remote-dir` overrides it.
    pub remote_dir: Option<String>,
    /// Metrics to collect and report.
    pub metrics: Vec<String>,
    /// Per-metric goal: `min` or `max`.
    pub metric_goals: BTreeMap<String, String>,
    /// Where result files are (file, folder or glob).
    pub results: Option<String>,
    /// Keys trackit does not know: kept for the policy's own Lua code.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            log_window_kib: 256,
            max_line: 4096,
            max_attempts: 3,
            fixable_kinds: crate::diagnose::DEFAULT_FIXABLE
                .iter()
                .map(|s| s.to_string())
                .collect(),
            contest_margin: crate::diagnose::DEFAULT_CONTEST_MARGIN,
            ignored_blocks: Vec::new(),
            poll: PollSettings::default(),
            limits: PolicyLimits::default(),
            caps: Caps::default(),
            partitions: BTreeMap::new(),
            dispatch_workflow: None,
            exit_files: true,
            remote_host: None,
            remote_dir: None,
            metrics: Vec::new(),
            metric_goals: BTreeMap::new(),
            results: None,
            extra: BTreeMap::new(),
        }
    }
}

/// The most attempts a policy may ask for (the command line's `--max-attempts` is the user's own).
pub const MAX_ATTEMPTS_CEILING: u32 = 10;
/// The largest log tail a policy may ask the diagnosis to read, in KiB.
pub const LOG_WINDOW_CEILING_KIB: u64 = 16 * 1024;
/// The longest line a policy may ask to keep, in bytes.
pub const MAX_LINE_CEILING: usize = 64 * 1024;

impl PollSettings {
    /// Every interval finite and positive, and a growth of at least 1: a NaN, zero or negative
    /// value would poll the scheduler in a tight loop. `Err((key, why))`.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        for (key, v) in [
            ("first_s", self.first_s),
            ("max_s", self.max_s),
            ("min_s", self.min_s),
        ] {
            if !v.is_finite() || v <= 0.0 {
                return Err((
                    key,
                    format!("poll.{key} must be a positive number of seconds, not {v}"),
                ));
            }
        }
        if !self.growth.is_finite() || self.growth < 1.0 {
            return Err((
                "growth",
                format!(
                    "poll.growth must be a finite number of at least 1, not {}",
                    self.growth
                ),
            ));
        }
        if self.max_s < self.min_s {
            return Err((
                "max_s",
                format!(
                    "poll.max_s ({}) is below poll.min_s ({})",
                    self.max_s, self.min_s
                ),
            ));
        }
        Ok(())
    }
}

impl Settings {
    /// The settings with every value a policy may raise held to its hard ceiling: the sandbox
    /// limits, `max_attempts`, the log window and the line length.
    pub fn with_ceilings(mut self) -> Settings {
        self.limits = self.limits.clamped();
        self.max_attempts = self.max_attempts.clamp(1, MAX_ATTEMPTS_CEILING);
        self.log_window_kib = self.log_window_kib.clamp(1, LOG_WINDOW_CEILING_KIB);
        self.max_line = self.max_line.clamp(80, MAX_LINE_CEILING);
        self
    }

    pub fn tail_options(&self) -> crate::logtail::TailOptions {
        crate::logtail::TailOptions {
            window: self.log_window_kib.max(1) * 1024,
            max_line: self.max_line.max(80),
        }
    }
}

/// The best match for a misspelled name among `known`, if one is close enough to suggest.
pub fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<String> {
    known
        .into_iter()
        .filter(|k| *k != name)
        .map(|k| (strsim::jaro_winkler(name, k), k))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.to_string())
}

/// serde's "unknown field `polcy`, expected one of `policy`, `cluster`" (or "expected `a` or
/// `b`"): the unknown name and the expected ones.
pub fn unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let re = regex::Regex::new(r"unknown field `([^`]*)`, expected ([^\n]*)").ok()?;
    let c = re.captures(message)?;
    let quoted = regex::Regex::new(r"`([^`]*)`").ok()?;
    let known = quoted
        .captures_iter(&c[2])
        .map(|k| k[1].to_string())
        .collect();
    Some((c[1].to_string(), known))
}

/// The setting names trackit itself reads (the top-level keys of `settings`).
pub fn known_keys() -> Vec<String> {
    let value = serde_json::to_value(Settings::default()).unwrap_or_default();
    let mut keys: Vec<String> = value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    // Optional fields that serialise as null are still known.
    keys.sort();
    keys
}

/// A setting a policy sets that is probably a mistake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingsWarning {
    /// Not a trackit setting, but close to one: most likely a typo.
    Misspelled { key: String, suggestion: String },
    /// Not a trackit setting, and no Lua code the policy loads mentions it.
    Unread { key: String },
}

impl std::fmt::Display for SettingsWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SettingsWarning::Misspelled { key, suggestion } => write!(
                f,
                "settings.{key} is not a trackit setting: did you mean settings.{suggestion}?"
            ),
            SettingsWarning::Unread { key } => write!(
                f,
                "settings.{key} is set but nothing reads it: it is not a trackit setting and the policy's code never uses it"
            ),
        }
    }
}

impl Settings {
    /// Checks the keys trackit does not know (`extra`): a near miss of a known key is a typo;
    /// a key that no loaded Lua source mentions except where it is assigned is never read.
    /// `sources` are the texts of the policy and every module it may load.
    pub fn warnings(&self, sources: &[&str]) -> Vec<SettingsWarning> {
        let known = known_keys();
        let mut out = Vec::new();
        for key in self.extra.keys() {
            let read = sources.iter().any(|s| mentioned_as_read(s, key));
            if read {
                continue;
            }
            match did_you_mean(key, known.iter().map(String::as_str)) {
                Some(suggestion) => out.push(SettingsWarning::Misspelled {
                    key: key.clone(),
                    suggestion,
                }),
                None => out.push(SettingsWarning::Unread { key: key.clone() }),
            }
        }
        out
    }
}

/// Whether `source` mentions `key` other than as the target of an assignment (`key = ...`,
/// `["key"] = ...`): as a field read (`s.key`), a string (`setting(ctx, "key")`) or a
/// comparison (`key == x`).
fn mentioned_as_read(source: &str, key: &str) -> bool {
    let Ok(re) = regex::Regex::new(&format!(r"\b{}\b", regex::escape(key))) else {
        return false;
    };
    let read = re.find_iter(source).any(|m| {
        let rest = source[m.end()..].trim_start_matches(['"', '\'', ']', ' ', '\t']);
        let assigned = rest.starts_with('=') && !rest.starts_with("==");
        // `--` comments mention keys without reading them.
        let line_start = source[..m.start()].rfind('\n').map_or(0, |i| i + 1);
        let in_comment = source[line_start..m.start()].contains("--");
        !assigned && !in_comment
    });
    read
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_are_suggested_and_unrelated_names_are_not() {
        let known = known_keys();
        let k = || known.iter().map(String::as_str);
        assert_eq!(
            did_you_mean("max_attempt", k()).as_deref(),
            Some("max_attempts")
        );
        assert_eq!(
            did_you_mean("fixable_kind", k()).as_deref(),
            Some("fixable_kinds")
        );
        assert_eq!(
            did_you_mean("log_windw_kib", k()).as_deref(),
            Some("log_window_kib")
        );
        assert_eq!(did_you_mean("batch_size_env", k()), None);
        assert_eq!(did_you_mean("module_map", k()), None);
        assert!(known.contains(&"dispatch_workflow".to_string()));
        assert!(known.contains(&"results".to_string()), "null fields count");
    }

    #[test]
    fn unread_and_misspelled_extra_keys_are_reported() {
        let mut s = Settings::default();
        for k in ["max_attempt", "module_map", "batch_size_env", "orphan"] {
            s.extra.insert(k.into(), serde_json::json!(1));
        }
        let policy = r#"
            -- orphan is documented here but never used
            local DEFAULTS = { batch_size_env = "BATCH_SIZE" }
            return { settings = { max_attempt = 5, orphan = 1, ["module_map"] = {},
              batch_size_env = DEFAULTS.batch_size_env } }
        "#;
        let library = "local m = settings(ctx).module_map";
        let w = s.warnings(&[policy, library]);
        assert_eq!(
            w,
            vec![
                SettingsWarning::Misspelled {
                    key: "max_attempt".into(),
                    suggestion: "max_attempts".into()
                },
                SettingsWarning::Unread {
                    key: "orphan".into()
                },
            ]
        );
        assert!(w[0]
            .to_string()
            .contains("did you mean settings.max_attempts?"));
        assert!(s.warnings(&[policy, library, "if s.orphan then end"]).len() == 1);
    }
}
