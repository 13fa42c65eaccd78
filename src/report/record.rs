//! The research record: where the job's code came from, what it was compared with, and the
//! machine-readable summary that lets a later run find this one as its baseline.
//!
//! Every PR body and every results section trackit writes carries one hidden line,
//! `<!-- trackit:record {"track":...,"metrics":[...]} -->`: the track, the commit it ran from
//! and each metric's final and best value. The next run of the same experiment reads it back
//! from the previous results PR (or from `--baseline REF`) and shows a Δ column. `>` is
//! written `\u003e` inside it, so the comment can never close early.

use crate::results::{Goal, MetricsReport};
use serde::{Deserialize, Serialize};

/// The commit a job ran from, and what the working tree held on top of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CodeVersion {
    pub commit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// A link to the commit on GitHub, when the remote is there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_url: Option<String>,
    /// Uncommitted changes to tracked files, or untracked files, when the job started.
    pub dirty: bool,
    /// `git diff --stat`-like lines of the uncommitted changes (tracked files), and the
    /// untracked files, at most a few dozen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// `3 files changed, 10 insertions(+), 2 deletions(-)`, plus untracked files.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
}

impl CodeVersion {
    pub fn short(&self) -> &str {
        &self.commit[..self.commit.len().min(7)]
    }
}

/// One metric of a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordMetric {
    pub name: String,
    #[serde(rename = "final", default, skip_serializing_if = "Option::is_none")]
    pub final_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<Goal>,
}

/// What a finished track leaves for the next one to compare with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub track: String,
    #[serde(default)]
    pub experiment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default)]
    pub metrics: Vec<RecordMetric>,
}

const RECORD_START: &str = "<!-- trackit:record ";

impl Record {
    pub fn from_metrics(
        track: &str,
        experiment: &str,
        commit: Option<&str>,
        m: &MetricsReport,
    ) -> Record {
        Record {
            track: track.to_string(),
            experiment: experiment.to_string(),
            commit: commit.map(str::to_string),
            metrics: m
                .metrics
                .iter()
                .map(|s| RecordMetric {
                    name: s.name.clone(),
                    final_value: s.final_value.filter(|v| v.is_finite()),
                    best: s.best.as_ref().map(|b| b.value).filter(|v| v.is_finite()),
                    goal: s.goal,
                })
                .collect(),
        }
    }

    /// The hidden line.
    pub fn to_comment(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        format!("{RECORD_START}{} -->", json.replace('>', "\\u003e"))
    }

    pub fn metric(&self, name: &str) -> Option<&RecordMetric> {
        self.metrics.iter().find(|m| m.name == name).or_else(|| {
            let names = self.metrics.iter().map(|m| m.name.as_str());
            crate::results::find_metric(names, name)
                .and_then(|n| self.metrics.iter().find(|m| m.name == n))
        })
    }
}

/// Every record in `text`, in order.
pub fn parse_records(text: &str) -> Vec<Record> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(RECORD_START) {
        let after = &rest[i + RECORD_START.len()..];
        let Some(end) = after.find(" -->") else { break };
        if let Ok(r) = serde_json::from_str::<Record>(&after[..end]) {
            out.push(r);
        }
        rest = &after[end..];
    }
    out
}

/// What this run is compared with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// For people: `PR #12`, `main`, `results/x-2026-11-20`.
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub record: Record,
}

/// One row of the comparison table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
    /// value − baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<f64>,
    /// Δ relative to |baseline|, in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_pct: Option<f64>,
    /// True when the change goes the metric's good way, None when it does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub better: Option<bool>,
}

/// This run's final values against the baseline's, metric by metric (the metrics of `m`).
pub fn compare(m: &MetricsReport, baseline: &Record) -> Vec<Comparison> {
    m.metrics
        .iter()
        .map(|s| {
            let base = baseline
                .metric(&s.name)
                .or_else(|| s.query.as_deref().and_then(|q| baseline.metric(q)));
            let value = s.final_value.filter(|v| v.is_finite());
            let b = base.and_then(|b| b.final_value);
            let delta = value.zip(b).map(|(v, b)| v - b);
            let delta_pct = delta
                .zip(b)
                .filter(|(_, b)| *b != 0.0)
                .map(|(d, b)| 100.0 * d / b.abs());
            let better = delta.filter(|d| *d != 0.0).and_then(|d| match s.goal {
                Some(Goal::Min) => Some(d < 0.0),
                Some(Goal::Max) => Some(d > 0.0),
                None => None,
            });
            Comparison {
                name: s.name.clone(),
                value,
                baseline: b,
                delta,
                delta_pct,
                better,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trip_in_text() {
        let r = Record {
            track: "t1".into(),
            experiment: "x".into(),
            commit: Some("abc".into()),
            metrics: vec![RecordMetric {
                name: "a>b".into(),
                final_value: Some(0.5),
                best: None,
                goal: Some(Goal::Min),
            }],
        };
        let c = r.to_comment();
        assert!(!c[4..c.len() - 3].contains('>'), "{c}");
        let text = format!("intro\n{c}\nmore {}\n", Record::default().to_comment());
        let back = parse_records(&text);
        assert_eq!(back.len(), 2);
        assert_eq!(back[0], r);
    }
}
