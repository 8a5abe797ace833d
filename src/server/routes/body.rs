//! The request body of create and update: its `Content-Type`, its size and its JSON syntax,
//! before `validate` reads what it says. A part of [`super::pipeline`]'s `Ctx`, in a room of its
//! own.

use axum::body::Body;
use axum::http::header::CONTENT_LENGTH;
use serde_json::Value;

use crate::model::Situation;
use crate::server::error::ApiError;
use crate::server::fault::Fault;
use crate::server::variant::Variant;

use super::pipeline::Ctx;
use super::{content_type_ok, read_body, BodyError, BODY_LIMIT};

/// How deeply a body may nest its arrays and objects under variant `deep-nesting-400` (the
/// outermost object is level 1).
const MAX_DEPTH: usize = 32;

impl Ctx<'_> {
    /// The request's `Content-Type` is one the family accepts.
    pub(super) fn content_type_accepted(&self) -> Result<(), ApiError> {
        let faults = self.faults;
        if !content_type_ok(
            self.family,
            &self.parts.headers,
            faults.has(Fault::ContentTypeExact),
        ) {
            let mut accepted: Vec<&str> = self
                .family
                .versions
                .iter()
                .map(|v| v.media_type.as_str())
                .collect();
            accepted.extend(
                self.family
                    .extra_request_content_types
                    .iter()
                    .map(String::as_str),
            );
            return Err(self.err(
                Situation::UnsupportedMediaType,
                format!(
                    "The request Content-Type must be one of {}.",
                    accepted.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// The request body, within the size limit, parsed as JSON.
    pub(super) async fn json_body(&self, body: &mut Option<Body>) -> Result<Value, ApiError> {
        let faults = self.faults;
        let declared = self
            .parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let too_large = || {
            self.err(
                Situation::PayloadTooLarge,
                format!("The request body exceeds {BODY_LIMIT} bytes."),
            )
        };
        if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
            return Err(too_large());
        }
        let bytes = match read_body(body.take(), BODY_LIMIT).await {
            Ok(b) => b,
            Err(BodyError::TooLarge) => return Err(too_large()),
            Err(BodyError::Io) => {
                return Err(self.err(
                    Situation::MalformedJson,
                    "The request body could not be read.",
                ))
            }
        };
        if self.state.variant_set().has(Variant::DeepNesting400) && nests_deeper(&bytes, MAX_DEPTH)
        {
            return Err(self.err(
                Situation::MalformedJson,
                format!("The request body nests deeper than {MAX_DEPTH} levels."),
            ));
        }
        let parsed = if faults.has(Fault::TrailingBytesIgnored) {
            // Fault: read the first JSON value and stop there.
            serde_json::Deserializer::from_slice(&bytes)
                .into_iter::<Value>()
                .next()
                .unwrap_or_else(|| serde_json::from_slice(&bytes))
        } else {
            serde_json::from_slice(&bytes)
        };
        let value: Value = match parsed {
            Ok(v) => v,
            Err(e) if faults.has(Fault::MalformedJson500) => {
                return Err(self.unexpected(&format!("json: {e}")));
            }
            Err(e) => {
                // serde's message names a line and column, never the input itself
                return Err(self.err(
                    Situation::MalformedJson,
                    format!("The request body is not valid JSON: {e}."),
                ));
            }
        };
        Ok(value)
    }
}

/// Whether the JSON text `bytes` opens more than `max` arrays or objects inside one another.
/// Brackets inside strings do not count; the text need not be valid JSON.
fn nests_deeper(bytes: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::nests_deeper;

    fn nested(levels: usize) -> String {
        let mut s = String::from("1");
        for i in 0..levels {
            s = if i % 2 == 0 {
                format!("[{s}]")
            } else {
                format!("{{\"a\":{s}}}")
            };
        }
        s
    }

    #[test]
    fn depth_counts_open_containers_outside_strings() {
        assert!(!nests_deeper(nested(32).as_bytes(), 32));
        assert!(nests_deeper(nested(33).as_bytes(), 32));
        assert!(!nests_deeper(b"{}", 1));
        assert!(nests_deeper(b"{\"a\":[]}", 1));
        // siblings do not add up
        assert!(!nests_deeper(b"[[],[],[[]]]", 3));
        // brackets in strings, escaped quotes included, are text
        let in_string = format!("{{\"a\":\"\\\"{}\"}}", "[".repeat(100));
        assert!(!nests_deeper(in_string.as_bytes(), 1));
        // unbalanced text is still measured, never an error
        assert!(nests_deeper("[".repeat(40).as_bytes(), 32));
        assert!(!nests_deeper("]]]]{".as_bytes(), 1));
    }
}
