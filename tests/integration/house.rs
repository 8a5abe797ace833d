//! The house keeps its rooms: the `crate::` imports between the library's top-level modules
//! (and the binary's `integrations_conformance::` imports, `main.rs` and `cli/` placed as `cli`
//! at the top) follow the stage order written here, and form no cycle. A new edge fails this
//! test until it is added to [`ALLOWED`] on purpose (and `README.md`'s layout says why). For
//! imports, test modules (`#[cfg(test)] mod`, which come last in a file, or a `tests.rs` file of
//! their own), comments and strings are not counted: only what the shipped code imports. A file
//! is cut only at its test module ([`shipped`]): a `#[cfg(test)]` on a single item (a `use`, a
//! helper) is read on.
//!
//! Its rooms, each rule with a planted control that must fail:
//! - [`names`]: no shipped code past the spec's readers (`spec`, `model/`, `schema`) spells an API
//!   name, except the modules named, each with its reason, in `names::PENDING`.
//! - [`codes`]: nor an error code: no literal equal to an `errorCode` of the spec's catalogues
//!   (or of the model's table for situations without one).
//! - [`sender`]: one sender: no module but `src/sender/` (and `auth` itself) calls the
//!   authenticator's signing.
//! - [`size`]: no file under `src/` or `tests/` is over 700 lines and no function over 120,
//!   except the files named, each with its reason, in `size::PENDING`.

mod codes;
mod names;
mod sender;
mod size;

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
    ("rules", &["error", "model"]),
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
    // The plan of a run before its first request: requests per case, the quick cover.
    ("plan", &["case", "model", "rules", "runner"]),
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
    (
        "known_failures",
        &["case", "check", "error", "outcome", "report"],
    ),
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
    // The target settings: one clap argument group for the command line and the cargo front
    // end, read and checked into a target, a gateway and the embedded server's switches.
    (
        "settings",
        &["config", "error", "sender", "server", "transport"],
    ),
    // The binary (`main.rs` and its subcommands in `cli/`), at the top: it reaches the library
    // as `integrations_conformance::NAME`, and nothing in the library may reach it.
    (
        "cli",
        &[
            "known_failures",
            "case",
            "config",
            "coverage",
            "error",
            "explore",
            "harness",
            "model",
            "plan",
            "report",
            "rules",
            "runner",
            "server",
            "settings",
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

/// Every `.rs` file under `src/`, as a path relative to `src/` with `/` separators, and its text.
fn sources() -> Vec<(String, String)> {
    rust_files("src")
}

/// Every `.rs` file under the crate's directory `root`, as a path relative to `root` with `/`
/// separators, and its text, sorted by path.
fn rust_files(root: &str) -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(root);
    let mut out = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("the directory is readable") {
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
