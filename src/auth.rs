//! Client-side authentication: HTTP digest, bearer tokens and OAuth 2.0 client credentials.
