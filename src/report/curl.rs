//! A copy-paste `curl` reproduction of a failing step: the steps before it (so the project is in
//! the same state), the failing step with `-i`, and the case's cleanup. Every credential and
//! every generated secret is a shell variable, never a value: the script reads
//! `$CONFORMANCE_TARGET`, the key or token variables and `$CONFORMANCE_*GROUP_ID`, and asks for
//! `$SECRET_1`… where the case sent generated secrets.

use std::fmt::Write as _;

use serde_json::Value;

use crate::auth::AuthSpec;
use crate::case::{Body, Case, Credential, Project, Role, Step};
use crate::model::{Family, Model, ProjectKind};
use crate::target::Target;

/// One shell word built from literal text and variable references.
#[derive(Default)]
struct Word(Vec<Piece>);

enum Piece {
    Lit(String),
    Var(String),
}

impl Word {
    fn lit(mut self, s: impl Into<String>) -> Word {
        let s = s.into();
        if !s.is_empty() {
            self.0.push(Piece::Lit(s));
        }
        self
    }

    fn var(mut self, name: &str) -> Word {
        self.0.push(Piece::Var(name.to_owned()));
        self
    }

    /// Double-quoted when every literal is safe inside double quotes (`"$VAR/path"`, easy to
    /// read); else literals in single quotes and variables in double quotes, side by side.
    fn render(&self) -> String {
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
fn single_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Split `text` at every occurrence of the secrets into literal and variable pieces.
fn splice(text: &str, secrets: &[(String, String)]) -> (Word, Vec<usize>) {
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

/// Where in a JSON body a secret was sent (`TYPE.field`), for the prompt that asks for it.
fn secret_field(body: &Value, secret: &str) -> Option<String> {
    let obj = body.as_object()?;
    let ty = obj.get("type").and_then(Value::as_str);
    obj.iter().find_map(|(k, v)| {
        let found = match v {
            Value::String(s) => s.contains(secret),
            other => other.to_string().contains(secret),
        };
        found.then(|| match ty {
            Some(t) => format!("{t}.{k}"),
            None => k.clone(),
        })
    })
}

fn body_text(body: &Body) -> Option<String> {
    match body {
        Body::None | Body::Oversized { .. } => None,
        Body::Json(v) => Some(serde_json::to_string(v).unwrap_or_default()),
        Body::Raw(s) => Some(s.clone()),
    }
}

/// The shell variable that holds a project's group id, and the `CONFORMANCE_*` variable it is
/// read from.
fn group_var(project: &Project, kind: ProjectKind) -> Option<(&'static str, &'static str)> {
    let own = |k: ProjectKind| match k {
        ProjectKind::Atlas => "CONFORMANCE_GROUP_ID",
        ProjectKind::CloudManager => "CONFORMANCE_CM_GROUP_ID",
    };
    let other = match kind {
        ProjectKind::Atlas => ProjectKind::CloudManager,
        ProjectKind::CloudManager => ProjectKind::Atlas,
    };
    match project {
        Project::Own => Some(("GROUP_ID", own(kind))),
        Project::OtherKind => Some(("OTHER_KIND_GROUP_ID", own(other))),
        Project::NoAccess => Some(("NO_ACCESS_GROUP_ID", "CONFORMANCE_OTHER_GROUP_ID")),
        Project::Literal(_) => None,
    }
}

/// The `curl` options that authenticate a step, and a comment when curl cannot do what the
/// runner did.
fn auth_options(credential: Credential, target: &Target) -> (Vec<String>, Option<&'static str>) {
    let owner = |scheme: &AuthSpec| match scheme {
        AuthSpec::Digest { .. } => vec![
            "--digest".into(),
            "--user".into(),
            "\"$CONFORMANCE_PUBLIC_KEY:$CONFORMANCE_PRIVATE_KEY\"".into(),
        ],
        _ => vec![
            "-H".into(),
            "\"Authorization: Bearer $CONFORMANCE_TOKEN\"".into(),
        ],
    };
    match credential {
        Credential::Owner => (owner(&target.auth), None),
        Credential::ReadOnly => match &target.read_only {
            Some(AuthSpec::Digest { .. }) | None => (
                vec!["--digest".into(), "--user".into(), "\"$CONFORMANCE_READONLY_PUBLIC_KEY:$CONFORMANCE_READONLY_PRIVATE_KEY\"".into()],
                None,
            ),
            Some(_) => (vec!["-H".into(), "\"Authorization: Bearer $CONFORMANCE_READONLY_TOKEN\"".into()], None),
        },
        Credential::None => (Vec::new(), None),
        Credential::WrongPassword => (
            vec!["--digest".into(), "--user".into(), "\"$CONFORMANCE_PUBLIC_KEY:not-the-private-key\"".into()],
            None,
        ),
        Credential::BadBearer => (
            vec!["-H".into(), single_quote("Authorization: Bearer 0f1e2d3c4b5a69788796a5b4c3d2e1f0-never-issued")],
            None,
        ),
        Credential::ExpiredBearer => (
            vec!["-H".into(), "\"Authorization: Bearer $EXPIRED_TOKEN\"".into()],
            Some("EXPIRED_TOKEN: a token the target issued and has since expired"),
        ),
        Credential::ForgedNonce | Credential::StaleNonce | Credential::ReplayedNonceCount => (
            owner(&target.auth),
            Some("curl cannot forge, expire or replay a digest nonce: this sends a fresh, valid digest response instead"),
        ),
    }
}

/// The reproduction script for step `failing` of `case`; `secrets` are the values the script
/// must not show (see [`super::secrets_of_case`]).
pub fn reproduce(
    case: &Case,
    secrets: &[String],
    failing: usize,
    family: &Family,
    model: &Model,
    target: &Target,
) -> String {
    let secrets: Vec<(String, String)> = secrets
        .iter()
        .enumerate()
        .map(|(i, s)| (s.clone(), format!("SECRET_{}", i + 1)))
        .collect();
    // The steps that put the project in the failing step's state, the failing step, and the
    // cleanup that restores it.
    let steps: Vec<(usize, &Step)> = case
        .steps
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            (*i < failing && s.role != Role::Cleanup)
                || *i == failing
                || (*i > failing && s.role == Role::Cleanup)
        })
        .collect();

    let mut needs: Vec<&str> = vec!["CONFORMANCE_TARGET"];
    let mut groups: Vec<(&str, &str)> = Vec::new();
    let mut notes: Vec<&str> = Vec::new();
    let mut used_secrets: Vec<usize> = Vec::new();
    let mut oauth_token = false;
    let mut commands = Vec::new();
    for (i, step) in &steps {
        let req = &step.request;
        let (auth, note) = auth_options(req.credential, target);
        for opt in &auth {
            for v in [
                "CONFORMANCE_PUBLIC_KEY",
                "CONFORMANCE_PRIVATE_KEY",
                "CONFORMANCE_READONLY_PUBLIC_KEY",
                "CONFORMANCE_READONLY_PRIVATE_KEY",
                "CONFORMANCE_READONLY_TOKEN",
            ] {
                if opt.contains(&format!("${v}")) && !needs.contains(&v) {
                    needs.push(v);
                }
            }
            if opt.contains("$CONFORMANCE_TOKEN") {
                match target.auth {
                    AuthSpec::OAuth { .. } => oauth_token = true,
                    _ if !needs.contains(&"CONFORMANCE_TOKEN") => needs.push("CONFORMANCE_TOKEN"),
                    _ => {}
                }
            }
        }
        if let Some(n) = note {
            if !notes.contains(&n) {
                notes.push(n);
            }
        }
        let mut args: Vec<String> = vec!["curl".into(), "-sS".into()];
        if *i == failing {
            args.push("-i".into());
        } else {
            args.extend([
                "-o".into(),
                "/dev/null".into(),
                "-w".into(),
                single_quote(&format!(
                    "step {i} ({}): %{{http_code}}\\n",
                    role(step.role)
                )),
            ]);
        }
        if req.method != "GET" {
            args.push("-X".into());
            args.push(Word::default().lit(req.method.as_str()).render());
        }
        args.extend(auth);
        if let Some(a) = &req.accept {
            args.push("-H".into());
            args.push(Word::default().lit(format!("Accept: {a}")).render());
        }
        let has_body = !matches!(req.body, Body::None);
        match (&req.content_type, has_body) {
            (Some(ct), true) => {
                args.push("-H".into());
                args.push(Word::default().lit(format!("Content-Type: {ct}")).render());
            }
            // curl would add its own form Content-Type; the runner sent none.
            (None, true) => {
                args.push("-H".into());
                args.push(single_quote("Content-Type:"));
            }
            _ => {}
        }
        // An oversized body is written to a file first: `{`, the padding, then the rest of the
        // valid body (with its secrets as variables).
        let mut body_file = None;
        match &req.body {
            Body::None => {}
            Body::Oversized { value, size } => {
                let text = serde_json::to_string(value).unwrap_or_default();
                let rest = text.strip_prefix('{').unwrap_or(&text);
                let fill = size.saturating_sub(text.len());
                let (word, used) = splice(rest, &secrets);
                for u in used {
                    if !used_secrets.contains(&u) {
                        used_secrets.push(u);
                    }
                }
                body_file = Some(format!(
                    "BODY_FILE_{i}=$(mktemp); {{ printf '{{'; head -c {fill} /dev/zero | tr '\\0' ' '; printf '%s' {}; }} > \"$BODY_FILE_{i}\"",
                    word.render()
                ));
                args.push("--data-binary".into());
                args.push(format!("@\"$BODY_FILE_{i}\""));
            }
            body => {
                let text = body_text(body).unwrap_or_default();
                let (word, used) = splice(&text, &secrets);
                for u in used {
                    if !used_secrets.contains(&u) {
                        used_secrets.push(u);
                    }
                }
                args.push("--data-raw".into());
                args.push(word.render());
            }
        }
        // The URL: the runner's own encoding of path and query, with variables for the target
        // and the group id.
        let mut url = Word::default()
            .var("CONFORMANCE_TARGET")
            .lit(format!("{}/groups/", req.base_path));
        match group_var(&req.project, family.project_kind) {
            Some((var, from)) => {
                if !groups.iter().any(|(v, _)| *v == var) {
                    groups.push((var, from));
                }
                url = url.var(var);
            }
            None => {
                if let Project::Literal(id) = &req.project {
                    url = url.lit(encode_path(id));
                }
            }
        }
        let mut rest = encode_path(&req.path);
        if !req.query.is_empty() {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &req.query {
                q.append_pair(k, v);
            }
            rest.push('?');
            rest.push_str(&q.finish());
        }
        args.push(url.lit(rest).render());

        let mut cmd = format!("# step {i} ({})", role(step.role));
        if *i == failing {
            cmd.push_str(": the failing request");
        }
        cmd.push('\n');
        if let Some(line) = body_file {
            let _ = writeln!(cmd, "{line}");
        }
        cmd.push_str(&wrap(&args));
        commands.push(cmd);
    }
    for (_, from) in &groups {
        if !needs.contains(from) {
            needs.push(from);
        }
    }
    if oauth_token {
        for v in ["CONFORMANCE_CLIENT_ID", "CONFORMANCE_CLIENT_SECRET"] {
            needs.push(v);
        }
    }

    let mut out = String::new();
    let _ = writeln!(out, "# {} (step {failing} fails)", case.id);
    let _ = writeln!(out, "# needs: {}", needs.join(" "));
    for n in &notes {
        let _ = writeln!(out, "# {n}");
    }
    for (var, from) in &groups {
        let _ = writeln!(out, "{var}=\"${from}\"");
    }
    if oauth_token {
        let token_url = Word::default()
            .var("CONFORMANCE_TARGET")
            .lit(model.token_path.as_str())
            .render();
        let _ = writeln!(
            out,
            "CONFORMANCE_TOKEN=$(curl -sS --user \"$CONFORMANCE_CLIENT_ID:$CONFORMANCE_CLIENT_SECRET\" --data grant_type=client_credentials {token_url} | python3 -c 'import json, sys; print(json.load(sys.stdin)[\"access_token\"])')"
        );
    }
    used_secrets.sort_unstable();
    for i in used_secrets {
        let (value, var) = &secrets[i];
        let what = case
            .steps
            .iter()
            .find_map(|s| match &s.request.body {
                Body::Json(v) => secret_field(v, value),
                _ => None,
            })
            .map(|f| format!("a {f} value"))
            .unwrap_or_else(|| "a secret value".into());
        let prompt = format!(
            "set {var} to {what} (the run sent a generated one of {} characters)",
            value.chars().count()
        );
        let _ = writeln!(
            out,
            ": \"${{{var}:?{}}}\"",
            prompt.replace(['"', '$', '`', '\\', '}'], "")
        );
    }
    out.push_str(&commands.join(""));
    out
}

fn role(r: Role) -> &'static str {
    match r {
        Role::Setup => "setup",
        Role::Test => "test",
        Role::Verify => "verify",
        Role::Cleanup => "cleanup",
    }
}

/// Percent-encode what a URL path cannot hold as it is (as `url::Url` does when it parses the
/// runner's URLs).
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@%".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `curl` and its options, one option (with its value) per line after the first few.
fn wrap(args: &[String]) -> String {
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
