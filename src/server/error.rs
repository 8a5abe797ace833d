//! The one error type of the reference server (as in dropshot): every rejection, at any stage,
//! is an [`ApiError`] with an external part (status, `errorCode`, `detail`, `parameters`: what
//! the client sees, in the contract's error shape) and an internal part (what a log may see).
//! Nothing reaches the client through axum's default plain-text rejections.
//!
//! Status and `errorCode` come from the operation's error catalogue in the model
//! ([`crate::model::ErrorRule`]); for rows a spec lacks or rows without an `errorCode`, from the
//! model's table of every situation ([`crate::model::ErrorCodes`], `Wire::codes`).

use axum::http::{HeaderName, HeaderValue, StatusCode};
use serde_json::{json, Value};

use crate::model::{ErrorCodes, ErrorNames, ErrorRule, Level, Operation, Situation};

use super::variant::{Variant, VariantSet};

/// A rejection, in the contract's error shape. Boxed: it travels in every `Result` of the
/// pipeline.
#[derive(Debug, Clone)]
pub(crate) struct ApiError(Box<ErrorData>);

#[derive(Debug, Clone)]
pub(crate) struct ErrorData {
    pub(crate) status: StatusCode,
    pub(crate) code: String,
    /// Human text. Never holds a secret.
    pub(crate) detail: String,
    /// The fields or values the detail names. Never holds a secret.
    pub(crate) parameters: Vec<Value>,
    /// Extra response headers (`WWW-Authenticate`, `Allow`).
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// For logs and `Debug` only; never sent.
    pub(crate) internal: Option<String>,
    /// The catalogue row's `parameters` template (`{field}` = the offending field).
    template: Vec<String>,
    /// The situation and its catalogue row's level, when the error comes from the catalogue;
    /// the variants change only what the level leaves open.
    pub(crate) situation: Option<Situation>,
    pub(crate) level: Option<Level>,
    /// Other statuses the row accepts (level C).
    pub(crate) also_status: Vec<u16>,
}

impl std::ops::Deref for ApiError {
    type Target = ErrorData;

    fn deref(&self) -> &ErrorData {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ErrorData {
        &mut self.0
    }
}

/// Cuts user input that is quoted in a detail, so that a 1 MiB value is not echoed whole.
pub(crate) fn quote_input(s: &str) -> String {
    const MAX: usize = 64;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{head}…")
    }
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        ApiError(Box::new(ErrorData {
            status,
            code: code.to_owned(),
            detail: detail.into(),
            parameters: Vec::new(),
            headers: Vec::new(),
            internal: None,
            template: Vec::new(),
            situation: None,
            level: None,
            also_status: Vec::new(),
        }))
    }

    /// The error for `situation` as `op`'s catalogue defines it (else as `codes` does).
    pub(crate) fn of(
        codes: &ErrorCodes,
        op: Option<&Operation>,
        situation: Situation,
        detail: impl Into<String>,
    ) -> Self {
        Self::from_row(
            codes,
            op.and_then(|o| o.error(situation)),
            situation,
            detail,
        )
    }

    /// The error for an unsupported type: the catalogue row naming that type.
    pub(crate) fn unsupported_type(
        codes: &ErrorCodes,
        op: &Operation,
        type_name: &str,
        detail: impl Into<String>,
    ) -> Self {
        let row = op
            .errors_for(Situation::UnsupportedType)
            .find(|r| r.integration_type.as_deref() == Some(type_name));
        Self::from_row(codes, row, Situation::UnsupportedType, detail)
    }

    fn from_row(
        codes: &ErrorCodes,
        row: Option<&ErrorRule>,
        situation: Situation,
        detail: impl Into<String>,
    ) -> Self {
        let status = row.map_or(codes.status(situation), |r| r.status);
        let code = row
            .and_then(|r| r.error_code.as_deref())
            .unwrap_or(codes.code(situation));
        let mut e = ApiError::new(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            code,
            detail,
        );
        e.template = row.map(|r| r.parameters.clone()).unwrap_or_default();
        e.situation = Some(situation);
        e.level = row.map(|r| r.level);
        e.also_status = row.map(|r| r.also_status.clone()).unwrap_or_default();
        e
    }

    /// The error as a server with `variants` sends it: only what the row's level leaves open
    /// changes (errors outside the catalogue, 404 and 405 of unknown routes, count as level S).
    pub(crate) fn with_variants(mut self, variants: VariantSet) -> Self {
        let level = self.level.unwrap_or(Level::S);
        let client_error = self.status.is_client_error();
        if variants.has(Variant::OtherClassStatus)
            && level == Level::C
            && self.also_status.is_empty()
        {
            // A body over the limit keeps its 413, so that the reason-phrase variants, which
            // differ most there, still meet it when every variant is on.
            match self.situation {
                Some(Situation::TypeMismatch) => self.status = StatusCode::UNPROCESSABLE_ENTITY,
                Some(Situation::UnsupportedMediaType) => self.status = StatusCode::BAD_REQUEST,
                _ => {}
            }
        }
        if variants.has(Variant::OtherErrorCodes) && level != Level::E && client_error {
            self.code = match self.status.as_u16() {
                401 | 403 => "ACCESS_DENIED",
                404 => "NOT_FOUND",
                _ => "REQUEST_REJECTED",
            }
            .to_owned();
        }
        let params_fixed = level == Level::E && !self.template.is_empty();
        if variants.has(Variant::OtherParameters) && !params_fixed {
            self.parameters = Vec::new();
        }
        if variants.has(Variant::OtherDetails) {
            self.detail = format!(
                "Request refused with status {}. {}",
                self.status.as_u16(),
                self.detail
            );
        }
        self
    }

    /// Names the offending field: the catalogue's `parameters` template with `{field}` filled
    /// in, or `[field]` when the row has no template.
    pub(crate) fn field(mut self, field: &str) -> Self {
        self.parameters = if self.template.is_empty() {
            vec![json!(field)]
        } else {
            self.template
                .iter()
                .map(|p| json!(if p == "{field}" { field } else { p.as_str() }))
                .collect()
        };
        self
    }

    pub(crate) fn params(mut self, parameters: Vec<Value>) -> Self {
        self.parameters = parameters;
        self
    }

    pub(crate) fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    pub(crate) fn internal(mut self, message: impl Into<String>) -> Self {
        self.internal = Some(message.into());
        self
    }

    /// The error body, in the public API's wire order.
    pub(crate) fn body(
        &self,
        names: &ErrorNames,
        with_reason: bool,
        variants: VariantSet,
    ) -> Value {
        let mut body = serde_json::Map::new();
        body.insert(names.detail.clone(), json!(self.detail));
        body.insert(names.status.clone(), json!(self.status.as_u16()));
        body.insert(names.code.clone(), json!(self.code));
        body.insert(names.parameters.clone(), json!(self.parameters));
        if with_reason {
            let canonical = self.status.canonical_reason().unwrap_or("Unknown");
            let status = self.status.as_u16();
            body.insert(
                names.reason.clone(),
                json!(variants.reason_case(status, variants.reason(status, canonical))),
            );
        }
        Value::Object(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model;

    #[test]
    fn rows_come_from_the_catalogue() {
        let m = model::bundled().unwrap();
        let f = m.family("cloud-manager").unwrap();
        let create = f.operation(model::OperationKind::Create);
        let e = ApiError::of(&m.wire.codes, Some(create), Situation::RequiredMissing, "x")
            .field("apiKey");
        assert_eq!(
            (e.status.as_u16(), e.code.as_str()),
            (400, "MISSING_ATTRIBUTE")
        );
        assert_eq!(e.parameters, vec![json!("apiKey")]);
        let e =
            ApiError::of(&m.wire.codes, Some(create), Situation::TypeMissing, "x").field("type");
        assert_eq!(e.parameters, vec![json!("type")]);
        let e = ApiError::of(
            &m.wire.codes,
            Some(create),
            Situation::WrongProjectKind,
            "x",
        );
        assert_eq!(e.code, "ATLAS_GROUP");
        let e = ApiError::unsupported_type(&m.wire.codes, create, "DATADOG", "x");
        assert_eq!(e.code, "DATADOG_NOT_SUPPORTED_FOR_CLOUD_MANAGER");
        // a row without a code falls back
        let e = ApiError::of(
            &m.wire.codes,
            Some(create),
            Situation::UnsupportedMediaType,
            "x",
        );
        assert_eq!(
            (e.status.as_u16(), e.code.as_str()),
            (415, "UNSUPPORTED_MEDIA_TYPE")
        );
        let body = e.body(
            &model::bundled().unwrap().wire.error,
            true,
            VariantSet::default(),
        );
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["detail", "error", "errorCode", "parameters", "reason"]
        );
        assert_eq!(body["reason"], "Unsupported Media Type");
    }

    #[test]
    fn quotes_are_cut() {
        assert_eq!(quote_input("abc"), "abc");
        assert_eq!(quote_input(&"x".repeat(1000)).chars().count(), 65);
    }
}
