//! `RawMutex` and the typed `Mutex`: every operation, including timeouts, fairness and bump.
#![cfg(not(loom))]

use lock_api::{RawMutex as _, RawMutexFair as _, RawMutexTimed as _};
use lockdep_raw::{const_mutex, Mutex, RawMutex};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Barrier;
use std::thread;

mod common;
use common::eventually;
use std::time::{Duration, Instant};

fn parked(raw: &RawMutex) -> bool {
    format!("{raw:?}").contains("parked: true")
}

#[test]
fn lock_try_lock_unlock() {
    let raw = RawMutex::new();
    assert!(!raw.is_locked());
    raw.lock();
    assert!(raw.is_locked());
    assert!(!raw.try_lock());
    // SAFETY: held.
    unsafe { raw.unlock() };
    assert!(raw.try_lock());
    // SAFETY: held.
    unsafe { raw.unlock() };
    assert!(!raw.is_locked());
    assert_eq!(
        format!("{raw:?}"),
        "RawMutex { locked: false, parked: false }"
    );
}

#[test]
fn typed_mutex_and_const() {
    static M: Mutex<u32> = const_mutex(3);
    *M.lock() += 1;
    assert_eq!(*M.lock(), 4);
    let guard = M.lock();
    assert!(M.try_lock().is_none());
    drop(guard);
    assert!(M.try_lock().is_some());
}

#[test]
fn timed_lock_times_out() {
    let raw = RawMutex::new();
    raw.lock();
    thread::scope(|s| {
        s.spawn(|| {
            let start = Instant::now();
            assert!(!raw.try_lock_for(Duration::from_millis(50)));
            assert!(start.elapsed() >= Duration::from_millis(50));
            let deadline = Instant::now() + Duration::from_millis(30);
            assert!(!raw.try_lock_until(deadline));
            assert!(Instant::now() >= deadline);
            assert!(!raw.try_lock_for(Duration::ZERO));
        });
    });
    // The timed-out waiters must have cleared `PARKED`, so the fast unlock path works.
    assert!(!parked(&raw));
    // SAFETY: held.
    unsafe { raw.unlock() };
    assert!(
        raw.try_lock_for(Duration::MAX),
        "an unrepresentable deadline waits forever"
    );
    // SAFETY: held.
    unsafe { raw.unlock() };
}

#[test]
fn timed_lock_succeeds_when_released() {
    let raw = RawMutex::new();
    raw.lock();
    thread::scope(|s| {
        let waiter = s.spawn(|| {
            let ok = raw.try_lock_for(Duration::from_secs(10));
            // SAFETY: held if `ok`.
            if ok {
                unsafe { raw.unlock() };
            }
            ok
        });
        eventually("the waiter to park", || parked(&raw));
        // SAFETY: held.
        unsafe { raw.unlock() };
        assert!(waiter.join().unwrap());
    });
}

#[test]
fn unlock_fair_hands_over() {
    let raw = RawMutex::new();
    let gate = Barrier::new(2);
    raw.lock();
    thread::scope(|s| {
        s.spawn(|| {
            raw.lock();
            gate.wait();
            // SAFETY: held.
            unsafe { raw.unlock() };
        });
        eventually("the waiter to park", || parked(&raw));
        // SAFETY: held.
        unsafe { raw.unlock_fair() };
        // Handed over: the mutex never became free, so no barging is possible.
        assert!(raw.is_locked());
        assert!(!raw.try_lock());
        gate.wait();
    });
    assert!(!raw.is_locked());
}

#[test]
fn unlock_fair_without_waiters() {
    let raw = RawMutex::new();
    raw.lock();
    // SAFETY: held.
    unsafe { raw.unlock_fair() };
    assert!(!raw.is_locked());
}

#[test]
fn bump_lets_a_waiter_run() {
    let raw = RawMutex::new();
    let ran = AtomicBool::new(false);
    raw.lock();
    // No waiter: bump keeps the lock and returns at once.
    // SAFETY: held.
    unsafe { raw.bump() };
    assert!(raw.is_locked());
    thread::scope(|s| {
        s.spawn(|| {
            raw.lock();
            ran.store(true, Ordering::Relaxed);
            // SAFETY: held.
            unsafe { raw.unlock() };
        });
        eventually("the waiter to park", || parked(&raw));
        assert!(!ran.load(Ordering::Relaxed));
        // SAFETY: held.
        unsafe { raw.bump() };
        // The waiter got the lock in between and we have it back.
        assert!(ran.load(Ordering::Relaxed));
        assert!(raw.is_locked());
        // SAFETY: held.
        unsafe { raw.unlock() };
    });
}

#[test]
fn guard_fair_unlock_and_bump() {
    let m = Mutex::new(0);
    let mut g = m.lock();
    *g += 1;
    lock_api::MutexGuard::bump(&mut g);
    lock_api::MutexGuard::unlock_fair(g);
    assert_eq!(*m.try_lock_for(Duration::from_millis(1)).unwrap(), 1);
}

#[test]
fn contended_counter() {
    let m = Mutex::new(0u64);
    let hits = AtomicU32::new(0);
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for i in 0..20_000 {
                    let mut g = m.lock();
                    *g += 1;
                    if i % 1000 == 0 {
                        hits.fetch_add(1, Ordering::Relaxed);
                        lock_api::MutexGuard::unlock_fair(g);
                    }
                }
            });
        }
    });
    assert_eq!(*m.lock(), 80_000);
    assert_eq!(hits.load(Ordering::Relaxed), 80);
}
