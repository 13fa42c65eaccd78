//! The diagnosis engine: rules declared as data (in the Lua policy), compiled once into a
//! regex set, matched against log tails and combined with the scheduler's state and exit code.
//!
//! Plain Rust: the Lua host decodes a policy's rules into [`RuleSpec`]s and hands them here.

use crate::job::{ExitStatus, JobInfo, JobState};
use crate::logtail::LogTail;
use matcher::PatternMatcher;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

pub(crate) mod matcher;
mod prefix;

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
/// How many lines an explanation shows per rule.
const MAX_TRACE_LINES: usize = 3;
/// Priority points within which two fixable kinds contest a verdict, unless a policy says otherwise.
pub const DEFAULT_CONTEST_MARGIN: i64 = 10;

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
    /// Regexes that, matching any line of the logs, veto the whole rule.
    #[serde(default)]
    pub unless: Vec<String>,
    /// Regexes that cancel a match on the same line only (a negation such as `OOMKilled: false`,
    /// a warning that merely mentions the words).
    #[serde(default)]
    pub unless_line: Vec<String>,
    /// Regexes of which one must match some line of the logs for the rule to hold: the context
    /// a match means something in (a container image being built, say).
    #[serde(default)]
    pub requires: Vec<String>,
    /// When true, the rule's last matching line decides (its captures, the summary's `{line}`,
    /// the first evidence line): a traceback's final exception, not an earlier one.
    #[serde(default)]
    pub last_match: bool,
    /// Scheduler states the rule requires (any of them).
    #[serde(default)]
    pub states: Vec<String>,
    /// Exit codes the rule requires (any of them): `N` (exit code, any signal), `N:S`, or `:S`.
    #[serde(default)]
    pub exit_codes: Vec<String>,
    /// Scheduler reasons the rule requires (any of them): regexes, case-insensitive, matched
    /// against each reason (e.g. `^preempt`, `OutOfMemory`).
    #[serde(default)]
    pub reasons: Vec<String>,
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

/// A block of lines that says nothing about how the job ended, so no rule reads it: it starts
/// at a line matching `starts`, takes the lines after it that match `continues`, and ends with
/// the first line that does not. Python's `Exception ignored in:` traceback (a `__del__` or an
/// exit handler that failed while the program went on) is one: indented frames, then its
/// exception line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoredBlock {
    pub starts: String,
    pub continues: String,
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

/// What happened to one rule while diagnosing, for `trackit diagnose --explain`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleTrace {
    pub rule: String,
    pub kind: String,
    pub priority: i64,
    /// Whether the rule's kind triggers a fix.
    pub fixable: bool,
    /// `decided`, `agrees` (same kind as the verdict), `contested` (a fixable kind within the
    /// contest margin of the verdict's), `outranked`, `vetoed` (an `unless` line), `cancelled`
    /// (every match cancelled by `unless_line`) or `unmet` (matched, but the scheduler's state,
    /// exit code or reason is not one the rule requires).
    pub outcome: String,
    /// The lines it matched (the first few), or the scheduler's facts for a state rule.
    pub lines: Vec<Evidence>,
    /// Why the outcome: the vetoing line and pattern, the cancelled lines, the unmet condition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How the rules reached a verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// Rules that matched, were vetoed, or had matches cancelled; the deciding rule first.
    pub rules: Vec<RuleTrace>,
    /// How the verdict was chosen, in one sentence.
    pub verdict: String,
    /// The first line of each block no rule read (`settings.ignored_blocks`), the first few.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<Evidence>,
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
    reasons: Vec<Regex>,
}

impl CompiledRule {
    fn has_conditions(&self) -> bool {
        !self.states.is_empty() || !self.exit_codes.is_empty() || !self.reasons.is_empty()
    }
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
    Veto { rule: usize, pattern: usize },
    LineVeto { rule: usize, pattern: usize },
    Require { rule: usize },
}

/// A policy's rules, compiled once.
pub struct RuleSet {
    rules: Vec<CompiledRule>,
    patterns: PatternMatcher,
    owners: Vec<Owner>,
    fixable_kinds: Vec<String>,
    contest_margin: i64,
    /// `(starts, continues)` per ignored block.
    ignored_blocks: Vec<(Regex, Regex)>,
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

/// What one scan of the logs found, per rule.
struct Scan {
    hits: Vec<Vec<Hit>>,
    /// The first line that vetoed the rule: (log, line, `unless` pattern index).
    vetoes: Vec<Option<(usize, usize, usize)>>,
    /// Matches cancelled by `unless_line`: (log, line, pattern index), the first few.
    cancelled: Vec<Vec<(usize, usize, usize)>>,
    /// Whether some line matched one of the rule's `requires` patterns.
    required: Vec<bool>,
    /// Where each ignored block starts: (log, line), the first few.
    ignored: Vec<(usize, usize)>,
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
            if spec.patterns.is_empty()
                && spec.states.is_empty()
                && spec.exit_codes.is_empty()
                && spec.reasons.is_empty()
            {
                return Err(err(
                    "needs at least one of patterns, states, exit_codes or reasons".into(),
                ));
            }
            if !spec.unless_line.is_empty() && spec.patterns.is_empty() {
                return Err(err(
                    "unless_line cancels matches of patterns, and the rule has none".into(),
                ));
            }
            if spec.last_match && spec.patterns.is_empty() {
                return Err(err(
                    "last_match picks among pattern matches, and the rule has none".into(),
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
            for (pi, p) in spec.unless.iter().enumerate() {
                sources.push(p.clone());
                owners.push(Owner::Veto {
                    rule: ri,
                    pattern: pi,
                });
            }
            for (pi, p) in spec.unless_line.iter().enumerate() {
                sources.push(p.clone());
                owners.push(Owner::LineVeto {
                    rule: ri,
                    pattern: pi,
                });
            }
            for p in &spec.requires {
                sources.push(p.clone());
                owners.push(Owner::Require { rule: ri });
            }
            let states = spec
                .states
                .iter()
                .map(|s| s.parse::<JobState>().map_err(&err))
                .collect::<Result<Vec<_>, _>>()?;
            let exit_codes = spec
                .exit_codes
                .iter()
                .map(|s| {
                    ExitMatch::parse(s)
                        .ok_or_else(|| err(format!("invalid exit code {s:?}: use N, N:S or :S")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let reasons = spec
                .reasons
                .iter()
                .map(|r| {
                    regex::RegexBuilder::new(r)
                        .case_insensitive(true)
                        .build()
                        .map_err(|e| err(format!("invalid reason pattern {r:?}: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            rules.push(CompiledRule {
                spec,
                regexes,
                states,
                exit_codes,
                reasons,
            });
        }
        let patterns = PatternMatcher::new(sources.clone()).map_err(|e| {
            let (what, rule) = match owners[e.index] {
                Owner::Match { rule, .. } => ("pattern", rule),
                Owner::Veto { rule, .. } => ("'unless' pattern", rule),
                Owner::LineVeto { rule, .. } => ("'unless_line' pattern", rule),
                Owner::Require { rule } => ("'requires' pattern", rule),
            };
            RuleError {
                rule: rules[rule].spec.name.clone(),
                message: format!("invalid {what} {:?}: {}", sources[e.index], e.message),
            }
        })?;
        Ok(RuleSet {
            rules,
            patterns,
            owners,
            fixable_kinds,
            contest_margin: DEFAULT_CONTEST_MARGIN,
            ignored_blocks: Vec::new(),
        })
    }

    /// Sets how close (in priority points) a different fixable kind must come to the best rule's
    /// to contest the verdict, which then becomes `unknown`. 0 contests only ties.
    pub fn with_contest_margin(mut self, margin: i64) -> RuleSet {
        self.contest_margin = margin.max(0);
        self
    }

    /// Every pattern the rules hold (`patterns`, `unless`, `unless_line`, `requires`).
    pub fn pattern_sources(&self) -> &[String] {
        self.patterns.sources()
    }

    /// Sets the blocks of lines no rule reads (see [`IgnoredBlock`]).
    pub fn with_ignored_blocks(mut self, blocks: &[IgnoredBlock]) -> Result<RuleSet, RuleError> {
        let compile = |what: &str, i: usize, src: &str| {
            Regex::new(src).map_err(|e| RuleError {
                rule: format!("ignored_blocks[{}]", i + 1),
                message: format!("invalid '{what}' pattern {src:?}: {e}"),
            })
        };
        self.ignored_blocks = blocks
            .iter()
            .enumerate()
            .map(|(i, b)| {
                Ok((
                    compile("starts", i, &b.starts)?,
                    compile("continues", i, &b.continues)?,
                ))
            })
            .collect::<Result<_, RuleError>>()?;
        Ok(self)
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

    fn rule_fixable(&self, ri: usize) -> bool {
        let spec = &self.rules[ri].spec;
        spec.fixable
            .unwrap_or_else(|| self.kind_fixable(&spec.kind))
    }

    /// Runs every rule over the input and returns the best-supported diagnosis.
    pub fn diagnose(&self, input: &Input) -> Diagnosis {
        self.explain(input).0
    }

    fn scan(&self, input: &Input) -> Scan {
        let n = self.rules.len();
        let mut scan = Scan {
            hits: vec![Vec::new(); n],
            vetoes: vec![None; n],
            cancelled: vec![Vec::new(); n],
            required: vec![false; n],
            ignored: Vec::new(),
        };
        let mut matched = Vec::new();
        let mut body_matched = Vec::new();
        let mut line_vetoed: Vec<(usize, usize)> = Vec::new();
        for (li, log) in input.logs.iter().enumerate() {
            // The ignored block the previous line was in, if any.
            let mut open_block: Option<usize> = None;
            for (ln, line) in log.lines.iter().enumerate() {
                // The same words behind a launcher's or logger's prefix count the same.
                let body = prefix::strip(line);
                let stripped = body.len() < line.len();
                let either = |re: &Regex| re.is_match(line) || (stripped && re.is_match(body));
                if let Some(b) = open_block {
                    if !either(&self.ignored_blocks[b].1) {
                        open_block = None; // this line is the block's last
                    }
                    continue;
                }
                if let Some(b) = self
                    .ignored_blocks
                    .iter()
                    .position(|(starts, _)| either(starts))
                {
                    open_block = Some(b);
                    if scan.ignored.len() < MAX_TRACE_LINES {
                        scan.ignored.push((li, ln));
                    }
                    continue;
                }
                if line.is_empty() {
                    continue;
                }
                matched.clear();
                self.patterns.matches_into(line, &mut matched);
                if stripped {
                    body_matched.clear();
                    self.patterns.matches_into(body, &mut body_matched);
                    for &idx in &body_matched {
                        if !matched.contains(&idx) {
                            matched.push(idx);
                        }
                    }
                }
                line_vetoed.clear();
                for &idx in &matched {
                    match self.owners[idx] {
                        Owner::Veto { rule, pattern } => {
                            scan.vetoes[rule].get_or_insert((li, ln, pattern));
                        }
                        Owner::LineVeto { rule, pattern } => line_vetoed.push((rule, pattern)),
                        Owner::Require { rule } => scan.required[rule] = true,
                        Owner::Match { .. } => {}
                    }
                }
                for &idx in &matched {
                    let Owner::Match { rule, pattern } = self.owners[idx] else {
                        continue;
                    };
                    if let Some(&(_, veto)) = line_vetoed.iter().find(|(r, _)| *r == rule) {
                        let c = &mut scan.cancelled[rule];
                        if c.len() < MAX_TRACE_LINES
                            && c.last().is_none_or(|l| (l.0, l.1) != (li, ln))
                        {
                            c.push((li, ln, veto));
                        }
                        continue;
                    }
                    let h = &mut scan.hits[rule];
                    // Keep the first hits and always the latest one.
                    let hit = Hit {
                        log: li,
                        line: ln,
                        pattern,
                    };
                    if h.len() < MAX_HITS_PER_RULE {
                        h.push(hit);
                    } else {
                        h[MAX_HITS_PER_RULE - 1] = hit;
                    }
                }
            }
        }
        scan
    }

    /// The diagnosis, and how the rules reached it (for `trackit diagnose --explain`).
    pub fn explain(&self, input: &Input) -> (Diagnosis, Explanation) {
        let scan = self.scan(input);

        // Candidates: rules not vetoed whose every stated condition holds.
        let mut candidates: Vec<(usize, RankKey)> = Vec::new();
        for (ri, rule) in self.rules.iter().enumerate() {
            if scan.vetoes[ri].is_some() || self.unmet(ri, &scan, input).is_some() {
                continue;
            }
            // Ties go to the rule whose evidence comes first: causes precede their fallout.
            let first = scan.hits[ri]
                .first()
                .map(|h| (h.log, h.line))
                .unwrap_or((usize::MAX, usize::MAX));
            let key = (
                rule.spec.priority,
                std::cmp::Reverse(first),
                std::cmp::Reverse(rule.spec.name.clone()),
            );
            candidates.push((ri, key));
        }
        candidates.sort_by(|a, b| b.1.cmp(&a.1));

        let best = candidates.first().map(|(ri, _)| *ri);
        // A fixable verdict needs a clear winner: a different fixable kind close behind it makes
        // the evidence contradictory, and a wrong fix burns an attempt.
        let contenders: Vec<usize> = match best {
            Some(b) if self.rule_fixable(b) => candidates
                .iter()
                .map(|(ri, _)| *ri)
                .filter(|&ri| {
                    ri != b
                        && self.rules[ri].spec.kind != self.rules[b].spec.kind
                        && self.rule_fixable(ri)
                        && self.rules[ri].spec.priority
                            >= self.rules[b].spec.priority - self.contest_margin
                })
                .collect(),
            _ => Vec::new(),
        };

        let (diagnosis, verdict) = match best {
            None => {
                let d = fallback(input, self);
                let why = if d.kind == "unknown" {
                    "no rule matched and the scheduler says the job failed: unknown".to_string()
                } else {
                    format!("no rule matched: {}", d.summary)
                };
                (d, why)
            }
            Some(b) if !contenders.is_empty() => {
                let d = self.contested(b, &contenders, &scan, input);
                let names: Vec<String> = contenders
                    .iter()
                    .map(|&c| {
                        let r = &self.rules[c].spec;
                        format!("{} ({}, priority {})", r.name, r.kind, r.priority)
                    })
                    .collect();
                let r = &self.rules[b].spec;
                let why = format!(
                    "{} ({}, priority {}) is contested by {}, a different fixable kind within {} points: no clear winner, so unknown (no relaunch)",
                    r.name,
                    r.kind,
                    r.priority,
                    names.join(", "),
                    self.contest_margin
                );
                (d, why)
            }
            Some(b) => {
                let d = self.build(b, &scan, input);
                let r = &self.rules[b].spec;
                let runner_up = candidates
                    .iter()
                    .map(|(ri, _)| *ri)
                    .find(|&ri| self.rules[ri].spec.kind != r.kind);
                let mut why = format!(
                    "{} decided: {} with the highest priority ({})",
                    r.name, r.kind, r.priority
                );
                let same_priority_earlier = candidates
                    .get(1)
                    .is_some_and(|(ri, _)| self.rules[*ri].spec.priority == r.priority);
                if same_priority_earlier {
                    why.push_str(", its evidence coming first among equals");
                }
                match runner_up {
                    Some(o) => {
                        let o = &self.rules[o].spec;
                        why.push_str(&format!(
                            "; next other kind: {} ({}, priority {})",
                            o.name, o.kind, o.priority
                        ));
                        if self.rule_fixable(b) && !self.kind_fixable(&o.kind) {
                            why.push_str(", not fixable");
                        } else if self.rule_fixable(b) {
                            why.push_str(&format!(
                                ", more than {} points below",
                                self.contest_margin
                            ));
                        }
                    }
                    None => why.push_str("; no other kind matched"),
                }
                (d, why)
            }
        };

        let rules = self.trace(&scan, input, &candidates, best, &contenders);
        let ignored = scan
            .ignored
            .iter()
            .map(|&(li, ln)| self.evidence_at(input, li, ln, "ignored_blocks"))
            .collect();
        (
            diagnosis,
            Explanation {
                rules,
                verdict,
                ignored,
            },
        )
    }

    /// Why rule `ri`'s conditions do not hold, or `None` when they do.
    fn unmet(&self, ri: usize, scan: &Scan, input: &Input) -> Option<String> {
        let rule = &self.rules[ri];
        if !rule.spec.patterns.is_empty() && scan.hits[ri].is_empty() {
            return Some("no line matched".into());
        }
        if !rule.spec.requires.is_empty() && !scan.required[ri] {
            return Some(format!(
                "needs a line matching one of requires {:?}",
                rule.spec.requires
            ));
        }
        if !rule.states.is_empty() && !input.state.is_some_and(|s| rule.states.contains(&s)) {
            return Some(format!(
                "needs state {} (the scheduler says {})",
                rule.spec.states.join(" or "),
                input
                    .state
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "nothing".into())
            ));
        }
        if !rule.exit_codes.is_empty()
            && !input
                .exit
                .as_ref()
                .is_some_and(|e| rule.exit_codes.iter().any(|m| m.matches(e)))
        {
            return Some(format!(
                "needs exit code {} (the scheduler says {})",
                rule.spec.exit_codes.join(" or "),
                input
                    .exit
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "nothing".into())
            ));
        }
        if !rule.reasons.is_empty()
            && !input
                .reasons
                .iter()
                .any(|reason| rule.reasons.iter().any(|re| re.is_match(reason)))
        {
            return Some(format!(
                "needs a scheduler reason matching {} (the scheduler says {})",
                rule.spec.reasons.join(" or "),
                if input.reasons.is_empty() {
                    "nothing".to_string()
                } else {
                    input.reasons.join(", ")
                }
            ));
        }
        None
    }

    fn evidence_at(&self, input: &Input, log: usize, line: usize, rule: &str) -> Evidence {
        let l = &input.logs[log];
        Evidence {
            source: "log".into(),
            file: Some(l.path.display().to_string()),
            line: Some(l.line_number(line)),
            text: l.lines[line].trim_end().to_string(),
            rule: Some(rule.to_string()),
        }
    }

    /// The per-rule trace: every rule that matched, was vetoed or had matches cancelled.
    fn trace(
        &self,
        scan: &Scan,
        input: &Input,
        candidates: &[(usize, RankKey)],
        best: Option<usize>,
        contenders: &[usize],
    ) -> Vec<RuleTrace> {
        let mut out = Vec::new();
        let order = |outcome: &str| match outcome {
            "decided" => 0,
            "agrees" => 1,
            "contested" => 2,
            "outranked" => 3,
            "unmet" => 4,
            "vetoed" => 5,
            _ => 6,
        };
        for (ri, rule) in self.rules.iter().enumerate() {
            let spec = &rule.spec;
            let hits = &scan.hits[ri];
            let is_candidate = candidates.iter().any(|(c, _)| *c == ri);
            let has_log_evidence = !hits.is_empty();
            let mut lines: Vec<Evidence> = Vec::new();
            let mut shown = Vec::new();
            let ordered: Vec<&Hit> = if spec.last_match {
                hits.iter().rev().collect()
            } else {
                hits.iter().collect()
            };
            for h in ordered {
                if lines.len() == MAX_TRACE_LINES {
                    break;
                }
                if !shown.contains(&(h.log, h.line)) {
                    shown.push((h.log, h.line));
                    lines.push(self.evidence_at(input, h.log, h.line, &spec.name));
                }
            }
            if lines.is_empty() && rule.has_conditions() {
                if let Some(text) = scheduler_text(input) {
                    lines.push(Evidence {
                        source: "scheduler".into(),
                        file: None,
                        line: None,
                        text,
                        rule: Some(spec.name.clone()),
                    });
                }
            }
            let (outcome, note) = if let Some((li, ln, pi)) = scan.vetoes[ri] {
                if !has_log_evidence && !(rule.has_conditions() && spec.patterns.is_empty()) {
                    continue; // vetoed, but it had nothing to say anyway
                }
                if spec.patterns.is_empty() && self.unmet(ri, scan, input).is_some() {
                    continue;
                }
                let at = self.evidence_at(input, li, ln, &spec.name);
                (
                    "vetoed",
                    Some(format!(
                        "unless {:?} matched {}:{}: {}",
                        spec.unless[pi],
                        at.file.unwrap_or_default(),
                        at.line.unwrap_or_default(),
                        shorten(&at.text, 120)
                    )),
                )
            } else if is_candidate {
                let outcome = if Some(ri) == best {
                    if contenders.is_empty() {
                        "decided"
                    } else {
                        "contested"
                    }
                } else if contenders.contains(&ri) {
                    "contested"
                } else if best.is_some_and(|b| self.rules[b].spec.kind == spec.kind) {
                    "agrees"
                } else {
                    "outranked"
                };
                (outcome, None)
            } else if !scan.cancelled[ri].is_empty() && hits.is_empty() {
                let notes: Vec<String> = scan.cancelled[ri]
                    .iter()
                    .map(|&(li, ln, pi)| {
                        let at = self.evidence_at(input, li, ln, &spec.name);
                        format!(
                            "{}:{} ({}) cancelled by unless_line {:?}",
                            at.file.unwrap_or_default(),
                            at.line.unwrap_or_default(),
                            shorten(&at.text, 80),
                            spec.unless_line[pi]
                        )
                    })
                    .collect();
                ("cancelled", Some(notes.join("; ")))
            } else if has_log_evidence {
                ("unmet", self.unmet(ri, scan, input))
            } else {
                continue;
            };
            let note = match (
                note,
                scan.cancelled[ri].is_empty() || outcome == "cancelled",
            ) {
                (n, true) => n,
                (n, false) => {
                    let extra = format!(
                        "{} other match(es) cancelled by unless_line",
                        scan.cancelled[ri].len()
                    );
                    Some(match n {
                        Some(n) => format!("{n}; {extra}"),
                        None => extra,
                    })
                }
            };
            out.push(RuleTrace {
                rule: spec.name.clone(),
                kind: spec.kind.clone(),
                priority: spec.priority,
                fixable: self.rule_fixable(ri),
                outcome: outcome.to_string(),
                lines,
                note,
            });
        }
        out.sort_by_key(|t| {
            (
                order(&t.outcome),
                std::cmp::Reverse(t.priority),
                t.rule.clone(),
            )
        });
        out
    }

    /// A verdict two fixable kinds fight over: `unknown`, with both sides' lines as evidence.
    fn contested(
        &self,
        best: usize,
        contenders: &[usize],
        scan: &Scan,
        input: &Input,
    ) -> Diagnosis {
        let mut evidence = Vec::new();
        let mut sides = Vec::new();
        for &ri in std::iter::once(&best).chain(contenders) {
            let r = &self.rules[ri].spec;
            sides.push(format!("{} ({})", r.kind, r.name));
            let hits = &scan.hits[ri];
            if hits.is_empty() {
                if let Some(text) = scheduler_text(input) {
                    evidence.push(Evidence {
                        source: "scheduler".into(),
                        file: None,
                        line: None,
                        text,
                        rule: Some(r.name.clone()),
                    });
                }
            }
            let mut taken = 0;
            for h in hits {
                if taken == 2 || evidence.len() >= MAX_EVIDENCE {
                    break;
                }
                let e = self.evidence_at(input, h.log, h.line, &r.name);
                // One line can match several of a rule's patterns: quote it once.
                if evidence
                    .iter()
                    .any(|o: &Evidence| o.file == e.file && o.line == e.line)
                {
                    continue;
                }
                evidence.push(e);
                taken += 1;
            }
        }
        let mut captures = BTreeMap::new();
        add_scheduler_facts(input, &mut captures);
        Diagnosis {
            kind: "unknown".into(),
            summary: format!(
                "conflicting evidence, no clear cause: {}; no relaunch",
                sides.join(" vs ")
            ),
            evidence,
            captures,
            fixable: self.kind_fixable("unknown"),
            rule: None,
            decided_by: None,
        }
    }

    fn build(&self, winner: usize, scan: &Scan, input: &Input) -> Diagnosis {
        let hits = &scan.hits;
        let rule = &self.rules[winner];
        let kind = rule.spec.kind.clone();
        let mut captures = BTreeMap::new();
        let mut evidence = Vec::new();

        // Evidence: the winner's lines first, then other matching rules of the same kind.
        let mut supporting: Vec<usize> = (0..self.rules.len())
            .filter(|&ri| {
                ri != winner
                    && scan.vetoes[ri].is_none()
                    && self.rules[ri].spec.kind == kind
                    && !hits[ri].is_empty()
                    && self.unmet(ri, scan, input).is_none()
            })
            .collect();
        supporting.insert(0, winner);
        let mut seen = std::collections::HashSet::new();
        for &ri in &supporting {
            let r = &self.rules[ri];
            // A `last_match` rule's latest line decides: its captures are taken first.
            let ordered: Vec<&Hit> = if r.spec.last_match {
                hits[ri].iter().rev().collect()
            } else {
                hits[ri].iter().collect()
            };
            for h in ordered {
                let log = &input.logs[h.log];
                let text = &log.lines[h.line];
                let re = r.regexes[h.pattern].get_or_init(|| {
                    Regex::new(&r.spec.patterns[h.pattern]).expect("compiled in the set already")
                });
                if let Some(caps) = re
                    .captures(text)
                    .or_else(|| re.captures(prefix::strip(text)))
                {
                    for name in re.capture_names().flatten() {
                        if let Some(m) = caps.name(name) {
                            captures
                                .entry(name.to_string())
                                .or_insert_with(|| m.as_str().to_string());
                        }
                    }
                }
                if seen.insert((h.log, h.line)) && evidence.len() < MAX_EVIDENCE {
                    evidence.push(self.evidence_at(input, h.log, h.line, &r.spec.name));
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
        let last_first = rule.spec.last_match;
        evidence.sort_by_key(|e| {
            let li = input
                .logs
                .iter()
                .position(|l| Some(l.path.display().to_string()) == e.file);
            let position = (li, e.line);
            (
                e.rule != winner_name,
                std::cmp::Reverse(priority_of(&e.rule)),
                // The deciding line of a `last_match` rule comes first.
                if last_first && e.rule == winner_name {
                    std::cmp::Reverse(Some(position))
                } else {
                    std::cmp::Reverse(None)
                },
                position,
            )
        });
        for (k, v) in &rule.spec.captures {
            captures.entry(k.clone()).or_insert_with(|| v.clone());
        }
        add_scheduler_facts(input, &mut captures);
        if rule.has_conditions() || evidence.is_empty() {
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
        let fixable = self.rule_fixable(winner);
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

/// How candidates rank: priority, then the earliest evidence, then the name.
type RankKey = (
    i64,
    std::cmp::Reverse<(usize, usize)>,
    std::cmp::Reverse<String>,
);

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
    fn an_ignored_block_is_read_by_no_rule_and_ends_with_its_last_line() {
        let mut exception = rule(
            "python_exception",
            "user_code",
            20,
            &[
                r"^Traceback \(most recent call last\):",
                r"^(?P<exception>[A-Z]\w*Error):",
            ],
        );
        exception.last_match = true;
        let oom = rule("host_oom", "oom", 90, &[r"\bMemoryError\b"]);
        let rules = RuleSet::compile(vec![exception, oom], vec!["oom".into()])
            .unwrap()
            .with_ignored_blocks(&[IgnoredBlock {
                starts: r"^Exception ignored in\b".into(),
                continues: r"^(?:\s|Traceback \(most recent call last\):)".into(),
            }])
            .unwrap();
        let ignored = [
            "Exception ignored in: <function Pool.__del__ at 0x7f>",
            "Traceback (most recent call last):",
            "  File \"pool.py\", line 268, in __del__",
            "MemoryError: cannot allocate",
        ];

        // Alone, the ignored traceback is no evidence: the run went on and ended well.
        let (d, e) = rules.explain(&Input {
            logs: vec![log(
                &[&["epoch 1 done"], &ignored[..], &["epoch 2 done"]].concat()
            )],
            ..Default::default()
        });
        assert_eq!(d.kind, "none", "{d:?}");
        assert_eq!(e.ignored.len(), 1);
        assert_eq!(e.ignored[0].line, Some(2));

        // The block ends with its exception line: the real traceback after it decides, with
        // its own exception, and the ignored MemoryError does not make it an OOM.
        let d = rules.diagnose(&Input {
            logs: vec![log(&[
                &ignored[..],
                &[
                    "Traceback (most recent call last):",
                    "  File \"train.py\", line 3",
                    "KeyError: 'lr'",
                ],
            ]
            .concat())],
            ..Default::default()
        });
        assert_eq!(d.kind, "user_code", "{d:?}");
        assert_eq!(d.evidence[0].text, "KeyError: 'lr'");

        // Behind a launcher's prefix, the same block is ignored.
        let prefixed: Vec<String> = ignored.iter().map(|l| format!("[rank0]: {l}")).collect();
        let prefixed: Vec<&str> = prefixed.iter().map(String::as_str).collect();
        let d = rules.diagnose(&Input {
            logs: vec![log(&prefixed)],
            ..Default::default()
        });
        assert_eq!(d.kind, "none", "{d:?}");

        let err = RuleSet::compile(vec![], vec![])
            .unwrap()
            .with_ignored_blocks(&[IgnoredBlock {
                starts: "(unclosed".into(),
                continues: "x".into(),
            }])
            .unwrap_err();
        assert_eq!(err.rule, "ignored_blocks[1]");
        assert!(err.message.contains("'starts'"), "{}", err.message);
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
    fn unless_line_cancels_only_the_line_it_matches() {
        let mut r = rule("oom_field", "oom", 90, &[r"\bOOMKilled\b"]);
        r.unless_line = vec![r#"OOMKilled"?\s*:\s*false"#.into()];
        let rules = RuleSet::compile(vec![r], vec!["oom".into()]).unwrap();
        let negated = Input {
            logs: vec![log(&[r#""OOMKilled": false,"#, r#""ExitCode": 137,"#])],
            ..Default::default()
        };
        assert_eq!(rules.diagnose(&negated).kind, "none");
        let (_, e) = rules.explain(&negated);
        assert_eq!(e.rules[0].outcome, "cancelled", "{e:?}");
        assert!(
            e.rules[0].note.as_deref().unwrap().contains("job.out:1"),
            "{e:?}"
        );
        // The same rule still matches an affirmative line elsewhere in the log.
        let affirmed = Input {
            logs: vec![log(&[r#""OOMKilled": false,"#, "reason: OOMKilled"])],
            ..Default::default()
        };
        let d = rules.diagnose(&affirmed);
        assert_eq!((d.kind.as_str(), d.evidence[0].line), ("oom", Some(2)));
    }

    #[test]
    fn requires_needs_its_context_somewhere_in_the_logs() {
        let mut r = rule(
            "build_space",
            "container",
            90,
            &[r"No space left on device"],
        );
        r.requires = vec![r"(?i)while performing build".into()];
        let rules = RuleSet::compile(vec![r], vec!["container".into()]).unwrap();
        let bare = Input {
            logs: vec![log(&["write: No space left on device"])],
            ..Default::default()
        };
        assert_eq!(rules.diagnose(&bare).kind, "none");
        let (_, e) = rules.explain(&bare);
        assert_eq!(e.rules[0].outcome, "unmet");
        assert!(
            e.rules[0].note.as_deref().unwrap().contains("requires"),
            "{e:?}"
        );
        let built = Input {
            logs: vec![log(&[
                "FATAL:   While performing build: packing",
                "write: No space left on device",
            ])],
            ..Default::default()
        };
        assert_eq!(rules.diagnose(&built).kind, "container");
    }

    #[test]
    fn scheduler_reasons_are_a_condition() {
        let mut r = rule("reason_preempted", "preempted", 100, &[]);
        r.reasons = vec!["preempt".into()];
        let rules = RuleSet::compile(
            vec![r, rule("cancel", "cancelled", 65, &[r"CANCELLED AT"])],
            vec![],
        )
        .unwrap();
        let logs = vec![log(&[
            "*** JOB 9 ON n1 CANCELLED AT 2024-01-01T00:00:00 ***",
        ])];
        let plain = Input {
            logs: logs.clone(),
            ..Default::default()
        };
        assert_eq!(rules.diagnose(&plain).kind, "cancelled");
        let preempted = Input {
            logs,
            reasons: vec!["Preempted".into()],
            ..Default::default()
        };
        let d = rules.diagnose(&preempted);
        assert_eq!(d.kind, "preempted");
        assert_eq!(d.evidence[0].source, "scheduler");
        let err = RuleSet::compile(
            vec![RuleSpec {
                reasons: vec!["(".into()],
                ..rule("bad", "oom", 1, &[])
            }],
            vec![],
        )
        .unwrap_err();
        assert!(err.message.contains("reason pattern"), "{err}");
    }

    #[test]
    fn two_fixable_kinds_close_together_make_unknown() {
        let fixable = vec!["oom".to_string(), "disk_quota".to_string()];
        let rules = || {
            vec![
                rule("oom", "oom", 90, &[r"out of memory"]),
                rule("disk", "disk_quota", 88, &[r"No space left"]),
                rule("crash", "segfault", 95, &[r"Segmentation fault"]),
            ]
        };
        let both = Input {
            logs: vec![log(&["No space left on device", "out of memory"])],
            ..Default::default()
        };
        let set = RuleSet::compile(rules(), fixable.clone()).unwrap();
        let d = set.diagnose(&both);
        assert_eq!(d.kind, "unknown", "{d:?}");
        assert!(!d.fixable);
        assert!(
            d.summary.contains("oom (oom) vs disk_quota (disk)"),
            "{}",
            d.summary
        );
        assert_eq!(d.evidence.len(), 2, "both sides are quoted");
        let (_, e) = set.explain(&both);
        assert!(e.verdict.contains("contested by disk"), "{}", e.verdict);
        assert!(e.rules.iter().all(|t| t.outcome == "contested"), "{e:?}");
        // A margin of 0 lets the higher priority win; so does a non-fixable higher rule.
        let d = RuleSet::compile(rules(), fixable.clone())
            .unwrap()
            .with_contest_margin(0)
            .diagnose(&both);
        assert_eq!(d.kind, "oom");
        let crash = Input {
            logs: vec![log(&[
                "No space left on device",
                "out of memory",
                "Segmentation fault",
            ])],
            ..Default::default()
        };
        assert_eq!(set.diagnose(&crash).kind, "segfault");
    }

    #[test]
    fn a_launchers_prefix_does_not_hide_the_words() {
        let mut r = rule(
            "exc",
            "user_code",
            20,
            &[r"^(?P<exception>[A-Z]\w*Error): (?P<message>.*)"],
        );
        r.summary = Some("raised {exception}: {message}".into());
        let rules = RuleSet::compile(vec![r], vec![]).unwrap();
        for line in [
            "KeyError: 'lr'",
            "0: KeyError: 'lr'",
            "[rank1]: KeyError: 'lr'",
            "2025-03-01 12:00:01,123 [rank1]: KeyError: 'lr'",
        ] {
            let d = rules.diagnose(&Input {
                logs: vec![log(&[line])],
                ..Default::default()
            });
            assert_eq!(d.summary, "raised KeyError: 'lr'", "{line}");
            assert_eq!(d.evidence[0].text, line, "the line is quoted as written");
        }
    }

    #[test]
    fn last_match_takes_the_final_exception() {
        let mut r = rule(
            "exc",
            "user_code",
            20,
            &[r"^(?P<exception>[A-Z]\w*Error): (?P<message>.*)"],
        );
        r.last_match = true;
        r.summary = Some("raised {exception}: {message}".into());
        let rules = RuleSet::compile(vec![r], vec![]).unwrap();
        let d = rules.diagnose(&Input {
            logs: vec![log(&[
                "KeyError: 'a'",
                "During handling of the above exception, another exception occurred:",
                "ValueError: bad value",
            ])],
            ..Default::default()
        });
        assert_eq!(d.summary, "raised ValueError: bad value");
        assert_eq!(d.evidence[0].line, Some(3));
    }

    #[test]
    fn explanation_names_vetoes_and_unmet_conditions() {
        let mut cancel = rule("cancel", "cancelled", 65, &[r"CANCELLED AT \S+"]);
        cancel.unless = vec![r"DUE TO".into()];
        let mut timeout_state = rule("timeout_state", "timeout", 100, &[]);
        timeout_state.states = vec!["TIMEOUT".into()];
        let mut sig = rule("segv_exit", "segfault", 30, &[r"core dumped"]);
        sig.exit_codes = vec!["139".into()];
        let rules = RuleSet::compile(
            vec![
                cancel,
                timeout_state,
                sig,
                rule("limit", "timeout", 90, &[r"DUE TO TIME LIMIT"]),
            ],
            vec!["timeout".into()],
        )
        .unwrap();
        let input = Input {
            logs: vec![log(&[
                "*** JOB 5 ON n1 CANCELLED AT 2024-01-01T00:00:00 DUE TO TIME LIMIT ***",
                "(core dumped)",
            ])],
            state: Some(JobState::Failed),
            ..Default::default()
        };
        let (d, e) = rules.explain(&input);
        assert_eq!(d.kind, "timeout");
        let outcome = |name: &str| {
            e.rules
                .iter()
                .find(|t| t.rule == name)
                .map(|t| (t.outcome.clone(), t.note.clone().unwrap_or_default()))
        };
        assert_eq!(e.rules[0].rule, "limit");
        assert_eq!(outcome("limit").unwrap().0, "decided");
        let (o, why) = outcome("cancel").unwrap();
        assert_eq!(o, "vetoed");
        assert!(why.contains("DUE TO") && why.contains("job.out:1"), "{why}");
        let (o, why) = outcome("segv_exit").unwrap();
        assert_eq!(o, "unmet");
        assert!(why.contains("needs exit code 139"), "{why}");
        // A state rule whose state the scheduler did not report had nothing to say.
        assert_eq!(outcome("timeout_state"), None);
        assert!(e.verdict.starts_with("limit decided"), "{}", e.verdict);
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
