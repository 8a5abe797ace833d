//! Building the model from a validated spec: the families, their operations (query parameters,
//! responses, error rows, update semantics) and the document-level parts (token URL, error
//! schema, unmatched requests, the wire vocabulary).

use serde_json::Value;

use super::types::build_types;
use super::{
    invalid, wire, ErrorRule, Family, Level, Model, Operation, OperationKind, ParamKind,
    ProjectKind, QueryParam, ResponseDef, Situation, UpdateRule, Version,
};
use crate::error::Result;
use crate::spec::{self, deref, final_ref, ErrorRowExt, Spec, UpdateExt};

/// Build the model from a validated spec.
pub fn build(spec: &Spec) -> Result<Model> {
    let raw = &spec.raw;
    let exts = spec::families(raw)?;
    let mut families = Vec::new();
    for (name, ext) in &exts {
        families.push(build_family(raw, name, ext)?);
    }
    // The document order of x-families is lost in the map; keep a stable, documented order:
    // as the families appear in `paths`.
    let order: Vec<String> = spec::operations(raw)
        .iter()
        .filter_map(|(_, _, op)| op.get("x-family").and_then(Value::as_str))
        .map(str::to_owned)
        .collect();
    families.sort_by_key(|f| {
        order
            .iter()
            .position(|n| *n == f.name)
            .unwrap_or(usize::MAX)
    });
    let token_path = raw
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.values())
        .find_map(|s| {
            s.pointer("/flows/clientCredentials/tokenUrl")
                .and_then(Value::as_str)
        })
        .ok_or_else(|| invalid("no OAuth 2.0 clientCredentials security scheme with a tokenUrl"))?
        .to_owned();
    let error_schema = wire::ERROR_SCHEMA.to_owned();
    if spec::resolve_ref(raw, &error_schema).is_none() {
        return Err(invalid(
            "components.schemas.ApiError (the error body) is missing",
        ));
    }
    let unmatched: Vec<ErrorRowExt> = match raw.get("x-unmatched") {
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| invalid(format!("x-unmatched is malformed: {e}")))?,
        None => Vec::new(),
    };
    let unmatched = error_rules(unmatched, "x-unmatched")?;
    let wire = wire::build(raw, &families, &unmatched)?;
    Ok(Model {
        wire,
        families,
        spec_hash: spec.hash.clone(),
        token_path,
        error_schema,
        unmatched,
    })
}

fn build_family(raw: &Value, name: &str, ext: &spec::FamilyExt) -> Result<Family> {
    let project_kind = match ext.project_kind.as_str() {
        "atlas" => ProjectKind::Atlas,
        _ => ProjectKind::CloudManager,
    };
    let mut operations = Vec::new();
    let mut path_types: Vec<String> = Vec::new();
    for (path, method, op) in spec::operations(raw) {
        if op.get("x-family").and_then(Value::as_str) != Some(name) {
            continue;
        }
        let operation = build_operation(raw, name, path, method, op)?;
        if operation.kind.has_type() {
            let types = spec::path_param_enum(raw, path, op, super::TYPE_PARAM);
            if types.is_empty() {
                return Err(invalid(format!(
                    "operation {}: integrationType path parameter has no enum",
                    operation.id
                )));
            }
            if !path_types.is_empty() && path_types != types {
                return Err(invalid(format!(
                    "operation {}: integrationType enum differs from the family's other operations",
                    operation.id
                )));
            }
            path_types = types;
        }
        if operations
            .iter()
            .any(|o: &Operation| o.kind == operation.kind)
        {
            return Err(invalid(format!(
                "family {name} has two {} operations",
                operation.kind
            )));
        }
        operations.push(operation);
    }
    for kind in OperationKind::ALL {
        if !operations.iter().any(|o| o.kind == kind) {
            return Err(invalid(format!("family {name} has no {kind} operation")));
        }
    }
    operations.sort_by_key(|o| o.kind);

    let create = operations
        .iter()
        .find(|o| o.kind == OperationKind::Create)
        .expect("checked above");
    let content = request_content(raw, &create.id)?;

    let mut versions = Vec::new();
    for v in &ext.versions {
        let media = content.get(&v.media_type).ok_or_else(|| {
            invalid(format!(
                "operation {}: requestBody has no content for {} (family {name})",
                create.id, v.media_type
            ))
        })?;
        let schema = media.get("schema").unwrap_or(&Value::Null);
        let mut types = build_types(raw, schema, &format!("{name} {}", v.media_type))?;
        for t in &types {
            if !ext.list_order.contains(&t.name) {
                return Err(invalid(format!(
                    "family {name}: type {} is missing from x-families.{name}.listOrder",
                    t.name
                )));
            }
            if !path_types.contains(&t.name) {
                return Err(invalid(format!(
                    "family {name}: type {} has a schema but is not in the integrationType enum",
                    t.name
                )));
            }
        }
        types.sort_by_key(|t| ext.list_order.iter().position(|n| *n == t.name));
        versions.push(Version {
            name: v.name.clone(),
            media_type: v.media_type.clone(),
            types,
        });
    }
    for t in &ext.list_order {
        if !path_types.contains(t) {
            return Err(invalid(format!(
                "family {name}: listOrder names {t}, which is not in the integrationType enum"
            )));
        }
    }
    Ok(Family {
        name: name.to_owned(),
        title: ext.title.clone(),
        base_path: ext.base_path.clone(),
        project_kind,
        versions,
        extra_request_content_types: ext.request_content_types.clone(),
        list_order: ext.list_order.clone(),
        path_types,
        unsupported_types: ext.unsupported_types.clone(),
        include_count_honoured: ext.include_count == "honoured",
        link_query: ext.link_query.clone(),
        operations,
        seeds: ext.seeds.clone(),
    })
}

fn build_operation(
    raw: &Value,
    family: &str,
    path: &str,
    method: &str,
    op: &Value,
) -> Result<Operation> {
    let id = op["operationId"].as_str().unwrap_or_default().to_owned();
    let typed = path.ends_with("/{integrationType}");
    let kind = match (method, typed) {
        ("get", false) => OperationKind::List,
        ("get", true) => OperationKind::Get,
        ("post", true) => OperationKind::Create,
        ("put", true) => OperationKind::Update,
        ("delete", true) => OperationKind::Delete,
        _ => {
            return Err(invalid(format!(
                "operation {id}: {method} {path} is none of list, get, create, update, delete"
            )))
        }
    };
    let query = query_params(raw, &id, op)?;
    let responses = responses(raw, &id, op)?;
    let success_status = responses
        .iter()
        .map(|r| r.status)
        .find(|s| (200..300).contains(s))
        .ok_or_else(|| invalid(format!("operation {id} has no 2xx response")))?;
    let rows: Vec<ErrorRowExt> =
        serde_json::from_value(op.get("x-errors").cloned().unwrap_or(Value::Array(vec![])))
            .map_err(|e| invalid(format!("operation {id}: x-errors is malformed: {e}")))?;
    let errors = error_rules(rows, &format!("operation {id}: x-errors"))?;
    let update = match op.get("x-update") {
        Some(u) => {
            let u: UpdateExt = serde_json::from_value(u.clone())
                .map_err(|e| invalid(format!("operation {id}: x-update is malformed: {e}")))?;
            Some(UpdateRule {
                merge: u.semantics == "merge",
                upsert: u.upsert,
            })
        }
        None => None,
    };
    if kind == OperationKind::Update && update.is_none() {
        return Err(invalid(format!("update operation {id} has no x-update")));
    }
    Ok(Operation {
        id,
        family: family.to_owned(),
        kind,
        method: method.to_ascii_uppercase(),
        path: path.to_owned(),
        query,
        success_status,
        has_body: op.get("requestBody").is_some(),
        responses,
        errors,
        update,
    })
}

/// The error rows of `context` (`x-unmatched`, or an operation's `x-errors`) as rules; a
/// situation the harness does not know is an error naming it.
fn error_rules(rows: Vec<ErrorRowExt>, context: &str) -> Result<Vec<ErrorRule>> {
    rows.into_iter()
        .map(|row| {
            let situation = Situation::parse(&row.situation).ok_or_else(|| {
                invalid(format!(
                    "{context} names unknown situation {}",
                    row.situation
                ))
            })?;
            Ok(ErrorRule {
                situation,
                status: row.status,
                also_status: row.also_status,
                error_code: row.error_code,
                level: match row.level.as_str() {
                    "E" => Level::E,
                    "S" => Level::S,
                    _ => Level::C,
                },
                integration_type: row.integration_type,
                parameters: row.parameters,
            })
        })
        .collect()
}

/// The operation's query parameters (each an integer or a boolean with a default).
fn query_params(raw: &Value, id: &str, op: &Value) -> Result<Vec<QueryParam>> {
    let mut query = Vec::new();
    for param in op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let param = deref(raw, param);
        if param.get("in").and_then(Value::as_str) != Some("query") {
            continue;
        }
        let name = param["name"].as_str().unwrap_or_default().to_owned();
        let schema = deref(raw, param.get("schema").unwrap_or(&Value::Null));
        let kind = match schema.get("type").and_then(Value::as_str) {
            Some("integer") => ParamKind::Integer,
            Some("boolean") => ParamKind::Boolean,
            other => {
                return Err(invalid(format!(
                "operation {id}: query parameter {name} has type {other:?}, not integer or boolean"
            )))
            }
        };
        let default = schema.get("default").cloned().ok_or_else(|| {
            invalid(format!(
                "operation {id}: query parameter {name} has no default"
            ))
        })?;
        query.push(QueryParam {
            name,
            kind,
            default,
            minimum: schema.get("minimum").and_then(Value::as_i64),
            maximum: schema.get("maximum").and_then(Value::as_i64),
        });
    }
    Ok(query)
}

/// The operation's responses: status and (media type, schema pointer) pairs.
fn responses(raw: &Value, id: &str, op: &Value) -> Result<Vec<ResponseDef>> {
    let mut responses = Vec::new();
    for (status, resp) in deref(raw, &op["responses"])
        .as_object()
        .into_iter()
        .flatten()
    {
        let status: u16 = status.parse().map_err(|_| {
            invalid(format!(
                "operation {id}: response key {status} is not a status"
            ))
        })?;
        let resp_ref = final_ref(raw, resp);
        let resp = deref(raw, resp);
        let mut content = Vec::new();
        for (media, body) in resp
            .get("content")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let schema = body.get("schema").unwrap_or(&Value::Null);
            let pointer = match schema.get("$ref").and_then(Value::as_str) {
                Some(r) => r.to_owned(),
                None => format!(
                    "{}/content/{}/schema",
                    resp_ref.clone().unwrap_or_default(),
                    media.replace('/', "~1")
                ),
            };
            content.push((media.clone(), pointer));
        }
        responses.push(ResponseDef { status, content });
    }
    Ok(responses)
}

/// The request body content (media type → entry) of the operation `id`.
fn request_content<'r>(raw: &'r Value, id: &str) -> Result<&'r serde_json::Map<String, Value>> {
    let op = spec::operations(raw)
        .into_iter()
        .find(|(_, _, op)| op.get("operationId").and_then(Value::as_str) == Some(id))
        .map(|(_, _, op)| op)
        .expect("operation exists");
    deref(raw, op.get("requestBody").unwrap_or(&Value::Null))
        .get("content")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid(format!("operation {id}: requestBody has no content")))
}
