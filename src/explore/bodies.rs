//! The bodies exploration sends: valid ones (minimal, full, or with the diverse values the fixed
//! suite does not try) and every way to break a valid one in exactly one thing, as the contract's
//! situations.

use rand::Rng as _;
use serde_json::{json, Map, Value};

use super::gen::Call;
use crate::case::values::{self, Fill};
use crate::model::{Field, FieldKind, IntegrationType, SecretKind, Situation, Version};

/// The body modes below this make valid bodies; the others break one thing.
pub(super) const VALID_MODES: u8 = 14;

/// Fills the call's body: valid (minimal, full, or with diverse values) or broken in one way.
pub(super) fn body(
    call: &mut Call,
    ty: &IntegrationType,
    version: &Version,
    mode: u8,
    rng: &mut rand::rngs::StdRng,
    tag: &str,
) {
    let base = match mode {
        0..=4 => values::valid_body(ty, tag, Fill::Minimal),
        5..=8 => values::valid_body(ty, tag, Fill::Full),
        _ => {
            let fill = if rng.random_bool(0.5) {
                Fill::Full
            } else {
                Fill::Minimal
            };
            let mut b = values::valid_body(ty, tag, fill);
            diversify(ty, &mut b, rng, tag);
            b
        }
    };
    if mode < VALID_MODES {
        let mut base = base;
        assigned_sent(ty, &mut base, rng);
        call.body = Some(Value::Object(base));
        return;
    }
    // A situation first, then a field, then a value: every kind of break is drawn as often,
    // however many values a type has for the common ones.
    let breakers = breakers(ty, version, &base);
    let mut situations: Vec<Situation> = breakers.iter().map(|b| b.0).collect();
    situations.sort();
    situations.dedup();
    // invalid-settings covers five rules (pattern, length, empty required string, URL,
    // conditional requirement): it is drawn as often as three situations together.
    if situations.contains(&Situation::InvalidSettings) {
        situations.extend([Situation::InvalidSettings; 2]);
    }
    let situation = situations[rng.random_range(0..situations.len())];
    let mut fields: Vec<&Option<String>> = breakers
        .iter()
        .filter(|b| b.0 == situation)
        .map(|b| &b.1)
        .collect();
    fields.dedup();
    let field = fields[rng.random_range(0..fields.len())].clone();
    let candidates: Vec<&Breaker> = breakers
        .iter()
        .filter(|b| b.0 == situation && b.1 == field)
        .collect();
    let (situation, field, broken) = candidates[rng.random_range(0..candidates.len())].clone();
    call.broken = Some(situation.as_str().to_owned());
    call.field = field;
    match broken {
        Broken::Json(v) => call.body = Some(v),
        Broken::Raw(s) => {
            // The valid body stays beside the bytes sent: its secrets still must not come back.
            call.body = Some(Value::Object(base));
            call.raw = Some(s);
        }
    }
}

#[derive(Debug, Clone)]
enum Broken {
    Json(Value),
    Raw(String),
}

fn is_url(f: &Field) -> bool {
    f.format.as_deref() == Some("uri") || f.rule.is_some() || f.secret == Some(SecretKind::MaskUrl)
}

/// Replaces free-form string values (no enum, no pattern) with values of diverse lengths and
/// characters that still satisfy the field's rules, and flips booleans and enums.
fn diversify(
    ty: &IntegrationType,
    body: &mut Map<String, Value>,
    rng: &mut rand::rngs::StdRng,
    tag: &str,
) {
    for f in ty.settable_fields() {
        if !body.contains_key(&f.name) && !rng.random_bool(0.3) {
            continue;
        }
        let value = match f.kind {
            FieldKind::Boolean => json!(rng.random_bool(0.5)),
            FieldKind::String if !f.enum_values.is_empty() => {
                json!(f.enum_values[rng.random_range(0..f.enum_values.len())])
            }
            FieldKind::String if f.pattern.is_some() && !is_url(f) => continue,
            FieldKind::String => json!(diverse_string(f, rng, tag)),
            _ => continue,
        };
        body.insert(f.name.clone(), value);
    }
    values::satisfy_conditionals(ty, body, tag, Fill::Full);
}

/// A server-assigned field sent anyway, as a string that looks assigned or as null: ignored
/// (contract section 8), so the id the target shows must not change.
fn assigned_sent(
    ty: &IntegrationType,
    body: &mut Map<String, Value>,
    rng: &mut rand::rngs::StdRng,
) {
    for f in ty.fields.iter().filter(|f| f.read_only) {
        if rng.random_bool(0.25) {
            let v = if rng.random_bool(0.5) {
                json!("0123456789abcdef01234567")
            } else {
                Value::Null
            };
            body.insert(f.name.clone(), v);
        }
    }
}

const ALPHABET: [&str; 12] = ["a", "Z", "7", "-", "_", ".", "é", "ü", "漢", "ß", "k", "Q"];

fn diverse_string(f: &Field, rng: &mut rand::rngs::StdRng, tag: &str) -> String {
    if is_url(f) {
        let short: String = tag.chars().rev().take(4).collect();
        let urls = [
            format!("https://hooks.example.com/{tag}"),
            format!("HTTPS://Hooks.Example.COM:8443/p/{tag}?q=1&r=-_."),
            format!("http://user:pw@hooks.example.com/{tag}"),
            format!("https://h.example/{short}"),
            format!("https://h.example/{}", &short[..3]),
            // No path, a port and a short path: masks that are not their own fixed point, so
            // an update that sends one back shows whether it was stored (section 4).
            "https://h.example".to_owned(),
            format!("https://h.example:8443/{}", &short[..1]),
            // The mask of the short ones above, sent back as a new value (section 4).
            "https://h.example/****".to_owned(),
            format!("https://hooks.example.com?{tag}"),
            format!("https://hooks.example.com/ünï-{tag}"),
            format!("http://h.example:8080/x/{tag}"),
        ];
        return urls[rng.random_range(0..urls.len())].clone();
    }
    let min = f.min_length.unwrap_or(0).max(usize::from(f.required));
    let max = f.max_length.unwrap_or(48).max(min);
    let len = match rng.random_range(0..3) {
        0 => min,
        1 => max,
        _ => rng.random_range(min..=max),
    };
    // A secret keeps the tag where it fits, so that no other value contains it by chance.
    let mut s: String = if f.secret.is_some() && len >= tag.chars().count() + 2 {
        tag.to_owned()
    } else {
        String::new()
    };
    while s.chars().count() < len {
        s.push_str(ALPHABET[rng.random_range(0..ALPHABET.len())]);
    }
    s
}

type Breaker = (Situation, Option<String>, Broken);

/// Values of the string field `f` that break its rules (the settings situation): a URL that is
/// not absolute http(s), a value its pattern refuses, one character too many, an empty required
/// value. `present` is the valid body's value, if any.
fn broken_settings(f: &Field, present: Option<&Value>) -> Vec<String> {
    let valid_s = present
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| {
            values::valid_value(f, "breaker", Fill::Minimal)
                .as_str()
                .unwrap_or_default()
                .to_owned()
        });
    let mut settings: Vec<String> = Vec::new();
    if is_url(f) {
        settings.push("ftp://hooks.example.com/x1234".into());
        settings.push("hooks.example.com/x1234".into());
    } else {
        settings.extend(
            values::pattern_breakers(f, &valid_s)
                .into_iter()
                .map(|(_, s)| s),
        );
        if let Some(max) = f.max_length {
            settings.push("ü".repeat(max + 1));
        }
        if f.required {
            settings.push(String::new());
        }
    }
    settings
}

/// Every way to break `valid` in exactly one thing, as the contract's situations.
fn breakers(ty: &IntegrationType, version: &Version, valid: &Map<String, Value>) -> Vec<Breaker> {
    let with = |f: &dyn Fn(&mut Map<String, Value>)| {
        let mut b = valid.clone();
        f(&mut b);
        Broken::Json(Value::Object(b))
    };
    let mut out: Vec<Breaker> = Vec::new();
    let disc = ty.discriminator().name.clone();
    for f in ty.settable_fields() {
        let name = f.name.clone();
        let present = valid.get(&name).cloned();
        if f.required && present.is_some() {
            out.push((
                Situation::RequiredMissing,
                Some(name.clone()),
                with(&|b| {
                    b.remove(&name);
                }),
            ));
            out.push((
                Situation::RequiredMissing,
                Some(name.clone()),
                with(&|b| {
                    b.insert(name.clone(), Value::Null);
                }),
            ));
        }
        let wrong = values::wrong_type(f);
        out.push((
            Situation::WrongJsonType,
            Some(name.clone()),
            with(&|b| {
                b.insert(name.clone(), wrong.clone());
            }),
        ));
        if !f.enum_values.is_empty() {
            let bad = values::outside_enum(f);
            out.push((
                Situation::EnumInvalid,
                Some(name.clone()),
                with(&|b| {
                    b.insert(name.clone(), json!(bad));
                }),
            ));
            continue;
        }
        if f.kind != FieldKind::String {
            continue;
        }
        for s in broken_settings(f, present.as_ref()) {
            out.push((
                Situation::InvalidSettings,
                Some(name.clone()),
                with(&|b| {
                    b.insert(name.clone(), json!(s));
                }),
            ));
        }
    }
    for rule in &ty.conditional_required {
        let when = rule.when_field.clone();
        let equals = rule.equals.clone();
        let then = rule.then_required.clone();
        out.push((
            Situation::InvalidSettings,
            then.first().cloned(),
            with(&|b| {
                b.insert(when.clone(), equals.clone());
                for t in &then {
                    b.remove(t);
                }
            }),
        ));
    }
    out.push((
        Situation::UnknownAttribute,
        Some("notAFieldOfThisType".into()),
        with(&|b| {
            b.insert("notAFieldOfThisType".into(), json!("x"));
        }),
    ));
    out.push((
        Situation::TypeMissing,
        None,
        with(&|b| {
            b.remove(&disc);
        }),
    ));
    if let Some(other) = version.types.iter().find(|t| t.name != ty.name) {
        let other = other.name.clone();
        out.push((
            Situation::TypeMismatch,
            None,
            with(&|b| {
                b.insert(disc.clone(), json!(other));
            }),
        ));
    }
    let text = serde_json::to_string(&Value::Object(valid.clone())).unwrap_or_default();
    out.push((
        Situation::MalformedJson,
        None,
        Broken::Raw(text[..text.len().saturating_sub(1)].to_owned()),
    ));
    out.push((
        Situation::MalformedJson,
        None,
        Broken::Raw(format!("{text} {{}}")),
    ));
    out.push((
        Situation::BodyNotObject,
        None,
        Broken::Json(json!([Value::Object(valid.clone())])),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_bodies_break_one_thing() {
        let model = crate::model::bundled().unwrap();
        for family in &model.families {
            for version in &family.versions {
                for ty in &version.types {
                    let valid = values::valid_body(ty, "t", Fill::Full);
                    let all = breakers(ty, version, &valid);
                    assert!(all.len() >= 5, "{} {}", family.name, ty.name);
                    for (situation, _, broken) in all {
                        if let Broken::Json(Value::Object(b)) = broken {
                            let changed =
                                b.iter().filter(|(k, v)| valid.get(*k) != Some(*v)).count()
                                    + valid.keys().filter(|k| !b.contains_key(*k)).count();
                            assert!(changed >= 1, "{situation:?} of {} changes nothing", ty.name);
                        }
                    }
                }
            }
        }
    }
}
