//! CI life, the rest (issue 21): `run --wait-for-target` against a server that starts late and
//! one that never does, `serve --env` to `eval`, the bounded `summary.md` of a 2,000-failure run,
//! failures grouped by first finding with their re-run line, scrubbed values shown as scrubbed,
//! and the Action and the repository's workflow that uses it.

use std::io::Read as _;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use integrations_conformance::report::{self, Document, OutcomeKind};
use serde_json::Value;

use crate::ci::{run_with_faults, FAULT, MASKED};
use crate::cli::{ambient, conformance_in, read_json, scratch, BIN};

const ATLAS: &str = "5f0a1b2c3d4e5f6a7b8c9d0e";
const CM: &str = "6e5d4c3b2a1f0e9d8c7b6a50";

/// A port nothing listens on (bound, then let go).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    l.local_addr().expect("its address").port()
}

fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for v in ambient() {
        cmd.env_remove(v);
    }
    cmd
}

#[test]
fn wait_for_target_waits_for_a_server_that_starts_late_and_gives_up_on_one_that_never_does() {
    let dir = scratch("wait-for-target");
    let port = free_port().to_string();
    let url = format!("http://127.0.0.1:{port}");
    let run_args = |url: &str, wait: &str| {
        [
            "run",
            "--target",
            url,
            "--auth",
            "digest:late-public:late-private",
            "--group-id",
            ATLAS,
            "--cm-group-id",
            CM,
            "--api",
            "atlas-v1",
            "--category",
            "pagination",
            "--explore-steps",
            "0",
            "--report-dir",
            "r",
            "--wait-for-target",
            wait,
        ]
        .map(str::to_owned)
    };
    let run = command(&run_args(&url, "60s").each_ref().map(String::as_str))
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run starts");
    std::thread::sleep(Duration::from_secs(2));
    let mut server = command(&[
        "serve",
        "--port",
        &port,
        "--public-key",
        "late-public",
        "--private-key",
        "late-private",
        "--group-id",
        ATLAS,
        "--cm-group-id",
        CM,
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("serve starts");
    let out = run.wait_with_output().expect("run ends");
    let _ = server.kill();
    let _ = server.wait();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("waiting up to 1m"), "{stderr}");
    assert!(stderr.contains("answered ("), "{stderr}");
    assert!(read_json(&dir.join("r/report.json"))["summary"]["total"].as_u64() > Some(0));

    // Nobody ever listens: exit 2 within about the duration, one line saying so.
    let never = format!("http://127.0.0.1:{}", free_port());
    let started = Instant::now();
    let args = run_args(&never, "1500ms");
    let ran = conformance_in(&dir, &args.each_ref().map(String::as_str), &[]);
    assert_eq!(ran.code, 2, "{ran:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        ran.reason().contains("did not answer within 1s 500ms"),
        "{ran:?}"
    );
    assert!(ran.reason().contains("--wait-for-target"), "{ran:?}");
}

/// The `export` lines of `serve --env`, and the variables they set.
fn exports(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(|l| {
            let rest = l.strip_prefix("export ").unwrap_or_else(|| panic!("{l}"));
            let (k, v) = rest.split_once('=').expect("VAR=VALUE");
            let v = v.strip_prefix('\'').and_then(|v| v.strip_suffix('\''));
            (k.to_owned(), v.expect("single-quoted").to_owned())
        })
        .collect()
}

#[test]
fn serve_env_prints_the_variables_run_reads_and_eval_returns_while_it_serves() {
    let mut server = command(&["serve", "--port", "0", "--env"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    // stdout ends (it is closed) while the server serves on.
    let mut text = String::new();
    server
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut text)
        .expect("read to the end");
    let vars = exports(&text);
    let names: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
    for v in [
        "CONFORMANCE_TARGET",
        "CONFORMANCE_AUTH",
        "CONFORMANCE_READONLY_AUTH",
        "CONFORMANCE_OAUTH_CLIENT",
        "CONFORMANCE_GROUP_ID",
        "CONFORMANCE_CM_GROUP_ID",
        "CONFORMANCE_OTHER_GROUP_ID",
        "CONFORMANCE_EXPIRED_TOKEN",
        "CONFORMANCE_SERVE_PID",
    ] {
        assert!(names.contains(&v), "{v} missing: {text}");
    }
    let pid = &vars
        .iter()
        .find(|(k, _)| k == "CONFORMANCE_SERVE_PID")
        .unwrap()
        .1;
    assert_eq!(pid, &server.id().to_string());
    // A run reads them and passes, the expired-token and OAuth cases included.
    let dir = scratch("serve-env");
    let env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let ran = conformance_in(
        &dir,
        &[
            "run",
            "--api",
            "atlas-v2",
            "--category",
            "auth",
            "--explore-steps",
            "0",
        ],
        &env,
    );
    assert_eq!(ran.code, 0, "{ran:?}");
    let doc = read_json(&dir.join("target/conformance/report.json"));
    assert_eq!(doc["summary"]["verdict"], "conformant");
    assert_eq!(doc["target"]["read_only_auth_scheme"], "digest");
    let _ = server.kill();
    let _ = server.wait();

    // `eval "$(conformance serve --env &)"` in a shell returns, and the PID stops it.
    let script = format!(
        "set -eu\neval \"$('{BIN}' serve --port 0 --env 2>/dev/null &)\"\n\
         curl -s -o /dev/null -w '%{{http_code}}\\n' \"$CONFORMANCE_TARGET/\"\n\
         kill \"$CONFORMANCE_SERVE_PID\"\n"
    );
    let started = Instant::now();
    let out = Command::new("bash")
        .args(["-c", &script])
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "{out:?}");
    assert!(started.elapsed() < Duration::from_secs(20));
    let code = String::from_utf8_lossy(&out.stdout);
    assert!(
        code.trim().parse::<u16>().is_ok(),
        "the server answered: {code}"
    );
}

/// A faulty run of one case: the console groups it by first finding with its re-run line; the
/// human reports show the scrubbed secret as scrubbed, report.json keeps the placeholder.
fn faulty_run(dir: &Path) -> (crate::cli::Ran, Document) {
    let ran = run_with_faults(dir, &[]);
    assert_eq!(ran.code, 1, "{ran:?}");
    let text = std::fs::read_to_string(dir.join("r/report.json")).expect("report.json");
    (ran, serde_json::from_str(&text).expect("a document"))
}

#[test]
fn failures_are_grouped_by_first_finding_with_a_re_run_line_and_scrubbed_values_read_as_such() {
    let dir = scratch("grouped");
    let (ran, doc) = faulty_run(&dir);
    let rerun = format!("re-run: conformance run --filter {MASKED} --fault {FAULT}");
    assert!(ran.stdout.contains("by first finding"), "{}", ran.stdout);
    assert!(ran.stdout.contains(&rerun), "{}", ran.stdout);
    assert_eq!(doc.target.faults, [FAULT]);
    let exploration = "atlas-v2/exploration/seed-7";
    assert_eq!(
        report::groups::rerun(&doc, exploration),
        format!("conformance run --category exploration --explore-seed 7 --fault {FAULT}")
    );
    let md = std::fs::read_to_string(dir.join("r/report.md")).unwrap();
    assert!(md.contains("By first finding, largest group first"), "{md}");
    assert!(
        md.contains(&format!(
            "Re-run: `conformance run --filter {MASKED} --fault {FAULT}`"
        )),
        "{md}"
    );
    let html = std::fs::read_to_string(dir.join("r/report.html")).unwrap();
    assert!(html.contains("conformance run --filter"), "the HTML too");
    // The placeholder stays in report.json; the people's reports say ‹scrubbed›.
    let json = std::fs::read_to_string(dir.join("r/report.json")).unwrap();
    assert!(json.contains(report::PLACEHOLDER));
    for (name, text) in [
        ("report.md", &md),
        ("report.html", &html),
        ("stdout", &ran.stdout),
    ] {
        assert!(
            !text.contains(report::PLACEHOLDER),
            "{name} shows the placeholder"
        );
    }
    assert!(md.contains(report::groups::SCRUBBED), "{md}");
}

#[test]
fn the_summary_of_a_two_thousand_failure_run_stays_far_under_one_mebibyte() {
    let dir = scratch("summary-bound");
    let (_, mut doc) = faulty_run(&dir);
    let failed = doc
        .cases
        .iter()
        .find(|c| c.outcome == OutcomeKind::Failed)
        .expect("a failed case")
        .clone();
    // 2,000 failures: half in one group, half each with a finding of its own, long texts.
    let letters = |mut i: usize| {
        let mut w = String::new();
        loop {
            w.push(char::from(b'a' + (i % 26) as u8));
            i /= 26;
            if i == 0 {
                break w;
            }
        }
    };
    doc.cases.clear();
    for i in 0..2000 {
        let mut case = failed.clone();
        case.id = format!("{}-{i:04}-{}", failed.id, "x".repeat(200));
        for f in &mut case.findings {
            if i % 2 == 1 {
                f.message = format!(
                    "distinct{} {} {}",
                    letters(i),
                    f.message,
                    "word ".repeat(200)
                );
            }
        }
        doc.cases.push(case);
    }
    integrations_conformance::known_failures::mark_signatures(&mut doc);
    assert_eq!(doc.signatures.len(), 2000);
    doc.summary.counts.failed = 2000;
    doc.summary.counts.total = 2000;
    report::write(&dir.join("big"), &doc).expect("the reports are written");
    let summary = std::fs::read_to_string(dir.join("big/summary.md")).unwrap();
    assert!(summary.len() <= report::summary::LIMIT, "{}", summary.len());
    assert!(summary.len() < 1024 * 1024);
    assert!(summary.contains("NOT CONFORMANT"), "the verdict");
    assert!(summary.contains("## Conformance matrix"), "the matrix");
    assert!(
        summary.contains("## Failures (2000) by first finding"),
        "{summary}"
    );
    assert!(
        summary.contains("| 1000 |"),
        "the largest group first: {summary}"
    );
    assert!(
        summary.contains("re-run: `conformance run --filter"),
        "{summary}"
    );
    assert!(summary.contains("reports artifact"), "where the rest is");
    let md = std::fs::read_to_string(dir.join("big/report.md")).unwrap();
    assert!(
        md.len() > 1024 * 1024,
        "report.md itself is not bounded: {}",
        md.len()
    );
}

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
}

/// Every `uses:` of a list of steps.
fn uses(steps: &Value) -> Vec<String> {
    steps
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["uses"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn the_action_keys_its_cache_by_version_os_and_arch_and_the_workflow_uses_its_inputs() {
    let action = yaml("action.yml");
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    assert!(
        !text.contains("hashFiles("),
        "hashFiles cannot read the action's own files"
    );
    let inputs = action["inputs"].as_object().expect("inputs");
    for i in ["version", "wait-for-target", "target", "auth", "group-id"] {
        assert!(inputs.contains_key(i), "input {i}");
    }
    let steps = &action["runs"]["steps"];
    for u in uses(steps) {
        assert!(
            u == "actions/cache@v4" || u == "actions/upload-artifact@v4",
            "a current major: {u}"
        );
    }
    let all = steps.as_array().unwrap();
    let cache = all
        .iter()
        .find(|s| s["uses"] == "actions/cache@v4")
        .unwrap();
    let key = cache["with"]["key"].as_str().expect("a key");
    let from = key
        .strip_prefix("${{ steps.")
        .and_then(|k| k.split_once('.'))
        .map(|(id, _)| id)
        .expect("the key comes from a step");
    let keyed = all.iter().find(|s| s["id"] == from).expect("the key step");
    let script = keyed["run"].as_str().unwrap();
    for part in [
        "RUNNER_OS",
        "RUNNER_ARCH",
        "VERSION",
        "ACTION_REF",
        "sha256sum",
    ] {
        assert!(script.contains(part), "the key has {part}: {script}");
    }
    let run = all.iter().find(|s| s["id"] == "run").unwrap();
    assert_eq!(
        run["env"]["CONFORMANCE_WAIT_FOR_TARGET"],
        "${{ inputs.wait-for-target }}"
    );
    let body = run["run"].as_str().unwrap();
    assert!(body.contains("summary.md") && body.contains("GITHUB_STEP_SUMMARY"));
    assert!(
        !body.contains("report.md\" >>"),
        "never the unbounded report.md"
    );

    let wf = yaml(".github/workflows/conformance.yml");
    assert!(wf["on"].is_object(), "{wf}");
    let jobs = wf["jobs"].as_object().expect("jobs");
    assert!(jobs.len() >= 2);
    let mut waited = false;
    for (name, job) in jobs {
        assert!(job["runs-on"].is_string(), "{name}");
        let steps = &job["steps"];
        let used = uses(steps);
        assert!(used.contains(&"actions/checkout@v4".to_owned()), "{name}");
        assert!(used.contains(&"./".to_owned()), "{name} uses the action");
        for step in steps
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["uses"] == "./")
        {
            for (k, _) in step["with"].as_object().into_iter().flatten() {
                assert!(inputs.contains_key(k), "{name}: no input {k}");
            }
            waited |= step["with"]["wait-for-target"].is_string();
        }
    }
    assert!(waited, "one job waits for a target that starts late");
}
