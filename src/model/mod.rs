//! Stage 2: the typed model every later stage reads (the case generator, the checks, the
//! reference server). Built from a validated [`Spec`]; no later stage reads the raw document or
//! names an integration type or a field in code.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::spec::{self, deref, final_ref, ConditionalExt, ErrorRowExt, Spec, UpdateExt};

mod wire;

pub use wire::{EnvelopeNames, ErrorNames, LinkNames, ListNames, PageParams, Wire};

/// The whole contract, as data.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    pub families: Vec<Family>,
    /// SHA-256 of the spec text.
    pub spec_hash: String,
    /// The OAuth 2.0 client-credentials token URL (a path on the target).
    pub token_path: String,
    /// JSON pointer of the error body schema.
    pub error_schema: String,
    /// How requests that match no operation are answered (`x-unmatched`).
    pub unmatched: Vec<ErrorRule>,
    /// The API's own names besides the types and their fields: list, link, page, envelope and
    /// error fields and the discriminator.
    pub wire: Wire,
}

/// Which kind of project a family serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProjectKind {
    Atlas,
    CloudManager,
}

/// One API family (`cloud-manager`, `atlas-v1`, `atlas-v2`).
#[derive(Debug, Clone, Serialize)]
pub struct Family {
    pub name: String,
    pub title: String,
    pub base_path: String,
    pub project_kind: ProjectKind,
    /// One entry for an unversioned family (media type `application/json`), several for a
    /// family with dated media types.
    pub versions: Vec<Version>,
    /// Request `Content-Type`s accepted besides the versions' media types.
    pub extra_request_content_types: Vec<String>,
    /// The order of `results` in list bodies.
    pub list_order: Vec<String>,
    /// The `integrationType` path enum.
    pub path_types: Vec<String>,
    /// Types in the family's vocabulary that the family refuses with a specific error.
    pub unsupported_types: Vec<String>,
    /// Whether `includeCount=false` omits `totalCount` (else it is ignored).
    pub include_count_honoured: bool,
    /// The query parameters every pagination link carries, with their effective values.
    pub link_query: Vec<String>,
    pub operations: Vec<Operation>,
    pub seeds: Vec<String>,
}

/// A media version of a family.
#[derive(Debug, Clone, Serialize)]
pub struct Version {
    /// The date (`2023-01-01`), or `None` for an unversioned family.
    pub name: Option<String>,
    pub media_type: String,
    /// The supported integration types under this version, in list order.
    pub types: Vec<IntegrationType>,
}

/// One integration type under one family version.
#[derive(Debug, Clone, Serialize)]
pub struct IntegrationType {
    pub name: String,
    /// JSON pointer of the concrete schema (`#/components/schemas/...`).
    pub schema: String,
    /// Every property, in the spec's order, the discriminator included.
    pub fields: Vec<Field>,
    pub conditional_required: Vec<ConditionalRequired>,
}

/// The JSON type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    String,
    Boolean,
    Integer,
    Number,
}

/// A rule the contract states in words for a field, which its `pattern` only approximates
/// (`x-rule`): generated negative values break the rule itself, never merely the regex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldRule {
    /// An absolute URL: scheme `http` or `https` compared case-insensitively, a non-empty
    /// host, an optional port (contract sections 5 and 9).
    AbsoluteHttpUrl,
}

impl FieldRule {
    pub const ALL: [FieldRule; 1] = [FieldRule::AbsoluteHttpUrl];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldRule::AbsoluteHttpUrl => "absolute-http-url",
        }
    }

    pub fn parse(s: &str) -> Option<FieldRule> {
        FieldRule::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// How a secret field comes back in responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecretKind {
    /// Same length, all but the last four characters `*`.
    MaskLast4,
    /// `scheme://host/` then `****` and the last four characters of the rest.
    MaskUrl,
    /// Never returned.
    WriteOnly,
}

impl SecretKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::MaskLast4 => "mask-last4",
            SecretKind::MaskUrl => "mask-url",
            SecretKind::WriteOnly => "write-only",
        }
    }
}

/// One property of an integration type.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    pub name: String,
    pub kind: FieldKind,
    /// Required on create and update (and, unless write-only, present in responses).
    pub required: bool,
    pub nullable: bool,
    /// Assigned by the server; ignored in requests.
    pub read_only: bool,
    pub write_only: bool,
    /// The discriminator (`type`), whose only value is the type's name.
    pub discriminator: bool,
    pub enum_values: Vec<String>,
    pub pattern: Option<String>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub format: Option<String>,
    pub default: Option<Value>,
    pub example: Option<Value>,
    pub secret: Option<SecretKind>,
    /// The contract's rule for the value, when a pattern cannot say it exactly (`x-rule`).
    pub rule: Option<FieldRule>,
}

impl Field {
    /// Whether the field can be set by a client (neither the discriminator nor server-assigned).
    pub fn settable(&self) -> bool {
        !self.discriminator && !self.read_only
    }
}

/// `field` becomes required when `when_field` equals `equals`.
#[derive(Debug, Clone, Serialize)]
pub struct ConditionalRequired {
    pub when_field: String,
    pub equals: Value,
    pub then_required: Vec<String>,
}

/// The five operations of a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationKind {
    List,
    Get,
    Create,
    Update,
    Delete,
}

impl OperationKind {
    pub const ALL: [OperationKind; 5] = [
        OperationKind::List,
        OperationKind::Get,
        OperationKind::Create,
        OperationKind::Update,
        OperationKind::Delete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::List => "list",
            OperationKind::Get => "get",
            OperationKind::Create => "create",
            OperationKind::Update => "update",
            OperationKind::Delete => "delete",
        }
    }

    /// Whether the operation changes state (and so needs the owner role).
    pub fn writes(self) -> bool {
        matches!(
            self,
            OperationKind::Create | OperationKind::Update | OperationKind::Delete
        )
    }

    /// Whether the path names an integration type.
    pub fn has_type(self) -> bool {
        self != OperationKind::List
    }

    /// Whether the success body is the page of all integrations.
    pub fn returns_list(self) -> bool {
        matches!(
            self,
            OperationKind::List | OperationKind::Create | OperationKind::Update
        )
    }
}

impl fmt::Display for OperationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Update semantics of a family's PUT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UpdateRule {
    /// Fields not sent are kept (merge) rather than dropped (replace).
    pub merge: bool,
    /// An unconfigured type is created rather than refused.
    pub upsert: bool,
}

/// The JSON type of a query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamKind {
    Integer,
    Boolean,
}

/// A query parameter of an operation.
#[derive(Debug, Clone, Serialize)]
pub struct QueryParam {
    pub name: String,
    pub kind: ParamKind,
    pub default: Value,
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
}

/// One response of an operation: status and, per media type, the schema pointer.
#[derive(Debug, Clone, Serialize)]
pub struct ResponseDef {
    pub status: u16,
    /// (media type, schema pointer); empty for a response without a body.
    pub content: Vec<(String, String)>,
}

/// One operation of one family.
#[derive(Debug, Clone, Serialize)]
pub struct Operation {
    pub id: String,
    pub family: String,
    pub kind: OperationKind,
    pub method: String,
    /// The path template, base path included.
    pub path: String,
    pub query: Vec<QueryParam>,
    pub success_status: u16,
    pub has_body: bool,
    pub responses: Vec<ResponseDef>,
    pub errors: Vec<ErrorRule>,
    pub update: Option<UpdateRule>,
}

impl Operation {
    pub fn query_param(&self, name: &str) -> Option<&QueryParam> {
        self.query.iter().find(|q| q.name == name)
    }

    /// The error rule for a situation (the first, or the one for `integration_type`).
    pub fn error(&self, situation: Situation) -> Option<&ErrorRule> {
        self.errors.iter().find(|e| e.situation == situation)
    }

    pub fn errors_for(&self, situation: Situation) -> impl Iterator<Item = &ErrorRule> {
        self.errors.iter().filter(move |e| e.situation == situation)
    }

    pub fn response(&self, status: u16) -> Option<&ResponseDef> {
        self.responses.iter().find(|r| r.status == status)
    }
}

/// How strictly an error expectation is judged (contract section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Level {
    /// Exact: this status and this errorCode.
    E,
    /// Status: this status and any non-empty errorCode.
    S,
    /// Class: any 4xx (or the listed statuses) with the error body shape.
    C,
}

macro_rules! situations {
    ($($variant:ident => $name:literal),+ $(,)?) => {
        /// The situations of the error catalogue: what a request does wrong.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum Situation { $($variant),+ }

        impl Situation {
            pub const ALL: &'static [Situation] = &[$(Situation::$variant),+];

            pub fn parse(s: &str) -> Option<Situation> {
                match s { $($name => Some(Situation::$variant),)+ _ => None }
            }

            pub fn as_str(self) -> &'static str {
                match self { $(Situation::$variant => $name),+ }
            }
        }
    };
}

situations! {
    Unauthenticated => "unauthenticated",
    NoProjectAccess => "no-project-access",
    ReadOnlyWrite => "read-only-write",
    UnsupportedVersion => "unsupported-version",
    InvalidGroupId => "invalid-group-id",
    GroupNotFound => "group-not-found",
    WrongProjectKind => "wrong-project-kind",
    InvalidIntegrationType => "invalid-integration-type",
    UnsupportedType => "unsupported-type",
    NotConfigured => "not-configured",
    AlreadyConfigured => "already-configured",
    MalformedJson => "malformed-json",
    BodyNotObject => "body-not-object",
    WrongJsonType => "wrong-json-type",
    TypeMissing => "type-missing",
    TypeMismatch => "type-mismatch",
    RequiredMissing => "required-missing",
    UnknownAttribute => "unknown-attribute",
    EnumInvalid => "enum-invalid",
    InvalidSettings => "invalid-settings",
    UnsupportedMediaType => "unsupported-media-type",
    PayloadTooLarge => "payload-too-large",
    InvalidQueryParameter => "invalid-query-parameter",
    UnknownPath => "unknown-path",
    MethodNotAllowed => "method-not-allowed",
}

impl fmt::Display for Situation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of an operation's error catalogue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorRule {
    pub situation: Situation,
    pub status: u16,
    /// Other statuses that also pass (level C rows).
    pub also_status: Vec<u16>,
    pub error_code: Option<String>,
    pub level: Level,
    /// For `unsupported-type`: the type this row is about.
    pub integration_type: Option<String>,
    /// Expected `parameters`; `{field}` stands for the offending field.
    pub parameters: Vec<String>,
}

impl ErrorRule {
    /// Whether `status` satisfies this rule at its level.
    pub fn status_ok(&self, status: u16) -> bool {
        status == self.status || self.also_status.contains(&status)
    }
}

impl Model {
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.name == name)
    }

    pub fn operations(&self) -> impl Iterator<Item = &Operation> {
        self.families.iter().flat_map(|f| f.operations.iter())
    }
}

impl Family {
    pub fn operation(&self, kind: OperationKind) -> &Operation {
        self.operations
            .iter()
            .find(|o| o.kind == kind)
            .expect("model::build guarantees all five operations")
    }

    /// Whether the family negotiates dated media types.
    pub fn versioned(&self) -> bool {
        self.versions.iter().any(|v| v.name.is_some())
    }

    pub fn version(&self, name: Option<&str>) -> Option<&Version> {
        self.versions.iter().find(|v| v.name.as_deref() == name)
    }

    /// The names of the supported types (in any version), in list order.
    pub fn supported_types(&self) -> Vec<&str> {
        self.list_order
            .iter()
            .filter(|t| {
                self.versions
                    .iter()
                    .any(|v| v.integration_type(t).is_some())
            })
            .map(String::as_str)
            .collect()
    }

    /// Position of a type in the list order.
    pub fn order_of(&self, type_name: &str) -> usize {
        self.list_order
            .iter()
            .position(|t| t == type_name)
            .unwrap_or(usize::MAX)
    }
}

impl Version {
    pub fn integration_type(&self, name: &str) -> Option<&IntegrationType> {
        self.types.iter().find(|t| t.name == name)
    }

    /// A label for ids: the date, or `json`.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or("json")
    }
}

impl IntegrationType {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn discriminator(&self) -> &Field {
        self.fields
            .iter()
            .find(|f| f.discriminator)
            .expect("model::build guarantees a discriminator")
    }

    pub fn settable_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| f.settable())
    }

    pub fn secret_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| f.secret.is_some())
    }
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::SpecInvalid(msg.into())
}

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
    let wire = wire::build(raw, &families)?;
    Ok(Model {
        wire,
        families,
        spec_hash: spec.hash.clone(),
        token_path,
        error_schema,
        unmatched: error_rules(unmatched, "x-unmatched")?,
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
            let types = spec::path_param_enum(raw, path, op, "integrationType");
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
    let create_raw = spec::operations(raw)
        .into_iter()
        .find(|(_, _, op)| op.get("operationId").and_then(Value::as_str) == Some(&create.id))
        .map(|(_, _, op)| op)
        .expect("operation exists");
    let body = deref(raw, create_raw.get("requestBody").unwrap_or(&Value::Null));
    let content = body
        .get("content")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            invalid(format!(
                "operation {}: requestBody has no content",
                create.id
            ))
        })?;

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

/// The integration types of a request body schema: `oneOf` + `discriminator` on `type`.
fn build_types(raw: &Value, schema: &Value, context: &str) -> Result<Vec<IntegrationType>> {
    let node = deref(raw, schema);
    let disc = node.get("discriminator").ok_or_else(|| {
        invalid(format!(
            "{context}: request body schema has no discriminator"
        ))
    })?;
    let prop = disc
        .get("propertyName")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("{context}: discriminator has no propertyName")))?;
    let mapping = disc
        .get("mapping")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid(format!("{context}: discriminator has no mapping")))?;
    let mut types = Vec::new();
    for (type_name, target) in mapping {
        let target = target.as_str().unwrap_or_default();
        let start = serde_json::json!({ "$ref": target });
        let pointer = final_ref(raw, &start).unwrap_or_else(|| target.to_owned());
        let schema = deref(raw, &start);
        types.push(build_type(raw, type_name, &pointer, schema, prop)?);
    }
    Ok(types)
}

fn build_type(
    raw: &Value,
    name: &str,
    pointer: &str,
    schema: &Value,
    discriminator: &str,
) -> Result<IntegrationType> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let secrets: BTreeMap<String, String> = schema
        .get("x-secrets")
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .unwrap_or_default();
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid(format!("schema {pointer} (type {name}) has no properties")))?;
    let mut fields = Vec::new();
    for (field_name, prop) in props {
        let p = deref(raw, prop);
        let kind = match p.get("type").and_then(Value::as_str) {
            Some("string") => FieldKind::String,
            Some("boolean") => FieldKind::Boolean,
            Some("integer") => FieldKind::Integer,
            Some("number") => FieldKind::Number,
            other => {
                return Err(invalid(format!(
                    "schema {pointer}: field {field_name} has type {other:?}"
                )))
            }
        };
        let enum_values: Vec<String> = p
            .get("enum")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        let is_disc = field_name == discriminator;
        if is_disc && enum_values != [name] {
            return Err(invalid(format!(
                "schema {pointer}: discriminator {discriminator} must have enum [{name}]"
            )));
        }
        let secret = match secrets.get(field_name).map(String::as_str) {
            Some("mask-last4") => Some(SecretKind::MaskLast4),
            Some("mask-url") => Some(SecretKind::MaskUrl),
            Some("write-only") => Some(SecretKind::WriteOnly),
            _ => None,
        };
        let bool_of = |k: &str| p.get(k).and_then(Value::as_bool).unwrap_or(false);
        let usize_of = |k: &str| p.get(k).and_then(Value::as_u64).map(|n| n as usize);
        fields.push(Field {
            name: field_name.clone(),
            kind,
            required: required.contains(&field_name.as_str()),
            nullable: bool_of("nullable"),
            read_only: bool_of("readOnly"),
            write_only: bool_of("writeOnly"),
            discriminator: is_disc,
            enum_values,
            pattern: p.get("pattern").and_then(Value::as_str).map(str::to_owned),
            min_length: usize_of("minLength"),
            max_length: usize_of("maxLength"),
            format: p.get("format").and_then(Value::as_str).map(str::to_owned),
            default: p.get("default").cloned(),
            example: p.get("example").cloned(),
            secret,
            rule: p
                .get("x-rule")
                .and_then(Value::as_str)
                .and_then(FieldRule::parse),
        });
    }
    if !fields.iter().any(|f| f.discriminator) {
        return Err(invalid(format!(
            "schema {pointer} (type {name}) lacks the discriminator property {discriminator}"
        )));
    }
    let conditional_required = match schema.get("x-conditional-required") {
        Some(rules) => {
            let rules: Vec<ConditionalExt> = serde_json::from_value(rules.clone())
                .map_err(|e| invalid(format!("schema {pointer}: {e}")))?;
            rules
                .into_iter()
                .map(|r| ConditionalRequired {
                    when_field: r.when.field,
                    equals: r.when.equals,
                    then_required: r.then,
                })
                .collect()
        }
        None => Vec::new(),
    };
    Ok(IntegrationType {
        name: name.to_owned(),
        schema: pointer.to_owned(),
        fields,
        conditional_required,
    })
}

/// Load the bundled spec and build its model.
pub fn bundled() -> Result<Model> {
    build(&spec::bundled()?)
}
