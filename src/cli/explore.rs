//! `conformance explore` and `conformance replay`: their arguments (the shared target settings
//! of [`super::target`], then their own) and what they print. Exit codes as `run`: 0 no
//! divergence, 1 a divergence, 2 could not judge (one `conformance:` line on stderr says why).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use integrations_conformance::explore::{self, report, Engine, Options, Reproduction, Settings};
use integrations_conformance::harness::Harness;
use integrations_conformance::report::display_url;

use super::target::{fatal, parse_duration, TargetArgs};
use super::{note, print, CliResult, Fatal};

/// `conformance explore`.
#[derive(Debug, Args)]
pub(crate) struct ExploreArgs {
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    /// Only the families named (cloud-manager, atlas-v1, atlas-v2); repeatable. Default: all.
    #[arg(long = "api", value_name = "FAMILY", value_parser = super::values::families())]
    pub(crate) apis: Vec<String>,
    /// The seed: the same seed, spec and target state draw the same sequences. Default: a
    /// random one (printed).
    #[arg(long, value_name = "N")]
    pub(crate) seed: Option<u64>,
    /// Steps (request pairs) to run at most. Default: 2000, unless a --budget (or --deadline)
    /// is given alone: then the duration is the bound.
    #[arg(long, value_name = "N")]
    pub(crate) steps: Option<usize>,
    /// Wall-clock budget (30s, 5m, 1m30s, or seconds). Given alone, it is the bound; given
    /// with --steps, whichever is reached first stops the exploration (--deadline too).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) budget: Option<Duration>,
    /// The longest sequence drawn.
    #[arg(long, value_name = "N", default_value_t = 24)]
    pub(crate) max_len: usize,
    /// Where the reports and the reproduction go.
    #[arg(long, value_name = "DIR", default_value = "target/conformance")]
    pub(crate) report_dir: PathBuf,
}

/// `conformance replay`.
#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// A reproduction written by `conformance explore` (repro-SEED.json).
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    /// Only the families named (cloud-manager, atlas-v1, atlas-v2); repeatable. Default: all.
    #[arg(long = "api", value_name = "FAMILY", value_parser = super::values::families())]
    pub(crate) apis: Vec<String>,
}

/// The engine on the target the settings name (through [`super::target::resolve`], as `run`).
fn engine(args: &TargetArgs, apis: &[String]) -> CliResult<Engine> {
    let resolved = super::target::resolve(args)?;
    let harness = Arc::new(Harness::bundled().map_err(fatal)?);
    Engine::new(
        harness,
        Options {
            target: resolved.given,
            faults: resolved.faults,
            variants: resolved.variants,
            families: apis.to_vec(),
            sending: args.sending(),
            gateway: Some(resolved.gateway),
        },
    )
    .map_err(fatal)
}

fn describe(engine: &Engine) -> String {
    let url = display_url(&engine.target.base_url);
    if engine.embedded {
        format!("{url} (the embedded reference server)")
    } else {
        url
    }
}

/// The step cap and how the start line says what bounds the exploration: a duration given
/// alone is the bound, a step cap given alone is the bound, both: the first reached.
fn bounds(steps: Option<usize>, budget: Option<Duration>) -> (usize, String) {
    let time = |b: Duration| humantime::format_duration(b).to_string();
    match (steps, budget) {
        (Some(n), Some(b)) => (
            n,
            format!("until {n} steps or {}, whichever comes first", time(b)),
        ),
        (None, Some(b)) => (usize::MAX, format!("for {}", time(b))),
        (Some(n), None) => (n, format!("{n} steps at most")),
        (None, None) => (DEFAULT_STEPS, format!("{DEFAULT_STEPS} steps at most")),
    }
}

/// The step cap of an exploration given neither --steps nor a duration.
const DEFAULT_STEPS: usize = 2000;

/// Runs `conformance explore`; the exit code.
pub(crate) fn explore(args: ExploreArgs) -> CliResult<u8> {
    let engine = engine(&args.target, &args.apis)?;
    super::writable_dir(&args.report_dir)?;
    let seed = args.seed.unwrap_or_else(rand::random);
    // The deadline bounds the exploration as a budget does.
    let budget = match (args.budget, args.target.deadline) {
        (Some(b), Some(d)) => Some(b.min(d)),
        (b, d) => b.or(d),
    };
    let (steps, bound) = bounds(args.steps, budget);
    note(&format!(
        "exploring {} with seed {seed} ({bound})",
        describe(&engine)
    ));
    let settings = Settings {
        seed,
        steps,
        budget,
        max_len: args.max_len.max(1),
        ..Settings::default()
    };
    let ex = explore::explore(&engine, &settings);
    let written = report::write(&args.report_dir, &ex, &engine)
        .map_err(|e| Fatal(format!("cannot write the reports: {e}")))?;
    let names: Vec<String> = written
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    print(&format!(
        "reports: {} ({})\n",
        args.report_dir.display(),
        names.join(", ")
    ))?;
    if let Some(r) = &ex.reproduction {
        print(&format!("\n{}\n", report::divergence_summary(r)))?;
    }
    note(&report::headline(&ex));
    Ok(u8::from(ex.reproduction.is_some()))
}

/// Runs `conformance replay FILE`; the exit code.
pub(crate) fn replay(args: ReplayArgs) -> CliResult<u8> {
    let repro = Reproduction::load(&args.file).map_err(fatal)?;
    let engine = engine(&args.target, &args.apis)?;
    let started = Instant::now();
    let replayed = explore::replay(&engine, &repro).map_err(fatal)?;
    if let Some(d) = args.target.deadline.filter(|d| started.elapsed() > *d) {
        return Err(Fatal(format!(
            "the replay of {} took longer than --deadline {}: it is not judged",
            args.file.display(),
            humantime::format_duration(d)
        )));
    }
    let Some(d) = replayed else {
        note(&format!(
            "no divergence: the {} calls of {} (seed {}) agree with the reference model on {}",
            repro.steps.len(),
            args.file.display(),
            repro.seed,
            describe(&engine)
        ));
        return Ok(0);
    };
    let shown = Reproduction {
        divergence: d,
        ..repro
    };
    print(&format!("{}\n", report::divergence_summary(&shown)))?;
    note(&format!(
        "divergence at call {} of {}: {}",
        shown.divergence.step + 1,
        args.file.display(),
        shown
            .divergence
            .messages
            .first()
            .cloned()
            .unwrap_or_default()
    ));
    Ok(1)
}
