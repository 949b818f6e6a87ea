//! Built without the `enabled` feature (`cargo test --no-default-features`): the types are
//! parking_lot's, at the same size, and nothing is checked.
#![cfg(not(feature = "enabled"))]

use lockdep::mempool::Mempool;
use lockdep::{Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::mem::size_of;

#[test]
fn same_size_as_parking_lot() {
    assert_eq!(
        size_of::<Mutex<u64>>(),
        size_of::<parking_lot::Mutex<u64>>()
    );
    assert_eq!(size_of::<Mutex<()>>(), size_of::<parking_lot::Mutex<()>>());
    assert_eq!(
        size_of::<RwLock<[u8; 24]>>(),
        size_of::<parking_lot::RwLock<[u8; 24]>>()
    );
    assert_eq!(
        size_of::<RwLock<u64>>(),
        size_of::<parking_lot::RwLock<u64>>()
    );
    assert_eq!(size_of::<Condvar>(), size_of::<parking_lot::Condvar>());
    // Guards too, and `Option<MutexGuard>` keeps its niche.
    assert_eq!(
        size_of::<MutexGuard<'_, u64>>(),
        size_of::<parking_lot::MutexGuard<'_, u64>>()
    );
    assert_eq!(
        size_of::<Option<MutexGuard<'_, u64>>>(),
        size_of::<parking_lot::MutexGuard<'_, u64>>()
    );
    assert_eq!(
        size_of::<RwLockReadGuard<'_, u64>>(),
        size_of::<parking_lot::RwLockReadGuard<'_, u64>>()
    );
    assert_eq!(
        size_of::<RwLockWriteGuard<'_, u64>>(),
        size_of::<parking_lot::RwLockWriteGuard<'_, u64>>()
    );
}

#[test]
fn nothing_is_checked_not_even_in_panic_mode() {
    lockdep::set_mode(lockdep::Mode::Panic);
    let x = lockdep::LockClass::new("disabled-X");
    let x: &'static lockdep::LockClass = Box::leak(Box::new(x));
    let (x1, x2) = (Mutex::with_class(1, x), Mutex::with_class(2, x));
    let sum = *x1.lock() + *x2.lock(); // AA of a class: not even looked at
    assert_eq!(sum, 3);
    let l = RwLock::new(());
    {
        let _r1 = l.read();
        let _r2 = l.read(); // rsem AA: nothing (and no writer, so no real deadlock)
    }
    x1.assert_held(); // annotations are no-ops
    x1.might_lock();
    assert!(lockdep::violations().is_empty());
    assert_eq!(lockdep::report(), "");
    assert_eq!(lockdep::take_violations().len(), 0);
}

#[test]
fn nothing_is_checked() {
    let (a, b) = (Mutex::new(()), Mutex::new(()));
    drop((a.lock(), b.lock()));
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    lockdep::assert_no_violations();
    assert!(lockdep::violations().is_empty());
    assert_eq!(lockdep::mode(), lockdep::Mode::Off);
    assert_eq!(lockdep::graph_json(), "{\"classes\":[],\"edges\":[]}");
}

#[test]
fn locks_and_pools_still_work() {
    let m = Mutex::new(1);
    *m.lock() += 1;
    assert_eq!(m.into_inner(), 2);
    let r = RwLock::new(5);
    assert_eq!(*r.read() + *r.read_recursive(), 10);
    let (m2, cv) = (Mutex::new(false), Condvar::new());
    let mut g = m2.lock();
    assert!(cv
        .wait_for(&mut g, std::time::Duration::from_millis(1))
        .timed_out());
    drop(g);
    let pool = Mempool::new(2, || Some(0u8));
    let e = pool.alloc();
    assert_eq!(pool.free_count(), 2, "the allocator had memory");
    drop(e);
    assert!(pool.try_alloc().is_some());
    // Hand-over between threads: both calls are no-ops, and the hold takes no room.
    let e = pool.alloc();
    e.hand_off();
    std::thread::spawn(move || {
        let mut e = e;
        e.adopt();
        *e += 1;
    })
    .join()
    .unwrap();
    assert_eq!(
        size_of::<lockdep::mempool::Element<u64>>(),
        size_of::<(u64, std::sync::Arc<()>)>()
    );
}

#[test]
fn sync_is_std_sync_itself() {
    // Type ascriptions: each `lockdep::sync` item is std's own, not a look-alike.
    let _: std::sync::Mutex<u8> = lockdep::sync::Mutex::new(0);
    let _: std::sync::RwLock<u8> = lockdep::sync::RwLock::new(0);
    let _: std::sync::Condvar = lockdep::sync::Condvar::new();
    let _: std::sync::Once = lockdep::sync::Once::new();
    let _: std::sync::OnceLock<u8> = lockdep::sync::OnceLock::new();
    let _: std::sync::LazyLock<u8> = lockdep::sync::LazyLock::new(|| 0);
    let _: std::sync::Arc<u8> = lockdep::sync::Arc::new(0);
}

/// A child that calls `lockdep::violations()` as a test of a suite does (nothing without
/// `TEST_LOCKDEP_TEST_CHILD`).
#[test]
fn child_reads_the_violations() {
    if std::env::var_os("TEST_LOCKDEP_TEST_CHILD").is_none() {
        return;
    }
    assert!(lockdep::violations().is_empty());
    lockdep::assert_no_violations();
}

#[test]
fn lockdep_variables_for_a_compiled_out_checker_are_said_once_past_the_harness() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_reads_the_violations", "--test-threads=1"])
        .env("TEST_LOCKDEP_TEST_CHILD", "1")
        .env("LOCKDEP_MODE", "panic")
        .env_remove("LOCKDEP_REPORT_DIR")
        .env_remove("LOCKDEP_EXIT_REPORT")
        .env_remove("LOCKDEP_EXIT_CODE")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let said: Vec<&str> = err.lines().filter(|l| l.starts_with("lockdep: ")).collect();
    assert_eq!(said.len(), 1, "{err}");
    assert!(
        said[0].starts_with(
            "lockdep: LOCKDEP_MODE is set, but this build of lockdep has no checker (its `enabled` feature is off)"
        ),
        "{err}"
    );
}
