//! Secret scrubbing, the one implementation, for everything a report, a snapshot, a recorded
//! exchange or the console shows: every credential of the target and every secret any case
//! generated is replaced by a placeholder, in one pass per text.

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// What a secret is replaced with (the runner's placeholder, so both read the same).
pub const PLACEHOLDER: &str = "{{secret}}";

/// Secrets shorter than this are not scrubbed: they would
/// match ordinary text.
const MIN_LEN: usize = 4;

/// Whether `s` is made of Private Use Area characters only: short secrets are made of them so
/// that they match nothing else (see `case::diversity::rare`).
fn private_use(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| ('\u{E000}'..='\u{F8FF}').contains(&c))
}

/// Replaces known secret values in text.
///
/// Thousands of secrets (one or more per case) meet hundreds of thousands of strings in a full
/// report, so the secrets (and their JSON-escaped forms) go into one Aho-Corasick automaton,
/// built once, that scans each text once, longest match first at each position.
#[derive(Debug, Clone, Default)]
pub struct Scrubber {
    automaton: Option<AhoCorasick>,
    patterns: usize,
}

impl Scrubber {
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Scrubber {
        let mut patterns: Vec<String> = Vec::new();
        for s in secrets {
            for form in escaped_forms(s) {
                if (form.len() >= MIN_LEN || private_use(&form)) && !patterns.contains(&form) {
                    patterns.push(form);
                }
            }
        }
        if patterns.is_empty() {
            return Scrubber::default();
        }
        // A contiguous NFA, not a DFA: a run builds one scrubber per case, and a DFA's build
        // costs more than it saves on texts of a few kilobytes (measured: 7% of a run's CPU).
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(&patterns)
            .ok();
        Scrubber {
            patterns: if automaton.is_some() {
                patterns.len()
            } else {
                0
            },
            automaton,
        }
    }

    /// How many distinct values it replaces (secrets and their JSON-escaped forms).
    pub fn len(&self) -> usize {
        self.patterns
    }

    pub fn is_empty(&self) -> bool {
        self.patterns == 0
    }

    /// `text` with every known secret replaced by [`PLACEHOLDER`].
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let Some(ac) = &self.automaton else {
            return Cow::Borrowed(text);
        };
        if text.len() < 3 || !ac.is_match(text) {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        ac.replace_all_with(text, &mut out, |_, _, dst| {
            dst.push_str(PLACEHOLDER);
            true
        });
        Cow::Owned(out)
    }

    /// [`Scrubber::scrub`] into an owned string.
    pub fn clean(&self, text: &str) -> String {
        self.scrub(text).into_owned()
    }
}

/// A secret and the forms a target may echo it in: JSON-escaped (quotes, backslashes, control
/// characters) and with `/` escaped as `\/`, which is legal JSON.
fn escaped_forms(s: String) -> Vec<String> {
    let json = serde_json::to_string(&s).unwrap_or_default();
    let json = json
        .strip_prefix('"')
        .and_then(|j| j.strip_suffix('"'))
        .unwrap_or(&s)
        .to_owned();
    let mut all = vec![s.clone()];
    if json != s {
        all.push(json.clone());
    }
    if s.contains('/') {
        all.push(json.replace('/', "\\/"));
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_every_secret_longest_first_and_leaves_the_rest() {
        let s = Scrubber::new([
            "abcd1234".to_owned(),
            "abcd".to_owned(),
            "xy".to_owned(),
            "é-sécret".to_owned(),
        ]);
        assert_eq!(s.len(), 3);
        assert_eq!(
            s.scrub("abcd1234 and abcd and xy"),
            "{{secret}} and {{secret}} and xy"
        );
        assert_eq!(s.scrub("né-sécretö"), "n{{secret}}ö");
        let url = Scrubber::new(["https://h.example/x\"y".to_owned()]);
        assert_eq!(url.scrub(r#"a https://h.example/x"y b"#), "a {{secret}} b");
        assert_eq!(url.scrub(r#"a https://h.example/x\"y b"#), "a {{secret}} b");
        assert_eq!(
            url.scrub(r#"a https:\/\/h.example\/x\"y b"#),
            "a {{secret}} b"
        );
        assert!(matches!(s.scrub("nothing here"), Cow::Borrowed(_)));
        assert_eq!(s.scrub("abc"), "abc");
        assert_eq!(Scrubber::default().scrub("abcd"), "abcd");
    }
}
