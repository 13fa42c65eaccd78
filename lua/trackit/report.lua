--- @since 0.1
-- The built-in report renderers: the results table, the pull request text and commit
-- messages. The default policy uses them; a policy can override any one:
--
--   local base = require("trackit.default")
--   local report = require("trackit.report")
--   return trackit.extend(base, {
--     format_table = function(ctx)
--       return "My lab's table\n\n" .. report.results_table(ctx)
--     end,
--   })
--
-- Every hook receives a `trackit.ReportCtx` and returns text. trackit puts the table between
-- the doc's markers, adds the PR's hidden marker and the commit trailer if a hook left them out,
-- and scrubs tokens from everything.

---@type trackit.ReportModule
local M = {}

local DASH = "—"

--- A metric value: integers as integers, 4 significant digits, large values whole,
--- tiny ones in scientific notation (the same as trackit's Rust side).
function M.format_number(v)
  if type(v) ~= "number" then return DASH end
  if v ~= v then return "NaN" end
  if v == math.huge then return "inf" end
  if v == -math.huge then return "-inf" end
  if math.type(v) == "integer" then return tostring(v) end
  if v == math.floor(v) and math.abs(v) < 1e15 then return string.format("%d", math.tointeger(v)) end
  local s = string.format("%.4g", v)
  if math.abs(v) >= 1e4 or s:find("e+", 1, true) then -- (9999.96 rounds up to 1e+04)
    local r = math.floor(math.abs(v) + 0.5)
    return string.format("%d", v < 0 and -r or r)
  end
  return s
end

--- Seconds as `HH:MM:SS` (`D-HH:MM:SS` past a day); `—` when unknown.
function M.format_elapsed(secs)
  if type(secs) ~= "number" then return DASH end
  return trackit.units.format_duration(secs)
end

local MEM_UNITS = { { "T", 1 << 40 }, { "G", 1 << 30 }, { "M", 1 << 20 }, { "K", 1 << 10 } }

--- Bytes for people: one decimal in the largest unit that fits (`3.1G`, `512M`); `—` when unknown.
function M.format_mem(bytes)
  if type(bytes) ~= "number" then return DASH end
  for _, u in ipairs(MEM_UNITS) do
    if bytes >= u[2] then
      local v = bytes / u[2]
      local text = v >= 100 and string.format("%.0f", v) or string.format("%.1f", v)
      return (text:gsub("%.0$", "")) .. u[1]
    end
  end
  return string.format("%dB", math.tointeger(bytes) or 0)
end

--- Where a value was reached: `epoch 3, step 192`, `step 180`, `epoch 2`, or "".
function M.format_at(step, epoch)
  if epoch and step then return string.format("epoch %s, step %d", M.format_number(epoch), step) end
  if epoch then return "epoch " .. M.format_number(epoch) end
  if step then return string.format("step %d", step) end
  return ""
end

--- Text safe in one table cell: pipes and emphasis escaped, `<` not taken for HTML, line
--- breaks as `<br>`; `—` when empty.
function M.cell(text)
  if text == nil then return DASH end
  text = tostring(text):gsub("^%s+", ""):gsub("%s+$", "")
  if text == "" then return DASH end
  text = text:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub("|", "\\|"):gsub("%*", "\\*")
  return (text:gsub("\r?\n", "<br>"))
end

--- Text as inline code in a table cell (log lines).
function M.code_cell(text)
  text = tostring(text or ""):gsub("^%s+", ""):gsub("%s+$", ""):gsub("|", "\\|"):gsub("[\r\n]", " ")
  if text:find("`", 1, true) then return "`` " .. text .. " ``" end
  return "`" .. text .. "`"
end

local function row(cells)
  return "| " .. table.concat(cells, " | ") .. " |"
end

local function rule(n)
  local t = {}
  for i = 1, n do t[i] = "---" end
  return "|" .. table.concat(t, "|") .. "|"
end

local TERMINAL = {
  COMPLETED = true, FAILED = true, TIMEOUT = true, OUT_OF_MEMORY = true, CANCELLED = true,
  NODE_FAIL = true, PREEMPTED = true, BOOT_FAIL = true, DEADLINE = true,
}

--- The metric names, in column order: those asked for, else those the results hold.
function M.metric_columns(ctx)
  if ctx.metrics_wanted and #ctx.metrics_wanted > 0 then return ctx.metrics_wanted end
  local names, seen = {}, {}
  local function add(report)
    for _, m in ipairs(report and report.metrics or {}) do
      if not seen[m.name] then seen[m.name] = true; names[#names + 1] = m.name end
    end
  end
  for _, j in ipairs(ctx.jobs or {}) do add(j.metrics) end
  add(ctx.metrics)
  return names
end

--- The metrics a row shows: its own, else the track's for the newest row.
function M.row_metrics(ctx, i)
  local j = ctx.jobs[i]
  if j.metrics then return j.metrics end
  if i == #ctx.jobs then return ctx.metrics end
  return nil
end

local function find_metric(report, name)
  for _, m in ipairs(report.metrics or {}) do
    if m.name == name or m.query == name then return m end
  end
  return nil
end

local function is_missing(report, name)
  for _, n in ipairs(report.missing or {}) do
    if n == name then return true end
  end
  return false
end

--- The results table: one row per job; job, state, each metric's final and best value,
--- elapsed time and peak memory. Metric cells say PENDING/RUNNING until there are numbers.
function M.results_table(ctx)
  local cols = M.metric_columns(ctx)
  local jobs = ctx.jobs or {}
  local with_attempt, with_name = false, false
  for _, j in ipairs(jobs) do
    if (j.attempt or 1) > 1 then with_attempt = true end
    if j.name then with_name = true end
  end
  local head = {}
  if with_name then
    local first = jobs[1].name or ""
    head[1] = first:match("^task ") and "task" or "step"
  end
  head[#head + 1] = "job"
  if with_attempt then head[#head + 1] = "attempt" end
  head[#head + 1] = "state"
  for _, c in ipairs(cols) do
    head[#head + 1] = M.cell(c)
    head[#head + 1] = "best " .. M.cell(c)
  end
  head[#head + 1] = "elapsed"
  head[#head + 1] = "memory"
  local lines = { row(head), rule(#head) }
  if ctx.task_counts and #ctx.task_counts > 0 then
    -- A large array: counts by state above the rows of the tasks that did not complete.
    local parts, total = {}, 0
    for _, c in ipairs(ctx.task_counts) do
      parts[#parts + 1] = string.format("%d %s", c[2], c[1])
      total = total + c[2]
    end
    table.insert(lines, 1, string.format("%d tasks: %s. The table lists the tasks that did not complete.\n", total, table.concat(parts, ", ")))
  end
  if #jobs == 0 then
    local cells = { "—" }
    if with_attempt then cells[#cells + 1] = "—" end
    cells[#cells + 1] = ctx.status
    for _ = 1, #cols * 2 do cells[#cells + 1] = ctx.status end
    cells[#cells + 1] = DASH
    cells[#cells + 1] = DASH
    lines[#lines + 1] = row(cells)
  end
  for i, j in ipairs(jobs) do
    local cells = {}
    if with_name then cells[1] = M.cell(j.name or "") end
    cells[#cells + 1] = M.cell(j.job_id)
    if with_attempt then cells[#cells + 1] = tostring(j.attempt or 1) end
    cells[#cells + 1] = j.state
    local report = M.row_metrics(ctx, i)
    for _, c in ipairs(cols) do
      if report == nil then
        local v = TERMINAL[j.state] and DASH or j.state
        cells[#cells + 1] = v
        cells[#cells + 1] = v
      else
        local m = find_metric(report, c)
        if m then
          cells[#cells + 1] = M.format_number(m["final"])
          if m.best then
            local at = M.format_at(m.best.step, m.best.epoch)
            cells[#cells + 1] = M.format_number(m.best.value) .. (at ~= "" and (" (" .. at .. ")") or "")
          else
            cells[#cells + 1] = DASH
          end
        else
          local v = is_missing(report, c) and "not found" or DASH
          cells[#cells + 1] = v
          cells[#cells + 1] = DASH
        end
      end
    end
    cells[#cells + 1] = M.format_elapsed(j.elapsed_s)
    cells[#cells + 1] = M.format_mem(j.max_rss_bytes)
    lines[#lines + 1] = row(cells)
  end
  return table.concat(lines, "\n")
end

--- One line per ended job: its resource use and right-sizing hints.
function M.efficiency_lines(ctx)
  local out = {}
  for _, j in ipairs(ctx.jobs or {}) do
    if j.efficiency and j.efficiency.line then
      out[#out + 1] = string.format("- job %s: %s", j.job_id, j.efficiency.line)
    end
  end
  return table.concat(out, "\n")
end

--- The attempts: one row per attempt with the diagnosis, its evidence and the edits applied.
function M.attempts_table(ctx)
  local lines = {
    row({ "attempt", "job", "state", "exit code", "elapsed", "diagnosis", "evidence", "edits applied" }),
    rule(8),
  }
  for _, a in ipairs(ctx.attempts or {}) do
    local diag, evidence = DASH, DASH
    if a.diagnosis then
      diag = "**" .. M.cell(a.diagnosis.kind) .. "**: " .. M.cell(a.diagnosis.summary)
      local ev = {}
      for _, e in ipairs(a.diagnosis.evidence or {}) do ev[#ev + 1] = M.code_cell(e) end
      if #ev > 0 then evidence = table.concat(ev, "<br>") end
    end
    local edits = {}
    for _, e in ipairs(a.edits or {}) do edits[#edits + 1] = M.cell(e) end
    lines[#lines + 1] = row({
      tostring(a.number), M.cell(a.job_id), a.state or DASH, a.exit_code or DASH,
      M.format_elapsed(a.elapsed_s), diag, evidence, #edits > 0 and table.concat(edits, "<br>") or DASH,
    })
  end
  return table.concat(lines, "\n")
end

--- The failure report: what happened on each attempt.
function M.failure_report(ctx)
  local n = #(ctx.attempts or {})
  local last = ctx.attempts and ctx.attempts[n]
  local head = string.format("**%s** after %d attempt%s", ctx.status, n, n == 1 and "" or "s")
  if last and last.diagnosis then
    head = head .. string.format(": `%s`: %s", last.diagnosis.kind, M.cell(last.diagnosis.summary))
  else
    head = head .. "."
  end
  return head .. "\n\n" .. M.attempts_table(ctx)
end

local function has_numbers(ctx)
  if ctx.metrics then return true end
  for _, j in ipairs(ctx.jobs or {}) do
    if j.metrics then return true end
  end
  return false
end

--- The results section of the experiment doc: the results table (with resource use and the
--- metrics not found), or the failure report when the track failed.
function M.format_table(ctx)
  local parts = {}
  if ctx.status == "FAILED" then
    parts[#parts + 1] = M.failure_report(ctx)
    if has_numbers(ctx) then parts[#parts + 1] = M.results_table(ctx) end
  else
    parts[#parts + 1] = M.results_table(ctx)
    if ctx.metrics and ctx.metrics.missing and #ctx.metrics.missing > 0 then
      parts[#parts + 1] = "Not found in the results: " .. table.concat(ctx.metrics.missing, ", ") .. "."
    end
    local eff = M.efficiency_lines(ctx)
    if eff ~= "" then parts[#parts + 1] = eff end
    local cmp = M.comparison_table(ctx)
    if cmp ~= "" then parts[#parts + 1] = cmp end
    if ctx.status == "CANCELLED" and #(ctx.attempts or {}) > 0 then
      parts[#parts + 1] = M.attempts_table(ctx)
    end
  end
  local code = M.code_line(ctx)
  if code ~= "" then parts[#parts + 1] = code end
  local hp = M.hyperparams_details(ctx)
  if hp ~= "" then parts[#parts + 1] = hp end
  local src = M.sources_details(ctx)
  if src ~= "" then parts[#parts + 1] = src end
  return table.concat(parts, "\n\n")
end

--- A signed number: `+0.01`, `-0.5`.
local function signed(v)
  local s = M.format_number(v)
  if v > 0 then return "+" .. s end
  return s
end

--- The comparison with the baseline: one row per metric with this run's value, the
--- baseline's and the change (Δ, and in percent). "" without a baseline.
function M.comparison_table(ctx)
  local b = ctx.baseline
  if not b then return "" end
  local label = b.url and string.format("[%s](%s)", b.label, b.url) or b.label
  local head = "Baseline: " .. label
  if b.record and b.record.track and b.record.track ~= "" then head = head .. string.format(" (track `%s`", b.record.track) end
  if b.record and b.record.commit then head = head .. string.format(", commit `%s`", b.record.commit:sub(1, 7)) end
  if b.record and b.record.track and b.record.track ~= "" then head = head .. ")" end
  head = head .. "."
  if #(ctx.comparison or {}) == 0 then return head end
  local lines = { head, "", row({ "metric", "this run", "baseline", "Δ" }), rule(4) }
  for _, c in ipairs(ctx.comparison) do
    local delta = DASH
    if c.delta then
      delta = signed(c.delta)
      if c.delta_pct then delta = delta .. string.format(" (%s%%)", signed(tonumber(string.format("%.1f", c.delta_pct)))) end
      if c.better == true then delta = delta .. " better" elseif c.better == false then delta = delta .. " worse" end
    end
    lines[#lines + 1] = row({ M.cell(c.name), M.format_number(c.value), M.format_number(c.baseline), delta })
  end
  return table.concat(lines, "\n")
end

--- The commit the job ran from, the node and GPUs, and a note when the tree was dirty.
function M.code_line(ctx)
  local out = {}
  local c = ctx.code
  if c then
    local sha = "`" .. c.commit:sub(1, 7) .. "`"
    if c.commit_url then sha = string.format("[%s](%s)", sha, c.commit_url) end
    local line = "Ran from commit " .. sha
    if c.branch then line = line .. " on `" .. c.branch .. "`" end
    out[#out + 1] = line .. "."
    if c.dirty then
      local note = "The working tree had uncommitted changes when the job started; they are in no commit"
        .. " (the results branch starts from the commit above)"
      if c.summary and c.summary ~= "" then note = note .. ": " .. c.summary end
      out[#out + 1] = "**Uncommitted changes.** " .. note .. "."
      if c.changes and #c.changes > 0 then
        out[#out + 1] = "```\n" .. table.concat(c.changes, "\n") .. "\n```"
      end
    end
  end
  local job = ctx.jobs and ctx.jobs[#ctx.jobs]
  if job and (job.node or job.gpus) then
    local where = {}
    if job.node then where[#where + 1] = "node `" .. job.node .. "`" end
    if job.gpus then where[#where + 1] = job.gpus end
    out[#out + 1] = "Ran on " .. table.concat(where, ", ") .. "."
  end
  return table.concat(out, "\n\n")
end

--- The hyperparameters as a table in a collapsed block; "" when none were found.
function M.hyperparams_details(ctx)
  local hp = ctx.hyperparams
  if not hp then return "" end
  local names = {}
  for k in pairs(hp.values or {}) do names[#names + 1] = k end
  table.sort(names)
  if #names == 0 and #(hp.overrides or {}) == 0 then return "" end
  local lines = { string.format("<details><summary>Hyperparameters (%d)</summary>", #names), "" }
  if #(hp.overrides or {}) > 0 then
    local o = {}
    for _, x in ipairs(hp.overrides) do o[#o + 1] = M.code_cell(x) end
    lines[#lines + 1] = "Overrides: " .. table.concat(o, " ")
    lines[#lines + 1] = ""
  end
  if #names > 0 then
    lines[#lines + 1] = row({ "name", "value" })
    lines[#lines + 1] = rule(2)
    -- A PR body is at most 65536 characters: a huge config is cut, and says so.
    local shown = math.min(#names, 150)
    for i = 1, shown do
      local k = names[i]
      local v = tostring(hp.values[k])
      if #v > 200 then v = v:sub(1, 200) .. "…" end
      lines[#lines + 1] = row({ M.code_cell(k), M.cell(v) })
    end
    if shown < #names then
      lines[#lines + 1] = row({ string.format("… and %d more", #names - shown), DASH })
    end
    lines[#lines + 1] = ""
  end
  local src = {}
  for _, p in ipairs(hp.sources or {}) do src[#src + 1] = "`" .. p .. "`" end
  if #src > 0 then
    lines[#lines + 1] = "From " .. table.concat(src, ", ") .. "."
    lines[#lines + 1] = ""
  end
  lines[#lines + 1] = "</details>"
  return table.concat(lines, "\n")
end

--- Which files the results came from and which were passed over (and why).
function M.sources_details(ctx)
  local s = ctx.sources
  if not s then return "" end
  local read, skipped = s.read or {}, s.skipped or {}
  local lines = {}
  for _, l in ipairs(s.links or {}) do
    if l:match("^https?://") then lines[#lines + 1] = "Run page: " .. l else lines[#lines + 1] = l:gsub("^%l", string.upper) end
  end
  if #lines > 0 then lines[#lines + 1] = "" end
  lines[#lines + 1] = string.format("<details><summary>%d file%s read, %d passed over</summary>", #read, #read == 1 and "" or "s", #skipped)
  lines[#lines + 1] = ""
  for _, p in ipairs(read) do lines[#lines + 1] = "- read `" .. p .. "`" end
  for _, k in ipairs(skipped) do lines[#lines + 1] = "- not read `" .. k.path .. "`: " .. k.reason end
  if #(s.from_log or {}) > 0 then
    lines[#lines + 1] = "- from the job's log (no file had them): " .. table.concat(s.from_log, ", ")
  end
  for _, e in ipairs(s.errors or {}) do lines[#lines + 1] = "- could not read " .. e end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "</details>"
  return table.concat(lines, "\n")
end

local function primary_metric(ctx)
  local report = ctx.metrics
  if not report then return nil end
  for _, name in ipairs(M.metric_columns(ctx)) do
    local m = find_metric(report, name)
    if m and (m.best or m["final"]) then return m end
  end
  return nil
end

local TREND = {
  improving = "It was still improving when training stopped: a longer run may help.",
  plateaued = "It had levelled off by the end.",
  worse_after_best = "It got worse after its best: the run may overfit; keep the best checkpoint, or stop earlier.",
  flat = "It did not move during training.",
}

--- The Discussion: two or three sentences from the data (the best value and the trend of the
--- first metric, the comparison with the baseline, a right-sizing hint, the attempts).
--- A pipeline's (or an array's) Discussion: how many rows ended how, which needed more than
--- one attempt, and the best value of the first metric across rows.
local function rows_discussion(ctx)
  local jobs = ctx.jobs or {}
  local kind = (jobs[1] and jobs[1].name or ""):match("^task ") and "task" or "step"
  if ctx.status == "PENDING" or ctx.status == "RUNNING" then
    return string.format("_trackit fills this in when every %s has finished._", kind)
  end
  local by_state, retried = {}, {}
  for _, j in ipairs(jobs) do
    by_state[j.state] = (by_state[j.state] or 0) + 1
    if (j.attempt or 1) > 1 then retried[#retried + 1] = string.format("%s (%d attempts)", j.name or j.job_id, j.attempt) end
  end
  local parts = {}
  for state, n in pairs(by_state) do parts[#parts + 1] = string.format("%d %s", n, state) end
  table.sort(parts)
  local out = { string.format("%d %ss: %s.", #jobs, kind, table.concat(parts, ", ")) }
  if #retried > 0 then out[#out + 1] = "Relaunched: " .. table.concat(retried, ", ") .. "." end
  local cols = M.metric_columns(ctx)
  local name = cols[1]
  if name then
    local best, best_row
    for i, j in ipairs(jobs) do
      local report = M.row_metrics(ctx, i)
      local m = report and find_metric(report, name)
      if m and m["final"] then
        local better = best == nil or (m.goal == "max" and m["final"] > best) or (m.goal ~= "max" and m["final"] < best)
        if better then best, best_row = m["final"], j.name or j.job_id end
      end
    end
    if best then out[#out + 1] = string.format("The best %s was %s, from %s.", name, M.format_number(best), best_row) end
  end
  return table.concat(out, " ")
end

function M.discussion(ctx)
  for _, j in ipairs(ctx.jobs or {}) do
    if j.name then return rows_discussion(ctx) end
  end
  local job = ctx.jobs and ctx.jobs[#ctx.jobs]
  local job_id = job and job.job_id or "?"
  local attempts = #(ctx.attempts or {})
  if attempts == 0 then attempts = 1 end
  if ctx.status == "PENDING" or ctx.status == "RUNNING" then
    return string.format("_trackit fills this in when job %s has finished._", job_id)
  end
  if ctx.status == "FAILED" then
    local last = ctx.attempts and ctx.attempts[#ctx.attempts]
    local why = ""
    if last and last.diagnosis then why = string.format("; the last diagnosis was `%s`: %s", last.diagnosis.kind, last.diagnosis.summary) end
    return string.format("The job failed after %d attempt%s%s. The attempts table shows the evidence and the fixes tried.", attempts, attempts == 1 and "" or "s", why)
  end
  if ctx.status == "CANCELLED" then
    return string.format("The track was cancelled after %d attempt%s; there are no final results.", attempts, attempts == 1 and "" or "s")
  end
  local out = {}
  local m = primary_metric(ctx)
  if m then
    if m.best then
      local at = M.format_at(m.best.step, m.best.epoch)
      local s = string.format("The best %s was %s%s", m.name, M.format_number(m.best.value), at ~= "" and (" at " .. at) or "")
      if m["final"] and m["final"] ~= m.best.value then
        s = s .. string.format("; it ended at %s", M.format_number(m["final"]))
      end
      if m.first and m.points and m.points > 1 then
        s = s .. string.format(" (%s at the start, %d points)", M.format_number(m.first), m.points)
      end
      out[#out + 1] = s .. "."
    elseif m["final"] then
      out[#out + 1] = string.format("%s ended at %s.", m.name, M.format_number(m["final"]))
    end
    if m.trend and TREND[m.trend] then out[#out + 1] = TREND[m.trend] end
  else
    out[#out + 1] = "No metrics were found in the job's files or log."
  end
  for _, c in ipairs(ctx.comparison or {}) do
    if m and c.name == m.name and c.delta and ctx.baseline then
      local how = c.better == true and "better" or (c.better == false and "worse" or "different")
      local pct = c.delta_pct and string.format(" (%s%%)", signed(tonumber(string.format("%.1f", c.delta_pct)))) or ""
      out[#out + 1] = string.format("Against the baseline (%s), %s is %s: %s → %s%s.", ctx.baseline.label, c.name, how,
        M.format_number(c.baseline), M.format_number(c.value), pct)
    end
  end
  local tail = {}
  if attempts == 1 then
    tail[#tail + 1] = "It succeeded on the first attempt"
  else
    local first = ctx.attempts[1]
    local kind = first and first.diagnosis and first.diagnosis.kind or "a failure"
    tail[#tail + 1] = string.format("It succeeded on attempt %d of %d, after %s", attempts, ctx.max_attempts or 3, kind)
  end
  local hint = job and job.efficiency and job.efficiency.hints and job.efficiency.hints[1]
  if hint then tail[#tail + 1] = "next time: " .. hint end
  out[#out + 1] = table.concat(tail, "; ") .. "."
  return table.concat(out, " ")
end

--- The test plan, in the words of a results PR: the job, the tables, the discussion.
function M.test_plan(ctx)
  local job = ctx.jobs and ctx.jobs[#ctx.jobs]
  local job_id = (job and job.job_id ~= "") and job.job_id or "?"
  local completed = ctx.status == "COMPLETED"
  local filled = false
  for _, m in ipairs(ctx.metrics and ctx.metrics.metrics or {}) do
    if m["final"] ~= nil then filled = true end
  end
  local final = completed or ctx.status == "FAILED" or ctx.status == "CANCELLED"
  local discussed = final and ctx.discussion ~= nil and ctx.discussion ~= ""
  local function box(done, text) return (done and "- [x] " or "- [ ] ") .. text end
  return table.concat({
    box(completed, string.format("Job %s completes successfully", job_id)),
    box(completed and filled, "Results tables updated with actual metrics"),
    box(discussed, "Discussion section filled in"),
  }, "\n")
end

local STATUS_TEXT = {
  PENDING = "submitted, waiting to start",
  RUNNING = "running",
  COMPLETED = "finished; the results are below",
  FAILED = "failed; the failure report is below",
  CANCELLED = "cancelled",
}

--- The pull request: title `Results: <experiment>`; body with Summary (command, commit,
--- node), Status, Metrics to collect, Results (with the baseline comparison and one plot per
--- metric), Hyperparameters, Sources, Attempts, Discussion and Test plan, and a hidden marker
--- trackit recognises.
function M.render_pr(ctx)
  local b = {}
  local function add(s) b[#b + 1] = s end
  add(string.format("<!-- trackit:pr track=%s -->", (ctx.track_id:gsub("%-%-", "-_"))))
  add("## Summary\n")
  local summary = string.format("Results of experiment **%s** (track `%s`)", ctx.experiment, ctx.track_id)
  if ctx.backend then summary = summary .. ", run on " .. ctx.backend end
  add(summary .. ".")
  if ctx.command then add("\n```\n" .. ctx.command .. "\n```") end
  local code = M.code_line(ctx)
  if code ~= "" then add("\n" .. code) end
  if ctx.links and ctx.links.doc then add("\nExperiment doc: `" .. ctx.links.doc .. "`.") end
  add("\n## Status\n")
  local job = ctx.jobs and ctx.jobs[#ctx.jobs]
  local status = string.format("**%s**: %s", ctx.status, STATUS_TEXT[ctx.status] or "")
  if job then
    status = status .. string.format(" (job %s, attempt %d of %d)", job.job_id, job.attempt or 1, ctx.max_attempts or 3)
  end
  add(status .. ".")
  if ctx.updated_at then add("\nUpdated " .. ctx.updated_at .. ".") end
  add("\n## Metrics to collect\n")
  local cols = M.metric_columns(ctx)
  if #cols == 0 then
    add("Whatever the result files report (no metrics named).")
  else
    for _, c in ipairs(cols) do add("- `" .. c .. "`") end
  end
  add("\n## Results\n")
  if ctx.status == "FAILED" then
    add(M.failure_report(ctx))
  else
    add(M.results_table(ctx))
  end
  local eff = M.efficiency_lines(ctx)
  if eff ~= "" then add("\n" .. eff) end
  local cmp = M.comparison_table(ctx)
  if cmp ~= "" then add("\n" .. cmp) end
  for _, p in ipairs(ctx.plots or {}) do
    if p.url then add(string.format("\n![%s](%s)", p.title or (ctx.experiment .. " results"), p.url)) end
  end
  local hp = M.hyperparams_details(ctx)
  if hp ~= "" then
    add("\n## Hyperparameters\n")
    add(hp)
  end
  local src = M.sources_details(ctx)
  if src ~= "" then
    add("\n## Sources\n")
    add(src)
  end
  if #(ctx.attempts or {}) > 0 and ctx.status ~= "FAILED" then
    add("\n## Attempts\n")
    add(M.attempts_table(ctx))
  end
  add("\n## Discussion\n")
  add(ctx.discussion and ctx.discussion ~= "" and ctx.discussion or M.discussion(ctx))
  add("\n## Test plan\n")
  add(M.test_plan(ctx))
  add("\n---\n<sub>Generated by trackit. The text above is rewritten as the job advances; comment below.</sub>")
  return { title = "Results: " .. ctx.experiment, body = table.concat(b, "\n") .. "\n" }
end

local WHAT = {
  PENDING = "PENDING table",
  RUNNING = "RUNNING table",
  COMPLETED = "results table",
  FAILED = "failure report",
  CANCELLED = "CANCELLED table",
}

--- `results(<experiment>): <what> for job <id>` with a `Trackit-Track: <id>` trailer.
--- `ctx.what` says what the commit holds (empty: derived from the status).
function M.commit_message(ctx)
  local what = ctx.what
  if what == nil or what == "" then what = WHAT[ctx.status] or "update" end
  local subject = string.format("results(%s): %s", ctx.experiment, what)
  local job = ctx.jobs and ctx.jobs[#ctx.jobs]
  if job and job.job_id ~= "" then subject = subject .. " for job " .. job.job_id end
  return subject .. "\n\nTrackit-Track: " .. ctx.track_id .. "\n"
end

return M
