//! `run`'s plan (issue 22): the covering quick selection (`--quick`, `--max-requests`), the
//! requests and the expected duration printed before the first request, and `--dry-run`, which
//! prints the plan and sends nothing.

use std::fmt::Write as _;

use clap::Args;
use integrations_conformance::case::Case;
use integrations_conformance::explore;
use integrations_conformance::model::Model;
use integrations_conformance::plan::{self, QUICK_EXPLORE_STEPS};
use integrations_conformance::report::{self, QuickRun};
use integrations_conformance::rules::{RuleStatus, Rules};
use integrations_conformance::runner;
use integrations_conformance::transport::Target;

use super::run::RunArgs;
use super::{note, print, CliResult, Fatal};

/// How much of the selection a run sends, and whether it sends anything.
#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    /// Run a covering part of the selection: the cases that exercise every rule the selection
    /// exercises (spec/rules.yaml), on every family, with the fewest requests a greedy cover
    /// finds; exploration gets 100 steps unless --explore-steps says otherwise. The reports say
    /// it was a quick run and how many cases it left out.
    #[arg(long, help_heading = "Plan")]
    pub(crate) quick: bool,
    /// A quick run (implies --quick) of at most N requests, exploration included (its steps and
    /// one more sequence's, which it finishes): cases stop being added when the next would pass
    /// N, and the reports name the rules left unexercised.
    #[arg(long, value_name = "N", help_heading = "Plan")]
    pub(crate) max_requests: Option<usize>,
    /// Print the plan (the cases, the requests each sends, the total and the expected duration)
    /// and send nothing.
    #[arg(long, help_heading = "Plan")]
    pub(crate) dry_run: bool,
}

impl PlanArgs {
    pub(crate) fn quick(&self) -> bool {
        self.quick || self.max_requests.is_some()
    }
}

impl RunArgs {
    /// The exploration's steps: `--explore-steps`, else 5,000 (100 in a quick run).
    pub(crate) fn explore_steps(&self) -> usize {
        self.explore_steps.unwrap_or(if self.plan.quick() {
            QUICK_EXPLORE_STEPS
        } else {
            explore::gate::DEFAULT_STEPS
        })
    }

    /// The steps exploration will take in this run (0: none): the run explores unless turned
    /// off, or a filter or a category list without exploration leaves it out.
    fn explored(&self) -> usize {
        let sel = &self.selection;
        let selected = sel.categories.is_empty()
            || sel
                .categories
                .contains(&integrations_conformance::case::Category::Exploration);
        if selected && sel.filter.is_none() {
            self.explore_steps()
        } else {
            0
        }
    }
}

/// With `--quick`: narrows `cases` to the covering part and says what the report will say;
/// `given` is the target named on the command line (none: the embedded server, which can run
/// every case).
pub(crate) fn narrow(
    args: &RunArgs,
    model: &Model,
    given: Option<&Target>,
    cases: &mut Vec<Case>,
) -> CliResult<Option<QuickRun>> {
    if !args.plan.quick() {
        return Ok(None);
    }
    if args.ci.write_baseline.is_some() {
        // The file would lose the failures of every case the quick run leaves out.
        return Err(Fatal(
            "--write-baseline writes every failure of a run: it needs the full run, not --quick \
             or --max-requests"
                .into(),
        ));
    }
    let runnable = |c: &Case| match (given, model.family(&c.family)) {
        (None, _) => true,
        (Some(t), Some(f)) => {
            t.group_for(f.project_kind).is_some() && runner::unmet_requirement(t, f, c).is_none()
        }
        (Some(_), None) => false,
    };
    let explore_steps = args.explored();
    // Exploration ends the sequence it is in: up to one sequence's steps past its budget.
    let overrun = match explore_steps {
        0 => 0,
        _ => explore::Settings::default().max_len,
    };
    let budget = args
        .plan
        .max_requests
        .map(|n| n.saturating_sub(explore_steps + overrun));
    let cover = plan::cover(model, Rules::shared(), cases, &runnable, budget);
    let selected = cases.len();
    let mut keep = cover.chosen.iter().copied().peekable();
    let mut i = 0;
    cases.retain(|_| {
        let kept = keep.next_if_eq(&i).is_some();
        i += 1;
        kept
    });
    Ok(Some(QuickRun {
        selected,
        left_out: selected - cases.len(),
        max_requests: args.plan.max_requests,
        planned_requests: cover.requests,
        explore_steps,
        uncovered: cover.uncovered,
    }))
}

/// The plan in one line: the cases, the requests they send, and the expected duration at
/// `--rate` (at 1.5, 5 and 20 requests per second in a dry run without `--rate`).
fn plan_line(args: &RunArgs, model: &Model, cases: &[Case]) -> String {
    let requests = plan::run_requests(model, cases);
    let explored = args.explored();
    let mut line = format!(
        "plan: {} cases{}, about {requests} requests",
        cases.len(),
        if args.plan.quick() {
            " (quick run)"
        } else {
            ""
        }
    );
    if explored > 0 {
        let _ = write!(
            line,
            ", and exploration's {explored} steps (about as many requests)"
        );
    }
    let total = requests + explored;
    let rates = match args.target.rate {
        Some(r) => vec![r],
        None if args.plan.dry_run => vec![1.5, 5.0, 20.0],
        None => Vec::new(),
    };
    let times: Vec<String> = rates
        .iter()
        .map(|&r| format!("{} at --rate {r}", plan::human(plan::duration(total, r))))
        .collect();
    if !times.is_empty() {
        let _ = write!(line, "; expected duration {}", times.join(", "));
    }
    line
}

/// Before the first request, on stderr: the plan in one line.
pub(crate) fn announce(args: &RunArgs, model: &Model, cases: &[Case]) {
    note(&plan_line(args, model, cases));
}

/// `--dry-run`: the plan on stdout, with every case, in the order its lane runs it, and the
/// requests it sends in the plan (a shared setup, read or cleanup counted once, on the case
/// that sends it); nothing is sent, nothing is written (exit code 0).
pub(crate) fn dry_run(
    args: &RunArgs,
    model: &Model,
    cases: &[Case],
    quick: Option<&QuickRun>,
) -> CliResult<u8> {
    let mut out = format!("{}\n", plan_line(args, model, cases));
    if let Some(q) = quick {
        let _ = writeln!(out, "{}", q.line());
    }
    out.push_str(
        "\nrequests in the plan (a shared setup, read or cleanup counted once), lane by lane:\n",
    );
    for (case, n) in runner::planned(model, cases) {
        let _ = writeln!(out, "{n:>4}  {}", case.id);
    }
    out.push_str("\ndry run: nothing was sent\n");
    print(&out)?;
    Ok(0)
}

/// The quick run's part of the document: what it left out, and why a rule it did not exercise
/// was not run (the budget, not the selection).
pub(crate) fn mark(doc: &mut report::Document, quick: Option<QuickRun>) {
    let Some(quick) = quick else {
        return;
    };
    for rule in &mut doc.rules {
        let cut = quick
            .uncovered
            .iter()
            .filter(|u| u.split(" on ").next() == Some(rule.id.as_str()))
            .count();
        if rule.status == RuleStatus::NotRun && cut > 0 {
            rule.reason = Some(format!(
                "left out of the quick run by --max-requests {}",
                quick.max_requests.unwrap_or_default()
            ));
        }
    }
    doc.quick = Some(quick);
}
