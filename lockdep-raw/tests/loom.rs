//! Model check with loom: every interleaving (up to a preemption bound) of small scenarios,
//! with loom checking data-race freedom of the protected data (so acquire/release orderings
//! are validated) and reporting any state where every thread is blocked (deadlock or lost
//! wake-up).
//!
//! ```text
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=/work/target-loom \
//!     cargo test -p lockdep-raw --release --test loom
//! ```
#![cfg(loom)]

use lock_api::{
    RawMutex as _, RawMutexFair as _, RawRwLock as _, RawRwLockDowngrade as _, RawRwLockFair as _,
    RawRwLockRecursive as _, RawRwLockUpgrade as _, RawRwLockUpgradeDowngrade as _,
    RawRwLockUpgradeFair as _,
};
use lockdep_raw::{RawCondvar, RawMutex, RawRwLock};
use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;

/// Runs `f` under loom with a preemption bound (default 3; `LOOM_MAX_PREEMPTIONS` overrides).
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}

/// Under loom the locks' atomics are created on first use (they must be `const`-constructible
/// but loom's are not); loom sees that creation as a plain write, so the creating thread must
/// use a lock before sharing it. `touch` does that.
trait Touch {
    fn touch(&self);
}

impl Touch for RawMutex {
    fn touch(&self) {
        assert!(!self.is_locked());
    }
}

impl Touch for RawRwLock {
    fn touch(&self) {
        assert!(!self.is_locked());
    }
}

/// A lock and the data it protects; loom flags any unsynchronized access to `data`.
struct Guarded<L> {
    lock: L,
    data: UnsafeCell<u64>,
}

// SAFETY: `data` is only touched under `lock` (loom checks that claim).
unsafe impl<L: Sync> Sync for Guarded<L> {}

impl<L: Touch> Guarded<L> {
    fn new(lock: L) -> Arc<Self> {
        lock.touch();
        Arc::new(Guarded {
            lock,
            data: UnsafeCell::new(0),
        })
    }
}

impl<L> Guarded<L> {
    /// Caller holds the lock exclusively.
    fn bump(&self) {
        // SAFETY: exclusive access per the caller.
        self.data.with_mut(|p| unsafe { *p += 1 });
    }
    /// Caller holds the lock (at least shared).
    fn get(&self) -> u64 {
        // SAFETY: no writer per the caller.
        self.data.with(|p| unsafe { *p })
    }
}

fn spawn<L: Send + Sync + 'static>(
    g: &Arc<Guarded<L>>,
    f: impl FnOnce(&Guarded<L>) + Send + 'static,
) -> thread::JoinHandle<()> {
    let g = g.clone();
    thread::spawn(move || f(&g))
}

// ----- mutex ---------------------------------------------------------------------------

fn mutex_increment(g: &Guarded<RawMutex>) {
    g.lock.lock();
    g.bump();
    // SAFETY: held.
    unsafe { g.lock.unlock() };
}

#[test]
fn mutex_two_threads() {
    model(|| {
        let g = Guarded::new(RawMutex::new());
        let t = spawn(&g, mutex_increment);
        mutex_increment(&g);
        t.join().unwrap();
        g.lock.lock();
        assert_eq!(g.get(), 2);
        // SAFETY: held.
        unsafe { g.lock.unlock() };
    });
}

#[test]
fn mutex_three_threads() {
    model(|| {
        let g = Guarded::new(RawMutex::new());
        let a = spawn(&g, mutex_increment);
        let b = spawn(&g, mutex_increment);
        mutex_increment(&g);
        a.join().unwrap();
        b.join().unwrap();
        assert!(g.lock.try_lock());
        assert_eq!(g.get(), 3);
    });
}

#[test]
fn mutex_fair_unlock_and_bump() {
    model(|| {
        let g = Guarded::new(RawMutex::new());
        let t = spawn(&g, |g| {
            g.lock.lock();
            g.bump();
            // SAFETY: held.
            unsafe { g.lock.unlock_fair() };
        });
        g.lock.lock();
        g.bump();
        // SAFETY: held.
        unsafe { g.lock.bump() };
        g.bump();
        // SAFETY: held.
        unsafe { g.lock.unlock_fair() };
        t.join().unwrap();
        assert!(g.lock.try_lock());
        assert_eq!(g.get(), 3);
    });
}

// ----- rwlock --------------------------------------------------------------------------

fn rw_write(g: &Guarded<RawRwLock>) {
    g.lock.lock_exclusive();
    g.bump();
    // SAFETY: held.
    unsafe { g.lock.unlock_exclusive() };
}

fn rw_read(g: &Guarded<RawRwLock>) -> u64 {
    g.lock.lock_shared();
    let v = g.get();
    // SAFETY: held.
    unsafe { g.lock.unlock_shared() };
    v
}

#[test]
fn rwlock_two_writers() {
    model(|| {
        let g = Guarded::new(RawRwLock::new());
        let t = spawn(&g, rw_write);
        rw_write(&g);
        t.join().unwrap();
        assert_eq!(rw_read(&g), 2);
    });
}

#[test]
fn rwlock_reader_writer() {
    model(|| {
        let g = Guarded::new(RawRwLock::new());
        let t = spawn(&g, |g| {
            let v = rw_read(g);
            assert!(v <= 1);
        });
        rw_write(&g);
        t.join().unwrap();
        assert!(!g.lock.is_locked());
    });
}

#[test]
fn rwlock_two_readers_one_writer() {
    model(|| {
        let g = Guarded::new(RawRwLock::new());
        let a = spawn(&g, |g| {
            rw_read(g);
        });
        let b = spawn(&g, rw_write);
        rw_read(&g);
        a.join().unwrap();
        b.join().unwrap();
        assert!(g.lock.try_lock_exclusive());
        assert_eq!(g.get(), 1);
    });
}

/// Recursive read while a writer waits: must never block (loom reports a deadlock if it can).
#[test]
fn rwlock_recursive_read_with_waiting_writer() {
    model(|| {
        let g = Guarded::new(RawRwLock::new());
        g.lock.lock_shared();
        let t = spawn(&g, rw_write);
        g.lock.lock_shared_recursive();
        g.get();
        // SAFETY: held twice.
        unsafe {
            g.lock.unlock_shared();
            g.lock.unlock_shared();
        }
        t.join().unwrap();
        assert_eq!(rw_read(&g), 1);
    });
}

#[test]
fn rwlock_upgradable_reader_writer() {
    model(|| {
        let g = Guarded::new(RawRwLock::new());
        let u = spawn(&g, |g| {
            g.lock.lock_upgradable();
            let before = g.get();
            // SAFETY: held upgradable.
            unsafe { g.lock.upgrade() };
            assert_eq!(
                g.get(),
                before,
                "no writer between upgradable read and upgrade"
            );
            g.bump();
            // SAFETY: held exclusively.
            unsafe { g.lock.unlock_exclusive() };
        });
        let w = spawn(&g, rw_write);
        rw_read(&g);
        u.join().unwrap();
        w.join().unwrap();
        assert_eq!(rw_read(&g), 2);
    });
}

#[test]
fn rwlock_downgrade_wakes_reader() {
    model(|| {
        let g = Guarded::new(RawRwLock::new());
        let r = spawn(&g, |g| {
            rw_read(g);
        });
        g.lock.lock_exclusive();
        g.bump();
        // SAFETY: held exclusively.
        unsafe { g.lock.downgrade() };
        assert_eq!(g.get(), 1);
        // SAFETY: held shared.
        unsafe { g.lock.unlock_shared() };
        r.join().unwrap();
        assert!(!g.lock.is_locked());
    });
}

#[test]
fn rwlock_downgrade_to_upgradable_and_upgrade_again() {
    model(|| {
        let g = Guarded::new(RawRwLock::new());
        let r = spawn(&g, |g| {
            rw_read(g);
        });
        g.lock.lock_exclusive();
        g.bump();
        // SAFETY: held exclusively.
        unsafe { g.lock.downgrade_to_upgradable() };
        g.get();
        // SAFETY: held upgradable.
        unsafe { g.lock.upgrade() };
        g.bump();
        // SAFETY: held exclusively.
        unsafe { g.lock.unlock_exclusive() };
        r.join().unwrap();
        assert_eq!(rw_read(&g), 2);
    });
}

#[test]
fn rwlock_downgrade_upgradable_admits_writer() {
    model(|| {
        let g = Guarded::new(RawRwLock::new());
        let w = spawn(&g, rw_write);
        g.lock.lock_upgradable();
        g.get();
        // SAFETY: held upgradable.
        unsafe { g.lock.downgrade_upgradable() };
        g.get();
        // SAFETY: held shared.
        unsafe { g.lock.unlock_shared() };
        w.join().unwrap();
        assert_eq!(rw_read(&g), 1);
    });
}

/// A writer's unlock wakes the queue only up to the first writer it finds (parking_lot's
/// policy): a reader queued behind a waiting writer stays parked until that writer (or
/// whoever takes the lock before it) lets go, and must then be woken.
#[test]
fn rwlock_reader_queued_behind_writer() {
    for fair in [false, true] {
        model(move || {
            let g = Guarded::new(RawRwLock::new());
            g.lock.lock_exclusive();
            let w = spawn(&g, rw_write);
            let r = spawn(&g, |g| {
                let v = rw_read(g);
                assert!(v >= 1, "the reader got in after the holder's unlock");
            });
            g.bump();
            // SAFETY: held exclusively.
            unsafe {
                if fair {
                    g.lock.unlock_exclusive_fair();
                } else {
                    g.lock.unlock_exclusive();
                }
            }
            w.join().unwrap();
            r.join().unwrap();
            assert_eq!(rw_read(&g), 2);
        });
    }
}

#[test]
fn rwlock_fair_unlocks() {
    model(|| {
        let g = Guarded::new(RawRwLock::new());
        let r = spawn(&g, |g| {
            g.lock.lock_shared();
            g.get();
            // SAFETY: held shared.
            unsafe { g.lock.unlock_shared_fair() };
        });
        let u = spawn(&g, |g| {
            g.lock.lock_upgradable();
            g.get();
            // SAFETY: held upgradable.
            unsafe { g.lock.unlock_upgradable_fair() };
        });
        g.lock.lock_exclusive();
        g.bump();
        // SAFETY: held exclusively.
        unsafe { g.lock.bump_exclusive() };
        g.bump();
        // SAFETY: held exclusively.
        unsafe { g.lock.unlock_exclusive_fair() };
        r.join().unwrap();
        u.join().unwrap();
        assert!(g.lock.try_lock_exclusive());
        assert_eq!(g.get(), 2);
    });
}

#[test]
fn rwlock_try_upgrade_and_bumps() {
    model(|| {
        let g = Guarded::new(RawRwLock::new());
        let r = spawn(&g, |g| {
            g.lock.lock_shared();
            g.get();
            // SAFETY: held shared.
            unsafe { g.lock.bump_shared() };
            g.get();
            // SAFETY: held shared.
            unsafe { g.lock.unlock_shared() };
        });
        g.lock.lock_upgradable();
        // SAFETY: held upgradable.
        unsafe { g.lock.bump_upgradable() };
        // SAFETY: held upgradable.
        if unsafe { g.lock.try_upgrade() } {
            g.bump();
            // SAFETY: held exclusively.
            unsafe { g.lock.unlock_exclusive() };
        } else {
            // SAFETY: held upgradable.
            unsafe { g.lock.unlock_upgradable() };
        }
        r.join().unwrap();
        assert!(!g.lock.is_locked());
    });
}

// ----- condvar -------------------------------------------------------------------------

struct Signal {
    mutex: RawMutex,
    condvar: RawCondvar,
    ready: UnsafeCell<usize>,
}

// SAFETY: `ready` is only touched under `mutex`.
unsafe impl Sync for Signal {}

impl Signal {
    fn new() -> Arc<Self> {
        let s = Signal {
            mutex: RawMutex::new(),
            condvar: RawCondvar::new(),
            ready: UnsafeCell::new(0),
        };
        s.mutex.touch();
        assert!(!s.condvar.notify_one()); // creates its atomic (see `Touch`)
        Arc::new(s)
    }
    fn raise(&self, notify_all: bool, notify_under_lock: bool) {
        self.mutex.lock();
        // SAFETY: under the mutex.
        self.ready.with_mut(|p| unsafe { *p += 1 });
        if notify_under_lock {
            self.notify(notify_all);
        }
        // SAFETY: held.
        unsafe { self.mutex.unlock() };
        if !notify_under_lock {
            self.notify(notify_all);
        }
    }
    fn notify(&self, all: bool) {
        if all {
            self.condvar.notify_all();
        } else {
            self.condvar.notify_one();
        }
    }
    fn wait_for(&self, count: usize) {
        self.mutex.lock();
        // SAFETY: under the mutex.
        while self.ready.with(|p| unsafe { *p }) < count {
            // SAFETY: held.
            unsafe { self.condvar.wait(&self.mutex) };
        }
        // SAFETY: held.
        unsafe { self.mutex.unlock() };
    }
}

/// Notify before or after the wait, with and without the mutex: loom explores both orders;
/// a lost wake-up shows up as a deadlock.
#[test]
fn condvar_no_lost_wakeup() {
    for notify_under_lock in [false, true] {
        model(move || {
            let s = Signal::new();
            let n = s.clone();
            let t = thread::spawn(move || n.raise(false, notify_under_lock));
            s.wait_for(1);
            t.join().unwrap();
        });
    }
}

#[test]
fn condvar_notify_all_two_waiters() {
    model(|| {
        let s = Signal::new();
        let a = s.clone();
        let b = s.clone();
        let ta = thread::spawn(move || a.wait_for(1));
        let tb = thread::spawn(move || b.wait_for(1));
        s.raise(true, false);
        ta.join().unwrap();
        tb.join().unwrap();
    });
}

#[test]
fn condvar_ping_pong() {
    model(|| {
        let s = Signal::new();
        let p = s.clone();
        let t = thread::spawn(move || {
            p.raise(false, true);
            p.wait_for(2);
        });
        s.wait_for(1);
        s.raise(false, false);
        t.join().unwrap();
    });
}
