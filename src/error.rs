//! The harness's own failures (a broken spec, an unreachable target, bad usage), as opposed to a
//! target's non-conformance, which is data (a finding), never an error.

use std::path::PathBuf;

/// Everything that stops the harness from judging a target.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read spec {path}: {source}")]
    SpecRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("spec does not parse as OpenAPI 3.0: {0}")]
    SpecParse(String),
    #[error("invalid spec: {0}")]
    SpecInvalid(String),
    #[error("invalid schema at {pointer}: {message}")]
    Schema { pointer: String, message: String },
    #[error("auth: {0}")]
    Auth(String),
    #[error("target: {0}")]
    Target(String),
    #[error("usage: {0}")]
    Usage(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
