//! `conformance explore`: no divergence against the faithful embedded server (with and without
//! every tolerated variant), a divergence for every fault of every category within a stated
//! budget (or the fault listed unreachable, with the reason), shrunk reproductions that replay, the same
//! sequences for the same seed, and a target's pre-existing integrations left alone.

use std::sync::Arc;

use integrations_conformance::explore::{self, Engine, Options, Reproduction, Settings};
use integrations_conformance::harness::Harness;
use integrations_conformance::server::{self, Fault, Integration, Reach, ServerConfig, Variant};

use crate::cli::{conformance, scratch};

fn engine(variants: &[Variant]) -> Engine {
    let harness = Arc::new(Harness::bundled().expect("bundled spec"));
    Engine::new(
        harness,
        Options {
            variants: variants.to_vec(),
            ..Options::default()
        },
    )
    .expect("an engine on the embedded server")
}

fn settings(seed: u64, steps: usize) -> Settings {
    Settings {
        seed,
        steps,
        ..Settings::default()
    }
}

/// Steps per seed in the faithful runs; `cargo run --release -- explore --steps 20000` is the
/// acceptance's figure (see README), this keeps the test quick in a debug build.
const FAITHFUL_STEPS: usize = 1500;

#[test]
fn no_divergence_against_the_faithful_server() {
    let e = engine(&[]);
    for seed in [1, 2, 3] {
        let ex = explore::explore(&e, &settings(seed, FAITHFUL_STEPS));
        assert!(
            ex.steps >= FAITHFUL_STEPS,
            "seed {seed}: {} steps",
            ex.steps
        );
        assert!(
            ex.reproduction.is_none(),
            "seed {seed}: {}",
            explore::report::headline(&ex)
        );
        // The exploration reached successes and refusals of every operation.
        for op in ["list", "get", "create", "update", "delete"] {
            assert!(
                ex.coverage
                    .keys()
                    .any(|k| k.starts_with(&format!("{op} 2"))),
                "seed {seed}: no success of {op}"
            );
            assert!(
                ex.coverage
                    .keys()
                    .any(|k| k.starts_with(&format!("{op} 4"))),
                "seed {seed}: no refusal of {op}"
            );
        }
    }
}

#[test]
fn no_divergence_with_every_variant_on() {
    let e = engine(Variant::ALL);
    for seed in [4, 5, 6] {
        let ex = explore::explore(&e, &settings(seed, FAITHFUL_STEPS));
        assert!(
            ex.reproduction.is_none(),
            "seed {seed} with every variant: {}",
            explore::report::headline(&ex)
        );
        // extra-fields: reported as warnings, never as divergences
        assert!(!ex.warnings.is_empty(), "seed {seed}: no warning seen");
    }
}

/// Faults exploration cannot reach within its budget, and why: the part of the input space the
/// generator never draws (it builds every request from the model's five operations, with the
/// version's own `Accept`, the canonical path and values of the generated lengths).
const UNREACHABLE: &[(Fault, &str)] = &[
    (
        Fault::CreateRace,
        "the race needs concurrent creates of one type; exploration sends one request at a time",
    ),
    (
        Fault::UpdateNotAtomic,
        "a half-written update shows only to a concurrent request; exploration sends one at a time",
    ),
    (
        Fault::ExpiredTokenAccepted,
        "the reference model in process cannot expire the token it issued; no expired token is drawn",
    ),
    (
        Fault::StaleFlagMissing,
        "the reference model in process cannot expire its nonces; no stale nonce is drawn",
    ),
    (
        Fault::TokenGrantTypeUnchecked,
        "the token endpoint is outside the five operations the input model covers",
    ),
    (
        Fault::TokenAnyClientSecret,
        "the token endpoint is outside the five operations the input model covers",
    ),
];

/// The step budget per fault; the rarest get more: a pattern break on two fields of one atlas-v2
/// type, a boolean sent as a string, a next link read after a delete, and a mask sent back that
/// shows only for a URL whose mask is not its own (a short path written before).
fn budget(f: Fault) -> usize {
    match f {
        Fault::PatternUnchecked
        | Fault::BooleanStringsAccepted
        | Fault::NextLinkAfterDelete
        | Fault::MaskSentBackKept => 20_000,
        _ => 5_000,
    }
}

fn median(v: &mut [usize]) -> usize {
    v.sort_unstable();
    v[v.len() / 2]
}

#[test]
fn every_fault_diverges_within_its_budget_or_is_listed_unreachable() {
    let e = engine(&[]);
    let state = e.embedded_state().expect("embedded");
    let mut found: Vec<(Fault, usize, usize)> = Vec::new();
    let mut missed = Vec::new();
    for &fault in Fault::ALL {
        if UNREACHABLE.iter().any(|(f, _)| *f == fault) {
            continue;
        }
        state.set_faults(&[fault]);
        let ex = explore::explore(&e, &settings(11, budget(fault)));
        match (&ex.reproduction, ex.first_divergence_at) {
            (Some(r), Some(at)) => found.push((fault, at, r.steps.len())),
            _ => missed.push(fault.name()),
        }
    }
    state.set_faults(&[]);
    for (f, a, l) in &found {
        eprintln!(
            "{:<36} {:<11} {:<7} first divergence after {a:>5} steps, shrunk to {l} calls",
            f.name(),
            f.category(),
            f.reach().as_str()
        );
    }
    for (f, why) in UNREACHABLE {
        eprintln!("{:<36} {:<11} unreachable: {why}", f.name(), f.category());
    }
    assert!(missed.is_empty(), "no divergence within budget: {missed:?}");
    let mut at: Vec<usize> = found.iter().map(|(_, a, _)| *a).collect();
    let mut lens: Vec<usize> = found.iter().map(|(_, _, l)| *l).collect();
    let (all, reached) = (Fault::ALL.len(), found.len());
    eprintln!(
        "{reached} of {all} faults reached: median {} steps to the first divergence, median \
         shrunk length {}, longest {}",
        median(&mut at),
        median(&mut lens),
        lens.last().unwrap()
    );
    for reach in [Reach::Fixed, Reach::Explore] {
        let of = |f: &Fault| f.reach() == reach;
        eprintln!(
            "  {}: {} of {} reached",
            reach.as_str(),
            found.iter().filter(|(f, _, _)| of(f)).count(),
            Fault::ALL.iter().filter(|f| of(f)).count()
        );
    }
    assert!(median(&mut lens) <= 2, "shrunk lengths {lens:?}");
    let short = lens.iter().filter(|l| **l <= 4).count();
    assert!(short * 10 >= lens.len() * 9, "shrunk lengths {lens:?}");
}

#[test]
fn the_same_seed_draws_the_same_sequences() {
    let e = engine(&[]);
    let a = explore::draw(e.catalog.clone(), 42, 20, 24);
    let b = explore::draw(e.catalog.clone(), 42, 20, 24);
    let c = explore::draw(e.catalog.clone(), 43, 20, 24);
    assert_eq!(a.len(), 20);
    assert_eq!(a, b);
    assert_ne!(a, c);
    // And the same exploration: the same steps and answers.
    let x = explore::explore(&e, &settings(42, 300));
    let y = explore::explore(&e, &settings(42, 300));
    assert_eq!((x.steps, x.sequences), (y.steps, y.sequences));
    assert_eq!(x.coverage, y.coverage);
}

#[test]
fn a_reproduction_replays_against_the_faulty_server_and_passes_against_the_faithful_one() {
    let dir = scratch("explore-repro");
    let report_dir = dir.to_string_lossy().into_owned();
    let ran = conformance(
        &[
            "explore",
            "--seed",
            "9",
            "--steps",
            "3000",
            "--fault",
            "failed-update-partially-applied",
            "--report-dir",
            &report_dir,
        ],
        &[],
    );
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert!(ran.stderr.contains("seed 9"), "{}", ran.stderr);
    let repro_path = dir.join("repro-9.json");
    let repro = Reproduction::load(&repro_path).expect("a reproduction");
    assert!((1..=4).contains(&repro.steps.len()), "{:?}", repro.requests);
    let script = std::fs::read_to_string(dir.join("repro-9.sh")).unwrap();
    assert!(script.contains("curl"), "{script}");
    let json = std::fs::read_to_string(dir.join("explore.json")).unwrap();
    assert!(json.contains("\"seed\": 9"), "{json}");
    for name in [
        "explore-junit.xml",
        "explore.md",
        "explore.html",
        "repro-9.txt",
    ] {
        assert!(dir.join(name).exists(), "{name}");
    }
    // Generated secrets are scrubbed from every file (the recipes make them again on replay).
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("cnry"), "a secret in {}", path.display());
    }
    let file = repro_path.to_string_lossy().into_owned();
    let faulty = conformance(
        &[
            "replay",
            &file,
            "--fault",
            "failed-update-partially-applied",
        ],
        &[],
    );
    assert_eq!(faulty.code, 1, "{}", faulty.stderr);
    let faithful = conformance(&["replay", &file], &[]);
    assert_eq!(faithful.code, 0, "{}", faithful.stderr);
    let other_fault = conformance(&["replay", &file, "--fault", "missing-next-link"], &[]);
    assert_eq!(other_fault.code, 0, "{}", other_fault.stderr);
    let missing = conformance(&["replay", "/nonexistent/repro.json"], &[]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
}

#[test]
fn a_given_target_keeps_its_integrations_and_loses_what_exploration_made() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let running = rt
        .block_on(server::spawn(ServerConfig::default()))
        .expect("a server");
    let state = running.state.clone();
    let group = running.credentials.atlas_group_id.clone();
    let kept = Integration {
        type_name: "SLACK".into(),
        id: "0123456789abcdef01234567".into(),
        fields:
            serde_json::json!({"apiToken": "****-kept", "channelName": "kept", "teamName": "t"})
                .as_object()
                .cloned()
                .unwrap(),
    };
    state.reset_with(&[(group.clone(), "atlas-v2".into(), kept.clone())]);
    let harness = Arc::new(Harness::bundled().unwrap());
    let e = Engine::new(
        harness,
        Options {
            target: Some(running.target().unwrap()),
            ..Options::default()
        },
    )
    .expect("an engine on a given target");
    assert!(!e.embedded);
    let ex = explore::explore(&e, &settings(3, 600));
    assert!(
        ex.reproduction.is_none(),
        "{}",
        explore::report::headline(&ex)
    );
    assert_eq!(state.integrations(&group), vec![kept]);
    assert!(state
        .integrations(&running.credentials.cm_group_id)
        .is_empty());
    drop(running);
}

#[test]
fn a_kept_regression_is_an_ordinary_case_that_catches_its_fault() {
    use integrations_conformance::runner::{self, RunOptions};
    let harness = Harness::bundled().unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(explore::regression::DIR);
    let cases = explore::regression::cases(&harness.model, &dir).expect("the regressions load");
    assert!(
        !cases.is_empty(),
        "regressions/ holds at least one reproduction"
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let run = |faults: Vec<Fault>| {
        rt.block_on(async {
            let server = server::spawn(ServerConfig {
                faults,
                ..ServerConfig::default()
            })
            .await
            .unwrap();
            runner::run(
                &harness,
                &cases,
                &server.target().unwrap(),
                &RunOptions::default(),
            )
            .await
            .unwrap()
        })
    };
    let faithful = run(Vec::new());
    assert_eq!(faithful.passed(), cases.len(), "{:?}", faithful.outcomes);
    let faulty = run(vec![Fault::FailedUpdatePartiallyApplied]);
    assert!(
        faulty.failed() >= 1,
        "the kept reproduction no longer catches its fault"
    );
}

/// Exploration inside the gate: `conformance run` ends with a seeded exploration, a divergence
/// fails the run in its exit code and reports, with the reproduction written beside them, and
/// `--explore-steps 0` turns it off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_ends_with_an_exploration_whose_divergence_fails_the_run() {
    use crate::cli::{conformance_async, read_json, scratch};
    let dir = scratch("gate-fault");
    let args: Vec<String> = [
        "run",
        "--fault",
        "v2-update-stores-id",
        "--category",
        "exploration",
        "--report-dir",
        dir.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    let ran = conformance_async(args, Vec::new()).await;
    assert_eq!(ran.code, 1, "{ran:?}");
    let doc = read_json(&dir.join("report.json"));
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 1, "{doc}");
    let entry = &cases[0];
    assert_eq!(entry["category"], "exploration");
    assert_eq!(entry["outcome"], "failed");
    let finding = &entry["findings"][0];
    assert_eq!(finding["check"], "reference_model");
    let repro = dir.join(format!(
        "repro-{}.json",
        integrations_conformance::explore::gate::DEFAULT_SEED
    ));
    assert!(repro.is_file(), "{}", repro.display());
    assert!(finding["message"]
        .as_str()
        .unwrap()
        .contains("conformance replay"));
    let xml = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(xml.contains("exploration/seed-"), "{xml}");

    // The faithful server: the same exploration passes; without steps there is nothing to run.
    let dir = scratch("gate-faithful");
    let ran = conformance_async(
        [
            "run",
            "--category",
            "exploration",
            "--explore-steps",
            "800",
            "--report-dir",
        ]
        .map(String::from)
        .into_iter()
        .chain([dir.to_str().unwrap().to_owned()])
        .collect(),
        Vec::new(),
    )
    .await;
    assert_eq!(ran.code, 0, "{ran:?}");
    let ran = conformance_async(
        ["run", "--category", "exploration", "--explore-steps", "0"]
            .map(String::from)
            .to_vec(),
        Vec::new(),
    )
    .await;
    assert_eq!(ran.code, 2, "{ran:?}");
}
