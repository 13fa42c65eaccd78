//! `trackit diagnose`: what went wrong, from logs plus the scheduler's state and exit code.

use crate::cli::{usage, DiagnoseArgs, GlobalOpts};
use crate::diagnose::{Diagnosis, Explanation, Input};
use crate::edits::{FixCtx, FixPlan, JobSpec};
use crate::job::{ExitStatus, JobState};
use crate::logtail::read_tail;
use crate::lua::Host;
use anyhow::{anyhow, Result};
use std::path::Path;
use std::process::ExitCode;

pub fn run(global: &GlobalOpts, args: DiagnoseArgs) -> Result<ExitCode> {
    // Usage errors (exit 2) come before any file is touched.
    let state = match &args.state {
        Some(s) => match s.parse::<JobState>() {
            Ok(st) => Some(st),
            Err(e) => return Err(usage(format!("--state: {e} (one of {})", state_names()))),
        },
        None => None,
    };
    let exit = match &args.exit_code {
        Some(s) => match s.parse::<ExitStatus>() {
            Ok(e) => Some(e),
            Err(e) => return Err(usage(format!("--exit-code: {e}"))),
        },
        None => None,
    };
    let host = super::load_policy(global.policy.as_deref())?;
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
    let (diagnosis, explanation) = if args.explain {
        let (d, e) = host.explain(&input)?;
        (d, Some(e))
    } else {
        (host.diagnose(&input)?, None)
    };
    let fix = match &args.fix {
        Some(script) => Some(plan_fix(&host, &diagnosis, script)?),
        None => None,
    };
    if global.json {
        let mut out = serde_json::to_value(&diagnosis)?;
        if let (Some((spec, plan)), Some(obj)) = (&fix, out.as_object_mut()) {
            obj.insert("fix".into(), fix_json(spec, plan));
        }
        if let (Some(e), Some(obj)) = (&explanation, out.as_object_mut()) {
            obj.insert("explain".into(), serde_json::to_value(e)?);
        }
        println!("{}", serde_json::to_string(&out)?);
    } else {
        print!("{}", render(&diagnosis, &input));
        if let Some(e) = &explanation {
            print!("{}", render_explanation(e));
        }
        if let Some((spec, plan)) = &fix {
            print!("{}", render_fix(&diagnosis, spec, plan));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What the policy's fixer would do to `script` (as `trackit sbatch SCRIPT` would run it).
fn plan_fix(host: &Host, diagnosis: &Diagnosis, script: &Path) -> Result<(JobSpec, FixPlan)> {
    let text = std::fs::read_to_string(script)
        .map_err(|e| anyhow!("cannot read the script {}: {e}", script.display()))?;
    let cwd = std::env::current_dir()?;
    let root = crate::lua::policy::repo_root(&cwd).unwrap_or(cwd);
    let rel = std::fs::canonicalize(script)
        .ok()
        .and_then(|abs| abs.strip_prefix(&root).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| script.to_path_buf());
    let spec = JobSpec::Slurm {
        script_rel: rel,
        script_text: text,
        sbatch_args: vec![script.display().to_string()],
    };
    let ctx = FixCtx::new(diagnosis, None, &spec, host.settings()).with_repo_root(&root);
    let plan = host.plan_fix(&ctx, &spec, &root)?;
    Ok((spec, plan))
}

/// The edits as their display lines, the note, refused edits, then the script's changed lines.
pub fn render_fix(d: &Diagnosis, before: &JobSpec, plan: &FixPlan) -> String {
    let mut out = String::new();
    if !plan.proposed {
        out.push_str(&format!(
            "fix: none (the policy has no fix for {}: no relaunch)\n",
            d.kind
        ));
        return out;
    }
    if plan.nothing_left() {
        out.push_str("fix: nothing left to try\n");
    } else {
        out.push_str("fix:\n");
    }
    for a in &plan.applied {
        out.push_str(&format!("  {}\n", a.display));
    }
    if let Some(note) = &plan.note {
        out.push_str(&format!("  note: {note}\n"));
    }
    for dropped in &plan.dropped {
        let edit = serde_json::to_string(&dropped.edit).unwrap_or_default();
        out.push_str(&format!("  dropped: {edit}: {}\n", dropped.reason));
    }
    if let (JobSpec::Slurm { sbatch_args: a, .. }, JobSpec::Slurm { sbatch_args: b, .. }) =
        (before, &plan.spec)
    {
        if a != b {
            out.push_str(&format!("  sbatch {}\n", b.join(" ")));
        }
    }
    out.push_str(&plan.script_diff(before));
    out
}

fn fix_json(before: &JobSpec, plan: &FixPlan) -> serde_json::Value {
    let mut v = serde_json::json!({
        "proposed": plan.proposed,
        "nothing_left": plan.nothing_left(),
        "edits": plan.applied,
        "dropped": plan.dropped,
        "note": plan.note,
        "diff": plan.script_diff(before),
    });
    if let JobSpec::Slurm { sbatch_args, .. } = &plan.spec {
        v["sbatch_args"] = serde_json::json!(sbatch_args);
    }
    v
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

/// The `--explain` section: how the verdict was chosen, then each rule that had something to say.
pub fn render_explanation(e: &Explanation) -> String {
    let mut out = format!("explain:\n  verdict: {}\n", e.verdict);
    if e.rules.is_empty() {
        out.push_str("  no rule matched a line or the scheduler's state\n");
    }
    for t in &e.rules {
        out.push_str(&format!(
            "  {:<9} {} ({}, priority {}{})\n",
            t.outcome,
            t.rule,
            t.kind,
            t.priority,
            if t.fixable { ", fixable" } else { "" }
        ));
        for l in &t.lines {
            match (&l.file, l.line) {
                (Some(f), Some(n)) => out.push_str(&format!("      {f}:{n}: {}\n", l.text)),
                _ => out.push_str(&format!("      [{}] {}\n", l.source, l.text)),
            }
        }
        if let Some(note) = &t.note {
            out.push_str(&format!("      why: {note}\n"));
        }
    }
    for l in &e.ignored {
        if let (Some(f), Some(n)) = (&l.file, l.line) {
            out.push_str(&format!(
                "  ignored   the block from {f}:{n} (settings.ignored_blocks): {}\n",
                l.text
            ));
        }
    }
    out
}
