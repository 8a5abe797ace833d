//! One exploration step, sent twice and judged: to the target over HTTP, and to the oracle (the
//! faithful reference server, in process through its router, no socket), each with its own
//! authenticator. The oracle's answer says which rule of the contract applies; the target's
//! answer is then judged by the suite's own checks against that rule (status and errorCode at
//! the rule's level, schema, media type, no secret in clear, unlisted fields as warnings) and its
//! snapshot text is compared with the oracle's (`snapshot::render`: the same normalisation as the
//! committed snapshots). Assigned ids are mapped between the two, so an id that changes on one
//! side only is a divergence even though the snapshots hide ids.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::case::{Case, Category, Expect, Lane, Role, Step};
use crate::check;
use crate::error::{Error, Result};
use crate::exchange::{Exchange, Response};
use crate::harness::Harness;
use crate::model::{Family, OperationKind, ProjectKind, Wire};
use crate::scrub::Scrubber;
use crate::sender::{self, Keyring, Sender, Sending};
use crate::server::{self, Fault, Integration, RunningServer, ServerConfig, ServerState, Variant};
use crate::snapshot::{self, Volatile};
use crate::transport::{Gateway, Target};

use super::gen::{Call, Catalog};
use super::oracle::{expectation, outcome, test_step, IdMap, Oracle};
use super::space::Reach;

/// Where exploration sends its requests.
#[derive(Clone, Default)]
pub struct Options {
    /// `None`: an embedded reference server started for the exploration.
    pub target: Option<Target>,
    /// Faults of the embedded target (not the oracle's: the oracle is always faithful).
    pub faults: Vec<Fault>,
    /// Tolerated variants of the embedded target.
    pub variants: Vec<Variant>,
    /// The families explored; empty: all.
    pub families: Vec<String>,
    /// Timeout, pacing and the 429 policy (exploration's own `--budget` bounds its time, not
    /// the sending's deadline).
    pub sending: Sending,
    /// What a gateway in front of the target asks for, the embedded server included; `None`:
    /// the target's own.
    pub gateway: Option<Gateway>,
}

/// The first step whose answers disagree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Divergence {
    /// The index of the call in its sequence.
    pub step: usize,
    /// The divergence showed on the read that follows a refused write (a failed request must
    /// change nothing), not on the call itself.
    pub verify: bool,
    /// `METHOD /path?query` with placeholders.
    pub request: String,
    /// What differs, one line each (scrubbed).
    pub messages: Vec<String>,
    /// The reference model's answer, normalised as a snapshot.
    pub expected: String,
    /// The target's answer, normalised the same way.
    pub actual: String,
}

/// What one sequence did.
#[derive(Debug, Default)]
pub struct SequenceOutcome {
    /// Request pairs sent (calls, and the reads after refused writes).
    pub steps: usize,
    pub divergence: Option<Divergence>,
    /// (operation, status, errorCode or "") → how often the target answered so.
    pub coverage: BTreeMap<(String, u16, String), usize>,
    /// `TYPE.field` returned but not listed by the contract.
    pub warnings: BTreeSet<String>,
    /// Input-model class id → the reference model's answer (`status errorCode`) → how often.
    pub classes: BTreeMap<String, BTreeMap<String, usize>>,
}

impl SequenceOutcome {
    /// Counts a call of the input model's class `class` and the reference model's answer.
    fn drew(&mut self, class: &str, wire: &Wire, answer: &Response) {
        let answer = match error_code(wire, answer) {
            Some(code) => format!("{} {code}", answer.status),
            None => answer.status.to_string(),
        };
        *self
            .classes
            .entry(class.to_owned())
            .or_default()
            .entry(answer)
            .or_default() += 1;
    }
}

/// The (project kind, type) pairs a target already holds, and the same integrations as the
/// oracle stores them: (group id, family, integration).
type Stock = (
    BTreeSet<(String, String)>,
    Vec<(String, String, Integration)>,
);

/// What the steps of one sequence share.
struct Sequence<'a> {
    /// The secrets sent so far (none may come back in clear).
    secrets: &'a [String],
    /// Scrubs those and the target's credentials.
    scrubber: &'a Scrubber,
    ids: &'a mut IdMap,
    out: &'a mut SequenceOutcome,
}

/// The target, the oracle and what exploration may draw.
pub struct Engine {
    rt: tokio::runtime::Runtime,
    pub harness: Arc<Harness>,
    pub target: Target,
    /// Whether the target is the embedded server (then it is reset between sequences).
    pub embedded: bool,
    server: Option<RunningServer>,
    /// Sends to the target, with the target's credentials in `keys`.
    sender: Sender,
    keys: Keyring,
    oracle: Oracle,
    /// The target's pre-existing integrations, as the oracle stores them.
    pre: Vec<(String, String, Integration)>,
    pub catalog: Arc<Catalog>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("target", &self.target)
            .field("embedded", &self.embedded)
            .finish_non_exhaustive()
    }
}

/// What the input model may draw on this target.
fn reach(target: &Target, families: &[String], skip: BTreeSet<(String, String)>) -> Reach {
    Reach {
        families: families.to_vec(),
        skip,
        read_only: target.read_only.is_some(),
        digest: matches!(target.auth, crate::auth::AuthSpec::Digest { .. }),
        no_access: target.other_group_id.is_some(),
    }
}

fn groups(t: &Target) -> Vec<(String, &'static str)> {
    [
        (t.atlas_group_id.clone(), "atlasGroupId"),
        (t.cm_group_id.clone(), "cmGroupId"),
        (t.other_group_id.clone(), "otherGroupId"),
    ]
    .into_iter()
    .filter_map(|(g, n)| g.map(|g| (g, n)))
    .collect()
}

fn volatile(t: &Target, secrets: Vec<String>) -> Volatile {
    let g = groups(t);
    let pairs: Vec<(&str, &str)> = g.iter().map(|(v, n)| (v.as_str(), *n)).collect();
    Volatile::new(t.base_url.as_str(), &pairs, secrets)
}

impl Engine {
    /// Starts the oracle (and the embedded target when none is given), takes stock of the
    /// target's pre-existing integrations, and builds the catalog.
    pub fn new(harness: Arc<Harness>, opts: Options) -> Result<Engine> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let model = harness.model.clone();
        for f in &opts.families {
            if model.family(f).is_none() {
                let known: Vec<&str> = model.families.iter().map(|f| f.name.as_str()).collect();
                return Err(Error::Usage(format!(
                    "unknown API family {f:?} (--api); known: {}",
                    known.join(", ")
                )));
            }
        }
        let (mut target, server) = match opts.target {
            Some(t) => (t, None),
            None => {
                let config = ServerConfig {
                    faults: opts.faults.clone(),
                    variants: opts.variants.clone(),
                    credentials: None,
                };
                let state = Arc::new(ServerState::with_model(config, model.clone())?);
                let running = rt.block_on(server::serve_state(
                    std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                    state,
                ))?;
                (running.target()?, Some(running))
            }
        };
        if let Some(gateway) = opts.gateway {
            target.gateway = gateway;
        }
        let client = target.client(opts.sending.timeout, 4 << 20)?;
        let oracle = Oracle::new(model.clone())?;
        let sending = sender::Options {
            deadline: None,
            ..opts.sending.options(None)
        };
        let sender = Sender::new(target.clone(), client, sending);
        let keys = sender.keyring();
        let families: Vec<String> = model
            .families
            .iter()
            .filter(|f| opts.families.is_empty() || opts.families.contains(&f.name))
            .filter(|f| target.group_for(f.project_kind).is_some())
            .map(|f| f.name.clone())
            .collect();
        if families.is_empty() {
            return Err(Error::Usage(
                "no family can be explored: no project id was given for the families selected"
                    .into(),
            ));
        }
        let mut engine = Engine {
            rt,
            harness,
            embedded: server.is_some(),
            catalog: Arc::new(Catalog::new(
                model.clone(),
                reach(&target, &families, BTreeSet::new()),
            )),
            target,
            server,
            sender,
            keys,
            oracle,
            pre: Vec::new(),
        };
        let (skip, pre) = engine.take_stock(&families)?;
        engine.pre = pre;
        engine.catalog = Arc::new(Catalog::new(model, reach(&engine.target, &families, skip)));
        Ok(engine)
    }

    /// The embedded target's state (tests switch its faults).
    pub fn embedded_state(&self) -> Option<Arc<ServerState>> {
        self.server.as_ref().map(|s| s.state.clone())
    }

    /// What the target holds before exploring: the types to leave alone, and the same
    /// integrations for the oracle (masked values mask to themselves again).
    fn take_stock(&self, families: &[String]) -> Result<Stock> {
        let model = &self.harness.model;
        let mut skip = BTreeSet::new();
        let mut pre = Vec::new();
        for name in families {
            let family = model.family(name).expect("checked");
            let version = family.versions.last().expect("a family has a version");
            let call = Call {
                family: name.clone(),
                version: version.name.clone(),
                operation: OperationKind::List.as_str().into(),
                query: vec![(model.wire.page.items_per_page.clone(), "500".into())],
                ..Call::default()
            };
            let (request, family) = call.request(model).map_err(Error::Usage)?;
            let step = test_step(request);
            let scrubber = Scrubber::new(self.target.secrets());
            let ex = self
                .rt
                .block_on(self.send_target(family, &step, 0, &scrubber));
            let resp = ex.response.as_ref().ok_or_else(|| {
                Error::Target(format!(
                    "cannot reach {}: {}",
                    self.target.base_url,
                    ex.error.clone().unwrap_or_default()
                ))
            })?;
            if resp.status == 401 {
                return Err(Error::Auth(format!(
                    "the target refuses the credentials (401 on {})",
                    ex.path_and_query()
                )));
            }
            if resp.status != 200 {
                return Err(Error::Target(format!(
                    "listing the {name} integrations answered {}; cannot take stock of the project",
                    resp.status
                )));
            }
            let body = resp.json().unwrap_or(Value::Null);
            let group = self
                .oracle
                .target
                .group_for(family.project_kind)
                .unwrap_or_default()
                .to_owned();
            let wire = &self.harness.model.wire;
            for item in body
                .get(&wire.list.results)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(t) = item.get(&wire.discriminator).and_then(Value::as_str) else {
                    continue;
                };
                skip.insert((format!("{:?}", family.project_kind), t.to_owned()));
                let mut fields: Map<String, Value> = item.as_object().cloned().unwrap_or_default();
                fields.remove(&wire.discriminator);
                let id = fields
                    .remove(&wire.id)
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "000000000000000000000000".into());
                pre.push((
                    group.clone(),
                    name.clone(),
                    Integration {
                        type_name: t.to_owned(),
                        id,
                        fields,
                    },
                ));
            }
        }
        Ok((skip, pre))
    }

    /// Runs one sequence from a clean state; `seen` counts the calls applied (proptest's
    /// shrinking drops the calls after a divergence first).
    pub fn run(&self, calls: &[Call], seen: Option<&AtomicUsize>) -> SequenceOutcome {
        self.rt.block_on(self.sequence(calls, seen))
    }

    async fn sequence(&self, calls: &[Call], seen: Option<&AtomicUsize>) -> SequenceOutcome {
        if let Some(s) = &self.server {
            s.state.reset();
        }
        self.oracle.state.reset_with(&self.pre);
        let model = &self.harness.model;
        let mut out = SequenceOutcome::default();
        let mut ids = IdMap::default();
        let mut secrets: Vec<String> = Vec::new();
        let mut touched: BTreeSet<(String, String)> = BTreeSet::new();
        // Built again only when a call brings a new secret: building one is most of a step's
        // cost against a fast target.
        let mut scrubber = Scrubber::new(self.target.secrets());
        for (i, call) in calls.iter().enumerate() {
            if let Some(seen) = seen {
                seen.store(i + 1, Ordering::Relaxed);
            }
            let known = secrets.len();
            for s in call.secrets(model) {
                if !secrets.contains(&s) {
                    secrets.push(s);
                }
            }
            if secrets.len() != known {
                scrubber = Scrubber::new(secrets.iter().cloned().chain(self.target.secrets()));
            }
            if let (Some(t), Some(k)) = (&call.type_name, call.kind()) {
                if k.writes() {
                    touched.insert((call.family.clone(), t.clone()));
                }
            }
            let result = self
                .step(
                    i,
                    call,
                    false,
                    &mut Sequence {
                        secrets: &secrets,
                        scrubber: &scrubber,
                        ids: &mut ids,
                        out: &mut out,
                    },
                )
                .await;
            out.steps += 1;
            let refused_write = match result {
                Err(d) => {
                    out.divergence = Some(d);
                    break;
                }
                Ok(status) => {
                    call.kind().is_some_and(OperationKind::writes)
                        && (400..500).contains(&status)
                        && call.type_name.is_some()
                }
            };
            if refused_write {
                // A failed request changes nothing: the next read shows the same state.
                let read = call.read_back();
                let result = self
                    .step(
                        i,
                        &read,
                        true,
                        &mut Sequence {
                            secrets: &secrets,
                            scrubber: &scrubber,
                            ids: &mut ids,
                            out: &mut out,
                        },
                    )
                    .await;
                out.steps += 1;
                if let Err(d) = result {
                    out.divergence = Some(d);
                    break;
                }
            }
        }
        if self.server.is_none() {
            self.clean_up(&touched).await;
        }
        out
    }

    /// Deletes what the sequence may have configured on a target that cannot be reset.
    async fn clean_up(&self, touched: &BTreeSet<(String, String)>) {
        let model = &self.harness.model;
        for (family, type_name) in touched {
            let Some(f) = model.family(family) else {
                continue;
            };
            let version = f.versions.last().expect("a family has a version");
            if version.integration_type(type_name).is_none() {
                continue;
            }
            let call = Call::plain(
                family,
                version.name.as_deref(),
                OperationKind::Delete,
                type_name,
            );
            if let Ok((request, family)) = call.request(model) {
                let step = Step {
                    role: Role::Cleanup,
                    ..test_step(request)
                };
                let scrubber = Scrubber::new(self.target.secrets());
                let _ = self.send_target(family, &step, 0, &scrubber).await;
            }
        }
    }

    /// Sends one call to both sides and compares; `Ok` is the oracle's status.
    async fn step(
        &self,
        index: usize,
        call: &Call,
        verify: bool,
        seq: &mut Sequence<'_>,
    ) -> std::result::Result<u16, Divergence> {
        let Sequence {
            secrets,
            scrubber,
            ids,
            out,
        } = seq;
        let (secrets, scrubber): (&[String], &Scrubber) = (secrets, scrubber);
        let model = &self.harness.model;
        let diverged = |messages: Vec<String>| Divergence {
            step: index,
            verify,
            request: String::new(),
            messages,
            expected: String::new(),
            actual: String::new(),
        };
        let (request, family) = call.request(model).map_err(|e| diverged(vec![e]))?;
        let mut all_secrets = secrets.to_vec();
        all_secrets.extend(self.target.secrets());
        let mut step = test_step(request);
        // The judged case has this one step: its exchanges are step 0.
        let t_ex = self.send_target(family, &step, 0, scrubber).await;
        let o_ex = self.oracle.send(family, &step, 0, scrubber).await;
        let Some(o_resp) = o_ex.response.clone() else {
            return Err(diverged(vec![format!(
                "the reference model gave no answer: {}",
                o_ex.error.clone().unwrap_or_default()
            )]));
        };
        step.expect = expectation(model, family, &step.request, call, &o_resp);
        judged_whole_when_read_alike(&mut step, &t_ex);
        if let (Some(class), false) = (&call.class, verify) {
            out.drew(class, &model.wire, &o_resp);
        }
        if let Some(r) = &t_ex.response {
            let code = error_code(&model.wire, r).unwrap_or_default();
            *out.coverage
                .entry((call.operation.clone(), r.status, code))
                .or_default() += 1;
        }
        let case = step_case(family, step, index, secrets);
        let preexisting = check::Preexisting::default();
        let judged = check::judge(
            &check::Context {
                harness: &self.harness,
                family,
                baseline: &preexisting,
                secrets: &all_secrets,
                sent: secrets.len(),
            },
            &case,
            std::slice::from_ref(&t_ex),
        );
        let mut messages: Vec<String> = judged
            .findings
            .iter()
            .map(|f| format!("[{}] {}", f.check, f.message))
            .collect();
        for w in &judged.warnings {
            if let (Some(o), Some(f)) = (&w.object, &w.field) {
                out.warnings.insert(format!("{o}.{f}"));
            }
        }
        if let (Some(o), Some(t)) = (o_resp.json(), t_ex.response.as_ref().and_then(|r| r.json())) {
            if let Some(m) = ids.check(&self.harness.model.wire, &o, &t) {
                messages.push(m);
            }
        }
        // Scrubbed here with the sequence's scrubber rather than by `render` (which would
        // build one per body).
        let t_text = scrubber.clean(&snapshot::render(
            &self.harness.model,
            &case,
            &outcome(&case, t_ex, judged.warnings),
            &volatile(&self.target, Vec::new()),
        ));
        let o_text = scrubber.clean(&snapshot::render(
            &self.harness.model,
            &case,
            &outcome(&case, o_ex, Vec::new()),
            &volatile(&self.oracle.target, Vec::new()),
        ));
        if t_text != o_text {
            messages.push("the normalised answer differs from the reference model's".into());
        }
        if messages.is_empty() {
            return Ok(o_resp.status);
        }
        Err(Divergence {
            step: index,
            verify,
            request: case.steps[0].request.line(),
            // Placeholders for the target's group ids, as the snapshots show them: a
            // reproduction reads the same on every target.
            messages: messages
                .iter()
                .map(|m| {
                    groups(&self.target)
                        .iter()
                        .fold(scrubber.clean(m), |m, (g, name)| {
                            m.replace(g.as_str(), &format!("{{{name}}}"))
                        })
                })
                .collect(),
            expected: o_text,
            actual: t_text,
        })
    }

    async fn send_target(
        &self,
        family: &Family,
        step: &Step,
        index: usize,
        scrubber: &Scrubber,
    ) -> Exchange {
        self.sender
            .send(&self.keys, family, step, index, scrubber)
            .await
    }
}

/// The `errorCode` of an answer, enveloped or not (for the coverage of codes reached).
fn error_code(wire: &Wire, r: &Response) -> Option<String> {
    let v = r.json()?;
    let body = v.get(&wire.envelope.content).cloned().unwrap_or(v);
    body.get(&wire.error.code)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The one-step case the suite's checks judge an exploration step as.
fn step_case(family: &Family, step: Step, index: usize, secrets: &[String]) -> Case {
    Case {
        id: format!(
            "explore/{}/{}/step-{index}",
            family.name, step.request.operation
        ),
        family: family.name.clone(),
        operation: step.request.operation.clone(),
        category: Category::State,
        title: "exploration step".into(),
        lane: match family.project_kind {
            ProjectKind::Atlas => Lane::Atlas,
            ProjectKind::CloudManager => Lane::CloudManager,
        },
        steps: vec![step],
        secrets: secrets.to_vec(),
        touches: Vec::new(),
        requires: Vec::new(),
    }
}

/// An open reading (`Expect::Either`) the target took as the reference model did (a success):
/// its answer is then judged whole, body included, like any success.
fn judged_whole_when_read_alike(step: &mut Step, target: &Exchange) {
    let success = target
        .response
        .as_ref()
        .is_some_and(|r| (200..300).contains(&r.status));
    if !success {
        return;
    }
    for e in &mut step.expect {
        if let Expect::Either { status, .. } = e {
            *e = Expect::Status { status: *status };
        }
    }
}
