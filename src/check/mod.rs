//! Stage 5: judge recorded exchanges against a case's expectations and the spec.
//!
//! A non-conformance is a [`Finding`], never an error. Every response of a case is also checked
//! for what holds everywhere: a documented status, the right media type, a body valid under the
//! spec's schema for that status and media type, and no secret in clear. Check names follow
//! schemathesis where they overlap.

mod body;
pub(crate) use body::url_mask_parts;
mod pagination;
pub mod reason;
mod unlisted;

use serde::Serialize;
use serde_json::Value;

use crate::case::{Case, Expect, Role, Step};
use crate::exchange::{Exchange, Response};
use crate::harness::Harness;
use crate::model::{Family, Level, Situation};
use crate::schema::Mode;
use crate::scrub::Scrubber;

/// Per-family state the checks need: the integrations that existed before the run.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    /// (family, version label) → type → object as the target returned it.
    pub objects:
        std::collections::BTreeMap<(String, String), std::collections::BTreeMap<String, Value>>,
}

impl Baseline {
    pub fn for_version(&self, family: &str, version: &str) -> Vec<(String, Value)> {
        self.objects
            .get(&(family.to_owned(), version.to_owned()))
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }
}

/// One non-conformance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub check: String,
    pub case: String,
    /// Index of the step whose response broke the expectation.
    pub step: usize,
    pub message: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
}

/// Something worth a look that is not a failure (contract §9: a field the contract does not
/// list in a returned integration). Warnings never change a verdict or the exit code, and
/// snapshots never show them (they would differ between conformant targets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub check: String,
    pub case: String,
    /// Index of the first step whose response showed it.
    pub step: usize,
    pub message: String,
    /// The integration type of the object that carried the field.
    pub object: Option<String>,
    /// The field.
    pub field: Option<String>,
}

/// What judging a case found.
#[derive(Debug, Clone, Default)]
pub struct Judged {
    pub findings: Vec<Finding>,
    pub warnings: Vec<Warning>,
}

/// What the checks need besides the case and its exchanges.
pub struct Context<'a> {
    pub harness: &'a Harness,
    pub family: &'a Family,
    pub baseline: &'a Baseline,
    /// Secret values the case sent (they must never come back) and the target's credentials:
    /// none may appear in a finding.
    pub secrets: &'a [String],
    /// How many of `secrets`, from the start, the case itself sent.
    pub sent: usize,
}

pub(crate) struct Judge<'a> {
    cx: &'a Context<'a>,
    case: &'a Case,
    findings: Vec<Finding>,
    warnings: Vec<Warning>,
}

impl Judge<'_> {
    /// The family version a step's request was read under.
    fn version_of(&self, step: usize) -> Option<&crate::model::Version> {
        let family = self.cx.family;
        self.case
            .steps
            .get(step)
            .and_then(|s| s.request.version.as_deref())
            .and_then(|v| family.version(Some(v)))
            .or_else(|| family.versions.first())
    }

    /// Whether the step's family version lists `field` for `type_name` (true when the type is
    /// unknown there: then nothing is known to be unlisted).
    pub(crate) fn listed(&self, step: usize, type_name: &str, field: &str) -> bool {
        self.version_of(step)
            .and_then(|v| v.integration_type(type_name))
            .is_none_or(|t| t.fields.iter().any(|f| f.name == field))
    }

    fn warn(&mut self, step: usize, object: &str, field: &str, message: String) {
        if self
            .warnings
            .iter()
            .any(|w| w.object.as_deref() == Some(object) && w.field.as_deref() == Some(field))
        {
            return;
        }
        let scrubber = Scrubber::new(self.cx.secrets.iter().cloned());
        let s = |t: String| cut(&scrubber.clean(&t));
        self.warnings.push(Warning {
            check: "unlisted_field".to_owned(),
            case: self.case.id.clone(),
            step,
            message: s(message),
            object: Some(object.to_owned()),
            field: Some(field.to_owned()),
        });
    }

    pub(crate) fn fail(
        &mut self,
        check: &str,
        step: usize,
        message: impl Into<String>,
        expected: Option<String>,
        actual: Option<String>,
    ) {
        // Scrub first, then cut: a cut could leave part of a secret that no longer matches.
        let scrubber = Scrubber::new(self.cx.secrets.iter().cloned());
        let s = |t: String| cut(&scrubber.clean(&t));
        self.findings.push(Finding {
            check: check.to_owned(),
            case: self.case.id.clone(),
            step,
            message: s(message.into()),
            expected: expected.map(s),
            actual: actual.map(s),
        });
    }
}

/// The finding for a setup step the target refused (a valid request a conformant target
/// accepts).
pub fn setup_failed(
    case: &Case,
    exchanges: &[Exchange],
    step: usize,
    secrets: &[String],
) -> Finding {
    let ex = exchanges.iter().find(|e| e.step == step);
    let actual = ex.map(|e| match (&e.response, &e.error) {
        (Some(r), _) => format!("{} {}", r.status, error_summary(r)),
        (None, Some(err)) => err.clone(),
        _ => "no answer".into(),
    });
    let actual = actual.map(|a| cut(&Scrubber::new(secrets.iter().cloned()).clean(&a)));
    Finding {
        check: "setup".into(),
        case: case.id.clone(),
        step,
        message: format!(
            "setup request {} was not accepted; the case could not run",
            ex.map(|e| format!("{} {}", e.method, e.path_and_query()))
                .unwrap_or_default()
        ),
        expected: Some("a 2xx answer to a valid request".into()),
        actual,
    }
}

fn error_summary(r: &Response) -> String {
    match r.json() {
        Some(v) => {
            let v = v.get("content").cloned().unwrap_or(v);
            format!(
                "{} {}",
                v.get("errorCode").and_then(Value::as_str).unwrap_or(""),
                v.get("detail").and_then(Value::as_str).unwrap_or("")
            )
            .trim()
            .to_owned()
        }
        None => String::new(),
    }
}

/// Judge every exchange of a case: its findings only.
pub fn run(cx: &Context<'_>, case: &Case, exchanges: &[Exchange]) -> Vec<Finding> {
    judge(cx, case, exchanges).findings
}

/// Judge every exchange of a case: findings and warnings.
pub fn judge(cx: &Context<'_>, case: &Case, exchanges: &[Exchange]) -> Judged {
    let mut judge = Judge {
        cx,
        case,
        findings: Vec::new(),
        warnings: Vec::new(),
    };
    for ex in exchanges {
        no_secret_leak(&mut judge, ex);
        let step = &case.steps[ex.step];
        if !matches!(step.role, Role::Test | Role::Concurrent | Role::Verify) {
            continue;
        }
        let Some(resp) = &ex.response else {
            judge.fail(
                "transport",
                ex.step,
                format!("no HTTP response to {} {}", ex.method, ex.path_and_query()),
                None,
                ex.error.clone(),
            );
            continue;
        };
        if resp.truncated {
            judge.fail(
                "response_size",
                ex.step,
                "the response body exceeds the size cap",
                None,
                None,
            );
            continue;
        }
        if let Some(err) = &ex.error {
            judge.fail(
                "transport",
                ex.step,
                "the response body could not be read",
                None,
                Some(err.clone()),
            );
            continue;
        }
        general(&mut judge, step, ex, resp);
        for expect in &step.expect {
            expectation(&mut judge, exchanges, step, ex, resp, expect);
        }
    }
    one_winner(&mut judge, exchanges);
    Judged {
        findings: judge.findings,
        warnings: judge.warnings,
    }
}

/// A level C expectation of the step that accepts `status` (any 4xx where the row lists no
/// statuses), so that a status the spec does not document for the operation still passes.
fn class_level_accepts(step: &Step, status: u16) -> bool {
    step.expect.iter().any(|e| match e {
        Expect::Error { rule, .. } if rule.level == Level::C => {
            rule.status_ok(status) || rule.also_status.is_empty() && (400..500).contains(&status)
        }
        _ => false,
    })
}

/// The steps of a concurrent group that succeeded: `(step, success)` for each answered step
/// that carries a [`Expect::OneWins`].
fn contenders(case: &Case, exchanges: &[Exchange]) -> Vec<(usize, bool)> {
    exchanges
        .iter()
        .filter_map(|ex| {
            let status = case.steps[ex.step].expect.iter().find_map(|e| match e {
                Expect::OneWins { status, .. } => Some(*status),
                _ => None,
            })?;
            Some((
                ex.step,
                ex.response.as_ref().is_some_and(|r| r.status == status),
            ))
        })
        .collect()
}

/// Of a group of concurrent creates of one type, exactly one succeeds (contract section 9); each
/// refusal is judged on its own step.
fn one_winner(j: &mut Judge<'_>, exchanges: &[Exchange]) {
    let group = contenders(j.case, exchanges);
    let Some(&(first, _)) = group.first() else {
        return;
    };
    let winners = group.iter().filter(|(_, won)| *won).count();
    if winners != 1 {
        j.fail(
            "state",
            first,
            format!(
                "of {} concurrent creates of one type, {winners} succeeded",
                group.len()
            ),
            Some("exactly one success, every other one refused".into()),
            Some(format!("{winners} successes")),
        );
    }
}

/// A secret the case sent must appear in no response byte or header.
fn no_secret_leak(j: &mut Judge<'_>, ex: &Exchange) {
    let Some(resp) = &ex.response else { return };
    let body = resp.body_text();
    for secret in &j.cx.secrets[..j.cx.sent.min(j.cx.secrets.len())] {
        if secret.len() < 5 {
            continue;
        }
        // JSON may escape `/` as `\/`: the secret is still there.
        let escaped = secret.replace('/', "\\/");
        let found = |text: &str| text.contains(secret.as_str()) || text.contains(escaped.as_str());
        let in_body = found(&body);
        let in_header = resp.headers.iter().find(|(_, v)| found(v));
        if in_body || in_header.is_some() {
            let place = match in_header {
                Some((name, _)) if !in_body => format!("the {name} header"),
                _ => "the body".to_owned(),
            };
            j.fail(
                "secret_redaction",
                ex.step,
                format!("secret echoed: a secret sent in this case comes back in clear in {place}"),
                Some("masked or absent".into()),
                Some("the value as sent".into()),
            );
            return;
        }
    }
}

/// Checks that hold for every response: documented status, media type, schema.
fn general(j: &mut Judge<'_>, step: &Step, ex: &Exchange, resp: &Response) {
    let Some(op) =
        j.cx.family
            .operations
            .iter()
            .find(|o| o.id == step.request.operation)
    else {
        return;
    };
    let Some(def) = op.response(resp.status) else {
        if class_level_accepts(step, resp.status) {
            // the error check judges the body against the error shape
            return;
        }
        j.fail(
            "status_code_conformance",
            ex.step,
            format!("status {} is not documented for {}", resp.status, op.id),
            Some(
                op.responses
                    .iter()
                    .map(|r| r.status.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Some(format!("{} {}", resp.status, error_summary(resp))),
        );
        return;
    };
    let version = step
        .request
        .version
        .as_deref()
        .and_then(|v| j.cx.family.version(Some(v)))
        .or_else(|| j.cx.family.versions.first());
    let success = (200..300).contains(&resp.status);
    if resp.body.is_empty() {
        if !def.content.is_empty() && resp.status != 401 {
            j.fail(
                "response_schema_conformance",
                ex.step,
                format!("the {} response has no body", resp.status),
                Some("a JSON body".into()),
                Some("empty".into()),
            );
        }
        return;
    }
    if def.content.is_empty() {
        j.fail(
            "response_schema_conformance",
            ex.step,
            format!("the {} response must have no body", resp.status),
            Some("no body".into()),
            Some(format!("{} bytes", resp.body.len())),
        );
        return;
    }
    let media = resp.media_type();
    let expected_media = match (success, version) {
        (true, Some(v)) => v.media_type.clone(),
        _ => "application/json".to_owned(),
    };
    if media.as_deref() != Some(expected_media.as_str()) {
        j.fail(
            "content_type_conformance",
            ex.step,
            format!(
                "the {} response's Content-Type is not {expected_media}",
                resp.status
            ),
            Some(expected_media.clone()),
            Some(resp.header("content-type").unwrap_or("absent").to_owned()),
        );
    }
    let Some(json) = resp.json() else {
        j.fail(
            "response_schema_conformance",
            ex.step,
            format!("the {} response body is not JSON", resp.status),
            Some("JSON".into()),
            Some(resp.body_text()),
        );
        return;
    };
    let pointer = def
        .content
        .iter()
        .find(|(m, _)| *m == expected_media)
        .or_else(|| def.content.first())
        .map(|(_, p)| p.clone());
    let Some(pointer) = pointer else { return };
    let mut body = unwrap_envelope(
        &json,
        step.request.enveloped(),
        success && op.kind.returns_list(),
    );
    if success {
        if let Some(version) = version {
            let sent = &j.cx.secrets[..j.cx.sent.min(j.cx.secrets.len())];
            let found = unlisted::strip(&j.cx.harness.model, j.cx.family, version, &mut body, sent);
            for u in found {
                match u.class {
                    unlisted::Unlisted::Warning => j.warn(
                        ex.step,
                        &u.type_name,
                        &u.field,
                        format!(
                            "{}.{} is returned but the contract does not list it",
                            u.type_name, u.field
                        ),
                    ),
                    unlisted::Unlisted::Failure { check, why } => j.fail(
                        check,
                        ex.step,
                        format!("{}.{} is returned and {why}", u.type_name, u.field),
                        Some("absent".into()),
                        Some("present".into()),
                    ),
                }
            }
        }
    }
    if let Some(Err(violations)) =
        j.cx.harness
            .validators
            .validate(&pointer, Mode::Response, &body)
    {
        let listed: Vec<String> = violations.iter().take(5).map(|v| v.to_string()).collect();
        j.fail(
            "response_schema_conformance",
            ex.step,
            format!(
                "the {} body breaks the spec's schema {}",
                resp.status,
                pointer.rsplit('/').next().unwrap_or(&pointer)
            ),
            None,
            Some(listed.join("; ")),
        );
    }
}

/// The body without its envelope (for schema and content checks).
pub(crate) fn unwrap_envelope(json: &Value, enveloped: bool, list: bool) -> Value {
    if !enveloped {
        return json.clone();
    }
    if list {
        let mut v = json.clone();
        if let Some(map) = v.as_object_mut() {
            map.remove("status");
        }
        return v;
    }
    json.get("content").cloned().unwrap_or_else(|| json.clone())
}

/// `object` without the fields the version of `step` does not list for `type_name`.
fn listed_only(j: &Judge<'_>, step: usize, type_name: &str, object: &Value) -> Value {
    match object.as_object() {
        Some(o) => Value::Object(
            o.iter()
                .filter(|(k, _)| j.listed(step, type_name, k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        None => object.clone(),
    }
}

/// Findings quote at most this many characters of a body.
const QUOTE: usize = 240;

fn cut(text: &str) -> String {
    if text.chars().count() <= QUOTE {
        return text.to_owned();
    }
    let t: String = text.chars().take(QUOTE).collect();
    format!("{t}…")
}

fn expectation(
    j: &mut Judge<'_>,
    all: &[Exchange],
    step: &Step,
    ex: &Exchange,
    resp: &Response,
    expect: &Expect,
) {
    let json = resp.json();
    let enveloped = step.request.enveloped();
    match expect {
        Expect::Status { status } => {
            if resp.status != *status {
                j.fail(
                    "status_code_conformance",
                    ex.step,
                    format!(
                        "{} {} answered {}, not {status}",
                        ex.method,
                        ex.path_and_query(),
                        resp.status
                    ),
                    Some(status.to_string()),
                    Some(format!("{} {}", resp.status, error_summary(resp))),
                );
            }
        }
        Expect::Error { rule, field } => error(j, ex, resp, rule, field.as_deref(), enveloped),
        Expect::Challenge { stale } => {
            if resp.status != 401 {
                return; // the status check says why
            }
            if resp.header("www-authenticate").is_none() {
                j.fail(
                    "status_code_conformance",
                    ex.step,
                    "a 401 without a WWW-Authenticate challenge",
                    Some("WWW-Authenticate".into()),
                    Some("absent".into()),
                );
            } else if *stale {
                let flagged = resp.headers_named("www-authenticate").any(|v| {
                    crate::auth::parse_challenges(v).is_ok_and(|cs| {
                        cs.iter().any(|c| {
                            c.scheme.eq_ignore_ascii_case("digest")
                                && c.param("stale")
                                    .is_some_and(|s| s.eq_ignore_ascii_case("true"))
                        })
                    })
                });
                if !flagged {
                    j.fail(
                        "status_code_conformance",
                        ex.step,
                        "a digest response to an expired nonce must be answered with stale=true",
                        Some("Digest ... stale=true".into()),
                        resp.header("www-authenticate").map(str::to_owned),
                    );
                }
            }
        }
        Expect::Header { name } => {
            if resp.header(name).is_none() {
                j.fail(
                    "status_code_conformance",
                    ex.step,
                    format!("the {} response lacks the {name} header", resp.status),
                    Some(name.clone()),
                    Some("absent".into()),
                );
            }
        }
        Expect::Single { view } => {
            if !(200..300).contains(&resp.status) {
                return; // the status check says why
            }
            let Some(json) = json else { return };
            let body = unwrap_envelope(&json, enveloped, false);
            body::compare_object(j, ex.step, "state", &view.type_name, &view.object, &body);
        }
        Expect::Page { page } => {
            if (200..300).contains(&resp.status) {
                if let Some(json) = json {
                    pagination::page(j, step, ex, &unwrap_envelope(&json, enveloped, true), page);
                }
            }
        }
        Expect::Enveloped { status } => {
            let Some(json) = json else {
                j.fail(
                    "envelope",
                    ex.step,
                    "an enveloped response must have a JSON body",
                    None,
                    None,
                );
                return;
            };
            if json.get("status").and_then(Value::as_u64) != Some(u64::from(*status)) {
                j.fail(
                    "envelope",
                    ex.step,
                    "envelope=true: the body's status is not the HTTP status",
                    Some(status.to_string()),
                    Some(
                        json.get("status")
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "absent".into()),
                    ),
                );
            }
            if resp.status != *status {
                j.fail(
                    "envelope",
                    ex.step,
                    "envelope=true changed the HTTP status",
                    Some(status.to_string()),
                    Some(resp.status.to_string()),
                );
            }
            let list = json.get("results").is_some();
            if !list && !json.get("content").is_some_and(Value::is_object) {
                j.fail(
                    "envelope",
                    ex.step,
                    "envelope=true: a single object or error must be under content",
                    Some("{\"status\", \"content\"}".into()),
                    Some(keys(&json)),
                );
            }
        }
        Expect::Pretty { pretty } => {
            let text = resp.body_text();
            let multi = text.trim_end().contains('\n');
            if multi != *pretty {
                j.fail(
                    "pretty",
                    ex.step,
                    if *pretty {
                        "pretty=true: the body is not indented over several lines"
                    } else {
                        "without pretty=true the body must be compact, on one line"
                    },
                    Some(
                        if *pretty {
                            "indented JSON"
                        } else {
                            "compact JSON"
                        }
                        .into(),
                    ),
                    Some(if multi { "several lines" } else { "one line" }.into()),
                );
            }
        }
        Expect::Empty => {
            if !resp.body.is_empty() {
                j.fail(
                    "response_schema_conformance",
                    ex.step,
                    format!("the {} response must have no body", resp.status),
                    Some("empty".into()),
                    Some(resp.body_text()),
                );
            }
        }
        Expect::MediaType { media_type } => {
            if resp.media_type().as_deref() != Some(media_type.as_str()) {
                j.fail(
                    "content_type_conformance",
                    ex.step,
                    format!("the response media type is not {media_type}"),
                    Some(media_type.clone()),
                    Some(resp.header("content-type").unwrap_or("absent").to_owned()),
                );
            }
        }
        Expect::Masked { type_name, fields } => {
            let Some(json) = json else {
                j.fail(
                    "secret_redaction",
                    ex.step,
                    "no JSON body to look for the masked secrets in",
                    None,
                    Some(resp.status.to_string()),
                );
                return;
            };
            body::masked(j, ex.step, &json, enveloped, type_name, fields);
        }
        Expect::OAuthError { status, error } => {
            let got = json
                .as_ref()
                .and_then(|v| v.get("error"))
                .and_then(Value::as_str);
            if resp.status != *status || got != Some(error.as_str()) {
                j.fail(
                    "error_code_conformance",
                    ex.step,
                    format!(
                        "the token endpoint answered {} {}, not {status} {{\"error\": \"{error}\"}} (RFC 6749 section 5.2)",
                        resp.status,
                        got.unwrap_or("without an error member")
                    ),
                    Some(format!("{status} {error}")),
                    Some(format!("{} {}", resp.status, got.unwrap_or("-"))),
                );
            }
        }
        Expect::OneWins { status, rule } | Expect::Either { status, rule } => {
            if resp.status != *status {
                error(j, ex, resp, rule, None, enveloped);
            }
        }
        Expect::Winner { type_name, views } => {
            if !(200..300).contains(&resp.status) {
                return; // the status check says why
            }
            let Some(json) = json else { return };
            let body = unwrap_envelope(&json, enveloped, false);
            let won: Vec<usize> = contenders(j.case, all)
                .into_iter()
                .filter_map(|(step, won)| won.then_some(step))
                .collect();
            let winner = match won[..] {
                [one] => views.iter().find(|(step, _)| *step == one),
                _ => None,
            };
            match winner {
                Some((_, view)) => {
                    body::compare_object(j, ex.step, "state", type_name, view, &body)
                }
                // No single winner (concurrent updates and reads, or the group check says
                // why): still, the state must be one of the bodies sent whole, never a mixture.
                // Fields the version does not list are judged apart (warnings, section 9).
                None if views.iter().any(|(_, v)| {
                    body::same_object(v, &listed_only(j, ex.step, type_name, &body))
                }) => {}
                None => j.fail(
                    "state",
                    ex.step,
                    format!("the stored {type_name} is none of the bodies sent concurrently"),
                    Some("exactly one of the concurrent bodies, whole".into()),
                    Some("a mixture or another value".into()),
                ),
            }
        }
        Expect::SameAssigned {
            type_name,
            field,
            step: earlier,
        } => {
            let now = json
                .as_ref()
                .and_then(|v| body::find_object(v, type_name))
                .and_then(|o| o.get(field).cloned());
            let before = all
                .iter()
                .find(|e| e.step == *earlier)
                .and_then(|e| e.response.as_ref())
                .and_then(Response::json)
                .and_then(|v| body::find_object(&v, type_name).and_then(|o| o.get(field).cloned()));
            if now.is_none() || now != before {
                j.fail(
                    "state",
                    ex.step,
                    format!("the server-assigned {field} of {type_name} changed"),
                    before.map(|v| v.to_string()),
                    Some(
                        now.map(|v| v.to_string())
                            .unwrap_or_else(|| "absent".into()),
                    ),
                );
            }
        }
    }
}

fn keys(v: &Value) -> String {
    match v.as_object() {
        Some(m) => format!("{{{}}}", m.keys().cloned().collect::<Vec<_>>().join(", ")),
        None => "not an object".into(),
    }
}

/// An error response: status and errorCode per the rule's level, the error body shape, the
/// `error` field, and (level E) the parameters.
fn error(
    j: &mut Judge<'_>,
    ex: &Exchange,
    resp: &Response,
    rule: &crate::model::ErrorRule,
    field: Option<&str>,
    enveloped: bool,
) {
    let code = rule.error_code.as_deref();
    let status_ok = match rule.level {
        Level::E | Level::S => resp.status == rule.status,
        Level::C if rule.also_status.is_empty() => (400..500).contains(&resp.status),
        Level::C => rule.status_ok(resp.status),
    };
    let expected_status = match rule.level {
        Level::C if rule.also_status.is_empty() => "any 4xx".to_owned(),
        _ => std::iter::once(rule.status)
            .chain(rule.also_status.iter().copied())
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(" or "),
    };
    let json = resp.json();
    let body = json.as_ref().map(|v| unwrap_envelope(v, enveloped, false));
    let got_code = body
        .as_ref()
        .and_then(|b| b.get("errorCode"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    if !status_ok {
        j.fail(
            "status_code_conformance",
            ex.step,
            format!(
                "{}: {} {} answered {}",
                rule.situation,
                ex.method,
                ex.path_and_query(),
                resp.status
            ),
            Some(format!(
                "{expected_status}{}",
                code.map(|c| format!(" {c}")).unwrap_or_default()
            )),
            Some(format!("{} {}", resp.status, error_summary(resp))),
        );
        return;
    }
    if rule.situation == Situation::Unauthenticated && resp.body.is_empty() {
        return; // the contract allows an empty 401
    }
    let Some(body) = body else {
        j.fail(
            "error_body",
            ex.step,
            format!("the {} error body is not JSON", resp.status),
            Some("the error body shape".into()),
            Some(resp.body_text()),
        );
        return;
    };
    if let Some(Err(violations)) =
        j.cx.harness
            .validators
            .validate(&j.cx.harness.model.error_schema, Mode::Response, &body)
    {
        j.fail(
            "error_body",
            ex.step,
            "the error body does not have the error shape",
            Some("{detail, error, errorCode, parameters, reason}".into()),
            Some(
                violations
                    .iter()
                    .take(3)
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        );
        return;
    }
    if body.get("error").and_then(Value::as_u64) != Some(u64::from(resp.status)) {
        j.fail(
            "error_body",
            ex.step,
            "the error body's error field is not the HTTP status",
            Some(resp.status.to_string()),
            body.get("error").map(|v| v.to_string()),
        );
    }
    // Any of the status's reason phrases (HTTP has named some statuses several ways).
    if let Some(phrase) = body.get("reason").and_then(Value::as_str) {
        if !reason::is_phrase(resp.status, phrase) {
            j.fail(
                "error_body",
                ex.step,
                format!(
                    "the error body's reason is not a reason phrase of {}",
                    resp.status
                ),
                Some(reason::phrases(resp.status).join(" or ")),
                Some(phrase.to_owned()),
            );
        }
    }
    match rule.level {
        Level::E => {
            if let Some(code) = code {
                if got_code.as_deref() != Some(code) {
                    j.fail(
                        "error_code_conformance",
                        ex.step,
                        format!("{}: wrong errorCode", rule.situation),
                        Some(code.to_owned()),
                        got_code.clone(),
                    );
                }
            }
            let expected_params: Vec<String> = rule
                .parameters
                .iter()
                .map(|p| {
                    if p == "{field}" {
                        field.unwrap_or_default().to_owned()
                    } else {
                        p.clone()
                    }
                })
                .collect();
            if !expected_params.is_empty() {
                let got: Vec<String> = body
                    .get("parameters")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .map(|v| {
                                v.as_str()
                                    .map(str::to_owned)
                                    .unwrap_or_else(|| v.to_string())
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                if got != expected_params {
                    j.fail(
                        "error_code_conformance",
                        ex.step,
                        format!(
                            "{}: the error's parameters do not name the offending field",
                            rule.situation
                        ),
                        Some(format!("{expected_params:?}")),
                        Some(format!("{got:?}")),
                    );
                }
            }
        }
        Level::S | Level::C => {
            if got_code.as_deref().is_none_or(str::is_empty) {
                j.fail(
                    "error_code_conformance",
                    ex.step,
                    format!("{}: the errorCode is empty", rule.situation),
                    Some("a non-empty errorCode".into()),
                    None,
                );
            }
        }
    }
}
