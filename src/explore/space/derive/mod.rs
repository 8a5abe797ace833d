//! The classes of the input model, derived from the model: the operations and their methods
//! and paths, the query parameters each operation declares (and those it does not), the media
//! types of each version, the credentials the target offers, the body's JSON kind, and every
//! settable field of every type under every version, by its JSON type, enum, length bounds,
//! pattern or URL rule, secret kind and requiredness.

mod fields;
mod headers;
mod request;
mod values;

use super::{Class, Edit, Kind, Reach, Scope};
use crate::model::{Family, Model, OperationKind, Situation, Version};

struct Out<'a> {
    family: &'a Family,
    /// Whether the target names a project without access.
    no_access: bool,
    classes: Vec<Class>,
}

/// What one class is, before it gets its id.
struct Spec {
    part: String,
    kind: Kind,
    label: String,
    rule: &'static str,
    scope: Scope,
    edit: Edit,
    breaks: Option<Situation>,
    field: Option<String>,
}

impl Out<'_> {
    fn scope(
        &self,
        version: Option<&Version>,
        op: Option<OperationKind>,
        ty: Option<&str>,
    ) -> Scope {
        Scope {
            family: self.family.name.clone(),
            version: version.and_then(|v| v.name.clone()),
            op,
            type_name: ty.map(str::to_owned),
        }
    }

    fn push(&mut self, s: Spec) {
        let id = format!(
            "{}/{}/{}/{}/{}/{}/{}",
            s.scope.family,
            s.scope.version.as_deref().unwrap_or("-"),
            s.scope.op.map_or("-", OperationKind::as_str),
            s.scope.type_name.as_deref().unwrap_or("-"),
            s.part,
            s.kind.as_str(),
            s.label
        );
        self.classes.push(Class {
            id,
            part: s.part,
            kind: s.kind,
            label: s.label,
            rule: s.rule,
            scope: s.scope,
            edit: s.edit,
            breaks: s.breaks,
            field: s.field,
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        part: &str,
        kind: Kind,
        label: &str,
        rule: &'static str,
        scope: Scope,
        edit: Edit,
        breaks: Option<Situation>,
    ) {
        self.push(Spec {
            part: part.to_owned(),
            kind,
            label: label.to_owned(),
            rule,
            scope,
            edit,
            breaks,
            field: None,
        });
    }
}

/// The classes of one part that share a scope (changed between rows where they differ).
struct Rows<'o, 'a> {
    out: &'o mut Out<'a>,
    part: String,
    scope: Scope,
}

impl<'o, 'a> Rows<'o, 'a> {
    fn new(out: &'o mut Out<'a>, part: impl Into<String>, scope: Scope) -> Rows<'o, 'a> {
        Rows {
            out,
            part: part.into(),
            scope,
        }
    }

    fn add(
        &mut self,
        kind: Kind,
        label: &str,
        edit: Edit,
        rule: &'static str,
        s: Option<Situation>,
    ) {
        let scope = self.scope.clone();
        self.out.add(&self.part, kind, label, rule, scope, edit, s);
    }
}

/// Every class of the families `reach` names.
pub(super) fn classes(model: &Model, reach: &Reach) -> Vec<Class> {
    let mut all = Vec::new();
    for family in model
        .families
        .iter()
        .filter(|f| reach.families.contains(&f.name))
    {
        let mut out = Out {
            family,
            no_access: reach.no_access,
            classes: Vec::new(),
        };
        request::methods(&mut out);
        request::paths(&mut out, model);
        request::query(&mut out, model);
        headers::accept(&mut out);
        headers::content_type(&mut out, model);
        headers::credentials(&mut out, reach);
        headers::body_kinds(&mut out);
        for version in &family.versions {
            for ty in &version.types {
                let kind = format!("{:?}", family.project_kind);
                if reach.skip.contains(&(kind, ty.name.clone())) {
                    continue;
                }
                fields::fields(&mut out, model, version, ty);
            }
        }
        all.extend(out.classes);
    }
    all
}
