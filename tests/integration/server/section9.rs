//! Contract section 9.

use super::*;

#[tokio::test]
async fn url_schemes_compare_case_insensitively_and_the_rule_decides() {
    let t = T::new().await;
    let cm = t.fam("cloud-manager");
    let (ty, f) = pick(cm.f, |_, f| f.format.as_deref() == Some("uri"));
    for (url, ok) in [
        ("HTTPS://HOOKS.EXAMPLE.COM/x", true),
        ("Http://hooks.example.com/services/abcdef", true),
        ("https://user:pw@hooks.example.com/x", true),
        ("https:///x", false),
        ("ftp://hooks.example.com/x", false),
        ("hooks.example.com/x", false),
        ("/services/x", false),
    ] {
        t.srv.state.reset();
        let mut b = valid_body(ty);
        b.insert(f.name.clone(), json!(url));
        let r = cm.create(&ty.name, &Value::Object(b)).await;
        if ok {
            assert_eq!(r.status, 200, "{url}: {}", r.text);
            let shown = cm.get(&ty.name).await.json()[&f.name].clone();
            assert_eq!(shown, json!(expect_url(url)), "{url}");
        } else {
            assert_eq!(r.status, 400, "{url}: {}", r.text);
            assert_eq!(r.code(), "INVALID_INTEGRATION_SETTINGS", "{url}");
        }
    }
}

#[tokio::test]
async fn url_secrets_are_masked_from_the_slash_after_the_host() {
    let t = T::new().await;
    let cm = t.fam("cloud-manager");
    let (ty, f) = pick(cm.f, |_, f| f.secret == Some(SecretKind::MaskUrl));
    for (url, shown) in [
        ("https://example.com/abcd", "https://example.com/****abcd"),
        ("https://example.com/abc", "https://example.com/****"),
        ("https://example.com", "https://example.com/****"),
        ("http://h:8080/x/yz12345", "http://h:8080/****2345"),
        (
            "https://u:p@example.com/a?q=12345",
            "https://example.com/****2345",
        ),
    ] {
        t.srv.state.reset();
        let mut b = valid_body(ty);
        b.insert(f.name.clone(), json!(url));
        let r = cm.create(&ty.name, &Value::Object(b)).await;
        assert_eq!(r.status, 200, "{url}: {}", r.text);
        assert_eq!(
            cm.get(&ty.name).await.json()[&f.name],
            json!(shown),
            "{url}"
        );
    }
}

#[tokio::test]
async fn lengths_and_masks_count_characters() {
    let t = T::new().await;
    let v2 = t.fam("atlas-v2");
    let (ty, f) = pick(v2.f, |_, f| f.max_length.is_some() && f.pattern.is_none());
    let max = f.max_length.unwrap();
    let mut b = valid_body(ty);
    b.insert(f.name.clone(), json!("日".repeat(max)));
    let r = v2.create(&ty.name, &Value::Object(b.clone())).await;
    assert_eq!(r.status, 200, "{}", r.text);
    t.srv.state.reset();
    b.insert(f.name.clone(), json!("日".repeat(max + 1)));
    let r = v2.create(&ty.name, &Value::Object(b)).await;
    assert_eq!(r.status, 400, "{}", r.text);

    let cm = t.fam("cloud-manager");
    let (ty, f) = pick(cm.f, |_, f| f.secret == Some(SecretKind::MaskLast4));
    let mut b = valid_body(ty);
    b.insert(f.name.clone(), json!("pässwörd-ünïcode"));
    cm.create(&ty.name, &Value::Object(b)).await;
    assert_eq!(
        cm.get(&ty.name).await.json()[&f.name],
        json!("************code")
    );
}

#[tokio::test]
async fn content_type_parameters_and_letter_case_are_ignored() {
    let t = T::new().await;
    for fam in t.all() {
        let ty = &fam.v.types[0];
        let media = fam.v.media_type.clone();
        for ct in [
            format!("{media}; charset=UTF-8"),
            format!("{};charset=utf-8", media.to_uppercase()),
            "Application/JSON ; Charset=\"utf-8\"".to_owned(),
        ] {
            t.srv.state.reset();
            let r = fam
                .req(Method::POST, &fam.path(&ty.name))
                .header("content-type", &ct)
                .json(&Value::Object(valid_body(ty)))
                .send()
                .await;
            assert_eq!(r.status, 200, "{} {ct}: {}", fam.label(), r.text);
        }
        let r = fam
            .req(Method::POST, &fam.path(&ty.name))
            .header("content-type", "text/plain; charset=UTF-8")
            .json(&Value::Object(valid_body(ty)))
            .send()
            .await;
        assert_eq!(r.status, 415, "{}", fam.label());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_concurrent_creates_exactly_one_wins() {
    let t = T::new().await;
    for fam in t.all() {
        t.srv.state.reset();
        let ty = &fam.v.types[0];
        let bodies: Vec<Value> = (0..8)
            .map(|i| {
                let mut b = valid_body(ty);
                for f in ty
                    .secret_fields()
                    .filter(|f| f.secret == Some(SecretKind::MaskLast4))
                {
                    b.insert(f.name.clone(), json!(format!("{MARK}-{i}-0123456789")));
                }
                Value::Object(b)
            })
            .collect();
        let creates = bodies.iter().map(|b| fam.create(&ty.name, b));
        let answers = futures_util::future::join_all(creates).await;
        let won: Vec<usize> = (0..answers.len())
            .filter(|i| answers[*i].status == 200)
            .collect();
        assert_eq!(
            won.len(),
            1,
            "{}: {:?}",
            fam.label(),
            answers.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        for (i, r) in answers.iter().enumerate().filter(|(i, _)| *i != won[0]) {
            assert_eq!(r.status, 409, "{} #{i}", fam.label());
            assert_eq!(r.code(), "INTEGRATION_ALREADY_CONFIGURED");
        }
        let stored = fam.stored();
        let stored = stored.iter().find(|s| s.type_name == ty.name).unwrap();
        let mut sent = bodies[won[0]].as_object().unwrap().clone();
        sent.retain(|k, _| ty.field(k).is_some_and(|f| f.settable()));
        assert_eq!(
            stored.fields,
            sent,
            "{}: the winner's body, whole",
            fam.label()
        );
    }
}
