//! With `TrackingAllocator` as the global allocator, every allocation is `might_alloc()`: a
//! `Vec` growing under a lock that memory reclaim takes is caught with no annotation.
//! (Needs the checker: built without the `enabled` feature there is nothing to test.)
#![cfg(feature = "enabled")]

use lockdep::mempool::Mempool;
use lockdep::{LockClass, Mode, Mutex, ViolationKind};

mod common;
use common::json::{parse_json, JsonExt};
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

#[test]
fn an_allocation_is_reported_at_the_users_line_not_the_allocators() {
    lockdep::set_mode(Mode::Collect);
    let class = LockClass::leak("ta-site-L".to_owned());
    let l = Mutex::with_class(Vec::<u64>::new(), class);
    lockdep::reclaim_scope(|| drop(l.lock())); // ALLOC → L
    let line;
    {
        let mut g = l.lock();
        line = line!() + 1;
        g.reserve(4096); // L → ALLOC: closes the cycle, at this line
    }
    let v = lockdep::violations()
        .into_iter()
        .find(|v| v.involves("ta-site-L"))
        .expect("reported");
    let text = v.to_string();
    // The user's frame, resolved: relative to the test's directory.
    let here = format!("{}:{line}", file!());
    assert!(
        text.contains(&format!("(ALLOC), at: {here}")),
        "the trying line names the user's allocation:\n{text}"
    );
    // No site or frame of the checker's own (a frame of `reclaim_scope` between the user's
    // frames is the user's call chain).
    assert!(!text.contains("lockdep-core/src/checker"), "{text}");
    assert!(!text.contains("TrackingAllocator as"), "{text}");
    // The JSON has the same site, as an object.
    let json = parse_json(&v.to_json());
    let site = json.at("trying").at("site");
    assert_eq!(site.at("file").str(), file!(), "{site:?}");
    assert_eq!(site.at("line").num(), u64::from(line), "{site:?}");
}

thread_local! {
    static SCRATCH: std::cell::RefCell<u32> = const { std::cell::RefCell::new(0) };
}

#[test]
fn a_lock_taken_inside_a_thread_local_closure_keeps_its_stack() {
    lockdep::set_mode(Mode::Collect);
    let (a, b) = (
        Mutex::with_class((), LockClass::leak("ta-tls-A".to_owned())),
        Mutex::with_class((), LockClass::leak("ta-tls-B".to_owned())),
    );
    drop((a.lock(), b.lock()));
    // As tokio's runtime does: the acquisition happens inside `LocalKey::with`.
    SCRATCH.with(|s| {
        *s.borrow_mut() += 1;
        let _b = b.lock();
        let _a = a.lock();
    });
    let v = lockdep::violations()
        .into_iter()
        .find(|v| v.involves("ta-tls-A"))
        .expect("reported");
    let text = v.to_string();
    assert!(!text.contains("(no stack trace)"), "{text}");
    // The closure run by `LocalKey::with` (where the lock was taken) is the top user frame.
    assert!(
        text.contains("a_lock_taken_inside_a_thread_local_closure_keeps_its_stack::{{closure}}"),
        "{text}"
    );
}
