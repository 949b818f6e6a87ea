//! `LOCKDEP_STAT=1`: a contended lock's acquisitions, contentions, wait and hold times and
//! sites, printed at exit and in the report file; off, nothing. Each case runs in a child
//! process (the switch is read once, at start).
#![cfg(feature = "enabled")]

use std::process::Output;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use lockdep::{LockClass, Mutex, RwLock};

mod common;

/// Set in the child processes.
const CHILD: &str = "TEST_LOCKDEP_STAT_CHILD";

static HAMMERED: LockClass = LockClass::new("lock_stat-hammered");
static SHARED: LockClass = LockClass::new("lock_stat-shared");

const ROUNDS: u64 = 20_000;

/// In a child process: one thread holds `hammered` for 30 ms while another asks for it (a
/// wait for sure), then `shared`'s read for 30 ms more while the other waits to write it;
/// then both threads take `hammered` `ROUNDS` times.
#[test]
fn child_hammers_one_lock() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let m = Arc::new(Mutex::with_class(0u64, &HAMMERED));
    let rw = Arc::new(RwLock::with_class(0u64, &SHARED));
    let held = Arc::new(Barrier::new(2));
    let (m2, rw2, held2) = (m.clone(), rw.clone(), held.clone());
    let other = std::thread::spawn(move || {
        let guard = m2.lock();
        let read = rw2.read();
        held2.wait();
        std::thread::sleep(Duration::from_millis(30));
        drop(guard);
        std::thread::sleep(Duration::from_millis(30));
        drop(read);
        for _ in 0..ROUNDS {
            *m2.lock() += 1;
        }
    });
    held.wait();
    *m.lock() += 1;
    *rw.write() += 1;
    for _ in 0..ROUNDS {
        *m.lock() += 1;
    }
    other.join().unwrap();
    assert_eq!(*m.lock(), 2 * ROUNDS + 1);
}

/// In a child process: a task holds a tokio mutex across a 30 ms sleep while another asks for
/// it.
#[cfg(feature = "tokio")]
#[test]
fn child_waits_for_a_tokio_mutex() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let m = Arc::new(lockdep::tokio::sync::Mutex::new(0u64));
        let guard = m.lock().await;
        let m2 = m.clone();
        let waiter = tokio::spawn(async move { *m2.lock().await += 1 });
        tokio::time::sleep(Duration::from_millis(30)).await;
        drop(guard);
        waiter.await.unwrap();
    });
}

#[cfg(feature = "tokio")]
#[test]
fn a_tokio_mutex_waited_for_is_a_contention() {
    let (_, json) = run_test("child_waits_for_a_tokio_mutex", &[("LOCKDEP_STAT", "1")]);
    // A creation-site class: this file's line, with the data's type.
    let site = format!(
        "{}:{}:",
        file!(),
        line_of("let m = Arc::new(lockdep::tokio::sync::Mutex::new(0u64));")
    );
    let row = json["lock_stat"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["class"].as_str().unwrap().starts_with(&site))
        .unwrap_or_else(|| panic!("no row of {site} in {json}"));
    assert_eq!(n(&row["acquisitions"]), 2, "{row}");
    assert_eq!(n(&row["contentions"]), 1, "{row}");
    assert!(n(&row["wait_total_ns"]) >= 20_000_000, "{row}");
}

/// The child, run with `env`, and its report file's JSON.
fn run(env: &[(&str, &str)]) -> (Output, serde_json::Value) {
    run_test("child_hammers_one_lock", env)
}

/// The child test `test`, run with `env`, and its report file's JSON.
fn run_test(test: &str, env: &[(&str, &str)]) -> (Output, serde_json::Value) {
    let dir = std::env::temp_dir().join(format!(
        "lockdep-lock-stat-{}-{test}-{}",
        std::process::id(),
        env.len()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let out = common::child(test)
        .env(CHILD, "1")
        .env("LOCKDEP_REPORT_DIR", &dir)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let json = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (out, json)
}

/// The report file's row of `class` held as `access`.
fn row<'a>(json: &'a serde_json::Value, class: &str, access: &str) -> &'a serde_json::Value {
    json["lock_stat"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["class"] == class && r["access"] == access)
        .unwrap_or_else(|| panic!("no {class} {access} row in {json}"))
}

fn n(value: &serde_json::Value) -> u64 {
    value.as_u64().unwrap()
}

#[test]
fn a_contended_lock_shows_its_contentions_and_wait_time() {
    let (out, json) = run(&[("LOCKDEP_STAT", "1")]);
    let hammered = row(&json, "lock_stat-hammered", "write");
    assert_eq!(n(&hammered["acquisitions"]), 2 * ROUNDS + 3, "{hammered}");
    let contentions = n(&hammered["contentions"]);
    assert!(contentions >= 1, "{hammered}");
    // The 30 ms hold was waited for, and held.
    assert!(n(&hammered["wait_max_ns"]) >= 20_000_000, "{hammered}");
    assert!(n(&hammered["wait_total_ns"]) >= n(&hammered["wait_max_ns"]));
    assert!(n(&hammered["hold_max_ns"]) >= 25_000_000, "{hammered}");
    let waited: u64 = hammered["waited_at"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| n(&s["count"]))
        .sum();
    assert_eq!(waited, contentions);
    let sites = |kind: &str| -> Vec<String> {
        hammered[kind]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["site"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(sites("waited_at")
        .iter()
        .all(|s| s.starts_with(concat!(file!(), ":"))));
    // The holder of the 30 ms hold took it in the other thread, first line of its closure.
    let holder = format!("{}:{}:", file!(), line_of("let guard = m2.lock();"));
    assert!(
        sites("held_by").iter().any(|s| s.starts_with(&holder)),
        "{hammered}"
    );
    // The writer waited behind the reader; the read was held 60 ms.
    let write = row(&json, "lock_stat-shared", "write");
    assert_eq!(n(&write["contentions"]), 1, "{write}");
    assert!(n(&row(&json, "lock_stat-shared", "read")["hold_max_ns"]) >= 50_000_000);
    assert!(n(&write["wait_max_ns"]) >= 20_000_000, "{write}");
    // And the table at exit.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("lock_stat: 2 classes, 40,005 acquisitions, 1 process"),
        "{err}"
    );
    assert!(err.contains("\nlock_stat-hammered "), "{err}");
    assert!(
        err.contains(concat!("  waited at  ", file!(), ":")),
        "{err}"
    );
}

#[test]
fn without_lock_stat_nothing_is_counted() {
    let (out, json) = run(&[]);
    assert_eq!(json["lock_stat"], serde_json::json!([]));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("lock_stat:"));
}

/// The line of this file where `code` is.
fn line_of(code: &str) -> usize {
    include_str!("lock_stat.rs")
        .lines()
        .position(|l| l.trim_start().starts_with(code))
        .unwrap()
        + 1
}
