//! The console summary of a run: passed / failed / skipped per family × category, then the
//! failed cases with their first finding. Rendered from the (scrubbed) [`Document`].

use std::fmt::Write as _;

use super::{Document, OutcomeKind};

/// Failed cases listed on the console; the rest are in the reports.
pub const FAILURES_SHOWN: usize = 40;

/// The summary table and the failed cases.
pub fn summary(doc: &Document) -> String {
    let mut out = String::new();
    let fw = doc
        .selection
        .families
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(6)
        .max(6);
    let cw = doc
        .selection
        .categories
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(8)
        .max(8);
    let _ = writeln!(
        out,
        "{:fw$}  {:cw$}  {:>7}  {:>7}  {:>7}",
        "family", "category", "passed", "failed", "skipped"
    );
    for family in &doc.selection.families {
        for category in &doc.selection.categories {
            let c = doc.summary.cell(family, category);
            if c.total == 0 {
                continue;
            }
            let mark = if c.failed > 0 { "  ✗" } else { "" };
            let _ = writeln!(
                out,
                "{family:fw$}  {category:cw$}  {:>7}  {:>7}  {:>7}{mark}",
                c.passed, c.failed, c.skipped
            );
        }
    }
    let t = doc.summary.counts;
    let _ = writeln!(
        out,
        "{:fw$}  {:cw$}  {:>7}  {:>7}  {:>7}",
        "total", "", t.passed, t.failed, t.skipped
    );
    match doc.summary.warnings {
        0 => {}
        1 => {
            let _ = writeln!(out, "1 warning (not a failure; see report.md)");
        }
        n => {
            let _ = writeln!(out, "{n} warnings (not failures; see report.md)");
        }
    }

    let failed: Vec<_> = doc
        .cases
        .iter()
        .filter(|c| c.outcome == OutcomeKind::Failed)
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "\nfailed cases ({}):", failed.len());
        for case in failed.iter().take(FAILURES_SHOWN) {
            let _ = writeln!(out, "  {}", case.id);
            if let Some(f) = case.findings.first() {
                let more = match case.findings.len() {
                    1 => String::new(),
                    n => format!(" (+{} more)", n - 1),
                };
                let _ = writeln!(
                    out,
                    "      [{}] step {}: {}{more}",
                    f.check,
                    f.step,
                    one_line(&f.message)
                );
            }
        }
        if failed.len() > FAILURES_SHOWN {
            let _ = writeln!(
                out,
                "  … and {} more (see report.md)",
                failed.len() - FAILURES_SHOWN
            );
        }
    }
    out
}

fn one_line(s: &str) -> String {
    let line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 200 {
        let cut: String = line.chars().take(199).collect();
        format!("{cut}…")
    } else {
        line
    }
}
