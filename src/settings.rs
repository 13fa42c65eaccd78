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
