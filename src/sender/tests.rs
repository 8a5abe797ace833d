//! Unit tests of the sender: `Retry-After`, and the credentials a step names against the
//! embedded reference server (the OAuth client's owner, credentials that cannot be made).

use super::*;
use crate::auth::AuthSpec;
use crate::case::{Body, Credential, Project, Request};
use crate::model::OperationKind;
use crate::server::{self, RunningServer, ServerConfig};

#[test]
fn retry_after_takes_seconds_and_http_dates() {
    let now = httpdate::parse_http_date("Sun, 29 Nov 2026 20:00:00 GMT").unwrap();
    assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
    assert_eq!(retry_after(" 0 ", now), Some(Duration::ZERO));
    assert_eq!(
        retry_after("Sun, 29 Nov 2026 20:00:05 GMT", now),
        Some(Duration::from_secs(5))
    );
    assert_eq!(
        retry_after("Sun, 29 Nov 2026 19:59:00 GMT", now),
        Some(Duration::ZERO)
    );
    assert_eq!(retry_after("soon", now), None);
    assert_eq!(retry_after("-3", now), None);
}

/// A list of the first family's integrations, with `credential`.
fn list_step(family: &Family, credential: Credential) -> Step {
    let op = family.operation(OperationKind::List);
    let version = family.versions.last().unwrap();
    Step {
        role: Role::Test,
        request: Request {
            method: op.method.clone(),
            project: Project::Own,
            path: "/integrations".into(),
            base_path: family.base_path.clone(),
            query: Vec::new(),
            accept: Some(version.media_type.clone()),
            content_type: None,
            body: Body::None,
            credential,
            operation: op.id.clone(),
            version: version.name.clone(),
        },
        expect: Vec::new(),
        baseline: None,
    }
}

async fn embedded() -> (RunningServer, Target) {
    let running = server::spawn(ServerConfig::default()).await.unwrap();
    let target = running.target().unwrap();
    (running, target)
}

fn sender(target: Target) -> Sender {
    let client = target.client(Duration::from_secs(10), 1 << 20).unwrap();
    Sender::new(target, client, Options::default())
}

fn authorization(ex: &Exchange) -> Option<&str> {
    ex.request_headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.as_str())
}

/// `Credential::OAuthOwner` beside digest main credentials: a bearer token from the OAuth
/// client, fetched once, and renewed with one retry when the target refuses it.
#[tokio::test]
async fn the_oauth_owner_signs_with_the_oauth_clients_token_and_renews_it_on_a_401() {
    let (running, target) = embedded().await;
    assert!(matches!(target.auth, AuthSpec::Digest { .. }));
    let model = running.state.model().clone();
    let family = &model.families[0];
    let step = list_step(family, Credential::OAuthOwner);
    let sender = sender(target.clone());
    let keys = sender.keyring();
    let scrubber = Scrubber::new(target.secrets());
    for expected_requests in [1, 2] {
        let ex = sender.send(&keys, family, &step, 0, &scrubber).await;
        assert_eq!(
            ex.response.as_ref().map(|r| r.status),
            Some(200),
            "{:?}",
            ex.error
        );
        assert_eq!(authorization(&ex), Some("Bearer <redacted>"));
        assert_eq!(
            sender.requests(),
            expected_requests,
            "one request, no retry"
        );
    }
    running.state.auth().expire_all_tokens();
    let ex = sender.send(&keys, family, &step, 0, &scrubber).await;
    assert_eq!(
        ex.response.as_ref().map(|r| r.status),
        Some(200),
        "{:?}",
        ex.error
    );
    assert_eq!(
        sender.requests(),
        4,
        "the 401, then the retry with a new token"
    );
    running.shutdown().await.ok();
}

/// A credential the target's settings cannot make fails the step with a clear reason, and
/// nothing is sent (never the request without it).
#[tokio::test]
async fn a_credential_that_cannot_be_made_fails_the_step_unsent() {
    let (running, target) = embedded().await;
    let model = running.state.model().clone();
    let family = &model.families[0];
    let bare = Target {
        oauth_client: None,
        read_only: None,
        ..target.clone()
    };
    let sender = sender(bare);
    let keys = sender.keyring();
    let scrubber = Scrubber::new(target.secrets());
    for (credential, reason) in [
        (
            Credential::OAuthOwner,
            "no OAuth client credentials were given",
        ),
        (Credential::ReadOnly, "no read-only credentials were given"),
    ] {
        let ex = sender
            .send(&keys, family, &list_step(family, credential), 0, &scrubber)
            .await;
        assert!(ex.response.is_none(), "{credential:?} was sent");
        let error = ex.error.unwrap_or_default();
        assert!(
            error.starts_with("auth: ") && error.contains(reason),
            "{error}"
        );
    }
    assert_eq!(sender.requests(), 0);
    running.shutdown().await.ok();
}
