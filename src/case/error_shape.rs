//! The error body's shape on every error, under `envelope=true` too (contract sections 3 and
//! 5): for each error situation a family's cases provoke, one of those cases again with
//! `envelope=true`: the error comes back as `{"status": <the HTTP status>, "content": <the
//! error body>}`, the HTTP status unchanged, and the error inside judged as before (`error`
//! equal to the status, `reason` its phrase, `parameters` a list).
//!
//! Only situations whose status is fixed (levels E and S): at level C the status is the
//! target's choice. Not the 401s (their body may be empty), and not cases whose request
//! already names `envelope`.

use super::{Case, Category, Ctx, Expect, Role};
use crate::model::{Level, Situation};

/// The scenario suffix of the enveloped copy.
const SUFFIX: &str = "enveloped";

pub(super) fn generate(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    let envelope = cx.model.wire.envelope.param.as_str();
    let mut seen: Vec<Situation> = Vec::new();
    let mut copies = Vec::new();
    for case in out.iter().filter(|c| c.family == cx.family.name) {
        let Some(step) = case.steps.iter().find(|s| s.role == Role::Test) else {
            continue;
        };
        // One request under test: the copy changes that one.
        if case.steps.iter().filter(|s| s.role == Role::Test).count() != 1 {
            continue;
        }
        let Some(rule) = step.expect.iter().find_map(|e| match e {
            Expect::Error { rule, .. } => Some(rule),
            _ => None,
        }) else {
            continue;
        };
        if rule.level == Level::C
            || rule.situation == Situation::Unauthenticated
            || seen.contains(&rule.situation)
            || step.request.query.iter().any(|(k, _)| *k == *envelope)
            || step.baseline.is_none()
        {
            continue;
        }
        seen.push(rule.situation);
        let status = rule.status;
        let mut copy = case.clone();
        copy.id = format!("{}-{SUFFIX}", case.id);
        copy.category = Category::Envelope;
        copy.title = format!("envelope=true wraps this error: {}", case.title);
        for s in copy.steps.iter_mut().filter(|s| s.role == Role::Test) {
            s.request = s.request.clone().with_query(envelope, "true");
            s.expect.push(Expect::Enveloped { status });
            if let Some(b) = &mut s.baseline {
                b.request = b.request.clone().with_query(envelope, "true");
            }
        }
        copies.push(copy);
    }
    out.extend(copies);
}
