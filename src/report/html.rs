//! `report.html`: one self-contained page (inline CSS, no script, no external asset) with the
//! verdict, what was not judged and why (before the matrix), the coloured conformance matrix, and
//! each failure with expected vs actual and its `curl` reproduction. Every piece of text from the run is HTML-escaped.

use std::fmt::Write as _;

use super::groups::{rerun, shown};
use super::{
    category_totals, matrix, skip_reasons, warning_groups, CaseReport, Counts, Document,
    OutcomeKind, RunVerdict,
};

/// Failures shown expanded; later ones are collapsed so a broken target's page stays usable.
const OPEN_FAILURES: usize = 50;

/// Failures shown with their findings, answer and reproduction; past this the page lists the
/// rest by id and first finding only, and `report.json` / `report.md` hold every detail, so the
/// page of a run where everything fails stays small and fast.
const DETAILED_FAILURES: usize = 100;

/// Groups of identical first findings shown; the rest are summed up in one row.
const FINDING_GROUPS: usize = 40;

const STYLE: &str = r#"
:root { --ok: #d9f2dd; --ok-ink: #1b5e20; --fail: #fbd9d7; --fail-ink: #8e1b13; --skip: #fdf0c9;
  --skip-ink: #7a5a00; --none: #f1f2f4; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1320px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; }
.verdict { display: inline-block; padding: 4px 12px; border-radius: 6px; font-weight: 700; letter-spacing: .03em; margin: 8px 0 4px; }
.verdict.conformant { background: var(--ok); color: var(--ok-ink); }
.verdict.non-conformant { background: var(--fail); color: var(--fail-ink); }
.verdict.inconclusive { background: var(--skip); color: var(--skip-ink); }
.headline { font-size: 15px; margin: 4px 0 16px; }
table { border-collapse: collapse; }
.meta td { padding: 2px 16px 2px 0; vertical-align: top; }
.meta td:first-child { color: var(--muted); white-space: nowrap; }
.matrix { width: 100%; table-layout: fixed; }
.matrix th, .matrix td { border: 1px solid #fff; padding: 8px 6px; text-align: center; }
.matrix thead th { background: #f6f8fa; font-weight: 600; font-size: 13px; }
.matrix th.family { text-align: left; background: #f6f8fa; width: 150px; }
.matrix td b { display: block; font-size: 16px; }
.matrix td small { color: inherit; opacity: .85; }
.matrix tr.total th, .matrix tr.total td { border-top: 3px solid #fff; }
td.ok { background: var(--ok); color: var(--ok-ink); }
td.fail { background: var(--fail); color: var(--fail-ink); }
td.skip { background: var(--skip); color: var(--skip-ink); }
tr.fail td { background: var(--fail); color: var(--fail-ink); }
tr.skip td { background: var(--skip); color: var(--skip-ink); }
td.none { background: var(--none); color: var(--muted); }
.legend { margin: 8px 0 0; color: var(--muted); font-size: 12.5px; }
.legend span { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: -1px; margin: 0 4px 0 12px; }
.checks { margin: 4px 0 12px; }
.checks th, .checks td { text-align: left; padding: 4px 18px 4px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
.checks td:nth-child(2) { text-align: right; font-variant-numeric: tabular-nums; }
.checks a, .index a { color: var(--fail-ink); font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; word-break: break-all; }
details.index { margin: 0 0 18px; }
details.index > summary { cursor: pointer; color: var(--muted); margin-bottom: 6px; }
details.index ol { columns: 2; column-gap: 32px; padding-left: 28px; margin: 0; }
details.index li { break-inside: avoid; }
details.failure { border: 1px solid var(--line); border-left: 4px solid #d1242f; border-radius: 6px; margin: 0 0 14px; background: #fff; }
details.failure > summary { cursor: pointer; padding: 10px 14px; list-style: none; }
details.failure > summary::-webkit-details-marker { display: none; }
details.failure > summary .title { color: var(--muted); margin-top: 2px; }
.tag { display: inline-block; background: #eef1f4; color: var(--muted); border-radius: 10px; padding: 0 8px; font-size: 12px; margin-right: 6px; }
.body { padding: 0 14px 14px; }
.finding { border-top: 1px solid var(--line); padding: 10px 0 4px; }
.finding .msg { margin-bottom: 6px; }
.check { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; background: var(--fail); color: var(--fail-ink); border-radius: 4px; padding: 1px 6px; margin-right: 6px; }
.ea { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.ea > div { border-radius: 4px; padding: 6px 10px; min-width: 0; }
.ea .exp { background: #eef7ef; }
.ea .act { background: #fdf1f0; }
.ea .label { font-size: 11px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin-bottom: 2px; }
.answer { margin-top: 12px; }
.answer .label { font-size: 11px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin-bottom: 4px; }
.answer pre { background: #f6f8fa; border: 1px solid var(--line); padding: 8px 12px; border-radius: 6px; max-height: 16em; overflow: auto; }
.repro { margin-top: 12px; }
.repro .label { font-size: 11px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin-bottom: 4px; }
.repro pre { background: #0d1117; color: #e6edf3; padding: 10px 12px; border-radius: 6px; white-space: pre; overflow-x: auto; }
.skipped td, .skipped th { border-bottom: 1px solid var(--line); padding: 6px 12px 6px 0; text-align: left; vertical-align: top; }
.skipped td:first-child { text-align: right; font-variant-numeric: tabular-nums; }
.more { color: var(--muted); }
.checks td .check { margin-right: 8px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
"#;

/// Text for HTML element content and attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The start of a self-contained page in the reports' style, up to its `<main>`: the head
/// with `title` (escaped here) and the inline style sheet.
pub(crate) fn open_page(out: &mut String, title: &str) {
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>",
        escape(title)
    );
}

/// The end of a page [`open_page`] began: the footer (`footer`, escaped here) and the closing
/// tags.
pub(crate) fn close_page(out: &mut String, footer: &str) {
    let _ = writeln!(
        out,
        "<footer>{}</footer>\n</main>\n</body>\n</html>",
        escape(footer)
    );
}

/// A fragment id for a case (ids are ASCII, but keep it to safe characters anyway).
fn anchor(id: &str) -> String {
    let mut out = String::from("case-");
    for c in id.chars() {
        out.push(if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
            c
        } else {
            '_'
        });
    }
    out
}

fn cell(c: Counts) -> String {
    if c.total == 0 {
        return "<td class=\"none\">–</td>".into();
    }
    let class = if c.failed > 0 {
        "fail"
    } else if c.passed > 0 {
        "ok"
    } else {
        "skip"
    };
    let title = format!(
        "{} passed, {} failed, {} skipped",
        c.passed, c.failed, c.skipped
    );
    let (main, rest) = if c.failed > 0 {
        let mut rest = vec![format!("{} passed", c.passed)];
        if c.skipped > 0 {
            rest.push(format!("{} skipped", c.skipped));
        }
        (format!("{} failed", c.failed), rest.join(" · "))
    } else if c.passed > 0 {
        let rest = if c.skipped > 0 {
            format!("passed · {} skipped", c.skipped)
        } else {
            "passed".to_owned()
        };
        (c.passed.to_string(), rest)
    } else {
        (c.skipped.to_string(), "skipped".to_owned())
    };
    format!("<td class=\"{class}\" title=\"{title}\"><b>{main}</b><small>{rest}</small></td>")
}

fn failure(out: &mut String, doc: &Document, case: &CaseReport, open: bool) {
    let _ = writeln!(
        out,
        "<details class=\"failure\" id=\"{}\"{}>\n<summary><h3>{}</h3><div class=\"title\"><span class=\"tag\">{}</span><span class=\"tag\">{}</span>{}</div></summary>\n<div class=\"body\">",
        anchor(&case.id),
        if open { " open" } else { "" },
        escape(&case.id),
        escape(&case.category),
        escape(&case.operation),
        escape(&case.title),
    );
    if let Some(reason) = &case.known_failure {
        let _ = writeln!(
            out,
            "<div class=\"finding\"><b>known failure</b> (listed in the known-failures file: {}); it does not count against the verdict</div>",
            escape(reason)
        );
    }
    for f in &case.findings {
        let _ = writeln!(
            out,
            "<div class=\"finding\"><div class=\"msg\"><span class=\"check\">{}</span>step {}: {}</div>",
            escape(&f.check),
            f.step,
            escape(&shown(&f.message))
        );
        if f.expected.is_some() || f.actual.is_some() {
            let show = |v: &Option<String>| {
                v.as_deref()
                    .map(|v| escape(&shown(v)))
                    .unwrap_or_else(|| "<i>(not stated)</i>".into())
            };
            let _ = writeln!(
                out,
                "<div class=\"ea\"><div class=\"exp\"><div class=\"label\">expected</div><pre>{}</pre></div><div class=\"act\"><div class=\"label\">actual</div><pre>{}</pre></div></div>",
                show(&f.expected),
                show(&f.actual)
            );
        }
        out.push_str("</div>\n");
    }
    for cf in &case.cleanup_failures {
        let _ = writeln!(
            out,
            "<div class=\"finding\">cleanup failed: <code>{}</code></div>",
            escape(cf)
        );
    }
    if let Some(from) = &case.setup_shared_with {
        let _ = writeln!(
            out,
            "<div class=\"finding\">started from the state <code>{}</code> set up</div>",
            escape(from)
        );
    }
    if let Some(why) = &case.isolated {
        let _ = writeln!(
            out,
            "<div class=\"finding\">isolated: {}</div>",
            escape(why)
        );
    }
    if let Some(answer) = super::failing_answer(case, 1500) {
        let _ = writeln!(
            out,
            "<div class=\"answer\"><div class=\"label\">the answer</div><pre>{}</pre></div>",
            escape(&shown(&answer))
        );
    }
    let _ = writeln!(
        out,
        "<div class=\"rerun\"><div class=\"label\">re-run</div><pre>{}</pre></div>",
        escape(&rerun(doc, &case.id))
    );
    if let Some(r) = &case.reproduction {
        let _ = writeln!(
            out,
            "<div class=\"repro\"><div class=\"label\">reproduce</div><pre>{}</pre></div>",
            escape(r.trim_end())
        );
    }
    out.push_str("</div></details>\n");
}

/// Identical first findings (same check, same message) grouped, largest group first: the shape
/// of the problem before its instances.
fn finding_groups(out: &mut String, failed: &[&CaseReport]) {
    let mut groups: std::collections::BTreeMap<(&str, &str), Vec<&str>> =
        std::collections::BTreeMap::new();
    for case in failed {
        if let Some(f) = case.findings.first() {
            groups
                .entry((f.check.as_str(), f.message.as_str()))
                .or_default()
                .push(case.id.as_str());
        }
    }
    let mut groups: Vec<((&str, &str), Vec<&str>)> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    out.push_str(
        "<table class=\"checks\"><tr><th>first finding</th><th>cases</th><th>e.g.</th></tr>\n",
    );
    for ((check, message), ids) in groups.iter().take(FINDING_GROUPS) {
        let _ = writeln!(
            out,
            "<tr><td><span class=\"check\">{}</span>{}</td><td>{}</td><td>{}</td></tr>",
            escape(check),
            escape(&super::text::one_line_within(message, 240)),
            ids.len(),
            // The example is one the page details, when the group has one.
            case_link(
                ids.iter()
                    .copied()
                    .find(|id| failed.iter().take(DETAILED_FAILURES).any(|c| c.id == *id))
                    .unwrap_or(ids[0]),
                failed
            )
        );
    }
    if groups.len() > FINDING_GROUPS {
        let rest: usize = groups[FINDING_GROUPS..].iter().map(|g| g.1.len()).sum();
        let _ = writeln!(
            out,
            "<tr><td>{} other findings</td><td>{rest}</td><td></td></tr>",
            groups.len() - FINDING_GROUPS
        );
    }
    out.push_str("</table>\n");
}

/// Every failed case by id with its first finding; ids of detailed failures link to them.
fn failure_index(out: &mut String, failed: &[&CaseReport]) {
    let _ = writeln!(
        out,
        "<details class=\"index\"{}><summary>all {} failed cases</summary><ol>",
        if failed.len() <= 20 { " open" } else { "" },
        failed.len()
    );
    for case in failed {
        let first = case
            .findings
            .first()
            .map(|f| f.check.as_str())
            .unwrap_or("");
        let _ = writeln!(
            out,
            "<li>{} <span class=\"tag\">{}</span></li>",
            case_link(&case.id, failed),
            escape(first)
        );
    }
    out.push_str("</ol></details>\n");
}

/// Case ids as code, one a line.
fn code_list(ids: &[&str]) -> String {
    ids.iter()
        .map(|i| format!("<code>{}</code>", escape(i)))
        .collect::<Vec<_>>()
        .join("<br>")
}

/// A link to a case's details where the page has them, else its id.
fn case_link(id: &str, failed: &[&CaseReport]) -> String {
    let detailed = failed.iter().take(DETAILED_FAILURES).any(|c| c.id == id);
    if detailed {
        format!("<a href=\"#{}\">{}</a>", anchor(id), escape(id))
    } else {
        format!("<code>{}</code>", escape(id))
    }
}

pub(crate) fn render(doc: &Document) -> String {
    let mut out = String::new();
    head(&mut out, doc);
    // What was not judged comes before the matrix: a green matrix must not hide it.
    not_judged(&mut out, doc);
    matrix_table(&mut out, doc);
    failures(&mut out, doc);
    warnings(&mut out, doc);
    out.push_str(&super::rules::html(doc));
    target_state(&mut out, doc);
    out
}

/// The document head, the verdict, the headline and the run's facts.
fn head(out: &mut String, doc: &Document) {
    let c = &doc.summary.counts;
    let (class, label) = match doc.summary.verdict {
        RunVerdict::Conformant => ("conformant", "CONFORMANT"),
        RunVerdict::NonConformant => ("non-conformant", "NOT CONFORMANT"),
        RunVerdict::Inconclusive => ("inconclusive", "INCONCLUSIVE"),
    };
    open_page(
        out,
        &format!("Conformance report: {label} ({})", doc.target.base_url),
    );
    let _ = writeln!(out, "<h1>Conformance report</h1>");
    let _ = writeln!(out, "<div class=\"verdict {class}\">{label}</div>");
    let _ = writeln!(
        out,
        "<p class=\"headline\">{}</p>",
        escape(&super::headline(doc))
    );
    out.push_str("<table class=\"meta\">\n");
    let mut row = |k: &str, v: String| {
        let _ = writeln!(out, "<tr><td>{k}</td><td>{v}</td></tr>");
    };
    row(
        "target",
        format!(
            "<code>{}</code>{}",
            escape(&doc.target.base_url),
            if doc.target.embedded {
                " (embedded reference server)"
            } else {
                ""
            }
        ),
    );
    row(
        "credentials",
        escape(&match &doc.target.read_only_auth_scheme {
            Some(ro) => format!("{}, read-only {ro}", doc.target.auth_scheme),
            None => format!("{}, no read-only credentials", doc.target.auth_scheme),
        }),
    );
    row(
        "cases",
        format!(
            "{} passed, {} failed{}, {} skipped of {}",
            c.passed,
            c.failed,
            match doc.summary.known_failures {
                0 => String::new(),
                n => format!(" ({n} of them known failures)"),
            },
            c.skipped,
            c.total
        ),
    );
    row("requests", doc.requests.to_string());
    row(
        "started",
        format!(
            "{} ({:.1} s)",
            escape(&doc.started),
            doc.duration_ms / 1000.0
        ),
    );
    row(
        "spec",
        format!(
            "{} <code>sha256 {}</code>",
            escape(&doc.spec.source),
            escape(&doc.spec.sha256)
        ),
    );
    row(
        "tool",
        format!(
            "{} {} · report schema {}",
            escape(&doc.tool.name),
            escape(&doc.tool.version),
            doc.schema_version
        ),
    );
    if let Some(f) = &doc.selection.filter {
        row("filter", format!("<code>{}</code>", escape(f)));
    }
    if doc.interrupted {
        row(
            "note",
            "the run was interrupted; cases not started are skipped".into(),
        );
    }
    if doc.deadline_reached {
        row(
            "note",
            "the deadline was reached; cases not started are skipped".into(),
        );
    }
    out.push_str("</table>\n");
}

/// The families nobody judged and the reasons cases were skipped.
fn not_judged(out: &mut String, doc: &Document) {
    let c = &doc.summary.counts;
    let families = super::skipped_families(doc);
    if !families.is_empty() {
        out.push_str("<h2>Not judged</h2>\n<ul>\n");
        for (family, reason) in families {
            let _ = writeln!(
                out,
                "<li>family <code>{}</code>: every case skipped ({})</li>",
                escape(family),
                escape(reason)
            );
        }
        out.push_str("</ul>\n");
    }
    let skipped = skip_reasons(doc);
    if !skipped.is_empty() {
        let _ = writeln!(out, "<h2>Skipped ({})</h2>\n<table class=\"skipped\"><tr><th>cases</th><th>reason</th><th>e.g.</th></tr>", c.skipped);
        for (reason, n, ids) in skipped {
            let _ = writeln!(
                out,
                "<tr><td>{n}</td><td>{}</td><td>{}</td></tr>",
                escape(reason),
                code_list(&ids)
            );
        }
        out.push_str("</table>\n");
    }
}

/// Cases per family and category, coloured by outcome.
fn matrix_table(out: &mut String, doc: &Document) {
    out.push_str("<h2>Conformance matrix</h2>\n<table class=\"matrix\">\n<thead><tr><th class=\"family\">family</th>");
    for cat in &doc.selection.categories {
        let _ = write!(out, "<th>{}</th>", escape(cat));
    }
    out.push_str("<th>total</th></tr></thead>\n<tbody>\n");
    for (family, cells, total) in matrix(doc) {
        let _ = write!(out, "<tr><th class=\"family\">{}</th>", escape(family));
        for c in cells {
            out.push_str(&cell(c));
        }
        out.push_str(&cell(total));
        out.push_str("</tr>\n");
    }
    out.push_str("<tr class=\"total\"><th class=\"family\">total</th>");
    for c in category_totals(doc) {
        out.push_str(&cell(c));
    }
    out.push_str(&cell(doc.summary.counts));
    out.push_str("</tr>\n</tbody></table>\n");
    out.push_str(
        "<p class=\"legend\">cells: cases per family and category<span style=\"background:var(--ok)\"></span>all passed\
         <span style=\"background:var(--fail)\"></span>some failed<span style=\"background:var(--skip)\"></span>only skipped\
         <span style=\"background:var(--none)\"></span>no case</p>\n",
    );
}

/// The failures: grouped by finding, indexed, and the first ones in detail.
fn failures(out: &mut String, doc: &Document) {
    let failed: Vec<&CaseReport> = doc
        .cases
        .iter()
        .filter(|c| c.outcome == OutcomeKind::Failed)
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "<h2>Failures ({})</h2>", failed.len());
        let _ = writeln!(
            out,
            "<p>Each reproduction reads the target and credentials from the environment as <code>conformance run</code> does (<code>CONFORMANCE_TARGET</code>, \
             <code>CONFORMANCE_AUTH</code>, <code>CONFORMANCE_GROUP_ID</code>, <code>CONFORMANCE_CM_GROUP_ID</code>, …) and makes its own value for every generated secret it sends unless one is given (<code>SECRET_1</code>, …); \
             no value is written here.{}</p>",
            if doc.target.embedded {
                " This run used the embedded server, which is gone: start one with <code>conformance serve --port 0 --env</code> (and its <code>--fault</code>s) and <code>eval</code> what it prints."
            } else {
                ""
            }
        );
        finding_groups(out, &failed);
        failure_index(out, &failed);
        for (i, case) in failed.iter().take(DETAILED_FAILURES).enumerate() {
            failure(out, doc, case, i < OPEN_FAILURES);
        }
        if failed.len() > DETAILED_FAILURES {
            let _ = writeln!(
                out,
                "<p class=\"more\">The other {} failed cases are listed above by their first finding; their findings, exchanges and reproductions are in <code>report.json</code> and <code>report.md</code>, and <code>conformance run --filter ID</code> runs one again.</p>",
                failed.len() - DETAILED_FAILURES
            );
        }
    }
}

/// Warnings grouped by what they are about.
fn warnings(out: &mut String, doc: &Document) {
    let warnings = warning_groups(doc);
    if !warnings.is_empty() {
        let _ = writeln!(
            out,
            "<h2>Warnings ({})</h2>\n<p>Worth a look, not failures: they change no verdict and no exit code.</p>\n<table class=\"warnings\"><tr><th>cases</th><th>check</th><th>warning</th><th>e.g.</th></tr>",
            doc.summary.warnings
        );
        for (check, message, n, ids) in warnings {
            let _ = writeln!(
                out,
                "<tr><td>{n}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                escape(check),
                escape(message),
                code_list(&ids)
            );
        }
        out.push_str("</table>\n");
    }
}

/// What the run found on the target and left behind, and the footer.
fn target_state(out: &mut String, doc: &Document) {
    if doc.pre_existing.values().any(|v| !v.is_empty())
        || !doc.swept.is_empty()
        || !doc.not_cleaned_up.is_empty()
    {
        out.push_str("<h2>Target state</h2>\n<ul>\n");
        for (family, types) in doc.pre_existing.iter().filter(|(_, v)| !v.is_empty()) {
            let _ = writeln!(
                out,
                "<li><code>{}</code> had {} before the run (left untouched)</li>",
                escape(family),
                escape(&types.join(", "))
            );
        }
        for s in &doc.swept {
            let _ = writeln!(
                out,
                "<li>removed after the run (a case left it behind): <code>{}</code></li>",
                escape(s)
            );
        }
        for s in &doc.not_cleaned_up {
            let _ = writeln!(
                out,
                "<li><b>could not remove</b>: <code>{}</code></li>",
                escape(s)
            );
        }
        out.push_str("</ul>\n");
    }
    let footer = format!(
        "{} {} · started {} · finished {} · machine-readable: report.json, junit.xml",
        doc.tool.name, doc.tool.version, doc.started, doc.finished
    );
    close_page(out, &footer);
}
