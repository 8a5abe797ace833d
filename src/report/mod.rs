//! Stage 6: the reports of a run. One scrubbed [`Document`] is built from the runner's
//! [`RunReport`] and rendered five ways: `report.json` (versioned; its JSON Schema is
//! `docs/report-schema.json`), `junit.xml` for CI, `report.md` / `report.html` for people, with
//! a `curl` reproduction per failure, and `summary.md`, bounded, for a CI job summary.
//!
//! Nothing leaves this module unscrubbed: every string of the document went through a
//! [`Scrubber`] that knows the target's credentials and every secret the selected cases
//! generated, so the renderers cannot leak what the document does not hold.

mod build;
pub(crate) mod curl;
mod document;
pub(crate) mod explore_page;
pub mod groups;
pub mod har;
pub(crate) mod html;
pub(crate) mod junit;
mod markdown;
mod rules;
pub mod summary;
pub mod text;
mod verdict;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

use self::build::cut;
pub use self::build::{build, display_url, secrets_of_case};
pub use self::curl::reproduce;
pub use self::document::*;
pub use self::verdict::{settle, Terms, RATCHET_CHECK};
pub use crate::scrub::{Scrubber, PLACEHOLDER};

/// The `schema_version` of `report.json`; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Bodies (request and response) are cut to this many bytes in the report.
pub const BODY_LIMIT: usize = 8 * 1024;

/// The files [`write`] creates, in that order.
/// `summary.md` is the bounded one, for a CI job summary.
pub const FILES: [&str; 5] = [
    "report.json",
    "junit.xml",
    "report.md",
    "report.html",
    "summary.md",
];

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

/// Write the reports ([`FILES`]) into `dir` (created if needed); returns their paths.
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
    let renderers: [fn(&Document) -> String; 4] = [
        junit::render,
        markdown::render,
        html::render,
        summary::render,
    ];
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
        RunVerdict::Conformant => format!("conformant: {} of {} cases passed", c.passed, c.total),
        RunVerdict::NonConformant => {
            format!(
                "non-conformant: {} of {} cases failed",
                c.failed - known.min(c.failed),
                c.total
            )
        }
        // The sentences say what was skipped; the general skip notes below would repeat it.
        RunVerdict::Inconclusive if !doc.summary.not_covered.is_empty() => {
            return format!(
                "inconclusive: {}; {} of {} cases passed",
                doc.summary.not_covered.join("; "),
                c.passed,
                c.total
            );
        }
        RunVerdict::Inconclusive if doc.interrupted => {
            format!(
                "inconclusive: the run was interrupted after {} of {} cases",
                c.passed + c.failed,
                c.total
            )
        }
        RunVerdict::Inconclusive => format!(
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
