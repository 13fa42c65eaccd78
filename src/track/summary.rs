//! One-line and per-attempt summaries of a track, for the live status, `status` and reports.

use super::model::Track;
use crate::job::format_duration;
use std::collections::HashMap;

/// `[attempt 1/3] job 123 RUNNING 00:01:23 / 01:00:00 | last log line`
pub fn status_line(t: &Track, last: &str) -> String {
    status_line_with(t, last, None)
}

/// The status line with the job's progress when its log shows one (`epoch 3/10`).
pub fn status_line_with(t: &Track, last: &str, progress: Option<&str>) -> String {
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
    if let Some(p) = progress {
        line.push_str(&format!(" ({p})"));
    }
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

/// The progress a log line shows: `Epoch 3/10` (Keras, Lightning, plain prints), `epoch 3 of 10`,
/// `step 1200/5000`, as `epoch 3/10`.
pub fn progress_of(line: &str) -> Option<String> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r"(?i)\b(epoch|step|iter(?:ation)?)\s*[:=]?\s*(\d+)\s*(?:/|of)\s*(\d+)\b")
            .expect("a valid regex")
    });
    let c = re.captures(line)?;
    let what = c[1].to_ascii_lowercase();
    let what = if what.starts_with("iter") {
        "iteration"
    } else {
        what.as_str()
    };
    Some(format!("{what} {}/{}", &c[2], &c[3]))
}

#[cfg(test)]
mod tests {
    use super::progress_of;

    #[test]
    fn progress_from_common_lines() {
        assert_eq!(progress_of("Epoch 3/10").as_deref(), Some("epoch 3/10"));
        assert_eq!(
            progress_of("Epoch 2/9: 100%|####| 40/40 [00:03<00:00, loss=0.3]").as_deref(),
            Some("epoch 2/9")
        );
        assert_eq!(
            progress_of("step 1200 of 5000, loss 0.2").as_deref(),
            Some("step 1200/5000")
        );
        assert_eq!(progress_of("loss=0.31"), None);
    }
}
