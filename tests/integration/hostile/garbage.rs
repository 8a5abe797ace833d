//! Targets that do not speak HTTP, reset or refuse connections, redirect to themselves or answer HTML.

use super::*;

// 3. not HTTP; 4. connection reset / refused

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

// 5. redirect loop

pub(super) fn redirect_to_self(h: &Head) -> Action {
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

// 6. HTML

pub(super) fn html(_: &Head) -> Action {
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
