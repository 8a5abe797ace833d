//! Load benchmark of the embedded reference server (`harness = false`).
//!
//! `cargo bench --bench server_load -- [--requests N] [--clients C]` (defaults: 10,000 requests,
//! 32 clients). Everything runs over loopback (127.0.0.1) in this process: the server on a free
//! port, and C clients, each with its own `reqwest::Client` (TCP_NODELAY, one keep-alive
//! connection) and its own digest `Authenticator` (owner key).
//!
//! The mix. The two owned projects have 17 (project, type) slots: Atlas (shared by atlas-v1 and
//! atlas-v2) PAGER_DUTY SLACK DATADOG NEW_RELIC OPS_GENIE VICTOR_OPS FLOWDOCK WEBHOOK PROMETHEUS
//! MICROSOFT_TEAMS, Cloud Manager PAGER_DUTY SLACK OPS_GENIE VICTOR_OPS WEBHOOK MICROSOFT_TEAMS
//! PROMETHEUS. Each slot belongs to exactly one *writer* client, which repeats the cycle
//! create → get → update → get → list → delete → get(404), each cycle through one family /
//! version (rotating atlas-v1, atlas-v2 2023-01-01, atlas-v2 2025-03-12 where the type exists
//! there), and ends with create → update → get, so the final state is known: every slot
//! configured, holding the marker of its last update. The other clients are *readers*: list and
//! get on random families, versions, types and page parameters, plus a few requests that must
//! fail (406 for an unversioned atlas-v2 `Accept`, 404 for an unknown project); a reader's get
//! may see 200 or 404 INTEGRATION_NOT_CONFIGURED (a writer owns that slot).
//!
//! Every answer is checked against its expected status (and, for writers, the list/ids); anything
//! else, or a transport error, is an error. Afterwards the server state is checked (directly and
//! over HTTP): exactly one integration per slot, the last marker, ids stable across update, no
//! extra integrations anywhere, the other owner's project untouched.
//!
//! The clients are built before the clock starts (a reqwest client with rustls loads its root
//! store: building 32 of them inside the measured tasks stalled both runtime workers and showed
//! up as ~100 ms first-request latencies); connecting and the first digest challenge are
//! measured. Requests slower than 20 ms are listed.
//!
//! Output: a human summary on stderr and one JSON line on stdout. `--fault NAME` (repeatable)
//! runs against a server with one of its deliberate bugs, to show the checks notice.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use integrations_conformance::auth::{AuthSpec, Authenticator};
use integrations_conformance::server::{self, Fault, ServerConfig};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fam {
    Cm,
    V1,
    V2_2023,
    V2_2025,
}

impl Fam {
    fn base(self) -> &'static str {
        match self {
            Fam::Cm => "/api/public/v1.0",
            Fam::V1 => "/api/atlas/v1.0",
            Fam::V2_2023 | Fam::V2_2025 => "/api/atlas/v2",
        }
    }
    fn media(self) -> &'static str {
        match self {
            Fam::Cm | Fam::V1 => "application/json",
            Fam::V2_2023 => "application/vnd.atlas.2023-01-01+json",
            Fam::V2_2025 => "application/vnd.atlas.2025-03-12+json",
        }
    }
    fn is_v2(self) -> bool {
        matches!(self, Fam::V2_2023 | Fam::V2_2025)
    }
    fn name(self) -> &'static str {
        match self {
            Fam::Cm => "cloud-manager",
            Fam::V1 => "atlas-v1",
            Fam::V2_2023 => "atlas-v2@2023-01-01",
            Fam::V2_2025 => "atlas-v2@2025-03-12",
        }
    }
    /// Types in the family's path enum that the server supports.
    fn types(self) -> &'static [&'static str] {
        match self {
            Fam::Cm => &[
                "PAGER_DUTY",
                "SLACK",
                "OPS_GENIE",
                "VICTOR_OPS",
                "WEBHOOK",
                "MICROSOFT_TEAMS",
                "PROMETHEUS",
            ],
            Fam::V1 => &[
                "PAGER_DUTY",
                "SLACK",
                "DATADOG",
                "NEW_RELIC",
                "OPS_GENIE",
                "VICTOR_OPS",
                "FLOWDOCK",
                "WEBHOOK",
            ],
            Fam::V2_2023 | Fam::V2_2025 => &[
                "PAGER_DUTY",
                "SLACK",
                "DATADOG",
                "NEW_RELIC",
                "OPS_GENIE",
                "VICTOR_OPS",
                "WEBHOOK",
                "PROMETHEUS",
                "MICROSOFT_TEAMS",
            ],
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Proj {
    Atlas,
    Cm,
}

/// The field that carries the marker, per type (compared unmasked in the server state).
fn marker_field(ty: &str) -> &'static str {
    match ty {
        "PAGER_DUTY" => "serviceKey",
        "SLACK" => "apiToken",
        "DATADOG" => "apiKey",
        "NEW_RELIC" => "writeToken",
        "OPS_GENIE" => "apiKey",
        "VICTOR_OPS" => "routingKey",
        "FLOWDOCK" => "flowName",
        "WEBHOOK" => "url",
        "MICROSOFT_TEAMS" => "microsoftTeamsWebhookUrl",
        "PROMETHEUS" => "username",
        other => panic!("no marker field for {other}"),
    }
}

fn marker_value(ty: &str, marker: &str) -> Value {
    match ty {
        "WEBHOOK" => json!(format!("https://hooks.example.com/{marker}")),
        "MICROSOFT_TEAMS" => json!(format!("https://teams.example.com/webhookb2/{marker}")),
        _ => json!(marker),
    }
}

/// A valid create/update body for `ty` in `fam`, carrying `marker`.
fn body(fam: Fam, ty: &str, marker: &str, flip: bool) -> Value {
    let region = if flip { "EU" } else { "US" };
    let mut b = match ty {
        "PAGER_DUTY" if fam.is_v2() => json!({"serviceKey": "", "region": region}),
        "PAGER_DUTY" => json!({"serviceKey": ""}),
        "SLACK" => {
            json!({"apiToken": "", "teamName": "Load Team", "channelName": format!("chan-{}", u8::from(flip))})
        }
        "DATADOG" if fam.is_v2() => {
            json!({"apiKey": "", "region": region, "sendDatabaseMetrics": flip})
        }
        "DATADOG" => json!({"apiKey": "", "region": region}),
        "NEW_RELIC" => json!({
            "licenseKey": "bc3768f44193c282b2688ab39e00f8e4fc8d75ea",
            "accountId": "bcc3c81b344a6030a3935c2527e2216535af7718",
            "writeToken": "",
            "readToken": "193c96aee4a3ac640b98634562e2631f17ae0a69",
        }),
        "OPS_GENIE" => json!({"apiKey": "", "region": region}),
        "VICTOR_OPS" => json!({"apiKey": "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d", "routingKey": ""}),
        "FLOWDOCK" => {
            json!({"flowName": "", "orgName": "loadOrg", "apiToken": "flowdock-token-223344"})
        }
        "WEBHOOK" => json!({"url": "", "secret": "whsec-0123456789"}),
        "MICROSOFT_TEAMS" => json!({"microsoftTeamsWebhookUrl": ""}),
        "PROMETHEUS" if fam == Fam::Cm => json!({
            "username": "", "password": "prom-password-1", "listenAddress": "0.0.0.0:9216",
            "serviceDiscovery": if flip { "file" } else { "http" }, "scheme": "http", "enabled": !flip,
        }),
        "PROMETHEUS" => json!({
            "username": "", "password": "prom-password-1",
            "serviceDiscovery": if flip { "file" } else { "http" }, "enabled": !flip,
        }),
        other => panic!("no body for {other}"),
    };
    let o = b.as_object_mut().expect("object");
    o.insert("type".into(), json!(ty));
    o.insert(marker_field(ty).into(), marker_value(ty, marker));
    b
}

struct Ctx {
    base_url: url::Url,
    atlas: String,
    cm: String,
    other: String,
    owner: AuthSpec,
}

impl Ctx {
    fn group(&self, p: Proj) -> &str {
        match p {
            Proj::Atlas => &self.atlas,
            Proj::Cm => &self.cm,
        }
    }
}

/// One simulated client: its own connection pool (one connection) and digest state.
struct Client {
    http: reqwest::Client,
    /// The harness's own client, which the authenticator asks for tokens (digest never does).
    harness_http: integrations_conformance::transport::Client,
    auth: Authenticator,
    /// Latency of every HTTP request, in microseconds.
    lat: Vec<u32>,
    /// Requests slower than 20 ms: (latency µs, index of the request in this client, line).
    slow: Vec<(u32, u64, String)>,
    http_requests: u64,
    ops: u64,
    errors: Vec<String>,
    /// xorshift state (readers pick their requests with it).
    rng: u64,
}

struct Resp {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

impl Client {
    fn new(ctx: &Ctx, seed: u64) -> Client {
        let http = reqwest::Client::builder()
            .tcp_nodelay(true)
            .no_proxy()
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Client {
            http,
            harness_http: integrations_conformance::transport::Client::new(&Default::default())
                .expect("client"),
            auth: Authenticator::new(ctx.owner.clone(), ctx.base_url.clone()),
            lat: Vec::new(),
            slow: Vec::new(),
            http_requests: 0,
            ops: 0,
            errors: Vec::new(),
            rng: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
        }
    }

    fn rand(&mut self, n: usize) -> usize {
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }

    /// One logical operation: the request, plus one retry after a digest challenge.
    async fn call(
        &mut self,
        ctx: &Ctx,
        method: Method,
        path_q: &str,
        accept: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Option<Resp> {
        self.ops += 1;
        let url = format!("{}{}", ctx.base_url.as_str().trim_end_matches('/'), path_q);
        let mut signed = match self.auth.sign(&self.harness_http, &method, path_q).await {
            Ok(s) => s,
            Err(e) => {
                self.errors.push(format!("{method} {path_q}: auth: {e}"));
                return None;
            }
        };
        for attempt in 0..2 {
            let mut req = self
                .http
                .request(method.clone(), &url)
                .header(ACCEPT, accept);
            if let Some(h) = &signed.header {
                req = req.header(AUTHORIZATION, h.clone());
            }
            if let Some((ct, b)) = &body {
                req = req.header(CONTENT_TYPE, *ct).body(b.clone());
            }
            let t0 = Instant::now();
            self.http_requests += 1;
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    self.errors
                        .push(format!("{method} {path_q}: transport: {e}"));
                    return None;
                }
            };
            let status = resp.status();
            let headers = resp.headers().clone();
            let bytes = match resp.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    self.errors
                        .push(format!("{method} {path_q}: reading body: {e}"));
                    return None;
                }
            };
            let micros = t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
            self.lat.push(micros);
            if micros > 20_000 {
                self.slow.push((
                    micros,
                    self.http_requests - 1,
                    format!("{method} {path_q} -> {status}"),
                ));
            }
            if let (0, Some(retry)) = (attempt, self.auth.learn(&signed, status, &headers)) {
                signed = match self
                    .auth
                    .sign_retry(retry, &self.harness_http, &method, path_q)
                    .await
                {
                    Ok(s) => s,
                    Err(e) => {
                        self.errors.push(format!("{method} {path_q}: auth: {e}"));
                        return None;
                    }
                };
                continue;
            }
            let content_type = headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            return Some(Resp {
                status,
                content_type,
                body: bytes.to_vec(),
            });
        }
        self.errors.push(format!(
            "{method} {path_q}: still 401 after the digest challenge"
        ));
        None
    }

    fn expect(&mut self, what: &str, r: &Option<Resp>, ok: &[u16]) -> bool {
        match r {
            Some(r) if ok.contains(&r.status.as_u16()) => true,
            Some(r) => {
                let body = String::from_utf8_lossy(&r.body);
                self.errors.push(format!(
                    "{what}: status {} (expected {ok:?}): {}",
                    r.status,
                    &body[..body.len().min(300)]
                ));
                false
            }
            None => false,
        }
    }
}

/// One (project, type) slot and the families that may write it.
#[derive(Clone, Debug)]
struct Slot {
    proj: Proj,
    ty: &'static str,
    fams: Vec<Fam>,
}

fn slots() -> Vec<Slot> {
    let mut out = Vec::new();
    let atlas_types = [
        "PAGER_DUTY",
        "SLACK",
        "DATADOG",
        "NEW_RELIC",
        "OPS_GENIE",
        "VICTOR_OPS",
        "FLOWDOCK",
        "WEBHOOK",
        "PROMETHEUS",
        "MICROSOFT_TEAMS",
    ];
    for ty in atlas_types {
        let fams: Vec<Fam> = [Fam::V1, Fam::V2_2023, Fam::V2_2025]
            .into_iter()
            .filter(|f| f.types().contains(&ty))
            .collect();
        out.push(Slot {
            proj: Proj::Atlas,
            ty,
            fams,
        });
    }
    for ty in Fam::Cm.types() {
        out.push(Slot {
            proj: Proj::Cm,
            ty,
            fams: vec![Fam::Cm],
        });
    }
    out
}

/// What a writer leaves behind in its slot.
#[derive(Debug, Clone)]
struct Final {
    proj: Proj,
    ty: &'static str,
    marker: String,
    /// The atlas-v2 id seen in the final create and get, if the final family was atlas-v2.
    v2_id: Option<String>,
}

fn page_types(v: &Value) -> Vec<String> {
    v.get("results")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|o| o.get("type").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn v2_id_of(v: &Value, ty: &str) -> Option<String> {
    // A single object, or a page.
    if v.get("type").and_then(Value::as_str) == Some(ty) {
        return v.get("id").and_then(Value::as_str).map(str::to_owned);
    }
    v.get("results")?
        .as_array()?
        .iter()
        .find(|o| o.get("type").and_then(Value::as_str) == Some(ty))?
        .get("id")?
        .as_str()
        .map(str::to_owned)
}

/// One cycle on a slot through `fam`. `last`: create → update → get only, returning the marker
/// written last and the atlas-v2 id seen.
async fn cycle(
    c: &mut Client,
    ctx: &Ctx,
    cid: usize,
    slot: &Slot,
    fam: Fam,
    s0: usize,
    last: bool,
) -> Option<(String, Option<String>)> {
    let ty = slot.ty;
    let group = ctx.group(slot.proj);
    let full = format!("{}/groups/{group}/integrations/{ty}", fam.base());
    let list = format!("{}/groups/{group}/integrations", fam.base());
    let m1 = format!("w{cid}s{s0}");
    let m2 = format!("w{cid}s{}", s0 + 1);
    let what = |op: &str| format!("writer {cid} {} {ty} {op}", fam.name());
    // create
    let b = serde_json::to_vec(&body(fam, ty, &m1, s0 % 4 == 0)).expect("json");
    let r = c
        .call(
            ctx,
            Method::POST,
            &full,
            fam.media(),
            Some((fam.media(), b)),
        )
        .await;
    let mut id_created = None;
    if c.expect(&what("create"), &r, &[200]) {
        let v = r.as_ref().and_then(Resp::json).unwrap_or(Value::Null);
        if !page_types(&v).iter().any(|t| t == ty) {
            c.errors.push(format!(
                "{}: created type missing from the page",
                what("create")
            ));
        }
        if fam.is_v2() {
            id_created = v2_id_of(&v, ty);
            if id_created.is_none() {
                c.errors.push(format!("{}: no id", what("create")));
            }
        }
    }
    if !last {
        let r = c.call(ctx, Method::GET, &full, fam.media(), None).await;
        c.expect(&what("get"), &r, &[200]);
    }
    // update
    let b = serde_json::to_vec(&body(fam, ty, &m2, s0 % 4 != 0)).expect("json");
    let r = c
        .call(
            ctx,
            Method::PUT,
            &format!("{full}?pageNum=1&itemsPerPage=100"),
            fam.media(),
            Some((fam.media(), b)),
        )
        .await;
    if c.expect(&what("update"), &r, &[200]) {
        let v = r.as_ref().and_then(Resp::json).unwrap_or(Value::Null);
        let n = page_types(&v).iter().filter(|t| *t == ty).count();
        if n != 1 {
            c.errors.push(format!(
                "{}: type appears {n} times in the page",
                what("update")
            ));
        }
        if fam.is_v2() && v2_id_of(&v, ty) != id_created {
            c.errors
                .push(format!("{}: id changed across update", what("update")));
        }
    }
    // get
    let r = c.call(ctx, Method::GET, &full, fam.media(), None).await;
    let mut id_final = None;
    if c.expect(&what("get after update"), &r, &[200]) {
        let resp = r.as_ref().expect("some");
        if !resp.content_type.starts_with(fam.media()) {
            c.errors.push(format!(
                "{}: content-type {:?}",
                what("get after update"),
                resp.content_type
            ));
        }
        let v = resp.json().unwrap_or(Value::Null);
        if fam.is_v2() {
            id_final = v2_id_of(&v, ty);
            if id_final != id_created {
                c.errors.push(format!(
                    "{}: id changed across update",
                    what("get after update")
                ));
            }
        }
    }
    if last {
        return Some((m2, id_final));
    }
    // list
    let r = c.call(ctx, Method::GET, &list, fam.media(), None).await;
    if c.expect(&what("list"), &r, &[200]) {
        let v = r.as_ref().and_then(Resp::json).unwrap_or(Value::Null);
        let n = page_types(&v).iter().filter(|t| *t == ty).count();
        if n != 1 {
            c.errors
                .push(format!("{}: own type appears {n} times", what("list")));
        }
    }
    // delete, then get: 404
    let r = c.call(ctx, Method::DELETE, &full, fam.media(), None).await;
    c.expect(&what("delete"), &r, &[204]);
    let r = c.call(ctx, Method::GET, &full, fam.media(), None).await;
    if c.expect(&what("get after delete"), &r, &[404]) {
        let code = r
            .as_ref()
            .and_then(Resp::json)
            .and_then(|v| v.get("errorCode").cloned());
        if code != Some(json!("INTEGRATION_NOT_CONFIGURED")) {
            c.errors
                .push(format!("{}: errorCode {code:?}", what("get after delete")));
        }
    }
    None
}

async fn writer(
    ctx: Arc<Ctx>,
    id: usize,
    my_slots: Vec<Slot>,
    cycles: usize,
    mut c: Client,
) -> (Client, Vec<Final>) {
    let mut finals = Vec::new();
    for slot in my_slots {
        let mut seq = 0usize;
        for k in 0..cycles {
            let fam = slot.fams[k % slot.fams.len()];
            cycle(&mut c, &ctx, id, &slot, fam, seq, false).await;
            seq += 2;
        }
        let fam = slot.fams[cycles % slot.fams.len()];
        let (marker, v2_id) = cycle(&mut c, &ctx, id, &slot, fam, seq, true)
            .await
            .unwrap_or_default();
        finals.push(Final {
            proj: slot.proj,
            ty: slot.ty,
            marker,
            v2_id: v2_id.filter(|_| fam.is_v2()),
        });
    }
    (c, finals)
}

async fn reader(ctx: Arc<Ctx>, id: usize, ops: usize, mut c: Client) -> Client {
    let fams = [Fam::Cm, Fam::V1, Fam::V2_2023, Fam::V2_2025];
    while c.ops < ops as u64 {
        let fam = fams[c.rand(fams.len())];
        let group = if fam == Fam::Cm {
            ctx.cm.clone()
        } else {
            ctx.atlas.clone()
        };
        let roll = c.rand(100);
        if roll < 45 {
            let page = 1 + c.rand(3);
            let per = [1, 2, 5, 100, 500][c.rand(5)];
            let env = c.rand(4) == 0;
            let path = format!(
                "{}/groups/{group}/integrations?pageNum={page}&itemsPerPage={per}&envelope={env}",
                fam.base()
            );
            let r = c.call(&ctx, Method::GET, &path, fam.media(), None).await;
            if c.expect(&format!("reader {id} {} list", fam.name()), &r, &[200]) {
                let v = r.as_ref().and_then(Resp::json).unwrap_or(Value::Null);
                let types = page_types(&v);
                let uniq: BTreeSet<&String> = types.iter().collect();
                if uniq.len() != types.len() {
                    c.errors.push(format!(
                        "reader {id} {} list: duplicate types {types:?}",
                        fam.name()
                    ));
                }
            }
        } else if roll < 92 {
            let ty = fam.types()[c.rand(fam.types().len())];
            let path = format!("{}/groups/{group}/integrations/{ty}", fam.base());
            let r = c.call(&ctx, Method::GET, &path, fam.media(), None).await;
            if c.expect(
                &format!("reader {id} {} get {ty}", fam.name()),
                &r,
                &[200, 404],
            ) {
                let resp = r.as_ref().expect("some");
                let v = resp.json().unwrap_or(Value::Null);
                if resp.status == 404
                    && v.get("errorCode") != Some(&json!("INTEGRATION_NOT_CONFIGURED"))
                {
                    c.errors.push(format!("reader {id} get {ty}: 404 {v}"));
                }
                if resp.status == 200 && v.get("type") != Some(&json!(ty)) {
                    c.errors.push(format!("reader {id} get {ty}: 200 {v}"));
                }
            }
        } else if roll < 96 {
            // atlas-v2 without a supported version: 406.
            let path = format!("/api/atlas/v2/groups/{}/integrations", ctx.atlas);
            let r = c
                .call(&ctx, Method::GET, &path, "application/json", None)
                .await;
            c.expect(&format!("reader {id} v2 unversioned Accept"), &r, &[406]);
        } else {
            // A well-formed id of no project: 404.
            let path = format!(
                "{}/groups/{}/integrations",
                fam.base(),
                "0123456789abcdef01234567"
            );
            let r = c.call(&ctx, Method::GET, &path, fam.media(), None).await;
            c.expect(&format!("reader {id} unknown project"), &r, &[404]);
        }
    }
    c
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    f64::from(sorted[i.min(sorted.len() - 1)]) / 1000.0
}

fn vm_hwm_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; ignore it.
    let total: usize = arg(&args, "--requests")
        .map(|v| v.parse().expect("--requests N"))
        .unwrap_or(10_000);
    let clients: usize = arg(&args, "--clients")
        .map(|v| v.parse().expect("--clients N"))
        .unwrap_or(32);
    let threads: usize = arg(&args, "--threads")
        .map(|v| v.parse().expect("--threads N"))
        .unwrap_or(0);
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if threads > 0 {
        rt.worker_threads(threads);
    }
    let rt = rt.enable_all().build().expect("runtime");
    // `--fault NAME` (repeatable): run against a server with a deliberate bug, to show that the
    // checks notice (e.g. create-returns-201, duplicate-create-overwrites).
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
    let code = rt.block_on(run(total, clients, faults));
    std::process::exit(code);
}

async fn run(total: usize, clients: usize, faults: Vec<Fault>) -> i32 {
    let srv = server::spawn(ServerConfig {
        faults,
        ..ServerConfig::default()
    })
    .await
    .expect("server starts");
    assert!(
        srv.base_url.starts_with("http://127.0.0.1:"),
        "loopback only"
    );
    let creds = srv.credentials.clone();
    let ctx = Arc::new(Ctx {
        base_url: url::Url::parse(&srv.base_url).expect("url"),
        atlas: creds.atlas_group_id.clone(),
        cm: creds.cm_group_id.clone(),
        other: creds.other_group_id.clone(),
        owner: AuthSpec::Digest {
            public: creds.owner.public.clone(),
            private: creds.owner.private.clone(),
        },
    });
    let other_before = srv.state.integrations(&ctx.other);

    // Plan: writers own the slots; readers take the rest of the budget.
    let all_slots = slots();
    let n_writers = clients.min(all_slots.len()).max(1);
    let n_readers = clients - n_writers;
    let writer_share = if n_readers == 0 {
        total
    } else {
        total * 55 / 100
    };
    let cycles = (writer_share.saturating_sub(3 * all_slots.len()) / all_slots.len() / 7).max(1);
    let per_slot = 7 * cycles + 3;
    let writer_ops = per_slot * all_slots.len();
    let reader_ops = total.saturating_sub(writer_ops);
    let mut assign: Vec<Vec<Slot>> = vec![Vec::new(); n_writers];
    for (i, s) in all_slots.iter().enumerate() {
        assign[i % n_writers].push(s.clone());
    }

    // Clients (TLS-capable reqwest clients are not free to build) exist before the clock starts;
    // connections and digest challenges are part of the measurement.
    let t_build = Instant::now();
    let writer_clients: Vec<Client> = (0..n_writers)
        .map(|i| Client::new(&ctx, i as u64 + 1))
        .collect();
    let reader_clients: Vec<Client> = (0..n_readers)
        .map(|i| Client::new(&ctx, 1000 + i as u64))
        .collect();
    let build_ms = t_build.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    let mut wh = Vec::new();
    for ((i, my), c) in assign.into_iter().enumerate().zip(writer_clients) {
        wh.push(tokio::spawn(writer(ctx.clone(), i, my, cycles, c)));
    }
    let mut rh = Vec::new();
    for (i, c) in reader_clients.into_iter().enumerate() {
        let ops = reader_ops / n_readers + usize::from(i < reader_ops % n_readers);
        rh.push(tokio::spawn(reader(ctx.clone(), i, ops, c)));
    }
    let mut all: Vec<Client> = Vec::new();
    let mut finals: Vec<Final> = Vec::new();
    for h in wh {
        let (c, f) = h.await.expect("writer task");
        all.push(c);
        finals.extend(f);
    }
    for h in rh {
        all.push(h.await.expect("reader task"));
    }
    let elapsed = started.elapsed();

    let mut slow: Vec<(u32, u64, String)> =
        all.iter().flat_map(|c| c.slow.iter().cloned()).collect();
    slow.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut lat: Vec<u32> = all.iter().flat_map(|c| c.lat.iter().copied()).collect();
    lat.sort_unstable();
    let ops: u64 = all.iter().map(|c| c.ops).sum();
    let http: u64 = all.iter().map(|c| c.http_requests).sum();
    let mut errors: Vec<String> = all.iter().flat_map(|c| c.errors.iter().cloned()).collect();
    let error_count = errors.len();

    // ---- final state check
    let mut state_problems: Vec<String> = Vec::new();
    let mut expected: BTreeMap<(String, &str), &Final> = BTreeMap::new();
    for f in &finals {
        expected.insert((ctx.group(f.proj).to_owned(), f.ty), f);
    }
    for (proj, group) in [(Proj::Atlas, ctx.atlas.clone()), (Proj::Cm, ctx.cm.clone())] {
        let stored = srv.state.integrations(&group);
        let want: Vec<&&Final> = expected
            .iter()
            .filter(|((g, _), _)| *g == group)
            .map(|(_, f)| f)
            .collect();
        if stored.len() != want.len() {
            state_problems.push(format!(
                "{proj:?}: {} integrations stored, {} expected",
                stored.len(),
                want.len()
            ));
        }
        let mut seen = BTreeSet::new();
        let mut ids = BTreeSet::new();
        for i in &stored {
            if !seen.insert(i.type_name.clone()) {
                state_problems.push(format!("{proj:?}: {} stored twice", i.type_name));
            }
            if !ids.insert(i.id.clone()) {
                state_problems.push(format!("{proj:?}: id {} used twice", i.id));
            }
            match expected.get(&(group.clone(), i.type_name.as_str())) {
                None => state_problems.push(format!("{proj:?}: unexpected {}", i.type_name)),
                Some(f) => {
                    let got = i.fields.get(marker_field(f.ty));
                    let want = marker_value(f.ty, &f.marker);
                    if got != Some(&want) {
                        state_problems.push(format!(
                            "{proj:?} {}: marker {got:?}, expected {want}",
                            f.ty
                        ));
                    }
                    if let Some(v2) = &f.v2_id {
                        if *v2 != i.id {
                            state_problems.push(format!(
                                "{proj:?} {}: stored id {} but atlas-v2 showed {v2}",
                                f.ty, i.id
                            ));
                        }
                    }
                }
            }
        }
    }
    if srv.state.integrations(&ctx.other) != other_before {
        state_problems.push("the other owner's project changed".into());
    }
    // Over HTTP: every family's list shows exactly the expected types, once, with a right count.
    let mut checker = Client::new(&ctx, 4242);
    for fam in [Fam::Cm, Fam::V1, Fam::V2_2023, Fam::V2_2025] {
        let (proj, group) = if fam == Fam::Cm {
            (Proj::Cm, ctx.cm.clone())
        } else {
            (Proj::Atlas, ctx.atlas.clone())
        };
        let path = format!(
            "{}/groups/{group}/integrations?itemsPerPage=500",
            fam.base()
        );
        let r = checker
            .call(&ctx, Method::GET, &path, fam.media(), None)
            .await;
        let Some(v) = r.as_ref().filter(|r| r.status == 200).and_then(Resp::json) else {
            state_problems.push(format!("{}: final list failed", fam.name()));
            continue;
        };
        let mut got = page_types(&v);
        let mut want: Vec<String> = finals
            .iter()
            .filter(|f| f.proj == proj && fam.types().contains(&f.ty))
            .map(|f| f.ty.to_owned())
            .collect();
        got.sort();
        want.sort();
        if got != want {
            state_problems.push(format!(
                "{}: final list {got:?}, expected {want:?}",
                fam.name()
            ));
        }
        if v.get("totalCount") != Some(&json!(want.len())) {
            state_problems.push(format!(
                "{}: totalCount {:?}, expected {}",
                fam.name(),
                v.get("totalCount"),
                want.len()
            ));
        }
    }
    errors.extend(checker.errors.iter().cloned());

    let rps = http as f64 / elapsed.as_secs_f64();
    let (p50, p90, p99, max) = (
        pct(&lat, 50.0),
        pct(&lat, 90.0),
        pct(&lat, 99.0),
        pct(&lat, 100.0),
    );
    eprintln!("server_load: {clients} clients ({n_writers} writers on {} slots x {cycles} cycles, {n_readers} readers), loopback {}", all_slots.len(), srv.base_url);
    eprintln!("server_load: {clients} reqwest clients built in {build_ms:.1} ms (before the clock starts)");
    eprintln!("server_load: {ops} operations, {http} HTTP requests (incl. {} digest challenges) in {:.3} s", http - ops, elapsed.as_secs_f64());
    eprintln!("server_load: {rps:.0} requests/s; latency p50 {p50:.3} ms, p90 {p90:.3} ms, p99 {p99:.3} ms, max {max:.3} ms");
    eprintln!(
        "server_load: errors {error_count}; final state: {}",
        if state_problems.is_empty() {
            "OK (17 slots, one integration each, last marker, ids stable, nothing lost or duplicated)".to_owned()
        } else {
            format!("{} problems", state_problems.len())
        }
    );
    eprintln!(
        "server_load: {} requests over 20 ms, {} of them a client's first request (connection set-up + digest challenge); slowest:",
        slow.len(),
        slow.iter().filter(|s| s.1 == 0).count()
    );
    for (micros, index, line) in slow.iter().take(5) {
        eprintln!(
            "  {:8.3} ms  request #{index} of its client  {line}",
            f64::from(*micros) / 1000.0
        );
    }
    for e in errors.iter().take(20) {
        eprintln!("  error: {e}");
    }
    for p in &state_problems {
        eprintln!("  state: {p}");
    }
    println!(
        "{}",
        json!({
            "bench": "server_load",
            "clients": clients, "writers": n_writers, "readers": n_readers, "cycles": cycles,
            "operations": ops, "http_requests": http, "seconds": elapsed.as_secs_f64(),
            "requests_per_second": rps,
            "latency_ms": {"p50": p50, "p90": p90, "p99": p99, "max": max},
            "errors": error_count, "state_problems": state_problems.len(),
            "vm_hwm_kib": vm_hwm_kib(),
        })
    );
    srv.shutdown().await.ok();
    i32::from(error_count > 0 || !state_problems.is_empty())
}
