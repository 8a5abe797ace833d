//! Stage 2: the typed model every later stage reads (the case generator, the checks, the
//! reference server). Built from a validated [`spec::Spec`]; no later stage reads the raw document or
//! names an integration type or a field in code.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::spec;

mod build;
mod codes;
mod types;
mod wire;

pub use build::build;
pub use codes::{ErrorCodes, FALLBACK};

pub use wire::{EnvelopeNames, ErrorNames, LinkNames, ListNames, PageParams, QueryRole, Wire};

/// The path parameter that names an integration's type.
pub(crate) const TYPE_PARAM: &str = "integrationType";

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

impl ProjectKind {
    /// The other kind of project (Cloud Manager for Atlas and vice versa).
    pub fn other(self) -> ProjectKind {
        match self {
            ProjectKind::Atlas => ProjectKind::CloudManager,
            ProjectKind::CloudManager => ProjectKind::Atlas,
        }
    }
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

/// How strictly an expectation is judged (contract section 5 and its top table): an error
/// row's and a contract rule's alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    /// Exact: this status and this errorCode (or this exact value).
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
    DigestUriMismatch => "digest-uri-mismatch",
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

impl Situation {
    /// The credentials themselves are refused (missing, wrong, or a digest for another `uri`):
    /// a 401 whose body may be empty (contract sections 5 and 10).
    pub fn refuses_credentials(self) -> bool {
        matches!(
            self,
            Situation::Unauthenticated | Situation::DigestUriMismatch
        )
    }
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
    /// The `errorCode` the API answers `situation` with where an operation's catalogue row gives
    /// none (see [`ErrorCodes`]).
    pub fn code_for(&self, situation: Situation) -> &str {
        self.wire.codes.code(situation)
    }

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

/// Load the bundled spec and build its model.
pub fn bundled() -> Result<Model> {
    build(&spec::bundled()?)
}
