//! Parsers for what `squeue`, `sacct`, `scontrol` and `sbatch` print (SLURM 22.05 formats,
//! captured from a real cluster; see `tests/fixtures/slurm/captured/`). Pure functions: no I/O.

use crate::job::{parse_duration, parse_mem, ExitStatus, JobInfo, JobState};
use chrono::{Local, NaiveDateTime, TimeZone};
use std::collections::BTreeMap;

/// Fields asked from `squeue -O`. Each field ends with `|` (the suffix), which also turns off
/// squeue's 20-character padding/truncation. The job name comes last: it is user text and may
/// itself contain `|`.
pub const SQUEUE_FIELDS: &[&str] = &[
    "JobArrayID",
    "JobID",
    "State",
    "Reason",
    "exit_code",
    "TimeUsed",
    "TimeLimit",
    "MinMemory",
    "tres-alloc",
    "NumCPUs",
    "NodeList",
    "SubmitTime",
    "StartTime",
    "EndTime",
    "UserName",
    "STDOUT",
    "STDERR",
    "Name",
];

/// `squeue -O` argument for [`SQUEUE_FIELDS`].
pub fn squeue_format() -> String {
    SQUEUE_FIELDS
        .iter()
        .map(|f| format!("{f}:|"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Fields asked from `sacct --parsable2`. JobName last, for the same reason as above.
pub const SACCT_FIELDS: &[&str] = &[
    "JobID",
    "JobIDRaw",
    "State",
    "ExitCode",
    "Elapsed",
    "Timelimit",
    "ReqMem",
    "TotalCPU",
    "AllocCPUS",
    "NodeList",
    "Reason",
    "Submit",
    "Start",
    "End",
    "MaxRSS",
    "WorkDir",
    "AllocTRES",
    "JobName",
];

pub fn sacct_format() -> String {
    SACCT_FIELDS.join(",")
}

/// A field SLURM prints when it has no value.
fn value(s: &str) -> Option<String> {
    let s = s.trim();
    match s {
        "" | "None" | "NONE" | "N/A" | "n/a" | "(null)" | "Unknown" => None,
        _ => Some(s.to_string()),
    }
}

/// Parses a SLURM timestamp (`2026-11-28T19:09:02`, local time of the cluster) into epoch seconds.
pub fn parse_slurm_time(s: &str) -> Option<i64> {
    let naive = NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S").ok()?;
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.timestamp())
}

/// Formats epoch seconds the way `sacct --starttime` takes them.
pub fn format_slurm_time(epoch: i64) -> String {
    Local
        .timestamp_opt(epoch, 0)
        .earliest()
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_else(|| "1970-01-01T00:00:00".to_string())
}

/// squeue's `exit_code` is the raw wait status (768 = exit 3, 15 = signal 15, 253 = signal 125
/// with the core flag); turn it into SLURM's `code:signal`.
pub fn decode_wait_status(raw: &str) -> Option<ExitStatus> {
    let raw: i64 = raw.trim().parse().ok()?;
    Some(ExitStatus {
        code: ((raw >> 8) & 0xff) as i32,
        signal: Some((raw & 0x7f) as i32),
    })
}

fn parse_state(s: &str) -> Option<JobState> {
    s.parse().ok()
}

/// `mem=600M` out of a TRES string such as `cpu=2,mem=600M,node=1,billing=2`.
fn tres_mem(tres: &str) -> Option<u64> {
    tres.split(',')
        .find_map(|kv| kv.strip_prefix("mem="))
        .and_then(parse_mem)
}

/// Splits `123_4` into (`123`, Some(`4`)); plain ids give (id, None).
pub fn split_array_id(id: &str) -> (&str, Option<&str>) {
    match id.split_once('_') {
        Some((job, task)) => (job, Some(task)),
        None => (id, None),
    }
}

/// Expands SLURM's compressed array ids: `123_[4-7]` → 123_4..123_7, `123_[1,3-4%2]` →
/// 123_1, 123_3, 123_4. A plain id is returned as is. A range that cannot be read is kept
/// whole rather than dropped.
pub fn expand_array_id(id: &str) -> Vec<String> {
    let Some((job, rest)) = id.split_once("_[") else {
        return vec![id.to_string()];
    };
    let Some(inner) = rest.strip_suffix(']') else {
        return vec![id.to_string()];
    };
    let inner = inner.split('%').next().unwrap_or(inner); // `%2` = max running, not a task
    let mut out = Vec::new();
    for part in inner.split(',') {
        let (range, step) = match part.split_once(':') {
            Some((r, s)) => (r, s.parse::<u64>().unwrap_or(1).max(1)),
            None => (part, 1),
        };
        let parsed = match range.split_once('-') {
            Some((a, b)) => a.parse::<u64>().ok().zip(b.parse::<u64>().ok()),
            None => range.parse::<u64>().ok().map(|n| (n, n)),
        };
        match parsed {
            // Guard against absurd ranges from odd output.
            Some((a, b)) if b >= a && b - a <= 1_000_000 => {
                let mut n = a;
                while n <= b {
                    out.push(format!("{job}_{n}"));
                    n += step;
                }
            }
            _ => return vec![id.to_string()],
        }
    }
    out
}

/// One job (or array task) as squeue shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SqueueRow {
    pub info: JobInfo,
    /// The job id SLURM gave this task (`%A`/JobID); differs from `info.id` for array tasks.
    pub raw_id: String,
    pub submit_epoch: Option<i64>,
    pub user: Option<String>,
}

/// Parses `squeue -h -O <squeue_format()>` output. Lines that do not have the expected number
/// of fields are skipped (and reported), never guessed at.
pub fn parse_squeue(out: &str) -> (Vec<SqueueRow>, Vec<String>) {
    let n = SQUEUE_FIELDS.len();
    let mut rows = Vec::new();
    let mut bad = Vec::new();
    for line in out.lines().filter(|l| !l.trim().is_empty()) {
        let line = line.strip_suffix('|').unwrap_or(line);
        let f: Vec<&str> = line.splitn(n, '|').collect();
        if f.len() != n {
            bad.push(line.to_string());
            continue;
        }
        let state = parse_state(f[2]);
        let terminal = state.is_some_and(|s| s.is_terminal());
        let started = state.is_some_and(|s| s != JobState::Pending);
        let name = value(f[17]);
        let user = value(f[14]);
        let node_list = value(f[10]);
        for id in expand_array_id(f[0].trim()) {
            let raw_id = if id == f[0].trim() {
                f[1].trim().to_string()
            } else {
                id.clone()
            };
            let (array_job, task) = split_array_id(&id);
            let ctx = PatternContext {
                job_id: &raw_id,
                array_job_id: array_job,
                array_task_id: task,
                name: name.as_deref(),
                user: user.as_deref(),
                node: node_list.as_deref().map(first_node),
            };
            let info = JobInfo {
                id: id.clone(),
                state,
                exit: if terminal {
                    decode_wait_status(f[4])
                } else {
                    None
                },
                name: name.clone(),
                elapsed_s: parse_duration(f[5]),
                timelimit_s: parse_duration(f[6]),
                max_rss_bytes: None,
                req_mem_bytes: tres_mem(f[8]).or_else(|| parse_mem(f[7])),
                cpu_time_s: None,
                cpus: f[9].trim().parse().ok(),
                node_list: node_list.clone(),
                alloc_tres: value(f[8]),
                reason: value(f[3]),
                submit_time: value(f[11]),
                start_time: if started { value(f[12]) } else { None },
                end_time: if terminal { value(f[13]) } else { None },
                stdout_path: value(f[15]).map(|p| expand_output_pattern(&p, &ctx)),
                stderr_path: value(f[16]).map(|p| expand_output_pattern(&p, &ctx)),
            };
            rows.push(SqueueRow {
                submit_epoch: parse_slurm_time(f[11]),
                info,
                raw_id,
                user: user.clone(),
            });
        }
    }
    (rows, bad)
}

/// One line of `sacct --parsable2 --noheader --format=<sacct_format()>`: a job (or array task)
/// or one of its steps (`.batch`, `.extern`, `.0`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SacctRow {
    /// `123`, `123_4` (array task) or `123_[4-7]` expanded to one row per task.
    pub job_id: String,
    /// `batch`, `extern`, `0`, ... for steps; None for the job line.
    pub step: Option<String>,
    pub raw_id: String,
    pub state: Option<JobState>,
    /// SLURM's text, e.g. `CANCELLED by 0`.
    pub state_text: String,
    pub exit: Option<ExitStatus>,
    pub elapsed_s: Option<u64>,
    pub timelimit_s: Option<u64>,
    pub req_mem_bytes: Option<u64>,
    pub cpu_time_s: Option<u64>,
    pub cpus: Option<u32>,
    pub node_list: Option<String>,
    pub reason: Option<String>,
    pub submit_time: Option<String>,
    pub submit_epoch: Option<i64>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub max_rss_bytes: Option<u64>,
    pub work_dir: Option<String>,
    /// What was allocated (`billing=1,cpu=1,mem=200M,node=1`, with `gres/gpu...` on GPU nodes).
    #[serde(default)]
    pub alloc_tres: Option<String>,
    pub name: Option<String>,
}

impl SacctRow {
    pub fn to_job_info(&self) -> JobInfo {
        JobInfo {
            id: self.job_id.clone(),
            state: self.state,
            exit: self.exit,
            name: self.name.clone(),
            elapsed_s: self.elapsed_s,
            timelimit_s: self.timelimit_s,
            max_rss_bytes: self.max_rss_bytes,
            req_mem_bytes: self.req_mem_bytes,
            cpu_time_s: self.cpu_time_s,
            cpus: self.cpus,
            node_list: self.node_list.clone(),
            alloc_tres: self.alloc_tres.clone(),
            reason: self.reason.clone(),
            submit_time: self.submit_time.clone(),
            start_time: self.start_time.clone(),
            end_time: self.end_time.clone(),
            stdout_path: None,
            stderr_path: None,
        }
    }
}

pub fn parse_sacct(out: &str) -> (Vec<SacctRow>, Vec<String>) {
    parse_sacct_with(out, SACCT_FIELDS)
}

/// [`parse_sacct`] for output asked with another `--format` list (`fields`, JobName last):
/// fields are found by name, and those not asked are None.
pub fn parse_sacct_with(out: &str, fields: &[&str]) -> (Vec<SacctRow>, Vec<String>) {
    let n = fields.len();
    let mut rows = Vec::new();
    let mut bad = Vec::new();
    for line in out.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.splitn(n, '|').collect();
        if f.len() != n || f[0] == "JobID" {
            if f[0] != "JobID" {
                bad.push(line.to_string());
            }
            continue;
        }
        let get = |name: &str| {
            fields
                .iter()
                .position(|asked| *asked == name)
                .map_or("", |k| f[k])
        };
        let (job_part, step) = match get("JobID").split_once('.') {
            Some((j, s)) => (j, Some(s.to_string())),
            None => (get("JobID"), None),
        };
        // One row per line, parsed once; an array line (`4242_[1-3]`) stands for each task.
        let row = SacctRow {
            raw_id: get("JobIDRaw").to_string(),
            job_id: job_part.to_string(),
            step,
            state: parse_state(get("State")),
            state_text: get("State").to_string(),
            exit: get("ExitCode").parse().ok(),
            elapsed_s: parse_duration(get("Elapsed")),
            timelimit_s: parse_duration(get("Timelimit")),
            req_mem_bytes: parse_mem(get("ReqMem")),
            cpu_time_s: parse_duration(get("TotalCPU")),
            cpus: get("AllocCPUS").trim().parse().ok(),
            node_list: value(get("NodeList")).filter(|n| n != "None assigned"),
            reason: value(get("Reason")),
            submit_time: value(get("Submit")),
            submit_epoch: parse_slurm_time(get("Submit")),
            start_time: value(get("Start")),
            end_time: value(get("End")),
            max_rss_bytes: parse_mem(get("MaxRSS")),
            work_dir: value(get("WorkDir")),
            alloc_tres: value(get("AllocTRES")),
            name: value(get("JobName")),
        };
        let ids = expand_array_id(job_part);
        if ids.len() == 1 && ids[0] == job_part {
            rows.push(row);
            continue;
        }
        for id in ids {
            rows.push(SacctRow {
                raw_id: id.clone(),
                job_id: id,
                ..row.clone()
            });
        }
    }
    (rows, bad)
}

/// Parses one `scontrol -o show ...` line (`Key=Value Key=Value ...`). Values may contain
/// spaces (`Command=/x/job.sh lr=3e-4 two words`, `OS=Linux 6.1 #1 SMP`): a new key starts
/// only at a word that looks like a SLURM key (begins with an upper-case letter, then
/// letters, digits, `/`, `:`, `_`, and `=`).
pub fn parse_scontrol_line(line: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let mut key: Option<String> = None;
    let mut val = String::new();
    for word in line.split(' ') {
        if let Some((k, v)) = word.split_once('=') {
            if is_scontrol_key(k) {
                if let Some(k) = key.take() {
                    map.insert(k, val.trim_end().to_string());
                }
                key = Some(k.to_string());
                val = v.to_string();
                continue;
            }
        }
        if key.is_some() {
            val.push(' ');
            val.push_str(word);
        }
    }
    if let Some(k) = key {
        map.insert(k, val.trim_end().to_string());
    }
    map
}

fn is_scontrol_key(k: &str) -> bool {
    let mut chars = k.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | ':' | '_'))
}

/// The first host of a node list (`vm`, `node[01-04]` → `node01`, `a,b` → `a`).
pub fn first_node(list: &str) -> String {
    let list = list.trim();
    match list.find('[') {
        Some(i) if !list[..i].contains(',') => {
            let prefix = &list[..i];
            let inside = &list[i + 1..];
            let first = inside
                .split([',', '-', ']'])
                .next()
                .unwrap_or_default()
                .to_string();
            format!("{prefix}{first}")
        }
        _ => list.split(',').next().unwrap_or_default().to_string(),
    }
}

/// What an output-file pattern can refer to.
#[derive(Debug, Clone, Default)]
pub struct PatternContext<'a> {
    pub job_id: &'a str,
    pub array_job_id: &'a str,
    pub array_task_id: Option<&'a str>,
    pub name: Option<&'a str>,
    pub user: Option<&'a str>,
    pub node: Option<String>,
}

/// Expands sbatch's filename pattern (`%j %A %a %x %u %N %J %s %t %n %%`, with an optional
/// zero-padding width such as `%4j`). `scontrol` expands some of them itself and leaves `%N`
/// and `%%`; running this on its output finishes the job. Unknown specifiers stay as written.
pub fn expand_output_pattern(pattern: &str, ctx: &PatternContext) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut width = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(*d);
            chars.next();
        }
        let Some(spec) = chars.next() else {
            out.push('%');
            out.push_str(&width);
            break;
        };
        let pad = |s: &str| -> String {
            // SLURM pads to at most 10 digits, whatever number is written (sbatch(1)); an
            // absurd width must not allocate.
            let w: usize = if width.is_empty() {
                0
            } else {
                width.parse().unwrap_or(10).min(10)
            };
            if s.chars().all(|c| c.is_ascii_digit()) && s.len() < w {
                format!("{}{s}", "0".repeat(w - s.len()))
            } else {
                s.to_string()
            }
        };
        let replacement = match spec {
            '%' => Some("%".to_string()),
            'j' | 'J' => Some(pad(ctx.job_id)),
            'A' => Some(pad(ctx.array_job_id)),
            // %a of a job that is not an array is 4294967294 in SLURM; nobody wants that.
            'a' => Some(pad(ctx.array_task_id.unwrap_or("4294967294"))),
            'x' => ctx.name.map(str::to_string),
            'u' => ctx.user.map(str::to_string),
            'N' => ctx.node.clone(),
            's' => Some("batch".to_string()),
            't' | 'n' => Some(pad("0")),
            _ => None,
        };
        match replacement {
            Some(r) => out.push_str(&r),
            None => {
                out.push('%');
                out.push_str(&width);
                out.push(spec);
            }
        }
    }
    out
}

/// Everything `scontrol show job -o` says about one job that a fixer or a report needs.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct JobDetails {
    /// `123` or `123_4` for an array task.
    pub id: String,
    /// The numeric id SLURM gave this job or task.
    pub raw_id: String,
    pub array_job_id: Option<String>,
    pub array_task_id: Option<String>,
    pub name: Option<String>,
    pub user: Option<String>,
    pub state: Option<JobState>,
    pub reason: Option<String>,
    pub exit: Option<ExitStatus>,
    pub partition: Option<String>,
    pub timelimit_s: Option<u64>,
    pub work_dir: Option<String>,
    pub command: Option<String>,
    pub stdout_path: Option<String>,
    pub stderr_path: Option<String>,
    pub req_mem_bytes: Option<u64>,
    pub cpus: Option<u32>,
    pub node_list: Option<String>,
    pub batch_host: Option<String>,
    pub dependency: Option<String>,
    pub submit_time: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    /// Every key as scontrol printed it, for whatever the fields above do not cover.
    pub raw: BTreeMap<String, String>,
}

pub fn parse_scontrol_job(line: &str) -> Option<JobDetails> {
    let m = parse_scontrol_line(line);
    let raw_id = m.get("JobId")?.clone();
    let get = |k: &str| m.get(k).and_then(|v| value(v));
    let array_job_id = get("ArrayJobId");
    let array_task_id = get("ArrayTaskId");
    let id = match (&array_job_id, &array_task_id) {
        (Some(a), Some(t)) => format!("{a}_{t}"),
        _ => raw_id.clone(),
    };
    let user = get("UserId").map(|u| u.split('(').next().unwrap_or(&u).to_string());
    let name = get("JobName");
    let state = get("JobState").and_then(|s| parse_state(&s));
    let node_list = get("NodeList");
    let batch_host = get("BatchHost");
    let cpus: Option<u32> = get("NumCPUs").and_then(|c| c.parse().ok());
    let req_mem_bytes = get("TRES")
        .and_then(|t| tres_mem(&t))
        .or_else(|| get("MinMemoryNode").and_then(|m| parse_mem(&m)))
        .or_else(|| {
            let per_cpu = parse_mem(&get("MinMemoryCPU")?)?;
            Some(per_cpu * u64::from(cpus.unwrap_or(1)))
        });
    let node = batch_host
        .clone()
        .or_else(|| node_list.as_deref().map(first_node));
    let ctx = PatternContext {
        job_id: &raw_id,
        array_job_id: array_job_id.as_deref().unwrap_or(&raw_id),
        array_task_id: array_task_id.as_deref(),
        name: name.as_deref(),
        user: user.as_deref(),
        node,
    };
    let expand = |k: &str| get(k).map(|p| expand_output_pattern(&p, &ctx));
    let terminal = state.is_some_and(|s| s.is_terminal());
    Some(JobDetails {
        stdout_path: expand("StdOut"),
        stderr_path: expand("StdErr"),
        id,
        raw_id: raw_id.clone(),
        array_job_id: array_job_id.clone(),
        array_task_id: array_task_id.clone(),
        name: name.clone(),
        user: user.clone(),
        state,
        reason: get("Reason"),
        exit: if terminal {
            get("ExitCode").and_then(|e| e.parse().ok())
        } else {
            None
        },
        partition: get("Partition"),
        timelimit_s: get("TimeLimit").and_then(|t| parse_duration(&t)),
        work_dir: get("WorkDir"),
        command: get("Command"),
        req_mem_bytes,
        cpus,
        node_list,
        batch_host,
        dependency: get("Dependency"),
        submit_time: get("SubmitTime"),
        start_time: get("StartTime").filter(|_| state != Some(JobState::Pending)),
        end_time: get("EndTime").filter(|_| terminal),
        raw: m,
    })
}

impl JobDetails {
    pub fn to_job_info(&self) -> JobInfo {
        JobInfo {
            id: self.id.clone(),
            state: self.state,
            exit: self.exit,
            name: self.name.clone(),
            elapsed_s: self.raw.get("RunTime").and_then(|t| parse_duration(t)),
            timelimit_s: self.timelimit_s,
            max_rss_bytes: None,
            req_mem_bytes: self.req_mem_bytes,
            cpu_time_s: None,
            cpus: self.cpus,
            node_list: self.node_list.clone(),
            alloc_tres: self.raw.get("AllocTRES").or(self.raw.get("TRES")).cloned(),
            reason: self.reason.clone(),
            submit_time: self.submit_time.clone(),
            start_time: self.start_time.clone(),
            end_time: self.end_time.clone(),
            stdout_path: self.stdout_path.clone(),
            stderr_path: self.stderr_path.clone(),
        }
    }

    pub fn submit_epoch(&self) -> Option<i64> {
        self.submit_time.as_deref().and_then(parse_slurm_time)
    }
}

/// Limits of a partition, as fixers need them for caps.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PartitionInfo {
    pub name: String,
    /// None: UNLIMITED.
    pub max_time_s: Option<u64>,
    pub default_time_s: Option<u64>,
    pub max_mem_per_node_bytes: Option<u64>,
    pub max_mem_per_cpu_bytes: Option<u64>,
    pub def_mem_per_node_bytes: Option<u64>,
    pub def_mem_per_cpu_bytes: Option<u64>,
    pub nodes: Option<String>,
    pub total_cpus: Option<u32>,
    pub total_nodes: Option<u32>,
    /// The smallest RealMemory of the partition's nodes (from `scontrol show node`), if known.
    pub node_real_memory_bytes: Option<u64>,
    pub state: Option<String>,
    pub raw: BTreeMap<String, String>,
}

fn limit_mem(v: Option<&String>) -> Option<u64> {
    v.and_then(|v| match v.as_str() {
        "UNLIMITED" | "INFINITE" | "0" => None,
        v => parse_mem(v),
    })
}

pub fn parse_scontrol_partition(line: &str) -> Option<PartitionInfo> {
    let m = parse_scontrol_line(line);
    let name = m.get("PartitionName")?.clone();
    // Per-CPU limits may also be printed as DefMemPerCPU/MaxMemPerCPU; per-node ones as *PerNode.
    Some(PartitionInfo {
        name,
        max_time_s: m.get("MaxTime").and_then(|t| parse_duration(t)),
        default_time_s: m.get("DefaultTime").and_then(|t| parse_duration(t)),
        max_mem_per_node_bytes: limit_mem(m.get("MaxMemPerNode")),
        max_mem_per_cpu_bytes: limit_mem(m.get("MaxMemPerCPU")),
        def_mem_per_node_bytes: limit_mem(m.get("DefMemPerNode")),
        def_mem_per_cpu_bytes: limit_mem(m.get("DefMemPerCPU")),
        nodes: m.get("Nodes").and_then(|v| value(v)),
        total_cpus: m.get("TotalCPUs").and_then(|v| v.parse().ok()),
        total_nodes: m.get("TotalNodes").and_then(|v| v.parse().ok()),
        node_real_memory_bytes: None,
        state: m.get("State").cloned(),
        raw: m,
    })
}

/// `RealMemory` (MB) of every node in `scontrol -o show node ...` output, in bytes.
pub fn parse_node_real_memory(out: &str) -> Vec<u64> {
    out.lines()
        .map(parse_scontrol_line)
        .filter_map(|m| m.get("RealMemory").and_then(|v| v.parse::<u64>().ok()))
        .map(|mb| mb << 20)
        .collect()
}

/// `sbatch --parsable` prints `ID` or `ID;CLUSTER`.
pub fn parse_sbatch_parsable(out: &str) -> Option<(String, Option<String>)> {
    let line = out.lines().map(str::trim).rfind(|l| !l.is_empty())?;
    let (id, cluster) = match line.split_once(';') {
        Some((id, c)) => (id, value(c)),
        None => (line, None),
    };
    let valid = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '_' | '+'));
    valid.then(|| (id.to_string(), cluster))
}

#[cfg(test)]
mod tests;
