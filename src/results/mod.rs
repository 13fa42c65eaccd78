//! Results of a finished job: find its result files, read them into one model (series of
//! points plus final scalars), summarise the metrics (final and best), rate the job's resource
//! use, and draw the series as an SVG chart. Plain Rust; the Lua policy only formats the table.
//!
//! - [`discover`] / [`discover_sources`]: which files to read (a spec, or files written since
//!   the job began), and which were passed over and why.
//! - [`collect`] / [`collect_file`]: JSON, JSON lines, CSV (sparse logger CSVs too), Hugging Face
//!   `trainer_state.json` and `*_results.json`, into [`Results`].
//! - [`collect_sources`]: every kind found (TensorBoard events, W&B runs, MLflow, Hydra and
//!   Lightning hyperparameters) into one [`Collected`].
//! - [`parse_line`] / [`collect_log`]: metrics that the job only printed.
//! - [`summarize`]: final value and best value (with its step/epoch) per metric.
//! - [`efficiency`]: elapsed vs time limit, MaxRSS vs requested memory, CPU efficiency, hints.
//! - [`plot_svg`]: a deterministic SVG line chart of some series.

mod collect;
mod crc;
mod discover;
mod efficiency;
mod logparse;
mod metrics;
mod plot;
mod proto;
mod sources;
pub mod tfevents;
pub mod trackers;
pub mod unzip;
pub mod yaml;

pub use collect::{collect, collect_file, detect_format, parse_text, CollectError, Format};
pub use discover::{
    discover, discover_sources, discover_with, DiscoverLimits, Discovery, Found, Skipped,
    SourceKind,
};
pub use efficiency::{efficiency, human_mem, Efficiency};
pub use logparse::{collect_log, metric_like, parse_line, LineMetrics, MAX_LOG_BYTES};
pub use metrics::{
    default_metrics, find_metric, goal_for, normalize_name, parse_goals, summarize, Best, Goal,
    MetricSummary, MetricsReport,
};
pub use plot::plot_svg;
pub use sources::{
    collect_sources, line_metrics_from_map, log_metrics, merge_log_metrics, Collected, Hyperparams,
};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One logged value: where in training it was logged, and the value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// The global step, when the logger gave one (records with neither step nor epoch get
    /// their position in the file, 0-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<f64>,
    /// May be NaN or infinite (a diverged loss); such points are never "best" and never drawn.
    pub value: f64,
}

/// All points of one metric, ordered by step (then epoch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub points: Vec<Point>,
}

impl Series {
    pub fn last(&self) -> Option<&Point> {
        self.points.last()
    }
}

/// What the result files of one job hold, merged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// Series sorted by name.
    pub series: Vec<Series>,
    /// Final scalars (`a.b` for nested objects); later files overwrite earlier ones.
    pub finals: BTreeMap<String, f64>,
    /// The files that were read.
    pub files: Vec<PathBuf>,
    /// One message per file that could not be read (`path:line:column: why`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

impl Results {
    pub fn series(&self, name: &str) -> Option<&Series> {
        self.series
            .binary_search_by(|s| s.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.series[i])
    }

    /// Adds a point; a point at the same step and epoch as an existing one replaces it
    /// (a checkpoint's copy of a log, or a repeated final evaluation), and so does one at the
    /// same step when either lacks the epoch.
    pub fn add_point(&mut self, name: &str, point: Point) {
        let i = match self.series.binary_search_by(|s| s.name.as_str().cmp(name)) {
            Ok(i) => i,
            Err(i) => {
                self.series.insert(
                    i,
                    Series {
                        name: name.to_string(),
                        points: Vec::new(),
                    },
                );
                i
            }
        };
        let points = &mut self.series[i].points;
        // The same step is the same point even when only one source knew its epoch (MLflow
        // and W&B logging one run).
        if let Some(p) = points.iter_mut().find(|p| {
            p.step == point.step
                && (same_epoch(p.epoch, point.epoch)
                    || (p.step.is_some() && (p.epoch.is_none() || point.epoch.is_none())))
        }) {
            p.value = point.value;
            p.epoch = p.epoch.or(point.epoch);
            return;
        }
        let at = points.partition_point(|p| point_order(p, &point) != std::cmp::Ordering::Greater);
        points.insert(at, point);
    }

    /// Merges another file's results into these.
    pub fn merge(&mut self, other: Results) {
        for series in other.series {
            for point in series.points {
                self.add_point(&series.name, point);
            }
        }
        self.finals.extend(other.finals);
        self.files.extend(other.files);
        self.errors.extend(other.errors);
    }
}

fn same_epoch(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.to_bits() == b.to_bits(),
        (None, None) => true,
        _ => false,
    }
}

fn point_order(a: &Point, b: &Point) -> std::cmp::Ordering {
    a.step.cmp(&b.step).then_with(|| match (a.epoch, b.epoch) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (x, y) => x.is_some().cmp(&y.is_some()),
    })
}
