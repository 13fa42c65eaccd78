//! The `trackit` Lua API: one file per namespace, each with a `register` function.
//! Every function here is read-only or pure: hooks decide, Rust acts.

mod core;
mod fs;
mod json;
mod log;
mod metrics;
mod re;
pub(crate) mod slurm;
mod units;

use super::limits::Budget;
use mlua::{Lua, Table};

/// Builds the `trackit` table, sets it as a global and as `require("trackit")`.
pub fn register_all(lua: &Lua, budget: Budget, policy_name: &str) -> mlua::Result<Table> {
    let trackit = lua.create_table()?;
    core::register(lua, &trackit, policy_name)?;
    log::register(lua, &trackit, budget.clone(), policy_name)?;
    re::register(lua, &trackit)?;
    json::register(lua, &trackit)?;
    slurm::register(lua, &trackit, budget.clone())?;
    fs::register(lua, &trackit, budget)?;
    units::register(lua, &trackit)?;
    metrics::register(lua, &trackit)?;
    lua.globals().set("trackit", trackit.clone())?;
    let loaded: Table = lua.globals().get::<Table>("package")?.get("loaded")?;
    loaded.set("trackit", trackit.clone())?;
    Ok(trackit)
}

/// Runs `f` (trackit's own, possibly slow, work) and charges its time to the policy: a call
/// that ran past the hook's time limit fails at once, with the watchdog raised.
pub(crate) fn charged<T>(budget: &Budget, f: impl FnOnce() -> T) -> mlua::Result<T> {
    let out = f();
    budget.charge(1).map_err(mlua::Error::runtime)?;
    Ok(out)
}

/// Options for handing Rust data to Lua: `None` becomes `nil`, not a truthy `null`.
pub fn to_lua_options() -> mlua::serde::SerializeOptions {
    mlua::serde::SerializeOptions::new()
        .serialize_none_to_null(false)
        .serialize_unit_to_null(false)
}
