//! `trackit diagnose`: what went wrong, from logs plus the scheduler's state and exit code.

use crate::cli::{DiagnoseArgs, GlobalOpts};
use crate::diagnose::{Diagnosis, Input};
use crate::job::{ExitStatus, JobState};
use crate::logtail::read_tail;
use anyhow::{anyhow, Result};
use std::process::ExitCode;

pub fn run(global: &GlobalOpts, args: DiagnoseArgs) -> Result<ExitCode> {
    // Usage errors (exit 2) come before any file is touched.
    let state = match &args.state {
        Some(s) => match s.parse::<JobState>() {
            Ok(st) => Some(st),
            Err(e) => return usage(&format!("--state: {e} (one of {})", state_names())),
        },
        None => None,
    };
    let exit = match &args.exit_code {
        Some(s) => match s.parse::<ExitStatus>() {
            Ok(e) => Some(e),
            Err(e) => return usage(&format!("--exit-code: {e}")),
        },
        None => None,
    };
    let host = super::load_policy(args.policy.as_deref().or(global.policy.as_deref()))?;
    let opts = host.settings().tail_options();
    let logs = args
        .logs
        .iter()
        .map(|p| read_tail(p, opts).map_err(|e| anyhow!(e)))
        .collect::<Result<Vec<_>>>()?;
    let input = Input {
        logs,
        state,
        exit,
        reasons: args.reason.clone(),
        job: None,
    };
    let diagnosis = host.diagnose(&input)?;
    if args.json || global.json {
        println!("{}", serde_json::to_string(&diagnosis)?);
    } else {
        print!("{}", render(&diagnosis, &input));
    }
    Ok(ExitCode::SUCCESS)
}

fn usage(msg: &str) -> Result<ExitCode> {
    eprintln!("trackit diagnose: {msg}");
    Ok(ExitCode::from(2))
}

fn state_names() -> String {
    JobState::ALL
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The human form: kind and summary, then the numbered evidence lines.
pub fn render(d: &Diagnosis, input: &Input) -> String {
    let mut out = format!("{}: {}\n", d.kind, d.summary);
    for e in &d.evidence {
        match (&e.file, e.line) {
            (Some(file), Some(line)) => {
                let partial = input
                    .logs
                    .iter()
                    .any(|l| l.path.display().to_string() == *file && !l.complete);
                let mark = if partial { "tail " } else { "" };
                out.push_str(&format!("  {file}:{mark}{line}: {}\n", e.text));
            }
            _ => out.push_str(&format!("  [{}] {}\n", e.source, e.text)),
        }
    }
    if !d.captures.is_empty() {
        let caps: Vec<String> = d.captures.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out.push_str(&format!("  captures: {}\n", caps.join(" ")));
    }
    let by = d
        .rule
        .as_deref()
        .map(|r| format!(" (rule {r})"))
        .unwrap_or_default();
    out.push_str(&format!(
        "  fixable: {}{by}\n",
        if d.fixable { "yes" } else { "no" }
    ));
    out
}
