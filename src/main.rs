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

mod cli;
use cli::cases::{cases, init};
use cli::parse::{clap_error, parse_with_config, Parse};
use cli::rules::rules;
use cli::run::run;
use cli::serve::serve;

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
    /// versions, state, concurrency, exploration); repeatable. Default: all.
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
    /// An OAuth client beside digest --auth: CLIENT_ID:SECRET. Every credential case and every
    /// operation then runs with both kinds of credentials, the token endpoint cases included.
    #[arg(
        long,
        value_name = "CLIENT_ID:SECRET",
        env = "CONFORMANCE_OAUTH_CLIENT",
        hide_env_values = true
    )]
    oauth_client: Option<String>,
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
    /// After the fixed cases, explore the target this many steps (request pairs judged by the
    /// reference model); 0 turns exploration off. A divergence fails the run.
    #[arg(long, value_name = "N", default_value_t = integrations_conformance::explore::gate::DEFAULT_STEPS)]
    explore_steps: usize,
    /// The exploration's seed: a number, or `random`. Default: fixed per release, so that a CI
    /// run is deterministic.
    #[arg(long, value_name = "N|random")]
    explore_seed: Option<String>,
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
        Command::Rules(args) => rules(args),
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
    // (the callers wrap it in an `Arc` where exploration shares it)
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
