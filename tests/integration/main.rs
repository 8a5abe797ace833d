//! One integration test binary (faster to link than one per file). Its modules:
//!
//! - `spec`: loading the spec, the model's contents, broken fixture specs, seed examples.
//! - `cases`: the generated cases: unique ids, every rule and type covered, fixture specs.
//! - `negatives`: every negative request is its baseline with exactly one thing changed, and the
//!   reference server accepts the baseline.
//! - `server`: the embedded reference server over real HTTP, fault by fault.
//! - `selftest`: every fault is caught by its category, with and without every variant on.
//! - `variants`: every tolerated variant passes with the faithful server's snapshots; warnings.
//! - `cli`: the binary as a user runs it: exit codes, one-line reasons, serve, cases, completions.
//! - `ci`: conformance.toml, init, known failures, --require, run --fault, runnable reproductions.
//! - `report`: the four reports, the HAR, their schema, scrubbing, an all-failing run's sizes.
//! - `explore`: exploration finds no divergence on a conformant server and one for every fault
//!   it can reach; shrunk reproductions replay; same seed, same sequences.
//! - `house`: the imports between modules follow the stage order, without cycles.
//! - `hostile`: misbehaving targets (silence, garbage, resets, 429s, TLS, proxies, gateways) and
//!   the wire as sent.

mod cases;
mod ci;
mod cli;
mod explore;
mod hostile;
mod house;
mod negatives;
mod report;
mod selftest;
mod server;
mod spec;
mod variants;
