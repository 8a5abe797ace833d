//! `conformance`: the command line. `run` judges a target (by default the embedded reference
//! server) and writes the reports, `serve` starts the reference server on its own, `cases` lists
//! the generated cases.
//!
//! Exit codes: 0 conformant, 1 non-conformant (a case failed), 2 the run could not judge (bad
//! usage, an unreachable target, credentials that never work, a broken spec), always with one
//! `conformance: …` line on stderr saying why. No credential or generated secret is ever printed.

use std::io::{IsTerminal as _, Write as _};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use integrations_conformance::baseline::{self, Baseline};
use integrations_conformance::case::{self, Case, Category, Role};
use integrations_conformance::config;
use integrations_conformance::coverage::{self, Required};
use integrations_conformance::model::Model;
use integrations_conformance::report::{self, Scrubber};
use integrations_conformance::runner::{self, Harness, Outcome, RunOptions, Verdict};
use integrations_conformance::server::{
    self, ApiKey, Credentials, Fault, OAuthClient, RunningServer, ServerConfig, ServerState,
    Variant,
};
use integrations_conformance::spec;
use integrations_conformance::target::{self, Gateway, Target};
use serde_json::json;

/// Conformance test harness for the third-party service integrations Admin API of MongoDB Atlas
/// and Cloud Manager (`/api/public/v1.0`, `/api/atlas/v1.0`, `/api/atlas/v2`).
#[derive(Debug, Parser)]
#[command(
    name = "conformance",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the conformance cases against a target (default: the embedded reference server) and
    /// write report.json, junit.xml, report.md and report.html.
    ///
    /// Exit code 0: conformant; 1: at least one case failed; 2: could not judge.
    Run(Box<RunArgs>),
    /// Start the reference server and print how to reach it as one JSON line; serves until
    /// Ctrl-C or SIGTERM.
    Serve(Box<ServeArgs>),
    /// List the generated cases (id, category, title).
    Cases(CasesArgs),
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
    Explore(Box<integrations_conformance::explore::cli::ExploreArgs>),
    /// Replay a reproduction written by `explore` against a target (default: the embedded
    /// server). Exit code 0: it agrees with the reference model; 1: it still diverges.
    Replay(Box<integrations_conformance::explore::cli::ReplayArgs>),
}

#[derive(Debug, Args)]
struct InitArgs {
    /// Overwrite an existing conformance.toml.
    #[arg(long)]
    force: bool,
}

/// Which cases: shared by `run` and `cases`.
#[derive(Debug, Args)]
struct Selection {
    /// Only the families named (cloud-manager, atlas-v1, atlas-v2); repeatable. Default: all.
    #[arg(long = "api", value_name = "FAMILY")]
    apis: Vec<String>,
    /// Only cases whose id contains SUBSTRING.
    #[arg(long, value_name = "SUBSTRING")]
    filter: Option<String>,
    /// Only the categories named (validation, redaction, pagination, envelope, errors, auth,
    /// versions, state); repeatable. Default: all.
    #[arg(long = "category", value_name = "NAME", value_parser = parse_category)]
    categories: Vec<Category>,
    /// The OpenAPI spec to generate the cases from. Default: the bundled
    /// spec/integrations.openapi.yaml.
    #[arg(long, value_name = "PATH")]
    spec: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Base URL of the target (e.g. https://cloud.mongodb.com). Without it, the run starts the
    /// embedded reference server and judges every family against it.
    #[arg(
        long,
        value_name = "URL",
        env = "CONFORMANCE_TARGET",
        hide_env_values = true
    )]
    target: Option<String>,
    /// Credentials for the target: digest:PUBLIC_KEY:PRIVATE_KEY, bearer:TOKEN or
    /// oauth:CLIENT_ID:SECRET. Prefer the environment variable: it stays out of shell history.
    #[arg(
        long,
        value_name = "CREDENTIALS",
        env = "CONFORMANCE_AUTH",
        hide_env_values = true
    )]
    auth: Option<String>,
    /// Read-only credentials (Project Read Only), same forms as --auth; without them the
    /// read-only cases are skipped.
    #[arg(
        long,
        value_name = "CREDENTIALS",
        env = "CONFORMANCE_READONLY_AUTH",
        hide_env_values = true
    )]
    readonly_auth: Option<String>,
    /// The Atlas project (atlas-v1 and atlas-v2 families).
    #[arg(
        long,
        value_name = "ID",
        env = "CONFORMANCE_GROUP_ID",
        hide_env_values = true
    )]
    group_id: Option<String>,
    /// The Cloud Manager project (cloud-manager family).
    #[arg(
        long,
        value_name = "ID",
        env = "CONFORMANCE_CM_GROUP_ID",
        hide_env_values = true
    )]
    cm_group_id: Option<String>,
    /// A project the credentials cannot access (for the access cases).
    #[arg(
        long,
        value_name = "ID",
        env = "CONFORMANCE_OTHER_GROUP_ID",
        hide_env_values = true
    )]
    other_group_id: Option<String>,
    /// A bearer token the target issued and that has since expired (for example one issued
    /// more than an hour ago): runs the expired-token cases on a real target; without it they
    /// are skipped.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "CONFORMANCE_EXPIRED_TOKEN",
        hide_env_values = true
    )]
    expired_token: Option<String>,
    #[command(flatten)]
    selection: Selection,
    /// Also write every recorded exchange as an HTTP Archive (HAR 1.2) to FILE, for browser
    /// tools; scrubbed like the reports.
    #[arg(long, value_name = "FILE")]
    har: Option<PathBuf>,
    /// Where the reports go (created if needed).
    #[arg(long, value_name = "DIR", default_value = "target/conformance")]
    report_dir: PathBuf,
    /// Cases in flight at the same time (cases of one project always run one after the other).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: u16,
    /// Per-request timeout in seconds.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_secs)]
    timeout: Duration,
    /// Wall-clock budget for the whole run in seconds; cases not started by then are skipped.
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    deadline: Option<Duration>,
    /// At most this many requests per second (be gentle with a shared or rate-limited target).
    #[arg(long, value_name = "PER_SEC", value_parser = parse_rate)]
    rate: Option<f64>,
    /// Switch on a tolerated variant of the embedded server (`all`: every one; see
    /// `conformance serve --list-variants`); repeatable. Not with --target.
    #[arg(long = "variant", value_name = "NAME", value_parser = parse_variant)]
    variants: Vec<VariantChoice>,
    /// Accept an invalid TLS certificate from the target.
    #[arg(long, env = "CONFORMANCE_INSECURE", hide_env_values = true)]
    insecure: bool,
    #[command(flatten)]
    gateway: GatewayArgs,
    /// Colour the console summary: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    color: ColorWhen,
    #[command(flatten)]
    ci: CiArgs,
}

/// What an API gateway in front of the target asks for.
#[derive(Debug, Args)]
struct GatewayArgs {
    /// Send this header with every request of the run (cases, cleanup, the OAuth token request,
    /// digest challenges), e.g. an API gateway's key: 'NAME: VALUE'; repeatable. The
    /// environment variable takes one header a line; prefer it (or `${NAME}` in
    /// conformance.toml): a flag's value shows in the process list. The value is a secret: it
    /// is scrubbed from every report and output. Accept, Content-Type, Authorization, Host,
    /// Content-Length and Transfer-Encoding are the harness's own and cannot be set.
    #[arg(
        long = "header",
        value_name = "NAME: VALUE",
        env = "CONFORMANCE_HEADERS",
        hide_env_values = true,
        value_delimiter = '\n'
    )]
    headers: Vec<String>,
    /// Trust the certificates of this PEM file (one or more) in addition to the platform's
    /// roots: a target whose certificate a private CA issued.
    #[arg(
        long,
        value_name = "FILE",
        env = "CONFORMANCE_CA_CERT",
        hide_env_values = true
    )]
    ca_cert: Option<PathBuf>,
    /// Present this client certificate (PEM; the chain, leaf first) when the target asks for
    /// one (mutual TLS); needs --client-key.
    #[arg(
        long,
        value_name = "FILE",
        env = "CONFORMANCE_CLIENT_CERT",
        hide_env_values = true
    )]
    client_cert: Option<PathBuf>,
    /// The private key of --client-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(
        long,
        value_name = "FILE",
        env = "CONFORMANCE_CLIENT_KEY",
        hide_env_values = true
    )]
    client_key: Option<PathBuf>,
}

impl GatewayArgs {
    /// Read and check everything the flags name; a mistake is one line, never a header value.
    fn gateway(&self) -> CliResult<Gateway> {
        let blank = |p: &Option<PathBuf>| p.clone().filter(|p| !p.as_os_str().is_empty());
        Ok(Gateway {
            headers: target::parse_headers(&self.headers)?,
            ca_certs: match blank(&self.ca_cert) {
                Some(p) => target::read_certificates("--ca-cert", &p)?,
                None => Vec::new(),
            },
            client_identity: target::read_identity(
                blank(&self.client_cert).as_deref(),
                blank(&self.client_key).as_deref(),
            )?,
        })
    }
}

/// The options a team's CI lives with: a config file, accepted failures, required coverage,
/// and a fault to see a failing run.
#[derive(Debug, Args)]
struct CiArgs {
    /// Read the options from this TOML file (default: conformance.toml in the working directory,
    /// when there is one; `conformance init` writes a commented one). Flags and environment
    /// variables win over the file.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Known failures: one `case-id  reason` per line, `#` comments (the format of
    /// tests/known-failures.txt). A listed case that fails does not fail the run (it is shown as
    /// a known failure); a listed case that passes fails it (remove its line); an id no case
    /// has is an error.
    #[arg(
        long,
        value_name = "FILE",
        env = "CONFORMANCE_KNOWN_FAILURES",
        hide_env_values = true
    )]
    known_failures: Option<PathBuf>,
    /// Write the run's failures to FILE in the known-failures format (sorted, each with its
    /// first finding as the reason), to start a baseline for --known-failures.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Make a run that did not cover NAME inconclusive (exit code 2 instead of 0; a run with a
    /// failure stays exit code 1); repeatable. NAME is a family (covered when at least one of
    /// its cases was judged: a family without its project id is not), a category (covered when
    /// none of its cases was skipped, except the cases only the embedded server can run, such as
    /// the stale-nonce case against a real target), or `all` (every family and category the
    /// selection has cases of).
    #[arg(long = "require", value_name = "NAME")]
    require: Vec<String>,
    /// Run against the embedded reference server with this deliberate bug switched on, to see a
    /// failing run (see `conformance serve --list-faults`); repeatable. Not with --target.
    #[arg(long = "fault", value_name = "NAME", value_parser = parse_fault)]
    faults: Vec<Fault>,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        // The value is not repeated: it may come from a `${NAME}` in conformance.toml.
        _ => Err("not a positive number of requests per second".to_owned()),
    }
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Port to listen on (0: any free port; the JSON line says which).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Switch on a deliberate bug of the server (see --list-faults); repeatable.
    #[arg(long = "fault", value_name = "NAME", value_parser = parse_fault)]
    faults: Vec<Fault>,
    /// Print every fault (name, category, description), one per line, and exit.
    #[arg(long)]
    list_faults: bool,
    /// Switch on a tolerated variant: a choice the contract leaves to the implementer, which
    /// the harness must pass (`all`: every one); repeatable.
    #[arg(long = "variant", value_name = "NAME", value_parser = parse_variant)]
    variants: Vec<VariantChoice>,
    /// Print every tolerated variant (name, description, contract sentence), one per line, and
    /// exit.
    #[arg(long)]
    list_variants: bool,
    /// The owner's public API key (default: random).
    #[arg(long, value_name = "KEY")]
    public_key: Option<String>,
    /// The owner's private API key (default: random).
    #[arg(long, value_name = "KEY")]
    private_key: Option<String>,
    /// The read-only public API key (default: random).
    #[arg(long, value_name = "KEY")]
    readonly_public_key: Option<String>,
    /// The read-only private API key (default: random).
    #[arg(long, value_name = "KEY")]
    readonly_private_key: Option<String>,
    /// The OAuth client id (default: random).
    #[arg(long, value_name = "ID")]
    client_id: Option<String>,
    /// The OAuth client secret (default: random).
    #[arg(long, value_name = "SECRET")]
    client_secret: Option<String>,
    /// The Atlas project id, 24 lower-case hex digits (default: random).
    #[arg(long, value_name = "ID")]
    group_id: Option<String>,
    /// The Cloud Manager project id (default: random).
    #[arg(long, value_name = "ID")]
    cm_group_id: Option<String>,
    /// The id of a project none of the credentials can access (default: random).
    #[arg(long, value_name = "ID")]
    other_group_id: Option<String>,
    /// Serve the contract of this OpenAPI spec instead of the bundled one.
    #[arg(long, value_name = "PATH")]
    spec: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Args)]
struct CasesArgs {
    #[command(flatten)]
    selection: Selection,
    /// text: one case per line; json: an array of objects, for tools.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

fn parse_category(s: &str) -> Result<Category, String> {
    Category::parse(s).ok_or_else(|| {
        let known: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
        format!("unknown category; known: {}", known.join(", "))
    })
}

fn parse_fault(s: &str) -> Result<Fault, String> {
    s.parse::<Fault>()
        .map_err(|e| format!("{e} (conformance serve --list-faults describes them)"))
}

/// One `--variant` value: a variant, or every one (`all`).
#[derive(Debug, Clone)]
struct VariantChoice(Vec<Variant>);

fn parse_variant(s: &str) -> Result<VariantChoice, String> {
    Variant::parse_list(s)
        .map(VariantChoice)
        .map_err(|e| format!("{e} (conformance serve --list-variants describes them)"))
}

/// The variants named, each once, in their list order.
fn variants_of(choices: &[VariantChoice]) -> Vec<Variant> {
    let mut out: Vec<Variant> = choices.iter().flat_map(|c| c.0.iter().copied()).collect();
    out.sort();
    out.dedup();
    out
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| "not a number of seconds".to_owned())?;
    if !secs.is_finite() || secs <= 0.0 || secs > 7.0 * 86_400.0 {
        return Err("must be more than 0 and at most a week".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Why the command could not do its job: printed as one `conformance: …` line, exit code 2.
#[derive(Debug)]
struct Fatal(String);

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(e: E) -> Self {
        Fatal(e.to_string())
    }
}

type CliResult<T> = Result<T, Fatal>;

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
    let result = match cli.command {
        Command::Run(args) => run(*args),
        Command::Serve(args) => serve(*args),
        Command::Cases(args) => cases(args),
        Command::Completions { shell } => completions(shell),
        Command::Init(args) => init(args),
        Command::Explore(args) => Ok(integrations_conformance::explore::cli::explore(*args)),
        Command::Replay(args) => Ok(integrations_conformance::explore::cli::replay(*args)),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Fatal(message)) => {
            note(&message);
            ExitCode::from(2)
        }
    }
}

/// Why the command line (with its configuration file) cannot be used.
enum Parse {
    Clap(clap::Error),
    /// A configuration file problem, one line that names the file and the key.
    Config(String),
}

/// The command line, completed for `run` by the configuration file: the file's values become
/// flags for the options neither the command line nor the environment set (see `config`).
fn parse_with_config() -> Result<Cli, Parse> {
    use clap::{CommandFactory as _, FromArgMatches as _};
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let matches = Cli::command()
        .try_get_matches_from(&argv)
        .map_err(Parse::Clap)?;
    let Some(("run", run)) = matches.subcommand() else {
        return Cli::from_arg_matches(&matches).map_err(Parse::Clap);
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let explicit = run.get_one::<PathBuf>("config");
    let file = config::locate(explicit.map(PathBuf::as_path), &cwd)
        .map_err(|e| Parse::Config(e.to_string()))?;
    let Some(file) = file else {
        return Cli::from_arg_matches(&matches).map_err(Parse::Clap);
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| Parse::Config(format!("cannot read {}: {e}", file.display())))?;
    let command = Cli::command();
    let run_command = command
        .find_subcommand("run")
        .expect("the run command is defined");
    let env = |name: &str| std::env::var(name).ok();
    let extra = config::flags_from_file(run_command, run, &text, &file, &env)
        .map_err(|e| Parse::Config(e.to_string()))?;
    if extra.is_empty() {
        return Cli::from_arg_matches(&matches).map_err(Parse::Clap);
    }
    let mut full = argv;
    full.extend(extra);
    // The command line alone parsed, so an error now comes from the file's values.
    Cli::try_parse_from(full).map_err(|e| Parse::Config(config_value_error(&e, &file)))
}

/// A clap error about a value the file gave, as one line that names the key and says what is
/// wrong without repeating the value (it may have come from a `${NAME}` holding a secret).
fn config_value_error(e: &clap::Error, file: &Path) -> String {
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

/// clap's help and version as clap prints them; its errors as one line (exit code 2).
fn clap_error(e: &clap::Error) -> ExitCode {
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
    let text = e.render().to_string();
    let mut parts: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(first) = line.strip_prefix("error: ") {
            parts.push(first.to_owned());
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
    note(&format!("{} (see --help)", parts.join("; ")));
    ExitCode::from(2)
}

/// One line on stderr, prefixed; never fails (a closed stderr is nobody's business).
fn note(message: &str) {
    let line: String = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let _ = writeln!(std::io::stderr().lock(), "conformance: {line}");
}

/// When the console summary is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

/// Colours for stdout: `auto` means a terminal, no `NO_COLOR` (https://no-color.org) and a
/// `TERM` other than `dumb`.
fn paint(when: ColorWhen) -> report::text::Paint {
    let on = match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
            std::io::stdout().is_terminal() && !no_color && !dumb
        }
    };
    report::text::Paint { on }
}

/// Text on stdout; a reader that went away (`| head`) is not an error.
fn print(text: &str) -> CliResult<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Fatal(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

fn runtime() -> CliResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Fatal(format!("cannot start the async runtime: {e}")))
}

fn load_harness(spec_path: Option<&Path>) -> CliResult<(Harness, String)> {
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
fn select(model: &Model, sel: &Selection) -> CliResult<Vec<Case>> {
    let known: Vec<&str> = model.families.iter().map(|f| f.name.as_str()).collect();
    for api in &sel.apis {
        if !known.contains(&api.as_str()) {
            return Err(Fatal(format!(
                "unknown API family {api:?} (--api); known: {}",
                known.join(", ")
            )));
        }
    }
    let mut cases = case::generate(model);
    // Reproductions kept in regressions/ (from the working directory) run as ordinary cases.
    let regressions = Path::new(integrations_conformance::explore::regression::DIR);
    cases.extend(integrations_conformance::explore::regression::cases(
        model,
        regressions,
    )?);
    cases.retain(|c| {
        (sel.apis.is_empty() || sel.apis.contains(&c.family))
            && (sel.categories.is_empty() || sel.categories.contains(&c.category))
            && sel.filter.as_deref().is_none_or(|f| c.id.contains(f))
    });
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(cases)
}

fn describe_selection(sel: &Selection) -> String {
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

// -------------------------------------------------------------------------------------------
// run
// -------------------------------------------------------------------------------------------

/// A flag or variable given as text, `None` when absent or blank.
fn given(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The target the flags and `CONFORMANCE_*` variables describe; `None`: the embedded server.
fn target_from(args: &RunArgs) -> CliResult<Option<Target>> {
    let settings = target::Settings {
        target: args.target.clone(),
        auth: args.auth.clone(),
        readonly_auth: args.readonly_auth.clone(),
        group_id: args.group_id.clone(),
        cm_group_id: args.cm_group_id.clone(),
        other_group_id: args.other_group_id.clone(),
        expired_token: args.expired_token.clone(),
        insecure: args.insecure,
    };
    settings.build().map_err(|e| match e {
        // The sentence stands on its own on the command line.
        integrations_conformance::error::Error::Usage(m) => Fatal(m),
        e => Fatal(e.to_string()),
    })
}

/// Progress on stderr: a bar on a terminal, a line per tenth of the run otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    done: AtomicUsize,
    failed: AtomicUsize,
    tenths: AtomicUsize,
    started: Instant,
    /// Set on Ctrl-C: the cases not started are skipped in a burst, not worth a progress line.
    cancel: Arc<AtomicBool>,
}

impl Progress {
    fn new(total: usize, cancel: Arc<AtomicBool>) -> Arc<Progress> {
        let bar = std::io::stderr().is_terminal().then(|| {
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} cases {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr())
                    .with_style(style);
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Arc::new(Progress {
            bar,
            total,
            done: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            tenths: AtomicUsize::new(0),
            started: Instant::now(),
            cancel,
        })
    }

    fn case_done(&self, outcome: &Outcome) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let failed = if outcome.verdict == Verdict::Failed {
            self.failed.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            self.failed.load(Ordering::Relaxed)
        };
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                if outcome.verdict == Verdict::Failed {
                    bar.set_message(format!("({failed} failed)"));
                }
            }
            None => {
                let tenth = done * 10 / self.total.max(1);
                let cancelled = self.cancel.load(Ordering::Relaxed);
                if tenth > self.tenths.fetch_max(tenth, Ordering::Relaxed)
                    && done < self.total
                    && !cancelled
                {
                    note(&format!(
                        "{}% ({done}/{} cases, {failed} failed, {:.1}s)",
                        tenth * 10,
                        self.total,
                        self.started.elapsed().as_secs_f64()
                    ));
                }
            }
        }
    }

    /// Print a line without tearing the bar.
    fn note(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| note(message)),
            None => note(message),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// What `run` does besides sending the cases: the baseline it ratchets, the coverage it
/// requires, the faults it switches on in the embedded server.
struct RunPlan {
    baseline: Option<Baseline>,
    required: Vec<Required>,
    faults: Vec<Fault>,
}

impl RunPlan {
    fn new(ci: &CiArgs, model: &Model, target_given: bool) -> CliResult<RunPlan> {
        if target_given && !ci.faults.is_empty() {
            return Err(Fatal(
                "--fault switches on a bug of the embedded reference server; it cannot be used \
                 with --target (or CONFORMANCE_TARGET): drop one of them"
                    .into(),
            ));
        }
        let baseline = match &ci.known_failures {
            Some(path) => {
                let b = Baseline::load(path)?;
                let all = case::generate(model);
                let unknown = b.unknown_ids(all.iter().map(|c| c.id.as_str()));
                if !unknown.is_empty() {
                    return Err(Fatal(format!(
                        "--known-failures {}: no case has the id{} {} (conformance cases lists them)",
                        path.display(),
                        if unknown.len() == 1 { "" } else { "s" },
                        unknown.join(", ")
                    )));
                }
                Some(b)
            }
            None => None,
        };
        let required = ci
            .require
            .iter()
            .map(|r| Required::parse(r, model).map_err(Fatal))
            .collect::<CliResult<Vec<_>>>()?;
        Ok(RunPlan {
            baseline,
            required,
            faults: ci.faults.clone(),
        })
    }

    /// Before the reports: a listed case that passed fails.
    fn ratchet(&self, run: &mut runner::RunReport) {
        if let Some(b) = &self.baseline {
            b.ratchet(run);
        }
    }

    /// After the document is built: accept the known failures, then hold the run to the
    /// required coverage (a run that would be conformant without it is inconclusive).
    fn judge(&self, doc: &mut report::Document, cases: &[Case], embedded: bool) {
        if let Some(b) = &self.baseline {
            b.accept(doc);
        }
        let unmet = coverage::unmet(doc, cases, &self.required, embedded);
        if !unmet.is_empty() && doc.summary.verdict == report::Verdict::Conformant {
            doc.summary.verdict = report::Verdict::Inconclusive;
        }
        doc.summary.not_covered = unmet;
    }
}

fn run(args: RunArgs) -> CliResult<u8> {
    let (harness, spec_source) = load_harness(args.selection.spec.as_deref())?;
    // Before the target's own checks: with --fault, --target is the mistake to point out.
    let target_given = given(&args.target).is_some();
    let plan = RunPlan::new(&args.ci, &harness.model, target_given)?;
    let given_target = target_from(&args)?;
    // Also in front of the embedded server: a gateway's headers are sent to it as to any target.
    let gateway = args.gateway.gateway()?;
    let variants = variants_of(&args.variants);
    if given_target.is_some() && !variants.is_empty() {
        return Err(Fatal(
            "--variant switches on a choice of the embedded server; it cannot apply to --target"
                .into(),
        ));
    }
    let cases = select(&harness.model, &args.selection)?;
    if cases.is_empty() {
        return Err(Fatal(format!(
            "no case matches the selection ({})",
            describe_selection(&args.selection)
        )));
    }
    let rt = runtime()?;
    rt.block_on(async {
        let embedded = given_target.is_none();
        let (mut target, server) = match given_target {
            Some(t) => (t, None),
            None => {
                let server =
                    start_embedded(&harness, &args.selection.spec, &plan.faults, &variants).await?;
                (server.target()?, Some(server))
            }
        };
        target.gateway = gateway;
        let cx = report::Context {
            model: &harness.model,
            cases: &cases,
            target: &target,
            embedded,
            spec_source,
            filter: args.selection.filter.clone(),
            categories: args.selection.categories.clone(),
        };
        let scrubber = cx.scrubber();
        note(&format!(
            "running {} cases against {}{}",
            cases.len(),
            scrubber.scrub(&report::display_url(&target.base_url)),
            if embedded { " (the embedded reference server)" } else { "" }
        ));

        let cancel = Arc::new(AtomicBool::new(false));
        let progress = Progress::new(cases.len(), cancel.clone());
        let interrupts = {
            let (cancel, progress) = (cancel.clone(), progress.clone());
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    cancel.store(true, Ordering::Relaxed);
                    progress.note("interrupted: finishing the cases in flight and cleaning up (Ctrl-C again aborts at once)");
                    if tokio::signal::ctrl_c().await.is_ok() {
                        progress.finish();
                        note("aborted: integrations the run created may be left on the target");
                        std::process::exit(2);
                    }
                }
            })
        };
        let opts = RunOptions {
            timeout: args.timeout,
            jobs: usize::from(args.jobs),
            deadline: args.deadline,
            progress: Some({
                let progress = progress.clone();
                Arc::new(move |o: &Outcome| progress.case_done(o))
            }),
            cancel: Some(cancel),
            rate: args.rate,
            ..RunOptions::default()
        };
        let result = runner::run(&harness, &cases, &target, &opts).await;
        progress.finish();
        interrupts.abort();
        if let Some(server) = server {
            let _ = server.shutdown().await;
        }
        let mut run = result.map_err(|e| Fatal(format!("cannot judge the target: {}", scrubber.scrub(&e.to_string()))))?;

        plan.ratchet(&mut run);
        let mut doc = report::build(&run, &cx);
        plan.judge(&mut doc, &cases, embedded);
        let written = report::write(&args.report_dir, &doc).map_err(|e| Fatal(format!("cannot write the reports: {e}")))?;
        if let Some(path) = &args.har {
            std::fs::write(path, report::har::render(&doc))
                .map_err(|e| Fatal(format!("cannot write {}: {e}", path.display())))?;
        }
        if let Some(path) = &args.ci.write_baseline {
            write_baseline(path, &doc)?;
        }
        print(&report::text::summary_painted(&doc, paint(args.color)))?;
        let names: Vec<String> = written
            .iter()
            .map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
            .collect();
        print(&format!("\nreports: {} ({})\n", args.report_dir.display(), names.join(", ")))?;

        let verdict = doc.summary.verdict;
        let mut line = format!(
            "{} ({} requests in {:.1}s)",
            report::headline(&doc),
            doc.requests,
            doc.duration_ms / 1000.0
        );
        if verdict == report::Verdict::Inconclusive && !doc.interrupted && doc.summary.not_covered.is_empty() {
            if let Some(reason) = doc.cases.iter().find_map(|c| c.reason.as_deref()) {
                line.push_str(&format!("; e.g. {reason}"));
            }
        }
        if !doc.not_cleaned_up.is_empty() {
            line.push_str(&format!("; {} integrations could not be removed (see report.md)", doc.not_cleaned_up.len()));
        }
        note(&line);
        Ok(verdict.exit_code())
    })
}

/// `--write-baseline`: the run's failures as a known-failures file (the document is scrubbed).
fn write_baseline(path: &Path, doc: &report::Document) -> CliResult<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Fatal(format!("cannot write {}: {e}", path.display())))?;
    }
    std::fs::write(path, baseline::render(doc))
        .map_err(|e| Fatal(format!("cannot write {}: {e}", path.display())))
}

async fn start_embedded(
    harness: &Harness,
    spec_path: &Option<PathBuf>,
    faults: &[Fault],
    variants: &[Variant],
) -> CliResult<RunningServer> {
    let config = ServerConfig {
        faults: faults.to_vec(),
        variants: variants.to_vec(),
        ..ServerConfig::default()
    };
    let started = match spec_path {
        // The embedded server implements the spec the cases come from.
        Some(_) => match ServerState::with_model(config, harness.model.clone()) {
            Ok(state) => {
                server::serve_state(SocketAddr::from(([127, 0, 0, 1], 0)), Arc::new(state)).await
            }
            Err(e) => Err(e),
        },
        None => server::spawn(config).await,
    };
    started.map_err(|e| Fatal(format!("cannot start the embedded server: {e}")))
}

// -------------------------------------------------------------------------------------------
// serve
// -------------------------------------------------------------------------------------------

fn serve(args: ServeArgs) -> CliResult<u8> {
    if args.list_faults {
        let width = Fault::ALL.iter().map(|f| f.name().len()).max().unwrap_or(0);
        let mut out = String::new();
        for f in Fault::ALL {
            out.push_str(&format!(
                "{:width$}  {:10}  {}\n",
                f.name(),
                f.category(),
                f.description()
            ));
        }
        print(&out)?;
        return Ok(0);
    }
    if args.list_variants {
        let width = Variant::ALL
            .iter()
            .map(|v| v.name().len())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for v in Variant::ALL {
            out.push_str(&format!(
                "{:width$}  {}  ({})\n",
                v.name(),
                v.description(),
                v.contract()
            ));
        }
        print(&out)?;
        return Ok(0);
    }
    let credentials = fixed_credentials(&args);
    let variants = variants_of(&args.variants);
    let config = ServerConfig {
        faults: args.faults.clone(),
        credentials,
        variants: variants.clone(),
    };
    let model = match &args.spec {
        Some(path) => Some(load_harness(Some(path))?.0.model),
        None => None,
    };
    let rt = runtime()?;
    rt.block_on(async {
        let addr = SocketAddr::new(args.bind, args.port);
        let state = match model {
            Some(m) => ServerState::with_model(config, m),
            None => ServerState::new(config),
        }?;
        let server = server::serve_state(addr, Arc::new(state))
            .await
            .map_err(|e| {
                Fatal(format!(
                    "cannot listen on {addr}: {e} (--port 0 picks a free port)"
                ))
            })?;
        let line = serde_json::to_string(&server.info_json())?;
        print(&format!("{line}\n"))?;
        let faults: Vec<&str> = args.faults.iter().map(Fault::name).collect();
        let variants: Vec<&str> = variants.iter().map(Variant::name).collect();
        let list = |l: &[&str]| {
            if l.is_empty() {
                "none".to_owned()
            } else {
                l.join(", ")
            }
        };
        note(&format!(
            "serving on {} with faults: {}; variants: {}; Ctrl-C or SIGTERM stops it",
            server.base_url,
            list(&faults),
            list(&variants)
        ));
        stopped().await;
        server.shutdown().await?;
        note("stopped");
        Ok(0)
    })
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
fn drop_empty_variables() {
    let empty: Vec<std::ffi::OsString> = std::env::vars_os()
        .filter(|(k, v)| k.to_string_lossy().starts_with("CONFORMANCE_") && v.is_empty())
        .map(|(k, _)| k)
        .collect();
    for k in empty {
        std::env::remove_var(k);
    }
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Random credentials with whatever the flags fix; `None` when no flag fixes anything.
fn fixed_credentials(a: &ServeArgs) -> Option<Credentials> {
    let fixed = [
        &a.public_key,
        &a.private_key,
        &a.readonly_public_key,
        &a.readonly_private_key,
        &a.client_id,
        &a.client_secret,
        &a.group_id,
        &a.cm_group_id,
        &a.other_group_id,
    ];
    if fixed.iter().all(|v| v.is_none()) {
        return None;
    }
    let r = Credentials::generate();
    let pick = |v: &Option<String>, default: String| v.clone().unwrap_or(default);
    Some(Credentials {
        owner: ApiKey {
            public: pick(&a.public_key, r.owner.public),
            private: pick(&a.private_key, r.owner.private),
        },
        read_only: ApiKey {
            public: pick(&a.readonly_public_key, r.read_only.public),
            private: pick(&a.readonly_private_key, r.read_only.private),
        },
        oauth: OAuthClient {
            client_id: pick(&a.client_id, r.oauth.client_id),
            client_secret: pick(&a.client_secret, r.oauth.client_secret),
        },
        atlas_group_id: pick(&a.group_id, r.atlas_group_id),
        cm_group_id: pick(&a.cm_group_id, r.cm_group_id),
        other_group_id: pick(&a.other_group_id, r.other_group_id),
    })
}

// -------------------------------------------------------------------------------------------
// init
// -------------------------------------------------------------------------------------------

fn init(args: InitArgs) -> CliResult<u8> {
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

fn role(r: Role) -> &'static str {
    match r {
        Role::Setup => "setup",
        Role::Test => "test",
        Role::Concurrent => "concurrent",
        Role::Verify => "verify",
        Role::Cleanup => "cleanup",
    }
}

fn cases(args: CasesArgs) -> CliResult<u8> {
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
                        "requires": c.requires,
                        "steps": c.steps.iter().map(|s| {
                            let mut step = json!({
                                "role": role(s.role),
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
