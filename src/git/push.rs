//! Pushing the results branch: never forced. A non-fast-forward rejection fetches the remote
//! branch, replays our commits on top of it and pushes again.

use std::cell::RefCell;

use git2::build::CheckoutBuilder;
use git2::{ErrorCode, FetchOptions, Oid, PushOptions, Remote, RemoteCallbacks, Sort};

use super::credentials::CredentialChain;
use super::error::{GitError, Result, ResultExt};
use super::repo::author_signature;
use super::results_branch::ResultsBranch;
use super::secret::Secret;
use super::url::redact_url;

/// How many times a rejected push is rebased and retried (someone else keeps pushing).
const MAX_PUSH_ATTEMPTS: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushOutcome {
    pub remote: String,
    pub branch: String,
    /// The commit the remote branch points at now.
    pub head: Oid,
    /// How many of our commits were replayed onto the remote branch before pushing.
    pub rebased: usize,
    /// The remote already had everything; nothing was sent.
    pub up_to_date: bool,
}

enum Attempt {
    Accepted,
    Rejected(String),
}

impl ResultsBranch {
    /// Pushes the results branch to `remote` (a configured remote name). Credentials:
    /// ssh-agent (ssh URLs, `SSH_AUTH_SOCK` set), git credential helpers, then `token` as
    /// `x-access-token`, each tried once. A non-fast-forward rejection is resolved by
    /// rebasing onto the remote branch, never by forcing.
    pub fn push(&self, remote: &str, token: Option<&Secret>) -> Result<PushOutcome> {
        let mut rebased = 0;
        let mut last_rejection = String::new();
        for _ in 0..MAX_PUSH_ATTEMPTS {
            let head = self.head()?;
            match self.push_once(remote, token)? {
                Attempt::Accepted => {
                    return Ok(PushOutcome {
                        remote: remote.to_string(),
                        branch: self.branch().to_string(),
                        head,
                        rebased,
                        up_to_date: false,
                    })
                }
                Attempt::Rejected(message) => {
                    tracing::info!(branch = self.branch(), remote, reason = %message, "push rejected; fetching the remote branch");
                    last_rejection = message.clone();
                    let Some(remote_tip) = self.fetch_remote_branch(remote, token)? else {
                        return Err(self.rejected(remote, message));
                    };
                    if remote_tip == head
                        || self
                            .repo
                            .graph_descendant_of(remote_tip, head)
                            .unwrap_or(false)
                    {
                        // The remote already has our commits: catch the branch up.
                        self.move_branch(
                            head,
                            remote_tip,
                            &format!("trackit: fast-forward to {remote}"),
                        )?;
                        return Ok(PushOutcome {
                            remote: remote.to_string(),
                            branch: self.branch().to_string(),
                            head: remote_tip,
                            rebased,
                            up_to_date: true,
                        });
                    }
                    if self
                        .repo
                        .graph_descendant_of(head, remote_tip)
                        .unwrap_or(false)
                    {
                        // A fast-forward that was still refused: a hook or protection rule.
                        return Err(self.rejected(remote, message));
                    }
                    rebased += self.rebase_onto(remote, remote_tip)?;
                }
            }
        }
        Err(self.rejected(
            remote,
            format!("still rejected after {MAX_PUSH_ATTEMPTS} rebases: {last_rejection}"),
        ))
    }

    fn rejected(&self, remote: &str, message: String) -> GitError {
        GitError::PushRejected {
            remote: remote.to_string(),
            refname: self.refname(),
            message,
        }
    }

    fn find_remote(&self, remote: &str) -> Result<(Remote<'_>, String)> {
        let found = match self.repo.find_remote(remote) {
            Ok(r) => r,
            Err(e) if matches!(e.code(), ErrorCode::NotFound | ErrorCode::InvalidSpec) => {
                return Err(GitError::NoSuchRemote(remote.to_string()))
            }
            Err(e) => return Err(e).ctx(|| format!("reading remote {remote}")),
        };
        let url = match found.pushurl() {
            Ok(Some(push_url)) => push_url.to_string(),
            _ => found.url().unwrap_or_default().to_string(),
        };
        Ok((found, url))
    }

    fn callbacks<'a>(&self, token: Option<&Secret>) -> Result<RemoteCallbacks<'a>> {
        let config = self.repo.config().ctx(|| "reading git config".into())?;
        let mut chain = CredentialChain::new(Some(config), token.cloned());
        let mut callbacks = RemoteCallbacks::new();
        callbacks.credentials(move |url, user, allowed| chain.credential(url, user, allowed));
        Ok(callbacks)
    }

    fn push_once(&self, remote_name: &str, token: Option<&Secret>) -> Result<Attempt> {
        let (mut remote, url) = self.find_remote(remote_name)?;
        let refname = self.refname();
        let rejection: RefCell<Option<String>> = RefCell::new(None);
        let remote_said: RefCell<Vec<u8>> = RefCell::new(Vec::new());
        let mut callbacks = self.callbacks(token)?;
        callbacks.push_update_reference(|_name, status| {
            if let Some(message) = status {
                *rejection.borrow_mut() = Some(message.to_string());
            }
            Ok(())
        });
        // What hooks print ("remote: ..."), to explain a rejection.
        callbacks.sideband_progress(|data| {
            let mut said = remote_said.borrow_mut();
            if said.len() < 4096 {
                said.extend_from_slice(data);
            }
            true
        });
        let mut options = PushOptions::new();
        options.remote_callbacks(callbacks);
        let refspec = format!("{refname}:{refname}");
        tracing::info!(branch = self.branch(), remote = remote_name, url = %redact_url(&url), "pushing results branch");
        match remote.push(&[refspec.as_str()], Some(&mut options)) {
            Ok(()) => {}
            Err(e) if e.code() == ErrorCode::NotFastForward => {
                return Ok(Attempt::Rejected(e.message().to_string()))
            }
            Err(e) => {
                return Err(GitError::Push {
                    remote: remote_name.to_string(),
                    url: redact_url(&url),
                    refname,
                    message: scrub(token, e.message()),
                })
            }
        }
        drop(options);
        Ok(match rejection.into_inner() {
            Some(message) => {
                let said = String::from_utf8_lossy(&remote_said.into_inner()).into_owned();
                let said = said
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join(" / ");
                let message = if said.is_empty() {
                    message
                } else {
                    format!("{message} (remote: {said})")
                };
                Attempt::Rejected(scrub(token, &message))
            }
            None => Attempt::Accepted,
        })
    }

    /// Fetches the remote's copy of the results branch; `None` if the remote has none.
    fn fetch_remote_branch(
        &self,
        remote_name: &str,
        token: Option<&Secret>,
    ) -> Result<Option<Oid>> {
        let (mut remote, url) = self.find_remote(remote_name)?;
        let tracking = format!("refs/remotes/{remote_name}/{}", self.branch());
        // Forget the old tracking ref so a branch deleted on the remote reads as absent.
        if let Ok(mut old) = self.repo.find_reference(&tracking) {
            let _ = old.delete();
        }
        let mut options = FetchOptions::new();
        options.remote_callbacks(self.callbacks(token)?);
        let refspec = format!("+{}:{tracking}", self.refname());
        remote
            .fetch(&[refspec.as_str()], Some(&mut options), None)
            .map_err(|e| GitError::Push {
                remote: remote_name.to_string(),
                url: redact_url(&url),
                refname: self.refname(),
                message: format!("fetching the remote branch: {}", scrub(token, e.message())),
            })?;
        match self.repo.refname_to_id(&tracking) {
            Ok(oid) => Ok(Some(oid)),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e).ctx(|| format!("reading {tracking}")),
        }
    }

    /// Replays our commits that the remote lacks on top of `upstream` (like `git rebase`:
    /// merges are dropped, commits already upstream are skipped), moves the branch there
    /// and updates the worktree. Returns the number of commits replayed.
    fn rebase_onto(&self, remote: &str, upstream: Oid) -> Result<usize> {
        let repo = &self.repo;
        let head = self.head()?;
        let mut walk = repo.revwalk().ctx(|| "walking history".into())?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
            .ctx(|| "walking history".into())?;
        walk.push(head).ctx(|| "walking history".into())?;
        walk.hide(upstream).ctx(|| "walking history".into())?;
        let to_replay = walk
            .collect::<std::result::Result<Vec<Oid>, _>>()
            .ctx(|| "walking history".into())?;

        let committer = author_signature(repo)?;
        let mut onto = repo
            .find_commit(upstream)
            .ctx(|| format!("reading {remote}/{}", self.branch()))?;
        let mut replayed = 0;
        for oid in to_replay {
            let commit = repo.find_commit(oid).ctx(|| format!("reading {oid}"))?;
            if commit.parent_count() > 1 {
                continue;
            }
            let mut index = repo
                .cherrypick_commit(&commit, &onto, 0, None)
                .ctx(|| format!("replaying {oid}"))?;
            if index.has_conflicts() {
                let paths: Vec<String> = index
                    .conflicts()
                    .map(|conflicts| {
                        conflicts
                            .flatten()
                            .filter_map(|c| c.our.or(c.their).or(c.ancestor))
                            .map(|e| String::from_utf8_lossy(&e.path).into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                return Err(GitError::RebaseConflict {
                    branch: self.branch().to_string(),
                    upstream: format!("{remote}/{}", self.branch()),
                    commit: oid.to_string(),
                    paths: paths.join(", "),
                    worktree: self.worktree_path().to_path_buf(),
                });
            }
            let tree_id = index
                .write_tree_to(repo)
                .ctx(|| "writing the tree".into())?;
            if tree_id == onto.tree_id() {
                continue; // already upstream
            }
            let tree = repo.find_tree(tree_id).ctx(|| "reading the tree".into())?;
            let message = String::from_utf8_lossy(commit.message_raw_bytes()).into_owned();
            let new = repo
                .commit(
                    None,
                    &commit.author(),
                    &committer,
                    &message,
                    &tree,
                    &[&onto],
                )
                .ctx(|| format!("replaying {oid}"))?;
            onto = repo.find_commit(new).ctx(|| format!("reading {new}"))?;
            replayed += 1;
        }
        self.move_branch(
            head,
            onto.id(),
            &format!("trackit: rebase onto {remote}/{}", self.branch()),
        )?;
        tracing::info!(branch = self.branch(), replayed, onto = %upstream, "rebased results branch onto the remote");
        Ok(replayed)
    }

    /// Moves the branch from `from` to `to` (failing if it moved meanwhile) and makes the
    /// worktree match.
    fn move_branch(&self, from: Oid, to: Oid, log_message: &str) -> Result<()> {
        if from != to {
            self.repo
                .reference_matching(&self.refname(), to, true, from, log_message)
                .ctx(|| format!("moving {}", self.branch()))?;
        }
        self.repo
            .checkout_head(Some(CheckoutBuilder::new().force()))
            .ctx(|| format!("updating worktree {}", self.worktree_path().display()))
    }
}

fn scrub(token: Option<&Secret>, text: &str) -> String {
    match token {
        Some(t) => t.scrub(text),
        None => text.to_string(),
    }
}
