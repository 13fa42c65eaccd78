//! Which files hold a job's results.
//!
//! With a spec (relative paths are taken from the working directory):
//! - a file: that file, whatever its age (the user named it);
//! - a folder: the result-like files in it (as below, but within that folder);
//! - a glob (`runs/*/metrics.csv`): the matching files, modified since the job started.
//!
//! Without a spec: result-like files under the working directory modified since the job
//! started (a file modified at the start instant counts). What is read ([`SourceKind`]):
//! - tables: `*.json`, `*.jsonl`, `*.ndjson`, `*.csv`, `*.tsv`, except well-known non-result
//!   JSON (model configs, tokenizers, package manifests);
//! - TensorBoard event files `events.out.tfevents.*`;
//! - W&B runs: `run-*.wandb`, `files/wandb-summary.json`, `files/config.yaml`;
//! - MLflow's file store: `mlruns/*/*/metrics/*` and `params/*`;
//! - hyperparameters: Hydra's `.hydra/config.yaml` and `overrides.yaml`, Lightning's
//!   `hparams.yaml`.
//!
//! Never entered: hidden folders (`.git`, `.trackit`, ...) but `.hydra`, `node_modules`,
//! virtualenvs (any folder holding `pyvenv.cfg`), `__pycache__`, `site-packages`, `target`.
//! Hidden files are never results (`.luarc.json`, which `trackit init` writes, looks like one).
//! Files that would be read but are not (too old, too large, configuration, hidden, over the
//! file limit) are listed with the reason. The walk is bounded in depth and in entries; when
//! more files match than allowed, the most recently modified are kept. The answer is sorted by
//! path.

use crate::prelude::*;
use crate::walk::Step;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Bounds of the default scan.
#[derive(Debug, Clone, Copy)]
pub struct DiscoverLimits {
    /// Folder levels below the root that are entered.
    pub max_depth: usize,
    /// Directory entries looked at before the walk stops.
    pub max_entries: usize,
    /// Files returned at most.
    pub max_files: usize,
    pub max_file_bytes: u64,
}

impl Default for DiscoverLimits {
    fn default() -> Self {
        DiscoverLimits {
            max_depth: 6,
            max_entries: 50_000,
            max_files: 64,
            max_file_bytes: 64 << 20,
        }
    }
}

const SKIP_DIRS: &[&str] = &[
    "mlartifacts",
    "node_modules",
    "__pycache__",
    "site-packages",
    "target",
    "venv",
    "env",
    "wandb-artifacts",
];

/// JSON files that are configuration, not results.
const NOT_RESULTS: &[&str] = &[
    "config.json",
    "generation_config.json",
    "adapter_config.json",
    "preprocessor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "wandb-metadata.json",
    "training_args.json",
];

const RESULT_EXTENSIONS: &[&str] = &["json", "jsonl", "ndjson", "csv", "tsv"];

/// What a file is, for reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// JSON, JSON lines, CSV or TSV.
    Table,
    TfEvents,
    WandbLog,
    WandbSummary,
    WandbConfig,
    MlflowMetric,
    MlflowParam,
    HydraConfig,
    HydraOverrides,
    LightningHparams,
}

impl SourceKind {
    /// Hyperparameters rather than results.
    pub fn is_hyperparams(self) -> bool {
        matches!(
            self,
            SourceKind::WandbConfig
                | SourceKind::MlflowParam
                | SourceKind::HydraConfig
                | SourceKind::HydraOverrides
                | SourceKind::LightningHparams
        )
    }
}

/// A file to read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    pub path: PathBuf,
    pub kind: SourceKind,
}

/// A file that looked like a result but was not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// What [`discover_sources`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    pub files: Vec<Found>,
    pub skipped: Vec<Skipped>,
}

enum Class {
    Source(SourceKind),
    NotResult(String),
    Ignore,
}

/// What a file is, from its path.
fn classify(path: &Path) -> Class {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let parent = parts.len().checked_sub(2).map(|i| parts[i].as_str());
    if lower.starts_with("events.out.tfevents.") {
        return Class::Source(SourceKind::TfEvents);
    }
    if let Some(i) = parts.iter().rposition(|p| p == "mlruns") {
        let rest = &parts[i + 1..];
        if rest.len() >= 4 && rest[2] == "metrics" {
            return Class::Source(SourceKind::MlflowMetric);
        }
        if rest.len() >= 4 && rest[2] == "params" {
            return Class::Source(SourceKind::MlflowParam);
        }
        return Class::Ignore;
    }
    if lower.starts_with("run-") && lower.ends_with(".wandb") {
        return Class::Source(SourceKind::WandbLog);
    }
    let in_wandb_files = parent == Some("files") && parts.iter().any(|p| p == "wandb");
    if lower == "wandb-summary.json" {
        return Class::Source(SourceKind::WandbSummary);
    }
    if in_wandb_files && lower == "config.yaml" {
        return Class::Source(SourceKind::WandbConfig);
    }
    if in_wandb_files {
        return Class::Ignore; // W&B's metadata, requirements, console copy
    }
    if parent == Some(".hydra") {
        return match lower.as_str() {
            "config.yaml" => Class::Source(SourceKind::HydraConfig),
            "overrides.yaml" => Class::Source(SourceKind::HydraOverrides),
            _ => Class::Ignore,
        };
    }
    if lower == "hparams.yaml" {
        return Class::Source(SourceKind::LightningHparams);
    }
    if lower == "mlflow.db" {
        return Class::NotResult(
            "MLflow's database store is not read (log to a file store, or name the results with --results)"
                .into(),
        );
    }
    if !is_result_like(&name) {
        return Class::Ignore;
    }
    if name.starts_with('.') {
        return Class::NotResult(if lower == ".luarc.json" {
            "hidden file (`trackit init` writes it for the editor)".into()
        } else {
            "hidden file".into()
        });
    }
    if is_config_name(&lower) {
        return Class::NotResult("configuration, not results".into());
    }
    Class::Source(SourceKind::Table)
}

/// The files to read for a job that started at `since`, in `workdir`, and the files passed
/// over, as described in the module docs. Errors: a spec that names nothing existing (and is
/// no glob), or an invalid glob.
pub fn discover_sources(
    spec: Option<&str>,
    workdir: &Path,
    since: SystemTime,
    limits: DiscoverLimits,
) -> Result<Discovery> {
    let Some(spec) = spec.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(scan(workdir, since, limits));
    };
    let path = workdir.join(spec);
    if path.is_file() {
        // The user named it: read it whatever its age or name.
        let kind = match classify(&path) {
            Class::Source(k) => k,
            _ => SourceKind::Table,
        };
        return Ok(Discovery {
            files: vec![Found { path, kind }],
            skipped: Vec::new(),
        });
    }
    if path.is_dir() {
        return Ok(scan(&path, since, limits));
    }
    if !spec.contains(['*', '?', '[']) {
        bail!(
            "results spec '{spec}': no such file or folder in {}",
            workdir.display()
        );
    }
    let pattern = path.to_string_lossy().into_owned();
    let entries =
        glob::glob(&pattern).with_context(|| format!("results spec '{spec}': invalid glob"))?;
    let mut c = Candidates::default();
    for p in entries.filter_map(|e| e.ok()) {
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let kind = match classify(&p) {
            Class::Source(k) => k,
            _ => SourceKind::Table,
        };
        c.consider(p, kind, &meta, since, limits);
    }
    Ok(c.finish(limits))
}

/// The result files of a job that started at `since`, in `workdir` (module docs).
pub fn discover(spec: Option<&str>, workdir: &Path, since: SystemTime) -> Result<Vec<PathBuf>> {
    discover_with(spec, workdir, since, DiscoverLimits::default())
}

/// [`discover`] with explicit bounds.
pub fn discover_with(
    spec: Option<&str>,
    workdir: &Path,
    since: SystemTime,
    limits: DiscoverLimits,
) -> Result<Vec<PathBuf>> {
    Ok(discover_sources(spec, workdir, since, limits)?
        .files
        .into_iter()
        .map(|f| f.path)
        .collect())
}

/// Most skipped files listed; past that, one line says how many more.
const MAX_SKIPPED_LISTED: usize = 30;

#[derive(Default)]
struct Candidates {
    found: Vec<(SystemTime, Found)>,
    skipped: Vec<Skipped>,
}

impl Candidates {
    fn consider(
        &mut self,
        path: PathBuf,
        kind: SourceKind,
        meta: &std::fs::Metadata,
        since: SystemTime,
        limits: DiscoverLimits,
    ) {
        let Ok(mtime) = meta.modified() else { return };
        if mtime < since {
            self.skip(path, "written before the job started".into());
        } else if meta.len() > limits.max_file_bytes {
            self.skip(
                path,
                format!(
                    "too large ({} MiB, limit {} MiB)",
                    meta.len() >> 20,
                    limits.max_file_bytes >> 20
                ),
            );
        } else {
            self.found.push((mtime, Found { path, kind }));
        }
    }

    fn skip(&mut self, path: PathBuf, reason: String) {
        self.skipped.push(Skipped { path, reason });
    }

    fn finish(mut self, limits: DiscoverLimits) -> Discovery {
        if self.found.len() > limits.max_files {
            self.found
                .sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.path.cmp(&b.1.path)));
            for (_, f) in self.found.drain(limits.max_files..) {
                self.skipped.push(Skipped {
                    path: f.path,
                    reason: format!(
                        "more than {} result files: the newest were read",
                        limits.max_files
                    ),
                });
            }
        }
        let mut files: Vec<Found> = self.found.into_iter().map(|(_, f)| f).collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        self.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        if self.skipped.len() > MAX_SKIPPED_LISTED {
            let more = self.skipped.len() - MAX_SKIPPED_LISTED + 1;
            self.skipped.truncate(MAX_SKIPPED_LISTED - 1);
            self.skipped.push(Skipped {
                path: PathBuf::from("…"),
                reason: format!("and {more} more files not read"),
            });
        }
        Discovery {
            files,
            skipped: self.skipped,
        }
    }
}

fn scan(root: &Path, since: SystemTime, limits: DiscoverLimits) -> Discovery {
    let mut c = Candidates::default();
    let finished = crate::walk::breadth_first(
        root,
        limits.max_depth,
        limits.max_entries,
        |name, path| !skip_dir(name, path),
        |entry, _, kind, _| {
            if !kind.is_file() {
                return Step::Continue;
            }
            let path = entry.path();
            match classify(&path) {
                Class::Source(k) => {
                    if let Ok(meta) = entry.metadata() {
                        c.consider(path, k, &meta, since, limits);
                    }
                }
                Class::NotResult(reason) => {
                    // Only files of this job are worth a line.
                    let fresh = entry
                        .metadata()
                        .and_then(|m| m.modified())
                        .is_ok_and(|t| t >= since);
                    if fresh {
                        c.skip(path, reason);
                    }
                }
                Class::Ignore => {}
            }
            Step::Continue
        },
    );
    if !finished {
        debug!(
            "results discovery stopped after {} entries",
            limits.max_entries
        );
    }
    c.finish(limits)
}

fn skip_dir(name: &str, path: &Path) -> bool {
    (name.starts_with('.') && name != ".hydra")
        || SKIP_DIRS.contains(&name)
        || path.join("pyvenv.cfg").exists()
}

fn is_result_like(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    RESULT_EXTENSIONS.contains(&ext)
}

fn is_config_name(lower: &str) -> bool {
    NOT_RESULTS.contains(&lower)
        || lower.ends_with(".index.json")
        || lower.ends_with(".schema.json")
}
