//! Mempool behaviour as in the kernel's mm/mempool.c: preallocation, the order of sources,
//! waiting for a returned element, resize and timeouts.

use lockdep::mempool::Mempool;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// An allocation function with a budget of `n` objects, numbered from 0.
fn budget(
    n: usize,
) -> (
    Arc<AtomicUsize>,
    impl Fn() -> Option<usize> + Send + Sync + 'static,
) {
    let made = Arc::new(AtomicUsize::new(0));
    let m = Arc::clone(&made);
    (made, move || {
        m.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |k| {
            (k < n).then_some(k + 1)
        })
        .ok()
    })
}

#[test]
fn preallocates_min_nr() {
    let (made, alloc) = budget(100);
    let pool = Mempool::named("ms-prealloc", 3, alloc);
    assert_eq!(made.load(Ordering::Relaxed), 3);
    assert_eq!(
        (pool.min_nr(), pool.free_count(), pool.outstanding()),
        (3, 3, 0)
    );
}

#[test]
fn creation_fails_cleanly_without_memory() {
    let (_, alloc) = budget(1);
    let err = Mempool::builder(2, alloc)
        .name("ms-nomem")
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "mempool: could preallocate only 1 of 2 elements"
    );
}

#[test]
fn allocator_first_then_reserve() {
    let (made, alloc) = budget(3);
    let pool = Mempool::named("ms-order", 2, alloc);
    let a = pool.alloc(); // the allocator still has memory
    assert_eq!(*a, 2);
    assert_eq!(pool.free_count(), 2);
    let b = pool.alloc(); // now from the reserve
    assert_eq!(pool.free_count(), 1);
    assert!(*b < 2);
    assert_eq!(made.load(Ordering::Relaxed), 3);
    drop(a); // reserve below min_nr: refilled
    assert_eq!(pool.free_count(), 2);
    drop(b); // reserve full: freed
    assert_eq!(pool.free_count(), 2);
}

#[test]
fn free_callback_gets_what_the_full_reserve_does_not_keep() {
    let freed = Arc::new(AtomicUsize::new(0));
    let f = Arc::clone(&freed);
    let pool = Mempool::builder(1, || Some(7u8))
        .name("ms-free")
        .free(move |v| {
            assert_eq!(v, 7);
            f.fetch_add(1, Ordering::Relaxed);
        })
        .build()
        .unwrap();
    drop(pool.alloc());
    assert_eq!(freed.load(Ordering::Relaxed), 1);
    drop(pool); // the reserve is freed too
    assert_eq!(freed.load(Ordering::Relaxed), 2);
}

#[test]
fn blocked_alloc_is_woken_by_a_free() {
    let (_, alloc) = budget(1);
    let pool = Arc::new(Mempool::named("ms-wake", 1, alloc));
    let held = pool.alloc();
    let p = Arc::clone(&pool);
    let waiter = thread::spawn(move || {
        let e = p.alloc(); // blocks: no memory, empty reserve
        (*e, Instant::now())
    });
    thread::sleep(Duration::from_millis(50));
    assert!(
        !waiter.is_finished(),
        "alloc must wait for a returned element"
    );
    let freed = Instant::now();
    drop(held);
    let (value, woke) = waiter.join().unwrap();
    assert_eq!(value, 0);
    // Woken by the free, not by the allocator retry period (200 ms).
    let waited = woke.saturating_duration_since(freed);
    assert!(waited < Duration::from_millis(150), "waited {waited:?}");
}

#[test]
fn alloc_timeout_gives_up() {
    let (_, alloc) = budget(1);
    let pool = Mempool::named("ms-timeout", 1, alloc);
    let _held = pool.alloc();
    let start = Instant::now();
    assert!(pool.alloc_timeout(Duration::from_millis(30)).is_none());
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(30) && waited < Duration::from_secs(2));
    assert!(pool.try_alloc().is_none());
}

#[test]
fn resize_grows_and_shrinks() {
    let (made, alloc) = budget(5);
    let freed = Arc::new(AtomicUsize::new(0));
    let f = Arc::clone(&freed);
    let pool = Mempool::builder(2, alloc)
        .name("ms-resize")
        .free(move |_| {
            f.fetch_add(1, Ordering::Relaxed);
        })
        .build()
        .unwrap();
    pool.resize(4).unwrap();
    assert_eq!((pool.min_nr(), pool.free_count()), (4, 4));
    assert_eq!(made.load(Ordering::Relaxed), 4);
    assert!(pool.resize(7).is_err(), "only one more object can be made");
    assert_eq!((pool.min_nr(), pool.free_count()), (4, 4));
    assert_eq!(
        freed.load(Ordering::Relaxed),
        1,
        "the partial growth is undone"
    );
    // The allocator is exhausted: these three come from the reserve.
    let taken: Vec<_> = (0..3).map(|_| pool.alloc()).collect();
    assert_eq!(pool.free_count(), 1);
    pool.resize(1).unwrap();
    assert_eq!((pool.min_nr(), pool.free_count()), (1, 1));
    drop(taken);
    assert_eq!(pool.free_count(), 1, "returns beyond min_nr are freed");
    assert_eq!(freed.load(Ordering::Relaxed), 4);
    pool.resize(0).unwrap();
    assert_eq!((pool.min_nr(), pool.free_count()), (0, 0));
    assert_eq!(freed.load(Ordering::Relaxed), 5);
}

#[test]
fn elements_travel_between_threads() {
    let pool = Arc::new(Mempool::named("ms-send", 4, || Some(String::from("x"))));
    let elements: Vec<_> = (0..4).map(|_| pool.try_alloc().unwrap()).collect();
    assert_eq!(pool.outstanding(), 4);
    thread::spawn(move || {
        for mut e in elements {
            e.push('y');
            assert_eq!(&*e, "xy");
        }
    })
    .join()
    .unwrap();
    assert_eq!(pool.outstanding(), 0);
}

#[test]
fn into_inner_takes_the_object_for_good() {
    let pool = Mempool::named("ms-into-inner", 1, || Some(vec![1, 2, 3]));
    let v = pool.alloc().into_inner();
    assert_eq!(v, vec![1, 2, 3]);
    assert_eq!(pool.outstanding(), 0);
    assert_eq!(pool.free_count(), 1);
}

#[test]
fn try_alloc_never_blocks_and_prefers_the_allocator() {
    let (made, alloc) = budget(2);
    let pool = Mempool::named("ms-try", 1, alloc);
    let a = pool.try_alloc().expect("from the allocator");
    assert_eq!((*a, pool.free_count()), (1, 1));
    let b = pool.try_alloc().expect("from the reserve");
    assert_eq!((*b, pool.free_count()), (0, 0));
    let start = Instant::now();
    assert!(pool.try_alloc().is_none());
    assert!(start.elapsed() < Duration::from_millis(100));
    assert_eq!(made.load(Ordering::Relaxed), 2);
}

#[test]
fn alloc_timeout_gets_an_element_returned_while_waiting() {
    let (_, alloc) = budget(1);
    let pool = Arc::new(Mempool::named("ms-timeout-ok", 1, alloc));
    let held = pool.alloc();
    let p = Arc::clone(&pool);
    let waiter = thread::spawn(move || p.alloc_timeout(Duration::from_secs(10)).map(|e| *e));
    thread::sleep(Duration::from_millis(30));
    drop(held);
    assert_eq!(waiter.join().unwrap(), Some(0));
    // A timeout too large for Instant is "forever", not a panic.
    assert!(pool.alloc_timeout(Duration::MAX).is_some());
}

#[test]
fn growing_the_reserve_wakes_a_blocked_alloc() {
    // The allocator has memory again only after the pool ran dry.
    let memory = Arc::new(AtomicUsize::new(1));
    let m = Arc::clone(&memory);
    let pool = Arc::new(Mempool::named("ms-resize-wake", 1, move || {
        m.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |k| k.checked_sub(1))
            .ok()
    }));
    let held = pool.alloc();
    let p = Arc::clone(&pool);
    let waiter = thread::spawn(move || {
        drop(p.alloc());
        Instant::now()
    });
    thread::sleep(Duration::from_millis(50));
    assert!(!waiter.is_finished());
    // Enough for the new reserve even if the waiter's periodic retry of the allocator wins
    // one of them.
    memory.store(3, Ordering::Relaxed);
    let resized = Instant::now();
    // Fills the empty reserve (its element is held) up to 2 and wakes the waiter.
    pool.resize(2).unwrap();
    let woke = waiter.join().unwrap();
    let waited = woke.saturating_duration_since(resized);
    assert!(waited < Duration::from_millis(150), "waited {waited:?}");
    drop(held);
    assert_eq!(pool.min_nr(), 2);
}

#[test]
fn many_waiters_share_a_small_reserve_without_lost_wakeups() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 200;
    let (_, alloc) = budget(2);
    let pool = Arc::new(Mempool::named("ms-contended", 2, alloc));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let p = Arc::clone(&pool);
            thread::spawn(move || {
                for _ in 0..ROUNDS {
                    let e = p
                        .alloc_timeout(Duration::from_secs(20))
                        .expect("an element");
                    assert!(*e < 2);
                    drop(e);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!((pool.free_count(), pool.outstanding()), (2, 0));
}

#[test]
fn elements_outlive_their_pool() {
    let freed = Arc::new(AtomicUsize::new(0));
    let f = Arc::clone(&freed);
    let pool = Mempool::builder(2, || Some(String::from("still here")))
        .name("ms-outlive")
        .free(move |_| {
            f.fetch_add(1, Ordering::Relaxed);
        })
        .build()
        .unwrap();
    let a = pool.alloc();
    let b = pool.alloc();
    drop(pool); // reported as a bookkeeping fault when the checker is on; never a crash
    assert_eq!(&*a, "still here");
    thread::spawn(move || drop(a)).join().unwrap();
    drop(b);
    // The pool's reserve (2) and the two elements (returned to a closed pool) are all freed.
    assert_eq!(freed.load(Ordering::Relaxed), 4);
}

#[test]
fn element_is_send_and_sync_when_t_is() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<lockdep::mempool::Element<Vec<u8>>>();
    send_sync::<Mempool<Vec<u8>>>();
}
