//! A recorded request and its response (or transport failure): what the checks judge, what the
//! snapshots and reports show. Credentials are never recorded.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::case::Role;

/// A recorded HTTP response.
#[derive(Debug, Clone, Serialize)]
pub struct Response {
    pub status: u16,
    /// Header names lower-case, in the order received.
    pub headers: Vec<(String, String)>,
    #[serde(skip)]
    pub body: Vec<u8>,
    /// The body was cut at the size cap.
    pub truncated: bool,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The media type of `Content-Type`, lower-case, without parameters.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        if self.body.is_empty() {
            return None;
        }
        serde_json::from_slice(&self.body).ok()
    }
}

/// One step's request, as sent, and what came back.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    pub step: usize,
    pub role: Role,
    pub method: String,
    /// The full URL as sent.
    pub url: String,
    /// Request headers exactly as written on the wire, in order, names lower-case (`host` and
    /// `content-length` included); `Authorization` and `Proxy-Authorization` reduced to their
    /// scheme.
    pub request_headers: Vec<(String, String)>,
    /// The request body (large bodies are summarised).
    pub request_body: Option<String>,
    pub response: Option<Response>,
    /// A transport failure (timeout, refused connection, garbage that is not HTTP).
    pub error: Option<String>,
    #[serde(serialize_with = "millis")]
    pub duration: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

impl Exchange {
    /// `path?query` of the URL as sent.
    pub fn path_and_query(&self) -> String {
        match url::Url::parse(&self.url) {
            Ok(u) => match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_owned(),
            },
            Err(_) => self.url.clone(),
        }
    }
}
