//! The request pipeline. One fallback handler does its own path matching, so that it owns the
//! contract's check order (section 5) and every error shape, 404 and 405 included:
//!
//! route → credentials → `Accept` version → `groupId` format → project existence → access →
//! project kind → `{integrationType}` → role → query → `Content-Type` → body (size, JSON syntax,
//! then `validate`) → state.
//!
//! Nothing here names an integration type or a field: they come from the model.

use std::borrow::Cow;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody as _};
use axum::extract::{Request, State};
use axum::http::header::{
    ACCEPT, ALLOW, AUTHORIZATION, CACHE_CONTROL, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, EXPECT,
    HOST, PRAGMA, STRICT_TRANSPORT_SECURITY, VARY, WWW_AUTHENTICATE,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::json;

use crate::model::{Family, IntegrationType, Operation, Situation, Version};

use super::error::{quote_input, ApiError};
use super::fault::{Fault, FaultSet};
use super::query::{Params, RawQuery};
use super::render::{self, Format, JSON};
use super::variant::{Variant, VariantSet};
use super::ServerState;

mod body;
mod pipeline;
use pipeline::Ctx;

/// Request bodies above this are 413 (contract choice).
const BODY_LIMIT: usize = 1 << 20;
/// How much of a refused or unread body is read and dropped, so that the client, still sending,
/// gets the response rather than a reset connection.
const DRAIN_LIMIT: usize = 16 << 20;
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a create pauses between its check and its write under the `create-race` fault: long
/// enough that concurrent creates all pass the check first.
const CREATE_RACE_PAUSE: Duration = Duration::from_millis(100);
/// How long an update pauses before each field it writes under the `update-not-atomic` fault:
/// long enough that concurrent updates interleave.
const PIECEMEAL_PAUSE: Duration = Duration::from_millis(25);

/// Whether `s` is a well-formed project id: 24 lower-case hex digits.
pub(crate) fn is_group_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Percent-decoding of one path segment (lossy: invalid UTF-8 cannot match anything anyway).
fn decode_segment(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A matched route: a family's list path or typed path.
struct Route<'m> {
    family: &'m Family,
    group_id: String,
    /// `None` for the list path.
    type_name: Option<String>,
}

/// Matches `{base}/groups/{groupId}/integrations[/{integrationType}]`, segments non-empty.
fn route<'m>(families: &'m [Family], path: &str) -> Option<Route<'m>> {
    for family in families {
        let Some(rest) = path
            .strip_prefix(family.base_path.as_str())
            .and_then(|r| r.strip_prefix("/groups/"))
        else {
            continue;
        };
        let segments: Vec<&str> = rest.split('/').collect();
        let (group, type_name) = match segments.as_slice() {
            [g, "integrations"] => (*g, None),
            [g, "integrations", t] => (*g, Some(*t)),
            _ => continue,
        };
        if group.is_empty() || type_name.is_some_and(str::is_empty) {
            continue;
        }
        return Some(Route {
            family,
            group_id: decode_segment(group),
            type_name: type_name.map(decode_segment),
        });
    }
    None
}

/// The axum fallback handler: every request comes here.
pub(crate) async fn dispatch(State(state): State<Arc<ServerState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let mut body = Some(body);
    let variants = state.variant_set();
    let response = handle(&state, &parts, &mut body).await;
    let response = header_variants(response, variants);
    let response = transport_variants(response, variants).await;
    // A client waiting for `100 Continue` has not sent the body and will not: leave it unread
    // (hyper then closes the connection) rather than invite it.
    let expects_continue = parts
        .headers
        .get(EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    // Variant early-413-close: a body refused for its size is answered before it is read (the
    // response says `Connection: close`); what follows is read and thrown away behind the
    // answer, a lingering close (RFC 9112 section 9.6), so that the client's receive buffer
    // is not reset under the 413 it was sent.
    let early_close =
        variants.has(Variant::Early413Close) && response.status() == StatusCode::PAYLOAD_TOO_LARGE;
    if let Some(body) = body.take().filter(|_| !expects_continue) {
        if early_close {
            tokio::spawn(drain(body, DRAIN_LIMIT));
        } else {
            drain(body, DRAIN_LIMIT).await;
        }
    }
    response
}

/// Variants that change only a response's header block: `content-type-parameters`,
/// `extra-response-headers`, and the `Connection: close` of `early-413-close`.
fn header_variants(mut response: Response, variants: VariantSet) -> Response {
    let status = response.status();
    let h = response.headers_mut();
    if variants.has(Variant::ContentTypeParameters) {
        let other = h
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(other_content_type)
            .and_then(|v| HeaderValue::from_str(&v).ok());
        if let Some(v) = other {
            h.insert(CONTENT_TYPE, v);
        }
    }
    if variants.has(Variant::ExtraResponseHeaders) {
        if let Ok(id) = HeaderValue::from_str(&super::random_hex(16)) {
            h.insert(HeaderName::from_static("x-request-id"), id);
        }
        for (name, value) in [
            (HeaderName::from_static("server-timing"), "app;dur=0.2"),
            (CACHE_CONTROL, "no-store"),
            (
                STRICT_TRANSPORT_SECURITY,
                "max-age=31536000; includeSubDomains",
            ),
            (VARY, "Accept"),
        ] {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    if variants.has(Variant::Early413Close) && status == StatusCode::PAYLOAD_TOO_LARGE {
        h.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A `Content-Type` as variant `content-type-parameters` writes it: the same media type in
/// another letter case, with other parameters (`application/json` becomes
/// `Application/JSON; charset=UTF-8; profile="x"`, a `+json` type `…+JSON;Charset=utf-8`).
fn other_content_type(value: &str) -> String {
    let media = value.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = media.split_once('/') else {
        return value.to_owned();
    };
    match subtype.rsplit_once('+') {
        Some((name, suffix)) => format!(
            "{kind}/{name}+{};Charset=utf-8",
            suffix.to_ascii_uppercase()
        ),
        None => {
            let mut chars = kind.chars();
            let first: String = chars
                .next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .collect();
            format!(
                "{first}{}/{}; charset=UTF-8; profile=\"x\"",
                chars.as_str(),
                subtype.to_ascii_uppercase()
            )
        }
    }
}

/// Variants `connection-close` and `chunked-bodies`: the same response, framed differently.
async fn transport_variants(response: Response, variants: VariantSet) -> Response {
    let mut response = response;
    if variants.has(Variant::ConnectionClose) {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    if !variants.has(Variant::ChunkedBodies) || response.body().is_end_stream() {
        return response;
    }
    let (mut head, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(head, Body::empty());
    };
    // Two chunks of unknown total length: hyper frames them with Transfer-Encoding: chunked.
    let mid = bytes.len() / 2;
    let chunks = [bytes.slice(..mid), bytes.slice(mid..)]
        .into_iter()
        .filter(|c| !c.is_empty())
        .map(Ok::<_, std::convert::Infallible>);
    head.headers.remove(CONTENT_LENGTH);
    Response::from_parts(head, Body::from_stream(futures_util::stream::iter(chunks)))
}

async fn handle(state: &ServerState, parts: &Parts, body: &mut Option<Body>) -> Response {
    let faults = state.fault_set();
    let raw_query = RawQuery::parse(parts.uri.query());
    let wire = &state.model().wire;
    let lenient = Params::lenient(&raw_query, wire);
    let mut fmt = Format::new(
        wire,
        lenient.pretty,
        lenient.envelope,
        faults,
        state.variant_set(),
    );
    let path = super::reach::path(parts.uri.path(), faults);
    let path = path.as_ref();
    let model = state.model();

    if path == model.token_path {
        return token(state, parts, body, &fmt).await;
    }
    let Some(mut route) = route(&model.families, path) else {
        return not_found(model, path, &fmt);
    };
    super::reach::route(&mut route.group_id, &mut route.type_name, faults);
    let accept = super::reach::accept(parts, route.family, faults);
    let parts = accept.as_ref().unwrap_or(parts);
    let typed = route.type_name.is_some();
    let candidates: Vec<&Operation> = route
        .family
        .operations
        .iter()
        .filter(|o| o.kind.has_type() == typed)
        .collect();
    let Some(op) = candidates
        .iter()
        .copied()
        .find(|o| o.method.eq_ignore_ascii_case(parts.method.as_str()))
    else {
        if faults.has(Fault::MethodNotAllowed404) {
            return not_found(model, path, &fmt);
        }
        let allow: Vec<&str> = candidates.iter().map(|o| o.method.as_str()).collect();
        let allow = allow.join(", ");
        let e = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            model.code_for(Situation::MethodNotAllowed),
            format!(
                "Method {} is not allowed on this resource; allowed: {allow}.",
                quote_input(parts.method.as_str())
            ),
        )
        .params(vec![json!(quote_input(parts.method.as_str()))]);
        let e = match HeaderValue::from_str(&allow) {
            Ok(v) => e.header(ALLOW, v),
            Err(_) => e,
        };
        return render::error(&e, &fmt);
    };

    let mut ctx = Ctx {
        state,
        parts,
        family: route.family,
        op,
        group_id: &route.group_id,
        type_name: route.type_name.as_deref(),
        raw_query: &raw_query,
        faults,
        info: None,
    };
    let mut response = match ctx.run(&mut fmt, body).await {
        Ok(r) => r,
        Err(e) => {
            let fmt = super::reach::error_format(&fmt, Some(op.kind));
            render::error(&with_challenge(state, e), &fmt)
        }
    };
    if let Some(info) = ctx.info.take() {
        response.headers_mut().insert(
            axum::http::HeaderName::from_static("authentication-info"),
            info,
        );
    }
    response
}

/// Variant `challenge-on-every-401`: a 401 that has no challenge (no access to the project, a
/// read-only caller's write) gets those of a 401 for missing credentials, with a fresh nonce.
fn with_challenge(state: &ServerState, e: ApiError) -> ApiError {
    if !state.variant_set().has(Variant::ChallengeOnEvery401)
        || e.status != StatusCode::UNAUTHORIZED
        || e.headers.iter().any(|(name, _)| name == WWW_AUTHENTICATE)
    {
        return e;
    }
    [
        state.auth().challenge(false),
        state.auth().bearer_challenge(),
    ]
    .iter()
    .filter_map(|c| HeaderValue::from_str(c).ok())
    .fold(e, |e, v| e.header(WWW_AUTHENTICATE, v))
}

fn not_found(model: &crate::model::Model, path: &str, fmt: &Format<'_>) -> Response {
    if fmt.faults.has(Fault::PlainTextNotFound) {
        let mut r = Response::new(Body::from("Not Found"));
        *r.status_mut() = StatusCode::NOT_FOUND;
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        return r;
    }
    let mut e = ApiError::new(
        StatusCode::NOT_FOUND,
        model.code_for(Situation::UnknownPath),
        format!("Cannot find resource {}.", quote_input(path)),
    )
    .params(vec![json!(quote_input(path))]);
    // The row's level (x-unmatched) decides what a tolerated variant may change.
    let row = model
        .unmatched
        .iter()
        .find(|r| r.situation == Situation::UnknownPath);
    e.situation = Some(Situation::UnknownPath);
    e.level = row.map(|r| r.level);
    render::error(&e, fmt)
}

/// `POST {token_path}`: RFC 6749 answers, not the API's error shape.
async fn token(
    state: &ServerState,
    parts: &Parts,
    body: &mut Option<Body>,
    fmt: &Format<'_>,
) -> Response {
    if parts.method != Method::POST {
        let e = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            state.model().code_for(Situation::MethodNotAllowed),
            "The token endpoint only accepts POST.",
        )
        .header(ALLOW, HeaderValue::from_static("POST"));
        return render::error(&e, fmt);
    }
    let header = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let reply = match read_body(body.take(), BODY_LIMIT).await {
        Ok(bytes) => state
            .auth()
            .issue_token(header(AUTHORIZATION), header(CONTENT_TYPE), &bytes),
        Err(_) => super::auth::TokenReply {
            status: 400,
            body: json!({"error": "invalid_request"}),
            www_authenticate: None,
        },
    };
    let mut r = Response::new(Body::from(reply.body.to_string()));
    *r.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::BAD_REQUEST);
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&fmt.content_type(JSON)) {
        h.insert(CONTENT_TYPE, v);
    }
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    if let Some(v) = reply
        .www_authenticate
        .and_then(|v| HeaderValue::from_str(&v).ok())
    {
        h.insert(WWW_AUTHENTICATE, v);
    }
    r
}

enum BodyError {
    TooLarge,
    Io,
}

/// Reads a body of at most `limit` bytes. A larger body is drained (up to [`DRAIN_LIMIT`]) so
/// that the client sees the 413.
async fn read_body(body: Option<Body>, limit: usize) -> Result<Bytes, BodyError> {
    let Some(mut body) = body else {
        return Ok(Bytes::new());
    };
    let mut buf: Vec<u8> = Vec::new();
    loop {
        match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            None => return Ok(Bytes::from(buf)),
            Some(Err(_)) => return Err(BodyError::Io),
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                if buf.len() + data.len() > limit {
                    drain(body, DRAIN_LIMIT.saturating_sub(buf.len() + data.len())).await;
                    return Err(BodyError::TooLarge);
                }
                buf.extend_from_slice(&data);
            }
        }
    }
}

/// Reads and drops up to `limit` bytes of a body, for at most [`DRAIN_TIMEOUT`].
async fn drain(mut body: Body, limit: usize) {
    if body.is_end_stream() {
        return;
    }
    let work = async {
        let mut seen = 0usize;
        while let Some(Ok(frame)) =
            std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            if let Ok(data) = frame.into_data() {
                seen += data.len();
                if seen > limit {
                    break;
                }
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, work).await;
}

/// The preferred supported version in `Accept` (q-values honoured; ties go to the first
/// listed). Only the family's media types count: `*/*` or another date is no match.
fn negotiate<'f>(family: &'f Family, headers: &HeaderMap, ignore_q: bool) -> Option<&'f Version> {
    let mut best: Option<(f32, &Version)> = None;
    for value in headers.get_all(ACCEPT) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut pieces = item.split(';');
            let media = pieces.next().unwrap_or_default().trim();
            let mut q = 1.0f32;
            for param in pieces {
                if let Some((k, v)) = param.split_once('=') {
                    if k.trim().eq_ignore_ascii_case("q") {
                        // an unparseable q makes the item unusable
                        q = v
                            .trim()
                            .parse::<f32>()
                            .ok()
                            .filter(|q| (0.0..=1.0).contains(q))
                            .unwrap_or(-1.0);
                    }
                }
            }
            let Some(version) = family
                .versions
                .iter()
                .find(|v| v.media_type.eq_ignore_ascii_case(media))
            else {
                continue;
            };
            if ignore_q {
                return Some(version);
            }
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, version));
            }
        }
    }
    best.map(|(_, v)| v)
}

/// Whether the request's `Content-Type` is one the family reads bodies in: type and subtype
/// compare case-insensitively and parameters (`charset=UTF-8`) are ignored (contract section 9).
/// `exact` (a fault) compares the whole header value as written.
fn content_type_ok(family: &Family, headers: &HeaderMap, exact: bool) -> bool {
    let Some(ct) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let media = ct.split(';').next().unwrap_or_default().trim();
    family
        .versions
        .iter()
        .map(|v| &v.media_type)
        .chain(family.extra_request_content_types.iter())
        .any(|m| {
            if exact {
                m == ct
            } else {
                m.eq_ignore_ascii_case(media)
            }
        })
}

/// The schema of a type under a version; under the `v2023-fields-in-2025` fault, with the
/// fields the type has in any version of the family.
fn effective_type<'f>(
    family: &'f Family,
    version: &'f Version,
    name: &str,
    faults: FaultSet,
) -> Option<Cow<'f, IntegrationType>> {
    let t = version.integration_type(name)?;
    if !faults.has(Fault::V2023FieldsIn2025) {
        return Some(Cow::Borrowed(t));
    }
    let mut merged = t.clone();
    for other in family
        .versions
        .iter()
        .filter_map(|v| v.integration_type(name))
    {
        for f in &other.fields {
            if merged.field(&f.name).is_none() {
                merged.fields.push(f.clone());
            }
        }
    }
    Some(Cow::Owned(merged))
}

/// The origin of link hrefs under variant `link-host`: the service's public name rather than the
/// address the request reached.
const LINK_HOST_VARIANT: &str = "https://integrations.example.net";

/// A host for links: the request's `Host` (if it looks like one), else the listening address.
fn link_host(state: &ServerState, parts: &Parts) -> String {
    let plausible = |h: &str| {
        !h.is_empty()
            && h.len() <= 255
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b))
    };
    parts
        .headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| plausible(h))
        .map(str::to_owned)
        .or_else(|| {
            parts
                .uri
                .authority()
                .map(|a| a.as_str().to_owned())
                .filter(|h| plausible(h))
        })
        .or_else(|| state.local_addr().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests;
