--- @since 0.1
-- A starting point for any SLURM site: the built-in rules and fixers, with the site's limits
-- left for you to fill in. Copy it (to `.trackit/policy.lua`, or next to your other policies),
-- then replace every "FILL IN" below with your site's numbers. Until you do, the caps here are
-- deliberately modest, so a fixer never asks for something most clusters refuse.
--
-- Where to find the numbers on your cluster:
--   sinfo -o "%P %l %m %c %G"            partition, time limit, memory per node (MB), cores, GPUs
--   scontrol show partition NAME         MaxTime, MaxMemPerNode / MaxMemPerCPU, DefaultTime, ...
--   sacctmgr show qos format=Name,MaxWall,MaxTRESPerUser    QOS limits that may be stricter
--
-- Check the result with `trackit policy check FILE`, then run it over your own failed jobs'
-- logs with `trackit policy test --policy FILE DIR` (see docs/policy-guide.md).
local base = require("trackit.default")

return trackit.extend(base, {
  name = "generic-slurm",
  description = "Any SLURM site: the built-in rules, with site caps to fill in",

  settings = {
    -- Site-wide ceilings: fixers (more memory after an OOM, more time after a TIMEOUT) never ask
    -- for more than this. FILL IN: your largest node's usable memory and longest MaxTime.
    caps = { max_mem = "256G", max_time = "2-00:00:00" },

    -- Per-partition ceilings; they override `caps` for jobs in that partition. Keys are partition
    -- names as `sbatch -p` takes them; each entry may set max_mem, max_time, max_gpus, max_cpus.
    -- FILL IN, for example:
    --   partitions = {
    --     cpu     = { max_mem = "192G", max_time = "3-00:00:00", max_cpus = 48 },
    --     highmem = { max_mem = "1500G", max_time = "1-00:00:00" },
    --     gpu     = { max_mem = "512G", max_time = "2-00:00:00", max_gpus = 4 },
    --     debug   = { max_time = "00:30:00" },
    --   },

    -- What to load when a shared library or command is missing: library (without version
    -- suffix) or command -> arguments to `module load`. FILL IN from `module avail`, e.g.
    --   module_map = { ["libcudart.so"] = "cuda", nvcc = "cuda", ["libgsl.so"] = "gsl" },
    module_map = {},

    -- The GitHub Actions workflow `trackit sbatch` dispatches (through a self-hosted runner on a
    -- login node) when the repository has it; otherwise trackit calls sbatch itself.
    dispatch_workflow = "slurm-dispatch.yml",
  },
})
