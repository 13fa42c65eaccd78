//! The shipped policies (`policies/*.lua`): each loads, passes `trackit policy check`, and
//! diagnoses its own example logs (`policies/examples/<name>/`) through the real binary.

use crate::helper::{stderr, stdout, trackit};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use trackit::lua::{Host, PolicySource};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn policy_path(name: &str) -> PathBuf {
    root().join("policies").join(format!("{name}.lua"))
}

fn examples(name: &str) -> PathBuf {
    root().join("policies").join("examples").join(name)
}

/// Every `policies/*.lua`, by name.
fn shipped() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("policies"))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension().and_then(|x| x.to_str()) == Some("lua"))
                .then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    names.sort();
    names
}

#[test]
fn the_three_site_policies_are_shipped() {
    let names = shipped();
    for expected in ["generic-slurm", "local", "sherlock"] {
        assert!(names.iter().any(|n| n == expected), "{names:?}");
    }
}

#[test]
fn every_shipped_policy_passes_policy_check() {
    for name in shipped() {
        let path = policy_path(&name);
        let out = trackit(&["policy", "check", path.to_str().unwrap()], &root());
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        assert!(stdout(&out).starts_with("ok: "), "{}", stdout(&out));
    }
}

#[test]
fn every_shipped_policy_diagnoses_its_examples() {
    for name in shipped() {
        let dir = examples(&name);
        assert!(dir.is_dir(), "{name} has no examples in {}", dir.display());
        let policy = policy_path(&name);
        let out = trackit(
            &[
                "policy",
                "test",
                "--json",
                "--policy",
                policy.to_str().unwrap(),
                dir.to_str().unwrap(),
            ],
            &root(),
        );
        let text = stdout(&out);
        let v: Value = serde_json::from_str(text.trim())
            .unwrap_or_else(|e| panic!("{name}: {e}: {text}{}", stderr(&out)));
        let wrong: Vec<&Value> = v["cases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["pass"] != true)
            .collect();
        assert!(wrong.is_empty(), "{name}: misdiagnosed: {wrong:#?}");
        assert_eq!(v["failed"], 0, "{name}: {v}");
        assert!(
            v["passed"].as_u64().unwrap() >= 9,
            "{name}: too few examples: {v}"
        );
        assert_eq!(out.status.code(), Some(0), "{name}");
    }
}

/// The example folders must be able to fail: a wrong expectation is reported and exits 1.
#[test]
fn a_wrong_expectation_fails_policy_test() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        examples("sherlock").join("scratch-quota.out"),
        dir.path().join("scratch-quota.out"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("cases.json"),
        r#"[{"file": "scratch-quota.out", "kind": "oom"}]"#,
    )
    .unwrap();
    let out = trackit(
        &[
            "policy",
            "test",
            "--policy",
            policy_path("sherlock").to_str().unwrap(),
            dir.path().to_str().unwrap(),
        ],
        &root(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("FAIL"), "{}", stdout(&out));
}

fn diagnose_json(policy: &str, log: &Path) -> Value {
    let p = policy_path(policy);
    let out = trackit(
        &[
            "diagnose",
            "--json",
            "--policy",
            p.to_str().unwrap(),
            log.to_str().unwrap(),
        ],
        &root(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_str(stdout(&out).trim()).unwrap()
}

#[test]
fn sherlock_says_which_filesystem_and_which_module() {
    let ex = examples("sherlock");
    let d = diagnose_json("sherlock", &ex.join("scratch-quota.out"));
    assert_eq!(d["kind"], "disk_quota");
    assert_eq!(d["captures"]["filesystem"], "scratch");
    assert!(d["summary"].as_str().unwrap().contains("sh_quota"), "{d}");

    let d = diagnose_json("sherlock", &ex.join("home-quota.out"));
    assert_eq!(d["captures"]["filesystem"], "home");

    let d = diagnose_json("sherlock", &ex.join("scratch-purged.out"));
    assert_eq!(d["kind"], "path_error");
    assert_eq!(
        d["fixable"], false,
        "a purged input does not come back: {d}"
    );
    assert!(d["summary"].as_str().unwrap().contains("90 days"), "{d}");

    // Lmod wraps its message in batch jobs; the diagnose hook finds the module on a later line.
    let d = diagnose_json("sherlock", &ex.join("lmod-unknown.out"));
    assert_eq!(d["kind"], "missing_dep");
    assert_eq!(d["captures"]["env_module"], "python/3.13.0", "{d}");
    assert_eq!(d["rule"], "lmod_unknown");
    let d = diagnose_json("sherlock", &ex.join("lmod-category.out"));
    assert_eq!(d["captures"]["env_module"], "gromacs/2023.1", "{d}");
    assert!(d["summary"]
        .as_str()
        .unwrap()
        .contains("ml spider gromacs/2023.1"));

    // Preemption outranks the NCCL watchdog fallout that follows it.
    let d = diagnose_json("sherlock", &ex.join("owners-preempted.out"));
    assert_eq!(d["kind"], "preempted");
    assert_eq!(d["rule"], "preempted_by_owner");
    assert_eq!(d["captures"]["node"], "sh03-13n05");

    let d = diagnose_json("sherlock", &ex.join("no-gpu.out"));
    assert_eq!(d["kind"], "no_gpu");
    assert_eq!(d["fixable"], false);
}

#[test]
fn sherlock_settings_carry_partition_caps_and_the_module_map() {
    let host = Host::load(&PolicySource::File(policy_path("sherlock"))).unwrap();
    let s = host.settings();
    for p in ["normal", "bigmem", "gpu", "dev", "owners"] {
        let caps = s
            .partitions
            .get(p)
            .unwrap_or_else(|| panic!("no partition {p}"));
        assert!(caps.max_time.is_some(), "{p} has no time cap");
    }
    assert_eq!(s.partitions["dev"].max_time.as_deref(), Some("02:00:00"));
    assert_eq!(
        s.partitions["bigmem"].max_time.as_deref(),
        Some("1-00:00:00")
    );
    assert_eq!(
        s.dispatch_workflow.as_deref(),
        Some("sherlock-dispatch.yml")
    );
    let map = &s.extra["module_map"];
    assert_eq!(map["libgsl.so"], "gsl");
    assert_eq!(map["nvcc"], "cuda");
    assert!(
        host.settings_warnings().is_empty(),
        "every setting sherlock.lua sets is read: {:?}",
        host.settings_warnings()
    );
    // The built-in rules are all still there.
    assert!(host.rules().len() > Host::builtin().rules().len());
}

/// `fixers.oom` of policies/local.lua, called directly through the Host with a context built to
/// the fix-hook contract ({diagnosis, env, attempt, settings}). The tracker's fix plumbing that
/// will call it is being written separately.
#[test]
fn local_gpu_oom_fixer_halves_the_batch_size() {
    let host = Host::load(&PolicySource::File(policy_path("local"))).unwrap();
    let fixer = host
        .hook("fixers.oom")
        .unwrap()
        .expect("local.lua has fixers.oom");
    let settings = serde_json::to_value(host.settings()).unwrap();
    let ctx = |device: Option<&str>, env: Value| {
        let mut captures = serde_json::Map::new();
        if let Some(d) = device {
            captures.insert("device".into(), json!(d));
        }
        json!({
            "diagnosis": {"kind": "oom", "summary": "the GPU ran out of memory", "evidence": [],
                          "captures": captures, "fixable": true, "rule": "gpu_oom"},
            "env": env,
            "attempt": 1,
            "settings": settings,
        })
    };
    let call = |c: Value| -> Option<Value> { host.call_hook("fixers.oom", &fixer, &c).unwrap() };

    let fix = call(ctx(
        Some("gpu"),
        json!({"BATCH_SIZE": "64", "HOME": "/home/ana"}),
    ))
    .unwrap();
    assert_eq!(
        fix["edits"],
        json!([{"op": "set_env", "name": "BATCH_SIZE", "value": "32"}])
    );
    assert!(
        fix["note"].as_str().unwrap().contains("BATCH_SIZE=32"),
        "{fix}"
    );

    let fix = call(ctx(Some("gpu"), json!({"BATCH_SIZE": "7"}))).unwrap();
    assert_eq!(fix["edits"][0]["value"], "3");

    // Unknown in the job's environment: half of settings.default_batch_size (64).
    let fix = call(ctx(Some("gpu"), json!({}))).unwrap();
    assert_eq!(fix["edits"][0]["value"], "32");
    assert!(fix["note"].as_str().unwrap().contains("unset"), "{fix}");

    // Nothing left to halve, or not a GPU OOM: no fix.
    assert_eq!(call(ctx(Some("gpu"), json!({"BATCH_SIZE": "1"}))), None);
    assert_eq!(call(ctx(None, json!({"BATCH_SIZE": "64"}))), None);
}

/// docs/lua-api.md documents every function of the `---@meta` file.
#[test]
fn lua_api_doc_covers_every_function_in_the_meta_file() {
    let meta = std::fs::read_to_string(root().join("lua/types/trackit.lua")).unwrap();
    let doc = std::fs::read_to_string(root().join("docs/lua-api.md")).unwrap();
    let re = regex::Regex::new(r"(?m)^function (trackit(?:\.\w+)+)\(").unwrap();
    let functions: Vec<String> = re.captures_iter(&meta).map(|c| c[1].to_string()).collect();
    assert!(functions.len() >= 20, "{functions:?}");
    let missing: Vec<&String> = functions
        .iter()
        .filter(|f| !doc.contains(&format!("function {f}(")))
        .collect();
    assert!(missing.is_empty(), "not in docs/lua-api.md: {missing:?}");
    for class in regex::Regex::new(r"(?m)^---@class (trackit\.\w+)")
        .unwrap()
        .captures_iter(&meta)
    {
        let name = &class[1];
        if [
            "trackit.log",
            "trackit.re",
            "trackit.json",
            "trackit.fs",
            "trackit.units",
        ]
        .contains(&name)
        {
            continue;
        }
        assert!(
            doc.contains(&format!("`{name}`")),
            "class {name} is not documented"
        );
    }
}
