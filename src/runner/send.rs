//! Sending one step: 429 `Retry-After` handling, a concurrent group sent at once, and the
//! credential a step names (the lane's own, none, wrong or forged ones).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use http::header::{HeaderMap, HeaderValue, AUTHORIZATION, WWW_AUTHENTICATE};
use http::{Method, StatusCode};

use super::{LaneAuth, Runner};
use crate::auth::{AuthSpec, Authenticator};
use crate::case::{Case, Credential, Role, Step};
use crate::error::{Error, Result};
use crate::exchange::Exchange;
use crate::model::Family;
use crate::scrub::Scrubber;
use crate::target::{self, Client, Outgoing};

impl Runner<'_> {
    /// Send the group of [`Role::Concurrent`] steps that starts at `first` all at once, and
    /// return their exchanges in step order.
    pub(super) async fn send_together(
        &self,
        auth: &LaneAuth,
        family: &Family,
        case: &Case,
        first: usize,
        scrubber: &Scrubber,
    ) -> Vec<Exchange> {
        let group = case.steps[first..]
            .iter()
            .take_while(|s| s.role == Role::Concurrent)
            .enumerate()
            .map(|(k, step)| self.send(auth, family, step, first + k, scrubber));
        futures_util::future::join_all(group).await
    }

    /// Send a step, honouring 429 `Retry-After` a bounded number of times.
    pub(super) async fn send(
        &self,
        auth: &LaneAuth,
        family: &Family,
        step: &Step,
        index: usize,
        scrubber: &Scrubber,
    ) -> Exchange {
        let mut retries = 0;
        loop {
            let ex = self.send_raw(auth, family, step, index, scrubber).await;
            let Some(resp) = ex.response.as_ref().filter(|r| r.status == 429) else {
                return ex;
            };
            if retries >= self.opts.retries_429 {
                return ex;
            }
            retries += 1;
            let wait = resp
                .header("retry-after")
                .and_then(|v| retry_after(v, std::time::SystemTime::now()))
                .unwrap_or(Duration::from_secs(1))
                .min(self.opts.retry_after_cap);
            let bounded = step.role != Role::Cleanup;
            if bounded
                && (self.deadline.is_some_and(|d| Instant::now() + wait >= d) || self.cancelled())
            {
                return ex;
            }
            tokio::time::sleep(wait).await;
        }
    }

    pub(super) async fn send_raw(
        &self,
        auth: &LaneAuth,
        family: &Family,
        step: &Step,
        index: usize,
        scrubber: &Scrubber,
    ) -> Exchange {
        let req = &step.request;
        let out = match self.target.outgoing(family, req, scrubber) {
            Ok(o) => o,
            Err((url, e)) => return target::failed(step, index, url, e),
        };
        let authenticator = match req.credential {
            Credential::Owner
            | Credential::StaleNonce
            | Credential::ReplayedNonceCount
            | Credential::OtherUri => Some(&auth.owner),
            Credential::ReadOnly => auth.read_only.as_ref(),
            Credential::WrongPassword => auth.wrong.as_ref(),
            Credential::OAuthOwner => auth.oauth.as_ref(),
            _ => None,
        };
        // Cleanup is never cut short by the deadline: the per-request timeout bounds it.
        let deadline = self.deadline.filter(|_| step.role != Role::Cleanup);
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let authorization = match self
                .authorization(authenticator, req.credential, &out, deadline)
                .await
            {
                Ok(a) => a,
                Err(e) => return target::failed(step, index, out.url.to_string(), e.to_string()),
            };
            if let Some(pace) = &self.pace {
                pace.wait().await;
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let sent = out
                .send(&self.client, authorization.as_ref(), deadline)
                .await;
            let retryable = matches!(
                req.credential,
                Credential::Owner
                    | Credential::ReadOnly
                    | Credential::WrongPassword
                    | Credential::OAuthOwner
            );
            if let (Ok(answer), Some(a), true, 1) =
                (&sent.answer, authenticator, retryable, attempt)
            {
                // The body was read already, so the connection goes back to the pool.
                if answer.status == StatusCode::UNAUTHORIZED
                    && a.learn(answer.status, &answer.headers)
                {
                    continue;
                }
            }
            return out.record(step, index, sent, started.elapsed(), scrubber);
        }
    }

    async fn authorization(
        &self,
        authenticator: Option<&Authenticator>,
        credential: Credential,
        out: &Outgoing,
        deadline: Option<Instant>,
    ) -> Result<Option<HeaderValue>> {
        let (method, uri) = (&out.method, out.uri.as_str());
        match credential {
            Credential::None => Ok(None),
            Credential::BadBearer => Ok(Some(HeaderValue::from_static(
                "Bearer 0f1e2d3c4b5a69788796a5b4c3d2e1f0-never-issued",
            ))),
            Credential::ExpiredBearer => {
                let token = self.target.token_expirer.as_ref().and_then(|f| f());
                let token = token
                    .ok_or_else(|| Error::Auth("the target issued no token to expire".into()))?;
                HeaderValue::from_str(&format!("Bearer {token}"))
                    .map(Some)
                    .map_err(|_| {
                        Error::Auth("the expired token is not a valid header value".into())
                    })
            }
            Credential::ForgedNonce => self.forged_digest(out, deadline).await.map(Some),
            // The owner's digest, computed for a sibling path: right password, wrong target.
            Credential::OtherUri => {
                let other = format!("{}/other", uri.split('?').next().unwrap_or(uri));
                authenticator_header(authenticator, &self.client, method, &other).await
            }
            Credential::StaleNonce => {
                if let Some(expire) = &self.target.nonce_expirer {
                    expire();
                }
                authenticator_header(authenticator, &self.client, method, uri).await
            }
            Credential::ReplayedNonceCount => {
                // Send the header once (accepted), then the request under test reuses it.
                let header = authenticator_header(authenticator, &self.client, method, uri).await?;
                if let Some(h) = &header {
                    self.requests.fetch_add(1, Ordering::Relaxed);
                    let mut headers = HeaderMap::new();
                    headers.insert(AUTHORIZATION, h.clone());
                    let _ = self
                        .client
                        .send(method, &out.url, &headers, None, deadline)
                        .await;
                }
                Ok(header)
            }
            Credential::Owner | Credential::ReadOnly | Credential::WrongPassword => {
                authenticator_header(authenticator, &self.client, method, uri).await
            }
            Credential::OAuthOwner => match authenticator {
                Some(a) => a.header(&self.client, method, uri).await,
                None => Err(Error::Auth("no OAuth client credentials were given".into())),
            },
            Credential::Client | Credential::ClientWrongSecret | Credential::ClientUnknown => {
                let (id, secret) = self
                    .target
                    .token_client()
                    .ok_or_else(|| Error::Auth("no OAuth client credentials were given".into()))?;
                client_basic(credential, id, secret).map(Some)
            }
        }
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
        self.requests.fetch_add(1, Ordering::Relaxed);
        let challenge = self
            .client
            .send(&Method::GET, &out.url, &HeaderMap::new(), None, deadline)
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

async fn authenticator_header(
    authenticator: Option<&Authenticator>,
    client: &Client,
    method: &Method,
    uri: &str,
) -> Result<Option<HeaderValue>> {
    match authenticator {
        Some(a) => a.header(client, method, uri).await,
        None => Ok(None),
    }
}

/// The wait a `Retry-After` value asks for (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date
/// (a date in the past means no wait).
fn retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_and_http_dates() {
        let now = httpdate::parse_http_date("Sun, 29 Nov 2026 20:00:00 GMT").unwrap();
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            retry_after("Sun, 29 Nov 2026 20:00:05 GMT", now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            retry_after("Sun, 29 Nov 2026 19:59:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("-3", now), None);
    }
}
