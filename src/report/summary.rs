//! `summary.md`: the run in a few kilobytes, for a CI job summary (GitHub rejects one over
//! 1 MiB; `report.md` with a reproduction per failure passes that with a few hundred failures).
//! The verdict, the family × category matrix, the failures grouped by first finding, the first
//! failures with their re-run line, and where the rest is. Bounded whatever the run: at most
//! [`GROUPS_SHOWN`] groups and [`FAILURES_SHOWN`] failures, every line cut, and the whole cut at
//! [`LIMIT`] bytes.

use std::fmt::Write as _;

use super::groups::{failure_groups, rerun, shown};
use super::markdown::{code, escape, group_row, matrix_table};
use super::text::one_line_within;
use super::{Document, RunVerdict};

/// The most bytes `summary.md` holds (GitHub's job summary limit is 1 MiB).
pub const LIMIT: usize = 64 * 1024;

/// Groups of failures listed.
pub const GROUPS_SHOWN: usize = 25;

/// Failures listed one by one (the simplest of the largest groups first).
pub const FAILURES_SHOWN: usize = 20;

/// The longest a message or an id is shown.
const TEXT: usize = 240;

pub(crate) fn render(doc: &Document) -> String {
    let mut out = String::new();
    let verdict = match doc.summary.verdict {
        RunVerdict::Conformant => "✅ **CONFORMANT**",
        RunVerdict::NonConformant => "❌ **NOT CONFORMANT**",
        RunVerdict::Inconclusive => "⚠️ **INCONCLUSIVE**",
    };
    let _ = writeln!(out, "# Conformance summary\n");
    let _ = writeln!(
        out,
        "{verdict}: {}.\n",
        escape(&one_line_within(&super::headline(doc), 4 * TEXT))
    );
    let _ = writeln!(
        out,
        "Target {}{}; {} requests in {:.1} s; {} {}.",
        code(&one_line_within(&doc.target.base_url, TEXT)),
        if doc.target.embedded {
            " (embedded reference server)"
        } else {
            ""
        },
        doc.requests,
        doc.duration_ms / 1000.0,
        doc.tool.name,
        doc.tool.version
    );
    matrix_table(&mut out, doc);
    groups(&mut out, doc);
    let _ = writeln!(
        out,
        "\nEvery failure with its findings, the answer and a `curl` reproduction is in \
         `report.md` and `report.html` ({} cases in `report.json`, `junit.xml`) of the \
         reports artifact.",
        doc.summary.counts.total
    );
    bounded(out)
}

/// The failures by first finding, then the first ones with their re-run line.
fn groups(out: &mut String, doc: &Document) {
    let groups = failure_groups(doc);
    if groups.is_empty() {
        return;
    }
    let failed: usize = groups.iter().map(|g| g.cases.len()).sum();
    let _ = writeln!(
        out,
        "\n## Failures ({failed}) by first finding\n\n| cases | check | first finding (of the simplest case) | simplest case |\n|---|---|---|---|"
    );
    for g in groups.iter().take(GROUPS_SHOWN) {
        let _ = writeln!(out, "{}", group_row(g, TEXT));
    }
    if groups.len() > GROUPS_SHOWN {
        let rest: usize = groups[GROUPS_SHOWN..].iter().map(|g| g.cases.len()).sum();
        let _ = writeln!(
            out,
            "\n… and {} more findings ({rest} cases) in `report.md`.",
            groups.len() - GROUPS_SHOWN
        );
    }
    let _ = writeln!(out, "\n### First failures\n");
    // The simplest case of each group, largest group first, then the next of each.
    let depth = groups.iter().map(|g| g.cases.len()).max().unwrap_or(0);
    let order = (0..depth).flat_map(|i| groups.iter().filter_map(move |g| g.cases.get(i)));
    for case in order.take(FAILURES_SHOWN) {
        let known = if case.known_failure.is_some() {
            " (known failure)"
        } else {
            ""
        };
        let _ = writeln!(out, "- {}{known}", code(&one_line_within(&case.id, TEXT)));
        if let Some(f) = case.findings.first() {
            let _ = writeln!(
                out,
                "  - **{}** (step {}): {}",
                escape(&f.check),
                f.step,
                escape(&one_line_within(&shown(&f.message), TEXT))
            );
        }
        let _ = writeln!(
            out,
            "  - re-run: {}",
            code(&one_line_within(&rerun(doc, &case.id), 2 * TEXT))
        );
    }
    if failed > FAILURES_SHOWN {
        let _ = writeln!(out, "\n… and {} more failures.", failed - FAILURES_SHOWN);
    }
}

/// `out` within [`LIMIT`] bytes: cut at a line boundary, with a line saying so.
fn bounded(mut out: String) -> String {
    const CUT: &str = "\n… (cut to stay within the job summary's limit; see `report.md`)\n";
    if out.len() <= LIMIT {
        return out;
    }
    let mut end = LIMIT - CUT.len();
    while !out.is_char_boundary(end) {
        end -= 1;
    }
    let end = out[..end].rfind('\n').unwrap_or(0);
    out.truncate(end);
    out.push_str(CUT);
    out
}

#[cfg(test)]
mod tests {
    use super::{bounded, LIMIT};

    #[test]
    fn a_long_summary_is_cut_at_a_line_within_the_limit() {
        let long = "ü line of text\n".repeat(LIMIT);
        let cut = bounded(long);
        assert!(cut.len() <= LIMIT, "{}", cut.len());
        assert!(cut.ends_with("see `report.md`)\n"));
    }
}
