//! One case on its own: its setups (unless the lane holds the state they build), the requests
//! under test and the verifications, the judgement, and the cleanup unless the case leaves its
//! state to the next one.

use std::time::Instant;

use super::schedule::Leaves;
use super::{Outcome, Runner};
use crate::case::{Case, Requirement, Role};
use crate::check::{self, Finding, Warning};
use crate::exchange::Exchange;
use crate::scrub::Scrubber;
use crate::sender::Keyring;

/// Why a case that would have left its state to the next case ran its cleanup at once.
pub const ISOLATED: &str = "failed: its cleanup ran at once, and the next case built its own \
                            starting state instead of sharing this one";

/// How a case's requests before its cleanup went.
pub(super) struct Sent {
    pub(super) exchanges: Vec<Exchange>,
    /// The setup step that failed (the case stopped there).
    pub(super) aborted: Option<usize>,
}

impl Runner<'_> {
    /// The secrets of `case` and of the target: neither may appear in anything recorded. Built
    /// once per case: every recorded request and response goes through it.
    pub(super) fn scrubber(&self, case: &Case) -> Scrubber {
        Scrubber::new(case.secrets.iter().cloned().chain(self.target.secrets()))
    }

    /// Holds the run's lock for `case` (shared, or alone for a case that expires the target's
    /// nonces or tokens) and a permit of the run's concurrency while `f` runs.
    pub(super) async fn guarded<T>(
        &self,
        case: &Case,
        f: impl std::future::Future<Output = T>,
    ) -> T {
        let global = case
            .requires
            .iter()
            .any(|r| matches!(r, Requirement::NonceExpiry | Requirement::TokenExpiry));
        let (_shared, _alone) = if global {
            (None, Some(self.exclusive.write().await))
        } else {
            (Some(self.exclusive.read().await), None)
        };
        let _permit = self.limit.acquire().await.expect("never closed");
        f.await
    }

    /// Sends the steps of `case` with the roles `wanted` accepts, in order, stopping at a setup
    /// that fails.
    pub(super) async fn send_steps(
        &self,
        keys: &Keyring,
        case: &Case,
        scrubber: &Scrubber,
        wanted: impl Fn(Role) -> bool,
    ) -> Sent {
        let family = self.family(&case.family);
        let mut exchanges: Vec<Exchange> = Vec::new();
        for (i, step) in case.steps.iter().enumerate() {
            if !wanted(step.role) || exchanges.iter().any(|e| e.step == i) {
                continue;
            }
            if step.role == Role::Concurrent {
                let group = self
                    .sender
                    .send_together(keys, family, &case.steps, i, scrubber)
                    .await;
                exchanges.extend(group);
                continue;
            }
            let ex = self.sender.send(keys, family, step, i, scrubber).await;
            let failed_setup = step.role == Role::Setup
                && !ex
                    .response
                    .as_ref()
                    .is_some_and(|r| (200..300).contains(&r.status));
            exchanges.push(ex);
            if failed_setup {
                return Sent {
                    exchanges,
                    aborted: Some(i),
                };
            }
        }
        Sent {
            exchanges,
            aborted: None,
        }
    }

    /// The findings and warnings of `case` on `exchanges` (a failed setup first).
    pub(super) fn judged(
        &self,
        case: &Case,
        exchanges: &[Exchange],
        aborted: Option<usize>,
    ) -> (Vec<Finding>, Vec<Warning>) {
        let mut secrets = case.secrets.clone();
        secrets.extend(self.target.secrets());
        let judged = check::judge(
            &check::Context {
                harness: self.harness,
                family: self.family(&case.family),
                baseline: &self.baseline,
                secrets: &secrets,
                sent: case.secrets.len(),
            },
            case,
            exchanges,
        );
        let mut findings = judged.findings;
        if let Some(i) = aborted {
            findings.insert(
                0,
                check::setup_failed(self.harness, case, exchanges, i, &secrets),
            );
        }
        (findings, judged.warnings)
    }

    /// Runs `case`: its setups (unless `shares`: the lane holds the state they build), the
    /// requests under test and the verifications, then its cleanup, unless it passed and
    /// `leaves` the state the plan needs. Returns the outcome and whether the case's starting
    /// state is held afterwards.
    pub(super) async fn run_case(
        &self,
        keys: &Keyring,
        case: &Case,
        shares: bool,
        leaves: Leaves,
    ) -> (Outcome, bool) {
        self.guarded(case, async {
            let started = Instant::now();
            let scrubber = self.scrubber(case);
            let Sent {
                mut exchanges,
                aborted,
            } = self
                .send_steps(keys, case, &scrubber, |role| {
                    role != Role::Cleanup && !(shares && role == Role::Setup)
                })
                .await;
            // A case that keeps its state and passed leaves it for the next case, one that ends
            // with nothing configured and passed needs no cleanup: for those the verdict before
            // the cleanup decides whether it runs. Any other case restores the project now (a
            // failing one of the first two kinds is isolated), and is judged with its cleanup.
            let judged_before =
                (leaves != Leaves::Unknown).then(|| self.judged(case, &exchanges, aborted));
            let passed = judged_before.as_ref().is_some_and(|(f, _)| f.is_empty());
            let kept = leaves == Leaves::Same && passed;
            let mut cleanup_failures = Vec::new();
            let mut isolated = None;
            let (findings, warnings) = match judged_before {
                Some(judged) if passed => judged,
                _ => {
                    let (cleanups, failures) = self.cleanup(keys, case, &scrubber).await;
                    exchanges.extend(cleanups);
                    cleanup_failures = failures;
                    if leaves != Leaves::Unknown {
                        isolated = Some(ISOLATED.to_owned());
                    }
                    self.judged(case, &exchanges, aborted)
                }
            };
            let mut outcome =
                Outcome::judged(case, findings, warnings, exchanges, started.elapsed());
            outcome.cleanup_failures = cleanup_failures;
            outcome.isolated = isolated;
            (outcome, kept)
        })
        .await
    }

    /// Sends the cleanup steps of `case`: the exchanges, and a line per step that neither
    /// succeeded nor found the type already gone.
    pub(super) async fn cleanup(
        &self,
        keys: &Keyring,
        case: &Case,
        scrubber: &Scrubber,
    ) -> (Vec<Exchange>, Vec<String>) {
        let family = self.family(&case.family);
        let mut exchanges = Vec::new();
        let mut failures = Vec::new();
        for (i, step) in case
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.role == Role::Cleanup)
        {
            let ex = self.sender.send(keys, family, step, i, scrubber).await;
            let ok = ex
                .response
                .as_ref()
                .is_some_and(|r| (200..300).contains(&r.status) || r.status == 404);
            if !ok {
                let what = match (&ex.response, &ex.error) {
                    (Some(r), _) => r.status.to_string(),
                    (None, Some(e)) => e.clone(),
                    _ => "no answer".into(),
                };
                failures.push(format!("{} {}: {what}", ex.method, ex.path_and_query()));
            }
            exchanges.push(ex);
        }
        (exchanges, failures)
    }
}
