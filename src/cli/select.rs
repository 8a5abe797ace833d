//! What `run`, `cases` and `rules` share: the spec the cases come from and the selection of
//! cases (`--api`, `--filter`, `--category`, `--spec`).

use std::path::{Path, PathBuf};

use clap::Args;
use integrations_conformance::case::{self, Case, Category};
use integrations_conformance::explore::regression;
use integrations_conformance::model::Model;
use integrations_conformance::runner::Harness;
use integrations_conformance::spec;

use super::{CliResult, Fatal};

/// Which cases: shared by `run` and `cases`.
#[derive(Debug, Args)]
pub(crate) struct Selection {
    /// Only the families named (cloud-manager, atlas-v1, atlas-v2); repeatable. Default: all.
    #[arg(long = "api", value_name = "FAMILY", value_parser = super::values::families(), help_heading = "Selection")]
    pub(crate) apis: Vec<String>,
    /// Only cases whose id contains SUBSTRING.
    #[arg(long, value_name = "SUBSTRING", help_heading = "Selection")]
    pub(crate) filter: Option<String>,
    /// Only the categories named (validation, redaction, pagination, envelope, errors, auth,
    /// versions, state, concurrency); repeatable. Default: all.
    #[arg(long = "category", value_name = "NAME", value_parser = super::values::categories(), help_heading = "Selection")]
    pub(crate) categories: Vec<Category>,
    /// The OpenAPI spec to generate the cases from. Default: the bundled
    /// spec/integrations.openapi.yaml.
    #[arg(long, value_name = "PATH", help_heading = "Selection")]
    pub(crate) spec: Option<PathBuf>,
    /// The kept reproductions to run as cases: every *.json that `conformance explore` wrote,
    /// and nothing else (another file there is an error). Default: regressions/ beside
    /// conformance.toml (--config), or in the working directory.
    #[arg(long, value_name = "DIR", help_heading = "Selection")]
    pub(crate) regressions: Option<PathBuf>,
}

pub(crate) fn parse_category(s: &str) -> Result<Category, String> {
    Category::parse(s).ok_or_else(|| {
        let known: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
        format!("unknown category; known: {}", known.join(", "))
    })
}

pub(crate) fn load_harness(spec_path: Option<&Path>) -> CliResult<(Harness, String)> {
    match spec_path {
        None => Ok((
            Harness::bundled().map_err(|e| Fatal(format!("the bundled spec is broken: {e}")))?,
            "bundled".into(),
        )),
        Some(path) => {
            let loaded = spec::load(path).and_then(Harness::from_spec);
            let harness =
                loaded.map_err(|e| Fatal(format!("cannot use spec {}: {e}", path.display())))?;
            Ok((harness, path.display().to_string()))
        }
    }
}

/// The cases the selection names, in id order.
pub(crate) fn select(model: &Model, sel: &Selection) -> CliResult<Vec<Case>> {
    select_from(model, all_cases(model, sel, None)?, sel)
}

/// Every case there is: the generated ones and the reproductions kept in the regressions
/// directory (see [`regressions_dir`]), which run as ordinary cases.
pub(crate) fn all_cases(
    model: &Model,
    sel: &Selection,
    config: Option<&Path>,
) -> CliResult<Vec<Case>> {
    let mut cases = case::generate(model);
    let dir = regressions_dir(sel.regressions.as_deref(), config);
    if sel.regressions.is_some() && !dir.is_dir() {
        return Err(Fatal(format!(
            "--regressions {}: not a directory",
            dir.display()
        )));
    }
    cases.extend(regression::cases(model, &dir)?);
    Ok(cases)
}

/// `--regressions DIR`, or `regressions/` beside the configuration file `--config` names, or
/// in the working directory (where conformance.toml is read from).
pub(crate) fn regressions_dir(explicit: Option<&Path>, config: Option<&Path>) -> PathBuf {
    match (explicit, config.and_then(Path::parent)) {
        (Some(dir), _) => dir.to_path_buf(),
        (None, Some(beside)) => beside.join(regression::DIR),
        (None, None) => PathBuf::from(regression::DIR),
    }
}

/// The cases of `cases` the selection names, in id order.
pub(crate) fn select_from(
    model: &Model,
    mut cases: Vec<Case>,
    sel: &Selection,
) -> CliResult<Vec<Case>> {
    let known: Vec<&str> = model.families.iter().map(|f| f.name.as_str()).collect();
    for api in &sel.apis {
        if !known.contains(&api.as_str()) {
            return Err(Fatal(format!(
                "unknown API family {api:?} (--api); known: {}",
                known.join(", ")
            )));
        }
    }
    cases.retain(|c| {
        (sel.apis.is_empty() || sel.apis.contains(&c.family))
            && (sel.categories.is_empty() || sel.categories.contains(&c.category))
            && sel.filter.as_deref().is_none_or(|f| c.id.contains(f))
    });
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(cases)
}

pub(crate) fn describe_selection(sel: &Selection) -> String {
    let mut parts = Vec::new();
    if !sel.apis.is_empty() {
        parts.push(format!("--api {}", sel.apis.join(",")));
    }
    if !sel.categories.is_empty() {
        parts.push(format!(
            "--category {}",
            sel.categories
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(",")
        ));
    }
    if let Some(f) = &sel.filter {
        parts.push(format!("--filter {f:?}"));
    }
    parts.join(" ")
}
