//! Secret redaction (contract section 4): how a stored secret comes back in a response, per the
//! field's [`SecretKind`]. Lengths count characters, not bytes.

use crate::model::SecretKind;

use super::fault::{Fault, FaultSet};

/// The masked form of `value`, or `None` when the field is never returned (write-only).
pub(crate) fn mask(kind: SecretKind, value: &str, faults: FaultSet) -> Option<String> {
    match kind {
        SecretKind::MaskLast4 if faults.has(Fault::MaskKeepsFirstFour) => Some(keep_first4(value)),
        SecretKind::MaskLast4 if faults.has(Fault::MaskNotLengthPreserving) => {
            Some(fixed_prefix_last4(value))
        }
        SecretKind::MaskLast4 => Some(last4(value)),
        SecretKind::MaskUrl if faults.has(Fault::UrlSecretUnmasked) => Some(value.to_owned()),
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
/// more than four followed it.
///
/// Choices the contract leaves open: "what followed the host" does not count the `/` that
/// separates it from the host (so a four-character path is never shown whole), and user info
/// (`user:pass@`) is dropped, since it is a credential. A value without `://` (which validation
/// refuses) comes back as `****`.
pub(crate) fn url(value: &str) -> String {
    let Some((scheme, rest)) = value.split_once("://") else {
        return "****".to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at(end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let after = after.strip_prefix('/').unwrap_or(after);
    let n = after.chars().count();
    let tail: String = if n > 4 {
        after.chars().skip(n - 4).collect()
    } else {
        String::new()
    };
    format!("{scheme}://{host}/****{tail}")
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

    #[test]
    fn last4_matches_the_contract() {
        assert_eq!(last4("1234567890"), "******7890");
        assert_eq!(last4("12345"), "*2345");
        assert_eq!(last4("1234"), "****");
        assert_eq!(last4("12"), "**");
        assert_eq!(last4(""), "");
        // dashes are masked too; characters, not bytes
        assert_eq!(last4("ab-cd-ef"), "****d-ef");
        assert_eq!(last4("éééééé"), "**éééé");
        assert_eq!(last4("日本語のテキスト"), "****テキスト");
    }

    #[test]
    fn url_matches_the_contract() {
        assert_eq!(
            url("https://example.com/51c0ef87e9951c3e147accf0e12101"),
            "https://example.com/****2101"
        );
        assert_eq!(url("https://webhook.com/abc"), "https://webhook.com/****");
        assert_eq!(url("https://webhook.com/abcd"), "https://webhook.com/****");
        assert_eq!(
            url("https://webhook.com/abcde"),
            "https://webhook.com/****bcde"
        );
        assert_eq!(url("https://webhook.com"), "https://webhook.com/****");
        assert_eq!(
            url("http://h.example:8443/a/b?token=s3cr3t#frag"),
            "http://h.example:8443/****frag"
        );
        assert_eq!(
            url("https://user:pass@h.example/path/xyz12"),
            "https://h.example/****yz12"
        );
        assert_eq!(
            url("https://h.example?q=12345"),
            "https://h.example/****2345"
        );
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
        let f = FaultSet::new(&[Fault::UrlSecretUnmasked]);
        assert_eq!(
            mask(SecretKind::MaskUrl, "https://x.example/abcdef", f).as_deref(),
            Some("https://x.example/abcdef")
        );
    }
}
