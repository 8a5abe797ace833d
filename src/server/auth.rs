//! Server-side authentication for the embedded reference server: HTTP Digest (RFC 7616, MD5,
//! `qop=auth`), bearer tokens, and the OAuth 2.0 client-credentials token endpoint (RFC 6749).
//!
//! [`AuthState`] holds the known credentials, the nonces and tokens it issued, and fault knobs.
//! It never logs, and nothing it returns (failures, `Debug`) contains a secret.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine as _;
use md5::{Digest as _, Md5};
use rand::RngCore as _;
use serde_json::json;

use crate::auth::{parse_challenges, split_scheme};

/// Hard caps, so that a flood of 401s or token requests cannot grow memory without bound.
const MAX_NONCES: usize = 50_000;
const MAX_TOKENS: usize = 50_000;
/// How far below the highest `nc` seen an unseen `nc` is still accepted (see [`NonceEntry`]).
const NC_WINDOW: u32 = 64;
/// Pruning runs at most this often (unless a cap is exceeded).
const PRUNE_INTERVAL: Duration = Duration::from_secs(1);

/// Settings of the authentication layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// The digest realm (also used in the `Bearer` and `Basic` challenges).
    pub realm: String,
    /// How long an issued digest nonce is accepted.
    pub nonce_lifetime: Duration,
    /// How long an issued bearer token is accepted; also its `expires_in`.
    pub token_lifetime: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            realm: "MMS Public API".to_owned(),
            nonce_lifetime: Duration::from_secs(300),
            token_lifetime: Duration::from_secs(3600),
        }
    }
}

/// Deliberate non-conformance, to check that the harness notices. All off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthFaults {
    /// Accept a digest response that does not match the password (known username still needed).
    pub accept_wrong_digest_password: bool,
    /// Accept bearer tokens past their expiry (as long as they are still remembered).
    pub accept_expired_tokens: bool,
    /// Accept a digest `nc` already used with the same nonce.
    pub accept_replayed_nonce_count: bool,
    /// Accept a digest response whose `uri` names another request target.
    pub accept_other_uri: bool,
    /// Issue a token whatever `grant_type` the token request names.
    pub accept_any_grant_type: bool,
    /// Issue a token to a known client id whatever secret comes with it.
    pub accept_any_client_secret: bool,
}

/// Why a request was not authenticated. `reason` is for logs and never contains a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthFailure {
    /// The digest was right but the nonce has expired: the challenge should say `stale=true`.
    pub stale: bool,
    pub reason: &'static str,
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason)?;
        if self.stale {
            f.write_str(" (stale)")?;
        }
        Ok(())
    }
}

impl std::error::Error for AuthFailure {}

/// Why a digest response computed for another request target is refused.
const URI_MISMATCH: &str = "digest uri differs from the request uri";

impl AuthFailure {
    /// The digest response names another request target in its `uri` (RFC 7616 section
    /// 3.4.6: a server SHOULD answer 400 rather than 401).
    pub fn is_uri_mismatch(&self) -> bool {
        self.reason == URI_MISMATCH
    }
}

fn fail(reason: &'static str) -> AuthFailure {
    AuthFailure {
        stale: false,
        reason,
    }
}

/// The answer of `POST /api/oauth/token`: status, JSON body and, for a 401, the
/// `WWW-Authenticate` value. The server should also send `Cache-Control: no-store`
/// (RFC 6749 §5.1).
#[derive(Clone, PartialEq)]
pub struct TokenReply {
    pub status: u16,
    pub body: serde_json::Value,
    pub www_authenticate: Option<String>,
}

impl fmt::Debug for TokenReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut body = self.body.clone();
        if let Some(t) = body.get_mut("access_token") {
            *t = json!("<redacted>");
        }
        f.debug_struct("TokenReply")
            .field("status", &self.status)
            .field("body", &body)
            .field("www_authenticate", &self.www_authenticate)
            .finish()
    }
}

impl TokenReply {
    fn error(status: u16, error: &str, www_authenticate: Option<String>) -> Self {
        TokenReply {
            status,
            body: json!({ "error": error }),
            www_authenticate,
        }
    }
}

/// One issued nonce. Replays are refused with a sliding window (as in IPsec anti-replay): `nc`
/// must be above `max_nc`, or within [`NC_WINDOW`] below it and not seen before. A strict
/// "greater than the last" rule would refuse a client's concurrent requests that overtake each
/// other on the way; the window still refuses every repeated `nc`.
struct NonceEntry {
    issued: Instant,
    /// Forced expiry (`expire_all_nonces`).
    expired: bool,
    max_nc: u32,
    /// Bit `i` set: `max_nc - i` has been used.
    seen: u64,
}

impl NonceEntry {
    /// Records `nc`; false if it was used before (or is too far behind to tell).
    fn accept_nc(&mut self, nc: u32) -> bool {
        if nc > self.max_nc {
            let shift = nc - self.max_nc;
            self.seen = if shift >= 64 { 0 } else { self.seen << shift };
            self.seen |= 1;
            self.max_nc = nc;
            true
        } else {
            let behind = self.max_nc - nc;
            if behind >= NC_WINDOW || self.seen & (1u64 << behind) != 0 {
                return false;
            }
            self.seen |= 1u64 << behind;
            true
        }
    }
}

struct TokenEntry {
    principal: String,
    expires: Instant,
}

#[derive(Default)]
struct Inner {
    /// public key → private key
    api_keys: HashMap<String, String>,
    /// client id → secret
    oauth_clients: HashMap<String, String>,
    nonces: HashMap<String, NonceEntry>,
    tokens: HashMap<String, TokenEntry>,
    faults: AuthFaults,
    /// Variant `one-time-nonces`: a nonce answers one request.
    one_time_nonces: bool,
    last_nonce_prune: Option<Instant>,
    last_token_prune: Option<Instant>,
}

/// Credentials, issued nonces and tokens of the reference server. `Send + Sync`; share it behind
/// an `Arc`.
pub struct AuthState {
    config: AuthConfig,
    inner: Mutex<Inner>,
}

impl fmt::Debug for AuthState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        f.debug_struct("AuthState")
            .field("config", &self.config)
            .field("api_keys", &inner.api_keys.len())
            .field("oauth_clients", &inner.oauth_clients.len())
            .field("nonces", &inner.nonces.len())
            .field("tokens", &inner.tokens.len())
            .field("faults", &inner.faults)
            .finish()
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

fn md5_hex(s: &str) -> String {
    hex::encode(Md5::digest(s.as_bytes()))
}

/// Comparison whose time does not depend on where the inputs differ.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Quotes a value for a quoted-string.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Percent-decoding with `+` as space (form encoding); `None` if not UTF-8.
fn form_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len()
                && b[i + 1].is_ascii_hexdigit()
                && b[i + 2].is_ascii_hexdigit() =>
            {
                let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                out.push(hex(b[i + 1]) * 16 + hex(b[i + 2]));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

impl AuthState {
    pub fn new(config: AuthConfig) -> Self {
        AuthState {
            config,
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds (or replaces) an API key; its principal is the public key.
    pub fn add_api_key(&self, public: &str, private: &str) {
        self.lock()
            .api_keys
            .insert(public.to_owned(), private.to_owned());
    }

    /// Adds (or replaces) an OAuth client; its principal is the client id.
    pub fn add_oauth_client(&self, client_id: &str, secret: &str) {
        self.lock()
            .oauth_clients
            .insert(client_id.to_owned(), secret.to_owned());
    }

    pub fn set_faults(&self, f: AuthFaults) {
        self.lock().faults = f;
    }

    pub fn faults(&self) -> AuthFaults {
        self.lock().faults
    }

    /// Variant `one-time-nonces`: every nonce is good for one request (any `nc`), a reused one
    /// is stale, and [`authentication_info`](Self::authentication_info) hands out the next.
    pub fn set_one_time_nonces(&self, on: bool) {
        self.lock().one_time_nonces = on;
    }

    /// Makes every token issued so far count as expired (for tests).
    pub fn expire_all_tokens(&self) {
        let now = Instant::now();
        for t in self.lock().tokens.values_mut() {
            t.expires = t.expires.min(now);
        }
    }

    /// Issues a bearer token for `client_id` that has already expired, without touching other
    /// tokens: what a user hands the harness as `--expired-token` against a real target.
    pub fn issue_expired_token(&self, client_id: &str) -> String {
        self.store_token(client_id.to_owned(), Instant::now())
    }

    /// A new random token for `principal`, valid until `expires`.
    fn store_token(&self, principal: String, expires: Instant) -> String {
        let mut buf = [0u8; 32];
        rand::rng().fill_bytes(&mut buf);
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf);
        let mut inner = self.lock();
        self.prune_tokens(&mut inner);
        inner
            .tokens
            .insert(token.clone(), TokenEntry { principal, expires });
        token
    }

    /// Makes every nonce issued so far count as expired (for tests).
    pub fn expire_all_nonces(&self) {
        for n in self.lock().nonces.values_mut() {
            n.expired = true;
        }
    }

    /// Checks the `Authorization` value of a request; `uri` is the request's path and query as
    /// sent. Returns the principal (public API key or OAuth client id).
    pub fn authenticate(
        &self,
        method: &str,
        uri: &str,
        authorization: Option<&str>,
    ) -> Result<String, AuthFailure> {
        let Some(value) = authorization.map(str::trim).filter(|v| !v.is_empty()) else {
            return Err(fail("no credentials"));
        };
        let (scheme, rest) = split_scheme(value);
        if scheme.eq_ignore_ascii_case("digest") {
            self.authenticate_digest(method, uri, value)
        } else if scheme.eq_ignore_ascii_case("bearer") {
            self.authenticate_bearer(rest)
        } else {
            Err(fail("unsupported authorization scheme"))
        }
    }

    fn authenticate_bearer(&self, token: &str) -> Result<String, AuthFailure> {
        if token.is_empty() || token.contains(char::is_whitespace) {
            return Err(fail("malformed bearer token"));
        }
        let inner = self.lock();
        let Some(entry) = inner.tokens.get(token) else {
            return Err(fail("unknown bearer token"));
        };
        if Instant::now() >= entry.expires && !inner.faults.accept_expired_tokens {
            return Err(fail("expired bearer token"));
        }
        Ok(entry.principal.clone())
    }

    /// RFC 7616 with MD5 and `qop=auth` only.
    ///
    /// Choice: a response without `qop` (RFC 2069 style) is refused. It carries no `nc` and no
    /// `cnonce`, so a captured header could be replayed for the nonce's whole lifetime, which
    /// the contract forbids; we only offer `qop="auth"`, so a conforming client never omits it.
    /// `MD5-sess`, SHA-2 algorithms, `auth-int` and `userhash` are not offered and are refused.
    fn authenticate_digest(
        &self,
        method: &str,
        uri: &str,
        value: &str,
    ) -> Result<String, AuthFailure> {
        let parsed = parse_challenges(value).map_err(|_| fail("malformed digest credentials"))?;
        let [creds] = parsed.as_slice() else {
            return Err(fail("malformed digest credentials"));
        };
        if creds.token68.is_some() || creds.has_duplicate_params() {
            return Err(fail("malformed digest credentials"));
        }
        let need = |name: &str| {
            creds
                .param(name)
                .ok_or(fail("incomplete digest credentials"))
        };
        let username = need("username")?;
        let realm = need("realm")?;
        let nonce = need("nonce")?;
        let digest_uri = need("uri")?;
        let response = need("response")?;
        if let Some(a) = creds.param("algorithm") {
            if !a.eq_ignore_ascii_case("MD5") {
                return Err(fail("unsupported digest algorithm"));
            }
        }
        if creds
            .param("userhash")
            .is_some_and(|u| u.eq_ignore_ascii_case("true"))
        {
            return Err(fail("unsupported digest userhash"));
        }
        let qop = creds
            .param("qop")
            .ok_or(fail("digest without qop is refused"))?;
        if !qop.eq_ignore_ascii_case("auth") {
            return Err(fail("unsupported digest qop"));
        }
        let nc_text = need("nc")?;
        let cnonce = need("cnonce")?;
        let nc = match u32::from_str_radix(nc_text, 16) {
            Ok(n) if nc_text.len() == 8 && n > 0 => n,
            _ => return Err(fail("malformed digest nc")),
        };
        if cnonce.is_empty() {
            return Err(fail("empty digest cnonce"));
        }
        if realm != self.config.realm {
            return Err(fail("wrong digest realm"));
        }
        let (password, faults) = {
            let inner = self.lock();
            (inner.api_keys.get(username).cloned(), inner.faults)
        };
        if digest_uri != uri && !faults.accept_other_uri {
            return Err(fail(URI_MISMATCH));
        }
        let Some(password) = password else {
            return Err(fail("unknown digest username"));
        };
        let ha1 = md5_hex(&format!("{username}:{realm}:{password}"));
        let ha2 = md5_hex(&format!("{method}:{digest_uri}"));
        let expected = md5_hex(&format!("{ha1}:{nonce}:{nc_text}:{cnonce}:{qop}:{ha2}"));
        let matches = ct_eq(
            expected.as_bytes(),
            response.to_ascii_lowercase().as_bytes(),
        );
        if !matches && !faults.accept_wrong_digest_password {
            return Err(fail("wrong digest response"));
        }

        let mut inner = self.lock();
        let (replay_ok, one_time) = (
            inner.faults.accept_replayed_nonce_count,
            inner.one_time_nonces,
        );
        let Some(entry) = inner.nonces.get_mut(nonce) else {
            return Err(fail("digest nonce not issued by this server"));
        };
        if entry.expired || entry.issued.elapsed() > self.config.nonce_lifetime {
            // The digest itself is right: RFC 7616 §3.3 says stale=true.
            return Err(AuthFailure {
                stale: true,
                reason: "digest nonce expired",
            });
        }
        if one_time && entry.max_nc > 0 && !replay_ok {
            // RFC 7616 §3.3: the digest is right, the nonce is spent: stale=true.
            return Err(AuthFailure {
                stale: true,
                reason: "digest nonce already used",
            });
        }
        if !entry.accept_nc(nc) && !replay_ok {
            return Err(fail("replayed digest nonce count"));
        }
        Ok(username.to_owned())
    }

    /// A fresh nonce, remembered as issued now.
    fn issue_nonce(&self) -> String {
        let nonce = random_hex(16);
        let mut inner = self.lock();
        self.prune_nonces(&mut inner);
        inner.nonces.insert(
            nonce.clone(),
            NonceEntry {
                issued: Instant::now(),
                expired: false,
                max_nc: 0,
                seen: 0,
            },
        );
        nonce
    }

    /// The `Authentication-Info` value of an answer to a request whose `authorization` was
    /// accepted (RFC 7616 §3.5): under `one-time-nonces`, for digest, the next nonce to use.
    pub fn authentication_info(&self, authorization: Option<&str>) -> Option<String> {
        let digest =
            authorization.is_some_and(|a| split_scheme(a).0.eq_ignore_ascii_case("digest"));
        if !digest || !self.lock().one_time_nonces {
            return None;
        }
        Some(format!("nextnonce=\"{}\"", self.issue_nonce()))
    }

    /// Issues a fresh nonce and returns the `WWW-Authenticate` value of the digest challenge.
    pub fn challenge(&self, stale: bool) -> String {
        let nonce = self.issue_nonce();
        let mut out = format!(
            "Digest realm={}, domain=\"\", nonce=\"{nonce}\", algorithm=MD5, qop=\"auth\"",
            quote(&self.config.realm)
        );
        if stale {
            out.push_str(", stale=true");
        }
        out
    }

    /// The `WWW-Authenticate` value of the bearer challenge (RFC 6750 §3).
    pub fn bearer_challenge(&self) -> String {
        format!("Bearer realm={}", quote(&self.config.realm))
    }

    /// Expired nonces are kept for one more lifetime (so that they still answer `stale=true`),
    /// then dropped; past [`MAX_NONCES`] the oldest go.
    fn prune_nonces(&self, inner: &mut Inner) {
        let now = Instant::now();
        let retention = self.config.nonce_lifetime.saturating_mul(2);
        let due = inner
            .last_nonce_prune
            .is_none_or(|t| now.duration_since(t) >= PRUNE_INTERVAL.min(retention));
        if !due && inner.nonces.len() < MAX_NONCES {
            return;
        }
        inner.last_nonce_prune = Some(now);
        inner
            .nonces
            .retain(|_, n| now.duration_since(n.issued) <= retention);
        if inner.nonces.len() >= MAX_NONCES {
            // drop the oldest tenth, so that this does not run on every request
            let mut issued: Vec<Instant> = inner.nonces.values().map(|n| n.issued).collect();
            let k = MAX_NONCES / 10;
            let (_, cut, _) = issued.select_nth_unstable(k);
            let cut = *cut;
            inner.nonces.retain(|_, n| n.issued > cut);
        }
    }

    /// Expired tokens are kept for one more lifetime (so that `accept_expired_tokens` has
    /// something to accept), then dropped; past [`MAX_TOKENS`] the soonest to expire go.
    fn prune_tokens(&self, inner: &mut Inner) {
        let now = Instant::now();
        let grace = self.config.token_lifetime;
        let due = inner
            .last_token_prune
            .is_none_or(|t| now.duration_since(t) >= PRUNE_INTERVAL.min(grace));
        if !due && inner.tokens.len() < MAX_TOKENS {
            return;
        }
        inner.last_token_prune = Some(now);
        inner.tokens.retain(|_, t| {
            now.checked_duration_since(t.expires)
                .is_none_or(|d| d <= grace)
        });
        if inner.tokens.len() >= MAX_TOKENS {
            let mut expiries: Vec<Instant> = inner.tokens.values().map(|t| t.expires).collect();
            let k = MAX_TOKENS / 10;
            let (_, cut, _) = expiries.select_nth_unstable(k);
            let cut = *cut;
            inner.tokens.retain(|_, t| t.expires > cut);
        }
    }

    /// `POST /api/oauth/token` (RFC 6749 §4.4, errors per §5.2). Checks, in order: the form
    /// content type and syntax (`invalid_request`), `grant_type` present (`invalid_request`),
    /// client authentication by `Basic` or by `client_id`/`client_secret` in the body, not both
    /// (`invalid_client`, 401; both is `invalid_request`), then `grant_type=client_credentials`
    /// (`unsupported_grant_type`).
    pub fn issue_token(
        &self,
        authorization: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> TokenReply {
        let invalid_request = || TokenReply::error(400, "invalid_request", None);
        let invalid_client = || {
            TokenReply::error(
                401,
                "invalid_client",
                Some(format!("Basic realm={}", quote(&self.config.realm))),
            )
        };

        let form_type = content_type
            .and_then(|ct| ct.split(';').next())
            .is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !form_type {
            return invalid_request();
        }
        let params: Vec<(String, String)> = url::form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        // RFC 6749 §3.2: parameters must not be repeated
        let repeated = params
            .iter()
            .enumerate()
            .any(|(i, (k, _))| params[..i].iter().any(|(j, _)| j == k));
        if repeated {
            return invalid_request();
        }
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let Some(grant_type) = param("grant_type").filter(|g| !g.is_empty()) else {
            return invalid_request();
        };

        // client authentication
        let body_secret = param("client_secret");
        let (ids, secrets): (Vec<String>, Vec<String>) =
            match authorization.map(str::trim).filter(|a| !a.is_empty()) {
                Some(value) => {
                    if body_secret.is_some() {
                        // RFC 6749 §2.3: one authentication method per request
                        return invalid_request();
                    }
                    let (scheme, rest) = split_scheme(value);
                    if !scheme.eq_ignore_ascii_case("basic") {
                        return invalid_client();
                    }
                    let decoded = base64::engine::general_purpose::STANDARD
                        .decode(rest)
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok());
                    let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':'))
                    else {
                        return invalid_client();
                    };
                    // RFC 6749 §2.3.1 form-encodes both before base64; accept unencoded too.
                    let both = |s: &str| {
                        let mut v = vec![s.to_owned()];
                        if let Some(d) = form_decode(s).filter(|d| d != s) {
                            v.push(d);
                        }
                        v
                    };
                    (both(id), both(secret))
                }
                None => match (param("client_id"), body_secret) {
                    (Some(id), Some(secret)) => (vec![id.to_owned()], vec![secret.to_owned()]),
                    _ => return invalid_client(),
                },
            };
        let principal = {
            let inner = self.lock();
            let any_secret = inner.faults.accept_any_client_secret;
            ids.iter().find_map(|id| {
                let known = inner.oauth_clients.get(id)?;
                (any_secret
                    || secrets
                        .iter()
                        .any(|s| ct_eq(s.as_bytes(), known.as_bytes())))
                .then(|| id.clone())
            })
        };
        let Some(principal) = principal else {
            return invalid_client();
        };

        let any_grant = self.lock().faults.accept_any_grant_type;
        if grant_type != "client_credentials" && !any_grant {
            return TokenReply::error(400, "unsupported_grant_type", None);
        }

        let token = self.store_token(principal, Instant::now() + self.config.token_lifetime);
        TokenReply {
            status: 200,
            body: json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": self.config.token_lifetime.as_secs(),
            }),
            www_authenticate: None,
        }
    }

    #[cfg(test)]
    fn counts(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.nonces.len(), inner.tokens.len())
    }
}

#[cfg(test)]
mod tests;
