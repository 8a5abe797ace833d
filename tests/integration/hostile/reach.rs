//! `explore` and `replay` reach a target as `run` does, through the one target-settings group:
//! a gateway's headers on every request (from the flag, and from conformance.toml), a private
//! CA and a client certificate (mutual TLS), and `--rate` pacing what they send.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::gateway::{backend, mutual_tls, Pki};
use super::proxy::{Hook, Proxy};
use super::reference::Reference;
use super::{assert_no_secret, cli, tls_front};

const KEY: &str = "reach-key-5c8e1a7f3b9d-never-print-me";

/// The target flags of the reference server behind `url`: owner credentials and both projects.
fn target_args(reference: &Reference, url: &str) -> Vec<String> {
    let c = &reference.srv.credentials;
    let auth = format!("digest:{}:{}", c.owner.public, c.owner.private);
    [
        "--target",
        url,
        "--auth",
        &auth,
        "--group-id",
        &c.atlas_group_id,
        "--cm-group-id",
        &c.cm_group_id,
        "--timeout",
        "5s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// `explore` with a fixed seed and a few steps into `dir`.
fn explore_args(reference: &Reference, url: &str, dir: &cli::TempDir) -> Vec<String> {
    let mut args = vec!["explore".to_owned()];
    args.extend(target_args(reference, url));
    args.extend(
        ["--seed", "5", "--report-dir", &dir.path()]
            .iter()
            .map(|s| s.to_string()),
    );
    args
}

/// A reproduction (repro-9.json) written by `explore` against a faulty embedded server.
async fn reproduction(dir: &cli::TempDir) -> String {
    let args = [
        "explore",
        "--seed",
        "9",
        "--steps",
        "3000",
        "--fault",
        "failed-update-partially-applied",
        "--report-dir",
        &dir.path(),
    ];
    let ended = cli::run(args.map(str::to_owned).to_vec(), Duration::from_secs(120)).await;
    assert_eq!(ended.code, Some(1), "{ended:?}");
    format!("{}/repro-9.json", dir.path())
}

/// `explore` (its header and its steps from conformance.toml) and `replay` (its header from
/// `--header`) send the gateway's header with every request, and print it nowhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_reach_explore_and_replay_send_the_gateway_headers() {
    let reference = Reference::start().await;
    let proxy = Proxy::start(&reference.srv.base_url, |_, _| Hook::Forward).await;
    let dir = cli::TempDir::new("reach-headers");
    let config = format!("{}/conformance.toml", dir.path());
    std::fs::write(
        &config,
        format!("header = [\"X-Gateway-Key: {KEY}\"]\nsteps = 25\nreport_dir = \"unused\"\n"),
    )
    .expect("write config");
    let mut args = explore_args(&reference, &proxy.url, &dir);
    args.extend(["--config".to_owned(), config]);
    let explored = cli::run(args, Duration::from_secs(120)).await;
    assert_eq!(explored.code, Some(0), "{explored:?}");
    assert!(
        explored.stderr.contains("25 steps at most"),
        "conformance.toml's steps not read: {explored:?}"
    );
    let seen = proxy.log();
    assert!(seen.len() > 10, "explore sent too little: {seen:?}");
    for s in &seen {
        assert_eq!(s.header("x-gateway-key"), [KEY], "{} {}", s.method, s.path);
    }
    assert_no_secret(
        &explored.all_output(),
        &[KEY.to_owned()],
        "explore's console",
    );

    let repro_dir = cli::TempDir::new("reach-headers-repro");
    let repro = reproduction(&repro_dir).await;
    let before = proxy.log().len();
    let mut args = vec!["replay".to_owned(), repro];
    args.extend(target_args(&reference, &proxy.url));
    args.extend(["--header".to_owned(), format!("X-Gateway-Key: {KEY}")]);
    let replayed = cli::run(args, Duration::from_secs(60)).await;
    assert_eq!(replayed.code, Some(0), "{replayed:?}");
    let seen = proxy.log();
    assert!(seen.len() > before, "replay sent nothing through the proxy");
    for s in &seen[before..] {
        assert_eq!(s.header("x-gateway-key"), [KEY], "{} {}", s.method, s.path);
    }
    assert_no_secret(
        &replayed.all_output(),
        &[KEY.to_owned()],
        "replay's console",
    );
}

/// A TLS target whose certificate a private CA issued and that requires a client certificate:
/// `explore` and `replay` cannot judge without `--ca-cert`/`--client-cert` (exit 2), and
/// judge with them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_reach_explore_and_replay_with_a_private_ca_and_a_client_certificate() {
    let reference = Reference::start().await;
    let server_pki = Pki::new("reach server CA");
    let client_pki = Pki::new("reach client CA");
    let config = mutual_tls(&server_pki, &client_pki);
    let (front, task) = tls_front(backend(&reference), config).await;
    let url = format!("https://{front}");
    let dir = cli::TempDir::new("reach-tls");
    let ca = format!("{}/ca.pem", dir.path());
    std::fs::write(&ca, server_pki.ca.pem()).expect("write CA");
    let client = client_pki.issue(&["client"], rcgen::ExtendedKeyUsagePurpose::ClientAuth);
    let cert = format!("{}/client.pem", dir.path());
    let key = format!("{}/client.key", dir.path());
    std::fs::write(&cert, client.cert.pem()).expect("write cert");
    std::fs::write(&key, client.key.serialize_pem()).expect("write key");
    let tls = |with_client: bool| {
        let mut flags = vec!["--ca-cert".to_owned(), ca.clone()];
        if with_client {
            flags.extend([
                "--client-cert".to_owned(),
                cert.clone(),
                "--client-key".to_owned(),
                key.clone(),
            ]);
        }
        flags
    };
    let repro_dir = cli::TempDir::new("reach-tls-repro");
    let repro = reproduction(&repro_dir).await;
    for (flags, expected) in [(vec![], 2), (tls(false), 2), (tls(true), 0)] {
        let mut args = explore_args(&reference, &url, &dir);
        args.extend(["--steps".to_owned(), "10".to_owned()]);
        args.extend(flags.clone());
        let explored = cli::run(args, Duration::from_secs(120)).await;
        assert_eq!(
            explored.code,
            Some(expected),
            "explore {flags:?}: {explored:?}"
        );
        let mut args = vec!["replay".to_owned(), repro.clone()];
        args.extend(target_args(&reference, &url));
        args.extend(flags.clone());
        let replayed = cli::run(args, Duration::from_secs(60)).await;
        assert_eq!(
            replayed.code,
            Some(expected),
            "replay {flags:?}: {replayed:?}"
        );
    }
    task.abort();
}

/// `explore --rate 10` sends at most ten signed requests a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_reach_explore_rate_paces() {
    let reference = Reference::start().await;
    let times: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let log = times.clone();
    let proxy = Proxy::start(&reference.srv.base_url, move |_, _| {
        log.lock().unwrap().push(Instant::now());
        Hook::Forward
    })
    .await;
    let dir = cli::TempDir::new("reach-rate");
    let mut args = explore_args(&reference, &proxy.url, &dir);
    args.extend(["--steps", "15", "--rate", "10"].map(str::to_owned));
    let explored = cli::run(args, Duration::from_secs(120)).await;
    assert_eq!(explored.code, Some(0), "{explored:?}");
    let signed: Vec<Instant> = {
        let all = times.lock().unwrap().clone();
        let seen = proxy.log();
        assert_eq!(all.len(), seen.len());
        all.into_iter()
            .zip(&seen)
            .filter(|(_, s)| !s.header("authorization").is_empty())
            .map(|(t, _)| t)
            .collect()
    };
    assert!(
        signed.len() >= 15,
        "too few requests to measure: {}",
        signed.len()
    );
    let span = signed[signed.len() - 1] - signed[0];
    let per_sec = (signed.len() - 1) as f64 / span.as_secs_f64();
    assert!(
        per_sec <= 11.0,
        "{} requests in {span:?}: {per_sec:.1} per second with --rate 10",
        signed.len()
    );
}
