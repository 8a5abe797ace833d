//! Stage 5: judge recorded exchanges against a case's expectations and the spec.
//!
//! A non-conformance is a [`Finding`], never an error. Every response of a case is also checked
//! for what holds everywhere: a documented status, the right media type, a body valid under the
//! spec's schema for that status and media type, and no secret in clear. Check names follow
//! schemathesis where they overlap.

mod body;
pub(crate) use body::url_mask_parts;
mod error;
mod expect;
mod general;
mod pagination;
pub mod reason;
mod unlisted;

use serde::Serialize;
use serde_json::Value;

use crate::case::{Case, Expect, Role, Step};
use crate::exchange::{Exchange, Response};
use crate::harness::Harness;
use crate::model::{Family, Level, Wire};
use crate::scrub::Scrubber;

/// The check that judges an enveloped response (a check name, as reports and snapshots show it).
const ENVELOPE_CHECK: &str = "envelope";
/// The check that judges pretty-printing.
const PRETTY_CHECK: &str = "pretty";
/// The check that judges a list's pagination links.
const LINKS_CHECK: &str = "links";

/// Per-family state the checks need: the integrations that existed before the run.
#[derive(Debug, Clone, Default)]
pub struct Preexisting {
    /// (family, version label) → type → object as the target returned it.
    pub objects:
        std::collections::BTreeMap<(String, String), std::collections::BTreeMap<String, Value>>,
}

impl Preexisting {
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
    /// The integrations that existed before the run (the field keeps the name exploration
    /// sets).
    pub baseline: &'a Preexisting,
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

impl<'a> Judge<'a> {
    /// The API's own names, read from the spec (borrowed from the harness, not the judge, so a
    /// finding can be recorded while they are in use).
    pub(crate) fn wire(&self) -> &'a Wire {
        &self.cx.harness.model.wire
    }

    /// The family version a step's request was read under.
    fn version_of(&self, step: usize) -> Option<&crate::model::Version> {
        let family = self.cx.family;
        self.case
            .steps
            .get(step)
            .and_then(|s| version_of_step(family, s))
    }

    /// Whether the step's family version lists `field` for `type_name` (true when the type is
    /// unknown there: then nothing is known to be unlisted).
    pub(crate) fn listed(&self, step: usize, type_name: &str, field: &str) -> bool {
        self.version_of(step)
            .and_then(|v| v.integration_type(type_name))
            .is_none_or(|t| t.fields.iter().any(|f| f.name == field))
    }

    /// Whether `field` of `type_name` may come back as `null` for "no value" under the step's
    /// version (contract section 10): optional, without a default, returned at all.
    pub(crate) fn may_be_null(&self, step: usize, type_name: &str, field: &str) -> bool {
        self.version_of(step)
            .and_then(|v| v.integration_type(type_name))
            .and_then(|t| t.fields.iter().find(|f| f.name == field))
            .is_some_and(unlisted::may_be_null)
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
    harness: &Harness,
    case: &Case,
    exchanges: &[Exchange],
    step: usize,
    secrets: &[String],
) -> Finding {
    let ex = exchanges.iter().find(|e| e.step == step);
    let actual = ex.map(|e| match (&e.response, &e.error) {
        (Some(r), _) => format!("{} {}", r.status, error_summary(&harness.model.wire, r)),
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

/// `errorCode detail` of an error body, enveloped or not, for a finding's actual value.
fn error_summary(wire: &Wire, r: &Response) -> String {
    match r.json() {
        Some(v) => {
            let v = v.get(&wire.envelope.content).cloned().unwrap_or(v);
            let text = |name: &str| v.get(name).and_then(Value::as_str).unwrap_or("").to_owned();
            format!("{} {}", text(&wire.error.code), text(&wire.error.detail))
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
        general::general(&mut judge, step, ex, resp);
        for expect in &step.expect {
            expect::expectation(&mut judge, exchanges, step, ex, resp, expect);
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
    // JSON may spell a string with escapes (`\/`, `\u00e9`): the parsed body, written out again
    // without them, is scanned too.
    let plain = resp.json().map(|v| v.to_string()).unwrap_or_default();
    // Every length: short secrets are made of characters no answer holds by chance.
    for secret in j.cx.secrets[..j.cx.sent.min(j.cx.secrets.len())]
        .iter()
        .filter(|s| !s.is_empty())
    {
        let escaped = secret.replace('/', "\\/");
        let found = |text: &str| text.contains(secret.as_str()) || text.contains(escaped.as_str());
        let in_body = found(&body) || found(&plain);
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

/// The family version a step's request is read under: the one it names, else the family's first.
pub(crate) fn version_of_step<'f>(
    family: &'f Family,
    step: &Step,
) -> Option<&'f crate::model::Version> {
    step.request
        .version
        .as_deref()
        .and_then(|v| family.version(Some(v)))
        .or_else(|| family.versions.first())
}

/// `body` (a response to `step`) with only what the contract lists, at every level: what
/// snapshots show, so that fields a target may add never change them (contract section 10).
pub fn listed_view(
    model: &crate::model::Model,
    family: &Family,
    step: &Step,
    status: u16,
    body: &mut Value,
) {
    let list = family
        .operations
        .iter()
        .find(|o| o.id == step.request.operation)
        .is_some_and(|o| o.kind.returns_list());
    let frame = unlisted::Frame::of(&model.wire, step, list, status);
    let version = version_of_step(family, step);
    unlisted::strip_all(model, family, version, body, frame, &[]);
}

/// The body without its envelope (for schema and content checks).
pub(crate) fn unwrap_envelope(wire: &Wire, json: &Value, enveloped: bool, list: bool) -> Value {
    if !enveloped {
        return json.clone();
    }
    if list {
        let mut v = json.clone();
        if let Some(map) = v.as_object_mut() {
            map.remove(&wire.envelope.status);
        }
        return v;
    }
    json.get(&wire.envelope.content)
        .cloned()
        .unwrap_or_else(|| json.clone())
}

/// `object` without the fields the version of `step` does not list for `type_name`.
pub(crate) fn listed_only(j: &Judge<'_>, step: usize, type_name: &str, object: &Value) -> Value {
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

fn keys(v: &Value) -> String {
    match v.as_object() {
        Some(m) => format!("{{{}}}", m.keys().cloned().collect::<Vec<_>>().join(", ")),
        None => "not an object".into(),
    }
}
