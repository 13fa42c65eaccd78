//! Where a new track runs, chosen as a person on the cluster would choose: the lab's dispatch
//! workflow when the repository has it, else `sbatch` where SLURM is at hand, else the cluster
//! over ssh, else this machine.

use super::model::{BackendSpec, Remote};
use crate::settings::Settings;
use std::path::Path;

/// What the choice is made from, gathered once (tests give their own).
#[derive(Debug, Clone)]
pub struct Facts {
    /// The job is a script with `#SBATCH` lines (or `trackit sbatch` was typed).
    pub is_batch_script: bool,
    /// The dispatch workflow is usable: its name, or why not.
    pub dispatch: Result<String, String>,
    /// `squeue` is on this machine's PATH.
    pub slurm_here: bool,
    /// The cluster over ssh, from `--host` or the policy.
    pub remote: Option<Remote>,
    /// The host was typed on the command line (`--host`): it wins over a SLURM here.
    pub host_typed: bool,
}

/// The backend, and one line saying why.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub backend: BackendSpec,
    pub why: String,
    pub warning: Option<String>,
}

/// `trackit launch`: dispatch > sbatch here > sbatch over ssh > local.
pub fn for_launch(f: &Facts) -> Choice {
    if !f.is_batch_script {
        return Choice {
            backend: BackendSpec::Local,
            why: "not a batch script (no #SBATCH lines): running it here".into(),
            warning: None,
        };
    }
    if let Ok(workflow) = &f.dispatch {
        return Choice {
            backend: BackendSpec::Workflow {
                workflow: workflow.clone(),
                remote: f.remote.clone(),
            },
            why: format!("the policy's dispatch workflow {workflow} is in the repository and a GitHub token resolves: a runner on the cluster submits"),
            warning: None,
        };
    }
    let no_dispatch = f
        .dispatch
        .as_ref()
        .err()
        .map(|e| format!(" ({e})"))
        .unwrap_or_default();
    if let (Some(r), true) = (&f.remote, f.host_typed) {
        return Choice {
            backend: BackendSpec::Slurm {
                remote: Some(r.clone()),
            },
            why: format!(
                "--host {}: submitting there over ssh, in {}{no_dispatch}",
                r.host, r.dir
            ),
            warning: None,
        };
    }
    if f.slurm_here {
        return Choice {
            backend: BackendSpec::Slurm { remote: None },
            why: format!("squeue is on PATH: submitting with sbatch here{no_dispatch}"),
            warning: None,
        };
    }
    if let Some(r) = &f.remote {
        return Choice {
            backend: BackendSpec::Slurm {
                remote: Some(r.clone()),
            },
            why: format!(
                "no SLURM here; submitting on {} over ssh, in {}{no_dispatch}",
                r.host, r.dir
            ),
            warning: None,
        };
    }
    Choice {
        backend: BackendSpec::Local,
        why: format!("no SLURM here, no --host, no dispatch workflow{no_dispatch}: running the script on this machine"),
        warning: Some("the script's #SBATCH lines are ignored when it runs here".into()),
    }
}

/// `trackit sbatch`: the dispatch workflow when usable, else sbatch here or over ssh.
pub fn for_sbatch(f: &Facts) -> Choice {
    let mut c = for_launch(&Facts {
        is_batch_script: true,
        ..f.clone()
    });
    if c.backend == BackendSpec::Local {
        // sbatch was asked for: without SLURM it fails with sbatch's own message.
        c = Choice {
            backend: BackendSpec::Slurm {
                remote: f.remote.clone(),
            },
            why: "sbatch".into(),
            warning: None,
        };
    }
    c
}

/// Does the text look like a batch script (an `#SBATCH` line in its header)?
pub fn has_sbatch_lines(script: &str) -> bool {
    let lines: Vec<&str> = script.lines().collect();
    let end = crate::edits::options::first_command_line(&lines);
    lines[..end].iter().any(|l| l.starts_with("#SBATCH"))
}

/// Whether the policy's dispatch workflow can be used from `root`: named by the policy, in the
/// repository's `.github/workflows/`, and with a GitHub repository and token for the origin.
pub fn dispatch_usable(settings: &Settings, root: &Path) -> Result<String, String> {
    let Some(workflow) = settings.dispatch_workflow.clone() else {
        return Err("the policy names no dispatch workflow".into());
    };
    if !root.join(".github/workflows").join(&workflow).is_file() {
        return Err(format!(
            "the repository has no .github/workflows/{workflow}"
        ));
    }
    let config = github_config(root)?;
    if config.token.is_none() {
        return Err("no GitHub token for the origin's host".into());
    }
    Ok(workflow)
}

/// The GitHub repository (and token) of the repository at `root`: `GITHUB_REPOSITORY` and the
/// API from the environment when set, else its origin (as the publisher resolves them).
pub fn github_config(root: &Path) -> Result<crate::github::Config, String> {
    let facts = crate::git::repo_facts(root).map_err(|e| format!("not a git repository: {e}"))?;
    let origin = facts
        .remotes
        .iter()
        .find(|r| r.name == "origin")
        .map(|r| r.url.clone())
        .ok_or("the repository has no origin")?;
    // An origin that names no GitHub repository (a path, a file:// URL) leaves the choice to
    // the environment.
    let url = Some(origin).filter(|u| crate::github::parse_remote_url(u).is_some());
    crate::github::Config::from_process_env(url.as_deref())
        .map_err(|e| format!("no GitHub repository for the origin: {e}"))
}

/// A path on the remote host as the shell there should see it: `~/x` becomes `x` (ssh starts in
/// the home directory, and a quoted `~` would not be expanded).
pub fn remote_path(dir: &str) -> String {
    match dir.strip_prefix("~/") {
        Some(rest) => rest.to_string(),
        None if dir == "~" => ".".to_string(),
        None => dir.to_string(),
    }
}

/// The repository's checkout on the cluster when none is given: the same path relative to the
/// home directory (`~/projects/x` here is `projects/x` there), else the same absolute path.
pub fn default_remote_dir(root: &Path) -> String {
    if let Some(home) = std::env::var_os("HOME") {
        if let Ok(rel) = root.strip_prefix(&home) {
            if !rel.as_os_str().is_empty() {
                return rel.to_string_lossy().into_owned();
            }
        }
    }
    root.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote() -> Option<Remote> {
        Some(Remote {
            host: "sherlock".into(),
            dir: "proj".into(),
        })
    }

    #[test]
    fn preference_order() {
        let mut f = Facts {
            is_batch_script: true,
            dispatch: Ok("d.yml".into()),
            slurm_here: true,
            remote: remote(),
            host_typed: false,
        };
        assert!(matches!(
            for_launch(&f).backend,
            BackendSpec::Workflow { .. }
        ));
        f.dispatch = Err("none".into());
        assert_eq!(for_launch(&f).backend, BackendSpec::Slurm { remote: None });
        // A cluster named by the policy comes after a SLURM here; one typed with --host before.
        f.host_typed = true;
        assert_eq!(
            for_launch(&f).backend,
            BackendSpec::Slurm { remote: remote() }
        );
        f.host_typed = false;
        f.slurm_here = false;
        assert_eq!(
            for_launch(&f).backend,
            BackendSpec::Slurm { remote: remote() }
        );
        f.remote = None;
        let c = for_launch(&f);
        assert_eq!(c.backend, BackendSpec::Local);
        assert!(c.warning.unwrap().contains("#SBATCH"));
        f.is_batch_script = false;
        f.slurm_here = true;
        assert_eq!(for_launch(&f).backend, BackendSpec::Local);
    }

    #[test]
    fn batch_scripts_are_recognised() {
        assert!(has_sbatch_lines("#!/bin/bash\n#SBATCH --mem=1G\necho\n"));
        assert!(!has_sbatch_lines("#!/bin/bash\necho\n#SBATCH --mem=1G\n"));
        assert!(!has_sbatch_lines("print(1)\n"));
    }
}
