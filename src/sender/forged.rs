//! The `Authorization` value of each credential a step can name: the authenticators' own, and
//! the ones made wrong on purpose (no credentials, a bearer token never issued or expired, a
//! forged nonce, a replayed `nc`, an expired nonce, another `uri`, and the token endpoint's
//! client credentials, right and wrong).

use std::time::Instant;

use http::header::{HeaderMap, HeaderValue, WWW_AUTHENTICATE};
use http::Method;

use super::{Keyring, Sender, Transport};
use crate::auth::{AuthSpec, Signed};
use crate::case::Credential;
use crate::error::{Error, Result};
use crate::transport::Outgoing;

impl<T: Transport> Sender<T> {
    /// The `Authorization` value `credential` puts on the first attempt of `out` (none: no
    /// header).
    pub(super) async fn sign(
        &self,
        keys: &Keyring,
        credential: Credential,
        out: &Outgoing,
        deadline: Option<Instant>,
    ) -> Result<Signed> {
        let (method, uri) = (&out.method, out.uri.as_str());
        let owner = &keys.owner;
        match credential {
            Credential::None => Ok(Signed::default()),
            Credential::BadBearer => Ok(Signed::with(HeaderValue::from_static(
                "Bearer 0f1e2d3c4b5a69788796a5b4c3d2e1f0-never-issued",
            ))),
            Credential::MalformedDigest => Ok(Signed::with(HeaderValue::from_static(
                "Digest username, realm=, nonce",
            ))),
            Credential::UnnamedScheme => Ok(Signed::with(HeaderValue::from_static(
                "Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXagMDAuBgkqhkiC9xIBAgI=",
            ))),
            Credential::ExpiredBearer => {
                let token = self.target.token_expirer.as_ref().and_then(|f| f());
                let token = token
                    .ok_or_else(|| Error::Auth("the target issued no token to expire".into()))?;
                HeaderValue::from_str(&format!("Bearer {token}"))
                    .map(Signed::with)
                    .map_err(|_| {
                        Error::Auth("the expired token is not a valid header value".into())
                    })
            }
            Credential::ForgedNonce => self.forged_digest(out, deadline).await.map(Signed::with),
            // The owner's digest, computed for a sibling path: right password, wrong target.
            Credential::OtherUri => {
                let other = format!("{}/other", uri.split('?').next().unwrap_or(uri));
                owner.sign_reusing(&self.client, method, &other).await
            }
            Credential::StaleNonce => {
                if let Some(expire) = &self.target.nonce_expirer {
                    expire();
                    // After the expiry: a nonce that comes in between is not taken for spent.
                    self.epoch.advance();
                }
                owner.sign_reusing(&self.client, method, uri).await
            }
            Credential::ReplayedNonceCount => self.replayed(keys, out, deadline).await,
            Credential::Owner
            | Credential::ReadOnly
            | Credential::WrongPassword
            | Credential::OAuthOwner => match keys.signer(credential)? {
                Some(s) => s.authenticator.sign(&self.client, method, uri).await,
                None => Ok(Signed::default()),
            },
            Credential::Client | Credential::ClientWrongSecret | Credential::ClientUnknown => {
                let (id, secret) = self
                    .target
                    .token_client()
                    .ok_or_else(|| Error::Auth("no OAuth client credentials were given".into()))?;
                client_basic(credential, id, secret).map(Signed::with)
            }
        }
    }

    /// The owner's digest, sent once (and accepted) before the request under test sends it
    /// again unchanged. A nonce the target has spent already (a one-time nonce) gets a 401
    /// challenge: the digest of that challenge's own nonce is sent once instead.
    async fn replayed(
        &self,
        keys: &Keyring,
        out: &Outgoing,
        deadline: Option<Instant>,
    ) -> Result<Signed> {
        let owner = &keys.owner;
        let mut signed = owner
            .sign_reusing(&self.client, &out.method, &out.uri)
            .await?;
        for first in [true, false] {
            let Some(h) = &signed.header else {
                break;
            };
            let mut headers = HeaderMap::new();
            headers.insert(http::header::AUTHORIZATION, h.clone());
            self.requests
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let sent = self
                .transport
                .deliver(&out.method, &out.url, &headers, None, deadline)
                .await;
            let Ok(answer) = &sent.answer else {
                break;
            };
            match owner.learn(&signed, answer.status, &answer.headers) {
                Some(retry) if first => {
                    signed = owner
                        .sign_retry(retry, &self.client, &out.method, &out.uri)
                        .await?;
                }
                _ => break,
            }
        }
        Ok(signed)
    }

    /// A digest response with the right password to a nonce the target never issued: the
    /// realm is learnt from a real challenge first.
    async fn forged_digest(
        &self,
        out: &Outgoing,
        deadline: Option<Instant>,
    ) -> Result<HeaderValue> {
        let AuthSpec::Digest { public, private } = &self.target.auth else {
            return Err(Error::Auth(
                "a forged digest needs digest credentials".into(),
            ));
        };
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let challenge = self
            .transport
            .deliver(&Method::GET, &out.url, &HeaderMap::new(), None, deadline)
            .await
            .answer
            .map_err(Error::Target)?;
        let mut realm = None;
        for value in challenge.headers.get_all(WWW_AUTHENTICATE) {
            if let Ok(text) = value.to_str() {
                if let Ok(challenges) = crate::auth::parse_challenges(text) {
                    for c in challenges
                        .iter()
                        .filter(|c| c.scheme.eq_ignore_ascii_case("digest"))
                    {
                        realm = c.param("realm").map(str::to_owned);
                    }
                }
            }
        }
        let realm =
            realm.ok_or_else(|| Error::Auth("the target sent no digest challenge".into()))?;
        let forged = format!("Digest realm=\"{realm}\", nonce=\"00000000000000000000000000000000\", qop=\"auth\", algorithm=MD5");
        let mut prompt = digest_auth::parse(&forged)
            .map_err(|e| Error::Auth(format!("forging a challenge: {e}")))?;
        let context = digest_auth::AuthContext::new_with_method(
            public.as_str(),
            private.as_str(),
            out.uri.as_str(),
            Option::<&[u8]>::None,
            digest_auth::HttpMethod::from(out.method.as_str()),
        );
        let answer = prompt
            .respond(&context)
            .map_err(|e| Error::Auth(format!("forging a digest response: {e}")))?;
        HeaderValue::from_str(&answer.to_header_string())
            .map_err(|_| Error::Auth("forged header is not valid".into()))
    }
}

/// `Authorization: Basic` for the token endpoint: the client's own credentials, its id with a
/// wrong secret, or an id it never registered.
fn client_basic(credential: Credential, id: &str, secret: &str) -> Result<HeaderValue> {
    use base64::Engine as _;
    let pair = match credential {
        Credential::ClientWrongSecret => format!("{id}:{secret}-not-the-secret"),
        Credential::ClientUnknown => format!("conformance-unknown-client-{id}:{secret}"),
        _ => format!("{id}:{secret}"),
    };
    let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
        .map_err(|_| Error::Auth("the OAuth client is not a valid header value".into()))?;
    value.set_sensitive(true);
    Ok(value)
}
