//! Stage 2b: OpenAPI 3.0 schemas → JSON Schema (draft 2020-12) → compiled `jsonschema`
//! validators, built once per spec and shared by the checks and the reference server.
//!
//! The translation handles what OpenAPI 3.0 says differently from JSON Schema:
//! - `nullable: true` adds `null` to the type (and to `enum`);
//! - `oneOf` + `discriminator` becomes "`type` is one of the mapping's keys, and if `type` is K
//!   then the K schema applies", so an error names the one schema that failed;
//! - `readOnly` properties are not required in requests; `writeOnly` properties are dropped from
//!   responses, where `additionalProperties: false` then forbids them;
//! - in responses, a property with a `default` is required (the contract returns defaults);
//! - `x-conditional-required` becomes `if`/`then`;
//! - `example`, `discriminator`, `x-*` and the other annotation-only keywords are dropped.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::model::Model;
use crate::spec::{deref, Spec};

/// Which side of the exchange a schema judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    Request,
    Response,
}

/// Compiled validators keyed by (schema pointer, mode).
pub struct Validators {
    compiled: HashMap<(String, Mode), jsonschema::Validator>,
}

impl std::fmt::Debug for Validators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validators")
            .field("count", &self.compiled.len())
            .finish()
    }
}

/// One schema violation, with the instance location and a message that never quotes the
/// instance's values (they may be secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        write!(f, "{path}: {}", self.message)
    }
}

impl Validators {
    /// Compile every schema the model points at: each integration type in both modes, each
    /// response body, and the error body.
    pub fn build(spec: &Spec, model: &Model) -> Result<Validators> {
        let roots = [
            (
                Mode::Request,
                converted_components(&spec.raw, Mode::Request),
            ),
            (
                Mode::Response,
                converted_components(&spec.raw, Mode::Response),
            ),
        ];
        let mut wanted: Vec<(String, Mode)> = vec![(model.error_schema.clone(), Mode::Response)];
        for family in &model.families {
            for version in &family.versions {
                for t in &version.types {
                    wanted.push((t.schema.clone(), Mode::Request));
                    wanted.push((t.schema.clone(), Mode::Response));
                }
            }
            for op in &family.operations {
                for resp in &op.responses {
                    for (_, pointer) in &resp.content {
                        wanted.push((pointer.clone(), Mode::Response));
                    }
                }
            }
        }
        let mut compiled = HashMap::new();
        for (pointer, mode) in wanted {
            if compiled.contains_key(&(pointer.clone(), mode)) {
                continue;
            }
            let components = &roots.iter().find(|(m, _)| *m == mode).expect("both").1;
            let validator = compile_with(&spec.raw, components, &pointer, mode)?;
            compiled.insert((pointer, mode), validator);
        }
        Ok(Validators { compiled })
    }

    /// Validate `instance` against the schema at `pointer`; `None` if no such validator.
    pub fn validate(
        &self,
        pointer: &str,
        mode: Mode,
        instance: &Value,
    ) -> Option<Result<(), Vec<Violation>>> {
        let validator = self.compiled.get(&(pointer.to_owned(), mode))?;
        let errors: Vec<Violation> = validator
            .iter_errors(instance)
            .map(|e| Violation {
                path: e.instance_path().to_string(),
                message: e.masked().to_string(),
            })
            .collect();
        Some(if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        })
    }

    pub fn len(&self) -> usize {
        self.compiled.len()
    }

    pub fn is_empty(&self) -> bool {
        self.compiled.is_empty()
    }
}

/// Compile one validator for the schema at `pointer` (for tests and tools).
pub fn compile(spec: &Spec, pointer: &str, mode: Mode) -> Result<jsonschema::Validator> {
    let components = converted_components(&spec.raw, mode);
    compile_with(&spec.raw, &components, pointer, mode)
}

/// The JSON Schema translation of the schema at `pointer`, with the converted
/// `components/schemas` alongside so that `$ref`s resolve.
pub fn to_json_schema(spec: &Spec, pointer: &str, mode: Mode) -> Result<Value> {
    let components = converted_components(&spec.raw, mode);
    document(&spec.raw, &components, pointer, mode)
}

fn document(raw: &Value, components: &Value, pointer: &str, mode: Mode) -> Result<Value> {
    let node = crate::spec::resolve_ref(raw, pointer).ok_or_else(|| Error::Schema {
        pointer: pointer.to_owned(),
        message: "no schema at this pointer".into(),
    })?;
    let mut doc = if pointer.starts_with("#/components/schemas/") {
        json!({ "$ref": pointer })
    } else {
        convert(raw, node, mode)
    };
    if let Value::Object(map) = &mut doc {
        map.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        map.insert("components".into(), json!({ "schemas": components }));
    }
    Ok(doc)
}

fn compile_with(
    raw: &Value,
    components: &Value,
    pointer: &str,
    mode: Mode,
) -> Result<jsonschema::Validator> {
    let doc = document(raw, components, pointer, mode)?;
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&doc)
        .map_err(|e| Error::Schema {
            pointer: pointer.to_owned(),
            message: e.to_string(),
        })
}

fn converted_components(raw: &Value, mode: Mode) -> Value {
    let mut out = Map::new();
    if let Some(schemas) = raw
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            out.insert(name.clone(), convert(raw, schema, mode));
        }
    }
    Value::Object(out)
}

const DROPPED: [&str; 9] = [
    "example",
    "examples",
    "discriminator",
    "readOnly",
    "writeOnly",
    "nullable",
    "xml",
    "externalDocs",
    "deprecated",
];

fn flag(raw: &Value, node: &Value, key: &str) -> bool {
    deref(raw, node).get(key).and_then(Value::as_bool) == Some(true)
}

/// Translate one OpenAPI schema node.
fn convert(raw: &Value, node: &Value, mode: Mode) -> Value {
    let Value::Object(map) = node else {
        return node.clone();
    };
    if let Some(r) = map.get("$ref") {
        // OpenAPI 3.0: siblings of $ref are ignored.
        return json!({ "$ref": r });
    }
    let node = Node { raw, map, mode };
    let mut out = node.keywords();
    node.defaults_required(&mut out);
    node.exclusive_bounds(&mut out);
    node.nullable(&mut out);
    let mut all_of: Vec<Value> = node.discriminator(&mut out);
    all_of.extend(node.conditional_required());
    if !all_of.is_empty() {
        match out.get_mut("allOf") {
            Some(Value::Array(existing)) => existing.extend(all_of),
            _ => {
                out.insert("allOf".into(), Value::Array(all_of));
            }
        }
    }
    Value::Object(out)
}

/// One object schema node being translated, with the whole document for `$ref`s.
struct Node<'a> {
    raw: &'a Value,
    map: &'a Map<String, Value>,
    mode: Mode,
}

impl Node<'_> {
    fn props(&self) -> Option<&Map<String, Value>> {
        self.map.get("properties").and_then(Value::as_object)
    }

    /// A write-only field, or a write-only secret, is not in a response.
    fn hidden(&self, field: &str, prop: &Value) -> bool {
        let write_only_secret = self
            .map
            .get("x-secrets")
            .and_then(|s| s.get(field))
            .and_then(Value::as_str)
            == Some("write-only");
        self.mode == Mode::Response && (flag(self.raw, prop, "writeOnly") || write_only_secret)
    }

    /// The node's keywords, one by one: extensions and OpenAPI-only keywords dropped,
    /// subschemas translated, hidden fields left out.
    fn keywords(&self) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, value) in self.map {
            if DROPPED.contains(&key.as_str()) || key.starts_with("x-") {
                continue;
            }
            match key.as_str() {
                "properties" => {
                    let mut converted = Map::new();
                    for (field, prop) in value.as_object().into_iter().flatten() {
                        if !self.hidden(field, prop) {
                            converted.insert(field.clone(), convert(self.raw, prop, self.mode));
                        }
                    }
                    out.insert(key.clone(), Value::Object(converted));
                }
                "required" => {
                    let mut required: Vec<Value> = Vec::new();
                    for field in value
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                    {
                        let prop = self
                            .props()
                            .and_then(|p| p.get(field))
                            .unwrap_or(&Value::Null);
                        let keep = match self.mode {
                            Mode::Request => !flag(self.raw, prop, "readOnly"),
                            Mode::Response => !self.hidden(field, prop),
                        };
                        if keep {
                            required.push(json!(field));
                        }
                    }
                    out.insert(key.clone(), Value::Array(required));
                }
                "items" | "additionalProperties" | "not" => {
                    out.insert(key.clone(), convert(self.raw, value, self.mode));
                }
                "allOf" | "anyOf" | "oneOf" => {
                    let items = value
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|v| convert(self.raw, v, self.mode))
                        .collect();
                    out.insert(key.clone(), Value::Array(items));
                }
                "exclusiveMinimum" | "exclusiveMaximum" if value.is_boolean() => {
                    // OpenAPI 3.0's boolean form: turn the bound itself exclusive.
                    let bound = if key == "exclusiveMinimum" {
                        "minimum"
                    } else {
                        "maximum"
                    };
                    if value == &Value::Bool(true) {
                        if let Some(b) = self.map.get(bound) {
                            out.insert(key.clone(), b.clone());
                        }
                    }
                }
                _ => {
                    out.insert(key.clone(), value.clone());
                }
            }
        }
        out
    }

    /// In responses, defaults are always returned.
    fn defaults_required(&self, out: &mut Map<String, Value>) {
        if self.mode == Mode::Response {
            if let Some(props) = self.props() {
                let required = out
                    .entry("required")
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(required) = required {
                    for (field, prop) in props {
                        let has_default = deref(self.raw, prop).get("default").is_some();
                        if has_default
                            && !self.hidden(field, prop)
                            && !required.contains(&json!(field))
                        {
                            required.push(json!(field));
                        }
                    }
                }
            }
        }
    }

    /// Drop a `minimum`/`maximum` made redundant by the exclusive form.
    fn exclusive_bounds(&self, out: &mut Map<String, Value>) {
        for (excl, bound) in [
            ("exclusiveMinimum", "minimum"),
            ("exclusiveMaximum", "maximum"),
        ] {
            if self.map.get(excl) == Some(&Value::Bool(true)) {
                out.remove(bound);
            }
        }
    }

    /// OpenAPI 3.0's `nullable`: `null` joins the type and the enum.
    fn nullable(&self, out: &mut Map<String, Value>) {
        if self.map.get("nullable") == Some(&Value::Bool(true)) {
            if let Some(Value::String(t)) = out.get("type").cloned() {
                out.insert("type".into(), json!([t, "null"]));
            }
            if let Some(Value::Array(values)) = out.get_mut("enum") {
                if !values.contains(&Value::Null) {
                    values.push(Value::Null);
                }
            }
        }
    }

    /// A `oneOf` with a discriminator mapping becomes an object whose discriminator selects the
    /// mapped schema; returns the `allOf` entries that select it.
    fn discriminator(&self, out: &mut Map<String, Value>) -> Vec<Value> {
        let mut all_of = Vec::new();
        if let (Some(disc), Some(_)) = (self.map.get("discriminator"), self.map.get("oneOf")) {
            if let (Some(prop), Some(mapping)) = (
                disc.get("propertyName").and_then(Value::as_str),
                disc.get("mapping").and_then(Value::as_object),
            ) {
                out.remove("oneOf");
                out.insert("type".into(), json!("object"));
                out.insert("required".into(), json!([prop]));
                let keys: Vec<&String> = mapping.keys().collect();
                out.insert("properties".into(), json!({ prop: { "enum": keys } }));
                for (key, target) in mapping {
                    all_of.push(json!({
                        "if": { "properties": { prop: { "const": key } }, "required": [prop] },
                        "then": { "$ref": target }
                    }));
                }
            }
        }
        all_of
    }

    /// `x-conditional-required` rules as `allOf` entries.
    fn conditional_required(&self) -> Vec<Value> {
        let mut all_of = Vec::new();
        if let Some(Value::Array(rules)) = self.map.get("x-conditional-required") {
            for rule in rules {
                let (Some(field), Some(equals), Some(then)) = (
                    rule.pointer("/if/field"),
                    rule.pointer("/if/equals"),
                    rule.get("then"),
                ) else {
                    continue;
                };
                let Some(field) = field.as_str() else {
                    continue;
                };
                all_of.push(json!({
                    "if": { "properties": { field: { "const": equals } }, "required": [field] },
                    "then": { "required": then }
                }));
            }
        }
        all_of
    }
}
