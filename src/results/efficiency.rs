//! How well a job used what it asked for: elapsed against the time limit, peak memory against
//! the request, CPU efficiency (CPU time / (elapsed × CPUs)), and right-sizing hints.
//!
//! Hints (only for a job that completed, or whose state is unknown: a crash after a minute
//! says nothing about the size a full run needs):
//! - oversized: the need is 1.5 × the use, rounded up to a round size (memory: 512M, 1G, 2G,
//!   4G, ...; time: 15 min, 30 min, 1 h, 2 h, 4 h, 8 h, 12 h, 1 day, 2, 3, 4, 7 days, then whole
//!   weeks); hinted when that is at most half the request (`used 3.1G of 32G: --mem=8G would do`);
//! - CPUs: with 4 or more CPUs used below 25%, the average number busy × 1.5, rounded up.
//!
//! Close to a limit (90% or more, any state): a warning with a safer value, same rounding.

use crate::job::{format_duration, format_mem, JobInfo, JobState};
use serde::{Deserialize, Serialize};

/// One job's resource use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Efficiency {
    /// Elapsed / time limit, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_pct: Option<f64>,
    /// MaxRSS / requested memory, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_pct: Option<f64>,
    /// CPU time / (elapsed × CPUs), in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_pct: Option<f64>,
    /// A `--mem` value suggested by a hint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggest_mem: Option<String>,
    /// A `--time` value suggested by a hint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggest_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggest_cpus: Option<u32>,
    pub hints: Vec<String>,
    /// Everything above in one line, for a report.
    pub line: String,
}

const HEADROOM: f64 = 1.5;
const NEAR_LIMIT_PCT: f64 = 90.0;

/// Rates a job's resource use (module docs). Values the backend did not report are left out.
pub fn efficiency(job: &JobInfo) -> Efficiency {
    let mut eff = Efficiency::default();
    let mut parts = Vec::new();
    let sizing = matches!(job.state, None | Some(JobState::Completed));

    if let Some(elapsed) = job.elapsed_s {
        match job.timelimit_s.filter(|&l| l > 0) {
            Some(limit) => {
                let pct = 100.0 * elapsed as f64 / limit as f64;
                eff.time_pct = Some(pct);
                let (used, of) = (format_duration(elapsed), format_duration(limit));
                parts.push(format!("time {used} of {of} ({})", percent(pct)));
                let safer = round_time_up(elapsed as f64 * HEADROOM);
                if pct >= NEAR_LIMIT_PCT {
                    let safer = round_time_up((limit as f64 * HEADROOM).max(safer as f64));
                    eff.suggest_time = Some(format_duration(safer));
                    eff.hints.push(format!(
                        "used {used} of {of} ({}): close to the limit, --time={} would be safer",
                        percent(pct),
                        format_duration(safer)
                    ));
                } else if sizing && elapsed > 0 && safer * 2 <= limit {
                    eff.suggest_time = Some(format_duration(safer));
                    eff.hints.push(format!(
                        "used {used} of {of}: --time={} would do",
                        format_duration(safer)
                    ));
                }
            }
            None => parts.push(format!("time {}", format_duration(elapsed))),
        }
    }

    if let Some(rss) = job.max_rss_bytes {
        match job.req_mem_bytes.filter(|&r| r > 0) {
            Some(req) => {
                let pct = 100.0 * rss as f64 / req as f64;
                eff.mem_pct = Some(pct);
                let (used, of) = (human_mem(rss), human_mem(req));
                parts.push(format!("memory {used} of {of} ({})", percent(pct)));
                let need = round_mem_up(rss as f64 * HEADROOM);
                if pct >= NEAR_LIMIT_PCT {
                    let safer = round_mem_up((req as f64 * HEADROOM).max(need as f64));
                    eff.suggest_mem = Some(format_mem(safer));
                    eff.hints.push(format!(
                        "used {used} of {of} ({}): close to the limit, --mem={} would be safer",
                        percent(pct),
                        format_mem(safer)
                    ));
                } else if sizing && rss > 0 && need * 2 <= req {
                    eff.suggest_mem = Some(format_mem(need));
                    eff.hints.push(format!(
                        "used {used} of {of}: --mem={} would do",
                        format_mem(need)
                    ));
                }
            }
            None => parts.push(format!("memory {}", human_mem(rss))),
        }
    }

    if let (Some(cpu), Some(elapsed), Some(cpus)) = (job.cpu_time_s, job.elapsed_s, job.cpus) {
        if elapsed > 0 && cpus > 0 {
            let pct = 100.0 * cpu as f64 / (elapsed as f64 * cpus as f64);
            eff.cpu_pct = Some(pct);
            let plural = if cpus == 1 { "" } else { "s" };
            parts.push(format!("CPU {} of {cpus} CPU{plural}", percent(pct)));
            let busy = cpu as f64 / elapsed as f64;
            let need = ((busy * HEADROOM).ceil() as u32).max(1);
            if sizing && cpus >= 4 && pct < 25.0 && need < cpus {
                eff.suggest_cpus = Some(need);
                eff.hints.push(format!(
                    "{busy:.1} of {cpus} CPUs busy on average: --cpus-per-task={need} would do"
                ));
            }
        }
    }

    eff.line = if parts.is_empty() {
        "no resource use reported".to_string()
    } else {
        parts.join(", ")
    };
    if !eff.hints.is_empty() {
        eff.line = format!("{}; {}", eff.line, eff.hints.join("; "));
    }
    eff
}

/// Bytes for people: one decimal in the largest unit that fits (`3.1G`, `512M`, `32G`).
pub fn human_mem(bytes: u64) -> String {
    for (unit, size) in crate::job::MEM_UNITS {
        if bytes >= size {
            let v = bytes as f64 / size as f64;
            let text = if v >= 100.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            };
            return format!("{}{unit}", text.trim_end_matches(".0"));
        }
    }
    format!("{bytes}B")
}

fn percent(pct: f64) -> String {
    if pct > 0.0 && pct < 10.0 {
        format!("{pct:.1}%")
    } else {
        format!("{pct:.0}%")
    }
}

/// The smallest of 512M, 1G, 2G, 4G, ... that holds `bytes`.
fn round_mem_up(bytes: f64) -> u64 {
    let mut size: u64 = 512 << 20;
    while (size as f64) < bytes {
        size *= 2;
    }
    size
}

/// The smallest round duration that holds `secs`.
fn round_time_up(secs: f64) -> u64 {
    const STEPS_MIN: [u64; 12] = [
        15,
        30,
        60,
        120,
        240,
        480,
        720,
        1440,
        2 * 1440,
        3 * 1440,
        4 * 1440,
        7 * 1440,
    ];
    for m in STEPS_MIN {
        if (m * 60) as f64 >= secs {
            return m * 60;
        }
    }
    let week = 7 * 86400;
    (secs / week as f64).ceil() as u64 * week
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding() {
        assert_eq!(round_mem_up(4.65 * (1u64 << 30) as f64), 8 << 30);
        assert_eq!(round_mem_up(100.0), 512 << 20);
        assert_eq!(round_time_up(18.0 * 60.0), 30 * 60);
        assert_eq!(round_time_up(5.0 * 3600.0), 8 * 3600);
        assert_eq!(round_time_up(20.0 * 86400.0), 21 * 86400);
        assert_eq!(human_mem(3_328_599_654), "3.1G");
        assert_eq!(human_mem(32 << 30), "32G");
        assert_eq!(human_mem(512 << 20), "512M");
    }
}
