//! The classes of one field's value, by its JSON type, enum, URL rule, pattern and length.

use serde_json::{json, Value};

use super::fields::is_url;
use crate::case::values::{self, Fill};
use crate::explore::space::{Edit, Kind, Val};
use crate::model::{Field, FieldKind, Situation};

/// Astral-plane characters (two UTF-16 units each).
const ASTRAL: &str = "𝒜😀𠀋🎉";
const ASCII: &str = "abcXYZ019-_.";

type FieldRow = (Kind, String, Edit, &'static str, Option<Situation>);

/// The classes of one settable field's value.
pub(super) fn field_values(field: &Field, conditional: bool) -> Vec<FieldRow> {
    let name = field.name.clone();
    let set = |v: Val| Edit::Set(name.clone(), v);
    let mut rows: Vec<FieldRow> = Vec::new();
    let wrong = Some(Situation::WrongJsonType);
    if field.secret.is_some() {
        let back = Edit::MaskBack(name.clone());
        let label = "its last value's mask sent back".to_owned();
        rows.push((Kind::Repeated, label, back, "4.masked-value-is-new", None));
    }
    rows.push((
        Kind::Malformed,
        "another JSON type".into(),
        set(Val::Json(values::wrong_type(field))),
        "5.invalid-json",
        wrong,
    ));
    if field.kind == FieldKind::String {
        rows.push((
            Kind::Malformed,
            "an array".into(),
            set(Val::Json(json!(["x"]))),
            "5.invalid-json",
            wrong,
        ));
    }
    if field.required {
        let missing = Some(Situation::RequiredMissing);
        rows.push((
            Kind::Absent,
            "left out".into(),
            Edit::Remove(name.clone()),
            "2.required-fields",
            missing,
        ));
        rows.push((
            Kind::Absent,
            "null".into(),
            set(Val::Json(Value::Null)),
            "2.required-fields",
            missing,
        ));
    } else if !conditional {
        rows.push((
            Kind::Absent,
            "left out".into(),
            Edit::Remove(name.clone()),
            "2.defaults-returned",
            None,
        ));
        rows.push((
            Kind::Absent,
            "null".into(),
            set(Val::Json(Value::Null)),
            "8.optional-null",
            None,
        ));
    }
    match field.kind {
        FieldKind::Boolean => {
            rows.push((
                Kind::Valid,
                "true".into(),
                set(Val::Json(json!(true))),
                "2.round-trip",
                None,
            ));
            rows.push((
                Kind::Valid,
                "false".into(),
                set(Val::Json(json!(false))),
                "2.round-trip",
                None,
            ));
            rows.push((
                Kind::Malformed,
                "the string \"true\"".into(),
                set(Val::Json(json!("true"))),
                "5.invalid-json",
                wrong,
            ));
        }
        FieldKind::String if !field.enum_values.is_empty() => rows.extend(enum_values(field)),
        FieldKind::String if is_url(field) => rows.extend(url_values(field, conditional)),
        FieldKind::String if field.pattern.is_some() => rows.extend(pattern_values(field)),
        FieldKind::String => rows.extend(free_values(field, conditional)),
        _ => {}
    }
    rows
}

fn enum_values(field: &Field) -> Vec<FieldRow> {
    let set = |v: &str| Edit::Set(field.name.clone(), Val::Json(json!(v)));
    let bad = Some(Situation::EnumInvalid);
    let mut rows: Vec<FieldRow> = Vec::new();
    for m in &field.enum_values {
        rows.push((
            Kind::Valid,
            m.clone(),
            set(m),
            "2.enum-members-accepted",
            None,
        ));
    }
    let first = field.enum_values[0].as_str();
    for (kind, label, v) in [
        (Kind::Case, "lower case", first.to_lowercase()),
        (Kind::Case, "upper case", first.to_uppercase()),
        (Kind::Whitespace, "a space before", format!(" {first}")),
        (Kind::Whitespace, "a space after", format!("{first} ")),
        (
            Kind::Foreign,
            "outside the set",
            values::outside_enum(field),
        ),
    ] {
        if !field.enum_values.contains(&v) {
            rows.push((kind, label.into(), set(&v), "2.enum-fields", bad));
        }
    }
    rows.push((Kind::Empty, "empty".into(), set(""), "8.enum-empty", bad));
    rows
}

fn url_values(field: &Field, conditional: bool) -> Vec<FieldRow> {
    let set = |v: Val| Edit::Set(field.name.clone(), v);
    let shown = if field.secret.is_some() {
        "4.url-secret-mask"
    } else {
        "2.round-trip"
    };
    let bad = Some(Situation::InvalidSettings);
    let mut rows: Vec<FieldRow> = vec![
        (
            Kind::Case,
            "an upper-case scheme and host".into(),
            set(Val::Json(json!("HTTPS://HOOKS.EXAMPLE.COM/Path-Kept"))),
            "9.url-rule",
            None,
        ),
        (
            Kind::Boundary,
            "no path".into(),
            set(Val::Json(json!("https://h.example"))),
            "9.url-secret-boundary",
            None,
        ),
        (
            Kind::Boundary,
            "four characters after the host".into(),
            set(Val::Json(json!("https://h.example/abc"))),
            "9.url-secret-boundary",
            None,
        ),
        (
            Kind::FarPast,
            "2,000 characters".into(),
            set(Val::Url { len: 2000 }),
            shown,
            None,
        ),
        (
            Kind::Malformed,
            "another scheme".into(),
            set(Val::Json(json!("ftp://hooks.example.com/x1234"))),
            "9.url-rule",
            bad,
        ),
        (
            Kind::Malformed,
            "no scheme".into(),
            set(Val::Json(json!("hooks.example.com/x1234"))),
            "9.url-rule",
            bad,
        ),
    ];
    // Not drawn: `https:///x` (an empty authority), which a WHATWG URL parser reads as the
    // host `x`: whether it has a host is not the contract's to say.
    if field.required {
        rows.push((
            Kind::Empty,
            "empty".into(),
            set(Val::Json(json!(""))),
            "8.required-empty",
            bad,
        ));
    } else if !conditional {
        rows.push((
            Kind::Empty,
            "empty".into(),
            set(Val::Json(json!(""))),
            "8.optional-empty",
            None,
        ));
    }
    rows
}

fn pattern_values(field: &Field) -> Vec<FieldRow> {
    let set = |v: String| Edit::Set(field.name.clone(), Val::Json(json!(v)));
    let valid = values::valid_value(field, "pattern", Fill::Minimal);
    let valid = valid.as_str().unwrap_or_default().to_owned();
    let bad = Some(Situation::InvalidSettings);
    let mut rows: Vec<FieldRow> = vec![(
        Kind::Valid,
        "matches".into(),
        set(valid.clone()),
        "5.field-rules",
        None,
    )];
    for (label, v) in values::pattern_breakers(field, &valid) {
        let kind = if label == "upper-case" {
            Kind::Case
        } else {
            Kind::Malformed
        };
        rows.push((kind, label.into(), set(v), "5.field-rules", bad));
    }
    let refused = |s: &str| {
        field
            .pattern
            .as_deref()
            .and_then(|p| regex::Regex::new(p).ok())
            .is_some_and(|re| !re.is_match(s))
    };
    let padded = format!(" {valid} ");
    if refused(&padded) {
        rows.push((
            Kind::Whitespace,
            "spaces around".into(),
            set(padded),
            "5.field-rules",
            bad,
        ));
    }
    let longer = format!("{valid}{}", valid.chars().last().unwrap_or('0'));
    if refused(&longer) {
        rows.push((
            Kind::PastBoundary,
            "one character more".into(),
            set(longer),
            "5.field-rules",
            bad,
        ));
    }
    if field.required {
        rows.push((
            Kind::Empty,
            "empty".into(),
            set(String::new()),
            "8.required-empty",
            bad,
        ));
    }
    rows
}

/// A free-form string: its length bounds (or lengths far past the longest generated where it
/// has none), characters outside the BMP, spaces around it, its key twice, empty, only spaces.
fn free_values(field: &Field, conditional: bool) -> Vec<FieldRow> {
    let set = |v: Val| Edit::Set(field.name.clone(), v);
    let kept = if field.secret.is_some() {
        "4.secret-mask"
    } else {
        "2.round-trip"
    };
    let bad = Some(Situation::InvalidSettings);
    let mut rows: Vec<FieldRow> = lengths(field, kept);
    let mut row = |k: Kind, label: String, edit: Edit, rule: &'static str, s: Option<Situation>| {
        rows.push((k, label, edit, rule, s));
    };
    row(
        Kind::Whitespace,
        "spaces around".into(),
        set(Val::Padded),
        kept,
        None,
    );
    let dup = Edit::Raw(format!("{{dup:{}}}", field.name));
    row(
        Kind::Repeated,
        "the key twice, the last valid".into(),
        dup,
        "8.duplicate-keys",
        None,
    );
    let empty = || set(Val::Json(json!("")));
    if field.required {
        row(
            Kind::Empty,
            "empty".into(),
            empty(),
            "8.required-empty",
            bad,
        );
        let spaces = set(Val::Json(json!("   ")));
        row(
            Kind::Whitespace,
            "only spaces".into(),
            spaces,
            "8.required-empty",
            None,
        );
    } else if !conditional {
        row(
            Kind::Empty,
            "empty".into(),
            empty(),
            "8.optional-empty",
            None,
        );
    }
    rows
}

/// A free-form string's lengths: each bound, one past it, far past it, in ASCII and in
/// characters outside the BMP; far past the longest generated where it has no maximum.
fn lengths(field: &Field, kept: &'static str) -> Vec<FieldRow> {
    let set = |v: Val| Edit::Set(field.name.clone(), v);
    let text = |len: usize, alphabet: &'static str| set(Val::Text { len, alphabet });
    let bad = Some(Situation::InvalidSettings);
    let (rule, chars) = ("5.field-rules", "9.lengths-in-characters");
    let mut rows: Vec<FieldRow> = Vec::new();
    let mut row = |k: Kind, label: String, edit: Edit, rule: &'static str, s: Option<Situation>| {
        rows.push((k, label, edit, rule, s));
    };
    match field.max_length {
        Some(max) => {
            row(
                Kind::Boundary,
                format!("{max} characters"),
                text(max, ASCII),
                rule,
                None,
            );
            let astral = text(max, ASTRAL);
            row(
                Kind::Boundary,
                format!("{max} astral characters"),
                astral,
                chars,
                None,
            );
            let (over, far) = (max + 1, max * 10);
            row(
                Kind::PastBoundary,
                format!("{over} characters"),
                text(over, ASCII),
                rule,
                bad,
            );
            let astral = text(over, ASTRAL);
            row(
                Kind::PastBoundary,
                format!("{over} astral characters"),
                astral,
                chars,
                bad,
            );
            row(
                Kind::FarPast,
                format!("{far} characters"),
                text(far, ASCII),
                rule,
                bad,
            );
        }
        None => {
            row(
                Kind::Valid,
                "astral characters".into(),
                text(40, ASTRAL),
                chars,
                None,
            );
            for len in [200, 1000, 5000] {
                row(
                    Kind::FarPast,
                    format!("{len} characters"),
                    text(len, ASCII),
                    kept,
                    None,
                );
            }
        }
    }
    let min = field.min_length.unwrap_or(0);
    if min > 1 {
        row(
            Kind::Boundary,
            format!("{min} characters"),
            text(min, ASCII),
            rule,
            None,
        );
        let under = min - 1;
        row(
            Kind::PastBoundary,
            format!("{under} characters"),
            text(under, ASCII),
            rule,
            bad,
        );
    }
    rows
}
