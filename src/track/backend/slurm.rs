//! SLURM through its own commands, here or on a login node over ssh.
//!
//! Each submission is wrapped ([`crate::slurm::exit_wrapper`]) so the job writes its exit status
//! to the track's `exits/` folder when it ends, and carries a unique marker
//! (`--comment=trackit:<track>:<attempt>`, and the wrapper's own path, which is unique per
//! attempt). A submission whose reply was lost is looked up by that marker before any retry.
//!
//! Over ssh, every command, log read and results read runs on the host through one multiplexed
//! connection; the job script and its wrapper are copied into the track's folder inside the
//! remote checkout (`--remote-dir`), so the job runs the exact text trackit shows and edits.

use super::{Backend, BackendKey, BoxFuture, JobUpdate, LaunchError, LaunchRequest, Launched};
use super::{PollError, PollItem, PollReport, RecoverRequest, ResultsRequest};
use crate::edits::options::parse_options;
use crate::edits::JobSpec;
use crate::slurm::exit_wrapper::{self, ExitFile};
use crate::slurm::{Backoff, JobRef, Slurm, SlurmError};
use crate::ssh::{quote, SshHost};
use crate::track::model::{Attempt, JobHandle, Remote};
use anyhow::{anyhow, Context};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a submission keeps being retried through an unreachable controller.
const SUBMIT_GIVE_UP: Duration = Duration::from_secs(1800);
/// Bytes of each remote log brought back for the diagnosis (it reads a tail window anyway).
const REMOTE_LOG_TAIL: u64 = 4 << 20;
/// Result files larger than this are left on the cluster.
const REMOTE_RESULT_MAX: u64 = 64 << 20;

pub struct SlurmBackend {
    slurm: Slurm,
    remote: Option<(Remote, SshHost)>,
    /// Delay between retries of a submission through an unreachable controller.
    submit_backoff: (Duration, Duration),
}

impl SlurmBackend {
    pub fn here(slurm: Slurm) -> SlurmBackend {
        SlurmBackend {
            slurm,
            remote: None,
            submit_backoff: (Duration::from_secs(2), Duration::from_secs(120)),
        }
    }

    pub fn over_ssh(remote: Remote) -> anyhow::Result<SlurmBackend> {
        let host = SshHost::new(&remote.host)?;
        Ok(SlurmBackend {
            slurm: Slurm::over_ssh(host.clone()),
            remote: Some((remote, host)),
            submit_backoff: (Duration::from_secs(2), Duration::from_secs(120)),
        })
    }

    pub fn slurm(&self) -> &Slurm {
        &self.slurm
    }

    fn remote(&self) -> Option<&Remote> {
        self.remote.as_ref().map(|(r, _)| r)
    }

    /// A path here as the job sees it: itself, or its counterpart in the remote checkout.
    fn job_path(&self, root: &Path, local: &Path) -> String {
        match self.remote() {
            Some(r) => r.path_for(root, local),
            None => local.to_string_lossy().into_owned(),
        }
    }

    /// Writes a file where the job can read it.
    async fn put(&self, root: &Path, local: &Path, text: &str, mode: u32) -> anyhow::Result<()> {
        match &self.remote {
            Some((remote, host)) => host
                .write_file(&remote.path_for(root, local), text.as_bytes(), mode)
                .await
                .map_err(|e| anyhow!(e)),
            None => {
                if let Some(dir) = local.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                crate::atomic_file::write_with_mode(local, text.as_bytes(), Some(mode))
                    .with_context(|| format!("cannot write {}", local.display()))
            }
        }
    }

    /// The sbatch arguments of this attempt: the script replaced by its wrapper (and the copy
    /// of the script beside it), the marker and, when the user set none, the script's own name
    /// as the job name (what sbatch would have used).
    async fn prepare(&self, req: &LaunchRequest) -> anyhow::Result<(Vec<String>, Option<String>)> {
        let mut args = req.args.clone();
        let (found, _) = parse_options(&args);
        let script_at = crate::track::spec::script_index(&args, &req.cwd);
        let Some(JobSpec::Slurm {
            script_text,
            script_rel,
            ..
        }) = &req.spec
        else {
            return Ok((args, None));
        };
        let in_script = crate::edits::options::script_options(script_text);
        let user_set = |long: &str| {
            found.iter().any(|f| f.name == long) || in_script.iter().any(|o| o.found.name == long)
        };
        let mut extra = Vec::new();
        if !req.depends_on.is_empty() {
            extra.push(format!("--dependency=afterok:{}", req.depends_on.join(":")));
        }
        if !user_set("comment") {
            extra.push(format!("--comment={}", req.marker));
        }
        let Some(at) = script_at.filter(|_| !script_rel.as_os_str().is_empty()) else {
            // `--wrap`: nothing to wrap; polling alone notices the end.
            args.splice(0..0, extra);
            return Ok((args, None));
        };
        if !user_set("job-name") {
            if let Some(name) = script_rel.file_name() {
                extra.push(format!("--job-name={}", name.to_string_lossy()));
            }
        }
        let n = req.attempt;
        let job_copy = req.track_dir.join(format!("attempt-{n}.sh"));
        let job_copy_seen = self.job_path(&req.root, &job_copy);
        self.put(&req.root, &job_copy, script_text, 0o755).await?;
        args.splice(0..0, extra.iter().cloned());
        let at = at + extra.len();
        if !req.wrap {
            args[at] = job_copy_seen;
            return Ok((args, None));
        }
        let wrapper = req.track_dir.join(format!("attempt-{n}.wrapper.sh"));
        let exit_dir = self.job_path(&req.root, &req.track_dir.join("exits"));
        let wrapped = exit_wrapper::wrap(script_text, &job_copy_seen, &exit_dir);
        self.put(&req.root, &wrapper, &wrapped, 0o755).await?;
        args[at] = self.job_path(&req.root, &wrapper);
        Ok((args, Some(exit_dir)))
    }

    fn handle(&self, id: &str, submitted_after: Option<i64>, name: Option<String>) -> JobHandle {
        JobHandle::Slurm {
            id: id.to_string(),
            submitted_after,
            name,
            remote: self.remote().cloned(),
            run_id: None,
        }
    }

    /// The job's details right after submission: its name and log files.
    async fn launched(
        &self,
        id: &str,
        submitted_after: i64,
        exit_dir: Option<String>,
        event: &'static str,
        message: String,
    ) -> Launched {
        let details = self.slurm.job_details(id).await.unwrap_or_default();
        let name = details.first().and_then(|d| d.name.clone());
        Launched {
            job: self.handle(id, Some(submitted_after), name),
            log_paths: crate::slurm::log_paths(&details),
            exit_dir,
            message,
            event,
        }
    }

    /// The markers a submission of `req` carries.
    fn markers(&self, req: &LaunchRequest) -> Vec<String> {
        let wrapper = req
            .track_dir
            .join(format!("attempt-{}.wrapper.sh", req.attempt));
        vec![req.marker.clone(), self.job_path(&req.root, &wrapper)]
    }

    /// Looks for the job a lost reply may have submitted, asking again through outages.
    async fn look_for(
        &self,
        req: &LaunchRequest,
        since: i64,
        started: Instant,
    ) -> Result<Option<String>, LaunchError> {
        let mut backoff = Backoff::new(self.submit_backoff.0, self.submit_backoff.1);
        loop {
            match self.slurm.find_marked(&self.markers(req), since).await {
                Ok(found) => return Ok(found),
                Err(e) if e.is_transient() && started.elapsed() < SUBMIT_GIVE_UP => {
                    tracing::warn!("cannot tell whether the job was submitted: {e}; asking again");
                    tokio::time::sleep(backoff.next_delay()).await;
                }
                Err(e) => {
                    return Err(LaunchError::Other(anyhow!(
                        "sbatch's reply was lost and the scheduler cannot say whether the job was submitted: {e}; not submitting again (run `trackit resume` later)"
                    )))
                }
            }
        }
    }
}

impl Backend for SlurmBackend {
    fn key(&self) -> BackendKey {
        BackendKey::Slurm(self.remote().map(|r| r.host.clone()))
    }

    fn launch<'a>(
        &'a self,
        req: &'a LaunchRequest,
    ) -> BoxFuture<'a, Result<Launched, LaunchError>> {
        Box::pin(async move {
            let (args, exit_dir) = self.prepare(req).await?;
            let cwd = match self.remote() {
                Some(r) => PathBuf::from(r.path_for(&req.root, &req.cwd)),
                None => req.cwd.clone(),
            };
            let started = Instant::now();
            let since = chrono::Utc::now().timestamp();
            let mut backoff = Backoff::new(self.submit_backoff.0, self.submit_backoff.1);
            loop {
                match self.slurm.submit(&args, &cwd, &[]).await {
                    Ok(s) => {
                        let where_ = self
                            .remote()
                            .map(|r| format!(" on {}", r.host))
                            .unwrap_or_default();
                        let msg = format!("submitted job {}{where_}", s.job_id);
                        return Ok(self
                            .launched(&s.job_id, s.submitted_at, exit_dir, "submitted", msg)
                            .await);
                    }
                    Err(SlurmError::Refused(stderr)) => {
                        return Err(LaunchError::Refused(format!(
                            "sbatch refused the job: {}",
                            stderr.trim()
                        )))
                    }
                    Err(e) if e.is_transient() && started.elapsed() < SUBMIT_GIVE_UP => {
                        // The job may be in: a reply lost on the way back. Never submit twice.
                        if let Some(id) = self.look_for(req, since, started).await? {
                            let msg = format!(
                                "sbatch's reply was lost ({e}), but job {id} carries this attempt's marker: adopted, not resubmitted"
                            );
                            return Ok(self.launched(&id, since, exit_dir, "recovered", msg).await);
                        }
                        let delay = backoff.next_delay();
                        tracing::warn!("sbatch: {e}; retrying in {}s", delay.as_secs());
                        tokio::time::sleep(delay).await;
                    }
                    Err(e) => return Err(LaunchError::Other(e.into())),
                }
            }
        })
    }

    fn poll<'a>(&'a self, jobs: &'a [PollItem]) -> BoxFuture<'a, Result<PollReport, PollError>> {
        Box::pin(async move {
            let refs: Vec<JobRef> = jobs
                .iter()
                .filter_map(|j| match &j.handle {
                    JobHandle::Slurm {
                        id,
                        submitted_after,
                        name,
                        ..
                    } => {
                        let mut r = JobRef::new(id.clone());
                        r.submitted_after = *submitted_after;
                        r.name = name.clone();
                        Some(r)
                    }
                    _ => None,
                })
                .collect();
            let poll = self.slurm.poll(&refs).await.map_err(|e| {
                if e.is_transient() {
                    PollError::Transient(e.to_string())
                } else {
                    PollError::Other(e.to_string())
                }
            })?;
            let mut report = PollReport::default();
            for r in &refs {
                let tasks: Vec<_> = poll.for_job(&r.id).cloned().collect();
                if !tasks.is_empty() {
                    report.updates.push((
                        r.id.clone(),
                        JobUpdate {
                            tasks,
                            ..Default::default()
                        },
                    ));
                } else if poll.missing.contains(&r.id) {
                    report.missing.push(r.id.clone());
                }
            }
            Ok(report)
        })
    }

    fn cancel<'a>(&'a self, job: &'a JobHandle) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            if let JobHandle::Slurm { id, .. } = job {
                self.slurm
                    .cancel(std::slice::from_ref(id))
                    .await
                    .map_err(|e| anyhow!("scancel {id}: {e}"))?;
            }
            Ok(())
        })
    }

    fn fetch_logs<'a>(
        &'a self,
        attempt: &'a Attempt,
        dest: &'a Path,
    ) -> BoxFuture<'a, anyhow::Result<Vec<PathBuf>>> {
        Box::pin(async move {
            let Some((_, host)) = &self.remote else {
                return Ok(attempt.log_paths.clone());
            };
            std::fs::create_dir_all(dest)?;
            let mut local = Vec::new();
            for p in &attempt.log_paths {
                let script = format!("tail -c {REMOTE_LOG_TAIL} {}", quote(&p.to_string_lossy()));
                let out = host.run(&script, None).await?;
                if !out.success() {
                    tracing::warn!(
                        "cannot read {} on {}: {}",
                        p.display(),
                        host.host(),
                        out.stderr
                    );
                    continue;
                }
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "job.log".into());
                let copy = dest.join(name);
                std::fs::write(&copy, &out.stdout)?;
                local.push(copy);
            }
            Ok(local)
        })
    }

    fn fetch_results<'a>(
        &'a self,
        job: &'a JobHandle,
        req: &'a ResultsRequest,
    ) -> BoxFuture<'a, anyhow::Result<Option<PathBuf>>> {
        Box::pin(async move {
            let _ = job;
            let Some((remote, host)) = &self.remote else {
                return Ok(None);
            };
            let cwd = remote.path_for(&req.root, &req.cwd);
            let dest = req
                .track_dir
                .join(format!("attempt-{}", req.attempt))
                .join("results");
            std::fs::create_dir_all(&dest)?;
            // Files the job wrote since it was launched (or the results spec), never trackit's
            // own folder or git's, none larger than the cap: listed and packed on the host.
            let newer = req
                .since
                .map(|t| format!(" -newermt @{}", t - 2))
                .unwrap_or_default();
            let select = match &req.spec {
                Some(spec) => format!(
                    "for p in {spec}; do [ -e \"$p\" ] && find \"$p\" -type f -size -{max}c; done",
                    spec = spec_words(spec),
                    max = REMOTE_RESULT_MAX
                ),
                None => format!(
                    "find . \\( -name .git -o -name .trackit \\) -prune -o -type f{newer} -size -{max}c -print",
                    max = REMOTE_RESULT_MAX
                ),
            };
            let script = format!(
                "cd {} && {{ {select}; }} | head -n 2000 | tar -cf - -T - 2>/dev/null; true",
                quote(&cwd)
            );
            let out = host.run(&script, None).await?;
            if out.stdout.is_empty() {
                return Ok(Some(dest));
            }
            let mut untar = std::process::Command::new("tar")
                .arg("-xf")
                .arg("-")
                .arg("-C")
                .arg(&dest)
                .stdin(std::process::Stdio::piped())
                .spawn()
                .context("cannot run tar to unpack the results")?;
            {
                use std::io::Write;
                let mut stdin = untar.stdin.take().expect("piped stdin");
                stdin.write_all(&out.stdout)?;
            }
            let status = untar.wait()?;
            if !status.success() {
                anyhow::bail!(
                    "tar could not unpack the results fetched from {}",
                    host.host()
                );
            }
            Ok(Some(dest))
        })
    }

    fn recover<'a>(
        &'a self,
        req: &'a RecoverRequest,
    ) -> BoxFuture<'a, anyhow::Result<Option<Launched>>> {
        Box::pin(async move {
            let found = self
                .slurm
                .find_marked(&self.markers(&req.launch), req.since)
                .await
                .map_err(|e| {
                    anyhow!("cannot ask the scheduler about the interrupted submission: {e}")
                })?;
            let Some(id) = found.filter(|id| !req.known.contains(id)) else {
                return Ok(None);
            };
            let exit_dir = matches!(&req.launch.spec, Some(JobSpec::Slurm { script_rel, .. }) if !script_rel.as_os_str().is_empty())
                .then(|| self.job_path(&req.launch.root, &req.launch.track_dir.join("exits")));
            let msg = format!(
                "attempt {}: found job {id} submitted before the tracker stopped",
                req.launch.attempt
            );
            Ok(Some(
                self.launched(&id, req.since, exit_dir, "recovered", msg)
                    .await,
            ))
        })
    }

    fn finalize<'a>(&'a self, attempt: &'a mut Attempt) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let refs: Vec<JobRef> = match &attempt.job {
                Some(JobHandle::Slurm {
                    id,
                    submitted_after,
                    ..
                }) => {
                    let mut r = JobRef::new(id.clone());
                    r.submitted_after = *submitted_after;
                    vec![r]
                }
                _ => return,
            };
            // sacct lags behind the job's end by a few seconds.
            for _ in 0..5 {
                match self.slurm.accounting(&refs).await {
                    Ok(rows) if !rows.is_empty() && rows.iter().all(|r| r.is_final()) => {
                        for acct in rows {
                            let info = acct.to_job_info();
                            if let Some(task) = attempt.tasks.iter_mut().find(|t| t.id == info.id) {
                                task.max_rss_bytes = info.max_rss_bytes.or(task.max_rss_bytes);
                                task.req_mem_bytes = task.req_mem_bytes.or(info.req_mem_bytes);
                                task.cpu_time_s = info.cpu_time_s.or(task.cpu_time_s);
                                task.elapsed_s = task.elapsed_s.or(info.elapsed_s);
                                task.node_list = task.node_list.clone().or(info.node_list.clone());
                                if task.reason.is_none() {
                                    task.reason = info.reason.clone();
                                }
                            }
                        }
                        return;
                    }
                    Err(SlurmError::AccountingDisabled) => return,
                    _ => tokio::time::sleep(Duration::from_secs(1)).await,
                }
            }
        })
    }

    fn exit_files<'a>(&'a self, dirs: &'a [String]) -> BoxFuture<'a, Vec<ExitFile>> {
        Box::pin(async move {
            match &self.remote {
                None => dirs
                    .iter()
                    .flat_map(|d| exit_wrapper::read_local(Path::new(d)))
                    .collect(),
                Some((_, host)) => {
                    let script = dirs
                        .iter()
                        .map(|d| exit_wrapper::remote_listing_command(d))
                        .collect::<Vec<_>>()
                        .join("; ");
                    match host.run(&format!("{{ {script}; }}"), None).await {
                        Ok(out) if out.success() => exit_wrapper::parse_listing(&out.stdout_text()),
                        _ => Vec::new(), // a dropped connection: the next look, or the poll, will tell
                    }
                }
            }
        })
    }

    fn exit_check_every(&self) -> Option<Duration> {
        Some(if self.remote.is_some() {
            Duration::from_secs(10)
        } else {
            Duration::from_secs(3)
        })
    }
}

/// A results spec as shell words for the remote `for` loop: globs stay unquoted so the remote
/// shell expands them; anything else is quoted.
fn spec_words(spec: &str) -> String {
    spec.split_whitespace()
        .map(|w| {
            if w.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./*?[]".contains(&b))
            {
                w.to_string()
            } else {
                quote(w)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
