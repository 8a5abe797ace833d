//! The house keeps its rooms: the `crate::` imports between the library's top-level modules
//! follow the stage order written here, and form no cycle. A new edge fails this test until it
//! is added to [`ALLOWED`] on purpose (and `README.md`'s layout says why).
//!
//! Test modules (`#[cfg(test)]`, which come last in a file) and comments are not counted: only
//! what the shipped code imports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each module and the modules it may import, in stage order: leaves first, then the spec's
/// pipeline (spec → model → schema/case → harness), the sending side (credential → target →
/// auth), the judging side (check → outcome), then the runner and what reads a run.
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
        "target",
        &["case", "credential", "error", "exchange", "model", "scrub"],
    ),
    ("auth", &["credential", "error", "target"]),
    (
        "server",
        &["auth", "credential", "error", "model", "target"],
    ),
    (
        "check",
        &[
            "auth", "case", "exchange", "harness", "model", "schema", "scrub",
        ],
    ),
    ("outcome", &["case", "check", "exchange"]),
    (
        "runner",
        &[
            "auth", "case", "check", "error", "exchange", "harness", "model", "outcome", "scrub",
            "target",
        ],
    ),
    ("snapshot", &["case", "check", "model", "outcome", "scrub"]),
    (
        "report",
        &[
            "auth", "case", "error", "exchange", "model", "outcome", "scrub", "target",
        ],
    ),
    ("baseline", &["case", "check", "error", "outcome", "report"]),
    (
        "explore",
        &[
            "auth", "case", "check", "error", "exchange", "harness", "model", "outcome", "report",
            "scrub", "server", "snapshot", "target",
        ],
    ),
    ("coverage", &["case", "model", "report"]),
    ("config", &["error"]),
];

/// `crate::NAME` imports of every top-level module of `src/` (a directory counts as one).
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
            if top == "main" || top == "lib" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let shipped = text.split("#[cfg(test)]").next().unwrap_or("");
            let targets = out.entry(top.clone()).or_default();
            for line in shipped
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
            {
                for (at, _) in line.match_indices("crate::") {
                    let name: String = line[at + 7..]
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != top {
                        targets.insert(name);
                    }
                }
            }
        }
    }
    out
}

#[test]
fn imports_between_modules_follow_the_stage_order() {
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(m, to)| (*m, to.iter().copied().collect()))
        .collect();
    let mut unknown = Vec::new();
    let mut forbidden = Vec::new();
    for (from, targets) in edges() {
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
    assert!(
        unknown.is_empty(),
        "modules the stage order does not place (add them to ALLOWED): {unknown:?}"
    );
    assert!(
        forbidden.is_empty(),
        "imports the stage order does not allow: {forbidden:?}"
    );
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
