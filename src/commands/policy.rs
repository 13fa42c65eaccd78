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
///
/// Exit 1 when the policy is broken (the check's answer); a file that cannot be read is an
/// error (exit 3). `file` may also name a built-in policy (`sherlock`).
pub fn check(file: &Path) -> Result<ExitCode> {
    let source = crate::lua::policy::named(file).map_err(crate::cli::usage)?;
    if let PolicySource::File(p) = &source {
        std::fs::metadata(p).with_context(|| format!("cannot read policy {}", p.display()))?;
        if p.is_dir() {
            bail!("policy {} is a directory, not a Lua file", p.display());
        }
    }
    match check_loaded(&source) {
        Ok(code) => Ok(code),
        Err(e) => {
            eprintln!("trackit: error: {}", crate::cli::error_text(&e));
            Ok(ExitCode::from(crate::cli::exit::JOB_FAILED))
        }
    }
}

fn check_loaded(source: &PolicySource) -> Result<ExitCode> {
    let file = source.display_name();
    let host = Host::load(source)?;
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
        file,
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
    /// The folder of a split corpus (`dev`, `test`) the case came from.
    #[serde(skip)]
    split: Option<String>,
}

#[derive(Debug, Serialize)]
struct CaseResult {
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    split: Option<String>,
    expected: String,
    /// Other kinds that count as right.
    accepted: Vec<String>,
    got: String,
    pass: bool,
    /// Whether `got` would trigger a fix (a wrong fixable kind is the costly mistake).
    fixable: bool,
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

/// The cases listed in `dir/cases.json` or `dir/labels.json`, if either exists.
fn read_case_file(dir: &Path) -> Result<Option<Vec<Case>>> {
    for name in ["cases.json", "labels.json"] {
        let path = dir.join(name);
        if path.is_file() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let cases = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a list of cases", path.display()))?;
            return Ok(Some(cases));
        }
    }
    Ok(None)
}

fn load_cases(dir: &Path) -> Result<Vec<Case>> {
    if let Some(cases) = read_case_file(dir)? {
        return Ok(cases);
    }
    // A corpus split into folders that each list their own cases (`dev/`, `test/`): all of
    // them, each case named by its folder.
    let mut splits: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read cases folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_dir() && (p.join("cases.json").is_file() || p.join("labels.json").is_file())
        })
        .collect();
    splits.sort();
    if !splits.is_empty() {
        let mut all = Vec::new();
        for split in splits {
            let name = split
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            for mut case in read_case_file(&split)?.unwrap_or_default() {
                case.file = format!("{name}/{}", case.file);
                case.split = Some(name.clone());
                all.push(case);
            }
        }
        return Ok(all);
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
            split: None,
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
            split: case.split.clone(),
            expected,
            accepted,
            got: d.kind,
            pass,
            fixable: d.fixable,
            summary: d.summary,
        });
    }
    let passed = results.iter().filter(|r| r.pass).count();
    let failed = results.len() - passed;
    // Per split of a split corpus: (name, passed, failed).
    let mut splits: Vec<(String, usize, usize)> = Vec::new();
    for r in &results {
        let Some(name) = &r.split else { continue };
        if splits.last().is_none_or(|(n, _, _)| n != name) {
            splits.push((name.clone(), 0, 0));
        }
        let last = splits.last_mut().expect("just pushed");
        if r.pass {
            last.1 += 1;
        } else {
            last.2 += 1;
        }
    }
    if json {
        let mut out = serde_json::json!({ "policy": host.name(), "passed": passed, "failed": failed, "cases": results });
        if !splits.is_empty() {
            out["splits"] = splits
                .iter()
                .map(|(n, p, f)| (n.clone(), serde_json::json!({ "passed": p, "failed": f })))
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
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
        for (name, p, f) in &splits {
            println!("{name}: {p} passed, {f} failed");
        }
        println!("policy {}: {passed} passed, {failed} failed", host.name());
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
