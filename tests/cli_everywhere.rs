//! Installed once, used everywhere: the shipped policies by name, the user config under
//! XDG_CONFIG_HOME, and the track index under XDG_STATE_HOME that lets list, status, logs,
//! resume and cancel work from any directory.

use crate::helper::assert_exit;
use crate::helper::{isolate, stderr, stdout, trackit_bin, write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// One user: a home for the config and the index, shared by the folders below it.
struct User {
    home: tempfile::TempDir,
}

impl User {
    fn new() -> User {
        User {
            home: tempfile::Builder::new()
                .prefix("trackit-user-")
                .tempdir_in("/tmp")
                .unwrap(),
        }
    }

    fn dir(&self, name: &str) -> PathBuf {
        let d = self.home.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn config(&self, text: &str) -> PathBuf {
        write(self.home.path(), ".xdg/config/trackit/config.toml", text)
    }

    fn cmd(&self, cwd: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(trackit_bin());
        isolate(&mut c, self.home.path());
        c.args(args)
            .current_dir(cwd)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG");
        c
    }

    fn run(&self, cwd: &Path, args: &[&str]) -> Output {
        self.cmd(cwd, args).output().unwrap()
    }

    fn json(&self, cwd: &Path, args: &[&str]) -> serde_json::Value {
        let out = self.run(cwd, args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", stdout(&out)))
    }
}

fn sherlock_log(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/examples/sherlock/no-gpu.out");
    let dst = dir.join("no-gpu.out");
    std::fs::copy(src, &dst).unwrap();
    dst
}

fn kind(user: &User, cwd: &Path, args: &[&str]) -> String {
    user.json(cwd, args)["kind"].as_str().unwrap().to_string()
}

#[test]
fn shipped_policies_by_name_and_through_trackit_policy() {
    let user = User::new();
    let dir = user.dir("work");
    let log = sherlock_log(&dir);
    let l = log.to_str().unwrap();
    let default = kind(&user, &dir, &["diagnose", "--json", l]);
    assert_ne!(default, "no_gpu", "only Sherlock's policy knows this kind");
    assert_eq!(
        kind(
            &user,
            &dir,
            &["diagnose", "--json", "--policy", "sherlock", l]
        ),
        "no_gpu"
    );
    let out = user
        .cmd(&dir, &["diagnose", "--json", l])
        .env("TRACKIT_POLICY", "sherlock")
        .output()
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["kind"],
        "no_gpu",
        "{}",
        stderr(&out)
    );
    // --policy wins over TRACKIT_POLICY.
    let out = user
        .cmd(&dir, &["diagnose", "--json", "--policy", "default", l])
        .env("TRACKIT_POLICY", "sherlock")
        .output()
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["kind"],
        default.as_str()
    );
    // The other shipped names load; a misspelled one is a usage error with a suggestion.
    for name in ["generic-slurm", "local", "default"] {
        let out = user.run(&dir, &["diagnose", "--policy", name, l]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
    }
    let out = user.run(&dir, &["diagnose", "--policy", "sherlok", l]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean 'sherlock'?"),
        "{}",
        stderr(&out)
    );
    // A track records the policy by name, and loads it again from anywhere.
    let out = user.run(
        &dir,
        &[
            "--no-git",
            "--max-attempts",
            "1",
            "--policy",
            "local",
            "run",
            "sh",
            "-c",
            "exit 3",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let t = &user.json(&dir, &["list", "--json"])[0];
    let id = t["id"].as_str().unwrap();
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(".trackit/tracks").join(id).join("state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(state["state"]["policy"], "builtin:local");
    assert_eq!(state["state"]["policy_errors"], serde_json::json!([]));
    let out = user.run(&user.dir("elsewhere"), &["resume", "--dry-run", id]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("nothing was submitted"),
        "{}",
        stdout(&out)
    );
    // A repository policy extends a shipped one without a copy of trackit's source.
    std::fs::create_dir(dir.join(".git")).unwrap();
    write(
        &dir,
        ".trackit/policy.lua",
        "local sherlock = require('trackit.policies.sherlock')\nreturn trackit.extend(sherlock, { settings = { max_attempts = 2 } })\n",
    );
    // A repository policy runs once its owner trusts it.
    assert_eq!(kind(&user, &dir, &["diagnose", "--json", l]), "user_code");
    let out = user.run(&dir, &["policy", "trust"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(kind(&user, &dir, &["diagnose", "--json", l]), "no_gpu");
}

#[test]
fn the_user_config_sets_the_default_policy_and_is_shown() {
    let user = User::new();
    let dir = user.dir("anywhere");
    let log = sherlock_log(&dir);
    let l = log.to_str().unwrap();
    user.config(
        "# my cluster\npolicy = \"sherlock\"\n\n[cluster]\nhost = \"login.sherlock.stanford.edu\"\nremote_dir = \"~/code\"\n\n[github]\npr = false\n",
    );
    assert_eq!(kind(&user, &dir, &["diagnose", "--json", l]), "no_gpu");
    // The repository's own policy wins over the user's default, and --policy over both.
    let repo = user.dir("repo");
    std::fs::create_dir(repo.join(".git")).unwrap();
    write(
        &repo,
        ".trackit/policy.lua",
        "return trackit.extend(require('trackit.default'), {})\n",
    );
    assert_ne!(kind(&user, &repo, &["diagnose", "--json", l]), "no_gpu");
    assert_eq!(
        kind(
            &user,
            &repo,
            &["diagnose", "--json", "--policy", "sherlock", l]
        ),
        "no_gpu"
    );

    let v = user.json(&dir, &["config", "--json"]);
    assert_eq!(
        v["config"]["cluster"]["host"],
        "login.sherlock.stanford.edu"
    );
    assert_eq!(v["config"]["cluster"]["remote_dir"], "~/code");
    assert_eq!(v["config"]["github"]["pr"], false);
    assert_eq!(v["config_file_exists"], true);
    let out = user.run(&dir, &["config"]);
    assert!(
        stdout(&out).contains("cluster.host: login.sherlock.stanford.edu"),
        "{}",
        stdout(&out)
    );

    // github.pr = false: tracks never open a pull request.
    let out = user.run(&dir, &["--no-git", "run", "true"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let t = &user.json(&dir, &["list", "--json"])[0];
    let id = t["id"].as_str().unwrap();
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(".trackit/tracks").join(id).join("state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(state["state"]["publish_opts"]["no_pr"], true);
}

#[test]
fn a_broken_config_stops_trackit_with_the_line_and_a_suggestion() {
    let user = User::new();
    let dir = user.dir("work");
    let log = write(&dir, "job.log", "hello\n");
    user.config("[cluster]\nhots = \"login\"\n");
    let out = user.run(&dir, &["diagnose", log.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains("config.toml: line 2: unknown key `hots`"),
        "{err}"
    );
    assert!(err.contains("did you mean `host`?"), "{err}");
    user.config("policy = \"sherlok\"\n");
    let out = user.run(&dir, &["diagnose", log.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("did you mean 'sherlock'?"),
        "{}",
        stderr(&out)
    );
    user.config("policy = [\n");
    let out = user.run(&dir, &["diagnose", log.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    // man and completions need no config.
    assert_eq!(
        user.run(&dir, &["completions", "bash"]).status.code(),
        Some(0)
    );
}

#[test]
fn tracks_are_found_from_any_directory() {
    let user = User::new();
    let repo = user.dir("project");
    let elsewhere = user.dir("elsewhere");
    let out = user.run(
        &repo,
        &[
            "--no-git",
            "--experiment",
            "first",
            "run",
            "sh",
            "-c",
            "echo one",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = user.run(
        &repo,
        &[
            "--no-git",
            "--experiment",
            "second",
            "run",
            "sh",
            "-c",
            "echo two; echo err >&2",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // list, from a folder with no tracks of its own.
    let all = user.json(&elsewhere, &["list", "--json"]);
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{all}");
    assert!(
        ids[0].ends_with("-first") && ids[1].ends_with("-second"),
        "{ids:?}"
    );
    assert_eq!(all[0]["root"], repo.to_str().unwrap());
    let out = user.run(&elsewhere, &["list"]);
    assert!(stdout(&out).contains("REPOSITORY"), "{}", stdout(&out));

    // status, logs, resume, cancel by experiment name or id.
    assert_eq!(
        user.json(&elsewhere, &["status", "first", "--json"])["status"],
        "COMPLETED"
    );
    let out = user.run(&elsewhere, &["logs", "first"]);
    assert_eq!(stdout(&out), "one\n", "{}", stderr(&out));
    // No id: the latest track.
    let out = user.run(&elsewhere, &["logs"]);
    assert_eq!(stdout(&out), "two\nerr\n", "{}", stderr(&out));
    let out = user.run(&elsewhere, &["logs", "--attempt", "1", ids[0]]);
    assert_eq!(stdout(&out), "one\n");
    let out = user.run(&elsewhere, &["logs", "--attempt", "2", ids[0]]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("has no attempt 2"),
        "{}",
        stderr(&out)
    );
    let out = user.run(&elsewhere, &["resume", "second"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("already finished"),
        "{}",
        stderr(&out)
    );
    let out = user.run(&elsewhere, &["cancel", "second"]);
    assert!(
        stdout(&out).contains("already finished"),
        "{}",
        stdout(&out)
    );

    // The repository moves: the track is listed as missing, with where it was...
    let moved = user.home.path().join("project-renamed");
    std::fs::rename(&repo, &moved).unwrap();
    let all = user.json(&elsewhere, &["list", "--json"]);
    assert_eq!(all[0]["status"], "MISSING", "{all}");
    assert!(
        all[0]["missing"]
            .as_str()
            .unwrap()
            .contains("moved or deleted"),
        "{all}"
    );
    let out = user.run(&elsewhere, &["list"]);
    assert!(stdout(&out).contains("MISSING"), "{}", stdout(&out));
    let out = user.run(&elsewhere, &["logs", "first"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("moved or deleted"),
        "{}",
        stderr(&out)
    );
    // ...and found again once trackit runs inside it.
    user.run(&moved, &["list"]);
    let all = user.json(&elsewhere, &["list", "--json"]);
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
    assert_eq!(all[0]["status"], "COMPLETED", "{all}");
    assert_eq!(all[0]["root"], moved.to_str().unwrap());
    let out = user.run(&elsewhere, &["logs", "first"]);
    assert_eq!(stdout(&out), "one\n", "{}", stderr(&out));
}

#[test]
fn a_running_track_is_cancelled_from_elsewhere() {
    let user = User::new();
    let repo = user.dir("project");
    let elsewhere = user.dir("elsewhere");
    let out = user.run(&repo, &["--no-git", "--detach", "run", "sleep", "300"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let id = stdout(&out).trim().to_string();
    assert!(
        crate::helper::wait_for(std::time::Duration::from_secs(30), || {
            user.json(&elsewhere, &["status", &id, "--json"])["status"] == "RUNNING"
        }),
        "the job did not start"
    );
    let active = user.json(&elsewhere, &["status", "--json"]);
    assert_eq!(active.as_array().unwrap().len(), 1, "{active}");
    let out = user.run(&elsewhere, &["cancel", &id]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        crate::helper::wait_for(std::time::Duration::from_secs(30), || {
            user.json(&elsewhere, &["status", &id, "--json"])["status"] == "CANCELLED"
        }),
        "the track did not end"
    );
}

/// `trackit logs -f` follows the running attempt from anywhere and ends with it.
#[test]
fn logs_follow_the_running_attempt_to_its_end() {
    let user = User::new();
    let repo = user.dir("project");
    let out = user.run(
        &repo,
        &[
            "--no-git",
            "--detach",
            "run",
            "sh",
            "-c",
            "for i in 1 2 3; do echo line $i; sleep 1; done",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let id = stdout(&out).trim().to_string();
    assert!(
        crate::helper::wait_for(std::time::Duration::from_secs(30), || {
            user.json(&repo, &["status", &id, "--json"])["status"] == "RUNNING"
        }),
        "the job did not start"
    );
    let start = std::time::Instant::now();
    let out = user.run(&user.dir("elsewhere"), &["logs", "-f"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "line 1\nline 2\nline 3\n");
    assert!(
        start.elapsed() < std::time::Duration::from_secs(60),
        "-f ends with the track"
    );
}

/// `trackit logs` shows every log file of a SLURM attempt (stdout and stderr apart), each under
/// its name.
#[test]
fn logs_show_all_of_a_jobs_files() {
    if !crate::helper::require_cluster() {
        return;
    }
    let _c = crate::helper::cluster_shared();
    let user = User::new();
    let dir = user.dir("slurm");
    write(
        &dir,
        "fast.lua",
        "return trackit.extend(require('trackit.default'), { settings = { poll = { first_s = 1, growth = 1.5, max_s = 3, min_s = 0.5 } } })\n",
    );
    write(
        &dir,
        "two.sh",
        &format!(
            "#!/bin/bash\n#SBATCH --output={d}/two-%j.out\n#SBATCH --error={d}/two-%j.err\necho to-stdout\necho to-stderr >&2\n",
            d = dir.display()
        ),
    );
    let policy = dir.join("fast.lua");
    let out = user.run(
        &dir,
        &[
            "sbatch",
            "--no-git",
            "--policy",
            policy.to_str().unwrap(),
            "two.sh",
        ],
    );
    assert_exit(&out, 0);
    let out = user.run(&user.dir("elsewhere"), &["logs"]);
    let text = stdout(&out);
    let out_pos = text.find(".out <==\nto-stdout\n");
    let err_pos = text.find(".err <==\nto-stderr\n");
    assert!(
        out_pos.is_some() && err_pos.is_some(),
        "{text}{}",
        stderr(&out)
    );
}
