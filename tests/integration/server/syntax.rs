//! Body syntax, media types, size.

use super::*;

#[tokio::test]
async fn body_syntax_type_and_content_type() {
    let t = T::new().await;
    for fam in t.all() {
        let ty = &fam.v.types[0];
        let other = &fam.v.types[1];
        let path = fam.path(&ty.name);
        let good = Value::Object(valid_body(ty));
        for method in [Method::POST, Method::PUT] {
            let req = || fam.req(method.clone(), &path);
            for bad in [
                "",
                "{",
                "{\"type\": }",
                "NaN",
                "{\"type\": NaN}",
                "[1,",
                "Infinity",
                "\u{feff}{}",
                "{'a': 1}",
                "{} {}",
            ] {
                req().body(bad).send().await.error(400, "MALFORMED_JSON");
            }
            req()
                .body(vec![0xff, 0xfe])
                .send()
                .await
                .error(400, "MALFORMED_JSON");
            let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
            req().body(deep).send().await.error(400, "MALFORMED_JSON");
            for not_object in ["[]", "1", "\"x\"", "null", "true"] {
                let r = req().body(not_object).send().await;
                assert_eq!(
                    (r.status, r.code()),
                    (400, "INVALID_JSON".to_owned()),
                    "{not_object}"
                );
            }
            let mut b = valid_body(ty);
            b.remove("type");
            let r = req().json(&Value::Object(b.clone())).send().await;
            r.error(400, "MISSING_ATTRIBUTE");
            assert_eq!(r.json()["parameters"], json!(["type"]));
            b.insert("type".into(), Value::Null);
            req()
                .json(&Value::Object(b.clone()))
                .send()
                .await
                .error(400, "MISSING_ATTRIBUTE");
            b.insert("type".into(), json!(other.name));
            let r = req().json(&Value::Object(b.clone())).send().await;
            assert_eq!(r.status, 400);
            assert_eq!(r.json()["parameters"], json!(["type"]));
            b.insert("type".into(), json!(ty.name.to_lowercase()));
            assert_eq!(req().json(&Value::Object(b)).send().await.status, 400);

            // Content-Type
            for ct in [
                None,
                Some("text/plain"),
                Some("application/x-www-form-urlencoded"),
                Some("application/vnd.atlas.2020-01-01+json"),
                Some("json"),
            ] {
                let mut r = req().no_header("content-type");
                if let Some(ct) = ct {
                    r = r.header("content-type", ct);
                }
                let r = r.json(&good).send().await;
                assert_eq!(r.status, 415, "{ct:?}: {}", r.text);
                assert!(!r.code().is_empty());
                assert_eq!(r.content_type(), "application/json");
            }
        }
        assert!(fam.stored().iter().all(|i| i.type_name != ty.name));
        // duplicate keys: the last wins; Content-Type parameters are fine
        t.srv.state.reset();
        let mut text = good.to_string();
        text.insert_str(1, "\"type\": \"NOPE\", ");
        let r = fam
            .req(Method::POST, &path)
            .header(
                "content-type",
                &format!("{}; charset=UTF-8", fam.v.media_type),
            )
            .body(text)
            .send()
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        // the versioned family reads either version's media type and application/json
        if fam.f.versioned() {
            let types: Vec<&str> = fam
                .f
                .versions
                .iter()
                .map(|v| v.media_type.as_str())
                .chain(fam.f.extra_request_content_types.iter().map(String::as_str))
                .collect();
            for ct in types {
                let r = fam
                    .req(Method::PUT, &path)
                    .header("content-type", ct)
                    .json(&good)
                    .send()
                    .await;
                assert_eq!(r.status, 200, "{ct}: {}", r.text);
            }
        }
        t.srv.state.reset();
    }
}

#[tokio::test]
async fn bodies_over_one_mib_are_413() {
    let t = T::new().await;
    for fam in t.all() {
        let ty = &fam.v.types[0];
        let mut body = valid_body(ty);
        body.insert("padding".into(), json!("x".repeat(1 << 20)));
        for method in [Method::POST, Method::PUT] {
            let r = fam
                .req(method, &fam.path(&ty.name))
                .json(&Value::Object(body.clone()))
                .send()
                .await;
            assert_eq!(r.status, 413, "{}", &r.text[..r.text.len().min(300)]);
            assert!(!r.code().is_empty());
        }
        // just under the limit is read (and refused for its unknown field)
        let mut body = valid_body(ty);
        body.insert("padding".into(), json!("x".repeat((1 << 20) - 2000)));
        let r = fam.create(&ty.name, &Value::Object(body)).await;
        r.error(400, "INVALID_ATTRIBUTE");
        assert!(r.text.len() < 2000, "the detail does not echo the input");
    }
    // the connection is still usable afterwards
    assert_eq!(t.fam("cloud-manager").list("").await.status, 200);
}
