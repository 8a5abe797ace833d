//! `report.md`: the run for people (and for pasting into an issue): the verdict, the conformance
//! what was not judged and why (first), the matrix, every failure with expected vs actual and its
//! `curl` reproduction.

use std::fmt::Write as _;

use super::groups::{failure_groups, rerun, shown};
use super::{
    category_totals, matrix, skip_reasons, warning_groups, CaseReport, Counts, Document, RunVerdict,
};

/// Text with Markdown's inline syntax characters escaped.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '{' | '}' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text for a table cell or a line of its own, kept as written where it is plain: only what
/// would end the cell or start markup (`\`, `|`, backticks, `*`, `<`) is escaped, and a
/// newline becomes a space. Unlike [`escape`] it leaves `_` alone, which GFM does not read as
/// emphasis inside a word (`NEW_RELIC`, `INVALID_ENUM_VALUE`).
pub(super) fn plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '|' | '`' | '*' | '<' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `s` as an inline code span, fenced with more backticks than it contains in a row.
pub(super) fn code(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || s.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// A fenced code block whose fence no line of `s` can close.
pub(super) fn block(lang: &str, s: &str) -> String {
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}{lang}\n{}\n{fence}\n", s.trim_end_matches('\n'))
}

fn cell(c: Counts) -> String {
    if c.total == 0 {
        return "·".into();
    }
    let mut parts = Vec::new();
    if c.failed > 0 {
        parts.push(format!("❌ {} failed", c.failed));
    }
    if c.passed > 0 {
        parts.push(format!(
            "{}{} passed",
            if c.failed == 0 && c.skipped == 0 {
                "✅ "
            } else {
                ""
            },
            c.passed
        ));
    }
    if c.skipped > 0 {
        parts.push(format!(
            "{}{} skipped",
            if c.failed == 0 && c.passed == 0 {
                "⏭️ "
            } else {
                ""
            },
            c.skipped
        ));
    }
    parts.join(", ")
}

pub(crate) fn render(doc: &Document) -> String {
    let mut out = String::new();
    head(&mut out, doc);
    // What was not judged comes before the matrix: a green matrix must not hide it.
    not_judged(&mut out, doc);
    matrix_table(&mut out, doc);
    failures(&mut out, doc);
    warnings(&mut out, doc);
    out.push_str(&super::rules::markdown(doc));
    target_state(&mut out, doc);
    out
}

/// The title, the verdict with the headline, and the run's facts.
fn head(out: &mut String, doc: &Document) {
    let c = &doc.summary.counts;
    let verdict = match doc.summary.verdict {
        RunVerdict::Conformant => "✅ **CONFORMANT**",
        RunVerdict::NonConformant => "❌ **NOT CONFORMANT**",
        RunVerdict::Inconclusive => "⚠️ **INCONCLUSIVE**",
    };
    let _ = writeln!(out, "# Conformance report\n");
    let _ = writeln!(out, "{verdict}: {}.\n", escape(&super::headline(doc)));
    if let Some(q) = &doc.quick {
        let _ = writeln!(out, "> {}\n", escape(&q.line()));
    }
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(
        out,
        "| target | {}{} |",
        code(&doc.target.base_url),
        if doc.target.embedded {
            " (embedded reference server)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "| credentials | {} |",
        escape(&match &doc.target.read_only_auth_scheme {
            Some(ro) => format!("{}, read-only {ro}", doc.target.auth_scheme),
            None => format!("{}, no read-only credentials", doc.target.auth_scheme),
        })
    );
    let known = match doc.summary.known_failures {
        0 => String::new(),
        n => format!(" ({n} of them known failures)"),
    };
    let _ = writeln!(
        out,
        "| cases | {} passed, {} failed{known}, {} skipped of {} |",
        c.passed, c.failed, c.skipped, c.total
    );
    let _ = writeln!(out, "| requests | {} |", doc.requests);
    let _ = writeln!(out, "| started | {} |", doc.started);
    let _ = writeln!(out, "| duration | {:.1} s |", doc.duration_ms / 1000.0);
    let _ = writeln!(
        out,
        "| spec | {} sha256 {} |",
        escape(&doc.spec.source),
        code(&doc.spec.sha256)
    );
    let _ = writeln!(
        out,
        "| tool | {} {} (report schema {}) |",
        doc.tool.name, doc.tool.version, doc.schema_version
    );
    if !doc.target.projects.is_empty() {
        let projects: Vec<String> = doc
            .target
            .projects
            .iter()
            .map(|(k, v)| format!("{} {}", k.replace('_', " "), code(v)))
            .collect();
        let _ = writeln!(out, "| projects | {} |", projects.join(", "));
    }
    let _ = writeln!(
        out,
        "| selection | families {}; categories {} |",
        escape(&doc.selection.families.join(", ")),
        escape(&doc.selection.categories.join(", "))
    );
    if let Some(f) = &doc.selection.filter {
        let _ = writeln!(out, "| filter | {} |", escape(f));
    }
    if doc.interrupted {
        let _ = writeln!(
            out,
            "| note | the run was interrupted; cases not started are skipped |"
        );
    }
    if doc.deadline_reached {
        let _ = writeln!(
            out,
            "| note | the deadline was reached; cases not started are skipped |"
        );
    }
}

/// The families nobody judged and the reasons cases were skipped.
fn not_judged(out: &mut String, doc: &Document) {
    let families = super::skipped_families(doc);
    if !families.is_empty() {
        let _ = writeln!(out, "\n## Not judged\n");
        for (family, reason) in families {
            let _ = writeln!(
                out,
                "- family {}: every case skipped ({})",
                code(family),
                escape(reason)
            );
        }
    }
    let skipped = skip_reasons(doc);
    if !skipped.is_empty() {
        let _ = writeln!(out, "\n## Skipped ({})\n", doc.summary.counts.skipped);
        let _ = writeln!(out, "| cases | reason | e.g. |\n|---|---|---|");
        for (reason, n, ids) in skipped {
            let ids: Vec<String> = ids.iter().map(|i| code(i)).collect();
            let _ = writeln!(out, "| {n} | {} | {} |", escape(reason), ids.join(", "));
        }
    }
}

/// Cases per family and category.
pub(super) fn matrix_table(out: &mut String, doc: &Document) {
    let _ = writeln!(out, "\n## Conformance matrix\n");
    let _ = write!(out, "| family |");
    for cat in &doc.selection.categories {
        let _ = write!(out, " {cat} |");
    }
    let _ = writeln!(out, " total |");
    let _ = writeln!(
        out,
        "|---|{}---|",
        "---|".repeat(doc.selection.categories.len())
    );
    for (family, cells, total) in matrix(doc) {
        let _ = write!(out, "| **{}** |", escape(family));
        for c in cells {
            let _ = write!(out, " {} |", cell(c));
        }
        let _ = writeln!(out, " {} |", cell(total));
    }
    let _ = write!(out, "| **total** |");
    for c in category_totals(doc) {
        let _ = write!(out, " {} |", cell(c));
    }
    let _ = writeln!(out, " {} |", cell(doc.summary.counts));
}

/// The failures: grouped by first finding (largest group first), then every failed case in that
/// order (the simplest of each group first) with its findings, the answer, its re-run line and a
/// reproduction.
/// A failure group's row: how many cases, the check, the simplest case's first finding and the
/// simplest case, each text cut to `within` characters.
pub(super) fn group_row(g: &super::groups::FailureGroup<'_>, within: usize) -> String {
    let message = g.example().map_or("", |f| f.message.as_str());
    let first = g.cases.first().map_or("", |c| c.id.as_str());
    format!(
        "| {} | {} | {} | {} |",
        g.cases.len(),
        code(g.check()),
        escape(&super::text::one_line_within(&shown(message), within)),
        code(&super::text::one_line_within(first, within))
    )
}

fn failures(out: &mut String, doc: &Document) {
    let groups = failure_groups(doc);
    if groups.is_empty() {
        return;
    }
    let failed: usize = groups.iter().map(|g| g.cases.len()).sum();
    let _ = writeln!(out, "\n## Failures ({failed})\n");
    let _ = writeln!(
        out,
        "By first finding, largest group first:\n\n| cases | check | first finding (of the simplest case) | simplest case |\n|---|---|---|---|"
    );
    for g in &groups {
        let _ = writeln!(out, "{}", group_row(g, usize::MAX));
    }
    let _ = writeln!(
        out,
        "\nEach failure has its one-line re-run and a `curl` reproduction. A reproduction reads \
         the target and credentials from the environment as `conformance run` does \
         (`CONFORMANCE_TARGET`, `CONFORMANCE_AUTH`, `CONFORMANCE_GROUP_ID`, \
         `CONFORMANCE_CM_GROUP_ID`, …) and makes its own value for every generated secret it \
         sends unless one is given (`SECRET_1`, …); no value is written here.{}\n",
        if doc.target.embedded {
            " This run used the embedded server, which is gone: start one with \
             `conformance serve --port 0 --env` (and its `--fault`s) and `eval` what it prints."
        } else {
            ""
        }
    );
    for case in groups.iter().flat_map(|g| &g.cases) {
        failure(out, doc, case);
    }
}

/// One failed case: its findings, cleanup failures, the failing answer and the reproduction.
fn failure(out: &mut String, doc: &Document, case: &CaseReport) {
    let _ = writeln!(out, "### {}\n", code(&case.id));
    if let Some(reason) = &case.known_failure {
        let _ = writeln!(
            out,
            "**Known failure** (listed in the known-failures file: {}); it does not count against the verdict.\n",
            escape(reason)
        );
    }
    let _ = writeln!(
        out,
        "{} — {} / {}\n",
        escape(&case.title),
        escape(&case.category),
        code(&case.operation)
    );
    for f in &case.findings {
        let _ = writeln!(
            out,
            "- **{}** (step {}): {}",
            escape(&f.check),
            f.step,
            escape(&shown(&f.message))
        );
        if let Some(e) = &f.expected {
            let _ = writeln!(out, "  - expected: {}", code(&shown(e)));
        }
        if let Some(a) = &f.actual {
            let _ = writeln!(out, "  - actual: {}", code(&shown(a)));
        }
    }
    for cf in &case.cleanup_failures {
        let _ = writeln!(out, "- cleanup failed: {}", code(cf));
    }
    if let Some(from) = &case.setup_shared_with {
        let _ = writeln!(out, "- started from the state {} set up", code(from));
    }
    if let Some(why) = &case.isolated {
        let _ = writeln!(out, "- isolated: {}", escape(why));
    }
    let _ = writeln!(out, "\nRe-run: {}", code(&rerun(doc, &case.id)));
    if let Some(answer) = super::failing_answer(case, 1500) {
        let _ = writeln!(out, "\nThe answer:\n\n{}", block("text", &shown(&answer)));
    }
    if let Some(r) = &case.reproduction {
        let _ = writeln!(out, "\nReproduce:\n\n{}", block("sh", r));
    } else {
        out.push('\n');
    }
}

/// Warnings grouped by what they are about.
fn warnings(out: &mut String, doc: &Document) {
    let warnings = warning_groups(doc);
    if !warnings.is_empty() {
        let _ = writeln!(out, "\n## Warnings ({})\n", doc.summary.warnings);
        let _ = writeln!(
            out,
            "Worth a look, not failures: they change no verdict and no exit code.\n"
        );
        let _ = writeln!(out, "| cases | check | warning | e.g. |\n|---|---|---|---|");
        for (check, message, n, ids) in warnings {
            let ids: Vec<String> = ids.iter().map(|i| code(i)).collect();
            let _ = writeln!(
                out,
                "| {n} | {} | {} | {} |",
                code(check),
                escape(message),
                ids.join(", ")
            );
        }
    }
}

/// What the run found on the target and left behind.
fn target_state(out: &mut String, doc: &Document) {
    if doc.pre_existing.values().any(|v| !v.is_empty())
        || !doc.swept.is_empty()
        || !doc.not_cleaned_up.is_empty()
    {
        let _ = writeln!(out, "\n## Target state\n");
        for (family, types) in doc.pre_existing.iter().filter(|(_, v)| !v.is_empty()) {
            let _ = writeln!(
                out,
                "- {} had {} before the run (left untouched)",
                code(family),
                escape(&types.join(", "))
            );
        }
        for s in &doc.swept {
            let _ = writeln!(
                out,
                "- removed after the run (a case left it behind): {}",
                code(s)
            );
        }
        for s in &doc.not_cleaned_up {
            let _ = writeln!(out, "- **could not remove**: {}", code(s));
        }
    }
}
