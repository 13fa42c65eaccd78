//! The track index: every track this user started, wherever its repository is, so that `list`,
//! `status`, `logs`, `resume` and `cancel` work from any directory.
//!
//! One small versioned JSON file, `$XDG_STATE_HOME/trackit/index.json` (else
//! `~/.local/state/trackit/index.json`), mapping a track id to the folder that holds its
//! `.trackit/tracks/<id>/`. The track's state stays there; the index only points at it. Every
//! change is a read-modify-write under an exclusive `flock` on `index.lock`, written atomically
//! (temp file, fsync, rename), so two trackit processes never lose each other's entries and a
//! reader never sees half a file.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::fs::OpenOptions;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// The index format version this build writes.
pub const INDEX_VERSION: u32 = 1;

/// One track: where it lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    /// The folder holding `.trackit/tracks/<id>/`: the repository root, or the working
    /// directory outside git.
    pub root: PathBuf,
    pub experiment: String,
    pub created_at: String,
}

impl Entry {
    /// The track's folder.
    pub fn track_dir(&self) -> crate::track::store::TrackDir {
        crate::track::store::TrackDir::new(&self.root, &self.id)
    }

    /// Where the track is, if it is not where the index says: its repository moved or was
    /// deleted, or the track's folder was removed.
    pub fn missing(&self) -> Option<String> {
        if self.track_dir().exists() {
            return None;
        }
        Some(if self.root.is_dir() {
            format!("its state is gone from {}", self.track_dir().dir.display())
        } else {
            format!(
                "{} is gone (moved or deleted); run any trackit command inside the moved repository to find it again",
                self.root.display()
            )
        })
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct IndexFile {
    version: u32,
    #[serde(default)]
    tracks: Vec<Entry>,
}

/// The index at a path.
#[derive(Debug, Clone)]
pub struct Index {
    path: PathBuf,
}

impl Index {
    pub fn at(path: impl Into<PathBuf>) -> Index {
        Index { path: path.into() }
    }

    /// The user's index (see the module docs), or None without a home folder.
    pub fn user() -> Option<Index> {
        crate::config::state_dir().map(|d| Index::at(d.join("index.json")))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All entries, oldest first (ids start with their creation time). A missing index is
    /// empty.
    pub fn entries(&self) -> Result<Vec<Entry>> {
        Ok(self.read()?.tracks)
    }

    /// Adds or updates entries (keyed by id and root). An entry with the same id whose state is
    /// gone from its old root is replaced: the repository moved.
    pub fn record(&self, new: &[Entry]) -> Result<()> {
        if new.is_empty() {
            return Ok(());
        }
        self.update(|tracks| {
            for e in new {
                tracks.retain(|t| !(t.id == e.id && (t.root == e.root || !t.track_dir().exists())));
                tracks.push(e.clone());
            }
        })
    }

    /// Drops the entries of a track id at a root.
    pub fn forget(&self, id: &str, root: &Path) -> Result<()> {
        self.update(|tracks| tracks.retain(|t| !(t.id == id && t.root == root)))
    }

    fn read(&self) -> Result<IndexFile> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(IndexFile::default()),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", self.path.display()))
            }
        };
        let file: IndexFile = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a track index", self.path.display()))?;
        if file.version > INDEX_VERSION {
            bail!(
                "{} was written by a newer trackit (index version {}, this one reads up to {INDEX_VERSION}): upgrade trackit",
                self.path.display(),
                file.version
            );
        }
        Ok(file)
    }

    /// Read-modify-write under the lock, then an atomic replace.
    fn update(&self, change: impl FnOnce(&mut Vec<Entry>)) -> Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let lock_path = self.path.with_extension("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("cannot open {}", lock_path.display()))?;
        // SAFETY: flock on a file descriptor we own; released when `lock` is closed.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("cannot lock {}", lock_path.display()));
        }
        let mut file = self.read()?;
        change(&mut file.tracks);
        file.tracks
            .sort_by(|a, b| a.id.cmp(&b.id).then_with(|| a.root.cmp(&b.root)));
        file.version = INDEX_VERSION;
        let mut body = serde_json::to_vec_pretty(&file)?;
        body.push(b'\n');
        crate::atomic_file::write(&self.path, &body)
            .with_context(|| format!("cannot replace {}", self.path.display()))?;
        crate::atomic_file::sync_parent(&self.path);
        drop(lock);
        Ok(())
    }
}

/// Records tracks in the user's index. Best effort: a track works without the index (from its
/// own repository), so a failure is a warning, not an error.
pub fn remember(entries: &[Entry]) {
    let Some(index) = Index::user() else { return };
    if let Err(e) = index.record(entries) {
        tracing::warn!("cannot update the track index: {e:#}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, root: &Path) -> Entry {
        Entry {
            id: id.into(),
            root: root.to_path_buf(),
            experiment: "x".into(),
            created_at: "2026-11-28T12:00:00Z".into(),
        }
    }

    fn make_track(root: &Path, id: &str) {
        crate::track::store::TrackDir::new(root, id)
            .save(&serde_json::json!({}))
            .unwrap();
    }

    #[test]
    fn record_update_and_forget() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::at(dir.path().join("state/index.json"));
        assert!(
            index.entries().unwrap().is_empty(),
            "a missing index is empty"
        );
        let repo = dir.path().join("repo");
        make_track(&repo, "20261128-120000-b");
        make_track(&repo, "20261128-110000-a");
        index.record(&[entry("20261128-120000-b", &repo)]).unwrap();
        index.record(&[entry("20261128-110000-a", &repo)]).unwrap();
        index.record(&[entry("20261128-110000-a", &repo)]).unwrap();
        let ids: Vec<String> = index.entries().unwrap().into_iter().map(|e| e.id).collect();
        assert_eq!(
            ids,
            ["20261128-110000-a", "20261128-120000-b"],
            "oldest first, once"
        );
        assert!(!dir.path().join("state/index.json.partial").exists());
        index.forget("20261128-110000-a", &repo).unwrap();
        assert_eq!(index.entries().unwrap().len(), 1);
    }

    #[test]
    fn a_moved_repository_is_reported_then_found_again() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::at(dir.path().join("index.json"));
        let old = dir.path().join("old");
        make_track(&old, "20261128-120000-x");
        index.record(&[entry("20261128-120000-x", &old)]).unwrap();
        assert_eq!(index.entries().unwrap()[0].missing(), None);
        let new = dir.path().join("new");
        std::fs::rename(&old, &new).unwrap();
        let e = &index.entries().unwrap()[0];
        assert!(
            e.missing().unwrap().contains("moved or deleted"),
            "{:?}",
            e.missing()
        );
        // Seen again from its new place: the old entry is replaced, not duplicated.
        index.record(&[entry("20261128-120000-x", &new)]).unwrap();
        let all = index.entries().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].root, new);
        assert_eq!(all[0].missing(), None);
    }

    #[test]
    fn concurrent_writers_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.json");
        let root = dir.path().join("repo");
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (path, root) = (path.clone(), root.clone());
                std::thread::spawn(move || {
                    for j in 0..10 {
                        Index::at(&path)
                            .record(&[entry(&format!("20261128-1200{i}{j}-t"), &root)])
                            .unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(Index::at(&path).entries().unwrap().len(), 80);
    }

    #[test]
    fn a_newer_index_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.json");
        std::fs::write(&path, r#"{"version": 9, "tracks": []}"#).unwrap();
        let e = Index::at(&path).entries().unwrap_err().to_string();
        assert!(e.contains("newer trackit"), "{e}");
    }
}
