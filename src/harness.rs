//! The spec, its model and its compiled validators, built once before any case runs and shared
//! by the runner, the checks and the reports.

use crate::error::Result;
use crate::model::Model;
use crate::schema::Validators;
use crate::spec::Spec;

/// The spec, its model and compiled validators: built once, shared by every case.
#[derive(Debug)]
pub struct Harness {
    pub spec: Spec,
    pub model: Model,
    pub validators: Validators,
}

impl Harness {
    pub fn from_spec(spec: Spec) -> Result<Harness> {
        let model = crate::model::build(&spec)?;
        let validators = Validators::build(&spec, &model)?;
        Ok(Harness {
            spec,
            model,
            validators,
        })
    }

    /// The harness for the spec bundled with the crate.
    pub fn bundled() -> Result<Harness> {
        Harness::from_spec(crate::spec::bundled()?)
    }
}
