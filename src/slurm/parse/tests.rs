//! Parser tests on real output captured from the local cluster (tests/fixtures/slurm/captured).

use super::*;

const SQUEUE: &str = include_str!("../../../tests/fixtures/slurm/captured/squeue.txt");
const SACCT_X: &str = include_str!("../../../tests/fixtures/slurm/captured/sacct-allocations.txt");
const SACCT_STEPS: &str = include_str!("../../../tests/fixtures/slurm/captured/sacct-steps.txt");
const SACCT_TRES: &str = include_str!("../../../tests/fixtures/slurm/captured/sacct-tres.txt");
/// The `--format` list the older captures were made with (before AllocTRES was asked).
fn captured_fields() -> Vec<&'static str> {
    SACCT_FIELDS
        .iter()
        .copied()
        .filter(|f| *f != "AllocTRES")
        .collect()
}
const SCONTROL_CANCELLED: &str =
    include_str!("../../../tests/fixtures/slurm/captured/scontrol-job-cancelled.txt");
const SCONTROL_ARRAY: &str =
    include_str!("../../../tests/fixtures/slurm/captured/scontrol-job-array.txt");
const SCONTROL_ARGS: &str =
    include_str!("../../../tests/fixtures/slurm/captured/scontrol-job-args.txt");
const SCONTROL_PARTITION: &str =
    include_str!("../../../tests/fixtures/slurm/captured/scontrol-partition.txt");
const SCONTROL_NODE: &str =
    include_str!("../../../tests/fixtures/slurm/captured/scontrol-node.txt");

fn row<'a>(rows: &'a [SqueueRow], id: &str) -> &'a JobInfo {
    &rows.iter().find(|r| r.info.id == id).unwrap().info
}

#[test]
fn squeue_rows_from_a_real_cluster() {
    let (rows, bad) = parse_squeue(SQUEUE);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(rows.len(), 16);

    let failed = row(&rows, "6");
    assert_eq!(failed.state, Some(JobState::Failed));
    assert_eq!(failed.exit.unwrap().to_string(), "3:0"); // raw wait status 768
    assert_eq!(failed.reason.as_deref(), Some("NonZeroExitCode"));
    assert_eq!(failed.stdout_path.as_deref(), Some("/tmp/exp/fail-6.out"));

    let oom = row(&rows, "7");
    assert_eq!(oom.state, Some(JobState::OutOfMemory));
    assert_eq!(oom.exit.unwrap().to_string(), "0:125"); // raw 253
    assert_eq!(oom.req_mem_bytes, Some(100 << 20));

    let cancelled = row(&rows, "8");
    assert_eq!(cancelled.state, Some(JobState::Cancelled));
    assert_eq!(cancelled.exit.unwrap().to_string(), "0:15");
    assert_eq!(cancelled.timelimit_s, Some(600));
    assert_eq!(cancelled.elapsed_s, Some(1));
    assert_eq!(
        cancelled.stdout_path.as_deref(),
        Some("/tmp/exp/long-long-root-vm-%-8.out")
    );

    let ok = row(&rows, "1");
    assert_eq!(ok.state, Some(JobState::Completed));
    assert_eq!(ok.exit.unwrap().to_string(), "0:0");
    assert_eq!(ok.timelimit_s, None); // UNLIMITED
    assert_eq!(ok.node_list.as_deref(), Some("vm"));
    assert_eq!(ok.submit_time.as_deref(), Some("2026-11-28T19:08:48"));
    assert_eq!(ok.end_time.as_deref(), Some("2026-11-28T19:08:50"));

    // Array tasks: one row each, with the task's own output file.
    let t2 = rows.iter().find(|r| r.info.id == "2_2").unwrap();
    assert_eq!(t2.raw_id, "5");
    assert_eq!(t2.info.stdout_path.as_deref(), Some("/tmp/exp/arr-2_2.out"));
    assert_eq!(
        rows.iter().filter(|r| r.info.id.starts_with("2_")).count(),
        4
    );

    // --mem-per-cpu=300M -c 2: the job's memory is the TRES total.
    assert_eq!(row(&rows, "13_0").req_mem_bytes, Some(600 << 20));
    assert_eq!(row(&rows, "13_0").cpus, Some(2));

    // Cancelled while pending: no node, empty NodeList.
    assert_eq!(row(&rows, "9_4").node_list, None);
}

#[test]
fn squeue_compressed_array_rows_are_expanded_and_odd_lines_skipped() {
    let out = "12_[1-3]|12|PENDING|Resources|0|0:00|UNLIMITED|256M||1||2026-11-28T19:08:48|2027-11-28T19:08:53|NONE|root|/x/arr-%A_%a.out|/x/arr-%A_%a.out|arr|\n\
               garbage line\n\
               12_0|15|RUNNING|None|0|0:03|1:00|256M|cpu=1,mem=256M,node=1,billing=1|1|vm|2026-11-28T19:08:48|2026-11-28T19:08:49|NONE|root|/x/o|/x/e|na|me|with|bars|\n";
    let (rows, bad) = parse_squeue(out);
    assert_eq!(bad, vec!["garbage line".to_string()]);
    let ids: Vec<_> = rows.iter().map(|r| r.info.id.as_str()).collect();
    assert_eq!(ids, ["12_1", "12_2", "12_3", "12_0"]);
    let pending = &rows[0].info;
    assert_eq!(pending.state, Some(JobState::Pending));
    assert_eq!(pending.start_time, None); // an estimate, not a start
    assert_eq!(pending.exit, None);
    assert_eq!(pending.stdout_path.as_deref(), Some("/x/arr-12_1.out"));
    let running = &rows[3].info;
    assert_eq!(running.name.as_deref(), Some("na|me|with|bars"));
    assert_eq!(running.exit, None);
    assert_eq!(running.timelimit_s, Some(60)); // squeue prints M:SS
    assert_eq!(running.end_time, None);
}

#[test]
fn sacct_rows_from_a_real_cluster() {
    let (rows, bad) = parse_sacct_with(SACCT_X, &captured_fields());
    assert!(bad.is_empty(), "{bad:?}");
    let get = |id: &str| rows.iter().find(|r| r.job_id == id).unwrap();
    let cancelled = get("8");
    assert_eq!(cancelled.state, Some(JobState::Cancelled));
    assert_eq!(cancelled.state_text, "CANCELLED by 0");
    assert_eq!(cancelled.exit.unwrap().to_string(), "0:0");
    assert_eq!(get("7").state, Some(JobState::OutOfMemory));
    assert_eq!(get("7").exit.unwrap().to_string(), "0:125");
    assert_eq!(get("6").exit.unwrap().to_string(), "3:0");
    assert_eq!(get("2_3").raw_id, "2");
    assert_eq!(get("2_0").raw_id, "3");
    assert_eq!(get("1").reason, None); // "None"
    assert_eq!(get("1").work_dir.as_deref(), Some("/tmp/exp"));
    // `9_[0-5]` (cancelled while pending) becomes six tasks; Start=None, no nodes.
    let nine: Vec<_> = rows.iter().filter(|r| r.job_id.starts_with("9_")).collect();
    assert_eq!(nine.len(), 6);
    assert_eq!(nine[5].job_id, "9_5");
    assert_eq!(nine[0].start_time, None);
    assert_eq!(nine[0].node_list, None); // "None assigned"
    assert_eq!(nine[0].timelimit_s, None); // "Partition_Limit"
}

#[test]
fn sacct_steps_carry_oom_and_maxrss() {
    let (rows, bad) = parse_sacct_with(SACCT_STEPS, &captured_fields());
    assert!(bad.is_empty());
    let oom_batch = rows
        .iter()
        .find(|r| r.job_id == "7" && r.step.as_deref() == Some("batch"))
        .unwrap();
    assert_eq!(oom_batch.state, Some(JobState::OutOfMemory));
    assert_eq!(oom_batch.exit.unwrap().to_string(), "0:125");
    assert_eq!(oom_batch.max_rss_bytes, Some(0));
    let cancelled_batch = rows
        .iter()
        .find(|r| r.job_id == "8" && r.step.as_deref() == Some("batch"))
        .unwrap();
    assert_eq!(cancelled_batch.state_text, "CANCELLED");
    assert_eq!(cancelled_batch.exit.unwrap().to_string(), "0:15");
    assert_eq!(cancelled_batch.max_rss_bytes, Some(216 << 10));
    let arr_step = rows.iter().find(|r| r.raw_id == "4.batch").unwrap();
    assert_eq!(arr_step.job_id, "2_1");
    // TotalCPU in MM:SS.mmm
    let oom_job = rows
        .iter()
        .find(|r| r.job_id == "7" && r.step.is_none())
        .unwrap();
    assert_eq!(oom_job.cpu_time_s, Some(0));
    assert_eq!(oom_job.req_mem_bytes, Some(100 << 20));
}

#[test]
fn scontrol_job_expands_what_scontrol_leaves() {
    let d = parse_scontrol_job(SCONTROL_CANCELLED.trim()).unwrap();
    assert_eq!(d.id, "8");
    assert_eq!(d.state, Some(JobState::Cancelled));
    assert_eq!(d.exit.unwrap().to_string(), "0:15");
    assert_eq!(d.user.as_deref(), Some("root"));
    assert_eq!(d.partition.as_deref(), Some("debug"));
    assert_eq!(d.timelimit_s, Some(600));
    assert_eq!(d.req_mem_bytes, Some(256 << 20));
    assert_eq!(d.command, None); // --wrap: (null)
                                 // scontrol printed /tmp/exp/long-long-root-%N-%%-8.out
    assert_eq!(
        d.stdout_path.as_deref(),
        Some("/tmp/exp/long-long-root-vm-%-8.out")
    );
    assert_eq!(d.work_dir.as_deref(), Some("/tmp/exp"));
    assert_eq!(d.raw.get("Power").map(String::as_str), Some(""));

    let tasks: Vec<_> = SCONTROL_ARRAY
        .lines()
        .filter_map(parse_scontrol_job)
        .collect();
    assert_eq!(tasks.len(), 4);
    assert_eq!(tasks[0].id, "2_3");
    assert_eq!(tasks[0].raw_id, "2");
    assert_eq!(tasks[3].id, "2_0");
    assert_eq!(tasks[3].raw_id, "3");
    assert_eq!(
        tasks[3].stdout_path.as_deref(),
        Some("/tmp/exp/arr-2_0.out")
    );

    let args = parse_scontrol_job(SCONTROL_ARGS.trim()).unwrap();
    assert_eq!(
        args.command.as_deref(),
        Some("/tmp/exp/args.sh lr=3e-4 two words")
    );
    assert_eq!(args.work_dir.as_deref(), Some("/tmp/exp"));
}

#[test]
fn partition_and_node_limits() {
    let p = parse_scontrol_partition(SCONTROL_PARTITION.trim()).unwrap();
    assert_eq!(p.name, "debug");
    assert_eq!(p.max_time_s, None); // UNLIMITED
    assert_eq!(p.max_mem_per_node_bytes, None);
    assert_eq!(p.nodes.as_deref(), Some("vm"));
    assert_eq!(p.total_cpus, Some(2));
    assert_eq!(parse_node_real_memory(SCONTROL_NODE), vec![23081u64 << 20]);

    let limited = parse_scontrol_partition(
        "PartitionName=gpu MaxTime=2-00:00:00 DefaultTime=01:00:00 Nodes=g[01-04] MaxMemPerCPU=8000 DefMemPerCPU=4000 TotalCPUs=128",
    )
    .unwrap();
    assert_eq!(limited.max_time_s, Some(2 * 86400));
    assert_eq!(limited.default_time_s, Some(3600));
    assert_eq!(limited.max_mem_per_cpu_bytes, Some(8000 << 20));
    assert_eq!(limited.def_mem_per_cpu_bytes, Some(4000 << 20));
}

#[test]
fn array_ids_and_patterns() {
    assert_eq!(expand_array_id("123"), ["123"]);
    assert_eq!(expand_array_id("123_4"), ["123_4"]);
    assert_eq!(
        expand_array_id("123_[4-7]"),
        ["123_4", "123_5", "123_6", "123_7"]
    );
    assert_eq!(expand_array_id("5_[1,3-4%2]"), ["5_1", "5_3", "5_4"]);
    assert_eq!(expand_array_id("5_[0-6:3]"), ["5_0", "5_3", "5_6"]);
    assert_eq!(expand_array_id("5_[x-y]"), ["5_[x-y]"]);
    assert_eq!(first_node("node[01-04,07]"), "node01");
    assert_eq!(first_node("a,b"), "a");
    let ctx = PatternContext {
        job_id: "17",
        array_job_id: "12",
        array_task_id: Some("3"),
        name: Some("train"),
        user: Some("ana"),
        node: Some("n01".into()),
    };
    assert_eq!(
        expand_output_pattern("%x-%A_%a-%j-%u-%N-%%j-%4a-%q.out", &ctx),
        "train-12_3-17-ana-n01-%j-0003-%q.out"
    );
}

#[test]
fn sbatch_parsable_forms_and_times() {
    assert_eq!(parse_sbatch_parsable("42\n"), Some(("42".into(), None)));
    assert_eq!(
        parse_sbatch_parsable("42;trackit\n"),
        Some(("42".into(), Some("trackit".into())))
    );
    assert_eq!(parse_sbatch_parsable("Submitted batch job 42\n"), None);
    assert_eq!(parse_sbatch_parsable(""), None);
    let t = parse_slurm_time("2026-11-28T19:09:02").unwrap();
    assert_eq!(format_slurm_time(t), "2026-11-28T19:09:02");
    assert_eq!(parse_slurm_time("Unknown"), None);
    assert_eq!(decode_wait_status("768").unwrap().to_string(), "3:0");
    assert_eq!(decode_wait_status("15").unwrap().to_string(), "0:15");
}

#[test]
fn sacct_half_written_job_line_right_after_the_end() {
    // Seen on the local cluster ~0.2 s after an OOM kill: the job line still PENDING with
    // ReqMem `16?` while the batch step already says RUNNING.
    let out = "27|27|PENDING|0:0|00:00:00|UNLIMITED|16?|00:00:00|1|vm|None|2026-11-28T19:17:30|Unknown|Unknown||/tmp/exp|oom\n\
               27.batch|27.batch|RUNNING|0:0|00:00:00|||00:00:00|1|vm||2026-11-28T19:17:30|2026-11-28T19:17:30|Unknown|||batch\n";
    let (rows, bad) = parse_sacct_with(out, &captured_fields());
    assert!(bad.is_empty());
    assert_eq!(rows[0].state, Some(JobState::Pending));
    assert_eq!(rows[0].req_mem_bytes, None);
    assert_eq!(rows[0].start_time, None);
    assert_eq!(rows[1].step.as_deref(), Some("batch"));
    assert_eq!(rows[1].max_rss_bytes, None);
}

#[test]
fn sacct_alloc_tres_with_the_current_format() {
    let (rows, bad) = parse_sacct(SACCT_TRES);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0].alloc_tres.as_deref(),
        Some("billing=1,cpu=1,mem=200M,node=1")
    );
    assert_eq!(rows[0].name.as_deref(), Some("wrap"));
    assert_eq!(rows[0].node_list.as_deref(), Some("vm"));
    assert_eq!(rows[1].step.as_deref(), Some("batch"));
    assert_eq!(
        rows[0].to_job_info().alloc_tres.as_deref(),
        Some("billing=1,cpu=1,mem=200M,node=1")
    );
    // No GPU on this cluster; the shapes SLURM documents for GPU nodes:
    assert_eq!(
        crate::job::gpus_from_tres("billing=1,cpu=1,mem=200M,node=1"),
        None
    );
    assert_eq!(
        crate::job::gpus_from_tres("billing=8,cpu=8,gres/gpu=2,gres/gpu:a100=2,mem=64G,node=1")
            .as_deref(),
        Some("2 × a100")
    );
    assert_eq!(
        crate::job::gpus_from_tres("cpu=4,mem=32G,node=1,billing=4,gres/gpu=1").as_deref(),
        Some("1 GPU")
    );
}

#[test]
fn an_output_pattern_pads_to_at_most_ten_digits() {
    let ctx = PatternContext {
        job_id: "42",
        array_job_id: "42",
        array_task_id: None,
        name: None,
        user: None,
        node: None,
    };
    assert_eq!(expand_output_pattern("%4j.out", &ctx), "0042.out");
    assert_eq!(expand_output_pattern("%12j", &ctx), "0000000042");
    // Found by fuzzing: a width past usize must not allocate.
    assert_eq!(
        expand_output_pattern("%99999999999999999999j", &ctx),
        "0000000042"
    );
}
