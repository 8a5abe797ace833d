//! The one sender: a step's request becomes an exchange with a target, whoever asks (the runner,
//! exploration, exploration's oracle). It owns the credentials a step names ([`Keyring`]: the
//! main, read-only and wrong-password authenticators, and the forged credentials), the digest
//! nonce and the one retry on a 401 challenge, the OAuth token and its renewal, 429
//! `Retry-After` (bounded), pacing, the deadline and the request counter.
//!
//! How a request travels is its [`Transport`]'s business: HTTP for a target ([`Client`]), the
//! router in process for the oracle. A credential that cannot be made is a failed exchange,
//! never a request sent without it.

mod forged;
mod keyring;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use http::Method;
use url::Url;

use crate::auth::NonceEpoch;
use crate::case::{Role, Step};
use crate::error::Error;
use crate::exchange::Exchange;
use crate::model::Family;
use crate::scrub::Scrubber;
use crate::transport::{self, Client, Outgoing, Sent, Target};

pub use keyring::Keyring;

/// How a request reaches the target and its answer comes back.
pub trait Transport: Send + Sync {
    /// Sends `headers` (credentials included) and `body`, within the per-request timeout and
    /// before `deadline`.
    fn deliver(
        &self,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        body: Option<&Bytes>,
        deadline: Option<Instant>,
    ) -> impl Future<Output = Sent> + Send;
}

impl Transport for Client {
    fn deliver(
        &self,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        body: Option<&Bytes>,
        deadline: Option<Instant>,
    ) -> impl Future<Output = Sent> + Send {
        self.send(method, url, headers, body, deadline)
    }
}

/// How to send, as the target settings give it to every front end (`settings::TargetArgs`):
/// the per-request timeout, the wall-clock budget, pacing and the 429 policy. A sending option
/// added here and in the settings reaches `run`, `explore`, `replay` and the cargo front end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sending {
    /// Per-request timeout.
    pub timeout: Duration,
    /// Wall-clock budget, from when the sending starts; `None`: no budget.
    pub deadline: Option<Duration>,
    /// At most this many requests per second; `None`: as fast as it goes.
    pub rate: Option<f64>,
    /// How often a 429 is retried (after its `Retry-After`, capped) before it is the answer.
    pub retries_429: u32,
    /// The longest `Retry-After` honoured.
    pub retry_after_cap: Duration,
}

impl Default for Sending {
    fn default() -> Self {
        Sending {
            timeout: Duration::from_secs(10),
            deadline: None,
            rate: None,
            retries_429: 3,
            retry_after_cap: Duration::from_secs(10),
        }
    }
}

impl Sending {
    /// The sender's options for sending that starts now (the budget counts from now), stopped
    /// by `cancel`.
    pub fn options(&self, cancel: Option<Arc<AtomicBool>>) -> Options {
        Options {
            retries_429: self.retries_429,
            retry_after_cap: self.retry_after_cap,
            rate: self.rate,
            deadline: self.deadline.map(|d| Instant::now() + d),
            cancel,
        }
    }
}

/// How a sender sends: the 429 policy, pacing and the deadline ([`Sending::options`]).
#[derive(Clone)]
pub struct Options {
    /// How often a 429 is retried (after its `Retry-After`, capped) before it is the answer.
    pub retries_429: u32,
    /// The longest `Retry-After` honoured.
    pub retry_after_cap: Duration,
    /// At most this many requests per second; `None`: as fast as it goes.
    pub rate: Option<f64>,
    /// No request (but cleanup) is sent past this instant.
    pub deadline: Option<Instant>,
    /// Set to stop waiting out a 429 (Ctrl-C).
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            retries_429: 3,
            retry_after_cap: Duration::from_secs(10),
            rate: None,
            deadline: None,
            cancel: None,
        }
    }
}

/// Sends steps to one target over one transport; shared by every lane of a run.
pub struct Sender<T = Client> {
    target: Target,
    transport: T,
    /// The token endpoint's client (OAuth), whatever the transport.
    client: Client,
    options: Options,
    pace: Option<Pace>,
    requests: AtomicUsize,
    /// Advanced when a step expires the target's nonces on purpose; every keyring shares it.
    epoch: NonceEpoch,
}

impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("target", &self.target)
            .field("requests", &self.requests())
            .finish_non_exhaustive()
    }
}

impl Sender<Client> {
    /// A sender to `target` over HTTP with `client`.
    pub fn new(target: Target, client: Client, options: Options) -> Sender<Client> {
        Sender::with_transport(target, client.clone(), client, options)
    }
}

impl<T> Sender<T> {
    /// A sender to `target` over `transport`; `client` fetches OAuth tokens.
    pub fn with_transport(target: Target, transport: T, client: Client, options: Options) -> Self {
        let pace = options.rate.filter(|r| *r > 0.0).map(|r| Pace {
            next: std::sync::Mutex::new(Instant::now()),
            interval: Duration::from_secs_f64(1.0 / r),
        });
        Sender {
            target,
            transport,
            client,
            options,
            pace,
            requests: AtomicUsize::new(0),
            epoch: NonceEpoch::default(),
        }
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Requests sent so far (retries and the requests forged credentials need included).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// Fresh credentials for one lane: their nonces and tokens are the lane's own.
    pub fn keyring(&self) -> Keyring {
        Keyring::new(&self.target, &self.epoch)
    }

    fn cancelled(&self) -> bool {
        self.options
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    }
}

impl<T: Transport> Sender<T> {
    /// Sends the group of [`Role::Concurrent`] steps that starts at `steps[first]` all at once,
    /// and returns their exchanges in step order.
    pub async fn send_together(
        &self,
        keys: &Keyring,
        family: &Family,
        steps: &[Step],
        first: usize,
        scrubber: &Scrubber,
    ) -> Vec<Exchange> {
        let group = steps[first..]
            .iter()
            .take_while(|s| s.role == Role::Concurrent)
            .enumerate()
            .map(|(k, step)| self.send(keys, family, step, first + k, scrubber));
        futures_util::future::join_all(group).await
    }

    /// Sends a step (number `index` of its case), honouring 429 `Retry-After` a bounded number
    /// of times.
    pub async fn send(
        &self,
        keys: &Keyring,
        family: &Family,
        step: &Step,
        index: usize,
        scrubber: &Scrubber,
    ) -> Exchange {
        let mut retries = 0;
        loop {
            let ex = self.send_once(keys, family, step, index, scrubber).await;
            let Some(resp) = ex.response.as_ref().filter(|r| r.status == 429) else {
                return ex;
            };
            if retries >= self.options.retries_429 {
                return ex;
            }
            retries += 1;
            let wait = resp
                .header("retry-after")
                .and_then(|v| retry_after(v, std::time::SystemTime::now()))
                .unwrap_or(Duration::from_secs(1))
                .min(self.options.retry_after_cap);
            let bounded = step.role != Role::Cleanup;
            let late = self
                .options
                .deadline
                .is_some_and(|d| Instant::now() + wait >= d);
            if bounded && (late || self.cancelled()) {
                return ex;
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Sends a step once (a 429 is its answer), with the one retry a 401 challenge earns the
    /// credentials that sign.
    pub async fn send_once(
        &self,
        keys: &Keyring,
        family: &Family,
        step: &Step,
        index: usize,
        scrubber: &Scrubber,
    ) -> Exchange {
        let req = &step.request;
        let out = match self.target.outgoing(family, req, scrubber) {
            Ok(o) => o,
            Err((url, e)) => return transport::failed(step, index, url, e),
        };
        let failed = |e: Error| transport::failed(step, index, out.url.to_string(), e.to_string());
        // Cleanup is never cut short by the deadline: the per-request timeout bounds it.
        let deadline = self.options.deadline.filter(|_| step.role != Role::Cleanup);
        let started = Instant::now();
        let signer = match keys.signer(req.credential) {
            Ok(s) => s,
            Err(e) => return failed(e),
        };
        let mut signed = match self.sign(keys, req.credential, &out, deadline).await {
            Ok(s) => s,
            Err(e) => return failed(e),
        };
        let mut retried = false;
        loop {
            if let Some(pace) = &self.pace {
                pace.wait().await;
            }
            let sent = self.deliver(&out, signed.header.as_ref(), deadline).await;
            if let (Ok(answer), Some(signer)) = (&sent.answer, &signer) {
                let a = signer.authenticator;
                // Every answer teaches (a next nonce, a spent one); a 401 challenge earns one
                // retry, signed with that very challenge.
                let retry = a.learn(&signed, answer.status, &answer.headers);
                if let Some(retry) = retry.filter(|_| signer.retries && !retried) {
                    retried = true;
                    // The body was read already, so the connection goes back to the pool.
                    signed = match a
                        .sign_retry(retry, &self.client, &out.method, &out.uri)
                        .await
                    {
                        Ok(s) => s,
                        Err(e) => return failed(e),
                    };
                    continue;
                }
            }
            return out.record(step, index, sent, started.elapsed(), scrubber);
        }
    }

    /// One request of `out` with this `Authorization`, counted.
    async fn deliver(
        &self,
        out: &Outgoing,
        authorization: Option<&HeaderValue>,
        deadline: Option<Instant>,
    ) -> Sent {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut headers = out.headers.clone();
        if let Some(a) = authorization {
            headers.insert(AUTHORIZATION, a.clone());
        }
        self.transport
            .deliver(&out.method, &out.url, &headers, out.body.as_ref(), deadline)
            .await
    }
}

/// Spaces requests evenly to honour a requests-per-second cap.
struct Pace {
    next: std::sync::Mutex<Instant>,
    interval: Duration,
}

impl Pace {
    async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot.into()).await;
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
mod tests;
