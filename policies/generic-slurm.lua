--- @since 0.1
-- A starting point for any SLURM site: the built-in rules and fixers, with site caps to fill in.
local base = require("trackit.default")

return trackit.extend(base, {
  settings = {
    -- Fixers never ask for more than this (set them to your site's limits).
    caps = { max_mem = "256G", max_time = "2-00:00:00" },
  },
})
