//! The reports of `conformance run`: `report.json` validates against its documented JSON
//! Schema, `junit.xml` has a suite per family and a test per case, the Markdown and HTML are
//! escaped and self-contained, the `curl` reproductions work and hold variables only, and no
//! credential or generated secret appears in any report or on stdout or stderr, even against a
//! server that echoes secrets.

use crate::fixture;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use integrations_conformance::case;
use integrations_conformance::model;
use integrations_conformance::report::{self, CaseReport, Document, OutcomeKind};
use integrations_conformance::server::{self, Fault};
use serde_json::Value;

use crate::cli::{conformance_async, read_json, scratch, target_flags};

/// `report.json` is valid under `docs/report-schema.json` (formats asserted), which is itself a
/// valid JSON Schema.
pub(crate) fn assert_valid(doc: &Value) {
    let schema = read_json(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report-schema.json"));
    jsonschema::meta::validate(&schema)
        .unwrap_or_else(|e| panic!("docs/report-schema.json is not a valid schema: {e}"));
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .take(10)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "report.json breaks its schema:\n{}",
        errors.join("\n")
    );
    // And the library's own type reads it back unchanged.
    let parsed: Document =
        serde_json::from_value(doc.clone()).expect("report.json reads back as a Document");
    assert_eq!(parsed.schema_version, report::SCHEMA_VERSION);
}

/// Every value that must never be shown: the server's credentials and every secret any case
/// generates.
fn forbidden(info: &server::Credentials) -> Vec<String> {
    let m = model::bundled().unwrap();
    let mut out: BTreeSet<String> = [
        &info.owner.public,
        &info.owner.private,
        &info.read_only.public,
        &info.read_only.private,
        &info.oauth.client_id,
        &info.oauth.client_secret,
    ]
    .into_iter()
    .cloned()
    .collect();
    for c in case::generate(&m) {
        out.extend(c.secrets.iter().cloned());
        out.extend(report::secrets_of_case(&c, &m));
    }
    out.into_iter().filter(|s| s.len() >= 5).collect()
}

/// A full run against a server that echoes secrets (in errors and on get), with owner
/// credentials from the environment and no read-only ones (so some cases are skipped): the
/// reports validate, hold every case, and show no secret; neither do stdout and stderr.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_of_a_leaking_target_hold_no_secret_and_follow_their_schema() {
    let srv = fixture::server(vec![
        Fault::SecretEchoedInError,
        Fault::SecretInClearOnGet,
        Fault::PrettySkipsMasking,
    ])
    .await;
    let c = srv.credentials.clone();
    let dir = scratch("leak");
    let args = ["run", "--report-dir", dir.to_str().unwrap()]
        .map(String::from)
        .to_vec();
    let env = vec![
        ("CONFORMANCE_TARGET".to_owned(), srv.base_url.clone()),
        (
            "CONFORMANCE_AUTH".to_owned(),
            format!("digest:{}:{}", c.owner.public, c.owner.private),
        ),
        ("CONFORMANCE_GROUP_ID".to_owned(), c.atlas_group_id.clone()),
        ("CONFORMANCE_CM_GROUP_ID".to_owned(), c.cm_group_id.clone()),
        (
            "CONFORMANCE_OTHER_GROUP_ID".to_owned(),
            c.other_group_id.clone(),
        ),
    ];
    let ran = conformance_async(args, env).await;
    assert_eq!(ran.code, 1, "{ran:?}");

    let doc = read_json(&dir.join("report.json"));
    assert_valid(&doc);
    let parsed: Document = serde_json::from_value(doc.clone()).unwrap();
    let all = crate::cli::all_cases();
    // The generated cases and the run's exploration entry.
    assert_eq!(parsed.cases.len(), all.len() + 1);
    let s = &parsed.summary.counts;
    assert_eq!(s.total, s.passed + s.failed + s.skipped);
    assert!(s.failed > 0 && s.skipped > 0 && s.passed > 0, "{s:?}");
    assert_eq!(parsed.target.read_only_auth_scheme, None);
    assert!(parsed
        .cases
        .iter()
        .filter(|c| c.outcome == OutcomeKind::Skipped)
        .all(|c| c.reason.is_some()));

    // The leak is there to be found: the checks saw it, the reports show the placeholder.
    let echoed: Vec<&CaseReport> = parsed
        .cases
        .iter()
        .filter(|c| c.findings.iter().any(|f| f.check == "secret_redaction"))
        .collect();
    assert!(!echoed.is_empty());
    assert!(echoed.iter().any(|c| c.exchanges.iter().any(|e| e
        .response
        .as_ref()
        .is_some_and(|r| r.body.contains(report::PLACEHOLDER)))));

    let mut texts = vec![
        ("stdout".to_owned(), ran.stdout.clone()),
        ("stderr".to_owned(), ran.stderr.clone()),
    ];
    for name in report::FILES {
        texts.push((
            name.to_owned(),
            std::fs::read_to_string(dir.join(name)).unwrap(),
        ));
    }
    let forbidden = forbidden(&c);
    assert!(
        forbidden.len() > 100,
        "the secrets were collected: {}",
        forbidden.len()
    );
    // One automaton for thousands of literals (not the crate's own scrubber: this checks it).
    let alternation: Vec<String> = forbidden.iter().map(|s| regex::escape(s)).collect();
    let any = regex::RegexBuilder::new(&alternation.join("|"))
        .size_limit(1 << 28)
        .build()
        .unwrap();
    for (name, text) in &texts {
        if let Some(m) = any.find(text) {
            panic!(
                "{name} shows a secret ({} characters, starting {:?})",
                m.len(),
                &m.as_str()[..3]
            );
        }
    }
    srv.shutdown().await.unwrap();
}

/// A failing run's `junit.xml`, `report.md` and `report.html`, and its reproductions, which
/// are run for real with bash and curl against the same faulty server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junit_markdown_html_and_curl_reproductions_of_a_failing_run() {
    let srv = fixture::server(vec![Fault::SecretInClearOnGet]).await;
    let dir = scratch("failing");
    let mut args = [
        "run",
        "--category",
        "redaction",
        "--category",
        "auth",
        "--report-dir",
        dir.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    args.extend(target_flags(&srv));
    let ran = conformance_async(args, Vec::new()).await;
    assert_eq!(ran.code, 1, "{ran:?}");
    let doc: Document = serde_json::from_value(read_json(&dir.join("report.json"))).unwrap();

    // JUnit: a suite per family, a test per case, failures and skips as such.
    let xml = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    let junit = quick_junit::Report::deserialize_from_str(&xml).expect("junit.xml parses");
    assert_eq!(junit.test_suites.len(), doc.selection.families.len());
    let mut tests = 0;
    let mut failures = 0;
    for suite in &junit.test_suites {
        assert!(doc
            .selection
            .families
            .iter()
            .any(|f| f.as_str() == suite.name.as_str()));
        for tc in &suite.test_cases {
            tests += 1;
            let class = tc
                .classname
                .as_ref()
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default();
            assert!(
                class.starts_with(&format!("{}/", suite.name.as_str())),
                "{class}"
            );
            if let quick_junit::TestCaseStatus::NonSuccess {
                message,
                description,
                ..
            } = &tc.status
            {
                failures += 1;
                assert!(
                    message.is_some()
                        && description
                            .as_ref()
                            .is_some_and(|d| d.as_str().contains("curl"))
                );
            }
        }
    }
    assert_eq!(tests, doc.cases.len());
    assert_eq!(failures, doc.summary.counts.failed);

    // Markdown and HTML: the verdict, the matrix, every failure.
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        md.contains("NOT CONFORMANT")
            && md.contains("## Conformance matrix")
            && md.contains("```sh")
    );
    assert!(
        html.starts_with("<!DOCTYPE html>")
            && html.contains("NOT CONFORMANT")
            && html.contains("class=\"matrix\"")
    );
    for case in doc
        .cases
        .iter()
        .filter(|c| c.outcome == OutcomeKind::Failed)
    {
        assert!(
            md.contains(&case.id) && html.contains(&case.id),
            "{}",
            case.id
        );
    }
    for external in ["<script", "<link", "src=", "@import", "url("] {
        assert!(
            !html.contains(external),
            "report.html must be self-contained: {external}"
        );
    }

    // Reproductions: variables only, and they reproduce.
    let c = &srv.credentials;
    for case in doc
        .cases
        .iter()
        .filter(|c| c.outcome == OutcomeKind::Failed)
    {
        let r = case
            .reproduction
            .as_deref()
            .expect("a failed case has a reproduction");
        assert!(r.contains("$CONFORMANCE_TARGET"), "{r}");
        for value in [
            &c.atlas_group_id,
            &c.cm_group_id,
            &c.other_group_id,
            &c.owner.public,
            &c.owner.private,
            &srv.base_url,
        ] {
            assert!(
                !r.contains(value.as_str()),
                "{} shows a value:\n{r}",
                case.id
            );
        }
    }
    let masked = doc
        .cases
        .iter()
        .find(|c| {
            c.outcome == OutcomeKind::Failed
                && c.id.contains("masked-in-get")
                && c.reproduction
                    .as_deref()
                    .is_some_and(|r| r.contains("$SECRET_1"))
        })
        .expect("a failing masked-in-get case");
    assert!(
        Command::new("curl").arg("--version").output().is_ok(),
        "curl is not installed: the reproductions cannot be replayed (install curl)"
    );
    {
        let secret = "reproduction-canary-0123456789abcdef";
        let script = masked.reproduction.clone().unwrap();
        let out = Command::new("bash")
            .args(["-c", &format!("set -u\n{script}")])
            .env("CONFORMANCE_TARGET", &srv.base_url)
            .env(
                "CONFORMANCE_AUTH",
                format!("digest:{}:{}", c.owner.public, c.owner.private),
            )
            .env("CONFORMANCE_GROUP_ID", &c.atlas_group_id)
            .env("CONFORMANCE_CM_GROUP_ID", &c.cm_group_id)
            .env("CONFORMANCE_OTHER_GROUP_ID", &c.other_group_id)
            .env("SECRET_1", secret)
            .env("SECRET_2", format!("{secret}-2"))
            .env("SECRET_3", format!("{secret}-3"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}\n{stdout}\n{}",
            masked.id,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("HTTP/1.1 200"),
            "the failing step was answered:\n{stdout}"
        );
        assert!(
            stdout.contains(secret),
            "the fault shows the secret in clear, as the finding says:\n{stdout}"
        );
        assert!(
            stdout.contains("(setup): 200") || stdout.contains("(test): 200"),
            "the setup step ran:\n{stdout}"
        );
        assert!(
            stdout.contains("(cleanup): 204"),
            "the cleanup ran:\n{stdout}"
        );
        // Unset secrets: the script makes its own and runs as printed.
        let out = Command::new("bash")
            .args(["-c", &format!("set -u\n{script}")])
            .env_remove("SECRET_1")
            .env_remove("SECRET_2")
            .env_remove("SECRET_3")
            .env("CONFORMANCE_TARGET", &srv.base_url)
            .env(
                "CONFORMANCE_AUTH",
                format!("digest:{}:{}", c.owner.public, c.owner.private),
            )
            .env("CONFORMANCE_GROUP_ID", &c.atlas_group_id)
            .env("CONFORMANCE_CM_GROUP_ID", &c.cm_group_id)
            .env("CONFORMANCE_OTHER_GROUP_ID", &c.other_group_id)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}\n{stdout}", masked.id);
        assert!(stdout.contains("(cleanup): 204"), "{stdout}");
    }
    srv.shutdown().await.unwrap();
}

/// Whatever text a run holds is escaped in the HTML and Markdown reports.
#[test]
fn hostile_text_is_escaped_in_every_human_report() {
    let evil = "<script>alert('x')</script> & \"q\" | `tick` **bold**";
    let mut doc: Document = serde_json::from_value(serde_json::json!({
        "schema_version": 1,
        "tool": {"name": "conformance", "version": "0.0.0"},
        "spec": {"sha256": "0".repeat(64), "source": "bundled"},
        "target": {"base_url": "http://127.0.0.1:1", "embedded": false, "auth_scheme": "digest", "read_only_auth_scheme": null},
        "started": "2025-01-01T00:00:00.000Z",
        "finished": "2025-01-01T00:00:01.000Z",
        "duration_ms": 1000.0,
        "selection": {"families": ["atlas-v2"], "categories": ["errors"], "filter": evil},
        "summary": {"verdict": "non-conformant", "total": 1, "passed": 0, "failed": 1, "skipped": 0,
            "families": {"atlas-v2": {"total": 1, "passed": 0, "failed": 1, "skipped": 0,
                "categories": {"errors": {"total": 1, "passed": 0, "failed": 1, "skipped": 0}}}}},
        "requests": 1,
        "pre_existing": {},
        "interrupted": false,
        "deadline_reached": false,
        "swept": [],
        "not_cleaned_up": [],
        "cases": []
    }))
    .unwrap();
    doc.cases.push(CaseReport {
        id: "atlas-v2/getGroupIntegration/evil".into(),
        family: "atlas-v2".into(),
        operation: "getGroupIntegration".into(),
        category: "errors".into(),
        title: evil.into(),
        rules: Vec::new(),
        outcome: OutcomeKind::Failed,
        reason: None,
        duration_ms: 1.0,
        warnings: vec![report::WarningReport {
            check: "unlisted_field".into(),
            step: 0,
            message: evil.into(),
            object: Some(evil.into()),
            field: Some(evil.into()),
        }],
        findings: vec![report::FindingReport {
            check: "error_body".into(),
            step: 0,
            message: evil.into(),
            expected: Some(evil.into()),
            actual: Some(format!("{evil}\nsecond line")),
        }],
        cleanup_failures: vec![evil.into()],
        setup_shared_with: None,
        isolated: None,
        reproduction: Some(format!("# {evil}\ncurl \"$CONFORMANCE_TARGET\"\n")),
        known_failure: None,
        exchanges: Vec::new(),
    });
    assert_valid(&serde_json::to_value(&doc).unwrap());
    let dir = scratch("hostile");
    report::write(&dir, &doc).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(!html.contains("<script>"), "unescaped HTML");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"));
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        !md.contains("<script>") || md.contains("```sh\n# <script>"),
        "unescaped Markdown outside code"
    );
    assert!(md.contains("\\<script\\>"), "{md}");
    let xml = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(quick_junit::Report::deserialize_from_str(&xml).is_ok());
}

/// `run --har FILE` writes every exchange of the run as a valid HAR 1.2 document (checked
/// against the format's required structure, formats asserted), with no credential or generated
/// secret in it, even from a server that echoes secrets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn har_export_holds_every_exchange_as_valid_har_without_secrets() {
    let srv = fixture::server(vec![Fault::SecretInClearOnGet]).await;
    let dir = scratch("har");
    let har_path = dir.join("run.har");
    let mut args: Vec<String> = vec![
        "run".into(),
        "--api".into(),
        "atlas-v2".into(),
        "--category".into(),
        "redaction".into(),
        "--report-dir".into(),
        dir.to_str().unwrap().into(),
        "--har".into(),
        har_path.to_str().unwrap().into(),
    ];
    args.extend(target_flags(&srv));
    let ran = conformance_async(args, Vec::new()).await;
    assert_eq!(ran.code, 1, "the fault is found: {ran:?}");
    let har = read_json(&har_path);
    let schema = read_json(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/har-1.2.schema.json"),
    );
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the HAR schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&har)
        .take(10)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not valid HAR 1.2:\n{}",
        errors.join("\n")
    );

    let doc = read_json(&dir.join("report.json"));
    let exchanges: usize = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["exchanges"].as_array().unwrap().len())
        .sum();
    let entries = har["log"]["entries"].as_array().unwrap();
    assert!(exchanges > 0);
    assert_eq!(entries.len(), exchanges, "one HAR entry per exchange");
    assert!(entries
        .iter()
        .any(|e| e["request"]["method"] == "POST" && e["request"]["postData"]["text"].is_string()));

    let text = std::fs::read_to_string(&har_path).unwrap();
    let c = &srv.credentials;
    for secret in [&c.owner.private, &c.read_only.private] {
        assert!(
            !text.contains(secret.as_str()),
            "the HAR shows a credential"
        );
    }
    let model = model::build(&integrations_conformance::spec::bundled().unwrap()).unwrap();
    let secrets = case::generate(&model)
        .into_iter()
        .chain(crate::cli::all_cases())
        .flat_map(|c| c.secrets);
    let scrubber = report::Scrubber::new(secrets);
    assert!(!scrubber.is_empty());
    assert_eq!(
        scrubber.scrub(&text),
        text,
        "the HAR shows a generated secret"
    );
    srv.shutdown().await.unwrap();
}

/// A concurrent group is reproduced as one: every request of the group in the background, then
/// `wait`, so the script shows the race (here: the `create-race` fault lets all four win).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_group_is_reproduced_in_the_background() {
    assert!(
        Command::new("curl").arg("--version").output().is_ok(),
        "curl is needed to replay a reproduction"
    );
    let harness = fixture::harness();
    let case = fixture::cases()
        .iter()
        .find(|c| c.id == "cloud-manager/cmCreateIntegration/concurrent-creates-one-wins")
        .expect("the concurrency case")
        .clone();
    let srv = fixture::server(vec![Fault::CreateRace]).await;
    let target = srv.target().unwrap();
    let family = harness.model.family(&case.family).unwrap();
    let script = report::reproduce(&case, &case.secrets, 0, family, &harness.model, &target);
    assert_eq!(script.matches(" &\n").count(), 4, "{script}");
    assert_eq!(script.matches("\nwait\n").count(), 1, "{script}");
    let c = &srv.credentials;
    let mut cmd = Command::new("bash");
    cmd.args(["-c", &format!("set -u\n{script}")])
        .env("CONFORMANCE_TARGET", &srv.base_url)
        .env(
            "CONFORMANCE_AUTH",
            format!("digest:{}:{}", c.owner.public, c.owner.private),
        )
        .env("CONFORMANCE_CM_GROUP_ID", &c.cm_group_id);
    for i in 1..=case.secrets.len() {
        cmd.env(format!("SECRET_{i}"), format!("race-secret-{i}-0123456789"));
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wins = stdout.matches("HTTP/1.1 200").count()
        + (1..4)
            .filter(|k| stdout.contains(&format!("step {k} (concurrent): 200")))
            .count();
    assert_eq!(wins, 4, "the race shows in the reproduction:\n{stdout}");
    srv.shutdown().await.ok();
}

/// A run where (nearly) everything fails, against the embedded server with every fault on: the
/// HTML page stays small (details for the first failures, every failed case in its index, the
/// rest in report.json), and report.json holds every case in full.
#[test]
fn the_reports_of_an_all_failing_run_stay_small() {
    let faults: Vec<String> = Fault::ALL
        .iter()
        .flat_map(|f| ["--fault".to_owned(), f.name().to_owned()])
        .collect();
    let dir = scratch("all-failing");
    let mut args = vec!["run", "--report-dir", dir.to_str().unwrap()];
    args.extend(faults.iter().map(String::as_str));
    let ran = crate::cli::conformance(&args, &[]);
    assert_eq!(ran.code, 1, "{}", ran.reason());
    let doc = read_json(&dir.join("report.json"));
    let failed: Vec<&str> = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == "failed")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(failed.len() > 1000, "{} failed", failed.len());
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let json_len = std::fs::metadata(dir.join("report.json")).unwrap().len();
    eprintln!(
        "all-failing run: {} failed cases, report.json {} bytes, report.html {} bytes",
        failed.len(),
        json_len,
        html.len()
    );
    assert!(
        html.len() < 2_000_000,
        "report.html is {} bytes",
        html.len()
    );
    for id in &failed {
        assert!(html.contains(id), "the HTML index lacks {id}");
    }
    assert!(html.contains("conformance run --filter ID"));
}
