//! The parking_lot 0.12 API on lockdep's types, item by item: every public item of
//! parking_lot 0.12 (its `lib.rs` re-exports) and every method of `lock_api` 0.4's `Mutex`,
//! `RwLock`, `ReentrantMutex` and their guards, each used the way parking_lot's docs use it,
//! under the names a `parking_lot::…` import gives (only the crate name changed). Compiled and
//! run with and without `enabled`, and with `arc_lock` (the owned guards) and `send_guard`.
//!
//! Each test is one item (or one type's methods); the values asserted are parking_lot's
//! behaviour, so a method that compiles but misbehaves fails here too.

use lockdep::lock_api::{self, GetThreadId as _, RawMutex as _, RawRwLock as _};
use lockdep::{
    const_fair_mutex, const_mutex, const_reentrant_mutex, const_rwlock, Condvar, FairMutex,
    FairMutexGuard, MappedFairMutexGuard, MappedMutexGuard, MappedReentrantMutexGuard,
    MappedRwLockReadGuard, MappedRwLockWriteGuard, Mutex, MutexGuard, Once, OnceState,
    RawFairMutex, RawMutex, RawRwLock, RawThreadId, ReentrantMutex, ReentrantMutexGuard, RwLock,
    RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard, WaitTimeoutResult,
};
use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SHORT: Duration = Duration::from_millis(1);

fn soon() -> Instant {
    Instant::now() + SHORT
}

/// The probe's own acquisitions are all legal: no recorded violation names a lock created in
/// this file. Called at the end of every test (a violation fails whichever test looks first).
fn no_report() {
    let mine: Vec<_> = lockdep::violations()
        .into_iter()
        .filter(|v| v.to_string().contains("tests/parking_lot_api.rs"))
        .collect();
    assert!(mine.is_empty(), "{}", lockdep::report());
}

// ---- Mutex ----------------------------------------------------------------------------

#[test]
fn mutex_constructors() {
    static STATIC: Mutex<u8> = Mutex::new(1);
    static CONST: Mutex<u8> = const_mutex(2);
    static RAW: Mutex<u8> = Mutex::const_new(RawMutex::INIT, 3);
    let from_raw = Mutex::from_raw(RawMutex::INIT, 4);
    let default: Mutex<u8> = Mutex::default();
    let from: Mutex<u8> = Mutex::from(6);
    assert_eq!(
        [
            *STATIC.lock(),
            *CONST.lock(),
            *RAW.lock(),
            *from_raw.lock(),
            *default.lock()
        ],
        [1, 2, 3, 4, 0]
    );
    assert_eq!(from.into_inner(), 6);
    assert_eq!(format!("{:?}", Mutex::new(7)), "Mutex { data: 7 }");
    no_report();
}

#[test]
fn mutex_methods() {
    let mut m = Mutex::new(1);
    *m.get_mut() += 1;
    let g = m.lock();
    assert!(m.is_locked());
    assert!(m.try_lock().is_none());
    drop(g);
    assert!(m.try_lock().is_some());
    assert!(m.try_lock_for(SHORT).is_some());
    assert!(m.try_lock_until(soon()).is_some());
    // SAFETY: the data is read while this thread holds the lock.
    assert_eq!(unsafe { *m.data_ptr() }, 2);
    std::mem::forget(m.lock());
    // SAFETY: locked by the guard forgotten just above, on this thread.
    unsafe { m.force_unlock() };
    std::mem::forget(m.lock());
    // SAFETY: as above.
    unsafe { m.force_unlock_fair() };
    // SAFETY: locked through the raw mutex, on this thread, with no guard.
    let g = unsafe {
        m.raw().lock();
        m.make_guard_unchecked()
    };
    assert_eq!(*g, 2);
    no_report();
}

#[test]
fn mutex_guard_methods() {
    let m = Mutex::new((1, 2));
    let mut g: MutexGuard<'_, (i32, i32)> = m.lock();
    assert!(std::ptr::eq(MutexGuard::mutex(&g).data_ptr(), m.data_ptr()));
    MutexGuard::unlocked(&mut g, || assert!(!m.is_locked()));
    MutexGuard::unlocked_fair(&mut g, || assert!(!m.is_locked()));
    MutexGuard::bump(&mut g);
    g.0 += 10;
    assert_eq!(format!("{g:?}"), "(11, 2)");
    let mapped: MappedMutexGuard<'_, i32> = MutexGuard::map(g, |p| &mut p.1);
    let mapped = MappedMutexGuard::map(mapped, |v| v);
    assert_eq!(*mapped, 2);
    MappedMutexGuard::unlock_fair(mapped);
    assert!(MutexGuard::try_map(m.lock(), |_| None::<&mut i32>).is_err());
    let mapped = MutexGuard::try_map(m.lock(), |p| Some(&mut p.0)).unwrap();
    assert!(MappedMutexGuard::try_map(mapped, |v| Some(v)).is_ok());
    MutexGuard::unlock_fair(m.lock());
    let leaked: &mut (i32, i32) = MutexGuard::leak(m.lock());
    leaked.1 = 3;
    // SAFETY: locked by the leaked guard, on this thread.
    unsafe { m.force_unlock() };
    assert_eq!(*m.lock(), (11, 3));
    assert_eq!(format!("{}", Mutex::new(5).lock()), "5");
    no_report();
}

// ---- FairMutex ------------------------------------------------------------------------

#[test]
fn fair_mutex() {
    static STATIC: FairMutex<u8> = FairMutex::new(1);
    static CONST: FairMutex<u8> = const_fair_mutex(2);
    let raw = FairMutex::const_new(RawFairMutex::INIT, 3);
    let mut m: FairMutex<u8> = FairMutex::default();
    *m.get_mut() = 4;
    assert_eq!(
        [*STATIC.lock(), *CONST.lock(), *raw.lock(), *m.lock()],
        [1, 2, 3, 4]
    );
    let g: FairMutexGuard<'_, u8> = m.lock();
    assert!(m.is_locked() && m.try_lock().is_none());
    let mapped: MappedFairMutexGuard<'_, u8> = FairMutexGuard::map(g, |v| v);
    drop(mapped);
    assert!(m.try_lock_for(SHORT).is_some() && m.try_lock_until(soon()).is_some());
    assert_eq!(FairMutex::from(5).into_inner(), 5);
    assert_eq!(format!("{:?}", FairMutex::new(6)), "Mutex { data: 6 }");
    no_report();
}

// ---- ReentrantMutex -------------------------------------------------------------------

#[test]
fn reentrant_mutex() {
    static STATIC: ReentrantMutex<u8> = ReentrantMutex::new(1);
    static CONST: ReentrantMutex<u8> = const_reentrant_mutex(2);
    let raw = ReentrantMutex::const_new(RawMutex::INIT, RawThreadId::INIT, Cell::new(3));
    assert_eq!([*STATIC.lock(), *CONST.lock()], [1, 2]);
    let outer: ReentrantMutexGuard<'_, Cell<u8>> = raw.lock();
    let inner = raw.lock();
    inner.set(outer.get() + 1);
    assert!(raw.is_locked() && raw.is_owned_by_current_thread());
    assert!(raw.try_lock().is_some());
    assert!(raw.try_lock_for(SHORT).is_some() && raw.try_lock_until(soon()).is_some());
    drop((inner, outer));
    assert!(!raw.is_locked());
    let mut g = raw.lock();
    ReentrantMutexGuard::unlocked(&mut g, || assert!(!raw.is_owned_by_current_thread()));
    ReentrantMutexGuard::unlocked_fair(&mut g, || {});
    ReentrantMutexGuard::bump(&mut g);
    assert!(std::ptr::eq(ReentrantMutexGuard::remutex(&g), &*raw));
    let mapped: MappedReentrantMutexGuard<'_, Cell<u8>> = ReentrantMutexGuard::map(g, |c| c);
    assert_eq!(mapped.get(), 4);
    drop(mapped);
    assert!(ReentrantMutexGuard::try_map(raw.lock(), |_| None::<&u8>).is_err());
    ReentrantMutexGuard::unlock_fair(raw.lock());
    std::mem::forget(raw.lock());
    // SAFETY: locked by the guard forgotten just above, on this thread.
    unsafe { raw.force_unlock() };
    std::mem::forget(raw.lock());
    // SAFETY: as above.
    unsafe { raw.force_unlock_fair() };
    // SAFETY: the data is read while no other thread can hold the lock.
    assert_eq!(unsafe { (*raw.data_ptr()).get() }, 4);
    let mut m = ReentrantMutex::new(5);
    *m.get_mut() += 1;
    assert_eq!(m.into_inner(), 6);
    assert_eq!(ReentrantMutex::<u8>::default().into_inner(), 0);
    assert_eq!(ReentrantMutex::from(7).into_inner(), 7);
    assert!(format!("{:?}", ReentrantMutex::new(8)).contains('8'));
    no_report();
}

#[test]
fn raw_thread_id() {
    use lock_api::GetThreadId;
    let here = RawThreadId::INIT.nonzero_thread_id();
    let there = std::thread::spawn(|| {
        let id = RawThreadId::INIT.nonzero_thread_id();
        // Alive at once with `here`'s thread: the ids differ.
        (id, std::thread::current().id())
    });
    assert_eq!(here, RawThreadId.nonzero_thread_id());
    let (there, _) = there.join().unwrap();
    let _ = there;
    no_report();
}

// ---- RwLock ---------------------------------------------------------------------------

#[test]
fn rwlock_constructors() {
    static STATIC: RwLock<u8> = RwLock::new(1);
    static CONST: RwLock<u8> = const_rwlock(2);
    static RAW: RwLock<u8> = RwLock::const_new(RawRwLock::INIT, 3);
    let from_raw = RwLock::from_raw(RawRwLock::INIT, 4);
    let default: RwLock<u8> = RwLock::default();
    assert_eq!(
        [
            *STATIC.read(),
            *CONST.read(),
            *RAW.read(),
            *from_raw.read(),
            *default.read()
        ],
        [1, 2, 3, 4, 0]
    );
    assert_eq!(RwLock::from(5).into_inner(), 5);
    assert_eq!(format!("{:?}", RwLock::new(6)), "RwLock { data: 6 }");
    no_report();
}

#[test]
fn rwlock_methods() {
    let mut l = RwLock::new(1);
    *l.get_mut() += 1;
    {
        let r = l.read();
        assert!(l.is_locked() && !l.is_locked_exclusive());
        assert!(l.try_write().is_none());
        assert_eq!(
            *r + *l.read_recursive() + *l.try_read_recursive().unwrap(),
            6
        );
        assert!(l.try_read_recursive_for(SHORT).is_some());
        assert!(l.try_read_recursive_until(soon()).is_some());
    }
    {
        let _w = l.write();
        assert!(l.is_locked_exclusive());
        assert!(l.try_read().is_none() && l.try_upgradable_read().is_none());
    }
    assert!(l.try_read().is_some() && l.try_write().is_some());
    assert!(l.try_read_for(SHORT).is_some() && l.try_read_until(soon()).is_some());
    assert!(l.try_write_for(SHORT).is_some() && l.try_write_until(soon()).is_some());
    assert!(l.try_upgradable_read_for(SHORT).is_some());
    assert!(l.try_upgradable_read_until(soon()).is_some());
    // SAFETY: the data is read while no other thread can hold the lock.
    assert_eq!(unsafe { *l.data_ptr() }, 2);
    std::mem::forget(l.read());
    // SAFETY: read-locked by the guard forgotten just above, on this thread.
    unsafe { l.force_unlock_read() };
    std::mem::forget(l.read());
    // SAFETY: as above.
    unsafe { l.force_unlock_read_fair() };
    std::mem::forget(l.write());
    // SAFETY: write-locked by the guard forgotten just above, on this thread.
    unsafe { l.force_unlock_write() };
    std::mem::forget(l.write());
    // SAFETY: as above.
    unsafe { l.force_unlock_write_fair() };
    assert!(!l.is_locked());
    // SAFETY: each is locked through the raw lock, on this thread, with no guard.
    unsafe {
        l.raw().lock_shared();
        drop(l.make_read_guard_unchecked());
        l.raw().lock_exclusive();
        drop(l.make_write_guard_unchecked());
        lock_api::RawRwLockUpgrade::lock_upgradable(l.raw());
        drop(l.make_upgradable_guard_unchecked());
    }
    assert!(!l.is_locked());
    no_report();
}

#[test]
fn rwlock_read_and_write_guards() {
    let l = RwLock::new((1, 2));
    let mut r: RwLockReadGuard<'_, (i32, i32)> = l.read();
    RwLockReadGuard::unlocked(&mut r, || assert!(!l.is_locked()));
    RwLockReadGuard::unlocked_fair(&mut r, || {});
    RwLockReadGuard::bump(&mut r);
    assert!(std::ptr::eq(
        RwLockReadGuard::rwlock(&r).data_ptr(),
        l.data_ptr()
    ));
    let mapped: MappedRwLockReadGuard<'_, i32> = RwLockReadGuard::map(r, |p| &p.0);
    let mapped = MappedRwLockReadGuard::map(mapped, |v| v);
    assert_eq!(*mapped, 1);
    MappedRwLockReadGuard::unlock_fair(mapped);
    assert!(RwLockReadGuard::try_map(l.read(), |_| None::<&i32>).is_err());
    RwLockReadGuard::unlock_fair(l.read());

    let mut w: RwLockWriteGuard<'_, (i32, i32)> = l.write();
    RwLockWriteGuard::unlocked(&mut w, || assert!(!l.is_locked()));
    RwLockWriteGuard::unlocked_fair(&mut w, || {});
    RwLockWriteGuard::bump(&mut w);
    w.0 = 10;
    let r = RwLockWriteGuard::downgrade(w);
    assert_eq!(r.0, 10);
    drop(r);
    let up = RwLockWriteGuard::downgrade_to_upgradable(l.write());
    drop(up);
    let mapped: MappedRwLockWriteGuard<'_, i32> = RwLockWriteGuard::map(l.write(), |p| &mut p.1);
    let mut mapped = MappedRwLockWriteGuard::map(mapped, |v| v);
    *mapped = 20;
    MappedRwLockWriteGuard::unlock_fair(mapped);
    assert!(RwLockWriteGuard::try_map(l.write(), |_| None::<&mut i32>).is_err());
    RwLockWriteGuard::unlock_fair(l.write());
    assert_eq!(*l.read(), (10, 20));
    no_report();
}

#[test]
fn rwlock_upgradable_guard() {
    let l = RwLock::new(1);
    let mut up: RwLockUpgradableReadGuard<'_, i32> = l.upgradable_read();
    assert!(
        l.try_read().is_some(),
        "readers get in beside an upgradable read"
    );
    assert!(l.try_upgradable_read().is_none() && l.try_write().is_none());
    RwLockUpgradableReadGuard::unlocked(&mut up, || assert!(!l.is_locked()));
    RwLockUpgradableReadGuard::unlocked_fair(&mut up, || {});
    RwLockUpgradableReadGuard::bump(&mut up);
    assert!(std::ptr::eq(
        RwLockUpgradableReadGuard::rwlock(&up).data_ptr(),
        l.data_ptr()
    ));
    let mut w = RwLockUpgradableReadGuard::upgrade(up);
    *w = 2;
    let up = RwLockWriteGuard::downgrade_to_upgradable(w);
    let up = RwLockUpgradableReadGuard::try_upgrade(up)
        .map(RwLockWriteGuard::downgrade_to_upgradable)
        .unwrap();
    let up = RwLockUpgradableReadGuard::try_upgrade_for(up, SHORT)
        .map(RwLockWriteGuard::downgrade_to_upgradable)
        .unwrap();
    let mut up = RwLockUpgradableReadGuard::try_upgrade_until(up, soon())
        .map(RwLockWriteGuard::downgrade_to_upgradable)
        .unwrap();
    RwLockUpgradableReadGuard::with_upgraded(&mut up, |v| *v += 1);
    assert_eq!(
        RwLockUpgradableReadGuard::try_with_upgraded(&mut up, |v| *v),
        Some(3)
    );
    assert_eq!(
        RwLockUpgradableReadGuard::try_with_upgraded_for(&mut up, SHORT, |v| *v),
        Some(3)
    );
    assert_eq!(
        RwLockUpgradableReadGuard::try_with_upgraded_until(&mut up, soon(), |v| *v),
        Some(3)
    );
    let r = RwLockUpgradableReadGuard::downgrade(up);
    assert_eq!(*r, 3);
    drop(r);
    RwLockUpgradableReadGuard::unlock_fair(l.upgradable_read());
    assert!(!l.is_locked());
    no_report();
}

// ---- Condvar --------------------------------------------------------------------------

#[test]
fn condvar() {
    static CV: Condvar = Condvar::new();
    let pair = Arc::new((Mutex::new(0), Condvar::default()));
    let pair2 = Arc::clone(&pair);
    let t = std::thread::spawn(move || {
        *pair2.0.lock() = 1;
        pair2.1.notify_all();
    });
    let mut g = pair.0.lock();
    pair.1.wait_while(&mut g, |n| *n == 0);
    assert_eq!(*g, 1);
    t.join().unwrap();
    let r: WaitTimeoutResult = pair.1.wait_for(&mut g, SHORT);
    assert!(r.timed_out());
    assert!(pair.1.wait_until(&mut g, soon()).timed_out());
    assert!(pair
        .1
        .wait_while_for(&mut g, |n| *n == 1, SHORT)
        .timed_out());
    assert!(!pair
        .1
        .wait_while_until(&mut g, |n| *n == 0, soon())
        .timed_out());
    let pair2 = Arc::clone(&pair);
    let t = std::thread::spawn(move || {
        *pair2.0.lock() = 2;
        while !pair2.1.notify_one() {
            std::thread::yield_now();
        }
    });
    pair.1.wait(&mut g);
    while *g != 2 {
        pair.1.wait(&mut g);
    }
    t.join().unwrap();
    assert_eq!((CV.notify_one(), CV.notify_all()), (false, 0));
    assert_eq!(format!("{CV:?}"), "Condvar { .. }");
    no_report();
}

// ---- Once -----------------------------------------------------------------------------

#[test]
fn once() {
    static INIT: Once = Once::new();
    assert_eq!(INIT.state(), OnceState::New);
    let mut runs = 0;
    INIT.call_once(|| runs += 1);
    INIT.call_once(|| runs += 1);
    assert_eq!((runs, INIT.state()), (1, OnceState::Done));
    assert_eq!(OnceState::New, OnceState::New.clone());
    assert!(INIT.state().done() && !INIT.state().poisoned());

    let poisoned = Once::new();
    let panicked = std::panic::catch_unwind(|| poisoned.call_once(|| panic!("init fails")));
    assert!(panicked.is_err());
    assert_eq!(poisoned.state(), OnceState::Poisoned);
    assert!(std::panic::catch_unwind(|| poisoned.call_once(|| {})).is_err());
    poisoned.call_once_force(|state| assert_eq!(state, OnceState::Poisoned));
    assert_eq!(poisoned.state(), OnceState::Done);
    let in_progress = Once::default();
    in_progress.call_once(|| assert_eq!(in_progress.state(), OnceState::InProgress));
    assert!(format!("{in_progress:?}").contains("Done"));
    no_report();
}

// ---- Raw locks for lock_api-level code --------------------------------------------------

#[test]
fn raw_locks_under_lock_api_types() {
    let m: lock_api::Mutex<RawMutex, u8> = lock_api::Mutex::new(1);
    let f: lock_api::Mutex<RawFairMutex, u8> = lock_api::Mutex::new(2);
    let l: lock_api::RwLock<RawRwLock, u8> = lock_api::RwLock::new(3);
    let r: lock_api::ReentrantMutex<RawMutex, RawThreadId, u8> = lock_api::ReentrantMutex::new(4);
    assert_eq!([*m.lock(), *f.lock(), *l.read(), *r.lock()], [1, 2, 3, 4]);
    assert!(m.try_lock_for(SHORT).is_some());
    assert!(l.try_upgradable_read_for(SHORT).is_some());
    no_report();
}

// ---- parking_lot 0.13's additions ------------------------------------------------------

#[test]
fn recursive_rwlock() {
    use lockdep::{
        MappedRecursiveRwLockReadGuard, MappedRecursiveRwLockWriteGuard, RawRwLockRecursive,
        RecursiveRwLock, RecursiveRwLockReadGuard, RecursiveRwLockUpgradableReadGuard,
        RecursiveRwLockWriteGuard,
    };
    let mut l = RecursiveRwLock::new((1, 2));
    l.get_mut().0 = 3;
    let a: RecursiveRwLockReadGuard<'_, (i32, i32)> = l.read();
    let b = l.read();
    assert!(l.try_read().is_some() && l.try_read_for(SHORT).is_some());
    let mapped: MappedRecursiveRwLockReadGuard<'_, i32> =
        RecursiveRwLockReadGuard::map(a, |p| &p.0);
    assert_eq!(*mapped + b.1, 5);
    drop((mapped, b));
    let up: RecursiveRwLockUpgradableReadGuard<'_, (i32, i32)> = l.upgradable_read();
    let w: RecursiveRwLockWriteGuard<'_, (i32, i32)> =
        RecursiveRwLockUpgradableReadGuard::upgrade(up);
    let mut mapped: MappedRecursiveRwLockWriteGuard<'_, i32> =
        RecursiveRwLockWriteGuard::map(w, |p| &mut p.1);
    *mapped = 4;
    drop(mapped);
    let raw = lock_api::RwLock::<RawRwLockRecursive, u8>::new(5);
    assert_eq!(*raw.read() + *raw.read(), 10);
    assert_eq!(RecursiveRwLock::from(6).into_inner(), 6);
    assert_eq!(*RecursiveRwLock::<u8>::default().read(), 0);
    assert_eq!(l.into_inner(), (3, 4));
    no_report();
}

// ---- Send guards (feature `send_guard`) -------------------------------------------------

#[cfg(feature = "send_guard")]
#[test]
fn guards_are_send_with_send_guard() {
    fn assert_send<T: Send>() {}
    assert_send::<MutexGuard<'static, ()>>();
    assert_send::<MappedMutexGuard<'static, ()>>();
    assert_send::<FairMutexGuard<'static, ()>>();
    assert_send::<MappedFairMutexGuard<'static, ()>>();
    assert_send::<RwLockReadGuard<'static, ()>>();
    assert_send::<RwLockWriteGuard<'static, ()>>();
    assert_send::<RwLockUpgradableReadGuard<'static, ()>>();
    assert_send::<MappedRwLockReadGuard<'static, ()>>();
    assert_send::<MappedRwLockWriteGuard<'static, ()>>();
    no_report();
}

// ---- Owned guards (feature `arc_lock`) --------------------------------------------------

#[cfg(feature = "arc_lock")]
mod arc_lock {
    use super::*;
    use lockdep::{
        ArcMutexGuard, ArcReentrantMutexGuard, ArcRwLockReadGuard, ArcRwLockUpgradableReadGuard,
        ArcRwLockWriteGuard,
    };

    #[test]
    fn mutex_arc() {
        let m = Arc::new(Mutex::new(1));
        let mut g: ArcMutexGuard<RawMutex, i32> = m.lock_arc();
        ArcMutexGuard::unlocked(&mut g, || assert!(!m.is_locked()));
        ArcMutexGuard::unlocked_fair(&mut g, || {});
        ArcMutexGuard::bump(&mut g);
        assert!(m.try_lock_arc().is_none());
        let same = Arc::as_ptr(ArcMutexGuard::mutex(&g));
        assert!(std::ptr::eq(same, Arc::as_ptr(&ArcMutexGuard::into_arc(g))));
        let g = m.try_lock_arc().unwrap();
        drop(ArcMutexGuard::into_arc_fair(g));
        ArcMutexGuard::unlock_fair(m.lock_arc());
        assert!(m.try_lock_arc_for(SHORT).is_some() && m.try_lock_arc_until(soon()).is_some());
        let f = Arc::new(FairMutex::new(2));
        assert_eq!(*f.lock_arc(), 2);
        assert!(f.try_lock_arc().is_some() && f.try_lock_arc_for(SHORT).is_some());
        assert!(f.try_lock_arc_until(soon()).is_some());
        no_report();
    }

    #[test]
    fn reentrant_mutex_arc() {
        let m = Arc::new(ReentrantMutex::new(1));
        let a: ArcReentrantMutexGuard<RawMutex, RawThreadId, i32> = m.lock_arc();
        let b = m.try_lock_arc().unwrap();
        let c = m.try_lock_arc_for(SHORT).unwrap();
        let d = m.try_lock_arc_until(soon()).unwrap();
        assert_eq!(*a + *b + *c + *d, 4);
        assert!(Arc::ptr_eq(
            ArcReentrantMutexGuard::remutex(&a),
            ArcReentrantMutexGuard::remutex(&b)
        ));
        drop((a, b, c));
        ArcReentrantMutexGuard::unlock_fair(d);
        assert!(!m.is_locked());
        no_report();
    }

    #[test]
    fn rwlock_arc() {
        let l = Arc::new(RwLock::new(1));
        {
            let r: ArcRwLockReadGuard<RawRwLock, i32> = l.read_arc();
            let r2 = l.read_arc_recursive();
            assert_eq!(*r + *r2, 2);
            assert!(l.try_read_arc().is_some() && l.try_read_recursive_arc().is_some());
            assert!(l.try_read_arc_recursive_for(SHORT).is_some());
            assert!(l.try_read_arc_recursive_until(soon()).is_some());
            assert!(l.try_write_arc().is_none());
        }
        // Timed non-recursive reads, with no read held (a second one could queue behind a
        // writer: reported).
        assert!(l.try_read_arc_for(SHORT).is_some() && l.try_read_arc_until(soon()).is_some());
        let mut w: ArcRwLockWriteGuard<RawRwLock, i32> = l.write_arc();
        *w = 2;
        let r = ArcRwLockWriteGuard::downgrade(w);
        assert_eq!(*r, 2);
        drop(r);
        assert!(l.try_write_arc().is_some() && l.try_write_arc_for(SHORT).is_some());
        assert!(l.try_write_arc_until(soon()).is_some());
        let up: ArcRwLockUpgradableReadGuard<RawRwLock, i32> = l.upgradable_read_arc();
        assert!(l.try_upgradable_read_arc().is_none());
        let w = ArcRwLockUpgradableReadGuard::upgrade(up);
        let up = ArcRwLockWriteGuard::downgrade_to_upgradable(w);
        drop(ArcRwLockUpgradableReadGuard::downgrade(up));
        assert!(l.try_upgradable_read_arc_for(SHORT).is_some());
        assert!(l.try_upgradable_read_arc_until(soon()).is_some());
        assert!(!l.is_locked());
        no_report();
    }
}
