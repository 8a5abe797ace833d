//! Round trips that change everything (issue 12): an update that gives every field a new value
//! (URLs and enums included) and a get that shows each; an update that sends back the masked
//! values a get showed (an ordinary new value, section 4); optional fields sent as `null` (not
//! sent: kept by a merge, dropped by a replace) and as `""` (stored) in an update (section 8);
//! values written under one media version and read under another, defaults included; and a
//! delete of a deleted type (section 5).

use serde_json::{json, Map, Value};

use super::values::{self, Fill};
use super::{
    setup_create, verify_state, Baseline, BaselineState, Case, CaseBuilder, Category, Ctx, Expect,
    Role, Subject, View,
};
use crate::model::{
    Field, FieldKind, IntegrationType, OperationKind, SecretKind, Situation, Version,
};

pub(super) fn generate(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    for version in &cx.family.versions {
        for ty in &version.types {
            every_field_changes(cx, version, ty, out);
            masked_sent_back(cx, version, ty, out);
            short_url_masks_sent_back(cx, version, ty, out);
            optional_in_update(cx, version, ty, out);
        }
        delete_twice(cx, version, out);
    }
    across_versions(cx, out);
}

/// A valid value of `field` other than `old`, if the field's rules allow one.
fn other_value(field: &Field, old: Option<&Value>, seed: &str) -> Option<Value> {
    let candidate = match field.kind {
        FieldKind::Boolean => json!(!old.and_then(Value::as_bool).unwrap_or(false)),
        FieldKind::String if !field.enum_values.is_empty() => {
            let member = field
                .enum_values
                .iter()
                .find(|m| Some(m.as_str()) != old.and_then(Value::as_str))?;
            json!(member)
        }
        FieldKind::String => {
            let fresh = values::valid_value(field, seed, Fill::Minimal);
            if Some(&fresh) != old {
                fresh
            } else {
                values::valid_value(field, seed, Fill::Alternate)
            }
        }
        FieldKind::Integer | FieldKind::Number => {
            json!(old.and_then(Value::as_i64).unwrap_or(0) + 1)
        }
    };
    (Some(&candidate) != old).then_some(candidate)
}

/// An update that sends a new value for every settable field, then a get that shows each.
fn every_field_changes(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, out: &mut Vec<Case>) {
    let kind = OperationKind::Update;
    let s = cx.type_scenario(version, ty, "update-changes-every-field");
    let id = cx.id(kind, &s);
    let old = values::valid_body(ty, &format!("{id}#old"), Fill::Full);
    let mut sent = Map::new();
    for field in &ty.fields {
        if field.discriminator {
            sent.insert(field.name.clone(), json!(ty.name));
            continue;
        }
        if !field.settable() {
            continue;
        }
        if let Some(v) = other_value(field, old.get(&field.name), &format!("{id}#new")) {
            sent.insert(field.name.clone(), v);
        }
    }
    values::satisfy_conditionals(ty, &mut sent, &format!("{id}#new"), Fill::Full);
    let changed: Vec<&str> = ty
        .settable_fields()
        .filter(|f| {
            sent.get(&f.name)
                .is_some_and(|v| old.get(&f.name) != Some(v))
        })
        .map(|f| f.name.as_str())
        .collect();
    if changed.is_empty() {
        return;
    }
    let title = format!(
        "an update that changes every field of {} ({}) shows each new value",
        ty.name,
        changed.join(", ")
    );
    out.push(
        Subject::new(cx, version, ty, kind)
            .case(&s, Category::State, title)
            .accepts(sent, Some(old), |r| r),
    );
}

/// An update that sends back the masked values a get showed: each is an ordinary new value,
/// stored as sent, so the next get masks the masked string.
fn masked_sent_back(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, out: &mut Vec<Case>) {
    let masked_fields: Vec<&Field> = ty
        .settable_fields()
        .filter(|f| matches!(f.secret, Some(SecretKind::MaskLast4 | SecretKind::MaskUrl)))
        .collect();
    if masked_fields.is_empty() {
        return;
    }
    let kind = OperationKind::Update;
    let s = cx.type_scenario(version, ty, "update-sends-back-masked-values");
    let id = cx.id(kind, &s);
    let old = values::valid_body(ty, &format!("{id}#old"), Fill::Full);
    let mut sent = old.clone();
    let mut masks = Vec::new();
    for f in &masked_fields {
        let (Some(kind), Some(v)) = (f.secret, old.get(&f.name).and_then(Value::as_str)) else {
            continue;
        };
        if let Some(m) = values::mask(kind, v) {
            sent.insert(f.name.clone(), json!(m));
            masks.push(m);
        }
    }
    let names: Vec<&str> = masked_fields.iter().map(|f| f.name.as_str()).collect();
    let title = format!(
        "an update that sends back the masks of {} stores them as new values",
        names.join(", ")
    );
    let mut case = Subject::new(cx, version, ty, kind)
        .case(&s, Category::State, title)
        .accepts(sent, Some(old), |r| r);
    // A mask sent back is no secret: it is what every answer shows.
    case.secrets.retain(|s| !masks.contains(s));
    out.push(case);
}

/// Url-secrets whose mask is not its own fixed point: no path, or four characters or fewer
/// after the host (with or without a port), whose mask ends in `****`. Sent back in an update,
/// such a mask is a new value whose own mask differs, so a target that keeps the old value
/// instead ("the mask means unchanged") shows the old mask and is caught (section 4: a masked
/// value sent back is an ordinary new value).
const SHORT_URLS: [(&str, &str); 4] = [
    ("without-path", "https://hooks.example.com"),
    ("slash-only", "https://hooks.example.com/"),
    (
        "three-characters-after-host",
        "https://hooks.example.com/ab",
    ),
    ("port-and-short-path", "https://hooks.example.com:8443/x"),
];

fn short_url_masks_sent_back(
    cx: &Ctx<'_>,
    version: &Version,
    ty: &IntegrationType,
    out: &mut Vec<Case>,
) {
    let kind = OperationKind::Update;
    for field in ty
        .settable_fields()
        .filter(|f| f.secret == Some(SecretKind::MaskUrl))
    {
        for (shape, url) in SHORT_URLS {
            let mask = values::mask(SecretKind::MaskUrl, url).unwrap_or_default();
            if values::mask(SecretKind::MaskUrl, &mask).as_deref() == Some(mask.as_str()) {
                continue; // a fixed point: keeping the old value would look the same
            }
            let s = cx.type_scenario(
                version,
                ty,
                &format!("{}-{shape}-mask-sent-back", super::kebab(&field.name)),
            );
            let id = cx.id(kind, &s);
            let mut old = values::valid_body(ty, &format!("{id}#old"), Fill::Full);
            old.insert(field.name.clone(), json!(url));
            let mut sent = old.clone();
            sent.insert(field.name.clone(), json!(mask));
            let title = format!(
                "{}'s mask sent back in an update ({shape}) is stored as a new value, not read as unchanged",
                field.name
            );
            let mut case = Subject::new(cx, version, ty, kind)
                .case(&s, Category::State, title)
                .accepts(sent, Some(old), |r| r);
            // The mask is what every answer shows, and a url it shows whole (no path) is no
            // secret either: only what a mask hides is scanned for.
            case.secrets
                .retain(|s| !values::shown_by_its_mask(SecretKind::MaskUrl, s));
            out.push(case);
        }
    }
}

/// Optional fields in an update: `null` is not sent (a merge keeps the stored value, a replace
/// drops it), `""` is stored as sent.
fn optional_in_update(cx: &Ctx<'_>, version: &Version, ty: &IntegrationType, out: &mut Vec<Case>) {
    let kind = OperationKind::Update;
    let free_text = |f: &Field| {
        f.kind == FieldKind::String
            && f.enum_values.is_empty()
            && f.pattern.is_none()
            && f.min_length.unwrap_or(0) == 0
    };
    let merge = cx.op(kind).update.is_some_and(|u| u.merge);
    for field in ty.settable_fields().filter(|f| !f.required) {
        let mut picks = vec![(
            "null",
            Value::Null,
            if merge {
                "keeps the stored value"
            } else {
                "drops the stored value"
            },
        )];
        if free_text(field) {
            picks.push(("empty", json!(""), "is stored as sent"));
        }
        for (label, value, outcome) in picks {
            let s = cx.type_scenario(
                version,
                ty,
                &format!("update-{label}-optional-{}", field.name),
            );
            let id = cx.id(kind, &s);
            let old = values::valid_body(ty, &format!("{id}#old"), Fill::Full);
            let mut sent = values::valid_body(ty, &format!("{id}#new"), Fill::Minimal);
            sent.insert(field.name.clone(), value);
            let title = format!("{} sent as {label} in an update {outcome}", field.name);
            out.push(
                Subject::new(cx, version, ty, kind)
                    .case(&s, Category::State, title)
                    .accepts(sent, Some(old), |r| r),
            );
        }
    }
}

/// A second delete of the same type finds nothing: 204, then 404 INTEGRATION_NOT_CONFIGURED.
fn delete_twice(cx: &Ctx<'_>, version: &Version, out: &mut Vec<Case>) {
    let kind = OperationKind::Delete;
    let Some(rule) = cx.rule(kind, Situation::NotConfigured) else {
        return;
    };
    let Some(ty) = version.types.first() else {
        return;
    };
    let s = cx.vs(version, "delete-twice");
    let id = cx.id(kind, &s);
    let (setup, body) = setup_create(cx, version, ty, Fill::Full);
    let delete = cx.request(kind, version, Some(&ty.name));
    let verify = verify_state(cx, version, ty, None);
    // The second delete with the type configured again succeeds: the first delete is the fault.
    let baseline = Baseline::new(delete.clone(), format!("{} deleted already", ty.name)).state(
        BaselineState::SetupAdded(vec![super::configure(
            cx,
            version,
            ty,
            &format!("{id}#baseline"),
        )]),
    );
    let b = CaseBuilder::new(cx, kind, &s, Category::State)
        .title(format!(
            "a second delete of {} answers 404 INTEGRATION_NOT_CONFIGURED",
            ty.name
        ))
        .touches(&ty.name)
        .secrets(values::secrets_of(ty, &body))
        .step(setup.role, setup.request, setup.expect)
        .step(
            Role::Setup,
            delete.clone(),
            vec![
                Expect::Status {
                    status: cx.op(kind).success_status,
                },
                Expect::Empty,
            ],
        )
        .step(
            Role::Test,
            delete,
            vec![Expect::Error { rule, field: None }],
        )
        .step(verify.role, verify.request, verify.expect);
    out.push(b.build(cx).derived(baseline));
}

/// Every type written with only its required fields under one version and read under another:
/// the defaults of the reading version's fields show (`versions.rs` has the full bodies of the
/// types whose fields differ).
fn across_versions(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    for written in &cx.family.versions {
        for read in cx.family.versions.iter().filter(|v| v.name != written.name) {
            for wty in &written.types {
                let Some(rty) = read.integration_type(&wty.name) else {
                    continue;
                };
                let kind = OperationKind::Get;
                let s = format!(
                    "{}-minimal-written-under-v{}-read-under-v{}",
                    wty.name.to_lowercase().replace('_', "-"),
                    written.label(),
                    read.label()
                );
                let (setup, stored) = setup_create(cx, written, wty, Fill::Minimal);
                let view = View {
                    type_name: rty.name.clone(),
                    object: values::view(rty, &stored),
                };
                out.push(
                    CaseBuilder::new(cx, kind, &s, Category::Versions)
                        .title(format!(
                            "{} written under {} reads under {} with that version's defaults",
                            wty.name,
                            written.label(),
                            read.label()
                        ))
                        .touches(&wty.name)
                        .secrets(values::secrets_of(wty, &stored))
                        .step(setup.role, setup.request, setup.expect)
                        .step(
                            Role::Test,
                            cx.request(kind, read, Some(&rty.name)),
                            vec![
                                Expect::Status {
                                    status: cx.op(kind).success_status,
                                },
                                Expect::Single { view },
                            ],
                        )
                        .build(cx),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(kind: FieldKind, enum_values: &[&str]) -> Field {
        Field {
            name: "f".into(),
            kind,
            required: false,
            nullable: false,
            read_only: false,
            write_only: false,
            discriminator: false,
            enum_values: enum_values.iter().map(|s| (*s).to_owned()).collect(),
            pattern: None,
            min_length: None,
            max_length: None,
            format: None,
            default: None,
            example: None,
            secret: None,
            rule: None,
        }
    }

    #[test]
    fn other_values_differ_from_the_old_ones() {
        let b = field(FieldKind::Boolean, &[]);
        assert_eq!(other_value(&b, Some(&json!(true)), "s"), Some(json!(false)));
        let e = field(FieldKind::String, &["US", "EU"]);
        assert_eq!(other_value(&e, Some(&json!("US")), "s"), Some(json!("EU")));
        let one = field(FieldKind::String, &["ONLY"]);
        assert_eq!(other_value(&one, Some(&json!("ONLY")), "s"), None);
        let t = field(FieldKind::String, &[]);
        let new = other_value(&t, Some(&json!("old")), "s").unwrap();
        assert_ne!(new, json!("old"));
    }
}
