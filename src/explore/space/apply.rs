//! A class made concrete: the plain call of its scope changed in the one way the class names.

use serde_json::{Map, Value};

use super::{Class, Edit, Val};
use crate::explore::gen::Call;

impl Val {
    /// The value, made from the call's tag; `current` is the valid body's value.
    pub fn make(&self, tag: &str, current: Option<&Value>) -> Value {
        match self {
            Val::Json(v) => v.clone(),
            Val::Text { len, alphabet } => Value::String(
                tag.chars()
                    .chain(alphabet.chars().cycle())
                    .take(*len)
                    .collect(),
            ),
            Val::Url { len } => {
                let head = format!("https://hooks.example.com/{tag}/");
                let fill = len.saturating_sub(head.chars().count());
                Value::String(format!("{head}{}", "p".repeat(fill)))
            }
            Val::Padded => match current {
                Some(Value::String(s)) => Value::String(format!(" {s} ")),
                _ => Value::String(format!(" {tag} ")),
            },
        }
    }
}

impl Class {
    /// Makes `call`, the plain call of this class's scope with a valid body (or none), a call
    /// of this class. The body's values come from `tag`.
    pub fn apply(&self, call: &mut Call, tag: &str) {
        call.class = Some(self.id.clone());
        call.broken = self.breaks.map(|s| s.as_str().to_owned());
        call.field = self.field.clone();
        let type_name = call.type_name.clone().unwrap_or_default();
        match &self.edit {
            Edit::None => {}
            Edit::Method(m) => call.method = Some(m.clone()),
            Edit::Path(p) => call.path = Some(p.replace("{type}", &type_name)),
            Edit::Query(q) => call.query = q.clone(),
            Edit::Accept(a) => match a {
                Some(v) => call.accept = Some(v.clone()),
                None => call.omit.push(Call::ACCEPT.to_owned()),
            },
            Edit::ContentType(c) => match c {
                Some(v) => call.content_type = Some(v.clone()),
                None => call.omit.push(Call::CONTENT_TYPE.to_owned()),
            },
            Edit::Credential(w) => call.credential = *w,
            Edit::Project(p) => call.project = *p,
            Edit::Set(field, v) => {
                if let Some(Value::Object(body)) = &mut call.body {
                    let made = v.make(tag, body.get(field));
                    body.insert(field.clone(), made);
                }
            }
            Edit::Remove(field) => {
                if let Some(Value::Object(body)) = &mut call.body {
                    body.remove(field);
                }
            }
            Edit::AddKey(key, v) => {
                if let Some(Value::Object(body)) = &mut call.body {
                    let made = v.make(tag, None);
                    body.insert(key.clone(), made);
                }
            }
            // The generator, which knows the last write, puts the masks in.
            Edit::MaskBack(_) => {}
            Edit::Raw(template) => {
                let body = match &call.body {
                    Some(Value::Object(b)) => b.clone(),
                    _ => Map::new(),
                };
                call.raw = Some(raw(template, &body, &type_name));
            }
        }
    }
}

/// The bytes of a raw body: `{body}` the valid body's JSON, `{truncated}` the same without its
/// last byte, `{nan}` the same with a `NaN` value added, `{type}` the type's name, and
/// `{dup:FIELD}` the body with FIELD's key written twice, another value first and the valid one
/// last.
fn raw(template: &str, body: &Map<String, Value>, type_name: &str) -> String {
    let text = serde_json::to_string(&Value::Object(body.clone())).unwrap_or_default();
    if let Some(field) = template
        .strip_prefix("{dup:")
        .and_then(|t| t.strip_suffix('}'))
    {
        let decoy = serde_json::to_string(&format!("decoy-{type_name}")).unwrap_or_default();
        let key = serde_json::to_string(field).unwrap_or_default();
        let rest = text.strip_prefix('{').unwrap_or(&text);
        let sep = if rest == "}" { "" } else { "," };
        return format!("{{{key}:{decoy}{sep}{rest}");
    }
    let inner = text.strip_suffix('}').unwrap_or(&text);
    let nan = if inner.ends_with('{') {
        format!("{inner}\"conformanceNumber\":NaN}}")
    } else {
        format!("{inner},\"conformanceNumber\":NaN}}")
    };
    template
        .replace("{truncated}", &text[..text.len().saturating_sub(1)])
        .replace("{nan}", &nan)
        .replace("{body}", &text)
        .replace("{type}", type_name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn raw_bodies_are_what_their_templates_say() {
        let body = json!({"type": "SLACK", "channelName": "c"});
        let Value::Object(body) = body else { panic!() };
        let dup = raw("{dup:channelName}", &body, "SLACK");
        let parsed: Value = serde_json::from_str(&dup).unwrap();
        assert_eq!(parsed["channelName"], "c", "the last key wins: {dup}");
        assert_eq!(dup.matches("channelName").count(), 2, "{dup}");
        assert!(serde_json::from_str::<Value>(&raw("{truncated}", &body, "SLACK")).is_err());
        assert!(raw("{nan}", &body, "SLACK").contains(":NaN}"));
        assert_eq!(raw("\"{type}\"", &body, "SLACK"), "\"SLACK\"");
        let text = Val::Text {
            len: 12,
            alphabet: "😀",
        }
        .make("x1", None);
        assert_eq!(text.as_str().unwrap().chars().count(), 12);
        let url = Val::Url { len: 2000 }.make("x1", None);
        assert_eq!(url.as_str().unwrap().chars().count(), 2000);
        assert_eq!(Val::Padded.make("t", Some(&json!("v"))), json!(" v "));
    }
}
