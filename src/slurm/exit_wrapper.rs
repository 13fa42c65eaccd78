//! The batch-script wrapper that tells trackit a job has ended, without asking the scheduler
//! (Nextflow's `.exitcode` idea).
//!
//! The wrapper keeps the job script's header (shebang, `#SBATCH` block and comments), so sbatch
//! reads the same directives; then it runs the job script itself, an unchanged copy, as a child
//! and writes the child's exit status to `EXIT_DIR/<job id>` (`<array job>_<task>` for an array
//! task) with a temp file and a rename. The tracker notices the file with a cheap stat every few
//! seconds and then confirms with one scheduler call.
//!
//! The job script runs in the background so the wrapper can pass on the signals meant for the
//! batch shell (`--signal=B:USR1@90`, `scancel -b`): a checkpoint-and-requeue trap in the job
//! script works as it would without trackit. A requeued job keeps its id, so the wrapper first
//! removes the status file an earlier run of it wrote.
//!
//! A job killed from outside (OOM kill of the whole cgroup, time limit, node failure) may never
//! write the file: the tracker's squeue/sacct polling covers those.

use std::path::Path;

/// The comment that marks a wrapper (and a test's anchor).
pub const MARK: &str = "# trackit: records this job's exit status for trackit";

/// The wrapper around `script_text`, which is saved unchanged as `job_path` (executable).
/// `exit_dir` is where the status file goes. Paths are as the job will see them.
pub fn wrap(script_text: &str, job_path: &str, exit_dir: &str) -> String {
    let lines: Vec<&str> = script_text.lines().collect();
    let header_end = crate::edits::options::first_command_line(&lines);
    let mut out = String::new();
    let has_shebang = lines.first().is_some_and(|l| l.starts_with("#!"));
    if !has_shebang {
        out.push_str("#!/bin/bash\n");
    }
    for line in &lines[..header_end] {
        out.push_str(line);
        out.push('\n');
    }
    // The wrapper itself is bash whatever the job's interpreter: replace a non-shell shebang.
    if has_shebang && !is_shell_shebang(lines[0]) {
        out.replace_range(..lines[0].len(), "#!/bin/bash");
    }
    let runner = if has_shebang { "" } else { "/bin/bash " };
    out.push_str(&format!(
        r#"{MARK}; the job script is {job}
__trackit_id="${{SLURM_ARRAY_JOB_ID:+${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}}}"
__trackit_id="${{__trackit_id:-${{SLURM_JOB_ID:-local}}}}"
# A requeued job keeps its id: the status its earlier run wrote is stale.
rm -f {dir}/$__trackit_id 2>/dev/null
# Signals meant for the batch shell (sbatch --signal=B:USR1@90, scancel -b) reach the job
# script, whose checkpoint traps expect them.
__trackit_pid=
__trackit_forward() {{ __trackit_signalled=1; [ -n "$__trackit_pid" ] && kill -s "$1" "$__trackit_pid" 2>/dev/null; }}
for __trackit_s in TERM INT HUP USR1 USR2 XCPU; do trap "__trackit_forward $__trackit_s" "$__trackit_s"; done
# A background child of a script starts with SIGINT and SIGQUIT ignored; give them back.
__trackit_env=
env --default-signal=INT,QUIT true 2>/dev/null && __trackit_env="env --default-signal=INT,QUIT"
$__trackit_env {runner}{job} "$@" <&0 &
__trackit_pid=$!
__trackit_rc=
while :; do
  __trackit_signalled=
  wait "$__trackit_pid"
  __trackit_w=$?
  # 127 after an interrupted wait: the child was already reaped and its status is kept.
  [ "$__trackit_w" = 127 ] && [ -n "$__trackit_rc" ] && break
  __trackit_rc=$__trackit_w
  # A wait cut short by a forwarded signal: the job goes on, so wait again.
  [ -z "$__trackit_signalled" ] && break
done
mkdir -p {dir} 2>/dev/null
printf '%s\n' "$__trackit_rc" > {dir}/.$__trackit_id.tmp 2>/dev/null && mv -f {dir}/.$__trackit_id.tmp {dir}/$__trackit_id 2>/dev/null
exit $__trackit_rc
"#,
        job = crate::ssh::quote(job_path),
        dir = crate::ssh::quote(exit_dir),
    ));
    out
}

fn is_shell_shebang(line: &str) -> bool {
    let l = line.trim_start_matches("#!").trim();
    [
        "/bin/bash",
        "/bin/sh",
        "/usr/bin/bash",
        "/usr/bin/env bash",
        "/usr/bin/env sh",
    ]
    .iter()
    .any(|s| l == *s || l.starts_with(&format!("{s} ")))
}

/// One exit file: the job (or `array_task`) id and the exit status it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitFile {
    pub id: String,
    pub code: Option<i32>,
}

/// Parses `name:content` lines (as `grep -H . DIR/*` or a local listing prints them).
pub fn parse_listing(text: &str) -> Vec<ExitFile> {
    text.lines()
        .filter_map(|l| {
            let (path, code) = l.rsplit_once(':')?;
            let id = Path::new(path).file_name()?.to_str()?;
            if id.starts_with('.') {
                return None;
            }
            Some(ExitFile {
                id: id.to_string(),
                code: code.trim().parse().ok(),
            })
        })
        .collect()
}

/// The exit files in a local folder.
pub fn read_local(dir: &Path) -> Vec<ExitFile> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let code = std::fs::read_to_string(e.path())
            .ok()
            .and_then(|t| t.trim().parse().ok());
        out.push(ExitFile { id: name, code });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// The shell command that lists a remote exit folder as `path:code` lines.
pub fn remote_listing_command(dir: &str) -> String {
    format!(
        "cd {} 2>/dev/null && for f in *; do [ -f \"$f\" ] && printf '%s:%s\\n' \"$f\" \"$(cat \"$f\")\"; done; true",
        crate::ssh::quote(dir)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_kept_and_the_job_runs_as_a_child() {
        let script = "#!/bin/bash\n#SBATCH --mem=1G\n# a note\n\n#SBATCH -t 10\necho hi\nexit 3\n";
        let w = wrap(script, "/t/attempt-1.job", "/t/exits");
        assert!(w.starts_with("#!/bin/bash\n#SBATCH --mem=1G\n# a note\n\n#SBATCH -t 10\n"));
        assert!(w.contains("\n$__trackit_env /t/attempt-1.job \"$@\" <&0 &\n"));
        assert!(!w.contains("echo hi"), "the body stays in the job script");
        // Every directive sbatch reads is still in the header block.
        let opts = crate::edits::options::script_options(&w);
        assert_eq!(opts.len(), 2);
    }

    #[test]
    fn other_interpreters() {
        let py = "#!/usr/bin/env python3\n#SBATCH --mem=1G\nprint(1)\n";
        let w = wrap(py, "/t/a.job", "/t/x");
        assert!(w.starts_with("#!/bin/bash\n#SBATCH --mem=1G\n"), "{w}");
        assert!(w.contains(" /t/a.job \"$@\" <&0 &"));
        let bare = "#SBATCH --mem=1G\necho\n";
        let w = wrap(bare, "/t/a.job", "/t/x");
        assert!(w.starts_with("#!/bin/bash\n#SBATCH --mem=1G\n"));
        assert!(w.contains(" /bin/bash /t/a.job \"$@\" <&0 &"));
    }

    /// Runs a wrapper with bash here (no scheduler: its id is `local`).
    fn run_wrapped(body: &str, signal: Option<&str>) -> (String, String) {
        let dir = tempfile::tempdir().unwrap();
        let job = dir.path().join("job.sh");
        std::fs::write(&job, format!("#!/bin/bash\n{body}\n")).unwrap();
        std::fs::set_permissions(&job, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let exits = dir.path().join("exits");
        std::fs::create_dir_all(&exits).unwrap();
        std::fs::write(exits.join("local"), "99\n").unwrap();
        let wrapper = dir.path().join("wrapper.sh");
        let text = wrap(
            "#!/bin/bash\n#SBATCH -t 1\n",
            job.to_str().unwrap(),
            exits.to_str().unwrap(),
        );
        std::fs::write(&wrapper, text).unwrap();
        let child = std::process::Command::new("bash")
            .arg(&wrapper)
            .env_remove("SLURM_JOB_ID")
            .env_remove("SLURM_ARRAY_JOB_ID")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(sig) = signal {
            // The job says when its trap is set; then the wrapper alone gets the signal.
            let started = dir.path().join("started");
            let t0 = std::time::Instant::now();
            while !started.exists() && t0.elapsed() < std::time::Duration::from_secs(10) {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            let pid = child.id().to_string();
            std::process::Command::new("kill")
                .args(["-s", sig, &pid])
                .status()
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        let status = std::fs::read_to_string(exits.join("local")).unwrap_or_default();
        assert_eq!(
            out.status.code().map(|c| c.to_string()),
            Some(status.trim().to_string())
        );
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            status.trim().to_string(),
        )
    }

    #[test]
    fn the_exit_status_is_written_and_a_stale_one_replaced() {
        assert_eq!(
            run_wrapped("echo hi; exit 3", None),
            ("hi\n".into(), "3".into())
        );
        assert_eq!(
            run_wrapped("no-such-command-here 2>/dev/null", None).1,
            "127"
        );
        assert_eq!(run_wrapped("true", None).1, "0");
    }

    /// `sbatch --signal=B:USR1@90` signals the batch shell only: the job script's trap must
    /// still run, and the job's own exit status is the one recorded.
    #[test]
    fn a_signal_for_the_batch_shell_reaches_the_job_script() {
        let body = "trap 'echo checkpointed; exit 7' USR1\ntouch \"$(dirname \"$0\")/started\"\nsleep 30 >/dev/null &\nwait";
        let (out, status) = run_wrapped(body, Some("USR1"));
        assert_eq!((out.as_str(), status.as_str()), ("checkpointed\n", "7"));
        // So does an interrupt, which a background child would otherwise ignore.
        let body = "trap 'echo interrupted; exit 5' INT\ntouch \"$(dirname \"$0\")/started\"\nsleep 30 >/dev/null &\nwait";
        assert_eq!(
            run_wrapped(body, Some("INT")),
            ("interrupted\n".into(), "5".into())
        );
        // A signal the job does not trap ends it as it would without the wrapper.
        let body = "touch \"$(dirname \"$0\")/started\"\nexec sleep 30";
        assert_eq!(run_wrapped(body, Some("TERM")).1, "143");
    }

    #[test]
    fn listings() {
        let l = parse_listing("/x/12:0\n/x/13_2:137\n/x/.14.tmp:1\nbad\n15:\n");
        assert_eq!(
            l,
            vec![
                ExitFile {
                    id: "12".into(),
                    code: Some(0)
                },
                ExitFile {
                    id: "13_2".into(),
                    code: Some(137)
                },
                ExitFile {
                    id: "15".into(),
                    code: None
                },
            ]
        );
    }
}
