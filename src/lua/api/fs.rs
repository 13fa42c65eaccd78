//! `trackit.fs`: read-only file access for policies (no writes: edits are returned as data).

use super::super::limits::Budget;
use super::charged;
use mlua::{Lua, Table, Value};
use std::io::Read;

/// The most a policy may read from one file.
const MAX_READ: u64 = 4 << 20;

pub fn register(lua: &Lua, t: &Table, budget: Budget) -> mlua::Result<()> {
    let ns = lua.create_table()?;
    ns.set(
        "exists",
        lua.create_function(|_, path: String| Ok(std::path::Path::new(&path).exists()))?,
    )?;
    ns.set(
        "is_dir",
        lua.create_function(|_, path: String| Ok(std::path::Path::new(&path).is_dir()))?,
    )?;
    // trackit.fs.read(path) -> string | nil, err (at most 4 MiB)
    ns.set(
        "read",
        lua.create_function(move |lua, path: String| {
            let read = charged(&budget, || -> std::io::Result<Vec<u8>> {
                let mut buf = Vec::new();
                crate::logtail::open_regular(std::path::Path::new(&path))?
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
    t.set("fs", ns)?;
    Ok(())
}
