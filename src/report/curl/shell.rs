//! Shell words for the reproductions: literals and variables quoted so that a value never
//! has to be trusted, secrets spliced out into variables, and long commands wrapped.

use std::fmt::Write as _;

/// One shell word built from literal text and variable references.
#[derive(Default)]
pub(super) struct Word(Vec<Piece>);

pub(super) enum Piece {
    Lit(String),
    Var(String),
}

impl Word {
    pub(super) fn lit(mut self, s: impl Into<String>) -> Word {
        let s = s.into();
        if !s.is_empty() {
            self.0.push(Piece::Lit(s));
        }
        self
    }

    pub(super) fn var(mut self, name: &str) -> Word {
        self.0.push(Piece::Var(name.to_owned()));
        self
    }

    /// Double-quoted when every literal is safe inside double quotes (`"$VAR/path"`, easy to
    /// read); else literals in single quotes and variables in double quotes, side by side.
    pub(super) fn render(&self) -> String {
        if let [Piece::Lit(s)] = self.0.as_slice() {
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-./:,=@%+".contains(c))
            {
                return s.clone();
            }
        }
        let dq_safe = |s: &str| {
            !s.chars()
                .any(|c| matches!(c, '$' | '`' | '\\' | '"' | '!' | '\n'))
        };
        if self.0.iter().all(|p| match p {
            Piece::Lit(s) => dq_safe(s),
            Piece::Var(_) => true,
        }) {
            let mut out = String::from("\"");
            for (i, p) in self.0.iter().enumerate() {
                match p {
                    Piece::Lit(s) => out.push_str(s),
                    Piece::Var(v) => {
                        let glued = matches!(self.0.get(i + 1), Some(Piece::Lit(n)) if n.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'));
                        if glued {
                            let _ = write!(out, "${{{v}}}");
                        } else {
                            let _ = write!(out, "${v}");
                        }
                    }
                }
            }
            out.push('"');
            return out;
        }
        if self.0.is_empty() {
            return "''".into();
        }
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Piece::Lit(s) => out.push_str(&single_quote(s)),
                Piece::Var(v) => {
                    let _ = write!(out, "\"${v}\"");
                }
            }
        }
        out
    }
}

/// `s` in single quotes (a `'` inside becomes `'\''`).
pub(super) fn single_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Split `text` at every occurrence of the secrets into literal and variable pieces.
pub(super) fn splice(text: &str, secrets: &[(String, String)]) -> (Word, Vec<usize>) {
    let mut word = Word::default();
    let mut used = Vec::new();
    let mut rest = text;
    loop {
        // The earliest occurrence; the longest secret on a tie.
        let next = secrets
            .iter()
            .enumerate()
            .filter(|(_, (s, _))| s.len() >= 4)
            .filter_map(|(i, (s, _))| {
                rest.find(s.as_str())
                    .map(|at| (at, std::cmp::Reverse(s.len()), i))
            })
            .min();
        let Some((at, _, i)) = next else {
            return (word.lit(rest), used);
        };
        word = word.lit(&rest[..at]).var(&secrets[i].1);
        if !used.contains(&i) {
            used.push(i);
        }
        rest = &rest[at + secrets[i].0.len()..];
    }
}

/// `curl` and its options, one option (with its value) per line after the first few.
pub(super) fn wrap(args: &[String]) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let takes_value = matches!(
            a.as_str(),
            "-H" | "--user" | "--data-raw" | "--data-binary" | "-X" | "-o" | "-w"
        );
        let item = if takes_value && i + 1 < args.len() {
            i += 1;
            format!("{a} {}", args[i])
        } else {
            a.clone()
        };
        i += 1;
        let starts_line = matches!(
            item.split(' ').next(),
            Some("-H" | "--data-raw" | "--data-binary")
        ) || item.starts_with('"')
            || item.starts_with('\'');
        if !current.is_empty() && starts_line {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&item);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    let mut out = lines.join(" \\\n  ");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_quote_for_the_shell() {
        let w = Word::default()
            .var("CONFORMANCE_TARGET")
            .lit("/api/atlas/v2/groups/")
            .var("GROUP_ID")
            .lit("/integrations?pageNum=1");
        assert_eq!(
            w.render(),
            "\"$CONFORMANCE_TARGET/api/atlas/v2/groups/$GROUP_ID/integrations?pageNum=1\""
        );
        let (w, used) = splice(
            "{\"a\":\"cnry1234\",\"b\":\"it's\"}",
            &[("cnry1234".into(), "SECRET_1".into())],
        );
        assert_eq!(used, [0]);
        assert_eq!(w.render(), r#"'{"a":"'"$SECRET_1"'","b":"it'\''s"}'"#);
        assert_eq!(Word::default().var("A").lit("b").render(), "\"${A}b\"");
        assert_eq!(Word::default().lit("").render(), "\"\"");
    }
}
