//! Exploration inside every run (the gate): after the fixed cases, a seeded exploration of the
//! same target, judged by the reference model, becomes one more judged entry of the run. A
//! divergence fails it, in every report and in the exit code, with its shrunk reproduction;
//! no divergence passes it. The seed is fixed per release (CI is deterministic) unless the user
//! names one.
//!
//! The entry is the case `{family}/exploration/seed-{seed}` (category `exploration`), whose
//! family is the one the divergence showed in (the first explored family when none did), so
//! that known failures and `--require exploration` treat it as any other case.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::case::{Case, Category, Lane};
use crate::check::Finding;
use crate::error::{Error, Result};
use crate::harness::Harness;
use crate::outcome::Outcome;

use super::engine::{Engine, Options};
use super::{Exploration, Settings};

/// The seed a run explores with when none is given: fixed per release.
pub const DEFAULT_SEED: u64 = 20_261_206;
/// The steps a run explores when none are given: under a second against the embedded server
/// (7,000-9,000 steps/s), so that a full run stays within about twice the fixed suite's time;
/// every class of the input model is drawn well within it.
pub const DEFAULT_STEPS: usize = 5_000;
use crate::case::EXPLORATION as OPERATION;

/// What the gate did: the exploration, and the entry it adds to the run.
pub struct Gate {
    pub exploration: Exploration,
    pub case: Case,
    pub outcome: Outcome,
    /// The reproduction file written, when there was a divergence and a directory for it.
    pub reproduction: Option<std::path::PathBuf>,
}

/// Explores the target that `opts` names (or a fresh embedded server with its faults and
/// variants), on a thread of its own (the engine runs its own runtime), and turns the result
/// into the run's entry. The reproduction of a divergence is written into `dir`.
pub fn run(harness: Arc<Harness>, opts: Options, settings: Settings, dir: &Path) -> Result<Gate> {
    let started = Instant::now();
    let (exploration, engine_families, repro_json) = std::thread::scope(|scope| {
        scope
            .spawn(|| -> Result<_> {
                let engine = Engine::new(harness.clone(), opts)?;
                let ex = super::explore(&engine, &settings);
                let json = ex
                    .reproduction
                    .as_ref()
                    .map(|r| r.to_json(&harness.model, engine.target.secrets()));
                Ok((ex, engine.catalog.families.clone(), json))
            })
            .join()
            .unwrap_or_else(|_| Err(Error::Target("the exploration stopped unexpectedly".into())))
    })?;
    let reproduction = match repro_json {
        Some(json) => {
            std::fs::create_dir_all(dir)?;
            let path = dir.join(format!("repro-{}.json", exploration.seed));
            std::fs::write(&path, json)?;
            Some(path)
        }
        None => None,
    };
    let family = exploration
        .reproduction
        .as_ref()
        .and_then(|r| r.steps.get(r.divergence.step))
        .map(|c| c.family.clone())
        .or_else(|| engine_families.first().cloned())
        .unwrap_or_default();
    let (case, outcome) = entry(
        &family,
        &exploration,
        reproduction.as_deref(),
        started.elapsed(),
    );
    Ok(Gate {
        exploration,
        case,
        outcome,
        reproduction,
    })
}

fn entry(
    family: &str,
    ex: &Exploration,
    reproduction: Option<&Path>,
    took: Duration,
) -> (Case, Outcome) {
    let id = crate::case::exploration_id(family, ex.seed);
    let title = format!(
        "{} steps of seeded exploration (seed {}) agree with the reference model",
        ex.steps, ex.seed
    );
    let case = Case {
        id: id.clone(),
        family: family.to_owned(),
        operation: OPERATION.to_owned(),
        category: Category::Exploration,
        title,
        lane: Lane::Stateless,
        steps: Vec::new(),
        secrets: Vec::new(),
        touches: Vec::new(),
        requires: Vec::new(),
    };
    let findings: Vec<Finding> = ex
        .reproduction
        .iter()
        .map(|r| {
            let d = &r.divergence;
            let file = reproduction
                .map(|p| {
                    format!(
                        "; reproduction: {} (conformance replay {})",
                        p.display(),
                        p.display()
                    )
                })
                .unwrap_or_default();
            Finding {
                check: "reference_model".to_owned(),
                case: id.clone(),
                step: d.step,
                message: format!(
                    "after {} steps, {} (call {} of a sequence shrunk from {} to {} calls){file}",
                    ex.first_divergence_at.unwrap_or(ex.steps),
                    d.messages.join("; "),
                    d.step + 1,
                    r.original_len,
                    r.steps.len()
                ),
                expected: Some(d.expected.clone()),
                actual: Some(d.actual.clone()),
            }
        })
        .collect();
    let outcome = Outcome::judged(&case, findings, Vec::new(), Vec::new(), took);
    (case, outcome)
}
