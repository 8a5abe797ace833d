//! State.

use super::*;

#[tokio::test]
async fn updates_merge_or_replace_per_family() {
    let t = T::new().await;
    for fam in t.all() {
        let rule = fam.f.operation(OperationKind::Update).update.unwrap();
        // a type with an optional field without default, to see whether it survives
        let Some((ty, opt)) = fam.v.types.iter().find_map(|ty| {
            ty.fields
                .iter()
                .find(|f| {
                    f.settable()
                        && !f.required
                        && f.default.is_none()
                        && f.secret != Some(SecretKind::WriteOnly)
                })
                .map(|f| (ty, f))
        }) else {
            continue;
        };
        t.srv.state.reset();
        let full = Value::Object(valid_body(ty));
        let r = fam.create(&ty.name, &full).await;
        let id = find(&r.results(), &ty.name).get("id").cloned();
        let min = Value::Object(minimal_body(ty));
        let r = fam.update(&ty.name, &min).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let shown = find(&r.results(), &ty.name).clone();
        if rule.merge {
            assert_eq!(
                shown.get(&opt.name),
                full.get(&opt.name),
                "{} merges",
                fam.label()
            );
        } else {
            assert!(
                shown.get(&opt.name).is_none(),
                "{} replaces: {shown}",
                fam.label()
            );
        }
        assert_eq!(shown.get("id").cloned(), id);
        // upsert or 404
        t.srv.state.reset();
        let r = fam.update(&ty.name, &min).await;
        if rule.upsert {
            assert_eq!(r.status, 200);
            assert_eq!(r.result_types(), std::slice::from_ref(&ty.name));
        } else {
            r.error(404, "INTEGRATION_NOT_CONFIGURED");
            assert!(fam.stored().is_empty());
        }
    }
}

#[tokio::test]
async fn atlas_families_share_one_project_and_one_integration_per_type() {
    let t = T::new().await;
    let atlas: Vec<&Family> = t
        .model()
        .families
        .iter()
        .filter(|f| f.project_kind == ProjectKind::Atlas)
        .collect();
    assert!(atlas.len() >= 2);
    let (a, b) = (
        t.on(atlas[0], &atlas[0].versions[0]),
        t.on(atlas[1], &atlas[1].versions[0]),
    );
    let common =
        a.v.types
            .iter()
            .find(|ty| b.v.integration_type(&ty.name).is_some())
            .unwrap();
    a.configure(common).await;
    let r = b
        .create(
            &common.name,
            &Value::Object(valid_body(b.v.integration_type(&common.name).unwrap())),
        )
        .await;
    r.error(409, "INTEGRATION_ALREADY_CONFIGURED");
    assert_eq!(b.get(&common.name).await.status, 200);
    // a type only one family has is not shown by the other
    if let Some(only_a) =
        a.v.types
            .iter()
            .find(|ty| b.v.integration_type(&ty.name).is_none())
    {
        a.configure(only_a).await;
        assert!(!b.list("").await.result_types().contains(&only_a.name));
        assert!(a.list("").await.result_types().contains(&only_a.name));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_type_one_wins() {
    let t = std::sync::Arc::new(T::new().await);
    let family = t.model().families[0].name.clone();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let t = t.clone();
        let family = family.clone();
        set.spawn(async move {
            let fam = t.fam(&family);
            let ty = &fam.v.types[0];
            fam.create(&ty.name, &Value::Object(valid_body(ty)))
                .await
                .status
        });
    }
    let mut statuses = Vec::new();
    while let Some(s) = set.join_next().await {
        statuses.push(s.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [200, 409, 409, 409, 409, 409, 409, 409]);
    assert_eq!(t.fam(&family).stored().len(), 1);
}
