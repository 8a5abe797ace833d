//! Reproductions kept as regressions: every `regressions/*.json` (a `repro-SEED.json` that
//! `conformance explore` wrote, copied there) becomes one ordinary case, which `conformance run`
//! and `cargo test` then run like any generated case.
//!
//! The expectations of each call come from the faithful reference server, in process: its
//! status and catalogue row for a refusal (at the row's level), the exact page or object for a
//! success (ids as assigned), and no body for a 204. A reproduction must use one family: a
//! case's requests all go to its family's project.

use std::path::Path;

use serde_json::Value;

use crate::case::values::ASSIGNED;
use crate::case::{
    Case, Category, Credential, Expect, Lane, PageExpect, Project, Requirement, Role, Step, View,
};
use crate::error::{Error, Result};
use crate::model::{Family, Model, OperationKind, ProjectKind, Wire};
use crate::scrub::Scrubber;

use super::oracle::{expectation, test_step, Oracle};
use super::{Call, Reproduction, Who};

/// The folder, under the crate root, that holds the regressions.
pub const DIR: &str = "regressions";

/// The cases of every reproduction in `dir` (none when it does not exist), in file-name order.
/// Only `*.json` reproductions belong there: any other file (hidden ones and folders aside) is
/// an error that names it, as is a JSON file of another shape.
pub fn cases(model: &Model, dir: &Path) -> Result<Vec<Case>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    if let Some(other) = files
        .iter()
        .find(|p| p.extension().is_none_or(|x| x != "json"))
    {
        return Err(Error::Usage(format!(
            "{} is not a kept reproduction: the regressions directory holds only the *.json \
             files `conformance explore` writes (move it elsewhere, or point --regressions at \
             another directory)",
            other.display()
        )));
    }
    if files.is_empty() {
        return Ok(Vec::new());
    }
    // On a thread of its own, so that a caller inside a runtime may load them too.
    std::thread::scope(|scope| {
        scope
            .spawn(|| load(model, &files))
            .join()
            .unwrap_or_else(|_| Err(Error::Target("loading the regressions failed".into())))
    })
}

fn load(model: &Model, files: &[std::path::PathBuf]) -> Result<Vec<Case>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let oracle = Oracle::new(model.clone())?;
    files
        .iter()
        .map(|path| {
            let repro = Reproduction::load(path)?;
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            rt.block_on(case(model, &oracle, &stem, &repro))
                .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))
        })
        .collect()
}

/// The object as a view: the read-only (server-assigned) fields as [`ASSIGNED`].
fn view(wire: &Wire, family: &Family, version: Option<&str>, object: &Value) -> Option<View> {
    let type_name = object.get(&wire.discriminator)?.as_str()?.to_owned();
    let mut object = object.as_object()?.clone();
    if let Some(t) = family
        .version(version)
        .and_then(|v| v.integration_type(&type_name))
    {
        for f in t.fields.iter().filter(|f| f.read_only) {
            if object.contains_key(&f.name) {
                object.insert(f.name.clone(), Value::String(ASSIGNED.into()));
            }
        }
    }
    Some(View {
        type_name,
        object: Value::Object(object),
    })
}

fn query_u64(call: &Call, name: &str, default: u64) -> u64 {
    call.query
        .iter()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(default)
}

async fn case(model: &Model, oracle: &Oracle, stem: &str, repro: &Reproduction) -> Result<Case> {
    let first = repro
        .steps
        .first()
        .ok_or_else(|| Error::Usage("the reproduction has no step".into()))?;
    if let Some(other) = repro.steps.iter().find(|c| c.family != first.family) {
        return Err(Error::Usage(format!(
            "a regression must use one family; this one uses {} and {}",
            first.family, other.family
        )));
    }
    let calls = repro.calls(model)?;
    oracle.state.reset();
    let scrubber = Scrubber::new(Vec::new());
    let mut steps = Vec::new();
    let mut secrets: Vec<String> = Vec::new();
    let mut touches: Vec<String> = Vec::new();
    let mut requires: Vec<Requirement> = Vec::new();
    let mut family_name = String::new();
    let mut last_operation = String::new();
    for call in &calls {
        let (request, family) = call.request(model).map_err(Error::Usage)?;
        family_name = family.name.clone();
        last_operation = request.operation.clone();
        for s in call.secrets(model) {
            if !secrets.contains(&s) {
                secrets.push(s);
            }
        }
        let kind = call.kind().unwrap_or(OperationKind::Get);
        if let (true, Some(t)) = (kind.writes(), &call.type_name) {
            if family
                .versions
                .iter()
                .any(|v| v.integration_type(t).is_some())
                && !touches.contains(t)
            {
                touches.push(t.clone());
            }
        }
        match (call.credential, call.project) {
            (Who::ReadOnly, _) => requires.push(Requirement::ReadOnlyCredentials),
            (_, super::Where::OtherKind) => requires.push(Requirement::OtherKindProject),
            (_, super::Where::NoAccess) => requires.push(Requirement::NoAccessProject),
            _ => {}
        }
        if matches!(
            call.credential,
            Who::WrongPassword | Who::ForgedNonce | Who::OtherUri | Who::ReplayedNonceCount
        ) {
            requires.push(Requirement::Digest);
        }
        let (step, status) = judged_step(model, oracle, call, Role::Test, &scrubber).await?;
        steps.push(step);
        if kind.writes() && call.type_name.is_some() && (400..500).contains(&status) {
            // As exploration does: a refused write changes nothing, which the next read shows.
            let read = call.read_back();
            steps.push(
                judged_step(model, oracle, &read, Role::Verify, &scrubber)
                    .await?
                    .0,
            );
        }
    }
    let family = model
        .family(&family_name)
        .ok_or_else(|| Error::Usage(format!("unknown family {family_name:?}")))?;
    steps.extend(cleanup_steps(model, family, &touches)?);
    Ok(Case {
        id: format!(
            "{}/{last_operation}/regression-{}",
            family.name,
            crate::case::kebab(stem)
        ),
        family: family.name.clone(),
        operation: last_operation,
        category: Category::State,
        title: format!(
            "regression {stem}: {} calls from exploration seed {} ({})",
            repro.steps.len(),
            repro.seed,
            repro
                .divergence
                .messages
                .first()
                .cloned()
                .unwrap_or_default()
        ),
        lane: match family.project_kind {
            ProjectKind::Atlas => Lane::Atlas,
            ProjectKind::CloudManager => Lane::CloudManager,
        },
        steps,
        secrets,
        touches,
        requires,
    })
}

/// Deletes of every type the regression configured, as the case's cleanup.
fn cleanup_steps(model: &Model, family: &Family, touches: &[String]) -> Result<Vec<Step>> {
    let version = family.versions.last().expect("a family has a version");
    let mut steps = Vec::new();
    for t in touches {
        let delete = family.operation(OperationKind::Delete);
        let mut request = test_step(
            Call::plain(
                &family.name,
                version.name.as_deref(),
                OperationKind::Delete,
                t,
            )
            .request(model)
            .map_err(Error::Usage)?
            .0,
        )
        .request;
        request.credential = Credential::Owner;
        request.project = Project::Own;
        request.operation = delete.id.clone();
        steps.push(Step {
            role: Role::Cleanup,
            request,
            expect: Vec::new(),
            baseline: None,
        });
    }
    Ok(steps)
}

/// A call as a step whose expectations are the oracle's answer; and the oracle's status.
async fn judged_step(
    model: &Model,
    oracle: &Oracle,
    call: &Call,
    role: Role,
    scrubber: &Scrubber,
) -> Result<(Step, u16)> {
    let (request, family) = call.request(model).map_err(Error::Usage)?;
    let kind = call.kind().unwrap_or(OperationKind::Get);
    let step = test_step(request);
    let ex = oracle.send(family, &step, 0, scrubber).await;
    let resp = ex
        .response
        .ok_or_else(|| Error::Target("the reference model gave no answer".into()))?;
    let mut expect = Vec::new();
    if (200..300).contains(&resp.status) {
        expect.push(Expect::Status {
            status: resp.status,
        });
        let enveloped = step.request.enveloped(&model.wire);
        match resp.json() {
            None => expect.push(Expect::Empty),
            Some(json) => {
                if enveloped {
                    expect.push(Expect::Enveloped {
                        status: resp.status,
                    });
                }
                if kind.returns_list() {
                    let all = everything(model, oracle, call, scrubber).await?;
                    let include_count = call
                        .query
                        .iter()
                        .find(|(k, _)| *k == model.wire.page.include_count)
                        .is_none_or(|(_, v)| v != "false");
                    expect.push(Expect::Page {
                        page: PageExpect {
                            all: all
                                .iter()
                                .filter_map(|o| {
                                    view(&model.wire, family, call.version.as_deref(), o)
                                })
                                .collect(),
                            page_num: query_u64(call, &model.wire.page.page_num, 1),
                            items_per_page: query_u64(call, &model.wire.page.items_per_page, 100),
                            include_count,
                            total_count: include_count || !family.include_count_honoured,
                        },
                    });
                } else {
                    let object = if enveloped {
                        json.get(&model.wire.envelope.content)
                            .cloned()
                            .unwrap_or(Value::Null)
                    } else {
                        json
                    };
                    if let Some(v) = view(&model.wire, family, call.version.as_deref(), &object) {
                        expect.push(Expect::Single { view: v });
                    }
                }
            }
        }
    } else {
        expect = expectation(model, family, &step.request, call, &resp);
    }
    Ok((
        Step {
            role,
            expect,
            ..step
        },
        resp.status,
    ))
}

/// Every integration the project holds now, as the call's family and version list them.
async fn everything(
    model: &Model,
    oracle: &Oracle,
    call: &Call,
    scrubber: &Scrubber,
) -> Result<Vec<Value>> {
    let list = Call {
        family: call.family.clone(),
        version: call.version.clone(),
        operation: OperationKind::List.as_str().into(),
        query: vec![(model.wire.page.items_per_page.clone(), "500".into())],
        ..Call::default()
    };
    let (request, family) = list.request(model).map_err(Error::Usage)?;
    let ex = oracle.send(family, &test_step(request), 0, scrubber).await;
    Ok(ex
        .response
        .and_then(|r| r.json())
        .and_then(|v| v.get(&model.wire.list.results).cloned())
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default())
}
