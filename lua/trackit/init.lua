-- trackit's pure-Lua helpers, added onto the `trackit` table that Rust registers.
-- Loaded before every policy.
local trackit = require("trackit")

local function deepcopy(v, seen)
  if type(v) ~= "table" then return v end
  seen = seen or {}
  if seen[v] then return seen[v] end
  local out = {}
  seen[v] = out
  for k, x in pairs(v) do out[deepcopy(k, seen)] = deepcopy(x, seen) end
  return setmetatable(out, getmetatable(v))
end

--- Deep copy of a table (functions are shared).
function trackit.copy(v)
  return deepcopy(v)
end

-- Keys whose entries are merged one by one rather than replaced whole.
local MERGED = { rules = true, fixers = true, settings = true }

--- A new policy: a copy of `base` with `overrides` applied.
--- `rules`, `fixers` and `settings` merge entry by entry; an entry set to `false` is removed.
--- Nested settings tables (`poll`, `limits`, `caps`, `partitions`) merge one level deeper.
function trackit.extend(base, overrides)
  trackit.validate("base", base, "table")
  trackit.validate("overrides", overrides, "table", true)
  local out = deepcopy(base)
  for key, value in pairs(overrides or {}) do
    if MERGED[key] and type(value) == "table" and type(out[key]) == "table" then
      for name, item in pairs(value) do
        if item == false and key ~= "settings" then
          -- `rule = false` drops an inherited rule (or fixer); a setting's false is a value.
          out[key][name] = nil
        elseif key == "settings" and type(item) == "table" and type(out[key][name]) == "table" and #item == 0 then
          for k, v in pairs(item) do out[key][name][k] = v end
        else
          out[key][name] = item
        end
      end
    else
      out[key] = value
    end
  end
  return out
end

--- Raises an error at the caller's caller when `value` is not of type `expected`.
function trackit.validate(name, value, expected, optional)
  if value == nil and optional then return end
  if type(value) ~= expected then
    error(string.format("%s: expected %s, got %s", name, expected, type(value)), 3)
  end
end

return trackit
