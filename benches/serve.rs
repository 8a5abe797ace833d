//! A stand-in for `conformance serve` (`harness = false`), used by `scripts/fuzz.sh` and
//! `scripts/bench.sh` only while the CLI does not have `serve` yet: starts the reference server
//! on `127.0.0.1:PORT` (`--port N`; 0 or absent: a free port), prints `info_json()` as one JSON
//! line on stdout, and runs until SIGINT or SIGTERM. Loopback only, by construction.
//! `--fault NAME` (repeatable) switches on one of the server's deliberate bugs, to show that a
//! tool driven against it (schemathesis in `scripts/fuzz.sh`) notices.

use std::net::{Ipv4Addr, SocketAddr};

use integrations_conformance::server::{self, Fault, ServerConfig};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args
        .iter()
        .position(|a| a == "--port")
        .and_then(|i| args.get(i + 1))
        .map(|p| p.parse().expect("--port N"))
        .unwrap_or(0);
    let faults: Vec<Fault> = args
        .iter()
        .enumerate()
        .filter(|(_, a)| *a == "--fault")
        .map(|(i, _)| {
            args.get(i + 1)
                .expect("--fault NAME")
                .parse()
                .expect("a fault name")
        })
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let srv = server::bind(
            SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            ServerConfig {
                faults,
                ..ServerConfig::default()
            },
        )
        .await
        .expect("the server starts");
        println!("{}", srv.info_json());
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        srv.shutdown().await.ok();
    });
}
