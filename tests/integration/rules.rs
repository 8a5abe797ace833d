//! The contract's rules (`spec/rules.yaml`) and the generated cases trace to each other: every
//! rule has a case, every case exercises a rule.

use integrations_conformance::rules::Rules;
use integrations_conformance::{case, model};

fn case_ids() -> Vec<String> {
    let model = model::bundled().unwrap();
    case::generate(&model).into_iter().map(|c| c.id).collect()
}

#[test]
fn every_rule_has_a_case() {
    let rules = Rules::bundled().unwrap();
    let ids = case_ids();
    let missing: Vec<String> = rules
        .unexercised(ids.iter().map(String::as_str))
        .iter()
        .map(|r| format!("{} ({})", r.id, r.text))
        .collect();
    assert!(
        missing.is_empty(),
        "{} rules have no case:\n  {}",
        missing.len(),
        missing.join("\n  ")
    );
}

#[test]
fn every_case_exercises_a_rule() {
    let rules = Rules::bundled().unwrap();
    let orphans: Vec<String> = case_ids()
        .into_iter()
        .filter(|id| rules.of_case(id).is_empty())
        .collect();
    assert!(
        orphans.is_empty(),
        "{} cases exercise no rule:\n  {}",
        orphans.len(),
        orphans.join("\n  ")
    );
}

/// The control: a rule that no generated case matches is found.
#[test]
fn a_rule_without_a_case_is_found() {
    let mut text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/rules.yaml"),
    )
    .unwrap();
    text.push_str(
        "  - id: 9.fixture-without-case\n    section: \"9\"\n    level: E\n    text: \"no case\"\n    cases: ['^no-such-case$']\n",
    );
    let rules = Rules::parse(&text).unwrap();
    let ids = case_ids();
    let missing: Vec<&str> = rules
        .unexercised(ids.iter().map(String::as_str))
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert!(missing.contains(&"9.fixture-without-case"), "{missing:?}");
}
