//! Texts rendered in Rust: the status comment the engine keeps editing, milestone comments,
//! the markers that let the engine recognise its own text, and plain fallbacks used only when
//! even the built-in Lua renderer fails.

use super::format::{cell, format_elapsed, format_memory, format_number, metric_line, DASH};
use super::model::{Attempt, ReportCtx, TrackStatus};
use serde::{Deserialize, Serialize};

/// The marker of the one status comment the engine keeps editing.
pub const STATUS_MARKER: &str = "<!-- trackit:status -->";

/// The marker of one track's status comment: several tracks of one experiment share a PR,
/// each with its own status comment.
pub fn status_marker(track_id: &str) -> String {
    format!(
        "<!-- trackit:status track={} -->",
        track_id.replace("--", "-_")
    )
}

const SECTION_START: &str = "<!-- trackit:pr-section:start track=";
const SECTION_END: &str = "<!-- trackit:pr-section:end track=";

/// One track's part of a shared PR body, between its markers.
pub fn pr_section(track_id: &str, body: &str) -> String {
    let id = track_id.replace("--", "-_");
    format!(
        "{SECTION_START}{id} -->\n{}\n{SECTION_END}{id} -->",
        body.trim_end()
    )
}

/// The PR body with track `track_id`'s section set to `section` (made by [`pr_section`]); the
/// other tracks' sections stay as they are, in order. A body with no sections at all is
/// either this track's own older body (replaced) or text someone else wrote (kept, first).
pub fn merge_pr_body(current: &str, track_id: &str, section: &str) -> String {
    let id = track_id.replace("--", "-_");
    let start = format!("{SECTION_START}{id} -->");
    let end = format!("{SECTION_END}{id} -->");
    if let (Some(s), Some(e)) = (current.find(&start), current.find(&end)) {
        if s < e {
            return format!("{}{section}{}", &current[..s], &current[e + end.len()..]);
        }
    }
    if !current.contains(SECTION_START) {
        if current.trim().is_empty() || is_own_pr(current, track_id) {
            return section.to_string();
        }
        return format!("{}\n\n{section}", current.trim_end());
    }
    format!("{}\n\n---\n\n{section}", current.trim_end())
}

/// The hidden marker in a PR body trackit wrote: `<!-- trackit:pr track=ID -->`.
pub fn pr_marker(track_id: &str) -> String {
    format!("<!-- trackit:pr track={} -->", track_id.replace("--", "-_"))
}

/// True when `body` is the PR text of `track_id`.
pub fn is_own_pr(body: &str, track_id: &str) -> bool {
    body.contains(&pr_marker(track_id))
}

/// A milestone comment's marker, so a resumed tracker does not post it twice.
pub fn milestone_marker(track_id: &str, milestone: &str) -> String {
    format!(
        "<!-- trackit:milestone track={} {} -->",
        track_id.replace("--", "-_"),
        milestone.replace("--", "-_")
    )
}

/// The pull request's title and body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrText {
    pub title: String,
    pub body: String,
}

/// The trailer that ties a commit to its track.
pub fn track_trailer(track_id: &str) -> String {
    format!("Trackit-Track: {track_id}")
}

/// What a `find_doc(ctx)` hook sees.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FindDocCtx {
    pub experiment: String,
    pub track_id: String,
    /// `docs/**/<experiment>*.md`, in the order trackit would pick them.
    pub candidates: Vec<String>,
    /// Where trackit would create the doc.
    pub default: String,
}

/// The status comment: short, rewritten in place as the track advances.
///
/// ```text
/// <!-- trackit:status -->
/// **trackit** · `lr-sweep` · **RUNNING** · attempt 2/3 · job 4812331 · elapsed 01:02:03
/// > last log line
/// ```
pub fn status_comment(ctx: &ReportCtx, last_log_line: Option<&str>) -> String {
    let mut head = vec![
        "**trackit**".to_string(),
        format!("`{}`", ctx.experiment),
        format!("**{}**", ctx.status),
        format!("attempt {}/{}", ctx.current_attempt(), ctx.max_attempts),
    ];
    if let Some(job) = ctx.current_job() {
        head.push(format!("job {}", job.job_id));
        if let Some(e) = job.elapsed_s {
            head.push(format!("elapsed {}", format_elapsed(Some(e))));
        }
    }
    let mut out = format!(
        "{STATUS_MARKER}\n{}\n{}\n",
        status_marker(&ctx.track_id),
        head.join(" · ")
    );
    if let Some(line) = last_log_line.map(str::trim).filter(|l| !l.is_empty()) {
        let line: String = line.chars().take(300).collect();
        out.push_str(&format!("\n> `{}`\n", line.replace('`', "'")));
    }
    if let Some(at) = ctx.updated_at {
        out.push_str(&format!(
            "\n<sub>updated {}</sub>\n",
            at.format("%Y-%m-%d %H:%M:%S UTC")
        ));
    }
    ctx.secrets.scrub(&out)
}

/// The comment posted when an attempt failed and the job is relaunched with edits.
pub fn relaunch_comment(ctx: &ReportCtx, failed: &Attempt, new_job_id: Option<&str>) -> String {
    let mut out = milestone_marker(&ctx.track_id, &format!("relaunch-{}", failed.number + 1));
    out.push('\n');
    let state = failed
        .state
        .map(|s| s.to_string())
        .unwrap_or_else(|| "failed".into());
    out.push_str(&format!(
        "Attempt {}/{} (job {}) ended {state}",
        failed.number, ctx.max_attempts, failed.job_id
    ));
    if let Some(code) = &failed.exit_code {
        out.push_str(&format!(", exit {code}"));
    }
    if failed.elapsed_s.is_some() {
        out.push_str(&format!(", after {}", failed.elapsed()));
    }
    out.push_str(".\n");
    if let Some(d) = &failed.diagnosis {
        out.push_str(&format!("\n**Diagnosis:** `{}`: {}\n", d.kind, d.summary));
        if !d.evidence.is_empty() {
            out.push_str("\n```\n");
            for e in &d.evidence {
                out.push_str(e.trim_end());
                out.push('\n');
            }
            out.push_str("```\n");
        }
    }
    let next = match new_job_id {
        Some(id) => format!("as job {id}"),
        None => "now".to_string(),
    };
    if failed.edits.is_empty() {
        out.push_str(&format!(
            "\nRelaunched unchanged {next} (attempt {}).\n",
            failed.number + 1
        ));
    } else {
        out.push_str(&format!(
            "\nRelaunched {next} (attempt {}) with:\n",
            failed.number + 1
        ));
        for e in &failed.edits {
            out.push_str(&format!("- {e}\n"));
        }
    }
    ctx.secrets.scrub(&out)
}

/// The comment posted once the track is over: the results, or why it failed.
pub fn final_comment(ctx: &ReportCtx) -> String {
    let mut out = milestone_marker(&ctx.track_id, "final");
    out.push('\n');
    let attempts = ctx.current_attempt();
    let plural = if attempts == 1 { "" } else { "s" };
    match ctx.status {
        TrackStatus::Completed => {
            out.push_str(&format!(
                "**COMPLETED** after {attempts} attempt{plural}.\n"
            ));
            if let Some(report) = &ctx.metrics {
                out.push('\n');
                for m in &report.metrics {
                    out.push_str(&format!("- {}\n", metric_line(m)));
                }
                if !report.missing.is_empty() {
                    out.push_str(&format!("- not found: {}\n", report.missing.join(", ")));
                }
            } else {
                out.push_str("\nNo results were found.\n");
            }
            if let Some(eff) = ctx.current_job().and_then(|j| j.efficiency.as_ref()) {
                out.push_str(&format!("\nResources: {}\n", eff.line));
            }
        }
        status => {
            out.push_str(&format!("**{status}** after {attempts} attempt{plural}."));
            if let Some(d) = ctx.attempts.last().and_then(|a| a.diagnosis.as_ref()) {
                out.push_str(&format!(" Last diagnosis: `{}`: {}", d.kind, d.summary));
            }
            out.push_str(
                "\n\nThe failure report is in the experiment doc and the PR description.\n",
            );
        }
    }
    if let Some(doc) = &ctx.links.doc {
        out.push_str(&format!("\nDoc: `{doc}`\n"));
    }
    ctx.secrets.scrub(&out)
}

/// A plain results table, for when no Lua renderer works.
pub fn fallback_table(ctx: &ReportCtx) -> String {
    let cols = ctx.metric_columns();
    let mut out = String::from("| job | state |");
    for c in &cols {
        out.push_str(&format!(" {} |", cell(c)));
    }
    out.push_str(" elapsed | memory |\n|---|---|");
    out.push_str(&"---|".repeat(cols.len()));
    out.push_str("---|---|\n");
    for (i, row) in ctx.jobs.iter().enumerate() {
        out.push_str(&format!("| {} | {} |", cell(&row.job_id), row.state));
        let metrics = ctx.row_metrics(i);
        for c in &cols {
            let value = match metrics {
                None => {
                    if row.state.is_terminal() {
                        DASH.to_string()
                    } else {
                        row.state.to_string()
                    }
                }
                Some(r) => r
                    .metrics
                    .iter()
                    .find(|m| m.name == *c || m.query.as_deref() == Some(c))
                    .and_then(|m| m.final_value)
                    .map(format_number)
                    .unwrap_or_else(|| DASH.to_string()),
            };
            out.push_str(&format!(" {value} |"));
        }
        out.push_str(&format!(
            " {} | {} |\n",
            format_elapsed(row.elapsed_s),
            format_memory(row.max_rss_bytes)
        ));
    }
    if ctx.status == TrackStatus::Failed {
        out.push_str(&format!(
            "\n**FAILED** after {} attempts.\n",
            ctx.attempts.len()
        ));
        for a in &ctx.attempts {
            let d = a
                .diagnosis
                .as_ref()
                .map(|d| format!("{}: {}", d.kind, d.summary))
                .unwrap_or_default();
            out.push_str(&format!(
                "- attempt {} (job {}): {}\n",
                a.number, a.job_id, d
            ));
        }
    }
    ctx.secrets.scrub(&out)
}

/// A plain PR text, for when no Lua renderer works.
pub fn fallback_pr(ctx: &ReportCtx) -> PrText {
    let body = format!(
        "{}\n## Summary\n\nExperiment `{}`, track `{}`.\n\n## Status\n\n**{}**\n\n## Results\n\n{}",
        pr_marker(&ctx.track_id),
        ctx.experiment,
        ctx.track_id,
        ctx.status,
        fallback_table(ctx)
    );
    let body = match ctx.discussion.as_deref() {
        Some(d) if !d.trim().is_empty() => format!("{body}\n\n## Discussion\n\n{}\n", d.trim()),
        _ => body,
    };
    PrText {
        title: ctx.secrets.scrub(&format!("Results: {}", ctx.experiment)),
        body: ctx.secrets.scrub(&ensure_record(body, ctx)),
    }
}

/// A plain commit message, for when no Lua renderer works.
pub fn fallback_commit_message(ctx: &ReportCtx, what: &str) -> String {
    let what = if what.trim().is_empty() {
        "update"
    } else {
        what.trim()
    };
    ctx.secrets.scrub(&format!(
        "results({}): {what}\n\n{}\n",
        ctx.experiment,
        track_trailer(&ctx.track_id)
    ))
}

/// Makes sure a PR body carries the hidden marker, whatever the policy rendered.
pub fn ensure_pr_marker(body: String, track_id: &str) -> String {
    if is_own_pr(&body, track_id) {
        body
    } else {
        format!("{}\n{body}", pr_marker(track_id))
    }
}

/// Makes sure a PR body with results carries the hidden record a later run compares with.
pub fn ensure_record(body: String, ctx: &ReportCtx) -> String {
    match ctx.record() {
        Some(r)
            if !super::record::parse_records(&body)
                .iter()
                .any(|x| x.track == r.track) =>
        {
            format!("{}\n{}\n", body.trim_end(), r.to_comment())
        }
        _ => body,
    }
}

/// Makes sure a commit message carries the `Trackit-Track:` trailer and ends with a newline.
pub fn ensure_trailer(message: String, track_id: &str) -> String {
    let trailer = track_trailer(track_id);
    let mut m = message.trim_end().to_string();
    if !m.lines().any(|l| l.trim() == trailer) {
        m.push_str("\n\n");
        m.push_str(&trailer);
    }
    m.push('\n');
    m
}

#[cfg(test)]
mod section_tests {
    use super::*;

    #[test]
    fn sections_of_several_tracks_share_one_body() {
        let a = pr_section("t1", "body one");
        let b = pr_section("t2", "body two");
        let body = merge_pr_body("", "t1", &a);
        let body = merge_pr_body(&body, "t2", &b);
        assert!(body.contains("body one") && body.contains("body two"));
        let a2 = pr_section("t1", "body one, finished");
        let body = merge_pr_body(&body, "t1", &a2);
        assert!(body.contains("body one, finished") && body.contains("body two"));
        assert!(!body.contains("body one\n"));
        assert!(body.find("finished").unwrap() < body.find("body two").unwrap());
        // Someone else's text stays, first.
        let body = merge_pr_body("written by hand", "t3", &pr_section("t3", "three"));
        assert!(body.starts_with("written by hand"));
    }
}
