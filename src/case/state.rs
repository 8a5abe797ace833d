//! State cases: create/get/update/delete round trips, merge versus replace updates per family,
//! upserts, server-assigned ids kept across updates, and delete then re-create.

use serde_json::{Map, Value};

use super::values::{self, Fill};
use super::{
    first_page, setup_create, verify_state, Body, Case, CaseBuilder, Category, Ctx, Expect, Role,
    View,
};
use crate::model::{IntegrationType, OperationKind, Version};

pub(super) fn generate(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    for version in &cx.family.versions {
        for ty in &version.types {
            round_trip(cx, version, ty, out);
            update_semantics(cx, version, ty, out);
            upsert(cx, version, ty, out);
            assigned_kept(cx, version, ty, out);
            refused_update(cx, version, ty, out);
        }
    }
}

fn view(ty: &IntegrationType, stored: &Map<String, Value>) -> View {
    View {
        type_name: ty.name.clone(),
        object: values::view(ty, stored),
    }
}

fn round_trip(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, out: &mut Vec<Case>) {
    let s = cx.type_scenario(version, ty, "round-trip");
    let id = cx.id(OperationKind::Create, &s);
    let created = values::valid_body(ty, &id, Fill::Full);
    let update = values::valid_body(ty, &format!("{id}#update"), Fill::Full);
    let merge = cx.op(OperationKind::Update).update.is_some_and(|u| u.merge);
    let updated = values::apply_update(ty, &created, &update, merge);
    let ok = |k: OperationKind| Expect::Status {
        status: cx.op(k).success_status,
    };
    let create = cx
        .request(OperationKind::Create, version, Some(&ty.name))
        .with_body(Body::Json(Value::Object(created.clone())));
    let put = cx
        .request(OperationKind::Update, version, Some(&ty.name))
        .with_body(Body::Json(Value::Object(update.clone())));
    let delete = cx.request(OperationKind::Delete, version, Some(&ty.name));
    let recreate = cx
        .request(OperationKind::Create, version, Some(&ty.name))
        .with_body(Body::Json(Value::Object(created.clone())));
    let v1 = verify_state(cx, version, ty, Some(&created));
    let v2 = verify_state(cx, version, ty, Some(&updated));
    let v3 = verify_state(cx, version, ty, None);
    let v4 = verify_state(cx, version, ty, Some(&created));
    out.push(
        CaseBuilder::new(cx, OperationKind::Create, &s, Category::State)
            .title(format!(
                "{}: create, get, update, get, delete, get, create again",
                ty.name
            ))
            .touches(&ty.name)
            .secrets(values::secrets_of(ty, &created))
            .secrets(values::secrets_of(ty, &update))
            .step(
                Role::Test,
                create,
                vec![
                    ok(OperationKind::Create),
                    first_page(cx, vec![view(ty, &created)]),
                ],
            )
            .step(Role::Verify, v1.request, v1.expect)
            .step(
                Role::Test,
                put,
                vec![
                    ok(OperationKind::Update),
                    first_page(cx, vec![view(ty, &updated)]),
                ],
            )
            .step(Role::Verify, v2.request, v2.expect)
            .step(
                Role::Test,
                delete,
                vec![ok(OperationKind::Delete), Expect::Empty],
            )
            .step(Role::Verify, v3.request, v3.expect)
            .step(Role::Test, recreate, vec![ok(OperationKind::Create)])
            .step(Role::Verify, v4.request, v4.expect)
            .build(cx),
    );
}

/// An update that sends only the required fields: merge keeps the rest, replace drops it.
fn update_semantics(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, out: &mut Vec<Case>) {
    let Some(rule) = cx.op(OperationKind::Update).update else {
        return;
    };
    if ty.settable_fields().all(|f| f.required) {
        return;
    }
    let name = if rule.merge {
        "update-merges"
    } else {
        "update-replaces"
    };
    let s = cx.type_scenario(version, ty, name);
    let id = cx.id(OperationKind::Update, &s);
    let old = values::valid_body(ty, &id, Fill::Full);
    let sent = values::valid_body(ty, &format!("{id}#update"), Fill::Alternate);
    let title = format!(
        "an update with only the required fields {} the optional ones",
        if rule.merge { "keeps" } else { "drops" }
    );
    out.push(
        super::Subject::new(cx, version, ty, OperationKind::Update)
            .case(&s, Category::State, title)
            .accepts(sent, Some(old), |r| r),
    );
}

/// Families whose update is an upsert create an unconfigured type.
fn upsert(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, out: &mut Vec<Case>) {
    if !cx
        .op(OperationKind::Update)
        .update
        .is_some_and(|u| u.upsert)
    {
        return;
    }
    let s = cx.type_scenario(version, ty, "update-creates-when-unconfigured");
    let sent = values::valid_body(ty, &cx.id(OperationKind::Update, &s), Fill::Full);
    let title = format!("updating an unconfigured {} creates it", ty.name);
    out.push(
        super::Subject::new(cx, version, ty, OperationKind::Update)
            .case(&s, Category::State, title)
            .accepts(sent, None, |r| r),
    );
}

/// A server-assigned field keeps its value across an update, also when the update body sends
/// it as a string (an id that looks like one the server could assign) or as `null`: both are
/// ignored (section 8).
fn assigned_kept(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, out: &mut Vec<Case>) {
    for field in ty.fields.iter().filter(|f| f.read_only) {
        for (rest, sent_value, how) in [
            ("kept-across-update", None, ""),
            (
                "string-in-update-ignored",
                Some(Value::String("0123456789abcdef01234567".into())),
                ", the update's own string ignored",
            ),
            (
                "null-in-update-ignored",
                Some(Value::Null),
                ", the update's null ignored",
            ),
        ] {
            let s = cx.type_scenario(version, ty, &format!("{}-{rest}", field.name));
            let id = cx.id(OperationKind::Update, &s);
            let (setup, old) = setup_create(cx, version, ty, Fill::Full);
            let mut sent = values::valid_body(ty, &format!("{id}#update"), Fill::Full);
            if let Some(v) = sent_value {
                sent.insert(field.name.clone(), v);
            }
            let get = cx.request(OperationKind::Get, version, Some(&ty.name));
            let req = cx
                .request(OperationKind::Update, version, Some(&ty.name))
                .with_body(Body::Json(Value::Object(sent.clone())));
            let same = |step| Expect::SameAssigned {
                type_name: ty.name.clone(),
                field: field.name.clone(),
                step,
            };
            out.push(
                CaseBuilder::new(cx, OperationKind::Update, &s, Category::State)
                    .title(format!(
                        "the server-assigned {} survives an update{how}",
                        field.name
                    ))
                    .touches(&ty.name)
                    .secrets(values::secrets_of(ty, &old))
                    .secrets(values::secrets_of(ty, &sent))
                    .step(setup.role, setup.request, setup.expect)
                    .step(
                        Role::Test,
                        req,
                        vec![
                            Expect::Status {
                                status: cx.op(OperationKind::Update).success_status,
                            },
                            same(0),
                        ],
                    )
                    .step(Role::Verify, get, vec![same(0)])
                    .build(cx),
            );
        }
    }
}

/// An update refused for one bad field stores none of the good ones it carried.
fn refused_update(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, out: &mut Vec<Case>) {
    let kind = OperationKind::Update;
    let Some(rule) = cx.rule(kind, crate::model::Situation::UnknownAttribute) else {
        return;
    };
    let s = cx.type_scenario(version, ty, "refused-update-changes-nothing");
    let id = cx.id(kind, &s);
    let valid = values::valid_body(ty, &format!("{id}#update"), Fill::Alternate);
    let mut sent = valid.clone();
    sent.insert("unexpectedAttribute".into(), Value::String("x".into()));
    let template = cx.request(kind, version, Some(&ty.name));
    let baseline = super::Baseline::new(
        template.clone().with_body(Body::Json(Value::Object(valid))),
        "body unexpectedAttribute = \"x\"",
    );
    let req = template.with_body(Body::Json(Value::Object(sent)));
    out.push(
        super::Subject::new(cx, version, ty, kind)
            .case(
                &s,
                Category::State,
                format!(
                    "a refused {} update changes nothing, not even its valid fields",
                    ty.name
                ),
            )
            .refuses(req, rule, Some("unexpectedAttribute".into()), true)
            .derived(baseline),
    );
}
