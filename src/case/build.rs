//! The generators' shared tools: a family's generation context, the case builder, the
//! subject/draft builders for accepted and refused requests, and the setup, verification and
//! page expectations many categories use.

use serde_json::Value;

use super::values;
use super::{
    BaselineState, Body, Case, Category, Credential, Expect, Lane, PageExpect, Project, Request,
    Requirement, Role, Step, View,
};
use crate::model::{ErrorRule, Family, Model, Operation, OperationKind, Version};

/// The generation context of one family.
pub(crate) struct Ctx<'a> {
    pub(crate) model: &'a Model,
    pub(crate) family: &'a Family,
}

impl<'a> Ctx<'a> {
    pub(crate) fn op(&self, kind: OperationKind) -> &'a Operation {
        self.family.operation(kind)
    }

    /// The API's own names (list, page, envelope and error fields), read from the spec.
    pub(crate) fn wire(&self) -> &'a crate::model::Wire {
        &self.model.wire
    }

    pub(crate) fn lane(&self) -> Lane {
        Lane::of(self.family.project_kind)
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
            self.case.steps.push(cleanup(cx, &t));
        }
        self.case
    }
}

/// The step that removes `type_name` at the end of a case, whatever happened.
pub(crate) fn cleanup(cx: &Ctx<'_>, type_name: &str) -> Step {
    Step {
        role: Role::Cleanup,
        request: cx.request(OperationKind::Delete, cx.default_version(), Some(type_name)),
        expect: Vec::new(),
        baseline: None,
    }
}

/// The seed of the body a type is configured with under `version` before a case: the same for
/// every case, so that consecutive cases that start from it share one setup (the runner's
/// plan). What a case sends under test is seeded by the case itself, so it differs.
fn fixture_seed(cx: &Ctx<'_>, version: &Version, ty: &crate::model::IntegrationType) -> String {
    format!("{}/{}/{}#fixture", cx.family.name, version.label(), ty.name)
}

/// A setup step that configures `ty` with the type's fixture body of `fill` under `version`;
/// returns the step and what is stored.
pub(crate) fn setup_create(
    cx: &Ctx<'_>,
    version: &Version,
    ty: &crate::model::IntegrationType,
    fill: values::Fill,
) -> (Step, serde_json::Map<String, Value>) {
    let body = values::valid_body(ty, &fixture_seed(cx, version, ty), fill);
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
            let (step, body) = setup_create(cx, version, ty, values::Fill::Full);
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
pub(crate) fn setup_all(cx: &Ctx<'_>, version: &Version) -> Fixture {
    let mut steps = Vec::new();
    let mut views = Vec::new();
    let mut secrets = Vec::new();
    let mut bodies = Vec::new();
    // Configure in reverse list order, so that the list order is the target's doing.
    for ty in version.types.iter().rev() {
        let (step, body) = setup_create(cx, version, ty, values::Fill::Full);
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
