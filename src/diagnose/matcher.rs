//! Which of a policy's patterns match a line, without compiling them all up front.
//!
//! Compiling some 650 patterns into one `RegexSet` cost most of `trackit diagnose`'s start-up
//! (docs/benchmarks.md). Most patterns need a word that few lines contain ("oom-kill",
//! "No space left"), so each pattern's necessary words are worked out from its parsed form, and
//! one Aho-Corasick automaton over all of them finds the few patterns a line could match. Only
//! those are compiled (once, on first use) and run. Patterns with no such word go into a small
//! `RegexSet` compiled at once. The answer is the one a `RegexSet` of all patterns gives;
//! a test below checks that on every line of the labelled corpus.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use regex_syntax::hir::{Class, Hir, HirKind};
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

/// The compiled size a pattern may reach (the regex crate's default is 10 MiB).
const SIZE_LIMIT: usize = 64 << 20;
/// How many strings a set of alternatives may hold before it is given up.
const MAX_ALTERNATIVES: usize = 16;
/// Shorter necessary words select too many lines to be worth a lookup.
const MIN_WORD_LEN: usize = 3;

type Words = Vec<Vec<u8>>;

/// A pattern that does not compile: its index among the sources, and why.
#[derive(Debug)]
pub struct PatternError {
    pub index: usize,
    pub message: String,
}

pub struct PatternMatcher {
    sources: Vec<String>,
    /// Each distinct pattern once (rules share vetoes), and the indices of `sources` it stands for.
    distinct: Vec<String>,
    users: Vec<Vec<usize>>,
    /// Finds the necessary words; each word's id indexes `word_patterns` (distinct patterns).
    words: Option<AhoCorasick>,
    word_patterns: Vec<Vec<usize>>,
    /// Each distinct pattern, compiled on first use.
    compiled: Vec<OnceLock<Option<Regex>>>,
    /// Distinct patterns with no necessary word, compiled together at once.
    always: RegexSet,
    always_index: Vec<usize>,
    /// Characters outside ASCII that a case-insensitive ASCII letter also matches (the Kelvin
    /// sign for `k`, the long s for `s`): a line with one is checked against every pattern.
    fold_chars: Vec<char>,
}

impl std::fmt::Debug for PatternMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatternMatcher")
            .field("patterns", &self.sources.len())
            .field("distinct", &self.distinct.len())
            .field("always", &self.always_index.len())
            .finish()
    }
}

impl PatternMatcher {
    pub fn new(sources: Vec<String>) -> Result<PatternMatcher, PatternError> {
        let mut distinct: Vec<String> = Vec::new();
        let mut users: Vec<Vec<usize>> = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (index, src) in sources.iter().enumerate() {
            let id = *seen.entry(src).or_insert_with(|| {
                distinct.push(src.clone());
                users.push(Vec::new());
                distinct.len() - 1
            });
            users[id].push(index);
        }
        let mut word_ids: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut word_list: Words = Vec::new();
        let mut word_patterns: Vec<Vec<usize>> = Vec::new();
        let mut always_index = Vec::new();
        let mut fold_chars = BTreeSet::new();
        for (id, src) in distinct.iter().enumerate() {
            // The same parser settings as `Regex::new`; this is also where a bad pattern is caught.
            let hir = regex_syntax::ParserBuilder::new()
                .build()
                .parse(src)
                .map_err(|e| PatternError {
                    index: users[id][0],
                    message: e.to_string(),
                })?;
            let info = necessary(&hir, &mut fold_chars);
            match best(info.exact, info.words).filter(|w| score(w) >= MIN_WORD_LEN) {
                Some(words) => {
                    for w in words {
                        let wid = *word_ids.entry(w.clone()).or_insert_with(|| {
                            word_list.push(w);
                            word_patterns.push(Vec::new());
                            word_patterns.len() - 1
                        });
                        if word_patterns[wid].last() != Some(&id) {
                            word_patterns[wid].push(id);
                        }
                    }
                }
                None => always_index.push(id),
            }
        }
        let always = RegexSetBuilder::new(always_index.iter().map(|&i| &distinct[i]))
            .size_limit(SIZE_LIMIT)
            .build()
            .map_err(|e| {
                // Name the pattern that broke the set.
                for &i in &always_index {
                    if let Err(e) = RegexBuilder::new(&distinct[i])
                        .size_limit(SIZE_LIMIT)
                        .build()
                    {
                        return PatternError {
                            index: users[i][0],
                            message: e.to_string(),
                        };
                    }
                }
                PatternError {
                    index: always_index.first().map_or(0, |&i| users[i][0]),
                    message: e.to_string(),
                }
            })?;
        let words = if word_list.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    // Building a DFA over a thousand words costs more than scanning a log tail.
                    .kind(Some(AhoCorasickKind::NoncontiguousNFA))
                    .build(&word_list)
                    .map_err(|e| PatternError {
                        index: 0,
                        message: format!("cannot index the patterns' words: {e}"),
                    })?,
            )
        };
        Ok(PatternMatcher {
            compiled: (0..distinct.len()).map(|_| OnceLock::new()).collect(),
            sources,
            distinct,
            users,
            words,
            word_patterns,
            always,
            always_index,
            fold_chars: fold_chars.into_iter().collect(),
        })
    }

    /// The patterns, in the order their indices count.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// Appends the indices of the patterns that match `text` to `out`, in ascending order.
    pub fn matches_into(&self, text: &str, out: &mut Vec<usize>) {
        let mut hits: Vec<usize> = self
            .always
            .matches(text)
            .iter()
            .map(|i| self.always_index[i])
            .collect();
        if !text.is_ascii() && text.chars().any(|c| self.fold_chars.contains(&c)) {
            for id in 0..self.distinct.len() {
                if !hits.contains(&id) && self.is_match(id, text) {
                    hits.push(id);
                }
            }
        } else if let Some(words) = &self.words {
            let mut candidates: Vec<usize> = Vec::new();
            for m in words.find_overlapping_iter(text) {
                candidates.extend(&self.word_patterns[m.pattern().as_usize()]);
            }
            candidates.sort_unstable();
            candidates.dedup();
            hits.extend(candidates.into_iter().filter(|&id| self.is_match(id, text)));
        }
        let start = out.len();
        out.extend(
            hits.into_iter()
                .flat_map(|id| self.users[id].iter().copied()),
        );
        out[start..].sort_unstable();
    }

    /// The indices of the patterns that match `text`, ascending.
    pub fn matches(&self, text: &str) -> Vec<usize> {
        let mut out = Vec::new();
        self.matches_into(text, &mut out);
        out
    }

    fn is_match(&self, id: usize, text: &str) -> bool {
        self.compiled[id]
            .get_or_init(|| {
                // It parsed at load; only a pattern past the size limit fails here.
                RegexBuilder::new(&self.distinct[id])
                    .size_limit(SIZE_LIMIT)
                    .build()
                    .map_err(
                        |e| tracing::warn!(pattern = %self.distinct[id], "pattern not used: {e}"),
                    )
                    .ok()
            })
            .as_ref()
            .is_some_and(|re| re.is_match(text))
    }
}

/// What a piece of a pattern says about the text it matches.
struct Info {
    /// Every string it can match (ASCII lowercased), when they are few.
    exact: Option<Words>,
    /// Strings one of which every match contains, when known.
    words: Option<Words>,
}

/// The shortest string's length: how selective a set of necessary words is.
fn score(words: &Words) -> usize {
    words.iter().map(Vec::len).min().unwrap_or(0)
}

/// The more selective of two sets of necessary words.
fn best(a: Option<Words>, b: Option<Words>) -> Option<Words> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let (sa, sb) = (score(&a), score(&b));
            Some(if sa > sb || (sa == sb && a.len() <= b.len()) {
                a
            } else {
                b
            })
        }
        (a, b) => a.or(b).filter(|w| score(w) > 0),
    }
}

fn lowered(bytes: &[u8]) -> Vec<u8> {
    bytes.to_ascii_lowercase()
}

fn dedup(mut words: Words) -> Words {
    words.sort();
    words.dedup();
    words
}

/// The strings a class can match, when they are few: one character, one ASCII letter in
/// either case (with the non-ASCII characters that fold to it), or a handful of ASCII ones.
fn class_strings(class: &Class, fold_chars: &mut BTreeSet<char>) -> Option<Words> {
    // At most 8 characters, gathered without allocating: most classes are `(?i)` letters.
    let mut chars = ['\0'; 8];
    let mut n = 0;
    let mut push = |c: char| {
        if n == chars.len() {
            return false;
        }
        chars[n] = c;
        n += 1;
        true
    };
    match class {
        Class::Unicode(c) => {
            for r in c.ranges() {
                if (r.end() as u32 - r.start() as u32) >= 8 {
                    return None;
                }
                for ch in r.start()..=r.end() {
                    if !push(ch) {
                        return None;
                    }
                }
            }
        }
        Class::Bytes(c) => {
            for r in c.ranges() {
                if r.end() - r.start() >= 8 || !r.end().is_ascii() {
                    return None;
                }
                for b in r.start()..=r.end() {
                    if !push(char::from(b)) {
                        return None;
                    }
                }
            }
        }
    }
    let chars = &chars[..n];
    let mut letter: Option<char> = None;
    let mut one_letter = true;
    for c in chars.iter().filter(|c| c.is_ascii()) {
        let l = c.to_ascii_lowercase();
        if !l.is_ascii_alphabetic() || letter.is_some_and(|x| x != l) {
            one_letter = false;
        }
        letter = Some(l);
    }
    if let (true, Some(l)) = (one_letter, letter) {
        // `(?i)k` is [Kk\u{212A}]: one letter, matched without regard to case; a line that
        // holds the other characters is checked against every pattern.
        fold_chars.extend(chars.iter().copied().filter(|c| !c.is_ascii()));
        return Some(vec![vec![l as u8]]);
    }
    if chars.len() <= 4 {
        return Some(dedup(
            chars
                .iter()
                .map(|c| lowered(c.to_string().as_bytes()))
                .collect(),
        ));
    }
    None
}

/// Every pairing of a string of `a` followed by one of `b`, when there are few.
fn product(a: &Words, b: &Words) -> Option<Words> {
    if a.len() * b.len() > MAX_ALTERNATIVES {
        return None;
    }
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            let mut s = x.clone();
            s.extend_from_slice(y);
            out.push(s);
        }
    }
    Some(dedup(out))
}

fn empty() -> Words {
    vec![Vec::new()]
}

/// What `hir` says about the strings it matches (see [`Info`]).
fn necessary(hir: &Hir, fold_chars: &mut BTreeSet<char>) -> Info {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Info {
            exact: Some(empty()),
            words: None,
        },
        HirKind::Literal(lit) => Info {
            exact: Some(vec![lowered(&lit.0)]),
            words: None,
        },
        HirKind::Class(class) => Info {
            exact: class_strings(class, fold_chars),
            words: None,
        },
        HirKind::Capture(cap) => necessary(&cap.sub, fold_chars),
        HirKind::Repetition(rep) => {
            let sub = necessary(&rep.sub, fold_chars);
            match (rep.min, rep.max) {
                (1, Some(1)) => sub,
                // `x?`: x or nothing.
                (0, Some(1)) => Info {
                    exact: sub.exact.map(|mut e| {
                        e.push(Vec::new());
                        dedup(e)
                    }),
                    words: None,
                },
                (0, _) => Info {
                    exact: None,
                    words: None,
                },
                _ => Info {
                    exact: None,
                    words: best(sub.exact, sub.words),
                },
            }
        }
        HirKind::Concat(subs) => {
            let mut run = Some(empty());
            let mut words: Option<Words> = None;
            let mut whole = true;
            for sub in subs {
                let info = necessary(sub, fold_chars);
                match (run.take(), info.exact) {
                    (Some(r), Some(e)) => match product(&r, &e) {
                        Some(p) => run = Some(p),
                        None => {
                            whole = false;
                            words = best(words, Some(r));
                            run = Some(e);
                        }
                    },
                    (r, e) => {
                        whole = false;
                        words = best(words, r);
                        words = best(words, e);
                        run = Some(empty());
                    }
                }
                words = best(words, info.words);
            }
            if whole {
                Info { exact: run, words }
            } else {
                Info {
                    exact: None,
                    words: best(words, run),
                }
            }
        }
        HirKind::Alternation(subs) => {
            let infos: Vec<Info> = subs.iter().map(|s| necessary(s, fold_chars)).collect();
            let exact = infos
                .iter()
                .map(|i| i.exact.clone())
                .collect::<Option<Vec<Words>>>()
                .map(|all| dedup(all.concat()))
                .filter(|e| e.len() <= MAX_ALTERNATIVES);
            // Each branch needs words of its own; any of them will do.
            let words = infos
                .into_iter()
                .map(|i| best(i.exact, i.words))
                .collect::<Option<Vec<Words>>>()
                .map(|all| dedup(all.concat()))
                .filter(|w| score(w) > 0);
            Info { exact, words }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words_of(src: &str) -> Option<Words> {
        let hir = regex_syntax::Parser::new().parse(src).unwrap();
        let info = necessary(&hir, &mut BTreeSet::new());
        best(info.exact, info.words).filter(|w| score(w) >= MIN_WORD_LEN)
    }

    fn strs(words: Option<Words>) -> Vec<String> {
        words
            .unwrap_or_default()
            .into_iter()
            .map(|w| String::from_utf8(w).unwrap())
            .collect()
    }

    #[test]
    fn a_pattern_needs_its_longest_literal_run() {
        assert_eq!(strs(words_of(r"(?i)oom[- ]kill")), ["oom kill", "oom-kill"]);
        assert_eq!(
            strs(words_of(r"No space left on device")),
            ["no space left on device"]
        );
        assert_eq!(
            strs(words_of(r"(?i)\bcuda\s+out of memory")),
            ["out of memory"]
        );
        assert_eq!(strs(words_of(r"errors? in")), ["error in", "errors in"]);
    }

    #[test]
    fn alternatives_need_one_word_each() {
        assert_eq!(
            strs(words_of(r"(Killed|oom-kill)ed")),
            ["killeded", "oom-killed"]
        );
        assert_eq!(strs(words_of(r"^(?:foo[0-9]+|barbaz)")), ["barbaz", "foo"]);
        // A branch with no word of its own leaves the pattern without one.
        assert!(words_of(r"abcdef|[0-9]+").is_none());
    }

    #[test]
    fn optional_and_short_parts_give_no_word() {
        assert!(words_of(r"(?:abcdef)?x").is_none());
        assert!(words_of(r"ab.*cd").is_none());
        assert!(words_of(r"[0-9]+:[0-9]+").is_none());
    }

    fn check(sources: &[&str], lines: &[&str]) {
        let sources: Vec<String> = sources.iter().map(|s| s.to_string()).collect();
        let set = RegexSet::new(&sources).unwrap();
        let matcher = PatternMatcher::new(sources).unwrap();
        for line in lines {
            let want: Vec<usize> = set.matches(line).iter().collect();
            assert_eq!(matcher.matches(line), want, "{line:?}");
        }
    }

    #[test]
    fn answers_as_a_regex_set_does() {
        check(
            &[
                r"(?i)killed",
                r"(?i)\bsigkill\b|exit code 137",
                r"[0-9]+:[0-9]+",
                r"(?i)no such file",
                r"Error",
                r"(?x) out \s of \s memory",
            ],
            &[
                "KILLED by signal",
                "slurmstepd: error: Detected 1 oom-kill event",
                "\u{212A}illed", // the Kelvin sign folds to k
                "Exit code 137 at 12:30",
                "error: No Such File",
                "Error: out of memory",
                "",
                "nothing here",
            ],
        );
    }

    #[test]
    fn a_bad_pattern_is_named() {
        let err = PatternMatcher::new(vec!["ok".into(), "(unclosed".into()]).unwrap_err();
        assert_eq!(err.index, 1);
        assert!(err.message.contains("unclosed"), "{}", err.message);
    }

    /// Every line of every corpus log (and its body behind a launcher's prefix), against the
    /// patterns of the default policy and of each shipped one.
    #[test]
    fn answers_as_a_regex_set_does_on_every_corpus_line() {
        use crate::lua::{policy, Host, PolicySource};
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus");
        let mut texts = Vec::new();
        for split in ["dev", "test"] {
            let mut stack = vec![root.join(split)];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|e| e == "log") {
                        texts.push(
                            String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned(),
                        );
                    }
                }
            }
        }
        assert!(texts.len() > 1000, "corpus logs found: {}", texts.len());
        // The default policy's patterns and every shipped policy's own, once each.
        let mut policies = vec![PolicySource::Builtin];
        policies.extend(
            policy::SHIPPED
                .iter()
                .map(|(n, _, _)| PolicySource::Shipped(n)),
        );
        let mut patterns: Vec<String> = Vec::new();
        for source in policies {
            for p in Host::load(&source).unwrap().rules().pattern_sources() {
                if !patterns.contains(p) {
                    patterns.push(p.clone());
                }
            }
        }
        let set = RegexSetBuilder::new(&patterns)
            .size_limit(SIZE_LIMIT)
            .build()
            .unwrap();
        let matcher = PatternMatcher::new(patterns).unwrap();
        let (mut lines, mut hits) = (0, 0);
        for text in &texts {
            for line in text.split(['\n', '\r']) {
                for part in [line, super::super::prefix::strip(line)] {
                    let want: Vec<usize> = set.matches(part).iter().collect();
                    assert_eq!(matcher.matches(part), want, "{part:?}");
                    lines += 1;
                    hits += want.len();
                }
            }
        }
        assert!(hits > 1000, "{hits} matches on {lines} lines");
    }
}
