//! The reports of an exploration (JSON, JUnit, Markdown, HTML) and its reproduction files:
//! `repro-<seed>.json` (what `conformance replay` reads) and `repro-<seed>.sh` (the same calls
//! as `curl` commands, secrets as shell variables, from `report::curl`). Everything written
//! here is already scrubbed: divergences hold normalised snapshot text, never a raw body.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use serde_json::json;

use crate::case::{Case, Category, Lane, Role, Step};
use crate::error::Result;
use crate::model::ProjectKind;
use crate::report::{explore_page, junit};

use super::{Engine, Exploration, Reproduction};

/// One line: the seed, the steps and what was found.
pub fn headline(ex: &Exploration) -> String {
    match &ex.reproduction {
        None => format!(
            "no divergence: {} steps in {} sequences ({:.0} steps/s), seed {}",
            ex.steps,
            ex.sequences,
            ex.steps_per_second(),
            ex.seed
        ),
        Some(r) => format!(
            "divergence after {} steps, shrunk from {} to {} calls, seed {}: {}",
            ex.first_divergence_at.unwrap_or(ex.steps),
            r.original_len,
            r.steps.len(),
            ex.seed,
            r.divergence.messages.first().cloned().unwrap_or_default()
        ),
    }
}

fn json_report(ex: &Exploration, engine: &Engine) -> String {
    let reproduction: Option<serde_json::Value> = ex.reproduction.as_ref().and_then(|r| {
        serde_json::from_str(&r.to_json(&engine.harness.model, engine.target.secrets())).ok()
    });
    let doc = json!({
        "seed": ex.seed,
        "steps": ex.steps,
        "sequences": ex.sequences,
        "elapsed_s": ex.elapsed.as_secs_f64(),
        "steps_per_second": ex.steps_per_second(),
        "divergences": usize::from(ex.reproduction.is_some()),
        "first_divergence_at": ex.first_divergence_at,
        "shrink_runs": ex.shrink_runs,
        "reproduction": reproduction,
        "coverage": ex.coverage,
        "input_model": ex.input,
        "warnings": ex.warnings,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// `explore-junit.xml`: one suite for the seed, one test case for the whole exploration, failed
/// with the divergence's messages and its text when something diverged.
fn junit(ex: &Exploration) -> String {
    let status = match &ex.reproduction {
        None => TestCaseStatus::success(),
        Some(r) => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(r.divergence.messages.join("; "));
            s.set_description(divergence_text(r));
            s
        }
    };
    let mut case = TestCase::new(format!("seed {} ({} steps)", ex.seed, ex.steps), status);
    case.set_classname("explore");
    case.set_time(ex.elapsed);
    let mut suite = TestSuite::new(format!("explore seed {}", ex.seed));
    suite.add_property(Property::new("seed", ex.seed.to_string()));
    suite.add_property(Property::new("steps", ex.steps.to_string()));
    suite.set_time(ex.elapsed);
    suite.add_test_case(case);
    let mut report = Report::new("conformance explore");
    report.set_time(ex.elapsed);
    report.add_test_suite(suite);
    junit::to_xml(&report)
}

/// The calls, where they diverge, and expected vs actual, as text.
pub fn divergence_summary(r: &Reproduction) -> String {
    divergence_text(r)
}

fn divergence_text(r: &Reproduction) -> String {
    let mut t = String::new();
    for (i, line) in r.requests.iter().enumerate() {
        let _ = writeln!(t, "{}. {line}", i + 1);
    }
    let d = &r.divergence;
    let _ = writeln!(
        t,
        "\ndiverges at call {}{}: {}\n",
        d.step + 1,
        if d.verify {
            " (the read after the refused write)"
        } else {
            ""
        },
        d.request
    );
    for m in &d.messages {
        let _ = writeln!(t, "- {m}");
    }
    let _ = writeln!(
        t,
        "\nexpected (reference model):\n{}\nactual (target):\n{}",
        d.expected, d.actual
    );
    t
}

/// `explore.md` and `explore.html`, from one page model ([`explore_page::Page`]); `code` is the
/// error body's code field, which the coverage keys end with.
fn pages(ex: &Exploration, code: &str) -> (String, String) {
    let headline = headline(ex);
    let text = ex.reproduction.as_ref().map(divergence_text);
    let (kinds, rows) = ex.input.grid();
    let page = explore_page::Page {
        seed: ex.seed,
        steps: ex.steps,
        sequences: ex.sequences,
        elapsed_s: ex.elapsed.as_secs_f64(),
        steps_per_second: ex.steps_per_second(),
        headline: &headline,
        reproduction: ex
            .reproduction
            .as_ref()
            .zip(text.as_deref())
            .map(|(r, text)| explore_page::Reproduction {
                calls: r.steps.len(),
                text,
            }),
        code,
        coverage: &ex.coverage,
        input: explore_page::InputModel {
            classes: ex.input.classes.len(),
            drawn: ex.input.classes.len() - ex.input.unreached.len(),
            unreached: &ex.input.unreached,
            columns: kinds.iter().map(|k| k.as_str()).collect(),
            rows: rows
                .into_iter()
                .map(|(part, row)| {
                    let row = row
                        .into_iter()
                        .map(|d| d.map(|d| (d.drawn, d.rule.as_str())))
                        .collect();
                    (part, row)
                })
                .collect(),
        },
        warnings: &ex.warnings,
    };
    (explore_page::markdown(&page), explore_page::to_html(&page))
}

/// The curl script of a reproduction: every call, the diverging one with `-i`, then deletes of
/// what it configured. Runs of calls on one project kind share one script section.
pub fn curl_script(engine: &Engine, r: &Reproduction) -> String {
    let model = &engine.harness.model;
    let mut secrets: Vec<String> = Vec::new();
    let mut steps: Vec<(Step, ProjectKind, String)> = Vec::new();
    for (i, call) in r.steps.iter().enumerate() {
        for s in call.secrets(model) {
            if !secrets.contains(&s) {
                secrets.push(s);
            }
        }
        let Ok((request, family)) = call.request(model) else {
            continue;
        };
        let role = if i + 1 == r.steps.len() {
            Role::Test
        } else {
            Role::Setup
        };
        steps.push((
            Step {
                role,
                request,
                expect: Vec::new(),
                baseline: None,
            },
            family.project_kind,
            family.name.clone(),
        ));
    }
    let mut out = String::new();
    let mut start = 0;
    while start < steps.len() {
        let kind = steps[start].1;
        let end = steps[start..]
            .iter()
            .position(|(_, k, _)| *k != kind)
            .map_or(steps.len(), |p| start + p);
        let family_name = steps[start].2.clone();
        let Some(family) = model.family(&family_name) else {
            break;
        };
        let mut part: Vec<Step> = steps[start..end]
            .iter()
            .map(|(s, _, _)| s.clone())
            .collect();
        if end < steps.len() {
            // Only the last section holds the diverging call.
            if let Some(last) = part.last_mut() {
                last.role = Role::Setup;
            }
        }
        let failing = part
            .iter()
            .position(|s| s.role == Role::Test)
            .unwrap_or(part.len().saturating_sub(1));
        let case = Case {
            id: format!("explore/repro-{}", r.seed),
            family: family.name.clone(),
            operation: part
                .last()
                .map(|s| s.request.operation.clone())
                .unwrap_or_default(),
            category: Category::State,
            title: "exploration reproduction".into(),
            lane: Lane::Stateless,
            steps: part,
            secrets: secrets.clone(),
            touches: Vec::new(),
            requires: Vec::new(),
        };
        out.push_str(&crate::report::curl::reproduce(
            &case,
            &secrets,
            failing,
            family,
            model,
            &engine.target,
        ));
        start = end;
    }
    out
}

/// Writes the four reports, and the reproduction files when something diverged.
pub fn write(dir: &Path, ex: &Exploration, engine: &Engine) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let code = &engine.harness.model.wire.error.code;
    let (markdown, html) = pages(ex, code);
    let mut files = vec![
        (dir.join("explore.json"), json_report(ex, engine)),
        (dir.join("explore-junit.xml"), junit(ex)),
        (dir.join("explore.md"), markdown),
        (dir.join("explore.html"), html),
    ];
    if let Some(r) = &ex.reproduction {
        files.push((
            dir.join(format!("repro-{}.json", ex.seed)),
            r.to_json(&engine.harness.model, engine.target.secrets()),
        ));
        files.push((
            dir.join(format!("repro-{}.sh", ex.seed)),
            curl_script(engine, r),
        ));
        files.push((
            dir.join(format!("repro-{}.txt", ex.seed)),
            divergence_text(r),
        ));
    }
    let mut written = Vec::new();
    for (path, text) in files {
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use quick_junit::{NonSuccessKind, Report, TestCaseStatus};

    use super::*;
    use crate::explore::Divergence;

    const NASTY: &str = "a <tag> & \"quotes\" ]]> 'too'";

    fn diverged() -> Exploration {
        Exploration {
            seed: 7,
            steps: 12,
            sequences: 2,
            elapsed: Duration::from_millis(1500),
            first_divergence_at: Some(11),
            reproduction: Some(Reproduction {
                format: "conformance-explore/1".into(),
                seed: 7,
                steps: Vec::new(),
                requests: vec![format!("GET /x?q={NASTY}")],
                divergence: Divergence {
                    step: 0,
                    verify: false,
                    request: "GET /x?q=<&\"".into(),
                    messages: vec![NASTY.into(), "second <&\"".into()],
                    expected: "200 {\"a\":\"<&>\"}".into(),
                    actual: "500 <html>&nbsp;</html>".into(),
                },
                original_len: 3,
            }),
            shrink_runs: 1,
            coverage: [("list 200 <&\"".to_owned(), 2)].into(),
            warnings: Default::default(),
            classes: Default::default(),
            input: Default::default(),
        }
    }

    #[test]
    fn a_divergence_with_markup_in_it_gives_junit_that_parses_back_to_the_same_text() {
        let ex = diverged();
        let xml = junit(&ex);
        let report = Report::deserialize_from_str(&xml).expect("valid JUnit XML");
        assert_eq!(
            report.name.as_ref().map(|n| n.as_str()),
            Some("conformance explore")
        );
        let [suite] = report.test_suites.as_slice() else {
            panic!("one suite: {xml}")
        };
        assert_eq!(suite.name.as_str(), "explore seed 7");
        let [case] = suite.test_cases.as_slice() else {
            panic!("one case: {xml}")
        };
        assert_eq!(case.name.as_str(), "seed 7 (12 steps)");
        let TestCaseStatus::NonSuccess {
            kind: NonSuccessKind::Failure,
            message,
            description,
            ..
        } = &case.status
        else {
            panic!("a failure: {xml}")
        };
        let r = ex.reproduction.as_ref().unwrap();
        assert_eq!(
            message.as_ref().map(|m| m.as_str()),
            Some(r.divergence.messages.join("; ").as_str())
        );
        // The reader trims the text node's trailing newline.
        assert_eq!(
            description.as_ref().map(|d| d.as_str()),
            Some(divergence_text(r).trim_end())
        );
        assert!(!xml.contains(NASTY), "unescaped: {xml}");
    }

    #[test]
    fn no_divergence_is_one_passing_case() {
        let ex = Exploration {
            reproduction: None,
            first_divergence_at: None,
            ..diverged()
        };
        let report = Report::deserialize_from_str(&junit(&ex)).expect("valid JUnit XML");
        let case = &report.test_suites[0].test_cases[0];
        assert!(matches!(case.status, TestCaseStatus::Success { .. }));
        let props: Vec<(&str, &str)> = report.test_suites[0]
            .properties
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_str()))
            .collect();
        assert_eq!(props, [("seed", "7"), ("steps", "12")]);
    }

    #[test]
    fn the_html_escapes_what_the_run_says() {
        let (_, html) = pages(&diverged(), "errorCode");
        assert!(!html.contains(NASTY), "{html}");
        assert!(
            html.contains("a &lt;tag&gt; &amp; &quot;quotes&quot;"),
            "{html}"
        );
        assert!(html.contains("list 200 &lt;&amp;&quot;"), "{html}");
    }
}
