//! The `conformance` binary as a user runs it: exit codes 0, 1 and 2 (each with its one-line
//! reason on stderr), `serve`, `cases`, and that `--help` never shows a secret from the
//! environment.

use crate::fixture;
use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use integrations_conformance::auth::{AuthSpec, Authenticator};
use integrations_conformance::case::{self, Category};
use integrations_conformance::model;
use integrations_conformance::server::{Fault, RunningServer, Variant};
use serde_json::Value;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_conformance");

/// Every case the binary runs from the crate root: the generated ones and those of the
/// reproductions kept in `regressions/`.
pub(crate) fn all_cases() -> Vec<case::Case> {
    let m = model::bundled().unwrap();
    let mut all = case::generate(&m);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(integrations_conformance::explore::regression::DIR);
    all.extend(integrations_conformance::explore::regression::cases(&m, &dir).unwrap());
    all
}

/// Variables that would point a run somewhere else than the test says: the target settings'
/// (all of them, as the library names them), the known failures' and the proxies'.
pub(crate) fn ambient() -> impl Iterator<Item = String> {
    integrations_conformance::settings::variables()
        .into_iter()
        .chain(
            [
                "CONFORMANCE_KNOWN_FAILURES",
                "CONFORMANCE_WAIT_FOR_TARGET",
                "HTTP_PROXY",
                "HTTPS_PROXY",
                "ALL_PROXY",
                "http_proxy",
                "https_proxy",
            ]
            .map(String::from),
        )
}

/// What a run of the binary left behind.
#[derive(Debug)]
pub(crate) struct Ran {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Ran {
    /// The last stderr line (the one that says why the run ended as it did).
    pub(crate) fn reason(&self) -> &str {
        self.stderr.lines().last().unwrap_or("")
    }
}

/// Run the binary with `args` and exactly the `CONFORMANCE_*` variables in `env`.
pub(crate) fn conformance(args: &[&str], env: &[(&str, &str)]) -> Ran {
    conformance_in(Path::new(env!("CARGO_MANIFEST_DIR")), args, env)
}

/// [`conformance`] in the working directory `dir` (where `run` looks for `conformance.toml`).
pub(crate) fn conformance_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Ran {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(dir);
    for v in ambient() {
        cmd.env_remove(v);
    }
    cmd.envs(env.iter().copied());
    let out = cmd.output().expect("the binary runs");
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// [`conformance`] on a blocking thread, so that a server on the test's runtime keeps serving.
pub(crate) async fn conformance_async(args: Vec<String>, env: Vec<(String, String)>) -> Ran {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        conformance(&args, &env)
    })
    .await
    .expect("the run's thread finishes")
}

/// A fresh, empty directory for one test's reports.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("conformance-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The `--target` flags for a running server (owner and read-only digest keys, every project).
pub(crate) fn target_flags(server: &RunningServer) -> Vec<String> {
    let c = &server.credentials;
    [
        "--target",
        &server.base_url,
        "--auth",
        &format!("digest:{}:{}", c.owner.public, c.owner.private),
        "--readonly-auth",
        &format!("digest:{}:{}", c.read_only.public, c.read_only.private),
        "--group-id",
        &c.atlas_group_id,
        "--cm-group-id",
        &c.cm_group_id,
        "--other-group-id",
        &c.other_group_id,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

pub(crate) fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

pub(crate) fn assert_one_line_reason(ran: &Ran, needle: &str) {
    assert_eq!(ran.code, 2, "{ran:?}");
    let lines: Vec<&str> = ran.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {:?}", ran.stderr);
    assert!(lines[0].starts_with("conformance: "), "{:?}", lines[0]);
    assert!(
        lines[0].contains(needle),
        "{:?} does not mention {needle:?}",
        lines[0]
    );
}

// ---------------------------------------------------------------------------------------------
// run: exit code 0
// ---------------------------------------------------------------------------------------------

#[test]
fn run_without_a_target_judges_the_embedded_server_conformant_and_writes_every_report() {
    let dir = scratch("full");
    let ran = conformance(&["run", "--report-dir", dir.to_str().unwrap()], &[]);
    assert_eq!(ran.code, 0, "{ran:?}");
    assert!(
        ran.reason().starts_with("conformance: conformant: "),
        "{:?}",
        ran.reason()
    );
    for name in ["report.json", "junit.xml", "report.md", "report.html"] {
        assert!(dir.join(name).is_file(), "{name} was not written");
    }
    let doc = read_json(&dir.join("report.json"));
    crate::report::assert_valid(&doc);
    // The generated cases and the run's exploration entry.
    let total = all_cases().len() + 1;
    assert_eq!(doc["summary"]["total"], total, "the full suite ran");
    let explored = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["category"] == "exploration")
        .count();
    assert_eq!(explored, 1, "one exploration entry");
    assert_eq!(doc["summary"]["passed"], total);
    assert_eq!(doc["summary"]["verdict"], "conformant");
    assert_eq!(doc["target"]["embedded"], true);
    // The summary table on stdout: a row per family × category and the total.
    assert!(
        ran.stdout
            .lines()
            .any(|l| l.starts_with("total") && l.contains(&total.to_string())),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout
            .lines()
            .any(|l| l.starts_with("atlas-v2") && l.contains("versions")),
        "{}",
        ran.stdout
    );
    // Not a terminal: plain progress lines, no bar.
    assert!(ran.stderr.contains("% ("), "{}", ran.stderr);
}

#[test]
fn run_selects_by_api_category_and_filter() {
    let dir = scratch("select");
    let ran = conformance(
        &[
            "run",
            "--api",
            "atlas-v2",
            "--category",
            "envelope",
            "--filter",
            "listGroup",
            "--report-dir",
            dir.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(ran.code, 0, "{ran:?}");
    let doc = read_json(&dir.join("report.json"));
    let cases = doc["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    for c in cases {
        let id = c["id"].as_str().unwrap();
        assert!(id.starts_with("atlas-v2/listGroupIntegrations/"), "{id}");
        assert_eq!(c["category"], "envelope", "{id}");
    }
    assert_eq!(
        doc["selection"]["families"],
        serde_json::json!(["atlas-v2"])
    );
    assert_eq!(
        doc["selection"]["categories"],
        serde_json::json!(["envelope"])
    );
    assert_eq!(doc["selection"]["filter"], "listGroup");
}

// ---------------------------------------------------------------------------------------------
// run: exit code 1
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_against_a_faulty_server_is_non_conformant() {
    let srv = fixture::server(vec![Fault::SecretInClearOnGet]).await;
    let dir = scratch("faulty");
    let mut args: Vec<String> = [
        "run",
        "--category",
        "redaction",
        "--report-dir",
        dir.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    args.extend(target_flags(&srv));
    let ran = conformance_async(args, Vec::new()).await;
    assert_eq!(ran.code, 1, "{ran:?}");
    assert!(
        ran.reason().starts_with("conformance: non-conformant: "),
        "{:?}",
        ran.reason()
    );
    assert!(ran.stdout.contains("failed cases ("), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("[secret_redaction]") || ran.stdout.contains("[mask_format]"),
        "{}",
        ran.stdout
    );
    let doc = read_json(&dir.join("report.json"));
    assert_eq!(doc["summary"]["verdict"], "non-conformant");
    assert_eq!(doc["target"]["embedded"], false);
    assert!(doc["summary"]["failed"].as_u64().unwrap() > 0);
    // Written in full although the run failed.
    for name in ["junit.xml", "report.md", "report.html"] {
        assert!(dir.join(name).is_file(), "{name}");
    }
    srv.shutdown().await.unwrap();
}

/// Against a target other than the embedded one, the expired-token cases run with the token the
/// user gives (and fail when the target accepts it), and are skipped with that reason without.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_cases_run_on_any_target_given_a_token() {
    let run = |srv: &RunningServer, token: Option<String>, name: &str| {
        let dir = scratch(name);
        let mut args: Vec<String> = ["run", "--filter", "expired-bearer-token", "--report-dir"]
            .map(String::from)
            .to_vec();
        args.push(dir.to_str().unwrap().to_owned());
        args.extend(target_flags(srv));
        let env: Vec<(String, String)> = token
            .map(|t| vec![("CONFORMANCE_EXPIRED_TOKEN".to_owned(), t)])
            .unwrap_or_default();
        (conformance_async(args, env), dir)
    };
    for (faults, code) in [(vec![], 0), (vec![Fault::ExpiredTokenAccepted], 1)] {
        let srv = fixture::server(faults).await;
        let token = srv.info_json()["expired_token"]
            .as_str()
            .expect("serve prints an expired token")
            .to_owned();
        let (ran, dir) = run(&srv, Some(token.clone()), "expired-token");
        let ran = ran.await;
        assert_eq!(ran.code, code, "{ran:?}");
        let doc = read_json(&dir.join("report.json"));
        let total = doc["summary"]["total"].as_u64().unwrap();
        assert!(total >= 15, "{doc}");
        assert_eq!(doc["summary"]["skipped"], 0, "{doc}");
        for name in ["report.json", "junit.xml", "report.md", "report.html"] {
            let text = std::fs::read_to_string(dir.join(name)).unwrap();
            assert!(!text.contains(&token), "{name} shows the expired token");
        }
        assert!(!ran.stdout.contains(&token) && !ran.stderr.contains(&token));

        let (ran, dir) = run(&srv, None, "no-expired-token");
        let ran = ran.await;
        assert_eq!(ran.code, 2, "nothing could be judged: {ran:?}");
        let doc = read_json(&dir.join("report.json"));
        assert_eq!(doc["summary"]["skipped"], total, "{doc}");
        assert!(
            ran.stderr
                .contains("--expired-token or CONFORMANCE_EXPIRED_TOKEN"),
            "{ran:?}"
        );
        srv.shutdown().await.unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// run: exit code 2
// ---------------------------------------------------------------------------------------------

#[test]
fn an_unreachable_target_cannot_be_judged() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = scratch("unreachable");
    let url = format!("http://127.0.0.1:{port}");
    let ran = conformance(
        &[
            "run",
            "--target",
            &url,
            "--group-id",
            "5e2211c17a3e5a48f5497de3",
            "--timeout",
            "2",
            "--report-dir",
            dir.to_str().unwrap(),
        ],
        &[("CONFORMANCE_AUTH", "digest:pubkey:priv-0123456789")],
    );
    assert_eq!(ran.code, 2, "{ran:?}");
    let reason = ran.reason();
    assert!(
        reason.starts_with("conformance: cannot judge the target: ")
            && reason.contains("cannot reach"),
        "{reason:?}"
    );
    assert!(!ran.stderr.contains("priv-0123456789"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_the_target_refuses_cannot_judge_it() {
    let srv = fixture::server(Vec::new()).await;
    let c = &srv.credentials;
    let wrong = format!("digest:{}:not-the-private-key", c.owner.public);
    for auth in [wrong.as_str(), "bearer:never-issued-token-0123"] {
        let args = [
            "run",
            "--target",
            &srv.base_url,
            "--group-id",
            &c.atlas_group_id,
            "--report-dir",
            scratch("refused").to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec();
        let ran = conformance_async(args, vec![("CONFORMANCE_AUTH".into(), auth.into())]).await;
        assert_eq!(ran.code, 2, "{ran:?}");
        assert!(
            ran.reason()
                .starts_with("conformance: cannot judge the target: ")
                && ran.reason().contains("refuses the credentials"),
            "{:?}",
            ran.reason()
        );
        assert!(
            !ran.stderr.contains("not-the-private-key")
                && !ran.stderr.contains("never-issued-token"),
            "{}",
            ran.stderr
        );
    }
    srv.shutdown().await.unwrap();
}

#[test]
fn an_unknown_flag_is_a_usage_error_on_one_line() {
    let ran = conformance(&["run", "--bogus"], &[]);
    assert_one_line_reason(&ran, "unexpected argument '--bogus'");
    let ran = conformance(&["run", "--category", "nonsense"], &[]);
    assert_one_line_reason(&ran, "unknown category; known: validation");
    let ran = conformance(&["run", "--jobs", "0"], &[]);
    assert_one_line_reason(&ran, "--jobs");
    let ran = conformance(&["run", "--api", "atlas-v3"], &[]);
    assert_one_line_reason(&ran, "unknown API family \"atlas-v3\"");
    let ran = conformance(&["run", "--filter", "no-case-has-this-in-its-id"], &[]);
    assert_one_line_reason(&ran, "no case matches the selection");
    let ran = conformance(&[], &[]);
    assert_eq!(ran.code, 2, "{ran:?}");
}

#[test]
fn malformed_credentials_are_refused_without_repeating_them() {
    let secret = "Zq9-not-to-be-printed";
    for auth in [
        format!("digest:{secret}"),
        format!("basic:{secret}:x"),
        format!("oauth::{secret}"),
    ] {
        let ran = conformance(
            &[
                "run",
                "--target",
                "http://127.0.0.1:9",
                "--group-id",
                "5e2211c17a3e5a48f5497de3",
            ],
            &[("CONFORMANCE_AUTH", auth.as_str())],
        );
        assert_one_line_reason(&ran, "CONFORMANCE_AUTH");
        assert!(
            !ran.stderr.contains(secret) && !ran.stdout.contains(secret),
            "{ran:?}"
        );
        let ran = conformance(
            &[
                "run",
                "--target",
                "http://127.0.0.1:9",
                "--group-id",
                "5e2211c17a3e5a48f5497de3",
                "--auth",
                &auth,
            ],
            &[],
        );
        assert_one_line_reason(&ran, "--auth");
        assert!(!ran.stderr.contains(secret), "{ran:?}");
    }
    let ran = conformance(
        &[
            "run",
            "--target",
            "http://127.0.0.1:9",
            "--group-id",
            "5e2211c17a3e5a48f5497de3",
        ],
        &[],
    );
    assert_one_line_reason(&ran, "--target needs credentials");
    let ran = conformance(
        &[
            "run",
            "--target",
            "http://user:pw@127.0.0.1:9",
            "--auth",
            "bearer:tok-1234",
        ],
        &[],
    );
    assert_one_line_reason(&ran, "must not carry credentials");
    let ran = conformance(
        &[
            "run",
            "--target",
            "ftp://127.0.0.1:9",
            "--auth",
            "bearer:tok-1234",
        ],
        &[],
    );
    assert_one_line_reason(&ran, "http or https");
    let ran = conformance(&["run"], &[("CONFORMANCE_AUTH", "digest:a:b")]);
    assert_one_line_reason(&ran, "no target");
}

#[test]
fn a_broken_spec_cannot_be_used() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut seen = 0;
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("broken-") {
            continue;
        }
        seen += 1;
        let ran = conformance(
            &[
                "run",
                "--spec",
                path.to_str().unwrap(),
                "--report-dir",
                scratch("broken").to_str().unwrap(),
            ],
            &[],
        );
        assert_one_line_reason(&ran, &format!("cannot use spec {}", path.display()));
        let ran = conformance(&["cases", "--spec", path.to_str().unwrap()], &[]);
        assert_one_line_reason(&ran, &name);
    }
    assert!(seen >= 3, "the broken-*.yaml fixtures are there");
    let ran = conformance(&["run", "--spec", "tests/fixtures/no-such-spec.yaml"], &[]);
    assert_one_line_reason(&ran, "no-such-spec.yaml");
}

#[test]
fn help_never_shows_what_the_environment_holds() {
    let secret = "digest:pubK3y:s3cr3t-private-value";
    for args in [&["run", "--help"][..], &["run", "-h"], &["--help"]] {
        let ran = conformance(
            args,
            &[
                ("CONFORMANCE_AUTH", secret),
                ("CONFORMANCE_READONLY_AUTH", secret),
                ("CONFORMANCE_TARGET", "https://secret-host.example"),
                ("CONFORMANCE_HEADERS", "X-Gateway-Key: s3cr3t-gateway-key"),
            ],
        );
        assert_eq!(ran.code, 0, "{ran:?}");
        assert!(
            !ran.stdout.contains("s3cr3t")
                && !ran.stdout.contains("pubK3y")
                && !ran.stdout.contains("secret-host"),
            "{}",
            ran.stdout
        );
        if args[0] == "run" {
            assert!(
                ran.stdout.contains("CONFORMANCE_AUTH"),
                "the variable is named: {}",
                ran.stdout
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// serve
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_prints_how_to_reach_it_and_answers() {
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0", "--fault", "missing-next-link"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let info: Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not one JSON line ({e}): {line:?}"));
    for pointer in [
        "/base_url",
        "/atlas_group_id",
        "/cm_group_id",
        "/other_group_id",
        "/owner/public",
        "/owner/private",
        "/read_only/public",
        "/read_only/private",
        "/oauth/client_id",
        "/oauth/client_secret",
    ] {
        assert!(
            info.pointer(pointer)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty()),
            "{pointer} in {info}"
        );
    }
    let base = info["base_url"].as_str().unwrap();
    let url = format!(
        "{base}/api/atlas/v2/groups/{}/integrations",
        info["atlas_group_id"].as_str().unwrap()
    );
    let http = reqwest::Client::new();
    let client = integrations_conformance::transport::Client::new(&Default::default()).unwrap();
    let anonymous = http
        .get(&url)
        .header("Accept", "application/vnd.atlas.2025-03-12+json")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    let owner = Authenticator::new(
        AuthSpec::Digest {
            public: info["owner"]["public"].as_str().unwrap().into(),
            private: info["owner"]["private"].as_str().unwrap().into(),
        },
        url::Url::parse(base).unwrap(),
    );
    let uri = url.trim_start_matches(base).to_owned();
    let mut answered = None;
    let get = reqwest::Method::GET;
    let mut signed = owner.sign(&client, &get, &uri).await.unwrap();
    for _ in 0..2 {
        let mut req = http
            .get(&url)
            .header("Accept", "application/vnd.atlas.2025-03-12+json");
        if let Some(h) = &signed.header {
            req = req.header("Authorization", h.clone());
        }
        let resp = req.send().await.unwrap();
        if let Some(retry) = owner.learn(&signed, resp.status(), resp.headers()) {
            signed = owner.sign_retry(retry, &client, &get, &uri).await.unwrap();
            continue;
        }
        answered = Some(resp);
        break;
    }
    let resp = answered.expect("an answer");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(body["results"].is_array(), "{body}");

    // SIGTERM stops it cleanly.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("missing-next-link") && stderr.contains("stopped"),
        "{stderr}"
    );
}

#[test]
fn serve_lists_every_fault_and_refuses_an_unknown_one() {
    let ran = conformance(&["serve", "--list-faults"], &[]);
    assert_eq!(ran.code, 0, "{ran:?}");
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert_eq!(lines.len(), Fault::ALL.len());
    for (line, fault) in lines.iter().zip(Fault::ALL) {
        let cols: Vec<&str> = line
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(
            cols,
            [fault.name(), fault.category(), fault.description()],
            "{line}"
        );
    }
    let ran = conformance(&["serve", "--fault", "no-such-fault"], &[]);
    assert_one_line_reason(
        &ran,
        "unknown fault \"no-such-fault\"; known faults: secret-in-clear-on-get",
    );
    assert!(ran.stderr.contains("--list-faults"), "{}", ran.stderr);
    let ran = conformance(&["serve", "--port", "0", "--group-id", "not-hex"], &[]);
    assert_one_line_reason(&ran, "not-hex");
}

#[test]
fn serve_lists_every_variant_and_refuses_an_unknown_one() {
    let ran = conformance(&["serve", "--list-variants"], &[]);
    assert_eq!(ran.code, 0, "{ran:?}");
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert_eq!(lines.len(), Variant::ALL.len());
    for (line, variant) in lines.iter().zip(Variant::ALL) {
        assert!(line.starts_with(variant.name()), "{line}");
        assert!(line.contains(variant.description()), "{line}");
        assert!(line.contains(variant.contract()), "{line}");
    }
    let ran = conformance(&["serve", "--variant", "no-such-variant"], &[]);
    assert_one_line_reason(
        &ran,
        "unknown variant \"no-such-variant\"; known variants: all, ",
    );
    assert!(ran.stderr.contains("--list-variants"), "{}", ran.stderr);
    // a variant is a choice of the embedded server: it cannot apply to another target
    let ran = conformance(
        &["run", "--target", "http://127.0.0.1:9", "--variant", "all"],
        &[
            ("CONFORMANCE_AUTH", "digest:a:b"),
            ("CONFORMANCE_GROUP_ID", "0123456789abcdef01234567"),
        ],
    );
    assert_one_line_reason(&ran, "--variant");
}

#[test]
fn run_with_every_variant_is_conformant_and_reports_warnings() {
    let dir = scratch("variants");
    let ran = conformance(
        &[
            "run",
            "--variant",
            "all",
            "--category",
            "state",
            "--report-dir",
            dir.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(ran.code, 0, "{ran:?}");
    let warnings = read_json(&dir.join("report.json"))["summary"]["warnings"]
        .as_u64()
        .unwrap();
    assert!(warnings > 0);
    assert!(
        ran.reason().contains(&format!("{warnings} warnings")),
        "{:?}",
        ran.reason()
    );
    assert!(
        ran.stdout.contains(&format!("{warnings} warnings")),
        "{}",
        ran.stdout
    );
    let doc = read_json(&dir.join("report.json"));
    crate::report::assert_valid(&doc);
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains(&format!("## Warnings ({warnings})")), "{md}");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains(&format!("<h2>Warnings ({warnings})</h2>")));
    let xml = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(xml.contains("name=\"warnings\""), "{xml}");
    assert!(xml.contains("<system-out>warning [unlisted_field]"));
    assert!(!xml.contains("<failure"), "warnings never fail a test case");
}

// ---------------------------------------------------------------------------------------------
// cases
// ---------------------------------------------------------------------------------------------

#[test]
fn cases_lists_the_generated_cases_as_text_and_json() {
    let all = all_cases();
    let ran = conformance(&["cases"], &[]);
    assert_eq!(ran.code, 0, "{ran:?}");
    assert_eq!(ran.stdout.lines().count(), all.len());
    let first = ran.stdout.lines().next().unwrap();
    let mut sorted: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
    sorted.sort_unstable();
    assert!(first.starts_with(sorted[0]), "{first}");

    let ran = conformance(
        &[
            "cases",
            "--format",
            "json",
            "--api",
            "atlas-v2",
            "--category",
            "auth",
            "--category",
            "versions",
        ],
        &[],
    );
    assert_eq!(ran.code, 0, "{ran:?}");
    let list: Value = serde_json::from_str(&ran.stdout).unwrap();
    let list = list.as_array().unwrap();
    let expected = all
        .iter()
        .filter(|c| {
            c.family == "atlas-v2" && matches!(c.category, Category::Auth | Category::Versions)
        })
        .count();
    assert_eq!(list.len(), expected);
    for c in list {
        assert_eq!(c["family"], "atlas-v2");
        assert!(
            c["category"] == "auth" || c["category"] == "versions",
            "{c}"
        );
        assert!(c["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(c["steps"].as_array().is_some_and(|s| !s.is_empty()));
    }
}

#[test]
fn completions_are_printed_for_each_shell_and_an_unknown_shell_is_a_usage_error() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef conformance"),
        ("fish", "complete -c conformance"),
    ] {
        let ran = conformance(&["completions", shell], &[]);
        assert_eq!(ran.code, 0, "{ran:?}");
        assert!(ran.stdout.contains(marker), "{shell}: {}", ran.stdout);
        for sub in ["run", "serve", "cases", "expired-token"] {
            assert!(ran.stdout.contains(sub), "{shell} lacks {sub}");
        }
    }
    let ran = conformance(&["completions", "cmd.exe"], &[]);
    assert_eq!(ran.code, 2, "{ran:?}");
    assert_eq!(ran.stderr.lines().count(), 1, "{ran:?}");
}

/// The GitHub Action (`action.yml`) is valid YAML, installs with `cargo install --locked`, and
/// passes only variables that `conformance run` reads.
#[test]
fn the_github_action_passes_only_variables_the_run_reads() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml"))
        .expect("action.yml exists");
    let action: Value = serde_yaml_ng::from_str(&text).expect("action.yml is YAML");
    assert_eq!(action["runs"]["using"], "composite");
    let steps = action["runs"]["steps"].as_array().expect("steps");
    let script = |name: &str| {
        steps
            .iter()
            .find(|s| s["name"].as_str().is_some_and(|n| n.starts_with(name)))
            .unwrap_or_else(|| panic!("a step {name:?}"))
            .clone()
    };
    assert!(script("Install")["run"]
        .as_str()
        .unwrap()
        .contains("cargo install --locked --path"));
    let run = script("Run");
    let help = conformance(&["run", "--help"], &[]).stdout;
    let env = run["env"].as_object().expect("the run step's env");
    let vars: Vec<&String> = env
        .keys()
        .filter(|k| k.starts_with("CONFORMANCE_"))
        .collect();
    assert!(vars.len() >= 7, "{vars:?}");
    for var in vars {
        assert!(help.contains(var.as_str()), "`run` does not read {var}");
    }
    assert!(run["run"].as_str().unwrap().contains("GITHUB_STEP_SUMMARY"));
}

/// The console summary is coloured with `--color always`, plain with `never` and, under `auto`,
/// plain when stdout is not a terminal or `NO_COLOR` is set (a pseudo-terminal from `script`).
#[test]
fn the_summary_is_coloured_only_when_asked_or_on_a_terminal_without_no_color() {
    let base = ["run", "--api", "atlas-v1", "--category", "pagination"];
    let dir = scratch("color");
    let with = |color: &str| {
        let mut args = base.to_vec();
        args.extend(["--report-dir", dir.to_str().unwrap(), "--color", color]);
        conformance(&args, &[])
    };
    let always = with("always");
    assert_eq!(always.code, 0, "{always:?}");
    assert!(always.stdout.contains("\x1b[32m"), "{}", always.stdout);
    for color in ["never", "auto"] {
        let ran = with(color);
        assert_eq!(ran.code, 0, "{ran:?}");
        assert!(!ran.stdout.contains('\x1b'), "{color}: {}", ran.stdout);
    }
    // On a terminal: coloured, unless NO_COLOR is set.
    let command = format!(
        "{BIN} run --api atlas-v1 --category pagination --report-dir {}",
        dir.display()
    );
    let on_tty = |no_color: Option<&str>| {
        let mut cmd = Command::new("script");
        cmd.args(["-qec", &command, "/dev/null"])
            .env("TERM", "xterm")
            .env_remove("NO_COLOR");
        for v in ambient() {
            cmd.env_remove(v);
        }
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        let out = cmd.output().expect("script(1) from util-linux runs");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(on_tty(None).contains("\x1b[32m"), "a terminal gets colours");
    assert!(
        !on_tty(Some("1")).contains("\x1b[3"),
        "NO_COLOR=1 turns them off"
    );
}

/// An empty `CONFORMANCE_*` variable counts as unset (a CI system, or the GitHub Action's
/// optional inputs, set variables they have no value for to the empty string).
#[test]
fn empty_variables_count_as_unset() {
    let dir = scratch("empty-variables");
    let vars = [
        "CONFORMANCE_TARGET",
        "CONFORMANCE_AUTH",
        "CONFORMANCE_READONLY_AUTH",
        "CONFORMANCE_GROUP_ID",
        "CONFORMANCE_EXPIRED_TOKEN",
        "CONFORMANCE_HEADERS",
        "CONFORMANCE_CA_CERT",
        "CONFORMANCE_CLIENT_CERT",
        "CONFORMANCE_CLIENT_KEY",
        "CONFORMANCE_KNOWN_FAILURES",
    ];
    let env: Vec<(&str, &str)> = vars.iter().map(|v| (*v, "")).collect();
    let ran = conformance(
        &[
            "run",
            "--api",
            "atlas-v1",
            "--category",
            "envelope",
            "--report-dir",
            dir.to_str().unwrap(),
        ],
        &env,
    );
    assert_eq!(ran.code, 0, "{ran:?}");
    assert!(ran.reason().contains("conformant"), "{ran:?}");
}
