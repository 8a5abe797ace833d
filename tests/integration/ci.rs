//! A team's CI life with the binary: `conformance.toml` (precedence, `${ENV}`, unknown keys) and
//! `init`, known failures that ratchet in both directions and `--write-baseline`, `--require`,
//! `run --fault`, skipped families shown first, and a printed `curl` reproduction that runs as
//! printed with the variables `run` reads.

use crate::fixture;
use std::path::Path;
use std::process::Command;

use integrations_conformance::server::{Fault, RunningServer};
use serde_json::Value;

use crate::cli::{assert_one_line_reason, conformance_in, read_json, scratch, Ran};
use crate::report::assert_valid;

/// Cases that pass on the reference server and fail with [`FAULT`] on (secrets shown in clear).
pub(crate) const MASKED: &str = "atlas-v2/getGroupIntegration/v2023-01-01-pager-duty-masked-in-get";
pub(crate) const FAULT: &str = "secret-in-clear-on-get";

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write a test file");
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Ran {
    conformance_in(dir, args, env)
}

/// A run with the fault that fails `MASKED`, that case only, reports in `dir/r`.
pub(crate) fn run_with_faults(dir: &Path, extra: &[&str]) -> Ran {
    let mut args = vec![
        "run",
        "--fault",
        FAULT,
        "--filter",
        MASKED,
        "--report-dir",
        "r",
    ];
    args.extend_from_slice(extra);
    run(dir, &args, &[])
}

fn cases_of(dir: &Path) -> Vec<Value> {
    read_json(&dir.join("r/report.json"))["cases"]
        .as_array()
        .expect("cases")
        .clone()
}

async fn faulty_server(faults: &[&str]) -> RunningServer {
    let faults: Vec<Fault> = faults.iter().map(|f| f.parse().expect("a fault")).collect();
    fixture::server(faults).await
}

// ---------------------------------------------------------------------------------------------
// conformance.toml and init
// ---------------------------------------------------------------------------------------------

#[test]
fn config_file_loses_to_the_environment_which_loses_to_a_flag() {
    let dir = scratch("config-precedence");
    // The known-failures file is read before anything runs, and its error names the path: which
    // path wins is visible without a run.
    write(
        &dir,
        "conformance.toml",
        "known_failures = \"from-file.txt\"\n",
    );
    let ran = run(&dir, &["run"], &[]);
    assert_one_line_reason(&ran, "from-file.txt");
    let env = [("CONFORMANCE_KNOWN_FAILURES", "from-env.txt")];
    let ran = run(&dir, &["run"], &env);
    assert_one_line_reason(&ran, "from-env.txt");
    let ran = run(&dir, &["run", "--known-failures", "from-flag.txt"], &env);
    assert_one_line_reason(&ran, "from-flag.txt");
    // --config names another file; it must exist.
    write(&dir, "other.toml", "known_failures = \"from-other.txt\"\n");
    let ran = run(&dir, &["run", "--config", "other.toml"], &[]);
    assert_one_line_reason(&ran, "from-other.txt");
    let ran = run(&dir, &["run", "--config", "missing.toml"], &[]);
    assert_one_line_reason(&ran, "missing.toml");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_file_drives_a_run_with_credentials_from_the_environment() {
    let srv = faulty_server(&[]).await;
    let dir = scratch("config-run");
    let c = &srv.credentials;
    write(
        &dir,
        "conformance.toml",
        &format!(
            "target = \"{}\"\nauth = \"digest:${{TEAM_PUBLIC_KEY}}:${{TEAM_PRIVATE_KEY}}\"\n\
             group_id = \"{}\"\ncm_group_id = \"{}\"\napi = [\"atlas-v2\"]\nfilter = \"{MASKED}\"\n\
             report_dir = \"from-file\"\njobs = 2\ntimeout = 5\ninsecure = false\n",
            srv.base_url, c.atlas_group_id, c.cm_group_id
        ),
    );
    let env = [
        ("TEAM_PUBLIC_KEY".to_owned(), c.owner.public.clone()),
        ("TEAM_PRIVATE_KEY".to_owned(), c.owner.private.clone()),
    ];
    let d = dir.clone();
    let ran = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run(&d, &["run"], &env)
    })
    .await
    .unwrap();
    assert_eq!(ran.code, 0, "{ran:?}");
    let doc = read_json(&dir.join("from-file/report.json"));
    assert_eq!(
        doc["target"]["embedded"], false,
        "the file's target was used"
    );
    assert_eq!(doc["selection"]["filter"], MASKED);
    assert_eq!(
        doc["selection"]["families"],
        serde_json::json!(["atlas-v2"])
    );
    assert!(doc["summary"]["passed"].as_u64().unwrap() > 0);
    for secret in [&c.owner.public, &c.owner.private] {
        assert!(!ran.stdout.contains(secret.as_str()) && !ran.stderr.contains(secret.as_str()));
    }
    srv.shutdown().await.unwrap();
}

#[test]
fn config_file_errors_name_the_key_and_variable_never_a_value() {
    let dir = scratch("config-errors");
    write(
        &dir,
        "conformance.toml",
        "auth = \"digest:${CONFIG_TEST_SET}:${CONFIG_TEST_UNSET}\"\n",
    );
    let ran = run(
        &dir,
        &["run"],
        &[("CONFIG_TEST_SET", "visible-neighbour-value")],
    );
    assert_one_line_reason(&ran, "${CONFIG_TEST_UNSET}");
    assert!(ran.stderr.contains("`auth`"), "{ran:?}");
    assert!(!ran.stderr.contains("visible-neighbour-value"), "{ran:?}");

    write(&dir, "conformance.toml", "jobs = 2\ncolour = \"red\"\n");
    let ran = run(&dir, &["run"], &[]);
    assert_one_line_reason(&ran, "unknown key `colour`");

    write(&dir, "conformance.toml", "filter = [\"a\", \"b\"]\n");
    let ran = run(&dir, &["run"], &[]);
    assert_one_line_reason(&ran, "`filter` takes one value");

    // A bad value names its key, not the value (it may come from a variable).
    write(
        &dir,
        "conformance.toml",
        "timeout = \"${CONFIG_TEST_SET}\"\n",
    );
    let ran = run(
        &dir,
        &["run"],
        &[("CONFIG_TEST_SET", "visible-neighbour-value")],
    );
    assert_one_line_reason(&ran, "`timeout`");
    assert!(!ran.stderr.contains("visible-neighbour-value"), "{ran:?}");
    write(&dir, "conformance.toml", "jobs = 0\n");
    let ran = run(&dir, &["run"], &[]);
    assert_one_line_reason(&ran, "`jobs`");
    write(&dir, "conformance.toml", "category = [\"colour\"]\n");
    let ran = run(&dir, &["run"], &[]);
    assert_one_line_reason(&ran, "`category`");

    write(&dir, "conformance.toml", "jobs = \n");
    let ran = run(&dir, &["run"], &[]);
    assert_one_line_reason(&ran, "not valid TOML");
}

#[test]
fn init_writes_every_option_commented_out_and_refuses_to_overwrite() {
    let dir = scratch("init");
    let ran = run(&dir, &["init"], &[]);
    assert_eq!(ran.code, 0, "{ran:?}");
    let text = std::fs::read_to_string(dir.join("conformance.toml")).unwrap();
    for line in [
        "# target = \"URL\"",
        "# auth = \"CREDENTIALS\"",
        "# jobs = 8",
        "# timeout = 10",
        "# report_dir = \"target/conformance\"",
        "# insecure = false",
        "# api = [\"FAMILY\"]",
        "# known_failures = \"FILE\"",
        "# require = [\"NAME\"]",
        "# fault = [\"NAME\"]",
        "environment: CONFORMANCE_AUTH",
        "environment: CONFORMANCE_GROUP_ID",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
    assert!(
        text.lines().all(|l| l.is_empty() || l.starts_with('#')),
        "every option is commented out"
    );
    // Uncommented, its options are the run's options: every key is known.
    let uncommented: String = text
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| {
            l.split_once(" = ")
                .is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        })
        .filter(|l| l.starts_with("jobs") || l.starts_with("timeout") || l.starts_with("insecure"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(uncommented.lines().count(), 3, "{uncommented}");
    write(&dir, "conformance.toml", &uncommented);
    let ran = run(&dir, &["run", "--filter", MASKED, "--report-dir", "r"], &[]);
    assert_eq!(ran.code, 0, "{ran:?}");

    let ran = run(&dir, &["init"], &[]);
    assert_one_line_reason(&ran, "--force");
    assert_eq!(
        std::fs::read_to_string(dir.join("conformance.toml")).unwrap(),
        uncommented,
        "a refused init leaves the file alone"
    );
    let ran = run(&dir, &["init", "--force"], &[]);
    assert_eq!(ran.code, 0, "{ran:?}");
    assert_eq!(
        std::fs::read_to_string(dir.join("conformance.toml")).unwrap(),
        text
    );
}

// ---------------------------------------------------------------------------------------------
// known failures
// ---------------------------------------------------------------------------------------------

#[test]
fn a_written_baseline_accepts_its_failures_and_ratchets_when_they_pass() {
    let dir = scratch("baseline");
    // Without a baseline the fault fails the run, and --write-baseline records the failures.
    let ran = run_with_faults(&dir, &["--write-baseline", "kf.txt"]);
    assert_eq!(ran.code, 1, "{ran:?}");
    let failed: Vec<String> = cases_of(&dir)
        .iter()
        .filter(|c| c["outcome"] == "failed")
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!failed.is_empty());
    let written = std::fs::read_to_string(dir.join("kf.txt")).unwrap();
    let listed: Vec<&str> = written
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted, "sorted");
    let mut ids: Vec<&str> = listed
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    ids.dedup();
    assert_eq!(ids, failed, "{written}");
    assert!(
        listed.iter().any(|l| l
            .split_whitespace()
            .nth(1)
            .unwrap()
            .starts_with("secret_redaction:")),
        "one line per finding signature: {written}"
    );
    assert!(
        written.contains("# Format: one `case-id  check:signature`"),
        "{written}"
    );
    assert!(!written.contains("reproduction-canary"), "no secret");

    // With it, the same failures are accepted: exit 0, marked in every report.
    let ran = run_with_faults(&dir, &["--known-failures", "kf.txt"]);
    assert_eq!(ran.code, 0, "{ran:?}");
    assert!(ran.stdout.contains("known failure"), "{}", ran.stdout);
    assert!(ran.reason().contains("known failures"), "{}", ran.reason());
    let doc = read_json(&dir.join("r/report.json"));
    assert_valid(&doc);
    assert_eq!(doc["summary"]["verdict"], "conformant");
    assert_eq!(doc["summary"]["known_failures"], failed.len());
    for c in cases_of(&dir).iter().filter(|c| c["outcome"] == "failed") {
        assert!(c["known_failure"].is_string(), "{}", c["id"]);
    }
    let md = std::fs::read_to_string(dir.join("r/report.md")).unwrap();
    assert!(md.contains("Known failure"), "report.md marks them");
    let html = std::fs::read_to_string(dir.join("r/report.html")).unwrap();
    assert!(html.contains("known failure"), "report.html marks them");
    let junit = std::fs::read_to_string(dir.join("r/junit.xml")).unwrap();
    assert!(
        !junit.contains("<failure"),
        "accepted failures do not turn CI red"
    );
    assert!(junit.contains("known failure: "), "{junit}");
    assert!(junit.contains("secret_redaction:"), "{junit}");

    // Fixed (no fault): the listed cases pass, and the ratchet fails the run until they go.
    let ran = run(
        &dir,
        &[
            "run",
            "--filter",
            MASKED,
            "--report-dir",
            "r",
            "--known-failures",
            "kf.txt",
        ],
        &[],
    );
    assert_eq!(ran.code, 1, "{ran:?}");
    assert!(
        ran.stdout.contains("but passes: remove it from the list"),
        "{}",
        ran.stdout
    );
    assert_valid(&read_json(&dir.join("r/report.json")));
    let ratcheted = cases_of(&dir);
    for id in &failed {
        let c = ratcheted.iter().find(|c| c["id"] == id.as_str()).unwrap();
        assert_eq!(c["outcome"], "failed");
        assert_eq!(c["findings"][0]["check"], "known_failures");
    }
    // Regenerated from a clean run, the baseline is empty.
    let ran = run(
        &dir,
        &[
            "run",
            "--filter",
            MASKED,
            "--report-dir",
            "r",
            "--write-baseline",
            "kf2.txt",
        ],
        &[],
    );
    assert_eq!(ran.code, 0, "{ran:?}");
    let empty = std::fs::read_to_string(dir.join("kf2.txt")).unwrap();
    assert!(empty.lines().all(|l| l.starts_with('#')), "{empty}");
}

#[test]
fn unknown_ids_in_the_known_failures_are_named() {
    let dir = scratch("baseline-unknown");
    write(
        &dir,
        "kf.txt",
        &format!("# comment\n{MASKED}  a real one\natlas-v2/nope/typo  a typo\n"),
    );
    let ran = run(&dir, &["run", "--known-failures", "kf.txt"], &[]);
    assert_one_line_reason(&ran, "atlas-v2/nope/typo");
    assert!(
        !ran.stderr.contains(MASKED),
        "only the unknown one: {ran:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// --require and skipped families first
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_turns_a_skipped_family_or_category_into_could_not_judge() {
    let srv = faulty_server(&[]).await;
    let c = &srv.credentials;
    let dir = scratch("require");
    // Only the Cloud Manager project: the Atlas families are skipped whole.
    let base: Vec<String> = [
        "run",
        "--target",
        &srv.base_url,
        "--auth",
        &format!("digest:{}:{}", c.owner.public, c.owner.private),
        "--cm-group-id",
        &c.cm_group_id,
        "--api",
        "cloud-manager",
        "--api",
        "atlas-v2",
        "--category",
        "redaction",
        "--category",
        "auth",
        "--report-dir",
        "r",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let go = |extra: &[&str]| {
        let mut args = base.clone();
        args.extend(extra.iter().map(|s| s.to_string()));
        let d = dir.clone();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(&d, &args, &[])
        })
    };
    // Without --require the run is conformant on what it judged, but says first what it did not.
    let ran = go(&[]).await.unwrap();
    assert_eq!(ran.code, 0, "{ran:?}");
    let first = ran.stdout.lines().next().unwrap_or("");
    assert!(
        first.starts_with("not judged: family atlas-v2"),
        "skipped families come first: {}",
        ran.stdout
    );
    let table = ran.stdout.find("\nfamily ").unwrap();
    let reasons = ran.stdout.find("skipped ").unwrap();
    assert!(
        reasons < table,
        "skip reasons before the table:\n{}",
        ran.stdout
    );
    let md = std::fs::read_to_string(dir.join("r/report.md")).unwrap();
    assert!(
        md.find("## Not judged").unwrap() < md.find("## Conformance matrix").unwrap(),
        "{md}"
    );
    let html = std::fs::read_to_string(dir.join("r/report.html")).unwrap();
    assert!(html.find("Not judged").unwrap() < html.find("Conformance matrix").unwrap());

    // A required family that was skipped whole: exit 2, one line saying why.
    let ran = go(&["--require", "atlas-v2"]).await.unwrap();
    assert_eq!(ran.code, 2, "{ran:?}");
    assert!(
        ran.reason()
            .contains("required family atlas-v2 was not judged"),
        "{}",
        ran.reason()
    );
    assert!(
        ran.reason().contains("no Atlas project id"),
        "{}",
        ran.reason()
    );
    let doc = read_json(&dir.join("r/report.json"));
    assert_valid(&doc);
    assert_eq!(doc["summary"]["verdict"], "inconclusive");
    assert!(doc["summary"]["not_covered"][0]
        .as_str()
        .unwrap()
        .contains("atlas-v2"));
    // A category partly skipped (no read-only credentials): exit 2.
    let ran = go(&["--require", "auth"]).await.unwrap();
    assert_eq!(ran.code, 2, "{ran:?}");
    assert!(
        ran.reason()
            .contains("required category auth was not fully judged"),
        "{}",
        ran.reason()
    );
    // What was covered: exit 0.
    let ran = go(&["--require", "cloud-manager"]).await.unwrap();
    assert_eq!(ran.code, 0, "{ran:?}");
    // Not a family or a category: a usage error.
    let ran = go(&["--require", "atlas-v9"]).await.unwrap();
    assert_one_line_reason(&ran, "atlas-v9");
    srv.shutdown().await.unwrap();
}

/// The token endpoint cases need `oauth:` main credentials, the digest cases digest ones: with
/// digest credentials and everything else given, a real target's auth category is still fully
/// judged, the token cases skipped with their reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_auth_is_met_with_digest_credentials_though_the_token_cases_skip() {
    let srv = faulty_server(&[]).await;
    let c = &srv.credentials;
    let expired = srv.info_json()["expired_token"]
        .as_str()
        .expect("an expired token")
        .to_owned();
    let dir = scratch("require-auth-digest");
    let args: Vec<String> = [
        "run",
        "--target",
        &srv.base_url,
        "--auth",
        &format!("digest:{}:{}", c.owner.public, c.owner.private),
        "--readonly-auth",
        &format!("digest:{}:{}", c.read_only.public, c.read_only.private),
        "--cm-group-id",
        &c.cm_group_id,
        "--group-id",
        &c.atlas_group_id,
        "--other-group-id",
        &c.other_group_id,
        "--expired-token",
        &expired,
        "--api",
        "cloud-manager",
        "--category",
        "auth",
        "--filter",
        "cmListIntegrations/",
        "--require",
        "auth",
        "--report-dir",
        "r",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let d = dir.clone();
    let ran = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&d, &args, &[])
    })
    .await
    .unwrap();
    assert_eq!(ran.code, 0, "{ran:?}");
    let cases = cases_of(&dir);
    let token: Vec<&Value> = cases
        .iter()
        .filter(|c| {
            c["id"]
                .as_str()
                .is_some_and(|i| i.contains("token-endpoint"))
        })
        .collect();
    assert_eq!(token.len(), 3, "{cases:?}");
    for t in token {
        assert_eq!(t["outcome"], "skipped", "{t}");
        assert!(
            t["reason"]
                .as_str()
                .is_some_and(|r| r.contains("OAuth client")),
            "{t}"
        );
    }
    assert!(
        cases.iter().any(|c| c["outcome"] == "passed"),
        "the other auth cases run"
    );
    srv.shutdown().await.unwrap();
}

#[test]
fn require_all_is_met_by_a_full_selection_on_the_embedded_server() {
    let dir = scratch("require-all");
    let ran = run(
        &dir,
        &[
            "run",
            "--filter",
            "pager-duty",
            "--require",
            "all",
            "--report-dir",
            "r",
        ],
        &[],
    );
    assert_eq!(ran.code, 0, "{ran:?}");
}

// ---------------------------------------------------------------------------------------------
// run --fault
// ---------------------------------------------------------------------------------------------

#[test]
fn run_fault_shows_a_failing_run_in_one_command() {
    let dir = scratch("run-fault");
    let ran = run_with_faults(&dir, &[]);
    assert_eq!(ran.code, 1, "{ran:?}");
    assert!(ran.stdout.contains("[secret_redaction]"), "{}", ran.stdout);
    assert!(
        ran.reason().starts_with("conformance: non-conformant"),
        "{}",
        ran.reason()
    );
    let ran = run(
        &dir,
        &["run", "--fault", FAULT, "--target", "http://127.0.0.1:9"],
        &[],
    );
    assert_one_line_reason(&ran, "--fault");
    assert!(ran.stderr.contains("--target"));
    let ran = run(&dir, &["run", "--fault", "no-such-fault"], &[]);
    assert_eq!(ran.code, 2, "{ran:?}");
}

// ---------------------------------------------------------------------------------------------
// curl reproductions
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_printed_reproduction_runs_with_the_variables_run_reads() {
    assert!(
        Command::new("curl").arg("--version").output().is_ok(),
        "curl is not installed: this test runs a printed reproduction with curl (install curl)"
    );
    let dir = scratch("curl");
    let d = dir.clone();
    let ran = tokio::task::spawn_blocking(move || run_with_faults(&d, &[]))
        .await
        .unwrap();
    assert_eq!(ran.code, 1, "{ran:?}");
    let case = cases_of(&dir)
        .into_iter()
        .find(|c| c["id"] == MASKED)
        .expect("the case ran");
    let script = case["reproduction"]
        .as_str()
        .expect("a reproduction")
        .to_owned();
    assert!(script.contains("CONFORMANCE_AUTH"), "{script}");

    // The same fault on a server of the test's own, reached exactly as `run` would reach it.
    let srv = faulty_server(&[FAULT]).await;
    let c = &srv.credentials;
    let secret = "reproduction-canary-0123456789abcdef";
    let mut cmd = Command::new("bash");
    cmd.args(["-c", &format!("set -eu\n{script}")]);
    for v in [
        "CONFORMANCE_PUBLIC_KEY",
        "CONFORMANCE_PRIVATE_KEY",
        "CONFORMANCE_TOKEN",
    ] {
        cmd.env_remove(v);
    }
    cmd.env("CONFORMANCE_TARGET", &srv.base_url)
        .env(
            "CONFORMANCE_AUTH",
            format!("digest:{}:{}", c.owner.public, c.owner.private),
        )
        .env("CONFORMANCE_GROUP_ID", &c.atlas_group_id)
        .env("CONFORMANCE_CM_GROUP_ID", &c.cm_group_id)
        .env("SECRET_1", secret);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script}\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("step 0 (setup): 200"),
        "the setup ran:\n{stdout}"
    );
    // curl --digest -i prints the challenge's status line, then the answer's.
    let status = stdout
        .lines()
        .rfind(|l| l.starts_with("HTTP/"))
        .expect("the failing step's status line");
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert!(
        stdout.contains(secret),
        "the fault shows the secret:\n{stdout}"
    );
    assert!(
        stdout.contains("(cleanup): 204"),
        "the cleanup ran:\n{stdout}"
    );
    srv.shutdown().await.unwrap();
}
