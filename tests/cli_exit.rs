//! Exit statuses like gh's (0 success, 1 the job failed, 2 usage, 3 trackit could not do its
//! job, 130 interrupted), the man page that documents them, quiet ends on a closed pipe, one
//! error prefix, and the warnings about a policy's settings.

use crate::helper::{isolate, stderr, stdout, trackit, trackit_bin, wait_for, write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn run_in(dir: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(trackit_bin());
    isolate(&mut c, dir);
    c.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

#[test]
fn zero_one_two_three() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(
        run_in(d, &["--no-git", "run", "true"]).status.code(),
        Some(0)
    );
    let out = run_in(d, &["--no-git", "run", "false"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the job failed: {}",
        stderr(&out)
    );
    for usage in [
        vec!["--no-such-flag", "list"],
        vec!["frobnicate"],
        vec!["run", "sh", "x.sh", "--no-pr"],
        vec!["logs", "no-such-track"],
        vec!["diagnose", "--state", "EXPLODED", "x.log"],
        vec!["--policy", "nonesuch", "list"],
        vec!["attach", "pid:abc"],
        vec!["dispatch", "wf.yml", "-f", "novalue"],
    ] {
        let out = run_in(d, &usage);
        assert_eq!(out.status.code(), Some(2), "{usage:?}: {}", stderr(&out));
    }
    write(d, ".xdg/config/trackit/config.toml", "polcy = 1\n");
    let out = run_in(d, &["list"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "a broken config: {}",
        stderr(&out)
    );
    std::fs::remove_file(d.join(".xdg/config/trackit/config.toml")).unwrap();
    let out = run_in(d, &["diagnose", "missing.log"]);
    assert_eq!(out.status.code(), Some(3), "an unreadable log");
}

#[test]
fn interrupted_is_130_and_the_job_keeps_running() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut c = Command::new(trackit_bin());
    isolate(&mut c, d);
    let child = c
        .args(["--no-git", "run", "sleep", "300"])
        .current_dir(d)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = |d: &Path| -> serde_json::Value {
        serde_json::from_slice(&run_in(d, &["list", "--json"]).stdout).unwrap_or_default()
    };
    assert!(
        wait_for(Duration::from_secs(30), || status(d)[0]["status"]
            == "RUNNING"),
        "the job did not start"
    );
    // The tracker installs its Ctrl-C handler as it enters its watch loop, right after
    // recording the job: give it a moment (before that, SIGINT's default action ends it, which
    // a shell also reports as 130).
    std::thread::sleep(Duration::from_secs(1));
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{:?}: {}",
        out.status,
        stderr(&out)
    );
    assert!(stderr(&out).contains("trackit resume"), "{}", stderr(&out));
    let t = status(d);
    assert_eq!(
        t[0]["status"], "RUNNING",
        "the job outlives its tracker: {t}"
    );
    let id = t[0]["id"].as_str().unwrap().to_string();
    assert_eq!(run_in(d, &["cancel", &id]).status.code(), Some(0));
}

#[test]
fn man_page_documents_exit_status_environment_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = trackit(&["man"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let man = stdout(&out);
    for section in [".SH \"EXIT STATUS\"", ".SH ENVIRONMENT", ".SH FILES"] {
        assert!(man.contains(section), "no {section}");
    }
    for code in ["0", "1", "2", "3", "130"] {
        assert!(
            man.contains(&format!(".TP\n.B {code}\n")),
            "exit {code} undocumented"
        );
    }
    for file in ["config.toml", "index.json", ".trackit/tracks"] {
        assert!(man.contains(file), "{file} undocumented");
    }
    // Every variable the source reads is documented: std::env::var("X"), and the names of the
    // GitHub, XDG and trackit variables wherever they are quoted (env maps, lists of names).
    let mut read = std::collections::BTreeSet::new();
    let literal = regex::Regex::new(r#"env::var(?:_os)?\(\s*"([A-Z][A-Z0-9_]{2,})""#).unwrap();
    let listed = regex::Regex::new(r#""((?:GH|GITHUB|XDG|TRACKIT)_[A-Z_]+)""#).unwrap();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                let code = text.split("#[cfg(test)]").next().unwrap();
                for c in literal
                    .captures_iter(code)
                    .chain(listed.captures_iter(code))
                {
                    read.insert(c[1].to_string());
                }
            }
        }
    }
    assert!(
        read.contains("GH_TOKEN") && read.contains("XDG_STATE_HOME"),
        "{read:?}"
    );
    let environment = man
        .split(".SH ENVIRONMENT")
        .nth(1)
        .unwrap()
        .split(".SH FILES")
        .next()
        .unwrap();
    let missing: Vec<&String> = read
        .iter()
        .filter(|v| !environment.contains(v.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "read but not in ENVIRONMENT: {missing:?}"
    );
}

/// Writes into a pipe whose reader is already gone, as `| head -1` leaves it.
fn into_closed_pipe(args: &[&str]) -> std::process::ExitStatus {
    let dir = tempfile::tempdir().unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut c = Command::new(trackit_bin());
    isolate(&mut c, dir.path());
    let out = c
        .args(args)
        .current_dir(dir.path())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    assert!(err.is_empty(), "{args:?}: {err}");
    out.status
}

#[test]
fn a_closed_pipe_ends_quietly() {
    use std::os::unix::process::ExitStatusExt;
    for args in [
        &["completions", "zsh"][..],
        &["man"],
        &["list"],
        &["diagnose", "--help"],
    ] {
        let status = into_closed_pipe(args);
        assert!(
            status.success() || status.signal() == Some(libc::SIGPIPE),
            "{args:?}: {status:?}"
        );
    }
    // And through a real shell pipeline.
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .args([
            "-c",
            &format!(
                "set -o pipefail; {} completions zsh | head -1",
                trackit_bin().display()
            ),
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "#compdef trackit\n");
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[test]
fn one_prefix_and_each_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["diagnose", "missing.log"]);
    assert_eq!(
        stderr(&out),
        "trackit: error: cannot read log missing.log: No such file or directory (os error 2)\n"
    );
    let out = run_in(dir.path(), &["--bogus"]);
    let err = stderr(&out);
    assert!(
        err.starts_with("trackit: error: unexpected argument '--bogus'"),
        "{err}"
    );
    assert_eq!(err.matches("error:").count(), 1, "{err}");
    let out = run_in(dir.path(), &["diagnose", "--exit-code", "x:y", "a.log"]);
    let err = stderr(&out);
    assert!(err.starts_with("trackit: error: --exit-code:"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn misspelled_and_unread_policy_settings_are_pointed_out() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log = write(d, "job.log", "hello\n");
    let l = log.to_str().unwrap();
    let policy = |name: &str, body: &str| {
        write(
            d,
            name,
            &format!("return trackit.extend(require('trackit.default'), {body})\n"),
        )
    };
    // A near miss of a trackit setting: a warning with the intended name.
    let p = policy("typo.lua", "{ settings = { max_attempt = 5 } }");
    let out = run_in(d, &["diagnose", "--policy", p.to_str().unwrap(), l]);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains(
            "settings.max_attempt is not a trackit setting: did you mean settings.max_attempts?"
        ),
        "{err}"
    );
    assert_eq!(err.matches("max_attempt ").count(), 1, "warned once: {err}");
    // A key of the policy's own that nothing reads.
    let p = policy("unread.lua", "{ settings = { warmup_steps = 100 } }");
    let out = run_in(d, &["diagnose", "--policy", p.to_str().unwrap(), l]);
    assert!(
        stderr(&out).contains("settings.warmup_steps is set but nothing reads it"),
        "{}",
        stderr(&out)
    );
    // ...which is fine once the policy's code reads it.
    let p = policy(
        "read.lua",
        "{ settings = { warmup_steps = 100 }, diagnose = function(ctx) local w = ctx.settings and ctx.settings.warmup_steps end }",
    );
    let out = run_in(d, &["policy", "check", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warmup_steps"), "{}", stderr(&out));
    // A misspelled key inside a settings table is an error, with the intended name.
    let p = policy("nested.lua", "{ settings = { poll = { frist_s = 1 } } }");
    let out = run_in(d, &["diagnose", "--policy", p.to_str().unwrap(), l]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("did you mean `first_s`?"),
        "{}",
        stderr(&out)
    );
    // The shipped policies set nothing unread.
    for name in ["sherlock", "generic-slurm", "local"] {
        let out = run_in(d, &["policy", "check", name]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        assert!(stderr(&out).is_empty(), "{name}: {}", stderr(&out));
    }
}
