//! `trackit.metrics`: trackit's own reading of a log line, so a policy's `parse_metrics` can
//! extend it rather than start over.

use mlua::{Lua, Table};

pub fn register(lua: &Lua, t: &Table) -> mlua::Result<()> {
    let ns = lua.create_table()?;
    // line -> { name = number, ..., step = n?, epoch = x? } or nil
    ns.set(
        "parse_line",
        lua.create_function(|lua, line: String| {
            let Some(m) = crate::results::parse_line(&line) else {
                return Ok(mlua::Value::Nil);
            };
            let out = lua.create_table()?;
            for (name, value) in m.values {
                out.set(name, value)?;
            }
            if let Some(s) = m.step {
                out.set("step", s)?;
            }
            if let Some(e) = m.epoch {
                out.set("epoch", e)?;
            }
            Ok(mlua::Value::Table(out))
        })?,
    )?;
    t.set("metrics", ns)?;
    Ok(())
}
