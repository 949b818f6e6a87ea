//! `RawRwLock` through `lock_api::RwLock`: every operation, the writer-preference rules the
//! checker relies on, fairness, bumps, upgrades, downgrades and timeouts. Every wait that a
//! bug could make endless is bounded.
#![cfg(not(loom))]

use lock_api::{RwLockReadGuard, RwLockUpgradableReadGuard as Up, RwLockWriteGuard};
use lockdep_raw::{const_rwlock, RawRwLock, RwLock};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::thread;

mod common;
use common::eventually;
use std::time::{Duration, Instant};

const SHORT: Duration = Duration::from_millis(50);

/// The raw state as the `Debug` impl shows it.
fn state<T>(lock: &RwLock<T>) -> String {
    // SAFETY: only reads the state word.
    format!("{:?}", unsafe { lock.raw() })
}

fn writer_claimed<T>(lock: &RwLock<T>) -> bool {
    state(lock).contains("writer: true")
}

fn parked<T>(lock: &RwLock<T>) -> bool {
    state(lock).contains(" parked: true")
}

fn readers<T>(lock: &RwLock<T>) -> usize {
    let s = state(lock);
    s.split("readers: ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Asserts a timed plain read fails and really waited.
fn assert_read_blocks<T>(lock: &RwLock<T>) {
    let start = Instant::now();
    assert!(lock.try_read_for(SHORT).is_none(), "plain read must block");
    assert!(start.elapsed() >= SHORT);
}

#[test]
fn shared_and_exclusive_exclude_each_other() {
    let lock = RwLock::new(0);
    assert!(!lock.is_locked());
    {
        let _a = lock.read();
        let _b = lock.read();
        assert!(lock.is_locked() && !lock.is_locked_exclusive());
        assert_eq!(readers(&lock), 2);
        assert!(lock.try_write().is_none());
        assert!(lock.try_upgradable_read().is_some());
    }
    {
        let _w = lock.write();
        assert!(lock.is_locked_exclusive());
        assert!(lock.try_read().is_none());
        assert!(lock.try_read_recursive().is_none());
        assert!(lock.try_upgradable_read().is_none());
        assert!(lock.try_write().is_none());
    }
    assert!(!lock.is_locked());
    assert_eq!(
        state(&lock),
        "RawRwLock { readers: 0, writer: false, upgradable: false, parked: false, writer_parked: false }"
    );
}

#[test]
fn const_rwlock_in_static() {
    static L: RwLock<u8> = const_rwlock(1);
    *L.write() += 1;
    assert_eq!(*L.read(), 2);
    let _ = RawRwLock::default();
}

/// The rule the checker relies on: a waiting writer blocks new plain readers, even on a
/// thread that already reads (so `read` twice can deadlock), but not recursive readers.
#[test]
fn waiting_writer_blocks_plain_reads_not_recursive_reads() {
    let lock = RwLock::new(0);
    let first = lock.read();
    thread::scope(|s| {
        let writer = s.spawn(|| {
            *lock.write() += 1;
        });
        eventually("the writer to claim the lock", || writer_claimed(&lock));
        assert!(!lock.is_locked_exclusive(), "it waits for our read");

        assert!(lock.try_read().is_none());
        assert_read_blocks(&lock);
        assert!(lock.try_upgradable_read().is_none());
        assert!(lock.try_upgradable_read_for(SHORT).is_none());

        // Recursive reads get in while readers hold the lock.
        let second = lock.read_recursive();
        let third = lock
            .try_read_recursive()
            .expect("recursive read with a waiting writer");
        let fourth = lock
            .try_read_recursive_for(SHORT)
            .expect("timed recursive read");
        assert_eq!(readers(&lock), 4);

        // Another thread's plain read waits for the writer to finish.
        let late_reader = s.spawn(|| *lock.read());

        drop((first, second, third, fourth));
        writer.join().unwrap();
        assert_eq!(
            late_reader.join().unwrap(),
            1,
            "the late reader ran after the writer"
        );
    });
    assert!(!lock.is_locked());
}

#[test]
fn recursive_read_blocks_while_writer_holds() {
    let lock = RwLock::new(());
    let gate = Barrier::new(2);
    thread::scope(|s| {
        s.spawn(|| {
            let _w = lock.write();
            gate.wait();
        });
        eventually("the writer", || lock.is_locked_exclusive());
        assert!(lock.try_read_recursive().is_none());
        let start = Instant::now();
        assert!(lock.try_read_recursive_for(SHORT).is_none());
        assert!(lock
            .try_read_recursive_until(Instant::now() + SHORT)
            .is_none());
        assert!(start.elapsed() >= 2 * SHORT);
        gate.wait();
        let _r = lock.read_recursive();
    });
}

#[test]
fn timed_acquisitions_time_out() {
    let lock = RwLock::new(());
    let w = lock.write();
    thread::scope(|s| {
        s.spawn(|| {
            let start = Instant::now();
            assert!(lock.try_read_for(SHORT).is_none());
            assert!(lock.try_read_until(Instant::now() + SHORT).is_none());
            assert!(lock.try_write_for(SHORT).is_none());
            assert!(lock.try_write_until(Instant::now() + SHORT).is_none());
            assert!(lock.try_upgradable_read_for(SHORT).is_none());
            assert!(lock
                .try_upgradable_read_until(Instant::now() + SHORT)
                .is_none());
            assert!(start.elapsed() >= 6 * SHORT);
        });
    });
    assert!(!parked(&lock), "the last timed-out waiter clears PARKED");
    drop(w);
    assert!(lock.try_write_for(Duration::MAX).is_some());
    assert!(lock.try_read_for(Duration::MAX).is_some());
    assert!(lock.try_upgradable_read_for(Duration::MAX).is_some());
}

/// A writer that times out while waiting for readers must give its claim back and wake the
/// readers that queued behind it.
#[test]
fn writer_timing_out_on_readers_releases_blocked_readers() {
    let lock = RwLock::new(());
    let held = lock.read();
    thread::scope(|s| {
        let writer = s.spawn(|| lock.try_write_for(Duration::from_millis(200)).is_some());
        eventually("the writer to claim the lock", || writer_claimed(&lock));
        let reader = s.spawn(|| {
            let _r = lock.read();
        });
        eventually("the reader to park", || parked(&lock));
        assert!(!writer.join().unwrap(), "the writer must time out");
        reader.join().unwrap();
    });
    assert!(!writer_claimed(&lock));
    drop(held);
    assert!(!lock.is_locked());
    assert!(lock.try_write().is_some());
}

#[test]
fn upgradable_excludes_writers_and_upgradables_admits_readers() {
    let lock = RwLock::new(1);
    let up = lock.upgradable_read();
    assert!(lock.try_upgradable_read().is_none());
    assert!(lock.try_write().is_none());
    assert!(lock.try_write_for(SHORT).is_none());
    {
        let r = lock.try_read().expect("plain readers are admitted");
        assert_eq!(*r + *up, 2);
    }
    let w = Up::try_upgrade(up).expect("no other reader");
    assert!(lock.is_locked_exclusive());
    let up = RwLockWriteGuard::downgrade_to_upgradable(w);
    assert!(lock.try_read().is_some());
    assert!(lock.try_upgradable_read().is_none());
    let r = Up::downgrade(up);
    assert!(lock.try_upgradable_read().is_some());
    drop(r);
    assert!(!lock.is_locked());
}

#[test]
fn upgrade_waits_for_readers() {
    let lock = RwLock::new(0);
    let gate = Barrier::new(2);
    let left = AtomicBool::new(false);
    thread::scope(|s| {
        let up = lock.upgradable_read();
        s.spawn(|| {
            let _r = lock.read();
            gate.wait();
            left.store(true, Ordering::SeqCst);
        });
        eventually("the reader", || readers(&lock) == 2);
        let up = Up::try_upgrade(up).expect_err("a reader is present");
        let start = Instant::now();
        let up = Up::try_upgrade_for(up, SHORT).expect_err("the reader stays");
        let up = Up::try_upgrade_until(up, Instant::now() + SHORT).expect_err("still there");
        assert!(start.elapsed() >= 2 * SHORT);
        // Still upgradable after the failed attempts.
        assert!(lock.try_upgradable_read().is_none());
        assert!(lock.try_read().is_some());
        gate.wait();
        let mut w = Up::upgrade(up);
        assert!(
            left.load(Ordering::SeqCst),
            "upgrade returned before the reader left"
        );
        *w += 1;
        assert!(lock.is_locked_exclusive());
    });
    assert_eq!(*lock.read(), 1);
}

/// An upgrade that times out must give back `WRITER` for `UPGRADABLE` and wake readers that
/// queued behind its claim.
#[test]
fn upgrade_timing_out_releases_blocked_readers() {
    let lock = RwLock::new(());
    let held = lock.read();
    thread::scope(|s| {
        let upgrader = s.spawn(|| {
            let up = lock.upgradable_read();
            let up = Up::try_upgrade_for(up, Duration::from_millis(200)).expect_err("reader");
            // Still upgradable.
            assert!(lock.try_upgradable_read().is_none());
            drop(up);
        });
        eventually("the upgrade to claim the lock", || writer_claimed(&lock));
        let reader = s.spawn(|| {
            let _r = lock.read();
        });
        eventually("the reader to park", || parked(&lock));
        reader.join().unwrap();
        upgrader.join().unwrap();
    });
    drop(held);
    assert!(!lock.is_locked());
}

#[test]
fn downgrade_wakes_parked_readers() {
    let lock = RwLock::new(0);
    let w = lock.write();
    thread::scope(|s| {
        let reader = s.spawn(|| *lock.read());
        eventually("the reader to park", || parked(&lock));
        let mut w = w;
        *w = 7;
        let r = RwLockWriteGuard::downgrade(w);
        assert_eq!(
            reader.join().unwrap(),
            7,
            "the reader got in while we still read"
        );
        drop(r);
    });

    let w = lock.write();
    thread::scope(|s| {
        let reader = s.spawn(|| *lock.read());
        eventually("the reader to park", || parked(&lock));
        let up = RwLockWriteGuard::downgrade_to_upgradable(w);
        assert_eq!(reader.join().unwrap(), 7);
        drop(up);
    });

    let up = lock.upgradable_read();
    thread::scope(|s| {
        let writer = s.spawn(|| *lock.write() = 8);
        eventually("the writer to park", || parked(&lock));
        let r = Up::downgrade(up);
        eventually("the writer to claim the lock", || writer_claimed(&lock));
        drop(r);
        writer.join().unwrap();
    });
    assert_eq!(*lock.read(), 8);
}

/// A fair unlock hands the lock to the waiter without it ever being free.
#[test]
fn fair_unlocks_hand_over() {
    let lock = RwLock::new(());
    let gate = Barrier::new(2);
    let w = lock.write();
    thread::scope(|s| {
        s.spawn(|| {
            let _w = lock.write();
            gate.wait();
        });
        eventually("the writer to park", || parked(&lock));
        RwLockWriteGuard::unlock_fair(w);
        assert!(lock.is_locked_exclusive(), "handed to the waiting writer");
        assert!(lock.try_write().is_none() && lock.try_read().is_none());
        gate.wait();
    });

    let up = lock.upgradable_read();
    thread::scope(|s| {
        s.spawn(|| {
            let _w = lock.upgradable_read();
            gate.wait();
        });
        eventually("the upgradable reader to park", || parked(&lock));
        Up::unlock_fair(up);
        assert!(
            lock.try_upgradable_read().is_none(),
            "handed to the waiting upgradable"
        );
        assert_eq!(readers(&lock), 1);
        gate.wait();
    });

    let w = lock.write();
    thread::scope(|s| {
        s.spawn(|| {
            let _r = lock.read();
            gate.wait();
        });
        eventually("the reader to park", || parked(&lock));
        RwLockWriteGuard::unlock_fair(w);
        assert_eq!(readers(&lock), 1, "handed to the waiting reader");
        RwLockReadGuard::unlock_fair(lock.read_recursive());
        gate.wait();
    });
    assert!(!lock.is_locked());
}

#[test]
fn bumps_let_waiters_run() {
    let lock = RwLock::new(0);
    // Without waiters a bump keeps the lock.
    let mut w = lock.write();
    RwLockWriteGuard::bump(&mut w);
    assert!(lock.is_locked_exclusive());
    thread::scope(|s| {
        s.spawn(|| *lock.write() += 1);
        eventually("the writer to park", || parked(&lock));
        RwLockWriteGuard::bump(&mut w);
        assert_eq!(*w, 1, "the waiting writer ran during the bump");
    });
    drop(w);

    let mut r = lock.read();
    RwLockReadGuard::bump(&mut r);
    thread::scope(|s| {
        s.spawn(|| *lock.write() += 1);
        eventually("the writer to wait for us", || writer_claimed(&lock));
        RwLockReadGuard::bump(&mut r);
        assert_eq!(*r, 2, "the waiting writer ran during the bump");
    });
    drop(r);

    let mut up = lock.upgradable_read();
    Up::bump(&mut up);
    thread::scope(|s| {
        s.spawn(|| *lock.write() += 1);
        eventually("the writer to park", || parked(&lock));
        Up::bump(&mut up);
        assert_eq!(*up, 3, "the waiting writer ran during the bump");
    });
    drop(up);
    assert!(!lock.is_locked());
}

#[test]
fn exclusive_fast_path_and_many_readers() {
    let lock = RwLock::new(0u64);
    thread::scope(|s| {
        for t in 0..4 {
            let lock = &lock;
            s.spawn(move || {
                for i in 0..10_000u64 {
                    if (i + t) % 10 == 0 {
                        *lock.write() += 1;
                    } else {
                        let r = lock.read();
                        assert!(*r <= 4_000);
                    }
                }
            });
        }
    });
    assert_eq!(*lock.read(), 4_000);
}
