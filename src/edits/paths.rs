//! Paths a fix names must stay inside the repository (or the job's working directory).

use std::path::{Component, Path, PathBuf};

/// `path` made absolute against `base`, with `.` and `..` resolved lexically, and the part that
/// exists resolved through symlinks (so a link cannot smuggle a path out).
pub fn resolve(base: &Path, path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    };
    let lexical = normalize(&joined);
    // Canonicalise the deepest ancestor that exists, keep the rest as written.
    let mut existing = lexical.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => return lexical,
        }
    }
    let mut out = std::fs::canonicalize(&existing).unwrap_or(existing);
    for name in rest.into_iter().rev() {
        out.push(name);
    }
    out
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// True when `path` (already resolved) is `root` or below it.
pub fn is_inside(path: &Path, root: &Path) -> bool {
    let root = resolve(Path::new("/"), root);
    path.starts_with(&root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_dot_cannot_escape() {
        let root = Path::new("/nonexistent-root/repo");
        let p = resolve(root, Path::new("logs/../../etc"));
        assert_eq!(p, PathBuf::from("/nonexistent-root/etc"));
        assert!(!is_inside(&p, root));
        assert!(is_inside(&resolve(root, Path::new("./logs/x")), root));
    }
}
