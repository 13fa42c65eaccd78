//! `trackit pipeline FILE.lua`: one track for a whole pipeline (or sweep). Each step becomes a
//! track of its own under the pipeline's folder (`steps/<name>/`), watched by the same engine:
//! SLURM steps go to the cluster at once with `--dependency=afterok:` on their predecessors,
//! local steps start when theirs succeed, and the pipeline track publishes one results branch,
//! one PR and one status comment for all of them.

use super::track::{detach_tracker, entry_of, exclude_from_git, remote_of, track_root, watch};
use crate::cli::GlobalOpts;
use crate::track::model::{
    new_track_id, sanitize, BackendSpec, Launch, PublishOptions, StepOf, Track,
};
use crate::track::pipeline::PipelineSpec;
use crate::track::store::TrackDir;
use anyhow::{Context, Result};
use std::path::Path;
use std::process::ExitCode;

pub fn run(global: &GlobalOpts, file: &Path, detach: bool) -> Result<ExitCode> {
    let cwd = std::env::current_dir()?;
    let spec = crate::lua::pipeline::load(file).map_err(anyhow::Error::msg)?;
    let root = track_root(&cwd);
    let policy = match &global.policy {
        Some(p) => Some(
            crate::lua::policy::named(p)
                .map_err(crate::cli::usage)?
                .to_recorded(),
        ),
        None => None,
    };
    let settings = crate::lua::GuardedPolicy::load(&crate::lua::resolve(policy.as_deref(), &cwd))
        .host()
        .settings()
        .clone();
    let remote = remote_of(global, &settings, &root);
    let experiment = global
        .experiment
        .clone()
        .or(spec.name.clone())
        .unwrap_or_else(|| {
            file.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "pipeline".into())
        });
    let experiment = sanitize(&experiment);
    let now = chrono::Utc::now();
    let max_attempts = global.max_attempts.unwrap_or(settings.max_attempts).max(1);
    let file_abs = std::fs::canonicalize(file).unwrap_or_else(|_| cwd.join(file));
    let mut pipeline = Track {
        id: new_track_id(&experiment, now),
        experiment: experiment.clone(),
        created_at: now.to_rfc3339(),
        root: root.clone(),
        cwd: cwd.clone(),
        launch: Launch::Pipeline {
            file: file_abs,
            steps: spec.steps.iter().map(|s| s.name.clone()).collect(),
        },
        backend: Some(BackendSpec::Local),
        step_of: None,
        steps: Vec::new(),
        policy: policy.clone(),
        max_attempts,
        attempts: Vec::new(),
        outcome: None,
        lease: None,
        policy_errors: Vec::new(),
        publish_opts: super::track::publish_options(global, &cwd),
        published: Default::default(),
    };
    let steps = step_tracks(&pipeline, &spec, remote.as_ref());
    let plan: Vec<String> = steps
        .iter()
        .map(|s| {
            let so = s.step_of.as_ref().expect("a step");
            let how = s.backend_spec().describe();
            if so.after.is_empty() {
                format!("{} ({how})", so.name)
            } else {
                format!("{} ({how}, after {})", so.name, so.after.join(", "))
            }
        })
        .collect();
    if global.json {
        println!(
            "{}",
            serde_json::json!({"event": "pipeline", "experiment": experiment, "steps": plan})
        );
    } else if !global.quiet {
        eprintln!("trackit: pipeline {experiment}: {}", plan.join("; "));
    }
    if global.dry_run {
        for s in &steps {
            let so = s.step_of.as_ref().expect("a step");
            let (verb, args) = match &s.launch {
                Launch::Slurm { sbatch_args } => ("sbatch", sbatch_args.join(" ")),
                Launch::Local { command } => ("run", command.join(" ")),
                _ => ("", String::new()),
            };
            let after = if so.after.is_empty() {
                String::new()
            } else {
                format!(" after {}", so.after.join(", "))
            };
            println!("dry run: step {}: would {verb} `{args}`{after}", so.name);
        }
        println!("nothing was submitted");
        return Ok(ExitCode::SUCCESS);
    }
    exclude_from_git(&root);
    let (dir, id) = TrackDir::claim(&root, &pipeline.id)?;
    pipeline.id = id;
    let steps = step_tracks(&pipeline, &spec, remote.as_ref());
    dir.save(&pipeline)?;
    let _ = dir.append_event(
        "created",
        serde_json::json!({"launch": pipeline.launch, "experiment": pipeline.experiment}),
    );
    for s in &steps {
        let d = TrackDir::new(&root, &s.id);
        d.save(s)
            .with_context(|| format!("cannot create step {}", s.id))?;
        let _ = d.append_event("created", serde_json::json!({"step": s.step_of}));
    }
    crate::track::index::remember(&[entry_of(&pipeline)]);
    if detach {
        return detach_tracker(global, &pipeline);
    }
    let mut all = vec![pipeline];
    all.extend(steps);
    watch(global, all)
}

/// One track per step, under the pipeline's folder. They publish nothing themselves: the
/// pipeline does, with a row per step.
fn step_tracks(
    pipeline: &Track,
    spec: &PipelineSpec,
    remote: Option<&crate::track::model::Remote>,
) -> Vec<Track> {
    spec.steps
        .iter()
        .map(|s| {
            let (launch, backend) = match (&s.sbatch, &s.run) {
                (Some(args), _) => (
                    Launch::Slurm {
                        sbatch_args: args.clone(),
                    },
                    BackendSpec::Slurm {
                        remote: remote.cloned(),
                    },
                ),
                (None, Some(cmd)) => (
                    Launch::Local {
                        command: cmd.clone(),
                    },
                    BackendSpec::Local,
                ),
                (None, None) => unreachable!("validated: every step has sbatch or run"),
            };
            Track {
                id: StepOf::track_id(&pipeline.id, &s.name),
                experiment: s.name.clone(),
                created_at: pipeline.created_at.clone(),
                root: pipeline.root.clone(),
                cwd: pipeline.cwd.clone(),
                launch,
                backend: Some(backend),
                step_of: Some(StepOf {
                    pipeline: pipeline.id.clone(),
                    name: s.name.clone(),
                    after: s.after.clone(),
                }),
                steps: Vec::new(),
                policy: pipeline.policy.clone(),
                max_attempts: pipeline.max_attempts,
                attempts: Vec::new(),
                outcome: None,
                lease: None,
                policy_errors: Vec::new(),
                publish_opts: PublishOptions {
                    no_pr: true,
                    no_git: true,
                    doc: None,
                    results: s.results.clone().or(pipeline.publish_opts.results.clone()),
                    metrics: if s.metrics.is_empty() {
                        pipeline.publish_opts.metrics.clone()
                    } else {
                        s.metrics.clone()
                    },
                    ..Default::default()
                },
                published: Default::default(),
            }
        })
        .collect()
}

/// A pipeline's step tracks, from its folder.
pub fn load_steps(pipeline: &Track) -> Result<Vec<Track>> {
    let Launch::Pipeline { steps, .. } = &pipeline.launch else {
        return Ok(Vec::new());
    };
    steps
        .iter()
        .map(|name| {
            let id = StepOf::track_id(&pipeline.id, name);
            crate::track::engine::load_track(&TrackDir::new(&pipeline.root, &id))
        })
        .collect()
}
