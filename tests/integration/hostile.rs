//! Hostile targets: a conformance harness meets broken servers by design. Each test puts a local
//! misbehaving server (loopback, port 0) in front of the runner, or a proxy in front of the
//! reference server, and proves the harness neither hangs, nor crashes, nor runs out of memory,
//! nor leaks credentials, nor leaves the user's project changed.
//!
//! "Could not judge" (the CLI's exit 2) is `runner::run` returning an error: the target failed
//! the very first request, the list the runner takes stock of the project with. Where that is
//! the outcome, a second test lets that first request through (a valid empty list) so the
//! misbehaviour meets the cases, which must then fail with a clear finding.
//!
//! The tests are grouped by misbehaviour: `slow` (silence, slow loris), `garbage` (not HTTP,
//! resets, redirect loops, HTML), `size` (endless bodies), `overload` (500s, 429s, the rate
//! cap), `cleanup` (failing deletes, deadlines, cancellation), `echoes` (echoed secrets), `wire`
//! (TLS, the wire as recorded), `gateway` (proxies and gateways), `reach` (`explore` and
//! `replay` behind a gateway) and `binary` (the `conformance`
//! binary). The servers they meet are in `tcp` (raw TCP scripts), `proxy` (a hooking proxy in
//! front of the reference server) and `reference`; `cli` runs the binary.

mod binary;
mod cleanup;
mod cli;
mod echoes;
mod garbage;
mod gateway;
mod overload;
mod planted;
mod proxy;
mod reach;
mod reference;
mod size;
mod slow;
mod tcp;
mod wire;

use crate::fixture;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use integrations_conformance::auth::AuthSpec;
use integrations_conformance::case::{self, Case, Category, Lane};
use integrations_conformance::runner::{self, RunOptions, RunReport, Verdict};
use integrations_conformance::sender::Sending;
use integrations_conformance::transport::{self, Target};
use integrations_conformance::Error;

use self::binary::{cannot_judge, tls_front};
use self::echoes::{
    assert_no_secret, cut_secrets, echo, echo_escaping_slashes, occurring, readable,
    url_secret_cases,
};
use self::garbage::{html, redirect_to_self};
use self::proxy::{Hook, Proxy};
use self::reference::{Reference, PRE_EXISTING_KEY, PRE_EXISTING_TYPE};
use self::slow::slow_response;
use self::tcp::{Action, Head, RawServer};

const ATLAS_GROUP: &str = "5f1a2b3c4d5e6f7081920a01";
const CM_GROUP: &str = "5f1a2b3c4d5e6f7081920a02";
const OTHER_GROUP: &str = "5f1a2b3c4d5e6f7081920a03";
const OWNER_PUBLIC: &str = "hostpubowner";
const OWNER_PRIVATE: &str = "0a1b2c3d-owner-private-4e5f6a7b8c9d";
const RO_PUBLIC: &str = "hostpubreader";
const RO_PRIVATE: &str = "9f8e7d6c-reader-private-5b4a3f2e1d0c";
const BEARER: &str = "bearer-token-6c1d0e9f8a7b-never-print-me";

/// A target on a hostile server with made-up projects and digest credentials.
fn target_at(url: &str) -> Target {
    Target {
        base_url: transport::parse_base_url(url).expect("url"),
        atlas_group_id: Some(ATLAS_GROUP.into()),
        cm_group_id: Some(CM_GROUP.into()),
        other_group_id: Some(OTHER_GROUP.into()),
        auth: AuthSpec::Digest {
            public: OWNER_PUBLIC.into(),
            private: OWNER_PRIVATE.into(),
        },
        read_only: Some(AuthSpec::Digest {
            public: RO_PUBLIC.into(),
            private: RO_PRIVATE.into(),
        }),
        token_expirer: None,
        expired_token: None,
        nonce_expirer: None,
        oauth_client: None,
        insecure: false,
        use_env_proxy: false,
        gateway: Default::default(),
    }
}

fn opts(timeout: Duration, deadline: Duration) -> RunOptions {
    RunOptions {
        sending: Sending {
            timeout,
            deadline: Some(deadline),
            ..Sending::default()
        },
        ..RunOptions::default()
    }
}

/// `n` cloud-manager cases of one request each that touch no project (bad group ids and the
/// like): the cheapest cases to meet a misbehaving server with.
fn one_request_cases(n: usize) -> Vec<Case> {
    let picked: Vec<Case> = fixture::cases()
        .iter()
        .filter(|c| {
            c.family == "cloud-manager"
                && c.lane == Lane::Stateless
                && c.steps.len() == 1
                && c.requires.is_empty()
        })
        .take(n)
        .cloned()
        .collect();
    assert_eq!(picked.len(), n, "not enough one-request cases");
    picked
}

/// The cases with these ids (each must exist).
fn cases_named(ids: &[&str]) -> Vec<Case> {
    ids.iter()
        .map(|id| {
            fixture::cases()
                .iter()
                .find(|c| c.id == *id)
                .unwrap_or_else(|| panic!("no case {id}"))
                .clone()
        })
        .collect()
}

/// Runs with a 30 s safety net (a hang fails the test instead of the suite).
async fn run_timed(
    target: &Target,
    cases: &[Case],
    opts: &RunOptions,
) -> (Result<RunReport, Error>, Duration) {
    let started = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        runner::run(fixture::harness(), cases, target, opts),
    )
    .await
    .expect("the run hung for 30 s");
    (result, started.elapsed())
}

/// The message of a could-not-judge run; panics if the run judged anything.
#[track_caller]
fn could_not_judge(result: Result<RunReport, Error>) -> String {
    match result {
        Err(e) => e.to_string(),
        Ok(r) => panic!(
            "expected the run to stop at the first request, got {} outcomes: {:?}",
            r.outcomes.len(),
            findings(&r)
        ),
    }
}

/// Every finding as `case [check] message | actual`.
fn findings(report: &RunReport) -> Vec<String> {
    report
        .outcomes
        .iter()
        .flat_map(|o| {
            o.findings.iter().map(move |f| {
                format!(
                    "{} [{}] {} | {}",
                    o.id,
                    f.check,
                    f.message,
                    f.actual.as_deref().unwrap_or("")
                )
            })
        })
        .collect()
}

/// Every case ran and failed, each with a finding of `check` whose text contains `needle`.
#[track_caller]
fn every_case_failed_with(report: &RunReport, n: usize, check: &str, needle: &str) {
    assert_eq!(report.outcomes.len(), n);
    for o in &report.outcomes {
        assert_eq!(o.verdict, Verdict::Failed, "{}: {:?}", o.id, o.findings);
        assert!(
            o.findings.iter().any(|f| f.check == check
                && format!("{} {}", f.message, f.actual.as_deref().unwrap_or("")).contains(needle)),
            "{}: no [{check}] finding mentioning {needle:?}: {:?}",
            o.id,
            o.findings
        );
    }
}

fn baseline_then(
    act: impl Fn(&Head) -> Action + Send + Sync + 'static,
) -> impl Fn(&Head) -> Action {
    move |h: &Head| {
        if h.is_list() {
            Action::empty_list()
        } else {
            act(h)
        }
    }
}

fn ok_head(extra: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{extra}\r\n").into_bytes()
}
