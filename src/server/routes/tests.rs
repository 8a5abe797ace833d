//! Unit tests of the request pipeline's path matching and group id format.

use super::*;

#[test]
fn group_ids() {
    assert!(is_group_id("5d791c84ff7a2522cc4f9aa1"));
    assert!(!is_group_id("5D791C84FF7A2522CC4F9AA1"));
    assert!(!is_group_id("5d791c84ff7a2522cc4f9aa"));
    assert!(!is_group_id("5d791c84ff7a2522cc4f9aa1a"));
    assert!(!is_group_id("zd791c84ff7a2522cc4f9aa1"));
}

#[test]
fn segments_decode() {
    assert_eq!(decode_segment("%53LACK"), "SLACK");
    assert_eq!(decode_segment("a%2"), "a%2");
    assert_eq!(decode_segment("%"), "%");
    assert_eq!(decode_segment("%zz"), "%zz");
    assert_eq!(decode_segment("%ff"), "\u{fffd}");
}

#[test]
fn routes_match_families() {
    let m = crate::model::bundled().unwrap();
    let r = route(&m.families, "/api/atlas/v2/groups/abc/integrations/SLACK").unwrap();
    assert_eq!(r.family.name, "atlas-v2");
    assert_eq!(
        (r.group_id.as_str(), r.type_name.as_deref()),
        ("abc", Some("SLACK"))
    );
    let r = route(&m.families, "/api/public/v1.0/groups/abc/integrations").unwrap();
    assert_eq!(r.family.name, "cloud-manager");
    assert!(r.type_name.is_none());
    for p in [
        "/api/atlas/v2/groups/abc/integrations/",
        "/api/atlas/v2/groups//integrations",
        "/api/atlas/v2/groups/abc/integrations/SLACK/x",
        "/api/atlas/v2/groups/abc",
        "/api/atlas/v3/groups/abc/integrations",
        "/",
    ] {
        assert!(route(&m.families, p).is_none(), "{p}");
    }
}

#[test]
fn content_types_in_another_case() {
    assert_eq!(
        other_content_type("application/json"),
        "Application/JSON; charset=UTF-8; profile=\"x\""
    );
    assert_eq!(
        other_content_type("application/json;charset=utf-8"),
        "Application/JSON; charset=UTF-8; profile=\"x\""
    );
    assert_eq!(
        other_content_type("application/vnd.atlas.2023-01-01+json"),
        "application/vnd.atlas.2023-01-01+JSON;Charset=utf-8"
    );
    assert_eq!(
        other_content_type("text/plain"),
        "Text/PLAIN; charset=UTF-8; profile=\"x\""
    );
    assert_eq!(other_content_type("garbage"), "garbage");
}

#[test]
fn links_carry_the_extra_parameters_once() {
    use crate::server::query::{extra_link_parameters, validate, RawQuery};
    let m = crate::model::bundled().unwrap();
    let op = m
        .family("cloud-manager")
        .unwrap()
        .operation(crate::model::OperationKind::List);
    let q = RawQuery::parse(Some(
        "pretty=true&includeCount=false&x=1&x=2&a%20b=c%26d&=z",
    ));
    let params = validate(op, &q, &m.wire).unwrap();
    let mut link = vec![("pageNum".to_owned(), None)];
    extra_link_parameters(&mut link, &params, &q, op, &m.wire);
    let got: Vec<(&str, Option<&str>)> = link
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("pageNum", None),
            ("includeCount", Some("true")),
            ("pretty", Some("true")),
            ("envelope", Some("false")),
            ("x", Some("1")),
            ("a+b", Some("c%26d")),
        ]
    );
}
