//! sbatch's own command-line options and whether each takes a value, so trackit can tell where
//! the options end and the script begins (`trackit sbatch --mem 8G --dry-run job.sh`), and which
//! of its own flags sbatch also has (`-v`, `--verbose`, `-Q`/`--quiet`).
//!
//! The table is `sbatch --help` and `man sbatch` of Slurm 22.05 (Debian 12), checked against
//! the option list `--usage` prints. Options a site adds through SPANK plugins (pyxis's
//! `--container-image`, ...) are not listed: an unknown `--name` is taken as a flag unless it
//! carries `=value`, since plugin options are almost always written that way.

/// How an option takes its value (getopt_long's `has_arg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    /// Never a value (`--parsable`).
    Flag,
    /// A value, in the same token (`--mem=8G`, `-p gpu`... `-pgpu`) or the next one
    /// (`--mem 8G`, `-p gpu`).
    Value,
    /// A value only after `=` (`--exclusive`, `--exclusive=user`).
    OptionalJoined,
}

use Arity::*;

/// Long options: name, arity.
pub const LONG: &[(&str, Arity)] = &[
    ("account", Value),
    ("acctg-freq", Value),
    ("array", Value),
    ("batch", Value),
    ("bb", Value),
    ("bbf", Value),
    ("begin", Value),
    ("chdir", Value),
    ("cluster-constraint", Value),
    ("clusters", Value),
    ("comment", Value),
    ("constraint", Value),
    ("container", Value),
    ("contiguous", Flag),
    ("core-spec", Value),
    ("cores-per-socket", Value),
    ("cpu-freq", Value),
    ("cpus-per-gpu", Value),
    ("cpus-per-task", Value),
    ("deadline", Value),
    ("delay-boot", Value),
    ("dependency", Value),
    ("distribution", Value),
    ("error", Value),
    ("exclude", Value),
    ("exclusive", OptionalJoined),
    ("export", Value),
    ("export-file", Value),
    ("extra-node-info", Value),
    ("get-user-env", OptionalJoined),
    ("gid", Value),
    ("gpu-bind", Value),
    ("gpu-freq", Value),
    ("gpus", Value),
    ("gpus-per-node", Value),
    ("gpus-per-socket", Value),
    ("gpus-per-task", Value),
    ("gres", Value),
    ("gres-flags", Value),
    ("help", Flag),
    ("hint", Value),
    ("hold", Flag),
    ("ignore-pbs", Flag),
    ("input", Value),
    ("job-name", Value),
    ("kill-on-invalid-dep", Value),
    ("licenses", Value),
    ("mail-type", Value),
    ("mail-user", Value),
    ("mcs-label", Value),
    ("mem", Value),
    ("mem-bind", Value),
    ("mem-per-cpu", Value),
    ("mem-per-gpu", Value),
    ("mincpus", Value),
    ("network", Value),
    ("nice", OptionalJoined),
    ("no-kill", OptionalJoined),
    ("no-requeue", Flag),
    ("nodefile", Value),
    ("nodelist", Value),
    ("nodes", Value),
    ("ntasks", Value),
    ("ntasks-per-core", Value),
    ("ntasks-per-gpu", Value),
    ("ntasks-per-node", Value),
    ("ntasks-per-socket", Value),
    ("open-mode", Value),
    ("output", Value),
    ("overcommit", Flag),
    ("oversubscribe", Flag),
    ("parsable", Flag),
    ("partition", Value),
    ("power", Value),
    ("prefer", Value),
    ("priority", Value),
    ("profile", Value),
    ("propagate", OptionalJoined),
    ("qos", Value),
    ("quiet", Flag),
    ("reboot", Flag),
    ("requeue", Flag),
    ("reservation", Value),
    ("signal", Value),
    ("sockets-per-node", Value),
    ("spread-job", Flag),
    ("switches", Value),
    ("test-only", Flag),
    ("thread-spec", Value),
    ("threads-per-core", Value),
    ("time", Value),
    ("time-min", Value),
    ("tmp", Value),
    ("uid", Value),
    ("usage", Flag),
    ("use-min-nodes", Flag),
    ("verbose", Flag),
    ("version", Flag),
    ("wait", Flag),
    ("wait-all-nodes", Value),
    ("wckey", Value),
    ("wrap", Value),
];

/// Short options: letter, arity.
pub const SHORT: &[(char, Arity)] = &[
    ('A', Value),
    ('B', Value),
    ('C', Value),
    ('D', Value),
    ('F', Value),
    ('G', Value),
    ('H', Flag),
    ('J', Value),
    ('L', Value),
    ('M', Value),
    ('N', Value),
    ('O', Flag),
    ('Q', Flag),
    ('S', Value),
    ('V', Flag),
    ('W', Flag),
    ('a', Value),
    ('b', Value),
    ('c', Value),
    ('d', Value),
    ('e', Value),
    ('h', Flag),
    ('i', Value),
    ('k', OptionalJoined),
    ('m', Value),
    ('n', Value),
    ('o', Value),
    ('p', Value),
    ('q', Value),
    ('s', Flag),
    ('t', Value),
    ('v', Flag),
    ('w', Value),
    ('x', Value),
];

/// sbatch's long option `name` (without dashes), if it has one.
pub fn long(name: &str) -> Option<Arity> {
    LONG.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
}

/// sbatch's short option `c`, if it has one.
pub fn short(c: char) -> Option<Arity> {
    SHORT.iter().find(|(s, _)| *s == c).map(|(_, a)| *a)
}

/// How many tokens the option at `tokens[0]` uses (1 or 2), for an option sbatch knows or a
/// site option it does not (taken as a flag unless it has `=value`).
pub fn tokens_used(tokens: &[String]) -> usize {
    let Some(tok) = tokens.first() else { return 0 };
    let has_next = tokens.len() > 1;
    if let Some(body) = tok.strip_prefix("--") {
        if body.contains('=') {
            return 1;
        }
        return match long(body) {
            Some(Value) if has_next => 2,
            _ => 1,
        };
    }
    let mut chars = tok.chars().skip(1);
    match (chars.next().and_then(short), chars.next()) {
        // `-p gpu`; `-pgpu` carries its value.
        (Some(Value), None) if has_next => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn values_are_joined_or_next() {
        assert_eq!(tokens_used(&v(&["--mem", "8G", "job.sh"])), 2);
        assert_eq!(tokens_used(&v(&["--mem=8G", "job.sh"])), 1);
        assert_eq!(tokens_used(&v(&["-p", "gpu", "job.sh"])), 2);
        assert_eq!(tokens_used(&v(&["-pgpu", "job.sh"])), 1);
        assert_eq!(tokens_used(&v(&["--exclusive", "job.sh"])), 1);
        assert_eq!(tokens_used(&v(&["--parsable", "job.sh"])), 1);
        assert_eq!(tokens_used(&v(&["-H", "job.sh"])), 1);
        assert_eq!(tokens_used(&v(&["--container-image", "job.sh"])), 1);
    }

    #[test]
    fn the_table_is_sorted_and_has_no_duplicates() {
        let names: Vec<&str> = LONG.iter().map(|(n, _)| *n).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
    }

    /// Every long option this machine's sbatch lists is in the table. Without sbatch: a skip
    /// with the reason, except under CI, where it is a failure.
    #[test]
    fn the_table_covers_the_installed_sbatch() {
        let out = match std::process::Command::new("sbatch").arg("--usage").output() {
            Ok(o) => o,
            Err(e) => {
                assert!(
                    !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
                    "sbatch required under CI: {e}"
                );
                eprintln!("SKIPPED: no sbatch here: {e}");
                return;
            }
        };
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        let re = regex::Regex::new(r"\[--([a-z][a-z0-9-]*)").unwrap();
        let listed: Vec<String> = re.captures_iter(&text).map(|c| c[1].to_string()).collect();
        assert!(listed.len() > 40, "sbatch --usage: {text}");
        let missing: Vec<&String> = listed.iter().filter(|n| long(n).is_none()).collect();
        assert!(missing.is_empty(), "sbatch options missing: {missing:?}");
    }
}
