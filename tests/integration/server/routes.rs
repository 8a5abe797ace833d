//! Routes.

use super::*;

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405() {
    let t = T::new().await;
    let fam = t.fam("atlas-v1");
    let ty = &fam.v.types[0];
    for p in [
        "/".to_owned(),
        "/api".to_owned(),
        "/api/atlas/v1.0/groups".to_owned(),
        format!("{}/", fam.list_path()),
        format!("{}/extra", fam.path(&ty.name)),
        "/api/atlas/v3/groups/5d791c84ff7a2522cc4f9aa1/integrations".to_owned(),
    ] {
        for who in [Who::Owner, Who::Anonymous] {
            let r = t.req(Method::GET, &p).who(who).send().await;
            r.error(404, "RESOURCE_NOT_FOUND");
        }
    }
    for (path, method, allow) in [
        (fam.list_path(), Method::POST, "GET"),
        (fam.list_path(), Method::DELETE, "GET"),
        (fam.path(&ty.name), Method::PATCH, "GET, POST, PUT, DELETE"),
        (fam.path(&ty.name), Method::HEAD, "GET, POST, PUT, DELETE"),
    ] {
        let r = t.req(method.clone(), &path).send().await;
        assert_eq!(r.status, 405, "{method} {path}");
        let mut got: Vec<&str> = r.header("allow").unwrap().split(", ").collect();
        let mut want: Vec<&str> = allow.split(", ").collect();
        got.sort();
        want.sort();
        assert_eq!(got, want);
        if method != Method::HEAD {
            assert_eq!(r.code(), "METHOD_NOT_ALLOWED");
        }
    }
    // percent-encoded segments are decoded
    fam.configure(ty).await;
    let encoded: String = ty
        .name
        .chars()
        .map(|c| format!("%{:02X}", c as u32))
        .collect();
    assert_eq!(fam.get(&encoded).await.status, 200);
}

#[tokio::test]
async fn a_large_body_announced_with_expect_continue_is_refused_unsent() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let t = T::new().await;
    let fam = t.fam("cloud-manager");
    fam.list("").await;
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
         Content-Length: 2097152\r\nExpect: 100-continue\r\n\r\n",
        h.to_str().unwrap()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0; 8192];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("\"error\":413"), "{text}");
}

#[tokio::test]
async fn info_json_shape_and_shutdown() {
    let srv = server::spawn(ServerConfig::default()).await.unwrap();
    let info = srv.info_json();
    let keys: Vec<&str> = info
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "base_url",
            "atlas_group_id",
            "cm_group_id",
            "other_group_id",
            "owner",
            "read_only",
            "oauth",
            "expired_token"
        ]
    );
    assert_eq!(info["base_url"], srv.base_url);
    // The expired token is one the server issued: known, and refused as expired.
    let token = info["expired_token"].as_str().unwrap();
    let http = reqwest::Client::new();
    let resp = http
        .get(format!(
            "{}/api/atlas/v2/groups/{}/integrations",
            srv.base_url,
            info["atlas_group_id"].as_str().unwrap()
        ))
        .header("accept", "application/vnd.atlas.2025-03-12+json")
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert!(srv.base_url.starts_with("http://127.0.0.1:"));
    for k in ["atlas_group_id", "cm_group_id", "other_group_id"] {
        let id = info[k].as_str().unwrap();
        assert!(
            id.len() == 24
                && id
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }
    assert_eq!(info["owner"]["private"], srv.credentials.owner.private);
    assert!(info["read_only"]["public"].is_string());
    assert!(info["oauth"]["client_secret"].is_string());
    let dbg = format!("{srv:?}");
    assert!(!dbg.contains(&srv.credentials.owner.private));
    assert!(!dbg.contains(&srv.credentials.oauth.client_secret));
    // two servers have different credentials
    let other = server::spawn(ServerConfig::default()).await.unwrap();
    assert_ne!(other.credentials, srv.credentials);
    let url = srv.base_url.clone();
    srv.shutdown().await.unwrap();
    assert!(reqwest::get(format!("{url}/")).await.is_err(), "stopped");
    // given credentials are used; bad ones refused
    let mut creds = other.credentials.clone();
    creds.cm_group_id = "nope".into();
    assert!(server::spawn(ServerConfig {
        credentials: Some(creds),
        ..Default::default()
    })
    .await
    .is_err());
    let creds = other.credentials.clone();
    drop(other);
    let again = server::spawn(ServerConfig {
        faults: vec![Fault::PrettyIgnored],
        credentials: Some(creds.clone()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(again.credentials, creds);
    assert_eq!(again.state.faults(), [Fault::PrettyIgnored]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_fast_and_concurrent() {
    let t = std::sync::Arc::new(T::new().await);
    let fam = t.fam("atlas-v2");
    fam.list("").await;
    let start = Instant::now();
    for _ in 0..50 {
        assert_eq!(fam.list("").await.status, 200);
    }
    let per = start.elapsed() / 50;
    assert!(
        per < Duration::from_millis(20),
        "{per:?} per request: Nagle?"
    );
    // concurrent digest requests (nonce counts overtaking each other) all pass
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let t = t.clone();
        set.spawn(async move { t.fam("atlas-v2").list("").await.status });
    }
    while let Some(s) = set.join_next().await {
        assert_eq!(s.unwrap(), 200);
    }
}

#[tokio::test]
async fn garbage_never_yields_500() {
    let t = T::new().await;
    let fam = t.fam("atlas-v2");
    let ty = &fam.v.types[0];
    let paths = [
        fam.path(&ty.name),
        fam.path("%00%ff%"),
        fam.path("💥"),
        format!("{}/groups/%2e%2e/integrations", fam.f.base_path),
        format!(
            "{}?pageNum=%ff&itemsPerPage=%00&envelope=true&pretty=true",
            fam.list_path()
        ),
        format!("{}?{}", fam.list_path(), "a=b&".repeat(2000)),
    ];
    let bodies: Vec<Vec<u8>> = vec![
        b"\x00\x01\x02".to_vec(),
        b"{\"type\": \"\\ud800\"}".to_vec(),
        format!("{{\"type\": \"{}\", \"x\": {}}}", ty.name, "1".repeat(5000)).into_bytes(),
        b"{\"type\": 1e999}".to_vec(),
        format!(
            "{{{}}}",
            (0..2000)
                .map(|i| format!("\"k{i}\": {i}"))
                .collect::<Vec<_>>()
                .join(",")
        )
        .into_bytes(),
    ];
    for p in &paths {
        for m in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ] {
            for b in &bodies {
                let r = fam
                    .req(m.clone(), p)
                    .header("content-type", "application/json")
                    .body(b.clone())
                    .send()
                    .await;
                assert!(r.status < 500, "{m} {p}: {} {}", r.status, r.text);
                if !r.text.is_empty() {
                    r.json();
                }
            }
        }
    }
}
