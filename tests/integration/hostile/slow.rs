//! Targets that accept and never answer, or answer a byte at a time: timeouts per request and the deadline bound the run.

use super::*;

// 1. accepts, never answers

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

// 2. slow loris

pub(super) fn slow_response() -> Vec<u8> {
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
