//! Tolerated variants of the reference server: the mirror of [`super::fault`]. Each variant is one
//! choice the contract leaves to the implementer (a status among several, a reason phrase, a
//! header parameter, the host in links, extra fields, ...). The harness must pass a server with
//! any of them, or all of them, switched on: its self-test proves that every fault fails some
//! case and that no variant fails any.
//!
//! Each variant names the contract sentence that leaves the choice open, so that a variant that
//! starts failing points at either a harness check that is stricter than the contract or a
//! variant that is not a tolerated choice after all.

use std::fmt;
use std::str::FromStr;

macro_rules! variants {
    ($($variant:ident => $name:literal, $description:literal, $contract:literal;)+) => {
        /// One tolerated choice of the reference server.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Variant { $($variant),+ }

        impl Variant {
            /// Every variant.
            pub const ALL: &'static [Variant] = &[$(Variant::$variant),+];

            /// The kebab-case name (`--variant NAME` on the command line).
            pub fn name(&self) -> &'static str {
                match self { $(Variant::$variant => $name),+ }
            }

            /// What a server with this variant does, in one sentence.
            pub fn description(&self) -> &'static str {
                match self { $(Variant::$variant => $description),+ }
            }

            /// The contract sentence that leaves this choice open.
            pub fn contract(&self) -> &'static str {
                match self { $(Variant::$variant => $contract),+ }
            }
        }
    };
}

variants! {
    // ---- statuses the contract lists side by side
    NoAccess403 => "no-access-403",
        "a project the credentials cannot access is 403 (with both no-access variants: on writes)",
        "§5: credentials valid but no access to this project: 401 NOT_IN_GROUP; 403 or 404 also pass";
    NoAccess404 => "no-access-404",
        "a project the credentials cannot access is 404 (with both no-access variants: on reads)",
        "§5: credentials valid but no access to this project: 401 NOT_IN_GROUP; 403 or 404 also pass";
    ReadOnly403 => "read-only-403",
        "read-only credentials on create, update or delete get 403",
        "§5: read-only credentials on create, update or delete: 401 USER_UNAUTHORIZED; 403 also passes";
    Empty401Body => "empty-401-body",
        "a 401 for missing or wrong credentials has an empty body (the challenge stays)",
        "§5: 401 with a WWW-Authenticate challenge; the body may be empty";
    OtherClassStatus => "other-4xx-at-class-level",
        "level C errors with no listed statuses use another 4xx: 422 for a type mismatch, 400 for an unsupported Content-Type",
        "§5 level C: any 4xx, with the error body shape";
    StrictIntegerSyntax => "strict-integer-syntax",
        "query integers with a sign, a leading zero or spaces (+1, 01, \" 2\") are 400 INVALID_QUERY_PARAMETER",
        "§3: pageNum and itemsPerPage are integers; whether +1 or 01 is one the contract does not say";
    // ---- the error body's open parts
    ReasonRfc2616 => "reason-rfc2616",
        "reason phrases of RFC 2616 where they differ (413 Request Entity Too Large, 414 Request-URI Too Long, 416 Requested Range Not Satisfiable)",
        "§5: \"reason\": \"<HTTP reason phrase>\" (any phrase of that status)";
    ReasonRfc9110 => "reason-rfc9110",
        "reason phrases of RFC 9110 where they differ (413 Content Too Large, 422 Unprocessable Content)",
        "§5: \"reason\": \"<HTTP reason phrase>\" (any phrase of that status)";
    OtherDetails => "other-details",
        "every error detail is worded differently",
        "§5: detail is human text";
    OtherParameters => "other-parameters",
        "error parameters differ wherever the contract does not name them (levels S and C, rows without parameters)",
        "§5 levels S and C; parameters are fixed only where a level E row names them";
    OtherErrorCodes => "other-error-codes",
        "level S and C errors carry another non-empty errorCode",
        "§5 level S: this status, any non-empty errorCode; level C: any 4xx";
    // ---- media types and formatting
    CharsetUtf8 => "charset-utf-8",
        "every JSON Content-Type, versioned ones included, carries ;charset=utf-8",
        "§6: the success response's Content-Type is that same media type (;charset=utf-8 allowed)";
    LinkQueryOrder => "link-query-order",
        "link hrefs carry their query parameters in reverse order",
        "§3: the harness compares path and parsed query, not the host or the order of parameters";
    LinkHost => "link-host",
        "link hrefs name another host (the public name of the service) instead of the request's",
        "§3: the harness compares path and parsed query, not the host or the order of parameters";
    PrettyFourSpaces => "pretty-four-spaces",
        "pretty=true indents by four spaces",
        "§3: pretty=true: the same JSON, indented over several lines";
    PrettyTabs => "pretty-tabs",
        "pretty=true indents by tabs (with both pretty variants: tabs)",
        "§3: pretty=true: the same JSON, indented over several lines";
    // ---- state and objects
    SeparateAtlasStores => "separate-atlas-stores",
        "atlas-v1 and atlas-v2 keep separate integrations for one Atlas project",
        "§8: atlas-v1 and atlas-v2 reach the same Atlas project ... A harness must not rely on this";
    UrlMaskNormalised => "url-mask-normalised",
        "url-secret masks show the scheme and host lower-cased (as a URL parser normalises them), not as sent",
        "§4/§9: scheme://host[:port]/ then ****: scheme and host compare case-insensitively (RFC 3986)";
    ExtraFields => "extra-fields",
        "returned integration objects carry fields the contract does not list (createdDate, lastUpdatedDate)",
        "§9: a response may carry fields this page does not list: a warning, not a failure";
    // ---- transport
    ConnectionClose => "connection-close",
        "every response carries Connection: close and the connection is closed after it",
        "§1: nothing in the contract asks for persistent connections";
    ChunkedBodies => "chunked-bodies",
        "response bodies are sent chunked, without Content-Length",
        "§1: nothing in the contract fixes the HTTP framing of a body";
    // ---- section 10: behaviours settled as tolerated
    ExtraFieldsEverywhere => "extra-fields-everywhere",
        "every JSON object of an API answer (error body, list page, envelope, link, integration) carries traceId, the outermost also requestId",
        "§10: an error body, a list page, an envelope and a link may carry fields this page does not list (traceId, requestId, …): a warning, never a failure";
    ChallengeOnEvery401 => "challenge-on-every-401",
        "every 401 (NOT_IN_GROUP and USER_UNAUTHORIZED too) carries the Digest challenge with a fresh nonce and the Bearer challenge",
        "§10: any 401 may carry a WWW-Authenticate challenge (RFC 9110 section 15.5.2 even asks for one); only a 401 for missing or wrong credentials must";
    ExtraLinkParameters => "extra-link-parameters",
        "link hrefs also carry pretty, envelope, includeCount (v1.0 families too) and every unknown query parameter of the request",
        "§10: a link's query may hold more (an echoed pretty, envelope, unknown parameter, or includeCount on a v1.0 family); only the named ones are compared";
    DigestUriMismatch400 => "digest-uri-mismatch-400",
        "a digest response whose uri is not the request target is 400 INVALID_AUTHORIZATION_HEADER (RFC 7616 section 3.4.6), not 401",
        "§10: a digest response computed for another uri is refused with 400 (RFC 7616 section 3.4.6 says the server SHOULD answer 400) or 401 with a challenge: both pass (level C)";
    DeepNesting400 => "deep-nesting-400",
        "a JSON body nested more than 32 levels deep is 400 MALFORMED_JSON before it is parsed",
        "§10: a JSON body nested more than 32 levels deep may be refused with 400 and any of MALFORMED_JSON, INVALID_JSON, INVALID_ATTRIBUTE (level S)";
    NullOptionalFields => "null-optional-fields",
        "an optional field without a value (and without a default) is returned as null instead of being left out",
        "§10: optional fields without a value may be absent or null in a response; a field with a default shows its default";
    Early413Close => "early-413-close",
        "a create or update whose Content-Length is over 1 MiB is answered 413 with Connection: close before its body is read; the rest is read away behind the answer and the connection closed",
        "§5: body over 1 MiB: 413 (contract choice, level C); nothing in the contract asks a server to read a refused body or keep the connection";
    ReasonPhraseCase => "reason-phrase-case",
        "every error reason is in another letter case: upper case for even statuses (NOT FOUND), lower case for odd ones (unauthorized)",
        "§5: \"reason\": \"<HTTP reason phrase>\" (a phrase clients ignore, RFC 9112 section 4; its case carries nothing)";
    ContentTypeParameters => "content-type-parameters",
        "every Content-Type comes in another letter case with other parameters (Application/JSON; charset=UTF-8; profile=\"x\", …+JSON;Charset=utf-8)",
        "§9: type and subtype compare case-insensitively and parameters are ignored (atlas-v2 versioned types too)";
    JsonEscapes => "json-escapes",
        "JSON bodies are written with every object's keys in reverse order, every non-ASCII character as \\uXXXX and every / as \\/",
        "§3: the same JSON (RFC 8259: the order of an object's members and the escaping of a character do not change the value)";
    ExtraResponseHeaders => "extra-response-headers",
        "every response carries X-Request-Id, Server-Timing, Cache-Control: no-store, Strict-Transport-Security and Vary: Accept",
        "§1: nothing in the contract forbids response headers it does not name";
    OneTimeNonces => "one-time-nonces",
        "every digest nonce is good for one request: a reused one gets 401 with stale=true, and every answer to an accepted digest carries Authentication-Info: nextnonce",
        "§7/§10: any answer may be 401 stale=true for a nonce already used, with nextnonce in Authentication-Info";
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Variant {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Variant::ALL
            .iter()
            .copied()
            .find(|v| v.name() == s)
            .ok_or_else(|| {
                let s: String = s.chars().take(64).collect();
                let known: Vec<&str> = Variant::ALL.iter().map(Variant::name).collect();
                format!(
                    "unknown variant {s:?}; known variants: all, {}",
                    known.join(", ")
                )
            })
    }
}

impl Variant {
    /// Parses one `--variant` value: a name, or `all` for every variant.
    pub fn parse_list(s: &str) -> Result<Vec<Variant>, String> {
        if s == "all" {
            Ok(Variant::ALL.to_vec())
        } else {
            s.parse::<Variant>().map(|v| vec![v])
        }
    }
}

/// The variants switched on, as a bit set (cheap to copy into every request).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct VariantSet(u64);

impl VariantSet {
    pub(crate) fn new(variants: &[Variant]) -> Self {
        VariantSet(variants.iter().fold(0, |acc, v| acc | bit(*v)))
    }

    pub(crate) fn has(self, v: Variant) -> bool {
        self.0 & bit(v) != 0
    }

    pub(crate) fn to_vec(self) -> Vec<Variant> {
        Variant::ALL
            .iter()
            .copied()
            .filter(|v| self.has(*v))
            .collect()
    }

    /// The reason phrase of `status`: ours (the `http` crate's), or the variant's edition's.
    pub(crate) fn reason(self, status: u16, canonical: &'static str) -> &'static str {
        let rfc2616 = match status {
            413 => Some("Request Entity Too Large"),
            414 => Some("Request-URI Too Long"),
            416 => Some("Requested Range Not Satisfiable"),
            _ => None,
        };
        let rfc9110 = match status {
            413 => Some("Content Too Large"),
            422 => Some("Unprocessable Content"),
            _ => None,
        };
        (self
            .has(Variant::ReasonRfc2616)
            .then_some(rfc2616)
            .flatten())
        .or(self
            .has(Variant::ReasonRfc9110)
            .then_some(rfc9110)
            .flatten())
        .unwrap_or(canonical)
    }

    /// The status of a no-access refusal: 401 unless a variant picks 403 or 404.
    pub(crate) fn no_access_status(self, writes: bool) -> Option<u16> {
        match (
            self.has(Variant::NoAccess403),
            self.has(Variant::NoAccess404),
        ) {
            (true, true) => Some(if writes { 403 } else { 404 }),
            (true, false) => Some(403),
            (false, true) => Some(404),
            (false, false) => None,
        }
    }

    /// An error's reason phrase as written: as is, or (variant `reason-phrase-case`) upper case
    /// for an even status and lower case for an odd one.
    pub(crate) fn reason_case(self, status: u16, reason: &str) -> String {
        if !self.has(Variant::ReasonPhraseCase) {
            reason.to_owned()
        } else if status % 2 == 0 {
            reason.to_uppercase()
        } else {
            reason.to_lowercase()
        }
    }

    /// The indentation of `pretty=true` bodies.
    pub(crate) fn indent(self) -> &'static [u8] {
        if self.has(Variant::PrettyTabs) {
            b"\t"
        } else if self.has(Variant::PrettyFourSpaces) {
            b"    "
        } else {
            b"  "
        }
    }
}

fn bit(v: Variant) -> u64 {
    1u64 << (v as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_kebab_and_parse_back() {
        assert!(Variant::ALL.len() >= 32);
        assert!(Variant::ALL.len() <= 64, "VariantSet is a u64");
        let mut seen = HashSet::new();
        for v in Variant::ALL {
            assert!(seen.insert(v.name()), "duplicate {v}");
            assert!(v
                .name()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
            assert_eq!(v.name().parse::<Variant>(), Ok(*v));
            assert!(!v.description().is_empty());
            assert!(v.contract().starts_with('§'), "{v}");
            assert!(
                crate::server::Fault::ALL
                    .iter()
                    .all(|f| f.name() != v.name()),
                "{v} is also a fault"
            );
        }
        assert!("nope".parse::<Variant>().is_err());
        assert_eq!(Variant::parse_list("all").unwrap(), Variant::ALL);
        assert_eq!(
            Variant::parse_list("pretty-tabs").unwrap(),
            vec![Variant::PrettyTabs]
        );
    }

    #[test]
    fn choices_combine() {
        let none = VariantSet::default();
        assert_eq!(none.reason(413, "Payload Too Large"), "Payload Too Large");
        assert_eq!(none.no_access_status(true), None);
        assert_eq!(none.indent(), b"  ");
        let old = VariantSet::new(&[Variant::ReasonRfc2616]);
        assert_eq!(
            old.reason(413, "Payload Too Large"),
            "Request Entity Too Large"
        );
        assert_eq!(old.reason(400, "Bad Request"), "Bad Request");
        let new = VariantSet::new(&[Variant::ReasonRfc9110]);
        assert_eq!(new.reason(413, "Payload Too Large"), "Content Too Large");
        let all = VariantSet::new(Variant::ALL);
        assert_eq!(
            all.reason(422, "Unprocessable Entity"),
            "Unprocessable Content"
        );
        assert_eq!(all.no_access_status(true), Some(403));
        assert_eq!(all.no_access_status(false), Some(404));
        assert_eq!(all.indent(), b"\t");
        assert_eq!(all.to_vec(), Variant::ALL);
        assert_eq!(none.reason_case(404, "Not Found"), "Not Found");
        assert_eq!(all.reason_case(404, "Not Found"), "NOT FOUND");
        assert_eq!(all.reason_case(401, "Unauthorized"), "unauthorized");
        assert_eq!(
            all.reason_case(413, all.reason(413, "Payload Too Large")),
            "request entity too large"
        );
    }
}
