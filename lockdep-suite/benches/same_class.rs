//! Locks of one class nested (issue 24, target 1), side by side with parking_lot in one run:
//! a pair of one class taken in one order (the two fields of a `#[derive(Default)]`, two
//! shards), and a hand-over-hand walk of a 100,000-node list (lock the next node, then release
//! the one held). Steady state: the orders were seen before. lockdep with checking on and with
//! the mode off; built without the `enabled` feature (`cargo bench --no-default-features
//! --bench same_class`), the newtypes against parking_lot.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

mod loops;

#[cfg(feature = "enabled")]
mod common;
#[cfg(feature = "enabled")]
use common::with_mode;

/// Nodes of the walked list.
const NODES: usize = 100_000;

static PAIR: lockdep::LockClass = lockdep::LockClass::new("bench-same-class-pair");
static NODE: lockdep::LockClass = lockdep::LockClass::new("bench-same-class-node");

#[inline(never)]
fn pair_parking_lot(a: &parking_lot::Mutex<u64>, b: &parking_lot::Mutex<u64>) {
    let mut ga = a.lock();
    let mut gb = b.lock();
    *gb += 1;
    *ga += 1;
}

#[inline(never)]
fn pair_lockdep(a: &lockdep::Mutex<u64>, b: &lockdep::Mutex<u64>) {
    let mut ga = a.lock();
    let mut gb = b.lock();
    *gb += 1;
    *ga += 1;
}

/// Walks `nodes` hand over hand: each lock taken while the previous one is held.
#[inline(never)]
fn walk_parking_lot(nodes: &[parking_lot::Mutex<u64>]) {
    let mut held = nodes[0].lock();
    for node in &nodes[1..] {
        let mut next = node.lock();
        *next += 1;
        held = next;
    }
    *held += 1;
}

#[inline(never)]
fn walk_lockdep(nodes: &[lockdep::Mutex<u64>]) {
    let mut held = nodes[0].lock();
    for node in &nodes[1..] {
        let mut next = node.lock();
        *next += 1;
        held = next;
    }
    *held += 1;
}

/// `n` runs of `op`, timed at the spread of stack depths of [`loops::at_stack_depths`].
fn timed(n: u64, op: impl Fn()) -> Duration {
    loops::at_stack_depths(n, |part| {
        let start = Instant::now();
        for _ in 0..part {
            op();
        }
        start.elapsed()
    })
}

fn lockdep_nodes() -> Vec<lockdep::Mutex<u64>> {
    (0..NODES)
        .map(|_| lockdep::Mutex::with_class(0, &NODE))
        .collect()
}

fn pair(c: &mut Criterion) {
    let group_name = if cfg!(feature = "enabled") {
        "same_class_pair"
    } else {
        "same_class_pair_featoff"
    };
    let mut g = c.benchmark_group(group_name);
    let (pa, pb) = (parking_lot::Mutex::new(0), parking_lot::Mutex::new(0));
    g.bench_function("parking_lot", |b| {
        b.iter_custom(|n| timed(n, || pair_parking_lot(black_box(&pa), black_box(&pb))))
    });
    let (la, lb) = (
        lockdep::Mutex::with_class(0, &PAIR),
        lockdep::Mutex::with_class(0, &PAIR),
    );
    g.bench_function("lockdep", |b| {
        b.iter_custom(|n| timed(n, || pair_lockdep(black_box(&la), black_box(&lb))))
    });
    #[cfg(feature = "enabled")]
    g.bench_function("lockdep_mode_off", |b| {
        with_mode(lockdep::Mode::Off, || {
            b.iter_custom(|n| timed(n, || pair_lockdep(black_box(&la), black_box(&lb))))
        })
    });
    g.finish();
}

fn walk(c: &mut Criterion) {
    let group_name = if cfg!(feature = "enabled") {
        "same_class_walk"
    } else {
        "same_class_walk_featoff"
    };
    let mut g = c.benchmark_group(group_name);
    // Per step: one lock and one unlock.
    g.throughput(Throughput::Elements(NODES as u64));
    g.sample_size(20);
    let pl: Vec<parking_lot::Mutex<u64>> = (0..NODES).map(|_| parking_lot::Mutex::new(0)).collect();
    g.bench_function("parking_lot", |b| {
        b.iter_batched(
            || (),
            |()| walk_parking_lot(black_box(&pl)),
            BatchSize::PerIteration,
        )
    });
    let ld = lockdep_nodes();
    walk_lockdep(&ld); // the order of the walk, seen once
    g.bench_function("lockdep", |b| {
        b.iter_batched(
            || (),
            |()| walk_lockdep(black_box(&ld)),
            BatchSize::PerIteration,
        )
    });
    #[cfg(feature = "enabled")]
    g.bench_function("lockdep_mode_off", |b| {
        with_mode(lockdep::Mode::Off, || {
            b.iter_batched(
                || (),
                |()| walk_lockdep(black_box(&ld)),
                BatchSize::PerIteration,
            )
        })
    });
    g.finish();
}

criterion_group!(benches, pair, walk);
criterion_main!(benches);
