//! Lock behaviour beyond the selftest matrix: threads, time, nesting, drops in any order,
//! annotations and condition variables.
#![cfg(feature = "enabled")]

use lockdep::{Condvar, Mode, Mutex, RwLock, ViolationKind};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

mod common;
use common::{class, kinds};

#[test]
fn inversion_seen_on_different_threads_at_different_times() {
    lockdep::set_mode(Mode::Collect);
    let a = Arc::new(Mutex::with_class(0, class("locks-xthread-A")));
    let b = Arc::new(Mutex::with_class(0, class("locks-xthread-B")));
    let (a1, b1) = (Arc::clone(&a), Arc::clone(&b));
    thread::spawn(move || {
        let _a = a1.lock();
        let _b = b1.lock();
    })
    .join()
    .unwrap();
    thread::sleep(Duration::from_millis(20));
    assert!(kinds("locks-xthread-A").is_empty());
    let (a2, b2) = (Arc::clone(&a), Arc::clone(&b));
    thread::spawn(move || {
        let _b = b2.lock();
        let _a = a2.lock();
    })
    .join()
    .unwrap();
    assert_eq!(
        kinds("locks-xthread-A"),
        vec![ViolationKind::CircularDependency]
    );
    assert_eq!(
        kinds("locks-xthread-B"),
        vec![ViolationKind::CircularDependency]
    );
}

#[test]
fn consistent_order_over_many_classes_is_fine() {
    lockdep::set_mode(Mode::Collect);
    let locks: Vec<Mutex<usize>> = (0..32)
        .map(|i| Mutex::with_class(i, class(&format!("locks-order-{i}"))))
        .collect();
    // Every subset, in increasing order, on several threads.
    let locks = Arc::new(locks);
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let locks = Arc::clone(&locks);
            thread::spawn(move || {
                for round in 0..50usize {
                    let mut guards = Vec::new();
                    for (i, l) in locks.iter().enumerate() {
                        if (i + round + t) % 3 != 0 {
                            guards.push(l.lock());
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    for i in 0..32 {
        assert!(kinds(&format!("locks-order-{i}")).is_empty());
    }
}

#[test]
fn nested_subclasses_are_not_recursive_locking() {
    lockdep::set_mode(Mode::Collect);
    let node = class("locks-node");
    let (parent, child) = (Mutex::with_class(0, node), Mutex::with_class(1, node));
    {
        let _p = parent.lock();
        let _c = child.lock_nested(1);
    }
    assert!(kinds("locks-node").is_empty());
    // Without the annotation the two locks are ordered by instance: fine in one order...
    {
        let _p = parent.lock();
        let _c = child.lock();
    }
    assert!(kinds("locks-node").is_empty());
    // ...and a deadlock in both.
    {
        let _c = child.lock();
        let _p = parent.lock();
    }
    assert_eq!(kinds("locks-node"), vec![ViolationKind::CircularDependency]);
}

#[test]
fn subclass_inversion_is_a_cycle_named_with_its_subclass() {
    lockdep::set_mode(Mode::Collect);
    let node = class("locks-subinv");
    let (a, b) = (Mutex::with_class(0, node), Mutex::with_class(1, node));
    {
        let _a = a.lock();
        let _b = b.lock_nested(1); // node → node/1
    }
    {
        let _b = b.lock_nested(1);
        let _a = a.lock(); // node/1 → node
    }
    let v = lockdep::violations()
        .into_iter()
        .find(|v| v.involves("locks-subinv"))
        .expect("reported");
    assert_eq!(v.kind(), ViolationKind::CircularDependency);
    assert!(v.classes().contains(&"locks-subinv/1"), "{:?}", v.classes());
}

#[test]
fn out_of_order_drops_are_normal() {
    lockdep::set_mode(Mode::Collect);
    let (a, b, c) = (
        Mutex::with_class((), class("locks-ooo-A")),
        Mutex::with_class((), class("locks-ooo-B")),
        Mutex::with_class((), class("locks-ooo-C")),
    );
    for _ in 0..3 {
        let ga = a.lock();
        let gb = b.lock();
        drop(ga); // A released before B
        a.assert_not_held();
        b.assert_held();
        drop(gb);
    }
    {
        let gb = b.lock();
        let ga = a.try_lock().unwrap();
        drop(gb); // the bottom entry goes first: A's chain is rebuilt on its own
        a.assert_held();
        b.assert_not_held();
        drop(ga);
    }
    // Nothing is left on the stack: C taken now depends on nothing...
    drop(c.lock());
    // ...so C → A and C → B close no cycle (a stale A or B would have recorded A → C, B → C).
    {
        let _c = c.lock();
        let _a = a.lock();
        let _b = b.lock();
    }
    for n in ["locks-ooo-A", "locks-ooo-B", "locks-ooo-C"] {
        assert!(kinds(n).is_empty(), "{n}");
    }
    // The A → B recorded above is real: B → A is reported.
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    assert_eq!(
        kinds("locks-ooo-A"),
        vec![ViolationKind::CircularDependency]
    );
}

#[test]
fn might_lock_records_the_dependency_without_taking() {
    lockdep::set_mode(Mode::Collect);
    let (a, b) = (
        Mutex::with_class((), class("locks-might-A")),
        Mutex::with_class((), class("locks-might-B")),
    );
    {
        let _a = a.lock();
        b.might_lock(); // A → B, rarely taken in reality
        assert!(!b.is_locked());
    }
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    assert_eq!(
        kinds("locks-might-A"),
        vec![ViolationKind::CircularDependency]
    );
}

#[test]
fn assert_held_and_not_held() {
    lockdep::set_mode(Mode::Collect);
    let m = Mutex::with_class((), class("locks-assert"));
    let r = RwLock::with_class((), class("locks-assert-rw"));
    m.assert_not_held();
    let not_held = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| m.assert_held()));
    assert!(not_held.is_err());
    {
        let _g = m.lock();
        m.assert_held();
        let held = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| m.assert_not_held()));
        assert!(held.is_err());
        let _r = r.read();
        r.assert_held();
    }
    m.assert_not_held();
    r.assert_not_held();
}

#[test]
fn condvar_producer_consumer_is_fine() {
    lockdep::set_mode(Mode::Collect);
    let queue = Arc::new((
        Mutex::with_class(Vec::new(), class("locks-cv-queue")),
        Condvar::new(),
    ));
    let other = Arc::new(Mutex::with_class(0u64, class("locks-cv-other")));
    let (q, o) = (Arc::clone(&queue), Arc::clone(&other));
    let consumer = thread::spawn(move || {
        let mut got = 0;
        while got < 100 {
            let mut items = q.0.lock();
            while items.is_empty() {
                q.1.wait(&mut items);
            }
            got += items.drain(..).count();
            *o.lock() += 1; // queue → other, also after every wait
        }
        got
    });
    for i in 0..100 {
        queue.0.lock().push(i);
        queue.1.notify_one();
    }
    assert_eq!(consumer.join().unwrap(), 100);
    let mut g = queue.0.lock();
    assert!(queue
        .1
        .wait_for(&mut g, Duration::from_millis(5))
        .timed_out());
    drop(g);
    assert!(kinds("locks-cv-queue").is_empty());
    assert!(kinds("locks-cv-other").is_empty());
}

#[test]
fn condvar_wait_keeps_the_held_stack_right() {
    lockdep::set_mode(Mode::Collect);
    let (outer, inner) = (
        Mutex::with_class((), class("locks-cvstack-outer")),
        Mutex::with_class(false, class("locks-cvstack-inner")),
    );
    let cv = Condvar::new();
    let _o = outer.lock();
    let mut i = inner.lock();
    cv.wait_for(&mut i, Duration::from_millis(1));
    drop(_o); // out of order, after the wait re-acquired inner on top
    drop(i);
    // inner → outer would close a cycle with outer → inner only if that edge exists: it does.
    {
        let _i = inner.lock();
        let _o = outer.lock();
    }
    assert_eq!(
        kinds("locks-cvstack-outer"),
        vec![ViolationKind::CircularDependency]
    );
}

#[test]
fn each_problem_is_reported_once() {
    lockdep::set_mode(Mode::Collect);
    let (a, b) = (
        Mutex::with_class((), class("locks-once-A")),
        Mutex::with_class((), class("locks-once-B")),
    );
    drop((a.lock(), b.lock()));
    for _ in 0..5 {
        let _b = b.lock();
        let _a = a.lock();
    }
    let c = Mutex::with_class((), class("locks-once-C"));
    {
        // The same inversion inside another chain (C held first): still the same problem.
        let _c = c.lock();
        let _b = b.lock();
        let _a = a.lock();
    }
    assert_eq!(kinds("locks-once-A").len(), 1);
}

#[test]
fn guards_drop_on_panic_and_the_thread_keeps_validating() {
    lockdep::set_mode(Mode::Collect);
    let a = Arc::new(Mutex::with_class((), class("locks-unwind-A")));
    let b = Arc::new(Mutex::with_class((), class("locks-unwind-B")));
    let (a1, b1) = (Arc::clone(&a), Arc::clone(&b));
    let result = thread::spawn(move || {
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _a = a1.lock();
            panic!("boom");
        }));
        assert!(caught.is_err());
        // A was released by unwinding: B then A is no A → B edge...
        let _b = b1.lock();
        drop(_b);
        let _a = a1.lock();
        let _b = b1.lock(); // A → B
    })
    .join();
    assert!(result.is_ok());
    assert!(kinds("locks-unwind-A").is_empty());
    let _b = b.lock();
    let _a = a.lock(); // B → A: reported, so the A → B above was recorded
    drop(_a);
    drop(_b);
    assert_eq!(
        kinds("locks-unwind-A"),
        vec![ViolationKind::CircularDependency]
    );
}

#[test]
fn a_try_lock_on_top_is_a_source_too() {
    lockdep::set_mode(Mode::Collect);
    let (a, b, c) = (
        Mutex::with_class((), class("locks-trysrc-A")),
        Mutex::with_class((), class("locks-trysrc-B")),
        Mutex::with_class((), class("locks-trysrc-C")),
    );
    {
        let _b = b.lock();
        let _a = a.try_lock().unwrap(); // no B → A: a try-lock adds no incoming dependency
        let _c = c.lock(); // A → C, and B → C (the entry below a try-lock is a source too)
    }
    assert!(kinds("locks-trysrc-C").is_empty());
    {
        let _c = c.lock();
        let _b = b.lock(); // C → B closes B → C: only the direct dependency makes that a cycle
    }
    assert_eq!(
        kinds("locks-trysrc-B"),
        vec![ViolationKind::CircularDependency]
    );
    assert!(!lockdep::violations()
        .iter()
        .any(|v| v.involves("locks-trysrc-B") && v.involves("locks-trysrc-A")));
}

#[test]
fn try_locks_of_a_held_class_are_not_recursive_locking() {
    lockdep::set_mode(Mode::Collect);
    let x = class("locks-tryaa-X");
    let (x1, x2) = (Mutex::with_class((), x), Mutex::with_class((), x));
    {
        let _x1 = x1.lock();
        let _x2 = x2.try_lock().expect("another instance: free");
        assert!(x1.try_lock().is_none()); // the same instance: fails, as parking_lot's does
    }
    let r = class("locks-tryaa-R");
    let (r1, r2) = (RwLock::with_class((), r), RwLock::with_class((), r));
    {
        let _w = r1.write();
        let _w2 = r2.try_write().expect("free");
        let r3 = RwLock::with_class((), r);
        let _r = r3.try_read().expect("free");
    }
    assert!(kinds("locks-tryaa-X").is_empty());
    assert!(kinds("locks-tryaa-R").is_empty());
}

#[test]
fn try_lock_for_is_validated_like_lock() {
    lockdep::set_mode(Mode::Collect);
    let (a, b) = (
        Mutex::with_class((), class("locks-trylockfor-A")),
        Mutex::with_class((), class("locks-trylockfor-B")),
    );
    drop((a.lock(), b.lock()));
    {
        let _b = b.lock();
        let _a = a.try_lock_for(Duration::from_millis(10)).expect("free");
    }
    assert_eq!(
        kinds("locks-trylockfor-A"),
        vec![ViolationKind::CircularDependency]
    );
}

#[test]
fn rwlock_nested_subclasses() {
    lockdep::set_mode(Mode::Collect);
    let dir = class("locks-rwnest");
    let (parent, child) = (RwLock::with_class(0, dir), RwLock::with_class(1, dir));
    {
        let _p = parent.write();
        let _c = child.write_nested(1);
    }
    {
        let _p = parent.read();
        let _c = child.read_nested(1);
    }
    assert!(kinds("locks-rwnest").is_empty());
    {
        let _p = parent.write();
        let _c = child.write(); // same class, same subclass: ordered by instance
    }
    assert!(kinds("locks-rwnest").is_empty());
    {
        let _c = child.read();
        let _p = parent.read(); // the other way round: a deadlock behind queued writers
    }
    assert_eq!(
        kinds("locks-rwnest"),
        vec![ViolationKind::CircularDependency]
    );
}

#[test]
fn two_locks_of_one_subclass_are_ordered_by_instance() {
    lockdep::set_mode(Mode::Collect);
    let node = class("locks-samesub");
    let (a, b, c) = (
        Mutex::with_class((), node),
        Mutex::with_class((), node),
        Mutex::with_class((), node),
    );
    {
        let _a = a.lock();
        let _b = b.lock_nested(1);
        let _c = c.lock_nested(1);
    }
    assert!(kinds("locks-samesub").is_empty());
    {
        let _a = a.lock();
        let _c = c.lock_nested(1);
        let _b = b.lock_nested(1);
    }
    let v = common::find("locks-samesub");
    assert_eq!(v.kind(), ViolationKind::CircularDependency);
    // Two locks of one class: the class twice.
    assert_eq!(v.classes(), vec!["locks-samesub/1", "locks-samesub/1"]);
    assert!(v.to_string().contains("lock(locks-samesub/1 #0);"), "{v}");
}

#[test]
fn locks_made_at_one_site_share_a_class() {
    lockdep::set_mode(Mode::Collect);
    // One creation site, many instances: one class, so nesting two of them in both orders
    // is a deadlock between two locks of the class...
    #[allow(clippy::redundant_closure)]
    let shards: Vec<Mutex<u32>> = (0..3).map(|i| Mutex::new(i)).collect();
    let (line, column) = (line!() - 1, 50);
    {
        let _s0 = shards[0].lock();
        let _s1 = shards[1].lock();
    }
    {
        let _s1 = shards[1].lock();
        let _s0 = shards[0].lock();
    }
    let name = format!("{}:{line}:{column}", file!());
    assert_eq!(
        kinds(&name),
        vec![ViolationKind::CircularDependency],
        "{:?}",
        lockdep::violations()
    );
    // ...and two sites are two classes.
    let (p, q) = (Mutex::new(()), Mutex::new(()));
    let p_class = format!("{}:{}:19", file!(), line!() - 1);
    let _p = p.lock();
    let _q = q.lock();
    assert!(kinds(&p_class).is_empty());
    drop(_q);
    drop(_p);
    {
        let _q = q.lock();
        let _p = p.lock(); // Q → P closes P → Q: they are two classes, and the name is right
    }
    assert_eq!(kinds(&p_class), vec![ViolationKind::CircularDependency]);
}

#[test]
fn might_lock_of_rwlocks() {
    lockdep::set_mode(Mode::Collect);
    let (x, y) = (
        RwLock::with_class((), class("locks-mightrw-X")),
        Mutex::with_class((), class("locks-mightrw-Y")),
    );
    {
        let _y = y.lock();
        x.might_lock_read(); // Y → X (non-recursive read)
    }
    {
        let _x = x.read_recursive();
        let _y = y.lock(); // X(S) → Y closes Y → X(N) → Y: a strong cycle
    }
    assert_eq!(
        kinds("locks-mightrw-X"),
        vec![ViolationKind::CircularDependency]
    );
    // might_lock() is a write: while reading the same lock it is a self-deadlock.
    let z = RwLock::with_class((), class("locks-mightrw-Z"));
    {
        let _z = z.read();
        z.might_lock();
        assert!(
            z.try_write().is_none(),
            "might_lock took nothing, the read is still there"
        );
    }
    assert_eq!(kinds("locks-mightrw-Z"), vec![ViolationKind::SameLockTwice]);
}

#[test]
fn the_same_inversion_on_many_threads_is_one_report() {
    lockdep::set_mode(Mode::Collect);
    let a = Arc::new(Mutex::with_class((), class("locks-manythreads-A")));
    let b = Arc::new(Mutex::with_class((), class("locks-manythreads-B")));
    drop((a.lock(), b.lock()));
    for _ in 0..4 {
        let (a, b) = (Arc::clone(&a), Arc::clone(&b));
        thread::spawn(move || {
            let _b = b.lock();
            let _a = a.lock();
        })
        .join()
        .unwrap();
    }
    assert_eq!(kinds("locks-manythreads-A").len(), 1);
}

#[test]
fn condvar_keeps_the_subclass_and_the_hold() {
    lockdep::set_mode(Mode::Collect);
    let node = class("locks-cvnest");
    let (parent, child) = (Mutex::with_class((), node), Mutex::with_class(0u32, node));
    let cv = Condvar::new();
    let _p = parent.lock();
    let mut c = child.lock_nested(1);
    // Re-acquired after the wait as node/1 again: no AA with the parent.
    assert!(cv.wait_for(&mut c, Duration::from_millis(1)).timed_out());
    child.assert_held();
    let deadline = std::time::Instant::now() + Duration::from_millis(1);
    assert!(cv.wait_until(&mut c, deadline).timed_out());
    child.assert_held();
    parent.assert_held();
    drop(c);
    child.assert_not_held();
    drop(_p);
    assert!(kinds("locks-cvnest").is_empty());
}

#[test]
fn condvar_wait_while_with_a_producer() {
    lockdep::set_mode(Mode::Collect);
    let state = Arc::new((
        Mutex::with_class(0u32, class("locks-cvwhile")),
        Condvar::new(),
    ));
    let s = Arc::clone(&state);
    let producer = thread::spawn(move || {
        for _ in 0..10 {
            *s.0.lock() += 1;
            s.1.notify_all();
        }
    });
    let mut n = state.0.lock();
    state.1.wait_while(&mut n, |n| *n < 10);
    assert_eq!(*n, 10);
    drop(n);
    producer.join().unwrap();
    assert!(kinds("locks-cvwhile").is_empty());
}

#[test]
fn out_of_order_drop_in_the_middle_keeps_later_inversions_detected() {
    lockdep::set_mode(Mode::Collect);
    let l: Vec<Mutex<()>> = ["A", "B", "C", "D"]
        .iter()
        .map(|n| Mutex::with_class((), class(&format!("locks-middle-{n}"))))
        .collect();
    {
        let ga = l[0].lock();
        let gb = l[1].lock(); // A → B
        let gc = l[2].lock(); // B → C
        drop(gb); // out of order: the stack is now A, C
        l[1].assert_not_held();
        let gd = l[3].lock(); // C → D (and nothing from B)
        drop(ga);
        drop(gd);
        drop(gc);
    }
    for n in ["A", "B", "C", "D"] {
        assert!(kinds(&format!("locks-middle-{n}")).is_empty(), "{n}");
        l.iter().for_each(|m| m.assert_not_held());
    }
    {
        let _d = l[3].lock();
        let _a = l[0].lock(); // D → A closes A → B → C → D → A
    }
    let v = common::find("locks-middle-A");
    assert_eq!(v.kind(), ViolationKind::CircularDependency);
    assert_eq!(v.classes().len(), 4, "{:?}", v.classes());
}

#[test]
fn assert_held_is_about_this_thread_and_this_instance() {
    lockdep::set_mode(Mode::Collect);
    let c = class("locks-assert-other");
    let m = Arc::new(Mutex::with_class((), c));
    let sibling = Mutex::with_class((), c);
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let m2 = Arc::clone(&m);
    let holder = thread::spawn(move || {
        let _g = m2.lock();
        m2.assert_held();
        locked_tx.send(()).unwrap();
        done_rx.recv().unwrap();
    });
    locked_rx.recv().unwrap();
    // Locked, but by another thread: not held here.
    assert!(m.is_locked());
    m.assert_not_held();
    let e = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| m.assert_held()))
        .expect_err("not held by this thread");
    let msg = e.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("locks-assert-other") && msg.contains("not held"),
        "{msg}"
    );
    done_tx.send(()).unwrap();
    holder.join().unwrap();
    // Holding another instance of the class is not holding this one.
    let _s = sibling.lock();
    m.assert_not_held();
    sibling.assert_held();
}

#[test]
fn the_same_lock_taken_again_is_reported_as_the_same_lock() {
    lockdep::set_mode(Mode::Collect);
    let m = Mutex::with_class((), class("locks-same-sub-M"));
    let _g = m.lock();
    // A timed attempt gives up instead of hanging; it is validated like `lock()` (the
    // subclass case, which would hang, is in tests/modes.rs under Mode::Panic).
    assert!(m.try_lock_for(Duration::from_millis(1)).is_none());
    let v = common::find("locks-same-sub-M");
    assert_eq!(v.kind(), ViolationKind::SameLockTwice);
    assert!(v
        .to_string()
        .contains("this thread already holds this very lock"));
    assert!(!v.to_string().contains("missing lock nesting notation"));
    // A mutex waits for itself; no reads are involved.
    assert!(
        v.to_string()
            .contains("acquisition\n waits for the first, and"),
        "{v}"
    );
    assert!(!v.to_string().contains("reads"), "{v}");
}

#[test]
fn a_nested_acquisition_of_a_held_lock_is_reported_as_the_same_lock() {
    lockdep::set_mode(Mode::Collect);
    let x = RwLock::with_class((), class("locks-same-nested-X"));
    let (tx, rx) = std::sync::mpsc::channel();
    // The nested read on the lock this thread holds would wait behind a writer: run it on a
    // thread of its own, with a writer queued, and only look at the report.
    let x = Arc::new(x);
    let x2 = Arc::clone(&x);
    thread::spawn(move || {
        let _r = x2.read();
        tx.send(()).unwrap();
        let _again = x2.read_nested(1); // reported before it blocks (it does not here: no writer)
    })
    .join()
    .unwrap();
    rx.recv().unwrap();
    assert_eq!(
        kinds("locks-same-nested-X"),
        vec![ViolationKind::SameLockTwice]
    );
    // Two reads of one lock wait for each other only behind a queued writer: said so.
    assert!(common::find("locks-same-nested-X")
        .to_string()
        .contains("waits for the first behind a writer queued between them"));
    // Two different locks of the class nested through a subclass stay fine.
    let (p, c) = (
        Mutex::with_class((), class("locks-same-nested-P")),
        Mutex::with_class((), class("locks-same-nested-P")),
    );
    let _p = p.lock();
    let _c = c.lock_nested(1);
    assert!(kinds("locks-same-nested-P").is_empty());
}

#[test]
fn hundreds_of_locks_held_at_once_keep_the_checker_on() {
    lockdep::set_mode(Mode::Collect);
    // A sharded map's "lock every shard" (salsa locks 4 × cores shards): 300 classes here.
    let shards: Vec<Mutex<usize>> = (0..300)
        .map(|i| Mutex::with_class(i, class(&format!("locks-shards-{i}"))))
        .collect();
    let guards: Vec<_> = shards.iter().map(|s| s.lock()).collect();
    assert!(lockdep::is_checking());
    shards[299].assert_held();
    drop(guards);
    shards[0].assert_not_held();
    assert!(lockdep::is_checking());
    assert!(kinds("locks-shards-0").is_empty());
}
