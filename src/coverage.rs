//! `run --require`: a verdict is only as good as what was judged. A run that skipped a whole
//! family (no project id for it) or part of a category (no read-only credentials) still passes on
//! what it did judge; `--require` turns such a gap into "could not judge" (exit code 2) for the
//! families and categories a team says it needs.
//!
//! The rule, as `--help` states it:
//! - a FAMILY is covered when it was selected and at least one of its cases was judged (a family
//!   is wholly skipped when its project id is missing);
//! - a CATEGORY is covered when it was selected and none of its cases was skipped, except the
//!   cases that only the embedded reference server can run (expiring a digest nonce on demand),
//!   which no option can make a real target run;
//! - `all` is every family and every category the selection has cases of.

use std::collections::BTreeMap;

use crate::case::{Case, Category, Requirement};
use crate::model::Model;
use crate::report::{Document, OutcomeKind};

/// One `--require` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Required {
    All,
    Family(String),
    Category(Category),
}

impl Required {
    /// `all`, a family of the model, or a category.
    pub fn parse(name: &str, model: &Model) -> Result<Required, String> {
        if name == "all" {
            return Ok(Required::All);
        }
        if model.families.iter().any(|f| f.name == name) {
            return Ok(Required::Family(name.to_owned()));
        }
        if let Some(c) = Category::parse(name) {
            return Ok(Required::Category(c));
        }
        let families: Vec<&str> = model.families.iter().map(|f| f.name.as_str()).collect();
        let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
        Err(format!(
            "--require {name:?}: not a family ({}), a category ({}) or all",
            families.join(", "),
            categories.join(", ")
        ))
    }
}

/// The most frequent skip reason among `reasons` (ties: the first in order).
fn main_reason<'a>(reasons: impl Iterator<Item = &'a str>) -> &'a str {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for r in reasons {
        *count.entry(r).or_default() += 1;
    }
    count
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map(|(r, _)| r)
        .unwrap_or("no reason given")
}

/// What `required` asks that the run in `doc` did not cover, one sentence each (empty: all
/// covered). `cases` are the cases that were run; `embedded`: the run judged the embedded
/// server (where every case can run).
pub fn unmet(doc: &Document, cases: &[Case], required: &[Required], embedded: bool) -> Vec<String> {
    let by_id: BTreeMap<&str, &Case> = cases.iter().map(|c| (c.id.as_str(), c)).collect();
    // Skips no option can avoid on this target: expiring a nonce on demand, and the token
    // endpoint cases, which need oauth: main credentials where the digest cases need digest
    // ones (one run has one kind).
    let unavoidable = |id: &str| {
        !embedded
            && by_id.get(id).is_some_and(|c| {
                c.requires.contains(&Requirement::NonceExpiry)
                    || c.requires.contains(&Requirement::OAuthClient)
            })
    };
    let mut families: Vec<String> = Vec::new();
    let mut categories: Vec<Category> = Vec::new();
    for r in required {
        match r {
            Required::All => {
                families.extend(doc.selection.families.iter().cloned());
                // The categories the selection has cases of (`--filter` may leave some empty).
                categories.extend(
                    doc.cases
                        .iter()
                        .filter_map(|c| Category::parse(&c.category)),
                );
            }
            Required::Family(f) => families.push(f.clone()),
            Required::Category(c) => categories.push(*c),
        }
    }
    families.dedup();
    categories.sort();
    categories.dedup();

    let mut out = Vec::new();
    let mut seen = Vec::new();
    for family in families {
        if seen.contains(&family) {
            continue;
        }
        seen.push(family.clone());
        let of: Vec<_> = doc.cases.iter().filter(|c| c.family == family).collect();
        if of.is_empty() {
            out.push(format!(
                "required family {family} has no case in this run's selection"
            ));
        } else if of.iter().all(|c| c.outcome == OutcomeKind::Skipped) {
            let reason = main_reason(of.iter().filter_map(|c| c.reason.as_deref()));
            out.push(format!(
                "required family {family} was not judged (all {} of its cases skipped: {reason})",
                of.len()
            ));
        }
    }
    for category in categories {
        let of: Vec<_> = doc
            .cases
            .iter()
            .filter(|c| c.category == category.as_str())
            .collect();
        let skipped: Vec<_> = of
            .iter()
            .filter(|c| c.outcome == OutcomeKind::Skipped && !unavoidable(&c.id))
            .collect();
        if of.is_empty() {
            out.push(format!(
                "required category {} has no case in this run's selection",
                category.as_str()
            ));
        } else if !skipped.is_empty() {
            let reason = main_reason(skipped.iter().filter_map(|c| c.reason.as_deref()));
            out.push(format!(
                "required category {} was not fully judged ({} of its {} cases skipped: {reason})",
                category.as_str(),
                skipped.len(),
                of.len()
            ));
        }
    }
    out
}
