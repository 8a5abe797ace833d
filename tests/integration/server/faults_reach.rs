//! Probes of the faults written where no fixed case looks (issue 20, `Reach::Explore`): each
//! returns what one or more responses show, so that `every_fault_changes_behaviour` can compare
//! the faithful server's answer with the faulty one's.

use super::*;

/// A plain string field: no enum, pattern, format, length rule or secret.
fn plain(f: &Field) -> bool {
    f.kind == FieldKind::String
        && f.enum_values.is_empty()
        && f.pattern.is_none()
        && f.format.is_none()
        && f.max_length.is_none()
        && f.secret.is_none()
}

/// Creates `ty` with `field` set to `value`; the status and the body of the answer.
async fn create_with(fam: &Fam<'_>, ty: &IntegrationType, field: &str, value: Value) -> String {
    let mut b = valid_body(ty);
    b.insert(field.to_owned(), value);
    let r = fam.create(&ty.name, &Value::Object(b)).await;
    format!("{} {}", r.status, r.text)
}

/// Creates `ty` with `field` set to `value`, then gets it.
async fn stored_as(fam: &Fam<'_>, ty: &IntegrationType, field: &str, value: Value) -> String {
    create_with(fam, ty, field, value).await;
    fam.get(&ty.name).await.text
}

/// The status of a request to `path` of `fam` with `Accept: accept`.
async fn accepted(fam: &Fam<'_>, accept: &str) -> String {
    let r = fam
        .req(Method::GET, &fam.list_path())
        .header("accept", accept)
        .send()
        .await;
    r.status.to_string()
}

/// The status of a GET of `path`.
async fn status_of(fam: &Fam<'_>, path: &str) -> String {
    fam.req(Method::GET, path).send().await.status.to_string()
}

/// Two types configured, the first deleted, then a list with `query`.
async fn list_after_delete(fam: &Fam<'_>, query: &str) -> Resp {
    fam.configure(&fam.v.types[0]).await;
    fam.configure(&fam.v.types[1]).await;
    fam.delete(&fam.v.types[0].name).await;
    fam.list(query).await
}

/// A write of `ty` with a valid body and `query`: its answer's body.
async fn write_with_query(fam: &Fam<'_>, ty: &IntegrationType, query: &str) -> String {
    fam.req(Method::POST, &format!("{}?{query}", fam.path(&ty.name)))
        .json(&Value::Object(valid_body(ty)))
        .send()
        .await
        .text
}

pub(super) async fn probe(t: &T, fault: Fault) -> String {
    use Fault::*;
    let cm = t.fam("cloud-manager");
    let v1 = t.fam("atlas-v1");
    let v2 = t.fam("atlas-v2");
    let first = &cm.v.types[0];
    let media = v2.v.media_type.clone();
    match fault {
        TrailingSlashServed => status_of(&cm, &format!("{}/", cm.list_path())).await,
        DoubleSlashCollapsed => {
            let p = format!("{}//groups/{}/integrations", cm.f.base_path, cm.group);
            status_of(&cm, &p).await
        }
        PercentEncodedTypeRefused => {
            let encoded = format!("%{:02X}{}", first.name.as_bytes()[0], &first.name[1..]);
            status_of(&cm, &cm.path(&encoded)).await
        }
        PathTypeCaseInsensitive => status_of(&cm, &cm.path(&first.name.to_lowercase())).await,
        GroupIdTrimmed => {
            let p = format!("{}/groups/%20{}/integrations", cm.f.base_path, cm.group);
            status_of(&cm, &p).await
        }
        AcceptFirstItemOnly | AcceptItemsUntrimmed => {
            accepted(&v2, &format!("application/json, {media}")).await
        }
        AcceptQZeroAccepted => accepted(&v2, &format!("{media};q=0")).await,
        AcceptParametersRefused => accepted(&v2, &format!("{media}; charset=utf-8")).await,
        AcceptTypeCaseSensitive => accepted(&v2, &media.to_uppercase()).await,
        AcceptSubtypeWildcardServed => accepted(&v2, "application/*").await,
        PageParamsValidatedOnGet => {
            cm.configure(first).await;
            status_of(&cm, &format!("{}?pageNum=abc", cm.path(&first.name))).await
        }
        IncludeCountHonouredOnCm => {
            cm.configure(first).await;
            cm.list("includeCount=false").await.text
        }
        IncludeCountIgnoredOnWrites => {
            write_with_query(&v1, &v1.v.types[0], "includeCount=false").await
        }
        PageParamsIgnoredOnWrites => {
            cm.configure(first).await;
            write_with_query(&cm, &cm.v.types[1], "pageNum=2&itemsPerPage=1").await
        }
        EnvelopeNeedsPrettyOnWrites => write_with_query(&cm, first, "envelope=true").await,
        PrettyIgnoredOnDeleteErrors => {
            let p = format!("{}?pretty=true", cm.path(&first.name));
            cm.req(Method::DELETE, &p).send().await.text
        }
        LongSecretInClear | LongSecretMaskCapped => {
            let (ty, f) = pick(cm.f, |_, f| f.secret == Some(SecretKind::MaskLast4));
            let long = format!("{MARK}{}", "x".repeat(200));
            stored_as(&cm, ty, &f.name, json!(long)).await
        }
        LongStringTruncated => {
            let (ty, f) = pick(cm.f, |_, f| plain(f));
            stored_as(&cm, ty, &f.name, json!("y".repeat(200))).await
        }
        StringValuesTrimmed => {
            let (ty, f) = pick(cm.f, |_, f| plain(f));
            stored_as(&cm, ty, &f.name, json!(" padded ")).await
        }
        BlankRequiredRefused => {
            let (ty, f) = pick(cm.f, |_, f| plain(f) && f.required);
            create_with(&cm, ty, &f.name, json!("   ")).await
        }
        LengthCountsUtf16 => {
            let (ty, f) = pick(v2.f, |_, f| f.max_length.is_some_and(|m| m >= 50));
            create_with(&v2, ty, &f.name, json!("\u{1F600}".repeat(50))).await
        }
        EnumValueTrimmed | EnumCaseInsensitive => {
            let (ty, f) = pick(cm.f, |_, f| !f.enum_values.is_empty());
            let m = &f.enum_values[0];
            let odd = if fault == EnumValueTrimmed {
                format!(" {m}")
            } else if *m == m.to_lowercase() {
                m.to_uppercase()
            } else {
                m.to_lowercase()
            };
            create_with(&cm, ty, &f.name, json!(odd)).await
        }
        FieldNamesCaseInsensitive => {
            let mut b = valid_body(first);
            let v = b.remove("type").unwrap_or_default();
            b.insert("Type".into(), v);
            cm.create(&first.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        TypeValueTrimmed => {
            create_with(&cm, first, "type", json!(format!("{} ", first.name))).await
        }
        TypeValueCaseInsensitive => {
            create_with(&cm, first, "type", json!(first.name.to_lowercase())).await
        }
        BooleanStringsAccepted => {
            let (ty, f) = pick(cm.f, |_, f| f.kind == FieldKind::Boolean);
            create_with(&cm, ty, &f.name, json!("true")).await
        }
        ListStaleAfterDelete => format!("{:?}", list_after_delete(&cm, "").await.result_types()),
        TotalCountNotDecremented => {
            list_after_delete(&cm, "").await.json()["totalCount"].to_string()
        }
        NextLinkAfterDelete => format!(
            "{:?}",
            list_after_delete(&cm, "itemsPerPage=1").await.rels()
        ),
        DeleteThenCreate409 => {
            cm.configure(first).await;
            cm.delete(&first.name).await;
            cm.create(&first.name, &Value::Object(valid_body(first)))
                .await
                .status
                .to_string()
        }
        GetFallsBackToOtherProject => v1.get(&v1.v.types[0].name).await.status.to_string(),
        ListShowsOtherProject => format!("{:?}", v1.list("").await.result_types()),
        _ => unreachable!("{fault} is probed in faults.rs"),
    }
}
