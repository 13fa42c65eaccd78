--- @since 0.1
-- The built-in fixers: one function per diagnosis kind. Each gets a trackit.FixCtx and returns
-- edits as data ({ edits = { { op = "set_option", name = "mem", value = "32G" } }, note = "..." })
-- or nil for "no relaunch". trackit then enforces what no fixer can skip: caps (a value above
-- settings.caps / settings.partitions[p] is lowered to the cap) and never the same edit twice. When
-- nothing is left, the track ends with a failure report.
--
-- A repository's policy replaces or adds fixers by kind:
--
--   return trackit.extend(require("trackit.default"), {
--     fixers = { license_busy = function(ctx) return { edits = { ... } } end, oom = false },
--   })
--
-- Kinds with no fixer here (cancelled, submit_error, user_code, segfault, distributed, unknown,
-- disk_quota) are not relaunched.

local trackit = require("trackit")
local units = trackit.units

---@type table<string, fun(ctx: trackit.FixCtx): trackit.Fix|nil>
local fixers = {}

-- Import names whose pip package is named differently. `settings.python_packages` adds to these.
local PYTHON_PACKAGES = {
  cv2 = "opencv-python",
  sklearn = "scikit-learn",
  yaml = "PyYAML",
  PIL = "Pillow",
  skimage = "scikit-image",
  bs4 = "beautifulsoup4",
  dotenv = "python-dotenv",
  Crypto = "pycryptodome",
  Cryptodome = "pycryptodomex",
  attr = "attrs",
  dateutil = "python-dateutil",
  jwt = "PyJWT",
  magic = "python-magic",
  serial = "pyserial",
  usb = "pyusb",
  git = "GitPython",
  zmq = "pyzmq",
  fitz = "PyMuPDF",
  docx = "python-docx",
  pptx = "python-pptx",
  Bio = "biopython",
  OpenGL = "PyOpenGL",
  Levenshtein = "python-Levenshtein",
  MySQLdb = "mysqlclient",
  psycopg2 = "psycopg2-binary",
  umap = "umap-learn",
  faiss = "faiss-cpu",
  igraph = "python-igraph",
  osgeo = "GDAL",
  slugify = "python-slugify",
  multipart = "python-multipart",
  pytorch_lightning = "pytorch-lightning",
  tensorboardX = "tensorboardX",
  wandb = "wandb",
}

-- Directory names that hold a job's outputs: a missing one is safe to create.
local OUTPUT_DIRS = {
  out = true, outs = true, output = true, outputs = true, result = true, results = true,
  log = true, logs = true, checkpoint = true, checkpoints = true, ckpt = true, ckpts = true,
  runs = true, save = true, saved = true, saves = true, artifacts = true, figures = true,
  figs = true, plots = true, model = true, models = true, predictions = true, preds = true,
}

local function captures(ctx)
  return ctx.diagnosis.captures or {}
end

local function settings(ctx)
  return ctx.settings or {}
end

--- All evidence lines, joined, for plain `find`.
local function evidence_text(ctx)
  local out = {}
  for _, e in ipairs(ctx.diagnosis.evidence or {}) do out[#out + 1] = e.text end
  return table.concat(out, "\n")
end

local function dirname(path)
  local dir = path:match("^(.*)/[^/]*$")
  if dir == "" then return "/" end
  return dir
end

local function is_absolute(path)
  return path:sub(1, 1) == "/"
end

--- `path` relative to the repository when it lies inside it (nil when it does not).
local function inside_repo(ctx, path)
  if not is_absolute(path) then
    if path:find("..", 1, true) then return nil end
    return path
  end
  local root = ctx.repo_root
  if not root then return nil end
  root = root:gsub("/+$", "")
  if path == root then return "." end
  if path:sub(1, #root + 1) == root .. "/" then return path:sub(#root + 2) end
  return nil
end

--- Bytes rounded up to something sbatch-friendly: whole GiB from 4 GiB, else whole MiB.
local function round_mem(bytes)
  local unit = bytes >= 4 * 2 ^ 30 and 2 ^ 30 or 2 ^ 20
  return math.ceil(bytes / unit) * unit
end

--- A partition's limits from the scheduler, or nil (no partition named, no SLURM here).
local function partition_info(ctx)
  local name = ctx.resources and ctx.resources.partition
  if ctx.backend ~= "slurm" or not name then return nil end
  local info = trackit.slurm.partition(name)
  return info
end

------------------------------------------------------------------------ memory

--- Memory x2 from the job's request (ReqMem, else --mem), or from its peak (MaxRSS) when that is
--- higher or the request is unknown. A GPU OOM gets PyTorch's expandable segments once; more
--- host memory would not help it.
function fixers.oom(ctx)
  local c = captures(ctx)
  if c.device == "gpu" then
    return {
      edits = { { op = "set_env", name = "PYTORCH_CUDA_ALLOC_CONF", value = "expandable_segments:True" } },
      note = "GPU memory is fragmented or short: let PyTorch's allocator use expandable segments. If it fails again, reduce the batch size.",
    }
  end
  if ctx.backend ~= "slurm" then return nil end
  local res = ctx.resources or {}
  local job = ctx.job or {}
  -- A per-CPU request scales per CPU: sbatch refuses --mem next to --mem-per-cpu.
  if res["mem-per-cpu"] and not res.mem then
    local per = units.parse_mem(res["mem-per-cpu"])
    if per then
      return { edits = { { op = "set_option", name = "mem-per-cpu", value = units.format_mem(round_mem(per * 2)) } } }
    end
  end
  local request = job.req_mem_bytes or (res.mem and units.parse_mem(res.mem))
  local peak = job.max_rss_bytes
  local base = request
  if peak and (not base or peak > base) then base = peak end
  if not base then
    local info = partition_info(ctx)
    base = info and info.def_mem_per_node_bytes
  end
  if not base or base <= 0 then return nil end
  local note = nil
  if request and peak then
    note = string.format("peak memory %s of %s requested", units.format_mem(round_mem(peak)), units.format_mem(request))
  end
  return {
    edits = { { op = "set_option", name = "mem", value = units.format_mem(round_mem(base * 2)) } },
    note = note,
  }
end

------------------------------------------------------------------------ time

--- Time x2 from the job's limit (--time, else the scheduler's TimeLimit, else the partition's
--- default).
function fixers.timeout(ctx)
  if ctx.backend ~= "slurm" then return nil end
  local res = ctx.resources or {}
  local current = res.time and units.parse_duration(res.time)
  if not current and ctx.job then current = ctx.job.timelimit_s end
  if not current then
    local info = partition_info(ctx)
    current = info and info.default_time_s
  end
  if not current or current <= 0 then return nil end
  return { edits = { { op = "set_option", name = "time", value = units.format_duration(current * 2) } } }
end

------------------------------------------------------------------------ dependencies

local function module_load(ctx, name)
  local map = settings(ctx).module_map
  if type(map) ~= "table" or not name then return nil end
  local m = map[name]
  if type(m) ~= "string" or m == "" then return nil end
  return { op = "setup", line = "module load " .. m }
end

--- A Python module that is missing gets `python -m pip install <package>` (or the site's
--- `module load` when settings.module_map names one); a command, shared library or environment
--- module gets a `module load` only where settings.module_map maps it.
function fixers.missing_dep(ctx)
  local c = captures(ctx)
  local evidence = evidence_text(ctx)
  if c.module and not c.name and evidence:find("No module named", 1, true) then
    local top = c.module:match("^[%w_]+")
    if not top then return nil end
    local load = module_load(ctx, c.module) or module_load(ctx, top)
    if load then return { edits = { load } } end
    -- The repository's own package: installing something from PyPI would be wrong.
    local root = ctx.repo_root
    if root and (trackit.fs.is_dir(root .. "/" .. top) or trackit.fs.exists(root .. "/" .. top .. ".py")) then
      return nil
    end
    -- Nor a module of its own deeper down (run from another folder, or Python 2's implicit
    -- relative imports): PyPI may well have a package of that name, and not the one meant.
    if root then
      for _, path in ipairs(trackit.fs.find(root, { top .. ".py", top })) do
        if path:sub(-3) == ".py" or trackit.fs.exists(root .. "/" .. path .. "/__init__.py") then
          return nil
        end
      end
    end
    local extra = settings(ctx).python_packages
    local package = (type(extra) == "table" and (extra[c.module] or extra[top]))
      or PYTHON_PACKAGES[c.module] or PYTHON_PACKAGES[top] or top
    return {
      edits = { { op = "setup", line = "python -m pip install " .. package } },
      note = string.format("Python module %s is missing: installing %s", c.module, package),
    }
  end
  if c.library then
    local load = module_load(ctx, c.library) or module_load(ctx, c.library:match("^(.-%.so)"))
    if load then return { edits = { load } } end
    return nil
  end
  if c.command then
    local load = module_load(ctx, c.command)
    if load then return { edits = { load } } end
    return nil
  end
  if c.env_module then
    local load = module_load(ctx, c.env_module)
    if load then return { edits = { load } } end
  end
  return nil
end

------------------------------------------------------------------------ paths

--- A missing output or log directory inside the repository is created; any other missing path
--- needs a person.
function fixers.path_error(ctx)
  local c = captures(ctx)
  local evidence = evidence_text(ctx)
  if c.missing_path and evidence:find("Could not open", 1, true) then
    local dir = dirname(c.missing_path)
    local rel = dir and inside_repo(ctx, dir)
    if rel and rel ~= "." then
      return { edits = { { op = "make_dir", path = dir } }, note = "SLURM could not open the job's log: its directory did not exist" }
    end
    return nil
  end
  if c.path and c.reason == "No such file or directory" and evidence:find("[Errno 2]", 1, true) then
    local dir = dirname(c.path)
    local rel = dir and inside_repo(ctx, dir)
    if not rel or rel == "." then return nil end
    local looks_output = false
    for part in rel:gmatch("[^/]+") do
      if OUTPUT_DIRS[part:lower()] then looks_output = true end
    end
    if not looks_output then return nil end
    local root = ctx.repo_root
    if root and trackit.fs.is_dir(is_absolute(dir) and dir or (root .. "/" .. dir)) then return nil end
    return { edits = { { op = "make_dir", path = dir } }, note = "the output directory did not exist" }
  end
  return nil
end

------------------------------------------------------------------------ infrastructure

--- One more try after a transient image pull failure; any other container error needs a person.
function fixers.container(ctx)
  if captures(ctx).transient == "true" then
    return { edits = { { op = "retry", reason = "transient container image pull failure" } } }
  end
  return nil
end

--- Preemption is not the job's fault: resubmit unchanged (max_attempts still bounds it).
function fixers.preempted(ctx)
  return { edits = { { op = "retry", reason = "preempted", repeatable = true } } }
end

--- Keep away from the node that failed; without a node name, one plain retry.
function fixers.node_fail(ctx)
  local node = captures(ctx).node
  if not node and ctx.job and ctx.job.node_list and not ctx.job.node_list:find("[%[,]") then
    node = ctx.job.node_list
  end
  if ctx.backend ~= "slurm" then return nil end
  if not node then
    return { edits = { { op = "retry", reason = "node failure" } } }
  end
  local current = (ctx.resources or {}).exclude
  local value = node
  if current and current ~= "" then
    for n in current:gmatch("[^,]+") do
      if n == node then return nil end
    end
    value = current .. "," .. node
  end
  return { edits = { { op = "set_option", name = "exclude", value = value } } }
end

return fixers
