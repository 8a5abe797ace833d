//! Client-side authentication: HTTP digest, bearer tokens and OAuth 2.0 client credentials.
//!
//! [`AuthSpec`] is what the user passes on the command line; [`Authenticator`] turns it into
//! `Authorization` header values for any target and learns from the target's answers
//! (`WWW-Authenticate` challenges, `401` on an expired token). [`parse_challenges`] is the
//! RFC 7235 parser that both this module and the reference server (`crate::server::auth`) use.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine as _;
use digest_auth::{Algorithm, AuthContext, Charset, HttpMethod, Qop, WwwAuthenticateHeader};
use http::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::StatusCode;
use url::Url;

pub use crate::credential::AuthSpec;
use crate::error::Error;
use crate::target::Client;

/// Lifetime assumed for an OAuth token whose reply has no `expires_in`.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

// ---------------------------------------------------------------------------------------------
// RFC 7235 challenge / credentials parsing
// ---------------------------------------------------------------------------------------------

/// One challenge of a `WWW-Authenticate` value, or the credentials of an `Authorization` value:
/// an auth scheme followed by either a token68 or a list of auth-params.
#[derive(Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The scheme as sent (compare it case-insensitively).
    pub scheme: String,
    /// `Basic dXNlcjpwYXNz`, `Bearer abc.def`: the single token after the scheme.
    pub token68: Option<String>,
    /// Auth-params in order; names are lower-cased, quoted values unquoted and unescaped.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// The first value of the parameter `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether some parameter name occurs more than once (ambiguous credentials).
    pub fn has_duplicate_params(&self) -> bool {
        self.params
            .iter()
            .enumerate()
            .any(|(i, (n, _))| self.params[..i].iter().any(|(m, _)| m == n))
    }
}

impl fmt::Debug for Challenge {
    // Values may be digest responses or tokens: show only the shape.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.params.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Challenge")
            .field("scheme", &self.scheme)
            .field("token68", &self.token68.as_ref().map(|_| "<redacted>"))
            .field("params", &names)
            .finish()
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }
    fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
    }
    fn skip_ws_and_commas(&mut self) {
        while self.peek().is_some_and(|b| is_ws(b) || b == b',') {
            self.pos += 1;
        }
    }
    fn at_end_of_item(&self) -> bool {
        matches!(self.peek(), None | Some(b','))
    }
    fn token(&mut self) -> &[u8] {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }
    /// A quoted-string; the cursor is on the opening quote.
    fn quoted(&mut self) -> Result<String, &'static str> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err("unterminated quoted string"),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        None => return Err("unterminated quoted string"),
                        Some(b) => out.push(b),
                    }
                    self.pos += 1;
                }
                Some(b) => {
                    out.push(b);
                    self.pos += 1;
                }
            }
        }
        String::from_utf8(out).map_err(|_| "quoted string is not UTF-8")
    }
    /// An unquoted value. Lenient: anything up to a comma or white space (RFC 7235 says a token,
    /// but some clients send e.g. `uri=/path` unquoted).
    fn bare_value(&mut self) -> Result<String, &'static str> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|b| b != b',' && b != b'"' && !is_ws(b))
        {
            self.pos += 1;
        }
        if start == self.pos {
            return Err("empty parameter value");
        }
        std::str::from_utf8(&self.s[start..self.pos])
            .map(str::to_owned)
            .map_err(|_| "parameter value is not UTF-8")
    }
    /// After a scheme and its white space: a token68 if one stands alone up to `,` or the end.
    fn try_token68(&mut self) -> Option<String> {
        let start = self.pos;
        let mut p = self.pos;
        while self.s.get(p).copied().is_some_and(is_token68_char) {
            p += 1;
        }
        if p == start {
            return None;
        }
        while self.s.get(p) == Some(&b'=') {
            p += 1;
        }
        let end = p;
        while self.s.get(p).copied().is_some_and(is_ws) {
            p += 1;
        }
        if matches!(self.s.get(p), None | Some(b',')) {
            self.pos = p;
            // ASCII only, so this cannot fail.
            return std::str::from_utf8(&self.s[start..end])
                .ok()
                .map(str::to_owned);
        }
        None
    }
}

/// Parses a `WWW-Authenticate` value (one or more challenges) or an `Authorization` value (one
/// challenge-shaped credentials) per RFC 7235: case-insensitive names (returned lower-cased),
/// quoted or bare values, commas and escaped quotes inside quoted strings, any parameter order.
/// Lenient about missing commas between parameters. The error names the problem, never a value.
pub fn parse_challenges(input: &str) -> Result<Vec<Challenge>, &'static str> {
    let mut c = Cursor {
        s: input.as_bytes(),
        pos: 0,
    };
    let mut out: Vec<Challenge> = Vec::new();
    loop {
        c.skip_ws_and_commas();
        if c.peek().is_none() {
            break;
        }
        let token = c.token();
        if token.is_empty() {
            return Err("expected an auth scheme or parameter name");
        }
        // ASCII only, so this cannot fail.
        let token = String::from_utf8_lossy(token).into_owned();
        c.skip_ws();
        if c.peek() == Some(b'=') {
            // name = value, belonging to the current challenge
            let Some(current) = out.last_mut() else {
                return Err("parameter before any auth scheme");
            };
            if current.token68.is_some() {
                return Err("parameter after a token68");
            }
            c.pos += 1;
            c.skip_ws();
            let value = match c.peek() {
                Some(b'"') => c.quoted()?,
                _ => c.bare_value()?,
            };
            current.params.push((token.to_ascii_lowercase(), value));
            c.skip_ws();
        } else {
            // a new scheme
            let mut ch = Challenge {
                scheme: token,
                token68: None,
                params: Vec::new(),
            };
            if !c.at_end_of_item() {
                ch.token68 = c.try_token68();
            }
            out.push(ch);
        }
    }
    if out.is_empty() {
        return Err("no auth scheme");
    }
    Ok(out)
}

/// Splits `Scheme rest` at the first white space.
pub(crate) fn split_scheme(value: &str) -> (&str, &str) {
    let value = value.trim();
    match value.find([' ', '\t']) {
        Some(i) => (&value[..i], value[i..].trim()),
        None => (value, ""),
    }
}

/// `application/x-www-form-urlencoded` encoding of one value (RFC 6749 §2.3.1 asks for it on
/// the client id and secret inside Basic credentials).
fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Builds a digest challenge that `digest_auth` can answer from our own parse (the crate's own
/// parser is case-sensitive about the scheme, names and algorithm). `None` if unsupported.
fn digest_challenge(ch: &Challenge) -> Option<WwwAuthenticateHeader> {
    if !ch.scheme.eq_ignore_ascii_case("digest") {
        return None;
    }
    let realm = ch.param("realm")?.to_owned();
    let nonce = ch.param("nonce")?.to_owned();
    let algorithm = match ch.param("algorithm") {
        None => Algorithm::default(),
        Some(a) => {
            let canonical = [
                "MD5",
                "MD5-sess",
                "SHA-256",
                "SHA-256-sess",
                "SHA-512-256",
                "SHA-512-256-sess",
            ]
            .into_iter()
            .find(|n| n.eq_ignore_ascii_case(a.trim()))?;
            Algorithm::from_str(canonical).ok()?
        }
    };
    let qop = match ch.param("qop") {
        None => None,
        Some(list) => {
            let offered: Vec<String> = list
                .split(',')
                .map(|q| q.trim().to_ascii_lowercase())
                .collect();
            // We never have the body at hand, so answer with `auth` whenever it is offered.
            if offered.iter().any(|q| q == "auth") {
                Some(vec![Qop::AUTH])
            } else if offered.iter().any(|q| q == "auth-int") {
                Some(vec![Qop::AUTH_INT])
            } else {
                return None;
            }
        }
    };
    let flag = |name: &str| {
        ch.param(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    };
    Some(WwwAuthenticateHeader {
        domain: ch
            .param("domain")
            .map(|d| d.split_whitespace().map(str::to_owned).collect()),
        realm,
        nonce,
        opaque: ch.param("opaque").map(str::to_owned),
        stale: flag("stale"),
        algorithm,
        qop,
        userhash: flag("userhash"),
        charset: match ch.param("charset") {
            Some(c) if c.eq_ignore_ascii_case("utf-8") => Charset::UTF8,
            _ => Charset::ASCII,
        },
        nc: 0,
    })
}

// ---------------------------------------------------------------------------------------------
// Authenticator
// ---------------------------------------------------------------------------------------------

struct CachedToken {
    value: HeaderValue,
    refresh_at: Instant,
}

/// Produces `Authorization` values for requests to one target; shared by concurrent requests.
pub struct Authenticator {
    spec: AuthSpec,
    token_url: Url,
    /// Digest: the last challenge, with its running `nc`. Locked while a response is computed, so
    /// `nc` is strictly increasing per nonce.
    digest: Mutex<Option<WwwAuthenticateHeader>>,
    /// OAuth: the cached token (read without waiting on a fetch in flight).
    token: Mutex<Option<CachedToken>>,
    /// OAuth: serialises token fetches, so that concurrent requests fetch once.
    fetch: tokio::sync::Mutex<()>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("spec", &self.spec)
            .field("token_url", &self.token_url.as_str())
            .field("digest_challenge", &lock(&self.digest).is_some())
            .field("token_cached", &lock(&self.token).is_some())
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Authenticator {
    /// `base_url` is the target's root; the OAuth token endpoint is `{base_url}/api/oauth/token`.
    pub fn new(spec: AuthSpec, base_url: Url) -> Self {
        let mut token_url = base_url;
        let path = format!("{}/api/oauth/token", token_url.path().trim_end_matches('/'));
        token_url.set_path(&path);
        token_url.set_query(None);
        token_url.set_fragment(None);
        Authenticator {
            spec,
            token_url,
            digest: Mutex::new(None),
            token: Mutex::new(None),
            fetch: tokio::sync::Mutex::new(()),
        }
    }

    /// The credentials this authenticator uses.
    pub fn spec(&self) -> &AuthSpec {
        &self.spec
    }

    /// The `Authorization` value for a request with this method and path + query (`uri`, exactly
    /// as it will be sent). `None` for digest before the first challenge is known.
    pub async fn header(
        &self,
        client: &Client,
        method: &http::Method,
        uri: &str,
    ) -> Result<Option<HeaderValue>, Error> {
        match &self.spec {
            AuthSpec::Bearer { token } => sensitive(&format!("Bearer {token}"))
                .map(Some)
                .ok_or_else(|| Error::Auth("the bearer token is not a valid header value".into())),
            AuthSpec::Digest { public, private } => {
                self.digest_header(public, private, method, uri)
            }
            AuthSpec::OAuth { .. } => self.oauth_header(client).await.map(Some),
        }
    }

    fn digest_header(
        &self,
        public: &str,
        private: &str,
        method: &http::Method,
        uri: &str,
    ) -> Result<Option<HeaderValue>, Error> {
        let mut guard = lock(&self.digest);
        let Some(challenge) = guard.as_mut() else {
            return Ok(None);
        };
        let context = AuthContext::new_with_method(
            public,
            private,
            uri,
            None::<&[u8]>,
            HttpMethod(Cow::Borrowed(method.as_str())),
        );
        let answer = challenge
            .respond(&context)
            .map_err(|_| Error::Auth("cannot answer the target's digest challenge".into()))?;
        drop(guard);
        sensitive(&answer.to_string())
            .map(Some)
            .ok_or_else(|| Error::Auth("digest credentials are not a valid header value".into()))
    }

    fn cached_token(&self) -> Option<HeaderValue> {
        let guard = lock(&self.token);
        guard
            .as_ref()
            .filter(|t| Instant::now() < t.refresh_at)
            .map(|t| t.value.clone())
    }

    async fn oauth_header(&self, client: &Client) -> Result<HeaderValue, Error> {
        if let Some(v) = self.cached_token() {
            return Ok(v);
        }
        let _fetching = self.fetch.lock().await;
        if let Some(v) = self.cached_token() {
            return Ok(v);
        }
        let (value, lifetime) = self.fetch_token(client).await?;
        let margin = (lifetime / 10).min(Duration::from_secs(60));
        *lock(&self.token) = Some(CachedToken {
            value: value.clone(),
            refresh_at: Instant::now() + (lifetime - margin),
        });
        Ok(value)
    }

    /// Replaces every credential in `s` (e.g. an error text from the target) by `<redacted>`.
    fn scrub(&self, s: &str) -> String {
        let mut out = s.to_owned();
        // Strings of under four characters are not worth hiding and would mangle the text
        // (a client id `id` inside `invalid_client`); the same floor as `Target::secrets`.
        for secret in self.spec.secrets().into_iter().filter(|s| s.len() >= 4) {
            out = out.replace(&secret, "<redacted>");
        }
        out
    }

    async fn fetch_token(&self, client: &Client) -> Result<(HeaderValue, Duration), Error> {
        let AuthSpec::OAuth {
            client_id,
            client_secret,
        } = &self.spec
        else {
            return Err(Error::Auth("not an OAuth credential".into()));
        };
        let url = &self.token_url;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            form_encode(client_id),
            form_encode(client_secret)
        ));
        let basic = sensitive(&format!("Basic {basic}"))
            .ok_or_else(|| Error::Auth("client credentials are not a valid header value".into()))?;
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, basic);
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let form = bytes::Bytes::from_static(b"grant_type=client_credentials");
        let response = client
            .send(&http::Method::POST, url, &headers, Some(&form), None)
            .await
            .answer
            .map_err(|e| Error::Auth(self.scrub(&format!("token request to {url} failed: {e}"))))?;
        let status = response.status;
        if let Some(e) = &response.error {
            return Err(Error::Auth(
                self.scrub(&format!("reading the token reply from {url} failed: {e}")),
            ));
        }
        let body = response.body;
        let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
        if !status.is_success() {
            let error = json
                .as_ref()
                .and_then(|j| j.get("error"))
                .and_then(|e| e.as_str())
                .map(|e| {
                    let e: String = e.chars().filter(|c| !c.is_control()).take(100).collect();
                    format!(" (error={e})")
                })
                .unwrap_or_default();
            return Err(Error::Auth(
                self.scrub(&format!("token endpoint {url} answered {status}{error}")),
            ));
        }
        let Some(json) = json else {
            return Err(Error::Auth(format!(
                "token endpoint {url} answered {status} with a body that is not JSON"
            )));
        };
        let token = json
            .get("access_token")
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Error::Auth(format!(
                    "token endpoint {url} answered {status} without an access_token"
                ))
            })?;
        match json.get("token_type").and_then(|t| t.as_str()) {
            Some(t) if t.eq_ignore_ascii_case("bearer") => {}
            _ => {
                return Err(Error::Auth(format!(
                    "token endpoint {url} answered {status} without token_type Bearer"
                )))
            }
        }
        let lifetime = match json.get("expires_in") {
            Some(serde_json::Value::Number(n)) => n
                .as_f64()
                .filter(|s| s.is_finite() && *s > 0.0)
                .map(|s| Duration::from_secs_f64(s.min(1e9)))
                .unwrap_or(DEFAULT_TOKEN_LIFETIME),
            Some(serde_json::Value::String(s)) => s
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|s| *s > 0)
                .map(Duration::from_secs)
                .unwrap_or(DEFAULT_TOKEN_LIFETIME),
            _ => DEFAULT_TOKEN_LIFETIME,
        };
        let value = sensitive(&format!("Bearer {token}")).ok_or_else(|| {
            Error::Auth(format!(
                "token endpoint {url} answered an access_token that is not a valid header value"
            ))
        })?;
        Ok((value, lifetime))
    }

    /// Called after every response. Returns true when the request should be retried (once) with a
    /// fresh header: a `401` carrying a digest challenge (now cached) for digest credentials, or a
    /// `401` for OAuth (the cached token is dropped). Also follows `Authentication-Info:
    /// nextnonce` on success.
    pub fn learn(&self, status: StatusCode, headers: &HeaderMap) -> bool {
        match &self.spec {
            AuthSpec::Bearer { .. } => false,
            AuthSpec::OAuth { .. } => {
                if status == StatusCode::UNAUTHORIZED {
                    *lock(&self.token) = None;
                    true
                } else {
                    false
                }
            }
            AuthSpec::Digest { .. } => {
                if status == StatusCode::UNAUTHORIZED {
                    let found = headers
                        .get_all(WWW_AUTHENTICATE)
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .filter_map(|v| parse_challenges(v).ok())
                        .flatten()
                        .find_map(|ch| digest_challenge(&ch));
                    match found {
                        Some(challenge) => {
                            *lock(&self.digest) = Some(challenge);
                            true
                        }
                        None => false,
                    }
                } else {
                    self.follow_next_nonce(headers);
                    false
                }
            }
        }
    }

    /// RFC 7616 §3.5: `Authentication-Info: nextnonce="..."` asks us to switch nonces.
    fn follow_next_nonce(&self, headers: &HeaderMap) {
        let Some(next) = headers
            .get("authentication-info")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_challenges(&format!("Digest {v}")).ok())
            .and_then(|chs| chs.into_iter().next())
            .and_then(|ch| ch.param("nextnonce").map(str::to_owned))
        else {
            return;
        };
        let mut guard = lock(&self.digest);
        if let Some(challenge) = guard.as_mut() {
            if challenge.nonce != next {
                challenge.nonce = next;
                challenge.nc = 0;
            }
        }
    }
}

fn sensitive(s: &str) -> Option<HeaderValue> {
    let mut v = HeaderValue::from_str(s).ok()?;
    v.set_sensitive(true);
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::auth::{AuthConfig, AuthState};
    use axum::extract::State;
    use axum::http::{HeaderMap as AxHeaders, Method as AxMethod, Uri};
    use axum::response::{IntoResponse, Response};
    use axum::routing::post;
    use axum::serve::ListenerExt as _;
    use axum::Router;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Authenticator>();
        check::<std::sync::Arc<Authenticator>>();
    }

    // ---- AuthSpec --------------------------------------------------------------------------

    #[test]
    fn spec_parses_each_scheme_and_keeps_colons_in_secrets() {
        let d: AuthSpec = "digest:PUBKEY:priv:with:colons".parse().unwrap();
        assert_eq!(
            d,
            AuthSpec::Digest {
                public: "PUBKEY".into(),
                private: "priv:with:colons".into()
            }
        );
        let b: AuthSpec = "bearer:tok:en".parse().unwrap();
        assert_eq!(
            b,
            AuthSpec::Bearer {
                token: "tok:en".into()
            }
        );
        let o: AuthSpec = "OAuth:mdb_sa_id_1:s3cr:et".parse().unwrap();
        assert_eq!(
            o,
            AuthSpec::OAuth {
                client_id: "mdb_sa_id_1".into(),
                client_secret: "s3cr:et".into()
            }
        );
        assert_eq!(
            o.secrets(),
            vec!["mdb_sa_id_1".to_owned(), "s3cr:et".to_owned()]
        );
        assert_eq!(
            d.secrets(),
            vec!["PUBKEY".to_owned(), "priv:with:colons".to_owned()]
        );
        assert_eq!(b.secrets(), vec!["tok:en".to_owned()]);
        assert_eq!(d.scheme(), "digest");
    }

    #[test]
    fn spec_errors_and_debug_never_echo_secrets() {
        for bad in [
            "SECRETVALUE",
            "SECRETVALUE:OTHERSECRET",
            "digest:SECRETVALUE",
            "digest:SECRETVALUE:",
            "digest::SECRETVALUE",
            "oauth:SECRETVALUE",
            "bearer:",
            "",
        ] {
            let err = bad.parse::<AuthSpec>().unwrap_err();
            assert!(!err.contains("SECRETVALUE"), "{err}");
            assert!(!err.contains("OTHERSECRET"), "{err}");
            assert!(err.contains("digest:PUBLIC:PRIVATE"), "{err}");
        }
        let d: AuthSpec = "digest:PUBKEY:PRIVKEY".parse().unwrap();
        let dbg = format!("{d:?}");
        assert_eq!(dbg, "AuthSpec::Digest(<redacted>)");
        let o: AuthSpec = "oauth:CID:CSECRET".parse().unwrap();
        assert_eq!(format!("{o:?}"), "AuthSpec::OAuth(<redacted>)");
        let a = Authenticator::new(o, Url::parse("http://h/").unwrap());
        let dbg = format!("{a:?}");
        assert!(!dbg.contains("CID") && !dbg.contains("CSECRET"), "{dbg}");
    }

    // ---- parsing -----------------------------------------------------------------------------

    #[test]
    fn parses_multiple_challenges_token68_and_quoting() {
        let chs = parse_challenges(
            r#"Newauth realm="apps", type=1, title="Login to \"apps\", now", Basic realm="simple""#,
        )
        .unwrap();
        assert_eq!(chs.len(), 2);
        assert_eq!(chs[0].scheme, "Newauth");
        assert_eq!(chs[0].param("TYPE"), Some("1"));
        assert_eq!(chs[0].param("title"), Some(r#"Login to "apps", now"#));
        assert_eq!(chs[1].param("realm"), Some("simple"));

        let chs = parse_challenges("Bearer abc.DEF-_~+/==").unwrap();
        assert_eq!(chs.len(), 1);
        assert_eq!(chs[0].token68.as_deref(), Some("abc.DEF-_~+/=="));
        assert!(chs[0].params.is_empty());

        let chs = parse_challenges("Basic YWJj==, Digest realm=x").unwrap();
        assert_eq!(chs[0].token68.as_deref(), Some("YWJj=="));
        assert_eq!(chs[1].param("realm"), Some("x"));

        // any order, upper-case names, bare values, missing commas, stray commas, tabs
        let chs = parse_challenges(
            "digest  NC=00000001 ,, Uri=\"/a?b=1,2\"\tQOP=auth,ReAlM = \"r\" , username=\"\"",
        )
        .unwrap();
        assert_eq!(chs.len(), 1);
        assert_eq!(chs[0].param("nc"), Some("00000001"));
        assert_eq!(chs[0].param("uri"), Some("/a?b=1,2"));
        assert_eq!(chs[0].param("qop"), Some("auth"));
        assert_eq!(chs[0].param("realm"), Some("r"));
        assert_eq!(chs[0].param("username"), Some(""));
        assert!(!chs[0].has_duplicate_params());
        assert!(parse_challenges("Digest a=1, A=2").unwrap()[0].has_duplicate_params());

        let chs = parse_challenges("Negotiate").unwrap();
        assert_eq!(
            (chs[0].scheme.as_str(), chs[0].token68.is_none()),
            ("Negotiate", true)
        );
    }

    #[test]
    fn parse_errors() {
        assert!(parse_challenges("").is_err());
        assert!(parse_challenges("  ,  ").is_err());
        assert!(parse_challenges(r#"Digest realm="open"#).is_err());
        assert!(parse_challenges(r#"Digest realm="x\"#).is_err());
        assert!(parse_challenges("realm=x").is_err());
        assert!(parse_challenges("Digest nonce=x, realm=").is_err());
        assert!(parse_challenges("Digest nonce=x, realm= ,").is_err());
        // per the grammar a lone `x=` after a scheme is a token68
        assert_eq!(
            parse_challenges("Digest realm=").unwrap()[0]
                .token68
                .as_deref(),
            Some("realm=")
        );
        assert!(parse_challenges("Basic abc, realm").is_ok());
        assert!(parse_challenges("Digest \"quoted-scheme\"").is_err());
    }

    #[test]
    fn learn_picks_the_digest_challenge_among_several() {
        let auth = Authenticator::new(
            "digest:pub:priv".parse().unwrap(),
            Url::parse("http://h/").unwrap(),
        );
        let mut h = HeaderMap::new();
        h.append(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer realm="x""#),
        );
        assert!(
            !auth.learn(StatusCode::UNAUTHORIZED, &h),
            "no digest challenge yet"
        );
        h.append(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(
                r#"DIGEST REALM="MMS Public API", domain="", nonce="n1", ALGORITHM=md5, qop="auth""#,
            ),
        );
        assert!(!auth.learn(StatusCode::OK, &h), "only a 401 is a challenge");
        assert!(auth.learn(StatusCode::UNAUTHORIZED, &h));
        let cached = lock(&auth.digest).clone().unwrap();
        assert_eq!(cached.realm, "MMS Public API");
        assert_eq!(cached.nonce, "n1");
        assert_eq!(cached.qop, Some(vec![Qop::AUTH]));

        let bearer = Authenticator::new(
            "bearer:t".parse().unwrap(),
            Url::parse("http://h/").unwrap(),
        );
        assert!(!bearer.learn(StatusCode::UNAUTHORIZED, &h));
    }

    #[tokio::test]
    async fn digest_header_is_none_until_challenged_then_nc_increments() {
        let client = Client::new(&Default::default()).unwrap();
        let auth = Authenticator::new(
            "digest:pub:priv".parse().unwrap(),
            Url::parse("http://h/").unwrap(),
        );
        let m = http::Method::GET;
        assert!(auth.header(&client, &m, "/x").await.unwrap().is_none());
        let mut h = HeaderMap::new();
        h.insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Digest realm="r", nonce="abc", algorithm=MD5, qop="auth""#),
        );
        assert!(auth.learn(StatusCode::UNAUTHORIZED, &h));
        let ncs: Vec<String> = {
            let mut v = Vec::new();
            for _ in 0..3 {
                let hv = auth.header(&client, &m, "/x?y=1").await.unwrap().unwrap();
                assert!(hv.is_sensitive());
                let ch = &parse_challenges(hv.to_str().unwrap()).unwrap()[0];
                assert_eq!(ch.param("uri"), Some("/x?y=1"));
                assert_eq!(ch.param("username"), Some("pub"));
                v.push(ch.param("nc").unwrap().to_owned());
            }
            v
        };
        assert_eq!(ncs, ["00000001", "00000002", "00000003"]);

        // nextnonce switches the nonce and restarts nc
        let mut info = HeaderMap::new();
        info.insert(
            "authentication-info",
            HeaderValue::from_static(r#"nextnonce="def""#),
        );
        assert!(!auth.learn(StatusCode::OK, &info));
        let hv = auth.header(&client, &m, "/x").await.unwrap().unwrap();
        let ch = &parse_challenges(hv.to_str().unwrap()).unwrap()[0];
        assert_eq!(
            (ch.param("nonce"), ch.param("nc")),
            (Some("def"), Some("00000001"))
        );
    }

    // ---- client <-> reference server round trips ----------------------------------------

    struct TestServer {
        state: Arc<AuthState>,
        base: Url,
        token_calls: Arc<AtomicUsize>,
    }

    #[derive(Clone)]
    struct AppState {
        auth: Arc<AuthState>,
        token_calls: Arc<AtomicUsize>,
    }

    async fn protected(
        State(app): State<AppState>,
        method: AxMethod,
        uri: Uri,
        headers: AxHeaders,
    ) -> Response {
        let pq = uri.path_and_query().map_or("/", |p| p.as_str());
        let authz = headers.get("authorization").and_then(|v| v.to_str().ok());
        match app.auth.authenticate(method.as_str(), pq, authz) {
            Ok(principal) => principal.into_response(),
            Err(failure) => {
                let mut r = axum::http::StatusCode::UNAUTHORIZED.into_response();
                let h = r.headers_mut();
                h.append(
                    "www-authenticate",
                    app.auth.challenge(failure.stale).parse().unwrap(),
                );
                h.append(
                    "www-authenticate",
                    app.auth.bearer_challenge().parse().unwrap(),
                );
                r
            }
        }
    }

    async fn token(
        State(app): State<AppState>,
        headers: AxHeaders,
        body: axum::body::Bytes,
    ) -> Response {
        app.token_calls.fetch_add(1, Ordering::SeqCst);
        let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
        let reply = app
            .auth
            .issue_token(get("authorization"), get("content-type"), &body);
        let mut r = (
            axum::http::StatusCode::from_u16(reply.status).unwrap(),
            axum::Json(reply.body),
        )
            .into_response();
        if let Some(w) = reply.www_authenticate {
            r.headers_mut()
                .insert("www-authenticate", w.parse().unwrap());
        }
        r
    }

    async fn spawn_server() -> TestServer {
        let state = Arc::new(AuthState::new(AuthConfig::default()));
        state.add_api_key("PUBKEY", "PRIV:KEY");
        state.add_oauth_client("mdb_sa_id_1", "mdb_sa_sk_secret");
        let token_calls = Arc::new(AtomicUsize::new(0));
        let app = Router::new()
            .route("/api/oauth/token", post(token))
            .fallback(protected)
            .with_state(AppState {
                auth: state.clone(),
                token_calls: token_calls.clone(),
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let listener = listener.tap_io(|s| {
            let _ = s.set_nodelay(true);
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TestServer {
            state,
            base: Url::parse(&format!("http://{addr}/")).unwrap(),
            token_calls,
        }
    }

    fn client() -> Client {
        Client::new(&Default::default()).unwrap()
    }

    /// What the runner does: send, learn, retry at most once. Returns (status, attempts).
    async fn send(
        auth: &Authenticator,
        client: &Client,
        base: &Url,
        method: http::Method,
        pq: &str,
    ) -> (StatusCode, usize) {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let mut headers = HeaderMap::new();
            if let Some(h) = auth.header(client, &method, pq).await.unwrap() {
                headers.insert(AUTHORIZATION, h);
            }
            let resp = client
                .send(&method, &base.join(pq).unwrap(), &headers, None, None)
                .await
                .answer
                .unwrap();
            let status = resp.status;
            if auth.learn(status, &resp.headers) && attempts == 1 {
                continue;
            }
            return (status, attempts);
        }
    }

    const PATH: &str = "/api/atlas/v1.0/groups/5e2211c17a3e5a48f5497de3/integrations?pageNum=1";

    #[tokio::test]
    async fn digest_round_trip_preemptive_and_stale_recovery() {
        let srv = spawn_server().await;
        let c = client();
        let auth = Authenticator::new("digest:PUBKEY:PRIV:KEY".parse().unwrap(), srv.base.clone());
        // first request learns the challenge from the 401 and retries
        assert_eq!(
            send(&auth, &c, &srv.base, http::Method::GET, PATH).await,
            (StatusCode::OK, 2)
        );
        // later ones are preemptive
        for m in [http::Method::GET, http::Method::DELETE, http::Method::PATCH] {
            assert_eq!(
                send(&auth, &c, &srv.base, m, PATH).await,
                (StatusCode::OK, 1)
            );
        }
        // an expired nonce: 401 stale=true, learn, retry succeeds
        srv.state.expire_all_nonces();
        assert_eq!(
            send(&auth, &c, &srv.base, http::Method::GET, "/a").await,
            (StatusCode::OK, 2)
        );
        assert_eq!(
            send(&auth, &c, &srv.base, http::Method::GET, "/a").await,
            (StatusCode::OK, 1)
        );
    }

    #[tokio::test]
    async fn digest_wrong_password_stays_401() {
        let srv = spawn_server().await;
        let c = client();
        let auth = Authenticator::new("digest:PUBKEY:wrong".parse().unwrap(), srv.base.clone());
        let (status, attempts) = send(&auth, &c, &srv.base, http::Method::GET, PATH).await;
        assert_eq!((status, attempts), (StatusCode::UNAUTHORIZED, 2));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn digest_concurrent_requests_share_one_authenticator() {
        let srv = spawn_server().await;
        let c = client();
        let auth = Arc::new(Authenticator::new(
            "digest:PUBKEY:PRIV:KEY".parse().unwrap(),
            srv.base.clone(),
        ));
        assert_eq!(
            send(&auth, &c, &srv.base, http::Method::GET, "/").await.0,
            StatusCode::OK
        );
        let mut tasks = Vec::new();
        for i in 0..40 {
            let (auth, c, base) = (auth.clone(), c.clone(), srv.base.clone());
            tasks.push(tokio::spawn(async move {
                send(
                    &auth,
                    &c,
                    &base,
                    http::Method::GET,
                    &format!("/p/{i}?q={i}"),
                )
                .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().0, StatusCode::OK);
        }
    }

    #[tokio::test]
    async fn bearer_token_and_its_expiry() {
        let srv = spawn_server().await;
        let c = client();
        let reply = srv.state.issue_token(
            Some("Basic bWRiX3NhX2lkXzE6bWRiX3NhX3NrX3NlY3JldA=="),
            Some("application/x-www-form-urlencoded"),
            b"grant_type=client_credentials",
        );
        assert_eq!(reply.status, 200);
        let token = reply.body["access_token"].as_str().unwrap().to_owned();
        let auth = Authenticator::new(AuthSpec::Bearer { token }, srv.base.clone());
        assert_eq!(
            send(&auth, &c, &srv.base, http::Method::GET, PATH).await,
            (StatusCode::OK, 1)
        );
        srv.state.expire_all_tokens();
        assert_eq!(
            send(&auth, &c, &srv.base, http::Method::GET, PATH).await,
            (StatusCode::UNAUTHORIZED, 1)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn oauth_fetches_once_and_refreshes_after_401() {
        let srv = spawn_server().await;
        let c = client();
        let auth = Arc::new(Authenticator::new(
            "oauth:mdb_sa_id_1:mdb_sa_sk_secret".parse().unwrap(),
            srv.base.clone(),
        ));
        let mut tasks = Vec::new();
        for i in 0..20 {
            let (auth, c, base) = (auth.clone(), c.clone(), srv.base.clone());
            tasks.push(tokio::spawn(async move {
                send(&auth, &c, &base, http::Method::GET, &format!("/p/{i}")).await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), (StatusCode::OK, 1));
        }
        assert_eq!(
            srv.token_calls.load(Ordering::SeqCst),
            1,
            "token fetched once"
        );
        srv.state.expire_all_tokens();
        assert_eq!(
            send(&auth, &c, &srv.base, http::Method::GET, "/").await,
            (StatusCode::OK, 2)
        );
        assert_eq!(srv.token_calls.load(Ordering::SeqCst), 2, "token refreshed");
    }

    #[tokio::test]
    async fn oauth_bad_secret_is_an_auth_error_without_the_secret() {
        let srv = spawn_server().await;
        let c = client();
        let auth = Authenticator::new(
            "oauth:mdb_sa_id_1:WRONG_SECRET_VALUE".parse().unwrap(),
            srv.base.clone(),
        );
        let err = auth.header(&c, &http::Method::GET, "/").await.unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Auth(_)), "{msg}");
        assert!(
            msg.contains("401") && msg.contains("invalid_client"),
            "{msg}"
        );
        assert!(msg.contains("/api/oauth/token"), "{msg}");
        assert!(
            !msg.contains("WRONG_SECRET_VALUE") && !msg.contains("mdb_sa_id_1"),
            "{msg}"
        );
    }
}
