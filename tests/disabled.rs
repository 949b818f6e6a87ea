//! Built without the `enabled` feature (`cargo test --no-default-features`): the types are
//! parking_lot's, at the same size, and nothing is checked.
#![cfg(not(feature = "enabled"))]

use lockdep::mempool::Mempool;
use lockdep::{Condvar, Mutex, RwLock};
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
    assert_eq!(size_of::<Condvar>(), size_of::<parking_lot::Condvar>());
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
    let pool = Mempool::new(2, || Some(0u8));
    let e = pool.alloc();
    assert_eq!(pool.free_count(), 2, "the allocator had memory");
    drop(e);
    assert!(pool.try_alloc().is_some());
}
