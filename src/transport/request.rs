//! A case's request made concrete for one target (URL, headers, body), sent, and recorded as an
//! [`Exchange`]: the headers exactly as written on the wire, `Authorization` reduced to its
//! scheme, secrets scrubbed from everything.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{
    HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, PROXY_AUTHORIZATION,
};
use http::Method;
use url::Url;

use super::client::{Client, Sent};
use super::Target;
use crate::case::{Body, Project, Request, Step};
use crate::exchange::{Exchange, Response};
use crate::model::Family;
use crate::scrub::Scrubber;

/// One request, ready to send (and to send again, after a digest challenge).
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub method: Method,
    pub url: Url,
    /// Path and query as sent: what a digest response covers.
    pub uri: String,
    /// The case's own headers: `Accept` and `Content-Type` where it gives them, nothing else.
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    /// The body as a report shows it (scrubbed; a huge body summarised).
    recorded_body: Option<String>,
}

impl Target {
    /// The request `req` of a case of `family` addressed to this target. `Err` is the URL that
    /// could not be built and why.
    pub fn outgoing(
        &self,
        family: &Family,
        req: &Request,
        scrubber: &Scrubber,
    ) -> std::result::Result<Outgoing, (String, String)> {
        let base = self.base_url.as_str().trim_end_matches('/');
        let raw = if req.project == Project::Unscoped {
            format!("{base}{}{}", req.base_path, req.path)
        } else {
            format!(
                "{base}{}/groups/{}{}",
                req.base_path,
                self.group(family, &req.project),
                req.path
            )
        };
        let mut url = Url::parse(&raw).map_err(|e| (raw.clone(), format!("bad URL: {e}")))?;
        if !req.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &req.query {
                pairs.append_pair(k, v);
            }
        }
        let method = Method::from_bytes(req.method.as_bytes()).unwrap_or(Method::GET);
        let uri = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let body: Option<Bytes> = req.body.bytes().map(Bytes::from);
        let recorded_body = match &req.body {
            Body::None => None,
            Body::Oversized { size, .. } => Some(format!("<{size} bytes of padded JSON>")),
            _ => body
                .as_ref()
                .map(|b| scrubber.clean(&String::from_utf8_lossy(b))),
        };
        // A header the case leaves out is not sent: nothing is added in its place.
        let mut headers = HeaderMap::new();
        if let Some(v) = req
            .accept
            .as_deref()
            .and_then(|a| HeaderValue::from_str(a).ok())
        {
            headers.insert(ACCEPT, v);
        }
        if body.is_some() {
            if let Some(v) = req
                .content_type
                .as_deref()
                .and_then(|ct| HeaderValue::from_str(ct).ok())
            {
                headers.insert(CONTENT_TYPE, v);
            }
        }
        Ok(Outgoing {
            method,
            url,
            uri,
            headers,
            body,
            recorded_body,
        })
    }
}

impl Outgoing {
    /// Send it with this `Authorization` (or none), within the client's timeout and before
    /// `deadline`.
    pub async fn send(
        &self,
        client: &Client,
        authorization: Option<&HeaderValue>,
        deadline: Option<Instant>,
    ) -> Sent {
        let mut headers = self.headers.clone();
        if let Some(a) = authorization {
            headers.insert(AUTHORIZATION, a.clone());
        }
        client
            .send(
                &self.method,
                &self.url,
                &headers,
                self.body.as_ref(),
                deadline,
            )
            .await
    }

    /// The exchange of `step` (number `index` in its case): what was sent and what came back.
    pub fn record(
        &self,
        step: &Step,
        index: usize,
        sent: Sent,
        duration: Duration,
        scrubber: &Scrubber,
    ) -> Exchange {
        let mut ex = failed(step, index, self.url.to_string(), String::new());
        ex.request_headers = record_headers(&sent.headers, scrubber);
        ex.request_body = self.recorded_body.clone();
        ex.duration = duration;
        match sent.answer {
            Err(e) => ex.error = Some(e),
            Ok(answer) => {
                ex.error = answer.error;
                ex.response = Some(Response {
                    status: answer.status.as_u16(),
                    headers: answer
                        .headers
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.as_str().to_ascii_lowercase(),
                                scrubber.clean(&String::from_utf8_lossy(v.as_bytes())),
                            )
                        })
                        .collect(),
                    body: answer.body,
                    truncated: answer.truncated,
                });
            }
        }
        ex
    }
}

/// The exchange of a step that could not be sent (bad URL, credentials that failed first).
pub fn failed(step: &Step, index: usize, url: String, error: String) -> Exchange {
    Exchange {
        step: index,
        role: step.role,
        method: step.request.method.clone(),
        url,
        request_headers: Vec::new(),
        request_body: None,
        response: None,
        error: (!error.is_empty()).then_some(error),
        duration: Duration::ZERO,
    }
}

/// Headers as written, names lower-case, in order; credentials reduced to their scheme, a
/// sensitive value (a gateway's header) replaced whole, however short.
pub fn record_headers(headers: &HeaderMap, scrubber: &Scrubber) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            let value = if k == AUTHORIZATION || k == PROXY_AUTHORIZATION {
                let text = v.to_str().unwrap_or("");
                format!(
                    "{} <redacted>",
                    text.split_whitespace().next().unwrap_or("")
                )
            } else if v.is_sensitive() {
                "{{secret}}".to_owned()
            } else {
                scrubber.clean(&String::from_utf8_lossy(v.as_bytes()))
            };
            (k.as_str().to_owned(), value)
        })
        .collect()
}
