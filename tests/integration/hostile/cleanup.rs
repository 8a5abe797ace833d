//! Cleanup against failing deletes, deadlines and cancellation: the user's project is left as it was.

use super::*;

// 11. cleanup

/// One case per type (so a case's own cleanup is the last delete of its type), and the
/// pre-existing type's cases.
fn cleanup_cases() -> Vec<Case> {
    let mut cases = cases_named(&[
        "cloud-manager/cmCreateIntegration/slack-round-trip",
        "cloud-manager/cmUpdateIntegration/webhook-update-creates-when-unconfigured",
        "cloud-manager/cmUpdateIntegration/ops-genie-update-creates-when-unconfigured",
    ]);
    let touching_pre_existing: Vec<Case> = fixture::cases()
        .iter()
        .filter(|c| {
            c.family == "cloud-manager"
                && c.category == Category::State
                && c.touches.iter().any(|t| t == PRE_EXISTING_TYPE)
        })
        .cloned()
        .collect();
    assert!(touching_pre_existing.len() >= 3);
    cases.extend(touching_pre_existing);
    cases
}

#[track_caller]
fn pre_existing_untouched(report: &RunReport, cases: &[Case]) {
    assert_eq!(
        report.pre_existing.get("cloud-manager"),
        Some(&vec![PRE_EXISTING_TYPE.to_owned()])
    );
    for c in cases
        .iter()
        .filter(|c| c.touches.iter().any(|t| t == PRE_EXISTING_TYPE))
    {
        let o = report.outcomes.iter().find(|o| o.id == c.id).unwrap();
        assert!(
            matches!(&o.verdict, Verdict::Skipped(r) if r.contains("already exists on the target")),
            "{}: {:?}",
            o.id,
            o.verdict
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_failed_deletes_are_swept_and_the_users_integration_is_untouched() {
    let reference = Reference::start().await;
    let shown_before = reference.configure_pre_existing().await;
    let before = reference.snapshot();
    let dropped: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let d = dropped.clone();
    let proxy = Proxy::start(&reference.srv.base_url, move |method, path| {
        if method == "DELETE" && d.lock().unwrap().insert(path.to_owned()) {
            Hook::status(500)
        } else {
            Hook::Forward
        }
    })
    .await;
    let cases = cleanup_cases();
    let (result, _) = run_timed(
        &reference.target_via(&proxy.url),
        &cases,
        &opts(Duration::from_secs(2), Duration::from_secs(8)),
    )
    .await;
    let report = result.expect("judged");
    pre_existing_untouched(&report, &cases);

    // What the sweep must find: the types whose last delete in the cases was a dropped one.
    let mut expected_swept = BTreeSet::new();
    for ex in report
        .outcomes
        .iter()
        .flat_map(|o| &o.exchanges)
        .filter(|e| e.method == "DELETE")
    {
        let t = format!("cloud-manager {}", ex.url.rsplit('/').next().unwrap());
        match ex.response.as_ref().map(|r| r.status) {
            Some(500) => expected_swept.insert(t),
            _ => expected_swept.remove(&t),
        };
    }
    let dropped: Vec<(String, String)> = proxy
        .log()
        .into_iter()
        .filter(|s| s.intercepted)
        .map(|s| (s.method, s.path))
        .collect();
    let distinct: BTreeSet<&String> = dropped.iter().map(|(_, p)| p).collect();
    assert!(dropped.iter().all(|(m, _)| m == "DELETE"), "{dropped:?}");
    assert_eq!(
        distinct.len(),
        3,
        "one dropped delete per type: {dropped:?}"
    );
    assert_eq!(dropped.len(), 3, "one dropped delete per type: {dropped:?}");
    assert!(!expected_swept.is_empty(), "no case left anything behind");
    let swept: BTreeSet<String> = report.swept.iter().cloned().collect();
    assert_eq!(swept, expected_swept);
    assert!(
        report.not_cleaned_up.is_empty(),
        "{:?}",
        report.not_cleaned_up
    );
    assert!(report
        .outcomes
        .iter()
        .any(|o| !o.cleanup_failures.is_empty()));

    assert_eq!(reference.snapshot(), before, "the project changed");
    assert_eq!(reference.show_pre_existing().await, shown_before);
    let stored = reference.srv.state.integrations(&reference.cm_group());
    assert_eq!(stored[0].fields["serviceKey"], PRE_EXISTING_KEY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_deletes_that_always_fail_are_reported_not_cleaned_up() {
    let reference = Reference::start().await;
    let shown_before = reference.configure_pre_existing().await;
    let before = reference.snapshot();
    let proxy = Proxy::start(&reference.srv.base_url, |method, _| {
        if method == "DELETE" {
            Hook::status(500)
        } else {
            Hook::Forward
        }
    })
    .await;
    let cases = cleanup_cases();
    let (result, _) = run_timed(
        &reference.target_via(&proxy.url),
        &cases,
        &opts(Duration::from_secs(2), Duration::from_secs(8)),
    )
    .await;
    let report = result.expect("judged");
    pre_existing_untouched(&report, &cases);
    assert!(report.swept.is_empty(), "{:?}", report.swept);

    let left: BTreeSet<String> = reference
        .srv
        .state
        .integrations(&reference.cm_group())
        .into_iter()
        .map(|i| i.type_name)
        .filter(|t| t != PRE_EXISTING_TYPE)
        .collect();
    assert_eq!(
        left,
        ["OPS_GENIE", "SLACK", "WEBHOOK"].map(String::from).into(),
        "what the run left behind"
    );
    let reported: BTreeSet<String> = report
        .not_cleaned_up
        .iter()
        .map(|e| {
            let (what, why) = e.split_once(": ").expect("`family TYPE: why`");
            assert_eq!(why, "delete answered 500", "{e}");
            what.strip_prefix("cloud-manager ").expect(e).to_owned()
        })
        .collect();
    assert_eq!(reported, left);
    // The user's integration is as it was (the rest of the project is what the report names).
    assert_eq!(reference.show_pre_existing().await, shown_before);
    let pre = |s: &[(String, Vec<integrations_conformance::server::Integration>)]| {
        s.iter()
            .flat_map(|(_, i)| i.iter())
            .filter(|i| i.type_name == PRE_EXISTING_TYPE)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(pre(&reference.snapshot()), pre(&before));
}

/// The deadline passes while a case holds an integration it created: its cleanup, and the
/// final sweep, must still remove it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_deadline_mid_case_still_cleans_up() {
    let reference = Reference::start().await;
    let before = reference.snapshot();
    let proxy = Proxy::start(&reference.srv.base_url, |method, path| {
        if method == "GET" && path.ends_with("/integrations/SLACK") {
            Hook::Delay(Duration::from_millis(1500))
        } else {
            Hook::Forward
        }
    })
    .await;
    let cases =
        cases_named(&["cloud-manager/cmUpdateIntegration/slack-update-creates-when-unconfigured"]);
    let (result, elapsed) = run_timed(
        &reference.target_via(&proxy.url),
        &cases,
        &opts(Duration::from_secs(5), Duration::from_secs(1)),
    )
    .await;
    let report = result.expect("judged");
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    assert!(
        report.not_cleaned_up.is_empty(),
        "left behind: {:?}",
        report.not_cleaned_up
    );
    assert_eq!(reference.snapshot(), before, "the project changed");
}

// 12. interrupt (library; the CLI's SIGINT test is at the end)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_cancel_mid_run_leaves_the_project_as_it_was() {
    let reference = Reference::start().await;
    let shown_before = reference.configure_pre_existing().await;
    let before = reference.snapshot();
    // Slow every request a little so the run is well under way when it is cancelled.
    let proxy = Proxy::start(&reference.srv.base_url, |_, _| {
        Hook::Delay(Duration::from_millis(15))
    })
    .await;
    let cases: Vec<Case> = fixture::cases()
        .iter()
        .filter(|c| c.family == "cloud-manager" && c.category == Category::State)
        .cloned()
        .collect();
    let cancel = Arc::new(AtomicBool::new(false));
    let c = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        c.store(true, Ordering::SeqCst);
    });
    let (result, elapsed) = run_timed(
        &reference.target_via(&proxy.url),
        &cases,
        &RunOptions {
            cancel: Some(cancel),
            ..opts(Duration::from_secs(2), Duration::from_secs(20))
        },
    )
    .await;
    let report = result.expect("judged");
    assert!(report.interrupted);
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    let ran = report
        .outcomes
        .iter()
        .filter(|o| !matches!(o.verdict, Verdict::Skipped(_)))
        .count();
    let interrupted = report
        .outcomes
        .iter()
        .filter(|o| matches!(&o.verdict, Verdict::Skipped(r) if r.contains("interrupted")))
        .count();
    assert!(
        ran > 0 && interrupted > 0,
        "ran {ran}, interrupted {interrupted}"
    );
    assert!(
        report.not_cleaned_up.is_empty(),
        "{:?}",
        report.not_cleaned_up
    );
    assert_eq!(reference.snapshot(), before, "the project changed");
    assert_eq!(reference.show_pre_existing().await, shown_before);
}
