//! Experiment trackers' own files: W&B runs (`wandb/<run>/`) and MLflow's file store
//! (`mlruns/<experiment>/<run>/`).
//!
//! W&B:
//! - `run-<id>.wandb`, the run's transaction log, is what an offline run has (W&B 0.19+ writes
//!   no summary file offline). Its framing is LevelDB's log format (32 KiB blocks; a record
//!   header is a CRC-32 of the type and data, a 16-bit length and a type: full, first, middle,
//!   last) after a 7-byte `:W&B` header. Each record is a protobuf `Record`: `history` (2:
//!   `item` 1 with `key` 1 / `nested_key` 2 / `value_json` 16; `step` 2 with `num` 1),
//!   `summary` (3: `update` 1), `config` (5: `update` 1), `run` (17: `run_id` 1, `entity` 2,
//!   `project` 3, `display_name` 8).
//! - `files/wandb-summary.json` (an online run, or an older offline one): final values.
//! - `files/config.yaml`: the run's config (`key: {value: ...}`), as hyperparameters.
//! - The run's URL is printed by W&B itself, in the job's log and in `files/output.log`
//!   (`View run NAME at: https://wandb.ai/ENTITY/PROJECT/runs/ID`): [`wandb_run_url`] finds it.
//!
//! MLflow: `metrics/<name>` holds `timestamp value step` lines (a metric name with `/` is a
//! sub-folder), `params/<name>` one value. MLflow 3 keeps new runs in a database
//! (`mlflow.db`) unless the file store is asked for; a database is not read.

use super::{Point, Results};
use regex::Regex;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

/// What a W&B transaction log holds.
#[derive(Debug, Default)]
pub struct WandbRun {
    pub results: Results,
    /// Flattened config (`optim.lr` → `0.3`), `_wandb` left out.
    pub config: Vec<(String, String)>,
    pub run_id: Option<String>,
    pub entity: Option<String>,
    pub project: Option<String>,
    pub name: Option<String>,
    /// The log ended inside a record (the run was still writing).
    pub truncated: bool,
}

const BLOCK: usize = 32 * 1024;
const WANDB_HEADER: &[u8] = b":W&B";

use super::crc::crc32;

/// Reads a `run-<id>.wandb` transaction log (module docs).
pub fn read_wandb_log(bytes: &[u8]) -> Result<WandbRun, String> {
    if bytes.len() < 7 || &bytes[..4] != WANDB_HEADER {
        return Err("not a W&B transaction log (no :W&B header)".into());
    }
    let mut run = WandbRun::default();
    let mut at = 7usize;
    let mut pending: Vec<u8> = Vec::new();
    let mut history_index = 0u64;
    while at < bytes.len() {
        let left_in_block = BLOCK - at % BLOCK;
        if left_in_block < 7 {
            at += left_in_block; // zero padding at a block's end
            continue;
        }
        if bytes.len() - at < 7 {
            run.truncated = true;
            break;
        }
        let crc = u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        let len = u16::from_le_bytes([bytes[at + 4], bytes[at + 5]]) as usize;
        let kind = bytes[at + 6];
        if kind == 0 && len == 0 && crc == 0 {
            at += left_in_block; // preallocated zeros
            continue;
        }
        let end = at + 7 + len;
        if end > bytes.len() {
            run.truncated = true;
            break;
        }
        let data = &bytes[at + 7..end];
        if crc32(crc32(0, &[kind]), data) != crc {
            return Err(format!(
                "record at byte {at} fails its CRC check (damaged file)"
            ));
        }
        at = end;
        match kind {
            1 => read_record(data, &mut run, &mut history_index)?,
            2 => pending = data.to_vec(),
            3 => pending.extend_from_slice(data),
            4 => {
                pending.extend_from_slice(data);
                let whole = std::mem::take(&mut pending);
                read_record(&whole, &mut run, &mut history_index)?;
            }
            k => return Err(format!("record type {k} at byte {at} is unknown")),
        }
    }
    Ok(run)
}

fn read_record(data: &[u8], run: &mut WandbRun, index: &mut u64) -> Result<(), String> {
    let mut r = super::proto::Reader::new(data);
    while let Some((n, f)) = r.next()? {
        let super::proto::Field::Bytes(body) = f else {
            continue;
        };
        match n {
            2 => read_history(body, run, index)?,
            3 => {
                for (key, json) in items(body, 1)? {
                    if let Some(v) = json_number(&json) {
                        if !key.starts_with('_') {
                            run.results.finals.insert(key, v);
                        }
                    }
                }
            }
            5 => {
                for (key, json) in items(body, 1)? {
                    if key == "_wandb" || key.starts_with("_wandb.") {
                        continue;
                    }
                    config_entry(&key, &json, &mut run.config);
                }
            }
            17 => {
                let mut r = super::proto::Reader::new(body);
                while let Some((n, f)) = r.next()? {
                    if let super::proto::Field::Bytes(b) = f {
                        let text = String::from_utf8_lossy(b).into_owned();
                        let text = Some(text).filter(|t| !t.is_empty());
                        match n {
                            1 => run.run_id = text,
                            2 => run.entity = text,
                            3 => run.project = text,
                            8 => run.name = text,
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// `(key, value_json)` of repeated items in field `field` (history, summary, config).
fn items(body: &[u8], field: u64) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut r = super::proto::Reader::new(body);
    while let Some((n, f)) = r.next()? {
        if let (true, super::proto::Field::Bytes(item)) = (n == field, f) {
            let (mut key, mut nested, mut json) = (String::new(), Vec::new(), String::new());
            let mut ir = super::proto::Reader::new(item);
            while let Some((n, f)) = ir.next()? {
                if let super::proto::Field::Bytes(b) = f {
                    let text = String::from_utf8_lossy(b).into_owned();
                    match n {
                        1 => key = text,
                        2 => nested.push(text),
                        16 => json = text,
                        _ => {}
                    }
                }
            }
            if key.is_empty() {
                key = nested.join(".");
            }
            out.push((key, json));
        }
    }
    Ok(out)
}

fn read_history(body: &[u8], run: &mut WandbRun, index: &mut u64) -> Result<(), String> {
    let row = items(body, 1)?;
    let mut step: Option<u64> = None;
    let mut r = super::proto::Reader::new(body);
    while let Some((n, f)) = r.next()? {
        if let (2, super::proto::Field::Bytes(s)) = (n, f) {
            let mut sr = super::proto::Reader::new(s);
            while let Some((n, f)) = sr.next()? {
                if let (1, super::proto::Field::Varint(v)) = (n, f) {
                    step = Some(v);
                }
            }
        }
    }
    let value = |k: &str| {
        row.iter()
            .find(|(key, _)| key == k)
            .and_then(|(_, j)| json_number(j))
    };
    let step = step
        .or_else(|| value("_step").map(|v| v as u64))
        .or(Some(*index));
    let epoch = value("epoch").filter(|v| v.is_finite());
    *index += 1;
    for (key, json) in &row {
        if key.starts_with('_') || key == "epoch" {
            continue;
        }
        if let Some(v) = json_number(json) {
            run.results.add_point(
                key,
                Point {
                    step,
                    epoch,
                    value: v,
                },
            );
        }
    }
    Ok(())
}

fn json_number(json: &str) -> Option<f64> {
    match json.trim() {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        t => match serde_json::from_str::<serde_json::Value>(t).ok()? {
            serde_json::Value::Number(n) => n.as_f64(),
            _ => None,
        },
    }
}

/// A config item's value as flattened `(key, text)` pairs.
fn config_entry(key: &str, json: &str, out: &mut Vec<(String, String)>) {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(v) => flatten_json(key, &v, out),
        Err(_) => out.push((key.to_string(), json.to_string())),
    }
}

fn flatten_json(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                flatten_json(&format!("{prefix}.{k}"), v, out);
            }
        }
        Value::Array(items) if items.iter().any(|i| i.is_object()) => {
            for (i, v) in items.iter().enumerate() {
                flatten_json(&format!("{prefix}.{i}"), v, out);
            }
        }
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        Value::Null => out.push((prefix.to_string(), "null".into())),
        other => out.push((prefix.to_string(), other.to_string().replace(',', ", "))),
    }
}

/// `files/wandb-summary.json`: final values (`_runtime`, `_step`, ... and media left out).
pub fn read_wandb_summary(text: &str) -> Result<Results, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let mut out = Results::default();
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut Results) {
        match v {
            serde_json::Value::Object(map) if !map.contains_key("_type") => {
                for (k, v) in map {
                    if k.starts_with('_') {
                        continue;
                    }
                    let name = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&name, v, out);
                }
            }
            serde_json::Value::Number(n) => {
                if let Some(f) = n.as_f64() {
                    out.finals.insert(prefix.to_string(), f);
                }
            }
            _ => {}
        }
    }
    walk("", &v, &mut out);
    Ok(out)
}

/// `files/config.yaml`: `key: {value: V}` (older runs also have `desc`), `_wandb` left out.
pub fn read_wandb_config(text: &str) -> Vec<(String, String)> {
    let doc = super::yaml::parse(text);
    let mut out = Vec::new();
    if let super::yaml::Yaml::Map(entries) = &doc {
        for (k, v) in entries {
            if k.starts_with('_') || k == "wandb_version" {
                continue;
            }
            match v.get("value") {
                Some(inner) => inner.flatten(k, &mut out),
                None => v.flatten(k, &mut out),
            }
        }
    }
    out
}

fn run_url_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"View run(?: \S.*?)? at:? (https?://[^\s\x1b]+/runs/[^\s\x1b]+)")
            .expect("run url regex")
    })
}

/// The W&B run URL that W&B printed (`View run NAME at: URL`), the last one in `text`.
pub fn wandb_run_url(text: &str) -> Option<String> {
    run_url_re()
        .captures_iter(text)
        .last()
        .map(|c| c[1].trim_end_matches(['.', ')', '\'', '"']).to_string())
}

/// One MLflow metric file: `timestamp value step` per line. `name` is the metric's name
/// (its path under `metrics/`).
pub fn read_mlflow_metric(name: &str, text: &str) -> Result<Results, String> {
    let mut out = Results::default();
    for (i, line) in text.lines().enumerate() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.is_empty() {
            continue;
        }
        if parts.len() < 2 {
            return Err(format!("line {}: expected `timestamp value step`", i + 1));
        }
        let value: f64 = match parts[1] {
            "nan" | "NaN" => f64::NAN,
            v => v
                .parse()
                .map_err(|_| format!("line {}: '{v}' is not a number", i + 1))?,
        };
        let step = parts
            .get(2)
            .and_then(|s| s.parse::<u64>().ok())
            .or(Some(i as u64));
        out.add_point(
            name,
            Point {
                step,
                epoch: None,
                value,
            },
        );
    }
    Ok(out)
}

/// The metric name of an MLflow metric file: its path under the run's `metrics/` folder.
pub fn mlflow_metric_name(path: &Path) -> Option<String> {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let i = parts.iter().rposition(|p| p == "metrics")?;
    let name = parts[i + 1..].join("/");
    (!name.is_empty()).then_some(name)
}

/// `params/<name>` files of an MLflow run: name → value.
pub fn read_mlflow_params(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let (Ok(rel), Ok(v)) = (p.strip_prefix(dir), std::fs::read_to_string(&p)) {
                out.insert(rel.to_string_lossy().into_owned(), v.trim().to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(0, b"123456789"), 0xcbf4_3926);
        assert_eq!(
            wandb_run_url("wandb: 🚀 View run sgd at: https://wandb.ai/lab/tiny/runs/ab12cd\n"),
            Some("https://wandb.ai/lab/tiny/runs/ab12cd".into())
        );
        assert_eq!(
            mlflow_metric_name(Path::new("mlruns/1/abc/metrics/train/loss")),
            Some("train/loss".into())
        );
    }
}
