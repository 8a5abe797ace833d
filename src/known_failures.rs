//! Known failures (a baseline): the findings a team accepts from its target. One
//! `case-id  check:signature` per line (`#` comments): the case may fail with that finding, where
//! the signature is the finding's message reduced to its shape (no values, no ids, no secrets:
//! see [`signature`]). A listed case that fails with a finding its lines do not name is not
//! accepted (the run fails and says what is new); a listed case that passes fails the run until
//! its lines are removed, so the list only ever shrinks. A line with a case id alone (the older
//! format) accepts any finding of that case.
//!
//! Both front-ends read it (`run --known-failures` and the cargo suite's
//! `tests/known-failures.txt`) with this one parser. `run --write-baseline` writes one from a
//! run's failures; `run --update-baseline` prunes what passes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use crate::case::Role;
use crate::check::Finding;
use crate::error::{Error, Result};
use crate::outcome::{RunReport, Verdict};
use crate::report::{self, Document, OutcomeKind};

pub use crate::report::RATCHET_CHECK;

/// Listed cases that failed with findings their lines do not name: each id with those
/// signatures.
pub type NewFindings = Vec<(String, Vec<String>)>;

/// What a bare id line without a reason stands for.
const NO_REASON: &str = "no reason given";

/// At most this many words in a signature's shape.
const SHAPE_WORDS: usize = 12;

/// What a listed case may fail with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listed {
    /// A line with the id alone (the older format): any finding; the text after the id, if any,
    /// is its reason.
    Any(String),
    /// The signatures (`check:shape`) of the findings accepted.
    Signatures(BTreeSet<String>),
}

impl Listed {
    /// The listing in one line, for the reports' "known failure" note.
    pub fn describe(&self) -> String {
        match self {
            Listed::Any(reason) => reason.clone(),
            Listed::Signatures(s) => s.iter().cloned().collect::<Vec<_>>().join(", "),
        }
    }

    /// The signatures among `findings` (check, message) these lines do not name, each once, in
    /// order (empty: every finding is known). The ratchet's own finding is nobody's signature.
    pub fn unexpected<'a>(
        &self,
        findings: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Vec<String> {
        let Listed::Signatures(known) = self else {
            return Vec::new();
        };
        let mut new: Vec<String> = Vec::new();
        for (check, message) in findings {
            let s = signature(check, message);
            if check != RATCHET_CHECK && !known.contains(&s) && !new.contains(&s) {
                new.push(s);
            }
        }
        new
    }
}

/// A parsed known-failures file: case id → what it may fail with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownFailures {
    entries: BTreeMap<String, Listed>,
}

/// The stable signature of a finding: its check, a colon, and its message reduced to its shape.
/// The shape keeps the words and HTTP status codes; a quoted or scrubbed value, a number, an id
/// (hexadecimal), a path or URL, and anything longer than 40 characters become a placeholder
/// word (`n`, `id`, `path`, `value`) or disappear; lower case, words joined by `-`, at most
/// twelve words. `secret_redaction:secret-echoed-a-secret-sent-in-this-case-comes-back-in-clear`.
pub fn signature(check: &str, message: &str) -> String {
    format!("{}:{}", token(check), shape(message))
}

/// The message's shape (see [`signature`]).
fn shape(message: &str) -> String {
    // Quoted text is a value, whatever it says.
    let mut unquoted = String::new();
    let mut quote: Option<char> = None;
    for ch in message.chars() {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None if ch == '"' || ch == '`' => {
                quote = Some(ch);
                unquoted.push_str(" value ");
            }
            None => unquoted.push(ch),
        }
    }
    let words: Vec<String> = unquoted
        .split_whitespace()
        .filter_map(word)
        .filter(|w| !w.is_empty())
        .take(SHAPE_WORDS)
        .collect();
    if words.is_empty() {
        "finding".to_owned()
    } else {
        words.join("-")
    }
}

/// One word of a message, as its shape has it (`None`: dropped).
fn word(raw: &str) -> Option<String> {
    let w = raw.trim_matches(|c: char| ",;:()[]{}<>!?'".contains(c) || c == '.');
    if w.is_empty() || w.contains("{{") || w.contains('}') {
        return None;
    }
    if w.starts_with('/') || w.contains("://") {
        return Some("path".into());
    }
    if w.chars().count() > 40 {
        return Some("value".into());
    }
    if w.chars()
        .all(|c| c.is_ascii_digit() || ".-:+_/".contains(c))
    {
        let status = w.len() == 3 && w.parse::<u16>().is_ok_and(|n| (100..600).contains(&n));
        return Some(if status { w.to_owned() } else { "n".into() });
    }
    if w.len() >= 8
        && w.chars().all(|c| c.is_ascii_hexdigit())
        && w.chars().any(|c| c.is_ascii_digit())
    {
        return Some("id".into());
    }
    Some(token(w))
}

/// Lower case; every run of characters other than letters, digits, `_` and `.` becomes one `-`.
fn token(text: &str) -> String {
    let mut out = String::new();
    for ch in text.chars().flat_map(char::to_lowercase) {
        if ch.is_alphanumeric() || ch == '_' || ch == '.' {
            out.push(ch);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// Record in `doc` the signature of every failed case's first finding, by which the human
/// reports group failures ([`Document::signatures`]).
pub fn mark_signatures(doc: &mut Document) {
    doc.signatures = doc
        .cases
        .iter()
        .filter(|c| c.outcome == OutcomeKind::Failed)
        .filter_map(|c| {
            let f = c.findings.first()?;
            Some((c.id.clone(), signature(&f.check, &f.message)))
        })
        .collect();
}

/// Whether the text after a case id is one signature (`check:shape`, no spaces).
fn is_signature(rest: &str) -> bool {
    match rest.split_once(':') {
        Some((check, shape)) => {
            !rest.contains(char::is_whitespace)
                && !check.is_empty()
                && !shape.is_empty()
                && check
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        }
        None => false,
    }
}

impl KnownFailures {
    /// Parse the text of a known-failures file: per line a case id, whitespace, then either a
    /// signature (`check:shape`) or nothing (or, in the older format, a free-text reason): the
    /// case may then fail with anything. Blank lines and lines starting with `#` are ignored; an
    /// id's signature lines add up; an id-only line wins over its signature lines.
    pub fn parse(text: &str) -> KnownFailures {
        let mut entries: BTreeMap<String, Listed> = BTreeMap::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (id, rest) = match line.split_once(char::is_whitespace) {
                Some((id, rest)) => (id, rest.trim()),
                None => (line, ""),
            };
            let listed = entries
                .entry(id.to_owned())
                .or_insert_with(|| Listed::Signatures(BTreeSet::new()));
            match listed {
                Listed::Signatures(s) if is_signature(rest) => {
                    s.insert(rest.to_owned());
                }
                Listed::Signatures(_) => {
                    let reason = if rest.is_empty() { NO_REASON } else { rest };
                    *listed = Listed::Any(reason.to_owned());
                }
                Listed::Any(_) => {}
            }
        }
        KnownFailures { entries }
    }

    /// Read and parse a known-failures file.
    pub fn load(path: &Path) -> Result<KnownFailures> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Usage(format!(
                "cannot read the known failures {}: {e}",
                path.display()
            ))
        })?;
        Ok(KnownFailures::parse(&text))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many cases are listed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// What a listed case may fail with; `None` when it is not listed.
    pub fn listed(&self, id: &str) -> Option<&Listed> {
        self.entries.get(id)
    }

    /// How many cases are listed by id alone (the older format: any finding is accepted).
    pub fn bare_ids(&self) -> usize {
        self.entries
            .values()
            .filter(|l| matches!(l, Listed::Any(_)))
            .count()
    }

    /// The signatures among `findings` (check, message) that a listed case's lines do not name,
    /// each once, in order; `None` when the case is not listed (empty: every finding is known).
    /// The ratchet's own finding is nobody's signature.
    pub fn unexpected<'a>(
        &self,
        id: &str,
        findings: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Option<Vec<String>> {
        self.entries.get(id).map(|l| l.unexpected(findings))
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
    pub fn ratchet_message(listed: &str) -> String {
        format!("listed as a known failure but passes: remove it from the list (listed: {listed})")
    }

    /// Ratchet, before the reports are built: every listed case that passed becomes a failure
    /// with one finding saying to remove its lines (on the case's request under test, so that
    /// its reproduction shows the request that now passes). Skipped cases stay skipped: they
    /// say nothing either way.
    pub fn ratchet(&self, run: &mut RunReport) {
        for o in &mut run.outcomes {
            let Some(listed) = self.entries.get(&o.id) else {
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
                message: KnownFailures::ratchet_message(&listed.describe()),
                expected: Some("the case fails, as the known-failures file says".into()),
                actual: Some("the case passes".into()),
            });
        }
    }

    /// The failed cases of `doc` this list accepts (id → the listing, for the report's "known
    /// failure" note), and the listed cases that failed with findings their lines do not name
    /// (id → those signatures). The ratchet's own failures are neither. `report::settle` marks
    /// the accepted ones and computes the verdict.
    pub fn accepted(&self, doc: &Document) -> (BTreeMap<String, String>, NewFindings) {
        let mut accepted = BTreeMap::new();
        let mut new = Vec::new();
        for c in &doc.cases {
            if c.outcome != OutcomeKind::Failed
                || c.findings.iter().any(|f| f.check == RATCHET_CHECK)
            {
                continue;
            }
            let findings = c
                .findings
                .iter()
                .map(|f| (f.check.as_str(), f.message.as_str()));
            match self.unexpected(&c.id, findings) {
                Some(unlisted) if unlisted.is_empty() => {
                    if let Some(listed) = self.entries.get(&c.id) {
                        accepted.insert(c.id.clone(), listed.describe());
                    }
                }
                Some(unlisted) => new.push((c.id.clone(), unlisted)),
                None => {}
            }
        }
        (accepted, new)
    }

    /// The list pruned by a run: a listed case that passed loses its lines; one that failed
    /// keeps the lines of the findings it still has (an id-only line becomes the signatures of
    /// the findings it has now); a case the run did not judge (not selected, skipped) keeps its
    /// lines. Nothing is added.
    pub fn pruned(&self, doc: &Document) -> KnownFailures {
        let mut entries = self.entries.clone();
        for c in &doc.cases {
            let Some(listed) = entries.get_mut(&c.id) else {
                continue;
            };
            match c.outcome {
                OutcomeKind::Skipped => continue,
                OutcomeKind::Passed => {
                    entries.remove(&c.id);
                    continue;
                }
                OutcomeKind::Failed => {}
            }
            let now = signatures_of(c);
            let kept: BTreeSet<String> = match listed {
                Listed::Any(_) => now,
                Listed::Signatures(s) => s.intersection(&now).cloned().collect(),
            };
            if kept.is_empty() {
                entries.remove(&c.id);
            } else {
                *listed = Listed::Signatures(kept);
            }
        }
        KnownFailures { entries }
    }

    /// Every failed case of `doc` with the signatures of its findings (a case that failed only
    /// because the ratchet caught it passing is left out: it passes).
    pub fn of_failures(doc: &Document) -> KnownFailures {
        let entries = doc
            .cases
            .iter()
            .filter(|c| c.outcome == OutcomeKind::Failed)
            .filter(|c| !c.findings.iter().any(|f| f.check == RATCHET_CHECK))
            .map(|c| (c.id.clone(), Listed::Signatures(signatures_of(c))))
            .collect();
        KnownFailures { entries }
    }

    /// The file's text: a commented header that documents the format, then one line per case
    /// and signature, sorted (an id-only entry as its id and reason).
    pub fn render(&self, doc: &Document) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Known failures of {} ({} {}, {}).",
            doc.target.base_url, doc.tool.name, doc.tool.version, doc.started
        );
        out.push_str(HEADER);
        let width = self.entries.keys().map(String::len).max().unwrap_or(0);
        for (id, listed) in &self.entries {
            match listed {
                Listed::Any(reason) => {
                    let _ = writeln!(out, "{id:width$}  {}", report::text::one_line(reason));
                }
                Listed::Signatures(s) => {
                    for sig in s {
                        let _ = writeln!(out, "{id:width$}  {sig}");
                    }
                }
            }
        }
        out
    }
}

/// The format, at the top of every file `run` writes.
const HEADER: &str = "\
# Format: one `case-id  check:signature` per line, sorted; `#` starts a comment.
# The signature is a finding's check and its message reduced to a shape (no values, no ids, no
# secrets). A listed case may fail with the findings its lines name; a finding not listed fails
# the run (it is new), and a listed case that passes fails the run (remove its lines). A line
# with a case id alone (older files) accepts any finding of that case.
# Use: `conformance run --known-failures FILE` (CONFORMANCE_KNOWN_FAILURES for the cargo suite);
# `conformance run --update-baseline FILE` removes the lines of what passes and adds nothing;
# `conformance run --write-baseline FILE` writes every failure of a run.
";

/// The signatures of a case's findings (the ratchet's left out).
fn signatures_of(c: &report::CaseReport) -> BTreeSet<String> {
    c.findings
        .iter()
        .filter(|f| f.check != RATCHET_CHECK)
        .map(|f| signature(&f.check, &f.message))
        .collect()
}

/// The text of a known-failures file listing every failed case of `doc` with the signatures of
/// its findings (see [`KnownFailures::of_failures`]). The document is scrubbed, and a signature keeps
/// no value, so no secret reaches the file.
pub fn render(doc: &Document) -> String {
    KnownFailures::of_failures(doc).render(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_signatures_bare_ids_and_comments() {
        let b = KnownFailures::parse(
            "# header\n\n  a/b/c   state:slack.apitoken-differs  \na/b/c status:post-path-answered-201-not-200\n\
             d/e/f\ng/h/i\t an old free-text reason\ng/h/i x:y\n# a/b/x commented\n",
        );
        assert_eq!(b.len(), 3);
        assert_eq!(b.bare_ids(), 2);
        let Some(Listed::Signatures(s)) = b.listed("a/b/c") else {
            panic!("a/b/c lists signatures");
        };
        assert_eq!(s.len(), 2);
        assert_eq!(b.listed("d/e/f"), Some(&Listed::Any(NO_REASON.into())));
        assert_eq!(
            b.listed("g/h/i"),
            Some(&Listed::Any("an old free-text reason".into()))
        );
        assert_eq!(b.listed("a/b/x"), None);
        assert_eq!(b.unknown_ids(["a/b/c", "g/h/i"]), vec!["d/e/f".to_owned()]);
        // A finding of another shape is new; a bare id accepts anything.
        let new = b.unexpected(
            "a/b/c",
            [("state", "SLACK.apiToken differs"), ("mask", "not masked")],
        );
        assert_eq!(new, Some(vec!["mask:not-masked".to_owned()]));
        assert_eq!(b.unexpected("d/e/f", [("x", "y")]), Some(Vec::new()));
        assert_eq!(b.unexpected("z", [("x", "y")]), None);
    }

    #[test]
    fn signatures_keep_the_shape_and_drop_values() {
        let cases = [
            (
                "POST /api/atlas/v2/groups/e2915758b7b3f7ab3331da0b/integrations/SLACK answered 201, not 200",
                "post-path-answered-201-not-200",
            ),
            ("the next link is missing (page 2, 9 in all)", "the-next-link-is-missing-page-n-n-in-all"),
            ("got \"s3cr3t value\" where `x` was due", "got-value-where-value-was-due"),
            ("id 5f0c1e2d3a4b5c6d7e8f9a0b is gone", "id-id-is-gone"),
            ("n{{secret}}ö leaked", "leaked"),
            ("version 2023-01-01 of it", "version-n-of-it"),
            ("", "finding"),
        ];
        for (message, shape) in cases {
            assert_eq!(
                signature("status_code", message),
                format!("status_code:{shape}")
            );
        }
        let long = "one two three four five six seven eight nine ten eleven twelve thirteen";
        assert_eq!(signature("c", long).split('-').count(), 12);
        assert!(is_signature(&signature("c", long)));
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
