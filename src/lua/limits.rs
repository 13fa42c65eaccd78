//! The policy sandbox: a reduced standard library, a memory limit, an instruction budget and a
//! time limit per hook call. The budget is a *global* hook, so coroutines are covered too.

use mlua::{HookTriggers, Lua, LuaOptions, StdLib, VmState};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often (in VM instructions) the budget is checked.
const CHECK_EVERY: u32 = 1000;

pub use crate::settings::PolicyLimits as Limits;

#[derive(Debug)]
struct BudgetState {
    remaining: u64,
    deadline: Option<Instant>,
    limits: Limits,
}

/// The running budget, shared between the VM hook and the host.
#[derive(Clone, Debug)]
pub struct Budget(Arc<Mutex<BudgetState>>);

impl Budget {
    fn new(limits: Limits) -> Self {
        Budget(Arc::new(Mutex::new(BudgetState {
            remaining: limits.instructions,
            deadline: None,
            limits,
        })))
    }

    /// Starts a fresh allowance for one hook call.
    pub fn reset(&self) {
        let mut s = self.0.lock().unwrap();
        s.remaining = s.limits.instructions;
        s.deadline = Some(Instant::now() + Duration::from_millis(s.limits.timeout_ms));
    }

    /// Pushes the deadline back by time spent outside Lua (in trackit's own functions).
    pub fn credit(&self, spent: Duration) {
        let mut s = self.0.lock().unwrap();
        if let Some(d) = s.deadline.as_mut() {
            *d += spent;
        }
    }

    pub fn limits(&self) -> Limits {
        self.0.lock().unwrap().limits
    }

    fn check(&self) -> mlua::Result<VmState> {
        let mut s = self.0.lock().unwrap();
        s.remaining = s.remaining.saturating_sub(CHECK_EVERY as u64);
        if s.remaining == 0 {
            return Err(mlua::Error::runtime(format!(
                "policy exceeded its instruction budget ({} instructions)",
                s.limits.instructions
            )));
        }
        if s.deadline.is_some_and(|d| Instant::now() > d) {
            return Err(mlua::Error::runtime(format!(
                "policy exceeded its time limit ({} ms)",
                s.limits.timeout_ms
            )));
        }
        Ok(VmState::Continue)
    }
}

/// Creates a Lua state with only the safe libraries (no `io`, `os`, `debug`, no C loaders,
/// no file loading) and the budget hook installed.
pub fn sandboxed_lua(limits: Limits) -> mlua::Result<(Lua, Budget)> {
    let libs = StdLib::STRING
        | StdLib::TABLE
        | StdLib::MATH
        | StdLib::UTF8
        | StdLib::COROUTINE
        | StdLib::PACKAGE;
    let lua = Lua::new_with(libs, LuaOptions::default())?;
    let g = lua.globals();
    // Functions that read files or load bytecode behind trackit's back.
    for name in ["dofile", "loadfile"] {
        g.set(name, mlua::Value::Nil)?;
    }
    // `load` stays (policies may build functions), but text only: binary chunks can crash the VM.
    lua.load(
        r#"
        local raw_load = load
        load = function(chunk, name, mode, env)
            return raw_load(chunk, name, "t", env)
        end
        string.dump = nil
        "#,
    )
    .set_name("=trackit/sandbox")
    .exec()?;
    let package: mlua::Table = g.get("package")?;
    package.set("cpath", "")?;
    package.set("path", "")?;
    package.set("loadlib", mlua::Value::Nil)?;

    let budget = Budget::new(limits);
    let hook_budget = budget.clone();
    lua.set_global_hook(
        HookTriggers::new().every_nth_instruction(CHECK_EVERY),
        move |_lua, _debug| hook_budget.check(),
    )?;
    lua.set_memory_limit(limits.memory_mb << 20)?;
    Ok((lua, budget))
}

/// Changes the limits (after the policy's `settings.limits` is read).
pub fn apply_limits(lua: &Lua, budget: &Budget, limits: Limits) -> mlua::Result<()> {
    budget.0.lock().unwrap().limits = limits;
    lua.set_memory_limit(limits.memory_mb << 20)?;
    Ok(())
}
