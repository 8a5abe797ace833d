//! Client-side authentication: HTTP digest, bearer tokens and OAuth 2.0 client credentials.
//!
//! [`AuthSpec`] is what the user passes on the command line; [`Authenticator`] turns it into
//! `Authorization` header values for any target and learns from the target's answers
//! (`WWW-Authenticate` challenges, one-time nonces and `nextnonce`, `401` on an expired token);
//! `nonce` keeps the digest nonces. A retry after a 401 signs with what that 401 gave it.
//! [`parse_challenges`] is the RFC 7235 parser that both this module and the reference server
//! (`crate::server::auth`) use.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine as _;
use digest_auth::{AuthContext, HttpMethod, WwwAuthenticateHeader};
use http::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::StatusCode;
use url::Url;

pub use crate::credential::AuthSpec;
use crate::error::Error;
use crate::transport::Client;

mod nonce;

pub use nonce::NonceEpoch;
use nonce::{Nonces, Own, Used};

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

// ---------------------------------------------------------------------------------------------
// Authenticator
// ---------------------------------------------------------------------------------------------

struct CachedToken {
    value: HeaderValue,
    refresh_at: Instant,
}

/// One attempt's `Authorization` value (`None`: the attempt goes without), and the digest nonce
/// it was computed with, which [`Authenticator::learn`] reads the answer against.
#[derive(Default)]
pub struct Signed {
    pub header: Option<HeaderValue>,
    nonce: Option<Used>,
}

impl Signed {
    /// An `Authorization` value made elsewhere (a forged or a client credential).
    pub fn with(header: HeaderValue) -> Signed {
        Signed {
            header: Some(header),
            nonce: None,
        }
    }
}

impl fmt::Debug for Signed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signed")
            .field("header", &self.header.as_ref().map(|_| "<redacted>"))
            .field("digest", &self.nonce.is_some())
            .finish()
    }
}

/// What a 401 gives the one retry of the request it answered: the challenge of that very 401
/// (digest), or a fresh token to fetch (OAuth).
pub struct Retry(RetryWith);

enum RetryWith {
    Digest(Own),
    Token,
}

impl fmt::Debug for Retry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            RetryWith::Digest(_) => "Retry(digest challenge)",
            RetryWith::Token => "Retry(new token)",
        })
    }
}

/// Produces `Authorization` values for requests to one target; shared by concurrent requests.
pub struct Authenticator {
    spec: AuthSpec,
    token_url: Url,
    /// Digest: the nonces, locked while a response is computed (so that `nc` is strictly
    /// increasing per nonce, and a one-time nonce goes to one request).
    digest: Mutex<Nonces>,
    /// Deliberate expiries of the target's nonces, shared with the other authenticators of a run.
    epoch: NonceEpoch,
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
            .field("digest_challenge", &lock(&self.digest).known())
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
            digest: Mutex::new(Nonces::default()),
            epoch: NonceEpoch::default(),
            token: Mutex::new(None),
            fetch: tokio::sync::Mutex::new(()),
        }
    }

    /// The same, counting deliberate nonce expiries with `epoch` (shared by a run's
    /// authenticators, advanced by whoever expires the target's nonces).
    pub fn with_epoch(mut self, epoch: NonceEpoch) -> Self {
        self.epoch = epoch;
        self
    }

    /// The credentials this authenticator uses.
    pub fn spec(&self) -> &AuthSpec {
        &self.spec
    }

    /// The `Authorization` value for a request with this method and path + query (`uri`, exactly
    /// as it will be sent): [`sign`](Self::sign) without what the answer is read against.
    pub async fn header(
        &self,
        client: &Client,
        method: &http::Method,
        uri: &str,
    ) -> Result<Option<HeaderValue>, Error> {
        self.sign(client, method, uri).await.map(|s| s.header)
    }

    /// Signs a request's first attempt. Digest: without a header before the first challenge,
    /// and on a target with one-time nonces when no unused nonce is at hand (the 401 that
    /// follows brings the retry its own).
    pub async fn sign(
        &self,
        client: &Client,
        method: &http::Method,
        uri: &str,
    ) -> Result<Signed, Error> {
        match &self.spec {
            AuthSpec::Bearer { token } => sensitive(&format!("Bearer {token}"))
                .map(Signed::with)
                .ok_or_else(|| Error::Auth("the bearer token is not a valid header value".into())),
            AuthSpec::Digest { .. } => self.digest_sign(method, uri, None, false),
            AuthSpec::OAuth { .. } => self.oauth_header(client).await.map(Signed::with),
        }
    }

    /// Signs a request with a nonce the target may already have spent: an unused one if there
    /// is one, else the last one known (forged credentials: a replay, a stale nonce, another
    /// `uri`). Other schemes sign as [`sign`](Self::sign) does.
    pub async fn sign_reusing(
        &self,
        client: &Client,
        method: &http::Method,
        uri: &str,
    ) -> Result<Signed, Error> {
        match &self.spec {
            AuthSpec::Digest { .. } => self.digest_sign(method, uri, None, true),
            _ => self.sign(client, method, uri).await,
        }
    }

    /// Signs the one retry of a request with what its own 401 gave it.
    pub async fn sign_retry(
        &self,
        retry: Retry,
        client: &Client,
        method: &http::Method,
        uri: &str,
    ) -> Result<Signed, Error> {
        match (retry.0, &self.spec) {
            (RetryWith::Digest(own), AuthSpec::Digest { .. }) => {
                self.digest_sign(method, uri, Some(own), false)
            }
            _ => self.sign(client, method, uri).await,
        }
    }

    fn digest_sign(
        &self,
        method: &http::Method,
        uri: &str,
        own: Option<Own>,
        reuse: bool,
    ) -> Result<Signed, Error> {
        let AuthSpec::Digest { public, private } = &self.spec else {
            return Err(Error::Auth("not a digest credential".into()));
        };
        let context = AuthContext::new_with_method(
            public.as_str(),
            private.as_str(),
            uri,
            None::<&[u8]>,
            HttpMethod(Cow::Borrowed(method.as_str())),
        );
        let signed = match own {
            Some(own) => Some(nonce::sign_own(own, &context)?),
            None => lock(&self.digest).sign(reuse, &context)?,
        };
        let Some((answer, used)) = signed else {
            return Ok(Signed::default());
        };
        let header = sensitive(&answer)
            .ok_or_else(|| Error::Auth("digest credentials are not a valid header value".into()))?;
        Ok(Signed {
            header: Some(header),
            nonce: Some(used),
        })
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

    /// Reads the answer to an attempt signed as `signed`; called after every answer. A 401 that
    /// carries a digest challenge (digest credentials), or any 401 (OAuth: the cached token is
    /// dropped), gives the request one retry. Digest also follows `Authentication-Info:
    /// nextnonce` and notices a target whose nonces are good for one request.
    pub fn learn(&self, signed: &Signed, status: StatusCode, headers: &HeaderMap) -> Option<Retry> {
        let unauthorized = status == StatusCode::UNAUTHORIZED;
        match &self.spec {
            AuthSpec::Bearer { .. } => None,
            AuthSpec::OAuth { .. } => unauthorized.then(|| {
                *lock(&self.token) = None;
                Retry(RetryWith::Token)
            }),
            AuthSpec::Digest { .. } => {
                let challenge = unauthorized.then(|| digest_challenge_in(headers)).flatten();
                let epoch = self.epoch.now();
                lock(&self.digest).learn(
                    signed.nonce.as_ref(),
                    nonce::Answer {
                        accepted: status.is_success(),
                        unauthorized,
                        challenge: challenge.as_ref(),
                        next: next_nonce(headers),
                        epoch,
                    },
                );
                challenge.map(|challenge| Retry(RetryWith::Digest(Own { challenge, epoch })))
            }
        }
    }
}

/// The first digest challenge of an answer's `WWW-Authenticate` values that we can answer.
fn digest_challenge_in(headers: &HeaderMap) -> Option<WwwAuthenticateHeader> {
    headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| parse_challenges(v).ok())
        .flatten()
        .find_map(|ch| nonce::digest_challenge(&ch))
}

/// RFC 7616 §3.5: `Authentication-Info: nextnonce="..."`, the nonce to use next.
fn next_nonce(headers: &HeaderMap) -> Option<String> {
    headers
        .get("authentication-info")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_challenges(&format!("Digest {v}")).ok())
        .and_then(|chs| chs.into_iter().next())
        .and_then(|ch| ch.param("nextnonce").map(str::to_owned))
        .filter(|n| !n.is_empty())
}

fn sensitive(s: &str) -> Option<HeaderValue> {
    let mut v = HeaderValue::from_str(s).ok()?;
    v.set_sensitive(true);
    Some(v)
}

#[cfg(test)]
mod tests;
