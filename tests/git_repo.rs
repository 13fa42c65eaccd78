//! The git primitives against real repositories and a real bare remote, checked with the
//! `git` command line.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::ops::Deref;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::helper::lab::{git_with, GitRepos, GitSetup};
use std::collections::HashMap;
use trackit::auth::Credentials;
use trackit::git::{author_from_config, find_repo_root, repo_facts, GitError, ResultsBranch};

/// No token anywhere (and no `gh`).
fn no_credentials() -> Credentials {
    Credentials::from_env_map(&HashMap::new())
}

/// An environment with these variables only (and no `gh`).
fn credentials(pairs: &[(&str, &str)]) -> Credentials {
    Credentials::from_env_map(
        &pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

const BRANCH: &str = "results/resnet-2026-11-28";

/// Someone other than the repository's configured author (Ada Lovelace), for every `git`
/// command the tests run: a commit trackit makes as the configured author stands out.
const OTHER_PERSON: &[(&str, &str)] = &[
    ("GIT_AUTHOR_NAME", "Other Person"),
    ("GIT_AUTHOR_EMAIL", "other@example.org"),
    ("GIT_COMMITTER_NAME", "Other Person"),
    ("GIT_COMMITTER_EMAIL", "other@example.org"),
];

/// Runs `git` as [`OTHER_PERSON`] with no system or global configuration; panics on failure.
fn git(dir: &Path, args: &[&str]) -> String {
    git_with(dir, args, OTHER_PERSON)
}

/// The repositories of tests/helper/lab.rs, set up by [`OTHER_PERSON`].
struct Fixture(GitRepos);

impl Deref for Fixture {
    type Target = GitRepos;

    fn deref(&self) -> &GitRepos {
        &self.0
    }
}

impl Fixture {
    /// A work repository with one commit on `main`, its own author config, and `origin`
    /// pointing at a bare repository (as a plain path, or a `file://` URL).
    fn new(file_url: bool) -> Fixture {
        let setup = GitSetup::new("trackit-git-")
            .git_env(OTHER_PERSON)
            .file("README.md", "# experiment\n")
            .file("train.py", "print('train')\n");
        Fixture(
            if file_url {
                setup
            } else {
                setup.plain_path_origin()
            }
            .create(),
        )
    }

    fn remote_subjects(&self, branch: &str) -> Vec<String> {
        self.remote_git(&["log", "--format=%s", branch])
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Everything that describes the user's checkout: HEAD, branch, status, both diffs.
    fn user_state(&self) -> Vec<String> {
        vec![
            git(&self.work, &["rev-parse", "HEAD"]),
            git(&self.work, &["symbolic-ref", "HEAD"]),
            git(
                &self.work,
                &["status", "--porcelain=v1", "--untracked-files=all"],
            ),
            git(&self.work, &["diff"]),
            git(&self.work, &["diff", "--cached"]),
        ]
    }
}

#[test]
fn finds_root_and_reads_facts() {
    let fx = Fixture::new(false);
    let sub = fx.work.join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    assert_eq!(find_repo_root(&sub).as_deref(), Some(fx.work.as_path()));
    assert_eq!(find_repo_root(&fx.root), None);

    let facts = repo_facts(&sub).unwrap();
    assert_eq!(facts.root, fx.work);
    assert_eq!(
        facts.head.to_string(),
        git(&fx.work, &["rev-parse", "HEAD"]).trim()
    );
    assert_eq!(facts.branch.as_deref(), Some("main"));
    assert_eq!(facts.remotes.len(), 1);
    assert_eq!(facts.remotes[0].name, "origin");
    assert_eq!(facts.remotes[0].url, fx.remote.display().to_string());

    git(&fx.work, &["checkout", "-q", "--detach"]);
    assert_eq!(repo_facts(&fx.work).unwrap().branch, None);
}

#[test]
fn unset_author_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(&path, "[core]\n\tbare = false\n").unwrap();
    let config = git2::Config::open(&path).unwrap();
    let err = author_from_config(&config).err().expect("an error");
    assert!(matches!(
        err,
        GitError::AuthorNotConfigured {
            missing: "user.name"
        }
    ));
    let text = err.to_string();
    assert!(
        text.contains("user.name") && text.contains("git config"),
        "{text}"
    );

    std::fs::write(&path, "[user]\n\tname = Ada\n").unwrap();
    let config = git2::Config::open(&path).unwrap();
    let err = author_from_config(&config).err().expect("an error");
    assert!(matches!(
        err,
        GitError::AuthorNotConfigured {
            missing: "user.email"
        }
    ));

    std::fs::write(&path, "[user]\n\tname = Ada\n\temail = ada@example.org\n").unwrap();
    let config = git2::Config::open(&path).unwrap();
    let sig = author_from_config(&config).unwrap();
    assert_eq!(
        (sig.name(), sig.email()),
        (Ok("Ada"), Ok("ada@example.org"))
    );
}

#[test]
fn unborn_head_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main", "empty"]);
    let err = ResultsBranch::open_or_create(&dir.path().join("empty"), BRANCH).unwrap_err();
    assert!(matches!(err, GitError::UnbornHead(_)), "{err}");
}

#[test]
fn results_branch_leaves_the_dirty_user_tree_untouched() {
    let fx = Fixture::new(false);
    // Unstaged edit, staged edit, new staged file, untracked file.
    std::fs::write(fx.work.join("README.md"), "# experiment\nunstaged edit\n").unwrap();
    std::fs::write(fx.work.join("train.py"), "print('staged')\n").unwrap();
    std::fs::write(fx.work.join("new.py"), "x = 1\n").unwrap();
    git(&fx.work, &["add", "train.py", "new.py"]);
    std::fs::write(fx.work.join("train.py"), "print('staged then edited')\n").unwrap();
    std::fs::write(fx.work.join("notes.txt"), "untracked\n").unwrap();
    let before = fx.user_state();
    let head = git(&fx.work, &["rev-parse", "HEAD"]);

    let results = ResultsBranch::open_or_create(&fx.work, BRANCH).unwrap();
    assert_eq!(
        results.worktree_path(),
        fx.work.join(".trackit/worktrees/results-resnet-2026-11-28")
    );
    assert_eq!(results.head().unwrap().to_string(), head.trim());
    let commit = results
        .commit_files(
            &[
                ("results/metrics.json", b"{\"acc\": 0.9}\n".as_slice()),
                ("README.md", b"# results\n".as_slice()),
            ],
            "results: resnet",
        )
        .unwrap()
        .expect("a new commit");
    let outcome = results.push("origin", &no_credentials()).unwrap();
    assert_eq!(outcome.head, commit);

    assert_eq!(fx.user_state(), before, "the user's checkout changed");
    assert_eq!(
        std::fs::read_to_string(fx.work.join("README.md")).unwrap(),
        "# experiment\nunstaged edit\n"
    );
    assert!(!before[2].contains(".trackit"));
    let exclude = std::fs::read_to_string(fx.work.join(".git/info/exclude")).unwrap();
    assert!(exclude.contains("/.trackit/worktrees/"));
    assert!(!fx.work.join(".gitignore").exists());

    // The branch starts at the user's HEAD; git itself knows the worktree.
    let parent = git(&fx.work, &["rev-parse", &format!("{BRANCH}^")]);
    assert_eq!(parent, head);
    let list = git(&fx.work, &["worktree", "list", "--porcelain"]);
    assert!(
        list.contains(&format!("branch refs/heads/{BRANCH}")),
        "{list}"
    );
    // The worktree itself is clean after the commit.
    assert_eq!(git(results.worktree_path(), &["status", "--porcelain"]), "");
}

#[test]
fn push_resume_and_no_duplicate_commits() {
    let fx = Fixture::new(true);
    let files = [("results/table.md", "| run | acc |\n| a | PENDING |\n")];
    let results = ResultsBranch::open_or_create(&fx.work, BRANCH).unwrap();
    let first = results
        .commit_files(&files, "results: table pending")
        .unwrap()
        .expect("first commit");
    let outcome = results.push("origin", &no_credentials()).unwrap();
    assert_eq!(
        (outcome.head, outcome.rebased, outcome.up_to_date),
        (first, 0, false)
    );

    assert_eq!(
        fx.remote_subjects(BRANCH),
        vec!["results: table pending", "base"]
    );
    assert_eq!(
        fx.remote_git(&["log", "-1", "--format=%an <%ae>|%cn <%ce>", BRANCH])
            .trim(),
        "Ada Lovelace <ada@example.org>|Ada Lovelace <ada@example.org>"
    );
    assert_eq!(
        fx.remote_git(&["show", &format!("{BRANCH}:results/table.md")]),
        files[0].1
    );
    let worktree = results.worktree_path().to_path_buf();
    drop(results);

    // Resume: same worktree, same content: no new commit, nothing new on the remote.
    let resumed = ResultsBranch::open_or_create(&fx.work, BRANCH).unwrap();
    assert_eq!(resumed.worktree_path(), worktree);
    assert_eq!(resumed.head().unwrap(), first);
    assert_eq!(
        resumed
            .commit_files(&files, "results: table pending")
            .unwrap(),
        None
    );
    resumed.push("origin", &no_credentials()).unwrap();
    assert_eq!(fx.remote_subjects(BRANCH).len(), 2);
    assert_eq!(
        resumed.read_file("results/table.md").unwrap().as_deref(),
        Some(files[0].1.as_bytes())
    );
    assert_eq!(resumed.read_file("results/missing.md").unwrap(), None);

    let done = [("results/table.md", "| run | acc |\n| a | 0.91 |\n")];
    let second = resumed
        .commit_files(&done, "results: table filled")
        .unwrap();
    assert!(second.is_some());
    resumed.push("origin", &no_credentials()).unwrap();
    assert_eq!(
        fx.remote_subjects(BRANCH),
        vec!["results: table filled", "results: table pending", "base"]
    );
    // One worktree registration, not one per run.
    let list = git(&fx.work, &["worktree", "list", "--porcelain"]);
    assert_eq!(
        list.matches("branch refs/heads/results/").count(),
        1,
        "{list}"
    );
}

#[test]
fn deleted_worktree_is_pruned_and_recreated() {
    let fx = Fixture::new(false);
    let results = ResultsBranch::open_or_create(&fx.work, BRANCH).unwrap();
    let first = results
        .commit_files(&[("a.txt", "a\n")], "results: a")
        .unwrap()
        .unwrap();
    let path = results.worktree_path().to_path_buf();
    drop(results);
    std::fs::remove_dir_all(&path).unwrap();

    let reopened = ResultsBranch::open_or_create(&fx.work, BRANCH).unwrap();
    assert_eq!(reopened.worktree_path(), path);
    assert_eq!(reopened.head().unwrap(), first);
    assert_eq!(std::fs::read_to_string(path.join("a.txt")).unwrap(), "a\n");
    assert_eq!(
        reopened
            .commit_files(&[("a.txt", "a\n")], "results: a")
            .unwrap(),
        None
    );
    reopened
        .commit_files(&[("b.txt", "b\n")], "results: b")
        .unwrap()
        .unwrap();
    let list = git(&fx.work, &["worktree", "list", "--porcelain"]);
    assert!(!list.contains("prunable"), "{list}");
    assert_eq!(
        list.matches("branch refs/heads/results/").count(),
        1,
        "{list}"
    );

    // A leftover directory git no longer knows about is replaced too.
    drop(reopened);
    git(
        &fx.work,
        &["worktree", "remove", "--force", path.to_str().unwrap()],
    );
    std::fs::create_dir_all(path.join("junk")).unwrap();
    let again = ResultsBranch::open_or_create(&fx.work, BRANCH).unwrap();
    assert_eq!(std::fs::read_to_string(path.join("b.txt")).unwrap(), "b\n");
    assert!(!path.join("junk").exists());
    drop(again);
}

/// Another clone pushes to the results branch between our push and our next one.
fn push_from_other_clone(fx: &Fixture, file: &str, content: &str, message: &str) -> String {
    let other = fx.root.join("other");
    if !other.exists() {
        git(
            &fx.root,
            &["clone", "-q", fx.remote.to_str().unwrap(), "other"],
        );
        git(&other, &["checkout", "-q", BRANCH]);
    }
    git(&other, &["pull", "-q", "--ff-only"]);
    std::fs::write(other.join(file), content).unwrap();
    git(&other, &["add", file]);
    git(&other, &["commit", "-q", "-m", message]);
    git(&other, &["push", "-q", "origin", BRANCH]);
    git(&other, &["rev-parse", "HEAD"]).trim().to_string()
}

#[test]
fn non_fast_forward_is_rebased_and_pushed_without_force() {
    let fx = Fixture::new(false);
    let results = ResultsBranch::open_or_create(&fx.work, BRANCH).unwrap();
    results
        .commit_files(&[("results/a.json", "{}\n")], "results: a")
        .unwrap();
    results.push("origin", &no_credentials()).unwrap();

    let theirs = push_from_other_clone(
        &fx,
        "notes.md",
        "from elsewhere\n",
        "notes from the other clone",
    );
    results
        .commit_files(&[("results/c.json", "{\"c\": 1}\n")], "results: c")
        .unwrap()
        .unwrap();

    let outcome = results.push("origin", &no_credentials()).unwrap();
    assert_eq!(outcome.rebased, 1);
    assert!(!outcome.up_to_date);
    assert_eq!(
        fx.remote_subjects(BRANCH),
        vec![
            "results: c",
            "notes from the other clone",
            "results: a",
            "base"
        ]
    );
    // Their commit is still there: a fast-forward, not a forced push.
    fx.remote_git(&["merge-base", "--is-ancestor", &theirs, BRANCH]);
    assert_eq!(
        fx.remote_git(&["rev-parse", BRANCH]).trim(),
        outcome.head.to_string()
    );
    // The replayed commit keeps its author; the worktree now has their file.
    assert_eq!(
        fx.remote_git(&["log", "-1", "--format=%an", BRANCH]).trim(),
        "Ada Lovelace"
    );
    assert_eq!(
        std::fs::read_to_string(results.worktree_path().join("notes.md")).unwrap(),
        "from elsewhere\n"
    );
    assert_eq!(git(results.worktree_path(), &["status", "--porcelain"]), "");

    // Only behind (nothing of ours to send): catch up, report up to date.
    let theirs = push_from_other_clone(&fx, "notes.md", "more\n", "more notes");
    let outcome = results.push("origin", &no_credentials()).unwrap();
    assert!(outcome.up_to_date);
    assert_eq!(outcome.head.to_string(), theirs);
    assert_eq!(results.head().unwrap().to_string(), theirs);
}

#[test]
fn conflicting_rebase_is_an_error_and_the_remote_keeps_its_commits() {
    let fx = Fixture::new(false);
    let results = ResultsBranch::open_or_create(&fx.work, BRANCH).unwrap();
    results
        .commit_files(&[("table.md", "PENDING\n")], "results: pending")
        .unwrap();
    results.push("origin", &no_credentials()).unwrap();
    let theirs = push_from_other_clone(&fx, "table.md", "theirs\n", "their table");
    results
        .commit_files(&[("table.md", "ours\n")], "results: ours")
        .unwrap();

    let err = results.push("origin", &no_credentials()).unwrap_err();
    assert!(matches!(err, GitError::RebaseConflict { .. }), "{err}");
    assert!(err.to_string().contains("table.md"), "{err}");
    assert_eq!(fx.remote_git(&["rev-parse", BRANCH]).trim(), theirs);
}

#[test]
fn unknown_remote_is_a_clear_error() {
    let fx = Fixture::new(false);
    let results = ResultsBranch::open_or_create(&fx.work, BRANCH).unwrap();
    let err = results.push("upstream", &no_credentials()).unwrap_err();
    assert!(
        matches!(err, GitError::NoSuchRemote(ref r) if r == "upstream"),
        "{err}"
    );
}

#[test]
fn invalid_branch_name_is_rejected() {
    let fx = Fixture::new(false);
    let err = ResultsBranch::open_or_create(&fx.work, "results/bad..name").unwrap_err();
    assert!(matches!(err, GitError::InvalidBranchName(_)), "{err}");
    let err = ResultsBranch::open_or_create(&fx.work, "main").unwrap_err();
    assert!(err.to_string().contains("checked out"), "{err}");
}

const TOKEN: &str = "ghp_TestTokenThatMustNotLeak0123456789";

#[test]
fn token_never_appears_in_push_errors() {
    let fx = Fixture::new(false);
    git(
        &fx.work,
        &[
            "remote",
            "add",
            "unreachable",
            "https://127.0.0.1:9/o/r.git",
        ],
    );
    git(
        &fx.work,
        &[
            "remote",
            "add",
            "embedded",
            &format!("https://x-access-token:{TOKEN}@127.0.0.1:9/o/r.git"),
        ],
    );
    let results = ResultsBranch::open_or_create(&fx.work, BRANCH).unwrap();
    // The token is bound to that host, so it is offered there.
    let creds = credentials(&[("GH_HOST", "127.0.0.1:9"), ("GH_ENTERPRISE_TOKEN", TOKEN)]);
    for remote in ["unreachable", "embedded"] {
        let err = results.push(remote, &creds).unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(matches!(err, GitError::Push { .. }), "{text}");
        assert!(!text.contains(TOKEN), "token leaked: {text}");
        assert!(!text.contains("TestToken"), "token leaked: {text}");
    }
}

/// A server that answers every request with 401 and records the requests.
fn unauthorized_server() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&request).into_owned());
            let _ = stream.write_all(
                b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"test\"\r\n\
                  Content-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (format!("http://127.0.0.1:{}/o/r.git", addr.port()), seen)
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn token_is_sent_once_as_x_access_token_to_its_bound_host() {
    let fx = Fixture::new(false);
    let (url, seen) = unauthorized_server();
    git(&fx.work, &["remote", "add", "forge", &url]);
    let results = ResultsBranch::open_or_create(&fx.work, BRANCH).unwrap();
    let host = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let creds = credentials(&[("GH_HOST", &host), ("GH_ENTERPRISE_TOKEN", TOKEN)]);

    let err = results.push("forge", &creds).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains(TOKEN), "token leaked: {text}");
    assert!(text.contains("refused"), "{text}");

    let requests = seen.lock().unwrap().clone();
    let expected = format!(
        "Basic {}",
        base64(format!("x-access-token:{TOKEN}").as_bytes())
    );
    let with_token = requests.iter().filter(|r| r.contains(&expected)).count();
    assert_eq!(with_token, 1, "{requests:#?}");
    assert!(
        requests.len() <= 3,
        "credentials retried in a loop: {requests:#?}"
    );
}

/// A plain-HTTP git server on loopback that is not the host a token is bound to gets no
/// token, though GH_TOKEN (github.com's) and an enterprise token for another host are set.
#[test]
fn an_unbound_host_gets_no_token_on_push() {
    let fx = Fixture::new(false);
    let (url, seen) = unauthorized_server();
    git(&fx.work, &["remote", "add", "mirror", &url]);
    let results = ResultsBranch::open_or_create(&fx.work, BRANCH).unwrap();
    let creds = credentials(&[
        ("GH_TOKEN", TOKEN),
        ("GITHUB_TOKEN", TOKEN),
        ("GH_HOST", "ghe.example.org"),
        ("GH_ENTERPRISE_TOKEN", TOKEN),
    ]);
    let err = results.push("mirror", &creds).unwrap_err();
    let text = format!("{err}");
    assert!(!text.contains(TOKEN), "token leaked: {text}");
    assert!(
        text.contains("GH_HOST=127.0.0.1"),
        "says how to set up: {text}"
    );
    let requests = seen.lock().unwrap().clone();
    assert!(!requests.is_empty(), "the push reached the server");
    for r in &requests {
        assert!(
            !r.to_ascii_lowercase().contains("authorization:"),
            "credentials sent to an unbound host: {r}"
        );
    }
}

/// `git daemon` serving `root` with push enabled; killed on drop.
struct Daemon {
    child: std::process::Child,
    port: u16,
}

impl Daemon {
    fn start(root: &Path) -> Daemon {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("git")
            .args([
                "daemon",
                "--reuseaddr",
                "--export-all",
                "--enable=receive-pack",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", root.display()),
                root.to_str().unwrap(),
            ])
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("git daemon starts");
        let daemon = Daemon { child, port };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return daemon;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("git daemon did not listen on {port}");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn server_side_rejection_is_an_error_not_a_silent_success() {
    let fx = Fixture::new(false);
    let hook = fx.remote.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'results branches are frozen' >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let daemon = Daemon::start(&fx.root);
    let url = format!("git://127.0.0.1:{}/remote.git", daemon.port);
    git(&fx.work, &["remote", "add", "daemon", &url]);

    let results = ResultsBranch::open_or_create(&fx.work, BRANCH).unwrap();
    results
        .commit_files(&[("a.txt", "a\n")], "results: a")
        .unwrap();
    let err = results.push("daemon", &no_credentials()).unwrap_err();
    assert!(matches!(err, GitError::PushRejected { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(BRANCH) && text.contains("pre-receive hook declined"),
        "{text}"
    );
    assert!(text.contains("results branches are frozen"), "{text}");
    let branches = fx.remote_git(&["branch", "--list", "results/*"]);
    assert_eq!(branches, "", "the hook should have kept the branch out");

    // With the hook gone the same push goes through the daemon.
    std::fs::remove_file(&hook).unwrap();
    let outcome = results.push("daemon", &no_credentials()).unwrap();
    assert_eq!(
        fx.remote_git(&["rev-parse", BRANCH]).trim(),
        outcome.head.to_string()
    );
}

#[test]
fn removed_worktree_keeps_the_branch_and_can_be_reopened() {
    let fx = Fixture::new(false);
    let results = ResultsBranch::open_or_create(&fx.work, BRANCH).unwrap();
    let commit = results
        .commit_files(&[("a.txt", "a\n")], "results: a")
        .unwrap()
        .unwrap();
    let path = results.worktree_path().to_path_buf();
    results.remove_worktree().unwrap();
    assert!(!path.exists());
    let list = git(&fx.work, &["worktree", "list", "--porcelain"]);
    assert!(!list.contains("results"), "{list}");
    assert_eq!(
        git(&fx.work, &["rev-parse", BRANCH]).trim(),
        commit.to_string()
    );
    let again = ResultsBranch::open_or_create(&fx.work, BRANCH).unwrap();
    assert_eq!(again.head().unwrap(), commit);
}

#[test]
fn resuming_in_a_fresh_clone_continues_the_pushed_branch() {
    let fx = Fixture::new(false);
    let results = ResultsBranch::open_or_create(&fx.work, BRANCH).unwrap();
    let pushed = results
        .commit_files(&[("results/a.json", "{}\n")], "results: a")
        .unwrap()
        .unwrap();
    results.push("origin", &no_credentials()).unwrap();

    git(
        &fx.root,
        &["clone", "-q", fx.remote.to_str().unwrap(), "fresh"],
    );
    let fresh = fx.root.join("fresh");
    git(&fresh, &["config", "user.name", "Ada Lovelace"]);
    git(&fresh, &["config", "user.email", "ada@example.org"]);
    let resumed = ResultsBranch::open_or_create(&fresh, BRANCH).unwrap();
    assert_eq!(resumed.head().unwrap(), pushed);
    assert_eq!(
        resumed
            .commit_files(&[("results/a.json", "{}\n")], "results: a")
            .unwrap(),
        None
    );
    resumed
        .commit_files(&[("results/b.json", "{}\n")], "results: b")
        .unwrap()
        .unwrap();
    let outcome = resumed.push("origin", &no_credentials()).unwrap();
    assert_eq!(outcome.rebased, 0);
    assert_eq!(
        fx.remote_subjects(BRANCH),
        vec!["results: b", "results: a", "base"]
    );
}

/// Pushing over ssh goes through the system's ssh and its config: a host alias, an
/// IdentityFile and a ProxyJump all work (libssh2 knew none of them). The config is given to
/// ssh with `-F` through the repository's core.sshCommand, so the user's own ~/.ssh is left
/// alone; ssh reads ~/.ssh/config the same way.
#[test]
fn ssh_push_honours_the_ssh_config_alias_identity_and_proxyjump() {
    if !crate::helper::sshd::require_sshd() {
        return;
    }
    let sshd = crate::helper::sshd::Sshd::start();
    let fx = Fixture::new(false);
    let jump = format!(
        "Host trackit-test-via-jump\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  IdentityFile {}\n  \
         IdentitiesOnly yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  \
         BatchMode yes\n  LogLevel ERROR\n  ProxyJump trackit-test-direct\n",
        sshd.port,
        sshd.user(),
        sshd.identity().display()
    );
    let config = sshd.client_config("trackit-test-direct", &jump);
    git(
        &fx.work,
        &[
            "config",
            "core.sshCommand",
            &format!("ssh -F {}", config.display()),
        ],
    );
    git(
        &fx.work,
        &[
            "remote",
            "add",
            "cluster",
            &format!("trackit-test-via-jump:{}", fx.remote.display()),
        ],
    );
    let results = ResultsBranch::open_or_create(&fx.work, BRANCH).unwrap();
    let commit = results
        .commit_files(&[("results/ssh.json", "{}\n")], "results: over ssh")
        .unwrap()
        .unwrap();
    // A token in the environment is never offered over ssh.
    let creds = credentials(&[("GH_TOKEN", TOKEN)]);
    let outcome = results
        .push("cluster", &creds)
        .unwrap_or_else(|e| panic!("push over ssh: {e}"));
    assert_eq!(outcome.head, commit);
    assert_eq!(
        fx.remote_git(&["rev-parse", BRANCH]).trim(),
        commit.to_string()
    );
}
