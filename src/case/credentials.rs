//! Credentials beyond `auth.rs` (contract section 7).
//!
//! - A digest response computed with the right password for another request target (its `uri`
//!   names another path) is refused on each of the five operations, and nothing changes: the
//!   digest binds method and `uri` (RFC 7616 section 3.4.1), so a target that checks only the
//!   password lets a captured header be replayed against any path.
//! - The OAuth token endpoint answers as RFC 6749 section 5.2 does (contract section 8): a wrong
//!   client secret and an unknown client are `401 invalid_client`, a grant type other than
//!   `client_credentials` is `400 unsupported_grant_type`. Only with OAuth client credentials
//!   (the embedded server has its own); the endpoint is one for all families, so these cases
//!   are generated once, under the first family.

use serde_json::Value;

use super::values::{self, Fill};
use super::{
    setup_create, verify_state, Baseline, Body, Case, CaseBuilder, Category, Credential, Ctx,
    Expect, Lane, Project, Request, Requirement, Role,
};
use crate::model::{OperationKind, Situation};

pub(super) fn generate(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    other_uri(cx, out);
    if cx.model.families.first().map(|f| &f.name) == Some(&cx.family.name) {
        token_endpoint(cx, out);
    }
}

/// A client-credentials token request with `grant_type` and `credential`.
fn token_request(cx: &Ctx<'_>, grant_type: &str, credential: Credential) -> Request {
    let version = cx.default_version();
    let mut r = cx.request(OperationKind::List, version, None);
    r.method = "POST".to_owned();
    r.project = Project::Unscoped;
    // The whole path is the model's token path: nothing follows it.
    r.base_path = cx.model.token_path.clone();
    r.path = String::new();
    r.accept = Some("application/json".to_owned());
    r.content_type = Some("application/x-www-form-urlencoded".to_owned());
    r.body = Body::Raw(format!("grant_type={grant_type}"));
    r.credential = credential;
    // No API operation: the answer is RFC 6749's, not a documented response of the API.
    r.operation = String::new();
    r.version = None;
    r
}

fn token_endpoint(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    let kind = OperationKind::List;
    for (s, title, grant, credential, status, error, mutation) in [
        (
            "token-endpoint-wrong-client-secret",
            "the token endpoint refuses a wrong client secret: 401 invalid_client",
            "client_credentials",
            Credential::ClientWrongSecret,
            401,
            "invalid_client",
            "credentials: the client's id with a wrong secret",
        ),
        (
            "token-endpoint-unknown-client",
            "the token endpoint refuses an unknown client: 401 invalid_client",
            "client_credentials",
            Credential::ClientUnknown,
            401,
            "invalid_client",
            "credentials: a client id never registered",
        ),
        (
            "token-endpoint-wrong-grant-type",
            "the token endpoint refuses grant_type=password: 400 unsupported_grant_type",
            "password",
            Credential::Client,
            400,
            "unsupported_grant_type",
            "body grant_type=password",
        ),
    ] {
        let req = token_request(cx, grant, credential);
        let baseline = Baseline::new(
            token_request(cx, "client_credentials", Credential::Client),
            mutation,
        );
        out.push(
            CaseBuilder::new(cx, kind, s, Category::Auth)
                .title(title)
                .lane(Lane::Stateless)
                .requires(Requirement::OAuthClient)
                .step(
                    Role::Test,
                    req,
                    vec![Expect::OAuthError {
                        status,
                        error: error.to_owned(),
                    }],
                )
                .build(cx)
                .derived(baseline),
        );
    }
}

/// A digest response computed for another request target, on each operation.
fn other_uri(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    let version = cx.default_version();
    let Some(ty) = version.types.first() else {
        return;
    };
    let s = "digest-response-for-another-uri";
    for kind in OperationKind::ALL {
        let op = cx.op(kind);
        let Some(rule) = op.error(Situation::DigestUriMismatch).cloned() else {
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
            let (setup, body) = setup_create(cx, version, ty, Fill::Full);
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
