//! Every flag checked before the first request: a malformed project id, a target URL that holds
//! an API path, a report directory that cannot be written, credentials of the wrong shape. Each
//! is exit code 2 with one line for the user (no internal label), and the target sees no
//! connection at all.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::cli::{conformance_in, scratch};

/// A listener that only counts the connections it gets.
pub(crate) fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (url, count)
}

const PROJECT: &str = "0123456789abcdef01234567";

#[test]
fn every_flag_is_checked_before_the_first_request() {
    let dir = scratch("early-errors");
    std::fs::write(dir.join("a-file"), "not a directory").unwrap();
    let (url, count) = counting_listener();
    let api_path = format!("{url}/api/atlas/v1.0");
    let base = |target: &str, auth: &str, group: &str, reports: &str| -> Vec<String> {
        let mut v: Vec<String> = vec!["run".into(), "--target".into(), target.into()];
        v.extend([
            "--auth".into(),
            auth.into(),
            "--group-id".into(),
            group.into(),
        ]);
        v.extend(["--report-dir".into(), reports.into()]);
        v
    };
    let good_auth = "digest:public:private";
    let mistakes: [(Vec<String>, &[&str]); 6] = [
        (
            base(&url, good_auth, "not-a-project-id", "r"),
            &["--group-id", "24 lower-case hexadecimal"],
        ),
        (
            base(&url, good_auth, "0123456789ABCDEF01234567", "r"),
            &["--group-id", "not a project id"],
        ),
        (
            base(&api_path, good_auth, PROJECT, "r"),
            &["drop `/api/atlas/v1.0`", &url],
        ),
        (
            base(&url, good_auth, PROJECT, "a-file/reports"),
            &["--report-dir a-file/reports", "cannot be written"],
        ),
        (
            base(&url, "public:private", PROJECT, "r"),
            &["--auth", "digest:PUBLIC:PRIVATE"],
        ),
        (
            base(&url, "digest:only-one-part", PROJECT, "r"),
            &["--auth"],
        ),
    ];
    for (args, words) in &mistakes {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let ran = conformance_in(&dir, &args, &[]);
        assert_eq!(ran.code, 2, "{args:?}: {ran:?}");
        let line = ran.stderr.trim();
        assert_eq!(line.lines().count(), 1, "{args:?}: one line: {line}");
        for w in *words {
            assert!(line.contains(w), "{args:?}: {w:?} in {line}");
        }
        for label in [": target: ", ": auth: ", ": io: ", ": usage: "] {
            assert!(!line.contains(label), "an internal label: {line}");
        }
        assert!(!line.contains("private"), "no secret: {line}");
        assert_eq!(count.load(Ordering::SeqCst), 0, "{args:?} sent a request");
    }
}

#[test]
fn the_regressions_directory_holds_reproductions_and_nothing_else() {
    let dir = scratch("regressions-explicit");
    let kept = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("regressions/failed-update-partially-applied.json");
    std::fs::create_dir_all(dir.join("kept")).unwrap();
    std::fs::copy(&kept, dir.join("kept/one.json")).unwrap();
    // --regressions names the directory; its reproduction is a case.
    let ran = conformance_in(&dir, &["cases", "--regressions", "kept"], &[]);
    assert_eq!(ran.code, 0, "{ran:?}");
    assert!(ran.stdout.contains("regression-one"), "{}", ran.stderr);
    // The default: regressions/ in the working directory; none there, no regression case.
    let ran = conformance_in(&dir, &["cases"], &[]);
    assert_eq!(ran.code, 0, "{ran:?}");
    assert!(!ran.stdout.contains("regression-"));
    // A stray file, or a JSON file of another shape: an error that names it, before any run.
    std::fs::write(dir.join("kept/notes.txt"), "stray").unwrap();
    for args in [
        &["cases", "--regressions", "kept"][..],
        &["run", "--regressions", "kept"],
    ] {
        let ran = conformance_in(&dir, args, &[]);
        assert_eq!(ran.code, 2, "{ran:?}");
        assert!(ran.stderr.contains("notes.txt"), "{ran:?}");
        assert!(ran.stderr.contains("not a kept reproduction"), "{ran:?}");
    }
    std::fs::remove_file(dir.join("kept/notes.txt")).unwrap();
    std::fs::write(dir.join("kept/other.json"), "{\"results\": []}").unwrap();
    let ran = conformance_in(&dir, &["cases", "--regressions", "kept"], &[]);
    assert_eq!(ran.code, 2, "{ran:?}");
    assert!(ran.stderr.contains("other.json"), "{ran:?}");
    let ran = conformance_in(&dir, &["cases", "--regressions", "missing"], &[]);
    assert_eq!(ran.code, 2, "{ran:?}");
    assert!(ran.stderr.contains("missing"), "{ran:?}");
}
