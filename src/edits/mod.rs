//! Relaunch edits as data. A fixer (Lua) returns a list of [`Edit`]s; this module validates them
//! and applies them to a [`JobSpec`]: the sbatch command line and script, or a local command.
//! Plain Rust: the engine stores [`AppliedEdit`]s in the track state and replays nothing.
//!
//! An option given on the sbatch command line overrides the script's `#SBATCH` line, so an option
//! is edited where it takes effect: the command line if it is there, else the `#SBATCH` line,
//! else a new `#SBATCH` line is added.

pub mod diff;
pub mod fix;
pub mod options;
pub mod paths;
pub(crate) mod script;

pub use fix::{caps_for, enforce, plan, reason_of, DroppedEdit, Fix, FixCtx, FixPlan, Kept};

use options::{lookup, parse_options, script_options, EDITABLE};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One change to a job before it is relaunched. In Lua: `{ op = "set_option", name = "mem",
/// value = "32G" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Edit {
    /// Sets an sbatch option (`mem`, `time`/`t`, `partition`/`p`, `gres`, `gpus`,
    /// `cpus-per-task`/`c`, `constraint`, `qos`, `exclude`, ...).
    SetOption {
        name: String,
        #[serde(deserialize_with = "text")]
        value: String,
    },
    /// Removes an sbatch option from the command line and the script.
    RemoveOption { name: String },
    /// Sets an environment variable (an `export` line in a SLURM script).
    SetEnv {
        name: String,
        #[serde(deserialize_with = "text")]
        value: String,
    },
    /// A line run before the job's first command (`module load X`, `source venv/bin/activate`).
    Setup { line: String },
    /// Creates a directory (inside the repository or the job's working directory) before the
    /// relaunch.
    MakeDir { path: String },
    /// Replaces a path everywhere in the script (or the local command line).
    ReplacePath { from: String, to: String },
    /// Changes the container image (`singularity|apptainer exec|run IMAGE`, `--container-image`)
    /// or its flags.
    SetContainer {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        add_flags: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        remove_flags: Vec<String>,
    },
    /// Replaces a local job's command line.
    SetCommand { command: Vec<String> },
    /// Resubmits unchanged. Like every edit it is tried once, unless `repeatable` (a preemption
    /// is not the job's fault; `max_attempts` still bounds it).
    Retry {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        repeatable: bool,
    },
}

/// Accepts a string or a number (`value = 4` from Lua) as text.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string or a number")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<String, E> {
            if v.fract() == 0.0 && v.abs() < 1e15 {
                Ok(format!("{}", v as i64))
            } else {
                Ok(v.to_string())
            }
        }
    }
    d.deserialize_any(V)
}

impl Edit {
    /// The op name as written in Lua.
    pub fn op(&self) -> &'static str {
        match self {
            Edit::SetOption { .. } => "set_option",
            Edit::RemoveOption { .. } => "remove_option",
            Edit::SetEnv { .. } => "set_env",
            Edit::Setup { .. } => "setup",
            Edit::MakeDir { .. } => "make_dir",
            Edit::ReplacePath { .. } => "replace_path",
            Edit::SetContainer { .. } => "set_container",
            Edit::SetCommand { .. } => "set_command",
            Edit::Retry { .. } => "retry",
        }
    }

    /// The same edit with option names in their long form (`-t` -> `time`), so equal edits
    /// compare equal. Unknown names are left for [`apply`] to reject.
    pub fn normalized(&self) -> Edit {
        let long = |n: &str| {
            lookup(n)
                .map(|o| o.long.to_string())
                .unwrap_or(n.to_string())
        };
        match self {
            Edit::SetOption { name, value } => Edit::SetOption {
                name: long(name),
                value: value.trim().to_string(),
            },
            Edit::RemoveOption { name } => Edit::RemoveOption { name: long(name) },
            Edit::Setup { line } => Edit::Setup {
                line: line.trim().to_string(),
            },
            other => other.clone(),
        }
    }
}

/// What is relaunched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "snake_case")]
pub enum JobSpec {
    Slurm {
        /// The script, relative to the repository root.
        script_rel: PathBuf,
        script_text: String,
        /// The arguments as typed after `trackit sbatch`: options, the script path, its args.
        sbatch_args: Vec<String>,
    },
    Local {
        command: Vec<String>,
        env: Vec<(String, String)>,
        /// Where the command runs: relative paths in edits (`make_dir outputs`) mean this.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cwd: Option<PathBuf>,
    },
}

impl JobSpec {
    pub fn backend(&self) -> &'static str {
        match self {
            JobSpec::Slurm { .. } => "slurm",
            JobSpec::Local { .. } => "local",
        }
    }
}

/// An edit that was applied, for the track state, the PR and the failure report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppliedEdit {
    /// The edit as applied (after caps), compared against later fixes: never the same twice.
    pub edit: Edit,
    /// Where it took effect: `command line`, `#SBATCH line 3`, `script line 5`, `environment`,
    /// `command`, `filesystem`, `scheduler`.
    pub target: String,
    #[serde(default)]
    pub before: Option<String>,
    #[serde(default)]
    pub after: Option<String>,
    /// One line for people: `--mem 16G -> 32G (oom: Detected 1 oom_kill event)`.
    pub display: String,
    /// Why (the diagnosis), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The value the fixer asked for, when a cap lowered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clamped_from: Option<String>,
}

impl AppliedEdit {
    pub(crate) fn new(
        edit: &Edit,
        target: impl Into<String>,
        before: Option<String>,
        after: Option<String>,
    ) -> Self {
        let display = describe(edit, before.as_deref(), after.as_deref());
        AppliedEdit {
            edit: edit.clone(),
            target: target.into(),
            before,
            after,
            display,
            reason: None,
            clamped_from: None,
        }
    }

    /// Adds the reason to the record and its display line.
    pub fn because(mut self, reason: &str) -> Self {
        if !reason.is_empty() {
            self.display = format!("{} ({reason})", self.display);
            self.reason = Some(reason.to_string());
        }
        self
    }

    fn changes_nothing(&self) -> bool {
        !matches!(self.edit, Edit::Retry { .. }) && self.before == self.after
    }
}

fn describe(edit: &Edit, before: Option<&str>, after: Option<&str>) -> String {
    let b = before.unwrap_or("(unset)");
    let a = after.unwrap_or("(removed)");
    match edit {
        Edit::SetOption { name, .. } | Edit::RemoveOption { name } => {
            format!("--{name} {b} -> {a}")
        }
        Edit::SetEnv { name, .. } => format!("env {name} {b} -> {a}"),
        Edit::Setup { line } => format!("setup + {line}"),
        Edit::MakeDir { path } => format!("mkdir {path}"),
        Edit::ReplacePath { from, to } => format!("path {from} -> {to}"),
        Edit::SetContainer { .. } => format!("container {b} -> {a}"),
        Edit::SetCommand { .. } => format!("command {b} -> {a}"),
        Edit::Retry { reason, .. } => match reason {
            Some(r) => format!("resubmit unchanged: {r}"),
            None => "resubmit unchanged".to_string(),
        },
    }
}

/// A fix that cannot be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EditError {
    #[error("unknown sbatch option '{name}' (editable: {known})")]
    UnknownOption { name: String, known: String },
    #[error("{0}")]
    InvalidValue(String),
    #[error("{path} is outside the repository {root}")]
    OutsideRepo { path: String, root: String },
    #[error("{op} does not apply to a {backend} job: {why}")]
    NotApplicable {
        op: &'static str,
        backend: &'static str,
        why: String,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
}

/// The value of an sbatch option as the job will see it: the command line's, else the script's.
pub fn effective_option(spec: &JobSpec, name: &str) -> Option<String> {
    let JobSpec::Slurm {
        script_text,
        sbatch_args,
        ..
    } = spec
    else {
        return None;
    };
    let long = lookup(name).map(|o| o.long).unwrap_or(name);
    let (cli, _) = parse_options(sbatch_args);
    options::value_in(&cli, long).or_else(|| {
        let found: Vec<_> = script_options(script_text)
            .into_iter()
            .map(|o| o.found)
            .collect();
        options::value_in(&found, long)
    })
}

/// Every editable option the job sets, with its effective value.
pub fn resources(spec: &JobSpec) -> BTreeMap<String, String> {
    EDITABLE
        .iter()
        .filter_map(|o| effective_option(spec, o.long).map(|v| (o.long.to_string(), v)))
        .collect()
}

/// Directories the applied edits ask for; the engine creates them before relaunching.
pub fn dirs_to_create(applied: &[AppliedEdit]) -> Vec<PathBuf> {
    applied
        .iter()
        .filter(|a| matches!(a.edit, Edit::MakeDir { .. }))
        .filter_map(|a| a.after.as_ref().map(PathBuf::from))
        .collect()
}

/// Creates the directories the applied edits ask for.
pub fn make_dirs(applied: &[AppliedEdit]) -> std::io::Result<()> {
    for dir in dirs_to_create(applied) {
        std::fs::create_dir_all(dir)?;
    }
    Ok(())
}

/// Validates `edits` and applies them in order. Edits that would change nothing (a setup line
/// already there, a value already set) are left out of the result.
pub fn apply(
    spec: &JobSpec,
    edits: &[Edit],
    repo_root: &Path,
) -> Result<(JobSpec, Vec<AppliedEdit>), EditError> {
    let mut job = spec.clone();
    let mut applied = Vec::new();
    let mut pending_setup: Vec<(Edit, String)> = Vec::new();
    for edit in edits {
        let edit = edit.normalized();
        check_text(&edit)?;
        let done = match &mut job {
            JobSpec::Slurm {
                script_text,
                sbatch_args,
                ..
            } => apply_slurm(
                &edit,
                script_text,
                sbatch_args,
                repo_root,
                &mut pending_setup,
            )?,
            JobSpec::Local { command, env, cwd } => {
                apply_local(&edit, command, env, repo_root, cwd.as_deref())?
            }
        };
        if let Some(a) = done {
            if a.changes_nothing() {
                tracing::debug!(edit = %a.display, "edit changes nothing; left out");
            } else {
                applied.push(a);
            }
        }
    }
    if let JobSpec::Slurm { script_text, .. } = &mut job {
        for (edit, line) in pending_setup {
            let at = script::insert_setup(script_text, &line);
            let after = match &edit {
                Edit::SetEnv { value, .. } => value.clone(),
                _ => line,
            };
            applied.push(AppliedEdit::new(
                &edit,
                format!("script line {}", at + 1),
                None,
                Some(after),
            ));
        }
    }
    Ok((job, applied))
}

/// Every text an edit carries is one line of printable text: a newline, a carriage return, a
/// NUL or an escape sequence could smuggle a directive or a command into the script, or hide
/// what the PR shows.
fn check_text(edit: &Edit) -> Result<(), EditError> {
    let texts: Vec<&str> = match edit {
        Edit::SetOption { name, value } | Edit::SetEnv { name, value } => vec![name, value],
        Edit::RemoveOption { name } => vec![name],
        Edit::Setup { line } => vec![line],
        Edit::MakeDir { path } => vec![path],
        Edit::ReplacePath { from, to } => vec![from, to],
        Edit::SetContainer {
            image,
            add_flags,
            remove_flags,
        } => image
            .iter()
            .chain(add_flags)
            .chain(remove_flags)
            .map(String::as_str)
            .collect(),
        Edit::SetCommand { command } => command.iter().map(String::as_str).collect(),
        Edit::Retry { reason, .. } => reason.iter().map(String::as_str).collect(),
    };
    match texts
        .iter()
        .find(|t| t.chars().any(|c| c.is_control() && c != '\t'))
    {
        Some(bad) => Err(EditError::InvalidValue(format!(
            "{}: control characters are not allowed in {bad:?}",
            edit.op()
        ))),
        None => Ok(()),
    }
}

fn check_option(name: &str) -> Result<&'static options::OptionSpec, EditError> {
    lookup(name).ok_or_else(|| EditError::UnknownOption {
        name: name.to_string(),
        known: EDITABLE
            .iter()
            .map(|o| o.long)
            .collect::<Vec<_>>()
            .join(", "),
    })
}

const MEM_OPTIONS: [&str; 3] = ["mem", "mem-per-cpu", "mem-per-gpu"];

fn apply_slurm(
    edit: &Edit,
    script_text: &mut String,
    sbatch_args: &mut Vec<String>,
    repo_root: &Path,
    pending_setup: &mut Vec<(Edit, String)>,
) -> Result<Option<AppliedEdit>, EditError> {
    let slurm_only = |why: &str| EditError::NotApplicable {
        op: edit.op(),
        backend: "slurm",
        why: why.to_string(),
    };
    Ok(Some(match edit {
        Edit::SetOption { name, value } => {
            let spec = check_option(name)?;
            options::check_value(spec, value).map_err(EditError::InvalidValue)?;
            if MEM_OPTIONS.contains(&spec.long) {
                let probe = JobSpec::Slurm {
                    script_rel: PathBuf::new(),
                    script_text: script_text.clone(),
                    sbatch_args: sbatch_args.clone(),
                };
                for other in MEM_OPTIONS.iter().filter(|o| **o != spec.long) {
                    if effective_option(&probe, other).is_some() {
                        return Err(EditError::Conflict(format!(
                            "--{} and --{other} are mutually exclusive: remove --{other} first ({{ op = \"remove_option\", name = \"{other}\" }})",
                            spec.long
                        )));
                    }
                }
            }
            let (target, before) = script::set_option(script_text, sbatch_args, spec.long, value);
            AppliedEdit::new(edit, target, before, Some(value.clone()))
        }
        Edit::RemoveOption { name } => {
            let spec = check_option(name)?;
            let before = script::remove_option(script_text, sbatch_args, spec.long);
            AppliedEdit::new(edit, "command line and script", before, None)
        }
        Edit::SetEnv { name, value } => {
            script::check_env_name(name).map_err(EditError::InvalidValue)?;
            match script::set_export(script_text, name, value) {
                Some((line, before)) => AppliedEdit::new(edit, format!("script line {}", line + 1), before, Some(value.clone())),
                None => {
                    let export = format!("export {name}={}", script::shell_quote(value));
                    if pending_setup.iter().any(|(_, l)| *l == export) {
                        return Ok(None);
                    }
                    pending_setup.push((edit.clone(), export));
                    return Ok(None);
                }
            }
        }
        Edit::Setup { line } => {
            script::check_setup_line(line).map_err(EditError::InvalidValue)?;
            let present = script_text.lines().any(|l| l.trim() == line)
                || pending_setup.iter().any(|(_, l)| l == line);
            if present {
                return Ok(Some(AppliedEdit::new(edit, "script", Some(line.clone()), Some(line.clone()))));
            }
            pending_setup.push((edit.clone(), line.clone()));
            return Ok(None);
        }
        Edit::MakeDir { path } => {
            let workdir = chdir_of(script_text, sbatch_args, repo_root);
            make_dir(edit, path, repo_root, workdir.as_deref())?
        }
        Edit::ReplacePath { from, to } => {
            check_path_inside(to, repo_root, chdir_of(script_text, sbatch_args, repo_root).as_deref())?;
            if from.is_empty() {
                return Err(EditError::InvalidValue("replace_path: 'from' is empty".into()));
            }
            let mut count = script_text.matches(from.as_str()).count();
            *script_text = script_text.replace(from.as_str(), to);
            for a in sbatch_args.iter_mut() {
                if a.contains(from.as_str()) {
                    count += a.matches(from.as_str()).count();
                    *a = a.replace(from.as_str(), to);
                }
            }
            if count == 0 {
                return Err(EditError::NotFound(format!("replace_path: {from} does not occur in the script or its arguments")));
            }
            AppliedEdit::new(edit, "script", Some(from.clone()), Some(to.clone()))
        }
        Edit::SetContainer { image, add_flags, remove_flags } => {
            if let Some(img) = image {
                if img.trim().is_empty() || img.chars().any(char::is_whitespace) {
                    return Err(EditError::InvalidValue(format!("set_container: invalid image {img:?}")));
                }
            }
            let probe = JobSpec::Slurm {
                script_rel: PathBuf::new(),
                script_text: script_text.clone(),
                sbatch_args: sbatch_args.clone(),
            };
            if let (Some(img), Some(_)) = (image, effective_option(&probe, "container-image")) {
                if add_flags.is_empty() && remove_flags.is_empty() {
                    let (target, before) = script::set_option(script_text, sbatch_args, "container-image", img);
                    return Ok(Some(AppliedEdit::new(edit, target, before, Some(img.clone()))));
                }
            }
            match script::set_container(script_text, image.as_deref(), add_flags, remove_flags) {
                Some((line, before, after)) => AppliedEdit::new(edit, format!("script line {}", line + 1), Some(before), Some(after)),
                None => {
                    return Err(EditError::NotFound(
                        "set_container: the script runs no singularity/apptainer exec|run|shell line and sets no --container-image".into(),
                    ))
                }
            }
        }
        Edit::SetCommand { .. } => {
            return Err(slurm_only(
                "a SLURM job's command is its script: edit it with setup, replace_path or set_container",
            ))
        }
        Edit::Retry { .. } => AppliedEdit::new(edit, "scheduler", None, None),
    }))
}

fn apply_local(
    edit: &Edit,
    command: &mut Vec<String>,
    env: &mut Vec<(String, String)>,
    repo_root: &Path,
    cwd: Option<&Path>,
) -> Result<Option<AppliedEdit>, EditError> {
    let not_local = |why: &str| EditError::NotApplicable {
        op: edit.op(),
        backend: "local",
        why: why.to_string(),
    };
    Ok(Some(match edit {
        Edit::SetOption { .. } | Edit::RemoveOption { .. } => {
            return Err(not_local("sbatch options apply to SLURM jobs only"))
        }
        Edit::SetEnv { name, value } => {
            script::check_env_name(name).map_err(EditError::InvalidValue)?;
            let before = env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
            env.retain(|(k, _)| k != name);
            env.push((name.clone(), value.clone()));
            AppliedEdit::new(edit, "environment", before, Some(value.clone()))
        }
        Edit::Setup { line } => {
            script::check_setup_line(line).map_err(EditError::InvalidValue)?;
            // Already there: before == after, so the edit is left out.
            let before = (!script::wrap_setup(command, line)).then(|| line.clone());
            AppliedEdit::new(edit, "command", before, Some(line.clone()))
        }
        Edit::MakeDir { path } => make_dir(edit, path, repo_root, cwd)?,
        Edit::ReplacePath { from, to } => {
            check_path_inside(to, repo_root, cwd)?;
            if from.is_empty() || !command.iter().any(|a| a.contains(from.as_str())) {
                return Err(EditError::NotFound(format!(
                    "replace_path: {from} does not occur in the command line"
                )));
            }
            for a in command.iter_mut() {
                *a = a.replace(from.as_str(), to);
            }
            AppliedEdit::new(edit, "command", Some(from.clone()), Some(to.clone()))
        }
        Edit::SetContainer {
            image,
            add_flags,
            remove_flags,
        } => {
            let before = shell_words(command);
            let mut line = before.clone();
            if script::set_container(&mut line, image.as_deref(), add_flags, remove_flags).is_none()
            {
                return Err(EditError::NotFound(
                    "set_container: the command is not a singularity/apptainer exec|run|shell"
                        .into(),
                ));
            }
            *command = line.split_whitespace().map(str::to_string).collect();
            AppliedEdit::new(edit, "command", Some(before), Some(shell_words(command)))
        }
        Edit::SetCommand { command: new } => {
            if new.is_empty() || new[0].trim().is_empty() {
                return Err(EditError::InvalidValue(
                    "set_command: the command is empty".into(),
                ));
            }
            let before = shell_words(command);
            *command = new.clone();
            AppliedEdit::new(edit, "command", Some(before), Some(shell_words(command)))
        }
        Edit::Retry { .. } => AppliedEdit::new(edit, "scheduler", None, None),
    }))
}

fn shell_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| script::shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The job's working directory when the script or command line sets one (`--chdir`/`-D`).
fn chdir_of(script_text: &str, sbatch_args: &[String], repo_root: &Path) -> Option<PathBuf> {
    let (cli, _) = parse_options(sbatch_args);
    let found: Vec<_> = script_options(script_text)
        .into_iter()
        .map(|o| o.found)
        .chain(cli)
        .collect();
    let dir = found
        .iter()
        .rev()
        .find(|f| f.name == "chdir" || f.name == "D")
        .and_then(|f| f.value.clone())?;
    Some(paths::resolve(repo_root, Path::new(&dir)))
}

fn check_path_inside(
    path: &str,
    repo_root: &Path,
    workdir: Option<&Path>,
) -> Result<PathBuf, EditError> {
    if path.trim().is_empty() {
        return Err(EditError::InvalidValue("the path is empty".into()));
    }
    // A relative path is the job's (its --chdir), but wherever the script says it runs, edits
    // write only inside the repository: a --chdir=/ or --chdir=$HOME does not widen that.
    let base = workdir.unwrap_or(repo_root);
    let resolved = paths::resolve(base, Path::new(path));
    if !paths::is_inside(&resolved, repo_root) {
        return Err(EditError::OutsideRepo {
            path: path.to_string(),
            root: repo_root.display().to_string(),
        });
    }
    Ok(resolved)
}

fn make_dir(
    edit: &Edit,
    path: &str,
    repo_root: &Path,
    workdir: Option<&Path>,
) -> Result<AppliedEdit, EditError> {
    let resolved = check_path_inside(path, repo_root, workdir)?;
    let before = resolved.is_dir().then(|| resolved.display().to_string());
    Ok(AppliedEdit::new(
        edit,
        "filesystem",
        before,
        Some(resolved.display().to_string()),
    ))
}
