//! Following a growing log: new complete lines since the last look.
//!
//! Polls with `stat` and reads from the remembered byte offset; no inotify, which misses writes
//! made by other nodes on shared cluster filesystems. A missing file is not an error (the job
//! may not have started writing). Truncation (size below the offset) restarts from the top;
//! rotation (a different inode at the path) first drains what is left of the old file through
//! the handle still open, then reads the new one from its start. A last line without its
//! newline is held back until it is completed; its buffer is bounded (`\r` progress redraws
//! collapse to the latest state; a huge line keeps its head). The position is serialisable so
//! the tracker resumes where it stopped.

use super::{clean_line, DEFAULT_MAX_LINE};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Most bytes read by one `poll`; the rest waits for the next call.
pub const MAX_READ_PER_POLL: u64 = 8 << 20;
/// Most bytes of one unfinished line kept in memory.
pub const MAX_PARTIAL: usize = 64 * 1024;
/// Lines kept for [`Follower::last_lines`].
pub const RECENT_LINES: usize = 200;

/// Where a new follower starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Start {
    FromStart,
    /// Only what is written from now on: the end of the file as first seen, or the whole file
    /// if it does not exist yet at the first poll.
    FromEnd,
    Offset(u64),
}

/// A resumable position: the offset of the first byte not yet returned as part of a complete
/// line, and the identity of the file it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowPosition {
    pub offset: u64,
    #[serde(default)]
    pub dev: Option<u64>,
    #[serde(default)]
    pub inode: Option<u64>,
}

/// Why a poll failed (a missing file is not a failure).
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error("cannot follow log {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot follow log {path}: it is a directory")]
    IsDir { path: PathBuf },
}

/// Follows one log file across appends, truncation and rotation.
#[derive(Debug)]
pub struct Follower {
    path: PathBuf,
    /// Applied when the file is first seen.
    start: Start,
    /// The open file and its (dev, inode).
    file: Option<(File, (u64, u64))>,
    /// Bytes of the current file consumed (including those in `partial`).
    offset: u64,
    /// Offset where the held-back partial line starts (the resume point).
    line_start: u64,
    /// Identity from a resumed position, checked against the file when first seen.
    resume_identity: Option<(u64, u64)>,
    partial: Vec<u8>,
    /// True while the rest of an over-long line is being skipped.
    skipping: bool,
    recent: VecDeque<String>,
    max_line: usize,
}

impl Follower {
    pub fn new(path: impl Into<PathBuf>, start: Start) -> Self {
        Follower {
            path: path.into(),
            start,
            file: None,
            offset: 0,
            line_start: 0,
            resume_identity: None,
            partial: Vec::new(),
            skipping: false,
            recent: VecDeque::new(),
            max_line: DEFAULT_MAX_LINE,
        }
    }

    /// Resumes from a stored position. If the file at `path` is no longer the one the position
    /// belongs to (rotated while the tracker was away), the new file is read from its start.
    pub fn resume(path: impl Into<PathBuf>, pos: FollowPosition) -> Self {
        let mut f = Follower::new(path, Start::Offset(pos.offset));
        f.resume_identity = pos.dev.zip(pos.inode);
        f
    }

    /// Cap on one returned line (longer lines are cut by `clean_line`).
    pub fn with_max_line(mut self, max_line: usize) -> Self {
        self.max_line = max_line.max(1);
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where to resume: the start of the held-back partial line, so it is read again in full.
    pub fn position(&self) -> FollowPosition {
        let identity = self
            .file
            .as_ref()
            .map(|(_, id)| *id)
            .or(self.resume_identity);
        let offset = match (&self.file, self.start) {
            (Some(_), _) => self.line_start,
            (None, Start::Offset(o)) => o,
            (None, _) => 0,
        };
        FollowPosition {
            offset,
            dev: identity.map(|(d, _)| d),
            inode: identity.map(|(_, i)| i),
        }
    }

    /// Up to `n` most recent complete lines, oldest first.
    pub fn last_lines(&self, n: usize) -> Vec<String> {
        let skip = self.recent.len().saturating_sub(n);
        self.recent.iter().skip(skip).cloned().collect()
    }

    /// The unfinished last line as it would show now (e.g. a progress bar), if any.
    pub fn partial_line(&self) -> Option<String> {
        let line = clean_line(&self.partial, self.max_line);
        (!line.trim().is_empty()).then_some(line)
    }

    /// Bytes held for the unfinished last line (bounded by [`MAX_PARTIAL`]).
    pub fn buffered_bytes(&self) -> usize {
        self.partial.len()
    }

    /// New complete, cleaned lines since the last call. Empty while the file does not exist.
    pub fn poll(&mut self) -> Result<Vec<String>, FollowError> {
        let path = self.path.clone();
        let io_err = move |source| FollowError::Io {
            path: path.clone(),
            source,
        };
        let mut out = Vec::new();
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(io_err(e)),
        };
        if meta.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(FollowError::IsDir {
                path: self.path.clone(),
            });
        }
        let identity = meta.as_ref().map(|m| (m.dev(), m.ino()));

        // Rotated or removed: finish the old file through the open handle first.
        if self.file.is_some() && self.file.as_ref().map(|(_, id)| *id) != identity {
            self.read_available(&mut out, u64::MAX)?;
            self.flush_partial(&mut out);
            self.file = None;
            self.offset = 0;
            self.line_start = 0;
            self.start = Start::FromStart;
        }
        let Some(meta) = meta else {
            // "From the end" of a file that does not exist yet is its start: all of it is new.
            if self.start == Start::FromEnd {
                self.start = Start::FromStart;
            }
            return Ok(out);
        };
        if self.file.is_none() {
            if !meta.is_file() {
                return Err(FollowError::Io {
                    path: self.path.clone(),
                    source: std::io::Error::new(
                        ErrorKind::InvalidInput,
                        format!("it is {}, not a regular file", super::file_kind(&meta)),
                    ),
                });
            }
            let file = match super::open_regular(&self.path) {
                Ok(f) => f,
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(out),
                Err(e) => return Err(io_err(e)),
            };
            let id = identity.unwrap_or_default();
            self.offset = match self.start {
                Start::FromStart => 0,
                Start::FromEnd => meta.len(),
                // Another file than the stored position's: all of it is new to us.
                Start::Offset(_) if self.resume_identity.is_some_and(|r| r != id) => 0,
                Start::Offset(o) if o > meta.len() => 0,
                Start::Offset(o) => o,
            };
            self.line_start = self.offset;
            self.resume_identity = None;
            self.file = Some((file, id));
        }
        self.read_available(&mut out, MAX_READ_PER_POLL)?;
        Ok(out)
    }

    /// Reads from the open file up to `budget` bytes, splitting into lines.
    fn read_available(&mut self, out: &mut Vec<String>, budget: u64) -> Result<(), FollowError> {
        let path = self.path.clone();
        let io_err = move |source| FollowError::Io {
            path: path.clone(),
            source,
        };
        let Some((file, _)) = self.file.as_ref() else {
            return Ok(());
        };
        let size = file.metadata().map_err(&io_err)?.len();
        if size < self.offset {
            // Truncated in place: what was held back belonged to the old content.
            self.flush_partial(out);
            self.offset = 0;
            self.line_start = 0;
        }
        let want = (size - self.offset).min(budget);
        if want == 0 {
            return Ok(());
        }
        let Some((file, _)) = self.file.as_mut() else {
            return Ok(());
        };
        let mut buf = Vec::with_capacity(want.min(1 << 20) as usize);
        file.seek(SeekFrom::Start(self.offset))
            .and_then(|_| file.take(want).read_to_end(&mut buf))
            .map_err(io_err)?;
        self.consume(&buf, out);
        Ok(())
    }

    fn consume(&mut self, mut bytes: &[u8], out: &mut Vec<String>) {
        while let Some(nl) = bytes.iter().position(|&b| b == b'\n') {
            if !self.skipping {
                self.partial.extend_from_slice(&bytes[..nl]);
            }
            let line = clean_line(&self.partial, self.max_line);
            self.push_line(out, line);
            self.partial.clear();
            self.skipping = false;
            self.offset += nl as u64 + 1;
            self.line_start = self.offset;
            bytes = &bytes[nl + 1..];
        }
        self.offset += bytes.len() as u64;
        if !self.skipping {
            self.partial.extend_from_slice(bytes);
            self.bound_partial();
        }
    }

    /// Keeps the unfinished line small: a `\r` redraw only shows its last state, so older
    /// states go; a genuinely huge line keeps its head (it is cut on output anyway).
    fn bound_partial(&mut self) {
        if self.partial.len() <= MAX_PARTIAL {
            return;
        }
        // The last '\r' that starts a non-empty state (what clean_line would show).
        let mut end = self.partial.len();
        while let Some(cr) = self.partial[..end].iter().rposition(|&b| b == b'\r') {
            if self.partial[cr + 1..end]
                .iter()
                .any(|b| !b.is_ascii_whitespace())
            {
                self.partial.drain(..cr + 1);
                break;
            }
            end = cr;
        }
        if self.partial.len() > MAX_PARTIAL {
            self.partial.truncate(MAX_PARTIAL);
            self.skipping = true;
        }
    }

    fn flush_partial(&mut self, out: &mut Vec<String>) {
        if !self.partial.is_empty() {
            let line = clean_line(&self.partial, self.max_line);
            self.push_line(out, line);
        }
        self.partial.clear();
        self.skipping = false;
    }

    fn push_line(&mut self, out: &mut Vec<String>, line: String) {
        if self.recent.len() == RECENT_LINES {
            self.recent.pop_front();
        }
        self.recent.push_back(line.clone());
        out.push(line);
    }
}
