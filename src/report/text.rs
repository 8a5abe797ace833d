//! The console summary of a run: first what was not judged (families skipped whole, skip
//! reasons), then passed / failed / skipped per family × category, then the failed cases grouped
//! by first finding, largest group first, each group with its re-run line (known failures
//! marked). Rendered from the (scrubbed) [`Document`].

use std::fmt::Write as _;

use super::groups::{failure_groups, rerun, shown};
use super::{skip_reasons, skipped_families, Document};

/// Groups of failures (by first finding) listed on the console; the rest are in the reports.
pub const GROUPS_SHOWN: usize = 10;

/// Failed cases named per group (the simplest first).
pub const CASES_PER_GROUP: usize = 4;

/// Failed cases listed on the console at most; the rest are in the reports.
pub const FAILURES_SHOWN: usize = GROUPS_SHOWN * CASES_PER_GROUP;

/// ANSI colours for the console, or none (`NO_COLOR`, not a terminal, `--color never`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Paint {
    pub on: bool,
}

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub fn red(self, text: &str) -> String {
        self.wrap("31", text)
    }

    pub fn green(self, text: &str) -> String {
        self.wrap("32", text)
    }

    pub fn yellow(self, text: &str) -> String {
        self.wrap("33", text)
    }

    pub fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }
}

/// The summary table and the failed cases, without colour.
pub fn summary(doc: &Document) -> String {
    summary_painted(doc, Paint::default())
}

/// The summary table and the failed cases: failures red, what was not judged yellow.
pub fn summary_painted(doc: &Document, paint: Paint) -> String {
    let mut out = String::new();
    if let Some(q) = &doc.quick {
        let _ = writeln!(out, "{}\n", q.line());
    }
    // What was not judged comes first: a green table below it must not hide it.
    for (family, reason) in skipped_families(doc) {
        let line = format!("not judged: family {family} (every case skipped: {reason})");
        let _ = writeln!(out, "{}", paint.yellow(&line));
    }
    let reasons = skip_reasons(doc);
    if !reasons.is_empty() {
        let line = format!("skipped {} cases:", doc.summary.counts.skipped);
        let _ = writeln!(out, "{}", paint.yellow(&line));
        for (reason, n, _) in reasons {
            let _ = writeln!(out, "  {n:>5}  {}", one_line(reason));
        }
        out.push('\n');
    }
    table(&mut out, doc, paint);
    failed_cases(&mut out, doc, paint);
    let _ = writeln!(out, "\n{}", rules_line(doc, paint));
    out
}

/// Passed, failed and skipped per family and category, the total and the warning count.
fn table(out: &mut String, doc: &Document, paint: Paint) {
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
            let row = format!(
                "{family:fw$}  {category:cw$}  {:>7}  {:>7}  {:>7}{mark}",
                c.passed, c.failed, c.skipped
            );
            let row = if c.failed > 0 { paint.red(&row) } else { row };
            let _ = writeln!(out, "{row}");
        }
    }
    let t = doc.summary.counts;
    let total = format!(
        "{:fw$}  {:cw$}  {:>7}  {:>7}  {:>7}",
        "total", "", t.passed, t.failed, t.skipped
    );
    let total = match (t.failed, t.passed) {
        (0, 0) => paint.yellow(&total),
        (0, _) => paint.green(&total),
        _ => paint.red(&total),
    };
    let _ = writeln!(out, "{}", paint.bold(&total));
    match doc.summary.warnings {
        0 => {}
        1 => {
            let _ = writeln!(
                out,
                "{}",
                paint.yellow("1 warning (not a failure; see report.md)")
            );
        }
        n => {
            let line = format!("{n} warnings (not failures; see report.md)");
            let _ = writeln!(out, "{}", paint.yellow(&line));
        }
    }
}

/// The failed cases grouped by first finding, largest group first: per group its count, the
/// simplest case with its first finding and its re-run line, and a few more ids.
fn failed_cases(out: &mut String, doc: &Document, paint: Paint) {
    let groups = failure_groups(doc);
    if groups.is_empty() {
        return;
    }
    let failed: usize = groups.iter().map(|g| g.cases.len()).sum();
    let known = doc.summary.known_failures;
    let of_them = if known > 0 {
        format!(", {known} of them known failures")
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "\nfailed cases ({failed}{of_them}), by first finding, largest group first:"
    );
    for g in groups.iter().take(GROUPS_SHOWN) {
        let Some(first) = g.cases.first() else {
            continue;
        };
        let finding = match first.findings.first() {
            Some(f) => format!(
                "[{}] step {}: {}",
                f.check,
                f.step,
                one_line(&shown(&f.message))
            ),
            None => "no finding (a cleanup failure)".to_owned(),
        };
        let _ = writeln!(out, "  {:>5} × {finding}", g.cases.len());
        for case in g.cases.iter().take(CASES_PER_GROUP) {
            match &case.known_failure {
                Some(reason) => {
                    let _ = writeln!(
                        out,
                        "          {}  (known failure: {})",
                        case.id,
                        one_line(reason)
                    );
                }
                None => {
                    let _ = writeln!(out, "          {}", paint.red(&case.id));
                }
            }
        }
        if g.cases.len() > CASES_PER_GROUP {
            let _ = writeln!(
                out,
                "          … and {} more",
                g.cases.len() - CASES_PER_GROUP
            );
        }
        let _ = writeln!(out, "          re-run: {}", rerun(doc, &first.id));
    }
    if groups.len() > GROUPS_SHOWN {
        let _ = writeln!(
            out,
            "  … and {} more findings (see report.md)",
            groups.len() - GROUPS_SHOWN
        );
    }
}

/// "rules: N of M exercised, K failed", and what was not exercised and why.
fn rules_line(doc: &Document, paint: Paint) -> String {
    let r = doc.summary.rules;
    let mut line = r.line();
    let open = r.skipped + r.not_run + r.partly;
    if open > 0 {
        let mut reasons: Vec<&str> = doc
            .rules
            .iter()
            .filter_map(|c| c.reason.as_deref())
            .collect();
        reasons.sort_unstable();
        reasons.dedup();
        line.push_str(&format!(
            " ({open} not or partly exercised: {})",
            reasons.join("; ")
        ));
    }
    if r.failed > 0 {
        paint.red(&line)
    } else if open > 0 {
        paint.yellow(&line)
    } else {
        line
    }
}

/// `s` on one line, at most 200 characters.
pub(crate) fn one_line(s: &str) -> String {
    one_line_within(s, 200)
}

/// `s` on one line (whitespace runs become one space), cut to `limit` characters with `…`.
pub(crate) fn one_line_within(s: &str, limit: usize) -> String {
    let line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > limit {
        let cut: String = line.chars().take(limit.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::Paint;

    #[test]
    fn paint_adds_ansi_codes_only_when_on() {
        let off = Paint::default();
        assert_eq!(off.red("x"), "x");
        assert_eq!(off.bold("x"), "x");
        let on = Paint { on: true };
        assert_eq!(on.red("x"), "\x1b[31mx\x1b[0m");
        assert_eq!(on.green("x"), "\x1b[32mx\x1b[0m");
        assert_eq!(on.yellow("x"), "\x1b[33mx\x1b[0m");
    }
}
