//! The mempool rule: between taking an element and returning it, no lock may be taken that is
//! ever held while allocating memory. Every scenario runs its halves sequentially (joined
//! threads), so nothing can really hang; each test has its own classes.
//! (Needs the checker: built without the `enabled` feature there is nothing to test.)
#![cfg(feature = "enabled")]

use lockdep::mempool::Mempool;
use lockdep::{Mode, Mutex, ViolationKind};
use std::sync::Arc;
use std::thread;

mod common;
use common::{class, kinds};

fn setup() {
    lockdep::set_mode(Mode::Collect);
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
    assert_eq!(
        livelocks("ml-order1-pool", "ml-order1-b"),
        0,
        "one half only"
    );
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
    assert_eq!(
        livelocks("ml-order2-pool", "ml-order2-b"),
        0,
        "one half only"
    );
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
    assert!(
        text.contains("WARNING: possible mempool livelock detected"),
        "{text}"
    );
    assert!(
        text.contains(
            "ml-indirect-pool --> ml-indirect-c --> ml-indirect-b --> ALLOC --> ml-indirect-pool"
        ),
        "{text}"
    );
    assert!(text.contains("taskA") && text.contains("taskB") && text.contains("taskC"));
    assert!(
        text.contains("lock held while allocating: ml-indirect-b"),
        "{text}"
    );
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
    assert!(
        text.contains(&format!(" pool: ml-report-pool (created at {}:", file!())),
        "{text}"
    );
    assert!(
        text.contains("alloc(ml-report-pool) (takes the last element)"),
        "{text}"
    );
    assert!(
        text.contains("lock(ml-report-b) (waits for taskB)"),
        "{text}"
    );
    assert!(
        text.contains(&format!("allocation under that lock at: {}:", file!())),
        "{text}"
    );
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
    assert_eq!(
        kinds("ml-shrinker-lock"),
        vec![ViolationKind::CircularDependency]
    );
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
    lockdep::reclaim_scope(|| {
        lockdep::noreclaim_scope(|| lockdep::noreclaim_scope(lockdep::might_alloc))
    });
    // This is the only test of this binary that allocates inside reclaim_scope.
    assert_eq!(
        recursion(),
        0,
        "noreclaim_scope inside reclaim_scope is fine"
    );
    // "wrong nesting": reported.
    lockdep::reclaim_scope(lockdep::might_alloc);
    assert_eq!(recursion(), 1);
    let v = lockdep::violations()
        .into_iter()
        .find(|v| v.kind() == ViolationKind::RecursiveLock && v.involves("ALLOC"))
        .unwrap();
    let text = v.to_string();
    assert!(
        text.contains("WARNING: possible recursive locking detected"),
        "{text}"
    );
    assert!(text.contains("noreclaim_scope()"), "{text}");
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
    let v = lockdep::violations()
        .into_iter()
        .find(|v| v.involves("ml-gfp-pool"))
        .unwrap();
    let text = v.to_string();
    assert!(
        text.contains("ml-gfp-pool --> ALLOC --> ml-gfp-pool"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "allocation while holding an element at: {}:",
            file!()
        )),
        "{text}"
    );
    assert!(text.contains("inside noreclaim_scope()"), "{text}");
}

#[test]
fn try_alloc_adds_no_dependency_and_is_no_allocation() {
    setup();
    let pool = Mempool::named("ml-try-pool", 1, || Some(0u8));
    let b = Mutex::with_class((), class("ml-try-b"));
    {
        let _e = pool.alloc();
        let _b = b.lock(); // pool → b
    }
    {
        let _b = b.lock();
        // A blocking alloc() here would close pool → b → pool (and, as an allocation,
        // b → ALLOC → pool). try_alloc() cannot wait and does not enter reclaim.
        let e = pool.try_alloc().expect("an element");
        drop(e);
    }
    assert!(kinds("ml-try-pool").is_empty());
    assert!(kinds("ml-try-b").is_empty());
    // The same with a blocking alloc() is reported: the test above is not vacuous.
    {
        let _b = b.lock();
        drop(lockdep::noreclaim_scope(|| pool.alloc()));
    }
    assert_eq!(kinds("ml-try-b"), vec![ViolationKind::CircularDependency]);
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
    assert_eq!(
        kinds("ml-tryheld-pool"),
        vec![ViolationKind::MempoolLivelock]
    );
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
    assert!(
        kinds("ml-noreclaim-pool").is_empty(),
        "not on the reclaim path"
    );
    // An ordinary cycle: holding b, waiting for the pool.
    {
        let _b = b.lock();
        let _e = pool.alloc(); // b → pool closes pool → b → pool
    }
    assert_eq!(
        kinds("ml-noreclaim-pool"),
        vec![ViolationKind::CircularDependency]
    );
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
    assert_eq!(
        kinds("ml-recursion-pool"),
        vec![ViolationKind::PoolRecursion]
    );
    let v = lockdep::violations()
        .into_iter()
        .find(|v| v.involves("ml-recursion-pool"))
        .unwrap();
    assert!(v
        .to_string()
        .contains("WARNING: possible mempool recursion detected"));
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

#[test]
fn one_of_two_elements_dropped_elsewhere_keeps_the_hold() {
    setup();
    let pool = Mempool::named("ml-two-pool", 2, || Some(0u8));
    let b = Mutex::with_class((), class("ml-two-b"));
    let first = pool.alloc();
    let second = lockdep::noreclaim_scope(|| pool.try_alloc()).unwrap();
    thread::spawn(move || drop(first)).join().unwrap();
    second.hand_off();
    second.hand_off(); // idempotent: the hold is released once
                       // Both released: nothing held, no pool → b.
    drop(b.lock());
    let _b = b.lock();
    lockdep::might_alloc();
    drop(_b);
    assert!(kinds("ml-two-pool").is_empty());

    let third = pool.try_alloc().unwrap();
    let fourth = pool.try_alloc().unwrap();
    thread::spawn(move || drop(third)).join().unwrap();
    // One element is still held: b under it is pool → b, closing pool → b → ALLOC → pool.
    drop(b.lock());
    drop((second, fourth));
    assert_eq!(kinds("ml-two-pool"), vec![ViolationKind::MempoolLivelock]);
}

#[test]
fn livelock_is_reported_in_json_and_once() {
    setup();
    let pool = Arc::new(Mempool::named("ml-json-pool", 1, || Some(0u8)));
    let b = Arc::new(Mutex::with_class((), class("ml-json-b")));
    for _ in 0..2 {
        let (p, l) = (Arc::clone(&pool), Arc::clone(&b));
        on_thread(move || drop((p.alloc(), l.lock())));
        let l = Arc::clone(&b);
        on_thread(move || {
            let _b = l.lock();
            lockdep::might_alloc();
        });
    }
    assert_eq!(livelocks("ml-json-pool", "ml-json-b"), 1);
    let v = lockdep::violations()
        .into_iter()
        .find(|v| v.involves("ml-json-pool"))
        .unwrap();
    let json = v.to_json();
    assert!(json.contains("\"kind\":\"mempool_livelock\""), "{json}");
    assert!(json.contains("\"ml-json-b\""), "{json}");
    assert!(json.contains("\"ALLOC\""), "{json}");
}

#[test]
fn pool_used_inside_reclaim_scope_joins_the_livelock_even_off_the_reclaim_path() {
    // Reclaim (a shrinker) takes its lock, then allocates from the pool: ALLOC → s → pool,
    // learnt from what reclaim did rather than declared.
    setup();
    let pool = Arc::new(
        Mempool::builder(1, || Some(0u8))
            .name("ml-shrink-pool")
            .reclaim_path(false)
            .build()
            .unwrap(),
    );
    let s = Arc::new(Mutex::with_class((), class("ml-shrink-s")));
    let b = Arc::new(Mutex::with_class((), class("ml-shrink-b")));
    let (p, l) = (Arc::clone(&pool), Arc::clone(&s));
    on_thread(move || {
        lockdep::reclaim_scope(|| {
            let _s = l.lock();
            drop(p.alloc());
        })
    });
    let (p, l) = (Arc::clone(&pool), Arc::clone(&b));
    on_thread(move || drop((p.alloc(), l.lock())));
    assert!(kinds("ml-shrink-pool").is_empty(), "one half only");
    let l = Arc::clone(&b);
    on_thread(move || {
        let _b = l.lock();
        lockdep::might_alloc();
    });
    assert_eq!(
        kinds("ml-shrink-pool"),
        vec![ViolationKind::MempoolLivelock]
    );
    let v = lockdep::violations()
        .into_iter()
        .find(|v| v.involves("ml-shrink-pool"))
        .unwrap();
    assert!(v.involves("ml-shrink-s") && v.involves("ml-shrink-b"));
    let text = v.to_string();
    assert!(
        text.contains(
            "ml-shrink-pool --> ml-shrink-b --> ALLOC --> ml-shrink-s --> ml-shrink-pool"
        ),
        "{text}"
    );
    assert!(text.contains("lock(ml-shrink-s) (reclaim)"), "{text}");
    assert!(
        text.contains(&format!(
            "taken in memory reclaim: ml-shrink-s at: {}:",
            file!()
        )),
        "{text}"
    );
}
