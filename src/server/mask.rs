//! Secret redaction (contract section 4): how a stored secret comes back in a response, per the
//! field's [`SecretKind`]. Lengths count characters, not bytes.

use crate::model::SecretKind;

use super::fault::{Fault, FaultSet};

/// The masked form of `value`, or `None` when the field is never returned (write-only).
pub(crate) fn mask(kind: SecretKind, value: &str, faults: FaultSet) -> Option<String> {
    if let Some(m) = super::reach::mask(kind, value, faults) {
        return Some(m);
    }
    match kind {
        SecretKind::MaskLast4 if faults.has(Fault::MaskKeepsFirstFour) => Some(keep_first4(value)),
        SecretKind::MaskLast4 if faults.has(Fault::MaskNotLengthPreserving) => {
            Some(fixed_prefix_last4(value))
        }
        SecretKind::MaskLast4 if faults.has(Fault::MaskCountsBytes) => Some(byte_stars(value)),
        SecretKind::MaskLast4
            if faults.has(Fault::ShortSecretUnmasked) && value.chars().count() <= 8 =>
        {
            Some(value.to_owned())
        }
        SecretKind::MaskLast4 if faults.has(Fault::MaskSkipsPunctuation) => {
            Some(keep_punctuation(value))
        }
        SecretKind::MaskLast4 => Some(last4(value)),
        SecretKind::MaskUrl if faults.has(Fault::UrlSecretUnmasked) => Some(value.to_owned()),
        SecretKind::MaskUrl if faults.has(Fault::UrlMaskSkipsSlash) => Some(url_after_slash(value)),
        SecretKind::MaskUrl if faults.has(Fault::UrlMaskDropsPort) => Some(without_port(value)),
        SecretKind::MaskUrl => Some(url(value)),
        SecretKind::WriteOnly => None,
    }
}

/// Same length; every character but the last four is `*`; four characters or fewer are all `*`.
pub(crate) fn last4(value: &str) -> String {
    let n = value.chars().count();
    if n <= 4 {
        return "*".repeat(n);
    }
    let tail: String = value.chars().skip(n - 4).collect();
    format!("{}{tail}", "*".repeat(n - 4))
}

/// `scheme://host[:port]/` + `****` + the last four characters of what followed the host, when
/// more than four followed it (contract section 9).
///
/// "What followed the host" starts at the `/` (or `?`, `#`) after `host[:port]`, so
/// `https://example.com/abcd` shows `abcd` and `https://example.com/abc` shows nothing; a query
/// string and a fragment are part of it. User info (`user:pass@`) is a credential and never part
/// of the prefix. Scheme and host appear as sent (no case folding). A value without `://`
/// (which validation refuses) comes back as `****`.
pub(crate) fn url(value: &str) -> String {
    let Some((scheme, rest)) = value.split_once("://") else {
        return "****".to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at(end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let n = after.chars().count();
    let tail: String = if n > 4 {
        after.chars().skip(n - 4).collect()
    } else {
        String::new()
    };
    format!("{scheme}://{host}/****{tail}")
}

/// Fault: one `*` per byte of what is hidden (so a non-ASCII value comes back longer).
fn byte_stars(value: &str) -> String {
    let n = value.chars().count();
    if n <= 4 {
        return "*".repeat(value.len());
    }
    let tail: String = value.chars().skip(n - 4).collect();
    format!("{}{tail}", "*".repeat(value.len() - tail.len()))
}

/// Fault: the old reading of the boundary, where the `/` after the host is not part of what
/// followed it.
fn url_after_slash(value: &str) -> String {
    let Some((scheme, rest)) = value.split_once("://") else {
        return "****".to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at(end);
    let after = after.strip_prefix('/').unwrap_or(after);
    if after.chars().count() <= 4 {
        return format!("{scheme}://{authority}/****");
    }
    url(value)
}

/// Variant: a url-secret mask with its scheme and host lower-cased (what a URL parser that
/// normalises them shows); any other value unchanged.
pub(crate) fn lower_prefix(mask: &str) -> String {
    let Some(at) = mask.find("://") else {
        return mask.to_owned();
    };
    match mask[at + 3..].find('/') {
        Some(slash) if mask[at + 3 + slash..].starts_with("/****") => {
            let (prefix, rest) = mask.split_at(at + 3 + slash);
            format!("{}{rest}", prefix.to_ascii_lowercase())
        }
        _ => mask.to_owned(),
    }
}

/// Fault: like [`last4`], but `-`, `_` and `.` in the hidden part stay as they are.
fn keep_punctuation(value: &str) -> String {
    let n = value.chars().count();
    value
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if (n > 4 && i + 4 >= n) || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// Fault: the url mask of the value with its port removed from the prefix.
fn without_port(value: &str) -> String {
    let masked = url(value);
    let Some(at) = masked.find("://") else {
        return masked;
    };
    let rest = &masked[at + 3..];
    let slash = rest.find('/').unwrap_or(rest.len());
    match rest[..slash].rfind(':') {
        Some(colon) => format!("{}{}", &masked[..at + 3 + colon], &rest[slash..]),
        None => masked,
    }
}

/// Fault: the first four characters are shown instead of the last four.
fn keep_first4(value: &str) -> String {
    let n = value.chars().count();
    if n <= 4 {
        return "*".repeat(n);
    }
    let head: String = value.chars().take(4).collect();
    format!("{head}{}", "*".repeat(n - 4))
}

/// Fault: always `****` then the last four, whatever the length.
fn fixed_prefix_last4(value: &str) -> String {
    let n = value.chars().count();
    if n <= 4 {
        return "****".to_owned();
    }
    let tail: String = value.chars().skip(n - 4).collect();
    format!("****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The contract's masks, shared with the harness's expectation (`case::values::mask`).
    const TABLE: &str = include_str!("../../tests/fixtures/masks.tsv");

    #[test]
    fn masks_match_the_shared_table() {
        let mut seen = 0;
        for line in TABLE.lines().filter(|l| !l.starts_with('#')) {
            let [kind, value, expected] = line.split('\t').collect::<Vec<_>>()[..] else {
                panic!("malformed line {line:?}");
            };
            let got = match kind {
                "mask-last4" => last4(value),
                "mask-url" => url(value),
                other => panic!("unknown kind {other}"),
            };
            assert_eq!(got, expected, "{kind} of {value:?}");
            seen += 1;
        }
        assert!(seen >= 25, "the table has {seen} rows");
    }

    #[test]
    fn a_value_without_a_scheme_is_all_stars() {
        assert_eq!(url("not a url"), "****");
    }

    #[test]
    fn kinds_and_faults() {
        let none = FaultSet::default();
        assert_eq!(
            mask(SecretKind::MaskLast4, "1234567890", none).as_deref(),
            Some("******7890")
        );
        assert_eq!(mask(SecretKind::WriteOnly, "pw", none), None);
        let f = FaultSet::new(&[Fault::MaskKeepsFirstFour]);
        assert_eq!(
            mask(SecretKind::MaskLast4, "1234567890", f).as_deref(),
            Some("1234******")
        );
        let f = FaultSet::new(&[Fault::MaskNotLengthPreserving]);
        assert_eq!(
            mask(SecretKind::MaskLast4, "1234567890", f).as_deref(),
            Some("****7890")
        );
        let f = FaultSet::new(&[Fault::MaskCountsBytes]);
        assert_eq!(
            mask(SecretKind::MaskLast4, "pässwörd-ünïcode", f).as_deref(),
            Some("****************code")
        );
        let f = FaultSet::new(&[Fault::UrlMaskSkipsSlash]);
        assert_eq!(
            mask(SecretKind::MaskUrl, "https://x.example/abcd", f).as_deref(),
            Some("https://x.example/****")
        );
        let f = FaultSet::new(&[Fault::UrlMaskDropsPort]);
        assert_eq!(
            mask(SecretKind::MaskUrl, "https://x.example:8443/abcdef", f).as_deref(),
            Some("https://x.example/****cdef")
        );
        let f = FaultSet::new(&[Fault::MaskSkipsPunctuation]);
        assert_eq!(
            mask(SecretKind::MaskLast4, "ab-cd_ef.gh", f).as_deref(),
            Some("**-**_*f.gh")
        );
        assert_eq!(
            mask(SecretKind::MaskLast4, "a-b", f).as_deref(),
            Some("*-*")
        );
        let f = FaultSet::new(&[Fault::ShortSecretUnmasked]);
        assert_eq!(
            mask(SecretKind::MaskLast4, "abcdefgh", f).as_deref(),
            Some("abcdefgh")
        );
        assert_eq!(
            mask(SecretKind::MaskLast4, "abcdefghi", f).as_deref(),
            Some("*****fghi")
        );
        let f = FaultSet::new(&[Fault::UrlSecretUnmasked]);
        assert_eq!(
            mask(SecretKind::MaskUrl, "https://x.example/abcdef", f).as_deref(),
            Some("https://x.example/abcdef")
        );
    }
}
