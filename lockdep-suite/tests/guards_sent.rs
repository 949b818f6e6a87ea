//! Guards sent to another thread (feature `send_guard`, parking_lot's, which makes them
//! `Send`) and dropped there end their hold at the thread that took them: nothing stays on
//! its held stack to make false dependencies, or a lock held at its exit.
#![cfg(all(feature = "enabled", feature = "send_guard"))]

use std::sync::mpsc;
use std::sync::Arc;

use lockdep::{Mode, Mutex, MutexGuard, ViolationKind};

mod common;
use common::{class, kinds};

#[test]
fn a_guard_dropped_on_another_thread_ends_the_hold_of_the_thread_that_took_it() {
    lockdep::set_mode(Mode::Collect);
    let m = Arc::new(Mutex::with_class((), class("sent-M")));
    let n = Arc::new(Mutex::with_class((), class("sent-N")));
    let (m1, n1) = (m.clone(), n.clone());
    std::thread::spawn(move || {
        let (tx, rx) = mpsc::channel::<MutexGuard<'static, ()>>();
        // 'static: the mutex is leaked into the thread for the guard's lifetime.
        let m1: &'static Mutex<()> = Box::leak(Box::new(m1));
        let dropper = std::thread::spawn(move || drop(rx.recv().unwrap()));
        tx.send(m1.lock()).unwrap();
        dropper.join().unwrap();
        // M was released by the other thread: this is no M -> N.
        drop(n1.lock());
    })
    .join()
    .unwrap();
    // N -> M: a cycle only with the M -> N a stale hold of M would have made.
    drop((n.lock(), m.lock()));
    assert_eq!(kinds("sent-M"), [], "{}", lockdep::report());
}

#[test]
fn a_guard_sent_away_is_not_held_at_the_senders_exit() {
    lockdep::set_mode(Mode::Collect);
    let m: &'static Mutex<()> = Box::leak(Box::new(Mutex::with_class((), class("sent-exit"))));
    let (tx, rx) = mpsc::channel::<MutexGuard<'static, ()>>();
    std::thread::spawn(move || {
        tx.send(m.lock()).unwrap();
        // Its next validation applies the release posted by the receiver; its exit must not
        // find the lock either way.
    })
    .join()
    .unwrap();
    drop(rx.recv().unwrap());
    assert!(!kinds("sent-exit").contains(&ViolationKind::LockHeldAtExit));
    assert_eq!(kinds("sent-exit"), [], "{}", lockdep::report());
}

/// Set in the child process of [`a_leaked_guard_is_still_reported_at_process_exit`].
const CHILD: &str = "TEST_LOCKDEP_GUARDS_SENT_CHILD";

/// In a child process: a thread leaks a guard (`mem::forget`) and exits.
#[test]
fn child_leaks_a_guard() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let m: &'static Mutex<()> = Box::leak(Box::new(Mutex::with_class((), class("sent-leak"))));
    std::thread::spawn(move || std::mem::forget(m.lock()))
        .join()
        .unwrap();
}

#[test]
fn a_leaked_guard_is_still_reported_at_process_exit() {
    let out = common::child("child_leaks_a_guard")
        .env(CHILD, "1")
        .env("LOCKDEP_MODE", "collect")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("WARNING: lock held when thread exits!") && stderr.contains("(sent-leak)"),
        "{stderr}"
    );
}
