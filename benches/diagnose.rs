//! `cargo bench --bench diagnose`: end-to-end `trackit diagnose` on a 1 GiB and a 10 MiB log,
//! and on a log of real, varied lines (the corpus' dev logs one after another).
//!
//! Each run is a fresh process (policy load, rule compilation, tail read, diagnosis, output), as
//! a user or the tracker runs it. Wall time is the median of the runs; peak RSS comes from
//! `wait4`'s rusage. Results go to stdout as a markdown table for docs/benchmarks.md.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 21;

/// Writes a realistic training log of `size` bytes: progress lines, tqdm `\r` updates and,
/// at the very end, a CUDA OOM traceback.
fn make_log(path: &Path, size: u64) {
    if path.metadata().map(|m| m.len() == size).unwrap_or(false) {
        return;
    }
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let ending = b"Traceback (most recent call last):\n  File \"train.py\", line 88, in <module>\n    loss.backward()\ntorch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.15 GiB of which 1.02 GiB is free.\n";
    let body = size - ending.len() as u64;
    let mut written = 0u64;
    let mut step = 0u64;
    while written < body {
        step += 1;
        let line = if step % 50 == 0 {
            format!(
                "epoch {} step {step} loss {:.4} lr 3.0e-04 grad_norm 1.25\n",
                step / 1000,
                2.0 / (step as f64).sqrt()
            )
        } else {
            format!(
                "\r{:>3}%|{:<20}| {step}/1000000 [00:{:02}<00:00, 12.3it/s]",
                step % 100,
                "#".repeat((step % 20) as usize),
                step % 60
            )
        };
        let bytes = line.as_bytes();
        let take = bytes.len().min((body - written) as usize);
        f.write_all(&bytes[..take]).unwrap();
        written += take as u64;
    }
    f.write_all(ending).unwrap();
}

/// Writes a log of real lines: the corpus' dev logs one after another until `size` bytes, then
/// the same CUDA OOM ending. Unlike a training log's repeated progress lines, every line differs,
/// as in the tail of a job that printed many kinds of messages; the tail window is all of it.
fn make_real_lines_log(path: &Path, size: usize) {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus/dev/logs");
    let mut logs: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    logs.sort();
    let mut text = Vec::with_capacity(size + 4096);
    for log in logs {
        if text.len() >= size {
            break;
        }
        text.extend(std::fs::read(&log).unwrap());
        text.push(b'\n');
    }
    text.truncate(size);
    text.extend_from_slice(b"\nTraceback (most recent call last):\n  File \"train.py\", line 88, in <module>\n    loss.backward()\ntorch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.\n");
    std::fs::write(path, text).unwrap();
}

/// Runs the binary once; returns (wall time, peak RSS in KiB).
fn run_once(bin: &Path, log: &Path, expect_oom: bool) -> (Duration, i64) {
    let start = Instant::now();
    let child = Command::new(bin)
        .args(["diagnose", "--json"])
        .arg(log)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // wait4 reaps the child and reports its own peak RSS (not ours).
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let took = start.elapsed();
    assert_eq!(r, pid);
    assert_eq!(status, 0, "trackit diagnose failed");
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.unwrap(), &mut out).unwrap();
    // On the real lines, other failures' evidence competes with the OOM; any verdict will do.
    assert!(!expect_oom || out.contains("\"kind\":\"oom\""), "{out}");
    (took, usage.ru_maxrss)
}

fn main() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_trackit"));
    let dir = std::env::var_os("TRACKIT_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let cases = [
        ("10 MiB", 10u64 << 20, dir.join("trackit-bench-10m.log")),
        ("1 GiB", 1u64 << 30, dir.join("trackit-bench-1g.log")),
        (
            "256 KiB of real lines",
            256 << 10,
            dir.join("trackit-bench-real.log"),
        ),
    ];
    println!("| log | runs | median wall | min wall | max wall | peak RSS |");
    println!("|---|---|---|---|---|---|");
    let mut medians = Vec::new();
    for (label, size, path) in &cases {
        let synthetic = *size > 1 << 20;
        if synthetic {
            make_log(path, *size);
        } else {
            make_real_lines_log(path, *size as usize);
        }
        // Warm the page cache for the tail (as a just-finished job's log would be).
        run_once(&bin, path, synthetic);
        let mut times = Vec::new();
        let mut rss = 0;
        for _ in 0..RUNS {
            let (t, r) = run_once(&bin, path, synthetic);
            times.push(t);
            rss = rss.max(r);
        }
        times.sort();
        let median = times[RUNS / 2];
        medians.push(median);
        println!(
            "| {label} | {RUNS} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} MB |",
            median.as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3,
            times[RUNS - 1].as_secs_f64() * 1e3,
            rss as f64 / 1024.0
        );
    }
    println!(
        "\n1 GiB / 10 MiB median ratio: {:.2}",
        medians[1].as_secs_f64() / medians[0].as_secs_f64()
    );
    if std::env::var_os("TRACKIT_BENCH_KEEP").is_none() {
        for (_, _, p) in &cases {
            let _ = std::fs::remove_file(p);
        }
    }
}
