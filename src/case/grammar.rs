//! Grammar at the edges (issue 12): query values, bodies and paths just inside and just outside
//! what the contract accepts.
//!
//! - Query integers (section 3: an integer >= 1; `pageNum` has no upper bound): `-1` and `0`
//!   are refused, `9223372036854775808` (past the signed 64-bit range) is a page past the end
//!   for `pageNum` and over the maximum for `itemsPerPage`. Whether `+1` and `01` are integers
//!   the contract does not say: either reading passes (200 as the value 1, or the refusal).
//! - Query booleans are exactly `true`/`false` (section 8): `True` and `TRUE` are refused.
//! - Unknown query parameters are ignored (section 3), on every operation, also beside
//!   non-default pages of the create and update answers.
//! - Bodies (sections 5 and 8): bytes after the object and `Infinity` are not JSON; with
//!   duplicate keys the last one wins; an unknown field is `INVALID_ATTRIBUTE` however deeply
//!   its value nests.
//! - Paths (section 5): every type of every other family that is outside this family's path
//!   enum is `INVALID_ENUM_VALUE` on each operation that names a type.

use serde_json::{json, Map, Value};

use super::values::{self, Fill};
use super::{
    prepared, setup_create, verify_state, Baseline, Body, Case, CaseBuilder, Category, Ctx, Expect,
    PageExpect, Request, Role, Subject, View,
};
use crate::model::{IntegrationType, Level, OperationKind, ParamKind, Situation, Version};

/// `2^63`: one past the largest signed 64-bit integer.
const BEYOND_I64: &str = "9223372036854775808";

/// A query parameter no operation declares.
const UNKNOWN_PARAMETER: &str = "notAParameter";

/// How deep a body nests (the body itself is the first level): past the depth a target may
/// refuse (section 10: more than 32), within what common JSON parsers accept by default (128).
const DEPTH: usize = 64;

/// The deepest body a target must read like any other (contract section 10).
const MAX_READ_DEPTH: usize = 32;

pub(super) fn generate(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    let version = cx.default_version();
    let Some(ty) = version.types.first() else {
        return;
    };
    integer_edges(cx, version, ty, out);
    boolean_case(cx, version, ty, out);
    unknown_parameters(cx, version, ty, out);
    repeated_on_writes(cx, version, ty, out);
    bodies(cx, version, ty, out);
    foreign_types(cx, version, ty, out);
}

/// The valid request of `kind` about `ty`, with a minimal body where the operation takes one.
fn valid_request(
    cx: &Ctx<'_>,
    version: &Version,
    ty: &IntegrationType,
    kind: OperationKind,
    seed: &str,
) -> Request {
    let r = cx.request(kind, version, Some(&ty.name));
    if cx.op(kind).has_body {
        let body = values::valid_body(ty, seed, Fill::Minimal);
        r.with_body(Body::Json(Value::Object(body)))
    } else {
        r
    }
}

/// Whether the same request with valid values needs `ty` configured first.
fn needs_configured(kind: OperationKind) -> bool {
    kind != OperationKind::Create && kind != OperationKind::List
}

/// A query parameter refused with `value` on `kind`; the same request without it is accepted.
struct Refusal<'s> {
    kind: OperationKind,
    param: &'s str,
    value: &'s str,
    scenario: String,
    category: Category,
}

fn refused(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, r: Refusal<'_>) -> Option<Case> {
    let rule = cx.rule(r.kind, Situation::InvalidQueryParameter)?;
    let valid = valid_request(cx, version, ty, r.kind, &cx.id(r.kind, &r.scenario));
    let req = valid.clone().with_query(r.param, r.value);
    Some(
        Subject::new(cx, version, ty, r.kind)
            .case(
                &r.scenario,
                r.category,
                format!("{}={} is refused", r.param, r.value),
            )
            .refuses(
                req,
                rule,
                Some(r.param.to_owned()),
                needs_configured(r.kind) || r.kind == OperationKind::Update,
            )
            .derived(Baseline::new(
                valid,
                format!("query {}={}", r.param, r.value),
            )),
    )
}

/// A list request with `query` while `ty` is configured, and what it must answer: `status` and
/// the page (`pageNum`, `itemsPerPage`).
struct Listing<'q> {
    scenario: &'q str,
    title: String,
    query: &'q [(&'q str, &'q str)],
    page: (u64, u64),
    status: Expect,
}

fn listed(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, l: Listing<'_>) -> Case {
    let Listing {
        scenario,
        title,
        query,
        page,
        status,
    } = l;
    let kind = OperationKind::List;
    let (setup, body) = setup_create(cx, version, ty, Fill::Minimal);
    let mut req = cx.request(kind, version, None);
    for (k, v) in query {
        req = req.with_query(k, v);
    }
    let view = View {
        type_name: ty.name.clone(),
        object: values::view(ty, &body),
    };
    let page = Expect::Page {
        page: PageExpect {
            all: vec![view],
            page_num: page.0,
            items_per_page: page.1,
            include_count: true,
            total_count: true,
        },
    };
    CaseBuilder::new(cx, kind, scenario, Category::Pagination)
        .title(title)
        .touches(&ty.name)
        .secrets(values::secrets_of(ty, &body))
        .step(setup.role, setup.request, setup.expect)
        .step(Role::Test, req, vec![status, page])
        .build(cx)
}

/// Integer query values at the edges of "an integer >= 1".
fn integer_edges(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, out: &mut Vec<Case>) {
    let list = cx.op(OperationKind::List);
    for kind in [
        OperationKind::List,
        OperationKind::Create,
        OperationKind::Update,
    ] {
        let op = cx.op(kind);
        for param in op.query.iter().filter(|q| q.kind == ParamKind::Integer) {
            let slug = super::kebab(&param.name);
            let mut values = Vec::new();
            if param.minimum.is_some_and(|m| m >= 0) {
                values.push(("negative", "-1"));
                // list has its own below-minimum case (pagination.rs).
                if kind != OperationKind::List && param.minimum.is_some_and(|m| m >= 1) {
                    values.push(("zero", "0"));
                }
            }
            if param.maximum.is_some() {
                values.push(("beyond-signed-64-bits", BEYOND_I64));
            }
            for (label, value) in values {
                let s = cx.vs(version, &format!("{slug}-{label}"));
                out.extend(refused(
                    cx,
                    version,
                    ty,
                    Refusal {
                        kind,
                        param: &param.name,
                        value,
                        scenario: s,
                        category: Category::Pagination,
                    },
                ));
            }
        }
    }
    let Some(rule) = cx.rule(OperationKind::List, Situation::InvalidQueryParameter) else {
        return;
    };
    let per_default = list
        .query_param(&cx.model.wire.page.items_per_page)
        .and_then(|q| q.default.as_u64())
        .unwrap_or(100);
    for param in list.query.iter().filter(|q| q.kind == ParamKind::Integer) {
        let slug = super::kebab(&param.name);
        let is_page = param.maximum.is_none();
        // The value 1 spelled with a sign or a leading zero: 1 or refused, either reading.
        for (label, value) in [("plus-sign", "+1"), ("leading-zero", "01")] {
            let s = cx.vs(version, &format!("{slug}-{label}"));
            let page = if is_page { (1, per_default) } else { (1, 1) };
            let listing = Listing {
                scenario: &s,
                title: format!(
                    "{}={value} is read as 1 or refused (the contract leaves it open)",
                    param.name
                ),
                query: &[(param.name.as_str(), value)],
                page,
                status: Expect::Either {
                    status: list.success_status,
                    rule: rule.clone(),
                },
            };
            out.push(listed(cx, version, ty, listing));
        }
        if is_page {
            // No upper bound: past the signed 64-bit range is still a page, past the end.
            let s = cx.vs(version, &format!("{slug}-beyond-signed-64-bits"));
            let big: u64 = BEYOND_I64.parse().expect("2^63 fits u64");
            let listing = Listing {
                scenario: &s,
                title: format!(
                    "{}={BEYOND_I64} has no upper bound: an empty page",
                    param.name
                ),
                query: &[(param.name.as_str(), BEYOND_I64)],
                page: (big, per_default),
                status: Expect::Status {
                    status: list.success_status,
                },
            };
            out.push(listed(cx, version, ty, listing));
        }
    }
}

/// Booleans are exactly `true` or `false`: `True` and `TRUE` are refused, on every operation.
fn boolean_case(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, out: &mut Vec<Case>) {
    for kind in OperationKind::ALL {
        let op = cx.op(kind);
        for param in op.query.iter().filter(|q| q.kind == ParamKind::Boolean) {
            let slug = super::kebab(&param.name);
            let wire = &cx.model.wire;
            let category = if op.query_param(&wire.page.page_num).is_some()
                && [&wire.pretty, &wire.envelope.param]
                    .iter()
                    .all(|f| **f != param.name)
            {
                Category::Pagination
            } else {
                Category::Envelope
            };
            for (label, value) in [("capitalised-true", "True"), ("upper-case-true", "TRUE")] {
                // list refuses includeCount=TRUE in pagination.rs already.
                if kind == OperationKind::List
                    && value == "TRUE"
                    && category == Category::Pagination
                {
                    continue;
                }
                let s = cx.vs(version, &format!("{slug}-{label}"));
                out.extend(refused(
                    cx,
                    version,
                    ty,
                    Refusal {
                        kind,
                        param: &param.name,
                        value,
                        scenario: s,
                        category,
                    },
                ));
            }
        }
    }
}

/// An unknown query parameter changes nothing, on each operation; beside it the create and
/// update answers still honour a non-default page.
fn unknown_parameters(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, out: &mut Vec<Case>) {
    let s = cx.vs(version, "unknown-query-parameter-ignored");
    let title = format!("an unknown query parameter ({UNKNOWN_PARAMETER}) is ignored");
    for kind in OperationKind::ALL {
        let id = cx.id(kind, &s);
        let op = cx.op(kind);
        let case = match kind {
            OperationKind::List => listed(
                cx,
                version,
                ty,
                Listing {
                    scenario: &s,
                    title: title.clone(),
                    query: &[(UNKNOWN_PARAMETER, "1")],
                    page: (1, 100),
                    status: Expect::Status {
                        status: op.success_status,
                    },
                },
            ),
            OperationKind::Create | OperationKind::Update => {
                let sent = values::valid_body(ty, &id, Fill::Full);
                let old = (kind == OperationKind::Update)
                    .then(|| values::valid_body(ty, &format!("{id}#old"), Fill::Minimal));
                let mut case = Subject::new(cx, version, ty, kind)
                    .case(
                        &s,
                        Category::Pagination,
                        format!("{title}, beside pageNum=2&itemsPerPage=1"),
                    )
                    .accepts(sent, old, |r| {
                        r.with_query(&cx.model.wire.page.page_num, "2")
                            .with_query(&cx.model.wire.page.items_per_page, "1")
                            .with_query(UNKNOWN_PARAMETER, "1")
                    });
                // The one integration is on page 1: page 2 of one per page is empty.
                for step in case.steps.iter_mut().filter(|s| s.role == Role::Test) {
                    for e in &mut step.expect {
                        if let Expect::Page { page } = e {
                            page.page_num = 2;
                            page.items_per_page = 1;
                        }
                    }
                }
                case
            }
            OperationKind::Get | OperationKind::Delete => {
                let (setup, body) = setup_create(cx, version, ty, Fill::Minimal);
                let req = cx
                    .request(kind, version, Some(&ty.name))
                    .with_query(UNKNOWN_PARAMETER, "1");
                let mut expect = vec![Expect::Status {
                    status: op.success_status,
                }];
                let after = if kind == OperationKind::Get {
                    expect.push(Expect::Single {
                        view: View {
                            type_name: ty.name.clone(),
                            object: values::view(ty, &body),
                        },
                    });
                    Some(&body)
                } else {
                    expect.push(Expect::Empty);
                    None
                };
                let verify = verify_state(cx, version, ty, after);
                CaseBuilder::new(cx, kind, &s, Category::Pagination)
                    .title(title.clone())
                    .touches(&ty.name)
                    .secrets(values::secrets_of(ty, &body))
                    .step(setup.role, setup.request, setup.expect)
                    .step(Role::Test, req, expect)
                    .step(verify.role, verify.request, verify.expect)
                    .build(cx)
            }
        };
        out.push(case);
    }
}

/// A repeated page parameter uses its first value (section 8) on the writes that answer a page
/// too (list has its own case in `pagination.rs`).
fn repeated_on_writes(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, out: &mut Vec<Case>) {
    let s = cx.vs(version, "repeated-parameter-first-wins");
    for kind in [OperationKind::Create, OperationKind::Update] {
        if cx
            .op(kind)
            .query_param(&cx.model.wire.page.items_per_page)
            .is_none()
        {
            continue;
        }
        let id = cx.id(kind, &s);
        let sent = values::valid_body(ty, &id, Fill::Minimal);
        let old = (kind == OperationKind::Update)
            .then(|| values::valid_body(ty, &format!("{id}#old"), Fill::Full));
        let mut case = Subject::new(cx, version, ty, kind)
            .case(
                &s,
                Category::Pagination,
                "itemsPerPage=1&itemsPerPage=500 answers pages of 1 (the first value)",
            )
            .accepts(sent, old, |r| {
                r.with_query(&cx.model.wire.page.items_per_page, "1")
                    .with_query(&cx.model.wire.page.items_per_page, "500")
            });
        for step in case.steps.iter_mut().filter(|s| s.role == Role::Test) {
            for e in &mut step.expect {
                if let Expect::Page { page } = e {
                    page.items_per_page = 1;
                }
            }
        }
        out.push(case);
    }
}

/// `valid` serialised with the value of `field` replaced by the literal `text`.
fn with_literal(valid: &Map<String, Value>, field: &str, text: &str) -> String {
    const MARK: &str = "\u{1}literal\u{1}";
    let mut marked = valid.clone();
    marked.insert(field.to_owned(), json!(MARK));
    Value::Object(marked)
        .to_string()
        .replace(&Value::String(MARK.into()).to_string(), text)
}

/// Bodies at the edges of JSON: trailing bytes, `Infinity`, duplicate keys, deep nesting.
fn bodies(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, out: &mut Vec<Case>) {
    let kind = OperationKind::Create;
    let template = cx.request(kind, version, Some(&ty.name));
    let Some(field) = ty
        .settable_fields()
        .find(|f| f.required && f.kind == crate::model::FieldKind::String)
    else {
        return;
    };
    // Not JSON: bytes after the object, and the Infinity literal (section 8).
    if let Some(rule) = cx.rule(kind, Situation::MalformedJson) {
        for (label, title, mutation) in [
            (
                "trailing-bytes-after-object",
                "bytes after the JSON object are not JSON",
                "body text followed by x",
            ),
            (
                "infinity-literal",
                "the Infinity literal is not JSON",
                "body value replaced by Infinity",
            ),
        ] {
            let s = cx.vs(version, label);
            let valid = values::valid_body(ty, &cx.id(kind, &s), Fill::Minimal);
            let text = match label {
                "trailing-bytes-after-object" => format!("{}x", Value::Object(valid.clone())),
                _ => with_literal(&valid, &field.name, "Infinity"),
            };
            let req = template.clone().with_body(Body::Raw(text));
            let baseline = Baseline::new(
                template.clone().with_body(Body::Json(Value::Object(valid))),
                mutation,
            );
            out.push(
                Subject::new(cx, version, ty, kind)
                    .case(&s, Category::Validation, title)
                    .refuses(req, rule.clone(), None, false)
                    .derived(baseline),
            );
        }
    }
    // Duplicate keys: the last one wins (section 8).
    let s = cx.vs(version, "duplicate-key-last-wins");
    let id = cx.id(kind, &s);
    let first = values::valid_body(ty, &format!("{id}#first"), Fill::Minimal);
    let last = values::valid_body(ty, &format!("{id}#last"), Fill::Minimal);
    if let (Some(a), true) = (first.get(&field.name), last.contains_key(&field.name)) {
        if values::view(ty, &first) != values::view(ty, &last) {
            // `{"f": A, ...the rest..., "f": B}`: the rest once, the field twice.
            let mut head = Map::new();
            head.insert(field.name.clone(), a.clone());
            let head = Value::Object(head).to_string();
            let tail = Value::Object(last.clone()).to_string();
            let text = format!("{},{}", &head[..head.len() - 1], &tail[1..]);
            let mut case = Subject::new(cx, version, ty, kind)
                .case(
                    &s,
                    Category::Validation,
                    format!("with {} sent twice, the last value is stored", field.name),
                )
                .accepts(last.clone(), None, |r| r.with_body(Body::Raw(text)));
            for secret in values::secrets_of(ty, &first) {
                if !case.secrets.contains(&secret) {
                    case.secrets.push(secret);
                }
            }
            out.push(case);
        }
    }
    // Nesting: up to 32 levels a body is read like any other, so an unknown field is just an
    // unknown field (section 5); deeper, it may also be refused as too deep (section 10), with
    // 400 and a code of the target's choice.
    if let Some(rule) = cx.rule(kind, Situation::UnknownAttribute) {
        let mut deep = rule.clone();
        deep.level = Level::S;
        deep.parameters.clear();
        for (scenario, depth, rule, title) in [
            (
                "unknown-field-nested-32-levels",
                MAX_READ_DEPTH,
                rule,
                format!("an unknown field in a body {MAX_READ_DEPTH} levels deep is INVALID_ATTRIBUTE"),
            ),
            (
                "unknown-field-deeply-nested",
                DEPTH,
                deep,
                format!("a body {DEPTH} levels deep is refused with 400 (as an unknown field, or as too deep)"),
            ),
        ] {
            let s = cx.vs(version, scenario);
            let valid = values::valid_body(ty, &cx.id(kind, &s), Fill::Minimal);
            // The body is the first level; its unknown field holds the rest.
            let mut nested = json!("x");
            for _ in 0..depth - 1 {
                nested = json!({ "a": nested });
            }
            let mut body = valid.clone();
            body.insert("unexpectedAttribute".into(), nested);
            let req = template.clone().with_body(Body::Json(Value::Object(body)));
            let baseline = Baseline::new(
                template.clone().with_body(Body::Json(Value::Object(valid))),
                format!("body {depth} levels deep (unexpectedAttribute nests the rest)"),
            );
            out.push(
                Subject::new(cx, version, ty, kind)
                    .case(&s, Category::Validation, title)
                    .refuses(req, rule, Some("unexpectedAttribute".into()), false)
                    .derived(baseline),
            );
        }
    }
}

/// Every type another family knows and this family's path enum does not: outside the enum on
/// each operation that names a type (types with a specific code are `errors.rs`'s).
fn foreign_types(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, out: &mut Vec<Case>) {
    let mut foreign: Vec<&str> = Vec::new();
    for family in cx
        .model
        .families
        .iter()
        .filter(|f| f.name != cx.family.name)
    {
        for t in &family.list_order {
            if !cx.family.list_order.contains(t) && !foreign.contains(&t.as_str()) {
                foreign.push(t);
            }
        }
    }
    for kind in OperationKind::ALL.into_iter().filter(|k| k.has_type()) {
        let op = cx.op(kind);
        let Some(rule) = op.error(Situation::InvalidIntegrationType).cloned() else {
            continue;
        };
        let specific: Vec<&str> = op
            .errors_for(Situation::UnsupportedType)
            .filter_map(|r| r.integration_type.as_deref())
            .collect();
        for t in foreign.iter().filter(|t| !specific.contains(t)) {
            let s = format!("foreign-type-{}", t.to_lowercase().replace('_', "-"));
            let id = cx.id(kind, &s);
            let base = valid_request(cx, version, ty, kind, &id);
            let mut req = base.clone();
            req.path = format!("/integrations/{t}");
            if let Body::Json(Value::Object(mut b)) = req.body.clone() {
                b.insert(
                    ty.discriminator().name.clone(),
                    Value::String((*t).to_owned()),
                );
                req.body = Body::Json(Value::Object(b));
            }
            let baseline = Baseline::new(base, format!("integration type {t}")).state(prepared(
                cx,
                version,
                ty,
                kind,
                &format!("{id}#baseline"),
            ));
            out.push(
                CaseBuilder::new(cx, kind, &s, Category::Errors)
                    .title(format!(
                        "{t}, a type of another family, is outside {}'s enum",
                        cx.family.name
                    ))
                    .step(
                        Role::Test,
                        req,
                        vec![Expect::Error {
                            rule: rule.clone(),
                            field: None,
                        }],
                    )
                    .build(cx)
                    .derived(baseline),
            );
        }
    }
}
