//! "A failed request changes nothing" over the whole project (contract section 5): for each
//! error situation a family's cases provoke on a write (create, update, delete), one of those
//! cases again with a bystander: another integration type configured first, and the project's
//! whole list read afterwards instead of the addressed type alone. The list must hold exactly
//! what the setups stored (the bystander, and the addressed type when it was configured), so a
//! refused write that touches any other type of the project is caught.
//!
//! Derived from the cases the other generators made, as `error_shape` is: a new refusal row in
//! the spec, or a new way to provoke one, gains its whole-project check without code.

use super::values::{self, Fill};
use super::{first_page, setup_create, Case, Category, Ctx, Expect, Project, Role, View};
use crate::model::{OperationKind, Situation};

/// The scenario suffix of the copy.
const SUFFIX: &str = "bystander-unchanged";

pub(super) fn generate(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    let mut seen: Vec<(String, Situation)> = Vec::new();
    let mut copies = Vec::new();
    for case in out.iter().filter(|c| c.family == cx.family.name) {
        let Some(copy) = with_bystander(cx, case, &mut seen) else {
            continue;
        };
        copies.push(copy);
    }
    out.extend(copies);
}

/// The copy of `case` with a bystander, if `case` is a refused write on the family's own
/// project, judged by one verify step, whose (operation, situation) has no copy yet.
fn with_bystander(cx: &Ctx<'_>, case: &Case, seen: &mut Vec<(String, Situation)>) -> Option<Case> {
    let tests: Vec<_> = case.steps.iter().filter(|s| s.role == Role::Test).collect();
    let [test] = tests.as_slice() else {
        return None;
    };
    let op = cx
        .family
        .operations
        .iter()
        .find(|o| o.id == test.request.operation)?;
    if !op.kind.writes() || test.request.project != Project::Own {
        return None;
    }
    let rule = test.expect.iter().find_map(|e| match e {
        Expect::Error { rule, .. } => Some(rule),
        _ => None,
    })?;
    let key = (op.id.clone(), rule.situation);
    if seen.contains(&key) {
        return None;
    }
    let verifies: Vec<_> = case
        .steps
        .iter()
        .filter(|s| s.role == Role::Verify)
        .collect();
    let [verify] = verifies.as_slice() else {
        return None;
    };
    let version = cx.family.version(verify.request.version.as_deref())?;
    // What the verify step expects of the addressed type: its view, or its absence.
    let addressed = verify.expect.iter().find_map(|e| match e {
        Expect::Single { view } => Some(Some(view.clone())),
        Expect::Error { rule, .. } if rule.situation == Situation::NotConfigured => Some(None),
        _ => None,
    })?;
    let addressed_type = verify.request.path.rsplit('/').next()?;
    let bystander = version
        .types
        .iter()
        .find(|t| t.name != addressed_type && !case.touches.contains(&t.name))?;
    seen.push(key);

    let mut copy = case.clone();
    copy.id = format!("{}-{SUFFIX}", case.id);
    copy.category = Category::State;
    copy.title = format!(
        "{} (and {} configured beside it is unchanged)",
        case.title, bystander.name
    );
    let (setup, stored) = setup_create(cx, version, bystander, Fill::Minimal);
    copy.steps.insert(0, setup);
    copy.touches.push(bystander.name.clone());
    copy.steps.push(super::build::cleanup(cx, &bystander.name));
    for s in values::secrets_of(bystander, &stored) {
        if !copy.secrets.contains(&s) {
            copy.secrets.push(s);
        }
    }
    let mut all = vec![View {
        type_name: bystander.name.clone(),
        object: values::view(bystander, &stored),
    }];
    all.extend(addressed);
    let list = cx.op(OperationKind::List);
    for step in copy.steps.iter_mut().filter(|s| s.role == Role::Verify) {
        step.request = cx.request(OperationKind::List, version, None);
        step.expect = vec![
            Expect::Status {
                status: list.success_status,
            },
            first_page(cx, all.clone()),
        ];
    }
    Some(copy)
}
