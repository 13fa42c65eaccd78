//! The diagnosis engine: rules declared as data (in the Lua policy), compiled once into a
//! regex set, matched against log tails and combined with the scheduler's state and exit code.
//!
//! Plain Rust: the Lua host decodes a policy's rules into [`RuleSpec`]s and hands them here.

use crate::job::{ExitStatus, JobInfo, JobState};
use crate::logtail::LogTail;
use regex::{Regex, RegexSet, RegexSetBuilder};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The diagnosis kinds trackit knows. Policies may add their own (any `snake_case` word).
pub const KINDS: [&str; 15] = [
    "oom",
    "timeout",
    "missing_dep",
    "path_error",
    "container",
    "disk_quota",
    "preempted",
    "node_fail",
    "cancelled",
    "submit_error",
    "distributed",
    "segfault",
    "user_code",
    "unknown",
    "none",
];

/// Kinds a relaunch may help with, unless a policy says otherwise.
pub const DEFAULT_FIXABLE: [&str; 8] = [
    "oom",
    "timeout",
    "missing_dep",
    "path_error",
    "container",
    "disk_quota",
    "preempted",
    "node_fail",
];

/// How many evidence lines a diagnosis carries at most.
const MAX_EVIDENCE: usize = 8;
/// How many hits per rule are remembered while scanning.
const MAX_HITS_PER_RULE: usize = 16;

/// One rule as a policy declares it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// The rule's key in the policy's `rules` table.
    #[serde(default)]
    pub name: String,
    pub kind: String,
    /// Higher wins when several rules match.
    #[serde(default)]
    pub priority: i64,
    /// Regexes (Rust `regex` syntax), any of which matching a line makes the rule match.
    /// Named groups (`(?P<module>...)`) become captures.
    #[serde(default)]
    pub patterns: Vec<String>,
    /// Regexes that, matching any line, veto the rule.
    #[serde(default)]
    pub unless: Vec<String>,
    /// Scheduler states the rule requires (any of them).
    #[serde(default)]
    pub states: Vec<String>,
    /// Exit codes the rule requires (any of them): `N` (exit code, any signal), `N:S`, or `:S`.
    #[serde(default)]
    pub exit_codes: Vec<String>,
    /// One-line summary; `{name}` is replaced by the capture `name`, `{line}` by the first
    /// evidence line, `{state}`/`{exit_code}` by the scheduler's.
    #[serde(default)]
    pub summary: Option<String>,
    /// Overrides whether the kind is fixable.
    #[serde(default)]
    pub fixable: Option<bool>,
    /// Fixed captures added when the rule wins (e.g. `{ source = "lmod" }`).
    #[serde(default)]
    pub captures: BTreeMap<String, String>,
}

/// One line of evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// `log` for a log line, `scheduler` for the state or exit code.
    #[serde(default = "default_source")]
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line number (in the file when the whole file was read, else in the tail window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub text: String,
    /// Which rule found it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

fn default_source() -> String {
    "log".to_string()
}

/// The result: what went wrong, why we think so, and whether a relaunch may help.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Diagnosis {
    pub kind: String,
    pub summary: String,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    #[serde(default)]
    pub captures: BTreeMap<String, String>,
    #[serde(default)]
    pub fixable: bool,
    /// The rule that decided, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Set when a policy's `diagnose` hook changed the rule engine's result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
}

/// Everything the engine looks at.
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub logs: Vec<LogTail>,
    pub state: Option<JobState>,
    pub exit: Option<ExitStatus>,
    /// Scheduler reasons (job or step), e.g. `OutOfMemory`, `NodeFail`.
    pub reasons: Vec<String>,
    /// Resource facts (ReqMem, MaxRSS, node) when known.
    pub job: Option<JobInfo>,
}

/// A rule that failed to compile.
#[derive(Debug, thiserror::Error)]
#[error("rule '{rule}': {message}")]
pub struct RuleError {
    pub rule: String,
    pub message: String,
}

struct CompiledRule {
    spec: RuleSpec,
    /// Per pattern: the regex, for captures on lines the set matched. Compiled on first use:
    /// most rules never match, and compiling every pattern twice would double start-up time.
    regexes: Vec<OnceLock<Regex>>,
    states: Vec<JobState>,
    exit_codes: Vec<ExitMatch>,
}

#[derive(Debug, Clone, Copy)]
enum ExitMatch {
    Code(i32),
    CodeSignal(i32, i32),
    Signal(i32),
}

impl ExitMatch {
    fn parse(s: &str) -> Option<ExitMatch> {
        let s = s.trim();
        match s.split_once(':') {
            Some(("", sig)) => sig.parse().ok().map(ExitMatch::Signal),
            Some((c, sig)) => Some(ExitMatch::CodeSignal(c.parse().ok()?, sig.parse().ok()?)),
            None => s.parse().ok().map(ExitMatch::Code),
        }
    }

    fn matches(self, e: &ExitStatus) -> bool {
        match self {
            ExitMatch::Code(c) => e.code == c,
            ExitMatch::CodeSignal(c, s) => e.code == c && e.signal.unwrap_or(0) == s,
            ExitMatch::Signal(s) => e.signal == Some(s),
        }
    }
}

/// What a pattern in the shared set belongs to.
#[derive(Clone, Copy)]
enum Owner {
    Match { rule: usize, pattern: usize },
    Veto { rule: usize },
}

/// A policy's rules, compiled once.
pub struct RuleSet {
    rules: Vec<CompiledRule>,
    set: RegexSet,
    owners: Vec<Owner>,
    fixable_kinds: Vec<String>,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("rules", &self.rules.len())
            .finish()
    }
}

#[derive(Debug, Clone, Copy)]
struct Hit {
    log: usize,
    line: usize,
    pattern: usize,
}

/// Checks a kind name: the known kinds, or a policy's own `snake_case` word.
pub fn valid_kind(kind: &str) -> bool {
    !kind.is_empty()
        && kind.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl RuleSet {
    /// Compiles rules. `fixable_kinds` lists kinds a relaunch may help (the policy's setting).
    pub fn compile(specs: Vec<RuleSpec>, fixable_kinds: Vec<String>) -> Result<RuleSet, RuleError> {
        let mut rules = Vec::with_capacity(specs.len());
        let mut sources = Vec::new();
        let mut owners = Vec::new();
        for (ri, spec) in specs.into_iter().enumerate() {
            let err = |message: String| RuleError {
                rule: spec.name.clone(),
                message,
            };
            if !valid_kind(&spec.kind) {
                return Err(err(format!(
                    "kind '{}' is not a snake_case word (known kinds: {})",
                    spec.kind,
                    KINDS.join(", ")
                )));
            }
            if spec.patterns.is_empty() && spec.states.is_empty() && spec.exit_codes.is_empty() {
                return Err(err(
                    "needs at least one of patterns, states or exit_codes".into()
                ));
            }
            let mut regexes = Vec::new();
            for (pi, p) in spec.patterns.iter().enumerate() {
                regexes.push(OnceLock::new());
                sources.push(p.clone());
                owners.push(Owner::Match {
                    rule: ri,
                    pattern: pi,
                });
            }
            for p in &spec.unless {
                sources.push(p.clone());
                owners.push(Owner::Veto { rule: ri });
            }
            let states = spec
                .states
                .iter()
                .map(|s| s.parse::<JobState>().map_err(|e| err(e)))
                .collect::<Result<Vec<_>, _>>()?;
            let exit_codes = spec
                .exit_codes
                .iter()
                .map(|s| {
                    ExitMatch::parse(s)
                        .ok_or_else(|| err(format!("invalid exit code {s:?}: use N, N:S or :S")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            rules.push(CompiledRule {
                spec,
                regexes,
                states,
                exit_codes,
            });
        }
        let set = RegexSetBuilder::new(&sources)
            .size_limit(64 << 20)
            .build()
            .map_err(|set_err| {
                // Name the rule and pattern that broke the set.
                for (src, owner) in sources.iter().zip(&owners) {
                    if let Err(e) = Regex::new(src) {
                        let (Owner::Match { rule, .. } | Owner::Veto { rule }) = *owner;
                        let what = if matches!(owner, Owner::Veto { .. }) {
                            "'unless' pattern"
                        } else {
                            "pattern"
                        };
                        return RuleError {
                            rule: rules[rule].spec.name.clone(),
                            message: format!("invalid {what} {src:?}: {e}"),
                        };
                    }
                }
                RuleError {
                    rule: "(all)".into(),
                    message: set_err.to_string(),
                }
            })?;
        Ok(RuleSet {
            rules,
            set,
            owners,
            fixable_kinds,
        })
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether `kind` is fixable by default under this policy.
    pub fn kind_fixable(&self, kind: &str) -> bool {
        self.fixable_kinds.iter().any(|k| k == kind)
    }

    /// Runs every rule over the input and returns the best-supported diagnosis.
    pub fn diagnose(&self, input: &Input) -> Diagnosis {
        let mut hits: Vec<Vec<Hit>> = vec![Vec::new(); self.rules.len()];
        let mut vetoed = vec![false; self.rules.len()];
        let mut matched = Vec::new();
        for (li, log) in input.logs.iter().enumerate() {
            for (ln, line) in log.lines.iter().enumerate() {
                if line.is_empty() {
                    continue;
                }
                matched.clear();
                matched.extend(self.set.matches(line).iter());
                for &idx in &matched {
                    match self.owners[idx] {
                        Owner::Veto { rule } => vetoed[rule] = true,
                        Owner::Match { rule, pattern } => {
                            let h = &mut hits[rule];
                            // Keep the first hits and always the latest one.
                            if h.len() < MAX_HITS_PER_RULE {
                                h.push(Hit {
                                    log: li,
                                    line: ln,
                                    pattern,
                                });
                            } else {
                                h[MAX_HITS_PER_RULE - 1] = Hit {
                                    log: li,
                                    line: ln,
                                    pattern,
                                };
                            }
                        }
                    }
                }
            }
        }

        // Candidates: rules whose every stated condition holds.
        let mut best: Option<(
            usize,
            (
                i64,
                std::cmp::Reverse<(usize, usize)>,
                std::cmp::Reverse<String>,
            ),
        )> = None;
        for (ri, rule) in self.rules.iter().enumerate() {
            if vetoed[ri] || !self.conditions_hold(ri, &hits[ri], input) {
                continue;
            }
            // Ties go to the rule whose evidence comes first: causes precede their fallout.
            let first = hits[ri]
                .first()
                .map(|h| (h.log, h.line))
                .unwrap_or((usize::MAX, usize::MAX));
            let key = (
                rule.spec.priority,
                std::cmp::Reverse(first),
                std::cmp::Reverse(rule.spec.name.clone()),
            );
            if best.as_ref().is_none_or(|(_, k)| key > *k) {
                best = Some((ri, key));
            }
        }

        match best {
            Some((ri, _)) => self.build(ri, &hits, &vetoed, input),
            None => fallback(input, self),
        }
    }

    fn conditions_hold(&self, ri: usize, hits: &[Hit], input: &Input) -> bool {
        let rule = &self.rules[ri];
        if !rule.spec.patterns.is_empty() && hits.is_empty() {
            return false;
        }
        if !rule.states.is_empty() && !input.state.is_some_and(|s| rule.states.contains(&s)) {
            return false;
        }
        if !rule.exit_codes.is_empty()
            && !input
                .exit
                .as_ref()
                .is_some_and(|e| rule.exit_codes.iter().any(|m| m.matches(e)))
        {
            return false;
        }
        true
    }

    fn build(&self, winner: usize, hits: &[Vec<Hit>], vetoed: &[bool], input: &Input) -> Diagnosis {
        let rule = &self.rules[winner];
        let kind = rule.spec.kind.clone();
        let mut captures = BTreeMap::new();
        let mut evidence = Vec::new();

        // Evidence: the winner's lines first, then other matching rules of the same kind.
        let mut supporting: Vec<usize> = (0..self.rules.len())
            .filter(|&ri| {
                ri != winner
                    && !vetoed[ri]
                    && self.rules[ri].spec.kind == kind
                    && !hits[ri].is_empty()
                    && self.conditions_hold(ri, &hits[ri], input)
            })
            .collect();
        supporting.insert(0, winner);
        let mut seen = std::collections::HashSet::new();
        for &ri in &supporting {
            let r = &self.rules[ri];
            for h in &hits[ri] {
                let log = &input.logs[h.log];
                let text = &log.lines[h.line];
                let re = r.regexes[h.pattern].get_or_init(|| {
                    Regex::new(&r.spec.patterns[h.pattern]).expect("compiled in the set already")
                });
                if let Some(caps) = re.captures(text) {
                    for name in re.capture_names().flatten() {
                        if let Some(m) = caps.name(name) {
                            captures
                                .entry(name.to_string())
                                .or_insert_with(|| m.as_str().to_string());
                        }
                    }
                }
                if seen.insert((h.log, h.line)) && evidence.len() < MAX_EVIDENCE {
                    evidence.push(Evidence {
                        source: "log".into(),
                        file: Some(log.path.display().to_string()),
                        line: Some(log.line_number(h.line)),
                        text: text.trim_end().to_string(),
                        rule: Some(r.spec.name.clone()),
                    });
                }
            }
        }
        // The strongest rule's lines first (the deciding rule's, then supporting rules' by
        // priority), each rule's lines in log order.
        let priority_of = |name: &Option<String>| {
            self.rules
                .iter()
                .find(|r| Some(&r.spec.name) == name.as_ref())
                .map(|r| r.spec.priority)
                .unwrap_or(i64::MIN)
        };
        let winner_name = Some(rule.spec.name.clone());
        evidence.sort_by_key(|e| {
            let li = input
                .logs
                .iter()
                .position(|l| Some(l.path.display().to_string()) == e.file);
            (
                e.rule != winner_name,
                std::cmp::Reverse(priority_of(&e.rule)),
                li,
                e.line,
            )
        });
        for (k, v) in &rule.spec.captures {
            captures.entry(k.clone()).or_insert_with(|| v.clone());
        }
        add_scheduler_facts(input, &mut captures);
        if (!rule.states.is_empty() || !rule.exit_codes.is_empty()) || evidence.is_empty() {
            if let Some(text) = scheduler_text(input) {
                evidence.insert(
                    0,
                    Evidence {
                        source: "scheduler".into(),
                        file: None,
                        line: None,
                        text,
                        rule: Some(rule.spec.name.clone()),
                    },
                );
            }
        }
        let fixable = rule
            .spec
            .fixable
            .unwrap_or_else(|| self.kind_fixable(&kind));
        let summary = render_summary(
            rule.spec.summary.as_deref(),
            &kind,
            &captures,
            &evidence,
            input,
            Some(rule.spec.name.clone()),
        );
        Diagnosis {
            kind,
            summary,
            evidence,
            captures,
            fixable,
            rule: Some(rule.spec.name.clone()),
            decided_by: None,
        }
    }
}

/// With no rule matching: a finished job is `none`; a failed one is `unknown`.
fn fallback(input: &Input, rules: &RuleSet) -> Diagnosis {
    let failed_state = input
        .state
        .is_some_and(|s| s.is_terminal() && !s.is_success());
    let failed_exit = input.exit.as_ref().is_some_and(|e| !e.is_success());
    let mut captures = BTreeMap::new();
    add_scheduler_facts(input, &mut captures);
    let evidence: Vec<Evidence> = scheduler_text(input)
        .map(|text| {
            vec![Evidence {
                source: "scheduler".into(),
                file: None,
                line: None,
                text,
                rule: None,
            }]
        })
        .unwrap_or_default();
    let (kind, summary) = if failed_state || failed_exit {
        let what = scheduler_text(input).unwrap_or_default();
        (
            "unknown",
            format!("the job failed ({what}) and no rule matched its log"),
        )
    } else if input.state.is_some_and(|s| !s.is_terminal()) {
        ("none", "the job has not finished".to_string())
    } else {
        ("none", "no failure found".to_string())
    };
    Diagnosis {
        kind: kind.into(),
        summary,
        evidence,
        captures,
        fixable: rules.kind_fixable(kind),
        rule: None,
        decided_by: None,
    }
}

fn scheduler_text(input: &Input) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(s) = input.state {
        parts.push(format!("state {s}"));
    }
    if let Some(e) = &input.exit {
        parts.push(format!("exit code {e}"));
    }
    if !input.reasons.is_empty() {
        parts.push(format!("reason {}", input.reasons.join(", ")));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn add_scheduler_facts(input: &Input, captures: &mut BTreeMap<String, String>) {
    if let Some(s) = input.state {
        captures
            .entry("state".into())
            .or_insert_with(|| s.to_string());
    }
    if let Some(e) = &input.exit {
        captures
            .entry("exit_code".into())
            .or_insert_with(|| e.to_string());
    }
    if let Some(job) = &input.job {
        if let Some(m) = job.req_mem_bytes {
            captures
                .entry("mem_requested".into())
                .or_insert_with(|| crate::job::format_mem(m));
        }
        if let Some(m) = job.max_rss_bytes {
            captures
                .entry("mem_used".into())
                .or_insert_with(|| crate::job::format_mem(m));
        }
        if let Some(t) = job.timelimit_s {
            captures
                .entry("time_limit".into())
                .or_insert_with(|| crate::job::format_duration(t));
        }
        if let Some(n) = &job.node_list {
            captures.entry("node".into()).or_insert_with(|| n.clone());
        }
    }
}

fn render_summary(
    template: Option<&str>,
    kind: &str,
    captures: &BTreeMap<String, String>,
    evidence: &[Evidence],
    input: &Input,
    rule_name: Option<String>,
) -> String {
    // `{line}` is the deciding rule's own first line, not a supporting rule's.
    let first_line = evidence
        .iter()
        .find(|e| e.source == "log" && e.rule == rule_name)
        .or_else(|| evidence.iter().find(|e| e.source == "log"))
        .or(evidence.first())
        .map(|e| e.text.trim().to_string())
        .unwrap_or_default();
    let Some(t) = template else {
        return if first_line.is_empty() {
            kind.to_string()
        } else {
            shorten(&first_line, 160)
        };
    };
    let mut out = String::new();
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let key = &after[..close];
                let value = match key {
                    "line" => Some(shorten(&first_line, 160)),
                    "state" => input
                        .state
                        .map(|s| s.to_string())
                        .or_else(|| captures.get(key).cloned()),
                    "exit_code" => input
                        .exit
                        .map(|e| e.to_string())
                        .or_else(|| captures.get(key).cloned()),
                    _ => captures.get(key).cloned(),
                };
                out.push_str(value.as_deref().unwrap_or(""));
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    // A capture that was absent leaves a dangling separator: "raised X: " -> "raised X".
    out.trim_end_matches([' ', ':', ',']).to_string()
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn log(lines: &[&str]) -> LogTail {
        LogTail {
            path: PathBuf::from("job.out"),
            file_size: 0,
            start_offset: 0,
            complete: true,
            lines: lines.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn rule(name: &str, kind: &str, priority: i64, patterns: &[&str]) -> RuleSpec {
        RuleSpec {
            name: name.into(),
            kind: kind.into(),
            priority,
            patterns: patterns.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn priority_then_position_decide() {
        let rules = RuleSet::compile(
            vec![
                rule("nofile", "path_error", 40, &[r"No such file or directory"]),
                rule(
                    "lib",
                    "missing_dep",
                    70,
                    &[r"error while loading shared libraries: (?P<library>\S+):"],
                ),
            ],
            vec!["missing_dep".into()],
        )
        .unwrap();
        let d = rules.diagnose(&Input {
            logs: vec![log(&[
                "x: error while loading shared libraries: libgsl.so.25: cannot open shared object file: No such file or directory",
                "FileNotFoundError: [Errno 2] No such file or directory: 'out.txt'",
            ])],
            ..Default::default()
        });
        assert_eq!(d.kind, "missing_dep");
        assert_eq!(d.captures["library"], "libgsl.so.25");
        assert!(d.fixable);
        assert_eq!(d.evidence[0].line, Some(1));
    }

    #[test]
    fn states_exit_codes_and_vetoes() {
        let mut oom_state = rule("oom_state", "oom", 100, &[]);
        oom_state.states = vec!["OUT_OF_MEMORY".into()];
        let mut sig = rule("signal9", "oom", 10, &[]);
        sig.exit_codes = vec![":9".into()];
        let mut cancelled = rule("cancel", "cancelled", 50, &[r"CANCELLED AT \S+"]);
        cancelled.unless = vec![r"DUE TO".into()];
        let rules = RuleSet::compile(vec![oom_state, sig, cancelled], vec![]).unwrap();

        let d = rules.diagnose(&Input {
            state: Some(JobState::OutOfMemory),
            exit: Some("0:125".parse().unwrap()),
            ..Default::default()
        });
        assert_eq!(d.kind, "oom");
        assert_eq!(d.evidence[0].source, "scheduler");

        let d = rules.diagnose(&Input {
            logs: vec![log(&[
                "*** JOB 5 ON n1 CANCELLED AT 2024-01-01T00:00:00 DUE TO TIME LIMIT ***",
            ])],
            ..Default::default()
        });
        assert_eq!(d.kind, "none", "vetoed rule must not match: {d:?}");

        let d = rules.diagnose(&Input {
            exit: Some("137".parse().unwrap()),
            ..Default::default()
        });
        assert_eq!(d.kind, "unknown", "exit 137 alone is not oom");
    }

    #[test]
    fn bad_rules_are_reported_by_name() {
        let err =
            RuleSet::compile(vec![rule("broken", "oom", 1, &["(unclosed"])], vec![]).unwrap_err();
        assert_eq!(err.rule, "broken");
        let err = RuleSet::compile(vec![rule("k", "Bad Kind", 1, &["x"])], vec![]).unwrap_err();
        assert!(err.message.contains("snake_case"));
        let err = RuleSet::compile(vec![rule("empty", "oom", 1, &[])], vec![]).unwrap_err();
        assert!(err.message.contains("at least one"));
    }

    #[test]
    fn summary_template_uses_captures() {
        let mut r = rule(
            "mod",
            "missing_dep",
            1,
            &[r"No module named '(?P<module>[\w.]+)'"],
        );
        r.summary = Some("Python module {module} is not installed".into());
        let rules = RuleSet::compile(vec![r], vec![]).unwrap();
        let d = rules.diagnose(&Input {
            logs: vec![log(&["ModuleNotFoundError: No module named 'cv2'"])],
            ..Default::default()
        });
        assert_eq!(d.summary, "Python module cv2 is not installed");
    }
}
