//! lockdep's rules beyond the kernel's (`docs/rules.md`): for each, the false report it
//! avoids gives none, and its true twin is still reported, at the moment it becomes true.
#![cfg(feature = "enabled")]

use lockdep::{Mode, RwLock, RwLockUpgradableReadGuard, ViolationKind};

mod common;
use common::{class, kinds};

/// Runs `f` on a thread of its own, to its end.
fn on_a_thread(f: impl FnOnce() + Send) {
    std::thread::scope(|s| {
        s.spawn(f);
    });
}

// ---- reads of a class nobody writes ------------------------------------------------------

/// T is only ever read; L is written somewhere. One path reads T then L, others L then T:
/// each read of T waits only behind a writer of T, and there is none.
#[test]
fn a_cycle_through_reads_of_a_class_nobody_writes_is_no_deadlock() {
    lockdep::set_mode(Mode::Collect);
    let t = RwLock::with_class(0, class("rules-read-only-T"));
    let l = RwLock::with_class(0, class("rules-read-only-L"));
    *l.write() += 1;
    on_a_thread(|| {
        let _t = t.read();
        let _l = l.read();
    });
    on_a_thread(|| {
        let _l = l.read();
        let _t = t.read();
    });
    on_a_thread(|| {
        let _l = l.write();
        let _t = t.read_recursive();
    });
    assert!(
        kinds("rules-read-only-T").is_empty(),
        "{:?}",
        lockdep::violations()
    );
    assert!(kinds("rules-read-only-L").is_empty());
}

/// The same paths, and then a writer waits for T: now a read of T may queue behind it, and
/// the cycle is reported at that write, naming the read that closed it and the write.
#[test]
fn the_first_writer_of_a_read_class_closes_the_held_back_cycle() {
    lockdep::set_mode(Mode::Collect);
    let t = RwLock::with_class(0, class("rules-written-T"));
    let l = RwLock::with_class(0, class("rules-written-L"));
    *l.write() += 1;
    on_a_thread(|| {
        let _t = t.read();
        let _l = l.read();
    });
    let read_line = line!() + 3;
    on_a_thread(|| {
        let _l = l.read();
        let _t = t.read();
    });
    assert!(kinds("rules-written-T").is_empty());
    let write_line = line!() + 1;
    on_a_thread(|| *t.write() += 1);
    assert_eq!(
        kinds("rules-written-T"),
        vec![ViolationKind::CircularDependency]
    );
    let v = common::find("rules-written-T");
    let text = v.to_string();
    assert!(
        text.contains("is the first to wait to write lock:"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "(rules-written-T), at: tests/rules.rs:{write_line}:"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "(rules-written-T) read, at: tests/rules.rs:{read_line}:"
        )),
        "{text}"
    );
    assert!(text.contains("rlock(rules-written-T)"), "{text}");
    // JSON: the closing read, and what made it count.
    let json: serde_json::Value = serde_json::from_str(&v.to_json()).unwrap();
    assert_eq!(json["held_back"]["until"], "first_write");
    assert_eq!(json["held_back"]["by"]["access"], "write");
    assert_eq!(json["held_back"]["by"]["site"]["line"], write_line);
    assert_eq!(json["trying"]["access"], "read");
    assert_eq!(json["trying"]["site"]["line"], read_line);
    // The graph says which classes are written, and where first.
    let graph: serde_json::Value = serde_json::from_str(&lockdep::graph_json()).unwrap();
    let class = |name: &str| {
        graph["classes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap()
    };
    let t = class("rules-written-T");
    assert_eq!(t["written"], true);
    assert_eq!(t["written_at"]["line"], write_line);
}

#[test]
fn the_graph_says_a_class_only_read_is_not_written() {
    lockdep::set_mode(Mode::Collect);
    let t = RwLock::with_class(0, class("rules-graph-read-only"));
    drop(t.read());
    let graph: serde_json::Value = serde_json::from_str(&lockdep::graph_json()).unwrap();
    let t = graph["classes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "rules-graph-read-only")
        .cloned()
        .unwrap();
    assert_eq!(t["written"], false);
    assert!(t["written_at"].is_null());
}

/// An upgrade is a writer waiting for the class: the same as a write.
#[test]
fn an_upgrade_is_a_first_write() {
    lockdep::set_mode(Mode::Collect);
    let t = RwLock::with_class(0, class("rules-upgraded-T"));
    let l = RwLock::with_class(0, class("rules-upgraded-L"));
    *l.write() += 1;
    on_a_thread(|| {
        let _t = t.read();
        let _l = l.read();
    });
    on_a_thread(|| {
        let _l = l.read();
        let _t = t.read();
    });
    assert!(kinds("rules-upgraded-T").is_empty());
    on_a_thread(|| {
        let up = t.upgradable_read();
        *RwLockUpgradableReadGuard::upgrade(up) += 1;
    });
    assert_eq!(
        kinds("rules-upgraded-T"),
        vec![ViolationKind::CircularDependency]
    );
}

/// Two upgradable reads exclude each other: one waits for the other with no writer about.
/// Taken in opposite orders with another lock, they deadlock: a blocking upgradable read
/// counts as a writer waiting.
#[test]
fn upgradable_reads_in_opposite_orders_are_reported() {
    lockdep::set_mode(Mode::Collect);
    let t = RwLock::with_class(0, class("rules-upgradable-T"));
    let l = lockdep::Mutex::with_class(0, class("rules-upgradable-L"));
    on_a_thread(|| {
        let _t = t.upgradable_read();
        let _l = l.lock();
    });
    on_a_thread(|| {
        let _l = l.lock();
        let _t = t.upgradable_read();
    });
    assert_eq!(
        kinds("rules-upgradable-T"),
        vec![ViolationKind::CircularDependency]
    );
}

/// A writer that waited for T before the reads: the read that closes the cycle is reported
/// at once, as the kernel does.
#[test]
fn reads_of_a_written_class_are_reported_at_once() {
    lockdep::set_mode(Mode::Collect);
    let t = RwLock::with_class(0, class("rules-written-first-T"));
    let l = RwLock::with_class(0, class("rules-written-first-L"));
    *l.write() += 1;
    *t.write() += 1;
    on_a_thread(|| {
        let _t = t.read();
        let _l = l.read();
    });
    on_a_thread(|| {
        let _l = l.read();
        let _t = t.read();
    });
    assert_eq!(
        kinds("rules-written-first-T"),
        vec![ViolationKind::CircularDependency]
    );
    let text = common::find("rules-written-first-T").to_string();
    assert!(!text.contains("first to wait to write"), "{text}");
}

/// A writer that only ever takes T by `try_write` never waits, but it holds T while it waits
/// for L: a read of T under L waits for it. Reported at once.
#[test]
fn a_try_writer_holding_the_class_is_reported_at_once() {
    lockdep::set_mode(Mode::Collect);
    let t = RwLock::with_class(0, class("rules-try-written-T"));
    let l = RwLock::with_class(0, class("rules-try-written-L"));
    *l.write() += 1;
    on_a_thread(|| {
        let _t = t.try_write().unwrap();
        let _l = l.read();
    });
    on_a_thread(|| {
        let _l = l.read();
        let _t = t.read();
    });
    assert_eq!(
        kinds("rules-try-written-T"),
        vec![ViolationKind::CircularDependency]
    );
}

/// Reading the same lock twice on one thread is reported whether or not it is written: a
/// writer queued between the two reads deadlocks the thread (std's docs show it).
#[test]
fn the_same_lock_read_twice_is_reported_unwritten() {
    lockdep::set_mode(Mode::Collect);
    let t = RwLock::with_class(0, class("rules-read-twice"));
    let first = t.read();
    let second = t.read();
    drop((first, second));
    assert_eq!(
        kinds("rules-read-twice"),
        vec![ViolationKind::SameLockTwice]
    );
}
