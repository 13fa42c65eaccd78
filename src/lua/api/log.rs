//! `trackit.log`: write to trackit's log, and read the cleaned tail of a log file (inside the
//! repository, the track's folder or the job's logs: [`crate::lua::scope`]).

use super::super::limits::Budget;
use super::super::scope::SharedScope;
use super::{charged, to_lua_options};
use crate::logtail::{read_tail, TailOptions, DEFAULT_MAX_LINE};
use mlua::{Lua, LuaSerdeExt, Table, Value};

pub fn register(lua: &Lua, t: &Table, budget: Budget, policy_name: &str) -> mlua::Result<()> {
    let ns = lua.create_table()?;
    for level in ["debug", "info", "warn", "error"] {
        let name = policy_name.to_string();
        ns.set(
            level,
            lua.create_function(move |_, msg: String| {
                match level {
                    "debug" => tracing::debug!(policy = %name, "{msg}"),
                    "info" => tracing::info!(policy = %name, "{msg}"),
                    "warn" => tracing::warn!(policy = %name, "{msg}"),
                    _ => tracing::error!(policy = %name, "{msg}"),
                }
                Ok(())
            })?,
        )?;
    }
    // trackit.log.tail(path, {bytes = N}) -> {lines = {...}, complete = bool} | nil, err
    ns.set(
        "tail",
        lua.create_function(move |lua, (path, opts): (String, Option<Table>)| {
            let bytes: Option<u64> = match &opts {
                Some(o) => o.get("bytes")?,
                None => None,
            };
            let opts = TailOptions {
                window: bytes
                    .unwrap_or(crate::logtail::DEFAULT_WINDOW)
                    .clamp(1, 16 << 20),
                max_line: DEFAULT_MAX_LINE,
            };
            let real = match lua.app_data_ref::<SharedScope>() {
                Some(scope) => scope.lock().check(std::path::Path::new(&path)),
                None => Err("no read scope".into()),
            };
            let real = match real {
                Ok(p) => p,
                Err(why) => return Ok((Value::Nil, Value::String(lua.create_string(why)?))),
            };
            match charged(&budget, || read_tail(&real, opts))? {
                Ok(tail) => {
                    let out = lua.create_table()?;
                    out.set("lines", lua.to_value_with(&tail.lines, to_lua_options())?)?;
                    out.set("complete", tail.complete)?;
                    out.set("size", tail.file_size)?;
                    Ok((Value::Table(out), Value::Nil))
                }
                Err(e) => Ok((Value::Nil, Value::String(lua.create_string(e.to_string())?))),
            }
        })?,
    )?;
    t.set("log", ns)?;
    Ok(())
}
