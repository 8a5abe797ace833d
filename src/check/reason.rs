//! HTTP reason phrases: the contract's error body carries `"reason": "<HTTP reason phrase>"`, and
//! HTTP has given several statuses more than one name over its editions (RFC 2616, RFC 7231,
//! RFC 9110, WebDAV). Any of a status's names is that status's reason phrase; none of another
//! status's is.

/// Every name HTTP has given `status` (empty for a status this table does not know).
pub fn phrases(status: u16) -> &'static [&'static str] {
    match status {
        400 => &["Bad Request"],
        401 => &["Unauthorized"],
        402 => &["Payment Required"],
        403 => &["Forbidden"],
        404 => &["Not Found"],
        405 => &["Method Not Allowed"],
        406 => &["Not Acceptable"],
        407 => &["Proxy Authentication Required"],
        408 => &["Request Timeout", "Request Time-out"],
        409 => &["Conflict"],
        410 => &["Gone"],
        411 => &["Length Required"],
        412 => &["Precondition Failed"],
        413 => &[
            "Content Too Large",
            "Payload Too Large",
            "Request Entity Too Large",
        ],
        414 => &[
            "URI Too Long",
            "Request-URI Too Long",
            "Request-URI Too Large",
        ],
        415 => &["Unsupported Media Type"],
        416 => &["Range Not Satisfiable", "Requested Range Not Satisfiable"],
        417 => &["Expectation Failed"],
        418 => &["I'm a teapot", "(Unused)"],
        421 => &["Misdirected Request"],
        422 => &["Unprocessable Content", "Unprocessable Entity"],
        423 => &["Locked"],
        424 => &["Failed Dependency"],
        425 => &["Too Early"],
        426 => &["Upgrade Required"],
        428 => &["Precondition Required"],
        429 => &["Too Many Requests"],
        431 => &["Request Header Fields Too Large"],
        451 => &["Unavailable For Legal Reasons"],
        500 => &["Internal Server Error"],
        501 => &["Not Implemented"],
        502 => &["Bad Gateway"],
        503 => &["Service Unavailable"],
        504 => &["Gateway Timeout", "Gateway Time-out"],
        505 => &["HTTP Version Not Supported", "HTTP Version not supported"],
        _ => &[],
    }
}

/// Whether `text` is a reason phrase of `status`. Letter case is not compared (the phrase is
/// text for people, and the editions themselves differ in case); a status this table does not
/// know accepts any non-empty phrase.
pub fn is_phrase(status: u16, text: &str) -> bool {
    let known = phrases(status);
    if known.is_empty() {
        return !text.trim().is_empty();
    }
    known.iter().any(|p| p.eq_ignore_ascii_case(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_of_a_status_and_no_other() {
        for p in [
            "Payload Too Large",
            "Request Entity Too Large",
            "Content Too Large",
        ] {
            assert!(is_phrase(413, p), "{p}");
        }
        assert!(is_phrase(422, "Unprocessable Content"));
        assert!(is_phrase(422, "unprocessable entity"));
        assert!(!is_phrase(413, "Bad Request"));
        assert!(!is_phrase(400, "Payload Too Large"));
        assert!(!is_phrase(404, ""));
        assert!(is_phrase(499, "Client Closed Request"));
        assert!(!is_phrase(499, " "));
        // the http crate's phrase of every status in the table is one of its names
        for status in 400..=505u16 {
            let Some(ours) = axum::http::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
            else {
                continue;
            };
            if !phrases(status).is_empty() {
                assert!(is_phrase(status, ours), "{status} {ours}");
            }
        }
    }
}
