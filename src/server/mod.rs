//! The embedded reference server.

pub mod auth;
