//! What a fixer sees ([`FixCtx`]), what it returns ([`Fix`]), and the rules Rust enforces on it
//! whatever the policy says: caps (clamped, never exceeded) and never the same edit twice.

use super::{apply, effective_option, resources, AppliedEdit, Edit, EditError, JobSpec};
use crate::diagnose::Diagnosis;
use crate::job::{format_duration, format_mem, parse_duration, parse_mem, JobInfo};
use crate::settings::{Caps, Settings};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// What a fixer returns: edits as data, and an optional note for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fix {
    #[serde(default)]
    pub edits: Vec<Edit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What a `fixers.<kind>(ctx)` hook sees.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FixCtx {
    pub diagnosis: Diagnosis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<JobInfo>,
    /// The attempt that failed (1 for the first run).
    pub attempt: u32,
    pub max_attempts: u32,
    /// `slurm` or `local`.
    pub backend: String,
    /// Effective sbatch options (command line over script), by long name: `mem`, `time`, ...
    pub resources: BTreeMap<String, String>,
    /// The batch script's text (SLURM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_path: Option<String>,
    #[serde(default)]
    pub sbatch_args: Vec<String>,
    /// The command line (local jobs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Edits applied by earlier attempts, oldest first.
    #[serde(default)]
    pub history: Vec<AppliedEdit>,
    /// The caps in force for the job's partition (partition caps over site caps).
    pub caps: Caps,
    pub site_caps: Caps,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_caps: Option<Caps>,
    pub settings: Settings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_root: Option<String>,
}

impl FixCtx {
    /// The context for the first failed attempt; set `attempt`, `history` and `repo_root` as
    /// the track goes on.
    pub fn new(
        diagnosis: &Diagnosis,
        job: Option<&JobInfo>,
        spec: &JobSpec,
        settings: &Settings,
    ) -> FixCtx {
        let partition = effective_option(spec, "partition");
        let (script, script_path, sbatch_args, command, env) = match spec {
            JobSpec::Slurm {
                script_rel,
                script_text,
                sbatch_args,
            } => (
                Some(script_text.clone()),
                Some(script_rel.display().to_string()),
                sbatch_args.clone(),
                None,
                BTreeMap::new(),
            ),
            JobSpec::Local { command, env, .. } => (
                None,
                None,
                Vec::new(),
                Some(command.clone()),
                env.iter().cloned().collect(),
            ),
        };
        FixCtx {
            diagnosis: diagnosis.clone(),
            job: job.cloned(),
            attempt: 1,
            max_attempts: settings.max_attempts,
            backend: spec.backend().to_string(),
            resources: resources(spec),
            script,
            script_path,
            sbatch_args,
            command,
            env,
            history: Vec::new(),
            caps: caps_for(settings, partition.as_deref()),
            site_caps: settings.caps.clone(),
            partition_caps: partition.and_then(|p| settings.partitions.get(&p).cloned()),
            settings: settings.clone(),
            repo_root: None,
        }
    }

    pub fn with_attempt(mut self, attempt: u32, max_attempts: u32) -> Self {
        self.attempt = attempt;
        self.max_attempts = max_attempts;
        self
    }

    pub fn with_history(mut self, history: Vec<AppliedEdit>) -> Self {
        self.history = history;
        self
    }

    pub fn with_repo_root(mut self, root: &Path) -> Self {
        self.repo_root = Some(root.display().to_string());
        self
    }
}

/// The caps for a partition: its own (`settings.partitions[p]`) over the site's.
pub fn caps_for(settings: &Settings, partition: Option<&str>) -> Caps {
    let site = settings.caps.clone();
    let Some(p) = partition.and_then(|p| settings.partitions.get(p)) else {
        return site;
    };
    Caps {
        max_mem: p.max_mem.clone().or(site.max_mem),
        max_time: p.max_time.clone().or(site.max_time),
        max_gpus: p.max_gpus.or(site.max_gpus),
        max_cpus: p.max_cpus.or(site.max_cpus),
        max_nodes: p.max_nodes.or(site.max_nodes),
        max_ntasks: p.max_ntasks.or(site.max_ntasks),
    }
}

/// An edit Rust refused, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DroppedEdit {
    pub edit: Edit,
    pub reason: String,
}

/// An edit that passed the caps and the history, possibly lowered to a cap.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    pub edit: Edit,
    /// The value the fixer asked for, when a cap lowered it.
    pub clamped_from: Option<String>,
}

/// Caps and history: values above a cap are lowered to it; an edit that then changes nothing, or
/// that equals one already applied (or one earlier in the same fix), is dropped.
pub fn enforce(
    edits: &[Edit],
    spec: &JobSpec,
    settings: &Settings,
    history: &[AppliedEdit],
) -> (Vec<Kept>, Vec<DroppedEdit>) {
    let new_partition = edits.iter().rev().find_map(|e| match e.normalized() {
        Edit::SetOption { name, value } if name == "partition" => Some(value),
        _ => None,
    });
    let partition = new_partition.or_else(|| effective_option(spec, "partition"));
    let caps = caps_for(settings, partition.as_deref());
    let mut kept: Vec<Kept> = Vec::new();
    let mut dropped = Vec::new();
    for edit in edits {
        let edit = edit.normalized();
        let (edit, clamped_from) = match clamp(&edit, spec, &caps) {
            Ok(x) => x,
            Err(reason) => {
                dropped.push(DroppedEdit { edit, reason });
                continue;
            }
        };
        let repeatable = matches!(
            edit,
            Edit::Retry {
                repeatable: true,
                ..
            }
        );
        if !repeatable && history.iter().any(|h| h.edit == edit) {
            dropped.push(DroppedEdit {
                edit,
                reason: "already applied in an earlier attempt".into(),
            });
            continue;
        }
        if kept.iter().any(|k| k.edit == edit) {
            dropped.push(DroppedEdit {
                edit,
                reason: "repeated in the same fix".into(),
            });
            continue;
        }
        kept.push(Kept { edit, clamped_from });
    }
    (kept, dropped)
}

/// Lowers a resource to its cap. `Err(reason)` when the edit would change nothing.
fn clamp(edit: &Edit, spec: &JobSpec, caps: &Caps) -> Result<(Edit, Option<String>), String> {
    let Edit::SetOption { name, value } = edit else {
        return Ok((edit.clone(), None));
    };
    let current = effective_option(spec, name);
    let cpus = effective_option(spec, "cpus-per-task")
        .and_then(|c| c.parse::<u64>().ok())
        .unwrap_or(1)
        .max(1);
    // (value, cap, current) as numbers, and how to write a number back.
    type Numbers = (Option<u64>, Option<u64>, Option<u64>, fn(u64) -> String);
    let (v, cap, cur, fmt): Numbers = match name.as_str() {
        "mem" => (
            parse_mem(value),
            caps.max_mem.as_deref().and_then(parse_mem),
            current.as_deref().and_then(parse_mem),
            format_mem,
        ),
        "mem-per-cpu" => (
            parse_mem(value),
            caps.max_mem
                .as_deref()
                .and_then(parse_mem)
                .map(|m| m / cpus),
            current.as_deref().and_then(parse_mem),
            format_mem,
        ),
        "time" => (
            // UNLIMITED is above any cap.
            parse_duration(value).or(Some(u64::MAX)),
            caps.max_time.as_deref().and_then(parse_duration),
            current.as_deref().and_then(parse_duration),
            format_duration,
        ),
        "cpus-per-task" => (
            value.parse().ok(),
            caps.max_cpus.map(u64::from),
            current.as_deref().and_then(|c| c.parse().ok()),
            |n| n.to_string(),
        ),
        "ntasks" | "ntasks-per-node" => (
            value.parse().ok(),
            caps.max_ntasks.map(u64::from),
            current.as_deref().and_then(|c| c.parse().ok()),
            |n| n.to_string(),
        ),
        "nodes" => {
            // `N` or `MIN-MAX`: the upper end is what a cap bounds.
            let upper = |s: &str| {
                s.rsplit('-')
                    .next()
                    .and_then(|n| n.trim().parse::<u64>().ok())
            };
            let lower = value.split_once('-').map(|(lo, _)| lo.to_string());
            let (v, cap, cur) = (
                upper(value),
                caps.max_nodes.map(u64::from),
                current.as_deref().and_then(upper),
            );
            return finish(edit, name, value, v, cap, cur, &|n| match &lower {
                Some(lo) if lo.parse::<u64>().is_ok_and(|l| l <= n) => format!("{lo}-{n}"),
                _ => n.to_string(),
            });
        }
        "gres" => return clamp_gres(edit, value, current.as_deref(), caps),
        "gpus" | "gpus-per-node" => {
            let count = |s: &str| s.rsplit(':').next().and_then(|n| n.parse::<u64>().ok());
            let typed = value.rsplit_once(':').map(|(t, _)| t.to_string());
            let (v, cap, cur) = (
                count(value),
                caps.max_gpus.map(u64::from),
                current.as_deref().and_then(count),
            );
            return finish(edit, name, value, v, cap, cur, &|n| match &typed {
                Some(t) => format!("{t}:{n}"),
                None => n.to_string(),
            });
        }
        _ => {
            if current.as_deref() == Some(value.as_str()) {
                return Err(format!("--{name} is already {value}"));
            }
            return Ok((edit.clone(), None));
        }
    };
    finish(edit, name, value, v, cap, cur, &fmt)
}

/// `--gres=gpu[:type]:N[,other...]`: the GPU count is capped by `max_gpus`; other resources
/// are left as they are.
fn clamp_gres(
    edit: &Edit,
    value: &str,
    current: Option<&str>,
    caps: &Caps,
) -> Result<(Edit, Option<String>), String> {
    fn gpus(gres: &str) -> Option<u64> {
        gres.split(',')
            .filter(|r| r.starts_with("gpu"))
            .filter_map(|r| {
                let parts: Vec<&str> = r.split(':').collect();
                match parts.len() {
                    1 => Some(1),
                    _ => parts.last().and_then(|n| n.parse::<u64>().ok()).or(Some(1)),
                }
            })
            .reduce(|a, b| a + b)
    }
    if current == Some(value) {
        return Err(format!("--gres is already {value}"));
    }
    let (Some(asked), Some(cap)) = (gpus(value), caps.max_gpus.map(u64::from)) else {
        return Ok((edit.clone(), None));
    };
    if asked <= cap {
        return Ok((edit.clone(), None));
    }
    if current.and_then(gpus).is_some_and(|c| c >= cap) {
        return Err(format!(
            "--gres is already at its GPU cap {cap} (asked {value})"
        ));
    }
    let lowered: Vec<String> = value
        .split(',')
        .map(|r| {
            if !r.starts_with("gpu") {
                return r.to_string();
            }
            let mut parts: Vec<&str> = r.split(':').collect();
            let n = cap.to_string();
            if parts.len() > 1 && parts.last().is_some_and(|p| p.parse::<u64>().is_ok()) {
                parts.pop();
            }
            parts.push(&n);
            parts.join(":")
        })
        .collect();
    Ok((
        Edit::SetOption {
            name: "gres".into(),
            value: lowered.join(","),
        },
        Some(value.to_string()),
    ))
}

fn finish(
    edit: &Edit,
    name: &str,
    value: &str,
    v: Option<u64>,
    cap: Option<u64>,
    cur: Option<u64>,
    fmt: &dyn Fn(u64) -> String,
) -> Result<(Edit, Option<String>), String> {
    let Some(v) = v else {
        return Ok((edit.clone(), None)); // apply() reports the bad value
    };
    match cap {
        Some(cap) if v > cap => {
            if cur.is_some_and(|c| c >= cap) {
                return Err(format!(
                    "--{name} is already at its cap {} (asked {value})",
                    fmt(cap)
                ));
            }
            Ok((
                Edit::SetOption {
                    name: name.to_string(),
                    value: fmt(cap),
                },
                Some(value.to_string()),
            ))
        }
        _ if cur == Some(v) => Err(format!("--{name} is already {value}")),
        _ => Ok((edit.clone(), None)),
    }
}

/// A fix ready to relaunch: the edited job and what changed. Empty `applied` means nothing is
/// left to try: the engine ends the track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixPlan {
    pub spec: JobSpec,
    pub applied: Vec<AppliedEdit>,
    #[serde(default)]
    pub dropped: Vec<DroppedEdit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Whether the policy had a fix at all (false: no fixer for the kind, or it returned nil).
    pub proposed: bool,
}

impl FixPlan {
    /// No fixer, or a fix with nothing left once caps and history are enforced.
    pub fn nothing_left(&self) -> bool {
        self.applied.is_empty()
    }

    /// The plan when there is no fix: the job unchanged, nothing applied.
    pub fn none(spec: &JobSpec) -> FixPlan {
        FixPlan {
            spec: spec.clone(),
            applied: Vec::new(),
            dropped: Vec::new(),
            note: None,
            proposed: false,
        }
    }

    /// The script's changed lines, unified-style (empty for local jobs or no change).
    pub fn script_diff(&self, before: &JobSpec) -> String {
        match (before, &self.spec) {
            (
                JobSpec::Slurm {
                    script_rel,
                    script_text: a,
                    ..
                },
                JobSpec::Slurm { script_text: b, .. },
            ) => {
                let name = script_rel.display().to_string();
                super::diff::unified(a, b, &format!("a/{name}"), &format!("b/{name}"), 1)
            }
            _ => String::new(),
        }
    }
}

/// Enforces caps and history on a fixer's `fix`, then applies what is left to `spec`.
pub fn plan(
    fix: Option<Fix>,
    spec: &JobSpec,
    settings: &Settings,
    history: &[AppliedEdit],
    repo_root: &Path,
    reason: &str,
) -> Result<FixPlan, EditError> {
    let Some(fix) = fix else {
        return Ok(FixPlan::none(spec));
    };
    let (kept, mut dropped) = enforce(&fix.edits, spec, settings, history);
    let edits: Vec<Edit> = kept.iter().map(|k| k.edit.clone()).collect();
    let (new_spec, applied) = apply(spec, &edits, repo_root)?;
    for k in &kept {
        if !applied.iter().any(|a| a.edit == k.edit) {
            dropped.push(DroppedEdit {
                edit: k.edit.clone(),
                reason: "changes nothing".into(),
            });
        }
    }
    let applied = applied
        .into_iter()
        .map(|mut a| {
            if let Some(k) = kept.iter().find(|k| k.edit == a.edit) {
                if let Some(asked) = &k.clamped_from {
                    a.display = format!("{}, capped (asked {asked})", a.display);
                    a.clamped_from = Some(asked.clone());
                }
            }
            a.because(reason)
        })
        .collect();
    Ok(FixPlan {
        spec: new_spec,
        applied,
        dropped,
        note: fix.note,
        proposed: true,
    })
}

/// A short reason for display lines: `oom: Detected 1 oom_kill event in StepId=42.batch`.
pub fn reason_of(d: &Diagnosis) -> String {
    let deciding = |e: &&crate::diagnose::Evidence| d.rule.is_some() && e.rule == d.rule;
    let text = d
        .evidence
        .iter()
        .find(|e| e.source == "log" && deciding(e))
        .or_else(|| d.evidence.iter().find(|e| e.source == "log"))
        .map(|e| e.text.as_str())
        .unwrap_or(d.summary.as_str());
    let mut text = text.trim();
    // `slurmstepd: error: X` -> `X`: the tool prefix says little.
    for marker in ["error: ", "ERROR: ", "FATAL: "] {
        if let Some(i) = text.find(marker) {
            if i < 40 && text.len() > i + marker.len() {
                text = &text[i + marker.len()..];
                break;
            }
        }
    }
    if let Some(i) = text.find(". ") {
        text = &text[..i];
    }
    let short: String = text.chars().take(80).collect();
    let ell = if text.chars().count() > 80 { "…" } else { "" };
    format!("{}: {short}{ell}", d.kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn spec(script: &str) -> JobSpec {
        JobSpec::Slurm {
            script_rel: PathBuf::from("job.sh"),
            script_text: script.to_string(),
            sbatch_args: vec!["job.sh".into()],
        }
    }

    fn set(name: &str, value: &str) -> Edit {
        Edit::SetOption {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn caps_clamp_time_gpus_and_cpus() {
        let settings = Settings {
            caps: Caps {
                max_mem: None,
                max_time: Some("1-00:00:00".into()),
                max_gpus: Some(4),
                max_cpus: Some(16),
                ..Caps::default()
            },
            ..Settings::default()
        };
        let job = spec("#!/bin/bash\n#SBATCH -t 12:00:00\n#SBATCH --gpus=a100:2\necho\n");
        let (kept, dropped) = enforce(
            &[
                set("time", "UNLIMITED"),
                set("gpus", "a100:8"),
                set("c", "64"),
            ],
            &job,
            &settings,
            &[],
        );
        assert!(dropped.is_empty(), "{dropped:?}");
        let edits: Vec<_> = kept.iter().map(|k| k.edit.clone()).collect();
        assert_eq!(
            edits,
            [
                set("time", "1-00:00:00"),
                set("gpus", "a100:4"),
                set("cpus-per-task", "16")
            ]
        );
        assert_eq!(kept[1].clamped_from.as_deref(), Some("a100:8"));
        // gres, nodes and ntasks are capped too.
        let settings = Settings {
            caps: Caps {
                max_gpus: Some(2),
                max_nodes: Some(4),
                max_ntasks: Some(64),
                ..Caps::default()
            },
            ..Settings::default()
        };
        let (kept, dropped) = enforce(
            &[
                set("gres", "gpu:a100:8"),
                set("nodes", "2-16"),
                set("ntasks", "1000"),
                set("ntasks-per-node", "128"),
            ],
            &job,
            &settings,
            &[],
        );
        assert!(dropped.is_empty(), "{dropped:?}");
        let edits: Vec<_> = kept.iter().map(|k| k.edit.clone()).collect();
        assert_eq!(
            edits,
            [
                set("gres", "gpu:a100:2"),
                set("nodes", "2-4"),
                set("ntasks", "64"),
                set("ntasks-per-node", "64")
            ]
        );
        // The same value again, or a value equal to the current one, is dropped.
        let (kept, dropped) = enforce(&[set("time", "12:00:00")], &job, &settings, &[]);
        assert!(kept.is_empty());
        assert!(dropped[0].reason.contains("already"), "{dropped:?}");
    }
}
