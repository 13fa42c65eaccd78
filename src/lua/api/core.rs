//! `trackit.version`, `trackit.env`, `trackit.now`, and `print` routed to trackit's log.

use mlua::{Lua, MultiValue, Table};

/// Environment variables whose names look like secrets are never handed to policies.
fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "PRIVATE",
        "API_KEY",
        "APIKEY",
    ]
    .iter()
    .any(|w| upper.contains(w))
}

pub fn register(lua: &Lua, t: &Table, policy_name: &str) -> mlua::Result<()> {
    t.set("version", env!("CARGO_PKG_VERSION"))?;
    t.set(
        "env",
        lua.create_function(|_, name: String| {
            if looks_secret(&name) {
                return Ok(None);
            }
            Ok(std::env::var(&name).ok())
        })?,
    )?;
    t.set(
        "now",
        lua.create_function(|_, ()| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            Ok(now.as_secs_f64())
        })?,
    )?;
    let name = policy_name.to_string();
    lua.globals().set(
        "print",
        lua.create_function(move |_, args: MultiValue| {
            let text: Vec<String> = args
                .iter()
                .map(|v| v.to_string().unwrap_or_else(|_| format!("{v:?}")))
                .collect();
            tracing::info!(policy = %name, "{}", text.join("\t"));
            Ok(())
        })?,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn secret_names() {
        assert!(super::looks_secret("GH_TOKEN"));
        assert!(super::looks_secret("github_token"));
        assert!(!super::looks_secret("SCRATCH"));
    }
}
