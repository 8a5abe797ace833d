//! One-time digest nonces (variant `one-time-nonces`, contract §7/§10): every nonce answers one
//! request, a spent one is refused with `stale=true`, and every accepted answer hands out the
//! next. Concurrent requests are where a shared nonce gets spent under another request's feet:
//! the concurrency cases pass ten runs in a row against that server, alone and with every
//! variant on (before the sender signed each retry with its own challenge, about 3 runs in 10
//! failed).

use crate::fixture;

use integrations_conformance::case::Case;
use integrations_conformance::runner::{self, RunOptions, Verdict};
use integrations_conformance::server::{ServerConfig, Variant};
use integrations_conformance::transport::Client;
use reqwest::header::{AUTHORIZATION, WWW_AUTHENTICATE};

fn concurrency_cases() -> Vec<Case> {
    fixture::cases()
        .iter()
        .filter(|c| c.category.as_str() == "concurrency")
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_cases_pass_ten_runs_against_one_time_nonces() {
    let harness = fixture::harness();
    let cases = concurrency_cases();
    assert!(cases.len() >= 9, "{} concurrency cases", cases.len());
    let runs = [
        ("one-time-nonces", vec![Variant::OneTimeNonces]),
        ("all", Variant::ALL.to_vec()),
    ];
    for (name, variants) in runs {
        for run in 1..=10 {
            let server = fixture::server_with(ServerConfig {
                variants: variants.clone(),
                ..Default::default()
            })
            .await;
            let target = server.target().expect("target");
            let report = runner::run(harness, &cases, &target, &RunOptions::default())
                .await
                .expect("the run completes");
            let failed: Vec<String> = report
                .outcomes
                .iter()
                .filter(|o| o.verdict != Verdict::Passed)
                .map(|o| {
                    let f = o.findings.first();
                    format!("{} {}", o.id, f.map(|f| f.message.as_str()).unwrap_or(""))
                })
                .collect();
            assert!(failed.is_empty(), "variant {name}, run {run}: {failed:?}");
            server.shutdown().await.ok();
        }
    }
}

/// The variant on the wire: an accepted digest answer carries `Authentication-Info:
/// nextnonce`, the same `Authorization` again is 401 with `stale=true`, and the next nonce is
/// good once. Without the variant: no `Authentication-Info`, and a replay is not stale.
#[tokio::test]
async fn a_one_time_nonce_answers_one_request_and_hands_out_the_next() {
    let server = fixture::server_with(ServerConfig {
        variants: vec![Variant::OneTimeNonces],
        ..Default::default()
    })
    .await;
    let faithful = fixture::server(Vec::new()).await;
    let client = Client::new(&Default::default()).expect("client");
    let http = fixture::http();
    let get_method = reqwest::Method::GET;
    for (srv, one_time) in [(&server, true), (&faithful, false)] {
        let owner = fixture::digest(&srv.credentials.owner, &srv.base_url);
        let path = format!(
            "/api/public/v1.0/groups/{}/integrations",
            srv.credentials.cm_group_id
        );
        let url = format!("{}{path}", srv.base_url);
        let get = |h: Option<String>| {
            let mut rb = http.get(&url).header("accept", "application/json");
            if let Some(h) = h {
                rb = rb.header(AUTHORIZATION, h);
            }
            rb.send()
        };
        let first = get(None).await.unwrap();
        assert_eq!(first.status(), 401);
        let retry = owner.learn(&Default::default(), first.status(), first.headers());
        let signed = owner
            .sign_retry(retry.expect("a challenge"), &client, &get_method, &path)
            .await
            .unwrap();
        let header = signed.header.clone().unwrap().to_str().unwrap().to_owned();
        let ok = get(Some(header.clone())).await.unwrap();
        assert_eq!(ok.status(), 200);
        let info = ok.headers().get("authentication-info");
        assert_eq!(info.is_some(), one_time, "{info:?}");
        owner.learn(&signed, ok.status(), ok.headers());
        // The same Authorization again: a spent nonce is stale; elsewhere a replayed nc.
        let again = get(Some(header)).await.unwrap();
        assert_eq!(again.status(), 401);
        let challenge = again.headers().get(WWW_AUTHENTICATE).unwrap();
        let stale = challenge.to_str().unwrap().contains("stale=true");
        assert_eq!(stale, one_time, "{challenge:?}");
        // The next request signs with the nextnonce (one-time) or the same nonce, next nc.
        let next = owner.sign(&client, &get_method, &path).await.unwrap();
        let next = next.header.unwrap().to_str().unwrap().to_owned();
        assert_eq!(get(Some(next.clone())).await.unwrap().status(), 200);
        assert_eq!(get(Some(next)).await.unwrap().status(), 401);
    }
    server.shutdown().await.ok();
    faithful.shutdown().await.ok();
}
