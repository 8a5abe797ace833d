//! Concurrency cases (contract section 9): of several concurrent creates of one type in one
//! project exactly one succeeds, the others are refused as already configured, and what is
//! stored afterwards is one of the bodies sent, whole. Concurrent updates of one type leave one
//! of their bodies whole, never a mixture; a read during a write sees the old or the new
//! state, whole.

use serde_json::{Map, Value};

use super::values::{self, Fill};
use super::{first_page, setup_create, Body, Case, CaseBuilder, Category, Ctx, Expect, Role, View};
use crate::model::{IntegrationType, OperationKind, Situation, Version};

/// How many creates (or updates) race.
const CONTENDERS: usize = 4;

/// How many gets read while one update writes.
const READERS: usize = 3;

pub(super) fn generate(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    concurrent_creates(cx, out);
    let version = cx.default_version();
    if let Some(ty) = most_varied(version, "concurrency") {
        concurrent_updates(cx, version, ty, out);
        read_during_write(cx, version, ty, out);
    }
}

/// A full valid body of `ty` whose secrets and URLs carry `seed`: two such bodies differ in
/// each of those fields, so that a mixture of them shows.
fn varied_body(ty: &IntegrationType, seed: &str) -> Map<String, Value> {
    let mut body = values::valid_body(ty, seed, Fill::Full);
    for f in ty
        .settable_fields()
        .filter(|f| f.format.as_deref() == Some("uri"))
    {
        body.insert(f.name.clone(), Value::String(values::secret_value(f, seed)));
    }
    body
}

/// How many fields of two varied bodies of `ty` made from different seeds differ.
fn varied_fields(ty: &IntegrationType, seed: &str) -> usize {
    let a = varied_body(ty, &format!("{seed}#0"));
    let b = varied_body(ty, &format!("{seed}#1"));
    a.iter().filter(|(k, v)| b.get(*k) != Some(*v)).count()
}

/// The type whose bodies differ in the most fields from seed to seed (at least two), so that a
/// mixture of two bodies shows in what a get returns; the first of those in list order.
fn most_varied<'a>(version: &'a Version, seed: &str) -> Option<&'a IntegrationType> {
    let best = version.types.iter().map(|t| varied_fields(t, seed)).max()?;
    if best < 2 {
        return None;
    }
    version
        .types
        .iter()
        .find(|t| varied_fields(t, seed) == best)
}

/// The view of `body`, as an expected integration.
fn view_of(ty: &IntegrationType, body: &Map<String, Value>) -> Value {
    values::view(ty, body)
}

/// Of CONTENDERS concurrent updates of one configured type, every one succeeds and get shows one
/// of their bodies whole.
fn concurrent_updates(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, out: &mut Vec<Case>) {
    let kind = OperationKind::Update;
    let s = cx.vs(version, "concurrent-updates-one-body-whole");
    let id = cx.id(kind, &s);
    let (setup, old) = setup_create(cx, version, ty, Fill::Full);
    let mut b = CaseBuilder::new(cx, kind, &s, Category::Concurrency)
        .title(format!(
            "after {CONTENDERS} concurrent updates of {}, get shows one of their bodies whole, never a mixture",
            ty.name
        ))
        .touches(&ty.name)
        .secrets(values::secrets_of(ty, &old))
        .step(setup.role, setup.request, setup.expect);
    let merge = cx.op(kind).update.is_some_and(|u| u.merge);
    let mut views = Vec::new();
    for k in 0..CONTENDERS {
        let body = varied_body(ty, &format!("{id}#{k}"));
        let stored = values::apply_update(ty, &old, &body, merge);
        views.push((b.next_index(), view_of(ty, &stored)));
        b = b.secrets(values::secrets_of(ty, &body)).step(
            Role::Concurrent,
            cx.request(kind, version, Some(&ty.name))
                .with_body(Body::Json(Value::Object(body))),
            vec![Expect::Status {
                status: cx.op(kind).success_status,
            }],
        );
    }
    let get = cx.request(OperationKind::Get, version, Some(&ty.name));
    let expect = vec![
        Expect::Status {
            status: cx.op(OperationKind::Get).success_status,
        },
        Expect::Winner {
            type_name: ty.name.clone(),
            views,
        },
    ];
    out.push(b.step(Role::Verify, get, expect).build(cx));
}

/// A get sent at the moment of an update sees the configuration before or after it, whole.
fn read_during_write(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, out: &mut Vec<Case>) {
    let kind = OperationKind::Get;
    let s = cx.vs(version, "read-during-update-sees-one-state");
    let id = cx.id(kind, &s);
    let (setup, old) = setup_create(cx, version, ty, Fill::Full);
    let new = varied_body(ty, &format!("{id}#new"));
    let merge = cx.op(OperationKind::Update).update.is_some_and(|u| u.merge);
    let stored = values::apply_update(ty, &old, &new, merge);
    let mut b = CaseBuilder::new(cx, kind, &s, Category::Concurrency)
        .title(format!(
            "a get of {} during an update shows the old or the new configuration, whole",
            ty.name
        ))
        .touches(&ty.name)
        .secrets(values::secrets_of(ty, &old))
        .secrets(values::secrets_of(ty, &new))
        .step(setup.role, setup.request, setup.expect);
    let views = vec![
        (0, view_of(ty, &old)),
        (b.next_index(), view_of(ty, &stored)),
    ];
    b = b.step(
        Role::Concurrent,
        cx.request(OperationKind::Update, version, Some(&ty.name))
            .with_body(Body::Json(Value::Object(new))),
        vec![Expect::Status {
            status: cx.op(OperationKind::Update).success_status,
        }],
    );
    let winner = Expect::Winner {
        type_name: ty.name.clone(),
        views: views.clone(),
    };
    // Several reads, so that one of them meets the update half done if it can be.
    for _ in 0..READERS {
        b = b.step(
            Role::Concurrent,
            cx.request(kind, version, Some(&ty.name)),
            vec![
                Expect::Status {
                    status: cx.op(kind).success_status,
                },
                winner.clone(),
            ],
        );
    }
    let verify = super::verify_state(cx, version, ty, Some(&stored));
    out.push(b.step(verify.role, verify.request, verify.expect).build(cx));
}

/// Of several concurrent creates of one type, one wins and its body is stored whole.
fn concurrent_creates(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    let kind = OperationKind::Create;
    let Some(rule) = cx.rule(kind, Situation::AlreadyConfigured) else {
        return;
    };
    let version = cx.default_version();
    let s = cx.vs(version, "concurrent-creates-one-wins");
    let id = cx.id(kind, &s);
    let seeds: Vec<String> = (0..CONTENDERS).map(|k| format!("{id}#{k}")).collect();
    // One type is enough: the first whose valid bodies differ from seed to seed (a secret or a
    // free-text field carries the seed), so that a mixture of two bodies would show.
    let Some(ty) = version.types.iter().find(|t| {
        let a = values::valid_body(t, &seeds[0], Fill::Full);
        let b = values::valid_body(t, &seeds[1], Fill::Full);
        a != b
    }) else {
        return;
    };
    let mut b = CaseBuilder::new(cx, kind, &s, Category::Concurrency)
        .title(format!(
            "of {CONTENDERS} concurrent creates of {} exactly one succeeds, the others are 409, and get shows that one body whole",
            ty.name
        ))
        .touches(&ty.name);
    let mut views = Vec::new();
    for seed in &seeds {
        let body = values::valid_body(ty, seed, Fill::Full);
        let view = values::view(ty, &body);
        views.push((b.next_index(), view.clone()));
        // The winner's answer lists its own body (a page is judged only on a success).
        let own = first_page(
            cx,
            vec![View {
                type_name: ty.name.clone(),
                object: view,
            }],
        );
        b = b.secrets(values::secrets_of(ty, &body)).step(
            Role::Concurrent,
            cx.request(kind, version, Some(&ty.name))
                .with_body(Body::Json(Value::Object(body))),
            vec![
                Expect::OneWins {
                    status: cx.op(kind).success_status,
                    rule: rule.clone(),
                },
                own,
            ],
        );
    }
    let get = cx.request(OperationKind::Get, version, Some(&ty.name));
    let expect = vec![
        Expect::Status {
            status: cx.op(OperationKind::Get).success_status,
        },
        Expect::Winner {
            type_name: ty.name.clone(),
            views,
        },
    ];
    out.push(b.step(Role::Verify, get, expect).build(cx));
}
