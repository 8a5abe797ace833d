//! A copy-paste `curl` reproduction of a failing step: the steps before it (so the project is in
//! the same state), the failing step with `-i`, and the case's cleanup. Every credential and
//! every generated secret is a shell variable, never a value. The script reads the variables
//! `conformance run` reads, in the same forms (`CONFORMANCE_TARGET`, `CONFORMANCE_AUTH` as
//! `digest:PUBLIC:PRIVATE`, `bearer:TOKEN` or `oauth:ID:SECRET`, split by the script,
//! `CONFORMANCE_GROUP_ID`, …), so that what runs the harness runs its reproductions; where the
//! case sent generated secrets, it reads `$SECRET_1`… or makes random ones of the same length.

use std::fmt::Write as _;

use serde_json::Value;

use crate::auth::AuthSpec;
use crate::case::{Body, Case, Credential, Project, Role, Step};
use crate::model::{Family, Model, ProjectKind};
use crate::transport::Target;

mod shell;
use shell::{single_quote, splice, wrap, Word};

/// Where in a JSON body a secret was sent (`TYPE.field`), for the prompt that asks for it.
fn secret_field(body: &Value, secret: &str, discriminator: &str) -> Option<String> {
    let obj = body.as_object()?;
    let ty = obj.get(discriminator).and_then(Value::as_str);
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
    let other = kind.other();
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
    /// The OAuth client given beside digest credentials (`CONFORMANCE_OAUTH_CLIENT`).
    OAuthClient,
}

impl Who {
    fn source(self) -> &'static str {
        match self {
            Who::Owner => "CONFORMANCE_AUTH",
            Who::ReadOnly => "CONFORMANCE_READONLY_AUTH",
            Who::OAuthClient => "CONFORMANCE_OAUTH_CLIENT",
        }
    }

    /// `digest:PUBLIC:PRIVATE` → `PUBLIC:PRIVATE`, curl's `--user`.
    fn user_var(self) -> &'static str {
        match self {
            Who::Owner => "OWNER_USER",
            Who::ReadOnly => "READONLY_USER",
            Who::OAuthClient => "OAUTH_CLIENT_USER",
        }
    }

    fn token_var(self) -> &'static str {
        match self {
            Who::Owner => "OWNER_TOKEN",
            Who::ReadOnly => "READONLY_TOKEN",
            Who::OAuthClient => "OAUTH_CLIENT_TOKEN",
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
        Who::OAuthClient => target.oauth_client.as_ref(),
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
        Credential::OAuthOwner if matches!(target.auth, AuthSpec::OAuth { .. }) => {
            plain(login(Who::Owner))
        }
        Credential::ReadOnly => plain(login(Who::ReadOnly)),
        Credential::OAuthOwner => plain(login(Who::OAuthClient)),
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
        Credential::MalformedDigest => (
            vec![
                "-H".into(),
                single_quote("Authorization: Digest username, realm=, nonce"),
            ],
            Vec::new(),
            None,
        ),
        Credential::UnnamedScheme => (
            vec![
                "-H".into(),
                single_quote(
                    "Authorization: Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXagMDAuBgkqhkiC9xIBAgI=",
                ),
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
    let (gateway, gateway_needs) = gateway_options(target);
    let mut needs = vec!["CONFORMANCE_TARGET"];
    needs.extend(gateway_needs.iter().copied());
    let mut script = Script {
        case,
        failing,
        family,
        target,
        secrets: &secrets,
        gateway,
        gateway_needs,
        needs,
        derived: Vec::new(),
        groups: Vec::new(),
        notes: Vec::new(),
        used_secrets: Vec::new(),
        commands: Vec::new(),
    };
    // The steps that put the project in the failing step's state, the failing step, and the
    // cleanup that restores it.
    for (i, step) in case.steps.iter().enumerate().filter(|(i, s)| {
        (*i < failing && s.role != Role::Cleanup)
            || *i == failing
            || (*i > failing && s.role == Role::Cleanup)
            // a concurrent group is reproduced whole, or there is no race
            || (s.role == Role::Concurrent && case.steps[failing].role == Role::Concurrent)
    }) {
        let cmd = script.command(i, step);
        script.commands.push(cmd);
    }
    script.need_sources();
    let mut out = script.preamble(model);
    out.push_str(&script.commands.join(""));
    out
}

/// A reproduction script as it is assembled: the commands of its steps, and what they need
/// from the environment (variables, derived credentials, group ids, secrets) for the preamble.
struct Script<'a> {
    case: &'a Case,
    failing: usize,
    family: &'a Family,
    target: &'a Target,
    secrets: &'a [(String, String)],
    gateway: Vec<String>,
    gateway_needs: Vec<&'static str>,
    needs: Vec<&'static str>,
    derived: Vec<Derived>,
    groups: Vec<(&'static str, &'static str)>,
    notes: Vec<&'static str>,
    used_secrets: Vec<usize>,
    commands: Vec<String>,
}

impl Script<'_> {
    /// The commented `curl` command of step `i` (in the background when it is concurrent).
    fn command(&mut self, i: usize, step: &Step) -> String {
        let req = &step.request;
        let mut args: Vec<String> = vec!["curl".into(), "-sS".into()];
        args.extend(self.gateway.iter().cloned());
        if i == self.failing {
            args.push("-i".into());
        } else {
            args.extend([
                "-o".into(),
                "/dev/null".into(),
                "-w".into(),
                single_quote(&format!(
                    "step {i} ({}): %{{http_code}}\\n",
                    step.role.as_str()
                )),
            ]);
        }
        if req.method != "GET" {
            args.push("-X".into());
            args.push(Word::default().lit(req.method.as_str()).render());
        }
        args.extend(self.auth(req.credential));
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
        let body_file = self.body(i, &req.body, &mut args);
        args.push(self.url(req));

        let mut cmd = format!("# step {i} ({})", step.role.as_str());
        if i == self.failing {
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
            if self
                .case
                .steps
                .get(i + 1)
                .is_none_or(|s| s.role != Role::Concurrent)
            {
                cmd.push_str("wait\n");
            }
        }
        cmd
    }

    /// The options that authenticate as `credential`, noting what they derive and need.
    fn auth(&mut self, credential: Credential) -> Vec<String> {
        let (auth, derives, note) = auth_options(credential, self.target);
        for d in derives {
            if !self.derived.contains(&d) {
                self.derived.push(d);
            }
        }
        if auth
            .iter()
            .any(|o| o.contains("$CONFORMANCE_EXPIRED_TOKEN"))
            && !self.needs.contains(&"CONFORMANCE_EXPIRED_TOKEN")
        {
            self.needs.push("CONFORMANCE_EXPIRED_TOKEN");
        }
        if let Some(n) = note {
            if !self.notes.contains(&n) {
                self.notes.push(n);
            }
        }
        auth
    }

    /// The body options of step `i`, and the line writing an oversized body to a file first:
    /// `{`, the padding, then the rest of the valid body (with its secrets as variables).
    fn body(&mut self, i: usize, body: &Body, args: &mut Vec<String>) -> Option<String> {
        match body {
            Body::None => None,
            Body::Oversized { value, size } => {
                let text = serde_json::to_string(value).unwrap_or_default();
                let rest = text.strip_prefix('{').unwrap_or(&text);
                let fill = size.saturating_sub(text.len());
                let word = self.splice(rest);
                args.push("--data-binary".into());
                args.push(format!("@\"$BODY_FILE_{i}\""));
                Some(format!(
                    "BODY_FILE_{i}=$(mktemp); {{ printf '{{'; head -c {fill} /dev/zero | tr '\\0' ' '; printf '%s' {}; }} > \"$BODY_FILE_{i}\"",
                    word.render()
                ))
            }
            body => {
                let text = body_text(body).unwrap_or_default();
                let word = self.splice(&text);
                args.push("--data-raw".into());
                args.push(word.render());
                None
            }
        }
    }

    /// `text` as a word with its secrets as variables, noting which secrets it uses.
    fn splice(&mut self, text: &str) -> Word {
        let (word, used) = splice(text, self.secrets);
        for u in used {
            if !self.used_secrets.contains(&u) {
                self.used_secrets.push(u);
            }
        }
        word
    }

    /// The URL: the runner's own encoding of path and query, with variables for the target and
    /// the group id.
    fn url(&mut self, req: &crate::case::Request) -> String {
        let mut url =
            Word::default()
                .var("CONFORMANCE_TARGET")
                .lit(if req.project == Project::Unscoped {
                    req.base_path.clone()
                } else {
                    format!("{}/groups/", req.base_path)
                });
        match group_var(&req.project, self.family.project_kind) {
            Some((var, from)) => {
                if !self.groups.iter().any(|(v, _)| *v == var) {
                    self.groups.push((var, from));
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
        url.lit(rest).render()
    }

    /// The variables the derived credentials and group ids are read from, once each.
    fn need_sources(&mut self) {
        for d in &self.derived {
            let (Derived::User(who) | Derived::Token(who) | Derived::OAuthToken(who)) = *d;
            if !self.needs.contains(&who.source()) {
                self.needs.push(who.source());
            }
        }
        for (_, from) in &self.groups {
            if !self.needs.contains(from) {
                self.needs.push(from);
            }
        }
    }

    /// Everything before the commands: what the script reads, the checks that it is set, the
    /// gateway's headers file, the derived credentials, the group ids and the secrets asked for.
    fn preamble(&mut self, model: &Model) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# {} (step {} fails)", self.case.id, self.failing);
        let _ = writeln!(
            out,
            "# reads what conformance run reads: {}",
            self.needs.join(" ")
        );
        if self.gateway_needs.contains(&"CONFORMANCE_CA_CERT") {
            self.notes.push("--cacert replaces curl's default CA bundle, where conformance run adds to the platform's roots");
        }
        for n in &self.notes {
            let _ = writeln!(out, "# {n}");
        }
        for var in &self.needs {
            let _ = writeln!(
                out,
                ": \"${{{var}:?set {var} as for conformance run (see conformance run --help)}}\""
            );
        }
        if self.gateway_needs.contains(&"CONFORMANCE_HEADERS") {
            // One `NAME: VALUE` a line, as `run` reads it; curl reads the file, the script never
            // shows a value.
            let _ = writeln!(
                out,
                "GATEWAY_HEADERS=$(mktemp); printf '%s\\n' \"$CONFORMANCE_HEADERS\" | sed '/^[[:space:]]*$/d' > \"$GATEWAY_HEADERS\""
            );
        }
        self.derivations(&mut out, model);
        for (var, from) in &self.groups {
            let _ = writeln!(out, "{var}=\"${from}\"");
        }
        self.secret_prompts(&mut out, &model.wire.discriminator);
        out
    }

    /// The lines that derive users and tokens from the credentials the script reads.
    fn derivations(&self, out: &mut String, model: &Model) {
        for d in &self.derived {
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
                        self.gateway.iter().map(|o| format!(" {o}")).collect::<String>(),
                        who.source()
                    );
                }
            }
        }
    }

    /// A value per secret the commands use: the one given in the environment, or a random one
    /// as long as the run's generated one (never the value), with a comment saying which field
    /// it goes in.
    fn secret_prompts(&mut self, out: &mut String, discriminator: &str) {
        self.used_secrets.sort_unstable();
        for &i in &self.used_secrets {
            let (value, var) = &self.secrets[i];
            let what = self
                .case
                .steps
                .iter()
                .find_map(|s| match &s.request.body {
                    Body::Json(v) => secret_field(v, value, discriminator),
                    _ => None,
                })
                .map(|f| format!("a {f} value"))
                .unwrap_or_else(|| "a secret value".into());
            let n = value.chars().count().max(1);
            let note = format!(
                "{var}: {what}; given, or a random one of {n} hex digits (the run sent a generated one of {n} characters)"
            );
            let _ = writeln!(out, "# {}", note.replace(['\n', '\r'], " "));
            let _ = writeln!(
                out,
                ": \"${{{var}:=$(head -c {} /dev/urandom | od -An -tx1 | tr -d ' \\n' | cut -c1-{n})}}\"",
                n.div_ceil(2)
            );
        }
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
