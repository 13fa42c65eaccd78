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
    /// Time per hook call in milliseconds, not counting time spent in trackit's own functions.
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
            memory_mb: self.memory_mb.clamp(8, 1024),
            instructions: self.instructions.clamp(100_000, 2_000_000_000),
            timeout_ms: self.timeout_ms.clamp(10, 60_000),
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
}

impl Default for PollSettings {
    fn default() -> Self {
        PollSettings {
            first_s: 15.0,
            growth: 1.5,
            max_s: 180.0,
            min_s: 5.0,
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
    pub max_gpus: Option<u32>,
    pub max_cpus: Option<u32>,
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
    pub poll: PollSettings,
    pub limits: PolicyLimits,
    /// Site-wide caps for fixers.
    pub caps: Caps,
    /// Per-partition caps (override `caps`).
    pub partitions: BTreeMap<String, Caps>,
    /// The workflow `trackit sbatch` dispatches instead of calling sbatch, when the repo has it.
    pub dispatch_workflow: Option<String>,
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
            poll: PollSettings::default(),
            limits: PolicyLimits::default(),
            caps: Caps::default(),
            partitions: BTreeMap::new(),
            dispatch_workflow: Some("sherlock-dispatch.yml".into()),
            metrics: Vec::new(),
            metric_goals: BTreeMap::new(),
            results: None,
            extra: BTreeMap::new(),
        }
    }
}

impl Settings {
    pub fn tail_options(&self) -> crate::logtail::TailOptions {
        crate::logtail::TailOptions {
            window: self.log_window_kib.max(1) * 1024,
            max_line: self.max_line.max(80),
        }
    }
}
