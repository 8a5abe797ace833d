//! What a case is, as data: the requests it sends (project, credentials, body), the role of each
//! step, what a conformant answer looks like, the baseline a negative request came from, and
//! the lane it runs in.

use serde::Serialize;
use serde_json::Value;

use super::Category;
use crate::model::ErrorRule;

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
    /// `Digest` without the parameters a digest response has.
    MalformedDigest,
    /// A scheme the contract does not name (`Negotiate`).
    UnnamedScheme,
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
    /// The OAuth client's owner credentials, beside digest main credentials: a bearer token
    /// from the token endpoint, renewed once on a 401 (cases that use it require an OAuth client).
    #[serde(rename = "oauth-owner")]
    OAuthOwner,
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
    pub fn enveloped(&self, wire: &crate::model::Wire) -> bool {
        self.query
            .iter()
            .find(|(k, _)| *k == wire.envelope.param)
            .is_some_and(|(_, v)| v == "true")
    }

    /// Whether the request asks for pretty output.
    pub fn pretty(&self, wire: &crate::model::Wire) -> bool {
        self.query
            .iter()
            .find(|(k, _)| *k == wire.pretty)
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

impl Role {
    /// The step's role as reports and `cases` show it (its serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Setup => "setup",
            Role::Test => "test",
            Role::Concurrent => "concurrent",
            Role::Verify => "verify",
            Role::Cleanup => "cleanup",
        }
    }
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

impl Step {
    /// The requests the runner sends for this step: one, or two where a wrong digest earns the
    /// one retry a 401 challenge gets and is refused again.
    pub fn requests(&self) -> usize {
        match self.request.credential {
            Credential::ForgedNonce
            | Credential::ReplayedNonceCount
            | Credential::WrongPassword => 2,
            _ => 1,
        }
    }
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

impl Lane {
    /// The lane of the cases of a project of `kind`.
    pub fn of(kind: crate::model::ProjectKind) -> Lane {
        match kind {
            crate::model::ProjectKind::Atlas => Lane::Atlas,
            crate::model::ProjectKind::CloudManager => Lane::CloudManager,
        }
    }
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
