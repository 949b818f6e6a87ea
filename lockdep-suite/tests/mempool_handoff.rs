//! An element's hold follows the element to the thread that uses it: `hand_off()` ends the
//! holder's hold, `adopt()` makes the calling thread the holder. The sender of an element is
//! no longer charged once the receiver adopts it (no false livelock), and the receiver is
//! checked while it holds it (the real livelock is found).
//!
//! Each test has its own pool and lock classes. The livelock shape used throughout: `L` is
//! held while allocating somewhere (`L → ALLOC`), every pool is on the reclaim path
//! (`ALLOC → pool`), so whichever thread blocks on `L` while holding an element closes
//! `pool → L → ALLOC → pool`.
#![cfg(feature = "enabled")]

use lockdep::mempool::{Element, Mempool};
use lockdep::{Mode, Mutex, ViolationKind};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;

mod common;
use common::{kinds, unique_class, unique_name};

struct Case {
    pool: Arc<Mempool<u32>>,
    pool_name: String,
    l: Arc<Mutex<()>>,
    l_name: String,
}

/// A reclaim-path pool and a lock `L` of their own, with `L → ALLOC` already recorded.
fn case(prefix: &str) -> Case {
    lockdep::set_mode(Mode::Collect);
    let pool_name = unique_name(&format!("{prefix}-pool"));
    let pool = Arc::new(Mempool::named(pool_name.clone(), 4, || Some(0u32)));
    let (l_class, l_name) = unique_class(&format!("{prefix}-L"));
    let l = Arc::new(Mutex::with_class((), l_class));
    let held = Arc::clone(&l);
    on_thread(move || {
        let _g = held.lock();
        lockdep::might_alloc(); // L → ALLOC
    });
    Case {
        pool,
        pool_name,
        l,
        l_name,
    }
}

impl Case {
    /// Mempool livelocks reported about this case's pool and `L`.
    fn livelocks(&self) -> usize {
        lockdep::violations()
            .iter()
            .filter(|v| {
                v.kind() == ViolationKind::MempoolLivelock
                    && v.involves(&self.pool_name)
                    && v.involves(&self.l_name)
            })
            .count()
    }

    /// Everything reported about this case's pool.
    fn about_pool(&self) -> Vec<ViolationKind> {
        kinds(&self.pool_name)
    }

    /// A thread that receives `element`, adopts it and hands it back (its holder until
    /// another thread adopts or drops it), then waits to be let go before blocking on `L`.
    /// The element, back, and the thread.
    fn adopt_elsewhere(&self, element: Element<u32>) -> (Element<u32>, Relay) {
        let (to_relay, received) = mpsc::channel::<Element<u32>>();
        let (back, from_relay) = mpsc::channel::<Element<u32>>();
        let (go, wait) = mpsc::channel::<()>();
        let l = Arc::clone(&self.l);
        let thread = thread::spawn(move || {
            let mut e = received.recv().unwrap();
            e.adopt();
            back.send(e).unwrap();
            wait.recv().unwrap();
            drop(l.lock());
        });
        to_relay.send(element).unwrap();
        (from_relay.recv().unwrap(), Relay { go, thread })
    }
}

/// The thread of [`Case::adopt_elsewhere`], waiting to take `L`.
struct Relay {
    go: mpsc::Sender<()>,
    thread: thread::JoinHandle<()>,
}

impl Relay {
    /// Lets it take `L`, and waits for it to end.
    fn finish(self) {
        self.go.send(()).unwrap();
        self.thread.join().unwrap();
    }
}

fn on_thread<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    thread::spawn(f).join().unwrap()
}

/// A worker thread that receives one element, runs `work` on it, then waits for `go` before
/// dropping it (so that the element is still out while the test looks at other threads).
fn worker(
    work: impl FnOnce(&mut Element<u32>) + Send + 'static,
) -> (
    mpsc::Sender<Element<u32>>,
    mpsc::Receiver<()>,
    mpsc::Sender<()>,
    thread::JoinHandle<()>,
) {
    let (tx, rx) = mpsc::channel::<Element<u32>>();
    let (worked_tx, worked_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let handle = thread::spawn(move || {
        let mut e = rx.recv().unwrap();
        work(&mut e);
        worked_tx.send(()).unwrap();
        let _ = go_rx.recv();
        drop(e);
    });
    (tx, worked_rx, go_tx, handle)
}

/// The defect this file is about, as it still is without `adopt`: the allocating thread stays
/// charged for an element it sent away, so blocking on `L` afterwards is `pool → L`.
#[test]
fn without_adopt_the_sender_stays_charged() {
    let c = case("ho-control");
    let (tx, worked, go, handle) = worker(|_| {});
    let (pool, l) = (Arc::clone(&c.pool), Arc::clone(&c.l));
    on_thread(move || {
        tx.send(pool.alloc()).unwrap();
        worked.recv().unwrap();
        drop(l.lock()); // still charged with the element: pool → L
    });
    go.send(()).unwrap();
    handle.join().unwrap();
    assert_eq!(c.livelocks(), 1, "{:#?}", lockdep::violations());
}

/// (a) The receiver adopts the element: the sender is no longer charged, so its `L` while the
/// element is out (held by the worker) is not `pool → L`.
#[test]
fn the_sender_is_not_charged_once_the_receiver_adopts() {
    let c = case("ho-sender");
    let (tx, worked, go, handle) = worker(|e| e.adopt());
    let (pool, l) = (Arc::clone(&c.pool), Arc::clone(&c.l));
    on_thread(move || {
        tx.send(pool.alloc()).unwrap(); // no hand_off: the adoption ends this thread's hold
        worked.recv().unwrap();
        drop(l.lock()); // drains the posted release first: no pool → L
        lockdep::might_alloc();
    });
    go.send(()).unwrap();
    handle.join().unwrap();
    assert_eq!(c.livelocks(), 0, "{:#?}", c.about_pool());
    assert!(c.about_pool().is_empty(), "{:#?}", c.about_pool());
}

/// (b) The worker adopts the element and then blocks on `L`: the real livelock is in the
/// worker, and it is reported.
#[test]
fn a_worker_that_adopts_is_checked() {
    let c = case("ho-worker");
    let l = Arc::clone(&c.l);
    let (tx, worked, go, handle) = worker(move |e| {
        e.adopt();
        **e += 1;
        drop(l.lock()); // pool → L, closing pool → L → ALLOC → pool
    });
    let e = c.pool.alloc();
    e.hand_off(); // this thread is not charged: the worker will be
    tx.send(e).unwrap();
    worked.recv().unwrap();
    go.send(()).unwrap();
    handle.join().unwrap();
    assert_eq!(c.livelocks(), 1, "{:#?}", lockdep::violations());
    let report = lockdep::violations()
        .into_iter()
        .find(|v| v.kind() == ViolationKind::MempoolLivelock && v.involves(&c.pool_name))
        .unwrap()
        .to_string();
    assert!(
        report.contains("WARNING: possible mempool livelock detected"),
        "{report}"
    );
}

/// Without the adoption the same worker was not checked: the livelock it could cause is missed
/// (the element is in transit, charged to nobody).
#[test]
fn a_worker_that_does_not_adopt_is_not_checked() {
    let c = case("ho-noadopt");
    let l = Arc::clone(&c.l);
    let (tx, worked, go, handle) = worker(move |_| drop(l.lock()));
    let e = c.pool.alloc();
    e.hand_off();
    tx.send(e).unwrap();
    worked.recv().unwrap();
    go.send(()).unwrap();
    handle.join().unwrap();
    assert_eq!(c.livelocks(), 0);
}

/// Receiving never waits for the pool: adopting under a lock records no `L → pool`. (With a
/// blocking acquisition, `pool → L` recorded first would make it a circular dependency.)
#[test]
fn adopting_under_a_lock_records_no_dependency_into_the_pool() {
    lockdep::set_mode(Mode::Collect);
    let pool_name = unique_name("ho-try-pool");
    let pool = Mempool::builder(2, || Some(0u32))
        .name(pool_name.clone())
        .reclaim_path(false)
        .build()
        .unwrap();
    let (l_class, _) = unique_class("ho-try-L");
    let l = Arc::new(Mutex::with_class((), l_class));
    {
        let _e = pool.alloc();
        drop(l.lock()); // pool → L
    }
    let e = pool.alloc();
    e.hand_off();
    let l2 = Arc::clone(&l);
    let e = on_thread(move || {
        let mut e = e;
        let _g = l2.lock();
        e.adopt(); // not L → pool
        e
    });
    drop(e);
    assert!(kinds(&pool_name).is_empty(), "{:#?}", kinds(&pool_name));
}

/// The adoption is not a link in the chain of what the thread holds: a lock held when
/// adopting still gets the dependency to what is taken next (`L → N`), which a blocking
/// acquisition of the pool would have left to the path through the pool (never recorded).
#[test]
fn locks_held_when_adopting_reach_what_follows() {
    lockdep::set_mode(Mode::Collect);
    let pool = Mempool::builder(2, || Some(0u32))
        .name(unique_name("ho-reach-pool"))
        .reclaim_path(false)
        .build()
        .unwrap();
    let (l_class, l_name) = unique_class("ho-reach-L");
    let (n_class, n_name) = unique_class("ho-reach-N");
    let (l, n) = (
        Arc::new(Mutex::with_class((), l_class)),
        Arc::new(Mutex::with_class((), n_class)),
    );
    let e = pool.alloc();
    e.hand_off();
    let (l2, n2) = (Arc::clone(&l), Arc::clone(&n));
    let e = on_thread(move || {
        let mut e = e;
        let _l = l2.lock();
        e.adopt();
        drop(n2.lock()); // L → N (and pool → N)
        e
    });
    drop(e);
    let _n = n.lock();
    drop(l.lock()); // N → L closes L → N → L
    let circular: Vec<_> = lockdep::violations()
        .into_iter()
        .filter(|v| {
            v.kind() == ViolationKind::CircularDependency
                && v.involves(&l_name)
                && v.involves(&n_name)
        })
        .collect();
    assert_eq!(circular.len(), 1, "{:#?}", lockdep::violations());
}

/// (c) Adopting on the holder does nothing: one drop still ends the hold (a second count on
/// the thread's pool entry would leave it charged, and its `L` would be `pool → L`).
#[test]
fn adopt_is_idempotent_on_the_holder() {
    let c = case("ho-idem");
    let (pool, l) = (Arc::clone(&c.pool), Arc::clone(&c.l));
    on_thread(move || {
        let mut e = pool.alloc();
        e.adopt(); // the allocating thread holds it already
        e.adopt();
        drop(e);
        drop(l.lock());
    });
    // The same on a worker that adopted a received element twice.
    let l = Arc::clone(&c.l);
    let (tx, worked, go, handle) = worker(move |e| {
        e.adopt();
        e.adopt();
    });
    let e = c.pool.alloc();
    e.hand_off();
    tx.send(e).unwrap();
    worked.recv().unwrap();
    go.send(()).unwrap(); // the worker drops it
    handle.join().unwrap();
    // The worker has exited: check its counterpart on a live thread too.
    let pool = Arc::clone(&c.pool);
    on_thread(move || {
        let e = pool.alloc();
        e.hand_off();
        let mut e = on_thread(move || e); // passes through another thread, not adopted there
        e.adopt();
        e.adopt();
        drop(e);
        drop(l.lock());
    });
    assert_eq!(c.livelocks(), 0, "{:#?}", c.about_pool());
}

/// (c) `hand_off` on the allocating thread, `adopt` on a second thread, drop on a third: none
/// of the three is charged afterwards, though all three stay alive and block on `L`.
#[test]
fn hand_off_adopt_and_a_drop_elsewhere_leave_nobody_charged() {
    let c = case("ho-three");
    let e = c.pool.alloc();
    e.hand_off();
    let (e, b) = c.adopt_elsewhere(e);
    let l = Arc::clone(&c.l);
    on_thread(move || {
        drop(e); // on a third thread: posted to the adopter's inbox
        drop(l.lock());
    });
    b.finish(); // its lock drains the third thread's release: no pool → L
    drop(c.l.lock()); // the allocating thread
    assert_eq!(c.livelocks(), 0, "{:#?}", c.about_pool());
}

/// Adoption without a hand-off, along a chain of threads: each adoption ends the previous
/// holder's hold; the last holder is the only one charged.
#[test]
fn adoption_moves_the_hold_along_a_chain_of_threads() {
    let c = case("ho-chain");
    let (e, b) = c.adopt_elsewhere(c.pool.alloc());
    let l = Arc::clone(&c.l);
    let (adopted_tx, adopted_rx) = mpsc::channel();
    let (c_go_tx, c_go) = mpsc::channel::<()>();
    let third = thread::spawn(move || {
        let mut e = e;
        e.adopt();
        adopted_tx.send(()).unwrap();
        c_go.recv().unwrap();
        drop(l.lock()); // the holder: pool → L
        drop(e);
    });
    adopted_rx.recv().unwrap();
    b.finish(); // after the third thread adopted: not charged
    drop(c.l.lock()); // the allocating thread: not charged
    let before_third = c.livelocks();
    c_go_tx.send(()).unwrap();
    third.join().unwrap();
    assert_eq!(before_third, 0, "{:#?}", c.about_pool());
    assert_eq!(c.livelocks(), 1, "the last holder is charged");
}

/// `into_inner` on the adopter ends its hold, as a drop does.
#[test]
fn into_inner_after_adopt_ends_the_hold() {
    let c = case("ho-inner");
    let (pool, l) = (Arc::clone(&c.pool), Arc::clone(&c.l));
    let e = pool.alloc();
    on_thread(move || {
        let mut e = e;
        e.adopt();
        assert_eq!(e.into_inner(), 0);
        drop(l.lock());
    });
    drop(c.l.lock()); // the allocating thread: released by the adoption
    assert_eq!(c.livelocks(), 0, "{:#?}", c.about_pool());
    assert_eq!(c.pool.outstanding(), 0);
}

/// An adoption that ends the hold of a thread that has exited is dropped: it must not release
/// an element of the same pool held by a later thread that reuses the exited thread's inbox
/// (inboxes are reused, their generation tells the threads apart). Whether the inbox is
/// reused depends on other tests' threads, so this guards the rule rather than forcing reuse.
#[test]
fn adopting_from_an_exited_holder_leaves_later_threads_alone() {
    let c = case("ho-exited");
    let pool = Arc::clone(&c.pool);
    let mut orphan = on_thread(move || pool.alloc()); // its holder exits here
    let (ready_tx, ready_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (pool, l) = (Arc::clone(&c.pool), Arc::clone(&c.l));
    let later = thread::spawn(move || {
        let e = pool.alloc(); // likely in the exited thread's inbox
        ready_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        drop(l.lock()); // still holding `e`: pool → L
        drop(e);
    });
    ready_rx.recv().unwrap();
    orphan.adopt(); // the old holder's release: to a closed generation, dropped
    drop(orphan);
    go_tx.send(()).unwrap();
    later.join().unwrap();
    assert_eq!(c.livelocks(), 1, "{:#?}", lockdep::violations());
}
