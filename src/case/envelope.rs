//! Envelope and format cases: `envelope=true` on single, list, write, error and 204 responses
//! (HTTP status unchanged), `pretty`, and invalid values of both flags on every operation.

use serde_json::{Map, Value};

use super::values::{self, Fill};
use super::{
    configure, first_page, setup_create, verify_state, Baseline, BaselineState, Body, Case,
    CaseBuilder, Category, Ctx, Expect, Role, View,
};
use crate::model::{IntegrationType, OperationKind, Situation, Version};

/// The version and type every envelope case uses, and how a stored body is expected to read.
struct Scope<'c, 'a> {
    cx: &'c Ctx<'a>,
    version: &'a Version,
    ty: &'a IntegrationType,
}

impl Scope<'_, '_> {
    fn view_of(&self, body: &Map<String, Value>) -> View {
        View {
            type_name: self.ty.name.clone(),
            object: values::view(self.ty, body),
        }
    }
}

pub(super) fn generate(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    let version = cx.default_version();
    let Some(ty) = version.types.first() else {
        return;
    };
    let scope = Scope { cx, version, ty };
    let wire = cx.wire();
    for kind in OperationKind::ALL {
        out.push(enveloped_success(&scope, kind));
        // An invalid flag value is refused on every operation.
        for flag in [&wire.envelope.param, &wire.pretty] {
            out.extend(flag_not_boolean(&scope, kind, flag));
        }
    }
    // Errors are wrapped too, with the error status.
    out.extend(enveloped_error(&scope));
    out.extend(enveloped_validation_error(&scope));
    // envelope=false and pretty on list and get.
    for kind in [OperationKind::List, OperationKind::Get] {
        flags_on_reads(&scope, kind, out);
    }
}

/// `envelope=true` wraps the success response of one operation.
fn enveloped_success(scope: &Scope<'_, '_>, kind: OperationKind) -> Case {
    let Scope { cx, version, ty } = *scope;
    let envelope = &cx.wire().envelope.param;
    let op = cx.op(kind);
    let s = "enveloped-success";
    let id = cx.id(kind, s);
    let mut b = CaseBuilder::new(cx, kind, s, Category::Envelope)
        .title(format!(
            "{envelope}=true wraps the {kind} response; the HTTP status is unchanged"
        ))
        .touches(&ty.name);
    let mut req = cx
        .request(kind, version, Some(&ty.name))
        .with_query(envelope, "true");
    let mut expect = vec![Expect::Status {
        status: op.success_status,
    }];
    let stored;
    if kind == OperationKind::Create {
        stored = values::valid_body(ty, &id, Fill::Minimal);
    } else {
        let (setup, old) = setup_create(cx, version, ty, Fill::Minimal);
        b = b
            .secrets(values::secrets_of(ty, &old))
            .step(setup.role, setup.request, setup.expect);
        stored = old;
    }
    let enveloped = Expect::Enveloped {
        status: op.success_status,
    };
    match kind {
        OperationKind::Create | OperationKind::Update => {
            req = req.with_body(Body::Json(Value::Object(stored.clone())));
            expect.push(enveloped);
            expect.push(first_page(cx, vec![scope.view_of(&stored)]));
        }
        OperationKind::List => {
            expect.push(enveloped);
            expect.push(first_page(cx, vec![scope.view_of(&stored)]));
        }
        OperationKind::Get => {
            expect.push(enveloped);
            expect.push(Expect::Single {
                view: scope.view_of(&stored),
            });
        }
        OperationKind::Delete => expect.push(Expect::Empty),
    }
    b.secrets(values::secrets_of(ty, &stored))
        .step(Role::Test, req, expect)
        .build(cx)
}

/// `{flag}=yes` is refused with the invalid-query-parameter rule.
fn flag_not_boolean(scope: &Scope<'_, '_>, kind: OperationKind, flag: &str) -> Option<Case> {
    let Scope { cx, version, ty } = *scope;
    let rule = cx.rule(kind, Situation::InvalidQueryParameter)?;
    let s = format!("{flag}-not-boolean");
    let mut valid = cx.request(kind, version, Some(&ty.name));
    if cx.op(kind).has_body {
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
    Some(
        super::Subject::new(cx, version, ty, kind)
            .case(&s, Category::Envelope, format!("{flag}=yes is refused"))
            .refuses(req, rule, Some(flag.to_owned()), pre)
            .derived(Baseline::new(valid, format!("query {flag}=yes"))),
    )
}

/// An enveloped get of a type not configured: the error body is wrapped, with its status.
fn enveloped_error(scope: &Scope<'_, '_>) -> Option<Case> {
    let Scope { cx, version, ty } = *scope;
    let envelope = &cx.wire().envelope.param;
    let rule = cx
        .op(OperationKind::Get)
        .error(Situation::NotConfigured)?
        .clone();
    let req = cx
        .request(OperationKind::Get, version, Some(&ty.name))
        .with_query(envelope, "true");
    // Once the type is configured the same get succeeds: the missing configuration is the
    // one fault.
    let baseline = Baseline::new(req.clone(), format!("{} not configured", ty.name)).state(
        BaselineState::SetupAdded(vec![configure(cx, version, ty, "enveloped-error#baseline")]),
    );
    Some(
        CaseBuilder::new(
            cx,
            OperationKind::Get,
            "enveloped-error",
            Category::Envelope,
        )
        .title(format!(
            "{envelope}=true wraps an error body; the HTTP status is unchanged"
        ))
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
    )
}

/// An enveloped create without a required field: the validation error is wrapped.
fn enveloped_validation_error(scope: &Scope<'_, '_>) -> Option<Case> {
    let Scope { cx, version, ty } = *scope;
    let envelope = &cx.wire().envelope.param;
    let field = ty.settable_fields().find(|f| f.required)?;
    let rule = cx.rule(OperationKind::Create, Situation::RequiredMissing)?;
    let valid = values::valid_body(ty, "enveloped-validation-error", Fill::Minimal);
    let mut body = valid.clone();
    body.remove(&field.name);
    let template = cx
        .request(OperationKind::Create, version, Some(&ty.name))
        .with_query(envelope, "true");
    let baseline = Baseline::new(
        template.clone().with_body(Body::Json(Value::Object(valid))),
        format!("body without {}", field.name),
    );
    let req = template.with_body(Body::Json(Value::Object(body)));
    let verify = verify_state(cx, version, ty, None);
    Some(
        CaseBuilder::new(
            cx,
            OperationKind::Create,
            "enveloped-validation-error",
            Category::Envelope,
        )
        .title(format!("{envelope}=true wraps a validation error"))
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
    )
}

/// `envelope=false` and the `pretty` flag on a read: the body is (not) wrapped and (not)
/// indented as asked.
fn flags_on_reads(scope: &Scope<'_, '_>, kind: OperationKind, out: &mut Vec<Case>) {
    let Scope { cx, version, ty } = *scope;
    let wire = cx.wire();
    let (envelope, pretty_flag) = (wire.envelope.param.as_str(), wire.pretty.as_str());
    for (s, query, pretty) in [
        ("envelope-false-unwrapped", vec![(envelope, "false")], false),
        ("pretty-true-indented", vec![(pretty_flag, "true")], true),
        ("pretty-false-compact", vec![(pretty_flag, "false")], false),
        ("pretty-default-compact", vec![], false),
        (
            "pretty-and-envelope",
            vec![(pretty_flag, "true"), (envelope, "true")],
            true,
        ),
    ] {
        let (setup, body) = setup_create(cx, version, ty, Fill::Minimal);
        let mut req = cx.request(kind, version, Some(&ty.name));
        for (k, v) in &query {
            req = req.with_query(k, v);
        }
        let success = cx.op(kind).success_status;
        let mut expect = vec![
            Expect::Status { status: success },
            Expect::Pretty { pretty },
        ];
        if query.iter().any(|(k, v)| *k == envelope && *v == "true") {
            expect.push(Expect::Enveloped { status: success });
        }
        expect.push(match kind {
            OperationKind::List => first_page(cx, vec![scope.view_of(&body)]),
            _ => Expect::Single {
                view: scope.view_of(&body),
            },
        });
        let flags = if query.is_empty() {
            "no flags".to_owned()
        } else {
            query
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&")
        };
        out.push(
            CaseBuilder::new(cx, kind, s, Category::Envelope)
                .title(format!("{kind} with {flags}"))
                .touches(&ty.name)
                .secrets(values::secrets_of(ty, &body))
                .step(setup.role, setup.request, setup.expect)
                .step(Role::Test, req, expect)
                .build(cx),
        );
    }
}
