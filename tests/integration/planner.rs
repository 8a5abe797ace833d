//! The run's plan against the reference server: cases that keep one starting state share its
//! setup, cases that also verify it alike share one read of it, and a case that changes the
//! state unexpectedly is isolated while the next case still sees the state it planned for.
//! The request count the plan announces is the count the run sends.

use http::Method;
use integrations_conformance::case::{Case, Expect, Role};
use integrations_conformance::plan;
use integrations_conformance::runner::{self, RunOptions, RunReport, Verdict, ISOLATED, REPLAYED};

use super::fixture::{cases, harness, server};

/// Cases of one family that configure the same type with the same body first, and whose one
/// request under test is an update that must be refused, read back after it.
fn refused_updates_on_one_fixture(n: usize) -> Vec<Case> {
    let mut picked: Vec<Case> = Vec::new();
    for case in cases().iter().filter(|c| c.family == "atlas-v2") {
        let setups: Vec<_> = case
            .steps
            .iter()
            .filter(|s| s.role == Role::Setup)
            .collect();
        let tests: Vec<_> = case.steps.iter().filter(|s| s.role == Role::Test).collect();
        let refused_update = tests.len() == 1
            && tests[0].request.method == Method::PUT.as_str()
            && tests[0]
                .expect
                .iter()
                .all(|e| matches!(e, Expect::Error { .. }));
        let verified = case.steps.iter().any(|s| s.role == Role::Verify);
        if setups.len() != 1 || !refused_update || !verified {
            continue;
        }
        let same_start = |other: &Case| {
            let first = other.steps.iter().find(|s| s.role == Role::Setup).unwrap();
            serde_json::to_string(&first.request).unwrap()
                == serde_json::to_string(&setups[0].request).unwrap()
        };
        if picked.first().is_none_or(same_start) {
            picked.push(case.clone());
        }
        if picked.len() == n {
            break;
        }
    }
    assert_eq!(
        picked.len(),
        n,
        "the spec has {n} refused updates on one fixture"
    );
    picked
}

async fn run(cases: &[Case]) -> RunReport {
    let server = server(Vec::new()).await;
    let target = server.target().expect("the embedded target");
    runner::run(harness(), cases, &target, &RunOptions::default())
        .await
        .expect("the run judges")
}

fn count(report: &RunReport, role: Role) -> usize {
    report
        .outcomes
        .iter()
        .flat_map(|o| &o.exchanges)
        .filter(|e| e.role == role)
        .count()
}

/// Makes the request under test a delete of the same type, still expected to be refused: the
/// reference server accepts it, so the case fails and leaves the type unconfigured.
fn deleting(mut case: Case) -> Case {
    let setup = case.steps.iter().find(|s| s.role == Role::Setup).unwrap();
    let mut delete = setup.request.clone();
    delete.method = Method::DELETE.as_str().to_owned();
    delete.body = integrations_conformance::case::Body::None;
    delete.content_type = None;
    let step = case
        .steps
        .iter_mut()
        .find(|s| s.role == Role::Test)
        .unwrap();
    step.request = delete;
    case
}

#[tokio::test]
async fn cases_that_keep_one_state_share_its_setup_and_one_read_of_it() {
    let cases = refused_updates_on_one_fixture(3);
    let report = run(&cases).await;
    assert_eq!(report.passed(), 3, "{:#?}", report.outcomes);
    assert_eq!(count(&report, Role::Setup), 1, "one setup for the three");
    assert_eq!(
        count(&report, Role::Cleanup),
        1,
        "one cleanup after the three"
    );
    // Each case records the one read as its own verification, as a case run alone would.
    for o in &report.outcomes {
        assert_eq!(
            o.exchanges
                .iter()
                .filter(|e| e.role == Role::Verify)
                .count(),
            1
        );
    }
    let builder = &report.outcomes[0].id;
    for o in &report.outcomes[1..] {
        assert_eq!(o.setup_shared_with.as_ref(), Some(builder), "{}", o.id);
    }
    // The plan announced what was sent: the two cases after the first cost their updates only.
    assert_eq!(
        report.requests,
        plan::run_requests(&harness().model, &cases)
    );
    let one = run(&cases[..1]).await;
    assert_eq!(report.requests, one.requests + 2);
}

#[tokio::test]
async fn a_batch_whose_shared_read_shows_another_state_is_run_again_case_by_case() {
    let mut cases = refused_updates_on_one_fixture(3);
    // The middle case (in id order) removes the type the others expect configured.
    cases[1] = deleting(cases[1].clone());
    let report = run(&cases).await;
    let by_id = |id: &str| report.outcomes.iter().find(|o| o.id == id).unwrap();
    let planted = by_id(&cases[1].id);
    assert_eq!(planted.verdict, Verdict::Failed);
    for case in [&cases[0], &cases[2]] {
        let o = by_id(&case.id);
        // Run again on their own, they saw the state they planned for, and pass.
        assert_eq!(o.verdict, Verdict::Passed, "{}: {:#?}", o.id, o.findings);
        assert_eq!(o.isolated.as_deref(), Some(REPLAYED));
        assert!(
            o.exchanges.iter().any(|e| e.role == Role::Setup),
            "{}",
            o.id
        );
    }
    assert_eq!(planted.isolated.as_deref(), Some(REPLAYED));
}

#[tokio::test]
async fn a_failed_batch_after_a_held_state_restores_the_project_once() {
    let mut cases = refused_updates_on_one_fixture(4);
    // The first, without its read, runs alone and builds the state the batch of the others
    // shares; a case of that batch removes the type.
    cases[0].steps.retain(|s| s.role != Role::Verify);
    cases[2] = deleting(cases[2].clone());
    let report = run(&cases).await;
    let first = report
        .outcomes
        .iter()
        .find(|o| o.id == cases[0].id)
        .unwrap();
    assert_eq!(first.verdict, Verdict::Passed);
    assert_eq!(first.isolated, None);
    // The batch's restoring cleanup replaced the one the first case owed; each case of the
    // batch, run again on its own, cleaned up after itself.
    assert!(!first.exchanges.iter().any(|e| e.role == Role::Cleanup));
    assert_eq!(count(&report, Role::Cleanup), 1 + 3);
}

#[tokio::test]
async fn a_failing_case_is_isolated_and_the_next_builds_its_own_state() {
    // Without verification reads the cases run one by one, sharing the setup.
    let strip = |mut c: Case| {
        c.steps.retain(|s| s.role != Role::Verify);
        c
    };
    let mut cases: Vec<Case> = refused_updates_on_one_fixture(3)
        .into_iter()
        .map(strip)
        .collect();
    cases[1] = deleting(cases[1].clone());
    let report = run(&cases).await;
    let by_id = |id: &str| report.outcomes.iter().find(|o| o.id == id).unwrap();
    let planted = by_id(&cases[1].id);
    assert_eq!(planted.verdict, Verdict::Failed);
    assert_eq!(planted.isolated.as_deref(), Some(ISOLATED));
    assert!(planted.exchanges.iter().any(|e| e.role == Role::Cleanup));
    // The next case did not share the broken state: it configured the type again and passed.
    let next = by_id(&cases[2].id);
    assert_eq!(next.verdict, Verdict::Passed, "{:#?}", next.findings);
    assert_eq!(next.setup_shared_with, None);
    assert!(next.exchanges.iter().any(|e| e.role == Role::Setup));
    // The first shared nothing, and passed.
    let first = by_id(&cases[0].id);
    assert_eq!(first.verdict, Verdict::Passed);
    assert_eq!(first.isolated, None);
}

#[tokio::test]
async fn the_plan_announces_the_requests_a_full_run_sends() {
    let report = run(cases()).await;
    assert_eq!(report.failed(), 0);
    // What the target lacks is known before the run: those cases are not planned.
    let ran: Vec<Case> = cases()
        .iter()
        .filter(|c| {
            let o = report.outcomes.iter().find(|o| o.id == c.id).unwrap();
            !matches!(o.verdict, Verdict::Skipped(_))
        })
        .cloned()
        .collect();
    let planned = plan::run_requests(&harness().model, &ran);
    let alone: usize = cases().iter().map(plan::case_requests).sum();
    println!(
        "full run: {} requests sent, {planned} planned, {alone} if every case ran alone",
        report.requests
    );
    // Within 1%: the plan counts one challenge per digest keyring, while the target may ask
    // for a fresh nonce more or less often, and a forged credential's retries vary.
    let off = (report.requests as f64 - planned as f64).abs();
    assert!(
        off <= report.requests as f64 * 0.01,
        "sent {}, planned {planned}",
        report.requests
    );
    assert!(
        report.requests * 10 < alone * 6,
        "{} vs {alone} alone",
        report.requests
    );
}

/// The plan does not depend on the order the cases come in.
#[test]
fn the_plan_is_the_same_whatever_order_the_cases_come_in() {
    let model = &harness().model;
    let forward = plan::run_requests(model, cases());
    let mut reversed = cases().to_vec();
    reversed.reverse();
    assert_eq!(plan::run_requests(model, &reversed), forward);
}
