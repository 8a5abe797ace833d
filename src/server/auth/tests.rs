//! Unit tests of the reference server's authentication: digest, bearer, OAuth token endpoint and form decoding.

use super::*;
use crate::auth::parse_challenges;
use digest_auth::{AuthContext, HttpMethod, WwwAuthenticateHeader};
use std::borrow::Cow;

#[test]
fn is_send_and_sync() {
    fn check<T: Send + Sync + 'static>() {}
    check::<AuthState>();
    check::<std::sync::Arc<AuthState>>();
}

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

fn state() -> AuthState {
    let s = AuthState::new(AuthConfig::default());
    s.add_api_key("PUBKEY", "PRIV:KEY");
    s.add_oauth_client("mdb_sa_id_1", "mdb_sa_sk_secret");
    s
}

fn nonce_of(challenge: &str) -> String {
    parse_challenges(challenge).unwrap()[0]
        .param("nonce")
        .unwrap()
        .to_owned()
}

/// A client answer computed by the `digest_auth` crate.
fn answer(prompt: &mut WwwAuthenticateHeader, user: &str, pw: &str, m: &str, uri: &str) -> String {
    let ctx = AuthContext::new_with_method(
        user,
        pw,
        uri,
        None::<&[u8]>,
        HttpMethod(Cow::Owned(m.to_owned())),
    );
    prompt.respond(&ctx).unwrap().to_string()
}

/// A hand-made answer (to vary the syntax).
fn manual(user: &str, pw: &str, realm: &str, nonce: &str, nc: &str, m: &str, uri: &str) -> String {
    let ha1 = md5_hex(&format!("{user}:{realm}:{pw}"));
    let ha2 = md5_hex(&format!("{m}:{uri}"));
    md5_hex(&format!("{ha1}:{nonce}:{nc}:cn0nce:auth:{ha2}"))
}

const URI: &str = "/api/atlas/v1.0/groups/5e2211c17a3e5a48f5497de3/integrations?pageNum=1&x=a,b";

#[test]
fn challenge_format_and_stale() {
    let s = state();
    let c = s.challenge(false);
    assert!(
        c.starts_with(r#"Digest realm="MMS Public API", domain="", nonce=""#),
        "{c}"
    );
    assert!(c.ends_with(r#"", algorithm=MD5, qop="auth""#), "{c}");
    let stale = s.challenge(true);
    assert!(stale.ends_with(", stale=true"), "{stale}");
    assert_ne!(nonce_of(&c), nonce_of(&stale));
    assert_eq!(nonce_of(&c).len(), 32);
    assert_eq!(s.bearer_challenge(), r#"Bearer realm="MMS Public API""#);
    // the crate the client uses understands our challenge
    let p = WwwAuthenticateHeader::parse(&c).unwrap();
    assert_eq!(p.realm, "MMS Public API");
}

#[test]
fn digest_round_trip_with_the_client_crate() {
    let s = state();
    let mut p = WwwAuthenticateHeader::parse(&s.challenge(false)).unwrap();
    for m in ["GET", "POST", "PATCH", "DELETE"] {
        let h = answer(&mut p, "PUBKEY", "PRIV:KEY", m, URI);
        assert_eq!(s.authenticate(m, URI, Some(&h)), Ok("PUBKEY".to_owned()));
    }
    // method and uri are bound into the response
    let h = answer(&mut p, "PUBKEY", "PRIV:KEY", "GET", URI);
    assert!(s.authenticate("DELETE", URI, Some(&h)).is_err());
    let h = answer(&mut p, "PUBKEY", "PRIV:KEY", "GET", URI);
    assert!(s.authenticate("GET", "/other", Some(&h)).is_err());
}

#[test]
fn digest_header_syntax_variants_are_accepted() {
    let s = state();
    let nonce = nonce_of(&s.challenge(false));
    let r = manual(
        "PUBKEY",
        "PRIV:KEY",
        "MMS Public API",
        &nonce,
        "0000000a",
        "GET",
        URI,
    );
    // upper-case names, bare values, odd order, comma inside the quoted uri
    let h = format!(
        "digest RESPONSE=\"{}\", NC=0000000a, QOP=\"auth\", Uri=\"{URI}\", cnonce=cn0nce, \
         nonce=\"{nonce}\", Realm=\"MMS Public API\", ALGORITHM=md5, Username=\"PUBKEY\"",
        r.to_uppercase()
    );
    assert_eq!(
        s.authenticate("GET", URI, Some(&h)),
        Ok("PUBKEY".to_owned())
    );
    // no algorithm at all is MD5 too
    let r = manual(
        "PUBKEY",
        "PRIV:KEY",
        "MMS Public API",
        &nonce,
        "0000000b",
        "GET",
        URI,
    );
    let h = format!(
        "Digest username=\"PUBKEY\", realm=\"MMS Public API\", nonce=\"{nonce}\", uri=\"{URI}\", \
         qop=auth, nc=0000000b, cnonce=\"cn0nce\", response=\"{r}\""
    );
    assert_eq!(
        s.authenticate("GET", URI, Some(&h)),
        Ok("PUBKEY".to_owned())
    );
}

#[test]
fn digest_refusals() {
    let s = state();
    let nonce = nonce_of(&s.challenge(false));
    let good = |nc: &str| {
        manual(
            "PUBKEY",
            "PRIV:KEY",
            "MMS Public API",
            &nonce,
            nc,
            "GET",
            "/x",
        )
    };
    let hdr = |extra: &str, r: &str, nc: &str| {
        format!(
            "Digest username=\"PUBKEY\", realm=\"MMS Public API\", nonce=\"{nonce}\", uri=\"/x\", \
             nc={nc}, cnonce=\"cn0nce\", response=\"{r}\"{extra}"
        )
    };
    let auth = |h: &str| s.authenticate("GET", "/x", Some(h));
    // no qop (RFC 2069 style) is refused
    let ha1 = md5_hex("PUBKEY:MMS Public API:PRIV:KEY");
    let r2069 = md5_hex(&format!("{ha1}:{nonce}:{}", md5_hex("GET:/x")));
    assert_eq!(
        auth(&hdr("", &r2069, "00000001")).unwrap_err().reason,
        "digest without qop is refused"
    );
    assert!(auth(&hdr(", qop=auth-int", &good("00000001"), "00000001")).is_err());
    assert!(auth(&hdr(
        ", qop=auth, algorithm=SHA-256",
        &good("00000001"),
        "00000001"
    ))
    .is_err());
    assert!(auth(&hdr(
        ", qop=auth, algorithm=MD5-sess",
        &good("00000001"),
        "00000001"
    ))
    .is_err());
    assert!(auth(&hdr(", qop=auth, qop=auth", &good("00000001"), "00000001")).is_err());
    assert!(
        auth(&hdr(", qop=auth", &good("1"), "1")).is_err(),
        "nc must be 8 hex digits"
    );
    assert!(auth(&hdr(", qop=auth", &good("00000000"), "00000000")).is_err());
    assert!(auth("Digest").is_err());
    assert!(auth("Digest username=").is_err());
    assert!(auth("Basic UFVCS0VZOlBSSVY6S0VZ").is_err());
    assert!(s.authenticate("GET", "/x", None).is_err());
    assert!(s.authenticate("GET", "/x", Some("  ")).is_err());
    // unknown user, wrong realm
    let other = hdr(", qop=auth", &good("00000001"), "00000001").replace("PUBKEY", "NOPE");
    assert_eq!(auth(&other).unwrap_err().reason, "unknown digest username");
    let realm = hdr(", qop=auth", &good("00000001"), "00000001").replace("MMS Public API", "x");
    assert_eq!(auth(&realm).unwrap_err().reason, "wrong digest realm");
    // none of the above burnt an nc: the right answer with nc=1 still works
    assert_eq!(
        auth(&hdr(", qop=auth", &good("00000001"), "00000001")),
        Ok("PUBKEY".into())
    );
}

#[test]
fn digest_wrong_password_refused_unless_fault() {
    let s = state();
    let mut p = WwwAuthenticateHeader::parse(&s.challenge(false)).unwrap();
    let h = answer(&mut p, "PUBKEY", "wrong", "GET", URI);
    let f = s.authenticate("GET", URI, Some(&h)).unwrap_err();
    assert_eq!((f.stale, f.reason), (false, "wrong digest response"));
    assert!(!format!("{f:?}{f}").contains("PRIV"));
    s.set_faults(AuthFaults {
        accept_wrong_digest_password: true,
        ..AuthFaults::default()
    });
    let h = answer(&mut p, "PUBKEY", "wrong", "GET", URI);
    assert_eq!(
        s.authenticate("GET", URI, Some(&h)),
        Ok("PUBKEY".to_owned())
    );
}

#[test]
fn digest_replayed_nc_refused_unless_fault() {
    let s = state();
    let mut p = WwwAuthenticateHeader::parse(&s.challenge(false)).unwrap();
    let h1 = answer(&mut p, "PUBKEY", "PRIV:KEY", "GET", URI);
    let h2 = answer(&mut p, "PUBKEY", "PRIV:KEY", "GET", URI);
    let h3 = answer(&mut p, "PUBKEY", "PRIV:KEY", "GET", URI);
    // out of order (concurrent requests overtaking each other) is fine, a repeat is not
    assert!(s.authenticate("GET", URI, Some(&h2)).is_ok());
    assert!(s.authenticate("GET", URI, Some(&h1)).is_ok());
    let f = s.authenticate("GET", URI, Some(&h2)).unwrap_err();
    assert_eq!((f.stale, f.reason), (false, "replayed digest nonce count"));
    assert!(s.authenticate("GET", URI, Some(&h1)).is_err());
    assert!(s.authenticate("GET", URI, Some(&h3)).is_ok());
    assert!(s.authenticate("GET", URI, Some(&h3)).is_err());
    // far behind the window is refused too
    p.nc = 200;
    let far = answer(&mut p, "PUBKEY", "PRIV:KEY", "GET", URI);
    assert!(s.authenticate("GET", URI, Some(&far)).is_ok());
    p.nc = 10;
    let old = answer(&mut p, "PUBKEY", "PRIV:KEY", "GET", URI);
    assert!(s.authenticate("GET", URI, Some(&old)).is_err());
    s.set_faults(AuthFaults {
        accept_replayed_nonce_count: true,
        ..AuthFaults::default()
    });
    assert!(s.authenticate("GET", URI, Some(&h3)).is_ok());
}

#[test]
fn one_time_nonces_answer_one_request_each_and_hand_out_the_next() {
    let s = state();
    let mut p = WwwAuthenticateHeader::parse(&s.challenge(false)).unwrap();
    let first = answer(&mut p, "PUBKEY", "PRIV:KEY", "GET", URI);
    assert_eq!(s.authentication_info(Some(&first)), None, "variant off");
    s.set_one_time_nonces(true);
    assert_eq!(
        s.authenticate("GET", URI, Some(&first)),
        Ok("PUBKEY".to_owned())
    );
    // The same nonce with the next nc: spent, so stale (a right digest), not a replay.
    let again = answer(&mut p, "PUBKEY", "PRIV:KEY", "GET", URI);
    let f = s.authenticate("GET", URI, Some(&again)).unwrap_err();
    assert_eq!((f.stale, f.reason), (true, "digest nonce already used"));
    let wrong = answer(&mut p, "PUBKEY", "bad", "GET", URI);
    assert!(!s.authenticate("GET", URI, Some(&wrong)).unwrap_err().stale);
    // nextnonce: a fresh nonce, good for one request at any nc.
    let info = s.authentication_info(Some(&first)).unwrap();
    assert!(info.starts_with("nextnonce=\""), "{info}");
    p.nonce = parse_challenges(&format!("Digest {info}")).unwrap()[0]
        .param("nextnonce")
        .unwrap()
        .to_owned();
    p.nc = 6;
    let next = answer(&mut p, "PUBKEY", "PRIV:KEY", "GET", URI);
    assert!(s.authenticate("GET", URI, Some(&next)).is_ok());
    assert!(s.authenticate("GET", URI, Some(&next)).unwrap_err().stale);
    assert_eq!(s.authentication_info(Some("Bearer abc")), None);
    assert_eq!(s.authentication_info(None), None);
    // The replay fault accepts a spent nonce too.
    s.set_faults(AuthFaults {
        accept_replayed_nonce_count: true,
        ..AuthFaults::default()
    });
    assert!(s.authenticate("GET", URI, Some(&next)).is_ok());
}

#[test]
fn digest_nonce_not_issued_or_expired() {
    let s = state();
    let mut p = WwwAuthenticateHeader::parse(&s.challenge(false)).unwrap();
    p.nonce = "0123456789abcdef0123456789abcdef".to_owned();
    let h = answer(&mut p, "PUBKEY", "PRIV:KEY", "GET", URI);
    let f = s.authenticate("GET", URI, Some(&h)).unwrap_err();
    assert_eq!(
        (f.stale, f.reason),
        (false, "digest nonce not issued by this server")
    );

    let mut p = WwwAuthenticateHeader::parse(&s.challenge(false)).unwrap();
    assert!(s
        .authenticate(
            "GET",
            URI,
            Some(&answer(&mut p, "PUBKEY", "PRIV:KEY", "GET", URI))
        )
        .is_ok());
    s.expire_all_nonces();
    let f = s
        .authenticate(
            "GET",
            URI,
            Some(&answer(&mut p, "PUBKEY", "PRIV:KEY", "GET", URI)),
        )
        .unwrap_err();
    assert_eq!((f.stale, f.reason), (true, "digest nonce expired"));
    // stale only when the digest itself is right
    let f = s
        .authenticate(
            "GET",
            URI,
            Some(&answer(&mut p, "PUBKEY", "bad", "GET", URI)),
        )
        .unwrap_err();
    assert!(!f.stale);
    // a fresh challenge works again
    let mut p = WwwAuthenticateHeader::parse(&s.challenge(true)).unwrap();
    assert!(p.stale);
    assert!(s
        .authenticate(
            "GET",
            URI,
            Some(&answer(&mut p, "PUBKEY", "PRIV:KEY", "GET", URI))
        )
        .is_ok());
}

#[test]
fn nonces_and_tokens_are_pruned() {
    let s = AuthState::new(AuthConfig {
        nonce_lifetime: Duration::from_millis(1),
        token_lifetime: Duration::from_millis(1),
        ..AuthConfig::default()
    });
    s.add_oauth_client("c", "s");
    for _ in 0..5 {
        s.challenge(false);
        s.issue_token(Some("Basic Yzpz"), FORM, b"grant_type=client_credentials");
    }
    std::thread::sleep(Duration::from_millis(20));
    s.challenge(false);
    s.issue_token(Some("Basic Yzpz"), FORM, b"grant_type=client_credentials");
    assert_eq!(s.counts(), (1, 1));
}

#[test]
fn nonce_cap_holds() {
    let s = state();
    for _ in 0..MAX_NONCES + 10 {
        s.challenge(false);
    }
    assert!(s.counts().0 <= MAX_NONCES, "{}", s.counts().0);
}

fn token(s: &AuthState) -> String {
    let r = s.issue_token(
        Some("Basic bWRiX3NhX2lkXzE6bWRiX3NhX3NrX3NlY3JldA=="),
        FORM,
        b"grant_type=client_credentials",
    );
    assert_eq!(r.status, 200, "{r:?}");
    r.body["access_token"].as_str().unwrap().to_owned()
}

#[test]
fn bearer_known_unknown_expired() {
    let s = state();
    let t = token(&s);
    assert_eq!(
        s.authenticate("GET", "/", Some(&format!("Bearer {t}"))),
        Ok("mdb_sa_id_1".into())
    );
    assert_eq!(
        s.authenticate("GET", "/", Some(&format!("bearer  {t} "))),
        Ok("mdb_sa_id_1".into())
    );
    assert_eq!(
        s.authenticate("GET", "/", Some("Bearer nope"))
            .unwrap_err()
            .reason,
        "unknown bearer token"
    );
    assert!(s.authenticate("GET", "/", Some("Bearer")).is_err());
    s.expire_all_tokens();
    let f = s
        .authenticate("GET", "/", Some(&format!("Bearer {t}")))
        .unwrap_err();
    assert_eq!((f.stale, f.reason), (false, "expired bearer token"));
    s.set_faults(AuthFaults {
        accept_expired_tokens: true,
        ..AuthFaults::default()
    });
    assert!(s
        .authenticate("GET", "/", Some(&format!("Bearer {t}")))
        .is_ok());
    // a new token is valid again
    s.set_faults(AuthFaults::default());
    let t2 = token(&s);
    assert!(s
        .authenticate("GET", "/", Some(&format!("Bearer {t2}")))
        .is_ok());
}

#[test]
fn token_endpoint_success() {
    let s = state();
    let r = s.issue_token(
        Some("Basic bWRiX3NhX2lkXzE6bWRiX3NhX3NrX3NlY3JldA=="),
        Some("Application/X-WWW-Form-Urlencoded; charset=UTF-8"),
        b"grant_type=client_credentials",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 3600);
    assert!(r.body["access_token"].as_str().unwrap().len() >= 32);
    assert!(r.www_authenticate.is_none());
    let dbg = format!("{r:?}");
    assert!(
        !dbg.contains(r.body["access_token"].as_str().unwrap()),
        "{dbg}"
    );
    // credentials in the body work too
    let r = s.issue_token(
        None,
        FORM,
        b"grant_type=client_credentials&client_id=mdb_sa_id_1&client_secret=mdb_sa_sk_secret",
    );
    assert_eq!(r.status, 200);
    // two tokens differ
    assert_ne!(token(&s), token(&s));
}

/// A reply of the token endpoint is the given RFC 6749 error, with a Basic challenge on 401.
fn assert_token_error(r: TokenReply, status: u16, error: &str) {
    assert_eq!(
        (r.status, r.body.clone()),
        (status, json!({ "error": error })),
        "{r:?}"
    );
    assert_eq!(r.www_authenticate.is_some(), status == 401);
    if status == 401 {
        assert_eq!(
            r.www_authenticate.as_deref(),
            Some(r#"Basic realm="MMS Public API""#)
        );
    }
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

const GRANT: &[u8] = b"grant_type=client_credentials";

#[test]
fn token_endpoint_refuses_unknown_or_missing_clients() {
    let s = state();
    let gt = GRANT;
    let check = assert_token_error;
    check(
        s.issue_token(
            Some(&format!("Basic {}", b64("mdb_sa_id_1:wrong"))),
            FORM,
            gt,
        ),
        401,
        "invalid_client",
    );
    check(
        s.issue_token(
            Some(&format!("Basic {}", b64("nobody:mdb_sa_sk_secret"))),
            FORM,
            gt,
        ),
        401,
        "invalid_client",
    );
    check(
        s.issue_token(Some("Basic !!!"), FORM, gt),
        401,
        "invalid_client",
    );
    check(
        s.issue_token(Some(&format!("Basic {}", b64("nocolon"))), FORM, gt),
        401,
        "invalid_client",
    );
    check(
        s.issue_token(Some("Bearer x"), FORM, gt),
        401,
        "invalid_client",
    );
    check(s.issue_token(None, FORM, gt), 401, "invalid_client");
    check(
        s.issue_token(
            None,
            FORM,
            b"grant_type=client_credentials&client_id=mdb_sa_id_1",
        ),
        401,
        "invalid_client",
    );
}

#[test]
fn token_endpoint_refuses_malformed_requests() {
    let s = state();
    let good = format!("Basic {}", b64("mdb_sa_id_1:mdb_sa_sk_secret"));
    let gt = GRANT;
    let check = assert_token_error;
    check(
        s.issue_token(Some(&good), FORM, b""),
        400,
        "invalid_request",
    );
    check(
        s.issue_token(Some(&good), FORM, b"grant_type="),
        400,
        "invalid_request",
    );
    check(
        s.issue_token(Some(&good), Some("application/json"), gt),
        400,
        "invalid_request",
    );
    check(s.issue_token(Some(&good), None, gt), 400, "invalid_request");
    check(
        s.issue_token(
            Some(&good),
            FORM,
            b"grant_type=client_credentials&grant_type=client_credentials",
        ),
        400,
        "invalid_request",
    );
    check(
        s.issue_token(
            Some(&good),
            FORM,
            b"grant_type=client_credentials&client_secret=mdb_sa_sk_secret",
        ),
        400,
        "invalid_request",
    );
    check(
        s.issue_token(Some(&good), FORM, b"grant_type=password"),
        400,
        "unsupported_grant_type",
    );
    check(
        s.issue_token(Some(&good), FORM, b"grant_type=authorization_code&code=x"),
        400,
        "unsupported_grant_type",
    );
}

#[test]
fn token_endpoint_accepts_form_encoded_and_raw_basic_credentials() {
    let s = state();
    s.add_oauth_client("id+x", "se:c ret");
    let gt = GRANT;
    // RFC 6749 §2.3.1 form-encoded Basic credentials, and raw ones
    assert_eq!(
        s.issue_token(
            Some(&format!("Basic {}", b64("id%2Bx:se%3Ac+ret"))),
            FORM,
            gt
        )
        .status,
        200
    );
    assert_eq!(
        s.issue_token(Some(&format!("Basic {}", b64("id+x:se:c ret"))), FORM, gt)
            .status,
        200
    );
}

#[test]
fn debug_output_has_no_secrets() {
    let s = state();
    let t = token(&s);
    s.challenge(false);
    let dbg = format!("{s:?}");
    for secret in [
        "PRIV:KEY",
        "mdb_sa_sk_secret",
        "PUBKEY",
        "mdb_sa_id_1",
        t.as_str(),
    ] {
        assert!(!dbg.contains(secret), "{dbg}");
    }
    assert!(dbg.contains("api_keys: 1"), "{dbg}");
}

#[test]
fn form_decode_works() {
    assert_eq!(form_decode("a%2Bb+c%3a%").as_deref(), Some("a+b c:%"));
    assert_eq!(form_decode("%zz%4").as_deref(), Some("%zz%4"));
    assert_eq!(form_decode("%ff"), None);
}
