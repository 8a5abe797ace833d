//! Snapshot text of a judged case, normalised so that every conformant target renders exactly
//! the same text: the request lines with placeholders for group ids, status (the accepted set
//! where the contract allows several), allow-listed headers, the body with sorted keys and the
//! volatile parts replaced (host, group ids, assigned ids, `detail`, and `errorCode`/`parameters`
//! where the level is not E), then the findings.
//!
//! Exactly the parts the contract leaves open are normalised, and only when they are one of the
//! open choices: `reason` becomes `{reason}` when it is a reason phrase of the status in any
//! letter case (else it is shown raw, so the snapshot fails); where the status is one of a set,
//! the body's `error` (and an envelope's `status`) become `{status}` when they equal the HTTP
//! status; media types lose their parameters and case; pretty bodies are re-rendered
//! canonically (the layout is only named); link hrefs become `{host}`, the path, and the sorted
//! query parameters the contract fixes for links (others a link may carry are not shown); the
//! body of a 401 for bad credentials is not shown (it may be empty); the challenge line is shown
//! only where a challenge is required; fields the contract does not list, at every level of
//! every body, and `null` for optional fields without a value are left out (contract section
//! 10), and warnings are never shown.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::case::{Case, Expect, Role};
use crate::check::reason;
use crate::model::{ErrorRule, Family, Level, Model, Wire};
use crate::outcome::Outcome;
use crate::scrub::Scrubber;

/// Values a target chose that vary between conformant targets (group ids, its base URL).
#[derive(Debug, Clone, Default)]
pub struct Volatile {
    /// (value, placeholder), longest first.
    pub replacements: Vec<(String, String)>,
    pub secrets: Vec<String>,
}

impl Volatile {
    pub fn new(base_url: &str, groups: &[(&str, &str)], secrets: Vec<String>) -> Volatile {
        let mut replacements = vec![(
            base_url.trim_end_matches('/').to_owned(),
            "{base}".to_owned(),
        )];
        for (value, name) in groups {
            if !value.is_empty() {
                replacements.push(((*value).to_owned(), format!("{{{name}}}")));
            }
        }
        replacements.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
        Volatile {
            replacements,
            secrets,
        }
    }

    fn apply(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (v, p) in &self.replacements {
            out = out.replace(v.as_str(), p);
        }
        out
    }
}

/// The snapshot file name of a case: `{family}__{operationId}__{scenario}`.
pub fn name(case_id: &str) -> String {
    case_id.replace('/', "__")
}

/// Render a case's snapshot.
pub fn render(model: &Model, case: &Case, outcome: &Outcome, volatile: &Volatile) -> String {
    let Some(family) = model.family(&case.family) else {
        return format!(
            "case: {}\n(family {} is not in the spec)\n",
            case.id, case.family
        );
    };
    let mut out = String::new();
    out.push_str(&format!(
        "case: {}\ncategory: {}\ntitle: {}\n",
        case.id, case.category, case.title
    ));
    let mut group_shown = false;
    for (k, ex) in outcome.exchanges.iter().enumerate() {
        let step = &case.steps[ex.step];
        if step.role == Role::Concurrent {
            if !group_shown {
                out.push_str(&concurrent_group(case, outcome, &model.wire));
                group_shown = true;
            }
            continue;
        }
        if !matches!(step.role, Role::Test | Role::Verify) {
            continue;
        }
        exchange(&mut out, (model, family), case, outcome, k, volatile);
    }
    out.push_str("\nfindings:");
    if outcome.findings.is_empty() {
        out.push_str(" none\n");
    } else {
        out.push('\n');
        for f in &outcome.findings {
            out.push_str(&format!(
                "- [{}] step {}: {}\n",
                f.check,
                f.step,
                volatile.apply(&f.message)
            ));
        }
    }
    out
}

/// One test or verify step's exchange: the request line, the status (or the accepted set), the
/// allow-listed headers and the normalised body. The exchange is the `k`-th of the outcome.
fn exchange(
    out: &mut String,
    (model, family): (&Model, &Family),
    case: &Case,
    outcome: &Outcome,
    k: usize,
    volatile: &Volatile,
) {
    let ex = &outcome.exchanges[k];
    let step = &case.steps[ex.step];
    let role = if step.role == Role::Test {
        "test"
    } else {
        "verify"
    };
    out.push_str(&format!(
        "\n## step {} ({role})\n> {}\n",
        ex.step,
        step.request.line()
    ));
    let rule = step.expect.iter().find_map(|e| match e {
        Expect::Error { rule, .. } => Some(rule),
        _ => None,
    });
    let Some(resp) = &ex.response else {
        out.push_str("< no response\n");
        return;
    };
    if let Some(Expect::Either { status, rule }) = step
        .expect
        .iter()
        .find(|e| matches!(e, Expect::Either { .. }))
    {
        // A point the contract leaves open: which reading the target took is its choice.
        if resp.status == *status || rule.status_ok(resp.status) {
            out.push_str(&format!("< {status} or {} (either reading)\n", rule.status));
            return;
        }
    }
    let (status, status_open) = status_line(rule, resp.status);
    out.push_str(&format!("< {status}\n"));
    // The body of a 401 for bad credentials may be empty (then it has no media type); where
    // the row also accepts another status (a digest response for another uri: 400), which one
    // came is the target's choice, and so are its body and challenge.
    let unauthenticated = rule
        .is_some_and(|r| r.situation.refuses_credentials() && (resp.status == 401 || status_open));
    if let Some(media) = resp.media_type().filter(|_| !unauthenticated) {
        if !resp.body.is_empty() || media.contains("vnd.") {
            out.push_str(&format!("< content-type: {media}\n"));
        }
    }
    // Any 401 may carry a challenge (section 10); only where one is required is it shown.
    let challenge_required = step
        .expect
        .iter()
        .any(|e| matches!(e, Expect::Challenge { .. }));
    if resp.status == 401
        && challenge_required
        && !status_open
        && resp.header("www-authenticate").is_some()
    {
        out.push_str("< www-authenticate: (challenge)\n");
    }
    if unauthenticated {
        out.push_str(&format!(
            "({} body not compared)\n",
            if status_open { "error" } else { "401" }
        ));
        return;
    }
    if resp.body.is_empty() {
        out.push_str("(no body)\n");
        return;
    }
    if step
        .expect
        .iter()
        .any(|e| matches!(e, Expect::Winner { .. }))
    {
        // Which concurrent request won is the target's timing, not its behaviour.
        out.push_str("(the configuration one concurrent request sent, whole)\n");
        return;
    }
    let layout = if resp.body_text().trim_end().contains('\n') {
        "pretty"
    } else {
        "compact"
    };
    match resp.json() {
        Some(mut json) => {
            crate::check::listed_view(model, family, step, resp.status, &mut json);
            // errorCode is fixed at level E; parameters only where the contract names them.
            let fixed = Fixed {
                code: rule.is_some_and(|r| r.level == Level::E),
                params: rule.is_some_and(|r| r.level == Level::E && !r.parameters.is_empty()),
                status: resp.status,
                status_open,
                link_query: &family.link_query,
                wire: &model.wire,
            };
            let text =
                serde_json::to_string_pretty(&normalise(json, fixed, volatile)).unwrap_or_default();
            out.push_str(&format!(
                "({layout} JSON)\n{}\n",
                Scrubber::new(volatile.secrets.iter().cloned()).clean(&volatile.apply(&text))
            ));
        }
        None => out.push_str(&format!("(not JSON, {} bytes)\n", resp.body.len())),
    }
}

/// The status line of an answer: the status, or the set the step's level C row accepts when
/// the status is one of them (then `true`: which one came is the target's choice).
fn status_line(rule: Option<&ErrorRule>, got: u16) -> (String, bool) {
    let Some(rule) = rule.filter(|r| r.level == Level::C) else {
        return (got.to_string(), false);
    };
    let within = rule.status_ok(got) || rule.also_status.is_empty() && (400..500).contains(&got);
    if !within {
        return (got.to_string(), false);
    }
    let set = if rule.also_status.is_empty() {
        "4xx".to_owned()
    } else {
        std::iter::once(rule.status)
            .chain(rule.also_status.iter().copied())
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join("|")
    };
    (set, true)
}

/// A group of concurrent steps as one block: the request line once and the answers counted by
/// status and errorCode, since which request of the group wins varies from run to run.
fn concurrent_group(case: &Case, outcome: &Outcome, wire: &Wire) -> String {
    let members: Vec<_> = outcome
        .exchanges
        .iter()
        .filter(|ex| case.steps[ex.step].role == Role::Concurrent)
        .collect();
    let (Some(first), Some(last)) = (members.first(), members.last()) else {
        return String::new();
    };
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for ex in &members {
        let answer = match &ex.response {
            Some(r) => {
                let code = r.json().and_then(|v| {
                    v.get(&wire.error.code)
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                });
                match code {
                    Some(code) => format!("{} {code}", r.status),
                    None => r.status.to_string(),
                }
            }
            None => "no response".to_owned(),
        };
        *counts.entry(answer).or_default() += 1;
    }
    // Each distinct request once, in the order of the group, with how many were sent.
    let mut lines: Vec<(String, usize)> = Vec::new();
    for ex in &members {
        let line = case.steps[ex.step].request.line();
        match lines.iter_mut().find(|(l, _)| *l == line) {
            Some((_, n)) => *n += 1,
            None => lines.push((line, 1)),
        }
    }
    let mut out = format!("\n## steps {}-{} (concurrent)\n", first.step, last.step);
    for (line, n) in lines {
        out.push_str(&format!("> {line} (x{n})\n"));
    }
    for (answer, n) in counts {
        out.push_str(&format!("< {answer} (x{n})\n"));
    }
    out
}

#[derive(Clone, Copy)]
struct Fixed<'m> {
    code: bool,
    params: bool,
    /// The HTTP status of the response.
    status: u16,
    /// The status is one of a set the contract accepts (then shown as the set).
    status_open: bool,
    /// The link query parameters the contract fixes (others a link may carry are not shown).
    link_query: &'m [String],
    /// The API's names.
    wire: &'m Wire,
}

fn normalise(v: Value, level: Fixed<'_>, volatile: &Volatile) -> Value {
    match v {
        Value::Object(map) => {
            let mut sorted: BTreeMap<String, Value> = BTreeMap::new();
            for (k, v) in map {
                let v = normalise_field(&k, v, level, volatile);
                sorted.insert(k, v);
            }
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|i| normalise(i, level, volatile))
                .collect(),
        ),
        // A url-secret mask's scheme and host may come as sent or lower-cased.
        Value::String(s) => match crate::check::url_mask_parts(&s) {
            Some((prefix, rest)) => Value::String(format!("{}{rest}", prefix.to_lowercase())),
            None => Value::String(s),
        },
        other => other,
    }
}

/// One field's value, its key read as the API's names: a placeholder (`{detail}`, `{status}`,
/// …) where the value is the target's open choice, else the value normalised.
fn normalise_field(k: &str, v: Value, level: Fixed<'_>, volatile: &Volatile) -> Value {
    let w = level.wire;
    let placeholder = |name: &str| Value::String(format!("{{{name}}}"));
    let open_status = level.status_open && v.as_u64() == Some(u64::from(level.status));
    let open_choice = k == w.error.detail
        || (k == w.error.reason
            && v.as_str()
                .is_some_and(|r| reason::is_phrase(level.status, r)))
        || (k == w.error.code && !level.code)
        || (k == w.error.parameters && !level.params)
        || (k == w.id && is_hex24(&v));
    if (k == w.error.status || k == w.envelope.status) && open_status {
        Value::String("{status}".into())
    } else if open_choice {
        placeholder(k)
    } else if k == w.link.href {
        Value::String(normalise_href(
            v.as_str().unwrap_or_default(),
            level.link_query,
            volatile,
        ))
    } else if k == w.list.links {
        let mut links: Vec<Value> = v
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|l| normalise(l, level, volatile))
            .collect();
        links.sort_by_key(|l| {
            l.get(&w.link.rel)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        });
        Value::Array(links)
    } else {
        normalise(v, level, volatile)
    }
}

fn is_hex24(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `{host}` + path + the sorted query parameters the contract fixes for links.
fn normalise_href(href: &str, fixed: &[String], volatile: &Volatile) -> String {
    match url::Url::parse(href) {
        Ok(u) => {
            let mut pairs: Vec<(String, String)> = u
                .query_pairs()
                .filter(|(k, _)| fixed.iter().any(|f| f == k))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            pairs.sort();
            let q: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
            let path = volatile.apply(u.path());
            if q.is_empty() {
                format!("{{host}}{path}")
            } else {
                format!("{{host}}{path}?{}", q.join("&"))
            }
        }
        Err(_) => "{unparseable href}".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixed(status: u16, status_open: bool) -> Fixed<'static> {
        static WIRE: std::sync::OnceLock<Wire> = std::sync::OnceLock::new();
        Fixed {
            code: true,
            params: true,
            status,
            status_open,
            link_query: &[],
            wire: WIRE.get_or_init(|| crate::model::bundled().unwrap().wire),
        }
    }

    #[test]
    fn only_the_open_choices_are_normalised() {
        let v = Volatile::default();
        let body = |reason: &str, error: u16| json!({"detail": "x", "error": error, "errorCode": "C", "parameters": [], "reason": reason});
        // any phrase of the status is the same snapshot
        for reason in [
            "Payload Too Large",
            "Request Entity Too Large",
            "Content Too Large",
        ] {
            let n = normalise(body(reason, 413), fixed(413, true), &v);
            assert_eq!(n["reason"], "{reason}");
            assert_eq!(n["error"], "{status}");
        }
        // another status's phrase is shown as it is, so the snapshot fails
        let n = normalise(body("Bad Request", 413), fixed(413, true), &v);
        assert_eq!(n["reason"], "Bad Request");
        // an error field that is not the HTTP status is shown as it is
        let n = normalise(body("Content Too Large", 400), fixed(413, true), &v);
        assert_eq!(n["error"], 400);
        // where the status is fixed, so is the error field
        let n = normalise(body("Not Found", 404), fixed(404, false), &v);
        assert_eq!(n["error"], 404);
        assert_eq!(n["errorCode"], "C");
    }
}
