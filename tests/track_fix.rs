//! Diagnose, fix, relaunch on the real cluster: the issue's scenarios end to end through
//! `trackit sbatch`.

use crate::helper::assert_exit;
use crate::helper::{
    cluster_shared, isolate, require_cluster, shared_home, stdout, trackit_bin, write,
};
use std::path::Path;
use std::process::{Command, Output};

fn policy(extra_settings: &str, extra: &str) -> String {
    format!(
        r#"
local base = require("trackit.default")
return trackit.extend(base, {{
  settings = {{ poll = {{ first_s = 1, growth = 1.5, max_s = 3, min_s = 0.5 }}, {extra_settings} }},
  {extra}
}})
"#
    )
}

fn lab(policy_text: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("trackit-fix-")
        .tempdir_in("/tmp")
        .unwrap();
    write(dir.path(), "policy.lua", policy_text);
    dir
}

fn script(dir: &Path, name: &str, body: &str) {
    write(
        dir,
        name,
        &format!(
            "#!/bin/bash\n#SBATCH --output={}/{name}-%j.out\n{body}\n",
            dir.display()
        ),
    );
}

fn sbatch(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(trackit_bin());
    isolate(&mut c, shared_home());
    c.arg("--policy")
        .arg(dir.join("policy.lua"))
        .arg("sbatch")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn track(dir: &Path) -> serde_json::Value {
    let out = isolate(&mut Command::new(trackit_bin()), shared_home())
        .args(["list", "--json"])
        .current_dir(dir)
        .output()
        .unwrap();
    // The index holds other tests' tracks too: this lab's are the ones under it.
    let v: Vec<serde_json::Value> = serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout)
        .unwrap()
        .into_iter()
        .filter(|t| t["root"] == dir.to_str().unwrap())
        .collect();
    assert_eq!(v.len(), 1);
    v.into_iter().next().unwrap()
}

fn states(t: &serde_json::Value) -> Vec<String> {
    t["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["tasks"][0]["state"].as_str().unwrap_or("-").to_string())
        .collect()
}

#[test]
fn oom_at_100m_then_200m_succeeds() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let dir = lab(&policy("", ""));
    script(
        dir.path(),
        "grow.sh",
        "#SBATCH --mem=100M\npython3 -c \"x = bytearray(150*1024*1024); print('fits')\"",
    );
    // A git repository (no remote): the fix is committed on the results branch.
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    git(&["init", "-q"]);
    git(&["config", "user.name", "Test User"]);
    git(&["config", "user.email", "test@example.org"]);
    git(&["add", "grow.sh", "policy.lua"]);
    git(&["commit", "-qm", "init"]);
    let out = sbatch(dir.path(), &["grow.sh"], &[]);
    assert_exit(&out, 0);
    let t = track(dir.path());
    assert_eq!(states(&t), vec!["OUT_OF_MEMORY", "COMPLETED"]);
    let edits = &t["attempts"][1]["edits"];
    assert!(
        edits[0]
            .as_str()
            .unwrap()
            .starts_with("--mem 100M -> 200M (oom"),
        "{edits}"
    );
    // The user's script is untouched; the edited copy lives beside the state.
    assert!(std::fs::read_to_string(dir.path().join("grow.sh"))
        .unwrap()
        .contains("--mem=100M"));
    let copy = dir
        .path()
        .join(".trackit/tracks")
        .join(t["id"].as_str().unwrap())
        .join("attempt-2.sh");
    assert!(std::fs::read_to_string(copy)
        .unwrap()
        .contains("--mem=200M"));
    // The edit is reviewable on the results branch; the user's branch and tree are unchanged.
    let branches = String::from_utf8(
        git(&["branch", "--list", "results/*", "--format=%(refname:short)"]).stdout,
    )
    .unwrap();
    let branch = branches.trim();
    assert!(branch.starts_with("results/grow-"), "{branches}");
    let on_branch = String::from_utf8(git(&["show", &format!("{branch}:grow.sh")]).stdout).unwrap();
    assert!(on_branch.contains("--mem=200M"), "{on_branch}");
    // Only the job's own output files are new; no tracked file changed, nothing of trackit's shows.
    let status = String::from_utf8(git(&["status", "--porcelain"]).stdout).unwrap();
    assert!(
        status
            .lines()
            .all(|l| l.starts_with("?? grow.sh-") && l.ends_with(".out")),
        "{status}"
    );
    let head = String::from_utf8(git(&["rev-parse", "--abbrev-ref", "HEAD"]).stdout).unwrap();
    assert!(
        !head.trim().starts_with("results/"),
        "the user's branch is unchanged: {head}"
    );
}

#[test]
fn timeout_at_one_minute_then_two_succeeds() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let dir = lab(&policy("", ""));
    script(
        dir.path(),
        "slowish.sh",
        "#SBATCH --time=1\necho start\nsleep 75\necho done",
    );
    let out = sbatch(dir.path(), &["slowish.sh"], &[]);
    assert_exit(&out, 0);
    let t = track(dir.path());
    assert_eq!(states(&t), vec!["TIMEOUT", "COMPLETED"]);
    assert!(
        t["attempts"][1]["edits"][0]
            .as_str()
            .unwrap()
            .starts_with("--time 1 -> 00:02:00"),
        "{}",
        t["attempts"][1]["edits"]
    );
}

/// Builds a pure-Python wheel for `trackit_demo_mod` in `dir` (no network, no build tools).
fn build_wheel(dir: &Path) {
    let py = r#"
import base64, hashlib, sys, zipfile
out = sys.argv[1]
files = {
    "trackit_demo_mod/__init__.py": "VALUE = 42\n",
    "trackit_demo_mod-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: trackit-demo-mod\nVersion: 1.0\n",
    "trackit_demo_mod-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: trackit-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
with zipfile.ZipFile(out + "/trackit_demo_mod-1.0-py3-none-any.whl", "w") as z:
    for name, text in files.items():
        data = text.encode()
        z.writestr(name, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("trackit_demo_mod-1.0.dist-info/RECORD,,")
    z.writestr("trackit_demo_mod-1.0.dist-info/RECORD", "\n".join(record) + "\n")
"#;
    let status = Command::new("python3")
        .arg("-c")
        .arg(py)
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn missing_python_module_installed_from_a_local_package() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let _ = Command::new("python3")
        .args(["-m", "pip", "uninstall", "-y", "-q", "trackit-demo-mod"])
        .output();
    let dir = lab(&policy("", ""));
    let wheels = dir.path().join("wheels");
    std::fs::create_dir(&wheels).unwrap();
    build_wheel(&wheels);
    script(
        dir.path(),
        "uses_mod.sh",
        "python3 -c \"import trackit_demo_mod; print('value', trackit_demo_mod.VALUE)\"",
    );
    // The job inherits the submitting environment (sbatch --export=ALL): pip installs offline.
    let out = sbatch(
        dir.path(),
        &["uses_mod.sh"],
        &[
            ("PIP_NO_INDEX", "1"),
            ("PIP_FIND_LINKS", wheels.to_str().unwrap()),
            ("PIP_DISABLE_PIP_VERSION_CHECK", "1"),
        ],
    );
    let _ = Command::new("python3")
        .args(["-m", "pip", "uninstall", "-y", "-q", "trackit-demo-mod"])
        .output();
    assert_exit(&out, 0);
    let t = track(dir.path());
    assert_eq!(states(&t), vec!["FAILED", "COMPLETED"]);
    assert_eq!(t["attempts"][0]["diagnosis"]["kind"], "missing_dep");
    assert!(
        t["attempts"][1]["edits"][0]
            .as_str()
            .unwrap()
            .contains("pip install trackit_demo_mod"),
        "{}",
        t["attempts"][1]["edits"]
    );
}

#[test]
fn user_code_exception_is_not_relaunched() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let dir = lab(&policy("", ""));
    script(
        dir.path(),
        "buggy.sh",
        "python3 -c \"raise KeyError('label')\"",
    );
    let out = sbatch(dir.path(), &["buggy.sh"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let t = track(dir.path());
    assert_eq!(states(&t), vec!["FAILED"]);
    assert_eq!(t["attempts"][0]["diagnosis"]["kind"], "user_code");
    let report = stdout(&out);
    assert!(
        report.contains("FAILED after 1 attempt(s)") && report.contains("KeyError"),
        "{report}"
    );
}

#[test]
fn oom_that_persists_at_the_cap_gives_three_attempts_then_the_report() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let dir = lab(&policy("caps = { max_mem = \"400M\" }", ""));
    script(
        dir.path(),
        "hog.sh",
        "#SBATCH --mem=100M\npython3 -c \"x = bytearray(900*1024*1024)\"",
    );
    let out = sbatch(dir.path(), &["hog.sh"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let t = track(dir.path());
    assert_eq!(
        states(&t),
        vec!["OUT_OF_MEMORY", "OUT_OF_MEMORY", "OUT_OF_MEMORY"]
    );
    let edits: Vec<String> = t["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .map(|a| a["edits"][0].as_str().unwrap().to_string())
        .collect();
    assert!(
        edits[0].starts_with("--mem 100M -> 200M") && edits[1].starts_with("--mem 200M -> 400M"),
        "{edits:?}"
    );
    let report = stdout(&out);
    assert!(report.contains("FAILED after 3 attempt(s)"), "{report}");
    assert_eq!(
        report.matches("| oom |").count(),
        3,
        "one row per attempt: {report}"
    );
}

#[test]
fn a_labs_own_fixer_moves_the_job_to_another_partition() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let dir = lab(&policy(
        "",
        r#"
  rules = {
    license_busy = { kind = "license_busy", priority = 95, fixable = true,
      patterns = { [=[LICENSE BUSY: (?P<feature>\w+)]=] }, summary = "license {feature} busy" },
  },
  fixers = {
    license_busy = function(ctx)
      if ctx.resources.partition == "batch" then return nil end
      return { edits = { { op = "set_option", name = "partition", value = "batch" } },
               note = "the batch partition has its own license pool" }
    end,
  },
"#,
    ));
    // Busy on the default partition, fine on `batch`.
    script(
        dir.path(),
        "licensed.sh",
        "if [ \"$SLURM_JOB_PARTITION\" != batch ]; then echo 'LICENSE BUSY: matlab'; exit 1; fi\necho ran on $SLURM_JOB_PARTITION",
    );
    let out = sbatch(dir.path(), &["licensed.sh"], &[]);
    assert_exit(&out, 0);
    let t = track(dir.path());
    assert_eq!(states(&t), vec!["FAILED", "COMPLETED"]);
    assert_eq!(t["attempts"][0]["diagnosis"]["kind"], "license_busy");
    assert!(
        t["attempts"][1]["edits"][0]
            .as_str()
            .unwrap()
            .contains("batch"),
        "{}",
        t["attempts"][1]["edits"]
    );
}
