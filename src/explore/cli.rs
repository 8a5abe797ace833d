//! The `explore` and `replay` subcommands: their flags (the target flags as `run` has them) and
//! what they print. `main.rs` only dispatches here. Exit codes as `run`: 0 no divergence, 1 a
//! divergence, 2 could not judge (one `conformance:` line on stderr says why).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use crate::error::Error;
use crate::harness::Harness;
use crate::server::{Fault, Variant};
use crate::target;

use super::{Engine, Options, Reproduction, Settings};

/// Where to explore: the target flags of `run`, or the embedded server with its switches.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Base URL of the target. Without it, the embedded reference server.
    #[arg(
        long,
        value_name = "URL",
        env = "CONFORMANCE_TARGET",
        hide_env_values = true
    )]
    pub target: Option<String>,
    /// Credentials: digest:PUBLIC_KEY:PRIVATE_KEY, bearer:TOKEN or oauth:CLIENT_ID:SECRET.
    #[arg(
        long,
        value_name = "CREDENTIALS",
        env = "CONFORMANCE_AUTH",
        hide_env_values = true
    )]
    pub auth: Option<String>,
    /// Read-only credentials; without them no read-only calls are drawn.
    #[arg(
        long,
        value_name = "CREDENTIALS",
        env = "CONFORMANCE_READONLY_AUTH",
        hide_env_values = true
    )]
    pub readonly_auth: Option<String>,
    /// The Atlas project.
    #[arg(
        long,
        value_name = "ID",
        env = "CONFORMANCE_GROUP_ID",
        hide_env_values = true
    )]
    pub group_id: Option<String>,
    /// The Cloud Manager project.
    #[arg(
        long,
        value_name = "ID",
        env = "CONFORMANCE_CM_GROUP_ID",
        hide_env_values = true
    )]
    pub cm_group_id: Option<String>,
    /// A project the credentials cannot access.
    #[arg(
        long,
        value_name = "ID",
        env = "CONFORMANCE_OTHER_GROUP_ID",
        hide_env_values = true
    )]
    pub other_group_id: Option<String>,
    /// Accept an invalid TLS certificate from the target.
    #[arg(long, env = "CONFORMANCE_INSECURE", hide_env_values = true)]
    pub insecure: bool,
    /// Only the families named (cloud-manager, atlas-v1, atlas-v2); repeatable.
    #[arg(long = "api", value_name = "FAMILY")]
    pub apis: Vec<String>,
    /// Switch on a fault of the embedded server (not with --target); repeatable.
    #[arg(long = "fault", value_name = "NAME", value_parser = |s: &str| s.parse::<Fault>())]
    pub faults: Vec<Fault>,
    /// Switch on a tolerated variant of the embedded server (`all`: every one); repeatable.
    #[arg(long = "variant", value_name = "NAME", value_parser = Variant::parse_list)]
    pub variants: Vec<Vec<Variant>>,
    /// Per-request timeout in seconds.
    #[arg(long, value_name = "SECS", default_value = "10")]
    pub timeout: f64,
}

/// `conformance explore`.
#[derive(Debug, Args)]
pub struct ExploreArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// The seed: the same seed, spec and target state draw the same sequences. Default: a
    /// random one (printed).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Steps (request pairs) to run at most.
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub steps: usize,
    /// Wall-clock budget (e.g. 30s, 5m); exploration stops at whichever comes first.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub budget: Option<Duration>,
    /// The longest sequence drawn.
    #[arg(long, value_name = "N", default_value_t = 24)]
    pub max_len: usize,
    /// Where the reports and the reproduction go.
    #[arg(long, value_name = "DIR", default_value = "target/conformance")]
    pub report_dir: PathBuf,
}

/// `conformance replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A reproduction written by `conformance explore` (repro-SEED.json).
    pub file: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
}

fn note(m: &str) {
    eprintln!("conformance: {m}");
}

/// An error as one line: a usage sentence stands on its own, as `run` prints it.
fn say(e: &Error) -> String {
    match e {
        Error::Usage(m) => m.clone(),
        e => e.to_string(),
    }
}

fn engine(args: &TargetArgs) -> Result<Engine, Error> {
    let given = target::Settings {
        target: args.target.clone(),
        auth: args.auth.clone(),
        readonly_auth: args.readonly_auth.clone(),
        group_id: args.group_id.clone(),
        cm_group_id: args.cm_group_id.clone(),
        other_group_id: args.other_group_id.clone(),
        expired_token: None,
        oauth_client: None,
        insecure: args.insecure,
    }
    .build()?;
    let variants: Vec<Variant> = args.variants.iter().flatten().copied().collect();
    if given.is_some() && (!args.faults.is_empty() || !variants.is_empty()) {
        return Err(Error::Usage(
            "--fault and --variant switch the embedded server; they cannot apply to --target"
                .into(),
        ));
    }
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        return Err(Error::Usage(
            "--timeout must be a positive number of seconds".into(),
        ));
    }
    let harness = Arc::new(Harness::bundled()?);
    Engine::new(
        harness,
        Options {
            target: given,
            faults: args.faults.clone(),
            variants,
            families: args.apis.clone(),
            timeout: Some(Duration::from_secs_f64(args.timeout)),
        },
    )
}

fn describe(engine: &Engine) -> String {
    let url = crate::report::display_url(&engine.target.base_url);
    if engine.embedded {
        format!("{url} (the embedded reference server)")
    } else {
        url
    }
}

/// Runs `conformance explore`; the exit code.
pub fn explore(args: ExploreArgs) -> u8 {
    let engine = match engine(&args.target) {
        Ok(e) => e,
        Err(e) => {
            note(&say(&e));
            return 2;
        }
    };
    let seed = args.seed.unwrap_or_else(rand::random);
    note(&format!(
        "exploring {} with seed {seed} ({} steps at most{})",
        describe(&engine),
        args.steps,
        args.budget
            .map(|b| format!(", {}", humantime::format_duration(b)))
            .unwrap_or_default()
    ));
    let settings = Settings {
        seed,
        steps: args.steps,
        budget: args.budget,
        max_len: args.max_len.max(1),
        ..Settings::default()
    };
    let ex = super::explore(&engine, &settings);
    let written = match super::report::write(&args.report_dir, &ex, &engine) {
        Ok(w) => w,
        Err(e) => {
            note(&format!("cannot write the reports: {e}"));
            return 2;
        }
    };
    let names: Vec<String> = written
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    println!(
        "reports: {} ({})",
        args.report_dir.display(),
        names.join(", ")
    );
    if let Some(r) = &ex.reproduction {
        println!("\n{}", super::report::divergence_summary(r));
    }
    note(&super::report::headline(&ex));
    u8::from(ex.reproduction.is_some())
}

/// Runs `conformance replay FILE`; the exit code.
pub fn replay(args: ReplayArgs) -> u8 {
    let repro = match Reproduction::load(&args.file) {
        Ok(r) => r,
        Err(e) => {
            note(&say(&e));
            return 2;
        }
    };
    let engine = match engine(&args.target) {
        Ok(e) => e,
        Err(e) => {
            note(&say(&e));
            return 2;
        }
    };
    match super::replay(&engine, &repro) {
        Err(e) => {
            note(&say(&e));
            2
        }
        Ok(None) => {
            note(&format!(
                "no divergence: the {} calls of {} (seed {}) agree with the reference model on {}",
                repro.steps.len(),
                args.file.display(),
                repro.seed,
                describe(&engine)
            ));
            0
        }
        Ok(Some(d)) => {
            let shown = Reproduction {
                divergence: d,
                ..repro
            };
            println!("{}", super::report::divergence_summary(&shown));
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
            1
        }
    }
}
