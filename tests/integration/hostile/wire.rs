//! TLS, and the wire as recorded: what the harness sends is what the report says it sent.

use super::*;

// 14. TLS

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

// 15. the wire, recorded as sent

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
    use integrations_conformance::transport::{record_headers, Client, ClientOptions, Proxy};
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
