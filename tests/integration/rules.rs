//! The contract's rules (`spec/rules.yaml`) and the generated cases trace to each other: every
//! rule has a case, every case exercises a rule.

use integrations_conformance::rules::Rules;
use integrations_conformance::{case, model};

fn case_ids() -> Vec<String> {
    let model = model::bundled().unwrap();
    case::generate(&model).into_iter().map(|c| c.id).collect()
}

#[test]
fn every_rule_has_a_case() {
    let rules = Rules::bundled().unwrap();
    let ids = case_ids();
    let missing: Vec<String> = rules
        .unexercised(ids.iter().map(String::as_str))
        .iter()
        .map(|r| format!("{} ({})", r.id, r.text))
        .collect();
    assert!(
        missing.is_empty(),
        "{} rules have no case:\n  {}",
        missing.len(),
        missing.join("\n  ")
    );
}

#[test]
fn every_case_exercises_a_rule() {
    let rules = Rules::bundled().unwrap();
    let orphans: Vec<String> = case_ids()
        .into_iter()
        .filter(|id| rules.of_case(id).is_empty())
        .collect();
    assert!(
        orphans.is_empty(),
        "{} cases exercise no rule:\n  {}",
        orphans.len(),
        orphans.join("\n  ")
    );
}

/// The control: a rule that no generated case matches is found.
#[test]
fn a_rule_without_a_case_is_found() {
    let mut text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/rules.yaml"),
    )
    .unwrap();
    text.push_str(
        "  - id: 9.fixture-without-case\n    section: \"9\"\n    level: E\n    text: \"no case\"\n    cases: ['^no-such-case$']\n",
    );
    let rules = Rules::parse(&text).unwrap();
    let ids = case_ids();
    let missing: Vec<&str> = rules
        .unexercised(ids.iter().map(String::as_str))
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert!(missing.contains(&"9.fixture-without-case"), "{missing:?}");
}

/// A run against a server that leaks a secret on get: the redaction rule it breaks is failed in
/// every report and in the console line; rules of unselected categories are "not run".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_show_the_rule_a_fault_breaks() {
    use integrations_conformance::report::Document;
    use integrations_conformance::rules::RuleStatus;
    use integrations_conformance::server::{self, Fault, ServerConfig};

    use crate::cli::{conformance_async, read_json, scratch, target_flags};

    let srv = server::spawn(ServerConfig {
        faults: vec![Fault::SecretInClearOnGet],
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = scratch("rules-failing");
    let mut args = ["run", "--category", "redaction", "--report-dir"]
        .map(String::from)
        .to_vec();
    args.push(dir.to_str().unwrap().to_owned());
    args.extend(target_flags(&srv));
    let ran = conformance_async(args, Vec::new()).await;
    assert_eq!(ran.code, 1, "{ran:?}");
    let doc: Document = serde_json::from_value(read_json(&dir.join("report.json"))).unwrap();

    let rule = |id: &str| doc.rules.iter().find(|r| r.id == id).unwrap();
    let mask = rule("4.secret-mask");
    assert_eq!(mask.status, RuleStatus::Failed, "{mask:?}");
    assert!(mask.failed > 0 && !mask.failed_cases.is_empty());
    assert_eq!(rule("5.group-not-found").status, RuleStatus::NotRun);
    assert_eq!(doc.summary.rules.total, doc.rules.len());
    assert!(doc.summary.rules.failed >= 1);
    for case in doc
        .cases
        .iter()
        .filter(|c| c.id.ends_with("-masked-in-get"))
    {
        assert!(case.rules.iter().any(|r| r == "4.secret-mask"), "{case:?}");
    }

    let line = doc.summary.rules.line();
    assert!(
        ran.stdout.contains(&line),
        "the console shows {line:?}:\n{}",
        ran.stdout
    );
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        md.contains("## Contract rules") && md.contains("| `4.secret-mask` | E | **failed** |")
    );
    assert!(
        html.contains("<h2>Contract rules</h2>")
            && html.contains("<tr class=\"fail\"><td><code>4.secret-mask</code>")
    );
    let xml = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(xml.contains("rules_failed"), "{xml}");
}

/// `conformance rules` lists every rule with the selected cases that exercise it, and `cases
/// --format json` names each case's rules.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rules_command_lists_each_rule_with_its_cases() {
    use crate::cli::conformance_async;

    let ran = conformance_async(
        ["rules", "--format", "json"].map(String::from).to_vec(),
        Vec::new(),
    )
    .await;
    assert_eq!(ran.code, 0, "{ran:?}");
    let list: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    let list = list.as_array().unwrap();
    let rules = Rules::bundled().unwrap();
    assert_eq!(list.len(), rules.rules.len());
    let masked = list
        .iter()
        .find(|r| r["id"] == "4.secret-mask")
        .expect("4.secret-mask listed");
    assert!(masked["cases"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c.as_str().unwrap().ends_with("/slack-masked-in-get")));

    let ran = conformance_async(
        ["rules", "--api", "cloud-manager"]
            .map(String::from)
            .to_vec(),
        Vec::new(),
    )
    .await;
    assert_eq!(ran.code, 0, "{ran:?}");
    let v2_only = ran
        .stdout
        .lines()
        .find(|l| l.starts_with("2.v2-id-kept "))
        .unwrap();
    assert!(v2_only.contains("    0 cases"), "{v2_only}");

    let ran = conformance_async(
        [
            "cases",
            "--format",
            "json",
            "--filter",
            "slack-masked-in-get",
        ]
        .map(String::from)
        .to_vec(),
        Vec::new(),
    )
    .await;
    let cases: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    let cases = cases.as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases
        .iter()
        .filter(|c| c["id"].as_str().unwrap().ends_with("-masked-in-get"))
    {
        let named: Vec<&str> = case["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert!(named.contains(&"4.secret-mask"), "{case}");
    }
}

/// Coverage never overstates: on a digest-only run the OAuth rules are partly exercised or
/// skipped, never passed, and the reason names the option that would run them; with an OAuth
/// client given beside the digest keys, the same rules are exercised whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_rules_pass_only_when_an_oauth_client_ran_them() {
    use integrations_conformance::report::Document;
    use integrations_conformance::rules::RuleStatus;
    use integrations_conformance::server::{self, ServerConfig};

    use crate::cli::{conformance_async, read_json, scratch, target_flags};

    let srv = server::spawn(ServerConfig::default()).await.unwrap();
    let run = |name: &'static str, extra: Vec<String>| {
        let dir = scratch(name);
        let mut args = ["run", "--category", "auth", "--report-dir"]
            .map(String::from)
            .to_vec();
        args.push(dir.to_str().unwrap().to_owned());
        args.extend(target_flags(&srv));
        args.extend(extra);
        async move {
            let ran = conformance_async(args, Vec::new()).await;
            assert_eq!(ran.code, 0, "{ran:?}");
            let doc: Document =
                serde_json::from_value(read_json(&dir.join("report.json"))).unwrap();
            (doc, ran.stdout)
        }
    };
    let (digest_only, console) = run("rules-digest-only", Vec::new()).await;
    let rule = |doc: &Document, id: &str| doc.rules.iter().find(|r| r.id == id).unwrap().clone();
    for id in ["7.oauth-token", "10.both-credential-kinds"] {
        let r = rule(&digest_only, id);
        assert!(
            matches!(r.status, RuleStatus::Partly | RuleStatus::Skipped),
            "{r:?}"
        );
        assert!(
            r.reason
                .as_deref()
                .is_some_and(|m| m.contains("--oauth-client")),
            "{r:?}"
        );
    }
    assert_eq!(
        rule(&digest_only, "7.oauth-token").status,
        RuleStatus::Partly
    );
    assert!(digest_only.summary.rules.partly >= 1);
    assert!(console.contains("partly exercised"), "{console}");

    let c = &srv.credentials.oauth;
    let client = format!("{}:{}", c.client_id, c.client_secret);
    let expired = srv.state.auth().issue_expired_token(&c.client_id);
    let (both, _) = run(
        "rules-both-kinds",
        vec![
            "--oauth-client".into(),
            client,
            "--expired-token".into(),
            expired,
        ],
    )
    .await;
    for id in ["7.oauth-token", "10.both-credential-kinds", "5.no-access"] {
        let r = rule(&both, id);
        assert_eq!(r.status, RuleStatus::Passed, "{r:?}");
        assert_eq!(r.skipped, 0, "{r:?}");
    }
}
