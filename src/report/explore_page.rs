//! `explore.md` and `explore.html`: an exploration for people, written with the run report's
//! Markdown and HTML helpers ([`super::markdown`], [`super::html`]): the headline, the
//! divergence with its reproduction, the answers' counts and the input model's part × class
//! table. Exploration hands over a [`Page`], plain data; every Markdown character and every tag
//! is written here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::html::{self, escape};
use super::markdown::{block, code, plain};

/// An exploration as `explore.md` shows it.
#[derive(Debug, Clone)]
pub(crate) struct Page<'a> {
    pub(crate) seed: u64,
    pub(crate) steps: usize,
    pub(crate) sequences: usize,
    pub(crate) elapsed_s: f64,
    pub(crate) steps_per_second: f64,
    /// One line: the seed, the steps and what was found.
    pub(crate) headline: &'a str,
    pub(crate) reproduction: Option<Reproduction<'a>>,
    /// The error body's code field, which the coverage keys end with.
    pub(crate) code: &'a str,
    /// `operation status code` → how many answers.
    pub(crate) coverage: &'a BTreeMap<String, usize>,
    pub(crate) input: InputModel<'a>,
    /// Fields the contract does not list.
    pub(crate) warnings: &'a BTreeSet<String>,
}

/// The shrunk divergence: how many calls, and the calls with expected vs actual as text.
#[derive(Debug, Clone)]
pub(crate) struct Reproduction<'a> {
    pub(crate) calls: usize,
    pub(crate) text: &'a str,
}

/// The input model's coverage: parts × classes, each (times drawn, the rules judging it).
#[derive(Debug, Clone, Default)]
pub(crate) struct InputModel<'a> {
    pub(crate) classes: usize,
    pub(crate) drawn: usize,
    /// The classes never drawn, as `part: class`.
    pub(crate) unreached: &'a [String],
    /// The classes that occur (the columns).
    pub(crate) columns: Vec<&'a str>,
    /// Per part, in each column: (times drawn, rules), if the part has that class.
    pub(crate) rows: Vec<Row<'a>>,
}

/// One part's row: the part, and in each column (times drawn, rules) if it has that class.
pub(crate) type Row<'a> = (&'a str, Vec<Option<(usize, &'a str)>>);

/// `explore.md`.
pub(crate) fn markdown(page: &Page<'_>) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "# conformance explore\n\nseed **{}** · {} steps in {} sequences · {:.1}s · {:.0} steps/s\n\n**{}**\n",
        page.seed,
        page.steps,
        page.sequences,
        page.elapsed_s,
        page.steps_per_second,
        plain(page.headline)
    );
    if let Some(r) = &page.reproduction {
        let _ = write!(
            out,
            "\n## Reproduction ({} calls)\n\nReplay: {}\n\n{}",
            r.calls,
            code(&format!("conformance replay repro-{}.json", page.seed)),
            block("", r.text)
        );
    }
    let _ = write!(
        out,
        "\n## Coverage (operation, status, {})\n\n| answer | count |\n|---|---|\n",
        plain(page.code)
    );
    for (k, n) in page.coverage {
        let _ = writeln!(out, "| {} | {n} |", plain(k));
    }
    input_model(&mut out, &page.input);
    if !page.warnings.is_empty() {
        out.push_str("\n## Warnings: fields the contract does not list\n\n");
        for w in page.warnings {
            let _ = writeln!(out, "- {}", code(w));
        }
    }
    out
}

/// The input model: what was never drawn, then parts × classes, one row per part.
fn input_model(out: &mut String, input: &InputModel<'_>) {
    let unreached = if input.unreached.is_empty() {
        "none".to_owned()
    } else {
        plain(&input.unreached.join("; "))
    };
    let _ = write!(
        out,
        "\n## Input model: part × class (times drawn, rule)\n\n{} classes of {} drawn; never drawn: {unreached}\n\n",
        input.drawn, input.classes
    );
    let columns: Vec<String> = input.columns.iter().map(|c| plain(c)).collect();
    let _ = writeln!(out, "| part | {} |", columns.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(input.columns.len()));
    for (part, row) in &input.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|d| match d {
                None => String::new(),
                Some((0, rule)) => format!("**0** ({})", plain(rule)),
                Some((n, rule)) => format!("{n} ({})", plain(rule)),
            })
            .collect();
        let _ = writeln!(out, "| {} | {} |", plain(part), cells.join(" | "));
    }
}

/// `explore.html`, every text from the run escaped.
pub(crate) fn to_html(page: &Page<'_>) -> String {
    let mut out = String::new();
    html::open_page(
        &mut out,
        &format!("conformance explore, seed {}", page.seed),
    );
    let (class, label) = match page.reproduction {
        None => ("conformant", "NO DIVERGENCE"),
        Some(_) => ("non-conformant", "DIVERGENCE"),
    };
    let _ = writeln!(
        out,
        "<h1>conformance explore</h1>\n<div class=\"verdict {class}\">{label}</div>\n<p class=\"headline\">{}</p>",
        escape(page.headline)
    );
    let _ = writeln!(
        out,
        "<table class=\"meta\">\n<tr><td>seed</td><td><b>{}</b></td></tr>\n<tr><td>steps</td><td>{} in {} sequences</td></tr>\n<tr><td>time</td><td>{:.1}s · {:.0} steps/s</td></tr>\n</table>",
        page.seed, page.steps, page.sequences, page.elapsed_s, page.steps_per_second
    );
    if let Some(r) = &page.reproduction {
        let _ = writeln!(
            out,
            "<h2>Reproduction ({} calls)</h2>\n<p>Replay: <code>conformance replay repro-{}.json</code></p>\n<pre>{}</pre>",
            r.calls,
            page.seed,
            escape(r.text)
        );
    }
    let _ = writeln!(
        out,
        "<h2>Coverage</h2>\n<table class=\"checks\">\n<tr><th>operation status {}</th><th>count</th></tr>",
        escape(page.code)
    );
    for (k, n) in page.coverage {
        let _ = writeln!(out, "<tr><td>{}</td><td>{n}</td></tr>", escape(k));
    }
    out.push_str("</table>\n");
    input_model_html(&mut out, &page.input);
    if !page.warnings.is_empty() {
        out.push_str("<h2>Warnings: fields the contract does not list</h2>\n<ul>\n");
        for w in page.warnings {
            let _ = writeln!(out, "<li><code>{}</code></li>", escape(w));
        }
        out.push_str("</ul>\n");
    }
    html::close_page(
        &mut out,
        "machine-readable: explore.json, explore-junit.xml",
    );
    out
}

/// The input model's part × class table (times drawn, rule), as the Markdown shows it.
fn input_model_html(out: &mut String, input: &InputModel<'_>) {
    let _ = writeln!(
        out,
        "<h2>Input model: part × class (times drawn, rule)</h2>\n<p>{} classes of {} drawn; never drawn: {}</p>",
        input.drawn,
        input.classes,
        if input.unreached.is_empty() {
            "none".to_owned()
        } else {
            escape(&input.unreached.join("; "))
        }
    );
    out.push_str("<table class=\"checks\">\n<tr><th>part</th>");
    for c in &input.columns {
        let _ = write!(out, "<th>{}</th>", escape(c));
    }
    out.push_str("</tr>\n");
    for (part, row) in &input.rows {
        let _ = write!(out, "<tr><td>{}</td>", escape(part));
        for d in row {
            match d {
                None => out.push_str("<td></td>"),
                Some((0, rule)) => {
                    let _ = write!(out, "<td><b>0</b> ({})</td>", escape(rule));
                }
                Some((n, rule)) => {
                    let _ = write!(out, "<td>{n} ({})</td>", escape(rule));
                }
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cells of a table row: split at the pipes Markdown reads as cell borders (not `\|`).
    fn cells(row: &str) -> usize {
        let mut n = 0usize;
        let mut escaped = false;
        for c in row.chars() {
            match c {
                '\\' if !escaped => escaped = true,
                '|' if !escaped => n += 1,
                _ => escaped = false,
            }
        }
        n.saturating_sub(1)
    }

    #[test]
    fn a_divergence_with_pipes_backticks_and_newlines_stays_one_cell_and_one_block() {
        const NASTY: &str = "a | b `c` ```\nd";
        let coverage = BTreeMap::from([(format!("create 400 {NASTY}"), 2usize)]);
        let unreached = vec![format!("body X.y: {NASTY}")];
        let warnings = BTreeSet::new();
        let text = format!("1. GET /x\n\nexpected:\n{NASTY}\nactual:\n```\n");
        let page = Page {
            seed: 7,
            steps: 12,
            sequences: 2,
            elapsed_s: 1.5,
            steps_per_second: 8.0,
            headline: NASTY,
            reproduction: Some(Reproduction {
                calls: 1,
                text: &text,
            }),
            code: "errorCode",
            coverage: &coverage,
            input: InputModel {
                classes: 2,
                drawn: 1,
                unreached: &unreached,
                columns: vec!["valid", "malformed"],
                rows: vec![("body X.y", vec![Some((0, NASTY)), Some((3, "r|1"))])],
            },
            warnings: &warnings,
        };
        let md = markdown(&page);
        // The headline is one line.
        assert!(md.contains("**a \\| b \\`c\\` \\`\\`\\` d**\n"), "{md}");
        // The coverage row: one answer cell, one count cell.
        let row = md.lines().find(|l| l.starts_with("| create 400")).unwrap();
        assert_eq!(cells(row), 2, "{row}");
        // The input model's row: the part and its two classes.
        let row = md.lines().find(|l| l.starts_with("| body X.y")).unwrap();
        assert_eq!(cells(row), 3, "{row}");
        assert!(row.contains("**0** (a \\| b"), "{row}");
        // The reproduction: one block, whose fence no line of the text closes.
        let fence = "````";
        let start = md.find(&format!("{fence}\n1. GET /x")).expect(&md);
        let body = &md[start + fence.len() + 1..];
        let end = body.find(&format!("\n{fence}\n")).expect(&md);
        assert_eq!(&body[..end], text.trim_end_matches('\n'));
        // The one block is the only fenced text: nothing after it opens another.
        assert!(!body[end + fence.len() + 2..].contains("```"), "{md}");
    }
}
