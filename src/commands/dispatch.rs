//! `trackit dispatch WORKFLOW [-f KEY=VALUE]... [--ref REF]`: a workflow of the repository, run
//! with the user's own inputs, tracked like any job. The inputs are checked against what the
//! workflow file declares at the ref before anything is dispatched (GitHub would refuse an
//! undeclared one with a bare 422); the track's backend is then the workflow, and the engine
//! dispatches, finds the run, watches it (and the SLURM job it submits, when trackit can see
//! the cluster), diagnoses a failure from the logs, and publishes the results.

use crate::cli::GlobalOpts;
use crate::github::{workflow_file, Client, GithubError};
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::process::ExitCode;

pub fn run(
    global: &GlobalOpts,
    workflow: &str,
    fields: &[String],
    git_ref: Option<&str>,
) -> Result<ExitCode> {
    let mut inputs = BTreeMap::new();
    for f in fields {
        let Some((k, v)) = f.split_once('=').filter(|(k, _)| !k.trim().is_empty()) else {
            return Err(crate::cli::usage(format!("-f {f}: expected KEY=VALUE")));
        };
        if inputs.insert(k.to_string(), v.to_string()).is_some() {
            eprintln!("trackit dispatch: -f {k}=... given twice");
            return Ok(ExitCode::from(2));
        }
    }
    let cwd = std::env::current_dir()?;
    let facts = crate::git::repo_facts(&cwd)
        .context("trackit dispatch runs in a clone of the GitHub repository")?;
    let config = crate::track::choose::github_config(&facts.root)
        .map_err(|e| anyhow::anyhow!("cannot work out the GitHub repository and token: {e}"))?;
    let repo = format!("{}/{}", config.repo.owner, config.repo.name);
    if let Some(why) = &config.token_missing {
        anyhow::bail!("{why}");
    }
    let git_ref = git_ref
        .map(str::to_string)
        .or_else(|| facts.branch.clone())
        .unwrap_or_else(|| "main".into());
    // Checked here, before a track exists: a typo gets a clear message, and nothing runs.
    let file = format!(".github/workflows/{workflow}");
    let client = Client::new(config)?;
    let text = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(client.file_at_ref(&file, &git_ref));
    let declared = match text {
        Ok(t) => workflow_file::parse(&t),
        Err(GithubError::Api { status: 404, .. }) => {
            eprintln!("trackit dispatch: {file} is not on {git_ref} in {repo} (is it pushed?)");
            return Ok(ExitCode::from(2));
        }
        Err(e) => {
            return Err(anyhow::anyhow!(
                "cannot read {file} at {git_ref} in {repo}: {e}"
            ))
        }
    };
    if let Err(why) = declared.check_inputs(workflow, &git_ref, &inputs) {
        eprintln!("trackit dispatch: {why}");
        return Ok(ExitCode::from(2));
    }
    super::track::dispatch(global, workflow, inputs, git_ref)
}
