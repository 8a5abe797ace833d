//! Fields a target adds, anywhere (contract section 10): a proxy plants one field into every JSON
//! object of every answer of the reference server (error bodies, list pages, envelopes, links,
//! integration objects, the token endpoint's answers). Every case still passes, each planted
//! field is a warning, and every snapshot is byte for byte the committed one.

use std::path::PathBuf;

use serde_json::Value;

use super::proxy::Proxy;
use crate::fixture;
use integrations_conformance::runner::{self, RunOptions, Verdict};
use integrations_conformance::snapshot::{self, Volatile};
use integrations_conformance::transport;

const PLANTED: &str = "plantedByTheProxy";

/// Adds [`PLANTED`] to every object in `v`, at every depth.
fn plant(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.values_mut().for_each(plant);
            map.insert(PLANTED.into(), Value::from("trace-0f1e2d"));
        }
        Value::Array(items) => items.iter_mut().for_each(plant),
        _ => {}
    }
}

/// The committed snapshot of a case, without insta's header.
fn committed(id: &str) -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots")
        .join(format!("{}.snap", snapshot::name(id)));
    let text = std::fs::read_to_string(path).ok()?;
    let body = text.splitn(3, "---\n").nth(2)?;
    Some(body.trim_end().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_planted_in_every_json_object_keeps_every_verdict_and_committed_snapshot() {
    let harness = fixture::harness();
    let cases = fixture::cases();
    let srv = fixture::server(Vec::new()).await;
    let proxy = Proxy::rewriting(&srv.base_url, |content_type, body| {
        if !content_type.to_ascii_lowercase().contains("json") {
            return None;
        }
        let mut v: Value = serde_json::from_slice(body).ok()?;
        plant(&mut v);
        let pretty = body.contains(&b'\n');
        if pretty {
            serde_json::to_vec_pretty(&v).ok()
        } else {
            serde_json::to_vec(&v).ok()
        }
    })
    .await;
    let mut t = srv.target().expect("target");
    t.base_url = transport::parse_base_url(&proxy.url).expect("proxy url");
    let report = runner::run(harness, cases, &t, &RunOptions::default())
        .await
        .expect("the run completes");
    let failed: Vec<String> = report
        .outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Failed)
        .map(|o| format!("{}: {:?}", o.id, o.findings.first().map(|f| &f.message)))
        .collect();
    assert!(
        failed.is_empty(),
        "{} failed, e.g. {:?}",
        failed.len(),
        &failed[..failed.len().min(5)]
    );
    let warned = report
        .outcomes
        .iter()
        .filter(|o| !o.warnings.is_empty())
        .count();
    assert!(
        warned * 2 > cases.len(),
        "only {warned} cases warned about the planted field"
    );
    assert!(report
        .outcomes
        .iter()
        .flat_map(|o| &o.warnings)
        .all(|w| w.field.as_deref() == Some(PLANTED)));

    // The snapshots name the target's values by placeholder: the server's base URL stands for
    // the proxy's, as the committed ones were made against the server itself.
    let groups: Vec<(&str, &str)> = [
        (t.atlas_group_id.as_deref(), "groupId"),
        (t.cm_group_id.as_deref(), "cmGroupId"),
        (t.other_group_id.as_deref(), "noAccessGroupId"),
    ]
    .into_iter()
    .filter_map(|(v, n)| v.map(|v| (v, n)))
    .collect();
    let volatile = Volatile::new(t.base_url.as_str(), &groups, t.secrets());
    let mut compared = 0;
    for o in report
        .outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Passed)
    {
        let case = cases.iter().find(|c| c.id == o.id).expect("case");
        let Some(want) = committed(&o.id) else {
            continue;
        };
        let got = snapshot::render(&harness.model, case, o, &volatile);
        assert_eq!(got.trim_end(), want, "the snapshot of {} changed", o.id);
        compared += 1;
    }
    assert!(
        compared * 10 > cases.len() * 9,
        "only {compared} snapshots compared"
    );
}
