//! Stage 4: send the cases to a target and judge them.
//!
//! Cases that share a project run in that project's lane (the two Atlas families share one):
//! first the cases that address one integration type and can answer no list, one lane per type
//! and all at once, then the rest one after the other in id order. Project lanes, and cases that
//! touch no project, run concurrently. One keep-alive connection pool, validators built once,
//! `TCP_NODELAY` on. The runner never touches an integration type that already existed on the
//! target: it skips the cases that would.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http::Method;
use tokio::sync::Semaphore;

use crate::auth::AuthSpec;
use crate::case::{Body, Case, Credential, Expect, Lane, Project, Requirement, Role, Step};
use crate::error::Result;
use crate::exchange::Exchange;
use crate::model::{Family, Model, OperationKind};
use crate::scrub::Scrubber;
use crate::sender::{Sender, Sending};
use crate::transport::Target;

mod exec;
mod lane;
mod schedule;
mod stock;

pub use exec::ISOLATED;
pub use lane::REPLAYED;

pub use crate::check::Preexisting;
pub use crate::harness::Harness;
pub use crate::outcome::{Outcome, RunReport, Verdict};

/// Called with each finished case (for progress display).
pub type Progress = Arc<dyn Fn(&Outcome) + Send + Sync>;

/// How to run.
#[derive(Clone)]
pub struct RunOptions {
    /// Timeout, pacing, the 429 policy, and the wall-clock budget for the whole run (cases not
    /// started by then are not run).
    pub sending: Sending,
    /// Cases running at the same time (lanes never run their own cases concurrently).
    pub jobs: usize,
    /// Response bodies are read up to this many bytes.
    pub body_cap: usize,
    pub progress: Option<Progress>,
    /// Set to stop starting cases (Ctrl-C); running cases finish and everything is cleaned up.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            sending: Sending::default(),
            jobs: 8,
            body_cap: 4 * 1024 * 1024,
            progress: None,
            cancel: None,
        }
    }
}

struct Runner<'a> {
    harness: &'a Harness,
    target: &'a Target,
    /// Sends every request of the run: credentials, retries, pacing, the request count.
    sender: Sender,
    opts: &'a RunOptions,
    deadline: Option<Instant>,
    baseline: Preexisting,
    limit: Semaphore,
    /// Cases that expire the target's nonces or tokens affect every lane: they run alone.
    exclusive: tokio::sync::RwLock<()>,
}

/// Run `cases` against `target`.
pub async fn run(
    harness: &Harness,
    cases: &[Case],
    target: &Target,
    opts: &RunOptions,
) -> Result<RunReport> {
    let started = SystemTime::now();
    let client = target.client(opts.sending.timeout, opts.body_cap)?;
    let sending = opts.sending.options(opts.cancel.clone());
    let deadline = sending.deadline;
    let mut runner = Runner {
        harness,
        target,
        sender: Sender::new(target.clone(), client, sending),
        opts,
        deadline,
        baseline: Preexisting::default(),
        limit: Semaphore::new(opts.jobs.max(1)),
        exclusive: tokio::sync::RwLock::new(()),
    };
    let families: BTreeSet<&str> = cases.iter().map(|c| c.family.as_str()).collect();
    let mut unavailable: BTreeMap<String, String> = BTreeMap::new();
    for family in harness
        .model
        .families
        .iter()
        .filter(|f| families.contains(f.name.as_str()))
    {
        if let Err(reason) = runner.fetch_baseline(family).await? {
            unavailable.insert(family.name.clone(), reason);
        }
    }
    let mut pre_existing = BTreeMap::new();
    for ((family, _), objects) in &runner.baseline.objects {
        let e: &mut Vec<String> = pre_existing.entry(family.clone()).or_default();
        for t in objects.keys() {
            if !e.contains(t) {
                e.push(t.clone());
            }
        }
    }

    let type_names = runner.type_names();
    let Lanes {
        mut serial,
        mut per_type,
    } = Lanes::split(&type_names, cases);
    for lane in per_type.keys() {
        serial.entry((*lane, 0)).or_default();
    }
    let runner = &runner;
    let unavailable = &unavailable;
    let lane_futures = serial.into_iter().map(|((lane, _), lane_cases)| {
        let per_type = per_type.remove(&lane).unwrap_or_default();
        async move {
            let mut out: Vec<Outcome> = futures_util::future::join_all(
                per_type
                    .into_values()
                    .map(|c| runner.serial(c, unavailable)),
            )
            .await
            .into_iter()
            .flatten()
            .collect();
            out.extend(runner.serial(lane_cases, unavailable).await);
            out
        }
    });
    // The lanes borrow the runner, so they are polled together on this task rather than spawned.
    let mut outcomes: Vec<Outcome> = futures_util::future::join_all(lane_futures)
        .await
        .into_iter()
        .flatten()
        .collect();
    outcomes.sort_by(|a, b| a.id.cmp(&b.id));
    let (swept, not_cleaned_up) = runner.sweep(cases, &outcomes).await;
    Ok(RunReport {
        started,
        finished: SystemTime::now(),
        requests: runner.sender.requests(),
        pre_existing,
        interrupted: runner.cancelled(),
        deadline_reached: outcomes
            .iter()
            .any(|o| matches!(&o.verdict, Verdict::Skipped(r) if r.starts_with(DEADLINE))),
        outcomes,
        swept,
        not_cleaned_up,
    })
}

/// The one integration type a case addresses, when every request it sends goes to that type's
/// path in the case's own project and no judged step can answer a list (a list page, or a
/// create or update that may succeed: its answer lists every type, and snapshots record it):
/// such a case sees the same thing whatever is done at the same time to another type.
fn type_local<'a>(case: &Case, type_names: &BTreeSet<&'a str>) -> Option<&'a str> {
    let mut found: Option<&'a str> = None;
    for step in &case.steps {
        let judged = matches!(step.role, Role::Test | Role::Verify | Role::Concurrent);
        let refused = step.expect.iter().any(|e| {
            matches!(
                e,
                Expect::Error { .. } | Expect::Challenge { .. } | Expect::OAuthError { .. }
            )
        });
        let writes = step.request.method == Method::POST.as_str()
            || step.request.method == Method::PUT.as_str();
        if step.request.project != Project::Own
            || step.expect.iter().any(|e| matches!(e, Expect::Page { .. }))
            || judged && writes && !refused
        {
            return None;
        }
        let last = step.request.path.rsplit('/').next()?;
        let name = type_names.get(last).copied()?;
        match found {
            Some(t) if t != name => return None,
            _ => found = Some(name),
        }
    }
    found
}

/// Every integration type name of `model` (each family, version and unsupported type).
fn type_names_of(model: &Model) -> BTreeSet<&str> {
    let mut names = BTreeSet::new();
    for family in &model.families {
        for version in &family.versions {
            names.extend(version.types.iter().map(|t| t.name.as_str()));
        }
    }
    names
}

/// A run's serial lanes. Lanes: each runs its cases in order; the stateless cases are spread
/// over two lanes. A project's lane first runs, one lane per integration type and all at once,
/// the cases that address one type and never read a list (nothing another type does can change
/// what they see), then the rest one after the other.
struct Lanes<'c, 'm> {
    /// A project's lane (or one of the two stateless lanes) and its cases.
    serial: BTreeMap<(Lane, usize), Vec<&'c Case>>,
    /// A project's lanes of one type each.
    per_type: BTreeMap<Lane, BTreeMap<&'m str, Vec<&'c Case>>>,
}

impl<'c, 'm> Lanes<'c, 'm> {
    fn split(type_names: &BTreeSet<&'m str>, cases: &'c [Case]) -> Self {
        let mut serial: BTreeMap<(Lane, usize), Vec<&Case>> = BTreeMap::new();
        let mut per_type: BTreeMap<Lane, BTreeMap<&str, Vec<&Case>>> = BTreeMap::new();
        let mut stateless = 0usize;
        for case in cases {
            match case.lane {
                Lane::Stateless => {
                    stateless += 1;
                    serial
                        .entry((Lane::Stateless, stateless % 2))
                        .or_default()
                        .push(case);
                }
                lane => match type_local(case, type_names) {
                    Some(t) => per_type
                        .entry(lane)
                        .or_default()
                        .entry(t)
                        .or_default()
                        .push(case),
                    None => serial.entry((lane, 0)).or_default().push(case),
                },
            }
        }
        Lanes { serial, per_type }
    }

    /// Every lane's cases, each lane on its own.
    fn all(self) -> Vec<Vec<&'c Case>> {
        let mut all: Vec<Vec<&'c Case>> = self.serial.into_values().collect();
        all.extend(self.per_type.into_values().flat_map(BTreeMap::into_values));
        all
    }
}

/// The keyrings a run of `cases` signs with: one per lane that has cases (a project's lane, its
/// lanes of one type, the two stateless lanes), one per family's stock and one for the sweep.
/// A digest target answers the first request each signs with a challenge: one request more.
pub fn keyrings(model: &Model, cases: &[Case]) -> usize {
    let names = type_names_of(model);
    let families: BTreeSet<&str> = cases.iter().map(|c| c.family.as_str()).collect();
    let lanes = Lanes::split(&names, cases)
        .all()
        .into_iter()
        .filter(|l| !l.is_empty())
        .count();
    lanes + families.len() + usize::from(!cases.is_empty())
}

/// The cases of a run in the order their lanes run them, each with the requests it sends when
/// every case passes, as the lanes' plans send them (shared setups, one read per batch, cleanups
/// only where the state changes; see [`schedule::planned`]); without the stock, the sweep and
/// the challenges.
pub fn planned<'c>(model: &Model, cases: &'c [Case]) -> Vec<(&'c Case, usize)> {
    let names = type_names_of(model);
    Lanes::split(&names, cases)
        .all()
        .into_iter()
        .flat_map(schedule::planned)
        .collect()
}

/// Why `target` cannot run `case` of `family` (what the case requires and the target lacks);
/// `None` when it can. Known before any request: the quick plan leaves such cases out as the
/// run skips them.
pub fn unmet_requirement(target: &Target, family: &Family, case: &Case) -> Option<&'static str> {
    let other_kind = family.project_kind.other();
    case.requires.iter().find_map(|r| match r {
        Requirement::ReadOnlyCredentials => target
            .read_only
            .is_none()
            .then_some("no read-only credentials were given (--readonly-auth)"),
        Requirement::NoAccessProject => target
            .other_group_id
            .is_none()
            .then_some("no project without access was given (--other-group-id)"),
        Requirement::OtherKindProject => target
            .group_for(other_kind)
            .is_none()
            .then_some("no project of the other kind was given (--group-id and --cm-group-id)"),
        Requirement::Digest => (!matches!(target.auth, AuthSpec::Digest { .. })).then_some(
            "the credentials are not digest credentials (--auth digest:PUBLIC_KEY:PRIVATE_KEY)",
        ),
        Requirement::TokenExpiry => target.token_expirer.is_none().then_some(
            "needs a bearer token the target issued and that has expired \
             (--expired-token or CONFORMANCE_EXPIRED_TOKEN)",
        ),
        Requirement::NonceExpiry => target
            .nonce_expirer
            .is_none()
            .then_some("only the embedded server can expire a nonce on demand"),
        Requirement::EmptyProject => None,
        Requirement::OAuthClient => target
            .token_client()
            .is_none()
            .then_some("no OAuth client credentials were given (--oauth-client CLIENT_ID:SECRET)"),
    })
}

fn skipped(case: &Case, reason: String) -> Outcome {
    let mut outcome = Outcome::judged(case, Vec::new(), Vec::new(), Vec::new(), Duration::ZERO);
    outcome.verdict = Verdict::Skipped(reason);
    outcome
}

const DEADLINE: &str = "the run's deadline was reached";
const INTERRUPTED: &str = "the run was interrupted";

impl Runner<'_> {
    fn cancelled(&self) -> bool {
        self.opts
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// After every lane: remove whatever the run configured that is still there (a case that was
    /// cut short, a target that ignored a delete), never what existed before the run.
    async fn sweep(&self, cases: &[Case], outcomes: &[Outcome]) -> (Vec<String>, Vec<String>) {
        let ran: BTreeSet<&str> = outcomes
            .iter()
            .filter(|o| !matches!(o.verdict, Verdict::Skipped(_)))
            .map(|o| o.id.as_str())
            .collect();
        let mut touched: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for case in cases.iter().filter(|c| ran.contains(c.id.as_str())) {
            for t in &case.touches {
                touched
                    .entry(case.family.as_str())
                    .or_default()
                    .insert(t.as_str());
            }
        }
        let keys = self.sender.keyring();
        let scrubber = Scrubber::new(self.target.secrets());
        let (mut swept, mut failed) = (Vec::new(), Vec::new());
        for (family_name, types) in touched {
            let family = self.family(family_name);
            let Some(version) = family.versions.last() else {
                continue;
            };
            let pre = self.baseline.for_version(family_name, version.label());
            for t in types {
                if pre.iter().any(|(name, _)| name == t) {
                    continue;
                }
                // A delete of what is already gone is a 404: nothing was left behind.
                let delete = sweep_step(family, version, OperationKind::Delete, t);
                let ex = self
                    .sender
                    .send_once(&keys, family, &delete, 0, &scrubber)
                    .await;
                match ex.response.as_ref().map(|r| r.status) {
                    Some(404) => {}
                    Some(s) if (200..300).contains(&s) => swept.push(format!("{family_name} {t}")),
                    other => failed.push(format!(
                        "{family_name} {t}: delete answered {}",
                        describe_status(other, &ex)
                    )),
                }
            }
        }
        (swept, failed)
    }

    /// Every integration type name of the model (each family, version and unsupported type).
    fn type_names(&self) -> BTreeSet<&str> {
        type_names_of(&self.harness.model)
    }

    fn family(&self, name: &str) -> &Family {
        self.harness
            .model
            .family(name)
            .expect("cases come from this model")
    }

    fn skip_reason(&self, case: &Case, unavailable: &BTreeMap<String, String>) -> Option<String> {
        if let Some(reason) = unavailable.get(&case.family) {
            return Some(reason.clone());
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Some(format!("{DEADLINE} before this case started"));
        }
        if self.cancelled() {
            return Some(format!("{INTERRUPTED} before this case started"));
        }
        let family = self.family(&case.family);
        if let Some(m) = unmet_requirement(self.target, family, case) {
            return Some(m.to_owned());
        }
        for version in &family.versions {
            let pre = self.baseline.for_version(&family.name, version.label());
            for t in &case.touches {
                if pre.iter().any(|(name, _)| name == t) {
                    return Some(format!(
                        "{t} already exists on the target; the harness never changes an integration it did not create"
                    ));
                }
            }
        }
        None
    }
}

fn sweep_step(
    family: &Family,
    version: &crate::model::Version,
    kind: OperationKind,
    type_name: &str,
) -> Step {
    let op = family.operation(kind);
    Step {
        role: Role::Cleanup,
        request: crate::case::Request {
            method: op.method.clone(),
            project: Project::Own,
            path: format!("/integrations/{type_name}"),
            base_path: family.base_path.clone(),
            query: Vec::new(),
            accept: Some(version.media_type.clone()),
            content_type: None,
            body: Body::None,
            credential: Credential::Owner,
            operation: op.id.clone(),
            version: version.name.clone(),
        },
        expect: Vec::new(),
        baseline: None,
    }
}

fn describe_status(status: Option<u16>, ex: &Exchange) -> String {
    match status {
        Some(s) => s.to_string(),
        None => ex.error.clone().unwrap_or_else(|| "no answer".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which generated cases may run in a lane of their own type: a get of an unconfigured type
    /// may, a create (it answers the whole list) or a page walk may not.
    #[test]
    fn only_cases_of_one_type_that_read_no_list_run_in_a_type_lane() {
        let model = crate::model::bundled().unwrap();
        let cases = crate::case::generate(&model);
        let mut names = BTreeSet::new();
        for family in &model.families {
            for version in &family.versions {
                names.extend(version.types.iter().map(|t| t.name.as_str()));
            }
        }
        let local = |id: &str| {
            let case = cases.iter().find(|c| c.id == id).unwrap();
            type_local(case, &names)
        };
        let first = model.families[0].versions[0].types[0].name.as_str();
        let slug = crate::case::kebab(first);
        let family = &model.families[0];
        let get = &family.operation(OperationKind::Get).id;
        let create = &family.operation(OperationKind::Create).id;
        let list = &family.operation(OperationKind::List).id;
        assert_eq!(
            local(&format!("{}/{get}/{slug}-not-configured", family.name)),
            Some(first)
        );
        assert_eq!(
            local(&format!("{}/{create}/{slug}-accepts-minimal", family.name)),
            None
        );
        assert_eq!(
            local(&format!("{}/{list}/walk-items-per-page-1", family.name)),
            None
        );
        // A create answers the whole list, which its snapshot records.
        assert_eq!(
            local(&format!(
                "{}/{create}/{slug}-masked-in-create-list",
                family.name
            )),
            None
        );
        let n = cases
            .iter()
            .filter(|c| c.lane != Lane::Stateless && type_local(c, &names).is_some())
            .count();
        assert!(n > 100, "{n} cases in type lanes");
    }
}
