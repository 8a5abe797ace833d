//! Stage 3: generate the conformance cases from the model alone.
//!
//! A case is data: the requests to send (setup, the request under test, verification, cleanup)
//! and, per step, what a conformant target must answer. Nothing here names an integration type
//! or a field: every module reads the [`Model`]. One module per category.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::model::{ErrorRule, Family, Model, Operation, OperationKind, Version};

mod auth;
mod characters;
mod concurrency;
mod credentials;
mod diversity;
mod envelope;
mod error_shape;
mod errors;
mod grammar;
mod media;
mod pagination;
mod redaction;
mod roundtrip;
mod rules;
mod state;
mod validation;
pub mod values;
mod versions;

/// What a case is about; used for filtering, reports and the fault self-test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Validation,
    Redaction,
    Pagination,
    Envelope,
    Errors,
    Auth,
    Versions,
    State,
    /// Concurrent requests on one type of one project (contract section 9).
    Concurrency,
}

impl Category {
    pub const ALL: [Category; 9] = [
        Category::Validation,
        Category::Redaction,
        Category::Pagination,
        Category::Envelope,
        Category::Errors,
        Category::Auth,
        Category::Versions,
        Category::State,
        Category::Concurrency,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Validation => "validation",
            Category::Redaction => "redaction",
            Category::Pagination => "pagination",
            Category::Envelope => "envelope",
            Category::Errors => "errors",
            Category::Auth => "auth",
            Category::Versions => "versions",
            Category::State => "state",
            Category::Concurrency => "concurrency",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which project a request addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "id")]
pub enum Project {
    /// The family's own project (Atlas or Cloud Manager, by the family's project kind).
    Own,
    /// A project of the other kind (Cloud Manager for Atlas families and vice versa).
    OtherKind,
    /// A project the credentials cannot access.
    NoAccess,
    /// A literal group id (malformed, or well-formed but of no project).
    Literal(String),
    /// No project: the path is under the base path itself (the OAuth token endpoint).
    Unscoped,
}

/// Which credentials a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Credential {
    /// The main (owner) credentials.
    Owner,
    /// The read-only credentials.
    ReadOnly,
    /// No `Authorization` header at all.
    None,
    /// Digest with the right user and a wrong password.
    WrongPassword,
    /// A bearer token the target never issued.
    BadBearer,
    /// A bearer token the target issued and then expired (embedded server only).
    ExpiredBearer,
    /// A digest response computed with a nonce the target never issued.
    ForgedNonce,
    /// A digest `Authorization` the target already accepted once, sent again unchanged.
    ReplayedNonceCount,
    /// A digest response to a nonce the target issued and then expired (embedded server only).
    StaleNonce,
    /// A valid digest response computed for another request target (`uri` of another path).
    OtherUri,
    /// HTTP Basic with the OAuth client's own id and secret (token endpoint).
    Client,
    /// HTTP Basic with the OAuth client's id and a wrong secret (token endpoint).
    ClientWrongSecret,
    /// HTTP Basic with a client id the target never registered (token endpoint).
    ClientUnknown,
}

/// A request body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "value")]
pub enum Body {
    None,
    Json(Value),
    /// Bytes sent as they are (malformed JSON).
    Raw(String),
    /// A valid JSON object padded with whitespace inside its braces to `size` bytes (payload
    /// limits): valid apart from its size.
    Oversized {
        value: Value,
        size: usize,
    },
}

impl Body {
    /// The bytes sent on the wire, `None` without a body.
    pub fn bytes(&self) -> Option<Vec<u8>> {
        match self {
            Body::None => None,
            Body::Json(v) => Some(serde_json::to_vec(v).unwrap_or_default()),
            Body::Raw(s) => Some(s.clone().into_bytes()),
            Body::Oversized { value, size } => Some(padded(value, *size)),
        }
    }
}

/// `value` serialised, with spaces inserted after its opening brace (JSON whitespace) until the
/// text is `size` bytes long; a value that is not an object is not padded.
fn padded(value: &Value, size: usize) -> Vec<u8> {
    let text = serde_json::to_vec(value).unwrap_or_default();
    if !value.is_object() || text.len() >= size {
        return text;
    }
    let mut out = Vec::with_capacity(size);
    out.push(b'{');
    out.resize(size - text.len() + 1, b' ');
    out.extend_from_slice(&text[1..]);
    out
}

/// One request, before the target fills in its base URL, group ids and credentials.
#[derive(Debug, Clone, Serialize)]
pub struct Request {
    pub method: String,
    pub project: Project,
    /// The path under `/groups/{groupId}` (e.g. `/integrations/SLACK`).
    pub path: String,
    /// The family's base path (`/api/atlas/v2`).
    pub base_path: String,
    pub query: Vec<(String, String)>,
    pub accept: Option<String>,
    pub content_type: Option<String>,
    pub body: Body,
    pub credential: Credential,
    /// The operation the request exercises (response schemas are looked up from it).
    pub operation: String,
    /// The media version the request asks for (atlas-v2).
    pub version: Option<String>,
}

impl Request {
    /// Whether the request asks for an enveloped response.
    pub fn enveloped(&self) -> bool {
        self.query
            .iter()
            .find(|(k, _)| k == "envelope")
            .is_some_and(|(_, v)| v == "true")
    }

    /// Whether the request asks for pretty output.
    pub fn pretty(&self) -> bool {
        self.query
            .iter()
            .find(|(k, _)| k == "pretty")
            .is_some_and(|(_, v)| v == "true")
    }

    /// `METHOD /base/groups/{groupId}/path?query`, with the group id as a placeholder.
    pub fn line(&self) -> String {
        let group = match &self.project {
            Project::Own => "{groupId}".to_owned(),
            Project::OtherKind => "{otherKindGroupId}".to_owned(),
            Project::NoAccess => "{noAccessGroupId}".to_owned(),
            Project::Literal(id) => id.clone(),
            Project::Unscoped => String::new(),
        };
        let mut line = if self.project == Project::Unscoped {
            format!("{} {}{}", self.method, self.base_path, self.path)
        } else {
            format!(
                "{} {}/groups/{group}{}",
                self.method, self.base_path, self.path
            )
        };
        if !self.query.is_empty() {
            let q: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            line.push('?');
            line.push_str(&q.join("&"));
        }
        line
    }

    pub fn with_query(mut self, key: &str, value: &str) -> Request {
        self.query.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn with_credential(mut self, credential: Credential) -> Request {
        self.credential = credential;
        self
    }

    pub fn with_project(mut self, project: Project) -> Request {
        self.project = project;
        self
    }

    pub fn with_accept(mut self, accept: Option<&str>) -> Request {
        self.accept = accept.map(str::to_owned);
        self
    }

    pub fn with_content_type(mut self, content_type: Option<&str>) -> Request {
        self.content_type = content_type.map(str::to_owned);
        self
    }

    pub fn with_body(mut self, body: Body) -> Request {
        self.body = body;
        self
    }
}

/// What a step is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Puts the project in the state the case needs; must succeed.
    Setup,
    /// The request under test.
    Test,
    /// A request under test sent at the same moment as the `Concurrent` steps next to it (one
    /// group); judged one by one and as a group.
    Concurrent,
    /// Reads state back after the request under test.
    Verify,
    /// Restores the project; never judged, but failures are reported.
    Cleanup,
}

/// The integration a page or a single response must show, as the contract renders it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct View {
    pub type_name: String,
    /// The expected object; a read-only server-assigned field holds [`values::ASSIGNED`].
    pub object: Value,
}

/// Expected pagination of a list body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageExpect {
    /// Every integration the case has configured, in list order (the target's pre-existing ones
    /// are merged in at run time).
    pub all: Vec<View>,
    pub page_num: u64,
    pub items_per_page: u64,
    /// The effective `includeCount` (links that carry it must show this value).
    pub include_count: bool,
    /// Whether `totalCount` must be present.
    pub total_count: bool,
}

/// What a conformant response to a step looks like.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "expect")]
pub enum Expect {
    /// This success status.
    Status { status: u16 },
    /// An error from the catalogue; `{field}` in its parameters stands for `field`.
    Error {
        rule: ErrorRule,
        field: Option<String>,
    },
    /// A 401 carries a `WWW-Authenticate` challenge (with `stale=true` when `stale`).
    Challenge { stale: bool },
    /// The response carries this header (any value).
    Header { name: String },
    /// The one integration, exactly as the contract renders it.
    Single { view: View },
    /// A list page.
    Page { page: PageExpect },
    /// The body is wrapped (`envelope=true`) with this status.
    Enveloped { status: u16 },
    /// The body is indented over several lines (`true`) or on one line (`false`).
    Pretty { pretty: bool },
    /// The response has no body.
    Empty,
    /// The response `Content-Type` is this media type.
    MediaType { media_type: String },
    /// Each listed secret field of the type shows its exact mask (or is absent, write-only).
    Masked {
        type_name: String,
        /// (field, expected mask); `None`: the field must be absent (write-only).
        fields: Vec<(String, Option<String>)>,
    },
    /// One of a group of concurrent writes: this success status (the group's one winner) or
    /// else the error `rule`; across the group exactly one step succeeds.
    OneWins { status: u16, rule: ErrorRule },
    /// An OAuth 2.0 error (RFC 6749 section 5.2): this status and `{"error": error}`.
    OAuthError { status: u16, error: String },
    /// A point the contract leaves open (a tolerated reading): this success status, and then
    /// the step's other expectations, or else the error `rule`.
    Either { status: u16, rule: ErrorRule },
    /// The one integration is exactly the view that the winning step of a concurrent group sent
    /// (one view per step index of the group), never a mixture of several.
    Winner {
        type_name: String,
        views: Vec<(usize, Value)>,
    },
    /// The named read-only field keeps the value it had in an earlier step's response.
    SameAssigned {
        type_name: String,
        field: String,
        step: usize,
    },
}

/// One request with its expectations.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub role: Role,
    pub request: Request,
    pub expect: Vec<Expect>,
    /// For a request under test that must be refused: the valid request it was made from by
    /// one mutation (every negative has one; `tests/integration/cases.rs` proves both halves).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
}

/// The valid request a negative request was derived from, and the one thing changed.
#[derive(Debug, Clone, Serialize)]
pub struct Baseline {
    /// The request a conformant target accepts (after `state`).
    pub request: Request,
    /// What the mutation changed, in a few words (`query pageNum=abc`, `body without type`).
    pub mutation: String,
    /// How the project's state before the baseline differs from the case's setup.
    pub state: BaselineState,
}

/// The project state a baseline request runs in, relative to the case's own setup steps.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "requests")]
pub enum BaselineState {
    /// After the case's setup steps, as the negative request: the mutation is in the request.
    Same,
    /// Without the case's setup steps: the state they made is the fault (a create of a type
    /// that is already configured). Counts as the mutation.
    SetupRemoved,
    /// After the case's setup steps and these requests: what the case leaves undone is the
    /// fault (a get of a type that is not configured). Counts as the mutation.
    SetupAdded(Vec<Request>),
    /// After the case's setup steps and these requests, which prepare what the baseline
    /// addresses and the negative request does not (the negative names another project, path
    /// or method). Not a mutation: only valid beside a project, path or method mutation.
    Prepared(Vec<Request>),
}

impl Baseline {
    pub(crate) fn new(request: Request, mutation: impl Into<String>) -> Baseline {
        Baseline {
            request,
            mutation: mutation.into(),
            state: BaselineState::Same,
        }
    }

    pub(crate) fn state(mut self, state: BaselineState) -> Baseline {
        self.state = state;
        self
    }
}

/// What a case needs from the target beyond the main credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Requirement {
    ReadOnlyCredentials,
    NoAccessProject,
    OtherKindProject,
    /// Credentials of the digest kind (the case forges digest responses).
    Digest,
    /// A way to expire a token the target issued (the embedded server).
    TokenExpiry,
    /// A way to expire the digest nonces the target issued (the embedded server).
    NonceExpiry,
    /// The target's project holds none of the family's integrations (exact lists).
    EmptyProject,
    /// OAuth client credentials to present at the token endpoint.
    OAuthClient,
}

/// Which serial lane a case runs in: cases of one project run in order, lanes run concurrently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lane {
    Atlas,
    CloudManager,
    /// Requests that touch no project's integrations (bad group ids, no access, no credentials).
    Stateless,
}

/// One generated case.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    /// `{family}/{operationId}/{kebab-scenario}`.
    pub id: String,
    pub family: String,
    pub operation: String,
    pub category: Category,
    /// One line: what the case checks.
    pub title: String,
    pub lane: Lane,
    pub steps: Vec<Step>,
    /// Values the case sends that must never come back (secrets).
    pub secrets: Vec<String>,
    /// Integration types the case configures in its project (skipped if pre-existing).
    pub touches: Vec<String>,
    pub requires: Vec<Requirement>,
}

impl Case {
    /// The (first) request under test.
    pub fn test_step(&self) -> Option<&Step> {
        self.steps
            .iter()
            .find(|s| matches!(s.role, Role::Test | Role::Concurrent))
    }

    /// Record on the request under test the valid request it was derived from.
    pub(crate) fn derived(mut self, baseline: Baseline) -> Case {
        if let Some(step) = self.steps.iter_mut().find(|s| s.role == Role::Test) {
            step.baseline = Some(baseline);
        }
        self
    }
}

/// Generate every case of the model, sorted by id. Ids are unique: a collision is a bug of the
/// generators and panics with both titles.
pub fn generate(model: &Model) -> Vec<Case> {
    let mut cases = Vec::new();
    for family in &model.families {
        let cx = Ctx { model, family };
        validation::generate(&cx, &mut cases);
        redaction::generate(&cx, &mut cases);
        pagination::generate(&cx, &mut cases);
        envelope::generate(&cx, &mut cases);
        errors::generate(&cx, &mut cases);
        auth::generate(&cx, &mut cases);
        versions::generate(&cx, &mut cases);
        state::generate(&cx, &mut cases);
        // The points contract section 9 settled.
        characters::generate(&cx, &mut cases);
        media::generate(&cx, &mut cases);
        concurrency::generate(&cx, &mut cases);
        diversity::generate(&cx, &mut cases);
        credentials::generate(&cx, &mut cases);
        grammar::generate(&cx, &mut cases);
        roundtrip::generate(&cx, &mut cases);
        // Last: it copies error cases of the family the others made.
        error_shape::generate(&cx, &mut cases);
    }
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    if let Some(pair) = cases.windows(2).find(|w| w[0].id == w[1].id) {
        // Two generators named different cases alike: one would silently replace the other.
        panic!(
            "two cases share the id {}: {:?} and {:?}",
            pair[0].id, pair[0].title, pair[1].title
        );
    }
    cases
}

/// The generation context of one family.
pub(crate) struct Ctx<'a> {
    pub(crate) model: &'a Model,
    pub(crate) family: &'a Family,
}

impl<'a> Ctx<'a> {
    pub(crate) fn op(&self, kind: OperationKind) -> &'a Operation {
        self.family.operation(kind)
    }

    pub(crate) fn lane(&self) -> Lane {
        match self.family.project_kind {
            crate::model::ProjectKind::Atlas => Lane::Atlas,
            crate::model::ProjectKind::CloudManager => Lane::CloudManager,
        }
    }

    /// `{family}/{operationId}/{scenario}`.
    pub(crate) fn id(&self, kind: OperationKind, scenario: &str) -> String {
        format!(
            "{}/{}/{}",
            self.family.name,
            self.op(kind).id,
            kebab(scenario)
        )
    }

    /// A scenario suffix naming the version when the family has several.
    pub(crate) fn vs(&self, version: &Version, scenario: &str) -> String {
        match &version.name {
            Some(name) if self.family.versioned() => format!("v{name}-{scenario}"),
            _ => scenario.to_owned(),
        }
    }

    /// A scenario about one type: `{type-slug}-{rest}`, with the version when the family has
    /// several.
    pub(crate) fn type_scenario(
        &self,
        version: &Version,
        ty: &crate::model::IntegrationType,
        rest: &str,
    ) -> String {
        self.vs(
            version,
            &format!("{}-{rest}", ty.name.to_lowercase().replace('_', "-")),
        )
    }

    /// The request template of an operation, under a version, for a type (if the path has one).
    pub(crate) fn request(
        &self,
        kind: OperationKind,
        version: &Version,
        type_name: Option<&str>,
    ) -> Request {
        let op = self.op(kind);
        let path = match type_name {
            Some(t) if kind.has_type() => format!("/integrations/{t}"),
            _ => "/integrations".to_owned(),
        };
        let content_type = op.has_body.then(|| version.media_type.clone());
        Request {
            method: op.method.clone(),
            project: Project::Own,
            path,
            base_path: self.family.base_path.clone(),
            query: Vec::new(),
            accept: Some(version.media_type.clone()),
            content_type,
            body: Body::None,
            credential: Credential::Owner,
            operation: op.id.clone(),
            version: version.name.clone(),
        }
    }

    /// The version every non-version-specific case uses: the newest.
    pub(crate) fn default_version(&self) -> &'a Version {
        self.family.versions.last().expect("a family has a version")
    }

    /// The error rule of an operation for a situation. Panics only on a model/generator
    /// mismatch, which `spec::load` rules out for the situations the generator asks for.
    pub(crate) fn rule(
        &self,
        kind: OperationKind,
        situation: crate::model::Situation,
    ) -> Option<ErrorRule> {
        self.op(kind).error(situation).cloned()
    }
}

/// `camelCase_and_SNAKE` → `camel-case-and-snake`.
pub(crate) fn kebab(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c == '_' || c == ' ' {
            out.push('-');
            prev_lower = false;
        } else {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        }
    }
    out
}

/// Convenience: a case builder with the common fields filled.
pub(crate) struct CaseBuilder {
    case: Case,
}

impl CaseBuilder {
    pub(crate) fn new(
        cx: &Ctx<'_>,
        kind: OperationKind,
        scenario: &str,
        category: Category,
    ) -> Self {
        CaseBuilder {
            case: Case {
                id: cx.id(kind, scenario),
                family: cx.family.name.clone(),
                operation: cx.op(kind).id.clone(),
                category,
                title: String::new(),
                lane: cx.lane(),
                steps: Vec::new(),
                secrets: Vec::new(),
                touches: Vec::new(),
                requires: Vec::new(),
            },
        }
    }

    /// How many steps the case has so far (the index the next step gets).
    pub(crate) fn next_index(&self) -> usize {
        self.case.steps.len()
    }

    pub(crate) fn title(mut self, title: impl Into<String>) -> Self {
        self.case.title = title.into();
        self
    }

    pub(crate) fn lane(mut self, lane: Lane) -> Self {
        self.case.lane = lane;
        self
    }

    pub(crate) fn step(mut self, role: Role, request: Request, expect: Vec<Expect>) -> Self {
        self.case.steps.push(Step {
            role,
            request,
            expect,
            baseline: None,
        });
        self
    }

    pub(crate) fn secrets(mut self, secrets: impl IntoIterator<Item = String>) -> Self {
        for s in secrets {
            if !self.case.secrets.contains(&s) {
                self.case.secrets.push(s);
            }
        }
        self
    }

    pub(crate) fn touches(mut self, type_name: &str) -> Self {
        if !self.case.touches.iter().any(|t| t == type_name) {
            self.case.touches.push(type_name.to_owned());
        }
        self
    }

    pub(crate) fn requires(mut self, r: Requirement) -> Self {
        if !self.case.requires.contains(&r) {
            self.case.requires.push(r);
        }
        self
    }

    pub(crate) fn build(mut self, cx: &Ctx<'_>) -> Case {
        // Whatever generated secret a body carries (inside arrays, under foreign fields) is a
        // secret of the case, whether or not the generator declared it.
        let mut found = Vec::new();
        for step in &self.case.steps {
            if let Body::Json(v) = &step.request.body {
                values::canaries_in(v, &mut found);
            }
        }
        self = self.secrets(found);
        // Every configured type is removed at the end, whatever happened.
        let touched = self.case.touches.clone();
        for t in touched {
            let version = cx.default_version();
            let req = cx.request(OperationKind::Delete, version, Some(&t));
            self.case.steps.push(Step {
                role: Role::Cleanup,
                request: req,
                expect: Vec::new(),
                baseline: None,
            });
        }
        self.case
    }
}

/// A setup step that configures `ty` with a valid body; returns the step and what is stored.
pub(crate) fn setup_create(
    cx: &Ctx<'_>,
    version: &Version,
    ty: &crate::model::IntegrationType,
    seed: &str,
    fill: values::Fill,
) -> (Step, serde_json::Map<String, Value>) {
    let body = values::valid_body(ty, seed, fill);
    let request = cx
        .request(OperationKind::Create, version, Some(&ty.name))
        .with_body(Body::Json(Value::Object(body.clone())));
    let step = Step {
        role: Role::Setup,
        request,
        expect: vec![Expect::Status {
            status: cx.op(OperationKind::Create).success_status,
        }],
        baseline: None,
    };
    (step, body)
}

/// The requests that configure `ty` when `kind` needs it configured to succeed (get, delete, an
/// update that is no upsert); for baselines whose negative request addresses something else.
pub(crate) fn prepared(
    cx: &Ctx<'_>,
    version: &Version,
    ty: &crate::model::IntegrationType,
    kind: OperationKind,
    seed: &str,
) -> BaselineState {
    let needs = match kind {
        OperationKind::Get | OperationKind::Delete => true,
        OperationKind::Update => !cx.op(kind).update.is_some_and(|u| u.upsert),
        OperationKind::List | OperationKind::Create => false,
    };
    let requests = if needs {
        vec![configure(cx, version, ty, seed)]
    } else {
        Vec::new()
    };
    BaselineState::Prepared(requests)
}

/// A create of `ty` with a valid minimal body.
pub(crate) fn configure(
    cx: &Ctx<'_>,
    version: &Version,
    ty: &crate::model::IntegrationType,
    seed: &str,
) -> Request {
    let body = values::valid_body(ty, seed, values::Fill::Minimal);
    cx.request(OperationKind::Create, version, Some(&ty.name))
        .with_body(Body::Json(Value::Object(body)))
}

/// A verification step: `ty` is configured as `stored` (or not configured at all).
pub(crate) fn verify_state(
    cx: &Ctx<'_>,
    version: &Version,
    ty: &crate::model::IntegrationType,
    stored: Option<&serde_json::Map<String, Value>>,
) -> Step {
    let request = cx.request(OperationKind::Get, version, Some(&ty.name));
    let expect = match stored {
        Some(stored) => vec![
            Expect::Status {
                status: cx.op(OperationKind::Get).success_status,
            },
            Expect::Single {
                view: View {
                    type_name: ty.name.clone(),
                    object: values::view(ty, stored),
                },
            },
        ],
        None => match cx.rule(OperationKind::Get, crate::model::Situation::NotConfigured) {
            Some(rule) => vec![Expect::Error { rule, field: None }],
            None => Vec::new(),
        },
    };
    Step {
        role: Role::Verify,
        request,
        expect,
        baseline: None,
    }
}

/// The page a list-returning success shows when the project holds exactly `all`.
pub(crate) fn first_page(cx: &Ctx<'_>, all: Vec<View>) -> Expect {
    let mut all = all;
    all.sort_by_key(|v| cx.family.order_of(&v.type_name));
    Expect::Page {
        page: PageExpect {
            all,
            page_num: 1,
            items_per_page: 100,
            include_count: true,
            total_count: true,
        },
    }
}

/// What a case is about: one operation on one integration type under one media version.
#[derive(Clone, Copy)]
pub(crate) struct Subject<'c, 'a> {
    pub(crate) cx: &'c Ctx<'a>,
    pub(crate) version: &'a Version,
    pub(crate) ty: &'a crate::model::IntegrationType,
    pub(crate) kind: OperationKind,
}

impl<'c, 'a> Subject<'c, 'a> {
    pub(crate) fn new(
        cx: &'c Ctx<'a>,
        version: &'a Version,
        ty: &'a crate::model::IntegrationType,
        kind: OperationKind,
    ) -> Self {
        Subject {
            cx,
            version,
            ty,
            kind,
        }
    }

    /// A case about this subject, named `scenario`, of `category`, with a one-line `title`.
    pub(crate) fn case(
        self,
        scenario: &str,
        category: Category,
        title: impl Into<String>,
    ) -> Draft<'c, 'a> {
        Draft {
            subject: self,
            scenario: scenario.to_owned(),
            category,
            title: title.into(),
        }
    }
}

/// A case being made: its subject and names, before what it expects.
pub(crate) struct Draft<'c, 'a> {
    subject: Subject<'c, 'a>,
    scenario: String,
    category: Category,
    title: String,
}

impl Draft<'_, '_> {
    /// The case so far: its id, category and title, and the type it configures.
    fn builder(self) -> CaseBuilder {
        let Subject { cx, ty, kind, .. } = self.subject;
        CaseBuilder::new(cx, kind, &self.scenario, self.category)
            .title(self.title)
            .touches(&ty.name)
    }

    /// The write under test (the subject's operation with body `sent`, request adjusted by
    /// `tweak`) must be accepted: the answer is the page holding the resulting view, and get
    /// shows it afterwards. With `old`, the type is configured with that body first and the
    /// update semantics apply.
    pub(crate) fn accepts(
        self,
        sent: serde_json::Map<String, Value>,
        old: Option<serde_json::Map<String, Value>>,
        tweak: impl FnOnce(Request) -> Request,
    ) -> Case {
        let Subject {
            cx,
            version,
            ty,
            kind,
        } = self.subject;
        let mut b = self.builder().secrets(values::secrets_of(ty, &sent));
        let stored = match old {
            Some(old) => {
                let request = cx
                    .request(OperationKind::Create, version, Some(&ty.name))
                    .with_body(Body::Json(Value::Object(old.clone())));
                let ok = Expect::Status {
                    status: cx.op(OperationKind::Create).success_status,
                };
                b = b
                    .secrets(values::secrets_of(ty, &old))
                    .step(Role::Setup, request, vec![ok]);
                let merge = cx.op(kind).update.is_some_and(|u| u.merge);
                values::apply_update(ty, &old, &sent, merge)
            }
            None => values::apply_update(ty, &serde_json::Map::new(), &sent, false),
        };
        let view = View {
            type_name: ty.name.clone(),
            object: values::view(ty, &stored),
        };
        let request = tweak(
            cx.request(kind, version, Some(&ty.name))
                .with_body(Body::Json(Value::Object(sent))),
        );
        let expect = vec![
            Expect::Status {
                status: cx.op(kind).success_status,
            },
            first_page(cx, vec![view]),
        ];
        let verify = verify_state(cx, version, ty, Some(&stored));
        b.step(Role::Test, request, expect)
            .step(verify.role, verify.request, verify.expect)
            .build(cx)
    }

    /// The request under test must be refused with `rule` (about `field`), leaving the type as
    /// it was: configured first when `preconfigured`, else absent.
    pub(crate) fn refuses(
        self,
        request: Request,
        rule: ErrorRule,
        field: Option<String>,
        preconfigured: bool,
    ) -> Case {
        let Subject {
            cx, version, ty, ..
        } = self.subject;
        let mut b = self.builder();
        let mut stored = None;
        if preconfigured {
            let (step, body) = setup_create(
                cx,
                version,
                ty,
                &format!("{}#setup", b.case.id),
                values::Fill::Full,
            );
            b = b.secrets(values::secrets_of(ty, &body));
            b.case.steps.push(step);
            stored = Some(body);
        }
        if let Body::Json(Value::Object(sent)) = &request.body {
            b = b.secrets(values::secrets_of(ty, sent));
        }
        b = b.step(Role::Test, request, vec![Expect::Error { rule, field }]);
        let verify = verify_state(cx, version, ty, stored.as_ref());
        b.case.steps.push(verify);
        b.build(cx)
    }
}

/// The `Masked` expectation for the secret fields a body sets.
pub(crate) fn masked(
    ty: &crate::model::IntegrationType,
    body: &serde_json::Map<String, Value>,
) -> Expect {
    let fields = ty
        .secret_fields()
        .filter_map(|f| {
            let sent = body.get(&f.name)?.as_str()?;
            Some((f.name.clone(), values::mask(f.secret?, sent)))
        })
        .collect();
    Expect::Masked {
        type_name: ty.name.clone(),
        fields,
    }
}

/// Every type of a version configured: the setup steps, the views in list order, the secrets
/// sent and each type's body.
pub(crate) struct Fixture {
    pub(crate) steps: Vec<Step>,
    pub(crate) views: Vec<View>,
    pub(crate) secrets: Vec<String>,
    pub(crate) bodies: Vec<(String, serde_json::Map<String, Value>)>,
}

/// A setup step per type of `version`, each configured with a `Full` body.
pub(crate) fn setup_all(cx: &Ctx<'_>, version: &Version, seed: &str) -> Fixture {
    let mut steps = Vec::new();
    let mut views = Vec::new();
    let mut secrets = Vec::new();
    let mut bodies = Vec::new();
    // Configure in reverse list order, so that the list order is the target's doing.
    for ty in version.types.iter().rev() {
        let (step, body) = setup_create(
            cx,
            version,
            ty,
            &format!("{seed}#{}", ty.name),
            values::Fill::Full,
        );
        secrets.extend(values::secrets_of(ty, &body));
        views.push(View {
            type_name: ty.name.clone(),
            object: values::view(ty, &body),
        });
        bodies.push((ty.name.clone(), body));
        steps.push(step);
    }
    views.sort_by_key(|v| cx.family.order_of(&v.type_name));
    Fixture {
        steps,
        views,
        secrets,
        bodies,
    }
}
