//! Log follower tests (next commit).
