//! The run's verdict, computed here and nowhere else: which failures are known (accepted by a
//! known-failures file), what required coverage went unmet, and from those and the counts the
//! [`RunVerdict`] whose [`RunVerdict::exit_code`] the command line returns. [`build`] settles a
//! document with no known failures and no requirements; `run` settles it again with its own.
//!
//! [`build`]: super::build

use super::document::{Document, OutcomeKind, RunVerdict, Summary};

/// The check name of the finding a listed case that passes gets (the known-failures ratchet).
pub const RATCHET_CHECK: &str = "known_failures";

/// What the verdict weighs besides the outcomes: the reason a case is a known failure (`None`
/// when it is not listed), and the required coverage the run did not reach.
pub struct Terms<'a> {
    pub known: &'a dyn Fn(&str) -> Option<&'a str>,
    pub not_covered: Vec<String>,
}

impl Terms<'_> {
    /// No known failures, nothing required.
    pub fn none() -> Terms<'static> {
        Terms {
            known: &|_| None,
            not_covered: Vec::new(),
        }
    }
}

/// Settle `doc` under `terms`: mark each listed case that failed (other than by the ratchet) as
/// a known failure, record the unmet coverage, and set the verdict.
pub fn settle(doc: &mut Document, terms: Terms<'_>) {
    let mut known = 0;
    for c in &mut doc.cases {
        if c.outcome != OutcomeKind::Failed || c.findings.iter().any(|f| f.check == RATCHET_CHECK) {
            continue;
        }
        if let Some(reason) = (terms.known)(&c.id) {
            c.known_failure = Some(reason.to_owned());
            known += 1;
        }
    }
    doc.summary.known_failures = known;
    doc.summary.not_covered = terms.not_covered;
    doc.summary.verdict = verdict(&doc.summary, doc.interrupted);
}

/// A failure nobody accepted makes the run non-conformant; a run that was interrupted, judged
/// no case, or missed coverage it was required to reach cannot vouch for the target.
fn verdict(summary: &Summary, interrupted: bool) -> RunVerdict {
    let counts = &summary.counts;
    if counts.failed > summary.known_failures {
        RunVerdict::NonConformant
    } else if interrupted || counts.passed + counts.failed == 0 || !summary.not_covered.is_empty() {
        RunVerdict::Inconclusive
    } else {
        RunVerdict::Conformant
    }
}
