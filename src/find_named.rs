//! Finds files and folders by name under a folder, breadth-first and bounded: how a fixer tells
//! a repository's own module (`models.py` three folders down) from a package to install.

use crate::walk::Step;
use std::path::{Path, PathBuf};

/// Folders never searched: environments, caches and build output hold other projects' files.
const SKIP_DIRS: &[&str] = &[
    "node_modules",
    "__pycache__",
    "site-packages",
    "target",
    "venv",
    "env",
    "build",
    "dist",
];

/// Limits on one search.
#[derive(Debug, Clone, Copy)]
pub struct FindLimits {
    /// Folders below `root` that are searched (0: only `root` itself).
    pub max_depth: usize,
    /// Directory entries looked at before the search stops.
    pub max_entries: usize,
    /// Matches returned at most.
    pub max_found: usize,
}

impl Default for FindLimits {
    fn default() -> Self {
        FindLimits {
            max_depth: 4,
            max_entries: 20_000,
            max_found: 64,
        }
    }
}

/// Paths (relative to `root`, shallowest first) of the entries named one of `names`. Hidden
/// folders, virtual environments and the folders in `SKIP_DIRS` are not searched, and symbolic
/// links are not followed.
pub fn find_named(root: &Path, names: &[String], limits: FindLimits) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let descend = |name: &str, path: &Path| {
        !name.starts_with('.') && !SKIP_DIRS.contains(&name) && !path.join("pyvenv.cfg").exists()
    };
    crate::walk::breadth_first(
        root,
        limits.max_depth,
        limits.max_entries,
        descend,
        |entry, name, _, _| {
            if found.len() >= limits.max_found {
                return Step::Stop;
            }
            if names.iter().any(|n| n == name) {
                if let Ok(rel) = entry.path().strip_prefix(root) {
                    found.push(rel.to_path_buf());
                }
            }
            Step::Continue
        },
    );
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, rel: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "").unwrap();
    }

    #[test]
    fn finds_names_shallowest_first_and_skips_environments() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(root, "src/pkg/models.py");
        touch(root, "models.py");
        touch(root, ".git/models.py");
        touch(root, "venv/lib/models.py");
        touch(root, "myenv/pyvenv.cfg");
        touch(root, "myenv/lib/models.py");
        touch(root, "a/b/c/d/e/models.py");
        let names = vec!["models.py".to_string()];
        let found = find_named(root, &names, FindLimits::default());
        assert_eq!(
            found,
            [
                PathBuf::from("models.py"),
                PathBuf::from("src/pkg/models.py")
            ]
        );
        // Deeper than max_depth is not searched; a lower depth finds less.
        let shallow = FindLimits {
            max_depth: 0,
            ..FindLimits::default()
        };
        assert_eq!(
            find_named(root, &names, shallow),
            [PathBuf::from("models.py")]
        );
    }

    #[test]
    fn stops_at_its_entry_budget() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..50 {
            touch(dir.path(), &format!("f{i:02}"));
        }
        touch(dir.path(), "zz/models.py");
        let names = vec!["models.py".to_string()];
        let tight = FindLimits {
            max_entries: 40,
            ..FindLimits::default()
        };
        assert!(find_named(dir.path(), &names, tight).is_empty());
        assert_eq!(
            find_named(dir.path(), &names, FindLimits::default()).len(),
            1
        );
    }
}
