//! Redaction cases: every secret field of every type, sent with a known value, comes back with
//! its exact mask (or not at all) in the create and update lists, in get, in list, under
//! `envelope`, under `pretty` and on every page; and never in an error.

use serde_json::{json, Value};

use super::values::{self, Fill};
use super::{
    masked, setup_all, setup_create, Baseline, Body, Case, CaseBuilder, Category, Ctx, Expect, Role,
};
use crate::model::{IntegrationType, OperationKind, SecretKind, Situation, Version};

pub(super) fn generate(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    for version in &cx.family.versions {
        for ty in version
            .types
            .iter()
            .filter(|t| t.secret_fields().next().is_some())
        {
            per_type(cx, version, ty, out);
        }
        every_page(cx, version, out);
        short_values(cx, version, out);
    }
}

fn per_type(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, out: &mut Vec<Case>) {
    // In the create list.
    let s = cx.type_scenario(version, ty, "masked-in-create-list");
    let body = values::valid_body(ty, &cx.id(OperationKind::Create, &s), Fill::Full);
    let req = cx
        .request(OperationKind::Create, version, Some(&ty.name))
        .with_body(Body::Json(Value::Object(body.clone())));
    out.push(
        CaseBuilder::new(cx, OperationKind::Create, &s, Category::Redaction)
            .title(format!(
                "{} secrets are masked in the create response",
                ty.name
            ))
            .touches(&ty.name)
            .secrets(values::secrets_of(ty, &body))
            .step(Role::Test, req, vec![masked(ty, &body)])
            .build(cx),
    );
    // In the update list.
    let s = cx.type_scenario(version, ty, "masked-in-update-list");
    let id = cx.id(OperationKind::Update, &s);
    let (setup, old) = setup_create(cx, version, ty, Fill::Minimal);
    let body = values::valid_body(ty, &id, Fill::Full);
    let req = cx
        .request(OperationKind::Update, version, Some(&ty.name))
        .with_body(Body::Json(Value::Object(body.clone())));
    out.push(
        CaseBuilder::new(cx, OperationKind::Update, &s, Category::Redaction)
            .title(format!(
                "{} secrets are masked in the update response",
                ty.name
            ))
            .touches(&ty.name)
            .secrets(values::secrets_of(ty, &old))
            .secrets(values::secrets_of(ty, &body))
            .step(setup.role, setup.request, setup.expect)
            .step(Role::Test, req, vec![masked(ty, &body)])
            .build(cx),
    );
    in_reads(cx, version, ty, out);
    out.extend(not_echoed_in_error(cx, version, ty));
}

/// In get and list, plain, enveloped and pretty.
fn in_reads(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, out: &mut Vec<Case>) {
    type View<'a> = (&'a str, OperationKind, &'a [(&'a str, &'a str)]);
    let (envelope, pretty) = (cx.wire().envelope.param.as_str(), cx.wire().pretty.as_str());
    let views: [View<'_>; 6] = [
        ("masked-in-get", OperationKind::Get, &[]),
        ("masked-in-list", OperationKind::List, &[]),
        (
            "masked-in-get-under-envelope",
            OperationKind::Get,
            &[(envelope, "true")],
        ),
        (
            "masked-in-list-under-envelope",
            OperationKind::List,
            &[(envelope, "true")],
        ),
        (
            "masked-in-get-under-pretty",
            OperationKind::Get,
            &[(pretty, "true")],
        ),
        (
            "masked-in-list-under-pretty",
            OperationKind::List,
            &[(pretty, "true")],
        ),
    ];
    for (name, kind, query) in views {
        let s = cx.type_scenario(version, ty, name);
        let (setup, body) = setup_create(cx, version, ty, Fill::Full);
        let mut req = cx.request(kind, version, Some(&ty.name));
        for (k, v) in query {
            req = req.with_query(k, v);
        }
        out.push(
            CaseBuilder::new(cx, kind, &s, Category::Redaction)
                .title(format!(
                    "{} secrets are masked in {}",
                    ty.name,
                    name.trim_start_matches("masked-in-").replace('-', " ")
                ))
                .touches(&ty.name)
                .secrets(values::secrets_of(ty, &body))
                .step(setup.role, setup.request, setup.expect)
                .step(Role::Test, req, vec![masked(ty, &body)])
                .build(cx),
        );
    }
}

/// A refused body's secrets are never echoed in the error.
fn not_echoed_in_error(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType) -> Option<Case> {
    let rule = cx.rule(OperationKind::Create, Situation::UnknownAttribute)?;
    let s = cx.type_scenario(version, ty, "secret-not-echoed-in-error");
    let valid = values::valid_body(ty, &cx.id(OperationKind::Create, &s), Fill::Full);
    let mut body = valid.clone();
    body.insert("unexpectedAttribute".into(), json!("x"));
    let template = cx.request(OperationKind::Create, version, Some(&ty.name));
    let baseline = Baseline::new(
        template.clone().with_body(Body::Json(Value::Object(valid))),
        "body unexpectedAttribute = \"x\"",
    );
    let req = template.with_body(Body::Json(Value::Object(body.clone())));
    Some(
        CaseBuilder::new(cx, OperationKind::Create, &s, Category::Redaction)
            .title(format!(
                "a refused {} body's secrets are not echoed in the error",
                ty.name
            ))
            .touches(&ty.name)
            .secrets(values::secrets_of(ty, &body))
            .step(
                Role::Test,
                req,
                vec![Expect::Error {
                    rule,
                    field: Some("unexpectedAttribute".into()),
                }],
            )
            .build(cx)
            .derived(baseline),
    )
}

/// Every type configured, listed one per page: each page shows its type masked.
fn every_page(cx: &Ctx<'_>, version: &Version, out: &mut Vec<Case>) {
    let s = cx.vs(version, "masked-on-every-page");
    let super::Fixture {
        steps,
        views,
        secrets,
        bodies,
    } = setup_all(cx, version);
    let mut b = CaseBuilder::new(cx, OperationKind::List, &s, Category::Redaction)
        .title(format!(
            "every secret is masked on every page ({}=1)",
            cx.wire().page.items_per_page
        ))
        .secrets(secrets);
    for step in steps {
        b = b.step(step.role, step.request, step.expect);
    }
    for (i, view) in views.iter().enumerate() {
        b = b.touches(&view.type_name);
        let ty = version
            .integration_type(&view.type_name)
            .expect("view of a version type");
        let body = &bodies
            .iter()
            .find(|(n, _)| *n == view.type_name)
            .expect("configured")
            .1;
        let req = cx
            .request(OperationKind::List, version, None)
            .with_query(&cx.wire().page.page_num, &(i + 1).to_string())
            .with_query(&cx.wire().page.items_per_page, "1");
        b = b.step(Role::Test, req, vec![masked(ty, body)]);
    }
    out.push(b.build(cx));
}

/// Secrets of four characters or fewer are all `*`; a URL secret with a short tail ends in `****`.
fn short_values(cx: &Ctx<'_>, version: &Version, out: &mut Vec<Case>) {
    for (kind, label, short) in [
        (
            SecretKind::MaskLast4,
            "short-secret-fully-masked",
            // Rare characters: a short secret's leak is scanned for without false hits.
            super::diversity::rare(&format!("{}/short-secret", cx.family.name), 4),
        ),
        (
            SecretKind::MaskUrl,
            "short-url-secret-masked",
            "https://hooks.example.com/abc".to_owned(),
        ),
    ] {
        let found = version.types.iter().find_map(|t| {
            t.secret_fields()
                .find(|f| {
                    f.secret == Some(kind)
                        && f.pattern.is_none()
                        && f.max_length.is_none_or(|m| m >= short.len())
                })
                .map(|f| (t, f))
        });
        let Some((ty, field)) = found else { continue };
        let s = cx.vs(version, label);
        let mut body = values::valid_body(ty, &cx.id(OperationKind::Create, &s), Fill::Minimal);
        body.insert(field.name.clone(), json!(short));
        values::satisfy_conditionals(ty, &mut body, &s, Fill::Minimal);
        let req = cx
            .request(OperationKind::Create, version, Some(&ty.name))
            .with_body(Body::Json(Value::Object(body.clone())));
        let get = cx.request(OperationKind::Get, version, Some(&ty.name));
        out.push(
            CaseBuilder::new(cx, OperationKind::Create, &s, Category::Redaction)
                .title(format!(
                    "a short {} value comes back fully masked",
                    field.name
                ))
                .touches(&ty.name)
                .secrets(values::secrets_of(ty, &body))
                .step(Role::Test, req, vec![masked(ty, &body)])
                .step(Role::Verify, get, vec![masked(ty, &body)])
                .build(cx),
        );
    }
}
