//! `run --har FILE`: every recorded exchange of a run as an HTTP Archive (HAR 1.2), for browser
//! developer tools and HAR viewers. It is built from the scrubbed [`Document`], so it holds
//! exactly what `report.json` holds: no credential, no secret, bodies cut as there.

use serde_json::{json, Map, Value};

use super::{Document, ExchangeReport, Header};

/// The HAR text (JSON) of a run's exchanges, in case order, then step order.
pub fn render(doc: &Document) -> String {
    let mut entries = Vec::new();
    for case in &doc.cases {
        for ex in &case.exchanges {
            entries.push(entry(doc, &case.id, ex));
        }
    }
    let har = json!({
        "log": {
            "version": "1.2",
            "creator": {"name": doc.tool.name, "version": doc.tool.version},
            "comment": format!(
                "conformance run against {} ({} cases, verdict {})",
                doc.target.base_url,
                doc.summary.counts.total,
                doc.summary.verdict.as_str()
            ),
            "entries": entries,
        }
    });
    let mut text = serde_json::to_string_pretty(&har).expect("a HAR value always serialises");
    text.push('\n');
    text
}

fn entry(doc: &Document, case_id: &str, ex: &ExchangeReport) -> Value {
    let request_type = header(&ex.request_headers, "content-type");
    let mut request = json!({
        "method": ex.method,
        "url": ex.url,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": headers(&ex.request_headers),
        "queryString": query(&ex.url),
        "headersSize": -1,
        "bodySize": ex.request_body.as_ref().map_or(0, String::len),
    });
    if let Some(body) = &ex.request_body {
        request["postData"] = json!({
            "mimeType": request_type.unwrap_or_default(),
            "text": body,
        });
    }
    let response = match &ex.response {
        Some(r) => json!({
            "status": r.status,
            "statusText": http::StatusCode::from_u16(r.status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or(""),
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": headers(&r.headers),
            "content": {
                "size": r.body_bytes,
                "mimeType": header(&r.headers, "content-type").unwrap_or("x-unknown"),
                "text": r.body,
            },
            "redirectURL": header(&r.headers, "location").unwrap_or_default(),
            "headersSize": -1,
            "bodySize": r.body_bytes,
        }),
        // HAR's convention for a request that got no answer: status 0.
        None => json!({
            "status": 0,
            "statusText": "",
            "httpVersion": "",
            "cookies": [],
            "headers": [],
            "content": {"size": 0, "mimeType": "x-unknown"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
            "_error": ex.error.clone().unwrap_or_default(),
        }),
    };
    let mut out = Map::new();
    // Exchanges carry their duration, not their start: every entry starts with the run.
    out.insert("startedDateTime".into(), json!(doc.started));
    out.insert("time".into(), json!(ex.duration_ms));
    out.insert("request".into(), request);
    out.insert("response".into(), response);
    out.insert("cache".into(), json!({}));
    out.insert(
        "timings".into(),
        json!({"send": 0, "wait": ex.duration_ms, "receive": 0}),
    );
    out.insert(
        "comment".into(),
        json!(format!("{case_id} step {} ({})", ex.step, ex.role)),
    );
    Value::Object(out)
}

fn headers(list: &[Header]) -> Value {
    list.iter()
        .map(|h| json!({"name": h.name, "value": h.value}))
        .collect()
}

fn header<'a>(list: &'a [Header], name: &str) -> Option<&'a str> {
    list.iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

fn query(url: &str) -> Value {
    match url::Url::parse(url) {
        Ok(u) => u
            .query_pairs()
            .map(|(k, v)| json!({"name": k, "value": v}))
            .collect(),
        Err(_) => json!([]),
    }
}
