//! The incremental log follower against real files: appends, late files, truncation, rotation,
//! progress-bar floods, held-back partial lines and resuming from a stored position.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;
use trackit::logtail::follow::{FollowPosition, Follower, Start, MAX_PARTIAL};

fn append(path: &Path, bytes: &[u8]) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn appended_lines_appear_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("out.log");
    append(&log, b"a\nb\n");
    let mut f = Follower::new(&log, Start::FromStart);
    assert_eq!(f.poll().unwrap(), vec!["a", "b"]);
    assert!(f.poll().unwrap().is_empty());
    append(&log, b"c\n\x1b[32mgreen\x1b[0m\n");
    assert_eq!(f.poll().unwrap(), vec!["c", "green"]);
    assert!(f.poll().unwrap().is_empty());
    assert_eq!(f.last_lines(2), vec!["c", "green"]);
    assert_eq!(f.last_lines(100), vec!["a", "b", "c", "green"]);
}

#[test]
fn from_end_skips_what_was_there() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("out.log");
    append(&log, b"old\n");
    let mut f = Follower::new(&log, Start::FromEnd);
    assert!(f.poll().unwrap().is_empty());
    append(&log, b"new\n");
    assert_eq!(f.poll().unwrap(), vec!["new"]);
}

#[test]
fn a_file_that_appears_late_is_read_from_its_start() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("later.log");
    let mut f = Follower::new(&log, Start::FromEnd);
    assert!(f.poll().unwrap().is_empty());
    assert!(f.poll().unwrap().is_empty());
    // "From the end" of a file that did not exist yet: everything in it is new.
    append(&log, b"first\n");
    assert_eq!(f.poll().unwrap(), vec!["first"]);
    append(&log, b"second\n");
    assert_eq!(f.poll().unwrap(), vec!["second"]);

    let log2 = dir.path().join("later2.log");
    let mut g = Follower::new(&log2, Start::FromStart);
    assert!(g.poll().unwrap().is_empty());
    append(&log2, b"one\ntwo\n");
    assert_eq!(g.poll().unwrap(), vec!["one", "two"]);
}

#[test]
fn a_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Follower::new(dir.path(), Start::FromStart);
    let err = f.poll().unwrap_err();
    assert!(err.to_string().contains("directory"), "{err}");
}

#[test]
fn truncation_restarts_from_the_top() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("out.log");
    append(&log, b"1\n2\n3\n");
    let mut f = Follower::new(&log, Start::FromStart);
    assert_eq!(f.poll().unwrap().len(), 3);
    // `> out.log` then a new line: same inode, smaller than our offset.
    File::create(&log).unwrap().write_all(b"x\n").unwrap();
    assert_eq!(f.poll().unwrap(), vec!["x"]);
    append(&log, b"y\n");
    assert_eq!(f.poll().unwrap(), vec!["y"]);
}

#[test]
fn rotation_drains_the_old_file_then_reads_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("out.log");
    append(&log, b"old1\n");
    let mut f = Follower::new(&log, Start::FromStart);
    assert_eq!(f.poll().unwrap(), vec!["old1"]);
    // Written just before the rotation, then the logger moves on to a fresh file.
    append(&log, b"old2\nold-partial");
    fs::rename(&log, dir.path().join("out.log.1")).unwrap();
    append(&log, b"new1\n");
    assert_eq!(
        f.poll().unwrap(),
        vec!["old2", "old-partial", "new1"],
        "rotated lines lost or out of order"
    );
    append(&log, b"new2\n");
    assert_eq!(f.poll().unwrap(), vec!["new2"]);
}

#[test]
fn a_line_without_newline_is_held_back_until_completed() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("out.log");
    append(&log, b"done\nstep 1");
    let mut f = Follower::new(&log, Start::FromStart);
    assert_eq!(f.poll().unwrap(), vec!["done"]);
    assert_eq!(f.partial_line().as_deref(), Some("step 1"));
    append(&log, b"0 of 20");
    assert!(f.poll().unwrap().is_empty());
    append(&log, b"\n");
    assert_eq!(f.poll().unwrap(), vec!["step 10 of 20"]);
    assert_eq!(f.partial_line(), None);
}

#[test]
fn carriage_return_floods_collapse_and_stay_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("out.log");
    append(&log, b"epoch 1\n");
    let mut f = Follower::new(&log, Start::FromStart);
    assert_eq!(f.poll().unwrap(), vec!["epoch 1"]);
    // A tqdm bar redrawn 200,000 times (~6 MB) without a newline, read in several polls.
    let mut max_buffered = 0;
    for chunk in 0..20 {
        let mut bar = Vec::new();
        for i in 0..10_000 {
            let n = chunk * 10_000 + i + 1;
            write!(
                bar,
                "\r\x1b[2K{:>3}%|{}| {n}/200000",
                n / 2000,
                "#".repeat(8)
            )
            .unwrap();
        }
        append(&log, &bar);
        assert!(f.poll().unwrap().is_empty());
        max_buffered = max_buffered.max(f.buffered_bytes());
    }
    assert!(max_buffered <= MAX_PARTIAL, "buffer grew to {max_buffered}");
    assert_eq!(
        f.partial_line().as_deref(),
        Some("100%|########| 200000/200000")
    );
    append(&log, b"\nepoch 2\n");
    assert_eq!(
        f.poll().unwrap(),
        vec!["100%|########| 200000/200000", "epoch 2"]
    );
}

#[test]
fn a_huge_line_is_cut_not_buffered_whole() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("out.log");
    let mut f = Follower::new(&log, Start::FromStart).with_max_line(100);
    append(&log, &vec![b'x'; 3 * MAX_PARTIAL]);
    assert!(f.poll().unwrap().is_empty());
    assert!(f.buffered_bytes() <= MAX_PARTIAL);
    append(&log, b"tail\nnext\n");
    let lines = f.poll().unwrap();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("xxxx") && lines[0].ends_with("[cut]"));
    assert_eq!(lines[1], "next");
}

#[test]
fn resumes_from_a_stored_position() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("out.log");
    append(&log, b"a\nb\nhalf");
    let mut f = Follower::new(&log, Start::FromStart);
    assert_eq!(f.poll().unwrap(), vec!["a", "b"]);
    let stored = serde_json::to_string(&f.position()).unwrap();
    drop(f); // the tracker dies

    append(&log, b" line\nc\n");
    let pos: FollowPosition = serde_json::from_str(&stored).unwrap();
    assert_eq!(pos.offset, 4, "the position points at the held-back line");
    let mut g = Follower::resume(&log, pos);
    assert_eq!(g.poll().unwrap(), vec!["half line", "c"]);

    // Rotated while the tracker was away: the new file is read in full.
    fs::rename(&log, dir.path().join("out.log.1")).unwrap();
    append(&log, b"fresh\n");
    let mut h = Follower::resume(&log, g.position());
    assert_eq!(h.poll().unwrap(), vec!["fresh"]);

    // A stored offset past the end (file replaced by a shorter one, same inode) restarts.
    let mut k = Follower::resume(
        &log,
        FollowPosition {
            offset: 1_000_000,
            ..h.position()
        },
    );
    assert_eq!(k.poll().unwrap(), vec!["fresh"]);
}
