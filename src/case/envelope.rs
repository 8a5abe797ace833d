//! Envelope and format cases: `envelope=true` on single, list, write, error and 204 responses
//! (HTTP status unchanged), `pretty`, and invalid values of both flags on every operation.

use serde_json::Value;

use super::values::{self, Fill};
use super::{
    configure, first_page, setup_create, verify_state, Baseline, BaselineState, Body, Case,
    CaseBuilder, Category, Ctx, Expect, Role, View,
};
use crate::model::{OperationKind, Situation};

pub(super) fn generate(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    let version = cx.default_version();
    let Some(ty) = version.types.first() else {
        return;
    };
    let view_of = |body: &serde_json::Map<String, Value>| View {
        type_name: ty.name.clone(),
        object: values::view(ty, body),
    };

    for kind in OperationKind::ALL {
        let op = cx.op(kind);
        let s = "enveloped-success";
        let id = cx.id(kind, s);
        let mut b = CaseBuilder::new(cx, kind, s, Category::Envelope)
            .title(format!(
                "envelope=true wraps the {kind} response; the HTTP status is unchanged"
            ))
            .touches(&ty.name);
        let mut req = cx
            .request(kind, version, Some(&ty.name))
            .with_query("envelope", "true");
        let mut expect = vec![Expect::Status {
            status: op.success_status,
        }];
        let stored;
        if kind == OperationKind::Create {
            stored = values::valid_body(ty, &id, Fill::Minimal);
        } else {
            let (setup, old) = setup_create(cx, version, ty, &format!("{id}#setup"), Fill::Minimal);
            b = b.secrets(values::secrets_of(ty, &old)).step(
                setup.role,
                setup.request,
                setup.expect,
            );
            stored = old;
        }
        match kind {
            OperationKind::Create | OperationKind::Update => {
                req = req.with_body(Body::Json(Value::Object(stored.clone())));
                expect.push(Expect::Enveloped {
                    status: op.success_status,
                });
                expect.push(first_page(cx, vec![view_of(&stored)]));
            }
            OperationKind::List => {
                expect.push(Expect::Enveloped {
                    status: op.success_status,
                });
                expect.push(first_page(cx, vec![view_of(&stored)]));
            }
            OperationKind::Get => {
                expect.push(Expect::Enveloped {
                    status: op.success_status,
                });
                expect.push(Expect::Single {
                    view: view_of(&stored),
                });
            }
            OperationKind::Delete => expect.push(Expect::Empty),
        }
        b = b
            .secrets(values::secrets_of(ty, &stored))
            .step(Role::Test, req, expect);
        out.push(b.build(cx));

        // An invalid flag value is refused on every operation.
        for flag in ["envelope", "pretty"] {
            let Some(rule) = cx.rule(kind, Situation::InvalidQueryParameter) else {
                continue;
            };
            let s = format!("{flag}-not-boolean");
            let mut valid = cx.request(kind, version, Some(&ty.name));
            if op.has_body {
                valid = valid.with_body(Body::Json(Value::Object(values::valid_body(
                    ty,
                    &cx.id(kind, &s),
                    Fill::Minimal,
                ))));
            }
            let req = valid.clone().with_query(flag, "yes");
            let pre = matches!(
                kind,
                OperationKind::Update | OperationKind::Delete | OperationKind::Get
            );
            out.push(
                super::Subject::new(cx, version, ty, kind)
                    .case(&s, Category::Envelope, format!("{flag}=yes is refused"))
                    .refuses(req, rule, Some(flag.to_owned()), pre)
                    .derived(Baseline::new(valid, format!("query {flag}=yes"))),
            );
        }
    }

    // Errors are wrapped too, with the error status.
    let get = cx.op(OperationKind::Get);
    if let Some(rule) = get.error(Situation::NotConfigured).cloned() {
        let req = cx
            .request(OperationKind::Get, version, Some(&ty.name))
            .with_query("envelope", "true");
        // Once the type is configured the same get succeeds: the missing configuration is the
        // one fault.
        let baseline = Baseline::new(req.clone(), format!("{} not configured", ty.name)).state(
            BaselineState::SetupAdded(vec![configure(cx, version, ty, "enveloped-error#baseline")]),
        );
        out.push(
            CaseBuilder::new(
                cx,
                OperationKind::Get,
                "enveloped-error",
                Category::Envelope,
            )
            .title("envelope=true wraps an error body; the HTTP status is unchanged")
            .touches(&ty.name)
            .step(
                Role::Test,
                req,
                vec![
                    Expect::Enveloped {
                        status: rule.status,
                    },
                    Expect::Error { rule, field: None },
                ],
            )
            .build(cx)
            .derived(baseline),
        );
    }
    if let (Some(field), Some(rule)) = (
        ty.settable_fields().find(|f| f.required),
        cx.rule(OperationKind::Create, Situation::RequiredMissing),
    ) {
        let valid = values::valid_body(ty, "enveloped-validation-error", Fill::Minimal);
        let mut body = valid.clone();
        body.remove(&field.name);
        let template = cx
            .request(OperationKind::Create, version, Some(&ty.name))
            .with_query("envelope", "true");
        let baseline = Baseline::new(
            template.clone().with_body(Body::Json(Value::Object(valid))),
            format!("body without {}", field.name),
        );
        let req = template.with_body(Body::Json(Value::Object(body)));
        let verify = verify_state(cx, version, ty, None);
        out.push(
            CaseBuilder::new(
                cx,
                OperationKind::Create,
                "enveloped-validation-error",
                Category::Envelope,
            )
            .title("envelope=true wraps a validation error")
            .touches(&ty.name)
            .step(
                Role::Test,
                req,
                vec![
                    Expect::Enveloped {
                        status: rule.status,
                    },
                    Expect::Error {
                        rule,
                        field: Some(field.name.clone()),
                    },
                ],
            )
            .step(verify.role, verify.request, verify.expect)
            .build(cx)
            .derived(baseline),
        );
    }
    // envelope=false and pretty on list and get.
    for kind in [OperationKind::List, OperationKind::Get] {
        for (s, query, pretty) in [
            (
                "envelope-false-unwrapped",
                vec![("envelope", "false")],
                false,
            ),
            ("pretty-true-indented", vec![("pretty", "true")], true),
            ("pretty-false-compact", vec![("pretty", "false")], false),
            ("pretty-default-compact", vec![], false),
            (
                "pretty-and-envelope",
                vec![("pretty", "true"), ("envelope", "true")],
                true,
            ),
        ] {
            let id = cx.id(kind, s);
            let (setup, body) = setup_create(cx, version, ty, &id, Fill::Minimal);
            let mut req = cx.request(kind, version, Some(&ty.name));
            for (k, v) in &query {
                req = req.with_query(k, v);
            }
            let mut expect = vec![
                Expect::Status {
                    status: cx.op(kind).success_status,
                },
                Expect::Pretty { pretty },
            ];
            if query.iter().any(|(k, v)| *k == "envelope" && *v == "true") {
                expect.push(Expect::Enveloped {
                    status: cx.op(kind).success_status,
                });
            }
            expect.push(match kind {
                OperationKind::List => first_page(cx, vec![view_of(&body)]),
                _ => Expect::Single {
                    view: view_of(&body),
                },
            });
            out.push(
                CaseBuilder::new(cx, kind, s, Category::Envelope)
                    .title(format!(
                        "{kind} with {}",
                        if query.is_empty() {
                            "no flags".to_owned()
                        } else {
                            query
                                .iter()
                                .map(|(k, v)| format!("{k}={v}"))
                                .collect::<Vec<_>>()
                                .join("&")
                        }
                    ))
                    .touches(&ty.name)
                    .secrets(values::secrets_of(ty, &body))
                    .step(setup.role, setup.request, setup.expect)
                    .step(Role::Test, req, expect)
                    .build(cx),
            );
        }
    }
}
