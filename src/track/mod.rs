//! The tracking engine: tracks, their durable state, and the polling loop.

pub mod backend;
pub mod baseline;
pub mod choose;
pub mod diagnosis;
pub mod display;
pub mod engine;
pub mod index;
pub mod lease;
pub mod model;
pub mod pacer;
pub mod pipeline;
pub mod publish;
pub mod spec;
pub mod store;
pub mod summary;
