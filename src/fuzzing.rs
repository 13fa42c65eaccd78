//! Fuzz entry points for the parsers that read foreign text: squeue and sacct output, `#SBATCH`
//! scripts (and the edits made to them), result files. Each takes arbitrary bytes and must
//! neither panic nor hang. `fuzz/` runs them under libFuzzer (`cargo fuzz`), and
//! `tests/fuzz_corpus.rs` replays the committed corpus (`fuzz/corpus/<target>/`) in every
//! `cargo test`.
//!
//! Adding a target: write `fn name(data: &[u8])` here, list it in [`TARGETS`], add
//! `fuzz/fuzz_targets/name.rs` (three lines, like the others) and its `[[bin]]` in
//! `fuzz/Cargo.toml`, and seed `fuzz/corpus/name/` with a few real inputs.

use crate::edits::{apply, Edit, JobSpec};
use std::path::{Path, PathBuf};

/// A fuzz target: arbitrary bytes in, a panic on a bug.
pub type Target = fn(&[u8]);

/// Every target by name, for the corpus replay.
pub const TARGETS: &[(&str, Target)] = &[
    ("squeue", squeue),
    ("sacct", sacct),
    ("sbatch_script", sbatch_script),
    ("results", results),
    ("workflow_yaml", workflow_yaml),
    ("diagnose_patterns", diagnose_patterns),
];

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// A workflow file (read at the ref before a dispatch): the inputs it declares.
pub fn workflow_yaml(data: &[u8]) {
    let yaml = text(data);
    let spec = crate::github::workflow_file::parse(&yaml);
    // Every input is declared on a line of its own.
    assert!(spec.inputs.len() <= yaml.lines().count());
}

/// `squeue` output as trackit asks for it (and whatever a broken controller prints).
pub fn squeue(data: &[u8]) {
    let out = text(data);
    let (rows, bad) = crate::slurm::parse_squeue(&out);
    assert!(rows.len() + bad.len() <= out.lines().count().max(1) * 4096);
    for line in out.lines().take(64) {
        let _ = crate::slurm::parse_scontrol_job(line);
        let _ = crate::slurm::parse_scontrol_partition(line);
        let _ = crate::slurm::first_node(line);
        let _ = crate::slurm::split_array_id(line);
    }
}

/// `sacct --parsable2` output.
pub fn sacct(data: &[u8]) {
    let out = text(data);
    let _ = crate::slurm::parse_sacct(&out);
    for line in out.lines().take(64) {
        let _ = crate::slurm::parse_slurm_time(line);
    }
}

/// A batch script: its `#SBATCH` options, and the edits a fixer makes to it.
pub fn sbatch_script(data: &[u8]) {
    let script = text(data);
    for o in crate::edits::options::script_options(&script) {
        let line = script.lines().nth(o.line).unwrap_or_default();
        for &(s, e) in &o.spans {
            assert!(
                s <= e && e <= line.len(),
                "span {s}..{e} outside line {line:?}"
            );
        }
    }
    let spec = JobSpec::Slurm {
        script_rel: PathBuf::from("job.sh"),
        script_text: script,
        sbatch_args: vec!["job.sh".into()],
    };
    let set = |name: &str, value: &str| Edit::SetOption {
        name: name.into(),
        value: value.into(),
    };
    let edits = [
        set("mem", "4G"),
        set("time", "01:00:00"),
        set("gres", "gpu:1"),
        Edit::RemoveOption {
            name: "partition".into(),
        },
        Edit::Setup {
            line: "module load cuda".into(),
        },
        Edit::SetEnv {
            name: "FUZZ_MARK".into(),
            value: "1".into(),
        },
        Edit::SetContainer {
            image: Some("new.sif".into()),
            add_flags: vec!["--nv".into()],
            remove_flags: vec![],
        },
    ];
    for edit in &edits {
        if let Ok((edited, _)) = apply(
            &spec,
            std::slice::from_ref(edit),
            Path::new("/nonexistent-repo"),
        ) {
            // What was written parses again.
            if let JobSpec::Slurm { script_text, .. } = &edited {
                let _ = crate::edits::options::script_options(script_text);
            }
            let _ = crate::edits::resources(&edited);
        }
    }
}

/// A result file, as JSON, JSON lines, CSV or TSV (the first byte picks the file name).
pub fn results(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let name = ["m.json", "m.jsonl", "m.csv", "m.tsv", "metrics"][pick as usize % 5];
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    if let Ok(r) = crate::results::parse_text(Path::new(name), text) {
        let _ = crate::results::summarize(&r, &[], &Default::default());
    }
}

/// A policy's patterns and log lines: the diagnosis' pattern matcher, which compiles only the
/// patterns whose necessary words a line holds, must answer as one `RegexSet` of them all. The
/// lines before the first empty line are patterns (at most 16), the rest are log lines.
pub fn diagnose_patterns(data: &[u8]) {
    let input = text(data);
    let (head, lines) = input.split_once("\n\n").unwrap_or((&input, ""));
    let patterns: Vec<String> = head.lines().take(16).map(str::to_string).collect();
    // Patterns the regex crate refuses are refused by the matcher too, and there is no answer
    // to compare.
    let Ok(set) = regex::RegexSetBuilder::new(&patterns)
        .size_limit(1 << 20)
        .build()
    else {
        return;
    };
    let Ok(matcher) = crate::diagnose::matcher::PatternMatcher::new(patterns) else {
        panic!("the regex set compiled but the matcher refused its patterns");
    };
    for line in lines.lines().take(64) {
        let want: Vec<usize> = set.matches(line).iter().collect();
        assert_eq!(matcher.matches(line), want, "line {line:?}");
    }
}
