//! Metrics that a job only prints: the default reader of one log line, and the reader of a
//! whole log (every `\r` redraw of a progress bar counts, ANSI escapes are stripped).
//!
//! What one line gives ([`parse_line`]), first shape that fits:
//! - a Python or JSON dict, as Hugging Face's `Trainer` prints its logs
//!   (`{'loss': '0.6912', 'learning_rate': '0.0004505', 'epoch': '0.3125'}`): every number;
//! - `key=value` pairs (`epoch 3: loss=0.31 val_acc=0.912`, tqdm's postfix
//!   `[00:10<00:00, 9.1it/s, loss=0.123, v_num=0]`) and `key: value` pairs (Keras'
//!   `938/938 ━━━━ 3s 3ms/step - accuracy: 0.91 - loss: 0.29`, Lightning's rich bar
//!   `Epoch 5/5 ━━━ 40/40 0:00:00 • 0:00:00 205.91it/s v_num: 0.000 val/mse: 0.028`).
//!   A line with one such pair counts only when the name says it is a metric (`loss`, `acc`,
//!   `val_*`, ...) or the line names its step or epoch, so `Trainable params: 577` or
//!   `` `max_epochs=6` reached `` give nothing.
//!
//! The step or epoch: `epoch`/`step`/`global_step`/`iter`/`iteration` as a pair
//! (`epoch=3`, `'epoch': '1'`) or as a word before a number (`Epoch 3/10`, `epoch 3:`,
//! `Step 120`). A line with an epoch and no values (Keras' `Epoch 3/10`) sets the epoch of
//! the lines that follow until another says otherwise. Bookkeeping is dropped: Lightning's
//! `v_num`, rates (`it/s`), and upper-case names (`LOCAL_RANK: 0`, environment variables).

use super::{Point, Results};
use regex::Regex;
use std::sync::OnceLock;

/// What one log line says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineMetrics {
    /// Metric values in the order printed.
    pub values: Vec<(String, f64)>,
    pub step: Option<u64>,
    pub epoch: Option<f64>,
}

impl LineMetrics {
    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.step.is_none() && self.epoch.is_none()
    }
}

/// Names that are never metrics, whatever their value.
const IGNORED_KEYS: &[&str] = &["v_num", "it/s", "s/it", "eta", "pid", "rank", "local_rank"];
const STEP_WORDS: &[&str] = &["step", "global_step", "iter", "iteration", "steps"];
const EPOCH_WORDS: &[&str] = &["epoch"];

fn dict_pair() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"['"]([^'"]{1,128})['"]\s*:\s*['"]?(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|-?nan|NaN|-?inf|-?Infinity)['"]?\s*(?:,|\})"#,
        )
        .expect("dict pair regex")
    })
}

fn pair() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?:^|[\s,;|\[({-])([A-Za-z_][\w./@-]{0,127}?)\s*(?:=|:)\s*(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|NaN|-?inf)(?:$|[\s,;|\])}%])",
        )
        .expect("pair regex")
    })
}

fn position_word() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)(?:^|[^\w/.])(epoch|global_step|step|iteration|iter)\s*[#\[]?\s*(\d+(?:\.\d+)?)\s*(?:/\s*\d+)?(?:$|[^\w.])")
            .expect("position regex")
    })
}

/// The default reading of one log line (module docs); None when it holds nothing.
pub fn parse_line(line: &str) -> Option<LineMetrics> {
    let line = line.trim();
    if line.is_empty() || line.len() > 8192 {
        return None;
    }
    let mut out = LineMetrics::default();
    let is_dict = line.starts_with('{') && line.ends_with('}');
    let mut pairs: Vec<(String, f64)> = Vec::new();
    if is_dict {
        for c in dict_pair().captures_iter(line) {
            if let Some(v) = parse_value(&c[2]) {
                pairs.push((c[1].to_string(), v));
            }
        }
    }
    if pairs.is_empty() {
        // Overlapping separators: a match consumes the character after the value, so search
        // from one character before each match's end.
        let mut at = 0;
        while let Some(c) = pair().captures_at(line, at) {
            let whole = c.get(0).expect("match");
            if let Some(v) = parse_value(&c[2]) {
                pairs.push((c[1].to_string(), v));
            }
            let next = c.get(2).expect("value").end();
            at = if next > at { next } else { whole.end() };
            if at >= line.len() {
                break;
            }
        }
    }
    for (key, value) in pairs.drain(..) {
        let lower = key.to_ascii_lowercase();
        if EPOCH_WORDS.contains(&lower.as_str()) {
            out.epoch = out.epoch.or(Some(value).filter(|v| v.is_finite()));
        } else if STEP_WORDS.contains(&lower.as_str()) {
            out.step = out.step.or(Some(value)
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(|v| v as u64));
        } else if !ignored(&key) {
            out.values.push((key, value));
        }
    }
    if out.epoch.is_none() || out.step.is_none() {
        for c in position_word().captures_iter(line) {
            let word = c[1].to_ascii_lowercase();
            let Ok(n) = c[2].parse::<f64>() else { continue };
            if word == "epoch" {
                out.epoch = out.epoch.or(Some(n));
            } else {
                out.step = out.step.or(Some(n as u64));
            }
        }
    }
    let placed = out.step.is_some() || out.epoch.is_some();
    if !is_dict && out.values.len() == 1 && !placed && !metric_like(&out.values[0].0) {
        out.values.clear();
    }
    (!out.is_empty()).then_some(out)
}

fn ignored(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    IGNORED_KEYS.contains(&lower.as_str())
        || (key.len() > 1
            && key.chars().any(|c| c.is_ascii_uppercase())
            && !key.chars().any(|c| c.is_ascii_lowercase()))
}

/// A name that says it is a metric: lower/higher is better, an evaluation prefix, or a
/// learning rate.
pub fn metric_like(name: &str) -> bool {
    let n = super::normalize_name(name);
    super::goal_for(name, &Default::default()).is_some()
        || ["eval", "val", "valid", "validation", "test", "train"]
            .iter()
            .any(|p| n.starts_with(&format!("{p}_")))
        || n == "lr"
        || n.ends_with("_lr")
}

fn parse_value(text: &str) -> Option<f64> {
    match text {
        "nan" | "NaN" | "-nan" => Some(f64::NAN),
        "inf" | "Infinity" => Some(f64::INFINITY),
        "-inf" | "-Infinity" => Some(f64::NEG_INFINITY),
        t => t.parse().ok(),
    }
}

/// Limits on how much of a log is read for metrics.
pub const MAX_LOG_BYTES: usize = 32 << 20;

/// Reads the metrics of a whole log with `parse` (the policy's hook, or [`parse_line`]): every
/// `\r`-separated redraw is a line. A point without step or epoch gets the epoch set by an
/// earlier epoch-only line (`Epoch 3/10`), else its position among the lines with values.
/// Only the last [`MAX_LOG_BYTES`] are read. Returns the results and the number of lines read.
pub fn collect_log(
    raw: &[u8],
    mut parse: impl FnMut(&str) -> Option<LineMetrics>,
) -> (Results, usize) {
    let raw = if raw.len() > MAX_LOG_BYTES {
        let cut = raw.len() - MAX_LOG_BYTES;
        let next = raw[cut..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(cut, |i| cut + i + 1);
        &raw[next..]
    } else {
        raw
    };
    let mut out = Results::default();
    let mut epoch_context: Option<f64> = None;
    let mut index = 0u64;
    let mut lines = 0usize;
    for physical in raw.split(|&b| b == b'\n') {
        for segment in physical.split(|&b| b == b'\r') {
            if segment.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            lines += 1;
            let text = crate::logtail::clean_line(segment, 8192);
            let Some(m) = parse(&text) else { continue };
            if m.values.is_empty() {
                if m.epoch.is_some() {
                    epoch_context = m.epoch;
                }
                continue;
            }
            let epoch = m.epoch.or(epoch_context);
            let step = if m.step.is_none() && epoch.is_none() {
                Some(index)
            } else {
                m.step
            };
            index += 1;
            for (name, value) in m.values {
                out.add_point(&name, Point { step, epoch, value });
            }
        }
    }
    (out, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(line: &str) -> Vec<(String, f64)> {
        parse_line(line).map(|m| m.values).unwrap_or_default()
    }

    #[test]
    fn shapes() {
        let m = parse_line("epoch 3: loss=0.31 val_acc=0.912").unwrap();
        assert_eq!(m.epoch, Some(3.0));
        assert_eq!(
            m.values,
            [("loss".to_string(), 0.31), ("val_acc".to_string(), 0.912)]
        );
        let m = parse_line("step 120 | lr: 3e-4 | loss: 1.25").unwrap();
        assert_eq!((m.step, m.values.len()), (Some(120), 2));
        assert!(vals("Trainable params: 577").is_empty());
        assert!(vals("`Trainer.fit` stopped: `max_epochs=6` reached.").is_empty());
        assert!(vals("LOCAL_RANK: 0 - CUDA_VISIBLE_DEVICES: [0]").is_empty());
        assert!(parse_line("Total estimated model params size (MB): 0.002").is_none());
        assert_eq!(vals("val_loss=0.5"), [("val_loss".to_string(), 0.5)]);
        assert!(parse_line("ETA: 0:00:01").is_none());
        // Keras' epoch line sets the epoch and carries no value.
        let m = parse_line("Epoch 3/10").unwrap();
        assert_eq!((m.epoch, m.values.len()), (Some(3.0), 0));
    }
}
