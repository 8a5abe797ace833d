//! Fields a target adds (contract §9 and §10 "Fields a target adds, anywhere"): a field the
//! contract does not list, in any JSON object of a response (an integration object, an error
//! body, a list page, an envelope, a link), is a warning, not a failure, unless it is a secret
//! value, a write-only field, a field of another version of the family (a `2023-01-01`-only
//! field under `2025-03-12`), or a server-assigned field of another family (`id` in a v1.0
//! family), which stay failures. An optional field without a value may come as `null` (§10):
//! that is dropped silently, since it is one of the two allowed spellings of "no value".
//!
//! The objects are found and classified from the model alone: nothing here names a type or a
//! field. The checks judge, and the snapshots show, only what is left.

use serde_json::{Map, Value};

use crate::model::{Family, IntegrationType, Model, Version, Wire};

/// What an unlisted field is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unlisted {
    /// Worth a look, not a failure.
    Warning,
    /// A failure: the check that owns it and why.
    Failure {
        check: &'static str,
        why: &'static str,
    },
}

/// One unlisted field of one object.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// The integration type of the object, or what else the object is ([`ERROR_BODY`],
    /// [`LIST_PAGE`], [`ENVELOPE`], [`LINK`]).
    pub(crate) type_name: String,
    pub(crate) field: String,
    pub(crate) class: Unlisted,
}

/// The integration objects of a body (unwrapped from its envelope): the body itself, or the
/// items of its `results`.
fn objects_mut<'b>(results: &str, body: &'b mut Value) -> Vec<&'b mut Map<String, Value>> {
    let Some(map) = body.as_object_mut() else {
        return Vec::new();
    };
    if map.contains_key(results) {
        return map
            .get_mut(results)
            .and_then(Value::as_array_mut)
            .map(|items| items.iter_mut().filter_map(Value::as_object_mut).collect())
            .unwrap_or_default();
    }
    vec![map]
}

/// Removes from `body` every field of an integration object that `version` does not list for
/// its type, and says what each one is. What is left is what the schema judges.
pub(crate) fn strip(
    model: &Model,
    family: &Family,
    version: &Version,
    body: &mut Value,
    sent_secrets: &[String],
) -> Vec<Found> {
    let mut found = Vec::new();
    let wire = &model.wire;
    for obj in objects_mut(&wire.list.results, body) {
        let Some(type_name) = obj
            .get(&wire.discriminator)
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            continue;
        };
        let Some(t) = version.integration_type(&type_name) else {
            continue;
        };
        obj.retain(|k, v| {
            !(v.is_null() && t.fields.iter().any(|f| f.name == *k && may_be_null(f)))
        });
        let extra: Vec<String> = obj
            .keys()
            .filter(|k| t.fields.iter().all(|f| f.name != **k))
            .cloned()
            .collect();
        for field in extra {
            let value = obj.remove(&field).unwrap_or(Value::Null);
            let class = classify(model, family, &type_name, &field, &value, sent_secrets);
            found.push(Found {
                type_name: type_name.clone(),
                field,
                class,
            });
        }
    }
    found
}

/// Whether a returned field may be `null` for "no value" (§10): optional, without a default
/// (a field with a default shows it), and returned at all (a write-only field never is).
pub(crate) fn may_be_null(f: &crate::model::Field) -> bool {
    !f.required && f.default.is_none() && !f.write_only && !f.discriminator && !f.read_only
}

/// What the objects that are not integrations are called in warnings.
pub(crate) const ERROR_BODY: &str = "error body";
pub(crate) const LIST_PAGE: &str = "list page";
pub(crate) const ENVELOPE: &str = "wrapper";
pub(crate) const LINK: &str = "link";

/// Where a body sits, which decides the fields the contract lists at each of its levels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    /// The request asked for `envelope=true`.
    pub(crate) enveloped: bool,
    /// A success of an operation that answers a list page.
    pub(crate) list: bool,
    /// An error answer (4xx, 5xx).
    pub(crate) error: bool,
}

impl Frame {
    /// The frame of an answer with `status` to `step`, whose operation answers a list page on
    /// success when `list_operation`.
    pub(crate) fn of(
        wire: &Wire,
        step: &crate::case::Step,
        list_operation: bool,
        status: u16,
    ) -> Frame {
        let success = (200..300).contains(&status);
        Frame {
            enveloped: step.request.enveloped(wire),
            list: success && list_operation,
            error: !success,
        }
    }
}

/// Removes from `body` every field the contract does not list, at every level: the envelope,
/// the list page and its links, the error body, each integration object (by its type, under
/// `version`). Each removed field is reported; what is left is what the schema and the
/// snapshot see.
pub(crate) fn strip_all(
    model: &Model,
    family: &Family,
    version: Option<&Version>,
    body: &mut Value,
    frame: Frame,
    sent_secrets: &[String],
) -> Vec<Found> {
    let wire = &model.wire;
    let mut found = Vec::new();
    let Some(map) = body.as_object_mut() else {
        return found;
    };
    let mut outer: Vec<&str> = Vec::new();
    if frame.enveloped {
        outer.push(&wire.envelope.status);
    }
    let inner = if frame.enveloped && !frame.list {
        outer.push(&wire.envelope.content);
        keep_only(map, &outer, ENVELOPE, sent_secrets, &mut found);
        match map.get_mut(&wire.envelope.content) {
            Some(v) => v,
            None => return found,
        }
    } else {
        body
    };
    let Some(map) = inner.as_object_mut() else {
        return found;
    };
    if frame.error {
        let e = &wire.error;
        let listed = [&e.status, &e.code, &e.detail, &e.reason, &e.parameters].map(String::as_str);
        keep_only(map, &listed, ERROR_BODY, sent_secrets, &mut found);
    } else if frame.list {
        let l = &wire.list;
        let mut listed = vec![l.results.as_str(), &l.links, &l.total_count];
        listed.extend(outer.iter().copied());
        keep_only(map, &listed, LIST_PAGE, sent_secrets, &mut found);
        links(wire, map, sent_secrets, &mut found);
    }
    if !frame.error {
        if let Some(version) = version {
            found.extend(strip(model, family, version, inner, sent_secrets));
        }
    }
    found
}

/// Each link object of a list page keeps its relation and href only.
fn links(wire: &Wire, page: &mut Map<String, Value>, sent: &[String], found: &mut Vec<Found>) {
    let Some(items) = page.get_mut(&wire.list.links).and_then(Value::as_array_mut) else {
        return;
    };
    let listed = [wire.link.rel.as_str(), &wire.link.href];
    for link in items.iter_mut().filter_map(Value::as_object_mut) {
        keep_only(link, &listed, LINK, sent, found);
    }
}

/// Removes the members of `map` not in `listed`, each reported against `object`.
fn keep_only(
    map: &mut Map<String, Value>,
    listed: &[&str],
    object: &str,
    sent: &[String],
    found: &mut Vec<Found>,
) {
    let extra: Vec<String> = map
        .keys()
        .filter(|k| !listed.contains(&k.as_str()))
        .cloned()
        .collect();
    for field in extra {
        let value = map.remove(&field).unwrap_or(Value::Null);
        let class = if carries_secret(&value, sent) {
            SECRET_CARRIED
        } else {
            Unlisted::Warning
        };
        found.push(Found {
            type_name: object.to_owned(),
            field,
            class,
        });
    }
}

const SECRET_CARRIED: Unlisted = Unlisted::Failure {
    check: "secret_redaction",
    why: "carries a secret sent in this case",
};

/// Whether a value carries one of the secrets the case sent (anywhere in its text).
fn carries_secret(value: &Value, sent: &[String]) -> bool {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    sent.iter()
        .any(|s| !s.is_empty() && text.contains(s.as_str()))
}

fn classify(
    model: &Model,
    family: &Family,
    type_name: &str,
    field: &str,
    value: &Value,
    sent_secrets: &[String],
) -> Unlisted {
    if carries_secret(value, sent_secrets) {
        return SECRET_CARRIED;
    }
    let elsewhere = |t: &IntegrationType| t.fields.iter().find(|f| f.name == field).cloned();
    let in_family: Vec<_> = family
        .versions
        .iter()
        .filter_map(|v| v.integration_type(type_name))
        .filter_map(elsewhere)
        .collect();
    let in_model: Vec<_> = model
        .families
        .iter()
        .flat_map(|f| f.versions.iter())
        .filter_map(|v| v.integration_type(type_name))
        .filter_map(elsewhere)
        .collect();
    if in_model.iter().any(|f| f.secret.is_some() || f.write_only) {
        return Unlisted::Failure {
            check: "secret_redaction",
            why: "is a secret or write-only field of this type",
        };
    }
    if !in_family.is_empty() {
        return Unlisted::Failure {
            check: "response_schema_conformance",
            why: "belongs to another version of this family, not to the negotiated one",
        };
    }
    if in_model.iter().any(|f| f.read_only) {
        return Unlisted::Failure {
            check: "response_schema_conformance",
            why: "is a server-assigned field of another family, which this family does not have",
        };
    }
    Unlisted::Warning
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classified_from_the_model() {
        let m = crate::model::bundled().unwrap();
        // Find, from the model, a type with a server-assigned field in one family and not in
        // another, a secret field, and a field only one version of a family has.
        let mut checked_read_only = false;
        for family in &m.families {
            let version = &family.versions[0];
            for t in &version.types {
                let mut body = json!({"type": t.name, "brandNewField": 1});
                let found = strip(&m, family, version, &mut body, &[]);
                assert_eq!(found.len(), 1);
                assert_eq!(found[0].class, Unlisted::Warning, "{}", t.name);
                assert_eq!(body, json!({"type": t.name}));
                for other in &m.families {
                    for f in other
                        .versions
                        .iter()
                        .filter_map(|v| v.integration_type(&t.name))
                        .flat_map(|t| &t.fields)
                        .filter(|f| f.read_only && t.fields.iter().all(|g| g.name != f.name))
                    {
                        let mut body = json!({"type": t.name, (f.name.clone()): "x"});
                        let found = strip(&m, family, version, &mut body, &[]);
                        assert!(matches!(found[0].class, Unlisted::Failure { .. }));
                        checked_read_only = true;
                    }
                }
            }
        }
        assert!(checked_read_only, "the model has a family-specific id");
        // a secret value in a field the schema does not list
        let family = &m.families[0];
        let version = &family.versions[0];
        let t = &version.types[0];
        let mut body = json!({"results": [{"type": t.name, "copy": "s3cr3t-value"}]});
        let found = strip(&m, family, version, &mut body, &["s3cr3t-value".into()]);
        assert_eq!(
            found[0].class,
            Unlisted::Failure {
                check: "secret_redaction",
                why: "carries a secret sent in this case"
            }
        );
        assert_eq!(body, json!({"results": [{"type": t.name}]}));
    }

    #[test]
    fn fields_of_another_version_fail() {
        let m = crate::model::bundled().unwrap();
        let mut seen = false;
        for family in &m.families {
            for v in &family.versions {
                for other in family.versions.iter().filter(|o| o.name != v.name) {
                    for t in &other.types {
                        let Some(here) = v.integration_type(&t.name) else {
                            continue;
                        };
                        for f in t
                            .fields
                            .iter()
                            .filter(|f| here.fields.iter().all(|g| g.name != f.name))
                        {
                            let mut body = json!({"type": t.name, (f.name.clone()): false});
                            let found = strip(&m, family, v, &mut body, &[]);
                            assert!(
                                matches!(found[0].class, Unlisted::Failure { .. }),
                                "{}",
                                f.name
                            );
                            seen = true;
                        }
                    }
                }
            }
        }
        assert!(seen, "the model has version-only fields");
    }
}
