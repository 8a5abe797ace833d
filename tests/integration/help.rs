//! Help that fits and values that are named: `run --help` within the terminal's width, grouped
//! under headings; a wrong `--fault` names the faults; completion offers the faults, variants,
//! categories, families and require-values; `explore --budget` alone is bounded by time.

use std::process::Command;

use integrations_conformance::server::Fault;

use crate::cli::{conformance, BIN};

#[test]
fn run_help_fits_the_terminal_and_has_headings() {
    for (columns, help) in [("100", "--help"), ("80", "--help"), ("100", "-h")] {
        let out = Command::new(BIN)
            .args(["run", help])
            .env("COLUMNS", columns)
            .output()
            .expect("the binary runs");
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        let width: usize = columns.parse().unwrap();
        let width = width.min(100);
        for line in text.lines() {
            assert!(line.chars().count() <= width, "{columns}: {line:?}");
        }
        for heading in [
            "Target:",
            "Credentials:",
            "Selection:",
            "Reports:",
            "Embedded server:",
        ] {
            assert!(text.lines().any(|l| l == heading), "{heading} in {text}");
        }
    }
}

#[test]
fn a_wrong_value_names_the_possible_ones() {
    let ran = conformance(&["run", "--fault", "no-such-fault"], &[]);
    assert_eq!(ran.code, 2, "{ran:?}");
    for f in Fault::ALL {
        assert!(
            ran.stderr.contains(f.name()),
            "{} in {}",
            f.name(),
            ran.stderr
        );
    }
    let ran = conformance(&["run", "--category", "nonsense"], &[]);
    assert!(ran.stderr.contains("validation, redaction"), "{ran:?}");
    // clap's own list (a value enum) survives the one-line rewrite.
    let ran = conformance(&["run", "--color", "sometimes"], &[]);
    assert_eq!(ran.stderr.lines().count(), 1, "{ran:?}");
    assert!(
        ran.stderr.contains("possible values: auto, always, never"),
        "{ran:?}"
    );
}

#[test]
fn completions_offer_faults_variants_categories_families_and_requirements() {
    let ran = conformance(&["completions", "bash"], &[]);
    assert_eq!(ran.code, 0, "{ran:?}");
    for value in
        Fault::ALL
            .iter()
            .map(Fault::name)
            .chain(["all", "pagination", "atlas-v2", "cloud-manager"])
    {
        assert!(ran.stdout.contains(value), "{value} offered");
    }
}

#[test]
fn an_exploration_budget_alone_is_the_bound() {
    let start = std::time::Instant::now();
    let ran = conformance(
        &["explore", "--budget", "3s", "--seed", "1", "--report-dir"],
        &[],
    );
    // --report-dir needs a value: a usage error, before anything runs.
    assert_eq!(ran.code, 2, "{ran:?}");
    let dir = crate::cli::scratch("explore-budget");
    let report = dir.to_string_lossy().into_owned();
    let ran = conformance(
        &[
            "explore",
            "--budget",
            "3s",
            "--seed",
            "1",
            "--report-dir",
            &report,
        ],
        &[],
    );
    assert!(
        ran.stderr.contains("(for 3s)"),
        "the start line says so: {ran:?}"
    );
    let took = start.elapsed();
    assert!(
        took >= std::time::Duration::from_millis(2900),
        "ran until the budget: {took:?} ({ran:?})"
    );
    let ran = conformance(
        &[
            "explore",
            "--steps",
            "5",
            "--seed",
            "1",
            "--report-dir",
            &report,
        ],
        &[],
    );
    assert!(ran.stderr.contains("(5 steps at most)"), "{ran:?}");
    let ran = conformance(
        &[
            "explore",
            "--steps",
            "5",
            "--budget",
            "1m",
            "--seed",
            "1",
            "--report-dir",
            &report,
        ],
        &[],
    );
    assert!(
        ran.stderr
            .contains("until 5 steps or 1m, whichever comes first"),
        "{ran:?}"
    );
}

/// The target settings' variables are named once, by the flags of the library's argument group
/// (`settings::variables`): `run`,
/// `explore` and `replay` read exactly those (and `run` its known-failures file), so the cargo
/// front end, which reads them through the library, takes what the command line takes.
#[test]
fn the_target_flags_read_the_variables_the_library_names() {
    use std::collections::BTreeSet;

    let named = regex::Regex::new(r"\[env:\s+(CONFORMANCE_[A-Z0-9_]+)\]").unwrap();
    let variables = integrations_conformance::settings::variables();
    let library: BTreeSet<&str> = variables.iter().map(String::as_str).collect();
    for (command, own) in [
        (
            "run",
            &["CONFORMANCE_KNOWN_FAILURES", "CONFORMANCE_WAIT_FOR_TARGET"][..],
        ),
        ("explore", &[][..]),
        ("replay", &[][..]),
    ] {
        let ran = conformance(&[command, "--help"], &[]);
        assert_eq!(ran.code, 0, "{ran:?}");
        let help: BTreeSet<String> = named
            .captures_iter(&ran.stdout)
            .map(|c| c[1].to_owned())
            .filter(|v| !own.contains(&v.as_str()))
            .collect();
        let help: BTreeSet<&str> = help.iter().map(String::as_str).collect();
        assert_eq!(help, library, "{command} --help");
    }
}
