//! Readers for result files: each turns one file into [`Results`] (series and final scalars).
//!
//! How a file is read:
//! - `*.jsonl` / `*.ndjson`: one record per line; each numeric field becomes a point of the
//!   series of that name, at the record's `step` and `epoch` (see [`STEP_KEYS`], [`EPOCH_KEYS`]).
//! - `*.csv` / `*.tsv`: one record per row, the header names the series; empty cells are skipped,
//!   so sparse logger CSVs (Lightning's `CSVLogger`) merge by their step/epoch columns.
//! - `*.json`: an object with `log_history` is a Hugging Face `trainer_state.json`; any other
//!   object gives final scalars (nested objects flattened to `a.b`), arrays of numbers give a
//!   series by epoch (Keras' `history`), arrays of objects are records; a top-level array is a
//!   list of records. A `.json` file that holds JSON lines is read as JSON lines.
//! - other names: sniffed from the content (JSON, JSON lines or CSV).
//!
//! Python's `json` writes `NaN` and `Infinity` (a diverged loss); they are read as such.

use super::{Point, Results};
use serde_json::Value;
use std::fmt;
use std::path::{Path, PathBuf};

/// Keys that give a record's global step rather than a metric.
pub const STEP_KEYS: &[&str] = &[
    "step",
    "global_step",
    "_step",
    "trainer/global_step",
    "train/global_step",
    "iteration",
    "iter",
];
/// Keys that give a record's epoch rather than a metric.
pub const EPOCH_KEYS: &[&str] = &["epoch", "trainer/epoch", "train/epoch", "_epoch"];

/// Refuse to read files larger than this (a result file is small; this is a model or a dump).
const MAX_FILE_BYTES: u64 = 256 << 20;

/// How a file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Any JSON document (including `trainer_state.json`, recognised by its content).
    Json,
    JsonLines,
    Csv,
    Tsv,
}

/// Why a file could not be read, with the place in it when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectError {
    pub path: PathBuf,
    /// 1-based.
    pub line: Option<usize>,
    /// 1-based.
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for CollectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for CollectError {}

impl CollectError {
    fn new(path: &Path, message: impl Into<String>) -> Self {
        CollectError {
            path: path.to_path_buf(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    fn json(path: &Path, line_offset: usize, err: &serde_json::Error) -> Self {
        // serde_json's message ends with " at line L column C"; keep only the reason.
        let text = err.to_string();
        let reason = text
            .rsplit_once(" at line ")
            .map(|(r, _)| r.to_string())
            .unwrap_or(text);
        CollectError {
            path: path.to_path_buf(),
            line: Some(line_offset + err.line()),
            column: Some(err.column()),
            message: format!("invalid JSON: {reason}"),
        }
    }
}

/// Reads several files into one [`Results`]. A file that cannot be read is named in
/// `errors` and the others are still read.
pub fn collect(paths: &[PathBuf]) -> Results {
    let mut all = Results::default();
    for path in paths {
        match collect_file(path) {
            Ok(results) => all.merge(results),
            Err(e) => all.errors.push(e.to_string()),
        }
    }
    all
}

/// Reads one result file.
pub fn collect_file(path: &Path) -> Result<Results, CollectError> {
    let meta = std::fs::metadata(path).map_err(|e| CollectError::new(path, e.to_string()))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(CollectError::new(
            path,
            format!(
                "too large for a result file ({} bytes, limit {MAX_FILE_BYTES})",
                meta.len()
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| CollectError::new(path, e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        CollectError {
            line: Some(line),
            ..CollectError::new(path, "not UTF-8 text")
        }
    })?;
    let mut results = parse_text(path, &text)?;
    results.files.push(path.to_path_buf());
    Ok(results)
}

/// Parses the text of a result file; `path` names it (its extension picks the format) and is
/// not read.
pub fn parse_text(path: &Path, text: &str) -> Result<Results, CollectError> {
    match detect_format(path, text) {
        Some(Format::Json) => read_json(path, text),
        Some(Format::JsonLines) => read_json_lines(path, text),
        Some(Format::Csv) => read_csv(path, text, b','),
        Some(Format::Tsv) => read_csv(path, text, b'\t'),
        None => Err(CollectError::new(
            path,
            "unrecognised format: expected JSON, JSON lines or CSV",
        )),
    }
}

/// The format of a file, from its name, else its content.
pub fn detect_format(path: &Path, text: &str) -> Option<Format> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "json" => return Some(Format::Json),
        "jsonl" | "ndjson" => return Some(Format::JsonLines),
        "csv" => return Some(Format::Csv),
        "tsv" => return Some(Format::Tsv),
        _ => {}
    }
    let trimmed = text.trim_start();
    let first_line = trimmed.lines().next().unwrap_or("");
    if trimmed.starts_with('[') {
        Some(Format::Json)
    } else if trimmed.starts_with('{') {
        let lines = trimmed.lines().filter(|l| !l.trim().is_empty()).count();
        let one_object_per_line = lines > 1
            && trimmed
                .lines()
                .filter(|l| !l.trim().is_empty())
                .all(|l| l.trim_start().starts_with('{') && l.trim_end().ends_with('}'));
        if one_object_per_line {
            Some(Format::JsonLines)
        } else {
            Some(Format::Json)
        }
    } else if first_line.contains('\t') {
        Some(Format::Tsv)
    } else if first_line.contains(',') {
        Some(Format::Csv)
    } else {
        None
    }
}

fn read_json(path: &Path, text: &str) -> Result<Results, CollectError> {
    let value: Value = match serde_json::from_str(&python_json(text)) {
        Ok(v) => v,
        // A `.json` file that holds JSON lines: the first record parses, then "trailing characters".
        Err(e) if e.to_string().starts_with("trailing characters") && e.line() > 1 => {
            return read_json_lines(path, text)
        }
        Err(e) => return Err(CollectError::json(path, 0, &e)),
    };
    let mut out = Results::default();
    match &value {
        Value::Object(map) => {
            if let Some(Value::Array(history)) = map.get("log_history") {
                read_trainer_state(map, history, &mut out);
            } else {
                flatten_object("", map, &mut out);
            }
        }
        Value::Array(items) => read_records(items, "", &mut out),
        other => {
            if let Some(v) = number(other) {
                let stem = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                out.finals.insert(stem, v);
            }
        }
    }
    Ok(out)
}

fn read_json_lines(path: &Path, text: &str) -> Result<Results, CollectError> {
    let mut out = Results::default();
    let mut index = 0;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(&python_json(line))
            .map_err(|e| CollectError::json(path, i, &e))?;
        match value {
            Value::Object(map) => {
                let mut fields = Vec::new();
                flatten_fields("", &map, &mut fields);
                add_record(&fields, index, "", &mut out);
                index += 1;
            }
            _ => {
                return Err(CollectError {
                    line: Some(i + 1),
                    column: Some(1),
                    ..CollectError::new(path, "expected one JSON object per line")
                })
            }
        }
    }
    Ok(out)
}

fn read_csv(path: &Path, text: &str, delimiter: u8) -> Result<Results, CollectError> {
    let csv_error = |e: csv::Error| CollectError {
        line: e.position().map(|p| p.line() as usize),
        message: format!("invalid CSV: {}", csv_reason(&e)),
        ..CollectError::new(path, "")
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(csv_error)?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if headers.iter().all(|h| h.is_empty()) {
        return Err(CollectError {
            line: Some(1),
            ..CollectError::new(path, "invalid CSV: no header row")
        });
    }
    let mut out = Results::default();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(csv_error)?;
        let fields: Vec<(String, f64)> = headers
            .iter()
            .zip(record.iter())
            .filter(|(h, _)| !h.is_empty())
            .filter_map(|(h, cell)| parse_number(cell.trim()).map(|v| (h.clone(), v)))
            .collect();
        add_record(&fields, index, "", &mut out);
    }
    Ok(out)
}

/// The csv crate's message without its own position text (we print the line ourselves).
fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("record has {len} fields, but the header has {expected_len}"),
        csv::ErrorKind::Utf8 { err, .. } => format!("not UTF-8 ({err})"),
        _ => e.to_string(),
    }
}

/// Hugging Face `trainer_state.json`: `log_history` holds train records (`loss`, `grad_norm`,
/// `learning_rate`), eval records (`eval_*`) and one closing summary (`train_runtime`,
/// `train_loss`, ...), which becomes final scalars.
fn read_trainer_state(
    state: &serde_json::Map<String, Value>,
    history: &[Value],
    out: &mut Results,
) {
    for (index, record) in history.iter().enumerate() {
        let Value::Object(map) = record else { continue };
        let mut fields = Vec::new();
        flatten_fields("", map, &mut fields);
        let is_summary = map.contains_key("train_runtime") || map.contains_key("total_flos");
        if is_summary {
            for (k, v) in fields {
                if !STEP_KEYS.contains(&k.as_str()) {
                    out.finals.insert(k, v);
                }
            }
        } else {
            add_record(&fields, index, "", out);
        }
    }
    if let Some(v) = state.get("best_metric").and_then(number) {
        out.finals.insert("best_metric".into(), v);
    }
}

/// Object → final scalars; arrays inside become series.
fn flatten_object(prefix: &str, map: &serde_json::Map<String, Value>, out: &mut Results) {
    for (key, value) in map {
        let name = join(prefix, key);
        match value {
            Value::Object(inner) => flatten_object(&name, inner, out),
            Value::Array(items) if items.iter().all(|v| number(v).is_some()) => {
                for (i, v) in items.iter().enumerate() {
                    let value = number(v).unwrap_or(f64::NAN);
                    out.add_point(
                        &name,
                        Point {
                            step: None,
                            epoch: Some(i as f64),
                            value,
                        },
                    );
                }
            }
            Value::Array(items) => {
                // Top-level `history`/`log_history`-like lists name their series plainly.
                let record_prefix = if prefix.is_empty()
                    && matches!(
                        key.as_str(),
                        "history" | "log_history" | "logs" | "records" | "metrics"
                    ) {
                    String::new()
                } else {
                    name
                };
                read_records(items, &record_prefix, out);
            }
            other => {
                if let Some(v) = number(other) {
                    out.finals.insert(name, v);
                }
            }
        }
    }
}

fn read_records(items: &[Value], prefix: &str, out: &mut Results) {
    for (index, item) in items.iter().enumerate() {
        if let Value::Object(map) = item {
            let mut fields = Vec::new();
            flatten_fields("", map, &mut fields);
            add_record(&fields, index, prefix, out);
        }
    }
}

/// The numeric fields of a record, nested objects flattened to `a.b`.
fn flatten_fields(
    prefix: &str,
    map: &serde_json::Map<String, Value>,
    out: &mut Vec<(String, f64)>,
) {
    for (key, value) in map {
        let name = join(prefix, key);
        match value {
            Value::Object(inner) => flatten_fields(&name, inner, out),
            other => {
                if let Some(v) = number(other) {
                    out.push((name, v));
                }
            }
        }
    }
}

/// One record: its step and epoch fields place the other fields' points.
fn add_record(fields: &[(String, f64)], index: usize, prefix: &str, out: &mut Results) {
    let find = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| fields.iter().find(|(name, _)| name == k).map(|(_, v)| *v))
    };
    let step = find(STEP_KEYS)
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| v.round() as u64);
    let epoch = find(EPOCH_KEYS).filter(|v| v.is_finite());
    let step = if step.is_none() && epoch.is_none() {
        Some(index as u64)
    } else {
        step
    };
    for (name, value) in fields {
        if STEP_KEYS.contains(&name.as_str()) || EPOCH_KEYS.contains(&name.as_str()) {
            continue;
        }
        out.add_point(
            &join(prefix, name),
            Point {
                step,
                epoch,
                value: *value,
            },
        );
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// A JSON number, or Python's NaN/Infinity (turned into strings by [`python_json`]).
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

fn parse_number(cell: &str) -> Option<f64> {
    if cell.is_empty() {
        return None;
    }
    cell.parse::<f64>().ok()
}

/// Quotes Python's non-standard `NaN`, `Infinity` and `-Infinity` tokens (outside strings) so
/// serde_json accepts them; lines are kept, so error lines stay right.
fn python_json(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("NaN") && !text.contains("Infinity") {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else {
            let token = ["-Infinity", "Infinity", "NaN"]
                .into_iter()
                .find(|t| rest.starts_with(t));
            if let Some(t) = token {
                out.push('"');
                out.push_str(t);
                out.push('"');
                rest = &rest[t.len()..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_nan_is_read() {
        let text = python_json(r#"{"loss": NaN, "s": "NaN x", "g": -Infinity}"#);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert!(number(&v["loss"]).unwrap().is_nan());
        assert_eq!(v["s"], "NaN x");
        assert_eq!(number(&v["g"]), Some(f64::NEG_INFINITY));
    }

    #[test]
    fn sniffing() {
        let p = Path::new("log.txt");
        assert_eq!(
            detect_format(p, "{\"a\":1}\n{\"a\":2}\n"),
            Some(Format::JsonLines)
        );
        assert_eq!(detect_format(p, "{\n \"a\": 1\n}\n"), Some(Format::Json));
        assert_eq!(detect_format(p, "a,b\n1,2\n"), Some(Format::Csv));
        assert_eq!(detect_format(p, "hello world\n"), None);
    }
}
