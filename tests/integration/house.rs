//! The house keeps its rooms: the `crate::` imports between the library's top-level modules
//! follow the stage order written here, and form no cycle. A new edge fails this test until it
//! is added to [`ALLOWED`] on purpose (and `README.md`'s layout says why). For imports, test
//! modules (`#[cfg(test)] mod`, which come last in a file, or a `tests.rs` file of their own)
//! and comments are not counted: only what the shipped code imports. A file is cut only at its
//! test module ([`shipped`]): a `#[cfg(test)]` on a single item (a `use`, a helper) is read on.
//!
//! One sender ([`sender`]): no module but `src/sender/` (and `auth` itself) calls the
//! authenticator's signing.
//!
//! No file under `src/` is over 700 lines and no function over 120 (from its `fn` line to its
//! closing brace; functions in test modules count too), except the files in [`PENDING`].

mod sender;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each module and the modules it may import, in stage order: leaves first, then the spec's
/// pipeline (spec → model → schema/case → harness), the sending side (credential → transport
/// → auth → sender), the judging side (check → outcome), then the runner and what reads a run.
const ALLOWED: &[(&str, &[&str])] = &[
    ("error", &[]),
    ("scrub", &[]),
    ("credential", &[]),
    ("spec", &["error"]),
    ("model", &["error", "spec"]),
    ("schema", &["error", "model", "spec"]),
    ("case", &["model"]),
    ("harness", &["error", "model", "schema", "spec"]),
    ("exchange", &["case"]),
    (
        "transport",
        &["case", "credential", "error", "exchange", "model", "scrub"],
    ),
    ("auth", &["credential", "error", "transport"]),
    // The one sender: credentials, nonces, retries, pacing. The runner and exploration (its
    // oracle included) send through it; it knows no stage past the request it sends.
    (
        "sender",
        &[
            "auth",
            "case",
            "error",
            "exchange",
            "model",
            "scrub",
            "transport",
        ],
    ),
    (
        "server",
        &["auth", "credential", "error", "model", "transport"],
    ),
    (
        "check",
        &[
            "auth", "case", "exchange", "harness", "model", "schema", "scrub",
        ],
    ),
    ("outcome", &["case", "check", "exchange"]),
    ("rules", &["error"]),
    (
        "runner",
        &[
            "auth",
            "case",
            "check",
            "error",
            "exchange",
            "harness",
            "model",
            "outcome",
            "scrub",
            "sender",
            "transport",
        ],
    ),
    ("snapshot", &["case", "check", "model", "outcome", "scrub"]),
    (
        "report",
        &[
            "auth",
            "case",
            "error",
            "exchange",
            "model",
            "outcome",
            "rules",
            "scrub",
            "transport",
        ],
    ),
    ("baseline", &["case", "check", "error", "outcome", "report"]),
    (
        "explore",
        &[
            "auth",
            "case",
            "check",
            "error",
            "exchange",
            "harness",
            "model",
            "outcome",
            "report",
            "scrub",
            "sender",
            "server",
            "snapshot",
            "transport",
        ],
    ),
    ("coverage", &["case", "model", "report"]),
    ("config", &["error"]),
    // The binary (`main.rs` and its subcommands in `cli/`), at the top: it reaches the library
    // as `integrations_conformance::NAME`, and nothing in the library may reach it.
    (
        "cli",
        &[
            "baseline",
            "case",
            "config",
            "coverage",
            "error",
            "explore",
            "harness",
            "model",
            "report",
            "rules",
            "runner",
            "server",
            "spec",
            "transport",
        ],
    ),
];

/// The binary's modules (`main.rs` and `cli/`), placed as one stage: `cli`.
const BINARY: &str = "cli";

/// The shipped part of a file: everything before its test module, the first `#[cfg(test)]`
/// followed by `mod` (test modules come last in a file). A `#[cfg(test)]` on any other item (a
/// `use`, a helper function) does not end the shipped code: what follows it is still read.
fn shipped(text: &str) -> &str {
    let cut = text
        .match_indices("#[cfg(test)]")
        .map(|(at, attr)| at + attr.len())
        .find(|&after| {
            let rest = text[after..].trim_start();
            let rest = rest.strip_prefix("pub ").unwrap_or(rest);
            rest.starts_with("mod ")
        })
        .map_or(text.len(), |after| after - "#[cfg(test)]".len());
    &text[..cut]
}

/// `crate::NAME` imports of every top-level module of `src/` (a directory counts as one), and
/// the binary's `integrations_conformance::NAME` imports (`main.rs` and `cli/` count as `cli`).
fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap();
            let top = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned();
            if top == "lib" {
                continue;
            }
            let top = if top == "main" {
                BINARY.to_owned()
            } else {
                top
            };
            // A unit test module in a file of its own (`#[cfg(test)] mod tests;`) ships nothing.
            if path.file_name().and_then(|n| n.to_str()) == Some("tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            out.entry(top.clone())
                .or_default()
                .extend(imports(&top, &text));
        }
    }
    out
}

/// The top-level modules the shipped code of `text` (a file of module `top`) names as
/// `crate::NAME` (or, in the binary, `integrations_conformance::NAME`), comments and string
/// literals skipped.
fn imports(top: &str, text: &str) -> BTreeSet<String> {
    let prefix = if top == BINARY {
        "integrations_conformance::"
    } else {
        "crate::"
    };
    let mut targets = BTreeSet::new();
    for line in code_only(shipped(text)).lines() {
        for (at, _) in line.match_indices(prefix) {
            let name: String = line[at + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !name.is_empty() && name != top {
                targets.insert(name);
            }
        }
    }
    targets
}

#[test]
fn the_import_reader_reads_past_a_test_only_item_and_stops_at_the_test_module() {
    // A `#[cfg(test)]` on one item used to end the file for this test: the `use crate::report`
    // after it, shipped code, went unseen. Only the test module ends what ships.
    let sample = "use crate::model::Model;\n\
                  #[cfg(test)]\nuse serde_json::Value;\n\
                  use crate::report::Report;\n\
                  #[cfg(test)]\nfn helper() {}\n\
                  pub(crate) fn f() { crate::scrub::clean(); } // crate::check in a comment\n\
                  #[cfg(test)]\nmod tests {\n    use crate::runner::run;\n}\n";
    let found = imports("case", sample);
    let expected: BTreeSet<String> = ["model", "report", "scrub"].map(str::to_owned).into();
    assert_eq!(found, expected);
    let literals = literals("#[cfg(test)]\nfn f() {}\nconst A: &str = \"shipped\";\n");
    assert_eq!(literals, [(3, "shipped".to_owned())]);
}

#[test]
fn imports_between_modules_follow_the_stage_order() {
    let edges = edges();
    // The binary is read: its real edges are checked like any module's.
    assert!(
        edges
            .get(BINARY)
            .is_some_and(|to| to.contains("runner") && to.contains("transport")),
        "the binary's imports were not read: {:?}",
        edges.get(BINARY)
    );
    let (unknown, forbidden) = breaches(edges);
    assert!(
        unknown.is_empty(),
        "modules the stage order does not place (add them to ALLOWED): {unknown:?}"
    );
    assert!(
        forbidden.is_empty(),
        "imports the stage order does not allow: {forbidden:?}"
    );
}

/// The modules [`ALLOWED`] does not place, and the edges it does not allow (`from → to`).
fn breaches(edges: BTreeMap<String, BTreeSet<String>>) -> (Vec<String>, Vec<String>) {
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(m, to)| (*m, to.iter().copied().collect()))
        .collect();
    let mut unknown = Vec::new();
    let mut forbidden = Vec::new();
    for (from, targets) in edges {
        let Some(ok) = allowed.get(from.as_str()) else {
            unknown.push(from);
            continue;
        };
        for to in targets {
            if !ok.contains(to.as_str()) {
                forbidden.push(format!("{from} → {to}"));
            }
        }
    }
    (unknown, forbidden)
}

#[test]
fn a_lower_stage_importing_the_binary_is_refused() {
    // `cli` is the top stage: a library module that reached into it (planted here) would make
    // the circle the glob imports used to hide.
    let planted = "use crate::cli::run::RunArgs;\npub(crate) fn f() {}\n";
    let edges: BTreeMap<String, BTreeSet<String>> = [
        ("report".to_owned(), imports("report", planted)),
        (
            BINARY.to_owned(),
            imports(BINARY, "use integrations_conformance::report;\n"),
        ),
    ]
    .into();
    let (unknown, forbidden) = breaches(edges);
    assert!(unknown.is_empty(), "{unknown:?}");
    assert_eq!(forbidden, ["report → cli"]);
    // The binary's imports are read from `integrations_conformance::`, its own `crate::` not.
    let found = imports(
        BINARY,
        "use integrations_conformance::spec;\nuse crate::cli::note;\n",
    );
    assert_eq!(found, BTreeSet::from(["spec".to_owned()]));
}

#[test]
fn the_stage_order_has_no_cycle() {
    // Every module may import only modules listed before it, so ALLOWED itself is acyclic.
    let position: BTreeMap<&str, usize> = ALLOWED
        .iter()
        .enumerate()
        .map(|(i, (m, _))| (*m, i))
        .collect();
    for (i, (module, targets)) in ALLOWED.iter().enumerate() {
        for t in *targets {
            let j = position
                .get(t)
                .unwrap_or_else(|| panic!("{module} may import {t}, which ALLOWED does not list"));
            assert!(
                *j < i,
                "{module} (stage {i}) may import {t} (stage {j}): a cycle"
            );
        }
    }
}

/// The longest a file under `src/` may be, in lines: past this a file holds more than one
/// concern and a newcomer cannot read it in one sitting.
const MAX_FILE_LINES: usize = 700;

/// The longest a function may be, in lines from its `fn` line to its closing brace (test
/// functions count too): past this it does more than one thing.
const MAX_FN_LINES: usize = 120;

/// Files exempt from both limits, each with the reason it cannot be split yet. Empty: every
/// file keeps the limits. An entry that is within the limits fails
/// `every_pending_file_exists_and_is_still_too_long`, so the list cannot go stale.
const PENDING: &[&str] = &[];

/// A function's name, the line its `fn` keyword is on (1-based) and its length in lines.
#[derive(Debug, PartialEq)]
struct Function {
    name: String,
    line: usize,
    lines: usize,
}

/// `text` with every comment, string and character literal blanked to spaces (newlines kept),
/// so the braces that remain are the code's own.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && raw_start(&chars, i) {
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            // chars[j] is the opening quote; the string ends at a quote followed by `hashes` #.
            j += 1;
            while j < chars.len() {
                if chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.extend(chars[i..j.min(chars.len())].iter().map(|&c| blank(c)));
            i = j;
        } else if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            j = (j + 1).min(chars.len());
            out.extend(chars[i..j].iter().map(|&c| blank(c)));
            i = j;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{7f}') or a lifetime ('a), which has no closing quote.
            let end = if next == Some('\\') {
                (i + 2..chars.len()).find(|&j| chars[j] == '\'')
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(j) => {
                    out.extend(chars[i..=j].iter().map(|&c| blank(c)));
                    i = j + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Whether the `r` at `i` opens a raw string (`r"`, `r#"`) rather than ending an identifier.
fn raw_start(chars: &[char], i: usize) -> bool {
    let standalone = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    let mut j = i + 1;
    while chars.get(j) == Some(&'#') {
        j += 1;
    }
    standalone && chars.get(j) == Some(&'"')
}

/// Every function with a body in `text`, measured from its `fn` line to its closing brace.
fn functions(text: &str) -> Vec<Function> {
    let code = code_only(text);
    let lines: Vec<&str> = code.lines().collect();
    let mut out = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let Some(name) = fn_name(line) else { continue };
        let mut depth = 0usize;
        let mut opened = false;
        let mut end = None;
        'scan: for (k, l) in lines.iter().enumerate().skip(start) {
            // Only what follows the `fn` keyword on its own line belongs to this function.
            let from = if k == start {
                line.find("fn ").unwrap()
            } else {
                0
            };
            for ch in l[from..].chars() {
                match ch {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => {
                        depth = depth.saturating_sub(1);
                        if opened && depth == 0 {
                            end = Some(k);
                            break 'scan;
                        }
                    }
                    // A declaration without a body (in a trait or an extern block).
                    ';' if !opened => break 'scan,
                    _ => {}
                }
            }
        }
        if let Some(end) = end {
            out.push(Function {
                name,
                line: start + 1,
                lines: end - start + 1,
            });
        }
    }
    out
}

/// The name of the function a line declares, if it does (`pub(crate) async fn name<T>(…`).
fn fn_name(line: &str) -> Option<String> {
    let mut rest = line.trim_start();
    loop {
        let before = rest;
        for prefix in [
            "pub(crate) ",
            "pub(super) ",
            "pub ",
            "async ",
            "const ",
            "unsafe ",
        ] {
            rest = rest.strip_prefix(prefix).unwrap_or(rest).trim_start();
        }
        if rest.starts_with("pub(in ") {
            rest = rest[rest.find(')')? + 1..].trim_start();
        }
        if rest == before {
            break;
        }
    }
    let name: String = rest
        .strip_prefix("fn ")?
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Every `.rs` file under `src/`, as a path relative to `src/` with `/` separators, and its text.
fn sources() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().and_then(|e| e.to_str()) == Some("rs") {
                let rel = path.strip_prefix(&src).unwrap().to_string_lossy();
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((rel.replace('\\', "/"), text));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn no_file_or_function_is_too_long() {
    let mut too_long = Vec::new();
    for (file, text) in sources() {
        if PENDING.contains(&file.as_str()) {
            continue;
        }
        let lines = text.lines().count();
        if lines > MAX_FILE_LINES {
            too_long.push(format!(
                "src/{file}: {lines} lines (at most {MAX_FILE_LINES})"
            ));
        }
        for f in functions(&text) {
            if f.lines > MAX_FN_LINES {
                too_long.push(format!(
                    "src/{file}:{} fn {}: {} lines (at most {MAX_FN_LINES})",
                    f.line, f.name, f.lines
                ));
            }
        }
    }
    assert!(too_long.is_empty(), "too long:\n{}", too_long.join("\n"));
}

#[test]
fn every_pending_file_exists_and_is_still_too_long() {
    // A pending entry that no longer needs its exemption would hide a regression: drop it.
    let sources: BTreeMap<String, String> = sources().into_iter().collect();
    for pending in PENDING {
        let text = sources
            .get(*pending)
            .unwrap_or_else(|| panic!("PENDING names src/{pending}, which does not exist"));
        let long_fn = functions(text).iter().any(|f| f.lines > MAX_FN_LINES);
        assert!(
            text.lines().count() > MAX_FILE_LINES || long_fn,
            "src/{pending} is within the limits now: remove it from PENDING"
        );
    }
}

#[test]
fn the_measurer_finds_a_planted_long_function() {
    let body = "    let x = 1;\n".repeat(130);
    let sample = format!(
        "//! A sample.\n\
         fn short() -> char {{\n    '}}'\n}}\n\
         pub(crate) async fn planted<'a>(s: &'a str) {{\n\
         \x20   let brace = \"}} {{ \\\" }}\"; // }} in a comment\n\
         \x20   let raw = r#\"}}\"#; /* }} {{ */\n\
         {body}}}\n\
         trait T {{\n    fn declared(&self);\n}}\n\
         #[cfg(test)]\nmod tests {{\n    #[test]\n    fn tiny() {{}}\n}}\n"
    );
    let found = functions(&sample);
    assert_eq!(
        found,
        vec![
            Function {
                name: "short".into(),
                line: 2,
                lines: 3
            },
            Function {
                name: "planted".into(),
                line: 5,
                lines: 134
            },
            Function {
                name: "tiny".into(),
                line: 145,
                lines: 1
            },
        ]
    );
    assert!(
        found[1].lines > MAX_FN_LINES,
        "the planted function is over the limit"
    );
}

/// Literals in the case generator, the checks and the runner that equal an API name but are not
/// one: (file under `src/`, literal, why it stays). Each entry must still match something.
const NOT_API_NAMES: &[(&str, &str, &str)] = &[
    (
        "case/mod.rs",
        "envelope",
        "the name of the envelope case category (filters, reports), not the query parameter",
    ),
    (
        "case/data.rs",
        "id",
        "the serde tag of a literal project in a case's JSON form, not the integration's id",
    ),
    (
        "check/mod.rs",
        "envelope",
        "the name of the envelope check, as findings and snapshots show it",
    ),
    (
        "check/mod.rs",
        "pretty",
        "the name of the pretty-print check, as findings and snapshots show it",
    ),
    (
        "check/mod.rs",
        "links",
        "the name of the pagination-links check, as findings and snapshots show it",
    ),
    (
        "case/credentials.rs",
        "password",
        "the OAuth 2.0 grant type the token endpoint must refuse (RFC 6749), not a field",
    ),
    (
        "check/expect.rs",
        "error",
        "the member of an OAuth 2.0 error response (RFC 6749 section 5.2), not the API's field",
    ),
];

/// Every API name the spec defines: the property names of every component schema, every
/// parameter name, and every integration type (path enums and discriminator mappings).
fn api_names() -> BTreeSet<String> {
    use serde_json::Value;
    let raw = integrations_conformance::spec::bundled().unwrap().raw;
    let mut names = BTreeSet::new();
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    for schema in raw["components"]["schemas"].as_object().unwrap().values() {
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            names.extend(props.keys().cloned());
        }
        if let Some(mapping) = schema
            .pointer("/discriminator/mapping")
            .and_then(Value::as_object)
        {
            names.extend(mapping.keys().cloned());
        }
    }
    // Parameters are defined under components and inline under paths and operations.
    let mut params: Vec<&Value> = raw["components"]["parameters"]
        .as_object()
        .unwrap()
        .values()
        .collect();
    for item in raw["paths"].as_object().unwrap().values() {
        params.extend(
            item.get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
        for op in item.as_object().unwrap().values() {
            params.extend(
                op.get("parameters")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten(),
            );
        }
    }
    for p in params {
        if let Some(name) = p.get("name").and_then(Value::as_str) {
            names.insert(name.to_owned());
            if name == "integrationType" {
                names.extend(strings(p.pointer("/schema/enum")));
            }
        }
    }
    assert!(
        names.contains("integrationType") && names.len() > 20,
        "the spec's names were not all read: {names:?}"
    );
    names
}

/// The string literals of shipped code, with their line numbers: the text before the test
/// module ([`shipped`]), comments skipped, raw strings included.
fn literals(text: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = shipped(text).chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let at = |k: usize| chars.get(k).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => line += 1,
            '/' if at(i + 1) == '/' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '/' if at(i + 1) == '*' => {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && at(i + 1) == '/') {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
                i += 2;
                continue;
            }
            // A char literal ('"', '\'', 'x'); a lifetime ('a) has no closing quote after it.
            '\'' if at(i + 1) == '\\' => {
                i += 3;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
            }
            '\'' if at(i + 2) == '\'' => i += 2,
            'r' if (at(i + 1) == '"' || at(i + 1) == '#')
                && !at(i.wrapping_sub(1)).is_alphanumeric() =>
            {
                let mut hashes = 0;
                let mut k = i + 1;
                while at(k) == '#' {
                    hashes += 1;
                    k += 1;
                }
                if at(k) == '"' {
                    let close: String = std::iter::once('"')
                        .chain(std::iter::repeat_n('#', hashes))
                        .collect();
                    let rest: String = chars[k + 1..].iter().collect();
                    let len = rest.find(&close).unwrap_or(rest.len());
                    let body: String = rest.chars().take(rest[..len].chars().count()).collect();
                    out.push((line, body.clone()));
                    line += body.matches('\n').count();
                    i = k + 1 + body.chars().count() + close.chars().count();
                    continue;
                }
            }
            '"' => {
                let (start, mut value) = (line, String::new());
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        value.push(chars[i]);
                        i += 1;
                    }
                    line += usize::from(at(i) == '\n');
                    value.push(at(i));
                    i += 1;
                }
                out.push((start, value));
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// `file:line: "literal"` for every literal of `text` that is an API name and not allowed.
fn spelled(file: &str, text: &str, names: &BTreeSet<String>) -> Vec<String> {
    literals(text)
        .into_iter()
        .filter(|(_, lit)| names.contains(lit))
        .filter(|(_, lit)| !NOT_API_NAMES.iter().any(|(f, l, _)| *f == file && l == lit))
        .map(|(line, lit)| format!("src/{file}:{line}: {lit:?}"))
        .collect()
}

/// The shipped files that must read the API's names from the model: `case/`, `check/` and
/// `runner/`, as (path under `src/`, text).
fn model_readers() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    // Each is a directory or a single file (the runner was one before it had rooms).
    let mut files = Vec::new();
    let mut stack = Vec::new();
    for module in ["case", "check", "runner"] {
        let file = src.join(format!("{module}.rs"));
        if file.is_file() {
            files.push(file);
        }
        stack.push(src.join(module));
    }
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().and_then(|e| e.to_str()) == Some("rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

#[test]
fn cases_checks_and_the_runner_spell_no_api_name() {
    let names = api_names();
    let files = model_readers();
    assert!(
        files.len() > 10,
        "the scanned files were not found: {files:?}"
    );
    let found: Vec<String> = files
        .iter()
        .flat_map(|(file, text)| spelled(file, text, &names))
        .collect();
    assert!(
        found.is_empty(),
        "API names spelled where the model must be read (model::Wire, the types and fields), \
         or add a justified entry to NOT_API_NAMES:\n{}",
        found.join("\n")
    );
    // An allow-list entry that no longer matches anything hides nothing and must go.
    for (file, lit, _) in NOT_API_NAMES {
        let used = files
            .iter()
            .any(|(f, text)| f == file && literals(text).iter().any(|(_, l)| l == lit));
        assert!(
            used,
            "NOT_API_NAMES lists {lit:?} in {file}, which no longer spells it"
        );
    }
}

#[test]
fn the_name_scanner_flags_a_planted_literal_and_nothing_else() {
    let names: BTreeSet<String> = ["results", "pageNum", "SLACK"].map(str::to_owned).into();
    let sample = r##"//! A module that reads "results" in its doc comment.
use x::y;

/* a block comment with "pageNum" */
fn f(body: &Value) -> Option<&Value> {
    let _c = '"';
    let _quote = "a \" quoted \"results\" word";
    let _raw = r#"results"#;
    let _lifetime: &'static str = "fine";
    body.get("results") // and "SLACK" in a trailing comment
}

#[cfg(test)]
mod tests {
    #[test]
    fn t() {
        let _ = "pageNum";
    }
}
"##;
    let found = spelled("case/sample.rs", sample, &names);
    assert_eq!(
        found,
        [
            "src/case/sample.rs:8: \"results\"",
            "src/case/sample.rs:10: \"results\""
        ],
        "{found:?}"
    );
    // The allow list is per file: the same literal elsewhere is still flagged.
    let label = "fn f() -> &'static str { \"envelope\" }";
    let names: BTreeSet<String> = ["envelope".to_owned()].into();
    assert!(spelled("check/mod.rs", label, &names).is_empty());
    assert_eq!(spelled("check/body.rs", label, &names).len(), 1);
}
