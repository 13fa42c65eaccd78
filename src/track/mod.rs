//! The tracking engine: tracks, their durable state, and the polling loop.

pub mod baseline;
pub mod display;
pub mod engine;
pub mod model;
pub mod publish;
pub mod store;
