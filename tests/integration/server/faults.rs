//! Faults: each one changes behaviour.

use super::*;

/// Configures a type with a secret of `kind`, then gets it.
async fn secret_get(fam: &Fam<'_>, kind: SecretKind, query: &str) -> String {
    let (ty, _) = pick(fam.f, |_, f| f.secret == Some(kind));
    fam.configure(ty).await;
    fam.req(Method::GET, &format!("{}{query}", fam.path(&ty.name)))
        .send()
        .await
        .text
}

async fn two(fam: &Fam<'_>) {
    fam.configure(&fam.v.types[0]).await;
    fam.configure(&fam.v.types[1]).await;
}

/// What a probe observes: a few facts about one or more responses.
async fn probe(t: &T, fault: Fault) -> String {
    use Fault::*;
    let cm = t.fam("cloud-manager");
    let v1 = t.fam("atlas-v1");
    let v2 = t.fam("atlas-v2");
    let first = &cm.v.types[0];
    match fault {
        SecretInClearOnGet | MaskKeepsFirstFour | MaskNotLengthPreserving => {
            secret_get(&cm, SecretKind::MaskLast4, "").await
        }
        PrettySkipsMasking => secret_get(&cm, SecretKind::MaskLast4, "?pretty=true").await,
        UrlSecretUnmasked => secret_get(&cm, SecretKind::MaskUrl, "").await,
        WriteOnlyReturned => secret_get(&cm, SecretKind::WriteOnly, "").await,
        SecretInClearInList => {
            let (ty, _) = pick(cm.f, |_, f| f.secret == Some(SecretKind::MaskLast4));
            cm.create(&ty.name, &Value::Object(valid_body(ty)))
                .await
                .text
        }
        SecretEchoedInError => {
            let (ty, _) = pick(cm.f, |_, f| f.secret == Some(SecretKind::MaskLast4));
            let mut b = valid_body(ty);
            b.insert("bogus".into(), json!(1));
            cm.create(&ty.name, &Value::Object(b)).await.text
        }
        TotalCountCountsPage | MissingNextLink => {
            two(&cm).await;
            cm.list("itemsPerPage=1").await.text
        }
        PreviousOnFirstPage
        | PageNumZeroBased
        | ListOrderAlphabetical
        | PrettyIgnored
        | EnvelopeIgnored => {
            for ty in &cm.v.types {
                cm.configure(ty).await;
            }
            cm.list("pretty=true&envelope=true").await.text
        }
        ItemsPerPageIgnored => {
            two(&cm).await;
            cm.list("itemsPerPage=1").await.results().len().to_string()
        }
        IncludeCountIgnored => v1.list("includeCount=false").await.text,
        PagePastEnd404 => cm.list("pageNum=3").await.status.to_string(),
        EnvelopeStatusAlways200 | EnvelopeMissingOnErrors | EnvelopeHttp200 => {
            let r = cm
                .req(
                    Method::GET,
                    &format!("{}?envelope=true", cm.path(&first.name)),
                )
                .send()
                .await;
            format!("{} {}", r.status, r.text)
        }
        MalformedJson500 => cm
            .req(Method::POST, &cm.path(&first.name))
            .body("{")
            .send()
            .await
            .status
            .to_string(),
        WrongErrorCodeMissingAttribute => cm
            .create(&first.name, &json!({"type": first.name}))
            .await
            .code(),
        GroupNotFoundAsInvalidGroupId => t
            .req(
                Method::GET,
                "/api/public/v1.0/groups/0123456789abcdef01234567/integrations",
            )
            .send()
            .await
            .code(),
        PlainTextNotFound => {
            let r = t.req(Method::GET, "/nope").send().await;
            format!("{} {}", r.content_type(), r.text)
        }
        MethodNotAllowed404 => t
            .req(Method::PATCH, &cm.list_path())
            .send()
            .await
            .status
            .to_string(),
        DeleteUnconfigured204 => cm.delete(&first.name).await.status.to_string(),
        CreateReturns201 => cm
            .create(&first.name, &Value::Object(valid_body(first)))
            .await
            .status
            .to_string(),
        ErrorReasonMissing | ErrorReasonOfAnotherStatus => cm.get(&first.name).await.text,
        UnsupportedTypeGenericCode => cm.get(&cm.f.unsupported_types[0]).await.code(),
        ReadOnlyCanWrite => cm
            .req(Method::POST, &cm.path(&first.name))
            .who(Who::ReadOnly)
            .json(&Value::Object(valid_body(first)))
            .send()
            .await
            .status
            .to_string(),
        OtherProjectReadable => {
            let p = format!(
                "{}/groups/{}/integrations",
                v1.f.base_path, t.srv.credentials.other_group_id
            );
            v1.req(Method::GET, &p).send().await.text
        }
        GetWithoutCredentials => cm
            .req(Method::GET, &cm.list_path())
            .who(Who::Anonymous)
            .send()
            .await
            .status
            .to_string(),
        TokenGrantTypeUnchecked => {
            let c = &t.srv.credentials;
            t.http
                .post(format!("{}{}", t.srv.base_url, t.model().token_path))
                .basic_auth(&c.oauth.client_id, Some(&c.oauth.client_secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=password")
                .send()
                .await
                .unwrap()
                .status()
                .to_string()
        }
        ExpiredTokenAccepted => {
            v2.req(Method::GET, &v2.list_path())
                .who(Who::OAuth)
                .send()
                .await;
            let c = &t.srv.credentials;
            let r = t
                .http
                .post(format!("{}{}", t.srv.base_url, t.model().token_path))
                .basic_auth(&c.oauth.client_id, Some(&c.oauth.client_secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials")
                .send()
                .await
                .unwrap();
            let j: Value = r.json().await.unwrap();
            t.srv.state.auth().expire_all_tokens();
            let bearer = format!("Bearer {}", j["access_token"].as_str().unwrap());
            v2.req(Method::GET, &v2.list_path())
                .who(Who::Raw(bearer))
                .send()
                .await
                .status
                .to_string()
        }
        WrongDigestPasswordAccepted | ChallengeWithoutQop => {
            let wrong = Authenticator::new(
                AuthSpec::Digest {
                    public: t.srv.credentials.owner.public.clone(),
                    private: "wrong".into(),
                },
                Url::parse(&t.srv.base_url).unwrap(),
            );
            let r = cm
                .req(Method::GET, &cm.list_path())
                .who(Who::Anonymous)
                .send()
                .await;
            let status = reqwest::StatusCode::from_u16(r.status).unwrap();
            let retry = wrong.learn(&Signed::default(), status, &r.headers).unwrap();
            let h = wrong
                .sign_retry(retry, &t.client, &Method::GET, &cm.list_path())
                .await
                .unwrap()
                .header
                .unwrap();
            let r = cm
                .req(Method::GET, &cm.list_path())
                .who(Who::Raw(h.to_str().unwrap().into()))
                .send()
                .await;
            // The status, and whether the refusal's digest challenge names qop="auth".
            let qop = r
                .headers
                .get_all("www-authenticate")
                .iter()
                .any(|v| v.to_str().unwrap_or("").contains("qop=\"auth\""));
            format!("{} {qop}", r.status)
        }
        DigestUriUnchecked => {
            cm.list("").await;
            let other = format!("{}/other", cm.list_path());
            let h = t
                .owner
                .header(&t.client, &Method::GET, &other)
                .await
                .unwrap()
                .unwrap();
            cm.req(Method::GET, &cm.list_path())
                .who(Who::Raw(h.to_str().unwrap().into()))
                .send()
                .await
                .status
                .to_string()
        }
        UpdateKeepsUrls | UpdateNotAtomic => {
            let (ty, f) = pick(cm.f, |_, f| f.format.as_deref() == Some("uri"));
            cm.configure(ty).await;
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), json!("https://hooks.example.com/changed"));
            let body = Value::Object(b);
            let update = cm.update(&ty.name, &body);
            let read = async {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                cm.get(&ty.name).await.text
            };
            let (_, seen) = tokio::join!(update, read);
            format!("{seen} {}", cm.get(&ty.name).await.text)
        }
        EnvelopeSkippedOnEarlyErrors => {
            let unknown = format!(
                "{}/groups/{}/integrations?envelope=true",
                cm.f.base_path,
                "f".repeat(24)
            );
            cm.req(Method::GET, &unknown).send().await.text
        }
        PageNumBoundedToI64 => cm
            .list("pageNum=9223372036854775808")
            .await
            .status
            .to_string(),
        SignedIntegersIgnored => cm.list("itemsPerPage=01").await.text,
        RepeatedParameterLastWins => cm.list("itemsPerPage=1&itemsPerPage=2").await.text,
        UnknownQueryParameterRefused => cm.list("notAParameter=1").await.status.to_string(),
        BooleansCaseInsensitive => cm.list("pretty=True").await.status.to_string(),
        TrailingBytesIgnored => cm
            .req(Method::POST, &cm.path(&first.name))
            .header("content-type", "application/json")
            .body(format!("{}x", Value::Object(valid_body(first))))
            .send()
            .await
            .status
            .to_string(),
        DigestNcReplayAccepted => {
            cm.list("").await;
            let h = t
                .owner
                .header(&t.client, &Method::GET, &cm.list_path())
                .await
                .unwrap()
                .unwrap();
            let h = h.to_str().unwrap().to_owned();
            let a = cm
                .req(Method::GET, &cm.list_path())
                .who(Who::Raw(h.clone()))
                .send()
                .await
                .status;
            let b = cm
                .req(Method::GET, &cm.list_path())
                .who(Who::Raw(h))
                .send()
                .await
                .status;
            format!("{a} {b}")
        }
        StaleFlagMissing => {
            cm.list("").await;
            let h = t
                .owner
                .header(&t.client, &Method::GET, &cm.list_path())
                .await
                .unwrap()
                .unwrap();
            t.srv.state.auth().expire_all_nonces();
            let r = cm
                .req(Method::GET, &cm.list_path())
                .who(Who::Raw(h.to_str().unwrap().into()))
                .send()
                .await;
            r.header("www-authenticate")
                .unwrap_or("")
                .contains("stale=true")
                .to_string()
        }
        AcceptHeaderIgnored => t
            .req(Method::GET, &v2.list_path())
            .header("accept", "application/json")
            .send()
            .await
            .status
            .to_string(),
        AcceptQValuesIgnored => {
            let (a, b) = (&v2.f.versions[0].media_type, &v2.f.versions[1].media_type);
            let r = t
                .req(Method::GET, &v2.list_path())
                .header("accept", &format!("{a};q=0.1, {b}"))
                .send()
                .await;
            r.content_type().to_owned()
        }
        ResponseMediaTypePlainJson => v2.list("").await.content_type().to_owned(),
        ErrorMediaTypeVersioned => v2.get(&v2.v.types[0].name).await.content_type().to_owned(),
        V2023FieldsIn2025 => {
            let f = v2.f;
            let (v, ty, extra) = f
                .versions
                .iter()
                .find_map(|v| {
                    f.versions
                        .iter()
                        .filter(|o| o.name != v.name)
                        .find_map(|o| {
                            v.types.iter().find_map(|ty| {
                                let oty = o.integration_type(&ty.name)?;
                                oty.fields
                                    .iter()
                                    .find(|x| ty.field(&x.name).is_none())
                                    .map(|x| (v, ty, x))
                            })
                        })
                })
                .unwrap();
            let fam = t.on(f, v);
            let mut b = valid_body(ty);
            b.insert(extra.name.clone(), value_for(extra));
            fam.create(&ty.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        UnknownFieldAccepted => {
            let mut b = valid_body(first);
            b.insert("bogus".into(), json!(1));
            cm.create(&first.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        RequiredNullAccepted => {
            let (ty, f) = pick(cm.f, |_, f| f.required);
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), Value::Null);
            cm.create(&ty.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        EnumUnchecked => {
            let (ty, f) = pick(cm.f, |_, f| !f.enum_values.is_empty());
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), json!("NOPE"));
            cm.create(&ty.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        PatternUnchecked => {
            let (ty, f) = pick(v2.f, |_, f| f.pattern.is_some() && f.format.is_none());
            let mut b = valid_body(ty);
            let good = value_for(f).as_str().unwrap().to_owned();
            let bad = break_pattern(
                &regex::Regex::new(f.pattern.as_ref().unwrap()).unwrap(),
                &good,
            )
            .unwrap();
            b.insert(f.name.clone(), json!(bad));
            v2.create(&ty.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        LengthUnchecked => {
            let (ty, f) = pick(v2.f, |_, f| f.max_length.is_some());
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), json!("a".repeat(f.max_length.unwrap() + 1)));
            v2.create(&ty.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        UrlUnchecked => {
            let (ty, f) = pick(cm.f, |_, f| f.format.as_deref() == Some("uri"));
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), json!("ftp://example.com/abcdef"));
            cm.create(&ty.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        ConditionalRequiredUnchecked => {
            let ty =
                cm.v.types
                    .iter()
                    .find(|t| !t.conditional_required.is_empty())
                    .unwrap();
            let c = &ty.conditional_required[0];
            let mut b = valid_body(ty);
            b.insert(c.when_field.clone(), c.equals.clone());
            for n in &c.then_required {
                b.remove(n);
            }
            cm.create(&ty.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        TypeMismatchAccepted => {
            let mut b = valid_body(first);
            let f = first.settable_fields().next().unwrap();
            b.insert(f.name.clone(), json!(12345));
            cm.create(&first.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        DefaultsNotReturned => {
            let (ty, _) = pick(cm.f, |_, f| f.default.is_some());
            cm.create(&ty.name, &Value::Object(minimal_body(ty))).await;
            cm.get(&ty.name).await.text
        }
        OptionalEmptyStringDropped => {
            let (ty, f) = pick(cm.f, |_, f| {
                !f.required
                    && f.kind == FieldKind::String
                    && f.enum_values.is_empty()
                    && f.secret.is_none()
                    && f.default.is_none()
            });
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), json!(""));
            cm.create(&ty.name, &Value::Object(b)).await;
            cm.get(&ty.name).await.text
        }
        DuplicateCreateOverwrites => {
            cm.configure(first).await;
            cm.create(&first.name, &Value::Object(valid_body(first)))
                .await
                .status
                .to_string()
        }
        UpdateMergeSemanticsSwapped => {
            let (ty, f) = pick(v1.f, |_, f| {
                !f.required && f.default.is_none() && f.secret.is_none()
            });
            v1.configure(ty).await;
            v1.update(&ty.name, &Value::Object(minimal_body(ty))).await;
            v1.get(&ty.name)
                .await
                .json()
                .get(&f.name)
                .is_some()
                .to_string()
        }
        FailedUpdatePartiallyApplied => {
            let (ty, f) = pick(cm.f, |_, f| !f.enum_values.is_empty());
            cm.configure(ty).await;
            let mut b = valid_body(ty);
            for s in ty.secret_fields().filter(|s| s.kind == FieldKind::String) {
                b.insert(s.name.clone(), json!(format!("{MARK}-changed-0000")));
            }
            b.insert(f.name.clone(), json!("NOPE"));
            let r = cm.update(&ty.name, &Value::Object(b)).await;
            let fields: Vec<_> = cm.stored().into_iter().map(|i| i.fields).collect();
            format!("{} {fields:?}", r.status)
        }
        V2UpdateUpserts => {
            let ty = &v2.v.types[0];
            v2.update(&ty.name, &Value::Object(valid_body(ty)))
                .await
                .status
                .to_string()
        }
        IdChangesOnUpdate => {
            let ty = &v2.v.types[0];
            let a = v2
                .create(&ty.name, &Value::Object(valid_body(ty)))
                .await
                .results()[0]["id"]
                .clone();
            let b = v2
                .update(&ty.name, &Value::Object(valid_body(ty)))
                .await
                .results()[0]["id"]
                .clone();
            (a == b).to_string()
        }
        AssignedIdInV1 => {
            cm.configure(first).await;
            cm.get(&first.name).await.text
        }
        DeleteKeepsIntegration => {
            cm.configure(first).await;
            cm.delete(&first.name).await;
            cm.get(&first.name).await.status.to_string()
        }
        MaskCountsBytes => {
            let (ty, f) = pick(cm.f, |_, f| f.secret == Some(SecretKind::MaskLast4));
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), json!(format!("pässwörd-{MARK}-ünïcode")));
            cm.create(&ty.name, &Value::Object(b)).await;
            cm.get(&ty.name).await.json()[&f.name].to_string()
        }
        UrlMaskSkipsSlash => {
            let (ty, f) = pick(cm.f, |_, f| f.secret == Some(SecretKind::MaskUrl));
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), json!("https://hooks.example.com/abcd"));
            cm.create(&ty.name, &Value::Object(b)).await;
            cm.get(&ty.name).await.json()[&f.name].to_string()
        }
        UrlMaskDropsPort => {
            let (ty, f) = pick(cm.f, |_, f| f.secret == Some(SecretKind::MaskUrl));
            let mut b = valid_body(ty);
            b.insert(
                f.name.clone(),
                json!("https://hooks.example.com:8443/abcdef"),
            );
            cm.create(&ty.name, &Value::Object(b)).await;
            cm.get(&ty.name).await.json()[&f.name].to_string()
        }
        MaskSkipsPunctuation | ShortSecretUnmasked => {
            let (ty, f) = pick(cm.f, |_, f| f.secret == Some(SecretKind::MaskLast4));
            let value = if fault == ShortSecretUnmasked {
                "ab-cd"
            } else {
                "ab-cd_ef.gh"
            };
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), json!(value));
            cm.create(&ty.name, &Value::Object(b)).await;
            cm.get(&ty.name).await.json()[&f.name].to_string()
        }
        EnumFirstMembersOnly => {
            let (ty, f) = pick(v2.f, |_, f| f.enum_values.len() > 2);
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), json!(f.enum_values[2]));
            v2.create(&ty.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        LengthCountsBytes => {
            let (ty, f) = pick(v2.f, |_, f| f.max_length.is_some());
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), json!("ü".repeat(f.max_length.unwrap())));
            v2.create(&ty.name, &Value::Object(b))
                .await
                .status
                .to_string()
        }
        ContentTypeExact => cm
            .req(Method::POST, &cm.path(&first.name))
            .header("content-type", "application/json; charset=UTF-8")
            .json(&Value::Object(valid_body(first)))
            .send()
            .await
            .status
            .to_string(),
        TokenAnyClientSecret => {
            let c = &t.srv.credentials;
            let url = format!("{}{}", t.srv.base_url, t.model().token_path);
            let r = t
                .http
                .post(url)
                .basic_auth(&c.oauth.client_id, Some("not-the-secret"));
            let r = r.header("content-type", "application/x-www-form-urlencoded");
            let r = r
                .body("grant_type=client_credentials")
                .send()
                .await
                .unwrap();
            r.status().to_string()
        }
        NoAccessTellsKind => {
            let mut seen = String::new();
            for fam in [&cm, &v1] {
                let other = &t.srv.credentials.other_group_id;
                let path = format!("{}/groups/{other}/integrations", fam.f.base_path);
                let r = fam.req(Method::GET, &path).send().await;
                seen.push_str(&format!("{} {} ", r.status, r.json()["errorCode"]));
            }
            seen
        }
        NoContentWithoutMediaType => {
            v2.configure(&v2.v.types[0]).await;
            v2.delete(&v2.v.types[0].name)
                .await
                .content_type()
                .to_owned()
        }
        FailedWriteDropsOtherType => {
            two(&cm).await;
            let mut b = valid_body(first);
            b.insert("bogus".into(), json!(1));
            cm.update(&first.name, &Value::Object(b)).await;
            cm.list("").await.results().len().to_string()
        }
        MaskSentBackKept => {
            let (ty, f) = pick(cm.f, |_, f| f.secret == Some(SecretKind::MaskUrl));
            let mut b = valid_body(ty);
            b.insert(f.name.clone(), json!("https://hooks.example.com/ab"));
            cm.create(&ty.name, &Value::Object(b.clone())).await;
            b.insert(f.name.clone(), json!("https://hooks.example.com/****"));
            cm.update(&ty.name, &Value::Object(b)).await;
            cm.get(&ty.name).await.json()[&f.name].to_string()
        }
        V2UpdateStoresId => {
            let ty = &v2.v.types[0];
            v2.configure(ty).await;
            let mut b = valid_body(ty);
            b.insert("id".into(), json!("0123456789abcdef01234567"));
            v2.update(&ty.name, &Value::Object(b)).await;
            v2.get(&ty.name).await.json()["id"].to_string()
        }
        CreateRace => {
            let body = Value::Object(valid_body(first));
            let creates = (0..4).map(|_| cm.create(&first.name, &body));
            let mut statuses: Vec<u16> = futures_util::future::join_all(creates)
                .await
                .iter()
                .map(|r| r.status)
                .collect();
            statuses.sort_unstable();
            format!("{statuses:?}")
        }
        _ => super::faults_reach::probe(t, fault).await,
    }
}

#[tokio::test]
async fn every_fault_changes_behaviour() {
    let t = T::new().await;
    let mut same = Vec::new();
    for &fault in Fault::ALL {
        t.srv.state.set_faults(&[]);
        t.srv.state.reset();
        let good = probe(&t, fault).await;
        t.srv.state.set_faults(&[fault]);
        t.srv.state.reset();
        let bad = probe(&t, fault).await;
        t.srv.state.set_faults(&[]);
        if good == bad {
            same.push(format!("{fault}: {good}"));
        }
    }
    assert!(
        same.is_empty(),
        "faults without effect:\n{}",
        same.join("\n")
    );
    assert!(Fault::ALL.len() >= 25);
    for f in Fault::ALL {
        assert_eq!(f.name().parse::<Fault>().unwrap(), *f);
    }
}
