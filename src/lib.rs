//! Conformance harness for the third-party service integrations Admin API.
//!
//! The pipeline: `spec::load` reads `spec/integrations.openapi.yaml`, `model::build` turns it into
//! the typed [`model::Model`] that every later stage reads, `schema` compiles response and request
//! validators from it, the reference server in [`server`] implements the same contract, and the
//! client side ([`transport`] addresses, [`auth`] signs, [`sender`] sends) talks to any target.

pub mod auth;
pub mod case;
pub mod check;
pub mod config;
pub mod coverage;
pub mod credential;
pub mod error;
pub mod exchange;
pub mod explore;
pub mod harness;
pub mod known_failures;
pub mod model;
pub mod outcome;
pub mod plan;
pub mod report;
pub mod rules;
pub mod runner;
pub mod schema;
pub mod scrub;
pub mod sender;
pub mod server;
pub mod settings;
pub mod snapshot;
pub mod spec;
pub mod transport;

pub use error::{Error, Result};
