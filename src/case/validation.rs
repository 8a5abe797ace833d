//! Validation cases: every field rule of every type, on create and update, under every media
//! version; valid bodies accepted with their defaults returned; malformed, non-object, wrongly
//! typed and oversized bodies refused; the request `Content-Type` enforced.

use serde_json::{json, Map, Value};

use super::values::{self, Fill};
use super::{rules, Baseline, Body, Case, Category, Ctx};
use crate::model::{IntegrationType, OperationKind, Situation, Version};

/// A made-up attribute no type has.
const MADE_UP: &str = "unexpectedAttribute";

pub(super) fn generate(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    for version in &cx.family.versions {
        for (i, ty) in version.types.iter().enumerate() {
            for kind in [OperationKind::Create, OperationKind::Update] {
                accepted(cx, version, ty, kind, Fill::Minimal, out);
                accepted(cx, version, ty, kind, Fill::Full, out);
                field_rules(cx, version, ty, kind, out);
                if i == 0 {
                    body_shape(cx, version, ty, kind, out);
                }
            }
            optional_values(cx, version, ty, out);
            rule_values(cx, version, ty, out);
            if i == 0 {
                read_only_fields(cx, version, ty, out);
            }
        }
    }
}

/// A valid body of `ty`, the body under test for `kind` (update bodies differ from setup's).
fn base_body(ty: &IntegrationType, seed: &str) -> Map<String, Value> {
    values::valid_body(ty, seed, Fill::Minimal)
}

fn accepted(
    cx: &Ctx<'_>,
    version: &Version,
    ty: &IntegrationType,
    kind: OperationKind,
    fill: Fill,
    out: &mut Vec<Case>,
) {
    let label = if fill == Fill::Full {
        "full"
    } else {
        "minimal"
    };
    let sc = cx.type_scenario(version, ty, &format!("accepts-{label}"));
    let id = cx.id(kind, &sc);
    let old = (kind == OperationKind::Update)
        .then(|| values::valid_body(ty, &format!("{id}#setup"), Fill::Full));
    let title = format!(
        "a valid {label} {} body is accepted and returned masked, with its defaults",
        ty.name
    );
    let body = values::valid_body(ty, &id, fill);
    out.push(
        super::Subject::new(cx, version, ty, kind)
            .case(&sc, Category::Validation, title)
            .accepts(body, old, |r| r),
    );
}

/// Fields that `ty` lacks but that exist elsewhere: in the next type of the same version, and in
/// the same type under the family's other versions and the other families.
fn foreign_fields<'m>(
    cx: &Ctx<'m>,
    version: &'m Version,
    ty: &IntegrationType,
) -> Vec<&'m crate::model::Field> {
    let mut out: Vec<&crate::model::Field> = Vec::new();
    let mut push = |f: &'m crate::model::Field| {
        if ty.field(&f.name).is_none() && !out.iter().any(|o| o.name == f.name) {
            out.push(f);
        }
    };
    let pos = version
        .types
        .iter()
        .position(|t| t.name == ty.name)
        .unwrap_or(0);
    if let Some(next) = version
        .types
        .iter()
        .cycle()
        .skip(pos + 1)
        .take(version.types.len())
        .find(|t| t.name != ty.name)
    {
        if let Some(f) = next.settable_fields().find(|f| ty.field(&f.name).is_none()) {
            push(f);
        }
    }
    for family in &cx.model.families {
        for v in &family.versions {
            if let Some(same) = v.integration_type(&ty.name) {
                for f in same.fields.iter().filter(|f| !f.discriminator) {
                    push(f);
                }
            }
        }
    }
    out
}

/// A negative body: the valid `baseline` body with one mutation, refused as `situation`
/// (about `field`).
struct Negative {
    rest: String,
    title: String,
    baseline: Map<String, Value>,
    body: Map<String, Value>,
    mutation: String,
    situation: Situation,
    field: Option<String>,
}

impl Negative {
    /// `baseline` with `field` set to `value`.
    fn set(
        baseline: &Map<String, Value>,
        field: &str,
        value: Value,
    ) -> (Map<String, Value>, String) {
        let mut body = baseline.clone();
        let label = format!("body {field} = {}", short(&value));
        body.insert(field.to_owned(), value);
        (body, label)
    }

    /// `baseline` without `field`.
    fn without(baseline: &Map<String, Value>, field: &str) -> (Map<String, Value>, String) {
        let mut body = baseline.clone();
        body.remove(field);
        (body, format!("body without {field}"))
    }
}

/// A value as a mutation label shows it: whole, or (long strings) only its length, so that a
/// secret is either shown whole, and replaced by the scrubber like any secret, or not at all.
fn short(v: &Value) -> String {
    match v.as_str() {
        Some(text) if text.chars().count() > 40 => {
            format!("a string of {} characters", text.chars().count())
        }
        _ => v.to_string(),
    }
}

/// A validation case whose `kind` request carries the negative body and must be refused,
/// leaving `ty` as it was: configured first for an update, absent for a create.
fn refuse_body(
    cx: &Ctx<'_>,
    version: &Version,
    ty: &IntegrationType,
    kind: OperationKind,
    out: &mut Vec<Case>,
    neg: Negative,
) {
    let Some(rule) = cx.rule(kind, neg.situation) else {
        return;
    };
    let scenario = cx.type_scenario(version, ty, &neg.rest);
    let template = cx.request(kind, version, Some(&ty.name));
    let baseline = template
        .clone()
        .with_body(Body::Json(Value::Object(neg.baseline)));
    let request = template.with_body(Body::Json(Value::Object(neg.body)));
    let pre = kind == OperationKind::Update;
    let category = Category::Validation;
    out.push(
        super::Subject::new(cx, version, ty, kind)
            .case(&scenario, category, neg.title)
            .refuses(request, rule, neg.field, pre)
            .derived(Baseline::new(baseline, neg.mutation)),
    );
}

fn field_rules(
    cx: &Ctx<'_>,
    version: &Version,
    ty: &IntegrationType,
    kind: OperationKind,
    out: &mut Vec<Case>,
) {
    let seed = cx.id(kind, &cx.type_scenario(version, ty, "rules"));
    let base = base_body(ty, &seed);
    let refuse = |out: &mut Vec<Case>,
                  rest: String,
                  title: String,
                  (body, mutation): (Map<String, Value>, String),
                  situation: Situation,
                  field: Option<String>| {
        let neg = Negative {
            rest,
            title,
            baseline: base.clone(),
            body,
            mutation,
            situation,
            field,
        };
        refuse_body(cx, version, ty, kind, out, neg);
    };

    for field in ty.settable_fields() {
        let name = &field.name;
        if field.required {
            refuse(
                out,
                format!("missing-{name}"),
                format!("required field {name} missing"),
                Negative::without(&base, name),
                Situation::RequiredMissing,
                Some(name.clone()),
            );
            refuse(
                out,
                format!("null-{name}"),
                format!("required field {name} sent as null"),
                Negative::set(&base, name, Value::Null),
                Situation::RequiredMissing,
                Some(name.clone()),
            );
        }
        refuse(
            out,
            format!("wrong-type-{name}"),
            format!("field {name} with the wrong JSON type"),
            Negative::set(&base, name, values::wrong_type(field)),
            Situation::WrongJsonType,
            Some(name.clone()),
        );

        if !field.enum_values.is_empty() {
            refuse(
                out,
                format!("enum-{name}-outside"),
                format!("enum field {name} outside its set"),
                Negative::set(&base, name, json!(values::outside_enum(field))),
                Situation::EnumInvalid,
                Some(name.clone()),
            );
            refuse(
                out,
                format!("enum-{name}-empty"),
                format!("enum field {name} empty"),
                Negative::set(&base, name, json!("")),
                Situation::EnumInvalid,
                Some(name.clone()),
            );
            continue;
        }
        if field.kind != crate::model::FieldKind::String {
            continue;
        }
        let valid = values::valid_value(field, &seed, Fill::Minimal);
        let valid = valid.as_str().unwrap_or_default().to_owned();
        match field.rule {
            // The contract states the rule in words; its pattern only approximates it, so the
            // breakers come from the rule.
            Some(r) => {
                for (label, broken) in rules::breakers(r, &valid) {
                    let (body, _) = Negative::set(&base, name, json!(broken));
                    refuse(
                        out,
                        format!("rule-{name}-{label}"),
                        format!("field {name} is not {} ({label})", r.as_str()),
                        (body, format!("body {name}: {label} ({})", r.as_str())),
                        Situation::InvalidSettings,
                        Some(name.clone()),
                    );
                }
            }
            None => {
                for (label, broken) in values::pattern_breakers(field, &valid) {
                    refuse(
                        out,
                        format!("pattern-{name}-{label}"),
                        format!("field {name} breaks its pattern ({label}, same length)"),
                        Negative::set(&base, name, json!(broken)),
                        Situation::InvalidSettings,
                        Some(name.clone()),
                    );
                }
            }
        }
        if let Some(max) = field.max_length {
            refuse(
                out,
                format!("too-long-{name}"),
                format!("field {name} one character over its maximum length {max}"),
                Negative::set(&base, name, json!("a".repeat(max + 1))),
                Situation::InvalidSettings,
                Some(name.clone()),
            );
        }
        if field.required && field.min_length.unwrap_or(0) >= 1 && field.pattern.is_none() {
            refuse(
                out,
                format!("empty-{name}"),
                format!("required field {name} empty"),
                Negative::set(&base, name, json!("")),
                Situation::InvalidSettings,
                Some(name.clone()),
            );
        }
    }
    for rule in &ty.conditional_required {
        // The baseline satisfies the condition (and so carries what it requires); the
        // negative drops one required field.
        let mut satisfied = base.clone();
        satisfied.insert(rule.when_field.clone(), rule.equals.clone());
        values::satisfy_conditionals(ty, &mut satisfied, &seed, Fill::Minimal);
        for then in &rule.then_required {
            let value = rule
                .equals
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| rule.equals.to_string());
            let (body, mutation) = Negative::without(&satisfied, then);
            refuse_body(
                cx,
                version,
                ty,
                kind,
                out,
                Negative {
                    rest: format!("{}-{value}-without-{then}", rule.when_field),
                    title: format!("{} = {value} without {then}", rule.when_field),
                    baseline: satisfied.clone(),
                    body,
                    mutation,
                    situation: Situation::InvalidSettings,
                    field: Some(then.clone()),
                },
            );
        }
    }
    // Unknown attributes: made up, from another type, from another version or family.
    refuse(
        out,
        format!("unknown-{MADE_UP}"),
        "a made-up attribute".into(),
        Negative::set(&base, MADE_UP, json!("x")),
        Situation::UnknownAttribute,
        Some(MADE_UP.to_owned()),
    );
    for field in foreign_fields(cx, version, ty) {
        // A server-assigned field is refused as unknown in families that lack it; its value's
        // type matters only where it exists (see read_only_fields).
        let value = if field.read_only {
            json!("5d791c84ff7a2522cc4f9aa1")
        } else {
            values::valid_value(field, &seed, Fill::Minimal)
        };
        refuse(
            out,
            format!("unknown-{}", field.name),
            format!(
                "attribute {} belongs to another type, version or family",
                field.name
            ),
            Negative::set(&base, &field.name, value),
            Situation::UnknownAttribute,
            Some(field.name.clone()),
        );
    }
    // The discriminator.
    let disc = ty.discriminator().name.clone();
    refuse(
        out,
        format!("{disc}-missing"),
        format!("body without {disc}"),
        Negative::without(&base, &disc),
        Situation::TypeMissing,
        Some(disc.clone()),
    );
    // This type's own body with only the discriminator changed: another type's fields would be
    // a second fault (unknown attributes).
    if let Some(other) = version.types.iter().find(|t| t.name != ty.name) {
        refuse(
            out,
            format!("{disc}-differs-from-path"),
            format!("body {disc} {} on the {} path", other.name, ty.name),
            Negative::set(&base, &disc, json!(other.name)),
            Situation::TypeMismatch,
            Some(disc.clone()),
        );
    }
}

/// Bodies that are not a valid JSON object, content types, size: once per operation. Each is
/// the valid body (or request) with one thing changed.
fn body_shape(
    cx: &Ctx<'_>,
    version: &Version,
    ty: &IntegrationType,
    kind: OperationKind,
    out: &mut Vec<Case>,
) {
    let pre = kind == OperationKind::Update;
    let valid = base_body(ty, &cx.id(kind, "body-shape"));
    let text = Value::Object(valid.clone()).to_string();
    // One value replaced by the NaN literal: the first field after the discriminator.
    let nan_field = ty
        .settable_fields()
        .find(|f| valid.contains_key(&f.name))
        .map(|f| f.name.clone())
        .unwrap_or_else(|| ty.discriminator().name.clone());
    let nan_text = {
        const MARK: &str = "\u{1}nan\u{1}";
        let mut marked = valid.clone();
        marked.insert(nan_field.clone(), json!(MARK));
        Value::Object(marked)
            .to_string()
            .replace(&Value::String(MARK.into()).to_string(), "NaN")
    };
    let shapes: Vec<(&str, &str, Body, String, Situation)> = vec![
        (
            "malformed-json",
            "a body that is not JSON",
            Body::Raw(text[..text.len() - 1].to_owned()),
            "body text without its closing brace".into(),
            Situation::MalformedJson,
        ),
        (
            "empty-body",
            "an empty body",
            Body::Raw(String::new()),
            "body empty".into(),
            Situation::MalformedJson,
        ),
        (
            "nan-literal",
            "a body with a NaN literal",
            Body::Raw(nan_text),
            format!("body {nan_field} = NaN (a literal JSON does not have)"),
            Situation::MalformedJson,
        ),
        (
            "array-body",
            "a JSON array instead of an object",
            Body::Json(json!([valid.clone()])),
            "body wrapped in an array".into(),
            Situation::BodyNotObject,
        ),
        (
            "string-body",
            "a JSON string instead of an object",
            Body::Json(json!(text.clone())),
            "body sent as a JSON string of its text".into(),
            Situation::BodyNotObject,
        ),
        (
            "payload-too-large",
            "a body over the size limit",
            Body::Oversized {
                value: Value::Object(valid.clone()),
                size: 1024 * 1024 + 512,
            },
            "body padded with whitespace to 1 MiB + 512 bytes".into(),
            Situation::PayloadTooLarge,
        ),
    ];
    let template = cx.request(kind, version, Some(&ty.name));
    let baseline = template
        .clone()
        .with_body(Body::Json(Value::Object(valid.clone())));
    for (name, title, body, mutation, situation) in shapes {
        let Some(rule) = cx.rule(kind, situation) else {
            continue;
        };
        let request = template.clone().with_body(body);
        out.push(
            super::Subject::new(cx, version, ty, kind)
                .case(&cx.vs(version, name), Category::Validation, title)
                .refuses(request, rule, None, pre)
                .derived(Baseline::new(baseline.clone(), mutation)),
        );
    }
    if let Some(rule) = cx.rule(kind, Situation::UnsupportedMediaType) {
        for (name, ct) in [
            ("content-type-text-plain", Some("text/plain")),
            ("content-type-missing", None),
        ] {
            let request = baseline.clone().with_content_type(ct);
            let mutation = format!("Content-Type {}", ct.unwrap_or("absent"));
            out.push(
                super::Subject::new(cx, version, ty, kind)
                    .case(
                        &cx.vs(version, name),
                        Category::Validation,
                        format!("request Content-Type {}", ct.unwrap_or("absent")),
                    )
                    .refuses(request, rule.clone(), None, pre)
                    .derived(Baseline::new(baseline.clone(), mutation)),
            );
        }
    }
}

/// An optional field sent as `null` counts as not sent; an optional free-text field sent as an
/// empty string is stored and returned as sent.
fn optional_values(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, out: &mut Vec<Case>) {
    let free_text = |f: &&crate::model::Field| {
        f.kind == crate::model::FieldKind::String
            && f.enum_values.is_empty()
            && f.pattern.is_none()
            && f.min_length.unwrap_or(0) == 0
    };
    let optional = || ty.settable_fields().filter(|f| !f.required);
    let picks = [
        (
            "null",
            Value::Null,
            optional().next(),
            "is treated as not sent",
        ),
        (
            "empty",
            json!(""),
            optional().find(free_text),
            "is stored as sent",
        ),
    ];
    let kind = OperationKind::Create;
    for (label, value, field, outcome) in picks {
        let Some(field) = field else { continue };
        let sc = cx.type_scenario(version, ty, &format!("{label}-optional-{}", field.name));
        let mut body = base_body(ty, &cx.id(kind, &sc));
        body.insert(field.name.clone(), value);
        let title = format!("optional field {} sent as {label} {outcome}", field.name);
        let case = super::Subject::new(cx, version, ty, kind)
            .case(&sc, Category::Validation, title)
            .accepts(body, None, |r| r);
        out.push(case);
    }
}

/// Values a field's rule allows that a regex stand-in might refuse (an upper-case URL scheme)
/// are accepted, stored and returned (masked as sent, when secret).
fn rule_values(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, out: &mut Vec<Case>) {
    let kind = OperationKind::Create;
    for field in ty.settable_fields() {
        let Some(rule) = field.rule else { continue };
        let sc = cx.type_scenario(version, ty, &format!("rule-{}", field.name));
        let seed = cx.id(kind, &sc);
        let valid = values::valid_value(field, &seed, Fill::Minimal);
        for (label, value) in rules::accepted(rule, valid.as_str().unwrap_or_default()) {
            let sc = cx.type_scenario(version, ty, &format!("rule-{}-{label}", field.name));
            let mut body = base_body(ty, &cx.id(kind, &sc));
            body.insert(field.name.clone(), json!(value));
            // The value itself stays out of the title: it may be a secret.
            let title = format!(
                "field {} is {} ({label}): accepted, stored and returned",
                field.name,
                rule.as_str()
            );
            out.push(
                super::Subject::new(cx, version, ty, kind)
                    .case(&sc, Category::Validation, title)
                    .accepts(body, None, |r| r),
            );
        }
    }
}

/// Server-assigned fields: a string or null in a request is ignored, another JSON type refused.
fn read_only_fields(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, out: &mut Vec<Case>) {
    let kind = OperationKind::Create;
    for field in ty.fields.iter().filter(|f| f.read_only) {
        for (label, value) in [("string", json!("my-own-id")), ("null", Value::Null)] {
            let sc = cx.type_scenario(version, ty, &format!("{}-{label}-ignored", field.name));
            let mut body = base_body(ty, &cx.id(kind, &sc));
            body.insert(field.name.clone(), value);
            let title = format!(
                "server-assigned {} sent as a {label} is ignored",
                field.name
            );
            out.push(
                super::Subject::new(cx, version, ty, kind)
                    .case(&sc, Category::Validation, title)
                    .accepts(body, None, |r| r),
            );
        }
        let rest = format!("{}-wrong-type", field.name);
        let baseline = base_body(ty, &cx.id(kind, &cx.type_scenario(version, ty, &rest)));
        let (body, mutation) = Negative::set(&baseline, &field.name, json!(5));
        let neg = Negative {
            title: format!("server-assigned {} sent as a number", field.name),
            rest,
            baseline,
            body,
            mutation,
            situation: Situation::WrongJsonType,
            field: Some(field.name.clone()),
        };
        refuse_body(cx, version, ty, kind, out, neg);
    }
}
