//! The request line: the method, the path and its segments, the query.

use std::collections::BTreeMap;

use super::{Out, Rows};
use crate::explore::gen::Where;
use crate::explore::space::{Edit, Kind};
use crate::model::{Family, Model, OperationKind, ParamKind, QueryParam, Situation};

/// A method the path does not serve: 405 with `Allow`.
pub(super) fn methods(out: &mut Out<'_>) {
    let f = out.family;
    for typed in [false, true] {
        let served: Vec<&str> = f
            .operations
            .iter()
            .filter(|o| o.kind.has_type() == typed)
            .map(|o| o.method.as_str())
            .collect();
        // The operation whose path it is: a write where there is one, so a body goes along.
        let (op, part) = if typed {
            (OperationKind::Update, "method (type path)")
        } else {
            (OperationKind::List, "method (list path)")
        };
        let scope = out.scope(None, Some(op), None);
        let mut rows = Rows::new(out, part, scope);
        for m in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            if !served.contains(&m) {
                let no = Some(Situation::MethodNotAllowed);
                let edit = Edit::Method(m.to_owned());
                rows.add(Kind::Foreign, m, edit, "8.method-not-allowed", no);
            }
        }
    }
}

/// Path shapes, and the group id's and the type's segments.
pub(super) fn paths(out: &mut Out<'_>, model: &Model) {
    let path = |p: &str| Edit::Path(p.to_owned());
    let get = Some(OperationKind::Get);
    let list = Some(OperationKind::List);
    let unknown = Some(Situation::UnknownPath);
    let rule = "8.unknown-path";
    let scope = out.scope(None, get, None);
    let mut rows = Rows::new(&mut *out, "path shape", scope);
    rows.add(
        Kind::Malformed,
        "trailing slash",
        path("/integrations/{type}/"),
        rule,
        unknown,
    );
    rows.add(
        Kind::Repeated,
        "double slash",
        path("/integrations//{type}"),
        rule,
        unknown,
    );
    let twice = path("/integrations/{type}/{type}");
    rows.add(Kind::Repeated, "type segment twice", twice, rule, unknown);
    rows.scope.op = list;
    let slash = path("/integrations/");
    rows.add(
        Kind::Malformed,
        "trailing slash on the list",
        slash,
        rule,
        unknown,
    );
    let after = path("//integrations");
    rows.add(
        Kind::Repeated,
        "double slash after the group",
        after,
        rule,
        unknown,
    );

    let scope = out.scope(None, get, None);
    let group = format!("path {}", group_param(out.family));
    let mut rows = Rows::new(&mut *out, group, scope);
    let (bad, invalid) = (Some(Situation::InvalidGroupId), "5.invalid-group-id");
    // What follows the group id is written right after it: a suffix makes another segment.
    let space = path("%20/integrations/{type}");
    rows.add(Kind::Whitespace, "a space after it", space, invalid, bad);
    let longer = path("0/integrations/{type}");
    rows.add(Kind::PastBoundary, "25 hex digits", longer, invalid, bad);
    let non_hex = path("g/integrations/{type}");
    rows.add(
        Kind::Malformed,
        "a non-hex digit after it",
        non_hex,
        invalid,
        bad,
    );
    rows.scope.op = None;
    let projects = [
        (
            true,
            "a well-formed id of no project",
            Where::NoProject,
            "5.group-not-found",
        ),
        (
            rows.out.no_access,
            "a project without access",
            Where::NoAccess,
            "5.no-access",
        ),
        (
            true,
            "a project of the other kind",
            Where::OtherKind,
            "5.atlas-group",
        ),
    ];
    for (offered, label, project, rule) in projects {
        let situation = match project {
            Where::NoProject => Situation::GroupNotFound,
            Where::NoAccess => Situation::NoProjectAccess,
            _ => Situation::WrongProjectKind,
        };
        if offered {
            rows.add(
                Kind::Foreign,
                label,
                Edit::Project(project),
                rule,
                Some(situation),
            );
        }
    }
    type_segments(out, model);
}

/// The path parameter that names the project: the first `{…}` segment of the family's paths.
fn group_param(family: &Family) -> &str {
    family
        .operations
        .first()
        .and_then(|o| o.path.split_once('{'))
        .and_then(|(_, rest)| rest.split_once('}'))
        .map_or("", |(name, _)| name)
}

/// The `{integrationType}` segment: percent-encoded, in another case, padded, far too long.
fn type_segments(out: &mut Out<'_>, model: &Model) {
    for t in out.family.path_types.clone() {
        if !out
            .family
            .versions
            .iter()
            .any(|v| v.integration_type(&t).is_some())
        {
            continue;
        }
        let scope = out.scope(None, Some(OperationKind::Get), Some(&t));
        let part = format!("path {}", model.wire.type_param);
        let mut rows = Rows::new(&mut *out, part, scope);
        let enc = {
            let mut chars = t.chars();
            let first = chars.next().unwrap_or('X');
            format!("/integrations/%{:02X}{}", first as u32, chars.as_str())
        };
        let path = |p: String| Edit::Path(p);
        let (bad, rule) = (
            Some(Situation::InvalidIntegrationType),
            "1.family-type-enum",
        );
        rows.add(
            Kind::Valid,
            "percent-encoded",
            path(enc),
            "1.get-operation",
            None,
        );
        let lower = path(format!("/integrations/{}", t.to_lowercase()));
        rows.add(Kind::Case, "lower case", lower, rule, bad);
        let padded = path(format!("/integrations/%20{t}"));
        rows.add(Kind::Whitespace, "a leading space", padded, rule, bad);
        let long = path(format!("/integrations/{}", t.repeat(300 / t.len() + 1)));
        rows.add(Kind::FarPast, "300 characters", long, rule, bad);
    }
}

/// Every query parameter any operation of any family declares, on every operation: declared
/// ones by their kind and bounds, others (ignored) in the same classes, and one name of no
/// family.
pub(super) fn query(out: &mut Out<'_>, model: &Model) {
    let mut params: BTreeMap<String, QueryParam> = BTreeMap::new();
    for q in model
        .families
        .iter()
        .flat_map(|f| f.operations.iter())
        .flat_map(|o| o.query.iter())
    {
        params.entry(q.name.clone()).or_insert_with(|| q.clone());
    }
    for kind in OperationKind::ALL {
        let op = out.family.operation(kind);
        for q in params.values() {
            let declared = op.query_param(&q.name).is_some();
            let part = format!("query {} on {}", q.name, kind.as_str());
            let scope = out.scope(None, Some(kind), None);
            let mut rows = Rows::new(&mut *out, part, scope);
            let values = match q.kind {
                ParamKind::Integer => integer_values(q, declared && kind.writes()),
                ParamKind::Boolean => boolean_values(),
            };
            for (k, label, values, invalid, rule) in values {
                let pairs: Vec<(String, String)> = values
                    .into_iter()
                    .map(|(n, v)| (n.unwrap_or_else(|| q.name.clone()), v))
                    .collect();
                let rule = if declared { rule } else { ignored_rule(kind) };
                let breaks = (declared && invalid).then_some(Situation::InvalidQueryParameter);
                rows.add(k, &label, Edit::Query(pairs), rule, breaks);
            }
            // The name in another letter case is another (unknown, ignored) parameter.
            let upper = Edit::Query(vec![(q.name.to_uppercase(), "abc".into())]);
            let unknown = "3.unknown-query-ignored";
            rows.add(Kind::Case, "the name upper-cased", upper, unknown, None);
        }
        let scope = out.scope(None, Some(kind), None);
        let part = format!("query (undeclared) on {}", kind.as_str());
        let mut rows = Rows::new(&mut *out, part, scope);
        let edit = Edit::Query(vec![("conformanceUnknown".into(), "x".into())]);
        let label = "a name no family declares";
        rows.add(Kind::Foreign, label, edit, "3.unknown-query-ignored", None);
    }
}

fn ignored_rule(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::Get | OperationKind::Delete => "3.get-delete-ignore-page",
        _ => "3.unknown-query-ignored",
    }
}

/// The pairs of a query class: `None` stands for the parameter's own name.
type Pairs = Vec<(Option<String>, String)>;

/// (kind, label, pairs, invalid where declared, rule).
type QueryRow = (Kind, String, Pairs, bool, &'static str);

fn one(v: &str) -> Pairs {
    vec![(None, v.to_owned())]
}

fn two(a: &str, b: &str) -> Pairs {
    vec![(None, a.to_owned()), (None, b.to_owned())]
}

/// An integer parameter's classes, from its bounds. `write`: the operation writes, so the open
/// readings (spaces around the number) are not drawn: a refused write the reference model
/// accepts would part the two states.
fn integer_values(q: &QueryParam, write: bool) -> Vec<QueryRow> {
    let min = q.minimum.unwrap_or(0);
    let (r, ok) = ("3.invalid-query", "3.page-parameters");
    let row = |k: Kind, label: &str, pairs: Pairs, invalid: bool, rule: &'static str| {
        (k, label.to_owned(), pairs, invalid, rule)
    };
    let huge = "9223372036854775808";
    let mut rows = vec![
        row(Kind::Valid, "2", one("2"), false, ok),
        row(
            Kind::Boundary,
            "the minimum",
            one(&min.to_string()),
            false,
            ok,
        ),
        row(
            Kind::PastBoundary,
            "below the minimum",
            one(&(min - 1).to_string()),
            true,
            r,
        ),
        row(Kind::Malformed, "not a number", one("abc"), true, r),
        row(Kind::Malformed, "a fraction", one("1.5"), true, r),
        row(Kind::Empty, "empty", one(""), true, r),
        row(
            Kind::Repeated,
            "valid first",
            two("2", "abc"),
            false,
            "8.repeated-parameter",
        ),
        row(
            Kind::Repeated,
            "invalid first",
            two("abc", "2"),
            true,
            "8.repeated-parameter",
        ),
    ];
    match q.maximum {
        Some(max) => {
            rows.push(row(
                Kind::Boundary,
                "the maximum",
                one(&max.to_string()),
                false,
                ok,
            ));
            let above = one(&(max + 1).to_string());
            rows.push(row(Kind::PastBoundary, "above the maximum", above, true, r));
            rows.push(row(
                Kind::FarPast,
                "past every integer type",
                one(huge),
                true,
                r,
            ));
        }
        None => {
            let unbounded = "8.page-num-unbounded";
            rows.push(row(
                Kind::FarPast,
                "past every integer type",
                one(huge),
                false,
                unbounded,
            ));
        }
    }
    if !write {
        rows.push(row(Kind::Whitespace, "a space before", one(" 2"), true, r));
    }
    rows
}

/// A boolean parameter's classes: exactly `true` or `false`, case-sensitive.
fn boolean_values() -> Vec<QueryRow> {
    let (r, case) = ("3.flags-validated-everywhere", "8.boolean-case");
    let row = |k: Kind, label: &str, pairs: Pairs, invalid: bool, rule: &'static str| {
        (k, label.to_owned(), pairs, invalid, rule)
    };
    vec![
        row(Kind::Valid, "true", one("true"), false, r),
        row(Kind::Valid, "false", one("false"), false, r),
        row(Kind::Case, "upper case", one("TRUE"), true, case),
        row(Kind::Case, "capitalised", one("False"), true, case),
        row(Kind::Whitespace, "a space after", one("true "), true, case),
        row(Kind::Malformed, "1", one("1"), true, r),
        row(Kind::Malformed, "yes", one("yes"), true, r),
        row(Kind::Empty, "empty", one(""), true, r),
        row(
            Kind::Repeated,
            "valid first",
            two("true", "maybe"),
            false,
            "8.repeated-parameter",
        ),
        row(
            Kind::Repeated,
            "invalid first",
            two("maybe", "true"),
            true,
            "8.repeated-parameter",
        ),
    ]
}
