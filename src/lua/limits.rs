//! The policy sandbox: a reduced standard library, a memory limit, an instruction budget and a
//! time limit per hook call. The budget is a *global* hook, so coroutines are covered too.
//!
//! A spent budget cannot be caught: the first overrun raises the watchdog flag, and from then on
//! every hook check raises again, and `pcall`, `xpcall`, `coroutine.resume` and
//! `coroutine.close` re-raise it as soon as they return, so no error handler swallows it. Lua
//! patterns (`string.find`, `match`, `gmatch`, `gsub`) run in the bounded matcher of
//! [`super::pattern`], which checks the same budget, and time spent inside trackit's own
//! functions counts against it.

use super::pattern::{self, Capture, Replacement};
use mlua::{HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value, VmState};
use std::cell::RefCell;
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
    /// The watchdog flag: set at the first overrun, cleared only by the next [`Budget::reset`].
    exhausted: Option<String>,
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
            exhausted: None,
        })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BudgetState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a fresh allowance for one hook call.
    pub fn reset(&self) {
        let mut s = self.lock();
        s.remaining = s.limits.instructions;
        s.deadline = Some(Instant::now() + Duration::from_millis(s.limits.timeout_ms));
        s.exhausted = None;
    }

    pub fn limits(&self) -> Limits {
        self.lock().limits
    }

    /// Why the budget is spent, once it is.
    pub fn exhausted(&self) -> Option<String> {
        self.lock().exhausted.clone()
    }

    /// Charges `cost` instructions and checks the clock. The first overrun raises the flag;
    /// after that every call fails with the same message.
    pub fn charge(&self, cost: u64) -> Result<(), String> {
        let mut s = self.lock();
        if let Some(why) = &s.exhausted {
            return Err(why.clone());
        }
        s.remaining = s.remaining.saturating_sub(cost);
        let why = if s.remaining == 0 {
            Some(format!(
                "policy exceeded its instruction budget ({} instructions)",
                s.limits.instructions
            ))
        } else if s.deadline.is_some_and(|d| Instant::now() > d) {
            Some(format!(
                "policy exceeded its time limit ({} ms)",
                s.limits.timeout_ms
            ))
        } else {
            None
        };
        match why {
            Some(why) => {
                s.exhausted = Some(why.clone());
                Err(why)
            }
            None => Ok(()),
        }
    }

    fn check(&self) -> mlua::Result<VmState> {
        self.charge(CHECK_EVERY as u64)
            .map_err(mlua::Error::runtime)?;
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
    let budget = Budget::new(limits);
    let flag = budget.clone();
    let exhausted = lua.create_function(move |_, ()| Ok(flag.exhausted()))?;
    // `load` stays (policies may build functions), but text only: binary chunks can crash the
    // VM. The error handlers re-raise a spent budget (the watchdog): `exhausted` is only ever
    // reachable from these closures.
    lua.load(
        r#"
        local exhausted = ...
        local raw_load, raw_pcall, raw_xpcall, raw_error = load, pcall, xpcall, error
        local co_resume, co_close = coroutine.resume, coroutine.close
        load = function(chunk, name, mode, env)
            return raw_load(chunk, name, "t", env)
        end
        local function recheck(...)
            local why = exhausted()
            if why then raw_error(why, 0) end
            return ...
        end
        pcall = function(...) return recheck(raw_pcall(...)) end
        -- An error raised by the budget hook runs the message handler with hooks off (Lua
        -- disables them inside a hook): once the budget is spent, the handler is skipped.
        xpcall = function(f, handler, ...)
            local function guarded(e)
                if exhausted() then return e end
                return handler(e)
            end
            return recheck(raw_xpcall(f, guarded, ...))
        end
        coroutine.resume = function(...) return recheck(co_resume(...)) end
        coroutine.close = function(...) return recheck(co_close(...)) end
        string.dump = nil
        "#,
    )
    .set_name("=trackit/sandbox")
    .call::<()>(exhausted)?;
    let package: mlua::Table = g.get("package")?;
    package.set("cpath", "")?;
    package.set("path", "")?;
    package.set("loadlib", mlua::Value::Nil)?;
    install_patterns(&lua, &budget)?;

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
    budget.lock().limits = limits;
    lua.set_memory_limit(limits.memory_mb << 20)?;
    Ok(())
}

fn truthy(v: &Option<Value>) -> bool {
    !matches!(v, None | Some(Value::Nil) | Some(Value::Boolean(false)))
}

fn pattern_error(e: pattern::PatternError) -> mlua::Error {
    mlua::Error::runtime(e.to_string())
}

fn push_captures(lua: &Lua, src: &[u8], caps: Vec<Capture>) -> mlua::Result<MultiValue> {
    caps.into_iter()
        .map(|c| match c {
            Capture::Text(r) => lua.create_string(&src[r]).map(Value::String),
            Capture::Position(p) => Ok(Value::Integer(p as i64)),
        })
        .collect()
}

/// `string.find`, `match`, `gmatch` and `gsub` on the bounded matcher, same semantics as Lua's.
fn install_patterns(lua: &Lua, budget: &Budget) -> mlua::Result<()> {
    let string: Table = lua.globals().get("string")?;
    let b = budget.clone();
    let find_or_match = move |find: bool| {
        let b = b.clone();
        move |lua: &Lua,
              (s, p, init, plain): (
            mlua::LuaString,
            mlua::LuaString,
            Option<i64>,
            Option<Value>,
        )|
              -> mlua::Result<MultiValue> {
            let (src, pat) = (s.as_bytes(), p.as_bytes());
            let mut tick = || b.charge(pattern::TICK_EVERY);
            let found = pattern::find(&src, &pat, init, truthy(&plain), find, &mut tick)
                .map_err(pattern_error)?;
            let Some(f) = found else {
                return Ok(MultiValue::from_vec(vec![Value::Nil]));
            };
            let mut out = Vec::new();
            if find {
                out.push(Value::Integer(f.start as i64 + 1));
                out.push(Value::Integer(f.end as i64));
            }
            out.extend(push_captures(lua, &src, f.captures)?);
            Ok(MultiValue::from_vec(out))
        }
    };
    string.set("find", lua.create_function(find_or_match(true))?)?;
    string.set("match", lua.create_function(find_or_match(false))?)?;

    let b = budget.clone();
    string.set(
        "gmatch",
        lua.create_function(
            move |lua, (s, p, init): (mlua::LuaString, mlua::LuaString, Option<i64>)| {
                let src = s.as_bytes().to_vec();
                let pat = p.as_bytes().to_vec();
                let state = RefCell::new(pattern::GMatch::new(src.len(), init));
                let b = b.clone();
                lua.create_function(move |lua, ()| {
                    let mut tick = || b.charge(pattern::TICK_EVERY);
                    let caps = state
                        .borrow_mut()
                        .next(&src, &pat, &mut tick)
                        .map_err(pattern_error)?;
                    match caps {
                        Some(caps) => push_captures(lua, &src, caps),
                        None => Ok(MultiValue::from_vec(vec![Value::Nil])),
                    }
                })
            },
        )?,
    )?;

    let b = budget.clone();
    string.set(
        "gsub",
        lua.create_function(
            move |lua, (s, p, repl, max): (mlua::LuaString, mlua::LuaString, Value, Option<i64>)| {
                let (src, pat) = (s.as_bytes(), p.as_bytes());
                let repl_text = match &repl {
                    Value::String(_) | Value::Integer(_) | Value::Number(_) => Some(
                        lua.coerce_string(repl.clone())?
                            .map(|t| t.as_bytes().to_vec())
                            .unwrap_or_default(),
                    ),
                    Value::Table(_) | Value::Function(_) => None,
                    other => {
                        return Err(mlua::Error::runtime(format!(
                            "bad argument #3 to 'gsub' (string/function/table expected, got {})",
                            other.type_name()
                        )))
                    }
                };
                // An error inside a Lua replacement function (a spent budget, say) is kept and
                // raised as it was.
                let failure: RefCell<Option<mlua::Error>> = RefCell::new(None);
                let mut replace = |m: &pattern::Matcher, st: usize, e: usize| -> Result<Replacement, String> {
                    if let Some(t) = &repl_text {
                        return pattern::expand_replacement(m, t, st, e).map(Replacement::Text);
                    }
                    let value = (|| -> mlua::Result<Value> {
                        match &repl {
                            Value::Table(t) => {
                                let key = match m.capture(0, st, e).map_err(pattern_error)? {
                                    Capture::Text(r) => Value::String(lua.create_string(&src[r])?),
                                    Capture::Position(p) => Value::Integer(p as i64),
                                };
                                t.get::<Value>(key)
                            }
                            Value::Function(f) => {
                                let caps = m.captures(st, e, true).map_err(pattern_error)?;
                                f.call::<Value>(push_captures(lua, &src, caps)?)
                            }
                            _ => Ok(Value::Nil),
                        }
                    })();
                    let value = match value {
                        Ok(v) => v,
                        Err(err) => {
                            *failure.borrow_mut() = Some(err);
                            return Err("replacement failed".into());
                        }
                    };
                    match value {
                        Value::Nil | Value::Boolean(false) => Ok(Replacement::Keep),
                        v @ (Value::String(_) | Value::Integer(_) | Value::Number(_)) => {
                            let text = lua
                                .coerce_string(v)
                                .ok()
                                .flatten()
                                .map(|t| t.as_bytes().to_vec())
                                .unwrap_or_default();
                            Ok(Replacement::Text(text))
                        }
                        other => Err(format!(
                            "invalid replacement value (a {})",
                            other.type_name()
                        )),
                    }
                };
                let mut tick = || b.charge(pattern::TICK_EVERY);
                let result = pattern::gsub(&src, &pat, max, &mut tick, &mut replace);
                if let Some(err) = failure.into_inner() {
                    return Err(err);
                }
                let (out, n) = result.map_err(pattern_error)?;
                let text = match out {
                    Some(bytes) => lua.create_string(bytes)?,
                    None => s.clone(),
                };
                Ok((text, n))
            },
        )?,
    )?;
    Ok(())
}
