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

    /// The spec's pattern is a stand-in for the rule: it must accept every value the rule
    /// allows and, for the breakers, agree with the rule.
    #[test]
    fn the_spec_patterns_agree_with_their_rules() {
        let model = crate::model::bundled().unwrap();
        let mut checked = 0;
        for ty in model
            .families
            .iter()
            .flat_map(|f| f.versions.iter())
            .flat_map(|v| v.types.iter())
        {
            for f in ty.fields.iter() {
                let (Some(rule), Some(pattern)) = (f.rule, &f.pattern) else {
                    continue;
                };
                let re = regex::Regex::new(pattern).unwrap();
                let valid =
                    crate::case::values::valid_value(f, "seed", crate::case::values::Fill::Minimal);
                let valid = valid.as_str().unwrap();
                let allowed = [
                    valid.to_owned(),
                    "http://h:8080/x".to_owned(),
                    "https://user:pw@hooks.example.com/x".to_owned(),
                    "https://[::1]/x".to_owned(),
                    "HtTpS://Example.com".to_owned(),
                ];
                for v in allowed
                    .iter()
                    .cloned()
                    .chain(accepted(rule, valid).into_iter().map(|(_, v)| v))
                {
                    assert!(re.is_match(&v), "{}.{}: {v} refused", ty.name, f.name);
                }
                for (label, v) in breakers(rule, valid) {
                    assert!(
                        !re.is_match(&v),
                        "{}.{}: {label} {v} accepted",
                        ty.name,
                        f.name
                    );
                }
                checked += 1;
            }
        }
        assert!(checked > 0);
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
