//! The tracking engine: tracks, their durable state, and the polling loop.

pub mod store;
