//! Tokens never reach rendered text: every table, PR body, commit message and comment goes
//! through [`scrub`] before it leaves trackit.

use regex::Regex;
use std::sync::OnceLock;

/// What replaces a secret.
pub const REDACTED: &str = "***";

/// Values to scrub. `Debug` never prints them, and they are never serialised.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets(Vec<String>);

impl Secrets {
    /// Known secret values; empty and very short values (which would garble ordinary text)
    /// are dropped.
    pub fn new(values: impl IntoIterator<Item = impl Into<String>>) -> Secrets {
        let mut v: Vec<String> = values
            .into_iter()
            .map(Into::into)
            .map(|s| s.trim().to_string())
            .filter(|s| s.len() >= 4)
            .collect();
        // Longest first, so a token that contains another is replaced whole.
        v.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        v.dedup();
        Secrets(v)
    }

    /// Every token the process knows of: the token variables (`GH_TOKEN`, `GITHUB_TOKEN` and
    /// the enterprise ones) and any token `gh auth token` gave ([`crate::auth::known_tokens`]).
    pub fn from_env() -> Secrets {
        Secrets::new(crate::auth::known_tokens())
    }

    pub fn push(&mut self, value: impl Into<String>) {
        let mut all = std::mem::take(&mut self.0);
        all.push(value.into());
        *self = Secrets::new(all);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn scrub(&self, text: &str) -> String {
        scrub(text, &self.0)
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} hidden)", self.0.len())
    }
}

/// `text` with every value of `secrets` replaced by `***`, and anything that looks like a
/// credential even when nobody named it: GitHub tokens (`ghp_…`, `github_pat_…`), the
/// password part of a URL (`https://user:pass@host`), `Authorization:` header values.
pub fn scrub(text: &str, secrets: &[impl AsRef<str>]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        let s = s.as_ref();
        if !s.is_empty() && out.contains(s) {
            out = out.replace(s, REDACTED);
        }
    }
    for (re, replacement) in patterns() {
        if re.is_match(&out) {
            out = re.replace_all(&out, *replacement).into_owned();
        }
    }
    out
}

fn patterns() -> &'static [(Regex, &'static str)] {
    static PATTERNS: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        [
            (r"\bgh[pousr]_[A-Za-z0-9]{20,}\b", REDACTED),
            (r"\bgithub_pat_[A-Za-z0-9_]{20,}\b", REDACTED),
            // https://user:token@host, https://token@host (git's forms with a credential).
            (
                r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)[^/\s:@]+(:[^/\s@]*)?@",
                "${scheme}***@",
            ),
            (
                r"(?i)(?P<head>\bauthorization:\s*(bearer|token|basic)\s+)\S+",
                "${head}***",
            ),
        ]
        .into_iter()
        .map(|(p, r)| (Regex::new(p).expect("scrub pattern"), r))
        .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_and_shaped_secrets_go() {
        let s = Secrets::new(["hunter2-token", "", "ab"]);
        assert_eq!(s.len(), 1);
        assert_eq!(s.scrub("x hunter2-token y"), "x *** y");
        assert_eq!(format!("{s:?}"), "Secrets(1 hidden)");
        let t = "push to https://x-access-token:abc123@github.com/o/r.git failed";
        assert_eq!(
            scrub(t, &[] as &[&str]),
            "push to https://***@github.com/o/r.git failed"
        );
        let gh = "token ghp_0123456789abcdefghijABCDEFGHIJ012345 leaked";
        assert_eq!(scrub(gh, &[] as &[&str]), "token *** leaked");
        assert_eq!(
            scrub("Authorization: Bearer xyz.abc", &[] as &[&str]),
            "Authorization: Bearer ***"
        );
        // Ordinary text is left alone.
        let plain = "see https://github.com/o/r/pull/3 and user@example.com";
        assert_eq!(scrub(plain, &[] as &[&str]), plain);
    }
}
