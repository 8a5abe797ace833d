//! `conformance init` and `conformance cases`: a starter configuration and the generated cases listed.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use integrations_conformance::case;
use integrations_conformance::config;
use integrations_conformance::report::Scrubber;
use integrations_conformance::rules::Rules;
use serde_json::json;

use super::select::{describe_selection, load_harness, select, Selection};
use super::{note, print, Cli, CliResult, Fatal};

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Overwrite an existing conformance.toml.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

/// `cases` and `rules`: the selection and the output format.
#[derive(Debug, Args)]
pub(crate) struct CasesArgs {
    #[command(flatten)]
    pub(crate) selection: Selection,
    /// text: one case per line; json: an array of objects, for tools.
    #[arg(long, value_enum, default_value = "text")]
    pub(crate) format: Format,
}

pub(crate) fn init(args: InitArgs) -> CliResult<u8> {
    use clap::CommandFactory as _;
    let path = PathBuf::from(config::DEFAULT_FILE);
    if path.exists() && !args.force {
        return Err(Fatal(format!(
            "{} exists; conformance init --force overwrites it",
            path.display()
        )));
    }
    let command = Cli::command();
    let run = command
        .find_subcommand("run")
        .expect("the run command is defined");
    std::fs::write(&path, config::template(run))
        .map_err(|e| Fatal(format!("cannot write {}: {e}", path.display())))?;
    note(&format!(
        "wrote {}: every option of run, commented out; conformance run reads it from this directory",
        path.display()
    ));
    Ok(0)
}

// -------------------------------------------------------------------------------------------
// cases
// -------------------------------------------------------------------------------------------

pub(crate) fn cases(args: CasesArgs) -> CliResult<u8> {
    let (harness, _) = load_harness(args.selection.spec.as_deref())?;
    let cases = select(&harness.model, &args.selection)?;
    // Secrets are generated canaries, never credentials, but the listing has no need of them.
    let scrubber = Scrubber::new(cases.iter().flat_map(|c| c.secrets.iter().cloned()));
    match args.format {
        Format::Text => {
            let width = cases.iter().map(|c| c.id.len()).max().unwrap_or(0);
            let mut out = String::new();
            for c in &cases {
                out.push_str(&format!(
                    "{:width$}  {:10}  {}\n",
                    c.id,
                    c.category.as_str(),
                    scrubber.scrub(&c.title)
                ));
            }
            print(&out)?;
        }
        Format::Json => {
            let list: Vec<serde_json::Value> = cases
                .iter()
                .map(|c| {
                    json!({
                        "id": c.id,
                        "family": c.family,
                        "operation": c.operation,
                        "category": c.category.as_str(),
                        "title": scrubber.clean(&c.title),
                        "rules": Rules::shared().of_case(&c.id),
                        "requires": c.requires,
                        "steps": c.steps.iter().map(|s| {
                            let mut step = json!({
                                "role": s.role.as_str(),
                                "request": scrubber.clean(&s.request.line()),
                            });
                            // A negative's valid request, the one thing changed, and the state
                            // it runs in (the requests of a state change as request lines).
                            if let Some(b) = &s.baseline {
                                let lines = |rs: &[case::Request]| {
                                    rs.iter()
                                        .map(|r| scrubber.clean(&r.line()))
                                        .collect::<Vec<_>>()
                                };
                                let state = match &b.state {
                                    case::BaselineState::Same => json!({"kind": "same"}),
                                    case::BaselineState::SetupRemoved => {
                                        json!({"kind": "setup-removed"})
                                    }
                                    case::BaselineState::SetupAdded(rs) => {
                                        json!({"kind": "setup-added", "requests": lines(rs)})
                                    }
                                    case::BaselineState::Prepared(rs) => {
                                        json!({"kind": "prepared", "requests": lines(rs)})
                                    }
                                };
                                step["baseline"] = json!({
                                    "request": scrubber.clean(&b.request.line()),
                                    "mutation": scrubber.clean(&b.mutation),
                                    "state": state,
                                });
                            }
                            step
                        }).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let mut text = serde_json::to_string_pretty(&list)?;
            text.push('\n');
            print(&text)?;
        }
    }
    if cases.is_empty() {
        note(&format!(
            "no case matches the selection ({})",
            describe_selection(&args.selection)
        ));
    }
    Ok(0)
}
