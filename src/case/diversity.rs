//! Value diversity (issue 12): each value rule tried with many values, not one. A mask that is
//! right for a 28-character hex canary can be wrong for a 5-character key, for one with dashes
//! or for one with `ü`; a URL mask can drop a port; an enum can know only its first members.
//!
//! Everything is generated from the model and is deterministic: the same spec gives the same
//! values (they are derived from the case id by a hash). One version per family is enough for
//! the secret kinds and enums, which the versions share; the length bounds run per version.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::values::{self, Fill};
use super::{Case, Category, Ctx, Role, Subject};
use crate::model::{Field, FieldKind, IntegrationType, OperationKind, SecretKind, Version};

/// Secret lengths around the mask's four visible characters, and a long one.
const LENGTHS: [usize; 6] = [1, 4, 5, 8, 9, 64];

/// Punctuation a key may carry, masked like any other character (contract section 9).
const PUNCTUATION: [(char, &str); 3] = [('-', "dash"), ('_', "underscore"), ('.', "dot")];

/// Letters that are neither hex digits nor `*`, so that a generated value can be found in a
/// response (no server-assigned hex id or mask can contain it by chance).
const ALPHABET: &[u8] = b"ghjkmnpqrstvwxyz";

/// Multi-byte characters of the Basic Multilingual Plane.
const WIDE: &[char] = &['ä', 'ö', 'ü', 'ñ', 'é', '日', '本', '語', '€', 'ß'];

pub(super) fn generate(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    let version = cx.default_version();
    for ty in &version.types {
        for field in ty.settable_fields() {
            match field.secret {
                Some(SecretKind::MaskLast4)
                    if field.kind == FieldKind::String && field.pattern.is_none() =>
                {
                    secret_values(cx, version, ty, field, out);
                }
                Some(SecretKind::MaskUrl) => url_values(cx, version, ty, field, out),
                _ => {}
            }
            if !field.enum_values.is_empty() {
                enum_members(cx, version, ty, field, out);
            }
        }
    }
    for version in &cx.family.versions {
        lower_bounds(cx, version, out);
    }
    without_pattern(cx, version, out);
}

/// The first of the characters short secrets are made of: the Private Use Area, which no
/// conformant answer holds unless it was sent (a mask of a short secret is all `*`).
const RARE_FIRST: u32 = 0xE000;
/// How many of them.
const RARE_COUNT: u32 = 0x1000;

/// Whether `c` is one of the characters short secrets are made of.
#[cfg(test)]
pub(crate) fn is_rare(c: char) -> bool {
    (RARE_FIRST..RARE_FIRST + RARE_COUNT).contains(&u32::from(c))
}

/// `n` characters that no answer holds by chance, derived from `seed`: a secret of four
/// characters or fewer (masked as all `*`) that a leak scan can look for without false hits.
pub(crate) fn rare(seed: &str, n: usize) -> String {
    let digest = Sha256::digest(format!("{seed}\0rare").as_bytes());
    digest
        .chunks(2)
        .take(n)
        .map(|b| {
            let k = (u32::from(b[0]) << 8 | u32::from(b[1])) % RARE_COUNT;
            char::from_u32(RARE_FIRST + k).unwrap_or('\u{E000}')
        })
        .collect()
}

/// `n` letters of [`ALPHABET`] derived from `seed`.
pub(crate) fn letters(seed: &str, n: usize) -> String {
    let mut out = String::with_capacity(n);
    let mut round = 0u32;
    while out.len() < n {
        let digest = Sha256::digest(format!("{seed}\0{round}").as_bytes());
        for b in digest.iter() {
            if out.len() == n {
                break;
            }
            out.push(ALPHABET[usize::from(b % 16)] as char);
        }
        round += 1;
    }
    out
}

/// `{type-slug}-{field-slug}-{rest}`: a scenario about one field of one type.
fn field_scenario(
    cx: &Ctx<'_>,
    version: &Version,
    ty: &IntegrationType,
    field: &Field,
    rest: &str,
) -> String {
    cx.type_scenario(
        version,
        ty,
        &format!("{}-{rest}", super::kebab(&field.name)),
    )
}

/// What a diversity case sends in its field and what it declares.
struct Sample {
    /// The value sent.
    sent: String,
    /// Parts of the value that must never come back either (a canary wrapped in non-ASCII).
    extra_secrets: Vec<String>,
    /// Whether the value as a whole is secret: a URL without anything after its host is shown
    /// whole by its mask (scheme and host are never hidden), so it is not.
    whole_secret: bool,
}

impl Sample {
    fn plain(sent: String) -> Self {
        Sample {
            sent,
            extra_secrets: Vec::new(),
            whole_secret: true,
        }
    }
}

/// A create of `ty` with `field` = `value`, accepted: the create list and get show the value as
/// the contract renders it (masked for a secret), and the `Masked` expectation names the mask.
fn accepted(
    subject: Subject<'_, '_>,
    field: &Field,
    scenario: &str,
    category: Category,
    title: String,
    value: Sample,
) -> Case {
    let Subject { cx, ty, kind, .. } = subject;
    let id = cx.id(kind, scenario);
    let body = body_with(ty, field, &id, json!(value.sent));
    let secret = field.secret.is_some();
    let masked = super::masked(ty, &body);
    let mut case = subject
        .case(scenario, category, title)
        .accepts(body, None, |r| r);
    if secret {
        for step in case
            .steps
            .iter_mut()
            .filter(|s| matches!(s.role, Role::Test | Role::Verify))
        {
            step.expect.push(masked.clone());
        }
    }
    if !value.whole_secret {
        case.secrets.retain(|s| *s != value.sent);
    }
    for s in value.extra_secrets {
        if !case.secrets.contains(&s) {
            case.secrets.push(s);
        }
    }
    case
}

/// A minimal valid body of `ty` with `field` set to `value` (and what that value then requires).
fn body_with(ty: &IntegrationType, field: &Field, seed: &str, value: Value) -> Map<String, Value> {
    let mut body = values::valid_body(ty, seed, Fill::Minimal);
    body.insert(field.name.clone(), value);
    values::satisfy_conditionals(ty, &mut body, seed, Fill::Minimal);
    body
}

/// Whether `value` keeps the field's length bounds (in characters).
fn length_ok(field: &Field, value: &str) -> bool {
    let n = value.chars().count();
    field.min_length.is_none_or(|m| n >= m) && field.max_length.is_none_or(|m| n <= m)
}

/// A mask-last4 secret of every length around the boundary, with punctuation, and non-ASCII.
fn secret_values(
    cx: &Ctx<'_>,
    version: &Version,
    ty: &IntegrationType,
    field: &Field,
    out: &mut Vec<Case>,
) {
    let kind = OperationKind::Create;
    let subject = Subject::new(cx, version, ty, kind);
    let name = &field.name;
    let mut values: Vec<(String, String, Sample)> = Vec::new();
    for n in LENGTHS {
        let s = field_scenario(cx, version, ty, field, &format!("secret-of-{n}-characters"));
        // Four characters or fewer come back as all `*`: made of rare characters, a leak of
        // them is still found by the scan.
        let value = if n <= 4 {
            rare(&cx.id(kind, &s), n)
        } else {
            letters(&cx.id(kind, &s), n)
        };
        let shown = if n <= 4 {
            "all *".to_owned()
        } else {
            "its last four".to_owned()
        };
        let title = format!("a {name} of {n} characters comes back as {shown}");
        values.push((s, title, Sample::plain(value)));
    }
    for (c, label) in PUNCTUATION {
        let s = field_scenario(cx, version, ty, field, &format!("secret-with-{label}"));
        let seed = cx.id(kind, &s);
        // The punctuation sits both in the hidden part and among the last four characters.
        let value = format!(
            "{}{c}{}{c}{}{c}{}",
            letters(&format!("{seed}#a"), 4),
            letters(&format!("{seed}#b"), 4),
            letters(&format!("{seed}#c"), 2),
            letters(&format!("{seed}#d"), 1)
        );
        let title = format!("a {name} with '{c}' is masked like any other character");
        values.push((s, title, Sample::plain(value)));
    }
    let s = field_scenario(cx, version, ty, field, "secret-non-ascii");
    let inner = letters(&cx.id(kind, &s), 12);
    let value = format!("{}{inner}{}", wide(3), wide(2));
    let title = format!("a non-ASCII {name} keeps its length in characters when masked");
    values.push((
        s,
        title,
        Sample {
            sent: value,
            extra_secrets: vec![inner],
            whole_secret: true,
        },
    ));
    for (s, title, value) in values {
        if !length_ok(field, &value.sent) {
            continue;
        }
        out.push(accepted(
            subject,
            field,
            &s,
            Category::Redaction,
            title,
            value,
        ));
    }
}

/// A url-secret with a port, a query string, user info, no path, and 3, 4 and 5 characters
/// after the host (contract sections 4 and 9). The first url-secret of the family already has
/// its user-info and five-character cases (`characters.rs`); they are not repeated for it.
fn url_values(
    cx: &Ctx<'_>,
    version: &Version,
    ty: &IntegrationType,
    field: &Field,
    out: &mut Vec<Case>,
) {
    let kind = OperationKind::Create;
    let subject = Subject::new(cx, version, ty, kind);
    let first = version.types.iter().find_map(|t| {
        t.secret_fields()
            .find(|f| f.secret == Some(SecretKind::MaskUrl) && f.settable())
            .map(|f| (t.name.as_str(), f.name.as_str()))
    });
    let covered = first == Some((ty.name.as_str(), field.name.as_str()));
    let name = &field.name;
    let seed = |s: &str| cx.id(kind, s);
    let mut cases: Vec<(String, String, Sample)> = Vec::new();
    let s = field_scenario(cx, version, ty, field, "with-port");
    let tail = letters(&seed(&s), 20);
    cases.push((
        s,
        format!("a {name} with a port keeps the port in its mask"),
        Sample::plain(format!("https://hooks.example.com:8443/services/{tail}")),
    ));
    let s = field_scenario(cx, version, ty, field, "with-query");
    let tail = letters(&seed(&s), 20);
    cases.push((
        s,
        format!("a {name} with a query string shows the query's last four characters"),
        Sample::plain(format!("https://hooks.example.com/services?token={tail}")),
    ));
    if !covered {
        let s = field_scenario(cx, version, ty, field, "with-user-info");
        let user = letters(&format!("{}#user", seed(&s)), 16);
        let tail = letters(&seed(&s), 20);
        cases.push((
            s,
            format!("a {name} with user info comes back without it"),
            Sample {
                sent: format!("https://hook:{user}@hooks.example.com/services/{tail}"),
                extra_secrets: vec![user],
                whole_secret: true,
            },
        ));
    }
    let s = field_scenario(cx, version, ty, field, "without-path");
    cases.push((
        s,
        format!("a {name} without a path comes back as scheme, host and /****"),
        Sample {
            sent: "https://hooks.example.com".to_owned(),
            extra_secrets: Vec::new(),
            whole_secret: false,
        },
    ));
    for n in [3usize, 4, 5] {
        if n == 5 && covered {
            continue;
        }
        let s = field_scenario(
            cx,
            version,
            ty,
            field,
            &format!("{n}-characters-after-host"),
        );
        let path = letters(&seed(&s), n - 1);
        let shown = if n > 4 {
            "shows them"
        } else {
            "shows none of them"
        };
        cases.push((
            s,
            format!("a {name} with {n} characters after the host (the / included) {shown}"),
            Sample::plain(format!("https://hooks.example.com/{path}")),
        ));
    }
    for (s, title, value) in cases {
        out.push(accepted(
            subject,
            field,
            &s,
            Category::Redaction,
            title,
            value,
        ));
    }
}

/// Every member of an enum is accepted and returned as sent.
fn enum_members(
    cx: &Ctx<'_>,
    version: &Version,
    ty: &IntegrationType,
    field: &Field,
    out: &mut Vec<Case>,
) {
    let subject = Subject::new(cx, version, ty, OperationKind::Create);
    for member in &field.enum_values {
        let s = field_scenario(
            cx,
            version,
            ty,
            field,
            &format!("member-{}", super::kebab(member)),
        );
        let title = format!("{} {member} is accepted and returned as sent", field.name);
        let value = Sample::plain(member.clone());
        out.push(accepted(
            subject,
            field,
            &s,
            Category::Validation,
            title,
            value,
        ));
    }
}

/// `n` characters, none of them ASCII.
fn wide(n: usize) -> String {
    WIDE.iter().cycle().take(n).collect()
}

/// Free-text fields with a length range take their minimum in multi-byte characters (the
/// maximum is `characters.rs`'s).
fn lower_bounds(cx: &Ctx<'_>, version: &Version, out: &mut Vec<Case>) {
    for ty in &version.types {
        for field in ty.settable_fields().filter(|f| {
            f.kind == FieldKind::String
                && f.secret.is_none()
                && f.pattern.is_none()
                && f.enum_values.is_empty()
                && f.format.is_none()
                && f.max_length.is_some()
        }) {
            let min = field.min_length.unwrap_or(0).max(1);
            let s = field_scenario(cx, version, ty, field, "non-ascii-at-min-length");
            let title = format!(
                "{} of {min} non-ASCII character(s) ({} bytes) is accepted",
                field.name,
                wide(min).len()
            );
            out.push(accepted(
                Subject::new(cx, version, ty, OperationKind::Create),
                field,
                &s,
                Category::Validation,
                title,
                Sample::plain(wide(min)),
            ));
        }
    }
}

/// A field that has no pattern in this family although the same field of the same type has one
/// in another family (contract section 8: the atlas-v1 New Relic fields) accepts a value that
/// the other family's pattern refuses.
fn without_pattern(cx: &Ctx<'_>, version: &Version, out: &mut Vec<Case>) {
    for ty in &version.types {
        for field in ty.settable_fields().filter(|f| {
            f.kind == FieldKind::String
                && f.pattern.is_none()
                && f.enum_values.is_empty()
                && f.format.is_none()
        }) {
            let elsewhere = cx
                .model
                .families
                .iter()
                .filter(|f| f.name != cx.family.name)
                .flat_map(|f| f.versions.iter())
                .filter_map(|v| v.integration_type(&ty.name))
                .filter_map(|t| t.field(&field.name))
                .find(|f| f.pattern.is_some());
            let Some(other) = elsewhere else { continue };
            let valid = values::valid_value(other, &field.name, Fill::Minimal);
            let Some(valid) = valid.as_str() else {
                continue;
            };
            let Some((_, breaker)) = values::pattern_breakers(other, valid).into_iter().last()
            else {
                continue;
            };
            if !length_ok(field, &breaker) {
                continue;
            }
            let s = field_scenario(cx, version, ty, field, "without-pattern-accepts-any-text");
            let title = format!(
                "{} has no pattern in {}: {breaker:?} is accepted",
                field.name, cx.family.name
            );
            out.push(accepted(
                Subject::new(cx, version, ty, OperationKind::Create),
                field,
                &s,
                Category::Validation,
                title,
                Sample::plain(breaker),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_are_deterministic_hex_free_and_of_the_asked_length() {
        for n in [1, 4, 5, 64, 100] {
            let a = letters("seed", n);
            assert_eq!(a.chars().count(), n);
            assert_eq!(a, letters("seed", n));
            assert!(a.chars().all(|c| !c.is_ascii_hexdigit() && c != '*'), "{a}");
        }
        assert_ne!(letters("seed", 12), letters("other", 12));
    }
}
