//! Version cases: `Accept` negotiation on families with dated media types (unsupported,
//! absent, wildcard and q-valued `Accept`), the response media type, request bodies read under
//! the version `Accept` picked, per-version fields; unversioned families ignore `Accept`.

use serde_json::Value;

use super::values::{self, Fill};
use super::{setup_create, Baseline, Body, Case, CaseBuilder, Category, Ctx, Expect, Role, View};
use crate::model::{IntegrationType, OperationKind, Situation, Version};

pub(super) fn generate(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    if cx.family.versioned() {
        negotiation(cx, out);
        per_version_fields(cx, out);
    } else {
        accept_ignored(cx, out);
    }
}

/// `Accept` negotiation: unsupported values refused, each version answered in its media type,
/// q-values honoured, and the body read under the version `Accept` picked.
fn negotiation(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    let newest = cx.default_version();
    let Some(ty) = newest.types.first() else {
        return;
    };
    let unknown_date = newest
        .media_type
        .replace(newest.name.as_deref().unwrap_or_default(), "2020-01-01");
    let refused: Vec<(&str, Option<String>)> = vec![
        ("accept-absent", None),
        ("accept-plain-json", Some("application/json".to_owned())),
        ("accept-unknown-date", Some(unknown_date)),
        ("accept-wildcard", Some("*/*".to_owned())),
        ("accept-garbage", Some("text/html".to_owned())),
    ];
    for kind in OperationKind::ALL {
        refused_accepts(cx, (ty, kind), &refused, out);
        // Each version is answered in its own media type.
        for version in &cx.family.versions {
            out.push(answered_in_media_type(cx, version, ty, kind));
        }
    }
    if let [older, .., newer] = cx.family.versions.as_slice() {
        q_values(cx, older, newer, out);
        content_types(cx, older, newer, out);
    }
}

/// Each `Accept` a versioned family refuses, on one operation of the newest version's first
/// type.
fn refused_accepts(
    cx: &Ctx<'_>,
    (ty, kind): (&IntegrationType, OperationKind),
    refused: &[(&str, Option<String>)],
    out: &mut Vec<Case>,
) {
    let newest = cx.default_version();
    let op = cx.op(kind);
    let Some(rule) = op.error(Situation::UnsupportedVersion).cloned() else {
        return;
    };
    for (s, accept) in refused {
        let mut valid = cx.request(kind, newest, Some(&ty.name));
        if op.has_body {
            valid = valid.with_body(Body::Json(Value::Object(values::valid_body(
                ty,
                &cx.id(kind, s),
                Fill::Minimal,
            ))));
        }
        let req = valid.clone().with_accept(accept.as_deref());
        let baseline = Baseline::new(
            valid,
            format!("Accept {}", accept.as_deref().unwrap_or("absent")),
        );
        let title = format!(
            "Accept {} is refused",
            accept.as_deref().unwrap_or("absent")
        );
        let case = if kind.has_type() {
            super::Subject::new(cx, newest, ty, kind)
                .case(s, Category::Versions, title)
                .refuses(
                    req,
                    rule.clone(),
                    None,
                    // Configured first where the operation needs it, so that the same request
                    // with a supported Accept succeeds.
                    matches!(
                        kind,
                        OperationKind::Get | OperationKind::Update | OperationKind::Delete
                    ),
                )
        } else {
            CaseBuilder::new(cx, kind, s, Category::Versions)
                .title(title)
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
        out.push(case.derived(baseline));
    }
}

/// One operation under one version answers in that version's media type.
fn answered_in_media_type(
    cx: &Ctx<'_>,
    version: &Version,
    ty: &IntegrationType,
    kind: OperationKind,
) -> Case {
    let op = cx.op(kind);
    let s = cx.vs(version, "answered-in-its-media-type");
    let id = cx.id(kind, &s);
    let mut b = CaseBuilder::new(cx, kind, &s, Category::Versions)
        .title(format!(
            "{kind} under {} answers {}",
            version.label(),
            version.media_type
        ))
        .touches(&ty.name);
    let vty = version.integration_type(&ty.name).unwrap_or(ty);
    let mut stored = values::valid_body(vty, &id, Fill::Minimal);
    if kind != OperationKind::Create {
        let (setup, old) = setup_create(cx, version, vty, Fill::Minimal);
        b = b
            .secrets(values::secrets_of(vty, &old))
            .step(setup.role, setup.request, setup.expect);
        if kind != OperationKind::Update {
            stored = old;
        }
    }
    let mut req = cx.request(kind, version, Some(&vty.name));
    if op.has_body {
        req = req.with_body(Body::Json(Value::Object(stored.clone())));
    }
    let mut expect = vec![Expect::Status {
        status: op.success_status,
    }];
    if kind != OperationKind::Delete {
        expect.push(Expect::MediaType {
            media_type: version.media_type.clone(),
        });
    }
    b.secrets(values::secrets_of(vty, &stored))
        .step(Role::Test, req, expect)
        .build(cx)
}

/// q-values: the preferred supported version wins.
fn q_values(cx: &Ctx<'_>, older: &Version, newer: &Version, out: &mut Vec<Case>) {
    for (s, prefer, other) in [
        ("accept-q-values-prefer-newer", newer, older),
        ("accept-q-values-prefer-older", older, newer),
    ] {
        let accept = format!("{};q=0.2, {};q=0.9", other.media_type, prefer.media_type);
        let req = cx
            .request(OperationKind::List, prefer, None)
            .with_accept(Some(&accept));
        out.push(
            CaseBuilder::new(cx, OperationKind::List, s, Category::Versions)
                .title(format!("Accept with q-values picks {}", prefer.media_type))
                .step(
                    Role::Test,
                    req,
                    vec![
                        Expect::Status { status: 200 },
                        Expect::MediaType {
                            media_type: prefer.media_type.clone(),
                        },
                    ],
                )
                .build(cx),
        );
    }
}

/// The body is read under the version Accept picked, whatever Content-Type names.
fn content_types(cx: &Ctx<'_>, older: &Version, newer: &Version, out: &mut Vec<Case>) {
    let kind = OperationKind::Create;
    let mut content_types: Vec<(String, String)> = cx
        .family
        .extra_request_content_types
        .iter()
        .map(|ct| {
            (
                format!("content-type-{}", ct.replace(['/', '+', '.'], "-")),
                ct.clone(),
            )
        })
        .collect();
    content_types.push((
        "content-type-other-version".to_owned(),
        older.media_type.clone(),
    ));
    for (s, ct) in content_types {
        let Some(ty) = newer.types.first() else {
            continue;
        };
        let body = values::valid_body(ty, &cx.id(kind, &s), Fill::Minimal);
        let title =
            format!("Content-Type {ct} is accepted; the body is read under Accept's version");
        let ct2 = ct.clone();
        let mut case = super::Subject::new(cx, newer, ty, kind)
            .case(&s, Category::Versions, title)
            .accepts(body, None, move |r| r.with_content_type(Some(&ct2)));
        if let Some(test) = case.steps.iter_mut().find(|s| s.role == Role::Test) {
            test.expect.push(Expect::MediaType {
                media_type: newer.media_type.clone(),
            });
        }
        out.push(case);
    }
}

/// A type whose fields differ between versions: configured under one, read under the other.
fn per_version_fields(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    for written in &cx.family.versions {
        for read in cx.family.versions.iter().filter(|v| v.name != written.name) {
            for wty in &written.types {
                let Some(rty) = read.integration_type(&wty.name) else {
                    continue;
                };
                let differs = wty.fields.iter().any(|f| rty.field(&f.name).is_none());
                if !differs {
                    continue;
                }
                let s = format!(
                    "{}-written-under-v{}-read-under-v{}",
                    wty.name.to_lowercase().replace('_', "-"),
                    written.label(),
                    read.label()
                );
                let kind = OperationKind::Get;
                let (setup, stored) = setup_create(cx, written, wty, Fill::Full);
                let req = cx.request(kind, read, Some(&rty.name));
                let view = View {
                    type_name: rty.name.clone(),
                    object: values::view(rty, &stored),
                };
                out.push(
                    CaseBuilder::new(cx, kind, &s, Category::Versions)
                        .title(format!(
                            "fields of {} only under {} are not returned under {}",
                            wty.name,
                            written.label(),
                            read.label()
                        ))
                        .touches(&wty.name)
                        .secrets(values::secrets_of(wty, &stored))
                        .step(setup.role, setup.request, setup.expect)
                        .step(
                            Role::Test,
                            req,
                            vec![Expect::Status { status: 200 }, Expect::Single { view }],
                        )
                        .build(cx),
                );
            }
        }
    }
}

/// Unversioned families answer their one media type whatever `Accept` names.
fn accept_ignored(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    let version: &Version = cx.default_version();
    let others: Vec<&str> = cx
        .model
        .families
        .iter()
        .flat_map(|f| f.versions.iter())
        .map(|v| v.media_type.as_str())
        .filter(|m| *m != version.media_type)
        .collect();
    for (i, accept) in others.iter().take(1).chain(["*/*"].iter()).enumerate() {
        let s = if i == 0 {
            "accept-versioned-media-type-ignored"
        } else {
            "accept-wildcard-ignored"
        };
        let req = cx
            .request(OperationKind::List, version, None)
            .with_accept(Some(accept));
        out.push(
            CaseBuilder::new(cx, OperationKind::List, s, Category::Versions)
                .title(format!(
                    "Accept {accept} is ignored; the answer is {}",
                    version.media_type
                ))
                .step(
                    Role::Test,
                    req,
                    vec![
                        Expect::Status { status: 200 },
                        Expect::MediaType {
                            media_type: version.media_type.clone(),
                        },
                    ],
                )
                .build(cx),
        );
    }
}
