//! The credentials a user gives the harness (`digest:…`, `bearer:…`, `oauth:…`): parsed and
//! never shown. A leaf module: the target and the authenticators both read it.

use std::fmt;
use std::str::FromStr;

const SPEC_HELP: &str = "expected digest:PUBLIC:PRIVATE, bearer:TOKEN or oauth:CLIENT_ID:SECRET";

/// The credentials the harness uses against a target.
#[derive(Clone, PartialEq, Eq)]
pub enum AuthSpec {
    /// HTTP Digest: username = public API key, password = private API key.
    Digest { public: String, private: String },
    /// A ready-made bearer token.
    Bearer { token: String },
    /// OAuth 2.0 client credentials, exchanged at `/api/oauth/token` for a bearer token.
    OAuth {
        client_id: String,
        client_secret: String,
    },
}

impl AuthSpec {
    /// The scheme name as written on the command line (`digest`, `bearer`, `oauth`).
    pub fn scheme(&self) -> &'static str {
        match self {
            AuthSpec::Digest { .. } => "digest",
            AuthSpec::Bearer { .. } => "bearer",
            AuthSpec::OAuth { .. } => "oauth",
        }
    }

    /// Every credential string (public and private key, token, client id and secret), so that
    /// the harness can scrub them from whatever it prints or records.
    pub fn secrets(&self) -> Vec<String> {
        let all = match self {
            AuthSpec::Digest { public, private } => vec![public.clone(), private.clone()],
            AuthSpec::Bearer { token } => vec![token.clone()],
            AuthSpec::OAuth {
                client_id,
                client_secret,
            } => vec![client_id.clone(), client_secret.clone()],
        };
        all.into_iter().filter(|s| !s.is_empty()).collect()
    }
}

impl fmt::Debug for AuthSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            AuthSpec::Digest { .. } => "Digest",
            AuthSpec::Bearer { .. } => "Bearer",
            AuthSpec::OAuth { .. } => "OAuth",
        };
        write!(f, "AuthSpec::{name}(<redacted>)")
    }
}

impl FromStr for AuthSpec {
    type Err = String;

    /// Parses `digest:PUBLIC:PRIVATE`, `bearer:TOKEN` or `oauth:CLIENT_ID:SECRET`. The private key,
    /// the secret and the token may contain `:`. Error messages never repeat any part of the input
    /// (what looks like a scheme may well be a key).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((scheme, rest)) = s.split_once(':') else {
            return Err(format!("no scheme in the credentials; {SPEC_HELP}"));
        };
        let pair = |what: &str| -> Result<(String, String), String> {
            match rest.split_once(':') {
                Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a.to_owned(), b.to_owned())),
                Some(("", _)) => Err(format!("empty {what}; {SPEC_HELP}")),
                Some(_) => Err(format!("empty secret part after the {what}; {SPEC_HELP}")),
                None => Err(format!("missing secret part after the {what}; {SPEC_HELP}")),
            }
        };
        if scheme.eq_ignore_ascii_case("digest") {
            let (public, private) = pair("public key")?;
            Ok(AuthSpec::Digest { public, private })
        } else if scheme.eq_ignore_ascii_case("oauth") {
            let (client_id, client_secret) = pair("client id")?;
            Ok(AuthSpec::OAuth {
                client_id,
                client_secret,
            })
        } else if scheme.eq_ignore_ascii_case("bearer") {
            if rest.is_empty() {
                return Err(format!("empty bearer token; {SPEC_HELP}"));
            }
            Ok(AuthSpec::Bearer {
                token: rest.to_owned(),
            })
        } else {
            Err(format!("unknown credentials scheme; {SPEC_HELP}"))
        }
    }
}
