//! Value parsers that know their values: help lists them, completion offers them, and an error
//! names them. The faults, variants and categories are the code's own; the families are the
//! bundled spec's (suggested: a `--spec` may name others, which its model then checks).

use std::ffi::OsStr;
use std::sync::OnceLock;

use clap::builder::{PossibleValue, TypedValueParser};
use integrations_conformance::case::Category;
use integrations_conformance::model;
use integrations_conformance::server::{Fault, Variant};

/// A parse function with the list of values it takes (for help, completion and errors).
#[derive(Clone)]
pub(crate) struct Known<T> {
    names: fn() -> Vec<&'static str>,
    parse: fn(&str) -> Result<T, String>,
}

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Known<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        // clap's own function parser: its error says which flag and why (the parse error
        // names the known values).
        TypedValueParser::parse_ref(&self.parse, cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new((self.names)().into_iter().map(PossibleValue::new)))
    }
}

pub(crate) fn faults() -> Known<Fault> {
    Known {
        names: || Fault::ALL.iter().map(Fault::name).collect(),
        parse: super::target::parse_fault,
    }
}

pub(crate) fn variants() -> Known<super::target::VariantChoice> {
    Known {
        names: || {
            let mut names = vec!["all"];
            names.extend(Variant::ALL.iter().map(Variant::name));
            names
        },
        parse: super::target::parse_variant,
    }
}

pub(crate) fn categories() -> Known<Category> {
    Known {
        names: || Category::ALL.iter().map(|c| c.as_str()).collect(),
        parse: super::select::parse_category,
    }
}

/// `--api`: any name (the selected spec's model checks it), the bundled families suggested.
pub(crate) fn families() -> Known<String> {
    Known {
        names: || bundled_families().to_vec(),
        parse: |s| Ok(s.to_owned()),
    }
}

/// `--require`: any name (checked against the model), `all`, the bundled families and the
/// categories suggested.
pub(crate) fn requirements() -> Known<String> {
    Known {
        names: || {
            let mut names = vec!["all"];
            names.extend(bundled_families());
            names.extend(Category::ALL.iter().map(|c| c.as_str()));
            names
        },
        parse: |s| Ok(s.to_owned()),
    }
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
