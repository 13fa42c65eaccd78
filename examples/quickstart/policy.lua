-- The quick start's policy: the defaults, polling every few seconds instead of every few minutes.
local base = require("trackit.default")
return trackit.extend(base, {
  settings = {
    poll = { first_s = 2, growth = 1.5, max_s = 5, min_s = 1 },
    metrics = { "loss", "accuracy" },
  },
})
