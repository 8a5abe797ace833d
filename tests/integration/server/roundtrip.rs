//! Round trips and redaction.

use super::*;

#[tokio::test]
async fn every_type_round_trips_with_secrets_masked_in_every_view() {
    let t = T::new().await;
    for fam in t.all() {
        for ty in &fam.v.types {
            t.srv.state.reset();
            let what = |view: &str| format!("{} {} {view}", fam.label(), ty.name);
            let sent = Value::Object(valid_body(ty));
            let r = fam.create(&ty.name, &sent).await;
            assert_eq!(r.status, 200, "{}: {}", what("create"), r.text);
            assert_eq!(r.content_type(), fam.v.media_type);
            assert!(!r.text.contains('\n'), "compact by default");
            assert_view(ty, &sent, find(&r.results(), &ty.name), &what("create"));
            let id = find(&r.results(), &ty.name).get("id").cloned();

            let r = fam.get(&ty.name).await;
            assert_eq!(r.status, 200, "{}", r.text);
            assert_eq!(r.content_type(), fam.v.media_type);
            assert_view(ty, &sent, &r.json(), &what("get"));

            let r = fam
                .req(Method::GET, &format!("{}?pretty=true", fam.path(&ty.name)))
                .send()
                .await;
            assert!(r.text.contains('\n'), "{}", r.text);
            assert_view(ty, &sent, &r.json(), &what("get pretty"));

            let r = fam
                .req(
                    Method::GET,
                    &format!("{}?envelope=true", fam.path(&ty.name)),
                )
                .send()
                .await;
            assert_eq!(r.status, 200);
            let body = r.json();
            assert_eq!(body["status"], 200);
            assert_view(ty, &sent, &body["content"], &what("get envelope"));

            let r = fam.list("").await;
            assert_view(ty, &sent, find(&r.results(), &ty.name), &what("list"));

            let r = fam.list("envelope=true&pretty=true").await;
            assert!(r.text.contains('\n'));
            assert_eq!(r.json()["status"], 200);
            assert_view(
                ty,
                &sent,
                find(&r.results(), &ty.name),
                &what("list envelope pretty"),
            );

            let r = fam.update(&ty.name, &sent).await;
            assert_eq!(r.status, 200, "{}: {}", what("update"), r.text);
            let results = r.results();
            let shown = find(&results, &ty.name);
            assert_view(ty, &sent, shown, &what("update"));
            assert_eq!(
                shown.get("id").cloned(),
                id,
                "the id is kept across updates"
            );

            let r = fam
                .req(
                    Method::PUT,
                    &format!("{}?envelope=true", fam.path(&ty.name)),
                )
                .json(&sent)
                .send()
                .await;
            assert_view(
                ty,
                &sent,
                find(&r.results(), &ty.name),
                &what("update envelope"),
            );

            // the stored value is the value sent, unmasked
            let stored = fam.stored();
            let rec = stored.iter().find(|i| i.type_name == ty.name).unwrap();
            for f in ty.secret_fields() {
                assert_eq!(
                    rec.fields.get(&f.name),
                    sent.get(&f.name),
                    "{}",
                    what("stored")
                );
            }

            let r = fam.delete(&ty.name).await;
            assert_eq!(r.status, 204, "{}", r.text);
            assert!(r.text.is_empty());
            if fam.f.versioned() {
                assert_eq!(r.content_type(), fam.v.media_type);
            }
            let r = fam
                .req(
                    Method::DELETE,
                    &format!("{}?envelope=true", fam.path(&ty.name)),
                )
                .send()
                .await;
            assert_eq!(r.status, 404);
            assert_eq!(r.json()["status"], 404);
            assert_eq!(
                r.json()["content"]["errorCode"],
                "INTEGRATION_NOT_CONFIGURED"
            );
            fam.get(&ty.name)
                .await
                .error(404, "INTEGRATION_NOT_CONFIGURED");
        }
    }
}

#[tokio::test]
async fn a_masked_value_sent_back_is_a_new_value() {
    let t = T::new().await;
    let fam = t.fam("cloud-manager");
    let (ty, f) = type_with(fam.v, |f| f.secret == Some(SecretKind::MaskLast4)).unwrap();
    let mut body = valid_body(ty);
    fam.create(&ty.name, &Value::Object(body.clone())).await;
    let masked = fam.get(&ty.name).await.json()[&f.name].clone();
    body.insert(f.name.clone(), masked.clone());
    assert_eq!(fam.update(&ty.name, &Value::Object(body)).await.status, 200);
    let stored = fam.stored();
    assert_eq!(stored[0].fields[&f.name], masked);
}
