//! Values from the contract's field rules (`x-rule`): for each rule, values that break it and
//! nothing else, and valid values a regex stand-in might wrongly refuse. Derived from a valid
//! value, so each differs from it in one respect.

use crate::model::FieldRule;

/// Values that break `rule`, each made from the valid `valid` by one change, with a label.
pub(crate) fn breakers(rule: FieldRule, valid: &str) -> Vec<(&'static str, String)> {
    match rule {
        FieldRule::AbsoluteHttpUrl => {
            let Some((scheme, rest)) = valid.split_once("://") else {
                return Vec::new();
            };
            let path_at = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let path = &rest[path_at..];
            let path = if path.starts_with('/') {
                path.to_owned()
            } else {
                format!("/{path}")
            };
            vec![
                // Only http and https are absolute http(s) URLs.
                ("other-scheme", format!("ftp://{rest}")),
                // A relative reference (the path alone) has no scheme and no host.
                ("relative-reference", path.clone()),
                // Host and path without a scheme.
                ("no-scheme", rest.to_owned()),
                // The authority is there but names no host.
                ("empty-host", format!("{scheme}://{path}")),
            ]
        }
    }
}

/// Valid values of `rule`, each made from the valid `valid` by one change, with a label.
pub(crate) fn accepted(rule: FieldRule, valid: &str) -> Vec<(&'static str, String)> {
    match rule {
        FieldRule::AbsoluteHttpUrl => {
            let Some((scheme, rest)) = valid.split_once("://") else {
                return Vec::new();
            };
            let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            // The scheme compares case-insensitively (RFC 3986 section 3.1), and so does the
            // host: an upper-case prefix is the same URL.
            vec![(
                "upper-case-scheme-and-host",
                format!(
                    "{}://{}{}",
                    scheme.to_uppercase(),
                    rest[..host_end].to_uppercase(),
                    &rest[host_end..]
                ),
            )]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_breakers_each_break_one_part_of_the_rule() {
        let b = breakers(
            FieldRule::AbsoluteHttpUrl,
            "https://hooks.example.com/services/x",
        );
        let got: Vec<(&str, &str)> = b.iter().map(|(l, v)| (*l, v.as_str())).collect();
        assert_eq!(
            got,
            [
                ("other-scheme", "ftp://hooks.example.com/services/x"),
                ("relative-reference", "/services/x"),
                ("no-scheme", "hooks.example.com/services/x"),
                ("empty-host", "https:///services/x"),
            ]
        );
    }

    #[test]
    fn an_upper_case_scheme_and_host_is_a_valid_url() {
        let a = accepted(FieldRule::AbsoluteHttpUrl, "https://hooks.example.com/a/B");
        assert_eq!(
            a,
            [(
                "upper-case-scheme-and-host",
                "HTTPS://HOOKS.EXAMPLE.COM/a/B".to_owned()
            )]
        );
    }
}
