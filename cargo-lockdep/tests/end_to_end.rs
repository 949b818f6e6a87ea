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

use common::{cargo_lockdep_in_suite, cargo_lockdep_in_suite_with};

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
    assert!(
        out.stdout
            .contains("recorded by test a_takes_index_then_log (test binary a: a-"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
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
        "test", "--test", "wait", "--json", json_arg, "--test", "notify",
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

/// The directory `cargo lockdep test` said it wrote the report files into.
fn report_dir(out: &common::Output) -> PathBuf {
    PathBuf::from(
        out.stderr
            .lines()
            .find_map(|l| l.strip_prefix("cargo-lockdep: report files go to "))
            .unwrap(),
    )
}

/// The reports with what differs between two runs of the same tests (process ids) masked.
fn without_pids(stdout: &str) -> String {
    let mut out = String::new();
    let mut rest = stdout;
    while let Some(i) = rest.find("pid ") {
        out.push_str(&rest[..i + 4]);
        rest = rest[i + 4..].trim_start_matches(|c: char| c.is_ascii_digit());
        out.push('N');
    }
    out.push_str(rest);
    out
}

#[test]
fn traces_resolved_by_the_merge_read_as_those_the_processes_resolve() {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let (merge_json, process_json) = (
        tmp.join("symbols-merge.json"),
        tmp.join("symbols-process.json"),
    );
    let args = |json: &Path| -> Vec<String> {
        let json = json.to_str().unwrap();
        [
            "test", "--json", json, "--test", "a", "--test", "b", "--test", "cache",
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let (merge_args, process_args) = (args(&merge_json), args(&process_json));
    let merge = cargo_lockdep_in_suite(&merge_args.iter().map(String::as_str).collect::<Vec<_>>());
    let process = cargo_lockdep_in_suite_with(
        &process_args.iter().map(String::as_str).collect::<Vec<_>>(),
        &[("LOCKDEP_REPORT_SYMBOLS", "process")],
    );
    assert_eq!(merge.code, 1, "{}\n{}", merge.stdout, merge.stderr);
    assert_eq!(process.code, 1, "{}\n{}", process.stdout, process.stderr);
    // The processes of `cargo lockdep test` leave their traces to the merge...
    let file = |out: &common::Output| {
        let dir = report_dir(out);
        let path = std::fs::read_dir(&dir)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        std::fs::read_to_string(path).unwrap()
    };
    assert!(file(&merge).contains("\"addresses\":["));
    assert!(!file(&merge).contains("\"backtrace\":[{"));
    assert!(file(&process).contains("\"backtrace\":[{"));
    assert!(file(&process).contains("\"image\":null"));
    // ...which resolves them to the same frames, so the same report.
    let reports = |out: &common::Output| {
        let text = without_pids(&out.stdout);
        text[text.find("WARNING").unwrap()..].to_owned()
    };
    assert_eq!(reports(&merge), reports(&process));
    assert!(
        reports(&merge).contains("a::a_takes_index_then_log"),
        "the frames name the test's function:\n{}",
        merge.stdout
    );
    // An allocation's site is found in its trace by the process. The merge resolves a trace
    // only for a report that shows it (tests/same_report.rs has an allocation in a report),
    // and copies it as addresses in the file's image otherwise.
    let alloc_edge = |json: &Path| {
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
        let name = |id: &serde_json::Value| {
            doc["graph"]["classes"][id.as_u64().unwrap() as usize]["name"].clone()
        };
        let edge = doc["graph"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| name(&e["from"]) == "cache" && name(&e["to"]) == "ALLOC")
            .cloned()
            .unwrap_or_else(|| panic!("no (cache) -> ALLOC in {doc}"));
        let image = doc["files"][edge["processes"][0].as_u64().unwrap() as usize]["image"].clone();
        (edge, image)
    };
    let (edge, image) = alloc_edge(&process_json);
    assert_eq!(edge["site"]["file"], "tests/cache.rs", "{edge}");
    assert!(edge["backtrace"][0]["function"].is_string(), "{edge}");
    assert!(image.is_null());
    let (edge, image) = alloc_edge(&merge_json);
    assert!(
        edge["site"].is_null() && edge["backtrace"].is_null(),
        "{edge}"
    );
    assert!(!edge["addresses"].as_array().unwrap().is_empty(), "{edge}");
    assert!(
        image["path"].as_str().unwrap().contains("cache-"),
        "{image}"
    );
}

#[test]
fn a_rebuilt_binary_leaves_its_traces_unresolved_and_says_so() {
    let out = cargo_lockdep_in_suite(&["test", "--test", "a", "--test", "b"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    // The files as a later build of the binaries would find them: another size.
    let copy = common::fresh_dir("rebuilt-binary-reports");
    for entry in std::fs::read_dir(report_dir(&out)).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let changed = text.replacen("\"size\":", "\"size\":1", 1);
        assert_ne!(changed, text);
        std::fs::write(copy.join(path.file_name().unwrap()), changed).unwrap();
    }
    let check = common::cargo_lockdep(["check", copy.to_str().unwrap()]);
    // The cycle is found all the same, from the classes and sites.
    assert_eq!(check.code, 1, "{}\n{}", check.stdout, check.stderr);
    assert!(check
        .stdout
        .contains("WARNING: possible circular locking dependency detected"));
    assert!(check.stdout.contains("at tests/a.rs:"), "{}", check.stdout);
    assert!(
        check.stdout.contains("(stack trace not resolved: ")
            && check.stdout.contains("was rebuilt since the tests ran"),
        "{}",
        check.stdout
    );
    assert!(
        check.stderr.contains("the stack traces of ") && check.stderr.contains("are not resolved"),
        "{}",
        check.stderr
    );
}

#[test]
fn a_real_deadlock_under_cargo_lockdep_test_is_a_failed_run_with_the_hang_reported() {
    let started = std::time::Instant::now();
    let out = cargo_lockdep_in_suite_with(
        &["test", "--test", "hang"],
        &[("ABBA_SUITE_HANG", "1"), ("LOCKDEP_WATCHDOG", "2")],
    );
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(240),
        "{:?}",
        started.elapsed()
    );
    assert!(out.stderr.contains("the test run failed"), "{}", out.stderr);
    // The process's report file has the hang, which the merge reports.
    assert!(
        out.stdout
            .contains("BUG: hang: a wait lasted longer than the watchdog allows"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("The waits form a cycle, a deadlock:"));
}
