//! One integration test binary (faster to link than one per file).
//!
//! - `spec`: loading the spec, the model's contents, broken fixture specs, seed examples.

mod cases;
mod ci;
mod cli;
mod hostile;
mod negatives;
mod report;
mod selftest;
mod server;
mod spec;
mod variants;
