//! `cargo lockdep test` and `cargo lockdep nextest` on a real test suite
//! (`tests/fixtures/abba-suite`, its own workspace, depending on lockdep by path), whose
//! possible deadlocks (a wait/notify deadlock among them) only a merge of its test processes
//! shows.
//!
//! The tests build the suite into one target directory, `<target>/lockdep-fixtures`, kept
//! between runs: only the first run of a machine compiles lockdep and its dependencies.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/abba-suite")
}

/// `cargo-lockdep lockdep ARGS`, run in the suite as cargo would run it.
fn cargo_lockdep_in_suite(args: &[&str]) -> common::Output {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("lockdep-fixtures");
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-lockdep"));
    command
        .arg("lockdep")
        .args(args)
        .current_dir(suite())
        .env("CARGO_TARGET_DIR", &target);
    // What this test process was given for itself is not the suite's.
    for var in [
        "LOCKDEP_REPORT_DIR",
        "LOCKDEP_MODE",
        "RUSTFLAGS",
        "NEXTEST_TEST_NAME",
    ] {
        command.env_remove(var);
    }
    let out = command.output().unwrap();
    common::Output {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

#[test]
fn cargo_lockdep_test_finds_the_abba_across_two_test_binaries() {
    let out = cargo_lockdep_in_suite(&["test", "--test", "a", "--test", "b"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    // Each binary passed on its own: only the merge sees the cycle.
    assert!(out.stdout.contains("test a_takes_index_then_log ... ok"));
    assert!(out.stdout.contains("test b_takes_log_then_index ... ok"));
    assert!(out
        .stdout
        .contains("WARNING: possible circular locking dependency detected"));
    assert!(out
        .stdout
        .contains("recorded by test a_takes_index_then_log (test binary a: a-"));
    assert!(out
        .stdout
        .contains("recorded by test b_takes_log_then_index (test binary b: b-"));
    assert!(
        out.stdout.contains("merged 2 report file(s)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("1 violation(s): 1 circular dependency"));
    // The optimisation settings are taken without a word.
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    assert!(out.stderr.contains("report files go to"));
    let dir = out
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("cargo-lockdep: report files go to "))
        .unwrap();
    assert!(dir.contains("lockdep-fixtures/lockdep/"), "{dir}");
}

#[test]
fn cargo_lockdep_test_finds_a_wait_in_one_binary_and_its_notifier_in_another() {
    let json = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wait-notify-merged.json");
    let json_arg = json.to_str().unwrap();
    let out = cargo_lockdep_in_suite(&[
        "test", "--json", json_arg, "--", "--test", "wait", "--test", "notify",
    ]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out
        .stdout
        .contains("test waits_for_the_flush_holding_the_journal ... ok"));
    assert!(out
        .stdout
        .contains("test flusher_takes_the_journal_on_its_way_to_the_notify ... ok"));
    // The journal's wait and its flusher, once; the queue's producer and consumer, never.
    assert!(
        out.stdout.contains(
            "1 violation(s): 0 circular dependency, 0 mempool livelock, 1 wait deadlock found \
             across processes, 0 recorded in-process"
        ),
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .contains("WARNING: possible wait/notify deadlock detected"));
    assert!(
        out.stdout.contains("waited for at tests/wait.rs:"),
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .contains("acquired on the way to notifying it at tests/notify.rs:"));
    assert!(out.stdout.contains("wait(src/lib.rs:"), "{}", out.stdout);
    assert!(out.stdout.contains("lock(journal)"));

    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let violations = doc["violations"].as_array().unwrap();
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0]["kind"], "wait_deadlock");
    let classes: Vec<(&str, &str)> = violations[0]["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["kind"].as_str().unwrap(), c["name"].as_str().unwrap()))
        .collect();
    assert!(classes.contains(&("lock", "journal")), "{classes:?}");
    assert!(
        classes
            .iter()
            .any(|&(kind, name)| kind == "event" && name.starts_with("src/lib.rs:")),
        "{classes:?}"
    );
    // The queue's condition variables are events of the graph too, on no cycle.
    let events = common::classes_of_kind(&doc, "event");
    assert_eq!(events, 3);
}

#[test]
fn cargo_lockdep_nextest_finds_the_abba_between_two_tests_of_one_binary() {
    let installed = Command::new("cargo")
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        eprintln!("SKIPPED: cargo nextest is not installed (cargo install cargo-nextest)");
        return;
    }
    let out = cargo_lockdep_in_suite(&["nextest", "-E", "binary(scheduler)"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("recorded by test enqueue_takes_queue_then_worker"),
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .contains("recorded by test steal_takes_worker_then_queue"));
    assert!(
        out.stdout.contains("merged 2 report file(s)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("1 violation(s): 1 circular dependency"));
}
