--- @since 0.1
-- Stanford's Sherlock cluster: the built-in rules, plus what Sherlock prints and enforces.
--
--   trackit --policy policies/sherlock.lua sbatch job.sh
--
-- Numbers come from Sherlock's user documentation (www.sherlock.stanford.edu/docs, read
-- 2026-08: "Running jobs", "Storage > Filesystems", "Software > Modules"). Limits change: run
-- `sh_part` on a login node to see today's values, and fix them here. A number the docs did not
-- state is marked "not documented".
local base = require("trackit.default")

-- Lmod's error banner. In a batch job Lmod wraps its message at 80 columns, and the module name
-- then sits alone, quoted, on a later line.
local LMOD_ERROR = "Lmod has detected the following error"

local function lmod_module_after_error(lines)
  local seen = false
  for _, line in ipairs(lines) do
    if line:find(LMOD_ERROR, 1, true) then
      seen = true
    elseif seen then
      local name = line:match('^%s*"([^"]+)"')
      if name then return name end
    end
  end
  return nil
end

local base_diagnose = base.diagnose

return trackit.extend(base, {
  name = "sherlock",
  description = "Stanford Sherlock: partitions normal, bigmem, gpu, dev, owners; Lmod (ml); $SCRATCH, $GROUP_HOME, $OAK",

  settings = {
    -- Site-wide ceilings for fixers: the largest bigmem node (4 TB) and the longest runtime any
    -- public partition allows (normal with --qos=long).
    caps = { max_mem = "4000G", max_time = "7-00:00:00" },

    -- Per-partition ceilings for fixers (they override `caps`). A fixer that needs more than a
    -- partition allows has to move the job (e.g. normal -> bigmem) or give up.
    partitions = {
      -- Default partition. Default runtime 2 h; maximum 2 days, or 7 days with `--qos=long`
      -- (only for users outside an owners group). Nodes have 20-64 cores and 128-384 GB; the
      -- docs send jobs that need more than 256 GB to bigmem. At most 8 GB per core: asking for
      -- more memory per core makes SLURM allocate more cores.
      normal = { max_mem = "256G", max_time = "2-00:00:00", max_cpus = 64 },
      -- Large-memory nodes: 384 GB to 4 TB, 24-256 cores; maximum runtime 1 day.
      bigmem = { max_mem = "4000G", max_time = "1-00:00:00", max_cpus = 256 },
      -- GPU nodes: 4 or 8 GPUs per node, 20-64 cores, 191 GB to 2 TB; maximum runtime 2 days;
      -- 16 GPUs per user in all.
      gpu = { max_mem = "2000G", max_time = "2-00:00:00", max_gpus = 8, max_cpus = 64 },
      -- Development and testing: 2 h at most; 4 cores and 2 GPUs per user (one page of the docs
      -- says 2 cores and 8 GB per user for `sh_dev` sessions). 8 GB per core at most.
      dev = { max_mem = "32G", max_time = "02:00:00", max_cpus = 4, max_gpus = 2 },
      -- The shared pool of nodes bought by PI groups; open to members of owner groups.
      -- PREEMPTIBLE: when a node's owners want it back, jobs on it are killed and requeued.
      -- Its runtime limit is not documented on the pages above: 2 days is what `sh_part` showed
      -- to us, check yours. Node sizes vary with each group's purchase (no memory cap here).
      owners = { max_time = "2-00:00:00" },
    },

    -- What to load with `ml` when a shared library or a command is missing. Keys: a library
    -- without its version suffix (`libgsl.so` for `libgsl.so.27`) or a command name. Values:
    -- the arguments to `ml`. Modules in the `math` and `devel` categories load directly (those
    -- categories are loaded by default); others need their category first (`ml chemistry
    -- gromacs`). Versions are left out on purpose: pin them in your job script. Check a name
    -- with `ml spider NAME` on a login node.
    module_map = {
      -- math
      ["libgsl.so"] = "gsl",
      ["libgslcblas.so"] = "gsl",
      ["libfftw3.so"] = "fftw",
      ["libfftw3f.so"] = "fftw",
      ["libopenblas.so"] = "openblas",
      ["libcudnn.so"] = "cudnn",
      ["libcudnn_cnn_infer.so"] = "cudnn",
      -- devel
      ["libcudart.so"] = "cuda",
      ["libcublas.so"] = "cuda",
      ["libcublasLt.so"] = "cuda",
      ["libcufft.so"] = "cuda",
      ["libcurand.so"] = "cuda",
      ["libnvrtc.so"] = "cuda",
      ["libnccl.so"] = "nccl",
      ["libhdf5.so"] = "hdf5",
      ["libhdf5_hl.so"] = "hdf5",
      ["libmpi.so"] = "openmpi",
      ["libmpi_cxx.so"] = "openmpi",
      ["libboost_system.so"] = "boost",
      ["libboost_filesystem.so"] = "boost",
      ["libstdc++.so"] = "gcc", -- `GLIBCXX_3.4.xx not found`: a newer libstdc++ than the OS's
      ["libgfortran.so"] = "gcc",
      ["libpython3.so"] = "python",
      nvcc = "cuda",
      ["nvidia-smi"] = "cuda",
      gcc = "gcc",
      ["g++"] = "gcc",
      gfortran = "gcc",
      cmake = "cmake",
      mpirun = "openmpi",
      mpicc = "openmpi",
      mpiexec = "openmpi",
      python3 = "python",
      julia = "julia",
      java = "java",
      R = "R",
      Rscript = "R",
      matlab = "matlab",
      -- other categories (the category comes first)
      gmx = "chemistry gromacs",
      gmx_mpi = "chemistry gromacs",
      samtools = "biology samtools", -- the category is our reading of Sherlock's software list
      bcftools = "biology bcftools",
    },

    -- trackit sbatch dispatches this GitHub Actions workflow (run by a self-hosted runner on
    -- a Sherlock login node) when the repository has it; see docs/sherlock.md.
    dispatch_workflow = "sherlock-dispatch.yml",
  },

  rules = {
    ---------------------------------------------------------------- preemption (owners)
    preempted_by_owner = {
      -- On `owners`, a job is killed when the node's group wants it back. The kill brings
      -- fallout (NCCL timeouts, SIGTERM tracebacks) after this line, so it outranks all of it,
      -- including the NCCL watchdog (105).
      kind = "preempted", priority = 106,
      patterns = {
        [=[\*\*\* (JOB|STEP) \S+ ON (?P<node>\S+) CANCELLED AT \S+ DUE TO PREEMPTION]=],
      },
      summary = "the job was preempted on {node} (owners partition: the node's group took it back); Sherlock requeues it",
    },
    requeued = {
      -- Sherlock requeues preempted owners jobs; checkpointing libraries (submitit, Lightning)
      -- also requeue themselves with `scontrol requeue` when they get the preemption signal.
      kind = "preempted", priority = 104, captures = { requeued = "true" },
      patterns = {
        [=[\*\*\* (JOB|STEP) \S+ ON (?P<node>\S+) CANCELLED AT \S+ DUE TO JOB REQUEUE]=],
        [=[(?i)\brequeu(e|ing) (of )?job [0-9]+]=],
      },
      unless = { [=[DUE TO (TIME LIMIT|NODE FAILURE)]=] },
      summary = "the job was requeued (preemption on owners, or a checkpointing library): {line}",
    },

    ---------------------------------------------------------------- storage
    -- The built-in disk_full rule (88) says a quota is full; these say which one and what to do.
    scratch_quota = {
      kind = "disk_quota", priority = 92, captures = { filesystem = "scratch" },
      patterns = {
        [=[(?i)disk quota exceeded.*(/scratch/(users|groups)/|\$(GROUP_)?SCRATCH)]=],
        [=[(?i)(/scratch/(users|groups)/\S*).*disk quota exceeded]=],
      },
      summary = "the $SCRATCH quota is full (100 TB and 20 million files per user or group; see `sh_quota -f SCRATCH`): {line}",
    },
    home_quota = {
      kind = "disk_quota", priority = 92, captures = { filesystem = "home" },
      patterns = {
        [=[(?i)disk quota exceeded.*/home/users/]=],
        [=[(?i)/home/users/\S*.*disk quota exceeded]=],
      },
      summary = "$HOME is full (15 GB; see `sh_quota -f HOME`): move caches (pip, conda, Hugging Face) and outputs to $SCRATCH: {line}",
    },
    group_home_quota = {
      kind = "disk_quota", priority = 92, captures = { filesystem = "group_home" },
      patterns = {
        [=[(?i)disk quota exceeded.*/home/groups/]=],
        [=[(?i)/home/groups/\S*.*disk quota exceeded]=],
      },
      summary = "$GROUP_HOME is full (1 TB per group; see `sh_quota -f GROUP_HOME`): {line}",
    },
    oak_quota = {
      kind = "disk_quota", priority = 92, captures = { filesystem = "oak" }, fixable = false,
      patterns = {
        [=[(?i)disk quota exceeded.*/oak/stanford/]=],
        [=[(?i)/oak/stanford/\S*.*disk quota exceeded]=],
      },
      -- A relaunch cannot buy storage: the group's PI orders more Oak space.
      summary = "the group's $OAK allocation is full (bought in 10 TB steps): {line}",
    },
    scratch_purged = {
      -- $SCRATCH files not modified for 90 days are purged: an input that "was there last
      -- month" is gone, and a relaunch will not bring it back.
      kind = "path_error", priority = 56, captures = { filesystem = "scratch" }, fixable = false,
      patterns = {
        [=[No such file or directory:? '(?P<path>/scratch/(?:users|groups)/[^']+)']=],
        [=[(?P<path>/scratch/(?:users|groups)/[^\s:'"]+)'?:? No such file or directory]=],
      },
      summary = "{path} is missing: $SCRATCH files not modified for 90 days are purged; restore it from $OAK or $GROUP_HOME",
    },
    oak_access = {
      -- $OAK is opt-in: only groups that bought space see it.
      kind = "path_error", priority = 56, captures = { filesystem = "oak" }, fixable = false,
      patterns = {
        [=[(?P<path>/oak/stanford/[^\s:'"]+)'?:? (Permission denied|No such file or directory)]=],
        [=[(Permission denied|No such file or directory):? '(?P<path>/oak/stanford/[^']+)']=],
      },
      summary = "cannot use {path} on $OAK (only groups with an Oak allocation have access)",
    },

    ---------------------------------------------------------------- software
    lmod_needs_category = {
      -- On Sherlock a module outside the default `math`/`devel` categories exists but only
      -- loads after its category (`ml chemistry gromacs`). One point above the built-in
      -- environment_module_missing (78), whose summary this sharpens.
      kind = "missing_dep", priority = 79, captures = { source = "lmod" },
      patterns = {
        [=[(?i)module\(s\) or extension\(s\) exist but cannot be loaded as requested: "(?P<env_module>[^"]+)"]=],
        [=[(?i)module\(s\) or extension\(s\) exist\s*$]=],
      },
      summary = "module {env_module} exists but needs its category or a prerequisite first: `ml spider {env_module}` shows how to load it",
    },
    lmod_unknown = {
      kind = "missing_dep", priority = 79, captures = { source = "lmod" },
      patterns = {
        [=[(?i)The following module\(s\) are unknown: "(?P<env_module>[^"]+)"]=],
        [=[(?i)The following module\(s\) are unknown:\s*$]=],
      },
      summary = "module {env_module} does not exist on Sherlock (a typo, or a retired version): `ml spider` lists what there is",
    },
    no_gpu = {
      -- GPU code on a node (or in an allocation) without a GPU: submit with `-p gpu -G 1`.
      -- A kind of its own, not fixable by default: a relaunch with the same request fails again.
      kind = "no_gpu", priority = 70,
      patterns = {
        [=[Found no NVIDIA driver on your system]=],
        [=[(?i)no CUDA-capable device is detected]=],
        [=[cudaErrorNoDevice]=],
        [=[(?i)NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver]=],
      },
      summary = "the job found no GPU: request one with `-p gpu -G 1` (or `-p dev -G 1` to test): {line}",
    },
  },

  --- The built-in adjustment (peak memory at the request means OOM), then Lmod's wrapped
  --- messages: in a batch job Lmod wraps at 80 columns and the module name lands on its own line.
  diagnose = function(ctx)
    local decided = base_diagnose and base_diagnose(ctx)
    if decided then return decided end
    local r = ctx.result
    if r.kind == "missing_dep" and r.captures.source == "lmod" and not r.captures.env_module then
      for _, log in ipairs(ctx.logs) do
        local name = lmod_module_after_error(log.lines)
        if name then
          local summary
          if r.rule == "lmod_unknown" then
            summary = string.format("module %s does not exist on Sherlock (a typo, or a retired version): `ml spider` lists what there is", name)
          else
            summary = string.format("module %s exists but needs its category or a prerequisite first: `ml spider %s` shows how to load it", name, name)
          end
          return { kind = r.kind, summary = summary, captures = { env_module = name } }
        end
      end
    end
    return nil
  end,
})
