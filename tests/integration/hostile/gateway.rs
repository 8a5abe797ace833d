//! Targets behind an API gateway: a header of its own on every request (its value a secret that
//! no output shows), a private certificate authority, a client certificate (mutual TLS), and
//! the one-line usage errors of the flags that ask for them.

use std::sync::Arc;
use std::time::Duration;

use tokio_rustls::rustls;

use super::proxy::{Hook, Proxy};
use super::reference::Reference;
use super::{assert_no_secret, cannot_judge, cli, readable, tls_front};
use crate::fixture;

const GATEWAY_KEY: &str = "gw-key-7f3a9c1e5b2d-never-print-me";
const GATEWAY_TENANT: &str = "tenant-0b9e8d7c6a5f-also-secret";

/// The address of the reference server (for a TLS front that forwards to it).
pub(super) fn backend(reference: &Reference) -> std::net::SocketAddr {
    reference
        .srv
        .base_url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("base url")
}

/// `run` against `url` with the reference server's owner credentials and Cloud Manager project,
/// the PAGER_DUTY state cases only.
fn run_args(reference: &Reference, url: &str, reports: &cli::TempDir, auth: &str) -> Vec<String> {
    let c = &reference.srv.credentials;
    [
        "run",
        "--target",
        url,
        "--auth",
        auth,
        "--cm-group-id",
        &c.cm_group_id,
        "--api",
        "cloud-manager",
        "--category",
        "state",
        "--filter",
        "pager-duty",
        "--timeout",
        "5",
        "--report-dir",
        &reports.path(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Every request of a run through a recording proxy carries the gateway's headers, also the
/// digest challenge fetches (digest) and the token request (OAuth), given with `--header` or
/// in conformance.toml; the values are in no report, no HAR, no reproduction and not on the
/// console, while the exchanges still record that the headers were sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_gateway_headers_reach_every_request_and_never_show() {
    let reference = Reference::start().await;
    let c = &reference.srv.credentials;
    let secrets = vec![GATEWAY_KEY.to_owned(), GATEWAY_TENANT.to_owned()];
    let token_path = fixture::harness().model.token_path.clone();
    for (auth, tag) in [
        (
            format!("digest:{}:{}", c.owner.public, c.owner.private),
            "digest",
        ),
        (
            format!("oauth:{}:{}", c.oauth.client_id, c.oauth.client_secret),
            "oauth",
        ),
    ] {
        // A failing get, so that the run writes reproductions too; its answer quotes the key,
        // as a gateway's error page might.
        let proxy = Proxy::start(&reference.srv.base_url, |method, path| {
            if method == "GET" && path.ends_with("/integrations/PAGER_DUTY") {
                Hook::Reply {
                    status: 500,
                    headers: vec![
                        ("content-type", "application/json".to_owned()),
                        ("x-echo", format!("key={GATEWAY_KEY}")),
                    ],
                    body: format!(
                        r#"{{"detail":"upstream refused key {GATEWAY_KEY} of {GATEWAY_TENANT}"}}"#
                    ),
                }
            } else {
                Hook::Forward
            }
        })
        .await;
        let reports = cli::TempDir::new(&format!("gateway-{tag}"));
        let mut args = run_args(&reference, &proxy.url, &reports, &auth);
        let har = format!("{}/run.har", reports.path());
        args.extend(["--har".to_owned(), har]);
        if tag == "digest" {
            // From the file, as a team's CI would keep them (values from the environment there).
            let config = format!("{}/conformance.toml", reports.path());
            std::fs::write(
                &config,
                format!(
                    "header = [\"X-Gateway-Key: {GATEWAY_KEY}\", \"X-Tenant:{GATEWAY_TENANT}\"]\n"
                ),
            )
            .expect("write config");
            args.extend(["--config".to_owned(), config]);
        } else {
            args.extend([
                "--header".to_owned(),
                format!("X-Gateway-Key: {GATEWAY_KEY}"),
                "--header".to_owned(),
                format!("x-tenant:   {GATEWAY_TENANT}"),
            ]);
        }
        let ended = cli::run(args, Duration::from_secs(30)).await;
        assert_eq!(ended.code, Some(1), "{tag}: {ended:?}");

        let log = proxy.log();
        assert!(log.len() > 5, "{tag}: {log:?}");
        for seen in &log {
            assert_eq!(
                seen.header("x-gateway-key"),
                [GATEWAY_KEY],
                "{tag}: {} {}",
                seen.method,
                seen.path
            );
            assert_eq!(
                seen.header("x-tenant"),
                [GATEWAY_TENANT],
                "{tag}: {} {}",
                seen.method,
                seen.path
            );
        }
        assert!(
            log.iter().any(|s| s.method == "DELETE"),
            "{tag}: no cleanup seen"
        );
        if tag == "oauth" {
            assert!(
                log.iter().any(|s| s.path.ends_with(&token_path)),
                "{tag}: no token request seen: {log:?}"
            );
        } else {
            assert!(
                log.iter()
                    .any(|s| s.header("authorization").is_empty() && s.method == "GET"),
                "{tag}: no digest challenge fetch seen"
            );
        }

        let files = reports.files();
        let names: Vec<String> = files
            .iter()
            .filter_map(|(p, _)| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        for expected in [
            "report.json",
            "junit.xml",
            "report.md",
            "report.html",
            "run.har",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{tag}: no {expected} in {names:?}"
            );
        }
        for (path, text) in &files {
            if path.ends_with("conformance.toml") {
                continue; // the user's own file
            }
            assert_no_secret(text, &secrets, &format!("{tag}: {}", path.display()));
            assert_no_secret(
                &readable(path, text),
                &secrets,
                &format!("{tag}: {} (decoded)", path.display()),
            );
        }
        assert_no_secret(
            &ended.all_output(),
            &secrets,
            &format!("{tag}: the console"),
        );
        // Recorded as sent, value scrubbed: the proof that the scrubbing had work to do.
        let report = &files
            .iter()
            .find(|(p, _)| p.ends_with("report.json"))
            .expect("report.json")
            .1;
        let doc: serde_json::Value = serde_json::from_str(report).expect("json");
        let recorded = doc.to_string();
        assert!(
            recorded.contains(r#"{"name":"x-gateway-key","value":"{{secret}}"}"#)
                && recorded.contains(r#"{"name":"x-tenant","value":"{{secret}}"}"#),
            "{tag}: the gateway header is not recorded as sent"
        );
        // The reproductions send the headers from CONFORMANCE_HEADERS, as `run` reads them.
        let repros = readable(std::path::Path::new("report.json"), report);
        assert!(
            repros.contains("GATEWAY_HEADERS=$(mktemp); printf '%s\\n' \"$CONFORMANCE_HEADERS\"")
                && repros.contains("-H @\"$GATEWAY_HEADERS\""),
            "{tag}: no reproduction sends the gateway headers"
        );
    }
}

/// `CONFORMANCE_HEADERS` holds one header a line (blank lines skipped), as `run --help` says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_gateway_headers_from_the_environment_one_a_line() {
    let reference = Reference::start().await;
    let proxy = Proxy::start(&reference.srv.base_url, |_, _| Hook::Forward).await;
    let c = &reference.srv.credentials;
    let auth = format!("digest:{}:{}", c.owner.public, c.owner.private);
    let reports = cli::TempDir::new("gateway-env");
    let args = run_args(&reference, &proxy.url, &reports, &auth);
    let headers = format!("X-Gateway-Key: {GATEWAY_KEY}\r\n\nX-Tenant: {GATEWAY_TENANT}\n");
    let ran =
        crate::cli::conformance_async(args, vec![("CONFORMANCE_HEADERS".to_owned(), headers)])
            .await;
    assert_eq!(ran.code, 0, "{ran:?}");
    let log = proxy.log();
    assert!(!log.is_empty());
    for seen in &log {
        assert_eq!(seen.header("x-gateway-key"), [GATEWAY_KEY], "{seen:?}");
        assert_eq!(seen.header("x-tenant"), [GATEWAY_TENANT], "{seen:?}");
    }
    let console = format!("{}\n{}", ran.stdout, ran.stderr);
    assert!(
        !console.contains(GATEWAY_KEY) && !console.contains(GATEWAY_TENANT),
        "{console}"
    );
}

/// A certificate authority of the test's own, and a certificate it issued.
pub(super) struct Pki {
    pub(super) ca: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
}

pub(super) struct Issued {
    pub(super) cert: rcgen::Certificate,
    pub(super) key: rcgen::KeyPair,
}

impl Pki {
    pub(super) fn new(name: &str) -> Pki {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let key = rcgen::KeyPair::generate().expect("key");
        Pki {
            ca: rcgen::CertifiedIssuer::self_signed(params, key).expect("CA"),
        }
    }

    pub(super) fn issue(&self, names: &[&str], usage: rcgen::ExtendedKeyUsagePurpose) -> Issued {
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .expect("params");
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            names.first().copied().unwrap_or("client"),
        );
        params.extended_key_usages = vec![usage];
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.ca).expect("issued");
        Issued { cert, key }
    }

    pub(super) fn roots(&self) -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca.der().clone()).expect("root");
        roots
    }
}

impl Issued {
    pub(super) fn key_der(&self) -> rustls::pki_types::PrivateKeyDer<'static> {
        rustls::pki_types::PrivateKeyDer::Pkcs8(self.key.serialize_der().into())
    }
}

/// A TLS server configuration with a certificate of `server_pki` that requires a client
/// certificate of `client_pki`.
pub(super) fn mutual_tls(server_pki: &Pki, client_pki: &Pki) -> Arc<rustls::ServerConfig> {
    let server = server_cert(server_pki);
    let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(client_pki.roots()))
        .build()
        .expect("client verifier");
    let config = rustls::ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![server.cert.der().clone()], server.key_der())
        .expect("server config");
    Arc::new(config)
}

pub(super) fn server_cert(pki: &Pki) -> Issued {
    pki.issue(
        &["127.0.0.1", "localhost"],
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
    )
}

/// An HTTPS target whose certificate a private CA issued: refused as a TLS failure (exit 2)
/// without `--ca-cert`, judged (without `--insecure`) with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_gateway_ca_cert_trusts_a_private_ca() {
    let reference = Reference::start().await;
    let pki = Pki::new("conformance test CA");
    let server = server_cert(&pki);
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![server.cert.der().clone()], server.key_der())
        .expect("server config");
    let (front, task) = tls_front(backend(&reference), Arc::new(config)).await;
    let c = &reference.srv.credentials;
    let auth = format!("digest:{}:{}", c.owner.public, c.owner.private);
    let url = format!("https://{front}");
    for with_ca in [false, true] {
        let reports = cli::TempDir::new("gateway-ca");
        let mut args = run_args(&reference, &url, &reports, &auth);
        if with_ca {
            let ca = format!("{}/ca.pem", reports.path());
            std::fs::write(&ca, pki.ca.pem()).expect("write CA");
            args.extend(["--ca-cert".to_owned(), ca]);
        }
        let ended = cli::run(args, Duration::from_secs(30)).await;
        if with_ca {
            assert_eq!(ended.code, Some(0), "{ended:?}");
        } else {
            cannot_judge(&ended, "TLS failure");
            assert!(
                ended.stderr.to_lowercase().contains("certificate"),
                "{:?}",
                ended.stderr
            );
        }
    }
    task.abort();
}

/// A TLS target that requires a client certificate its CA issued: refused without
/// `--client-cert` (exit 2), judged with it; a certificate of another CA is refused too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_gateway_client_certificate_for_mutual_tls() {
    let reference = Reference::start().await;
    let server_pki = Pki::new("server CA");
    let client_pki = Pki::new("client CA");
    let stranger_pki = Pki::new("some other CA");
    let config = mutual_tls(&server_pki, &client_pki);
    let (front, task) = tls_front(backend(&reference), config).await;
    let c = &reference.srv.credentials;
    let auth = format!("digest:{}:{}", c.owner.public, c.owner.private);
    let url = format!("https://{front}");

    let client = client_pki.issue(&["client"], rcgen::ExtendedKeyUsagePurpose::ClientAuth);
    let stranger = stranger_pki.issue(&["client"], rcgen::ExtendedKeyUsagePurpose::ClientAuth);
    for (who, identity) in [
        ("none", None),
        ("stranger", Some(&stranger)),
        ("client", Some(&client)),
    ] {
        let reports = cli::TempDir::new(&format!("gateway-mtls-{who}"));
        let ca = format!("{}/ca.pem", reports.path());
        std::fs::write(&ca, server_pki.ca.pem()).expect("write CA");
        let mut args = run_args(&reference, &url, &reports, &auth);
        args.extend(["--ca-cert".to_owned(), ca]);
        if let Some(id) = identity {
            let cert = format!("{}/client.pem", reports.path());
            let key = format!("{}/client.key", reports.path());
            std::fs::write(&cert, id.cert.pem()).expect("write cert");
            std::fs::write(&key, id.key.serialize_pem()).expect("write key");
            args.extend([
                "--client-cert".to_owned(),
                cert,
                "--client-key".to_owned(),
                key,
            ]);
        }
        let ended = cli::run(args, Duration::from_secs(30)).await;
        if who == "client" {
            assert_eq!(ended.code, Some(0), "{who}: {ended:?}");
        } else {
            // TLS 1.3: the server's refusal of the client may only show once the request is
            // written; either way the first request fails and the run cannot judge.
            assert!(!ended.killed, "{who}: {ended:?}");
            assert_eq!(ended.code, Some(2), "{who}: {ended:?}");
            let last = ended.stderr.lines().last().unwrap_or("");
            assert!(
                last.starts_with("conformance: cannot judge the target"),
                "{who}: {last:?}"
            );
        }
    }
    task.abort();
}

/// Every usage mistake of the gateway flags: exit 2, one line, naming the flag or header and
/// never a header's value; nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_gateway_usage_errors_are_one_line_and_never_show_a_value() {
    let reference = Reference::start().await;
    let proxy = Proxy::start(&reference.srv.base_url, |_, _| Hook::Forward).await;
    let c = &reference.srv.credentials;
    let auth = format!("digest:{}:{}", c.owner.public, c.owner.private);
    let dir = cli::TempDir::new("gateway-usage");
    let path = |name: &str| format!("{}/{name}", dir.path());
    let pki = Pki::new("usage CA");
    let one = pki.issue(&["client"], rcgen::ExtendedKeyUsagePurpose::ClientAuth);
    let other = pki.issue(&["client"], rcgen::ExtendedKeyUsagePurpose::ClientAuth);
    std::fs::write(path("junk.pem"), "hunter2-not-pem").unwrap();
    std::fs::write(path("cert.pem"), one.cert.pem()).unwrap();
    std::fs::write(path("key.pem"), one.key.serialize_pem()).unwrap();
    std::fs::write(path("other.key"), other.key.serialize_pem()).unwrap();
    let secret = "hunter2-gateway-value";
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--header".into(), format!("X-Key {secret}")],
            "no colon",
        ),
        (
            vec!["--header".into(), format!("X Key: {secret}")],
            "not a valid HTTP header name",
        ),
        (
            vec!["--header".into(), format!("X-Key: {secret}\u{1}")],
            "--header x-key",
        ),
        (
            vec!["--header".into(), format!("Authorization: Bearer {secret}")],
            "--header authorization",
        ),
        (
            vec!["--header".into(), format!("Accept: {secret}")],
            "--header accept",
        ),
        (
            vec!["--header".into(), format!("content-type: {secret}")],
            "--header content-type",
        ),
        (
            vec!["--header".into(), format!("HOST: {secret}")],
            "--header host",
        ),
        (
            vec!["--header".into(), format!("Content-Length: {secret}")],
            "--header content-length",
        ),
        (vec!["--ca-cert".into(), path("missing.pem")], "--ca-cert"),
        (
            vec!["--ca-cert".into(), path("junk.pem")],
            "no PEM certificate",
        ),
        (
            vec!["--client-cert".into(), path("cert.pem")],
            "--client-cert needs --client-key",
        ),
        (
            vec!["--client-key".into(), path("key.pem")],
            "--client-key needs --client-cert",
        ),
        (
            vec![
                "--client-cert".into(),
                path("junk.pem"),
                "--client-key".into(),
                path("key.pem"),
            ],
            "--client-cert",
        ),
        (
            vec![
                "--client-cert".into(),
                path("cert.pem"),
                "--client-key".into(),
                path("junk.pem"),
            ],
            "no PEM private key",
        ),
        (
            vec![
                "--client-cert".into(),
                path("cert.pem"),
                "--client-key".into(),
                path("other.key"),
            ],
            "does not belong to the certificate",
        ),
    ];
    for (extra, needle) in cases {
        let reports = cli::TempDir::new("gateway-usage-run");
        let mut args = run_args(&reference, &proxy.url, &reports, &auth);
        args.extend(extra.iter().cloned());
        let ended = cli::run(args, Duration::from_secs(10)).await;
        assert_eq!(ended.code, Some(2), "{extra:?}: {ended:?}");
        let lines: Vec<&str> = ended.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{extra:?}: {:?}", ended.stderr);
        assert!(
            lines[0].starts_with("conformance: ") && lines[0].contains(needle),
            "{extra:?}: {:?} does not say {needle:?}",
            lines[0]
        );
        assert!(
            !ended.all_output().contains("hunter2"),
            "{extra:?}: a value was shown: {:?}",
            ended.stderr
        );
    }
    assert!(
        proxy.log().is_empty(),
        "a request was sent: {:?}",
        proxy.log()
    );
}
