//! `trackit.slurm`: read-only scheduler facts a policy may need, such as a partition's limits
//! for caps. Calls the real SLURM client commands; blocking is fine inside a hook, and the time
//! spent counts against the policy's time limit.

use super::super::limits::Budget;
use super::{charged, to_lua_options};
use crate::slurm::{PartitionInfo, Slurm, SlurmError};
use mlua::{Lua, LuaSerdeExt, Table, Value};

/// The SLURM client hooks use, kept in the Lua state's app data (the default one: `scontrol`
/// from `PATH`).
pub(crate) struct SlurmClient(pub(crate) Slurm);

pub fn register(lua: &Lua, t: &Table, budget: Budget) -> mlua::Result<()> {
    lua.set_app_data(SlurmClient(Slurm::default()));
    let ns = lua.create_table()?;
    // trackit.slurm.partition(name) -> {name, max_time_s, max_mem_per_node_bytes, ...} | nil, err
    ns.set(
        "partition",
        lua.create_function(move |lua, name: String| {
            let slurm = lua
                .app_data_ref::<SlurmClient>()
                .map(|c| c.0.clone())
                .unwrap_or_default();
            match charged(&budget, || partition(&slurm, &name))? {
                Ok(Some(info)) => Ok((lua.to_value_with(&info, to_lua_options())?, Value::Nil)),
                Ok(None) => Ok((
                    Value::Nil,
                    Value::String(lua.create_string(format!("partition {name} not found"))?),
                )),
                Err(e) => Ok((Value::Nil, Value::String(lua.create_string(e.to_string())?))),
            }
        })?,
    )?;
    t.set("slurm", ns)?;
    Ok(())
}

/// Runs the async client on its own thread and runtime, so a hook can call it whether or not
/// the caller is inside a tokio runtime.
fn partition(slurm: &Slurm, name: &str) -> Result<Option<PartitionInfo>, SlurmError> {
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|source| SlurmError::Spawn {
                    command: "tokio runtime".into(),
                    source,
                })?;
            rt.block_on(slurm.partition(name))
        })
        .join()
        .unwrap_or_else(|_| {
            Err(SlurmError::Parse {
                command: "scontrol".into(),
                detail: "the partition lookup panicked".into(),
            })
        })
    })
}
