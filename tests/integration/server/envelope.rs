//! Envelope and pretty.

use super::*;

#[tokio::test]
async fn envelope_and_pretty_on_every_kind_of_response() {
    let t = T::new().await;
    for fam in t.all() {
        t.srv.state.reset();
        let ty = &fam.v.types[0];
        // error in an envelope: same HTTP status, the error body as content
        let r = fam
            .req(
                Method::GET,
                &format!("{}?envelope=true", fam.path(&ty.name)),
            )
            .send()
            .await;
        assert_eq!(r.status, 404);
        assert_eq!(r.content_type(), "application/json");
        let body = r.json();
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["status", "content"]);
        assert_eq!(body["status"], 404);
        assert_eq!(body["content"]["errorCode"], "INTEGRATION_NOT_CONFIGURED");
        assert_eq!(body["content"]["error"], 404);
        // errors before the query is validated are wrapped too
        let r = fam
            .req(
                Method::GET,
                &format!("{}?envelope=true", fam.path(&ty.name)),
            )
            .who(Who::Anonymous)
            .send()
            .await;
        assert_eq!((r.status, r.json()["status"].clone()), (401, json!(401)));
        // an invalid envelope value is itself an error, not wrapped
        let r = fam
            .req(
                Method::GET,
                &format!("{}?envelope=TRUE", fam.path(&ty.name)),
            )
            .send()
            .await;
        r.error(400, "INVALID_QUERY_PARAMETER");
        // pretty errors
        let r = fam
            .req(Method::GET, &format!("{}?pretty=true", fam.path(&ty.name)))
            .send()
            .await;
        assert!(r.text.contains("\n  "), "{}", r.text);
        r.error(404, "INTEGRATION_NOT_CONFIGURED");
        let r = fam.get(&ty.name).await;
        assert!(!r.text.contains('\n'));
        // 201? no: create is 200, and its envelope says so
        let r = fam
            .req(
                Method::POST,
                &format!("{}?envelope=true&pretty=true", fam.path(&ty.name)),
            )
            .json(&Value::Object(valid_body(ty)))
            .send()
            .await;
        assert_eq!(r.status, 200);
        let body = r.json();
        assert_eq!(body["status"], 200);
        assert_eq!(body["totalCount"], 1);
        assert!(r.text.lines().count() > 5);
        // pretty false explicitly
        let r = fam.list("pretty=false&envelope=false").await;
        assert!(!r.text.contains('\n'));
        assert!(r.json().get("status").is_none());
        // 204 stays empty
        let r = fam
            .req(
                Method::DELETE,
                &format!("{}?envelope=true&pretty=true", fam.path(&ty.name)),
            )
            .send()
            .await;
        assert_eq!(r.status, 204);
        assert!(r.text.is_empty());
    }
}
