//! One vocabulary: every shipped file under `src/` reads the API's names from the model, never
//! spells them, except the modules that read the spec itself (`spec`, `model/`, `schema`) and
//! the modules named, each with its reason, in [`PENDING`].

use std::collections::BTreeSet;

use super::shipped;

/// The modules that read the API's names from the spec itself, and so may spell them: a file
/// under `src/` whose path starts with one of these is not scanned.
const SPEC_READERS: &[&str] = &["spec.rs", "spec/", "model/", "schema.rs", "schema/"];

/// Modules not yet scanned, each with its reason: (path prefix under `src/`, why). An entry
/// whose module spells no API name any more must go.
const PENDING: &[(&str, &str)] = &[];

/// Literals in shipped code that equal an API name but are not one: (file under `src/`,
/// literal, why it stays). Each entry must still match something.
const NOT_API_NAMES: &[(&str, &str, &str)] = &[
    (
        "known_failures.rs",
        "id",
        "the placeholder word a finding signature has for a hexadecimal id, not the id field",
    ),
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
    (
        "auth.rs",
        "scheme",
        "a field of the Debug view of an authentication challenge (RFC 9110), not the API's",
    ),
    (
        "auth.rs",
        "error",
        "the member of an OAuth 2.0 token error response (RFC 6749 section 5.2)",
    ),
    (
        "server/auth.rs",
        "error",
        "the member of the OAuth 2.0 token error the server answers (RFC 6749 section 5.2)",
    ),
    (
        "server/auth.rs",
        "username",
        "the parameter of a Digest Authorization header (RFC 7616), not the API's field",
    ),
    (
        "server/routes.rs",
        "error",
        "the member of the OAuth 2.0 token error for an unreadable body (RFC 6749 section 5.2)",
    ),
    (
        "server/fault.rs",
        "envelope",
        "the name of the envelope fault category (as --faults lists and reports show it)",
    ),
    (
        "snapshot.rs",
        "error",
        "the snapshot's text for an error body it does not compare, not a field",
    ),
    (
        "snapshot.rs",
        "pretty",
        "the snapshot's name of a body's layout (pretty or compact), not the query parameter",
    ),
    (
        "outcome.rs",
        "reason",
        "the serde content key of the harness's own outcome JSON, not the error body's field",
    ),
    (
        "report/har.rs",
        "url",
        "the request member of the HAR 1.2 format, not an integration's field",
    ),
    (
        "report/har.rs",
        "status",
        "the response member of the HAR 1.2 format, not the envelope's field",
    ),
    (
        "report/har.rs",
        "content",
        "the response member of the HAR 1.2 format, not the envelope's field",
    ),
    (
        "server/auth.rs",
        "status",
        "a field of the Debug view of a token reply, not the envelope's field",
    ),
    (
        "cli/cases.rs",
        "id",
        "the id of a case in `cases --format json`, the harness's own output",
    ),
    (
        "cli/rules.rs",
        "id",
        "the id of a contract rule in `rules --format json`, the harness's own output",
    ),
];

/// Every API name the spec defines: the property names of every component schema, every
/// parameter name, every integration type (path enums and discriminator mappings), and the wire
/// names of the link relations, the envelope's wrapper and the error body (`x-link`,
/// `x-envelope`, `x-error-fields`).
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
    let wire_names = |node: &Value| -> Vec<String> {
        ["x-link", "x-envelope", "x-error-fields"]
            .iter()
            .filter_map(|k| node.get(k).and_then(Value::as_object))
            .flat_map(|m| m.values().filter_map(Value::as_str).map(str::to_owned))
            .collect()
    };
    for schema in raw["components"]["schemas"].as_object().unwrap().values() {
        names.extend(wire_names(schema));
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
        names.extend(wire_names(p));
        if let Some(name) = p.get("name").and_then(Value::as_str) {
            names.insert(name.to_owned());
            if name == "integrationType" {
                names.extend(strings(p.pointer("/schema/enum")));
            }
        }
    }
    assert!(
        ["integrationType", "content", "next"]
            .iter()
            .all(|n| names.contains(*n))
            && names.len() > 20,
        "the spec's names were not all read: {names:?}"
    );
    names
}

/// The string literals of shipped code, with their line numbers: the text before the test
/// module ([`shipped`]), comments skipped, raw strings included.
pub(super) fn literals(text: &str) -> Vec<(usize, String)> {
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

/// Whether the file `rel` (a path under `src/`) must read the API's names from the model: any
/// shipped file but the spec's readers, the pending modules and unit test files of their own
/// (`tests.rs`, a `#[cfg(test)] mod tests;`).
pub(super) fn scanned(rel: &str) -> bool {
    let test_file = rel == "tests.rs" || rel.ends_with("/tests.rs");
    !test_file
        && !SPEC_READERS.iter().any(|p| rel.starts_with(p))
        && !PENDING.iter().any(|(p, _)| rel.starts_with(p))
}

/// The shipped files that must read the API's names from the model, as (path under `src/`,
/// text).
fn model_readers() -> Vec<(String, String)> {
    super::sources()
        .into_iter()
        .filter(|(rel, _)| scanned(rel))
        .collect()
}

#[test]
fn shipped_code_spells_no_api_name() {
    let names = api_names();
    let files = model_readers();
    // Every stage past the model is read: the server, the snapshots and the reports included.
    for must in [
        "case/",
        "check/",
        "runner/",
        "server/",
        "report/",
        "snapshot.rs",
        "cli/",
        "explore/",
    ] {
        assert!(
            files.iter().any(|(f, _)| f.starts_with(must)),
            "{must} was not scanned: {:?}",
            files.iter().map(|(f, _)| f).collect::<Vec<_>>()
        );
    }
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
    // A pending module that spells no API name any more is scanned from now on.
    for (prefix, _) in PENDING {
        let still = super::sources().into_iter().any(|(f, text)| {
            f.starts_with(prefix)
                && !f.ends_with("tests.rs")
                && !spelled(&f, &text, &names).is_empty()
        });
        assert!(
            still,
            "PENDING lists {prefix}, which spells no API name: remove it"
        );
    }
}

#[test]
fn a_planted_api_name_outside_the_spec_readers_fails() {
    // A fixture string with an API name in the reference server (the place that spelled them
    // last): the rule must flag it, as it would in any file the scan reads.
    let names = api_names();
    let planted = "pub(crate) const PAGE_NUM: &str = \"pageNum\";\n";
    for file in [
        "server/query.rs",
        "report/mod.rs",
        "snapshot.rs",
        "lib.rs",
        "explore/gen.rs",
    ] {
        assert!(scanned(file), "{file} is not scanned");
        assert_eq!(
            spelled(file, planted, &names),
            [format!("src/{file}:1: \"pageNum\"")]
        );
    }
    // The spec's readers, the pending modules and test files are not scanned.
    for file in [
        "spec.rs",
        "model/wire.rs",
        "schema.rs",
        "server/routes/tests.rs",
    ] {
        assert!(!scanned(file), "{file} is scanned");
    }
    // A `#[cfg(test)] use` does not end the shipped code: the literal after it is still read.
    let hidden = "#[cfg(test)]\nuse serde_json::Value;\nconst P: &str = \"pageNum\";\n\
                  #[cfg(test)]\nmod tests {\n    const Q: &str = \"itemsPerPage\";\n}\n";
    assert_eq!(
        spelled("server/query.rs", hidden, &names),
        ["src/server/query.rs:3: \"pageNum\""]
    );
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
