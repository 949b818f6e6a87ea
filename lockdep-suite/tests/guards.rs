//! The guard API that `lock_api` supplies over the checked raw locks (map, unlocked, bump,
//! upgradable reads, upgrade, downgrade) keeps the held stack exact: each of these tests
//! fails if the checker's view of what is held drifts from the real locks.
#![cfg(feature = "enabled")]

use lockdep::{
    Condvar, Mode, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockUpgradableReadGuard,
    RwLockWriteGuard, ViolationKind,
};
use std::time::Duration;

mod common;
use common::{class, find, kinds};

#[test]
fn a_mapped_guard_still_holds_the_lock() {
    lockdep::set_mode(Mode::Collect);
    let a = Mutex::with_class((1, 2), class("guards-map-A"));
    let b = Mutex::with_class((), class("guards-map-B"));
    {
        let first = MutexGuard::map(a.lock(), |pair| &mut pair.0);
        assert_eq!(*first, 1);
        a.assert_held();
        let _b = b.lock(); // a → b, through the mapped guard
    }
    a.assert_not_held();
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    assert_eq!(
        kinds("guards-map-A"),
        vec![ViolationKind::CircularDependency]
    );
}

#[test]
fn unlocked_releases_the_lock_for_the_closure() {
    lockdep::set_mode(Mode::Collect);
    let a = Mutex::with_class((), class("guards-unlocked-A"));
    let b = Mutex::with_class((), class("guards-unlocked-B"));
    let mut ga = a.lock();
    MutexGuard::unlocked(&mut ga, || {
        a.assert_not_held();
        let _b = b.lock(); // a is not held: no a → b
    });
    a.assert_held();
    drop(ga);
    {
        let _b = b.lock();
        let _a = a.lock(); // b → a alone: no cycle
    }
    assert!(kinds("guards-unlocked-A").is_empty());
}

#[test]
fn a_bump_is_validated_as_a_relock() {
    lockdep::set_mode(Mode::Collect);
    let a = Mutex::with_class((), class("guards-bump-A"));
    let b = Mutex::with_class((), class("guards-bump-B"));
    let mut ga = a.lock();
    let gb = b.lock(); // a → b
                       // Yielding `a` while `b` is held: taking `a` back waits on it with `b` held (b → a).
    MutexGuard::bump(&mut ga);
    drop(gb);
    drop(ga);
    assert_eq!(
        kinds("guards-bump-A"),
        vec![ViolationKind::CircularDependency]
    );
}

#[test]
fn an_upgrade_is_validated_as_a_write() {
    lockdep::set_mode(Mode::Collect);
    let a = RwLock::with_class(0, class("guards-upgrade-A"));
    let b = Mutex::with_class((), class("guards-upgrade-B"));
    // A reader of `a` that then takes `b`: a(read) → b.
    drop((a.read(), b.lock()));
    let up = a.upgradable_read();
    let gb = b.lock();
    // Waits for `a`'s readers with `b` held: one of them may be waiting for `b`.
    let mut w = RwLockUpgradableReadGuard::upgrade(up);
    *w += 1;
    drop(gb);
    drop(w);
    let v = find("guards-upgrade-A");
    assert_eq!(v.kind(), ViolationKind::CircularDependency);
    assert!(v.involves("guards-upgrade-B"));
}

#[test]
fn an_upgradable_read_is_ordered_like_a_read() {
    lockdep::set_mode(Mode::Collect);
    let a = RwLock::with_class((), class("guards-upgradable-order-A"));
    let b = Mutex::with_class((), class("guards-upgradable-order-B"));
    drop((a.upgradable_read(), b.lock())); // a(read) → b
    {
        let _b = b.lock();
        let _a = a.read_recursive(); // b → a(recursive): not a strong cycle
    }
    assert!(kinds("guards-upgradable-order-A").is_empty());
    {
        let _b = b.lock();
        let _a = a.upgradable_read(); // b → a(read): queues behind a writer
    }
    assert_eq!(
        kinds("guards-upgradable-order-A"),
        vec![ViolationKind::CircularDependency]
    );
}

#[test]
fn a_downgraded_hold_is_a_read() {
    lockdep::set_mode(Mode::Collect);
    let a = RwLock::with_class(1, class("guards-downgrade-A"));
    let r = RwLockWriteGuard::downgrade(a.write());
    // A recursive read over a read hold is fine; over a write hold it would deadlock.
    let again = a.read_recursive();
    assert_eq!(*r + *again, 2);
    drop((again, r));
    a.assert_not_held();
    assert!(kinds("guards-downgrade-A").is_empty());
}

#[test]
fn a_try_upgrade_turns_the_hold_exclusive() {
    lockdep::set_mode(Mode::Collect);
    let class = class("guards-try-upgrade-A");
    let (a, other) = (RwLock::with_class(1, class), RwLock::with_class(2, class));
    let up = a.upgradable_read();
    let _other = other.read_recursive(); // over a read hold of the class: fine
    drop(_other);
    let _w = RwLockUpgradableReadGuard::try_upgrade(up).ok().unwrap();
    // Another lock of the class, as a recursive read over the write hold: ordered after it
    // (over the upgradable read it waited for nothing)...
    let _other = other.read_recursive();
    assert!(kinds("guards-try-upgrade-A").is_empty());
    drop((_other, _w));
    // ...so the other order, which waits for the write hold, is a deadlock.
    let _o = other.write();
    let _a = a.read_recursive();
    assert_eq!(
        kinds("guards-try-upgrade-A"),
        vec![ViolationKind::CircularDependency]
    );
}

#[test]
fn read_guards_of_one_lock_release_one_hold_each() {
    lockdep::set_mode(Mode::Collect);
    let a = RwLock::with_class((), class("guards-two-readers-A"));
    let first = a.read_recursive();
    let second = a.read_recursive();
    drop(first);
    a.assert_held();
    drop(RwLockReadGuard::map(second, |v| v));
    a.assert_not_held();
}

#[test]
fn a_condvar_reacquisition_is_reported_at_the_wait() {
    lockdep::set_mode(Mode::Collect);
    let a = Mutex::with_class((), class("guards-condvar-A"));
    let b = Mutex::with_class((), class("guards-condvar-B"));
    let cv = Condvar::new();
    let mut ga = a.lock();
    let gb = b.lock(); // a → b
                       // `a` is taken again after the wait with `b` held: b → a, at this line.
    let wait_line = line!() + 1;
    let timed_out = cv.wait_for(&mut ga, Duration::from_millis(1)).timed_out();
    assert!(timed_out);
    drop((gb, ga));
    let v = find("guards-condvar-A");
    assert_eq!(v.kind(), ViolationKind::CircularDependency);
    let text = v.to_string();
    assert!(
        text.contains(&format!("{}:{wait_line}:", file!())),
        "the new dependency is at the wait call:\n{text}"
    );
}

#[test]
fn locks_made_by_lock_api_init_are_classed_where_they_are_first_used() {
    lockdep::set_mode(Mode::Collect);
    // `lock_api::Mutex::new` uses the raw lock's `INIT`, which has no creation site: a class
    // is found at the first acquisition, named by the first frame of this file there.
    let a: lock_api::Mutex<lockdep::RawMutex, ()> = lock_api::Mutex::new(());
    let b: lock_api::Mutex<lockdep::RawMutex, ()> = lock_api::Mutex::new(());
    let (a_line, b_line) = (line!() + 1, line!() + 2);
    let first_a = a.lock();
    let first_b = b.lock();
    drop((first_b, first_a));
    drop((b.lock(), a.lock()));
    // Named by a resolved frame, whose path is relative to the test's directory.
    let a_class = format!("{}:{a_line}:", file!());
    let b_class = format!("{}:{b_line}:", file!());
    let found: Vec<_> = lockdep::violations()
        .into_iter()
        .filter(|v| {
            v.classes().iter().any(|c| c.starts_with(&a_class))
                && v.classes().iter().any(|c| c.starts_with(&b_class))
        })
        .collect();
    assert_eq!(found.len(), 1, "{}", lockdep::report());
    assert_eq!(found[0].kind(), ViolationKind::CircularDependency);
    assert!(a.try_lock().is_some());
}
