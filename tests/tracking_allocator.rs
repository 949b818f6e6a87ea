//! With `TrackingAllocator` as the global allocator, every allocation is `might_alloc()`: a
//! `Vec` growing under a lock that memory reclaim takes is caught with no annotation.
//! (Needs the checker: built without the `enabled` feature there is nothing to test.)
#![cfg(feature = "enabled")]

use lockdep::mempool::Mempool;
use lockdep::{LockClass, Mode, Mutex, ViolationKind};

mod common;
use common::kinds;

#[global_allocator]
static ALLOCATOR: lockdep::TrackingAllocator = lockdep::TrackingAllocator;

static LRU: LockClass = LockClass::new("ta-lru");
static JOURNAL: LockClass = LockClass::new("ta-journal");
static CLEAN: LockClass = LockClass::new("ta-clean");

#[test]
fn vec_growing_under_a_lock_taken_in_reclaim() {
    lockdep::set_mode(Mode::Collect);
    let lru = Mutex::with_class(Vec::<u64>::new(), &LRU);
    lockdep::reclaim_scope(|| {
        let g = lru.lock(); // ALLOC → lru
        drop(g);
    });
    {
        let mut g = lru.lock();
        g.extend(0..1000); // grows: lru → ALLOC
    }
    assert_eq!(kinds("ta-lru"), vec![ViolationKind::CircularDependency]);
}

#[test]
fn vec_growing_under_the_lock_an_element_holder_waits_for() {
    lockdep::set_mode(Mode::Collect);
    let pool = Mempool::named("ta-pool", 1, || Some([0u8; 16]));
    let journal = Mutex::with_class(Vec::<u64>::new(), &JOURNAL);
    {
        let _e = pool.alloc();
        let _j = journal.lock();
    }
    {
        let mut j = journal.lock();
        j.push(1); // allocates under the journal
    }
    assert_eq!(kinds("ta-pool"), vec![ViolationKind::MempoolLivelock]);
}

#[test]
fn allocation_inside_noreclaim_or_without_locks_is_fine() {
    lockdep::set_mode(Mode::Collect);
    let clean = Mutex::with_class(Vec::<u64>::new(), &CLEAN);
    lockdep::reclaim_scope(|| drop(clean.lock()));
    let v: Vec<u64> = (0..100).collect(); // no lock held
    {
        let mut g = clean.lock();
        lockdep::noreclaim_scope(|| g.extend(v.iter().copied()));
    }
    assert!(kinds("ta-clean").is_empty());
}

#[test]
fn threads_start_and_stop_under_the_tracking_allocator() {
    lockdep::set_mode(Mode::Collect);
    let handles: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let m = Mutex::new(vec![i]);
                m.lock().push(i + 1);
                format!("{:?}", *m.lock())
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap().starts_with('['));
    }
}
