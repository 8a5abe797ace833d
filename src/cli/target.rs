//! The target settings every subcommand that reaches a target flattens (`run`, `explore`,
//! `replay`): where the target is, its credentials and projects, what a gateway in front of it
//! asks for (headers, a private CA, a client certificate), how to send (timeout, deadline,
//! rate), the faults and variants of the embedded server, and the configuration file. A flag
//! added here is a flag of all three, and a key of `conformance.toml` for all three.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use integrations_conformance::error::Error;
use integrations_conformance::server::{Fault, Variant};
use integrations_conformance::transport::{self, Gateway, Target};

use super::{CliResult, Fatal};

/// Where the target is and how to reach it; without `--target`, the embedded reference server
/// with its switches.
#[derive(Debug, Args)]
pub(crate) struct TargetArgs {
    /// Base URL of the target (e.g. https://cloud.mongodb.com). Without it, the embedded
    /// reference server (for `run`: every family is judged against it).
    #[arg(
        long,
        value_name = "URL",
        env = "CONFORMANCE_TARGET",
        hide_env_values = true,
        help_heading = "Target"
    )]
    pub(crate) target: Option<String>,
    /// Credentials for the target: digest:PUBLIC_KEY:PRIVATE_KEY, bearer:TOKEN or
    /// oauth:CLIENT_ID:SECRET. Prefer the environment variable: it stays out of shell history.
    #[arg(
        long,
        value_name = "CREDENTIALS",
        env = "CONFORMANCE_AUTH",
        hide_env_values = true,
        help_heading = "Credentials"
    )]
    pub(crate) auth: Option<String>,
    /// Read-only credentials (Project Read Only), same forms as --auth; without them the
    /// read-only cases are skipped (and exploration draws no read-only call).
    #[arg(
        long,
        value_name = "CREDENTIALS",
        env = "CONFORMANCE_READONLY_AUTH",
        hide_env_values = true,
        help_heading = "Credentials"
    )]
    pub(crate) readonly_auth: Option<String>,
    /// An OAuth client beside digest --auth: CLIENT_ID:SECRET. Every credential case and every
    /// operation then runs with both kinds of credentials, the token endpoint cases included.
    #[arg(
        long,
        value_name = "CLIENT_ID:SECRET",
        env = "CONFORMANCE_OAUTH_CLIENT",
        hide_env_values = true,
        help_heading = "Credentials"
    )]
    pub(crate) oauth_client: Option<String>,
    /// The Atlas project (atlas-v1 and atlas-v2 families).
    #[arg(
        long,
        value_name = "ID",
        env = "CONFORMANCE_GROUP_ID",
        hide_env_values = true,
        help_heading = "Projects"
    )]
    pub(crate) group_id: Option<String>,
    /// The Cloud Manager project (cloud-manager family).
    #[arg(
        long,
        value_name = "ID",
        env = "CONFORMANCE_CM_GROUP_ID",
        hide_env_values = true,
        help_heading = "Projects"
    )]
    pub(crate) cm_group_id: Option<String>,
    /// A project the credentials cannot access (for the access cases).
    #[arg(
        long,
        value_name = "ID",
        env = "CONFORMANCE_OTHER_GROUP_ID",
        hide_env_values = true,
        help_heading = "Projects"
    )]
    pub(crate) other_group_id: Option<String>,
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
    pub(crate) expired_token: Option<String>,
    /// Accept an invalid TLS certificate from the target.
    #[arg(
        long,
        env = "CONFORMANCE_INSECURE",
        hide_env_values = true,
        value_parser = transport::env::switch,
        help_heading = "Target"
    )]
    pub(crate) insecure: bool,
    #[command(flatten)]
    pub(crate) gateway: GatewayArgs,
    /// Per-request timeout: 10s, 2m, 1m30s, or a number of seconds (10, 0.5).
    #[arg(long, value_name = "DURATION", default_value = "10", value_parser = parse_duration, help_heading = "Sending")]
    pub(crate) timeout: Duration,
    /// Wall-clock budget (10s, 2m, 1m30s, or seconds): `run` skips the cases not started by
    /// then; `explore` stops by then (as --budget); `replay` cannot judge past it.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Sending")]
    pub(crate) deadline: Option<Duration>,
    /// At most this many requests per second (be gentle with a shared or rate-limited target).
    #[arg(long, value_name = "PER_SEC", value_parser = parse_rate, help_heading = "Sending")]
    pub(crate) rate: Option<f64>,
    /// Switch on a tolerated variant of the embedded server (`all`: every one; see
    /// `conformance serve --list-variants`); repeatable. Not with --target.
    #[arg(long = "variant", value_name = "NAME", value_parser = super::values::variants(), help_heading = "Embedded server")]
    pub(crate) variants: Vec<VariantChoice>,
    /// Run against the embedded reference server with this deliberate bug switched on, to see a
    /// failing run (see `conformance serve --list-faults`); repeatable. Not with --target.
    #[arg(long = "fault", value_name = "NAME", value_parser = super::values::faults(), help_heading = "Embedded server")]
    pub(crate) faults: Vec<Fault>,
    /// Read the options from this TOML file (default: conformance.toml in the working directory,
    /// when there is one; `conformance init` writes a commented one). Flags and environment
    /// variables win over the file.
    #[arg(long, value_name = "FILE", help_heading = "Configuration")]
    pub(crate) config: Option<PathBuf>,
}

/// What an API gateway in front of the target asks for.
#[derive(Debug, Args)]
pub(crate) struct GatewayArgs {
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
    pub(crate) headers: Vec<String>,
    /// Trust the certificates of this PEM file (one or more) in addition to the platform's
    /// roots: a target whose certificate a private CA issued.
    #[arg(
        long,
        value_name = "FILE",
        env = "CONFORMANCE_CA_CERT",
        hide_env_values = true,
        help_heading = "Gateway"
    )]
    pub(crate) ca_cert: Option<PathBuf>,
    /// Present this client certificate (PEM; the chain, leaf first) when the target asks for
    /// one (mutual TLS); needs --client-key.
    #[arg(
        long,
        value_name = "FILE",
        env = "CONFORMANCE_CLIENT_CERT",
        hide_env_values = true,
        help_heading = "Gateway"
    )]
    pub(crate) client_cert: Option<PathBuf>,
    /// The private key of --client-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(
        long,
        value_name = "FILE",
        env = "CONFORMANCE_CLIENT_KEY",
        hide_env_values = true,
        help_heading = "Gateway"
    )]
    pub(crate) client_key: Option<PathBuf>,
}

/// The target settings read and checked: the target given (`None`: the embedded server), the
/// gateway every request goes through (also to the embedded server), the embedded server's
/// switches.
pub(crate) struct Resolved {
    pub(crate) given: Option<Target>,
    pub(crate) gateway: Gateway,
    pub(crate) faults: Vec<Fault>,
    pub(crate) variants: Vec<Variant>,
}

impl TargetArgs {
    /// Whether a target was given (by flag or variable, not blank).
    pub(crate) fn target_given(&self) -> bool {
        given(&self.target).is_some()
    }

    /// `--fault` names a bug of the embedded server: with a target it is the mistake.
    pub(crate) fn check_faults(&self) -> CliResult<()> {
        if self.target_given() && !self.faults.is_empty() {
            return Err(Fatal(
                "--fault switches on a bug of the embedded reference server; it cannot be used \
                 with --target (or CONFORMANCE_TARGET): drop one of them"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Everything the flags name, read and checked; the one way a subcommand gets its target.
    /// A mistake is one line, never a credential or a header value.
    pub(crate) fn resolve(&self) -> CliResult<Resolved> {
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
        let given = settings.build().map_err(fatal)?;
        // Also in front of the embedded server: a gateway's headers are sent to it as to any
        // target.
        let gateway = self.gateway.gateway()?;
        let variants = variants_of(&self.variants);
        if given.is_some() && !variants.is_empty() {
            return Err(Fatal(
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
    fn gateway(&self) -> CliResult<Gateway> {
        let settings = transport::GatewaySettings {
            headers: self.headers.clone(),
            ca_cert: self.ca_cert.clone(),
            client_cert: self.client_cert.clone(),
            client_key: self.client_key.clone(),
        };
        settings.build().map_err(fatal)
    }
}

/// A library error as one line: a usage sentence stands on its own on the command line.
pub(crate) fn fatal(e: Error) -> Fatal {
    match e {
        Error::Usage(m) => Fatal(m),
        e => Fatal(e.to_string()),
    }
}

/// A flag or variable given as text, `None` when absent or blank.
pub(crate) fn given(v: &Option<String>) -> Option<String> {
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
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
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

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        // The value is not repeated: it may come from a `${NAME}` in conformance.toml.
        _ => Err("not a positive number of requests per second".to_owned()),
    }
}

pub(crate) fn parse_fault(s: &str) -> Result<Fault, String> {
    s.parse::<Fault>()
        .map_err(|e| format!("{e} (conformance serve --list-faults describes them)"))
}

/// One `--variant` value: a variant, or every one (`all`).
#[derive(Debug, Clone)]
pub(crate) struct VariantChoice(Vec<Variant>);

pub(crate) fn parse_variant(s: &str) -> Result<VariantChoice, String> {
    Variant::parse_list(s)
        .map(VariantChoice)
        .map_err(|e| format!("{e} (conformance serve --list-variants describes them)"))
}

/// The variants named, each once, in their list order.
pub(crate) fn variants_of(choices: &[VariantChoice]) -> Vec<Variant> {
    let mut out: Vec<Variant> = choices.iter().flat_map(|c| c.0.iter().copied()).collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::parse_duration;

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
