//! Targets that echo what they are sent: no secret reaches a finding, a report or a snapshot.

use super::*;

// 13. echo

/// Answers every request with 200 and a list-like body echoing the request's body and headers;
/// with `in_headers`, also echoes them in response headers. Asks for digest credentials first
/// (so the digest username comes back too).
pub(super) fn echo(in_headers: bool) -> impl Fn(&Head) -> Action {
    move |h: &Head| {
        if h.header("authorization").is_none() {
            return Action::Respond {
                status: 401,
                headers: vec![(
                    "www-authenticate".into(),
                    r#"Digest realm="echo", nonce="6563686f6563686f6563686f", qop="auth", algorithm=MD5"#
                        .into(),
                )],
                body: Vec::new(),
            };
        }
        let body_text = String::from_utf8_lossy(&h.body).into_owned();
        let echoed: serde_json::Value =
            serde_json::from_slice(&h.body).unwrap_or(serde_json::Value::String(body_text.clone()));
        let headers: serde_json::Map<String, serde_json::Value> = h
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let mut out = vec![("content-type".to_owned(), "application/json".to_owned())];
        if in_headers {
            for (k, v) in &h.headers {
                out.push((format!("x-echo-{k}"), v.clone()));
            }
            if !body_text.contains(['\r', '\n']) && body_text.len() < 4000 {
                out.push(("x-echo-body".into(), body_text));
            }
        }
        Action::Respond {
            status: 200,
            headers: out,
            body: serde_json::json!({
                "links": [], "results": [], "totalCount": 0,
                "echo": echoed, "headers": headers,
            })
            .to_string()
            .into_bytes(),
        }
    }
}

/// [`echo`] as a PHP-style encoder writes it: every `/` escaped as `\/` (valid JSON, the same
/// strings once decoded).
pub(super) fn echo_escaping_slashes() -> impl Fn(&Head) -> Action {
    let plain = echo(false);
    move |h: &Head| match plain(h) {
        Action::Respond {
            status,
            headers,
            body,
        } => Action::Respond {
            status,
            headers,
            body: String::from_utf8_lossy(&body)
                .replace('/', "\\/")
                .into_bytes(),
        },
        other => other,
    }
}

/// Cases whose secrets hold a `/` (URL secrets).
pub(super) fn url_secret_cases() -> Vec<Case> {
    let picked: Vec<Case> = fixture::cases()
        .iter()
        .filter(|c| {
            c.family == "cloud-manager"
                && c.category == Category::Redaction
                && c.secrets.iter().any(|s| s.contains('/'))
        })
        .take(6)
        .cloned()
        .collect();
    assert!(picked.len() >= 3);
    picked
}

/// Cases that send secrets, from every family and several categories, plus the bodies that
/// carry secret values without being about redaction (a body that is an array, a project
/// without access).
fn secret_cases() -> Vec<Case> {
    let mut picked: Vec<Case> = Vec::new();
    for family in ["cloud-manager", "atlas-v1", "atlas-v2"] {
        for cat in [Category::Redaction, Category::Validation, Category::State] {
            picked.extend(
                fixture::cases()
                    .iter()
                    .filter(|c| c.family == family && c.category == cat && !c.secrets.is_empty())
                    .take(2)
                    .cloned(),
            );
        }
        picked.extend(
            fixture::cases()
                .iter()
                .filter(|c| {
                    c.family == family
                        && (c.id.ends_with("array-body")
                            || c.id.ends_with("/project-without-access"))
                })
                .cloned(),
        );
    }
    picked
}

/// The secrets (of at least 5 bytes) that occur in `text`: one pass over the text, secrets
/// indexed by their first bytes (thousands of secrets meet megabytes of reports).
pub(super) fn occurring<'s>(text: &str, secrets: &'s [String]) -> BTreeSet<&'s String> {
    let mut index: std::collections::HashMap<&[u8], Vec<&String>> = Default::default();
    for s in secrets.iter().filter(|s| s.len() >= 5) {
        index.entry(&s.as_bytes()[..5]).or_default().push(s);
    }
    let bytes = text.as_bytes();
    let mut found = BTreeSet::new();
    for i in 0..bytes.len().saturating_sub(4) {
        if let Some(list) = index.get(&bytes[i..i + 5]) {
            found.extend(list.iter().filter(|s| bytes[i..].starts_with(s.as_bytes())));
        }
    }
    found
}

/// A written file's text as a reader sees it: a JSON file's strings decoded (one per line), the
/// others as they are.
pub(super) fn readable(path: &std::path::Path, text: &str) -> String {
    fn strings(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::String(s) => {
                out.push_str(s);
                out.push('\n');
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
            serde_json::Value::Object(m) => m.iter().for_each(|(k, v)| {
                out.push_str(k);
                out.push('\n');
                strings(v, out);
            }),
            _ => {}
        }
    }
    if path.extension().is_some_and(|e| e == "json") {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
            let mut out = String::new();
            strings(&v, &mut out);
            return out;
        }
    }
    text.to_owned()
}

/// Where `text` shows the beginning of a secret cut short by an ellipsis (`…`): a snippet cut
/// inside a secret, which no scrubber recognises afterwards. At least 8 characters of the
/// secret, and not the whole of it.
pub(super) fn cut_secrets(text: &str, secrets: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices('…') {
        let before = &text[..at];
        for s in secrets {
            let shown = (8..s.len())
                .rev()
                .filter(|k| s.is_char_boundary(*k))
                .find(|k| before.ends_with(&s[..*k]));
            if let Some(k) = shown {
                out.push(format!("{}… (of {} characters)", &s[..k], s.len()));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[track_caller]
pub(super) fn assert_no_secret(text: &str, forbidden: &[String], what: &str) {
    let leaked = occurring(text, forbidden);
    assert!(
        leaked.is_empty(),
        "{what} shows {} secret(s): {leaked:?}",
        leaked.len()
    );
}

struct Echoed {
    report: RunReport,
    target: Target,
    cases: Vec<Case>,
}

impl Echoed {
    /// The report as the report writers get it.
    fn json(&self) -> String {
        serde_json::to_string(&self.report).expect("serialisable")
    }

    /// Every secret value the generated cases declare (a value secret in one case is secret
    /// wherever it is sent).
    fn case_secrets(&self) -> Vec<String> {
        let mut all: Vec<String> = fixture::cases()
            .iter()
            .flat_map(|c| c.secrets.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

async fn echo_run(in_headers: bool, auth: AuthSpec) -> Echoed {
    let srv = RawServer::start(echo(in_headers)).await;
    let mut target = target_at(&srv.url());
    target.auth = auth;
    let cases = secret_cases();
    let (result, elapsed) = run_timed(
        &target,
        &cases,
        &opts(Duration::from_secs(2), Duration::from_secs(8)),
    )
    .await;
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    let report = result.expect("judged");
    // Every case that had a secret echoed (a request carrying one, recorded with the secret
    // scrubbed, answered 200) is failed for it, by name.
    let mut echoed = 0;
    for o in &report.outcomes {
        let sent_and_echoed = o.exchanges.iter().any(|e| {
            e.request_body
                .as_deref()
                .is_some_and(|b| b.contains("{{secret}}"))
                && e.response.as_ref().is_some_and(|r| r.status == 200)
        });
        if !sent_and_echoed {
            continue;
        }
        echoed += 1;
        assert!(
            o.findings
                .iter()
                .any(|f| f.check == "secret_redaction" && f.message.contains("secret echoed")),
            "{}: {:?}",
            o.id,
            o.findings
        );
    }
    assert!(echoed >= 6, "only {echoed} cases had a secret echoed");
    Echoed {
        report,
        target,
        cases,
    }
}

/// What holds today: the leak is named, a case's own secrets never show in its outcome, and
/// the private keys (never sent: digest) show nowhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_echo_target_findings_name_the_leak_and_never_the_secret() {
    let run = echo_run(
        false,
        AuthSpec::Digest {
            public: OWNER_PUBLIC.into(),
            private: OWNER_PRIVATE.into(),
        },
    )
    .await;
    for o in &run.report.outcomes {
        let case = run.cases.iter().find(|c| c.id == o.id).unwrap();
        let text = serde_json::to_string(o).unwrap();
        assert_no_secret(&text, &case.secrets, &format!("the outcome of {}", o.id));
    }
    assert_no_secret(
        &run.json(),
        &[OWNER_PRIVATE.to_owned(), RO_PRIVATE.to_owned()],
        "the serialised run report",
    );
}

/// A secret echoed JSON-escaped (`https:\/\/…`) is still the secret, in clear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_echo_escaping_slashes_is_still_a_leak() {
    let srv = RawServer::start(echo_escaping_slashes()).await;
    let cases = url_secret_cases();
    let (result, _) = run_timed(
        &target_at(&srv.url()),
        &cases,
        &opts(Duration::from_secs(2), Duration::from_secs(8)),
    )
    .await;
    let report = result.expect("judged");
    for o in &report.outcomes {
        let echoed = o.exchanges.iter().any(|e| {
            e.request_body
                .as_deref()
                .is_some_and(|b| b.contains("{{secret}}"))
                && e.response.as_ref().is_some_and(|r| r.status == 200)
        });
        assert!(echoed, "{}: sent no secret", o.id);
        assert!(
            o.findings.iter().any(|f| f.check == "secret_redaction"),
            "{}: the escaped echo went unnoticed: {:?}",
            o.id,
            o.findings
        );
    }
}

/// A finding quotes the start of a body: the quote must not end inside a secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_echo_findings_never_quote_part_of_a_secret() {
    let run = echo_run(
        false,
        AuthSpec::Digest {
            public: OWNER_PUBLIC.into(),
            private: OWNER_PRIVATE.into(),
        },
    )
    .await;
    let mut secrets = run.case_secrets();
    secrets.extend(run.target.secrets());
    let cut = cut_secrets(&findings(&run.report).join("\n"), &secrets);
    assert!(
        cut.is_empty(),
        "findings show the start of secrets: {cut:?}"
    );
}

/// The digest username comes back in the echoed headers; findings quote the body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_echo_target_report_shows_no_credential() {
    let run = echo_run(
        false,
        AuthSpec::Digest {
            public: OWNER_PUBLIC.into(),
            private: OWNER_PRIVATE.into(),
        },
    )
    .await;
    assert_no_secret(
        &run.json(),
        &run.target.secrets(),
        "the serialised run report",
    );
}

/// Secret values sent by cases that do not declare them are neither scrubbed from the record
/// nor looked for in the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_echo_target_report_shows_no_case_secret() {
    let run = echo_run(
        false,
        AuthSpec::Digest {
            public: OWNER_PUBLIC.into(),
            private: OWNER_PRIVATE.into(),
        },
    )
    .await;
    assert_no_secret(
        &run.json(),
        &run.case_secrets(),
        "the serialised run report",
    );
}

/// A bearer token is sent in clear: an echo target hands it back in its body and headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_echo_target_never_gets_the_bearer_token_into_the_report() {
    let run = echo_run(
        true,
        AuthSpec::Bearer {
            token: BEARER.into(),
        },
    )
    .await;
    assert_no_secret(
        &run.json(),
        &[BEARER.to_owned()],
        "the serialised run report",
    );
}

/// Case secrets echoed in response headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_echo_in_headers_never_gets_a_secret_into_the_report() {
    let run = echo_run(
        true,
        AuthSpec::Digest {
            public: OWNER_PUBLIC.into(),
            private: OWNER_PRIVATE.into(),
        },
    )
    .await;
    for o in &run.report.outcomes {
        let case = run.cases.iter().find(|c| c.id == o.id).unwrap();
        let text = serde_json::to_string(o).unwrap();
        assert_no_secret(&text, &case.secrets, &format!("the outcome of {}", o.id));
    }
}
