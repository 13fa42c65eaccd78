//! The tail reader on the logs that break naive readers.

use crate::helper::{stdout, trackit, write};
use std::io::{Seek, SeekFrom, Write};
use trackit::logtail::{read_tail, TailOptions};

#[test]
fn sparse_multi_gigabyte_log_reads_only_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.log");
    let mut f = std::fs::File::create(&path).unwrap();
    // 4 GiB of holes (no disk used), then the real ending.
    f.seek(SeekFrom::Start(4 << 30)).unwrap();
    f.write_all(b"\nepoch 99\nslurmstepd: error: *** JOB 9 ON n1 CANCELLED AT 2024-01-01T00:00:00 DUE TO TIME LIMIT ***\n").unwrap();
    drop(f);
    let tail = read_tail(&path, TailOptions::default()).unwrap();
    assert!(!tail.complete);
    assert_eq!(
        tail.lines.last().unwrap(),
        "slurmstepd: error: *** JOB 9 ON n1 CANCELLED AT 2024-01-01T00:00:00 DUE TO TIME LIMIT ***"
    );
    let out = trackit(&["diagnose", "--json", path.to_str().unwrap()], dir.path());
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["kind"], "timeout");
}

#[test]
fn carriage_return_flood_collapses() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("start\n");
    for i in 0..200_000 {
        text.push_str(&format!("\r{i:>6}/200000 [{}]", "#".repeat(i % 40)));
    }
    text.push_str("\nRuntimeError: CUDA out of memory. Tried to allocate 1.00 GiB\n");
    let path = write(dir.path(), "tqdm.log", &text);
    let tail = read_tail(&path, TailOptions::default()).unwrap();
    assert!(
        tail.lines.len() <= 3,
        "{:?}",
        &tail.lines[..tail.lines.len().min(5)]
    );
    assert!(tail.lines.iter().all(|l| l.len() <= 4096 + 16));
    assert_eq!(
        tail.lines.last().unwrap(),
        "RuntimeError: CUDA out of memory. Tried to allocate 1.00 GiB"
    );
}

#[test]
fn invalid_utf8_nul_and_ansi_do_not_break_diagnosis() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bin.log");
    let mut bytes = b"\x00\x00garbage \xff\xfe\xc3\x28 here\n".to_vec();
    bytes.extend_from_slice(b"\x1b[31mModuleNotFoundError: No module named 'torchvision'\x1b[0m\n");
    bytes.extend(std::iter::repeat_n(b'x', 1 << 20)); // one 1 MiB line with no newline
    std::fs::write(&path, &bytes).unwrap();
    let out = trackit(&["diagnose", "--json", path.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    // The 1 MiB line fills the window: the module line is outside it, so nothing is found,
    // and nothing crashed.
    assert_eq!(v["kind"], "none");
    let mut small = bytes.clone();
    small.truncate(bytes.len() - (1 << 20));
    std::fs::write(&path, &small).unwrap();
    let out = trackit(&["diagnose", "--json", path.to_str().unwrap()], dir.path());
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["kind"], "missing_dep");
    assert_eq!(v["captures"]["module"], "torchvision");
}

/// A log path that is a FIFO (no writer), a device or a directory is refused at once: opening
/// a FIFO for reading would block the tracker for ever.
#[test]
fn fifos_devices_and_directories_are_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("job.out");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let (tx, rx) = std::sync::mpsc::channel();
    for path in [fifo.clone(), "/dev/null".into(), dir.path().to_path_buf()] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let tail = read_tail(&path, TailOptions::default()).map(|_| ());
            let mut follower = trackit::logtail::follow::Follower::new(
                path.clone(),
                trackit::logtail::follow::Start::FromStart,
            );
            let follow = follower.poll().map(|_| ());
            let _ = tx.send((
                path,
                tail.map_err(|e| e.to_string()),
                follow.map_err(|e| e.to_string()),
            ));
        });
    }
    for _ in 0..3 {
        let (path, tail, follow) = rx
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("reading a FIFO, a device or a directory blocked");
        let tail = tail.expect_err("refused");
        assert!(
            tail.contains("not a regular file") || tail.contains("directory"),
            "{}: {tail}",
            path.display()
        );
        assert!(follow.is_err(), "{}: followed", path.display());
    }
}
