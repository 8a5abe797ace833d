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
        assert!(
            parts[2]
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '.'),
            "not kebab: {}",
            c.id
        );
        assert!(
            c.steps
                .iter()
                .any(|s| matches!(s.role, Role::Test | Role::Concurrent)),
            "{} has no request under test",
            c.id
        );
        assert!(!c.title.is_empty(), "{} has no title", c.id);
    }
    let mut ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    let before = ids.len();
    ids.dedup();
    assert_eq!(before, ids.len());
    for f in &m.families {
        // The exploration entry is no generated case: a run adds it.
        for cat in Category::ALL
            .into_iter()
            .filter(|c| *c != Category::Exploration)
        {
            let n = counts.get(&(f.name.clone(), cat)).copied().unwrap_or(0);
            assert!(n > 0, "{} has no {cat} case", f.name);
        }
    }
    eprintln!("{} cases, {} requests", cases.len(), requests);
    for ((f, c), n) in &counts {
        eprintln!("{f:14} {c:11} {n}");
    }
}

fn cases_of(text: &str) -> Vec<case::Case> {
    let spec = integrations_conformance::spec::parse(text).expect("fixture spec loads");
    case::generate(&model::build(&spec).expect("fixture model builds"))
}

fn ids(cases: &[case::Case]) -> std::collections::BTreeSet<String> {
    cases.iter().map(|c| c.id.clone()).collect()
}

#[test]
fn removing_a_field_from_the_spec_changes_the_cases_without_code() {
    let base = integrations_conformance::spec::BUNDLED;
    // atlas-v1 Flowdock without its orgName field.
    let anchor = "        orgName: {type: string, minLength: 1, example: newOrgName}\n";
    assert!(base.contains(anchor));
    let fixture = base.replacen(anchor, "", 1).replacen(
        "required: [type, flowName, orgName, apiToken]",
        "required: [type, flowName, apiToken]",
        1,
    );
    let before = ids(&cases_of(base));
    let after = ids(&cases_of(&fixture));
    let gone: Vec<&String> = before.difference(&after).collect();
    assert!(
        gone.iter()
            .any(|id| id.contains("flowdock-missing-org-name")),
        "{gone:?}"
    );
    assert!(
        gone.iter()
            .any(|id| id.contains("flowdock-wrong-type-org-name")),
        "{gone:?}"
    );
    // The field is now foreign to FLOWDOCK: nothing else references it as its own.
    assert!(after
        .iter()
        .all(|id| !id.contains("flowdock-null-org-name")));
}

#[test]
fn adding_a_secret_to_the_spec_changes_the_cases_without_code() {
    let base = integrations_conformance::spec::BUNDLED;
    // Make VictorOps' routingKey a secret in every family that shares the Cm schema.
    let anchor = "      required: [type, apiKey]\n      x-secrets: {apiKey: mask-last4}\n      properties:\n        type: {type: string, enum: [VICTOR_OPS]}";
    assert!(base.contains(anchor));
    let fixture = base.replacen(
        anchor,
        &anchor.replace(
            "{apiKey: mask-last4}",
            "{apiKey: mask-last4, routingKey: mask-last4}",
        ),
        1,
    );
    let masked_fields = |cases: &[case::Case]| -> Vec<String> {
        cases
            .iter()
            .filter(|c| c.id == "cloud-manager/cmGetIntegration/victor-ops-masked-in-get")
            .flat_map(|c| c.steps.iter())
            .flat_map(|s| s.expect.iter())
            .filter_map(|e| match e {
                case::Expect::Masked { fields, .. } => {
                    Some(fields.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>())
                }
                _ => None,
            })
            .flatten()
            .collect()
    };
    let before = cases_of(base);
    let after = cases_of(&fixture);
    assert_eq!(masked_fields(&before), ["apiKey"]);
    assert_eq!(masked_fields(&after), ["apiKey", "routingKey"]);
    // The new secret's value is now a generated canary that must never come back.
    let secrets = |cases: &[case::Case]| {
        cases
            .iter()
            .find(|c| c.id == "cloud-manager/cmGetIntegration/victor-ops-masked-in-get")
            .map(|c| c.secrets.len())
            .unwrap()
    };
    assert_eq!(secrets(&after), secrets(&before) + 1);
}

#[test]
fn every_committed_snapshot_belongs_to_a_generated_case() {
    let m = model::bundled().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let regressions = integrations_conformance::explore::regression::cases(
        &m,
        &root.join(integrations_conformance::explore::regression::DIR),
    )
    .unwrap();
    let names: std::collections::BTreeSet<String> = case::generate(&m)
        .iter()
        .chain(&regressions)
        .map(|c| integrations_conformance::snapshot::name(&c.id))
        .collect();
    let dir = root.join("snapshots");
    let mut orphans = Vec::new();
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        if let Some(stem) = file.strip_suffix(".snap") {
            count += 1;
            if !names.contains(stem) {
                orphans.push(file);
            }
        }
    }
    assert!(
        orphans.is_empty(),
        "snapshots without a case (delete them): {orphans:?}"
    );
    assert_eq!(count, names.len(), "every case has a committed snapshot");
}
