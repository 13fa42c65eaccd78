//! One-line and per-attempt summaries of a track, for the live status, `status` and reports.

use super::model::Track;
use crate::job::format_duration;
use std::collections::HashMap;

/// `[attempt 1/3] job 123 RUNNING 00:01:23 / 01:00:00 | last log line`
pub fn status_line(t: &Track, last: &str) -> String {
    let Some(a) = t.current() else {
        return format!("{}: starting", t.experiment);
    };
    let job = a
        .job
        .as_ref()
        .map(|j| j.id())
        .unwrap_or_else(|| "(launching)".into());
    let state = a
        .state()
        .map(|s| s.to_string())
        .unwrap_or_else(|| "PENDING".into());
    let task = a.deciding_task();
    let elapsed = task
        .and_then(|t| t.elapsed_s)
        .map(format_duration)
        .unwrap_or_else(|| "--:--:--".into());
    let limit = task
        .and_then(|t| t.timelimit_s)
        .map(|l| format!(" / {}", format_duration(l)))
        .unwrap_or_default();
    let mut line = format!(
        "[attempt {}/{}] {} {job} {state} {elapsed}{limit}",
        a.n, t.max_attempts, t.experiment
    );
    if !last.is_empty() {
        line.push_str(" | ");
        line.push_str(last);
    }
    line
}

/// Summaries per attempt for the failure report: one row each.
pub fn attempt_rows(t: &Track) -> Vec<HashMap<&'static str, String>> {
    t.attempts
        .iter()
        .map(|a| {
            let task = a.deciding_task();
            let mut row = HashMap::new();
            row.insert("attempt", a.n.to_string());
            row.insert(
                "job",
                a.job.as_ref().map(|j| j.id()).unwrap_or_else(|| "-".into()),
            );
            row.insert(
                "state",
                a.state()
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "-".into()),
            );
            row.insert(
                "exit",
                task.and_then(|t| t.exit)
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "-".into()),
            );
            row.insert(
                "elapsed",
                task.and_then(|t| t.elapsed_s)
                    .map(format_duration)
                    .unwrap_or_else(|| "-".into()),
            );
            row.insert(
                "kind",
                a.diagnosis
                    .as_ref()
                    .map(|d| d.kind.clone())
                    .unwrap_or_else(|| "-".into()),
            );
            row.insert(
                "summary",
                a.diagnosis
                    .as_ref()
                    .map(|d| d.summary.clone())
                    .unwrap_or_default(),
            );
            row.insert(
                "evidence",
                a.diagnosis
                    .as_ref()
                    .map(|d| {
                        d.evidence
                            .iter()
                            .take(3)
                            .map(|e| e.text.clone())
                            .collect::<Vec<_>>()
                            .join(" / ")
                    })
                    .unwrap_or_default(),
            );
            row.insert("edits", a.edits.join("; "));
            row
        })
        .collect()
}
