//! Known failures by signature: a baseline written under one fault accepts that fault's
//! findings and nothing else, reads back with a kept regression in `regressions/`, and
//! `--update-baseline` prunes what passes.

use std::path::Path;

use crate::cli::{conformance_in, scratch, Ran};

const FIRST: &str = "create-returns-201";
const SECOND: &str = "error-reason-missing";
const REGRESSION: &str = "regression-failed-update-partially-applied";

fn run(dir: &Path, faults: &[&str], extra: &[&str]) -> Ran {
    let mut args = vec![
        "run",
        "--api",
        "cloud-manager",
        "--explore-steps",
        "0",
        "--report-dir",
        "r",
    ];
    for f in faults {
        args.extend(["--fault", f]);
    }
    args.extend_from_slice(extra);
    conformance_in(dir, &args, &[])
}

/// The lines of a baseline file that are not comments.
fn entries(dir: &Path, name: &str) -> Vec<String> {
    std::fs::read_to_string(dir.join(name))
        .expect("the baseline is written")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_baseline_accepts_its_findings_and_names_new_ones() {
    let dir = scratch("baseline-signatures");
    // A kept reproduction, as in the project's own directory.
    let kept = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    std::fs::create_dir_all(dir.join("regressions")).unwrap();
    for entry in std::fs::read_dir(&kept).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(
            &path,
            dir.join("regressions").join(path.file_name().unwrap()),
        )
        .unwrap();
    }

    let ran = run(&dir, &[FIRST], &["--write-baseline", "kf.txt"]);
    assert_eq!(ran.code, 1, "{ran:?}");
    let first = entries(&dir, "kf.txt");
    assert!(first.iter().any(|l| l.contains(REGRESSION)), "{first:?}");
    assert!(
        first.iter().all(|l| l.split_whitespace().count() == 2),
        "id and signature: {first:?}"
    );
    assert!(
        !first.iter().any(|l| l.contains("/api/public")),
        "no paths or ids in signatures: {first:?}"
    );

    // Read back on the same target, the kept regression included: exit 0.
    let ran = run(&dir, &[FIRST], &["--known-failures", "kf.txt"]);
    assert_eq!(ran.code, 0, "{ran:?}");

    // A second bug on top: the listed cases now fail for a new reason too, which is not known.
    let ran = run(&dir, &[FIRST, SECOND], &["--known-failures", "kf.txt"]);
    assert_eq!(ran.code, 1, "{ran:?}");
    assert!(
        ran.stderr.contains("failed with a new finding"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("error_body:"), "{}", ran.stderr);

    // Written under both, then updated with the second one fixed: the file shrinks, exit 0.
    let ran = run(&dir, &[FIRST, SECOND], &["--write-baseline", "both.txt"]);
    assert_eq!(ran.code, 1, "{ran:?}");
    let both = entries(&dir, "both.txt");
    let ran = run(&dir, &[FIRST], &["--update-baseline", "both.txt"]);
    assert_eq!(ran.code, 0, "{ran:?}");
    let updated = entries(&dir, "both.txt");
    assert!(
        !updated.is_empty() && updated.len() < both.len(),
        "{} -> {}",
        both.len(),
        updated.len()
    );
    assert!(
        !updated.iter().any(|l| l.contains("error_body:")),
        "{updated:?}"
    );
    // Everything fixed: the file keeps no entry, and nothing was added.
    let ran = run(&dir, &[], &["--update-baseline", "both.txt"]);
    assert_eq!(ran.code, 0, "{ran:?}");
    assert!(entries(&dir, "both.txt").is_empty());
}

#[test]
fn an_older_baseline_of_bare_ids_still_loads_and_updates_to_signatures() {
    let dir = scratch("baseline-old");
    let ran = run(&dir, &[FIRST], &["--write-baseline", "kf.txt"]);
    assert_eq!(ran.code, 1, "{ran:?}");
    let listed = entries(&dir, "kf.txt");
    let mut ids: Vec<&str> = listed
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    ids.dedup();
    // An older file (ids with free-text reasons) still loads: any finding, said once.
    let old: String = ids
        .iter()
        .map(|id| format!("{id}  tracked in TICKET-1\n"))
        .collect();
    std::fs::write(dir.join("old.txt"), old).unwrap();
    let ran = run(&dir, &[FIRST], &["--known-failures", "old.txt"]);
    assert_eq!(ran.code, 0, "{ran:?}");
    let hint = "--update-baseline old.txt";
    assert_eq!(ran.stderr.matches(hint).count(), 1, "{ran:?}");
    // --update-baseline turns them into the signatures they fail with now.
    let ran = run(&dir, &[FIRST], &["--update-baseline", "old.txt"]);
    assert_eq!(ran.code, 0, "{ran:?}");
    assert_eq!(entries(&dir, "old.txt"), listed);
}
