//! One serial lane, run to its plan ([`schedule`]): cases that keep one starting state share
//! its setup; cases that keep it and verify it alike run as a batch that reads it back once,
//! after the batch's last request under test; the state is restored (the cleanup of the last
//! case that held it) before a case that needs another.
//!
//! Nothing is assumed that a response did not show. A case that fails on its own is isolated:
//! its cleanup runs at once. When a batch's shared read shows a state other than planned (or
//! its setup failed), every case of the batch is run again on its own, with its own setup,
//! verification and cleanup, and that is the outcome reported, marked as isolated.

use std::collections::BTreeMap;
use std::time::Instant;

use super::exec::Sent;
use super::schedule::{self, Entry, Leaves, Slot};
use super::{skipped, Outcome, Runner};
use crate::case::{Case, Role};
use crate::scrub::Scrubber;
use crate::sender::Keyring;

/// Why a case of a batch was run again on its own.
pub const REPLAYED: &str = "run again on its own, with its own setup and verification: the \
                            verification its batch shared showed a state other than planned";

/// Where a lane stands between cases.
struct LaneState<'c> {
    out: Vec<Outcome>,
    /// The planned state the project is in (empty: nothing the run configured).
    held: Entry,
    /// The outcome (by index) and case whose cleanup restores the held state.
    restore: Option<(usize, &'c Case)>,
    /// The case whose setup built the held state.
    built_by: Option<String>,
}

impl Runner<'_> {
    /// Runs `cases` one after the other with one lane's credentials, in the lane's planned
    /// order.
    pub(super) async fn serial(
        &self,
        cases: Vec<&Case>,
        unavailable: &BTreeMap<String, String>,
    ) -> Vec<Outcome> {
        let keys = self.sender.keyring();
        let mut lane = LaneState {
            out: Vec::with_capacity(cases.len()),
            held: Entry::empty(),
            restore: None,
            built_by: None,
        };
        for batch in schedule::batches(schedule::order(cases)) {
            if batch.len() == 1 {
                let slot = &batch[0];
                match self.skip_reason(slot.case, unavailable) {
                    Some(reason) => self.finish(&mut lane, skipped(slot.case, reason)),
                    None => self.single(&keys, &mut lane, slot).await,
                }
            } else {
                self.batch(&keys, &mut lane, batch, unavailable).await;
            }
        }
        self.release(&keys, &mut lane).await;
        lane.out
    }

    fn finish(&self, lane: &mut LaneState<'_>, outcome: Outcome) {
        if let Some(p) = &self.opts.progress {
            p(&outcome);
        }
        lane.out.push(outcome);
    }

    /// Restores the project from the held state, if any: the cleanup of the case that held it
    /// last, recorded on its outcome.
    async fn release(&self, keys: &Keyring, lane: &mut LaneState<'_>) {
        if let Some((at, owner)) = lane.restore.take() {
            let scrubber = self.scrubber(owner);
            let (exchanges, failures) = self
                .guarded(owner, self.cleanup(keys, owner, &scrubber))
                .await;
            let outcome = &mut lane.out[at];
            outcome.exchanges.extend(exchanges);
            outcome.cleanup_failures.extend(failures);
        }
        lane.held = Entry::empty();
        lane.built_by = None;
    }

    /// Whether `slot` finds its starting state held; if not, the project is restored first.
    async fn prepare(&self, keys: &Keyring, lane: &mut LaneState<'_>, slot: &Slot<'_>) -> bool {
        let shares = slot.entry.found_in(&lane.held);
        if !shares {
            self.release(keys, lane).await;
        }
        shares
    }

    /// Records that a case ran after `shares` (or not) and left the state held (`kept`) or
    /// restored.
    fn ran<'c>(
        &self,
        lane: &mut LaneState<'c>,
        slot: &Slot<'c>,
        shares: bool,
        mut outcome: Outcome,
        kept: bool,
    ) {
        if shares {
            outcome.setup_shared_with = lane.built_by.clone();
        } else if !slot.entry.is_empty() {
            lane.built_by = Some(slot.case.id.clone());
        }
        if kept {
            lane.held = slot.entry.clone();
            lane.restore = (!lane.held.is_empty()).then_some((lane.out.len(), slot.case));
        } else {
            lane.held = Entry::empty();
            lane.restore = None;
            lane.built_by = None;
        }
        self.finish(lane, outcome);
    }

    async fn single<'c>(&self, keys: &Keyring, lane: &mut LaneState<'c>, slot: &Slot<'c>) {
        let shares = self.prepare(keys, lane, slot).await;
        let (outcome, kept) = self.run_case(keys, slot.case, shares, slot.leaves).await;
        self.ran(lane, slot, shares, outcome, kept);
    }

    /// Cases that keep one state and verify it alike: the requests under test of each, then
    /// the verification once, judged for every case.
    async fn batch<'c>(
        &self,
        keys: &Keyring,
        lane: &mut LaneState<'c>,
        batch: Vec<Slot<'c>>,
        unavailable: &BTreeMap<String, String>,
    ) {
        let mut shares = None;
        let mut sent: Vec<(&Slot<'c>, Sent, Instant, Scrubber)> = Vec::new();
        let mut failed_setup = false;
        for slot in &batch {
            if let Some(reason) = self.skip_reason(slot.case, unavailable) {
                self.finish(lane, skipped(slot.case, reason));
                continue;
            }
            let first = shares.is_none();
            if first {
                shares = Some(self.prepare(keys, lane, slot).await);
            }
            let setups = first && shares == Some(false);
            let case = slot.case;
            let scrubber = self.scrubber(case);
            let started = Instant::now();
            let s = self
                .guarded(
                    case,
                    self.send_steps(keys, case, &scrubber, |role| match role {
                        Role::Setup => setups,
                        Role::Verify | Role::Cleanup => false,
                        Role::Test | Role::Concurrent => true,
                    }),
                )
                .await;
            failed_setup = s.aborted.is_some();
            sent.push((slot, s, started, scrubber));
            if failed_setup {
                break;
            }
        }
        let Some(shares) = shares else {
            return;
        };
        let (last, .., last_scrubber) = sent
            .last()
            .expect("a batch that started sent its first case");
        let last = last.case;
        let last_scrubber = last_scrubber.clone();
        let reads = if failed_setup {
            Vec::new()
        } else {
            self.guarded(
                last,
                self.send_steps(keys, last, &last_scrubber, |r| r == Role::Verify),
            )
            .await
            .exchanges
        };
        // The steps the reads answer, in the last case and then in each case of the batch.
        let verify_steps = |case: &Case| -> Vec<usize> {
            let steps = case.steps.iter().enumerate();
            steps
                .filter(|(_, s)| s.role == Role::Verify)
                .map(|(i, _)| i)
                .collect()
        };
        let from = verify_steps(last);
        let mut judged = Vec::with_capacity(sent.len());
        let mut state_shown = !failed_setup;
        for (slot, s, started, _) in sent {
            let case = slot.case;
            let mut exchanges = s.exchanges;
            let own = verify_steps(case);
            for ex in &reads {
                let mut ex = ex.clone();
                if let Some(k) = from.iter().position(|&i| i == ex.step) {
                    ex.step = own[k];
                }
                exchanges.push(ex);
            }
            let (findings, warnings) = self.judged(case, &exchanges, s.aborted);
            state_shown &= !findings.iter().any(|f| own.contains(&f.step));
            judged.push((
                slot,
                Outcome::judged(case, findings, warnings, exchanges, started.elapsed()),
            ));
        }
        if state_shown {
            // The first case found the state held or built it; the others shared it.
            let mut shared = shares;
            for (slot, outcome) in judged {
                self.ran(lane, slot, shared, outcome, true);
                shared = true;
            }
            return;
        }
        // The state is not what the plan says: restore the project, then run every case of
        // the batch on its own.
        let (exchanges, failures) = self
            .guarded(last, self.cleanup(keys, last, &last_scrubber))
            .await;
        lane.held = Entry::empty();
        lane.built_by = None;
        let mut first = true;
        for (slot, _) in judged {
            let (mut outcome, _) = self.run_case(keys, slot.case, false, Leaves::Unknown).await;
            outcome.isolated = Some(REPLAYED.to_owned());
            if first {
                // The restoring cleanup is recorded on the first case run again.
                let mut before = exchanges.clone();
                before.append(&mut outcome.exchanges);
                outcome.exchanges = before;
                outcome.cleanup_failures.splice(0..0, failures.clone());
                first = false;
            }
            self.ran(lane, slot, false, outcome, false);
        }
    }
}
