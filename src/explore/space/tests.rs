use super::*;

fn space() -> (Model, Space) {
    let model = crate::model::bundled().unwrap();
    let reach = Reach::everything(&model);
    let sets: Vec<Vec<String>> = vec![reach.families.clone()];
    let space = Space::new(&model, &reach, &sets);
    (model, space)
}

#[test]
fn every_class_names_a_rule_of_the_contract_and_has_a_unique_id() {
    let (_, space) = space();
    let rules = crate::rules::Rules::bundled().unwrap();
    let ids: BTreeSet<&str> = rules.rules.iter().map(|r| r.id.as_str()).collect();
    let mut seen = BTreeSet::new();
    for c in &space.classes {
        assert!(ids.contains(c.rule), "{}: no rule {}", c.id, c.rule);
        assert!(seen.insert(c.id.clone()), "{} twice", c.id);
    }
    assert!(space.classes.len() > 500, "{} classes", space.classes.len());
}

/// Every part the issue names has its classes: the method, the path and its segments, each
/// query parameter on each operation, both headers, the credential, the body and each field.
#[test]
fn the_space_covers_every_part_of_a_request() {
    let (model, space) = space();
    let keys = space.keys();
    let parts: BTreeSet<&str> = keys.keys().map(|(p, _)| p.as_str()).collect();
    for p in [
        "method (type path)",
        "method (list path)",
        "path shape",
        "path groupId",
        "path integrationType",
        "header Accept",
        "header Content-Type",
        "credential",
        "body",
    ] {
        assert!(parts.contains(p), "no part {p}");
    }
    for family in &model.families {
        for op in &family.operations {
            for q in &op.query {
                for kind in OperationKind::ALL {
                    let part = format!("query {} on {}", q.name, kind.as_str());
                    assert!(parts.contains(part.as_str()), "no part {part}");
                }
            }
        }
        for v in &family.versions {
            for t in &v.types {
                for f in t.settable_fields() {
                    let part = format!("body {}.{}", t.name, f.name);
                    assert!(parts.contains(part.as_str()), "no part {part}");
                }
            }
        }
    }
    for kind in Kind::ALL {
        assert!(
            keys.keys().any(|(_, k)| *k == kind),
            "no class of kind {kind:?}"
        );
    }
}

/// A field added to the spec gains its classes without code.
#[test]
fn a_new_field_gains_its_classes() {
    let (mut model, _) = space();
    let ty = &mut model.families[0].versions[0].types[0];
    let mut extra = ty.settable_fields().next().unwrap().clone();
    extra.name = "addedByTheSpec".into();
    extra.kind = crate::model::FieldKind::String;
    extra.enum_values.clear();
    extra.pattern = None;
    extra.rule = None;
    extra.format = None;
    extra.secret = None;
    extra.required = false;
    extra.max_length = Some(10);
    let name = ty.name.clone();
    ty.fields.push(extra);
    let reach = Reach {
        families: vec![model.families[0].name.clone()],
        ..Reach::default()
    };
    let space = Space::new(&model, &reach, &[]);
    let part = format!("body {name}.addedByTheSpec");
    let kinds: BTreeSet<Kind> = space
        .classes
        .iter()
        .filter(|c| c.part == part)
        .map(|c| c.kind)
        .collect();
    for k in [
        Kind::Boundary,
        Kind::PastBoundary,
        Kind::FarPast,
        Kind::Empty,
        Kind::Absent,
    ] {
        assert!(kinds.contains(&k), "{part} has no {k:?} class: {kinds:?}");
    }
}

#[test]
fn coverage_lists_what_was_never_drawn() {
    let (_, space) = space();
    let first = &space.classes[0];
    let mut drawn = BTreeMap::new();
    drawn.insert(
        first.id.clone(),
        BTreeMap::from([("405 METHOD_NOT_ALLOWED".to_owned(), 3usize)]),
    );
    let cov = Coverage::of(&space, &drawn);
    let row = cov
        .classes
        .iter()
        .find(|d| d.part == first.part && d.kind == first.kind)
        .unwrap();
    assert_eq!(row.drawn, 3);
    assert_eq!(cov.unreached.len(), cov.classes.len() - 1);
    let (_, rows) = cov.grid();
    assert!(rows
        .iter()
        .flat_map(|(_, row)| row)
        .any(|d| d.is_some_and(|d| d.drawn == 0)));
}
