//! Value parsers that know their values: help lists them, completion offers them, and an error
//! names them. The faults, variants and categories are the code's own; the families are the
//! bundled spec's (suggested: a `--spec` may name others, which its model then checks).

use std::sync::OnceLock;

use integrations_conformance::case::Category;
use integrations_conformance::model;
pub(crate) use integrations_conformance::settings::{faults, variants, Known};

pub(crate) fn categories() -> Known<Category> {
    Known::new(
        || Category::ALL.iter().map(|c| c.as_str()).collect(),
        super::select::parse_category,
    )
}

/// `--api`: any name (the selected spec's model checks it), the bundled families suggested.
pub(crate) fn families() -> Known<String> {
    Known::new(|| bundled_families().to_vec(), |s| Ok(s.to_owned()))
}

/// `--require`: any name (checked against the model), `all`, the bundled families and the
/// categories suggested.
pub(crate) fn requirements() -> Known<String> {
    Known::new(
        || {
            let mut names = vec!["all"];
            names.extend(bundled_families());
            names.extend(Category::ALL.iter().map(|c| c.as_str()));
            names
        },
        |s| Ok(s.to_owned()),
    )
}

/// The bundled spec's family names, read once (only help, completion and errors ask).
fn bundled_families() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        model::bundled()
            .map(|m| {
                m.families
                    .iter()
                    .map(|f| &*Box::leak(f.name.clone().into_boxed_str()))
                    .collect()
            })
            .unwrap_or_default()
    })
}
