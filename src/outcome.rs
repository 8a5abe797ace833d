//! What a run produced: each case's verdict, findings, warnings and exchanges, and the run
//! report.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::case::{Case, Category};
use crate::check::{Finding, Warning};
use crate::exchange::Exchange;

/// What became of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "outcome", content = "reason")]
pub enum Verdict {
    Passed,
    Failed,
    Skipped(String),
}

/// One judged case.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub id: String,
    pub family: String,
    pub operation: String,
    pub category: Category,
    pub title: String,
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
    /// Worth a look, never a failure (contract §9); not part of the verdict.
    pub warnings: Vec<Warning>,
    pub exchanges: Vec<Exchange>,
    #[serde(serialize_with = "millis")]
    pub duration: Duration,
    /// Cleanup requests that did not succeed (`METHOD path: status`).
    pub cleanup_failures: Vec<String>,
    /// The case whose setup built the starting state this case found and shared (it sent no
    /// setup of its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_shared_with: Option<String>,
    /// Why the case was isolated: it was planned to leave its state to the next case, failed,
    /// and restored the project at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isolated: Option<String>,
}

impl Outcome {
    /// The outcome of `case` judged with these findings (none: passed) on these exchanges.
    pub fn judged(
        case: &Case,
        findings: Vec<Finding>,
        warnings: Vec<Warning>,
        exchanges: Vec<Exchange>,
        duration: Duration,
    ) -> Outcome {
        let verdict = if findings.is_empty() {
            Verdict::Passed
        } else {
            Verdict::Failed
        };
        Outcome {
            id: case.id.clone(),
            family: case.family.clone(),
            operation: case.operation.clone(),
            category: case.category,
            title: case.title.clone(),
            verdict,
            findings,
            warnings,
            exchanges,
            duration,
            cleanup_failures: Vec::new(),
            setup_shared_with: None,
            isolated: None,
        }
    }
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub started: SystemTime,
    pub finished: SystemTime,
    pub outcomes: Vec<Outcome>,
    /// Requests sent (retries included).
    pub requests: usize,
    /// Integrations the target had before the run, per family (never touched).
    pub pre_existing: BTreeMap<String, Vec<String>>,
    /// The run was interrupted (Ctrl-C) before every case started.
    pub interrupted: bool,
    /// The deadline passed before every case started.
    pub deadline_reached: bool,
    /// Integrations the final sweep removed because a case left them behind.
    pub swept: Vec<String>,
    /// Integrations the run created and could not remove (`family TYPE: why`).
    pub not_cleaned_up: Vec<String>,
}

impl RunReport {
    pub fn count(&self, f: impl Fn(&Verdict) -> bool) -> usize {
        self.outcomes.iter().filter(|o| f(&o.verdict)).count()
    }

    pub fn passed(&self) -> usize {
        self.count(|v| *v == Verdict::Passed)
    }

    pub fn failed(&self) -> usize {
        self.count(|v| *v == Verdict::Failed)
    }

    pub fn skipped(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Skipped(_)))
    }

    /// Warnings over every case (they never change a verdict).
    pub fn warnings(&self) -> usize {
        self.outcomes.iter().map(|o| o.warnings.len()).sum()
    }
}
