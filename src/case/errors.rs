//! Error cases: every row of each operation's error catalogue that a request can provoke on its
//! own (malformed and unknown group ids, the wrong project kind, integration types outside the
//! enum or unsupported, state conflicts), with status, errorCode per level, body shape,
//! `Content-Type`, and the state unchanged afterwards.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::values::{self, Fill};
use super::{
    configure, prepared, setup_create, verify_state, Baseline, BaselineState, Body, Case,
    CaseBuilder, Category, Ctx, Expect, Lane, Project, Request, Requirement, Role,
};
use crate::model::{IntegrationType, OperationKind, Situation, Version};

pub(super) fn generate(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    let version = cx.default_version();
    let Some(ty) = version.types.first() else {
        return;
    };
    let groups = groups(cx);
    for kind in OperationKind::ALL {
        let body = Body::Json(Value::Object(values::valid_body(
            ty,
            &cx.id(kind, "errors"),
            Fill::Minimal,
        )));
        let target = Addressed {
            cx,
            version,
            ty,
            kind,
            body,
        };
        group_errors(&target, &groups, out);
        out.extend(other_kind(&target));
        if kind.has_type() {
            type_errors(&target, out);
        }
    }
    unmatched(cx, out);
    // State errors, per type: not configured (get, delete, a non-upsert update); configured twice.
    for version in &cx.family.versions {
        for ty in &version.types {
            for kind in [
                OperationKind::Get,
                OperationKind::Delete,
                OperationKind::Update,
            ] {
                out.extend(not_configured(cx, version, ty, kind));
            }
            out.extend(already_configured(cx, version, ty));
        }
    }
}

/// The malformed and unknown group ids, each with the situation it provokes: the unknown one is
/// derived from the family's name, so it is stable and differs between families.
fn groups(cx: &Ctx<'_>) -> [(&'static str, String, Situation); 4] {
    let digest = hex::encode(Sha256::digest(cx.family.name.as_bytes()));
    let unknown_group = digest[..24].to_owned();
    [
        (
            "invalid-group-id-non-hex",
            "z".repeat(24),
            Situation::InvalidGroupId,
        ),
        (
            "invalid-group-id-upper-case",
            unknown_group
                .to_uppercase()
                .replace(|c: char| c.is_ascii_digit(), "A"),
            Situation::InvalidGroupId,
        ),
        (
            "invalid-group-id-short",
            unknown_group[..12].to_owned(),
            Situation::InvalidGroupId,
        ),
        (
            "group-not-found",
            unknown_group.clone(),
            Situation::GroupNotFound,
        ),
    ]
}

/// One operation on the default version's first type: the valid request every error case of
/// the operation changes in one thing.
struct Addressed<'c, 'a> {
    cx: &'c Ctx<'a>,
    version: &'a Version,
    ty: &'a IntegrationType,
    kind: OperationKind,
    body: Body,
}

impl Addressed<'_, '_> {
    /// The valid request.
    fn base(&self) -> Request {
        let r = self
            .cx
            .request(self.kind, self.version, Some(&self.ty.name));
        if self.cx.op(self.kind).has_body {
            r.with_body(self.body.clone())
        } else {
            r
        }
    }

    /// The baseline of a request that addresses another project or type: this request on the
    /// family's own project, with the type configured where the operation needs it.
    fn own(&self, mutation: String) -> Baseline {
        let cx = self.cx;
        Baseline::new(self.base(), mutation).state(prepared(
            cx,
            self.version,
            self.ty,
            self.kind,
            &cx.id(self.kind, "errors#baseline"),
        ))
    }

    /// Another integration type on the path; a body's type names the same one, so the type is
    /// the one thing changed.
    fn with_type(&self, t: &str) -> Request {
        let mut req = self.base();
        req.path = format!("/integrations/{t}");
        if let Body::Json(Value::Object(mut b)) = req.body.clone() {
            b.insert(
                self.ty.discriminator().name.clone(),
                Value::String(t.to_owned()),
            );
            req.body = Body::Json(Value::Object(b));
        }
        req
    }
}

/// Malformed and unknown group ids.
fn group_errors(
    target: &Addressed<'_, '_>,
    groups: &[(&'static str, String, Situation)],
    out: &mut Vec<Case>,
) {
    let (cx, kind) = (target.cx, target.kind);
    for (s, group, situation) in groups {
        let Some(rule) = cx.op(kind).error(*situation).cloned() else {
            continue;
        };
        let req = target.base().with_project(Project::Literal(group.clone()));
        out.push(
            CaseBuilder::new(cx, kind, s, Category::Errors)
                .title(format!("groupId {group}: {situation}"))
                .lane(Lane::Stateless)
                .step(Role::Test, req, vec![Expect::Error { rule, field: None }])
                .build(cx)
                .derived(target.own(format!("project {group}"))),
        );
    }
}

/// A project of the other kind (Cloud Manager for an Atlas family and vice versa).
fn other_kind(target: &Addressed<'_, '_>) -> Option<Case> {
    let (cx, kind) = (target.cx, target.kind);
    let rule = cx.op(kind).error(Situation::WrongProjectKind).cloned()?;
    let lane = Lane::of(cx.family.project_kind.other());
    let req = target.base().with_project(Project::OtherKind);
    Some(
        CaseBuilder::new(cx, kind, "project-of-the-other-kind", Category::Errors)
            .title("a project of the other kind is refused without revealing more")
            .lane(lane)
            .requires(Requirement::OtherKindProject)
            .step(Role::Test, req, vec![Expect::Error { rule, field: None }])
            .build(cx)
            .derived(target.own("project of the other kind".into())),
    )
}

/// Integration types outside the path enum, and types the family refuses specifically.
fn type_errors(target: &Addressed<'_, '_>, out: &mut Vec<Case>) {
    let (cx, kind, ty) = (target.cx, target.kind, target.ty);
    let op = cx.op(kind);
    if let Some(rule) = op.error(Situation::InvalidIntegrationType).cloned() {
        let lower = ty.name.to_lowercase();
        for (s, t) in [
            ("integration-type-not-in-enum", "NOT_A_SERVICE".to_owned()),
            ("integration-type-lower-case", lower),
        ] {
            let req = target.with_type(&t);
            out.push(
                CaseBuilder::new(cx, kind, s, Category::Errors)
                    .title(format!("integration type {t} is outside the enum"))
                    .step(
                        Role::Test,
                        req,
                        vec![Expect::Error {
                            rule: rule.clone(),
                            field: None,
                        }],
                    )
                    .build(cx)
                    .derived(target.own(format!("integration type {t}"))),
            );
        }
    }
    for rule in op.errors_for(Situation::UnsupportedType) {
        let Some(t) = &rule.integration_type else {
            continue;
        };
        let req = target.with_type(t);
        let s = format!("unsupported-type-{}", t.to_lowercase().replace('_', "-"));
        out.push(
            CaseBuilder::new(cx, kind, &s, Category::Errors)
                .title(format!("{t} is not supported by {}", cx.family.name))
                .step(
                    Role::Test,
                    req,
                    vec![Expect::Error {
                        rule: rule.clone(),
                        field: None,
                    }],
                )
                .build(cx)
                .derived(target.own(format!("integration type {t}"))),
        );
    }
}

/// A get, delete or non-upsert update of a type that is not configured.
fn not_configured(
    cx: &Ctx<'_>,
    version: &Version,
    ty: &IntegrationType,
    kind: OperationKind,
) -> Option<Case> {
    let rule = cx.rule(kind, Situation::NotConfigured)?;
    let slug = ty.name.to_lowercase().replace('_', "-");
    let s = cx.vs(version, &format!("{slug}-not-configured"));
    let mut req = cx.request(kind, version, Some(&ty.name));
    if cx.op(kind).has_body {
        req = req.with_body(Body::Json(Value::Object(values::valid_body(
            ty,
            &cx.id(kind, &s),
            Fill::Minimal,
        ))));
    }
    // The same request once the type is configured is accepted: the missing configuration is
    // the one fault.
    let baseline = Baseline::new(req.clone(), format!("{} not configured", ty.name)).state(
        BaselineState::SetupAdded(vec![configure(
            cx,
            version,
            ty,
            &format!("{}#baseline", cx.id(kind, &s)),
        )]),
    );
    // A refused update of an unconfigured type is about state (no upsert).
    let category = if kind == OperationKind::Update {
        Category::State
    } else {
        Category::Errors
    };
    Some(
        super::Subject::new(cx, version, ty, kind)
            .case(
                &s,
                category,
                format!("{kind} of an unconfigured {}", ty.name),
            )
            .refuses(req, rule, None, false)
            .derived(baseline),
    )
}

/// A second create of a configured type is a conflict and keeps the first.
fn already_configured(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType) -> Option<Case> {
    let kind = OperationKind::Create;
    let rule = cx.rule(kind, Situation::AlreadyConfigured)?;
    let slug = ty.name.to_lowercase().replace('_', "-");
    let s = cx.vs(version, &format!("{slug}-already-configured"));
    let id = cx.id(kind, &s);
    let (setup, first) = setup_create(cx, version, ty, Fill::Full);
    let second = values::valid_body(ty, &format!("{id}#second"), Fill::Alternate);
    let req = cx
        .request(kind, version, Some(&ty.name))
        .with_body(Body::Json(Value::Object(second.clone())));
    let verify = verify_state(cx, version, ty, Some(&first));
    // Without the first create the second is accepted: the existing configuration is the one
    // fault.
    let baseline = Baseline::new(req.clone(), format!("{} already configured", ty.name))
        .state(BaselineState::SetupRemoved);
    Some(
        CaseBuilder::new(cx, kind, &s, Category::State)
            .title(format!(
                "a second {} create is a conflict and keeps the first",
                ty.name
            ))
            .touches(&ty.name)
            .secrets(values::secrets_of(ty, &first))
            .secrets(values::secrets_of(ty, &second))
            .step(setup.role, setup.request, setup.expect)
            .step(Role::Test, req, vec![Expect::Error { rule, field: None }])
            .step(verify.role, verify.request, verify.expect)
            .build(cx)
            .derived(baseline),
    )
}

/// Requests that match no operation: an unknown path, an unsupported method on a known path.
fn unmatched(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    let version = cx.default_version();
    let Some(ty) = version.types.first() else {
        return;
    };
    for rule in &cx.model.unmatched {
        let (kind, s, method, path) = match rule.situation {
            Situation::UnknownPath => (
                OperationKind::List,
                "unknown-path",
                "GET",
                "/integrationz".to_owned(),
            ),
            Situation::MethodNotAllowed => (
                OperationKind::Get,
                "method-not-allowed",
                "PATCH",
                format!("/integrations/{}", ty.name),
            ),
            _ => continue,
        };
        let valid = cx.request(kind, version, Some(&ty.name));
        let mut req = valid.clone();
        req.method = method.to_owned();
        req.path = path;
        // The request the unmatched one was made from: list for an unknown path, get for an
        // unsupported method (with the type configured, so that it succeeds).
        let (mutation, state) = match rule.situation {
            Situation::MethodNotAllowed => (
                format!("method {method}"),
                prepared(cx, version, ty, kind, &cx.id(kind, "unmatched#baseline")),
            ),
            _ => (
                format!("path {}", req.path),
                BaselineState::Prepared(Vec::new()),
            ),
        };
        let baseline = Baseline::new(valid, mutation).state(state);
        // No operation matches: no documented responses to hold the answer to.
        req.operation = String::new();
        let mut expect = vec![Expect::Error {
            rule: rule.clone(),
            field: None,
        }];
        if rule.situation == Situation::MethodNotAllowed {
            expect.push(Expect::Header {
                name: "allow".into(),
            });
        }
        out.push(
            CaseBuilder::new(cx, kind, s, Category::Errors)
                .title(format!(
                    "{method} {} matches no operation: {} in the error shape",
                    cx.family.base_path, rule.status
                ))
                .lane(Lane::Stateless)
                .step(Role::Test, req, expect)
                .build(cx)
                .derived(baseline),
        );
    }
}
