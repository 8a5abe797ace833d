//! The types of `report.json`: the document, its cases, exchanges, counts and verdict, and
//! the [`RunSetup`] a document is built in. Their serde names are the report's schema.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::case::{Case, Category};
use crate::model::Model;
use crate::rules::{RuleCounts, RuleCoverage};
use crate::scrub::Scrubber;
use crate::transport::Target;

use super::build::secrets_of_case;

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
    /// The contract's rules (`spec/rules.yaml`), each with what this run did with its cases.
    #[serde(default)]
    pub rules: Vec<RuleCoverage>,
    /// Every selected case, in id order.
    pub cases: Vec<CaseReport>,
    /// Failed case id → the signature of its first finding (`check:shape`, as a known-failures
    /// file lists it), by which the human reports group failures; filled by
    /// `known_failures::mark_signatures`, not part of `report.json`.
    #[serde(skip)]
    pub signatures: BTreeMap<String, String>,
    /// A quick run (`--quick`, `--max-requests`): the covering part of the selection it ran, and
    /// what it left out; absent from a full run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quick: Option<QuickRun>,
}

/// What a quick run ran of its selection, and what it left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickRun {
    /// The cases the selection holds.
    pub selected: usize,
    /// The selected cases the quick run did not run (the cover did not need them).
    pub left_out: usize,
    /// `--max-requests`, when given.
    pub max_requests: Option<usize>,
    /// The requests the plan counted for the cases run (stock and sweep included).
    pub planned_requests: usize,
    /// The steps the run's exploration was given (0: no exploration).
    pub explore_steps: usize,
    /// `rule on family` pairs the selection exercises and the quick run did not: the request
    /// budget ran out before them.
    pub uncovered: Vec<String>,
}

impl QuickRun {
    /// One sentence for the console and report.md.
    pub fn line(&self) -> String {
        let mut line = format!(
            "quick run: {} of {} selected cases run, {} left out (covering every rule the \
             selection exercises{}); exploration {} steps",
            self.selected - self.left_out,
            self.selected,
            self.left_out,
            match self.max_requests {
                Some(n) => format!(", within --max-requests {n}"),
                None => String::new(),
            },
            self.explore_steps
        );
        if !self.uncovered.is_empty() {
            line = line.replace("covering every rule", "meant to cover every rule");
            const SHOWN: usize = 8;
            let shown: Vec<&str> = self
                .uncovered
                .iter()
                .take(SHOWN)
                .map(String::as_str)
                .collect();
            line.push_str(&format!(
                "; the budget left {} rule-family pairs unexercised: {}",
                self.uncovered.len(),
                shown.join(", ")
            ));
            if self.uncovered.len() > SHOWN {
                line.push_str(&format!(
                    " and {} more (report.json)",
                    self.uncovered.len() - SHOWN
                ));
            }
        }
        line
    }
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
    /// The projects (group ids) the run used: `atlas`, `cloud_manager`, `other`; the ones given.
    #[serde(default)]
    pub projects: BTreeMap<String, String>,
    /// The embedded server's deliberate bugs (`run --fault`), when any were on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<String>,
    /// The embedded server's tolerated variants (`run --variant`), when any were on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<String>,
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
pub enum RunVerdict {
    /// No judged case failed (exit code 0).
    Conformant,
    /// At least one case failed (exit code 1).
    NonConformant,
    /// Nothing failed but the run cannot vouch for the target: it was interrupted, or no case
    /// could be judged (exit code 2).
    Inconclusive,
}

impl RunVerdict {
    pub fn exit_code(self) -> u8 {
        match self {
            RunVerdict::Conformant => 0,
            RunVerdict::NonConformant => 1,
            RunVerdict::Inconclusive => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RunVerdict::Conformant => "conformant",
            RunVerdict::NonConformant => "non-conformant",
            RunVerdict::Inconclusive => "inconclusive",
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
    pub(super) fn add(&mut self, outcome: OutcomeKind) {
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
    pub verdict: RunVerdict,
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
    /// How many of the contract's rules the run exercised, and how many of them failed.
    #[serde(default)]
    pub rules: RuleCounts,
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
    /// The ids of the contract's rules the case exercises (`spec/rules.yaml`).
    #[serde(default)]
    pub rules: Vec<String>,
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
    /// The case whose setup built the starting state this case found and shared: it sent no
    /// setup of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_shared_with: Option<String>,
    /// Why the run's plan isolated the case (it failed, or its batch's shared read showed
    /// another state): what ran again or was restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolated: Option<String>,
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
pub struct RunSetup<'a> {
    pub model: &'a Model,
    /// The cases that were run (for the reproductions and the secrets to scrub).
    pub cases: &'a [Case],
    pub target: &'a Target,
    pub embedded: bool,
    /// `bundled`, or the `--spec` path.
    pub spec_source: String,
    pub filter: Option<String>,
    pub categories: Vec<Category>,
    /// The embedded server's faults and variants by name (for the reports and re-run lines).
    pub faults: Vec<String>,
    pub variants: Vec<String>,
}

impl RunSetup<'_> {
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
