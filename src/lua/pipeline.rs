//! Loading a pipeline file: Lua in the same sandbox as a policy (so a loop makes a sweep), its
//! value decoded into a [`PipelineSpec`] and checked. Errors name `file:line`.

use super::error::PolicyError;
use super::limits;
use crate::track::pipeline::{validate, PipelineSpec};
use mlua::{LuaSerdeExt, Value};
use std::path::Path;

/// Reads, runs and checks a pipeline file. The steps come back in an order where each follows
/// the steps it waits for. The error reads `pipeline FILE: FILE:LINE: message`.
pub fn load(path: &Path) -> Result<PipelineSpec, String> {
    load_file(path).map_err(|e| {
        let msg = match &e.location {
            Some(loc) if !e.message.contains(loc.as_str()) => format!("{loc}: {}", e.message),
            _ => e.message.clone(),
        };
        format!("pipeline {}: {msg}", e.policy)
    })
}

fn load_file(path: &Path) -> Result<PipelineSpec, PolicyError> {
    let name = path.display().to_string();
    let err = |e: mlua::Error| PolicyError::from_lua(&name, "load", &e);
    let text = std::fs::read_to_string(path).map_err(|e| {
        PolicyError::new(&name, "load", format!("cannot read the pipeline file: {e}"))
    })?;
    let (lua, budget) = limits::sandboxed_lua(limits::Limits::default()).map_err(err)?;
    super::install_searcher(&lua, path.parent().map(Path::to_path_buf)).map_err(err)?;
    super::api::register_all(&lua, budget.clone(), &name).map_err(err)?;
    lua.load("require('trackit.init')")
        .set_name("=trackit/boot")
        .exec()
        .map_err(err)?;
    budget.reset();
    let value: Value = lua
        .load(text.as_str())
        .set_name(super::policy::chunk_name(path))
        .eval()
        .map_err(err)?;
    if !matches!(value, Value::Table(_)) {
        return Err(PolicyError::new(
            &name,
            "load",
            format!(
                "a pipeline file returns {{ steps = {{ ... }} }}, but this one returned {}",
                value.type_name()
            ),
        )
        .with_location(Some(format!("{name}:{}", text.lines().count().max(1)))));
    }
    let spec: PipelineSpec = lua.from_value(value).map_err(|e| {
        PolicyError::new(&name, "load", format!("not a pipeline: {e}"))
            .with_location(Some(name.clone()))
    })?;
    validate(spec, &name, &text)
        .map_err(|e| PolicyError::new(&name, "load", e.message).with_location(Some(e.location)))
}
