//! The command line completed by `conformance.toml`, and the one-line reasons for a command line or a configuration file that cannot be used.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser as _};
use integrations_conformance::{config, settings};

use super::{note, Cli, READ_CONFIG};

/// Why the command line (with its configuration file) cannot be used.
pub(crate) enum Parse {
    Clap(clap::Error),
    /// A configuration file problem, one line that names the file and the key.
    Config(String),
}

/// The command line, completed by the configuration file for the subcommands that reach a
/// target (`run`, `explore`, `replay`): the file's values become flags for the options neither
/// the command line nor the environment set (see `config`). A key that only another of those
/// subcommands knows is left to it.
pub(crate) fn parse_with_config() -> Result<Cli, Parse> {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let matches = Cli::command()
        .try_get_matches_from(&argv)
        .map_err(Parse::Clap)?;
    let Some((name, sub)) = matches
        .subcommand()
        .filter(|(name, _)| READ_CONFIG.contains(name))
    else {
        return Cli::from_arg_matches(&matches).map_err(Parse::Clap);
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let explicit = sub.get_one::<PathBuf>("config");
    let file = config::locate(explicit.map(PathBuf::as_path), &cwd)
        .map_err(|e| Parse::Config(e.to_string()))?;
    let Some(file) = file else {
        return Cli::from_arg_matches(&matches).map_err(Parse::Clap);
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| Parse::Config(format!("cannot read {}: {e}", file.display())))?;
    let command = Cli::command();
    let own = command
        .find_subcommand(name)
        .expect("the subcommand is defined");
    let others: Vec<String> = READ_CONFIG
        .iter()
        .filter(|other| **other != name)
        .filter_map(|other| command.find_subcommand(other))
        .flat_map(config::keys)
        .collect();
    let others: Vec<&str> = others.iter().map(String::as_str).collect();
    let env = |name: &str| std::env::var(name).ok();
    let extra = config::flags_from_file(own, &others, sub, &text, &file, &env)
        .map_err(|e| Parse::Config(e.to_string()))?;
    if extra.is_empty() {
        return Cli::from_arg_matches(&matches).map_err(Parse::Clap);
    }
    let mut full = argv;
    full.extend(extra);
    // The command line alone parsed, so an error now comes from the file's values.
    Cli::try_parse_from(full).map_err(|e| Parse::Config(config::value_error(&e, &file)))
}

/// clap's help and version as clap prints them; its errors as one line (exit code 2).
pub(crate) fn clap_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand
    ) {
        note("a command is needed: run (judge a target), serve (start the reference server), cases (list the cases) or init (write a conformance.toml); see --help");
        return ExitCode::from(2);
    }
    let line = settings::error_line(&Cli::command(), e);
    note(&format!("{line} (see --help)"));
    ExitCode::from(2)
}
