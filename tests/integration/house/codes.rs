//! One vocabulary, error codes included: no shipped code past the spec's readers spells an
//! `errorCode` the spec's catalogues give (`x-error-rows`, `x-unmatched`) or one the model
//! answers with where a row has none (`model::ErrorCodes`, its documented `FALLBACK` included).
//! The server, exploration's oracle and the checks read them from the model
//! (`Model::code_for`, `Wire::codes`, the catalogue's rows).

use std::collections::BTreeSet;

use serde_json::Value;

use super::names::{literals, scanned};

/// Every `errorCode` the spec gives, wherever it is, and every code of the model's table.
fn error_codes() -> BTreeSet<String> {
    fn walk(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("errorCode", Value::String(code)) => {
                            out.insert(code.clone());
                        }
                        _ => walk(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let raw = integrations_conformance::spec::bundled().unwrap().raw;
    let mut codes = BTreeSet::new();
    walk(&raw, &mut codes);
    let model = integrations_conformance::model::bundled().unwrap();
    codes.extend(model.wire.codes.codes().map(str::to_owned));
    assert!(
        ["INVALID_GROUP_ID", "RESOURCE_NOT_FOUND", "UNAUTHORIZED"]
            .iter()
            .all(|c| codes.contains(*c))
            && codes.len() > 20,
        "the spec's error codes were not all read: {codes:?}"
    );
    codes
}

/// `file:line: "CODE"` for every literal of `text` that is an error code.
fn spelled(file: &str, text: &str, codes: &BTreeSet<String>) -> Vec<String> {
    literals(text)
        .into_iter()
        .filter(|(_, lit)| codes.contains(lit))
        .map(|(line, lit)| format!("src/{file}:{line}: {lit:?}"))
        .collect()
}

#[test]
fn shipped_code_spells_no_error_code() {
    let codes = error_codes();
    let files: Vec<(String, String)> = super::sources()
        .into_iter()
        .filter(|(rel, _)| scanned(rel))
        .collect();
    assert!(
        files.iter().any(|(f, _)| f.starts_with("server/")),
        "the server was not scanned"
    );
    let found: Vec<String> = files
        .iter()
        .flat_map(|(file, text)| spelled(file, text, &codes))
        .collect();
    assert!(
        found.is_empty(),
        "error codes spelled where the model must be read (Model::code_for, Wire::codes, the \
         operation's catalogue rows):\n{}",
        found.join("\n")
    );
}

#[test]
fn a_planted_error_code_outside_the_spec_readers_fails() {
    let codes = error_codes();
    // The fallback the server used to spell, planted back: the rule must flag it, and a code of
    // the model's own table (a documented fallback) as well.
    let planted = "fn fallback() -> (u16, &'static str) {\n    (404, \"INVALID_GROUP_ID\")\n}\n\
                   const M: &str = \"METHOD_NOT_ALLOWED\";\n";
    for file in ["server/error.rs", "explore/oracle.rs", "check/status.rs"] {
        assert!(scanned(file), "{file} is not scanned");
        assert_eq!(
            spelled(file, planted, &codes),
            [
                format!("src/{file}:2: \"INVALID_GROUP_ID\""),
                format!("src/{file}:4: \"METHOD_NOT_ALLOWED\""),
            ]
        );
    }
    // A code in a comment, a test module or the model itself is not a violation.
    let quiet = "// INVALID_GROUP_ID\n#[cfg(test)]\nmod tests {\n    const C: &str = \"GROUP_NOT_FOUND\";\n}\n";
    assert!(spelled("server/error.rs", quiet, &codes).is_empty());
    assert!(!scanned("model/codes.rs"));
}
