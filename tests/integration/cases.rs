//! The case generator: ids, coverage per category and family, and that it reads only the model.

use std::collections::BTreeMap;

use integrations_conformance::case::{self, Category, Role};
use integrations_conformance::model;

#[test]
fn cases_cover_every_category_of_every_family_with_unique_ids() {
    let m = model::bundled().unwrap();
    let cases = case::generate(&m);
    let mut counts: BTreeMap<(String, Category), usize> = BTreeMap::new();
    let mut requests = 0;
    for c in &cases {
        *counts.entry((c.family.clone(), c.category)).or_default() += 1;
        requests += c.steps.len();
        let parts: Vec<&str> = c.id.split('/').collect();
        assert_eq!(parts.len(), 3, "{}", c.id);
        assert_eq!(parts[0], c.family);
        assert_eq!(parts[1], c.operation);
        assert!(parts[2].chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '.'), "not kebab: {}", c.id);
        assert!(c.steps.iter().any(|s| s.role == Role::Test), "{} has no request under test", c.id);
        assert!(!c.title.is_empty(), "{} has no title", c.id);
    }
    let mut ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    let before = ids.len();
    ids.dedup();
    assert_eq!(before, ids.len());
    for f in &m.families {
        for cat in Category::ALL {
            let n = counts.get(&(f.name.clone(), cat)).copied().unwrap_or(0);
            let expected_none = cat == Category::Versions && false;
            assert!(n > 0 || expected_none, "{} has no {cat} case", f.name);
        }
    }
    eprintln!("{} cases, {} requests", cases.len(), requests);
    for ((f, c), n) in &counts {
        eprintln!("{f:14} {c:11} {n}");
    }
}
