//! Deliberate, switchable non-conformance of the reference server, so that the harness can prove
//! it notices each kind of bug (its self-test switches one fault on and expects a finding in the
//! fault's category).
//!
//! Each fault is one realistic bug an implementation could ship; it is off by default and leaves
//! everything else faithful. The category names the harness category that must catch it.

use std::fmt;
use std::str::FromStr;

use super::auth::AuthFaults;

/// Which part of the harness a fault was written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reach {
    /// The fixed cases of its category catch it (the fault self-test requires it).
    Fixed,
    /// Written where no fixed case looks (issue 20): only exploration over the contract's input
    /// space is expected to reach it, and the fixed suite catching it is a finding.
    Explore,
}

impl Reach {
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::Fixed => "fixed",
            Reach::Explore => "explore",
        }
    }
}

macro_rules! faults {
    ($($variant:ident => $name:literal, $category:literal, $reach:ident, $description:literal;)+) => {
        /// One deliberate bug of the reference server.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Fault { $($variant),+ }

        impl Fault {
            /// Every fault, grouped by category.
            pub const ALL: &'static [Fault] = &[$(Fault::$variant),+];

            /// The kebab-case name (`--fault NAME` on the command line).
            pub fn name(&self) -> &'static str {
                match self { $(Fault::$variant => $name),+ }
            }

            /// The harness category that must catch it.
            pub fn category(&self) -> &'static str {
                match self { $(Fault::$variant => $category),+ }
            }

            /// What the bug does, in one sentence.
            pub fn description(&self) -> &'static str {
                match self { $(Fault::$variant => $description),+ }
            }

            /// Which part of the harness is expected to find it.
            pub fn reach(&self) -> Reach {
                match self { $(Fault::$variant => Reach::$reach),+ }
            }
        }
    };
}

faults! {
    // ---- redaction
    SecretInClearOnGet => "secret-in-clear-on-get", "redaction", Fixed,
        "get returns masked secrets (mask-last4 and mask-url) in clear";
    SecretInClearInList => "secret-in-clear-in-list", "redaction", Fixed,
        "list bodies (list, create, update) return masked secrets in clear";
    MaskKeepsFirstFour => "mask-keeps-first-four", "redaction", Fixed,
        "mask-last4 shows the first four characters instead of the last four";
    MaskNotLengthPreserving => "mask-not-length-preserving", "redaction", Fixed,
        "mask-last4 returns a fixed **** plus the last four characters, whatever the length";
    UrlSecretUnmasked => "url-secret-unmasked", "redaction", Fixed,
        "mask-url fields come back in clear";
    WriteOnlyReturned => "write-only-returned", "redaction", Fixed,
        "write-only fields come back (in clear) in responses";
    SecretEchoedInError => "secret-echoed-in-error", "redaction", Fixed,
        "a rejected body is echoed, secrets included, in the error detail";
    PrettySkipsMasking => "pretty-skips-masking", "redaction", Fixed,
        "pretty=true renders stored values without masking";
    MaskCountsBytes => "mask-counts-bytes", "redaction", Fixed,
        "mask-last4 writes one * per UTF-8 byte instead of one per character";
    UrlMaskSkipsSlash => "url-mask-skips-slash", "redaction", Fixed,
        "mask-url does not count the / after the host, so a four-character path is hidden";
    UrlMaskDropsPort => "url-mask-drops-port", "redaction", Fixed,
        "mask-url keeps the scheme and host but drops the port";
    MaskSkipsPunctuation => "mask-skips-punctuation", "redaction", Fixed,
        "mask-last4 leaves dashes, underscores and dots in place instead of masking them";
    ShortSecretUnmasked => "short-secret-unmasked", "redaction", Fixed,
        "mask-last4 values of eight characters or fewer come back in clear";
    // ---- pagination
    TotalCountCountsPage => "total-count-counts-page", "pagination", Fixed,
        "totalCount counts the results of the page instead of all integrations";
    MissingNextLink => "missing-next-link", "pagination", Fixed,
        "the next link is never sent";
    PreviousOnFirstPage => "previous-on-first-page", "pagination", Fixed,
        "a previous link (pageNum=0) is sent on the first page too";
    PageNumZeroBased => "page-num-zero-based", "pagination", Fixed,
        "pageNum is taken as zero-based, so pageNum=1 skips the first page";
    ItemsPerPageIgnored => "items-per-page-ignored", "pagination", Fixed,
        "itemsPerPage is validated but pages always hold the default number of items";
    IncludeCountIgnored => "include-count-ignored", "pagination", Fixed,
        "includeCount=false still returns totalCount in families that honour it";
    PagePastEnd404 => "page-past-end-404", "pagination", Fixed,
        "a list page past the end is 404 instead of 200 with empty results";
    PageNumBoundedToI64 => "page-num-bounded-to-i64", "pagination", Fixed,
        "a pageNum past the signed 64-bit range is refused instead of being a page past the end";
    SignedIntegersIgnored => "signed-integers-ignored", "pagination", Fixed,
        "a query integer with a sign or a leading zero (+1, 01) is taken as absent (the default) instead of as 1 or refused";
    RepeatedParameterLastWins => "repeated-parameter-last-wins", "pagination", Fixed,
        "a repeated query parameter uses its last value instead of its first";
    UnknownQueryParameterRefused => "unknown-query-parameter-refused", "pagination", Fixed,
        "a query parameter no operation declares is 400 INVALID_QUERY_PARAMETER instead of ignored";
    ListOrderAlphabetical => "list-order-alphabetical", "pagination", Fixed,
        "results are sorted by type name instead of the family's list order";
    // ---- envelope
    EnvelopeIgnored => "envelope-ignored", "envelope", Fixed,
        "envelope=true is validated but has no effect";
    EnvelopeStatusAlways200 => "envelope-status-always-200", "envelope", Fixed,
        "the envelope's status field is always 200, errors included";
    EnvelopeMissingOnErrors => "envelope-missing-on-errors", "envelope", Fixed,
        "error bodies are not wrapped when envelope=true";
    EnvelopeSkippedOnEarlyErrors => "envelope-skipped-on-early-errors", "envelope", Fixed,
        "errors raised before the operation's own checks (group id, project, Accept, path) are not wrapped when envelope=true";
    EnvelopeHttp200 => "envelope-http-200", "envelope", Fixed,
        "with envelope=true, errors are answered with HTTP status 200";
    BooleansCaseInsensitive => "booleans-case-insensitive", "envelope", Fixed,
        "pretty and envelope take True or TRUE as true instead of refusing them";
    PrettyIgnored => "pretty-ignored", "envelope", Fixed,
        "pretty=true is validated but bodies stay on one line";
    // ---- errors
    TrailingBytesIgnored => "trailing-bytes-ignored", "validation", Fixed,
        "a body is read up to the end of its first JSON value; bytes after it are ignored";
    MalformedJson500 => "malformed-json-500", "validation", Fixed,
        "a body that is not JSON is a 500 UNEXPECTED_ERROR";
    WrongErrorCodeMissingAttribute => "wrong-error-code-missing-attribute", "validation", Fixed,
        "a missing required field is INVALID_ATTRIBUTE instead of MISSING_ATTRIBUTE";
    GroupNotFoundAsInvalidGroupId => "group-not-found-as-invalid-group-id", "errors", Fixed,
        "a well-formed but unknown groupId is INVALID_GROUP_ID instead of GROUP_NOT_FOUND";
    PlainTextNotFound => "plain-text-not-found", "errors", Fixed,
        "unknown paths get a plain-text 404 instead of the error body";
    MethodNotAllowed404 => "method-not-allowed-404", "errors", Fixed,
        "an unsupported method on a known path is a 404 instead of a 405 with Allow";
    DeleteUnconfigured204 => "delete-unconfigured-204", "errors", Fixed,
        "deleting a type that is not configured answers 204";
    CreateReturns201 => "create-returns-201", "state", Fixed,
        "create answers 201 instead of 200";
    ErrorReasonMissing => "error-reason-missing", "errors", Fixed,
        "error bodies lack the reason field";
    ErrorReasonOfAnotherStatus => "error-reason-of-another-status", "errors", Fixed,
        "every error body's reason is Bad Request, whatever its status";
    UnsupportedTypeGenericCode => "unsupported-type-generic-code", "errors", Fixed,
        "unsupported types get INVALID_ENUM_VALUE instead of their specific error code";
    // ---- auth
    ReadOnlyCanWrite => "read-only-can-write", "auth", Fixed,
        "read-only credentials may create, update and delete";
    OtherProjectReadable => "other-project-readable", "auth", Fixed,
        "any credentials may list and get the integrations of a project they have no role in";
    GetWithoutCredentials => "get-without-credentials", "auth", Fixed,
        "GET requests without an Authorization header are served";
    ExpiredTokenAccepted => "expired-token-accepted", "auth", Fixed,
        "bearer tokens past their expiry are accepted";
    WrongDigestPasswordAccepted => "wrong-digest-password-accepted", "auth", Fixed,
        "a digest response computed with a wrong password is accepted";
    DigestNcReplayAccepted => "digest-nc-replay-accepted", "auth", Fixed,
        "a digest nonce count already used with the same nonce is accepted";
    DigestUriUnchecked => "digest-uri-unchecked", "auth", Fixed,
        "a digest response computed for another request target (its uri) is accepted";
    TokenGrantTypeUnchecked => "token-grant-type-unchecked", "auth", Fixed,
        "the token endpoint issues a token whatever grant_type the request names";
    StaleFlagMissing => "stale-flag-missing", "auth", Fixed,
        "the challenge after an expired nonce lacks stale=true";
    ChallengeWithoutQop => "challenge-without-qop", "auth", Fixed,
        "the digest challenge that refuses a digest response names no qop (the first challenge, to a request without credentials, still does)";
    TokenAnyClientSecret => "token-any-client-secret", "auth", Fixed,
        "the token endpoint issues a token to a known client id whatever secret comes with it";
    NoAccessTellsKind => "no-access-tells-kind", "auth", Fixed,
        "the project's kind is checked before the caller's access, so a caller without access to a project of the other kind learns its kind (ATLAS_GROUP / NOT_ATLAS_GROUP)";
    // ---- versions
    AcceptHeaderIgnored => "accept-header-ignored", "versions", Fixed,
        "atlas-v2 serves the oldest version when Accept names no supported version, instead of 406";
    AcceptQValuesIgnored => "accept-q-values-ignored", "versions", Fixed,
        "atlas-v2 picks the first supported media type in Accept, whatever the q-values";
    ResponseMediaTypePlainJson => "response-media-type-plain-json", "versions", Fixed,
        "atlas-v2 successes are application/json instead of the negotiated media type";
    ErrorMediaTypeVersioned => "error-media-type-versioned", "versions", Fixed,
        "atlas-v2 errors carry the versioned media type instead of application/json";
    NoContentWithoutMediaType => "v2-204-without-content-type", "versions", Fixed,
        "atlas-v2 204 answers carry no Content-Type";
    V2023FieldsIn2025 => "v2023-fields-in-2025", "versions", Fixed,
        "fields of any version of a type are accepted and returned under every version";
    // ---- validation
    UnknownFieldAccepted => "unknown-field-accepted", "validation", Fixed,
        "fields the type does not have are silently dropped instead of refused";
    RequiredNullAccepted => "required-null-accepted", "validation", Fixed,
        "a required field sent as null is accepted (and then missing)";
    EnumUnchecked => "enum-unchecked", "validation", Fixed,
        "enum fields accept any string";
    EnumFirstMembersOnly => "enum-first-members-only", "validation", Fixed,
        "enum fields accept only their first two members (an outdated member list)";
    PatternUnchecked => "pattern-unchecked", "validation", Fixed,
        "pattern rules are not checked";
    LengthUnchecked => "length-unchecked", "validation", Fixed,
        "minLength and maxLength are not checked";
    UrlUnchecked => "url-unchecked", "validation", Fixed,
        "URL fields (format uri) are not checked at all, pattern included";
    ConditionalRequiredUnchecked => "conditional-required-unchecked", "validation", Fixed,
        "conditionally required fields (https needs tlsPemPath) are not checked";
    TypeMismatchAccepted => "type-mismatch-accepted", "validation", Fixed,
        "fields of the wrong JSON type are accepted and stored as sent";
    DefaultsNotReturned => "defaults-not-returned", "validation", Fixed,
        "fields that were not sent are omitted instead of returned with their default";
    OptionalEmptyStringDropped => "optional-empty-string-dropped", "validation", Fixed,
        "an optional field sent as an empty string is dropped instead of stored";
    LengthCountsBytes => "length-counts-bytes", "validation", Fixed,
        "length rules count UTF-8 bytes instead of characters";
    ContentTypeExact => "content-type-exact", "validation", Fixed,
        "the request Content-Type must equal a media type as written: parameters (charset) or other letter cases are 415";
    // ---- state
    DuplicateCreateOverwrites => "duplicate-create-overwrites", "state", Fixed,
        "create of a configured type overwrites it instead of answering 409";
    UpdateMergeSemanticsSwapped => "update-merge-semantics-swapped", "state", Fixed,
        "update merges where the family replaces, and replaces where it merges";
    FailedUpdatePartiallyApplied => "failed-update-partially-applied", "state", Fixed,
        "an update refused for one field still stores the other fields it carried";
    V2UpdateUpserts => "v2-update-upserts", "state", Fixed,
        "update of an unconfigured type creates it in families that answer 404";
    FailedWriteDropsOtherType => "failed-write-drops-another-type", "state", Fixed,
        "a create or update refused by validation removes another configured integration of the project (a rollback that undoes the wrong row)";
    MaskSentBackKept => "mask-sent-back-kept", "state", Fixed,
        "an update that sends back the mask a secret is shown as keeps the stored value (the mask read as \"unchanged\")";
    V2UpdateStoresId => "v2-update-stores-id", "state", Fixed,
        "an atlas-v2 update stores an id string sent in its body in place of the assigned id";
    IdChangesOnUpdate => "id-changes-on-update", "state", Fixed,
        "the server-assigned id changes on every update";
    AssignedIdInV1 => "assigned-id-in-v1", "state", Fixed,
        "families without a server-assigned id return one anyway (the field another family assigns)";
    DeleteKeepsIntegration => "delete-keeps-integration", "state", Fixed,
        "delete answers 204 but the integration stays configured";
    UpdateKeepsUrls => "update-keeps-urls", "state", Fixed,
        "an update keeps the stored URL fields instead of the new values it sent";
    // ---- concurrency
    CreateRace => "create-race", "concurrency", Fixed,
        "create checks, pauses, then writes: concurrent creates of one type all succeed and the last overwrites the others";
    UpdateNotAtomic => "update-not-atomic", "concurrency", Fixed,
        "an update writes its fields one at a time with a pause between, so concurrent updates leave a mixture and a read sees half an update";
    // ---- where no fixed case looks (issue 20): paths
    TrailingSlashServed => "trailing-slash-served", "errors", Explore,
        "a path with a trailing slash is served as the path without it instead of 404 RESOURCE_NOT_FOUND";
    DoubleSlashCollapsed => "double-slash-collapsed", "errors", Explore,
        "empty path segments (a double slash) are collapsed and the path served instead of 404";
    PercentEncodedTypeRefused => "percent-encoded-type-refused", "errors", Explore,
        "a percent-encoded integrationType (%53LACK) is not decoded, so a valid type is 400 INVALID_ENUM_VALUE";
    PathTypeCaseInsensitive => "path-type-case-insensitive", "errors", Explore,
        "the path's integrationType is upper-cased before the enum check, so slack is served as SLACK";
    GroupIdTrimmed => "group-id-trimmed", "errors", Explore,
        "a groupId with surrounding whitespace (%20) is trimmed and served instead of 404 INVALID_GROUP_ID";
    // ---- headers
    AcceptFirstItemOnly => "accept-first-item-only", "versions", Explore,
        "atlas-v2 looks only at the first media type of an Accept list, so a supported version after another type is 406";
    AcceptQZeroAccepted => "accept-q-zero-accepted", "versions", Explore,
        "atlas-v2 ignores q=0, so a version the client refuses is served";
    AcceptParametersRefused => "accept-parameters-refused", "versions", Explore,
        "an Accept media type with a parameter other than q (charset=utf-8) no longer matches its version";
    AcceptTypeCaseSensitive => "accept-type-case-sensitive", "versions", Explore,
        "atlas-v2 compares Accept media types case-sensitively, so APPLICATION/vnd.atlas.2025-03-12+JSON is 406";
    AcceptItemsUntrimmed => "accept-items-untrimmed", "versions", Explore,
        "Accept list items keep the whitespace after the comma, so the second item of \"a, b\" never matches";
    AcceptSubtypeWildcardServed => "accept-subtype-wildcard-served", "versions", Explore,
        "atlas-v2 serves its newest version for Accept: application/* instead of 406";
    // ---- query parameters on operations no case sends them to
    PageParamsValidatedOnGet => "page-params-validated-on-get", "pagination", Explore,
        "get and delete validate pageNum, itemsPerPage and includeCount (400 on a bad value) instead of ignoring them";
    IncludeCountHonouredOnCm => "include-count-honoured-on-cm", "pagination", Explore,
        "cloud-manager honours includeCount=false (omits totalCount) instead of ignoring it";
    IncludeCountIgnoredOnWrites => "include-count-ignored-on-writes", "pagination", Explore,
        "the list bodies of create and update keep totalCount under includeCount=false";
    PageParamsIgnoredOnWrites => "page-params-ignored-on-writes", "pagination", Explore,
        "the list bodies of create and update are always the first page of the default size";
    EnvelopeNeedsPrettyOnWrites => "envelope-needs-pretty-on-writes", "envelope", Explore,
        "create and update wrap their answer under envelope=true only when pretty=true is also set";
    PrettyIgnoredOnDeleteErrors => "pretty-ignored-on-delete-errors", "envelope", Explore,
        "delete's error bodies stay on one line under pretty=true";
    // ---- values a little past the longest generated
    LongSecretInClear => "long-secret-in-clear", "redaction", Explore,
        "mask-last4 values longer than 128 characters come back in clear";
    LongSecretMaskCapped => "long-secret-mask-capped", "redaction", Explore,
        "mask-last4 writes at most 60 stars, so a secret longer than 64 characters comes back shorter";
    LongStringTruncated => "long-string-truncated", "state", Explore,
        "string values longer than 160 characters are stored cut to 160";
    LengthCountsUtf16 => "length-counts-utf16", "validation", Explore,
        "length rules count UTF-16 code units, so 41 to 80 characters outside the BMP are refused";
    // ---- another letter case, surrounding whitespace
    EnumValueTrimmed => "enum-value-trimmed", "validation", Explore,
        "enum values with surrounding whitespace (\" US\") are trimmed and accepted instead of INVALID_ENUM_VALUE";
    EnumCaseInsensitive => "enum-case-insensitive", "validation", Explore,
        "enum values in another letter case (us) are accepted and stored as the member they match";
    FieldNamesCaseInsensitive => "field-names-case-insensitive", "validation", Explore,
        "body field names match in any letter case (Type, ServiceKey) instead of being unknown attributes";
    TypeValueTrimmed => "type-value-trimmed", "validation", Explore,
        "a body type with surrounding whitespace (\"PAGER_DUTY \") is taken as equal to the path's";
    TypeValueCaseInsensitive => "type-value-case-insensitive", "validation", Explore,
        "a body type in another letter case (slack) is taken as equal to the path's";
    StringValuesTrimmed => "string-values-trimmed", "state", Explore,
        "string values are stored without their leading and trailing whitespace";
    BooleanStringsAccepted => "boolean-strings-accepted", "validation", Explore,
        "boolean fields accept the strings \"true\" and \"false\" and store them as booleans";
    BlankRequiredRefused => "blank-required-refused", "validation", Explore,
        "a required string of only whitespace is refused as empty (INVALID_INTEGRATION_SETTINGS)";
    // ---- a list after a delete; a second project
    ListStaleAfterDelete => "list-stale-after-delete", "state", Explore,
        "a list cache refreshed by creates and updates only: lists after a delete still show the deleted integration";
    TotalCountNotDecremented => "total-count-not-decremented", "pagination", Explore,
        "totalCount is a counter that deletes never decrement";
    NextLinkAfterDelete => "next-link-after-delete", "pagination", Explore,
        "after a delete, the next link is computed from the count before it, so a last page still links to a next one";
    DeleteThenCreate409 => "delete-then-create-409", "state", Explore,
        "a deleted type stays soft-deleted: creating it again in the project is 409 INTEGRATION_ALREADY_CONFIGURED";
    GetFallsBackToOtherProject => "get-falls-back-to-other-project", "state", Explore,
        "get of a type the project has not configured returns that type of another project of the same kind";
    ListShowsOtherProject => "list-shows-other-project", "state", Explore,
        "lists also show the integrations of other projects of the same kind (a query filtered by kind, not project)";
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fault::ALL
            .iter()
            .copied()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let s: String = s.chars().take(64).collect();
                let known: Vec<&str> = Fault::ALL.iter().map(Fault::name).collect();
                format!("unknown fault {s:?}; known faults: {}", known.join(", "))
            })
    }
}

/// The faults switched on, as a bit set (cheap to copy into every request).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FaultSet(u128);

impl FaultSet {
    pub(crate) fn new(faults: &[Fault]) -> Self {
        FaultSet(faults.iter().fold(0, |acc, f| acc | bit(*f)))
    }

    pub(crate) fn has(self, f: Fault) -> bool {
        self.0 & bit(f) != 0
    }

    pub(crate) fn to_vec(self) -> Vec<Fault> {
        Fault::ALL
            .iter()
            .copied()
            .filter(|f| self.has(*f))
            .collect()
    }

    /// The part of the set that the authentication layer implements.
    pub(crate) fn auth(self) -> AuthFaults {
        AuthFaults {
            accept_wrong_digest_password: self.has(Fault::WrongDigestPasswordAccepted),
            accept_expired_tokens: self.has(Fault::ExpiredTokenAccepted),
            accept_replayed_nonce_count: self.has(Fault::DigestNcReplayAccepted),
            accept_other_uri: self.has(Fault::DigestUriUnchecked),
            accept_any_grant_type: self.has(Fault::TokenGrantTypeUnchecked),
            accept_any_client_secret: self.has(Fault::TokenAnyClientSecret),
        }
    }
}

fn bit(f: Fault) -> u128 {
    1u128 << (f as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const CATEGORIES: [&str; 9] = [
        "validation",
        "redaction",
        "pagination",
        "envelope",
        "errors",
        "auth",
        "versions",
        "state",
        "concurrency",
    ];

    #[test]
    fn names_are_unique_kebab_and_parse_back() {
        assert!(Fault::ALL.len() >= 25);
        assert!(Fault::ALL.len() <= 128, "FaultSet is a u128");
        let mut seen = HashSet::new();
        for f in Fault::ALL {
            assert!(seen.insert(f.name()), "duplicate {f}");
            assert!(f
                .name()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
            assert_eq!(f.name().parse::<Fault>(), Ok(*f));
            assert!(CATEGORIES.contains(&f.category()), "{f}");
            assert!(!f.description().is_empty());
        }
        for c in CATEGORIES {
            assert!(Fault::ALL.iter().any(|f| f.category() == c), "{c}");
        }
        assert!("nope".parse::<Fault>().is_err());
    }

    #[test]
    fn set_round_trips() {
        let s = FaultSet::new(&[Fault::DeleteKeepsIntegration, Fault::SecretInClearOnGet]);
        assert!(s.has(Fault::SecretInClearOnGet));
        assert!(!s.has(Fault::EnvelopeIgnored));
        assert_eq!(
            s.to_vec(),
            vec![Fault::SecretInClearOnGet, Fault::DeleteKeepsIntegration]
        );
        assert_eq!(FaultSet::default().auth(), AuthFaults::default());
        assert!(
            FaultSet::new(&[Fault::ExpiredTokenAccepted])
                .auth()
                .accept_expired_tokens
        );
    }
}
