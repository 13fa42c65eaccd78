//! trackit's own options where people type them. clap takes them anywhere for the subcommands
//! that pass nothing through (`trackit diagnose job.log --json`). For `sbatch` and `run`, whose
//! arguments belong to sbatch or to the job, this module moves trackit's options typed between
//! the subcommand and the script (`trackit sbatch --dry-run --mem=8G job.sh`) in front of the
//! subcommand, and leaves sbatch's own options where they are (`-v`, `--verbose`, `--quiet`:
//! sbatch has them too, so they stay sbatch's there).
//!
//! A trackit-only option among the job's arguments (`trackit sbatch job.sh --dry-run`) is
//! refused: it would silently go to the job. The message shows both corrected commands. After
//! `--`, everything is the job's, verbatim (`trackit sbatch -- job.sh --dry-run`).

use crate::slurm::sbatch_options;

/// One of trackit's global options, as clap defines it.
#[derive(Debug, Clone)]
struct GlobalOption {
    long: Option<String>,
    short: Option<char>,
    takes_value: bool,
}

/// trackit's global options, read from the clap definition (so options added there are known
/// here without a second list).
#[derive(Debug, Clone)]
pub struct Globals(Vec<GlobalOption>);

impl Globals {
    pub fn from_command(cmd: &clap::Command) -> Globals {
        let mut out = Vec::new();
        for arg in cmd.get_arguments() {
            if arg.is_positional() {
                continue;
            }
            let takes_value = arg.get_action().takes_values();
            let mut longs: Vec<String> = arg.get_long().map(str::to_string).into_iter().collect();
            longs.extend(
                arg.get_all_aliases()
                    .unwrap_or_default()
                    .into_iter()
                    .map(str::to_string),
            );
            if longs.is_empty() {
                out.push(GlobalOption {
                    long: None,
                    short: arg.get_short(),
                    takes_value,
                });
            }
            for long in longs {
                out.push(GlobalOption {
                    long: Some(long),
                    short: arg.get_short(),
                    takes_value,
                });
            }
        }
        Globals(out)
    }

    fn long(&self, name: &str) -> Option<&GlobalOption> {
        self.0.iter().find(|o| o.long.as_deref() == Some(name))
    }

    fn short(&self, c: char) -> Option<&GlobalOption> {
        self.0.iter().find(|o| o.short == Some(c))
    }

    /// A long option of trackit's that neither sbatch nor most programs would take for their
    /// own: `--dry-run`, `--policy`, ... (not `--verbose`, `--quiet`, `--help`, `--version`).
    fn trackit_only_long(&self, name: &str) -> Option<&GlobalOption> {
        if matches!(name, "help" | "version") || sbatch_options::long(name).is_some() {
            return None;
        }
        self.long(name)
    }
}

/// The option token's long name (`--dry-run`, `--policy=x` → `dry-run`, `policy`).
fn long_name(tok: &str) -> Option<&str> {
    let body = tok.strip_prefix("--")?;
    if body.is_empty() {
        return None;
    }
    Some(body.split_once('=').map_or(body, |(n, _)| n))
}

/// How many tokens a trackit option at `tokens[0]` uses.
fn trackit_tokens(opt: &GlobalOption, tokens: &[String]) -> usize {
    if opt.takes_value && !tokens[0].contains('=') && tokens.len() > 1 {
        2
    } else {
        1
    }
}

/// A trackit option found among the job's arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misplaced {
    /// The option as typed, e.g. `--dry-run` or `--policy local`.
    pub option: String,
    /// The job's command line up to the option (`job.sh`, `python train.py`).
    pub job: String,
    /// The command that gives it to trackit.
    pub for_trackit: String,
    /// The command that gives it to the job.
    pub for_the_job: String,
}

impl std::fmt::Display for Misplaced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} comes after the job's command ({}), so trackit would pass it to the job.\n  \
             meant for trackit? put it before the job:  {}\n  \
             meant for the job? put -- before the job:  {}",
            self.option, self.job, self.for_trackit, self.for_the_job
        )
    }
}

/// Rewrites argv (program name first) so clap sees trackit's options in front of `sbatch` or
/// `run` and the job's arguments after `--`. Other command lines come back unchanged.
pub fn place(args: &[String], globals: &Globals) -> Result<Vec<String>, Misplaced> {
    // Find the subcommand: skip the global options (and their values) before it.
    let mut i = 1;
    while i < args.len() {
        let tok = args[i].as_str();
        if tok == "--" || !tok.starts_with('-') || tok == "-" {
            break;
        }
        let used = if let Some(name) = long_name(tok) {
            globals
                .long(name)
                .map_or(1, |o| trackit_tokens(o, &args[i..]))
        } else {
            let c = tok.chars().nth(1).unwrap_or('-');
            match globals.short(c) {
                Some(o) if o.takes_value && tok.len() == 2 && i + 1 < args.len() => 2,
                _ => 1,
            }
        };
        i += used;
    }
    let Some(sub) = args.get(i) else {
        return Ok(args.to_vec());
    };
    let tail = &args[i + 1..];
    if matches!(
        tail.first().map(String::as_str),
        Some("-h" | "--help") | None
    ) {
        return Ok(args.to_vec());
    }
    let (lifted, job) = match sub.as_str() {
        "sbatch" | "launch" => split_sbatch(tail, globals),
        "run" => split_run(tail, globals),
        _ => return Ok(args.to_vec()),
    };
    let (job, job_start) = job;
    if let Some(m) = misplaced(&args[..=i], &lifted, &job, job_start, globals) {
        return Err(m);
    }
    let mut out: Vec<String> = args[..i].to_vec();
    out.extend(lifted);
    out.push(sub.clone());
    out.push("--".into());
    out.extend(job.into_iter().map(|t| t.text));
    Ok(out)
}

/// One token of the job's command line, and whether trackit checks it (tokens after a `--`
/// are the job's, verbatim).
#[derive(Debug, Clone)]
struct JobToken {
    text: String,
    checked: bool,
}

type Split = (Vec<String>, (Vec<JobToken>, Option<usize>));

/// `sbatch` arguments: trackit's options before the script are lifted; sbatch's stay. Returns
/// the lifted options, the job's tokens, and the index of the script among them.
fn split_sbatch(tail: &[String], globals: &Globals) -> Split {
    let mut lifted = Vec::new();
    let mut job = Vec::new();
    let mut j = 0;
    while j < tail.len() {
        let tok = tail[j].as_str();
        if tok == "--" {
            let start = (j + 1 < tail.len()).then_some(job.len());
            job.extend(tail[j + 1..].iter().map(|t| verbatim(t)));
            return (lifted, (job, start));
        }
        if !tok.starts_with('-') || tok == "-" {
            break;
        }
        if let Some(name) = long_name(tok) {
            if let Some(o) = globals.trackit_only_long(name) {
                let used = trackit_tokens(o, &tail[j..]);
                lifted.extend(tail[j..j + used].iter().cloned());
                j += used;
                continue;
            }
        } else {
            let c = tok.chars().nth(1).unwrap_or('-');
            if sbatch_options::short(c).is_none() {
                if let Some(o) = globals.short(c) {
                    let used = if o.takes_value && tok.len() == 2 && j + 1 < tail.len() {
                        2
                    } else {
                        1
                    };
                    lifted.extend(tail[j..j + used].iter().cloned());
                    j += used;
                    continue;
                }
            }
        }
        let used = sbatch_options::tokens_used(&tail[j..]);
        job.extend(tail[j..j + used].iter().map(|t| verbatim(t)));
        j += used;
    }
    let start = (j < tail.len()).then_some(job.len());
    job.extend(checked_args(&tail[j..]));
    (lifted, (job, start))
}

/// `run` arguments: every option before the command is trackit's (clap reports unknown ones);
/// the command starts at the first word.
fn split_run(tail: &[String], globals: &Globals) -> Split {
    let mut lifted = Vec::new();
    let mut j = 0;
    while j < tail.len() {
        let tok = tail[j].as_str();
        if tok == "--" {
            let job: Vec<JobToken> = tail[j + 1..].iter().map(|t| verbatim(t)).collect();
            let start = (!job.is_empty()).then_some(0);
            return (lifted, (job, start));
        }
        if !tok.starts_with('-') || tok == "-" {
            break;
        }
        let used = match long_name(tok) {
            Some(name) => globals
                .long(name)
                .map_or(1, |o| trackit_tokens(o, &tail[j..])),
            None => {
                let c = tok.chars().nth(1).unwrap_or('-');
                match globals.short(c) {
                    Some(o) if o.takes_value && tok.len() == 2 && j + 1 < tail.len() => 2,
                    _ => 1,
                }
            }
        };
        lifted.extend(tail[j..j + used].iter().cloned());
        j += used;
    }
    let start = (j < tail.len()).then_some(0);
    (lifted, (checked_args(&tail[j..]), start))
}

fn verbatim(t: &str) -> JobToken {
    JobToken {
        text: t.to_string(),
        checked: false,
    }
}

/// The script or command and its arguments: checked up to the job's own `--`, if any.
fn checked_args(tokens: &[String]) -> Vec<JobToken> {
    let mut seen_dashes = false;
    tokens
        .iter()
        .enumerate()
        .map(|(k, t)| {
            if t == "--" {
                seen_dashes = true;
            }
            JobToken {
                text: t.clone(),
                // The script or command itself is never an option of trackit's.
                checked: k > 0 && !seen_dashes,
            }
        })
        .collect()
}

/// The first trackit-only option among the job's checked arguments, with the two commands
/// that say what was meant.
fn misplaced(
    head: &[String],
    lifted: &[String],
    job: &[JobToken],
    job_start: Option<usize>,
    globals: &Globals,
) -> Option<Misplaced> {
    let start = job_start?;
    let (k, opt) = job.iter().enumerate().find_map(|(k, t)| {
        if !t.checked {
            return None;
        }
        let name = long_name(&t.text)?;
        globals.trackit_only_long(name).map(|o| (k, o))
    })?;
    let texts: Vec<String> = job.iter().map(|t| t.text.clone()).collect();
    let used = trackit_tokens(opt, &texts[k..]);
    let moved: Vec<String> = texts[k..k + used].to_vec();
    let rest: Vec<String> = texts[..k]
        .iter()
        .chain(&texts[k + used..])
        .cloned()
        .collect();
    let (sub, before) = head.split_last().expect("the subcommand");
    let program = "trackit".to_string();
    let before = &before[1..];

    let mut for_trackit = vec![program.clone()];
    for_trackit.extend(before.iter().cloned());
    for_trackit.extend(lifted.iter().cloned());
    for_trackit.extend(moved.iter().cloned());
    for_trackit.push(sub.clone());
    for_trackit.extend(rest);

    let mut for_the_job = vec![program];
    for_the_job.extend(before.iter().cloned());
    for_the_job.extend(lifted.iter().cloned());
    for_the_job.push(sub.clone());
    for_the_job.extend(texts[..start].iter().cloned());
    for_the_job.push("--".into());
    for_the_job.extend(texts[start..].iter().cloned());

    Some(Misplaced {
        option: moved.join(" "),
        job: shell_join(&texts[start..k]),
        for_trackit: shell_join(&for_trackit),
        for_the_job: shell_join(&for_the_job),
    })
}

/// Words joined for a shell: quoted when they hold anything a shell would read specially.
pub fn shell_join(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            let plain = !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn globals() -> Globals {
        Globals::from_command(&crate::cli::Cli::command())
    }

    fn place_str(line: &str) -> Result<String, Misplaced> {
        let args: Vec<String> = line.split(' ').map(str::to_string).collect();
        place(&args, &globals()).map(|v| v.join(" "))
    }

    #[test]
    fn trackit_options_before_the_script_move_in_front() {
        assert_eq!(
            place_str("trackit sbatch --dry-run job.sh").unwrap(),
            "trackit --dry-run sbatch -- job.sh"
        );
        assert_eq!(
            place_str("trackit sbatch --mem 8G --policy sherlock -p gpu --no-pr job.sh a b")
                .unwrap(),
            "trackit --policy sherlock --no-pr sbatch -- --mem 8G -p gpu job.sh a b"
        );
        assert_eq!(
            place_str("trackit --json run --dry-run python train.py --lr 3").unwrap(),
            "trackit --json --dry-run run -- python train.py --lr 3"
        );
        assert_eq!(
            place_str("trackit --policy x sbatch --mem=1G job.sh").unwrap(),
            "trackit --policy x sbatch -- --mem=1G job.sh"
        );
    }

    #[test]
    fn sbatch_keeps_the_options_it_shares_with_trackit() {
        // -v/--verbose and --quiet are sbatch's there; -q is sbatch's --qos.
        assert_eq!(
            place_str("trackit sbatch -v --quiet -q long job.sh").unwrap(),
            "trackit sbatch -- -v --quiet -q long job.sh"
        );
        // ...but trackit's before `run`, which has no options of its own.
        assert_eq!(
            place_str("trackit run -v -q sh x.sh").unwrap(),
            "trackit -v -q run -- sh x.sh"
        );
    }

    #[test]
    fn a_value_that_looks_like_a_script_is_not_the_script() {
        // `--output log.sh`: the value of sbatch's --output, not the script.
        assert_eq!(
            place_str("trackit sbatch --output log.sh --dry-run job.sh").unwrap(),
            "trackit --dry-run sbatch -- --output log.sh job.sh"
        );
    }

    #[test]
    fn trackit_options_after_the_script_are_refused_with_both_fixes() {
        let m = place_str("trackit sbatch --mem=8G job.sh --dry-run").unwrap_err();
        assert_eq!(m.option, "--dry-run");
        assert_eq!(m.job, "job.sh");
        assert_eq!(m.for_trackit, "trackit --dry-run sbatch --mem=8G job.sh");
        assert_eq!(m.for_the_job, "trackit sbatch --mem=8G -- job.sh --dry-run");
        let m = place_str("trackit run python train.py --policy local --lr 3").unwrap_err();
        assert_eq!(m.option, "--policy local");
        assert_eq!(m.job, "python train.py");
        assert_eq!(
            m.for_trackit,
            "trackit --policy local run python train.py --lr 3"
        );
        assert_eq!(
            m.for_the_job,
            "trackit run -- python train.py --policy local --lr 3"
        );
        let text = m.to_string();
        assert!(text.contains("trackit --policy local run python train.py --lr 3"));
    }

    #[test]
    fn after_dashes_everything_is_the_jobs() {
        assert_eq!(
            place_str("trackit sbatch -- job.sh --dry-run").unwrap(),
            "trackit sbatch -- job.sh --dry-run"
        );
        assert_eq!(
            place_str("trackit sbatch --mem=1G -- job.sh --dry-run").unwrap(),
            "trackit sbatch -- --mem=1G job.sh --dry-run"
        );
        assert_eq!(
            place_str("trackit run -- python t.py --json").unwrap(),
            "trackit run -- python t.py --json"
        );
        // The job's own `--` (cargo run -- ...) ends the check too, and is kept.
        assert_eq!(
            place_str("trackit run cargo run -- --dry-run").unwrap(),
            "trackit run -- cargo run -- --dry-run"
        );
        // Common words the job uses are not trackit-only.
        assert_eq!(
            place_str("trackit run pip install -v --quiet x").unwrap(),
            "trackit run -- pip install -v --quiet x"
        );
    }

    #[test]
    fn other_subcommands_and_help_are_left_to_clap() {
        for line in [
            "trackit diagnose job.log --json",
            "trackit sbatch --help",
            "trackit run -h",
            "trackit sbatch",
            "trackit --policy sherlock",
            "trackit status x --json",
        ] {
            assert_eq!(place_str(line).unwrap(), line);
        }
    }

    #[test]
    fn quoting_for_display() {
        let w: Vec<String> = ["trackit", "run", "sh", "-c", "echo 'hi' && ls"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            shell_join(&w),
            r#"trackit run sh -c 'echo '\''hi'\'' && ls'"#
        );
    }
}
