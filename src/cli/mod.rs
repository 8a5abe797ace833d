//! The command line's subcommands and its parsing, one module each; `main.rs` keeps the
//! arguments, the exit codes and the helpers they share.

pub(crate) mod cases;
pub(crate) mod parse;
pub(crate) mod rules;
pub(crate) mod run;
pub(crate) mod serve;
