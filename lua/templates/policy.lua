-- This repository's trackit policy: the built-in default plus what you add below.
-- trackit loads it from .trackit/policy.lua at the repository root (or from `--policy FILE`).
--
-- Check it:  trackit policy check .trackit/policy.lua
-- Test it:   trackit policy test --policy .trackit/policy.lua DIR   (DIR: logs named
--            `<anything>-<kind>.log`, or listed in DIR/cases.json)
-- Guide:     docs/policy-guide.md and docs/lua-api.md in trackit's repository; the API types are
--            in .trackit/types (the .luarc.json beside .trackit points your editor there).
--
-- Each example below is switched off by a block comment: change its `--[[` to `---[[` to
-- switch it on (the closing `--]]` then reads as an ordinary comment).
--
-- On a site with a shipped policy, start from it instead (built into trackit, no copy needed):
--   local base = require("trackit.policies.sherlock")   -- or "trackit.policies.generic-slurm"
local base = require("trackit.default")

return trackit.extend(base, {
  settings = {
    -- max_attempts = 3,                       -- attempts before the failure report
    -- caps = { max_mem = "256G", max_time = "2-00:00:00" },   -- ceilings for fixers
  },

  rules = {
    --[[ example: a rule of your own, with a kind of your own
    wandb_login = {
      kind = "config",                         -- any snake_case word
      priority = 70,                           -- above a plain Python exception (20)
      fixable = false,                         -- a relaunch will not help: a person must log in
      patterns = { [=[wandb: ERROR api_key not configured]=] },
      summary = "Weights & Biases has no API key here: run `wandb login` once on this machine",
    },
    --]]

    -- An inherited rule can be dropped:   generic_error = false,
  },

  fixers = {
    --[[ example: a fixer for a kind. It returns edits as data (trackit checks and applies them)
    -- or nil for "no fix". ctx = { diagnosis, job, attempt, max_attempts, backend, resources,
    -- script, script_path, sbatch_args, command, env, history, caps, settings, repo_root }
    -- (see trackit.FixCtx in .trackit/types/trackit.lua).
    disk_quota = function(ctx)
      local path = ctx.diagnosis.captures.path or ""
      local scratch = trackit.env("SCRATCH")
      if scratch and path:find("/.cache/huggingface/", 1, true) then
        return {
          edits = { { op = "set_env", name = "HF_HOME", value = scratch .. "/hf-cache" } },
          note = "the Hugging Face cache filled the home quota: moved it to $SCRATCH",
        }
      end
      return nil
    end,
    --]]
  },

  --[[ example: the results table in the doc and the pull request (markdown). ctx is a
  -- trackit.ReportCtx: ctx.status, ctx.jobs (one row per job), ctx.attempts, and, once the job
  -- succeeded, ctx.metrics = { metrics = { { name, final = number, best = { value, epoch, step } } } }.
  format_table = function(ctx)
    local rows = { "| metric | final | best |", "| --- | --- | --- |" }
    local report = ctx.metrics or {}
    for _, m in ipairs(report.metrics or {}) do
      local best = m.best and m.best.value
      rows[#rows + 1] = string.format("| %s | %s | %s |", m.name,
        m["final"] and string.format("%.4g", m["final"]) or "–",
        best and string.format("%.4g", best) or "–")
    end
    if #rows == 2 then rows[#rows + 1] = "| (pending) | | |" end
    return table.concat(rows, "\n")
  end,
  --]]
})
