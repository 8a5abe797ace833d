//! Deliberate, switchable non-conformance of the reference server, so that the harness can prove
//! it notices each kind of bug (its self-test switches one fault on and expects a finding in the
//! fault's category).
//!
//! Each fault is one realistic bug an implementation could ship; it is off by default and leaves
//! everything else faithful. The category names the harness category that must catch it.

use std::fmt;
use std::str::FromStr;

use super::auth::AuthFaults;

macro_rules! faults {
    ($($variant:ident => $name:literal, $category:literal, $description:literal;)+) => {
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
        }
    };
}

faults! {
    // ---- redaction
    SecretInClearOnGet => "secret-in-clear-on-get", "redaction",
        "get returns masked secrets (mask-last4 and mask-url) in clear";
    SecretInClearInList => "secret-in-clear-in-list", "redaction",
        "list bodies (list, create, update) return masked secrets in clear";
    MaskKeepsFirstFour => "mask-keeps-first-four", "redaction",
        "mask-last4 shows the first four characters instead of the last four";
    MaskNotLengthPreserving => "mask-not-length-preserving", "redaction",
        "mask-last4 returns a fixed **** plus the last four characters, whatever the length";
    UrlSecretUnmasked => "url-secret-unmasked", "redaction",
        "mask-url fields come back in clear";
    WriteOnlyReturned => "write-only-returned", "redaction",
        "write-only fields come back (in clear) in responses";
    SecretEchoedInError => "secret-echoed-in-error", "redaction",
        "a rejected body is echoed, secrets included, in the error detail";
    PrettySkipsMasking => "pretty-skips-masking", "redaction",
        "pretty=true renders stored values without masking";
    MaskCountsBytes => "mask-counts-bytes", "redaction",
        "mask-last4 writes one * per UTF-8 byte instead of one per character";
    UrlMaskSkipsSlash => "url-mask-skips-slash", "redaction",
        "mask-url does not count the / after the host, so a four-character path is hidden";
    UrlMaskDropsPort => "url-mask-drops-port", "redaction",
        "mask-url keeps the scheme and host but drops the port";
    MaskSkipsPunctuation => "mask-skips-punctuation", "redaction",
        "mask-last4 leaves dashes, underscores and dots in place instead of masking them";
    ShortSecretUnmasked => "short-secret-unmasked", "redaction",
        "mask-last4 values of eight characters or fewer come back in clear";
    // ---- pagination
    TotalCountCountsPage => "total-count-counts-page", "pagination",
        "totalCount counts the results of the page instead of all integrations";
    MissingNextLink => "missing-next-link", "pagination",
        "the next link is never sent";
    PreviousOnFirstPage => "previous-on-first-page", "pagination",
        "a previous link (pageNum=0) is sent on the first page too";
    PageNumZeroBased => "page-num-zero-based", "pagination",
        "pageNum is taken as zero-based, so pageNum=1 skips the first page";
    ItemsPerPageIgnored => "items-per-page-ignored", "pagination",
        "itemsPerPage is validated but pages always hold the default number of items";
    IncludeCountIgnored => "include-count-ignored", "pagination",
        "includeCount=false still returns totalCount in families that honour it";
    PagePastEnd404 => "page-past-end-404", "pagination",
        "a list page past the end is 404 instead of 200 with empty results";
    PageNumBoundedToI64 => "page-num-bounded-to-i64", "pagination",
        "a pageNum past the signed 64-bit range is refused instead of being a page past the end";
    SignedIntegersIgnored => "signed-integers-ignored", "pagination",
        "a query integer with a sign or a leading zero (+1, 01) is taken as absent (the default) instead of as 1 or refused";
    RepeatedParameterLastWins => "repeated-parameter-last-wins", "pagination",
        "a repeated query parameter uses its last value instead of its first";
    UnknownQueryParameterRefused => "unknown-query-parameter-refused", "pagination",
        "a query parameter no operation declares is 400 INVALID_QUERY_PARAMETER instead of ignored";
    ListOrderAlphabetical => "list-order-alphabetical", "pagination",
        "results are sorted by type name instead of the family's list order";
    // ---- envelope
    EnvelopeIgnored => "envelope-ignored", "envelope",
        "envelope=true is validated but has no effect";
    EnvelopeStatusAlways200 => "envelope-status-always-200", "envelope",
        "the envelope's status field is always 200, errors included";
    EnvelopeMissingOnErrors => "envelope-missing-on-errors", "envelope",
        "error bodies are not wrapped when envelope=true";
    EnvelopeSkippedOnEarlyErrors => "envelope-skipped-on-early-errors", "envelope",
        "errors raised before the operation's own checks (group id, project, Accept, path) are not wrapped when envelope=true";
    EnvelopeHttp200 => "envelope-http-200", "envelope",
        "with envelope=true, errors are answered with HTTP status 200";
    BooleansCaseInsensitive => "booleans-case-insensitive", "envelope",
        "pretty and envelope take True or TRUE as true instead of refusing them";
    PrettyIgnored => "pretty-ignored", "envelope",
        "pretty=true is validated but bodies stay on one line";
    // ---- errors
    TrailingBytesIgnored => "trailing-bytes-ignored", "validation",
        "a body is read up to the end of its first JSON value; bytes after it are ignored";
    MalformedJson500 => "malformed-json-500", "validation",
        "a body that is not JSON is a 500 UNEXPECTED_ERROR";
    WrongErrorCodeMissingAttribute => "wrong-error-code-missing-attribute", "validation",
        "a missing required field is INVALID_ATTRIBUTE instead of MISSING_ATTRIBUTE";
    GroupNotFoundAsInvalidGroupId => "group-not-found-as-invalid-group-id", "errors",
        "a well-formed but unknown groupId is INVALID_GROUP_ID instead of GROUP_NOT_FOUND";
    PlainTextNotFound => "plain-text-not-found", "errors",
        "unknown paths get a plain-text 404 instead of the error body";
    MethodNotAllowed404 => "method-not-allowed-404", "errors",
        "an unsupported method on a known path is a 404 instead of a 405 with Allow";
    DeleteUnconfigured204 => "delete-unconfigured-204", "errors",
        "deleting a type that is not configured answers 204";
    CreateReturns201 => "create-returns-201", "state",
        "create answers 201 instead of 200";
    ErrorReasonMissing => "error-reason-missing", "errors",
        "error bodies lack the reason field";
    ErrorReasonOfAnotherStatus => "error-reason-of-another-status", "errors",
        "every error body's reason is Bad Request, whatever its status";
    UnsupportedTypeGenericCode => "unsupported-type-generic-code", "errors",
        "unsupported types get INVALID_ENUM_VALUE instead of their specific error code";
    // ---- auth
    ReadOnlyCanWrite => "read-only-can-write", "auth",
        "read-only credentials may create, update and delete";
    OtherProjectReadable => "other-project-readable", "auth",
        "any credentials may list and get the integrations of a project they have no role in";
    GetWithoutCredentials => "get-without-credentials", "auth",
        "GET requests without an Authorization header are served";
    ExpiredTokenAccepted => "expired-token-accepted", "auth",
        "bearer tokens past their expiry are accepted";
    WrongDigestPasswordAccepted => "wrong-digest-password-accepted", "auth",
        "a digest response computed with a wrong password is accepted";
    DigestNcReplayAccepted => "digest-nc-replay-accepted", "auth",
        "a digest nonce count already used with the same nonce is accepted";
    DigestUriUnchecked => "digest-uri-unchecked", "auth",
        "a digest response computed for another request target (its uri) is accepted";
    TokenGrantTypeUnchecked => "token-grant-type-unchecked", "auth",
        "the token endpoint issues a token whatever grant_type the request names";
    StaleFlagMissing => "stale-flag-missing", "auth",
        "the challenge after an expired nonce lacks stale=true";
    TokenAnyClientSecret => "token-any-client-secret", "auth",
        "the token endpoint issues a token to a known client id whatever secret comes with it";
    NoAccessTellsKind => "no-access-tells-kind", "auth",
        "the project's kind is checked before the caller's access, so a caller without access to a project of the other kind learns its kind (ATLAS_GROUP / NOT_ATLAS_GROUP)";
    // ---- versions
    AcceptHeaderIgnored => "accept-header-ignored", "versions",
        "atlas-v2 serves the oldest version when Accept names no supported version, instead of 406";
    AcceptQValuesIgnored => "accept-q-values-ignored", "versions",
        "atlas-v2 picks the first supported media type in Accept, whatever the q-values";
    ResponseMediaTypePlainJson => "response-media-type-plain-json", "versions",
        "atlas-v2 successes are application/json instead of the negotiated media type";
    ErrorMediaTypeVersioned => "error-media-type-versioned", "versions",
        "atlas-v2 errors carry the versioned media type instead of application/json";
    NoContentWithoutMediaType => "v2-204-without-content-type", "versions",
        "atlas-v2 204 answers carry no Content-Type";
    V2023FieldsIn2025 => "v2023-fields-in-2025", "versions",
        "fields of any version of a type are accepted and returned under every version";
    // ---- validation
    UnknownFieldAccepted => "unknown-field-accepted", "validation",
        "fields the type does not have are silently dropped instead of refused";
    RequiredNullAccepted => "required-null-accepted", "validation",
        "a required field sent as null is accepted (and then missing)";
    EnumUnchecked => "enum-unchecked", "validation",
        "enum fields accept any string";
    EnumFirstMembersOnly => "enum-first-members-only", "validation",
        "enum fields accept only their first two members (an outdated member list)";
    PatternUnchecked => "pattern-unchecked", "validation",
        "pattern rules are not checked";
    LengthUnchecked => "length-unchecked", "validation",
        "minLength and maxLength are not checked";
    UrlUnchecked => "url-unchecked", "validation",
        "URL fields (format uri) are not checked at all, pattern included";
    ConditionalRequiredUnchecked => "conditional-required-unchecked", "validation",
        "conditionally required fields (https needs tlsPemPath) are not checked";
    TypeMismatchAccepted => "type-mismatch-accepted", "validation",
        "fields of the wrong JSON type are accepted and stored as sent";
    DefaultsNotReturned => "defaults-not-returned", "validation",
        "fields that were not sent are omitted instead of returned with their default";
    OptionalEmptyStringDropped => "optional-empty-string-dropped", "validation",
        "an optional field sent as an empty string is dropped instead of stored";
    LengthCountsBytes => "length-counts-bytes", "validation",
        "length rules count UTF-8 bytes instead of characters";
    ContentTypeExact => "content-type-exact", "validation",
        "the request Content-Type must equal a media type as written: parameters (charset) or other letter cases are 415";
    // ---- state
    DuplicateCreateOverwrites => "duplicate-create-overwrites", "state",
        "create of a configured type overwrites it instead of answering 409";
    UpdateMergeSemanticsSwapped => "update-merge-semantics-swapped", "state",
        "update merges where the family replaces, and replaces where it merges";
    FailedUpdatePartiallyApplied => "failed-update-partially-applied", "state",
        "an update refused for one field still stores the other fields it carried";
    V2UpdateUpserts => "v2-update-upserts", "state",
        "update of an unconfigured type creates it in families that answer 404";
    FailedWriteDropsOtherType => "failed-write-drops-another-type", "state",
        "a create or update refused by validation removes another configured integration of the project (a rollback that undoes the wrong row)";
    MaskSentBackKept => "mask-sent-back-kept", "state",
        "an update that sends back the mask a secret is shown as keeps the stored value (the mask read as \"unchanged\")";
    V2UpdateStoresId => "v2-update-stores-id", "state",
        "an atlas-v2 update stores an id string sent in its body in place of the assigned id";
    IdChangesOnUpdate => "id-changes-on-update", "state",
        "the server-assigned id changes on every update";
    AssignedIdInV1 => "assigned-id-in-v1", "state",
        "families without a server-assigned id return one anyway (the field another family assigns)";
    DeleteKeepsIntegration => "delete-keeps-integration", "state",
        "delete answers 204 but the integration stays configured";
    UpdateKeepsUrls => "update-keeps-urls", "state",
        "an update keeps the stored URL fields instead of the new values it sent";
    // ---- concurrency
    CreateRace => "create-race", "concurrency",
        "create checks, pauses, then writes: concurrent creates of one type all succeed and the last overwrites the others";
    UpdateNotAtomic => "update-not-atomic", "concurrency",
        "an update writes its fields one at a time with a pause between, so concurrent updates leave a mixture and a read sees half an update";
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
