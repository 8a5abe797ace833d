//! Known failures (a baseline): the cases a team accepts as failing against its target, one
//! `case-id  reason` per line, `#` comments. Both front-ends read it (`run --known-failures` and
//! the cargo suite's `tests/known-failures.txt`), and both ratchet: a listed case that fails is
//! accepted, a listed case that passes fails the run until its line is removed, so the list only
//! ever shrinks. `run --write-baseline` writes one from a run's failures.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use crate::case::Role;
use crate::check::Finding;
use crate::error::{Error, Result};
use crate::outcome::{RunReport, Verdict};
use crate::report::{self, Document, OutcomeKind};

pub use crate::report::RATCHET_CHECK;

/// What a line without a reason stands for.
const NO_REASON: &str = "no reason given";

/// A parsed known-failures file: case id → reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownFailures {
    entries: BTreeMap<String, String>,
}

impl KnownFailures {
    /// Parse the text of a known-failures file: per line a case id, whitespace, the reason;
    /// blank lines and lines starting with `#` are ignored. A line with an id only is accepted
    /// (its reason is "no reason given"); an id listed twice keeps its last reason.
    pub fn parse(text: &str) -> KnownFailures {
        let entries = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| match l.split_once(char::is_whitespace) {
                Some((id, reason)) if !reason.trim().is_empty() => {
                    (id.to_owned(), reason.trim().to_owned())
                }
                Some((id, _)) => (id.to_owned(), NO_REASON.to_owned()),
                None => (l.to_owned(), NO_REASON.to_owned()),
            })
            .collect();
        KnownFailures { entries }
    }

    /// Read and parse a known-failures file.
    pub fn load(path: &Path) -> Result<KnownFailures> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Io(std::io::Error::new(
                e.kind(),
                format!("cannot read the known failures {}: {e}", path.display()),
            ))
        })?;
        Ok(KnownFailures::parse(&text))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The reason a listed case is expected to fail; `None` when it is not listed.
    pub fn reason(&self, id: &str) -> Option<&str> {
        self.entries.get(id).map(String::as_str)
    }

    /// The listed ids that are not among `known` (a typo, or a case the spec no longer
    /// generates), in order.
    pub fn unknown_ids<'a>(&self, known: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let known: BTreeSet<&str> = known.into_iter().collect();
        self.entries
            .keys()
            .filter(|id| !known.contains(id.as_str()) && !crate::case::is_exploration_id(id))
            .cloned()
            .collect()
    }

    /// The message a listed case that passes fails with.
    pub fn ratchet_message(reason: &str) -> String {
        format!("listed as a known failure ({reason}) but passes: remove it from the list")
    }

    /// Ratchet, before the reports are built: every listed case that passed becomes a failure
    /// with one finding saying to remove its line (on the case's request under test, so that
    /// its reproduction shows the request that now passes). Skipped cases stay skipped: they
    /// say nothing either way.
    pub fn ratchet(&self, run: &mut RunReport) {
        for o in &mut run.outcomes {
            let Some(reason) = self.reason(&o.id) else {
                continue;
            };
            if o.verdict != Verdict::Passed {
                continue;
            }
            let step = o
                .exchanges
                .iter()
                .find(|e| e.role == Role::Test)
                .map(|e| e.step)
                .unwrap_or(0);
            o.verdict = Verdict::Failed;
            o.findings.push(Finding {
                check: RATCHET_CHECK.into(),
                case: o.id.clone(),
                step,
                message: KnownFailures::ratchet_message(reason),
                expected: Some("the case fails, as the known-failures file says".into()),
                actual: Some("the case passes".into()),
            });
        }
    }
}

/// The text of a known-failures file listing every failed case of `doc` (sorted by id) with its
/// first finding as the reason (a known failure keeps the reason its list gave). The document is scrubbed, so no secret reaches the file; a case
/// that failed only because the ratchet caught it passing is left out (it passes).
pub fn render(doc: &Document) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Known failures of {} ({} {}, {}).",
        doc.target.base_url, doc.tool.name, doc.tool.version, doc.started
    );
    out.push_str(
        "# One `case-id  reason` per line; `#` starts a comment. Use it with\n\
         # `conformance run --known-failures FILE` (or CONFORMANCE_KNOWN_FAILURES for the cargo suite):\n\
         # a listed case that fails is accepted, a listed case that passes fails the run (remove its line).\n",
    );
    let mut rows: Vec<(&str, String)> = doc
        .cases
        .iter()
        .filter(|c| c.outcome == OutcomeKind::Failed)
        .filter(|c| !c.findings.iter().any(|f| f.check == RATCHET_CHECK))
        .map(|c| {
            // A failure already listed keeps the reason someone wrote for it.
            let reason = c
                .known_failure
                .clone()
                .or_else(|| {
                    c.findings
                        .first()
                        .map(|f| format!("[{}] {}", f.check, f.message))
                })
                .unwrap_or_else(|| NO_REASON.to_owned());
            (c.id.as_str(), report::text::one_line(&reason))
        })
        .collect();
    rows.sort();
    let width = rows.iter().map(|(id, _)| id.len()).max().unwrap_or(0);
    for (id, reason) in rows {
        let _ = writeln!(out, "{id:width$}  {reason}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ids_reasons_and_comments() {
        let b = KnownFailures::parse(
            "# header\n\n  a/b/c   the reason  \nd/e/f\ng/h/i\t tabbed reason\n# a/b/x commented\n",
        );
        assert_eq!(b.len(), 3);
        assert_eq!(b.reason("a/b/c"), Some("the reason"));
        assert_eq!(b.reason("d/e/f"), Some(NO_REASON));
        assert_eq!(b.reason("g/h/i"), Some("tabbed reason"));
        assert_eq!(b.reason("a/b/x"), None);
        assert_eq!(b.unknown_ids(["a/b/c", "g/h/i"]), vec!["d/e/f".to_owned()]);
    }

    #[test]
    fn one_line_reasons() {
        assert_eq!(report::text::one_line("a\n  b\tc"), "a b c");
        assert_eq!(
            report::text::one_line(&"x".repeat(300)).chars().count(),
            200
        );
    }
}
