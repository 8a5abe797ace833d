//! The error catalogue and the check order.

use super::*;

#[tokio::test]
async fn error_rows() {
    let t = T::new().await;
    let c = t.srv.credentials.clone();
    for fam in t.all() {
        let ty = &fam.v.types[0];
        let body = Value::Object(valid_body(ty));
        let paths = |group: &str| -> Vec<(Method, String, bool)> {
            let base = format!("{}/groups/{group}/integrations", fam.f.base_path);
            vec![
                (Method::GET, base.clone(), false),
                (Method::GET, format!("{base}/{}", ty.name), false),
                (Method::POST, format!("{base}/{}", ty.name), true),
                (Method::PUT, format!("{base}/{}", ty.name), true),
                (Method::DELETE, format!("{base}/{}", ty.name), false),
            ]
        };
        let send = |m: Method, p: String, with_body: bool, who: Who| {
            let mut r = fam.req(m, &p).who(who);
            if with_body {
                r = r.json(&body);
            }
            r.send()
        };
        let wrong_kind = if fam.f.project_kind == ProjectKind::Atlas {
            (c.cm_group_id.clone(), "NOT_ATLAS_GROUP")
        } else {
            (c.atlas_group_id.clone(), "ATLAS_GROUP")
        };
        let before_atlas = t.stored(&c.atlas_group_id);
        let before_other = t.stored(&c.other_group_id);
        for (i, (m, p, b)) in paths(&fam.group).into_iter().enumerate() {
            // no credentials, and credentials the server does not know
            for who in [
                Who::Anonymous,
                Who::Raw("Bearer nope".into()),
                Who::Raw("Basic Zm9vOmJhcg==".into()),
                Who::Raw("Digest username=\"x\"".into()),
            ] {
                let r = send(m.clone(), p.clone(), b, who).await;
                assert_eq!(r.status, 401, "{m} {p}: {}", r.text);
                let challenges: Vec<&str> = r
                    .headers
                    .get_all("www-authenticate")
                    .iter()
                    .map(|v| v.to_str().unwrap())
                    .collect();
                assert!(
                    challenges
                        .iter()
                        .any(|c| c.starts_with("Digest ") && c.contains("qop=\"auth\"")),
                    "{challenges:?}"
                );
                assert!(!r.code().is_empty());
            }
            // groupId format, existence, access, kind
            for bad in [
                "5D791C84FF7A2522CC4F9AA1",
                "5d791c84ff7a2522cc4f9aa",
                "5d791c84ff7a2522cc4f9aa1a",
                "not-a-group",
                "5d791c84ff7a2522cc4f9aaz",
            ] {
                let (m2, p2, b2) = paths(bad).swap_remove(i);
                send(m2, p2, b2, Who::Owner)
                    .await
                    .error(404, "INVALID_GROUP_ID");
            }
            let (m2, p2, b2) = paths("0123456789abcdef01234567").swap_remove(i);
            send(m2, p2, b2, Who::Owner)
                .await
                .error(404, "GROUP_NOT_FOUND");
            for who in [Who::Owner, Who::ReadOnly, Who::OAuth] {
                let (m2, p2, b2) = paths(&c.other_group_id).swap_remove(i);
                send(m2, p2, b2, who).await.error(401, "NOT_IN_GROUP");
            }
            let (m2, p2, b2) = paths(&wrong_kind.0).swap_remove(i);
            send(m2, p2, b2, Who::Owner).await.error(404, wrong_kind.1);
            // read-only writes
            if m != Method::GET {
                send(m.clone(), p.clone(), b, Who::ReadOnly)
                    .await
                    .error(401, "USER_UNAUTHORIZED");
            }
        }
        // integrationType: outside the enum on every typed operation; unsupported types get
        // their own code on every operation
        for (m, p, b) in paths(&fam.group).into_iter().skip(1) {
            for bad in ["NOT_A_TYPE", "slack", "pager_duty"] {
                let p = p.replace(&ty.name, bad);
                let r = send(m.clone(), p, b, Who::Owner).await;
                assert_eq!(
                    (r.status, r.code()),
                    (400, "INVALID_ENUM_VALUE".to_owned()),
                    "{m} {bad}"
                );
            }
            for unsupported in &fam.f.unsupported_types {
                let p = p.replace(&ty.name, unsupported);
                let r = send(m.clone(), p, b, Who::Owner).await;
                let want = fam
                    .f
                    .operation(OperationKind::Get)
                    .errors_for(Situation::UnsupportedType)
                    .find(|e| e.integration_type.as_deref() == Some(unsupported))
                    .unwrap();
                r.error(want.status, want.error_code.as_deref().unwrap());
            }
        }
        // not configured, already configured
        t.srv.state.reset();
        fam.get(&ty.name)
            .await
            .error(404, "INTEGRATION_NOT_CONFIGURED");
        fam.delete(&ty.name)
            .await
            .error(404, "INTEGRATION_NOT_CONFIGURED");
        let upsert = fam
            .f
            .operation(OperationKind::Update)
            .update
            .unwrap()
            .upsert;
        if upsert {
            assert_eq!(fam.update(&ty.name, &body).await.status, 200);
        } else {
            fam.update(&ty.name, &body)
                .await
                .error(404, "INTEGRATION_NOT_CONFIGURED");
            assert!(fam.stored().is_empty());
            fam.configure(ty).await;
        }
        let before = fam.stored();
        fam.create(&ty.name, &body)
            .await
            .error(409, "INTEGRATION_ALREADY_CONFIGURED");
        assert_eq!(fam.stored(), before);
        t.srv.state.reset();
        assert_eq!(t.stored(&c.other_group_id), before_other);
        let _ = &before_atlas;
    }
}

#[tokio::test]
async fn check_order_when_several_problems_meet() {
    let t = T::new().await;
    let c = t.srv.credentials.clone();
    let v2 = t.fam("atlas-v2");
    let ty = &v2.v.types[0];
    // no credentials and a bad Accept: 401 first
    let r = t
        .req(Method::GET, &v2.list_path())
        .who(Who::Anonymous)
        .header("accept", "application/json")
        .send()
        .await;
    assert_eq!(r.status, 401);
    // bad Accept and a bad group id: 406
    let r = t
        .req(Method::GET, "/api/atlas/v2/groups/bad/integrations")
        .header("accept", "application/json")
        .send()
        .await;
    r.error(406, "INVALID_VERSION_DATE");
    // bad group id and no access (unknown group): INVALID_GROUP_ID
    v2.req(Method::GET, "/api/atlas/v2/groups/bad/integrations/NOPE")
        .send()
        .await
        .error(404, "INVALID_GROUP_ID");
    // no access beats the project kind: the other project is an Atlas project, and through
    // the Cloud Manager path the caller still learns nothing about it
    let cm = t.fam("cloud-manager");
    let r = cm
        .req(
            Method::GET,
            &format!(
                "/api/public/v1.0/groups/{}/integrations/NOPE",
                c.other_group_id
            ),
        )
        .send()
        .await;
    r.error(401, "NOT_IN_GROUP");
    // kind beats the type
    cm.req(
        Method::GET,
        &format!(
            "/api/public/v1.0/groups/{}/integrations/NOPE",
            c.atlas_group_id
        ),
    )
    .send()
    .await
    .error(404, "ATLAS_GROUP");
    // type beats the role
    v2.req(Method::POST, &v2.path("NOPE"))
        .who(Who::ReadOnly)
        .json(&json!({}))
        .send()
        .await
        .error(400, "INVALID_ENUM_VALUE");
    // role beats the query
    let r = v2
        .req(Method::POST, &format!("{}?pageNum=0", v2.path(&ty.name)))
        .who(Who::ReadOnly)
        .json(&json!({}))
        .send()
        .await;
    r.error(401, "USER_UNAUTHORIZED");
    // query beats Content-Type
    let r = v2
        .req(Method::POST, &format!("{}?pageNum=0", v2.path(&ty.name)))
        .header("content-type", "text/plain")
        .body("{")
        .send()
        .await;
    r.error(400, "INVALID_QUERY_PARAMETER");
    // Content-Type beats the body
    let r = v2
        .req(Method::POST, &v2.path(&ty.name))
        .header("content-type", "text/plain")
        .body("{")
        .send()
        .await;
    assert_eq!(r.status, 415);
    // body syntax beats everything in the body; the type beats unknown fields, unknown fields
    // beat JSON types, which beat missing fields, which beat enums, which beat rules
    let mut body = Map::new();
    body.insert("type".into(), json!("OTHER"));
    body.insert("zzz".into(), json!(1));
    let r = v2.create(&ty.name, &Value::Object(body.clone())).await;
    assert_eq!(r.json()["parameters"], json!(["type"]));
    body.insert("type".into(), json!(ty.name));
    v2.create(&ty.name, &Value::Object(body))
        .await
        .error(400, "INVALID_ATTRIBUTE");
    // the body beats the state: a bad body for a configured type is 400, not 409
    v2.configure(ty).await;
    v2.create(&ty.name, &json!({"type": ty.name}))
        .await
        .error(400, "MISSING_ATTRIBUTE");
    // a valid body for a configured type: 409
    v2.create(&ty.name, &Value::Object(valid_body(ty)))
        .await
        .error(409, "INTEGRATION_ALREADY_CONFIGURED");
}
