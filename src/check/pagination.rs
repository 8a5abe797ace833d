//! List pages: the page's slice of all the project's integrations in the family's order (the
//! target's pre-existing integrations included), `totalCount`, and the `self`/`previous`/`next`
//! links, compared by path and parsed query, never by host or parameter order.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{body, Judge};
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

    let Some(results) = body.get("results").and_then(Value::as_array) else {
        j.fail(
            "pagination",
            ex.step,
            "the list body has no results array",
            Some("results".into()),
            Some(body.to_string()),
        );
        return;
    };
    let got_types: Vec<&str> = results
        .iter()
        .map(|r| r.get("type").and_then(Value::as_str).unwrap_or("?"))
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
    match (expect.total_count, body.get("totalCount")) {
        (true, None) => j.fail(
            "pagination",
            ex.step,
            "totalCount is missing",
            Some(total.to_string()),
            Some("absent".into()),
        ),
        (true, Some(v)) if v.as_u64() != Some(total) => j.fail(
            "pagination",
            ex.step,
            "totalCount does not count all the project's integrations",
            Some(total.to_string()),
            Some(v.to_string()),
        ),
        (false, Some(_)) => j.fail(
            "pagination",
            ex.step,
            "includeCount=false: totalCount must be omitted",
            Some("absent".into()),
            Some("present".into()),
        ),
        _ => {}
    }
    links(j, ex, body, expect, total);
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
    let Some(links) = body.get("links").and_then(Value::as_array) else {
        j.fail(
            "links",
            ex.step,
            "the list body has no links array",
            Some("links".into()),
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
        ("self", Some(expect.page_num)),
        (
            "previous",
            (expect.page_num > 1).then(|| expect.page_num - 1),
        ),
        ("next", has_next.then(|| expect.page_num + 1)),
    ];
    for (rel, page) in wanted {
        let found = links
            .iter()
            .find(|l| l.get("rel").and_then(Value::as_str) == Some(rel));
        match (page, found) {
            (None, Some(_)) => j.fail(
                "links",
                ex.step,
                format!(
                    "a {rel} link where there must be none (page {}, {total} in all)",
                    expect.page_num
                ),
                Some("absent".into()),
                Some("present".into()),
            ),
            (Some(_), None) => j.fail(
                "links",
                ex.step,
                format!(
                    "the {rel} link is missing (page {}, {total} in all)",
                    expect.page_num
                ),
                Some(rel.to_owned()),
                Some("absent".into()),
            ),
            (Some(p), Some(link)) => {
                let href = link.get("href").and_then(Value::as_str).unwrap_or_default();
                let Some((path, query)) = parse_href(href) else {
                    j.fail(
                        "links",
                        ex.step,
                        format!("the {rel} link's href is not an absolute URL"),
                        Some("an absolute URL".into()),
                        Some(href.to_owned()),
                    );
                    continue;
                };
                if path != request_path {
                    j.fail(
                        "links",
                        ex.step,
                        format!("the {rel} link's path is not the request's path"),
                        Some(request_path.clone()),
                        Some(path),
                    );
                }
                for name in &family.link_query {
                    let want = match name.as_str() {
                        "pageNum" => p.to_string(),
                        "itemsPerPage" => per.to_string(),
                        "includeCount" => expect.include_count.to_string(),
                        _ => continue,
                    };
                    if query.get(name) != Some(&want) {
                        j.fail(
                            "links",
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
