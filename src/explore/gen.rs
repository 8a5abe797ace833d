//! What exploration sends: sequences of [`Call`]s, drawn by proptest from the model alone.
//!
//! Most calls are drawn class-first from the input model ([`super::space`]): a group of parts
//! by weight, a (part, kind, label), one of its concrete classes, and that class's one change to
//! the plain call of its scope; while some (part, kind) pair is still undrawn, a share of the
//! calls go to those. The others build and change state (plain writes, reads, deletes, lists,
//! page parameters, bodies broken in one way) so that classes meet projects with integrations
//! configured, deleted and written by the other version.
//!
//! Every choice is a small integer or an index that proptest shrinks towards zero, and zero is
//! the plainest choice (owner credentials, no query, a minimal valid body), so that a shrunk
//! sequence reads as the fewest, plainest requests that still diverge.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;
use proptest::sample::Index;
use rand::SeedableRng as _;
use serde_json::{json, Value};

use super::bodies::{body, VALID_MODES};
pub use super::call::{Call, Recipe, Where, Who, NO_PROJECT};
use super::space::{Class, Edit, Reach, Space};
use crate::model::{
    Family, IntegrationType, Model, OperationKind, QueryRole, SecretKind, Situation, Version, Wire,
};

/// What exploration may draw from: the model, the families, the types to leave alone, and the
/// input model's classes over them.
#[derive(Debug)]
pub struct Catalog {
    pub model: Model,
    /// The families explored (`--api`), in model order.
    pub families: Vec<String>,
    /// (project kind, type): integrations the target had before; never touched.
    pub skip: BTreeSet<(String, String)>,
    /// Whether the target has read-only credentials.
    pub read_only: bool,
    pub space: Space,
}

fn kind_of(family: &Family) -> String {
    format!("{:?}", family.project_kind)
}

impl Catalog {
    /// The catalog of `reach`'s families, with its input model.
    pub fn new(model: Model, reach: Reach) -> Catalog {
        let mut catalog = Catalog {
            model,
            families: reach.families.clone(),
            skip: reach.skip.clone(),
            read_only: reach.read_only,
            space: Space::default(),
        };
        catalog.space = Space::new(&catalog.model, &reach, &catalog.family_sets());
        catalog
    }

    fn family(&self, name: &str) -> &Family {
        self.model.family(name).expect("catalog families exist")
    }

    /// The types of a version that may be configured.
    fn types<'a>(&self, family: &Family, version: &'a Version) -> Vec<&'a IntegrationType> {
        version
            .types
            .iter()
            .filter(|t| !self.skip.contains(&(kind_of(family), t.name.clone())))
            .collect()
    }

    /// The families of one sequence: at most one per project, so that a sequence never relies
    /// on two families sharing a project's integrations (contract §8 leaves that open).
    fn family_sets(&self) -> Vec<Vec<String>> {
        let mut by_kind: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for name in &self.families {
            by_kind
                .entry(kind_of(self.family(name)))
                .or_default()
                .push(name.clone());
        }
        let mut sets: Vec<Vec<String>> = vec![Vec::new()];
        for names in by_kind.values() {
            sets = sets
                .into_iter()
                .flat_map(|set| {
                    names.iter().map(move |n| {
                        let mut s = set.clone();
                        s.push(n.clone());
                        s
                    })
                })
                .collect();
        }
        for s in &mut sets {
            s.sort_by_key(|n| self.families.iter().position(|f| f == n));
        }
        sets
    }
}

/// The reference state that steers generation: which families the sequence uses and which
/// types it has (probably) configured. The oracle, not this, decides what is right.
#[derive(Debug, Clone)]
pub struct RefState {
    pub families: Vec<String>,
    pub configured: BTreeSet<(String, String)>,
    /// The body of the last plain write of each (family, type): an update may send back the
    /// masks its secrets are shown as (contract section 4: an ordinary new value).
    pub sent: BTreeMap<(String, String), Value>,
}

/// The choices of one call, before the catalog turns them into a request.
#[derive(Debug, Clone, Copy)]
struct Draw {
    family: Index,
    version: Index,
    op: u8,
    type_pick: (u8, Index),
    who: u8,
    body_mode: u8,
    seed: u32,
    query: (u8, u8, u8, u8, u8),
    odd: u8,
    /// (below [`CLASS_ODDS`]: a call of a class of the input model; the group of parts; the
    /// (part, kind, label); the class among its concrete ones).
    class: (u8, Index, Index, Index),
}

/// Of every ten calls, this many are drawn class-first from the input model (the others build
/// and change state: plain writes, reads of what was written, deletes and lists after them).
const CLASS_ODDS: u8 = 8;
/// Of those, this many are drawn from the (part, kind, label) values no earlier sequence drew,
/// while there are any: every class is reached early, whatever the budget.
const FOCUS_ODDS: u8 = 3;

fn draw() -> impl Strategy<Value = Draw> {
    (
        any::<Index>(),
        any::<Index>(),
        0u8..10,
        (0u8..100, any::<Index>()),
        0u8..20,
        0u8..20,
        any::<u32>(),
        (0u8..16, 0u8..16, 0u8..8, 0u8..12, 0u8..12),
        0u8..40,
        (0u8..10, any::<Index>(), any::<Index>(), any::<Index>()),
    )
        .prop_map(
            |(family, version, op, type_pick, who, body_mode, seed, query, odd, class)| Draw {
                family,
                version,
                op,
                type_pick,
                who,
                body_mode,
                seed,
                query,
                odd,
                class,
            },
        )
}

/// The sequence strategy: proptest-state-machine's sequential strategy over [`RefState`], with
/// its shrinking (drop calls, then simplify each). `focus` lists the (part, kind, label) values
/// of the input model that earlier sequences have not drawn ([`Space::unreached`]).
pub fn sequences(
    catalog: Arc<Catalog>,
    max_len: usize,
    focus: Arc<Vec<usize>>,
) -> proptest_state_machine::strategy::Sequential<
    RefState,
    Call,
    BoxedStrategy<RefState>,
    BoxedStrategy<Call>,
> {
    let init = {
        let sets = catalog.family_sets();
        move || {
            proptest::sample::select(sets.clone())
                .prop_map(|families| RefState {
                    families,
                    configured: BTreeSet::new(),
                    sent: BTreeMap::new(),
                })
                .boxed()
        }
    };
    let transitions = {
        let catalog = catalog.clone();
        move |state: &RefState| {
            let catalog = catalog.clone();
            let focus = focus.clone();
            let state = state.clone();
            draw()
                .prop_map(move |d| build(&catalog, &state, &focus, d))
                .boxed()
        }
    };
    proptest_state_machine::strategy::Sequential::new(
        (1..=max_len.max(1)).into(),
        init,
        |state: &RefState, call: &Call| state.families.contains(&call.family),
        transitions,
        apply,
    )
}

/// The reference state after a call: a plain owner write of a valid body probably changed it.
fn apply(mut state: RefState, call: &Call) -> RefState {
    let plain = call.credential == Who::Owner
        && call.project == Where::Own
        && call.broken.is_none()
        && call.content_type.is_none()
        && call.omit.is_empty()
        && call.method.is_none()
        && call.path.is_none()
        && call.raw.is_none();
    if let (true, Some(t)) = (plain, &call.type_name) {
        let key = (call.family.clone(), t.clone());
        match call.kind() {
            Some(OperationKind::Create | OperationKind::Update) => {
                if let Some(body) = &call.body {
                    state.sent.insert(key.clone(), body.clone());
                }
                state.configured.insert(key);
            }
            Some(OperationKind::Delete) => {
                state.sent.remove(&key);
                state.configured.remove(&key);
            }
            _ => {}
        }
    }
    state
}

const OPS: [OperationKind; 10] = [
    OperationKind::List,
    OperationKind::Get,
    OperationKind::Create,
    OperationKind::Create,
    OperationKind::Create,
    OperationKind::Update,
    OperationKind::Update,
    OperationKind::Get,
    OperationKind::Delete,
    OperationKind::List,
];

fn build(catalog: &Catalog, state: &RefState, focus: &[usize], d: Draw) -> Call {
    let (odds, group, key, member) = d.class;
    if odds < FOCUS_ODDS {
        if let Some(class) = catalog
            .space
            .pick_focused(&state.families, focus, key, member)
        {
            return of_class(catalog, state, d, class);
        }
    }
    if odds < CLASS_ODDS {
        if let Some(class) = catalog.space.pick(&state.families, group, key, member) {
            return of_class(catalog, state, d, class);
        }
    }
    let family = catalog.family(d.family.get(&state.families).as_str());
    let version = d.version.get(&family.versions);
    let kind = OPS[usize::from(d.op) % OPS.len()];
    let type_name = pick_type(catalog, state, d, family, version, kind);
    let credential = match d.who {
        18 if catalog.read_only => Who::ReadOnly,
        19 => Who::None,
        _ => Who::Owner,
    };
    let mut call = Call {
        family: family.name.clone(),
        version: version.name.clone(),
        operation: kind.as_str().to_owned(),
        type_name: type_name.clone(),
        credential,
        project: if d.odd == 39 {
            Where::OtherKind
        } else {
            Where::Own
        },
        query: query(&catalog.model.wire, d.query, d.seed, kind.writes()),
        ..Call::default()
    };
    let op = family.operation(kind);
    if op.has_body {
        let ty = type_name
            .as_deref()
            .and_then(|t| version.integration_type(t));
        let mut rng = rand::rngs::StdRng::seed_from_u64(u64::from(d.seed));
        let tag = format!("x{:08x}", d.seed);
        match ty {
            Some(ty) => {
                body(&mut call, ty, version, d.body_mode, &mut rng, &tag);
                call.recipe = Some(Recipe {
                    mode: d.body_mode,
                    seed: d.seed,
                });
            }
            // An unsupported type still gets a body naming it.
            None => {
                call.body = Some(naming(&catalog.model.wire, type_name.as_deref()));
            }
        }
        if (35..39).contains(&d.odd) {
            call.content_type = Some(media_variant(&version.media_type, d.odd));
        }
        if let (OperationKind::Update, Some(ty), 0) = (kind, ty, d.seed % 3) {
            masks_sent_back(&mut call, state, ty);
        }
    }
    if credential == Who::None {
        // Credentials come first: whatever else the call breaks, it meets this row.
        call.broken = Some(Situation::Unauthenticated.as_str().to_owned());
        call.field = None;
    }
    call
}

/// A call of one class of the input model: the plain call of the class's scope (what the scope
/// leaves open drawn as for any call, a valid body), changed in the class's one way.
fn of_class(catalog: &Catalog, state: &RefState, d: Draw, class: &Class) -> Call {
    let family = catalog.family(&class.scope.family);
    let version = class
        .scope
        .version
        .as_deref()
        .and_then(|v| family.version(Some(v)))
        .unwrap_or_else(|| d.version.get(&family.versions));
    let body_edit = class.edits_body();
    // A body's class is sent where the body is read: an update of a type the sequence has
    // configured, a create of one it has not (else the answer is a 404 or 409 of the state).
    let configured = |t: &str| {
        state
            .configured
            .contains(&(family.name.clone(), t.to_owned()))
    };
    let kind = match (class.scope.op, &class.scope.type_name) {
        (Some(k), _) => k,
        (None, Some(t)) if body_edit && configured(t) => OperationKind::Update,
        (None, _) if body_edit => OperationKind::Create,
        (None, _) => OPS[usize::from(d.op) % OPS.len()],
    };
    let type_name = match &class.scope.type_name {
        Some(t) => Some(t.clone()),
        None => {
            let plain = Draw {
                type_pick: (d.type_pick.0 % 94, d.type_pick.1),
                ..d
            };
            pick_type(catalog, state, plain, family, version, kind)
        }
    };
    let mut call = Call {
        family: family.name.clone(),
        version: version.name.clone(),
        operation: kind.as_str().to_owned(),
        type_name: type_name.clone(),
        ..Call::default()
    };
    let tag = format!("x{:08x}", d.seed);
    if family.operation(kind).has_body {
        match type_name
            .as_deref()
            .and_then(|t| version.integration_type(t))
        {
            Some(ty) => {
                let mode = d.body_mode % VALID_MODES;
                let mut rng = rand::rngs::StdRng::seed_from_u64(u64::from(d.seed));
                body(&mut call, ty, version, mode, &mut rng, &tag);
                call.recipe = Some(Recipe { mode, seed: d.seed });
            }
            None => {
                call.body = Some(naming(&catalog.model.wire, type_name.as_deref()));
            }
        }
    }
    class.apply(&mut call, &tag);
    if let (Edit::MaskBack(field), Some(ty)) = (
        &class.edit,
        type_name
            .as_deref()
            .and_then(|t| version.integration_type(t)),
    ) {
        mask_back(&mut call, state, ty, field);
    }
    call
}

/// The type of a call of `kind`: mostly one the sequence configured (reads, updates, deletes)
/// or any the version has; sometimes one the family refuses.
fn pick_type(
    catalog: &Catalog,
    state: &RefState,
    d: Draw,
    family: &Family,
    version: &Version,
    kind: OperationKind,
) -> Option<String> {
    let types = catalog.types(family, version);
    let (odds, index) = d.type_pick;
    if !kind.has_type() {
        None
    } else if odds >= 94 || types.is_empty() {
        // A type the family refuses: unsupported, of another family, or no type at all.
        let mut odd: Vec<String> = family.unsupported_types.clone();
        odd.extend(
            family
                .path_types
                .iter()
                .filter(|t| version.integration_type(t).is_none())
                .cloned(),
        );
        odd.push("NOT_A_TYPE".into());
        odd.retain(|t| !catalog.skip.contains(&(kind_of(family), t.clone())));
        Some(index.get(&odd).clone())
    } else {
        let configured: Vec<&str> = types
            .iter()
            .map(|t| t.name.as_str())
            .filter(|t| {
                state
                    .configured
                    .contains(&(family.name.clone(), (*t).to_owned()))
            })
            .collect();
        let pick = if odds < 80 && !configured.is_empty() && kind != OperationKind::Create {
            index.get(&configured).to_string()
        } else {
            index.get(&types).name.clone()
        };
        Some(pick)
    }
}

/// An update that sends back, for each masked secret, the mask the last write's value is shown
/// as: a new value, not "unchanged" (contract section 4).
fn masks_sent_back(call: &mut Call, state: &RefState, ty: &crate::model::IntegrationType) {
    masks_of_last(call, state, ty, None);
}

/// The masks of the last write's secrets (of `only`, when it names one field) in the call's
/// body.
fn masks_of_last(
    call: &mut Call,
    state: &RefState,
    ty: &crate::model::IntegrationType,
    only: Option<&str>,
) {
    let (Some(t), None, None) = (&call.type_name, &call.broken, &call.raw) else {
        return;
    };
    let Some(Value::Object(last)) = state.sent.get(&(call.family.clone(), t.clone())) else {
        return;
    };
    let Some(Value::Object(body)) = &mut call.body else {
        return;
    };
    for f in ty
        .secret_fields()
        .filter(|f| only.is_none_or(|o| o == f.name))
    {
        let (Some(kind), Some(Value::String(was))) = (f.secret, last.get(&f.name)) else {
            continue;
        };
        if let Some(mask) = crate::case::values::mask(kind, was) {
            body.insert(f.name.clone(), Value::String(mask));
        }
    }
    // The recipe still makes the rest; `restore` keeps the masks the file holds.
}

/// The class "its last value's mask sent back": the mask of the field's last value where that
/// mask is not its own mask (so that storing it shows: `https://h.example` is shown as
/// `https://h.example/****`, which is shown as `https://h.example/********`); else a value
/// whose mask is not, written now, for a later call to send back.
fn mask_back(call: &mut Call, state: &RefState, ty: &crate::model::IntegrationType, field: &str) {
    let Some(kind) = ty.field(field).and_then(|f| f.secret) else {
        return;
    };
    let shows = |v: &str| crate::case::values::mask(kind, v);
    let last = call.type_name.as_ref().and_then(|t| {
        state
            .sent
            .get(&(call.family.clone(), t.clone()))
            .and_then(|b| b.get(field))
            .and_then(Value::as_str)
    });
    let telling = last.is_some_and(|v| {
        let once = shows(v);
        once.as_deref().and_then(shows) != once
    });
    if telling {
        masks_of_last(call, state, ty, Some(field));
    } else if let (Some(Value::Object(body)), SecretKind::MaskUrl) = (&mut call.body, kind) {
        body.insert(field.to_owned(), json!("https://h.example/ab"));
    }
}

/// A `Content-Type` that names the same media type differently (contract §9: parameters are
/// ignored, type and subtype compare case-insensitively).
fn media_variant(media: &str, pick: u8) -> String {
    match pick % 2 {
        0 => format!("{media}; charset=UTF-8"),
        _ => media.to_ascii_uppercase(),
    }
}

/// A body that holds only the discriminator naming `type_name` (the empty name if none).
fn naming(wire: &Wire, type_name: Option<&str>) -> Value {
    json!({ wire.discriminator.as_str(): type_name.unwrap_or_default() })
}

/// Page, count, pretty and envelope parameters; mostly absent, sometimes out of range.
fn query(
    wire: &Wire,
    (page, items, count, pretty, envelope): (u8, u8, u8, u8, u8),
    seed: u32,
    writes: bool,
) -> Vec<(String, String)> {
    let mut q = Vec::new();
    let name = |role| wire.query(role).to_owned();
    let bad = |s: u32, options: &[&str]| options[s as usize % options.len()].to_owned();
    match page {
        10 | 11 => q.push((name(QueryRole::PageNum), "1".into())),
        12 | 13 => q.push((name(QueryRole::PageNum), "2".into())),
        // Edges: past every integer type, a sign, a leading zero. A sign or a leading zero is a
        // reading the contract leaves open (read as 1 or refused), so only reads draw them: a
        // write the target refuses and the reference model accepts would part their states.
        14 if writes => q.push((
            name(QueryRole::PageNum),
            bad(seed >> 5, &["3", "9223372036854775808"]),
        )),
        14 => q.push((
            name(QueryRole::PageNum),
            bad(seed >> 5, &["3", "9223372036854775808", "+1", "01"]),
        )),
        15 => q.push((name(QueryRole::PageNum), bad(seed, &["0", "abc", "-1"]))),
        _ => {}
    }
    match items {
        10 | 11 => q.push((name(QueryRole::ItemsPerPage), "1".into())),
        12 | 13 => q.push((name(QueryRole::ItemsPerPage), "2".into())),
        14 if writes => q.push((name(QueryRole::ItemsPerPage), "100".into())),
        14 => q.push((
            name(QueryRole::ItemsPerPage),
            bad(seed >> 7, &["100", "+1", "01"]),
        )),
        15 => q.push((
            name(QueryRole::ItemsPerPage),
            bad(seed >> 3, &["0", "501", "x"]),
        )),
        _ => {}
    }
    match count {
        4 => q.push((name(QueryRole::IncludeCount), "false".into())),
        5 => q.push((name(QueryRole::IncludeCount), "true".into())),
        // A repeated parameter (its first value counts) and one no operation declares.
        6 => q.push((name(QueryRole::PageNum), "7".into())),
        7 => q.push(("unknownParameter".into(), "1".into())),
        _ => {}
    }
    match pretty {
        10 => q.push((name(QueryRole::Pretty), "true".into())),
        11 => q.push((name(QueryRole::Pretty), "false".into())),
        _ => {}
    }
    match envelope {
        10 => q.push((name(QueryRole::Envelope), "true".into())),
        11 => q.push((name(QueryRole::Envelope), "false".into())),
        _ => {}
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_variants_name_the_same_type() {
        assert_eq!(media_variant("application/json", 35), "APPLICATION/JSON");
        assert_eq!(
            media_variant("application/json", 36),
            "application/json; charset=UTF-8"
        );
    }
}
