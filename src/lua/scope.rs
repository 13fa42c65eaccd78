//! Where policy code may read: the repository, the track's folder and the job's log files, never
//! `/proc`, `/sys`, `/dev`, a `.git` folder or dotfiles in the home directory. Paths are resolved
//! through symlinks first, so a link in the repository cannot point a policy at `~/.ssh`.
//! Plain Rust; `trackit.fs.*` and `trackit.log.tail` ask it before touching a file.

use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Folders and single files a policy may read.
#[derive(Debug, Clone, Default)]
pub struct ReadScope {
    roots: Vec<PathBuf>,
    files: Vec<PathBuf>,
}

/// The scope shared between the host and the Lua functions (kept in the Lua app data).
#[derive(Debug, Clone, Default)]
pub struct SharedScope(pub Arc<Mutex<ReadScope>>);

impl SharedScope {
    pub fn lock(&self) -> std::sync::MutexGuard<'_, ReadScope> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn real(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

impl ReadScope {
    /// Adds a folder whose contents may be read (the repository, the track's folder).
    pub fn allow_root(&mut self, dir: &Path) {
        let dir = real(dir);
        if !self.roots.contains(&dir) {
            self.roots.push(dir);
        }
    }

    /// The single files a hook may read besides the roots (the job's logs); replaces the
    /// previous list.
    pub fn set_files(&mut self, files: impl IntoIterator<Item = PathBuf>) {
        self.files = files.into_iter().map(|f| real(&f)).collect();
    }

    /// The real path of `path` if a policy may read it, else why not.
    pub fn check(&self, path: &Path) -> Result<PathBuf, String> {
        let shown = path.display();
        let resolved =
            std::fs::canonicalize(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        if ["/proc", "/sys", "/dev"]
            .iter()
            .any(|p| resolved.starts_with(p))
        {
            return Err(format!("{shown}: policies never read /proc, /sys or /dev"));
        }
        if resolved
            .components()
            .any(|c| c == Component::Normal(".git".as_ref()))
        {
            return Err(format!("{shown}: policies never read inside .git"));
        }
        if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            let home = real(Path::new(&home));
            if let Ok(rest) = resolved.strip_prefix(&home) {
                let hidden = rest
                    .components()
                    .next()
                    .is_some_and(|c| c.as_os_str().to_string_lossy().starts_with('.'));
                if hidden {
                    return Err(format!(
                        "{shown}: policies never read dotfiles in the home directory"
                    ));
                }
            }
        }
        if self.files.contains(&resolved) || self.roots.iter().any(|r| resolved.starts_with(r)) {
            return Ok(resolved);
        }
        Err(format!(
            "{shown} is outside what a policy may read (the repository, the track's folder and the job's log files)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_files_and_never_proc_git_or_links_out() {
        let repo = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(repo.path().join("a.txt"), "a").unwrap();
        std::fs::create_dir(repo.path().join(".git")).unwrap();
        std::fs::write(repo.path().join(".git/config"), "x").unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        std::fs::write(outside.path().join("job.log"), "l").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), repo.path().join("link"))
            .unwrap();
        let mut scope = ReadScope::default();
        scope.allow_root(repo.path());
        scope.set_files([outside.path().join("job.log")]);
        assert!(scope.check(&repo.path().join("a.txt")).is_ok());
        assert!(scope.check(&outside.path().join("job.log")).is_ok());
        assert!(scope.check(&outside.path().join("secret")).is_err());
        assert!(
            scope.check(&repo.path().join("link")).is_err(),
            "a link out of the repo"
        );
        assert!(scope.check(&repo.path().join(".git/config")).is_err());
        assert!(scope.check(Path::new("/proc/self/environ")).is_err());
        let mut everything = ReadScope::default();
        everything.allow_root(Path::new("/"));
        assert!(everything.check(Path::new("/proc/self/environ")).is_err());
    }
}
