//! Authentication, roles, projects.

use super::*;

#[tokio::test]
async fn digest_nonces_expire_with_stale_and_counts_cannot_be_replayed() {
    let t = T::new().await;
    let fam = t.fam("cloud-manager");
    let path = fam.list_path();
    assert_eq!(fam.list("").await.status, 200);
    // replay: the same header twice
    let h = t
        .owner
        .header(&t.client, &Method::GET, &path)
        .await
        .unwrap()
        .unwrap();
    let h = h.to_str().unwrap().to_owned();
    assert_eq!(
        t.req(Method::GET, &path)
            .who(Who::Raw(h.clone()))
            .send()
            .await
            .status,
        200
    );
    let r = t
        .req(Method::GET, &path)
        .who(Who::Raw(h.clone()))
        .send()
        .await;
    assert_eq!(r.status, 401);
    // a header for another URI
    let h2 = t
        .owner
        .header(&t.client, &Method::GET, "/elsewhere")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        t.req(Method::GET, &path)
            .who(Who::Raw(h2.to_str().unwrap().into()))
            .send()
            .await
            .status,
        401
    );
    // a nonce the server never issued
    let forged = h.replace("nonce=\"", "nonce=\"0");
    assert_eq!(
        t.req(Method::GET, &path)
            .who(Who::Raw(forged))
            .send()
            .await
            .status,
        401
    );
    // expired: 401 with stale=true; the client retries with the new nonce
    let h = t
        .owner
        .header(&t.client, &Method::GET, &path)
        .await
        .unwrap()
        .unwrap();
    t.srv.state.auth().expire_all_nonces();
    let r = t
        .req(Method::GET, &path)
        .who(Who::Raw(h.to_str().unwrap().into()))
        .send()
        .await;
    assert_eq!(r.status, 401);
    let challenge = r.header("www-authenticate").unwrap();
    assert!(challenge.contains("stale=true"), "{challenge}");
    assert_eq!(
        fam.list("").await.status,
        200,
        "the Authenticator follows the new nonce"
    );
    // the wrong password
    let wrong = Authenticator::new(
        AuthSpec::Digest {
            public: t.srv.credentials.owner.public.clone(),
            private: "wrong".into(),
        },
        Url::parse(&t.srv.base_url).unwrap(),
    );
    let h = {
        let status = reqwest::StatusCode::from_u16(r.status).unwrap();
        let retry = wrong.learn(&Signed::default(), status, &r.headers).unwrap();
        wrong
            .sign_retry(retry, &t.client, &Method::GET, &path)
            .await
            .unwrap()
            .header
            .unwrap()
    };
    assert_eq!(
        t.req(Method::GET, &path)
            .who(Who::Raw(h.to_str().unwrap().into()))
            .send()
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn oauth_tokens_work_until_they_expire() {
    let t = T::new().await;
    let fam = t.fam("atlas-v2");
    let r = fam
        .req(Method::GET, &fam.list_path())
        .who(Who::OAuth)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ty = &fam.v.types[0];
    let r = fam
        .req(Method::POST, &fam.path(&ty.name))
        .who(Who::OAuth)
        .json(&Value::Object(valid_body(ty)))
        .send()
        .await;
    assert_eq!(r.status, 200, "the OAuth client is Project Owner");
    // a token by hand, then expired
    let c = &t.srv.credentials;
    let r = t
        .http
        .post(format!("{}{}", t.srv.base_url, t.model().token_path))
        .basic_auth(&c.oauth.client_id, Some(&c.oauth.client_secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let j: Value = r.json().await.unwrap();
    assert_eq!(j["token_type"], "Bearer");
    assert_eq!(j["expires_in"], 3600);
    let bearer = format!("Bearer {}", j["access_token"].as_str().unwrap());
    assert_eq!(
        fam.req(Method::GET, &fam.list_path())
            .who(Who::Raw(bearer.clone()))
            .send()
            .await
            .status,
        200
    );
    t.srv.state.auth().expire_all_tokens();
    let r = fam
        .req(Method::GET, &fam.list_path())
        .who(Who::Raw(bearer))
        .send()
        .await;
    assert_eq!(r.status, 401);
    assert!(r
        .headers
        .get_all("www-authenticate")
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("Bearer")));
    // the OAuth Authenticator fetches a fresh token
    assert_eq!(
        fam.req(Method::GET, &fam.list_path())
            .who(Who::OAuth)
            .send()
            .await
            .status,
        200
    );
    // token endpoint errors in the RFC 6749 shape
    let token = |auth: Option<(&str, &str)>, ct: &str, body: &str| {
        let mut rb = t
            .http
            .post(format!("{}{}", t.srv.base_url, t.model().token_path))
            .header("content-type", ct)
            .body(body.to_owned());
        if let Some((u, p)) = auth {
            rb = rb.basic_auth(u, Some(p));
        }
        rb.send()
    };
    let id = c.oauth.client_id.as_str();
    for (auth, ct, body, status, error) in [
        (
            Some((id, "wrong")),
            "application/x-www-form-urlencoded",
            "grant_type=client_credentials",
            401,
            "invalid_client",
        ),
        (
            None,
            "application/x-www-form-urlencoded",
            "grant_type=client_credentials",
            401,
            "invalid_client",
        ),
        (
            Some((id, c.oauth.client_secret.as_str())),
            "application/x-www-form-urlencoded",
            "grant_type=password",
            400,
            "unsupported_grant_type",
        ),
        (
            Some((id, c.oauth.client_secret.as_str())),
            "application/x-www-form-urlencoded",
            "",
            400,
            "invalid_request",
        ),
        (
            Some((id, c.oauth.client_secret.as_str())),
            "application/json",
            "{}",
            400,
            "invalid_request",
        ),
    ] {
        let r = token(auth, ct, body).await.unwrap();
        assert_eq!(r.status(), status);
        let j: Value = r.json().await.unwrap();
        assert_eq!(j, json!({ "error": error }));
    }
    let r = t
        .http
        .get(format!("{}{}", t.srv.base_url, t.model().token_path))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");
}

#[tokio::test]
async fn roles_and_projects() {
    let t = T::new().await;
    for fam in t.all() {
        t.srv.state.reset();
        let ty = &fam.v.types[0];
        fam.configure(ty).await;
        let before = fam.stored();
        // read-only: list and get, nothing else
        assert_eq!(
            fam.req(Method::GET, &fam.list_path())
                .who(Who::ReadOnly)
                .send()
                .await
                .status,
            200
        );
        assert_eq!(
            fam.req(Method::GET, &fam.path(&ty.name))
                .who(Who::ReadOnly)
                .send()
                .await
                .status,
            200
        );
        for m in [Method::POST, Method::PUT, Method::DELETE] {
            let r = fam
                .req(m.clone(), &fam.path(&ty.name))
                .who(Who::ReadOnly)
                .json(&Value::Object(valid_body(ty)))
                .send()
                .await;
            r.error(401, "USER_UNAUTHORIZED");
        }
        assert_eq!(fam.stored(), before);
    }
    // the other project: nothing leaks, whatever the credentials
    let c = t.srv.credentials.clone();
    let other = t.stored(&c.other_group_id);
    assert_eq!(other.len(), 1, "the other owner has one integration");
    for fam in t
        .all()
        .into_iter()
        .filter(|f| f.f.project_kind == ProjectKind::Atlas)
    {
        for who in [Who::Owner, Who::ReadOnly, Who::OAuth] {
            let path = format!(
                "{}/groups/{}/integrations",
                fam.f.base_path, c.other_group_id
            );
            let r = fam.req(Method::GET, &path).who(who.clone()).send().await;
            r.error(401, "NOT_IN_GROUP");
            assert!(!r.text.contains(&other[0].type_name));
            let r = fam
                .req(Method::DELETE, &format!("{path}/{}", other[0].type_name))
                .who(who)
                .send()
                .await;
            r.error(401, "NOT_IN_GROUP");
        }
    }
    assert_eq!(t.stored(&c.other_group_id), other);
}
