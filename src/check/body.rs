//! Integration objects in a body: finding one by type, comparing it with the view a conformant
//! target renders, and checking the exact mask of each secret.

use serde_json::Value;

use super::{unwrap_envelope, Judge};
use crate::case::values::ASSIGNED;
use crate::model::Wire;

/// The object of `type_name` in a single, list or enveloped body.
pub(crate) fn find_object<'v>(
    wire: &Wire,
    body: &'v Value,
    type_name: &str,
) -> Option<&'v serde_json::Map<String, Value>> {
    let is = |v: &Value| v.get(&wire.discriminator).and_then(Value::as_str) == Some(type_name);
    if is(body) {
        return body.as_object();
    }
    if let Some(content) = body.get(&wire.envelope.content) {
        if is(content) {
            return content.as_object();
        }
    }
    body.get(&wire.list.results)
        .and_then(Value::as_array)
        .and_then(|items| items.iter().find(|v| is(v)))
        .and_then(Value::as_object)
}

/// Whether `v` is a server-assigned id (24 lower-case hex digits).
fn assigned(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 24
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Compare one integration object with its expected view; one finding per difference.
pub(crate) fn compare_object(
    j: &mut Judge<'_>,
    step: usize,
    check: &str,
    type_name: &str,
    expected: &Value,
    actual: &Value,
) {
    let (Some(exp), Some(act)) = (expected.as_object(), actual.as_object()) else {
        j.fail(
            check,
            step,
            format!("expected the {type_name} object"),
            Some("an object".into()),
            Some(actual.to_string()),
        );
        return;
    };
    for (k, v) in exp {
        match act.get(k) {
            None => j.fail(
                check,
                step,
                format!("{type_name}.{k} is missing"),
                Some(v.to_string()),
                Some("absent".into()),
            ),
            Some(a) if v.as_str() == Some(ASSIGNED) => {
                if !assigned(a) {
                    j.fail(
                        check,
                        step,
                        format!("{type_name}.{k} is not a server-assigned 24-hex id"),
                        Some("24 lower-case hex digits".into()),
                        Some(a.to_string()),
                    );
                }
            }
            Some(a) if !same_value(v, a) => j.fail(
                check,
                step,
                format!("{type_name}.{k} differs"),
                Some(v.to_string()),
                Some(a.to_string()),
            ),
            Some(_) => {}
        }
    }
    // A field the version does not list at all is judged (warning or failure) with the schema.
    // An optional field without a value may come as `null` (contract section 10).
    let extra: Vec<&String> = act
        .iter()
        .filter(|(k, v)| {
            !exp.contains_key(*k)
                && j.listed(step, type_name, k)
                && !(v.is_null() && j.may_be_null(step, type_name, k))
        })
        .map(|(k, _)| k)
        .collect();
    for k in extra {
        j.fail(
            check,
            step,
            format!("{type_name}.{k} is returned but must not be"),
            Some("absent".into()),
            Some("present".into()),
        );
    }
}

/// Whether `actual` is the value `expected` stands for: equal, or the same url-secret mask with
/// the scheme and host in another letter case (they compare case-insensitively, RFC 3986
/// sections 3.1 and 3.2.2, so a target may show them as sent or normalised).
pub(crate) fn same_value(expected: &Value, actual: &Value) -> bool {
    if expected == actual {
        return true;
    }
    match (
        expected.as_str().and_then(url_mask_parts),
        actual.as_str().and_then(url_mask_parts),
    ) {
        (Some((ep, er)), Some((ap, ar))) => ep.eq_ignore_ascii_case(ap) && er == ar,
        _ => false,
    }
}

/// A url-secret mask split into `scheme://host[:port]` and the rest, from `/****` on.
pub(crate) fn url_mask_parts(s: &str) -> Option<(&str, &str)> {
    let at = s.find("://")?;
    let slash = at + 3 + s[at + 3..].find('/')?;
    s[slash..].starts_with("/****").then(|| s.split_at(slash))
}

/// Whether `actual` is exactly the expected view (the comparison of [`compare_object`], without
/// findings).
pub(crate) fn same_object(expected: &Value, actual: &Value) -> bool {
    let (Some(exp), Some(act)) = (expected.as_object(), actual.as_object()) else {
        return false;
    };
    // `null` for a field without a value is the same as its absence (contract section 10).
    let valued = act
        .iter()
        .filter(|(k, v)| exp.contains_key(*k) || !v.is_null())
        .count();
    exp.len() == valued
        && exp.iter().all(|(k, v)| match act.get(k) {
            Some(a) if v.as_str() == Some(ASSIGNED) => assigned(a),
            Some(a) => same_value(v, a),
            None => false,
        })
}

/// Each listed secret field of `type_name` shows its exact mask, or is absent (write-only).
pub(crate) fn masked(
    j: &mut Judge<'_>,
    step: usize,
    json: &Value,
    enveloped: bool,
    type_name: &str,
    fields: &[(String, Option<String>)],
) {
    let wire = j.wire();
    let list = json.get(&wire.list.results).is_some();
    let body = unwrap_envelope(wire, json, enveloped, list);
    let found = find_object(wire, &body, type_name).or_else(|| find_object(wire, json, type_name));
    let Some(obj) = found else {
        j.fail(
            "secret_redaction",
            step,
            format!(
                "the response does not show the {type_name} integration whose secrets are checked"
            ),
            Some(type_name.to_owned()),
            Some(json.to_string()),
        );
        return;
    };
    for (field, mask) in fields {
        match (mask, obj.get(field)) {
            (None, Some(_)) => j.fail(
                "secret_redaction",
                step,
                format!("write-only {type_name}.{field} is returned"),
                Some("absent".into()),
                Some("present".into()),
            ),
            (Some(m), None) => j.fail(
                "secret_redaction",
                step,
                format!("{type_name}.{field} is missing; expected its mask"),
                Some(m.clone()),
                Some("absent".into()),
            ),
            (Some(m), Some(v)) if !same_value(&Value::String(m.clone()), v) => j.fail(
                "mask_format",
                step,
                format!("{type_name}.{field} is not masked as the contract says"),
                Some(m.clone()),
                Some(v.to_string()),
            ),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_masks_compare_scheme_and_host_without_case_and_nothing_else() {
        let same = |e: &str, a: &str| same_value(&Value::from(e), &Value::from(a));
        assert!(same(
            "HTTPS://H.EXAMPLE/****erts",
            "https://h.example/****erts"
        ));
        assert!(same(
            "https://h.example:8443/****",
            "HTTPS://H.Example:8443/****"
        ));
        assert!(!same(
            "https://h.example/****erts",
            "https://h.example/****ERTS"
        ));
        assert!(!same(
            "https://h.example/****erts",
            "https://g.example/****erts"
        ));
        assert!(!same(
            "https://h.example/****erts",
            "https://h.example/abc/erts"
        ));
        assert!(!same("abcd", "ABCD"), "only url masks");
        assert_eq!(
            url_mask_parts("http://h:8080/****2345"),
            Some(("http://h:8080", "/****2345"))
        );
        assert_eq!(url_mask_parts("https://h.example/services/x"), None);
    }
}
