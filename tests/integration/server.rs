//! The embedded reference server over real HTTP (reqwest, digest through the crate's own
//! `Authenticator`, bearer through the OAuth token endpoint): every row of the contract, with
//! the field-level rows driven by the model (every family, version, type and field), and one
//! probe per fault showing that the fault changes behaviour.
//!
//! Every response of a server without faults is checked for the marker that every secret value
//! sent carries: no secret may come back as sent, in a body or a header.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use integrations_conformance::auth::{AuthSpec, Authenticator};
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
    client: integrations_conformance::target::Client,
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
        for attempt in 0..2 {
            let mut rb = t.http.request(self.method.clone(), url.clone());
            for (k, v) in &self.headers {
                rb = rb.header(k, v);
            }
            match (&self.who, auth) {
                (Who::Raw(h), _) => rb = rb.header(AUTHORIZATION, h),
                (_, Some(a)) => {
                    if let Some(h) = a.header(&t.client, &self.method, &uri).await.unwrap() {
                        rb = rb.header(AUTHORIZATION, h);
                    }
                }
                _ => {}
            }
            if let Some(b) = &self.body {
                rb = rb.body(b.clone());
            }
            let r = rb.send().await.unwrap();
            let status = r.status();
            let headers = r.headers().clone();
            let text = r.text().await.unwrap();
            if attempt == 0 && auth.is_some_and(|a| a.learn(status, &headers)) {
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
        let srv = server::spawn(ServerConfig {
            faults,
            ..Default::default()
        })
        .await
        .unwrap();
        let base = Url::parse(&srv.base_url).unwrap();
        let c = &srv.credentials;
        let digest = |k: &server::ApiKey| {
            Authenticator::new(
                AuthSpec::Digest {
                    public: k.public.clone(),
                    private: k.private.clone(),
                },
                base.clone(),
            )
        };
        let owner = digest(&c.owner);
        let ro = digest(&c.read_only);
        let oauth = Authenticator::new(
            AuthSpec::OAuth {
                client_id: c.oauth.client_id.clone(),
                client_secret: c.oauth.client_secret.clone(),
            },
            base,
        );
        T {
            srv,
            http: reqwest::Client::new(),
            client: integrations_conformance::target::Client::new(&Default::default())
                .expect("client"),
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

// ---------------------------------------------------------------------------------------------
// round trips and redaction
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_type_round_trips_with_secrets_masked_in_every_view() {
    let t = T::new().await;
    for fam in t.all() {
        for ty in &fam.v.types {
            t.srv.state.reset();
            let what = |view: &str| format!("{} {} {view}", fam.label(), ty.name);
            let sent = Value::Object(valid_body(ty));
            let r = fam.create(&ty.name, &sent).await;
            assert_eq!(r.status, 200, "{}: {}", what("create"), r.text);
            assert_eq!(r.content_type(), fam.v.media_type);
            assert!(!r.text.contains('\n'), "compact by default");
            assert_view(ty, &sent, find(&r.results(), &ty.name), &what("create"));
            let id = find(&r.results(), &ty.name).get("id").cloned();

            let r = fam.get(&ty.name).await;
            assert_eq!(r.status, 200, "{}", r.text);
            assert_eq!(r.content_type(), fam.v.media_type);
            assert_view(ty, &sent, &r.json(), &what("get"));

            let r = fam
                .req(Method::GET, &format!("{}?pretty=true", fam.path(&ty.name)))
                .send()
                .await;
            assert!(r.text.contains('\n'), "{}", r.text);
            assert_view(ty, &sent, &r.json(), &what("get pretty"));

            let r = fam
                .req(
                    Method::GET,
                    &format!("{}?envelope=true", fam.path(&ty.name)),
                )
                .send()
                .await;
            assert_eq!(r.status, 200);
            let body = r.json();
            assert_eq!(body["status"], 200);
            assert_view(ty, &sent, &body["content"], &what("get envelope"));

            let r = fam.list("").await;
            assert_view(ty, &sent, find(&r.results(), &ty.name), &what("list"));

            let r = fam.list("envelope=true&pretty=true").await;
            assert!(r.text.contains('\n'));
            assert_eq!(r.json()["status"], 200);
            assert_view(
                ty,
                &sent,
                find(&r.results(), &ty.name),
                &what("list envelope pretty"),
            );

            let r = fam.update(&ty.name, &sent).await;
            assert_eq!(r.status, 200, "{}: {}", what("update"), r.text);
            let results = r.results();
            let shown = find(&results, &ty.name);
            assert_view(ty, &sent, shown, &what("update"));
            assert_eq!(
                shown.get("id").cloned(),
                id,
                "the id is kept across updates"
            );

            let r = fam
                .req(
                    Method::PUT,
                    &format!("{}?envelope=true", fam.path(&ty.name)),
                )
                .json(&sent)
                .send()
                .await;
            assert_view(
                ty,
                &sent,
                find(&r.results(), &ty.name),
                &what("update envelope"),
            );

            // the stored value is the value sent, unmasked
            let stored = fam.stored();
            let rec = stored.iter().find(|i| i.type_name == ty.name).unwrap();
            for f in ty.secret_fields() {
                assert_eq!(
                    rec.fields.get(&f.name),
                    sent.get(&f.name),
                    "{}",
                    what("stored")
                );
            }

            let r = fam.delete(&ty.name).await;
            assert_eq!(r.status, 204, "{}", r.text);
            assert!(r.text.is_empty());
            if fam.f.versioned() {
                assert_eq!(r.content_type(), fam.v.media_type);
            }
            let r = fam
                .req(
                    Method::DELETE,
                    &format!("{}?envelope=true", fam.path(&ty.name)),
                )
                .send()
                .await;
            assert_eq!(r.status, 404);
            assert_eq!(r.json()["status"], 404);
            assert_eq!(
                r.json()["content"]["errorCode"],
                "INTEGRATION_NOT_CONFIGURED"
            );
            fam.get(&ty.name)
                .await
                .error(404, "INTEGRATION_NOT_CONFIGURED");
        }
    }
}

#[tokio::test]
async fn a_masked_value_sent_back_is_a_new_value() {
    let t = T::new().await;
    let fam = t.fam("cloud-manager");
    let (ty, f) = type_with(fam.v, |f| f.secret == Some(SecretKind::MaskLast4)).unwrap();
    let mut body = valid_body(ty);
    fam.create(&ty.name, &Value::Object(body.clone())).await;
    let masked = fam.get(&ty.name).await.json()[&f.name].clone();
    body.insert(f.name.clone(), masked.clone());
    assert_eq!(fam.update(&ty.name, &Value::Object(body)).await.status, 200);
    let stored = fam.stored();
    assert_eq!(stored[0].fields[&f.name], masked);
}

// ---------------------------------------------------------------------------------------------
// body validation, field by field
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn required_fields_missing_or_null_are_missing_attribute() {
    let t = T::new().await;
    let mut checked = 0;
    for fam in t.all() {
        let (status, code) = fam.rule(OperationKind::Create, Situation::RequiredMissing);
        for ty in &fam.v.types {
            for f in ty.fields.iter().filter(|f| f.required && f.settable()) {
                for null in [false, true] {
                    let mut body = valid_body(ty);
                    if null {
                        body.insert(f.name.clone(), Value::Null);
                    } else {
                        body.remove(&f.name);
                    }
                    let before = fam.stored();
                    for method in [Method::POST, Method::PUT] {
                        let r = fam
                            .req(method.clone(), &fam.path(&ty.name))
                            .json(&Value::Object(body.clone()))
                            .send()
                            .await;
                        r.error(status, &code);
                        assert_eq!(
                            r.json()["parameters"],
                            json!([f.name]),
                            "{} {} {}",
                            fam.label(),
                            ty.name,
                            f.name
                        );
                    }
                    assert_eq!(fam.stored(), before);
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 50, "{checked}");
}

#[tokio::test]
async fn optional_fields_null_is_not_sent_and_empty_string_is_stored() {
    let t = T::new().await;
    for fam in t.all() {
        for ty in &fam.v.types {
            t.srv.state.reset();
            let mut body = minimal_body(ty);
            let mut empties = Vec::new();
            for f in ty.fields.iter().filter(|f| !f.required && f.settable()) {
                let plain_string = f.kind == FieldKind::String
                    && f.enum_values.is_empty()
                    && f.pattern.is_none()
                    && f.format.is_none()
                    && f.min_length.unwrap_or(0) == 0
                    && !ty
                        .conditional_required
                        .iter()
                        .any(|c| c.then_required.contains(&f.name));
                if plain_string {
                    body.insert(f.name.clone(), json!(""));
                    empties.push(f);
                } else {
                    body.insert(f.name.clone(), Value::Null);
                }
            }
            let sent = Value::Object(body);
            let r = fam.create(&ty.name, &sent).await;
            assert_eq!(r.status, 200, "{} {}: {}", fam.label(), ty.name, r.text);
            let shown = fam.get(&ty.name).await.json();
            assert_view(ty, &sent, &shown, &format!("{} {}", fam.label(), ty.name));
            for f in empties {
                if f.secret != Some(SecretKind::WriteOnly) {
                    assert_eq!(shown[&f.name], "", "{} {}", ty.name, f.name);
                }
            }
        }
    }
}

#[tokio::test]
async fn unknown_fields_and_ids() {
    let t = T::new().await;
    for fam in t.all() {
        let (status, code) = fam.rule(OperationKind::Create, Situation::UnknownAttribute);
        for ty in &fam.v.types {
            let mut body = valid_body(ty);
            body.insert("notAFieldOfAnyType".into(), json!("x"));
            let r = fam.create(&ty.name, &Value::Object(body)).await;
            r.error(status, &code);
            assert_eq!(r.json()["parameters"], json!(["notAFieldOfAnyType"]));

            // a field of another type of the family
            if let Some(other) = fam
                .v
                .types
                .iter()
                .flat_map(|o| o.fields.iter())
                .find(|f| ty.field(&f.name).is_none())
            {
                let mut body = valid_body(ty);
                body.insert(other.name.clone(), value_for(other));
                let r = fam.create(&ty.name, &Value::Object(body)).await;
                r.error(status, &code);
                assert_eq!(r.json()["parameters"], json!([other.name]));
            }

            // the read-only id: ignored as a string or null, else a JSON type error; unknown
            // where the schema has none
            match ty.fields.iter().find(|f| f.read_only) {
                Some(id) => {
                    let (js, jcode) = fam.rule(OperationKind::Create, Situation::WrongJsonType);
                    for bad in [json!(5), json!(true), json!({}), json!([])] {
                        let mut body = valid_body(ty);
                        body.insert(id.name.clone(), bad);
                        fam.create(&ty.name, &Value::Object(body))
                            .await
                            .error(js, &jcode);
                    }
                    for ignored in [json!("aaaaaaaaaaaaaaaaaaaaaaaa"), Value::Null] {
                        t.srv.state.reset();
                        let mut body = valid_body(ty);
                        body.insert(id.name.clone(), ignored.clone());
                        let r = fam.create(&ty.name, &Value::Object(body)).await;
                        assert_eq!(r.status, 200, "{}", r.text);
                        assert_ne!(find(&r.results(), &ty.name)[&id.name], ignored);
                    }
                    t.srv.state.reset();
                }
                None => {
                    let mut body = valid_body(ty);
                    body.insert("id".into(), json!("aaaaaaaaaaaaaaaaaaaaaaaa"));
                    let r = fam.create(&ty.name, &Value::Object(body)).await;
                    r.error(status, &code);
                    assert_eq!(r.json()["parameters"], json!(["id"]));
                }
            }
        }
    }
}

#[tokio::test]
async fn wrong_json_types_are_invalid_json_attribute() {
    let t = T::new().await;
    for fam in t.all() {
        let (status, code) = fam.rule(OperationKind::Create, Situation::WrongJsonType);
        let (ms, mcode) = fam.rule(OperationKind::Create, Situation::TypeMismatch);
        for ty in &fam.v.types {
            for f in ty.fields.iter().filter(|f| f.settable()) {
                let wrong: &[Value] = match f.kind {
                    FieldKind::String => {
                        &[json!(12345), json!(true), json!(["a"]), json!({"a": 1})]
                    }
                    FieldKind::Boolean => &[json!("true"), json!(1), json!([])],
                    FieldKind::Integer => &[json!("1"), json!(1.5), json!(true)],
                    FieldKind::Number => &[json!("1"), json!(true)],
                };
                for w in wrong {
                    let mut body = valid_body(ty);
                    body.insert(f.name.clone(), w.clone());
                    let r = fam.update(&ty.name, &Value::Object(body)).await;
                    r.error(status, &code);
                    assert_eq!(r.json()["parameters"], json!([f.name]));
                }
            }
            // the discriminator with another JSON type is a mismatch
            let mut body = valid_body(ty);
            body.insert(ty.discriminator().name.clone(), json!(1));
            let r = fam.create(&ty.name, &Value::Object(body)).await;
            assert_eq!((r.status, r.code()), (ms, mcode.clone()));
            assert_eq!(r.json()["parameters"], json!([ty.discriminator().name]));
        }
        assert!(fam.stored().is_empty(), "{}", fam.label());
    }
}

#[tokio::test]
async fn enum_fields_accept_their_values_only() {
    let t = T::new().await;
    for fam in t.all() {
        let (status, code) = fam.rule(OperationKind::Create, Situation::EnumInvalid);
        for ty in &fam.v.types {
            for f in ty
                .fields
                .iter()
                .filter(|f| f.settable() && !f.enum_values.is_empty())
            {
                for bad in ["NOT_IN_THE_ENUM", "", "us", " US"] {
                    if f.enum_values.iter().any(|e| e == bad) {
                        continue;
                    }
                    let mut body = valid_body(ty);
                    body.insert(f.name.clone(), json!(bad));
                    let r = fam.create(&ty.name, &Value::Object(body)).await;
                    r.error(status, &code);
                    assert_eq!(r.json()["parameters"][0], json!(f.name));
                }
                for good in &f.enum_values {
                    t.srv.state.reset();
                    let mut body = valid_body(ty);
                    body.insert(f.name.clone(), json!(good));
                    // a value that triggers a conditional requirement brings what it needs
                    let r = fam.create(&ty.name, &Value::Object(body)).await;
                    assert_eq!(
                        r.status,
                        200,
                        "{} {}.{}={good}: {}",
                        fam.label(),
                        ty.name,
                        f.name,
                        r.text
                    );
                    assert_eq!(find(&r.results(), &ty.name)[&f.name], json!(good));
                }
            }
        }
    }
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

#[tokio::test]
async fn field_rules_are_invalid_integration_settings() {
    let t = T::new().await;
    let mut rules = BTreeSet::new();
    for fam in t.all() {
        let (status, code) = fam.rule(OperationKind::Create, Situation::InvalidSettings);
        for ty in &fam.v.types {
            let mut bad_values: Vec<(&Field, Value, &str)> = Vec::new();
            for f in ty
                .fields
                .iter()
                .filter(|f| f.settable() && f.kind == FieldKind::String && f.enum_values.is_empty())
            {
                let good = value_for(f).as_str().unwrap().to_owned();
                if let Some(p) = &f.pattern {
                    let re = regex::Regex::new(p).unwrap();
                    assert!(
                        re.is_match(&good),
                        "{}.{}: the example breaks its own pattern",
                        ty.name,
                        f.name
                    );
                    if let Some(bad) = break_pattern(&re, &good) {
                        assert_eq!(bad.chars().count(), good.chars().count());
                        bad_values.push((f, json!(bad), "pattern"));
                    }
                }
                if let Some(max) = f.max_length {
                    bad_values.push((f, json!("a".repeat(max + 1)), "maxLength"));
                    // the maximum itself is fine
                    t.srv.state.reset();
                    let mut body = valid_body(ty);
                    body.insert(f.name.clone(), json!("b".repeat(max)));
                    assert_eq!(fam.create(&ty.name, &Value::Object(body)).await.status, 200);
                    t.srv.state.reset();
                }
                if let Some(min) = f.min_length.filter(|m| *m > 0) {
                    bad_values.push((f, json!("a".repeat(min - 1)), "minLength"));
                }
                if f.required {
                    bad_values.push((f, json!(""), "empty required string"));
                }
                if f.format.as_deref() == Some("uri") {
                    for bad in [
                        "ftp://example.com/abcdef",
                        "example.com/abcdef",
                        "https://",
                        "mailto:a@example.com",
                        "not a url",
                    ] {
                        bad_values.push((f, json!(bad), "url"));
                    }
                }
            }
            for (f, bad, rule) in bad_values {
                rules.insert(rule);
                let mut body = valid_body(ty);
                body.insert(f.name.clone(), bad.clone());
                let before = fam.stored();
                let r = fam.create(&ty.name, &Value::Object(body)).await;
                assert_eq!(
                    (r.status, r.code()),
                    (status, code.clone()),
                    "{} {}.{} {rule} {bad}: {}",
                    fam.label(),
                    ty.name,
                    f.name,
                    r.text
                );
                r.error(status, &code);
                assert_eq!(fam.stored(), before);
            }
            for c in &ty.conditional_required {
                rules.insert("conditional");
                let mut body = valid_body(ty);
                body.insert(c.when_field.clone(), c.equals.clone());
                for name in &c.then_required {
                    for absent in [None, Some(Value::Null), Some(json!(""))] {
                        let mut b = body.clone();
                        match absent {
                            None => {
                                b.remove(name);
                            }
                            Some(v) => {
                                b.insert(name.clone(), v);
                            }
                        }
                        let r = fam.create(&ty.name, &Value::Object(b)).await;
                        r.error(status, &code);
                        assert_eq!(r.json()["parameters"], json!([name]));
                    }
                }
                t.srv.state.reset();
                let r = fam.create(&ty.name, &Value::Object(body)).await;
                assert_eq!(r.status, 200, "{}", r.text);
                t.srv.state.reset();
            }
        }
    }
    assert_eq!(rules.len(), 6, "{rules:?}");
}

// ---------------------------------------------------------------------------------------------
// body syntax, media types, size
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn body_syntax_type_and_content_type() {
    let t = T::new().await;
    for fam in t.all() {
        let ty = &fam.v.types[0];
        let other = &fam.v.types[1];
        let path = fam.path(&ty.name);
        let good = Value::Object(valid_body(ty));
        for method in [Method::POST, Method::PUT] {
            let req = || fam.req(method.clone(), &path);
            for bad in [
                "",
                "{",
                "{\"type\": }",
                "NaN",
                "{\"type\": NaN}",
                "[1,",
                "Infinity",
                "\u{feff}{}",
                "{'a': 1}",
                "{} {}",
            ] {
                req().body(bad).send().await.error(400, "MALFORMED_JSON");
            }
            req()
                .body(vec![0xff, 0xfe])
                .send()
                .await
                .error(400, "MALFORMED_JSON");
            let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
            req().body(deep).send().await.error(400, "MALFORMED_JSON");
            for not_object in ["[]", "1", "\"x\"", "null", "true"] {
                let r = req().body(not_object).send().await;
                assert_eq!(
                    (r.status, r.code()),
                    (400, "INVALID_JSON".to_owned()),
                    "{not_object}"
                );
            }
            let mut b = valid_body(ty);
            b.remove("type");
            let r = req().json(&Value::Object(b.clone())).send().await;
            r.error(400, "MISSING_ATTRIBUTE");
            assert_eq!(r.json()["parameters"], json!(["type"]));
            b.insert("type".into(), Value::Null);
            req()
                .json(&Value::Object(b.clone()))
                .send()
                .await
                .error(400, "MISSING_ATTRIBUTE");
            b.insert("type".into(), json!(other.name));
            let r = req().json(&Value::Object(b.clone())).send().await;
            assert_eq!(r.status, 400);
            assert_eq!(r.json()["parameters"], json!(["type"]));
            b.insert("type".into(), json!(ty.name.to_lowercase()));
            assert_eq!(req().json(&Value::Object(b)).send().await.status, 400);

            // Content-Type
            for ct in [
                None,
                Some("text/plain"),
                Some("application/x-www-form-urlencoded"),
                Some("application/vnd.atlas.2020-01-01+json"),
                Some("json"),
            ] {
                let mut r = req().no_header("content-type");
                if let Some(ct) = ct {
                    r = r.header("content-type", ct);
                }
                let r = r.json(&good).send().await;
                assert_eq!(r.status, 415, "{ct:?}: {}", r.text);
                assert!(!r.code().is_empty());
                assert_eq!(r.content_type(), "application/json");
            }
        }
        assert!(fam.stored().iter().all(|i| i.type_name != ty.name));
        // duplicate keys: the last wins; Content-Type parameters are fine
        t.srv.state.reset();
        let mut text = good.to_string();
        text.insert_str(1, "\"type\": \"NOPE\", ");
        let r = fam
            .req(Method::POST, &path)
            .header(
                "content-type",
                &format!("{}; charset=UTF-8", fam.v.media_type),
            )
            .body(text)
            .send()
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        // the versioned family reads either version's media type and application/json
        if fam.f.versioned() {
            let types: Vec<&str> = fam
                .f
                .versions
                .iter()
                .map(|v| v.media_type.as_str())
                .chain(fam.f.extra_request_content_types.iter().map(String::as_str))
                .collect();
            for ct in types {
                let r = fam
                    .req(Method::PUT, &path)
                    .header("content-type", ct)
                    .json(&good)
                    .send()
                    .await;
                assert_eq!(r.status, 200, "{ct}: {}", r.text);
            }
        }
        t.srv.state.reset();
    }
}

#[tokio::test]
async fn bodies_over_one_mib_are_413() {
    let t = T::new().await;
    for fam in t.all() {
        let ty = &fam.v.types[0];
        let mut body = valid_body(ty);
        body.insert("padding".into(), json!("x".repeat(1 << 20)));
        for method in [Method::POST, Method::PUT] {
            let r = fam
                .req(method, &fam.path(&ty.name))
                .json(&Value::Object(body.clone()))
                .send()
                .await;
            assert_eq!(r.status, 413, "{}", &r.text[..r.text.len().min(300)]);
            assert!(!r.code().is_empty());
        }
        // just under the limit is read (and refused for its unknown field)
        let mut body = valid_body(ty);
        body.insert("padding".into(), json!("x".repeat((1 << 20) - 2000)));
        let r = fam.create(&ty.name, &Value::Object(body)).await;
        r.error(400, "INVALID_ATTRIBUTE");
        assert!(r.text.len() < 2000, "the detail does not echo the input");
    }
    // the connection is still usable afterwards
    assert_eq!(t.fam("cloud-manager").list("").await.status, 200);
}

// ---------------------------------------------------------------------------------------------
// the error catalogue and the check order
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn error_rows() {
    let t = T::new().await;
    let c = t.srv.credentials.clone();
    for fam in t.all() {
        let ty = &fam.v.types[0];
        let body = Value::Object(valid_body(ty));
        let paths = |group: &str| -> Vec<(Method, String, bool)> {
            let base = format!("{}/groups/{group}/integrations", fam.f.base_path);
            vec![
                (Method::GET, base.clone(), false),
                (Method::GET, format!("{base}/{}", ty.name), false),
                (Method::POST, format!("{base}/{}", ty.name), true),
                (Method::PUT, format!("{base}/{}", ty.name), true),
                (Method::DELETE, format!("{base}/{}", ty.name), false),
            ]
        };
        let send = |m: Method, p: String, with_body: bool, who: Who| {
            let mut r = fam.req(m, &p).who(who);
            if with_body {
                r = r.json(&body);
            }
            r.send()
        };
        let wrong_kind = if fam.f.project_kind == ProjectKind::Atlas {
            (c.cm_group_id.clone(), "NOT_ATLAS_GROUP")
        } else {
            (c.atlas_group_id.clone(), "ATLAS_GROUP")
        };
        let before_atlas = t.stored(&c.atlas_group_id);
        let before_other = t.stored(&c.other_group_id);
        for (i, (m, p, b)) in paths(&fam.group).into_iter().enumerate() {
            // no credentials, and credentials the server does not know
            for who in [
                Who::Anonymous,
                Who::Raw("Bearer nope".into()),
                Who::Raw("Basic Zm9vOmJhcg==".into()),
                Who::Raw("Digest username=\"x\"".into()),
            ] {
                let r = send(m.clone(), p.clone(), b, who).await;
                assert_eq!(r.status, 401, "{m} {p}: {}", r.text);
                let challenges: Vec<&str> = r
                    .headers
                    .get_all("www-authenticate")
                    .iter()
                    .map(|v| v.to_str().unwrap())
                    .collect();
                assert!(
                    challenges
                        .iter()
                        .any(|c| c.starts_with("Digest ") && c.contains("qop=\"auth\"")),
                    "{challenges:?}"
                );
                assert!(!r.code().is_empty());
            }
            // groupId format, existence, access, kind
            for bad in [
                "5D791C84FF7A2522CC4F9AA1",
                "5d791c84ff7a2522cc4f9aa",
                "5d791c84ff7a2522cc4f9aa1a",
                "not-a-group",
                "5d791c84ff7a2522cc4f9aaz",
            ] {
                let (m2, p2, b2) = paths(bad).swap_remove(i);
                send(m2, p2, b2, Who::Owner)
                    .await
                    .error(404, "INVALID_GROUP_ID");
            }
            let (m2, p2, b2) = paths("0123456789abcdef01234567").swap_remove(i);
            send(m2, p2, b2, Who::Owner)
                .await
                .error(404, "GROUP_NOT_FOUND");
            for who in [Who::Owner, Who::ReadOnly, Who::OAuth] {
                let (m2, p2, b2) = paths(&c.other_group_id).swap_remove(i);
                send(m2, p2, b2, who).await.error(401, "NOT_IN_GROUP");
            }
            let (m2, p2, b2) = paths(&wrong_kind.0).swap_remove(i);
            send(m2, p2, b2, Who::Owner).await.error(404, wrong_kind.1);
            // read-only writes
            if m != Method::GET {
                send(m.clone(), p.clone(), b, Who::ReadOnly)
                    .await
                    .error(401, "USER_UNAUTHORIZED");
            }
        }
        // integrationType: outside the enum on every typed operation; unsupported types get
        // their own code on every operation
        for (m, p, b) in paths(&fam.group).into_iter().skip(1) {
            for bad in ["NOT_A_TYPE", "slack", "pager_duty"] {
                let p = p.replace(&ty.name, bad);
                let r = send(m.clone(), p, b, Who::Owner).await;
                assert_eq!(
                    (r.status, r.code()),
                    (400, "INVALID_ENUM_VALUE".to_owned()),
                    "{m} {bad}"
                );
            }
            for unsupported in &fam.f.unsupported_types {
                let p = p.replace(&ty.name, unsupported);
                let r = send(m.clone(), p, b, Who::Owner).await;
                let want = fam
                    .f
                    .operation(OperationKind::Get)
                    .errors_for(Situation::UnsupportedType)
                    .find(|e| e.integration_type.as_deref() == Some(unsupported))
                    .unwrap();
                r.error(want.status, want.error_code.as_deref().unwrap());
            }
        }
        // not configured, already configured
        t.srv.state.reset();
        fam.get(&ty.name)
            .await
            .error(404, "INTEGRATION_NOT_CONFIGURED");
        fam.delete(&ty.name)
            .await
            .error(404, "INTEGRATION_NOT_CONFIGURED");
        let upsert = fam
            .f
            .operation(OperationKind::Update)
            .update
            .unwrap()
            .upsert;
        if upsert {
            assert_eq!(fam.update(&ty.name, &body).await.status, 200);
        } else {
            fam.update(&ty.name, &body)
                .await
                .error(404, "INTEGRATION_NOT_CONFIGURED");
            assert!(fam.stored().is_empty());
            fam.configure(ty).await;
        }
        let before = fam.stored();
        fam.create(&ty.name, &body)
            .await
            .error(409, "INTEGRATION_ALREADY_CONFIGURED");
        assert_eq!(fam.stored(), before);
        t.srv.state.reset();
        assert_eq!(t.stored(&c.other_group_id), before_other);
        let _ = &before_atlas;
    }
}

#[tokio::test]
async fn check_order_when_several_problems_meet() {
    let t = T::new().await;
    let c = t.srv.credentials.clone();
    let v2 = t.fam("atlas-v2");
    let ty = &v2.v.types[0];
    // no credentials and a bad Accept: 401 first
    let r = t
        .req(Method::GET, &v2.list_path())
        .who(Who::Anonymous)
        .header("accept", "application/json")
        .send()
        .await;
    assert_eq!(r.status, 401);
    // bad Accept and a bad group id: 406
    let r = t
        .req(Method::GET, "/api/atlas/v2/groups/bad/integrations")
        .header("accept", "application/json")
        .send()
        .await;
    r.error(406, "INVALID_VERSION_DATE");
    // bad group id and no access (unknown group): INVALID_GROUP_ID
    v2.req(Method::GET, "/api/atlas/v2/groups/bad/integrations/NOPE")
        .send()
        .await
        .error(404, "INVALID_GROUP_ID");
    // no access beats the project kind: the other project is an Atlas project, and through
    // the Cloud Manager path the caller still learns nothing about it
    let cm = t.fam("cloud-manager");
    let r = cm
        .req(
            Method::GET,
            &format!(
                "/api/public/v1.0/groups/{}/integrations/NOPE",
                c.other_group_id
            ),
        )
        .send()
        .await;
    r.error(401, "NOT_IN_GROUP");
    // kind beats the type
    cm.req(
        Method::GET,
        &format!(
            "/api/public/v1.0/groups/{}/integrations/NOPE",
            c.atlas_group_id
        ),
    )
    .send()
    .await
    .error(404, "ATLAS_GROUP");
    // type beats the role
    v2.req(Method::POST, &v2.path("NOPE"))
        .who(Who::ReadOnly)
        .json(&json!({}))
        .send()
        .await
        .error(400, "INVALID_ENUM_VALUE");
    // role beats the query
    let r = v2
        .req(Method::POST, &format!("{}?pageNum=0", v2.path(&ty.name)))
        .who(Who::ReadOnly)
        .json(&json!({}))
        .send()
        .await;
    r.error(401, "USER_UNAUTHORIZED");
    // query beats Content-Type
    let r = v2
        .req(Method::POST, &format!("{}?pageNum=0", v2.path(&ty.name)))
        .header("content-type", "text/plain")
        .body("{")
        .send()
        .await;
    r.error(400, "INVALID_QUERY_PARAMETER");
    // Content-Type beats the body
    let r = v2
        .req(Method::POST, &v2.path(&ty.name))
        .header("content-type", "text/plain")
        .body("{")
        .send()
        .await;
    assert_eq!(r.status, 415);
    // body syntax beats everything in the body; the type beats unknown fields, unknown fields
    // beat JSON types, which beat missing fields, which beat enums, which beat rules
    let mut body = Map::new();
    body.insert("type".into(), json!("OTHER"));
    body.insert("zzz".into(), json!(1));
    let r = v2.create(&ty.name, &Value::Object(body.clone())).await;
    assert_eq!(r.json()["parameters"], json!(["type"]));
    body.insert("type".into(), json!(ty.name));
    v2.create(&ty.name, &Value::Object(body))
        .await
        .error(400, "INVALID_ATTRIBUTE");
    // the body beats the state: a bad body for a configured type is 400, not 409
    v2.configure(ty).await;
    v2.create(&ty.name, &json!({"type": ty.name}))
        .await
        .error(400, "MISSING_ATTRIBUTE");
    // a valid body for a configured type: 409
    v2.create(&ty.name, &Value::Object(valid_body(ty)))
        .await
        .error(409, "INTEGRATION_ALREADY_CONFIGURED");
}

// ---------------------------------------------------------------------------------------------
// lists, pages, query parameters
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn lists_follow_the_family_order_and_paginate() {
    let t = T::new().await;
    for fam in t.all() {
        t.srv.state.reset();
        // create in reverse order; lists come back in the family's order
        for ty in fam.v.types.iter().rev() {
            fam.configure(ty).await;
        }
        let n = fam.v.types.len();
        let order: Vec<String> = fam
            .f
            .list_order
            .iter()
            .filter(|o| fam.v.integration_type(o).is_some())
            .cloned()
            .collect();
        let r = fam.list("").await;
        assert_eq!(r.result_types(), order, "{}", fam.label());
        let body = r.json();
        assert_eq!(body["totalCount"], n);
        assert_eq!(r.rels(), ["self"]);
        let link = r.link("self").unwrap();
        assert_eq!(link.path(), fam.list_path());
        let mut want = vec![("pageNum", "1"), ("itemsPerPage", "100")];
        let has_ic = fam.f.link_query.iter().any(|q| q == "includeCount");
        if has_ic {
            want.push(("includeCount", "true"));
        }
        assert_eq!(query_of(&link), pairs(&want));
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["links", "results", "totalCount"]);

        // itemsPerPage=1, every page
        for page in 1..=n + 1 {
            let r = fam.list(&format!("itemsPerPage=1&pageNum={page}")).await;
            assert_eq!(r.status, 200);
            let body = r.json();
            assert_eq!(body["totalCount"], n);
            if page <= n {
                assert_eq!(r.result_types(), [order[page - 1].clone()]);
            } else {
                assert!(r.results().is_empty(), "past the end");
            }
            let mut rels = vec!["self".to_owned()];
            if page > 1 {
                rels.push("previous".into());
            }
            if page < n {
                rels.push("next".into());
            }
            assert_eq!(r.rels(), rels, "page {page}");
            let me = r.link("self").unwrap();
            for (rel, p) in [("previous", page.wrapping_sub(1)), ("next", page + 1)] {
                if let Some(l) = r.link(rel) {
                    assert_eq!(l.path(), me.path());
                    let mut q = query_of(&me);
                    for kv in q.iter_mut() {
                        if kv.0 == "pageNum" {
                            kv.1 = p.to_string();
                        }
                    }
                    assert_eq!(query_of(&l), q, "{rel}");
                }
            }
        }
        // 500 per page; a page far past the end; pageNum without an upper bound
        let r = fam.list("itemsPerPage=500").await;
        assert_eq!(r.results().len(), n);
        for big in [
            "1000",
            "9223372036854775807",
            "18446744073709551616",
            "123456789012345678901234567890",
        ] {
            let r = fam.list(&format!("pageNum={big}")).await;
            assert_eq!(r.status, 200, "{}", r.text);
            assert!(r.results().is_empty());
            assert_eq!(r.rels(), ["self", "previous"]);
            let q = query_of(&r.link("self").unwrap());
            assert!(q.contains(&("pageNum".into(), big.into())), "{q:?}");
        }
        // includeCount=false: no totalCount where honoured, the next link still computed
        let r = fam.list("includeCount=false&itemsPerPage=2").await;
        let body = r.json();
        if fam.f.include_count_honoured {
            assert!(body.get("totalCount").is_none(), "{body}");
        } else {
            assert_eq!(body["totalCount"], n);
        }
        assert_eq!(r.rels(), ["self", "next"]);
        if has_ic {
            assert!(query_of(&r.link("next").unwrap())
                .contains(&("includeCount".into(), "false".into())));
        }
        // create and update answer the same page
        let ty = &fam.v.types[0];
        t.srv.state.reset();
        let r = fam
            .req(
                Method::POST,
                &format!("{}?itemsPerPage=1&pageNum=1", fam.path(&ty.name)),
            )
            .json(&Value::Object(valid_body(ty)))
            .send()
            .await;
        assert_eq!(r.json()["totalCount"], 1);
        assert_eq!(r.link("self").unwrap().path(), fam.path(&ty.name));
    }
}

#[tokio::test]
async fn query_parameters_are_validated_per_operation() {
    let t = T::new().await;
    for fam in t.all() {
        let ty = &fam.v.types[0];
        t.srv.state.reset();
        fam.configure(ty).await;
        let list = |q: &'static str| fam.list(q);
        for bad in [
            "pageNum=0",
            "pageNum=-1",
            "pageNum=1.0",
            "pageNum=abc",
            "pageNum=",
            "itemsPerPage=0",
            "itemsPerPage=501",
            "itemsPerPage=x",
            "pretty=TRUE",
            "pretty=1",
            "envelope=yes",
            "envelope=",
        ] {
            let r = list(bad).await;
            r.error(400, "INVALID_QUERY_PARAMETER");
        }
        let ic = list("includeCount=False").await;
        if fam
            .f
            .operation(OperationKind::List)
            .query_param("includeCount")
            .is_some()
        {
            ic.error(400, "INVALID_QUERY_PARAMETER");
        } else {
            assert_eq!(ic.status, 200, "cloud-manager ignores includeCount");
        }
        // repeated: the first wins; unknown ones are ignored
        let r = list("pageNum=2&pageNum=x&unknown=zzz&itemsPerPage=1&itemsPerPage=0").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.results().is_empty());
        assert!(list("pageNum=x&pageNum=1").await.status == 400);
        // get and delete ignore page parameters, even invalid ones, but not pretty/envelope
        let page_junk = "pageNum=0&itemsPerPage=9999&includeCount=maybe";
        let r = fam
            .req(Method::GET, &format!("{}?{page_junk}", fam.path(&ty.name)))
            .send()
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        for bad in ["pretty=yes", "envelope=1"] {
            fam.req(Method::GET, &format!("{}?{bad}", fam.path(&ty.name)))
                .send()
                .await
                .error(400, "INVALID_QUERY_PARAMETER");
            fam.req(Method::DELETE, &format!("{}?{bad}", fam.path(&ty.name)))
                .send()
                .await
                .error(400, "INVALID_QUERY_PARAMETER");
        }
        let r = fam
            .req(
                Method::DELETE,
                &format!("{}?{page_junk}", fam.path(&ty.name)),
            )
            .send()
            .await;
        assert_eq!(r.status, 204);
        // create and update validate page parameters, before the body
        let r = fam
            .req(
                Method::POST,
                &format!("{}?itemsPerPage=0", fam.path(&ty.name)),
            )
            .body("{")
            .send()
            .await;
        r.error(400, "INVALID_QUERY_PARAMETER");
    }
}

// ---------------------------------------------------------------------------------------------
// envelope and pretty
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn envelope_and_pretty_on_every_kind_of_response() {
    let t = T::new().await;
    for fam in t.all() {
        t.srv.state.reset();
        let ty = &fam.v.types[0];
        // error in an envelope: same HTTP status, the error body as content
        let r = fam
            .req(
                Method::GET,
                &format!("{}?envelope=true", fam.path(&ty.name)),
            )
            .send()
            .await;
        assert_eq!(r.status, 404);
        assert_eq!(r.content_type(), "application/json");
        let body = r.json();
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["status", "content"]);
        assert_eq!(body["status"], 404);
        assert_eq!(body["content"]["errorCode"], "INTEGRATION_NOT_CONFIGURED");
        assert_eq!(body["content"]["error"], 404);
        // errors before the query is validated are wrapped too
        let r = fam
            .req(
                Method::GET,
                &format!("{}?envelope=true", fam.path(&ty.name)),
            )
            .who(Who::Anonymous)
            .send()
            .await;
        assert_eq!((r.status, r.json()["status"].clone()), (401, json!(401)));
        // an invalid envelope value is itself an error, not wrapped
        let r = fam
            .req(
                Method::GET,
                &format!("{}?envelope=TRUE", fam.path(&ty.name)),
            )
            .send()
            .await;
        r.error(400, "INVALID_QUERY_PARAMETER");
        // pretty errors
        let r = fam
            .req(Method::GET, &format!("{}?pretty=true", fam.path(&ty.name)))
            .send()
            .await;
        assert!(r.text.contains("\n  "), "{}", r.text);
        r.error(404, "INTEGRATION_NOT_CONFIGURED");
        let r = fam.get(&ty.name).await;
        assert!(!r.text.contains('\n'));
        // 201? no: create is 200, and its envelope says so
        let r = fam
            .req(
                Method::POST,
                &format!("{}?envelope=true&pretty=true", fam.path(&ty.name)),
            )
            .json(&Value::Object(valid_body(ty)))
            .send()
            .await;
        assert_eq!(r.status, 200);
        let body = r.json();
        assert_eq!(body["status"], 200);
        assert_eq!(body["totalCount"], 1);
        assert!(r.text.lines().count() > 5);
        // pretty false explicitly
        let r = fam.list("pretty=false&envelope=false").await;
        assert!(!r.text.contains('\n'));
        assert!(r.json().get("status").is_none());
        // 204 stays empty
        let r = fam
            .req(
                Method::DELETE,
                &format!("{}?envelope=true&pretty=true", fam.path(&ty.name)),
            )
            .send()
            .await;
        assert_eq!(r.status, 204);
        assert!(r.text.is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// versions
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn atlas_v2_negotiates_versions() {
    let t = T::new().await;
    let f = t.model().families.iter().find(|f| f.versioned()).unwrap();
    let fam = t.on(f, &f.versions[0]);
    let (old, new) = (&f.versions[0].media_type, &f.versions[1].media_type);
    let accept = |a: Option<String>| {
        let mut r = t.req(Method::GET, &fam.list_path());
        if let Some(a) = a {
            r = r.header("accept", &a);
        }
        r.send()
    };
    for (a, want) in [
        (old.clone(), Some(old)),
        (new.clone(), Some(new)),
        (format!("{old}; charset=utf-8"), Some(old)),
        (old.to_uppercase(), Some(old)),
        (format!("{old}, {new}"), Some(old)),
        (format!("{old};q=0.5, {new}"), Some(new)),
        (format!("{new};q=0.2, {old};q=0.9"), Some(old)),
        (format!("application/json, {new}"), Some(new)),
        (format!("{new};q=0, {old};q=0.1"), Some(old)),
        (format!("*/*, {old};q=0.1"), Some(old)),
        (format!("{new};q=0"), None),
        ("application/json".to_owned(), None),
        ("*/*".to_owned(), None),
        ("application/*".to_owned(), None),
        ("application/vnd.atlas.2020-01-01+json".to_owned(), None),
        ("application/vnd.atlas.2024-01-01+json".to_owned(), None),
        ("garbage".to_owned(), None),
        (";;;,,,q=".to_owned(), None),
    ] {
        let r = accept(Some(a.clone())).await;
        match want {
            Some(m) => {
                assert_eq!(r.status, 200, "{a}: {}", r.text);
                assert_eq!(r.content_type(), m.as_str(), "{a}");
            }
            None => r.error(406, "INVALID_VERSION_DATE"),
        }
    }
    accept(None).await.error(406, "INVALID_VERSION_DATE");
    // families v1.0 answer application/json whatever Accept says
    for name in t
        .model()
        .families
        .iter()
        .filter(|f| !f.versioned())
        .map(|f| f.name.clone())
    {
        let fam = t.fam(&name);
        for a in ["application/xml", "*/*", old.as_str()] {
            let r = t
                .req(Method::GET, &fam.list_path())
                .header("accept", a)
                .send()
                .await;
            assert_eq!((r.status, r.content_type()), (200, "application/json"));
        }
    }
}

#[tokio::test]
async fn fields_of_one_version_are_neither_accepted_nor_returned_under_another() {
    let t = T::new().await;
    let f = t.model().families.iter().find(|f| f.versioned()).unwrap();
    let mut seen = 0;
    for v in &f.versions {
        for other in f.versions.iter().filter(|o| o.name != v.name) {
            for ty in &v.types {
                let Some(oty) = other.integration_type(&ty.name) else {
                    continue;
                };
                for extra in oty.fields.iter().filter(|x| ty.field(&x.name).is_none()) {
                    seen += 1;
                    t.srv.state.reset();
                    let fam = t.on(f, v);
                    let ofam = t.on(f, other);
                    // refused under v
                    let mut body = valid_body(ty);
                    body.insert(extra.name.clone(), value_for(extra));
                    fam.create(&ty.name, &Value::Object(body))
                        .await
                        .error(400, "INVALID_ATTRIBUTE");
                    // accepted under the other version, not returned under v
                    let mut obody = valid_body(oty);
                    obody.insert(extra.name.clone(), value_for(extra));
                    assert_eq!(
                        ofam.create(&ty.name, &Value::Object(obody)).await.status,
                        200
                    );
                    let r = fam.get(&ty.name).await;
                    assert!(r.json().get(&extra.name).is_none(), "{}", r.text);
                    assert!(fam.list("").await.results()[0].get(&extra.name).is_none());
                    assert!(ofam.get(&ty.name).await.json().get(&extra.name).is_some());
                }
            }
        }
    }
    assert!(seen >= 2, "the spec has version-only fields");
}

// ---------------------------------------------------------------------------------------------
// state
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn updates_merge_or_replace_per_family() {
    let t = T::new().await;
    for fam in t.all() {
        let rule = fam.f.operation(OperationKind::Update).update.unwrap();
        // a type with an optional field without default, to see whether it survives
        let Some((ty, opt)) = fam.v.types.iter().find_map(|ty| {
            ty.fields
                .iter()
                .find(|f| {
                    f.settable()
                        && !f.required
                        && f.default.is_none()
                        && f.secret != Some(SecretKind::WriteOnly)
                })
                .map(|f| (ty, f))
        }) else {
            continue;
        };
        t.srv.state.reset();
        let full = Value::Object(valid_body(ty));
        let r = fam.create(&ty.name, &full).await;
        let id = find(&r.results(), &ty.name).get("id").cloned();
        let min = Value::Object(minimal_body(ty));
        let r = fam.update(&ty.name, &min).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let shown = find(&r.results(), &ty.name).clone();
        if rule.merge {
            assert_eq!(
                shown.get(&opt.name),
                full.get(&opt.name),
                "{} merges",
                fam.label()
            );
        } else {
            assert!(
                shown.get(&opt.name).is_none(),
                "{} replaces: {shown}",
                fam.label()
            );
        }
        assert_eq!(shown.get("id").cloned(), id);
        // upsert or 404
        t.srv.state.reset();
        let r = fam.update(&ty.name, &min).await;
        if rule.upsert {
            assert_eq!(r.status, 200);
            assert_eq!(r.result_types(), std::slice::from_ref(&ty.name));
        } else {
            r.error(404, "INTEGRATION_NOT_CONFIGURED");
            assert!(fam.stored().is_empty());
        }
    }
}

#[tokio::test]
async fn atlas_families_share_one_project_and_one_integration_per_type() {
    let t = T::new().await;
    let atlas: Vec<&Family> = t
        .model()
        .families
        .iter()
        .filter(|f| f.project_kind == ProjectKind::Atlas)
        .collect();
    assert!(atlas.len() >= 2);
    let (a, b) = (
        t.on(atlas[0], &atlas[0].versions[0]),
        t.on(atlas[1], &atlas[1].versions[0]),
    );
    let common =
        a.v.types
            .iter()
            .find(|ty| b.v.integration_type(&ty.name).is_some())
            .unwrap();
    a.configure(common).await;
    let r = b
        .create(
            &common.name,
            &Value::Object(valid_body(b.v.integration_type(&common.name).unwrap())),
        )
        .await;
    r.error(409, "INTEGRATION_ALREADY_CONFIGURED");
    assert_eq!(b.get(&common.name).await.status, 200);
    // a type only one family has is not shown by the other
    if let Some(only_a) =
        a.v.types
            .iter()
            .find(|ty| b.v.integration_type(&ty.name).is_none())
    {
        a.configure(only_a).await;
        assert!(!b.list("").await.result_types().contains(&only_a.name));
        assert!(a.list("").await.result_types().contains(&only_a.name));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_type_one_wins() {
    let t = std::sync::Arc::new(T::new().await);
    let family = t.model().families[0].name.clone();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let t = t.clone();
        let family = family.clone();
        set.spawn(async move {
            let fam = t.fam(&family);
            let ty = &fam.v.types[0];
            fam.create(&ty.name, &Value::Object(valid_body(ty)))
                .await
                .status
        });
    }
    let mut statuses = Vec::new();
    while let Some(s) = set.join_next().await {
        statuses.push(s.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [200, 409, 409, 409, 409, 409, 409, 409]);
    assert_eq!(t.fam(&family).stored().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// authentication, roles, projects
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn digest_nonces_expire_with_stale_and_counts_cannot_be_replayed() {
    let t = T::new().await;
    let fam = t.fam("cloud-manager");
    let path = fam.list_path();
    assert_eq!(fam.list("").await.status, 200);
    // replay: the same header twice
    let h = t
        .owner
        .header(&t.client, &Method::GET, &path)
        .await
        .unwrap()
        .unwrap();
    let h = h.to_str().unwrap().to_owned();
    assert_eq!(
        t.req(Method::GET, &path)
            .who(Who::Raw(h.clone()))
            .send()
            .await
            .status,
        200
    );
    let r = t
        .req(Method::GET, &path)
        .who(Who::Raw(h.clone()))
        .send()
        .await;
    assert_eq!(r.status, 401);
    // a header for another URI
    let h2 = t
        .owner
        .header(&t.client, &Method::GET, "/elsewhere")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        t.req(Method::GET, &path)
            .who(Who::Raw(h2.to_str().unwrap().into()))
            .send()
            .await
            .status,
        401
    );
    // a nonce the server never issued
    let forged = h.replace("nonce=\"", "nonce=\"0");
    assert_eq!(
        t.req(Method::GET, &path)
            .who(Who::Raw(forged))
            .send()
            .await
            .status,
        401
    );
    // expired: 401 with stale=true; the client retries with the new nonce
    let h = t
        .owner
        .header(&t.client, &Method::GET, &path)
        .await
        .unwrap()
        .unwrap();
    t.srv.state.auth().expire_all_nonces();
    let r = t
        .req(Method::GET, &path)
        .who(Who::Raw(h.to_str().unwrap().into()))
        .send()
        .await;
    assert_eq!(r.status, 401);
    let challenge = r.header("www-authenticate").unwrap();
    assert!(challenge.contains("stale=true"), "{challenge}");
    assert_eq!(
        fam.list("").await.status,
        200,
        "the Authenticator follows the new nonce"
    );
    // the wrong password
    let wrong = Authenticator::new(
        AuthSpec::Digest {
            public: t.srv.credentials.owner.public.clone(),
            private: "wrong".into(),
        },
        Url::parse(&t.srv.base_url).unwrap(),
    );
    let h = {
        wrong.learn(reqwest::StatusCode::from_u16(r.status).unwrap(), &r.headers);
        wrong
            .header(&t.client, &Method::GET, &path)
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!(
        t.req(Method::GET, &path)
            .who(Who::Raw(h.to_str().unwrap().into()))
            .send()
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn oauth_tokens_work_until_they_expire() {
    let t = T::new().await;
    let fam = t.fam("atlas-v2");
    let r = fam
        .req(Method::GET, &fam.list_path())
        .who(Who::OAuth)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ty = &fam.v.types[0];
    let r = fam
        .req(Method::POST, &fam.path(&ty.name))
        .who(Who::OAuth)
        .json(&Value::Object(valid_body(ty)))
        .send()
        .await;
    assert_eq!(r.status, 200, "the OAuth client is Project Owner");
    // a token by hand, then expired
    let c = &t.srv.credentials;
    let r = t
        .http
        .post(format!("{}{}", t.srv.base_url, t.model().token_path))
        .basic_auth(&c.oauth.client_id, Some(&c.oauth.client_secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let j: Value = r.json().await.unwrap();
    assert_eq!(j["token_type"], "Bearer");
    assert_eq!(j["expires_in"], 3600);
    let bearer = format!("Bearer {}", j["access_token"].as_str().unwrap());
    assert_eq!(
        fam.req(Method::GET, &fam.list_path())
            .who(Who::Raw(bearer.clone()))
            .send()
            .await
            .status,
        200
    );
    t.srv.state.auth().expire_all_tokens();
    let r = fam
        .req(Method::GET, &fam.list_path())
        .who(Who::Raw(bearer))
        .send()
        .await;
    assert_eq!(r.status, 401);
    assert!(r
        .headers
        .get_all("www-authenticate")
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("Bearer")));
    // the OAuth Authenticator fetches a fresh token
    assert_eq!(
        fam.req(Method::GET, &fam.list_path())
            .who(Who::OAuth)
            .send()
            .await
            .status,
        200
    );
    // token endpoint errors in the RFC 6749 shape
    let token = |auth: Option<(&str, &str)>, ct: &str, body: &str| {
        let mut rb = t
            .http
            .post(format!("{}{}", t.srv.base_url, t.model().token_path))
            .header("content-type", ct)
            .body(body.to_owned());
        if let Some((u, p)) = auth {
            rb = rb.basic_auth(u, Some(p));
        }
        rb.send()
    };
    let id = c.oauth.client_id.as_str();
    for (auth, ct, body, status, error) in [
        (
            Some((id, "wrong")),
            "application/x-www-form-urlencoded",
            "grant_type=client_credentials",
            401,
            "invalid_client",
        ),
        (
            None,
            "application/x-www-form-urlencoded",
            "grant_type=client_credentials",
            401,
            "invalid_client",
        ),
        (
            Some((id, c.oauth.client_secret.as_str())),
            "application/x-www-form-urlencoded",
            "grant_type=password",
            400,
            "unsupported_grant_type",
        ),
        (
            Some((id, c.oauth.client_secret.as_str())),
            "application/x-www-form-urlencoded",
            "",
            400,
            "invalid_request",
        ),
        (
            Some((id, c.oauth.client_secret.as_str())),
            "application/json",
            "{}",
            400,
            "invalid_request",
        ),
    ] {
        let r = token(auth, ct, body).await.unwrap();
        assert_eq!(r.status(), status);
        let j: Value = r.json().await.unwrap();
        assert_eq!(j, json!({ "error": error }));
    }
    let r = t
        .http
        .get(format!("{}{}", t.srv.base_url, t.model().token_path))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");
}

#[tokio::test]
async fn roles_and_projects() {
    let t = T::new().await;
    for fam in t.all() {
        t.srv.state.reset();
        let ty = &fam.v.types[0];
        fam.configure(ty).await;
        let before = fam.stored();
        // read-only: list and get, nothing else
        assert_eq!(
            fam.req(Method::GET, &fam.list_path())
                .who(Who::ReadOnly)
                .send()
                .await
                .status,
            200
        );
        assert_eq!(
            fam.req(Method::GET, &fam.path(&ty.name))
                .who(Who::ReadOnly)
                .send()
                .await
                .status,
            200
        );
        for m in [Method::POST, Method::PUT, Method::DELETE] {
            let r = fam
                .req(m.clone(), &fam.path(&ty.name))
                .who(Who::ReadOnly)
                .json(&Value::Object(valid_body(ty)))
                .send()
                .await;
            r.error(401, "USER_UNAUTHORIZED");
        }
        assert_eq!(fam.stored(), before);
    }
    // the other project: nothing leaks, whatever the credentials
    let c = t.srv.credentials.clone();
    let other = t.stored(&c.other_group_id);
    assert_eq!(other.len(), 1, "the other owner has one integration");
    for fam in t
        .all()
        .into_iter()
        .filter(|f| f.f.project_kind == ProjectKind::Atlas)
    {
        for who in [Who::Owner, Who::ReadOnly, Who::OAuth] {
            let path = format!(
                "{}/groups/{}/integrations",
                fam.f.base_path, c.other_group_id
            );
            let r = fam.req(Method::GET, &path).who(who.clone()).send().await;
            r.error(401, "NOT_IN_GROUP");
            assert!(!r.text.contains(&other[0].type_name));
            let r = fam
                .req(Method::DELETE, &format!("{path}/{}", other[0].type_name))
                .who(who)
                .send()
                .await;
            r.error(401, "NOT_IN_GROUP");
        }
    }
    assert_eq!(t.stored(&c.other_group_id), other);
}

// ---------------------------------------------------------------------------------------------
// routes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405() {
    let t = T::new().await;
    let fam = t.fam("atlas-v1");
    let ty = &fam.v.types[0];
    for p in [
        "/".to_owned(),
        "/api".to_owned(),
        "/api/atlas/v1.0/groups".to_owned(),
        format!("{}/", fam.list_path()),
        format!("{}/extra", fam.path(&ty.name)),
        "/api/atlas/v3/groups/5d791c84ff7a2522cc4f9aa1/integrations".to_owned(),
    ] {
        for who in [Who::Owner, Who::Anonymous] {
            let r = t.req(Method::GET, &p).who(who).send().await;
            r.error(404, "RESOURCE_NOT_FOUND");
        }
    }
    for (path, method, allow) in [
        (fam.list_path(), Method::POST, "GET"),
        (fam.list_path(), Method::DELETE, "GET"),
        (fam.path(&ty.name), Method::PATCH, "GET, POST, PUT, DELETE"),
        (fam.path(&ty.name), Method::HEAD, "GET, POST, PUT, DELETE"),
    ] {
        let r = t.req(method.clone(), &path).send().await;
        assert_eq!(r.status, 405, "{method} {path}");
        let mut got: Vec<&str> = r.header("allow").unwrap().split(", ").collect();
        let mut want: Vec<&str> = allow.split(", ").collect();
        got.sort();
        want.sort();
        assert_eq!(got, want);
        if method != Method::HEAD {
            assert_eq!(r.code(), "METHOD_NOT_ALLOWED");
        }
    }
    // percent-encoded segments are decoded
    fam.configure(ty).await;
    let encoded: String = ty
        .name
        .chars()
        .map(|c| format!("%{:02X}", c as u32))
        .collect();
    assert_eq!(fam.get(&encoded).await.status, 200);
}

#[tokio::test]
async fn a_large_body_announced_with_expect_continue_is_refused_unsent() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let t = T::new().await;
    let fam = t.fam("cloud-manager");
    fam.list("").await;
    let path = fam.path(&fam.v.types[0].name);
    let h = t
        .owner
        .header(&t.client, &Method::POST, &path)
        .await
        .unwrap()
        .unwrap();
    let mut s = tokio::net::TcpStream::connect(t.srv.local_addr())
        .await
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Type: application/json\r\n\
         Content-Length: 2097152\r\nExpect: 100-continue\r\n\r\n",
        h.to_str().unwrap()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0; 8192];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("\"error\":413"), "{text}");
}

#[tokio::test]
async fn info_json_shape_and_shutdown() {
    let srv = server::spawn(ServerConfig::default()).await.unwrap();
    let info = srv.info_json();
    let keys: Vec<&str> = info
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "base_url",
            "atlas_group_id",
            "cm_group_id",
            "other_group_id",
            "owner",
            "read_only",
            "oauth",
            "expired_token"
        ]
    );
    assert_eq!(info["base_url"], srv.base_url);
    // The expired token is one the server issued: known, and refused as expired.
    let token = info["expired_token"].as_str().unwrap();
    let http = reqwest::Client::new();
    let resp = http
        .get(format!(
            "{}/api/atlas/v2/groups/{}/integrations",
            srv.base_url,
            info["atlas_group_id"].as_str().unwrap()
        ))
        .header("accept", "application/vnd.atlas.2025-03-12+json")
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert!(srv.base_url.starts_with("http://127.0.0.1:"));
    for k in ["atlas_group_id", "cm_group_id", "other_group_id"] {
        let id = info[k].as_str().unwrap();
        assert!(
            id.len() == 24
                && id
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }
    assert_eq!(info["owner"]["private"], srv.credentials.owner.private);
    assert!(info["read_only"]["public"].is_string());
    assert!(info["oauth"]["client_secret"].is_string());
    let dbg = format!("{srv:?}");
    assert!(!dbg.contains(&srv.credentials.owner.private));
    assert!(!dbg.contains(&srv.credentials.oauth.client_secret));
    // two servers have different credentials
    let other = server::spawn(ServerConfig::default()).await.unwrap();
    assert_ne!(other.credentials, srv.credentials);
    let url = srv.base_url.clone();
    srv.shutdown().await.unwrap();
    assert!(reqwest::get(format!("{url}/")).await.is_err(), "stopped");
    // given credentials are used; bad ones refused
    let mut creds = other.credentials.clone();
    creds.cm_group_id = "nope".into();
    assert!(server::spawn(ServerConfig {
        credentials: Some(creds),
        ..Default::default()
    })
    .await
    .is_err());
    let creds = other.credentials.clone();
    drop(other);
    let again = server::spawn(ServerConfig {
        faults: vec![Fault::PrettyIgnored],
        credentials: Some(creds.clone()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(again.credentials, creds);
    assert_eq!(again.state.faults(), [Fault::PrettyIgnored]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_fast_and_concurrent() {
    let t = std::sync::Arc::new(T::new().await);
    let fam = t.fam("atlas-v2");
    fam.list("").await;
    let start = Instant::now();
    for _ in 0..50 {
        assert_eq!(fam.list("").await.status, 200);
    }
    let per = start.elapsed() / 50;
    assert!(
        per < Duration::from_millis(20),
        "{per:?} per request: Nagle?"
    );
    // concurrent digest requests (nonce counts overtaking each other) all pass
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let t = t.clone();
        set.spawn(async move { t.fam("atlas-v2").list("").await.status });
    }
    while let Some(s) = set.join_next().await {
        assert_eq!(s.unwrap(), 200);
    }
}

#[tokio::test]
async fn garbage_never_yields_500() {
    let t = T::new().await;
    let fam = t.fam("atlas-v2");
    let ty = &fam.v.types[0];
    let paths = [
        fam.path(&ty.name),
        fam.path("%00%ff%"),
        fam.path("💥"),
        format!("{}/groups/%2e%2e/integrations", fam.f.base_path),
        format!(
            "{}?pageNum=%ff&itemsPerPage=%00&envelope=true&pretty=true",
            fam.list_path()
        ),
        format!("{}?{}", fam.list_path(), "a=b&".repeat(2000)),
    ];
    let bodies: Vec<Vec<u8>> = vec![
        b"\x00\x01\x02".to_vec(),
        b"{\"type\": \"\\ud800\"}".to_vec(),
        format!("{{\"type\": \"{}\", \"x\": {}}}", ty.name, "1".repeat(5000)).into_bytes(),
        b"{\"type\": 1e999}".to_vec(),
        format!(
            "{{{}}}",
            (0..2000)
                .map(|i| format!("\"k{i}\": {i}"))
                .collect::<Vec<_>>()
                .join(",")
        )
        .into_bytes(),
    ];
    for p in &paths {
        for m in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ] {
            for b in &bodies {
                let r = fam
                    .req(m.clone(), p)
                    .header("content-type", "application/json")
                    .body(b.clone())
                    .send()
                    .await;
                assert!(r.status < 500, "{m} {p}: {} {}", r.status, r.text);
                if !r.text.is_empty() {
                    r.json();
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// faults: each one changes behaviour
// ---------------------------------------------------------------------------------------------

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

/// Configures a type with a secret of `kind`, then gets it.
async fn secret_get(fam: &Fam<'_>, kind: SecretKind, query: &str) -> String {
    let (ty, _) = pick(fam.f, |_, f| f.secret == Some(kind));
    fam.configure(ty).await;
    fam.req(Method::GET, &format!("{}{query}", fam.path(&ty.name)))
        .send()
        .await
        .text
}

async fn two(fam: &Fam<'_>) {
    fam.configure(&fam.v.types[0]).await;
    fam.configure(&fam.v.types[1]).await;
}

/// What a probe observes: a few facts about one or more responses.
async fn probe(t: &T, fault: Fault) -> String {
    use Fault::*;
    let cm = t.fam("cloud-manager");
    let v1 = t.fam("atlas-v1");
    let v2 = t.fam("atlas-v2");
    let first = &cm.v.types[0];
    match fault {
        SecretInClearOnGet | MaskKeepsFirstFour | MaskNotLengthPreserving => {
            secret_get(&cm, SecretKind::MaskLast4, "").await
        }
        PrettySkipsMasking => secret_get(&cm, SecretKind::MaskLast4, "?pretty=true").await,
        UrlSecretUnmasked => secret_get(&cm, SecretKind::MaskUrl, "").await,
        WriteOnlyReturned => secret_get(&cm, SecretKind::WriteOnly, "").await,
        SecretInClearInList => {
            let (ty, _) = pick(cm.f, |_, f| f.secret == Some(SecretKind::MaskLast4));
            cm.create(&ty.name, &Value::Object(valid_body(ty)))
                .await
                .text
        }
        SecretEchoedInError => {
            let (ty, _) = pick(cm.f, |_, f| f.secret == Some(SecretKind::MaskLast4));
            let mut b = valid_body(ty);
            b.insert("bogus".into(), json!(1));
            cm.create(&ty.name, &Value::Object(b)).await.text
        }
        TotalCountCountsPage | MissingNextLink => {
            two(&cm).await;
            cm.list("itemsPerPage=1").await.text
        }
        PreviousOnFirstPage
        | PageNumZeroBased
        | ListOrderAlphabetical
        | PrettyIgnored
        | EnvelopeIgnored => {
            for ty in &cm.v.types {
                cm.configure(ty).await;
            }
            cm.list("pretty=true&envelope=true").await.text
        }
        ItemsPerPageIgnored => {
            two(&cm).await;
            cm.list("itemsPerPage=1").await.results().len().to_string()
        }
        IncludeCountIgnored => v1.list("includeCount=false").await.text,
        PagePastEnd404 => cm.list("pageNum=3").await.status.to_string(),
        EnvelopeStatusAlways200 | EnvelopeMissingOnErrors | EnvelopeHttp200 => {
            let r = cm
                .req(
                    Method::GET,
                    &format!("{}?envelope=true", cm.path(&first.name)),
                )
                .send()
                .await;
            format!("{} {}", r.status, r.text)
        }
        MalformedJson500 => cm
            .req(Method::POST, &cm.path(&first.name))
            .body("{")
            .send()
            .await
            .status
            .to_string(),
        WrongErrorCodeMissingAttribute => cm
            .create(&first.name, &json!({"type": first.name}))
            .await
            .code(),
        GroupNotFoundAsInvalidGroupId => t
            .req(
                Method::GET,
                "/api/public/v1.0/groups/0123456789abcdef01234567/integrations",
            )
            .send()
            .await
            .code(),
        PlainTextNotFound => {
            let r = t.req(Method::GET, "/nope").send().await;
            format!("{} {}", r.content_type(), r.text)
        }
        MethodNotAllowed404 => t
            .req(Method::PATCH, &cm.list_path())
            .send()
            .await
            .status
            .to_string(),
        DeleteUnconfigured204 => cm.delete(&first.name).await.status.to_string(),
        CreateReturns201 => cm
            .create(&first.name, &Value::Object(valid_body(first)))
            .await
            .status
            .to_string(),
        ErrorReasonMissing | ErrorReasonOfAnotherStatus => cm.get(&first.name).await.text,
        UnsupportedTypeGenericCode => cm.get(&cm.f.unsupported_types[0]).await.code(),
        ReadOnlyCanWrite => cm
            .req(Method::POST, &cm.path(&first.name))
            .who(Who::ReadOnly)
            .json(&Value::Object(valid_body(first)))
            .send()
            .await
            .status
            .to_string(),
        OtherProjectReadable => {
            let p = format!(
                "{}/groups/{}/integrations",
                v1.f.base_path, t.srv.credentials.other_group_id
            );
            v1.req(Method::GET, &p).send().await.text
        }
        GetWithoutCredentials => cm
            .req(Method::GET, &cm.list_path())
            .who(Who::Anonymous)
            .send()
            .await
            .status
            .to_string(),
        TokenGrantTypeUnchecked => {
            let c = &t.srv.credentials;
            t.http
                .post(format!("{}{}", t.srv.base_url, t.model().token_path))
                .basic_auth(&c.oauth.client_id, Some(&c.oauth.client_secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=password")
                .send()
                .await
                .unwrap()
                .status()
                .to_string()
        }
        ExpiredTokenAccepted => {
            v2.req(Method::GET, &v2.list_path())
                .who(Who::OAuth)
                .send()
                .await;
            let c = &t.srv.credentials;
            let r = t
                .http
                .post(format!("{}{}", t.srv.base_url, t.model().token_path))
                .basic_auth(&c.oauth.client_id, Some(&c.oauth.client_secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials")
                .send()
                .await
                .unwrap();
            let j: Value = r.json().await.unwrap();
            t.srv.state.auth().expire_all_tokens();
            let bearer = format!("Bearer {}", j["access_token"].as_str().unwrap());
            v2.req(Method::GET, &v2.list_path())
                .who(Who::Raw(bearer))
                .send()
                .await
                .status
                .to_string()
        }
        WrongDigestPasswordAccepted => {
            let wrong = Authenticator::new(
                AuthSpec::Digest {
                    public: t.srv.credentials.owner.public.clone(),
                    private: "wrong".into(),
                },
                Url::parse(&t.srv.base_url).unwrap(),
            );
            let r = cm
                .req(Method::GET, &cm.list_path())
                .who(Who::Anonymous)
                .send()
                .await;
            wrong.learn(reqwest::StatusCode::from_u16(r.status).unwrap(), &r.headers);
            let h = wrong
                .header(&t.client, &Method::GET, &cm.list_path())
                .await
                .unwrap()
                .unwrap();
            cm.req(Method::GET, &cm.list_path())
                .who(Who::Raw(h.to_str().unwrap().into()))
                .send()
                .await
                .status
                .to_string()
        }
        DigestUriUnchecked => {
            cm.list("").await;
            let other = format!("{}/other", cm.list_path());
            let h = t
                .owner
                .header(&t.client, &Method::GET, &other)
                .await
                .unwrap()
                .unwrap();
            cm.req(Method::GET, &cm.list_path())
                .who(Who::Raw(h.to_str().unwrap().into()))
                .send()
                .await
                .status
                .to_string()
        }
        UpdateKeepsUrls | UpdateNotAtomic => {
            let (ty, f) = pick(cm.f, |_, f| f.format.as_deref() == Some("uri"));
            cm.configure(ty).await;
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), json!("https://hooks.example.com/changed"));
            let body = Value::Object(b);
            let update = cm.update(&ty.name, &body);
            let read = async {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                cm.get(&ty.name).await.text
            };
            let (_, seen) = tokio::join!(update, read);
            format!("{seen} {}", cm.get(&ty.name).await.text)
        }
        EnvelopeSkippedOnEarlyErrors => {
            let unknown = format!(
                "{}/groups/{}/integrations?envelope=true",
                cm.f.base_path,
                "f".repeat(24)
            );
            cm.req(Method::GET, &unknown).send().await.text
        }
        PageNumBoundedToI64 => cm
            .list("pageNum=9223372036854775808")
            .await
            .status
            .to_string(),
        SignedIntegersIgnored => cm.list("itemsPerPage=01").await.text,
        RepeatedParameterLastWins => cm.list("itemsPerPage=1&itemsPerPage=2").await.text,
        UnknownQueryParameterRefused => cm.list("notAParameter=1").await.status.to_string(),
        BooleansCaseInsensitive => cm.list("pretty=True").await.status.to_string(),
        TrailingBytesIgnored => cm
            .req(Method::POST, &cm.path(&first.name))
            .header("content-type", "application/json")
            .body(format!("{}x", Value::Object(valid_body(first))))
            .send()
            .await
            .status
            .to_string(),
        DigestNcReplayAccepted => {
            cm.list("").await;
            let h = t
                .owner
                .header(&t.client, &Method::GET, &cm.list_path())
                .await
                .unwrap()
                .unwrap();
            let h = h.to_str().unwrap().to_owned();
            let a = cm
                .req(Method::GET, &cm.list_path())
                .who(Who::Raw(h.clone()))
                .send()
                .await
                .status;
            let b = cm
                .req(Method::GET, &cm.list_path())
                .who(Who::Raw(h))
                .send()
                .await
                .status;
            format!("{a} {b}")
        }
        StaleFlagMissing => {
            cm.list("").await;
            let h = t
                .owner
                .header(&t.client, &Method::GET, &cm.list_path())
                .await
                .unwrap()
                .unwrap();
            t.srv.state.auth().expire_all_nonces();
            let r = cm
                .req(Method::GET, &cm.list_path())
                .who(Who::Raw(h.to_str().unwrap().into()))
                .send()
                .await;
            r.header("www-authenticate")
                .unwrap_or("")
                .contains("stale=true")
                .to_string()
        }
        AcceptHeaderIgnored => t
            .req(Method::GET, &v2.list_path())
            .header("accept", "application/json")
            .send()
            .await
            .status
            .to_string(),
        AcceptQValuesIgnored => {
            let (a, b) = (&v2.f.versions[0].media_type, &v2.f.versions[1].media_type);
            let r = t
                .req(Method::GET, &v2.list_path())
                .header("accept", &format!("{a};q=0.1, {b}"))
                .send()
                .await;
            r.content_type().to_owned()
        }
        ResponseMediaTypePlainJson => v2.list("").await.content_type().to_owned(),
        ErrorMediaTypeVersioned => v2.get(&v2.v.types[0].name).await.content_type().to_owned(),
        V2023FieldsIn2025 => {
            let f = v2.f;
            let (v, ty, extra) = f
                .versions
                .iter()
                .find_map(|v| {
                    f.versions
                        .iter()
                        .filter(|o| o.name != v.name)
                        .find_map(|o| {
                            v.types.iter().find_map(|ty| {
                                let oty = o.integration_type(&ty.name)?;
                                oty.fields
                                    .iter()
                                    .find(|x| ty.field(&x.name).is_none())
                                    .map(|x| (v, ty, x))
                            })
                        })
                })
                .unwrap();
            let fam = t.on(f, v);
            let mut b = valid_body(ty);
            b.insert(extra.name.clone(), value_for(extra));
            fam.create(&ty.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        UnknownFieldAccepted => {
            let mut b = valid_body(first);
            b.insert("bogus".into(), json!(1));
            cm.create(&first.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        RequiredNullAccepted => {
            let (ty, f) = pick(cm.f, |_, f| f.required);
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), Value::Null);
            cm.create(&ty.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        EnumUnchecked => {
            let (ty, f) = pick(cm.f, |_, f| !f.enum_values.is_empty());
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), json!("NOPE"));
            cm.create(&ty.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        PatternUnchecked => {
            let (ty, f) = pick(v2.f, |_, f| f.pattern.is_some() && f.format.is_none());
            let mut b = valid_body(ty);
            let good = value_for(f).as_str().unwrap().to_owned();
            let bad = break_pattern(
                &regex::Regex::new(f.pattern.as_ref().unwrap()).unwrap(),
                &good,
            )
            .unwrap();
            b.insert(f.name.clone(), json!(bad));
            v2.create(&ty.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        LengthUnchecked => {
            let (ty, f) = pick(v2.f, |_, f| f.max_length.is_some());
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), json!("a".repeat(f.max_length.unwrap() + 1)));
            v2.create(&ty.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        UrlUnchecked => {
            let (ty, f) = pick(cm.f, |_, f| f.format.as_deref() == Some("uri"));
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), json!("ftp://example.com/abcdef"));
            cm.create(&ty.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        ConditionalRequiredUnchecked => {
            let ty =
                cm.v.types
                    .iter()
                    .find(|t| !t.conditional_required.is_empty())
                    .unwrap();
            let c = &ty.conditional_required[0];
            let mut b = valid_body(ty);
            b.insert(c.when_field.clone(), c.equals.clone());
            for n in &c.then_required {
                b.remove(n);
            }
            cm.create(&ty.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        TypeMismatchAccepted => {
            let mut b = valid_body(first);
            let f = first.settable_fields().next().unwrap();
            b.insert(f.name.clone(), json!(12345));
            cm.create(&first.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        DefaultsNotReturned => {
            let (ty, _) = pick(cm.f, |_, f| f.default.is_some());
            cm.create(&ty.name, &Value::Object(minimal_body(ty))).await;
            cm.get(&ty.name).await.text
        }
        OptionalEmptyStringDropped => {
            let (ty, f) = pick(cm.f, |_, f| {
                !f.required
                    && f.kind == FieldKind::String
                    && f.enum_values.is_empty()
                    && f.secret.is_none()
                    && f.default.is_none()
            });
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), json!(""));
            cm.create(&ty.name, &Value::Object(b)).await;
            cm.get(&ty.name).await.text
        }
        DuplicateCreateOverwrites => {
            cm.configure(first).await;
            cm.create(&first.name, &Value::Object(valid_body(first)))
                .await
                .status
                .to_string()
        }
        UpdateMergeSemanticsSwapped => {
            let (ty, f) = pick(v1.f, |_, f| {
                !f.required && f.default.is_none() && f.secret.is_none()
            });
            v1.configure(ty).await;
            v1.update(&ty.name, &Value::Object(minimal_body(ty))).await;
            v1.get(&ty.name)
                .await
                .json()
                .get(&f.name)
                .is_some()
                .to_string()
        }
        FailedUpdatePartiallyApplied => {
            let (ty, f) = pick(cm.f, |_, f| !f.enum_values.is_empty());
            cm.configure(ty).await;
            let mut b = valid_body(ty);
            for s in ty.secret_fields().filter(|s| s.kind == FieldKind::String) {
                b.insert(s.name.clone(), json!(format!("{MARK}-changed-0000")));
            }
            b.insert(f.name.clone(), json!("NOPE"));
            let r = cm.update(&ty.name, &Value::Object(b)).await;
            let fields: Vec<_> = cm.stored().into_iter().map(|i| i.fields).collect();
            format!("{} {fields:?}", r.status)
        }
        V2UpdateUpserts => {
            let ty = &v2.v.types[0];
            v2.update(&ty.name, &Value::Object(valid_body(ty)))
                .await
                .status
                .to_string()
        }
        IdChangesOnUpdate => {
            let ty = &v2.v.types[0];
            let a = v2
                .create(&ty.name, &Value::Object(valid_body(ty)))
                .await
                .results()[0]["id"]
                .clone();
            let b = v2
                .update(&ty.name, &Value::Object(valid_body(ty)))
                .await
                .results()[0]["id"]
                .clone();
            (a == b).to_string()
        }
        AssignedIdInV1 => {
            cm.configure(first).await;
            cm.get(&first.name).await.text
        }
        DeleteKeepsIntegration => {
            cm.configure(first).await;
            cm.delete(&first.name).await;
            cm.get(&first.name).await.status.to_string()
        }
        MaskCountsBytes => {
            let (ty, f) = pick(cm.f, |_, f| f.secret == Some(SecretKind::MaskLast4));
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), json!(format!("pässwörd-{MARK}-ünïcode")));
            cm.create(&ty.name, &Value::Object(b)).await;
            cm.get(&ty.name).await.json()[&f.name].to_string()
        }
        UrlMaskSkipsSlash => {
            let (ty, f) = pick(cm.f, |_, f| f.secret == Some(SecretKind::MaskUrl));
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), json!("https://hooks.example.com/abcd"));
            cm.create(&ty.name, &Value::Object(b)).await;
            cm.get(&ty.name).await.json()[&f.name].to_string()
        }
        UrlMaskDropsPort => {
            let (ty, f) = pick(cm.f, |_, f| f.secret == Some(SecretKind::MaskUrl));
            let mut b = valid_body(ty);
            b.insert(
                f.name.clone(),
                json!("https://hooks.example.com:8443/abcdef"),
            );
            cm.create(&ty.name, &Value::Object(b)).await;
            cm.get(&ty.name).await.json()[&f.name].to_string()
        }
        MaskSkipsPunctuation | ShortSecretUnmasked => {
            let (ty, f) = pick(cm.f, |_, f| f.secret == Some(SecretKind::MaskLast4));
            let value = if fault == ShortSecretUnmasked {
                "ab-cd"
            } else {
                "ab-cd_ef.gh"
            };
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), json!(value));
            cm.create(&ty.name, &Value::Object(b)).await;
            cm.get(&ty.name).await.json()[&f.name].to_string()
        }
        EnumFirstMembersOnly => {
            let (ty, f) = pick(v2.f, |_, f| f.enum_values.len() > 2);
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), json!(f.enum_values[2]));
            v2.create(&ty.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        LengthCountsBytes => {
            let (ty, f) = pick(v2.f, |_, f| f.max_length.is_some());
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), json!("ü".repeat(f.max_length.unwrap())));
            v2.create(&ty.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        ContentTypeExact => cm
            .req(Method::POST, &cm.path(&first.name))
            .header("content-type", "application/json; charset=UTF-8")
            .json(&Value::Object(valid_body(first)))
            .send()
            .await
            .status
            .to_string(),
        CreateRace => {
            let body = Value::Object(valid_body(first));
            let creates = (0..4).map(|_| cm.create(&first.name, &body));
            let mut statuses: Vec<u16> = futures_util::future::join_all(creates)
                .await
                .iter()
                .map(|r| r.status)
                .collect();
            statuses.sort_unstable();
            format!("{statuses:?}")
        }
    }
}

#[tokio::test]
async fn every_fault_changes_behaviour() {
    let t = T::new().await;
    let mut same = Vec::new();
    for &fault in Fault::ALL {
        t.srv.state.set_faults(&[]);
        t.srv.state.reset();
        let good = probe(&t, fault).await;
        t.srv.state.set_faults(&[fault]);
        t.srv.state.reset();
        let bad = probe(&t, fault).await;
        t.srv.state.set_faults(&[]);
        if good == bad {
            same.push(format!("{fault}: {good}"));
        }
    }
    assert!(
        same.is_empty(),
        "faults without effect:\n{}",
        same.join("\n")
    );
    assert!(Fault::ALL.len() >= 25);
    for f in Fault::ALL {
        assert_eq!(f.name().parse::<Fault>().unwrap(), *f);
    }
}

// ---------------------------------------------------------------------------------------------
// contract section 9
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn url_schemes_compare_case_insensitively_and_the_rule_decides() {
    let t = T::new().await;
    let cm = t.fam("cloud-manager");
    let (ty, f) = pick(cm.f, |_, f| f.format.as_deref() == Some("uri"));
    for (url, ok) in [
        ("HTTPS://HOOKS.EXAMPLE.COM/x", true),
        ("Http://hooks.example.com/services/abcdef", true),
        ("https://user:pw@hooks.example.com/x", true),
        ("https:///x", false),
        ("ftp://hooks.example.com/x", false),
        ("hooks.example.com/x", false),
        ("/services/x", false),
    ] {
        t.srv.state.reset();
        let mut b = valid_body(ty);
        b.insert(f.name.clone(), json!(url));
        let r = cm.create(&ty.name, &Value::Object(b)).await;
        if ok {
            assert_eq!(r.status, 200, "{url}: {}", r.text);
            let shown = cm.get(&ty.name).await.json()[&f.name].clone();
            assert_eq!(shown, json!(expect_url(url)), "{url}");
        } else {
            assert_eq!(r.status, 400, "{url}: {}", r.text);
            assert_eq!(r.code(), "INVALID_INTEGRATION_SETTINGS", "{url}");
        }
    }
}

#[tokio::test]
async fn url_secrets_are_masked_from_the_slash_after_the_host() {
    let t = T::new().await;
    let cm = t.fam("cloud-manager");
    let (ty, f) = pick(cm.f, |_, f| f.secret == Some(SecretKind::MaskUrl));
    for (url, shown) in [
        ("https://example.com/abcd", "https://example.com/****abcd"),
        ("https://example.com/abc", "https://example.com/****"),
        ("https://example.com", "https://example.com/****"),
        ("http://h:8080/x/yz12345", "http://h:8080/****2345"),
        (
            "https://u:p@example.com/a?q=12345",
            "https://example.com/****2345",
        ),
    ] {
        t.srv.state.reset();
        let mut b = valid_body(ty);
        b.insert(f.name.clone(), json!(url));
        let r = cm.create(&ty.name, &Value::Object(b)).await;
        assert_eq!(r.status, 200, "{url}: {}", r.text);
        assert_eq!(
            cm.get(&ty.name).await.json()[&f.name],
            json!(shown),
            "{url}"
        );
    }
}

#[tokio::test]
async fn lengths_and_masks_count_characters() {
    let t = T::new().await;
    let v2 = t.fam("atlas-v2");
    let (ty, f) = pick(v2.f, |_, f| f.max_length.is_some() && f.pattern.is_none());
    let max = f.max_length.unwrap();
    let mut b = valid_body(ty);
    b.insert(f.name.clone(), json!("日".repeat(max)));
    let r = v2.create(&ty.name, &Value::Object(b.clone())).await;
    assert_eq!(r.status, 200, "{}", r.text);
    t.srv.state.reset();
    b.insert(f.name.clone(), json!("日".repeat(max + 1)));
    let r = v2.create(&ty.name, &Value::Object(b)).await;
    assert_eq!(r.status, 400, "{}", r.text);

    let cm = t.fam("cloud-manager");
    let (ty, f) = pick(cm.f, |_, f| f.secret == Some(SecretKind::MaskLast4));
    let mut b = valid_body(ty);
    b.insert(f.name.clone(), json!("pässwörd-ünïcode"));
    cm.create(&ty.name, &Value::Object(b)).await;
    assert_eq!(
        cm.get(&ty.name).await.json()[&f.name],
        json!("************code")
    );
}

#[tokio::test]
async fn content_type_parameters_and_letter_case_are_ignored() {
    let t = T::new().await;
    for fam in t.all() {
        let ty = &fam.v.types[0];
        let media = fam.v.media_type.clone();
        for ct in [
            format!("{media}; charset=UTF-8"),
            format!("{};charset=utf-8", media.to_uppercase()),
            "Application/JSON ; Charset=\"utf-8\"".to_owned(),
        ] {
            t.srv.state.reset();
            let r = fam
                .req(Method::POST, &fam.path(&ty.name))
                .header("content-type", &ct)
                .json(&Value::Object(valid_body(ty)))
                .send()
                .await;
            assert_eq!(r.status, 200, "{} {ct}: {}", fam.label(), r.text);
        }
        let r = fam
            .req(Method::POST, &fam.path(&ty.name))
            .header("content-type", "text/plain; charset=UTF-8")
            .json(&Value::Object(valid_body(ty)))
            .send()
            .await;
        assert_eq!(r.status, 415, "{}", fam.label());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_concurrent_creates_exactly_one_wins() {
    let t = T::new().await;
    for fam in t.all() {
        t.srv.state.reset();
        let ty = &fam.v.types[0];
        let bodies: Vec<Value> = (0..8)
            .map(|i| {
                let mut b = valid_body(ty);
                for f in ty
                    .secret_fields()
                    .filter(|f| f.secret == Some(SecretKind::MaskLast4))
                {
                    b.insert(f.name.clone(), json!(format!("{MARK}-{i}-0123456789")));
                }
                Value::Object(b)
            })
            .collect();
        let creates = bodies.iter().map(|b| fam.create(&ty.name, b));
        let answers = futures_util::future::join_all(creates).await;
        let won: Vec<usize> = (0..answers.len())
            .filter(|i| answers[*i].status == 200)
            .collect();
        assert_eq!(
            won.len(),
            1,
            "{}: {:?}",
            fam.label(),
            answers.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        for (i, r) in answers.iter().enumerate().filter(|(i, _)| *i != won[0]) {
            assert_eq!(r.status, 409, "{} #{i}", fam.label());
            assert_eq!(r.code(), "INTEGRATION_ALREADY_CONFIGURED");
        }
        let stored = fam.stored();
        let stored = stored.iter().find(|s| s.type_name == ty.name).unwrap();
        let mut sent = bodies[won[0]].as_object().unwrap().clone();
        sent.retain(|k, _| ty.field(k).is_some_and(|f| f.settable()));
        assert_eq!(
            stored.fields,
            sent,
            "{}: the winner's body, whole",
            fam.label()
        );
    }
}
