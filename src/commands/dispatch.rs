//! `trackit dispatch WORKFLOW [-f KEY=VALUE]... [--ref REF]`: the "sherlock-dispatch" pattern,
//! where a self-hosted runner on the cluster submits the job. trackit dispatches the workflow,
//! finds the run it created (GHES returns no run id: list runs with event=workflow_dispatch
//! created after the dispatch), watches it, and on failure downloads the failed jobs' logs and
//! diagnoses them with the policy.

use crate::cli::GlobalOpts;
use crate::diagnose::Input;
use crate::github::{Client, Config};
use crate::logtail::read_tail;
use anyhow::{bail, Context, Result};
use std::process::ExitCode;
use std::time::Duration;

pub fn run(
    global: &GlobalOpts,
    workflow: &str,
    fields: &[String],
    git_ref: Option<&str>,
) -> Result<ExitCode> {
    let mut inputs = serde_json::Map::new();
    for f in fields {
        let Some((k, v)) = f.split_once('=') else {
            eprintln!("trackit dispatch: -f {f}: expected KEY=VALUE");
            return Ok(ExitCode::from(2));
        };
        inputs.insert(k.to_string(), serde_json::Value::String(v.to_string()));
    }
    let cwd = std::env::current_dir()?;
    let facts = crate::git::repo_facts(&cwd).ok();
    let remote = facts.as_ref().and_then(|f| {
        f.remotes
            .iter()
            .find(|r| r.name == "origin")
            .map(|r| r.url.clone())
    });
    let config = Config::from_process_env(remote.as_deref())
        .context("cannot work out the GitHub repository and token")?;
    if let Some(why) = &config.token_missing {
        anyhow::bail!("{why}");
    }
    let git_ref = git_ref
        .map(str::to_string)
        .or_else(|| facts.as_ref().and_then(|f| f.branch.clone()))
        .unwrap_or_else(|| "main".into());
    let root = facts
        .as_ref()
        .map(|f| f.root.clone())
        .unwrap_or(cwd.clone());
    let mut policy =
        crate::lua::GuardedPolicy::load(&crate::lua::resolve(global.policy.as_deref(), &cwd));
    let poll = policy.host().settings().poll;

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = Client::new(config)?;
    let (run, conclusion, logs) = rt.block_on(async {
        let run_id = client
            .dispatch_and_find_run(workflow, &git_ref, &inputs, Duration::from_secs(180))
            .await?;
        say(
            global,
            "dispatched",
            &format!("dispatched {workflow} on {git_ref}"),
            serde_json::json!({"workflow": workflow, "ref": git_ref}),
        );
        let Some(run_id) = run_id else {
            bail!("the dispatched run of {workflow} did not appear within 3 minutes");
        };
        let mut run = client.get_run(run_id).await?;
        say(
            global,
            "run",
            &format!("run {} ({})", run.id, run.html_url),
            serde_json::json!({"run": run.id}),
        );
        // Poll politely: the policy's first interval, growing while nothing changes.
        let mut interval = Duration::from_secs_f64(poll.first_s.max(poll.min_s).max(0.2));
        let mut last = run.status.clone();
        while !run.is_completed() {
            tokio::time::sleep(interval).await;
            run = match client.get_run(run_id).await {
                Ok(r) => r,
                Err(e) if e.is_transient() => {
                    say(
                        global,
                        "github_unreachable",
                        &format!("GitHub unreachable: {e}; retrying"),
                        serde_json::json!({}),
                    );
                    interval = (interval * 2).min(Duration::from_secs_f64(poll.max_s.max(1.0)));
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if run.status != last {
                say(
                    global,
                    "state",
                    &format!("run {run_id}: {}", run.status.clone().unwrap_or_default()),
                    serde_json::json!({"status": run.status}),
                );
                last = run.status.clone();
                interval = Duration::from_secs_f64(poll.first_s.max(poll.min_s).max(0.2));
            } else {
                interval = Duration::from_secs_f64(
                    (interval.as_secs_f64() * poll.growth)
                        .min(poll.max_s)
                        .max(poll.min_s),
                );
            }
        }
        let conclusion = run.conclusion.clone().unwrap_or_else(|| "unknown".into());
        let mut logs = Vec::new();
        if conclusion != "success" {
            let dir = root
                .join(".trackit")
                .join("dispatch")
                .join(run_id.to_string());
            std::fs::create_dir_all(&dir)?;
            for job in client.list_run_jobs(run_id).await? {
                if job.conclusion.as_deref() == Some("success") {
                    continue;
                }
                let text = client.download_job_logs(job.id).await?;
                let path = dir.join(format!("job-{}.log", job.id));
                std::fs::write(&path, text)?;
                logs.push(path);
            }
        }
        anyhow::Ok((run, conclusion, logs))
    })?;

    if conclusion == "success" {
        say(
            global,
            "finished",
            &format!("run {} succeeded", run.id),
            serde_json::json!({"run": run.id, "conclusion": conclusion}),
        );
        return Ok(ExitCode::SUCCESS);
    }
    let opts = policy.host().settings().tail_options();
    let tails = logs
        .iter()
        .filter_map(|p| read_tail(p, opts).ok())
        .collect();
    let diagnosis = policy.diagnose(&Input {
        logs: tails,
        state: Some(crate::job::JobState::Failed),
        ..Default::default()
    });
    if global.json {
        println!(
            "{}",
            serde_json::json!({"event": "report", "run": run.id, "conclusion": conclusion, "logs": logs, "diagnosis": diagnosis})
        );
    } else {
        println!("run {} ended: {conclusion}", run.id);
        println!("{}: {}", diagnosis.kind, diagnosis.summary);
        for e in diagnosis.evidence.iter().take(5) {
            println!("  {}", e.text);
        }
        for p in &logs {
            println!("  log: {}", p.display());
        }
    }
    Ok(ExitCode::from(1))
}

fn say(global: &GlobalOpts, event: &str, message: &str, data: serde_json::Value) {
    if global.json {
        let mut obj = serde_json::json!({"event": event, "message": message});
        if let (Some(o), serde_json::Value::Object(extra)) = (obj.as_object_mut(), data) {
            o.extend(extra);
        }
        println!("{obj}");
    } else if !global.quiet {
        eprintln!("{message}");
    }
}
