//! SIGTERM in the middle of a run against a separately started `conformance serve`: the run
//! stops sending, removes what it created, writes the reports for what ran and exits 2.

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::{conformance_in, read_json, scratch, BIN};

/// `conformance serve` on a free port, and the JSON line that says how to reach it.
fn serve() -> (Child, Value) {
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("serve prints one line");
    let info = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    (child, info)
}

/// The flags that point `run` at the server `info` describes.
fn target_flags(info: &Value) -> Vec<String> {
    let s = |p: &str| info.pointer(p).and_then(Value::as_str).expect(p).to_owned();
    vec![
        "--target".into(),
        s("/base_url"),
        "--auth".into(),
        format!("digest:{}:{}", s("/owner/public"), s("/owner/private")),
        "--readonly-auth".into(),
        format!(
            "digest:{}:{}",
            s("/read_only/public"),
            s("/read_only/private")
        ),
        "--group-id".into(),
        s("/atlas_group_id"),
        "--cm-group-id".into(),
        s("/cm_group_id"),
        "--other-group-id".into(),
        s("/other_group_id"),
    ]
}

fn kill(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[test]
fn sigterm_mid_run_cleans_up_writes_the_reports_and_exits_2() {
    let dir = scratch("sigterm");
    let (mut server, info) = serve();
    let flags = target_flags(&info);
    let mut run = Command::new(BIN)
        .args([
            "run",
            "--rate",
            "40",
            "--explore-steps",
            "0",
            "--report-dir",
            "r",
        ])
        .args(&flags)
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run starts");
    // Mid-run: after its first progress line (a tenth of the cases).
    let mut stderr = BufReader::new(run.stderr.take().expect("stderr"));
    let mut seen = String::new();
    while !seen.contains("% (") {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).expect("stderr") > 0, "{seen}");
        seen.push_str(&line);
    }
    kill(&run, "-TERM");
    let stopping = Instant::now();
    let status = run.wait().expect("run ends");
    let _ = stderr.read_to_string(&mut seen);
    assert!(
        stopping.elapsed() < Duration::from_secs(60),
        "bounded: {:?}",
        stopping.elapsed()
    );
    assert_eq!(status.code(), Some(2), "{seen}");
    assert!(seen.contains("interrupted (SIGTERM)"), "{seen}");
    let doc = read_json(&dir.join("r/report.json"));
    assert_eq!(doc["interrupted"], true);
    assert_eq!(doc["summary"]["verdict"], "inconclusive");
    assert!(dir.join("r/report.md").is_file() && dir.join("r/junit.xml").is_file());
    assert_eq!(doc["not_cleaned_up"], serde_json::json!([]), "{seen}");

    // Nothing left on the target: the next run finds no integration in any project.
    let mut args = vec!["run", "--filter", "concurrent-creates-one-wins"];
    args.extend(["--explore-steps", "0", "--report-dir", "r2"]);
    args.extend(flags.iter().map(String::as_str));
    let ran = conformance_in(&dir, &args, &[]);
    assert_eq!(ran.code, 0, "{ran:?}");
    let after = read_json(&dir.join("r2/report.json"));
    let families = after["pre_existing"].as_object().expect("pre_existing");
    assert_eq!(families.len(), 3, "{after}");
    for (family, types) in families {
        assert_eq!(types, &serde_json::json!([]), "{family}: {types}");
    }
    kill(&server, "-TERM");
    let _ = server.wait();
}
