//! Character cases (contract section 9): lengths count Unicode characters, not bytes, in masks
//! and in length rules; the url-secret mask starts what followed the host at the `/` after
//! `host[:port]` and never shows user info.
//!
//! Non-ASCII secrets wrap a canary (see [`values::canary`]), which the case also declares a
//! secret, so the leak check still finds the value even if a target escapes the non-ASCII part.

use serde_json::{json, Map, Value};

use super::values::{self, Fill};
use super::{Body, Case, Category, Ctx, Role};
use crate::model::{
    Field, FieldKind, IntegrationType, OperationKind, SecretKind, Situation, Version,
};

/// Multi-byte characters of the Basic Multilingual Plane: each is one character (and one UTF-16
/// unit) but two or three UTF-8 bytes.
const WIDE: &[char] = &['ä', 'ö', 'ü', 'ñ', 'é', '日', '本', '語', '€', 'ß'];

pub(super) fn generate(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    let version = cx.default_version();
    non_ascii_secrets(cx, version, out);
    url_boundaries(cx, version, out);
    for version in &cx.family.versions {
        non_ascii_lengths(cx, version, out);
    }
}

/// The first settable secret field of `kind`, with its type, whose rule the values here keep:
/// no pattern, or a URL field (judged by the URL rule, its pattern a stand-in).
fn secret_field(version: &Version, kind: SecretKind) -> Option<(&IntegrationType, &Field)> {
    version.types.iter().find_map(|t| {
        t.secret_fields()
            .find(|f| {
                f.secret == Some(kind)
                    && f.settable()
                    && (f.pattern.is_none() || f.format.as_deref() == Some("uri"))
            })
            .map(|f| (t, f))
    })
}

/// A create whose `field` carries `value`, accepted: the create list and get show the mask.
fn accepted_secret(
    cx: &Ctx<'_>,
    version: &Version,
    (ty, field): (&IntegrationType, &Field),
    scenario: &str,
    title: String,
    value: impl FnOnce(&str) -> (String, Vec<String>),
) -> Case {
    let kind = OperationKind::Create;
    let id = cx.id(kind, scenario);
    let (value, extra_secrets) = value(&id);
    let mut body = values::valid_body(ty, &id, Fill::Minimal);
    body.insert(field.name.clone(), json!(value));
    values::satisfy_conditionals(ty, &mut body, &id, Fill::Minimal);
    let masked = super::masked(ty, &body);
    let mut case = super::Subject::new(cx, version, ty, kind)
        .case(scenario, Category::Redaction, title)
        .accepts(body, None, |r| r);
    for step in case
        .steps
        .iter_mut()
        .filter(|s| matches!(s.role, Role::Test | Role::Verify))
    {
        step.expect.push(masked.clone());
    }
    for s in extra_secrets {
        if !case.secrets.contains(&s) {
            case.secrets.push(s);
        }
    }
    case
}

/// A secret and a URL secret with non-ASCII characters come back masked by characters.
fn non_ascii_secrets(cx: &Ctx<'_>, version: &Version, out: &mut Vec<Case>) {
    if let Some(found) = secret_field(version, SecretKind::MaskLast4) {
        let s = cx.vs(version, "non-ascii-secret-masked-by-characters");
        let name = found.1.name.clone();
        out.push(accepted_secret(
            cx,
            version,
            found,
            &s,
            format!("a non-ASCII {name} keeps its length in characters when masked"),
            |id| {
                let c = values::canary(id, &name);
                (format!("pässwörd-{c}-ünïcode"), vec![c])
            },
        ));
    }
    if let Some(found) = secret_field(version, SecretKind::MaskUrl) {
        let s = cx.vs(version, "non-ascii-url-secret-masked-by-characters");
        let name = found.1.name.clone();
        out.push(accepted_secret(
            cx,
            version,
            found,
            &s,
            format!("a {name} with a non-ASCII path shows its last four characters"),
            |id| {
                let c = values::canary(id, &name);
                (
                    format!("https://hooks.example.com/sërvïcës/{c}/ünï-cödé"),
                    vec![c],
                )
            },
        ));
    }
}

/// The url-secret boundary: a four-character path is five characters after the host (the `/`
/// counts), so it is shown; user info is dropped from the prefix.
fn url_boundaries(cx: &Ctx<'_>, version: &Version, out: &mut Vec<Case>) {
    let Some(found) = secret_field(version, SecretKind::MaskUrl) else {
        return;
    };
    let name = found.1.name.clone();
    let s = cx.vs(version, "url-secret-four-character-path-shown");
    let n = name.clone();
    out.push(accepted_secret(
        cx,
        version,
        found,
        &s,
        format!("a {name} whose path is / and four characters shows those four"),
        move |id| {
            let c = values::canary(id, &n);
            let tail: String = c.chars().skip(c.len() - 4).collect();
            (format!("https://hooks.example.com/{tail}"), Vec::new())
        },
    ));
    let s = cx.vs(version, "url-secret-user-info-dropped");
    let n = name.clone();
    out.push(accepted_secret(
        cx,
        version,
        found,
        &s,
        format!("a {name} with user info comes back without it"),
        move |id| {
            let user = values::canary(id, &format!("{n}#user"));
            let path = values::canary(id, &n);
            (
                format!("https://hook:{user}@hooks.example.com/services/{path}"),
                vec![user],
            )
        },
    ));
}

/// `n` characters, none of them ASCII.
fn wide(n: usize) -> String {
    WIDE.iter().cycle().take(n).collect()
}

/// A free-text field with a maximum length takes that many multi-byte characters and refuses
/// one more.
fn non_ascii_lengths(cx: &Ctx<'_>, version: &Version, out: &mut Vec<Case>) {
    let kind = OperationKind::Create;
    for ty in &version.types {
        for field in ty.fields.iter().filter(|f| {
            f.settable()
                && f.kind == FieldKind::String
                && f.secret.is_none()
                && f.pattern.is_none()
                && f.enum_values.is_empty()
                && f.format.is_none()
        }) {
            let Some(max) = field.max_length else {
                continue;
            };
            let body_with = |id: &str, value: String| -> Map<String, Value> {
                let mut body = values::valid_body(ty, id, Fill::Minimal);
                body.insert(field.name.clone(), json!(value));
                values::satisfy_conditionals(ty, &mut body, id, Fill::Minimal);
                body
            };
            let s = cx.type_scenario(
                version,
                ty,
                &format!("{}-non-ascii-at-max-length", field.name),
            );
            let body = body_with(&cx.id(kind, &s), wide(max));
            out.push(
                super::Subject::new(cx, version, ty, kind)
                    .case(
                        &s,
                        Category::Validation,
                        format!(
                            "{} of {max} non-ASCII characters ({} bytes) is accepted",
                            field.name,
                            wide(max).len()
                        ),
                    )
                    .accepts(body, None, |r| r),
            );
            let Some(rule) = cx.rule(kind, Situation::InvalidSettings) else {
                continue;
            };
            let s = cx.type_scenario(
                version,
                ty,
                &format!("{}-non-ascii-over-max-length", field.name),
            );
            let id = cx.id(kind, &s);
            let template = cx.request(kind, version, Some(&ty.name));
            // The baseline is the same body at the maximum: only the one extra character differs.
            let baseline = template
                .clone()
                .with_body(Body::Json(Value::Object(body_with(&id, wide(max)))));
            let request =
                template.with_body(Body::Json(Value::Object(body_with(&id, wide(max + 1)))));
            let mutation = format!("body {}: {} non-ASCII characters", field.name, max + 1);
            out.push(
                super::Subject::new(cx, version, ty, kind)
                    .case(
                        &s,
                        Category::Validation,
                        format!(
                            "{} of {} non-ASCII characters is one over its maximum",
                            field.name,
                            max + 1
                        ),
                    )
                    .refuses(request, rule, Some(field.name.clone()), false)
                    .derived(super::Baseline::new(baseline, mutation)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_strings_count_characters_not_bytes() {
        let s = wide(80);
        assert_eq!(s.chars().count(), 80);
        assert!(s.len() > 160);
        assert!(s.chars().all(|c| !c.is_ascii() && (c as u32) < 0x10000));
    }

    #[test]
    fn the_expected_masks_count_characters() {
        assert_eq!(
            values::mask(SecretKind::MaskLast4, "pässwörd-ünïcode").as_deref(),
            Some("************code")
        );
    }
}
