//! Waits for events across processes (report files written by hand): a wait while holding a
//! lock in one process and a notifier that takes that lock on its way in another are one
//! wait/notify deadlock of the merged graph, reported as the checker reports it in-process;
//! a producer/consumer queue split over processes is not.

mod common;

use std::ffi::OsStr;
use std::path::Path;

use common::{cargo_lockdep, fresh_dir, Output, Report};

/// `check DIR --json DIR/merged.json`: what it printed, and the document.
fn check_with_json(dir: &Path) -> (Output, serde_json::Value) {
    let json = dir.join("merged.json");
    let out = cargo_lockdep([
        OsStr::new("check"),
        dir.as_os_str(),
        "--json".as_ref(),
        json.as_os_str(),
    ]);
    let doc = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    (out, doc)
}

/// The scenario table's lines, trimmed, in order.
fn scenario(stdout: &str) -> Vec<&str> {
    let start = stdout.find("CPU0").expect("a scenario table");
    let end = stdout[start..].find("*** DEADLOCK ***").unwrap() + start;
    stdout[start..end]
        .lines()
        .map(str::trim)
        .filter(|l| l.ends_with(';'))
        .collect()
}

#[test]
fn a_wait_and_its_notifier_in_two_processes_are_one_wait_deadlock() {
    // The waiter waits for `flushed` holding `log`; the notifier takes `log` on its way to
    // notifying `flushed`. Neither process alone has a cycle. Merged waiter first, the
    // notifier's dependency closes the cycle.
    let dir = fresh_dir("wait-deadlock");
    Report::new("waits_holding_log", 801)
        .edge("log", "event:flushed", "EN")
        .write(&dir);
    Report::new("flusher_takes_log", 802)
        .edge("event:flushed", "log", "EN")
        .write(&dir);
    let (out, doc) = check_with_json(&dir);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let text = &out.stdout;
    assert_eq!(
        text.matches("WARNING: possible wait/notify deadlock detected")
            .count(),
        1,
        "{text}"
    );
    assert!(!text.contains("circular locking dependency"), "{text}");
    assert!(text.contains("the new dependency (event:flushed) --> (log) closes the cycle"));
    assert!(text.contains("and a waiter for the event may hold that lock."));
    assert!(
        text.contains("waited for at src/waits_holding_log.rs:10:9 while holding (log) [EN]"),
        "{text}"
    );
    assert!(
        text.contains(
            "acquired on the way to notifying it at src/flusher_takes_log.rs:10:9, the event \
             (event:flushed) [EN]"
        ),
        "{text}"
    );
    assert_eq!(
        scenario(text),
        [
            "(on its way to notify(event:flushed));",
            "lock(log);",
            "wait(event:flushed);",
            "lock(log);",
            "notify(event:flushed) (never reached);",
        ],
        "{text}"
    );
    assert!(text.contains(
        " A thread must not wait for an event while holding a lock that the event's\n \
         notifier takes on its way to the notify: release the lock before waiting (a\n \
         condition variable releases only its own mutex), or notify without taking it.\n"
    ));
    assert!(
        text.contains(
            "1 violation(s): 0 circular dependency, 0 mempool livelock, 1 wait deadlock found \
             across processes, 0 recorded in-process"
        ),
        "{text}"
    );

    let violations = doc["violations"].as_array().unwrap();
    assert_eq!(violations.len(), 1);
    let v = &violations[0];
    assert_eq!(v["kind"], "wait_deadlock");
    assert_eq!(v["headline"], "possible wait/notify deadlock detected");
    assert_eq!(v["source"], "merge");
    assert_eq!(v["chain"].as_array().unwrap().len(), 2);
    let kinds: Vec<&str> = v["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["lock", "event"]);
    assert!(doc["graph"]["classes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "event:flushed" && c["kind"] == "event"));
}

#[test]
fn a_wait_deadlock_closed_by_the_wait_and_recorded_in_process_is_reported_once() {
    // Notifier first: the wait closes the cycle. A third process had both halves and recorded
    // the violation itself: one report, naming it.
    let dir = fresh_dir("wait-deadlock-recorded");
    Report::new("flusher_takes_log", 811)
        .edge("event:flushed", "log", "EN")
        .write(&dir);
    Report::new("waits_holding_log", 812)
        .edge("log", "event:flushed", "EN")
        .write(&dir);
    Report::new("both_halves", 813)
        .edge("event:flushed", "log", "EN")
        .edge("log", "event:flushed", "EN")
        .violation("wait_deadlock", &["log", "event:flushed"])
        .write(&dir);
    let (out, doc) = check_with_json(&dir);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let text = &out.stdout;
    assert_eq!(text.matches("WARNING:").count(), 1, "{text}");
    assert!(text.contains("possible wait/notify deadlock detected"));
    assert!(text.contains("the new dependency (log) --> (event:flushed) closes the cycle"));
    assert!(text.contains("which lock already depends on the new lock."));
    assert!(text.contains("(also recorded in-process by test both_halves"));
    assert!(
        text.contains("1 violation(s): 0 circular dependency, 0 mempool livelock, 1 wait deadlock")
    );
    assert_eq!(
        scenario(text),
        [
            "lock(log);",
            "(on its way to notify(event:flushed));",
            "lock(log);",
            "notify(event:flushed) (never reached);",
            "wait(event:flushed);",
        ],
        "{text}"
    );
    let violations = doc["violations"].as_array().unwrap();
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0]["kind"], "wait_deadlock");
    assert_eq!(violations[0]["processes"], serde_json::json!([2]));
}

#[test]
fn a_producer_consumer_queue_split_over_processes_is_not_reported() {
    // What the checker records for a bounded queue (see the top-level tests/waits.rs): each
    // side waits with only the queue's own mutex, which the wait releases, so no lock → event
    // dependency but the consumer's own state, which no notifier takes; each notifies after
    // taking the queue (and the producer its stats).
    let dir = fresh_dir("producer-consumer");
    Report::new("producer", 821)
        .edge("event:not_empty", "stats", "EN")
        .edge("event:not_empty", "items", "EN")
        .write(&dir);
    Report::new("consumer", 822)
        .edge("consumer_state", "event:not_empty", "EN")
        .edge("event:not_full", "items", "EN")
        .write(&dir);
    let (out, doc) = check_with_json(&dir);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("merged 2 report file(s) (6 classes, 4 dependencies): no violation"),
        "{}",
        out.stdout
    );
    assert_eq!(doc["violations"].as_array().unwrap().len(), 0);
    let events = common::classes_of_kind(&doc, "event");
    assert_eq!(events, 2);

    // The control: a producer that takes the consumer's state on its way to the notify.
    Report::new("producer_peeks", 823)
        .edge("event:not_empty", "consumer_state", "EN")
        .write(&dir);
    let out = cargo_lockdep([OsStr::new("check"), dir.as_os_str()]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("1 wait deadlock"), "{}", out.stdout);
}

#[test]
fn a_cycle_through_an_event_and_three_processes_has_a_chain_and_a_picture() {
    // A → wait → B → A: the waiter holds A, the notifier takes B, a third process A under B.
    let dir = fresh_dir("wait-deadlock-three");
    Report::new("waits_holding_a", 831)
        .edge("a", "event:ready", "EN")
        .write(&dir);
    Report::new("notifier_takes_b", 832)
        .edge("event:ready", "b", "EN")
        .write(&dir);
    Report::new("a_under_b", 833)
        .edge("b", "a", "EN")
        .write(&dir);
    let out_dir = fresh_dir("wait-deadlock-three-out");
    let (dot, html) = (out_dir.join("g.dot"), out_dir.join("g.html"));
    let out = cargo_lockdep([
        OsStr::new("check"),
        dir.as_os_str(),
        "--dot".as_ref(),
        dot.as_os_str(),
        "--html".as_ref(),
        html.as_os_str(),
    ]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out
        .stdout
        .contains("possible wait/notify deadlock detected"));
    assert!(
        out.stdout
            .contains("Chain exists of:\n   a --> event:ready --> b --> a"),
        "{}",
        out.stdout
    );
    assert_eq!(
        scenario(&out.stdout),
        [
            "lock(b);",
            "lock(a);",
            "(on its way to notify(event:ready));",
            "lock(b);",
            "notify(event:ready) (never reached);",
            "wait(event:ready);",
            "lock(a);",
        ],
        "{}",
        out.stdout
    );

    let dot = std::fs::read_to_string(dot).unwrap();
    assert!(
        dot.contains("[label=\"event:ready\", shape=ellipse, color=red"),
        "{dot}"
    );
    assert!(dot.contains("[label=\"a\", shape=box, color=red"), "{dot}");
    let html = std::fs::read_to_string(html).unwrap();
    // The event in the cycle's picture and in the overview; the locks are boxes.
    assert_eq!(html.matches("<ellipse").count(), 2, "{html}");
    assert!(html.contains("1 wait deadlock found across processes"));
    assert!(html.contains("out of an event: acquired on the way to notifying it"));
}

#[test]
fn a_cycle_through_alloc_a_pool_and_an_event_is_still_a_mempool_livelock() {
    // An element holder waits for `done`; the notifier allocates on its way; reclaim waits
    // for the pool.
    let dir = fresh_dir("wait-livelock");
    Report::new("holder_waits", 841)
        .edge("pool:bio", "event:done", "EN")
        .write(&dir);
    Report::new("notifier_allocates", 842)
        .edge("event:done", "ALLOC", "EN")
        .write(&dir);
    Report::new("reclaim", 843)
        .edge("ALLOC", "pool:bio", "EN")
        .write(&dir);
    let (out, doc) = check_with_json(&dir);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out
        .stdout
        .contains("WARNING: possible mempool livelock detected"));
    assert!(!out.stdout.contains("wait/notify"));
    assert_eq!(doc["violations"][0]["kind"], "mempool_livelock");
    // taskB does not hold the event: it allocates on its way to notifying it.
    let table: Vec<&str> = out
        .stdout
        .lines()
        .skip_while(|l| !l.contains("taskA"))
        .map(str::trim)
        .filter(|l| l.ends_with(';'))
        .collect();
    assert_eq!(
        table,
        [
            "alloc(pool:bio) (takes the last element);",
            "(on its way to notify(event:done));",
            "wait(event:done) (waits for taskB);",
            "allocate memory (stalls: reclaim needs pool elements);",
            "notify(event:done) (never reached);",
            "alloc(pool:bio) (waits for taskA: livelock);",
        ],
        "{}",
        out.stdout
    );
}
