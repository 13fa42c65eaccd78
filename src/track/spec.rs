//! The job as the user launched it, as a spec the fixers can edit, and the arguments each
//! attempt runs with.

use super::model::{Launch, Track};
use crate::edits::JobSpec;
use anyhow::{Context, Result};
use std::path::PathBuf;

/// The job as the user launched it, as a spec the fixers can edit.
pub fn initial_spec(t: &Track, args: &[String]) -> Result<JobSpec> {
    match &t.launch {
        Launch::Pipeline { .. } => anyhow::bail!("a pipeline has no job of its own"),
        Launch::Dispatch { workflow, .. } => {
            anyhow::bail!("a dispatch of {workflow} with your own inputs has no script to edit")
        }
        Launch::Local { .. } | Launch::AttachPid { .. } => Ok(JobSpec::Local {
            command: args.to_vec(),
            env: Vec::new(),
            cwd: Some(t.cwd.clone()),
        }),
        Launch::Slurm { .. } | Launch::AttachSlurm { .. } => {
            let script = script_index(args, &t.cwd).map(|at| (&args[at], t.cwd.join(&args[at])));
            let (script_rel, script_text) = match script {
                Some((_, path)) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    let abs = std::fs::canonicalize(&path).unwrap_or(path);
                    let rel = abs
                        .strip_prefix(&t.root)
                        .map(|p| p.to_path_buf())
                        .unwrap_or(abs);
                    (rel, text)
                }
                None => (PathBuf::new(), String::new()), // --wrap: only sbatch options can change
            };
            Ok(JobSpec::Slurm {
                script_rel,
                script_text,
                sbatch_args: args.to_vec(),
            })
        }
    }
}

/// Where the script is among sbatch's arguments: the first word after the options, if it
/// names a file; else (an option we do not know took it for a value) the first argument that
/// names a file.
pub fn script_index(args: &[String], cwd: &std::path::Path) -> Option<usize> {
    let (_, at) = crate::edits::options::parse_options(args);
    at.filter(|&i| cwd.join(&args[i]).is_file()).or_else(|| {
        args.iter()
            .position(|a| !a.starts_with('-') && cwd.join(a).is_file())
    })
}

/// The launch arguments of a fresh track.
pub fn base_args(t: &Track) -> Vec<String> {
    match &t.launch {
        Launch::Slurm { sbatch_args } => sbatch_args.clone(),
        Launch::Local { command } => command.clone(),
        Launch::Pipeline { .. } => Vec::new(),
        Launch::Dispatch { inputs, .. } => inputs.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        Launch::AttachSlurm { .. } | Launch::AttachPid { .. } => t
            .current()
            .map(|a| a.launch_args.clone())
            .unwrap_or_default(),
    }
}

/// The arguments an attempt runs with: sbatch's arguments (edits applied; the backend puts the
/// script's copy and wrapper in place) or the command line.
pub fn launch_args(spec: &JobSpec) -> Vec<String> {
    match spec {
        JobSpec::Local { command, .. } => command.clone(),
        JobSpec::Slurm { sbatch_args, .. } => sbatch_args.clone(),
    }
}

/// True when the spec's script differs from the file in the user's tree.
pub fn script_edited(t: &Track, spec: &JobSpec) -> bool {
    match spec {
        JobSpec::Slurm {
            script_rel,
            script_text,
            ..
        } if !script_rel.as_os_str().is_empty() => std::fs::read_to_string(t.root.join(script_rel))
            .map_or(true, |original| original != *script_text),
        _ => false,
    }
}

/// The sbatch options typed before the script (what a dispatch must carry).
pub fn typed_options(args: &[String], cwd: &std::path::Path) -> Vec<String> {
    args[..script_index(args, cwd).unwrap_or(args.len())].to_vec()
}

/// For an array whose tasks partly succeeded: restricts the relaunch to the failed tasks
/// (`--array=0-99%4` becomes `--array=3,7%4`), and returns the edit that says so. None when
/// the attempt is not an array, or no task succeeded (the whole array goes again).
pub fn only_failed_tasks(
    spec: &mut JobSpec,
    a: &super::model::Attempt,
) -> Option<crate::edits::AppliedEdit> {
    let current = crate::edits::effective_option(spec, "array")?;
    let JobSpec::Slurm {
        script_text,
        sbatch_args,
        ..
    } = spec
    else {
        return None;
    };
    let mut failed: Vec<u64> = Vec::new();
    let mut succeeded = 0;
    for t in &a.tasks {
        let (_, Some(task)) = crate::slurm::split_array_id(&t.id) else {
            return None;
        };
        let Ok(index) = task.parse::<u64>() else {
            return None;
        };
        match t.state {
            Some(s) if s.is_success() => succeeded += 1,
            Some(s) if s.is_terminal() => failed.push(index),
            _ => return None,
        }
    }
    if failed.is_empty() || succeeded == 0 {
        return None;
    }
    failed.sort_unstable();
    let throttle = current
        .split_once('%')
        .map(|(_, t)| format!("%{t}"))
        .unwrap_or_default();
    let value = format!(
        "{}{throttle}",
        failed
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    );
    let (target, before) =
        crate::edits::script::set_option(script_text, sbatch_args, "array", &value);
    let edit = crate::edits::Edit::SetOption {
        name: "array".into(),
        value: value.clone(),
    };
    Some(
        crate::edits::AppliedEdit::new(&edit, target, before, Some(value)).because(&format!(
            "only the {} failed task(s); {succeeded} succeeded",
            failed.len()
        )),
    )
}
