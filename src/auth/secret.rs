//! A token that never prints itself: the one type the GitHub client and the push share.

use std::fmt;

/// A credential (GitHub token). `Debug` and `Display` print `***`, it has no `Serialize`;
/// only [`Secret::expose`] gives the value, for the places that send it (the Authorization
/// header, the push's credential helper).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces every occurrence of the secret in `text` with `***`.
    pub fn scrub(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.0, "***")
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_formats_its_value() {
        let secret = Secret::new("ghp_supersecret");
        assert!(!format!("{secret:?} {secret}").contains("supersecret"));
        assert_eq!(secret.scrub("a ghp_supersecret b"), "a *** b");
    }
}
