//! `RawCondvar` and the typed `Condvar`.
#![cfg(not(loom))]

use lock_api::RawMutex as _;
use lockdep_raw::{Condvar, Mutex, RawCondvar, RawMutex};
use std::collections::VecDeque;
use std::thread;

mod common;
use common::eventually;
use std::time::{Duration, Instant};

/// Whether threads are queued on `c`: its `Debug` shows the waiters' mutex, null when none.
fn has_waiters(c: &impl std::fmt::Debug) -> bool {
    !format!("{c:?}").contains("mutex: 0x0")
}

#[test]
fn notify_without_waiters_is_not_kept() {
    let (m, c) = (Mutex::new(()), Condvar::new());
    assert!(!c.notify_one());
    assert_eq!(c.notify_all(), 0);
    let mut g = m.lock();
    assert!(
        c.wait_for(&mut g, Duration::from_millis(20)),
        "nothing should wake it"
    );
}

#[test]
fn wait_for_times_out_and_relocks() {
    let (m, c) = (Mutex::new(5), Condvar::new());
    let mut g = m.lock();
    let start = Instant::now();
    assert!(c.wait_for(&mut g, Duration::from_millis(50)));
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert!(m.is_locked());
    assert_eq!(*g, 5);
    let deadline = Instant::now() + Duration::from_millis(30);
    assert!(c.wait_until(&mut g, deadline));
    assert!(Instant::now() >= deadline);
    drop(g);
    assert!(
        !has_waiters(&c),
        "timed-out waiters must leave the queue empty"
    );
    assert!(!m.is_locked());
}

#[test]
fn wait_for_huge_timeout_is_notified() {
    let (m, c) = (Mutex::new(false), Condvar::new());
    thread::scope(|s| {
        s.spawn(|| {
            let mut g = m.lock();
            while !*g {
                assert!(!c.wait_for(&mut g, Duration::MAX));
            }
        });
        eventually("the waiter", || has_waiters(&c));
        *m.lock() = true;
        assert!(c.notify_one());
    });
}

#[test]
fn notify_one_wakes_one_notify_all_wakes_all() {
    // (round, threads that entered their wait): a thread counts itself under the mutex and
    // is queued before the wait releases it, so a count of 3 seen under the mutex means
    // three queued waiters.
    let (m, c) = (Mutex::new((0u32, 0usize)), Condvar::new());
    thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                let mut g = m.lock();
                let seen = g.0;
                g.1 += 1;
                while g.0 == seen {
                    c.wait(&mut g);
                }
            });
        }
        eventually("three waiters", || m.lock().1 == 3);
        let mut g = m.lock();
        g.0 += 1;
        assert!(c.notify_one());
        assert_eq!(
            c.notify_all(),
            2,
            "notify_one took one waiter off the queue"
        );
        assert!(!has_waiters(&c));
        drop(g);
    });
}

#[test]
fn raw_wait_until_none_and_deadline() {
    let (m, c) = (RawMutex::new(), RawCondvar::new());
    m.lock();
    // SAFETY: held.
    assert!(unsafe { c.wait_until(&m, Some(Instant::now())) });
    assert!(m.is_locked());
    thread::scope(|s| {
        s.spawn(|| {
            // Takes the mutex only once the waiter has released it, i.e. once it is queued.
            m.lock();
            assert!(c.notify_one());
            // SAFETY: held.
            unsafe { m.unlock() };
        });
        // SAFETY: held.
        assert!(!unsafe { c.wait_until(&m, None) });
    });
    assert!(m.is_locked());
    // SAFETY: held.
    unsafe { m.unlock() };
}

#[test]
fn producer_consumer() {
    let queue = Mutex::new(VecDeque::new());
    let (not_empty, not_full) = (Condvar::new(), Condvar::new());
    const N: u64 = 20_000;
    let sum = thread::scope(|s| {
        s.spawn(|| {
            for i in 1..=N {
                let mut q = queue.lock();
                while q.len() >= 8 {
                    not_full.wait(&mut q);
                }
                q.push_back(i);
                not_empty.notify_one();
            }
        });
        let consumer = s.spawn(|| {
            let mut sum = 0;
            for _ in 0..N {
                let mut q = queue.lock();
                while q.is_empty() {
                    not_empty.wait(&mut q);
                }
                sum += q.pop_front().unwrap();
                not_full.notify_one();
            }
            sum
        });
        consumer.join().unwrap()
    });
    assert_eq!(sum, N * (N + 1) / 2);
}

/// parking_lot's rule: one mutex at a time. A wait with another mutex while a thread waits
/// is refused with the mutex still held; once the waiters are gone, any mutex will do.
#[test]
fn a_wait_with_a_second_mutex_is_refused_while_the_first_has_waiters() {
    let (a, b, condvar) = (RawMutex::INIT, RawMutex::INIT, RawCondvar::new());
    let mut refused = 0;
    thread::scope(|s| {
        s.spawn(|| {
            a.lock();
            // SAFETY: this thread holds `a` throughout (a refused wait keeps it).
            while unsafe { condvar.try_wait_until(&a, None) }.is_err() {
                thread::yield_now();
            }
            // SAFETY: it holds `a` again.
            unsafe { a.unlock() };
        });
        loop {
            b.lock();
            let soon = Instant::now() + Duration::from_millis(1);
            // SAFETY: this thread holds `b`.
            let result = unsafe { condvar.try_wait_until(&b, Some(soon)) };
            assert!(b.is_locked());
            // SAFETY: this thread holds `b`.
            unsafe { b.unlock() };
            if result.is_err() {
                refused += 1;
                break;
            }
        }
        eventually("the waiter to be notified", || condvar.notify_one());
    });
    assert_eq!(refused, 1);
    b.lock();
    // SAFETY: this thread holds `b`; nobody waits now.
    let result = unsafe { condvar.try_wait_until(&b, Some(Instant::now())) };
    assert_eq!(result, Ok(true));
    // SAFETY: this thread holds `b`.
    unsafe { b.unlock() };
}

#[test]
#[should_panic(expected = "attempted to use a condition variable with more than one mutex")]
fn wait_until_panics_on_a_second_mutex() {
    let (a, b, condvar) = (RawMutex::INIT, RawMutex::INIT, RawCondvar::new());
    thread::scope(|s| {
        let waiter = s.spawn(|| {
            a.lock();
            // SAFETY: this thread holds `a`.
            unsafe { condvar.wait(&a) };
            // SAFETY: it holds it again.
            unsafe { a.unlock() };
        });
        // Waits until the other thread is queued: then a wait with `b` panics.
        while !waiter.is_finished() && !has_waiters(&condvar) {
            thread::yield_now();
        }
        /// Lets the waiter go when the panic unwinds out of the scope's body.
        struct Release<'a>(&'a RawCondvar);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                while !self.0.notify_one() {
                    thread::yield_now();
                }
            }
        }
        let _release = Release(&condvar);
        b.lock();
        // SAFETY: this thread holds `b`.
        unsafe { condvar.wait_until(&b, Some(Instant::now() + Duration::from_secs(5))) };
    });
}
