//! Validation cases: every field rule of every type, on create and update, under every media
//! version; valid bodies accepted with their defaults returned; malformed, non-object, wrongly
//! typed and oversized bodies refused; the request `Content-Type` enforced.

use serde_json::{json, Map, Value};

use super::values::{self, Fill};
use super::{rules, Baseline, Body, Case, Category, Ctx};
use crate::model::{Field, IntegrationType, OperationKind, Situation, Version};

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

/// The body rules of one type under one operation: every field's own rules, the conditional
/// requirements, unknown attributes and the discriminator.
fn field_rules(
    cx: &Ctx<'_>,
    version: &Version,
    ty: &IntegrationType,
    kind: OperationKind,
    out: &mut Vec<Case>,
) {
    let seed = cx.id(kind, &cx.type_scenario(version, ty, "rules"));
    let base = base_body(ty, &seed);
    let r = Rules {
        cx,
        version,
        ty,
        kind,
        seed,
        base,
    };
    for field in ty.settable_fields() {
        presence_and_type(&r, field, out);
        if !field.enum_values.is_empty() {
            enum_values(&r, field, out);
            continue;
        }
        if field.kind == crate::model::FieldKind::String {
            string_rules(&r, field, out);
        }
    }
    conditionals(&r, out);
    unknown_attributes(&r, out);
    discriminator(&r, out);
}

/// One type under one operation, with the valid body every negative changes in one thing.
struct Rules<'c, 'a> {
    cx: &'c Ctx<'a>,
    version: &'a Version,
    ty: &'a IntegrationType,
    kind: OperationKind,
    seed: String,
    base: Map<String, Value>,
}

/// A negative body: its scenario and title, the body with what changed, the situation it
/// provokes and the field the error names.
struct Refusal {
    rest: String,
    title: String,
    change: (Map<String, Value>, String),
    situation: Situation,
    field: Option<String>,
}

impl Rules<'_, '_> {
    /// The case for a negative body whose baseline is the valid body.
    fn refuse(&self, out: &mut Vec<Case>, r: Refusal) {
        let (body, mutation) = r.change;
        let neg = Negative {
            rest: r.rest,
            title: r.title,
            baseline: self.base.clone(),
            body,
            mutation,
            situation: r.situation,
            field: r.field,
        };
        refuse_body(self.cx, self.version, self.ty, self.kind, out, neg);
    }

    fn set(&self, field: &str, value: Value) -> (Map<String, Value>, String) {
        Negative::set(&self.base, field, value)
    }
}

/// A required field missing or null; any field with the wrong JSON type.
fn presence_and_type(r: &Rules<'_, '_>, field: &Field, out: &mut Vec<Case>) {
    let name = &field.name;
    if field.required {
        r.refuse(
            out,
            Refusal {
                rest: format!("missing-{name}"),
                title: format!("required field {name} missing"),
                change: Negative::without(&r.base, name),
                situation: Situation::RequiredMissing,
                field: Some(name.clone()),
            },
        );
        r.refuse(
            out,
            Refusal {
                rest: format!("null-{name}"),
                title: format!("required field {name} sent as null"),
                change: r.set(name, Value::Null),
                situation: Situation::RequiredMissing,
                field: Some(name.clone()),
            },
        );
    }
    r.refuse(
        out,
        Refusal {
            rest: format!("wrong-type-{name}"),
            title: format!("field {name} with the wrong JSON type"),
            change: r.set(name, values::wrong_type(field)),
            situation: Situation::WrongJsonType,
            field: Some(name.clone()),
        },
    );
}

/// An enum field outside its set, and empty.
fn enum_values(r: &Rules<'_, '_>, field: &Field, out: &mut Vec<Case>) {
    let name = &field.name;
    r.refuse(
        out,
        Refusal {
            rest: format!("enum-{name}-outside"),
            title: format!("enum field {name} outside its set"),
            change: r.set(name, json!(values::outside_enum(field))),
            situation: Situation::EnumInvalid,
            field: Some(name.clone()),
        },
    );
    r.refuse(
        out,
        Refusal {
            rest: format!("enum-{name}-empty"),
            title: format!("enum field {name} empty"),
            change: r.set(name, json!("")),
            situation: Situation::EnumInvalid,
            field: Some(name.clone()),
        },
    );
}

/// A string field that breaks its rule (or, without one, its pattern), is one character too
/// long, or is empty where it is required.
fn string_rules(r: &Rules<'_, '_>, field: &Field, out: &mut Vec<Case>) {
    let name = &field.name;
    let valid = values::valid_value(field, &r.seed, Fill::Minimal);
    let valid = valid.as_str().unwrap_or_default().to_owned();
    match field.rule {
        // The contract states the rule in words; its pattern only approximates it, so the
        // breakers come from the rule.
        Some(rule) => {
            for (label, broken) in rules::breakers(rule, &valid) {
                let (body, _) = r.set(name, json!(broken));
                r.refuse(
                    out,
                    Refusal {
                        rest: format!("rule-{name}-{label}"),
                        title: format!("field {name} is not {} ({label})", rule.as_str()),
                        change: (body, format!("body {name}: {label} ({})", rule.as_str())),
                        situation: Situation::InvalidSettings,
                        field: Some(name.clone()),
                    },
                );
            }
        }
        None => {
            for (label, broken) in values::pattern_breakers(field, &valid) {
                r.refuse(
                    out,
                    Refusal {
                        rest: format!("pattern-{name}-{label}"),
                        title: format!("field {name} breaks its pattern ({label}, same length)"),
                        change: r.set(name, json!(broken)),
                        situation: Situation::InvalidSettings,
                        field: Some(name.clone()),
                    },
                );
            }
        }
    }
    if let Some(max) = field.max_length {
        r.refuse(
            out,
            Refusal {
                rest: format!("too-long-{name}"),
                title: format!("field {name} one character over its maximum length {max}"),
                change: r.set(name, json!("a".repeat(max + 1))),
                situation: Situation::InvalidSettings,
                field: Some(name.clone()),
            },
        );
    }
    if field.required && field.min_length.unwrap_or(0) >= 1 && field.pattern.is_none() {
        r.refuse(
            out,
            Refusal {
                rest: format!("empty-{name}"),
                title: format!("required field {name} empty"),
                change: r.set(name, json!("")),
                situation: Situation::InvalidSettings,
                field: Some(name.clone()),
            },
        );
    }
}

/// A field another field's value requires, left out.
fn conditionals(r: &Rules<'_, '_>, out: &mut Vec<Case>) {
    let ty = r.ty;
    for rule in &ty.conditional_required {
        // The baseline satisfies the condition (and so carries what it requires); the
        // negative drops one required field.
        let mut satisfied = r.base.clone();
        satisfied.insert(rule.when_field.clone(), rule.equals.clone());
        values::satisfy_conditionals(ty, &mut satisfied, &r.seed, Fill::Minimal);
        for then in &rule.then_required {
            let value = rule
                .equals
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| rule.equals.to_string());
            let (body, mutation) = Negative::without(&satisfied, then);
            refuse_body(
                r.cx,
                r.version,
                ty,
                r.kind,
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
}

/// Unknown attributes: made up, from another type, from another version or family.
fn unknown_attributes(r: &Rules<'_, '_>, out: &mut Vec<Case>) {
    r.refuse(
        out,
        Refusal {
            rest: format!("unknown-{MADE_UP}"),
            title: "a made-up attribute".into(),
            change: r.set(MADE_UP, json!("x")),
            situation: Situation::UnknownAttribute,
            field: Some(MADE_UP.to_owned()),
        },
    );
    for field in foreign_fields(r.cx, r.version, r.ty) {
        // A server-assigned field is refused as unknown in families that lack it; its value's
        // type matters only where it exists (see read_only_fields).
        let value = if field.read_only {
            json!("5d791c84ff7a2522cc4f9aa1")
        } else {
            values::valid_value(field, &r.seed, Fill::Minimal)
        };
        r.refuse(
            out,
            Refusal {
                rest: format!("unknown-{}", field.name),
                title: format!(
                    "attribute {} belongs to another type, version or family",
                    field.name
                ),
                change: r.set(&field.name, value),
                situation: Situation::UnknownAttribute,
                field: Some(field.name.clone()),
            },
        );
    }
}

/// The discriminator missing, and naming another type than the path.
fn discriminator(r: &Rules<'_, '_>, out: &mut Vec<Case>) {
    let disc = r.ty.discriminator().name.clone();
    r.refuse(
        out,
        Refusal {
            rest: format!("{disc}-missing"),
            title: format!("body without {disc}"),
            change: Negative::without(&r.base, &disc),
            situation: Situation::TypeMissing,
            field: Some(disc.clone()),
        },
    );
    // This type's own body with only the discriminator changed: another type's fields would be
    // a second fault (unknown attributes).
    if let Some(other) = r.version.types.iter().find(|t| t.name != r.ty.name) {
        r.refuse(
            out,
            Refusal {
                rest: format!("{disc}-differs-from-path"),
                title: format!("body {disc} {} on the {} path", other.name, r.ty.name),
                change: r.set(&disc, json!(other.name)),
                situation: Situation::TypeMismatch,
                field: Some(disc.clone()),
            },
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
