//! The target settings every subcommand that reaches a target flattens (`run`, `explore`,
//! `replay`): the library's one argument group ([`TargetArgs`]), which the cargo
//! front end reads too. Here: its errors as the command line's one-line [`Fatal`].

use integrations_conformance::error::Error;

pub(crate) use integrations_conformance::settings::{
    parse_duration, variants_of, Resolved, TargetArgs, VariantChoice,
};

use super::{CliResult, Fatal};

/// A library error as one line: a usage sentence stands on its own on the command line.
pub(crate) fn fatal(e: Error) -> Fatal {
    match e {
        Error::Usage(m) => Fatal(m),
        e => Fatal(e.to_string()),
    }
}

/// `--fault` with `--target` is the mistake to point out first.
pub(crate) fn check_faults(args: &TargetArgs) -> CliResult<()> {
    args.check_faults().map_err(fatal)
}

/// Everything the flags name, read and checked (see [`TargetArgs::resolve`]).
pub(crate) fn resolve(args: &TargetArgs) -> CliResult<Resolved> {
    args.resolve().map_err(fatal)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use clap::{Args as _, CommandFactory as _};
    use integrations_conformance::config;
    use integrations_conformance::settings::{self, TargetArgs};

    use crate::cli::{Cli, READ_CONFIG};

    /// The library's list of the subcommands' own keys (which the cargo front end leaves alone
    /// in `conformance.toml`) is exactly what `run`, `explore` and `replay` take beyond the
    /// shared group.
    #[test]
    fn the_library_names_every_key_of_the_subcommands_own() {
        let group: BTreeSet<String> =
            config::keys(&TargetArgs::augment_args(clap::Command::new("group")))
                .into_iter()
                .collect();
        let cli = Cli::command();
        let own: BTreeSet<String> = READ_CONFIG
            .iter()
            .filter_map(|name| cli.find_subcommand(name))
            .flat_map(config::keys)
            .filter(|k| !group.contains(k))
            .collect();
        let listed: BTreeSet<String> = settings::SUBCOMMAND_KEYS
            .iter()
            .map(|k| (*k).to_owned())
            .collect();
        assert_eq!(listed, own, "settings::SUBCOMMAND_KEYS");
        assert!(group.is_disjoint(&listed));
    }
}
