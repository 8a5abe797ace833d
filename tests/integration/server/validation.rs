//! Body validation, field by field.

use super::*;

#[tokio::test]
async fn required_fields_missing_or_null_are_missing_attribute() {
    let t = T::new().await;
    let mut checked = 0;
    for fam in t.all() {
        let (status, code) = fam.rule(OperationKind::Create, Situation::RequiredMissing);
        for ty in &fam.v.types {
            for f in ty.fields.iter().filter(|f| f.required && f.settable()) {
                for null in [false, true] {
                    let mut body = valid_body(ty);
                    if null {
                        body.insert(f.name.clone(), Value::Null);
                    } else {
                        body.remove(&f.name);
                    }
                    let before = fam.stored();
                    for method in [Method::POST, Method::PUT] {
                        let r = fam
                            .req(method.clone(), &fam.path(&ty.name))
                            .json(&Value::Object(body.clone()))
                            .send()
                            .await;
                        r.error(status, &code);
                        assert_eq!(
                            r.json()["parameters"],
                            json!([f.name]),
                            "{} {} {}",
                            fam.label(),
                            ty.name,
                            f.name
                        );
                    }
                    assert_eq!(fam.stored(), before);
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 50, "{checked}");
}

#[tokio::test]
async fn optional_fields_null_is_not_sent_and_empty_string_is_stored() {
    let t = T::new().await;
    for fam in t.all() {
        for ty in &fam.v.types {
            t.srv.state.reset();
            let mut body = minimal_body(ty);
            let mut empties = Vec::new();
            for f in ty.fields.iter().filter(|f| !f.required && f.settable()) {
                let plain_string = f.kind == FieldKind::String
                    && f.enum_values.is_empty()
                    && f.pattern.is_none()
                    && f.format.is_none()
                    && f.min_length.unwrap_or(0) == 0
                    && !ty
                        .conditional_required
                        .iter()
                        .any(|c| c.then_required.contains(&f.name));
                if plain_string {
                    body.insert(f.name.clone(), json!(""));
                    empties.push(f);
                } else {
                    body.insert(f.name.clone(), Value::Null);
                }
            }
            let sent = Value::Object(body);
            let r = fam.create(&ty.name, &sent).await;
            assert_eq!(r.status, 200, "{} {}: {}", fam.label(), ty.name, r.text);
            let shown = fam.get(&ty.name).await.json();
            assert_view(ty, &sent, &shown, &format!("{} {}", fam.label(), ty.name));
            for f in empties {
                if f.secret != Some(SecretKind::WriteOnly) {
                    assert_eq!(shown[&f.name], "", "{} {}", ty.name, f.name);
                }
            }
        }
    }
}

#[tokio::test]
async fn unknown_fields_and_ids() {
    let t = T::new().await;
    for fam in t.all() {
        let (status, code) = fam.rule(OperationKind::Create, Situation::UnknownAttribute);
        for ty in &fam.v.types {
            let mut body = valid_body(ty);
            body.insert("notAFieldOfAnyType".into(), json!("x"));
            let r = fam.create(&ty.name, &Value::Object(body)).await;
            r.error(status, &code);
            assert_eq!(r.json()["parameters"], json!(["notAFieldOfAnyType"]));

            // a field of another type of the family
            if let Some(other) = fam
                .v
                .types
                .iter()
                .flat_map(|o| o.fields.iter())
                .find(|f| ty.field(&f.name).is_none())
            {
                let mut body = valid_body(ty);
                body.insert(other.name.clone(), value_for(other));
                let r = fam.create(&ty.name, &Value::Object(body)).await;
                r.error(status, &code);
                assert_eq!(r.json()["parameters"], json!([other.name]));
            }

            // the read-only id: ignored as a string or null, else a JSON type error; unknown
            // where the schema has none
            match ty.fields.iter().find(|f| f.read_only) {
                Some(id) => {
                    let (js, jcode) = fam.rule(OperationKind::Create, Situation::WrongJsonType);
                    for bad in [json!(5), json!(true), json!({}), json!([])] {
                        let mut body = valid_body(ty);
                        body.insert(id.name.clone(), bad);
                        fam.create(&ty.name, &Value::Object(body))
                            .await
                            .error(js, &jcode);
                    }
                    for ignored in [json!("aaaaaaaaaaaaaaaaaaaaaaaa"), Value::Null] {
                        t.srv.state.reset();
                        let mut body = valid_body(ty);
                        body.insert(id.name.clone(), ignored.clone());
                        let r = fam.create(&ty.name, &Value::Object(body)).await;
                        assert_eq!(r.status, 200, "{}", r.text);
                        assert_ne!(find(&r.results(), &ty.name)[&id.name], ignored);
                    }
                    t.srv.state.reset();
                }
                None => {
                    let mut body = valid_body(ty);
                    body.insert("id".into(), json!("aaaaaaaaaaaaaaaaaaaaaaaa"));
                    let r = fam.create(&ty.name, &Value::Object(body)).await;
                    r.error(status, &code);
                    assert_eq!(r.json()["parameters"], json!(["id"]));
                }
            }
        }
    }
}

#[tokio::test]
async fn wrong_json_types_are_invalid_json_attribute() {
    let t = T::new().await;
    for fam in t.all() {
        let (status, code) = fam.rule(OperationKind::Create, Situation::WrongJsonType);
        let (ms, mcode) = fam.rule(OperationKind::Create, Situation::TypeMismatch);
        for ty in &fam.v.types {
            for f in ty.fields.iter().filter(|f| f.settable()) {
                let wrong: &[Value] = match f.kind {
                    FieldKind::String => {
                        &[json!(12345), json!(true), json!(["a"]), json!({"a": 1})]
                    }
                    FieldKind::Boolean => &[json!("true"), json!(1), json!([])],
                    FieldKind::Integer => &[json!("1"), json!(1.5), json!(true)],
                    FieldKind::Number => &[json!("1"), json!(true)],
                };
                for w in wrong {
                    let mut body = valid_body(ty);
                    body.insert(f.name.clone(), w.clone());
                    let r = fam.update(&ty.name, &Value::Object(body)).await;
                    r.error(status, &code);
                    assert_eq!(r.json()["parameters"], json!([f.name]));
                }
            }
            // the discriminator with another JSON type is a mismatch
            let mut body = valid_body(ty);
            body.insert(ty.discriminator().name.clone(), json!(1));
            let r = fam.create(&ty.name, &Value::Object(body)).await;
            assert_eq!((r.status, r.code()), (ms, mcode.clone()));
            assert_eq!(r.json()["parameters"], json!([ty.discriminator().name]));
        }
        assert!(fam.stored().is_empty(), "{}", fam.label());
    }
}

#[tokio::test]
async fn enum_fields_accept_their_values_only() {
    let t = T::new().await;
    for fam in t.all() {
        let (status, code) = fam.rule(OperationKind::Create, Situation::EnumInvalid);
        for ty in &fam.v.types {
            for f in ty
                .fields
                .iter()
                .filter(|f| f.settable() && !f.enum_values.is_empty())
            {
                for bad in ["NOT_IN_THE_ENUM", "", "us", " US"] {
                    if f.enum_values.iter().any(|e| e == bad) {
                        continue;
                    }
                    let mut body = valid_body(ty);
                    body.insert(f.name.clone(), json!(bad));
                    let r = fam.create(&ty.name, &Value::Object(body)).await;
                    r.error(status, &code);
                    assert_eq!(r.json()["parameters"][0], json!(f.name));
                }
                for good in &f.enum_values {
                    t.srv.state.reset();
                    let mut body = valid_body(ty);
                    body.insert(f.name.clone(), json!(good));
                    // a value that triggers a conditional requirement brings what it needs
                    let r = fam.create(&ty.name, &Value::Object(body)).await;
                    assert_eq!(
                        r.status,
                        200,
                        "{} {}.{}={good}: {}",
                        fam.label(),
                        ty.name,
                        f.name,
                        r.text
                    );
                    assert_eq!(find(&r.results(), &ty.name)[&f.name], json!(good));
                }
            }
        }
    }
}

#[tokio::test]
async fn field_rules_are_invalid_integration_settings() {
    let t = T::new().await;
    let mut rules = BTreeSet::new();
    for fam in t.all() {
        let (status, code) = fam.rule(OperationKind::Create, Situation::InvalidSettings);
        for ty in &fam.v.types {
            let mut bad_values: Vec<(&Field, Value, &str)> = Vec::new();
            for f in ty
                .fields
                .iter()
                .filter(|f| f.settable() && f.kind == FieldKind::String && f.enum_values.is_empty())
            {
                let good = value_for(f).as_str().unwrap().to_owned();
                if let Some(p) = &f.pattern {
                    let re = regex::Regex::new(p).unwrap();
                    assert!(
                        re.is_match(&good),
                        "{}.{}: the example breaks its own pattern",
                        ty.name,
                        f.name
                    );
                    if let Some(bad) = break_pattern(&re, &good) {
                        assert_eq!(bad.chars().count(), good.chars().count());
                        bad_values.push((f, json!(bad), "pattern"));
                    }
                }
                if let Some(max) = f.max_length {
                    bad_values.push((f, json!("a".repeat(max + 1)), "maxLength"));
                    // the maximum itself is fine
                    t.srv.state.reset();
                    let mut body = valid_body(ty);
                    body.insert(f.name.clone(), json!("b".repeat(max)));
                    assert_eq!(fam.create(&ty.name, &Value::Object(body)).await.status, 200);
                    t.srv.state.reset();
                }
                if let Some(min) = f.min_length.filter(|m| *m > 0) {
                    bad_values.push((f, json!("a".repeat(min - 1)), "minLength"));
                }
                if f.required {
                    bad_values.push((f, json!(""), "empty required string"));
                }
                if f.format.as_deref() == Some("uri") {
                    for bad in [
                        "ftp://example.com/abcdef",
                        "example.com/abcdef",
                        "https://",
                        "mailto:a@example.com",
                        "not a url",
                    ] {
                        bad_values.push((f, json!(bad), "url"));
                    }
                }
            }
            for (f, bad, rule) in bad_values {
                rules.insert(rule);
                let mut body = valid_body(ty);
                body.insert(f.name.clone(), bad.clone());
                let before = fam.stored();
                let r = fam.create(&ty.name, &Value::Object(body)).await;
                assert_eq!(
                    (r.status, r.code()),
                    (status, code.clone()),
                    "{} {}.{} {rule} {bad}: {}",
                    fam.label(),
                    ty.name,
                    f.name,
                    r.text
                );
                r.error(status, &code);
                assert_eq!(fam.stored(), before);
            }
            for c in &ty.conditional_required {
                rules.insert("conditional");
                let mut body = valid_body(ty);
                body.insert(c.when_field.clone(), c.equals.clone());
                for name in &c.then_required {
                    for absent in [None, Some(Value::Null), Some(json!(""))] {
                        let mut b = body.clone();
                        match absent {
                            None => {
                                b.remove(name);
                            }
                            Some(v) => {
                                b.insert(name.clone(), v);
                            }
                        }
                        let r = fam.create(&ty.name, &Value::Object(b)).await;
                        r.error(status, &code);
                        assert_eq!(r.json()["parameters"], json!([name]));
                    }
                }
                t.srv.state.reset();
                let r = fam.create(&ty.name, &Value::Object(body)).await;
                assert_eq!(r.status, 200, "{}", r.text);
                t.srv.state.reset();
            }
        }
    }
    assert_eq!(rules.len(), 6, "{rules:?}");
}
