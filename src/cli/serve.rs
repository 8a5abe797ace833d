//! `conformance serve`: the embedded reference server on its own, with fixed or generated credentials.

// The binary's shared items (arguments, `note`, `print`, the harness loader) live in
// `main.rs`; this module is part of its body, split for reading.
use crate::*;

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

// -------------------------------------------------------------------------------------------
// init
// -------------------------------------------------------------------------------------------
