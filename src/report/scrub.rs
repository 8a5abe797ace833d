//! Secret scrubbing for everything a report or the console shows: every credential of the target
//! and every secret any case generated is replaced by a placeholder, in one pass per text.

use std::borrow::Cow;
use std::collections::HashMap;

/// What a secret is replaced with (the runner's placeholder, so both read the same).
pub const PLACEHOLDER: &str = "{{secret}}";

/// Secrets shorter than this are not scrubbed (as in [`crate::runner::scrub`]): they would
/// match ordinary text.
const MIN_LEN: usize = 4;

/// Replaces known secret values in text.
///
/// Thousands of secrets (one or more per case) meet hundreds of thousands of strings in a full
/// report, so the secrets are indexed by their first four bytes and each text is scanned once,
/// longest match first at each position.
#[derive(Debug, Clone, Default)]
pub struct Scrubber {
    by_prefix: HashMap<[u8; MIN_LEN], Vec<String>>,
}

impl Scrubber {
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Scrubber {
        let mut by_prefix: HashMap<[u8; MIN_LEN], Vec<String>> = HashMap::new();
        // A target may echo a secret JSON-escaped (`\/` is legal JSON for `/`): the escaped
        // forms are secrets too.
        let with_variants = secrets.into_iter().flat_map(|s| {
            let mut all = vec![s.clone()];
            let json = serde_json::to_string(&s).unwrap_or_default();
            let json = json
                .strip_prefix('"')
                .and_then(|j| j.strip_suffix('"'))
                .unwrap_or(&s);
            if json != s {
                all.push(json.to_owned());
            }
            if s.contains('/') {
                all.push(json.replace('/', "\\/"));
            }
            all
        });
        for s in with_variants {
            if s.len() < MIN_LEN {
                continue;
            }
            let key = prefix(s.as_bytes());
            let list = by_prefix.entry(key).or_default();
            if !list.contains(&s) {
                list.push(s);
            }
        }
        for list in by_prefix.values_mut() {
            list.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
        Scrubber { by_prefix }
    }

    /// How many distinct values it replaces (secrets and their JSON-escaped forms).
    pub fn len(&self) -> usize {
        self.by_prefix.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_prefix.is_empty()
    }

    /// `text` with every known secret replaced by [`PLACEHOLDER`].
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.by_prefix.is_empty() || text.len() < MIN_LEN {
            return Cow::Borrowed(text);
        }
        let bytes = text.as_bytes();
        let mut out: Option<String> = None;
        // `copied`: bytes of `text` already copied (or replaced) into `out`.
        let mut copied = 0;
        let mut i = 0;
        while i + MIN_LEN <= bytes.len() {
            let hit = self
                .by_prefix
                .get(&prefix(&bytes[i..]))
                .and_then(|list| list.iter().find(|s| bytes[i..].starts_with(s.as_bytes())));
            match hit {
                // Secrets are whole `str`s, so a match starts and ends on char boundaries.
                Some(s) => {
                    let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
                    o.push_str(&text[copied..i]);
                    o.push_str(PLACEHOLDER);
                    i += s.len();
                    copied = i;
                }
                None => i += 1,
            }
        }
        match out {
            Some(mut o) => {
                o.push_str(&text[copied..]);
                Cow::Owned(o)
            }
            None => Cow::Borrowed(text),
        }
    }

    /// [`Scrubber::scrub`] into an owned string.
    pub fn clean(&self, text: &str) -> String {
        self.scrub(text).into_owned()
    }
}

fn prefix(b: &[u8]) -> [u8; MIN_LEN] {
    let mut k = [0u8; MIN_LEN];
    k.copy_from_slice(&b[..MIN_LEN]);
    k
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
