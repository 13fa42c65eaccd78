//! `trackit init` in a fresh git repository: what it writes, that it never overwrites, and that
//! the policy it writes loads (as written, and with its examples switched on).

use crate::helper::{stderr, stdout, trackit, write};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use trackit::lua::{Host, PolicySource};

const WRITTEN: [&str; 5] = [
    ".trackit/policy.lua",
    ".trackit/types/trackit.lua",
    ".trackit/types/trackit/default.lua",
    ".luarc.json",
    "docs/experiments/TEMPLATE.md",
];

fn git_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir.path())
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn init_json(cwd: &Path) -> Value {
    let out = trackit(&["--json", "init"], cwd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_str(stdout(&out).trim()).unwrap()
}

fn actions(v: &Value) -> Vec<(String, String)> {
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn writes_at_the_repository_root_and_never_overwrites() {
    let repo = git_repo();
    let sub = repo.path().join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();

    // From a subdirectory: the files land at the root.
    let out = trackit(&["init"], &sub);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for f in WRITTEN {
        assert!(text.contains(&format!("wrote {f}")), "{text}");
        assert!(repo.path().join(f).is_file(), "{f} missing");
        assert!(!sub.join(f).exists(), "{f} written in the subdirectory");
    }

    // The types are the ones this binary carries.
    let types = std::fs::read_to_string(repo.path().join(".trackit/types/trackit.lua")).unwrap();
    let ours = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("lua/types/trackit.lua"),
    )
    .unwrap();
    assert_eq!(types, ours);
    let luarc: Value =
        serde_json::from_str(&std::fs::read_to_string(repo.path().join(".luarc.json")).unwrap())
            .unwrap();
    assert_eq!(luarc["workspace"]["library"], json!([".trackit/types"]));
    assert_eq!(luarc["runtime"]["version"], "Lua 5.4");

    // A user's edit survives a second run, which keeps everything.
    let policy = repo.path().join(".trackit/policy.lua");
    let mine = "return require('trackit.default')\n";
    std::fs::write(&policy, mine).unwrap();
    let v = init_json(repo.path());
    for (path, action) in actions(&v) {
        assert_eq!(action, "kept", "{path}");
    }
    assert_eq!(std::fs::read_to_string(&policy).unwrap(), mine);
    let out = trackit(&["init"], repo.path());
    assert!(
        stdout(&out).contains("kept .trackit/policy.lua (exists; left as it is)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn only_missing_files_are_written() {
    let repo = git_repo();
    write(repo.path(), ".luarc.json", "{\"mine\": true}\n");
    let v = init_json(repo.path());
    let acts = actions(&v);
    assert_eq!(acts.len(), WRITTEN.len());
    for (path, action) in acts {
        let expected = if path == ".luarc.json" {
            "kept"
        } else {
            "wrote"
        };
        assert_eq!(action, expected, "{path}");
    }
    assert_eq!(
        std::fs::read_to_string(repo.path().join(".luarc.json")).unwrap(),
        "{\"mine\": true}\n"
    );
}

#[test]
fn outside_a_repository_it_uses_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    let v = init_json(dir.path());
    assert_eq!(
        Path::new(v["root"].as_str().unwrap())
            .canonicalize()
            .unwrap(),
        dir.path().canonicalize().unwrap()
    );
    assert!(dir.path().join(".trackit/policy.lua").is_file());
}

#[test]
fn the_written_policy_passes_check_and_is_picked_up() {
    let repo = git_repo();
    init_json(repo.path());
    let out = trackit(&["policy", "check", ".trackit/policy.lua"], repo.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("ok: .trackit/policy.lua"),
        "{}",
        stdout(&out)
    );

    // Without --policy, trackit finds it at the repository root and, once trusted, diagnoses
    // with it.
    crate::helper::trust_policy(repo.path());
    let log = write(
        repo.path(),
        "job.out",
        "slurmstepd: error: Detected 1 oom_kill event in StepId=7.batch. Some of your processes may have been killed by the cgroup out-of-memory handler.\n",
    );
    let out = trackit(&["diagnose", "--json", log.to_str().unwrap()], repo.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("\"kind\":\"oom\""),
        "{}",
        stdout(&out)
    );
}

/// The commented examples are real code: switched on (`--[[` -> `---[[`), they load and work.
#[test]
fn the_policy_examples_work_when_switched_on() {
    let repo = git_repo();
    init_json(repo.path());
    let text = std::fs::read_to_string(repo.path().join(".trackit/policy.lua")).unwrap();
    let on = text.replace("--[[ example", "---[[ example");
    assert_eq!(text.matches("--[[ example").count(), 3, "three examples");
    let path = write(repo.path(), ".trackit/policy.lua", &on);
    crate::helper::trust_policy(repo.path());

    let out = trackit(&["policy", "check", path.to_str().unwrap()], repo.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("format_table"), "{}", stdout(&out));

    // The rule.
    let log = write(
        repo.path(),
        "wandb.out",
        "wandb: ERROR api_key not configured (no-tty). call wandb.login(key=[your_api_key])\nTraceback (most recent call last):\nwandb.errors.UsageError: api_key not configured (no-tty).\n",
    );
    let out = trackit(&["diagnose", "--json", log.to_str().unwrap()], repo.path());
    let d: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(d["kind"], "config", "{d}");
    assert_eq!(d["fixable"], false);

    // The fixer and the formatter, called through the Host (the tracker that calls them is being
    // written separately).
    let host = Host::load(&PolicySource::File(path)).unwrap();
    let fixer = host.hook("fixers.disk_quota").unwrap().unwrap();
    let ctx = json!({
        "diagnosis": {"kind": "disk_quota", "summary": "", "evidence": [], "fixable": true,
                      "captures": {"path": "/home/users/ana/.cache/huggingface/hub/x.incomplete"}},
        "attempt": 1, "env": {}, "settings": {},
    });
    let fix: Option<Value> = host.call_hook("fixers.disk_quota", &fixer, &ctx).unwrap();
    // trackit.env("SCRATCH") reads trackit's own environment: with it unset, no fix.
    match std::env::var("SCRATCH") {
        Ok(s) => assert_eq!(
            fix.unwrap()["edits"][0],
            json!({"op": "set_env", "name": "HF_HOME", "value": format!("{s}/hf-cache")})
        ),
        Err(_) => assert_eq!(fix, None),
    }
    let fmt = host.hook("format_table").unwrap().unwrap();
    let table: Option<String> = host
        .call_hook(
            "format_table",
            &fmt,
            &json!({"metrics": {"metrics": [{"name": "val_loss", "final": 0.41234, "best": {"value": 0.4}}]}}),
        )
        .unwrap();
    assert_eq!(
        table.unwrap(),
        "| metric | final | best |\n| --- | --- | --- |\n| val_loss | 0.4123 | 0.4 |"
    );
}

/// The doc template carries the markers trackit fills; what `init` writes is never a result.
#[test]
fn template_markers_are_filled_and_init_files_are_not_results() {
    let repo = git_repo();
    let start = std::time::SystemTime::now() - std::time::Duration::from_secs(5);
    init_json(repo.path());
    let template =
        std::fs::read_to_string(repo.path().join("docs/experiments/TEMPLATE.md")).unwrap();
    std::fs::write(repo.path().join("docs/experiments/bert.md"), &template).unwrap();
    let host = Host::builtin();
    let mut ctx = trackit::report::ReportCtx::new("bert", "20261129-1200-bert")
        .with_status(trackit::report::TrackStatus::Completed)
        .with_job(trackit::report::JobRow::pending("77", 1));
    ctx.discussion = Some("Loss fell.".into());
    let table = host.format_table(&ctx).unwrap();
    trackit::report::write_doc(
        repo.path(),
        Path::new("docs/experiments/bert.md"),
        &ctx,
        &table,
    )
    .unwrap();
    let doc = std::fs::read_to_string(repo.path().join("docs/experiments/bert.md")).unwrap();
    // The template's own pairs were claimed, where the template put them: no new headings.
    assert_eq!(doc.matches("## Results").count(), 1, "{doc}");
    assert_eq!(doc.matches("## Discussion").count(), 1, "{doc}");
    assert!(
        doc.contains(
            "## Results\n\n<!-- trackit:results:start track=20261129-1200-bert -->\n| job |"
        ),
        "{doc}"
    );
    assert!(doc.contains("## Discussion\n\n<!-- trackit:discussion:start track=20261129-1200-bert -->\nLoss fell.\n<!-- trackit:discussion:end track=20261129-1200-bert -->\n\nYour reading:"), "{doc}");
    assert!(!doc.contains("_trackit fills this in"), "{doc}");

    // Results discovery in the set-up repository: `.luarc.json` and `.trackit/` are not read.
    let d =
        trackit::results::discover_sources(None, repo.path(), start, Default::default()).unwrap();
    assert!(d.files.is_empty(), "{:?}", d.files);
    let skipped: Vec<String> = d
        .skipped
        .iter()
        .map(|s| {
            format!(
                "{}: {}",
                s.path.strip_prefix(repo.path()).unwrap().display(),
                s.reason
            )
        })
        .collect();
    assert_eq!(
        skipped,
        [".luarc.json: hidden file (`trackit init` writes it for the editor)"]
    );
}
