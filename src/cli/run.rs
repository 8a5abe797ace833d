//! `conformance run`: the target, the plan, the progress bar, the run itself, the reports and the baseline it writes.

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use integrations_conformance::case::{Case, Category};
use integrations_conformance::coverage::{self, Required};
use integrations_conformance::explore;
use integrations_conformance::known_failures::{self, KnownFailures};
use integrations_conformance::model::Model;
use integrations_conformance::report;
use integrations_conformance::runner::{self, Harness, Outcome, RunOptions, Verdict};
use integrations_conformance::server::{
    self, Fault, RunningServer, ServerConfig, ServerState, Variant,
};
use integrations_conformance::transport::Target;

use super::quick::{self, PlanArgs};
use super::select::{all_cases, describe_selection, load_harness, select_from, Selection};
use super::target::TargetArgs;
use super::{note, print, runtime, writable_dir, CliResult, Fatal};

/// `conformance run`: the target settings every subcommand shares, then the run's own options.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    #[command(flatten)]
    pub(crate) selection: Selection,
    /// Also write every recorded exchange as an HTTP Archive (HAR 1.2) to FILE, for browser
    /// tools; scrubbed like the reports.
    #[arg(long, value_name = "FILE", help_heading = "Reports")]
    pub(crate) har: Option<PathBuf>,
    /// Where the reports go (created if needed).
    #[arg(
        long,
        value_name = "DIR",
        default_value = "target/conformance",
        help_heading = "Reports"
    )]
    pub(crate) report_dir: PathBuf,
    /// Cases in flight at the same time (cases of one project always run one after the other).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256), help_heading = "Sending")]
    pub(crate) jobs: u16,
    /// Before the first case, wait up to DURATION (30s, 2m, or seconds) for the target to answer
    /// anything at its base URL (a target still starting); one that never answers is an error
    /// (exit code 2). Not with the embedded server, which is up before the run.
    #[arg(long, value_name = "DURATION", env = "CONFORMANCE_WAIT_FOR_TARGET", value_parser = super::target::parse_duration, help_heading = "Sending")]
    pub(crate) wait_for_target: Option<Duration>,
    /// Colour the console summary: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto, help_heading = "Reports")]
    pub(crate) color: ColorWhen,
    /// After the fixed cases, explore the target this many steps (request pairs judged by the
    /// reference model); 0 turns exploration off. A divergence fails the run. Default: 5000
    /// (100 with --quick).
    #[arg(long, value_name = "N", help_heading = "Exploration")]
    pub(crate) explore_steps: Option<usize>,
    /// The exploration's seed: a number, or `random`. Default: fixed per release, so that a CI
    /// run is deterministic.
    #[arg(long, value_name = "N|random", help_heading = "Exploration")]
    pub(crate) explore_seed: Option<String>,
    #[command(flatten)]
    pub(crate) ci: CiArgs,
    #[command(flatten)]
    pub(crate) plan: PlanArgs,
}

/// The options a team's CI lives with: accepted failures and required coverage.
#[derive(Debug, Args)]
pub(crate) struct CiArgs {
    /// Known failures: one `case-id  check:signature` per line, `#` comments (the format of
    /// tests/known-failures.txt, documented at the top of a file --write-baseline writes). A
    /// listed case that fails with the findings listed does not fail the run (it is shown as a
    /// known failure); one that fails with a finding not listed fails it (the console names the
    /// new findings); a listed case that passes fails it (remove its lines); an id no case has
    /// is an error. A line with an id alone (older files) accepts any finding.
    #[arg(
        long,
        value_name = "FILE",
        env = "CONFORMANCE_KNOWN_FAILURES",
        hide_env_values = true,
        help_heading = "Baseline and coverage"
    )]
    pub(crate) known_failures: Option<PathBuf>,
    /// Write the run's failures to FILE in the known-failures format (sorted, one line per
    /// case and finding signature), to start a baseline for --known-failures.
    #[arg(long, value_name = "FILE", help_heading = "Baseline and coverage")]
    pub(crate) write_baseline: Option<PathBuf>,
    /// Read FILE as --known-failures, then rewrite it without the lines of what passes (a
    /// listed case that passes does not fail the run); nothing is added unless --write-baseline
    /// is also given. Lines with an id alone become the signatures the case fails with now.
    #[arg(long, value_name = "FILE", help_heading = "Baseline and coverage")]
    pub(crate) update_baseline: Option<PathBuf>,
    /// Make a run that did not cover NAME inconclusive (exit code 2 instead of 0; a run with a
    /// failure stays exit code 1); repeatable. NAME is a family (covered when at least one of
    /// its cases was judged: a family without its project id is not), a category (covered when
    /// none of its cases was skipped, except the cases only the embedded server can run, such as
    /// the stale-nonce case against a real target), or `all` (every family and category the
    /// selection has cases of).
    #[arg(long = "require", value_name = "NAME", value_parser = super::values::requirements(), help_heading = "Baseline and coverage")]
    pub(crate) require: Vec<String>,
}

/// When the console summary is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorWhen {
    Auto,
    Always,
    Never,
}

/// Colours for stdout: `auto` means a terminal, no `NO_COLOR` (https://no-color.org) and a
/// `TERM` other than `dumb`.
fn paint(when: ColorWhen) -> report::text::Paint {
    let on = match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
            std::io::stdout().is_terminal() && !no_color && !dumb
        }
    };
    report::text::Paint { on }
}

/// Progress on stderr: a bar on a terminal, a line per tenth of the run otherwise.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    done: AtomicUsize,
    failed: AtomicUsize,
    tenths: AtomicUsize,
    started: Instant,
    /// Set on Ctrl-C: the cases not started are skipped in a burst, not worth a progress line.
    cancel: Arc<AtomicBool>,
}

impl Progress {
    fn new(total: usize, cancel: Arc<AtomicBool>) -> Arc<Progress> {
        let bar = std::io::stderr().is_terminal().then(|| {
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} cases {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr())
                    .with_style(style);
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Arc::new(Progress {
            bar,
            total,
            done: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            tenths: AtomicUsize::new(0),
            started: Instant::now(),
            cancel,
        })
    }

    fn case_done(&self, outcome: &Outcome) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let failed = if outcome.verdict == Verdict::Failed {
            self.failed.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            self.failed.load(Ordering::Relaxed)
        };
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                if outcome.verdict == Verdict::Failed {
                    bar.set_message(format!("({failed} failed)"));
                }
            }
            None => {
                let tenth = done * 10 / self.total.max(1);
                let cancelled = self.cancel.load(Ordering::Relaxed);
                if tenth > self.tenths.fetch_max(tenth, Ordering::Relaxed)
                    && done < self.total
                    && !cancelled
                {
                    note(&format!(
                        "{}% ({done}/{} cases, {failed} failed, {:.1}s)",
                        tenth * 10,
                        self.total,
                        self.started.elapsed().as_secs_f64()
                    ));
                }
            }
        }
    }

    /// Print a line without tearing the bar.
    fn note(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| note(message)),
            None => note(message),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// What `run` does besides sending the cases: the baseline it ratchets, the coverage it
/// requires, the faults it switches on in the embedded server.
pub(crate) struct RunPlan {
    baseline: Option<KnownFailures>,
    /// `--update-baseline`: the baseline is pruned, not ratcheted.
    update: bool,
    required: Vec<Required>,
    faults: Vec<Fault>,
}

impl RunPlan {
    fn new(ci: &CiArgs, target: &TargetArgs, model: &Model, all: &[Case]) -> CliResult<RunPlan> {
        super::target::check_faults(target)?;
        let (flag, file) = match (&ci.update_baseline, &ci.known_failures) {
            (Some(path), _) => ("--update-baseline", Some(path)),
            (None, path) => ("--known-failures", path.as_ref()),
        };
        let baseline = match file {
            Some(path) => {
                let b = KnownFailures::load(path).map_err(super::target::fatal)?;
                // The kept regressions are cases too: a baseline written with them reads back.
                let unknown = b.unknown_ids(all.iter().map(|c| c.id.as_str()));
                if !unknown.is_empty() {
                    return Err(Fatal(format!(
                        "{flag} {}: no case has the id{} {} (conformance cases lists them)",
                        path.display(),
                        if unknown.len() == 1 { "" } else { "s" },
                        unknown.join(", ")
                    )));
                }
                if b.bare_ids() > 0 && ci.update_baseline.is_none() {
                    note(&format!(
                        "{}: {} lines name a case without a finding signature and accept any \
                         finding of it; `conformance run --update-baseline {}` rewrites them \
                         with the signatures the cases fail with now",
                        path.display(),
                        b.bare_ids(),
                        path.display()
                    ));
                }
                Some(b)
            }
            None => None,
        };
        let required = ci
            .require
            .iter()
            .map(|r| Required::parse(r, model).map_err(Fatal))
            .collect::<CliResult<Vec<_>>>()?;
        Ok(RunPlan {
            baseline,
            update: ci.update_baseline.is_some(),
            required,
            faults: target.faults.clone(),
        })
    }

    /// Before the reports: a listed case that passed fails (unless the baseline is being
    /// updated: its line goes).
    fn ratchet(&self, run: &mut runner::RunReport) {
        if let Some(b) = self.baseline.as_ref().filter(|_| !self.update) {
            b.ratchet(run);
        }
    }

    /// After the document is built: settle its verdict under the known failures (saying which
    /// listed cases fail for a reason not listed) and the required coverage (report's one
    /// verdict function).
    fn judge(&self, doc: &mut report::Document, cases: &[Case], embedded: bool) {
        let not_covered = coverage::unmet(doc, cases, &self.required, embedded);
        let accepted = match &self.baseline {
            Some(b) => {
                let (accepted, new) = b.accepted(doc);
                if !new.is_empty() {
                    note(&new_findings(&new));
                }
                accepted
            }
            None => Default::default(),
        };
        let known = |id: &str| accepted.get(id).map(String::as_str);
        report::settle(
            doc,
            report::Terms {
                known: &known,
                not_covered,
            },
        );
    }
}

pub(crate) fn run(args: RunArgs) -> CliResult<u8> {
    let (harness, spec_source) = load_harness(args.selection.spec.as_deref())?;
    let harness = Arc::new(harness);
    let all = all_cases(
        &harness.model,
        &args.selection,
        args.target.config.as_deref(),
    )?;
    // Before the target's own checks: with --fault, --target is the mistake to point out.
    let plan = RunPlan::new(&args.ci, &args.target, &harness.model, &all)?;
    let resolved = super::target::resolve(&args.target)?;
    let (given_target, gateway, variants) = (resolved.given, resolved.gateway, resolved.variants);
    let mut cases = select_from(&harness.model, all, &args.selection)?;
    let only_exploration = args.selection.categories == [Category::Exploration]
        && args.selection.filter.is_none()
        && args.explore_steps() > 0;
    if cases.is_empty() && !only_exploration {
        return Err(Fatal(format!(
            "no case matches the selection ({})",
            describe_selection(&args.selection)
        )));
    }
    let quick_run = quick::narrow(&args, &harness.model, given_target.as_ref(), &mut cases)?;
    if args.plan.dry_run {
        return quick::dry_run(&args, &harness.model, &cases, quick_run.as_ref());
    }
    writable_dir(&args.report_dir)?;
    let rt = runtime()?;
    quick::announce(&args, &harness.model, &cases);
    rt.block_on(async {
        let embedded = given_target.is_none();
        let (mut target, server) = match given_target {
            Some(t) => (t, None),
            None => {
                let server =
                    start_embedded(&harness, &args.selection.spec, &plan.faults, &variants).await?;
                (server.target()?, Some(server))
            }
        };
        target.gateway = gateway;
        if let (Some(within), false) = (args.wait_for_target, embedded) {
            super::wait::until_it_answers(&target, within).await?;
        }
        let scrubber = context(&args, &harness, &cases, &target, embedded, &spec_source).scrubber();
        note(&format!(
            "running {} cases against {}{}",
            cases.len(),
            scrubber.scrub(&report::display_url(&target.base_url)),
            if embedded {
                " (the embedded reference server)"
            } else {
                ""
            }
        ));

        let cancel = Arc::new(AtomicBool::new(false));
        let progress = Progress::new(cases.len(), cancel.clone());
        let interrupts = on_interrupt(cancel.clone(), progress.clone());
        let opts = RunOptions {
            sending: args.target.sending(),
            jobs: usize::from(args.jobs),
            progress: Some({
                let progress = progress.clone();
                Arc::new(move |o: &Outcome| progress.case_done(o))
            }),
            cancel: Some(cancel),
            ..RunOptions::default()
        };
        let result = runner::run(&harness, &cases, &target, &opts).await;
        progress.finish();
        interrupts.abort();
        if let Some(server) = server {
            let _ = server.shutdown().await;
        }
        let mut run = result.map_err(|e| {
            Fatal(format!(
                "cannot judge the target: {}",
                scrubber.scrub(&e.to_string())
            ))
        })?;

        // Exploration inside the run: one more judged entry (`{family}/exploration/seed-N`).
        let fixed = cases.len();
        if let Some(gate) =
            explore_gate(&args, &harness, &plan, &variants, &target, embedded, &run)?
        {
            note(&format!(
                "explored {} steps in {} sequences (seed {}): {}",
                gate.exploration.steps,
                gate.exploration.sequences,
                gate.exploration.seed,
                if gate.outcome.verdict == Verdict::Failed {
                    "a divergence from the reference model"
                } else {
                    "no divergence from the reference model"
                }
            ));
            cases.push(gate.case);
            run.outcomes.push(gate.outcome);
        }
        plan.ratchet(&mut run);
        let cx = context(&args, &harness, &cases, &target, embedded, &spec_source);
        let mut doc = report::build(&run, &cx);
        quick::mark(&mut doc, quick_run);
        plan.judge(&mut doc, &cases[..fixed], embedded);
        known_failures::mark_signatures(&mut doc);
        write_outputs(&args, &plan, &doc)?;

        let verdict = doc.summary.verdict;
        note(&closing_line(&doc));
        Ok(verdict.exit_code())
    })
}

/// What the reports know of the run besides its outcomes.
fn context<'a>(
    args: &RunArgs,
    harness: &'a Harness,
    cases: &'a [Case],
    target: &'a Target,
    embedded: bool,
    spec_source: &str,
) -> report::RunSetup<'a> {
    report::RunSetup {
        model: &harness.model,
        cases,
        target,
        embedded,
        spec_source: spec_source.to_owned(),
        filter: args.selection.filter.clone(),
        categories: args.selection.categories.clone(),
        faults: args
            .target
            .faults
            .iter()
            .map(|f| f.name().to_owned())
            .collect(),
        variants: super::target::variants_of(&args.target.variants)
            .iter()
            .map(|v| v.name().to_owned())
            .collect(),
    }
}

/// The exploration a run ends with, unless `--explore-steps 0`, a `--filter`, a `--category`
/// list without `exploration`, or an interrupted run says otherwise.
#[allow(clippy::too_many_arguments)]
fn explore_gate(
    args: &RunArgs,
    harness: &Arc<Harness>,
    plan: &RunPlan,
    variants: &[Variant],
    target: &Target,
    embedded: bool,
    run: &runner::RunReport,
) -> CliResult<Option<explore::gate::Gate>> {
    let selection = &args.selection;
    let selected =
        selection.categories.is_empty() || selection.categories.contains(&Category::Exploration);
    if args.explore_steps() == 0
        || !selected
        || selection.filter.is_some()
        || run.interrupted
        || run.deadline_reached
    {
        return Ok(None);
    }
    let seed = match args.explore_seed.as_deref().map(str::trim) {
        None => explore::gate::DEFAULT_SEED,
        Some("random") => rand::random(),
        Some(n) => n
            .parse()
            .map_err(|_| Fatal("--explore-seed takes a number or `random`".into()))?,
    };
    let opts = explore::engine::Options {
        target: (!embedded).then(|| target.clone()),
        faults: plan.faults.clone(),
        variants: variants.to_vec(),
        families: selection.apis.clone(),
        sending: args.target.sending(),
        gateway: Some(target.gateway.clone()),
    };
    let settings = explore::Settings {
        seed,
        steps: args.explore_steps(),
        ..explore::Settings::default()
    };
    explore::gate::run(harness.clone(), opts, settings, &args.report_dir)
        .map(Some)
        .map_err(|e| Fatal(format!("cannot explore the target: {e}")))
}

/// `--write-baseline`: the run's failures as a known-failures file (the document is scrubbed).
pub(crate) fn write_baseline(path: &Path, doc: &report::Document) -> CliResult<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Fatal(format!("cannot write {}: {e}", path.display())))?;
    }
    std::fs::write(path, known_failures::render(doc))
        .map_err(|e| Fatal(format!("cannot write {}: {e}", path.display())))
}

/// `--update-baseline`: the file without the lines of what passes (with `--write-baseline`
/// too, with every failure of the run added).
fn update_baseline(
    path: &Path,
    b: &KnownFailures,
    add: bool,
    doc: &report::Document,
) -> CliResult<()> {
    let text = if add {
        known_failures::render(doc)
    } else {
        b.pruned(doc).render(doc)
    };
    let kept = KnownFailures::parse(&text).len();
    std::fs::write(path, text)
        .map_err(|e| Fatal(format!("cannot write {}: {e}", path.display())))?;
    note(&format!(
        "{}: {} of {} listed cases kept",
        path.display(),
        kept,
        b.len()
    ));
    Ok(())
}

/// The console's line for listed cases that fail with findings their lines do not name.
fn new_findings(new: &[(String, Vec<String>)]) -> String {
    const SHOWN: usize = 5;
    let mut line = format!(
        "{} listed known failure{} failed with a new finding (not in the known-failures file): ",
        new.len(),
        if new.len() == 1 { "" } else { "s" }
    );
    let shown: Vec<String> = new
        .iter()
        .take(SHOWN)
        .map(|(id, sigs)| format!("{id} ({})", sigs.join(", ")))
        .collect();
    line.push_str(&shown.join("; "));
    if new.len() > SHOWN {
        line.push_str(&format!("; and {} more (see report.md)", new.len() - SHOWN));
    }
    line
}

pub(crate) async fn start_embedded(
    harness: &Harness,
    spec_path: &Option<PathBuf>,
    faults: &[Fault],
    variants: &[Variant],
) -> CliResult<RunningServer> {
    let config = ServerConfig {
        faults: faults.to_vec(),
        variants: variants.to_vec(),
        ..ServerConfig::default()
    };
    let started = match spec_path {
        // The embedded server implements the spec the cases come from.
        Some(_) => match ServerState::with_model(config, harness.model.clone()) {
            Ok(state) => {
                server::serve_state(SocketAddr::from(([127, 0, 0, 1], 0)), Arc::new(state)).await
            }
            Err(e) => Err(e),
        },
        None => server::spawn(config).await,
    };
    started.map_err(|e| Fatal(format!("cannot start the embedded server: {e}")))
}

/// The first Ctrl-C or SIGTERM (docker, Kubernetes and CI timeouts send it) cancels the run:
/// nothing more is started, the cases in flight finish (each request within --timeout), the
/// sweep removes what the run created, and the reports are written for what ran (exit code 2,
/// or 1 when a case already failed). A second signal exits at once.
fn on_interrupt(cancel: Arc<AtomicBool>, progress: Arc<Progress>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut term = terminate();
        if let Some(name) = signalled(&mut term).await {
            cancel.store(true, Ordering::Relaxed);
            progress.note(&format!(
                "interrupted ({name}): finishing the cases in flight, cleaning up and writing the \
                 reports (a second signal aborts at once)"
            ));
            if signalled(&mut term).await.is_some() {
                progress.finish();
                note("aborted: integrations the run created may be left on the target");
                std::process::exit(2);
            }
        }
    })
}

#[cfg(unix)]
type Terminate = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Terminate = Option<()>;

/// The SIGTERM listener (none where there is no SIGTERM, or it cannot be installed).
fn terminate() -> Terminate {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        signal(SignalKind::terminate()).ok()
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The next Ctrl-C or SIGTERM: its name (`None`: no signal can be listened to).
async fn signalled(term: &mut Terminate) -> Option<&'static str> {
    #[cfg(unix)]
    let sigterm = async {
        match term {
            Some(t) => t.recv().await,
            None => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let sigterm = {
        let _ = term;
        std::future::pending::<Option<()>>()
    };
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.ok().map(|()| "Ctrl-C"),
        Some(_) = sigterm => Some("SIGTERM"),
    }
}

/// The reports, the HAR and the baseline asked for, then the summary on stdout.
fn write_outputs(args: &RunArgs, plan: &RunPlan, doc: &report::Document) -> CliResult<()> {
    let written = report::write(&args.report_dir, doc)
        .map_err(|e| Fatal(format!("cannot write the reports: {e}")))?;
    if let Some(path) = &args.har {
        std::fs::write(path, report::har::render(doc))
            .map_err(|e| Fatal(format!("cannot write {}: {e}", path.display())))?;
    }
    if let (Some(path), Some(b)) = (&args.ci.update_baseline, &plan.baseline) {
        update_baseline(path, b, args.ci.write_baseline.is_some(), doc)?;
    }
    if let Some(path) = &args.ci.write_baseline {
        write_baseline(path, doc)?;
    }
    print(&report::text::summary_painted(doc, paint(args.color)))?;
    let names: Vec<String> = written
        .iter()
        .map(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    print(&format!(
        "\nreports: {} ({})\n",
        args.report_dir.display(),
        names.join(", ")
    ))?;

    Ok(())
}

/// The last line on stderr: the headline, the request count and time, and what needs a look.
fn closing_line(doc: &report::Document) -> String {
    let mut line = format!(
        "{} ({} requests in {:.1}s)",
        report::headline(doc),
        doc.requests,
        doc.duration_ms / 1000.0
    );
    if doc.summary.verdict == report::RunVerdict::Inconclusive
        && !doc.interrupted
        && doc.summary.not_covered.is_empty()
    {
        if let Some(reason) = doc.cases.iter().find_map(|c| c.reason.as_deref()) {
            line.push_str(&format!("; e.g. {reason}"));
        }
    }
    if !doc.not_cleaned_up.is_empty() {
        line.push_str(&format!(
            "; {} integrations could not be removed (see report.md)",
            doc.not_cleaned_up.len()
        ));
    }
    line
}
