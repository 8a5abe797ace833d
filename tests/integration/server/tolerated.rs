//! Contract section 10: each tolerated variant of the reference server really does what it
//! says, over real HTTP (that the harness passes every one is `variants.rs`'s concern).

use super::*;
use integrations_conformance::server::Variant;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

async fn with(variant: Variant) -> T {
    T::with_config(ServerConfig {
        variants: vec![variant],
        ..ServerConfig::default()
    })
    .await
}

/// Every JSON object in `v`, `v` itself first.
fn objects(v: &Value) -> Vec<&Map<String, Value>> {
    let mut out = Vec::new();
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                out.push(m);
                stack.extend(m.values());
            }
            Value::Array(a) => stack.extend(a),
            _ => {}
        }
    }
    out
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// The path of the other owner's project in an Atlas family (nobody here may reach it).
fn other_project(t: &T, fam: &Fam<'_>) -> String {
    format!(
        "{}/groups/{}/integrations",
        fam.f.base_path, t.srv.credentials.other_group_id
    )
}

#[tokio::test]
async fn extra_fields_reach_every_object_of_every_answer_but_the_token_endpoint() {
    let t = with(Variant::ExtraFieldsEverywhere).await;
    let traced = |v: &Value, what: &str| {
        for m in objects(v) {
            assert!(
                m.get("traceId").and_then(Value::as_str).is_some(),
                "{what}: {m:?}"
            );
        }
        assert!(v["requestId"].is_string(), "{what}: {v}");
    };
    for fam in [t.fam("cloud-manager"), t.fam("atlas-v2")] {
        let ty = &fam.v.types[0];
        fam.configure(ty).await;
        // a list page, its links and its integrations
        let page = fam.list("itemsPerPage=1").await.json();
        assert_eq!(page["links"][0]["rel"], "self");
        assert_eq!(page["results"].as_array().unwrap().len(), 1);
        traced(&page, "list");
        // an envelope and the integration it wraps
        let path = format!("{}?envelope=true", fam.path(&ty.name));
        let r = fam.req(Method::GET, &path).send().await.json();
        assert_eq!(r["status"], 200);
        assert_eq!(r["content"]["type"], ty.name);
        traced(&r, "envelope");
        // an error body, bare and enveloped, still has the whole error shape
        let r = fam.get("NOT_A_TYPE").await;
        assert_eq!(r.status, 400);
        let body = r.json();
        traced(&body, "error");
        for k in ["detail", "error", "errorCode", "parameters", "reason"] {
            assert!(body.get(k).is_some(), "{k}: {body}");
        }
        let r = fam
            .req(
                Method::GET,
                &format!("{}?envelope=true", fam.path("NOT_A_TYPE")),
            )
            .send()
            .await;
        traced(&r.json(), "enveloped error");
        assert!(r.json()["content"]["errorCode"].is_string());
    }
    // the token endpoint's JSON is RFC 6749's, written apart from the API's answers: unchanged
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
    let j: Value = r.json().await.unwrap();
    assert_eq!(keys(&j), ["access_token", "token_type", "expires_in"]);
}

#[tokio::test]
async fn every_401_carries_the_challenges_with_a_fresh_nonce() {
    let t = with(Variant::ChallengeOnEvery401).await;
    let nonce_of = |r: &Resp| {
        let values: Vec<&str> = r
            .headers
            .get_all("www-authenticate")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        let digest = values
            .iter()
            .find(|v| v.starts_with("Digest "))
            .unwrap_or_else(|| panic!("no digest challenge: {values:?}"));
        assert!(digest.contains("realm=\"MMS Public API\""), "{digest}");
        assert!(digest.contains("qop=\"auth\""), "{digest}");
        assert!(!digest.contains("stale"), "{digest}");
        assert!(
            values.iter().any(|v| v.starts_with("Bearer ")),
            "{values:?}"
        );
        let at = digest.find("nonce=\"").unwrap() + 7;
        digest[at..at + digest[at..].find('"').unwrap()].to_owned()
    };
    let v1 = t.fam("atlas-v1");
    let ty = &v1.v.types[0];
    // no access to the project
    let r = v1.req(Method::GET, &other_project(&t, &v1)).send().await;
    assert_eq!((r.status, r.code().as_str()), (401, "NOT_IN_GROUP"));
    let first = nonce_of(&r);
    let r = v1.req(Method::GET, &other_project(&t, &v1)).send().await;
    let second = nonce_of(&r);
    assert_ne!(first, second, "each 401 issues its own nonce");
    // a read-only caller's write
    let r = v1
        .req(Method::POST, &v1.path(&ty.name))
        .who(Who::ReadOnly)
        .json(&Value::Object(valid_body(ty)))
        .send()
        .await;
    assert_eq!((r.status, r.code().as_str()), (401, "USER_UNAUTHORIZED"));
    let nonce = nonce_of(&r);
    assert!(t.stored(&v1.group).is_empty());
    // the nonce is one the server accepts
    let retry = t
        .owner
        .learn(
            &Default::default(),
            reqwest::StatusCode::UNAUTHORIZED,
            &r.headers,
        )
        .expect("a digest challenge to answer");
    let h = t
        .owner
        .sign_retry(retry, &t.client, &Method::GET, &v1.list_path())
        .await
        .unwrap()
        .header
        .unwrap();
    let h = h.to_str().unwrap().to_owned();
    assert!(h.contains(&format!("nonce=\"{nonce}\"")), "{h}");
    let r = v1
        .req(Method::GET, &v1.list_path())
        .who(Who::Raw(h))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // other refusals are not 401s and carry no challenge
    let r = v1.get("NOT_A_TYPE").await;
    assert_eq!(r.status, 400);
    assert!(r.header("www-authenticate").is_none());
}

#[tokio::test]
async fn links_echo_the_format_and_unknown_parameters() {
    let t = with(Variant::ExtraLinkParameters).await;
    for (name, query, want) in [
        (
            "cloud-manager",
            "pretty=true&foo=b%2Fr&includeCount=false&itemsPerPage=1",
            &[
                ("envelope", "false"),
                ("foo", "b/r"),
                ("includeCount", "true"),
                ("itemsPerPage", "1"),
                ("pretty", "true"),
            ][..],
        ),
        (
            "atlas-v1",
            "includeCount=false&itemsPerPage=1&envelope=true",
            &[
                ("envelope", "true"),
                ("includeCount", "false"),
                ("itemsPerPage", "1"),
                ("pretty", "false"),
            ][..],
        ),
        (
            "atlas-v2",
            "notAParameter=1&notAParameter=2&itemsPerPage=1",
            &[
                ("envelope", "false"),
                ("includeCount", "true"),
                ("itemsPerPage", "1"),
                ("notAParameter", "1"),
                ("pretty", "false"),
            ][..],
        ),
    ] {
        t.srv.state.reset();
        let fam = t.fam(name);
        for ty in &fam.v.types[..2] {
            fam.configure(ty).await;
        }
        let r = fam.list(query).await;
        assert_eq!(r.status, 200, "{}", r.text);
        for (rel, page) in [("self", "1"), ("next", "2")] {
            let link = r.link(rel).unwrap_or_else(|| panic!("{name}: no {rel}"));
            let mut expected = want.to_vec();
            expected.push(("pageNum", page));
            assert_eq!(query_of(&link), pairs(&expected), "{name} {rel}");
        }
    }
}

#[tokio::test]
async fn a_digest_response_for_another_uri_is_400() {
    for (variant, status) in [(None, 401), (Some(Variant::DigestUriMismatch400), 400)] {
        let t = T::with_config(ServerConfig {
            variants: variant.into_iter().collect(),
            ..ServerConfig::default()
        })
        .await;
        let fam = t.fam("cloud-manager");
        let ty = &fam.v.types[0];
        assert_eq!(fam.list("").await.status, 200);
        let elsewhere = t
            .owner
            .header(&t.client, &Method::POST, &fam.path("ELSEWHERE"))
            .await
            .unwrap()
            .unwrap();
        let r = fam
            .req(Method::POST, &fam.path(&ty.name))
            .who(Who::Raw(elsewhere.to_str().unwrap().into()))
            .json(&Value::Object(valid_body(ty)))
            .send()
            .await;
        if status == 400 {
            r.error(400, "INVALID_AUTHORIZATION_HEADER");
            assert!(r.header("www-authenticate").is_none());
        } else {
            assert_eq!(r.status, 401, "{}", r.text);
            assert!(r.header("www-authenticate").is_some());
        }
        assert!(fam.stored().is_empty());
    }
}

/// A minimal body of `ty` with an unknown field whose value makes the body `depth` levels deep.
fn nested_body(ty: &IntegrationType, depth: usize) -> Value {
    let mut nested = json!("x");
    for _ in 1..depth {
        nested = json!({ "a": nested });
    }
    let mut body = minimal_body(ty);
    body.insert("unexpectedAttribute".into(), nested);
    Value::Object(body)
}

#[tokio::test]
async fn bodies_nested_past_32_levels_are_malformed() {
    let plain = T::new().await;
    let t = with(Variant::DeepNesting400).await;
    for fam in t.all() {
        let ty = &fam.v.types[0];
        // up to 32 levels a body is read like any other: an unknown field
        fam.create(&ty.name, &nested_body(ty, 32))
            .await
            .error(400, "INVALID_ATTRIBUTE");
        fam.create(&ty.name, &nested_body(ty, 33))
            .await
            .error(400, "MALFORMED_JSON");
        fam.update(&ty.name, &nested_body(ty, 64))
            .await
            .error(400, "MALFORMED_JSON");
        assert!(fam.stored().is_empty());
    }
    // without the variant the same body is an unknown field
    let fam = plain.fam("cloud-manager");
    let ty = &fam.v.types[0];
    fam.create(&ty.name, &nested_body(ty, 33))
        .await
        .error(400, "INVALID_ATTRIBUTE");
}

#[tokio::test]
async fn optional_fields_without_a_value_are_null() {
    let t = with(Variant::NullOptionalFields).await;
    let mut nulls = BTreeSet::new();
    for fam in t.all() {
        for ty in &fam.v.types {
            t.srv.state.reset();
            let sent = Value::Object(minimal_body(ty));
            let r = fam.create(&ty.name, &sent).await;
            assert_eq!(r.status, 200, "{} {}: {}", fam.label(), ty.name, r.text);
            let shown = fam.get(&ty.name).await.json();
            for f in ty.fields.iter().filter(|f| f.settable() && !f.required) {
                let got = shown.get(&f.name);
                let what = format!("{} {}.{}: {shown}", fam.label(), ty.name, f.name);
                if sent.get(&f.name).is_some() {
                    assert!(got.is_some_and(|v| !v.is_null()), "{what}");
                } else if f.secret == Some(SecretKind::WriteOnly) {
                    assert_eq!(got, None, "{what}");
                } else if let Some(d) = &f.default {
                    assert_eq!(got, Some(d), "{what}");
                } else {
                    assert_eq!(got, Some(&Value::Null), "{what}");
                    nulls.insert(format!("{}.{}", ty.name, f.name));
                }
            }
        }
    }
    assert!(nulls.len() >= 3, "{nulls:?}");
    // SLACK's channelName in the v1.0 families shows its "" (section 2), never null
    let cm = t.fam("cloud-manager");
    let (slack, channel) = pick(cm.f, |_, f| f.default == Some(json!("")));
    t.srv.state.reset();
    let mut body = minimal_body(slack);
    body.remove(&channel.name);
    cm.create(&slack.name, &Value::Object(body)).await;
    assert_eq!(cm.get(&slack.name).await.json()[&channel.name], json!(""));
}

#[tokio::test]
async fn reasons_change_their_letter_case() {
    let t = with(Variant::ReasonPhraseCase).await;
    let v1 = t.fam("atlas-v1");
    let reason = |r: &Resp| r.json()["reason"].as_str().unwrap().to_owned();
    let r = t.req(Method::GET, "/api/atlas/v1.0/nowhere").send().await;
    assert_eq!((r.status, reason(&r)), (404, "NOT FOUND".to_owned()));
    let r = v1.get("NOT_A_TYPE").await;
    assert_eq!((r.status, reason(&r)), (400, "BAD REQUEST".to_owned()));
    let r = v1.req(Method::GET, &other_project(&t, &v1)).send().await;
    assert_eq!((r.status, reason(&r)), (401, "unauthorized".to_owned()));
    let r = v1.req(Method::PATCH, &v1.list_path()).send().await;
    assert_eq!(
        (r.status, reason(&r)),
        (405, "method not allowed".to_owned())
    );
}

#[tokio::test]
async fn content_types_come_in_another_case_with_other_parameters() {
    const JSON_OTHER: &str = "Application/JSON; charset=UTF-8; profile=\"x\"";
    let t = with(Variant::ContentTypeParameters).await;
    let cm = t.fam("cloud-manager");
    assert_eq!(cm.list("").await.content_type(), JSON_OTHER);
    assert_eq!(cm.get("NOT_A_TYPE").await.content_type(), JSON_OTHER);
    let f = t.family("atlas-v2");
    for v in &f.versions {
        let fam = t.on(f, v);
        let ty = &v.types[0];
        let (name, suffix) = v.media_type.rsplit_once('+').unwrap();
        let versioned = format!("{name}+{};Charset=utf-8", suffix.to_ascii_uppercase());
        assert_eq!(fam.list("").await.content_type(), versioned);
        fam.configure(ty).await;
        let r = fam.delete(&ty.name).await;
        assert_eq!((r.status, r.content_type()), (204, versioned.as_str()));
        // errors are JSON
        assert_eq!(fam.get(&ty.name).await.content_type(), JSON_OTHER);
    }
    let r = t
        .http
        .post(format!("{}{}", t.srv.base_url, t.model().token_path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], JSON_OTHER);
}

#[tokio::test]
async fn json_is_written_with_reversed_keys_and_escapes() {
    let t = with(Variant::JsonEscapes).await;
    let cm = t.fam("cloud-manager");
    let (ty, url) = pick(cm.f, |_, f| f.secret == Some(SecretKind::MaskUrl));
    let mut body = valid_body(ty);
    body.insert(
        url.name.clone(),
        json!("https://hooks.example.com/ünï/𝄞-0123"),
    );
    let r = cm.create(&ty.name, &Value::Object(body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.is_ascii(), "{}", r.text);
    assert!(!r.text.replace("\\/", "").contains('/'), "{}", r.text);
    assert!(r.text.contains("https:\\/\\/hooks.example.com\\/****0123"));
    // still the same JSON
    let page = r.json();
    assert_eq!(keys(&page), ["totalCount", "results", "links"]);
    assert_eq!(
        find(&page["results"].as_array().unwrap()[..], &ty.name)[&url.name],
        json!("https://hooks.example.com/****0123")
    );
    // a non-ASCII value comes back escaped, beyond the BMP as a surrogate pair
    let (ty, free) = pick(cm.f, |_, f| {
        f.secret.is_none()
            && f.kind == FieldKind::String
            && f.enum_values.is_empty()
            && f.pattern.is_none()
            && f.format.is_none()
            && !f.discriminator
    });
    let mut body = valid_body(ty);
    body.insert(free.name.clone(), json!("日本 𝄞"));
    cm.create(&ty.name, &Value::Object(body)).await;
    let r = cm.get(&ty.name).await;
    assert!(
        r.text.contains("\\u65e5\\u672c \\ud834\\udd1e"),
        "{}",
        r.text
    );
    assert_eq!(r.json()[&free.name], "日本 𝄞");
    // errors, pretty ones too
    let r = cm
        .req(
            Method::GET,
            &format!("{}?pretty=true", cm.path("NOT_A_TYPE")),
        )
        .send()
        .await;
    assert!(r.text.lines().count() > 5, "{}", r.text);
    assert_eq!(
        keys(&r.json()),
        ["reason", "parameters", "errorCode", "error", "detail"]
    );
}

#[tokio::test]
async fn every_response_carries_the_extra_headers() {
    let t = with(Variant::ExtraResponseHeaders).await;
    let cm = t.fam("cloud-manager");
    let ty = &cm.v.types[0];
    cm.configure(ty).await;
    let mut ids = BTreeSet::new();
    let answers = [
        cm.list("").await,
        cm.delete(&ty.name).await,
        cm.get(&ty.name).await,
        cm.req(Method::GET, &cm.list_path())
            .who(Who::Anonymous)
            .send()
            .await,
        t.req(Method::GET, "/nowhere").send().await,
    ];
    for r in &answers {
        let id = r.header("x-request-id").unwrap();
        assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()));
        ids.insert(id.to_owned());
        assert!(r.header("server-timing").is_some());
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert!(r
            .header("strict-transport-security")
            .is_some_and(|v| v.starts_with("max-age=")));
        assert_eq!(r.header("vary"), Some("Accept"));
    }
    let statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 204, 404, 401, 404]);
    assert_eq!(ids.len(), answers.len(), "one request id per response");
}

/// Connects, sends the head of a create whose `Content-Length` announces 2 MiB and no body
/// byte, and reads until the server closes the connection.
async fn announce_oversized(t: &T, fam: &Fam<'_>) -> (String, Duration) {
    let path = fam.path(&fam.v.types[0].name);
    let h = t
        .owner
        .header(&t.client, &Method::POST, &path)
        .await
        .unwrap()
        .unwrap();
    let mut s = tokio::net::TcpStream::connect(t.srv.local_addr())
        .await
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Type: application/json\r\n\
         Content-Length: 2097152\r\n\r\n",
        h.to_str().unwrap()
    );
    let started = Instant::now();
    s.write_all(head.as_bytes()).await.unwrap();
    // The time to the whole answer (head and body), then on to the close, which may come after
    // the server has read and thrown away what the client still sends (a lingering close).
    let mut all = Vec::new();
    let mut answered = None;
    let mut chunk = [0u8; 4096];
    let read_all = async {
        loop {
            let n = s.read(&mut chunk).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            all.extend_from_slice(&chunk[..n]);
            if answered.is_none() && whole_answer(&all) {
                answered = Some(started.elapsed());
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read_all)
        .await
        .expect("the server closes the connection");
    (
        String::from_utf8_lossy(&all).into_owned(),
        answered.expect("a whole answer"),
    )
}

/// Whether `bytes` hold a response head and the body its `Content-Length` announces.
fn whole_answer(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let Some(end) = text.find("\r\n\r\n") else {
        return false;
    };
    let length = text[..end]
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    bytes.len() >= end + 4 + length
}

#[tokio::test]
async fn an_oversized_body_is_refused_unread_and_the_connection_closed() {
    let t = with(Variant::Early413Close).await;
    let fam = t.fam("cloud-manager");
    fam.list("").await;
    let (text, took) = announce_oversized(&t, &fam).await;
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("\r\nconnection: close\r\n"),
        "{text}"
    );
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["error"], 413);
    assert!(body["errorCode"].is_string());
    // answered at once: the faithful server reads what it can of the body first (it waits for
    // the bytes the head announced, five seconds here)
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(fam.stored().is_empty());
}

/// What the harness's own client (hyper) sees when the server answers before the body is sent
/// and closes: the 413 with its body, not a transport error, however much is left to send.
#[tokio::test]
async fn the_harness_client_sees_the_early_413() {
    let t = with(Variant::Early413Close).await;
    let fam = t.fam("atlas-v2");
    fam.list("").await;
    let path = fam.path(&fam.v.types[0].name);
    let url = Url::parse(&format!("{}{path}", t.srv.base_url)).unwrap();
    // the suite's size (1 MiB + 512), and more than socket buffers hold
    for size in [(1 << 20) + 512, 16 << 20] {
        for _ in 0..3 {
            let h = t.owner.header(&t.client, &Method::POST, &path).await;
            let mut headers = HeaderMap::new();
            headers.insert(AUTHORIZATION, h.unwrap().unwrap());
            for name in ["accept", "content-type"] {
                headers.insert(name, fam.v.media_type.parse().unwrap());
            }
            let body = bytes::Bytes::from(vec![b' '; size]);
            let sent = t
                .client
                .send(&Method::POST, &url, &headers, Some(&body), None)
                .await;
            let answer = sent.answer.unwrap_or_else(|e| panic!("{size}: {e}"));
            assert_eq!(answer.status, 413, "{size}");
            assert_eq!(answer.error, None, "{size}");
            assert_eq!(answer.headers["connection"], "close");
            let body: Value = serde_json::from_slice(&answer.body).unwrap();
            assert_eq!(body["error"], 413);
        }
    }
    assert!(fam.stored().is_empty());
}
