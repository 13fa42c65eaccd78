//! sbatch options: which ones a fix may edit, how they are spelled (long, short, `=` or a
//! separate value), and where each one is set: on the sbatch command line or in `#SBATCH` lines.

use crate::job::{parse_duration, parse_mem};

/// What an option's value is, for validation and for caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A memory size (`16G`, `4000M`, `2048`).
    Mem,
    /// A SLURM duration (`90`, `01:30:00`, `1-00:00:00`, `UNLIMITED`).
    Time,
    /// A positive integer.
    Count,
    /// Any single word.
    Text,
}

/// An sbatch option a fix may set or remove.
#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    pub long: &'static str,
    pub short: Option<char>,
    pub kind: ValueKind,
}

const fn opt(long: &'static str, short: Option<char>, kind: ValueKind) -> OptionSpec {
    OptionSpec { long, short, kind }
}

/// The options fixes may edit.
pub const EDITABLE: &[OptionSpec] = &[
    opt("mem", None, ValueKind::Mem),
    opt("mem-per-cpu", None, ValueKind::Mem),
    opt("mem-per-gpu", None, ValueKind::Mem),
    opt("time", Some('t'), ValueKind::Time),
    opt("time-min", None, ValueKind::Time),
    opt("partition", Some('p'), ValueKind::Text),
    opt("gres", None, ValueKind::Text),
    opt("gpus", Some('G'), ValueKind::Text),
    opt("gpus-per-node", None, ValueKind::Text),
    opt("gpus-per-task", None, ValueKind::Text),
    opt("cpus-per-task", Some('c'), ValueKind::Count),
    opt("cpus-per-gpu", None, ValueKind::Count),
    opt("ntasks", Some('n'), ValueKind::Count),
    opt("ntasks-per-node", None, ValueKind::Count),
    opt("nodes", Some('N'), ValueKind::Text),
    opt("constraint", Some('C'), ValueKind::Text),
    opt("qos", Some('q'), ValueKind::Text),
    opt("exclude", Some('x'), ValueKind::Text),
    opt("nodelist", Some('w'), ValueKind::Text),
    opt("account", Some('A'), ValueKind::Text),
    opt("reservation", None, ValueKind::Text),
    opt("tmp", None, ValueKind::Mem),
    opt("licenses", Some('L'), ValueKind::Text),
    opt("container-image", None, ValueKind::Text),
];

/// sbatch options that never take a value (`--exclusive` and friends take one only after `=`).
const FLAGS: &[&str] = &[
    "exclusive",
    "hold",
    "parsable",
    "wait",
    "requeue",
    "no-requeue",
    "overcommit",
    "contiguous",
    "spread-job",
    "test-only",
    "use-min-nodes",
    "oversubscribe",
    "ignore-pbs",
    "quiet",
    "verbose",
    "help",
    "usage",
    "version",
    "no-kill",
    "get-user-env",
    "reboot",
    "export-file-nothing",
];
const SHORT_FLAGS: &[char] = &['h', 'H', 'k', 'O', 'Q', 's', 'v', 'V', 'W'];

/// The spec of an editable option by name: `mem`, `--mem`, `-t`, `t`.
pub fn lookup(name: &str) -> Option<&'static OptionSpec> {
    let trimmed = name.trim();
    let bare = trimmed.trim_start_matches('-');
    if trimmed.starts_with("--") || bare.chars().count() > 1 {
        return EDITABLE.iter().find(|o| o.long == bare);
    }
    let c = bare.chars().next()?;
    EDITABLE.iter().find(|o| o.short == Some(c))
}

/// Checks a value for an option; the error says what was expected.
pub fn check_value(spec: &OptionSpec, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("--{} needs a value", spec.long));
    }
    if value.chars().any(char::is_whitespace) {
        return Err(format!("--{} value {value:?} has white space", spec.long));
    }
    let ok = match spec.kind {
        ValueKind::Mem => parse_mem(value).is_some(),
        ValueKind::Time => {
            parse_duration(value).is_some()
                || value.eq_ignore_ascii_case("UNLIMITED")
                || value.eq_ignore_ascii_case("INFINITE")
        }
        ValueKind::Count => value.parse::<u32>().map(|n| n > 0).unwrap_or(false),
        ValueKind::Text => true,
    };
    if ok {
        Ok(())
    } else {
        let what = match spec.kind {
            ValueKind::Mem => "a memory size such as 16G or 4000M",
            ValueKind::Time => "a SLURM duration such as 90, 01:30:00 or 1-00:00:00",
            ValueKind::Count => "a positive integer",
            ValueKind::Text => "a value",
        };
        Err(format!("--{} {value:?}: expected {what}", spec.long))
    }
}

/// Where an option's value sits in a token list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueAt {
    /// In the option token itself, from this byte offset (`--mem=16G`, `-t10`).
    Joined(usize),
    /// The next token (`--mem 16G`, `-t 10`).
    Next,
}

/// One option found in a token list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The long name when the option is known, else the name as written without dashes.
    pub name: String,
    /// Index of the option token.
    pub token: usize,
    pub value_at: Option<ValueAt>,
    pub value: Option<String>,
}

impl Found {
    /// Index of the last token the option uses.
    pub fn last_token(&self) -> usize {
        match self.value_at {
            Some(ValueAt::Next) => self.token + 1,
            _ => self.token,
        }
    }
}

/// Parses sbatch-style options until the first token that is not one (the script, on a command
/// line; a comment, in an `#SBATCH` line). Returns the options and that token's index.
pub fn parse_options(tokens: &[String]) -> (Vec<Found>, Option<usize>) {
    let mut found = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let tok = tokens[i].as_str();
        if tok == "--" {
            return (found, (i + 1 < tokens.len()).then_some(i + 1));
        }
        if let Some(body) = tok.strip_prefix("--") {
            let (name, joined) = match body.split_once('=') {
                Some((n, _)) => (n, Some(2 + n.len() + 1)),
                None => (body, None),
            };
            let known = EDITABLE.iter().find(|o| o.long == name);
            let takes_value = known.is_some() || !FLAGS.contains(&name);
            let value_at = match (joined, takes_value) {
                (Some(off), _) => Some(ValueAt::Joined(off)),
                (None, true) if i + 1 < tokens.len() => Some(ValueAt::Next),
                _ => None,
            };
            let value = match &value_at {
                Some(ValueAt::Joined(off)) => Some(tok[*off..].to_string()),
                Some(ValueAt::Next) => Some(tokens[i + 1].clone()),
                None => None,
            };
            let f = Found {
                name: name.to_string(),
                token: i,
                value_at,
                value,
            };
            i = f.last_token() + 1;
            found.push(f);
            continue;
        }
        if tok.len() >= 2 && tok.starts_with('-') && !tok.starts_with("--") {
            let c = tok[1..].chars().next().unwrap_or('-');
            let known = EDITABLE.iter().find(|o| o.short == Some(c));
            let name = known.map(|o| o.long.to_string()).unwrap_or(c.to_string());
            let rest_at = 1 + c.len_utf8();
            let value_at = if SHORT_FLAGS.contains(&c) {
                None
            } else if tok.len() > rest_at {
                let off = if tok[rest_at..].starts_with('=') {
                    rest_at + 1
                } else {
                    rest_at
                };
                Some(ValueAt::Joined(off))
            } else if i + 1 < tokens.len() {
                Some(ValueAt::Next)
            } else {
                None
            };
            let value = match &value_at {
                Some(ValueAt::Joined(off)) => Some(tok[*off..].to_string()),
                Some(ValueAt::Next) => Some(tokens[i + 1].clone()),
                None => None,
            };
            let f = Found {
                name,
                token: i,
                value_at,
                value,
            };
            i = f.last_token() + 1;
            found.push(f);
            continue;
        }
        return (found, Some(i));
    }
    (found, None)
}

/// Sets the value of an option found in `tokens`.
pub fn set_in_tokens(tokens: &mut [String], f: &Found, value: &str) {
    match f.value_at {
        Some(ValueAt::Joined(off)) => {
            let head = tokens[f.token][..off].to_string();
            tokens[f.token] = format!("{head}{value}");
        }
        Some(ValueAt::Next) => tokens[f.token + 1] = value.to_string(),
        None => {
            let head = tokens[f.token].clone();
            tokens[f.token] = format!("{head}={value}");
        }
    }
}

/// Splits an `#SBATCH` line into the option tokens with their byte spans, or None when the line
/// is not a directive. Stops at a `#` that starts a comment.
pub fn directive_tokens(line: &str) -> Option<Vec<(usize, usize)>> {
    let rest = line.strip_prefix("#SBATCH")?;
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices().skip("#SBATCH".len()) {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            (false, None) => {
                if line[i..].starts_with('#') {
                    break;
                }
                start = Some(i);
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, line.len()));
    }
    Some(spans)
}

/// The `#SBATCH` block: sbatch reads directives until the first line that is neither blank nor a
/// comment. Returns the index of that first command line (or the line count).
pub fn first_command_line(lines: &[&str]) -> usize {
    lines
        .iter()
        .position(|l| {
            let t = l.trim();
            !(t.is_empty() || t.starts_with('#'))
        })
        .unwrap_or(lines.len())
}

/// An option set in the script: its line, and the option as found among that line's tokens.
#[derive(Debug, Clone)]
pub struct ScriptOption {
    pub line: usize,
    pub spans: Vec<(usize, usize)>,
    pub found: Found,
}

/// Every option in the script's `#SBATCH` block, in order.
pub fn script_options(script: &str) -> Vec<ScriptOption> {
    let lines: Vec<&str> = script.lines().collect();
    let end = first_command_line(&lines);
    let mut out = Vec::new();
    for (n, line) in lines.iter().enumerate().take(end) {
        let Some(spans) = directive_tokens(line) else {
            continue;
        };
        let tokens: Vec<String> = spans
            .iter()
            .map(|(s, e)| line[*s..*e].to_string())
            .collect();
        let (found, _) = parse_options(&tokens);
        for f in found {
            out.push(ScriptOption {
                line: n,
                spans: spans.clone(),
                found: f,
            });
        }
    }
    out
}

/// The option's value, last occurrence first: the command line wins over the script.
pub fn value_in(found: &[Found], long: &str) -> Option<String> {
    found
        .iter()
        .rev()
        .find(|f| f.name == long)
        .and_then(|f| f.value.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn long_short_joined_and_separate_forms() {
        let (found, script) = parse_options(&toks(
            "--mem=16G -t 10 -pgpu --time 20 --parsable job.sh --mem 1",
        ));
        assert_eq!(script, Some(7));
        let names: Vec<_> = found
            .iter()
            .map(|f| (f.name.as_str(), f.value.as_deref()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("mem", Some("16G")),
                ("time", Some("10")),
                ("partition", Some("gpu")),
                ("time", Some("20")),
                ("parsable", None),
            ]
        );
        assert_eq!(value_in(&found, "time").as_deref(), Some("20"));
    }

    #[test]
    fn directives_stop_at_comments_and_the_first_command() {
        let script = "#!/bin/bash\n#SBATCH -N 1 -n 4  # four tasks\n#SBATCH --mem=4G\n\n# note\necho hi\n#SBATCH --mem=8G\n";
        let opts = script_options(script);
        let got: Vec<_> = opts
            .iter()
            .map(|o| (o.line, o.found.name.as_str(), o.found.value.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "nodes", Some("1")),
                (1, "ntasks", Some("4")),
                (2, "mem", Some("4G"))
            ]
        );
        assert!(directive_tokens("#SBATCHX --mem=1").is_none());
    }

    #[test]
    fn names_and_values() {
        assert_eq!(lookup("-t").unwrap().long, "time");
        assert_eq!(lookup("--mem").unwrap().long, "mem");
        assert_eq!(lookup("c").unwrap().long, "cpus-per-task");
        assert!(lookup("memory").is_none());
        let mem = lookup("mem").unwrap();
        assert!(check_value(mem, "32G").is_ok());
        assert!(check_value(mem, "").is_err());
        assert!(check_value(mem, "lots").is_err());
        assert!(check_value(lookup("time").unwrap(), "2-00:00:00").is_ok());
        assert!(check_value(lookup("cpus-per-task").unwrap(), "0").is_err());
    }
}
