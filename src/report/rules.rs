//! The contract-coverage section of the Markdown and HTML reports: every rule of
//! `spec/rules.yaml` with what the run did with its cases. Failed rules come first, then the
//! rules that were not exercised (with the reason), then the passed ones, each group in the
//! contract's order.

use std::fmt::Write as _;

use super::Document;
use crate::rules::{RuleCoverage, RuleStatus};

/// The rules in reading order: failed, partly exercised, skipped, not run, passed.
fn ordered(doc: &Document) -> Vec<&RuleCoverage> {
    let mut rules: Vec<&RuleCoverage> = doc.rules.iter().collect();
    rules.sort_by_key(|r| match r.status {
        RuleStatus::Failed => 0,
        RuleStatus::Partly => 1,
        RuleStatus::Skipped => 2,
        RuleStatus::NotRun => 3,
        RuleStatus::Passed => 4,
    });
    rules
}

/// What a rule's line says beside its status: its counts, and the reason or the failed cases.
fn detail(rule: &RuleCoverage) -> String {
    let mut text = format!(
        "{} passed, {} failed, {} skipped",
        rule.passed, rule.failed, rule.skipped
    );
    if let Some(reason) = &rule.reason {
        text.push_str(&format!("; {reason}"));
    }
    text
}

/// The `## Contract rules` section (empty when the document carries no rules).
pub(crate) fn markdown(doc: &Document) -> String {
    use super::markdown::escape;
    let mut out = String::new();
    if doc.rules.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\n## Contract rules\n");
    let _ = writeln!(out, "{}.\n", doc.summary.rules.line());
    let _ = writeln!(
        out,
        "| rule | level | status | cases | rule text |\n|---|---|---|---|---|"
    );
    for rule in ordered(doc) {
        let mut cases = detail(rule);
        for id in rule.failed_cases.iter().take(3) {
            cases.push_str(&format!("; `{}`", escape(id)));
        }
        let status = match rule.status {
            RuleStatus::Failed => "**failed**".to_owned(),
            s => s.as_str().to_owned(),
        };
        let _ = writeln!(
            out,
            "| `{}` | {:?} | {status} | {} | {} |",
            rule.id,
            rule.level,
            escape(&cases),
            escape(&rule.text)
        );
    }
    out
}

/// The `Contract rules` section of the HTML report.
pub(crate) fn html(doc: &Document) -> String {
    use super::html::escape;
    let mut out = String::new();
    if doc.rules.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "<h2>Contract rules</h2>\n<p>{}.</p>\n<table class=\"rules\"><tr><th>rule</th><th>level</th><th>status</th><th>cases</th><th>rule text</th></tr>",
        escape(&doc.summary.rules.line())
    );
    for rule in ordered(doc) {
        let mut cases = escape(&detail(rule));
        for id in rule.failed_cases.iter().take(3) {
            let _ = write!(cases, "; <code>{}</code>", escape(id));
        }
        let class = match rule.status {
            RuleStatus::Failed => "fail",
            RuleStatus::Partly | RuleStatus::Skipped | RuleStatus::NotRun => "skip",
            RuleStatus::Passed => "pass",
        };
        let _ = writeln!(
            out,
            "<tr class=\"{class}\"><td><code>{}</code></td><td>{:?}</td><td>{}</td><td>{cases}</td><td>{}</td></tr>",
            escape(&rule.id),
            rule.level,
            rule.status.as_str(),
            escape(&rule.text)
        );
    }
    out.push_str("</table>\n");
    out
}
