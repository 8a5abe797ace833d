//! Server-side authentication.
