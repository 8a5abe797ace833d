//! Response rendering (contract sections 3, 4 and 6): one integration as a family version's
//! schema shows it (defaults filled in, secrets masked, write-only fields left out), list pages
//! with `links` and `totalCount`, the `envelope` and `pretty` formats, and the media types.

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use crate::model::{IntegrationType, Wire};

use super::error::ApiError;
use super::fault::{Fault, FaultSet};
use super::mask;
use super::query::BigCount;
use super::store::Integration;
use super::variant::{Variant, VariantSet};

/// The media type of errors and of unversioned families.
pub(crate) const JSON: &str = "application/json";

/// How the response of one request is formatted.
#[derive(Debug, Clone)]
pub(crate) struct Format<'w> {
    /// The API's names (the envelope's wrapper, the error body's fields).
    pub(crate) wire: &'w Wire,
    pub(crate) pretty: bool,
    pub(crate) envelope: bool,
    /// The Content-Type of successes (the negotiated version's media type).
    pub(crate) media_type: String,
    /// Whether the family negotiates dated media types (204s then carry one too).
    pub(crate) versioned: bool,
    pub(crate) faults: FaultSet,
    pub(crate) variants: VariantSet,
}

impl<'w> Format<'w> {
    pub(crate) fn new(
        wire: &'w Wire,
        pretty: bool,
        envelope: bool,
        faults: FaultSet,
        variants: VariantSet,
    ) -> Self {
        Format {
            wire,
            pretty,
            envelope,
            media_type: JSON.to_owned(),
            versioned: false,
            faults,
            variants,
        }
    }

    /// A JSON media type as this server writes it (variant `charset-utf-8`: with the parameter).
    pub(crate) fn content_type(&self, media: &str) -> String {
        if self.variants.has(Variant::CharsetUtf8) {
            format!("{media};charset=utf-8")
        } else {
            media.to_owned()
        }
    }

    fn pretty(&self) -> bool {
        self.pretty && !self.faults.has(Fault::PrettyIgnored)
    }

    fn envelope(&self) -> bool {
        self.envelope && !self.faults.has(Fault::EnvelopeIgnored)
    }
}

/// A body's JSON text: compact, or indented under `pretty`; the variants that change how an
/// answer is written (`extra-fields-everywhere`, `json-escapes`) apply here, to every API answer.
fn text(v: &Value, pretty: bool, variants: VariantSet) -> String {
    let decorated;
    let v = if variants.has(Variant::ExtraFieldsEverywhere) {
        let mut d = v.clone();
        add_trace_fields(&mut d);
        decorated = d;
        &decorated
    } else {
        v
    };
    if !variants.has(Variant::JsonEscapes) {
        return serialise(v, pretty, variants);
    }
    escape_all(&serialise(&keys_reversed(v), pretty, variants))
}

fn serialise(v: &Value, pretty: bool, variants: VariantSet) -> String {
    use serde::Serialize as _;
    if !pretty {
        // Serialising a Value cannot fail (its map keys are strings).
        return serde_json::to_string(v).unwrap_or_default();
    }
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(variants.indent());
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    if v.serialize(&mut ser).is_err() {
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default()
}

/// What variant `extra-fields-everywhere` adds: `traceId` to every object, `requestId` to the
/// outermost one (one random value of each per answer).
const TRACE_ID: &str = "traceId";
const REQUEST_ID: &str = "requestId";

fn add_trace_fields(v: &mut Value) {
    fn walk(v: &mut Value, trace: &Value) {
        match v {
            Value::Object(m) => {
                m.values_mut().for_each(|c| walk(c, trace));
                m.insert(TRACE_ID.to_owned(), trace.clone());
            }
            Value::Array(a) => a.iter_mut().for_each(|c| walk(c, trace)),
            _ => {}
        }
    }
    walk(v, &json!(super::random_hex(16)));
    if let Value::Object(m) = v {
        m.insert(REQUEST_ID.to_owned(), json!(super::random_hex(12)));
    }
}

/// `v` with every object's keys in reverse order (variant `json-escapes`).
fn keys_reversed(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .rev()
                .map(|(k, v)| (k.clone(), keys_reversed(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(keys_reversed).collect()),
        other => other.clone(),
    }
}

/// serde_json's text with every `/` written `\/` and every non-ASCII character `\uXXXX` (UTF-16,
/// surrogate pairs beyond the BMP). Outside strings its text holds neither, and inside one
/// neither is part of an escape it wrote, so each can be replaced wherever it stands.
fn escape_all(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        if c == '/' {
            out.push_str("\\/");
        } else if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

fn response(status: StatusCode, content_type: Option<&str>, body: Body) -> Response {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    if let Some(ct) = content_type.and_then(|c| HeaderValue::from_str(c).ok()) {
        r.headers_mut().insert(CONTENT_TYPE, ct);
    }
    r
}

/// The body of a success.
#[derive(Debug, Clone)]
pub(crate) enum Payload {
    /// A 204.
    Empty,
    /// One integration.
    Single(Value),
    /// A list page (`links`, `results`, `totalCount`).
    List(Map<String, Value>),
}

/// A success.
pub(crate) fn success(status: StatusCode, payload: Payload, fmt: &Format<'_>) -> Response {
    let media = if fmt.faults.has(Fault::ResponseMediaTypePlainJson) {
        JSON
    } else {
        fmt.media_type.as_str()
    };
    let media = fmt.content_type(media);
    let media = media.as_str();
    let code = json!(envelope_status(status, fmt));
    let body = match payload {
        Payload::Empty => {
            let ct = fmt.versioned.then_some(media);
            return response(status, ct, Body::empty());
        }
        Payload::Single(v) if fmt.envelope() => wrapped(fmt.wire, code, v),
        Payload::Single(v) => v,
        Payload::List(mut m) => {
            if fmt.envelope() {
                m.insert(fmt.wire.envelope.status.clone(), code);
            }
            Value::Object(m)
        }
    };
    response(
        status,
        Some(media),
        Body::from(text(&body, fmt.pretty(), fmt.variants)),
    )
}

/// A body wrapped under `envelope=true`: the status, then the body as its content.
fn wrapped(wire: &Wire, status: Value, content: Value) -> Value {
    let mut m = Map::new();
    m.insert(wire.envelope.status.clone(), status);
    m.insert(wire.envelope.content.clone(), content);
    Value::Object(m)
}

/// A link object of a list body.
pub(crate) fn link(wire: &Wire, rel: &str, href: String) -> Value {
    let mut m = Map::new();
    m.insert(wire.link.href.clone(), Value::String(href));
    m.insert(wire.link.rel.clone(), Value::String(rel.to_owned()));
    Value::Object(m)
}

fn envelope_status(status: StatusCode, fmt: &Format<'_>) -> u16 {
    if fmt.faults.has(Fault::EnvelopeStatusAlways200) {
        200
    } else {
        status.as_u16()
    }
}

/// An error, in the error shape (wrapped when `envelope=true`), always `application/json`.
pub(crate) fn error(e: &ApiError, fmt: &Format<'_>) -> Response {
    let faults = fmt.faults;
    let e = &e.clone().with_variants(fmt.variants);
    let names = &fmt.wire.error;
    let mut body = e.body(names, !faults.has(Fault::ErrorReasonMissing), fmt.variants);
    if faults.has(Fault::ErrorReasonOfAnotherStatus) && body.get(&names.reason).is_some() {
        body[&names.reason] = json!("Bad Request");
    }
    let mut status = e.status;
    if fmt.variants.has(Variant::Empty401Body)
        && e.situation == Some(crate::model::Situation::Unauthenticated)
    {
        let mut r = response(status, None, Body::empty());
        for (name, value) in &e.headers {
            r.headers_mut().append(name.clone(), value.clone());
        }
        return r;
    }
    // Fault: errors raised before the operation's own checks (project, Accept, path) skip the
    // envelope.
    let early = matches!(
        e.situation,
        Some(
            crate::model::Situation::InvalidGroupId
                | crate::model::Situation::GroupNotFound
                | crate::model::Situation::WrongProjectKind
                | crate::model::Situation::UnsupportedVersion
                | crate::model::Situation::UnknownPath
                | crate::model::Situation::MethodNotAllowed
        )
    );
    let skip = early && faults.has(Fault::EnvelopeSkippedOnEarlyErrors);
    if fmt.envelope() && !faults.has(Fault::EnvelopeMissingOnErrors) && !skip {
        body = wrapped(fmt.wire, json!(envelope_status(e.status, fmt)), body);
        if faults.has(Fault::EnvelopeHttp200) {
            status = StatusCode::OK;
        }
    }
    let media = if faults.has(Fault::ErrorMediaTypeVersioned) && fmt.versioned {
        fmt.media_type.as_str()
    } else {
        JSON
    };
    let media = fmt.content_type(media);
    let mut r = response(
        status,
        Some(&media),
        Body::from(text(&body, fmt.pretty(), fmt.variants)),
    );
    for (name, value) in &e.headers {
        r.headers_mut().append(name.clone(), value.clone());
    }
    r
}

/// How much of a secret a view shows (faults only; the contract shows none).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Reveal {
    /// Masked kinds (mask-last4, mask-url) in clear.
    pub(crate) masked: bool,
    /// Write-only fields returned.
    pub(crate) write_only: bool,
}

/// What variant `extra-fields` adds to every returned integration.
const EXTRA_FIELDS: &[(&str, &str)] = &[
    ("createdDate", "2026-11-29T00:00:00Z"),
    ("lastUpdatedDate", "2026-11-29T00:00:00Z"),
];

/// One integration as `t` (a family version's schema) shows it: the discriminator, the
/// server-assigned id in read-only fields, each stored field the schema has, else its default.
pub(crate) fn integration(
    t: &IntegrationType,
    rec: &Integration,
    reveal: Reveal,
    faults: FaultSet,
    variants: VariantSet,
) -> Value {
    let mut out = Map::new();
    if variants.has(Variant::ExtraFields) {
        // Fields the contract does not list, as a newer API version might add them.
        for (k, v) in EXTRA_FIELDS {
            out.insert((*k).to_owned(), json!(v));
        }
    }
    for f in &t.fields {
        let value = if f.discriminator {
            json!(rec.type_name)
        } else if f.read_only {
            json!(rec.id)
        } else if let Some(v) = rec.fields.get(&f.name) {
            match (f.secret, v) {
                (None, v) => v.clone(),
                (Some(crate::model::SecretKind::WriteOnly), v) => {
                    if !reveal.write_only {
                        continue;
                    }
                    v.clone()
                }
                (Some(_), v) if reveal.masked => v.clone(),
                (Some(kind), Value::String(s)) => match mask::mask(kind, s, faults) {
                    Some(m) if variants.has(Variant::UrlMaskNormalised) => {
                        json!(mask::lower_prefix(&m))
                    }
                    Some(m) => json!(m),
                    None => continue,
                },
                // a secret stored with another JSON type (a fault let it in): never echo it
                (Some(_), _) => json!("****"),
            }
        } else if let Some(d) = f
            .default
            .as_ref()
            .filter(|_| !faults.has(Fault::DefaultsNotReturned))
        {
            d.clone()
        } else if variants.has(Variant::NullOptionalFields)
            && !f.required
            && f.secret != Some(crate::model::SecretKind::WriteOnly)
        {
            // An optional field without a value, shown as null rather than left out.
            Value::Null
        } else {
            continue;
        };
        out.insert(f.name.clone(), value);
    }
    Value::Object(out)
}

/// What a list page needs besides its items.
#[derive(Debug, Clone)]
pub(crate) struct PageSpec {
    /// `scheme://host` + the request path.
    pub(crate) href_base: String,
    pub(crate) page_num: BigCount,
    pub(crate) items_per_page: u64,
    /// Whether `totalCount` is returned.
    pub(crate) include_count: bool,
    /// The query of every link, in order; `None` marks `pageNum`, which differs per link.
    pub(crate) link_query: Vec<(String, Option<String>)>,
}

impl PageSpec {
    pub(crate) fn href(&self, page: &BigCount) -> String {
        let query: Vec<String> = self
            .link_query
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or(&page.digits)))
            .collect();
        if query.is_empty() {
            self.href_base.clone()
        } else {
            format!("{}?{}", self.href_base, query.join("&"))
        }
    }
}

/// The page of `all` (already rendered, in list order) that `spec` selects.
pub(crate) fn page(
    all: Vec<Value>,
    spec: &PageSpec,
    faults: FaultSet,
    wire: &Wire,
) -> Map<String, Value> {
    let total = all.len() as u64;
    let page = spec.page_num.value;
    let per = spec.items_per_page.max(1);
    let index = if faults.has(Fault::PageNumZeroBased) {
        page
    } else {
        page.saturating_sub(1)
    };
    let start = index.saturating_mul(per);
    let end = start.saturating_add(per);
    let results: Vec<Value> = all
        .into_iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(usize::try_from(per).unwrap_or(usize::MAX))
        .collect();
    let names = &wire.link;
    let link = |rel: &str, n: &BigCount| link(wire, rel, spec.href(n));
    let mut links = vec![link(&names.this_page, &spec.page_num)];
    if page > 1 || faults.has(Fault::PreviousOnFirstPage) {
        links.push(link(&names.previous, &spec.page_num.pred()));
    }
    if end < total && !faults.has(Fault::MissingNextLink) {
        let next = BigCount::from_u64(page.saturating_add(1));
        links.push(link(&names.next, &next));
    }
    let count = if faults.has(Fault::TotalCountCountsPage) {
        results.len() as u64
    } else {
        total
    };
    let mut body = Map::new();
    body.insert(wire.list.links.clone(), Value::Array(links));
    body.insert(wire.list.results.clone(), Value::Array(results));
    if spec.include_count || faults.has(Fault::IncludeCountIgnored) {
        body.insert(wire.list.total_count.clone(), json!(count));
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(page: u64, per: u64) -> PageSpec {
        PageSpec {
            href_base: "http://h/p".into(),
            page_num: BigCount::from_u64(page),
            items_per_page: per,
            include_count: true,
            link_query: vec![
                ("pageNum".into(), None),
                ("itemsPerPage".into(), Some(per.to_string())),
                ("includeCount".into(), Some("true".into())),
            ],
        }
    }

    fn rels(v: &Map<String, Value>) -> Vec<String> {
        v["links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["rel"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn json_escapes_keep_the_value() {
        let v = json!({"a": "x/y", "b": ["é", {"d": "𝄞", "c": 1}], "e": null});
        let text = escape_all(&serialise(&keys_reversed(&v), false, VariantSet::default()));
        assert_eq!(
            text,
            r#"{"e":null,"b":["\u00e9",{"c":1,"d":"\ud834\udd1e"}],"a":"x\/y"}"#
        );
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
        // a backslash before a slash stays a backslash
        let v = json!("a\\/b");
        let text = escape_all(&serde_json::to_string(&v).unwrap());
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
        // pretty stays pretty
        let all = VariantSet::new(&[Variant::JsonEscapes]);
        let text = super::text(&json!({"a": [1], "b": "/"}), true, all);
        assert_eq!(text, "{\n  \"b\": \"\\/\",\n  \"a\": [\n    1\n  ]\n}");
    }

    #[test]
    fn trace_fields_reach_every_object() {
        let mut v = json!({"links": [{"rel": "self"}], "results": [{"type": "X"}], "n": [[{}]]});
        add_trace_fields(&mut v);
        let trace = v["traceId"].clone();
        assert_eq!(trace.as_str().map(str::len), Some(32));
        assert_eq!(v["requestId"].as_str().map(str::len), Some(24));
        assert_eq!(v["links"][0]["traceId"], trace);
        assert_eq!(v["results"][0]["traceId"], trace);
        assert_eq!(v["n"][0][0]["traceId"], trace);
        assert!(v["links"][0].get("requestId").is_none());
        // scalars and arrays at the top are left as they are
        let mut s = json!([1, "x"]);
        add_trace_fields(&mut s);
        assert_eq!(s, json!([1, "x"]));
    }

    #[test]
    fn optional_fields_without_a_value_may_be_null() {
        let m = crate::model::bundled().unwrap();
        let t = m.family("cloud-manager").unwrap().versions[0]
            .integration_type("PROMETHEUS")
            .unwrap();
        let rec = Integration {
            type_name: t.name.clone(),
            id: "0".repeat(24),
            fields: Map::new(),
        };
        let show = |variants: &[Variant]| {
            integration(
                t,
                &rec,
                Reveal::default(),
                FaultSet::default(),
                VariantSet::new(variants),
            )
        };
        let plain = show(&[]);
        let nulls = show(&[Variant::NullOptionalFields]);
        for f in &t.fields {
            let (p, n) = (plain.get(&f.name), nulls.get(&f.name));
            match (&f.default, f.secret) {
                (_, Some(crate::model::SecretKind::WriteOnly)) => assert_eq!((p, n), (None, None)),
                (Some(d), _) => assert_eq!((p, n), (Some(d), Some(d))),
                _ if f.discriminator || f.read_only => assert_eq!(p, n),
                _ if f.required => assert_eq!((p, n), (None, None)),
                _ => assert_eq!((p, n), (None, Some(&Value::Null)), "{}", f.name),
            }
        }
        let null_count = nulls.as_object().unwrap().values().filter(|v| v.is_null());
        assert_eq!(null_count.count(), 2, "{nulls}");
    }

    #[test]
    fn pages_and_links() {
        let items: Vec<Value> = (0..5).map(|i| json!(i)).collect();
        let none = FaultSet::default();
        let m = crate::model::bundled().unwrap();
        let page = |items, spec: &PageSpec, faults| page(items, spec, faults, &m.wire);
        let p = page(items.clone(), &spec(1, 2), none);
        assert_eq!(p["results"], json!([0, 1]));
        assert_eq!(p["totalCount"], 5);
        assert_eq!(rels(&p), ["self", "next"]);
        assert_eq!(
            p["links"][1]["href"],
            "http://h/p?pageNum=2&itemsPerPage=2&includeCount=true"
        );
        let p = page(items.clone(), &spec(3, 2), none);
        assert_eq!(p["results"], json!([4]));
        assert_eq!(rels(&p), ["self", "previous"]);
        let p = page(items.clone(), &spec(9, 2), none);
        assert_eq!(p["results"], json!([]));
        assert_eq!(rels(&p), ["self", "previous"]);
        let p = page(items.clone(), &spec(u64::MAX, 500), none);
        assert_eq!(p["results"], json!([]));
        let mut s = spec(1, 5);
        s.include_count = false;
        let p = page(items, &s, none);
        assert!(p.get("totalCount").is_none());
        assert_eq!(rels(&p), ["self"]);
    }
}
