//! An error response judged against its contract row at the row's level: the status, the error
//! body's shape, its status and reason fields, and the error code (exact with its parameters at
//! level E, any non-empty one at levels S and C).

use serde_json::Value;

use super::{error_summary, reason, unwrap_envelope, Judge};
use crate::exchange::{Exchange, Response};
use crate::model::{ErrorRule, Level, Situation};
use crate::schema::Mode;

/// An error response: status and error code per the rule's level, the error body shape, the
/// status field, and (level E) the parameters.
pub(super) fn error(
    j: &mut Judge<'_>,
    ex: &Exchange,
    resp: &Response,
    rule: &ErrorRule,
    field: Option<&str>,
    enveloped: bool,
) {
    if !status_matches(j, ex, resp, rule) {
        return;
    }
    if rule.situation.refuses_credentials() && resp.status == 401 && resp.body.is_empty() {
        return; // the contract allows an empty 401 for refused credentials
    }
    let Some(body) = resp
        .json()
        .map(|v| unwrap_envelope(j.wire(), &v, enveloped, false))
    else {
        j.fail(
            "error_body",
            ex.step,
            format!("the {} error body is not JSON", resp.status),
            Some("the error body shape".into()),
            Some(resp.body_text()),
        );
        return;
    };
    if !shape(j, ex, resp, &body) {
        return;
    }
    let got_code = body
        .get(&j.wire().error.code)
        .and_then(Value::as_str)
        .map(str::to_owned);
    match rule.level {
        Level::E => exact_code(j, ex, rule, field, &body, got_code.as_deref()),
        Level::S | Level::C => {
            if rule.situation == Situation::NoProjectAccess {
                nothing_of_the_project(j, ex, got_code.as_deref());
            }
            if got_code.as_deref().is_none_or(str::is_empty) {
                let code = &j.wire().error.code;
                j.fail(
                    "error_code_conformance",
                    ex.step,
                    format!("{}: the {code} is empty", rule.situation),
                    Some(format!("a non-empty {code}")),
                    None,
                );
            }
        }
    }
}

/// A caller without access learns nothing of the project (contract section 5): not its kind,
/// nor the state of its integrations, from the error code. The codes that would tell are the
/// family's own rows for those situations, read from the model.
fn nothing_of_the_project(j: &mut Judge<'_>, ex: &Exchange, got: Option<&str>) {
    let Some(got) = got else { return };
    let telling = [
        Situation::WrongProjectKind,
        Situation::NotConfigured,
        Situation::AlreadyConfigured,
    ];
    let tells =
        j.cx.family
            .operations
            .iter()
            .flat_map(|o| &o.errors)
            .filter(|r| telling.contains(&r.situation))
            .any(|r| r.error_code.as_deref() == Some(got));
    if tells {
        j.fail(
            "error_code_conformance",
            ex.step,
            format!("a caller without access to the project is told {got}, which says what the project is or holds"),
            Some("a code that tells nothing of the project".into()),
            Some(got.to_owned()),
        );
    }
}

/// The status the row's level accepts; a finding (and false) when it is not.
fn status_matches(j: &mut Judge<'_>, ex: &Exchange, resp: &Response, rule: &ErrorRule) -> bool {
    let status_ok = match rule.level {
        Level::E | Level::S => resp.status == rule.status,
        Level::C if rule.also_status.is_empty() => (400..500).contains(&resp.status),
        Level::C => rule.status_ok(resp.status),
    };
    if status_ok {
        return true;
    }
    let expected_status = match rule.level {
        Level::C if rule.also_status.is_empty() => "any 4xx".to_owned(),
        _ => std::iter::once(rule.status)
            .chain(rule.also_status.iter().copied())
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(" or "),
    };
    let code = rule.error_code.as_deref();
    let summary = error_summary(j.wire(), resp);
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
        Some(format!("{} {summary}", resp.status)),
    );
    false
}

/// The error body has the error schema's shape, its status field repeats the HTTP status and its
/// reason is one of the status's phrases. False when the shape is wrong (nothing more to judge).
fn shape(j: &mut Judge<'_>, ex: &Exchange, resp: &Response, body: &Value) -> bool {
    let wire = j.wire();
    let harness = j.cx.harness;
    if let Some(Err(violations)) =
        harness
            .validators
            .validate(&harness.model.error_schema, Mode::Response, body)
    {
        let e = &wire.error;
        let mut fields = [&e.detail, &e.status, &e.code, &e.parameters, &e.reason];
        fields.sort();
        let fields = fields.map(String::as_str).join(", ");
        j.fail(
            "error_body",
            ex.step,
            "the error body does not have the error shape",
            Some(format!("{{{fields}}}")),
            Some(
                violations
                    .iter()
                    .take(3)
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        );
        return false;
    }
    let status = &wire.error.status;
    if body.get(status).and_then(Value::as_u64) != Some(u64::from(resp.status)) {
        j.fail(
            "error_body",
            ex.step,
            format!("the error body's {status} field is not the HTTP status"),
            Some(resp.status.to_string()),
            body.get(status).map(|v| v.to_string()),
        );
    }
    // Any of the status's reason phrases (HTTP has named some statuses several ways).
    let reason_field = &wire.error.reason;
    if let Some(phrase) = body.get(reason_field).and_then(Value::as_str) {
        if !reason::is_phrase(resp.status, phrase) {
            j.fail(
                "error_body",
                ex.step,
                format!(
                    "the error body's {reason_field} is not a reason phrase of {}",
                    resp.status
                ),
                Some(reason::phrases(resp.status).join(" or ")),
                Some(phrase.to_owned()),
            );
        }
    }
    true
}

/// Level E: the exact error code, and the parameters the row lists (`{field}` standing for the
/// offending field).
fn exact_code(
    j: &mut Judge<'_>,
    ex: &Exchange,
    rule: &ErrorRule,
    field: Option<&str>,
    body: &Value,
    got_code: Option<&str>,
) {
    let wire = j.wire();
    if let Some(code) = rule.error_code.as_deref() {
        if got_code != Some(code) {
            j.fail(
                "error_code_conformance",
                ex.step,
                format!("{}: wrong {}", rule.situation, wire.error.code),
                Some(code.to_owned()),
                got_code.map(str::to_owned),
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
    if expected_params.is_empty() {
        return;
    }
    let got: Vec<String> = body
        .get(&wire.error.parameters)
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
                "{}: the error's {} do not name the offending field",
                rule.situation, wire.error.parameters
            ),
            Some(format!("{expected_params:?}")),
            Some(format!("{got:?}")),
        );
    }
}
