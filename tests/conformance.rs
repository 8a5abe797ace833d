//! The conformance suite as `cargo test`: one libtest-mimic trial per generated case, named by
//! its id, plus one insta snapshot per case in `snapshots/`.
//!
//! Target and sending: the command line's own argument group of the target settings
//! (`settings::TargetArgs`, which `run`, `explore` and `replay` flatten), read from its
//! environment variables and then from `conformance.toml` (the file `CONFORMANCE_CONFIG` names,
//! else the crate directory's when there is one), exactly as `conformance run` reads them: the
//! embedded reference server (with `CONFORMANCE_*` faults and variants) or the target
//! `CONFORMANCE_TARGET` names, with credentials, projects, the gateway's headers, CA and client
//! certificate, and the timeout, deadline and rate (`CONFORMANCE_TIMEOUT`, `_DEADLINE`,
//! `_RATE`). A mistake is one line and exit code 2. Known failures: the file
//! `CONFORMANCE_KNOWN_FAILURES` names (default `tests/known-failures.txt`), one
//! `case-id  check:signature` per line (the format and parser of `run --known-failures`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use integrations_conformance::case::{self, Category};
use integrations_conformance::error::Error;
use integrations_conformance::explore;
use integrations_conformance::known_failures::KnownFailures;
use integrations_conformance::rules::{CaseState, RuleCounts, Rules};
use integrations_conformance::runner::{self, Harness, RunOptions, Verdict};
use integrations_conformance::server::{self, ServerConfig};
use integrations_conformance::settings::{self, Resolved, TargetArgs};
use integrations_conformance::snapshot::{self, Volatile};
use libtest_mimic::{Arguments, Failed, Trial};

/// The known failures (`CONFORMANCE_KNOWN_FAILURES`, default `tests/known-failures.txt`), parsed
/// as `conformance run --known-failures` parses them; an id no generated case has is an error.
fn known_failures(all: &[case::Case]) -> KnownFailures {
    let path = std::env::var("CONFORMANCE_KNOWN_FAILURES")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/known-failures.txt")
        });
    let baseline = match KnownFailures::load(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("conformance: {e}");
            std::process::exit(2);
        }
    };
    let unknown = baseline.unknown_ids(all.iter().map(|c| c.id.as_str()));
    if !unknown.is_empty() {
        eprintln!(
            "conformance: {} lists cases that do not exist: {}",
            path.display(),
            unknown.join(", ")
        );
        std::process::exit(2);
    }
    if baseline.bare_ids() > 0 {
        eprintln!(
            "conformance: {}: {} lines name a case without a finding signature and accept any \
             finding of it; `conformance run --update-baseline FILE` rewrites them",
            path.display(),
            baseline.bare_ids()
        );
    }
    baseline
}

/// The target settings (see the top of this file), read and checked; a mistake ends the run
/// with one line and exit code 2.
fn target_settings() -> (TargetArgs, Resolved) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let read = settings::from_environment(&dir).and_then(|args| {
        let resolved = args.resolve()?;
        Ok((args, resolved))
    });
    read.unwrap_or_else(|e| {
        match e {
            Error::Usage(line) => eprintln!("conformance: {line}"),
            e => eprintln!("conformance: {e}"),
        }
        std::process::exit(2);
    })
}

/// The run's exploration (`CONFORMANCE_EXPLORE_STEPS`, default the CLI's, 0 turns it off;
/// `CONFORMANCE_EXPLORE_SEED`, default the release's): the trial's name and, when it diverged,
/// its failure text. Not with a filter that leaves the exploration out.
fn explore_gate(
    harness: &Arc<Harness>,
    args: &Arguments,
    (sending, resolved): &(TargetArgs, Resolved),
) -> Option<(String, Option<String>)> {
    use explore::gate;
    let steps = std::env::var("CONFORMANCE_EXPLORE_STEPS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(gate::DEFAULT_STEPS);
    let seed = std::env::var("CONFORMANCE_EXPLORE_SEED")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(gate::DEFAULT_SEED);
    let wanted = |family: &str| {
        let id = case::exploration_id(family, seed);
        args.filter.as_ref().is_none_or(|f| id.contains(f.as_str()))
            && !args.skip.iter().any(|s| id.contains(s.as_str()))
    };
    if steps == 0 || !harness.model.families.iter().any(|f| wanted(&f.name)) {
        return None;
    }
    // The same target, gateway, timeout and rate as the cases.
    let target = resolved.given.clone().map(|mut t| {
        t.gateway = resolved.gateway.clone();
        t
    });
    let opts = explore::engine::Options {
        target,
        faults: resolved.faults.clone(),
        variants: resolved.variants.clone(),
        families: Vec::new(),
        sending: sending.sending(),
        gateway: Some(resolved.gateway.clone()),
    };
    let settings = explore::Settings {
        seed,
        steps,
        ..explore::Settings::default()
    };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/conformance-explore");
    match gate::run(harness.clone(), opts, settings, &dir) {
        Ok(g) => {
            eprintln!(
                "conformance: explored {} steps in {} sequences (seed {seed})",
                g.exploration.steps, g.exploration.sequences
            );
            let failure = (!g.outcome.findings.is_empty()).then(|| {
                g.outcome
                    .findings
                    .iter()
                    .map(|f| format!("[{}] {}", f.check, f.message))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            Some((g.case.id, failure))
        }
        Err(e) => {
            eprintln!("conformance: cannot explore the target: {e}");
            std::process::exit(2);
        }
    }
}

fn main() -> std::process::ExitCode {
    let args = Arguments::from_args();
    let harness = Arc::new(Harness::bundled().expect("the bundled spec loads"));
    let mut cases = case::generate(&harness.model);
    // Reproductions kept in regressions/ run as ordinary cases.
    let regressions = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(explore::regression::DIR);
    match explore::regression::cases(&harness.model, &regressions) {
        Ok(r) => cases.extend(r),
        Err(e) => {
            eprintln!("conformance: {e}");
            std::process::exit(2);
        }
    }
    let known = known_failures(&cases);
    if let Some(filter) = &args.filter {
        cases.retain(|c| {
            if args.exact {
                c.id == *filter
            } else {
                c.id.contains(filter.as_str())
            }
        });
    }
    cases.retain(|c| !args.skip.iter().any(|s| c.id.contains(s.as_str())));

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    // Read before anything is sent, not for a listing.
    let target_settings = (!args.list).then(target_settings);
    let (report, volatile) = match &target_settings {
        None => (None, Volatile::default()),
        Some((sending, resolved)) => rt.block_on(async {
            let (mut target, _server) = match resolved.given.clone() {
                Some(t) => (t, None),
                None => {
                    let config = ServerConfig {
                        faults: resolved.faults.clone(),
                        variants: resolved.variants.clone(),
                        ..ServerConfig::default()
                    };
                    let server = server::spawn(config).await.expect("the embedded server starts");
                    let target = server.target().expect("embedded target");
                    (target, Some(server))
                }
            };
            // In front of the embedded server too, as on the command line.
            target.gateway = resolved.gateway.clone();
            let opts = RunOptions {
                sending: sending.sending(),
                ..RunOptions::default()
            };
            let started = std::time::Instant::now();
            let report = match runner::run(&harness, &cases, &target, &opts).await {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("conformance: cannot judge the target: {e}");
                    std::process::exit(2);
                }
            };
            let mut per: BTreeMap<(String, Category), usize> = BTreeMap::new();
            for c in &cases {
                *per.entry((c.family.clone(), c.category)).or_default() += 1;
            }
            eprintln!(
                "conformance: {} cases, {} requests in {:.2}s against {} ({} passed, {} failed, {} skipped, {} warnings)",
                cases.len(),
                report.requests,
                started.elapsed().as_secs_f64(),
                target.base_url,
                report.passed(),
                report.failed(),
                report.skipped(),
                report.warnings()
            );
            let families: Vec<String> = harness.model.families.iter().map(|f| f.name.clone()).collect();
            eprint!("conformance: {:12}", "");
            for f in &families {
                eprint!("{f:>15}");
            }
            eprintln!();
            for cat in Category::ALL {
                eprint!("conformance: {:12}", cat.as_str());
                for f in &families {
                    eprint!("{:>15}", per.get(&(f.clone(), cat)).copied().unwrap_or(0));
                }
                eprintln!();
            }
            let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
            for o in &report.outcomes {
                if let Verdict::Skipped(r) = &o.verdict {
                    *reasons.entry(r.as_str()).or_default() += 1;
                }
            }
            for (reason, n) in reasons {
                eprintln!("conformance: skipped {n} case(s): {reason}");
            }
            // Contract coverage, as the CLI's summary ends.
            let coverage = Rules::shared().coverage(report.outcomes.iter().map(|o| {
                let state = match &o.verdict {
                    Verdict::Passed => CaseState::Passed,
                    Verdict::Failed => CaseState::Failed,
                    Verdict::Skipped(r) => CaseState::Skipped(r.as_str()),
                };
                (o.id.as_str(), state)
            }));
            eprintln!("conformance: {}", RuleCounts::of(&coverage).line());
            let groups: Vec<(&str, &str)> = [
                (target.atlas_group_id.as_deref(), "groupId"),
                (target.cm_group_id.as_deref(), "cmGroupId"),
                (target.other_group_id.as_deref(), "noAccessGroupId"),
            ]
            .into_iter()
            .filter_map(|(v, n)| v.map(|v| (v, n)))
            .collect();
            let volatile = Volatile::new(target.base_url.as_str(), &groups, target.secrets());
            (Some(report), volatile)
        }),
    };
    let exploration = target_settings
        .as_ref()
        .and_then(|settings| explore_gate(&harness, &args, settings));
    let snapshots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    let volatile = Arc::new(volatile);
    let mut outcomes: BTreeMap<String, runner::Outcome> = report
        .map(|r| r.outcomes.into_iter().map(|o| (o.id.clone(), o)).collect())
        .unwrap_or_default();
    let mut trials: Vec<Trial> = cases
        .into_iter()
        .map(|case| {
            let outcome = outcomes.remove(&case.id);
            let known = known.listed(&case.id).cloned();
            let ignored = matches!(
                outcome.as_ref().map(|o| &o.verdict),
                Some(Verdict::Skipped(_))
            );
            let volatile = volatile.clone();
            let harness_for_snapshots = harness.clone();
            let snapshots = snapshots.clone();
            let kind = case.category.as_str().to_owned();
            Trial::test(case.id.clone(), move || {
                let Some(outcome) = outcome else {
                    return Ok(());
                };
                match (&outcome.verdict, known) {
                    (Verdict::Skipped(_), _) => Ok(()),
                    (Verdict::Failed, Some(listed)) => {
                        let findings = outcome
                            .findings
                            .iter()
                            .map(|f| (f.check.as_str(), f.message.as_str()));
                        let new = listed.unexpected(findings);
                        if new.is_empty() {
                            Ok(())
                        } else {
                            Err(Failed::from(format!(
                                "a known failure failed with findings not listed: {}",
                                new.join(", ")
                            )))
                        }
                    }
                    (Verdict::Passed, Some(listed)) => Err(Failed::from(
                        KnownFailures::ratchet_message(&listed.describe()),
                    )),
                    (Verdict::Failed, None) => {
                        let text: Vec<String> = outcome
                            .findings
                            .iter()
                            .map(|f| {
                                let mut s = format!("[{}] step {}: {}", f.check, f.step, f.message);
                                if let Some(e) = &f.expected {
                                    s.push_str(&format!("\n    expected: {e}"));
                                }
                                if let Some(a) = &f.actual {
                                    s.push_str(&format!("\n    actual:   {a}"));
                                }
                                s
                            })
                            .collect();
                        Err(Failed::from(text.join("\n")))
                    }
                    (Verdict::Passed, None) => {
                        let text = snapshot::render(
                            &harness_for_snapshots.model,
                            &case,
                            &outcome,
                            &volatile,
                        );
                        let mut settings = insta::Settings::clone_current();
                        settings.set_snapshot_path(&snapshots);
                        settings.set_prepend_module_to_snapshot(false);
                        settings.set_omit_expression(true);
                        settings.set_description(format!("{kind}: {}", case.title));
                        settings.bind(|| insta::assert_snapshot!(snapshot::name(&case.id), text));
                        Ok(())
                    }
                }
            })
            .with_ignored_flag(ignored)
        })
        .collect();
    // The same exploration `conformance run` ends with, as one more trial.
    if let Some((id, failure)) = exploration {
        trials.push(Trial::test(id, move || match failure {
            Some(text) => Err(Failed::from(text)),
            None => Ok(()),
        }));
    }
    trials.sort_by(|a, b| a.name().cmp(b.name()));
    libtest_mimic::run(&args, trials).exit_code()
}
