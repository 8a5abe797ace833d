//! `junit.xml`: one testsuite per family, one testcase per case (`classname` =
//! `family/operation`, name = the case's scenario), failures with all their findings and the
//! reproduction, skipped cases with their reason, known failures (accepted by `--known-failures`)
//! as skipped with the list's reason. CI systems read the file; people read
//! `report.html`.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::{CaseReport, Document, OutcomeKind};

/// The findings of a failed case as text (the failure element's body).
pub(crate) fn findings_text(case: &CaseReport) -> String {
    let mut out = String::new();
    for f in &case.findings {
        out.push_str(&format!("[{}] step {}: {}\n", f.check, f.step, f.message));
        if let Some(e) = &f.expected {
            out.push_str(&format!("    expected: {e}\n"));
        }
        if let Some(a) = &f.actual {
            out.push_str(&format!("    actual:   {a}\n"));
        }
    }
    out
}

fn secs(ms: f64) -> Duration {
    Duration::from_secs_f64((ms / 1000.0).max(0.0))
}

pub(crate) fn render(doc: &Document) -> String {
    let mut report = Report::new("conformance");
    report.set_time(secs(doc.duration_ms));
    for family in &doc.selection.families {
        let mut suite = TestSuite::new(family.as_str());
        suite.add_property(Property::new("target", doc.target.base_url.as_str()));
        suite.add_property(Property::new("spec_sha256", doc.spec.sha256.as_str()));
        let warnings: usize = doc
            .cases
            .iter()
            .filter(|c| &c.family == family)
            .map(|c| c.warnings.len())
            .sum();
        suite.add_property(Property::new("warnings", warnings.to_string()));
        let rules = doc.summary.rules;
        suite.add_property(Property::new("rules_total", rules.total.to_string()));
        suite.add_property(Property::new(
            "rules_exercised",
            rules.exercised.to_string(),
        ));
        suite.add_property(Property::new("rules_failed", rules.failed.to_string()));
        let mut time = 0.0;
        for case in doc.cases.iter().filter(|c| &c.family == family) {
            time += case.duration_ms;
            let status = match case.outcome {
                OutcomeKind::Passed => TestCaseStatus::success(),
                // An accepted failure must not turn the CI's test view red (as pytest reports an
                // xfail): skipped, with the list's reason and the findings.
                OutcomeKind::Failed if case.known_failure.is_some() => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(format!(
                        "known failure: {}",
                        case.known_failure.as_deref().unwrap_or_default()
                    ));
                    s.set_description(findings_text(case));
                    s
                }
                OutcomeKind::Failed => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    if let Some(first) = case.findings.first() {
                        s.set_message(format!("[{}] {}", first.check, first.message));
                        s.set_type(first.check.as_str());
                    }
                    let mut text = findings_text(case);
                    if let Some(r) = &case.reproduction {
                        text.push_str("\nreproduce:\n");
                        text.push_str(r);
                    }
                    s.set_description(text);
                    s
                }
                OutcomeKind::Skipped => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(case.reason.as_deref().unwrap_or("skipped"));
                    s
                }
            };
            let name = case.id.rsplit('/').next().unwrap_or(&case.id);
            let mut tc = TestCase::new(name, status);
            // Warnings never fail a test case: they ride along as properties and system-out.
            if !case.warnings.is_empty() {
                tc.add_property(Property::new("warnings", case.warnings.len().to_string()));
                let text: Vec<String> = case
                    .warnings
                    .iter()
                    .map(|w| format!("warning [{}] step {}: {}", w.check, w.step, w.message))
                    .collect();
                tc.set_system_out(text.join("\n"));
            }
            tc.set_classname(format!("{}/{}", case.family, case.operation));
            tc.set_time(secs(case.duration_ms));
            suite.add_test_case(tc);
        }
        suite.set_time(secs(time));
        report.add_test_suite(suite);
    }
    to_xml(&report)
}

/// The report as XML text. quick-junit fails only on I/O into its own buffer, which cannot
/// happen; should it, the file still holds a valid, empty report of the same name.
pub(crate) fn to_xml(report: &Report) -> String {
    report.to_string().unwrap_or_else(|_| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"{}\"/>\n",
            super::html::escape(report.name.as_ref().map_or("", |n| n.as_str()))
        )
    })
}
