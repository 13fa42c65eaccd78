--- @since 0.1
-- A workstation with no scheduler (`trackit run python train.py ...`): the built-in rules, and
-- one fix of its own. When the GPU runs out of memory, the relaunch halves the batch size
-- through an environment variable the training script reads, e.g.
--
--   batch_size = int(os.environ.get("BATCH_SIZE", 64))
--
-- There is no `--mem` to raise on a workstation, so the job itself has to ask for less.
local base = require("trackit.default")

-- Defaults for the settings below; a policy extending this one may override them.
local DEFAULTS = {
  batch_size_env = "BATCH_SIZE",
  default_batch_size = 64,
  min_batch_size = 1,
}

local function setting(ctx, key)
  local s = ctx.settings
  if type(s) == "table" and s[key] ~= nil then return s[key] end
  return DEFAULTS[key]
end

--- GPU out of memory: relaunch with half the batch size. Anything else: no fix from this
--- policy (nil). ctx = { diagnosis, env (the job's environment), attempt, settings }.
local function halve_batch_size(ctx)
  local d = ctx.diagnosis
  if not d or not d.captures or d.captures.device ~= "gpu" then
    return nil
  end
  local name = setting(ctx, "batch_size_env")
  local env = ctx.env or {}
  local from_env = tonumber(env[name])
  local current = math.floor(from_env or tonumber(setting(ctx, "default_batch_size")))
  local min = math.floor(tonumber(setting(ctx, "min_batch_size")) or 1)
  if current <= min then
    -- Nothing left to halve: no fix, so the failure report explains instead of a useless retry.
    return nil
  end
  local half = math.max(min, current // 2)
  local was = from_env and string.format("%s=%d", name, current)
    or string.format("%s unset, default %d", name, current)
  return {
    edits = { { op = "set_env", name = name, value = tostring(half) } },
    note = string.format("GPU out of memory (attempt %d): %s, relaunching with %s=%d",
      ctx.attempt or 1, was, name, half),
  }
end

return trackit.extend(base, {
  name = "local",
  description = "A workstation without a scheduler: built-in rules; GPU OOM halves BATCH_SIZE",

  settings = {
    -- The environment variable your script reads its batch size from.
    batch_size_env = DEFAULTS.batch_size_env,
    -- The batch size assumed when the job's environment does not set it.
    default_batch_size = DEFAULTS.default_batch_size,
    -- Never go below this; at this size a GPU OOM is reported, not retried.
    min_batch_size = DEFAULTS.min_batch_size,
  },

  fixers = {
    oom = halve_batch_size,
  },
})
