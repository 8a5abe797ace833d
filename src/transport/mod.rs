//! The target under test: base URL, project ids and credentials, from flags or the
//! environment (`CONFORMANCE_*`), or from the embedded reference server; and the one place a
//! case's request becomes an exchange with it ([`Client`], [`Outgoing`]).

mod client;
pub mod env;
mod gateway;
mod request;

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::case::Project;
use crate::credential::AuthSpec;
use crate::error::{Error, Result};
use crate::model::{Family, ProjectKind};

pub use client::{Answer, Client, ClientOptions, Proxy, Sent};
pub use gateway::{
    parse_header, parse_headers, read_certificates, read_identity, read_private_key, Gateway,
    Identity, RESERVED_HEADERS,
};
pub use request::{failed, record_headers, Outgoing};

/// Issues a token the target has already expired (only the embedded server can).
pub type TokenExpirer = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// Expires every digest nonce the target issued (only the embedded server can).
pub type NonceExpirer = Arc<dyn Fn() + Send + Sync>;

/// Everything the runner needs to address a target.
#[derive(Clone)]
pub struct Target {
    pub base_url: Url,
    /// The Atlas project (atlas-v1 and atlas-v2 families).
    pub atlas_group_id: Option<String>,
    /// The Cloud Manager project (cloud-manager family).
    pub cm_group_id: Option<String>,
    /// A project the main credentials cannot access.
    pub other_group_id: Option<String>,
    pub auth: AuthSpec,
    pub read_only: Option<AuthSpec>,
    pub token_expirer: Option<TokenExpirer>,
    /// A bearer token the target issued and that has expired, given by the user
    /// (`--expired-token`); it also feeds `token_expirer`, and is scrubbed like a credential.
    pub expired_token: Option<String>,
    pub nonce_expirer: Option<NonceExpirer>,
    /// OAuth client credentials for the token endpoint cases when the main credentials are of
    /// another kind (the embedded server's); with `oauth:` main credentials those are used.
    pub oauth_client: Option<AuthSpec>,
    /// Accept invalid TLS certificates.
    pub insecure: bool,
    /// Use the proxy the standard environment variables name (`HTTPS_PROXY`, `NO_PROXY`, …).
    pub use_env_proxy: bool,
    /// What a gateway in front of the target asks for: headers (their values are secrets), a
    /// private CA, a client certificate.
    pub gateway: Gateway,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("base_url", &self.base_url.as_str())
            .field("atlas_group_id", &self.atlas_group_id)
            .field("cm_group_id", &self.cm_group_id)
            .field("other_group_id", &self.other_group_id)
            .field("auth", &self.auth)
            .field("read_only", &self.read_only)
            .field("gateway", &self.gateway)
            .finish()
    }
}

impl Target {
    /// The group id of the project a family of `kind` uses.
    pub fn group_for(&self, kind: ProjectKind) -> Option<&str> {
        match kind {
            ProjectKind::Atlas => self.atlas_group_id.as_deref(),
            ProjectKind::CloudManager => self.cm_group_id.as_deref(),
        }
    }

    /// The group id a request of `family` for `project` goes to (empty when the target has
    /// none: such cases are skipped before they are sent).
    pub fn group(&self, family: &Family, project: &Project) -> String {
        let other = family.project_kind.other();
        match project {
            Project::Own => self.group_for(family.project_kind),
            Project::OtherKind => self.group_for(other),
            Project::NoAccess => self.other_group_id.as_deref(),
            Project::Literal(id) => Some(id.as_str()),
            Project::Unscoped => None,
        }
        .unwrap_or_default()
        .to_owned()
    }

    /// The HTTP client for this target: TLS as `insecure` and the gateway say, the gateway's
    /// headers on every request, the environment's proxies when `use_env_proxy`.
    pub fn client(&self, timeout: Duration, body_cap: usize) -> Result<Client> {
        Client::new(&ClientOptions {
            timeout,
            body_cap,
            insecure: self.insecure,
            proxy: if self.use_env_proxy {
                Proxy::FromEnv
            } else {
                Proxy::None
            },
            gateway: self.gateway.clone(),
        })
    }

    /// Every credential string (and every gateway header value), so outputs can be scrubbed
    /// of them.
    pub fn secrets(&self) -> Vec<String> {
        let mut out = self.auth.secrets();
        out.extend(self.gateway.secrets());
        if let Some(ro) = &self.read_only {
            out.extend(ro.secrets());
        }
        out.extend(self.expired_token.iter().cloned());
        if let Some(client) = &self.oauth_client {
            out.extend(client.secrets());
        }
        out.retain(|s| s.len() >= 4);
        out
    }

    /// The OAuth client (id, secret) the token endpoint cases present, if any.
    pub fn token_client(&self) -> Option<(&str, &str)> {
        [Some(&self.auth), self.oauth_client.as_ref()]
            .into_iter()
            .flatten()
            .find_map(|a| match a {
                AuthSpec::OAuth {
                    client_id,
                    client_secret,
                } => Some((client_id.as_str(), client_secret.as_str())),
                _ => None,
            })
    }
}

/// What a user says about a gateway in front of the target (`--header`, `--ca-cert`,
/// `--client-cert`, `--client-key` or their variables), before it is read: the target
/// settings' argument group (`settings::TargetArgs`) builds every [`Gateway`] through it. Blank values count as not
/// given. No `Debug`: the headers are secrets.
#[derive(Clone, Default)]
pub struct GatewaySettings {
    /// `NAME: VALUE` lines (a value may hold several, one a line).
    pub headers: Vec<String>,
    pub ca_cert: Option<std::path::PathBuf>,
    pub client_cert: Option<std::path::PathBuf>,
    pub client_key: Option<std::path::PathBuf>,
}

impl GatewaySettings {
    /// The gateway they name, every file read and checked; a mistake is one sentence naming
    /// the flag, never a header value.
    pub fn build(self) -> Result<Gateway> {
        let given = |p: Option<std::path::PathBuf>| {
            p.filter(|p| !p.as_os_str().to_string_lossy().trim().is_empty())
        };
        Ok(Gateway {
            headers: parse_headers(&self.headers)?,
            ca_certs: match given(self.ca_cert) {
                Some(p) => read_certificates("--ca-cert", &p)?,
                None => Vec::new(),
            },
            client_identity: read_identity(
                given(self.client_cert).as_deref(),
                given(self.client_key).as_deref(),
            )?,
        })
    }
}

/// What a user says about a target, from flags or the `CONFORMANCE_*` variables, before it is
/// checked: the target settings' one argument group (`settings::TargetArgs`, read by the command
/// line and the cargo front end alike) builds every [`Target`] through it. Blank values count as not given. No `Debug`: it holds secrets.
#[derive(Clone, Default)]
pub struct TargetSettings {
    pub target: Option<String>,
    pub auth: Option<String>,
    pub readonly_auth: Option<String>,
    pub group_id: Option<String>,
    pub cm_group_id: Option<String>,
    pub other_group_id: Option<String>,
    pub expired_token: Option<String>,
    /// An OAuth client (`CLIENT_ID:SECRET`) beside digest `auth`: every credential case and
    /// every operation then run with both kinds of credentials (contract section 10).
    pub oauth_client: Option<String>,
    pub insecure: bool,
}

const AUTH_FORMS: &str = "digest:PUBLIC_KEY:PRIVATE_KEY, bearer:TOKEN or oauth:CLIENT_ID:SECRET";

impl TargetSettings {
    /// The target they name, or `None` when they name none (the embedded server is judged).
    /// Every mistake is one sentence naming the flag and its variable, never a value.
    pub fn build(self) -> Result<Option<Target>> {
        let given = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let usage = |m: String| Error::Usage(m);
        let auth = given(self.auth);
        let read_only = given(self.readonly_auth);
        let oauth_client = given(self.oauth_client);
        let groups = [
            given(self.group_id),
            given(self.cm_group_id),
            given(self.other_group_id),
        ];
        let Some(url) = given(self.target) else {
            if auth.is_some()
                || read_only.is_some()
                || oauth_client.is_some()
                || groups.iter().any(Option::is_some)
            {
                return Err(usage(
                    "credentials or project ids were given (flags or CONFORMANCE_* variables) but no target: \
                     add --target URL (or CONFORMANCE_TARGET); without one the run uses the embedded server and its own credentials"
                        .into(),
                ));
            }
            return Ok(None);
        };
        let base_url = parse_base_url(&url)?;
        if !base_url.username().is_empty() || base_url.password().is_some() {
            return Err(usage(
                "the target URL must not carry credentials: pass them with --auth or CONFORMANCE_AUTH"
                    .into(),
            ));
        }
        let auth = auth.ok_or_else(|| {
            usage(format!(
                "--target needs credentials: --auth or CONFORMANCE_AUTH ({AUTH_FORMS})"
            ))
        })?;
        // Parsed here, not by clap: clap's error would quote the value, and the value is a secret.
        let auth: AuthSpec = auth
            .parse()
            .map_err(|e| usage(format!("--auth (or CONFORMANCE_AUTH): {e}")))?;
        let read_only = match read_only {
            Some(v) => Some(v.parse::<AuthSpec>().map_err(|e| {
                usage(format!(
                    "--readonly-auth (or CONFORMANCE_READONLY_AUTH): {e}"
                ))
            })?),
            None => None,
        };
        // A project id has one shape; a wrong one would only show as every request refused.
        let flags = [
            ("--group-id", "CONFORMANCE_GROUP_ID"),
            ("--cm-group-id", "CONFORMANCE_CM_GROUP_ID"),
            ("--other-group-id", "CONFORMANCE_OTHER_GROUP_ID"),
        ];
        for ((flag, var), id) in flags.iter().zip(&groups) {
            if id.as_deref().is_some_and(|id| !is_project_id(id)) {
                return Err(usage(format!(
                    "{flag} (or {var}) is not a project id: a project id is 24 lower-case \
                     hexadecimal characters, as in the project's URL (…/v2/PROJECT_ID)"
                )));
            }
        }
        let [atlas_group_id, cm_group_id, other_group_id] = groups;
        if atlas_group_id.is_none() && cm_group_id.is_none() {
            return Err(usage(
                "--target needs a project: --group-id (Atlas families) and/or --cm-group-id (cloud-manager), \
                 or CONFORMANCE_GROUP_ID / CONFORMANCE_CM_GROUP_ID"
                    .into(),
            ));
        }
        let expired_token = given(self.expired_token);
        let oauth_client = match oauth_client {
            Some(v) => Some(parse_oauth_client(&v).map_err(|e| {
                usage(format!("--oauth-client (or CONFORMANCE_OAUTH_CLIENT): {e}"))
            })?),
            None => None,
        };
        Ok(Some(Target {
            base_url,
            atlas_group_id,
            cm_group_id,
            other_group_id,
            auth,
            read_only,
            token_expirer: expired_token.clone().map(given_expired_token),
            expired_token,
            nonce_expirer: None,
            oauth_client,
            insecure: self.insecure,
            use_env_proxy: true,
            gateway: Gateway::default(),
        }))
    }
}

/// `CLIENT_ID:SECRET` (or the `oauth:CLIENT_ID:SECRET` form of `--auth`) as OAuth client
/// credentials; the message never quotes the value.
fn parse_oauth_client(v: &str) -> std::result::Result<AuthSpec, String> {
    let spec = if v.starts_with("oauth:") {
        v.parse::<AuthSpec>()?
    } else {
        format!("oauth:{v}").parse::<AuthSpec>()?
    };
    match spec {
        AuthSpec::OAuth { .. } => Ok(spec),
        _ => Err("expected CLIENT_ID:SECRET".into()),
    }
}

/// The expirer for a token the user obtained from the target and that has since expired.
pub fn given_expired_token(token: String) -> TokenExpirer {
    Arc::new(move || Some(token.clone()))
}

/// A project (group) id: 24 lower-case hexadecimal characters.
pub fn is_project_id(id: &str) -> bool {
    id.len() == 24
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Parse a target base URL: absolute http(s), no query or fragment, no API path (the harness
/// adds `/api/...` itself); a trailing `/` is dropped.
pub fn parse_base_url(s: &str) -> Result<Url> {
    let url = Url::parse(s.trim()).map_err(|e| Error::Usage(format!("target URL {s:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::Usage(format!(
            "target URL {s:?}: the scheme must be http or https"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Usage(format!(
            "target URL {s:?}: no query or fragment, please"
        )));
    }
    let mut url = url;
    let path = url.path().trim_end_matches('/').to_owned();
    if let Some(at) = path
        .find("/api/")
        .or_else(|| path.ends_with("/api").then(|| path.len() - 4))
    {
        let keep = format!("{}{}", url.origin().ascii_serialization(), &path[..at]);
        return Err(Error::Usage(format!(
            "the target URL holds an API path: drop `{}` and give {keep} (the harness adds \
             /api/public/v1.0, /api/atlas/v1.0 and /api/atlas/v2 itself)",
            &path[at..]
        )));
    }
    url.set_path(&path);
    Ok(url)
}

#[cfg(test)]
mod settings_tests {
    use super::*;

    fn err(s: TargetSettings) -> String {
        match s.build() {
            Err(Error::Usage(m)) => m,
            Err(e) => panic!("not a usage error: {e}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn settings_make_the_same_checks_for_every_front_end() {
        assert!(
            TargetSettings::default().build().unwrap().is_none(),
            "no target: embedded"
        );
        let blank = TargetSettings {
            target: Some("  ".into()),
            auth: Some(String::new()),
            ..TargetSettings::default()
        };
        assert!(
            blank.build().unwrap().is_none(),
            "blank counts as not given"
        );
        let no_target = TargetSettings {
            auth: Some("digest:pub:priv".into()),
            ..TargetSettings::default()
        };
        assert!(err(no_target).contains("but no target"));
        let target = |extra: TargetSettings| TargetSettings {
            target: Some("https://api.example".into()),
            ..extra
        };
        assert!(err(target(TargetSettings::default())).contains("--target needs credentials"));
        let bad = err(target(TargetSettings {
            auth: Some("digest:only-one-part-s3cr3t".into()),
            ..TargetSettings::default()
        }));
        assert!(bad.starts_with("--auth (or CONFORMANCE_AUTH)") && !bad.contains("s3cr3t"));
        let no_project = err(target(TargetSettings {
            auth: Some("bearer:tok".into()),
            ..TargetSettings::default()
        }));
        assert!(no_project.contains("--target needs a project"));
        let with_user = TargetSettings {
            target: Some("https://u:p@api.example".into()),
            auth: Some("bearer:tok".into()),
            group_id: Some("5e2211c17a3e5a48f5497de3".into()),
            ..TargetSettings::default()
        };
        assert!(err(with_user).contains("must not carry credentials"));
        let ok = target(TargetSettings {
            auth: Some(" bearer:tok ".into()),
            group_id: Some("5e2211c17a3e5a48f5497de3".into()),
            expired_token: Some("old-token".into()),
            ..TargetSettings::default()
        })
        .build()
        .unwrap()
        .unwrap();
        assert_eq!(
            ok.atlas_group_id.as_deref(),
            Some("5e2211c17a3e5a48f5497de3")
        );
        assert!(ok.token_expirer.is_some());
        assert!(ok.secrets().contains(&"old-token".to_owned()));
    }
}
