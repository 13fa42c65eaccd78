//! A bounded breadth-first walk of a folder tree, shared by results discovery and
//! `trackit.fs.find`: shallow entries are seen before the entry budget runs out, children in
//! name order, symbolic links never followed.

use std::collections::VecDeque;
use std::fs::{DirEntry, FileType};
use std::path::{Path, PathBuf};

/// What the visitor wants after an entry.
pub enum Step {
    Continue,
    Stop,
}

/// Calls `visit(entry, name, file_type, depth)` for every entry under `root` (depth 0 for its
/// children), descending into a folder when `depth < max_depth` and `descend(name, path)` allows
/// it. Returns `false` when more than `max_entries` entries were seen (the walk stopped there),
/// else `true` (done, or stopped by the visitor).
pub fn breadth_first(
    root: &Path,
    max_depth: usize,
    max_entries: usize,
    descend: impl Fn(&str, &Path) -> bool,
    mut visit: impl FnMut(&DirEntry, &str, FileType, usize) -> Step,
) -> bool {
    let mut seen = 0usize;
    let mut queue = VecDeque::from([(root.to_path_buf(), 0usize)]);
    while let Some((dir, depth)) = queue.pop_front() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut children: Vec<_> = read.filter_map(|e| e.ok()).collect();
        children.sort_by_key(|e| e.file_name());
        for entry in children {
            seen += 1;
            if seen > max_entries {
                return false;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if let Step::Stop = visit(&entry, &name, kind, depth) {
                return true;
            }
            let path: PathBuf = entry.path();
            if kind.is_dir() && depth < max_depth && descend(&name, &path) {
                queue.push_back((path, depth + 1));
            }
        }
    }
    true
}
