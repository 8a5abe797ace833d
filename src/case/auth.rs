//! Authentication and authorization cases: no credentials, a wrong digest password, a forged
//! nonce, unknown and expired bearer tokens, read-only credentials writing (and reading), and a
//! project the credentials cannot access. Nothing may leak and nothing may change.

use serde_json::Value;

use super::values::{self, Fill};
use super::{
    prepared, setup_create, Baseline, Body, Case, CaseBuilder, Category, Credential, Ctx, Expect,
    Lane, Project, Requirement, Role, View,
};
use crate::model::{OperationKind, Situation};

pub(super) fn generate(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    let version = cx.default_version();
    let Some(ty) = version.types.first() else {
        return;
    };
    let credentials = [
        ("no-credentials", Credential::None, None, "no credentials"),
        (
            "wrong-digest-password",
            Credential::WrongPassword,
            Some(Requirement::Digest),
            "a wrong digest password",
        ),
        (
            "forged-digest-nonce",
            Credential::ForgedNonce,
            Some(Requirement::Digest),
            "a digest response to a nonce never issued",
        ),
        (
            "unknown-bearer-token",
            Credential::BadBearer,
            None,
            "a bearer token never issued",
        ),
        (
            "expired-bearer-token",
            Credential::ExpiredBearer,
            Some(Requirement::TokenExpiry),
            "an expired bearer token",
        ),
    ];
    for kind in OperationKind::ALL {
        let op = cx.op(kind);
        let body = || {
            Body::Json(Value::Object(values::valid_body(
                ty,
                &cx.id(kind, "auth"),
                Fill::Minimal,
            )))
        };
        let request = || {
            let r = cx.request(kind, version, Some(&ty.name));
            if op.has_body {
                r.with_body(body())
            } else {
                r
            }
        };
        if let Some(rule) = op.error(Situation::Unauthenticated).cloned() {
            for (s, credential, requirement, title) in credentials {
                let req = request().with_credential(credential);
                // The type is configured first where the operation needs it, so that the same
                // request with the owner's credentials succeeds.
                let pre = matches!(
                    kind,
                    OperationKind::Get | OperationKind::Update | OperationKind::Delete
                );
                let mut case = if kind.has_type() {
                    super::Subject::new(cx, version, ty, kind)
                        .case(s, Category::Auth, format!("{title} is refused"))
                        .refuses(req, rule.clone(), None, pre)
                } else {
                    CaseBuilder::new(cx, kind, s, Category::Auth)
                        .title(format!("{title} is refused"))
                        .step(
                            Role::Test,
                            req,
                            vec![Expect::Error {
                                rule: rule.clone(),
                                field: None,
                            }],
                        )
                        .build(cx)
                };
                for step in case.steps.iter_mut().filter(|s| s.role == Role::Test) {
                    step.expect.push(Expect::Challenge { stale: false });
                }
                if let Some(r) = requirement {
                    case.requires.push(r);
                }
                out.push(case.derived(Baseline::new(request(), format!("credentials: {title}"))));
            }
        }
        // Digest replay and expiry, on the operations that read (the first request must be one
        // a conformant target accepts without changing anything).
        if let (Some(rule), false) = (op.error(Situation::Unauthenticated).cloned(), kind.writes())
        {
            for (s, credential, requirement, title, stale) in [
                (
                    "replayed-digest-nonce-count",
                    Credential::ReplayedNonceCount,
                    Requirement::Digest,
                    "a digest Authorization replayed unchanged (same nonce and nc)",
                    false,
                ),
                (
                    "expired-digest-nonce",
                    Credential::StaleNonce,
                    Requirement::NonceExpiry,
                    "a digest response to an expired nonce",
                    true,
                ),
            ] {
                let warm = cx.request(OperationKind::List, version, None);
                let req = request().with_credential(credential);
                let mut b = CaseBuilder::new(cx, kind, s, Category::Auth);
                if kind == OperationKind::Get {
                    // The type exists, so that the same get with fresh credentials succeeds.
                    let (setup, stored) =
                        setup_create(cx, version, ty, &cx.id(kind, s), Fill::Minimal);
                    b = b
                        .touches(&ty.name)
                        .secrets(values::secrets_of(ty, &stored))
                        .step(setup.role, setup.request, setup.expect);
                }
                b = b
                    .title(format!(
                        "{title} is refused{}",
                        if stale { " with stale=true" } else { "" }
                    ))
                    .requires(Requirement::Digest)
                    .requires(requirement)
                    .step(
                        Role::Setup,
                        warm,
                        vec![Expect::Status {
                            status: cx.op(OperationKind::List).success_status,
                        }],
                    );
                b = b.step(
                    Role::Test,
                    req,
                    vec![
                        Expect::Error {
                            rule: rule.clone(),
                            field: None,
                        },
                        Expect::Challenge { stale },
                    ],
                );
                let baseline = Baseline::new(request(), format!("credentials: {title}"));
                out.push(b.build(cx).derived(baseline));
            }
        }
        if let Some(rule) = op.error(Situation::ReadOnlyWrite).cloned() {
            let s = "read-only-credentials-refused";
            let req = request().with_credential(Credential::ReadOnly);
            let mut case = super::Subject::new(cx, version, ty, kind)
                .case(
                    s,
                    Category::Auth,
                    format!("read-only credentials cannot {kind}"),
                )
                .refuses(req, rule, None, kind != OperationKind::Create);
            case.requires.push(Requirement::ReadOnlyCredentials);
            out.push(case.derived(Baseline::new(request(), "credentials: read-only")));
        } else if matches!(kind, OperationKind::List | OperationKind::Get) {
            let s = "read-only-credentials-allowed";
            let id = cx.id(kind, s);
            let (setup, stored) = setup_create(cx, version, ty, &id, Fill::Minimal);
            let req = request().with_credential(Credential::ReadOnly);
            let view = View {
                type_name: ty.name.clone(),
                object: values::view(ty, &stored),
            };
            let shape = match kind {
                OperationKind::List => super::first_page(cx, vec![view]),
                _ => Expect::Single { view },
            };
            out.push(
                CaseBuilder::new(cx, kind, s, Category::Auth)
                    .title(format!("read-only credentials can {kind}"))
                    .touches(&ty.name)
                    .requires(Requirement::ReadOnlyCredentials)
                    .secrets(values::secrets_of(ty, &stored))
                    .step(setup.role, setup.request, setup.expect)
                    .step(
                        Role::Test,
                        req,
                        vec![
                            Expect::Status {
                                status: op.success_status,
                            },
                            shape,
                        ],
                    )
                    .build(cx),
            );
        }
        if let Some(rule) = op.error(Situation::NoProjectAccess).cloned() {
            let req = request().with_project(Project::NoAccess);
            out.push(
                CaseBuilder::new(cx, kind, "project-without-access", Category::Auth)
                    .title("a project the credentials cannot access reveals nothing")
                    .lane(Lane::Stateless)
                    .requires(Requirement::NoAccessProject)
                    .step(Role::Test, req, vec![Expect::Error { rule, field: None }])
                    .build(cx)
                    .derived(
                        Baseline::new(request(), "project without access").state(prepared(
                            cx,
                            version,
                            ty,
                            kind,
                            &cx.id(kind, "auth#baseline"),
                        )),
                    ),
            );
        }
    }
}
