//! The cargo front end (`cargo test --test conformance`) reads the target settings as the command
//! line does: the same argument group, from its variables and `conformance.toml`. These tests run
//! its built test binary (cargo builds it if needed and names it) with a `--exact` filter.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use integrations_conformance::server::{Fault, RunningServer};

use crate::ci::{FAULT, MASKED};
use crate::cli::{ambient, scratch, Ran};
use crate::fixture;

/// The conformance test binary, built (or found up to date) once by cargo, which names it.
fn test_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .args([
                "test",
                "--locked",
                "--no-run",
                "--test",
                "conformance",
                "--message-format=json",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("cargo runs");
        assert!(
            out.status.success(),
            "cargo test --no-run --test conformance: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|m| m["target"]["name"] == "conformance" && m["profile"]["test"] == true)
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .expect("cargo names the conformance test binary")
    })
}

/// The cargo front end with libtest's `args`, exactly the `CONFORMANCE_*` variables in `env`,
/// and no known failures (a file of none in `dir`).
fn front_end(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Ran {
    let none = dir.join("known-failures.txt");
    std::fs::write(&none, "").expect("an empty known-failures file");
    let mut cmd = Command::new(test_binary());
    cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    for v in ambient() {
        cmd.env_remove(v);
    }
    cmd.env("CONFORMANCE_KNOWN_FAILURES", &none)
        .envs(env.iter().map(|(k, v)| (k, v)));
    let out = cmd.output().expect("the test binary runs");
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A `conformance.toml` naming `server` (credentials from `${NAME}` variables) with a key only
/// `run` knows, which the cargo front end leaves alone.
fn config_for(server: &RunningServer) -> String {
    let c = &server.credentials;
    format!(
        "target = \"{}\"\n\
         auth = \"digest:${{TEST_PUBLIC}}:${{TEST_PRIVATE}}\"\n\
         readonly_auth = \"digest:{}:{}\"\n\
         group_id = \"{}\"\n\
         cm_group_id = \"{}\"\n\
         other_group_id = \"{}\"\n\
         report_dir = \"target/not-for-cargo\"\n\
         jobs = 2\n",
        server.base_url,
        c.read_only.public,
        c.read_only.private,
        c.atlas_group_id,
        c.cm_group_id,
        c.other_group_id
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cargo_front_end_judges_the_target_conformance_toml_names() {
    // A server with a fault the masked case catches: its failure shows the requests went
    // there, not to the (faithful) embedded server.
    let fault: Fault = FAULT.parse().expect("a fault");
    let srv = fixture::server(vec![fault]).await;
    let dir = scratch("front-config");
    let file = dir.join("team.toml");
    std::fs::write(&file, config_for(&srv)).expect("write the file");
    let env = [
        ("CONFORMANCE_CONFIG", file.display().to_string()),
        ("TEST_PUBLIC", srv.credentials.owner.public.clone()),
        ("TEST_PRIVATE", srv.credentials.owner.private.clone()),
    ];
    let ran = tokio::task::spawn_blocking(move || front_end(&dir, &["--exact", MASKED], &env))
        .await
        .unwrap();
    assert_eq!(
        ran.code, 101,
        "the masked case fails on the faulty server: {ran:?}"
    );
    let summary = ran
        .stderr
        .lines()
        .find(|l| l.contains(" cases, "))
        .expect("the run's summary line");
    assert!(
        summary.contains("1 cases") && summary.contains(&srv.base_url),
        "{summary}"
    );
    assert!(
        ran.stdout.contains(MASKED) && ran.stdout.contains("FAILED"),
        "{}",
        ran.stdout
    );
    srv.shutdown().await.unwrap();
}

/// `CONFORMANCE_RATE` paces the cargo front end as `--rate` paces `run`: N requests at 5 a
/// second take at least (N - 1) / 5 seconds.
#[test]
fn conformance_rate_paces_the_cargo_front_end() {
    let dir = scratch("front-rate");
    let started = Instant::now();
    let ran = front_end(
        &dir,
        &["atlas-v1/atlasV1CreateIntegration/array-body"],
        &[("CONFORMANCE_RATE", "5".into())],
    );
    let took = started.elapsed().as_secs_f64();
    assert_eq!(ran.code, 0, "{ran:?}");
    let summary = ran
        .stderr
        .lines()
        .find(|l| l.contains(" cases, "))
        .expect("the run's summary line");
    let requests: f64 = summary
        .split(" cases, ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("the request count");
    assert!(requests >= 5.0, "a handful of requests: {summary}");
    let least = (requests - 1.0) / 5.0;
    assert!(
        took >= least,
        "{requests} requests at 5 a second took {took:.2}s, less than {least:.2}s: {summary}"
    );
}

/// A wrong value is one line naming the variable, exit code 2, no panic.
#[test]
fn a_wrong_variable_is_one_line_and_exit_code_2() {
    let dir = scratch("front-wrong");
    let ran = front_end(
        &dir,
        &["--exact", MASKED],
        &[("CONFORMANCE_TIMEOUT", "abc".into())],
    );
    assert_eq!(ran.code, 2, "{ran:?}");
    let lines: Vec<&str> = ran.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {:?}", ran.stderr);
    assert!(lines[0].starts_with("conformance: "), "{:?}", lines[0]);
    for needle in ["--timeout", "CONFORMANCE_TIMEOUT", "not a duration"] {
        assert!(lines[0].contains(needle), "{:?} lacks {needle:?}", lines[0]);
    }
    // A key of the file that nothing knows is one line too.
    let file = dir.join("typo.toml");
    std::fs::write(&file, "timeuot = \"5s\"\n").expect("write the file");
    let ran = front_end(
        &dir,
        &["--exact", MASKED],
        &[("CONFORMANCE_CONFIG", file.display().to_string())],
    );
    assert_eq!(ran.code, 2, "{ran:?}");
    assert_eq!(ran.stderr.lines().count(), 1, "{:?}", ran.stderr);
    assert!(
        ran.stderr.contains("unknown key `timeuot`"),
        "{}",
        ran.stderr
    );
}
