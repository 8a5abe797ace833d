//! Versions.

use super::*;

#[tokio::test]
async fn atlas_v2_negotiates_versions() {
    let t = T::new().await;
    let f = t.model().families.iter().find(|f| f.versioned()).unwrap();
    let fam = t.on(f, &f.versions[0]);
    let (old, new) = (&f.versions[0].media_type, &f.versions[1].media_type);
    let accept = |a: Option<String>| {
        let mut r = t.req(Method::GET, &fam.list_path());
        if let Some(a) = a {
            r = r.header("accept", &a);
        }
        r.send()
    };
    for (a, want) in [
        (old.clone(), Some(old)),
        (new.clone(), Some(new)),
        (format!("{old}; charset=utf-8"), Some(old)),
        (old.to_uppercase(), Some(old)),
        (format!("{old}, {new}"), Some(old)),
        (format!("{old};q=0.5, {new}"), Some(new)),
        (format!("{new};q=0.2, {old};q=0.9"), Some(old)),
        (format!("application/json, {new}"), Some(new)),
        (format!("{new};q=0, {old};q=0.1"), Some(old)),
        (format!("*/*, {old};q=0.1"), Some(old)),
        (format!("{new};q=0"), None),
        ("application/json".to_owned(), None),
        ("*/*".to_owned(), None),
        ("application/*".to_owned(), None),
        ("application/vnd.atlas.2020-01-01+json".to_owned(), None),
        ("application/vnd.atlas.2024-01-01+json".to_owned(), None),
        ("garbage".to_owned(), None),
        (";;;,,,q=".to_owned(), None),
    ] {
        let r = accept(Some(a.clone())).await;
        match want {
            Some(m) => {
                assert_eq!(r.status, 200, "{a}: {}", r.text);
                assert_eq!(r.content_type(), m.as_str(), "{a}");
            }
            None => r.error(406, "INVALID_VERSION_DATE"),
        }
    }
    accept(None).await.error(406, "INVALID_VERSION_DATE");
    // families v1.0 answer application/json whatever Accept says
    for name in t
        .model()
        .families
        .iter()
        .filter(|f| !f.versioned())
        .map(|f| f.name.clone())
    {
        let fam = t.fam(&name);
        for a in ["application/xml", "*/*", old.as_str()] {
            let r = t
                .req(Method::GET, &fam.list_path())
                .header("accept", a)
                .send()
                .await;
            assert_eq!((r.status, r.content_type()), (200, "application/json"));
        }
    }
}

#[tokio::test]
async fn fields_of_one_version_are_neither_accepted_nor_returned_under_another() {
    let t = T::new().await;
    let f = t.model().families.iter().find(|f| f.versioned()).unwrap();
    let mut seen = 0;
    for v in &f.versions {
        for other in f.versions.iter().filter(|o| o.name != v.name) {
            for ty in &v.types {
                let Some(oty) = other.integration_type(&ty.name) else {
                    continue;
                };
                for extra in oty.fields.iter().filter(|x| ty.field(&x.name).is_none()) {
                    seen += 1;
                    t.srv.state.reset();
                    let fam = t.on(f, v);
                    let ofam = t.on(f, other);
                    // refused under v
                    let mut body = valid_body(ty);
                    body.insert(extra.name.clone(), value_for(extra));
                    fam.create(&ty.name, &Value::Object(body))
                        .await
                        .error(400, "INVALID_ATTRIBUTE");
                    // accepted under the other version, not returned under v
                    let mut obody = valid_body(oty);
                    obody.insert(extra.name.clone(), value_for(extra));
                    assert_eq!(
                        ofam.create(&ty.name, &Value::Object(obody)).await.status,
                        200
                    );
                    let r = fam.get(&ty.name).await;
                    assert!(r.json().get(&extra.name).is_none(), "{}", r.text);
                    assert!(fam.list("").await.results()[0].get(&extra.name).is_none());
                    assert!(ofam.get(&ty.name).await.json().get(&extra.name).is_some());
                }
            }
        }
    }
    assert!(seen >= 2, "the spec has version-only fields");
}
