//! One writer at a time for a results branch shared by several tracks (runs of one experiment
//! on one day, a pipeline's steps): an exclusive `flock` on a file in the repository's git
//! folder, held while the doc is rewritten, committed and pushed, and while the PR body is
//! read and rewritten. Trackers on other machines are serialised by the push instead (a
//! rejected push takes the remote's branch and renders again on top of it).

use super::error::{GitError, Result};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct BranchLock {
    _file: File,
}

impl BranchLock {
    /// Waits up to `timeout` for the lock of `branch` in the repository at `repo_root`.
    pub fn acquire(repo_root: &Path, branch: &str, timeout: Duration) -> Result<BranchLock> {
        let git_dir = git2::Repository::open(repo_root)
            .map(|r| r.commondir().to_path_buf())
            .map_err(|source| GitError::Git {
                context: format!("opening {}", repo_root.display()),
                source,
            })?;
        let name: String = branch
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = git_dir.join(format!("trackit-{name}.lock"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| GitError::Git {
                context: format!("opening {}", path.display()),
                source: git2::Error::from_str(&e.to_string()),
            })?;
        let end = Instant::now() + timeout;
        loop {
            // SAFETY: flock on a descriptor we own; released when the file is dropped.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                return Ok(BranchLock { _file: file });
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                // No lock support here: go on unserialised rather than stop publishing.
                tracing::debug!("flock {}: {err}", path.display());
                return Ok(BranchLock { _file: file });
            }
            if Instant::now() >= end {
                return Err(GitError::Git {
                    context: format!("waiting for {}", path.display()),
                    source: git2::Error::from_str("another trackit has held it too long"),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
