---@meta trackit
-- Type definitions of trackit's Lua API and policy contract, for lua-language-server.
-- Point your editor at this folder (`trackit init` writes a .luarc.json that does).
-- A test fails when a registered function is missing here, or a function here is not registered.
error("Cannot require a meta file")

---@class trackit
---@field version string trackit's version
trackit = {}

------------------------------------------------------------------------ closed sets

---@alias trackit.JobState "PENDING"|"RUNNING"|"COMPLETED"|"FAILED"|"TIMEOUT"|"OUT_OF_MEMORY"|"CANCELLED"|"NODE_FAIL"|"PREEMPTED"|"BOOT_FAIL"|"DEADLINE"

---@alias trackit.Kind "oom"|"timeout"|"missing_dep"|"path_error"|"container"|"disk_quota"|"preempted"|"node_fail"|"cancelled"|"submit_error"|"distributed"|"segfault"|"user_code"|"unknown"|"none"|string

------------------------------------------------------------------------ the policy contract

--- A policy file returns this table. Unknown keys fail the load (typos are caught).
---@class trackit.Policy
---@field name? string
---@field description? string
---@field settings? trackit.Settings
---@field rules? table<string, trackit.Rule|false> rules by name; `false` removes an inherited rule
---@field diagnose? fun(ctx: trackit.DiagnoseCtx): trackit.DiagnosisOverride|nil may override the rules' result
---@field fixers? table<string, fun(ctx: trackit.FixCtx): trackit.Fix|nil> per diagnosis kind
---@field format_table? fun(ctx: trackit.ReportCtx): string the doc's results section (markdown): the results table, or the failure report
---@field render_pr? fun(ctx: trackit.ReportCtx): trackit.PrText|string the pull request's title and body (or the body alone)
---@field find_doc? fun(ctx: trackit.FindDocCtx): string|nil repository-relative path of the experiment doc; nil: trackit searches docs/
---@field commit_message? fun(ctx: trackit.CommitCtx): string commit message for the results branch
---@field parse_metrics? fun(line: string): table<string, number>|nil metrics in one log line: `{ loss = 0.31, val_acc = 0.912, epoch = 3 }` (`step` and `epoch` place the values); nil: none. Default: `trackit.metrics.parse_line`
---@field discussion? fun(ctx: trackit.ReportCtx): string the Discussion section (markdown) of the PR and the doc; default: `require("trackit.report").discussion`

--- A diagnosis rule, declared as data. Patterns use Rust regex syntax (`(?i)` for case
--- insensitivity, `(?P<name>...)` for captures) and are matched line by line against the cleaned
--- log tail. A rule matches when every condition it states holds.
---@class trackit.Rule
---@field kind trackit.Kind
---@field priority? integer higher wins; ties go to the earliest evidence
---@field patterns? string[] any of these matching a line
---@field unless? string[] any of these matching a line vetoes the rule
---@field unless_line? string[] a line matching one of these is not evidence for the rule (a negation such as `OOMKilled: false`, a warning that only mentions the words)
---@field requires? string[] one of these must match some line for the rule to hold (the context its matches mean something in)
---@field last_match? boolean the rule's last matching line decides (captures, `{line}`, first evidence): a traceback's final exception
---@field states? trackit.JobState[] the scheduler state must be one of these
---@field exit_codes? string[] `N` (exit code), `N:S` (code and signal) or `:S` (signal)
---@field reasons? string[] case-insensitive regexes; one must match one of the scheduler's reasons (e.g. `^preempt`)
---@field summary? string one line; `{capture}`, `{line}`, `{state}`, `{exit_code}` are filled in
---@field fixable? boolean overrides `settings.fixable_kinds` for this rule
---@field captures? table<string, string> fixed captures added when the rule wins

---@class trackit.Settings
---@field log_window_kib? integer how much of each log's tail the diagnosis reads (default 256, at most 16384)
---@field max_line? integer longer lines are cut (default 4096 bytes)
---@field max_attempts? integer attempts before the failure report (default 3, at most 10)
---@field fixable_kinds? trackit.Kind[]
---@field contest_margin? integer a different fixable kind within this many priority points of the winner makes the verdict `unknown` (default 10; 0 contests only ties)
---@field ignored_blocks? trackit.IgnoredBlock[] blocks of lines no diagnosis rule reads (a traceback Python printed and went on)
---@field poll? trackit.PollSettings
---@field limits? trackit.Limits
---@field caps? trackit.Caps site-wide caps for fixers
---@field partitions? table<string, trackit.Caps> per-partition caps
---@field dispatch_workflow? string the cluster's dispatch workflow (none by default: off): `trackit sbatch` dispatches it instead of calling sbatch when the repo has it under .github/workflows/ and a token resolves, sending only the inputs it declares (`script`, `wandb_run`, `args`)
---@field exit_files? boolean wrap batch scripts so the job writes its exit status beside the track's state: its end is noticed within seconds (default true)
---@field remote_host? string the cluster's login host as typed after `ssh` (an alias works): `trackit launch` submits there when there is no SLURM here; `--host` overrides it
---@field remote_dir? string the repository's checkout on `remote_host` (default: the same path relative to the home directory); `--remote-dir` overrides it
---@field metrics? string[] metrics to collect
---@field metric_goals? table<string, "min"|"max">
---@field results? string result files: a file, folder or glob
---@field module_map? table<string, string> what `module load` fixes a missing command, shared library, environment module or Python module, e.g. `{ ["libgsl.so.25"] = "gsl/2.7" }`
---@field python_packages? table<string, string> import name -> pip package, beyond the built-in ones (cv2 -> opencv-python, ...)

---@class trackit.IgnoredBlock
---@field starts string the block's first line matches this
---@field continues string the lines after it that match this are in the block; the first that does not is its last line

---@class trackit.PollSettings
---@field first_s? number first scheduler check after this many seconds (default 15)
---@field growth? number interval factor while nothing changes (default 1.5)
---@field max_s? number longest interval (default 180)
---@field min_s? number never two scheduler calls closer than this (default 5)
---@field vanished_after_s? number a job neither squeue nor sacct has known for this long ends as VANISHED (default 1800)

---@class trackit.Limits
---@field memory_mb? integer Lua memory (default 64, at most 512)
---@field instructions? integer VM instructions per hook call (default 20e6, at most 1e9)
---@field timeout_ms? integer time per hook call, trackit's own functions included (default 500, at most 10000)

---@class trackit.Caps
---@field max_mem? string e.g. "256G"
---@field max_time? string e.g. "2-00:00:00"
---@field max_gpus? integer GPUs per job, whether asked with --gpus, --gpus-per-node or --gres=gpu:N
---@field max_cpus? integer
---@field max_nodes? integer --nodes (the upper end of a range such as 1-4)
---@field max_ntasks? integer --ntasks and --ntasks-per-node

---@class trackit.Evidence
---@field source "log"|"scheduler"
---@field file? string
---@field line? integer 1-based (in the tail window when the file was larger than it)
---@field text string
---@field rule? string

---@class trackit.Diagnosis
---@field kind trackit.Kind
---@field summary string
---@field evidence trackit.Evidence[]
---@field captures table<string, string>
---@field fixable boolean
---@field rule? string the rule that decided
---@field decided_by? string set when a hook changed the result

--- What a `diagnose` hook may return: at least `kind`; the rest is kept or derived.
---@class trackit.DiagnosisOverride
---@field kind trackit.Kind
---@field summary? string
---@field evidence? trackit.Evidence[]
---@field captures? table<string, string|number>
---@field fixable? boolean
---@field rule? string
---@field decided_by? string

---@class trackit.LogTail
---@field path string
---@field complete boolean true when the whole file fit in the window
---@field lines string[]

---@class trackit.JobInfo
---@field id string
---@field state? trackit.JobState
---@field exit? {code: integer, signal?: integer}
---@field name? string
---@field elapsed_s? integer
---@field timelimit_s? integer
---@field max_rss_bytes? integer
---@field req_mem_bytes? integer
---@field cpu_time_s? integer
---@field cpus? integer
---@field node_list? string
---@field alloc_tres? string what the scheduler allocated: `cpu=4,mem=32G,node=1,gres/gpu:a100=2`
---@field reason? string

---@class trackit.DiagnoseCtx
---@field result trackit.Diagnosis the rule engine's diagnosis
---@field state? trackit.JobState
---@field exit_code? string `N:S` or `N`
---@field reasons string[]
---@field logs trackit.LogTail[]
---@field log string all lines joined with newlines
---@field job? trackit.JobInfo

--- What a fixer (`fixers[kind]`) sees.
---@class trackit.FixCtx
---@field diagnosis trackit.Diagnosis
---@field job? trackit.JobInfo ReqMem, MaxRSS, TimeLimit, nodes, when known
---@field attempt integer the attempt that failed (1 for the first run)
---@field max_attempts integer
---@field backend "slurm"|"local"
---@field resources table<string, string> effective sbatch options by long name (`mem`, `time`, `partition`, `gpus`, `cpus-per-task`, `exclude`, ...): the command line's, else the script's
---@field script? string the batch script's text (SLURM)
---@field script_path? string the script, relative to the repository
---@field sbatch_args string[] as typed after `trackit sbatch` (SLURM)
---@field command? string[] the command line (local jobs)
---@field env table<string, string> extra environment (local jobs)
---@field history trackit.AppliedEdit[] edits earlier attempts applied, oldest first
---@field caps trackit.Caps caps in force for the job's partition (partition over site)
---@field site_caps trackit.Caps
---@field partition_caps? trackit.Caps
---@field settings trackit.Settings the policy's settings, with its own extra keys
---@field repo_root? string

--- What a fixer returns. trackit enforces caps (a value above one is lowered to it) and never
--- applies the same edit twice; when nothing is left, the track ends with a failure report.
---@class trackit.Fix
---@field edits trackit.Edit[] edits as data, applied in order
---@field note? string for the report

--- One edit, as data. `op` says which:
--- * `set_option` {name, value}: an sbatch option (`mem`, `mem-per-cpu`, `time`/`t`, `partition`/`p`,
---   `gres`, `gpus`/`G`, `cpus-per-task`/`c`, `constraint`/`C`, `qos`/`q`, `exclude`/`x`, ...), set
---   where it takes effect: the sbatch command line if there, else its `#SBATCH` line, else a new one
--- * `remove_option` {name}
--- * `set_env` {name, value}: an `export` line in the script (local jobs: the environment)
--- * `setup` {line}: a line run before the first command (`module load X`, `source venv/bin/activate`)
--- * `make_dir` {path}: a directory inside the repository or the job's working directory
--- * `replace_path` {from, to}: everywhere in the script and its arguments (`to` inside the repository)
--- * `set_container` {image?, add_flags?, remove_flags?}: `singularity|apptainer exec|run IMAGE` or `--container-image`
--- * `set_command` {command}: a local job's command line
--- * `retry` {reason?, repeatable?}: resubmit unchanged (once, unless `repeatable`)
---@class trackit.Edit
---@field op "set_option"|"remove_option"|"set_env"|"setup"|"make_dir"|"replace_path"|"set_container"|"set_command"|"retry"
---@field name? string
---@field value? string|number
---@field line? string
---@field path? string
---@field from? string
---@field to? string
---@field image? string
---@field add_flags? string[]
---@field remove_flags? string[]
---@field command? string[]
---@field reason? string
---@field repeatable? boolean

--- An edit as applied, as the track state and `ctx.history` keep it.
---@class trackit.AppliedEdit
---@field edit trackit.Edit the edit after caps
---@field target string where: `command line`, `#SBATCH line 3`, `script line 5`, `environment`, ...
---@field before? string
---@field after? string
---@field display string `--mem 16G -> 32G (oom: Detected 1 oom_kill event)`
---@field reason? string
---@field clamped_from? string the value asked for, when a cap lowered it

--- A partition's limits (`scontrol show partition`). Sizes in bytes, times in seconds; nil is
--- unlimited or unknown.
---@class trackit.PartitionInfo
---@field name string
---@field max_time_s? integer
---@field default_time_s? integer
---@field max_mem_per_node_bytes? integer
---@field max_mem_per_cpu_bytes? integer
---@field def_mem_per_node_bytes? integer
---@field def_mem_per_cpu_bytes? integer
---@field nodes? string
---@field total_cpus? integer
---@field total_nodes? integer
---@field node_real_memory_bytes? integer the smallest RealMemory of its nodes
---@field state? string
---@field raw table<string, string> every `Key=Value` scontrol printed

------------------------------------------------------------------------ reports

---@alias trackit.TrackStatus "PENDING"|"RUNNING"|"COMPLETED"|"FAILED"|"CANCELLED"

---@class trackit.Efficiency
---@field time_pct? number elapsed / time limit, percent
---@field mem_pct? number peak memory / request, percent
---@field cpu_pct? number CPU time / (elapsed x CPUs), percent
---@field suggest_mem? string
---@field suggest_time? string
---@field suggest_cpus? integer
---@field hints string[]
---@field line string everything above in one line

---@class trackit.Best
---@field value number
---@field step? integer
---@field epoch? number

---@class trackit.MetricSummary
---@field name string the metric's name as the files spell it
---@field query? string the name asked for, when it differs
---@field goal? "min"|"max"
---@field final? number
---@field final_step? integer
---@field final_epoch? number
---@field best? trackit.Best
---@field points integer points in the series (0: a final scalar only)
---@field first? number the series' first value
---@field trend? "improving"|"plateaued"|"worse_after_best"|"flat"|"rising"|"falling" with 3 points or more

---@class trackit.MetricsReport
---@field metrics trackit.MetricSummary[]
---@field missing? string[] names asked for but not found

--- One row of the results table: one job.
---@class trackit.JobRow
---@field name? string what the row is when the table has several: a pipeline step's name, or `task N` of an array
---@field job_id string
---@field attempt integer 1-based
---@field state trackit.JobState
---@field exit_code? string `N` or `N:S`
---@field elapsed_s? integer
---@field timelimit_s? integer
---@field max_rss_bytes? integer
---@field req_mem_bytes? integer
---@field node? string
---@field gpus? string `2 × a100`, `1 GPU`, from the scheduler's TRES
---@field efficiency? trackit.Efficiency once the job has ended
---@field metrics? trackit.MetricsReport this job's; absent: the newest row shows `ctx.metrics`

---@class trackit.AttemptDiagnosis
---@field kind trackit.Kind
---@field summary string
---@field evidence string[] `file:line: text`

---@class trackit.Attempt
---@field step? string the pipeline step it belongs to
---@field number integer 1-based
---@field job_id string
---@field state? trackit.JobState
---@field exit_code? string
---@field elapsed_s? integer
---@field diagnosis? trackit.AttemptDiagnosis
---@field edits string[] edits applied before the next attempt, as display strings

---@class trackit.PlotRef
---@field path string repository-relative SVG
---@field title? string
---@field url? string absolute URL (for the PR body)

---@class trackit.Links
---@field pr_url? string
---@field pr_number? integer
---@field branch? string the results branch
---@field commit? string
---@field commit_url? string
---@field doc? string the experiment doc, repository-relative
---@field doc_url? string
---@field run_url? string

--- What the report hooks see.
---@class trackit.ReportCtx
---@field experiment string
---@field track_id string
---@field status trackit.TrackStatus
---@field backend? string `slurm`, `local`, ...
---@field command? string the command that was run
---@field jobs trackit.JobRow[] rows of the results table, oldest first
---@field task_counts? [string, integer][] a large array's tasks by state, when `jobs` lists only those that did not complete
---@field metrics_wanted string[] "Metrics to collect"; empty: whatever the results hold
---@field metrics? trackit.MetricsReport the results, once collected
---@field attempts trackit.Attempt[]
---@field max_attempts integer
---@field plots trackit.PlotRef[]
---@field links trackit.Links
---@field code? trackit.CodeVersion the commit the job ran from
---@field hyperparams? trackit.Hyperparams
---@field sources? trackit.SourcesReport files read and passed over
---@field baseline? trackit.Baseline the run compared with
---@field comparison? trackit.Comparison[] this run against the baseline, per metric
---@field discussion? string the Discussion, once written (the `discussion` hook's text)
---@field started_at? string RFC 3339
---@field updated_at? string RFC 3339
---@field finished_at? string RFC 3339

---@class trackit.CodeVersion
---@field commit string
---@field branch? string
---@field commit_url? string
---@field dirty boolean uncommitted changes or untracked files when the job started
---@field changes? string[] `git diff --stat`-like lines, then ` ?? path` for untracked files
---@field summary? string `1 file changed, 2 insertions(+), 1 untracked file`

---@class trackit.Hyperparams
---@field values table<string, string> flattened names (`optim.lr`) -> value as written
---@field overrides? string[] Hydra's command-line overrides
---@field sources string[] files read

---@class trackit.SourcesReport
---@field read string[] files read, relative to the job's directory
---@field skipped {path: string, reason: string}[] files passed over, and why
---@field from_log? string[] metrics read from the job's log
---@field links? string[] W&B run pages, or how to upload an offline run
---@field errors? string[] files that could not be read

---@class trackit.RecordMetric
---@field name string
---@field final? number
---@field best? number
---@field goal? "min"|"max"

---@class trackit.Record
---@field track string
---@field experiment string
---@field commit? string
---@field metrics trackit.RecordMetric[]

---@class trackit.Baseline
---@field label string `PR #12`, a git ref
---@field url? string
---@field record trackit.Record

---@class trackit.Comparison
---@field name string
---@field value? number this run's final value
---@field baseline? number
---@field delta? number value - baseline
---@field delta_pct? number delta relative to |baseline|, percent
---@field better? boolean the change goes the metric's good way

--- What `commit_message` sees: the report, plus what the commit holds.
---@class trackit.CommitCtx: trackit.ReportCtx
---@field what string `PENDING table`, `results table`, `failure report`, ...; empty: derive it from the status

---@class trackit.FindDocCtx
---@field experiment string
---@field track_id string
---@field candidates string[] `docs/**/<experiment>*.md`, in the order trackit would pick them
---@field default string where trackit would create the doc

---@class trackit.PrText
---@field title string
---@field body string trackit adds its hidden marker if missing

--- `require("trackit.report")`: the built-in renderers and their pieces, for policies that
--- change one part of a report and keep the rest.
---@class trackit.ReportModule
---@field format_table fun(ctx: trackit.ReportCtx): string
---@field render_pr fun(ctx: trackit.ReportCtx): trackit.PrText
---@field commit_message fun(ctx: trackit.CommitCtx): string
---@field results_table fun(ctx: trackit.ReportCtx): string one row per job
---@field attempts_table fun(ctx: trackit.ReportCtx): string one row per attempt
---@field failure_report fun(ctx: trackit.ReportCtx): string
---@field efficiency_lines fun(ctx: trackit.ReportCtx): string
---@field test_plan fun(ctx: trackit.ReportCtx): string ticked checkboxes: the job, the tables, the discussion
---@field discussion fun(ctx: trackit.ReportCtx): string two or three sentences from the data
---@field comparison_table fun(ctx: trackit.ReportCtx): string the baseline and the Δ table; "" without a baseline
---@field code_line fun(ctx: trackit.ReportCtx): string the commit, uncommitted changes, node and GPUs
---@field hyperparams_details fun(ctx: trackit.ReportCtx): string a collapsed table; "" without hyperparameters
---@field sources_details fun(ctx: trackit.ReportCtx): string files read and passed over
---@field metric_columns fun(ctx: trackit.ReportCtx): string[]
---@field row_metrics fun(ctx: trackit.ReportCtx, i: integer): trackit.MetricsReport|nil
---@field format_number fun(v: number): string 4 significant digits; integers as integers
---@field format_elapsed fun(secs: number|nil): string `HH:MM:SS`
---@field format_mem fun(bytes: number|nil): string `3.1G`
---@field format_at fun(step: integer|nil, epoch: number|nil): string `epoch 3, step 192`
---@field cell fun(text: any): string safe in a table cell
---@field code_cell fun(text: any): string inline code in a table cell

------------------------------------------------------------------------ functions (Rust)

--- Reads an environment variable. Names that look like secrets (`*TOKEN*`, `*SECRET*`, ...)
--- always read as nil.
---@param name string
---@return string|nil
function trackit.env(name) end

--- Seconds since the Unix epoch.
---@return number
function trackit.now() end

---@class trackit.log
trackit.log = {}

---@param msg string
function trackit.log.debug(msg) end
---@param msg string
function trackit.log.info(msg) end
---@param msg string
function trackit.log.warn(msg) end
---@param msg string
function trackit.log.error(msg) end

--- The cleaned tail of a log file (`\r` progress collapsed, ANSI stripped).
---@param path string
---@param opts? {bytes?: integer}
---@return {lines: string[], complete: boolean, size: integer}|nil tail
---@return string|nil err
function trackit.log.tail(path, opts) end

---@class trackit.re
trackit.re = {}

--- Captures of the first match (numbered and named), or nil.
---@param text string
---@param pattern string Rust regex syntax
---@return table<integer|string, string>|nil
function trackit.re.match(text, pattern) end

---@param text string
---@param pattern string
---@return boolean
function trackit.re.is_match(text, pattern) end

--- 1-based inclusive bounds of the first match, or nil.
---@param text string
---@param pattern string
---@return integer|nil start
---@return integer|nil finish
function trackit.re.find(text, pattern) end

--- Replaces every match; `$1` and `$name` expand.
---@param text string
---@param pattern string
---@param replacement string
---@return string
function trackit.re.replace(text, pattern, replacement) end

---@class trackit.json
trackit.json = {}

---@param value any
---@return string
function trackit.json.encode(value) end

---@param text string
---@return any|nil value
---@return string|nil err
function trackit.json.decode(text) end

---@class trackit.fs
trackit.fs = {}

---@param path string
---@return boolean
function trackit.fs.exists(path) end

---@param path string
---@return boolean
function trackit.fs.is_dir(path) end

--- Reads a file (at most 4 MiB). Policies cannot write: edits are returned as data.
---@param path string
---@return string|nil content
---@return string|nil err
function trackit.fs.read(path) end

--- Paths (relative to `dir`, shallowest first, at most 64) of the files and folders named one
--- of `names`; hidden folders and environments are not searched.
---@param dir string
---@param names string[]
---@param max_depth? integer folders deep (default 4, at most 8)
---@return string[]
function trackit.fs.find(dir, names, max_depth) end

---@class trackit.units
trackit.units = {}

--- "16G" -> bytes; plain numbers are MiB, as in `--mem`.
---@param text string
---@return integer|nil
function trackit.units.parse_mem(text) end

--- bytes -> "16G" (the largest unit that keeps an integer).
---@param bytes number
---@return string
function trackit.units.format_mem(bytes) end

--- SLURM durations ("1-00:00:00", "90", "01:30:00") -> seconds; nil for UNLIMITED.
---@param text string
---@return integer|nil
function trackit.units.parse_duration(text) end

--- seconds -> "[D-]HH:MM:SS"
---@param seconds number
---@return string
function trackit.units.format_duration(seconds) end

---@class trackit.metrics
trackit.metrics = {}

--- trackit's own reading of one log line: `key=value`, `key: value`, tqdm postfixes, Keras,
--- Lightning and Hugging Face lines; `step`/`epoch` when the line says.
---@param line string
---@return table<string, number>|nil
function trackit.metrics.parse_line(line) end

---@class trackit.slurm
trackit.slurm = {}

--- A partition's limits from the scheduler (`scontrol show partition NAME`), e.g. for caps.
--- Blocks while scontrol runs; that time counts against the hook's time limit.
---@param name string
---@return trackit.PartitionInfo|nil info
---@return string|nil err `partition NAME not found`, or why scontrol failed
function trackit.slurm.partition(name) end

------------------------------------------------------------------------ functions (Lua library)

--- Deep copy of a table (functions are shared).
---@generic T
---@param value T
---@return T
function trackit.copy(value) end

--- A new policy: a copy of `base` with `overrides` applied. `rules`, `fixers` and `settings`
--- merge entry by entry; an entry set to `false` is removed.
---@param base trackit.Policy
---@param overrides? trackit.Policy
---@return trackit.Policy
function trackit.extend(base, overrides) end

--- Raises an error at the caller's caller when `value` is not of type `expected`.
---@param name string
---@param value any
---@param expected type
---@param optional? boolean
function trackit.validate(name, value, expected, optional) end
