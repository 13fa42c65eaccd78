//! Fixes: edits as data applied to real-shaped scripts and command lines, the default Lua fixers
//! on real-shaped failures, caps and history enforced by Rust, a lab's own fixer, the fallback
//! when a fixer fails, and `trackit diagnose --fix`.

use crate::helper::{data_dir, stderr, stdout, trackit, write};
use std::path::{Path, PathBuf};
use trackit::diagnose::{Diagnosis, Input};
use trackit::edits::{
    self, apply, dirs_to_create, effective_option, AppliedEdit, Edit, EditError, FixCtx, FixPlan,
    JobSpec,
};
use trackit::job::{JobInfo, JobState};
use trackit::logtail::{read_tail, LogTail, TailOptions};
use trackit::lua::{GuardedPolicy, Host, PolicySource};

fn fixes_dir() -> PathBuf {
    data_dir().join("fixes")
}

fn tail(text: &str) -> LogTail {
    LogTail {
        path: PathBuf::from("slurm-4812.out"),
        file_size: text.len() as u64,
        start_offset: 0,
        complete: true,
        lines: text.lines().map(str::to_string).collect(),
    }
}

fn diagnose_file(host: &Host, log: &str, state: Option<JobState>) -> Diagnosis {
    let t = read_tail(&fixes_dir().join(log), TailOptions::default()).unwrap();
    host.diagnose(&Input {
        logs: vec![t],
        state,
        ..Default::default()
    })
    .unwrap()
}

fn diagnose_text(host: &Host, text: &str) -> Diagnosis {
    host.diagnose(&Input {
        logs: vec![tail(text)],
        ..Default::default()
    })
    .unwrap()
}

fn job_script() -> String {
    std::fs::read_to_string(fixes_dir().join("job.sh")).unwrap()
}

fn slurm(script: &str, args: &[&str]) -> JobSpec {
    let mut sbatch_args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    if !sbatch_args.iter().any(|a| a == "job.sh") {
        sbatch_args.push("job.sh".into());
    }
    JobSpec::Slurm {
        script_rel: PathBuf::from("job.sh"),
        script_text: script.to_string(),
        sbatch_args,
    }
}

fn script_of(spec: &JobSpec) -> &str {
    match spec {
        JobSpec::Slurm { script_text, .. } => script_text,
        JobSpec::Local { .. } => panic!("not a SLURM job"),
    }
}

fn args_of(spec: &JobSpec) -> Vec<String> {
    match spec {
        JobSpec::Slurm { sbatch_args, .. } => sbatch_args.clone(),
        JobSpec::Local { .. } => panic!("not a SLURM job"),
    }
}

/// One attempt of the fix loop, as the engine runs it.
fn plan(
    host: &Host,
    d: &Diagnosis,
    job: Option<&JobInfo>,
    spec: &JobSpec,
    history: &[AppliedEdit],
    root: &Path,
) -> FixPlan {
    let ctx = FixCtx::new(d, job, spec, host.settings())
        .with_attempt(history.len() as u32 + 1, 3)
        .with_history(history.to_vec())
        .with_repo_root(root);
    host.plan_fix(&ctx, spec, root).unwrap()
}

fn policy_file(dir: &Path, text: &str) -> Host {
    let path = write(dir, "policy.lua", text);
    Host::load(&PolicySource::File(path)).unwrap()
}

fn set(name: &str, value: &str) -> Edit {
    Edit::SetOption {
        name: name.into(),
        value: value.into(),
    }
}

// ------------------------------------------------------------------ memory

#[test]
fn oom_doubles_the_scripts_mem() {
    let host = Host::builtin();
    let root = tempfile::tempdir().unwrap();
    let d = diagnose_file(&host, "oom.log", None);
    assert_eq!(d.kind, "oom");
    let spec = slurm(&job_script(), &[]);
    let p = plan(&host, &d, None, &spec, &[], root.path());
    assert_eq!(p.applied.len(), 1, "{p:?}");
    let a = &p.applied[0];
    assert_eq!(
        a.display,
        "--mem 100M -> 200M (oom: Detected 1 oom_kill event in StepId=4812.batch)"
    );
    assert_eq!(
        (a.before.as_deref(), a.after.as_deref()),
        (Some("100M"), Some("200M"))
    );
    assert_eq!(a.target, "#SBATCH line 3");
    assert!(script_of(&p.spec).contains("\n#SBATCH --mem=200M\n"));
    assert!(!script_of(&p.spec).contains("100M"));
    // It serialises for the track state and comes back equal.
    let json = serde_json::to_string(a).unwrap();
    assert_eq!(&serde_json::from_str::<AppliedEdit>(&json).unwrap(), a);
    assert!(json.contains(r#""op":"set_option""#), "{json}");
}

#[test]
fn oom_starts_from_reqmem_and_maxrss() {
    let host = Host::builtin();
    let root = tempfile::tempdir().unwrap();
    let d = diagnose_file(&host, "oom.log", Some(JobState::OutOfMemory));
    let script = job_script().replace("--mem=100M", "--mem=4G");
    let spec = slurm(&script, &[]);
    let gib = 1u64 << 30;
    let job = |req: Option<u64>, rss: Option<u64>| JobInfo {
        id: "4812".into(),
        req_mem_bytes: req,
        max_rss_bytes: rss,
        ..Default::default()
    };
    // ReqMem (what SLURM enforced) wins over the script when they differ.
    let p = plan(
        &host,
        &d,
        Some(&job(Some(6 * gib), Some(3 * gib))),
        &spec,
        &[],
        root.path(),
    );
    assert_eq!(p.applied[0].after.as_deref(), Some("12G"));
    // A peak above the request doubles the peak.
    let p = plan(
        &host,
        &d,
        Some(&job(Some(4 * gib), Some(5 * gib))),
        &spec,
        &[],
        root.path(),
    );
    assert_eq!(p.applied[0].after.as_deref(), Some("10G"));
    // No request anywhere: 2x MaxRSS, as a new #SBATCH line after the others.
    let bare = job_script().replace("#SBATCH --mem=100M\n", "");
    let spec = slurm(&bare, &[]);
    let p = plan(
        &host,
        &d,
        Some(&job(None, Some(3 * gib))),
        &spec,
        &[],
        root.path(),
    );
    let a = &p.applied[0];
    assert!(
        a.display.starts_with("--mem (unset) -> 6G (oom: "),
        "{}",
        a.display
    );
    let lines: Vec<&str> = script_of(&p.spec).lines().collect();
    assert_eq!(lines[4], "#SBATCH --mem=6G", "{lines:?}");
    assert_eq!(lines[3], "#SBATCH --output=logs/%j.out");
}

#[test]
fn oom_with_mem_per_cpu_doubles_per_cpu() {
    let host = Host::builtin();
    let root = tempfile::tempdir().unwrap();
    let d = diagnose_file(&host, "oom.log", None);
    let script = job_script().replace("--mem=100M", "--mem-per-cpu=2G\n#SBATCH -c 4");
    let p = plan(&host, &d, None, &slurm(&script, &[]), &[], root.path());
    assert_eq!(p.applied[0].edit, set("mem-per-cpu", "4G"));
    // Setting --mem next to --mem-per-cpu is refused: sbatch would reject the job.
    let err = apply(&slurm(&script, &[]), &[set("mem", "8G")], root.path()).unwrap_err();
    assert!(matches!(err, EditError::Conflict(_)), "{err}");
}

#[test]
fn oom_at_the_cap_is_clamped_then_nothing_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let host = policy_file(
        dir.path(),
        r#"return trackit.extend(require("trackit.default"), {
          settings = { caps = { max_mem = "150M" }, partitions = { big = { max_mem = "1G" } } },
        })"#,
    );
    let d = diagnose_file(&host, "oom.log", None);
    let spec = slurm(&job_script(), &[]);
    let first = plan(&host, &d, None, &spec, &[], dir.path());
    assert_eq!(first.applied.len(), 1);
    let a = &first.applied[0];
    assert_eq!(a.edit, set("mem", "150M"));
    assert_eq!(a.clamped_from.as_deref(), Some("200M"));
    assert!(
        a.display
            .starts_with("--mem 100M -> 150M, capped (asked 200M) (oom: "),
        "{}",
        a.display
    );
    // Next failure: x2 is 300M, the cap is 150M, already there: nothing left to try.
    let second = plan(&host, &d, None, &first.spec, &first.applied, dir.path());
    assert!(second.proposed);
    assert!(second.nothing_left(), "{second:?}");
    assert!(second.dropped[0].reason.contains("cap"), "{second:?}");
    // The partition's cap overrides the site's.
    let on_big = slurm(&job_script(), &["-p", "big"]);
    let p = plan(&host, &d, None, &on_big, &[], dir.path());
    assert_eq!(p.applied[0].edit, set("mem", "200M"));
}

#[test]
fn gpu_oom_sets_the_allocator_env_once_then_nothing() {
    let host = Host::builtin();
    let root = tempfile::tempdir().unwrap();
    let d = diagnose_file(&host, "cuda-oom.log", None);
    assert_eq!(d.captures.get("device").map(String::as_str), Some("gpu"));
    let spec = slurm(&job_script(), &[]);
    let first = plan(&host, &d, None, &spec, &[], root.path());
    assert_eq!(first.applied.len(), 1);
    assert!(
        first.applied[0]
            .display
            .starts_with("env PYTORCH_CUDA_ALLOC_CONF (unset) -> expandable_segments:True (oom: "),
        "{}",
        first.applied[0].display
    );
    let lines: Vec<&str> = script_of(&first.spec).lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "export PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True")
        .unwrap();
    assert_eq!(lines[at + 1], "source venv/bin/activate", "{lines:?}");
    // Host memory does not help a GPU: the same fixer again has nothing new.
    let second = plan(&host, &d, None, &first.spec, &first.applied, root.path());
    assert!(second.nothing_left(), "{second:?}");
}

// ------------------------------------------------------------------ time

#[test]
fn timeout_doubles_time_in_the_script() {
    let host = Host::builtin();
    let root = tempfile::tempdir().unwrap();
    let d = diagnose_file(&host, "timeout.log", Some(JobState::Timeout));
    assert_eq!(d.kind, "timeout");
    let p = plan(
        &host,
        &d,
        None,
        &slurm(&job_script(), &[]),
        &[],
        root.path(),
    );
    assert_eq!(p.applied[0].edit, set("time", "00:02:00"));
    assert!(p.applied[0]
        .display
        .starts_with("--time 1 -> 00:02:00 (timeout: "));
    assert!(script_of(&p.spec).contains("\n#SBATCH --time=00:02:00\n"));
}

#[test]
fn an_option_on_the_command_line_is_edited_there() {
    let host = Host::builtin();
    let root = tempfile::tempdir().unwrap();
    let d = diagnose_file(&host, "timeout.log", Some(JobState::Timeout));
    // `trackit sbatch -t 30 job.sh --epochs 5`: -t on the command line overrides #SBATCH --time=1.
    let spec = slurm(&job_script(), &["-t", "30", "job.sh", "--epochs", "5"]);
    assert_eq!(effective_option(&spec, "time").as_deref(), Some("30"));
    let p = plan(&host, &d, None, &spec, &[], root.path());
    assert_eq!(p.applied[0].target, "command line");
    assert_eq!(
        args_of(&p.spec),
        ["-t", "01:00:00", "job.sh", "--epochs", "5"]
    );
    assert_eq!(script_of(&p.spec), job_script(), "the script is untouched");
    // Script arguments after the script are never taken for sbatch options.
    let spec = slurm(&job_script(), &["job.sh", "--time", "7"]);
    assert_eq!(effective_option(&spec, "time").as_deref(), Some("1"));
    // --opt=value and --opt value forms.
    for (args, want) in [
        (vec!["--mem=16G", "job.sh"], vec!["--mem=32G", "job.sh"]),
        (
            vec!["--mem", "16G", "job.sh"],
            vec!["--mem", "32G", "job.sh"],
        ),
    ] {
        let spec = slurm(&job_script(), &args);
        let (out, applied) = apply(&spec, &[set("mem", "32G")], root.path()).unwrap();
        assert_eq!(args_of(&out), want);
        assert_eq!(applied[0].before.as_deref(), Some("16G"));
    }
}

#[test]
fn sbatch_lines_short_forms_removal_and_validation() {
    let root = tempfile::tempdir().unwrap();
    let script = "#!/bin/bash\n#SBATCH -p gpu -c 4  # four cores\n#SBATCH --exclude=node3\nsrun python a.py\n";
    let spec = slurm(script, &[]);
    let (out, applied) = apply(
        &spec,
        &[
            set("-p", "licensed"),
            set("cpus-per-task", "8"),
            Edit::RemoveOption {
                name: "exclude".into(),
            },
            set("qos", "long"),
        ],
        root.path(),
    )
    .unwrap();
    assert_eq!(
        script_of(&out),
        "#!/bin/bash\n#SBATCH -p licensed -c 8  # four cores\n#SBATCH --qos=long\nsrun python a.py\n"
    );
    let shown: Vec<&str> = applied.iter().map(|a| a.display.as_str()).collect();
    assert_eq!(
        shown,
        [
            "--partition gpu -> licensed",
            "--cpus-per-task 4 -> 8",
            "--exclude node3 -> (removed)",
            "--qos (unset) -> long"
        ]
    );
    // Unknown names and empty or malformed values are refused, with what is known.
    let err = apply(&spec, &[set("memory", "1G")], root.path()).unwrap_err();
    assert!(
        err.to_string().contains("unknown sbatch option 'memory'"),
        "{err}"
    );
    assert!(err.to_string().contains("cpus-per-task"), "{err}");
    assert!(apply(&spec, &[set("mem", "")], root.path()).is_err());
    assert!(apply(&spec, &[set("time", "soon")], root.path()).is_err());
    // Edits decode strictly from data.
    let e: Edit =
        serde_json::from_str(r#"{"op":"set_option","name":"mem","value":"32G"}"#).unwrap();
    assert_eq!(e, set("mem", "32G"));
    assert!(
        serde_json::from_str::<Edit>(r#"{"op":"set_option","name":"mem","valu":"1G"}"#).is_err()
    );
    assert!(serde_json::from_str::<Edit>(r#"{"op":"explode"}"#).is_err());
}

// ------------------------------------------------------------------ dependencies

#[test]
fn missing_python_module_gets_pip_install_after_the_sbatch_block() {
    let host = Host::builtin();
    let root = tempfile::tempdir().unwrap();
    let d = diagnose_file(&host, "cv2.log", None);
    assert_eq!(d.kind, "missing_dep");
    let p = plan(
        &host,
        &d,
        None,
        &slurm(&job_script(), &[]),
        &[],
        root.path(),
    );
    assert_eq!(
        p.applied[0].edit,
        Edit::Setup {
            line: "python -m pip install opencv-python".into()
        }
    );
    let lines: Vec<&str> = script_of(&p.spec).lines().collect();
    assert_eq!(
        lines[6..9],
        [
            "# set up the environment",
            "python -m pip install opencv-python",
            "source venv/bin/activate"
        ],
        "{lines:?}"
    );
    // The same fix is never applied twice.
    let again = plan(&host, &d, None, &p.spec, &p.applied, root.path());
    assert!(again.nothing_left());
    // Other import names map to their packages.
    for (module, package) in [
        ("sklearn", "scikit-learn"),
        ("yaml", "PyYAML"),
        ("PIL", "Pillow"),
        ("skimage", "scikit-image"),
        ("bs4", "beautifulsoup4"),
        ("dotenv", "python-dotenv"),
        ("Crypto.Cipher", "pycryptodome"),
        ("transformers", "transformers"),
    ] {
        let d = diagnose_text(
            &host,
            &format!("ModuleNotFoundError: No module named '{module}'"),
        );
        let p = plan(
            &host,
            &d,
            None,
            &slurm(&job_script(), &[]),
            &[],
            root.path(),
        );
        assert_eq!(
            p.applied[0].after.as_deref(),
            Some(format!("python -m pip install {package}").as_str())
        );
    }
    // Nor a module of its own deeper in its tree (Python 2's implicit relative imports, or a
    // script run from another folder); a folder of that name that is no package does not count.
    std::fs::create_dir_all(root.path().join("src/nets/models")).unwrap();
    std::fs::create_dir_all(root.path().join("data/yaml")).unwrap();
    let fixes = |module: &str| {
        let d = diagnose_text(&host, &format!("ImportError: No module named '{module}'"));
        plan(
            &host,
            &d,
            None,
            &slurm(&job_script(), &[]),
            &[],
            root.path(),
        )
        .proposed
    };
    assert!(fixes("models"), "a folder without __init__.py is no module");
    std::fs::write(root.path().join("src/nets/models/__init__.py"), "").unwrap();
    assert!(!fixes("models"));
    std::fs::write(root.path().join("src/nets/compiled.py"), "").unwrap();
    assert!(!fixes("compiled"));
    assert!(fixes("yaml"), "data/yaml is no package");
    // The repository's own package is not installed from PyPI.
    std::fs::create_dir(root.path().join("mylab")).unwrap();
    let d = diagnose_text(&host, "ModuleNotFoundError: No module named 'mylab.models'");
    let p = plan(
        &host,
        &d,
        None,
        &slurm(&job_script(), &[]),
        &[],
        root.path(),
    );
    assert!(!p.proposed);
}

#[test]
fn missing_command_or_library_needs_the_sites_module_map() {
    let root = tempfile::tempdir().unwrap();
    let host = Host::builtin();
    let d = diagnose_file(&host, "command-missing.log", None);
    assert_eq!(
        d.captures.get("command").map(String::as_str),
        Some("samtools")
    );
    let p = plan(
        &host,
        &d,
        None,
        &slurm(&job_script(), &[]),
        &[],
        root.path(),
    );
    assert!(
        !p.proposed && p.nothing_left(),
        "no guess without a map: {p:?}"
    );

    let site = policy_file(
        root.path(),
        r#"return trackit.extend(require("trackit.default"), {
          settings = { module_map = { samtools = "samtools/1.17", ["libgsl.so.25"] = "gsl/2.7" } },
        })"#,
    );
    let d = diagnose_file(&site, "command-missing.log", None);
    let p = plan(
        &site,
        &d,
        None,
        &slurm(&job_script(), &[]),
        &[],
        root.path(),
    );
    assert_eq!(
        p.applied[0].after.as_deref(),
        Some("module load samtools/1.17")
    );
    let d = diagnose_file(&site, "library-missing.log", None);
    assert_eq!(
        d.captures.get("library").map(String::as_str),
        Some("libgsl.so.25")
    );
    let p = plan(
        &site,
        &d,
        None,
        &slurm(&job_script(), &[]),
        &[],
        root.path(),
    );
    assert_eq!(p.applied[0].after.as_deref(), Some("module load gsl/2.7"));
}

// ------------------------------------------------------------------ paths

#[test]
fn missing_log_directory_is_created() {
    let host = Host::builtin();
    let root = tempfile::tempdir().unwrap();
    let root_path = std::fs::canonicalize(root.path()).unwrap();
    let log = format!(
        "slurmstepd: error: Could not open stdout file {}/logs/4816.out: No such file or directory",
        root_path.display()
    );
    let d = diagnose_text(&host, &log);
    assert_eq!(d.kind, "path_error");
    let p = plan(&host, &d, None, &slurm(&job_script(), &[]), &[], &root_path);
    assert_eq!(p.applied.len(), 1, "{p:?}");
    assert_eq!(dirs_to_create(&p.applied), [root_path.join("logs")]);
    assert!(!root_path.join("logs").exists(), "planning writes nothing");
    edits::make_dirs(&p.applied).unwrap();
    assert!(root_path.join("logs").is_dir());

    // A Python output path inside the repository.
    let d = diagnose_text(
        &host,
        "FileNotFoundError: [Errno 2] No such file or directory: 'outputs/run3/metrics.json'",
    );
    let p = plan(&host, &d, None, &slurm(&job_script(), &[]), &[], &root_path);
    assert_eq!(
        p.applied[0].edit,
        Edit::MakeDir {
            path: "outputs/run3".into()
        }
    );
    // An input that does not exist is not "fixed" by creating its folder.
    let d = diagnose_text(
        &host,
        "FileNotFoundError: [Errno 2] No such file or directory: 'data/train.csv'",
    );
    let p = plan(&host, &d, None, &slurm(&job_script(), &[]), &[], &root_path);
    assert!(!p.proposed);
    // SLURM's log outside the repository: not ours to create.
    let d = diagnose_text(
        &host,
        "slurmstepd: error: Could not open stdout file /scratch/other/logs/1.out: No such file or directory",
    );
    assert!(!plan(&host, &d, None, &slurm(&job_script(), &[]), &[], &root_path).proposed);
}

#[test]
fn paths_outside_the_repository_are_rejected() {
    let root = tempfile::tempdir().unwrap();
    let spec = slurm(&job_script(), &[]);
    for path in ["/etc/trackit-test", "../elsewhere", "logs/../../elsewhere"] {
        let err = apply(&spec, &[Edit::MakeDir { path: path.into() }], root.path()).unwrap_err();
        assert!(
            matches!(err, EditError::OutsideRepo { .. }),
            "{path}: {err}"
        );
    }
    let err = apply(
        &spec,
        &[Edit::ReplacePath {
            from: "venv".into(),
            to: "/opt/venv".into(),
        }],
        root.path(),
    )
    .unwrap_err();
    assert!(matches!(err, EditError::OutsideRepo { .. }), "{err}");
    // Inside: fine; a relative path is the job's own (its --chdir), but a --chdir outside the
    // repository does not widen where edits may write.
    let (out, _) = apply(
        &spec,
        &[Edit::ReplacePath {
            from: "venv/bin".into(),
            to: "envs/py311/bin".into(),
        }],
        root.path(),
    )
    .unwrap();
    assert!(script_of(&out).contains("source envs/py311/bin/activate"));
    let chdir = |dir: &Path| {
        job_script().replace(
            "#SBATCH --job-name=train",
            &format!(
                "#SBATCH --job-name=train\n#SBATCH --chdir={}",
                dir.display()
            ),
        )
    };
    let work = root.path().join("runs");
    std::fs::create_dir(&work).unwrap();
    let (_, applied) = apply(
        &slurm(&chdir(&work), &[]),
        &[Edit::MakeDir { path: "out".into() }],
        root.path(),
    )
    .unwrap();
    assert_eq!(
        dirs_to_create(&applied),
        [std::fs::canonicalize(&work).unwrap().join("out")]
    );
    let elsewhere = tempfile::tempdir().unwrap();
    for path in ["out", "../out"] {
        let err = apply(
            &slurm(&chdir(elsewhere.path()), &[]),
            &[Edit::MakeDir { path: path.into() }],
            root.path(),
        )
        .unwrap_err();
        assert!(
            matches!(err, EditError::OutsideRepo { .. }),
            "{path}: {err}"
        );
    }
    // A policy's fixer that asks for it fails as a policy error; the guard falls back.
    let policy = write(
        root.path(),
        "policy.lua",
        r#"return trackit.extend(require("trackit.default"), {
          fixers = { oom = function(ctx) return { edits = { { op = "make_dir", path = "/etc/x" } } } end },
        })"#,
    );
    let host = Host::load(&PolicySource::File(policy.clone())).unwrap();
    let d = diagnose_file(&host, "oom.log", None);
    let ctx = FixCtx::new(&d, None, &spec, host.settings());
    let err = host.plan_fix(&ctx, &spec, root.path()).unwrap_err();
    assert!(err.to_string().contains("outside the repository"), "{err}");
    let mut guarded = GuardedPolicy::load(&PolicySource::File(policy));
    let p = guarded.plan_fix(&ctx, &spec, root.path());
    assert_eq!(p.applied[0].edit, set("mem", "200M"));
    assert_eq!(guarded.take_errors().len(), 1);
}

// ------------------------------------------------------------------ infrastructure

#[test]
fn transient_container_pull_is_retried_once() {
    let host = Host::builtin();
    let root = tempfile::tempdir().unwrap();
    let d = diagnose_file(&host, "pull-transient.log", None);
    assert_eq!(d.kind, "container");
    assert_eq!(
        d.captures.get("transient").map(String::as_str),
        Some("true")
    );
    let spec = slurm(&job_script(), &[]);
    let first = plan(&host, &d, None, &spec, &[], root.path());
    assert_eq!(first.applied.len(), 1);
    assert!(matches!(first.applied[0].edit, Edit::Retry { .. }));
    assert!(first.applied[0].display.starts_with("resubmit unchanged"));
    assert_eq!(first.spec, spec);
    let second = plan(&host, &d, None, &first.spec, &first.applied, root.path());
    assert!(second.nothing_left());
    // A container error that is not transient needs a person.
    let d = diagnose_text(&host, "FATAL:   could not open image /home/u/img.sif: failed to retrieve path for /home/u/img.sif: lstat /home/u/img.sif: no such file or directory");
    assert_eq!(d.kind, "container");
    assert!(!plan(&host, &d, None, &spec, &[], root.path()).proposed);
}

#[test]
fn node_failure_excludes_the_node() {
    let host = Host::builtin();
    let root = tempfile::tempdir().unwrap();
    let d = diagnose_file(&host, "node-fail.log", Some(JobState::NodeFail));
    assert_eq!(d.kind, "node_fail");
    let p = plan(
        &host,
        &d,
        None,
        &slurm(&job_script(), &[]),
        &[],
        root.path(),
    );
    assert_eq!(p.applied[0].edit, set("exclude", "node17"));
    assert!(script_of(&p.spec).contains("#SBATCH --exclude=node17\n"));
    let spec = slurm(&job_script(), &["--exclude=node3"]);
    let p = plan(&host, &d, None, &spec, &[], root.path());
    assert_eq!(args_of(&p.spec), ["--exclude=node3,node17", "job.sh"]);
}

#[test]
fn preemption_resubmits_unchanged_every_time() {
    let host = Host::builtin();
    let root = tempfile::tempdir().unwrap();
    let d = host
        .diagnose(&Input {
            logs: vec![tail("epoch 3\n")],
            state: Some(JobState::Preempted),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(d.kind, "preempted");
    let spec = slurm(&job_script(), &[]);
    let first = plan(&host, &d, None, &spec, &[], root.path());
    let second = plan(&host, &d, None, &spec, &first.applied, root.path());
    assert_eq!(second.applied.len(), 1);
    assert_eq!(second.spec, spec);
}

#[test]
fn user_code_and_other_kinds_are_not_relaunched() {
    let host = Host::builtin();
    let root = tempfile::tempdir().unwrap();
    let d = diagnose_file(&host, "user-code.log", Some(JobState::Failed));
    assert_eq!(d.kind, "user_code");
    let spec = slurm(&job_script(), &[]);
    let ctx = FixCtx::new(&d, None, &spec, host.settings());
    assert_eq!(host.fix(&ctx).unwrap(), None);
    let p = host.plan_fix(&ctx, &spec, root.path()).unwrap();
    assert!(!p.proposed && p.nothing_left());
    for kind in [
        "cancelled",
        "submit_error",
        "segfault",
        "distributed",
        "unknown",
    ] {
        assert!(!host.has_fixer(kind), "{kind}");
    }
    for kind in [
        "oom",
        "timeout",
        "missing_dep",
        "path_error",
        "container",
        "preempted",
        "node_fail",
    ] {
        assert!(host.has_fixer(kind), "{kind}");
    }
}

#[test]
fn local_jobs_get_env_setup_and_command_edits() {
    let root = tempfile::tempdir().unwrap();
    let spec = JobSpec::Local {
        command: vec!["python".into(), "train.py".into()],
        env: vec![],
        cwd: None,
    };
    let (out, applied) = apply(
        &spec,
        &[
            Edit::SetEnv {
                name: "OMP_NUM_THREADS".into(),
                value: "4".into(),
            },
            Edit::Setup {
                line: "source venv/bin/activate".into(),
            },
        ],
        root.path(),
    )
    .unwrap();
    assert_eq!(applied.len(), 2);
    let JobSpec::Local { command, env, .. } = &out else {
        unreachable!()
    };
    assert_eq!(env, &[("OMP_NUM_THREADS".to_string(), "4".to_string())]);
    assert_eq!(command[..2], ["bash", "-c"]);
    assert!(command[2].contains("source venv/bin/activate\nexec \"$@\""));
    assert_eq!(command[4..], ["python", "train.py"]);
    // sbatch options do not apply to a local process.
    assert!(matches!(
        apply(&spec, &[set("mem", "1G")], root.path()),
        Err(EditError::NotApplicable { .. })
    ));
    let (out, _) = apply(
        &spec,
        &[Edit::SetCommand {
            command: vec![
                "python".into(),
                "train.py".into(),
                "--bs".into(),
                "16".into(),
            ],
        }],
        root.path(),
    )
    .unwrap();
    assert!(matches!(out, JobSpec::Local { command, .. } if command.len() == 4));
}

#[test]
fn container_image_and_flags_change_in_the_script() {
    let root = tempfile::tempdir().unwrap();
    let script = "#!/bin/bash\n#SBATCH --gpus=1\nmodule load apptainer\napptainer exec --nv -B /scratch:/scratch images/torch-2.1.sif python train.py\n";
    let (out, applied) = apply(
        &slurm(script, &[]),
        &[Edit::SetContainer {
            image: Some("images/torch-2.3.sif".into()),
            add_flags: vec!["--cleanenv".into()],
            remove_flags: vec![],
        }],
        root.path(),
    )
    .unwrap();
    assert!(script_of(&out).ends_with(
        "apptainer exec --nv -B /scratch:/scratch --cleanenv images/torch-2.3.sif python train.py\n"
    ));
    assert_eq!(applied[0].target, "script line 4");
    let pyxis = "#!/bin/bash\n#SBATCH --container-image=nvcr.io#nvidia/pytorch:23.10-py3\nsrun python a.py\n";
    let (out, _) = apply(
        &slurm(pyxis, &[]),
        &[Edit::SetContainer {
            image: Some("nvcr.io#nvidia/pytorch:24.01-py3".into()),
            add_flags: vec![],
            remove_flags: vec![],
        }],
        root.path(),
    )
    .unwrap();
    assert!(script_of(&out).contains("--container-image=nvcr.io#nvidia/pytorch:24.01-py3\n"));
}

// ------------------------------------------------------------------ a lab's own policy

const LAB_POLICY: &str = r#"
local base = require("trackit.default")
return trackit.extend(base, {
  settings = { fixable_kinds = { "oom", "timeout", "license_busy" }, caps = { max_time = "2-00:00:00" } },
  rules = {
    license_busy = {
      kind = "license_busy", priority = 95,
      patterns = { [=[FLEXlm: all \d+ licenses of (?P<feature>\w+) are in use]=] },
      summary = "license {feature} busy",
    },
  },
  fixers = {
    license_busy = function(ctx)
      -- The licensed partition has its own license server.
      if ctx.resources.partition == "licensed" then return nil end
      return {
        edits = { { op = "set_option", name = "partition", value = "licensed" } },
        note = string.format("attempt %d/%d: %s licenses are on the licensed partition",
          ctx.attempt, ctx.max_attempts, ctx.diagnosis.captures.feature),
      }
    end,
  },
})
"#;

#[test]
fn a_labs_own_fixer_moves_the_job_without_recompiling() {
    let dir = tempfile::tempdir().unwrap();
    let host = policy_file(dir.path(), LAB_POLICY);
    let d = diagnose_file(&host, "license-busy.log", Some(JobState::Failed));
    assert_eq!(d.kind, "license_busy");
    assert!(d.fixable);
    let spec = slurm(&job_script(), &["-p", "normal"]);
    let p = plan(&host, &d, None, &spec, &[], dir.path());
    assert_eq!(args_of(&p.spec), ["-p", "licensed", "job.sh"]);
    assert_eq!(
        p.applied[0].display,
        "--partition normal -> licensed (license_busy: FLEXlm: all 40 licenses of MATLAB are in use)"
    );
    assert_eq!(
        p.note.as_deref(),
        Some("attempt 1/3: MATLAB licenses are on the licensed partition")
    );
    let again = plan(&host, &d, None, &p.spec, &p.applied, dir.path());
    assert!(!again.proposed);
    // The built-in fixers still work under the lab's caps.
    let d = diagnose_file(&host, "timeout.log", Some(JobState::Timeout));
    let long = slurm(&job_script().replace("--time=1", "--time=1-12:00:00"), &[]);
    let p = plan(&host, &d, None, &long, &[], dir.path());
    assert_eq!(p.applied[0].edit, set("time", "2-00:00:00"));
}

#[test]
fn a_failing_or_invalid_fixer_falls_back_to_the_builtin_one() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let spec = slurm(&job_script(), &[]);
    for (name, body, expect) in [
        (
            "errors.lua",
            "oom = function(ctx)\n  error('lab fixer broke')\nend",
            "lab fixer broke",
        ),
        (
            "invalid.lua",
            "oom = function(ctx) return { edits = { { op = 'set_option', name = 'mem', valeu = '1G' } } } end",
            "unknown field",
        ),
        (
            "unknown-key.lua",
            "oom = function(ctx) return { edit = {} } end",
            "unknown field",
        ),
    ] {
        let path = write(
            root,
            name,
            &format!(
                "return trackit.extend(require('trackit.default'), {{\n  fixers = {{\n{body}\n  }},\n}})\n"
            ),
        );
        let mut guarded = GuardedPolicy::load(&PolicySource::File(path));
        let d = guarded.diagnose(&Input {
            logs: vec![read_tail(&fixes_dir().join("oom.log"), TailOptions::default()).unwrap()],
            ..Default::default()
        });
        let ctx = FixCtx::new(&d, None, &spec, guarded.host().settings());
        let fix = guarded.fix(&ctx).unwrap();
        assert_eq!(fix.edits, [set("mem", "200M")], "{name}");
        let errors = guarded.take_errors();
        assert_eq!(errors.len(), 1, "{name}: {errors:?}");
        let msg = errors[0].to_string();
        assert!(msg.contains("fixers.oom") && msg.contains(expect), "{name}: {msg}");
        if name == "errors.lua" {
            assert!(msg.contains(&format!("{name}:4")), "file:line: {msg}");
        }
        let p = guarded.plan_fix(&ctx, &spec, root);
        assert_eq!(p.applied[0].edit, set("mem", "200M"));
    }
}

#[test]
fn a_fixer_sees_resources_script_history_and_caps() {
    let dir = tempfile::tempdir().unwrap();
    let host = policy_file(
        dir.path(),
        r##"return trackit.extend(require("trackit.default"), {
          settings = { caps = { max_mem = "64G" }, partitions = { gpu = { max_time = "12:00:00" } } },
          fixers = { oom = function(ctx)
            local seen = {
              ctx.backend, ctx.resources.mem, ctx.resources.time, ctx.resources.partition,
              tostring(#ctx.history), ctx.history[1] and ctx.history[1].edit.op or "-",
              ctx.caps.max_mem, ctx.caps.max_time, tostring(ctx.script:find("#SBATCH", 1, true) ~= nil),
              ctx.script_path, tostring(ctx.attempt),
            }
            return { edits = { { op = "retry" } }, note = table.concat(seen, " ") }
          end },
        })"##,
    );
    let d = diagnose_file(&host, "oom.log", None);
    let spec = slurm(&job_script(), &["--partition=gpu"]);
    let history = vec![AppliedEdit {
        edit: set("mem", "100M"),
        target: "#SBATCH line 3".into(),
        before: Some("50M".into()),
        after: Some("100M".into()),
        display: "--mem 50M -> 100M".into(),
        reason: None,
        clamped_from: None,
    }];
    let p = plan(&host, &d, None, &spec, &history, dir.path());
    assert_eq!(
        p.note.as_deref(),
        Some("slurm 100M 1 gpu 1 set_option 64G 12:00:00 true job.sh 2")
    );
}

#[test]
fn slurm_partition_reads_scontrol() {
    use trackit::slurm::{Slurm, SlurmCommands};
    let dir = tempfile::tempdir().unwrap();
    let fake = tempfile::tempdir().unwrap();
    std::fs::write(
        fake.path().join("scontrol.out"),
        include_str!("fixtures/slurm/captured/scontrol-partition.txt"),
    )
    .unwrap();
    let host = policy_file(
        dir.path(),
        r#"return trackit.extend(require("trackit.default"), {
          fixers = { timeout = function(ctx)
            local info, err = trackit.slurm.partition(ctx.resources.partition)
            if not info then return { edits = { { op = "retry" } }, note = err } end
            return { edits = { { op = "retry" } }, note = info.name .. " " .. tostring(info.max_time_s) .. " " .. info.raw.TotalCPUs }
          end },
        })"#,
    );
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/slurm/bin");
    host.set_slurm(
        Slurm::new(SlurmCommands::in_dir(&bin))
            .with_env("FAKE_SLURM_DIR", fake.path().display().to_string()),
    );
    let d = diagnose_file(&host, "timeout.log", Some(JobState::Timeout));
    let p = plan(
        &host,
        &d,
        None,
        &slurm(&job_script(), &["-p", "debug"]),
        &[],
        dir.path(),
    );
    assert_eq!(p.note.as_deref(), Some("debug nil 2"));
    let calls = std::fs::read_to_string(fake.path().join("scontrol.calls")).unwrap();
    assert!(
        calls.starts_with("--oneliner show partition debug\n"),
        "{calls}"
    );
    // Not found: nil and the reason.
    std::fs::write(
        fake.path().join("scontrol.out"),
        "Partition nope not found\n",
    )
    .unwrap();
    std::fs::write(fake.path().join("scontrol.rc"), "1").unwrap();
    let p = plan(
        &host,
        &d,
        None,
        &slurm(&job_script(), &["-p", "nope"]),
        &[],
        dir.path(),
    );
    assert_eq!(p.note.as_deref(), Some("partition nope not found"));
}

// ------------------------------------------------------------------ the command line

#[test]
fn diagnose_fix_prints_the_edits_and_the_changed_lines() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let script = write(dir.path(), "job.sh", &job_script());
    let log = fixes_dir().join("oom.log");
    let out = trackit(
        &["diagnose", "--fix", "job.sh", log.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("oom: "), "{text}");
    assert!(
        text.contains(
            "\nfix:\n  --mem 100M -> 200M (oom: Detected 1 oom_kill event in StepId=4812.batch)\n"
        ),
        "{text}"
    );
    assert!(
        text.ends_with("--- a/job.sh\n+++ b/job.sh\n@@ -2,3 +2,3 @@\n #SBATCH --job-name=train\n-#SBATCH --mem=100M\n+#SBATCH --mem=200M\n #SBATCH --time=1\n"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(&script).unwrap(),
        job_script(),
        "nothing written"
    );

    let out = trackit(
        &[
            "diagnose",
            "--json",
            "--fix",
            "job.sh",
            log.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["kind"], "oom");
    assert_eq!(v["fix"]["edits"][0]["edit"]["op"], "set_option");
    assert_eq!(v["fix"]["edits"][0]["after"], "200M");
    assert_eq!(v["fix"]["nothing_left"], false);
    assert!(v["fix"]["diff"]
        .as_str()
        .unwrap()
        .contains("+#SBATCH --mem=200M"));

    // No fixer for the kind: said so, nothing else.
    let bad = fixes_dir().join("user-code.log");
    let out = trackit(
        &["diagnose", "--fix", "job.sh", bad.to_str().unwrap()],
        dir.path(),
    );
    assert!(
        stdout(&out).contains("fix: none (the policy has no fix for user_code: no relaunch)"),
        "{}",
        stdout(&out)
    );
    // An unreadable script is trackit's trouble (exit 3).
    let out = trackit(
        &["diagnose", "--fix", "missing.sh", log.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("cannot read the script missing.sh"),
        "{}",
        stderr(&out)
    );
}

/// Edits cannot smuggle scheduler directives or control characters into the script.
#[test]
fn edits_cannot_smuggle_directives_or_control_characters() {
    let root = tempfile::tempdir().unwrap();
    let spec = slurm(&job_script(), &[]);
    for edit in [
        Edit::Setup {
            line: "#SBATCH --gres=gpu:8".into(),
        },
        Edit::Setup {
            line: "  #sbatch --nodes=64".into(),
        },
        Edit::SetEnv {
            name: "X".into(),
            value: "1\n#SBATCH --gres=gpu:8".into(),
        },
        Edit::SetOption {
            name: "partition".into(),
            value: "gpu\u{1b}[2K".into(),
        },
        Edit::ReplacePath {
            from: "venv".into(),
            to: "venv\r".into(),
        },
        Edit::SetContainer {
            image: None,
            add_flags: vec!["--nv\0".into()],
            remove_flags: vec![],
        },
    ] {
        let err = apply(&spec, std::slice::from_ref(&edit), root.path()).unwrap_err();
        assert!(
            matches!(err, EditError::InvalidValue(_)),
            "{edit:?} was applied: {err}"
        );
    }
}
