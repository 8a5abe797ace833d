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
    ACCEPT, ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, EXPECT, HOST,
    PRAGMA, WWW_AUTHENTICATE,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use crate::model::{Family, IntegrationType, Operation, OperationKind, Situation, Version};

use super::error::{quote_input, ApiError};
use super::fault::{Fault, FaultSet};
use super::query::{self, Params, RawQuery};
use super::render::{self, Format, PageSpec, Payload, Reveal, JSON};
use super::store::{Integration, StateError};
use super::validate;
use super::variant::{Variant, VariantSet};
use super::{Role, ServerState};

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
    let response = handle(&state, &parts, &mut body).await;
    let response = transport_variants(response, state.variant_set()).await;
    // A client waiting for `100 Continue` has not sent the body and will not: leave it unread
    // (hyper then closes the connection) rather than invite it.
    let expects_continue = parts
        .headers
        .get(EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if let Some(body) = body.take().filter(|_| !expects_continue) {
        drain(body, DRAIN_LIMIT).await;
    }
    response
}

/// Variants `connection-close` and `chunked-bodies`: the same response, framed differently.
async fn transport_variants(response: Response, variants: VariantSet) -> Response {
    let mut response = response;
    if variants.has(Variant::ConnectionClose) {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            HeaderValue::from_static("close"),
        );
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
    let lenient = Params::lenient(&raw_query);
    let mut fmt = Format::new(
        lenient.pretty,
        lenient.envelope,
        faults,
        state.variant_set(),
    );
    let path = parts.uri.path();
    let model = state.model();

    if path == model.token_path {
        return token(state, parts, body, &fmt).await;
    }
    let Some(route) = route(&model.families, path) else {
        return not_found(path, &fmt);
    };
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
            return not_found(path, &fmt);
        }
        let allow: Vec<&str> = candidates.iter().map(|o| o.method.as_str()).collect();
        let allow = allow.join(", ");
        let e = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
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
    };
    match ctx.run(&mut fmt, body).await {
        Ok(r) => r,
        Err(e) => render::error(&e, &fmt),
    }
}

fn not_found(path: &str, fmt: &Format) -> Response {
    if fmt.faults.has(Fault::PlainTextNotFound) {
        let mut r = Response::new(Body::from("Not Found"));
        *r.status_mut() = StatusCode::NOT_FOUND;
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        return r;
    }
    let e = ApiError::new(
        StatusCode::NOT_FOUND,
        "RESOURCE_NOT_FOUND",
        format!("Cannot find resource {}.", quote_input(path)),
    )
    .params(vec![json!(quote_input(path))]);
    render::error(&e, fmt)
}

/// `POST {token_path}`: RFC 6749 answers, not the API's error shape.
async fn token(
    state: &ServerState,
    parts: &Parts,
    body: &mut Option<Body>,
    fmt: &Format,
) -> Response {
    if parts.method != Method::POST {
        let e = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
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

/// One request to one of the five operations.
struct Ctx<'a> {
    state: &'a ServerState,
    parts: &'a Parts,
    family: &'a Family,
    op: &'a Operation,
    group_id: &'a str,
    type_name: Option<&'a str>,
    raw_query: &'a RawQuery,
    faults: FaultSet,
}

impl Ctx<'_> {
    fn err(&self, situation: Situation, detail: impl Into<String>) -> ApiError {
        ApiError::of(Some(self.op), situation, detail)
    }

    fn unexpected(&self, why: &str) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNEXPECTED_ERROR",
            "Unexpected error.",
        )
        .internal(why.to_owned())
    }

    async fn run(
        &mut self,
        fmt: &mut Format,
        body: &mut Option<Body>,
    ) -> Result<Response, ApiError> {
        let faults = self.faults;
        let op = self.op;
        let family = self.family;

        // credentials
        let principal = self.authenticate()?;

        // Accept version
        let version = if family.versioned() {
            match negotiate(
                family,
                &self.parts.headers,
                faults.has(Fault::AcceptQValuesIgnored),
            ) {
                Some(v) => v,
                None if faults.has(Fault::AcceptHeaderIgnored) => family
                    .versions
                    .first()
                    .ok_or_else(|| self.unexpected("family without versions"))?,
                None => {
                    let offered: Vec<&str> = family
                        .versions
                        .iter()
                        .map(|v| v.media_type.as_str())
                        .collect();
                    return Err(self.err(
                        Situation::UnsupportedVersion,
                        format!(
                            "The Accept header names no supported API version; use one of {}.",
                            offered.join(", ")
                        ),
                    ));
                }
            }
        } else {
            family
                .versions
                .first()
                .ok_or_else(|| self.unexpected("family without versions"))?
        };
        fmt.versioned = family.versioned();
        fmt.media_type = version.media_type.clone();

        // groupId format, project existence, access, kind
        let gid = self.group_id;
        if !is_group_id(gid) {
            return Err(self
                .err(
                    Situation::InvalidGroupId,
                    format!(
                        "{} is not a valid group id: 24 lower-case hexadecimal digits.",
                        quote_input(gid)
                    ),
                )
                .params(vec![json!(quote_input(gid))]));
        }
        let Some(kind) = self.state.project_kind(gid) else {
            let situation = if faults.has(Fault::GroupNotFoundAsInvalidGroupId) {
                Situation::InvalidGroupId
            } else {
                Situation::GroupNotFound
            };
            return Err(self
                .err(situation, format!("No group with ID {gid} exists."))
                .params(vec![json!(gid)]));
        };
        let role = match &principal {
            Some(p) => self.state.role(p, gid),
            // fault get-without-credentials: an anonymous reader of the main projects
            None => (gid != self.state.credentials().other_group_id).then_some(Role::ReadOnly),
        };
        let role = match role {
            Some(r) => r,
            None if faults.has(Fault::OtherProjectReadable) && !op.kind.writes() => Role::ReadOnly,
            None => {
                let mut e = self
                    .err(
                        Situation::NoProjectAccess,
                        format!("Current user is not authorized to access group {gid}."),
                    )
                    .params(vec![json!(gid)]);
                if let Some(status) = self.state.variant_set().no_access_status(op.kind.writes()) {
                    e.status = StatusCode::from_u16(status).unwrap_or(e.status);
                }
                return Err(e);
            }
        };
        if kind != family.project_kind {
            return Err(self
                .err(
                    Situation::WrongProjectKind,
                    format!(
                        "Group {gid} cannot be reached through {}.",
                        family.base_path
                    ),
                )
                .params(vec![json!(gid)]));
        }

        // {integrationType}
        let itype = match self.type_name {
            Some(name) => Some(self.integration_type(version, name)?),
            None => None,
        };

        // role
        if op.kind.writes() && role == Role::ReadOnly && !faults.has(Fault::ReadOnlyCanWrite) {
            let mut e = self.err(
                Situation::ReadOnlyWrite,
                "Current user is not authorized to change this group's integrations.",
            );
            if self.state.variant_set().has(Variant::ReadOnly403) {
                e.status = StatusCode::FORBIDDEN;
            }
            return Err(e);
        }

        // query
        let strict = self.state.variant_set().has(Variant::StrictIntegerSyntax);
        let params = query::validate_with(op, self.raw_query, self.faults, strict)?;
        fmt.pretty = params.pretty;
        fmt.envelope = params.envelope;

        match (op.kind, itype) {
            (OperationKind::List, _) => {
                let page = self.page(version, &params, Reveal::default(), fmt);
                let empty = page
                    .get("results")
                    .and_then(Value::as_array)
                    .is_some_and(Vec::is_empty);
                if faults.has(Fault::PagePastEnd404) && empty && params.page_num.value > 1 {
                    return Err(ApiError::new(
                        StatusCode::NOT_FOUND,
                        "RESOURCE_NOT_FOUND",
                        "The requested page does not exist.",
                    ));
                }
                Ok(render::success(StatusCode::OK, Payload::List(page), fmt))
            }
            (OperationKind::Get, Some(t)) => {
                let Some(rec) = self.state.store().get(&self.store_key(), &t.name) else {
                    return Err(self.not_configured(&t.name));
                };
                let reveal = Reveal {
                    masked: faults.has(Fault::SecretInClearOnGet)
                        || (fmt.pretty && faults.has(Fault::PrettySkipsMasking)),
                    write_only: faults.has(Fault::WriteOnlyReturned),
                };
                let v = self.render(&t, &rec, reveal, fmt);
                Ok(render::success(StatusCode::OK, Payload::Single(v), fmt))
            }
            (OperationKind::Delete, Some(t)) => {
                match self.state.store().delete(
                    &self.store_key(),
                    &t.name,
                    faults.has(Fault::DeleteKeepsIntegration),
                ) {
                    Ok(()) => {}
                    Err(_) if faults.has(Fault::DeleteUnconfigured204) => {}
                    Err(_) => return Err(self.not_configured(&t.name)),
                }
                let status =
                    StatusCode::from_u16(op.success_status).unwrap_or(StatusCode::NO_CONTENT);
                Ok(render::success(status, Payload::Empty, fmt))
            }
            (OperationKind::Create | OperationKind::Update, Some(t)) => {
                self.write(&t, version, &params, fmt, body).await
            }
            _ => Err(self.unexpected("typed operation without a type")),
        }
    }

    /// The principal, or `None` for an anonymous reader (fault `get-without-credentials`).
    fn authenticate(&self) -> Result<Option<String>, ApiError> {
        let headers = &self.parts.headers;
        let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
        let uri = self
            .parts
            .uri
            .path_and_query()
            .map_or(self.parts.uri.path(), |p| p.as_str());
        match self
            .state
            .auth()
            .authenticate(self.parts.method.as_str(), uri, authorization)
        {
            Ok(p) => Ok(Some(p)),
            Err(_)
                if self.faults.has(Fault::GetWithoutCredentials)
                    && !headers.contains_key(AUTHORIZATION)
                    && !self.op.kind.writes() =>
            {
                Ok(None)
            }
            Err(failure) => {
                let stale = failure.stale && !self.faults.has(Fault::StaleFlagMissing);
                let mut e = self
                    .err(
                        Situation::Unauthenticated,
                        "You are not authorized for this resource: missing, wrong, expired or unknown credentials.",
                    )
                    .internal(failure.to_string());
                for challenge in [
                    self.state.auth().challenge(stale),
                    self.state.auth().bearer_challenge(),
                ] {
                    if let Ok(v) = HeaderValue::from_str(&challenge) {
                        e = e.header(WWW_AUTHENTICATE, v);
                    }
                }
                Err(e)
            }
        }
    }

    /// Resolves `{integrationType}`: unsupported types first (their own code), then the enum,
    /// then the version's schemas.
    fn integration_type<'f>(
        &self,
        version: &'f Version,
        name: &str,
    ) -> Result<Cow<'f, IntegrationType>, ApiError>
    where
        Self: 'f,
    {
        let family = self.family;
        let invalid = || {
            self.err(
                Situation::InvalidIntegrationType,
                format!(
                    "An invalid enumeration value {} was specified for integrationType; expected one of {}.",
                    quote_input(name),
                    family.path_types.join(", ")
                ),
            )
            .params(vec![json!("integrationType"), json!(quote_input(name))])
        };
        if family.unsupported_types.iter().any(|t| t == name) {
            if self.faults.has(Fault::UnsupportedTypeGenericCode) {
                return Err(invalid());
            }
            return Err(ApiError::unsupported_type(
                self.op,
                name,
                format!(
                    "Integration type {name} is not supported through {}.",
                    family.base_path
                ),
            )
            .params(vec![json!(name)]));
        }
        if !family.path_types.iter().any(|t| t == name) {
            return Err(invalid());
        }
        effective_type(family, version, name, self.faults).ok_or_else(invalid)
    }

    /// One integration as this family version shows it; under fault `assigned-id-in-v1`, with
    /// the server-assigned field another family has for the type, where this one has none.
    fn render(
        &self,
        t: &IntegrationType,
        rec: &Integration,
        reveal: Reveal,
        fmt: &Format,
    ) -> Value {
        let mut v = render::integration(t, rec, reveal, self.faults, fmt.variants);
        if self.faults.has(Fault::AssignedIdInV1) && t.fields.iter().all(|f| !f.read_only) {
            let assigned = self
                .state
                .model()
                .families
                .iter()
                .flat_map(|f| &f.versions)
                .filter_map(|v| v.integration_type(&t.name))
                .flat_map(|t| &t.fields)
                .find(|f| f.read_only);
            if let (Some(f), Some(map)) = (assigned, v.as_object_mut()) {
                map.insert(f.name.clone(), json!(rec.id));
            }
        }
        v
    }

    /// Where this request's project keeps its integrations: the project, or (variant
    /// `separate-atlas-stores`) the project as this family sees it.
    fn store_key(&self) -> String {
        self.state.store_key(self.group_id, &self.family.name)
    }

    fn not_configured(&self, type_name: &str) -> ApiError {
        self.err(
            Situation::NotConfigured,
            format!(
                "No integration of type {type_name} is configured in group {}.",
                self.group_id
            ),
        )
        .params(vec![json!(type_name), json!(self.group_id)])
    }

    /// The page of the project's integrations that this family version shows.
    fn page(
        &self,
        version: &Version,
        params: &Params,
        reveal: Reveal,
        fmt: &Format,
    ) -> serde_json::Map<String, Value> {
        let all = self.state.store().all(&self.store_key());
        self.page_of(all, version, params, reveal, fmt)
    }

    fn page_of(
        &self,
        all: Vec<Integration>,
        version: &Version,
        params: &Params,
        mut reveal: Reveal,
        fmt: &Format,
    ) -> serde_json::Map<String, Value> {
        let faults = self.faults;
        let family = self.family;
        reveal.masked |= faults.has(Fault::SecretInClearInList)
            || (fmt.pretty && faults.has(Fault::PrettySkipsMasking));
        reveal.write_only |= faults.has(Fault::WriteOnlyReturned);
        let mut shown: Vec<(Cow<'_, IntegrationType>, Integration)> = all
            .into_iter()
            .filter_map(|rec| {
                effective_type(family, version, &rec.type_name, faults).map(|t| (t, rec))
            })
            .collect();
        if faults.has(Fault::ListOrderAlphabetical) {
            shown.sort_by(|a, b| a.1.type_name.cmp(&b.1.type_name));
        } else {
            shown.sort_by_key(|(_, rec)| family.order_of(&rec.type_name));
        }
        let items: Vec<Value> = shown
            .iter()
            .map(|(t, rec)| self.render(t, rec, reveal, fmt))
            .collect();
        let items_per_page = if faults.has(Fault::ItemsPerPageIgnored) {
            query::default_items_per_page(self.op)
        } else {
            params.items_per_page
        };
        // The family's links carry these parameters with their effective values.
        let mut link_query: Vec<(String, Option<String>)> = family
            .link_query
            .iter()
            .filter_map(|name| {
                let value = match name.as_str() {
                    query::PAGE_NUM => None,
                    query::ITEMS_PER_PAGE => Some(items_per_page.to_string()),
                    query::INCLUDE_COUNT => Some(
                        params
                            .include_count
                            .or_else(|| self.op.query_param(name).and_then(|p| p.default.as_bool()))
                            .unwrap_or(true)
                            .to_string(),
                    ),
                    query::PRETTY => Some(params.pretty.to_string()),
                    query::ENVELOPE => Some(params.envelope.to_string()),
                    _ => return None,
                };
                Some((name.clone(), value))
            })
            .collect();
        let variants = fmt.variants;
        if variants.has(Variant::LinkQueryOrder) {
            link_query.reverse();
        }
        let origin = if variants.has(Variant::LinkHost) {
            LINK_HOST_VARIANT.to_owned()
        } else {
            format!("http://{}", link_host(self.state, self.parts))
        };
        let spec = PageSpec {
            href_base: format!("{origin}{}", self.parts.uri.path()),
            page_num: params.page_num.clone(),
            items_per_page,
            include_count: !(family.include_count_honoured && params.include_count == Some(false)),
            link_query,
        };
        render::page(items, &spec, faults)
    }

    /// create and update: Content-Type, body, validation, then state.
    async fn write(
        &self,
        t: &IntegrationType,
        version: &Version,
        params: &Params,
        fmt: &Format,
        body: &mut Option<Body>,
    ) -> Result<Response, ApiError> {
        let faults = self.faults;
        let op = self.op;
        let gid = self.group_id;

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
        let fields = match validate::body(t, &value, self.state.patterns(), faults) {
            Ok(f) => f,
            Err(r) => {
                if faults.has(Fault::FailedUpdatePartiallyApplied)
                    && op.kind == OperationKind::Update
                {
                    let partial = validate::partial(t, &value, r.field.as_deref());
                    self.state
                        .store()
                        .patch(&self.store_key(), &t.name, partial);
                }
                let situation = if faults.has(Fault::WrongErrorCodeMissingAttribute)
                    && r.situation == Situation::RequiredMissing
                {
                    Situation::UnknownAttribute
                } else {
                    r.situation
                };
                let mut detail = r.detail.clone();
                if faults.has(Fault::SecretEchoedInError) {
                    detail.push_str(&format!(" Request body: {value}"));
                }
                let mut e = self.err(situation, detail);
                if let Some(f) = &r.field {
                    e = e.field(f);
                }
                if let Some(v) = &r.value {
                    e.parameters.push(json!(v));
                }
                return Err(e);
            }
        };

        let store = self.state.store();
        let result = if op.kind == OperationKind::Create && faults.has(Fault::CreateRace) {
            // The race the faithful store rules out: check, let other requests run, then write.
            if store.get(gid, &t.name).is_some() {
                Err(StateError::AlreadyConfigured)
            } else {
                tokio::time::sleep(CREATE_RACE_PAUSE).await;
                store.create(gid, &t.name, fields, true)
            }
        } else if op.kind == OperationKind::Create {
            store.create(
                &self.store_key(),
                &t.name,
                fields,
                faults.has(Fault::DuplicateCreateOverwrites),
            )
        } else {
            let Some(mut rule) = op.update else {
                return Err(self.unexpected("update operation without an update rule"));
            };
            rule.merge ^= faults.has(Fault::UpdateMergeSemanticsSwapped);
            rule.upsert |= faults.has(Fault::V2UpdateUpserts);
            let mut fields = fields;
            if faults.has(Fault::UpdateKeepsUrls) {
                // Fault: URL fields are taken as fixed once configured.
                if let Some(old) = store.get(&self.store_key(), &t.name) {
                    for f in t
                        .fields
                        .iter()
                        .filter(|f| f.format.as_deref() == Some("uri"))
                    {
                        if let Some(v) = old.fields.get(&f.name) {
                            fields.insert(f.name.clone(), v.clone());
                        }
                    }
                }
            }
            if faults.has(Fault::UpdateNotAtomic) {
                store
                    .update_piecemeal(&self.store_key(), &t.name, fields, rule, PIECEMEAL_PAUSE)
                    .await
            } else {
                store.update(
                    &self.store_key(),
                    &t.name,
                    fields,
                    rule,
                    faults.has(Fault::IdChangesOnUpdate),
                )
            }
        };
        let all = match result {
            Ok(all) => all,
            Err(StateError::AlreadyConfigured) => {
                return Err(self
                    .err(
                        Situation::AlreadyConfigured,
                        format!(
                            "An integration of type {} is already configured in group {gid}.",
                            t.name
                        ),
                    )
                    .params(vec![json!(t.name), json!(gid)]))
            }
            Err(StateError::NotConfigured) => return Err(self.not_configured(&t.name)),
        };
        let status = if op.kind == OperationKind::Create && faults.has(Fault::CreateReturns201) {
            StatusCode::CREATED
        } else {
            StatusCode::from_u16(op.success_status).unwrap_or(StatusCode::OK)
        };
        let page = self.page_of(all, version, params, Reveal::default(), fmt);
        Ok(render::success(status, Payload::List(page), fmt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_ids() {
        assert!(is_group_id("5d791c84ff7a2522cc4f9aa1"));
        assert!(!is_group_id("5D791C84FF7A2522CC4F9AA1"));
        assert!(!is_group_id("5d791c84ff7a2522cc4f9aa"));
        assert!(!is_group_id("5d791c84ff7a2522cc4f9aa1a"));
        assert!(!is_group_id("zd791c84ff7a2522cc4f9aa1"));
    }

    #[test]
    fn segments_decode() {
        assert_eq!(decode_segment("%53LACK"), "SLACK");
        assert_eq!(decode_segment("a%2"), "a%2");
        assert_eq!(decode_segment("%"), "%");
        assert_eq!(decode_segment("%zz"), "%zz");
        assert_eq!(decode_segment("%ff"), "\u{fffd}");
    }

    #[test]
    fn routes_match_families() {
        let m = crate::model::bundled().unwrap();
        let r = route(&m.families, "/api/atlas/v2/groups/abc/integrations/SLACK").unwrap();
        assert_eq!(r.family.name, "atlas-v2");
        assert_eq!(
            (r.group_id.as_str(), r.type_name.as_deref()),
            ("abc", Some("SLACK"))
        );
        let r = route(&m.families, "/api/public/v1.0/groups/abc/integrations").unwrap();
        assert_eq!(r.family.name, "cloud-manager");
        assert!(r.type_name.is_none());
        for p in [
            "/api/atlas/v2/groups/abc/integrations/",
            "/api/atlas/v2/groups//integrations",
            "/api/atlas/v2/groups/abc/integrations/SLACK/x",
            "/api/atlas/v2/groups/abc",
            "/api/atlas/v3/groups/abc/integrations",
            "/",
        ] {
            assert!(route(&m.families, p).is_none(), "{p}");
        }
    }
}
