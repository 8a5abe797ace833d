//! Conformance harness for the third-party service integrations Admin API.
//!
//! The pipeline: `spec::load` reads `spec/integrations.openapi.yaml`, `model::build` turns it into
//! the typed [`model::Model`] that every later stage reads, `schema` compiles response and request
//! validators from it, the reference server in [`server`] implements the same contract, and the
//! client side ([`auth`]) talks to any target.

pub mod auth;
pub mod error;
pub mod model;
pub mod schema;
pub mod server;
pub mod spec;

pub use error::{Error, Result};
