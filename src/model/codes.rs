//! The status and `errorCode` of each situation, for an answer whose operation's catalogue row
//! has no code (or that has no row): read from the spec's catalogues, built once with the model.
//!
//! For each situation, in this order:
//! 1. the code every catalogue row of that situation gives (the operations' `x-errors` and
//!    `x-unmatched`), rows about one integration type (`unsupported-type`) aside, as they speak
//!    for that type only;
//! 2. the code of the situation it is answered as ([`ANSWERED_AS`]) when its rows give none or
//!    disagree;
//! 3. the minimal fallback of [`FALLBACK`], for what the contract (section 5, section 8) gives a
//!    status but names no code for;
//! 4. for a spec without a single row of the situation: status 400 and the situation's own name
//!    in capitals.
//!
//! The status is the situation's rows' (the first), else that of steps 2 to 4.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{ErrorRule, Family, Situation};

/// Situations whose rows give no single code, answered as another situation is: an unsupported
/// type without a row for it is a type outside what the family serves, and a project of the
/// other kind (its rows give `ATLAS_GROUP` or `NOT_ATLAS_GROUP` per family) is, without a row, a
/// resource that is not there.
const ANSWERED_AS: &[(Situation, Situation)] = &[
    (
        Situation::UnsupportedType,
        Situation::InvalidIntegrationType,
    ),
    (Situation::WrongProjectKind, Situation::UnknownPath),
];

/// The codes the contract leaves open (it gives the status only, and the spec's rows have no
/// `errorCode`): what the reference server sends there. Not API names the harness checks: a
/// target may answer any code at these rows' levels.
pub const FALLBACK: &[(Situation, u16, &str)] = &[
    (Situation::Unauthenticated, 401, "UNAUTHORIZED"),
    (Situation::DigestUriMismatch, 401, "UNAUTHORIZED"),
    (
        Situation::UnsupportedMediaType,
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    (Situation::PayloadTooLarge, 413, "PAYLOAD_TOO_LARGE"),
    (Situation::MethodNotAllowed, 405, "METHOD_NOT_ALLOWED"),
];

/// Each situation's status and `errorCode` (see the module's doc), for every situation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ErrorCodes(BTreeMap<Situation, (u16, String)>);

impl ErrorCodes {
    /// The table for the catalogues of `families` and the unmatched rows.
    pub(super) fn of(families: &[Family], unmatched: &[ErrorRule]) -> ErrorCodes {
        let rows: Vec<&ErrorRule> = families
            .iter()
            .flat_map(|f| &f.operations)
            .flat_map(|o| &o.errors)
            .chain(unmatched)
            .collect();
        let status = |s: Situation| rows.iter().find(|r| r.situation == s).map(|r| r.status);
        let code = |s: Situation| {
            let mut codes = rows
                .iter()
                .filter(|r| r.situation == s && r.integration_type.is_none())
                .filter_map(|r| r.error_code.as_deref());
            let first = codes.next()?;
            codes.all(|c| c == first).then(|| first.to_owned())
        };
        let own = |s: Situation| -> Option<(u16, String)> {
            if let Some(c) = code(s) {
                return Some((status(s).unwrap_or(400), c));
            }
            FALLBACK
                .iter()
                .find(|(f, _, _)| *f == s)
                .map(|(_, st, c)| (status(s).unwrap_or(*st), (*c).to_owned()))
        };
        let table = Situation::ALL
            .iter()
            .map(|&s| {
                let answer = own(s)
                    .or_else(|| {
                        let (_, to) = ANSWERED_AS.iter().find(|(from, _)| *from == s)?;
                        own(*to).map(|(st, c)| (status(s).unwrap_or(st), c))
                    })
                    .unwrap_or_else(|| {
                        let name = s.as_str().replace('-', "_").to_uppercase();
                        (status(s).unwrap_or(400), name)
                    });
                (s, answer)
            })
            .collect();
        ErrorCodes(table)
    }

    /// The `errorCode` of `situation`.
    pub fn code(&self, situation: Situation) -> &str {
        self.0.get(&situation).map_or("", |(_, c)| c.as_str())
    }

    /// The status of `situation`.
    pub fn status(&self, situation: Situation) -> u16 {
        self.0.get(&situation).map_or(400, |(s, _)| *s)
    }

    /// Every code of the table.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.0.values().map(|(_, c)| c.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_situation_has_the_code_the_server_always_sent() {
        let m = crate::model::bundled().unwrap();
        let c = &m.wire.codes;
        // What `server/error.rs` spelled before the table: the same answers, from the spec.
        let before: &[(Situation, u16, &str)] = &[
            (Situation::Unauthenticated, 401, "UNAUTHORIZED"),
            (Situation::DigestUriMismatch, 401, "UNAUTHORIZED"),
            (Situation::NoProjectAccess, 401, "NOT_IN_GROUP"),
            (Situation::ReadOnlyWrite, 401, "USER_UNAUTHORIZED"),
            (Situation::UnsupportedVersion, 406, "INVALID_VERSION_DATE"),
            (Situation::InvalidGroupId, 404, "INVALID_GROUP_ID"),
            (Situation::GroupNotFound, 404, "GROUP_NOT_FOUND"),
            (Situation::WrongProjectKind, 404, "RESOURCE_NOT_FOUND"),
            (Situation::InvalidIntegrationType, 400, "INVALID_ENUM_VALUE"),
            (Situation::UnsupportedType, 400, "INVALID_ENUM_VALUE"),
            (Situation::EnumInvalid, 400, "INVALID_ENUM_VALUE"),
            (Situation::NotConfigured, 404, "INTEGRATION_NOT_CONFIGURED"),
            (
                Situation::AlreadyConfigured,
                409,
                "INTEGRATION_ALREADY_CONFIGURED",
            ),
            (Situation::MalformedJson, 400, "MALFORMED_JSON"),
            (Situation::BodyNotObject, 400, "INVALID_JSON"),
            (Situation::WrongJsonType, 400, "INVALID_JSON_ATTRIBUTE"),
            (Situation::TypeMissing, 400, "MISSING_ATTRIBUTE"),
            (Situation::RequiredMissing, 400, "MISSING_ATTRIBUTE"),
            (Situation::TypeMismatch, 400, "INVALID_ATTRIBUTE"),
            (Situation::UnknownAttribute, 400, "INVALID_ATTRIBUTE"),
            (
                Situation::InvalidSettings,
                400,
                "INVALID_INTEGRATION_SETTINGS",
            ),
            (
                Situation::UnsupportedMediaType,
                415,
                "UNSUPPORTED_MEDIA_TYPE",
            ),
            (Situation::PayloadTooLarge, 413, "PAYLOAD_TOO_LARGE"),
            (
                Situation::InvalidQueryParameter,
                400,
                "INVALID_QUERY_PARAMETER",
            ),
            (Situation::UnknownPath, 404, "RESOURCE_NOT_FOUND"),
            (Situation::MethodNotAllowed, 405, "METHOD_NOT_ALLOWED"),
        ];
        assert_eq!(before.len(), Situation::ALL.len());
        for (s, status, code) in before {
            assert_eq!((c.status(*s), c.code(*s)), (*status, *code), "{s}");
        }
    }

    #[test]
    fn a_spec_without_a_situation_still_answers_it() {
        let m = crate::model::bundled().unwrap();
        let c = ErrorCodes::of(&[], &[]);
        assert_eq!(c.code(Situation::GroupNotFound), "GROUP_NOT_FOUND");
        assert_eq!(c.status(Situation::GroupNotFound), 400);
        assert_eq!(c.code(Situation::MethodNotAllowed), "METHOD_NOT_ALLOWED");
        assert_eq!(c.status(Situation::MethodNotAllowed), 405);
        // An unsupported type without a row is answered as a type outside the family's enum.
        assert_eq!(
            m.wire.codes.code(Situation::UnsupportedType),
            m.wire.codes.code(Situation::InvalidIntegrationType)
        );
    }
}
