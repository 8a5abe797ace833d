//! The checks that hold for every answered response whatever the case expects: a documented
//! status, a body exactly when the spec gives one, the media type, fields the contract does not
//! list, and the spec's schema for that status and media type.

use serde_json::Value;

use super::{class_level_accepts, error_summary, unlisted, unwrap_envelope, Judge};
use crate::case::Step;
use crate::exchange::{Exchange, Response};
use crate::model::{Operation, ResponseDef, Version};
use crate::schema::Mode;

/// Checks that hold for every response: documented status, media type, schema.
pub(super) fn general(j: &mut Judge<'_>, step: &Step, ex: &Exchange, resp: &Response) {
    let Some(op) =
        j.cx.family
            .operations
            .iter()
            .find(|o| o.id == step.request.operation)
    else {
        return;
    };
    let Some(def) = documented(j, step, ex, resp, op) else {
        return;
    };
    let version = super::version_of_step(j.cx.family, step);
    let success = (200..300).contains(&resp.status);
    if !body_presence(j, ex, resp, def) {
        // A success without a body still names the negotiated media type where the family
        // negotiates one (contract section 8: atlas-v2's 204).
        if let (true, true, Some(v)) = (success, j.cx.family.versioned(), version) {
            if resp.body.is_empty() {
                media_type(j, ex, resp, &v.media_type);
            }
        }
        return;
    }
    let expected_media = match (success, version) {
        (true, Some(v)) => v.media_type.clone(),
        _ => "application/json".to_owned(),
    };
    media_type(j, ex, resp, &expected_media);
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
    let frame = unlisted::Frame::of(j.wire(), step, op.kind.returns_list(), resp.status);
    let mut listed = json;
    unlisted_fields(j, ex, version, &mut listed, frame);
    let body = unwrap_envelope(j.wire(), &listed, frame.enveloped, frame.list);
    schema(j, ex, resp, &pointer, &body);
}

/// The spec's response for the status, or a finding when the operation does not document it
/// (unless a level C expectation of the step accepts it).
fn documented<'o>(
    j: &mut Judge<'_>,
    step: &Step,
    ex: &Exchange,
    resp: &Response,
    op: &'o Operation,
) -> Option<&'o ResponseDef> {
    if let Some(def) = op.response(resp.status) {
        return Some(def);
    }
    if class_level_accepts(step, resp.status) {
        // the error check judges the body against the error shape
        return None;
    }
    let summary = error_summary(j.wire(), resp);
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
        Some(format!("{} {summary}", resp.status)),
    );
    None
}

/// A body exactly when the spec gives the response one (an empty 401 is allowed); whether
/// there is a body left to judge.
fn body_presence(j: &mut Judge<'_>, ex: &Exchange, resp: &Response, def: &ResponseDef) -> bool {
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
        return false;
    }
    if def.content.is_empty() {
        j.fail(
            "response_schema_conformance",
            ex.step,
            format!("the {} response must have no body", resp.status),
            Some("no body".into()),
            Some(format!("{} bytes", resp.body.len())),
        );
        return false;
    }
    true
}

fn media_type(j: &mut Judge<'_>, ex: &Exchange, resp: &Response, expected_media: &str) {
    if resp.media_type().as_deref() != Some(expected_media) {
        j.fail(
            "content_type_conformance",
            ex.step,
            format!(
                "the {} response's Content-Type is not {expected_media}",
                resp.status
            ),
            Some(expected_media.to_owned()),
            Some(resp.header("content-type").unwrap_or("absent").to_owned()),
        );
    }
}

/// Fields the contract does not list, at every level of the body: removed before the schema
/// judges it, each a warning or a failure (contract sections 9 and 10).
fn unlisted_fields(
    j: &mut Judge<'_>,
    ex: &Exchange,
    version: Option<&Version>,
    body: &mut Value,
    frame: unlisted::Frame,
) {
    let sent = &j.cx.secrets[..j.cx.sent.min(j.cx.secrets.len())];
    let found = unlisted::strip_all(&j.cx.harness.model, j.cx.family, version, body, frame, sent);
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

fn schema(j: &mut Judge<'_>, ex: &Exchange, resp: &Response, pointer: &str, body: &Value) {
    if let Some(Err(violations)) =
        j.cx.harness
            .validators
            .validate(pointer, Mode::Response, body)
    {
        let listed: Vec<String> = violations.iter().take(5).map(|v| v.to_string()).collect();
        j.fail(
            "response_schema_conformance",
            ex.step,
            format!(
                "the {} body breaks the spec's schema {}",
                resp.status,
                pointer.rsplit('/').next().unwrap_or(pointer)
            ),
            None,
            Some(listed.join("; ")),
        );
    }
}
