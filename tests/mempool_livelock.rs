//! The mempool rule: between taking an element and returning it, no lock may be taken that is
//! ever held while allocating memory. Every scenario runs its halves sequentially (joined
//! threads), so nothing can really hang; each test has its own classes.

use lockdep::mempool::Mempool;
use lockdep::{LockClass, Mode, Mutex, ViolationKind};
use std::sync::Arc;
use std::thread;

fn setup() {
    lockdep::set_mode(Mode::Collect);
}

fn class(name: &str) -> &'static LockClass {
    LockClass::leak(name.to_owned())
}

/// Kinds of the recorded violations that involve `name`.
fn kinds(name: &str) -> Vec<ViolationKind> {
    lockdep::violations()
        .iter()
        .filter(|v| v.involves(name))
        .map(|v| v.kind())
        .collect()
}

fn livelocks(pool: &str, lock: &str) -> usize {
    lockdep::violations()
        .iter()
        .filter(|v| {
            v.kind() == ViolationKind::MempoolLivelock
                && v.involves(pool)
                && v.involves(lock)
                && v.involves("ALLOC")
        })
        .count()
}

fn on_thread(f: impl FnOnce() + Send + 'static) {
    thread::spawn(f).join().unwrap();
}

#[test]
fn element_then_lock_then_lock_held_while_allocating() {
    setup();
    let pool = Arc::new(Mempool::named("ml-order1-pool", 1, || Some(0u32)));
    let b = Arc::new(Mutex::with_class((), class("ml-order1-b")));
    let (p, l) = (Arc::clone(&pool), Arc::clone(&b));
    on_thread(move || {
        let _e = p.alloc();
        let _b = l.lock();
    });
    assert_eq!(livelocks("ml-order1-pool", "ml-order1-b"), 0, "one half only");
    let l = Arc::clone(&b);
    on_thread(move || {
        let _b = l.lock();
        lockdep::might_alloc();
    });
    assert_eq!(livelocks("ml-order1-pool", "ml-order1-b"), 1);
}

#[test]
fn lock_held_while_allocating_then_element_then_lock() {
    setup();
    let pool = Arc::new(Mempool::named("ml-order2-pool", 1, || Some(0u32)));
    let b = Arc::new(Mutex::with_class((), class("ml-order2-b")));
    let l = Arc::clone(&b);
    on_thread(move || {
        let _b = l.lock();
        lockdep::might_alloc();
    });
    assert_eq!(livelocks("ml-order2-pool", "ml-order2-b"), 0, "one half only");
    let (p, l) = (Arc::clone(&pool), Arc::clone(&b));
    on_thread(move || {
        let _e = p.alloc();
        let _b = l.lock();
    });
    assert_eq!(livelocks("ml-order2-pool", "ml-order2-b"), 1);
}

#[test]
fn both_halves_on_one_thread_are_reported_once() {
    setup();
    let pool = Mempool::named("ml-same-pool", 2, || Some(()));
    let b = Mutex::with_class((), class("ml-same-b"));
    for _ in 0..3 {
        {
            let _e = pool.alloc();
            let _b = b.lock();
        }
        let _b = b.lock();
        lockdep::might_alloc();
    }
    assert_eq!(livelocks("ml-same-pool", "ml-same-b"), 1);
}

#[test]
fn indirect_chain_through_another_lock() {
    setup();
    let pool = Arc::new(Mempool::named("ml-indirect-pool", 1, || Some(0u8)));
    let c = Arc::new(Mutex::with_class((), class("ml-indirect-c")));
    let b = Arc::new(Mutex::with_class((), class("ml-indirect-b")));
    let (p, lc, lb) = (Arc::clone(&pool), Arc::clone(&c), Arc::clone(&b));
    on_thread(move || {
        let _e = p.alloc();
        let _c = lc.lock(); // pool → c
        drop(_c);
    });
    let (lc, lb2) = (Arc::clone(&c), Arc::clone(&lb));
    on_thread(move || {
        let _c = lc.lock();
        let _b = lb2.lock(); // c → b
    });
    on_thread(move || {
        let _b = lb.lock();
        lockdep::might_alloc(); // b → ALLOC → pool → c → b
    });
    let found: Vec<_> = lockdep::violations()
        .into_iter()
        .filter(|v| v.involves("ml-indirect-pool"))
        .collect();
    assert_eq!(found.len(), 1);
    let v = &found[0];
    assert_eq!(v.kind(), ViolationKind::MempoolLivelock);
    assert!(v.involves("ml-indirect-c") && v.involves("ml-indirect-b"));
    let text = v.to_string();
    assert!(text.contains("WARNING: possible mempool livelock detected"), "{text}");
    assert!(
        text.contains("ml-indirect-pool --> ml-indirect-c --> ml-indirect-b --> ALLOC --> ml-indirect-pool"),
        "{text}"
    );
    assert!(text.contains("taskA") && text.contains("taskB") && text.contains("taskC"));
    assert!(text.contains("lock held while allocating: ml-indirect-b"), "{text}");
}

#[test]
fn report_names_pool_lock_and_allocation_site() {
    setup();
    let pool = Mempool::named("ml-report-pool", 1, || Some(0u8));
    let b = Mutex::with_class((), class("ml-report-b"));
    drop((pool.alloc(), b.lock()));
    let _b = b.lock();
    lockdep::might_alloc();
    drop(_b);
    let v = lockdep::violations()
        .into_iter()
        .find(|v| v.involves("ml-report-pool"))
        .expect("livelock reported");
    let text = v.to_string();
    assert!(text.contains(" pool: ml-report-pool (created at tests/mempool_livelock.rs:"), "{text}");
    assert!(text.contains("alloc(ml-report-pool) (takes the last element)"), "{text}");
    assert!(text.contains("lock(ml-report-b) (waits for taskB)"), "{text}");
    assert!(text.contains("allocation under that lock at: tests/mempool_livelock.rs:"), "{text}");
    assert!(text.contains("*** LIVELOCK ***"), "{text}");
    let json = v.to_json();
    assert!(json.contains("\"kind\":\"mempool_livelock\""), "{json}");
    assert!(json.contains("\"ml-report-pool\""), "{json}");
}

#[test]
fn reclaim_inversion_without_a_pool_is_a_circular_dependency() {
    // The kernel's classic: a lock taken in reclaim, and memory allocated under it elsewhere.
    setup();
    let shrinker = Arc::new(Mutex::with_class((), class("ml-shrinker-lock")));
    let s = Arc::clone(&shrinker);
    on_thread(move || lockdep::reclaim_scope(|| drop(s.lock())));
    let s = Arc::clone(&shrinker);
    on_thread(move || {
        let _g = s.lock();
        lockdep::might_alloc();
    });
    assert_eq!(kinds("ml-shrinker-lock"), vec![ViolationKind::CircularDependency]);
    let v = lockdep::violations()
        .into_iter()
        .find(|v| v.involves("ml-shrinker-lock"))
        .unwrap();
    assert!(v.involves("ALLOC"));
}

#[test]
fn might_alloc_in_reclaim_is_recursion_unless_noreclaim() {
    // The kernel's three fs_reclaim selftests. ALLOC is one global class, so the three are
    // told apart by whether a RecursiveLock on ALLOC exists after each step.
    setup();
    let recursion = || {
        lockdep::violations()
            .iter()
            .filter(|v| v.kind() == ViolationKind::RecursiveLock && v.involves("ALLOC"))
            .count()
    };
    // "protected nesting" and "correct nesting": no report.
    lockdep::reclaim_scope(|| lockdep::noreclaim_scope(lockdep::might_alloc));
    lockdep::reclaim_scope(|| lockdep::noreclaim_scope(|| lockdep::noreclaim_scope(lockdep::might_alloc)));
    let before = recursion();
    // "wrong nesting": reported (once per process, so maybe by an earlier run of this path).
    lockdep::reclaim_scope(lockdep::might_alloc);
    assert_eq!(recursion(), 1.max(before));
    assert!(recursion() >= 1);
}

#[test]
fn noreclaim_scope_allocation_under_element_is_fine() {
    setup();
    let pool = Mempool::named("ml-noio-pool", 1, || Some(0u8));
    let b = Mutex::with_class((), class("ml-noio-b"));
    {
        let _e = pool.alloc();
        let _b = b.lock();
    }
    {
        let _b = b.lock();
        lockdep::noreclaim_scope(lockdep::might_alloc); // GFP_NOIO under b
    }
    {
        let _e = pool.alloc();
        lockdep::noreclaim_scope(lockdep::might_alloc); // allocating while holding an element
    }
    assert!(kinds("ml-noio-pool").is_empty());
    assert!(kinds("ml-noio-b").is_empty());
}

#[test]
fn allocating_while_holding_an_element_is_reported() {
    // P → ALLOC → P: the I/O path must allocate with GFP_NOIO.
    setup();
    let pool = Mempool::named("ml-gfp-pool", 1, || Some(0u8));
    let _e = pool.alloc();
    lockdep::might_alloc();
    drop(_e);
    assert_eq!(kinds("ml-gfp-pool"), vec![ViolationKind::MempoolLivelock]);
}

#[test]
fn try_alloc_adds_no_dependency_and_is_no_allocation() {
    setup();
    let pool = Mempool::named("ml-try-pool", 1, || Some(0u8));
    let b = Mutex::with_class((), class("ml-try-b"));
    let _b = b.lock();
    lockdep::might_alloc(); // b → ALLOC
    let e = pool.try_alloc().expect("an element"); // no b → pool, no b → ALLOC from it
    drop(e);
    drop(_b);
    assert!(kinds("ml-try-pool").is_empty());
}

#[test]
fn element_held_after_try_alloc_still_orders_later_locks() {
    setup();
    let pool = Mempool::named("ml-tryheld-pool", 1, || Some(0u8));
    let b = Mutex::with_class((), class("ml-tryheld-b"));
    {
        let _e = pool.try_alloc().unwrap();
        let _b = b.lock(); // pool → b: the element is held
    }
    let _b = b.lock();
    lockdep::might_alloc();
    drop(_b);
    assert_eq!(kinds("ml-tryheld-pool"), vec![ViolationKind::MempoolLivelock]);
}

#[test]
fn hand_off_ends_the_hold() {
    setup();
    let pool = Mempool::named("ml-handoff-pool", 1, || Some(0u8));
    let b = Mutex::with_class((), class("ml-handoff-b"));
    {
        let e = pool.alloc();
        e.hand_off();
        let _b = b.lock(); // not pool → b
        drop(e);
    }
    let _b = b.lock();
    lockdep::might_alloc();
    drop(_b);
    assert!(kinds("ml-handoff-pool").is_empty());
}

#[test]
fn element_dropped_on_another_thread_ends_the_hold() {
    setup();
    let pool = Mempool::named("ml-remote-pool", 1, || Some(0u8));
    let b = Mutex::with_class((), class("ml-remote-b"));
    let e = pool.alloc();
    thread::spawn(move || drop(e)).join().unwrap();
    {
        let _b = b.lock(); // the element is gone: not pool → b
    }
    let _b = b.lock();
    lockdep::might_alloc();
    drop(_b);
    assert!(kinds("ml-remote-pool").is_empty());
}

#[test]
fn pool_off_the_reclaim_path_has_no_livelock_but_still_cycles() {
    setup();
    let pool = Mempool::builder(1, || Some(0u8))
        .name("ml-noreclaim-pool")
        .reclaim_path(false)
        .build()
        .unwrap();
    let b = Mutex::with_class((), class("ml-noreclaim-b"));
    {
        let _e = pool.alloc();
        let _b = b.lock();
    }
    {
        let _b = b.lock();
        lockdep::might_alloc();
    }
    assert!(kinds("ml-noreclaim-pool").is_empty(), "not on the reclaim path");
    // An ordinary cycle: holding b, waiting for the pool.
    {
        let _b = b.lock();
        let _e = pool.alloc(); // b → pool closes pool → b → pool
    }
    assert_eq!(kinds("ml-noreclaim-pool"), vec![ViolationKind::CircularDependency]);
}

#[test]
fn pool_recursion_is_reported_but_try_alloc_twice_is_not() {
    setup();
    // Two preallocated elements, then no memory: elements come from the reserve only.
    let budget = std::sync::atomic::AtomicUsize::new(2);
    let pool = Mempool::named("ml-recursion-pool", 2, move || {
        budget
            .fetch_update(
                std::sync::atomic::Ordering::Relaxed,
                std::sync::atomic::Ordering::Relaxed,
                |n| n.checked_sub(1),
            )
            .ok()
            .map(|_| 0u8)
    });
    let a = pool.try_alloc().unwrap();
    let b = pool.try_alloc().unwrap();
    drop((a, b));
    assert!(kinds("ml-recursion-pool").is_empty());
    let a = pool.alloc();
    // A blocking alloc while holding an element of the same pool (as a GFP_NOIO allocation,
    // so that it is not also an allocation under the element).
    let b = lockdep::noreclaim_scope(|| pool.alloc());
    drop((a, b));
    assert_eq!(kinds("ml-recursion-pool"), vec![ViolationKind::PoolRecursion]);
    let v = lockdep::violations()
        .into_iter()
        .find(|v| v.involves("ml-recursion-pool"))
        .unwrap();
    assert!(v.to_string().contains("WARNING: possible mempool recursion detected"));
}

#[test]
fn pool_dropped_with_elements_outstanding_is_reported_not_a_crash() {
    setup();
    let pool = Mempool::named("ml-outstanding-pool", 1, || Some(vec![1u8]));
    let e = pool.alloc();
    drop(pool);
    assert_eq!(e[0], 1, "the element stays valid");
    drop(e);
    assert_eq!(
        kinds("ml-outstanding-pool"),
        vec![ViolationKind::PoolDroppedWithOutstanding]
    );
}
