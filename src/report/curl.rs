//! A copy-paste `curl` reproduction of a failing step: the steps before it (so the project is in
//! the same state), the failing step with `-i`, and the case's cleanup. Every credential and
//! every generated secret is a shell variable, never a value. The script reads the variables
//! `conformance run` reads, in the same forms (`CONFORMANCE_TARGET`, `CONFORMANCE_AUTH` as
//! `digest:PUBLIC:PRIVATE`, `bearer:TOKEN` or `oauth:ID:SECRET`, split by the script,
//! `CONFORMANCE_GROUP_ID`, …), so that what runs the harness runs its reproductions; it asks
//! for `$SECRET_1`… where the case sent generated secrets.

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
        Project::Literal(_) | Project::Unscoped => None,
    }
}

/// Whose credentials a step sends: the script's variable holding them and the `run` variable
/// (`digest:…`, `bearer:…` or `oauth:…`) it splits them from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Who {
    Owner,
    ReadOnly,
}

impl Who {
    fn source(self) -> &'static str {
        match self {
            Who::Owner => "CONFORMANCE_AUTH",
            Who::ReadOnly => "CONFORMANCE_READONLY_AUTH",
        }
    }

    /// `digest:PUBLIC:PRIVATE` → `PUBLIC:PRIVATE`, curl's `--user`.
    fn user_var(self) -> &'static str {
        match self {
            Who::Owner => "OWNER_USER",
            Who::ReadOnly => "READONLY_USER",
        }
    }

    fn token_var(self) -> &'static str {
        match self {
            Who::Owner => "OWNER_TOKEN",
            Who::ReadOnly => "READONLY_TOKEN",
        }
    }
}

/// A shell variable the script sets from the environment before its first command.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Derived {
    /// `digest:` stripped: `PUBLIC:PRIVATE`.
    User(Who),
    /// `bearer:` stripped.
    Token(Who),
    /// A token obtained with the `oauth:` client credentials.
    OAuthToken(Who),
}

/// The `curl` options that authenticate a step, the variables they need the script to derive,
/// and a comment when curl cannot do what the runner did.
fn auth_options(
    credential: Credential,
    target: &Target,
) -> (Vec<String>, Vec<Derived>, Option<&'static str>) {
    let scheme = |who: Who| match who {
        Who::Owner => Some(&target.auth),
        Who::ReadOnly => target.read_only.as_ref(),
    };
    let login = |who: Who| match scheme(who) {
        Some(AuthSpec::Digest { .. }) | None => (
            vec![
                "--digest".into(),
                "--user".into(),
                format!("\"${}\"", who.user_var()),
            ],
            vec![Derived::User(who)],
        ),
        Some(AuthSpec::OAuth { .. }) => (
            vec![
                "-H".into(),
                format!("\"Authorization: Bearer ${}\"", who.token_var()),
            ],
            vec![Derived::OAuthToken(who)],
        ),
        Some(_) => (
            vec![
                "-H".into(),
                format!("\"Authorization: Bearer ${}\"", who.token_var()),
            ],
            vec![Derived::Token(who)],
        ),
    };
    let plain = |(opts, derived): (Vec<String>, Vec<Derived>)| (opts, derived, None);
    match credential {
        Credential::Owner => plain(login(Who::Owner)),
        Credential::ReadOnly => plain(login(Who::ReadOnly)),
        Credential::None => (Vec::new(), Vec::new(), None),
        Credential::WrongPassword => (
            vec![
                "--digest".into(),
                "--user".into(),
                "\"${OWNER_USER%%:*}:not-the-private-key\"".into(),
            ],
            vec![Derived::User(Who::Owner)],
            None,
        ),
        Credential::BadBearer => (
            vec![
                "-H".into(),
                single_quote("Authorization: Bearer 0f1e2d3c4b5a69788796a5b4c3d2e1f0-never-issued"),
            ],
            Vec::new(),
            None,
        ),
        Credential::ExpiredBearer => (
            vec![
                "-H".into(),
                "\"Authorization: Bearer $CONFORMANCE_EXPIRED_TOKEN\"".into(),
            ],
            Vec::new(),
            Some("CONFORMANCE_EXPIRED_TOKEN: a token the target issued and has since expired"),
        ),
        Credential::Client | Credential::ClientWrongSecret | Credential::ClientUnknown => (
            Vec::new(),
            Vec::new(),
            Some("the token endpoint case sends the OAuth client's Basic credentials (or a wrong or unknown client's); this sends none"),
        ),
        Credential::ForgedNonce
        | Credential::StaleNonce
        | Credential::ReplayedNonceCount
        | Credential::OtherUri => {
            let (opts, derived) = login(Who::Owner);
            (
                opts,
                derived,
                Some("curl cannot forge, expire or replay a digest nonce: this sends a fresh, valid digest response instead"),
            )
        }
    }
}

/// The `curl` options that meet the target's gateway, as variables read from the environment
/// `run` reads (a header's value is a secret, a file's path is the user's), and those
/// variables.
fn gateway_options(target: &Target) -> (Vec<String>, Vec<&'static str>) {
    let g = &target.gateway;
    let mut opts = Vec::new();
    let mut needs = Vec::new();
    if !g.headers.is_empty() {
        opts.extend(["-H".into(), "@\"$GATEWAY_HEADERS\"".into()]);
        needs.push("CONFORMANCE_HEADERS");
    }
    if !g.ca_certs.is_empty() {
        opts.extend(["--cacert".into(), "\"$CONFORMANCE_CA_CERT\"".into()]);
        needs.push("CONFORMANCE_CA_CERT");
    }
    if g.client_identity.is_some() {
        opts.extend([
            "--cert".into(),
            "\"$CONFORMANCE_CLIENT_CERT\"".into(),
            "--key".into(),
            "\"$CONFORMANCE_CLIENT_KEY\"".into(),
        ]);
        needs.extend(["CONFORMANCE_CLIENT_CERT", "CONFORMANCE_CLIENT_KEY"]);
    }
    (opts, needs)
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
                // a concurrent group is reproduced whole, or there is no race
                || (s.role == Role::Concurrent && case.steps[failing].role == Role::Concurrent)
        })
        .collect();

    let mut needs: Vec<&str> = vec!["CONFORMANCE_TARGET"];
    let (gateway, gateway_needs) = gateway_options(target);
    needs.extend(gateway_needs.iter().copied());
    let mut derived: Vec<Derived> = Vec::new();
    let mut groups: Vec<(&str, &str)> = Vec::new();
    let mut notes: Vec<&str> = Vec::new();
    let mut used_secrets: Vec<usize> = Vec::new();
    let mut commands = Vec::new();
    for (i, step) in &steps {
        let req = &step.request;
        let (auth, derives, note) = auth_options(req.credential, target);
        for d in derives {
            if !derived.contains(&d) {
                derived.push(d);
            }
        }
        if auth
            .iter()
            .any(|o| o.contains("$CONFORMANCE_EXPIRED_TOKEN"))
            && !needs.contains(&"CONFORMANCE_EXPIRED_TOKEN")
        {
            needs.push("CONFORMANCE_EXPIRED_TOKEN");
        }
        if let Some(n) = note {
            if !notes.contains(&n) {
                notes.push(n);
            }
        }
        let mut args: Vec<String> = vec!["curl".into(), "-sS".into()];
        args.extend(gateway.iter().cloned());
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
        let mut url =
            Word::default()
                .var("CONFORMANCE_TARGET")
                .lit(if req.project == Project::Unscoped {
                    req.base_path.clone()
                } else {
                    format!("{}/groups/", req.base_path)
                });
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
        if step.role == Role::Concurrent {
            // Sent at the same moment as the rest of its group: in the background, then waited for.
            let end = cmd.trim_end().len();
            cmd.truncate(end);
            cmd.push_str(" &\n");
            if case
                .steps
                .get(i + 1)
                .is_none_or(|s| s.role != Role::Concurrent)
            {
                cmd.push_str("wait\n");
            }
        }
        commands.push(cmd);
    }
    for d in &derived {
        let (Derived::User(who) | Derived::Token(who) | Derived::OAuthToken(who)) = *d;
        if !needs.contains(&who.source()) {
            needs.push(who.source());
        }
    }
    for (_, from) in &groups {
        if !needs.contains(from) {
            needs.push(from);
        }
    }

    let mut out = String::new();
    let _ = writeln!(out, "# {} (step {failing} fails)", case.id);
    let _ = writeln!(
        out,
        "# reads what conformance run reads: {}",
        needs.join(" ")
    );
    if gateway_needs.contains(&"CONFORMANCE_CA_CERT") {
        notes.push("--cacert replaces curl's default CA bundle, where conformance run adds to the platform's roots");
    }
    for n in &notes {
        let _ = writeln!(out, "# {n}");
    }
    for var in &needs {
        let _ = writeln!(
            out,
            ": \"${{{var}:?set {var} as for conformance run (see conformance run --help)}}\""
        );
    }
    if gateway_needs.contains(&"CONFORMANCE_HEADERS") {
        // One `NAME: VALUE` a line, as `run` reads it; curl reads the file, the script never
        // shows a value.
        let _ = writeln!(
            out,
            "GATEWAY_HEADERS=$(mktemp); printf '%s\\n' \"$CONFORMANCE_HEADERS\" | sed '/^[[:space:]]*$/d' > \"$GATEWAY_HEADERS\""
        );
    }
    for d in &derived {
        match *d {
            Derived::User(who) => {
                let _ = writeln!(out, "{}=\"${{{}#digest:}}\"", who.user_var(), who.source());
            }
            Derived::Token(who) => {
                let _ = writeln!(out, "{}=\"${{{}#bearer:}}\"", who.token_var(), who.source());
            }
            Derived::OAuthToken(who) => {
                let token_url = Word::default()
                    .var("CONFORMANCE_TARGET")
                    .lit(model.token_path.as_str())
                    .render();
                let _ = writeln!(
                    out,
                    "{}=$(curl -sS{} --user \"${{{}#oauth:}}\" --data grant_type=client_credentials {token_url} | sed -n 's/.*\"access_token\" *: *\"\\([^\"]*\\)\".*/\\1/p')",
                    who.token_var(),
                    gateway.iter().map(|o| format!(" {o}")).collect::<String>(),
                    who.source()
                );
            }
        }
    }
    for (var, from) in &groups {
        let _ = writeln!(out, "{var}=\"${from}\"");
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
        Role::Concurrent => "concurrent",
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
