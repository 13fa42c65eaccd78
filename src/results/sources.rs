//! Reading what [`discover_sources`](super::discover_sources) found: every kind of file into one
//! [`Collected`] (series and finals, hyperparameters, W&B run links), then the job's log as a
//! last source of metrics that no file holds.

use super::discover::{Found, Skipped, SourceKind};
use super::{collect_file, LineMetrics, Results};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The settings a run used, from Hydra, Lightning, W&B or MLflow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hyperparams {
    /// Flattened names (`optim.lr`) → value as written.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// Hydra's command-line overrides (`optim.lr=0.3`), as typed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<String>,
    /// The files they were read from.
    #[serde(default)]
    pub sources: Vec<PathBuf>,
}

impl Hyperparams {
    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.overrides.is_empty()
    }
}

/// Everything read from a job's files.
#[derive(Debug, Clone, Default)]
pub struct Collected {
    pub results: Results,
    pub hyperparams: Hyperparams,
    /// W&B run pages (online runs), or `wandb sync` hints for offline ones.
    pub links: Vec<String>,
    /// Files passed over, with the reason.
    pub skipped: Vec<Skipped>,
}

/// Reads every file found. A file that cannot be read is named in `results.errors`.
pub fn collect_sources(found: &[Found]) -> Collected {
    let mut out = Collected::default();
    for f in found {
        if let Err(e) = read_one(f, &mut out) {
            out.results
                .errors
                .push(format!("{}: {e}", f.path.display()));
        }
    }
    out
}

fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| e.to_string())
}

fn read_one(f: &Found, out: &mut Collected) -> Result<(), String> {
    let path = &f.path;
    match f.kind {
        SourceKind::Table => {
            let r = collect_file(path).map_err(|e| {
                // CollectError prints the path itself.
                let text = e.to_string();
                text.strip_prefix(&format!("{}: ", path.display()))
                    .unwrap_or(&text)
                    .to_string()
            })?;
            out.results.merge(r);
            return Ok(());
        }
        SourceKind::TfEvents => {
            let read = super::tfevents::read_events_file(path)
                .map_err(|e| format!("byte {}: {}", e.offset, e.message))?;
            out.results.merge(read.results);
        }
        SourceKind::WandbLog => {
            let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
            let run = super::trackers::read_wandb_log(&bytes)?;
            out.results.merge(run.results);
            add_values(out, run.config, path);
            if let Some(dir) = path.parent() {
                wandb_link(dir, out);
            }
        }
        SourceKind::WandbSummary => {
            let r = super::trackers::read_wandb_summary(&read_text(path)?)?;
            out.results.finals.extend(r.finals);
            if let Some(run_dir) = path.parent().and_then(Path::parent) {
                wandb_link(run_dir, out);
            }
        }
        SourceKind::WandbConfig => {
            let values = super::trackers::read_wandb_config(&read_text(path)?);
            add_values(out, values, path);
        }
        SourceKind::MlflowMetric => {
            let name = super::trackers::mlflow_metric_name(path)
                .ok_or("not under an MLflow run's metrics/ folder")?;
            let r = super::trackers::read_mlflow_metric(&name, &read_text(path)?)?;
            out.results.merge(r);
        }
        SourceKind::MlflowParam => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let value = read_text(path)?.trim().to_string();
            add_values(out, vec![(name, value)], path);
        }
        SourceKind::HydraConfig | SourceKind::LightningHparams => {
            let doc = super::yaml::parse(&read_text(path)?);
            let mut values = Vec::new();
            doc.flatten("", &mut values);
            values.retain(|(k, _)| !k.is_empty());
            add_values(out, values, path);
        }
        SourceKind::HydraOverrides => {
            if let super::yaml::Yaml::Seq(items) = super::yaml::parse(&read_text(path)?) {
                for i in items {
                    let text = i.display();
                    if !out.hyperparams.overrides.contains(&text) {
                        out.hyperparams.overrides.push(text);
                    }
                }
            }
            note_source(out, path);
        }
    }
    out.results.files.push(path.clone());
    Ok(())
}

/// The run's page, from what W&B printed to `files/output.log`; for an offline run, how to
/// upload it.
fn wandb_link(dir: &Path, out: &mut Collected) {
    let url = std::fs::read_to_string(dir.join("files/output.log"))
        .ok()
        .and_then(|t| super::trackers::wandb_run_url(&t));
    let run_dir = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    match (url, run_dir) {
        (Some(url), _) => push_link(out, url),
        (None, Some(d)) if d.starts_with("offline-run-") => push_link(
            out,
            format!("offline W&B run: `wandb sync {}`", wandb_rel(dir)),
        ),
        _ => {}
    }
}

fn wandb_rel(dir: &Path) -> String {
    let parts: Vec<String> = dir
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    match parts.iter().rposition(|p| p == "wandb") {
        Some(i) => parts[i..].join("/"),
        None => dir.display().to_string(),
    }
}

fn push_link(out: &mut Collected, link: String) {
    if !out.links.contains(&link) {
        out.links.push(link);
    }
}

fn note_source(out: &mut Collected, path: &Path) {
    if !out.hyperparams.sources.iter().any(|p| p == path) {
        out.hyperparams.sources.push(path.to_path_buf());
    }
}

fn add_values(out: &mut Collected, values: Vec<(String, String)>, path: &Path) {
    if values.is_empty() {
        return;
    }
    for (k, v) in values {
        out.hyperparams.values.insert(k, v);
    }
    note_source(out, path);
}

/// Adds the metrics of the job's log: only series that no file gave (a file's numbers are
/// more precise than printed ones). Returns the names taken from the log.
pub fn merge_log_metrics(results: &mut Results, from_log: Results) -> Vec<String> {
    let mut taken = Vec::new();
    for s in from_log.series {
        let known = results.series(&s.name).is_some() || results.finals.contains_key(&s.name);
        if known {
            continue;
        }
        taken.push(s.name.clone());
        for p in s.points {
            results.add_point(&s.name, p);
        }
    }
    taken
}

/// The job's log read with the default line parser.
pub fn log_metrics(raw: &[u8]) -> Results {
    super::logparse::collect_log(raw, super::parse_line).0
}

/// Validates what a policy's `parse_metrics(line)` returned (names and numbers), into the
/// same shape as the default parser's.
pub fn line_metrics_from_map(map: BTreeMap<String, f64>) -> Option<LineMetrics> {
    let mut out = LineMetrics::default();
    for (k, v) in map {
        let name = k.trim();
        if name.is_empty() || name.len() > 200 {
            continue;
        }
        match name {
            "epoch" => out.epoch = Some(v).filter(|v| v.is_finite()),
            "step" => {
                out.step = Some(v)
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .map(|v| v as u64)
            }
            _ => out.values.push((name.to_string(), v)),
        }
    }
    (!out.is_empty()).then_some(out)
}
