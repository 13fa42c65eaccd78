//! Policy errors: which policy, which hook, and where in the Lua source it went wrong.

use std::fmt;

/// A policy failed to load, or one of its hooks failed or returned something invalid.
///
/// `Display` reads `policy .trackit/policy.lua: hook diagnose failed: .trackit/policy.lua:12: ...`
/// followed by the Lua traceback when there is one.
#[derive(Debug, Clone)]
pub struct PolicyError {
    /// The policy file as the user named it, or `builtin:default`.
    pub policy: String,
    /// `load`, a hook name (`diagnose`, `fixers.oom`, ...) or `rules`.
    pub hook: String,
    /// `file:line` when known.
    pub location: Option<String>,
    /// The message, including mlua's traceback.
    pub message: String,
}

impl PolicyError {
    pub fn new(policy: &str, hook: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let location = find_location(&message, policy);
        PolicyError {
            policy: policy.to_string(),
            hook: hook.to_string(),
            location,
            message,
        }
    }

    pub fn from_lua(policy: &str, hook: &str, err: &mlua::Error) -> Self {
        PolicyError::new(policy, hook, describe(err))
    }

    pub fn with_location(mut self, location: Option<String>) -> Self {
        if location.is_some() {
            self.location = location;
        }
        self
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.hook == "load" {
            "failed to load".to_string()
        } else if self.hook == "trust" {
            "not run".to_string()
        } else {
            format!("hook {} failed", self.hook)
        };
        write!(f, "policy {}: {}", self.policy, what)?;
        match &self.location {
            // Make sure `file:line` leads the message even when Lua did not put it there.
            Some(loc) if !self.message.contains(loc.as_str()) => {
                write!(f, ": {loc}: {}", self.message)
            }
            _ => write!(f, ": {}", self.message),
        }
    }
}

impl std::error::Error for PolicyError {}

/// Renders an mlua error with its cause chain and traceback, without the Rust-side noise.
pub fn describe(err: &mlua::Error) -> String {
    match err {
        mlua::Error::CallbackError { traceback, cause } => {
            let inner = describe(cause);
            if inner.contains("stack traceback:") {
                inner
            } else {
                format!("{inner}\n{traceback}")
            }
        }
        mlua::Error::WithContext { context, cause } => format!("{context}: {}", describe(cause)),
        mlua::Error::MemoryError(_) => {
            "out of memory: the policy exceeded its memory limit".to_string()
        }
        mlua::Error::SyntaxError { message, .. } => format!("syntax error: {message}"),
        mlua::Error::RuntimeError(msg) => msg.clone(),
        other => other.to_string(),
    }
}

/// Finds the first `path:line` in a Lua message that names the policy file (or any `.lua` file).
fn find_location(message: &str, policy: &str) -> Option<String> {
    let file_name = std::path::Path::new(policy)
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or(policy);
    let mut fallback = None;
    for token in message.split(|c: char| c.is_whitespace() || c == '\'' || c == '"') {
        let token = token.trim_end_matches(':');
        let Some((file, line)) = token.rsplit_once(':') else {
            continue;
        };
        if !file.ends_with(".lua") || line.is_empty() || !line.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let loc = format!("{file}:{line}");
        if file.ends_with(file_name) {
            return Some(loc);
        }
        fallback.get_or_insert(loc);
    }
    fallback
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_found() {
        let e = PolicyError::new(
            "p/policy.lua",
            "load",
            "syntax error: p/policy.lua:4: '}' expected (to close '{' at line 3) near 'end'",
        );
        assert_eq!(e.location.as_deref(), Some("p/policy.lua:4"));
        let e = PolicyError::new("x.lua", "diagnose", "runtime error: =trackit/init.lua:10: bad\nstack traceback:\n\tx.lua:7: in function 'diagnose'");
        assert_eq!(e.location.as_deref(), Some("x.lua:7"));
        assert!(e
            .to_string()
            .starts_with("policy x.lua: hook diagnose failed: "));
    }
}
