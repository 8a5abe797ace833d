//! Request body validation, driven entirely by the model's [`IntegrationType`]: the checks run
//! in the contract's order (section 5): shape, `type`, unknown field, JSON types, missing field,
//! enum, rules (pattern, length, empty required string, absolute http(s) URL, conditional
//! requirements). The first failure wins.
//!
//! Null handling (contract section 8): an optional field sent as `null` is not sent; a required
//! one is missing; a read-only field (the server-assigned id) may be a string or `null` and is
//! ignored either way.

use std::collections::HashMap;

use regex::Regex;
use serde_json::{Map, Value};

use crate::model::{Field, FieldKind, IntegrationType, Situation};

use super::error::quote_input;
use super::fault::{Fault, FaultSet};

/// A body that breaks a rule: the catalogue situation and the field it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    pub(crate) situation: Situation,
    pub(crate) field: Option<String>,
    /// A non-secret value to name besides the field (an enum value).
    pub(crate) value: Option<String>,
    pub(crate) detail: String,
}

fn reject(situation: Situation, field: &str, detail: String) -> Rejection {
    Rejection {
        situation,
        field: Some(field.to_owned()),
        value: None,
        detail,
    }
}

/// Compiled `pattern`s of the model, by source text.
pub(crate) type Patterns = HashMap<String, Regex>;

/// Compiles every pattern of every field of every type.
pub(crate) fn compile_patterns(model: &crate::model::Model) -> crate::Result<Patterns> {
    let mut out = Patterns::new();
    for family in &model.families {
        for version in &family.versions {
            for t in &version.types {
                for f in &t.fields {
                    if let Some(p) = &f.pattern {
                        if !out.contains_key(p) {
                            let re = Regex::new(p).map_err(|e| {
                                crate::Error::SpecInvalid(format!(
                                    "type {} field {}: pattern {p:?} does not compile: {e}",
                                    t.name, f.name
                                ))
                            })?;
                            out.insert(p.clone(), re);
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

fn kind_matches(kind: FieldKind, v: &Value) -> bool {
    match kind {
        FieldKind::String => v.is_string(),
        FieldKind::Boolean => v.is_boolean(),
        FieldKind::Integer => v.is_i64() || v.is_u64(),
        FieldKind::Number => v.is_number(),
    }
}

fn kind_name(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::String => "a string",
        FieldKind::Boolean => "a boolean",
        FieldKind::Integer => "an integer",
        FieldKind::Number => "a number",
    }
}

/// Whether `s` is an absolute http(s) URL (contract sections 5 and 9): scheme `http` or
/// `https` in any case, a non-empty host, an optional port.
///
/// The text itself is checked before it is parsed, because the URL parser is lenient where the
/// rule is not: it trims surrounding spaces and drops tabs and newlines, and it reads
/// `https:///x` or `https:x` as if the host were `x`.
pub(crate) fn is_http_url(s: &str) -> bool {
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    if !["http", "https"]
        .iter()
        .any(|w| scheme.eq_ignore_ascii_case(w))
    {
        return false;
    }
    let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        host_port.split_once(']').map_or("", |(h, _)| h)
    } else {
        host_port.rsplit_once(':').map_or(host_port, |(h, _)| h)
    };
    if host.is_empty() {
        return false;
    }
    url::Url::parse(s).is_ok_and(|u| u.host_str().is_some_and(|h| !h.is_empty()))
}

/// Validates `body` against `t`, in the contract's order (shape, discriminator, unknown
/// fields, JSON types, required fields, enums, string rules, conditional requirements). On
/// success, returns the settable fields sent (not null), to store.
pub(crate) fn body(
    t: &IntegrationType,
    body: &Value,
    patterns: &Patterns,
    faults: FaultSet,
) -> Result<Map<String, Value>, Rejection> {
    let read = super::reach::body(t, body, faults);
    let body = read.as_ref().unwrap_or(body);
    let Some(obj) = body.as_object() else {
        return Err(Rejection {
            situation: Situation::BodyNotObject,
            field: None,
            value: None,
            detail: "The request body must be a JSON object.".to_owned(),
        });
    };
    discriminator(t, obj)?;
    unknown_fields(t, obj, faults)?;
    json_types(t, obj, faults)?;
    required(t, obj, faults)?;
    enums(t, obj, faults)?;
    for f in t.fields.iter().filter(|f| f.settable()) {
        if let Some(Value::String(s)) = sent(obj, f) {
            string_rules(f, s, patterns, faults)?;
            if let Some((situation, why)) = super::reach::string_rule(f, s, faults) {
                return Err(reject(
                    situation,
                    &f.name,
                    format!("Invalid integration settings: {why}."),
                ));
            }
        }
    }
    conditional_required(t, obj, faults)?;
    Ok(stored(t, obj, faults))
}

/// A field's value when it was sent and is not null.
fn sent<'v>(obj: &'v Map<String, Value>, f: &Field) -> Option<&'v Value> {
    obj.get(&f.name).filter(|v| !v.is_null())
}

/// The discriminator is present and names the path's integration type.
fn discriminator(t: &IntegrationType, obj: &Map<String, Value>) -> Result<(), Rejection> {
    let disc = t.discriminator();
    match obj.get(&disc.name) {
        None | Some(Value::Null) => {
            return Err(reject(
                Situation::TypeMissing,
                &disc.name,
                format!(
                    "The required attribute {} was not specified; it must equal the path's integration type {}.",
                    disc.name, t.name
                ),
            ))
        }
        Some(Value::String(s)) if *s == t.name => {}
        Some(_) => {
            return Err(reject(
                Situation::TypeMismatch,
                &disc.name,
                format!(
                    "The attribute {} must equal the path's integration type {}.",
                    disc.name, t.name
                ),
            ))
        }
    }
    Ok(())
}

/// No field the type does not have (unless a fault lets them through).
fn unknown_fields(
    t: &IntegrationType,
    obj: &Map<String, Value>,
    faults: FaultSet,
) -> Result<(), Rejection> {
    let unknown_ok = faults.has(Fault::UnknownFieldAccepted);
    if !unknown_ok {
        if let Some(key) = obj.keys().find(|k| t.field(k).is_none()) {
            return Err(reject(
                Situation::UnknownAttribute,
                &quote_input(key),
                format!(
                    "Invalid attribute {} specified: integration type {} has no such field.",
                    quote_input(key),
                    t.name
                ),
            ));
        }
    }
    Ok(())
}

/// Every field sent has its JSON type.
fn json_types(
    t: &IntegrationType,
    obj: &Map<String, Value>,
    faults: FaultSet,
) -> Result<(), Rejection> {
    let types_ok = faults.has(Fault::TypeMismatchAccepted);
    for f in t.fields.iter().filter(|f| !f.discriminator) {
        let Some(v) = sent(obj, f) else { continue };
        let expected = if f.read_only {
            FieldKind::String
        } else {
            f.kind
        };
        // the fault lets wrong types into settable fields; the id stays checked
        let tolerated = types_ok && !f.read_only;
        if !tolerated && !kind_matches(expected, v) {
            return Err(reject(
                Situation::WrongJsonType,
                &f.name,
                format!("The attribute {} must be {}.", f.name, kind_name(expected)),
            ));
        }
    }
    Ok(())
}

/// Every required settable field is sent.
fn required(
    t: &IntegrationType,
    obj: &Map<String, Value>,
    faults: FaultSet,
) -> Result<(), Rejection> {
    let null_ok = faults.has(Fault::RequiredNullAccepted);
    for f in t.fields.iter().filter(|f| f.required && f.settable()) {
        let present = match obj.get(&f.name) {
            None => false,
            Some(Value::Null) => null_ok,
            Some(_) => true,
        };
        if !present {
            return Err(reject(
                Situation::RequiredMissing,
                &f.name,
                format!("The required attribute {} was not specified.", f.name),
            ));
        }
    }
    Ok(())
}

/// Every enum field sent holds one of its values (a secret one is not echoed).
fn enums(t: &IntegrationType, obj: &Map<String, Value>, faults: FaultSet) -> Result<(), Rejection> {
    if !faults.has(Fault::EnumUnchecked) {
        for f in t
            .fields
            .iter()
            .filter(|f| f.settable() && !f.enum_values.is_empty())
        {
            let Some(Value::String(s)) = sent(obj, f) else {
                continue;
            };
            // Fault: a member list that stops after its first two members.
            let known = if faults.has(Fault::EnumFirstMembersOnly) {
                &f.enum_values[..f.enum_values.len().min(2)]
            } else {
                &f.enum_values[..]
            };
            if !known.contains(s) {
                let mut r = reject(
                    Situation::EnumInvalid,
                    &f.name,
                    if f.secret.is_some() {
                        format!("An invalid enumeration value was specified for {}.", f.name)
                    } else {
                        format!(
                            "An invalid enumeration value {} was specified for {}; expected one of {}.",
                            quote_input(s),
                            f.name,
                            f.enum_values.join(", ")
                        )
                    },
                );
                if f.secret.is_none() {
                    r.value = Some(quote_input(s));
                }
                return Err(r);
            }
        }
    }
    Ok(())
}

/// A string field's length, emptiness, pattern and URL rules.
fn string_rules(
    f: &Field,
    s: &str,
    patterns: &Patterns,
    faults: FaultSet,
) -> Result<(), Rejection> {
    let settings = |f: &Field, why: &str| {
        reject(
            Situation::InvalidSettings,
            &f.name,
            format!("Invalid integration settings: {} {why}.", f.name),
        )
    };
    let is_url = f.format.as_deref() == Some("uri");
    let url_unchecked = is_url && faults.has(Fault::UrlUnchecked);
    let n = if faults.has(Fault::LengthCountsBytes) {
        s.len()
    } else {
        s.chars().count()
    };
    if !faults.has(Fault::LengthUnchecked) {
        if let Some(min) = f.min_length {
            if n < min {
                return Err(settings(f, &format!("must have at least {min} characters")));
            }
        }
        if let Some(max) = f.max_length {
            if n > max {
                return Err(settings(f, &format!("must have at most {max} characters")));
            }
        }
    }
    if f.required && s.is_empty() && !faults.has(Fault::LengthUnchecked) {
        return Err(settings(f, "must not be empty"));
    }
    // A URL field is judged by the URL rule alone: its spec pattern only approximates the
    // rule, and must not refuse what the rule accepts (contract section 9).
    if let Some(p) = f.pattern.as_ref().filter(|_| !is_url) {
        if !faults.has(Fault::PatternUnchecked) {
            // patterns are compiled at startup; one that is missing is not checked
            if patterns.get(p).is_some_and(|re| !re.is_match(s)) {
                return Err(settings(f, &format!("must match {p}")));
            }
        }
    }
    if is_url && !url_unchecked && !is_http_url(s) {
        return Err(settings(f, "must be an absolute http or https URL"));
    }
    Ok(())
}

/// The fields a rule requires when another field has a given value.
fn conditional_required(
    t: &IntegrationType,
    obj: &Map<String, Value>,
    faults: FaultSet,
) -> Result<(), Rejection> {
    if !faults.has(Fault::ConditionalRequiredUnchecked) {
        for rule in &t.conditional_required {
            if obj.get(&rule.when_field) != Some(&rule.equals) {
                continue;
            }
            for name in &rule.then_required {
                let satisfied = match obj.get(name) {
                    None | Some(Value::Null) => false,
                    Some(Value::String(s)) => !s.is_empty(),
                    Some(_) => true,
                };
                if !satisfied {
                    let when = match &rule.equals {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    return Err(reject(
                        Situation::InvalidSettings,
                        name,
                        format!(
                            "Invalid integration settings: {name} is required when {} is {when}.",
                            rule.when_field
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// What to store: the settable fields sent.
fn stored(t: &IntegrationType, obj: &Map<String, Value>, faults: FaultSet) -> Map<String, Value> {
    let drop_empty = faults.has(Fault::OptionalEmptyStringDropped);
    let mut out = Map::new();
    for f in t.fields.iter().filter(|f| f.settable()) {
        if let Some(v) = sent(obj, f) {
            if drop_empty && !f.required && v.as_str() == Some("") {
                continue;
            }
            out.insert(f.name.clone(), v.clone());
        }
    }
    out
}

/// The fields of `body` that would be stored whatever else is wrong with it (known, settable,
/// of the right JSON type), except `skip`: what a server that writes field by field has
/// written when it meets the bad one (fault `failed-update-partially-applied`).
pub(crate) fn partial(t: &IntegrationType, body: &Value, skip: Option<&str>) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(obj) = body.as_object() else {
        return out;
    };
    for f in t.fields.iter().filter(|f| f.settable()) {
        if Some(f.name.as_str()) == skip {
            continue;
        }
        if let Some(v) = obj.get(&f.name).filter(|v| kind_matches(f.kind, v)) {
            out.insert(f.name.clone(), v.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::is_http_url;

    #[test]
    fn urls_follow_the_contract_rule() {
        for ok in [
            "https://hooks.example.com/x",
            "HTTPS://HOOKS.EXAMPLE.COM/x",
            "Http://h.example",
            "http://h.example:8080/a?b#c",
            "https://user:pass@h.example/x",
            "http://[::1]:8080/x",
            "https://hooks.example.com/ünï-cödé",
        ] {
            assert!(is_http_url(ok), "{ok}");
        }
        for bad in [
            "ftp://hooks.example.com/x",
            "/services/x",
            "hooks.example.com/x",
            "https:///x",
            "https://",
            "https:x",
            "https://user@/x",
            "https://:8080/x",
            " https://h.example/x",
            "https://h.example/x ",
            "https://h.ex\tample/x",
            "https//h.example/x",
            "",
        ] {
            assert!(!is_http_url(bad), "{bad:?}");
        }
    }
}
