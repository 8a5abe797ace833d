//! The target under test: base URL, project ids and credentials, from flags or the
//! environment (`CONFORMANCE_*`), or from the embedded reference server; and the one place a
//! case's request becomes an exchange with it ([`Client`], [`Outgoing`]).

mod client;
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
        let other = match family.project_kind {
            ProjectKind::Atlas => ProjectKind::CloudManager,
            ProjectKind::CloudManager => ProjectKind::Atlas,
        };
        match project {
            Project::Own => self.group_for(family.project_kind),
            Project::OtherKind => self.group_for(other),
            Project::NoAccess => self.other_group_id.as_deref(),
            Project::Literal(id) => Some(id.as_str()),
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
        out.retain(|s| s.len() >= 4);
        out
    }

    /// The target described by the `CONFORMANCE_*` environment variables, if
    /// `CONFORMANCE_TARGET` is set.
    pub fn from_env() -> Result<Option<Target>> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let Some(base) = var("CONFORMANCE_TARGET") else {
            return Ok(None);
        };
        let auth = var("CONFORMANCE_AUTH").ok_or_else(|| {
            Error::Usage("CONFORMANCE_TARGET is set but CONFORMANCE_AUTH is not (digest:PUBLIC:PRIVATE, bearer:TOKEN or oauth:CLIENT_ID:SECRET)".into())
        })?;
        let auth: AuthSpec = auth
            .parse()
            .map_err(|e| Error::Usage(format!("CONFORMANCE_AUTH: {e}")))?;
        let read_only = match var("CONFORMANCE_READONLY_AUTH") {
            Some(v) => Some(
                v.parse()
                    .map_err(|e| Error::Usage(format!("CONFORMANCE_READONLY_AUTH: {e}")))?,
            ),
            None => None,
        };
        let expired_token = var("CONFORMANCE_EXPIRED_TOKEN");
        Ok(Some(Target {
            base_url: parse_base_url(&base)?,
            atlas_group_id: var("CONFORMANCE_GROUP_ID"),
            cm_group_id: var("CONFORMANCE_CM_GROUP_ID"),
            other_group_id: var("CONFORMANCE_OTHER_GROUP_ID"),
            auth,
            read_only,
            token_expirer: expired_token.clone().map(given_expired_token),
            expired_token,
            nonce_expirer: None,
            insecure: var("CONFORMANCE_INSECURE").is_some_and(|v| v == "1" || v == "true"),
            use_env_proxy: true,
            gateway: gateway_from_env()?,
        }))
    }
}

/// The gateway `CONFORMANCE_HEADERS` (one `NAME: VALUE` a line), `CONFORMANCE_CA_CERT`,
/// `CONFORMANCE_CLIENT_CERT` and `CONFORMANCE_CLIENT_KEY` describe.
fn gateway_from_env() -> Result<Gateway> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let path = |name: &str| var(name).map(std::path::PathBuf::from);
    Ok(Gateway {
        headers: parse_headers(&var("CONFORMANCE_HEADERS").into_iter().collect::<Vec<_>>())?,
        ca_certs: match path("CONFORMANCE_CA_CERT") {
            Some(p) => read_certificates("--ca-cert", &p)?,
            None => Vec::new(),
        },
        client_identity: read_identity(
            path("CONFORMANCE_CLIENT_CERT").as_deref(),
            path("CONFORMANCE_CLIENT_KEY").as_deref(),
        )?,
    })
}

/// The expirer for a token the user obtained from the target and that has since expired.
pub fn given_expired_token(token: String) -> TokenExpirer {
    Arc::new(move || Some(token.clone()))
}

/// Parse a target base URL: absolute http(s), no query or fragment; a trailing `/` is dropped.
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
    url.set_path(&path);
    Ok(url)
}
