//! `LOCKDEP_WATCHDOG=<seconds>`: a real deadlock ends the process within a few seconds, with a
//! report naming the threads and locks and the failing status 68; a legitimate wait shorter
//! than the watchdog passes. Each case runs in a child process.
#![cfg(feature = "enabled")]

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use lockdep::{LockClass, Mode, Mutex};

mod common;

/// Set in the child processes.
const CHILD: &str = "TEST_LOCKDEP_WATCHDOG_CHILD";

static A: LockClass = LockClass::new("watchdog-A");
static B: LockClass = LockClass::new("watchdog-B");

/// In a child process: two threads take A and B in opposite orders, each once it knows the
/// other holds its first lock: a real deadlock.
#[test]
fn child_deadlocks() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    lockdep::set_mode(Mode::Collect);
    let (a, b) = (
        Arc::new(Mutex::with_class((), &A)),
        Arc::new(Mutex::with_class((), &B)),
    );
    let both = Arc::new(Barrier::new(2));
    let (a1, b1, both1) = (a.clone(), b.clone(), both.clone());
    let other = std::thread::Builder::new()
        .name("takes-b-then-a".into())
        .spawn(move || {
            let _b = b1.lock();
            both1.wait();
            let _a = a1.lock();
        })
        .unwrap();
    let _a = a.lock();
    both.wait();
    let _b = b.lock();
    other.join().unwrap();
}

/// In a child process: one thread holds a lock for 3 s while another waits for it.
#[test]
fn child_waits_three_seconds() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let m = Arc::new(Mutex::new(()));
    let held = Arc::new(Barrier::new(2));
    let (m1, held1) = (m.clone(), held.clone());
    let holder = std::thread::spawn(move || {
        let _g = m1.lock();
        held1.wait();
        std::thread::sleep(Duration::from_secs(3));
    });
    held.wait();
    drop(m.lock());
    holder.join().unwrap();
}

#[test]
fn a_real_deadlock_ends_the_process_with_a_report() {
    let started = Instant::now();
    let out = common::child("child_deadlocks")
        .env(CHILD, "1")
        .env("LOCKDEP_WATCHDOG", "2")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(68), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    for needle in [
        "BUG: hang: a wait lasted longer than the watchdog allows",
        "takes-b-then-a/",
        "(watchdog-A)",
        "(watchdog-B)",
        "The waits form a cycle, a deadlock:",
        " *** DEADLOCK ***",
        "exit status 68",
    ] {
        assert!(stderr.contains(needle), "missing {needle:?} in\n{stderr}");
    }
}

#[test]
fn the_exit_status_can_be_chosen() {
    let out = common::child("child_deadlocks")
        .env(CHILD, "1")
        .env("LOCKDEP_WATCHDOG", "1")
        .env("LOCKDEP_WATCHDOG_EXIT_CODE", "3")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn a_wait_shorter_than_the_watchdog_passes() {
    let out = common::child("child_waits_three_seconds")
        .env(CHILD, "1")
        .env("LOCKDEP_WATCHDOG", "10")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("hang"), "{stderr}");
}
