//! Stress with the whole mix of operations, beyond `tests/stress.rs`: `Mutex` and `RwLock`
//! classes taken by `lock`/`write`/`read`/`read_recursive` and their `try_` forms, shared
//! instances (real contention) and private ones, out-of-order releases, `might_alloc`.
//!
//! - 8 threads × 100,000 random operations following one global order over 64 classes: no
//!   report; replaying the same operations adds no dependency, no chain and no graph memory
//!   (the tables stop growing once every chain has been seen).
//! - The same with one inverted acquisition injected (on two threads, at different points):
//!   exactly one report, naming exactly the two classes.
//! - 16 threads discovering new chains at once (the slow path under the graph lock), with
//!   their own inversions reported meanwhile, pool elements released on other threads, and
//!   readers of the record and of the graph alongside, under a watchdog: the checker never
//!   deadlocks.
//!
//! The CI sizes take about a second in a debug build. Ten times more:
//!
//! ```text
//! cargo test --release --test stress_mixed -- --ignored --nocapture
//! ```
//!
//! `TEST_LOCKDEP_STRESS_OPS=<n>` sets the operations per thread of the CI variants.
#![cfg(feature = "enabled")]

use lockdep::mempool::{Element, Mempool};
use lockdep::{LockClass, Mode, Mutex};
use lockdep::{Violation, ViolationKind};
use std::sync::{mpsc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

mod common;
use common::{AnyGuard, AnyLock, Rng};

/// Classes in the global order.
const CLASSES: usize = 64;
/// Threads of the order-following runs.
const THREADS: usize = 8;
/// Most locks a thread holds at once in the random runs.
const MAX_HELD: usize = 6;

/// Tests that compare the checker's global table sizes run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn ci_ops(default: usize) -> usize {
    std::env::var("TEST_LOCKDEP_STRESS_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Classes in one global order: class `i` is a `Mutex` when `i % 3 == 0`, else an `RwLock`.
struct Order {
    prefix: String,
    classes: Vec<&'static LockClass>,
    /// One instance per class shared by all threads: taken by blocking calls only.
    shared: Vec<AnyLock>,
}

impl Order {
    fn new(prefix: &str, n: usize) -> Order {
        let classes: Vec<&'static LockClass> = (0..n)
            .map(|i| LockClass::leak(format!("{prefix}-{i}")))
            .collect();
        let shared = Order::instances(&classes);
        Order {
            prefix: prefix.to_owned(),
            classes,
            shared,
        }
    }

    /// Takes each shared lock once, alone (a read of an `RwLock`: no writer is made up).
    fn settle_first_holds(&self) {
        for lock in &self.shared {
            drop(take(lock, 1));
        }
    }

    fn instances(classes: &[&'static LockClass]) -> Vec<AnyLock> {
        classes
            .iter()
            .enumerate()
            .map(|(i, c)| AnyLock::with_class(i % 3 == 0, c))
            .collect()
    }

    fn name(&self, i: usize) -> String {
        format!("{}-{i}", self.prefix)
    }

    /// Violations recorded that involve any class of this order.
    fn violations(&self) -> Vec<Violation> {
        let names: Vec<String> = (0..self.classes.len()).map(|i| self.name(i)).collect();
        lockdep::violations()
            .into_iter()
            .filter(|v| names.iter().any(|n| v.involves(n)))
            .collect()
    }
}

/// Blocking acquisition of `lock` in a mode picked by `pick`.
fn take(lock: &AnyLock, pick: usize) -> AnyGuard<'_> {
    match lock {
        AnyLock::M(m) => AnyGuard::M(m.lock()),
        AnyLock::R(r) => match pick % 3 {
            0 => AnyGuard::W(r.write()),
            1 => AnyGuard::R(r.read()),
            _ => AnyGuard::R(r.read_recursive()),
        },
    }
}

/// Non-blocking acquisition; `lock` is private to this thread, so it always succeeds.
fn try_take(lock: &AnyLock, pick: usize) -> AnyGuard<'_> {
    let guard = match lock {
        AnyLock::M(m) => m.try_lock().map(AnyGuard::M),
        AnyLock::R(r) => match pick % 3 {
            0 => r.try_write().map(AnyGuard::W),
            1 => r.try_read().map(AnyGuard::R),
            _ => r.try_read_recursive().map(AnyGuard::R),
        },
    };
    guard.expect("a private lock not held by this thread")
}

/// Where to inject an inversion: at operation `at`, take `hi` then `lo` (private instances).
#[derive(Clone, Copy)]
struct Inversion {
    at: usize,
    hi: usize,
    lo: usize,
}

/// `ops` random operations following the order: acquire a class above every held one
/// (blocking on the shared instance, or trying the thread's private one), release any held
/// one (out of order), or declare an allocation (held → ALLOC). The sequence depends only on
/// `seed`. Returns the number of acquisitions.
fn random_ops(order: &Order, seed: u64, ops: usize, inversion: Option<Inversion>) -> usize {
    let private = Order::instances(&order.classes);
    let n = order.classes.len();
    let mut rng = Rng::new(seed);
    let mut held: Vec<(usize, AnyGuard<'_>)> = Vec::with_capacity(MAX_HELD);
    let mut acquisitions = 0;
    for step in 0..ops {
        if let Some(inv) = inversion.filter(|inv| inv.at == step) {
            held.clear();
            let _hi = take(&private[inv.hi], 0);
            let _lo = take(&private[inv.lo], 0);
            acquisitions += 2;
        }
        let roll = rng.below(100);
        let next = held.last().map_or(0, |h| h.0 + 1);
        if !held.is_empty() && (roll < 35 || held.len() == MAX_HELD || next == n) {
            let i = rng.below(held.len());
            held.remove(i);
            continue;
        }
        if roll < 40 {
            lockdep::might_alloc();
            continue;
        }
        let class = next + rng.below(n - next);
        let pick = rng.below(3);
        let guard = if rng.below(4) == 0 {
            try_take(&private[class], pick)
        } else {
            take(&order.shared[class], pick)
        };
        held.push((class, guard));
        acquisitions += 1;
    }
    acquisitions
}

/// Runs `random_ops` on `THREADS` threads at once (seeds `seed_base + thread`).
fn run_threads(
    order: &Order,
    seed_base: u64,
    ops: usize,
    inversion: impl Fn(usize) -> Option<Inversion> + Sync,
) -> usize {
    let start = Barrier::new(THREADS);
    thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (start, inversion) = (&start, &inversion);
                s.spawn(move || {
                    start.wait();
                    random_ops(order, seed_base + t as u64, ops, inversion(t))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    })
}

fn global_order(ops: usize, prefix: &str) {
    let _serial = serial();
    lockdep::set_mode(Mode::Collect);
    let order = Order::new(prefix, CLASSES);
    // The shared locks are taken alone first: a chain whose only acquisitions are locks' first
    // holds under others is not validated for good (book/src/rules.md), and would be on the replay.
    order.settle_first_holds();
    let before = lockdep::__stats();
    let started = Instant::now();
    let acquired = run_threads(&order, 1, ops, |_| None);
    let first = lockdep::__stats();
    // The same operations again: every chain has been seen, nothing grows.
    let acquired_again = run_threads(&order, 1, ops, |_| None);
    let second = lockdep::__stats();
    let elapsed = started.elapsed();

    let found = order.violations();
    assert!(found.is_empty(), "false reports: {found:?}");
    assert_eq!(acquired, acquired_again);
    // New dependencies: at most one per ordered pair of classes, plus each class → ALLOC.
    let edges = first.edges - before.edges;
    assert!(
        edges <= CLASSES * (CLASSES - 1) / 2 + CLASSES,
        "{edges} edges"
    );
    assert_eq!(second.edges, first.edges, "the graph grew on replay");
    assert_eq!(
        second.chains, first.chains,
        "the chain table grew on replay"
    );
    assert_eq!(second.classes, first.classes);
    assert_eq!(second.graph_bytes, first.graph_bytes, "graph memory grew");
    println!(
        "{THREADS} threads x {ops} ops x 2 runs: {} acquisitions, {} new edges, {} new chains, \
         graph {} KiB, {elapsed:?}",
        acquired * 2,
        edges,
        first.chains - before.chains,
        second.graph_bytes / 1024
    );
}

#[test]
fn global_order_has_no_violation_and_bounded_tables() {
    global_order(ci_ops(100_000), "mixed-order");
}

/// Ten times the CI size: `cargo test --release --test stress_mixed -- --ignored --nocapture`.
#[test]
#[ignore]
fn global_order_ten_times() {
    global_order(1_000_000, "mixed-order-big");
}

fn one_inversion(ops: usize, prefix: &str) {
    let _serial = serial();
    lockdep::set_mode(Mode::Collect);
    let order = Order::new(prefix, CLASSES);
    // Taken alone first, so that hi's acquisition under lo below is not its first hold (whose
    // dependencies are held back, book/src/rules.md): lo → hi counts at once.
    order.settle_first_holds();
    let (lo, hi) = (3, 40); // a Mutex class and an RwLock class, taken for write
    {
        // lo → hi, so that the inversion closes a two-class cycle whatever the random runs did.
        let _lo = take(&order.shared[lo], 0);
        let _hi = take(&order.shared[hi], 0);
    }
    // Two threads take hi then lo, at different points of their runs.
    let inversion = |t: usize| {
        (t == 3 || t == 5).then(|| Inversion {
            at: ops / (t - 1),
            hi,
            lo,
        })
    };
    run_threads(&order, 100, ops, inversion);
    let found = order.violations();
    assert_eq!(found.len(), 1, "{found:?}");
    let v = &found[0];
    assert_eq!(v.kind(), ViolationKind::CircularDependency);
    let mut classes = v.classes();
    classes.sort();
    let mut expected = [order.name(hi), order.name(lo)];
    expected.sort();
    assert_eq!(classes, expected, "{v}");
}

#[test]
fn one_inverted_acquisition_is_reported_once() {
    one_inversion(ci_ops(100_000), "mixed-inv");
}

/// Ten times the CI size: `cargo test --release --test stress_mixed -- --ignored --nocapture`.
#[test]
#[ignore]
fn one_inverted_acquisition_ten_times() {
    one_inversion(1_000_000, "mixed-inv-big");
}

/// Many threads discovering new chains at the same moment, with reports, remote element
/// releases and readers of the record and of the graph alongside. Run under a watchdog: a
/// deadlock of the checker fails the test instead of hanging it.
fn contended(threads: usize, rounds: usize, prefix: &str) {
    let _serial = serial();
    lockdep::set_mode(Mode::Collect);
    let (done_tx, done_rx) = mpsc::channel();
    let prefix = prefix.to_owned();
    let worker = thread::spawn(move || {
        let order = Order::new(&prefix, 48);
        let pairs: Vec<(Mutex<()>, Mutex<()>)> = (0..threads)
            .map(|t| {
                let class = |x| LockClass::leak(format!("{prefix}-pair{t}-{x}"));
                (
                    Mutex::with_class((), class("a")),
                    Mutex::with_class((), class("b")),
                )
            })
            .collect();
        let pool: Mempool<u64> = Mempool::builder(threads, || Some(0))
            .name(format!("{prefix}-pool"))
            .reclaim_path(false)
            .build()
            .unwrap();
        let start = Barrier::new(threads + 1);
        let (senders, receivers): (Vec<_>, Vec<_>) = (0..threads)
            .map(|_| mpsc::channel::<Element<u64>>())
            .unzip();
        thread::scope(|s| {
            for (t, rx) in receivers.into_iter().enumerate() {
                let (order, pairs, pool, start) = (&order, &pairs, &pool, &start);
                let next = senders[(t + 1) % threads].clone();
                s.spawn(move || {
                    start.wait();
                    let mut rng = Rng::new(1000 + t as u64);
                    for round in 0..rounds {
                        // New chains: a burst of random ordered acquisitions.
                        random_ops(order, rng.next(), 40, None);
                        // An element taken without blocking, held across a lock, then
                        // dropped by the next thread (its release posted back to this one).
                        let e = pool.try_alloc().expect("the pool always has memory");
                        drop(take(&order.shared[rng.below(48)], 0));
                        next.send(e).unwrap();
                        while let Ok(e) = rx.try_recv() {
                            drop(e);
                        }
                        // This thread's own inversion, halfway.
                        if round == rounds / 2 {
                            let (a, b) = &pairs[t];
                            drop((a.lock(), b.lock()));
                            drop((b.lock(), a.lock()));
                        }
                    }
                    drop(next);
                    for e in rx {
                        drop(e);
                    }
                });
            }
            drop(senders);
            // Readers of the record and the graph while the writers run.
            s.spawn(|| {
                start.wait();
                for _ in 0..rounds / 4 {
                    let _ = lockdep::violations();
                    let _ = lockdep::graph_json().len();
                    let _ = lockdep::__stats();
                }
            });
        });
        let found = order.violations();
        let pairs_found = (0..threads)
            .filter(|t| {
                lockdep::violations().iter().any(|v| {
                    v.kind() == ViolationKind::CircularDependency
                        && v.involves(&format!("{prefix}-pair{t}-a"))
                        && v.involves(&format!("{prefix}-pair{t}-b"))
                })
            })
            .count();
        let pool_found = lockdep::violations()
            .iter()
            .filter(|v| v.involves(&format!("{prefix}-pool")))
            .count();
        let _ = done_tx.send((found, pairs_found, pool_found, pool.outstanding()));
    });
    let (found, pairs_found, pool_found, outstanding) = done_rx
        .recv_timeout(Duration::from_secs(300))
        .expect("the checker deadlocked (no progress in 300 s)");
    worker.join().unwrap();
    assert!(found.is_empty(), "false reports: {found:?}");
    assert_eq!(pool_found, 0);
    assert_eq!(
        pairs_found, threads,
        "every thread's own inversion is reported"
    );
    assert_eq!(outstanding, 0);
}

#[test]
fn contended_slow_path_never_deadlocks() {
    contended(16, 200, "mixed-contended");
}

/// Ten times the CI size: `cargo test --release --test stress_mixed -- --ignored --nocapture`.
#[test]
#[ignore]
fn contended_slow_path_ten_times() {
    contended(64, 5_000, "mixed-contended-big");
}
