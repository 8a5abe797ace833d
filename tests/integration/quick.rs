//! The plan of a run (issue 22): `run --quick` against the embedded server exercises every rule
//! the full run exercises, on every family, in few requests, and still catches the server's
//! faults; `--dry-run` sends nothing; the request estimate printed before a full run is the
//! count report.json ends with, within 5%.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use crate::early::counting_listener;
use integrations_conformance::case::Case;
use integrations_conformance::plan;
use integrations_conformance::rules::Rules;
use integrations_conformance::runner::{self, RunOptions, Verdict};
use integrations_conformance::server::{Fault, Reach, ServerConfig};
use serde_json::Value;

use crate::cli::{conformance_in, read_json, scratch};
use crate::fixture;

/// The most requests a quick run of the whole selection may send (exploration's apart; it
/// measured 577-579, planned 567, since the run's plan shares setups and verification reads).
const QUICK_LIMIT: usize = 600;

/// Faults of the fixed suite the quick run misses, each with the reason. One reason for all: a
/// rule is exercised by one case per family, the cheapest, and these faults break only other
/// variants of the rule (a rule names what is checked, not every input that can break it).
const MISSED: &[(&str, &str)] = &[
    (
        "pretty-skips-masking",
        "4.masked-everywhere runs under envelope=true, 3.pretty as pretty-default-compact",
    ),
    (
        "page-num-bounded-to-i64",
        "8.page-num-unbounded runs as page-far-past-end, within 64 bits",
    ),
    (
        "signed-integers-ignored",
        "3.page-parameters runs as default-parameters",
    ),
    (
        "pretty-ignored",
        "3.pretty runs as pretty-default-compact (the fault is on pretty=true)",
    ),
    (
        "trailing-bytes-ignored",
        "5.malformed-json runs a NaN or Infinity literal",
    ),
    (
        "other-project-readable",
        "5.no-access runs as a refused create (the fault reads)",
    ),
    (
        "token-grant-type-unchecked",
        "the token rules run as token-endpoint-unknown-client",
    ),
    (
        "token-any-client-secret",
        "the token rules run as token-endpoint-unknown-client",
    ),
    (
        "required-null-accepted",
        "2.required-fields runs missing fields, not null ones",
    ),
    (
        "enum-first-members-only",
        "2.enum-members-accepted runs as accepts-full (first members)",
    ),
    (
        "type-mismatch-accepted",
        "5.invalid-json runs as array-body, no field of the wrong type",
    ),
    (
        "failed-update-partially-applied",
        "the refused-body rules run as creates, not updates",
    ),
    (
        "v2-update-stores-id",
        "2.v2-id-kept runs a null id, not a string one",
    ),
];

/// Faults that the quick run catches in some runs only (see below).
const RACES: &[&str] = &["update-not-atomic"];

/// Every (rule, family) pair the cases `ids` (with their families) exercise.
fn pairs<'a>(cases: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeSet<(String, String)> {
    let rules = Rules::shared();
    let mut out = BTreeSet::new();
    for (id, family) in cases {
        for r in rules.of_case(id) {
            out.insert((r.to_owned(), family.to_owned()));
        }
    }
    out
}

#[test]
fn a_quick_run_exercises_every_rule_of_the_full_run_on_every_family_in_few_requests() {
    let dir = scratch("quick-run");
    let ran = conformance_in(&dir, &["run", "--quick", "--report-dir", "r"], &[]);
    assert_eq!(ran.code, 0, "{ran:?}");
    assert!(ran.stdout.contains("quick run: "), "{}", ran.stdout);
    let doc = read_json(&dir.join("r/report.json"));
    crate::report::assert_valid(&doc);
    let quick = &doc["quick"];
    let (selected, left_out) = (&quick["selected"], &quick["left_out"]);
    assert_eq!(
        selected.as_u64(),
        Some(fixture::cases().len() as u64),
        "{quick}"
    );
    let cases = doc["cases"].as_array().expect("cases");
    assert_eq!(
        left_out.as_u64().unwrap() + cases.len() as u64,
        selected.as_u64().unwrap() + 1,
        "the cases run and left out make the selection (and the exploration entry): {quick}"
    );
    let full = pairs(
        fixture::cases()
            .iter()
            .map(|c| (c.id.as_str(), c.family.as_str())),
    );
    let ran_pairs = pairs(cases.iter().map(|c| {
        (
            c["id"].as_str().unwrap_or_default(),
            c["family"].as_str().unwrap_or_default(),
        )
    }));
    let missing: Vec<_> = full.difference(&ran_pairs).collect();
    assert!(missing.is_empty(), "not exercised: {missing:?}");
    for rule in doc["rules"].as_array().expect("rules") {
        assert_eq!(rule["status"], "passed", "{rule}");
    }
    let requests = doc["requests"].as_u64().unwrap() as usize;
    eprintln!(
        "quick run: {} cases, {requests} requests (planned {}), full selection {} cases",
        cases.len() - 1,
        quick["planned_requests"],
        selected
    );
    assert!(requests <= QUICK_LIMIT, "{requests} requests");
    let md = std::fs::read_to_string(dir.join("r/report.md")).expect("report.md");
    assert!(
        md.contains("quick run: "),
        "report.md says it was a quick run"
    );
}

#[test]
fn a_request_budget_is_honoured_and_names_the_rules_it_left_out() {
    let dir = scratch("quick-budget");
    let args = [
        "run",
        "--max-requests",
        "300",
        "--explore-steps",
        "0",
        "--report-dir",
        "r",
    ];
    let ran = conformance_in(&dir, &args, &[]);
    assert_eq!(ran.code, 0, "{ran:?}");
    let doc = read_json(&dir.join("r/report.json"));
    let requests = doc["requests"].as_u64().unwrap();
    // The plan counts as the runner sends, within a few requests (a nonce the target ends
    // early costs one challenge more).
    assert!(requests <= 310, "{requests} requests for a budget of 300");
    let uncovered = doc["quick"]["uncovered"].as_array().expect("uncovered");
    assert!(!uncovered.is_empty());
    // A rule the budget left out on every family is not run, and says why.
    let cut = doc["rules"].as_array().unwrap().iter().find(|r| {
        r["status"] == "not-run"
            && r["reason"]
                .as_str()
                .is_some_and(|why| why.contains("--max-requests 300"))
    });
    assert!(cut.is_some(), "{uncovered:?}");
}

/// The quick selection the command line makes against the embedded server.
fn quick_cases() -> Vec<Case> {
    let cases = fixture::cases();
    let model = &fixture::harness().model;
    let cover = plan::cover(model, Rules::shared(), cases, &|_| true, None);
    cover.chosen.iter().map(|&i| cases[i].clone()).collect()
}

async fn failed_with(cases: &[Case], fault: Fault) -> usize {
    let server = fixture::server_with(ServerConfig {
        faults: vec![fault],
        ..Default::default()
    })
    .await;
    let target = server.target().expect("target");
    let report = runner::run(fixture::harness(), cases, &target, &RunOptions::default())
        .await
        .expect("the run completes");
    server.shutdown().await.ok();
    report
        .outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Failed)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quick_run_still_catches_the_faults_of_the_fixed_suite() {
    let cases = quick_cases();
    // Five faults of five categories, through the command line as a user runs them.
    let dir = scratch("quick-faults");
    for fault in [
        "secret-in-clear-on-get",
        "total-count-counts-page",
        "envelope-ignored",
        "malformed-json-500",
        "page-num-zero-based",
    ] {
        let args = ["run", "--quick", "--fault", fault, "--report-dir", "r"];
        let ran = conformance_in(&dir, &args, &[]);
        assert_eq!(ran.code, 1, "{fault} is not caught: {ran:?}");
    }
    // Every fault the fixed suite must catch, through the library (seconds, not minutes).
    let mut missed = Vec::new();
    for fault in Fault::ALL.iter().filter(|f| f.reach() == Reach::Fixed) {
        if failed_with(&cases, *fault).await == 0 {
            missed.push(fault.name());
        }
    }
    eprintln!("faults the quick run misses: {missed:?}");
    // A race the quick run's one case per family meets by chance, not in every run (the full
    // suite's several concurrency cases meet it every time).
    missed.retain(|f| !RACES.contains(f));
    let known: Vec<&str> = MISSED.iter().map(|(f, _)| *f).collect();
    assert_eq!(missed, known, "the quick run's misses changed");
}

#[test]
fn a_dry_run_prints_the_plan_and_sends_nothing() {
    let dir = scratch("quick-dry-run");
    let (url, count) = counting_listener();
    let project = "0123456789abcdef01234567";
    let args = [
        "run",
        "--dry-run",
        "--quick",
        "--target",
        &url,
        "--auth",
        "digest:public:private",
        "--group-id",
        project,
        "--cm-group-id",
        project,
        "--rate",
        "5",
        "--report-dir",
        "r",
    ];
    let ran = conformance_in(&dir, &args, &[]);
    assert_eq!(ran.code, 0, "{ran:?}");
    assert!(ran.stdout.starts_with("plan: "), "{}", ran.stdout);
    assert!(ran.stdout.contains("at --rate 5"), "{}", ran.stdout);
    assert!(ran.stdout.contains("dry run: nothing was sent"));
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(
        count.load(Ordering::SeqCst),
        0,
        "the target saw a connection"
    );
    assert!(!dir.join("r").exists(), "a dry run writes nothing");
    // Without a target: the embedded server is not even started, and every case is planned.
    let ran = conformance_in(&dir, &["run", "--dry-run"], &[]);
    assert_eq!(ran.code, 0, "{ran:?}");
    let listed = ran.stdout.lines().filter(|l| l.starts_with(' ')).count();
    assert_eq!(listed, fixture::cases().len(), "one line per case");
    // A baseline written from a quick run would lose the failures of what it left out.
    let ran = conformance_in(&dir, &["run", "--quick", "--write-baseline", "b.txt"], &[]);
    crate::cli::assert_one_line_reason(&ran, "--write-baseline");
    assert!(!dir.join("b.txt").exists());
}

/// The number in `plan: N cases, about R requests`.
fn planned(stderr: &str) -> usize {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("conformance: plan: "))
        .unwrap_or_else(|| panic!("no plan line: {stderr}"));
    let after = &line[line.find("about ").expect("about") + 6..];
    after[..after.find(' ').unwrap()].parse().expect("a number")
}

#[test]
fn the_printed_estimate_is_the_full_runs_request_count_within_five_percent() {
    let dir = scratch("quick-estimate");
    let args = ["run", "--explore-steps", "0", "--report-dir", "r"];
    let ran = conformance_in(&dir, &args, &[]);
    assert_eq!(ran.code, 0, "{ran:?}");
    let estimate = planned(&ran.stderr) as f64;
    let doc: Value = read_json(&dir.join("r/report.json"));
    let sent = doc["requests"].as_u64().unwrap() as f64;
    eprintln!("full run: estimated {estimate} requests, sent {sent}");
    assert!(
        (estimate - sent).abs() <= sent * 0.05,
        "estimated {estimate}, sent {sent}"
    );
}
