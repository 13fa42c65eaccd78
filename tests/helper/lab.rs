//! A lab for the tests that run trackit in a real git repository: a work repository on `main`
//! whose `origin` is a real bare repository ([`GitRepos`]), and, for the end-to-end tests, the
//! fake GitHub and a policy kept outside the repository ([`GitLab`]).

use super::fake_github::FakeGithub;
use super::{isolate, run_within, trackit_bin, write};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// Runs `git` in `dir` with no system or global configuration; panics when it fails and returns
/// its standard output.
pub fn git(dir: &Path, args: &[&str]) -> String {
    git_with(dir, args, &[])
}

/// [`git`] with extra environment variables (an author identity of its own, say).
pub fn git_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .envs(env.iter().copied())
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// How [`GitRepos::create`] sets the repositories up.
pub struct GitSetup<'a> {
    prefix: &'a str,
    files: Vec<(String, String)>,
    file_url: bool,
    git_env: &'a [(&'a str, &'a str)],
}

impl<'a> GitSetup<'a> {
    /// Repositories in a new folder under /tmp named `prefix…` (SLURM jobs run on this machine
    /// and write there), `origin` given as a `file://` URL, no files yet.
    pub fn new(prefix: &'a str) -> GitSetup<'a> {
        GitSetup {
            prefix,
            files: Vec::new(),
            file_url: true,
            git_env: &[],
        }
    }

    /// A file of the first commit (`path` relative to the work repository).
    pub fn file(mut self, path: &str, text: &str) -> Self {
        self.files.push((path.to_string(), text.to_string()));
        self
    }

    /// `origin` as the bare repository's plain path instead of a `file://` URL.
    pub fn plain_path_origin(mut self) -> Self {
        self.file_url = false;
        self
    }

    /// Environment for the `git` commands that set the repositories up (an author identity).
    pub fn git_env(mut self, env: &'a [(&'a str, &'a str)]) -> Self {
        self.git_env = env;
        self
    }

    pub fn create(self) -> GitRepos {
        GitRepos::create(self)
    }
}

/// `root/work`: a repository on `main` with one commit ("base") of the setup's files and the
/// author Ada Lovelace in its own config; `root/remote.git`: a bare repository, its `origin`,
/// where `main` is pushed. The folder goes when this is dropped.
pub struct GitRepos {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub work: PathBuf,
    pub remote: PathBuf,
}

impl GitRepos {
    pub fn create(setup: GitSetup) -> GitRepos {
        let git = |dir: &Path, args: &[&str]| git_with(dir, args, setup.git_env);
        let dir = tempfile::Builder::new()
            .prefix(setup.prefix)
            .tempdir_in("/tmp")
            .unwrap();
        let root = dir.path().canonicalize().unwrap();
        let remote = root.join("remote.git");
        let work = root.join("work");
        git(&root, &["init", "-q", "--bare", "-b", "main", "remote.git"]);
        git(&root, &["init", "-q", "-b", "main", "work"]);
        git(&work, &["config", "user.name", "Ada Lovelace"]);
        git(&work, &["config", "user.email", "ada@example.org"]);
        git(&work, &["config", "credential.helper", ""]);
        for (path, text) in &setup.files {
            write(&work, path, text);
        }
        git(&work, &["add", "."]);
        git(&work, &["commit", "-q", "-m", "base"]);
        let url = if setup.file_url {
            format!("file://{}", remote.display())
        } else {
            remote.display().to_string()
        };
        git(&work, &["remote", "add", "origin", &url]);
        git(&work, &["push", "-q", "origin", "main"]);
        GitRepos {
            _dir: dir,
            root,
            work,
            remote,
        }
    }

    /// `git` on the bare remote.
    pub fn remote_git(&self, args: &[&str]) -> String {
        let mut all = vec!["--git-dir", self.remote.to_str().unwrap()];
        all.extend_from_slice(args);
        git(&self.root, &all)
    }
}

/// [`GitRepos`] with the fake GitHub and a policy file outside the repository (`root/fast.lua`):
/// [`GitLab::cmd`] runs trackit in the work repository with that policy, the fake GitHub's
/// environment and a user config and track index of the lab's own (under `root/.xdg`).
pub struct GitLab {
    // The fake GitHub goes first: its runner may still be writing under the folder.
    pub gh: FakeGithub,
    repos: GitRepos,
}

impl Deref for GitLab {
    type Target = GitRepos;

    fn deref(&self) -> &GitRepos {
        &self.repos
    }
}

impl GitLab {
    /// The repositories of `setup`, served by `gh`, with `policy` as the policy file.
    pub fn new(setup: GitSetup, gh: FakeGithub, policy: &str) -> GitLab {
        let lab = GitLab {
            gh,
            repos: setup.create(),
        };
        lab.set_policy(policy);
        lab
    }

    /// Replaces the policy file's text.
    pub fn set_policy(&self, text: &str) {
        write(&self.root, "fast.lua", text);
    }

    /// trackit with `args` in the work repository: the lab's policy, the fake GitHub's token,
    /// API and repository (and no other token or host), no colours, no RUST_LOG.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(trackit_bin());
        isolate(&mut c, &self.root);
        c.arg("--policy").arg(self.root.join("fast.lua"));
        c.args(args)
            .current_dir(&self.work)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .env_remove("GITHUB_TOKEN")
            .env_remove("GH_HOST")
            .envs(self.gh.env());
        c
    }

    /// [`GitLab::cmd`] started with its output captured.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// [`GitLab::cmd`] run to its end; killed, and the test failed, after `limit`.
    pub fn run_within(&self, args: &[&str], limit: Duration) -> Output {
        run_within(&mut self.cmd(args), limit)
    }
}
