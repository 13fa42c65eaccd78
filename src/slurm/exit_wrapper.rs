//! The batch-script wrapper that tells trackit a job has ended, without asking the scheduler
//! (Nextflow's `.exitcode` idea).
//!
//! The wrapper keeps the job script's header (shebang, `#SBATCH` block and comments), so sbatch
//! reads the same directives; then it runs the job script itself, an unchanged copy, as a child
//! and writes the child's exit status to `EXIT_DIR/<job id>` (`<array job>_<task>` for an array
//! task) with a temp file and a rename. The tracker notices the file with a cheap stat every few
//! seconds and then confirms with one scheduler call.
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
{runner}{job} "$@"
__trackit_rc=$?
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
        assert!(w.contains("\n/t/attempt-1.job \"$@\"\n"));
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
        assert!(w.contains("\n/t/a.job \"$@\""));
        let bare = "#SBATCH --mem=1G\necho\n";
        let w = wrap(bare, "/t/a.job", "/t/x");
        assert!(w.starts_with("#!/bin/bash\n#SBATCH --mem=1G\n"));
        assert!(w.contains("\n/bin/bash /t/a.job \"$@\""));
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
