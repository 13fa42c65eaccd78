//! The tracking commands: `sbatch`, `run`, `attach`, `resume`, `status`, `list`, `logs`, `cancel`.

use crate::cli::usage;
use crate::cli::GlobalOpts;
use crate::job::format_duration;
use crate::track::choose::{self, Choice};
use crate::track::display::Mode;
use crate::track::engine::{attempt_rows, lease_alive, load_track, status_line, Engine, RunEnd};
use crate::track::index::{self, Entry};
use crate::track::model::{
    experiment_from, new_track_id, sanitize, Attempt, BackendSpec, JobHandle, Launch, Outcome,
    PublishOptions, Remote, Track,
};
use crate::track::store::{list_ids, TrackDir};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where tracks live: the repository root, else the working directory.
pub(crate) fn track_root(cwd: &Path) -> PathBuf {
    crate::git::find_repo_root(cwd).unwrap_or_else(|| cwd.to_path_buf())
}

/// Keeps `.trackit/tracks` out of the user's `git status` without touching their .gitignore.
pub(crate) fn exclude_from_git(root: &Path) {
    let exclude = root.join(".git").join("info").join("exclude");
    if !root.join(".git").is_dir() {
        return;
    }
    let line = "/.trackit/tracks/";
    let current = std::fs::read_to_string(&exclude).unwrap_or_default();
    if !current.lines().any(|l| l.trim() == line) {
        let _ = std::fs::create_dir_all(exclude.parent().unwrap());
        let mut text = current;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(line);
        text.push('\n');
        let _ = std::fs::write(&exclude, text);
    }
}

/// How a new track's backend is chosen.
enum Chooser {
    /// `trackit sbatch`: the dispatch workflow when usable, else sbatch here or over ssh.
    Sbatch,
    /// `trackit launch`: as a person on the cluster would (dispatch, sbatch, ssh, local).
    Launch { is_batch_script: bool },
    /// `trackit run`, `attach`: fixed by the command.
    Fixed(BackendSpec),
}

/// The cluster over ssh, from `--host`/`--remote-dir` or the policy's `remote_host`/`remote_dir`.
pub(crate) fn remote_of(
    global: &GlobalOpts,
    settings: &crate::settings::Settings,
    root: &Path,
) -> Option<Remote> {
    let config = crate::config::current();
    // The host: --host (or TRACKIT_HOST), else the policy's, else the user's config.
    let host = global
        .host
        .clone()
        .or_else(|| settings.remote_host.clone())
        .or_else(|| config.host().map(str::to_string))?;
    // The checkout: --remote-dir, else the policy's, else this repository's folder name under
    // the config's folder of clones, else the same path relative to the home directory.
    let dir = global
        .remote_dir
        .clone()
        .or_else(|| settings.remote_dir.clone())
        .or_else(|| {
            let clones = config.remote_dir()?;
            let name = root.file_name()?.to_string_lossy().into_owned();
            Some(format!("{}/{name}", clones.trim_end_matches('/')))
        })
        .unwrap_or_else(|| choose::default_remote_dir(root));
    Some(Remote {
        host,
        dir: choose::remote_path(&dir),
    })
}

/// What the command line and the config say about publishing; `--doc` is relative to `cwd`.
pub(crate) fn publish_options(global: &GlobalOpts, cwd: &Path) -> PublishOptions {
    PublishOptions {
        no_pr: global.no_pr || !crate::config::current().github.pr,
        no_git: global.no_git,
        doc: global.doc.as_ref().map(|d| cwd.join(d)),
        results: global.results.clone(),
        metrics: global.metric.clone(),
        baseline: global.baseline.clone(),
    }
}

fn new_track(
    global: &GlobalOpts,
    launch: Launch,
    name_from: &[String],
    chooser: Chooser,
) -> Result<(Track, Choice)> {
    let cwd = std::env::current_dir()?;
    let root = track_root(&cwd);
    exclude_from_git(&root);
    let experiment = global
        .experiment
        .as_deref()
        .map(sanitize)
        .unwrap_or_else(|| experiment_from(name_from));
    // Recorded so a resume from any directory loads the same policy: a built-in name, or the
    // file's absolute path.
    let policy = match &global.policy {
        Some(p) => Some(crate::lua::policy::named(p).map_err(usage)?.to_recorded()),
        None => None,
    };
    let source = crate::lua::resolve(policy.as_deref(), &cwd);
    let settings = crate::lua::GuardedPolicy::load(&source)
        .host()
        .settings()
        .clone();
    // The policy's attempt count, unless the command line says otherwise.
    let max_attempts = global.max_attempts.unwrap_or(settings.max_attempts).max(1);
    let remote = remote_of(global, &settings, &root);
    let facts = |is_batch_script: bool| choose::Facts {
        is_batch_script,
        dispatch: choose::dispatch_usable(&settings, &root),
        slurm_here: crate::slurm::on_path("squeue"),
        remote: remote.clone(),
        host_typed: global.host.is_some(),
    };
    let choice = match chooser {
        Chooser::Sbatch => choose::for_sbatch(&facts(true)),
        Chooser::Launch { is_batch_script } => choose::for_launch(&facts(is_batch_script)),
        Chooser::Fixed(backend) => Choice {
            backend,
            why: String::new(),
            warning: None,
        },
    };
    let now = chrono::Utc::now();
    let publish_opts = publish_options(global, &cwd);
    let track = Track {
        id: new_track_id(&experiment, now),
        experiment,
        created_at: now.to_rfc3339(),
        root,
        cwd,
        launch,
        backend: Some(choice.backend.clone()),
        step_of: None,
        steps: Vec::new(),
        policy,
        max_attempts,
        attempts: Vec::new(),
        outcome: None,
        lease: None,
        policy_errors: Vec::new(),
        publish_opts,
        published: Default::default(),
    };
    Ok((track, choice))
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// `trackit sbatch ARGS...`
pub fn sbatch(global: &GlobalOpts, args: Vec<String>, detach: bool) -> Result<ExitCode> {
    let (track, choice) = new_track(
        global,
        Launch::Slurm {
            sbatch_args: args.clone(),
        },
        &args,
        Chooser::Sbatch,
    )?;
    // Only a dispatch or a remote cluster is worth a line; plain sbatch is what was typed.
    let say = !matches!(choice.backend, BackendSpec::Slurm { remote: None });
    start(global, track, detach, say.then_some(&choice))
}

/// `trackit launch ARGS...`: a batch script goes where a person on the cluster would send it;
/// anything else runs here.
pub fn launch(global: &GlobalOpts, args: Vec<String>, detach: bool) -> Result<ExitCode> {
    let cwd = std::env::current_dir()?;
    let script = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(|a| cwd.join(a))
        .find(|p| p.is_file());
    let is_batch_script = script
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .is_some_and(|text| choose::has_sbatch_lines(&text));
    let launch = if is_batch_script {
        Launch::Slurm {
            sbatch_args: args.clone(),
        }
    } else {
        Launch::Local {
            command: args.clone(),
        }
    };
    let (mut track, choice) =
        new_track(global, launch, &args, Chooser::Launch { is_batch_script })?;
    if is_batch_script && choice.backend == BackendSpec::Local {
        // No cluster anywhere: run the script itself here.
        let script = script.expect("a batch script");
        track.launch = Launch::Local {
            command: vec!["bash".into(), script.display().to_string()]
                .into_iter()
                .chain(
                    args.iter()
                        .skip_while(|a| cwd.join(a) != script)
                        .skip(1)
                        .cloned(),
                )
                .collect(),
        };
    }
    start(global, track, detach, Some(&choice))
}

/// `trackit dispatch WORKFLOW -f KEY=VALUE... --ref REF` (inputs already checked): a track
/// whose backend is the workflow, with the user's inputs. It has no script to edit, so it has
/// one attempt.
pub fn dispatch(
    global: &GlobalOpts,
    workflow: &str,
    inputs: std::collections::BTreeMap<String, String>,
    git_ref: String,
) -> Result<ExitCode> {
    let cwd = std::env::current_dir()?;
    let settings =
        crate::lua::GuardedPolicy::load(&crate::lua::resolve(global.policy.as_deref(), &cwd))
            .host()
            .settings()
            .clone();
    let remote = remote_of(global, &settings, &track_root(&cwd));
    let stem = workflow
        .trim_end_matches(".yml")
        .trim_end_matches(".yaml")
        .to_string();
    let (mut track, _) = new_track(
        global,
        Launch::Dispatch {
            workflow: workflow.to_string(),
            inputs,
            git_ref: Some(git_ref),
        },
        &[stem],
        Chooser::Fixed(BackendSpec::Workflow {
            workflow: workflow.to_string(),
            remote,
        }),
    )?;
    track.cwd = track.root.clone();
    track.max_attempts = 1;
    start(global, track, global.detach, None)
}

/// `trackit run CMD [ARGS...]`
pub fn run(global: &GlobalOpts, command: Vec<String>, detach: bool) -> Result<ExitCode> {
    let (track, _) = new_track(
        global,
        Launch::Local {
            command: command.clone(),
        },
        &command,
        Chooser::Fixed(BackendSpec::Local),
    )?;
    start(global, track, detach, None)
}

/// `trackit attach JOBID | pid:N`
pub fn attach(global: &GlobalOpts, target: &str, detach: bool) -> Result<ExitCode> {
    let rt = runtime()?;
    let track = if let Some(pid) = target.strip_prefix("pid:") {
        let pid: i32 = pid
            .parse()
            .map_err(|_| usage(format!("'{target}': expected pid:N")))?;
        let job = crate::proc::attach(pid)?;
        let (mut track, _) = new_track(
            global,
            Launch::AttachPid { pid },
            &job.command,
            Chooser::Fixed(BackendSpec::Local),
        )?;
        track.max_attempts = 1;
        track.attempts.push(Attempt {
            n: 1,
            log_paths: job.log_path.iter().cloned().collect(),
            launch_args: job.command.clone(),
            job: Some(JobHandle::Local(job)),
            ..Default::default()
        });
        track
    } else {
        if !target.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            return Err(usage(format!(
                "'{target}': expected a SLURM job id (e.g. 4812331) or pid:N"
            )));
        }
        let cwd = std::env::current_dir()?;
        let settings =
            crate::lua::GuardedPolicy::load(&crate::lua::resolve(global.policy.as_deref(), &cwd))
                .host()
                .settings()
                .clone();
        let mut remote = remote_of(global, &settings, &track_root(&cwd));
        let slurm = match &remote {
            Some(r) => crate::slurm::Slurm::over_ssh(crate::ssh::SshHost::new(&r.host)?),
            None => crate::slurm::Slurm::default(),
        };
        let details = rt
            .block_on(slurm.job_details(target))
            .map_err(|e| anyhow::anyhow!("cannot look up job {target}: {e}"))?;
        let Some(first) = details.first() else {
            return Err(usage(format!(
                "SLURM does not know job {target} (finished more than a few minutes ago?)"
            )));
        };
        // Relaunching an adopted job resubmits its script with the resources it had.
        let mut args = Vec::new();
        if let Some(p) = &first.partition {
            args.push(format!("--partition={p}"));
        }
        if let Some(m) = first.req_mem_bytes {
            args.push(format!("--mem={}", crate::job::format_mem(m)));
        }
        if let Some(t) = first.timelimit_s {
            args.push(format!("--time={}", format_duration(t)));
        }
        if let Some(cmd) = &first.command {
            let script_at = args.len();
            args.extend(cmd.split_whitespace().map(|s| s.to_string()));
            // The script lives on the host: keep the one the job was submitted with, so a
            // relaunch copies, edits and wraps it as `trackit sbatch` does.
            if remote.is_some() {
                match rt.block_on(slurm.batch_script(target)) {
                    Ok(Some(text)) => {
                        args[script_at] = keep_attached_script(&cwd, target, &text)?
                            .to_string_lossy()
                            .into_owned();
                        // The kept copy's name is not the job's.
                        if let Some(name) = &first.name {
                            args.insert(script_at, format!("--job-name={name}"));
                        }
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(
                        "cannot read job {target}'s batch script ({e}); a relaunch runs {cmd} on the host, unwrapped"
                    ),
                }
            }
        }
        let name_from: Vec<String> = first
            .command
            .iter()
            .chain(first.name.iter())
            .cloned()
            .collect();
        // On a remote cluster the job's folder is its own: relaunches run there.
        if let (Some(r), Some(w)) = (remote.as_mut(), &first.work_dir) {
            r.dir = w.clone();
        }
        let (mut track, _) = new_track(
            global,
            Launch::AttachSlurm {
                job_id: target.to_string(),
            },
            &name_from,
            Chooser::Fixed(BackendSpec::Slurm {
                remote: remote.clone(),
            }),
        )?;
        let logs = crate::slurm::log_paths(&details);
        match (&remote, &first.work_dir) {
            (None, Some(w)) => track.cwd = PathBuf::from(w),
            (Some(_), _) => track.cwd = track.root.clone(),
            _ => {}
        }
        track.attempts.push(Attempt {
            n: 1,
            job: Some(JobHandle::Slurm {
                id: target.to_string(),
                submitted_after: None,
                name: first.name.clone(),
                remote: remote.clone(),
                run_id: None,
            }),
            launch_args: if first.command.is_some() {
                args
            } else {
                Vec::new()
            },
            log_paths: logs,
            ..Default::default()
        });
        track
    };
    drop(rt);
    start(global, track, detach, None)
}

/// Saves an adopted remote job's batch script under `.trackit/attached/`, where a relaunch
/// finds it as it finds a local script.
fn keep_attached_script(cwd: &Path, job: &str, text: &str) -> Result<PathBuf> {
    let dir = track_root(cwd).join(".trackit/attached");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("job-{job}.sh"));
    crate::atomic_file::write(&path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Says where the job goes and why (the first line `trackit launch` prints).
fn announce(global: &GlobalOpts, choice: &Choice) {
    if global.json {
        println!(
            "{}",
            serde_json::json!({"event": "chosen", "backend": choice.backend, "why": choice.why, "warning": choice.warning})
        );
        return;
    }
    if global.quiet {
        return;
    }
    eprintln!("trackit: {} ({})", choice.backend.describe(), choice.why);
    if let Some(w) = &choice.warning {
        eprintln!("trackit: warning: {w}");
    }
}

fn start(
    global: &GlobalOpts,
    mut track: Track,
    detach: bool,
    choice: Option<&Choice>,
) -> Result<ExitCode> {
    if let Some(c) = choice {
        announce(global, c);
    }
    if let Some(Remote { host, .. }) = track.backend_spec().remote() {
        // A password or second factor is typed now, once, before trackit goes unattended.
        if !global.dry_run && std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            let ssh = crate::ssh::SshHost::new(host)?;
            runtime()?.block_on(ssh.connect_interactive())?;
        }
    }
    if global.dry_run {
        return dry_run_launch(global, &track);
    }
    // Two tracks started in the same second get different ids; an existing one is never
    // overwritten.
    let (dir, id) = TrackDir::claim(&track.root, &track.id)?;
    track.id = id;
    dir.save(&track)?;
    index::remember(&[entry_of(&track)]);
    let _ = dir.append_event(
        "created",
        serde_json::json!({"launch": track.launch, "experiment": track.experiment}),
    );
    if detach {
        return detach_tracker(global, &track);
    }
    watch(global, vec![track])
}

/// Watches tracks in the foreground until they finish (exit 0 if all succeeded, 1 otherwise),
/// or until interrupted (130; the jobs keep running; `trackit resume` continues).
pub(crate) fn watch(global: &GlobalOpts, tracks: Vec<Track>) -> Result<ExitCode> {
    let mode = Mode::choose(global.json, global.quiet);
    let rt = runtime()?;
    let outcome = rt.block_on(async {
        let mut engine = Engine::new(mode);
        for t in tracks {
            engine.add(t)?;
        }
        let end = engine.run().await?;
        let finished: Vec<Track> = engine.tracks().into_iter().cloned().collect();
        anyhow::Ok((end, finished))
    })?;
    let (end, finished) = outcome;
    // A pipeline reports for its steps: they are shown inside it, not on their own.
    let finished: Vec<Track> = finished
        .iter()
        .filter(|t| t.step_of.is_none())
        .map(|t| {
            let mut t = t.clone();
            t.steps = finished
                .iter()
                .filter(|s| s.step_of.as_ref().is_some_and(|so| so.pipeline == t.id))
                .cloned()
                .collect();
            t
        })
        .collect();
    match end {
        RunEnd::Interrupted => {
            for t in &finished {
                if !t.is_done() {
                    eprintln!("trackit: stopped watching {}; the job keeps running. Continue with: trackit resume {}", t.id, t.id);
                }
            }
            Ok(ExitCode::from(130))
        }
        RunEnd::Finished { all_succeeded } => {
            for t in &finished {
                print_final(global, t);
            }
            Ok(if all_succeeded {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// The final report: outcome and attempts; for a failure, one row per attempt.
fn print_final(global: &GlobalOpts, t: &Track) {
    if global.json {
        let report = serde_json::json!({
            "event": "report",
            "track": t.id,
            "experiment": t.experiment,
            "outcome": t.outcome,
            "attempts": t.attempts,
            "policy_errors": t.policy_errors,
            "pr_url": t.published.pr_url,
            "pr_number": t.published.pr_number,
            "branch": t.published.branch,
            "commit": t.published.commit,
            "doc": report_path(t),
            "metrics": t.published.results.as_ref().and_then(|r| r.metrics.clone()),
            "efficiency": t.published.results.as_ref().and_then(|r| r.efficiency.clone()),
            "result_files": t.published.results.as_ref().map(|r| r.files.clone()).unwrap_or_default(),
            "skipped_files": t.published.results.as_ref().map(|r| r.skipped.clone()).unwrap_or_default(),
            "baseline": t.published.baseline.as_ref().map(|b| &b.label),
            "github_error": t.published.github_error,
            "github_pending": t.published.queue.len(),
        });
        println!("{}", scrub_out(&report.to_string()));
        return;
    }
    println!("{}", scrub_out(&final_report(t)));
}

/// Printed text never carries a token.
fn scrub_out(text: &str) -> String {
    crate::report::Secrets::from_env().scrub(text)
}

pub fn final_report(t: &Track) -> String {
    if t.is_pipeline() {
        return pipeline_report(t);
    }
    let outcome = match t.outcome {
        Some(Outcome::Succeeded) => "COMPLETED",
        Some(Outcome::Failed) => "FAILED",
        Some(Outcome::Cancelled) => "CANCELLED",
        None => "RUNNING",
    };
    let mut out = format!(
        "## {} — {outcome} after {} attempt(s)\n\n",
        t.experiment,
        t.attempts.len()
    );
    out.push_str("| attempt | job | state | exit | elapsed | diagnosis | summary | edits |\n|---|---|---|---|---|---|---|---|\n");
    for row in attempt_rows(t) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            row["attempt"],
            row["job"],
            row["state"],
            row["exit"],
            row["elapsed"],
            row["kind"],
            row["summary"].replace('|', "\\|"),
            row["edits"].replace('|', "\\|")
        ));
    }
    if t.outcome == Some(Outcome::Failed) {
        out.push_str("\nEvidence:\n");
        for a in &t.attempts {
            if let Some(d) = &a.diagnosis {
                for e in d.evidence.iter().take(5) {
                    let loc = match (&e.file, e.line) {
                        (Some(f), Some(l)) => format!("{f}:{l}"),
                        _ => e.source.clone(),
                    };
                    out.push_str(&format!("- attempt {}: `{loc}`: {}\n", a.n, e.text));
                }
            }
        }
    }
    out.push_str(&published_lines(t));
    if !t.policy_errors.is_empty() {
        out.push_str(&format!(
            "\nPolicy errors (the built-in default decided instead): {}\n",
            t.policy_errors.len()
        ));
    }
    out.push_str(&format!(
        "\nTrack {} — state in {}\n",
        t.id,
        TrackDir::new(&t.root, &t.id).dir.display()
    ));
    out
}

/// A pipeline's final report: one row per step, the evidence of the steps that failed.
fn pipeline_report(t: &Track) -> String {
    let word = |o: Option<Outcome>| match o {
        Some(Outcome::Succeeded) => "COMPLETED",
        Some(Outcome::Failed) => "FAILED",
        Some(Outcome::Cancelled) => "CANCELLED",
        None => "RUNNING",
    };
    let mut out = format!(
        "## {} — {} ({} steps)\n\n| step | job | state | attempts | diagnosis | summary |\n|---|---|---|---|---|---|\n",
        t.experiment,
        word(t.outcome),
        t.steps.len()
    );
    for s in &t.steps {
        let a = s.current().filter(|a| a.withdrawn.is_none());
        let name = s.step_of.as_ref().map(|so| so.name.as_str()).unwrap_or("?");
        let job = a
            .and_then(|a| a.job.as_ref())
            .map(|j| j.id())
            .unwrap_or_else(|| "-".into());
        let (kind, summary) = a
            .and_then(|a| a.diagnosis.as_ref())
            .map(|d| (d.kind.clone(), d.summary.replace('|', "\\|")))
            .unwrap_or_else(|| ("-".into(), String::new()));
        out.push_str(&format!(
            "| {name} | {job} | {} | {} | {kind} | {summary} |\n",
            word(s.outcome),
            s.attempts_used()
        ));
    }
    out.push_str(&published_lines(t));
    out.push_str(&format!(
        "\nTrack {} — state in {}\n",
        t.id,
        TrackDir::new(&t.root, &t.id).dir.display()
    ));
    out
}

/// Where the doc is: on the results branch, or the report file in the track dir.
fn report_path(t: &Track) -> Option<String> {
    let doc = t.published.doc.as_ref()?;
    Some(if t.published.git {
        match &t.published.branch {
            Some(b) => format!("{b}:{}", doc.display()),
            None => doc.display().to_string(),
        }
    } else {
        TrackDir::new(&t.root, &t.id)
            .dir
            .join(doc)
            .display()
            .to_string()
    })
}

/// The PR link, key metrics and the efficiency line, for the final report.
fn published_lines(t: &Track) -> String {
    let p = &t.published;
    let mut out = String::new();
    if let Some(r) = &p.results {
        if let Some(m) = &r.metrics {
            out.push_str("\nMetrics:\n");
            for s in &m.metrics {
                out.push_str(&format!("- {}\n", crate::report::format::metric_line(s)));
            }
            if !m.missing.is_empty() {
                out.push_str(&format!("- not found: {}\n", m.missing.join(", ")));
            }
        }
        if let Some(e) = &r.efficiency {
            out.push_str(&format!("\nEfficiency: {e}\n"));
        }
        out.push_str(&crate::track::publish::sources_lines(t));
        for e in &r.errors {
            out.push_str(&format!("\nResults: {e}\n"));
        }
    }
    if let Some(url) = &p.pr_url {
        out.push_str(&format!("\nPull request: {url}\n"));
    }
    if let Some(doc) = report_path(t) {
        out.push_str(&format!("Report: {doc}\n"));
    }
    if let Some(e) = &p.github_error {
        out.push_str(&format!("GitHub: {e}\n"));
    } else if !p.queue.is_empty() {
        out.push_str(&format!(
            "GitHub: {} update(s) still queued (GitHub unreachable)\n",
            p.queue.len()
        ));
    }
    out
}

/// `--detach`: hand the track to a background `trackit resume` and print its id.
pub(crate) fn detach_tracker(global: &GlobalOpts, track: &Track) -> Result<ExitCode> {
    let dir = TrackDir::new(&track.root, &track.id);
    let log = std::fs::File::create(dir.dir.join("tracker.log"))?;
    let exe = std::env::current_exe()?;
    let mut cmd = std::process::Command::new(exe);
    if let Some(p) = &track.policy {
        cmd.arg("--policy").arg(p);
    }
    if global.json {
        cmd.arg("--json");
    }
    cmd.args(["resume", &track.id])
        .current_dir(&track.cwd)
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    use std::os::unix::process::CommandExt;
    // Its own session: closing the terminal does not stop it.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let child = cmd.spawn().context("cannot start the background tracker")?;
    if global.json {
        println!(
            "{}",
            serde_json::json!({"track": track.id, "tracker_pid": child.id()})
        );
    } else {
        println!("{}", track.id);
    }
    Ok(ExitCode::SUCCESS)
}

/// The index entry of a track.
pub(crate) fn entry_of(t: &Track) -> Entry {
    Entry {
        id: t.id.clone(),
        root: t.root.clone(),
        experiment: t.experiment.clone(),
        created_at: t.created_at.clone(),
    }
}

/// This folder's tracks, as index entries.
fn local_entries(root: &Path) -> Result<Vec<Entry>> {
    Ok(list_ids(root)?
        .into_iter()
        .map(|id| Entry {
            experiment: id.splitn(3, '-').nth(2).unwrap_or_default().to_string(),
            created_at: String::new(),
            root: root.to_path_buf(),
            id,
        })
        .collect())
}

/// Every track: the index, plus this folder's tracks the index does not have yet (made by an
/// older trackit, or in a repository that moved here: they are recorded now), oldest first.
fn all_entries(root: &Path) -> Result<Vec<Entry>> {
    let mut all = match index::Index::user() {
        Some(i) => i.entries()?,
        None => Vec::new(),
    };
    let unknown: Vec<Entry> = local_entries(root)?
        .into_iter()
        .filter(|l| !all.iter().any(|e| e.id == l.id && e.root == l.root))
        .collect();
    if !unknown.is_empty() {
        index::remember(&unknown);
        // A moved repository's old entries are replaced by the new ones.
        all.retain(|e| !(unknown.iter().any(|u| u.id == e.id) && e.missing().is_some()));
        all.extend(unknown);
    }
    all.sort_by(|a, b| a.id.cmp(&b.id).then_with(|| a.root.cmp(&b.root)));
    Ok(all)
}

/// Matches a query against entries: the exact id, else a unique id prefix, else the newest
/// track of an experiment of that name.
fn pick<'a>(entries: &'a [Entry], query: &str) -> Vec<&'a Entry> {
    let exact: Vec<&Entry> = entries.iter().filter(|e| e.id == query).collect();
    if !exact.is_empty() {
        return exact;
    }
    let by_prefix: Vec<&Entry> = entries.iter().filter(|e| e.id.starts_with(query)).collect();
    if by_prefix.len() == 1 {
        return by_prefix;
    }
    let suffix = format!("-{query}");
    entries
        .iter()
        .filter(|e| e.id.ends_with(&suffix))
        .max_by(|a, b| a.id.cmp(&b.id))
        .into_iter()
        .collect()
}

/// Finds a track by id, unique prefix, or experiment name (the newest one): among the tracks
/// of `root` first, then among every track in the index, so it works from any directory.
pub fn find_track(root: &Path, query: &str) -> Result<Track> {
    let local = local_entries(root)?;
    let mut matches = pick(&local, query);
    let everywhere;
    if matches.is_empty() {
        everywhere = all_entries(root)?;
        matches = pick(&everywhere, query);
    }
    match matches.as_slice() {
        [one] => load_entry(one),
        [] => Err(usage(format!(
            "no track matches '{query}' (see `trackit list`)"
        ))),
        many => Err(usage(format!(
            "'{query}' matches several tracks: {}; use the full id",
            many.iter()
                .map(|e| format!("{} in {}", e.id, e.root.display()))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Loads an indexed track, or says where it went.
fn load_entry(e: &Entry) -> Result<Track> {
    if let Some(why) = e.missing() {
        bail!("track {} cannot be read: {why}", e.id);
    }
    load_at(&e.root, &e.id)
}

/// Loads a track from the folder it was found in. A repository that moved since the track was
/// written still has the old folder in its state: the paths under it follow the move.
fn load_at(root: &Path, id: &str) -> Result<Track> {
    let mut t = load_track(&TrackDir::new(root, id))?;
    if t.root != root {
        let old = std::mem::replace(&mut t.root, root.to_path_buf());
        let moved = |p: &mut PathBuf| {
            if let Ok(rel) = p.strip_prefix(&old) {
                *p = root.join(rel);
            }
        };
        moved(&mut t.cwd);
        for p in t.attempts.iter_mut().flat_map(|a| a.log_paths.iter_mut()) {
            moved(p);
        }
    }
    Ok(t)
}

/// The newest track: of this folder if it has any, else of the whole index.
fn latest_track(root: &Path) -> Result<Track> {
    if let Some(id) = list_ids(root)?.last() {
        return load_at(root, id);
    }
    let all = all_entries(root)?;
    match all.iter().rev().find(|e| e.missing().is_none()) {
        Some(e) => load_entry(e),
        None => Err(usage(
            "no tracks yet: start one with `trackit sbatch` or `trackit run`",
        )),
    }
}

fn root_here() -> Result<PathBuf> {
    Ok(track_root(&std::env::current_dir()?))
}

/// `--dry-run` before launching: what would run, and under which policy. Nothing is created.
fn dry_run_launch(global: &GlobalOpts, t: &Track) -> Result<ExitCode> {
    let (what, args) = match &t.launch {
        Launch::Slurm { sbatch_args } => ("sbatch", sbatch_args.clone()),
        Launch::Local { command } => ("run", command.clone()),
        Launch::Dispatch {
            workflow,
            inputs,
            git_ref,
        } => (
            "dispatch",
            std::iter::once(workflow.clone())
                .chain(
                    inputs
                        .iter()
                        .flat_map(|(k, v)| ["-f".to_string(), format!("{k}={v}")]),
                )
                .chain(
                    git_ref
                        .iter()
                        .flat_map(|r| ["--ref".to_string(), r.clone()]),
                )
                .collect(),
        ),
        _ => (
            "watch",
            t.current()
                .map(|a| a.launch_args.clone())
                .unwrap_or_default(),
        ),
    };
    let policy = t
        .policy
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| crate::lua::resolve(None, &t.root).display_name());
    let backend = t.backend_spec();
    if global.json {
        println!(
            "{}",
            serde_json::json!({"dry_run": true, "would": what, "args": args, "cwd": t.cwd, "backend": backend, "experiment": t.experiment, "policy": policy, "max_attempts": t.max_attempts})
        );
    } else {
        let shown = match what {
            "sbatch" => format!("sbatch {}", args.join(" ")),
            "dispatch" => format!("trackit dispatch {}", args.join(" ")),
            _ => args.join(" "),
        };
        let place = match &backend {
            BackendSpec::Slurm { remote: Some(r) } => {
                format!("on {} in {}", r.host, r.path_for(&t.root, &t.cwd))
            }
            BackendSpec::Workflow { workflow, .. } => {
                format!("through {workflow} (a runner on the cluster submits)")
            }
            _ => format!("in {}", t.cwd.display()),
        };
        println!(
            "dry run: would {} `{shown}` {place}",
            match what {
                "run" => "run",
                "dispatch" => "dispatch",
                _ => "submit",
            },
        );
        println!(
            "  experiment {}, policy {policy}, up to {} attempt(s); nothing was submitted",
            t.experiment, t.max_attempts
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `--dry-run` on an existing track: the latest attempt's diagnosis and the edits a relaunch
/// would make. Nothing is written or submitted.
fn dry_run_track(global: &GlobalOpts, t: &Track) -> Result<ExitCode> {
    let ended = t
        .current()
        .is_some_and(|a| a.finished || a.state().is_some_and(|s| s.is_terminal()));
    if !ended {
        println!(
            "{}: the current attempt has not ended yet; nothing to plan",
            t.id
        );
        return Ok(ExitCode::SUCCESS);
    }
    let Some((diagnosis, plan)) = crate::track::engine::dry_run_plan(t) else {
        bail!("track {} has no attempt to plan from", t.id);
    };
    if global.json {
        println!(
            "{}",
            serde_json::json!({"dry_run": true, "track": t.id, "diagnosis": diagnosis, "fix": plan})
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "dry run for {} (attempt {}/{}):",
        t.id,
        t.attempts.len(),
        t.max_attempts
    );
    println!("{}: {}", diagnosis.kind, diagnosis.summary);
    for e in diagnosis.evidence.iter().take(5) {
        println!("  {}", e.text);
    }
    match plan {
        Some(p) if !p.nothing_left() => {
            println!("a relaunch would apply:");
            for a in &p.applied {
                println!("  {}", a.display);
            }
        }
        Some(p) => println!(
            "no relaunch: {}",
            p.note.unwrap_or_else(|| "nothing left to try".into())
        ),
        None => println!(
            "no relaunch ({})",
            if diagnosis.kind == "none" {
                "the job succeeded"
            } else {
                "not fixable"
            }
        ),
    }
    if t.attempts.len() as u32 >= t.max_attempts {
        println!("(the track has used all {} attempts)", t.max_attempts);
    }
    println!("nothing was submitted");
    Ok(ExitCode::SUCCESS)
}

/// `trackit resume TRACK...`
pub fn resume(global: &GlobalOpts, queries: &[String], force: bool) -> Result<ExitCode> {
    let root = root_here()?;
    if global.dry_run {
        for q in queries {
            dry_run_track(global, &find_track(&root, q)?)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut tracks = Vec::new();
    let here = crate::proc::hostname();
    for q in queries {
        let mut t = find_track(&root, q)?;
        if t.is_done() {
            eprintln!("trackit: {} already finished ({})", t.id, t.status_word());
            print_final(global, &t);
            continue;
        }
        // A process on another machine cannot be watched (or judged) from here.
        if let Some(JobHandle::Local(job)) = t
            .current()
            .filter(|a| !a.finished)
            .and_then(|a| a.job.as_ref())
        {
            if !job.is_on_this_host() {
                bail!(
                    "track {}: its job {} runs on {}, not on {here}: run `trackit resume {}` there",
                    t.id,
                    job.id(),
                    job.host.as_deref().unwrap_or("another machine"),
                    t.id
                );
            }
        }
        if force {
            if let Some(lease) = &t.lease {
                if lease.host != here {
                    eprintln!(
                        "trackit: taking {} over from trackit pid {} on {} (--force)",
                        t.id, lease.pid, lease.host
                    );
                    t.lease = None;
                }
            }
        }
        // A pipeline goes on with all its steps (finished ones too: later steps wait on them).
        let steps = super::pipeline::load_steps(&t)?;
        tracks.push(t);
        tracks.extend(steps);
    }
    if tracks.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    watch(global, tracks)
}

/// `trackit status [TRACK] [--json]`
pub fn status(global: &GlobalOpts, query: Option<&str>, json: bool) -> Result<ExitCode> {
    let root = root_here()?;
    // Tracks that cannot be read are shown as such, never hidden.
    let mut unreadable: Vec<(String, String)> = Vec::new();
    let mut tracks: Vec<Track> = match query {
        Some(q) => vec![find_track(&root, q)?],
        None => all_entries(&root)?
            .iter()
            .filter(|e| e.missing().is_none())
            .filter_map(|e| match load_at(&e.root, &e.id) {
                Ok(t) => Some(t),
                Err(err) => {
                    unreadable.push((e.id.clone(), format!("{err:#}")));
                    None
                }
            })
            .filter(|t| !t.is_done())
            .collect(),
    };
    for t in &mut tracks {
        t.steps = super::pipeline::load_steps(t).unwrap_or_default();
    }
    if json || global.json {
        let mut v: Vec<_> = tracks.iter().map(track_json).collect();
        v.extend(
            unreadable.iter().map(
                |(id, why)| serde_json::json!({"id": id, "status": "UNREADABLE", "error": why}),
            ),
        );
        println!(
            "{}",
            if query.is_some() {
                v[0].clone()
            } else {
                serde_json::Value::Array(v)
            }
        );
        return Ok(ExitCode::SUCCESS);
    }
    if tracks.is_empty() && unreadable.is_empty() {
        println!("no active tracks (see `trackit list` for finished ones)");
    }
    for t in &tracks {
        println!("{}", status_line(t, ""));
        for step in &t.steps {
            println!("    {}", status_line(step, ""));
        }
        let watcher = match &t.lease {
            Some(l) if lease_alive(l) => format!("watched by trackit pid {}", l.pid),
            _ if t.is_done() => "finished".to_string(),
            _ => format!("not watched: run `trackit resume {}`", t.id),
        };
        println!(
            "  track {} ({}), {watcher}, in {}",
            t.id,
            t.status_word(),
            home_short(&t.root)
        );
        if query.is_some() {
            println!("{}", final_report(t));
        }
    }
    for (id, why) in &unreadable {
        println!("{id}: UNREADABLE: {why}");
    }
    Ok(ExitCode::SUCCESS)
}

fn track_json(t: &Track) -> serde_json::Value {
    let watched = t.lease.as_ref().is_some_and(lease_alive);
    serde_json::json!({
        "id": t.id,
        "experiment": t.experiment,
        "status": t.status_word(),
        "outcome": t.outcome,
        "attempt": t.attempts.len(),
        "max_attempts": t.max_attempts,
        "job": t.current().and_then(|a| a.job.as_ref()).map(|j| j.id()),
        "watched": watched,
        "created_at": t.created_at,
        "root": t.root,
        "attempts": t.attempts,
    })
}

/// A path with the home folder shown as `~`.
fn home_short(p: &Path) -> String {
    match std::env::var_os("HOME").map(PathBuf::from) {
        Some(home) if !home.as_os_str().is_empty() => match p.strip_prefix(&home) {
            Ok(rest) => format!("~/{}", rest.display()),
            Err(_) => p.display().to_string(),
        },
        _ => p.display().to_string(),
    }
}

/// `trackit list [--json]`: every track in the index (and this folder's), oldest first. A
/// track whose repository moved or vanished is listed as MISSING, with where it was.
pub fn list(global: &GlobalOpts, json: bool) -> Result<ExitCode> {
    let root = root_here()?;
    let entries = all_entries(&root)?;
    let rows: Vec<(Entry, Result<Track, String>)> = entries
        .into_iter()
        .map(|e| {
            let t = match e.missing() {
                Some(why) => Err(why),
                None => load_at(&e.root, &e.id).map_err(|err| format!("{err:#}")),
            };
            (e, t)
        })
        .collect();
    if json || global.json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(e, t)| match t {
                Ok(t) => track_json(t),
                Err(why) => serde_json::json!({
                    "id": e.id,
                    "experiment": e.experiment,
                    "status": if e.missing().is_some() { "MISSING" } else { "UNREADABLE" },
                    "root": e.root,
                    "missing": why,
                }),
            })
            .collect();
        println!("{}", serde_json::Value::Array(v));
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<40} {:<10} {:>7} {:<12} REPOSITORY",
        "TRACK", "STATUS", "ATTEMPT", "JOB"
    );
    for (e, t) in &rows {
        match t {
            Ok(t) => {
                let job = t
                    .current()
                    .and_then(|a| a.job.as_ref())
                    .map(|j| j.id())
                    .unwrap_or_else(|| "-".into());
                println!(
                    "{:<40} {:<10} {:>7} {:<12} {}",
                    t.id,
                    t.status_word(),
                    format!("{}/{}", t.attempts.len(), t.max_attempts),
                    job,
                    home_short(&t.root)
                );
            }
            Err(why) => println!(
                "{:<40} {:<10} {:>7} {:<12} {} ({why})",
                e.id,
                if e.missing().is_some() {
                    "MISSING"
                } else {
                    "UNREADABLE"
                },
                "-",
                "-",
                home_short(&e.root)
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `trackit logs [TRACK] [--attempt N] [-f]`: every log file of the attempt, each under a
/// `==> path <==` header when there are several (as `tail` does).
pub fn logs(query: Option<&str>, attempt: Option<u32>, follow: bool) -> Result<ExitCode> {
    let root = root_here()?;
    let t = match query {
        Some(q) => find_track(&root, q)?,
        None => latest_track(&root)?,
    };
    let a = match attempt {
        Some(n) => t.attempts.iter().find(|a| a.n == n).ok_or_else(|| {
            usage(format!(
                "track {} has no attempt {n} (it has {})",
                t.id,
                t.attempts.len()
            ))
        })?,
        None => match t.current() {
            Some(a) => a,
            None => bail!("track {} has no attempt yet", t.id),
        },
    };
    if let Some(JobHandle::Slurm {
        remote: Some(remote),
        ..
    }) = &a.job
    {
        let path =
            a.log_paths.first().cloned().ok_or_else(|| {
                anyhow::anyhow!("attempt {} of {} has no known log file", a.n, t.id)
            })?;
        return remote_logs(&t, remote, &path, follow);
    }
    if a.log_paths.is_empty() {
        bail!("attempt {} of {} has no known log file", a.n, t.id);
    }
    let many = a.log_paths.len() > 1;
    let mut followers: Vec<crate::logtail::follow::Follower> = a
        .log_paths
        .iter()
        .map(|p| {
            crate::logtail::follow::Follower::new(
                p.clone(),
                crate::logtail::follow::Start::FromStart,
            )
        })
        .collect();
    let mut shown: Option<usize> = None;
    let print = |k: usize, lines: Vec<String>, shown: &mut Option<usize>| {
        if lines.is_empty() {
            return;
        }
        if many && *shown != Some(k) {
            if shown.is_some() {
                println!();
            }
            println!("==> {} <==", a.log_paths[k].display());
            *shown = Some(k);
        }
        for line in lines {
            println!("{line}");
        }
    };
    // Everything written so far, file by file.
    let drain = |f: &mut crate::logtail::follow::Follower| -> Result<Vec<String>> {
        let mut all = Vec::new();
        loop {
            let lines = f.poll().map_err(|e| anyhow::anyhow!("{e}"))?;
            if lines.is_empty() {
                return Ok(all);
            }
            all.extend(lines);
        }
    };
    for (k, f) in followers.iter_mut().enumerate() {
        if !f.path().exists() {
            eprintln!("trackit: {} has not been written yet", f.path().display());
        }
        let lines = drain(f)?;
        print(k, lines, &mut shown);
    }
    let following_current = t.current().map(|c| c.n) == Some(a.n) && !t.is_done();
    if !follow || !following_current {
        for (k, f) in followers.iter().enumerate() {
            if let Some(p) = f.partial_line() {
                print(k, vec![p], &mut shown);
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    loop {
        std::thread::sleep(std::time::Duration::from_millis(500));
        for (k, f) in followers.iter_mut().enumerate() {
            let lines = drain(f)?;
            print(k, lines, &mut shown);
        }
        // Stop once the track has finished (or moved to a new attempt) and the logs are drained.
        let now = load_track(&TrackDir::new(&t.root, &t.id))?;
        if now.is_done() || now.current().map(|c| c.n) != Some(a.n) {
            for (k, f) in followers.iter_mut().enumerate() {
                let mut lines = drain(f)?;
                lines.extend(f.partial_line());
                print(k, lines, &mut shown);
            }
            return Ok(ExitCode::SUCCESS);
        }
    }
}

/// `trackit logs` of a job on a remote host: `tail` over the shared ssh connection; with
/// `-f`, until the track's attempt ends.
fn remote_logs(t: &Track, remote: &Remote, path: &Path, follow: bool) -> Result<ExitCode> {
    use crate::ssh::quote;
    let ssh = crate::ssh::SshHost::new(&remote.host)?;
    let rt = runtime()?;
    let file = quote(&path.to_string_lossy());
    if !follow {
        let out = rt.block_on(ssh.run(&format!("cat {file}"), None))?;
        if !out.success() {
            bail!(
                "cannot read {} on {}: {}",
                path.display(),
                remote.host,
                out.stderr
            );
        }
        use std::io::Write;
        std::io::stdout().write_all(&out.stdout)?;
        return Ok(ExitCode::SUCCESS);
    }
    // Follow by offsets: each look asks for the bytes after the last one seen.
    let n = t.current().map(|a| a.n);
    let mut offset: u64 = 0;
    loop {
        let out =
            rt.block_on(ssh.run(&format!("tail -c +{} {file} 2>/dev/null", offset + 1), None));
        if let Ok(out) = out {
            use std::io::Write;
            std::io::stdout().write_all(&out.stdout)?;
            std::io::stdout().flush()?;
            offset += out.stdout.len() as u64;
        }
        let now = load_track(&TrackDir::new(&t.root, &t.id))?;
        if now.is_done() || now.current().map(|a| a.n) != n {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
}

/// `trackit cancel TRACK`: cancels the job and ends the track.
pub fn cancel(query: &str) -> Result<ExitCode> {
    let root = root_here()?;
    let t = find_track(&root, query)?;
    if t.is_done() {
        println!("{} already finished ({})", t.id, t.status_word());
        return Ok(ExitCode::SUCCESS);
    }
    let watched = t.lease.as_ref().is_some_and(lease_alive);
    let mut all = super::pipeline::load_steps(&t)?;
    all.push(t);
    let rt = runtime()?;
    for mut t in all.into_iter().filter(|t| !t.is_done()) {
        rt.block_on(crate::track::engine::cancel_job(&t))?;
        // The watching tracker (if any) sees the CANCELLED state; without one, end the track here.
        if !watched {
            t.outcome = Some(Outcome::Cancelled);
            if let Some(a) = t.current_mut() {
                a.finished = true;
            }
            let dir = TrackDir::new(&t.root, &t.id);
            dir.save(&t)?;
            let _ = dir.append_event("cancelled", serde_json::json!({}));
        }
        if t.step_of.is_none() {
            println!("cancelled {}", t.id);
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_exclude_is_added_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".git/info")).unwrap();
        exclude_from_git(dir.path());
        exclude_from_git(dir.path());
        let text = std::fs::read_to_string(dir.path().join(".git/info/exclude")).unwrap();
        assert_eq!(text.matches("/.trackit/tracks/").count(), 1);
    }
}
