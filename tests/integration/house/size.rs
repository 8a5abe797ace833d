//! Sizes: no file under `src/` or `tests/` is over 700 lines and no function over 120 (from its
//! `fn` line to its closing brace; test functions count too), except the files in [`PENDING`],
//! each named with the reason it cannot be split yet.

use std::collections::BTreeMap;

use super::{code_only, rust_files};

/// The longest a file under `src/` or `tests/` may be, in lines: past this a file holds more than one
/// concern and a newcomer cannot read it in one sitting.
const MAX_FILE_LINES: usize = 700;

/// The longest a function may be, in lines from its `fn` line to its closing brace (test
/// functions count too): past this it does more than one thing.
const MAX_FN_LINES: usize = 120;

/// Files exempt from both limits: (path from the crate's root, the reason it cannot be split
/// yet). An entry that is within the limits fails
/// `every_pending_file_exists_and_is_still_too_long`, so the list cannot go stale.
const PENDING: &[(&str, &str)] = &[
    (
        "tests/conformance.rs",
        "fn main (191 lines) reads the arguments, gathers the cases and the kept reproductions, \
         runs the optional exploration and maps every case to a trial in one body; to split into \
         setup, trials and exit code",
    ),
    (
        "tests/integration/cli.rs",
        "929 lines: every subcommand's process-level tests in one file; to split one file per \
         subcommand, as src/cli/ is",
    ),
    (
        "tests/integration/hostile/gateway.rs",
        "one scenario (150 lines) checks every gateway header on every request and its absence \
         from every report of the same run; to split by report once the run is a shared fixture",
    ),
    (
        "tests/integration/report.rs",
        "one failing run (189 lines) whose JUnit, Markdown, HTML and curl reproductions are \
         checked together, to pay for the run once; to split once the run is a shared fixture",
    ),
    (
        "tests/integration/server/auth.rs",
        "the OAuth token's life (127 lines): issued, used, expired, renewed, as one sequence \
         against one server's clock",
    ),
    (
        "tests/integration/server/errors.rs",
        "fn error_rows (141 lines): the error catalogue, every row for every family, in one \
         loop; to become a table of rows",
    ),
    (
        "tests/integration/server/faults.rs",
        "fn probe (620 lines): one match arm per fault; to become one probe function per fault \
         category",
    ),
    (
        "tests/integration/server/faults_reach.rs",
        "fn probe (122 lines): one match arm per fault of exploration's reach, as in faults.rs",
    ),
    (
        "tests/integration/spec.rs",
        "796 lines: the contract's tables as data, transcribed row by row (fn contract_table, \
         192 lines; fn families_carry_order_update_rules_and_unsupported_types, 149); to move \
         the tables to a file of their own",
    ),
];

/// Every `.rs` file the limits apply to, as (path from the crate's root, text): `src/` and
/// `tests/`.
fn measured() -> BTreeMap<String, String> {
    ["src", "tests"]
        .into_iter()
        .flat_map(|root| {
            rust_files(root)
                .into_iter()
                .map(move |(file, text)| (format!("{root}/{file}"), text))
        })
        .collect()
}

/// `path: N lines` and `path:line fn name: N lines` for every file of `files` and every
/// function in it over the limits, unless `pending` names the file.
fn too_long(files: &BTreeMap<String, String>, pending: &[(&str, &str)]) -> Vec<String> {
    let mut out = Vec::new();
    for (file, text) in files {
        if pending.iter().any(|(p, _)| p == file) {
            continue;
        }
        let lines = text.lines().count();
        if lines > MAX_FILE_LINES {
            out.push(format!("{file}: {lines} lines (at most {MAX_FILE_LINES})"));
        }
        for f in functions(text) {
            if f.lines > MAX_FN_LINES {
                out.push(format!(
                    "{file}:{} fn {}: {} lines (at most {MAX_FN_LINES})",
                    f.line, f.name, f.lines
                ));
            }
        }
    }
    out
}

/// The entries of `pending` that are no longer needed: their file is gone or within the
/// limits.
fn stale(files: &BTreeMap<String, String>, pending: &[(&str, &str)]) -> Vec<String> {
    let mut out = Vec::new();
    for (path, _) in pending {
        let Some(text) = files.get(*path) else {
            out.push(format!("PENDING names {path}, which does not exist"));
            continue;
        };
        let long_fn = functions(text).iter().any(|f| f.lines > MAX_FN_LINES);
        if text.lines().count() <= MAX_FILE_LINES && !long_fn {
            out.push(format!(
                "{path} is within the limits now: remove it from PENDING"
            ));
        }
    }
    out
}

/// A function's name, the line its `fn` keyword is on (1-based) and its length in lines.
#[derive(Debug, PartialEq)]
struct Function {
    name: String,
    line: usize,
    lines: usize,
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

#[test]
fn no_file_or_function_is_too_long() {
    let files = measured();
    assert!(
        files.keys().any(|f| f.starts_with("tests/integration/"))
            && files.contains_key("src/lib.rs"),
        "src/ and tests/ were not both read"
    );
    let found = too_long(&files, PENDING);
    assert!(found.is_empty(), "too long:\n{}", found.join("\n"));
}

#[test]
fn every_pending_file_exists_and_is_still_too_long() {
    // A pending entry that no longer needs its exemption would hide a regression: drop it.
    for (path, reason) in PENDING {
        assert!(!reason.trim().is_empty(), "PENDING gives {path} no reason");
    }
    let found = stale(&measured(), PENDING);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn a_long_test_file_fails_unless_named_and_a_needless_exception_fails() {
    // Planted: a test file of 701 short lines, and a short one.
    let long = "// a line\n".repeat(MAX_FILE_LINES + 1);
    let files: BTreeMap<String, String> = [
        ("tests/integration/long.rs".to_owned(), long),
        (
            "tests/integration/short.rs".to_owned(),
            "fn f() {}\n".to_owned(),
        ),
    ]
    .into();
    assert_eq!(
        too_long(&files, &[]),
        ["tests/integration/long.rs: 701 lines (at most 700)"]
    );
    let named = [("tests/integration/long.rs", "planted")];
    assert!(too_long(&files, &named).is_empty());
    assert!(stale(&files, &named).is_empty());
    let needless = [
        ("tests/integration/short.rs", "planted"),
        ("tests/integration/gone.rs", "planted"),
    ];
    assert_eq!(
        stale(&files, &needless),
        [
            "tests/integration/short.rs is within the limits now: remove it from PENDING",
            "PENDING names tests/integration/gone.rs, which does not exist",
        ]
    );
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
