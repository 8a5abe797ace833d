//! The embedded reference server: the behaviour contract implemented from the same
//! [`Model`] the harness reads, so the spec is the one source of truth for both sides. It is the
//! harness's default target and what users develop against; switchable [`Fault`]s turn it into
//! a target with one known bug, for the harness's self-test.
//!
//! Layout: `routes` owns the request pipeline and its check order; `validate` the body rules;
//! `store` the state; `render` and `mask` the responses; `error` the one error type; `query`
//! the query parameters; `fault` the switchable bugs; `variant` the switchable tolerated choices
//! (the mirror of `fault`: each must pass); [`auth`] digest, bearer and the token endpoint.
//!
//! Projects: an Atlas project and a Cloud Manager project on which the owner key and the OAuth
//! client are Project Owner and the read-only key Project Read Only, and a third (Atlas) project
//! of another owner that none of them can reach, holding one integration so that a leak shows.

pub mod auth;
mod error;
mod fault;
mod mask;
mod query;
mod reach;
mod render;
mod routes;
mod store;
mod validate;
mod variant;

use std::collections::HashMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use rand::RngCore as _;
use serde_json::{json, Map, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::model::{self, Model, ProjectKind};

use self::auth::{AuthConfig, AuthState};
use self::fault::FaultSet;
use self::store::Store;
use self::validate::Patterns;

pub use self::fault::{Fault, Reach};
pub use self::store::Integration;
pub use self::variant::Variant;

use self::variant::VariantSet;

/// `n` random bytes as lower-case hex.
pub(crate) fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

fn random_alnum(n: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut buf = vec![0u8; n];
    rand::rng().fill_bytes(&mut buf);
    buf.iter()
        .map(|b| CHARS[usize::from(*b) % CHARS.len()] as char)
        .collect()
}

/// A programmatic API key (digest username and password).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub public: String,
    pub private: String,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("public", &self.public)
            .field("private", &"<redacted>")
            .finish()
    }
}

/// An OAuth 2.0 client (service account).
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: String,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// The principals and projects of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Project Owner on the Atlas and Cloud Manager projects.
    pub owner: ApiKey,
    /// Project Read Only on the Atlas and Cloud Manager projects.
    pub read_only: ApiKey,
    /// Project Owner on the Atlas and Cloud Manager projects.
    pub oauth: OAuthClient,
    pub atlas_group_id: String,
    pub cm_group_id: String,
    /// An Atlas project of another owner: none of the credentials above can reach it.
    pub other_group_id: String,
}

impl Credentials {
    /// Fresh random credentials and project ids.
    pub fn generate() -> Self {
        let key = || ApiKey {
            public: random_alnum(8),
            private: format!(
                "{}-{}-{}-{}-{}",
                random_hex(4),
                random_hex(2),
                random_hex(2),
                random_hex(2),
                random_hex(6)
            ),
        };
        Credentials {
            owner: key(),
            read_only: key(),
            oauth: OAuthClient {
                client_id: format!("mdb_sa_id_{}", random_hex(12)),
                client_secret: format!("mdb_sa_sk_{}", random_alnum(40)),
            },
            atlas_group_id: random_hex(12),
            cm_group_id: random_hex(12),
            other_group_id: random_hex(12),
        }
    }

    fn check(&self) -> Result<()> {
        let ids = [
            &self.atlas_group_id,
            &self.cm_group_id,
            &self.other_group_id,
        ];
        for id in ids {
            if !routes::is_group_id(id) {
                return Err(Error::Usage(format!(
                    "group id {id:?} is not 24 lower-case hex digits"
                )));
            }
        }
        if ids[0] == ids[1] || ids[0] == ids[2] || ids[1] == ids[2] {
            return Err(Error::Usage("the three group ids must differ".into()));
        }
        let principals = [
            &self.owner.public,
            &self.read_only.public,
            &self.oauth.client_id,
        ];
        if principals.iter().any(|p| p.is_empty())
            || principals[0] == principals[1]
            || principals[0] == principals[2]
            || principals[1] == principals[2]
        {
            return Err(Error::Usage(
                "the owner key, the read-only key and the OAuth client id must be non-empty and differ"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// How to start a server.
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    /// Faults switched on from the start (see also [`ServerState::set_faults`]).
    pub faults: Vec<Fault>,
    /// `None`: random credentials and project ids.
    pub credentials: Option<Credentials>,
    /// Tolerated variants switched on for the server's lifetime.
    pub variants: Vec<Variant>,
}

/// A principal's role in a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Owner,
    ReadOnly,
}

/// Everything a running server knows. Shared by all requests (`Arc`).
pub struct ServerState {
    model: Model,
    auth: AuthState,
    store: Store,
    credentials: Credentials,
    projects: HashMap<String, ProjectKind>,
    /// (principal, group id) → role
    roles: HashMap<(String, String), Role>,
    faults: RwLock<FaultSet>,
    variants: VariantSet,
    patterns: Patterns,
    /// What `reset` restores: the other owner's integration.
    seed: Vec<(String, Integration)>,
    local_addr: OnceLock<SocketAddr>,
}

impl fmt::Debug for ServerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerState")
            .field("credentials", &self.credentials)
            .field("faults", &self.faults())
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl ServerState {
    /// A server state for the bundled spec.
    pub fn new(config: ServerConfig) -> Result<Self> {
        Self::with_model(config, model::bundled()?)
    }

    /// A server state for any model (a fixture spec, say).
    pub fn with_model(config: ServerConfig, model: Model) -> Result<Self> {
        let credentials = config.credentials.unwrap_or_else(Credentials::generate);
        credentials.check()?;
        let auth = AuthState::new(AuthConfig::default());
        for key in [&credentials.owner, &credentials.read_only] {
            auth.add_api_key(&key.public, &key.private);
        }
        auth.add_oauth_client(
            &credentials.oauth.client_id,
            &credentials.oauth.client_secret,
        );

        let projects = HashMap::from([
            (credentials.atlas_group_id.clone(), ProjectKind::Atlas),
            (credentials.cm_group_id.clone(), ProjectKind::CloudManager),
            (credentials.other_group_id.clone(), ProjectKind::Atlas),
        ]);
        let mut roles = HashMap::new();
        for group in [&credentials.atlas_group_id, &credentials.cm_group_id] {
            for (principal, role) in [
                (&credentials.owner.public, Role::Owner),
                (&credentials.oauth.client_id, Role::Owner),
                (&credentials.read_only.public, Role::ReadOnly),
            ] {
                roles.insert((principal.clone(), group.clone()), role);
            }
        }
        let patterns = validate::compile_patterns(&model)?;
        let variants = VariantSet::new(&config.variants);
        let seed = seed_integration(&model)
            .map(|i| {
                model
                    .families
                    .iter()
                    .filter(|f| f.project_kind == ProjectKind::Atlas)
                    .map(|f| {
                        let key = store_key(variants, &credentials.other_group_id, &f.name);
                        (key, i.clone())
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let faults = FaultSet::new(&config.faults);
        auth.set_faults(faults.auth());
        auth.set_one_time_nonces(variants.has(Variant::OneTimeNonces));
        let state = ServerState {
            model,
            auth,
            store: Store::new(),
            credentials,
            projects,
            roles,
            faults: RwLock::new(faults),
            variants,
            patterns,
            seed,
            local_addr: OnceLock::new(),
        };
        state.reset();
        Ok(state)
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The authentication layer (to expire nonces or tokens in tests).
    pub fn auth(&self) -> &AuthState {
        &self.auth
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Drops every integration (the other owner's project gets its one integration back).
    /// Credentials, nonces, tokens and faults are kept.
    pub fn reset(&self) {
        self.store.reset(&self.seed);
    }

    /// [`reset`](Self::reset), then stores `extra`: (group id, family, integration) as written
    /// through that family. An explorer's oracle mirrors a target's pre-existing integrations
    /// this way, so that its lists hold what the target's hold.
    pub fn reset_with(&self, extra: &[(String, String, Integration)]) {
        let mut seed = self.seed.clone();
        seed.extend(
            extra
                .iter()
                .map(|(group, family, i)| (self.store_key(group, family), i.clone())),
        );
        self.store.reset(&seed);
    }

    /// The integrations stored in a project, unmasked, ordered by type name (empty for an
    /// unknown project). Under `separate-atlas-stores`, those of every family's store, in
    /// family order.
    pub fn integrations(&self, group_id: &str) -> Vec<Integration> {
        if !self.variants.has(Variant::SeparateAtlasStores) {
            return self.store.all(group_id);
        }
        self.model
            .families
            .iter()
            .flat_map(|f| self.store.all(&self.store_key(group_id, &f.name)))
            .collect()
    }

    /// The tolerated variants switched on.
    pub fn variants(&self) -> Vec<Variant> {
        self.variants.to_vec()
    }

    pub(crate) fn variant_set(&self) -> VariantSet {
        self.variants
    }

    /// Where a family's requests to a project keep their integrations.
    pub(crate) fn store_key(&self, group_id: &str, family: &str) -> String {
        store_key(self.variants, group_id, family)
    }

    /// Switches faults: exactly `faults` are on afterwards.
    pub fn set_faults(&self, faults: &[Fault]) {
        let set = FaultSet::new(faults);
        *self.faults.write().unwrap_or_else(|e| e.into_inner()) = set;
        self.auth.set_faults(set.auth());
    }

    /// The faults switched on.
    pub fn faults(&self) -> Vec<Fault> {
        self.fault_set().to_vec()
    }

    pub(crate) fn fault_set(&self) -> FaultSet {
        *self.faults.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn project_kind(&self, group_id: &str) -> Option<ProjectKind> {
        self.projects.get(group_id).copied()
    }

    pub(crate) fn role(&self, principal: &str, group_id: &str) -> Option<Role> {
        self.roles
            .get(&(principal.to_owned(), group_id.to_owned()))
            .copied()
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn patterns(&self) -> &Patterns {
        &self.patterns
    }

    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr.get().copied()
    }
}

/// The store of a project as a family sees it: the project itself, or under
/// `separate-atlas-stores` one per family.
fn store_key(variants: VariantSet, group_id: &str, family: &str) -> String {
    if variants.has(Variant::SeparateAtlasStores) {
        format!("{group_id}/{family}")
    } else {
        group_id.to_owned()
    }
}

/// The other owner's integration: the first type of the first Atlas family, filled from the
/// spec's examples (else defaults, else the first enum value).
fn seed_integration(model: &Model) -> Option<Integration> {
    let family = model
        .families
        .iter()
        .find(|f| f.project_kind == ProjectKind::Atlas)?;
    let t = family.versions.first()?.types.first()?;
    let mut fields = Map::new();
    for f in t.settable_fields() {
        let value = f
            .example
            .clone()
            .or_else(|| f.default.clone())
            .or_else(|| f.enum_values.first().map(|e| json!(e)));
        if let Some(v) = value {
            fields.insert(f.name.clone(), v);
        }
    }
    Some(Integration {
        type_name: t.name.clone(),
        id: random_hex(12),
        fields,
    })
}

/// The router: one fallback handler that owns the whole pipeline (see [`routes`]).
pub fn app(state: Arc<ServerState>) -> axum::Router {
    axum::Router::new()
        .fallback(routes::dispatch)
        .with_state(state)
}

/// A server running on a tokio task. Dropping it stops the server (without waiting).
pub struct RunningServer {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    pub credentials: Credentials,
    pub state: Arc<ServerState>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningServer")
            .field("base_url", &self.base_url)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl RunningServer {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// What `conformance serve` prints: where the server is and how to reach it.
    pub fn info_json(&self) -> Value {
        let c = &self.credentials;
        json!({
            "base_url": self.base_url,
            "atlas_group_id": c.atlas_group_id,
            "cm_group_id": c.cm_group_id,
            "other_group_id": c.other_group_id,
            "owner": {"public": c.owner.public, "private": c.owner.private},
            "read_only": {"public": c.read_only.public, "private": c.read_only.private},
            "oauth": {"client_id": c.oauth.client_id, "client_secret": c.oauth.client_secret},
            "expired_token": self.state.auth().issue_expired_token(&c.oauth.client_id),
        })
    }

    /// The target this server is: its base URL and projects, its main (digest) and read-only
    /// credentials, and the power to expire a token or the nonces it issued.
    pub fn target(&self) -> Result<crate::transport::Target> {
        let creds = &self.credentials;
        let state = self.state.clone();
        let oauth = creds.oauth.clone();
        let expirer: crate::transport::TokenExpirer = Arc::new(move || {
            use base64::Engine as _;
            let basic = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", oauth.client_id, oauth.client_secret));
            let reply = state.auth().issue_token(
                Some(&format!("Basic {basic}")),
                Some("application/x-www-form-urlencoded"),
                b"grant_type=client_credentials",
            );
            let token = reply.body.get("access_token")?.as_str()?.to_owned();
            state.auth().expire_all_tokens();
            Some(token)
        });
        Ok(crate::transport::Target {
            base_url: crate::transport::parse_base_url(&self.base_url)?,
            atlas_group_id: Some(creds.atlas_group_id.clone()),
            cm_group_id: Some(creds.cm_group_id.clone()),
            other_group_id: Some(creds.other_group_id.clone()),
            auth: crate::credential::AuthSpec::Digest {
                public: creds.owner.public.clone(),
                private: creds.owner.private.clone(),
            },
            read_only: Some(crate::credential::AuthSpec::Digest {
                public: creds.read_only.public.clone(),
                private: creds.read_only.private.clone(),
            }),
            token_expirer: Some(expirer),
            expired_token: None,
            nonce_expirer: Some({
                let state = self.state.clone();
                Arc::new(move || state.auth().expire_all_nonces())
            }),
            oauth_client: Some(crate::credential::AuthSpec::OAuth {
                client_id: creds.oauth.client_id.clone(),
                client_secret: creds.oauth.client_secret.clone(),
            }),
            insecure: false,
            use_env_proxy: false,
            gateway: crate::transport::Gateway::default(),
        })
    }

    /// Stops accepting, lets requests in flight finish (for up to five seconds), and returns.
    pub async fn shutdown(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let Some(mut task) = self.task.take() else {
            return Ok(());
        };
        match tokio::time::timeout(Duration::from_secs(5), &mut task).await {
            Ok(Ok(result)) => result.map_err(Error::Io),
            Ok(Err(join)) => Err(Error::Target(format!("the server task failed: {join}"))),
            Err(_) => {
                task.abort();
                Ok(())
            }
        }
    }

    /// Runs until the server stops (it stops only when shut down or dropped elsewhere).
    pub async fn wait(mut self) -> Result<()> {
        let Some(task) = self.task.take() else {
            return Ok(());
        };
        match task.await {
            Ok(result) => result.map_err(Error::Io),
            Err(join) => Err(Error::Target(format!("the server task failed: {join}"))),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts a server on `127.0.0.1` on a free port.
pub async fn spawn(config: ServerConfig) -> Result<RunningServer> {
    bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
}

/// Starts a server on `addr`.
pub async fn bind(addr: SocketAddr, config: ServerConfig) -> Result<RunningServer> {
    serve_state(addr, Arc::new(ServerState::new(config)?)).await
}

/// Starts a server on `addr` with a prepared state (a fixture model, say).
pub async fn serve_state(addr: SocketAddr, state: Arc<ServerState>) -> Result<RunningServer> {
    use axum::serve::ListenerExt as _;

    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let _ = state.local_addr.set(local);
    // Without TCP_NODELAY, a response written in two segments waits for the client's delayed
    // ACK: a steady 40 ms per request.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let router = app(Arc::clone(&state));
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    let host = if local.ip().is_unspecified() {
        SocketAddr::new(Ipv4Addr::LOCALHOST.into(), local.port())
    } else {
        local
    };
    Ok(RunningServer {
        base_url: format!("http://{host}"),
        credentials: state.credentials.clone(),
        state,
        addr: local,
        stop: Some(stop),
        task: Some(task),
    })
}
