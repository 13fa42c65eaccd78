//! Lua 5.4 patterns (`string.find`, `match`, `gmatch`, `gsub`) with a bounded cost.
//!
//! Lua's own matcher runs in C, where the sandbox's instruction hook never fires, and it
//! backtracks: `string.find(("a"):rep(5000), ".-.-.-.-.-b")` runs for ages. This is a port of
//! `lstrlib.c`'s matcher with the same semantics, which calls `tick` every [`TICK_EVERY`] steps so
//! the sandbox can stop it when the hook's budget or time runs out. Plain Rust: the Lua glue is in
//! `limits.rs`.

/// How many matcher steps between two budget checks.
pub const TICK_EVERY: u64 = 4096;
/// Lua's LUA_MAXCAPTURES.
const MAX_CAPTURES: usize = 32;
/// Lua's MAXCCALLS: how deep the matcher may recurse.
const MAX_DEPTH: usize = 200;
const ESC: u8 = b'%';
const SPECIALS: &[u8] = b"^$*+?.([%-";

/// Why a match stopped without an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternError {
    /// The pattern is malformed (Lua's own messages).
    Malformed(String),
    /// The sandbox's budget ran out (the message comes from `tick`).
    Budget(String),
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PatternError::Malformed(m) | PatternError::Budget(m) => f.write_str(m),
        }
    }
}

type R<T> = Result<T, PatternError>;

fn malformed<T>(msg: impl Into<String>) -> R<T> {
    Err(PatternError::Malformed(msg.into()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CapLen {
    Unfinished,
    Position,
    Len(usize),
}

/// A capture as found: text (a range of the subject) or a position (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capture {
    Text(std::ops::Range<usize>),
    Position(usize),
}

pub struct Matcher<'a> {
    src: &'a [u8],
    pat: &'a [u8],
    level: usize,
    capture: [(usize, CapLen); MAX_CAPTURES],
    depth: usize,
    steps: u64,
    tick: &'a mut dyn FnMut() -> Result<(), String>,
}

impl<'a> Matcher<'a> {
    /// A matcher of `pat` against `src`; `tick` is called every [`TICK_EVERY`] steps and stops the
    /// match with its error.
    pub fn new(
        src: &'a [u8],
        pat: &'a [u8],
        tick: &'a mut dyn FnMut() -> Result<(), String>,
    ) -> Self {
        Matcher {
            src,
            pat,
            level: 0,
            capture: [(0, CapLen::Unfinished); MAX_CAPTURES],
            depth: MAX_DEPTH,
            steps: 0,
            tick,
        }
    }

    fn reprep(&mut self) {
        self.level = 0;
        self.depth = MAX_DEPTH;
    }

    fn step(&mut self) -> R<()> {
        self.steps += 1;
        if self.steps.is_multiple_of(TICK_EVERY) {
            (self.tick)().map_err(PatternError::Budget)?;
        }
        Ok(())
    }

    /// The pattern byte at `i`, or 0 past its end (C strings end with NUL).
    fn p(&self, i: usize) -> u8 {
        self.pat.get(i).copied().unwrap_or(0)
    }

    fn s(&self, i: usize) -> u8 {
        self.src.get(i).copied().unwrap_or(0)
    }

    fn class_end(&self, mut p: usize) -> R<usize> {
        let c = self.p(p);
        p += 1;
        if c == ESC {
            if p >= self.pat.len() {
                return malformed("malformed pattern (ends with '%')");
            }
            return Ok(p + 1);
        }
        if c == b'[' {
            if self.p(p) == b'^' {
                p += 1;
            }
            loop {
                // look for a ']'
                if p >= self.pat.len() {
                    return malformed("malformed pattern (missing ']')");
                }
                let cc = self.p(p);
                p += 1;
                if cc == ESC && p < self.pat.len() {
                    p += 1; // skip escapes (e.g. '%]')
                }
                if self.p(p) == b']' {
                    break;
                }
            }
            return Ok(p + 1);
        }
        Ok(p)
    }

    /// `p` points at `[`, `ec` at the closing `]`.
    fn match_bracket_class(&self, c: u8, mut p: usize, ec: usize) -> bool {
        let mut sig = true;
        if self.p(p + 1) == b'^' {
            sig = false;
            p += 1;
        }
        loop {
            p += 1;
            if p >= ec {
                break;
            }
            if self.p(p) == ESC {
                p += 1;
                if match_class(c, self.p(p)) {
                    return sig;
                }
            } else if self.p(p + 1) == b'-' && p + 2 < ec {
                p += 2;
                if self.p(p - 2) <= c && c <= self.p(p) {
                    return sig;
                }
            } else if self.p(p) == c {
                return sig;
            }
        }
        !sig
    }

    fn single_match(&self, s: usize, p: usize, ep: usize) -> bool {
        if s >= self.src.len() {
            return false;
        }
        let c = self.src[s];
        match self.p(p) {
            b'.' => true,
            ESC => match_class(c, self.p(p + 1)),
            b'[' => self.match_bracket_class(c, p, ep - 1),
            pc => pc == c,
        }
    }

    fn match_balance(&self, s: usize, p: usize) -> R<Option<usize>> {
        if p + 1 >= self.pat.len() {
            return malformed("malformed pattern (missing arguments to '%b')");
        }
        if s >= self.src.len() || self.src[s] != self.pat[p] {
            return Ok(None);
        }
        let (b, e) = (self.pat[p], self.pat[p + 1]);
        let mut cont = 1;
        let mut s = s;
        loop {
            s += 1;
            if s >= self.src.len() {
                return Ok(None);
            }
            let c = self.src[s];
            if c == e {
                cont -= 1;
                if cont == 0 {
                    return Ok(Some(s + 1));
                }
            } else if c == b {
                cont += 1;
            }
        }
    }

    fn max_expand(&mut self, s: usize, p: usize, ep: usize) -> R<Option<usize>> {
        let mut i = 0usize;
        while self.single_match(s + i, p, ep) {
            self.step()?;
            i += 1;
        }
        loop {
            if let Some(res) = self.do_match(s + i, ep + 1)? {
                return Ok(Some(res));
            }
            if i == 0 {
                return Ok(None);
            }
            i -= 1;
        }
    }

    fn min_expand(&mut self, mut s: usize, p: usize, ep: usize) -> R<Option<usize>> {
        loop {
            if let Some(res) = self.do_match(s, ep + 1)? {
                return Ok(Some(res));
            }
            if self.single_match(s, p, ep) {
                s += 1;
            } else {
                return Ok(None);
            }
        }
    }

    fn start_capture(&mut self, s: usize, p: usize, what: CapLen) -> R<Option<usize>> {
        if self.level >= MAX_CAPTURES {
            return malformed("too many captures");
        }
        self.capture[self.level] = (s, what);
        self.level += 1;
        let res = self.do_match(s, p)?;
        if res.is_none() {
            self.level -= 1;
        }
        Ok(res)
    }

    fn end_capture(&mut self, s: usize, p: usize) -> R<Option<usize>> {
        let Some(l) = (0..self.level)
            .rev()
            .find(|&l| self.capture[l].1 == CapLen::Unfinished)
        else {
            return malformed("invalid pattern capture");
        };
        self.capture[l].1 = CapLen::Len(s - self.capture[l].0);
        let res = self.do_match(s, p)?;
        if res.is_none() {
            self.capture[l].1 = CapLen::Unfinished;
        }
        Ok(res)
    }

    fn check_capture(&self, l: u8) -> R<usize> {
        let l = l as i32 - b'1' as i32;
        if l < 0 || l as usize >= self.level || self.capture[l as usize].1 == CapLen::Unfinished {
            return malformed(format!("invalid capture index %{}", l + 1));
        }
        Ok(l as usize)
    }

    fn match_capture(&self, s: usize, l: u8) -> R<Option<usize>> {
        let l = self.check_capture(l)?;
        let (init, len) = self.capture[l];
        let CapLen::Len(len) = len else {
            return Ok(None); // a position capture never matches text
        };
        if self.src.len() - s >= len && self.src[init..init + len] == self.src[s..s + len] {
            Ok(Some(s + len))
        } else {
            Ok(None)
        }
    }

    /// Lua's `match`: the end of the match of `pat[p..]` at `src[s..]`, if any.
    fn do_match(&mut self, mut s: usize, mut p: usize) -> R<Option<usize>> {
        if self.depth == 0 {
            return malformed("pattern too complex");
        }
        self.depth -= 1;
        let result = loop {
            self.step()?;
            if p >= self.pat.len() {
                break Some(s);
            }
            match self.pat[p] {
                b'(' => {
                    break if self.p(p + 1) == b')' {
                        self.start_capture(s, p + 2, CapLen::Position)?
                    } else {
                        self.start_capture(s, p + 1, CapLen::Unfinished)?
                    };
                }
                b')' => break self.end_capture(s, p + 1)?,
                b'$' if p + 1 == self.pat.len() => {
                    break (s == self.src.len()).then_some(s);
                }
                ESC if self.p(p + 1) == b'b' => match self.match_balance(s, p + 2)? {
                    Some(e) => {
                        s = e;
                        p += 4;
                        continue;
                    }
                    None => break None,
                },
                ESC if self.p(p + 1) == b'f' => {
                    p += 2;
                    if self.p(p) != b'[' {
                        return malformed("missing '[' after '%f' in pattern");
                    }
                    let ep = self.class_end(p)?;
                    let previous = if s == 0 { 0 } else { self.s(s - 1) };
                    let current = self.s(s);
                    if !self.match_bracket_class(previous, p, ep - 1)
                        && self.match_bracket_class(current, p, ep - 1)
                    {
                        p = ep;
                        continue;
                    }
                    break None;
                }
                ESC if self.p(p + 1).is_ascii_digit() => {
                    match self.match_capture(s, self.p(p + 1))? {
                        Some(e) => {
                            s = e;
                            p += 2;
                            continue;
                        }
                        None => break None,
                    }
                }
                _ => {
                    let ep = self.class_end(p)?;
                    let suffix = self.p(ep);
                    if !self.single_match(s, p, ep) {
                        if matches!(suffix, b'*' | b'?' | b'-') && ep < self.pat.len() {
                            p = ep + 1;
                            continue;
                        }
                        break None;
                    }
                    match suffix {
                        b'?' if ep < self.pat.len() => {
                            if let Some(res) = self.do_match(s + 1, ep + 1)? {
                                break Some(res);
                            }
                            p = ep + 1;
                            continue;
                        }
                        b'+' if ep < self.pat.len() => break self.max_expand(s + 1, p, ep)?,
                        b'*' if ep < self.pat.len() => break self.max_expand(s, p, ep)?,
                        b'-' if ep < self.pat.len() => break self.min_expand(s, p, ep)?,
                        _ => {
                            s += 1;
                            p = ep;
                            continue;
                        }
                    }
                }
            }
        };
        self.depth += 1;
        Ok(result)
    }

    /// Capture `i` of a match `s..e` (the whole match when there are no captures and `i == 0`).
    pub fn capture(&self, i: usize, s: usize, e: usize) -> R<Capture> {
        if i >= self.level {
            if i != 0 {
                return malformed(format!("invalid capture index %{}", i + 1));
            }
            return Ok(Capture::Text(s..e));
        }
        let (init, len) = self.capture[i];
        match len {
            CapLen::Unfinished => malformed("unfinished capture"),
            CapLen::Position => Ok(Capture::Position(init + 1)),
            CapLen::Len(l) => Ok(Capture::Text(init..init + l)),
        }
    }

    /// All captures of a match `s..e`: the whole match when the pattern has none. With
    /// `whole = false` (find), nothing when the pattern has none.
    pub fn captures(&self, s: usize, e: usize, whole: bool) -> R<Vec<Capture>> {
        let n = if self.level == 0 && whole {
            1
        } else {
            self.level
        };
        (0..n).map(|i| self.capture(i, s, e)).collect()
    }
}

/// Lua's `ctype` classes (C locale).
fn match_class(c: u8, cl: u8) -> bool {
    let res = match cl.to_ascii_lowercase() {
        b'a' => c.is_ascii_alphabetic(),
        b'c' => c.is_ascii_control(),
        b'd' => c.is_ascii_digit(),
        b'g' => c.is_ascii_graphic(),
        b'l' => c.is_ascii_lowercase(),
        b'p' => c.is_ascii_punctuation(),
        b's' => matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'),
        b'u' => c.is_ascii_uppercase(),
        b'w' => c.is_ascii_alphanumeric(),
        b'x' => c.is_ascii_hexdigit(),
        _ => return cl == c,
    };
    if cl.is_ascii_uppercase() {
        !res
    } else {
        res
    }
}

/// Lua's `posrelatI`: a 1-based start position, negative from the end, made 0-based.
pub fn start_index(init: Option<i64>, len: usize) -> usize {
    let len_i = len as i64;
    let pos = match init.unwrap_or(1) {
        p if p > 0 => p,
        0 => 1,
        p if p < -len_i => 1,
        p => len_i + p + 1,
    };
    (pos - 1) as usize
}

/// True when `pat` has none of the characters that make it a pattern.
pub fn no_specials(pat: &[u8]) -> bool {
    !pat.iter().any(|c| SPECIALS.contains(c))
}

/// The result of `find`/`match` on one subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub captures: Vec<Capture>,
}

/// `string.find` (`find = true`) and `string.match`: the first match at or after `init`.
pub fn find(
    src: &[u8],
    pat: &[u8],
    init: Option<i64>,
    plain: bool,
    find: bool,
    tick: &mut dyn FnMut() -> Result<(), String>,
) -> R<Option<Found>> {
    let init = start_index(init, src.len());
    if init > src.len() {
        return Ok(None);
    }
    if find && (plain || no_specials(pat)) {
        let hay = &src[init..];
        let at = if pat.is_empty() {
            Some(0)
        } else {
            hay.windows(pat.len()).position(|w| w == pat)
        };
        return Ok(at.map(|i| Found {
            start: init + i,
            end: init + i + pat.len(),
            captures: Vec::new(),
        }));
    }
    let (anchor, pat) = match pat.first() {
        Some(b'^') => (true, &pat[1..]),
        _ => (false, pat),
    };
    let mut m = Matcher::new(src, pat, tick);
    let mut s1 = init;
    loop {
        m.reprep();
        if let Some(e) = m.do_match(s1, 0)? {
            return Ok(Some(Found {
                start: s1,
                end: e,
                captures: m.captures(s1, e, !find)?,
            }));
        }
        s1 += 1;
        if anchor || s1 > src.len() {
            return Ok(None);
        }
    }
}

/// `string.gmatch`'s state: call [`GMatch::next`] until it gives `None`.
pub struct GMatch {
    pub src_pos: usize,
    pub last_match: Option<usize>,
}

impl GMatch {
    pub fn new(src_len: usize, init: Option<i64>) -> GMatch {
        let init = start_index(init, src_len).min(src_len + 1);
        GMatch {
            src_pos: init,
            last_match: None,
        }
    }

    pub fn next(
        &mut self,
        src: &[u8],
        pat: &[u8],
        tick: &mut dyn FnMut() -> Result<(), String>,
    ) -> R<Option<Vec<Capture>>> {
        let mut m = Matcher::new(src, pat, tick);
        let mut s = self.src_pos;
        while s <= src.len() {
            m.reprep();
            if let Some(e) = m.do_match(s, 0)? {
                if Some(e) != self.last_match {
                    self.src_pos = e;
                    self.last_match = Some(e);
                    return Ok(Some(m.captures(s, e, true)?));
                }
            }
            s += 1;
        }
        self.src_pos = src.len() + 1;
        Ok(None)
    }
}

/// What `gsub` replaces a match with, decided by the caller for each match.
pub enum Replacement {
    /// Keep the matched text.
    Keep,
    Text(Vec<u8>),
}

/// `string.gsub`: `replace(matcher, start, end)` decides each match's replacement. Returns the
/// new text (`None` when nothing changed) and the number of matches.
pub fn gsub(
    src: &[u8],
    pat: &[u8],
    max: Option<i64>,
    tick: &mut dyn FnMut() -> Result<(), String>,
    replace: &mut dyn FnMut(&Matcher, usize, usize) -> Result<Replacement, String>,
) -> R<(Option<Vec<u8>>, i64)> {
    let (anchor, pat) = match pat.first() {
        Some(b'^') => (true, &pat[1..]),
        _ => (false, pat),
    };
    let max = max.unwrap_or(src.len() as i64 + 1);
    let mut out = Vec::new();
    let mut changed = false;
    let mut n = 0i64;
    let mut s = 0usize;
    let mut last_match = None;
    let mut m = Matcher::new(src, pat, tick);
    while n < max {
        m.reprep();
        match m.do_match(s, 0)? {
            Some(e) if Some(e) != last_match => {
                n += 1;
                match replace(&m, s, e).map_err(PatternError::Malformed)? {
                    Replacement::Keep => out.extend_from_slice(&src[s..e]),
                    Replacement::Text(t) => {
                        out.extend_from_slice(&t);
                        changed = true;
                    }
                }
                s = e;
                last_match = Some(e);
            }
            _ if s < src.len() => {
                out.push(src[s]);
                s += 1;
            }
            _ => break,
        }
        if anchor {
            break;
        }
    }
    if !changed {
        return Ok((None, n));
    }
    out.extend_from_slice(&src[s..]);
    Ok((Some(out), n))
}

/// Expands a `gsub` replacement string (`%0`-`%9`, `%%`) for the match `s..e`.
pub fn expand_replacement(m: &Matcher, repl: &[u8], s: usize, e: usize) -> Result<Vec<u8>, String> {
    let src = m.src;
    let mut out = Vec::with_capacity(repl.len());
    let mut i = 0;
    while i < repl.len() {
        let c = repl[i];
        i += 1;
        if c != ESC {
            out.push(c);
            continue;
        }
        let d = repl.get(i).copied().unwrap_or(0);
        i += 1;
        if d == ESC {
            out.push(ESC);
        } else if d == b'0' {
            out.extend_from_slice(&src[s..e]);
        } else if d.is_ascii_digit() {
            match m
                .capture((d - b'1') as usize, s, e)
                .map_err(|e| e.to_string())?
            {
                Capture::Text(r) => out.extend_from_slice(&src[r]),
                Capture::Position(p) => out.extend_from_slice(p.to_string().as_bytes()),
            }
        } else {
            return Err("invalid use of '%' in replacement string".into());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_tick() -> impl FnMut() -> Result<(), String> {
        || Ok(())
    }

    fn texts(src: &str, found: &Found) -> Vec<String> {
        found
            .captures
            .iter()
            .map(|c| match c {
                Capture::Text(r) => src[r.clone()].to_string(),
                Capture::Position(p) => format!("@{p}"),
            })
            .collect()
    }

    fn m(src: &str, pat: &str) -> Option<Vec<String>> {
        let mut t = no_tick();
        find(src.as_bytes(), pat.as_bytes(), None, false, false, &mut t)
            .unwrap()
            .map(|f| texts(src, &f))
    }

    #[test]
    fn matches_like_lua() {
        assert_eq!(
            m("hello world", "(%w+) (%w+)"),
            Some(vec!["hello".into(), "world".into()])
        );
        assert_eq!(
            m("key = value", "^(%w+)%s*=%s*(%w+)$"),
            Some(vec!["key".into(), "value".into()])
        );
        assert_eq!(
            m("THE (quick) fox", "%((%a+)%)"),
            Some(vec!["quick".into()])
        );
        assert_eq!(m("f(a(b)c)d", "%b()"), Some(vec!["(a(b)c)".into()]));
        assert_eq!(m("THE (quick) fox", "%f[%a]%a+"), Some(vec!["THE".into()]));
        assert_eq!(m("abcabc", "(abc)%1"), Some(vec!["abc".into()]));
        assert_eq!(m("abc", "()b()"), Some(vec!["@2".into(), "@3".into()]));
        assert_eq!(m("a.so.1", "^(.-%.so)"), Some(vec!["a.so".into()]));
        assert_eq!(m("x", "[%a-]"), Some(vec!["x".into()]));
        assert_eq!(m("]", "[]]"), Some(vec!["]".into()]));
        assert_eq!(m("abc", "^b"), None);
        assert_eq!(m("aaa", "a-$"), Some(vec!["aaa".into()]));
        assert_eq!(m("", "x*"), Some(vec!["".into()]));
        let mut t = no_tick();
        let err = find(b"a", b"(%", None, false, false, &mut t).unwrap_err();
        assert!(err.to_string().contains("malformed"), "{err}");
        let err = find(b"a", b"[a", None, false, false, &mut t).unwrap_err();
        assert!(err.to_string().contains("missing ']'"), "{err}");
    }

    #[test]
    fn find_positions_and_plain() {
        let mut t = no_tick();
        let f = find(b"hello", b"l+", None, false, true, &mut t)
            .unwrap()
            .unwrap();
        assert_eq!((f.start, f.end), (2, 4));
        let f = find(b"a.b", b".", None, true, true, &mut t)
            .unwrap()
            .unwrap();
        assert_eq!((f.start, f.end), (1, 2));
        assert_eq!(
            find(b"abc", b"c", Some(-1), false, true, &mut t)
                .unwrap()
                .unwrap()
                .start,
            2
        );
        assert!(find(b"abc", b"a", Some(10), false, true, &mut t)
            .unwrap()
            .is_none());
    }

    #[test]
    fn gsub_and_gmatch_like_lua() {
        let mut t = no_tick();
        let (out, n) = gsub(b"hello world", b"o", None, &mut t, &mut |_, _, _| {
            Ok(Replacement::Text(b"0".to_vec()))
        })
        .unwrap();
        assert_eq!((out.unwrap(), n), (b"hell0 w0rld".to_vec(), 2));
        let (out, n) = gsub(b"abc", b"%w", None, &mut t, &mut |m, s, e| {
            expand_replacement(m, b"%0%0", s, e).map(Replacement::Text)
        })
        .unwrap();
        assert_eq!((out.unwrap(), n), (b"aabbcc".to_vec(), 3));
        let (out, n) = gsub(b"  x  ", b"^%s+", None, &mut t, &mut |_, _, _| {
            Ok(Replacement::Text(Vec::new()))
        })
        .unwrap();
        assert_eq!((out.unwrap(), n), (b"x  ".to_vec(), 1));
        let (out, n) = gsub(b"abc", b"", None, &mut t, &mut |_, _, _| {
            Ok(Replacement::Text(b"-".to_vec()))
        })
        .unwrap();
        assert_eq!((out.unwrap(), n), (b"-a-b-c-".to_vec(), 4));
        let src = b"a/b//c";
        let mut g = GMatch::new(src.len(), None);
        let mut parts = Vec::new();
        while let Some(caps) = g.next(src, b"[^/]+", &mut t).unwrap() {
            if let Capture::Text(r) = &caps[0] {
                parts.push(String::from_utf8_lossy(&src[r.clone()]).into_owned());
            }
        }
        assert_eq!(parts, ["a", "b", "c"]);
    }

    #[test]
    fn backtracking_is_bounded_by_the_tick() {
        let src = "a".repeat(5000);
        let mut calls = 0;
        let mut tick = || {
            calls += 1;
            if calls > 100 {
                Err("budget".to_string())
            } else {
                Ok(())
            }
        };
        let err = find(src.as_bytes(), b".-.-.-.-.-b", None, false, true, &mut tick).unwrap_err();
        assert_eq!(err, PatternError::Budget("budget".into()));
    }
}
