//! Values for generated requests, derived from the model's field rules: valid bodies (minimal
//! and full), secret canaries that are unique per case, rule-breaking mutations that keep a
//! value's length, and the view a conformant target must render for a stored configuration.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::model::{Field, FieldKind, IntegrationType, SecretKind};

/// Stands in an expected view for a value the server assigns (a read-only field).
pub const ASSIGNED: &str = "<assigned>";

/// Which optional fields a valid body carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// Only the required fields (and what conditional rules then require).
    Minimal,
    /// Every settable field, with values other than the defaults where possible.
    Full,
    /// Only the required fields, with values different from `Full`'s (for updates).
    Alternate,
}

/// A deterministic secret value for `(seed, field)`: unique per case and field, never a
/// substring of another, and free of `*` so a mask can never be mistaken for it.
pub fn canary(seed: &str, field: &str) -> String {
    let digest = hex::encode(Sha256::digest(format!("{seed}\0{field}").as_bytes()));
    format!("cnry{}", &digest[..24])
}

/// Every string in `v` that carries a canary (see [`canary`]).
pub fn canaries_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.contains("cnry") && !out.contains(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| canaries_in(i, out)),
        Value::Object(map) => map.values().for_each(|i| canaries_in(i, out)),
        _ => {}
    }
}

/// The canary for a field of a given secret kind (a URL for URL secrets).
pub fn secret_value(field: &Field, seed: &str) -> String {
    let c = canary(seed, &field.name);
    if field.secret == Some(SecretKind::MaskUrl) || field.format.as_deref() == Some("uri") {
        format!("https://hooks.example.com/services/{c}")
    } else {
        c
    }
}

fn pattern_ok(field: &Field, value: &str) -> bool {
    let len = value.chars().count();
    if field.min_length.is_some_and(|m| len < m) || field.max_length.is_some_and(|m| len > m) {
        return false;
    }
    match &field.pattern {
        Some(p) => regex::Regex::new(p)
            .map(|r| r.is_match(value))
            .unwrap_or(false),
        None => true,
    }
}

/// A valid value for a field. `alternate` picks a second valid value where one exists.
pub fn valid_value(field: &Field, seed: &str, fill: Fill) -> Value {
    let alternate = fill == Fill::Alternate;
    match field.kind {
        FieldKind::Boolean => {
            let default = field.default.as_ref().and_then(Value::as_bool);
            match (fill, default) {
                (Fill::Full, Some(d)) => json!(!d),
                (Fill::Alternate, _) => json!(false),
                _ => field.example.clone().unwrap_or(json!(true)),
            }
        }
        FieldKind::Integer | FieldKind::Number => field
            .example
            .clone()
            .unwrap_or(json!(if alternate { 2 } else { 1 })),
        FieldKind::String if !field.enum_values.is_empty() => {
            let default = field.default.as_ref().and_then(Value::as_str);
            let pick = match fill {
                Fill::Full => field
                    .enum_values
                    .iter()
                    .find(|v| Some(v.as_str()) != default),
                Fill::Alternate => field
                    .enum_values
                    .iter()
                    .rev()
                    .find(|v| Some(v.as_str()) != default),
                Fill::Minimal => field
                    .example
                    .as_ref()
                    .and_then(Value::as_str)
                    .and_then(|e| field.enum_values.iter().find(|v| v.as_str() == e)),
            };
            json!(pick.unwrap_or(&field.enum_values[0]))
        }
        FieldKind::String => {
            if field.secret.is_some() && field.pattern.is_none() {
                let seed = if alternate {
                    format!("{seed}#alt")
                } else {
                    seed.to_owned()
                };
                return json!(secret_value(field, &seed));
            }
            let example = field.example.as_ref().and_then(Value::as_str);
            let base = match example {
                Some(e) if pattern_ok(field, e) => e.to_owned(),
                _ => synthesize(field),
            };
            if alternate {
                json!(alternate_string(field, &base))
            } else {
                json!(base)
            }
        }
    }
}

/// A value of the right length and alphabet when the spec gives no usable example.
fn synthesize(field: &Field) -> String {
    let min = field.min_length.unwrap_or(1).max(1);
    let max = field.max_length.unwrap_or(usize::MAX);
    if field.format.as_deref() == Some("uri") {
        return "https://example.com/hook".to_owned();
    }
    let candidates = [
        format!("value-{}", field.name),
        "0123456789abcdef0123456789abcdef01234567".to_owned(),
        "a".repeat(min),
    ];
    for c in candidates {
        let len = c.chars().count();
        let c = if len < min {
            format!("{c}{}", "a".repeat(min - len))
        } else {
            c
        };
        let c: String = c.chars().take(max).collect();
        if pattern_ok(field, &c) {
            return c;
        }
    }
    "a".repeat(min)
}

/// A different valid string: the same value with its characters rotated, if that still
/// satisfies the rules, else a suffix.
fn alternate_string(field: &Field, base: &str) -> String {
    let mut chars: Vec<char> = base.chars().collect();
    if chars.len() > 1 {
        chars.rotate_left(1);
        let rotated: String = chars.iter().collect();
        if rotated != base && pattern_ok(field, &rotated) {
            return rotated;
        }
    }
    let suffixed = format!("{base}-2");
    if pattern_ok(field, &suffixed) {
        suffixed
    } else {
        base.to_owned()
    }
}

/// A valid request body for a type.
pub fn valid_body(ty: &IntegrationType, seed: &str, fill: Fill) -> Map<String, Value> {
    let mut body = Map::new();
    for field in &ty.fields {
        if field.discriminator {
            body.insert(field.name.clone(), json!(ty.name));
            continue;
        }
        if !field.settable() {
            continue;
        }
        let include = match fill {
            Fill::Minimal | Fill::Alternate => field.required,
            Fill::Full => true,
        };
        if include {
            body.insert(field.name.clone(), valid_value(field, seed, fill));
        }
    }
    satisfy_conditionals(ty, &mut body, seed, fill);
    body
}

/// Add what conditional rules require for the values in `body`.
pub fn satisfy_conditionals(
    ty: &IntegrationType,
    body: &mut Map<String, Value>,
    seed: &str,
    fill: Fill,
) {
    for rule in &ty.conditional_required {
        if body.get(&rule.when_field) == Some(&rule.equals) {
            for name in &rule.then_required {
                if !body.contains_key(name) {
                    if let Some(f) = ty.field(name) {
                        body.insert(name.clone(), valid_value(f, seed, fill));
                    }
                }
            }
        }
    }
}

/// The secret values a body carries (for the leak check).
pub fn secrets_of(ty: &IntegrationType, body: &Map<String, Value>) -> Vec<String> {
    ty.secret_fields()
        .filter_map(|f| body.get(&f.name).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether the correct mask of `value` shows it whole (a url that is all prefix, or a mask sent
/// back): such a value is no secret an answer could leak.
pub fn shown_by_its_mask(kind: SecretKind, value: &str) -> bool {
    mask(kind, value).is_some_and(|m| m.contains(value))
}

/// Mask a value the way the contract's secret kind says; `None` for write-only.
pub fn mask(kind: SecretKind, value: &str) -> Option<String> {
    match kind {
        SecretKind::WriteOnly => None,
        SecretKind::MaskLast4 => Some(mask_last4(value)),
        SecretKind::MaskUrl => Some(mask_url(value)),
    }
}

fn mask_last4(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let keep: String = chars[chars.len() - 4..].iter().collect();
    format!("{}{keep}", "*".repeat(chars.len() - 4))
}

/// `scheme://host[:port]/****` + the last four characters of what followed the host when more
/// than four did (contract sections 4 and 9): what followed the host starts at the `/`, `?` or
/// `#` after `host[:port]`, user info is dropped, scheme and host stay as sent.
fn mask_url(value: &str) -> String {
    let Some((scheme, rest)) = value.split_once("://") else {
        return "****".to_owned();
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at(host_end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let chars: Vec<char> = after.chars().collect();
    let last4: String = if chars.len() > 4 {
        chars[chars.len() - 4..].iter().collect()
    } else {
        String::new()
    };
    format!("{scheme}://{host}/****{last4}")
}

/// The view a conformant target renders for a stored configuration: every field with a value
/// (defaults included), secrets masked, write-only fields absent, server-assigned fields as
/// [`ASSIGNED`].
pub fn view(ty: &IntegrationType, stored: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    for field in &ty.fields {
        if field.discriminator {
            out.insert(field.name.clone(), json!(ty.name));
            continue;
        }
        if field.read_only {
            out.insert(field.name.clone(), json!(ASSIGNED));
            continue;
        }
        let value = match stored.get(&field.name) {
            Some(Value::Null) | None => field.default.clone(),
            Some(v) => Some(v.clone()),
        };
        let Some(value) = value else { continue };
        match (field.secret, value.as_str()) {
            (Some(kind), Some(s)) => {
                if let Some(masked) = mask(kind, s) {
                    out.insert(field.name.clone(), json!(masked));
                }
            }
            (Some(SecretKind::WriteOnly), None) => {}
            _ => {
                out.insert(field.name.clone(), value);
            }
        }
    }
    Value::Object(out)
}

/// The stored configuration after an update: merged into the old one, or replacing it.
/// Fields sent as `null` count as not sent; server-assigned fields are never stored.
pub fn apply_update(
    ty: &IntegrationType,
    old: &Map<String, Value>,
    sent: &Map<String, Value>,
    merge: bool,
) -> Map<String, Value> {
    let mut out = if merge { old.clone() } else { Map::new() };
    for (k, v) in sent {
        if v.is_null() || ty.field(k).is_some_and(|f| f.read_only) {
            continue;
        }
        out.insert(k.clone(), v.clone());
    }
    out
}

/// A JSON value of the wrong type for a field.
pub fn wrong_type(field: &Field) -> Value {
    match field.kind {
        FieldKind::String => json!(12345),
        FieldKind::Boolean => json!("true"),
        FieldKind::Integer | FieldKind::Number => json!("1"),
    }
}

/// A value outside an enum's set that still looks like a member.
pub fn outside_enum(field: &Field) -> String {
    let first = field.enum_values.first().map(String::as_str).unwrap_or("X");
    let candidates = [
        first.to_lowercase(),
        first.to_uppercase(),
        format!("{first}_X"),
        "NOT_A_VALUE".to_owned(),
    ];
    candidates
        .into_iter()
        .find(|c| !field.enum_values.contains(c))
        .unwrap_or_else(|| "NOT_A_VALUE".to_owned())
}

/// Values that break a field's pattern while keeping the valid value's length: the upper-case
/// form (when that breaks it) and one with a character outside the pattern's alphabet.
pub fn pattern_breakers(field: &Field, valid: &str) -> Vec<(&'static str, String)> {
    let Some(pattern) = &field.pattern else {
        return Vec::new();
    };
    let Ok(re) = regex::Regex::new(pattern) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let upper = valid.to_uppercase();
    if upper != valid && upper.chars().count() == valid.chars().count() && !re.is_match(&upper) {
        out.push(("upper-case", upper));
    }
    let chars: Vec<char> = valid.chars().collect();
    'outer: for replacement in ['z', 'Z', '!', ' ', '-', 'g', '0'] {
        for i in 0..chars.len() {
            if chars[i] == replacement {
                continue;
            }
            let mut mutated = chars.clone();
            mutated[i] = replacement;
            let s: String = mutated.into_iter().collect();
            if !re.is_match(&s) {
                out.push(("same-length-mismatch", s));
                break 'outer;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SecretKind;

    /// The contract's masks, shared with the reference server's (`server::mask`).
    const TABLE: &str = include_str!("../../tests/fixtures/masks.tsv");

    #[test]
    fn masks_match_the_shared_table() {
        let mut seen = 0;
        for line in TABLE.lines().filter(|l| !l.starts_with('#')) {
            let [kind, value, expected] = line.split('\t').collect::<Vec<_>>()[..] else {
                panic!("malformed line {line:?}");
            };
            let kind = match kind {
                "mask-last4" => SecretKind::MaskLast4,
                "mask-url" => SecretKind::MaskUrl,
                other => panic!("unknown kind {other}"),
            };
            assert_eq!(
                mask(kind, value).as_deref(),
                Some(expected),
                "{kind:?} of {value:?}"
            );
            seen += 1;
        }
        assert!(seen >= 25, "the table has {seen} rows");
        assert_eq!(mask(SecretKind::WriteOnly, "p"), None);
    }

    #[test]
    fn canaries_are_unique_and_star_free() {
        let a = canary("case-a", "apiKey");
        let b = canary("case-b", "apiKey");
        assert_ne!(a, b);
        assert!(!a.contains('*') && a.len() == 28);
    }
}
