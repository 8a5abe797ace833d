//! The input model: every part of a request the contract tells values apart for, and for each
//! part the classes of values it names, each with the edit that makes a call of that class and
//! the rule of the contract that judges it.
//!
//! Nothing here is a hand list of examples. The classes are derived from the model (the spec's
//! operations, query parameters, media types, types, fields, enums, lengths, patterns, secret
//! kinds and conditional rules) and from the contract's tables as the model carries them: a new
//! field or parameter in the spec gains its classes without code ([`derive`]).
//!
//! A part is named for the report (`query itemsPerPage on get`, `header Accept`,
//! `body SLACK.channelName`); a class is a [`Kind`] of value for that part (valid, each boundary,
//! just and far past it, malformed, absent, empty, repeated, another letter case, surrounding
//! whitespace, another family's or version's value), and a label says which value of that kind.
//! Several concrete classes (one per family, version, operation or type) may share a part, kind
//! and label: exploration draws a (part, kind, label) first and then one of its concrete
//! classes, so that every value is drawn about as often, however many types or families share
//! it.

mod apply;
mod derive;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use proptest::sample::Index;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::gen::{Where, Who};
use crate::model::{Model, OperationKind, Situation};

/// A kind of value the contract tells apart for a part.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    #[default]
    Valid,
    Boundary,
    PastBoundary,
    FarPast,
    Malformed,
    Absent,
    Empty,
    Repeated,
    Case,
    Whitespace,
    Foreign,
}

impl Kind {
    pub const ALL: [Kind; 11] = [
        Kind::Valid,
        Kind::Boundary,
        Kind::PastBoundary,
        Kind::FarPast,
        Kind::Malformed,
        Kind::Absent,
        Kind::Empty,
        Kind::Repeated,
        Kind::Case,
        Kind::Whitespace,
        Kind::Foreign,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Valid => "valid",
            Kind::Boundary => "boundary",
            Kind::PastBoundary => "just past a boundary",
            Kind::FarPast => "far past a boundary",
            Kind::Malformed => "malformed",
            Kind::Absent => "absent",
            Kind::Empty => "empty",
            Kind::Repeated => "repeated",
            Kind::Case => "another letter case",
            Kind::Whitespace => "surrounding whitespace",
            Kind::Foreign => "another family's, version's or type's value",
        }
    }
}

/// Where a class applies: its family, and where it fixes them, its version, operation and type
/// (what it leaves open, exploration draws as for any call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub family: String,
    pub version: Option<String>,
    pub op: Option<OperationKind>,
    pub type_name: Option<String>,
}

/// A string value made when the call is built, from the call's tag (so that a secret stays
/// unique to its call and a reproduction makes it again).
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Json(Value),
    /// The tag, then characters of `alphabet` in turn, up to `len` characters in all.
    Text {
        len: usize,
        alphabet: &'static str,
    },
    /// An absolute https URL of `len` characters that ends in the tag's characters.
    Url {
        len: usize,
    },
    /// The value the valid body has, with a space before and after it.
    Padded,
}

/// How a class changes the plain call of its scope.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Nothing: the plain call is the class (a valid class that needs no change).
    None,
    Method(String),
    /// The path after the group id; `{type}` stands for the call's type.
    Path(String),
    /// Query parameters added, in order.
    Query(Vec<(String, String)>),
    /// `Accept` as sent (`None`: left out).
    Accept(Option<String>),
    /// `Content-Type` as sent (`None`: left out).
    ContentType(Option<String>),
    Credential(Who),
    Project(Where),
    /// A field of the body set to a value.
    Set(String, Val),
    /// A field of the body removed.
    Remove(String),
    /// A key added beside the body's own (a re-cased or padded name, another type's field).
    AddKey(String, Val),
    /// The body sent as these bytes; `{body}` stands for the valid body's JSON text.
    Raw(String),
    /// A secret field sent back as the mask the last write's value is shown as (exploration
    /// knows the last write; an ordinary new value, contract section 4).
    MaskBack(String),
}

/// One class of the input model.
#[derive(Debug, Clone)]
pub struct Class {
    /// Unique and stable: what a reproduction names.
    pub id: String,
    /// The part, as the report names it.
    pub part: String,
    pub kind: Kind,
    /// What this class's value is, in a few words.
    pub label: String,
    /// The rule of the contract (`spec/rules.yaml`) that judges it.
    pub rule: &'static str,
    pub scope: Scope,
    pub edit: Edit,
    /// The situation of the error catalogue it breaks, if it breaks one (the oracle's intent
    /// among rows that share a status and errorCode), and the field it names.
    pub breaks: Option<Situation>,
    pub field: Option<String>,
}

impl Class {
    /// Whether the class changes the body (then its call is a create or an update).
    pub fn edits_body(&self) -> bool {
        matches!(
            self.edit,
            Edit::Set(..) | Edit::Remove(_) | Edit::AddKey(..) | Edit::Raw(_) | Edit::MaskBack(_)
        )
    }
}

/// The groups of parts, drawn by weight, so that a group with few values (the method, the
/// headers) is not drawn as rarely as its share of all values: the method, the path, the query,
/// the headers, the credential, the body's kind, the body's fields.
const GROUPS: usize = 7;
const WEIGHTS: [usize; GROUPS] = [2, 3, 10, 5, 2, 2, 16];

fn group(part: &str) -> usize {
    match part.split(' ').next().unwrap_or_default() {
        "method" => 0,
        "path" => 1,
        "query" => 2,
        "header" => 3,
        "credential" => 4,
        "body" if part == "body" => 5,
        _ => 6,
    }
}

/// A part and a kind: what the coverage report counts.
pub type Key = (String, Kind);

/// What the space may draw from: the families explored and what the target offers.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    pub families: Vec<String>,
    /// (project kind, type): integrations the target had before, never touched.
    pub skip: BTreeSet<(String, String)>,
    /// Whether the target has read-only credentials.
    pub read_only: bool,
    /// Whether the target's main credentials are digest (then wrong and forged digests are
    /// drawn too).
    pub digest: bool,
    /// Whether the target names a project the credentials cannot access.
    pub no_access: bool,
}

impl Reach {
    /// Every family, with every kind of credential and project: what a reproduction's class
    /// is looked up in (the ids do not depend on the reach).
    pub fn everything(model: &Model) -> Reach {
        Reach {
            families: model.families.iter().map(|f| f.name.clone()).collect(),
            read_only: true,
            digest: true,
            no_access: true,
            ..Reach::default()
        }
    }
}

/// The input model of one exploration.
#[derive(Debug, Default)]
pub struct Space {
    pub classes: Vec<Class>,
    by_id: HashMap<String, usize>,
    /// Every (part, kind, label), in order, with the position of each class's: what is drawn
    /// first, and what the focus on the undrawn counts.
    cover: Vec<(String, Kind, String)>,
    cover_of: Vec<usize>,
    /// What a sequence of each set of families may draw.
    by_set: BTreeMap<Vec<String>, SetIndex>,
}

/// The classes of one set of families, as exploration draws them.
#[derive(Debug, Default)]
struct SetIndex {
    /// For each (part, kind, label) (a position in `cover`): its classes in these families.
    members: Vec<Vec<usize>>,
    /// For each group of parts: the (part, kind, label) positions with a class here.
    groups: [Vec<usize>; GROUPS],
    /// Each group with a class here, repeated by its weight: what a group is drawn from.
    slots: Vec<usize>,
}

impl Space {
    /// The classes of the families `reach` names, grouped for the family sets of sequences.
    pub fn new(model: &Model, reach: &Reach, family_sets: &[Vec<String>]) -> Space {
        let classes = derive::classes(model, reach);
        let by_id = classes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        let value = |c: &Class| (c.part.clone(), c.kind, c.label.clone());
        let cover: Vec<(String, Kind, String)> = classes
            .iter()
            .map(value)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let cover_of: Vec<usize> = classes
            .iter()
            .map(|c| {
                cover
                    .binary_search(&value(c))
                    .expect("every class's value is listed")
            })
            .collect();
        let by_set = family_sets
            .iter()
            .map(|set| {
                let mut index = SetIndex {
                    members: vec![Vec::new(); cover.len()],
                    ..SetIndex::default()
                };
                for (i, c) in classes.iter().enumerate() {
                    if set.contains(&c.scope.family) {
                        index.members[cover_of[i]].push(i);
                    }
                }
                for (v, (part, ..)) in cover.iter().enumerate() {
                    if !index.members[v].is_empty() {
                        index.groups[group(part)].push(v);
                    }
                }
                index.slots = WEIGHTS
                    .iter()
                    .enumerate()
                    .filter(|(g, _)| !index.groups[*g].is_empty())
                    .flat_map(|(g, w)| std::iter::repeat_n(g, *w))
                    .collect();
                (set.clone(), index)
            })
            .collect();
        Space {
            classes,
            by_id,
            cover,
            cover_of,
            by_set,
        }
    }

    /// The (part, kind, label) values (as positions) none of whose classes `drawn` names.
    pub fn unreached(&self, drawn: &BTreeMap<String, BTreeMap<String, usize>>) -> Vec<usize> {
        let mut reached = vec![false; self.cover.len()];
        for id in drawn.keys() {
            if let Some(&i) = self.by_id.get(id) {
                reached[self.cover_of[i]] = true;
            }
        }
        (0..self.cover.len()).filter(|k| !reached[*k]).collect()
    }

    /// A class of one of the (part, kind, label) values `focus` lists that has a class among
    /// `families`; `None` when none has.
    pub fn pick_focused(
        &self,
        families: &[String],
        focus: &[usize],
        key: Index,
        class: Index,
    ) -> Option<&Class> {
        let members = &self.by_set.get(families)?.members;
        let open: Vec<&Vec<usize>> = focus
            .iter()
            .filter_map(|k| members.get(*k).filter(|m| !m.is_empty()))
            .collect();
        if open.is_empty() {
            return None;
        }
        let members: &&Vec<usize> = key.get(&open);
        Some(&self.classes[*class.get(members)])
    }

    pub fn get(&self, id: &str) -> Option<&Class> {
        self.by_id.get(id).map(|&i| &self.classes[i])
    }

    /// The class at (`group`, `key`, `class`) among those of `families`: a group of parts by
    /// its weight, a (part, kind, label) of it, then one of its concrete classes (of a family,
    /// version, operation or type).
    pub fn pick(
        &self,
        families: &[String],
        group: Index,
        key: Index,
        class: Index,
    ) -> Option<&Class> {
        let index = self.by_set.get(families)?;
        if index.slots.is_empty() {
            return None;
        }
        let value = key.get(&index.groups[*group.get(&index.slots)]);
        let members = &index.members[*value];
        Some(&self.classes[*class.get(members)])
    }

    /// Every (part, kind) of the space, with the rules that judge its classes.
    pub fn keys(&self) -> BTreeMap<Key, BTreeSet<&'static str>> {
        let mut keys: BTreeMap<Key, BTreeSet<&'static str>> = BTreeMap::new();
        for c in &self.classes {
            keys.entry((c.part.clone(), c.kind))
                .or_default()
                .insert(c.rule);
        }
        keys
    }
}

/// How often one (part, kind) was drawn, which rules judged it, and what the reference model
/// answered.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Drawn {
    pub part: String,
    pub kind: Kind,
    /// The rules that judge its classes (`, `-separated).
    pub rule: String,
    pub drawn: usize,
    /// `status errorCode` (or `status`) of the reference model's answers → count.
    pub answers: BTreeMap<String, usize>,
}

/// One part's row of [`Coverage::grid`]: the part, and its (part, kind) in each column.
pub type GridRow<'a> = (&'a str, Vec<Option<&'a Drawn>>);

/// The coverage of the input model: every (part, kind), drawn or not.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Coverage {
    pub classes: Vec<Drawn>,
    /// The (part, kind) pairs never drawn, as `part: kind`.
    pub unreached: Vec<String>,
}

impl Coverage {
    /// The coverage of `space` given how often each class id was drawn and answered.
    pub fn of(space: &Space, drawn: &BTreeMap<String, BTreeMap<String, usize>>) -> Coverage {
        let mut by_key: BTreeMap<Key, Drawn> = space
            .keys()
            .into_iter()
            .map(|((part, kind), rules)| {
                (
                    (part.clone(), kind),
                    Drawn {
                        part,
                        kind,
                        rule: rules.into_iter().collect::<Vec<_>>().join(", "),
                        ..Drawn::default()
                    },
                )
            })
            .collect();
        for (id, answers) in drawn {
            let Some(c) = space.get(id) else { continue };
            let Some(d) = by_key.get_mut(&(c.part.clone(), c.kind)) else {
                continue;
            };
            for (answer, n) in answers {
                d.drawn += n;
                *d.answers.entry(answer.clone()).or_default() += n;
            }
        }
        let unreached = by_key
            .values()
            .filter(|d| d.drawn == 0)
            .map(|d| format!("{}: {}", d.part, d.kind.as_str()))
            .collect();
        Coverage {
            classes: by_key.into_values().collect(),
            unreached,
        }
    }

    /// Parts × kinds: the kinds that occur (the columns), and per part (a row, in part order)
    /// the (part, kind) drawn in each column, if the part has that kind.
    pub fn grid(&self) -> (Vec<Kind>, Vec<GridRow<'_>>) {
        let kinds: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| self.classes.iter().any(|d| d.kind == *k))
            .collect();
        let mut parts: BTreeMap<&str, BTreeMap<Kind, &Drawn>> = BTreeMap::new();
        for d in &self.classes {
            parts.entry(&d.part).or_default().insert(d.kind, d);
        }
        let rows = parts
            .into_iter()
            .map(|(part, row)| (part, kinds.iter().map(|k| row.get(k).copied()).collect()))
            .collect();
        (kinds, rows)
    }
}

#[cfg(test)]
mod tests;
