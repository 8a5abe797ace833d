//! The plan of one serial lane: the order its cases run in, and which of them share a starting
//! state instead of building it again.
//!
//! A case starts from the state its setup steps build (none: nothing the run configured). A case
//! *keeps* that state when nothing it is judged on may change it: every request under test is a
//! read, or must be refused outright (no tolerated success). Cases that keep the same starting
//! state run one after the other: the first builds it, the next ones find it built and send no
//! setup, and the last one's cleanup restores the project. A case that starts from nothing and
//! keeps it needs neither. A case that fails, or that may change the state, is isolated: its
//! cleanup runs at once and the next case builds its own state.
//!
//! The order is deterministic: first the cases that keep the empty state, then the cases that
//! change state (each restores what it did), then each shared starting state in turn, its cases
//! in id order, the states in the order of their first case's id.

use std::collections::BTreeMap;

use http::Method;

use crate::case::{Case, Expect, Project, Role, Step};
use crate::model::Situation;

/// The state a case starts from, as the setup requests that build it (an empty list: nothing
/// the run configured). Two cases share a state when their setup requests are the same.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Entry(String);

impl Entry {
    /// The empty state: nothing the run configured.
    pub(crate) fn empty() -> Entry {
        Entry(String::from("[]"))
    }

    /// The state `case` starts from; a state of its own when it judges a setup's answer (it
    /// must send that setup itself).
    pub(crate) fn of(case: &Case) -> Entry {
        let setups: Vec<_> = case
            .steps
            .iter()
            .filter(|s| s.role == Role::Setup)
            .map(|s| &s.request)
            .collect();
        let mut key = serde_json::to_string(&setups).expect("a request serialises");
        let reads_setup = case.steps.iter().flat_map(|s| &s.expect).any(|e| {
            matches!(e, Expect::SameAssigned { step, .. }
                if case.steps.get(*step).is_some_and(|s| s.role == Role::Setup))
        });
        if reads_setup {
            key.push_str(&case.id);
        }
        Entry(key)
    }

    pub(crate) fn is_empty(&self) -> bool {
        *self == Entry::empty()
    }

    /// Whether a case starting from this state finds it built: the lane `held` it, and it is
    /// not the empty state (that one is never built, so never shared).
    pub(crate) fn found_in(&self, held: &Entry) -> bool {
        !held.is_empty() && self == held
    }
}

/// Whether a passing `case` leaves the state it started from: every request under test is a
/// read (`GET`), or is expected to be refused with no success tolerated, and every other
/// judged step is a read. Known before the run, from the case alone.
pub(crate) fn keeps_state(case: &Case) -> bool {
    let get = Method::GET.as_str();
    case.steps.iter().all(|step| match step.role {
        Role::Setup | Role::Cleanup => true,
        Role::Verify => step.request.method == get,
        Role::Concurrent => false,
        Role::Test => step.request.method == get || refused(&step.expect),
    })
}

/// Whether a passing `case` that changes state leaves nothing configured: for every type it
/// touches, the last judged request on that type in its own project (a read or a delete) is
/// answered that the type is not configured. Such a case needs no cleanup after it passes.
pub(crate) fn ends_empty(case: &Case) -> bool {
    let get = Method::GET.as_str();
    let judged =
        |s: &&crate::case::Step| matches!(s.role, Role::Test | Role::Verify | Role::Concurrent);
    !case.touches.is_empty()
        && case.touches.iter().all(|t| {
            let path = format!("/integrations/{t}");
            case.steps
                .iter()
                .filter(judged)
                .rfind(|s| s.request.project == Project::Own && s.request.path == path)
                .is_some_and(|s| {
                    (s.request.method == get || s.request.method == Method::DELETE.as_str())
                        && s.expect.iter().any(|e| {
                            matches!(e, Expect::Error { rule, .. }
                                if rule.situation == Situation::NotConfigured)
                        })
                })
        })
}

/// Every outcome the expectations allow is a refusal.
fn refused(expect: &[Expect]) -> bool {
    let refusal = |e: &Expect| {
        matches!(
            e,
            Expect::Error { .. } | Expect::Challenge { .. } | Expect::OAuthError { .. }
        )
    };
    let success = |e: &Expect| {
        matches!(
            e,
            Expect::Status { .. }
                | Expect::Either { .. }
                | Expect::OneWins { .. }
                | Expect::Single { .. }
                | Expect::Page { .. }
        )
    };
    expect.iter().any(refusal) && !expect.iter().any(success)
}

/// The verification reads of a case (request and expectations), as one comparable text: cases
/// that keep one state and verify it alike can share one read of it.
fn verification(case: &Case) -> String {
    let reads: Vec<_> = case
        .steps
        .iter()
        .filter(|s| s.role == Role::Verify)
        .map(|s| (&s.request, &s.expect))
        .collect();
    if reads.is_empty() {
        return String::new();
    }
    serde_json::to_string(&reads).expect("a step serialises")
}

/// The state a passing case leaves, as its plan knows it before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leaves {
    /// The state it started from.
    Same,
    /// Nothing configured.
    Empty,
    /// Unknown: its cleanup restores the project.
    Unknown,
}

/// One case of a lane's plan.
#[derive(Debug, Clone)]
pub(crate) struct Slot<'c> {
    pub(crate) case: &'c Case,
    pub(crate) entry: Entry,
    /// The state it leaves when it passes.
    pub(crate) leaves: Leaves,
    /// Its verification reads ([`verification`]); empty when it has none.
    verifies: String,
}

impl Slot<'_> {
    /// Whether a passing run of the case leaves the state it started from.
    pub(crate) fn keeps(&self) -> bool {
        self.leaves == Leaves::Same
    }

    /// Whether this case may run in one batch with `other`: both keep one state and verify it
    /// with the same reads, which are then sent once, after the last request under test of
    /// the batch (the state after each case is the state after the last).
    pub(crate) fn batches_with(&self, other: &Slot<'_>) -> bool {
        self.keeps()
            && other.keeps()
            && self.entry == other.entry
            && !self.verifies.is_empty()
            && self.verifies == other.verifies
    }
}

/// The lane's cases in the order they run (see the module's documentation).
pub(crate) fn order(cases: Vec<&Case>) -> Vec<Slot<'_>> {
    let mut slots: Vec<Slot<'_>> = cases
        .into_iter()
        .map(|case| Slot {
            case,
            entry: Entry::of(case),
            leaves: if keeps_state(case) {
                Leaves::Same
            } else if ends_empty(case) {
                Leaves::Empty
            } else {
                Leaves::Unknown
            },
            verifies: verification(case),
        })
        .collect();
    slots.sort_by(|a, b| a.case.id.cmp(&b.case.id));
    // Each starting state ranks where its first case (by id) does; the empty state first.
    let mut rank: BTreeMap<Entry, usize> = BTreeMap::new();
    for s in &slots {
        let next = rank.len() + 1;
        let r = if s.entry.is_empty() { 0 } else { next };
        rank.entry(s.entry.clone()).or_insert(r);
    }
    // Within a state: the cases that keep it (alike verifications together), then those that
    // change it; the first of them uses the state the others left.
    slots.sort_by(|a, b| {
        (rank[&a.entry], !a.keeps(), &a.verifies, &a.case.id).cmp(&(
            rank[&b.entry],
            !b.keeps(),
            &b.verifies,
            &b.case.id,
        ))
    });
    slots
}

/// The plan cut into batches: consecutive cases that [`Slot::batches_with`] each other; every
/// other case is a batch of its own.
pub(crate) fn batches(slots: Vec<Slot<'_>>) -> Vec<Vec<Slot<'_>>> {
    let mut out: Vec<Vec<Slot<'_>>> = Vec::new();
    for slot in slots {
        match out.last_mut() {
            Some(batch) if batch[0].batches_with(&slot) => batch.push(slot),
            _ => out.push(vec![slot]),
        }
    }
    out
}

/// The lane's cases in the order they run, each with the requests it sends when every case
/// passes: a shared setup on the case that builds the state, a batch's one verification read
/// on its last case, the restoring cleanup on the case that restores. Before the first
/// request; the digest challenge of a keyring and the sweep are counted by the caller.
pub(crate) fn planned(cases: Vec<&Case>) -> Vec<(&Case, usize)> {
    let mut out: Vec<(&Case, usize)> = Vec::new();
    let mut held = Entry::empty();
    // The restoring cleanup the held state owes, and the case (by index in `out`) that owes it.
    let mut pending: Option<(usize, usize)> = None;
    let count = |case: &Case, role: Role| {
        case.steps
            .iter()
            .filter(|s| s.role == role)
            .map(Step::requests)
            .sum::<usize>()
    };
    for batch in batches(order(cases)) {
        let first = &batch[0];
        let last = &batch[batch.len() - 1];
        let builds = !first.entry.found_in(&held);
        if builds {
            if let Some((at, n)) = pending.take() {
                out[at].1 += n;
            }
        } else {
            // A case that changes the held state restores the project itself.
            pending = pending.filter(|_| last.keeps());
        }
        for (k, slot) in batch.iter().enumerate() {
            let c = slot.case;
            let all: usize = c.steps.iter().map(Step::requests).sum();
            let mut n =
                all - count(c, Role::Setup) - count(c, Role::Cleanup) - count(c, Role::Verify);
            if k == 0 && builds {
                n += count(c, Role::Setup);
            }
            if k == batch.len() - 1 {
                // A batch's verification reads are sent once.
                n += count(c, Role::Verify);
            }
            out.push((c, n));
        }
        let at = out.len() - 1;
        if last.keeps() {
            held = last.entry.clone();
            if !held.is_empty() {
                pending = Some((at, count(last.case, Role::Cleanup)));
            }
        } else {
            if last.leaves != Leaves::Empty {
                out[at].1 += count(last.case, Role::Cleanup);
            }
            held = Entry::empty();
        }
    }
    if let Some((at, n)) = pending {
        out[at].1 += n;
    }
    out
}
