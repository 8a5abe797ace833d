//! `conformance serve`: the embedded reference server on its own, with fixed or generated credentials.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use integrations_conformance::server::{
    self, ApiKey, Credentials, Fault, OAuthClient, RunningServer, ServerConfig, ServerState,
    Variant,
};

use super::select::load_harness;
use super::target::{variants_of, VariantChoice};
use super::{note, print, runtime, CliResult, Fatal};

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub(crate) bind: IpAddr,
    /// Port to listen on (0: any free port; the JSON line says which).
    #[arg(long, default_value_t = 8080)]
    pub(crate) port: u16,
    /// Switch on a deliberate bug of the server (see --list-faults); repeatable.
    #[arg(long = "fault", value_name = "NAME", value_parser = super::values::faults())]
    pub(crate) faults: Vec<Fault>,
    /// Print every fault (name, category, description), one per line, and exit.
    #[arg(long)]
    pub(crate) list_faults: bool,
    /// Switch on a tolerated variant: a choice the contract leaves to the implementer, which
    /// the harness must pass (`all`: every one); repeatable.
    #[arg(long = "variant", value_name = "NAME", value_parser = super::values::variants())]
    pub(crate) variants: Vec<VariantChoice>,
    /// Print every tolerated variant (name, description, contract sentence), one per line, and
    /// exit.
    #[arg(long)]
    pub(crate) list_variants: bool,
    /// The owner's public API key (default: random).
    #[arg(long, value_name = "KEY")]
    pub(crate) public_key: Option<String>,
    /// The owner's private API key (default: random).
    #[arg(long, value_name = "KEY")]
    pub(crate) private_key: Option<String>,
    /// The read-only public API key (default: random).
    #[arg(long, value_name = "KEY")]
    pub(crate) readonly_public_key: Option<String>,
    /// The read-only private API key (default: random).
    #[arg(long, value_name = "KEY")]
    pub(crate) readonly_private_key: Option<String>,
    /// The OAuth client id (default: random).
    #[arg(long, value_name = "ID")]
    pub(crate) client_id: Option<String>,
    /// The OAuth client secret (default: random).
    #[arg(long, value_name = "SECRET")]
    pub(crate) client_secret: Option<String>,
    /// The Atlas project id, 24 lower-case hex digits (default: random).
    #[arg(long, value_name = "ID")]
    pub(crate) group_id: Option<String>,
    /// The Cloud Manager project id (default: random).
    #[arg(long, value_name = "ID")]
    pub(crate) cm_group_id: Option<String>,
    /// The id of a project none of the credentials can access (default: random).
    #[arg(long, value_name = "ID")]
    pub(crate) other_group_id: Option<String>,
    /// Serve the contract of this OpenAPI spec instead of the bundled one.
    #[arg(long, value_name = "PATH")]
    pub(crate) spec: Option<PathBuf>,
    /// Print `export VAR=VALUE` lines instead of the JSON line: the `CONFORMANCE_*` variables
    /// `conformance run` reads (target, credentials, OAuth client, projects, an expired token)
    /// and CONFORMANCE_SERVE_PID; then close stdout, so that
    /// `eval "$(conformance serve --port 0 --env &)"` returns while the server serves on.
    #[arg(long)]
    pub(crate) env: bool,
}

pub(crate) fn serve(args: ServeArgs) -> CliResult<u8> {
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
        if args.env {
            print(&env_lines(&server))?;
            close_stdout();
        } else {
            let line = serde_json::to_string(&server.info_json())?;
            print(&format!("{line}\n"))?;
        }
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

/// `export VAR=VALUE` for every variable `conformance run` reads that this server answers to,
/// each value single-quoted for the shell.
fn env_lines(server: &RunningServer) -> String {
    let c = &server.credentials;
    let expired = server.info_json()["expired_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let vars = [
        ("CONFORMANCE_TARGET", server.base_url.clone()),
        (
            "CONFORMANCE_AUTH",
            format!("digest:{}:{}", c.owner.public, c.owner.private),
        ),
        (
            "CONFORMANCE_READONLY_AUTH",
            format!("digest:{}:{}", c.read_only.public, c.read_only.private),
        ),
        (
            "CONFORMANCE_OAUTH_CLIENT",
            format!("{}:{}", c.oauth.client_id, c.oauth.client_secret),
        ),
        ("CONFORMANCE_GROUP_ID", c.atlas_group_id.clone()),
        ("CONFORMANCE_CM_GROUP_ID", c.cm_group_id.clone()),
        ("CONFORMANCE_OTHER_GROUP_ID", c.other_group_id.clone()),
        ("CONFORMANCE_EXPIRED_TOKEN", expired),
        ("CONFORMANCE_SERVE_PID", std::process::id().to_string()),
    ];
    vars.iter()
        .map(|(k, v)| format!("export {k}='{}'\n", v.replace('\'', r"'\''")))
        .collect()
}

/// Close stdout (what reads it sees its end) and put `/dev/null` in its place, so that nothing
/// later opened takes descriptor 1.
fn close_stdout() {
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    #[cfg(unix)]
    {
        use std::os::fd::{FromRawFd as _, IntoRawFd as _, OwnedFd};
        // SAFETY: descriptor 1 is stdout, open for the process's life and owned by nothing
        // else here; it is closed once, and the lowest free descriptor, 1, goes to /dev/null.
        drop(unsafe { OwnedFd::from_raw_fd(1) });
        if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
            let _ = null.into_raw_fd();
        }
    }
}

/// Random credentials with whatever the flags fix; `None` when no flag fixes anything.
pub(crate) fn fixed_credentials(a: &ServeArgs) -> Option<Credentials> {
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

/// Resolves on Ctrl-C or (on Unix) SIGTERM.
pub(crate) async fn stopped() {
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
