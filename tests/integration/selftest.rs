//! The harness proves its checks can fail: for every fault of the reference server, the suite's
//! cases of the fault's category are run against a server with that one fault, and at least one
//! must fail; against the faithful server every case passes.
//!
//! Only faults written for the fixed suite (`Reach::Fixed`) must be caught; those written where
//! no fixed case looks (`Reach::Explore`, issue 20) are run too, and the ones a case catches
//! anyway are listed: a finding, not a failure (exploration's test is their requirement).
//!
//! Only the fault's own category is run per fault (the full suite runs against the faithful
//! server in `tests/conformance.rs`), which keeps this test to seconds. Each fault is also run
//! with every tolerated variant switched on: tolerating the contract's open choices must not
//! blind a check to a real bug (`variants.rs` proves the other half: no variant fails a case).

use crate::fixture;
use std::collections::BTreeMap;

use integrations_conformance::case::Case;
use integrations_conformance::runner::{self, Harness, RunOptions, Verdict};
use integrations_conformance::server::{Fault, Reach, ServerConfig, Variant};

async fn failures(
    harness: &Harness,
    cases: &[Case],
    faults: Vec<Fault>,
    variants: Vec<Variant>,
) -> Vec<(String, String)> {
    let server = fixture::server_with(ServerConfig {
        faults,
        variants,
        ..Default::default()
    })
    .await;
    let target = server.target().expect("target");
    let report = runner::run(harness, cases, &target, &RunOptions::default())
        .await
        .expect("the run completes");
    let out = report
        .outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Failed)
        .map(|o| {
            (
                o.id.clone(),
                o.findings
                    .first()
                    .map(|f| format!("[{}] {}", f.check, f.message))
                    .unwrap_or_default(),
            )
        })
        .collect();
    server.shutdown().await.ok();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_is_caught_by_its_category_and_the_faithful_server_passes() {
    let harness = fixture::harness();
    let all = fixture::cases();
    let faithful = failures(harness, all, Vec::new(), Vec::new()).await;
    assert!(
        faithful.is_empty(),
        "the faithful server fails {} cases, e.g. {:?}",
        faithful.len(),
        &faithful[..faithful.len().min(5)]
    );

    let mut by_category: BTreeMap<&str, Vec<Case>> = BTreeMap::new();
    for c in all {
        by_category
            .entry(c.category.as_str())
            .or_default()
            .push(c.clone());
    }
    let mut missed = Vec::new();
    let mut explore_caught = Vec::new();
    let mut report = Vec::new();
    for fault in Fault::ALL {
        let cases = by_category
            .get(fault.category())
            .cloned()
            .unwrap_or_default();
        for (label, variants) in [("", Vec::new()), ("+variants", Variant::ALL.to_vec())] {
            let failed = failures(harness, &cases, vec![*fault], variants).await;
            report.push(format!(
                "{:38} {:11} {:10} {:5} failing, e.g. {}",
                fault.name(),
                fault.category(),
                label,
                failed.len(),
                failed
                    .first()
                    .map(|f| format!("{} {}", f.0, f.1))
                    .unwrap_or_default()
            ));
            match (fault.reach(), failed.is_empty()) {
                (Reach::Fixed, true) => missed.push(format!("{}{label}", fault.name())),
                (Reach::Explore, false) => explore_caught.push(format!("{}{label}", fault.name())),
                _ => {}
            }
        }
    }
    eprintln!("{}", report.join("\n"));
    let explore = Fault::ALL
        .iter()
        .filter(|f| f.reach() == Reach::Explore)
        .count();
    eprintln!(
        "faults written where no fixed case looks: {explore}; the fixed cases of their category \
         catch (with and without variants) {}: {explore_caught:?}",
        explore_caught.len()
    );
    assert!(
        missed.is_empty(),
        "faults no case of their category catches: {missed:?}"
    );
}
