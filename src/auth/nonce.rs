//! The client's digest nonces, shared by the concurrent requests of one authenticator.
//!
//! On a target whose nonces may be reused (RFC 7616 with an increasing `nc`), every request
//! signs with the last challenge's nonce, its `nc` running under the lock. Once the target is
//! seen to use one-time nonces (RFC 7616 §3.3/§3.5: an `Authentication-Info: nextnonce`, or
//! `stale=true` for a nonce on its reuse while no reuse was ever accepted), a nonce is taken by
//! one request only; a request that finds none goes without `Authorization`, and the challenge
//! of its own 401 signs its one retry. Either way a retry signs with the challenge of its own
//! 401, never with what another request left in the cache at that moment.

use std::collections::VecDeque;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use digest_auth::{Algorithm, AuthContext, Charset, Qop, WwwAuthenticateHeader};

use super::Challenge;
use crate::error::Error;

/// At most this many unused one-time nonces are kept (the oldest go first).
const MAX_UNUSED: usize = 64;

/// Counts the times the target's nonces were expired on purpose (the embedded server's hook).
/// Authenticators that share one take no `stale=true` for a nonce received before the last
/// such expiry as proof of one-time nonces: an expired nonce is stale on any target.
#[derive(Debug, Clone, Default)]
pub struct NonceEpoch(Arc<AtomicU64>);

impl NonceEpoch {
    /// The target's nonces were just expired on purpose.
    pub fn advance(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    pub(super) fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The digest nonce one attempt was signed with.
#[derive(Clone)]
pub(super) struct Used {
    /// The challenge as answered: its nonce, and the `nc` this attempt sent.
    challenge: WwwAuthenticateHeader,
    /// The challenge came from the request's own 401 (the retry).
    own: bool,
    /// The [`NonceEpoch`] when the nonce was received.
    epoch: u64,
}

/// The challenge of a 401, for the retry of the request it answered, and when it came.
#[derive(Clone)]
pub(super) struct Own {
    pub(super) challenge: WwwAuthenticateHeader,
    pub(super) epoch: u64,
}

/// What an answer says about the nonces: whether it succeeded, the digest challenge of a 401,
/// and the `nextnonce` of an `Authentication-Info`.
pub(super) struct Answer<'a> {
    /// A success: the credentials were accepted.
    pub(super) accepted: bool,
    pub(super) unauthorized: bool,
    pub(super) challenge: Option<&'a WwwAuthenticateHeader>,
    pub(super) next: Option<String>,
    pub(super) epoch: u64,
}

/// The nonces of one authenticator.
#[derive(Default)]
pub(super) struct Nonces {
    /// The last challenge, with the epoch it came in: on a target that reuses nonces, the nonce
    /// every request signs with, its `nc` running; on a one-time target, the template (realm,
    /// qop, algorithm, opaque) of the next nonces and the nonce forged credentials reuse.
    last: Option<(WwwAuthenticateHeader, u64)>,
    /// One-time nonces no request has used yet (`nextnonce`): each is taken by one request.
    unused: VecDeque<(WwwAuthenticateHeader, u64)>,
    /// The target was seen to use one-time nonces.
    one_time: bool,
    /// The target accepted a nonce for a second request: its nonces may be reused.
    reuse_accepted: bool,
}

impl Nonces {
    pub(super) fn known(&self) -> bool {
        self.last.is_some() || !self.unused.is_empty()
    }

    /// The `Authorization` value of a first attempt and the nonce it used, `None` when there is
    /// no nonce to sign with. On a one-time target an unused nonce is taken; `reuse` (forged
    /// credentials) falls back to the last nonce even when it is spent.
    pub(super) fn sign(
        &mut self,
        reuse: bool,
        context: &AuthContext<'_>,
    ) -> Result<Option<(String, Used)>, Error> {
        if self.one_time || reuse {
            if let Some((mut challenge, epoch)) = self.unused.pop_front() {
                let answer = respond(&mut challenge, context)?;
                let used = Used {
                    challenge,
                    own: false,
                    epoch,
                };
                return Ok(Some((answer, used)));
            }
            if !reuse {
                return Ok(None);
            }
        }
        let Some((challenge, epoch)) = self.last.as_mut() else {
            return Ok(None);
        };
        let answer = respond(challenge, context)?;
        let used = Used {
            challenge: challenge.clone(),
            own: false,
            epoch: *epoch,
        };
        Ok(Some((answer, used)))
    }

    /// Reads an answer to an attempt signed with `used` (none: sent without `Authorization`).
    pub(super) fn learn(&mut self, used: Option<&Used>, answer: Answer<'_>) {
        if let Some(next) = answer.next {
            let template = used
                .map(|u| &u.challenge)
                .or(self.last.as_ref().map(|l| &l.0));
            if let Some(template) = template {
                let mut challenge = template.clone();
                challenge.nonce = next;
                challenge.nc = 0;
                self.one_time = true;
                if self.unused.len() >= MAX_UNUSED {
                    self.unused.pop_front();
                }
                self.unused.push_back((challenge, answer.epoch));
            }
        }
        let Some(used) = used else {
            return;
        };
        let reused = used.challenge.nc >= 2;
        if answer.accepted {
            self.reuse_accepted |= reused;
        } else if answer.unauthorized
            && answer.challenge.is_some_and(|c| c.stale)
            && reused
            && !self.reuse_accepted
            && used.epoch == answer.epoch
        {
            // Spent on its second use and never expired on purpose: a one-time nonce.
            self.one_time = true;
        }
        if used.own {
            // The retry's nonce is shared (or, on a one-time target, the template) only once
            // its answer is in: no other request can spend it before the retry arrives.
            let same = self
                .last
                .as_ref()
                .is_some_and(|(l, _)| l.nonce == used.challenge.nonce);
            if !same {
                self.last = Some((used.challenge.clone(), used.epoch));
            }
        }
    }
}

/// Signs the retry of a request with the challenge of its own 401, which no other request has.
pub(super) fn sign_own(own: Own, context: &AuthContext<'_>) -> Result<(String, Used), Error> {
    let Own {
        mut challenge,
        epoch,
    } = own;
    let answer = respond(&mut challenge, context)?;
    let used = Used {
        challenge,
        own: true,
        epoch,
    };
    Ok((answer, used))
}

/// The digest response to `challenge` (its `nc` advances).
fn respond(
    challenge: &mut WwwAuthenticateHeader,
    context: &AuthContext<'_>,
) -> Result<String, Error> {
    challenge
        .respond(context)
        .map(|a| a.to_string())
        .map_err(|_| Error::Auth("cannot answer the target's digest challenge".into()))
}

/// Builds a digest challenge that `digest_auth` can answer from our own parse (the crate's own
/// parser is case-sensitive about the scheme, names and algorithm). `None` if unsupported.
pub(super) fn digest_challenge(ch: &Challenge) -> Option<WwwAuthenticateHeader> {
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
