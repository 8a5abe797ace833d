//! The embedded reference server over real HTTP (reqwest, digest through the crate's own
//! `Authenticator`, bearer through the OAuth token endpoint): every row of the contract, with
//! the field-level rows driven by the model (every family, version, type and field), and one
//! probe per fault showing that the fault changes behaviour.
//!
//! Every response of a server without faults is checked for the marker that every secret value
//! sent carries: no secret may come back as sent, in a body or a header.
//!
//! This module holds the client (`T`, `Req`, `Resp`, `Fam`) and the values drawn from the
//! model; each submodule holds the tests of one concern: `roundtrip` (round trips, redaction),
//! `validation` (field by field), `syntax` (body syntax, media types, size), `errors` (the
//! error catalogue and the check order), `lists`, `envelope`, `versions`, `state`, `auth`
//! (authentication, roles, projects), `routes`, `faults` (each one changes behaviour),
//! `section9` (the contract's section 9) and `tolerated` (each variant of section 10 does what
//! it says).

mod auth;
mod envelope;
mod errors;
mod faults;
mod faults_reach;
mod lists;
mod roundtrip;
mod routes;
mod section9;
mod state;
mod syntax;
mod tolerated;
mod validation;
mod versions;

use crate::fixture;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use integrations_conformance::auth::{AuthSpec, Authenticator, Signed};
use integrations_conformance::model::{
    Family, Field, FieldKind, IntegrationType, Model, OperationKind, ProjectKind, SecretKind,
    Situation, Version,
};
use integrations_conformance::server::{self, Fault, Integration, RunningServer, ServerConfig};
use reqwest::header::{HeaderMap, AUTHORIZATION};
use reqwest::Method;
use serde_json::{json, Map, Value};
use url::Url;

/// Every secret value the tests send contains this; no response may.
const MARK: &str = "S3CR3T";

// ---------------------------------------------------------------------------------------------
// harness
// ---------------------------------------------------------------------------------------------

#[derive(Clone)]
enum Who {
    Owner,
    ReadOnly,
    OAuth,
    Anonymous,
    Raw(String),
}

struct T {
    srv: RunningServer,
    http: reqwest::Client,
    /// The harness's own client, for the credentials' token requests.
    client: integrations_conformance::transport::Client,
    owner: Authenticator,
    ro: Authenticator,
    oauth: Authenticator,
}

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: HeaderMap,
    text: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }

    fn code(&self) -> String {
        self.json()["errorCode"].as_str().unwrap_or("").to_owned()
    }

    /// Status and error shape: the public API's keys, in order, with matching values.
    #[track_caller]
    fn error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.content_type(), "application/json", "{}", self.text);
        let body = self.json();
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["detail", "error", "errorCode", "parameters", "reason"],
            "{body}"
        );
        assert_eq!(body["error"], status, "{body}");
        assert_eq!(body["errorCode"], code, "{body}");
        let reason = reqwest::StatusCode::from_u16(status)
            .unwrap()
            .canonical_reason()
            .unwrap();
        assert_eq!(body["reason"], reason);
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }

    /// `results` of a list body.
    fn results(&self) -> Vec<Value> {
        self.json()["results"]
            .as_array()
            .unwrap_or_else(|| panic!("no results: {}", self.text))
            .clone()
    }

    fn result_types(&self) -> Vec<String> {
        self.results()
            .iter()
            .map(|r| r["type"].as_str().unwrap().to_owned())
            .collect()
    }

    fn rels(&self) -> Vec<String> {
        self.json()["links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["rel"].as_str().unwrap().to_owned())
            .collect()
    }

    fn link(&self, rel: &str) -> Option<Url> {
        self.json()["links"]
            .as_array()?
            .iter()
            .find(|l| l["rel"] == rel)
            .map(|l| Url::parse(l["href"].as_str().unwrap()).unwrap())
    }
}

fn query_of(u: &Url) -> Vec<(String, String)> {
    let mut q: Vec<(String, String)> = u.query_pairs().into_owned().collect();
    q.sort();
    q
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut q: Vec<(String, String)> = p
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    q.sort();
    q
}

struct Req<'a> {
    t: &'a T,
    who: Who,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl Req<'_> {
    fn who(mut self, who: Who) -> Self {
        self.who = who;
        self
    }

    fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
        self.headers.push((k.to_owned(), v.to_owned()));
        self
    }

    fn no_header(mut self, k: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
        self
    }

    fn body(mut self, b: impl Into<Vec<u8>>) -> Self {
        self.body = Some(b.into());
        self
    }

    fn json(self, v: &Value) -> Self {
        self.body(v.to_string())
    }

    async fn send(self) -> Resp {
        let t = self.t;
        let url = Url::parse(&format!("{}{}", t.srv.base_url, self.path)).unwrap();
        let uri = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let auth = match &self.who {
            Who::Owner => Some(&t.owner),
            Who::ReadOnly => Some(&t.ro),
            Who::OAuth => Some(&t.oauth),
            _ => None,
        };
        let mut signed = match auth {
            Some(a) => a.sign(&t.client, &self.method, &uri).await.unwrap(),
            None => Signed::default(),
        };
        for attempt in 0..2 {
            let mut rb = t.http.request(self.method.clone(), url.clone());
            for (k, v) in &self.headers {
                rb = rb.header(k, v);
            }
            match (&self.who, &signed.header) {
                (Who::Raw(h), _) => rb = rb.header(AUTHORIZATION, h),
                (_, Some(h)) => rb = rb.header(AUTHORIZATION, h.clone()),
                _ => {}
            }
            if let Some(b) = &self.body {
                rb = rb.body(b.clone());
            }
            let r = rb.send().await.unwrap();
            let status = r.status();
            let headers = r.headers().clone();
            let text = r.text().await.unwrap();
            let retry = auth.and_then(|a| Some((a, a.learn(&signed, status, &headers)?)));
            if let (0, Some((a, retry))) = (attempt, retry) {
                signed = a
                    .sign_retry(retry, &t.client, &self.method, &uri)
                    .await
                    .unwrap();
                continue;
            }
            if t.srv.state.faults().is_empty() {
                assert!(!text.contains(MARK), "a secret came back: {text}");
                for (name, value) in &headers {
                    let v = String::from_utf8_lossy(value.as_bytes());
                    assert!(!v.contains(MARK), "a secret in header {name}: {v}");
                }
                assert_ne!(status.as_u16(), 500, "{text}");
            }
            return Resp {
                status: status.as_u16(),
                headers,
                text,
            };
        }
        unreachable!()
    }
}

impl T {
    async fn new() -> T {
        Self::with(Vec::new()).await
    }

    async fn with(faults: Vec<Fault>) -> T {
        Self::with_config(ServerConfig {
            faults,
            ..ServerConfig::default()
        })
        .await
    }

    /// A server with a whole configuration (tolerated variants, say).
    async fn with_config(config: ServerConfig) -> T {
        let srv = fixture::server_with(config).await;
        let c = &srv.credentials;
        let owner = fixture::digest(&c.owner, &srv.base_url);
        let ro = fixture::digest(&c.read_only, &srv.base_url);
        let oauth = fixture::oauth(&c.oauth, &srv.base_url);
        T {
            srv,
            http: fixture::http(),
            client: fixture::target_client(),
            owner,
            ro,
            oauth,
        }
    }

    fn model(&self) -> &Model {
        self.srv.state.model()
    }

    fn family(&self, name: &str) -> &Family {
        self.model().family(name).unwrap()
    }

    fn req(&self, method: Method, path: &str) -> Req<'_> {
        Req {
            t: self,
            who: Who::Owner,
            method,
            path: path.to_owned(),
            headers: Vec::new(),
            body: None,
        }
    }

    fn group(&self, f: &Family) -> String {
        let c = &self.srv.credentials;
        match f.project_kind {
            ProjectKind::Atlas => c.atlas_group_id.clone(),
            ProjectKind::CloudManager => c.cm_group_id.clone(),
        }
    }

    /// A family version in its own project.
    fn on<'a>(&'a self, f: &'a Family, v: &'a Version) -> Fam<'a> {
        Fam {
            t: self,
            f,
            v,
            group: self.group(f),
        }
    }

    /// A family's first version.
    fn fam(&self, name: &str) -> Fam<'_> {
        let f = self.family(name);
        self.on(f, &f.versions[0])
    }

    /// Every (family, version).
    fn all(&self) -> Vec<Fam<'_>> {
        self.model()
            .families
            .iter()
            .flat_map(|f| f.versions.iter().map(move |v| self.on(f, v)))
            .collect()
    }

    fn stored(&self, group: &str) -> Vec<Integration> {
        self.srv.state.integrations(group)
    }
}

/// One family version, in its own project.
struct Fam<'a> {
    t: &'a T,
    f: &'a Family,
    v: &'a Version,
    group: String,
}

impl<'a> Fam<'a> {
    fn list_path(&self) -> String {
        format!("{}/groups/{}/integrations", self.f.base_path, self.group)
    }

    fn path(&self, ty: &str) -> String {
        format!("{}/{ty}", self.list_path())
    }

    /// A request with this version's Accept (and Content-Type when there is a body).
    fn req(&self, method: Method, path: &str) -> Req<'a> {
        let mut r = self
            .t
            .req(method.clone(), path)
            .header("accept", &self.v.media_type);
        if method == Method::POST || method == Method::PUT {
            r = r.header("content-type", &self.v.media_type);
        }
        r
    }

    fn label(&self) -> String {
        format!("{} {}", self.f.name, self.v.label())
    }

    async fn create(&self, ty: &str, body: &Value) -> Resp {
        self.req(Method::POST, &self.path(ty))
            .json(body)
            .send()
            .await
    }

    async fn update(&self, ty: &str, body: &Value) -> Resp {
        self.req(Method::PUT, &self.path(ty))
            .json(body)
            .send()
            .await
    }

    async fn get(&self, ty: &str) -> Resp {
        self.req(Method::GET, &self.path(ty)).send().await
    }

    async fn delete(&self, ty: &str) -> Resp {
        self.req(Method::DELETE, &self.path(ty)).send().await
    }

    async fn list(&self, query: &str) -> Resp {
        let p = if query.is_empty() {
            self.list_path()
        } else {
            format!("{}?{query}", self.list_path())
        };
        self.req(Method::GET, &p).send().await
    }

    /// Creates a valid integration of `t`; returns the body sent.
    async fn configure(&self, t: &IntegrationType) -> Value {
        let body = Value::Object(valid_body(t));
        let r = self.create(&t.name, &body).await;
        assert_eq!(r.status, 200, "{} {}: {}", self.label(), t.name, r.text);
        body
    }

    fn stored(&self) -> Vec<Integration> {
        self.t.stored(&self.group)
    }

    fn rule(&self, kind: OperationKind, s: Situation) -> (u16, String) {
        let r = self.f.operation(kind).error(s).unwrap();
        (r.status, r.error_code.clone().unwrap_or_default())
    }
}

// ---------------------------------------------------------------------------------------------
// values from the model
// ---------------------------------------------------------------------------------------------

fn secret_value(f: &Field) -> Value {
    match f.secret {
        Some(SecretKind::MaskUrl) => json!(format!(
            "https://hooks.example.com/{MARK}-{}-0123456789abcdef",
            f.name
        )),
        Some(_) => json!(format!("{MARK}-{}-0123456789", f.name)),
        None => unreachable!(),
    }
}

/// A valid value for a settable field.
fn value_for(f: &Field) -> Value {
    if f.secret.is_some() && f.kind == FieldKind::String {
        return secret_value(f);
    }
    if !f.enum_values.is_empty() {
        return match &f.example {
            Some(Value::String(e)) if f.enum_values.contains(e) => json!(e),
            _ => json!(f.enum_values[0]),
        };
    }
    if let Some(e) = &f.example {
        return e.clone();
    }
    match f.kind {
        FieldKind::String => json!(format!("value-of-{}", f.name)),
        FieldKind::Boolean => json!(!f.default.as_ref().and_then(Value::as_bool).unwrap_or(false)),
        FieldKind::Integer | FieldKind::Number => json!(1),
    }
}

/// Every settable field with a valid value, the discriminator, and nothing read-only.
fn valid_body(t: &IntegrationType) -> Map<String, Value> {
    let mut m = Map::new();
    for f in &t.fields {
        if f.discriminator {
            m.insert(f.name.clone(), json!(t.name));
        } else if f.settable() {
            m.insert(f.name.clone(), value_for(f));
        }
    }
    m
}

/// Only the required fields (and the discriminator).
fn minimal_body(t: &IntegrationType) -> Map<String, Value> {
    let mut m = valid_body(t);
    m.retain(|k, _| t.field(k).is_some_and(|f| f.discriminator || f.required));
    for rule in &t.conditional_required {
        if m.get(&rule.when_field) == Some(&rule.equals) {
            for name in &rule.then_required {
                if let Some(f) = t.field(name) {
                    m.insert(name.clone(), value_for(f));
                }
            }
        }
    }
    m
}

fn expect_last4(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n <= 4 {
        return "*".repeat(n);
    }
    format!(
        "{}{}",
        "*".repeat(n - 4),
        chars[n - 4..].iter().collect::<String>()
    )
}

/// The url-secret mask, as the harness expects it: one table (`tests/fixtures/masks.tsv`) pins
/// both this and the server's own implementation.
fn expect_url(s: &str) -> String {
    integrations_conformance::case::values::mask(SecretKind::MaskUrl, s).unwrap()
}

/// `shown` is how `t` must show what was `sent`: masked secrets, no write-only field, defaults
/// for what was not sent, the id in read-only fields, nothing else.
#[track_caller]
fn assert_view(t: &IntegrationType, sent: &Value, shown: &Value, what: &str) {
    let shown_obj = shown
        .as_object()
        .unwrap_or_else(|| panic!("{what}: not an object: {shown}"));
    for k in shown_obj.keys() {
        assert!(
            t.field(k).is_some(),
            "{what}: {} has no field {k}: {shown}",
            t.name
        );
    }
    for f in &t.fields {
        let got = shown.get(&f.name);
        let want: Option<Value> = if f.discriminator {
            Some(json!(t.name))
        } else if f.read_only {
            let id = got.and_then(Value::as_str).unwrap_or("");
            assert!(
                id.len() == 24
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
                "{what}: {}.{} = {got:?}",
                t.name,
                f.name
            );
            continue;
        } else {
            match (sent.get(&f.name).filter(|v| !v.is_null()), f.secret) {
                (Some(_), Some(SecretKind::WriteOnly)) => None,
                (Some(Value::String(s)), Some(SecretKind::MaskLast4)) => {
                    Some(json!(expect_last4(s)))
                }
                (Some(Value::String(s)), Some(SecretKind::MaskUrl)) => Some(json!(expect_url(s))),
                (Some(v), _) => Some(v.clone()),
                (None, _) => f.default.clone(),
            }
        };
        assert_eq!(got, want.as_ref(), "{what}: {}.{}: {shown}", t.name, f.name);
    }
}

fn find<'r>(results: &'r [Value], ty: &str) -> &'r Value {
    results
        .iter()
        .find(|r| r["type"] == ty)
        .unwrap_or_else(|| panic!("no {ty} in {results:?}"))
}

/// A type of `v` with a field matching `pred`, and that field.
fn type_with(v: &Version, pred: impl Fn(&Field) -> bool) -> Option<(&IntegrationType, &Field)> {
    v.types.iter().find_map(|t| {
        t.fields
            .iter()
            .find(|f| f.settable() && pred(f))
            .map(|f| (t, f))
    })
}

/// Finds a (type, field) in a family's first version.
fn pick(f: &Family, pred: impl Fn(&IntegrationType, &Field) -> bool) -> (&IntegrationType, &Field) {
    f.versions[0]
        .types
        .iter()
        .find_map(|t| {
            t.fields
                .iter()
                .find(|x| x.settable() && pred(t, x))
                .map(|x| (t, x))
        })
        .unwrap_or_else(|| panic!("no such field in {}", f.name))
}

/// `s` with one character changed so that `re` no longer matches, keeping its length.
fn break_pattern(re: &regex::Regex, s: &str) -> Option<String> {
    let chars: Vec<char> = s.chars().collect();
    for i in 0..chars.len() {
        for c in ['G', 'z', '!', ' ', '/', 'Z', '0'] {
            let mut v = chars.clone();
            v[i] = c;
            let v: String = v.into_iter().collect();
            if !re.is_match(&v) {
                return Some(v);
            }
        }
    }
    None
}
