//! Building the scrubbed [`Document`] from a run: every string goes through the scrubber here,
//! bodies are cut to the report's limit, and the verdict follows from the counts.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::case::{Case, Category};
use crate::exchange::Exchange;
use crate::model::Model;
use crate::outcome::{Outcome, RunReport, Verdict};
use crate::rules::{CaseState, RuleCounts, RuleCoverage, Rules};
use crate::scrub::Scrubber;
use crate::transport::Target;

use super::curl::reproduce;
use super::document::{
    CaseReport, Counts, Document, ExchangeReport, FamilySummary, FindingReport, Header,
    OutcomeKind, ResponseReport, RunSetup, RunVerdict, Selection, SpecInfo, Summary, TargetInfo,
    Tool, WarningReport,
};
use super::{BODY_LIMIT, SCHEMA_VERSION};

/// Every secret a case sends: the ones it declares, and any value it puts in a field the model
/// calls secret (a negative case may carry a valid secret it does not declare, and a faulty
/// target may echo it).
pub fn secrets_of_case(case: &Case, model: &Model) -> Vec<String> {
    let mut out = case.secrets.clone();
    let Some(family) = model.family(&case.family) else {
        return out;
    };
    let all_types: Vec<&crate::model::IntegrationType> = family
        .versions
        .iter()
        .flat_map(|v| v.types.iter())
        .collect();
    let anywhere: Vec<&crate::model::IntegrationType> = model
        .families
        .iter()
        .flat_map(|f| f.versions.iter())
        .flat_map(|v| v.types.iter())
        .collect();
    for step in &case.steps {
        let crate::case::Body::Json(serde_json::Value::Object(body)) = &step.request.body else {
            continue;
        };
        let type_name = body
            .get(&model.wire.discriminator)
            .and_then(serde_json::Value::as_str);
        let own: Vec<&&crate::model::IntegrationType> = all_types
            .iter()
            .filter(|t| Some(t.name.as_str()) == type_name)
            .collect();
        for (name, value) in body {
            let Some(v) = value.as_str().filter(|v| v.len() >= 4) else {
                continue;
            };
            // A field of the body's type is secret if the type says so; a field foreign to it
            // (an unknown-field case) if any type of any family has a secret of that name.
            let declared: Vec<&crate::model::Field> =
                own.iter().filter_map(|t| t.field(name)).collect();
            let secret = if declared.is_empty() {
                anywhere
                    .iter()
                    .filter_map(|t| t.field(name))
                    .any(|f| f.secret.is_some())
            } else {
                declared.iter().any(|f| f.secret.is_some())
            };
            if secret && !out.iter().any(|s| s == v) {
                out.push(v.to_owned());
            }
        }
    }
    out
}

/// The base URL as people write it: no credentials, no trailing `/`.
pub fn display_url(url: &url::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.as_str().trim_end_matches('/').to_owned()
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

fn millis(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// What the run did with each rule of the contract, from its cases' outcomes.
pub(super) fn rule_coverage(cases: &[CaseReport]) -> Vec<RuleCoverage> {
    Rules::shared().coverage(cases.iter().map(|c| {
        let state = match c.outcome {
            OutcomeKind::Passed => CaseState::Passed,
            OutcomeKind::Failed => CaseState::Failed,
            OutcomeKind::Skipped => CaseState::Skipped(c.reason.as_deref().unwrap_or("skipped")),
        };
        (c.id.as_str(), state)
    }))
}

/// Build the scrubbed document of a run.
pub fn build(run: &RunReport, cx: &RunSetup<'_>) -> Document {
    let scrubber = cx.scrubber();
    let s = |t: &str| scrubber.clean(t);
    let cases_by_id: BTreeMap<&str, &Case> = cx.cases.iter().map(|c| (c.id.as_str(), c)).collect();

    let mut categories: Vec<Category> = if cx.categories.is_empty() {
        Category::ALL.to_vec()
    } else {
        cx.categories.clone()
    };
    categories.sort();
    categories.dedup();
    let families: Vec<String> = cx
        .model
        .families
        .iter()
        .filter(|f| cx.cases.iter().any(|c| c.family == f.name))
        .map(|f| f.name.clone())
        .collect();

    let mut counts = Counts::default();
    let mut per_family: BTreeMap<String, FamilySummary> = families
        .iter()
        .map(|f| {
            let cats = categories
                .iter()
                .map(|c| (c.as_str().to_owned(), Counts::default()))
                .collect();
            (
                f.clone(),
                FamilySummary {
                    counts: Counts::default(),
                    categories: cats,
                },
            )
        })
        .collect();
    let mut reports = Vec::with_capacity(run.outcomes.len());
    for o in &run.outcomes {
        let kind = match &o.verdict {
            Verdict::Passed => OutcomeKind::Passed,
            Verdict::Failed => OutcomeKind::Failed,
            Verdict::Skipped(_) => OutcomeKind::Skipped,
        };
        counts.add(kind);
        let fam = per_family
            .entry(o.family.clone())
            .or_insert_with(|| FamilySummary {
                counts: Counts::default(),
                categories: BTreeMap::new(),
            });
        fam.counts.add(kind);
        fam.categories
            .entry(o.category.as_str().to_owned())
            .or_default()
            .add(kind);
        reports.push(case_report(
            o,
            kind,
            cases_by_id.get(o.id.as_str()).copied(),
            cx,
            &scrubber,
        ));
    }
    let rules = rule_coverage(&reports);
    let mut doc = Document {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "conformance".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        spec: SpecInfo {
            sha256: cx.model.spec_hash.clone(),
            source: cx.spec_source.clone(),
        },
        target: TargetInfo {
            base_url: s(display_url(&cx.target.base_url).as_str()),
            embedded: cx.embedded,
            auth_scheme: cx.target.auth.scheme().into(),
            read_only_auth_scheme: cx.target.read_only.as_ref().map(|a| a.scheme().into()),
            projects: projects(cx.target),
            faults: cx.faults.clone(),
            variants: cx.variants.clone(),
        },
        started: rfc3339(run.started),
        finished: rfc3339(run.finished),
        duration_ms: millis(run.finished.duration_since(run.started).unwrap_or_default()),
        selection: Selection {
            families,
            categories: categories.iter().map(|c| c.as_str().to_owned()).collect(),
            filter: cx.filter.clone(),
        },
        summary: Summary {
            // Settled below, by the one function that computes a verdict.
            verdict: RunVerdict::Inconclusive,
            counts,
            known_failures: 0,
            not_covered: Vec::new(),
            warnings: reports.iter().map(|r| r.warnings.len()).sum(),
            families: per_family,
            rules: RuleCounts::of(&rules),
        },
        requests: run.requests,
        pre_existing: run
            .pre_existing
            .iter()
            .map(|(k, v)| (k.clone(), v.iter().map(|t| s(t)).collect()))
            .collect(),
        interrupted: run.interrupted,
        deadline_reached: run.deadline_reached,
        swept: run.swept.iter().map(|t| s(t)).collect(),
        not_cleaned_up: run.not_cleaned_up.iter().map(|t| s(t)).collect(),
        rules,
        cases: reports,
        signatures: BTreeMap::new(),
        quick: None,
    };
    super::verdict::settle(&mut doc, super::verdict::Terms::none());
    doc
}

/// The projects a target names, by role (the ones given).
fn projects(t: &Target) -> BTreeMap<String, String> {
    let roles = [
        ("atlas", &t.atlas_group_id),
        ("cloud_manager", &t.cm_group_id),
        ("other", &t.other_group_id),
    ];
    roles
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_owned(), v.clone())))
        .collect()
}

fn case_report(
    o: &Outcome,
    kind: OutcomeKind,
    case: Option<&Case>,
    cx: &RunSetup<'_>,
    scrubber: &Scrubber,
) -> CaseReport {
    let s = |t: &str| scrubber.clean(t);
    let reproduction = match (kind, case, o.findings.first()) {
        (OutcomeKind::Failed, Some(case), Some(first)) => {
            cx.model.family(&case.family).map(|family| {
                s(&reproduce(
                    case,
                    &secrets_of_case(case, cx.model),
                    first.step,
                    family,
                    cx.model,
                    cx.target,
                ))
            })
        }
        _ => None,
    };
    CaseReport {
        id: o.id.clone(),
        family: o.family.clone(),
        operation: o.operation.clone(),
        category: o.category.as_str().to_owned(),
        title: s(&o.title),
        rules: Rules::shared()
            .of_case(&o.id)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        outcome: kind,
        reason: match &o.verdict {
            Verdict::Skipped(r) => Some(s(r)),
            _ => None,
        },
        duration_ms: millis(o.duration),
        findings: o
            .findings
            .iter()
            .map(|f| FindingReport {
                check: f.check.clone(),
                step: f.step,
                message: s(&f.message),
                expected: f.expected.as_deref().map(s),
                actual: f.actual.as_deref().map(s),
            })
            .collect(),
        warnings: o
            .warnings
            .iter()
            .map(|w| WarningReport {
                check: w.check.clone(),
                step: w.step,
                message: s(&w.message),
                object: w.object.as_deref().map(s),
                field: w.field.as_deref().map(s),
            })
            .collect(),
        cleanup_failures: o.cleanup_failures.iter().map(|t| s(t)).collect(),
        setup_shared_with: o.setup_shared_with.clone(),
        isolated: o.isolated.clone(),
        reproduction,
        known_failure: None,
        exchanges: o
            .exchanges
            .iter()
            .map(|e| exchange_report(e, scrubber))
            .collect(),
    }
}

/// `text` cut to at most `limit` bytes on a char boundary; whether it was cut.
pub(super) fn cut(text: &str, limit: usize) -> (&str, bool) {
    if text.len() <= limit {
        return (text, false);
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

fn headers(list: &[(String, String)], scrubber: &Scrubber) -> Vec<Header> {
    list.iter()
        .map(|(k, v)| Header {
            name: scrubber.clean(k),
            value: scrubber.clean(v),
        })
        .collect()
}

fn exchange_report(e: &Exchange, scrubber: &Scrubber) -> ExchangeReport {
    // Scrub before cutting: a cut could split a secret into a prefix no scrubber recognises.
    let (request_body, request_body_truncated) = match &e.request_body {
        Some(b) => {
            let clean = scrubber.clean(b);
            let (shown, was_cut) = cut(&clean, BODY_LIMIT);
            (Some(shown.to_owned()), was_cut)
        }
        None => (None, false),
    };
    ExchangeReport {
        step: e.step,
        role: e.role.as_str().into(),
        method: e.method.clone(),
        url: scrubber.clean(&e.url),
        request_headers: headers(&e.request_headers, scrubber),
        request_body,
        request_body_truncated,
        response: e.response.as_ref().map(|r| {
            let clean = scrubber.clean(&r.body_text());
            let (shown, was_cut) = cut(&clean, BODY_LIMIT);
            ResponseReport {
                status: r.status,
                headers: headers(&r.headers, scrubber),
                body: shown.to_owned(),
                body_bytes: r.body.len(),
                body_truncated: was_cut || r.truncated,
            }
        }),
        error: e.error.as_deref().map(|t| scrubber.clean(t)),
        duration_ms: millis(e.duration),
    }
}
