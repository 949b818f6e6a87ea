//! `cargo lockdep check` on report files written by hand: cycles across processes by the
//! in-process rules, recorded violations, bad input and the exit statuses.

mod common;

use common::{cargo_lockdep, fresh_dir, Report};

#[test]
fn a_cross_process_abba_is_reported_naming_both_tests() {
    let dir = fresh_dir("abba");
    Report::new("takes_index_then_log", 101)
        .edge("index", "log", "EN")
        .write(&dir);
    Report::new("takes_log_then_index", 102)
        .edge("log", "index", "EN")
        .write(&dir);
    let out = cargo_lockdep([std::ffi::OsStr::new("check"), dir.as_os_str()]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out
        .stdout
        .contains("WARNING: possible circular locking dependency detected"));
    assert!(out
        .stdout
        .contains("recorded by test takes_index_then_log (suite-0123456789abcdef, pid 101)"));
    assert!(out
        .stdout
        .contains("recorded by test takes_log_then_index (suite-0123456789abcdef, pid 102)"));
    assert!(out
        .stdout
        .contains("acquired at src/takes_log_then_index.rs:10:9 while holding (log) [EN]"));
    assert!(out.stdout.contains("1 violation(s): 1 circular dependency"));

    // Either process alone is clean.
    let alone = fresh_dir("abba-alone");
    Report::new("takes_index_then_log", 101)
        .edge("index", "log", "EN")
        .write(&alone);
    let out = cargo_lockdep([std::ffi::OsStr::new("check"), alone.as_os_str()]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains("no violation"));
}

#[test]
fn a_cycle_through_recursive_reads_is_not_a_strong_path_across_files() {
    // rlock_ABBA2 across two processes: RL(x); L(y) in one, L(y); RL(x) in the other. x is
    // entered by a recursive read and left while held shared: no deadlock.
    let dir = fresh_dir("recursive-read");
    Report::new("reader", 201).edge("x", "y", "SN").write(&dir);
    Report::new("writer", 202).edge("y", "x", "ER").write(&dir);
    let out = cargo_lockdep([std::ffi::OsStr::new("check"), dir.as_os_str()]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains("no violation"));

    // The same with x taken for writing in the second process is a deadlock.
    let dir = fresh_dir("recursive-read-control");
    Report::new("reader", 201).edge("x", "y", "SN").write(&dir);
    Report::new("writer", 202).edge("y", "x", "EN").write(&dir);
    let out = cargo_lockdep([std::ffi::OsStr::new("check"), dir.as_os_str()]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("circular locking dependency"));
    assert!(out.stdout.contains("lock(x)"));
}

#[test]
fn a_pool_and_alloc_cycle_across_three_processes_is_a_mempool_livelock() {
    let dir = fresh_dir("livelock");
    // Element held, then `b` taken; `b` held while allocating; reclaim waits for the pool.
    Report::new("holder", 301)
        .edge("pool:bio", "b", "EN")
        .write(&dir);
    Report::new("allocator", 302)
        .edge("b", "ALLOC", "EN")
        .write(&dir);
    Report::new("reclaim", 303)
        .edge("ALLOC", "pool:bio", "EN")
        .write(&dir);
    let json = dir.join("merged.json");
    let out = cargo_lockdep([
        std::ffi::OsStr::new("check"),
        dir.as_os_str(),
        "--json".as_ref(),
        json.as_os_str(),
    ]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out
        .stdout
        .contains("WARNING: possible mempool livelock detected"));
    assert!(out.stdout.contains("*** LIVELOCK ***"));
    for test in ["holder", "allocator", "reclaim"] {
        assert!(
            out.stdout.contains(&format!("recorded by test {test} ")),
            "{test}"
        );
    }
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let violations = doc["violations"].as_array().unwrap();
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0]["kind"], "mempool_livelock");
    assert_eq!(violations[0]["source"], "merge");
    assert_eq!(violations[0]["chain"].as_array().unwrap().len(), 3);

    // Without a pool on it, the same cycle is a plain circular dependency.
    let dir = fresh_dir("livelock-control");
    Report::new("holder", 301).edge("a", "b", "EN").write(&dir);
    Report::new("allocator", 302)
        .edge("b", "ALLOC", "EN")
        .write(&dir);
    Report::new("reclaim", 303)
        .edge("ALLOC", "a", "EN")
        .write(&dir);
    let out = cargo_lockdep([std::ffi::OsStr::new("check"), dir.as_os_str()]);
    assert_eq!(out.code, 1);
    assert!(out
        .stdout
        .contains("possible circular locking dependency detected"));
    assert!(!out.stdout.contains("livelock detected"));
}

#[test]
fn classes_already_cyclic_are_not_reported_again_and_a_new_class_is() {
    // As in-process: 1 → 2 → 3, then 3 → 1 closes one cycle; 1 → 3 among them is nothing new;
    // 4 joining them is.
    let dir = fresh_dir("become-cyclic");
    Report::new("t1", 1)
        .edge("c1", "c2", "EN")
        .edge("c2", "c3", "EN")
        .write(&dir);
    Report::new("t2", 2).edge("c3", "c1", "EN").write(&dir);
    Report::new("t3", 3)
        .edge("c1", "c3", "EN")
        .edge("c4", "c1", "EN")
        .write(&dir);
    Report::new("t4", 4).edge("c2", "c4", "EN").write(&dir);
    let out = cargo_lockdep([std::ffi::OsStr::new("check"), dir.as_os_str()]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("2 violation(s): 2 circular dependency"),
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .contains("Chain exists of:\n   c1 --> c2 --> c3 --> c1"));
    assert!(out
        .stdout
        .contains("Chain exists of:\n   c4 --> c1 --> c2 --> c4"));
}

#[test]
fn violations_recorded_in_process_are_kept_once() {
    let dir = fresh_dir("recorded");
    Report::new("first", 401)
        .edge("x", "y", "EN")
        .violation("recursive_lock", &["x"])
        .write(&dir);
    Report::new("second", 402)
        .violation("recursive_lock", &["x"])
        .edge("x", "z", "EN")
        .write(&dir);
    let out = cargo_lockdep([std::ffi::OsStr::new("check"), dir.as_os_str()]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_eq!(
        out.stdout
            .matches("WARNING: recursive_lock in first")
            .count(),
        1
    );
    assert!(!out.stdout.contains("WARNING: recursive_lock in second"));
    assert!(out.stdout.contains(
        "recorded in-process by test first (suite-0123456789abcdef, pid 401); test second"
    ));
    assert!(out.stdout.contains("1 violation(s)"));

    // A cycle a process reported itself and the merge finds again is reported once.
    let dir = fresh_dir("recorded-cycle");
    Report::new("both", 403)
        .edge("p", "q", "EN")
        .edge("q", "p", "EN")
        .violation("circular_dependency", &["q", "p"])
        .write(&dir);
    let out = cargo_lockdep([std::ffi::OsStr::new("check"), dir.as_os_str()]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("1 violation(s): 1 circular dependency"),
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .contains("(also recorded in-process by test both"));
}

#[test]
fn a_corrupt_file_is_named_and_skipped_and_the_rest_merged() {
    let dir = fresh_dir("corrupt");
    Report::new("takes_index_then_log", 501)
        .edge("index", "log", "EN")
        .write(&dir);
    Report::new("takes_log_then_index", 502)
        .edge("log", "index", "EN")
        .write(&dir);
    std::fs::write(dir.join("lockdep-503-1.json"), "{\"version\":1,\"binary\":").unwrap();
    std::fs::write(
        dir.join("lockdep-505-1.json"),
        "{\"version\":1,\"binary\":5}",
    )
    .unwrap();
    std::fs::write(
        dir.join("lockdep-504-1.json"),
        Report::new("future", 504)
            .json()
            .replace("\"version\":1", "\"version\":9"),
    )
    .unwrap();
    let out = cargo_lockdep([std::ffi::OsStr::new("check"), dir.as_os_str()]);
    // The violation wins over the bad input; both are told.
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("skipped")
            && out
                .stderr
                .contains("lockdep-503-1.json: truncated: the file ends before its JSON does")
            && out
                .stderr
                .contains("lockdep-505-1.json: not a lockdep report file"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("lockdep-504-1.json: report file version 9"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("circular locking dependency"));
    assert!(out.stdout.contains("3 bad file(s) skipped"));

    // Bad input and nothing else: 2.
    let dir = fresh_dir("corrupt-clean");
    Report::new("clean", 505)
        .edge("index", "log", "EN")
        .write(&dir);
    std::fs::write(dir.join("lockdep-506-1.json"), "not json").unwrap();
    let out = cargo_lockdep([std::ffi::OsStr::new("check"), dir.as_os_str()]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("lockdep-506-1.json"));
    assert!(out.stdout.contains("merged 1 report file(s)"));
}

#[test]
fn no_report_file_is_an_error() {
    let dir = fresh_dir("empty");
    let out = cargo_lockdep([std::ffi::OsStr::new("check"), dir.as_os_str()]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("no lockdep report file"),
        "{}",
        out.stderr
    );
    let out = cargo_lockdep(["check", "/nonexistent/lockdep-reports"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("/nonexistent/lockdep-reports"));
    let out = cargo_lockdep(["check"]);
    assert_eq!(out.code, 2);
}

#[test]
fn outputs_are_reproducible_and_self_contained() {
    let dir = fresh_dir("outputs");
    Report::new("takes_index_then_log", 601)
        .edge("index", "log", "EN")
        .write(&dir);
    Report::new("takes_log_then_index", 602)
        .edge("log", "index", "EN")
        .edge("log", "audit", "EN")
        .write(&dir);
    let out_dir = fresh_dir("outputs-out");
    let run = |n: u32| {
        let (json, dot, html) = (
            out_dir.join(format!("{n}.json")),
            out_dir.join(format!("{n}.dot")),
            out_dir.join(format!("{n}.html")),
        );
        let out = cargo_lockdep([
            "check".as_ref(),
            dir.as_os_str(),
            "--json".as_ref(),
            json.as_os_str(),
            "--dot".as_ref(),
            dot.as_os_str(),
            "--html".as_ref(),
            html.as_os_str(),
        ]);
        assert_eq!(out.code, 1);
        let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap();
        (read(&json), read(&dot), read(&html))
    };
    let (json, dot, html) = run(1);
    assert_eq!((json.clone(), dot.clone(), html.clone()), run(2));

    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["version"], 2);
    assert_eq!(doc["files"].as_array().unwrap().len(), 2);
    let edges = doc["graph"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 3);
    assert!(edges
        .iter()
        .all(|e| e["processes"].as_array().unwrap().len() == 1));

    assert!(dot.starts_with("digraph lockdep {"));
    assert_eq!(dot.matches(", color=red").count(), 2 + 2, "{dot}"); // two classes, two edges
    assert!(dot.contains("[label=\"audit\", shape=box];"));

    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(
        html.matches("<svg").count(),
        2,
        "the cycle and the overview"
    );
    assert!(html.contains("test takes_log_then_index"));
    for external in ["<script", "src=", "href=", "@import", "url(http"] {
        assert!(!html.contains(external), "{external}");
    }
}

#[test]
fn the_merge_order_is_the_paths_not_the_arguments() {
    // Which dependency closes the cycle depends on the order of insertion: sorted paths make
    // it the same whatever order the directories are named in.
    let (one, two) = (fresh_dir("order-1"), fresh_dir("order-2"));
    Report::new("takes_index_then_log", 701)
        .edge("index", "log", "EN")
        .write(&one);
    Report::new("takes_log_then_index", 702)
        .edge("log", "index", "EN")
        .write(&two);
    let forward = cargo_lockdep(["check".as_ref(), one.as_os_str(), two.as_os_str()]);
    let backward = cargo_lockdep(["check".as_ref(), two.as_os_str(), one.as_os_str()]);
    assert_eq!(forward.code, 1);
    assert_eq!(forward.stdout, backward.stdout);
    assert!(forward
        .stdout
        .contains("the new dependency (log) --> (index) closes the cycle"));
}

#[test]
fn classes_of_one_site_and_different_data_types_stay_apart() {
    // A helper's site makes the shard map and the placeholder: two classes of one name.
    let dir = fresh_dir("data-types");
    Report::new("shards_then_user", 401)
        .edge(
            "src/helper.rs:3:5|lockdep_core::shape::Mutex<std::collections::HashMap<u64, u64>>",
            "user",
            "EN",
        )
        .write(&dir);
    Report::new("user_then_placeholder", 402)
        .edge(
            "user",
            "src/helper.rs:3:5|lockdep_core::shape::Mutex<()>",
            "EN",
        )
        .write(&dir);
    let out = cargo_lockdep([std::ffi::OsStr::new("check"), dir.as_os_str()]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    // One data type is one class across processes: then it is a cycle, whose report tells
    // the two classes of the site apart by their type.
    Report::new("user_then_shards", 403)
        .edge(
            "user",
            "src/helper.rs:3:5|lockdep_core::shape::Mutex<std::collections::HashMap<u64, u64>>",
            "EN",
        )
        .write(&dir);
    let out = cargo_lockdep([std::ffi::OsStr::new("check"), dir.as_os_str()]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("(src/helper.rs:3:5 Mutex<HashMap<u64, u64>>)"),
        "{}",
        out.stdout
    );
}
