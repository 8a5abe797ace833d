//! Stage 6: the reports of a run. One scrubbed [`Document`] is built from the runner's
//! [`RunReport`] and rendered four ways: `report.json` (versioned; its JSON Schema is
//! `docs/report-schema.json`), `junit.xml` for CI, and `report.md` / `report.html` for people,
//! with a `curl` reproduction per failure.
//!
//! Nothing leaves this module unscrubbed: every string of the document went through a
//! [`Scrubber`] that knows the target's credentials and every secret the selected cases
//! generated, so the renderers cannot leak what the document does not hold.

pub(crate) mod curl;
pub mod har;
mod html;
mod junit;
mod markdown;
pub mod text;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::case::{Case, Category, Role};
use crate::error::{Error, Result};
use crate::exchange::Exchange;
use crate::model::Model;
use crate::outcome::{Outcome, RunReport, Verdict as RunVerdict};
use crate::target::Target;

pub use self::curl::reproduce;
pub use crate::scrub::{Scrubber, PLACEHOLDER};

/// The `schema_version` of `report.json`; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Bodies (request and response) are cut to this many bytes in the report.
pub const BODY_LIMIT: usize = 8 * 1024;

/// The files [`write`] creates, in that order.
pub const FILES: [&str; 4] = ["report.json", "junit.xml", "report.md", "report.html"];

/// The whole report, as `report.json` holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub schema_version: u32,
    pub tool: Tool,
    pub spec: SpecInfo,
    pub target: TargetInfo,
    /// RFC 3339, UTC.
    pub started: String,
    /// RFC 3339, UTC.
    pub finished: String,
    pub duration_ms: f64,
    pub selection: Selection,
    pub summary: Summary,
    /// Requests sent (retries included).
    pub requests: usize,
    /// Integration types the target had before the run, per family (never touched).
    pub pre_existing: BTreeMap<String, Vec<String>>,
    /// The run was interrupted (Ctrl-C) before every case started.
    pub interrupted: bool,
    /// The deadline passed before every case started.
    pub deadline_reached: bool,
    /// Integrations a case left behind that the final sweep removed (`family TYPE`).
    pub swept: Vec<String>,
    /// Integrations the run created and could not remove (`family TYPE: why`).
    pub not_cleaned_up: Vec<String>,
    /// Every selected case, in id order.
    pub cases: Vec<CaseReport>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecInfo {
    /// SHA-256 of the spec text, hex.
    pub sha256: String,
    /// `bundled`, or the path given with `--spec`.
    pub source: String,
}

/// Where the run went: never a credential, only what kind of credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetInfo {
    pub base_url: String,
    /// The embedded reference server (started by the run itself).
    pub embedded: bool,
    /// `digest`, `bearer` or `oauth`.
    pub auth_scheme: String,
    pub read_only_auth_scheme: Option<String>,
}

/// What the run was asked to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    /// Families, in the spec's order.
    pub families: Vec<String>,
    /// Categories, in the harness's order.
    pub categories: Vec<String>,
    /// The `--filter` substring.
    pub filter: Option<String>,
}

/// The run's judgement, which the exit code follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// No judged case failed (exit code 0).
    Conformant,
    /// At least one case failed (exit code 1).
    NonConformant,
    /// Nothing failed but the run cannot vouch for the target: it was interrupted, or no case
    /// could be judged (exit code 2).
    Inconclusive,
}

impl Verdict {
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Conformant => 0,
            Verdict::NonConformant => 1,
            Verdict::Inconclusive => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Conformant => "conformant",
            Verdict::NonConformant => "non-conformant",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Counts {
    fn add(&mut self, outcome: OutcomeKind) {
        self.total += 1;
        match outcome {
            OutcomeKind::Passed => self.passed += 1,
            OutcomeKind::Failed => self.failed += 1,
            OutcomeKind::Skipped => self.skipped += 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub verdict: Verdict,
    #[serde(flatten)]
    pub counts: Counts,
    /// Failed cases a known-failures file (`run --known-failures`) lists: counted in `failed`,
    /// but they do not make the run non-conformant.
    #[serde(default)]
    pub known_failures: usize,
    /// What `run --require` asked for and the run did not cover, one sentence each; a run that
    /// would otherwise be conformant is then inconclusive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_covered: Vec<String>,
    /// Warnings over every case: worth a look, never a failure, never part of the verdict.
    #[serde(default)]
    pub warnings: usize,
    /// Per family, with its counts per category.
    pub families: BTreeMap<String, FamilySummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilySummary {
    #[serde(flatten)]
    pub counts: Counts,
    pub categories: BTreeMap<String, Counts>,
}

impl Summary {
    /// Counts of one family × category cell (zero when the run had no such case).
    pub fn cell(&self, family: &str, category: &str) -> Counts {
        self.families
            .get(family)
            .and_then(|f| f.categories.get(category))
            .copied()
            .unwrap_or_default()
    }

    pub fn family(&self, family: &str) -> Counts {
        self.families
            .get(family)
            .map(|f| f.counts)
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutcomeKind {
    Passed,
    Failed,
    Skipped,
}

impl OutcomeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Passed => "passed",
            OutcomeKind::Failed => "failed",
            OutcomeKind::Skipped => "skipped",
        }
    }
}

/// One case and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseReport {
    pub id: String,
    pub family: String,
    pub operation: String,
    pub category: String,
    pub title: String,
    pub outcome: OutcomeKind,
    /// Why the case was skipped (skipped cases only).
    pub reason: Option<String>,
    pub duration_ms: f64,
    pub findings: Vec<FindingReport>,
    /// Worth a look, not a failure (a field the contract does not list, contract §9); any
    /// outcome may carry them.
    #[serde(default)]
    pub warnings: Vec<WarningReport>,
    /// Cleanup requests that did not succeed (`METHOD path: status`).
    pub cleanup_failures: Vec<String>,
    /// A shell script of `curl` commands that replays the failing step (failed cases only);
    /// every credential and secret is a shell variable.
    pub reproduction: Option<String>,
    /// The reason a known-failures file gives for a failed case it lists: the failure is
    /// accepted and does not make the run non-conformant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_failure: Option<String>,
    pub exchanges: Vec<ExchangeReport>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingReport {
    pub check: String,
    /// Index of the step whose response broke the expectation.
    pub step: usize,
    pub message: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningReport {
    pub check: String,
    /// Index of the first step whose response showed it.
    pub step: usize,
    pub message: String,
    /// The integration type of the object that carried the field.
    pub object: Option<String>,
    pub field: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExchangeReport {
    pub step: usize,
    /// `setup`, `test`, `verify` or `cleanup`.
    pub role: String,
    pub method: String,
    pub url: String,
    /// As sent; `Authorization` shows only its scheme.
    pub request_headers: Vec<Header>,
    pub request_body: Option<String>,
    pub request_body_truncated: bool,
    /// `None`: the request got no HTTP answer (see `error`).
    pub response: Option<ResponseReport>,
    pub error: Option<String>,
    pub duration_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseReport {
    pub status: u16,
    pub headers: Vec<Header>,
    /// The body as text (UTF-8, lossy), cut at [`BODY_LIMIT`] bytes.
    pub body: String,
    /// Bytes received (at most the runner's body cap).
    pub body_bytes: usize,
    /// The body shown is not all of it (cut here or at the runner's cap).
    pub body_truncated: bool,
}

/// What [`build`] needs besides the run itself.
pub struct Context<'a> {
    pub model: &'a Model,
    /// The cases that were run (for the reproductions and the secrets to scrub).
    pub cases: &'a [Case],
    pub target: &'a Target,
    pub embedded: bool,
    /// `bundled`, or the `--spec` path.
    pub spec_source: String,
    pub filter: Option<String>,
    pub categories: Vec<Category>,
}

impl Context<'_> {
    /// A scrubber for everything this run may show: the target's credentials and every
    /// secret of every selected case (a leaked secret may turn up in another case's response).
    pub fn scrubber(&self) -> Scrubber {
        Scrubber::new(
            self.target.secrets().into_iter().chain(
                self.cases
                    .iter()
                    .flat_map(|c| secrets_of_case(c, self.model)),
            ),
        )
    }
}

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
        let type_name = body.get("type").and_then(serde_json::Value::as_str);
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

/// Build the scrubbed document of a run.
pub fn build(run: &RunReport, cx: &Context<'_>) -> Document {
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
            RunVerdict::Passed => OutcomeKind::Passed,
            RunVerdict::Failed => OutcomeKind::Failed,
            RunVerdict::Skipped(_) => OutcomeKind::Skipped,
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
    let verdict = verdict_of(&counts, 0, run.interrupted);
    Document {
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
            verdict,
            counts,
            known_failures: 0,
            not_covered: Vec::new(),
            warnings: reports.iter().map(|r| r.warnings.len()).sum(),
            families: per_family,
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
        cases: reports,
    }
}

/// The verdict of these counts: a failure nobody accepted makes the run non-conformant; an
/// interrupted run, or one that judged no case, cannot vouch for the target.
pub fn verdict_of(counts: &Counts, known_failures: usize, interrupted: bool) -> Verdict {
    if counts.failed > known_failures {
        Verdict::NonConformant
    } else if interrupted || counts.passed + counts.failed == 0 {
        Verdict::Inconclusive
    } else {
        Verdict::Conformant
    }
}

fn case_report(
    o: &Outcome,
    kind: OutcomeKind,
    case: Option<&Case>,
    cx: &Context<'_>,
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
        outcome: kind,
        reason: match &o.verdict {
            RunVerdict::Skipped(r) => Some(s(r)),
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
        reproduction,
        known_failure: None,
        exchanges: o
            .exchanges
            .iter()
            .map(|e| exchange_report(e, scrubber))
            .collect(),
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Setup => "setup",
        Role::Test => "test",
        Role::Concurrent => "concurrent",
        Role::Verify => "verify",
        Role::Cleanup => "cleanup",
    }
}

/// `text` cut to at most `limit` bytes on a char boundary; whether it was cut.
fn cut(text: &str, limit: usize) -> (&str, bool) {
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
        role: role_name(e.role).into(),
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

/// The JSON text of `report.json`.
pub fn to_json(doc: &Document) -> String {
    let mut text = serde_json::to_string_pretty(doc).expect("a document always serialises");
    text.push('\n');
    text
}

/// `report.json` as [`to_json`] renders it, written through a buffer.
fn write_json(path: &Path, doc: &Document) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    serde_json::to_writer_pretty(&mut out, doc)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Write the four reports into `dir` (created if needed); returns their paths.
pub fn write(dir: &Path, doc: &Document) -> Result<Vec<PathBuf>> {
    let io = |path: &Path, e: std::io::Error| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("cannot write {}: {e}", path.display()),
        ))
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let mut paths = Vec::with_capacity(FILES.len());
    // report.json, the largest, is streamed to disk rather than built as one string.
    let path = dir.join(FILES[0]);
    write_json(&path, doc).map_err(|e| io(&path, e))?;
    paths.push(path);
    let renderers: [fn(&Document) -> String; 3] = [junit::render, markdown::render, html::render];
    for (name, render) in FILES[1..].iter().zip(renderers) {
        let path = dir.join(name);
        std::fs::write(&path, render(doc)).map_err(|e| io(&path, e))?;
        paths.push(path);
    }
    Ok(paths)
}

/// Rows of the conformance matrix: (family, counts per selected category, family total).
pub(crate) fn matrix(doc: &Document) -> Vec<(&str, Vec<Counts>, Counts)> {
    doc.selection
        .families
        .iter()
        .map(|f| {
            let cells = doc
                .selection
                .categories
                .iter()
                .map(|c| doc.summary.cell(f, c))
                .collect();
            (f.as_str(), cells, doc.summary.family(f))
        })
        .collect()
}

/// Totals per selected category (the matrix's last row).
pub(crate) fn category_totals(doc: &Document) -> Vec<Counts> {
    doc.selection
        .categories
        .iter()
        .map(|c| {
            let mut total = Counts::default();
            for f in doc.summary.families.values() {
                if let Some(n) = f.categories.get(c) {
                    total.total += n.total;
                    total.passed += n.passed;
                    total.failed += n.failed;
                    total.skipped += n.skipped;
                }
            }
            total
        })
        .collect()
}

/// The answer to the step of a failed case's first finding, as people read it: the status line,
/// then the body (at most `limit` bytes); `None` when that step has no recorded exchange.
pub(crate) fn failing_answer(case: &CaseReport, limit: usize) -> Option<String> {
    let step = case.findings.first()?.step;
    let ex = case.exchanges.iter().find(|e| e.step == step)?;
    let mut out = format!("{} {}\n", ex.method, ex.url);
    match (&ex.response, &ex.error) {
        (Some(r), _) => {
            out.push_str(&format!("→ {}", r.status));
            if let Some((_, ct)) = r
                .headers
                .iter()
                .map(|h| (h.name.as_str(), h.value.as_str()))
                .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            {
                out.push_str(&format!("  ({ct})"));
            }
            if !r.body.is_empty() {
                let (shown, was_cut) = cut(&r.body, limit);
                out.push('\n');
                out.push_str(shown);
                if was_cut || r.body_truncated {
                    out.push_str(" …");
                }
            }
        }
        (None, Some(e)) => out.push_str(&format!("→ no answer: {e}")),
        (None, None) => out.push_str("→ no answer"),
    }
    Some(out)
}

/// Skip reasons with how many cases each skipped and the first few ids, most frequent first.
pub(crate) fn skip_reasons(doc: &Document) -> Vec<(&str, usize, Vec<&str>)> {
    let mut by_reason: BTreeMap<&str, (usize, Vec<&str>)> = BTreeMap::new();
    for c in doc
        .cases
        .iter()
        .filter(|c| c.outcome == OutcomeKind::Skipped)
    {
        let e = by_reason
            .entry(c.reason.as_deref().unwrap_or("no reason given"))
            .or_default();
        e.0 += 1;
        if e.1.len() < 3 {
            e.1.push(&c.id);
        }
    }
    let mut out: Vec<(&str, usize, Vec<&str>)> = by_reason
        .into_iter()
        .map(|(r, (n, ids))| (r, n, ids))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    out
}

/// The families of which every case was skipped (a missing project id, typically), with the
/// reason most of their cases give; in the selection's order.
pub fn skipped_families(doc: &Document) -> Vec<(&str, &str)> {
    doc.selection
        .families
        .iter()
        .filter_map(|f| {
            let of: Vec<&CaseReport> = doc.cases.iter().filter(|c| &c.family == f).collect();
            if of.is_empty() || of.iter().any(|c| c.outcome != OutcomeKind::Skipped) {
                return None;
            }
            let mut count: BTreeMap<&str, usize> = BTreeMap::new();
            for c in &of {
                *count
                    .entry(c.reason.as_deref().unwrap_or("no reason given"))
                    .or_default() += 1;
            }
            let reason = count
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
                .map(|(r, _)| r)
                .unwrap_or("no reason given");
            Some((f.as_str(), reason))
        })
        .collect()
}

/// One line saying what the run found, for people.
pub fn headline(doc: &Document) -> String {
    let c = &doc.summary.counts;
    let known = doc.summary.known_failures;
    let mut line = match doc.summary.verdict {
        Verdict::Conformant => format!("conformant: {} of {} cases passed", c.passed, c.total),
        Verdict::NonConformant => {
            format!(
                "non-conformant: {} of {} cases failed",
                c.failed - known.min(c.failed),
                c.total
            )
        }
        // The sentences say what was skipped; the general skip notes below would repeat it.
        Verdict::Inconclusive if !doc.summary.not_covered.is_empty() => {
            return format!(
                "inconclusive: {}; {} of {} cases passed",
                doc.summary.not_covered.join("; "),
                c.passed,
                c.total
            );
        }
        Verdict::Inconclusive if doc.interrupted => {
            format!(
                "inconclusive: the run was interrupted after {} of {} cases",
                c.passed + c.failed,
                c.total
            )
        }
        Verdict::Inconclusive => format!(
            "inconclusive: none of the {} selected cases could be judged",
            c.total
        ),
    };
    if known > 0 {
        line.push_str(&format!(", {known} known failures"));
    }
    if c.skipped > 0 {
        line.push_str(&format!(", {} skipped", c.skipped));
    }
    let families = skipped_families(doc);
    if !families.is_empty() {
        let names: Vec<&str> = families.iter().map(|(f, _)| *f).collect();
        line.push_str(&format!(" (not judged at all: {})", names.join(", ")));
    }
    match doc.summary.warnings {
        0 => {}
        1 => line.push_str(", 1 warning"),
        n => line.push_str(&format!(", {n} warnings")),
    }
    line
}

/// Warnings grouped by what they are about: (check, message, cases, up to three case ids), the
/// most frequent first. One unlisted field shows up in many cases; a report lists it once.
pub(crate) fn warning_groups(doc: &Document) -> Vec<(&str, &str, usize, Vec<&str>)> {
    let mut groups: BTreeMap<(&str, &str), (usize, Vec<&str>)> = BTreeMap::new();
    for case in &doc.cases {
        for w in &case.warnings {
            let g = groups
                .entry((w.check.as_str(), w.message.as_str()))
                .or_default();
            g.0 += 1;
            if g.1.len() < 3 {
                g.1.push(case.id.as_str());
            }
        }
    }
    let mut out: Vec<_> = groups
        .into_iter()
        .map(|((check, message), (n, ids))| (check, message, n, ids))
        .collect();
    out.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(b.1)));
    out
}
