//! The dispatch workflow end to end: `trackit sbatch` through the policy's workflow and
//! `trackit dispatch`, in a real git repository with a real bare remote, against the strict
//! fake GitHub (contents read from that remote, dispatches checked against the inputs the
//! workflow file declares, logs and artifacts by 302 from a storage host that must see no
//! token) whose runner executes the workflow's steps with bash against the real SLURM cluster.
//! The workflows are exactly the reference YAML of docs/sherlock.md.

use crate::helper::assert_exit;
use crate::helper::fake_github::{FakeGithub, OWNER, REPO, TEST_TOKEN};
use crate::helper::lab::{git, GitLab, GitSetup};
use crate::helper::{
    cluster_shared, data_dir, output_within, require_cluster, stderr, stdout, wait_for, write,
};
use serde_json::Value;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// The YAML block of docs/sherlock.md whose first line is `# .github/workflows/<name>`.
fn reference_workflow(name: &str) -> String {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/sherlock.md"))
            .expect("docs/sherlock.md");
    let header = format!("# .github/workflows/{name}\n");
    let mut blocks = doc.split("```yaml\n").skip(1);
    blocks
        .find(|b| b.starts_with(&header))
        .and_then(|b| b.split("\n```").next())
        .map(|b| format!("{b}\n"))
        .unwrap_or_else(|| panic!("docs/sherlock.md has no ```yaml block starting with {header:?}"))
}

const SUBMIT_WAIT: &str = "sherlock-dispatch.yml";
const SUBMIT_ONLY: &str = "sherlock-submit.yml";

/// A workflow that declares only `script` (no `args`, no `wandb_run`): submit only.
const SCRIPT_ONLY: &str = r#"name: lab-submit
on:
  workflow_dispatch:
    inputs:
      script:
        required: true
jobs:
  submit:
    runs-on: [self-hosted]
    steps:
      - uses: actions/checkout@v4
      - run: sbatch "${{ inputs.script }}"
"#;

/// The lab of these tests (tests/helper/lab.rs): the fake GitHub serves its bare remote and its
/// runner executes dispatched runs (with `SCRATCH` set, as on Sherlock); a fast policy.
struct Lab(GitLab);

impl Deref for Lab {
    type Target = GitLab;

    fn deref(&self) -> &GitLab {
        &self.0
    }
}

impl Lab {
    /// `workflows`: (file name, YAML) under .github/workflows; `files`: (path, text).
    fn new(gh: FakeGithub, workflows: &[(&str, &str)], files: &[(&str, &str)]) -> Lab {
        let mut setup = GitSetup::new("trackit-dispatch-");
        for (name, yaml) in workflows {
            setup = setup.file(&format!(".github/workflows/{name}"), yaml);
        }
        for (path, text) in files {
            setup = setup.file(path, text);
        }
        let lab = Lab(GitLab::new(
            setup.file("README.md", "# lab\n"),
            gh,
            &fast_policy(None),
        ));
        lab.gh.serve_repo(&lab.remote);
        lab.gh.set_queue_delay(Duration::from_millis(300));
        let scratch = lab.root.join("scratch");
        std::fs::create_dir_all(&scratch).unwrap();
        lab.gh.set_runner_env("SCRATCH", scratch.to_str().unwrap());
        lab
    }

    /// The policy: the defaults, fast polling, and `dispatch_workflow` when given.
    fn policy(&self, dispatch_workflow: Option<&str>) {
        self.set_policy(&fast_policy(dispatch_workflow));
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_within(args, Duration::from_secs(600))
    }

    fn track_dir(&self) -> PathBuf {
        let tracks = self.work.join(".trackit/tracks");
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&tracks)
            .unwrap_or_else(|e| panic!("{}: {e}", tracks.display()))
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(dirs.len(), 1, "{dirs:?}");
        dirs.pop().unwrap()
    }

    fn state(&self) -> Value {
        let text = std::fs::read_to_string(self.track_dir().join("state.json")).unwrap();
        serde_json::from_str::<Value>(&text).unwrap()["state"].clone()
    }

    fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(self.track_dir().join("events.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn dispatch_posts(&self) -> usize {
        self.gh
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path().ends_with("/dispatches"))
            .count()
    }

    fn remote_file(&self, rev: &str, path: &str) -> String {
        self.remote_git(&["show", &format!("{rev}:{path}")])
    }
}

fn fast_policy(dispatch_workflow: Option<&str>) -> String {
    let dispatch = dispatch_workflow
        .map(|w| format!("dispatch_workflow = {w:?},"))
        .unwrap_or_default();
    format!(
        "local base = require('trackit.default')\nreturn trackit.extend(base, {{ settings = {{ {dispatch} poll = {{ first_s = 0.5, growth = 1.5, max_s = 2, min_s = 0.2 }} }} }})\n"
    )
}

fn report(out: &Output) -> Value {
    let text = stdout(out);
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["event"] == "report")
        .unwrap_or_else(|| panic!("no report in:\n{text}\n{}", stderr(out)))
}

/// `sacct`'s field for a job (ReqMem, State, ...).
fn sacct(job: &str, field: &str) -> String {
    let out = Command::new("sacct")
        .args(["-j", job, "-X", "-n", "-P", "-o", field])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Asserts that `sacct` reports `want` for a job's field: the accounting database catches up
/// with a finished job within seconds, so ask again for a while before failing.
fn assert_sacct(job: &str, field: &str, want: &str) {
    let mut last = String::new();
    let ok = wait_for(Duration::from_secs(30), || {
        last = sacct(job, field);
        last == want
    });
    assert!(
        ok,
        "sacct says {field} of job {job} is {last:?}, not {want:?}"
    );
}

/// The SLURM job id of an attempt's job (after the hand-off from the run).
fn slurm_job(attempt: &Value) -> String {
    assert_eq!(attempt["job"]["type"], "slurm", "{attempt}");
    attempt["job"]["id"].as_str().unwrap().to_string()
}

/// A tiny job: it says hello and writes `results/all_results.json` (a real trainer's output).
fn hello_job(extra: &str) -> String {
    format!(
        "#!/bin/bash\n#SBATCH --job-name=hello\n#SBATCH --mem=50M\n#SBATCH --time=00:05:00\n#SBATCH --output=slurm-%j.out\n{extra}echo hello from $SLURM_JOB_ID with ${{SLURM_MEM_PER_NODE}}M\nmkdir -p results\ncp data/all_results.json results/all_results.json\n"
    )
}

fn data_files() -> (String, String) {
    let text =
        std::fs::read_to_string(data_dir().join("results/hf_trainer.all_results.json")).unwrap();
    ("data/all_results.json".to_string(), text)
}

#[test]
fn the_default_policy_never_dispatches() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let (data_path, data) = data_files();
    let lab = Lab::new(
        FakeGithub::start(),
        &[(SUBMIT_WAIT, &reference_workflow(SUBMIT_WAIT))],
        &[("job.sh", &hello_job("")), (&data_path, &data)],
    );
    let out = lab.run(&["--no-pr", "--json", "sbatch", "job.sh"]);
    assert_exit(&out, 0);
    assert_eq!(
        lab.dispatch_posts(),
        0,
        "the built-in default names no dispatch workflow"
    );
    assert!(lab.gh.dispatched().is_empty());
    let state = lab.state();
    assert_eq!(state["backend"]["type"], "slurm", "{state}");
    assert_eq!(state["attempts"][0]["job"]["run_id"], Value::Null);
}

#[test]
fn a_dispatch_sends_only_the_inputs_the_workflow_declares() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    // GitHub Enterprise Server: the dispatch returns no run id, the run is found by listing.
    let lab = Lab::new(
        FakeGithub::start_ghes(),
        &[("lab-submit.yml", SCRIPT_ONLY)],
        &[(
            "job.sh",
            "#!/bin/bash\n#SBATCH --mem=50M\n#SBATCH --output=slurm-%j.out\necho hello\n",
        )],
    );
    lab.policy(Some("lab-submit.yml"));
    let out = lab.run(&["--no-pr", "--json", "sbatch", "job.sh"]);
    assert_exit(&out, 0);
    let dispatched = lab.gh.dispatched();
    assert_eq!(dispatched.len(), 1, "{}{}", stdout(&out), stderr(&out));
    assert_eq!(
        dispatched[0].inputs.keys().collect::<Vec<_>>(),
        ["script"],
        "wandb_run and args are not declared, so not sent (GitHub would answer 422)"
    );
    assert_eq!(dispatched[0].inputs["script"], "job.sh");
    assert_eq!(dispatched[0].git_ref, "main");
    let body: Value = serde_json::from_str(
        &lab.gh
            .requests()
            .iter()
            .find(|r| r.path().ends_with("/dispatches"))
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(body["inputs"].as_object().unwrap().len(), 1, "{body}");
    assert!(
        body.get("return_run_details").is_none(),
        "GHES has no return_run_details: {body}"
    );
    // The contents were read at the ref before dispatching.
    assert!(lab.gh.requests().iter().any(|r| r
        .url
        .contains("/contents/.github/workflows/lab-submit.yml?ref=main")));
    assert_eq!(report(&out)["outcome"], "succeeded");
}

#[test]
fn typed_sbatch_options_travel_in_the_args_input() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let (data_path, data) = data_files();
    let lab = Lab::new(
        FakeGithub::start(),
        &[(SUBMIT_ONLY, &reference_workflow(SUBMIT_ONLY))],
        &[("job.sh", &hello_job("")), (&data_path, &data)],
    );
    lab.policy(Some(SUBMIT_ONLY));
    let out = lab.run(&["--no-pr", "--json", "sbatch", "--mem=500M", "job.sh"]);
    assert_exit(&out, 0);
    let dispatched = lab.gh.dispatched();
    assert_eq!(dispatched.len(), 1);
    assert_eq!(dispatched[0].inputs["args"], "--mem=500M");
    let state = lab.state();
    let job = slurm_job(&state["attempts"][0]);
    assert_sacct(&job, "ReqMem", "500M");
    // The run is titled by its track and attempt, and trackit recognised it by that title.
    let track = state["id"].as_str().unwrap();
    assert_eq!(dispatched[0].inputs["wandb_run"], format!("{track}-a1"));
    assert_eq!(dispatched[0].title, format!("trackit {track}-a1"));
}

#[test]
fn without_an_args_input_typed_options_fall_back_to_sbatch_and_say_why() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let lab = Lab::new(
        FakeGithub::start(),
        &[("lab-submit.yml", SCRIPT_ONLY)],
        &[(
            "job.sh",
            "#!/bin/bash\n#SBATCH --output=slurm-%j.out\necho hello\n",
        )],
    );
    lab.policy(Some("lab-submit.yml"));
    let out = lab.run(&["--no-pr", "sbatch", "--mem=500M", "job.sh"]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("not dispatching: lab-submit.yml declares no `args` input, so --mem=500M would be dropped; submitting with sbatch instead"),
        "{text}"
    );
    assert_eq!(lab.dispatch_posts(), 0);
    let job = slurm_job(&lab.state()["attempts"][0]);
    assert_sacct(&job, "ReqMem", "500M");
}

#[test]
fn submit_wait_collect_the_runs_conclusion_is_the_jobs_and_the_artifact_fills_the_pr() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let (data_path, data) = data_files();
    let lab = Lab::new(
        FakeGithub::start(),
        &[(SUBMIT_WAIT, &reference_workflow(SUBMIT_WAIT))],
        &[("job.sh", &hello_job("sleep 2\n")), (&data_path, &data)],
    );
    lab.policy(Some(SUBMIT_WAIT));
    let out = lab.run(&["--json", "sbatch", "job.sh"]);
    assert_exit(&out, 0);
    let run = lab.gh.dispatched()[0].run_id;
    assert_eq!(
        lab.gh.run_status(run),
        Some(("completed".into(), Some("success".into())))
    );
    let state = lab.state();
    let job = slurm_job(&state["attempts"][0]);
    assert_sacct(&job, "State", "COMPLETED");
    // The results came from the run's artifact, downloaded from the storage host without the token.
    let results = state["attempts"][0]["results_dir"]
        .as_str()
        .expect("results fetched");
    assert!(
        Path::new(results)
            .join("results/all_results.json")
            .is_file(),
        "{results}"
    );
    let blobs = lab.gh.blob_requests();
    assert!(
        blobs.iter().any(|r| r.path().starts_with("/artifacts/")),
        "{blobs:?}"
    );
    assert!(blobs.iter().all(|r| !r.authorized));
    let pulls = lab.gh.pulls();
    assert_eq!(pulls.len(), 1);
    assert!(pulls[0].5.contains("0.01954"), "{}", pulls[0].5);

    // A job that fails: the run fails with it (sbatch --wait exits with the job's code).
    let lab2 = Lab::new(
        FakeGithub::start(),
        &[(SUBMIT_WAIT, &reference_workflow(SUBMIT_WAIT))],
        &[("job.sh", "#!/bin/bash\n#SBATCH --mem=50M\n#SBATCH --output=slurm-%j.out\necho 'Traceback (most recent call last):'\necho 'ValueError: loss is NaN at step 12'\nexit 3\n")],
    );
    lab2.policy(Some(SUBMIT_WAIT));
    let out = lab2.run(&["--no-pr", "--json", "sbatch", "job.sh"]);
    assert_exit(&out, 1);
    let run = lab2.gh.dispatched()[0].run_id;
    assert_eq!(
        lab2.gh.run_status(run),
        Some(("completed".into(), Some("failure".into())))
    );
    let r = report(&out);
    assert_eq!(r["outcome"], "failed");
    assert_sacct(&slurm_job(&r["attempts"][0]), "State", "FAILED");
}

#[test]
fn submit_only_the_track_follows_the_job_to_its_real_end() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    // The run succeeds at once; the job fails 4 s later. Reporting the run's success as the
    // job's would be the bug.
    let lab = Lab::new(
        FakeGithub::start(),
        &[(SUBMIT_ONLY, &reference_workflow(SUBMIT_ONLY))],
        &[(
            "job.sh",
            "#!/bin/bash\n#SBATCH --mem=50M\n#SBATCH --output=slurm-%j.out\nsleep 4\necho 'ValueError: loss is NaN at step 12'\ndate +%s > ended_at\nexit 1\n",
        )],
    );
    lab.policy(Some(SUBMIT_ONLY));
    let out = lab.run(&["--no-pr", "--json", "sbatch", "job.sh"]);
    assert_exit(&out, 1);
    let run = lab.gh.dispatched()[0].run_id;
    assert_eq!(
        lab.gh.run_status(run),
        Some(("completed".into(), Some("success".into())))
    );
    let r = report(&out);
    assert_eq!(r["outcome"], "failed", "{r}");
    let job = slurm_job(&r["attempts"][0]);
    assert_sacct(&job, "State", "FAILED");
    assert_eq!(r["attempts"][0]["job"]["run_id"], run);
    let events = lab.events();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"handoff"), "{kinds:?}");
    assert!(
        !events.iter().any(|e| e["data"]["state"] == "COMPLETED"),
        "no COMPLETED was ever recorded: {events:?}"
    );
    // The job ran from a copy under $SCRATCH, and the track ended after it did.
    let ended_at: i64 = std::fs::read_to_string(
        lab.root
            .join(format!("scratch/trackit-runs/{run}/ended_at")),
    )
    .unwrap()
    .trim()
    .parse()
    .unwrap();
    let finished = events.iter().find(|e| e["event"] == "finished").unwrap();
    let finished_at = chrono::DateTime::parse_from_rfc3339(finished["at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    assert!(
        finished_at >= ended_at,
        "finished {finished_at}, job ended {ended_at}"
    );
}

#[test]
fn submit_only_with_host_follows_the_job_over_ssh_and_runs_no_scheduler_command_here() {
    if !require_cluster() || !crate::helper::sshd::require_sshd() {
        return;
    }
    let _c = cluster_shared();
    // The laptop: no SLURM of its own (shims that log and fail), the cluster behind sshd on
    // loopback. The runner submits on the cluster; trackit follows that job over ssh.
    let sshd = crate::helper::sshd::Sshd::start();
    let lab = Lab::new(
        FakeGithub::start(),
        &[(SUBMIT_ONLY, &reference_workflow(SUBMIT_ONLY))],
        &[(
            "job.sh",
            "#!/bin/bash\n#SBATCH --mem=50M\n#SBATCH --output=slurm-%j.out\nsleep 3\necho 'ValueError: loss is NaN at step 12'\nexit 1\n",
        )],
    );
    lab.policy(Some(SUBMIT_ONLY));
    let shims = lab.root.join("shims");
    std::fs::create_dir_all(&shims).unwrap();
    for cmd in ["sbatch", "squeue", "sacct", "scontrol", "scancel"] {
        let body = format!(
            "#!/bin/sh\necho \"{cmd} $*\" >> '{}'\nexit 1\n",
            shims.join("calls.log").display()
        );
        let p = crate::helper::write(&shims, cmd, &body);
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    let mut cmd = lab.cmd(&[
        "--host",
        &sshd.alias,
        "--no-pr",
        "--json",
        "sbatch",
        "job.sh",
    ]);
    cmd.env(
        "PATH",
        format!(
            "{}:{}",
            shims.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    );
    for (k, v) in sshd.env() {
        cmd.env(k, v);
    }
    let out = crate::helper::run_within(&mut cmd, Duration::from_secs(600));
    assert_exit(&out, 1);
    let r = report(&out);
    assert_eq!(r["outcome"], "failed", "{r}");
    let job = slurm_job(&r["attempts"][0]);
    assert_sacct(&job, "State", "FAILED");
    let kinds: Vec<String> = lab
        .events()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect();
    assert!(kinds.iter().any(|k| k == "handoff"), "{kinds:?}");
    assert_eq!(
        std::fs::read_to_string(shims.join("calls.log")).unwrap_or_default(),
        "",
        "no scheduler command may run on the laptop"
    );
    assert!(sshd.logins() >= 1, "the job was followed over ssh");
}

#[test]
fn a_failure_is_diagnosed_and_the_relaunch_runs_the_edited_script_from_the_results_branch() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let job = "#!/bin/bash\n#SBATCH --job-name=oomy\n#SBATCH --mem=100M\n#SBATCH --time=00:05:00\n#SBATCH --output=slurm-%j.out\n\
               python3 -c 'b = bytearray(160 * 1024 * 1024)\nfor i in range(0, len(b), 4096): b[i] = 1\nprint(\"held\", len(b))'\n";
    let lab = Lab::new(
        FakeGithub::start(),
        &[(SUBMIT_WAIT, &reference_workflow(SUBMIT_WAIT))],
        &[("job.sh", job)],
    );
    lab.policy(Some(SUBMIT_WAIT));
    let out = lab.run(&["--no-pr", "--json", "sbatch", "job.sh"]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{text}");
    let r = report(&out);
    assert_eq!(r["attempts"][0]["diagnosis"]["kind"], "oom", "{r}");
    let dispatched = lab.gh.dispatched();
    assert_eq!(dispatched.len(), 2, "{text}");
    let first_run = dispatched[0].run_id;
    assert_eq!(
        lab.gh.run_status(first_run),
        Some(("completed".into(), Some("failure".into()))),
        "the run failed with its job"
    );
    assert_eq!(dispatched[0].git_ref, "main");
    // The fix was committed on the results branch, pushed, and dispatched from there.
    let branch = &dispatched[1].git_ref;
    assert!(branch.starts_with("results/"), "{branch}");
    let pushed = lab.remote_file(branch, "job.sh");
    assert!(pushed.contains("#SBATCH --mem=200M"), "{pushed}");
    assert!(
        lab.remote_file("main", "job.sh").contains("--mem=100M"),
        "main is untouched"
    );
    assert_eq!(
        dispatched[1].commit,
        git(
            &lab.root,
            &[
                "--git-dir",
                lab.remote.to_str().unwrap(),
                "rev-parse",
                branch
            ]
        )
        .trim()
    );
    // The runner ran the edited script: the second job asked for 200M.
    let second = slurm_job(&r["attempts"][1]);
    assert_sacct(&second, "ReqMem", "200M");
    assert_sacct(&slurm_job(&r["attempts"][0]), "State", "OUT_OF_MEMORY");
    // The run's job logs were downloaded for the diagnosis (302 to the storage host, no token).
    let logs = r["attempts"][0]["fetched_logs"]
        .as_array()
        .expect("fetched logs");
    assert!(!logs.is_empty());
    assert!(lab
        .gh
        .blob_requests()
        .iter()
        .any(|b| b.path().starts_with("/job-logs/")));
}

#[test]
fn trackit_cancel_cancels_a_dispatched_run_and_its_job() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let lab = Lab::new(
        FakeGithub::start(),
        &[(SUBMIT_WAIT, &reference_workflow(SUBMIT_WAIT))],
        &[("job.sh", "#!/bin/bash\n#SBATCH --mem=50M\n#SBATCH --output=slurm-%j.out\necho started\nsleep 300\n")],
    );
    lab.policy(Some(SUBMIT_WAIT));
    let tracker = lab
        .cmd(&["--no-pr", "--json", "sbatch", "job.sh"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the runner's sbatch has submitted the job and it runs.
    let mut job = String::new();
    assert!(
        wait_for(Duration::from_secs(600), || {
            let Some(d) = lab.gh.dispatched().first().cloned() else {
                return false;
            };
            let log = lab.gh.run_log(d.run_id);
            let Some(id) = log.lines().find_map(|l| {
                let id = l.split("Submitted batch job ").nth(1)?.trim();
                (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit())).then(|| id.to_string())
            }) else {
                return false;
            };
            job = id;
            sacct(&job, "State") == "RUNNING"
        }),
        "the job never ran: {}",
        lab.gh
            .dispatched()
            .first()
            .map(|d| lab.gh.run_log(d.run_id))
            .unwrap_or_default()
    );
    let track = lab.state()["id"].as_str().unwrap().to_string();
    let out = lab.run(&["cancel", &track]);
    assert_exit(&out, 0);
    let run = lab.gh.dispatched()[0].run_id;
    assert!(lab
        .gh
        .requests()
        .iter()
        .any(|r| r.method == "POST" && r.path().ends_with(&format!("/actions/runs/{run}/cancel"))));
    let out = output_within(tracker, Duration::from_secs(300), "trackit sbatch");
    let r = report(&out);
    assert_eq!(r["outcome"], "cancelled", "{r}");
    assert_eq!(
        lab.gh.run_status(run),
        Some(("completed".into(), Some("cancelled".into())))
    );
    assert!(
        wait_for(Duration::from_secs(30), || sacct(&job, "State")
            .starts_with("CANCELLED")),
        "the workflow's trap cancelled job {job}: {}",
        sacct(&job, "State")
    );
}

#[test]
fn a_tracker_killed_mid_dispatch_adopts_the_run_on_resume() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let lab = Lab::new(
        FakeGithub::start_ghes(),
        &[(SUBMIT_ONLY, &reference_workflow(SUBMIT_ONLY))],
        &[(
            "job.sh",
            "#!/bin/bash\n#SBATCH --mem=50M\n#SBATCH --output=slurm-%j.out\necho hello\n",
        )],
    );
    lab.policy(Some(SUBMIT_ONLY));
    lab.gh.set_queue_delay(Duration::from_secs(8));
    let mut tracker = lab
        .cmd(&["--no-pr", "sbatch", "job.sh"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let tracks = lab.work.join(".trackit/tracks");
    let state_has_run = || {
        std::fs::read_dir(&tracks)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| std::fs::read_to_string(e.ok()?.path().join("state.json")).ok())
            .is_some_and(|s| s.contains("\"run_id\""))
    };
    assert!(wait_for(Duration::from_secs(60), state_has_run));
    unsafe {
        libc::kill(tracker.id() as i32, libc::SIGKILL);
    }
    let _ = tracker.wait();
    // Rewrite the state as it was between the dispatch and its record.
    let path = lab.track_dir().join("state.json");
    let mut state: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let run_id = state["state"]["attempts"][0]["job"]["run_id"]
        .as_u64()
        .unwrap();
    state["state"]["attempts"][0]["job"] = Value::Null;
    state["state"]["attempts"][0]["launching_since"] = (chrono::Utc::now().timestamp() - 20).into();
    state["state"]["lease"] = Value::Null;
    std::fs::write(&path, state.to_string()).unwrap();
    let id = lab.state()["id"].as_str().unwrap().to_string();
    let out = lab.run(&["--json", "resume", &id]);
    assert_exit(&out, 0);
    assert_eq!(
        lab.dispatch_posts(),
        1,
        "resume adopted the run instead of dispatching again"
    );
    let events = lab.events();
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "recovered_launch" && e["data"]["run"] == run_id),
        "{events:?}"
    );
}

#[test]
fn a_dispatch_whose_reply_is_lost_is_not_dispatched_twice() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let lab = Lab::new(
        FakeGithub::start(),
        &[(SUBMIT_ONLY, &reference_workflow(SUBMIT_ONLY))],
        &[(
            "job.sh",
            "#!/bin/bash\n#SBATCH --mem=50M\n#SBATCH --output=slurm-%j.out\necho hello\n",
        )],
    );
    lab.policy(Some(SUBMIT_ONLY));
    // GitHub makes the run, then the reply is lost (502): the client's retries must not
    // dispatch again without looking.
    lab.gh.lose_reply_to("/dispatches");
    let out = lab.run(&["--no-pr", "--json", "sbatch", "job.sh"]);
    assert_exit(&out, 0);
    assert_eq!(
        lab.dispatch_posts(),
        1,
        "one POST: the run it made was found"
    );
    assert_eq!(lab.gh.dispatched().len(), 1);
    assert_eq!(report(&out)["outcome"], "succeeded");
}

#[test]
fn trackit_dispatch_is_a_track_on_the_same_engine() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let (data_path, data) = data_files();
    let lab = Lab::new(
        FakeGithub::start(),
        &[(SUBMIT_WAIT, &reference_workflow(SUBMIT_WAIT))],
        &[("job.sh", &hello_job("")), (&data_path, &data)],
    );
    // An input the workflow does not declare: a clear error, and nothing is dispatched.
    let out = lab.run(&[
        "dispatch",
        SUBMIT_WAIT,
        "-f",
        "script=job.sh",
        "-f",
        "partition=gpu",
    ]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(
            "does not declare the input(s) partition (it declares: script, args, wandb_run)"
        ),
        "{}",
        stderr(&out)
    );
    // A required input left out.
    let out = lab.run(&["dispatch", SUBMIT_WAIT, "-f", "args=--mem=60M"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("requires the input(s) script"),
        "{}",
        stderr(&out)
    );
    assert_eq!(lab.dispatch_posts(), 0);
    assert!(
        !lab.work.join(".trackit/tracks").exists()
            || std::fs::read_dir(lab.work.join(".trackit/tracks"))
                .unwrap()
                .next()
                .is_none()
    );

    let out = lab.run(&[
        "--no-pr",
        "--json",
        "dispatch",
        SUBMIT_WAIT,
        "-f",
        "script=job.sh",
        "-f",
        "args=--mem=60M",
        "--ref",
        "main",
    ]);
    assert_exit(&out, 0);
    let dispatched = lab.gh.dispatched();
    assert_eq!(dispatched.len(), 1);
    assert_eq!(dispatched[0].inputs["args"], "--mem=60M");
    assert_eq!(
        dispatched[0].inputs["wandb_run"], "",
        "not given: the default"
    );
    let r = report(&out);
    assert_eq!(r["outcome"], "succeeded", "{r}");
    // The engine's track: the workflow backend, the job followed, the artifact fetched.
    let state = lab.state();
    assert_eq!(state["backend"]["type"], "workflow");
    assert_eq!(state["launch"]["type"], "dispatch");
    let job = slurm_job(&state["attempts"][0]);
    assert_sacct(&job, "ReqMem", "60M");
    assert!(state["attempts"][0]["results_dir"].is_string(), "{state}");
    let summary = &state["published"]["results"];
    assert!(summary.to_string().contains("0.01954"), "{summary}");
}

/// `[github] api_url` in the user's config stands in for GITHUB_API_URL: `trackit dispatch`
/// finds the fake through the config alone.
#[test]
fn github_settings_come_from_the_config() {
    if !require_cluster() {
        return;
    }
    let _c = cluster_shared();
    let (data_path, data) = data_files();
    let lab = Lab::new(
        FakeGithub::start(),
        &[(SUBMIT_WAIT, &reference_workflow(SUBMIT_WAIT))],
        &[("job.sh", &hello_job("")), (&data_path, &data)],
    );
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        ".xdg/config/trackit/config.toml",
        &format!("[github]\napi_url = \"{}\"\n", lab.gh.api_url()),
    );
    let mut c = lab.cmd(&[
        "--no-pr",
        "dispatch",
        SUBMIT_WAIT,
        "-f",
        "script=job.sh",
        "--ref",
        "main",
    ]);
    crate::helper::isolate(&mut c, home.path());
    c.env_remove("GITHUB_API_URL");
    let out = c.output().unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        lab.dispatch_posts(),
        1,
        "the dispatch went to the configured API"
    );
    assert!(lab.gh.take_violations().is_empty());
}

/// The fake refuses what GitHub refuses, so a lenient double cannot hide a bug: undeclared or
/// missing required inputs, an unknown ref, a workflow not on the default branch, files that
/// are not there; and the storage host refuses the token.
#[test]
fn the_fake_refuses_what_github_refuses() {
    use trackit::github::{Client, Config, GithubError};
    let lab = Lab::new(
        FakeGithub::start(),
        &[("lab-submit.yml", SCRIPT_ONLY)],
        &[("job.sh", "#!/bin/bash\necho hello\n")],
    );
    // A workflow only on another branch.
    git(&lab.work, &["checkout", "-q", "-b", "side"]);
    write(&lab.work, ".github/workflows/side.yml", SCRIPT_ONLY);
    git(&lab.work, &["add", "."]);
    git(&lab.work, &["commit", "-q", "-m", "side"]);
    git(&lab.work, &["push", "-q", "origin", "side"]);
    let client = Client::new(Config::from_env_map(&lab.gh.env(), None).unwrap()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dispatch = |workflow: &str, git_ref: &str, inputs: &[(&str, &str)]| {
        let map: serde_json::Map<String, Value> = inputs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect();
        rt.block_on(client.dispatch_once(workflow, git_ref, &map))
    };
    let refused = |r: Result<Option<u64>, GithubError>| match r {
        Err(GithubError::Api {
            status, message, ..
        }) => (status, message),
        other => panic!("not refused: {other:?}"),
    };
    let (status, message) = refused(dispatch(
        "lab-submit.yml",
        "main",
        &[("script", "job.sh"), ("wandb_run", "x")],
    ));
    assert_eq!(status, 422);
    assert!(message.contains("Unexpected inputs provided"), "{message}");
    let (status, message) = refused(dispatch("lab-submit.yml", "main", &[]));
    assert_eq!(status, 422);
    assert!(
        message.contains("Required input 'script' not provided"),
        "{message}"
    );
    let (status, message) = refused(dispatch("lab-submit.yml", "nope", &[("script", "job.sh")]));
    assert_eq!(status, 422);
    assert!(message.contains("No ref found for: nope"), "{message}");
    let (status, _) = refused(dispatch("side.yml", "side", &[("script", "job.sh")]));
    assert_eq!(
        status, 404,
        "not on the default branch: GitHub does not know it"
    );
    assert!(lab.gh.dispatched().is_empty());

    let read = |path: &str, git_ref: &str| rt.block_on(client.file_at_ref(path, git_ref));
    assert_eq!(
        read(".github/workflows/lab-submit.yml", "main").unwrap(),
        SCRIPT_ONLY
    );
    assert_eq!(
        read(".github/workflows/side.yml", "side").unwrap(),
        SCRIPT_ONLY
    );
    assert_eq!(
        read(".github/workflows/side.yml", "main")
            .unwrap_err()
            .status(),
        Some(404)
    );
    assert_eq!(read("job.sh", "nope").unwrap_err().status(), Some(404));

    // The storage host: a signed URL without the token works, with the token it is refused.
    let http = reqwest::Client::new();
    let get = |url: &str, token: Option<&str>| {
        rt.block_on(async {
            let mut r = http
                .get(url)
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28")
                .header("User-Agent", "trackit/test");
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            let resp = r.send().await.unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        })
    };
    let (status, body) = get(
        &format!(
            "{}/repos/{OWNER}/{REPO}/contents/job.sh?ref=main",
            lab.gh.api_url()
        ),
        Some(TEST_TOKEN),
    );
    assert_eq!(status, 200, "{body}");
    let contents: Value = serde_json::from_str(&body).unwrap();
    let url = contents["download_url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&lab.gh.blob_origin()), "{url}");
    assert_eq!(
        get(&url, None),
        (200, "#!/bin/bash\necho hello\n".to_string())
    );
    assert_eq!(get(&url, Some(TEST_TOKEN)).0, 403);
    let violations = lab.gh.take_violations();
    assert!(
        violations.len() == 1 && violations[0].contains("token was sent to the storage host"),
        "{violations:?}"
    );
}
