//! Reports: the results table (PENDING, then filled from real training outputs), the doc's
//! marked section, doc discovery, the failure report, the PR text, commit messages, comments,
//! policy overrides and token scrubbing.

use crate::helper::lab::git;
use crate::helper::{data_dir, write};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use trackit::diagnose::Input;
use trackit::job::{JobInfo, JobState};
use trackit::logtail::{read_tail, TailOptions};
use trackit::lua::{GuardedPolicy, Host, PolicySource};
use trackit::report::doc::{read_section, start_marker};
use trackit::report::format::{format_best, format_number};
use trackit::report::{
    final_comment, relaunch_comment, replace_section, status_comment, write_doc, Attempt, DocError,
    DocSource, JobRow, Links, PlotRef, ReportCtx, Secrets, TrackStatus, STATUS_MARKER,
};
use trackit::results::{collect, collect_file, summarize, MetricsReport};

fn results_file(name: &str) -> PathBuf {
    data_dir().join("results").join(name)
}

fn hf_metrics() -> MetricsReport {
    let r = collect(&[
        results_file("hf_trainer.trainer_state.json"),
        results_file("hf_trainer.all_results.json"),
    ]);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let wanted = [
        "eval_loss".to_string(),
        "eval_accuracy".into(),
        "train_loss".into(),
    ];
    summarize(&r, &wanted, &BTreeMap::new()).unwrap()
}

const HF_TRACK: &str = "20261128-1200-bert";

fn hf_pending() -> ReportCtx {
    ReportCtx::new("bert-tiny-sst2", HF_TRACK)
        .with_backend("slurm")
        .with_command("sbatch train.sh")
        .with_metrics_wanted(["eval_loss", "eval_accuracy", "train_loss"])
        .with_job(JobRow::pending("4812331", 1))
}

fn hf_job(state: JobState) -> JobInfo {
    JobInfo {
        id: "4812331".into(),
        state: Some(state),
        exit: state.is_terminal().then(|| "0:0".parse().unwrap()),
        elapsed_s: Some(754),
        timelimit_s: Some(4 * 3600),
        max_rss_bytes: Some(3_328_599_654),
        req_mem_bytes: Some(32 << 30),
        cpu_time_s: Some(700),
        cpus: Some(4),
        node_list: Some("gpu-07".into()),
        ..Default::default()
    }
}

fn hf_running() -> ReportCtx {
    let mut ctx = hf_pending().with_status(TrackStatus::Running);
    ctx.upsert_job(JobRow::from_job(&hf_job(JobState::Running), 1));
    ctx
}

fn hf_completed() -> ReportCtx {
    let mut ctx = hf_pending()
        .with_status(TrackStatus::Completed)
        .with_metrics(hf_metrics());
    ctx.upsert_job(JobRow::from_job(&hf_job(JobState::Completed), 1));
    ctx
}

const HF_HEADER: &str = "| job | state | eval_loss | best eval_loss | eval_accuracy | best eval_accuracy | train_loss | best train_loss | elapsed | memory |\n|---|---|---|---|---|---|---|---|---|---|\n";

#[test]
fn pending_running_then_filled_table_from_hf_trainer_outputs() {
    let host = Host::builtin();
    let table = host.format_table(&hf_pending()).unwrap();
    assert_eq!(
        table,
        format!("{HF_HEADER}| 4812331 | PENDING | PENDING | PENDING | PENDING | PENDING | PENDING | PENDING | — | — |")
    );

    let table = host.format_table(&hf_running()).unwrap();
    assert_eq!(
        table,
        format!("{HF_HEADER}| 4812331 | RUNNING | RUNNING | RUNNING | RUNNING | RUNNING | RUNNING | RUNNING | 00:12:34 | 3.1G |\n\nRan on node `gpu-07`.")
    );

    // Filled: 0.019542083144187927 → 0.01954, 0.998046875 → 0.998, 0.22797345307966074 → 0.228;
    // best with where it was reached; train_loss is a final scalar only (no best).
    let table = host.format_table(&hf_completed()).unwrap();
    let (head, rest) = table.split_once("\n\n").unwrap();
    assert_eq!(
        head,
        format!("{HF_HEADER}| 4812331 | COMPLETED | 0.01954 | 0.01954 (epoch 3, step 192) | 0.998 | 0.998 (epoch 3, step 192) | 0.228 | — | 00:12:34 | 3.1G |")
    );
    assert!(!table.contains("0.0195420"), "{table}");
    // The efficiency line (with its right-sizing hints) follows the table, then the node.
    assert_eq!(
        rest,
        "- job 4812331: time 00:12:34 of 04:00:00 (5.2%), memory 3.1G of 32G (9.7%), CPU 23% of 4 CPUs; \
         used 00:12:34 of 04:00:00: --time=00:30:00 would do; used 3.1G of 32G: --mem=8G would do; \
         0.9 of 4 CPUs busy on average: --cpus-per-task=2 would do\n\nRan on node `gpu-07`."
    );
}

#[test]
fn lightning_csv_table_uses_the_names_asked_for() {
    let r = collect_file(&results_file("lightning_regress.metrics.csv")).unwrap();
    let wanted = ["val_mse".to_string(), "val/mae".into(), "bleu".into()];
    let metrics = summarize(&r, &wanted, &BTreeMap::new()).unwrap();
    let mae = metrics.metrics[1].clone();
    let mut ctx = ReportCtx::new("regress", "20261128-1300-reg")
        .with_metrics_wanted(wanted.clone())
        .with_status(TrackStatus::Completed)
        .with_metrics(metrics);
    // Two jobs: an earlier one without results of its own, and the one that produced them.
    ctx.upsert_job(JobRow {
        state: JobState::Failed,
        elapsed_s: Some(3),
        ..JobRow::pending("77", 1)
    });
    ctx.upsert_job(JobRow {
        state: JobState::Completed,
        elapsed_s: Some(90061),
        max_rss_bytes: Some(512 << 20),
        ..JobRow::pending("78", 2)
    });
    let table = Host::builtin().format_table(&ctx).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0],
        "| job | attempt | state | val_mse | best val_mse | val/mae | best val/mae | bleu | best bleu | elapsed | memory |"
    );
    assert_eq!(
        lines[2],
        "| 77 | 1 | FAILED | — | — | — | — | — | — | 00:00:03 | — |"
    );
    assert_eq!(
        lines[3],
        format!(
            "| 78 | 2 | COMPLETED | 0.02846 | 0.02846 (epoch 5, step 239) | {} | {} | not found | — | 1-01:01:01 | 512M |",
            format_number(mae.final_value.unwrap()),
            format_best(mae.best.as_ref().unwrap())
        )
    );
    assert_eq!(
        format_best(mae.best.as_ref().unwrap()),
        "0.1199 (epoch 5, step 239)"
    );
    assert!(
        table.ends_with("Not found in the results: bleu."),
        "{table}"
    );
}

#[test]
fn lua_and_rust_format_numbers_alike() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(
        dir.path(),
        "policy.lua",
        r#"local report = require("trackit.report")
return {
  format_table = function(ctx)
    local out = {}
    for _, m in ipairs(ctx.metrics.metrics) do out[#out + 1] = report.format_number(m.final) end
    out[#out + 1] = report.format_mem(3328599654)
    out[#out + 1] = report.format_mem(512 * 1024 * 1024)
    out[#out + 1] = report.format_elapsed(90061)
    return table.concat(out, " ")
  end,
}
"#,
    );
    let host = Host::load(&PolicySource::File(policy)).unwrap();
    let values = [
        0.019542083144187927,
        0.998046875,
        3.0,
        168364081152.0,
        12345.678,
        9.99996,
        9999.96,
        -0.000012345678,
        123.456,
        1.5,
        0.0001,
        -2.5e-7,
        f64::NAN,
    ];
    let metrics = MetricsReport {
        metrics: values
            .iter()
            .enumerate()
            .map(|(i, v)| trackit::results::MetricSummary {
                name: format!("m{i}"),
                query: None,
                goal: None,
                final_value: Some(*v),
                final_step: None,
                final_epoch: None,
                best: None,
                points: 0,
                first: None,
                trend: None,
            })
            .collect(),
        missing: vec![],
    };
    let ctx = ReportCtx::new("x", "t").with_metrics(metrics);
    let lua = host.format_table(&ctx).unwrap();
    use trackit::report::format::{format_elapsed, format_memory};
    let mut rust: Vec<String> = values.iter().map(|v| format_number(*v)).collect();
    rust.push(format_memory(Some(3328599654)));
    rust.push(format_memory(Some(512 << 20)));
    rust.push(format_elapsed(Some(90061)));
    assert_eq!(lua, rust.join(" "));
    assert_eq!(
        lua,
        "0.01954 0.998 3 168364081152 12346 10 10000 -1.235e-05 123.5 1.5 0.0001 -2.5e-07 NaN 3.1G 512M 1-01:01:01"
    );
}

const USER_DOC: &str = "# BERT on SST-2\n\nMy notes: the baseline uses lr 3e-4 | warmup 10%.\n\n## Results\n\nSee below.\n\n## Discussion\n\nThe model converges by epoch 2. Keep this text!\n";

fn outside_markers(text: &str, track: &str) -> (String, String) {
    let start = text.find(&start_marker(track)).unwrap();
    let end_marker = trackit::report::doc::end_marker(track);
    let end = text.find(&end_marker).unwrap() + end_marker.len();
    (text[..start].to_string(), text[end..].to_string())
}

#[test]
fn doc_section_is_replaced_in_place_and_user_text_kept() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let doc = Path::new("docs/bert-tiny-sst2.md");
    write(root, "docs/bert-tiny-sst2.md", USER_DOC);
    let host = Host::builtin();

    // First write: the section goes under the user's "Results" heading, after its text.
    let ctx = hf_pending();
    let up = write_doc(root, doc, &ctx, &host.format_table(&ctx).unwrap()).unwrap();
    assert!(up.changed && !up.created);
    let pending = std::fs::read_to_string(root.join(doc)).unwrap();
    let (before, after) = outside_markers(&pending, HF_TRACK);
    assert_eq!(
        before,
        "# BERT on SST-2\n\nMy notes: the baseline uses lr 3e-4 | warmup 10%.\n\n## Results\n\nSee below.\n\n"
    );
    assert_eq!(
        after,
        "\n\n## Discussion\n\nThe model converges by epoch 2. Keep this text!\n"
    );
    assert!(read_section(&pending, HF_TRACK)
        .unwrap()
        .contains("| 4812331 | PENDING |"));

    // Filled, then the same again: one table, everything outside the markers byte for byte.
    for _ in 0..2 {
        let ctx = hf_completed();
        write_doc(root, doc, &ctx, &host.format_table(&ctx).unwrap()).unwrap();
        let filled = std::fs::read_to_string(root.join(doc)).unwrap();
        assert_eq!(
            outside_markers(&filled, HF_TRACK),
            (before.clone(), after.clone())
        );
        assert_eq!(filled.matches("| job | state |").count(), 1, "{filled}");
        assert_eq!(filled.matches(&start_marker(HF_TRACK)).count(), 1);
        assert!(!filled.contains("PENDING"), "{filled}");
        assert!(filled.contains("| 4812331 | COMPLETED | 0.01954 |"));
    }
    let ctx = hf_completed();
    let again = write_doc(root, doc, &ctx, &host.format_table(&ctx).unwrap()).unwrap();
    assert!(!again.changed);

    // A second track shares the doc: its own section, the first one untouched.
    let first = std::fs::read_to_string(root.join(doc)).unwrap();
    let other = ReportCtx::new("bert-tiny-sst2", "20261129-0900-lr1e-4")
        .with_job(JobRow::pending("4812400", 1));
    write_doc(root, doc, &other, &host.format_table(&other).unwrap()).unwrap();
    let both = std::fs::read_to_string(root.join(doc)).unwrap();
    assert_eq!(
        read_section(&both, HF_TRACK),
        read_section(&first, HF_TRACK)
    );
    assert!(read_section(&both, "20261129-0900-lr1e-4")
        .unwrap()
        .contains("| 4812400 | PENDING |"));
    assert!(both.ends_with("\n## Discussion\n\nThe model converges by epoch 2. Keep this text!\n"));
}

#[test]
fn doc_markers_bare_crlf_broken_and_plots() {
    // A doc without a Results heading: the section is appended under one.
    let out = replace_section("# X\n\nnotes", "t1", "TABLE").unwrap();
    assert_eq!(
        out,
        "# X\n\nnotes\n\n## Results\n\n<!-- trackit:results:start track=t1 -->\nTABLE\n<!-- trackit:results:end track=t1 -->\n"
    );
    // A bare pair placed by hand is claimed, and stays where the user put it.
    let hand =
        "# X\n\n<!-- trackit:results:start -->\nold\n<!-- trackit:results:end -->\n\nafter\n";
    let out = replace_section(hand, "t1", "NEW").unwrap();
    assert_eq!(
        out,
        "# X\n\n<!-- trackit:results:start track=t1 -->\nNEW\n<!-- trackit:results:end track=t1 -->\n\nafter\n"
    );
    assert_eq!(replace_section(&out, "t1", "NEW").unwrap(), out);
    // Windows line endings are kept.
    let crlf = "# X\r\n\r\n<!-- trackit:results:start track=t1 -->\r\nold\r\n<!-- trackit:results:end track=t1 -->\r\nend\r\n";
    assert_eq!(
        replace_section(crlf, "t1", "a\nb").unwrap(),
        "# X\r\n\r\n<!-- trackit:results:start track=t1 -->\r\na\r\nb\r\n<!-- trackit:results:end track=t1 -->\r\nend\r\n"
    );
    // A start marker without its end: an error naming the line, and nothing is written.
    let broken = "# X\n\n<!-- trackit:results:start track=t1 -->\nhalf a table\n";
    assert_eq!(
        replace_section(broken, "t1", "NEW").unwrap_err(),
        DocError::Unclosed { line: 3 }
    );
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "docs/x.md", broken);
    let err = write_doc(
        dir.path(),
        Path::new("docs/x.md"),
        &ReportCtx::new("x", "t1"),
        "T",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("docs/x.md") && err.contains("line 3"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("docs/x.md")).unwrap(),
        broken
    );

    // Plots are linked right under the table, relative to the doc.
    let ctx = ReportCtx::new("x", "t1")
        .with_plot(PlotRef {
            path: "docs/experiments/plots/x-loss.svg".into(),
            title: Some("loss".into()),
            url: None,
        })
        .with_plot(PlotRef {
            path: "results/t1/acc.svg".into(),
            ..Default::default()
        });
    let body =
        trackit::report::doc::section_body("TABLE\n", &ctx, Path::new("docs/experiments/x.md"));
    assert_eq!(
        body,
        "TABLE\n\n![loss](plots/x-loss.svg)\n\n![x results](../../results/t1/acc.svg)"
    );
}

#[test]
fn doc_discovery_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let ctx = hf_pending();
    let mut builtin = GuardedPolicy::load(&PolicySource::Builtin);

    // Nothing yet: a new doc from the template.
    let choice = builtin.choose_doc(root, &ctx, None).unwrap();
    assert_eq!(choice.source, DocSource::Created);
    assert_eq!(choice.path, Path::new("docs/experiments/bert-tiny-sst2.md"));
    let table = builtin.format_table(&ctx);
    let up = write_doc(root, &choice.path, &ctx, &table).unwrap();
    assert!(up.created && up.changed);
    let created = std::fs::read_to_string(root.join(&choice.path)).unwrap();
    assert!(
        created.starts_with("# bert-tiny-sst2\n\n## What was run\n\n```\nsbatch train.sh\n```\n"),
        "{created}"
    );
    for part in [
        "## Results\n\n<!-- trackit:results:start track=20261128-1200-bert -->\n| job |",
        "## Discussion",
        "Generated by trackit",
    ] {
        assert!(created.contains(part), "{part}\n{created}");
    }
    assert!(created.find("## Results").unwrap() < created.find("## Discussion").unwrap());
    std::fs::remove_dir_all(root.join("docs")).unwrap();

    // docs/**/<experiment>*.md, any case: the file named exactly after it first, then sorted.
    write(root, "docs/notes/BERT-tiny-sst2-ablation.md", "a");
    write(root, "docs/runs/Bert-Tiny-SST2.md", "b");
    write(root, "docs/zz/bert-tiny-sst2-v2.md", "c");
    write(root, "docs/.hidden/bert-tiny-sst2.md", "hidden");
    write(root, "other/bert-tiny-sst2.md", "outside docs");
    let found = trackit::report::doc_candidates(root, "bert-tiny-sst2");
    assert_eq!(
        found,
        [
            PathBuf::from("docs/runs/Bert-Tiny-SST2.md"),
            "docs/notes/BERT-tiny-sst2-ablation.md".into(),
            "docs/zz/bert-tiny-sst2-v2.md".into(),
        ]
    );
    let choice = builtin.choose_doc(root, &ctx, None).unwrap();
    assert_eq!(
        (choice.source, choice.path.clone()),
        (DocSource::Found, found[0].clone())
    );

    // The policy's find_doc hook comes before the search, and sees the candidates.
    let pdir = tempfile::tempdir().unwrap();
    let policy = write(
        pdir.path(),
        "policy.lua",
        r#"local base = require("trackit.default")
return trackit.extend(base, {
  find_doc = function(ctx)
    if ctx.experiment == "bert-tiny-sst2" then
      return "docs/lab/" .. #ctx.candidates .. "-" .. ctx.track_id .. ".md"
    end
    return "../escape.md"
  end,
})
"#,
    );
    let mut custom = GuardedPolicy::load(&PolicySource::File(policy));
    let choice = custom.choose_doc(root, &ctx, None).unwrap();
    assert_eq!(choice.source, DocSource::Hook);
    assert_eq!(choice.path, Path::new("docs/lab/3-20261128-1200-bert.md"));
    // A hook answer outside the repository is ignored, with a note.
    let other = ReportCtx::new("other", "t");
    let choice = custom.choose_doc(root, &other, None).unwrap();
    assert_eq!(choice.source, DocSource::Created);
    assert!(choice.note.unwrap().contains("../escape.md"));

    // --doc wins over everything; outside the repository it is an error.
    let choice = custom
        .choose_doc(root, &ctx, Some(Path::new("docs/mine.md")))
        .unwrap();
    assert_eq!(
        (choice.source, choice.path),
        (DocSource::Explicit, PathBuf::from("docs/mine.md"))
    );
    let abs = root.join("docs/runs/Bert-Tiny-SST2.md");
    let choice = custom.choose_doc(root, &ctx, Some(&abs)).unwrap();
    assert_eq!(choice.path, Path::new("docs/runs/Bert-Tiny-SST2.md"));
    let err = custom
        .choose_doc(root, &ctx, Some(Path::new("/etc/passwd")))
        .unwrap_err()
        .to_string();
    assert!(err.contains("--doc /etc/passwd"), "{err}");
    assert!(custom.take_errors().is_empty());
}

/// Three failed attempts, diagnosed from real failure logs.
fn failed_three_times() -> ReportCtx {
    let host = Host::builtin();
    let diagnose = |log: &str| {
        let tail = read_tail(
            &data_dir().join("corpus/dev/logs").join(log),
            TailOptions::default(),
        )
        .unwrap();
        host.diagnose(&Input {
            logs: vec![tail],
            ..Default::default()
        })
        .unwrap()
    };
    let job = |id: &str, state: JobState, exit: &str, elapsed: u64| JobInfo {
        id: id.into(),
        state: Some(state),
        exit: Some(exit.parse().unwrap()),
        elapsed_s: Some(elapsed),
        ..Default::default()
    };
    let a1 = Attempt::ended(
        1,
        &job("101", JobState::OutOfMemory, "0:125", 723),
        Some(&diagnose("011-oom.log")),
    )
    .with_edits(["--mem 32G → 64G"]);
    let a2 = Attempt::ended(
        2,
        &job("102", JobState::Failed, "1:0", 1510),
        Some(&diagnose("020-oom.log")),
    )
    .with_edits(["--mem 64G → 128G", "train.py: --batch-size 64 → 32"]);
    let a3 = Attempt::ended(
        3,
        &job("103", JobState::Timeout, "0:15", 14400),
        Some(&diagnose("023-timeout.log")),
    );
    let mut ctx = ReportCtx::new("bert-tiny-sst2", HF_TRACK)
        .with_metrics_wanted(["eval_loss"])
        .with_status(TrackStatus::Failed);
    for (a, state) in [
        (&a1, JobState::OutOfMemory),
        (&a2, JobState::Failed),
        (&a3, JobState::Timeout),
    ] {
        ctx.upsert_job(JobRow {
            state,
            elapsed_s: a.elapsed_s,
            ..JobRow::pending(a.job_id.clone(), a.number)
        });
    }
    ctx.with_attempt(a1).with_attempt(a2).with_attempt(a3)
}

#[test]
fn failure_report_has_one_row_per_attempt() {
    let ctx = failed_three_times();
    let report = Host::builtin().format_table(&ctx).unwrap();
    let lines: Vec<&str> = report.lines().collect();
    assert!(
        lines[0].starts_with("**FAILED** after 3 attempts: `timeout`: "),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[2],
        "| attempt | job | state | exit code | elapsed | diagnosis | evidence | edits applied |"
    );
    let rows: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("| 1") || l.starts_with("| 2 ") || l.starts_with("| 3 "))
        .collect();
    assert_eq!(rows.len(), 3, "{report}");
    assert!(
        rows[0].starts_with("| 1 | 101 | OUT_OF_MEMORY | 0:125 | 00:12:03 | **oom**: "),
        "{}",
        rows[0]
    );
    assert!(rows[0].contains("exceeded memory limit"), "{}", rows[0]);
    assert!(rows[0].ends_with(" | --mem 32G → 64G |"), "{}", rows[0]);
    assert!(
        rows[1].starts_with(
            "| 2 | 102 | FAILED | 1:0 | 00:25:10 | **oom**: the GPU ran out of memory"
        ),
        "{}",
        rows[1]
    );
    assert!(
        rows[1].contains("`logs/020-oom.log:") || rows[1].contains("020-oom.log:"),
        "{}",
        rows[1]
    );
    assert!(rows[1].contains("CUDA out of memory"));
    assert!(
        rows[1].ends_with(" | --mem 64G → 128G<br>train.py: --batch-size 64 → 32 |"),
        "{}",
        rows[1]
    );
    assert!(
        rows[2].starts_with("| 3 | 103 | TIMEOUT | 0:15 | 04:00:00 | **timeout**: "),
        "{}",
        rows[2]
    );
    assert!(rows[2].contains("DUE TO TIME LIMIT"), "{}", rows[2]);
    // Markdown in log text stays literal: `*** STEP` is not emphasis.
    assert!(
        rows[2].contains(
            "**timeout**: a job step hit its time limit: slurmstepd: error: \\*\\*\\* STEP"
        ),
        "{}",
        rows[2]
    );
    assert!(rows[2].ends_with(" | — |"));
    // Every row has the 8 cells: pipes inside log lines are escaped.
    for r in &rows {
        let cells = r.replace("\\|", "").matches('|').count();
        assert_eq!(cells, 9, "{r}");
    }

    // The same report goes into the doc's marked section.
    let dir = tempfile::tempdir().unwrap();
    write_doc(dir.path(), Path::new("docs/f.md"), &ctx, &report).unwrap();
    let doc = std::fs::read_to_string(dir.path().join("docs/f.md")).unwrap();
    assert_eq!(read_section(&doc, HF_TRACK).unwrap().trim_end(), report);
}

fn section<'a>(body: &'a str, heading: &str) -> &'a str {
    let start = body
        .find(&format!("## {heading}\n"))
        .unwrap_or_else(|| panic!("no section {heading} in\n{body}"));
    let rest = &body[start + heading.len() + 4..];
    &rest[..rest
        .find("\n## ")
        .or_else(|| rest.find("\n---\n"))
        .unwrap_or(rest.len())]
}

#[test]
fn pr_body_sections_and_test_plan_follow_the_track() {
    let host = Host::builtin();
    let checks = |body: &str| -> Vec<bool> {
        section(body, "Test plan")
            .lines()
            .filter(|l| l.starts_with("- ["))
            .map(|l| l.starts_with("- [x]"))
            .collect()
    };
    let pending = host.render_pr(&hf_pending()).unwrap();
    assert_eq!(pending.title, "Results: bert-tiny-sst2");
    assert!(pending
        .body
        .starts_with("<!-- trackit:pr track=20261128-1200-bert -->\n"));
    assert!(trackit::report::text::is_own_pr(&pending.body, HF_TRACK));
    for h in [
        "Summary",
        "Status",
        "Metrics to collect",
        "Results",
        "Test plan",
    ] {
        section(&pending.body, h);
    }
    assert!(section(&pending.body, "Status").contains("**PENDING**"));
    assert_eq!(
        section(&pending.body, "Metrics to collect").trim(),
        "- `eval_loss`\n- `eval_accuracy`\n- `train_loss`"
    );
    assert!(section(&pending.body, "Results").contains("| 4812331 | PENDING | PENDING |"));
    // The test plan in a results PR's words.
    assert_eq!(
        section(&pending.body, "Test plan").trim(),
        "- [ ] Job 4812331 completes successfully\n- [ ] Results tables updated with actual metrics\n- [ ] Discussion section filled in"
    );
    assert_eq!(checks(&pending.body), [false, false, false]);
    assert_eq!(
        section(&pending.body, "Discussion").trim(),
        "_trackit fills this in when job 4812331 has finished._"
    );

    let running = host.render_pr(&hf_running()).unwrap();
    assert!(section(&running.body, "Status")
        .contains("**RUNNING**: running (job 4812331, attempt 1 of 3)"));
    assert_eq!(checks(&running.body), [false, false, false]);

    let done = host.render_pr(&hf_completed()).unwrap();
    assert!(section(&done.body, "Status").contains("**COMPLETED**"));
    assert!(section(&done.body, "Results")
        .contains("| 4812331 | COMPLETED | 0.01954 | 0.01954 (epoch 3, step 192) |"));
    assert!(section(&done.body, "Results").contains("- job 4812331: time 00:12:34 of 04:00:00"));
    // Not discussed yet (no `discussion` in the context): the box stays open.
    assert_eq!(checks(&done.body), [true, true, false]);
    let mut discussed = hf_completed();
    discussed.discussion = Some(host.discussion(&discussed).unwrap());
    assert_eq!(
        checks(&host.render_pr(&discussed).unwrap().body),
        [true, true, true]
    );

    let failed = host.render_pr(&failed_three_times()).unwrap();
    assert!(section(&failed.body, "Status").contains("**FAILED**"));
    assert!(section(&failed.body, "Results").contains("| 3 | 103 | TIMEOUT |"));
    assert_eq!(checks(&failed.body), [false, false, false]);

    // A relaunched, then completed track lists its attempts.
    let mut relaunched = hf_completed();
    relaunched.jobs[0].attempt = 2;
    relaunched.attempts = failed_three_times().attempts[..1].to_vec();
    let body = host.render_pr(&relaunched).unwrap().body;
    assert!(section(&body, "Attempts").contains("| 1 | 101 | OUT_OF_MEMORY |"));
    assert!(section(&body, "Status").contains("attempt 2 of 3"));
}

#[test]
fn commit_messages_carry_the_track_trailer() {
    let host = Host::builtin();
    assert_eq!(
        host.commit_message(&hf_pending(), "PENDING table").unwrap(),
        "results(bert-tiny-sst2): PENDING table for job 4812331\n\nTrackit-Track: 20261128-1200-bert\n"
    );
    assert_eq!(
        host.commit_message(&hf_completed(), "").unwrap(),
        "results(bert-tiny-sst2): results table for job 4812331\n\nTrackit-Track: 20261128-1200-bert\n"
    );
    assert!(host
        .commit_message(&failed_three_times(), "")
        .unwrap()
        .starts_with("results(bert-tiny-sst2): failure report for job 103\n"));
}

#[test]
fn a_policy_replaces_report_hooks_without_recompiling() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(
        dir.path(),
        "policy.lua",
        r#"local base = require("trackit.default")
local report = require("trackit.report")
return trackit.extend(base, {
  format_table = function(ctx)
    local rows = { "| run | " .. table.concat(ctx.metrics_wanted, " | ") .. " |" }
    for i, j in ipairs(ctx.jobs) do
      local m = report.row_metrics(ctx, i)
      local cells = {}
      for _, name in ipairs(ctx.metrics_wanted) do
        local v = j.state
        for _, s in ipairs(m and m.metrics or {}) do
          if s.name == name then v = string.format("%.2f", s.final) end
        end
        cells[#cells + 1] = v
      end
      rows[#rows + 1] = "| " .. j.job_id .. " | " .. table.concat(cells, " | ") .. " |"
    end
    return "Lab table\n\n" .. table.concat(rows, "\n")
  end,
  commit_message = function(ctx) return "lab: " .. ctx.what end,
  render_pr = function(ctx) return "just a body for " .. ctx.experiment end,
})
"#,
    );
    let host = Host::load(&PolicySource::File(policy.clone())).unwrap();
    assert_eq!(
        host.format_table(&hf_pending()).unwrap(),
        "Lab table\n\n| run | eval_loss | eval_accuracy | train_loss |\n| 4812331 | PENDING | PENDING | PENDING |"
    );
    assert_eq!(
        host.format_table(&hf_completed()).unwrap(),
        "Lab table\n\n| run | eval_loss | eval_accuracy | train_loss |\n| 4812331 | 0.02 | 1.00 | 0.23 |"
    );
    // What trackit needs is added when a hook leaves it out.
    assert_eq!(
        host.commit_message(&hf_pending(), "x").unwrap(),
        "lab: x\n\nTrackit-Track: 20261128-1200-bert\n"
    );
    let pr = host.render_pr(&hf_pending()).unwrap();
    assert_eq!(pr.title, "Results: bert-tiny-sst2");
    assert_eq!(
        pr.body,
        "<!-- trackit:pr track=20261128-1200-bert -->\njust a body for bert-tiny-sst2"
    );

    // A policy with no report hooks at all gets the built-in renderers.
    let bare = write(dir.path(), "bare.lua", "return { name = 'bare' }\n");
    let host = Host::load(&PolicySource::File(bare)).unwrap();
    assert_eq!(
        host.format_table(&hf_pending()).unwrap(),
        Host::builtin().format_table(&hf_pending()).unwrap()
    );
    assert!(host
        .render_pr(&hf_pending())
        .unwrap()
        .body
        .contains("## Test plan"));
    assert_eq!(host.find_doc(&Default::default()).unwrap(), None);
}

#[test]
fn a_failing_report_hook_falls_back_to_the_builtin() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(
        dir.path(),
        "policy.lua",
        "local base = require('trackit.default')\nreturn trackit.extend(base, {\n  format_table = function(ctx)\n    return ctx.nothing.here\n  end,\n  render_pr = function(ctx) return 42 end,\n  find_doc = function(ctx) error('no docs today') end,\n})\n",
    );
    let host = Host::load(&PolicySource::File(policy.clone())).unwrap();
    let err = host.format_table(&hf_pending()).unwrap_err();
    assert_eq!(
        err.location.as_deref(),
        Some(format!("{}:4", policy.display()).as_str()),
        "{err}"
    );
    let mut guarded = GuardedPolicy::load(&PolicySource::File(policy));
    assert_eq!(
        guarded.format_table(&hf_pending()),
        Host::builtin().format_table(&hf_pending()).unwrap()
    );
    assert!(guarded
        .render_pr(&hf_pending())
        .body
        .contains("## Metrics to collect"));
    let root = tempfile::tempdir().unwrap();
    let choice = guarded
        .choose_doc(root.path(), &hf_pending(), None)
        .unwrap();
    assert_eq!(choice.source, DocSource::Created);
    let errors = guarded.take_errors();
    let hooks: Vec<&str> = errors.iter().map(|e| e.hook.as_str()).collect();
    assert_eq!(hooks, ["format_table", "render_pr", "find_doc"]);
}

#[test]
fn status_and_milestone_comments() {
    let mut ctx = hf_running();
    ctx.updated_at = Some("2026-11-28T12:20:00Z".parse().unwrap());
    let c = status_comment(&ctx, Some("  epoch 2/3 | step 130 loss=0.05  "));
    assert_eq!(
        c,
        "<!-- trackit:status -->\n<!-- trackit:status track=20261128-1200-bert -->\n**trackit** · `bert-tiny-sst2` · **RUNNING** · attempt 1/3 · job 4812331 · elapsed 00:12:34\n\n> `epoch 2/3 | step 130 loss=0.05`\n\n<sub>updated 2026-11-28 12:20:00 UTC</sub>\n"
    );
    assert!(c.starts_with(STATUS_MARKER));

    let failed = failed_three_times();
    let c = relaunch_comment(&failed, &failed.attempts[1], Some("103"));
    assert!(c.starts_with("<!-- trackit:milestone track=20261128-1200-bert relaunch-3 -->\nAttempt 2/3 (job 102) ended FAILED, exit 1:0, after 00:25:10.\n"), "{c}");
    assert!(c.contains("**Diagnosis:** `oom`: the GPU ran out of memory"));
    assert!(c.ends_with("Relaunched as job 103 (attempt 3) with:\n- --mem 64G → 128G\n- train.py: --batch-size 64 → 32\n"), "{c}");

    let done = final_comment(&hf_completed());
    assert!(done.contains("**COMPLETED** after 1 attempt.\n"), "{done}");
    assert!(
        done.contains("- eval_loss 0.01954 (best 0.01954 at epoch 3, step 192)\n"),
        "{done}"
    );
    assert!(done.contains("- train_loss 0.228\n"));
    let f = final_comment(&failed);
    assert!(
        f.contains("**FAILED** after 3 attempts. Last diagnosis: `timeout`"),
        "{f}"
    );
}

#[test]
fn tokens_never_reach_rendered_text() {
    let token = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";
    let named = "s3cr3t-value-from-the-env";
    let mut ctx = hf_completed()
        .with_command(format!(
            "sbatch --export=HF_TOKEN={named} train.sh https://x-access-token:{token}@github.com/o/r"
        ))
        .with_secrets(Secrets::new([named]))
        .with_links(Links {
            branch: Some(format!("results/{named}")),
            ..Default::default()
        });
    ctx.upsert_job(JobRow {
        node: Some(named.into()),
        ..JobRow::from_job(&hf_job(JobState::Completed), 1)
    });
    assert_eq!(format!("{:?}", ctx.secrets), "Secrets(1 hidden)");
    // The secrets themselves are never serialised (so never reach Lua or a state file).
    assert!(serde_json::to_value(&ctx).unwrap().get("secrets").is_none());

    let dir = tempfile::tempdir().unwrap();
    let policy = write(
        dir.path(),
        "leaky.lua",
        "local base = require('trackit.default')\nreturn trackit.extend(base, {\n  format_table = function(ctx) return ctx.command .. ' on ' .. ctx.jobs[1].node end,\n})\n",
    );
    let mut texts = Vec::new();
    for source in [PolicySource::Builtin, PolicySource::File(policy)] {
        let mut g = GuardedPolicy::load(&source);
        texts.push(g.format_table(&ctx));
        let pr = g.render_pr(&ctx);
        texts.push(pr.title);
        texts.push(pr.body);
        texts.push(g.commit_message(&ctx, named));
    }
    texts.push(status_comment(&ctx, Some(&format!("token={token}"))));
    texts.push(final_comment(&ctx));
    texts.push(trackit::report::doc::new_doc(&ctx));
    texts.push(trackit::report::text::fallback_pr(&ctx).body);
    for t in &texts {
        assert!(!t.contains(named) && !t.contains(token), "{t}");
    }
    assert!(
        texts[2]
            .contains("```\nsbatch --export=HF_TOKEN=*** train.sh https://***@github.com/o/r\n```"),
        "{}",
        texts[2]
    );
    assert!(
        texts[4].contains("HF_TOKEN=*** train.sh https://***@github.com/o/r on ***"),
        "{}",
        texts[4]
    );
    assert_eq!(trackit::report::scrub("a s3cr3t b", &["s3cr3t"]), "a *** b");
}

// --- the PR as a research record ------------------------------------------------------------

/// A completed track with everything a research record holds, from real data: the HF
/// metrics, a real dirty git tree, the Hydra run's hyperparameters, an earlier run as the
/// baseline, GPUs from a TRES string.
fn research_ctx(repo: &Path) -> ReportCtx {
    git(repo, &["init", "-q", "-b", "main"]);
    git(repo, &["config", "user.name", "Ada"]);
    git(repo, &["config", "user.email", "ada@example.org"]);
    write(repo, "train.py", "lr = 3e-4\nprint('train')\n");
    write(repo, "README.md", "# lab\n");
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "base"]);
    write(
        repo,
        "train.py",
        "lr = 1e-3\nprint('train')\nprint('more')\n",
    );
    write(repo, "notes.txt", "scratch\n");
    write(repo, ".trackit/tracks/x/state.json", "{}");
    let head = git(repo, &["rev-parse", "HEAD"]).trim().to_string();
    let code = trackit::track::baseline::code_version(repo).unwrap();
    assert_eq!(code.commit, head);

    let found = trackit::results::discover_sources(
        None,
        &data_dir().join("results/tiny_sgd"),
        std::time::SystemTime::UNIX_EPOCH,
        Default::default(),
    )
    .unwrap();
    let hp = trackit::results::collect_sources(&found.files).hyperparams;
    let metrics = hf_metrics();
    let baseline = trackit::report::Baseline {
        label: "PR #3".into(),
        url: Some("https://github.com/lab/bert/pull/3".into()),
        record: trackit::report::parse_records(
            &trackit::report::Record {
                track: "20261120-0900-bert".into(),
                experiment: "bert-tiny-sst2".into(),
                commit: Some("0123456789abcdef".into()),
                metrics: vec![
                    trackit::report::record::RecordMetric {
                        name: "eval_loss".into(),
                        final_value: Some(0.03),
                        best: Some(0.03),
                        goal: Some(trackit::results::Goal::Min),
                    },
                    trackit::report::record::RecordMetric {
                        name: "eval_accuracy".into(),
                        final_value: Some(0.999),
                        best: Some(0.999),
                        goal: Some(trackit::results::Goal::Max),
                    },
                ],
            }
            .to_comment(),
        )
        .remove(0),
    };
    let mut ctx = hf_completed();
    ctx.comparison = trackit::report::compare(&metrics, &baseline.record);
    ctx.baseline = Some(baseline);
    ctx.code = Some(trackit::report::CodeVersion {
        commit_url: Some(format!("https://github.com/lab/bert/commit/{head}")),
        ..code
    });
    ctx.hyperparams = Some(hp);
    ctx.jobs[0].gpus =
        trackit::job::gpus_from_tres("billing=8,cpu=8,gres/gpu=2,gres/gpu:a100=2,mem=64G,node=1");
    ctx.plots = vec![PlotRef {
        path: "docs/experiments/bert-tiny-sst2-T/eval_loss.svg".into(),
        title: Some("eval_loss".into()),
        url: Some("https://github.com/lab/bert/raw/4b825dc642cb6eb9a060e54bf8d69288fbee4904/docs/experiments/bert-tiny-sst2-T/eval_loss.svg".into()),
    }];
    ctx.sources = Some(trackit::report::SourcesReport {
        read: vec![
            "out/trainer_state.json".into(),
            "out/all_results.json".into(),
        ],
        skipped: vec![trackit::report::SkippedFile {
            path: ".luarc.json".into(),
            reason: "hidden file (`trackit init` writes it for the editor)".into(),
        }],
        from_log: vec![],
        links: vec!["https://wandb.ai/lab/bert/runs/ab12cd34".into()],
        errors: vec![],
    });
    ctx
}

#[test]
fn pr_body_is_a_research_record() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let host = Host::builtin();
    let mut ctx = research_ctx(repo);
    ctx.discussion = Some(host.discussion(&ctx).unwrap());
    let body = host.render_pr(&ctx).unwrap().body;
    eprintln!("{body}");
    let summary = section(&body, "Summary");
    let head = git(repo, &["rev-parse", "HEAD"]).trim().to_string();
    assert!(
        summary.contains(&format!(
            "Ran from commit [`{}`](https://github.com/lab/bert/commit/{head}) on `main`.",
            &head[..7]
        )),
        "{summary}"
    );
    assert!(summary.contains("**Uncommitted changes.**"), "{summary}");
    assert!(
        summary.contains("1 file changed, 2 insertions(+), 1 deletion(-), 1 untracked file"),
        "{summary}"
    );
    assert!(summary.contains(" train.py | 3 ++-"), "{summary}");
    assert!(summary.contains(" ?? notes.txt"), "{summary}");
    assert!(!summary.contains(".trackit"), "{summary}");
    assert!(
        summary.contains("Ran on node `gpu-07`, 2 × a100."),
        "{summary}"
    );

    let results = section(&body, "Results");
    assert!(results.contains("Baseline: [PR #3](https://github.com/lab/bert/pull/3) (track `20261120-0900-bert`, commit `0123456`)."), "{results}");
    assert!(
        results.contains("| metric | this run | baseline | Δ |"),
        "{results}"
    );
    assert!(
        results.contains("| eval_loss | 0.01954 | 0.03 | -0.01046 (-34.9%) better |"),
        "{results}"
    );
    assert!(
        results.contains("| eval_accuracy | 0.998 | 0.999 | -0.0009531 (-0.1%) worse |"),
        "{results}"
    );
    assert!(
        results.contains("| train_loss | 0.228 | — | — |"),
        "{results}"
    );
    assert!(results.contains("![eval_loss](https://github.com/lab/bert/raw/4b825dc642cb6eb9a060e54bf8d69288fbee4904/"), "{results}");
    assert!(
        !results.contains("/raw/results/"),
        "plots are linked by commit, not branch: {results}"
    );

    let hp = section(&body, "Hyperparameters");
    assert!(hp.contains("| `optim.lr` | 0.3 |"), "{hp}");
    assert!(
        hp.contains("Overrides: `optim.lr=0.3` `+note=tiny run`"),
        "{hp}"
    );
    assert!(hp.contains(".hydra/config.yaml`"), "{hp}");

    let sources = section(&body, "Sources");
    assert!(
        sources.contains("Run page: https://wandb.ai/lab/bert/runs/ab12cd34"),
        "{sources}"
    );
    assert!(sources.contains("2 files read, 1 passed over"), "{sources}");
    assert!(
        sources.contains("- not read `.luarc.json`: hidden file"),
        "{sources}"
    );

    let discussion = section(&body, "Discussion").trim().to_string();
    assert_eq!(
        discussion,
        "The best eval_loss was 0.01954 at epoch 3, step 192 (0.2289 at the start, 3 points). \
         It was still improving when training stopped: a longer run may help. \
         Against the baseline (PR #3), eval_loss is better: 0.03 → 0.01954 (-34.9%). \
         It succeeded on the first attempt; next time: used 00:12:34 of 04:00:00: --time=00:30:00 would do."
    );
    // The hidden record a later run compares with.
    let records = trackit::report::parse_records(&body);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].track, HF_TRACK);
    assert_eq!(records[0].commit.as_deref(), Some(head.as_str()));
    assert_eq!(
        records[0].metric("eval_loss").unwrap().final_value,
        Some(0.019542083144187927)
    );

    // The doc: the same record in the results section; the Discussion under the user's own
    // heading, after their text, which stays as it was.
    write(repo, "docs/bert-tiny-sst2.md", USER_DOC);
    let table = host.format_table(&ctx).unwrap();
    write_doc(repo, Path::new("docs/bert-tiny-sst2.md"), &ctx, &table).unwrap();
    let doc = std::fs::read_to_string(repo.join("docs/bert-tiny-sst2.md")).unwrap();
    eprintln!("{doc}");
    let section_text = read_section(&doc, HF_TRACK).unwrap();
    assert!(
        section_text.contains("<!-- trackit:record {\"track\":\"20261128-1200-bert\""),
        "{section_text}"
    );
    assert!(
        section_text.contains("| eval_loss | 0.01954 | 0.03 |"),
        "{section_text}"
    );
    assert!(
        section_text.contains("<details><summary>Hyperparameters ("),
        "{section_text}"
    );
    let after_heading = &doc[doc.find("## Discussion\n").unwrap()..];
    assert!(after_heading.starts_with(
        "## Discussion\n\nThe model converges by epoch 2. Keep this text!\n\n<!-- trackit:discussion:start track=20261128-1200-bert -->\nThe best eval_loss was 0.01954"
    ), "{after_heading}");
    assert!(
        doc.ends_with("<!-- trackit:discussion:end track=20261128-1200-bert -->\n"),
        "{doc}"
    );
    // Rewritten in place, never twice.
    write_doc(repo, Path::new("docs/bert-tiny-sst2.md"), &ctx, &table).unwrap();
    assert_eq!(
        std::fs::read_to_string(repo.join("docs/bert-tiny-sst2.md")).unwrap(),
        doc
    );

    // A doc without a Discussion heading gets one; a new doc has the markers.
    let out = trackit::report::doc::replace_discussion("# X\n\nnotes\n", "t1", "Words.").unwrap();
    assert_eq!(out, "# X\n\nnotes\n\n## Discussion\n\n<!-- trackit:discussion:start track=t1 -->\nWords.\n<!-- trackit:discussion:end track=t1 -->\n");
    let fresh = trackit::report::doc::new_doc(&ctx);
    assert!(fresh.contains("## Discussion\n\n<!-- trackit:discussion:start track=20261128-1200-bert -->\n<!-- trackit:discussion:end track=20261128-1200-bert -->\n"), "{fresh}");
}

#[test]
fn discussion_hook_and_default_sentences() {
    let dir = tempfile::tempdir().unwrap();
    // A policy's own discussion; a broken one falls back to the built-in sentences.
    let policy = write(
        dir.path(),
        "p.lua",
        "local base = require('trackit.default')\nreturn trackit.extend(base, {\n  discussion = function(ctx) return 'Lab note: ' .. ctx.status end,\n})\n",
    );
    let host = Host::load(&PolicySource::File(policy)).unwrap();
    assert_eq!(
        host.discussion(&hf_completed()).unwrap(),
        "Lab note: COMPLETED"
    );
    let broken = write(
        dir.path(),
        "b.lua",
        "local base = require('trackit.default')\nreturn trackit.extend(base, {\n  discussion = function(ctx) return ctx.nope.x end,\n})\n",
    );
    let mut g = GuardedPolicy::load(&PolicySource::File(broken));
    let text = g.discussion(&hf_completed());
    assert!(text.starts_with("The best eval_loss was 0.01954"), "{text}");
    assert_eq!(g.take_errors()[0].hook, "discussion");

    // Failed and relaunched tracks.
    let host = Host::builtin();
    let failed = host.discussion(&failed_three_times()).unwrap();
    assert!(
        failed.starts_with("The job failed after 3 attempts; the last diagnosis was `timeout`: "),
        "{failed}"
    );
    let mut relaunched = hf_completed();
    relaunched.jobs[0].attempt = 2;
    relaunched.attempts = failed_three_times().attempts[..2].to_vec();
    let text = host.discussion(&relaunched).unwrap();
    assert!(
        text.contains("It succeeded on attempt 2 of 3, after oom"),
        "{text}"
    );
}

#[test]
fn parse_metrics_hook_reads_a_lab_log_format() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(
        dir.path(),
        "p.lua",
        r#"local base = require("trackit.default")
return trackit.extend(base, {
  -- Our trainer prints `[it 120] ppl 35.2 | bleu 12.5`; everything else the default way.
  parse_metrics = function(line)
    local it, ppl, bleu = line:match("^%[it (%d+)%] ppl ([%d.]+) | bleu ([%d.]+)")
    if it then return { step = tonumber(it), ppl = tonumber(ppl), bleu = tonumber(bleu) } end
    return trackit.metrics.parse_line(line)
  end,
})
"#,
    );
    let log =
        b"[it 100] ppl 40.5 | bleu 10.0\nepoch 1: val_loss=0.5\n[it 120] ppl 35.2 | bleu 12.5\n";
    let mut g = GuardedPolicy::load(&PolicySource::File(policy));
    let r = g.log_metrics(log);
    let ppl: Vec<_> = r
        .series("ppl")
        .unwrap()
        .points
        .iter()
        .map(|p| (p.step, p.value))
        .collect();
    assert_eq!(ppl, [(Some(100), 40.5), (Some(120), 35.2)]);
    assert_eq!(r.series("val_loss").unwrap().points[0].epoch, Some(1.0));
    assert!(g.take_errors().is_empty());

    // A hook that returns text where numbers belong is refused; the default reading is used.
    let bad = write(
        dir.path(),
        "bad.lua",
        "return { parse_metrics = function(line) return { loss = 'low' } end }\n",
    );
    let mut g = GuardedPolicy::load(&PolicySource::File(bad));
    let r = g.log_metrics(log);
    assert_eq!(r.series("val_loss").unwrap().points.len(), 1);
    assert!(r.series("ppl").is_none());
    let errors = g.take_errors();
    assert_eq!(errors[0].hook, "parse_metrics");
    assert!(
        errors[0].to_string().contains("invalid value"),
        "{}",
        errors[0]
    );
}
