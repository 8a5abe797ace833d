//! One integration test binary (faster to link than one per file). Its modules:
//!
//! - `spec`: loading the spec, the model's contents, broken fixture specs, seed examples.
//! - `cases`: the generated cases: unique ids, every rule and type covered, fixture specs.
//! - `negatives`: every negative request is its baseline with exactly one thing changed, and the
//!   reference server accepts the baseline.
//! - `fixture`: shared setup: the bundled harness and cases built once, reference servers,
//!   authenticators for their credentials, HTTP clients.
//! - `server`: the embedded reference server over real HTTP, fault by fault; one submodule per
//!   concern of the contract (bodies, errors, lists, versions, state, auth, routes, faults).
//! - `selftest`: every fault is caught by its category, with and without every variant on.
//! - `variants`: every tolerated variant passes with the faithful server's snapshots; warnings.
//! - `nonces`: one-time digest nonces on the wire, and the concurrency cases passing ten runs in a
//!   row against them.
//! - `cli`: the binary as a user runs it: exit codes, one-line reasons, serve, cases, completions.
//! - `baseline`: known failures by signature: new findings fail, kept regressions read back,
//!   `--update-baseline` prunes.
//! - `ci`: conformance.toml, init, known failures, --require, run --fault, runnable reproductions.
//! - `front`: the cargo front end (`tests/conformance.rs`) reads the command line's target
//!   settings: `conformance.toml` through `CONFORMANCE_CONFIG`, `CONFORMANCE_RATE`, one line for a
//!   wrong value.
//! - `early`: every flag is checked before the first request (a listener that counts
//!   connections sees none), with a message for the user.
//! - `help`: help within the terminal's width, possible values in errors and completion, an
//!   exploration budget given alone is the bound.
//! - `report`: the four reports, the HAR, their schema, scrubbing, an all-failing run's sizes.
//! - `explore`: exploration finds no divergence on a conformant server and one for every fault
//!   it can reach; shrunk reproductions replay; same seed, same sequences.
//! - `planner`: cases that keep one state share its setup and one read of it; a case that
//!   changes it unexpectedly is isolated and the next still sees its planned state; the plan's
//!   request count is what the run sends.
//! - `quick`: `run --quick` exercises every rule on every family in few requests and still catches
//!   the faults; `--max-requests` is honoured; `--dry-run` sends nothing; the printed estimate.
//! - `house`: the imports between modules (the binary's included) follow the stage order,
//!   without cycles; API names come from the model; one sender signs; file and function sizes
//!   in `src/` and `tests/` stay within their limits, with named exceptions.
//! - `rules`: every rule of the contract (`spec/rules.yaml`) has a case, every case a rule; the
//!   reports' contract coverage; `conformance rules`.
//! - `signals`: SIGTERM mid-run against a separately started `serve`: cleaned up, reports
//!   written, exit code 2.
//! - `life`: --wait-for-target, serve --env, the bounded summary.md, failures grouped by first
//!   finding with their re-run line, scrubbed values shown as such, the Action and its workflow.
//! - `hostile`: misbehaving targets (silence, garbage, resets, 429s, TLS, proxies, gateways) and
//!   the wire as sent; one submodule per misbehaviour, and the servers that misbehave.

mod baseline;
mod cases;
mod ci;
mod cli;
mod early;
mod explore;
mod fixture;
mod front;
mod help;
mod hostile;
mod house;
mod life;
mod negatives;
mod nonces;
mod planner;
mod quick;
mod report;
mod rules;
mod selftest;
mod server;
mod signals;
mod spec;
mod variants;
