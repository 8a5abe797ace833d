//! The reports of an exploration (JSON, JUnit, Markdown, HTML) and its reproduction files:
//! `repro-<seed>.json` (what `conformance replay` reads) and `repro-<seed>.sh` (the same calls
//! as `curl` commands, secrets as shell variables, from `report::curl`). Everything written
//! here is already scrubbed: divergences hold normalised snapshot text, never a raw body.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::case::{Case, Category, Lane, Role, Step};
use crate::error::Result;
use crate::model::ProjectKind;

use super::{Engine, Exploration, Reproduction};

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

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

fn junit(ex: &Exploration) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let failures = usize::from(ex.reproduction.is_some());
    let _ = writeln!(
        out,
        "<testsuites name=\"conformance explore\" tests=\"1\" failures=\"{failures}\">\n  <testsuite name=\"explore seed {}\" tests=\"1\" failures=\"{failures}\" time=\"{:.3}\">",
        ex.seed,
        ex.elapsed.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "    <properties><property name=\"seed\" value=\"{}\"/><property name=\"steps\" value=\"{}\"/></properties>",
        ex.seed, ex.steps
    );
    let _ = write!(
        out,
        "    <testcase classname=\"explore\" name=\"seed {} ({} steps)\"",
        ex.seed, ex.steps
    );
    match &ex.reproduction {
        None => out.push_str("/>\n"),
        Some(r) => {
            let _ = writeln!(
                out,
                ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                xml(&r.divergence.messages.join("; ")),
                xml(&divergence_text(r))
            );
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
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

fn markdown(ex: &Exploration) -> String {
    let mut out = format!(
        "# conformance explore\n\nseed **{}** · {} steps in {} sequences · {:.1}s · {:.0} steps/s\n\n**{}**\n",
        ex.seed,
        ex.steps,
        ex.sequences,
        ex.elapsed.as_secs_f64(),
        ex.steps_per_second(),
        headline(ex)
    );
    if let Some(r) = &ex.reproduction {
        let _ = write!(
            out,
            "\n## Reproduction ({} calls)\n\nReplay: `conformance replay repro-{}.json`\n\n```\n{}```\n",
            r.steps.len(),
            ex.seed,
            divergence_text(r)
        );
    }
    out.push_str("\n## Coverage (operation, status, errorCode)\n\n| answer | count |\n|---|---|\n");
    for (k, n) in &ex.coverage {
        let _ = writeln!(out, "| {k} | {n} |");
    }
    let _ = write!(
        out,
        "\n## Input model: part × class (times drawn, rule)\n\n{} classes of {} drawn; never drawn: {}\n\n{}",
        ex.input.classes.len() - ex.input.unreached.len(),
        ex.input.classes.len(),
        if ex.input.unreached.is_empty() {
            "none".to_owned()
        } else {
            ex.input.unreached.join("; ")
        },
        ex.input.markdown()
    );
    if !ex.warnings.is_empty() {
        out.push_str("\n## Warnings: fields the contract does not list\n\n");
        for w in &ex.warnings {
            let _ = writeln!(out, "- `{w}`");
        }
    }
    out
}

fn html(ex: &Exploration) -> String {
    let mut out = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>conformance explore, seed {}</title></head><body>\n<h1>conformance explore</h1>\n<p>seed <b>{}</b> · {} steps in {} sequences · {:.0} steps/s</p>\n<p><b>{}</b></p>\n",
        ex.seed,
        ex.seed,
        ex.steps,
        ex.sequences,
        ex.steps_per_second(),
        xml(&headline(ex))
    );
    if let Some(r) = &ex.reproduction {
        let _ = write!(
            out,
            "<h2>Reproduction ({} calls)</h2>\n<pre>{}</pre>\n",
            r.steps.len(),
            xml(&divergence_text(r))
        );
    }
    out.push_str(
        "<h2>Coverage</h2>\n<table><tr><th>operation status errorCode</th><th>count</th></tr>\n",
    );
    for (k, n) in &ex.coverage {
        let _ = writeln!(out, "<tr><td>{}</td><td>{n}</td></tr>", xml(k));
    }
    out.push_str("</table>\n</body></html>\n");
    out
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
    let mut files = vec![
        (dir.join("explore.json"), json_report(ex, engine)),
        (dir.join("explore-junit.xml"), junit(ex)),
        (dir.join("explore.md"), markdown(ex)),
        (dir.join("explore.html"), html(ex)),
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
