//! Suite benchmark (`harness = false`): one full conformance run of every generated case, timed.
//!
//! `suite [--external FILE] [--repeat N] [--jobs J] [--slowest K]`
//!
//! - without `--external`: against the embedded reference server (spawned in this process on
//!   127.0.0.1, as `tests/conformance.rs` does);
//! - `--external FILE`: against a reference server running as another process; FILE holds the
//!   one JSON line that server printed (`base_url`, `atlas_group_id`, `cm_group_id`,
//!   `other_group_id`, `owner{public,private}`, `read_only{public,private}`). The base URL must
//!   be a loopback address. Cases that need the embedded server's hooks (expiring a token or a
//!   nonce on demand) are skipped there, as for any external target.
//!
//! Prints the phase timings (harness build = spec load + model + validators, case generation,
//! server start, run), requests, requests/s and this process's peak RSS (`VmHWM`) on stderr, and
//! one JSON line on stdout. `--repeat N` runs the suite N times in the same process (the target
//! is clean again after each run) and reports each run; `--slowest K` lists the K slowest cases
//! and the time per category, for profiling.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::FromArgMatches as _;
use integrations_conformance::case;
use integrations_conformance::runner::{self, Harness, RunOptions, Verdict};
use integrations_conformance::server::{self, ServerConfig};
use integrations_conformance::settings::{self, TargetArgs};
use integrations_conformance::transport::{self, Target};
use serde_json::{json, Value};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The target a `serve` JSON line describes, built through the target settings' argument group
/// (`settings::TargetArgs`, the public way to describe an external target, robust to fields
/// added to `Target`), given as flags.
fn target_from_info(info: &Value) -> Target {
    let s = |v: &Value| v.as_str().expect("a string in the serve JSON").to_owned();
    let base = s(&info["base_url"]);
    let url = transport::parse_base_url(&base).expect("base_url");
    let host = url.host_str().unwrap_or("");
    assert!(
        host == "localhost" || host == "[::1]" || host.starts_with("127."),
        "loopback targets only, got {host}"
    );
    let flags = [
        ("--target", base),
        (
            "--auth",
            format!(
                "digest:{}:{}",
                s(&info["owner"]["public"]),
                s(&info["owner"]["private"])
            ),
        ),
        (
            "--readonly-auth",
            format!(
                "digest:{}:{}",
                s(&info["read_only"]["public"]),
                s(&info["read_only"]["private"])
            ),
        ),
        ("--group-id", s(&info["atlas_group_id"])),
        ("--cm-group-id", s(&info["cm_group_id"])),
        ("--other-group-id", s(&info["other_group_id"])),
    ];
    let argv = std::iter::once("bench".to_owned())
        .chain(flags.into_iter().map(|(flag, v)| format!("{flag}={v}")));
    let matches = settings::command().get_matches_from(argv);
    let args = TargetArgs::from_arg_matches(&matches).expect("the target settings");
    args.resolve()
        .expect("the target")
        .given
        .expect("--target is given")
}

fn main() {
    let process_start = Instant::now();
    let args: Vec<String> = std::env::args().collect();
    let external = arg(&args, "--external");
    let repeat: usize = arg(&args, "--repeat")
        .map(|v| v.parse().expect("--repeat N"))
        .unwrap_or(1)
        .max(1);
    let jobs: Option<usize> = arg(&args, "--jobs").map(|v| v.parse().expect("--jobs N"));
    let slowest: usize = arg(&args, "--slowest")
        .map(|v| v.parse().expect("--slowest K"))
        .unwrap_or(0);

    // Loopback only: no proxy may carry the harness's requests elsewhere.
    for k in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        std::env::remove_var(k);
    }
    let external_target = external.as_ref().map(|file| {
        let text = std::fs::read_to_string(file).expect("the serve JSON file");
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with('{'))
            .expect("a JSON line");
        let info: Value = serde_json::from_str(line).expect("serve JSON");
        target_from_info(&info)
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let t = Instant::now();
        let harness = Harness::bundled().expect("the bundled spec loads");
        let t_harness = t.elapsed();
        let rss_harness = status_kib("VmRSS:");
        let t = Instant::now();
        let cases = case::generate(&harness.model);
        let t_generate = t.elapsed();
        let rss_generate = status_kib("VmRSS:");

        let t = Instant::now();
        let (target, server) = match external_target {
            Some(t) => (t, None),
            None => {
                let srv = server::spawn(ServerConfig::default()).await.expect("the embedded server starts");
                (srv.target().expect("embedded target"), Some(srv))
            }
        };
        let t_spawn = t.elapsed();
        let mode = if external.is_some() { "external" } else { "embedded" };

        let mut opts = RunOptions::default();
        if let Some(j) = jobs {
            opts.jobs = j;
        }
        let mut runs = Vec::new();
        let mut exit = 0;
        for i in 0..repeat {
            let t = Instant::now();
            let report = runner::run(&harness, &cases, &target, &opts).await.expect("the run completes");
            let wall = t.elapsed();
            let rss_run = status_kib("VmRSS:");
            let rps = report.requests as f64 / wall.as_secs_f64();
            eprintln!(
                "suite[{mode}] run {}/{repeat}: {} cases ({} passed, {} failed, {} skipped), {} requests in {:.3} s = {:.0} requests/s",
                i + 1,
                cases.len(),
                report.passed(),
                report.failed(),
                report.skipped(),
                report.requests,
                wall.as_secs_f64(),
                rps
            );
            if report.failed() > 0 {
                exit = 1;
                for o in report.outcomes.iter().filter(|o| o.verdict == Verdict::Failed).take(10) {
                    eprintln!("  failed: {}", o.id);
                }
            }
            if slowest > 0 && i + 1 == repeat {
                // The critical path: cases of one lane run one after the other.
                let lane_of: BTreeMap<&str, String> =
                    cases.iter().map(|c| (c.id.as_str(), format!("{:?}", c.lane))).collect();
                let mut lanes: BTreeMap<String, (Duration, usize, usize)> = BTreeMap::new();
                for o in &report.outcomes {
                    let lane = lane_of.get(o.id.as_str()).cloned().unwrap_or_default();
                    let e = lanes.entry(lane).or_default();
                    e.0 += o.duration;
                    e.1 += 1;
                    e.2 += o.exchanges.len();
                }
                eprintln!("  case time per lane (a lane's cases run one after the other; the stateless cases are spread over two lanes):");
                for (lane, (d, n, ex)) in &lanes {
                    eprintln!("    {lane:14} {n:5} cases {ex:6} requests {:8.3} s", d.as_secs_f64());
                }
                let exchanges: usize = report.outcomes.iter().map(|o| o.exchanges.len()).sum();
                let body_bytes: usize = report
                    .outcomes
                    .iter()
                    .flat_map(|o| o.exchanges.iter())
                    .map(|e| {
                        e.request_body.as_ref().map_or(0, String::len)
                            + e.response.as_ref().map_or(0, |r| r.body.len())
                    })
                    .sum();
                eprintln!(
                    "  memory: VmRSS {} KiB after spec+validators, {} KiB after case generation, {} KiB after the run; the report holds {exchanges} exchanges with {body_bytes} bytes of request+response bodies",
                    rss_harness.unwrap_or(0),
                    rss_generate.unwrap_or(0),
                    rss_run.unwrap_or(0)
                );
                let mut by: Vec<(&str, Duration, usize)> =
                    report.outcomes.iter().map(|o| (o.id.as_str(), o.duration, o.exchanges.len())).collect();
                by.sort_by_key(|b| std::cmp::Reverse(b.1));
                eprintln!("  slowest cases:");
                for (id, d, n) in by.iter().take(slowest) {
                    eprintln!("    {:8.2} ms  {n:2} requests  {id}", d.as_secs_f64() * 1000.0);
                }
                let mut per: BTreeMap<String, (Duration, usize, usize)> = BTreeMap::new();
                for o in &report.outcomes {
                    let e = per.entry(o.category.as_str().to_owned()).or_default();
                    e.0 += o.duration;
                    e.1 += 1;
                    e.2 += o.exchanges.len();
                }
                let sum: Duration = report.outcomes.iter().map(|o| o.duration).sum();
                eprintln!("  case time per category (sum over cases, lanes overlap; total {:.3} s):", sum.as_secs_f64());
                for (cat, (d, n, ex)) in per {
                    eprintln!("    {cat:12} {n:5} cases {ex:6} requests {:8.3} s", d.as_secs_f64());
                }
                let mut lat: Vec<f64> = report
                    .outcomes
                    .iter()
                    .flat_map(|o| o.exchanges.iter().map(|e| e.duration.as_secs_f64() * 1000.0))
                    .collect();
                lat.sort_by(f64::total_cmp);
                if !lat.is_empty() {
                    let p = |q: f64| lat[((q / 100.0) * (lat.len() - 1) as f64).round() as usize];
                    eprintln!(
                        "  request latency as the runner saw it: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms over {} exchanges",
                        p(50.0),
                        p(99.0),
                        p(100.0),
                        lat.len()
                    );
                }
            }
            runs.push(json!({
                "wall_seconds": wall.as_secs_f64(),
                "requests": report.requests,
                "requests_per_second": rps,
                "passed": report.passed(), "failed": report.failed(), "skipped": report.skipped(),
            }));
        }
        let hwm = status_kib("VmHWM:");
        eprintln!(
            "suite[{mode}]: harness build {:.3} s, case generation {:.3} s, server start {:.3} s; peak RSS (VmHWM) of this process {} KiB; process wall so far {:.3} s",
            t_harness.as_secs_f64(),
            t_generate.as_secs_f64(),
            t_spawn.as_secs_f64(),
            hwm.unwrap_or(0),
            process_start.elapsed().as_secs_f64()
        );
        println!(
            "{}",
            json!({
                "bench": "suite", "mode": mode, "cases": cases.len(),
                "harness_build_seconds": t_harness.as_secs_f64(),
                "generate_seconds": t_generate.as_secs_f64(),
                "server_start_seconds": t_spawn.as_secs_f64(),
                "runs": runs,
                "vm_hwm_kib": hwm,
                "process_seconds": process_start.elapsed().as_secs_f64(),
            })
        );
        if let Some(srv) = server {
            srv.shutdown().await.ok();
        }
        std::process::exit(exit);
    });
}
