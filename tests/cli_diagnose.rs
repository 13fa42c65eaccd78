//! `trackit diagnose` and `trackit policy` as a user runs them.

use crate::helper::{assert_exit, data_dir, stderr, stdout, trackit, write};

#[test]
fn text_output_has_kind_summary_and_numbered_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(
        dir.path(),
        "slurm-42.out",
        "epoch 1\nepoch 2\nslurmstepd: error: Detected 1 oom_kill event in StepId=42.batch. Some of your processes may have been killed by the cgroup out-of-memory handler.\n",
    );
    let out = trackit(&["diagnose", log.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("oom: "), "{text}");
    assert!(
        text.contains("slurm-42.out:3: slurmstepd: error: Detected 1 oom_kill event"),
        "{text}"
    );
    assert!(text.contains("fixable: yes"), "{text}");
}

#[test]
fn json_output_is_one_object_with_the_fields() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(
        dir.path(),
        "job.out",
        "ModuleNotFoundError: No module named 'yaml'\n",
    );
    let out = trackit(&["diagnose", "--json", log.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert_eq!(
        text.trim().lines().count(),
        1,
        "exactly one JSON line: {text}"
    );
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    for key in ["kind", "summary", "evidence", "captures", "fixable"] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    assert_eq!(v["kind"], "missing_dep");
    assert_eq!(v["captures"]["module"], "yaml");
    assert_eq!(v["evidence"][0]["line"], 1);
}

#[test]
fn explain_shows_matches_vetoes_and_the_choice() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(
        dir.path(),
        "build.out",
        "INFO:    Starting build...\nINFO:    Creating SIF file...\nFATAL:   While performing build: while creating squashfs: create command failed: exit status 1: Write failed because No space left on device\nKilled\n",
    );
    let l = log.to_str().unwrap();
    let out = trackit(&["diagnose", "--explain", l], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("container: "), "{text}");
    assert!(
        text.contains("explain:\n  verdict: container_build_space decided: container with the highest priority (90)"),
        "{text}"
    );
    assert!(
        text.contains(
            "  decided   container_build_space (container, priority 90, fixable)\n      "
        ),
        "{text}"
    );
    assert!(
        text.contains("build.out:3: FATAL:   While performing build"),
        "the deciding line is quoted: {text}"
    );
    assert!(
        text.contains("  agrees    container_runtime (container, priority 85, fixable)"),
        "{text}"
    );
    // The disk rule matched the same line but is vetoed by its `unless` (an image was being
    // built), and the explanation says which pattern and where.
    assert!(
        text.contains("  vetoed    disk_full (disk_quota, priority 88, fixable)"),
        "{text}"
    );
    assert!(
        text.contains("why: unless") && text.contains("matched"),
        "{text}"
    );
    // The bare Killed matched too, and lost.
    assert!(
        text.contains("  outranked killed_by_sigkill (unknown, priority 45)"),
        "{text}"
    );

    // JSON carries the same, beside the usual fields.
    let out = trackit(&["diagnose", "--json", "--explain", l], dir.path());
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["kind"], "container");
    assert_eq!(v["explain"]["rules"][0]["rule"], "container_build_space");
    assert_eq!(v["explain"]["rules"][0]["outcome"], "decided");
    let vetoed = v["explain"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["outcome"] == "vetoed")
        .unwrap();
    assert_eq!(vetoed["rule"], "disk_full");
    assert!(
        vetoed["note"].as_str().unwrap().contains("build.out:2"),
        "{vetoed}"
    );
    // Without --explain, no explanation.
    let out = trackit(&["diagnose", "--json", l], dir.path());
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert!(v.get("explain").is_none());
}

#[test]
fn explain_names_the_blocks_no_rule_read() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(
        dir.path(),
        "train.out",
        "epoch 3/3 loss 0.41\nException ignored in: <function _MultiProcessingDataLoaderIter.__del__ at 0x7f7603>\nTraceback (most recent call last):\n  File \"dataloader.py\", line 1478, in __del__\n    self._shutdown_workers()\nRuntimeError: DataLoader worker (pid(s) 4242) exited unexpectedly\nsaved checkpoint.pt\n",
    );
    let out = trackit(
        &["diagnose", "--explain", log.to_str().unwrap()],
        dir.path(),
    );
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.starts_with("none: "), "{text}");
    assert!(
        text.contains("  ignored   the block from ")
            && text.contains("train.out:2 (settings.ignored_blocks): Exception ignored in:"),
        "{text}"
    );
}

#[test]
fn scheduler_state_and_exit_code_combine_with_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.out", "");
    let run = |args: &[&str]| {
        let mut all = vec!["diagnose", "--json"];
        all.extend_from_slice(args);
        let out = trackit(&all, dir.path());
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        serde_json::from_str::<serde_json::Value>(stdout(&out).trim()).unwrap()["kind"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let e = empty.to_str().unwrap();
    assert_eq!(
        run(&["--state", "OUT_OF_MEMORY", "--exit-code", "0:125", e]),
        "oom"
    );
    assert_eq!(run(&["--state", "TIMEOUT", e]), "timeout");
    assert_eq!(
        run(&["--exit-code", "137", e]),
        "unknown",
        "exit 137 alone is not oom"
    );
    assert_eq!(
        run(&["--state", "COMPLETED", "--exit-code", "0:0", e]),
        "none"
    );
    let cancel = write(
        dir.path(),
        "c.out",
        "slurmstepd: error: *** JOB 7 ON n1 CANCELLED AT 2024-01-01T00:00:00 ***\n",
    );
    assert_eq!(
        run(&["--state", "CANCELLED", cancel.to_str().unwrap()]),
        "cancelled"
    );
    // Two logs (stdout and stderr) are read together.
    let progress = write(dir.path(), "o.out", "step 1\nstep 2\n");
    let err = write(
        dir.path(),
        "e.err",
        "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB\n",
    );
    assert_eq!(
        run(&[progress.to_str().unwrap(), err.to_str().unwrap()]),
        "oom"
    );
}

#[test]
fn exit_codes_usage_unreadable_and_broken_policy() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(dir.path(), "job.out", "hello\n");
    let l = log.to_str().unwrap();
    assert_eq!(
        trackit(&["diagnose"], dir.path()).status.code(),
        Some(2),
        "no LOG is a usage error"
    );
    let out = trackit(&["diagnose", "--state", "EXPLODED", l], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("EXPLODED"));
    assert_eq!(
        trackit(&["diagnose", "--exit-code", "x:y", l], dir.path())
            .status
            .code(),
        Some(2)
    );
    // trackit could not do its job: exit 3 (1 is for a job that failed).
    let out = trackit(&["diagnose", "/nonexistent/slurm-1.out"], dir.path());
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("/nonexistent/slurm-1.out"),
        "{}",
        stderr(&out)
    );
    let out = trackit(&["diagnose", dir.path().to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(3), "a directory is not a log");
    let bad = write(dir.path(), "bad.lua", "return {\n  rules = {\n}\n");
    let out = trackit(
        &["diagnose", "--policy", bad.to_str().unwrap(), l],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("bad.lua:4"), "{}", stderr(&out));
    // One prefix, and the cause once.
    let err = stderr(&out);
    assert!(err.starts_with("trackit: error: policy "), "{err}");
    assert_eq!(err.matches("trackit: error:").count(), 1, "{err}");
    assert_eq!(err.matches("bad.lua:4").count(), 1, "{err}");
}

#[test]
fn repository_policy_is_picked_up() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    write(
        dir.path(),
        ".trackit/policy.lua",
        "local base = require('trackit.default')\nreturn trackit.extend(base, { rules = { quota = { kind = 'disk_quota', priority = 99, patterns = { 'LAB QUOTA' } } } })\n",
    );
    crate::helper::trust_policy(dir.path());
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let log = write(&sub, "job.out", "LAB QUOTA reached\n");
    let out = trackit(&["diagnose", "--json", log.to_str().unwrap()], &sub);
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["kind"], "disk_quota", "{}", stderr(&out));
}

/// A repository policy that came with a clone does not run until trusted; once trusted it
/// runs; when it changes it stops running, and the report says what changed and how to
/// trust it. Naming it with --policy counts as trusting it.
#[test]
fn an_untrusted_repository_policy_does_not_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let policy = ".trackit/policy.lua";
    let rule = |pattern: &str| {
        format!("local base = require('trackit.default')\nreturn trackit.extend(base, {{ rules = {{ quota = {{ kind = 'disk_quota', priority = 99, patterns = {{ '{pattern}' }} }} }} }})\n")
    };
    write(dir.path(), policy, &rule("LAB QUOTA"));
    let log = write(dir.path(), "job.out", "LAB QUOTA reached\n");
    let config = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(crate::helper::trackit_bin())
            .args(args)
            .current_dir(dir.path())
            .env("XDG_CONFIG_HOME", config.path())
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    };
    let kind = |out: &std::process::Output| {
        let v: serde_json::Value = serde_json::from_str(stdout(out).trim())
            .unwrap_or_else(|e| panic!("{e}: {} {}", stdout(out), stderr(out)));
        v["kind"].as_str().unwrap_or_default().to_string()
    };
    let diagnose = ["diagnose", "--json", log.to_str().unwrap()];

    // New: the default policy decides, and the user is told how to trust it.
    let out = run(&diagnose);
    assert_ne!(kind(&out), "disk_quota", "an untrusted policy ran");
    assert!(stderr(&out).contains("not trusted yet"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("trackit policy trust"),
        "{}",
        stderr(&out)
    );

    // Named on the command line: trusted.
    let explicit = run(&[
        "diagnose",
        "--json",
        "--policy",
        policy,
        log.to_str().unwrap(),
    ]);
    assert_eq!(kind(&explicit), "disk_quota", "{}", stderr(&explicit));

    // Trusted: it runs.
    let out = run(&["policy", "trust"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("trusted"), "{}", stdout(&out));
    assert!(config.path().join("trackit/trusted").is_dir());
    assert_eq!(kind(&run(&diagnose)), "disk_quota");

    // Changed after a pull: it stops running until trusted again; the report shows the change.
    write(dir.path(), policy, &rule("LAB QUOTA|other"));
    let out = run(&diagnose);
    assert_ne!(kind(&out), "disk_quota");
    let err = stderr(&out);
    assert!(err.contains("changed since you trusted it"), "{err}");
    assert!(err.contains("policy.lua changed: +1 -1 lines"), "{err}");
    assert!(
        err.contains("+local base") || err.contains("LAB QUOTA|other"),
        "{err}"
    );
    // A new module beside it counts too.
    run(&["policy", "trust"]);
    write(dir.path(), ".trackit/helpers.lua", "return 1\n");
    let out = run(&diagnose);
    assert!(
        stderr(&out).contains("helpers.lua is new"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn policy_check_reports_ok_or_file_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        dir.path(),
        "good.lua",
        "local base = require('trackit.default')\nreturn trackit.extend(base, {})\n",
    );
    let out = trackit(&["policy", "check", good.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("ok: "));
    let bad = write(
        dir.path(),
        "bad.lua",
        "return {\n  diagnose = function(ctx)\n    return ctx.result.kind .. nil\n  end,\n}\n",
    );
    let out = trackit(&["policy", "check", bad.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("bad.lua:3"),
        "a hook that fails at run time is caught by check: {}",
        stderr(&out)
    );
    let out = trackit(&["policy", "check", "/nonexistent.lua"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(3),
        "an unreadable file is trackit's trouble"
    );
    // The shipped policies by name.
    let out = trackit(&["policy", "check", "sherlock"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("ok: builtin:sherlock"),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).is_empty(), "no warnings: {}", stderr(&out));
}

#[test]
fn policy_test_runs_the_corpus_and_reports_failures() {
    // The split corpus: both folders, with a subtotal each.
    let corpus = data_dir().join("corpus");
    let out = trackit(
        &["policy", "test", "--json", corpus.to_str().unwrap()],
        &corpus,
    );
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let dev = &v["splits"]["dev"];
    let test = &v["splits"]["test"];
    let count =
        |s: &serde_json::Value| s["passed"].as_u64().unwrap() + s["failed"].as_u64().unwrap();
    assert!(count(dev) >= 33 && count(test) >= 50, "{v}");
    assert_eq!(
        count(dev) + count(test),
        v["cases"].as_array().unwrap().len() as u64
    );
    // The figures docs/benchmarks.md reports (tenth round, measured once on the test split, test
    // batch 12 included; the engine's prefix reading; test batch 13, files 2101-2199, real jobs of
    // the local SLURM cluster, measured once; the eleventh round with test batch 14, files
    // 2301-2399, measured once; the twelfth round with test batch 15, files 2501-2599, the
    // thirteenth with test batch 16, files 2701-2799, the fourteenth with test batch 17, files
    // 2901-2999, the fifteenth with test batch 18, files 3101-3199, the sixteenth with test batch
    // 19, files 3301-3399, the seventeenth with test batch 20, files 3501-3599, the eighteenth
    // with test batch 21, files 3701-3799, the nineteenth with test batch 22, files 3901-3999,
    // the twentieth with test batch 23, files 4101-4199, the twenty-first with test batch 24,
    // files 4301-4399, the twenty-second with test batch 25, files 4701-4799, real jobs of the
    // local SLURM cluster, the twenty-third with test batch 26, files 4501-4599, and the
    // twenty-fourth with test batch 27, files 4901-4999, the twenty-fifth with test batch 28,
    // files 5101-5199, the twenty-sixth with test batch 29, files 5301-5399, and the
    // twenty-seventh with test batch 30, files 5501-5599, the twenty-eighth with test batch
    // 31, files 5701-5799, the twenty-ninth with test batch 32, files 5901-5999, the
    // thirtieth with test batch 33, files 6101-6199, the thirty-first with test batch 34,
    // files 6301-6399, the thirty-second with test batch 35, files 6501-6599, and the
    // thirty-third with test batch 36, files 6701-6799, the thirty-fourth with test batch 37,
    // files 6901-6999, real jobs of the local SLURM cluster, the thirty-fifth with test
    // batch 38, files 7101-7199, the thirty-sixth with test batch 39, files 7301-7399, and the
    // thirty-seventh with test batch 40, files 7501-7599, the thirty-eighth with test batch
    // 41, files 7701-7799, the thirty-ninth with test batch 42, files 7901-7999, the
    // fortieth with test batch 43, files 8101-8199, and the forty-first with test batch 44,
    // files 8301-8399, each measured once): a rule change
    // that moves any of
    // them must be measured and recorded there.
    // Test files numbered lo..=hi: one batch.
    let batch = |c: &serde_json::Value, lo: u32, hi: u32| {
        let file = c["file"].as_str().unwrap_or_default();
        let number: u32 = file
            .trim_start_matches("test/logs/")
            .split('-')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        file.starts_with("test/logs/") && (lo..=hi).contains(&number)
    };
    let score = |cases: Vec<&serde_json::Value>| {
        let right = cases.iter().filter(|c| c["pass"] == true).count();
        let wrong_fixable = cases
            .iter()
            .filter(|c| c["pass"] == false && c["fixable"] == true)
            .count();
        (cases.len(), right, wrong_fixable)
    };
    let all = v["cases"].as_array().unwrap();
    let pins = |split: &str| score(all.iter().filter(|c| c["split"] == split).collect());
    assert_eq!(
        pins("dev"),
        (967, 880, 33),
        "dev: (logs, right, wrong fixable)"
    );
    assert_eq!(
        pins("test"),
        (889, 736, 61),
        "test: (logs, right, wrong fixable)"
    );
    // The batches measured once each (files lo..=hi), pinned on their own.
    for (what, lo, hi, pin) in [
        ("test batch 13 (local SLURM jobs)", 2101, 2199, (21, 21, 0)),
        ("test batch 16 (thirteenth round)", 2701, 2799, (18, 15, 1)),
        ("test batch 17 (fourteenth round)", 2901, 2999, (25, 20, 3)),
        ("test batch 18 (fifteenth round)", 3101, 3199, (15, 10, 0)),
        ("test batch 19 (sixteenth round)", 3301, 3399, (9, 5, 2)),
        ("test batch 20 (seventeenth round)", 3501, 3599, (17, 17, 0)),
        ("test batch 21 (eighteenth round)", 3701, 3799, (15, 10, 4)),
        ("test batch 22 (nineteenth round)", 3901, 3999, (11, 7, 1)),
        ("test batch 23 (twentieth round)", 4101, 4199, (23, 14, 6)),
        (
            "test batch 24 (twenty-first round)",
            4301,
            4399,
            (17, 16, 0),
        ),
        (
            "test batch 25 (twenty-second round, local SLURM jobs)",
            4701,
            4799,
            (13, 11, 0),
        ),
        (
            "test batch 26 (twenty-third round)",
            4501,
            4599,
            (20, 17, 1),
        ),
        (
            "test batch 27 (twenty-fourth round)",
            4901,
            4999,
            (17, 15, 0),
        ),
        (
            "test batch 28 (twenty-fifth round)",
            5101,
            5199,
            (15, 15, 0),
        ),
        ("test batch 29 (twenty-sixth round)", 5301, 5399, (12, 9, 2)),
        (
            "test batch 30 (twenty-seventh round)",
            5501,
            5599,
            (11, 11, 0),
        ),
        (
            "test batch 31 (twenty-eighth round)",
            5701,
            5799,
            (11, 4, 5),
        ),
        (
            "test batch 32 (twenty-ninth round)",
            5901,
            5999,
            (14, 13, 0),
        ),
        ("test batch 33 (thirtieth round)", 6101, 6199, (17, 12, 0)),
        (
            "test batch 34 (thirty-first round)",
            6301,
            6399,
            (18, 11, 5),
        ),
        (
            "test batch 35 (thirty-second round)",
            6501,
            6599,
            (21, 20, 0),
        ),
        (
            "test batch 36 (thirty-third round)",
            6701,
            6799,
            (23, 19, 0),
        ),
        (
            "test batch 37 (thirty-fourth round, local SLURM jobs)",
            6901,
            6999,
            (9, 8, 0),
        ),
        (
            "test batch 38 (thirty-fifth round)",
            7101,
            7199,
            (15, 14, 0),
        ),
        (
            "test batch 39 (thirty-sixth round)",
            7301,
            7399,
            (18, 15, 0),
        ),
        (
            "test batch 40 (thirty-seventh round)",
            7501,
            7599,
            (28, 20, 7),
        ),
        (
            "test batch 41 (thirty-eighth round)",
            7701,
            7799,
            (15, 12, 2),
        ),
        (
            "test batch 42 (thirty-ninth round)",
            7901,
            7999,
            (16, 10, 1),
        ),
        ("test batch 43 (fortieth round)", 8101, 8199, (7, 6, 1)),
        ("test batch 44 (forty-first round)", 8301, 8399, (18, 12, 3)),
    ] {
        assert_eq!(
            score(all.iter().filter(|c| batch(c, lo, hi)).collect()),
            pin,
            "{what}: (logs, right, wrong fixable)"
        );
    }
    assert!(v["cases"][0]["file"]
        .as_str()
        .unwrap()
        .starts_with("dev/logs/"));
    let out = trackit(
        &["policy", "test", corpus.join("test").to_str().unwrap()],
        &corpus,
    );
    assert!(
        stdout(&out).contains(&format!("{} passed", test["passed"])),
        "{}",
        stdout(&out)
    );

    // A lab's own cases, named <anything>-<kind>.log; one is wrong on purpose.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "cases/a-oom.log", "CUDA out of memory\n");
    write(dir.path(), "cases/b-timeout.log", "Segmentation fault\n");
    let out = trackit(
        &[
            "policy",
            "test",
            "--json",
            dir.path().join("cases").to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(
        (v["passed"].as_u64(), v["failed"].as_u64()),
        (Some(1), Some(1))
    );
}

/// A policy reads only inside the repository, the track's folder and the job's log files:
/// never /proc, home dotfiles (keys, shell history) or anything else outside.
#[test]
fn policy_reads_are_confined() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    write(repo.path(), "notes.txt", "lab notes\n");
    let home = tempfile::tempdir().unwrap();
    write(home.path(), ".ssh/id_rsa", "-----BEGIN PRIVATE KEY-----\n");
    write(home.path(), ".bash_history", "export GH_TOKEN=x\n");
    let outside = tempfile::tempdir().unwrap();
    let secret = write(outside.path(), "secret.txt", "not yours\n");
    let log = write(outside.path(), "slurm-1.out", "Traceback\nboom\n");
    let policy = write(
        repo.path(),
        "policy.lua",
        &format!(
            r#"return {{ diagnose = function(ctx)
  local function read(p) return trackit.fs.read(p) and "read" or "refused" end
  local function tail(p) return trackit.log.tail(p) and "read" or "refused" end
  local home = "{home}"
  local s = table.concat({{ read("/proc/self/environ"), read(home .. "/.ssh/id_rsa"), read("{secret}"),
    read("{repo}/notes.txt"), tail(ctx.logs[1].path), tail(home .. "/.bash_history"),
    tostring(trackit.fs.exists("{secret}")) }}, ",")
  return {{ kind = "unknown", summary = s }}
end }}
"#,
            home = home.path().display(),
            secret = secret.display(),
            repo = repo.path().display(),
        ),
    );
    let out = std::process::Command::new(crate::helper::trackit_bin())
        .args(["diagnose", "--json", "--policy"])
        .arg(&policy)
        .arg(&log)
        .current_dir(repo.path())
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim())
        .unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    assert_eq!(
        v["summary"],
        "refused,refused,refused,read,read,refused,false",
        "{}",
        stderr(&out)
    );
}
