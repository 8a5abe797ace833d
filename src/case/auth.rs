//! Authentication and authorization cases: no credentials, a wrong digest password, a forged
//! nonce, unknown and expired bearer tokens, read-only credentials writing (and reading), and a
//! project the credentials cannot access. Nothing may leak and nothing may change. With an
//! OAuth client beside digest credentials, every operation and the project without access also
//! run with the client's bearer token.

use serde_json::Value;

use super::values::{self, Fill};
use super::{
    prepared, setup_create, Baseline, Body, Case, CaseBuilder, Category, Credential, Ctx, Expect,
    Lane, Project, Request, Requirement, Role, View,
};
use crate::model::{IntegrationType, OperationKind, Situation, Version};

/// The credentials a conformant target refuses on every operation: (scenario, credential, what
/// the target must support for the case to run, title).
const REFUSED: [(&str, Credential, Option<Requirement>, &str); 5] = [
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

pub(super) fn generate(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    let version = cx.default_version();
    let Some(ty) = version.types.first() else {
        return;
    };
    for kind in OperationKind::ALL {
        let target = Addressed {
            cx,
            version,
            ty,
            kind,
        };
        refused_credentials(&target, out);
        // Digest replay and expiry, on the operations that read (the first request must be one
        // a conformant target accepts without changing anything).
        if !kind.writes() {
            digest_replay_and_expiry(&target, out);
        }
        out.extend(read_only(&target));
        out.extend(no_access(&target, Credential::Owner));
        // Both credential kinds in one run (section 10): the operation, and a project without
        // access, with the OAuth client as well.
        out.push(oauth_owner(&target));
        out.extend(no_access(&target, Credential::OAuthOwner));
    }
}

/// One operation on the default version's first type, with the owner's valid request.
struct Addressed<'c, 'a> {
    cx: &'c Ctx<'a>,
    version: &'a Version,
    ty: &'a IntegrationType,
    kind: OperationKind,
}

impl Addressed<'_, '_> {
    /// The valid request with the owner's credentials.
    fn request(&self) -> Request {
        let (cx, kind, ty) = (self.cx, self.kind, self.ty);
        let r = cx.request(kind, self.version, Some(&ty.name));
        if cx.op(kind).has_body {
            r.with_body(Body::Json(Value::Object(values::valid_body(
                ty,
                &cx.id(kind, "auth"),
                Fill::Minimal,
            ))))
        } else {
            r
        }
    }
}

/// Missing, wrong, forged, unknown and expired credentials are refused with a challenge.
fn refused_credentials(target: &Addressed<'_, '_>, out: &mut Vec<Case>) {
    let (cx, version, ty, kind) = (target.cx, target.version, target.ty, target.kind);
    let Some(rule) = cx.op(kind).error(Situation::Unauthenticated).cloned() else {
        return;
    };
    for (s, credential, requirement, title) in REFUSED {
        let req = target.request().with_credential(credential);
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
        let baseline = Baseline::new(target.request(), format!("credentials: {title}"));
        out.push(case.derived(baseline));
    }
}

/// A digest `Authorization` replayed unchanged, and a response to an expired nonce (which must
/// be challenged with `stale=true`), after a first request the target accepts.
fn digest_replay_and_expiry(target: &Addressed<'_, '_>, out: &mut Vec<Case>) {
    let (cx, version, ty, kind) = (target.cx, target.version, target.ty, target.kind);
    let Some(rule) = cx.op(kind).error(Situation::Unauthenticated).cloned() else {
        return;
    };
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
        let req = target.request().with_credential(credential);
        let mut b = CaseBuilder::new(cx, kind, s, Category::Auth);
        if kind == OperationKind::Get {
            // The type exists, so that the same get with fresh credentials succeeds.
            let (setup, stored) = setup_create(cx, version, ty, Fill::Minimal);
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
        let baseline = Baseline::new(target.request(), format!("credentials: {title}"));
        out.push(b.build(cx).derived(baseline));
    }
}

/// Read-only credentials: refused where the operation writes, allowed to read.
fn read_only(target: &Addressed<'_, '_>) -> Option<Case> {
    let (cx, version, ty, kind) = (target.cx, target.version, target.ty, target.kind);
    let op = cx.op(kind);
    if let Some(rule) = op.error(Situation::ReadOnlyWrite).cloned() {
        let s = "read-only-credentials-refused";
        let req = target.request().with_credential(Credential::ReadOnly);
        let mut case = super::Subject::new(cx, version, ty, kind)
            .case(
                s,
                Category::Auth,
                format!("read-only credentials cannot {kind}"),
            )
            .refuses(req, rule, None, kind != OperationKind::Create);
        case.requires.push(Requirement::ReadOnlyCredentials);
        return Some(case.derived(Baseline::new(target.request(), "credentials: read-only")));
    }
    if !matches!(kind, OperationKind::List | OperationKind::Get) {
        return None;
    }
    let s = "read-only-credentials-allowed";
    let (setup, stored) = setup_create(cx, version, ty, Fill::Minimal);
    let req = target.request().with_credential(Credential::ReadOnly);
    let view = View {
        type_name: ty.name.clone(),
        object: values::view(ty, &stored),
    };
    let shape = match kind {
        OperationKind::List => super::first_page(cx, vec![view]),
        _ => Expect::Single { view },
    };
    Some(
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
    )
}

/// A project the credentials cannot access reveals nothing (with the main credentials, or
/// with the OAuth client's).
fn no_access(target: &Addressed<'_, '_>, credential: Credential) -> Option<Case> {
    let (cx, version, ty, kind) = (target.cx, target.version, target.ty, target.kind);
    let rule = cx.op(kind).error(Situation::NoProjectAccess).cloned()?;
    let oauth = credential == Credential::OAuthOwner;
    let req = target
        .request()
        .with_project(Project::NoAccess)
        .with_credential(credential);
    let baseline = Baseline::new(
        target.request().with_credential(credential),
        "project without access",
    )
    .state(prepared(
        cx,
        version,
        ty,
        kind,
        &cx.id(kind, "auth#baseline"),
    ));
    let (s, title) = if oauth {
        (
            "project-without-access-oauth",
            "a project the OAuth client cannot access reveals nothing",
        )
    } else {
        (
            "project-without-access",
            "a project the credentials cannot access reveals nothing",
        )
    };
    let mut b = CaseBuilder::new(cx, kind, s, Category::Auth)
        .title(title)
        .lane(Lane::Stateless)
        .requires(Requirement::NoAccessProject);
    if oauth {
        b = b.requires(Requirement::OAuthClient);
    }
    Some(
        b.step(Role::Test, req, vec![Expect::Error { rule, field: None }])
            .build(cx)
            .derived(baseline),
    )
}

/// The operation with the OAuth client's bearer token instead of the main credentials: the
/// same success, whichever kind of credentials the caller holds (sections 7 and 10).
fn oauth_owner(target: &Addressed<'_, '_>) -> Case {
    let (cx, version, ty, kind) = (target.cx, target.version, target.ty, target.kind);
    let s = "oauth-client-credentials";
    let title = format!("the OAuth client's bearer token can {kind}, as digest credentials can");
    let oauth = |r: Request| r.with_credential(Credential::OAuthOwner);
    let id = cx.id(kind, s);
    let mut case = match kind {
        OperationKind::Create | OperationKind::Update => {
            let sent = values::valid_body(ty, &format!("{id}#sent"), Fill::Full);
            let old = (kind == OperationKind::Update)
                .then(|| values::valid_body(ty, &format!("{id}#old"), Fill::Minimal));
            super::Subject::new(cx, version, ty, kind)
                .case(s, Category::Auth, title)
                .accepts(sent, old, oauth)
        }
        OperationKind::List | OperationKind::Get | OperationKind::Delete => {
            let (setup, stored) = setup_create(cx, version, ty, Fill::Minimal);
            let view = View {
                type_name: ty.name.clone(),
                object: values::view(ty, &stored),
            };
            let op = cx.op(kind);
            let shape = match kind {
                OperationKind::List => super::first_page(cx, vec![view]),
                OperationKind::Get => Expect::Single { view },
                _ => Expect::Empty,
            };
            let mut b = CaseBuilder::new(cx, kind, s, Category::Auth)
                .title(title)
                .touches(&ty.name)
                .secrets(values::secrets_of(ty, &stored))
                .step(setup.role, setup.request, setup.expect)
                .step(
                    Role::Test,
                    oauth(target.request()),
                    vec![
                        Expect::Status {
                            status: op.success_status,
                        },
                        shape,
                    ],
                );
            if kind == OperationKind::Delete {
                let verify = super::verify_state(cx, version, ty, None);
                b = b.step(verify.role, verify.request, verify.expect);
            }
            b.build(cx)
        }
    };
    case.requires.push(Requirement::OAuthClient);
    case
}
