//! Hostile targets: a conformance harness meets broken servers by design. Each test puts a local
//! misbehaving server (loopback, port 0) in front of the runner, or a proxy in front of the
//! reference server, and proves the harness neither hangs, nor crashes, nor runs out of memory,
//! nor leaks credentials, nor leaves the user's project changed.
//!
//! "Could not judge" (the CLI's exit 2) is `runner::run` returning an error: the target failed
//! the very first request, the list the runner takes stock of the project with. Where that is
//! the outcome, a second test lets that first request through (a valid empty list) so the
//! misbehaviour meets the cases, which must then fail with a clear finding.
//!
//! Tests driving the `conformance` binary are at the end.

mod cli;
mod gateway;
mod proxy;
mod reference;
mod tcp;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use integrations_conformance::auth::AuthSpec;
use integrations_conformance::case::{self, Case, Category, Lane};
use integrations_conformance::runner::{self, Harness, RunOptions, RunReport, Verdict};
use integrations_conformance::target::{self, Target};
use integrations_conformance::Error;

use self::proxy::{Hook, Proxy};
use self::reference::{Reference, PRE_EXISTING_KEY, PRE_EXISTING_TYPE};
use self::tcp::{Action, Head, RawServer};

static HARNESS: LazyLock<Harness> = LazyLock::new(|| Harness::bundled().expect("bundled spec"));
static CASES: LazyLock<Vec<Case>> = LazyLock::new(|| case::generate(&HARNESS.model));

const ATLAS_GROUP: &str = "5f1a2b3c4d5e6f7081920a01";
const CM_GROUP: &str = "5f1a2b3c4d5e6f7081920a02";
const OTHER_GROUP: &str = "5f1a2b3c4d5e6f7081920a03";
const OWNER_PUBLIC: &str = "hostpubowner";
const OWNER_PRIVATE: &str = "0a1b2c3d-owner-private-4e5f6a7b8c9d";
const RO_PUBLIC: &str = "hostpubreader";
const RO_PRIVATE: &str = "9f8e7d6c-reader-private-5b4a3f2e1d0c";
const BEARER: &str = "bearer-token-6c1d0e9f8a7b-never-print-me";

/// A target on a hostile server with made-up projects and digest credentials.
fn target_at(url: &str) -> Target {
    Target {
        base_url: target::parse_base_url(url).expect("url"),
        atlas_group_id: Some(ATLAS_GROUP.into()),
        cm_group_id: Some(CM_GROUP.into()),
        other_group_id: Some(OTHER_GROUP.into()),
        auth: AuthSpec::Digest {
            public: OWNER_PUBLIC.into(),
            private: OWNER_PRIVATE.into(),
        },
        read_only: Some(AuthSpec::Digest {
            public: RO_PUBLIC.into(),
            private: RO_PRIVATE.into(),
        }),
        token_expirer: None,
        expired_token: None,
        nonce_expirer: None,
        oauth_client: None,
        insecure: false,
        use_env_proxy: false,
        gateway: Default::default(),
    }
}

fn opts(timeout: Duration, deadline: Duration) -> RunOptions {
    RunOptions {
        timeout,
        deadline: Some(deadline),
        ..RunOptions::default()
    }
}

/// `n` cloud-manager cases of one request each that touch no project (bad group ids and the
/// like): the cheapest cases to meet a misbehaving server with.
fn one_request_cases(n: usize) -> Vec<Case> {
    let picked: Vec<Case> = CASES
        .iter()
        .filter(|c| {
            c.family == "cloud-manager"
                && c.lane == Lane::Stateless
                && c.steps.len() == 1
                && c.requires.is_empty()
        })
        .take(n)
        .cloned()
        .collect();
    assert_eq!(picked.len(), n, "not enough one-request cases");
    picked
}

/// The cases with these ids (each must exist).
fn cases_named(ids: &[&str]) -> Vec<Case> {
    ids.iter()
        .map(|id| {
            CASES
                .iter()
                .find(|c| c.id == *id)
                .unwrap_or_else(|| panic!("no case {id}"))
                .clone()
        })
        .collect()
}

/// Runs with a 30 s safety net (a hang fails the test instead of the suite).
async fn run_timed(
    target: &Target,
    cases: &[Case],
    opts: &RunOptions,
) -> (Result<RunReport, Error>, Duration) {
    let started = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        runner::run(&HARNESS, cases, target, opts),
    )
    .await
    .expect("the run hung for 30 s");
    (result, started.elapsed())
}

/// The message of a could-not-judge run; panics if the run judged anything.
#[track_caller]
fn could_not_judge(result: Result<RunReport, Error>) -> String {
    match result {
        Err(e) => e.to_string(),
        Ok(r) => panic!(
            "expected the run to stop at the first request, got {} outcomes: {:?}",
            r.outcomes.len(),
            findings(&r)
        ),
    }
}

/// Every finding as `case [check] message | actual`.
fn findings(report: &RunReport) -> Vec<String> {
    report
        .outcomes
        .iter()
        .flat_map(|o| {
            o.findings.iter().map(move |f| {
                format!(
                    "{} [{}] {} | {}",
                    o.id,
                    f.check,
                    f.message,
                    f.actual.as_deref().unwrap_or("")
                )
            })
        })
        .collect()
}

/// Every case ran and failed, each with a finding of `check` whose text contains `needle`.
#[track_caller]
fn every_case_failed_with(report: &RunReport, n: usize, check: &str, needle: &str) {
    assert_eq!(report.outcomes.len(), n);
    for o in &report.outcomes {
        assert_eq!(o.verdict, Verdict::Failed, "{}: {:?}", o.id, o.findings);
        assert!(
            o.findings.iter().any(|f| f.check == check
                && format!("{} {}", f.message, f.actual.as_deref().unwrap_or("")).contains(needle)),
            "{}: no [{check}] finding mentioning {needle:?}: {:?}",
            o.id,
            o.findings
        );
    }
}

fn baseline_then(
    act: impl Fn(&Head) -> Action + Send + Sync + 'static,
) -> impl Fn(&Head) -> Action {
    move |h: &Head| {
        if h.is_list() {
            Action::empty_list()
        } else {
            act(h)
        }
    }
}

fn ok_head(extra: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{extra}\r\n").into_bytes()
}

// ---------------------------------------------------------------------------------------------
// 1. accepts, never answers
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_silent_target_cannot_be_judged_within_the_timeout() {
    let srv = RawServer::start(|_| Action::Hang).await;
    let (result, elapsed) = run_timed(
        &target_at(&srv.url()),
        &one_request_cases(3),
        &opts(Duration::from_secs(1), Duration::from_secs(3)),
    )
    .await;
    let msg = could_not_judge(result);
    assert!(
        msg.contains("cannot reach") && msg.contains("timed out"),
        "{msg}"
    );
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    assert_eq!(
        srv.requests().len(),
        1,
        "one request, no retry of a timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_silent_cases_fail_with_a_timeout_and_the_deadline_bounds_the_run() {
    let srv = RawServer::start(baseline_then(|_| Action::Hang)).await;
    let cases = one_request_cases(12);
    let (result, elapsed) = run_timed(
        &target_at(&srv.url()),
        &cases,
        &opts(Duration::from_millis(700), Duration::from_secs(2)),
    )
    .await;
    let report = result.expect("the list was answered: the run judges");
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");
    assert!(report.deadline_reached);
    let failed: Vec<_> = report
        .outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Failed)
        .collect();
    assert!(!failed.is_empty());
    for o in &failed {
        let f = &o.findings[0];
        assert_eq!(f.check, "transport", "{}: {:?}", o.id, o.findings);
        let actual = f.actual.as_deref().unwrap_or("");
        assert!(
            actual.contains("timed out") || actual.contains("deadline"),
            "{actual}"
        );
    }
    assert!(report.outcomes.iter().any(|o| matches!(
        &o.verdict,
        Verdict::Skipped(r) if r.contains("deadline was reached")
    )));
    assert_eq!(
        report
            .outcomes
            .iter()
            .filter(|o| o.verdict == Verdict::Passed)
            .count(),
        0
    );
}

// ---------------------------------------------------------------------------------------------
// 2. slow loris
// ---------------------------------------------------------------------------------------------

fn slow_response() -> Vec<u8> {
    let body = r#"{"links":[],"results":[],"totalCount":0}"#;
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_slow_loris_head_times_out_per_request() {
    let srv = RawServer::start(|_| Action::Trickle {
        fast: Vec::new(),
        slow: slow_response(),
        every: Duration::from_secs(1),
    })
    .await;
    let (result, elapsed) = run_timed(
        &target_at(&srv.url()),
        &one_request_cases(2),
        &opts(Duration::from_millis(1500), Duration::from_secs(5)),
    )
    .await;
    let msg = could_not_judge(result);
    assert!(msg.contains("timed out"), "{msg}");
    assert!(
        elapsed >= Duration::from_millis(1400) && elapsed < Duration::from_millis(2500),
        "{elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_slow_loris_body_fails_the_cases_with_a_transport_finding() {
    let srv = RawServer::start(baseline_then(|_| {
        let all = slow_response();
        let split = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        Action::Trickle {
            fast: all[..split].to_vec(),
            slow: all[split..].to_vec(),
            every: Duration::from_secs(1),
        }
    }))
    .await;
    let (result, elapsed) = run_timed(
        &target_at(&srv.url()),
        &one_request_cases(2),
        &opts(Duration::from_secs(1), Duration::from_secs(5)),
    )
    .await;
    let report = result.expect("the list was answered");
    // Two cases in two lanes: one timeout each, concurrently.
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");
    every_case_failed_with(&report, 2, "transport", "timed out");
}

/// The first request's body trickles: the run stops, and the reason must say the body timed
/// out (not that the target's list "is not JSON").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_slow_loris_body_at_the_first_request_says_timed_out() {
    let srv = RawServer::start(|_| {
        let all = slow_response();
        let split = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        Action::Trickle {
            fast: all[..split].to_vec(),
            slow: all[split..].to_vec(),
            every: Duration::from_secs(1),
        }
    })
    .await;
    let (result, elapsed) = run_timed(
        &target_at(&srv.url()),
        &one_request_cases(2),
        &opts(Duration::from_secs(1), Duration::from_secs(5)),
    )
    .await;
    let msg = could_not_judge(result);
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    assert!(msg.contains("timed out"), "{msg}");
}

// ---------------------------------------------------------------------------------------------
// 3. not HTTP; 4. connection reset / refused
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_garbage_instead_of_http() {
    let garbage = || Action::Close(b"garbage\r\n\r\n".to_vec());
    let srv = RawServer::start(move |_| garbage()).await;
    let (result, elapsed) = run_timed(
        &target_at(&srv.url()),
        &one_request_cases(2),
        &opts(Duration::from_secs(2), Duration::from_secs(5)),
    )
    .await;
    let msg = could_not_judge(result);
    assert!(msg.contains("cannot reach"), "{msg}");
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");

    let srv = RawServer::start(baseline_then(move |_| garbage())).await;
    let (result, elapsed) = run_timed(
        &target_at(&srv.url()),
        &one_request_cases(2),
        &opts(Duration::from_secs(2), Duration::from_secs(5)),
    )
    .await;
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    every_case_failed_with(&result.expect("judged"), 2, "transport", "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_connection_reset_and_refused() {
    let srv = RawServer::start(|_| Action::Reset).await;
    let (result, elapsed) = run_timed(
        &target_at(&srv.url()),
        &one_request_cases(2),
        &opts(Duration::from_secs(2), Duration::from_secs(5)),
    )
    .await;
    let msg = could_not_judge(result);
    assert!(msg.contains("cannot reach"), "{msg}");
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");

    let srv = RawServer::start(baseline_then(|_| Action::Reset)).await;
    let (result, elapsed) = run_timed(
        &target_at(&srv.url()),
        &one_request_cases(2),
        &opts(Duration::from_secs(2), Duration::from_secs(5)),
    )
    .await;
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    every_case_failed_with(&result.expect("judged"), 2, "transport", "");

    // Nobody listens at all.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (result, elapsed) = run_timed(
        &target_at(&format!("http://127.0.0.1:{port}")),
        &one_request_cases(2),
        &opts(Duration::from_secs(2), Duration::from_secs(5)),
    )
    .await;
    let msg = could_not_judge(result);
    assert!(
        msg.contains("cannot reach") && msg.contains("could not connect"),
        "{msg}"
    );
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
}

// ---------------------------------------------------------------------------------------------
// 5. redirect loop
// ---------------------------------------------------------------------------------------------

fn redirect_to_self(h: &Head) -> Action {
    Action::Respond {
        status: 302,
        headers: vec![("location".into(), h.target.clone())],
        body: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_redirect_loop_is_not_followed() {
    let srv = RawServer::start(redirect_to_self).await;
    let (result, elapsed) = run_timed(
        &target_at(&srv.url()),
        &one_request_cases(2),
        &opts(Duration::from_secs(2), Duration::from_secs(5)),
    )
    .await;
    let msg = could_not_judge(result);
    assert!(msg.contains("answered 302"), "{msg}");
    assert_eq!(srv.requests().len(), 1, "the redirect was followed");
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");

    let srv = RawServer::start(baseline_then(redirect_to_self)).await;
    let (result, elapsed) = run_timed(
        &target_at(&srv.url()),
        &one_request_cases(3),
        &opts(Duration::from_secs(2), Duration::from_secs(5)),
    )
    .await;
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    let report = result.expect("judged");
    every_case_failed_with(&report, 3, "status_code_conformance", "302");
    assert_eq!(
        srv.requests().len(),
        1 + 3,
        "one list, one request per case"
    );
}

// ---------------------------------------------------------------------------------------------
// 6. HTML
// ---------------------------------------------------------------------------------------------

fn html(_: &Head) -> Action {
    Action::Respond {
        status: 200,
        headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
        body: b"<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>".to_vec(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_html_to_everything() {
    let srv = RawServer::start(html).await;
    let (result, _) = run_timed(
        &target_at(&srv.url()),
        &one_request_cases(2),
        &opts(Duration::from_secs(2), Duration::from_secs(5)),
    )
    .await;
    let msg = could_not_judge(result);
    assert!(
        msg.contains("is not JSON") && msg.contains("/api/public/v1.0"),
        "{msg}"
    );
    assert!(!msg.contains('\n'), "{msg}");

    let srv = RawServer::start(baseline_then(html)).await;
    let (result, _) = run_timed(
        &target_at(&srv.url()),
        &one_request_cases(2),
        &opts(Duration::from_secs(2), Duration::from_secs(5)),
    )
    .await;
    let report = result.expect("judged");
    // The one-request cases expect an error: a 200 is the first thing wrong, and the HTML is
    // named in what the findings say.
    every_case_failed_with(&report, 2, "status_code_conformance", "200");
    let all = findings(&report).join("\n");
    assert!(all.contains("Welcome to nginx"), "{all}");
}

// ---------------------------------------------------------------------------------------------
// 7. gigabytes
// ---------------------------------------------------------------------------------------------

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_endless_bodies_are_capped() {
    let before = rss_kib();
    let (cap_len, chunked) = (
        ok_head("content-length: 10000000000\r\n"),
        ok_head("transfer-encoding: chunked\r\n"),
    );
    // At the first request: the run stops, quickly.
    for (head, is_chunked) in [(cap_len.clone(), false), (chunked.clone(), true)] {
        let srv = RawServer::start(move |_| {
            if is_chunked {
                Action::EndlessChunked(head.clone())
            } else {
                Action::Endless(head.clone())
            }
        })
        .await;
        let (result, elapsed) = run_timed(
            &target_at(&srv.url()),
            &one_request_cases(2),
            &opts(Duration::from_secs(5), Duration::from_secs(8)),
        )
        .await;
        let msg = could_not_judge(result);
        assert!(msg.contains("/api/public/v1.0"), "{msg}");
        assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    }
    // In the cases: a response_size finding each.
    for (head, is_chunked) in [(cap_len, false), (chunked, true)] {
        let srv = RawServer::start(baseline_then(move |_| {
            if is_chunked {
                Action::EndlessChunked(head.clone())
            } else {
                Action::Endless(head.clone())
            }
        }))
        .await;
        let (result, elapsed) = run_timed(
            &target_at(&srv.url()),
            &one_request_cases(4),
            &opts(Duration::from_secs(5), Duration::from_secs(8)),
        )
        .await;
        let report = result.expect("judged");
        assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
        every_case_failed_with(&report, 4, "response_size", "");
        for o in &report.outcomes {
            let r = o.exchanges[0].response.as_ref().expect("a response");
            assert!(r.truncated);
            assert_eq!(r.body.len(), RunOptions::default().body_cap);
        }
    }
    let after = rss_kib();
    // Six bodies of gigabytes were met; the process grew by far less than one of them. Other
    // tests run in this process too, so the bound is loose.
    assert!(
        after.saturating_sub(before) < 300 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
}

/// A list that is valid JSON as far as the cap: the reason must name the size cap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_endless_list_names_the_size_cap() {
    let srv = RawServer::start(|_| {
        let mut head = ok_head("content-length: 10000000000\r\n");
        head.extend_from_slice(br#"{"links":[],"totalCount":0,"results":["#);
        Action::Endless(head)
    })
    .await;
    let (result, _) = run_timed(
        &target_at(&srv.url()),
        &one_request_cases(2),
        &opts(Duration::from_secs(5), Duration::from_secs(8)),
    )
    .await;
    let msg = could_not_judge(result);
    assert!(
        msg.contains("size") || msg.contains("cap") || msg.contains("too large"),
        "{msg}"
    );
}

// ---------------------------------------------------------------------------------------------
// 8. 500 to everything
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_500_to_everything_is_one_clear_line() {
    let srv = RawServer::start(|_| {
        Action::json(
            500,
            &serde_json::json!({"error": 500, "detail": "boom\nstack trace\n  at Foo.bar"}),
        )
    })
    .await;
    let (result, elapsed) = run_timed(
        &target_at(&srv.url()),
        &one_request_cases(2),
        &opts(Duration::from_secs(2), Duration::from_secs(5)),
    )
    .await;
    let msg = could_not_judge(result);
    assert!(msg.contains("answered 500"), "{msg}");
    assert!(!msg.contains('\n'), "not one line: {msg:?}");
    assert!(elapsed < Duration::from_secs(1));
}

// ---------------------------------------------------------------------------------------------
// 9. 429
// ---------------------------------------------------------------------------------------------

fn too_many(after: &str) -> Hook {
    Hook::Reply {
        status: 429,
        headers: vec![
            ("retry-after", after.to_owned()),
            ("content-type", "application/json".to_owned()),
        ],
        body: r#"{"error":429,"errorCode":"RATE_LIMITED","detail":"slow down","parameters":[],"reason":"Too Many Requests"}"#.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_429_retry_after_is_honoured_then_the_run_passes() {
    let reference = Reference::start().await;
    let budget = Arc::new(AtomicUsize::new(2));
    let b = budget.clone();
    let proxy = Proxy::start(&reference.srv.base_url, move |_, _| {
        if b.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            too_many("1")
        } else {
            Hook::Forward
        }
    })
    .await;
    let mut cases = one_request_cases(2);
    cases.extend(cases_named(&[
        "cloud-manager/cmCreateIntegration/slack-round-trip",
    ]));
    let (result, elapsed) = run_timed(
        &reference.target_via(&proxy.url),
        &cases,
        &RunOptions {
            jobs: 1,
            ..opts(Duration::from_secs(2), Duration::from_secs(8))
        },
    )
    .await;
    let report = result.expect("judged");
    assert_eq!(report.passed(), cases.len(), "{:?}", findings(&report));
    let log = proxy.log();
    assert_eq!(log.iter().filter(|s| s.intercepted).count(), 2);
    assert_eq!(report.requests, log.len(), "every retry is counted");
    assert!(
        elapsed >= Duration::from_secs(2),
        "the waits were not honoured: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    assert!(reference
        .snapshot()
        .iter()
        .all(|(g, i)| { *g == reference.srv.credentials.other_group_id || i.is_empty() }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_429_forever_is_retried_three_times_then_a_finding() {
    let reference = Reference::start().await;
    let proxy = Proxy::start(&reference.srv.base_url, |method, path| {
        if method == "GET" && path.ends_with("/integrations") {
            Hook::Forward
        } else {
            too_many("1")
        }
    })
    .await;
    let cases = one_request_cases(1);
    let (result, elapsed) = run_timed(
        &reference.target_via(&proxy.url),
        &cases,
        &opts(Duration::from_secs(2), Duration::from_secs(8)),
    )
    .await;
    let report = result.expect("judged");
    every_case_failed_with(&report, 1, "status_code_conformance", "429");
    let refused = proxy.log().iter().filter(|s| s.intercepted).count();
    assert_eq!(refused, 1 + 3, "one request and three retries");
    assert!(
        elapsed >= Duration::from_secs(3) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_429_with_a_long_retry_after_stops_at_the_deadline() {
    let reference = Reference::start().await;
    let proxy = Proxy::start(&reference.srv.base_url, |method, path| {
        if method == "GET" && path.ends_with("/integrations") {
            Hook::Forward
        } else {
            too_many("20")
        }
    })
    .await;
    let (result, elapsed) = run_timed(
        &reference.target_via(&proxy.url),
        &one_request_cases(1),
        &RunOptions {
            retry_after_cap: Duration::from_secs(30),
            ..opts(Duration::from_secs(2), Duration::from_secs(2))
        },
    )
    .await;
    let report = result.expect("judged");
    every_case_failed_with(&report, 1, "status_code_conformance", "429");
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");
    assert_eq!(proxy.log().iter().filter(|s| s.intercepted).count(), 1);
}

// ---------------------------------------------------------------------------------------------
// 10. rate
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_rate_cap_spaces_the_requests() {
    let reference = Reference::start().await;
    let cases = cases_named(&[
        "cloud-manager/cmCreateIntegration/slack-round-trip",
        "cloud-manager/cmCreateIntegration/webhook-round-trip",
        "cloud-manager/cmCreateIntegration/ops-genie-round-trip",
        "cloud-manager/cmCreateIntegration/victor-ops-round-trip",
    ]);
    // Unpaced, the same run is far faster than the cap would allow.
    let unpaced = RunOptions {
        jobs: 1,
        ..opts(Duration::from_secs(2), Duration::from_secs(8))
    };
    let (result, fast) = run_timed(&reference.target(), &cases, &unpaced).await;
    let report = result.expect("judged");
    assert_eq!(report.passed(), cases.len(), "{:?}", findings(&report));
    let n = report.requests;
    assert!(n >= 36, "only {n} requests");
    let floor = Duration::from_secs_f64((n - 1) as f64 / 20.0);
    assert!(
        fast < floor,
        "unpaced run took {fast:?}: the rate test proves nothing"
    );

    let (result, paced) = run_timed(
        &reference.target(),
        &cases,
        &RunOptions {
            rate: Some(20.0),
            ..unpaced
        },
    )
    .await;
    let report = result.expect("judged");
    assert_eq!(report.passed(), cases.len(), "{:?}", findings(&report));
    assert_eq!(report.requests, n);
    assert!(paced >= floor.mul_f64(0.97), "{n} requests in {paced:?}");
    assert!(
        paced < floor + Duration::from_secs(2),
        "{n} requests in {paced:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 11. cleanup
// ---------------------------------------------------------------------------------------------

/// One case per type (so a case's own cleanup is the last delete of its type), and the
/// pre-existing type's cases.
fn cleanup_cases() -> Vec<Case> {
    let mut cases = cases_named(&[
        "cloud-manager/cmCreateIntegration/slack-round-trip",
        "cloud-manager/cmUpdateIntegration/webhook-update-creates-when-unconfigured",
        "cloud-manager/cmUpdateIntegration/ops-genie-update-creates-when-unconfigured",
    ]);
    let touching_pre_existing: Vec<Case> = CASES
        .iter()
        .filter(|c| {
            c.family == "cloud-manager"
                && c.category == Category::State
                && c.touches.iter().any(|t| t == PRE_EXISTING_TYPE)
        })
        .cloned()
        .collect();
    assert!(touching_pre_existing.len() >= 3);
    cases.extend(touching_pre_existing);
    cases
}

#[track_caller]
fn pre_existing_untouched(report: &RunReport, cases: &[Case]) {
    assert_eq!(
        report.pre_existing.get("cloud-manager"),
        Some(&vec![PRE_EXISTING_TYPE.to_owned()])
    );
    for c in cases
        .iter()
        .filter(|c| c.touches.iter().any(|t| t == PRE_EXISTING_TYPE))
    {
        let o = report.outcomes.iter().find(|o| o.id == c.id).unwrap();
        assert!(
            matches!(&o.verdict, Verdict::Skipped(r) if r.contains("already exists on the target")),
            "{}: {:?}",
            o.id,
            o.verdict
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_failed_deletes_are_swept_and_the_users_integration_is_untouched() {
    let reference = Reference::start().await;
    let shown_before = reference.configure_pre_existing().await;
    let before = reference.snapshot();
    let dropped: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let d = dropped.clone();
    let proxy = Proxy::start(&reference.srv.base_url, move |method, path| {
        if method == "DELETE" && d.lock().unwrap().insert(path.to_owned()) {
            Hook::status(500)
        } else {
            Hook::Forward
        }
    })
    .await;
    let cases = cleanup_cases();
    let (result, _) = run_timed(
        &reference.target_via(&proxy.url),
        &cases,
        &opts(Duration::from_secs(2), Duration::from_secs(8)),
    )
    .await;
    let report = result.expect("judged");
    pre_existing_untouched(&report, &cases);

    // What the sweep must find: the types whose last delete in the cases was a dropped one.
    let mut expected_swept = BTreeSet::new();
    for ex in report
        .outcomes
        .iter()
        .flat_map(|o| &o.exchanges)
        .filter(|e| e.method == "DELETE")
    {
        let t = format!("cloud-manager {}", ex.url.rsplit('/').next().unwrap());
        match ex.response.as_ref().map(|r| r.status) {
            Some(500) => expected_swept.insert(t),
            _ => expected_swept.remove(&t),
        };
    }
    let dropped: Vec<(String, String)> = proxy
        .log()
        .into_iter()
        .filter(|s| s.intercepted)
        .map(|s| (s.method, s.path))
        .collect();
    let distinct: BTreeSet<&String> = dropped.iter().map(|(_, p)| p).collect();
    assert!(dropped.iter().all(|(m, _)| m == "DELETE"), "{dropped:?}");
    assert_eq!(
        distinct.len(),
        3,
        "one dropped delete per type: {dropped:?}"
    );
    assert_eq!(dropped.len(), 3, "one dropped delete per type: {dropped:?}");
    assert!(!expected_swept.is_empty(), "no case left anything behind");
    let swept: BTreeSet<String> = report.swept.iter().cloned().collect();
    assert_eq!(swept, expected_swept);
    assert!(
        report.not_cleaned_up.is_empty(),
        "{:?}",
        report.not_cleaned_up
    );
    assert!(report
        .outcomes
        .iter()
        .any(|o| !o.cleanup_failures.is_empty()));

    assert_eq!(reference.snapshot(), before, "the project changed");
    assert_eq!(reference.show_pre_existing().await, shown_before);
    let stored = reference.srv.state.integrations(&reference.cm_group());
    assert_eq!(stored[0].fields["serviceKey"], PRE_EXISTING_KEY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_deletes_that_always_fail_are_reported_not_cleaned_up() {
    let reference = Reference::start().await;
    let shown_before = reference.configure_pre_existing().await;
    let before = reference.snapshot();
    let proxy = Proxy::start(&reference.srv.base_url, |method, _| {
        if method == "DELETE" {
            Hook::status(500)
        } else {
            Hook::Forward
        }
    })
    .await;
    let cases = cleanup_cases();
    let (result, _) = run_timed(
        &reference.target_via(&proxy.url),
        &cases,
        &opts(Duration::from_secs(2), Duration::from_secs(8)),
    )
    .await;
    let report = result.expect("judged");
    pre_existing_untouched(&report, &cases);
    assert!(report.swept.is_empty(), "{:?}", report.swept);

    let left: BTreeSet<String> = reference
        .srv
        .state
        .integrations(&reference.cm_group())
        .into_iter()
        .map(|i| i.type_name)
        .filter(|t| t != PRE_EXISTING_TYPE)
        .collect();
    assert_eq!(
        left,
        ["OPS_GENIE", "SLACK", "WEBHOOK"].map(String::from).into(),
        "what the run left behind"
    );
    let reported: BTreeSet<String> = report
        .not_cleaned_up
        .iter()
        .map(|e| {
            let (what, why) = e.split_once(": ").expect("`family TYPE: why`");
            assert_eq!(why, "delete answered 500", "{e}");
            what.strip_prefix("cloud-manager ").expect(e).to_owned()
        })
        .collect();
    assert_eq!(reported, left);
    // The user's integration is as it was (the rest of the project is what the report names).
    assert_eq!(reference.show_pre_existing().await, shown_before);
    let pre = |s: &[(String, Vec<integrations_conformance::server::Integration>)]| {
        s.iter()
            .flat_map(|(_, i)| i.iter())
            .filter(|i| i.type_name == PRE_EXISTING_TYPE)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(pre(&reference.snapshot()), pre(&before));
}

/// The deadline passes while a case holds an integration it created: its cleanup, and the
/// final sweep, must still remove it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_deadline_mid_case_still_cleans_up() {
    let reference = Reference::start().await;
    let before = reference.snapshot();
    let proxy = Proxy::start(&reference.srv.base_url, |method, path| {
        if method == "GET" && path.ends_with("/integrations/SLACK") {
            Hook::Delay(Duration::from_millis(1500))
        } else {
            Hook::Forward
        }
    })
    .await;
    let cases =
        cases_named(&["cloud-manager/cmUpdateIntegration/slack-update-creates-when-unconfigured"]);
    let (result, elapsed) = run_timed(
        &reference.target_via(&proxy.url),
        &cases,
        &opts(Duration::from_secs(5), Duration::from_secs(1)),
    )
    .await;
    let report = result.expect("judged");
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    assert!(
        report.not_cleaned_up.is_empty(),
        "left behind: {:?}",
        report.not_cleaned_up
    );
    assert_eq!(reference.snapshot(), before, "the project changed");
}

// ---------------------------------------------------------------------------------------------
// 12. interrupt (library; the CLI's SIGINT test is at the end)
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_cancel_mid_run_leaves_the_project_as_it_was() {
    let reference = Reference::start().await;
    let shown_before = reference.configure_pre_existing().await;
    let before = reference.snapshot();
    // Slow every request a little so the run is well under way when it is cancelled.
    let proxy = Proxy::start(&reference.srv.base_url, |_, _| {
        Hook::Delay(Duration::from_millis(15))
    })
    .await;
    let cases: Vec<Case> = CASES
        .iter()
        .filter(|c| c.family == "cloud-manager" && c.category == Category::State)
        .cloned()
        .collect();
    let cancel = Arc::new(AtomicBool::new(false));
    let c = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        c.store(true, Ordering::SeqCst);
    });
    let (result, elapsed) = run_timed(
        &reference.target_via(&proxy.url),
        &cases,
        &RunOptions {
            cancel: Some(cancel),
            ..opts(Duration::from_secs(2), Duration::from_secs(20))
        },
    )
    .await;
    let report = result.expect("judged");
    assert!(report.interrupted);
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    let ran = report
        .outcomes
        .iter()
        .filter(|o| !matches!(o.verdict, Verdict::Skipped(_)))
        .count();
    let interrupted = report
        .outcomes
        .iter()
        .filter(|o| matches!(&o.verdict, Verdict::Skipped(r) if r.contains("interrupted")))
        .count();
    assert!(
        ran > 0 && interrupted > 0,
        "ran {ran}, interrupted {interrupted}"
    );
    assert!(
        report.not_cleaned_up.is_empty(),
        "{:?}",
        report.not_cleaned_up
    );
    assert_eq!(reference.snapshot(), before, "the project changed");
    assert_eq!(reference.show_pre_existing().await, shown_before);
}

// ---------------------------------------------------------------------------------------------
// 13. echo
// ---------------------------------------------------------------------------------------------

/// Answers every request with 200 and a list-like body echoing the request's body and headers;
/// with `in_headers`, also echoes them in response headers. Asks for digest credentials first
/// (so the digest username comes back too).
fn echo(in_headers: bool) -> impl Fn(&Head) -> Action {
    move |h: &Head| {
        if h.header("authorization").is_none() {
            return Action::Respond {
                status: 401,
                headers: vec![(
                    "www-authenticate".into(),
                    r#"Digest realm="echo", nonce="6563686f6563686f6563686f", qop="auth", algorithm=MD5"#
                        .into(),
                )],
                body: Vec::new(),
            };
        }
        let body_text = String::from_utf8_lossy(&h.body).into_owned();
        let echoed: serde_json::Value =
            serde_json::from_slice(&h.body).unwrap_or(serde_json::Value::String(body_text.clone()));
        let headers: serde_json::Map<String, serde_json::Value> = h
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let mut out = vec![("content-type".to_owned(), "application/json".to_owned())];
        if in_headers {
            for (k, v) in &h.headers {
                out.push((format!("x-echo-{k}"), v.clone()));
            }
            if !body_text.contains(['\r', '\n']) && body_text.len() < 4000 {
                out.push(("x-echo-body".into(), body_text));
            }
        }
        Action::Respond {
            status: 200,
            headers: out,
            body: serde_json::json!({
                "links": [], "results": [], "totalCount": 0,
                "echo": echoed, "headers": headers,
            })
            .to_string()
            .into_bytes(),
        }
    }
}

/// [`echo`] as a PHP-style encoder writes it: every `/` escaped as `\/` (valid JSON, the same
/// strings once decoded).
fn echo_escaping_slashes() -> impl Fn(&Head) -> Action {
    let plain = echo(false);
    move |h: &Head| match plain(h) {
        Action::Respond {
            status,
            headers,
            body,
        } => Action::Respond {
            status,
            headers,
            body: String::from_utf8_lossy(&body)
                .replace('/', "\\/")
                .into_bytes(),
        },
        other => other,
    }
}

/// Cases whose secrets hold a `/` (URL secrets).
fn url_secret_cases() -> Vec<Case> {
    let picked: Vec<Case> = CASES
        .iter()
        .filter(|c| {
            c.family == "cloud-manager"
                && c.category == Category::Redaction
                && c.secrets.iter().any(|s| s.contains('/'))
        })
        .take(6)
        .cloned()
        .collect();
    assert!(picked.len() >= 3);
    picked
}

/// Cases that send secrets, from every family and several categories, plus the bodies that
/// carry secret values without being about redaction (a body that is an array, a project
/// without access).
fn secret_cases() -> Vec<Case> {
    let mut picked: Vec<Case> = Vec::new();
    for family in ["cloud-manager", "atlas-v1", "atlas-v2"] {
        for cat in [Category::Redaction, Category::Validation, Category::State] {
            picked.extend(
                CASES
                    .iter()
                    .filter(|c| c.family == family && c.category == cat && !c.secrets.is_empty())
                    .take(2)
                    .cloned(),
            );
        }
        picked.extend(
            CASES
                .iter()
                .filter(|c| {
                    c.family == family
                        && (c.id.ends_with("array-body")
                            || c.id.ends_with("/project-without-access"))
                })
                .cloned(),
        );
    }
    picked
}

/// The secrets (of at least 5 bytes) that occur in `text`: one pass over the text, secrets
/// indexed by their first bytes (thousands of secrets meet megabytes of reports).
fn occurring<'s>(text: &str, secrets: &'s [String]) -> BTreeSet<&'s String> {
    let mut index: std::collections::HashMap<&[u8], Vec<&String>> = Default::default();
    for s in secrets.iter().filter(|s| s.len() >= 5) {
        index.entry(&s.as_bytes()[..5]).or_default().push(s);
    }
    let bytes = text.as_bytes();
    let mut found = BTreeSet::new();
    for i in 0..bytes.len().saturating_sub(4) {
        if let Some(list) = index.get(&bytes[i..i + 5]) {
            found.extend(list.iter().filter(|s| bytes[i..].starts_with(s.as_bytes())));
        }
    }
    found
}

/// A written file's text as a reader sees it: a JSON file's strings decoded (one per line), the
/// others as they are.
fn readable(path: &std::path::Path, text: &str) -> String {
    fn strings(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::String(s) => {
                out.push_str(s);
                out.push('\n');
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
            serde_json::Value::Object(m) => m.iter().for_each(|(k, v)| {
                out.push_str(k);
                out.push('\n');
                strings(v, out);
            }),
            _ => {}
        }
    }
    if path.extension().is_some_and(|e| e == "json") {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
            let mut out = String::new();
            strings(&v, &mut out);
            return out;
        }
    }
    text.to_owned()
}

/// Where `text` shows the beginning of a secret cut short by an ellipsis (`…`): a snippet cut
/// inside a secret, which no scrubber recognises afterwards. At least 8 characters of the
/// secret, and not the whole of it.
fn cut_secrets(text: &str, secrets: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices('…') {
        let before = &text[..at];
        for s in secrets {
            let shown = (8..s.len())
                .rev()
                .filter(|k| s.is_char_boundary(*k))
                .find(|k| before.ends_with(&s[..*k]));
            if let Some(k) = shown {
                out.push(format!("{}… (of {} characters)", &s[..k], s.len()));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[track_caller]
fn assert_no_secret(text: &str, forbidden: &[String], what: &str) {
    let leaked = occurring(text, forbidden);
    assert!(
        leaked.is_empty(),
        "{what} shows {} secret(s): {leaked:?}",
        leaked.len()
    );
}

struct Echoed {
    report: RunReport,
    target: Target,
    cases: Vec<Case>,
}

impl Echoed {
    /// The report as the report writers get it.
    fn json(&self) -> String {
        serde_json::to_string(&self.report).expect("serialisable")
    }

    /// Every secret value the generated cases declare (a value secret in one case is secret
    /// wherever it is sent).
    fn case_secrets(&self) -> Vec<String> {
        let mut all: Vec<String> = CASES
            .iter()
            .flat_map(|c| c.secrets.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

async fn echo_run(in_headers: bool, auth: AuthSpec) -> Echoed {
    let srv = RawServer::start(echo(in_headers)).await;
    let mut target = target_at(&srv.url());
    target.auth = auth;
    let cases = secret_cases();
    let (result, elapsed) = run_timed(
        &target,
        &cases,
        &opts(Duration::from_secs(2), Duration::from_secs(8)),
    )
    .await;
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    let report = result.expect("judged");
    // Every case that had a secret echoed (a request carrying one, recorded with the secret
    // scrubbed, answered 200) is failed for it, by name.
    let mut echoed = 0;
    for o in &report.outcomes {
        let sent_and_echoed = o.exchanges.iter().any(|e| {
            e.request_body
                .as_deref()
                .is_some_and(|b| b.contains("{{secret}}"))
                && e.response.as_ref().is_some_and(|r| r.status == 200)
        });
        if !sent_and_echoed {
            continue;
        }
        echoed += 1;
        assert!(
            o.findings
                .iter()
                .any(|f| f.check == "secret_redaction" && f.message.contains("secret echoed")),
            "{}: {:?}",
            o.id,
            o.findings
        );
    }
    assert!(echoed >= 6, "only {echoed} cases had a secret echoed");
    Echoed {
        report,
        target,
        cases,
    }
}

/// What holds today: the leak is named, a case's own secrets never show in its outcome, and
/// the private keys (never sent: digest) show nowhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_echo_target_findings_name_the_leak_and_never_the_secret() {
    let run = echo_run(
        false,
        AuthSpec::Digest {
            public: OWNER_PUBLIC.into(),
            private: OWNER_PRIVATE.into(),
        },
    )
    .await;
    for o in &run.report.outcomes {
        let case = run.cases.iter().find(|c| c.id == o.id).unwrap();
        let text = serde_json::to_string(o).unwrap();
        assert_no_secret(&text, &case.secrets, &format!("the outcome of {}", o.id));
    }
    assert_no_secret(
        &run.json(),
        &[OWNER_PRIVATE.to_owned(), RO_PRIVATE.to_owned()],
        "the serialised run report",
    );
}

/// A secret echoed JSON-escaped (`https:\/\/…`) is still the secret, in clear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_echo_escaping_slashes_is_still_a_leak() {
    let srv = RawServer::start(echo_escaping_slashes()).await;
    let cases = url_secret_cases();
    let (result, _) = run_timed(
        &target_at(&srv.url()),
        &cases,
        &opts(Duration::from_secs(2), Duration::from_secs(8)),
    )
    .await;
    let report = result.expect("judged");
    for o in &report.outcomes {
        let echoed = o.exchanges.iter().any(|e| {
            e.request_body
                .as_deref()
                .is_some_and(|b| b.contains("{{secret}}"))
                && e.response.as_ref().is_some_and(|r| r.status == 200)
        });
        assert!(echoed, "{}: sent no secret", o.id);
        assert!(
            o.findings.iter().any(|f| f.check == "secret_redaction"),
            "{}: the escaped echo went unnoticed: {:?}",
            o.id,
            o.findings
        );
    }
}

/// A finding quotes the start of a body: the quote must not end inside a secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_echo_findings_never_quote_part_of_a_secret() {
    let run = echo_run(
        false,
        AuthSpec::Digest {
            public: OWNER_PUBLIC.into(),
            private: OWNER_PRIVATE.into(),
        },
    )
    .await;
    let mut secrets = run.case_secrets();
    secrets.extend(run.target.secrets());
    let cut = cut_secrets(&findings(&run.report).join("\n"), &secrets);
    assert!(
        cut.is_empty(),
        "findings show the start of secrets: {cut:?}"
    );
}

/// The digest username comes back in the echoed headers; findings quote the body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_echo_target_report_shows_no_credential() {
    let run = echo_run(
        false,
        AuthSpec::Digest {
            public: OWNER_PUBLIC.into(),
            private: OWNER_PRIVATE.into(),
        },
    )
    .await;
    assert_no_secret(
        &run.json(),
        &run.target.secrets(),
        "the serialised run report",
    );
}

/// Secret values sent by cases that do not declare them are neither scrubbed from the record
/// nor looked for in the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_echo_target_report_shows_no_case_secret() {
    let run = echo_run(
        false,
        AuthSpec::Digest {
            public: OWNER_PUBLIC.into(),
            private: OWNER_PRIVATE.into(),
        },
    )
    .await;
    assert_no_secret(
        &run.json(),
        &run.case_secrets(),
        "the serialised run report",
    );
}

/// A bearer token is sent in clear: an echo target hands it back in its body and headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_echo_target_never_gets_the_bearer_token_into_the_report() {
    let run = echo_run(
        true,
        AuthSpec::Bearer {
            token: BEARER.into(),
        },
    )
    .await;
    assert_no_secret(
        &run.json(),
        &[BEARER.to_owned()],
        "the serialised run report",
    );
}

/// Case secrets echoed in response headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_echo_in_headers_never_gets_a_secret_into_the_report() {
    let run = echo_run(
        true,
        AuthSpec::Digest {
            public: OWNER_PUBLIC.into(),
            private: OWNER_PRIVATE.into(),
        },
    )
    .await;
    for o in &run.report.outcomes {
        let case = run.cases.iter().find(|c| c.id == o.id).unwrap();
        let text = serde_json::to_string(o).unwrap();
        assert_no_secret(&text, &case.secrets, &format!("the outcome of {}", o.id));
    }
}

// ---------------------------------------------------------------------------------------------
// 14. TLS
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_https_target_speaking_plain_http_fails_fast() {
    let srv = RawServer::start(|_| Action::empty_list()).await;
    for insecure in [false, true] {
        let mut target = target_at(&format!("https://{}", srv.addr));
        target.insecure = insecure;
        let (result, elapsed) = run_timed(
            &target,
            &one_request_cases(2),
            &opts(Duration::from_secs(3), Duration::from_secs(5)),
        )
        .await;
        let msg = could_not_judge(result);
        assert!(msg.contains("cannot reach https://127.0.0.1"), "{msg}");
        assert!(
            elapsed < Duration::from_secs(1),
            "insecure={insecure}: {elapsed:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 15. the wire, recorded as sent
// ---------------------------------------------------------------------------------------------

/// A raw listener that answers every request 200 (an empty list to a list): enough for every
/// step of a case to be sent, so that what arrives can be compared with what was recorded.
async fn accepting_everything() -> RawServer {
    RawServer::start(|h: &Head| {
        if h.is_list() {
            Action::empty_list()
        } else {
            Action::json(200, &serde_json::json!({}))
        }
    })
    .await
}

/// The header lines of a request head as received: `(name lower-case, value)`, in order.
fn header_lines(raw_head: &[u8]) -> Vec<(String, String)> {
    let text = std::str::from_utf8(raw_head).expect("a request head is ASCII");
    text.split("\r\n")
        .skip(1)
        .map(|line| {
            let (name, value) = line.split_once(':').expect("a header line has a colon");
            (name.to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect()
}

/// Runs `ids` one after the other against `srv` and returns each case's outcome with the
/// requests its steps sent, in order (the requests taking stock of the project before and the
/// sweep after are left out).
async fn run_on_the_wire(
    srv: &RawServer,
    target: &Target,
    ids: &[&str],
) -> Vec<(runner::Outcome, Vec<Head>)> {
    let mut out = Vec::new();
    for id in ids {
        let before = srv.requests().len();
        let (result, _) = run_timed(
            target,
            &cases_named(&[id]),
            &RunOptions {
                jobs: 1,
                ..opts(Duration::from_secs(5), Duration::from_secs(20))
            },
        )
        .await;
        let mut report = result.expect("a target that answers every request can be judged");
        let outcome = report.outcomes.remove(0);
        assert!(
            !matches!(outcome.verdict, Verdict::Skipped(_)),
            "{id}: {:?}",
            outcome.verdict
        );
        // Stock-taking lists first, the case's steps next, the final sweep's deletes last.
        let received = srv.requests()[before..].to_vec();
        let stock = received
            .iter()
            .take_while(|h| h.is_list() && h.target.ends_with("?itemsPerPage=500&pageNum=1"))
            .count();
        assert!(
            received.len() >= stock + outcome.exchanges.len(),
            "{id}: fewer requests than exchanges"
        );
        let steps = received[stock..stock + outcome.exchanges.len()].to_vec();
        out.push((outcome, steps));
    }
    out
}

/// The atlas-v2 cases that send no `Accept` send none on the wire (reqwest used to add
/// `accept: */*` to each, so the 406 they expect was never asked for), and record none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wire_accept_absent_sends_no_accept_header() {
    let srv = accepting_everything().await;
    let ids = [
        "atlas-v2/listGroupIntegrations/accept-absent",
        "atlas-v2/createGroupIntegration/accept-absent",
    ];
    for (outcome, received) in run_on_the_wire(&srv, &target_at(&srv.url()), &ids).await {
        let test = outcome
            .exchanges
            .iter()
            .position(|e| e.role == case::Role::Test)
            .expect("a test step");
        let raw = String::from_utf8_lossy(&received[test].raw_head).into_owned();
        assert!(
            !raw.to_ascii_lowercase().contains("\r\naccept:"),
            "{}: an Accept header went out:\n{raw}",
            outcome.id
        );
        assert!(
            raw.starts_with(&format!(
                "{} /api/atlas/v2/",
                outcome.exchanges[test].method
            )),
            "{}: not the request under test:\n{raw}",
            outcome.id
        );
        let recorded = &outcome.exchanges[test].request_headers;
        assert!(
            !recorded
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("accept")),
            "{}: {recorded:?}",
            outcome.id
        );
        // The other steps of the case do send the media type they name.
        for (i, head) in received.iter().enumerate().filter(|(i, _)| *i != test) {
            assert!(head.header("accept").is_some(), "{}: step {i}", outcome.id);
        }
    }
}

/// Every exchange records exactly the header block that was written: the same names in the
/// same order, the same values, `host` and `content-length` included, `Authorization` reduced
/// to its scheme; a `Content-Type` the case leaves out is not on the wire either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wire_recorded_request_headers_are_the_headers_sent() {
    let srv = accepting_everything().await;
    let mut target = target_at(&srv.url());
    // A bearer token goes out on the first request (a digest one only after a challenge,
    // which this listener never sends).
    target.auth = AuthSpec::Bearer {
        token: BEARER.into(),
    };
    let ids = [
        "atlas-v2/createGroupIntegration/v2025-03-12-datadog-accepts-minimal",
        "atlas-v2/createGroupIntegration/v2025-03-12-content-type-missing",
        "atlas-v2/createGroupIntegration/v2025-03-12-empty-body",
        "cloud-manager/cmGetIntegration/pager-duty-masked-in-get-under-pretty",
    ];
    let mut with_query = 0;
    let mut with_body = 0;
    for (outcome, received) in run_on_the_wire(&srv, &target, &ids).await {
        assert_eq!(outcome.exchanges.len(), received.len(), "{}", outcome.id);
        for (ex, head) in outcome.exchanges.iter().zip(&received) {
            let what = format!("{} step {} ({} {})", outcome.id, ex.step, ex.method, ex.url);
            assert_eq!(head.method, ex.method, "{what}");
            assert_eq!(head.target, ex.path_and_query(), "{what}");
            let on_the_wire: Vec<(String, String)> = header_lines(&head.raw_head)
                .into_iter()
                .map(|(k, v)| {
                    if k == "authorization" {
                        let scheme = v.split_whitespace().next().unwrap_or("").to_owned();
                        (k, format!("{scheme} <redacted>"))
                    } else {
                        (k, v)
                    }
                })
                .collect();
            let recorded: Vec<(String, String)> = ex
                .request_headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect();
            assert_eq!(recorded, on_the_wire, "{what}");
            assert!(recorded.iter().any(|(k, _)| k == "host"), "{what}");
            assert!(
                recorded.contains(&("authorization".into(), "Bearer <redacted>".into())),
                "{what}: {recorded:?}"
            );
            let length = recorded.iter().find(|(k, _)| k == "content-length");
            match &ex.request_body {
                Some(body) => {
                    with_body += 1;
                    // The recorded body has the case's secrets replaced; the length is the
                    // length of what was sent.
                    assert_eq!(
                        length.map(|(_, v)| v.as_str()),
                        Some(head.body.len().to_string().as_str()),
                        "{what}"
                    );
                    if !body.contains("{{secret}}") {
                        assert_eq!(head.body, body.as_bytes(), "{what}");
                    }
                }
                None => assert!(length.is_none() && head.body.is_empty(), "{what}"),
            }
            with_query += usize::from(head.target.contains('?'));
            // The bearer token itself is nowhere in what was recorded.
            assert!(!format!("{recorded:?}").contains(BEARER), "{what}");
        }
        if outcome.id.ends_with("content-type-missing") {
            let test = outcome
                .exchanges
                .iter()
                .find(|e| e.role == case::Role::Test)
                .expect("a test step");
            assert!(test.request_body.is_some(), "the body is sent");
            assert!(
                !test
                    .request_headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-type")),
                "{:?}",
                test.request_headers
            );
        }
        if outcome.id.ends_with("empty-body") {
            let test = outcome
                .exchanges
                .iter()
                .find(|e| e.role == case::Role::Test)
                .expect("a test step");
            assert_eq!(test.request_body.as_deref(), Some(""));
        }
    }
    assert!(with_query >= 1, "a request with a query was compared");
    assert!(with_body >= 3, "requests with a body were compared");
}

/// Through a proxy, a plain http request goes to the proxy in absolute-form with the proxy's
/// credentials (recorded as their scheme only); an https one opens a CONNECT tunnel, and a
/// proxy that refuses it is one clear line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wire_proxies_get_absolute_form_and_connect() {
    use integrations_conformance::target::{record_headers, Client, ClientOptions, Proxy};
    let proxy = RawServer::start(|h: &Head| {
        if h.method == "CONNECT" {
            Action::Close(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n".to_vec())
        } else {
            Action::empty_list()
        }
    })
    .await;
    let client = Client::new(&ClientOptions {
        timeout: Duration::from_secs(3),
        proxy: Proxy::All(format!("http://proxyuser:proxy-pass-1234@{}", proxy.addr)),
        ..ClientOptions::default()
    })
    .expect("client");
    let mut headers = http::HeaderMap::new();
    headers.insert("accept", http::HeaderValue::from_static("application/json"));

    let url = url::Url::parse("http://target.invalid:8080/api/x?y=1").unwrap();
    let sent = client
        .send(&http::Method::GET, &url, &headers, None, None)
        .await;
    assert_eq!(sent.answer.expect("the proxy answered").status, 200);
    let seen = proxy.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].target, "http://target.invalid:8080/api/x?y=1");
    let wire = header_lines(&seen[0].raw_head);
    let recorded = record_headers(
        &sent.headers,
        &integrations_conformance::scrub::Scrubber::default(),
    );
    assert_eq!(
        recorded.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        wire.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>()
    );
    assert!(
        recorded.contains(&("proxy-authorization".into(), "Basic <redacted>".into())),
        "{recorded:?}"
    );
    assert!(recorded.contains(&("host".into(), "target.invalid:8080".into())));

    let url = url::Url::parse("https://target.invalid/api/x").unwrap();
    let started = Instant::now();
    let sent = client
        .send(&http::Method::GET, &url, &headers, None, None)
        .await;
    let error = sent.answer.expect_err("the tunnel was refused");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(
        !error.contains('\n') && error.contains("could not connect"),
        "{error}"
    );
    assert!(!error.contains("proxy-pass-1234"), "{error}");
    let connect = proxy.requests().pop().expect("a CONNECT");
    assert_eq!(
        (connect.method.as_str(), connect.target.as_str()),
        ("CONNECT", "target.invalid:443")
    );
    assert!(connect.header("proxy-authorization").is_some());
}

// ---------------------------------------------------------------------------------------------
// the `conformance` binary
// ---------------------------------------------------------------------------------------------

/// `conformance run` against `url` with the made-up credentials and projects of [`target_at`].
fn cli_args(url: &str, reports: &cli::TempDir, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "run",
        "--target",
        url,
        "--auth",
        &format!("digest:{OWNER_PUBLIC}:{OWNER_PRIVATE}"),
        "--readonly-auth",
        &format!("digest:{RO_PUBLIC}:{RO_PRIVATE}"),
        "--group-id",
        ATLAS_GROUP,
        "--cm-group-id",
        CM_GROUP,
        "--other-group-id",
        OTHER_GROUP,
        "--report-dir",
        &reports.path(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Exit 2, and stderr is `conformance: …` lines only, the last one saying why.
#[track_caller]
fn cannot_judge(ended: &cli::Ended, why: &str) {
    assert!(!ended.killed, "killed at the time limit: {ended:?}");
    assert_eq!(ended.code, Some(2), "{ended:?}");
    let lines: Vec<&str> = ended.stderr.lines().collect();
    assert!(
        lines.iter().all(|l| l.starts_with("conformance: ")),
        "stderr is not one-line notes: {:?}",
        ended.stderr
    );
    let last = lines.last().copied().unwrap_or("");
    assert!(
        last.starts_with("conformance: cannot judge the target") && last.contains(why),
        "{last:?} does not say {why:?}"
    );
}

/// Every way of failing the first request: exit 2, one line saying why, within the timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_cli_exits_2_with_one_line_when_the_first_request_fails() {
    type Behaviour = Box<dyn Fn(&Head) -> Action + Send + Sync>;
    let behaviours: Vec<(&str, Behaviour, &str)> = vec![
        ("silent", Box::new(|_: &Head| Action::Hang), "timed out"),
        (
            "slow-loris",
            Box::new(|_: &Head| Action::Trickle {
                fast: Vec::new(),
                slow: slow_response(),
                every: Duration::from_secs(1),
            }),
            "timed out",
        ),
        (
            "garbage",
            Box::new(|_: &Head| Action::Close(b"garbage\r\n\r\n".to_vec())),
            "cannot reach",
        ),
        ("reset", Box::new(|_: &Head| Action::Reset), "cannot reach"),
        ("redirect-loop", Box::new(redirect_to_self), "answered 302"),
        ("html", Box::new(html), "is not JSON"),
        (
            "500",
            Box::new(|_: &Head| Action::json(500, &serde_json::json!({"detail": "a\nb"}))),
            "answered 500",
        ),
        (
            "endless",
            Box::new(|_: &Head| Action::Endless(ok_head("content-length: 10000000000\r\n"))),
            "/api/public/v1.0",
        ),
        (
            "huge-headers",
            Box::new(|_: &Head| {
                let mut head = b"HTTP/1.1 200 OK\r\nx-padding: ".to_vec();
                head.resize(head.len() + 2 * 1024 * 1024, b'a');
                head.extend_from_slice(b"\r\ncontent-length: 0\r\n\r\n");
                Action::Close(head)
            }),
            "cannot reach",
        ),
        (
            "429-forever",
            Box::new(|_: &Head| Action::Respond {
                status: 429,
                headers: vec![("retry-after".into(), "1".into())],
                body: Vec::new(),
            }),
            "answered 429",
        ),
    ];
    for (name, behaviour, why) in behaviours {
        let srv = RawServer::start(behaviour).await;
        let reports = cli::TempDir::new(name);
        let ended = cli::run(
            cli_args(
                &srv.url(),
                &reports,
                &[
                    "--api",
                    "cloud-manager",
                    "--category",
                    "errors",
                    "--timeout",
                    "1",
                    "--deadline",
                    "3",
                ],
            ),
            Duration::from_secs(8),
        )
        .await;
        cannot_judge(&ended, why);
        // The deadline (3 s) bounds the run; a second more covers the process's start-up and
        // its reports on a loaded machine.
        assert!(
            ended.elapsed < Duration::from_secs(4),
            "{name}: {:?}",
            ended.elapsed
        );
        // 429 with `Retry-After: 1`: retried at 1 s and 2 s; a third wait would end past the
        // deadline, so it is not taken (the retry cap alone would allow 3 retries).
        let retries = if name == "429-forever" { 2 } else { 0 };
        assert!(
            srv.requests().len() <= 1 + retries,
            "{name}: {} requests",
            srv.requests().len()
        );
    }
}

/// A target that answers the first request and then only 500s: exit 1 (non-conformant), with
/// the reports written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_cli_exits_1_when_the_cases_meet_500s() {
    let srv = RawServer::start(baseline_then(|_| {
        Action::json(500, &serde_json::json!({"error": 500}))
    }))
    .await;
    let reports = cli::TempDir::new("500s");
    let ended = cli::run(
        cli_args(
            &srv.url(),
            &reports,
            &[
                "--api",
                "cloud-manager",
                "--category",
                "errors",
                "--timeout",
                "1",
                "--deadline",
                "5",
            ],
        ),
        Duration::from_secs(8),
    )
    .await;
    assert_eq!(ended.code, Some(1), "{ended:?}");
    assert!(
        ended.elapsed < Duration::from_secs(3),
        "{:?}",
        ended.elapsed
    );
    let names: BTreeSet<String> = reports
        .files()
        .iter()
        .filter_map(|(p, _)| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    assert!(names.contains("report.json"), "{names:?}");
}

/// An https:// target that speaks plain HTTP fails fast, with or without `--insecure` (which is
/// accepted). (The real self-signed case is
/// `hostile_cli_self_signed_https_needs_insecure`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_cli_https_target_speaking_plain_http_exits_2() {
    let srv = RawServer::start(|_| Action::empty_list()).await;
    let url = format!("https://{}", srv.addr);
    for extra in [&[][..], &["--insecure"][..]] {
        let reports = cli::TempDir::new("tls");
        let mut args = vec![
            "--api",
            "cloud-manager",
            "--category",
            "errors",
            "--timeout",
            "3",
        ];
        args.extend_from_slice(extra);
        let ended = cli::run(cli_args(&url, &reports, &args), Duration::from_secs(8)).await;
        cannot_judge(&ended, "cannot reach https://127.0.0.1");
        // Before the 3 s timeout could end it: the TLS failure itself ends the run.
        assert!(
            ended.elapsed < Duration::from_secs(3),
            "{extra:?}: {:?}",
            ended.elapsed
        );
    }
}

/// The runner has `RunOptions::rate` for real targets; the CLI should expose it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_cli_rate_flag_paces_the_run() {
    let reference = Reference::start().await;
    let c = &reference.srv.credentials;
    let reports = cli::TempDir::new("rate");
    let ended = cli::run(
        vec![
            "run".into(),
            "--target".into(),
            reference.srv.base_url.clone(),
            "--auth".into(),
            format!("digest:{}:{}", c.owner.public, c.owner.private),
            "--cm-group-id".into(),
            c.cm_group_id.clone(),
            "--filter".into(),
            "cloud-manager/cmCreateIntegration/slack-round-trip".into(),
            "--report-dir".into(),
            reports.path(),
            "--rate".into(),
            "5".into(),
        ],
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(ended.code, Some(0), "{ended:?}");
    // 9 steps, a digest challenge and the list: 11 requests at 5/s take 2 s.
    assert!(
        ended.elapsed >= Duration::from_secs(2),
        "{:?}",
        ended.elapsed
    );
}

/// Ctrl-C in the middle of a run against a real project: the run stops starting cases,
/// finishes and cleans up, and the project holds exactly what it held before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_cli_sigint_leaves_the_project_as_it_was() {
    let reference = Reference::start().await;
    let shown_before = reference.configure_pre_existing().await;
    let before = reference.snapshot();
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    // A little latency so that the run is under way, not over, when it is interrupted.
    let proxy = Proxy::start(&reference.srv.base_url, move |_, _| {
        s.fetch_add(1, Ordering::SeqCst);
        Hook::Delay(Duration::from_millis(10))
    })
    .await;
    let c = &reference.srv.credentials;
    let reports = cli::TempDir::new("sigint");
    let args: Vec<String> = vec![
        "run".into(),
        "--target".into(),
        proxy.url.clone(),
        "--auth".into(),
        format!("digest:{}:{}", c.owner.public, c.owner.private),
        "--readonly-auth".into(),
        format!("digest:{}:{}", c.read_only.public, c.read_only.private),
        "--group-id".into(),
        c.atlas_group_id.clone(),
        "--cm-group-id".into(),
        c.cm_group_id.clone(),
        "--other-group-id".into(),
        c.other_group_id.clone(),
        "--category".into(),
        "state".into(),
        "--report-dir".into(),
        reports.path(),
        "--timeout".into(),
        "3".into(),
    ];
    let child = tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        cli::Child::spawn(&a)
    })
    .await
    .unwrap();
    let waiting = Instant::now();
    while seen.load(Ordering::SeqCst) == 0 {
        assert!(
            waiting.elapsed() < Duration::from_secs(5),
            "the run never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    child.interrupt();
    let interrupted_at = Instant::now();
    let ended = tokio::task::spawn_blocking(move || child.wait(Duration::from_secs(15)))
        .await
        .unwrap();
    assert!(!ended.killed, "did not stop after SIGINT: {ended:?}");
    assert!(
        interrupted_at.elapsed() < Duration::from_secs(5),
        "took {:?} to stop",
        interrupted_at.elapsed()
    );
    assert_eq!(
        ended.code,
        Some(2),
        "an interrupted run is inconclusive: {ended:?}"
    );
    assert!(ended.stderr.contains("interrupted"), "{}", ended.stderr);
    assert_eq!(reference.snapshot(), before, "the project changed");
    assert_eq!(reference.show_pre_existing().await, shown_before);
    let report = reports
        .files()
        .into_iter()
        .find(|(p, _)| p.ends_with("report.json"))
        .expect("report.json written");
    let doc: serde_json::Value = serde_json::from_str(&report.1).unwrap();
    assert_eq!(doc["interrupted"], true);
    assert_eq!(
        doc["not_cleaned_up"],
        serde_json::json!([]),
        "{}",
        doc["not_cleaned_up"]
    );
}

/// An echo target through the CLI: every file written, stdout and stderr are free of every
/// credential and every case secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_cli_echo_target_leaks_nothing_into_reports_or_console() {
    let secrets: Vec<String> = {
        let mut all: Vec<String> = CASES
            .iter()
            .flat_map(|c| c.secrets.iter().cloned())
            .collect();
        all.extend([OWNER_PUBLIC, OWNER_PRIVATE, RO_PUBLIC, RO_PRIVATE, BEARER].map(String::from));
        all.sort();
        all.dedup();
        all
    };
    for (auth, tag) in [
        (format!("digest:{OWNER_PUBLIC}:{OWNER_PRIVATE}"), "digest"),
        (format!("bearer:{BEARER}"), "bearer"),
    ] {
        let srv = RawServer::start(echo(true)).await;
        let reports = cli::TempDir::new(tag);
        let mut args = cli_args(
            &srv.url(),
            &reports,
            &[
                "--category",
                "redaction",
                "--timeout",
                "2",
                "--deadline",
                "6",
            ],
        );
        let i = args.iter().position(|a| a == "--auth").unwrap();
        args[i + 1] = auth;
        let ended = cli::run(args, Duration::from_secs(10)).await;
        assert_eq!(ended.code, Some(1), "{tag}: {}", ended.stderr);
        assert!(!srv.requests().is_empty());
        let files = reports.files();
        assert!(files.len() >= 4, "{tag}: {files:?}");
        let report = files
            .iter()
            .find(|(p, _)| p.ends_with("report.json"))
            .expect("report.json");
        assert!(
            report.1.contains("secret echoed"),
            "{tag}: the leak is not named"
        );
        assert!(
            report.1.contains("{{secret}}"),
            "{tag}: nothing was scrubbed: the test proves nothing"
        );
        for (path, text) in &files {
            assert_no_secret(text, &secrets, &format!("{tag}: {}", path.display()));
            let decoded = readable(path, text);
            assert_no_secret(
                &decoded,
                &secrets,
                &format!("{tag}: {} (decoded)", path.display()),
            );
        }
        assert_no_secret(
            &ended.all_output(),
            &secrets,
            &format!("{tag}: the console"),
        );
    }
}

/// The reports show response bodies: a secret echoed JSON-escaped must not survive in them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_cli_echo_escaping_slashes_leaks_nothing() {
    let cases = url_secret_cases();
    let escaped: Vec<String> = cases
        .iter()
        .flat_map(|c| c.secrets.iter())
        .filter(|s| s.contains('/'))
        .map(|s| s.replace('/', "\\/"))
        .collect();
    let srv = RawServer::start(echo_escaping_slashes()).await;
    let reports = cli::TempDir::new("escaped");
    let ended = cli::run(
        cli_args(
            &srv.url(),
            &reports,
            &[
                "--api",
                "cloud-manager",
                "--category",
                "redaction",
                "--timeout",
                "2",
            ],
        ),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(ended.code, Some(1), "{}", ended.stderr);
    let leaking: Vec<String> = reports
        .files()
        .iter()
        .filter(|(path, text)| !occurring(&readable(path, text), &escaped).is_empty())
        .map(|(path, _)| path.display().to_string())
        .collect();
    assert!(leaking.is_empty(), "escaped secrets in {leaking:?}");
}

/// The reports quote findings: no quote may end inside a secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_cli_reports_never_quote_part_of_a_secret() {
    let secrets: Vec<String> = CASES
        .iter()
        .filter(|c| c.family == "cloud-manager" && c.category == Category::Redaction)
        .flat_map(|c| c.secrets.iter().cloned())
        .collect();
    let srv = RawServer::start(echo(false)).await;
    let reports = cli::TempDir::new("cut");
    let ended = cli::run(
        cli_args(
            &srv.url(),
            &reports,
            &[
                "--api",
                "cloud-manager",
                "--category",
                "redaction",
                "--timeout",
                "2",
            ],
        ),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(ended.code, Some(1), "{}", ended.stderr);
    for (path, text) in reports.files() {
        let cut = cut_secrets(&text, &secrets);
        assert!(
            cut.is_empty(),
            "{} shows the start of secrets: {cut:?}",
            path.display()
        );
    }
}

/// A TLS front with a self-signed certificate for 127.0.0.1, forwarding the plain bytes to
/// `backend`: a real HTTPS target.
async fn self_signed_front(
    backend: std::net::SocketAddr,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use tokio_rustls::rustls;
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("a self-signed certificate");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .expect("a TLS server config");
    tls_front(backend, Arc::new(config)).await
}

/// A TLS front configured by `config`, forwarding the plain bytes to `backend`; a handshake
/// that fails (an untrusted client, no client certificate) closes the connection.
async fn tls_front(
    backend: std::net::SocketAddr,
    config: Arc<tokio_rustls::rustls::ServerConfig>,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (addr, task)
}

/// A self-signed HTTPS target: refused as untrusted without `--insecure` (exit 2, saying why),
/// judged conformant with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_cli_self_signed_https_needs_insecure() {
    let reference = Reference::start().await;
    let backend: std::net::SocketAddr = reference
        .srv
        .base_url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("base url");
    let (front, task) = self_signed_front(backend).await;
    let c = &reference.srv.credentials;
    for insecure in [false, true] {
        let reports = cli::TempDir::new("self-signed");
        let mut args = vec![
            "run".to_owned(),
            "--target".to_owned(),
            format!("https://{front}"),
            "--auth".to_owned(),
            format!("digest:{}:{}", c.owner.public, c.owner.private),
            "--cm-group-id".to_owned(),
            c.cm_group_id.clone(),
            "--api".to_owned(),
            "cloud-manager".to_owned(),
            "--category".to_owned(),
            "state".to_owned(),
            "--report-dir".to_owned(),
            reports.path(),
        ];
        if insecure {
            args.push("--insecure".to_owned());
        }
        let ended = cli::run(args, Duration::from_secs(20)).await;
        if insecure {
            assert_eq!(ended.code, Some(0), "{ended:?}");
        } else {
            cannot_judge(&ended, "cannot reach https://127.0.0.1");
            assert!(
                ended.stderr.to_lowercase().contains("certificate"),
                "{:?}",
                ended.stderr
            );
        }
    }
    task.abort();
}
