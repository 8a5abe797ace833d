//! Digest details beyond `auth.rs` (contract section 7): a digest response computed with the
//! right password for another request target (its `uri` names another path) is refused on each
//! of the five operations, and nothing changes.
//!
//! The digest binds method and `uri` into the response (RFC 7616 section 3.4.1): a target that
//! checks the password but not the `uri` lets a captured header be replayed against any path.

use serde_json::Value;

use super::values::{self, Fill};
use super::{
    setup_create, verify_state, Baseline, Body, Case, CaseBuilder, Category, Credential, Ctx,
    Expect, Requirement, Role,
};
use crate::model::{OperationKind, Situation};

pub(super) fn generate(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    let version = cx.default_version();
    let Some(ty) = version.types.first() else {
        return;
    };
    let s = "digest-response-for-another-uri";
    for kind in OperationKind::ALL {
        let op = cx.op(kind);
        let Some(rule) = op.error(Situation::Unauthenticated).cloned() else {
            continue;
        };
        let id = cx.id(kind, s);
        let request = || {
            let r = cx.request(kind, version, Some(&ty.name));
            if op.has_body {
                let body = values::valid_body(ty, &format!("{id}#sent"), Fill::Minimal);
                r.with_body(Body::Json(Value::Object(body)))
            } else {
                r
            }
        };
        let mut b = CaseBuilder::new(cx, kind, s, Category::Auth)
            .title("a digest response computed for another uri is refused")
            .requires(Requirement::Digest);
        // The type is configured where the same request with fresh credentials needs it; the
        // setup also makes the owner's credentials learn the target's challenge, which the
        // request under test answers for the wrong uri.
        let needs = matches!(kind, OperationKind::Get | OperationKind::Delete)
            || (kind == OperationKind::Update && !op.update.is_some_and(|u| u.upsert));
        let mut stored = None;
        if kind.has_type() {
            b = b.touches(&ty.name);
        }
        if needs {
            let (setup, body) = setup_create(cx, version, ty, &format!("{id}#setup"), Fill::Full);
            b = b.secrets(values::secrets_of(ty, &body)).step(
                setup.role,
                setup.request,
                setup.expect,
            );
            stored = Some(body);
        } else {
            let warm = cx.request(OperationKind::List, version, None);
            b = b.step(
                Role::Setup,
                warm,
                vec![Expect::Status {
                    status: cx.op(OperationKind::List).success_status,
                }],
            );
        }
        let req = request().with_credential(Credential::OtherUri);
        if let Body::Json(Value::Object(sent)) = &req.body {
            b = b.secrets(values::secrets_of(ty, sent));
        }
        b = b.step(
            Role::Test,
            req,
            vec![
                Expect::Error { rule, field: None },
                Expect::Challenge { stale: false },
            ],
        );
        if kind.has_type() {
            let verify = verify_state(cx, version, ty, stored.as_ref());
            b = b.step(verify.role, verify.request, verify.expect);
        }
        let baseline = Baseline::new(request(), "credentials: a digest response for another uri");
        out.push(b.build(cx).derived(baseline));
    }
}
