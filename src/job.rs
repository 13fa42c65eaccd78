//! Scheduler-neutral job facts: the normalised state, the exit code and resource use.
//! Every backend (SLURM, local process, GitHub Actions run) reports in these terms.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How far this machine's clock, the scheduler's and GitHub's may disagree, in seconds. Every
/// "submitted since" or "created since" comparison (reused job ids, crash recovery, finding a
/// dispatched run) uses this one window.
pub const CLOCK_SKEW_S: i64 = 300;

/// The normalised job states. SLURM's own names, so they read the same in logs and docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    Pending,
    Running,
    Completed,
    Failed,
    Timeout,
    OutOfMemory,
    Cancelled,
    NodeFail,
    Preempted,
    BootFail,
    Deadline,
    /// trackit's own: neither squeue nor sacct has known the job for a long while (purged,
    /// or accounting lost it). Its end is unknown, and it is never called a success.
    Vanished,
}

impl JobState {
    pub const ALL: [JobState; 11] = [
        JobState::Pending,
        JobState::Running,
        JobState::Completed,
        JobState::Failed,
        JobState::Timeout,
        JobState::OutOfMemory,
        JobState::Cancelled,
        JobState::NodeFail,
        JobState::Preempted,
        JobState::BootFail,
        JobState::Deadline,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "PENDING",
            JobState::Running => "RUNNING",
            JobState::Completed => "COMPLETED",
            JobState::Failed => "FAILED",
            JobState::Timeout => "TIMEOUT",
            JobState::OutOfMemory => "OUT_OF_MEMORY",
            JobState::Cancelled => "CANCELLED",
            JobState::NodeFail => "NODE_FAIL",
            JobState::Preempted => "PREEMPTED",
            JobState::BootFail => "BOOT_FAIL",
            JobState::Deadline => "DEADLINE",
            JobState::Vanished => "VANISHED",
        }
    }

    /// True once the job can no longer change state by itself.
    pub fn is_terminal(self) -> bool {
        !matches!(self, JobState::Pending | JobState::Running)
    }

    pub fn is_success(self) -> bool {
        self == JobState::Completed
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = String;

    /// Accepts the normalised names and SLURM's spellings, including the long forms squeue
    /// and sacct print (`CANCELLED by 1000`, `OUT_OF_MEMORY`, `OOM`) and transitional states.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let word = s
            .split_whitespace()
            .next()
            .unwrap_or("")
            .trim_end_matches('+');
        let state = match word.to_ascii_uppercase().as_str() {
            "PENDING" | "PD" | "CONFIGURING" | "CF" | "REQUEUED" | "RQ" | "REQUEUE_HOLD"
            | "REQUEUE_FED" | "RESV_DEL_HOLD" | "SUSPENDED" | "S" | "STOPPED" | "ST"
            | "RESIZING" | "SPECIAL_EXIT" | "SE" => JobState::Pending,
            "RUNNING" | "R" | "COMPLETING" | "CG" | "SIGNALING" | "STAGE_OUT" | "SO" => {
                JobState::Running
            }
            "COMPLETED" | "CD" => JobState::Completed,
            "FAILED" | "F" | "REVOKED" | "RV" => JobState::Failed,
            "TIMEOUT" | "TO" => JobState::Timeout,
            "OUT_OF_MEMORY" | "OOM" => JobState::OutOfMemory,
            "CANCELLED" | "CA" => JobState::Cancelled,
            "NODE_FAIL" | "NF" => JobState::NodeFail,
            "PREEMPTED" | "PR" => JobState::Preempted,
            "BOOT_FAIL" | "BF" => JobState::BootFail,
            "DEADLINE" | "DL" => JobState::Deadline,
            "VANISHED" => JobState::Vanished,
            _ => return Err(format!("unknown job state '{s}'")),
        };
        Ok(state)
    }
}

/// An exit status in SLURM's `code:signal` form. A plain integer from a shell (`137`)
/// is kept as written: it is the shell's view, where 128+N means "killed by signal N".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitStatus {
    pub code: i32,
    /// The signal that ended the process, when one did (SLURM's `:S`, or a local wait status).
    #[serde(default)]
    pub signal: Option<i32>,
}

impl ExitStatus {
    pub fn code(code: i32) -> Self {
        ExitStatus { code, signal: None }
    }

    pub fn is_success(&self) -> bool {
        self.code == 0 && self.signal.unwrap_or(0) == 0
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.signal {
            Some(sig) => write!(f, "{}:{}", self.code, sig),
            None => write!(f, "{}", self.code),
        }
    }
}

impl FromStr for ExitStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = || format!("invalid exit code '{s}': expected N or N:S (e.g. 3, 0:125)");
        match s.split_once(':') {
            Some((c, sig)) => Ok(ExitStatus {
                code: c.trim().parse().map_err(|_| bad())?,
                signal: Some(sig.trim().parse().map_err(|_| bad())?),
            }),
            None => Ok(ExitStatus::code(s.parse().map_err(|_| bad())?)),
        }
    }
}

/// What a backend knows about one job at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobInfo {
    pub id: String,
    pub state: Option<JobState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<ExitStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Wall time used so far, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_s: Option<u64>,
    /// The time limit in seconds (None: unlimited or unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timelimit_s: Option<u64>,
    /// Peak resident memory of the largest step, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rss_bytes: Option<u64>,
    /// Memory requested for the whole job, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub req_mem_bytes: Option<u64>,
    /// CPU time used (user + system), seconds, for CPU efficiency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_time_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_list: Option<String>,
    /// What the scheduler allocated, as its TRES string (`cpu=4,mem=32G,node=1,gres/gpu:a100=2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alloc_tres: Option<String>,
    /// The scheduler's reason text (pending reason, or the failure reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submit_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_path: Option<String>,
}

/// The GPUs in a TRES string, for people: `gres/gpu:a100=2` → `2 × a100`, `gres/gpu=1` →
/// `1 GPU`; None without GPUs.
pub fn gpus_from_tres(tres: &str) -> Option<String> {
    let mut count: Option<u64> = None;
    let mut types: Vec<(String, u64)> = Vec::new();
    for kv in tres.split(',') {
        let Some((key, value)) = kv.trim().split_once('=') else {
            continue;
        };
        let Ok(n) = value.trim().parse::<u64>() else {
            continue;
        };
        match key.strip_prefix("gres/gpu") {
            Some("") => count = Some(n),
            Some(t) if t.starts_with(':') => types.push((t[1..].to_string(), n)),
            _ => {}
        }
    }
    if !types.is_empty() {
        let parts: Vec<String> = types.iter().map(|(t, n)| format!("{n} × {t}")).collect();
        return Some(parts.join(", "));
    }
    count
        .filter(|n| *n > 0)
        .map(|n| format!("{n} GPU{}", if n == 1 { "" } else { "s" }))
}

/// Parses sizes the way SLURM and users write them: `100M`, `8G`, `1.5T`, `512K`, `2048`
/// (plain numbers are MiB, as in `--mem`). Returns bytes.
pub fn parse_mem(s: &str) -> Option<u64> {
    let s = s.trim().trim_end_matches(['n', 'c']); // sacct ReqMem may end in n (per node) / c (per cpu)
    if s.is_empty() {
        return None;
    }
    let (num, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&s[..i], s[i..].to_ascii_uppercase()),
        None => (s, "M".to_string()),
    };
    let value: f64 = num.trim().parse().ok()?;
    let mult: f64 = match unit.trim_end_matches("IB").trim_end_matches('B') {
        "" => 1.0,
        "K" => 1024.0,
        "M" => 1024.0 * 1024.0,
        "G" => 1024.0 * 1024.0 * 1024.0,
        "T" => 1024.0f64.powi(4),
        _ => return None,
    };
    let bytes = (value * mult).round();
    if !bytes.is_finite() || value < 0.0 || bytes >= u64::MAX as f64 {
        return None;
    }
    Some(bytes as u64)
}

/// Memory units from the largest down, as SLURM writes them.
pub const MEM_UNITS: [(&str, u64); 4] = [
    ("T", 1 << 40),
    ("G", 1 << 30),
    ("M", 1 << 20),
    ("K", 1 << 10),
];

/// Formats bytes the way `--mem` takes them: the largest unit that keeps an integer.
pub fn format_mem(bytes: u64) -> String {
    for (unit, size) in MEM_UNITS {
        if bytes >= size && bytes % size == 0 {
            return format!("{}{}", bytes / size, unit);
        }
    }
    // Round up to whole MiB: SLURM does not take fractions.
    format!("{}M", bytes.div_ceil(1 << 20).max(1))
}

/// Parses SLURM durations: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`,
/// and `UNLIMITED`/`INFINITE` (None). Returns seconds.
pub fn parse_duration(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() || s.eq_ignore_ascii_case("UNLIMITED") || s.eq_ignore_ascii_case("INFINITE") {
        return None;
    }
    let (days, rest) = match s.split_once('-') {
        Some((d, r)) => (d.parse::<u64>().ok()?, r),
        None => (0, s),
    };
    let parts: Vec<u64> = rest
        .split(':')
        .map(|p| p.split('.').next().unwrap_or(p).parse::<u64>())
        .collect::<Result<_, _>>()
        .ok()?;
    // Checked: a huge value from foreign text (sacct, a script) is no duration, not an overflow.
    let hms = |h: u64, m: u64, sec: u64| {
        h.checked_mul(3600)?
            .checked_add(m.checked_mul(60)?)?
            .checked_add(sec)
    };
    let secs = match (s.contains('-'), parts.as_slice()) {
        (false, [m]) => hms(0, *m, 0)?,
        (false, [m, sec]) => hms(0, *m, *sec)?,
        (_, [h, m, sec]) => hms(*h, *m, *sec)?,
        (true, [h]) => hms(*h, 0, 0)?,
        (true, [h, m]) => hms(*h, *m, 0)?,
        _ => return None,
    };
    days.checked_mul(86400)?.checked_add(secs)
}

/// Formats seconds as SLURM's `[D-]HH:MM:SS`.
pub fn format_duration(secs: u64) -> String {
    let (d, rem) = (secs / 86400, secs % 86400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    if d > 0 {
        format!("{d}-{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_parse_slurm_spellings() {
        assert_eq!(
            "CANCELLED by 0".parse::<JobState>().unwrap(),
            JobState::Cancelled
        );
        assert_eq!(
            "OUT_OF_MEMORY".parse::<JobState>().unwrap(),
            JobState::OutOfMemory
        );
        assert_eq!("CD".parse::<JobState>().unwrap(), JobState::Completed);
        assert_eq!("COMPLETING".parse::<JobState>().unwrap(), JobState::Running);
        assert!("BOGUS".parse::<JobState>().is_err());
        for s in JobState::ALL {
            assert_eq!(s.as_str().parse::<JobState>().unwrap(), s);
        }
    }

    #[test]
    fn huge_or_odd_values_are_no_duration_or_size() {
        // Found by fuzzing sacct output: an overflow, not a duration.
        assert_eq!(parse_duration("99999999999999999:00:00"), None);
        assert_eq!(parse_duration("213503982334602-00:00:00"), None);
        assert_eq!(parse_duration("1-00:00:00"), Some(86400));
        assert_eq!(parse_mem("nan"), None);
        assert_eq!(parse_mem("infG"), None);
        assert_eq!(parse_mem("1e30T"), None);
        assert_eq!(parse_mem("4G"), Some(4 << 30));
    }

    #[test]
    fn exit_status_forms() {
        let e: ExitStatus = "0:125".parse().unwrap();
        assert_eq!((e.code, e.signal), (0, Some(125)));
        assert_eq!(e.to_string(), "0:125");
        assert_eq!("137".parse::<ExitStatus>().unwrap(), ExitStatus::code(137));
        assert!("x:1".parse::<ExitStatus>().is_err());
    }

    #[test]
    fn memory_and_durations() {
        assert_eq!(parse_mem("100M"), Some(100 << 20));
        assert_eq!(parse_mem("8G"), Some(8 << 30));
        assert_eq!(parse_mem("2048"), Some(2048 << 20));
        assert_eq!(parse_mem("4000Mn"), Some(4000 << 20));
        assert_eq!(parse_mem("1.5G"), Some(3 << 29));
        assert_eq!(format_mem(200 << 20), "200M");
        assert_eq!(format_mem(32 << 30), "32G");
        assert_eq!(parse_duration("1"), Some(60));
        assert_eq!(parse_duration("00:01:00"), Some(60));
        assert_eq!(parse_duration("1-00:00:00"), Some(86400));
        assert_eq!(parse_duration("2-12"), Some(2 * 86400 + 12 * 3600));
        assert_eq!(parse_duration("UNLIMITED"), None);
        assert_eq!(format_duration(3661), "01:01:01");
        assert_eq!(format_duration(90061), "1-01:01:01");
    }
}
