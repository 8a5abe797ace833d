//! `conformance.toml`: every option of `conformance run` (and of `explore` and `replay`, which
//! share its target settings) in a file, so that a team's CI runs a bare `conformance run`. Keys are the long flag names with `_` for `-` (`report_dir`,
//! `readonly_auth`); string values may use `${NAME}` for an environment variable, so that
//! credentials stay in the environment (`auth = "digest:${ATLAS_PUBLIC_KEY}:${ATLAS_PRIVATE_KEY}"`).
//!
//! Precedence: a flag, then the option's own environment variable, then the file, then the
//! default. The file is read against the clap definition of `run` itself (names, repeatable or
//! not, switch or value), so it cannot drift from the flags: its values become flags appended to
//! the command line for every option that the command line and the environment left at its
//! default, and clap parses them as it parses the user's.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Command};

/// The file `run` reads from the working directory when `--config` is not given.
pub const DEFAULT_FILE: &str = "conformance.toml";

/// Arguments of `run` that are not options of a run (they cannot be in the file).
const NOT_IN_FILE: [&str; 3] = ["help", "version", "config"];

/// Why a configuration file cannot be used: printed as one line (exit code 2). It names the file
/// and the key, never a value (a value may be a credential).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// The configuration file to read: `explicit` (which must exist), else `conformance.toml` in
/// `cwd` when there is one, else none.
pub fn locate(explicit: Option<&Path>, cwd: &Path) -> Result<Option<PathBuf>, ConfigError> {
    match explicit {
        Some(p) if p.is_file() => Ok(Some(p.to_path_buf())),
        Some(p) => Err(ConfigError(format!(
            "--config (or CONFORMANCE_CONFIG) {}: no such file (conformance init writes one)",
            p.display()
        ))),
        None => {
            let p = cwd.join(DEFAULT_FILE);
            Ok(p.is_file().then_some(p))
        }
    }
}

/// The file key of an argument: its long flag with `_` for `-`.
fn key_of(arg: &clap::Arg) -> Option<String> {
    arg.get_long().map(|l| l.replace('-', "_"))
}

/// The keys of the file `cmd` takes (its options but `--help`, `--version` and `--config`).
pub fn keys(cmd: &Command) -> Vec<String> {
    options(cmd).into_iter().map(|(k, _)| k).collect()
}

/// The arguments the file may set, with their keys.
fn options(cmd: &Command) -> Vec<(String, &clap::Arg)> {
    cmd.get_arguments()
        .filter(|a| !NOT_IN_FILE.contains(&a.get_id().as_str()))
        .filter_map(|a| key_of(a).map(|k| (k, a)))
        .collect()
}

/// `text` with every `${NAME}` replaced by the environment variable NAME (`$$` is a literal
/// `$`); an unset variable is an error naming it and the key, never another value.
pub fn substitute(
    text: &str,
    key: &str,
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('{') {
            let Some(end) = tail.find('}') else {
                return Err(ConfigError(format!(
                    "{}: `{key}` has a `${{` without its closing `}}`",
                    file.display()
                )));
            };
            let name = &tail[..end];
            let valid = !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(ConfigError(format!(
                    "{}: `{key}` refers to `${{{name}}}`, which is not a variable name",
                    file.display()
                )));
            }
            match env(name) {
                Some(v) => out.push_str(&v),
                None => {
                    return Err(ConfigError(format!(
                        "{}: `{key}` uses ${{{name}}}, which is not set in the environment",
                        file.display()
                    )))
                }
            }
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// One scalar of the file as the text of a flag value.
fn scalar(
    value: &toml::Value,
    key: &str,
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ConfigError> {
    match value {
        toml::Value::String(s) => substitute(s, key, file, env),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        _ => Err(ConfigError(format!(
            "{}: `{key}` must be a string or a number",
            file.display()
        ))),
    }
}

/// The flags the file `text` (read from `file`) adds to the command line of `cmd` that produced
/// `matches`: one for every option the command line and the environment left unset. A key of
/// `others` (the keys only other readers of the file know, see [`keys`]) is left alone; other
/// unknown keys, values of the wrong kind and unset `${NAME}` variables are errors.
pub fn flags_from_file(
    cmd: &Command,
    others: &[&str],
    matches: &ArgMatches,
    text: &str,
    file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<OsString>, ConfigError> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let mut line = format!("{}: not valid TOML: {}", file.display(), e.message());
        if let Some(span) = e.span() {
            let n = text[..span.start.min(text.len())].matches('\n').count() + 1;
            let _ = write!(line, " (line {n})");
        }
        ConfigError(line)
    })?;
    let known = options(cmd);
    let mut flags = Vec::new();
    for (key, value) in &table {
        let Some((_, arg)) = known.iter().find(|(k, _)| k == key) else {
            if others.contains(&key.as_str()) {
                continue;
            }
            let names: Vec<&str> = known.iter().map(|(k, _)| k.as_str()).collect();
            return Err(ConfigError(format!(
                "{}: unknown key `{key}`; known: {}",
                file.display(),
                names.join(", ")
            )));
        };
        let given = matches!(
            matches.value_source(arg.get_id().as_str()),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        );
        let long = format!("--{}", arg.get_long().unwrap_or_default());
        let mut values = Vec::new();
        match (arg.get_action(), value) {
            (ArgAction::SetTrue, toml::Value::Boolean(b)) => {
                if !given && *b {
                    flags.push(OsString::from(&long));
                }
                continue;
            }
            (ArgAction::SetTrue, _) => {
                return Err(ConfigError(format!(
                    "{}: `{key}` must be true or false",
                    file.display()
                )))
            }
            (ArgAction::Append, toml::Value::Array(items)) => {
                for item in items {
                    values.push(scalar(item, key, file, env)?);
                }
            }
            (_, toml::Value::Array(_)) => {
                return Err(ConfigError(format!(
                    "{}: `{key}` takes one value, not a list",
                    file.display()
                )))
            }
            (_, v) => values.push(scalar(v, key, file, env)?),
        }
        if given {
            continue;
        }
        for v in values {
            // `--flag=value`, so that a value starting with `-` is not read as a flag.
            flags.push(OsString::from(format!("{long}={v}")));
        }
    }
    Ok(flags)
}

/// A clap error about a value the file gave, as one line that names the key and says what is
/// wrong without repeating the value (it may have come from a `${NAME}` holding a secret).
pub fn value_error(e: &clap::Error, file: &Path) -> String {
    use clap::error::{ContextKind, ContextValue};
    let key = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => arg
            .trim_start_matches('-')
            .split([' ', '='])
            .next()
            .unwrap_or_default()
            .replace('-', "_"),
        _ => String::new(),
    };
    let why = match std::error::Error::source(e) {
        Some(source) => source.to_string(),
        None => match e.get(ContextKind::ValidValue) {
            Some(ContextValue::Strings(valid)) => format!("possible values: {}", valid.join(", ")),
            _ => "not a valid value".to_owned(),
        },
    };
    if key.is_empty() {
        format!("{}: {why}", file.display())
    } else {
        format!("{}: `{key}`: {why}", file.display())
    }
}

/// A `conformance.toml` with every option of `run` commented out, each with its help, its
/// default and the environment variable that overrides it.
pub fn template(run: &Command) -> String {
    let mut out = String::from(
        "# conformance.toml: the options of `conformance run`, read from the working directory\n\
         # (or from `conformance run --config FILE`).\n\
         #\n\
         # Precedence: a flag, then the option's environment variable, then this file, then the\n\
         # default. Keys are the flags' names with `_` for `-`. Strings may use ${NAME} for an\n\
         # environment variable (an unset one is an error; `$$` is a literal `$`), so credentials\n\
         # stay out of this file:\n\
         #\n\
         #   auth = \"digest:${ATLAS_PUBLIC_KEY}:${ATLAS_PRIVATE_KEY}\"\n\
         #\n\
         # Relative paths are relative to the working directory, as on the command line.\n",
    );
    for (key, arg) in options(run) {
        out.push('\n');
        let help = arg
            .get_long_help()
            .or(arg.get_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        for line in wrap_comment(&help, 96) {
            let _ = writeln!(out, "# {line}");
        }
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        let mut facts = Vec::new();
        facts.push(match (arg.get_action(), defaults.first()) {
            (ArgAction::SetTrue, _) => "default: false".to_owned(),
            (ArgAction::Append, _) => "default: none; a list".to_owned(),
            (_, Some(d)) => format!("default: {d}"),
            (_, None) => "default: none".to_owned(),
        });
        if let Some(env) = arg.get_env() {
            facts.push(format!("environment: {}", env.to_string_lossy()));
        }
        facts.push(format!("flag: --{}", arg.get_long().unwrap_or_default()));
        let _ = writeln!(out, "# ({})", facts.join("; "));
        let placeholder = arg
            .get_value_names()
            .and_then(|n| n.first())
            .map(|n| n.to_string())
            .unwrap_or_else(|| "VALUE".into());
        let example = match (arg.get_action(), defaults.first()) {
            (ArgAction::SetTrue, _) => "false".to_owned(),
            (ArgAction::Append, _) => format!("[\"{placeholder}\"]"),
            (_, Some(d)) if d.parse::<f64>().is_ok() => d.clone(),
            (_, Some(d)) => toml_string(d),
            (_, None) => toml_string(&placeholder),
        };
        let _ = writeln!(out, "# {key} = {example}");
    }
    out
}

/// `s` as a TOML basic string: JSON's string escapes are a subset of TOML's.
fn toml_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// Words of `text` in lines of at most `width` characters (paragraph breaks kept).
fn wrap_comment(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, para) in text.split("\n\n").enumerate() {
        if i > 0 {
            lines.push(String::new());
        }
        let mut line = String::new();
        for word in para.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "PUB" => Some("pk".into()),
            "PRIV" => Some("sk-value".into()),
            _ => None,
        }
    }

    #[test]
    fn substitutes_variables_and_names_the_missing_one_only() {
        let f = Path::new("c.toml");
        assert_eq!(
            substitute("digest:${PUB}:${PRIV}", "auth", f, &env).unwrap(),
            "digest:pk:sk-value"
        );
        assert_eq!(substitute("a$$b$c", "k", f, &env).unwrap(), "a$b$c");
        let e = substitute("digest:${PUB}:${NOPE}", "auth", f, &env).unwrap_err();
        assert!(e.0.contains("${NOPE}") && e.0.contains("`auth`"), "{e}");
        assert!(!e.0.contains("pk"), "a neighbour's value leaked: {e}");
        assert!(substitute("${1X}", "k", f, &env).is_err());
        assert!(substitute("${OPEN", "k", f, &env).is_err());
    }

    #[test]
    fn wraps_comments() {
        let lines = wrap_comment("one two three four\n\nfive", 9);
        assert_eq!(lines, ["one two", "three", "four", "", "five"]);
    }
}
