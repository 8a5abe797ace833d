//! The integration types of a request body schema (its `oneOf` and discriminator mapping) and
//! each type's fields, secrets, rules and conditional requirements.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{
    invalid, ConditionalRequired, Field, FieldKind, FieldRule, IntegrationType, SecretKind,
};
use crate::error::Result;
use crate::spec::{deref, final_ref, ConditionalExt};

/// The integration types of a request body schema: `oneOf` + `discriminator` on `type`.
pub(super) fn build_types(
    raw: &Value,
    schema: &Value,
    context: &str,
) -> Result<Vec<IntegrationType>> {
    let node = deref(raw, schema);
    let disc = node.get("discriminator").ok_or_else(|| {
        invalid(format!(
            "{context}: request body schema has no discriminator"
        ))
    })?;
    let prop = disc
        .get("propertyName")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("{context}: discriminator has no propertyName")))?;
    let mapping = disc
        .get("mapping")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid(format!("{context}: discriminator has no mapping")))?;
    let mut types = Vec::new();
    for (type_name, target) in mapping {
        let target = target.as_str().unwrap_or_default();
        let start = serde_json::json!({ "$ref": target });
        let pointer = final_ref(raw, &start).unwrap_or_else(|| target.to_owned());
        let schema = deref(raw, &start);
        types.push(build_type(raw, type_name, &pointer, schema, prop)?);
    }
    Ok(types)
}

fn build_type(
    raw: &Value,
    name: &str,
    pointer: &str,
    schema: &Value,
    discriminator: &str,
) -> Result<IntegrationType> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let secrets: BTreeMap<String, String> = schema
        .get("x-secrets")
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .unwrap_or_default();
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid(format!("schema {pointer} (type {name}) has no properties")))?;
    let mut fields = Vec::new();
    for (field_name, prop) in props {
        let p = deref(raw, prop);
        let kind = match p.get("type").and_then(Value::as_str) {
            Some("string") => FieldKind::String,
            Some("boolean") => FieldKind::Boolean,
            Some("integer") => FieldKind::Integer,
            Some("number") => FieldKind::Number,
            other => {
                return Err(invalid(format!(
                    "schema {pointer}: field {field_name} has type {other:?}"
                )))
            }
        };
        let enum_values: Vec<String> = p
            .get("enum")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        let is_disc = field_name == discriminator;
        if is_disc && enum_values != [name] {
            return Err(invalid(format!(
                "schema {pointer}: discriminator {discriminator} must have enum [{name}]"
            )));
        }
        let secret = match secrets.get(field_name).map(String::as_str) {
            Some("mask-last4") => Some(SecretKind::MaskLast4),
            Some("mask-url") => Some(SecretKind::MaskUrl),
            Some("write-only") => Some(SecretKind::WriteOnly),
            _ => None,
        };
        let bool_of = |k: &str| p.get(k).and_then(Value::as_bool).unwrap_or(false);
        let usize_of = |k: &str| p.get(k).and_then(Value::as_u64).map(|n| n as usize);
        fields.push(Field {
            name: field_name.clone(),
            kind,
            required: required.contains(&field_name.as_str()),
            nullable: bool_of("nullable"),
            read_only: bool_of("readOnly"),
            write_only: bool_of("writeOnly"),
            discriminator: is_disc,
            enum_values,
            pattern: p.get("pattern").and_then(Value::as_str).map(str::to_owned),
            min_length: usize_of("minLength"),
            max_length: usize_of("maxLength"),
            format: p.get("format").and_then(Value::as_str).map(str::to_owned),
            default: p.get("default").cloned(),
            example: p.get("example").cloned(),
            secret,
            rule: p
                .get("x-rule")
                .and_then(Value::as_str)
                .and_then(FieldRule::parse),
        });
    }
    if !fields.iter().any(|f| f.discriminator) {
        return Err(invalid(format!(
            "schema {pointer} (type {name}) lacks the discriminator property {discriminator}"
        )));
    }
    let conditional_required = match schema.get("x-conditional-required") {
        Some(rules) => {
            let rules: Vec<ConditionalExt> = serde_json::from_value(rules.clone())
                .map_err(|e| invalid(format!("schema {pointer}: {e}")))?;
            rules
                .into_iter()
                .map(|r| ConditionalRequired {
                    when_field: r.when.field,
                    equals: r.when.equals,
                    then_required: r.then,
                })
                .collect()
        }
        None => Vec::new(),
    };
    Ok(IntegrationType {
        name: name.to_owned(),
        schema: pointer.to_owned(),
        fields,
        conditional_required,
    })
}
