//! The embedded reference server as a user's project: what it holds before and after a run, and
//! an integration configured by the user (not by the harness) before the run.

use crate::fixture;
use integrations_conformance::auth::Authenticator;
use integrations_conformance::server::{Integration, RunningServer};
use integrations_conformance::transport::{self, Target};
use reqwest::Method;
use url::Url;

pub(crate) struct Reference {
    pub(crate) srv: RunningServer,
    http: reqwest::Client,
    client: integrations_conformance::transport::Client,
    owner: Authenticator,
}

/// The cloud-manager family's base path (its project is `credentials.cm_group_id`).
pub(crate) const CM_BASE: &str = "/api/public/v1.0";

/// What the user configured before the run: a PagerDuty integration in the Cloud Manager
/// project.
pub(crate) const PRE_EXISTING_TYPE: &str = "PAGER_DUTY";
pub(crate) const PRE_EXISTING_KEY: &str = "user-owned-service-key-0123456789abcdef";

impl Reference {
    pub(crate) async fn start() -> Reference {
        let srv = fixture::server(Vec::new()).await;
        let owner = fixture::digest(&srv.credentials.owner, &srv.base_url);
        Reference {
            srv,
            http: fixture::http(),
            client: fixture::target_client(),
            owner,
        }
    }

    /// The target for this server, addressed directly.
    pub(crate) fn target(&self) -> Target {
        self.srv.target().expect("target")
    }

    /// The target for this server, addressed through `url` (a proxy in front of it).
    pub(crate) fn target_via(&self, url: &str) -> Target {
        let mut t = self.target();
        t.base_url = transport::parse_base_url(url).expect("proxy url");
        t
    }

    pub(crate) fn cm_group(&self) -> String {
        self.srv.credentials.cm_group_id.clone()
    }

    /// Every project's integrations, as stored (unmasked).
    pub(crate) fn snapshot(&self) -> Vec<(String, Vec<Integration>)> {
        let c = &self.srv.credentials;
        [&c.atlas_group_id, &c.cm_group_id, &c.other_group_id]
            .into_iter()
            .map(|g| (g.clone(), self.srv.state.integrations(g)))
            .collect()
    }

    /// A request with the owner's digest credentials, straight to the server: (status, body).
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> (u16, Vec<u8>) {
        let url = Url::parse(&format!("{}{path}", self.srv.base_url)).expect("url");
        let mut signed = self
            .owner
            .sign(&self.client, &method, url.path())
            .await
            .expect("digest header");
        for _ in 0..2 {
            let mut rb = self
                .http
                .request(method.clone(), url.clone())
                .header("accept", "application/json");
            if let Some(h) = &signed.header {
                rb = rb.header("authorization", h.clone());
            }
            if let Some(b) = body {
                rb = rb
                    .header("content-type", "application/json")
                    .body(b.to_string());
            }
            let r = rb.send().await.expect("reference server answers");
            let (status, headers) = (r.status(), r.headers().clone());
            let bytes = r.bytes().await.expect("body").to_vec();
            if let Some(retry) = self.owner.learn(&signed, status, &headers) {
                signed = self
                    .owner
                    .sign_retry(retry, &self.client, &method, url.path())
                    .await
                    .expect("digest header");
                continue;
            }
            return (status.as_u16(), bytes);
        }
        panic!("the reference server keeps refusing the owner's credentials");
    }

    /// Configures the user's own integration (before the run) and returns how the server shows
    /// it (the bytes of a GET).
    pub(crate) async fn configure_pre_existing(&self) -> Vec<u8> {
        let path = format!(
            "{CM_BASE}/groups/{}/integrations/{PRE_EXISTING_TYPE}",
            self.cm_group()
        );
        let body = serde_json::json!({"type": PRE_EXISTING_TYPE, "serviceKey": PRE_EXISTING_KEY});
        let (status, text) = self.send(Method::POST, &path, Some(&body)).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&text));
        self.show_pre_existing().await
    }

    /// The bytes a GET of the user's integration answers.
    pub(crate) async fn show_pre_existing(&self) -> Vec<u8> {
        let path = format!(
            "{CM_BASE}/groups/{}/integrations/{PRE_EXISTING_TYPE}",
            self.cm_group()
        );
        let (status, bytes) = self.send(Method::GET, &path, None).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
        bytes
    }
}
