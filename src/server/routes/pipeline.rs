//! One request to one of the five operations, once routed: the checks in the contract's order
//! (credentials, version, project, type, role, query) and then the operation itself, create
//! and update reading and validating their body before touching the store.
//!
//! The wire helpers (body reading, negotiation, link hosts) stay in the parent module.

use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{request::Parts, HeaderValue, StatusCode};
use axum::{body::Body, response::Response};
use serde_json::{json, Map, Value};

use crate::model::{
    Family, IntegrationType, Operation, OperationKind, QueryRole, Situation, Version,
};
use crate::server::render::{self, PageSpec, Payload, Reveal};
use crate::server::store::{Integration, StateError};
use crate::server::{query, validate, Role};

use super::{
    effective_type, is_group_id, link_host, negotiate, quote_input, ApiError, Cow, Fault, FaultSet,
    Format, Params, RawQuery, ServerState, Variant, CREATE_RACE_PAUSE, LINK_HOST_VARIANT,
    PIECEMEAL_PAUSE,
};

mod write_faults;

/// One request to one of the five operations.
pub(super) struct Ctx<'a> {
    pub(super) state: &'a ServerState,
    pub(super) parts: &'a Parts,
    pub(super) family: &'a Family,
    pub(super) op: &'a Operation,
    pub(super) group_id: &'a str,
    pub(super) type_name: Option<&'a str>,
    pub(super) raw_query: &'a RawQuery,
    pub(super) faults: FaultSet,
    /// `Authentication-Info` for the answer, once the credentials are accepted.
    pub(super) info: Option<HeaderValue>,
}

impl<'a> Ctx<'a> {
    pub(super) fn err(&self, situation: Situation, detail: impl Into<String>) -> ApiError {
        ApiError::of(
            &self.state.model().wire.codes,
            Some(self.op),
            situation,
            detail,
        )
    }

    pub(super) fn unexpected(&self, why: &str) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNEXPECTED_ERROR",
            "Unexpected error.",
        )
        .internal(why.to_owned())
    }

    pub(super) async fn run(
        &mut self,
        fmt: &mut Format<'_>,
        body: &mut Option<Body>,
    ) -> Result<Response, ApiError> {
        // credentials
        let principal = self.authenticate()?;

        // Accept version
        let version = self.version()?;
        fmt.versioned = self.family.versioned();
        fmt.media_type = version.media_type.clone();

        // groupId format, project existence, access, kind
        let role = self.project_role(principal.as_deref())?;

        // {integrationType}
        let itype = match self.type_name {
            Some(name) => Some(self.integration_type(version, name)?),
            None => None,
        };

        // role
        self.may_write(role)?;

        // query
        let strict = self.state.variant_set().has(Variant::StrictIntegerSyntax);
        let params = query::validate_with(self.op, self.raw_query, self.faults, strict, fmt.wire)?;
        fmt.pretty = params.pretty;
        fmt.envelope = params.envelope;

        self.respond(itype, version, &params, fmt, body).await
    }

    /// The API version the `Accept` header asks for (the first one for an unversioned family).
    fn version(&self) -> Result<&'a Version, ApiError> {
        let faults = self.faults;
        let family = self.family;
        let version = if family.versioned() {
            match negotiate(
                family,
                &self.parts.headers,
                faults.has(Fault::AcceptQValuesIgnored),
            ) {
                Some(v) => v,
                None if faults.has(Fault::AcceptHeaderIgnored) => family
                    .versions
                    .first()
                    .ok_or_else(|| self.unexpected("family without versions"))?,
                None => {
                    let offered: Vec<&str> = family
                        .versions
                        .iter()
                        .map(|v| v.media_type.as_str())
                        .collect();
                    return Err(self.err(
                        Situation::UnsupportedVersion,
                        format!(
                            "The Accept header names no supported API version; use one of {}.",
                            offered.join(", ")
                        ),
                    ));
                }
            }
        } else {
            family
                .versions
                .first()
                .ok_or_else(|| self.unexpected("family without versions"))?
        };
        Ok(version)
    }

    /// The caller's role in the project, after the checks of the group id's format, the
    /// project's existence, the caller's access and the project's kind, in that order.
    fn project_role(&self, principal: Option<&str>) -> Result<Role, ApiError> {
        let faults = self.faults;
        let op = self.op;
        let family = self.family;
        let gid = self.group_id;
        if !is_group_id(gid) {
            return Err(self
                .err(
                    Situation::InvalidGroupId,
                    format!(
                        "{} is not a valid group id: 24 lower-case hexadecimal digits.",
                        quote_input(gid)
                    ),
                )
                .params(vec![json!(quote_input(gid))]));
        }
        let Some(kind) = self.state.project_kind(gid) else {
            let situation = if faults.has(Fault::GroupNotFoundAsInvalidGroupId) {
                Situation::InvalidGroupId
            } else {
                Situation::GroupNotFound
            };
            return Err(self
                .err(situation, format!("No group with ID {gid} exists."))
                .params(vec![json!(gid)]));
        };
        if faults.has(Fault::NoAccessTellsKind) && kind != family.project_kind {
            return Err(self
                .err(
                    Situation::WrongProjectKind,
                    format!(
                        "Group {gid} cannot be reached through {}.",
                        family.base_path
                    ),
                )
                .params(vec![json!(gid)]));
        }
        let role = match principal {
            Some(p) => self.state.role(p, gid),
            // fault get-without-credentials: an anonymous reader of the main projects
            None => (gid != self.state.credentials().other_group_id).then_some(Role::ReadOnly),
        };
        let role = match role {
            Some(r) => r,
            None if faults.has(Fault::OtherProjectReadable) && !op.kind.writes() => Role::ReadOnly,
            None => {
                let mut e = self
                    .err(
                        Situation::NoProjectAccess,
                        format!("Current user is not authorized to access group {gid}."),
                    )
                    .params(vec![json!(gid)]);
                if let Some(status) = self.state.variant_set().no_access_status(op.kind.writes()) {
                    e.status = StatusCode::from_u16(status).unwrap_or(e.status);
                }
                return Err(e);
            }
        };
        if kind != family.project_kind {
            return Err(self
                .err(
                    Situation::WrongProjectKind,
                    format!(
                        "Group {gid} cannot be reached through {}.",
                        family.base_path
                    ),
                )
                .params(vec![json!(gid)]));
        }

        Ok(role)
    }

    /// A read-only caller may not write.
    fn may_write(&self, role: Role) -> Result<(), ApiError> {
        let faults = self.faults;
        let op = self.op;
        if op.kind.writes() && role == Role::ReadOnly && !faults.has(Fault::ReadOnlyCanWrite) {
            let mut e = self.err(
                Situation::ReadOnlyWrite,
                "Current user is not authorized to change this group's integrations.",
            );
            if self.state.variant_set().has(Variant::ReadOnly403) {
                e.status = StatusCode::FORBIDDEN;
            }
            return Err(e);
        }

        Ok(())
    }

    /// The operation itself, once every check before it has passed.
    async fn respond(
        &self,
        itype: Option<Cow<'_, IntegrationType>>,
        version: &Version,
        params: &Params,
        fmt: &mut Format<'_>,
        body: &mut Option<Body>,
    ) -> Result<Response, ApiError> {
        let faults = self.faults;
        let op = self.op;
        match (op.kind, itype) {
            (OperationKind::List, _) => {
                let page = self.page(version, params, Reveal::default(), fmt);
                let empty = page
                    .get(&fmt.wire.list.results)
                    .and_then(Value::as_array)
                    .is_some_and(Vec::is_empty);
                if faults.has(Fault::PagePastEnd404) && empty && params.page_num.value > 1 {
                    return Err(ApiError::new(
                        StatusCode::NOT_FOUND,
                        fmt.wire.codes.code(Situation::UnknownPath),
                        "The requested page does not exist.",
                    ));
                }
                Ok(render::success(StatusCode::OK, Payload::List(page), fmt))
            }
            (OperationKind::Get, Some(t)) => {
                let (gid, fam) = (self.group_id, &self.family.name);
                let Some(rec) = crate::server::reach::get(self.state, gid, fam, &t.name) else {
                    return Err(self.not_configured(&t.name));
                };
                let reveal = Reveal {
                    masked: faults.has(Fault::SecretInClearOnGet)
                        || (fmt.pretty && faults.has(Fault::PrettySkipsMasking)),
                    write_only: faults.has(Fault::WriteOnlyReturned),
                };
                let v = self.render(&t, &rec, reveal, fmt);
                Ok(render::success(StatusCode::OK, Payload::Single(v), fmt))
            }
            (OperationKind::Delete, Some(t)) => {
                match self.state.store().delete(
                    &self.store_key(),
                    &t.name,
                    faults.has(Fault::DeleteKeepsIntegration),
                ) {
                    Ok(()) => {}
                    Err(_) if faults.has(Fault::DeleteUnconfigured204) => {}
                    Err(_) => return Err(self.not_configured(&t.name)),
                }
                let status =
                    StatusCode::from_u16(op.success_status).unwrap_or(StatusCode::NO_CONTENT);
                let mut r = render::success(status, Payload::Empty, fmt);
                if faults.has(Fault::NoContentWithoutMediaType) {
                    r.headers_mut().remove(CONTENT_TYPE);
                }
                Ok(r)
            }
            (OperationKind::Create | OperationKind::Update, Some(t)) => {
                self.write(&t, version, params, fmt, body).await
            }
            _ => Err(self.unexpected("typed operation without a type")),
        }
    }

    /// The principal, or `None` for an anonymous reader (fault `get-without-credentials`).
    fn authenticate(&mut self) -> Result<Option<String>, ApiError> {
        let headers = &self.parts.headers;
        let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
        let uri = self
            .parts
            .uri
            .path_and_query()
            .map_or(self.parts.uri.path(), |p| p.as_str());
        match self
            .state
            .auth()
            .authenticate(self.parts.method.as_str(), uri, authorization)
        {
            Ok(p) => {
                let info = self.state.auth().authentication_info(authorization);
                self.info = info.and_then(|i| HeaderValue::from_str(&i).ok());
                Ok(Some(p))
            }
            Err(_)
                if self.faults.has(Fault::GetWithoutCredentials)
                    && !headers.contains_key(AUTHORIZATION)
                    && !self.op.kind.writes() =>
            {
                Ok(None)
            }
            Err(failure)
                if failure.is_uri_mismatch()
                    && self.state.variant_set().has(Variant::DigestUriMismatch400) =>
            {
                Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "INVALID_AUTHORIZATION_HEADER",
                    "The digest response was computed for another request target (uri).",
                )
                .params(vec![json!("uri")])
                .internal(failure.to_string()))
            }
            Err(failure) => {
                let stale = failure.stale && !self.faults.has(Fault::StaleFlagMissing);
                let mut e = self
                    .err(
                        Situation::Unauthenticated,
                        "You are not authorized for this resource: missing, wrong, expired or unknown credentials.",
                    )
                    .internal(failure.to_string());
                let mut digest = self.state.auth().challenge(stale);
                if self.faults.has(Fault::ChallengeWithoutQop)
                    && headers.contains_key(AUTHORIZATION)
                {
                    digest = digest.replace(", qop=\"auth\"", "");
                }
                for challenge in [digest, self.state.auth().bearer_challenge()] {
                    if let Ok(v) = HeaderValue::from_str(&challenge) {
                        e = e.header(WWW_AUTHENTICATE, v);
                    }
                }
                Err(e)
            }
        }
    }

    /// Resolves `{integrationType}`: unsupported types first (their own code), then the enum,
    /// then the version's schemas.
    fn integration_type<'f>(
        &self,
        version: &'f Version,
        name: &str,
    ) -> Result<Cow<'f, IntegrationType>, ApiError>
    where
        Self: 'f,
    {
        let family = self.family;
        let type_param = &self.state.model().wire.type_param;
        let invalid = || {
            self.err(
                Situation::InvalidIntegrationType,
                format!(
                    "An invalid enumeration value {} was specified for {type_param}; expected one of {}.",
                    quote_input(name),
                    family.path_types.join(", ")
                ),
            )
            .params(vec![json!(type_param), json!(quote_input(name))])
        };
        if family.unsupported_types.iter().any(|t| t == name) {
            if self.faults.has(Fault::UnsupportedTypeGenericCode) {
                return Err(invalid());
            }
            return Err(ApiError::unsupported_type(
                &self.state.model().wire.codes,
                self.op,
                name,
                format!(
                    "Integration type {name} is not supported through {}.",
                    family.base_path
                ),
            )
            .params(vec![json!(name)]));
        }
        if !family.path_types.iter().any(|t| t == name) {
            return Err(invalid());
        }
        effective_type(family, version, name, self.faults).ok_or_else(invalid)
    }

    /// One integration as this family version shows it; under fault `assigned-id-in-v1`, with
    /// the server-assigned field another family has for the type, where this one has none.
    fn render(
        &self,
        t: &IntegrationType,
        rec: &Integration,
        reveal: Reveal,
        fmt: &Format<'_>,
    ) -> Value {
        let mut v = render::integration(t, rec, reveal, self.faults, fmt.variants);
        if self.faults.has(Fault::AssignedIdInV1) && t.fields.iter().all(|f| !f.read_only) {
            let assigned = self
                .state
                .model()
                .families
                .iter()
                .flat_map(|f| &f.versions)
                .filter_map(|v| v.integration_type(&t.name))
                .flat_map(|t| &t.fields)
                .find(|f| f.read_only);
            if let (Some(f), Some(map)) = (assigned, v.as_object_mut()) {
                map.insert(f.name.clone(), json!(rec.id));
            }
        }
        v
    }

    /// Where this request's project keeps its integrations: the project, or (variant
    /// `separate-atlas-stores`) the project as this family sees it.
    fn store_key(&self) -> String {
        self.state.store_key(self.group_id, &self.family.name)
    }

    fn not_configured(&self, type_name: &str) -> ApiError {
        self.err(
            Situation::NotConfigured,
            format!(
                "No integration of type {type_name} is configured in group {}.",
                self.group_id
            ),
        )
        .params(vec![json!(type_name), json!(self.group_id)])
    }

    /// The page of the project's integrations that this family version shows.
    fn page(
        &self,
        version: &Version,
        params: &Params,
        reveal: Reveal,
        fmt: &Format<'_>,
    ) -> serde_json::Map<String, Value> {
        let all = crate::server::reach::listed(self.state, self.group_id, &self.family.name);
        self.page_of(all, version, params, reveal, fmt)
    }

    fn page_of(
        &self,
        all: Vec<Integration>,
        version: &Version,
        params: &Params,
        mut reveal: Reveal,
        fmt: &Format<'_>,
    ) -> serde_json::Map<String, Value> {
        let faults = self.faults;
        let family = self.family;
        reveal.masked |= faults.has(Fault::SecretInClearInList)
            || (fmt.pretty && faults.has(Fault::PrettySkipsMasking));
        reveal.write_only |= faults.has(Fault::WriteOnlyReturned);
        let mut shown: Vec<(Cow<'_, IntegrationType>, Integration)> = all
            .into_iter()
            .filter_map(|rec| {
                effective_type(family, version, &rec.type_name, faults).map(|t| (t, rec))
            })
            .collect();
        if faults.has(Fault::ListOrderAlphabetical) {
            shown.sort_by(|a, b| a.1.type_name.cmp(&b.1.type_name));
        } else {
            shown.sort_by_key(|(_, rec)| family.order_of(&rec.type_name));
        }
        let items: Vec<Value> = shown
            .iter()
            .map(|(t, rec)| self.render(t, rec, reveal, fmt))
            .collect();
        let items_per_page = if faults.has(Fault::ItemsPerPageIgnored) {
            query::default_items_per_page(self.op, fmt.wire)
        } else {
            params.items_per_page
        };
        // The family's links carry these parameters with their effective values.
        let mut link_query: Vec<(String, Option<String>)> = family
            .link_query
            .iter()
            .filter_map(|name| {
                let value = match fmt.wire.query_role(name)? {
                    QueryRole::PageNum => None,
                    QueryRole::ItemsPerPage => Some(items_per_page.to_string()),
                    QueryRole::IncludeCount => Some(
                        params
                            .include_count
                            .or_else(|| self.op.query_param(name).and_then(|p| p.default.as_bool()))
                            .unwrap_or(true)
                            .to_string(),
                    ),
                    QueryRole::Pretty => Some(params.pretty.to_string()),
                    QueryRole::Envelope => Some(params.envelope.to_string()),
                };
                Some((name.clone(), value))
            })
            .collect();
        let variants = fmt.variants;
        if variants.has(Variant::ExtraLinkParameters) {
            query::extra_link_parameters(
                &mut link_query,
                params,
                self.raw_query,
                self.op,
                fmt.wire,
            );
        }
        if variants.has(Variant::LinkQueryOrder) {
            link_query.reverse();
        }
        let origin = if variants.has(Variant::LinkHost) {
            LINK_HOST_VARIANT.to_owned()
        } else {
            format!("http://{}", link_host(self.state, self.parts))
        };
        let spec = PageSpec {
            href_base: format!("{origin}{}", self.parts.uri.path()),
            page_num: params.page_num.clone(),
            items_per_page,
            include_count: !(family.include_count_honoured && params.include_count == Some(false)),
            link_query,
        };
        let at = (
            self.state,
            self.store_key(),
            self.raw_query,
            family.include_count_honoured,
        );
        let total = items.len() as u64;
        let page = render::page(items, &spec, faults, fmt.wire);
        crate::server::reach::page(page, &spec, total, at)
    }

    /// create and update: Content-Type, body, validation, then state.
    async fn write(
        &self,
        t: &IntegrationType,
        version: &Version,
        params: &Params,
        fmt: &Format<'_>,
        body: &mut Option<Body>,
    ) -> Result<Response, ApiError> {
        let faults = self.faults;
        let op = self.op;
        self.content_type_accepted()?;
        let value = self.json_body(body).await?;
        let fields = self.validated(t, &value)?;
        let all = self.store_write(t, fields, &value).await?;
        let status = if op.kind == OperationKind::Create && faults.has(Fault::CreateReturns201) {
            StatusCode::CREATED
        } else {
            StatusCode::from_u16(op.success_status).unwrap_or(StatusCode::OK)
        };
        let (params, fmt) = crate::server::reach::write_view(params, fmt, faults);
        let page = self.page_of(all, version, &params, Reveal::default(), &fmt);
        Ok(render::success(status, Payload::List(page), &fmt))
    }

    /// The settable fields of a valid body; an invalid one is refused (and, with a fault,
    /// partially applied first).
    fn validated(
        &self,
        t: &IntegrationType,
        value: &Value,
    ) -> Result<Map<String, Value>, ApiError> {
        let faults = self.faults;
        let op = self.op;
        let fields = match validate::body(t, value, self.state.patterns(), faults) {
            Ok(f) => f,
            Err(r) => {
                self.refusal_faults(t);
                if faults.has(Fault::FailedUpdatePartiallyApplied)
                    && op.kind == OperationKind::Update
                {
                    let partial = validate::partial(t, value, r.field.as_deref());
                    self.state
                        .store()
                        .patch(&self.store_key(), &t.name, partial);
                }
                let situation = if faults.has(Fault::WrongErrorCodeMissingAttribute)
                    && r.situation == Situation::RequiredMissing
                {
                    Situation::UnknownAttribute
                } else {
                    r.situation
                };
                let mut detail = r.detail.clone();
                if faults.has(Fault::SecretEchoedInError) {
                    detail.push_str(&format!(" Request body: {value}"));
                }
                let mut e = self.err(situation, detail);
                if let Some(f) = &r.field {
                    e = e.field(f);
                }
                if let Some(v) = &r.value {
                    e.parameters.push(json!(v));
                }
                return Err(e);
            }
        };

        Ok(fields)
    }

    /// Creates or updates the integration; every integration of the project afterwards.
    async fn store_write(
        &self,
        t: &IntegrationType,
        fields: Map<String, Value>,
        sent: &Value,
    ) -> Result<Vec<Integration>, ApiError> {
        let faults = self.faults;
        let op = self.op;
        let gid = self.group_id;
        let store = self.state.store();
        let result = if op.kind == OperationKind::Create && faults.has(Fault::CreateRace) {
            // The race the faithful store rules out: check, let other requests run, then write.
            if store.get(gid, &t.name).is_some() {
                Err(StateError::AlreadyConfigured)
            } else {
                tokio::time::sleep(CREATE_RACE_PAUSE).await;
                store.create(gid, &t.name, fields, true)
            }
        } else if op.kind == OperationKind::Create
            && crate::server::reach::recreate_refused(self.state, &self.store_key(), &t.name)
        {
            Err(StateError::AlreadyConfigured)
        } else if op.kind == OperationKind::Create {
            store.create(
                &self.store_key(),
                &t.name,
                fields,
                faults.has(Fault::DuplicateCreateOverwrites),
            )
        } else {
            let Some(mut rule) = op.update else {
                return Err(self.unexpected("update operation without an update rule"));
            };
            rule.merge ^= faults.has(Fault::UpdateMergeSemanticsSwapped);
            rule.upsert |= faults.has(Fault::V2UpdateUpserts);
            let mut fields = fields;
            self.update_faults(t, &mut fields, sent);
            if faults.has(Fault::UpdateKeepsUrls) {
                // Fault: URL fields are taken as fixed once configured.
                if let Some(old) = store.get(&self.store_key(), &t.name) {
                    for f in t
                        .fields
                        .iter()
                        .filter(|f| f.format.as_deref() == Some("uri"))
                    {
                        if let Some(v) = old.fields.get(&f.name) {
                            fields.insert(f.name.clone(), v.clone());
                        }
                    }
                }
            }
            if faults.has(Fault::UpdateNotAtomic) {
                store
                    .update_piecemeal(&self.store_key(), &t.name, fields, rule, PIECEMEAL_PAUSE)
                    .await
            } else {
                store.update(
                    &self.store_key(),
                    &t.name,
                    fields,
                    rule,
                    faults.has(Fault::IdChangesOnUpdate),
                )
            }
        };
        match result {
            Ok(all) => Ok(all),
            Err(StateError::AlreadyConfigured) => Err(self
                .err(
                    Situation::AlreadyConfigured,
                    format!(
                        "An integration of type {} is already configured in group {gid}.",
                        t.name
                    ),
                )
                .params(vec![json!(t.name), json!(gid)])),
            Err(StateError::NotConfigured) => Err(self.not_configured(&t.name)),
        }
    }
}
