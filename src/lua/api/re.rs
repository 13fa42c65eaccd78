//! `trackit.re`: Rust regular expressions (the syntax rule patterns use) for policy code.

use mlua::{Lua, Table, Value};
use regex::Regex;
use std::collections::HashMap;
use std::sync::Mutex;

/// Compiled patterns, so a hook calling `trackit.re.match` in a loop compiles once.
struct Cache(Mutex<HashMap<String, Regex>>);

fn compiled(lua: &Lua, pattern: &str) -> mlua::Result<Regex> {
    let cache = lua.app_data_ref::<Cache>().expect("regex cache registered");
    let mut map = cache.0.lock().unwrap();
    if let Some(re) = map.get(pattern) {
        return Ok(re.clone());
    }
    let re = Regex::new(pattern)
        .map_err(|e| mlua::Error::runtime(format!("invalid pattern {pattern:?}: {e}")))?;
    if map.len() > 256 {
        map.clear();
    }
    map.insert(pattern.to_string(), re.clone());
    Ok(re)
}

pub fn register(lua: &Lua, t: &Table) -> mlua::Result<()> {
    lua.set_app_data(Cache(Mutex::new(HashMap::new())));
    let ns = lua.create_table()?;
    // trackit.re.match(text, pattern) -> captures table (named and numbered) or nil
    ns.set(
        "match",
        lua.create_function(|lua, (text, pattern): (String, String)| {
            let re = compiled(lua, &pattern)?;
            let Some(caps) = re.captures(&text) else {
                return Ok(Value::Nil);
            };
            let out = lua.create_table()?;
            for (i, m) in caps.iter().enumerate() {
                if let Some(m) = m {
                    out.set(i, m.as_str())?;
                }
            }
            for name in re.capture_names().flatten() {
                if let Some(m) = caps.name(name) {
                    out.set(name, m.as_str())?;
                }
            }
            Ok(Value::Table(out))
        })?,
    )?;
    // trackit.re.is_match(text, pattern) -> boolean
    ns.set(
        "is_match",
        lua.create_function(|lua, (text, pattern): (String, String)| {
            Ok(compiled(lua, &pattern)?.is_match(&text))
        })?,
    )?;
    // trackit.re.find(text, pattern) -> start, end (1-based, inclusive) or nil
    ns.set(
        "find",
        lua.create_function(|lua, (text, pattern): (String, String)| {
            Ok(match compiled(lua, &pattern)?.find(&text) {
                Some(m) => (Some(m.start() + 1), Some(m.end())),
                None => (None, None),
            })
        })?,
    )?;
    // trackit.re.replace(text, pattern, replacement) -> string (all matches; $1/$name expand)
    ns.set(
        "replace",
        lua.create_function(|lua, (text, pattern, rep): (String, String, String)| {
            Ok(compiled(lua, &pattern)?
                .replace_all(&text, rep.as_str())
                .into_owned())
        })?,
    )?;
    t.set("re", ns)?;
    Ok(())
}
