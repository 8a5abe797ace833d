//! The plan of a run, known before its first request (issue 22): the requests each case sends,
//! counted the way the runner sends them, the run's total and its expected duration at a rate,
//! and the covering quick selection.
//!
//! A case's requests are its steps, each sent once, whatever its role (setup, the requests
//! under test, verification reads, cleanup), and the one request more that a forged nonce (a
//! real challenge first), a replayed nonce count (the first, accepted use) or a wrong digest
//! password (the retry its 401 challenge earns) costs. A run adds
//! the stock it takes before any case (one list per version of each family it has cases of)
//! and the final sweep (one delete per integration type its cases configure, per family).
//! Against a digest target, each keyring's first signed request is answered with a challenge
//! and sent again: one request more per lane, per family's stock and for the sweep
//! ([`runner::keyrings`]).
//!
//! The quick selection is a greedy weighted set cover: the elements are the pairs (rule,
//! family) the selection exercises, a case covers the rules its id matches (`spec/rules.yaml`)
//! on its family, and it costs the requests it sends (with the sweep's delete of a type no
//! chosen case configured yet). Each round takes the case with the most new pairs per request;
//! ties go to the cheaper case, then to the first in id order, so the selection is
//! deterministic.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::case::Case;
use crate::model::Model;
use crate::rules::Rules;
use crate::runner;

/// The steps a quick run explores, unless `--explore-steps` names another budget.
pub const QUICK_EXPLORE_STEPS: usize = 100;

/// The requests the runner sends for `case` when every setup succeeds.
pub fn case_requests(case: &Case) -> usize {
    case.steps.iter().map(crate::case::Step::requests).sum()
}

/// The requests a run of `cases` sends: theirs, the stock taken before them and the sweep
/// after them.
pub fn run_requests(model: &Model, cases: &[Case]) -> usize {
    let mut families = BTreeSet::new();
    let mut touched = BTreeSet::new();
    let sum = runner::keyrings(model, cases)
        + runner::planned(model, cases)
            .iter()
            .map(|(_, n)| n)
            .sum::<usize>();
    for case in cases {
        families.insert(case.family.as_str());
        for t in &case.touches {
            touched.insert((case.family.as_str(), t.as_str()));
        }
    }
    sum + stock(model, &families) + touched.len()
}

/// One list per version of each family named: the stock the runner takes before any case.
fn stock(model: &Model, families: &BTreeSet<&str>) -> usize {
    model
        .families
        .iter()
        .filter(|f| families.contains(f.name.as_str()))
        .map(|f| f.versions.len())
        .sum()
}

/// How long `requests` take at `rate` requests per second (the sender paces every lane
/// together).
pub fn duration(requests: usize, rate: f64) -> Duration {
    Duration::from_secs_f64(requests as f64 / rate.max(f64::MIN_POSITIVE))
}

/// A duration as people read a plan: `45s`, `12 min 30s`, `1 h 40 min`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs_f64().round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{} min {}s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// The quick selection of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cover {
    /// Indices into the selection of the cases chosen, in the selection's order.
    pub chosen: Vec<usize>,
    /// The pairs `rule on family` the selection exercises and the chosen cases do not (only a
    /// request budget leaves any), in the rules' order.
    pub uncovered: Vec<String>,
    /// The requests the chosen cases send, with the stock and the sweep ([`run_requests`]).
    pub requests: usize,
}

/// The cases of `cases` that exercise every rule `cases` exercises, on every family, with as
/// few requests as the greedy cover finds; within `budget` requests (stock and sweep
/// included) when one is given. A case `runnable` refuses (its target lacks what it requires)
/// exercises nothing, here as in the full run.
pub fn cover(
    model: &Model,
    rules: &Rules,
    cases: &[Case],
    runnable: &dyn Fn(&Case) -> bool,
    budget: Option<usize>,
) -> Cover {
    let pairs: Vec<Vec<(usize, &str)>> = cases
        .iter()
        .map(|c| {
            if !runnable(c) {
                return Vec::new();
            }
            rules
                .indices_of_case(&c.id)
                .into_iter()
                .map(|r| (r, c.family.as_str()))
                .collect()
        })
        .collect();
    let families: BTreeSet<&str> = pairs.iter().flatten().map(|(_, f)| *f).collect();
    // The keyrings' challenges: first reserved for as many lanes as the whole selection has,
    // then, under a budget, for as many as the first choice has (when that still fits).
    let mut reserve = runner::keyrings(model, cases);
    let mut best = greedy(cases, &pairs, stock(model, &families) + reserve, budget);
    for _ in 0..2 {
        let Some(b) = budget else { break };
        let lanes = runner::keyrings(model, &picked(cases, &best.0));
        if lanes >= reserve {
            break;
        }
        reserve = lanes;
        let next = greedy(cases, &pairs, stock(model, &families) + reserve, budget);
        if run_requests(model, &picked(cases, &next.0)) > b {
            break;
        }
        best = next;
    }
    let (taken, open) = best;
    let chosen: Vec<usize> = (0..cases.len()).filter(|&i| taken[i]).collect();
    Cover {
        requests: run_requests(model, &picked(cases, &taken)),
        uncovered: open
            .iter()
            .map(|(r, f)| format!("{} on {f}", rules.rules[*r].id))
            .collect(),
        chosen,
    }
}

/// The cases `taken` marks.
fn picked(cases: &[Case], taken: &[bool]) -> Vec<Case> {
    cases
        .iter()
        .zip(taken)
        .filter(|(_, t)| **t)
        .map(|(c, _)| c.clone())
        .collect()
}

/// The greedy cover of every pair of `pairs`, having spent `fixed` requests already: which
/// cases it takes, and the pairs left open (by the budget).
fn greedy<'a>(
    cases: &'a [Case],
    pairs: &[Vec<(usize, &'a str)>],
    fixed: usize,
    budget: Option<usize>,
) -> (Vec<bool>, BTreeSet<(usize, &'a str)>) {
    let mut open: BTreeSet<(usize, &str)> = pairs.iter().flatten().copied().collect();
    let weights: Vec<usize> = cases.iter().map(case_requests).collect();
    let mut taken = vec![false; cases.len()];
    let mut touched: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut spent = fixed;
    while !open.is_empty() {
        let mut best: Option<(usize, usize, usize)> = None;
        for (i, case) in cases.iter().enumerate() {
            if taken[i] {
                continue;
            }
            let gain = pairs[i].iter().filter(|p| open.contains(p)).count();
            if gain == 0 {
                continue;
            }
            let sweep = case
                .touches
                .iter()
                .filter(|t| !touched.contains(&(case.family.as_str(), t.as_str())))
                .count();
            let cost = weights[i] + sweep;
            if budget.is_some_and(|b| spent + cost > b) {
                continue;
            }
            let better = match best {
                None => true,
                Some((_, g, c)) => gain * c > g * cost || (gain * c == g * cost && cost < c),
            };
            if better {
                best = Some((i, gain, cost));
            }
        }
        let Some((i, _, cost)) = best else {
            break;
        };
        taken[i] = true;
        spent += cost;
        for p in &pairs[i] {
            open.remove(p);
        }
        for t in &cases[i].touches {
            touched.insert((cases[i].family.as_str(), t.as_str()));
        }
    }
    prune(pairs, &weights, &mut taken);
    (taken, open)
}

/// Drops, costliest first (then last in id order), every chosen case whose pairs the other
/// chosen cases all cover: a greedy pick that later picks made redundant.
fn prune(pairs: &[Vec<(usize, &str)>], weights: &[usize], taken: &mut [bool]) {
    let mut times: std::collections::BTreeMap<(usize, &str), usize> = Default::default();
    for (_, p) in pairs.iter().enumerate().filter(|(i, _)| taken[*i]) {
        for pair in p {
            *times.entry(*pair).or_default() += 1;
        }
    }
    let mut order: Vec<usize> = (0..taken.len()).filter(|&i| taken[i]).collect();
    order.sort_by(|&a, &b| weights[b].cmp(&weights[a]).then(b.cmp(&a)));
    for i in order {
        if pairs[i].iter().all(|p| times[p] > 1) {
            taken[i] = false;
            for p in &pairs[i] {
                *times.get_mut(p).expect("counted") -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human(duration(90, 2.0)), "45s");
        assert_eq!(human(duration(750, 1.0)), "12 min 30s");
        assert_eq!(human(duration(6000, 1.0)), "1 h 40 min");
    }

    #[test]
    fn the_cover_exercises_every_rule_of_the_selection_on_every_family() {
        let model = crate::model::bundled().unwrap();
        let cases = crate::case::generate(&model);
        let rules = Rules::shared();
        let quick = cover(&model, rules, &cases, &|_| true, None);
        assert!(quick.uncovered.is_empty(), "{:?}", quick.uncovered);
        let full: BTreeSet<(usize, &str)> = cases
            .iter()
            .flat_map(|c| {
                let f = c.family.as_str();
                rules
                    .indices_of_case(&c.id)
                    .into_iter()
                    .map(move |r| (r, f))
            })
            .collect();
        let got: BTreeSet<(usize, &str)> = quick
            .chosen
            .iter()
            .flat_map(|&i| {
                let f = cases[i].family.as_str();
                rules
                    .indices_of_case(&cases[i].id)
                    .into_iter()
                    .map(move |r| (r, f))
            })
            .collect();
        assert_eq!(full, got);
        assert!(quick.requests < run_requests(&model, &cases) / 10);
        // Deterministic, and a budget is honoured and says what it left out.
        assert_eq!(quick, cover(&model, rules, &cases, &|_| true, None));
        let tight = cover(&model, rules, &cases, &|_| true, Some(quick.requests / 2));
        assert!(tight.requests <= quick.requests / 2, "{}", tight.requests);
        assert!(!tight.uncovered.is_empty());
    }
}
