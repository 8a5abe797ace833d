//! Lists, pages, query parameters.

use super::*;

#[tokio::test]
async fn lists_follow_the_family_order_and_paginate() {
    let t = T::new().await;
    for fam in t.all() {
        t.srv.state.reset();
        // create in reverse order; lists come back in the family's order
        for ty in fam.v.types.iter().rev() {
            fam.configure(ty).await;
        }
        let n = fam.v.types.len();
        let order: Vec<String> = fam
            .f
            .list_order
            .iter()
            .filter(|o| fam.v.integration_type(o).is_some())
            .cloned()
            .collect();
        let r = fam.list("").await;
        assert_eq!(r.result_types(), order, "{}", fam.label());
        let body = r.json();
        assert_eq!(body["totalCount"], n);
        assert_eq!(r.rels(), ["self"]);
        let link = r.link("self").unwrap();
        assert_eq!(link.path(), fam.list_path());
        let mut want = vec![("pageNum", "1"), ("itemsPerPage", "100")];
        let has_ic = fam.f.link_query.iter().any(|q| q == "includeCount");
        if has_ic {
            want.push(("includeCount", "true"));
        }
        assert_eq!(query_of(&link), pairs(&want));
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["links", "results", "totalCount"]);

        // itemsPerPage=1, every page
        for page in 1..=n + 1 {
            let r = fam.list(&format!("itemsPerPage=1&pageNum={page}")).await;
            assert_eq!(r.status, 200);
            let body = r.json();
            assert_eq!(body["totalCount"], n);
            if page <= n {
                assert_eq!(r.result_types(), [order[page - 1].clone()]);
            } else {
                assert!(r.results().is_empty(), "past the end");
            }
            let mut rels = vec!["self".to_owned()];
            if page > 1 {
                rels.push("previous".into());
            }
            if page < n {
                rels.push("next".into());
            }
            assert_eq!(r.rels(), rels, "page {page}");
            let me = r.link("self").unwrap();
            for (rel, p) in [("previous", page.wrapping_sub(1)), ("next", page + 1)] {
                if let Some(l) = r.link(rel) {
                    assert_eq!(l.path(), me.path());
                    let mut q = query_of(&me);
                    for kv in q.iter_mut() {
                        if kv.0 == "pageNum" {
                            kv.1 = p.to_string();
                        }
                    }
                    assert_eq!(query_of(&l), q, "{rel}");
                }
            }
        }
        // 500 per page; a page far past the end; pageNum without an upper bound
        let r = fam.list("itemsPerPage=500").await;
        assert_eq!(r.results().len(), n);
        for big in [
            "1000",
            "9223372036854775807",
            "18446744073709551616",
            "123456789012345678901234567890",
        ] {
            let r = fam.list(&format!("pageNum={big}")).await;
            assert_eq!(r.status, 200, "{}", r.text);
            assert!(r.results().is_empty());
            assert_eq!(r.rels(), ["self", "previous"]);
            let q = query_of(&r.link("self").unwrap());
            assert!(q.contains(&("pageNum".into(), big.into())), "{q:?}");
        }
        // includeCount=false: no totalCount where honoured, the next link still computed
        let r = fam.list("includeCount=false&itemsPerPage=2").await;
        let body = r.json();
        if fam.f.include_count_honoured {
            assert!(body.get("totalCount").is_none(), "{body}");
        } else {
            assert_eq!(body["totalCount"], n);
        }
        assert_eq!(r.rels(), ["self", "next"]);
        if has_ic {
            assert!(query_of(&r.link("next").unwrap())
                .contains(&("includeCount".into(), "false".into())));
        }
        // create and update answer the same page
        let ty = &fam.v.types[0];
        t.srv.state.reset();
        let r = fam
            .req(
                Method::POST,
                &format!("{}?itemsPerPage=1&pageNum=1", fam.path(&ty.name)),
            )
            .json(&Value::Object(valid_body(ty)))
            .send()
            .await;
        assert_eq!(r.json()["totalCount"], 1);
        assert_eq!(r.link("self").unwrap().path(), fam.path(&ty.name));
    }
}

#[tokio::test]
async fn query_parameters_are_validated_per_operation() {
    let t = T::new().await;
    for fam in t.all() {
        let ty = &fam.v.types[0];
        t.srv.state.reset();
        fam.configure(ty).await;
        let list = |q: &'static str| fam.list(q);
        for bad in [
            "pageNum=0",
            "pageNum=-1",
            "pageNum=1.0",
            "pageNum=abc",
            "pageNum=",
            "itemsPerPage=0",
            "itemsPerPage=501",
            "itemsPerPage=x",
            "pretty=TRUE",
            "pretty=1",
            "envelope=yes",
            "envelope=",
        ] {
            let r = list(bad).await;
            r.error(400, "INVALID_QUERY_PARAMETER");
        }
        let ic = list("includeCount=False").await;
        if fam
            .f
            .operation(OperationKind::List)
            .query_param("includeCount")
            .is_some()
        {
            ic.error(400, "INVALID_QUERY_PARAMETER");
        } else {
            assert_eq!(ic.status, 200, "cloud-manager ignores includeCount");
        }
        // repeated: the first wins; unknown ones are ignored
        let r = list("pageNum=2&pageNum=x&unknown=zzz&itemsPerPage=1&itemsPerPage=0").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.results().is_empty());
        assert!(list("pageNum=x&pageNum=1").await.status == 400);
        // get and delete ignore page parameters, even invalid ones, but not pretty/envelope
        let page_junk = "pageNum=0&itemsPerPage=9999&includeCount=maybe";
        let r = fam
            .req(Method::GET, &format!("{}?{page_junk}", fam.path(&ty.name)))
            .send()
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        for bad in ["pretty=yes", "envelope=1"] {
            fam.req(Method::GET, &format!("{}?{bad}", fam.path(&ty.name)))
                .send()
                .await
                .error(400, "INVALID_QUERY_PARAMETER");
            fam.req(Method::DELETE, &format!("{}?{bad}", fam.path(&ty.name)))
                .send()
                .await
                .error(400, "INVALID_QUERY_PARAMETER");
        }
        let r = fam
            .req(
                Method::DELETE,
                &format!("{}?{page_junk}", fam.path(&ty.name)),
            )
            .send()
            .await;
        assert_eq!(r.status, 204);
        // create and update validate page parameters, before the body
        let r = fam
            .req(
                Method::POST,
                &format!("{}?itemsPerPage=0", fam.path(&ty.name)),
            )
            .body("{")
            .send()
            .await;
        r.error(400, "INVALID_QUERY_PARAMETER");
    }
}
