//! Stage 3: generate the conformance cases from the model alone.
//!
//! A case is data: the requests to send (setup, the request under test, verification, cleanup)
//! and, per step, what a conformant target must answer. Nothing here names an integration type
//! or a field: every module reads the [`Model`]. One module per category.

use std::fmt;

use crate::model::Model;
use serde::Serialize;

mod auth;
mod build;
mod bystander;
mod characters;
mod concurrency;
mod credentials;
mod data;
mod diversity;
mod envelope;
mod error_shape;
mod errors;
mod grammar;
mod media;
mod pagination;
mod redaction;
mod roundtrip;
mod rules;
mod state;
mod validation;
pub mod values;
mod versions;

pub(crate) use build::{
    configure, first_page, kebab, masked, prepared, setup_all, setup_create, verify_state,
    CaseBuilder, Ctx, Fixture, Subject,
};
pub use data::{
    Baseline, BaselineState, Body, Case, Credential, Expect, Lane, PageExpect, Project, Request,
    Requirement, Role, Step, View,
};

/// What a case is about; used for filtering, reports and the fault self-test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Validation,
    Redaction,
    Pagination,
    Envelope,
    Errors,
    Auth,
    Versions,
    State,
    /// Concurrent requests on one type of one project (contract section 9).
    Concurrency,
    /// A seeded exploration judged by the reference model (every rule, drawn at random).
    Exploration,
}

impl Category {
    pub const ALL: [Category; 10] = [
        Category::Validation,
        Category::Redaction,
        Category::Pagination,
        Category::Envelope,
        Category::Errors,
        Category::Auth,
        Category::Versions,
        Category::State,
        Category::Concurrency,
        Category::Exploration,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Validation => "validation",
            Category::Redaction => "redaction",
            Category::Pagination => "pagination",
            Category::Envelope => "envelope",
            Category::Errors => "errors",
            Category::Auth => "auth",
            Category::Versions => "versions",
            Category::State => "state",
            Category::Concurrency => "concurrency",
            Category::Exploration => "exploration",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Generate every case of the model, sorted by id. Ids are unique: a collision is a bug of the
/// generators and panics with both titles.
pub fn generate(model: &Model) -> Vec<Case> {
    let mut cases = Vec::new();
    for family in &model.families {
        let cx = Ctx { model, family };
        validation::generate(&cx, &mut cases);
        redaction::generate(&cx, &mut cases);
        pagination::generate(&cx, &mut cases);
        envelope::generate(&cx, &mut cases);
        errors::generate(&cx, &mut cases);
        auth::generate(&cx, &mut cases);
        versions::generate(&cx, &mut cases);
        state::generate(&cx, &mut cases);
        // The points contract section 9 settled.
        characters::generate(&cx, &mut cases);
        media::generate(&cx, &mut cases);
        concurrency::generate(&cx, &mut cases);
        diversity::generate(&cx, &mut cases);
        credentials::generate(&cx, &mut cases);
        grammar::generate(&cx, &mut cases);
        roundtrip::generate(&cx, &mut cases);
        // Last: they copy error cases of the family the others made.
        error_shape::generate(&cx, &mut cases);
        bystander::generate(&cx, &mut cases);
    }
    sorted_unique(cases)
}

/// The operation component of the id of a run's exploration entry (no operation of the API is
/// called that): `{family}/exploration/seed-N`.
pub const EXPLORATION: &str = "exploration";

/// The id of the exploration entry of a run for `family` and `seed`.
pub fn exploration_id(family: &str, seed: u64) -> String {
    format!("{family}/{EXPLORATION}/seed-{seed}")
}

/// Whether `id` names an exploration entry: a known-failures list may hold one although no
/// generated case has that id.
pub fn is_exploration_id(id: &str) -> bool {
    let mut parts = id.split('/');
    let (Some(family), Some(op), Some(seed), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !family.is_empty()
        && op == EXPLORATION
        && seed
            .strip_prefix("seed-")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The cases sorted by id; panics naming both titles when two share an id.
fn sorted_unique(mut cases: Vec<Case>) -> Vec<Case> {
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    if let Some(pair) = cases.windows(2).find(|w| w[0].id == w[1].id) {
        // Two generators named different cases alike: one would silently replace the other.
        panic!(
            "two cases share the id {}: {:?} and {:?}",
            pair[0].id, pair[0].title, pair[1].title
        );
    }
    cases
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplicate_case_id_panics_with_both_titles() {
        let cases = generate(&crate::model::bundled().unwrap());
        let mut twin = cases[cases.len() / 2].clone();
        let first_title = twin.title.clone();
        twin.title = "a second case under the same id".into();
        let mut colliding = cases.clone();
        colliding.push(twin.clone());
        let panic = std::panic::catch_unwind(|| sorted_unique(colliding))
            .expect_err("a duplicate id must panic");
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(message.contains(&twin.id), "{message}");
        assert!(message.contains(&first_title), "{message}");
        assert!(message.contains(&twin.title), "{message}");
        // Without the twin the same cases pass.
        assert_eq!(sorted_unique(cases.clone()).len(), cases.len());
    }

    /// Every secret a case sends is scanned for in every answer, whatever its length; a short
    /// one (under five characters) is made of characters no conformant answer can hold by
    /// chance, so the scan has no false hits.
    #[test]
    fn short_secrets_cannot_occur_by_chance() {
        let cases = generate(&crate::model::bundled().unwrap());
        let mut short = 0;
        for c in &cases {
            for s in c.secrets.iter().filter(|s| s.chars().count() < 5) {
                assert!(
                    !s.is_empty() && s.chars().all(diversity::is_rare),
                    "{}: the short secret {s:?} could occur by chance in an answer",
                    c.id
                );
                short += 1;
            }
        }
        assert!(short > 0, "the cases send short secrets");
    }

    #[test]
    fn exploration_ids_are_recognised_and_nothing_else() {
        assert!(is_exploration_id(&exploration_id("atlas-v2", 42)));
        assert!(is_exploration_id("cloud-manager/exploration/seed-20261206"));
        for other in [
            "atlas-v2/exploration/seed-",
            "atlas-v2/exploration/seed-x1",
            "atlas-v2/listGroupIntegrations/seed-1",
            "atlas-v2/exploration/seed-1/more",
            "/exploration/seed-1",
        ] {
            assert!(!is_exploration_id(other), "{other}");
        }
    }
}
