//! Metric summaries: for each chosen metric, its final value and its best value with the
//! step/epoch where it was reached.
//!
//! Choosing metrics by name ([`find_metric`]), first rule that matches wins:
//! 1. the exact name;
//! 2. the same name after [`normalize_name`] (case, `/`, `-`, `.`, spaces do not matter:
//!    `val/mse` = `val_mse` = `Val-MSE`);
//! 3. a name that ends with the query at a word boundary (`accuracy` finds `eval_accuracy`,
//!    `mse` finds `val/mse`); among several, an evaluation name (`eval`, `val`, `valid`,
//!    `validation`, `test` prefix) first, then the shortest, then alphabetical.
//!
//! Whether lower or higher is better ([`goal_for`]): an override (same matching, from the
//! policy) first; else the last word of the name that says so: loss/error-like words
//! (`loss`, `mse`, `mae`, `rmse`, `error`, `err`, `perplexity`, `ppl`, `wer`, `cer`, `nll`, ...)
//! mean minimum, accuracy/score-like words (`acc`, `accuracy`, `f1`, `auc`, `score`, `bleu`,
//! `rouge*`, `precision`, `recall`, `map*`, `iou`, `dice`, `r2`, ...) mean maximum. A
//! metric with neither gets no best value, only its final one.

use super::{Results, Series};
use crate::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Whether lower or higher values are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Goal {
    Min,
    Max,
}

/// The best value of a series and where it was reached (the earliest, on ties).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Best {
    pub value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<f64>,
}

/// One metric of the results table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSummary {
    /// The metric's name as the files spell it.
    pub name: String,
    /// The name asked for, when it differs (`val_mse` asked, `val/mse` found).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<Goal>,
    /// The final scalar of that name if a file gave one, else the series' last value.
    #[serde(rename = "final", default, skip_serializing_if = "Option::is_none")]
    pub final_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_step: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_epoch: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best: Option<Best>,
    /// Points in the series (0: a final scalar only).
    pub points: usize,
    /// The series' first finite value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<f64>,
    /// How the series went, with 3 points or more: `improving` (still getting better at the
    /// end), `plateaued` (best at the end, little change lately), `worse_after_best` (the best
    /// came earlier and the end is clearly worse), `flat`; without a goal `rising`/`falling`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend: Option<String>,
}

/// The summaries, in the order asked (or the default order), and the names not found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsReport {
    pub metrics: Vec<MetricSummary>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

const MIN_WORDS: &[&str] = &[
    "loss",
    "losses",
    "mse",
    "mae",
    "rmse",
    "mape",
    "smape",
    "msle",
    "error",
    "errors",
    "err",
    "perplexity",
    "ppl",
    "wer",
    "cer",
    "ter",
    "nll",
    "bpc",
    "bpd",
    "fid",
    "distance",
    "regret",
    "cost",
];
const MAX_WORDS: &[&str] = &[
    "acc",
    "accuracy",
    "f1",
    "auc",
    "auroc",
    "auprc",
    "roc_auc",
    "score",
    "bleu",
    "sacrebleu",
    "chrf",
    "meteor",
    "rouge",
    "rougel",
    "rougelsum",
    "precision",
    "recall",
    "map",
    "ap",
    "iou",
    "miou",
    "dice",
    "r2",
    "top",
    "ndcg",
    "mrr",
    "em",
    "exact_match",
    "spearman",
    "pearson",
    "psnr",
    "ssim",
    "reward",
    "return",
];
/// Bookkeeping values that are never results (left out of the default set).
const NOISE_PARTS: &[&str] = &[
    "runtime",
    "per_second",
    "flos",
    "learning_rate",
    "grad_norm",
    "timestamp",
    "tokens_seen",
];
/// Words that mark bookkeeping unless the name also says it is a metric (`train/mse_step`).
const NOISE_WORDS: &[&str] = &[
    "lr",
    "epoch",
    "step",
    "global_step",
    "time",
    "memory",
    "num_tokens",
];
const EVAL_PREFIXES: &[&str] = &["eval", "val", "valid", "validation", "test"];

/// Lower case, every run of characters other than letters and digits made one `_`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// The name among `names` that `query` means (module docs), if any.
pub fn find_metric<'a>(names: impl IntoIterator<Item = &'a str>, query: &str) -> Option<&'a str> {
    let names: Vec<&str> = names.into_iter().collect();
    if let Some(n) = names.iter().find(|n| **n == query) {
        return Some(n);
    }
    let q = normalize_name(query);
    if q.is_empty() {
        return None;
    }
    let mut same: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| normalize_name(n) == q)
        .collect();
    same.sort();
    if let Some(n) = same.first() {
        return Some(n);
    }
    let suffix = format!("_{q}");
    let mut ends: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| normalize_name(n).ends_with(&suffix))
        .collect();
    ends.sort_by_key(|n| (!is_eval_name(n), n.len(), *n));
    ends.first().copied()
}

fn is_eval_name(name: &str) -> bool {
    let n = normalize_name(name);
    EVAL_PREFIXES
        .iter()
        .any(|p| n.strip_prefix(p).is_some_and(|rest| rest.starts_with('_')))
}

/// Turns the policy's `name → "min"/"max"` map into goals (also `minimize`/`maximize`).
pub fn parse_goals(map: &BTreeMap<String, String>) -> Result<BTreeMap<String, Goal>> {
    map.iter()
        .map(|(name, goal)| {
            let g = match goal.trim().to_ascii_lowercase().as_str() {
                "min" | "minimize" | "lower" => Goal::Min,
                "max" | "maximize" | "higher" => Goal::Max,
                other => {
                    bail!("goal for metric '{name}' must be \"min\" or \"max\", not \"{other}\"")
                }
            };
            Ok((name.clone(), g))
        })
        .collect()
}

/// Whether lower or higher is better for `name` (module docs); None when the name does not say.
pub fn goal_for(name: &str, overrides: &BTreeMap<String, Goal>) -> Option<Goal> {
    if let Some(g) = overrides.get(name) {
        return Some(*g);
    }
    // Same name after normalising, else the longest key the name ends with (`mse` for
    // `val/mse`); never the other way round (`val_loss` says nothing about `loss`).
    let n = normalize_name(name);
    let by_suffix = overrides
        .iter()
        .filter(|(k, _)| {
            let k = normalize_name(k);
            !k.is_empty() && (n == k || n.ends_with(&format!("_{k}")))
        })
        .max_by_key(|(k, _)| (normalize_name(k) == n, normalize_name(k).len()));
    if let Some((_, g)) = by_suffix {
        return Some(*g);
    }
    goal_from_words(&n)
}

fn goal_from_words(normalized: &str) -> Option<Goal> {
    let words: Vec<&str> = normalized.split('_').collect();
    // Two-word terms first (`exact_match`, `roc_auc`), then words right to left.
    for pair in words.windows(2).rev() {
        let joined = format!("{}_{}", pair[0], pair[1]);
        if MAX_WORDS.contains(&joined.as_str()) {
            return Some(Goal::Max);
        }
    }
    for word in words.iter().rev() {
        let stem = word.trim_end_matches(|c: char| c.is_ascii_digit());
        let stem = if stem.is_empty() { *word } else { stem };
        if MIN_WORDS.contains(word) || MIN_WORDS.contains(&stem) {
            return Some(Goal::Min);
        }
        if MAX_WORDS.contains(word) || MAX_WORDS.contains(&stem) {
            return Some(Goal::Max);
        }
    }
    None
}

fn is_noise(name: &str) -> bool {
    let n = normalize_name(name);
    let word = |w: &str| n == w || n.ends_with(&format!("_{w}")) || n.starts_with(&format!("{w}_"));
    NOISE_PARTS.iter().any(|p| n.contains(p))
        || (goal_from_words(&n).is_none() && NOISE_WORDS.iter().any(|w| word(w)))
}

/// The metrics reported when none are asked for: every final scalar, and every series whose
/// name says lower/higher is better or starts with an evaluation prefix, except bookkeeping
/// values (runtimes, throughput, learning rate, gradient norm, epoch, step). Evaluation names
/// first, then alphabetical.
pub fn default_metrics(results: &Results) -> Vec<String> {
    let mut names: Vec<String> = results
        .finals
        .keys()
        .filter(|n| !is_noise(n))
        .cloned()
        .collect();
    for s in &results.series {
        let metric_like =
            goal_from_words(&normalize_name(&s.name)).is_some() || is_eval_name(&s.name);
        if metric_like && !is_noise(&s.name) && !names.contains(&s.name) {
            names.push(s.name.clone());
        }
    }
    names.sort_by(|a, b| (!is_eval_name(a), a).cmp(&(!is_eval_name(b), b)));
    names
}

/// Summaries of the metrics `wanted` (by [`find_metric`]; empty: [`default_metrics`]), with
/// `goals` overriding lower/higher-is-better (`name → "min"/"max"`).
pub fn summarize(
    results: &Results,
    wanted: &[String],
    goals: &BTreeMap<String, String>,
) -> Result<MetricsReport> {
    let goals = parse_goals(goals)?;
    let wanted: Vec<String> = if wanted.is_empty() {
        default_metrics(results)
    } else {
        wanted.to_vec()
    };
    let all_names: Vec<&str> = results
        .finals
        .keys()
        .map(String::as_str)
        .chain(results.series.iter().map(|s| s.name.as_str()))
        .collect();
    let mut report = MetricsReport::default();
    for query in &wanted {
        let Some(name) = find_metric(all_names.iter().copied(), query) else {
            report.missing.push(query.clone());
            continue;
        };
        if report.metrics.iter().any(|m| m.name == name) {
            continue;
        }
        let goal = goal_for(name, &goals);
        let series = results.series(name);
        let last = series.and_then(Series::last);
        let final_value = results.finals.get(name).copied().or(last.map(|p| p.value));
        report.metrics.push(MetricSummary {
            name: name.to_string(),
            query: (query != name).then(|| query.clone()),
            goal,
            final_value,
            final_step: last.and_then(|p| p.step),
            final_epoch: last.and_then(|p| p.epoch),
            best: match (series, goal) {
                (Some(s), Some(g)) => best_of(s, g),
                _ => None,
            },
            points: series.map_or(0, |s| s.points.len()),
            first: series.and_then(|s| s.points.iter().map(|p| p.value).find(|v| v.is_finite())),
            trend: series.and_then(|s| trend_of(s, goal)),
        });
    }
    Ok(report)
}

/// How a series went (see [`MetricSummary::trend`]).
pub fn trend_of(series: &Series, goal: Option<Goal>) -> Option<String> {
    let v: Vec<f64> = series
        .points
        .iter()
        .map(|p| p.value)
        .filter(|v| v.is_finite())
        .collect();
    if v.len() < 3 {
        return None;
    }
    let (lo, hi) = v
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
            (l.min(*x), h.max(*x))
        });
    let range = hi - lo;
    if range <= f64::EPSILON * hi.abs().max(1.0) {
        return Some("flat".into());
    }
    let (first, last) = (v[0], v[v.len() - 1]);
    let Some(goal) = goal else {
        return Some(if last >= first { "rising" } else { "falling" }.into());
    };
    // Distance from the best value, as a share of the range (0 = at the best).
    let from_best = |x: f64| match goal {
        Goal::Min => (x - lo) / range,
        Goal::Max => (hi - x) / range,
    };
    let recent = v[(v.len() - 1) * 2 / 3];
    let gained_lately = from_best(recent) - from_best(last);
    Some(
        if from_best(last) <= 0.02 && gained_lately > 0.05 {
            "improving"
        } else if from_best(last) <= 0.1 {
            "plateaued"
        } else {
            "worse_after_best"
        }
        .into(),
    )
}

/// The best finite value of a series (the earliest on ties).
fn best_of(series: &Series, goal: Goal) -> Option<Best> {
    let mut best: Option<&super::Point> = None;
    for p in series.points.iter().filter(|p| p.value.is_finite()) {
        let better = match (best, goal) {
            (None, _) => true,
            (Some(b), Goal::Min) => p.value < b.value,
            (Some(b), Goal::Max) => p.value > b.value,
        };
        if better {
            best = Some(p);
        }
    }
    best.map(|p| Best {
        value: p.value,
        step: p.step,
        epoch: p.epoch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goals_from_names() {
        let none = BTreeMap::new();
        for n in [
            "loss",
            "eval_loss",
            "val/mse",
            "train/mse_step",
            "test_wer",
            "ppl",
            "val_err",
        ] {
            assert_eq!(goal_for(n, &none), Some(Goal::Min), "{n}");
        }
        for n in [
            "eval_accuracy",
            "val/acc",
            "f1",
            "rouge1",
            "rougeLsum",
            "map50",
            "val_iou",
            "top1_acc",
            "eval_exact_match",
        ] {
            assert_eq!(goal_for(n, &none), Some(Goal::Max), "{n}");
        }
        assert_eq!(goal_for("grad_norm", &none), None);
        let over = parse_goals(&BTreeMap::from([("mse".to_string(), "MAX".to_string())])).unwrap();
        assert_eq!(goal_for("val/mse", &over), Some(Goal::Max));
        let over = parse_goals(&BTreeMap::from([(
            "val_loss".to_string(),
            "max".to_string(),
        )]))
        .unwrap();
        assert_eq!(goal_for("loss", &over), Some(Goal::Min));
        assert_eq!(goal_for("Val/Loss", &over), Some(Goal::Max));
        assert!(parse_goals(&BTreeMap::from([("x".to_string(), "up".to_string())])).is_err());
    }

    #[test]
    fn names_match() {
        let names = ["val/mse", "train/mse_step", "train_mse", "eval_accuracy"];
        assert_eq!(find_metric(names, "val_mse"), Some("val/mse"));
        assert_eq!(find_metric(names, "mse"), Some("val/mse"));
        assert_eq!(find_metric(names, "accuracy"), Some("eval_accuracy"));
        assert_eq!(find_metric(names, "Train-MSE"), Some("train_mse"));
        assert_eq!(find_metric(names, "bleu"), None);
        assert_eq!(normalize_name("  Val//MSE "), "val_mse");
    }
}
