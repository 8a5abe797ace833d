//! Taking stock of a target before any case runs: the integrations each family version already
//! holds (which the runner never touches), and whether the family can be judged at all.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Runner;
use crate::case::{Body, Credential, Project, Role, Step};
use crate::error::{Error, Result};
use crate::model::{Family, OperationKind, ProjectKind, Version, Wire};
use crate::scrub::Scrubber;

impl Runner<'_> {
    /// The integrations the target already has, per version; `Ok(Err(reason))` when the family
    /// cannot be judged at all on this target.
    pub(super) async fn fetch_baseline(
        &mut self,
        family: &Family,
    ) -> Result<std::result::Result<(), String>> {
        let Some(group) = self.target.group_for(family.project_kind) else {
            return Ok(Err(format!(
                "no {} project id was given (skipping the {} family)",
                match family.project_kind {
                    ProjectKind::Atlas => "Atlas",
                    ProjectKind::CloudManager => "Cloud Manager",
                },
                family.name
            )));
        };
        let keys = self.sender.keyring();
        let wire = &self.harness.model.wire;
        for version in &family.versions {
            let step = stock_request(wire, family, version, group);
            let ex = self
                .sender
                .send(
                    &keys,
                    family,
                    &step,
                    0,
                    &Scrubber::new(self.target.secrets()),
                )
                .await;
            let Some(resp) = &ex.response else {
                let error = ex.error.unwrap_or_default();
                // The credentials failed before anything was sent (an OAuth token refused).
                if let Some(auth) = error.strip_prefix("auth: ") {
                    return Err(Error::Auth(auth.to_owned()));
                }
                return Err(Error::Target(format!(
                    "cannot reach {}: {error}",
                    self.target.base_url
                )));
            };
            if let Some(refusal) = list_refused(family, resp.status, &ex.path_and_query()) {
                return refusal;
            }
            if let Some(e) = &ex.error {
                return Err(Error::Target(format!(
                    "reading the list of {} failed: {e}",
                    family.base_path
                )));
            }
            if resp.truncated {
                return Err(Error::Target(format!(
                    "the list of {} is larger than the {} byte cap; cannot take stock of the project",
                    family.base_path, self.opts.body_cap
                )));
            }
            let body = resp.json().ok_or_else(|| {
                Error::Target(format!(
                    "the list of {} is not JSON; cannot take stock of the project",
                    family.base_path
                ))
            })?;
            let objects = objects(wire, body);
            self.baseline
                .objects
                .insert((family.name.clone(), version.label().to_owned()), objects);
        }
        Ok(Ok(()))
    }
}

/// The list request that takes stock of one family version: the first page, as large as the
/// contract allows.
fn stock_request(wire: &Wire, family: &Family, version: &Version, group: &str) -> Step {
    let list = family.operation(OperationKind::List);
    let request = crate::case::Request {
        method: list.method.clone(),
        project: Project::Literal(group.to_owned()),
        path: "/integrations".into(),
        base_path: family.base_path.clone(),
        query: vec![
            (wire.page.items_per_page.clone(), "500".into()),
            (wire.page.page_num.clone(), "1".into()),
        ],
        accept: Some(version.media_type.clone()),
        content_type: None,
        body: Body::None,
        credential: Credential::Owner,
        operation: list.id.clone(),
        version: version.name.clone(),
    };
    Step {
        role: Role::Setup,
        request,
        expect: Vec::new(),
        baseline: None,
    }
}

/// What a list status other than 200 means for the run: refused credentials and unexpected
/// statuses stop it, an unreadable or unserved project only skips the family.
fn list_refused(
    family: &Family,
    status: u16,
    path_and_query: &str,
) -> Option<Result<std::result::Result<(), String>>> {
    match status {
        200 => None,
                401 => {
                Some(Err(Error::Auth(format!(
                    "the target refuses the credentials (401 on {path_and_query})"
                ))))
            }
            403 => {
                Some(Ok(Err(format!(
                    "the credentials cannot read the {} project (403)",
                    family.name
                ))))
            }
            404 => {
                Some(Ok(Err(format!(
                    "the target does not serve {} for this project (404 on list)",
                    family.base_path
                ))))
            }
            s => {
                Some(Err(Error::Target(format!(
                    "listing the project's integrations answered {s}; cannot judge a target whose list fails"
                ))))
            }
        }
}

/// The integrations of a list body (enveloped or not), by type.
fn objects(wire: &Wire, body: Value) -> BTreeMap<String, Value> {
    let (content, results) = (&wire.envelope.content, &wire.list.results);
    let body = match body.get(content) {
        Some(inner) if body.get(results).is_none() => inner.clone(),
        _ => body,
    };
    let mut objects = BTreeMap::new();
    for item in body
        .get(results)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(t) = item.get(&wire.discriminator).and_then(Value::as_str) {
            objects.insert(t.to_owned(), item.clone());
        }
    }
    objects
}
