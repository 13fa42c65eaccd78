--- @since 0.1
-- The built-in default policy. Every repository's policy starts from this one:
--
--   local base = require("trackit.default")
--   return trackit.extend(base, { rules = { ... }, settings = { ... } })
--
-- Rules are data: `kind`, `patterns` (Rust regex syntax, matched line by line against the
-- cleaned log tail; named groups become captures), `unless` (patterns that, matching any line,
-- veto the rule), `unless_line` (patterns that cancel a match on the same line: negations,
-- warnings), `requires` (context some line must show), `states` (scheduler states), `exit_codes`
-- (`N`, `N:S` or `:S`), `reasons` (scheduler reasons), `priority` (higher wins; ties go to the
-- earliest evidence, since causes come before their fallout), `last_match` (the last matching line
-- decides), `summary` (with `{capture}` placeholders), `fixable` and fixed `captures`.
--
-- Priorities, roughly: 100 the scheduler's own verdict; 85-106 a resource or infrastructure
-- message that names its cause; 60-80 a missing dependency or refused submission; 40-55 path
-- errors and native crashes; 20 an exception in the user's code; 5-8 anything that says "error"
-- or only that a task died. A wrong fixable kind burns an attempt: a fixable kind needs positive
-- evidence of its own, and when a different fixable kind comes within `settings.contest_margin`
-- points of the best rule, the verdict is `unknown` (`trackit diagnose --explain` shows why).

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
  -- A different fixable kind within this many priority points of the best rule makes the
  -- evidence contradictory: the verdict is `unknown` and nothing is relaunched. 0: only ties.
  contest_margin = 10,
  -- Blocks of lines no rule reads. Python prints a traceback under `Exception ignored in: ...`
  -- when a `__del__`, a callback or an exit handler fails, and the program goes on: that
  -- traceback (frames, then its exception line) is not what ended the job.
  ignored_blocks = {
    -- Thirty-second round: a frame whose indentation was lost when the block was pasted
    -- (`File "x.py", line 447, in __del__` at the start of the line) still continues it.
    { starts = [=[^Exception ignored (?:in|on|while)\b]=], continues = [=[^(?:\s|Traceback \(most recent call last\):|File "[^"]*", line [0-9]+, in )]=] },
  },
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

-- Lines that only warn or speculate are not evidence of a failure: a traceback's last exception
-- wins over an earlier `UserWarning: ... No such file`, and "exit code 137 typically means out of
-- memory" is advice, not a finding.
local WARNING_LINE = {
  [=[(?i)\b[A-Za-z]*Warning\b(:|\s+\()]=],            -- UserWarning: ..., RuntimeWarning: ..., Warning (...)
  -- WARNING ..., glog's W0124 16:00:17, and absl/TensorFlow's "2024-12-28 16:10:57.19: W dso_loader.cc:64]".
  [=[^\s*(\[[^\]]*\]:?)*\s*([0-9]{4}-[0-9][0-9]-[0-9][0-9][ T][0-9:.,]+:?\s+)?(WARN(ING)?\b|W[0-9]{4} [0-9]|W \S+:[0-9]+\])]=],
  [=[(?i)\bwarnings\.warn\(]=],
}
-- A warning as Python's warnings module prints it: "<file>.py:<line>: <Category>Warning: ...".
local PYTHON_WARNING_LINE = [=[^\s*\S*\.pyw?:[0-9]+: [A-Za-z]*Warning: ]=]
local SPECULATION_LINE = {
  [=[(?i)\b(may|might|maybe|probably|possibly|perhaps|typically|usually|likely|could be|hint|consider|try|suggest)\b]=],
}
-- A GPU out of memory, as CUDA, PyTorch, TensorFlow, JAX and ROCm report it.
local GPU_OOM = {
  [=[(?i)\bCUDA out of memory]=],
  [=[(?i)\b(torch\.)?(cuda\.)?OutOfMemoryError\b]=],
  [=[(?i)CUDA error: out of memory]=],
  [=[(?i)cuda\S*.*\berror: out of memory]=],
  [=[(?i)\bCuda failure '?out of memory]=],
  [=[cudaErrorMemoryAllocation|CUDA_ERROR_OUT_OF_MEMORY]=],
  [=[CUBLAS_STATUS_ALLOC_FAILED|CUDNN_STATUS_ALLOC_FAILED]=],
  [=[(?i)\bHIP out of memory]=],
  [=[OOM when allocating tensor]=],
  [=[RESOURCE_EXHAUSTED: Out of memory]=],
  [=[(?i)\bResource[ _]exhausted: (Out\b|Failed to allocate\b)]=],
  [=[(?i)out of memory on device]=],
  -- PyTorch's Apple GPU back end: "MPS backend out of memory (MPS allocated: ..., max allowed: ...)".
  [=[(?i)\bMPS backend out of memory\b]=],
  -- XLA's TPU memory: its allocator's "Attempting to reserve 6.48G at the bottom of memory. That
  -- was not possible." (or "Attempting to allocate 180.59M. That was not possible. There are
  -- 142.58M free."), and the compiler's "Ran out of memory in memory space hbm".
  [=[(?i)\bAttempting to (?:reserve|allocate) [0-9.]+ ?[KMGT]?i?B?\b.*\bThat was not possible\b]=],
  [=[(?i)\bRan out of memory in memory space hbm\b]=],
}
-- The NCCL watchdog reporting a collective that hung.
local NCCL_WATCHDOG = {
  [=[Watchdog caught collective operation timeout]=],
  [=[(?i)ProcessGroupNCCL.*\btim(ed|ing)? ?out\b]=],
  [=[(?i)NCCL communicator was aborted]=],
}
-- The system's own utilities missing: `-bash: ls: command not found`, `sh: 1: awk: not found`.
local SYSTEM_COMMANDS = [=[ls|cat|cp|mv|rm|mkdir|rmdir|awk|gawk|sed|grep|cut|sort|uniq|head|tail|wc|date|hostname|sleep|touch|chmod|ln|find|xargs|tr|basename|dirname|env|id|whoami|uname|ps|tee|tar|gzip|expr|seq|readlink|stat|du|df]=]
local SYSTEM_COMMAND_MISSING = [=[(?:^|: )(?P<command>]=] .. SYSTEM_COMMANDS .. [=[): (?:command )?not found\s*$]=]
-- A script line bash ran as a command though it is none: an option (`--save-dir: command not
-- found`), an assignment (`lr=0.1: command not found`) or a bare carriage return (`$'\r'`).
local BROKEN_SCRIPT_LINE = [=[(?:^|: )(?P<command>--?[A-Za-z0-9_.-]+|[A-Za-z0-9_.]+=\S*|\$'\\r'): command not found\s*$]=]
-- The same, as srun's slurmstepd reports a program it cannot exec: `execve(): mkdir: No such file`.
local SYSTEM_COMMAND_NOT_EXECUTABLE = [=[execve\(\): (?P<command>]=] .. SYSTEM_COMMANDS .. [=[): No such file or directory]=]
-- Python's FileNotFoundError for a bare name (no directory, no extension), as subprocess reports
-- a program it cannot find.
local BARE_NAME_NOT_FOUND = [=[FileNotFoundError: \[Errno 2\] No such file or directory: '(?P<command>[^'/.\s]+)'\s*$]=]
-- A kernel interface (/proc/self/statm, /sys/...) a program expects and the system does not
-- offer: the program's platform assumption, never a file the job should have provided.
local KERNEL_INTERFACE_PATH = [=[['"`‘ ]/(proc|sys)/]=]
-- A command-line option read as a file name ('--no-restore.matrix'): the program's argument
-- handling, not a file the job should have provided.
local OPTION_AS_PATH = [=[['‘"`]--[A-Za-z]]=]
-- EIO: the storage under a file failed while reading or writing it (a disk, a network or
-- parallel filesystem, a device). The file is there; no path or package the job names is wrong.
local IO_ERROR_LINE = [=[(?i)\bInput/output error\b|\[Errno 5\]]=]
-- A model hub that cannot be reached (the compute node has no route out, a proxy or firewall,
-- the hub's own outage) and nothing cached locally: transformers' and huggingface_hub's words
-- name files and a cache they could not find, but no path of the job's is wrong.
local MODEL_HUB_UNREACHABLE_LINE = [=[(?i)\bcouldn'?t connect to '?https?://[^' ]*huggingface\.co\b|\bconnection error, and we cannot find the requested files in the cached path\b|\bcannot find the requested files in the local cache\b]=]
-- Shared memory (/dev/shm) is memory, not the disk the job writes to.
local SHARED_MEMORY_LINE = [=[(?i)/dev/shm\b|\bshared memory\b|\bposix_fallocate\b]=]
-- NCCL failing to create or size a shared memory segment in /dev/shm.
local NCCL_SHM_SEGMENT_FAILURE = {
  [=[(?i)\bposix_fallocate failed\s*:\s*No space left on device]=],
  [=[(?i)\bfailed to extend /dev/shm/\S+ to [0-9]+ bytes]=],
  [=[(?i)\bError while creating shared memory segment\b]=],
}
-- A log that shows it ran in a container: a runtime or orchestrator named, docker's
-- --shm-size, or docker's default hostname (the container's 12-hex-digit id) in a shell prompt
-- or in NCCL's `host:pid:tid [rank]` line prefix.
local SHM_CONTAINER_CONTEXT = {
  [=[(?i)\b(docker|podman|containerd|kubernetes|kubectl|k8s|singularity|apptainer|enroot|pyxis)\b|--shm-size|/\.dockerenv|\bpod\b]=],
  [=[^[0-9a-f]{12}:[0-9]+:[0-9]+ \[[0-9]+\] |\broot@[0-9a-f]{12}:]=],
}
-- An allocation of a size no machine has: 16 or more digits of bytes (a petabyte and up, as a
-- size gone negative or overflowed prints: Rust's "memory allocation of 18446744073709551615
-- bytes failed", torch's "you tried to allocate 18446744073709551616 bytes"), numpy's and CUDA's
-- PiB and EiB, R's vector of a million Gb. A size computed wrong, not memory to add.
local IMPOSSIBLE_ALLOCATION = [=[(?i)\balloc[A-Za-z0-9_]*\W+(?:of\s+)?\(?[0-9]{16,}\)?\s*bytes\b|\ballocate\s+[0-9.]+\s*[PE]iB\b|\ballocate\s+[0-9]{7,}(?:\.[0-9]+)?\s*GiB\b|cannot allocate vector of size [0-9]{7,}(?:\.[0-9]+)? ?Gb\b]=]
-- AddressSanitizer's own allocator refusing or failing an allocation: a sanitizer build, whose
-- sizes usually come from the input or a bug; no memory request of the job's is shown short.
local SANITIZER_ALLOCATION = [=[\b(?:Address|Memory|Thread|Leak)Sanitizer:? (?:failed to allocate|requested allocation size|allocation-size-too-big|out of memory: allocator is trying to allocate)]=]
-- A file watcher's limit (inotify) reported as ENOSPC: no disk is full.
local FILE_WATCH_LINE = [=[(?i)\binotify|\badd_watch\b|\bwatch(es|er|ers|ing)?\b]=]
-- A missing path that is the scheduler's or the system's own, never a file the job provides: the
-- scheduler's spool (a Torque epilogue grepping /var/spool/torque/aux, a site wrapper under
-- /var/spool) or a system administration program (an sbin directory). The job's own batch
-- script reporting one of its commands ("/var/spool/slurmd/job1/slurm_script: line 5: ./run:
-- No such file") names the job's path after the script, so it is not matched.
local SYSTEM_OWNED_MISSING_PATH = [=[(?:^|[\s:'"`‘])(?:/var/spool/|/(?:[^\s:'"`]*/)?sbin/)[^\s:'"`]*['’"`]?: No such file or directory]=]
-- A path a tool keeps for itself: a cache, lock or temp file or directory (Triton's and
-- Inductor's caches, torch_extensions, ccache, the Hugging Face hub's .locks, pip's build
-- directories, ~/.cache, a file another user left in the shared /tmp). Another process racing on
-- it, a stale lock, or another user owning the shared directory makes it missing or denied; the
-- job's own script, data and output paths are elsewhere, and no path fix of the job's applies
-- (the tool's bug or setup: user_code). A file simply missing under /tmp may be the job's own
-- (a checkout or $TMPDIR staging there), so /tmp counts only when access was denied.
local TOOL_OWNED_PATH = table.concat({
  [=[(?:^|[\s'"`‘(=])(?:/run/user|/dev/shm)/]=],
  [=[(?i:permission denied|operation not permitted|\[Errno 13\]|\bEACCES\b).*(?:^|[\s'"`‘(=])(?:/tmp|/var/tmp)/]=],
  [=[(?:^|[\s'"`‘(=])(?:/tmp|/var/tmp)/.*(?i:permission denied|operation not permitted)]=],
  [=[\.locks?\b|/lock['"’`]]=],
  [=[(?i)(?:^|[/._-])c?cache(?:[/._-]|['"’`]|$)|pycache]=],
  [=[/\.triton\b|torch_?extensions|torchinductor_|/pip-(?:build|install|req-build)-]=],
}, "|")
-- Thirty-seventh round: a path inside an installed package's own tree (Python's site-packages
-- or dist-packages, an .egg, a CMake FetchContent source folder `_deps/<name>-src/`): a file a
-- package reads from beside its own code. When that file is missing, the package was built or
-- installed without it (a packaging bug, a data file never shipped, a path the code builds
-- wrong), never an input the job named; no path fix applies (the path rules leave these lines
-- alone, and the exception is the program's). A user's input sits in the job's own folders.
local INSTALLED_PACKAGE_PATH = [=[[/\\](?:site|dist)-packages[/\\][^\s'"`’]|\.egg[/\\]|/_deps/[^/\s'"`]+-src/]=]
-- A build tool's own error line about its cache (ccache's temp files and directories).
local BUILD_CACHE_TOOL_LINE = [=[^\s*ccache: error:]=]
-- dash's wording of a command it cannot find ("sh: 1: fastp: not found"): a POSIX sh that a
-- program spawned or that runs inside an image, never the bash that runs a batch script.
local POSIX_SH_NOT_FOUND = [=[^(?:/bin/|/usr/bin/)?(?:da)?sh: [0-9]+: (?P<command>[^\s:/]+): not found]=]
-- A container's own interactive prompt: what follows was typed inside the image.
-- (`Apptainer> `, `Singularity> `, older singularity's `Singularity image.simg:~> `).
local CONTAINER_SHELL_PROMPT = [=[^(?:Apptainer|Singularity)(?: \S+)?> ]=]
-- An interactive session entered inside a container (`docker run -it ... bash`, `apptainer
-- shell img.sif`): the commands that follow run in the image.
local CONTAINER_INTERACTIVE_SESSION = [=[(?i)\b(?:docker|podman|nerdctl)\s+(?:run|exec)\b[^|;&]*\s-(?:it|ti)\b|\b(?:apptainer|singularity)\s+shell\b]=]
local INSIDE_CONTAINER_SESSION = { CONTAINER_SHELL_PROMPT, CONTAINER_INTERACTIVE_SESSION }
-- pip retrying because it could not connect to its index or proxy (urllib3's NewConnectionError,
-- ConnectTimeoutError, ProxyError): a mirror the node cannot reach. pip's `No matching
-- distribution` after it, and the import that then fails, say nothing about the package; the
-- install never reached a server (network_unreachable reads it as a cause for a person).
local PIP_INDEX_UNREACHABLE = [=[Retrying \(Retry\(.*\)\) after connection broken by '(?:NewConnectionError|ConnectTimeoutError|ProxyError)\(]=]
-- Running inside a container: the runtime's name or options on some line, or a container init
-- system's own lines (s6-overlay's `[cont-init.d]` and `[s6-finish]`, phusion baseimage's
-- `/etc/my_init.d/`): those only run as an image's PID 1. Twenty-eighth round: docker compose's
-- own lines about its containers (`Attaching to app-1`, `app-1 exited with code 127`; compose
-- names a container after its service and a replica number) say the same.
local CONTAINER_CONTEXT = [=[(?i)\b(apptainer|singularity|docker|podman|enroot|pyxis|charliecloud|ch-run)\b|--container-image\b|\.sif\b|\[(?:cont-init|cont-finish|s6-init|s6-finish)\b|/etc/my_init\.d/|^Attaching to [A-Za-z0-9_.-]+[-_][0-9]+(?:,|$)|^[A-Za-z0-9_.-]+[-_][0-9]+ exited with code [0-9]+$]=]
-- Building, pulling or unpacking a container image: a "no space left" there is the image build's
-- cache or temp directory, not the job's quota.
local CONTAINER_BUILD = {
  [=[(?i)\bwhile (performing build|creating SIF|creating squashfs|unpacking)]=],
  [=[(?i)\b(creating|writing) (SIF|squashfs)\b|\bsquashfs\b.*\bfailed\b|Converting OCI blobs to SIF]=],
  [=[\.wh\.\.wh\.\.opq]=],                                     -- OCI layer whiteouts being unpacked
  [=[(?i)\b(singularity|apptainer) (build|pull)\b]=],
  [=[(?i)\bdocker (build|pull)\b|\bfailed to (solve|build|pull)\b|\bCopying blob\b]=],
  [=[(?i)\bwriting blob\b|\bwhile building SIF\b|/build-temp-]=],
  -- The container engine's own storage (docker's /var/lib/docker/tmp while it pulls a blob,
  -- podman's /var/lib/containers): space there is the engine's, not the job's quota.
  [=[(?i)/var/lib/(docker|containers)/|\bGetImageBlob]=],
}

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
  -- The scheduler's reason for ending the job (sacct/scontrol Reason), when the tracker has it:
  -- a CANCELLED job whose reason is preemption was preempted.
  reason_preempted = {
    kind = "preempted", priority = 100, reasons = { "preempt" },
    summary = "the job was preempted (scheduler reason)",
  },
  reason_out_of_memory = {
    kind = "oom", priority = 100, reasons = { "^OutOfMemory$", "^OOM" },
    summary = "the scheduler ended the job for exceeding its memory (reason)",
  },
  reason_node_fail = {
    kind = "node_fail", priority = 100, reasons = { "^Node_?Fail", "^NodeDown", "^BootFail", "^JobLaunchFailure$", "^Prolog" },
    summary = "a node of the job failed (scheduler reason)",
  },
  reason_time_limit = {
    kind = "timeout", priority = 100, reasons = { "^TimeLimit$" },
    summary = "the job reached its time limit (scheduler reason)",
  },

  -- The scheduler's verdict pasted as text: sacct's State column, as a table row ending in its
  -- ExitCode ("N:S") or alone (`--format=State`). sacct's default width is 10 characters, so
  -- OUT_OF_MEMORY prints as `OUT_OF_ME+` and `CANCELLED by <uid>` as `CANCELLED+`.
  accounting_row_out_of_memory = {
    kind = "oom", priority = 92,
    patterns = { [=[(?:^|\s|\|)OUT_OF_ME(MORY|\+)\s*\|?\s*([0-9]+:[0-9]+)?\s*\|?\s*$]=] },
    -- A step's OOM state while the batch script itself completed with 0:0 is SLURM's warning on
    -- a job that finished, not its verdict.
    unless = { [=[^\S+\.ba(tch|\+)\s.*\bCOMPLETED\s+0:0\s*$|^\S+\.batch\|.*\|COMPLETED\|0:0\|?\s*$]=] },
    summary = "the scheduler's accounting shows the job out of memory: {line}",
  },
  accounting_row_timeout = {
    kind = "timeout", priority = 92,
    -- A row ending in its exit code, or the state alone on its line ("connection TIMEOUT" at the
    -- end of a message is no accounting row).
    patterns = { [=[(?:^|\s|\|)TIMEOUT\s*\|?\s*[0-9]+:[0-9]+\s*\|?\s*$|^\s*TIMEOUT\s*\|?\s*$]=] },
    summary = "the scheduler's accounting shows the job at its time limit: {line}",
  },
  accounting_row_cancelled_by = {
    kind = "cancelled", priority = 66,
    patterns = { [=[(?:^|\s|\|)CANCELLED( by [0-9]+|\+)\s*\|?\s*([0-9]+:[0-9]+)?\s*\|?\s*$]=] },
    summary = "the scheduler's accounting shows the job cancelled by a user: {line}",
  },
  accounting_row_failed = {
    -- A FAILED row with a non-zero exit: the job failed, and the accounting does not say why
    -- (unknown, not "none"). Any line that names a cause outranks it.
    kind = "unknown", priority = 6,
    patterns = { [=[(?:^|\s|\|)FAILED\s*\|?\s*([1-9][0-9]*:[0-9]+|0:[1-9][0-9]*)\s*\|?\s*$]=] },
    summary = "the scheduler's accounting shows the job failed, without a cause: {line}",
  },

  ---------------------------------------------------------------- memory
  scheduler_oom_kill = {
    -- An OOM kill named by the scheduler or the kernel. A field saying the OOM killer did *not*
    -- fire, and SLURM's "exceeded ... memory limit at some point" warning (the step went on to
    -- finish), are not kills.
    kind = "oom", priority = 90,
    patterns = {
      [=[(?i)detected [1-9][0-9]* oom[-_ ]kill event]=],
      [=[(?i)killed by the cgroup out-of-memory handler]=],
      [=[(?i)exceeded (job|step) memory limit]=],
      [=[(?i)exceeded memory limit \((?P<mem_used_kb>[0-9]+) > (?P<mem_limit_kb>[0-9]+)\)]=],
      [=[(?i)task [0-9]+: out of memory]=],
      [=[(?i)memory cgroup out of memory]=],
      [=[(?i)\bout of memory: kill(ed)? process]=],
      [=[(?i)\bKilled process [0-9]+ \(.*\) total-vm]=],
      [=[(?i)\binvoked oom-killer\b]=],
      [=[(?i)\boom-kill(er)?:]=],
      -- Thirty-sixth round: HPE/Cray's node memory controller reporting the job's cgroup under
      -- OOM before its kill ("under_oom detected for 5 seconds. ... re-enabling OOM killer").
      [=[(?i)\bunder_oom detected\b]=],
      [=[(?i)PBS: job killed: (p|v)?mem [0-9]+\S* exceeded limit]=],
      [=[TERM_MEMLIMIT]=],
      -- Torque/PBS's mail and job summary: "Job exceeded a memory resource limit (vmem, pvmem, etc.)".
      [=[(?i)Job exceeded a memory resource limit]=],
      [=[(?i)exceeded (the )?(hard )?memory limit]=],
      -- Moab's enforcement, mailed or appended to the job's output: "job N exceeded MEM usage
      -- hard limit (2528 > 1126)" (the soft limit only warns).
      [=[(?i)\bexceeded MEM usage hard limit\b]=],
      [=[(?i)memory usage exceeded (request_memory|the requested|its request)]=],
      [=[\bOOMKilled\b]=],
      -- Thirty-second round: the termination reason as kubelet wrote it before Kubernetes 1.0
      -- and some runtimes still do, with a space (`"reason": "OOM Killed"`, `Reason: OOM Killed`);
      -- only as a reason field, not prose that guesses at a kill.
      [=[(?i)\breason"?\s*[:=]\s*"?OOM[ _]Killed\b]=],
      -- HTCondor's periodic hold or removal for memory use over the request (CMS/CRAB wording too).
      [=[(?i)\bput on hold\b.*\bdue to memory\b]=],
      [=[(?i)\bremoved due to memory use\b|\bdue to excessive memory use\b]=],
      -- Ray's memory monitor, Dask's nanny and the kubelet's eviction under memory pressure.
      [=[(?i)\bkilled due to (memory pressure|the node running low on memory)\b]=],
      [=[(?i)\bexceeded [1-9][0-9]*% memory budget\b]=],
      [=[(?i)\bThe node was low on resource: memory\b|\bThe node had condition: \[MemoryPressure\]]=],
      -- Twenty-sixth round: YARN's NodeManager killing a container over its memory limit
      -- ("Container [pid=...] is running beyond physical memory limits. Current usage: 9.8 GB of
      -- 9.8 GB physical memory used; ... Killing container.", the virtual limit alike), and
      -- Spark's relay of it ("Container killed by YARN for exceeding memory limits. 8.2 GB of 8
      -- GB physical memory used").
      [=[(?i)\bis running beyond (physical|virtual) memory limits\b]=],
      [=[(?i)\bCurrent usage: [0-9.]+ ?[kmgt]?i?b of [0-9.]+ ?[kmgt]?i?b physical memory used\b.*\bKilling container\b]=],
      [=[(?i)\bContainer killed by YARN for exceeding memory limits\b]=],
    },
    unless_line = {
      [=[(?i)\boom[-_ ]?kill(ed|er)?"?\s*[:=]?\s*"?(false|no|none|0)\b]=],
      [=[(?i)memory limit at some point]=],
      [=[(?i)\bsoft limit\b]=],
    },
    summary = "the job ran out of memory: {line}",
  },
  gpu_oom = {
    kind = "oom", priority = 85, captures = { device = "gpu" },
    patterns = GPU_OOM,
    -- Thirty-fourth round: the JVM's `java.lang.OutOfMemoryError: Java heap space` also matches
    -- PyTorch's bare `OutOfMemoryError`; it is host memory (host_oom), and a GPU allocator
    -- setting would not help it.
    unless_line = { WARNING_LINE[1], WARNING_LINE[2], WARNING_LINE[3], IMPOSSIBLE_ALLOCATION,
      [=[\bjava\.lang\.OutOfMemoryError\b]=] },
    summary = "the GPU ran out of memory: {line}",
  },
  gpu_oom_before_collective_timeout = {
    -- One rank runs out of GPU memory, the others then wait in a collective until the NCCL
    -- watchdog fires. This rule ranks with nccl_watchdog, so whichever is logged first decides:
    -- the OOM when it came first, the hang when the OOM is its fallout.
    kind = "oom", priority = 105, captures = { device = "gpu" },
    patterns = GPU_OOM,
    requires = NCCL_WATCHDOG,
    unless_line = WARNING_LINE,
    summary = "a rank ran out of GPU memory and the other ranks' collectives timed out waiting for it: {line}",
  },
  tensorflow_allocator_oom = {
    -- TensorFlow's BFC allocator giving up: "W ...bfc_allocator.cc:273] Allocator (GPU_0_bfc) ran
    -- out of memory trying to allocate 3.72GiB.  Current allocation summary follows." (then the
    -- ResourceExhaustedError, if it was not cut off). It is logged as a warning, so the warning
    -- veto is not applied; the retry form, which says "The caller indicates that this is not a
    -- failure", only costs speed and is no OOM.
    kind = "oom", priority = 85,
    patterns = {
      [=[(?i)\bran out of memory trying to allocate [0-9.]+ ?[KMGT]?i?B\b.*\bCurrent allocation summary follows\b]=],
      [=[(?i)\bRan out of memory trying to allocate [0-9.]+ ?[KMGT]?i?B\. See logs for memory state\b]=],
    },
    unless_line = { [=[(?i)\bcaller indicates that this is not a failure\b]=] },
    summary = "TensorFlow's allocator ran out of memory: {line}",
  },
  tensorflow_op_oom = {
    -- Twenty-fifth round: TensorFlow's op kernel reporting that an op failed for lack of memory,
    -- "W tensorflow/core/framework/op_kernel.cc:1192] Resource exhausted: OOM when allocating
    -- tensor with shape[...]" (also "OP_REQUIRES failed at conv_ops.cc:446 : Resource exhausted:
    -- OOM ..."). glog writes it at warning level, so gpu_oom's warning veto drops it, but it is
    -- the op's failure that becomes the ResourceExhaustedError (often cut off in posts), not the
    -- allocator's retry, which says "The caller indicates that this is not a failure".
    kind = "oom", priority = 85,
    patterns = {
      [=[\bop_kernel\.cc:[0-9]+\] (?:OP_REQUIRES failed at \S+ ?: ?)?Resource exhausted: ?OOM when allocating tensor\b]=],
    },
    unless_line = { [=[(?i)\bcaller indicates that this is not a failure\b]=], IMPOSSIBLE_ALLOCATION },
    summary = "a TensorFlow op ran out of memory: {line}",
  },
  host_oom = {
    kind = "oom", priority = 85,
    patterns = {
      [=[(?:^|[^A-Za-z])_?(?:Array)?MemoryError\b]=],
      [=[(?i)Unable to allocate [0-9.]+ [KMGT]i?B for an array]=],
      [=[java\.lang\.OutOfMemoryError]=],
      [=[(?i)insufficient memory for the Java Runtime Environment]=],
      [=[(?i)Could not reserve enough space for ([0-9]+[A-Za-z0-9_]* )?object heap]=],
      [=[(?i)Native memory allocation \(mmap\) failed]=],
      [=[(?i)cannot allocate vector of size]=],
      -- R's vector heap limit (R_MAX_VSIZE, mem.maxVSize()).
      [=[(?i)\bvector memory (exhausted|limit of [0-9.]+ ?[KMGT]i?b reached)\b]=],
    },
    unless_line = { WARNING_LINE[1], WARNING_LINE[2], WARNING_LINE[3], IMPOSSIBLE_ALLOCATION },
    summary = "the program ran out of memory: {line}",
  },
  native_alloc_failure = {
    kind = "oom", priority = 80,
    patterns = {
      [=[std::bad_alloc|St9bad_alloc]=],
      [=[(?i)\bcannot allocate memory\b]=],
      [=[(?i)\[Errno 12\]]=],
      [=[(?i)\bmemory allocation (of [0-9]+ bytes )?failed]=],
      -- Thirty-sixth round: a program's own report of an allocation refused, in its own words
      -- (kraken2: "Failed attempt to allocate 45977025096bytes; you may not have enough free
      -- memory to load this database", then "unable to allocate hash table memory").
      [=[(?i)\bfailed attempt to allocate [0-9]+ ?bytes\b]=],
      [=[(?i)\bunable to allocate [A-Za-z ]*memory\b]=],
    },
    unless_line = {
      WARNING_LINE[1], WARNING_LINE[2], WARNING_LINE[3], IMPOSSIBLE_ALLOCATION, SANITIZER_ALLOCATION,
    },
    summary = "a memory allocation failed: {line}",
  },
  impossible_allocation_size = {
    -- Eighteenth round: an allocation of a size no node has (a petabyte and more, a size that
    -- went negative or overflowed) is the program's bug, whatever words report it; doubling the
    -- memory would not help. Another OOM line (a cgroup kill, an OOM state) still decides.
    kind = "user_code", priority = 82,
    patterns = { IMPOSSIBLE_ALLOCATION },
    unless_line = WARNING_LINE,
    summary = "the program asked for an allocation no machine has (a size computed wrong, not memory to add): {line}",
  },
  sanitizer_allocation_failure = {
    -- AddressSanitizer (or another sanitizer) refusing or failing an allocation: a debugging
    -- build whose sizes usually come from the input (a fuzzed file) or a bug. The line shows no
    -- memory request of the job's running short, so no memory fix is claimed.
    kind = "unknown", priority = 81,
    patterns = { SANITIZER_ALLOCATION },
    summary = "a sanitizer build refused or failed an allocation; the log does not show the job short of memory: {line}",
  },
  generic_out_of_memory = {
    kind = "oom", priority = 55,
    patterns = { [=[(?i)\bout of memory\b]=] },
    unless_line = { WARNING_LINE[1], WARNING_LINE[2], WARNING_LINE[3], SPECULATION_LINE[1] },
    summary = "the job ran out of memory: {line}",
  },
  killed_by_sigkill = {
    -- The shell prints a bare "Killed" when its child got SIGKILL. That alone does not say who
    -- sent it (the OOM killer, an admin, the program itself): no fix without evidence.
    kind = "unknown", priority = 45,
    patterns = {
      [=[^\s*Killed\s*$]=],
      [=[: line [0-9]+: +[0-9]+ Killed\b]=],
      [=[(?i)exited on signal 9 \(Killed\)]=],
      [=[(?i)\bSignal 9 \(SIGKILL\) received\b]=],
      [=[(?i)\bWTERMSIG 9\b]=],
      [=[(?i)\bfailed \(exitcode: -9\)]=],
      -- MPICH/Hydra: "YOUR APPLICATION TERMINATED WITH THE EXIT STRING: Killed (signal 9)".
      [=[(?i)\bKilled \(signal 9\)]=],
      -- torch.multiprocessing's "process 0 terminated with signal SIGKILL".
      [=[(?i)\bterminated with signal SIGKILL\b]=],
      -- Thirty-sixth round: HPE/Cray PALS's report of a rank ended by SIGKILL ("nid001956: rank
      -- 19 died from signal 9"): who sent it is not said.
      [=[(?i)\brank [0-9]+ died from signal 9\b]=],
      -- A DataLoader worker "killed by signal: Killed" is a SIGKILL as well: the OOM killer's
      -- usual work, but the line does not say who sent it (no OOM line, no fix).
      [=[(?i)DataLoader worker \(pid\(?s?\)? ?[0-9, ]+\)? is killed by signal: Killed]=],
      -- Python's subprocess reporting a child ended by SIGKILL (CalledProcessError: "Command
      -- '[...]' died with <Signals.SIGKILL: 9>."), as launchers such as accelerate print it.
      [=[died with <Signals\.SIGKILL: 9>]=],
      -- The shell's "Killed" written after a progress bar that ended without a newline
      -- ("331/1063 [01:06<03:59,  3.06it/s]Killed"): the same bare kill at the end of the line.
      [=[(it/s|s/it|[0-9]\])\]?\s*Killed\s*$]=],
    },
    summary = "the process was killed with SIGKILL and the log does not say why (not proof of running out of memory)",
  },

  terminated_by_sigterm = {
    -- The shell's "Terminated" for a child that got SIGTERM: the scheduler, an admin, a workflow
    -- manager or a session that closed. The line alone names no one; a time limit, cancellation
    -- or preemption line elsewhere outranks it.
    kind = "unknown", priority = 44,
    patterns = {
      [=[^\s*Terminated(\s|$)]=],
      [=[: line [0-9]+: +[0-9]+ Terminated\b]=],
      [=[(?i)\bEXIT STRING: Terminated \(signal 15\)]=],
      -- Intel Fortran's runtime reporting the signal it received: "forrtl: error (78): process
      -- killed (SIGTERM)", then an unsymbolised traceback. Who sent it, the line does not say.
      [=[(?i)\bforrtl: error \(78\): process killed \(SIGTERM\)]=],
    },
    -- LSF's job report ("Started at ...", "Terminated at Sat Nov 25 00:26:39 2023", "Results
    -- reported at ...") gives the job's end time on every job, finished or not: no signal.
    unless_line = { [=[^\s*Terminated at [A-Za-z0-9_]{3} [A-Za-z0-9_]{3} +[0-9]]=] },
    summary = "the process was terminated (SIGTERM) and the log does not say by whom: {line}",
  },

  mpi_launcher_exit_code = {
    -- MPICH/Intel MPI's Hydra banner: "BAD TERMINATION ... EXIT CODE: 139". The code is a rank's
    -- exit status or signal (11 and 139 SIGSEGV, 6 and 134 SIGABRT, 7/135 SIGBUS, 4/132 SIGILL,
    -- 8/136 SIGFPE): a native crash, unless the "EXIT STRING" line names a kill instead.
    kind = "segfault", priority = 30,
    patterns = {
      [=[^\s*=\s+EXIT CODE: (?P<code>139|134|135|132|136|11|6|7|4|8)\s*$]=],
      -- The same banner naming the signal instead: "=   KILLED BY SIGNAL: 11 (Segmentation fault)".
      [=[^\s*=\s+KILLED BY SIGNAL: (?P<code>11|6|7|4|8)\b]=],
    },
    summary = "an MPI rank crashed (Hydra exit code {code})",
  },
  mpi_launcher_killed = {
    -- Hydra's "EXIT CODE: 9" (or 137) is a rank killed by SIGKILL: who sent it, the log does not
    -- say (the same rule as a bare "Killed").
    kind = "unknown", priority = 45,
    patterns = {
      [=[^\s*=\s+EXIT CODE: (9|137)\s*$]=],
      -- "=   KILLED BY SIGNAL: 9 (Killed)": the same kill, as newer Hydra words it.
      [=[^\s*=\s+KILLED BY SIGNAL: 9\b]=],
    },
    summary = "an MPI rank was killed with SIGKILL and the log does not say why: {line}",
  },
  shared_memory_exhausted = {
    -- PyTorch's DataLoader workers out of /dev/shm: a container's 64 MB default or the node's
    -- shared memory, not the job's memory request. Without container evidence no fix applies.
    kind = "unknown", priority = 60,
    patterns = {
      [=[(?i)\binsufficient shared memory \(shm\)]=],
      [=[(?i)\bworkers are out of shared\s*$|\bout of shared memory\b]=],
    },
    summary = "worker processes ran out of shared memory (/dev/shm): {line}",
  },
  workflow_task_vanished = {
    -- Nextflow found its task gone without an exit status: killed by the scheduler, preempted,
    -- or lost; the workflow's own log does not say which.
    kind = "unknown", priority = 8,
    patterns = { [=[(?i)\bterminated for an unknown reason\b]=] },
    summary = "the workflow's task ended without an exit status (killed or lost by the system): {line}",
  },
  output_transfer_failed = {
    -- HTCondor could not send back an output file the job declared: the job ended without
    -- producing it (a program that failed quietly), not a path the job got wrong.
    kind = "unknown", priority = 60,
    -- The starter sends the outputs back and the shadow receives them (for inputs it is the
    -- other way round, and a missing input is a path the job got wrong).
    patterns = { [=[(?i)\bSTARTER at \S+ failed to send file\(s\)|\bSHADOW failed to receive file\(s\)]=] },
    summary = "the job ended without a declared output file (HTCondor could not transfer it): {line}",
  },

  transfer_plugin_failed = {
    -- HTCondor held the job because a file transfer plugin (stash, osdf, pelican, curl) failed
    -- on its own: the plugin's scratch file, its network, its credentials. A path error only
    -- when the plugin says the path does not exist (then the path rules decide).
    kind = "unknown", priority = 60,
    patterns = { [=[(?i)\bfile transfer plugin \S+ exited with (code|status|signal)\b]=] },
    unless_line = { [=[(?i)\b404\b|\bnot found\b|\bno such (file|namespace|object|key)\b|\bdoes not exist\b]=] },
    summary = "an HTCondor file transfer plugin failed (not a path of the job's): {line}",
  },

  thread_limit_reached = {
    -- A library cannot start its threads or a shell cannot fork: the process count limit
    -- (ulimit -u, the cgroup's pids) or a thread pool sized for all the node's cores. Not
    -- memory, and no fix the log can name.
    kind = "unknown", priority = 24,
    patterns = {
      [=[(?i)\bpthread_create( failed)?\b[^:]*: Resource temporarily unavailable\b]=],
      [=[(?i)\bfork: (retry: )?Resource temporarily unavailable\b]=],
    },
    summary = "the process hit its thread or process limit: {line}",
  },

  ---------------------------------------------------------------- time
  time_limit = {
    kind = "timeout", priority = 90,
    patterns = {
      [=[DUE TO TIME LIMIT]=],
      [=[(?i)job killed: walltime [0-9]+ exceeded limit [0-9]+]=],
      [=[TERM_RUNLIMIT]=],
      [=[(?i)\bwall[- ]?clock (time )?limit\b]=],
      [=[(?i)\bexceeded (its |the )?(wall ?time|run ?time|running time|time) limit\b]=],
      [=[(?i)\bwall ?time\b.*\bexceeded\b]=],
      [=[(?i)job .* exceeded .*h_rt]=],
      -- A Kubernetes Job past its activeDeadlineSeconds.
      [=[(?i)\bJob was active longer than specified deadline\b|\breason:\s*'?DeadlineExceeded\b]=],
    },
    unless_line = { [=[^\s*#(SBATCH|PBS)\b]=] },
    summary = "the job hit its time limit: {line}",
  },

  step_time_limit = {
    -- SLURM ending one srun step at the step's own --time: `*** STEP N.M ON host CANCELLED AT
    -- <time> DUE TO TIME LIMIT ***`. The job's COMPLETED only says the batch script's last
    -- command exited 0 (a script that echoes the step's status and goes on); the step's work
    -- was cut short by the scheduler's limit, so this outranks state_completed.
    kind = "timeout", priority = 97,
    patterns = { [=[\*\*\* STEP \S+ ON \S+ CANCELLED AT \S+ DUE TO TIME LIMIT \*\*\*]=] },
    summary = "a job step hit its time limit: {line}",
  },

  step_oom_killed = {
    -- Thirty-fourth round: srun's own verdict on a step whose task the cgroup OOM handler
    -- killed (`srun: error: <node>: task 0: Out Of Memory`). A batch script without `set -e`
    -- goes on after it and exits 0, so the job row says COMPLETED; the step's work was still
    -- killed for memory, so this outranks state_completed, as step_time_limit does. SLURM's
    -- "exceeded ... memory limit at some point" warning is no such verdict and stays harmless.
    kind = "oom", priority = 97,
    patterns = { [=[(?i)srun: error: \S+: tasks? [0-9,-]+: Out Of Memory\s*$]=] },
    summary = "a job step was killed for running out of memory: {line}",
  },

  flux_time_limit = {
    -- Flux's timeout exception in the job's output or its human-readable eventlog
    -- ("job.exception type=timeout severity=0 resource allocation expired", `exception
    -- type="timeout" ... note="resource allocation expired"`): the job's time limit. When the
    -- tasks never started (an exec exception first), the expiry is the hung job's aftermath.
    kind = "timeout", priority = 90,
    patterns = { [=[(?i)\bexception type="?timeout"?\b.*\bresource allocation expired\b]=] },
    unless = { [=[(?i)\bexception type="?exec"?\b]=] },
    summary = "the job hit its time limit (Flux): {line}",
  },
  flux_task_start_failed = {
    -- Flux could not start the job's tasks ("flux-shell[0]: FATAL: task 0: start failed: X: No
    -- such file or directory", then "job.exception type=exec"): the program is missing or not
    -- executable on the nodes the job got. Whether the job's environment lacks it or those nodes
    -- do, the log cannot tell, so no missing-dependency or path fix is tried.
    kind = "unknown", priority = 77,
    patterns = {
      [=[(?i)\bjob\.exception type=exec\b]=],
      [=[(?i)\bflux-shell\[[0-9]+\]: FATAL: task [0-9]+: start failed\b]=],
    },
    summary = "the job's tasks could not be started on its nodes: {line}",
  },
  flux_fatal_exception = {
    -- Thirty-ninth round: any other fatal Flux job exception (severity=0 ends the job), e.g.
    -- Fluxion's `job.exception type=alloc severity=0 alloc denied due to type="match error"`:
    -- the job failed before or around its run for a reason the system raised, not one the job's
    -- own output gives, so it is a failure of unknown cause rather than a finished job. The
    -- timeout, exec and cancel types have their own readings.
    kind = "unknown", priority = 60,
    patterns = { [=[(?i)\bjob\.exception type=(?P<type>[A-Za-z0-9_-]+) severity=0\b]=] },
    unless_line = { [=[(?i)\bjob\.exception type=(timeout|exec|cancel)\b]=] },
    summary = "Flux raised a fatal job exception ({type}): {line}",
  },

  ---------------------------------------------------------------- distributed
  nccl_watchdog = {
    -- A hung collective: more time does not help, so it outranks even the TIMEOUT state.
    kind = "distributed", priority = 105,
    patterns = NCCL_WATCHDOG,
    summary = "a distributed collective hung (NCCL watchdog): {line}",
  },
  distributed_error = {
    kind = "distributed", priority = 80,
    patterns = {
      [=[(?i)\bNCCL error\b]=],
      [=[nccl(System|Internal|UnhandledCuda|Invalid|Remote)Error]=],
      [=[DistBackendError|DistNetworkError|DistStoreError]=],
      [=[(?i)NCCL WARN .*(failed|failure|error|timeout)]=],
      -- NCCL's InfiniBand transport getting an error completion from a peer ("status=12",
      -- transport retries exceeded): the collective's network path failed under the job.
      [=[(?i)NCCL WARN NET/IB\S* ?: Got completion from peer\b]=],
      [=[Rendezvous(Timeout|Closed|Connection)Error]=],
      [=[(?i)\b(c10d|TCPStore)\b.*(timed out|timeout|connection (refused|reset))]=],
      [=[(?i)client socket has timed out after [0-9]+[A-Za-z0-9_]* while trying to connect to]=],
      [=[(?i)server socket has failed to (bind|listen)]=],
      [=[(?i)\[enforce fail at .*gloo]=],
      -- gloo's TCP transport timing out or losing its peer ("[.../gloo/transport/tcp/unbound_buffer.cc:81]
      -- Timed out waiting 1800000ms for recv operation to complete"): a collective between ranks.
      [=[(?i)\bgloo/transport/\S*\].*\b(timed out|connection (reset|refused|closed)|socket)\b]=],
      [=[(?i)ORTE has lost communication]=],
      -- mpirun (ORTE, PRRTE) could not launch its daemons on the other nodes (ssh, the remote
      -- environment, a node that refused): the job's ranks never started together.
      [=[(?i)\b(ORTE|PRRTE|prterun) was unable to (reliably )?start one or more daemons\b]=],
      -- JAX/XLA's distributed runtime: the coordination service's barrier or registration timing
      -- out (processes that never joined), and XLA's rendezvous waiting for ranks that do not
      -- arrive. A start-up rendezvous failure, not the job's time limit.
      [=[(?i)\bCoordination service agent in error status\b]=],
      [=[(?i)\bDEADLINE_EXCEEDED: Barrier timed out\b]=],
      [=[(?i)/tensorflow\.CoordinationService/(RegisterTask|Barrier|Heartbeat|WaitForAllTasks)\b]=],
      [=[(?i)\bthreads to join the rendezvous, but not all of them arrived on time\b]=],
      -- A launcher that starts the other ranks over ssh (pdsh for DeepSpeed, mpirun's rsh agent)
      -- and cannot log in: no key, a refused login, an unreachable host. The ranks never start
      -- together; no file of the job's is denied.
      [=[Permission denied \((publickey|password|gssapi|keyboard-interactive)[^)]*\)]=],
      [=[(?i)\bssh exited with exit code 255\b]=],
      [=[(?i)\bwas not reachable via ssh\b]=],
      [=[(?i)\bCommand 'ssh .*' returned non-zero exit status 255\b]=],
    },
    summary = "a distributed (NCCL/torch.distributed/MPI) failure: {line}",
  },
  distributed_socket_error = {
    -- torch.distributed's store or rendezvous raising a bare socket error ("RuntimeError: Socket
    -- Timeout", "RuntimeError: Connection reset by peer") with no c10d or TCPStore on the line:
    -- the traceback or another line shows torch.distributed. The ranks could not reach each
    -- other's store; the job's time limit is not involved.
    kind = "distributed", priority = 80,
    patterns = {
      [=[^\s*(?:\[rank[0-9]+\]:\s*)?RuntimeError: (?:Socket Timeout|Connection reset by peer|Connection refused|Broken pipe)\s*$]=],
    },
    requires = { [=[torch/distributed/|\binit_process_group\b|\bTCPStore\b|\bc10d\b|\brendezvous\b]=] },
    summary = "torch.distributed could not reach its store or the other ranks: {line}",
  },
  mpi_after_finalize = {
    -- MPI called after MPI_Finalize (Open MPI's "The MPI_Comm_free() function was called after
    -- MPI_FINALIZE was invoked ... Your MPI job will now abort", MPICH's "Attempting to use an MPI
    -- routine after finalizing MPICH"): the program's own shutdown order, a code bug.
    kind = "user_code", priority = 25,
    patterns = {
      [=[(?i)\bfunction was called after MPI_FINALIZE was invoked\b]=],
      [=[(?i)\bAttempting to use an MPI routine after finalizing MPICH\b]=],
    },
    summary = "the program called MPI after MPI_Finalize (a bug in its shutdown): {line}",
  },
  rank_failed = {
    -- MPI and torch launchers report that a rank died; why it died is whatever else the log says.
    kind = "unknown", priority = 8,
    patterns = {
      [=[MPI_ABORT was invoked]=],
      [=[(?i)application called MPI_Abort]=],
      [=[(?i)mpirun noticed that process rank [0-9]+]=],
      [=[(?i)one of MPI processes was aborted]=],
      [=[ChildFailedError]=],
      [=[(?i)Root Cause \(first observed failure\)]=],
      [=[(?i)srun: error: \S+: tasks? [0-9,-]+: Exited with exit code [0-9]+]=],
      -- bash's job status for a child ended by SIGABRT without a core file: the program called
      -- abort() (a fatal error of its own, an assertion); what it reported is in its own output.
      -- With "(core dumped)" it is native_crash's.
      [=[: line [0-9]+: +[0-9]+ Aborted\s+\S]=],
      -- DeepSpeed's launcher killing its other ranks after one of them exited.
      [=[\bsigkill_handler\] Killing subprocess [0-9]+]=],
      -- A program's own notice that it stops (ORCA's "[file orca_mdci/...]: . . . aborting the
      -- run"); its reason, if any, is in its own output.
      [=[(?i)\baborting the run\b]=],
    },
    summary = "a task or rank failed and the log shows no cause: {line}",
  },

  ---------------------------------------------------------------- missing dependencies
  python_module_missing = {
    kind = "missing_dep", priority = 75,
    patterns = {
      [=[ModuleNotFoundError: No module named '(?P<module>[A-Za-z0-9_.]+)']=],
      [=[ImportError: No module named '?(?P<module>[A-Za-z0-9_.]+)'?]=],
    },
    unless_line = WARNING_LINE,
    -- Typed at a container's own prompt: the image's Python (container_prompt_import_failure).
    -- After pip could not reach its index, the module is missing because the install never ran.
    unless = { CONTAINER_SHELL_PROMPT, CONTAINER_INTERACTIVE_SESSION, PIP_INDEX_UNREACHABLE },
    summary = "Python module {module} is not installed",
  },
  python_import_error = {
    kind = "missing_dep", priority = 60,
    patterns = { [=[ImportError: cannot import name '?(?P<name>[A-Za-z0-9_]+)'?(?: from '?(?P<module>[A-Za-z0-9_.]+)'?)?]=] },
    -- A name the standard library itself lacks (`from collections import Mapping` on Python
    -- 3.10+; the path is lib/pythonX.Y/..., not site-packages): code written for another Python,
    -- no package to install. The traceback's exception rule reads it as the program's.
    unless_line = { WARNING_LINE[1], WARNING_LINE[2], WARNING_LINE[3], [=[ from '[A-Za-z0-9_.]+' \((?:\S*/)?lib/python[0-9][0-9.]*/(?:[A-Za-z0-9_]+/)*[A-Za-z0-9_]+\.py\)]=] },
    unless = INSIDE_CONTAINER_SESSION,
    summary = "an installed package has the wrong version: {line}",
  },
  shared_library_name_empty = {
    -- The dynamic loader names no library at all ("perl: error while loading shared libraries: :
    -- cannot open shared object file"): the binary's or the system's own files are damaged (a
    -- package upgrade that broke half-way), not a library a job could add.
    kind = "unknown", priority = 79,
    patterns = { [=[error while loading shared libraries\s*:\s*:\s*cannot open shared objects? file]=] },
    summary = "the loader cannot name the library it misses (a damaged binary or system install): {line}",
  },
  shared_library_missing = {
    kind = "missing_dep", priority = 78,
    patterns = {
      [=[error while loading shared libraries\s*:\s*(?P<library>[^:\s]+)\s*:\s*cannot open shared objects? file]=],
      [=[(?P<library>[A-Za-z0-9_.+-]+\.so(?:\.[A-Za-z0-9_.]+)?): cannot open shared object file]=],
      [=[(?i)version `(?P<symbol_version>[A-Za-z0-9_.]+)' not found \(required by]=],
    },
    unless_line = {
      WARNING_LINE[1], WARNING_LINE[2], WARNING_LINE[3],
      -- Open MPI skips a plugin whose library is absent and says so: "... (ignored)".
      [=[\(ignored\)\s*$]=],
      -- TensorFlow probing for optional GPU libraries; it falls back to the CPU.
      [=[(?i)Could not (load|dlopen) (dynamic )?library]=],
      -- NCCL's informational lines: no external network plugin (libnccl-net.so) installed is
      -- its normal case; it uses its internal transport.
      [=[\bNCCL INFO\b]=],
      -- The GPU driver's own libraries (driver_library_missing, container_gpu_libraries_missing).
      [=[\blibcuda\.so(?:\.[0-9]+)*: cannot open|\blibnvidia-[A-Za-z0-9_-]+\.so\S*: cannot open]=],
      -- nvidia-container-cli (the container runtime's GPU hook) failing to load the driver's
      -- library is the container setup's (container_runtime), not a library the job lacks.
      [=[(?i)\bnvidia-container-cli\b]=],
    },
    unless = INSIDE_CONTAINER_SESSION,
    summary = "shared library {library} is missing",
  },
  driver_library_missing = {
    -- The NVIDIA driver's own libraries (libcuda.so.1, libnvidia-*.so) come with the node's
    -- driver, or into a container through the runtime's GPU support: never a package the job
    -- installs. Missing, it is a node without the driver (a CPU node, a broken install) or a
    -- container started without GPU support; with no container named, the log cannot tell which
    -- (container_gpu_libraries_missing reads the container case).
    kind = "unknown", priority = 79,
    patterns = { [=[(?P<library>libcuda\.so(?:\.[0-9]+)*|libnvidia-[A-Za-z0-9_-]+\.so(?:\.[A-Za-z0-9_.]+)?): cannot open shared object file]=] },
    unless_line = {
      WARNING_LINE[1], WARNING_LINE[2], WARNING_LINE[3],
      [=[\(ignored\)\s*$]=],
      [=[(?i)Could not (load|dlopen) (dynamic )?library]=],
      [=[(?i)\bnvidia-container-cli\b]=],
    },
    summary = "the GPU driver's library {library} is not there (no driver on this node, or a container without GPU support): {line}",
  },
  command_missing = {
    kind = "missing_dep", priority = 75,
    patterns = {
      [=[(?:^|: )(?P<command>[^\s:/'"]+): command not found]=],
      [=[^(?:/bin/|/usr/bin/)?(?:ba)?sh: line [0-9]+: (?P<command>[^\s:/]+): not found]=],
      [=[execve\(\): (?P<command>[^:\s/]+): No such file or directory]=],
      [=[No such file or directory: '(?P<command>[^'/]+)': '[^'/]+']=],
      [=[/usr/bin/env: '?(?P<command>[^':]+)'?: No such file or directory]=],
      -- bash in other locales, and the distributions' command-not-found handlers (Ubuntu's
      -- "Command 'python' not found, did you mean", openSUSE's "If 'X' is not a typo").
      [=[(?:^|: )(?P<command>[^\s:/'"]+): (?:未找到命令|Befehl nicht gefunden|commande introuvable|comando non trovato|orden no encontrada|comando não encontrado)\s*$]=],
      [=[^Command '(?P<command>[^'\s]+)' not found\b]=],
      [=[^If '(?P<command>[^'\s]+)' is not a typo you can use command-not-found\b]=],
    },
    -- The system's own utilities are no package a job loads (see system_commands_missing).
    -- A "command" that is an option, an assignment or a carriage return is a broken script line
    -- (script_line_broken), not a program the environment lacks.
    unless_line = { SYSTEM_COMMAND_MISSING, SYSTEM_COMMAND_NOT_EXECUTABLE, BROKEN_SCRIPT_LINE },
    -- Typed at a container's own prompt: the image lacks it (container_shell_command_missing).
    unless = INSIDE_CONTAINER_SESSION,
    summary = "command {command} is not available",
  },
  script_line_broken = {
    -- bash running an option (`--save-dir: command not found`: a line continuation broken by a
    -- stray space or a Windows line ending), an assignment with spaces around it, or a bare
    -- carriage return (`$'\r': command not found`, a script saved with CRLF line endings) as a
    -- command: the script's text is wrong; no package or module supplies such a command.
    kind = "user_code", priority = 30,
    patterns = { BROKEN_SCRIPT_LINE },
    summary = "the job script has a broken line (run as a command): {line}",
  },
  script_crlf_line_ends = {
    -- A script or sourced file saved with Windows (CRLF) line ends: every line bash reads ends
    -- in a carriage return, so the #! interpreter is `/bin/bash\r` (shown `/bin/bash^M`, in
    -- bash's and zsh's word orders), a path or command gets a trailing `\r`, and an empty line
    -- runs `$'\r'`. On a terminal or a pasted copy the `\r` sends the cursor back, so the
    -- message overwrites the line's start (`: No such file or directoryproject/bin/activate`).
    -- The script's text is wrong (dos2unix); no file, module or interpreter is missing. It
    -- outranks the missing paths and commands that follow from it, not a resource failure.
    kind = "user_code", priority = 82,
    patterns = {
      [=[\^M: bad interpreter\b|\bbad interpreter: \S*\^M\b|\r: bad interpreter\b|\bbad interpreter: \S*\r]=],
      [=[^: (?:No such file or directory|command not found)]=],
      [=[\r: (?:No such file or directory|command not found)]=],
      [=[(?:^|: )\$'\\r': command not found\s*$]=],
    },
    summary = "the script has Windows (CRLF) line ends, so bash misreads its lines: {line}",
  },
  posix_sh_command_missing = {
    -- dash ("sh: 1: X: not found") is the sh of Debian/Ubuntu systems and images, spawned by a
    -- program (os.system, a workflow's task script) rather than the batch shell: the host
    -- environment or an image may lack the program, and with nothing naming a container the log
    -- cannot tell which, so no dependency fix is tried.
    kind = "unknown", priority = 45,
    patterns = { POSIX_SH_NOT_FOUND },
    unless_line = { SYSTEM_COMMAND_MISSING },
    summary = "a program run through sh was not found (in the environment or an image): {line}",
  },
  system_commands_missing = {
    -- `ls`, `awk` or `mkdir` not found: the node's system install is broken, or the job's
    -- script replaced PATH. Nothing in the log tells which, and no module load helps; it
    -- outranks the symptoms that follow (a full /tmp, files the broken shell cannot make).
    kind = "unknown", priority = 89,
    patterns = { SYSTEM_COMMAND_MISSING, SYSTEM_COMMAND_NOT_EXECUTABLE },
    summary = "basic system commands are missing (the node's install or the job's PATH is broken): {line}",
  },
  script_interpreter_missing = {
    -- The interpreter a script's #! line names is absent from this node's system directories:
    -- not installed here, or the node's install is broken. Not a path the job got wrong, and
    -- the log cannot tell which of the two it is.
    kind = "unknown", priority = 60,
    patterns = {
      [=[(?P<interpreter>/(?:usr/(?:local/)?)?s?bin/[^\s:]+): bad interpreter: No such file or directory]=],
    },
    summary = "the interpreter {interpreter} named in the script's #! line is missing on this node: {line}",
  },
  subprocess_command_missing = {
    -- Python's subprocess reports a program it cannot find as a bare name: `FileNotFoundError:
    -- [Errno 2] No such file or directory: 'sbatch'`. With subprocess in the traceback it is a
    -- command; without it, a bare name may be a file as well (bare_name_not_found).
    kind = "missing_dep", priority = 75,
    patterns = { BARE_NAME_NOT_FOUND },
    requires = { [=[subprocess\.py|_execute_child|\bPopen\b|check_output|check_call]=] },
    summary = "command {command} is not available",
  },
  bare_name_not_found = {
    -- The same line with no traceback: a command or a file without extension. It contests
    -- python_path_error, so neither fix is tried on a guess.
    kind = "missing_dep", priority = 50,
    patterns = { BARE_NAME_NOT_FOUND },
    summary = "{command} was not found (a command or a file: the log cannot tell)",
  },
  environment_module_missing = {
    kind = "missing_dep", priority = 78,
    patterns = {
      [=[(?i)module\(s\) are unknown: "(?P<env_module>[^"]+)"]=],
      [=[(?i)module\(s\) or extension\(s\) exist but cannot be loaded as requested: "(?P<env_module>[^"]+)"]=],
      [=[(?i)Unable to locate a modulefile for '(?P<env_module>[^']+)']=],
      [=[(?i)Lmod has detected the following error]=],
    },
    -- Twenty-eighth round: Lmod listing "Inactive Modules:" says modules the session had loaded
    -- dropped out of the module path (the site's module tree gone from the node after an outage,
    -- or a swap in the hierarchy): the modules that are then unknown are not ones the job named
    -- wrongly or could install, and the log cannot tell the node's fault from the job's (unknown).
    unless = { [=[^\s*Inactive Modules:\s*$]=] },
    summary = "environment module {env_module} cannot be loaded",
  },
  other_package_missing = {
    kind = "missing_dep", priority = 75,
    patterns = {
      [=[there is no package called [‘'](?P<r_package>[^’']+)[’']]=],
      [=[ArgumentError: Package (?P<package>[A-Za-z0-9_]+) not found]=],
      -- Twenty-seventh round: Julia 0.6's words for the same, "ArgumentError: Module Foo not
      -- found in current path." (a build log or an old cluster install).
      [=[ArgumentError: Module (?P<package>[A-Za-z0-9_]+) not found in current path]=],
      [=[Error: Cannot find module '(?P<module>[^']+)']=],
      [=[Can't locate (?P<module>\S+)\.pm in @INC]=],
      [=[(?i)Could not find conda environment: (?P<conda_env>\S+)]=],
      [=[EnvironmentNameNotFound]=],
      -- The batch shell never ran conda's hook, so `conda activate` cannot set up the
      -- environment the job's tools live in.
      [=[Your shell has not been properly configured to use '(conda|mamba) activate']=],
      -- micromamba/mamba 2's wording of the same: the batch shell has no shell hook.
      [=[(?i)\bcritical libmamba Shell not initialized\b]=],
      [=[(?i)Could not find a version that satisfies the requirement (?P<package>\S+)]=],
      -- conda's and mamba's solver refusing the environment's specification (conda classic's
      -- UnsatisfiableError, PackagesNotFoundError and ResolvePackageNotFound, libmamba's
      -- LibMambaUnsatisfiableError): the environment the job's tools live in was never created,
      -- as pip's "No matching distribution found".
      [=[^\s*(?:conda\.exceptions\.|conda_libmamba_solver\.exceptions\.)?(?:LibMamba)?UnsatisfiableError: ]=],
      [=[^\s*(?:conda\.exceptions\.)?(?:PackagesNotFoundError|ResolvePackageNotFound): ]=],
    },
    -- Julia's standard libraries (Pkg, LinearAlgebra, Random, ...) ship with Julia: "Package
    -- Pkg not found in current path" means the load path is broken (JULIA_LOAD_PATH set in a
    -- shell profile, a damaged install), not a package the job can add.
    unless_line = {
      [=[ArgumentError: (?:Package|Module) (?:Pkg|LinearAlgebra|Random|Distributed|Test|Printf|Dates|Serialization|Sockets|REPL|InteractiveUtils|Markdown|Logging|Libdl|Base64|UUIDs|Mmap|TOML) not found\b]=],
    },
    -- pip's "Could not find a version ... (from versions: none)" after its connection retries
    -- failed: no index answered, so nothing is known about the package.
    unless = { PIP_INDEX_UNREACHABLE },
    summary = "a package is not installed: {line}",
  },

  compiled_extension_missing = {
    -- Twenty-fifth round: a package whose compiled (CUDA or C++) extension was never built or
    -- installed, in the package's own words: apex's "RuntimeError: apex.optimizers.FusedAdam
    -- requires cuda extensions" (apex installed without --cuda_ext). The extension is the
    -- missing piece of the environment, as a module that is not installed; the same words in a
    -- warning on a run that goes on are no failure.
    kind = "missing_dep", priority = 75,
    patterns = {
      [=[(?i)\brequires (?:the )?(?:cuda|c\+\+|cpp)(?: and (?:cuda|c\+\+|cpp))? extensions?\b]=],
    },
    unless_line = WARNING_LINE,
    unless = INSIDE_CONTAINER_SESSION,
    summary = "a package's compiled extension is not installed: {line}",
  },
  cuda_toolkit_missing = {
    -- Building a CUDA extension (flash-attn, apex, a package's own kernels) where the CUDA
    -- toolkit is not in the job's environment: PyTorch's cpp_extension cannot find nvcc through
    -- CUDA_HOME ("OSError: CUDA_HOME environment variable is not set. Please set it to your CUDA
    -- install root."; flash-attn's setup.py stops in `raise_if_cuda_home_none`). The toolkit
    -- (`module load cuda`, a devel image) is the missing dependency, whatever the build's other
    -- lines say about temp paths. A warning about it, on a build that goes on, is no failure.
    kind = "missing_dep", priority = 72, captures = { command = "nvcc" },
    patterns = {
      [=[\bCUDA_HOME environment variable is not set\b]=],
      [=[\braise_if_cuda_home_none\(]=],
    },
    unless_line = WARNING_LINE,
    summary = "the CUDA toolkit (nvcc, CUDA_HOME) is not in the job's environment: {line}",
  },

  ---------------------------------------------------------------- containers
  container_runtime = {
    -- The runtime's own messages: Singularity/Apptainer ("FATAL:   ...", "ERROR  : ..."), OCI
    -- runtimes, docker, enroot/pyxis, nvidia-container-cli. A program missing inside the image
    -- or a user namespace the host refuses is the container's problem, not a missing dependency
    -- or a path the job could fix.
    kind = "container", priority = 85,
    patterns = {
      [=[(?i)\b(singularity|apptainer)\b.*\b(fatal|error|failed)\b]=],
      [=[(?i)^\s*(FATAL|ERROR|ABORT)\s*:\s+.*\b(container|image|\.sif|singularity|apptainer|overlay|squashfs|bind mount)]=],
      [=[^FATAL:\s{3}\S]=],
      [=[^(ERROR|ABORT)\s{2,}:\s+\S]=],
      [=[/\.singularity\.d/]=],
      [=[(?i)could not open image (?P<image>[^:\s]+)]=],
      [=[(?i)failed to mount (the )?image]=],
      [=[(?i)container creation failed]=],
      [=[(?i)\bfailed to create user namespace]=],
      [=[(?i)\buser namespaces? (disabled|not supported|may not be enabled)]=],
      [=[(?i)\bexecutable file not found in \$PATH]=],
      -- A tool that needs a command inside the image (Snakemake's conda inside singularity).
      [=[(?i)\bnot available inside (?:your |the )?(?:[A-Za-z0-9_]+ )?container\b]=],
      -- Rootless runtimes (podman, apptainer) mapping the user namespace.
      [=[(?i)\bcannot set ?up namespace\b|\bnot enough IDs available in the namespace\b]=],
      [=[(?i)\bnew[ug]idmap\b.*\b(failed|error|denied|exit status)\b]=],
      -- Rootless podman/buildah without subordinate IDs for the user ("ERRO[0000] No subuid
      -- ranges found for user", "cannot find UID/GID for user x: open /etc/subuid").
      [=[(?i)\bno sub[ug]id ranges found for user\b|\bcannot find (?:UID/GID|mappings) for user\b]=],
      -- Singularity 2.x binding a host path into the image ("ERROR : There was an error binding
      -- the path /oak: No such file or directory"): the runtime's bind, one or two spaces
      -- before the colon.
      [=[(?i)\bThere was an error binding (?:the path )?\S+]=],
      -- srun, salloc or sbatch that does not know pyxis' options: the container plugin is not
      -- loaded for that command ("srun: unrecognized option '--container-image'").
      [=[(?i)\b(?:srun|salloc|sbatch): (?:error: )?unrecognized option '?--container-[a-z-]+]=],
      -- BuildKit cannot resolve the base image of a build ("ERROR [internal] load metadata for
      -- nvcr.io/...").
      [=[\bERROR \[internal\] load metadata for \S+]=],
      [=[(?i)\bunable to start container process\b]=],
      [=[(?i)\bpyxis\b.*\b(error|failed)\b]=],
      [=[(?i)\bspank-[A-Za-z0-9_]+: error: (pyxis|enroot)\b]=],
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
      [=[(?i)\b(failed|unable) to (find|locate|load) (the )?(requested )?image\b]=],
      -- Charliecloud, runc's init, podman, and apptainer's image drivers and extraction.
      [=[\bch-run(\[[0-9]+\])?: (error|can't|cannot)\b]=],
      [=[standard_init_linux\.go:[0-9]+: exec user process caused]=],
      [=[(?i)\bcould not get runtime\b]=],
      [=[(?i)\bimage driver\b.*\b(failure|failed|error)\b]=],
      [=[(?i)\bsquashfuse[A-Za-z0-9_]*\b.*\b(exited|failed|error)\b]=],
      [=[(?i)\broot filesystem extraction failed\b]=],
      -- Amazon ECS / AWS Batch could not pull, create or start the task's container.
      [=[\bCannot(Pull|Create|Start)ContainerError\b|\bResourceInitializationError\b]=],
    },
    -- A runtime's fatal line may quote a warning ("extract command failed: WARNING: ..."): only
    -- lines that start as warnings are vetoed here.
    unless_line = {
      WARNING_LINE[2], WARNING_LINE[3],
      [=[(?i)\bcontainer_[pg]_join\b]=],
      -- A Python warning printed by the warnings module ("/site-packages/torchvision/io/image.py:13:
      -- UserWarning: Failed to load image Python extension: ..."): a library's own notice about
      -- an optional part of itself, never a runtime's line, whatever words it contains.
      PYTHON_WARNING_LINE,
    },
    summary = "the container runtime failed: {line}",
  },
  container_gpu_libraries_missing = {
    -- Inside a container the driver's libraries come from the host through the runtime's GPU
    -- support (apptainer/singularity --nv, the NVIDIA container toolkit): nvidia-smi or CUDA not
    -- finding libnvidia-ml/libcuda there is the container's GPU setup, not a library the job
    -- should install. Outside a container the same line is the node's driver (left alone).
    kind = "container", priority = 80,
    patterns = {
      [=[(?i)\bcouldn't find libnvidia-ml\.so\b]=],
      [=[(?i)\blibnvidia-ml\.so\S*: cannot open shared object file\b]=],
      [=[\blibcuda\.so(?:\.[0-9]+)*: cannot open shared object file\b]=],
    },
    unless_line = { WARNING_LINE[1], WARNING_LINE[2], WARNING_LINE[3], [=[(?i)Could not (load|dlopen) (dynamic )?library]=] },
    requires = { CONTAINER_CONTEXT },
    summary = "the container did not get the host's GPU driver libraries: {line}",
  },
  container_command_missing = {
    -- srun with pyxis/enroot (or another runtime) looks up the command before or outside the
    -- image: "srun: fatal: Can not execute /opt/conda/bin/python", "execve(): /usr/bin/ls: No
    -- such file or directory" for a program the image has at another path. The container
    -- launch, not a file or package of the job's.
    kind = "container", priority = 86,
    patterns = {
      [=[execve\(\): \S+: No such file or directory]=],
      [=[(?i)\bsrun: fatal: Can not execute\b]=],
    },
    unless_line = { [=[/slurm_script: ]=] },
    requires = { [=[(?i)\bpyxis: import|--container-image\b|\benroot\b]=] },
    summary = "the command could not be started in the container: {line}",
  },
  container_shell_command_missing = {
    -- A command not found at a container's own prompt (`Apptainer> fastp` then `/bin/sh: 1:
    -- fastp: not found`), or dash's not-found when the log runs a container runtime: the image
    -- lacks the program, not the job's environment.
    kind = "container", priority = 86,
    patterns = { POSIX_SH_NOT_FOUND, [=[(?:^|: )(?P<command>[^\s:/'"]+): command not found]=] },
    requires = INSIDE_CONTAINER_SESSION,
    unless_line = { SYSTEM_COMMAND_MISSING },
    summary = "the container image lacks the command {command}: {line}",
  },
  container_prompt_import_failure = {
    -- Python at a container's own prompt failing to import (a module the image lacks, a library
    -- it cannot load, the host's home environment shadowing the image's): the image's Python.
    kind = "container", priority = 86,
    patterns = {
      [=[ModuleNotFoundError: No module named '(?P<module>[A-Za-z0-9_.]+)']=],
      [=[^ImportError: ]=],
      [=[(?P<library>[A-Za-z0-9_.+-]+\.so(?:\.[A-Za-z0-9_.]+)?): cannot open shared object file]=],
    },
    requires = INSIDE_CONTAINER_SESSION,
    unless_line = WARNING_LINE,
    summary = "Python inside the container image failed to import: {line}",
  },
  container_library_missing = {
    -- A program that cannot load its shared libraries in a log that runs a container (the
    -- runtime named, or a container init system's lines): the image's program with the image's
    -- libraries (or the host environment leaking into it), which no module load or package the
    -- job installs mends.
    kind = "container", priority = 91,
    patterns = {
      [=[error while loading shared libraries\s*:\s*(?P<library>[^:\s]+)\s*:\s*cannot open shared objects? file]=],
      [=[(?P<library>[A-Za-z0-9_.+-]+\.so(?:\.[A-Za-z0-9_.]+)?): cannot open shared object file]=],
    },
    unless_line = {
      WARNING_LINE[1], WARNING_LINE[2], WARNING_LINE[3],
      [=[\(ignored\)\s*$]=],
      [=[(?i)Could not (load|dlopen) (dynamic )?library]=],
      [=[\bNCCL INFO\b]=],
    },
    requires = { CONTAINER_CONTEXT },
    summary = "a program inside the container image cannot load its libraries: {line}",
  },
  musl_loader_failure = {
    -- musl's dynamic loader ("Error loading shared library X: ... (needed by P)", "Error
    -- relocating P: sym: symbol not found"): the libc of Alpine-based images. Cluster nodes run
    -- glibc, whose loader words it "error while loading shared libraries"; a musl loader failing
    -- is an image built without the libraries its programs need (or for another libc).
    kind = "container", priority = 91,
    patterns = {
      [=[^Error loading shared library (?P<library>\S+): [^(]+\(needed by (?P<program>[^)]+)\)]=],
      [=[^Error relocating (?P<program>[^:\s]+): \S+: symbol not found]=],
    },
    summary = "a program built for an Alpine (musl) image cannot load its libraries: {line}",
  },
  image_program_library_missing = {
    -- A program under the prefixes container images install to (/usr/local/bin, /opt/conda,
    -- /app, /workspace) that cannot load its libraries, with nothing naming a container: the
    -- image's program (a runtime that was not named) or the node's own install; the log cannot
    -- tell which, and neither is a package the job loads, so nothing is relaunched.
    kind = "unknown", priority = 90,
    patterns = { [=[(?:^|\s)(?P<program>/(?:usr/local/s?bin|opt/conda|app|workspace)/\S+): error while loading shared libraries: (?P<library>[^:\s]+)]=] },
    unless = { CONTAINER_CONTEXT },
    summary = "a program installed the way images install it cannot load {library} (an image's, or the node's): {line}",
  },
  container_posix_sh_command_missing = {
    kind = "container", priority = 86,
    patterns = { POSIX_SH_NOT_FOUND },
    requires = { CONTAINER_CONTEXT },
    unless_line = { SYSTEM_COMMAND_MISSING },
    summary = "the container image lacks the command {command}: {line}",
  },
  container_agent_fault = {
    -- The ECS agent lost track of a container it had started (inspecting or stopping it timed
    -- out): the platform's agent, after the job's command ran; nothing in the job to change.
    kind = "unknown", priority = 60,
    patterns = { [=[\bCannot(Inspect|Stop)ContainerError\b]=] },
    summary = "the container agent failed around a container it had started: {line}",
  },
  container_pull_transient = {
    kind = "container", priority = 86, captures = { transient = "true" },
    patterns = {
      [=[(?i)(pull|image|registry|manifest|blob).*(TLS handshake timeout|i/o timeout|connection reset by peer|toomanyrequests|503 Service Unavailable|502 Bad Gateway|request canceled|context deadline exceeded|unexpected EOF)]=],
      [=[toomanyrequests: You have reached your pull rate limit]=],
    },
    summary = "pulling the container image failed transiently: {line}",
  },
  container_shared_memory = {
    -- NCCL (or another library) cannot size a shared memory segment in /dev/shm: a container's
    -- /dev/shm is 64 MB unless it is given more (docker --shm-size, a memory-backed volume in a
    -- pod). The container's configuration, not the job's disk.
    kind = "container", priority = 85,
    patterns = NCCL_SHM_SEGMENT_FAILURE,
    -- Only inside a container: on a bare node a full /dev/shm is the node's (or another job's),
    -- and a container fix would be a wrong one.
    requires = SHM_CONTAINER_CONTEXT,
    summary = "the container's /dev/shm is too small for a shared memory segment: {line}",
  },
  container_shared_memory_bus_error = {
    -- A bus error while NCCL sets up its transport, on a host named by docker's default
    -- hostname (the container's 12-hex-digit id, in UCX's or Open MPI's signal line): NCCL's
    -- shared memory segment mapped past the end of the container's 64 MB /dev/shm. The
    -- container's configuration (--shm-size, --ipc=host), not a crash of the program's. A bus
    -- error with no NCCL in the log (a library's own bug) stays a crash.
    kind = "container", priority = 86,
    patterns = {
      [=[^\[[0-9a-f]{12}:[0-9]+ *:[0-9]+:[0-9]+\] Caught signal 7 \(Bus error]=],
      [=[^\[[0-9a-f]{12}:[0-9]+\] Signal: Bus error \(7\)]=],
    },
    requires = { [=[\bnccl[A-Z][A-Za-z]*\(|\blibnccl\.so\b|\bNCCL (?:INFO|WARN)\b]=] },
    summary = "NCCL hit a bus error in the container's /dev/shm (too small for its segments): {line}",
  },
  nccl_shared_memory_setup = {
    -- The same NCCL failures with nothing naming a container: the node's own /dev/shm (full,
    -- too small, or left over by other jobs) kept NCCL from setting up its transport. A
    -- distributed setup failure, not the job's disk; the CUDA errors that follow in the
    -- ranks are its fallout (gpu_kernel_error defers to it).
    kind = "distributed", priority = 95,
    patterns = NCCL_SHM_SEGMENT_FAILURE,
    unless = SHM_CONTAINER_CONTEXT,
    summary = "NCCL could not create its shared memory segment in /dev/shm: {line}",
  },
  container_build_space = {
    -- No room while an image is built, pulled or unpacked: the image build's cache or temp
    -- directory, not the job's quota (issue 14).
    kind = "container", priority = 90,
    patterns = {
      [=[(?i)no space left on device]=],
      [=[\[Errno 28\]|\bENOSPC\b]=],
      [=[(?i)\bwrite failed\b]=],
    },
    requires = CONTAINER_BUILD,
    summary = "building or unpacking the container image ran out of space: {line}",
  },

  ---------------------------------------------------------------- storage
  disk_full = {
    kind = "disk_quota", priority = 88,
    patterns = {
      [=[(?i)disk quota exceeded(?:: '(?P<path>[^']+)')?]=],
      [=[\[Errno 122\]]=],
      [=[\bEDQUOT\b]=],
      -- The C library's and the JVM's wording. Go programs (docker, containerd, podman,
      -- apptainer, the kubelet) print it in lower case: an image store or a runtime's own
      -- directory, which no quota fix reaches; their lines name no job file (Node.js's lower
      -- case line carries ENOSPC, read below).
      [=[No space left on device(?:: '(?P<path>[^']+)')?|NO SPACE LEFT ON DEVICE]=],
      [=[\[Errno 28\]]=],
      [=[\bENOSPC\b]=],
      [=[(?i)\b(user|group|project|block|inode|file|storage) (quota|limit) (exceeded|reached)]=],
      [=[(?i)\bquota exceeded\b]=],
      [=[(?i)not enough (free )?(disk )?space]=],
      -- The kubelet evicting a pod that used more ephemeral storage than it asked for.
      [=[(?i)\blow on resource: ephemeral-storage\b]=],
    },
    unless = CONTAINER_BUILD,
    unless_line = { WARNING_LINE[1], WARNING_LINE[2], WARNING_LINE[3], FILE_WATCH_LINE, SHARED_MEMORY_LINE },
    summary = "the disk or quota is full: {line}",
  },

  space_in_runtime_words = {
    -- ENOSPC only in lower case, the wording of Go programs (docker, containerd, podman,
    -- apptainer, the kubelet, rclone): most often an image store or a runtime's own directory,
    -- sometimes a disk the tool wrote to; the log cannot tell which, so no fix is claimed
    -- (disk_full reads the C library's wording; container_build_space reads image builds).
    kind = "unknown", priority = 20,
    patterns = { [=[\bno space left on device\b]=] },
    summary = "a program ran out of space (an image store, a runtime's directory or a disk): {line}",
  },

  ---------------------------------------------------------------- paths
  ray_node_died = {
    -- Thirtieth round: Ray reporting that the node under a task or actor died ("Task failed
    -- because the node it was running on is dead or unavailable", "The actor died because its
    -- node has died") without a death cause. Its own words list preemption, a hardware failure
    -- or a raylet crash; the log cannot tell which, so no fix is claimed. A death cause that
    -- names preemption (the preemption rule) or memory outranks this.
    kind = "unknown", priority = 50,
    patterns = {
      [=[(?i)\bTask failed because the node it was running on is dead or unavailable\b]=],
      [=[(?i)\bThe actor died because its node has died\b]=],
    },
    summary = "a Ray node died under the task (preemption, a hardware fault or a raylet crash; the log does not say which): {line}",
  },
  model_hub_unreachable = {
    -- transformers/huggingface_hub could not reach the Hub and found nothing in the local cache:
    -- a network without a route out (compute nodes often have none), a proxy or firewall, or the
    -- Hub's outage. Its "couldn't find it in the cached files" names no path the job got wrong,
    -- so no path fix is claimed (program_file_error leaves these lines alone).
    kind = "unknown", priority = 55,
    patterns = { MODEL_HUB_UNREACHABLE_LINE },
    summary = "the model hub could not be reached and the files are not cached locally (network or proxy): {line}",
  },
  file_lock_refused = {
    -- HDF5 (1.10+) locks the files it opens: another process holds the file, or the filesystem
    -- offers no locks (HDF5_USE_FILE_LOCKING=FALSE). The file exists; no path fix applies.
    kind = "unknown", priority = 55,
    patterns = { [=[(?i)\bunable to lock (the )?file\b]=] },
    summary = "a file lock was refused (a concurrent writer, or a filesystem without locks): {line}",
  },
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
      [=[(?i)(NotADirectory|IsADirectory|Permission)Error: (?P<path>.+)]=],
    },
    unless_line = { WARNING_LINE[1], WARNING_LINE[2], WARNING_LINE[3], KERNEL_INTERFACE_PATH, OPTION_AS_PATH, IO_ERROR_LINE, SYSTEM_OWNED_MISSING_PATH, TOOL_OWNED_PATH, INSTALLED_PACKAGE_PATH },
    summary = "a file or directory is missing or not accessible: {path}",
  },
  hub_repo_id_is_a_local_path = {
    -- transformers, diffusers and huggingface_hub load a model from a local folder when it exists
    -- and read the string as a Hub repo id otherwise: a model or checkpoint folder that is not
    -- where the job looks (a relative path from another working directory, a folder never
    -- downloaded) surfaces as HFValidationError refusing a filesystem path as a repo id. The
    -- value must look like a path (/, ./, ../, ~/, a drive letter); a malformed repo name is
    -- the code's (python_exception).
    kind = "path_error", priority = 50,
    patterns = {
      [=[Repo id must (be in the form|use alphanumeric)[^\n]*?: '(?P<path>(\.{1,2}/|/|~/|[A-Za-z]:[\\/])[^']*)']=],
    },
    unless_line = { WARNING_LINE[1], WARNING_LINE[2], WARNING_LINE[3] },
    summary = "a local model folder is not there, so it was read as a Hub repo id: {path}",
  },
  program_file_error = {
    -- A program's own message that it cannot open or find a file it needs (Fortran runtimes, C
    -- and C++ tools, a scheduler's chdir into the working directory).
    kind = "path_error", priority = 50,
    patterns = {
      [=[(?i)forrtl: severe \([0-9]+\): (file not found|permission to access file denied|cannot (open|stat))]=],
      [=[(?i)\b(could not|couldn't|cannot|can't|unable to|failed to) (open|read|find|load|locate|access|stat)\b[^:]{0,40}\b(input ?file|file|input|directory|dir|folder|path)s?\b]=],
      [=[(?i)\bcannot create (regular file )?[`'‘"]?[^:\s]+['’`"]?: (Permission denied|No such file or directory|Read-only file system)]=],
      -- A file the program reads or opens is a directory (EISDIR in a C++ stream's or a C
      -- tool's words: "basic_filebuf::underflow error reading the file: Is a directory"), as
      -- Python's IsADirectoryError (python_path_error): the path given names a folder.
      [=[(?i)\b(error|failed|unable|cannot|can't|could not)\b[^\n]{0,40}\b(reading|opening|open|read|load|loading)\b[^\n]{0,40}: Is a directory\b]=],
    },
    unless_line = {
      WARNING_LINE[1], WARNING_LINE[2], WARNING_LINE[3],
      [=[/slurm_script: (No such file|Permission denied)]=],
      [=[(?i)shared (libraries|object)]=],
      -- OpenFOAM's installation files (openfoam_install_files_missing), not the case's.
      [=[(?i)\bfindEtcFiles\(\)\s*:\s*could not find mandatory file\b]=],
      KERNEL_INTERFACE_PATH,
      OPTION_AS_PATH,
      IO_ERROR_LINE,
      TOOL_OWNED_PATH,
      BUILD_CACHE_TOOL_LINE,
      MODEL_HUB_UNREACHABLE_LINE,
      INSTALLED_PACKAGE_PATH,
    },
    summary = "a file or directory the program needs is missing or not accessible: {line}",
  },
  openfoam_install_files_missing = {
    -- OpenFOAM's findEtcFiles() looks for the installation's own files ($WM_PROJECT_DIR/etc,
    -- ~/.OpenFOAM): "could not find mandatory file 'controlDict'" means the installation or its
    -- environment (the bashrc or module that sets WM_PROJECT_DIR) is missing where the job runs,
    -- not an input of the case. program_file_error leaves this line alone.
    kind = "missing_dep", priority = 55,
    patterns = { [=[(?i)\bfindEtcFiles\(\)\s*:\s*could not find mandatory file\b]=] },
    summary = "the OpenFOAM installation's own files are not found (its environment is not set up): {line}",
  },
  working_directory_missing = {
    -- The scheduler or the program cannot enter the job's working directory: the job's own
    -- path wherever it lives (a node-local /tmp included), so the tool-path veto does not apply.
    kind = "path_error", priority = 50,
    patterns = {
      [=[(?i)\bcan'?t chdir to\b]=],
      [=[(?i)failed changing into working directory]=],
    },
    unless_line = { WARNING_LINE[1], WARNING_LINE[2], WARNING_LINE[3], IO_ERROR_LINE },
    summary = "the job's working directory is missing or not accessible: {line}",
  },
  shell_path_error = {
    kind = "path_error", priority = 45,
    patterns = {
      [=[(?P<path>[^\s:'"]*[/.][^\s:'"]*): No such file or directory]=],
      [=[(?i)cannot (open|create|stat|access|read|write|find)[^:]*[:]? [`'‘]?(?P<path>[^'’`\s:]+)['’`]?: (No such file or directory|Permission denied|Not a directory)]=],
      [=[(?i)\bPermission denied\b]=],
      [=[(?i)\b(file|directory|path|folder) [`'"‘]?(?P<path>[^'"’`\s]+)['"’`]? (does not exist|not found)]=],
      [=[(?i)\b(file|directory|path|folder) "(?P<path>[^"]+)" (does not exist|not found)]=],
      [=[(?i)No such file or directory]=],
      -- Thirty-sixth round: ENOENT as a localised glibc words it in a shell's or a tool's
      -- message (a job script run under LANG=zh_CN: "pwscf.in: 没有那个文件或目录"; German,
      -- French, Spanish, Russian and Japanese alike). The same message, in another language.
      [=[没有那个文件或目录|(?i)\bDatei oder Verzeichnis nicht gefunden\b|(?i)\bAucun fichier ou (?:dossier|répertoire) de ce (?:type|nom)\b|(?i)\bNo existe el (?:archivo|fichero) o (?:el )?directorio\b|Нет такого файла или каталога|そのようなファイルやディレクトリはありません]=],
    },
    unless_line = {
      WARNING_LINE[1], WARNING_LINE[2], WARNING_LINE[3],
      [=[/slurm_script: (No such file|Permission denied)]=],
      -- slurmstepd could not create the configured TMPDIR and falls back to /tmp ("Setting
      -- TMPDIR to /tmp"): a notice of the node's setup at every step start; the job runs on.
      [=[slurmstepd\S*: error: Unable to create TMPDIR \[]=],
      [=[(?i)cannot open shared objects? file]=],
      KERNEL_INTERFACE_PATH,
      OPTION_AS_PATH,
      -- Removing a file that is already gone (a cleanup race) is no input the job lacks.
      [=[(?i)\bunlink\b|\bcannot remove\b]=],
      -- `source activate ENV` in a batch script whose shell has no conda on its PATH: bash
      -- reports conda's activate script by its bare name. The environment was not activated; if
      -- that mattered, the job's own failure follows (a module or command missing), and if it
      -- did not, the job runs on. No path of the job's is wrong.
      [=[(?:^|: )(?:source: |\.: )?(?:activate|deactivate): No such file or directory\s*$]=],
      -- newuidmap writing /proc/N/uid_map is the container runtime's (container_runtime).
      [=[(?i)\bnew[ug]idmap\b]=],
      SYSTEM_OWNED_MISSING_PATH,
      -- ssh's own -v debug output probing for optional key files ("debug1: key_load_public: No
      -- such file or directory"), and its login refusals ("Permission denied (publickey)"): the
      -- remote launch's, never a file of the job's (distributed_error reads the refusal).
      [=[^debug[0-9]: ]=],
      [=[Permission denied \((publickey|password|gssapi|keyboard-interactive)]=],
      [=[(?i)^\S+: Permission denied, please try again\.?\s*$]=],
      -- A Rust tool's io::Error ("No such file or directory (os error 2)") names no path: uv,
      -- pixi and their kin print it for a program they cannot spawn, a file of their own, or
      -- their own bug. The tool rules below read what they can from the lines around it.
      [=[\(os error 2\)]=],
      TOOL_OWNED_PATH,
      BUILD_CACHE_TOOL_LINE,
      INSTALLED_PACKAGE_PATH,
    },
    summary = "a file or directory is missing or not accessible: {line}",
  },

  script_dir_is_the_spool = {
    -- A file the job looks for beside its batch script ("$(dirname "$0")/config.sh"): under
    -- sbatch, $0 is slurmd's copy in its spool folder for the job (".../slurmd/job01762/"), so
    -- the path is the job's own, built wrong; the spool veto above does not apply to it.
    kind = "path_error", priority = 46,
    patterns = {
      [=[(?P<path>/[^\s:'"`]*(?:spool|slurmd)[^\s:'"`]*/job[0-9]+/[^\s:'"`/]+)['’"`]?: No such file or directory]=],
    },
    unless_line = { [=[/job[0-9]+/slurm_script['’"`]?: No such]=], WARNING_LINE[1], WARNING_LINE[2], WARNING_LINE[3] },
    summary = "the job looked for {path} beside its batch script, but sbatch runs a copy of the script from slurmd's spool folder: use $SLURM_SUBMIT_DIR or an absolute path",
  },

  program_cannot_open_input = {
    -- A program's own message that it cannot open an input it was given, in the wording of
    -- Fortran and C codes ("program wrf: error opening wrfinput_d01 for reading", "Could not
    -- open file 'x.dat' for reading"): the input is not where the job runs.
    kind = "path_error", priority = 45,
    patterns = {
      [=[(?i)\b(?:error|failed|unable to|could not|cannot|can't) (?:opening|open|to open) (?:input )?(?:file )?['"`]?(?P<path>[A-Za-z0-9_./~-]+)['"`]? for (?:reading|input)\b]=],
      -- A program's own fatal input error naming the file it cannot open (STAR: "EXITING because
      -- of INPUT ERROR: could not open genomeFastaFile: ref/hg38.fa").
      [=[(?i)\b(?:input|fatal) error\b[^:]*: (?:could not|cannot|unable to) open (?:[A-Za-z0-9_]+ )?[A-Za-z0-9_]*file:? ['"`]?(?P<path>[A-Za-z0-9_./~-]+)]=],
    },
    unless_line = { WARNING_LINE[1], WARNING_LINE[2], WARNING_LINE[3], TOOL_OWNED_PATH, BUILD_CACHE_TOOL_LINE, INSTALLED_PACKAGE_PATH },
    summary = "the program cannot open its input {path}: {line}",
  },

  network_unreachable = {
    -- An HTTP client that cannot reach a host (a hub, a mirror, a license server): read or
    -- connect timeouts and retries exhausted. The job's time limit is not involved and no edit
    -- to the job mends the network: a cause for a person, not a relaunch.
    kind = "unknown", priority = 9,
    patterns = {
      [=[HTTPS?ConnectionPool\(host='[^']+', port=[0-9]+\): (?:Read timed out|Max retries exceeded)]=],
      [=[\bConnectTimeoutError\(]=],
      PIP_INDEX_UNREACHABLE,
    },
    summary = "a host could not be reached over the network: {line}",
  },

  stale_build_lock = {
    -- PyTorch's extension loader waiting on a lock left by an interrupted build: the job hangs
    -- on the tool's cache, not on anything the job provides.
    kind = "unknown", priority = 30,
    patterns = { [=[(?i)\bLock file exists in build directory\b]=] },
    summary = "a stale build lock in the extension cache blocks the job: {line}",
  },
  package_build_failed = {
    -- pip building a package from source failed (its setup script, its wheel): a file or
    -- directory that build misses is the package's, not the job's.
    kind = "unknown", priority = 55,
    patterns = {
      [=[Command "python setup\.py egg_info" failed]=],
      [=[(?i)\berror: subprocess-exited-with-error\b]=],
      [=[(?i)\bFailed building wheel for\b]=],
      [=[(?i)\bERROR: Failed to build installable wheels\b]=],
    },
    summary = "building a Python package failed: {line}",
  },
  launcher_script_missing = {
    -- uv (and the like) asked to run a script that is not there: "error: Failed to spawn:
    -- `test.py`" for a name with a directory or a script extension.
    kind = "path_error", priority = 50,
    patterns = { [=[(?i)\bFailed to spawn: `(?P<path>[^`]*(?:/|\.(?:py|sh|bash|R|jl|pl|rb))[^`]*)`]=] },
    summary = "the script to run does not exist: {path}",
  },
  launcher_program_not_found = {
    -- uv's newer wording for a program the project's environment does not provide:
    -- "error: Failed to spawn: `uvicorn`" then "Caused by: program not found".
    kind = "missing_dep", priority = 75,
    patterns = { [=[(?i)^\s*Caused by: program not found\s*$]=] },
    requires = { [=[(?i)\bFailed to spawn: `]=] },
    summary = "the program to run is not installed in the environment: {line}",
  },
  launcher_spawn_failed = {
    -- A launcher (uv run, pixi run) that could not start a bare program name with ENOENT: the
    -- program missing from the environment, an interpreter or loader it needs, or the tool's
    -- own bug. Which one, the log does not say.
    kind = "unknown", priority = 40,
    patterns = {
      [=[(?i)\bFailed to spawn: `[^`/]+`]=],
      [=[(?i)\bError launching '[^']+': No such file or directory\b]=],
    },
    summary = "the launcher could not start the program (missing, or its interpreter or loader): {line}",
  },

  ---------------------------------------------------------------- submission
  submit_refused = {
    kind = "submit_error", priority = 82,
    patterns = {
      [=[sbatch: error: (?P<reason>.+)]=],
      [=[(?i)Batch job submission failed: (?P<reason>.+)]=],
      [=[(srun|salloc): error: (Unable to allocate resources|Invalid|Requested node configuration)(?P<reason>.*)]=],
      [=[(?i)qsub: (ERROR|Job rejected|Unknown queue|Illegal attribute)(?P<reason>.*)]=],
      -- Torque/PBS: "qsub: submit error (Bad UID for job execution MSG=...)", "(Unknown queue
      -- MSG=...)"; a submit host without credentials: "qsub: Invalid credential".
      [=[(?i)qsub: submit error\b\s*(?P<reason>.*)]=],
      [=[(?i)\bqsub: Invalid credential\b]=],
      -- SGE through DRMAA: "DeniedByDrmException: code 17: Job was rejected because ...".
      [=[(?i)\bDeniedByDrmException\b|\bJob was rejected because\b]=],
      -- SLURM's refusal of an account the user may not charge, from sbatch, srun, salloc or
      -- slurmctld's own log (`_slurm_rpc_submit_batch_job: Invalid account ...`).
      [=[(?i)\bInvalid account or account/partition combination specified\b]=],
      [=[(?i)qsub: (?P<reason>.*\b(exceeds?|rejected|not allowed|cannot satisfy)\b.*)]=],
      [=[(?i)Job violates accounting/QOS policy]=],
      [=[(?i)ERROR: Command: '\S*\b(qsub|sbatch|bsub|dsub|msub|condor_submit)\b]=],
      -- LSF's bsub refusals all end "Job not submitted." (no such queue, a resource request
      -- outside the queue's limits, a bad option, an esub that aborts); the terminal wraps the
      -- long ones, leaving "not submitted." alone on a line.
      [=[(?i)\bJob not submitted\b]=],
      [=[(?i)^\s*not submitted\.\s*$]=],
      [=[(?i)\bRequest aborted by esub\b]=],
      -- A workflow or job-runner layer (Galaxy's Pulsar, DRMAA runners) reporting that the
      -- submission itself failed ("Failed to submit job, error was: ..."): whatever follows is
      -- the submit command's own failure (a qsub wrapper that cannot load its perl module), not
      -- the job's, which never ran.
      [=[(?i)\bFailed to submit job, error was\b]=],
      -- A workflow tool reporting that its submission command failed.
      [=[(?i)\bCommand '\[?'?(bsub|sbatch|qsub|condor_submit)\b.*\breturned non-zero exit status\b]=],
      [=[\bBsubInvocationError\b]=],
      -- A pilot or workflow layer (RADICAL-SAGA) that found no job id in sbatch's output: the
      -- submission did not happen.
      [=[(?i)\bcouldn'?t get job id from submitted job\b]=],
      -- srun refusing a job step whose request the controller cannot accept (`Unable to create
      -- step for job N: Invalid generic resource (gres) specification`, `Requested node
      -- configuration is not available`): the step never ran. A step that waits for memory or
      -- nodes ("Memory required by task is not available") is not a refusal of the request.
      [=[(?i)\bsrun: error: Unable to create step for job \S+: (?P<reason>(Invalid .*specification|Requested node configuration is not available|.*\bviolates accounting/QOS policy)\b.*)]=],
      -- A site's submit filter (Torque's qsub, a submit wrapper) that rejects the job:
      -- "qsub: submit filter returned an error code, aborting job submission."
      [=[(?i)\bsubmit filter returned an error code\b|\baborting job submission\b]=],
      -- Torque/PBS's qsub that cannot reach its server or its local trqauthd ("qsub: cannot
      -- connect to server (null) (errno=15137) could not connect to trqauthd", "qsub: cannot
      -- connect to server host (errno=1) Operation not permitted"): the job was never queued.
      -- qstat's same words are no submission, so only qsub's.
      [=[(?i)\bqsub: (?P<reason>cannot connect to server\b.*)]=],
      -- A SLURM client on a host that cannot reach the cluster's configuration (configless
      -- DNS SRV lookup, no slurm.conf): nothing can be submitted from there.
      [=[(?i)\b(sbatch|srun|salloc|sinfo|squeue|scontrol|sacct): (error|fatal): (?P<reason>.*\b(Could not establish a configuration source|DNS SRV lookup failed)\b.*)]=],
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
      [=[\bPREEMPTED\b]=],
      [=[(?i)\breason[=: ]+preempt]=],
      -- Cloud capacity reclaimed under the job: AWS Batch's "Host EC2 (instance i-...)
      -- terminated", a spot instance's interruption notice.
      [=[(?i)\bHost EC2\b.*\bterminated\b]=],
      -- PBS Pro's tracejob: "Job Rerun at request of Scheduler" then "preempting job".
      [=[(?i)\bpreempting (the )?job\b]=],
      [=[(?i)\bspot (instance )?interruption\b|\bInstance is going to be interrupted\b]=],
      -- LSF's termination reason for a job killed to make room for another (IBM's table of
      -- TERM_* reasons).
      [=[\bTERM_PREEMPT\b]=],
      -- Thirty-ninth round: Google's pipelines API (Cromwell's "PAPI error code 14", "Execution
      -- failed: worker was terminated"): error 14 is the VM taken away under the task, which
      -- Cromwell and Nextflow retry as a preemption.
      [=[\bPAPI error code 14\b]=],
      [=[(?i)\bExecution failed: worker was terminated\b]=],
      -- Thirtieth round: the machine under the job, not the job, named as preempted (Ray's death
      -- cause for an actor, "the actor's node was preempted: ..."; a node or instance that
      -- "was preempted").
      [=[(?i)\b(node|instance|vm|host|machine)('s)? (has been |was |got )?preempted\b]=],
    },
    unless = { [=[(?i)\bnode fail]=] },
    unless_line = {
      [=[(?i)\b(not|never|no|without|non)[- ]preempt]=],
      -- Thirtieth round: a message listing preemption among possible causes ("This can happen if
      -- the node was preempted, had a hardware failure, or its raylet crashed") says nothing
      -- about which one happened.
      [=[(?i)\b(can|could|may|might) (happen|occur)\b.*\bpreempt|\bif the (node|instance|vm|host|machine) (was|is|has been) preempted\b]=],
    },
    summary = "the job was preempted: {line}",
  },
  cloud_vm_reclaimed = {
    -- A spot or preemptible cloud VM reclaimed under the job: Compute Engine sends an ACPI
    -- soft-off, which systemd-logind logs as "Power key pressed", while the worker watches the
    -- metadata server for its termination time. Without that spot context a power-off is no
    -- preemption.
    kind = "preempted", priority = 86,
    patterns = { [=[(?i)\bPower key pressed\b|\bACPI G2 Soft Off\b]=] },
    requires = { [=[(?i)\btermination[- ]time\b|\bpreempt(ed|ible|ion)\b|\bspot (vm|instance)\b]=] },
    summary = "the cloud VM was reclaimed under the job (spot/preemptible shutdown): {line}",
  },
  node_failure = {
    kind = "node_fail", priority = 89,
    patterns = {
      [=[ON (?P<node>\S+) CANCELLED AT \S+ DUE TO NODE FAILURE]=],
      [=[DUE TO NODE FAILURE]=],
      [=[(?i)\bnode fail(ure|ed)?\b]=],
      [=[\bNODE_FAIL\b]=],
      -- A scheduler reason naming a node failure, e.g. CycleCloud's `cyclecloud_node_fail`.
      [=[(?i)[a-z]_node_fail\b]=],
      [=[(?i)could not connect to MOM]=],
      [=[(?i)lost connection to (the )?node]=],
      [=[(?i)\bnode (?P<node>[A-Za-z0-9_.-]+) (is )?(not responding|down)\b]=],
    },
    summary = "a compute node failed: {line}",
  },
  node_setup_fault = {
    -- The node could not start the job: slurmd cannot find or run the job's own batch script in
    -- its spool directory, the job container or prolog fails. Nothing in the job is wrong, and
    -- the same job runs on a healthy node.
    kind = "node_fail", priority = 89,
    patterns = {
      [=[execve\(\): \S*/slurm_script: (No such file or directory|Permission denied)]=],
      [=[(?i)\bcontainer_[pg]_join\b.*\bfailed\b]=],
      [=[(?i)\bJob prolog failed\b|\bprolog error\b]=],
      -- The site's prolog hanging or failing on the node (slurmstepd, salloc's wording).
      [=[(?i)\bProlog (hung|failure) on node\b]=],
      -- slurmctld taking nodes out because the site's node health check failed.
      [=[(?i)\breason set to: Scheduler health check failed\b]=],
      [=[(?i)Task launch for \S+ failed on node (?P<node>\S+)]=],
      [=[(?i)\blaunch failed requeued held\b]=],
    },
    summary = "the node could not start the job: {line}",
  },
  node_failure_requeue = {
    -- slurmctld requeueing a job because the node it was given failed (a cloud node that never
    -- came up, a node that went down under it): the node's, and the job runs again elsewhere.
    kind = "node_fail", priority = 88,
    patterns = { [=[\brequeue job JobId=[0-9]+ due to failure of node (?P<node>\S+)]=] },
    summary = "the job's node failed and the scheduler requeued it: {line}",
  },
  node_software_fault = {
    -- The node's own software install is broken or missing, which no module load in the job can
    -- mend: a system program (slurmd, the system compiler, /usr/bin tools) that cannot load its
    -- shared libraries, or the module system the job's exported environment points at (Lmod's
    -- or Environment Modules' own command) absent from the node. Other nodes run the same job.
    kind = "node_fail", priority = 89,
    patterns = {
      [=[(?:^|\s)(?P<program>(?:/usr(?:/local)?/(?:s?bin|libexec)|/s?bin)/\S+): error while loading shared libraries: (?P<library>[^:\s]+)]=],
      [=[(?P<missing_path>\S*/lmod/libexec/lmod): No such file or directory]=],
      [=[(?P<missing_path>\S*/modulecmd(?:\.tcl)?): No such file or directory]=],
      -- Environment Modules is Tcl: its own script gone from the node reads "couldn't read file
      -- ".../libexec/modulecmd.tcl": no such file or directory" (quoted, lower case).
      [=[(?i)couldn't read file "(?P<missing_path>[^"]*/(?:modulecmd(?:\.tcl)?|lmod/libexec/lmod))": no such file or directory]=],
      -- The node's NVIDIA kernel driver never bound its GPUs (another driver holds them).
      [=[(?i)\bNVRM: (No NVIDIA graphics adapter probed|The NVIDIA probe routine was not called)]=],
      -- The node's local filesystem hit an I/O error and the kernel remounted it read-only.
      [=[(?i)\bRemounting filesystem read-only\b|\bEXT4-fs error\b.*\baborted journal\b]=],
      -- The node cannot resolve the job owner's user or group (its passwd/LDAP/sssd service).
      [=[(?i)\bcannot find name for (user|group) ID [0-9]+]=],
      -- The kernel's system-wide file table is full (ENFILE, "in system"), unlike a process's
      -- own descriptor limit ("Too many open files").
      [=[(?i)\bToo many open files in system\b]=],
      -- CUDA's cudaErrorSystemNotReady (802): an NVSwitch node whose fabric manager is not
      -- running; the same job runs once the node's service is up.
      [=[(?i)\b(error|failure) 802\b.*\bsystem not yet initialized\b]=],
    },
    unless_line = { [=[\(ignored\)\s*$]=] },
    summary = "the node's own software is missing or broken: {line}",
  },
  toolchain_install_fault = {
    -- A compiler's internal program (gcc's cc1, cc1plus, collect2 under .../libexec/gcc/...)
    -- that cannot load its libraries: the toolchain's installation, which no package the job
    -- loads mends, when the toolchain is the site's (/opt, /usr, /apps). A compiler in the
    -- user's own environment (conda, a home directory) stays a missing dependency.
    kind = "node_fail", priority = 89,
    patterns = { [=[(?:^|\s)(?P<program>/\S*/libexec/\S+): error while loading shared libraries: (?P<library>[^:\s]+)]=] },
    unless_line = { [=[(?i)(?:^|[\s/])(?:home|Users|scratch|work)/|(?:mini|ana)conda|/envs/|/\.conda/|mamba|/\.local/]=] },
    summary = "the site's compiler installation cannot load its libraries: {line}",
  },
  interconnect_port_fault = {
    -- The node's InfiniBand/RoCE port reports errors or goes down under the job (a flapping
    -- link, a bad cable): NCCL or MPI only relays it. Ranked above distributed_error.
    kind = "node_fail", priority = 84,
    patterns = {
      [=[(?i)NET/IB ?: Got async event ?: port (error|down)]=],
      [=[(?i)\bIBV_EVENT_PORT_ERR\b]=],
    },
    summary = "the node's interconnect port failed: {line}",
  },
  node_disk_pressure = {
    -- A pod evicted or refused because its node "had condition: [DiskPressure]": the node's
    -- disk (images, other pods, logs), not a quota of the job's. A pod that itself used more
    -- than it asked for is named differently ("low on resource: ephemeral-storage").
    kind = "node_fail", priority = 70,
    patterns = { [=[(?i)\bThe node had condition: \[DiskPressure\]]=] },
    summary = "the node's disk was under pressure and the pod was evicted: {line}",
  },
  storage_io_error = {
    -- A file the job or the system reads returns EIO: "cannot read file data: Input/output
    -- error" for a shared library or the module system's own, "error reading 'x': Input/output
    -- error", Python's "[Errno 5] Input/output error: '<path>'". The storage under the node
    -- failed (a disk, a Lustre/GPFS/NFS server, a device). An EIO with no file named (a
    -- program writing to a terminal that went away) is left to the other rules.
    kind = "node_fail", priority = 70,
    patterns = {
      [=[(?i)\bcannot read file data: Input/output error\b]=],
      [=[(?i)\berror (reading|writing) [`'‘"]?[^:]+['’`"]?: Input/output error\b]=],
      [=[(?i)\[Errno 5\] Input/output error: ['"]/]=],
    },
    summary = "the storage under the job returned I/O errors: {line}",
  },
  shared_filesystem_fault = {
    -- A network filesystem went away under the job on its node.
    kind = "node_fail", priority = 70,
    patterns = {
      [=[(?i)\bStale (NFS )?file handle\b]=],
      [=[(?i)\bTransport endpoint is not connected\b]=],
    },
    summary = "a shared filesystem failed on the node: {line}",
  },
  cancelled_by_someone = {
    kind = "cancelled", priority = 65,
    patterns = {
      [=[\*\*\* JOB \S+ ON (?P<node>\S+) CANCELLED AT \S+ \*\*\*]=],
      [=[\*\*\* JOB \S+ CANCELLED AT \S+ \*\*\*(\s+on (?P<node>\S+))?\s*$]=],
      -- A workflow manager stopped by its user (Snakemake's Ctrl-C), and scancel's own errors
      -- while cancelling jobs.
      [=[(?i)Terminating processes on user request]=],
      [=[^scancel: error: Kill job error on job id]=],
      [=[(?i)\bcancel+ed by (user|admin|root|[0-9]+)\b]=],
      [=[(?i)Job deleted at request of (?P<by>\S+)]=],
      [=[^KeyboardInterrupt\s*$]=],
    },
    summary = "the job was cancelled: {line}",
  },

  lsf_killed_by_someone = {
    -- LSF's termination reasons for bkill (IBM's TERM_* table): by the job's owner or by root
    -- or an LSF administrator. LSF signals SIGINT, then SIGTERM, then SIGKILL, so the program's
    -- KeyboardInterrupt or "Terminated" above the report is the fallout.
    kind = "cancelled", priority = 66,
    patterns = { [=[\bTERM_(FORCE_)?(OWNER|ADMIN)\b]=] },
    summary = "the job was killed through LSF: {line}",
  },
  accounting_step_signalled = {
    -- sacct's row of a job or step CANCELLED with exit "0:N" (ended by signal N) and no "by
    -- <uid>": something signalled it, and the accounting does not say who (a time-limit
    -- warning signal, a workflow tool, a crashed launcher). No failure kind can be claimed.
    kind = "unknown", priority = 10,
    patterns = { [=[(?:\||\s)CANCELLED\s*\|?\s*0:[1-9][0-9]*\s*\|?\s*$]=] },
    summary = "the scheduler's accounting shows a step cancelled by a signal, not by whom: {line}",
  },

  step_cancelled = {
    -- srun cancels a step whose task failed: then the task's failure is the story, not the
    -- cancellation. A step cancelled with no failed task was cancelled (a closed session, say).
    kind = "cancelled", priority = 40,
    patterns = { [=[\*\*\* STEP \S+ ON (?P<node>\S+) CANCELLED AT \S+ \*\*\*]=] },
    unless = {
      [=[(?i)srun: error: \S+: tasks? [0-9,-]+: (Exited with exit code [1-9]|Killed|Segmentation fault|Out Of Memory|Aborted|Bus error)]=],
      [=[MPI_ABORT was invoked]=],
    },
    summary = "the job step was cancelled: {line}",
  },

  ---------------------------------------------------------------- native crashes
  native_crash = {
    kind = "segfault", priority = 50,
    patterns = {
      [=[(?i)\bSegmentation fault\b]=],
      [=[\bSIGSEGV\b]=],
      [=[(?i)\bBus error\b]=],
      [=[\bSIGBUS\b]=],
      [=[Signal: (Segmentation fault|Aborted|Bus error|Illegal instruction|Floating point exception) \([0-9]+\)]=],
      [=[(?i)\bAborted\b.*\(core dumped\)|\bAborted \(signal 6\)]=],
      [=[(?i)\b(double free or corruption|free\(\): invalid|malloc\(\): |stack smashing detected|corrupted size vs)]=],
      [=[(?i)\bIllegal instruction\b|\bSIGILL\b|Floating point exception|\bSIGFPE\b]=],
      -- zsh's wording of the same signals: "illegal hardware instruction (core dumped)".
      [=[(?i)\billegal hardware instruction\b]=],
      [=[Fatal Python error: (Segmentation fault|Aborted|Bus error)]=],
      -- The same signals as the shell and the C library print them under another locale
      -- (strsignal's translations, with or without "core dumped"): Chinese "段错误 (核心已转储)",
      -- Russian "Ошибка сегментирования", Spanish "Violación de segmento", German
      -- "Speicherzugriffsfehler", French "Erreur de segmentation", Portuguese "Falha de
      -- segmentação", Japanese "セグメンテーション違反", Korean "세그멘테이션 오류"; bus error and
      -- illegal instruction likewise; an abort counts, as the English rule's, only with its
      -- core dump ("已放弃 (核心已转储)", "Abgebrochen (Speicherabzug geschrieben)").
      [=[段错误|总线错误|非法指令|(?i:Ошибка сегментирования|Violación de segmento|Speicherzugriffsfehler|Erreur de segmentation|Falha de segmentação|Violazione di segmentazione)|セグメンテーション違反|세그멘테이션 오류]=],
      [=[(已放弃|已中止|Аварийный останов|Abgebrochen|Abortado|Abandon|中止|Annullato)\s*[(（](核心已转储|стек памяти сброшен на диск|образ памяти сброшен на диск|Speicherabzug geschrieben|`core' generado|core dumped|imagem do núcleo gravada|コアダンプ|core dump creato)[)）]]=],
      -- The kernel's own line for a process it stopped with SIGSEGV (dmesg, journal): "prog[pid]:
      -- segfault at 7fff... ip 0000... sp 0000... error 6 in prog[...]".
      [=[\bsegfault at [0-9a-f]+ ip [0-9a-f]+ sp [0-9a-f]+ error [0-9]+]=],
      -- R's own signal handler's banner (Rscript and R alike), often with no shell line after
      -- it: "*** caught segfault ***", "*** caught bus error ***", "*** caught illegal
      -- operation ***", then "address 0x18, cause 'memory not mapped'".
      [=[^\s*\*\*\* caught (segfault|bus error|illegal operation) \*\*\*\s*$]=],
    },
    -- Ray's message for a dead worker lists SIGSEGV among its guesses ("There are some
    -- potential root causes. (1) ... OOM killer ... (3) ... SIGSEGV ..."): no crash was seen.
    unless_line = { [=[(?i)\bThere are some potential root causes\b]=] },
    summary = "the program crashed: {line}",
  },
  ray_worker_died = {
    -- Ray's "A worker died or was killed while executing a task by an unexpected system error"
    -- (or "The actor is dead because its worker process has died") names three possible
    -- causes, the OOM killer, `ray stop --force` and a crash, and does not say which. Ray's own
    -- memory monitor says so when it kills a worker; this line alone is no OOM and no crash.
    kind = "unknown", priority = 45,
    patterns = {
      [=[(?i)\bA worker died or was killed while executing a task by an unexpected system error\b]=],
      [=[(?i)\bThe actor is dead because its worker process has died\b]=],
    },
    summary = "a Ray worker died and Ray does not say why (it lists OOM, a forced stop or a crash as possibilities): {line}",
  },
  crash_exit_code = {
    kind = "segfault", priority = 30, exit_codes = { "139", ":11", "135", ":7" },
    summary = "the program crashed (exit {exit_code})",
  },

  ---------------------------------------------------------------- the user's own code
  gpu_hardware_fault = {
    -- The GPU itself failed: an uncorrectable ECC error, a GPU that fell off the bus or is lost.
    -- No change to the job mends it; the node needs a reset or repair (Xid 48, 79, 94, 95).
    kind = "node_fail", priority = 95,
    patterns = {
      [=[(?i)\buncorrectable ECC error\b]=],
      [=[CUDA_ERROR_ECC_UNCORRECTABLE|cudaErrorECCUncorrectable]=],
      [=[(?i)\bfallen off the bus\b]=],
      [=[(?i)\bNVRM: Xid \(\S+\): (48|79|94|95)\b]=],
      [=[ERROR_GPU_IS_LOST|(?i)\bGPU is lost\b]=],
      -- Thirtieth round: nvidia-smi cannot reach a GPU the driver knows ("Unable to determine
      -- the device handle for GPU 0000:4F:00.0: Unknown Error"): the GPU is in a bad state until
      -- the node is reset. (NVML that cannot initialise at all, "Failed to initialize NVML", is
      -- another matter, often a container's setup, and is not read here.)
      [=[(?i)\bUnable to determine the device handle for GPU\b]=],
    },
    summary = "the node's GPU failed (hardware): {line}",
  },
  cuda_unknown_error = {
    -- CUDA error 999, "unknown error": the driver or the GPU is in a bad state (a reset, a
    -- driver fault). NCCL or a framework only reports it; it is neither their fault nor the
    -- program's, and the log cannot tell node from driver.
    kind = "unknown", priority = 85,
    patterns = {
      [=[(?i)\bCuda failure 999\b]=],
      [=[cudaErrorUnknown|CUDA_ERROR_UNKNOWN]=],
      [=[(?i)\bCUDA error: unknown error\b]=],
    },
    summary = "the CUDA driver reported an unknown error (a GPU or driver fault): {line}",
  },
  gpu_driver_too_old = {
    -- Twenty-sixth round: the node's NVIDIA driver is older than the CUDA runtime the program was
    -- built for ("The NVIDIA driver on your system is too old (found version 11000)", also as
    -- torch's warning at CUDA initialisation, after which the run cannot use the GPU;
    -- cudaErrorInsufficientDriver, "CUDA driver version is insufficient for CUDA runtime
    -- version"). Updating the driver, or a build for the driver there, is for whoever runs the
    -- machine: no relaunch of the job fixes it, so it names no fixable kind.
    kind = "unknown", priority = 25,
    patterns = {
      [=[(?i)\bThe NVIDIA driver on your system is too old\b]=],
      [=[cudaErrorInsufficientDriver|CUDA_ERROR_INSUFFICIENT_DRIVER]=],
      [=[(?i)\bCUDA driver version is insufficient for CUDA runtime version\b]=],
    },
    summary = "the node's NVIDIA driver is older than the CUDA runtime the program needs: {line}",
  },
  cuda_toolchain_too_old = {
    -- Thirty-eighth round (dev 7805, 7806): the CUDA assembler or compiler on the machine is
    -- older than the code it is given or the GPU it targets (ptxas's "fatal : Unsupported
    -- .version 8.4; current version is '7.8'", "Value 'sm_121a' is not defined for option
    -- 'gpu-name'", nvcc's "Unsupported gpu architecture 'compute_90'"). A newer CUDA toolkit, or
    -- pointing the program at one, is the fix: a failure, but no package or relaunch a fixer
    -- could apply, as the driver's (gpu_driver_too_old).
    kind = "unknown", priority = 25,
    patterns = {
      [=[(?i)\bptxas\b.*\bfatal\s*:\s*Unsupported \.version [0-9]+\.[0-9]+; current version is\b]=],
      [=[(?i)\bptxas fatal\s*:\s*Value 'sm_[0-9]+[a-z]?' is not defined for option 'gpu-name']=],
      [=[(?i)\bnvcc fatal\s*:\s*Unsupported gpu architecture 'compute_[0-9]+[a-z]?']=],
    },
    summary = "the machine's CUDA toolchain (ptxas, nvcc) is older than the code or GPU it is given: {line}",
  },
  gpu_unavailable = {
    -- The job cannot get a GPU: another process holds it (exclusive mode), the node's GPUs or
    -- driver are broken, or the job asked for none. The log alone cannot tell which; it is not
    -- the program's bug, so it outranks the exception it raises.
    kind = "unknown", priority = 30,
    patterns = {
      [=[(?i)\bCUDA-capable devices? (\(s\) )?(are|is/are|is) busy or unavailable\b]=],
      [=[(?i)\bno CUDA-capable device is detected\b|\bNo CUDA GPUs are available\b]=],
      [=[cudaErrorDevicesUnavailable|cudaErrorNoDevice|CUDA_ERROR_NO_DEVICE]=],
    },
    summary = "the job could not use a GPU (held by another process, a node fault, or none requested): {line}",
  },
  gpu_kernel_error = {
    -- A GPU kernel that reads out of bounds or trips an assert is a bug in the program (or its
    -- data), however it surfaces: a segfault-looking abort, or the NCCL watchdog reporting it.
    kind = "user_code", priority = 106,
    patterns = {
      [=[(?i)\ban illegal memory access was encountered\b]=],
      [=[(?i)\bdevice-side assert(ion)?s? triggered\b]=],
      [=[cudaErrorIllegalAddress|CUDA_ERROR_ILLEGAL_ADDRESS|cudaErrorAssert|CUDA_ERROR_ASSERT]=],
      -- The kernel's own assertion, one line per failing thread: `...cu:92: operator(): block:
      -- [492,0,0], thread: [127,0,0] Assertion `index >= ...` failed.`
      [=[\bblock: \[[0-9]+,[0-9]+,[0-9]+\], thread: \[[0-9]+,[0-9]+,[0-9]+\] Assertion .* failed]=],
    },
    -- After NCCL failed to set up its shared memory the ranks' CUDA errors are fallout
    -- (nccl_shared_memory_setup, container_shared_memory).
    unless = NCCL_SHM_SEGMENT_FAILURE,
    summary = "a GPU kernel failed in the program: {line}",
  },
  native_assertion_failed = {
    -- A C/C++ program's own assert() (glibc: `prog: file.c:8: main: Assertion `n > 0' failed.`;
    -- musl: `Assertion failed: n > 0 (file.c: main: 8)`): a check in the program failed. The
    -- abort that follows ("Aborted (core dumped)", exit 6 or 134) is its fallout, not a crash of
    -- unknown cause.
    kind = "user_code", priority = 55,
    patterns = {
      [=[^\S+: \S+:[0-9]+: .*\bAssertion [`'‘].*['’] failed\.\s*$]=],
      [=[^Assertion failed: .+ \(\S+: \S+: [0-9]+\)\s*$]=],
    },
    summary = "an assertion in the program failed: {line}",
  },
  python_exception = {
    -- The traceback's last exception is the cause; earlier ones were handled or chained.
    kind = "user_code", priority = 20, last_match = true,
    patterns = {
      [=[^\s*(?:\[rank[0-9]+\]:\s*)?(?:[A-Za-z_][A-Za-z0-9_]*\.)*(?P<exception>[A-Z][A-Za-z0-9_]*(?:Error|Exception))(?::\s*(?P<message>.*)|$)]=],
      [=[^Traceback \(most recent call last\):]=],
      -- Python's base class raised as is: "Exception: process 3 terminated with signal ...".
      [=[^\s*(?P<exception>Exception): (?P<message>.*)]=],
      -- A notebook's traceback header, often all that is left of it: `KeyError    Traceback (...)`.
      [=[^(?P<exception>[A-Z][A-Za-z0-9_]*(?:Error|Exception|Exit|Interrupt))\s{2,}Traceback \(most recent call last\)]=],
    },
    summary = "the program raised {exception}: {message}",
  },
  other_exception = {
    kind = "user_code", priority = 22,
    patterns = {
      [=[Exception in thread "\S+" (?P<exception>[A-Za-z0-9_.$]+)]=],
      [=[^Error in (?P<where>.+) :\s*$]=],
      [=[^ERROR: LoadError:]=],
      [=[thread '\S+' panicked at]=],
      -- Go's panic and the goroutine dump it prints, often all that is pasted of it ("panic:
      -- runtime error: index out of range", "goroutine 1 [running]:"): the program's own bug,
      -- as a Rust panic. Go's "fatal error: runtime: out of memory" is the OOM rules', and a
      -- container runtime's own failure is the container rules' (both outrank this one).
      [=[^panic: (?P<exception>.+)]=],
      [=[^goroutine [0-9]+ \[running\]:\s*$]=],
      [=[terminate called after throwing an instance of '(?P<exception>[^']+)']=],
      -- R's error on one line or indented by a workflow tool ("Error in f(x) : object 'y' not
      -- found", "  Error in paste0(...) : "), and its own lookup and parse errors ("Error: object
      -- 'x' not found", "Error: unexpected ']' in ..."): the script's. The resource rules (a
      -- package not installed, a file not there, a vector it cannot allocate) outrank it.
      [=[^\s+Error in (?P<where>.+) :\s*$]=],
      [=[^\s*Error in (?P<where>.+?) : (?P<exception>.+)]=],
      [=[^\s*Error: (?P<exception>object '.+' not found|unexpected .+ in .+)]=],
      -- Fortran runtimes: Intel's "forrtl: severe (32): invalid logical unit number", gfortran's
      -- "Fortran runtime error: ...". The path rules outrank it for the file ones.
      [=[^forrtl: severe \([0-9]+\): (?P<exception>.+)]=],
      [=[(?i)\bFortran runtime error: (?P<exception>.+)]=],
      -- libAtoms/QUIP's own abort (LAMMPS's quip pair style, gap_fit, quippy): "SYSTEM ABORT:
      -- proc=1 IPModel_GAP_read_params_xml: ...", "SYSTEM ABORT: Database was created with a later
      -- version of the code". The program's error, whatever it names (a build that does not fit,
      -- a potential for another version); the path rules outrank it for an explicit missing file.
      [=[^SYSTEM ABORT: (?P<exception>.+)]=],
    },
    summary = "the program failed: {line}",
  },

  htcondor_policy_undefined = {
    -- HTCondor held or removed the job because one of its own policy expressions
    -- (PeriodicRemove, OnExitHold, ...) evaluated to UNDEFINED: an attribute it uses is not
    -- defined (MemoryUsage before the first update, ExitCode after a kill by signal). The
    -- expression is the job's configuration; no resource or path fix applies.
    kind = "user_code", priority = 30,
    patterns = { [=[(?i)\b(Periodic|OnExit)(Remove|Hold|Release)\b.*\bevaluated to UNDEFINED\b]=] },
    summary = "an HTCondor policy expression of the job evaluated to UNDEFINED: {line}",
  },
  workflow_output_missing = {
    -- Snakemake (or Nextflow) found the job's declared outputs missing after it ended: filesystem latency, a
    -- rule whose command writes elsewhere, or a tool that failed quietly. Not a success, and
    -- no fix the log can justify.
    kind = "unknown", priority = 25,
    patterns = {
      [=[MissingOutputException]=],
      [=[(?i)completed successfully, but some output files are missing]=],
      -- Nextflow's same finding for a process ("Missing output file(s) `x` expected by process
      -- `P`"), often after the command exited 0: it wrote nothing there, or wrote elsewhere.
      [=[(?i)\bMissing output file\(s\) .* expected by process\b]=],
    },
    summary = "the job ended but its declared outputs are missing: {line}",
  },

  workflow_input_missing = {
    -- Snakemake refused to build its DAG because a rule's inputs are missing ("MissingInputException
    -- ... Missing input files for rule X:"): a user's input that is not there, but as often a file
    -- the workflow itself should have produced or shipped (a rule written wrongly, a file another
    -- wrapper creates, wildcards that split a name the wrong way). Nothing ran; no fix the log
    -- can justify. A path rule that reads an explicit missing file outranks it.
    kind = "unknown", priority = 25,
    patterns = {
      [=[\bMissingInputException\b]=],
      [=[(?i)\bMissing input files for rule\b]=],
    },
    summary = "the workflow's inputs for a rule are missing (a user's input or the workflow's own file): {line}",
  },

  ---------------------------------------------------------------- anything that says it failed
  generic_error = {
    kind = "unknown", priority = 5,
    patterns = {
      [=[(?i)(^|[\s\[(:])(error|fatal|failed|failure)(:|\s*!|\]|\s*$)]=],
      [=[(?i)exit(ed)? (with )?(code|status):? [1-9][0-9]*]=],
      [=[(?i)non-zero exit]=],
      [=[(?i)^\s*(ERROR|FATAL)\b]=],
      -- make's recipe failure ("make[1]: *** [Makefile:3043: clean2] Error 1"): a command of the
      -- recipe failed; its own lines above say why, when a rule reads them.
      [=[^\S*make(?:\[[0-9]+\])?: \*\*\* .*\bError [0-9]+]=],
    },
    unless_line = {
      WARNING_LINE[1], WARNING_LINE[2], WARNING_LINE[3],
      [=[(?i)memory limit at some point]=],
      -- pip's resolver notice after an install: it lists other installed packages whose
      -- requirements are not met and installs anyway ("ERROR: pip's dependency resolver does not
      -- currently take into account all the packages that are installed. ..."). pip's own failure
      -- says "Could not install packages" or "ResolutionImpossible".
      [=[pip's dependency resolver does not currently take into account all the packages]=],
      -- slurmstepd's TMPDIR fallback notice (shell_path_error): the step goes on with /tmp.
      [=[slurmstepd\S*: error: (Unable to create TMPDIR \[|Setting TMPDIR to /tmp\b)]=],
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
