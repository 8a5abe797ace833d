//! What the human reports share about failures: the failed cases grouped by their first finding
//! (check and signature, as a known-failures file names it: [`Document::signatures`], which the
//! command line fills; without it, check and message), largest group first and the
//! simplest case of each group first; the one-line re-run of a case; and how a scrubbed value
//! reads (`‹scrubbed›`, never the placeholder string, which reads as if the target sent it).

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::{CaseReport, Document, OutcomeKind};
use crate::scrub::PLACEHOLDER;

/// How the human reports show a value the scrubber replaced.
pub const SCRUBBED: &str = "‹scrubbed›";

/// The failed cases whose first finding has one signature.
#[derive(Debug)]
pub struct FailureGroup<'a> {
    /// `check:shape` as [`Document::signatures`] has it (else `check:message`); `finding:none`
    /// for a case that failed with no finding (a cleanup failure).
    pub signature: String,
    /// Simplest first: fewest exchanges, then the shortest id.
    pub cases: Vec<&'a CaseReport>,
}

impl FailureGroup<'_> {
    /// The group's check (the signature's part before the colon).
    pub fn check(&self) -> &str {
        self.cases
            .first()
            .and_then(|c| c.findings.first())
            .map_or("finding", |f| f.check.as_str())
    }

    /// The first finding of the simplest case: what the group looks like.
    pub fn example(&self) -> Option<&super::FindingReport> {
        self.cases.first().and_then(|c| c.findings.first())
    }
}

/// The failed cases grouped by first finding, largest group first (then by signature).
pub fn failure_groups(doc: &Document) -> Vec<FailureGroup<'_>> {
    let mut by: BTreeMap<String, Vec<&CaseReport>> = BTreeMap::new();
    for case in doc
        .cases
        .iter()
        .filter(|c| c.outcome == OutcomeKind::Failed)
    {
        let key = match (doc.signatures.get(&case.id), case.findings.first()) {
            (Some(s), _) => s.clone(),
            (None, Some(f)) => format!("{}:{}", f.check, f.message),
            (None, None) => "finding:none".to_owned(),
        };
        by.entry(key).or_default().push(case);
    }
    let mut groups: Vec<FailureGroup<'_>> = by
        .into_iter()
        .map(|(signature, mut cases)| {
            cases.sort_by(|a, b| {
                (a.exchanges.len(), a.id.len(), &a.id).cmp(&(b.exchanges.len(), b.id.len(), &b.id))
            });
            FailureGroup { signature, cases }
        })
        .collect();
    groups.sort_by(|a, b| {
        b.cases
            .len()
            .cmp(&a.cases.len())
            .then_with(|| a.signature.cmp(&b.signature))
    });
    groups
}

/// The failed cases in the order the reports detail them: group by group, simplest first.
pub fn failures_in_order(doc: &Document) -> Vec<&CaseReport> {
    failure_groups(doc)
        .into_iter()
        .flat_map(|g| g.cases)
        .collect()
}

/// The one-line command that runs case `id` again as this run did (an exploration entry: the
/// exploration with its seed): the embedded server with the same faults and variants, or the
/// same `--target` (credentials from the same `CONFORMANCE_*` variables), and the same `--spec`.
pub fn rerun(doc: &Document, id: &str) -> String {
    // The exploration entry is not a case a filter selects: its seed explores again.
    let seed = id
        .rsplit_once("/seed-")
        .filter(|_| crate::case::is_exploration_id(id))
        .map(|(_, seed)| seed);
    let mut line = match seed {
        Some(seed) => format!(
            "conformance run --category exploration --explore-seed {}",
            shell_word(seed)
        ),
        None => format!("conformance run --filter {}", shell_word(id)),
    };
    if doc.target.embedded {
        for f in &doc.target.faults {
            line.push_str(&format!(" --fault {}", shell_word(f)));
        }
        for v in &doc.target.variants {
            line.push_str(&format!(" --variant {}", shell_word(v)));
        }
    } else {
        line.push_str(&format!(" --target {}", shell_word(&doc.target.base_url)));
    }
    if doc.spec.source != "bundled" {
        line.push_str(&format!(" --spec {}", shell_word(&doc.spec.source)));
    }
    line
}

/// `s` as one shell word: as it is when it holds only safe characters, else single-quoted.
fn shell_word(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if safe {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `text` as people should read it: a scrubbed value is shown as [`SCRUBBED`], outside any
/// quotes (a JSON string `"{{secret}}"` included), never as the placeholder string.
pub fn shown(text: &str) -> Cow<'_, str> {
    if !text.contains(PLACEHOLDER) {
        return Cow::Borrowed(text);
    }
    let quoted = format!("\"{PLACEHOLDER}\"");
    let escaped = format!("\\\"{PLACEHOLDER}\\\"");
    Cow::Owned(
        text.replace(&escaped, SCRUBBED)
            .replace(&quoted, SCRUBBED)
            .replace(PLACEHOLDER, SCRUBBED),
    )
}

#[cfg(test)]
mod tests {
    use super::{shell_word, shown, SCRUBBED};

    #[test]
    fn a_scrubbed_value_reads_as_scrubbed_outside_its_quotes() {
        assert_eq!(
            shown(r#"{"field":"{{secret}}"}"#),
            format!(r#"{{"field":{SCRUBBED}}}"#)
        );
        assert_eq!(
            shown("key {{secret}} shown"),
            format!("key {SCRUBBED} shown")
        );
        assert_eq!(shown("plain"), "plain");
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("atlas-v2/op/case-1"), "atlas-v2/op/case-1");
        assert_eq!(shell_word("a b'c"), r"'a b'\''c'");
    }
}
