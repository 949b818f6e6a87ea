//! Suppressions in the process (`lockdep.toml`, or the file `LOCKDEP_SUPPRESSIONS` names): a
//! suppressed violation is not printed, not returned by `violations()`, does not fail the
//! process, and is counted for its entry at exit; unused entries are listed; a bad file is
//! said with its line. Each case re-runs this test binary as a child that provokes violations
//! (the `child_*` tests do nothing unless `TEST_LOCKDEP_TEST_CHILD` is set).
#![cfg(feature = "enabled")]

use std::path::PathBuf;
use std::process::Output;

use lockdep::{LockClass, Mutex};

mod common;

const CHILD: &str = "TEST_LOCKDEP_TEST_CHILD";

static A: LockClass = LockClass::new("supp-A");
static B: LockClass = LockClass::new("supp-B");

/// An ABBA of two named classes, and one of two creation-site classes of this file: the
/// first is suppressed by the file the parent wrote, the second is not.
#[test]
fn child_two_abbas() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    lockdep::set_mode(lockdep::Mode::Warn);
    let (a, b) = (Mutex::with_class((), &A), Mutex::with_class((), &B));
    drop((a.lock(), b.lock()));
    drop((b.lock(), a.lock()));
    let (c, d) = (Mutex::new(1_u8), Mutex::new(2_u16));
    drop((c.lock(), d.lock()));
    drop((d.lock(), c.lock()));
    let left: Vec<Vec<&str>> = lockdep::violations().iter().map(|v| v.classes()).collect();
    // `SUPP_EXPECT` says how many violations the child should see.
    let expected: usize = std::env::var("SUPP_EXPECT").unwrap().parse().unwrap();
    assert_eq!(left.len(), expected, "{left:?}");
    // The named pair is the one the parents' files suppress.
    if expected < 2 {
        assert!(
            !left.iter().flatten().any(|c| c.starts_with("supp-")),
            "{left:?}"
        );
    }
}

/// A suppression file for one case.
fn file(test: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("lockdep-{test}-{}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `child_two_abbas` with the suppression file `path`, expecting `expect` violations
/// left in the child; the child's exit status is lockdep's default (66 with violations left).
fn run(path: &std::path::Path, expect: usize) -> Output {
    common::child("child_two_abbas")
        .env(CHILD, "1")
        .env("LOCKDEP_SUPPRESSIONS", path)
        .env("SUPP_EXPECT", expect.to_string())
        .env_remove("LOCKDEP_EXIT_CODE")
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_suppressed_violation_is_not_printed_not_returned_and_does_not_fail_the_process() {
    let path = file(
        "supp-both",
        "[[suppress]]\n\
         reason = \"the named pair, known\"\n\
         classes = [\"supp-?\", \"supp-B\"]\n\
         \n\
         [[suppress]]\n\
         reason = \"this file's own locks\"\n\
         classes = [\"*tests/suppressions.rs:*\"]\n\
         \n\
         [[suppress]]\n\
         reason = \"stale\"\n\
         classes = [\"gone\"]\n",
    );
    let out = run(&path, 0);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("WARNING"), "{err}");
    let summary = format!(
        "lockdep: 2 report(s) suppressed by {p}:\n\
         lockdep:   line 1: 1 report(s): the named pair, known\n\
         lockdep:   line 5: 1 report(s): this file's own locks\n\
         lockdep: 1 unused suppression(s) in {p} (no report matched them: remove them once \
         they are stale):\n\
         lockdep:   line 9: stale (classes \"gone\")\n",
        p = path.display()
    );
    assert!(err.contains(&summary), "{err}");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn a_report_is_suppressed_only_when_every_pattern_matches_one_of_its_classes() {
    let path = file(
        "supp-one",
        "[[suppress]]\nreason = \"known\"\nclasses = [\"supp-A\", \"supp-B\"]\n\
         [[suppress]]\nreason = \"half\"\nclasses = [\"*tests/suppressions.rs:*\", \"supp-A\"]\n",
    );
    let out = run(&path, 1);
    let err = stderr(&out);
    // The creation-site ABBA is printed when found, and at exit, and fails the process.
    assert_eq!(out.status.code(), Some(66), "{err}");
    assert!(err.contains("WARNING: possible circular locking dependency detected"));
    assert!(err.contains("<u8>") && err.contains("<u16>"), "{err}");
    assert!(!err.contains("(supp-A)"), "{err}");
    assert!(err.contains("lockdep: 1 report(s) suppressed by "), "{err}");
    assert!(err.contains("  line 4: half (classes "), "{err}");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn a_bad_file_is_said_with_its_line_and_suppresses_nothing() {
    let path = file(
        "supp-bad",
        "[[suppress]]\nreason = \"x\"\nclases = [\"supp-A\"]\n",
    );
    let out = run(&path, 2);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(66), "{err}");
    let said = format!(
        "lockdep: {}:3: unknown key `clases` in a [[suppress]] entry (its keys are `reason` \
         and `classes`): no report is suppressed\n",
        path.display()
    );
    assert_eq!(err.matches(&said).count(), 1, "{err}");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn an_empty_variable_means_no_suppression_file() {
    let out = common::child("child_two_abbas")
        .env(CHILD, "1")
        .env("LOCKDEP_SUPPRESSIONS", "")
        .env("SUPP_EXPECT", "2")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        !err.contains("suppressed by") && !err.contains("unused suppression"),
        "{err}"
    );
}
