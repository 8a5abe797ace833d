//! Stage 1: load `spec/integrations.openapi.yaml`, parse it as OpenAPI 3.0 and validate what
//! OpenAPI cannot: unique operationIds, resolvable `$ref`s and well-formed `x-` extensions that
//! point at real fields and statuses. Nothing after [`crate::model::build`] reads the raw document.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The spec shipped with the crate (embedded at build time so the binary needs no files).
pub const BUNDLED: &str = include_str!("../spec/integrations.openapi.yaml");

/// Where the bundled spec lives in the source tree (for messages and tests).
pub fn bundled_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/integrations.openapi.yaml")
}

/// A parsed and validated spec document.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The document as JSON, with YAML anchors expanded.
    pub raw: Value,
    /// The typed OpenAPI view (parsing into it is itself a validation).
    pub openapi: openapiv3::OpenAPI,
    /// SHA-256 of the source text, hex.
    pub hash: String,
}

/// The per-family block of `x-families`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct FamilyExt {
    pub(crate) title: String,
    pub(crate) base_path: String,
    pub(crate) project_kind: String,
    pub(crate) versions: Vec<VersionExt>,
    #[serde(default)]
    pub(crate) request_content_types: Vec<String>,
    pub(crate) list_order: Vec<String>,
    pub(crate) include_count: String,
    pub(crate) link_query: Vec<String>,
    pub(crate) unsupported_types: Vec<String>,
    #[serde(default)]
    pub(crate) seeds: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct VersionExt {
    #[serde(default)]
    pub(crate) name: Option<String>,
    pub(crate) media_type: String,
}

/// One row of an operation's `x-errors`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ErrorRowExt {
    pub(crate) situation: String,
    pub(crate) status: u16,
    #[serde(default)]
    pub(crate) error_code: Option<String>,
    pub(crate) level: String,
    #[serde(default)]
    pub(crate) also_status: Vec<u16>,
    #[serde(default)]
    pub(crate) integration_type: Option<String>,
    #[serde(default)]
    pub(crate) parameters: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateExt {
    pub(crate) semantics: String,
    pub(crate) upsert: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConditionalExt {
    #[serde(rename = "if")]
    pub(crate) when: ConditionExt,
    pub(crate) then: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConditionExt {
    pub(crate) field: String,
    pub(crate) equals: Value,
}

/// The rules an `x-rule` may name (the model's `FieldRule` reads them).
pub(crate) const FIELD_RULES: [&str; 1] = ["absolute-http-url"];

pub(crate) const SECRET_KINDS: [&str; 3] = ["mask-last4", "mask-url", "write-only"];
pub(crate) const LEVELS: [&str; 3] = ["E", "S", "C"];
pub(crate) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Load and validate the spec at `path`.
pub fn load(path: &Path) -> Result<Spec> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::SpecRead {
        path: path.to_owned(),
        source,
    })?;
    parse(&text)
}

/// Load and validate the bundled spec.
pub fn bundled() -> Result<Spec> {
    parse(BUNDLED)
}

/// Parse and validate spec text.
pub fn parse(text: &str) -> Result<Spec> {
    let raw: Value = serde_yaml_ng::from_str(text).map_err(|e| Error::SpecParse(e.to_string()))?;
    let openapi: openapiv3::OpenAPI =
        serde_json::from_value(raw.clone()).map_err(|e| Error::SpecParse(e.to_string()))?;
    if !openapi.openapi.starts_with("3.0") {
        return Err(Error::SpecInvalid(format!(
            "openapi version {} is not 3.0.x",
            openapi.openapi
        )));
    }
    let hash = hex::encode(Sha256::digest(text.as_bytes()));
    let spec = Spec { raw, openapi, hash };
    validate(&spec)?;
    Ok(spec)
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::SpecInvalid(msg.into())
}

fn validate(spec: &Spec) -> Result<()> {
    check_refs(&spec.raw, &spec.raw, "#")?;
    check_operation_ids(&spec.raw)?;
    let families = families(&spec.raw)?;
    check_operations(spec, &families)?;
    check_schema_extensions(spec)?;
    Ok(())
}

/// Resolve a local JSON reference (`#/a/b`) in `root`.
pub(crate) fn resolve_ref<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    root.pointer(pointer)
}

/// Follow `$ref` chains until a node without `$ref` (bounded, so a cycle cannot hang).
pub(crate) fn deref<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    for _ in 0..32 {
        match node.get("$ref").and_then(Value::as_str) {
            Some(r) => match resolve_ref(root, r) {
                Some(next) => node = next,
                None => return node,
            },
            None => return node,
        }
    }
    node
}

/// The last `$ref` target in a chain starting at `node` (the pointer of the concrete schema).
pub(crate) fn final_ref(root: &Value, node: &Value) -> Option<String> {
    let mut node = node;
    let mut last = None;
    for _ in 0..32 {
        match node.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                last = Some(r.to_owned());
                match resolve_ref(root, r) {
                    Some(next) => node = next,
                    None => break,
                }
            }
            None => break,
        }
    }
    last
}

fn check_refs(root: &Value, node: &Value, at: &str) -> Result<()> {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                if key == "$ref" {
                    let target = value
                        .as_str()
                        .ok_or_else(|| invalid(format!("$ref at {at} is not a string")))?;
                    if !target.starts_with("#/") {
                        return Err(invalid(format!(
                            "$ref {target} at {at} is not a local reference"
                        )));
                    }
                    if resolve_ref(root, target).is_none() {
                        return Err(invalid(format!("unresolved $ref {target} at {at}")));
                    }
                } else {
                    let escaped = key.replace('~', "~0").replace('/', "~1");
                    check_refs(root, value, &format!("{at}/{escaped}"))?;
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_refs(root, item, &format!("{at}/{i}"))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Every operation of the document: (path, method, operation object).
pub(crate) fn operations(raw: &Value) -> Vec<(&str, &str, &Value)> {
    let mut out = Vec::new();
    if let Some(paths) = raw.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let item = deref(raw, item);
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    out.push((path.as_str(), method, op));
                }
            }
        }
    }
    out
}

fn check_operation_ids(raw: &Value) -> Result<()> {
    let mut seen = BTreeSet::new();
    for (path, method, op) in operations(raw) {
        let id = op
            .get("operationId")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("operation {method} {path} has no operationId")))?;
        if !seen.insert(id) {
            return Err(invalid(format!("duplicate operation ID: {id}")));
        }
    }
    Ok(())
}

pub(crate) fn families(raw: &Value) -> Result<BTreeMap<String, FamilyExt>> {
    let value = raw
        .get("x-families")
        .ok_or_else(|| invalid("missing top-level x-families"))?;
    let families: BTreeMap<String, FamilyExt> = serde_json::from_value(value.clone())
        .map_err(|e| invalid(format!("x-families is malformed: {e}")))?;
    if families.is_empty() {
        return Err(invalid("x-families is empty"));
    }
    for (name, fam) in &families {
        if !matches!(fam.project_kind.as_str(), "atlas" | "cloud-manager") {
            return Err(invalid(format!(
                "x-families.{name}.projectKind {} is not atlas or cloud-manager",
                fam.project_kind
            )));
        }
        if !matches!(fam.include_count.as_str(), "honoured" | "ignored") {
            return Err(invalid(format!(
                "x-families.{name}.includeCount {} is not honoured or ignored",
                fam.include_count
            )));
        }
        if fam.versions.is_empty() {
            return Err(invalid(format!("x-families.{name}.versions is empty")));
        }
        if fam.versions.len() > 1 && fam.versions.iter().any(|v| v.name.is_none()) {
            return Err(invalid(format!(
                "x-families.{name}: with several versions, each needs a name"
            )));
        }
    }
    Ok(families)
}

/// The schema of the `integrationType` path parameter of an operation, if any.
pub(crate) fn path_param_enum(raw: &Value, path: &str, op: &Value, name: &str) -> Vec<String> {
    let item = raw.get("paths").and_then(|p| p.get(path));
    let lists = [item.and_then(|i| i.get("parameters")), op.get("parameters")];
    for list in lists.into_iter().flatten() {
        for param in list.as_array().into_iter().flatten() {
            let param = deref(raw, param);
            if param.get("name").and_then(Value::as_str) == Some(name)
                && param.get("in").and_then(Value::as_str) == Some("path")
            {
                let schema = deref(raw, param.get("schema").unwrap_or(&Value::Null));
                return schema
                    .get("enum")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
            }
        }
    }
    Vec::new()
}

fn check_operations(spec: &Spec, families: &BTreeMap<String, FamilyExt>) -> Result<()> {
    let raw = &spec.raw;
    for (path, method, op) in operations(raw) {
        let id = op["operationId"].as_str().unwrap_or_default();
        let fam_name = op
            .get("x-family")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("operation {id} has no x-family")))?;
        let fam = families.get(fam_name).ok_or_else(|| {
            invalid(format!(
                "operation {id}: x-family {fam_name} is not in x-families"
            ))
        })?;
        if !path.starts_with(&format!("{}/", fam.base_path)) {
            return Err(invalid(format!(
                "operation {id}: path {path} is not under its family's basePath {}",
                fam.base_path
            )));
        }
        let responses = deref(raw, op.get("responses").unwrap_or(&Value::Null));
        let statuses: BTreeSet<u16> = responses
            .as_object()
            .map(|m| m.keys().filter_map(|k| k.parse().ok()).collect())
            .unwrap_or_default();
        let rows = op.get("x-errors").cloned().unwrap_or(Value::Array(vec![]));
        let rows: Vec<ErrorRowExt> = serde_json::from_value(rows)
            .map_err(|e| invalid(format!("operation {id}: x-errors is malformed: {e}")))?;
        for row in &rows {
            if !LEVELS.contains(&row.level.as_str()) {
                return Err(invalid(format!(
                    "operation {id}: x-errors row {} has level {}, not E, S or C",
                    row.situation, row.level
                )));
            }
            for status in std::iter::once(row.status).chain(row.also_status.iter().copied()) {
                if !statuses.contains(&status) {
                    return Err(invalid(format!(
                        "operation {id}: x-errors row {} names status {status}, which the operation's responses lack",
                        row.situation
                    )));
                }
            }
            if row.level == "E" && row.error_code.is_none() {
                return Err(invalid(format!(
                    "operation {id}: x-errors row {} is level E but has no errorCode",
                    row.situation
                )));
            }
            if let Some(t) = &row.integration_type {
                let known = fam.unsupported_types.contains(t)
                    || path_param_enum(raw, path, op, "integrationType").contains(t);
                if !known {
                    return Err(invalid(format!(
                        "operation {id}: x-errors row {} names integration type {t}, unknown to family {fam_name}",
                        row.situation
                    )));
                }
            }
        }
        if let Some(update) = op.get("x-update") {
            let update: UpdateExt = serde_json::from_value(update.clone())
                .map_err(|e| invalid(format!("operation {id}: x-update is malformed: {e}")))?;
            if !matches!(update.semantics.as_str(), "merge" | "replace") {
                return Err(invalid(format!(
                    "operation {id}: x-update.semantics {} is not merge or replace",
                    update.semantics
                )));
            }
            if method != "put" {
                return Err(invalid(format!(
                    "operation {id}: x-update on a {method} operation"
                )));
            }
        }
    }
    Ok(())
}

/// Every schema object in `components/schemas` with its name.
fn component_schemas(raw: &Value) -> Vec<(&str, &Value)> {
    raw.pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.as_str(), v)).collect())
        .unwrap_or_default()
}

fn check_schema_extensions(spec: &Spec) -> Result<()> {
    let raw = &spec.raw;
    for (name, schema) in component_schemas(raw) {
        let props = schema.get("properties").and_then(Value::as_object);
        let has = |field: &str| props.is_some_and(|p| p.contains_key(field));
        if let Some(secrets) = schema.get("x-secrets") {
            let secrets = secrets
                .as_object()
                .ok_or_else(|| invalid(format!("schema {name}: x-secrets is not a map")))?;
            for (field, kind) in secrets {
                if !has(field) {
                    return Err(invalid(format!(
                        "schema {name}: x-secrets names field {field}, which the schema does not have"
                    )));
                }
                let kind = kind.as_str().unwrap_or_default();
                if !SECRET_KINDS.contains(&kind) {
                    return Err(invalid(format!(
                        "schema {name}: x-secrets.{field} is {kind:?}, not one of {SECRET_KINDS:?}"
                    )));
                }
                if kind == "write-only" {
                    let prop = deref(raw, &props.expect("checked")[field]);
                    if prop.get("writeOnly") != Some(&Value::Bool(true)) {
                        return Err(invalid(format!(
                            "schema {name}: field {field} is a write-only secret but lacks writeOnly: true"
                        )));
                    }
                }
            }
        }
        for (field, prop) in props.into_iter().flatten() {
            let Some(rule) = deref(raw, prop).get("x-rule") else {
                continue;
            };
            if !rule.as_str().is_some_and(|r| FIELD_RULES.contains(&r)) {
                return Err(invalid(format!(
                    "schema {name}: field {field} has x-rule {rule}, not one of {FIELD_RULES:?}"
                )));
            }
            if deref(raw, prop).get("type").and_then(Value::as_str) != Some("string") {
                return Err(invalid(format!(
                    "schema {name}: field {field} has an x-rule but is not a string"
                )));
            }
        }
        if let Some(rules) = schema.get("x-conditional-required") {
            let rules: Vec<ConditionalExt> =
                serde_json::from_value(rules.clone()).map_err(|e| {
                    invalid(format!(
                        "schema {name}: x-conditional-required is malformed: {e}"
                    ))
                })?;
            for rule in rules {
                for field in std::iter::once(&rule.when.field).chain(rule.then.iter()) {
                    if !has(field) {
                        return Err(invalid(format!(
                            "schema {name}: x-conditional-required names field {field}, which the schema does not have"
                        )));
                    }
                }
            }
        }
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for field in required.iter().filter_map(Value::as_str) {
                if !has(field) {
                    return Err(invalid(format!(
                        "schema {name}: required field {field} is not among its properties"
                    )));
                }
            }
        }
    }
    Ok(())
}
