//! The fake GitHub's view of the repository: the test's real bare remote, read with the git
//! CLI (never with trackit's code), as GitHub reads what was pushed to it.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone)]
pub struct RepoAt {
    git_dir: PathBuf,
}

impl RepoAt {
    pub fn new(git_dir: &Path) -> RepoAt {
        RepoAt {
            git_dir: git_dir.to_path_buf(),
        }
    }

    fn git(&self, args: &[&str]) -> Option<Vec<u8>> {
        let out = Command::new("git")
            .arg("--git-dir")
            .arg(&self.git_dir)
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .expect("git runs");
        out.status.success().then_some(out.stdout)
    }

    fn commit_of(&self, full_ref: &str) -> Option<String> {
        let out = self.git(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{full_ref}^{{commit}}"),
        ])?;
        Some(String::from_utf8_lossy(&out).trim().to_string())
    }

    /// A branch or tag name (or a full `refs/...` name), as the dispatch API takes it.
    pub fn branch_or_tag(&self, name: &str) -> Option<String> {
        if name.starts_with("refs/") {
            return self.commit_of(name);
        }
        self.commit_of(&format!("refs/heads/{name}"))
            .or_else(|| self.commit_of(&format!("refs/tags/{name}")))
    }

    /// Also a commit SHA, as the contents API takes it.
    pub fn any_ref(&self, name: &str) -> Option<String> {
        self.branch_or_tag(name).or_else(|| {
            (name.len() >= 7 && name.chars().all(|c| c.is_ascii_hexdigit()))
                .then(|| self.commit_of(name))
                .flatten()
        })
    }

    /// The repository's default branch (the bare repository's HEAD).
    pub fn default_branch(&self) -> String {
        self.git(&["symbolic-ref", "--short", "HEAD"])
            .map(|o| String::from_utf8_lossy(&o).trim().to_string())
            .unwrap_or_else(|| "main".into())
    }

    /// A file's bytes at a commit; None when there is no such file (or it is a folder).
    pub fn file(&self, commit: &str, path: &str) -> Option<Vec<u8>> {
        let spec = format!("{commit}:{path}");
        let kind = self.git(&["cat-file", "-t", &spec])?;
        if String::from_utf8_lossy(&kind).trim() != "blob" {
            return None;
        }
        self.git(&["cat-file", "blob", &spec])
    }

    /// The blob id of a file at a commit (the contents API's `sha`).
    pub fn blob_id(&self, commit: &str, path: &str) -> Option<String> {
        self.git(&["rev-parse", &format!("{commit}:{path}")])
            .map(|o| String::from_utf8_lossy(&o).trim().to_string())
    }

    /// Checks the commit out into `dest` (a clone, as actions/checkout leaves it).
    pub fn checkout(&self, commit: &str, dest: &Path) -> Result<(), String> {
        let run = |args: &[&str], dir: Option<&Path>| -> Result<(), String> {
            let mut c = Command::new("git");
            if let Some(d) = dir {
                c.current_dir(d);
            }
            let out = c
                .args(args)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .output()
                .map_err(|e| e.to_string())?;
            if out.status.success() {
                Ok(())
            } else {
                Err(String::from_utf8_lossy(&out.stderr).into_owned())
            }
        };
        run(
            &[
                "clone",
                "-q",
                "--no-checkout",
                self.git_dir.to_str().unwrap(),
                dest.to_str().unwrap(),
            ],
            None,
        )?;
        run(
            &["-c", "advice.detachedHead=false", "checkout", "-q", commit],
            Some(dest),
        )
    }
}
