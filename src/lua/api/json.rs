//! `trackit.json`: encode and decode JSON.

use super::to_lua_options;
use mlua::{Lua, LuaSerdeExt, Table, Value};

pub fn register(lua: &Lua, t: &Table) -> mlua::Result<()> {
    let ns = lua.create_table()?;
    ns.set(
        "encode",
        lua.create_function(|lua, v: Value| {
            let json: serde_json::Value = lua.from_value(v)?;
            serde_json::to_string(&json).map_err(mlua::Error::external)
        })?,
    )?;
    ns.set(
        "decode",
        lua.create_function(|lua, s: String| {
            match serde_json::from_str::<serde_json::Value>(&s) {
                Ok(v) => Ok((lua.to_value_with(&v, to_lua_options())?, Value::Nil)),
                Err(e) => Ok((
                    Value::Nil,
                    Value::String(lua.create_string(format!("invalid JSON: {e}"))?),
                )),
            }
        })?,
    )?;
    t.set("json", ns)?;
    Ok(())
}
