//! The body's fields: each settable field's name, the discriminator, assigned fields and
//! fields of other types, versions and families.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{Out, Spec};
use crate::case::values::{self, Fill};
use crate::explore::space::{Edit, Kind, Scope, Val};
use crate::model::{Family, Field, IntegrationType, Model, SecretKind, Situation, Version};

pub(super) fn is_url(f: &Field) -> bool {
    f.format.as_deref() == Some("uri") || f.rule.is_some() || f.secret == Some(SecretKind::MaskUrl)
}

/// The classes of one type's body under one version: each settable field by its rules, its
/// name in another case or with spaces, the discriminator, assigned fields, and the fields of
/// other types and versions this one does not have.
pub(super) fn fields(out: &mut Out<'_>, model: &Model, version: &Version, ty: &IntegrationType) {
    let f = out.family;
    let scope = |out: &Out<'_>| Scope {
        op: None,
        ..out.scope(Some(version), None, Some(&ty.name))
    };
    let conditional: Vec<&String> = ty
        .conditional_required
        .iter()
        .flat_map(|r| r.then_required.iter())
        .collect();
    for field in ty.settable_fields() {
        let part = format!("body {}.{}", ty.name, field.name);
        for (kind, label, edit, rule, breaks) in
            super::values::field_values(field, conditional.contains(&&field.name))
        {
            out.push(Spec {
                part: part.clone(),
                kind,
                label,
                rule,
                scope: scope(out),
                edit,
                breaks,
                field: breaks.map(|_| field.name.clone()),
            });
        }
        let name = format!("body {}.{} (name)", ty.name, field.name);
        let value = Val::Json(values::valid_value(field, "name", Fill::Minimal));
        let recased = flip_case(&field.name);
        for (kind, label, key) in [
            (Kind::Case, "another letter case", recased),
            (
                Kind::Whitespace,
                "a space before",
                format!(" {}", field.name),
            ),
        ] {
            if ty.field(&key).is_some() {
                continue;
            }
            out.push(Spec {
                part: name.clone(),
                kind,
                label: label.into(),
                rule: "2.fields-per-type",
                scope: scope(out),
                edit: Edit::AddKey(key.clone(), value.clone()),
                breaks: Some(Situation::UnknownAttribute),
                field: Some(key),
            });
        }
    }
    for rule in &ty.conditional_required {
        let Some(then) = rule.then_required.first() else {
            continue;
        };
        out.push(Spec {
            part: format!("body {}.{}", ty.name, then),
            kind: Kind::Absent,
            label: format!("left out when {} is {}", rule.when_field, rule.equals),
            rule: "2.prometheus-https-needs-pem",
            scope: scope(out),
            edit: Edit::Set(rule.when_field.clone(), Val::Json(rule.equals.clone())),
            breaks: Some(Situation::InvalidSettings),
            field: Some(then.clone()),
        });
    }
    discriminator(out, version, ty, scope(out));
    assigned_and_foreign(out, model, f, ty, scope(out));
}

/// `type`: left out, another type, another case, spaces.
fn discriminator(out: &mut Out<'_>, version: &Version, ty: &IntegrationType, scope: Scope) {
    let d = ty.discriminator().name.clone();
    let mismatch = Some(Situation::TypeMismatch);
    let mut rows: Vec<(Kind, String, Edit, &'static str, Option<Situation>)> = vec![
        (
            Kind::Absent,
            "left out".into(),
            Edit::Remove(d.clone()),
            "2.type-required",
            Some(Situation::TypeMissing),
        ),
        (
            Kind::Case,
            "lower case".into(),
            Edit::Set(d.clone(), Val::Json(json!(ty.name.to_lowercase()))),
            "2.type-equals-path",
            mismatch,
        ),
        (
            Kind::Whitespace,
            "a space after".into(),
            Edit::Set(d.clone(), Val::Json(json!(format!("{} ", ty.name)))),
            "2.type-equals-path",
            mismatch,
        ),
        (
            Kind::Empty,
            "empty".into(),
            Edit::Set(d.clone(), Val::Json(json!(""))),
            "2.type-equals-path",
            mismatch,
        ),
    ];
    if let Some(other) = version.types.iter().find(|t| t.name != ty.name) {
        rows.push((
            Kind::Foreign,
            "another type".into(),
            Edit::Set(d.clone(), Val::Json(json!(other.name))),
            "2.type-equals-path",
            mismatch,
        ));
    }
    for (kind, label, edit, rule, breaks) in rows {
        out.push(Spec {
            part: format!("body {}.{d}", ty.name),
            kind,
            label,
            rule,
            scope: scope.clone(),
            edit,
            breaks,
            field: None,
        });
    }
}

/// Server-assigned fields sent anyway, and fields this type does not have under this version
/// that another type, version or family has.
fn assigned_and_foreign(
    out: &mut Out<'_>,
    model: &Model,
    family: &Family,
    ty: &IntegrationType,
    scope: Scope,
) {
    for field in ty.fields.iter().filter(|f| f.read_only) {
        let part = format!("body {}.{}", ty.name, field.name);
        for (kind, label, v, rule, breaks) in [
            (
                Kind::Valid,
                "a string",
                json!("0123456789abcdef01234567"),
                "2.v2-id-ignored",
                None,
            ),
            (Kind::Absent, "null", Value::Null, "2.v2-id-ignored", None),
            (
                Kind::Malformed,
                "a number",
                json!(7),
                "8.v2-id-types",
                Some(Situation::WrongJsonType),
            ),
        ] {
            out.push(Spec {
                part: part.clone(),
                kind,
                label: label.into(),
                rule,
                scope: scope.clone(),
                edit: Edit::Set(field.name.clone(), Val::Json(v)),
                breaks,
                field: breaks.map(|_| field.name.clone()),
            });
        }
    }
    let mut foreign: BTreeMap<String, (&Field, &'static str, &'static str)> = BTreeMap::new();
    for g in &model.families {
        for w in &g.versions {
            for t in &w.types {
                let origin = if g.name != family.name {
                    "another family"
                } else if t.name == ty.name {
                    "another version"
                } else {
                    "another type"
                };
                for fld in &t.fields {
                    let rule = match origin {
                        _ if fld.read_only => "2.v1-no-id",
                        "another version" => "2.datadog-2023-only-fields",
                        _ => "2.fields-per-type",
                    };
                    if ty.field(&fld.name).is_none() && !fld.discriminator {
                        foreign
                            .entry(fld.name.clone())
                            .or_insert((fld, rule, origin));
                    }
                }
            }
        }
    }
    // One field of each origin: another family's, another version's, another type's.
    let mut seen = std::collections::BTreeSet::new();
    for (name, (fld, rule, origin)) in foreign {
        if !seen.insert(origin) {
            continue;
        }
        let value = Val::Json(values::valid_value(fld, "foreign", Fill::Minimal));
        out.push(Spec {
            part: format!("body {} (fields it does not have)", ty.name),
            kind: Kind::Foreign,
            label: format!("{name}, of {origin}"),
            rule,
            scope: scope.clone(),
            edit: Edit::AddKey(name.clone(), value),
            breaks: Some(Situation::UnknownAttribute),
            field: Some(name),
        });
    }
}

/// `serviceKey` → `ServiceKey`: the first letter in the other case.
fn flip_case(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_lowercase() => c.to_uppercase().chain(chars).collect(),
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
