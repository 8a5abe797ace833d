//! Concurrency cases (contract section 9): of several concurrent creates of one type in one
//! project exactly one succeeds, the others are refused as already configured, and what is
//! stored afterwards is one of the bodies sent, whole.

use serde_json::Value;

use super::values::{self, Fill};
use super::{first_page, Body, Case, CaseBuilder, Category, Ctx, Expect, Role, View};
use crate::model::{OperationKind, Situation};

/// How many creates race.
const CONTENDERS: usize = 4;

pub(super) fn generate(cx: &Ctx<'_>, out: &mut Vec<Case>) {
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
    let mut b = CaseBuilder::new(cx, kind, &s, Category::State)
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
