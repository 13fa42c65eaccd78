//! `trackit policy check`, `trackit policy test` and `trackit policy trust`.

use crate::diagnose::{Input, KINDS};
use crate::job::{ExitStatus, JobState};
use crate::logtail::{read_tail, LogTail};
use crate::lua::{Host, PolicySource};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Records a repository policy (default: this repository's `.trackit/policy.lua`) as trusted,
/// after saying what changed since it was last trusted.
pub fn trust(file: Option<&Path>) -> Result<ExitCode> {
    use crate::lua::trust::{self, Verdict};
    let path = match file {
        Some(f) => f.to_path_buf(),
        None => {
            let cwd = std::env::current_dir()?;
            let root = crate::lua::policy::repo_root(&cwd).context(
                "not inside a repository: name the policy file (trackit policy trust FILE)",
            )?;
            root.join(".trackit").join("policy.lua")
        }
    };
    if !path.is_file() {
        bail!("{} is not a policy file", path.display());
    }
    let store = trust::config_dir()
        .context("no config directory to record trust in: set XDG_CONFIG_HOME or HOME")?;
    let (before, record) = trust::trust_in(&store, &path).map_err(anyhow::Error::msg)?;
    match &before {
        Verdict::Trusted => println!("already trusted: {}", path.display()),
        Verdict::Changed { summary, diff } => {
            println!("changed since you last trusted it: {}", summary.join("; "));
            if !diff.is_empty() {
                println!("{diff}");
            }
        }
        _ => {}
    }
    let names: Vec<&str> = record.files.iter().map(|f| f.name.as_str()).collect();
    println!(
        "trusted {} (sha256 {}, {}: {})",
        record.path.display(),
        &record.digest[..16],
        if names.len() == 1 { "1 file" } else { "files" },
        names.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// Loads a policy, validates its rules and settings, and runs its `diagnose` hook once on a
/// small synthetic failure so a runtime error shows up now rather than during a week-long job.
pub fn check(file: &Path) -> Result<ExitCode> {
    let host = Host::load(&PolicySource::File(file.to_path_buf()))?;
    let probe = LogTail {
        path: PathBuf::from("probe.log"),
        file_size: 0,
        start_offset: 0,
        complete: true,
        lines: vec![
            "Traceback (most recent call last):".into(),
            "RuntimeError: CUDA out of memory.".into(),
        ],
    };
    for state in [Some(JobState::Failed), Some(JobState::Completed), None] {
        host.diagnose(&Input {
            logs: vec![probe.clone()],
            state,
            ..Default::default()
        })?;
    }
    let mut hooks = Vec::new();
    for h in crate::lua::POLICY_KEYS {
        if host.hook(h).ok().flatten().is_some() {
            hooks.push(*h);
        }
    }
    println!(
        "ok: {} ({} rules; hooks: {})",
        file.display(),
        host.rules().len(),
        if hooks.is_empty() {
            "none".to_string()
        } else {
            hooks.join(", ")
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// One example log and what it should be diagnosed as.
#[derive(Debug, Clone, Deserialize)]
struct Case {
    file: String,
    #[serde(default)]
    kind: Option<String>,
    /// A corpus label (mapped to a kind, see `label_to_kind`).
    #[serde(default)]
    label: Option<String>,
    #[serde(default, alias = "scheduler_state")]
    state: Option<String>,
    #[serde(default)]
    exit_code: Option<serde_json::Value>,
    /// Other kinds that also count as right.
    #[serde(default)]
    accept: Vec<String>,
}

#[derive(Debug, Serialize)]
struct CaseResult {
    file: String,
    expected: String,
    got: String,
    pass: bool,
    summary: String,
}

/// Corpus labels and the kinds they expect (plus kinds also accepted).
fn label_to_kind(label: &str) -> (String, Vec<String>) {
    let (kind, also): (&str, &[&str]) = match label {
        "preemption" => ("preempted", &[]),
        "not_a_failure" | "finished" => ("none", &[]),
        "node_fail" => ("node_fail", &["unknown"]),
        "distributed" => ("distributed", &["unknown"]),
        "segfault" => ("segfault", &["unknown"]),
        "user_code" => ("user_code", &["unknown"]),
        "unknown" => ("unknown", &["user_code"]),
        other => (other, &[]),
    };
    (
        kind.to_string(),
        also.iter().map(|s| s.to_string()).collect(),
    )
}

fn load_cases(dir: &Path) -> Result<Vec<Case>> {
    for name in ["cases.json", "labels.json"] {
        let path = dir.join(name);
        if path.is_file() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            return serde_json::from_str(&text)
                .with_context(|| format!("{} is not a list of cases", path.display()));
        }
    }
    // Otherwise the kind is the end of the file name: `058-container.log`, `x-missing_dep.log`.
    let mut cases = Vec::new();
    let mut files: Vec<PathBuf> = walk_logs(dir)?;
    files.sort();
    for path in files {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let kind = KINDS
            .iter()
            .chain(["preemption"].iter())
            .filter(|k| stem.ends_with(&format!("-{k}")) || stem == **k)
            .max_by_key(|k| k.len())
            .map(|k| k.to_string());
        let Some(kind) = kind else {
            bail!("{}: cannot tell the expected kind: name it <anything>-<kind>.log or list it in cases.json", path.display())
        };
        let rel = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .display()
            .to_string();
        cases.push(Case {
            file: rel,
            kind: None,
            label: Some(kind),
            state: None,
            exit_code: None,
            accept: vec![],
        });
    }
    Ok(cases)
}

fn walk_logs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)
            .with_context(|| format!("cannot read cases folder {}", d.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("log" | "out" | "err" | "txt")
            ) {
                out.push(path);
            }
        }
    }
    Ok(out)
}

/// Leading integer of `"1 (srun tasks)"`, or an `N:S` string.
fn parse_exit(v: &serde_json::Value) -> Option<ExitStatus> {
    match v {
        serde_json::Value::Number(n) => n.as_i64().map(|c| ExitStatus::code(c as i32)),
        serde_json::Value::String(s) => {
            let token = s.split_whitespace().next()?;
            token.parse().ok()
        }
        _ => None,
    }
}

pub fn test(policy: Option<&Path>, dir: &Path, json: bool) -> Result<ExitCode> {
    let host = super::load_policy(policy)?;
    let cases = load_cases(dir)?;
    if cases.is_empty() {
        bail!("no cases found in {}", dir.display());
    }
    let opts = host.settings().tail_options();
    let mut results = Vec::new();
    for case in &cases {
        let (expected, mut accepted) = match (&case.kind, &case.label) {
            (Some(k), _) => (k.clone(), vec![]),
            (None, Some(l)) => label_to_kind(l),
            (None, None) => bail!("case {}: needs a kind or a label", case.file),
        };
        accepted.extend(case.accept.iter().cloned());
        let path = dir.join(&case.file);
        let tail = read_tail(&path, opts)?;
        let input = Input {
            logs: vec![tail],
            state: case.state.as_deref().and_then(|s| s.parse().ok()),
            exit: case.exit_code.as_ref().and_then(parse_exit),
            ..Default::default()
        };
        let d = host.diagnose(&input)?;
        let pass = d.kind == expected || accepted.contains(&d.kind);
        results.push(CaseResult {
            file: case.file.clone(),
            expected,
            got: d.kind,
            pass,
            summary: d.summary,
        });
    }
    let passed = results.iter().filter(|r| r.pass).count();
    let failed = results.len() - passed;
    if json {
        let out = serde_json::json!({ "policy": host.name(), "passed": passed, "failed": failed, "cases": results });
        println!("{out}");
    } else {
        let w = results
            .iter()
            .map(|r| r.file.len())
            .max()
            .unwrap_or(4)
            .max(4);
        println!("{:<w$}  {:<13} {:<13} result", "case", "expected", "got");
        for r in &results {
            let mark = if r.pass { "pass" } else { "FAIL" };
            println!("{:<w$}  {:<13} {:<13} {mark}", r.file, r.expected, r.got);
            if !r.pass {
                println!("{:<w$}    {}", "", r.summary);
            }
        }
        println!("policy {}: {passed} passed, {failed} failed", host.name());
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
