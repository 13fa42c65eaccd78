//! Trust on first use for repository policies, like direnv's `allow`: a `.trackit/policy.lua`
//! that came with a clone runs only once its owner said so with `trackit policy trust`, which
//! records its hash under the user's config directory (`$XDG_CONFIG_HOME/trackit/trusted/`, else
//! `~/.config/trackit/trusted/`). A new or changed policy is reported (what changed, how to trust
//! it) and the built-in default runs instead. Files owned by another user, or writable by
//! everyone, are never trusted, as git's `safe.directory` refuses a repository someone else owns.
//!
//! The hash covers the policy file and every `*.lua` file it can `require` from its folder.
//! Plain Rust (no mlua).

use sha2::{Digest, Sha256};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Most files hashed with one policy (modules beside it).
const MAX_FILES: usize = 200;
/// Deepest folder level searched for modules below the policy's folder.
const MAX_DEPTH: usize = 4;
/// Folders under the policy's folder that hold trackit's own state, not modules.
const SKIPPED_DIRS: &[&str] = &["tracks", "worktrees", "types"];
/// Largest file kept as text in a trust record (for showing what changed).
const MAX_KEPT_TEXT: usize = 256 * 1024;

/// Whether the policy's `require` may load module `name` from beside it: never from a hidden
/// folder or one of trackit's own state folders, which the trust hash does not cover.
pub fn module_allowed(name: &str) -> bool {
    let first = name.split('.').next().unwrap_or_default();
    !name.is_empty()
        && !name.contains("..")
        && !name.starts_with(['.', '/'])
        && !name.contains('/')
        && !SKIPPED_DIRS.contains(&first)
}

/// `$XDG_CONFIG_HOME/trackit`, else `$HOME/.config/trackit`.
pub fn config_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    xdg.or_else(|| {
        std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .map(|h| PathBuf::from(h).join(".config"))
    })
    .map(|d| d.join("trackit"))
}

/// One file of a policy: its name relative to the policy's folder, and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PolicyFile {
    name: String,
    bytes: Vec<u8>,
}

/// What is recorded when a policy is trusted.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TrustRecord {
    pub path: PathBuf,
    pub digest: String,
    pub trusted_at: String,
    pub files: Vec<RecordedFile>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RecordedFile {
    pub name: String,
    pub sha256: String,
    /// The text as trusted, to show what changed later (absent for very large files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// Whether a repository policy may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Trusted,
    /// Never trusted on this machine.
    New,
    /// Trusted once, changed since: a summary per file and a short diff.
    Changed {
        summary: Vec<String>,
        diff: String,
    },
    /// Owned by another user, or writable by everyone: never run implicitly.
    Unsafe(String),
    /// The trust store cannot be read (no config directory, say).
    Unknown(String),
}

impl Verdict {
    /// The report for a policy that does not run: what is wrong and how to trust it.
    pub fn explain(&self, policy: &Path) -> String {
        let shown = policy.display();
        let how = format!(
            "review it, then run `trackit policy trust {shown}` (or name it explicitly with --policy {shown})"
        );
        match self {
            Verdict::Trusted => format!("{shown} is trusted"),
            Verdict::New => format!(
                "{shown} came with the repository and is not trusted yet, so the built-in default policy runs instead; {how}"
            ),
            Verdict::Changed { summary, diff } => {
                let mut text = format!(
                    "{shown} changed since you trusted it ({}), so the built-in default policy runs instead; {how}",
                    summary.join("; ")
                );
                if !diff.is_empty() {
                    text.push('\n');
                    text.push_str(diff);
                }
                text
            }
            Verdict::Unsafe(why) => format!(
                "{shown} is not run: {why}; the built-in default policy runs instead (name it explicitly with --policy {shown} if you mean it)"
            ),
            Verdict::Unknown(why) => format!(
                "cannot tell whether {shown} is trusted ({why}), so the built-in default policy runs instead; {how}"
            ),
        }
    }
}

/// The uid files must belong to: the effective user's, or under `sudo` the invoking user's.
fn allowed_owners() -> Vec<u32> {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let mut owners = vec![euid];
    if euid == 0 {
        if let Some(uid) = std::env::var("SUDO_UID").ok().and_then(|u| u.parse().ok()) {
            owners.push(uid);
        }
    }
    owners
}

/// Ownership and permissions of the policy, its folder and the repository root, like git's
/// `safe.directory` check.
pub fn check_ownership(policy: &Path) -> Result<(), String> {
    let owners = allowed_owners();
    let mut paths = vec![policy.to_path_buf()];
    if let Some(dir) = policy.parent() {
        paths.push(dir.to_path_buf());
        if let Some(root) = dir.parent() {
            paths.push(root.to_path_buf());
        }
    }
    for p in paths {
        let meta =
            std::fs::metadata(&p).map_err(|e| format!("cannot stat {}: {e}", p.display()))?;
        if !owners.contains(&meta.uid()) {
            return Err(format!(
                "{} is owned by uid {}, not by you (uid {})",
                p.display(),
                meta.uid(),
                owners[0]
            ));
        }
        let world_writable = meta.mode() & 0o002 != 0;
        let sticky = meta.mode() & 0o1000 != 0;
        if world_writable && !(meta.is_dir() && sticky) {
            return Err(format!("{} is writable by everyone", p.display()));
        }
    }
    Ok(())
}

/// The policy file and the modules beside it, sorted by name.
fn collect(policy: &Path) -> std::io::Result<Vec<PolicyFile>> {
    let dir = policy.parent().unwrap_or(Path::new("."));
    let main = policy
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut files = vec![PolicyFile {
        name: main.clone(),
        bytes: std::fs::read(policy)?,
    }];
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    while let Some((d, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if depth < MAX_DEPTH
                    && !name.starts_with('.')
                    && !(depth == 0 && SKIPPED_DIRS.contains(&name.as_str()))
                {
                    stack.push((path, depth + 1));
                }
                continue;
            }
            let rel = path
                .strip_prefix(dir)
                .map(|r| r.to_string_lossy().into_owned())
                .unwrap_or(name.clone());
            if !name.ends_with(".lua") || rel == main {
                continue;
            }
            if files.len() >= MAX_FILES {
                return Err(std::io::Error::other(format!(
                    "more than {MAX_FILES} Lua files beside the policy"
                )));
            }
            // A symlinked module is hashed as the text it points to.
            files.push(PolicyFile {
                name: rel,
                bytes: std::fs::read(&path)?,
            });
        }
    }
    files[1..].sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn digest(files: &[PolicyFile]) -> String {
    let mut h = Sha256::new();
    for f in files {
        h.update(f.name.as_bytes());
        h.update([0]);
        h.update((f.bytes.len() as u64).to_le_bytes());
        h.update(&f.bytes);
    }
    hex(&h.finalize())
}

fn record_path(store: &Path, policy: &Path) -> PathBuf {
    let key = sha256(policy.as_os_str().to_string_lossy().as_bytes());
    store.join("trusted").join(format!("{}.json", &key[..32]))
}

fn canonical(policy: &Path) -> PathBuf {
    std::fs::canonicalize(policy).unwrap_or_else(|_| policy.to_path_buf())
}

/// Whether the repository policy at `policy` may run, against the trust store in `store`
/// (normally [`config_dir`]).
pub fn check_in(store: Option<&Path>, policy: &Path) -> Verdict {
    let policy = canonical(policy);
    if let Err(why) = check_ownership(&policy) {
        return Verdict::Unsafe(why);
    }
    let Some(store) = store else {
        return Verdict::Unknown("no config directory: set XDG_CONFIG_HOME or HOME".into());
    };
    let files = match collect(&policy) {
        Ok(f) => f,
        Err(e) => return Verdict::Unknown(format!("cannot read the policy: {e}")),
    };
    let record: TrustRecord = match std::fs::read(record_path(store, &policy)) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(r) => r,
            Err(e) => return Verdict::Unknown(format!("unreadable trust record: {e}")),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Verdict::New,
        Err(e) => return Verdict::Unknown(format!("cannot read the trust record: {e}")),
    };
    if record.digest == digest(&files) {
        return Verdict::Trusted;
    }
    let (summary, diff) = changes(&record, &files);
    Verdict::Changed { summary, diff }
}

/// [`check_in`] against the user's own trust store.
pub fn check(policy: &Path) -> Verdict {
    check_in(config_dir().as_deref(), policy)
}

/// What changed between a record and the files now: one line per file, and a short diff.
fn changes(record: &TrustRecord, files: &[PolicyFile]) -> (Vec<String>, String) {
    let mut summary = Vec::new();
    let mut diff = String::new();
    for f in files {
        let old = record.files.iter().find(|r| r.name == f.name);
        match old {
            None => summary.push(format!("{} is new", f.name)),
            Some(o) if o.sha256 == sha256(&f.bytes) => {}
            Some(o) => {
                let now = String::from_utf8_lossy(&f.bytes);
                match &o.text {
                    Some(before) => {
                        let d = crate::edits::diff::unified(
                            before,
                            &now,
                            &format!("a/{}", f.name),
                            &format!("b/{}", f.name),
                            1,
                        );
                        let added = d
                            .lines()
                            .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
                            .count();
                        let removed = d
                            .lines()
                            .filter(|l| l.starts_with('-') && !l.starts_with("---"))
                            .count();
                        summary.push(format!("{} changed: +{added} -{removed} lines", f.name));
                        for line in d.lines().take(40usize.saturating_sub(diff.lines().count())) {
                            diff.push_str(line);
                            diff.push('\n');
                        }
                    }
                    None => summary.push(format!("{} changed", f.name)),
                }
            }
        }
    }
    for r in &record.files {
        if !files.iter().any(|f| f.name == r.name) {
            summary.push(format!("{} was removed", r.name));
        }
    }
    if summary.is_empty() {
        summary.push("the set of files changed".into());
    }
    (summary, diff.trim_end().to_string())
}

/// Records `policy` (and its modules) as trusted in `store`. Returns the verdict before (what
/// changed) and the new record. Refuses a policy someone else owns.
pub fn trust_in(store: &Path, policy: &Path) -> Result<(Verdict, TrustRecord), String> {
    let policy = canonical(policy);
    check_ownership(&policy)?;
    let before = check_in(Some(store), &policy);
    let files = collect(&policy).map_err(|e| format!("cannot read {}: {e}", policy.display()))?;
    let record = TrustRecord {
        path: policy.clone(),
        digest: digest(&files),
        trusted_at: chrono::Utc::now().to_rfc3339(),
        files: files
            .iter()
            .map(|f| RecordedFile {
                name: f.name.clone(),
                sha256: sha256(&f.bytes),
                text: (f.bytes.len() <= MAX_KEPT_TEXT)
                    .then(|| String::from_utf8(f.bytes.clone()).ok())
                    .flatten(),
            })
            .collect(),
    };
    let path = record_path(store, &policy);
    let parent = path.parent().unwrap_or(store);
    std::fs::create_dir_all(parent)
        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    let json = serde_json::to_vec_pretty(&record).map_err(|e| e.to_string())?;
    crate::atomic_file::write(&path, &json)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok((before, record))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_trusted_changed_and_modules_count() {
        let store = tempfile::tempdir().unwrap();
        let repo = tempfile::tempdir().unwrap();
        let dir = repo.path().join(".trackit");
        std::fs::create_dir_all(&dir).unwrap();
        let policy = dir.join("policy.lua");
        std::fs::write(&policy, "return {}\n").unwrap();
        std::fs::write(dir.join("helpers.lua"), "return 1\n").unwrap();
        assert_eq!(check_in(Some(store.path()), &policy), Verdict::New);
        trust_in(store.path(), &policy).unwrap();
        assert_eq!(check_in(Some(store.path()), &policy), Verdict::Trusted);
        // A module beside the policy is part of what was trusted.
        std::fs::write(dir.join("helpers.lua"), "return 2\n").unwrap();
        let Verdict::Changed { summary, diff } = check_in(Some(store.path()), &policy) else {
            panic!("a changed module must be noticed");
        };
        assert_eq!(summary, ["helpers.lua changed: +1 -1 lines"]);
        assert!(diff.contains("+return 2"), "{diff}");
        // trackit's own state folders are not modules.
        trust_in(store.path(), &policy).unwrap();
        std::fs::create_dir_all(dir.join("tracks/t1")).unwrap();
        std::fs::write(dir.join("tracks/t1/x.lua"), "x").unwrap();
        assert_eq!(check_in(Some(store.path()), &policy), Verdict::Trusted);
    }

    #[test]
    fn world_writable_policies_are_never_trusted() {
        use std::os::unix::fs::PermissionsExt;
        let store = tempfile::tempdir().unwrap();
        let repo = tempfile::tempdir().unwrap();
        let policy = repo.path().join("policy.lua");
        std::fs::write(&policy, "return {}\n").unwrap();
        trust_in(store.path(), &policy).unwrap();
        std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(matches!(
            check_in(Some(store.path()), &policy),
            Verdict::Unsafe(_)
        ));
        assert!(trust_in(store.path(), &policy).is_err());
    }
}
