//! Endless bodies: capped, and memory stays bounded.

use super::*;

// 7. gigabytes

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
