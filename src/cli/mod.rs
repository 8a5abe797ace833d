//! The command line: one module per subcommand, each with its arguments (clap derive) beside
//! its handler; [`target`] is the argument group every subcommand that reaches a target
//! flattens, [`select`] the case selection `run`, `cases` and `rules` share, [`parse`] the
//! command line completed by `conformance.toml`. `main.rs` only parses, dispatches and maps
//! exit codes; what every handler shares (the one-line error, stdout, the runtime) is here.

pub(crate) mod cases;
pub(crate) mod explore;
pub(crate) mod parse;
pub(crate) mod quick;
pub(crate) mod rules;
pub(crate) mod run;
pub(crate) mod select;
pub(crate) mod serve;
pub(crate) mod target;
pub(crate) mod values;
pub(crate) mod wait;

use std::io::Write as _;

use clap::{Parser, Subcommand};

use self::cases::{CasesArgs, InitArgs};
use self::explore::{ExploreArgs, ReplayArgs};
use self::run::RunArgs;
use self::serve::ServeArgs;

/// Conformance test harness for the third-party service integrations Admin API of MongoDB Atlas
/// and Cloud Manager (`/api/public/v1.0`, `/api/atlas/v1.0`, `/api/atlas/v2`).
#[derive(Debug, Parser)]
#[command(
    name = "conformance",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the conformance cases against a target (default: the embedded reference server) and
    /// write report.json, junit.xml, report.md, report.html and summary.md.
    ///
    /// Exit code 0: conformant; 1: at least one case failed; 2: could not judge.
    Run(Box<RunArgs>),
    /// Start the reference server and print how to reach it as one JSON line (with --env, as
    /// `export` lines to eval); serves until Ctrl-C or SIGTERM.
    Serve(Box<ServeArgs>),
    /// List the generated cases (id, category, title).
    Cases(CasesArgs),
    /// List the contract's rules (spec/rules.yaml): id, level, how many of the selected cases
    /// exercise each, and the rule in one line. Every report has the same list with each rule's
    /// outcome; a run's console summary ends with "rules: N of M exercised, K failed".
    Rules(CasesArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout, e.g.
    /// `conformance completions bash > ~/.local/share/bash-completion/completions/conformance`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write a commented conformance.toml into the working directory: every option of `run`,
    /// commented out, with its default and the environment variable that overrides it.
    Init(InitArgs),
    /// Explore: seeded random sequences of requests, each judged against the reference model;
    /// the first divergence is shrunk and written as a reproduction (repro-SEED.json, .sh).
    ///
    /// Exit code 0: no divergence; 1: a divergence; 2: could not judge.
    Explore(Box<ExploreArgs>),
    /// Replay a reproduction written by `explore` against a target (default: the embedded
    /// server). Exit code 0: it agrees with the reference model; 1: it still diverges.
    Replay(Box<ReplayArgs>),
}

/// The subcommands that reach a target: they flatten [`target::TargetArgs`] and read
/// `conformance.toml`.
pub(crate) const READ_CONFIG: [&str; 3] = ["run", "explore", "replay"];

/// Runs the subcommand; its exit code.
pub(crate) fn dispatch(command: Command) -> CliResult<u8> {
    match command {
        Command::Run(args) => run::run(*args),
        Command::Serve(args) => serve::serve(*args),
        Command::Cases(args) => cases::cases(args),
        Command::Rules(args) => rules::rules(args),
        Command::Completions { shell } => completions(shell),
        Command::Init(args) => cases::init(args),
        Command::Explore(args) => explore::explore(*args),
        Command::Replay(args) => explore::replay(*args),
    }
}

/// Why the command could not do its job: printed as one `conformance: …` line, exit code 2.
#[derive(Debug)]
pub(crate) struct Fatal(pub(crate) String);

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(e: E) -> Self {
        Fatal(e.to_string())
    }
}

pub(crate) type CliResult<T> = Result<T, Fatal>;

/// The library's internal labels (`auth: `, `target: `, `usage: `, `io: `: how its errors
/// display) taken out of a message for the user, at its start or after a `: `.
pub(crate) fn unlabel(message: &str) -> String {
    const LABELS: [&str; 4] = ["auth: ", "target: ", "usage: ", "io: "];
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    loop {
        if let Some(label) = LABELS.iter().find(|l| rest.starts_with(**l)) {
            rest = &rest[label.len()..];
            continue;
        }
        match rest.find(": ") {
            Some(at) => {
                out.push_str(&rest[..at + 2]);
                rest = &rest[at + 2..];
            }
            None => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

/// One line on stderr, prefixed; never fails (a closed stderr is nobody's business).
pub(crate) fn note(message: &str) {
    let line: String = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let _ = writeln!(std::io::stderr().lock(), "conformance: {line}");
}

/// Text on stdout; a reader that went away (`| head`) is not an error.
pub(crate) fn print(text: &str) -> CliResult<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Fatal(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// `--report-dir` checked before the first request: created if needed, and a file written and
/// removed there, so that a verdict is never lost to a directory that cannot be written.
pub(crate) fn writable_dir(dir: &std::path::Path) -> CliResult<()> {
    let probe = dir.join(".conformance-write-probe");
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&probe, b""))
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| {
            Fatal(format!(
                "--report-dir {}: the reports cannot be written there ({e}); give a directory \
                 the run may create and write",
                dir.display()
            ))
        })
}

pub(crate) fn runtime() -> CliResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Fatal(format!("cannot start the async runtime: {e}")))
}

fn completions(shell: clap_complete::Shell) -> CliResult<u8> {
    use clap::CommandFactory as _;
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "conformance", &mut out);
    print(&String::from_utf8_lossy(&out))?;
    Ok(0)
}

/// An empty `CONFORMANCE_*` variable counts as unset: CI systems (a GitHub Action's optional
/// inputs among them) set variables they have no value for to the empty string. Done first,
/// while the process has one thread.
pub(crate) fn drop_empty_variables() {
    let empty: Vec<std::ffi::OsString> = std::env::vars_os()
        .filter(|(k, v)| k.to_string_lossy().starts_with("CONFORMANCE_") && v.is_empty())
        .map(|(k, _)| k)
        .collect();
    for k in empty {
        std::env::remove_var(k);
    }
}

#[cfg(test)]
mod tests {
    use super::unlabel;

    #[test]
    fn internal_labels_are_taken_out() {
        assert_eq!(
            unlabel("cannot judge the target: target: cannot reach http://h: io: refused"),
            "cannot judge the target: cannot reach http://h: refused"
        );
        assert_eq!(
            unlabel("auth: the token request failed"),
            "the token request failed"
        );
        assert_eq!(unlabel("a mistarget: kept"), "a mistarget: kept");
    }
}
