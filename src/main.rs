//! `conformance`: the command line. `run` judges a target (by default the embedded reference
//! server) and writes the reports, `serve` starts the reference server on its own, `cases` lists
//! the generated cases; `explore` and `replay` look for divergences from the reference model.
//! Each subcommand's arguments and handler are a module of [`cli`]; this file only parses,
//! dispatches and maps exit codes.
//!
//! Exit codes: 0 conformant, 1 non-conformant (a case failed), 2 the run could not judge (bad
//! usage, an unreachable target, credentials that never work, a broken spec), always with one
//! `conformance: …` line on stderr saying why. No credential or generated secret is ever printed.

use std::process::ExitCode;

mod cli;

use cli::parse::{clap_error, parse_with_config, Parse};
use cli::{dispatch, drop_empty_variables, note, unlabel, Fatal};

fn main() -> ExitCode {
    drop_empty_variables();
    let cli = match parse_with_config() {
        Ok(cli) => cli,
        Err(Parse::Clap(e)) => return clap_error(&e),
        Err(Parse::Config(message)) => {
            note(&message);
            return ExitCode::from(2);
        }
    };
    match dispatch(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(Fatal(message)) => {
            note(&unlabel(&message));
            ExitCode::from(2)
        }
    }
}
