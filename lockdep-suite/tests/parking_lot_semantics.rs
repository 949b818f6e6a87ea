//! What the parking_lot-only items mean in the graph: upgradable reads, downgrade,
//! `ReentrantMutex`, `FairMutex`, `Once`, and raw locks made by `INIT`. Each test provokes the
//! pattern once with classes of its own and checks the verdict against a control that differs
//! in the one property under test.
#![cfg(feature = "enabled")]

use lockdep::lock_api::{self, RawMutex as _};
use lockdep::{
    FairMutex, Mode, Mutex, Once, RawMutex, ReentrantMutex, RwLock, RwLockUpgradableReadGuard,
    RwLockWriteGuard, ViolationKind,
};

mod common;
use common::{class, kinds};

#[test]
fn upgradable_reads_of_two_locks_in_both_orders_are_a_cycle() {
    lockdep::set_mode(Mode::Collect);
    let a = RwLock::with_class((), class("pl-up-cycle-A"));
    let b = RwLock::with_class((), class("pl-up-cycle-B"));
    drop((a.upgradable_read(), b.upgradable_read()));
    drop((b.upgradable_read(), a.upgradable_read()));
    assert_eq!(
        kinds("pl-up-cycle-A"),
        vec![ViolationKind::CircularDependency]
    );
}

#[test]
fn an_upgradable_read_then_a_writer_is_a_cycle() {
    lockdep::set_mode(Mode::Collect);
    let l = RwLock::with_class((), class("pl-up-writer-L"));
    let m = Mutex::with_class((), class("pl-up-writer-M"));
    drop((l.upgradable_read(), m.lock())); // L (upgradable) → M
    drop((m.lock(), l.write())); // M → L (write): the writer waits for the upgradable reader
    assert_eq!(
        kinds("pl-up-writer-L"),
        vec![ViolationKind::CircularDependency]
    );
}

#[test]
fn a_recursive_reader_does_not_wait_for_an_upgradable_reader() {
    lockdep::set_mode(Mode::Collect);
    let l = RwLock::with_class((), class("pl-up-recursive-L"));
    let m = Mutex::with_class((), class("pl-up-recursive-M"));
    drop((l.upgradable_read(), m.lock())); // L (upgradable, shared) → M
    drop((m.lock(), l.read_recursive())); // M → L (recursive read): never blocked by it
    assert!(kinds("pl-up-recursive-L").is_empty());
}

#[test]
fn two_upgradable_reads_of_one_class_are_ordered_by_instance() {
    lockdep::set_mode(Mode::Collect);
    let shard = class("pl-up-recursive-class");
    let (a, b) = (RwLock::with_class((), shard), RwLock::with_class((), shard));
    drop((a.upgradable_read(), b.upgradable_read())); // one order: fine
    assert!(kinds("pl-up-recursive-class").is_empty());
    // They exclude each other: in both orders, a deadlock between the two locks.
    let _b = b.upgradable_read();
    let _a = a.upgradable_read();
    assert_eq!(
        kinds("pl-up-recursive-class"),
        vec![ViolationKind::CircularDependency]
    );
}

#[test]
fn a_downgraded_write_is_held_as_a_read() {
    lockdep::set_mode(Mode::Collect);
    let m = Mutex::with_class((), class("pl-downgrade-M"));
    // Downgraded before M is taken: L is held shared, so a recursive reader of L under M
    // closes no strong cycle.
    let l = RwLock::with_class((), class("pl-downgrade-L"));
    {
        let r = RwLockWriteGuard::downgrade(l.write());
        let _m = m.lock();
        drop(r);
    }
    drop((m.lock(), l.read_recursive()));
    assert!(kinds("pl-downgrade-L").is_empty());

    // The control: the same with the write still held is a deadlock.
    let w = RwLock::with_class((), class("pl-downgrade-control-W"));
    drop((w.write(), m.lock()));
    drop((m.lock(), w.read_recursive()));
    assert_eq!(
        kinds("pl-downgrade-control-W"),
        vec![ViolationKind::CircularDependency]
    );
}

#[test]
fn an_upgrade_is_validated_as_a_write() {
    lockdep::set_mode(Mode::Collect);
    let l = RwLock::with_class((), class("pl-upgrade-L"));
    let m = Mutex::with_class((), class("pl-upgrade-M"));
    drop((m.lock(), l.read_recursive())); // M → L (recursive read)
    let _m = m.lock();
    let up = l.try_upgradable_read().unwrap(); // a try: no M → L of its own
    drop(RwLockUpgradableReadGuard::upgrade(up)); // waits for readers under M: M → L (write)
    drop(_m);
    drop((l.write(), m.lock())); // L → M
    assert_eq!(
        kinds("pl-upgrade-L"),
        vec![ViolationKind::CircularDependency]
    );
}

#[test]
fn a_recursive_rwlock_reads_recursively() {
    lockdep::set_mode(Mode::Collect);
    use lockdep::RecursiveRwLock;
    let c = class("pl-recursive-class");
    let (a, b) = (
        RecursiveRwLock::with_class((), c),
        RecursiveRwLock::with_class((), c),
    );
    drop((a.read(), b.read(), a.read())); // recursive reads of one class nest
    assert!(kinds("pl-recursive-class").is_empty());
    // L read (recursive) under M, M under L read: no strong cycle (`RwLock::read` would be).
    let l = RecursiveRwLock::with_class((), class("pl-recursive-L"));
    let m = Mutex::with_class((), class("pl-recursive-M"));
    drop((l.read(), m.lock()));
    drop((m.lock(), l.read()));
    assert!(kinds("pl-recursive-L").is_empty());
    drop((m.lock(), l.write())); // a writer under M does close the cycle
    assert_eq!(
        kinds("pl-recursive-L"),
        vec![ViolationKind::CircularDependency]
    );
}

#[test]
fn a_reentrant_mutex_is_reentered_without_report_and_orders_like_a_mutex() {
    lockdep::set_mode(Mode::Collect);
    let r = ReentrantMutex::with_class((), class("pl-remutex-R"));
    let m = Mutex::with_class((), class("pl-remutex-M"));
    {
        let _outer = r.lock();
        let _m = m.lock(); // R → M
        let _again = r.lock(); // a re-entry: not an acquisition, no M → R
    }
    assert!(kinds("pl-remutex-R").is_empty());
    drop((m.lock(), r.lock())); // M → R: with R → M, a cycle
    assert_eq!(
        kinds("pl-remutex-R"),
        vec![ViolationKind::CircularDependency]
    );
}

#[test]
fn two_reentrant_mutexes_of_one_class_are_ordered_by_instance() {
    lockdep::set_mode(Mode::Collect);
    let c = class("pl-remutex-class");
    let (a, b) = (
        ReentrantMutex::with_class((), c),
        ReentrantMutex::with_class((), c),
    );
    drop((a.lock(), b.lock())); // another lock of the class, not a re-entry: ordered
    assert!(kinds("pl-remutex-class").is_empty());
    let _b = b.lock();
    let _a = a.lock(); // and the other way round: a deadlock between the two
    assert_eq!(
        kinds("pl-remutex-class"),
        vec![ViolationKind::CircularDependency]
    );
}

#[test]
fn a_fair_mutex_orders_like_a_mutex() {
    lockdep::set_mode(Mode::Collect);
    let f = FairMutex::with_class((), class("pl-fair-F"));
    let m = Mutex::with_class((), class("pl-fair-M"));
    drop((f.lock(), m.lock()));
    drop((m.lock(), f.lock()));
    assert_eq!(kinds("pl-fair-F"), vec![ViolationKind::CircularDependency]);
}

#[test]
fn waiting_for_an_initialization_that_takes_a_held_lock_is_a_cycle() {
    lockdep::set_mode(Mode::Collect);
    let init = class("pl-once-init");
    let l = Mutex::with_class((), class("pl-once-L"));
    let (first, second) = (Once::with_class(init), Once::with_class(init));
    first.call_once(|| drop(l.lock())); // the initializer takes L: Once → L
    let _l = l.lock();
    second.call_once(|| {}); // with L held, an initialization another thread may be running
    assert_eq!(
        kinds("pl-once-init"),
        vec![ViolationKind::CircularDependency]
    );
}

#[test]
fn a_call_on_a_completed_once_still_depends_on_it() {
    lockdep::set_mode(Mode::Collect);
    let once = Once::with_class(class("pl-once-done"));
    let l = Mutex::with_class((), class("pl-once-done-L"));
    once.call_once(|| drop(l.lock())); // Once → L
    let _l = l.lock();
    // Complete: this call does not wait now, but in another run it could have come first
    // and waited for an initializer that waits for L (as `lockdep::sync`'s `Once`).
    once.call_once(|| unreachable!());
    assert_eq!(
        kinds("pl-once-done"),
        vec![ViolationKind::CircularDependency]
    );
}

#[test]
fn a_completed_once_called_with_no_lock_held_records_nothing() {
    lockdep::set_mode(Mode::Collect);
    let once = Once::with_class(class("pl-once-quiet"));
    let l = Mutex::with_class((), class("pl-once-quiet-L"));
    once.call_once(|| drop(l.lock())); // Once → L
    once.call_once(|| unreachable!());
    drop(l.lock());
    assert!(kinds("pl-once-quiet").is_empty());
}

#[test]
fn an_initializer_that_panics_leaves_nothing_held() {
    lockdep::set_mode(Mode::Collect);
    let once = Once::with_class(class("pl-once-panic"));
    let l = Mutex::with_class((), class("pl-once-panic-L"));
    let panicked = std::panic::catch_unwind(|| once.call_once(|| panic!("init fails")));
    assert!(panicked.is_err());
    // Had the Once stayed on the held stack, this would record Once → L.
    drop(l.lock());
    once.call_once_force(|_| drop(l.lock())); // Once → L, the only dependency
    drop((
        l.lock(),
        Mutex::with_class((), class("pl-once-panic-M")).lock(),
    ));
    assert!(kinds("pl-once-panic").is_empty());
}

/// A mutex made by `Mutex::const_new` from `RawMutex::INIT`, and its class's name (the
/// caller's site, to which `#[track_caller]` passes both).
#[track_caller]
fn const_new_mutex() -> (Mutex<()>, String) {
    let site = std::panic::Location::caller().to_string();
    (Mutex::const_new(RawMutex::INIT, ()), site)
}

#[test]
fn a_raw_lock_made_by_init_gets_a_class_from_const_new_or_its_first_use() {
    lockdep::set_mode(Mode::Collect);
    // `lock_api::Mutex::new` knows no creation site: such a lock's class is where it is first
    // taken, and these two orders are a cycle through M.
    let a: lock_api::Mutex<RawMutex, ()> = lock_api::Mutex::new(());
    let m = Mutex::with_class((), class("pl-init-M"));
    drop((a.lock(), m.lock()));
    drop((m.lock(), a.lock()));
    assert_eq!(kinds("pl-init-M"), vec![ViolationKind::CircularDependency]);
    // `Mutex::const_new` gives an `INIT` raw lock the caller's site.
    let (c, c_class) = const_new_mutex();
    let (d, _) = const_new_mutex();
    drop((c.lock(), d.lock()));
    drop((d.lock(), c.lock()));
    assert_eq!(kinds(&c_class), vec![ViolationKind::CircularDependency]);
}
