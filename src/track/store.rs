//! Durable track storage: a versioned JSON state file written atomically (temp file, fsync,
//! rename) and an append-only JSON-lines event log, under `.trackit/tracks/<id>/`.
//!
//! The state is generic here: the engine decides what it holds. The store only guarantees that a
//! reader sees either the old or the new state, never half of one, and that events are appended
//! whole.

use anyhow::{bail, Context, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// The state format version this build writes. Older versions are migrated on load.
pub const STATE_VERSION: u32 = 1;

/// Where one track lives.
#[derive(Debug, Clone)]
pub struct TrackDir {
    pub dir: PathBuf,
}

/// One line of the event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// RFC 3339 time.
    pub at: String,
    /// What happened: `submitted`, `state`, `diagnosed`, `relaunched`, `policy_error`, ...
    pub event: String,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub data: serde_json::Value,
}

impl TrackDir {
    /// `.trackit/tracks/<id>` under `root`.
    pub fn new(root: &Path, id: &str) -> TrackDir {
        TrackDir {
            dir: tracks_dir(root).join(id),
        }
    }

    /// Claims a new track's folder: `<id>`, or `<id>-2`, `<id>-3`... when that id is taken (two
    /// tracks started in the same second). The folder is made with one `mkdir`, which fails if
    /// it exists, so two trackers can never claim the same id and none overwrites another.
    pub fn claim(root: &Path, id: &str) -> Result<(TrackDir, String)> {
        let parent = tracks_dir(root);
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        for n in 1..1000 {
            let candidate = if n == 1 {
                id.to_string()
            } else {
                format!("{id}-{n}")
            };
            match std::fs::create_dir(parent.join(&candidate)) {
                Ok(()) => {
                    return Ok((
                        TrackDir {
                            dir: parent.join(&candidate),
                        },
                        candidate,
                    ))
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("cannot create {}", parent.join(&candidate).display())
                    })
                }
            }
        }
        bail!("no free track id for {id} under {}", parent.display())
    }

    pub fn state_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    pub fn events_path(&self) -> PathBuf {
        self.dir.join("events.jsonl")
    }

    pub fn exists(&self) -> bool {
        self.state_path().is_file()
    }

    /// Writes the state atomically (a synced temporary file renamed over `state.json`), then
    /// syncs the directory. A crash at any point leaves the previous state or the new one.
    pub fn save<S: Serialize>(&self, state: &S) -> Result<()> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        let mut body = serde_json::to_vec_pretty(&Versioned {
            version: STATE_VERSION,
            state,
        })?;
        body.push(b'\n');
        let path = self.state_path();
        crate::atomic_file::write(&path, &body)
            .with_context(|| format!("cannot replace {}", path.display()))?;
        crate::atomic_file::sync_parent(&path);
        Ok(())
    }

    /// Reads the state, refusing a version newer than this build understands.
    pub fn load<S: DeserializeOwned>(&self) -> Result<S> {
        let path = self.state_path();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let raw: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        let version = raw.get("version").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
        if version > STATE_VERSION {
            bail!(
                "{} was written by a newer trackit (state version {version}, this one reads up to {STATE_VERSION}): upgrade trackit",
                path.display()
            );
        }
        let state = raw.get("state").cloned().unwrap_or(serde_json::Value::Null);
        serde_json::from_value(state)
            .with_context(|| format!("{}: unexpected state shape", path.display()))
    }

    /// Appends one event as a single `write` of one line, so concurrent readers never see half.
    pub fn append_event(&self, event: &str, data: serde_json::Value) -> Result<Event> {
        std::fs::create_dir_all(&self.dir)?;
        let ev = Event {
            at: chrono::Utc::now().to_rfc3339(),
            event: event.to_string(),
            data,
        };
        let mut line = serde_json::to_vec(&ev)?;
        line.push(b'\n');
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.events_path())?;
        f.write_all(&line)?;
        Ok(ev)
    }

    /// All events; a torn last line (a crash mid-write) is skipped.
    pub fn events(&self) -> Result<Vec<Event>> {
        let f = match File::open(self.events_path()) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::new();
        for line in BufReader::new(f).lines() {
            let line = line?;
            if let Ok(ev) = serde_json::from_str::<Event>(&line) {
                out.push(ev);
            }
        }
        Ok(out)
    }
}

#[derive(Serialize)]
struct Versioned<'a, S> {
    version: u32,
    state: &'a S,
}

/// `.trackit/tracks` under a root.
pub fn tracks_dir(root: &Path) -> PathBuf {
    root.join(".trackit").join("tracks")
}

/// The ids of all tracks under `root`, oldest first (ids start with a timestamp).
pub fn list_ids(root: &Path) -> Result<Vec<String>> {
    let dir = tracks_dir(root);
    let mut ids = Vec::new();
    match std::fs::read_dir(&dir) {
        Ok(rd) => {
            for entry in rd {
                let entry = entry?;
                if entry.path().join("state.json").is_file() {
                    ids.push(entry.file_name().to_string_lossy().into_owned());
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    ids.sort();
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct S {
        n: u32,
    }

    #[test]
    fn save_load_and_events() {
        let root = tempfile::tempdir().unwrap();
        let t = TrackDir::new(root.path(), "20261128-1200-x");
        t.save(&S { n: 1 }).unwrap();
        t.save(&S { n: 2 }).unwrap();
        assert_eq!(t.load::<S>().unwrap(), S { n: 2 });
        let leftovers: Vec<_> = std::fs::read_dir(&t.dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
            .collect();
        assert!(leftovers.is_empty());
        t.append_event("submitted", serde_json::json!({"job": "12"}))
            .unwrap();
        // A torn line from a crash is skipped, not fatal.
        let mut f = OpenOptions::new()
            .append(true)
            .open(t.events_path())
            .unwrap();
        f.write_all(b"{\"at\":\"2026").unwrap();
        let evs = t.events().unwrap();
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].data["job"], "12");
        assert_eq!(list_ids(root.path()).unwrap(), vec!["20261128-1200-x"]);
    }

    #[test]
    fn claimed_ids_are_unique() {
        let root = tempfile::tempdir().unwrap();
        let ids: Vec<String> = (0..3)
            .map(|_| TrackDir::claim(root.path(), "20261129-1200-x").unwrap().1)
            .collect();
        assert_eq!(
            ids,
            ["20261129-1200-x", "20261129-1200-x-2", "20261129-1200-x-3"]
        );
    }

    #[test]
    fn newer_versions_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let t = TrackDir::new(root.path(), "x");
        std::fs::create_dir_all(&t.dir).unwrap();
        std::fs::write(t.state_path(), r#"{"version": 99, "state": {"n": 1}}"#).unwrap();
        let err = t.load::<S>().unwrap_err().to_string();
        assert!(err.contains("newer trackit"), "{err}");
    }
}
