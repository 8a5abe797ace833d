//! Validation cases: every field rule of every type, on create and update, under every media
//! version; valid bodies accepted with their defaults returned; malformed, non-object, wrongly
//! typed and oversized bodies refused; the request `Content-Type` enforced.

use serde_json::{json, Map, Value};

use super::values::{self, Fill};
use super::{refused, Body, Case, Category, Ctx};
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
    out.push(super::accepted(
        cx,
        version,
        ty,
        kind,
        &sc,
        Category::Validation,
        title,
        body,
        old,
        |r| r,
    ));
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

/// A validation case whose `kind` request carries `body` and must be refused as `situation`
/// (about `field`), leaving `ty` as it was: configured first for an update, absent for a create.
#[allow(clippy::too_many_arguments)]
fn refuse_body(
    cx: &Ctx<'_>,
    version: &Version,
    ty: &IntegrationType,
    kind: OperationKind,
    out: &mut Vec<Case>,
    rest: &str,
    title: String,
    body: Map<String, Value>,
    situation: Situation,
    field: Option<String>,
) {
    let Some(rule) = cx.rule(kind, situation) else {
        return;
    };
    let scenario = cx.type_scenario(version, ty, rest);
    let request = cx
        .request(kind, version, Some(&ty.name))
        .with_body(Body::Json(Value::Object(body)));
    let pre = kind == OperationKind::Update;
    let category = Category::Validation;
    out.push(refused(
        cx, version, ty, kind, &scenario, category, title, request, rule, field, pre,
    ));
}

fn field_rules(
    cx: &Ctx<'_>,
    version: &Version,
    ty: &IntegrationType,
    kind: OperationKind,
    out: &mut Vec<Case>,
) {
    let refuse = |out: &mut Vec<Case>,
                  rest: String,
                  title: String,
                  body: Map<String, Value>,
                  situation: Situation,
                  field: Option<String>| {
        refuse_body(
            cx, version, ty, kind, out, &rest, title, body, situation, field,
        );
    };
    let seed = cx.id(kind, &cx.type_scenario(version, ty, "rules"));
    let base = base_body(ty, &seed);

    for field in ty.settable_fields() {
        let name = &field.name;
        if field.required {
            let mut body = base.clone();
            body.remove(name);
            refuse(
                out,
                format!("missing-{name}"),
                format!("required field {name} missing"),
                body,
                Situation::RequiredMissing,
                Some(name.clone()),
            );
            let mut body = base.clone();
            body.insert(name.clone(), Value::Null);
            refuse(
                out,
                format!("null-{name}"),
                format!("required field {name} sent as null"),
                body,
                Situation::RequiredMissing,
                Some(name.clone()),
            );
        }
        let mut body = base.clone();
        body.insert(name.clone(), values::wrong_type(field));
        refuse(
            out,
            format!("wrong-type-{name}"),
            format!("field {name} with the wrong JSON type"),
            body,
            Situation::WrongJsonType,
            Some(name.clone()),
        );

        if !field.enum_values.is_empty() {
            let mut body = base.clone();
            body.insert(name.clone(), json!(values::outside_enum(field)));
            values::satisfy_conditionals(ty, &mut body, &seed, Fill::Minimal);
            refuse(
                out,
                format!("enum-{name}-outside"),
                format!("enum field {name} outside its set"),
                body,
                Situation::EnumInvalid,
                Some(name.clone()),
            );
            let mut body = base.clone();
            body.insert(name.clone(), json!(""));
            refuse(
                out,
                format!("enum-{name}-empty"),
                format!("enum field {name} empty"),
                body,
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
        // A URL's scheme compares case-insensitively (contract section 9): the upper-case form
        // breaks the spec's regex stand-in, not the rule.
        let is_url = field.format.as_deref() == Some("uri");
        for (label, broken) in values::pattern_breakers(field, &valid)
            .into_iter()
            .filter(|(label, _)| !(is_url && *label == "upper-case"))
        {
            let mut body = base.clone();
            body.insert(name.clone(), json!(broken));
            refuse(
                out,
                format!("pattern-{name}-{label}"),
                format!("field {name} breaks its pattern ({label}, same length)"),
                body,
                Situation::InvalidSettings,
                Some(name.clone()),
            );
        }
        if let Some(max) = field.max_length {
            let mut body = base.clone();
            body.insert(name.clone(), json!("a".repeat(max + 1)));
            refuse(
                out,
                format!("too-long-{name}"),
                format!("field {name} one character over its maximum length {max}"),
                body,
                Situation::InvalidSettings,
                Some(name.clone()),
            );
        }
        if field.required && field.min_length.unwrap_or(0) >= 1 && field.pattern.is_none() {
            let mut body = base.clone();
            body.insert(name.clone(), json!(""));
            refuse(
                out,
                format!("empty-{name}"),
                format!("required field {name} empty"),
                body,
                Situation::InvalidSettings,
                Some(name.clone()),
            );
        }
    }
    for rule in &ty.conditional_required {
        for then in &rule.then_required {
            let mut body = base.clone();
            body.insert(rule.when_field.clone(), rule.equals.clone());
            body.remove(then);
            let value = rule
                .equals
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| rule.equals.to_string());
            refuse(
                out,
                format!("{}-{value}-without-{then}", rule.when_field),
                format!("{} = {value} without {then}", rule.when_field),
                body,
                Situation::InvalidSettings,
                Some(then.clone()),
            );
        }
    }
    // Unknown attributes: made up, from another type, from another version or family.
    let mut body = base.clone();
    body.insert(MADE_UP.to_owned(), json!("x"));
    refuse(
        out,
        format!("unknown-{MADE_UP}"),
        "a made-up attribute".into(),
        body,
        Situation::UnknownAttribute,
        Some(MADE_UP.to_owned()),
    );
    for field in foreign_fields(cx, version, ty) {
        if field.read_only {
            // A server-assigned field is refused as unknown in families that lack it; its
            // value's type matters only where it exists (see read_only_fields).
        }
        let mut body = base.clone();
        let value = if field.read_only {
            json!("5d791c84ff7a2522cc4f9aa1")
        } else {
            values::valid_value(field, &seed, Fill::Minimal)
        };
        body.insert(field.name.clone(), value);
        refuse(
            out,
            format!("unknown-{}", field.name),
            format!(
                "attribute {} belongs to another type, version or family",
                field.name
            ),
            body,
            Situation::UnknownAttribute,
            Some(field.name.clone()),
        );
    }
    // The discriminator.
    let disc = ty.discriminator().name.clone();
    let mut body = base.clone();
    body.remove(&disc);
    refuse(
        out,
        format!("{disc}-missing"),
        format!("body without {disc}"),
        body,
        Situation::TypeMissing,
        Some(disc.clone()),
    );
    if let Some(other) = version.types.iter().find(|t| t.name != ty.name) {
        let mut body = values::valid_body(other, &seed, Fill::Minimal);
        body.insert(disc.clone(), json!(other.name));
        refuse(
            out,
            format!("{disc}-differs-from-path"),
            format!("body {disc} {} on the {} path", other.name, ty.name),
            body,
            Situation::TypeMismatch,
            Some(disc.clone()),
        );
    }
}

/// Bodies that are not a valid JSON object, content types, size: once per operation.
fn body_shape(
    cx: &Ctx<'_>,
    version: &Version,
    ty: &IntegrationType,
    kind: OperationKind,
    out: &mut Vec<Case>,
) {
    let pre = kind == OperationKind::Update;
    let valid = Value::Object(base_body(ty, &cx.id(kind, "body-shape")));
    let shapes: Vec<(&str, &str, Body, Situation)> = vec![
        (
            "malformed-json",
            "a body that is not JSON",
            Body::Raw(format!("{{\"{}\": ", ty.discriminator().name)),
            Situation::MalformedJson,
        ),
        (
            "empty-body",
            "an empty body",
            Body::Raw(String::new()),
            Situation::MalformedJson,
        ),
        (
            "nan-literal",
            "a body with a NaN literal",
            Body::Raw(format!("{{\"{}\": NaN}}", ty.discriminator().name)),
            Situation::MalformedJson,
        ),
        (
            "array-body",
            "a JSON array instead of an object",
            Body::Json(json!([valid.clone()])),
            Situation::BodyNotObject,
        ),
        (
            "string-body",
            "a JSON string instead of an object",
            Body::Json(json!("text")),
            Situation::BodyNotObject,
        ),
        (
            "payload-too-large",
            "a body over the size limit",
            Body::Oversized(1024 * 1024 + 512),
            Situation::PayloadTooLarge,
        ),
    ];
    for (name, title, body, situation) in shapes {
        let Some(rule) = cx.rule(kind, situation) else {
            continue;
        };
        let request = cx.request(kind, version, Some(&ty.name)).with_body(body);
        out.push(refused(
            cx,
            version,
            ty,
            kind,
            &cx.vs(version, name),
            Category::Validation,
            title.into(),
            request,
            rule,
            None,
            pre,
        ));
    }
    if let Some(rule) = cx.rule(kind, Situation::UnsupportedMediaType) {
        for (name, ct) in [
            ("content-type-text-plain", Some("text/plain")),
            ("content-type-missing", None),
        ] {
            let request = cx
                .request(kind, version, Some(&ty.name))
                .with_body(Body::Json(valid.clone()))
                .with_content_type(ct);
            out.push(refused(
                cx,
                version,
                ty,
                kind,
                &cx.vs(version, name),
                Category::Validation,
                format!("request Content-Type {}", ct.unwrap_or("absent")),
                request,
                rule.clone(),
                None,
                pre,
            ));
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
        let case = super::accepted(
            cx,
            version,
            ty,
            kind,
            &sc,
            Category::Validation,
            title,
            body,
            None,
            |r| r,
        );
        out.push(case);
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
            out.push(super::accepted(
                cx,
                version,
                ty,
                kind,
                &sc,
                Category::Validation,
                title,
                body,
                None,
                |r| r,
            ));
        }
        let rest = format!("{}-wrong-type", field.name);
        let mut body = base_body(ty, &cx.id(kind, &cx.type_scenario(version, ty, &rest)));
        body.insert(field.name.clone(), json!(5));
        let title = format!("server-assigned {} sent as a number", field.name);
        let field = Some(field.name.clone());
        refuse_body(
            cx,
            version,
            ty,
            kind,
            out,
            &rest,
            title,
            body,
            Situation::WrongJsonType,
            field,
        );
    }
}
