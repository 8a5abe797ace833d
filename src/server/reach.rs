//! The faults written where no fixed case looks (issue 20, [`Reach::Explore`]): a path shape, an
//! `Accept` grammar, a query parameter on an operation no case sends it to, a value a little
//! past the longest one generated, another letter case or surrounding whitespace, a list after
//! a delete, a second project. Each is a function of its own, called from one line of the
//! pipeline, so that the faithful paths stay as they were.
//!
//! [`Reach::Explore`]: super::fault::Reach::Explore

use std::borrow::Cow;

use axum::http::header::ACCEPT;
use axum::http::request::Parts;
use axum::http::HeaderValue;
use serde_json::{json, Map, Value};

use crate::model::{Family, Field, FieldKind, IntegrationType, Operation, OperationKind};
use crate::model::{QueryRole, SecretKind, Situation, Wire};

use super::error::{quote_input, ApiError};
use super::fault::{Fault, FaultSet};
use super::query::{BigCount, Params, RawQuery};
use super::render::{Format, PageSpec};
use super::store::Integration;
use super::ServerState;

/// Characters past which `long-secret-in-clear` shows a secret whole.
const LONG_SECRET: usize = 128;
/// The stars `long-secret-mask-capped` writes at most.
const MASK_CAP: usize = 60;
/// Characters `long-string-truncated` keeps.
const STORED_CHARS: usize = 160;

/// The path as a server with a path fault routes it.
pub(crate) fn path(path: &str, faults: FaultSet) -> Cow<'_, str> {
    let mut p = Cow::Borrowed(path);
    if faults.has(Fault::TrailingSlashServed) && p.len() > 1 && p.ends_with('/') {
        p = Cow::Owned(p.trim_end_matches('/').to_owned());
    }
    if faults.has(Fault::DoubleSlashCollapsed) && p.contains("//") {
        let mut s = p.into_owned();
        while s.contains("//") {
            s = s.replace("//", "/");
        }
        p = Cow::Owned(s);
    }
    if faults.has(Fault::PercentEncodedTypeRefused) {
        if let Some(i) = p.find("/integrations/") {
            let (head, tail) = p.split_at(i);
            p = Cow::Owned(format!("{head}{}", tail.replace('%', "%25")));
        }
    }
    p
}

/// The routed group id and type as a server with a path fault reads them.
pub(crate) fn route(group_id: &mut String, type_name: &mut Option<String>, faults: FaultSet) {
    if faults.has(Fault::GroupIdTrimmed) {
        *group_id = group_id.trim().to_owned();
    }
    if faults.has(Fault::PathTypeCaseInsensitive) {
        if let Some(t) = type_name {
            *t = t.to_ascii_uppercase();
        }
    }
}

const ACCEPT_FAULTS: [Fault; 6] = [
    Fault::AcceptFirstItemOnly,
    Fault::AcceptQZeroAccepted,
    Fault::AcceptParametersRefused,
    Fault::AcceptTypeCaseSensitive,
    Fault::AcceptItemsUntrimmed,
    Fault::AcceptSubtypeWildcardServed,
];

/// The request with the `Accept` header a faithful negotiation reads as the faulty one would
/// read the header sent; `None` when no `Accept` fault applies.
pub(crate) fn accept(parts: &Parts, family: &Family, faults: FaultSet) -> Option<Parts> {
    if !family.versioned() || !ACCEPT_FAULTS.iter().any(|f| faults.has(*f)) {
        return None;
    }
    let sent: Vec<&str> = parts
        .headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let mut items: Vec<String> = sent.join(",").split(',').map(str::to_owned).collect();
    if faults.has(Fault::AcceptFirstItemOnly) {
        items.truncate(1);
    }
    let newest = family.versions.last().map(|v| v.media_type.as_str());
    let kept: Vec<String> = items
        .into_iter()
        .enumerate()
        .filter_map(|(i, item)| accept_item(i, &item, family, newest, faults))
        .collect();
    let mut out = parts.clone();
    out.headers.remove(ACCEPT);
    if let Ok(v) = HeaderValue::from_str(&kept.join(",")) {
        out.headers.insert(ACCEPT, v);
    }
    Some(out)
}

/// One item of an `Accept` list as a faulty negotiation reads it; `None` when it drops it.
fn accept_item(
    index: usize,
    item: &str,
    family: &Family,
    newest: Option<&str>,
    faults: FaultSet,
) -> Option<String> {
    let mut pieces = item.split(';');
    let media = pieces.next().unwrap_or_default();
    let params: Vec<&str> = pieces.collect();
    if faults.has(Fault::AcceptItemsUntrimmed) && index > 0 && media != media.trim_start() {
        return None;
    }
    let is_q = |p: &&str| p.split('=').next().unwrap_or_default().trim() == "q";
    if faults.has(Fault::AcceptParametersRefused) && !params.iter().all(is_q) {
        return None;
    }
    if faults.has(Fault::AcceptTypeCaseSensitive)
        && !family.versions.iter().any(|v| v.media_type == media.trim())
    {
        return None;
    }
    let mut media = media.to_owned();
    if faults.has(Fault::AcceptSubtypeWildcardServed) && media.trim() == "application/*" {
        media = newest.unwrap_or_default().to_owned();
    }
    let zero = |p: &&str| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        k.trim() == "q" && v.trim().parse::<f32>().is_ok_and(|q| q == 0.0)
    };
    let params: Vec<&str> = params
        .into_iter()
        .filter(|p| !(faults.has(Fault::AcceptQZeroAccepted) && zero(p)))
        .collect();
    Some(
        std::iter::once(media.as_str())
            .chain(params)
            .collect::<Vec<_>>()
            .join(";"),
    )
}

/// Fault `page-params-validated-on-get`: get and delete check the page parameters they ignore.
pub(crate) fn reads_page_params(
    op: &Operation,
    q: &RawQuery,
    faults: FaultSet,
    wire: &Wire,
) -> Result<(), ApiError> {
    if !faults.has(Fault::PageParamsValidatedOnGet)
        || !matches!(op.kind, OperationKind::Get | OperationKind::Delete)
    {
        return Ok(());
    }
    let int = |v: &str, max: u64| v.parse::<u64>().is_ok_and(|n| (1..=max).contains(&n));
    for (role, ok) in [
        (
            QueryRole::PageNum,
            q.of(wire, QueryRole::PageNum)
                .is_none_or(|v| int(v, u64::MAX)),
        ),
        (
            QueryRole::ItemsPerPage,
            q.of(wire, QueryRole::ItemsPerPage)
                .is_none_or(|v| int(v, 500)),
        ),
        (
            QueryRole::IncludeCount,
            q.of(wire, QueryRole::IncludeCount)
                .is_none_or(|v| v == "true" || v == "false"),
        ),
    ] {
        let name = wire.query(role);
        if !ok {
            let value = q.first(name).unwrap_or_default();
            return Err(ApiError::of(
                &wire.codes,
                Some(op),
                Situation::InvalidQueryParameter,
                format!("Invalid value {} for {name}.", quote_input(value)),
            )
            .params(vec![json!(name), json!(quote_input(value))]));
        }
    }
    Ok(())
}

/// The parameters and format the list body of a create or update is rendered with.
pub(crate) fn write_view<'w>(
    params: &Params,
    fmt: &Format<'w>,
    faults: FaultSet,
) -> (Params, Format<'w>) {
    let mut params = params.clone();
    let mut fmt = fmt.clone();
    if faults.has(Fault::IncludeCountIgnoredOnWrites) {
        params.include_count = None;
    }
    if faults.has(Fault::PageParamsIgnoredOnWrites) {
        params.page_num = BigCount::from_u64(1);
        params.items_per_page = 100;
    }
    if faults.has(Fault::EnvelopeNeedsPrettyOnWrites) && !fmt.pretty {
        fmt.envelope = false;
    }
    (params, fmt)
}

/// The format of an error answer of an operation of `kind`.
pub(crate) fn error_format<'f, 'w>(
    fmt: &'f Format<'w>,
    kind: Option<OperationKind>,
) -> Cow<'f, Format<'w>> {
    if kind == Some(OperationKind::Delete) && fmt.faults.has(Fault::PrettyIgnoredOnDeleteErrors) {
        let mut f = fmt.clone();
        f.pretty = false;
        return Cow::Owned(f);
    }
    Cow::Borrowed(fmt)
}

/// What a list page shows besides the project's integrations: the last one deleted (a stale
/// cache) and those of the other projects of its kind.
pub(crate) fn listed(state: &ServerState, group: &str, family: &str) -> Vec<Integration> {
    let faults = state.fault_set();
    let key = state.store_key(group, family);
    let mut all = state.store().all(&key);
    if faults.has(Fault::ListStaleAfterDelete) {
        if let Some(gone) = state.store().history(&key).last_deleted {
            if all.iter().all(|i| i.type_name != gone.type_name) {
                all.push(gone);
            }
        }
    }
    if faults.has(Fault::ListShowsOtherProject) {
        for other in other_projects(state, group) {
            for i in state.store().all(&state.store_key(other, family)) {
                if all.iter().all(|a| a.type_name != i.type_name) {
                    all.push(i);
                }
            }
        }
    }
    all
}

/// The other projects of the kind of `group`, in a stable order.
fn other_projects<'s>(state: &'s ServerState, group: &str) -> Vec<&'s str> {
    let kind = state.project_kind(group);
    let mut out: Vec<&str> = state
        .projects
        .iter()
        .filter(|(g, k)| g.as_str() != group && Some(**k) == kind)
        .map(|(g, _)| g.as_str())
        .collect();
    out.sort_unstable();
    out
}

/// The integration a get of `type_name` finds; under fault `get-falls-back-to-other-project`,
/// that type of another project of the kind when the project has none.
pub(crate) fn get(
    state: &ServerState,
    group: &str,
    family: &str,
    type_name: &str,
) -> Option<Integration> {
    let found = state
        .store()
        .get(&state.store_key(group, family), type_name);
    if found.is_some() || !state.fault_set().has(Fault::GetFallsBackToOtherProject) {
        return found;
    }
    other_projects(state, group)
        .into_iter()
        .find_map(|g| state.store().get(&state.store_key(g, family), type_name))
}

/// Fault `delete-then-create-409`: whether a create of `type_name` meets its soft-deleted row.
pub(crate) fn recreate_refused(state: &ServerState, key: &str, type_name: &str) -> bool {
    state.fault_set().has(Fault::DeleteThenCreate409)
        && state.store().history(key).deleted_types.contains(type_name)
}

/// A rendered page as a server with a count or link fault sends it. `total` is the number of
/// integrations listed, `honoured` whether the family honours `includeCount`.
pub(crate) fn page(
    mut body: Map<String, Value>,
    spec: &PageSpec,
    total: u64,
    (state, key, raw, honoured): (&ServerState, String, &RawQuery, bool),
) -> Map<String, Value> {
    let faults = state.fault_set();
    let history = state.store().history(&key);
    let wire = &state.model().wire;
    let (count, rel) = (&wire.list.total_count, &wire.link.rel);
    if faults.has(Fault::TotalCountNotDecremented) {
        if let Some(n) = body.get(count).and_then(Value::as_u64) {
            body.insert(count.clone(), json!(n + history.deletes));
        }
    }
    if faults.has(Fault::NextLinkAfterDelete) && history.deletes > 0 {
        let page = spec.page_num.value;
        let end = page.saturating_mul(spec.items_per_page);
        let links = body.get_mut(&wire.list.links).and_then(Value::as_array_mut);
        let next = &wire.link.next;
        if let Some(links) = links.filter(|l| l.iter().all(|l| l[rel.as_str()] != next.as_str())) {
            if end < total + history.deletes {
                let n = BigCount::from_u64(page.saturating_add(1));
                links.push(super::render::link(wire, next, spec.href(&n)));
            }
        }
    }
    if faults.has(Fault::IncludeCountHonouredOnCm)
        && !honoured
        && raw.of(wire, QueryRole::IncludeCount) == Some("false")
    {
        body.remove(count);
    }
    body
}

/// A mask as a server with a long-value fault writes it; `None` to mask faithfully.
pub(crate) fn mask(kind: SecretKind, value: &str, faults: FaultSet) -> Option<String> {
    if kind != SecretKind::MaskLast4 {
        return None;
    }
    let n = value.chars().count();
    if faults.has(Fault::LongSecretInClear) && n > LONG_SECRET {
        return Some(value.to_owned());
    }
    if faults.has(Fault::LongSecretMaskCapped) && n > MASK_CAP + 4 {
        let tail: String = value.chars().skip(n - 4).collect();
        return Some(format!("{}{tail}", "*".repeat(MASK_CAP)));
    }
    None
}

const BODY_FAULTS: [Fault; 8] = [
    Fault::FieldNamesCaseInsensitive,
    Fault::TypeValueTrimmed,
    Fault::TypeValueCaseInsensitive,
    Fault::EnumValueTrimmed,
    Fault::EnumCaseInsensitive,
    Fault::BooleanStringsAccepted,
    Fault::StringValuesTrimmed,
    Fault::LongStringTruncated,
];

/// The body as a server with a letter-case, whitespace or truncation fault reads it, before
/// the faithful validation; `None` when no such fault is on or the body is no object.
pub(crate) fn body(t: &IntegrationType, body: &Value, faults: FaultSet) -> Option<Value> {
    if !BODY_FAULTS.iter().any(|f| faults.has(*f)) {
        return None;
    }
    let obj = body.as_object()?;
    let mut out = Map::new();
    for (k, v) in obj {
        let field = t.field(k).or_else(|| {
            t.fields.iter().find(|f| {
                faults.has(Fault::FieldNamesCaseInsensitive) && f.name.eq_ignore_ascii_case(k)
            })
        });
        let (name, v) = match field {
            Some(f) => (f.name.clone(), value(f, v.clone(), faults)),
            None => (k.clone(), v.clone()),
        };
        out.insert(name, v);
    }
    Some(Value::Object(out))
}

/// One field's value as the faulty server reads it.
fn value(f: &Field, v: Value, faults: FaultSet) -> Value {
    let Value::String(mut s) = v else {
        return v;
    };
    if f.discriminator {
        if faults.has(Fault::TypeValueTrimmed) {
            s = s.trim().to_owned();
        }
        if faults.has(Fault::TypeValueCaseInsensitive) {
            s = s.to_ascii_uppercase();
        }
        return Value::String(s);
    }
    if f.kind == FieldKind::Boolean && faults.has(Fault::BooleanStringsAccepted) {
        match s.as_str() {
            "true" => return Value::Bool(true),
            "false" => return Value::Bool(false),
            _ => return Value::String(s),
        }
    }
    if !f.enum_values.is_empty() {
        if faults.has(Fault::EnumValueTrimmed) {
            s = s.trim().to_owned();
        }
        if faults.has(Fault::EnumCaseInsensitive) {
            if let Some(m) = f.enum_values.iter().find(|m| m.eq_ignore_ascii_case(&s)) {
                s = m.clone();
            }
        }
    }
    if faults.has(Fault::StringValuesTrimmed) {
        s = s.trim().to_owned();
    }
    if faults.has(Fault::LongStringTruncated) && s.chars().count() > STORED_CHARS {
        s = s.chars().take(STORED_CHARS).collect();
    }
    Value::String(s)
}

/// A string rule a faulty server adds: the situation and the detail, when `s` breaks it.
pub(crate) fn string_rule(f: &Field, s: &str, faults: FaultSet) -> Option<(Situation, String)> {
    if faults.has(Fault::LengthCountsUtf16) {
        if let Some(max) = f.max_length.filter(|m| s.encode_utf16().count() > *m) {
            let why = format!("{} must have at most {max} characters", f.name);
            return Some((Situation::InvalidSettings, why));
        }
    }
    if faults.has(Fault::BlankRequiredRefused) && f.required && !s.is_empty() && s.trim().is_empty()
    {
        return Some((
            Situation::InvalidSettings,
            format!("{} must not be empty", f.name),
        ));
    }
    None
}
