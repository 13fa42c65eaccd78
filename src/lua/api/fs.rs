//! `trackit.fs`: read-only file access for policies (no writes: edits are returned as data),
//! confined to the repository, the track's folder and the job's logs ([`crate::lua::scope`]).

use super::super::limits::Budget;
use super::super::scope::SharedScope;
use super::charged;
use mlua::{Lua, Table, Value};
use std::io::Read;
use std::path::Path;

/// The most a policy may read from one file.
const MAX_READ: u64 = 4 << 20;

/// The real path if the policy may read `path`, else why not.
fn allowed(lua: &Lua, path: &str) -> Result<std::path::PathBuf, String> {
    match lua.app_data_ref::<SharedScope>() {
        Some(scope) => scope.lock().check(Path::new(path)),
        None => Err("no read scope".into()),
    }
}

pub fn register(lua: &Lua, t: &Table, budget: Budget) -> mlua::Result<()> {
    let ns = lua.create_table()?;
    // Outside the scope a path neither exists nor is a folder, as far as a policy can tell.
    ns.set(
        "exists",
        lua.create_function(|lua, path: String| Ok(allowed(lua, &path).is_ok_and(|p| p.exists())))?,
    )?;
    ns.set(
        "is_dir",
        lua.create_function(|lua, path: String| Ok(allowed(lua, &path).is_ok_and(|p| p.is_dir())))?,
    )?;
    // trackit.fs.read(path) -> string | nil, err (at most 4 MiB, regular files only)
    let read_budget = budget.clone();
    ns.set(
        "read",
        lua.create_function(move |lua, path: String| {
            let real = match allowed(lua, &path) {
                Ok(p) => p,
                Err(why) => return Ok((Value::Nil, Value::String(lua.create_string(why)?))),
            };
            let read = charged(&read_budget, || -> std::io::Result<Vec<u8>> {
                let mut buf = Vec::new();
                crate::logtail::open_regular(&real)?
                    .take(MAX_READ)
                    .read_to_end(&mut buf)?;
                Ok(buf)
            })?;
            match read {
                Ok(bytes) => Ok((Value::String(lua.create_string(bytes)?), Value::Nil)),
                Err(e) => Ok((
                    Value::Nil,
                    Value::String(lua.create_string(format!("cannot read {path}: {e}"))?),
                )),
            }
        })?,
    )?;
    // trackit.fs.find(dir, names, max_depth?) -> relative paths of the files and folders named
    // so (shallowest first, at most 64; hidden folders and environments not searched)
    ns.set(
        "find",
        lua.create_function(
            move |lua, (dir, names, max_depth): (String, Vec<String>, Option<usize>)| {
                let Ok(real) = allowed(lua, &dir) else {
                    return Ok(Vec::new());
                };
                let limits = crate::find_named::FindLimits {
                    max_depth: max_depth.unwrap_or(4).min(8),
                    ..Default::default()
                };
                let found = charged(&budget, || {
                    crate::find_named::find_named(&real, &names, limits)
                })?;
                Ok(found
                    .into_iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect::<Vec<_>>())
            },
        )?,
    )?;
    t.set("fs", ns)?;
    Ok(())
}
