//! Waits for events in the graph (book/src/waits.md): a thread that waits on a condition variable
//! while holding a lock its notifier takes on the way to the notify. Each scenario runs its
//! halves one after the other (timed waits, joined threads), so nothing can hang; each test has
//! its own classes, and its condition variables their own creation sites.
#![cfg(feature = "enabled")]

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use lockdep::{Condvar, Mode, Mutex, ViolationKind};

mod common;
use common::class;

fn setup() {
    lockdep::set_mode(Mode::Collect);
}

/// Wait-deadlock reports that name `lock`.
fn wait_deadlocks(lock: &str) -> usize {
    lockdep::violations()
        .iter()
        .filter(|v| v.kind() == ViolationKind::WaitDeadlock && v.involves(lock))
        .count()
}

/// Any report that names `lock`.
fn reports(lock: &str) -> usize {
    lockdep::violations()
        .iter()
        .filter(|v| v.involves(lock))
        .count()
}

fn on_thread(f: impl FnOnce() + Send + 'static) {
    thread::spawn(f).join().unwrap();
}

/// One timed wait on `cv` (with `m`) while holding `outer`.
fn wait_holding(outer: &Mutex<()>, m: &Mutex<bool>, cv: &Condvar) {
    let _outer = outer.lock();
    let mut g = m.lock();
    cv.wait_for(&mut g, Duration::from_millis(1));
}

#[test]
fn a_wait_holding_a_lock_the_notifier_took_is_reported_waiter_first() {
    setup();
    let l = Arc::new(Mutex::with_class((), class("w-order1-L")));
    let m = Arc::new(Mutex::with_class(false, class("w-order1-M")));
    let cv = Arc::new(Condvar::new());
    let (l2, m2, cv2) = (l.clone(), m.clone(), cv.clone());
    on_thread(move || wait_holding(&l2, &m2, &cv2));
    assert_eq!(wait_deadlocks("w-order1-L"), 0, "one half only");
    on_thread(move || {
        drop(l.lock()); // on its way to the notify, released before it
        *m.lock() = true;
        cv.notify_one();
    });
    assert_eq!(wait_deadlocks("w-order1-L"), 1);
    let report = lockdep::violations()
        .into_iter()
        .find(|v| v.involves("w-order1-L"))
        .unwrap()
        .to_string();
    assert!(
        report.contains("possible wait/notify deadlock detected"),
        "{report}"
    );
    assert!(report.contains("is notifying event"), "{report}");
    assert!(report.contains("notify("), "{report}");
    assert!(report.contains("wait("), "{report}");
}

#[test]
fn a_notify_holding_a_lock_a_waiter_holds_is_reported_notifier_first() {
    setup();
    let l = Arc::new(Mutex::with_class((), class("w-order2-L")));
    let m = Arc::new(Mutex::with_class(false, class("w-order2-M")));
    let cv = Arc::new(Condvar::new());
    let (l2, m2, cv2) = (l.clone(), m.clone(), cv.clone());
    on_thread(move || {
        let _l = l2.lock(); // held at the notify
        *m2.lock() = true;
        cv2.notify_all();
    });
    assert_eq!(wait_deadlocks("w-order2-L"), 0, "one half only");
    on_thread(move || wait_holding(&l, &m, &cv));
    assert_eq!(wait_deadlocks("w-order2-L"), 1);
    let report = lockdep::violations()
        .into_iter()
        .find(|v| v.involves("w-order2-L"))
        .unwrap()
        .to_string();
    assert!(report.contains("is trying to wait for event"), "{report}");
}

#[test]
fn a_cycle_through_another_lock_is_reported() {
    // Waiter holds A and waits; the notifier takes B on its way; a third thread takes A
    // under B: A → wait → B → A.
    setup();
    let a = Arc::new(Mutex::with_class((), class("w-trans-A")));
    let b = Arc::new(Mutex::with_class((), class("w-trans-B")));
    let m = Arc::new(Mutex::with_class(false, class("w-trans-M")));
    let cv = Arc::new(Condvar::new());
    let (a2, m2, cv2) = (a.clone(), m.clone(), cv.clone());
    on_thread(move || wait_holding(&a2, &m2, &cv2));
    let b2 = b.clone();
    on_thread(move || {
        drop(b2.lock());
        cv.notify_one();
    });
    assert_eq!(wait_deadlocks("w-trans-A"), 0);
    on_thread(move || {
        let _b = b.lock();
        let _a = a.lock();
    });
    let found = lockdep::violations()
        .into_iter()
        .filter(|v| v.involves("w-trans-A") && v.involves("w-trans-B"))
        .collect::<Vec<_>>();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].kind(), ViolationKind::WaitDeadlock);
}

#[test]
fn the_std_shaped_condvar_is_checked_too() {
    use lockdep::sync::{Condvar, Mutex};
    setup();
    let l = Arc::new(Mutex::new(()));
    let m = Arc::new(Mutex::new(false));
    let cv = Arc::new(Condvar::new());
    let (l2, m2, cv2) = (l.clone(), m.clone(), cv.clone());
    let l_line = line!() - 4;
    on_thread(move || {
        let _l = l2.lock().unwrap();
        let g = m2.lock().unwrap();
        let _ = cv2.wait_timeout(g, Duration::from_millis(1)).unwrap();
    });
    on_thread(move || {
        drop(l.lock().unwrap());
        cv.notify_one();
    });
    // A std-shaped lock's class is its creation site.
    let name = format!("{}:{l_line}:22", file!());
    assert_eq!(wait_deadlocks(&name), 1, "{}", lockdep::report());
}

#[test]
fn producer_consumer_queue_is_not_reported() {
    setup();
    struct Queue {
        items: Mutex<Vec<u32>>,
        not_empty: Condvar,
        not_full: Condvar,
    }
    let q = Arc::new(Queue {
        items: Mutex::with_class(Vec::new(), class("w-pc-items")),
        not_empty: Condvar::new(),
        not_full: Condvar::new(),
    });
    let stats = Arc::new(Mutex::with_class(0u64, class("w-pc-stats")));
    let producers: Vec<_> = (0..2)
        .map(|p| {
            let (q, stats) = (q.clone(), stats.clone());
            thread::spawn(move || {
                for i in 0..200 {
                    *stats.lock() += 1; // a lock on the producer's way to each notify
                    let mut items = q.items.lock();
                    q.not_full.wait_while(&mut items, |v| v.len() >= 4);
                    items.push(p * 1000 + i);
                    drop(items);
                    q.not_empty.notify_one();
                }
            })
        })
        .collect();
    let consumer = {
        let (q, stats) = (q.clone(), stats.clone());
        thread::spawn(move || {
            for _ in 0..400 {
                let mut items = q.items.lock();
                q.not_empty.wait_while(&mut items, |v| v.is_empty());
                items.pop().unwrap();
                drop(items);
                q.not_full.notify_one();
                *stats.lock() += 1;
            }
        })
    };
    producers.into_iter().for_each(|p| p.join().unwrap());
    consumer.join().unwrap();
    assert_eq!(*stats.lock(), 800);
    assert_eq!(reports("w-pc-items") + reports("w-pc-stats"), 0);
}

#[test]
fn a_worker_pool_with_a_shutdown_flag_is_not_reported() {
    setup();
    struct Pool {
        state: Mutex<(Vec<u32>, bool)>,
        work: Condvar,
    }
    let pool = Arc::new(Pool {
        state: Mutex::with_class((Vec::new(), false), class("w-wp-state")),
        work: Condvar::new(),
    });
    let results = Arc::new(Mutex::with_class(0u32, class("w-wp-results")));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let (pool, results) = (pool.clone(), results.clone());
            thread::spawn(move || loop {
                let mut state = pool.state.lock();
                pool.work
                    .wait_while(&mut state, |(jobs, stop)| jobs.is_empty() && !*stop);
                let Some(job) = state.0.pop() else {
                    return; // stopped, nothing left
                };
                drop(state);
                *results.lock() += job; // the job takes a lock of its own
            })
        })
        .collect();
    let owner = Mutex::with_class((), class("w-wp-owner"));
    for job in 1..=50 {
        let _owner = owner.lock(); // the submitter holds a lock of its own while submitting
        pool.state.lock().0.push(job);
        pool.work.notify_one();
    }
    {
        let _owner = owner.lock();
        pool.state.lock().1 = true;
        pool.work.notify_all();
    }
    workers.into_iter().for_each(|w| w.join().unwrap());
    assert_eq!(*results.lock(), 50 * 51 / 2);
    let names = ["w-wp-state", "w-wp-results", "w-wp-owner"];
    assert_eq!(names.iter().map(|n| reports(n)).sum::<usize>(), 0);
}

#[test]
fn a_lock_released_before_waiting_for_something_else_is_not_on_the_way() {
    setup();
    let l = Arc::new(Mutex::with_class((), class("w-reset-L")));
    let m = Arc::new(Mutex::with_class(false, class("w-reset-M")));
    let cv = Arc::new(Condvar::new());
    let other_m = Mutex::with_class((), class("w-reset-other-M"));
    let other = Condvar::new();
    let (l2, m2, cv2) = (l.clone(), m.clone(), cv.clone());
    on_thread(move || {
        drop(l2.lock());
        // Waiting for something else: what came before is not on the way to the notify.
        let mut g = other_m.lock();
        other.wait_for(&mut g, Duration::from_millis(1));
        drop(g);
        *m2.lock() = true;
        cv2.notify_one();
    });
    on_thread(move || wait_holding(&l, &m, &cv));
    assert_eq!(reports("w-reset-L"), 0, "{}", lockdep::report());
}

#[test]
fn a_lock_only_tried_on_the_way_is_not_reported() {
    setup();
    let l = Arc::new(Mutex::with_class((), class("w-try-L")));
    let m = Arc::new(Mutex::with_class(false, class("w-try-M")));
    let cv = Arc::new(Condvar::new());
    let (l2, cv2) = (l.clone(), cv.clone());
    on_thread(move || {
        let _l = l2.try_lock().unwrap(); // held at the notify, but only tried
        cv2.notify_one();
    });
    on_thread(move || wait_holding(&l, &m, &cv));
    assert_eq!(reports("w-try-L"), 0, "{}", lockdep::report());
}

#[test]
fn a_condvar_used_with_several_mutexes_over_time_is_not_reported() {
    setup();
    let cv = Arc::new(Condvar::new());
    let m1 = Arc::new(Mutex::with_class(false, class("w-several-M1")));
    let m2 = Arc::new(Mutex::with_class(false, class("w-several-M2")));
    for m in [m1.clone(), m2.clone(), m1, m2] {
        let (m_w, cv_w) = (m.clone(), cv.clone());
        let waiter = thread::spawn(move || {
            let mut g = m_w.lock();
            while !*g {
                cv_w.wait(&mut g);
            }
            *g = false;
        });
        loop {
            let mut g = m.lock();
            if !*g {
                *g = true;
                drop(g);
                cv.notify_all();
                break;
            }
        }
        // Wake until the waiter has taken the flag.
        while !waiter.is_finished() {
            cv.notify_all();
            thread::yield_now();
        }
        waiter.join().unwrap();
    }
    assert_eq!(reports("w-several-M1") + reports("w-several-M2"), 0);
}

#[test]
fn waiting_holding_only_the_condvars_own_mutex_is_not_reported() {
    setup();
    let m = Arc::new(Mutex::with_class(false, class("w-own-M")));
    let cv = Arc::new(Condvar::new());
    let (m2, cv2) = (m.clone(), cv.clone());
    let waiter = thread::spawn(move || {
        let mut g = m2.lock();
        while !*g {
            cv2.wait(&mut g);
        }
    });
    thread::sleep(Duration::from_millis(5));
    *m.lock() = true;
    cv.notify_one();
    waiter.join().unwrap();
    // The notifier held the mutex on its way: wait → M, and the waiter never holds M while
    // waiting (it is released for the wait).
    assert_eq!(reports("w-own-M"), 0);
}

#[test]
fn a_mempool_wait_ends_the_notify_path_as_a_condvar_wait_does() {
    use lockdep::mempool::Mempool;
    setup();
    for (pool_empty, name, expected) in [(true, "w-pool-waits", 0), (false, "w-pool-free", 1)] {
        let l = Arc::new(Mutex::with_class((), class(name)));
        let m = Arc::new(Mutex::with_class(false, class(&format!("{name}-M"))));
        let cv = Arc::new(Condvar::new());
        // Memory for the reserve's one element only: later elements come back from holders.
        let memory = std::sync::atomic::AtomicBool::new(true);
        let pool = Arc::new(Mempool::named(format!("{name}-pool"), 1, move || {
            memory
                .swap(false, std::sync::atomic::Ordering::Relaxed)
                .then_some(0u32)
        }));
        let (l2, m2, cv2) = (l.clone(), m.clone(), cv.clone());
        on_thread(move || wait_holding(&l2, &m2, &cv2));
        let out = pool_empty.then(|| pool.try_alloc().unwrap()); // held here throughout
        on_thread(move || {
            drop(l.lock());
            // With the pool empty this waits (and times out): a wait for the pool's event.
            drop(pool.alloc_timeout(Duration::from_millis(5)));
            cv.notify_one();
        });
        drop(out);
        assert_eq!(wait_deadlocks(name), expected, "{}", lockdep::report());
    }
}

#[test]
fn an_element_holder_waiting_for_a_notifier_that_allocates_is_a_livelock() {
    use lockdep::mempool::Mempool;
    setup();
    // The pool is on the reclaim path: ALLOC → pool.
    let pool = Arc::new(Mempool::named("w-ev-pool", 1, || Some(0u32)));
    let m = Arc::new(Mutex::with_class(false, class("w-ev-M")));
    let x = Arc::new(Mutex::with_class((), class("w-ev-X")));
    let cv = Arc::new(Condvar::new());
    let (p, m2, cv2) = (pool.clone(), m.clone(), cv.clone());
    on_thread(move || {
        let _element = p.alloc();
        let mut g = m2.lock();
        cv2.wait_for(&mut g, Duration::from_millis(1)); // pool → wait
    });
    on_thread(move || {
        {
            let _x = x.lock();
            lockdep::might_alloc(); // on the way to the notify: wait → ALLOC
        }
        cv.notify_one();
    });
    let found: Vec<_> = lockdep::violations()
        .into_iter()
        .filter(|v| v.involves("w-ev-pool"))
        .collect();
    // pool → wait → ALLOC → pool, and (X newly on a cycle) pool → wait → X → ALLOC → pool.
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found
        .iter()
        .all(|v| v.kind() == ViolationKind::MempoolLivelock));
    let text = found[0].to_string();
    assert!(text.contains("(on its way to notify("), "{text}");
    assert!(text.contains("event notified after allocating"), "{text}");
    assert!(
        text.contains("must not wait for an event whose notifier allocates"),
        "{text}"
    );
}
