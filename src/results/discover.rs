//! Which files hold a job's results.
//!
//! With a spec (relative paths are taken from the working directory):
//! - a file: that file, whatever its age (the user named it);
//! - a folder: the result-like files in it (as below, but within that folder);
//! - a glob (`runs/*/metrics.csv`): the matching files, modified since the job started.
//!
//! Without a spec: result-like files under the working directory modified since the job
//! started (a file modified at the start instant counts). Result-like: `*.json`, `*.jsonl`,
//! `*.ndjson`, `*.csv`, `*.tsv`, except well-known non-result JSON (model configs, tokenizers,
//! package manifests). Skipped: hidden folders (`.git`, `.trackit`, ...), `node_modules`,
//! virtualenvs (any folder holding `pyvenv.cfg`), `__pycache__`, `site-packages`, `target`;
//! files over [`DiscoverLimits::max_file_bytes`]. The walk is bounded in depth and in entries;
//! when more files match than allowed, the most recently modified are kept. The answer is
//! sorted by path.

use crate::prelude::*;
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

/// The result files of a job that started at `since`, in `workdir`, as described in the module
/// docs. Errors: a spec that names nothing existing (and is no glob), or an invalid glob.
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
    let Some(spec) = spec.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(scan(workdir, since, limits));
    };
    let path = workdir.join(spec);
    if path.is_file() {
        return Ok(vec![path]);
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
    let mut found: Vec<(SystemTime, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|p| {
            let meta = std::fs::metadata(&p).ok()?;
            let mtime = meta.modified().ok()?;
            (meta.is_file() && mtime >= since && meta.len() <= limits.max_file_bytes)
                .then_some((mtime, p))
        })
        .collect();
    Ok(keep_newest(&mut found, limits.max_files))
}

fn scan(root: &Path, since: SystemTime, limits: DiscoverLimits) -> Vec<PathBuf> {
    let mut found: Vec<(SystemTime, PathBuf)> = Vec::new();
    let mut entries_seen = 0usize;
    // Breadth-first so shallow files are seen before the entry budget runs out.
    let mut queue = std::collections::VecDeque::from([(root.to_path_buf(), 0usize)]);
    while let Some((dir, depth)) = queue.pop_front() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut children: Vec<_> = read.filter_map(|e| e.ok()).collect();
        children.sort_by_key(|e| e.file_name());
        for entry in children {
            entries_seen += 1;
            if entries_seen > limits.max_entries {
                debug!(
                    "results discovery stopped after {} entries",
                    limits.max_entries
                );
                return keep_newest(&mut found, limits.max_files);
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                if depth < limits.max_depth && !skip_dir(&name, &path) {
                    queue.push_back((path, depth + 1));
                }
            } else if kind.is_file() && is_result_like(&name) {
                let Ok(meta) = entry.metadata() else { continue };
                let Ok(mtime) = meta.modified() else { continue };
                if mtime >= since && meta.len() <= limits.max_file_bytes {
                    found.push((mtime, path));
                }
            }
        }
    }
    keep_newest(&mut found, limits.max_files)
}

fn skip_dir(name: &str, path: &Path) -> bool {
    name.starts_with('.') || SKIP_DIRS.contains(&name) || path.join("pyvenv.cfg").exists()
}

fn is_result_like(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    RESULT_EXTENSIONS.contains(&ext)
        && !NOT_RESULTS.contains(&lower.as_str())
        && !lower.ends_with(".index.json")
        && !lower.ends_with(".schema.json")
}

fn keep_newest(found: &mut Vec<(SystemTime, PathBuf)>, max: usize) -> Vec<PathBuf> {
    if found.len() > max {
        found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        found.truncate(max);
    }
    let mut paths: Vec<PathBuf> = found.drain(..).map(|(_, p)| p).collect();
    paths.sort();
    paths
}
