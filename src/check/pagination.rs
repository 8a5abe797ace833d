//! List pages: the page's slice of all the project's integrations in the family's order (the
//! target's pre-existing integrations included), `totalCount`, and the `self`/`previous`/`next`
//! links, compared by path and parsed query, never by host or parameter order.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{body, Judge, LINKS_CHECK};
use crate::case::{PageExpect, Step};
use crate::exchange::Exchange;

pub(crate) fn page(
    j: &mut Judge<'_>,
    step: &Step,
    ex: &Exchange,
    body: &Value,
    expect: &PageExpect,
) {
    let family = j.cx.family;
    let version = step
        .request
        .version
        .clone()
        .or_else(|| family.versions.first().and_then(|v| v.name.clone()));
    let label = version.as_deref().unwrap_or("json");
    // Everything the project holds: the target's own integrations, then the case's.
    let mut all: Vec<(String, Value)> = j.cx.baseline.for_version(&family.name, label);
    for v in &expect.all {
        all.retain(|(t, _)| *t != v.type_name);
        all.push((v.type_name.clone(), v.object.clone()));
    }
    all.sort_by_key(|(t, _)| family.order_of(t));
    let total = all.len() as u64;
    let per = expect.items_per_page.max(1);
    let start = (expect.page_num.saturating_sub(1)).saturating_mul(per);
    let slice: Vec<&(String, Value)> = all
        .iter()
        .skip(start.min(total) as usize)
        .take(per as usize)
        .collect();

    let wire = j.wire();
    let results_field = &wire.list.results;
    let Some(results) = body.get(results_field).and_then(Value::as_array) else {
        j.fail(
            "pagination",
            ex.step,
            format!("the list body has no {results_field} array"),
            Some(results_field.clone()),
            Some(body.to_string()),
        );
        return;
    };
    let got_types: Vec<&str> = results
        .iter()
        .map(|r| {
            r.get(&wire.discriminator)
                .and_then(Value::as_str)
                .unwrap_or("?")
        })
        .collect();
    let want_types: Vec<&str> = slice.iter().map(|(t, _)| t.as_str()).collect();
    if got_types != want_types {
        j.fail(
            "pagination",
            ex.step,
            format!(
                "page {} of {} per page holds the wrong integrations or order",
                expect.page_num, per
            ),
            Some(format!("{want_types:?}")),
            Some(format!("{got_types:?}")),
        );
    } else {
        for ((t, expected), actual) in slice.iter().zip(results) {
            body::compare_object(j, ex.step, "state", t, expected, actual);
        }
    }
    total_count(j, ex, body, expect, total);
    links(j, ex, body, expect, total);
}

/// The total count is there with the full count, or omitted when the request turned it off.
fn total_count(j: &mut Judge<'_>, ex: &Exchange, body: &Value, expect: &PageExpect, total: u64) {
    let wire = j.wire();
    let field = &wire.list.total_count;
    match (expect.total_count, body.get(field)) {
        (true, None) => j.fail(
            "pagination",
            ex.step,
            format!("{field} is missing"),
            Some(total.to_string()),
            Some("absent".into()),
        ),
        (true, Some(v)) if v.as_u64() != Some(total) => j.fail(
            "pagination",
            ex.step,
            format!("{field} does not count all the project's integrations"),
            Some(total.to_string()),
            Some(v.to_string()),
        ),
        (false, Some(_)) => j.fail(
            "pagination",
            ex.step,
            format!("{}=false: {field} must be omitted", wire.page.include_count),
            Some("absent".into()),
            Some("present".into()),
        ),
        _ => {}
    }
}

fn parse_href(href: &str) -> Option<(String, BTreeMap<String, String>)> {
    let url = url::Url::parse(href).ok()?;
    let mut query = BTreeMap::new();
    for (k, v) in url.query_pairs() {
        query
            .entry(k.into_owned())
            .or_insert_with(|| v.into_owned());
    }
    Some((url.path().to_owned(), query))
}

fn links(j: &mut Judge<'_>, ex: &Exchange, body: &Value, expect: &PageExpect, total: u64) {
    let family = j.cx.family;
    let wire = j.wire();
    let (link, page_params) = (&wire.link, &wire.page);
    let Some(links) = body.get(&wire.list.links).and_then(Value::as_array) else {
        j.fail(
            LINKS_CHECK,
            ex.step,
            format!("the list body has no {} array", wire.list.links),
            Some(wire.list.links.clone()),
            None,
        );
        return;
    };
    let request_path = url::Url::parse(&ex.url)
        .map(|u| u.path().to_owned())
        .unwrap_or_default();
    let per = expect.items_per_page.max(1);
    let has_next = expect.page_num.saturating_mul(per) < total;
    let wanted = [
        (&link.this_page, Some(expect.page_num)),
        (
            &link.previous,
            (expect.page_num > 1).then(|| expect.page_num - 1),
        ),
        (&link.next, has_next.then(|| expect.page_num + 1)),
    ];
    for (rel, page) in wanted {
        let found = links
            .iter()
            .find(|l| l.get(&link.rel).and_then(Value::as_str) == Some(rel.as_str()));
        match (page, found) {
            (None, Some(_)) => j.fail(
                LINKS_CHECK,
                ex.step,
                format!(
                    "a {rel} link where there must be none (page {}, {total} in all)",
                    expect.page_num
                ),
                Some("absent".into()),
                Some("present".into()),
            ),
            (Some(_), None) => j.fail(
                LINKS_CHECK,
                ex.step,
                format!(
                    "the {rel} link is missing (page {}, {total} in all)",
                    expect.page_num
                ),
                Some(rel.clone()),
                Some("absent".into()),
            ),
            (Some(p), Some(found_link)) => {
                let href = found_link
                    .get(&link.href)
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let Some((path, query)) = parse_href(href) else {
                    j.fail(
                        LINKS_CHECK,
                        ex.step,
                        format!("the {rel} link's {} is not an absolute URL", link.href),
                        Some("an absolute URL".into()),
                        Some(href.to_owned()),
                    );
                    continue;
                };
                if path != request_path {
                    j.fail(
                        LINKS_CHECK,
                        ex.step,
                        format!("the {rel} link's path is not the request's path"),
                        Some(request_path.clone()),
                        Some(path),
                    );
                }
                for name in &family.link_query {
                    let want = if *name == page_params.page_num {
                        p.to_string()
                    } else if *name == page_params.items_per_page {
                        per.to_string()
                    } else if *name == page_params.include_count {
                        expect.include_count.to_string()
                    } else {
                        continue;
                    };
                    if query.get(name) != Some(&want) {
                        j.fail(
                            LINKS_CHECK,
                            ex.step,
                            format!("the {rel} link's {name} is wrong"),
                            Some(want),
                            Some(query.get(name).cloned().unwrap_or_else(|| "absent".into())),
                        );
                    }
                }
            }
            (None, None) => {}
        }
    }
}
