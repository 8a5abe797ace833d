//! What exploration sends: a [`Call`] is one request, self-contained and serialisable (a
//! reproduction is a list of them), drawn by proptest from the model alone.
//!
//! Every choice is a small integer or an index that proptest shrinks towards zero, and zero is
//! the plainest choice (owner credentials, no query, a minimal valid body), so that a shrunk
//! sequence reads as the fewest, plainest requests that still diverge. Bodies are built from a
//! seed with the case generator's value functions (`case::values`): valid bodies, their
//! breakers, and the masks' inputs; this module adds only the diversity of values the fixed
//! suite does not try (lengths at the bounds, separators, non-ASCII, URLs with port, query and
//! user info) and the choice of exactly one thing to break.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;
use proptest::sample::Index;
use rand::SeedableRng as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::bodies::body;
use crate::case::{Body, Credential, Project, Request};
use crate::model::{Family, IntegrationType, Model, OperationKind, Situation, Version};

/// Who sends a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Who {
    Owner,
    ReadOnly,
    None,
}

/// Which project a call addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Where {
    #[default]
    Own,
    /// A project of the other kind (Cloud Manager for Atlas families and vice versa).
    OtherKind,
}

/// One request of an exploration, as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub family: String,
    /// The media version (atlas-v2); `None` in families with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `list`, `get`, `create`, `update` or `delete`.
    pub operation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    pub credential: Who,
    #[serde(default)]
    pub project: Where,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query: Vec<(String, String)>,
    /// A `Content-Type` other than the version's media type as written (still JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The JSON body (create, update).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// A body sent as these bytes (not JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// The one thing the body breaks (a situation of the error catalogue), and its field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// How the body was made: a reproduction keeps this instead of the secret values it
    /// carries, and [`Call::restore`] makes them again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipe: Option<Recipe>,
}

/// The body choice and seed a call's body was built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipe {
    pub mode: u8,
    pub seed: u32,
}

impl Call {
    /// The plainest call of `kind` on the type `type_name`: the owner, the family's own
    /// project, no query, no body.
    pub fn plain(
        family: &str,
        version: Option<&str>,
        kind: OperationKind,
        type_name: &str,
    ) -> Call {
        Call {
            family: family.to_owned(),
            version: version.map(str::to_owned),
            operation: kind.as_str().to_owned(),
            type_name: Some(type_name.to_owned()),
            credential: Who::Owner,
            project: Where::Own,
            query: Vec::new(),
            content_type: None,
            body: None,
            raw: None,
            broken: None,
            field: None,
            recipe: None,
        }
    }

    /// The owner's plain get of this call's type, family and version: what shows that a
    /// refused write changed nothing.
    pub fn read_back(&self) -> Call {
        Call::plain(
            &self.family,
            self.version.as_deref(),
            OperationKind::Get,
            self.type_name.as_deref().unwrap_or_default(),
        )
    }

    /// The situation the body breaks, if it breaks one.
    pub fn situation(&self) -> Option<Situation> {
        self.broken.as_deref().and_then(Situation::parse)
    }

    pub fn kind(&self) -> Option<OperationKind> {
        OperationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == self.operation)
    }

    /// The call as a case request of its family, or why it names nothing of the model.
    pub fn request<'m>(&self, model: &'m Model) -> Result<(Request, &'m Family), String> {
        let family = model
            .family(&self.family)
            .ok_or_else(|| format!("unknown family {:?}", self.family))?;
        let kind = self
            .kind()
            .ok_or_else(|| format!("unknown operation {:?}", self.operation))?;
        let version = family
            .version(self.version.as_deref())
            .ok_or_else(|| format!("unknown version {:?}", self.version))?;
        let op = family.operation(kind);
        let path = match (&self.type_name, kind.has_type()) {
            (Some(t), true) => format!("/integrations/{t}"),
            _ => "/integrations".to_owned(),
        };
        let body = match (&self.raw, &self.body) {
            (Some(raw), _) => Body::Raw(raw.clone()),
            (None, Some(v)) => Body::Json(v.clone()),
            (None, None) => Body::None,
        };
        let content_type = op.has_body.then(|| {
            self.content_type
                .clone()
                .unwrap_or_else(|| version.media_type.clone())
        });
        Ok((
            Request {
                method: op.method.clone(),
                project: match self.project {
                    Where::Own => Project::Own,
                    Where::OtherKind => Project::OtherKind,
                },
                path,
                base_path: family.base_path.clone(),
                query: self.query.clone(),
                accept: Some(version.media_type.clone()),
                content_type,
                body,
                credential: match self.credential {
                    Who::Owner => Credential::Owner,
                    Who::ReadOnly => Credential::ReadOnly,
                    Who::None => Credential::None,
                },
                operation: op.id.clone(),
                version: version.name.clone(),
            },
            family,
        ))
    }

    /// The call with its body made again from its recipe, when the body it carries had its
    /// secrets scrubbed (a reproduction file); `Err` when the recipe no longer makes that body
    /// (a reproduction of another version of the generator).
    pub fn restore(&self, model: &Model) -> Result<Call, String> {
        let scrubbed = |c: &Call| {
            serde_json::to_string(&(&c.body, &c.raw))
                .unwrap_or_default()
                .contains(crate::scrub::PLACEHOLDER)
        };
        if !scrubbed(self) {
            return Ok(self.clone());
        }
        let recipe = self
            .recipe
            .ok_or("a scrubbed body without the recipe that made it")?;
        let version = model
            .family(&self.family)
            .and_then(|f| f.version(self.version.as_deref()))
            .ok_or("unknown family or version")?;
        let ty = self
            .type_name
            .as_deref()
            .and_then(|t| version.integration_type(t))
            .ok_or("a body for a type the version does not have")?;
        let mut made = self.clone();
        let mut rng = rand::rngs::StdRng::seed_from_u64(u64::from(recipe.seed));
        body(
            &mut made,
            ty,
            version,
            recipe.mode,
            &mut rng,
            &format!("x{:08x}", recipe.seed),
        );
        // Masks sent back (an update's echo of the last write) are no secrets: they stay as
        // the file holds them, over the recipe's values.
        if let (Some(Value::Object(kept)), Some(Value::Object(fresh))) =
            (&self.body, &mut made.body)
        {
            for f in ty.secret_fields() {
                if let Some(Value::String(v)) = kept.get(&f.name) {
                    if v.contains("****") && !v.contains(crate::scrub::PLACEHOLDER) {
                        fresh.insert(f.name.clone(), Value::String(v.clone()));
                    }
                }
            }
        }
        let again = crate::scrub::Scrubber::new(made.secrets(model));
        let shown =
            |c: &Call| again.clean(&serde_json::to_string(&(&c.body, &c.raw)).unwrap_or_default());
        if shown(&made) != shown(self) {
            return Err("its recipe makes another body (written by another version?)".into());
        }
        Ok(made)
    }

    /// The secret values the call's body carries (five characters or more: shorter ones can
    /// occur anywhere by chance).
    pub fn secrets(&self, model: &Model) -> Vec<String> {
        let mut out = Vec::new();
        let Some(Value::Object(body)) = &self.body else {
            return out;
        };
        let Some(ty) = model
            .family(&self.family)
            .and_then(|f| f.version(self.version.as_deref()))
            .and_then(|v| {
                self.type_name
                    .as_deref()
                    .and_then(|t| v.integration_type(t))
            })
        else {
            return out;
        };
        for f in ty.secret_fields() {
            if let Some(s) = body.get(&f.name).and_then(Value::as_str) {
                // A value its own correct mask shows whole (a url that is all prefix, or a
                // mask sent back) is no secret the answer could leak.
                let shown = f
                    .secret
                    .is_some_and(|k| crate::case::values::shown_by_its_mask(k, s));
                if s.chars().count() >= 5 && !shown {
                    out.push(s.to_owned());
                }
            }
        }
        out
    }
}

/// What exploration may draw from: the model, the families, the types to leave alone.
#[derive(Debug)]
pub struct Catalog {
    pub model: Model,
    /// The families explored (`--api`), in model order.
    pub families: Vec<String>,
    /// (project kind, type): integrations the target had before; never touched.
    pub skip: BTreeSet<(String, String)>,
    /// Whether the target has read-only credentials.
    pub read_only: bool,
}

fn kind_of(family: &Family) -> String {
    format!("{:?}", family.project_kind)
}

impl Catalog {
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
}

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
    )
        .prop_map(
            |(family, version, op, type_pick, who, body_mode, seed, query, odd)| Draw {
                family,
                version,
                op,
                type_pick,
                who,
                body_mode,
                seed,
                query,
                odd,
            },
        )
}

/// The sequence strategy: proptest-state-machine's sequential strategy over [`RefState`], with
/// its shrinking (drop calls, then simplify each).
pub fn sequences(
    catalog: Arc<Catalog>,
    max_len: usize,
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
            let state = state.clone();
            draw().prop_map(move |d| build(&catalog, &state, d)).boxed()
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
        && call.content_type.is_none();
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

fn build(catalog: &Catalog, state: &RefState, d: Draw) -> Call {
    let family = catalog.family(d.family.get(&state.families).as_str());
    let version = d.version.get(&family.versions);
    let kind = OPS[usize::from(d.op) % OPS.len()];
    let types = catalog.types(family, version);
    let (odds, index) = d.type_pick;
    let type_name: Option<String> = if !kind.has_type() {
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
    };
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
        query: query(d.query, d.seed, kind.writes()),
        content_type: None,
        body: None,
        raw: None,
        broken: None,
        field: None,
        recipe: None,
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
                call.body = Some(json!({"type": type_name.clone().unwrap_or_default()}));
            }
        }
        if (35..39).contains(&d.odd) {
            call.content_type = Some(media_variant(&version.media_type, d.odd));
        }
        if let (OperationKind::Update, Some(ty), 0) = (kind, ty, d.seed % 3) {
            masks_sent_back(&mut call, state, ty);
        }
    }
    call
}

/// An update that sends back, for each masked secret, the mask the last write's value is shown
/// as: a new value, not "unchanged" (contract section 4).
fn masks_sent_back(call: &mut Call, state: &RefState, ty: &crate::model::IntegrationType) {
    let (Some(t), None, None) = (&call.type_name, &call.broken, &call.raw) else {
        return;
    };
    let Some(Value::Object(last)) = state.sent.get(&(call.family.clone(), t.clone())) else {
        return;
    };
    let Some(Value::Object(body)) = &mut call.body else {
        return;
    };
    for f in ty.secret_fields() {
        let (Some(kind), Some(Value::String(was))) = (f.secret, last.get(&f.name)) else {
            continue;
        };
        if let Some(mask) = crate::case::values::mask(kind, was) {
            body.insert(f.name.clone(), Value::String(mask));
        }
    }
    // The recipe still makes the rest; `restore` keeps the masks the file holds.
}

/// A `Content-Type` that names the same media type differently (contract §9: parameters are
/// ignored, type and subtype compare case-insensitively).
fn media_variant(media: &str, pick: u8) -> String {
    match pick % 2 {
        0 => format!("{media}; charset=UTF-8"),
        _ => media.to_ascii_uppercase(),
    }
}

/// Page, count, pretty and envelope parameters; mostly absent, sometimes out of range.
fn query(
    (page, items, count, pretty, envelope): (u8, u8, u8, u8, u8),
    seed: u32,
    writes: bool,
) -> Vec<(String, String)> {
    let mut q = Vec::new();
    let bad = |s: u32, options: &[&str]| options[s as usize % options.len()].to_owned();
    match page {
        10 | 11 => q.push(("pageNum".into(), "1".into())),
        12 | 13 => q.push(("pageNum".into(), "2".into())),
        // Edges: past every integer type, a sign, a leading zero. A sign or a leading zero is a
        // reading the contract leaves open (read as 1 or refused), so only reads draw them: a
        // write the target refuses and the reference model accepts would part their states.
        14 if writes => q.push((
            "pageNum".into(),
            bad(seed >> 5, &["3", "9223372036854775808"]),
        )),
        14 => q.push((
            "pageNum".into(),
            bad(seed >> 5, &["3", "9223372036854775808", "+1", "01"]),
        )),
        15 => q.push(("pageNum".into(), bad(seed, &["0", "abc", "-1"]))),
        _ => {}
    }
    match items {
        10 | 11 => q.push(("itemsPerPage".into(), "1".into())),
        12 | 13 => q.push(("itemsPerPage".into(), "2".into())),
        14 if writes => q.push(("itemsPerPage".into(), "100".into())),
        14 => q.push(("itemsPerPage".into(), bad(seed >> 7, &["100", "+1", "01"]))),
        15 => q.push(("itemsPerPage".into(), bad(seed >> 3, &["0", "501", "x"]))),
        _ => {}
    }
    match count {
        4 => q.push(("includeCount".into(), "false".into())),
        5 => q.push(("includeCount".into(), "true".into())),
        // A repeated parameter (its first value counts) and one no operation declares.
        6 => q.push(("pageNum".into(), "7".into())),
        7 => q.push(("unknownParameter".into(), "1".into())),
        _ => {}
    }
    match pretty {
        10 => q.push(("pretty".into(), "true".into())),
        11 => q.push(("pretty".into(), "false".into())),
        _ => {}
    }
    match envelope {
        10 => q.push(("envelope".into(), "true".into())),
        11 => q.push(("envelope".into(), "false".into())),
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
