//! The conformance binary against hostile targets: exit codes, one-line reasons, SIGINT.

use super::*;

// the `conformance` binary

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
pub(super) fn cannot_judge(ended: &cli::Ended, why: &str) {
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
        let mut all: Vec<String> = fixture::cases()
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
    let secrets: Vec<String> = fixture::cases()
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
pub(super) async fn tls_front(
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
