//! The tracking engine: tracks, their durable state, and the polling loop.

pub mod display;
pub mod engine;
pub mod index;
pub mod model;
pub mod publish;
pub mod store;
