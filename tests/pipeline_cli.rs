//! `trackit pipeline FILE.lua` on the real SLURM cluster: steps in order, a sweep from a loop,
//! a failed step fixed like a single job (its dependents withdrawn and resubmitted on the
//! relaunched step), an unfixable step that ends the pipeline, a killed tracker resumed
//! mid-pipeline, and a broken file reported with its line.

use crate::helper::assert_exit;
use crate::helper::{
    cluster_shared, isolate, require_cluster, run_within, shared_home, stderr, trackit_bin,
    wait_for, write,
};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

const FAST: &str = r#"
local base = require("trackit.default")
return trackit.extend(base, { settings = { poll = { first_s = 1, growth = 1.5, max_s = 3, min_s = 0.5 } } })
"#;

struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Lab {
        let dir = tempfile::Builder::new()
            .prefix("trackit-pipe-")
            .tempdir_in("/tmp")
            .unwrap();
        write(dir.path(), "fast.lua", FAST);
        Lab { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A batch script that logs when it started and ended to `order.log`; `#SBATCH` lines in
    /// `body` go to its header, and it exits with the body's status.
    fn script(&self, name: &str, body: &str) {
        let (directives, commands): (Vec<&str>, Vec<&str>) =
            body.lines().partition(|l| l.starts_with("#SBATCH"));
        let text = format!(
            "#!/bin/bash\n#SBATCH --output={dir}/{name}-%j.out\n{directives}\necho \"start {name} $*\" >> {dir}/order.log\nmain() {{\n{commands}\n}}\nmain \"$@\"\nrc=$?\necho \"end {name} $*\" >> {dir}/order.log\nexit $rc\n",
            dir = self.path().display(),
            directives = directives.join("\n"),
            commands = commands.join("\n"),
        );
        write(self.path(), name, &text);
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(trackit_bin());
        isolate(&mut c, shared_home());
        c.args(["--no-git", "--policy"])
            .arg(self.path().join("fast.lua"))
            .args(args)
            .current_dir(self.path())
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG");
        c
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn run_within(&self, args: &[&str], limit: Duration) -> Output {
        run_within(&mut self.cmd(args), limit)
    }

    fn pipeline_dir(&self) -> Option<PathBuf> {
        let dir = self.path().join(".trackit/tracks");
        std::fs::read_dir(dir)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .next()
    }

    fn state(path: &Path) -> serde_json::Value {
        std::fs::read_to_string(path.join("state.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .map(|v| v["state"].clone())
            .unwrap_or_default()
    }

    fn pipeline(&self) -> serde_json::Value {
        self.pipeline_dir()
            .map(|d| Lab::state(&d))
            .unwrap_or_default()
    }

    fn step(&self, name: &str) -> serde_json::Value {
        self.pipeline_dir()
            .map(|d| Lab::state(&d.join("steps").join(name)))
            .unwrap_or_default()
    }

    fn order(&self) -> Vec<String> {
        std::fs::read_to_string(self.path().join("order.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

fn position(order: &[String], line: &str) -> usize {
    order
        .iter()
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("{line:?} not in {order:?}"))
}

#[test]
fn a_sweep_runs_in_order_with_slurm_dependencies() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let lab = Lab::new();
    lab.script("prep.sh", "sleep 2");
    lab.script(
        "train.sh",
        "sleep 1\necho \"{\\\"loss\\\": $1}\" > train-$1.json",
    );
    write(
        lab.path(),
        "sweep.lua",
        r#"
local steps = { { name = "prepare", sbatch = { "prep.sh" } } }
for _, lr in ipairs({ "0.5", "0.25" }) do
  steps[#steps + 1] = { name = "train-" .. lr, sbatch = { "train.sh", lr }, after = { "prepare" },
                        results = "train-" .. lr .. ".json", metrics = { "loss" } }
end
steps[#steps + 1] = { name = "summary", run = { "sh", "-c", "cat train-*.json > summary.txt" },
                      after = { "train-0.5", "train-0.25" } }
return { name = "lr-sweep", steps = steps }
"#,
    );
    let out = lab.run_within(&["pipeline", "sweep.lua"], Duration::from_secs(300));
    assert_exit(&out, 0);
    assert_eq!(lab.pipeline()["outcome"], "succeeded");
    // The trains were submitted at once, held by SLURM until prepare succeeded.
    let prep_job = lab.step("prepare")["attempts"][0]["job"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for lr in ["0.5", "0.25"] {
        let t = lab.step(&format!("train-{lr}"));
        assert_eq!(t["attempts"][0]["depends_on"][0], prep_job.as_str());
        assert_eq!(
            t["published"]["results"]["metrics"]["metrics"][0]["final"].as_f64(),
            Some(lr.parse::<f64>().unwrap())
        );
    }
    let order = lab.order();
    for lr in ["0.5", "0.25"] {
        assert!(
            position(&order, "end prep.sh ") < position(&order, &format!("start train.sh {lr}")),
            "{order:?}"
        );
    }
    assert!(
        lab.path().join("summary.txt").is_file(),
        "the local step ran after both trains"
    );
    assert_eq!(lab.step("summary")["outcome"], "succeeded");
}

#[test]
fn a_failed_step_is_fixed_and_its_dependents_follow_the_relaunch() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let lab = Lab::new();
    lab.script(
        "train.sh",
        "#SBATCH --mem=100M\npython3 -c \"x = bytearray(150*1024*1024)\"",
    );
    lab.script("eval.sh", "echo evaluated");
    write(
        lab.path(),
        "p.lua",
        r#"return { steps = {
  { name = "train", sbatch = { "train.sh" } },
  { name = "eval", sbatch = { "eval.sh" }, after = { "train" } },
} }"#,
    );
    let out = lab.run_within(&["pipeline", "p.lua"], Duration::from_secs(400));
    assert_exit(&out, 0);
    let train = lab.step("train");
    let states: Vec<&str> = train["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["tasks"][0]["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["OUT_OF_MEMORY", "COMPLETED"]);
    let eval = lab.step("eval");
    let attempts = eval["attempts"].as_array().unwrap();
    // eval's first job waited on the failed train job: withdrawn, then resubmitted on the new one.
    assert_eq!(attempts.len(), 2, "{eval:#}");
    assert!(attempts[0]["withdrawn"]
        .as_str()
        .unwrap()
        .contains("step train failed"));
    assert_eq!(
        attempts[0]["depends_on"][0],
        train["attempts"][0]["job"]["id"]
    );
    assert_eq!(
        attempts[1]["depends_on"][0],
        train["attempts"][1]["job"]["id"]
    );
    assert_eq!(eval["outcome"], "succeeded");
    let order = lab.order();
    assert_eq!(
        order
            .iter()
            .filter(|l| l.starts_with("start eval.sh"))
            .count(),
        1,
        "eval ran once: {order:?}"
    );
    assert_eq!(lab.pipeline()["outcome"], "succeeded");
}

#[test]
fn an_unfixable_step_ends_the_pipeline_and_keeps_what_succeeded() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let lab = Lab::new();
    lab.script("a.sh", "echo '{\"score\": 1.5}' > a.json");
    lab.script("b.sh", "python3 -c \"raise ValueError('bad shape')\"");
    lab.script("c.sh", "echo never");
    write(
        lab.path(),
        "p.lua",
        r#"return { steps = {
  { name = "a", sbatch = { "a.sh" }, results = "a.json" },
  { name = "b", sbatch = { "b.sh" }, after = { "a" } },
  { name = "c", sbatch = { "c.sh" }, after = { "b" } },
} }"#,
    );
    let out = lab.run_within(&["pipeline", "p.lua"], Duration::from_secs(300));
    assert_exit(&out, 1);
    assert_eq!(lab.pipeline()["outcome"], "failed");
    assert_eq!(lab.step("a")["outcome"], "succeeded");
    assert_eq!(
        lab.step("a")["published"]["results"]["metrics"]["metrics"][0]["final"],
        1.5
    );
    assert_eq!(lab.step("b")["outcome"], "failed");
    assert_eq!(
        lab.step("b")["attempts"][0]["diagnosis"]["kind"],
        "user_code"
    );
    assert_eq!(lab.step("c")["outcome"], "cancelled");
    assert!(
        !lab.order().iter().any(|l| l.starts_with("start c.sh")),
        "c never ran"
    );
    // Its job, held on b, was cancelled rather than left pending for ever.
    let c_job = lab.step("c")["attempts"][0]["job"]["id"]
        .as_str()
        .map(str::to_string);
    if let Some(job) = c_job {
        let q = Command::new("squeue")
            .args(["-h", "-j", &job, "-o", "%T"])
            .output()
            .unwrap();
        assert!(!String::from_utf8_lossy(&q.stdout).contains("PENDING"));
    }
}

#[test]
fn a_killed_tracker_resumes_mid_pipeline_without_resubmitting() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let lab = Lab::new();
    lab.script("first.sh", "sleep 1");
    lab.script("second.sh", "sleep 8");
    write(
        lab.path(),
        "p.lua",
        r#"return { steps = {
  { name = "first", sbatch = { "first.sh" } },
  { name = "second", sbatch = { "second.sh" }, after = { "first" } },
  { name = "third", run = { "sh", "-c", "echo third >> order.log" }, after = { "second" } },
} }"#,
    );
    let mut tracker = lab.spawn(&["pipeline", "p.lua"]);
    assert!(wait_for(Duration::from_secs(180), || lab.step("first")
        ["outcome"]
        == "succeeded"
        && lab.step("second")["attempts"][0]["tasks"][0]["state"]
            == "RUNNING"));
    unsafe {
        libc::kill(tracker.id() as i32, libc::SIGKILL);
    }
    let _ = tracker.wait();
    let id = lab.pipeline()["id"].as_str().unwrap().to_string();
    let out = lab.run_within(&["resume", &id], Duration::from_secs(240));
    assert_exit(&out, 0);
    assert_eq!(lab.pipeline()["outcome"], "succeeded");
    for step in ["first", "second", "third"] {
        assert_eq!(
            lab.step(step)["attempts"].as_array().unwrap().len(),
            1,
            "{step} launched once"
        );
    }
    let order = lab.order();
    assert_eq!(
        order
            .iter()
            .filter(|l| l.starts_with("start first.sh"))
            .count(),
        1
    );
    assert_eq!(
        order
            .iter()
            .filter(|l| l.starts_with("start second.sh"))
            .count(),
        1
    );
    assert_eq!(order.last().map(String::as_str), Some("third"));
}

#[test]
fn a_broken_pipeline_file_is_reported_with_its_line() {
    let lab = Lab::new();
    write(
        lab.path(),
        "p.lua",
        "return { steps = {\n  { name = \"prep\", run = { \"true\" } },\n  { name = \"train\", run = { \"true\" }, after = { \"prpe\" } },\n} }\n",
    );
    let out = lab.cmd(&["pipeline", "p.lua"]).output().unwrap();
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(err.contains("p.lua:3:"), "{err}");
    assert!(err.contains("did you mean \"prep\""), "{err}");
    write(
        lab.path(),
        "q.lua",
        "return { steps = {\n  { name = 'x', run = { 'true' } }\n}\n",
    );
    let out = lab.cmd(&["pipeline", "q.lua"]).output().unwrap();
    assert!(stderr(&out).contains("q.lua:"), "{}", stderr(&out));
    assert!(
        !lab.path().join(".trackit/tracks").exists(),
        "nothing was created"
    );
}
