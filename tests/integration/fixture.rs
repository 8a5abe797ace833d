//! Setup shared by the integration tests: the bundled harness and its cases (built once per
//! test binary), reference servers with faults or a whole configuration, the crate's own
//! authenticators for a server's credentials, and the HTTP clients that talk to them.
//!
//! A fixture does only setup: what a test asserts stays in the test.

use std::sync::LazyLock;

use integrations_conformance::auth::{AuthSpec, Authenticator};
use integrations_conformance::case::{self, Case};
use integrations_conformance::runner::Harness;
use integrations_conformance::server::{
    self, ApiKey, Fault, OAuthClient, RunningServer, ServerConfig,
};
use url::Url;

static HARNESS: LazyLock<Harness> = LazyLock::new(|| Harness::bundled().expect("bundled spec"));
static CASES: LazyLock<Vec<Case>> = LazyLock::new(|| case::generate(&HARNESS.model));

/// The harness of the bundled spec, built once: the spec, the model and the validators do not
/// change between tests.
pub(crate) fn harness() -> &'static Harness {
    &HARNESS
}

/// Every case generated from the bundled spec.
pub(crate) fn cases() -> &'static [Case] {
    &CASES
}

/// A reference server with these faults (none: the faithful one).
pub(crate) async fn server(faults: Vec<Fault>) -> RunningServer {
    server_with(ServerConfig {
        faults,
        ..ServerConfig::default()
    })
    .await
}

/// A reference server with a whole configuration (variants, fixed credentials, …).
pub(crate) async fn server_with(config: ServerConfig) -> RunningServer {
    server::spawn(config).await.expect("the server starts")
}

/// The crate's digest authenticator for an API key of a server at `base_url`.
pub(crate) fn digest(key: &ApiKey, base_url: &str) -> Authenticator {
    Authenticator::new(
        AuthSpec::Digest {
            public: key.public.clone(),
            private: key.private.clone(),
        },
        Url::parse(base_url).expect("a base URL"),
    )
}

/// The crate's OAuth authenticator (client credentials) for a server at `base_url`.
pub(crate) fn oauth(client: &OAuthClient, base_url: &str) -> Authenticator {
    Authenticator::new(
        AuthSpec::OAuth {
            client_id: client.client_id.clone(),
            client_secret: client.client_secret.clone(),
        },
        Url::parse(base_url).expect("a base URL"),
    )
}

/// The harness's own HTTP client, which authenticators use for their token requests.
pub(crate) fn target_client() -> integrations_conformance::transport::Client {
    integrations_conformance::transport::Client::new(&Default::default()).expect("client")
}

/// A plain HTTP client for talking to a local server directly: never through a proxy from
/// the environment, which would not reach loopback.
pub(crate) fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}
