//! The target settings, one clap argument group for every front end: `conformance run`,
//! `explore` and `replay` flatten [`TargetArgs`], and the cargo front end
//! (`tests/conformance.rs`) reads the same group from the environment and `conformance.toml`
//! ([`from_environment`]). Where the target is, its credentials and projects, what a gateway in
//! front of it asks for (headers, a private CA, a client certificate), how to send (timeout,
//! deadline, rate), the faults and variants of the embedded server, and the configuration file.
//! A flag added here is a flag of every front end, a key of `conformance.toml` and (with its
//! `env`) a variable the cargo front end reads.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Args, Command, FromArgMatches as _};

use crate::config;
use crate::error::{Error, Result};
use crate::sender::Sending;
use crate::server::{Fault, Variant};
use crate::transport::{self, env, Gateway, Target};

/// Where the target is and how to reach it; without `--target`, the embedded reference server
/// with its switches.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Base URL of the target (e.g. https://cloud.mongodb.com). Without it, the embedded
    /// reference server (for `run`: every family is judged against it).
    #[arg(
        long,
        value_name = "URL",
        env = "CONFORMANCE_TARGET",
        hide_env_values = true,
        help_heading = "Target"
    )]
    pub target: Option<String>,
    /// Credentials for the target: digest:PUBLIC_KEY:PRIVATE_KEY, bearer:TOKEN or
    /// oauth:CLIENT_ID:SECRET. Prefer the environment variable: it stays out of shell history.
    #[arg(
        long,
        value_name = "CREDENTIALS",
        env = "CONFORMANCE_AUTH",
        hide_env_values = true,
        help_heading = "Credentials"
    )]
    pub auth: Option<String>,
    /// Read-only credentials (Project Read Only), same forms as --auth; without them the
    /// read-only cases are skipped (and exploration draws no read-only call).
    #[arg(
        long,
        value_name = "CREDENTIALS",
        env = "CONFORMANCE_READONLY_AUTH",
        hide_env_values = true,
        help_heading = "Credentials"
    )]
    pub readonly_auth: Option<String>,
    /// An OAuth client beside digest --auth: CLIENT_ID:SECRET. Every credential case and every
    /// operation then runs with both kinds of credentials, the token endpoint cases included.
    #[arg(
        long,
        value_name = "CLIENT_ID:SECRET",
        env = "CONFORMANCE_OAUTH_CLIENT",
        hide_env_values = true,
        help_heading = "Credentials"
    )]
    pub oauth_client: Option<String>,
    /// The Atlas project (atlas-v1 and atlas-v2 families).
    #[arg(
        long,
        value_name = "ID",
        env = "CONFORMANCE_GROUP_ID",
        hide_env_values = true,
        help_heading = "Projects"
    )]
    pub group_id: Option<String>,
    /// The Cloud Manager project (cloud-manager family).
    #[arg(
        long,
        value_name = "ID",
        env = "CONFORMANCE_CM_GROUP_ID",
        hide_env_values = true,
        help_heading = "Projects"
    )]
    pub cm_group_id: Option<String>,
    /// A project the credentials cannot access (for the access cases).
    #[arg(
        long,
        value_name = "ID",
        env = "CONFORMANCE_OTHER_GROUP_ID",
        hide_env_values = true,
        help_heading = "Projects"
    )]
    pub other_group_id: Option<String>,
    /// A bearer token the target issued and that has since expired (for example one issued
    /// more than an hour ago): runs the expired-token cases on a real target; without it they
    /// are skipped.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "CONFORMANCE_EXPIRED_TOKEN",
        hide_env_values = true,
        help_heading = "Credentials"
    )]
    pub expired_token: Option<String>,
    /// Accept an invalid TLS certificate from the target.
    #[arg(
        long,
        env = "CONFORMANCE_INSECURE",
        hide_env_values = true,
        value_parser = env::switch,
        help_heading = "Target"
    )]
    pub insecure: bool,
    #[command(flatten)]
    pub gateway: GatewayArgs,
    /// Per-request timeout: 10s, 2m, 1m30s, or a number of seconds (10, 0.5).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "10",
        env = "CONFORMANCE_TIMEOUT",
        hide_env_values = true,
        value_parser = parse_duration,
        help_heading = "Sending"
    )]
    pub timeout: Duration,
    /// Wall-clock budget (10s, 2m, 1m30s, or seconds): `run` skips the cases not started by
    /// then; `explore` stops by then (as --budget); `replay` cannot judge past it.
    #[arg(
        long,
        value_name = "DURATION",
        env = "CONFORMANCE_DEADLINE",
        hide_env_values = true,
        value_parser = parse_duration,
        help_heading = "Sending"
    )]
    pub deadline: Option<Duration>,
    /// At most this many requests per second (be gentle with a shared or rate-limited target).
    #[arg(
        long,
        value_name = "PER_SEC",
        env = "CONFORMANCE_RATE",
        hide_env_values = true,
        value_parser = parse_rate,
        help_heading = "Sending"
    )]
    pub rate: Option<f64>,
    /// How often a 429 (Too Many Requests) is retried, after its Retry-After (at most 10 s),
    /// before the 429 is the answer judged; 0: never.
    #[arg(
        long = "retries-429",
        value_name = "N",
        default_value_t = Sending::default().retries_429,
        env = "CONFORMANCE_RETRIES_429",
        hide_env_values = true,
        help_heading = "Sending"
    )]
    pub retries_429: u32,
    /// Switch on a tolerated variant of the embedded server (`all`: every one; see
    /// `conformance serve --list-variants`); repeatable. Not with --target.
    #[arg(long = "variant", value_name = "NAME", value_parser = variants(), help_heading = "Embedded server")]
    pub variants: Vec<VariantChoice>,
    /// Run against the embedded reference server with this deliberate bug switched on, to see a
    /// failing run (see `conformance serve --list-faults`); repeatable. Not with --target.
    #[arg(long = "fault", value_name = "NAME", value_parser = faults(), help_heading = "Embedded server")]
    pub faults: Vec<Fault>,
    /// Read the options from this TOML file (default: conformance.toml in the working directory,
    /// when there is one; `conformance init` writes a commented one). Flags and environment
    /// variables win over the file.
    #[arg(
        long,
        value_name = "FILE",
        env = "CONFORMANCE_CONFIG",
        hide_env_values = true,
        help_heading = "Configuration"
    )]
    pub config: Option<PathBuf>,
}

/// What an API gateway in front of the target asks for.
#[derive(Debug, Args)]
pub struct GatewayArgs {
    /// Send this header with every request (cases, cleanup, the OAuth token request, digest
    /// challenges), e.g. an API gateway's key: 'NAME: VALUE'; repeatable. The
    /// environment variable takes one header a line; prefer it (or `${NAME}` in
    /// conformance.toml): a flag's value shows in the process list. The value is a secret: it
    /// is scrubbed from every report and output. Accept, Content-Type, Authorization, Host,
    /// Content-Length and Transfer-Encoding are the harness's own and cannot be set.
    #[arg(
        long = "header",
        value_name = "NAME: VALUE",
        env = "CONFORMANCE_HEADERS",
        hide_env_values = true,
        value_delimiter = '\n',
        help_heading = "Gateway"
    )]
    pub headers: Vec<String>,
    /// Trust the certificates of this PEM file (one or more) in addition to the platform's
    /// roots: a target whose certificate a private CA issued.
    #[arg(
        long,
        value_name = "FILE",
        env = "CONFORMANCE_CA_CERT",
        hide_env_values = true,
        help_heading = "Gateway"
    )]
    pub ca_cert: Option<PathBuf>,
    /// Present this client certificate (PEM; the chain, leaf first) when the target asks for
    /// one (mutual TLS); needs --client-key.
    #[arg(
        long,
        value_name = "FILE",
        env = "CONFORMANCE_CLIENT_CERT",
        hide_env_values = true,
        help_heading = "Gateway"
    )]
    pub client_cert: Option<PathBuf>,
    /// The private key of --client-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(
        long,
        value_name = "FILE",
        env = "CONFORMANCE_CLIENT_KEY",
        hide_env_values = true,
        help_heading = "Gateway"
    )]
    pub client_key: Option<PathBuf>,
}

/// The target settings read and checked: the target given (`None`: the embedded server), the
/// gateway every request goes through (also to the embedded server), the embedded server's
/// switches.
pub struct Resolved {
    pub given: Option<Target>,
    pub gateway: Gateway,
    pub faults: Vec<Fault>,
    pub variants: Vec<Variant>,
}

impl TargetArgs {
    /// Whether a target was given (by flag or variable, not blank).
    pub fn target_given(&self) -> bool {
        given(&self.target).is_some()
    }

    /// `--fault` names a bug of the embedded server: with a target it is the mistake.
    pub fn check_faults(&self) -> Result<()> {
        if self.target_given() && !self.faults.is_empty() {
            return Err(Error::Usage(
                "--fault switches on a bug of the embedded reference server; it cannot be used \
                 with --target (or CONFORMANCE_TARGET): drop one of them"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Everything the flags name, read and checked; the one way a subcommand gets its target.
    /// A mistake is one line, never a credential or a header value.
    pub fn resolve(&self) -> Result<Resolved> {
        // Before the target's own checks: with --fault, --target is the mistake to point out.
        self.check_faults()?;
        let settings = transport::TargetSettings {
            target: self.target.clone(),
            auth: self.auth.clone(),
            readonly_auth: self.readonly_auth.clone(),
            group_id: self.group_id.clone(),
            cm_group_id: self.cm_group_id.clone(),
            other_group_id: self.other_group_id.clone(),
            expired_token: self.expired_token.clone(),
            oauth_client: self.oauth_client.clone(),
            insecure: self.insecure,
        };
        let given = settings.build()?;
        // Also in front of the embedded server: a gateway's headers are sent to it as to any
        // target.
        let gateway = self.gateway.gateway()?;
        let variants = variants_of(&self.variants);
        if given.is_some() && !variants.is_empty() {
            return Err(Error::Usage(
                "--variant switches on a choice of the embedded server; it cannot apply to --target"
                    .into(),
            ));
        }
        Ok(Resolved {
            given,
            gateway,
            faults: self.faults.clone(),
            variants,
        })
    }
}

impl GatewayArgs {
    /// Read and check everything the flags name; a mistake is one line, never a header value.
    fn gateway(&self) -> Result<Gateway> {
        let settings = transport::GatewaySettings {
            headers: self.headers.clone(),
            ca_cert: self.ca_cert.clone(),
            client_cert: self.client_cert.clone(),
            client_key: self.client_key.clone(),
        };
        settings.build()
    }
}

/// The keys of `conformance.toml` that are the subcommands' own options (`run`, `explore`,
/// `replay`), not target settings: [`from_environment`] leaves them alone, as `run` leaves
/// `explore`'s. The command line's test (`cli/target.rs`) keeps this list exact.
pub const SUBCOMMAND_KEYS: &[&str] = &[
    "api",
    "budget",
    "category",
    "color",
    "dry_run",
    "explore_seed",
    "explore_steps",
    "filter",
    "har",
    "jobs",
    "known_failures",
    "max_len",
    "max_requests",
    "quick",
    "regressions",
    "report_dir",
    "require",
    "seed",
    "spec",
    "steps",
    "update_baseline",
    "wait_for_target",
    "write_baseline",
];

/// The argument group alone, as a command of its own (the cargo front end's command line).
impl TargetArgs {
    /// How to send: the sending flags, with the sender's defaults for the rest.
    pub fn sending(&self) -> Sending {
        Sending {
            timeout: self.timeout,
            deadline: self.deadline,
            rate: self.rate,
            retries_429: self.retries_429,
            ..Sending::default()
        }
    }
}

pub fn command() -> Command {
    TargetArgs::augment_args(Command::new("conformance"))
}

/// Every environment variable the target settings read (the `env` of each flag), named once
/// in the flags themselves.
pub fn variables() -> Vec<String> {
    command()
        .get_arguments()
        .filter_map(|a| a.get_env())
        .map(|e| e.to_string_lossy().into_owned())
        .collect()
}

/// The target settings as the cargo front end reads them: no command line, the flags'
/// environment variables, then the configuration file (the one `CONFORMANCE_CONFIG` names, else
/// `conformance.toml` in `dir` when there is one), merged by [`config::flags_from_file`] as
/// `conformance run` merges it. A key only a subcommand knows ([`SUBCOMMAND_KEYS`]) is left
/// alone. A mistake is one line (a usage error), never a value from the file.
pub fn from_environment(dir: &Path) -> Result<TargetArgs> {
    let cmd = command();
    let bare = [OsString::from("conformance")];
    let matches = cmd
        .clone()
        .try_get_matches_from(bare.clone())
        .map_err(|e| Error::Usage(error_line(&cmd, &e)))?;
    let usage = |e: config::ConfigError| Error::Usage(e.0);
    let explicit = matches.get_one::<PathBuf>("config");
    let file = config::locate(explicit.map(PathBuf::as_path), dir).map_err(usage)?;
    let matches = match file {
        None => matches,
        Some(file) => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Error::Usage(format!("cannot read {}: {e}", file.display())))?;
            let env = |name: &str| std::env::var(name).ok();
            let extra =
                config::flags_from_file(&cmd, SUBCOMMAND_KEYS, &matches, &text, &file, &env)
                    .map_err(usage)?;
            if extra.is_empty() {
                matches
            } else {
                cmd.clone()
                    .try_get_matches_from(bare.into_iter().chain(extra))
                    .map_err(|e| Error::Usage(config::value_error(&e, &file)))?
            }
        }
    };
    TargetArgs::from_arg_matches(&matches).map_err(|e| Error::Usage(error_line(&cmd, &e)))
}

/// A clap error as one line: what is wrong, the values a flag takes, clap's tip and the usage;
/// for a value from a variable, the variable is named.
pub fn error_line(cmd: &Command, e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue};
    let text = e.render().to_string();
    let mut parts: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(first) = line.strip_prefix("error: ") {
            parts.push(first.to_owned());
        } else if line.starts_with("[possible values:") {
            // clap names the values a flag takes on a line of its own: keep it.
            parts.push(line.trim_matches(['[', ']']).to_owned());
        } else if let Some(tip) = line.strip_prefix("tip: ") {
            parts.push(tip.to_owned());
        } else if line.starts_with("Usage:") {
            parts.push(format!(
                "usage: {}",
                line.trim_start_matches("Usage:").trim()
            ));
        }
    }
    if parts.is_empty() {
        parts.push(text.lines().next().unwrap_or("invalid usage").to_owned());
    }
    // clap names the flag; a value that came from the flag's variable is named as such.
    if let Some(ContextValue::String(flag)) = e.get(ContextKind::InvalidArg) {
        let long = flag.trim_start_matches('-').split([' ', '=']).next();
        let arg = std::iter::once(cmd)
            .chain(cmd.get_subcommands())
            .flat_map(Command::get_arguments)
            .find(|a| a.get_long() == long);
        if let Some(var) = arg.and_then(|a| a.get_env()) {
            let var = var.to_string_lossy();
            if std::env::var_os(&*var).is_some() && !parts[0].contains(&*var) {
                parts[0] = format!("{} (set by {var})", parts[0]);
            }
        }
    }
    parts.join("; ")
}

/// Value parsers that know their values: help lists them, completion offers them, and an
/// error names them.
#[derive(Clone)]
pub struct Known<T> {
    names: fn() -> Vec<&'static str>,
    parse: fn(&str) -> Result<T, String>,
}

impl<T> Known<T> {
    /// A parse function with the list of values it takes (for help, completion and errors).
    pub fn new(names: fn() -> Vec<&'static str>, parse: fn(&str) -> Result<T, String>) -> Self {
        Known { names, parse }
    }
}

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Known<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &Command,
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

/// `--fault`: the embedded server's deliberate bugs.
pub fn faults() -> Known<Fault> {
    Known::new(|| Fault::ALL.iter().map(Fault::name).collect(), parse_fault)
}

/// `--variant`: the embedded server's tolerated variants, and `all`.
pub fn variants() -> Known<VariantChoice> {
    Known::new(
        || {
            let mut names = vec!["all"];
            names.extend(Variant::ALL.iter().map(Variant::name));
            names
        },
        parse_variant,
    )
}

/// A flag or variable given as text, `None` when absent or blank.
pub fn given(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The longest duration any flag takes.
const WEEK: Duration = Duration::from_secs(7 * 86_400);

/// A duration, the one syntax of every flag that takes one (`--timeout`, `--deadline`,
/// `--budget`): `10s`, `2m`, `1m30s`, `500ms`, or a bare number of seconds (`10`, `0.5`). More
/// than 0 and at most a week. The error does not repeat the value: it may come from a
/// `${NAME}` in conformance.toml.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let d = match s.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= WEEK.as_secs_f64() => {
            Duration::from_secs_f64(secs)
        }
        Ok(_) => Duration::ZERO,
        Err(_) => humantime::parse_duration(s).map_err(|_| {
            "not a duration: a number of seconds (10, 0.5) or a duration such as 10s, 2m, 1m30s"
                .to_owned()
        })?,
    };
    if d.is_zero() || d > WEEK {
        return Err("must be more than 0 and at most a week".into());
    }
    Ok(d)
}

pub fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        // The value is not repeated: it may come from a `${NAME}` in conformance.toml.
        _ => Err("not a positive number of requests per second".to_owned()),
    }
}

pub fn parse_fault(s: &str) -> Result<Fault, String> {
    s.parse::<Fault>()
        .map_err(|e| format!("{e} (conformance serve --list-faults describes them)"))
}

/// One `--variant` value: a variant, or every one (`all`).
#[derive(Debug, Clone)]
pub struct VariantChoice(Vec<Variant>);

pub fn parse_variant(s: &str) -> Result<VariantChoice, String> {
    Variant::parse_list(s)
        .map(VariantChoice)
        .map_err(|e| format!("{e} (conformance serve --list-variants describes them)"))
}

/// The variants named, each once, in their list order.
pub fn variants_of(choices: &[VariantChoice]) -> Vec<Variant> {
    let mut out: Vec<Variant> = choices.iter().flat_map(|c| c.0.iter().copied()).collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::FromArgMatches as _;

    use super::{command, parse_duration, TargetArgs};

    #[test]
    fn the_429_retries_are_a_sending_setting_of_every_front_end() {
        let parse = |argv: &[&str]| {
            let matches = command().try_get_matches_from(argv).unwrap();
            TargetArgs::from_arg_matches(&matches).unwrap().sending()
        };
        assert_eq!(parse(&["conformance"]).retries_429, 3);
        assert_eq!(parse(&["conformance", "--retries-429", "0"]).retries_429, 0);
        assert!(command()
            .try_get_matches_from(["conformance", "--retries-429", "-1"])
            .is_err());
        assert!(super::variables().contains(&"CONFORMANCE_RETRIES_429".to_owned()));
    }

    #[test]
    fn durations_take_units_and_bare_seconds() {
        let ok = [
            ("10s", 10_000),
            ("2m", 120_000),
            ("1m30s", 90_000),
            ("500ms", 500),
            ("10", 10_000),
            ("1.5", 1_500),
            ("0.5", 500),
            (" 3 ", 3_000),
        ];
        for (text, ms) in ok {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_bad_duration_is_a_clear_error_without_its_value() {
        for text in ["garbage-secret", "", "10 parsecs", "s10"] {
            let e = parse_duration(text).unwrap_err();
            assert!(e.contains("not a duration"), "{text:?}: {e}");
            assert!(e.contains("10s") && e.contains("2m"), "{text:?}: {e}");
            assert!(!e.contains("garbage"), "the value leaked: {e}");
        }
        for text in ["0", "0s", "-1", "inf", "NaN", "8d", "700000"] {
            let e = parse_duration(text).unwrap_err();
            assert!(
                e.contains("more than 0 and at most a week"),
                "{text:?}: {e}"
            );
        }
    }
}
