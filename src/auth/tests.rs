//! Unit tests of the client authenticators against the reference server's checks: digest, bearer and OAuth.

use super::*;
use crate::server::auth::{AuthConfig, AuthState};
use axum::extract::State;
use axum::http::{HeaderMap as AxHeaders, Method as AxMethod, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::serve::ListenerExt as _;
use axum::Router;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn is_send_and_sync() {
    fn check<T: Send + Sync + 'static>() {}
    check::<Authenticator>();
    check::<std::sync::Arc<Authenticator>>();
}

// ---- AuthSpec --------------------------------------------------------------------------

#[test]
fn spec_parses_each_scheme_and_keeps_colons_in_secrets() {
    let d: AuthSpec = "digest:PUBKEY:priv:with:colons".parse().unwrap();
    assert_eq!(
        d,
        AuthSpec::Digest {
            public: "PUBKEY".into(),
            private: "priv:with:colons".into()
        }
    );
    let b: AuthSpec = "bearer:tok:en".parse().unwrap();
    assert_eq!(
        b,
        AuthSpec::Bearer {
            token: "tok:en".into()
        }
    );
    let o: AuthSpec = "OAuth:mdb_sa_id_1:s3cr:et".parse().unwrap();
    assert_eq!(
        o,
        AuthSpec::OAuth {
            client_id: "mdb_sa_id_1".into(),
            client_secret: "s3cr:et".into()
        }
    );
    assert_eq!(
        o.secrets(),
        vec!["mdb_sa_id_1".to_owned(), "s3cr:et".to_owned()]
    );
    assert_eq!(
        d.secrets(),
        vec!["PUBKEY".to_owned(), "priv:with:colons".to_owned()]
    );
    assert_eq!(b.secrets(), vec!["tok:en".to_owned()]);
    assert_eq!(d.scheme(), "digest");
}

#[test]
fn spec_errors_and_debug_never_echo_secrets() {
    for bad in [
        "SECRETVALUE",
        "SECRETVALUE:OTHERSECRET",
        "digest:SECRETVALUE",
        "digest:SECRETVALUE:",
        "digest::SECRETVALUE",
        "oauth:SECRETVALUE",
        "bearer:",
        "",
    ] {
        let err = bad.parse::<AuthSpec>().unwrap_err();
        assert!(!err.contains("SECRETVALUE"), "{err}");
        assert!(!err.contains("OTHERSECRET"), "{err}");
        assert!(err.contains("digest:PUBLIC:PRIVATE"), "{err}");
    }
    let d: AuthSpec = "digest:PUBKEY:PRIVKEY".parse().unwrap();
    let dbg = format!("{d:?}");
    assert_eq!(dbg, "AuthSpec::Digest(<redacted>)");
    let o: AuthSpec = "oauth:CID:CSECRET".parse().unwrap();
    assert_eq!(format!("{o:?}"), "AuthSpec::OAuth(<redacted>)");
    let a = Authenticator::new(o, Url::parse("http://h/").unwrap());
    let dbg = format!("{a:?}");
    assert!(!dbg.contains("CID") && !dbg.contains("CSECRET"), "{dbg}");
}

// ---- parsing -----------------------------------------------------------------------------

#[test]
fn parses_multiple_challenges_token68_and_quoting() {
    let chs = parse_challenges(
        r#"Newauth realm="apps", type=1, title="Login to \"apps\", now", Basic realm="simple""#,
    )
    .unwrap();
    assert_eq!(chs.len(), 2);
    assert_eq!(chs[0].scheme, "Newauth");
    assert_eq!(chs[0].param("TYPE"), Some("1"));
    assert_eq!(chs[0].param("title"), Some(r#"Login to "apps", now"#));
    assert_eq!(chs[1].param("realm"), Some("simple"));

    let chs = parse_challenges("Bearer abc.DEF-_~+/==").unwrap();
    assert_eq!(chs.len(), 1);
    assert_eq!(chs[0].token68.as_deref(), Some("abc.DEF-_~+/=="));
    assert!(chs[0].params.is_empty());

    let chs = parse_challenges("Basic YWJj==, Digest realm=x").unwrap();
    assert_eq!(chs[0].token68.as_deref(), Some("YWJj=="));
    assert_eq!(chs[1].param("realm"), Some("x"));

    // any order, upper-case names, bare values, missing commas, stray commas, tabs
    let chs = parse_challenges(
        "digest  NC=00000001 ,, Uri=\"/a?b=1,2\"\tQOP=auth,ReAlM = \"r\" , username=\"\"",
    )
    .unwrap();
    assert_eq!(chs.len(), 1);
    assert_eq!(chs[0].param("nc"), Some("00000001"));
    assert_eq!(chs[0].param("uri"), Some("/a?b=1,2"));
    assert_eq!(chs[0].param("qop"), Some("auth"));
    assert_eq!(chs[0].param("realm"), Some("r"));
    assert_eq!(chs[0].param("username"), Some(""));
    assert!(!chs[0].has_duplicate_params());
    assert!(parse_challenges("Digest a=1, A=2").unwrap()[0].has_duplicate_params());

    let chs = parse_challenges("Negotiate").unwrap();
    assert_eq!(
        (chs[0].scheme.as_str(), chs[0].token68.is_none()),
        ("Negotiate", true)
    );
}

#[test]
fn parse_errors() {
    assert!(parse_challenges("").is_err());
    assert!(parse_challenges("  ,  ").is_err());
    assert!(parse_challenges(r#"Digest realm="open"#).is_err());
    assert!(parse_challenges(r#"Digest realm="x\"#).is_err());
    assert!(parse_challenges("realm=x").is_err());
    assert!(parse_challenges("Digest nonce=x, realm=").is_err());
    assert!(parse_challenges("Digest nonce=x, realm= ,").is_err());
    // per the grammar a lone `x=` after a scheme is a token68
    assert_eq!(
        parse_challenges("Digest realm=").unwrap()[0]
            .token68
            .as_deref(),
        Some("realm=")
    );
    assert!(parse_challenges("Basic abc, realm").is_ok());
    assert!(parse_challenges("Digest \"quoted-scheme\"").is_err());
}

#[test]
fn learn_picks_the_digest_challenge_among_several() {
    let auth = Authenticator::new(
        "digest:pub:priv".parse().unwrap(),
        Url::parse("http://h/").unwrap(),
    );
    let unsigned = Signed::default();
    let mut h = HeaderMap::new();
    h.append(
        WWW_AUTHENTICATE,
        HeaderValue::from_static(r#"Bearer realm="x""#),
    );
    assert!(
        auth.learn(&unsigned, StatusCode::UNAUTHORIZED, &h)
            .is_none(),
        "no digest challenge yet"
    );
    h.append(
        WWW_AUTHENTICATE,
        HeaderValue::from_static(
            r#"DIGEST REALM="MMS Public API", domain="", nonce="n1", ALGORITHM=md5, qop="auth""#,
        ),
    );
    assert!(
        auth.learn(&unsigned, StatusCode::OK, &h).is_none(),
        "only a 401 is a challenge"
    );
    let Some(Retry(RetryWith::Digest(own))) = auth.learn(&unsigned, StatusCode::UNAUTHORIZED, &h)
    else {
        panic!("a digest challenge gives a retry");
    };
    assert_eq!(own.challenge.realm, "MMS Public API");
    assert_eq!(own.challenge.nonce, "n1");
    assert_eq!(own.challenge.qop, Some(vec![digest_auth::Qop::AUTH]));

    let bearer = Authenticator::new(
        "bearer:t".parse().unwrap(),
        Url::parse("http://h/").unwrap(),
    );
    assert!(bearer
        .learn(&unsigned, StatusCode::UNAUTHORIZED, &h)
        .is_none());
}

fn challenge(nonce: &str, stale: bool) -> HeaderMap {
    let mut h = HeaderMap::new();
    let stale = if stale { ", stale=true" } else { "" };
    h.insert(
        WWW_AUTHENTICATE,
        format!(r#"Digest realm="r", nonce="{nonce}", algorithm=MD5, qop="auth"{stale}"#)
            .parse()
            .unwrap(),
    );
    h
}

fn next_nonce(nonce: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "authentication-info",
        format!(r#"nextnonce="{nonce}""#).parse().unwrap(),
    );
    h
}

/// (nonce, nc) of a signed attempt, `None` when it goes without `Authorization`.
fn nonce_nc(signed: &Signed) -> Option<(String, String)> {
    let hv = signed.header.as_ref()?;
    assert!(hv.is_sensitive());
    let ch = &parse_challenges(hv.to_str().unwrap()).unwrap()[0];
    assert_eq!(ch.param("username"), Some("pub"));
    Some((ch.param("nonce")?.to_owned(), ch.param("nc")?.to_owned()))
}

fn digest_auth() -> Authenticator {
    Authenticator::new(
        "digest:pub:priv".parse().unwrap(),
        Url::parse("http://h/").unwrap(),
    )
}

fn pair(nonce: &str, nc: u32) -> Option<(String, String)> {
    Some((nonce.to_owned(), format!("{nc:08x}")))
}

#[tokio::test]
async fn digest_header_is_none_until_challenged_then_nc_increments() {
    let (client, m) = (client(), http::Method::GET);
    let auth = digest_auth();
    assert!(auth.header(&client, &m, "/x").await.unwrap().is_none());
    let retry = auth
        .learn(
            &Signed::default(),
            StatusCode::UNAUTHORIZED,
            &challenge("abc", false),
        )
        .unwrap();
    let first = auth.sign_retry(retry, &client, &m, "/x?y=1").await.unwrap();
    let hv = first.header.as_ref().unwrap();
    let ch = &parse_challenges(hv.to_str().unwrap()).unwrap()[0];
    assert_eq!(ch.param("uri"), Some("/x?y=1"));
    assert_eq!(nonce_nc(&first), pair("abc", 1));
    assert!(auth
        .learn(&first, StatusCode::OK, &HeaderMap::new())
        .is_none());
    for nc in 2..5 {
        let signed = auth.sign(&client, &m, "/x").await.unwrap();
        assert_eq!(nonce_nc(&signed), pair("abc", nc));
    }
    // nextnonce switches the nonce and restarts nc
    assert!(auth
        .learn(&first, StatusCode::OK, &next_nonce("def"))
        .is_none());
    let signed = auth.sign(&client, &m, "/x").await.unwrap();
    assert_eq!(nonce_nc(&signed), pair("def", 1));
}

/// Two requests get 401s at once: each retry signs with its own 401's challenge, not with
/// whatever the other left in the cache.
#[tokio::test]
async fn a_retry_signs_with_the_challenge_of_its_own_401() {
    let (client, m) = (client(), http::Method::GET);
    let auth = digest_auth();
    let unsigned = Signed::default();
    let b = auth
        .learn(&unsigned, StatusCode::UNAUTHORIZED, &challenge("B", false))
        .unwrap();
    let c = auth
        .learn(&unsigned, StatusCode::UNAUTHORIZED, &challenge("C", false))
        .unwrap();
    let with_c = auth.sign_retry(c, &client, &m, "/c").await.unwrap();
    auth.learn(&with_c, StatusCode::OK, &HeaderMap::new());
    let with_b = auth.sign_retry(b, &client, &m, "/b").await.unwrap();
    assert_eq!(nonce_nc(&with_c), pair("C", 1));
    assert_eq!(nonce_nc(&with_b), pair("B", 1), "not C's nonce, not nc 2");
    // On a target that reuses nonces the retry's nonce is then shared, its nc running on.
    auth.learn(&with_b, StatusCode::OK, &HeaderMap::new());
    let next = auth.sign(&client, &m, "/d").await.unwrap();
    assert_eq!(nonce_nc(&next), pair("B", 2));
}

/// Once the target hands out one-time nonces, a nonce goes to one request; the next answer's
/// nextnonce refills the cache.
#[tokio::test]
async fn a_taken_nonce_is_not_handed_out_twice_and_nextnonce_refills() {
    let (client, m) = (client(), http::Method::GET);
    let auth = digest_auth();
    let retry = auth
        .learn(
            &Signed::default(),
            StatusCode::UNAUTHORIZED,
            &challenge("A", false),
        )
        .unwrap();
    let first = auth.sign_retry(retry, &client, &m, "/").await.unwrap();
    auth.learn(&first, StatusCode::OK, &next_nonce("N1"));
    let taken = auth.sign(&client, &m, "/1").await.unwrap();
    let without = auth.sign(&client, &m, "/2").await.unwrap();
    assert_eq!(nonce_nc(&taken), pair("N1", 1));
    assert_eq!(nonce_nc(&without), None, "N1 was taken: no nonce to share");
    // The request without one gets its own by the challenge round trip.
    let retry = auth
        .learn(&without, StatusCode::UNAUTHORIZED, &challenge("X", false))
        .unwrap();
    let retried = auth.sign_retry(retry, &client, &m, "/2").await.unwrap();
    assert_eq!(nonce_nc(&retried), pair("X", 1));
    auth.learn(&taken, StatusCode::OK, &next_nonce("N2"));
    auth.learn(&retried, StatusCode::OK, &next_nonce("N3"));
    let refilled: Vec<_> = [
        auth.sign(&client, &m, "/3").await.unwrap(),
        auth.sign(&client, &m, "/4").await.unwrap(),
        auth.sign(&client, &m, "/5").await.unwrap(),
    ]
    .iter()
    .map(nonce_nc)
    .collect();
    assert_eq!(refilled, [pair("N2", 1), pair("N3", 1), None]);
    // Forged credentials may reuse a spent nonce: the last one known.
    let reused = auth.sign_reusing(&client, &m, "/6").await.unwrap();
    assert_eq!(nonce_nc(&reused), pair("X", 2));
}

/// A stale answer to a nonce's second use shows one-time nonces, unless a reuse was accepted
/// before or the nonces were expired on purpose since it came.
#[tokio::test]
async fn stale_on_a_second_use_shows_one_time_nonces() {
    let (client, m) = (client(), http::Method::GET);
    let epoch = NonceEpoch::default();
    let run = |accept_reuse: bool, expire: bool| {
        let (client, m, epoch) = (&client, &m, &epoch);
        async move {
            let auth = digest_auth().with_epoch(epoch.clone());
            let retry = auth
                .learn(
                    &Signed::default(),
                    StatusCode::UNAUTHORIZED,
                    &challenge("A", false),
                )
                .unwrap();
            let first = auth.sign_retry(retry, client, m, "/").await.unwrap();
            auth.learn(&first, StatusCode::OK, &HeaderMap::new());
            if accept_reuse {
                let second = auth.sign(client, m, "/").await.unwrap();
                auth.learn(&second, StatusCode::OK, &HeaderMap::new());
            }
            let reused = auth.sign(client, m, "/").await.unwrap();
            if expire {
                epoch.advance();
            }
            auth.learn(&reused, StatusCode::UNAUTHORIZED, &challenge("B", true));
            nonce_nc(&auth.sign(client, m, "/").await.unwrap())
        }
    };
    assert_eq!(run(false, false).await, None, "one-time: nothing to share");
    assert!(
        run(true, false).await.is_some(),
        "a reuse was accepted before"
    );
    assert!(
        run(false, true).await.is_some(),
        "the nonces were expired on purpose"
    );
}

// ---- client <-> reference server round trips ----------------------------------------

struct TestServer {
    state: Arc<AuthState>,
    base: Url,
    token_calls: Arc<AtomicUsize>,
    /// Requests to anything but the token endpoint.
    calls: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct AppState {
    auth: Arc<AuthState>,
    token_calls: Arc<AtomicUsize>,
    calls: Arc<AtomicUsize>,
}

async fn protected(
    State(app): State<AppState>,
    method: AxMethod,
    uri: Uri,
    headers: AxHeaders,
) -> Response {
    app.calls.fetch_add(1, Ordering::SeqCst);
    let pq = uri.path_and_query().map_or("/", |p| p.as_str());
    let authz = headers.get("authorization").and_then(|v| v.to_str().ok());
    match app.auth.authenticate(method.as_str(), pq, authz) {
        Ok(principal) => {
            let mut r = principal.into_response();
            if let Some(info) = app.auth.authentication_info(authz) {
                r.headers_mut()
                    .insert("authentication-info", info.parse().unwrap());
            }
            r
        }
        Err(failure) => {
            let mut r = axum::http::StatusCode::UNAUTHORIZED.into_response();
            let h = r.headers_mut();
            h.append(
                "www-authenticate",
                app.auth.challenge(failure.stale).parse().unwrap(),
            );
            h.append(
                "www-authenticate",
                app.auth.bearer_challenge().parse().unwrap(),
            );
            r
        }
    }
}

async fn token(
    State(app): State<AppState>,
    headers: AxHeaders,
    body: axum::body::Bytes,
) -> Response {
    app.token_calls.fetch_add(1, Ordering::SeqCst);
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let reply = app
        .auth
        .issue_token(get("authorization"), get("content-type"), &body);
    let mut r = (
        axum::http::StatusCode::from_u16(reply.status).unwrap(),
        axum::Json(reply.body),
    )
        .into_response();
    if let Some(w) = reply.www_authenticate {
        r.headers_mut()
            .insert("www-authenticate", w.parse().unwrap());
    }
    r
}

async fn spawn_server() -> TestServer {
    let state = Arc::new(AuthState::new(AuthConfig::default()));
    state.add_api_key("PUBKEY", "PRIV:KEY");
    state.add_oauth_client("mdb_sa_id_1", "mdb_sa_sk_secret");
    let token_calls = Arc::new(AtomicUsize::new(0));
    let calls = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/api/oauth/token", post(token))
        .fallback(protected)
        .with_state(AppState {
            auth: state.clone(),
            token_calls: token_calls.clone(),
            calls: calls.clone(),
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let listener = listener.tap_io(|s| {
        let _ = s.set_nodelay(true);
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    TestServer {
        state,
        base: Url::parse(&format!("http://{addr}/")).unwrap(),
        token_calls,
        calls,
    }
}

fn client() -> Client {
    Client::new(&Default::default()).unwrap()
}

/// What the sender does: sign, send, learn from every answer, retry at most once with what
/// the 401 gave. Returns (status, attempts).
async fn send(
    auth: &Authenticator,
    client: &Client,
    base: &Url,
    method: http::Method,
    pq: &str,
) -> (StatusCode, usize) {
    let mut signed = auth.sign(client, &method, pq).await.unwrap();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let mut headers = HeaderMap::new();
        if let Some(h) = &signed.header {
            headers.insert(AUTHORIZATION, h.clone());
        }
        let resp = client
            .send(&method, &base.join(pq).unwrap(), &headers, None, None)
            .await
            .answer
            .unwrap();
        let status = resp.status;
        match auth.learn(&signed, status, &resp.headers) {
            Some(retry) if attempts == 1 => {
                signed = auth.sign_retry(retry, client, &method, pq).await.unwrap();
            }
            _ => return (status, attempts),
        }
    }
}

const PATH: &str = "/api/atlas/v1.0/groups/5e2211c17a3e5a48f5497de3/integrations?pageNum=1";

#[tokio::test]
async fn digest_round_trip_preemptive_and_stale_recovery() {
    let srv = spawn_server().await;
    let c = client();
    let auth = Authenticator::new("digest:PUBKEY:PRIV:KEY".parse().unwrap(), srv.base.clone());
    // first request learns the challenge from the 401 and retries
    assert_eq!(
        send(&auth, &c, &srv.base, http::Method::GET, PATH).await,
        (StatusCode::OK, 2)
    );
    // later ones are preemptive
    for m in [http::Method::GET, http::Method::DELETE, http::Method::PATCH] {
        assert_eq!(
            send(&auth, &c, &srv.base, m, PATH).await,
            (StatusCode::OK, 1)
        );
    }
    // an expired nonce: 401 stale=true, learn, retry succeeds
    srv.state.expire_all_nonces();
    assert_eq!(
        send(&auth, &c, &srv.base, http::Method::GET, "/a").await,
        (StatusCode::OK, 2)
    );
    assert_eq!(
        send(&auth, &c, &srv.base, http::Method::GET, "/a").await,
        (StatusCode::OK, 1)
    );
}

#[tokio::test]
async fn digest_wrong_password_stays_401() {
    let srv = spawn_server().await;
    let c = client();
    let auth = Authenticator::new("digest:PUBKEY:wrong".parse().unwrap(), srv.base.clone());
    let (status, attempts) = send(&auth, &c, &srv.base, http::Method::GET, PATH).await;
    assert_eq!((status, attempts), (StatusCode::UNAUTHORIZED, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_concurrent_requests_share_one_authenticator() {
    let srv = spawn_server().await;
    let c = client();
    let auth = Arc::new(Authenticator::new(
        "digest:PUBKEY:PRIV:KEY".parse().unwrap(),
        srv.base.clone(),
    ));
    assert_eq!(
        send(&auth, &c, &srv.base, http::Method::GET, "/").await.0,
        StatusCode::OK
    );
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (auth, c, base) = (auth.clone(), c.clone(), srv.base.clone());
        tasks.push(tokio::spawn(async move {
            send(
                &auth,
                &c,
                &base,
                http::Method::GET,
                &format!("/p/{i}?q={i}"),
            )
            .await
        }));
    }
    for t in tasks {
        // A target that reuses nonces: every request signs with the shared one, no retry.
        assert_eq!(t.await.unwrap(), (StatusCode::OK, 1));
    }
    assert_eq!(srv.calls.load(Ordering::SeqCst), 2 + 40, "no request added");
}

/// Against one-time nonces, concurrent requests each pass with at most their one retry: a
/// nonce goes to one request, the others get their own from their 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_concurrent_requests_pass_against_one_time_nonces() {
    let srv = spawn_server().await;
    srv.state.set_one_time_nonces(true);
    let c = client();
    let auth = Arc::new(Authenticator::new(
        "digest:PUBKEY:PRIV:KEY".parse().unwrap(),
        srv.base.clone(),
    ));
    for expected in [2, 1, 1] {
        let sent = send(&auth, &c, &srv.base, http::Method::GET, "/").await;
        assert_eq!(
            sent,
            (StatusCode::OK, expected),
            "nextnonce keeps one at hand"
        );
    }
    for _ in 0..5 {
        let mut tasks = Vec::new();
        for i in 0..20 {
            let (auth, c, base) = (auth.clone(), c.clone(), srv.base.clone());
            tasks.push(tokio::spawn(async move {
                send(&auth, &c, &base, http::Method::GET, &format!("/p/{i}")).await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().0, StatusCode::OK);
        }
    }
}

#[tokio::test]
async fn bearer_token_and_its_expiry() {
    let srv = spawn_server().await;
    let c = client();
    let reply = srv.state.issue_token(
        Some("Basic bWRiX3NhX2lkXzE6bWRiX3NhX3NrX3NlY3JldA=="),
        Some("application/x-www-form-urlencoded"),
        b"grant_type=client_credentials",
    );
    assert_eq!(reply.status, 200);
    let token = reply.body["access_token"].as_str().unwrap().to_owned();
    let auth = Authenticator::new(AuthSpec::Bearer { token }, srv.base.clone());
    assert_eq!(
        send(&auth, &c, &srv.base, http::Method::GET, PATH).await,
        (StatusCode::OK, 1)
    );
    srv.state.expire_all_tokens();
    assert_eq!(
        send(&auth, &c, &srv.base, http::Method::GET, PATH).await,
        (StatusCode::UNAUTHORIZED, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_fetches_once_and_refreshes_after_401() {
    let srv = spawn_server().await;
    let c = client();
    let auth = Arc::new(Authenticator::new(
        "oauth:mdb_sa_id_1:mdb_sa_sk_secret".parse().unwrap(),
        srv.base.clone(),
    ));
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (auth, c, base) = (auth.clone(), c.clone(), srv.base.clone());
        tasks.push(tokio::spawn(async move {
            send(&auth, &c, &base, http::Method::GET, &format!("/p/{i}")).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), (StatusCode::OK, 1));
    }
    assert_eq!(
        srv.token_calls.load(Ordering::SeqCst),
        1,
        "token fetched once"
    );
    srv.state.expire_all_tokens();
    assert_eq!(
        send(&auth, &c, &srv.base, http::Method::GET, "/").await,
        (StatusCode::OK, 2)
    );
    assert_eq!(srv.token_calls.load(Ordering::SeqCst), 2, "token refreshed");
}

#[tokio::test]
async fn oauth_bad_secret_is_an_auth_error_without_the_secret() {
    let srv = spawn_server().await;
    let c = client();
    let auth = Authenticator::new(
        "oauth:mdb_sa_id_1:WRONG_SECRET_VALUE".parse().unwrap(),
        srv.base.clone(),
    );
    let err = auth.header(&c, &http::Method::GET, "/").await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Auth(_)), "{msg}");
    assert!(
        msg.contains("401") && msg.contains("invalid_client"),
        "{msg}"
    );
    assert!(msg.contains("/api/oauth/token"), "{msg}");
    assert!(
        !msg.contains("WRONG_SECRET_VALUE") && !msg.contains("mdb_sa_id_1"),
        "{msg}"
    );
}
