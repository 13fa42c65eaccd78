//! (placeholder: the follower lands in the next commit)
