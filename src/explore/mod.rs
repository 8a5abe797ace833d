//! `conformance explore`: seeded stateful exploration judged by the reference model.
//!
//! proptest (with proptest-state-machine's sequential strategy, [`gen`]) draws sequences of
//! calls over the families, media versions, operations, credentials, valid and singly broken
//! bodies, diverse values and page parameters; [`engine`] sends each call to the target and to
//! the faithful reference server in process, and compares the two answers at the contract's
//! levels. The first divergence is shrunk by proptest (fewer calls, plainer choices) and written
//! as a reproduction that `conformance replay` runs again. The seed decides everything: the same
//! seed, spec and target state give the same sequences.

mod bodies;
pub mod call;
pub mod engine;
pub mod gate;
pub mod gen;
mod oracle;
pub mod regression;
pub mod report;
pub mod space;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy as _, ValueTree as _};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use engine::{Divergence, Engine, Options};
pub use gen::{Call, Catalog, Where, Who};

/// The format tag of a reproduction file.
pub const REPRO_FORMAT: &str = "conformance-explore-reproduction/1";

/// How long and how hard to explore.
#[derive(Debug, Clone)]
pub struct Settings {
    pub seed: u64,
    /// Stop after this many steps (request pairs).
    pub steps: usize,
    /// Stop after this long, whatever the steps.
    pub budget: Option<Duration>,
    /// The longest sequence drawn.
    pub max_len: usize,
    /// The most shrink attempts.
    pub shrink_iters: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            seed: 0,
            steps: 1000,
            budget: None,
            max_len: 24,
            shrink_iters: 2000,
        }
    }
}

/// A shrunk sequence that diverges: what `conformance replay` reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reproduction {
    pub format: String,
    pub seed: u64,
    /// The calls, in order (the last one, or the read after it, diverges).
    pub steps: Vec<Call>,
    /// The calls as request lines, for reading.
    #[serde(default)]
    pub requests: Vec<String>,
    /// What diverged when it was written.
    pub divergence: Divergence,
    /// The length of the sequence before shrinking.
    #[serde(default)]
    pub original_len: usize,
}

impl Reproduction {
    /// The calls ready to send: bodies whose secrets were scrubbed made again from their
    /// recipes.
    pub fn calls(&self, model: &crate::model::Model) -> Result<Vec<Call>> {
        // The input model, built once, where a call names a class of it.
        let space = if self.steps.iter().any(|c| c.class.is_some()) {
            space::Space::new(model, &space::Reach::everything(model), &[])
        } else {
            space::Space::default()
        };
        self.steps
            .iter()
            .enumerate()
            .map(|(i, c)| {
                c.request(model).map_err(|e| {
                    Error::Usage(format!("step {} of the reproduction: {e}", i + 1))
                })?;
                c.restore(model, &space)
                    .map_err(|e| Error::Usage(format!("step {} of the reproduction: {e}", i + 1)))
            })
            .collect()
    }

    /// As written to a file or a report: every secret the calls carry replaced by the scrub
    /// placeholder (the recipes make them again), and `also` (the target's credentials).
    pub fn to_json(&self, model: &crate::model::Model, also: Vec<String>) -> String {
        let mut secrets: Vec<String> = self.steps.iter().flat_map(|c| c.secrets(model)).collect();
        secrets.extend(also);
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        crate::scrub::Scrubber::new(secrets).clean(&text)
    }

    pub fn load(path: &Path) -> Result<Reproduction> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
        let r: Reproduction = serde_json::from_str(&text)
            .map_err(|e| Error::Usage(format!("{} is not a reproduction: {e}", path.display())))?;
        if r.format != REPRO_FORMAT {
            return Err(Error::Usage(format!(
                "{} is a {:?} file, not {REPRO_FORMAT}",
                path.display(),
                r.format
            )));
        }
        Ok(r)
    }
}

/// What an exploration did.
#[derive(Debug, Clone, Serialize)]
pub struct Exploration {
    pub seed: u64,
    pub steps: usize,
    pub sequences: usize,
    #[serde(serialize_with = "secs")]
    pub elapsed: Duration,
    /// Steps run when the first divergence showed.
    pub first_divergence_at: Option<usize>,
    pub reproduction: Option<Reproduction>,
    /// Shrink attempts made.
    pub shrink_runs: usize,
    /// `operation status errorCode` → count.
    pub coverage: BTreeMap<String, usize>,
    /// Fields returned that the contract does not list (warnings).
    pub warnings: BTreeSet<String>,
    /// Input-model class id → the reference model's answers → how often (what
    /// [`space::Coverage`] is made of).
    #[serde(skip)]
    pub classes: BTreeMap<String, BTreeMap<String, usize>>,
    /// The input model's coverage: every part × class, how often drawn, which rule judged it.
    pub input: space::Coverage,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl Exploration {
    pub fn steps_per_second(&self) -> f64 {
        self.steps as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn runner(seed: u64) -> TestRunner {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&seed.rotate_left(29).to_le_bytes());
    let config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// The first `n` sequences a seed draws (what exploration sends when nothing diverges).
pub fn draw(
    catalog: std::sync::Arc<Catalog>,
    seed: u64,
    n: usize,
    max_len: usize,
) -> Vec<Vec<Call>> {
    let strategy = gen::sequences(catalog, max_len, Default::default());
    let mut runner = runner(seed);
    (0..n)
        .filter_map(|_| strategy.new_tree(&mut runner).ok())
        .map(|t| t.current().1)
        .collect()
}

/// Explores until the steps or the budget run out, or until the first divergence, which it
/// shrinks.
pub fn explore(engine: &Engine, settings: &Settings) -> Exploration {
    let started = Instant::now();
    let mut runner = runner(settings.seed);
    let mut ex = Exploration {
        seed: settings.seed,
        steps: 0,
        sequences: 0,
        elapsed: Duration::ZERO,
        first_divergence_at: None,
        reproduction: None,
        shrink_runs: 0,
        coverage: BTreeMap::new(),
        warnings: BTreeSet::new(),
        classes: BTreeMap::new(),
        input: space::Coverage::default(),
    };
    let out_of_time = |started: Instant| settings.budget.is_some_and(|b| started.elapsed() >= b);
    let space = &engine.catalog.space;
    while ex.steps < settings.steps && !out_of_time(started) {
        // Each sequence leans towards what the earlier ones left undrawn.
        let focus = std::sync::Arc::new(space.unreached(&ex.classes));
        let strategy = gen::sequences(engine.catalog.clone(), settings.max_len, focus);
        let Ok(mut tree) = strategy.new_tree(&mut runner) else {
            break;
        };
        let (_, calls, seen) = tree.current();
        let out = engine.run(&calls, seen.as_deref());
        ex.sequences += 1;
        ex.steps += out.steps;
        merge(&mut ex, &out);
        let Some(divergence) = out.divergence else {
            continue;
        };
        ex.first_divergence_at = Some(ex.steps);
        let original_len = calls.len();
        let mut best = (calls, divergence);
        // proptest's shrinking: simplify while it still diverges, complicate when it passes.
        if tree.simplify() {
            loop {
                if ex.shrink_runs >= settings.shrink_iters as usize {
                    break;
                }
                ex.shrink_runs += 1;
                let (_, calls, seen) = tree.current();
                let out = engine.run(&calls, seen.as_deref());
                match out.divergence {
                    Some(d) => {
                        best = (calls, d);
                        if !tree.simplify() {
                            break;
                        }
                    }
                    None => {
                        if !tree.complicate() {
                            break;
                        }
                    }
                }
            }
        }
        let (mut calls, divergence) = best;
        // What follows the diverging call was never sent.
        calls.truncate(divergence.step + 1);
        ex.reproduction = Some(reproduction(
            engine,
            settings.seed,
            calls,
            divergence,
            original_len,
        ));
        break;
    }
    ex.input = space::Coverage::of(&engine.catalog.space, &ex.classes);
    ex.elapsed = started.elapsed();
    ex
}

fn merge(ex: &mut Exploration, out: &engine::SequenceOutcome) {
    for ((op, status, code), n) in &out.coverage {
        let key = if code.is_empty() {
            format!("{op} {status}")
        } else {
            format!("{op} {status} {code}")
        };
        *ex.coverage.entry(key).or_default() += n;
    }
    ex.warnings.extend(out.warnings.iter().cloned());
    for (id, answers) in &out.classes {
        let row = ex.classes.entry(id.clone()).or_default();
        for (a, n) in answers {
            *row.entry(a.clone()).or_default() += n;
        }
    }
}

fn reproduction(
    engine: &Engine,
    seed: u64,
    calls: Vec<Call>,
    divergence: Divergence,
    original_len: usize,
) -> Reproduction {
    let model = &engine.harness.model;
    let requests = calls
        .iter()
        .map(|c| match c.request(model) {
            Ok((r, _)) => r.line(),
            Err(e) => e,
        })
        .collect();
    Reproduction {
        format: REPRO_FORMAT.into(),
        seed,
        steps: calls,
        requests,
        divergence,
        original_len,
    }
}

/// Runs a reproduction's calls again: `Some` is the divergence it still shows.
pub fn replay(engine: &Engine, repro: &Reproduction) -> Result<Option<Divergence>> {
    let calls = repro.calls(&engine.harness.model)?;
    Ok(engine.run(&calls, None).divergence)
}
