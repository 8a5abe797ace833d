//! Pagination cases: with every type of a version configured, every `itemsPerPage`/`pageNum`
//! combination that matters (page contents and order, the union of pages, `totalCount`,
//! `includeCount`, `self`/`previous`/`next` links, pages past the end), invalid page parameters,
//! and the operations that ignore them.

use serde_json::Value;

use super::values::{self, Fill};
use super::{
    kebab, setup_all, setup_create, Baseline, Body, Case, CaseBuilder, Category, Ctx, Expect,
    PageExpect, Role, View,
};
use crate::model::{OperationKind, ParamKind, QueryParam, Situation, Version};

pub(super) fn generate(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    for version in &cx.family.versions {
        let n = version.types.len() as u64;
        let mut sizes = vec![1, 2, n.saturating_sub(1).max(1), n, n + 1, 500];
        sizes.sort_unstable();
        sizes.dedup();
        for k in sizes {
            walk(cx, version, k, None, out);
        }
        walk(cx, version, 1, Some(false), out);
        let page = &cx.wire().page;
        let (pn, ipp) = (page.page_num.as_str(), page.items_per_page.as_str());
        single(
            cx,
            version,
            OnePage::new(
                "default-parameters",
                "no page parameters: page 1 of 100",
                &[],
                1,
                100,
            ),
            out,
        );
        single(
            cx,
            version,
            OnePage::new(
                "page-far-past-end",
                "a page far past the end is empty",
                &[(pn, "1000000"), (ipp, "2")],
                1_000_000,
                2,
            ),
            out,
        );
        single(
            cx,
            version,
            OnePage::new(
                "repeated-parameter-first-wins",
                &format!("a repeated {pn} uses its first value"),
                &[(pn, "2"), (pn, "1"), (ipp, "1")],
                2,
                1,
            ),
            out,
        );
        list_returning_write(cx, version, OperationKind::Create, out);
        list_returning_write(cx, version, OperationKind::Update, out);
        if version.name == cx.default_version().name {
            for kind in [
                OperationKind::List,
                OperationKind::Create,
                OperationKind::Update,
            ] {
                invalid_params(cx, version, kind, out);
            }
            for kind in [OperationKind::Get, OperationKind::Delete] {
                ignores_page_params(cx, version, kind, out);
            }
        }
    }
}

fn page(cx: &Ctx<'_>, all: &[View], page_num: u64, per: u64, include_count: bool) -> Expect {
    Expect::Page {
        page: PageExpect {
            all: all.to_vec(),
            page_num,
            items_per_page: per,
            include_count,
            total_count: include_count || !cx.family.include_count_honoured,
        },
    }
}

/// Every page of size `per`, and the first page past the end.
fn walk(
    cx: &Ctx<'_>,
    version: &Version,
    per: u64,
    include_count: Option<bool>,
    out: &mut Vec<Case>,
) {
    let list = cx.op(OperationKind::List);
    let wire = cx.wire();
    if include_count.is_some()
        && list.query_param(&cx.wire().page.include_count).is_none()
        && cx.family.include_count_honoured
    {
        return;
    }
    let name = match include_count {
        Some(ic) => format!("include-count-{ic}-items-per-page-{per}"),
        None => format!("walk-items-per-page-{per}"),
    };
    let s = cx.vs(version, &name);
    let super::Fixture {
        steps,
        views,
        secrets,
        ..
    } = setup_all(cx, version);
    let mut b = CaseBuilder::new(cx, OperationKind::List, &s, Category::Pagination)
        .title(match include_count {
            Some(ic) => format!(
                "{}={ic}: {} per the family, {} still computed from the full count",
                wire.page.include_count, wire.list.total_count, wire.list.links
            ),
            None => format!(
                "every page of {per} item(s): contents, order, {} and {}; then one past the end",
                wire.list.total_count, wire.list.links
            ),
        })
        .secrets(secrets);
    for v in &views {
        b = b.touches(&v.type_name);
    }
    for step in steps {
        b = b.step(step.role, step.request, step.expect);
    }
    let pages = (views.len() as u64).div_ceil(per).max(1);
    for p in 1..=pages + 1 {
        let mut req = cx
            .request(OperationKind::List, version, None)
            .with_query(&wire.page.page_num, &p.to_string())
            .with_query(&wire.page.items_per_page, &per.to_string());
        if let Some(ic) = include_count {
            req = req.with_query(&wire.page.include_count, &ic.to_string());
        }
        let ic = include_count.unwrap_or(true);
        b = b.step(
            Role::Test,
            req,
            vec![
                Expect::Status {
                    status: list.success_status,
                },
                page(cx, &views, p, per, ic),
            ],
        );
    }
    out.push(b.build(cx));
}

/// One list request with page parameters, and the page it must answer (`includeCount` on).
struct OnePage<'q> {
    scenario: &'q str,
    title: &'q str,
    query: &'q [(&'q str, &'q str)],
    page_num: u64,
    per: u64,
}

impl<'q> OnePage<'q> {
    fn new(
        scenario: &'q str,
        title: &'q str,
        query: &'q [(&'q str, &'q str)],
        page_num: u64,
        per: u64,
    ) -> OnePage<'q> {
        OnePage {
            scenario,
            title,
            query,
            page_num,
            per,
        }
    }
}

fn single(cx: &Ctx<'_>, version: &Version, p: OnePage<'_>, out: &mut Vec<Case>) {
    let OnePage {
        scenario: name,
        title,
        query,
        page_num,
        per,
    } = p;
    let s = cx.vs(version, name);
    let super::Fixture {
        steps,
        views,
        secrets,
        ..
    } = setup_all(cx, version);
    let mut b = CaseBuilder::new(cx, OperationKind::List, &s, Category::Pagination)
        .title(title)
        .secrets(secrets);
    for v in &views {
        b = b.touches(&v.type_name);
    }
    for step in steps {
        b = b.step(step.role, step.request, step.expect);
    }
    let mut req = cx.request(OperationKind::List, version, None);
    for (k, v) in query {
        req = req.with_query(k, v);
    }
    b = b.step(
        Role::Test,
        req,
        vec![
            Expect::Status {
                status: cx.op(OperationKind::List).success_status,
            },
            page(cx, &views, page_num, per, true),
        ],
    );
    out.push(b.build(cx));
}

/// Create and update answer a page of the whole list, paginated like list.
fn list_returning_write(cx: &Ctx<'_>, version: &Version, kind: OperationKind, out: &mut Vec<Case>) {
    let Some(last) = version.types.last() else {
        return;
    };
    let s = cx.vs(version, "response-page-2-of-2-per-page");
    let id = cx.id(kind, &s);
    let super::Fixture {
        steps,
        mut views,
        mut secrets,
        ..
    } = setup_all(cx, version);
    let params = &cx.wire().page;
    let mut b = CaseBuilder::new(cx, kind, &s, Category::Pagination).title(format!(
        "the {kind} response honours {}=2&{}=2",
        params.page_num, params.items_per_page
    ));
    for step in steps {
        // For create, leave the last type unconfigured so the request under test creates it.
        if kind == OperationKind::Create && step.request.path.ends_with(&format!("/{}", last.name))
        {
            continue;
        }
        b = b.step(step.role, step.request, step.expect);
    }
    let body = values::valid_body(last, &format!("{id}#test"), Fill::Full);
    secrets.extend(values::secrets_of(last, &body));
    let merge = cx.op(kind).update.is_some_and(|u| u.merge);
    let old = if kind == OperationKind::Update {
        values::valid_body(last, &format!("{id}#{}", last.name), Fill::Full)
    } else {
        Default::default()
    };
    let stored = values::apply_update(last, &old, &body, merge);
    for v in views.iter_mut().filter(|v| v.type_name == last.name) {
        v.object = values::view(last, &stored);
    }
    for v in &views {
        b = b.touches(&v.type_name);
    }
    let req = cx
        .request(kind, version, Some(&last.name))
        .with_query(&cx.wire().page.page_num, "2")
        .with_query(&cx.wire().page.items_per_page, "2")
        .with_body(Body::Json(Value::Object(body)));
    b = b.secrets(secrets).step(
        Role::Test,
        req,
        vec![
            Expect::Status {
                status: cx.op(kind).success_status,
            },
            page(cx, &views, 2, 2, true),
        ],
    );
    out.push(b.build(cx));
}

/// Values each query parameter refuses (below its minimum, above its maximum, not an integer,
/// not exactly `true`/`false`).
pub(crate) fn invalid_values(param: &QueryParam) -> Vec<(String, String)> {
    match param.kind {
        ParamKind::Integer => {
            let mut v = vec![
                ("not-integer".to_owned(), "abc".to_owned()),
                ("decimal".to_owned(), "1.5".to_owned()),
            ];
            if let Some(min) = param.minimum {
                v.push(("below-minimum".to_owned(), (min - 1).to_string()));
            }
            if let Some(max) = param.maximum {
                v.push(("above-maximum".to_owned(), (max + 1).to_string()));
            }
            v
        }
        ParamKind::Boolean => vec![
            ("not-boolean".to_owned(), "yes".to_owned()),
            ("upper-case".to_owned(), "TRUE".to_owned()),
        ],
    }
}

fn invalid_params(cx: &Ctx<'_>, version: &Version, kind: OperationKind, out: &mut Vec<Case>) {
    let Some(rule) = cx.rule(kind, Situation::InvalidQueryParameter) else {
        return;
    };
    let op = cx.op(kind);
    let Some(ty) = version.types.first() else {
        return;
    };
    for param in op.query.iter().filter(|q| {
        let page = &cx.wire().page;
        [&page.page_num, &page.items_per_page, &page.include_count].contains(&&q.name)
    }) {
        let cases = invalid_values(param);
        // Writes: one value per parameter is enough to show they are validated.
        let take = if kind == OperationKind::List {
            cases.len()
        } else {
            1
        };
        for (label, value) in cases.into_iter().take(take) {
            let s = cx.vs(version, &format!("{}-{label}", kebab(&param.name)));
            let mut valid = cx.request(kind, version, Some(&ty.name));
            if kind.has_type() {
                let body = values::valid_body(ty, &cx.id(kind, &s), Fill::Minimal);
                valid = valid.with_body(Body::Json(Value::Object(body)));
            }
            let req = valid.clone().with_query(&param.name, &value);
            let baseline = Baseline::new(valid, format!("query {}={value}", param.name));
            let title = format!("{}={value} is refused", param.name);
            if kind == OperationKind::List {
                let b = CaseBuilder::new(cx, kind, &s, Category::Pagination)
                    .title(title)
                    .step(
                        Role::Test,
                        req,
                        vec![Expect::Error {
                            rule: rule.clone(),
                            field: Some(param.name.clone()),
                        }],
                    );
                out.push(b.build(cx).derived(baseline));
            } else {
                out.push(
                    super::Subject::new(cx, version, ty, kind)
                        .case(&s, Category::Pagination, title)
                        .refuses(
                            req,
                            rule.clone(),
                            Some(param.name.clone()),
                            kind == OperationKind::Update,
                        )
                        .derived(baseline),
                );
            }
        }
    }
}

/// get and delete ignore the page parameters entirely, invalid values included.
fn ignores_page_params(cx: &Ctx<'_>, version: &Version, kind: OperationKind, out: &mut Vec<Case>) {
    let Some(ty) = version.types.first() else {
        return;
    };
    let list = cx.op(OperationKind::List);
    let s = cx.vs(version, "ignores-invalid-page-parameters");
    let (setup, body) = setup_create(cx, version, ty, Fill::Minimal);
    let mut req = cx.request(kind, version, Some(&ty.name));
    for param in list
        .query
        .iter()
        .filter(|q| cx.op(kind).query_param(&q.name).is_none())
    {
        if let Some((_, value)) = invalid_values(param).into_iter().next() {
            req = req.with_query(&param.name, &value);
        }
    }
    let mut expect = vec![Expect::Status {
        status: cx.op(kind).success_status,
    }];
    if kind == OperationKind::Get {
        expect.push(Expect::Single {
            view: View {
                type_name: ty.name.clone(),
                object: values::view(ty, &body),
            },
        });
    }
    out.push(
        CaseBuilder::new(cx, kind, &s, Category::Pagination)
            .title(format!(
                "{kind} ignores page parameters, invalid values included"
            ))
            .touches(&ty.name)
            .secrets(values::secrets_of(ty, &body))
            .step(setup.role, setup.request, setup.expect)
            .step(Role::Test, req, expect)
            .build(cx),
    );
}
