//! The spec and the model: the contract's tables, as data, and a loader that rejects broken specs.

use integrations_conformance::model::{self, Level, OperationKind, SecretKind, Situation};
use integrations_conformance::schema::{self, Mode, Validators};
use integrations_conformance::spec;
use serde_json::{json, Value};

fn model() -> model::Model {
    model::bundled().expect("bundled spec loads")
}

#[test]
fn model_holds_three_families_and_fifteen_operations() {
    let m = model();
    let names: Vec<&str> = m.families.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["cloud-manager", "atlas-v1", "atlas-v2"]);
    assert_eq!(m.operations().count(), 15);
    let v2: Vec<&str> = m
        .family("atlas-v2")
        .unwrap()
        .operations
        .iter()
        .map(|o| o.id.as_str())
        .collect();
    assert_eq!(
        v2,
        [
            "listGroupIntegrations",
            "getGroupIntegration",
            "createGroupIntegration",
            "updateGroupIntegration",
            "deleteGroupIntegration"
        ]
    );
    for f in &m.families {
        for kind in OperationKind::ALL {
            let op = f.operation(kind);
            let expected = if kind == OperationKind::Delete {
                204
            } else {
                200
            };
            assert_eq!(op.success_status, expected, "{}", op.id);
        }
    }
    assert_eq!(m.token_path, "/api/oauth/token");
}

/// (family, version, type, required fields, secrets, defaults)
type Row = (
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, SecretKind)],
    &'static [(&'static str, Value)],
);

fn contract_table() -> Vec<Row> {
    use SecretKind::*;
    let mut rows: Vec<Row> = Vec::new();
    for fam in ["cloud-manager", "atlas-v1"] {
        rows.push((
            fam,
            None,
            "PAGER_DUTY",
            &["serviceKey"],
            &[("serviceKey", MaskLast4)],
            &[],
        ));
        rows.push((
            fam,
            None,
            "VICTOR_OPS",
            &["apiKey"],
            &[("apiKey", MaskLast4)],
            &[],
        ));
        rows.push((
            fam,
            None,
            "WEBHOOK",
            &["url"],
            &[("url", MaskUrl), ("secret", MaskLast4)],
            &[],
        ));
    }
    let leak = |v: Vec<(&'static str, Value)>| -> &'static [(&'static str, Value)] {
        Box::leak(v.into_boxed_slice())
    };
    for fam in ["cloud-manager", "atlas-v1"] {
        rows.push((
            fam,
            None,
            "OPS_GENIE",
            &["apiKey"],
            &[("apiKey", MaskLast4)],
            leak(vec![("region", json!("US"))]),
        ));
        rows.push((
            fam,
            None,
            "SLACK",
            &["apiToken", "teamName"],
            &[("apiToken", MaskLast4)],
            leak(vec![("channelName", json!(""))]),
        ));
    }
    rows.push((
        "cloud-manager",
        None,
        "MICROSOFT_TEAMS",
        &["microsoftTeamsWebhookUrl"],
        &[("microsoftTeamsWebhookUrl", MaskUrl)],
        &[],
    ));
    rows.push((
        "cloud-manager",
        None,
        "PROMETHEUS",
        &[
            "username",
            "password",
            "listenAddress",
            "serviceDiscovery",
            "scheme",
            "enabled",
        ],
        &[("password", WriteOnly), ("tlsPemPassword", MaskLast4)],
        &[],
    ));
    rows.push((
        "atlas-v1",
        None,
        "DATADOG",
        &["apiKey"],
        &[("apiKey", MaskLast4)],
        leak(vec![("region", json!("US"))]),
    ));
    rows.push((
        "atlas-v1",
        None,
        "NEW_RELIC",
        &["licenseKey", "accountId", "writeToken", "readToken"],
        &[],
        &[],
    ));
    rows.push((
        "atlas-v1",
        None,
        "FLOWDOCK",
        &["flowName", "orgName", "apiToken"],
        &[("apiToken", MaskLast4)],
        &[],
    ));
    for v in ["2023-01-01", "2025-03-12"] {
        let v = Some(v);
        rows.push((
            "atlas-v2",
            v,
            "PAGER_DUTY",
            &["serviceKey"],
            &[("serviceKey", MaskLast4)],
            leak(vec![("region", json!("US"))]),
        ));
        rows.push((
            "atlas-v2",
            v,
            "SLACK",
            &["apiToken", "channelName"],
            &[("apiToken", MaskLast4)],
            &[],
        ));
        rows.push((
            "atlas-v2",
            v,
            "NEW_RELIC",
            &["licenseKey", "accountId", "writeToken", "readToken"],
            &[],
            &[],
        ));
        rows.push((
            "atlas-v2",
            v,
            "OPS_GENIE",
            &["apiKey"],
            &[("apiKey", MaskLast4)],
            leak(vec![("region", json!("US"))]),
        ));
        rows.push((
            "atlas-v2",
            v,
            "VICTOR_OPS",
            &["apiKey"],
            &[("apiKey", MaskLast4)],
            &[],
        ));
        rows.push((
            "atlas-v2",
            v,
            "WEBHOOK",
            &["url"],
            &[("url", MaskUrl), ("secret", MaskLast4)],
            &[],
        ));
        rows.push((
            "atlas-v2",
            v,
            "MICROSOFT_TEAMS",
            &["microsoftTeamsWebhookUrl"],
            &[("microsoftTeamsWebhookUrl", MaskUrl)],
            &[],
        ));
        rows.push((
            "atlas-v2",
            v,
            "PROMETHEUS",
            &["username", "serviceDiscovery", "enabled"],
            &[("password", WriteOnly)],
            leak(vec![("sendUserProvidedResourceTagsEnabled", json!(false))]),
        ));
    }
    rows.push((
        "atlas-v2",
        Some("2023-01-01"),
        "DATADOG",
        &["apiKey"],
        &[("apiKey", MaskLast4)],
        leak(vec![
            ("region", json!("US")),
            ("sendCollectionLatencyMetrics", json!(false)),
            ("sendDatabaseMetrics", json!(false)),
            ("sendQueryStatsMetrics", json!(false)),
            ("sendUserProvidedResourceTags", json!(false)),
        ]),
    ));
    rows.push((
        "atlas-v2",
        Some("2025-03-12"),
        "DATADOG",
        &["apiKey"],
        &[("apiKey", MaskLast4)],
        leak(vec![
            ("region", json!("US")),
            ("sendCollectionLatencyMetrics", json!(false)),
            ("sendDatabaseMetrics", json!(false)),
        ]),
    ));
    rows
}

#[test]
fn model_matches_the_contract_field_table() {
    let m = model();
    let table = contract_table();
    for (fam, version, type_name, required, secrets, defaults) in &table {
        let family = m.family(fam).unwrap();
        let v = family
            .version(*version)
            .unwrap_or_else(|| panic!("{fam} {version:?}"));
        let t = v
            .integration_type(type_name)
            .unwrap_or_else(|| panic!("{fam} {version:?} lacks {type_name}"));
        let mut got_required: Vec<&str> = t
            .settable_fields()
            .filter(|f| f.required)
            .map(|f| f.name.as_str())
            .collect();
        let mut want: Vec<&str> = required.to_vec();
        got_required.sort();
        want.sort();
        assert_eq!(
            got_required, want,
            "required fields of {fam} {version:?} {type_name}"
        );
        let got_secrets: Vec<(&str, SecretKind)> = t
            .secret_fields()
            .map(|f| (f.name.as_str(), f.secret.unwrap()))
            .collect();
        let mut got_secrets = got_secrets;
        got_secrets.sort_by_key(|s| s.0);
        let mut want_secrets = secrets.to_vec();
        want_secrets.sort_by_key(|s| s.0);
        assert_eq!(
            got_secrets, want_secrets,
            "secrets of {fam} {version:?} {type_name}"
        );
        let got_defaults: Vec<(&str, Value)> = t
            .fields
            .iter()
            .filter_map(|f| f.default.clone().map(|d| (f.name.as_str(), d)))
            .collect();
        let mut got_defaults = got_defaults;
        got_defaults.sort_by(|a, b| a.0.cmp(b.0));
        let mut want_defaults = defaults.to_vec();
        want_defaults.sort_by(|a, b| a.0.cmp(b.0));
        assert_eq!(
            got_defaults, want_defaults,
            "defaults of {fam} {version:?} {type_name}"
        );
    }
    // Exactly the contract's types per family and version: nothing more.
    for family in &m.families {
        for v in &family.versions {
            for t in &v.types {
                assert!(
                    table
                        .iter()
                        .any(|r| r.0 == family.name && r.1 == v.name.as_deref() && r.2 == t.name),
                    "{} {:?} has type {} that the contract does not list",
                    family.name,
                    v.name,
                    t.name
                );
            }
        }
    }
    let count = |f: &str| {
        m.family(f)
            .unwrap()
            .versions
            .iter()
            .map(|v| v.types.len())
            .sum::<usize>()
    };
    assert_eq!(
        (count("cloud-manager"), count("atlas-v1"), count("atlas-v2")),
        (7, 8, 18)
    );
}

#[test]
fn families_carry_order_update_rules_and_unsupported_types() {
    let m = model();
    let cm = m.family("cloud-manager").unwrap();
    let v1 = m.family("atlas-v1").unwrap();
    let v2 = m.family("atlas-v2").unwrap();
    assert_eq!(
        cm.list_order,
        [
            "PAGER_DUTY",
            "SLACK",
            "OPS_GENIE",
            "VICTOR_OPS",
            "WEBHOOK",
            "MICROSOFT_TEAMS",
            "PROMETHEUS"
        ]
    );
    assert_eq!(v2.path_types.len(), 10);
    assert_eq!(cm.unsupported_types, ["DATADOG", "HIP_CHAT"]);
    assert_eq!(v2.unsupported_types, ["HIP_CHAT"]);
    assert!(v1.unsupported_types.is_empty());
    let upd = |f: &model::Family| f.operation(OperationKind::Update).update.unwrap();
    assert!(upd(v1).merge && upd(v1).upsert);
    assert!(!upd(cm).merge && upd(cm).upsert);
    assert!(!upd(v2).merge && !upd(v2).upsert);
    assert!(!cm.include_count_honoured && v1.include_count_honoured && v2.include_count_honoured);
    assert!(v2.versioned() && !cm.versioned());
    assert_eq!(
        v2.versions[1].media_type,
        "application/vnd.atlas.2025-03-12+json"
    );
    // The error catalogue, per operation and level.
    let create = v2.operation(OperationKind::Create);
    let conflict = create.error(Situation::AlreadyConfigured).unwrap();
    assert_eq!(
        (
            conflict.status,
            conflict.error_code.as_deref(),
            conflict.level
        ),
        (409, Some("INTEGRATION_ALREADY_CONFIGURED"), Level::E)
    );
    let nc = v2
        .operation(OperationKind::Update)
        .error(Situation::NotConfigured)
        .unwrap();
    assert_eq!(nc.level, Level::S);
    assert!(cm
        .operation(OperationKind::Update)
        .error(Situation::NotConfigured)
        .is_none());
    let kind = cm
        .operation(OperationKind::List)
        .error(Situation::WrongProjectKind)
        .unwrap();
    assert_eq!(kind.error_code.as_deref(), Some("ATLAS_GROUP"));
    let access = v1
        .operation(OperationKind::Get)
        .error(Situation::NoProjectAccess)
        .unwrap();
    assert!(
        access.status_ok(401)
            && access.status_ok(403)
            && access.status_ok(404)
            && !access.status_ok(400)
    );
    let unsupported: Vec<_> = cm
        .operation(OperationKind::Delete)
        .errors_for(Situation::UnsupportedType)
        .map(|e| e.error_code.clone().unwrap())
        .collect();
    assert_eq!(
        unsupported,
        [
            "DATADOG_NOT_SUPPORTED_FOR_CLOUD_MANAGER",
            "HIPCHAT_NOT_SUPPORTED"
        ]
    );
    assert!(v2
        .operation(OperationKind::List)
        .error(Situation::UnsupportedVersion)
        .is_some());
    assert!(cm
        .operation(OperationKind::List)
        .error(Situation::UnsupportedVersion)
        .is_none());
    // Query parameters: includeCount only where honoured; get/delete take no page parameters.
    assert!(cm
        .operation(OperationKind::List)
        .query_param("includeCount")
        .is_none());
    let ipp = v1
        .operation(OperationKind::List)
        .query_param("itemsPerPage")
        .unwrap();
    assert_eq!(
        (ipp.minimum, ipp.maximum, ipp.default.clone()),
        (Some(1), Some(500), json!(100))
    );
    assert!(v2
        .operation(OperationKind::Get)
        .query_param("pageNum")
        .is_none());
    assert!(v2
        .operation(OperationKind::Delete)
        .query_param("envelope")
        .is_some());
    // Field rules.
    let v2t = |ver: &str, t: &str| {
        v2.version(Some(ver))
            .unwrap()
            .integration_type(t)
            .unwrap()
            .clone()
    };
    let nr = v2t("2025-03-12", "NEW_RELIC");
    assert_eq!(
        nr.field("accountId").unwrap().pattern.as_deref(),
        Some("^([0-9a-f]){40}$")
    );
    assert!(v1
        .version(None)
        .unwrap()
        .integration_type("NEW_RELIC")
        .unwrap()
        .field("accountId")
        .unwrap()
        .pattern
        .is_none());
    let slack = v2t("2023-01-01", "SLACK");
    let ch = slack.field("channelName").unwrap();
    assert_eq!((ch.min_length, ch.max_length), (Some(1), Some(80)));
    assert!(slack.field("id").unwrap().read_only);
    let prom = cm
        .version(None)
        .unwrap()
        .integration_type("PROMETHEUS")
        .unwrap();
    assert_eq!(prom.conditional_required.len(), 1);
    assert_eq!(prom.conditional_required[0].then_required, ["tlsPemPath"]);
    assert_eq!(
        v2t("2023-01-01", "DATADOG")
            .field("region")
            .unwrap()
            .enum_values
            .len(),
        6
    );
}

fn examples(spec: &spec::Spec) -> Vec<(String, String, Value, Mode)> {
    // (where, schema pointer, value, mode) for every example attached in the spec.
    let mut out = Vec::new();
    let raw = &spec.raw;
    for (kind, mode) in [
        ("requestBodies", Mode::Request),
        ("responses", Mode::Response),
    ] {
        for (name, body) in raw["components"][kind].as_object().unwrap() {
            for (media, content) in body
                .get("content")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let pointer = content["schema"]["$ref"].as_str().unwrap().to_owned();
                if let Some(ex) = content.get("example") {
                    out.push((
                        format!("{kind}.{name}.{media}"),
                        pointer.clone(),
                        ex.clone(),
                        mode,
                    ));
                }
                for (ex_name, ex) in content
                    .get("examples")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    out.push((
                        format!("{kind}.{name}.{media}.{ex_name}"),
                        pointer.clone(),
                        ex["value"].clone(),
                        mode,
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn every_seed_example_is_valid_under_its_schema() {
    let spec = spec::bundled().unwrap();
    let m = model::build(&spec).unwrap();
    let validators = Validators::build(&spec, &m).unwrap();
    let all = examples(&spec);
    assert!(
        all.len() >= 28,
        "expected the seeds' examples, found {}",
        all.len()
    );
    for (at, pointer, value, mode) in &all {
        let result = match validators.validate(pointer, *mode, value) {
            Some(r) => r,
            None => {
                let v = schema::compile(&spec, pointer, *mode).unwrap();
                if v.is_valid(value) {
                    Ok(())
                } else {
                    Err(vec![])
                }
            }
        };
        assert!(
            result.is_ok(),
            "{at} is invalid under {pointer}: {result:?}"
        );
    }
}

#[test]
fn a_2023_only_datadog_field_is_rejected_under_2025() {
    let spec = spec::bundled().unwrap();
    let m = model::build(&spec).unwrap();
    let validators = Validators::build(&spec, &m).unwrap();
    let seed002 = spec.raw.pointer("/components/requestBodies/V2Integration/content/application~1vnd.atlas.2023-01-01+json/examples/seed002Datadog/value").unwrap().clone();
    let v2 = m.family("atlas-v2").unwrap();
    let s2023 = &v2
        .version(Some("2023-01-01"))
        .unwrap()
        .integration_type("DATADOG")
        .unwrap()
        .schema;
    let s2025 = &v2
        .version(Some("2025-03-12"))
        .unwrap()
        .integration_type("DATADOG")
        .unwrap()
        .schema;
    assert!(validators
        .validate(s2023, Mode::Request, &seed002)
        .unwrap()
        .is_ok());
    let errors = validators
        .validate(s2025, Mode::Request, &seed002)
        .unwrap()
        .unwrap_err();
    let text = format!("{errors:?}");
    assert!(text.contains("sendQueryStatsMetrics"), "{text}");
    // The same holds for the body schema that dispatches on `type` (the oneOf + discriminator).
    let body = v2.operation(OperationKind::Create).responses[0].content[1]
        .1
        .clone();
    let single_2025 = v2
        .operation(OperationKind::Get)
        .response(200)
        .unwrap()
        .content[1]
        .1
        .clone();
    assert!(body.ends_with("V2IntegrationPage2025"), "{body}");
    let mut resp = seed002.clone();
    resp["id"] = json!("5d791c84ff7a2522cc4f9aa1");
    assert!(validators
        .validate(&single_2025, Mode::Response, &resp)
        .unwrap()
        .is_err());
}

#[test]
fn response_mode_requires_defaults_and_forbids_write_only_fields() {
    let spec = spec::bundled().unwrap();
    let m = model::build(&spec).unwrap();
    let validators = Validators::build(&spec, &m).unwrap();
    let cm = m.family("cloud-manager").unwrap().version(None).unwrap();
    let prom = &cm.integration_type("PROMETHEUS").unwrap().schema;
    let body = json!({"type": "PROMETHEUS", "username": "u", "password": "p", "listenAddress": "a:1",
        "serviceDiscovery": "http", "scheme": "http", "enabled": true});
    assert!(validators
        .validate(prom, Mode::Request, &body)
        .unwrap()
        .is_ok());
    assert!(
        validators
            .validate(prom, Mode::Response, &body)
            .unwrap()
            .is_err(),
        "password must not be returned"
    );
    let mut returned = body.clone();
    returned.as_object_mut().unwrap().remove("password");
    assert!(validators
        .validate(prom, Mode::Response, &returned)
        .unwrap()
        .is_ok());
    // https needs tlsPemPath
    let mut https = body.clone();
    https["scheme"] = json!("https");
    assert!(validators
        .validate(prom, Mode::Request, &https)
        .unwrap()
        .is_err());
    https["tlsPemPath"] = json!("/p.pem");
    assert!(validators
        .validate(prom, Mode::Request, &https)
        .unwrap()
        .is_ok());
    // A default must come back.
    let og = &cm.integration_type("OPS_GENIE").unwrap().schema;
    assert!(validators
        .validate(
            og,
            Mode::Request,
            &json!({"type": "OPS_GENIE", "apiKey": "k"})
        )
        .unwrap()
        .is_ok());
    assert!(validators
        .validate(
            og,
            Mode::Response,
            &json!({"type": "OPS_GENIE", "apiKey": "k"})
        )
        .unwrap()
        .is_err());
    // atlas-v2 ids: ignored (string or null) in requests, required in responses.
    let v2 = m
        .family("atlas-v2")
        .unwrap()
        .version(Some("2025-03-12"))
        .unwrap();
    let vo = &v2.integration_type("VICTOR_OPS").unwrap().schema;
    assert!(validators
        .validate(
            vo,
            Mode::Request,
            &json!({"type": "VICTOR_OPS", "apiKey": "k", "id": null})
        )
        .unwrap()
        .is_ok());
    assert!(validators
        .validate(
            vo,
            Mode::Request,
            &json!({"type": "VICTOR_OPS", "apiKey": "k", "id": 5})
        )
        .unwrap()
        .is_err());
    assert!(validators
        .validate(
            vo,
            Mode::Response,
            &json!({"type": "VICTOR_OPS", "apiKey": "k"})
        )
        .unwrap()
        .is_err());
    // Violation messages never quote the instance (it may be a secret).
    let errs = validators
        .validate(
            og,
            Mode::Request,
            &json!({"type": "OPS_GENIE", "apiKey": 12345678, "region": "TOP-SECRET-REGION"}),
        )
        .unwrap()
        .unwrap_err();
    assert!(
        !format!("{errs:?}").contains("TOP-SECRET-REGION"),
        "{errs:?}"
    );
}

fn broken(replace: &str, with: &str) -> String {
    let text = spec::BUNDLED;
    assert!(
        text.contains(replace),
        "fixture anchor {replace:?} not in the spec"
    );
    text.replacen(replace, with, 1)
}

fn load_err(text: &str) -> String {
    let err = spec::parse(text)
        .and_then(|s| model::build(&s))
        .expect_err("broken spec must be rejected");
    err.to_string()
}

#[test]
fn url_fields_carry_the_absolute_http_url_rule() {
    let m = model();
    let mut seen = 0;
    for family in &m.families {
        for version in &family.versions {
            for ty in &version.types {
                for f in ty
                    .fields
                    .iter()
                    .filter(|f| f.format.as_deref() == Some("uri"))
                {
                    assert_eq!(
                        f.rule,
                        Some(model::FieldRule::AbsoluteHttpUrl),
                        "{} {}.{}",
                        family.name,
                        ty.name,
                        f.name
                    );
                    seen += 1;
                }
            }
        }
    }
    // WEBHOOK and MICROSOFT_TEAMS in cloud-manager and in atlas-v2 (under both versions),
    // WEBHOOK in atlas-v1.
    assert_eq!(seen, 7);
}

#[test]
fn broken_specs_are_rejected_with_a_message_naming_the_culprit() {
    let cases = [
        (broken("$ref: '#/components/schemas/CmOpsGenie'\n", "$ref: '#/components/schemas/CmOpsGenieX'\n"), "unresolved $ref #/components/schemas/CmOpsGenieX"),
        (broken("operationId: cmGetIntegration", "operationId: cmListIntegrations"), "duplicate operation ID: cmListIntegrations"),
        (broken("x-secrets: {serviceKey: mask-last4}", "x-secrets: {serviceKey: mask-last4, pagerKey: mask-last4}"), "x-secrets names field pagerKey"),
        (broken("x-secrets: {apiToken: mask-last4}", "x-secrets: {apiToken: rot13}"), "x-secrets.apiToken is \"rot13\""),
        (broken("    situation: group-not-found\n    status: 404", "    situation: group-not-found\n    status: 418"), "names status 418"),
        (broken("situation: payload-too-large", "situation: payload-too-big"), "unknown situation payload-too-big"),
        (broken("semantics: merge", "semantics: patch"), "x-update.semantics patch"),
        (broken("then: [tlsPemPath]", "then: [tlsPemFile]"), "x-conditional-required names field tlsPemFile"),
        (broken("x-rule: absolute-http-url", "x-rule: any-url"), "has x-rule \"any-url\""),
        (broken("enabled: {type: boolean,", "enabled: {type: boolean, x-rule: absolute-http-url,"), "has an x-rule but is not a string"),
        (broken("x-family: atlas-v1\n      parameters:\n        - $ref: '#/components/parameters/PageNum'", "x-family: atlas-v9\n      parameters:\n        - $ref: '#/components/parameters/PageNum'"), "x-family atlas-v9"),
        ("openapi: [".to_owned(), "does not parse"),
    ];
    for (text, needle) in cases {
        let msg = load_err(&text);
        assert!(msg.contains(needle), "expected {needle:?} in {msg:?}");
    }
}

#[test]
fn fixture_files_are_rejected() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for (file, needle) in [
        ("broken-missing-ref.yaml", "unresolved $ref"),
        (
            "broken-duplicate-operation-id.yaml",
            "duplicate operation ID",
        ),
        ("broken-secret-field.yaml", "x-secrets names field"),
    ] {
        let err = spec::load(&dir.join(file))
            .and_then(|s| model::build(&s))
            .expect_err(file);
        assert!(err.to_string().contains(needle), "{file}: {err}");
    }
    let missing = spec::load(&dir.join("no-such-file.yaml")).unwrap_err();
    assert!(
        missing.to_string().contains("no-such-file.yaml"),
        "{missing}"
    );
}
