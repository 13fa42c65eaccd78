//! Results: collectors on real training outputs (`tests/data/results/`), metric summaries,
//! discovery by modification time, efficiency lines and the SVG chart.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use trackit::job::{JobInfo, JobState};
use trackit::results::{
    collect, collect_file, discover, efficiency, plot_svg, summarize, Goal, Results,
};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/results")
        .join(name)
}

fn hf_run() -> Results {
    collect(&[
        data("hf_trainer.trainer_state.json"),
        data("hf_trainer.all_results.json"),
    ])
}

fn no_goals() -> BTreeMap<String, String> {
    BTreeMap::new()
}

#[test]
fn hf_trainer_state_gives_train_and_eval_series() {
    let r = collect_file(&data("hf_trainer.trainer_state.json")).unwrap();
    let loss = r.series("loss").expect("train loss series");
    assert_eq!(loss.points.len(), 9);
    let steps: Vec<u64> = loss.points.iter().map(|p| p.step.unwrap()).collect();
    assert_eq!(steps, [20, 40, 60, 80, 100, 120, 140, 160, 180]);
    assert_eq!(loss.points[0].value, 0.6911862373352051);
    assert_eq!(loss.points[0].epoch, Some(0.3125));

    // Three epoch-end evaluations; the repeated final evaluation at step 192 is one point.
    let acc = r.series("eval_accuracy").expect("eval accuracy series");
    let epochs: Vec<f64> = acc.points.iter().map(|p| p.epoch.unwrap()).collect();
    assert_eq!(epochs, [1.0, 2.0, 3.0]);
    assert_eq!(acc.points[0].value, 0.94921875);
    assert_eq!(
        r.series("eval_loss").unwrap().points[1].value,
        0.03687667101621628
    );
    assert!(r.series("step").is_none() && r.series("epoch").is_none());

    // The closing summary record is final scalars, not a series point.
    assert_eq!(r.finals.get("train_loss"), Some(&0.22797345307966074));
    assert!(r.series("train_loss").is_none());
}

#[test]
fn hf_results_json_are_final_scalars() {
    for name in [
        "hf_trainer.all_results.json",
        "hf_trainer.eval_results.json",
    ] {
        let r = collect_file(&data(name)).unwrap();
        assert!(r.series.is_empty(), "{name}");
        assert_eq!(r.finals["eval_loss"], 0.019542083144187927, "{name}");
        assert_eq!(r.finals["eval_accuracy"], 0.998046875, "{name}");
    }
    let r = collect_file(&data("hf_trainer.train_results.json")).unwrap();
    assert_eq!(r.finals["train_runtime"], 3.609);
    assert_eq!(r.finals["total_flos"], 168364081152.0);
}

#[test]
fn hf_metric_summaries() {
    let r = hf_run();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let report = summarize(&r, &[], &no_goals()).unwrap();
    let names: Vec<&str> = report.metrics.iter().map(|m| m.name.as_str()).collect();
    // Default set: evaluation metrics first; runtimes, throughput, flos, epoch left out.
    assert_eq!(names, ["eval_accuracy", "eval_loss", "loss", "train_loss"]);

    let eval_loss = &report.metrics[1];
    assert_eq!(eval_loss.goal, Some(Goal::Min));
    assert_eq!(eval_loss.final_value, Some(0.019542083144187927));
    let best = eval_loss.best.as_ref().unwrap();
    assert_eq!(
        (best.value, best.epoch, best.step),
        (0.019542083144187927, Some(3.0), Some(192))
    );

    let acc = &report.metrics[0];
    assert_eq!(acc.goal, Some(Goal::Max));
    assert_eq!(acc.points, 3);
    let best = acc.best.as_ref().unwrap();
    assert_eq!((best.value, best.epoch), (0.998046875, Some(3.0)));

    let loss = &report.metrics[2];
    let best = loss.best.as_ref().unwrap();
    assert_eq!((best.value, best.step), (0.01326710730791092, Some(180)));
    // train_loss exists only as a final scalar: no best, no points.
    assert_eq!(report.metrics[3].points, 0);
    assert!(report.metrics[3].best.is_none());

    // Asking by other spellings; an unknown name is reported missing.
    let wanted = ["accuracy".to_string(), "EVAL-LOSS".into(), "bleu".into()];
    let report = summarize(&r, &wanted, &no_goals()).unwrap();
    assert_eq!(report.metrics[0].name, "eval_accuracy");
    assert_eq!(report.metrics[0].query.as_deref(), Some("accuracy"));
    assert_eq!(report.metrics[1].name, "eval_loss");
    assert_eq!(report.missing, ["bleu"]);

    // An override flips the goal: best eval_loss is then the first evaluation's.
    let goals = BTreeMap::from([("eval_loss".to_string(), "max".to_string())]);
    let report = summarize(&r, &["eval_loss".to_string()], &goals).unwrap();
    let best = report.metrics[0].best.as_ref().unwrap();
    assert_eq!((best.value, best.epoch), (0.22885645925998688, Some(1.0)));
    let bad = BTreeMap::from([("eval_loss".to_string(), "smaller".to_string())]);
    let err = summarize(&r, &[], &bad).unwrap_err().to_string();
    assert!(
        err.contains("eval_loss") && err.contains("smaller"),
        "{err}"
    );

    // The report is what Lua and --json get.
    let json = serde_json::to_value(report_of(&r)).unwrap();
    assert_eq!(json["metrics"][1]["final"], 0.019542083144187927);
    assert_eq!(json["metrics"][1]["goal"], "min");
    assert_eq!(json["metrics"][1]["best"]["epoch"], 3.0);
}

fn report_of(r: &Results) -> trackit::results::MetricsReport {
    summarize(r, &[], &no_goals()).unwrap()
}

#[test]
fn lightning_sparse_csv_merges_by_step_and_epoch() {
    let r = collect_file(&data("lightning_regress.metrics.csv")).unwrap();
    let names: Vec<&str> = r.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["train/mse_epoch", "train/mse_step", "val/mae", "val/mse"]
    );
    let val = r.series("val/mse").unwrap();
    let epochs: Vec<f64> = val.points.iter().map(|p| p.epoch.unwrap()).collect();
    assert_eq!(epochs, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    assert_eq!(val.points[0].step, Some(39));
    assert_eq!(val.points[2].value, 0.04120144993066788);
    let step = r.series("train/mse_step").unwrap();
    assert_eq!(step.points.len(), 24);
    assert_eq!(step.points[0].step, Some(9));
    assert_eq!(step.points[0].value, 0.6887496709823608);
    assert_eq!(step.points[23].step, Some(239));
    assert_eq!(r.series("train/mse_epoch").unwrap().points.len(), 6);
    assert!(r.finals.is_empty());

    let wanted = ["val_mse".to_string(), "val/mae".into()];
    let report = summarize(&r, &wanted, &no_goals()).unwrap();
    let mse = &report.metrics[0];
    assert_eq!(mse.name, "val/mse");
    assert_eq!(mse.goal, Some(Goal::Min));
    assert_eq!(mse.final_value, Some(0.028456244617700577));
    assert_eq!(mse.final_epoch, Some(5.0));
    let best = mse.best.as_ref().unwrap();
    assert_eq!(
        (best.value, best.epoch, best.step),
        (0.028456244617700577, Some(5.0), Some(239))
    );
    // Best is not simply the last: a "max" override on mae picks epoch 2.
    let goals = BTreeMap::from([("mae".to_string(), "max".to_string())]);
    let report = summarize(&r, &wanted, &goals).unwrap();
    let best = report.metrics[1].best.as_ref().unwrap();
    assert_eq!((best.value, best.epoch), (0.1546245962381363, Some(2.0)));

    let defaults = summarize(&r, &[], &no_goals()).unwrap();
    let names: Vec<&str> = defaults.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        ["val/mae", "val/mse", "train/mse_epoch", "train/mse_step"]
    );
}

#[test]
fn json_lines_records_and_nan() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metrics.jsonl");
    std::fs::write(
        &path,
        "{\"epoch\": 1, \"train\": {\"loss\": 0.9}, \"val_acc\": 0.5}\n\
         \n\
         {\"epoch\": 2, \"train\": {\"loss\": 0.4}, \"val_acc\": 0.7, \"note\": \"ok\"}\n\
         {\"epoch\": 3, \"train\": {\"loss\": NaN}, \"val_acc\": 0.6}\n",
    )
    .unwrap();
    let r = collect_file(&path).unwrap();
    let loss = r.series("train.loss").unwrap();
    assert_eq!(loss.points.len(), 3);
    assert!(loss.points[2].value.is_nan());
    let report = summarize(&r, &["loss".to_string(), "val_acc".into()], &no_goals()).unwrap();
    let loss = &report.metrics[0];
    assert_eq!(loss.name, "train.loss");
    assert!(loss.final_value.unwrap().is_nan());
    // A diverged (NaN) point is never best.
    assert_eq!(loss.best.as_ref().unwrap().value, 0.4);
    let acc = report.metrics[1].best.as_ref().unwrap();
    assert_eq!((acc.value, acc.epoch), (0.7, Some(2.0)));

    // A record list in a .json file, without step or epoch: position is the step.
    let path = dir.path().join("history.json");
    std::fs::write(&path, r#"[{"loss": 3.0}, {"loss": 2.0}]"#).unwrap();
    let r = collect_file(&path).unwrap();
    let steps: Vec<_> = r
        .series("loss")
        .unwrap()
        .points
        .iter()
        .map(|p| p.step)
        .collect();
    assert_eq!(steps, [Some(0), Some(1)]);
}

#[test]
fn malformed_json_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all_results.json");
    std::fs::write(&path, "{\n  \"eval_loss\": 0.5,\n  \"eval_acc\": ,\n}\n").unwrap();
    let err = collect_file(&path).unwrap_err();
    assert_eq!((err.line, err.column), (Some(3), Some(15)));
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{}:3:15: invalid JSON", path.display())),
        "{text}"
    );

    // JSON lines: the line of the broken record.
    let path = dir.path().join("log.jsonl");
    std::fs::write(&path, "{\"loss\": 1}\n{\"loss\": 2}\n{\"loss\": \n").unwrap();
    let err = collect_file(&path).unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");

    // A truncated file among good ones: the others are still read, the error is kept.
    let broken = dir.path().join("trainer_state.json");
    std::fs::write(&broken, "{\"log_history\": [{\"loss\": 1.0, \"step\": 1}").unwrap();
    let r = collect(&[broken.clone(), data("hf_trainer.all_results.json")]);
    assert_eq!(r.finals["eval_accuracy"], 0.998046875);
    assert_eq!(r.errors.len(), 1);
    assert!(
        r.errors[0].starts_with(&format!("{}:1:", broken.display())),
        "{:?}",
        r.errors
    );
}

#[test]
fn malformed_csv_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metrics.csv");
    let good = std::fs::read_to_string(data("lightning_regress.metrics.csv")).unwrap();
    // Cut the file inside its 5th record (line 6): too few fields.
    let mut lines: Vec<&str> = good.lines().collect();
    lines[5] = "0,39,,";
    std::fs::write(&path, lines.join("\n")).unwrap();
    let err = collect_file(&path).unwrap_err();
    assert_eq!(err.line, Some(6), "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{}:6: invalid CSV", path.display())),
        "{text}"
    );
    assert!(text.contains("4 fields") && text.contains("6"), "{text}");

    let path = dir.path().join("x.csv");
    std::fs::write(&path, b"a,b\n1,2\n3,\xff\n").unwrap();
    let err = collect_file(&path).unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
}

fn touch(path: &Path, mtime: SystemTime) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, "{\"loss\": 1}\n").unwrap();
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(mtime).unwrap();
}

#[test]
fn discovery_keeps_files_written_since_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let start = SystemTime::now() - Duration::from_secs(3600);
    let old = start - Duration::from_secs(86400);
    let new = start + Duration::from_secs(60);
    touch(&root.join("out/trainer_state.json"), new);
    touch(&root.join("out/all_results.json"), new);
    touch(&root.join("lightning_logs/version_0/metrics.csv"), new);
    touch(&root.join("old_run/all_results.json"), old);
    touch(&root.join("out/config.json"), new);
    touch(&root.join("out/tokenizer.json"), new);
    touch(&root.join("notes.txt"), new);
    touch(&root.join(".git/x.json"), new);
    touch(&root.join(".trackit/state.json"), new);
    touch(&root.join("node_modules/p/package-info.json"), new);
    touch(&root.join("myenv/lib/site.json"), new);
    std::fs::write(root.join("myenv/pyvenv.cfg"), "home = /usr\n").unwrap();
    touch(&root.join("a/b/c/d/e/f/g/deep.json"), new);

    let rel = |v: Vec<PathBuf>| -> Vec<String> {
        v.iter()
            .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
            .collect()
    };
    let found = rel(discover(None, root, start).unwrap());
    assert_eq!(
        found,
        [
            "lightning_logs/version_0/metrics.csv",
            "out/all_results.json",
            "out/trainer_state.json"
        ]
    );
    // A glob filters by time too; a named file is taken whatever its age.
    let found = rel(discover(Some("*/all_results.json"), root, start).unwrap());
    assert_eq!(found, ["out/all_results.json"]);
    let found = rel(discover(Some("old_run/all_results.json"), root, start).unwrap());
    assert_eq!(found, ["old_run/all_results.json"]);
    let found = rel(discover(Some("lightning_logs"), root, start).unwrap());
    assert_eq!(found, ["lightning_logs/version_0/metrics.csv"]);
    assert!(discover(Some("nope.json"), root, start).is_err());
    assert!(discover(Some("out/[x.json"), root, start).is_err());
}

#[test]
fn efficiency_lines_and_hints() {
    // A completed job that asked for far too much.
    let job = JobInfo {
        id: "4812331".into(),
        state: Some(JobState::Completed),
        elapsed_s: Some(12 * 60),
        timelimit_s: Some(8 * 3600),
        max_rss_bytes: Some(3_328_599_654), // 3.1G
        req_mem_bytes: Some(32 << 30),
        cpu_time_s: Some(12 * 60 * 3),
        cpus: Some(4),
        ..Default::default()
    };
    let e = efficiency(&job);
    assert_eq!(e.time_pct, Some(2.5));
    assert!((e.mem_pct.unwrap() - 9.69).abs() < 0.01);
    assert_eq!(e.cpu_pct, Some(75.0));
    assert_eq!(e.suggest_mem.as_deref(), Some("8G"));
    assert_eq!(e.suggest_time.as_deref(), Some("00:30:00"));
    assert_eq!(
        e.line,
        "time 00:12:00 of 08:00:00 (2.5%), memory 3.1G of 32G (9.7%), CPU 75% of 4 CPUs; \
         used 00:12:00 of 08:00:00: --time=00:30:00 would do; used 3.1G of 32G: --mem=8G would do"
    );

    // Close to the limits: a warning with safer values, whatever the state.
    let job = JobInfo {
        state: Some(JobState::Timeout),
        elapsed_s: Some(4 * 3600),
        timelimit_s: Some(4 * 3600),
        max_rss_bytes: Some(15 << 30),
        req_mem_bytes: Some(16 << 30),
        cpu_time_s: Some(4 * 3600 * 8 / 10),
        cpus: Some(8),
        ..Default::default()
    };
    let e = efficiency(&job);
    assert_eq!(e.suggest_time.as_deref(), Some("08:00:00"));
    assert_eq!(e.suggest_mem.as_deref(), Some("32G"));
    assert!(
        e.line.contains(
            "used 04:00:00 of 04:00:00 (100%): close to the limit, --time=08:00:00 would be safer"
        ),
        "{}",
        e.line
    );
    assert!(
        e.line
            .contains("used 15G of 16G (94%): close to the limit, --mem=32G would be safer"),
        "{}",
        e.line
    );
    // A failed job gets no right-sizing hint (CPU 10% of 8 would otherwise give one).
    assert_eq!(e.suggest_cpus, None);

    // Idle CPUs on a completed job; a well-sized request gets no hint.
    let job = JobInfo {
        state: Some(JobState::Completed),
        elapsed_s: Some(3600),
        timelimit_s: Some(2 * 3600),
        max_rss_bytes: Some(5 << 30),
        req_mem_bytes: Some(8 << 30),
        cpu_time_s: Some(3600),
        cpus: Some(16),
        ..Default::default()
    };
    let e = efficiency(&job);
    assert_eq!(e.suggest_cpus, Some(2));
    assert_eq!(
        (e.suggest_mem.clone(), e.suggest_time.clone()),
        (None, None)
    );
    assert_eq!(
        e.line,
        "time 01:00:00 of 02:00:00 (50%), memory 5G of 8G (62%), CPU 6.2% of 16 CPUs; \
         1.0 of 16 CPUs busy on average: --cpus-per-task=2 would do"
    );

    assert_eq!(
        efficiency(&JobInfo::default()).line,
        "no resource use reported"
    );
}

/// Checks well-formedness with a real XML parser and returns the series paths' names.
fn series_paths(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.has_tag_name("path") && n.attribute("class") == Some("series"))
        .map(|n| {
            let d = n.attribute("d").unwrap();
            assert!(d.is_empty() || d.starts_with('M'), "{d}");
            n.attribute("data-name").unwrap().to_string()
        })
        .collect()
}

#[test]
fn svg_chart_is_well_formed_with_one_path_per_series() {
    let r = hf_run();
    let chosen: Vec<_> = ["loss", "eval_loss", "eval_accuracy"]
        .iter()
        .map(|n| r.series(n).unwrap().clone())
        .collect();
    let svg = plot_svg(&chosen, "tiny BERT <HF Trainer> & friends");
    assert_eq!(series_paths(&svg), ["loss", "eval_loss", "eval_accuracy"]);
    assert!(svg.contains("&lt;HF Trainer&gt; &amp; friends"));
    assert!(svg.contains(">step</text>"));
    // Deterministic.
    assert_eq!(svg, plot_svg(&chosen, "tiny BERT <HF Trainer> & friends"));

    let r = collect_file(&data("lightning_regress.metrics.csv")).unwrap();
    let svg = plot_svg(&r.series, "lightning");
    assert_eq!(
        series_paths(&svg),
        ["train/mse_epoch", "train/mse_step", "val/mae", "val/mse"]
    );
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let first = doc
        .descendants()
        .find(|n| n.attribute("data-name") == Some("train/mse_step"))
        .unwrap();
    assert_eq!(first.attribute("d").unwrap().matches(" L").count(), 23);

    // Empty input and series of one point or only NaN still make valid SVG.
    assert!(series_paths(&plot_svg(&[], "empty")).is_empty());
    let mut one = chosen[0].clone();
    one.points.truncate(1);
    let mut nan = chosen[1].clone();
    for p in &mut nan.points {
        p.value = f64::NAN;
    }
    assert_eq!(series_paths(&plot_svg(&[one, nan], "odd")).len(), 2);
}

#[test]
fn other_shapes_json_lines_in_json_keras_history_tsv() {
    let dir = tempfile::tempdir().unwrap();
    // Some tools write JSON lines into a `.json` file.
    let path = dir.path().join("metrics.json");
    std::fs::write(
        &path,
        "{\"step\": 10, \"loss\": 2.5}\n{\"step\": 20, \"loss\": 1.5}\n",
    )
    .unwrap();
    let r = collect_file(&path).unwrap();
    let steps: Vec<_> = r
        .series("loss")
        .unwrap()
        .points
        .iter()
        .map(|p| p.step)
        .collect();
    assert_eq!(steps, [Some(10), Some(20)]);

    // Keras `History.history` dumped as JSON: arrays per metric, one value per epoch.
    let path = dir.path().join("history.json");
    std::fs::write(
        &path,
        r#"{"loss": [0.9, 0.5, 0.6], "val_accuracy": [0.6, 0.8, 0.7], "meta": {"seed": 3}}"#,
    )
    .unwrap();
    let r = collect_file(&path).unwrap();
    assert_eq!(r.finals["meta.seed"], 3.0);
    let report = summarize(&r, &["val_accuracy".to_string()], &no_goals()).unwrap();
    let best = report.metrics[0].best.as_ref().unwrap();
    assert_eq!((best.value, best.epoch), (0.8, Some(1.0)));
    assert_eq!(report.metrics[0].final_value, Some(0.7));

    // Tab-separated, sniffed without an extension.
    let path = dir.path().join("progress");
    std::fs::write(
        &path,
        "epoch\tval_loss\tmodel\n1\t0.5\tresnet\n2\t0.25\tresnet\n",
    )
    .unwrap();
    let r = collect_file(&path).unwrap();
    assert_eq!(r.series("val_loss").unwrap().points[1].value, 0.25);
    assert!(r.series("model").is_none());

    let path = dir.path().join("notes");
    std::fs::write(&path, "just words\n").unwrap();
    let err = collect_file(&path).unwrap_err().to_string();
    assert!(
        err.contains("notes") && err.contains("unrecognised format"),
        "{err}"
    );
}

#[test]
fn discovery_is_bounded_and_keeps_the_newest() {
    use trackit::results::{discover_with, DiscoverLimits};
    let dir = tempfile::tempdir().unwrap();
    let start = SystemTime::now() - Duration::from_secs(3600);
    for i in 0..10u64 {
        touch(
            &dir.path().join(format!("run{i}/metrics.jsonl")),
            start + Duration::from_secs(60 * (i + 1)),
        );
    }
    let limits = DiscoverLimits {
        max_files: 3,
        ..Default::default()
    };
    let found = discover_with(None, dir.path(), start, limits).unwrap();
    let names: Vec<_> = found
        .iter()
        .map(|p| {
            p.parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(names, ["run7", "run8", "run9"]);
    // A huge file is skipped.
    let limits = DiscoverLimits {
        max_file_bytes: 4,
        ..Default::default()
    };
    assert!(discover_with(None, dir.path(), start, limits)
        .unwrap()
        .is_empty());
}

// --- metrics from wherever jobs write them -------------------------------------------------

use trackit::results::{
    collect_log, collect_sources, discover_sources, parse_line, DiscoverLimits, SourceKind,
};

fn series_values(r: &Results, name: &str) -> Vec<(Option<u64>, Option<f64>, f64)> {
    r.series(name)
        .unwrap_or_else(|| {
            panic!(
                "no series {name}: {:?}",
                r.series.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        })
        .points
        .iter()
        .map(|p| (p.step, p.epoch, p.value))
        .collect()
}

#[test]
fn job_logs_give_metrics_with_their_epoch() {
    // Keras 3 (`verbose=1`): `Epoch 3/4` on its own line, then `\r`/backspace redraws; the
    // last redraw of each epoch (with the validation metrics) is the epoch's point.
    let (r, _) = collect_log(&std::fs::read(data("keras_fit.log")).unwrap(), parse_line);
    assert_eq!(
        series_values(&r, "val_loss"),
        [
            (None, Some(1.0), 0.6601),
            (None, Some(2.0), 0.5213),
            (None, Some(3.0), 0.4185),
            (None, Some(4.0), 0.3199)
        ]
    );
    assert_eq!(series_values(&r, "accuracy")[3], (None, Some(4.0), 0.9401));
    let names: Vec<&str> = r.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["accuracy", "loss", "val_accuracy", "val_loss"]);

    // tqdm postfix (`Epoch 2: 100%|...| 8/8 [..., loss=0.3290, lr=0.3]`) and
    // `epoch 2: val_loss=0.3720 val_acc=0.9531` lines.
    let (r, _) = collect_log(&std::fs::read(data("tiny_sgd.log")).unwrap(), parse_line);
    assert_eq!(
        series_values(&r, "loss"),
        [
            (None, Some(0.0), 0.4782),
            (None, Some(1.0), 0.3788),
            (None, Some(2.0), 0.329)
        ]
    );
    assert_eq!(series_values(&r, "val_loss")[2], (None, Some(2.0), 0.372));
    assert_eq!(series_values(&r, "val_acc").len(), 3);

    // Hugging Face Trainer's dict lines, values as quoted strings, placed by their epoch.
    let (r, _) = collect_log(&std::fs::read(data("hf_trainer.log")).unwrap(), parse_line);
    assert_eq!(
        series_values(&r, "eval_loss"),
        [
            (None, Some(1.0), 0.2289),
            (None, Some(2.0), 0.03688),
            (None, Some(3.0), 0.01954)
        ]
    );
    assert_eq!(series_values(&r, "loss").len(), 9);
    assert_eq!(series_values(&r, "loss")[0], (None, Some(0.3125), 0.6912));

    // Lightning's rich bar carries only `v_num` here (bookkeeping): nothing from it, and none
    // of its banner lines (`Trainable params: 577`, `LOCAL_RANK: 0`) is a metric.
    let (r, lines) = collect_log(
        &std::fs::read(data("lightning_regress.log")).unwrap(),
        parse_line,
    );
    assert!(r.series.is_empty(), "{:?}", r.series);
    assert!(lines > 20);
    // Its shape with metrics, and the step when a line has one.
    let m = parse_line("Epoch 5/5  ━━━━━━━━━━━━━━━━━ 40/40 0:00:00 • 0:00:00 205.91it/s v_num: 0.000 train/mse_step: 0.031 val/mse: 0.0285").unwrap();
    assert_eq!(m.epoch, Some(5.0));
    assert_eq!(
        m.values,
        [
            ("train/mse_step".to_string(), 0.031),
            ("val/mse".to_string(), 0.0285)
        ]
    );
    let m = parse_line(
        "Epoch 3: 100%|██████████| 40/40 [00:00<00:00, 150.00it/s, v_num=0, train/mse_step=0.0312]",
    )
    .unwrap();
    assert_eq!((m.epoch, m.values.len()), (Some(3.0), 1));
    let m = parse_line("[step 1200] loss=0.25 | grad_norm=1.5").unwrap();
    assert_eq!((m.step, m.values.len()), (Some(1200), 2));
}

#[test]
fn tensorboard_scalars_simple_and_tensor() {
    // tensorboardX writes `simple_value`; its `epoch` scalar gives the other points an epoch.
    let d = discover_sources(
        None,
        &data("tensorboard/tbx"),
        SystemTime::UNIX_EPOCH,
        DiscoverLimits::default(),
    )
    .unwrap();
    assert_eq!(d.files.len(), 1);
    assert_eq!(d.files[0].kind, SourceKind::TfEvents);
    let c = collect_sources(&d.files);
    assert!(c.results.errors.is_empty(), "{:?}", c.results.errors);
    assert_eq!(
        series_values(&c.results, "train/loss"),
        [
            (Some(0), Some(0.0), 1.0),
            (Some(10), Some(0.0), 0.5),
            (Some(20), Some(1.0), 0.3333333432674408),
            (Some(30), Some(1.0), 0.25),
            (Some(40), Some(2.0), 0.20000000298023224)
        ]
    );
    assert!(c.results.series("epoch").is_none());
    // tensorboard's own writer: tensor scalars (float32 `float_val`, float64 `double_val`).
    let d = discover_sources(
        None,
        &data("tensorboard/tbtensor"),
        SystemTime::UNIX_EPOCH,
        DiscoverLimits::default(),
    )
    .unwrap();
    assert_eq!(d.files.len(), 2);
    let c = collect_sources(&d.files);
    assert_eq!(
        series_values(&c.results, "eval/loss"),
        [
            (Some(0), None, 0.8999999761581421),
            (Some(1), None, 0.699999988079071),
            (Some(2), None, 0.5)
        ]
    );
    assert_eq!(
        series_values(&c.results, "eval/accuracy")[0].2,
        std::f32::consts::FRAC_PI_4 as f64
    );
    assert_eq!(
        series_values(&c.results, "lr"),
        [(Some(0), None, 0.25), (Some(100), None, 0.5)]
    );

    // A flipped byte fails the CRC check, named by its offset; a cut file ends quietly.
    let bytes = std::fs::read(&d.files[0].path).unwrap();
    let mut bad = bytes.clone();
    let last = bad.len() - 10;
    bad[last] ^= 0x40;
    let err = trackit::results::tfevents::read_events(&bad).unwrap_err();
    assert!(err.message.contains("CRC"), "{err:?}");
    assert!(err.offset > 0);
    let cut = trackit::results::tfevents::read_events(&bytes[..bytes.len() - 7]).unwrap();
    assert!(cut.truncated);
    assert_eq!(
        cut.records + 1,
        trackit::results::tfevents::read_events(&bytes)
            .unwrap()
            .records
    );
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("events.out.tfevents.1.host");
    std::fs::write(&fake, b"this is not a tfrecord file at all").unwrap();
    let c = collect_sources(&[trackit::results::Found {
        path: fake,
        kind: SourceKind::TfEvents,
    }]);
    assert!(
        c.results.errors[0].contains("byte 0: record length fails its CRC check"),
        "{:?}",
        c.results.errors
    );
}

#[test]
fn wandb_mlflow_and_hydra_from_one_real_run() {
    let root = data("tiny_sgd");
    let d = discover_sources(
        None,
        &root,
        SystemTime::UNIX_EPOCH,
        DiscoverLimits::default(),
    )
    .unwrap();
    let kinds: Vec<SourceKind> = d.files.iter().map(|f| f.kind).collect();
    for k in [
        SourceKind::MlflowMetric,
        SourceKind::MlflowParam,
        SourceKind::HydraConfig,
        SourceKind::HydraOverrides,
        SourceKind::WandbLog,
    ] {
        assert!(kinds.contains(&k), "{k:?} not found in {kinds:?}");
    }
    // Hydra's own hydra.yaml, MLflow's meta.yaml and tags, W&B's console copy: not sources.
    assert!(d.files.iter().all(|f| !f.path.ends_with("hydra.yaml")
        && !f.path.ends_with("meta.yaml")
        && !f.path.ends_with("output.log")));
    let c = collect_sources(&d.files);
    assert!(c.results.errors.is_empty(), "{:?}", c.results.errors);
    // W&B's offline transaction log: history by step, with `epoch` from the same row.
    let val = series_values(&c.results, "val/loss");
    assert_eq!(val.len(), 3);
    assert_eq!((val[2].0, val[2].1), (Some(24), Some(2.0)));
    assert!((val[2].2 - 0.37195064743577).abs() < 1e-12);
    assert_eq!(c.results.finals["val/acc"], 0.953125);
    // MLflow and W&B logged train/loss at the same steps: one point per step.
    assert_eq!(series_values(&c.results, "train/loss").len(), 24);
    assert_eq!(
        series_values(&c.results, "val_acc"),
        [
            (Some(0), None, 0.953125),
            (Some(1), None, 0.953125),
            (Some(2), None, 0.953125)
        ]
    );
    // Hyperparameters: Hydra's resolved config and overrides, MLflow params, W&B config.
    let hp = &c.hyperparams;
    assert_eq!(hp.values["optim.lr"], "0.3");
    assert_eq!(hp.values["optim.betas"], "[0.9, 0.999]");
    assert_eq!(hp.values["data.n"], "576");
    assert_eq!(hp.values["model.layers.0.name"], "linear");
    assert_eq!(hp.values["batch_size"], "64");
    assert_eq!(hp.overrides, ["optim.lr=0.3", "+note=tiny run"]);
    assert!(hp.sources.iter().any(|p| p.ends_with(".hydra/config.yaml")));
    assert_eq!(
        c.links,
        ["offline W&B run: `wandb sync wandb/offline-run-20261129_213308-tvo4scd2`"]
    );

    // An online run's files: the summary, the config and the URL W&B printed.
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("wandb/run-20261129_120000-ab12cd34");
    std::fs::create_dir_all(run.join("files")).unwrap();
    std::fs::write(run.join("files/wandb-summary.json"), r#"{"val/loss": 0.25, "_runtime": 12.5, "_step": 99, "media": {"_type": "image-file", "size": 3}, "eval": {"f1": 0.8}}"#).unwrap();
    std::fs::write(run.join("files/config.yaml"), "_wandb:\n  value:\n    cli_version: 0.31.0\nlr:\n  value: 0.001\nmodel:\n  desc: null\n  value:\n    depth: 4\n").unwrap();
    std::fs::write(
        run.join("files/output.log"),
        "wandb: 🚀 View run sgd at: https://wandb.ai/lab/tiny-sgd/runs/ab12cd34\n",
    )
    .unwrap();
    let d = discover_sources(
        None,
        dir.path(),
        SystemTime::UNIX_EPOCH,
        DiscoverLimits::default(),
    )
    .unwrap();
    let c = collect_sources(&d.files);
    assert_eq!(c.results.finals["val/loss"], 0.25);
    assert_eq!(c.results.finals["eval.f1"], 0.8);
    assert!(
        !c.results.finals.contains_key("_runtime") && !c.results.finals.contains_key("media.size")
    );
    assert_eq!(c.hyperparams.values["lr"], "0.001");
    assert_eq!(c.hyperparams.values["model.depth"], "4");
    assert!(!c
        .hyperparams
        .values
        .keys()
        .any(|k| k.contains("cli_version")));
    assert_eq!(c.links, ["https://wandb.ai/lab/tiny-sgd/runs/ab12cd34"]);
}

#[test]
fn hidden_and_config_files_are_named_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let start = SystemTime::now() - Duration::from_secs(3600);
    let new = start + Duration::from_secs(60);
    touch(&root.join(".luarc.json"), new);
    touch(&root.join(".trackit/tracks/x/state.json"), new);
    touch(&root.join("out/config.json"), new);
    touch(&root.join("out/metrics.json"), new);
    touch(
        &root.join("old/metrics.json"),
        start - Duration::from_secs(60),
    );
    std::fs::write(root.join("mlflow.db"), "x").unwrap();
    std::fs::create_dir_all(root.join("lightning_logs/version_0")).unwrap();
    std::fs::write(
        root.join("lightning_logs/version_0/hparams.yaml"),
        "lr: 0.02\nhidden_dim: 64\n",
    )
    .unwrap();
    let d = discover_sources(None, root, start, DiscoverLimits::default()).unwrap();
    let rel = |p: &Path| p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
    let files: Vec<String> = d.files.iter().map(|f| rel(&f.path)).collect();
    assert_eq!(
        files,
        ["lightning_logs/version_0/hparams.yaml", "out/metrics.json"]
    );
    let skipped: Vec<(String, String)> = d
        .skipped
        .iter()
        .map(|s| (rel(&s.path), s.reason.clone()))
        .collect();
    assert_eq!(
        skipped,
        [
            (".luarc.json".to_string(), "hidden file (`trackit init` writes it for the editor)".to_string()),
            ("mlflow.db".to_string(), "MLflow's database store is not read (log to a file store, or name the results with --results)".to_string()),
            ("old/metrics.json".to_string(), "written before the job started".to_string()),
            ("out/config.json".to_string(), "configuration, not results".to_string()),
        ]
    );
    let c = collect_sources(&d.files);
    assert_eq!(c.hyperparams.values["hidden_dim"], "64");
}
