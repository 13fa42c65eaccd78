--- @since 0.1
-- The built-in default policy. Every repository's policy starts from this one:
--
--   local base = require("trackit.default")
--   return trackit.extend(base, { rules = { ... }, settings = { ... } })
--
-- Rules are data: `kind`, `patterns` (Rust regex syntax, matched line by line against the
-- cleaned log tail; named groups become captures), `unless` (patterns that veto the rule),
-- `states` (scheduler states), `exit_codes` (`N`, `N:S` or `:S`), `priority` (higher wins; ties go
-- to the earliest evidence, since causes come before their fallout), `summary` (with `{capture}`
-- placeholders), `fixable` and fixed `captures`.
--
-- Priorities, roughly: 100 the scheduler's own verdict; 85-105 a resource or infrastructure
-- message that names its cause; 60-80 a missing dependency or refused submission; 40-55 path
-- errors and native crashes; 20 an exception in the user's code; 5 anything that says "error".
-- A wrong fixable kind burns an attempt, so vague evidence gets a low priority or `unknown`.

local report = require("trackit.report")

---@type trackit.Policy
local policy = {}

-- Report renderers (results table, PR text, commit message): see trackit/report.lua.
policy.format_table = report.format_table
policy.render_pr = report.render_pr
policy.commit_message = report.commit_message

policy.settings = {
  log_window_kib = 256,
  max_attempts = 3,
  fixable_kinds = { "oom", "timeout", "missing_dep", "path_error", "container", "disk_quota", "preempted", "node_fail" },
  poll = { first_s = 15, growth = 1.5, max_s = 180, min_s = 5 },
  -- Fixers never raise a resource above these (per partition over site-wide), e.g.
  -- caps = { max_mem = "256G", max_time = "2-00:00:00" }, partitions = { gpu = { max_mem = "512G" } }.
  caps = {},
  partitions = {},
  -- What `module load` fixes a missing command, shared library or environment module (or a
  -- Python module the site provides as one), e.g. { ["libgsl.so.25"] = "gsl/2.7", ml = "lmod" }.
  module_map = {},
  -- Python import names whose pip package is named differently, beyond the built-in ones
  -- (cv2 -> opencv-python, ...), e.g. { mylib = "mylib-core" }.
  python_packages = {},
}

-- Fixers by kind: edits as data, validated, capped and applied by trackit (trackit/fixers.lua).
policy.fixers = require("trackit.fixers")

policy.rules = {
  ---------------------------------------------------------------- the scheduler's verdict
  state_out_of_memory = {
    kind = "oom", priority = 100, states = { "OUT_OF_MEMORY" },
    summary = "the scheduler killed the job for exceeding its memory ({state}, exit {exit_code})",
  },
  exit_oom_125 = {
    -- SLURM reports a cgroup OOM kill as signal 125 on the step.
    kind = "oom", priority = 95, exit_codes = { "0:125" },
    summary = "the job step was OOM-killed (exit {exit_code})",
  },
  state_timeout = {
    kind = "timeout", priority = 100, states = { "TIMEOUT" },
    summary = "the job reached its time limit ({state})",
  },
  state_deadline = {
    kind = "timeout", priority = 100, states = { "DEADLINE" }, fixable = false,
    summary = "the job could not finish before its deadline ({state})",
  },
  state_preempted = {
    kind = "preempted", priority = 100, states = { "PREEMPTED" },
    summary = "the job was preempted by a higher-priority job",
  },
  state_node_fail = {
    kind = "node_fail", priority = 100, states = { "NODE_FAIL", "BOOT_FAIL" },
    summary = "a node of the job failed ({state})",
  },
  state_cancelled = {
    kind = "cancelled", priority = 60, states = { "CANCELLED" },
    summary = "the job was cancelled",
  },
  state_completed = {
    kind = "none", priority = 95, states = { "COMPLETED" },
    summary = "the job completed successfully",
  },

  ---------------------------------------------------------------- memory
  scheduler_oom_kill = {
    kind = "oom", priority = 90,
    patterns = {
      [=[(?i)detected \d+ oom[-_ ]kill event]=],
      [=[(?i)killed by the cgroup out-of-memory handler]=],
      [=[(?i)exceeded (job|step) memory limit]=],
      [=[(?i)exceeded memory limit \((?P<mem_used_kb>\d+) > (?P<mem_limit_kb>\d+)\)]=],
      [=[(?i)task \d+: out of memory]=],
      [=[(?i)memory cgroup out of memory]=],
      [=[(?i)\bout of memory: kill(ed)? process]=],
      [=[(?i)\boom-kill(er)?:]=],
      [=[(?i)PBS: job killed: (p|v)?mem \d+\S* exceeded limit]=],
      [=[TERM_MEMLIMIT]=],
      [=[(?i)exceeded (the )?(hard )?memory limit]=],
      [=[(?i)memory usage exceeded (request_memory|the requested|its request)]=],
      [=[\bOOMKilled\b]=],
    },
    summary = "the job ran out of memory: {line}",
  },
  gpu_oom = {
    kind = "oom", priority = 85, captures = { device = "gpu" },
    patterns = {
      [=[(?i)\bCUDA out of memory]=],
      [=[(?i)\b(torch\.)?(cuda\.)?OutOfMemoryError\b]=],
      [=[(?i)CUDA error: out of memory]=],
      [=[(?i)cuda\S*.*\berror: out of memory]=],
      [=[cudaErrorMemoryAllocation]=],
      [=[CUBLAS_STATUS_ALLOC_FAILED|CUDNN_STATUS_ALLOC_FAILED]=],
      [=[(?i)\bHIP out of memory]=],
      [=[OOM when allocating tensor]=],
      [=[RESOURCE_EXHAUSTED: Out of memory]=],
      [=[(?i)out of memory on device]=],
    },
    summary = "the GPU ran out of memory: {line}",
  },
  host_oom = {
    kind = "oom", priority = 85,
    patterns = {
      [=[(?:^|[^A-Za-z])_?(?:Array)?MemoryError\b]=],
      [=[(?i)Unable to allocate [\d.]+ [KMGT]i?B for an array]=],
      [=[java\.lang\.OutOfMemoryError]=],
      [=[(?i)cannot allocate vector of size]=],
      [=[(?i)DataLoader worker \(pid\(?s?\)? ?[\d, ]+\)? is killed by signal: Killed]=],
      [=[(?i)insufficient shared memory \(shm\)]=],
    },
    summary = "the program ran out of memory: {line}",
  },
  native_alloc_failure = {
    kind = "oom", priority = 80,
    patterns = {
      [=[std::bad_alloc]=],
      [=[(?i)\bcannot allocate memory\b]=],
      [=[(?i)\[Errno 12\]]=],
      [=[(?i)\bmemory allocation (of \d+ bytes )?failed]=],
    },
    summary = "a memory allocation failed: {line}",
  },
  generic_out_of_memory = {
    kind = "oom", priority = 55,
    patterns = { [=[(?i)\bout of memory\b]=] },
    summary = "the job ran out of memory: {line}",
  },
  killed_by_sigkill = {
    -- The shell prints a bare "Killed" when its child got SIGKILL; without a time limit or a
    -- cancellation in the log, that is nearly always the kernel's OOM killer.
    kind = "oom", priority = 45,
    patterns = {
      [=[^\s*Killed\s*$]=],
      [=[: line \d+: +\d+ Killed\b]=],
    },
    summary = "the process was killed with SIGKILL and nothing else explains it: most likely out of memory",
  },

  ---------------------------------------------------------------- time
  time_limit = {
    kind = "timeout", priority = 90,
    patterns = {
      [=[DUE TO TIME LIMIT]=],
      [=[(?i)job killed: walltime \d+ exceeded limit \d+]=],
      [=[TERM_RUNLIMIT]=],
      [=[(?i)\bwall[- ]?clock (time )?limit\b]=],
      [=[(?i)\bexceeded (its |the )?(wall ?time|run ?time|time) limit\b]=],
      [=[(?i)\bwall ?time\b.*\bexceeded\b]=],
      [=[(?i)job .* exceeded .*h_rt]=],
    },
    summary = "the job hit its time limit: {line}",
  },

  ---------------------------------------------------------------- distributed
  nccl_watchdog = {
    -- A hung collective: more time does not help, so it outranks even the TIMEOUT state.
    kind = "distributed", priority = 105,
    patterns = {
      [=[Watchdog caught collective operation timeout]=],
      [=[(?i)ProcessGroupNCCL.*\btim(ed|ing)? ?out\b]=],
      [=[(?i)NCCL communicator was aborted]=],
    },
    summary = "a distributed collective hung (NCCL watchdog): {line}",
  },
  distributed_error = {
    kind = "distributed", priority = 80,
    patterns = {
      [=[(?i)\bNCCL error\b]=],
      [=[nccl(System|Internal|UnhandledCuda|Invalid|Remote)Error]=],
      [=[DistBackendError]=],
      [=[(?i)NCCL WARN .*(failed|error|timeout)]=],
      [=[(?i)torch\.distributed\.\w*(Error|Timeout)]=],
      [=[Rendezvous(Timeout|Closed|Connection)Error]=],
      [=[(?i)\b(c10d|TCPStore)\b.*(timed out|timeout|connection (refused|reset))]=],
      [=[(?i)\[enforce fail at .*gloo]=],
      [=[MPI_ABORT was invoked]=],
      [=[(?i)ORTE has lost communication]=],
    },
    summary = "a distributed (NCCL/MPI) failure: {line}",
  },

  ---------------------------------------------------------------- missing dependencies
  python_module_missing = {
    kind = "missing_dep", priority = 75,
    patterns = {
      [=[ModuleNotFoundError: No module named '(?P<module>[\w.]+)']=],
      [=[ImportError: No module named '?(?P<module>[\w.]+)'?]=],
    },
    summary = "Python module {module} is not installed",
  },
  python_import_error = {
    kind = "missing_dep", priority = 60,
    patterns = { [=[ImportError: cannot import name '?(?P<name>\w+)'?(?: from '?(?P<module>[\w.]+)'?)?]=] },
    summary = "an installed package has the wrong version: {line}",
  },
  shared_library_missing = {
    kind = "missing_dep", priority = 78,
    patterns = {
      [=[error while loading shared libraries: (?P<library>[^:\s]+): cannot open shared object file]=],
      [=[(?P<library>[\w.+-]+\.so(?:\.[\w.]+)?): cannot open shared object file]=],
      [=[(?i)version `(?P<symbol_version>[\w.]+)' not found \(required by]=],
    },
    summary = "shared library {library} is missing",
  },
  command_missing = {
    kind = "missing_dep", priority = 75,
    patterns = {
      [=[(?:^|: )(?P<command>[^\s:/'"]+): command not found]=],
      [=[^(?:/bin/|/usr/bin/)?(?:ba|da)?sh: (?:line )?\d+: (?P<command>[^\s:]+): not found]=],
      [=[execve\(\): (?P<command>[^:\s]+): No such file or directory]=],
      [=[No such file or directory: '(?P<command>[^'/]+)': '[^'/]+']=],
      [=[/usr/bin/env: '?(?P<command>[^':]+)'?: No such file or directory]=],
      [=[(?i)executable file not found in \$PATH]=],
    },
    summary = "command {command} is not available",
  },
  environment_module_missing = {
    kind = "missing_dep", priority = 78,
    patterns = {
      [=[(?i)module\(s\) are unknown: "(?P<env_module>[^"]+)"]=],
      [=[(?i)module\(s\) or extension\(s\) exist but cannot be loaded as requested: "(?P<env_module>[^"]+)"]=],
      [=[(?i)Unable to locate a modulefile for '(?P<env_module>[^']+)']=],
      [=[(?i)Lmod has detected the following error]=],
    },
    summary = "environment module {env_module} cannot be loaded",
  },
  other_package_missing = {
    kind = "missing_dep", priority = 75,
    patterns = {
      [=[there is no package called [‘'](?P<r_package>[^’']+)[’']]=],
      [=[ArgumentError: Package (?P<package>\w+) not found]=],
      [=[Error: Cannot find module '(?P<module>[^']+)']=],
      [=[Can't locate (?P<module>\S+)\.pm in @INC]=],
      [=[(?i)Could not find conda environment: (?P<conda_env>\S+)]=],
      [=[EnvironmentNameNotFound]=],
      [=[(?i)Could not find a version that satisfies the requirement (?P<package>\S+)]=],
    },
    summary = "a package is not installed: {line}",
  },

  ---------------------------------------------------------------- containers
  container_runtime = {
    kind = "container", priority = 85,
    patterns = {
      [=[(?i)\b(singularity|apptainer)\b.*\b(fatal|error|failed)\b]=],
      [=[(?i)^\s*(FATAL|ERROR|ABORT)\s*:\s+.*\b(container|image|\.sif|singularity|apptainer|overlay|squashfs|bind mount)]=],
      [=[/\.singularity\.d/]=],
      [=[(?i)could not open image (?P<image>[^:\s]+)]=],
      [=[(?i)failed to mount (the )?image]=],
      [=[(?i)container creation failed]=],
      [=[(?i)\bpyxis\b.*\b(error|failed)\b]=],
      [=[(?i)\benroot\b.*\b(error|failed)\b]=],
      [=[(?i)spank_pyxis]=],
      [=[nvidia-container-cli: .*error]=],
      [=[(?i)OCI runtime (create|exec|start) failed]=],
      [=[Error response from daemon:]=],
      [=[(?i)pull access denied for (?P<image>[^,\s]+)]=],
      [=[(?i)manifest (for \S+ )?(unknown|not found)]=],
      [=[(?i)failed to pull image "?(?P<image>[^"\s]+)]=],
      [=[ErrImagePull|ImagePullBackOff]=],
      [=[(?i)unable to find image '(?P<image>[^']+)']=],
    },
    summary = "the container runtime failed: {line}",
  },
  container_pull_transient = {
    kind = "container", priority = 86, captures = { transient = "true" },
    patterns = {
      [=[(?i)(pull|image|registry|manifest|blob).*(TLS handshake timeout|i/o timeout|connection reset by peer|toomanyrequests|503 Service Unavailable|502 Bad Gateway|request canceled|context deadline exceeded|unexpected EOF)]=],
      [=[toomanyrequests: You have reached your pull rate limit]=],
    },
    summary = "pulling the container image failed transiently: {line}",
  },

  ---------------------------------------------------------------- storage
  disk_full = {
    kind = "disk_quota", priority = 88,
    patterns = {
      [=[(?i)disk quota exceeded(?:: '(?P<path>[^']+)')?]=],
      [=[\[Errno 122\]]=],
      [=[\bEDQUOT\b]=],
      [=[(?i)no space left on device(?:: '(?P<path>[^']+)')?]=],
      [=[\[Errno 28\]]=],
      [=[\bENOSPC\b]=],
      [=[(?i)\b(user|group|project|block|inode|file|storage) (quota|limit) (exceeded|reached)]=],
      [=[(?i)\bquota exceeded\b]=],
      [=[(?i)not enough (free )?(disk )?space]=],
    },
    summary = "the disk or quota is full: {line}",
  },

  ---------------------------------------------------------------- paths
  slurm_output_path = {
    kind = "path_error", priority = 80,
    patterns = {
      [=[(?i)slurmstepd: error: Could not open (stdout|stderr|output|error) file (?P<missing_path>\S+?):? No such file or directory]=],
      [=[(?i)couldn't chdir to [`'](?P<missing_path>[^'`]+)': No such file or directory]=],
    },
    summary = "SLURM could not use {missing_path}: the directory does not exist",
  },
  python_path_error = {
    kind = "path_error", priority = 50,
    patterns = {
      [=[\[Errno (2|13|20|21)\] (?P<reason>[^:]+): '(?P<path>[^']+)'\s*$]=],
      [=[\[Errno (2|13|20|21)\] (?P<reason>[^:]+): '(?P<path>[^']+)']=],
      [=[(?i)FileNotFoundError: (?P<path>.+)]=],
    },
    summary = "a file or directory is missing or not accessible: {path}",
  },
  shell_path_error = {
    kind = "path_error", priority = 45,
    patterns = {
      [=[(?P<path>[^\s:'"]*[/.][^\s:'"]*): No such file or directory]=],
      [=[(?i)cannot (open|create|stat|access|read|write|find)[^:]*[:]? [`'‘]?(?P<path>[^'’`\s:]+)['’`]?: (No such file or directory|Permission denied|Not a directory)]=],
      [=[(?i)\bPermission denied\b]=],
      [=[(?i)\b(file|directory|path|folder) [`'"‘]?(?P<path>[^'"’`\s]+)['"’`]? (does not exist|not found)]=],
      [=[(?i)No such file or directory]=],
    },
    summary = "a file or directory is missing or not accessible: {line}",
  },

  ---------------------------------------------------------------- submission
  submit_refused = {
    kind = "submit_error", priority = 82,
    patterns = {
      [=[sbatch: error: (?P<reason>.+)]=],
      [=[(?i)Batch job submission failed: (?P<reason>.+)]=],
      [=[(srun|salloc): error: (Unable to allocate resources|Invalid|Requested node configuration)(?P<reason>.*)]=],
      [=[(?i)qsub: (ERROR|Job rejected|Unknown queue|Illegal attribute)(?P<reason>.*)]=],
      [=[(?i)Job violates accounting/QOS policy]=],
    },
    summary = "the scheduler refused the job: {reason}",
  },

  ---------------------------------------------------------------- the cluster took it away
  preemption = {
    kind = "preempted", priority = 88,
    patterns = {
      [=[DUE TO PREEMPTION]=],
      [=[DUE TO JOB REQUEUE]=],
      [=[(?i)\bjob (has been |was |is )?preempted\b]=],
      [=[(?i)\bpreempt(ed|ion)\b.*\b(requeu|signal|SIGUSR|SIGTERM)]=],
      [=[(?i)\b(SIGUSR1|SIGUSR2)\b.*\bpreempt]=],
    },
    unless = { [=[(?i)\bnode fail]=] },
    summary = "the job was preempted: {line}",
  },
  node_failure = {
    kind = "node_fail", priority = 89,
    patterns = {
      [=[ON (?P<node>\S+) CANCELLED AT \S+ DUE TO NODE FAILURE]=],
      [=[DUE TO NODE FAILURE]=],
      [=[(?i)\bnode fail(ure|ed)?\b]=],
      [=[\bNODE_FAIL\b]=],
      [=[(?i)could not connect to MOM]=],
      [=[(?i)lost connection to (the )?node]=],
      [=[(?i)\bnode (?P<node>[\w.-]+) (is )?(not responding|down)\b]=],
      [=[^Exec host:\s+(?P<node>[\w.-]+)]=],
    },
    summary = "a compute node failed: {line}",
  },
  cancelled_by_someone = {
    kind = "cancelled", priority = 65,
    patterns = {
      [=[\*\*\* (JOB|STEP) \S+ ON (?P<node>\S+) CANCELLED AT \S+ \*\*\*]=],
      [=[(?i)\bcancel+ed by (user|admin|root|\d+)\b]=],
      [=[(?i)Job deleted at request of (?P<by>\S+)]=],
      [=[^KeyboardInterrupt\s*$]=],
    },
    summary = "the job was cancelled: {line}",
  },

  ---------------------------------------------------------------- native crashes
  native_crash = {
    kind = "segfault", priority = 50,
    patterns = {
      [=[(?i)\bSegmentation fault\b]=],
      [=[\bSIGSEGV\b]=],
      [=[(?i)\bBus error\b]=],
      [=[\bSIGBUS\b]=],
      [=[Signal: (Segmentation fault|Aborted|Bus error|Illegal instruction|Floating point exception) \(\d+\)]=],
      [=[(?i)\bAborted\b.*\(core dumped\)]=],
      [=[(?i)\b(double free or corruption|free\(\): invalid|malloc\(\): |stack smashing detected|corrupted size vs)]=],
      [=[(?i)\bIllegal instruction\b|\bSIGILL\b|Floating point exception|\bSIGFPE\b]=],
      [=[(?i)CUDA error: an illegal memory access]=],
      [=[Fatal Python error: (Segmentation fault|Aborted|Bus error)]=],
    },
    summary = "the program crashed: {line}",
  },
  crash_exit_code = {
    kind = "segfault", priority = 30, exit_codes = { "139", ":11", "135", ":7" },
    summary = "the program crashed (exit {exit_code})",
  },

  ---------------------------------------------------------------- the user's own code
  python_exception = {
    kind = "user_code", priority = 20,
    patterns = {
      [=[^\s*(?:[A-Za-z_]\w*\.)*(?P<exception>[A-Z]\w*(?:Error|Exception))(?::\s*(?P<message>.*)|$)]=],
      [=[^Traceback \(most recent call last\):]=],
    },
    summary = "the program raised {exception}: {message}",
  },
  other_exception = {
    kind = "user_code", priority = 22,
    patterns = {
      [=[Exception in thread "\S+" (?P<exception>[\w.$]+)]=],
      [=[^Error in (?P<where>.+) :\s*$]=],
      [=[^ERROR: LoadError:]=],
      [=[thread '\S+' panicked at]=],
      [=[terminate called after throwing an instance of '(?P<exception>[^']+)']=],
      [=[(?i)CUDA error: device-side assert triggered]=],
    },
    summary = "the program failed: {line}",
  },

  ---------------------------------------------------------------- anything that says it failed
  generic_error = {
    kind = "unknown", priority = 5,
    patterns = {
      [=[(?i)(^|[\s\[(:])(error|fatal|failed|failure)(:|\s*!|\]|\s*$)]=],
      [=[(?i)\bexit(ed)? (with )?(code|status) [1-9]\d*]=],
      [=[(?i)non-zero exit]=],
      [=[(?i)^\s*(ERROR|FATAL)\b]=],
    },
    summary = "the job failed with no recognised cause: {line}",
  },
}

--- The rule engine's result, adjusted with what only numbers can tell: a failed job whose
--- peak memory reached its request ran out of memory even if the log says nothing.
function policy.diagnose(ctx)
  local r = ctx.result
  local job = ctx.job
  if (r.kind == "unknown" or r.kind == "none") and job and job.max_rss_bytes and job.req_mem_bytes
    and ctx.state ~= "COMPLETED" and ctx.state ~= nil
    and job.max_rss_bytes >= 0.95 * job.req_mem_bytes then
    return {
      kind = "oom",
      summary = string.format("peak memory %s reached the request %s",
        trackit.units.format_mem(job.max_rss_bytes), trackit.units.format_mem(job.req_mem_bytes)),
      rule = "maxrss_at_request",
    }
  end
  return nil
end

return policy
