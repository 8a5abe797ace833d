//! Every negative case is fair: its request under test is a valid request with exactly one
//! thing broken. For each negative of `case::generate`, (a) the request under test differs from
//! its recorded baseline in exactly one component, and (b) the baseline, after the case's setup
//! (adjusted as the baseline's state says), is accepted by the reference server.

use crate::fixture;
use std::collections::BTreeSet;

use integrations_conformance::case::{
    self, Baseline, BaselineState, Body, Case, Category, Expect, Lane, Request, Role, Step,
};
use integrations_conformance::model::{Model, ProjectKind, Situation};
use integrations_conformance::runner::{self, RunOptions, Verdict};
use serde_json::{Map, Value};

/// A request under test that must be refused.
fn is_negative(step: &Step) -> bool {
    step.role == Role::Test
        && step
            .expect
            .iter()
            .any(|e| matches!(e, Expect::Error { .. } | Expect::Challenge { .. }))
}

/// The negatives of `cases`: (case, request under test).
fn negatives(cases: &[Case]) -> Vec<(&Case, &Step)> {
    cases
        .iter()
        .flat_map(|c| {
            c.steps
                .iter()
                .filter(|s| is_negative(s))
                .map(move |s| (c, s))
        })
        .collect()
}

/// `/integrations/{type}` → (`/integrations`, the type); any other path → (path, none).
fn split_path(path: &str) -> (&str, Option<&str>) {
    match path.strip_prefix("/integrations/") {
        Some(t) if !t.contains('/') => ("/integrations", Some(t)),
        _ => (path, None),
    }
}

/// The body as a JSON object, if it is one.
fn body_object(req: &Request) -> Option<Map<String, Value>> {
    let Body::Json(Value::Object(map)) = &req.body else {
        return None;
    };
    Some(map.clone())
}

/// The components in which `test` differs from its baseline (state included).
fn differences(disc: &str, test: &Request, baseline: &Baseline) -> Vec<String> {
    let base = &baseline.request;
    let mut out = Vec::new();
    if test.method != base.method {
        out.push("method".to_owned());
    }
    let (test_prefix, test_type) = split_path(&test.path);
    let (base_prefix, base_type) = split_path(&base.path);
    if test_prefix != base_prefix || test.base_path != base.base_path {
        out.push("path".to_owned());
    }
    let mut test_body = body_object(test);
    let mut base_body = body_object(base);
    // A body whose type mirrors the path's, on both sides: that type belongs to the path type.
    let mirrors = |body: &Option<Map<String, Value>>, t: Option<&str>| {
        body.as_ref()
            .and_then(|b| b.get(disc))
            .and_then(Value::as_str)
            .is_some_and(|d| Some(d) == t)
    };
    if mirrors(&test_body, test_type) && mirrors(&base_body, base_type) {
        for b in [&mut test_body, &mut base_body].into_iter().flatten() {
            b.remove(disc);
        }
    }
    if test_type != base_type {
        out.push("path type".to_owned());
    }
    if test.project != base.project {
        out.push("project".to_owned());
    }
    if test.credential != base.credential {
        out.push("credential".to_owned());
    }
    if test.accept != base.accept {
        out.push("accept".to_owned());
    }
    if test.content_type != base.content_type {
        out.push("content-type".to_owned());
    }
    if test.query != base.query {
        out.push("query".to_owned());
    }
    match (&test_body, &base_body) {
        (Some(t), Some(b)) => {
            let keys: BTreeSet<&String> = t.keys().chain(b.keys()).collect();
            // Each changed key is a change of its own: more than one is more than one fault.
            for k in keys.into_iter().filter(|k| t.get(*k) != b.get(*k)) {
                out.push(format!("body key {k}"));
            }
        }
        _ => {
            if test.body != base.body {
                out.push("body".to_owned());
            }
        }
    }
    match &baseline.state {
        BaselineState::Same | BaselineState::Prepared(_) => {}
        BaselineState::SetupRemoved => out.push("state (setup removed)".to_owned()),
        BaselineState::SetupAdded(_) => out.push("state (setup added)".to_owned()),
    }
    out
}

#[test]
fn an_oversized_negative_is_its_baseline_body_padded_with_whitespace() {
    let model = integrations_conformance::model::bundled().unwrap();
    let cases = case::generate(&model);
    let mut seen = 0;
    for (c, step) in negatives(&cases) {
        let Body::Oversized { value, size } = &step.request.body else {
            continue;
        };
        let bytes = step.request.body.bytes().expect("a body");
        assert_eq!(bytes.len(), *size, "{}", c.id);
        let parsed: Value = serde_json::from_slice(&bytes).expect("still valid JSON");
        assert_eq!(&parsed, value, "{}", c.id);
        let baseline = step.baseline.as_ref().expect("a baseline");
        assert_eq!(baseline.request.body, Body::Json(value.clone()), "{}", c.id);
        seen += 1;
    }
    assert!(seen > 0, "no oversized negative");
}

#[test]
fn every_negative_differs_from_its_baseline_in_exactly_one_component() {
    let model = integrations_conformance::model::bundled().unwrap();
    let cases = case::generate(&model);
    let disc = discriminator(&model);
    let negs = negatives(&cases);
    assert!(negs.len() > 500, "only {} negatives", negs.len());
    let mut missing = Vec::new();
    let mut offending = Vec::new();
    for (c, step) in &negs {
        let Some(baseline) = &step.baseline else {
            missing.push(c.id.clone());
            continue;
        };
        let diff = differences(&disc, &step.request, baseline);
        if diff.len() != 1 {
            offending.push(format!("{}: {diff:?} ({})", c.id, baseline.mutation));
            continue;
        }
        // Preparing the baseline's state is no mutation only where the negative addresses
        // something else (another project, path, type or method).
        if let BaselineState::Prepared(_) = baseline.state {
            let elsewhere = ["project", "path", "path type", "method"];
            if !elsewhere.contains(&diff[0].as_str()) {
                offending.push(format!(
                    "{}: a prepared state beside a {} mutation",
                    c.id, diff[0]
                ));
            }
        }
        // The error expected is the one that names the fault.
        for e in &step.expect {
            if let Expect::Error { rule, field } = e {
                if !situation_fits(&diff[0], rule.situation) {
                    offending.push(format!(
                        "{}: a {} mutation expects {}",
                        c.id,
                        diff[0],
                        rule.situation.as_str()
                    ));
                }
                // A changed body key is the field the error names.
                if let (Some(key), Some(field)) = (diff[0].strip_prefix("body key "), field) {
                    if key != field {
                        offending.push(format!(
                            "{}: body key {key} changed, error names {field}",
                            c.id
                        ));
                    }
                }
            }
        }
        if baseline.mutation.trim().is_empty() {
            offending.push(format!("{}: no mutation label", c.id));
        }
    }
    // The comparison can fail: a negative with a second change is caught.
    let (_, step) = negs[0];
    let mut twice = step.baseline.clone().expect("a baseline");
    twice.request = twice.request.with_query("pretty", "true");
    assert_eq!(differences(&disc, &step.request, &twice).len(), 2);
    assert!(
        missing.is_empty(),
        "negatives without a baseline: {missing:#?}"
    );
    assert!(
        offending.is_empty(),
        "negatives that do not break exactly one thing ({}): {offending:#?}",
        offending.len()
    );
}

/// Whether the error situation a negative expects is one its changed component can cause.
fn situation_fits(component: &str, situation: Situation) -> bool {
    use Situation::*;
    let allowed: &[Situation] = match component {
        "method" => &[MethodNotAllowed],
        "path" => &[UnknownPath],
        "path type" => &[InvalidIntegrationType, UnsupportedType],
        "project" => &[
            InvalidGroupId,
            GroupNotFound,
            WrongProjectKind,
            NoProjectAccess,
        ],
        "credential" => &[Unauthenticated, DigestUriMismatch, ReadOnlyWrite],
        "accept" => &[UnsupportedVersion],
        "content-type" => &[UnsupportedMediaType],
        "query" => &[InvalidQueryParameter],
        "body" => &[MalformedJson, BodyNotObject, PayloadTooLarge],
        c if c.starts_with("body key ") => &[
            WrongJsonType,
            TypeMissing,
            TypeMismatch,
            RequiredMissing,
            UnknownAttribute,
            EnumInvalid,
            InvalidSettings,
        ],
        c if c.starts_with("state") => &[NotConfigured, AlreadyConfigured],
        _ => &[],
    };
    allowed.contains(&situation)
}

fn discriminator(model: &Model) -> String {
    model
        .families
        .iter()
        .flat_map(|f| f.versions.iter())
        .flat_map(|v| v.types.iter())
        .map(|t| t.discriminator().name.clone())
        .next()
        .expect("a type")
}

/// The case that runs `baseline` in the state it names, expecting the operation's success.
fn baseline_case(model: &Model, c: &Case, baseline: &Baseline) -> Case {
    let family = model
        .families
        .iter()
        .find(|f| f.name == c.family)
        .expect("the case's family");
    let success = |operation: &str| {
        family
            .operations
            .iter()
            .find(|o| o.id == operation)
            .map(|o| o.success_status)
            .expect("the baseline names an operation")
    };
    let setup = |request: Request| Step {
        expect: vec![Expect::Status {
            status: success(&request.operation),
        }],
        role: Role::Setup,
        request,
        baseline: None,
    };
    let mut steps: Vec<Step> = Vec::new();
    if !matches!(baseline.state, BaselineState::SetupRemoved) {
        steps.extend(c.steps.iter().filter(|s| s.role == Role::Setup).cloned());
    }
    if let BaselineState::SetupAdded(rs) | BaselineState::Prepared(rs) = &baseline.state {
        steps.extend(rs.iter().cloned().map(setup));
    }
    steps.push(Step {
        role: Role::Test,
        expect: vec![Expect::Status {
            status: success(&baseline.request.operation),
        }],
        request: baseline.request.clone(),
        baseline: None,
    });
    // Remove whatever the steps may have configured.
    let mut touched: Vec<String> = c.touches.clone();
    for s in &steps {
        if let (_, Some(t)) = split_path(&s.request.path) {
            if !touched.iter().any(|x| x == t) {
                touched.push(t.to_owned());
            }
        }
    }
    let delete = family
        .operations
        .iter()
        .find(|o| o.method == "DELETE")
        .expect("a delete operation");
    let version = family.versions.last().expect("a version");
    for t in &touched {
        steps.push(Step {
            role: Role::Cleanup,
            request: Request {
                method: delete.method.clone(),
                project: case::Project::Own,
                path: format!("/integrations/{t}"),
                base_path: family.base_path.clone(),
                query: Vec::new(),
                accept: Some(version.media_type.clone()),
                content_type: None,
                body: Body::None,
                credential: case::Credential::Owner,
                operation: delete.id.clone(),
                version: version.name.clone(),
            },
            expect: Vec::new(),
            baseline: None,
        });
    }
    Case {
        id: c.id.clone(),
        family: c.family.clone(),
        operation: c.operation.clone(),
        category: Category::State,
        title: format!("baseline of {}: {}", c.id, baseline.mutation),
        lane: match family.project_kind {
            ProjectKind::Atlas => Lane::Atlas,
            ProjectKind::CloudManager => Lane::CloudManager,
        },
        steps,
        secrets: c.secrets.clone(),
        touches: touched,
        requires: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_negative_baseline_is_accepted_by_the_reference_server() {
    let harness = fixture::harness();
    let negs = negatives(fixture::cases());
    let mut baselines: Vec<Case> = negs
        .iter()
        .filter_map(|(c, s)| {
            s.baseline
                .as_ref()
                .map(|b| baseline_case(&harness.model, c, b))
        })
        .collect();
    // The run can fail: a negative request standing in for its own baseline is refused.
    let (c, step) = negs
        .iter()
        .find(|(c, _)| c.category == Category::Validation)
        .expect("a validation negative");
    let mut own = step.baseline.clone().expect("a baseline");
    own.request = step.request.clone();
    let mut control = baseline_case(&harness.model, c, &own);
    control.id = format!("{}#control", c.id);
    baselines.push(control.clone());
    assert!(baselines.len() > 500, "only {} baselines", baselines.len());
    let server = fixture::server(Vec::new()).await;
    let target = server.target().expect("target");
    let report = runner::run(harness, &baselines, &target, &RunOptions::default())
        .await
        .expect("the run completes");
    server.shutdown().await.ok();
    let refused: Vec<String> = report
        .outcomes
        .iter()
        .filter(|o| o.verdict != Verdict::Passed)
        .map(|o| {
            format!(
                "{} ({:?}): {}",
                o.id,
                o.verdict,
                o.findings
                    .first()
                    .map(|f| format!("[{}] step {} {}", f.check, f.step, f.message))
                    .unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(report.outcomes.len(), baselines.len());
    let refused: Vec<String> = refused
        .into_iter()
        .filter(|r| !r.starts_with(&format!("{} ", control.id)))
        .collect();
    assert!(
        report
            .outcomes
            .iter()
            .any(|o| o.id == control.id && o.verdict == Verdict::Failed),
        "the control (a negative run as a baseline) was not refused"
    );
    assert!(
        refused.is_empty(),
        "baselines the reference server does not accept ({}): {refused:#?}",
        refused.len()
    );
}

/// The reproduction of an oversized negative writes the same bytes the runner sends: the valid
/// body padded inside its braces, its secrets as shell variables.
#[test]
fn the_curl_reproduction_of_an_oversized_body_writes_the_padded_valid_body() {
    use integrations_conformance::auth::AuthSpec;
    use integrations_conformance::transport::{self, Target};

    let model = integrations_conformance::model::bundled().unwrap();
    let cases = case::generate(&model);
    let (c, step) = negatives(&cases)
        .into_iter()
        .find(|(_, s)| matches!(s.request.body, Body::Oversized { .. }))
        .expect("an oversized negative");
    let failing = c.steps.iter().position(|s| std::ptr::eq(s, step)).unwrap();
    let family = model.families.iter().find(|f| f.name == c.family).unwrap();
    let target = Target {
        base_url: transport::parse_base_url("http://127.0.0.1:9").unwrap(),
        atlas_group_id: Some("5e2211c17a3e5a48f5497de3".into()),
        cm_group_id: Some("5e2211c17a3e5a48f5497de4".into()),
        other_group_id: None,
        auth: AuthSpec::Digest {
            public: "pub".into(),
            private: "priv".into(),
        },
        read_only: None,
        token_expirer: None,
        expired_token: None,
        nonce_expirer: None,
        oauth_client: None,
        insecure: false,
        use_env_proxy: false,
        gateway: Default::default(),
    };
    let script = integrations_conformance::report::reproduce(
        c, &c.secrets, failing, family, &model, &target,
    );
    let line = script
        .lines()
        .find(|l| l.starts_with(&format!("BODY_FILE_{failing}=")))
        .unwrap_or_else(|| panic!("no body file line in {script}"));
    for s in &c.secrets {
        assert!(!line.contains(s.as_str()), "a secret in the script");
    }
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-c").arg(format!(
        "{line}\ncat \"$BODY_FILE_{failing}\"; rm -f \"$BODY_FILE_{failing}\""
    ));
    for (i, s) in c.secrets.iter().enumerate() {
        cmd.env(format!("SECRET_{}", i + 1), s);
    }
    let out = cmd.output().expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, step.request.body.bytes().unwrap());
}
