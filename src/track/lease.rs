//! Who watches a track: one tracker process at a time. The lease in the state says which
//! (pid, start time, host); an exclusive `flock` on `lease.lock` in the track's folder makes two
//! trackers on one machine (or on NFS with working locks) unable to hold it at once.

use super::model::Lease;
use crate::proc;
use anyhow::{bail, Context, Result};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

/// The lease of this process.
pub fn own_lease() -> Option<Lease> {
    let pid = std::process::id() as i32;
    let start_ticks = proc::proc_stat(pid).map(|s| s.start_ticks)?;
    Some(Lease {
        pid,
        start_ticks,
        host: proc::hostname(),
    })
}

/// Is the tracker that holds this lease still running (same pid, same start time)? On another
/// machine it cannot be told: assume it is.
pub fn lease_alive(lease: &Lease) -> bool {
    if lease.host != proc::hostname() {
        return true;
    }
    proc::proc_stat(lease.pid).is_some_and(|s| s.start_ticks == lease.start_ticks && s.state != 'Z')
}

/// An exclusive lock on the track, held while this process watches it.
#[derive(Debug)]
pub struct TrackLock {
    _file: File,
}

/// Takes the track's lock without waiting, or says who holds it.
pub fn lock(track_dir: &Path) -> Result<TrackLock> {
    std::fs::create_dir_all(track_dir)
        .with_context(|| format!("cannot create {}", track_dir.display()))?;
    let path = track_dir.join("lease.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    // SAFETY: flock on a descriptor we own.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
            bail!("another trackit process holds {}", path.display());
        }
        // No lock support (some network file systems): the lease in the state still guards.
        tracing::debug!(
            "flock {}: {err}; relying on the lease alone",
            path.display()
        );
    }
    Ok(TrackLock { _file: file })
}

/// True when another process holds the track's lock right now.
pub fn is_locked(track_dir: &Path) -> bool {
    let Ok(file) = File::open(track_dir.join("lease.lock")) else {
        return false;
    };
    // SAFETY: flock on a descriptor we own; released when `file` drops.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) };
    rc != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EWOULDBLOCK)
}
