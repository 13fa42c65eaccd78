//! `cargo bench --bench log_metrics`: reading a job's printed metrics, the part of collecting
//! results that scales with the log (a log is read up to its last 32 MiB).
//!
//! A synthetic 32 MiB training log (tqdm `\r` redraws with postfix metrics, one
//! `epoch N: val_loss=... val_acc=...` line per 2000 steps) is read with trackit's own line
//! parser and with a policy's `parse_metrics` hook that hands every line to it. Wall time is the
//! median of the runs. Results go to stdout as markdown for docs/benchmarks.md.

use std::time::{Duration, Instant};
use trackit::lua::{GuardedPolicy, PolicySource};

const RUNS: usize = 5;

fn make_log(size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 256);
    let mut step = 0u64;
    while out.len() < size {
        step += 1;
        let epoch = step / 2000;
        let line = if step % 2000 == 0 {
            format!(
                "\nepoch {epoch}: val_loss={:.4} val_acc={:.4}\n",
                1.0 / (1.0 + epoch as f64),
                0.5 + epoch as f64 / 200.0
            )
        } else {
            format!(
                "\rEpoch {epoch}: {:>3}%|{:<10}| {}/2000 [00:{:02}<00:00, 91.3it/s, loss={:.4}, lr=0.0003]",
                (step % 2000) / 20,
                "#".repeat(((step % 2000) / 200) as usize),
                step % 2000,
                step % 60,
                2.0 / (step as f64).sqrt()
            )
        };
        out.extend_from_slice(line.as_bytes());
    }
    out
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let log = make_log(trackit::results::MAX_LOG_BYTES);
    let lines = log.iter().filter(|&&b| b == b'\r' || b == b'\n').count();
    let mut times = Vec::new();
    let mut points = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        let r = trackit::results::log_metrics(&log);
        times.push(t.elapsed());
        points = r.series.iter().map(|s| s.points.len()).sum::<usize>();
    }
    let default = median(times);

    let dir = std::env::temp_dir().join(format!("trackit-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let policy = dir.join("p.lua");
    std::fs::write(
        &policy,
        "local base = require('trackit.default')\nreturn trackit.extend(base, { parse_metrics = function(line) return trackit.metrics.parse_line(line) end })\n",
    )
    .unwrap();
    let mut g = GuardedPolicy::load(&PolicySource::File(policy));
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let r = g.log_metrics(&log);
        times.push(t.elapsed());
        assert_eq!(
            r.series.iter().map(|s| s.points.len()).sum::<usize>(),
            points
        );
    }
    assert!(g.take_errors().is_empty());
    let hooked = median(times);
    let _ = std::fs::remove_dir_all(&dir);

    let mib = log.len() as f64 / (1 << 20) as f64;
    println!(
        "| log | lines (`\\r` and `\\n`) | points | default parser | `parse_metrics` hook (Lua) |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| {mib:.0} MiB synthetic tqdm log | {lines} | {points} | {:.2} s ({:.0} MiB/s) | {:.2} s ({:.1} µs/line) |",
        default.as_secs_f64(),
        mib / default.as_secs_f64(),
        hooked.as_secs_f64(),
        hooked.as_secs_f64() * 1e6 / lines as f64
    );
}
