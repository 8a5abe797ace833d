//! One check per kind of expectation a case step carries ([`Expect`]): the status, the error,
//! the challenge, a header, a single object, a page, the envelope, pretty-printing, an empty
//! body, the media type, masked secrets and the state after concurrent writes.

use serde_json::Value;

use super::{
    body, contenders, error, error_summary, keys, listed_only, pagination, unwrap_envelope, Judge,
    ENVELOPE_CHECK, PRETTY_CHECK,
};
use crate::case::{Expect, Step};
use crate::exchange::{Exchange, Response};

/// Judge one expectation of a step against its answered exchange (`all` are the case's
/// exchanges, for expectations about other steps).
pub(super) fn expectation(
    j: &mut Judge<'_>,
    all: &[Exchange],
    step: &Step,
    ex: &Exchange,
    resp: &Response,
    expect: &Expect,
) {
    let json = resp.json();
    let enveloped = step.request.enveloped(j.wire());
    match expect {
        Expect::Status { status } => status_is(j, ex, resp, *status),
        Expect::Error { rule, field } => {
            error::error(j, ex, resp, rule, field.as_deref(), enveloped)
        }
        Expect::Challenge { stale } => challenge(j, ex, resp, *stale),
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
            let body = unwrap_envelope(j.wire(), &json, enveloped, false);
            body::compare_object(j, ex.step, "state", &view.type_name, &view.object, &body);
        }
        Expect::Page { page } => {
            if (200..300).contains(&resp.status) {
                if let Some(json) = json {
                    let body = unwrap_envelope(j.wire(), &json, enveloped, true);
                    pagination::page(j, step, ex, &body, page);
                }
            }
        }
        Expect::Enveloped { status } => envelope(j, ex, resp, json.as_ref(), *status),
        Expect::Pretty { pretty } => pretty_is(j, ex, resp, *pretty),
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
            oauth_error(j, ex, resp, json.as_ref(), *status, error)
        }
        Expect::OneWins { status, rule } | Expect::Either { status, rule } => {
            if resp.status != *status {
                error::error(j, ex, resp, rule, None, enveloped);
            }
        }
        Expect::Winner { type_name, views } => {
            if !(200..300).contains(&resp.status) {
                return; // the status check says why
            }
            let Some(json) = json else { return };
            let body = unwrap_envelope(j.wire(), &json, enveloped, false);
            winner(j, all, ex, type_name, views, &body);
        }
        Expect::SameAssigned {
            type_name,
            field,
            step: earlier,
        } => same_assigned(j, all, ex, json.as_ref(), (type_name, field), *earlier),
    }
}

fn status_is(j: &mut Judge<'_>, ex: &Exchange, resp: &Response, status: u16) {
    if resp.status != status {
        let summary = error_summary(j.wire(), resp);
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
            Some(format!("{} {summary}", resp.status)),
        );
    }
}

/// A 401 carries a challenge; `stale`: a digest challenge flagged `stale=true`.
fn challenge(j: &mut Judge<'_>, ex: &Exchange, resp: &Response, stale: bool) {
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
        return;
    }
    // Parsed once: the shape and the stale flag are both read from the same challenges.
    let challenges = all_challenges(resp);
    let problem = match &challenges {
        Ok(cs) => challenge_problem(cs),
        Err(e) => Some(format!("does not parse ({e})")),
    };
    if let Some(problem) = problem {
        j.fail(
            "status_code_conformance",
            ex.step,
            format!("the 401's challenge {problem}"),
            Some("Digest realm=\"...\", nonce=\"...\", qop=\"auth\" (or Bearer)".into()),
            resp.header("www-authenticate").map(str::to_owned),
        );
        return;
    }
    let flagged = challenges.iter().flatten().any(|c| {
        c.scheme.eq_ignore_ascii_case("digest")
            && c.param("stale")
                .is_some_and(|s| s.eq_ignore_ascii_case("true"))
    });
    if stale && !flagged {
        j.fail(
            "status_code_conformance",
            ex.step,
            "a digest response to an expired nonce must be answered with stale=true",
            Some("Digest ... stale=true".into()),
            resp.header("www-authenticate").map(str::to_owned),
        );
    }
}

/// An enveloped response: the wrapper's status is the HTTP status, which the envelope leaves
/// unchanged, and a single object or error sits under the content field.
fn envelope(j: &mut Judge<'_>, ex: &Exchange, resp: &Response, json: Option<&Value>, status: u16) {
    let Some(json) = json else {
        j.fail(
            ENVELOPE_CHECK,
            ex.step,
            "an enveloped response must have a JSON body",
            None,
            None,
        );
        return;
    };
    let wire = j.wire();
    let flag = &wire.envelope.param;
    let (status_field, content) = (&wire.envelope.status, &wire.envelope.content);
    if json.get(status_field).and_then(Value::as_u64) != Some(u64::from(status)) {
        j.fail(
            ENVELOPE_CHECK,
            ex.step,
            format!("{flag}=true: the body's {status_field} is not the HTTP status"),
            Some(status.to_string()),
            Some(
                json.get(status_field)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "absent".into()),
            ),
        );
    }
    if resp.status != status {
        j.fail(
            ENVELOPE_CHECK,
            ex.step,
            format!("{flag}=true changed the HTTP status"),
            Some(status.to_string()),
            Some(resp.status.to_string()),
        );
    }
    let list = json.get(&wire.list.results).is_some();
    if !list && !json.get(content).is_some_and(Value::is_object) {
        j.fail(
            ENVELOPE_CHECK,
            ex.step,
            format!("{flag}=true: a single object or error must be under {content}"),
            Some(format!("{{\"{status_field}\", \"{content}\"}}")),
            Some(keys(json)),
        );
    }
}

/// `pretty`: the body is indented over several lines; otherwise compact, on one line.
fn pretty_is(j: &mut Judge<'_>, ex: &Exchange, resp: &Response, pretty: bool) {
    let text = resp.body_text();
    let multi = text.trim_end().contains('\n');
    if multi == pretty {
        return;
    }
    let flag = &j.wire().pretty;
    j.fail(
        PRETTY_CHECK,
        ex.step,
        if pretty {
            format!("{flag}=true: the body is not indented over several lines")
        } else {
            format!("without {flag}=true the body must be compact, on one line")
        },
        Some(
            if pretty {
                "indented JSON"
            } else {
                "compact JSON"
            }
            .into(),
        ),
        Some(if multi { "several lines" } else { "one line" }.into()),
    );
}

/// After concurrent writes of one type, the stored object is the winner's body whole.
fn winner(
    j: &mut Judge<'_>,
    all: &[Exchange],
    ex: &Exchange,
    type_name: &str,
    views: &[(usize, Value)],
    body: &Value,
) {
    let won: Vec<usize> = contenders(j.case, all)
        .into_iter()
        .filter_map(|(step, won)| won.then_some(step))
        .collect();
    let winner = match won[..] {
        [one] => views.iter().find(|(step, _)| *step == one),
        _ => None,
    };
    match winner {
        Some((_, view)) => body::compare_object(j, ex.step, "state", type_name, view, body),
        // No single winner (concurrent updates and reads, or the group check says why): still,
        // the state must be one of the bodies sent whole, never a mixture. Fields the version
        // does not list are judged apart (warnings, section 9).
        None if views
            .iter()
            .any(|(_, v)| body::same_object(v, &listed_only(j, ex.step, type_name, body))) => {}
        None => j.fail(
            "state",
            ex.step,
            format!("the stored {type_name} is none of the bodies sent concurrently"),
            Some("exactly one of the concurrent bodies, whole".into()),
            Some("a mixture or another value".into()),
        ),
    }
}

/// Every challenge of every `WWW-Authenticate` header, or why one does not parse.
fn all_challenges(resp: &Response) -> Result<Vec<crate::auth::Challenge>, &'static str> {
    let mut all = Vec::new();
    for v in resp.headers_named("www-authenticate") {
        all.extend(crate::auth::parse_challenges(v)?);
    }
    Ok(all)
}

/// What is wrong with a 401's challenges, if anything (contract section 7, RFC 7616 section
/// 3.3): one names a scheme the contract offers (Digest or Bearer), and every Digest challenge
/// names a realm, a nonce and `qop` with `auth`.
fn challenge_problem(all: &[crate::auth::Challenge]) -> Option<String> {
    let offered = |c: &crate::auth::Challenge| {
        c.scheme.eq_ignore_ascii_case("digest") || c.scheme.eq_ignore_ascii_case("bearer")
    };
    if !all.iter().any(offered) {
        return Some("names neither Digest nor Bearer".into());
    }
    for c in all
        .iter()
        .filter(|c| c.scheme.eq_ignore_ascii_case("digest"))
    {
        for name in ["realm", "nonce"] {
            if c.param(name).is_none_or(str::is_empty) {
                return Some(format!("is a Digest challenge without a {name}"));
            }
        }
        let auth = c
            .param("qop")
            .is_some_and(|q| q.split(',').any(|o| o.trim().eq_ignore_ascii_case("auth")));
        if !auth {
            return Some("is a Digest challenge without qop=\"auth\"".into());
        }
    }
    None
}

/// The token endpoint's error: this status and `{"error": error}` (RFC 6749 section 5.2).
fn oauth_error(
    j: &mut Judge<'_>,
    ex: &Exchange,
    resp: &Response,
    json: Option<&Value>,
    status: u16,
    error: &str,
) {
    // RFC 6749's member, not the API's error body field of the same spelling.
    let got = json
        .and_then(|v| v.get(OAUTH_ERROR_MEMBER))
        .and_then(Value::as_str);
    if resp.status != status || got != Some(error) {
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

/// The member of an OAuth 2.0 error response that names the error (RFC 6749 section 5.2).
const OAUTH_ERROR_MEMBER: &str = "error";

/// A server-assigned field of `(type, field)` keeps the value an earlier step's answer showed.
fn same_assigned(
    j: &mut Judge<'_>,
    all: &[Exchange],
    ex: &Exchange,
    json: Option<&Value>,
    (type_name, field): (&str, &str),
    earlier: usize,
) {
    let wire = j.wire();
    let now = json
        .and_then(|v| body::find_object(wire, v, type_name))
        .and_then(|o| o.get(field).cloned());
    let before = all
        .iter()
        .find(|e| e.step == earlier)
        .and_then(|e| e.response.as_ref())
        .and_then(Response::json)
        .and_then(|v| body::find_object(wire, &v, type_name).and_then(|o| o.get(field).cloned()));
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
