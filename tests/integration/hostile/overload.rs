//! 500 to everything, 429 with and without Retry-After, and the rate cap.

use super::*;

// 8. 500 to everything

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

// 9. 429

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
    let (result, elapsed) = run_timed(&reference.target_via(&proxy.url), &one_request_cases(1), &{
        let mut o = opts(Duration::from_secs(2), Duration::from_secs(2));
        o.sending.retry_after_cap = Duration::from_secs(30);
        o
    })
    .await;
    let report = result.expect("judged");
    every_case_failed_with(&report, 1, "status_code_conformance", "429");
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");
    assert_eq!(proxy.log().iter().filter(|s| s.intercepted).count(), 1);
}

// 10. rate

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

    let (result, paced) = run_timed(&reference.target(), &cases, &{
        let mut o = unpaced.clone();
        o.sending.rate = Some(20.0);
        o
    })
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
