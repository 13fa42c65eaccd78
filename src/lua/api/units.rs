//! `trackit.units`: memory sizes and SLURM durations, the way sbatch takes them.

use crate::job::{format_duration, format_mem, parse_duration, parse_mem};
use mlua::{Lua, Table};

pub fn register(lua: &Lua, t: &Table) -> mlua::Result<()> {
    let ns = lua.create_table()?;
    // "16G" -> bytes (plain numbers are MiB, as in --mem); nil when unparsable
    ns.set(
        "parse_mem",
        lua.create_function(|_, s: String| Ok(parse_mem(&s)))?,
    )?;
    ns.set(
        "format_mem",
        lua.create_function(|_, bytes: f64| Ok(format_mem(bytes.max(0.0).round() as u64)))?,
    )?;
    // "1-00:00:00" -> seconds; nil for UNLIMITED or unparsable
    ns.set(
        "parse_duration",
        lua.create_function(|_, s: String| Ok(parse_duration(&s)))?,
    )?;
    ns.set(
        "format_duration",
        lua.create_function(|_, secs: f64| Ok(format_duration(secs.max(0.0).round() as u64)))?,
    )?;
    t.set("units", ns)?;
    Ok(())
}
