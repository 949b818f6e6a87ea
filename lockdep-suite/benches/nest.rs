//! Bench 1 and 2 of issue 5: a two-lock nest (lock A, lock B, unlock B, unlock A), steady
//! state, uncontended, on 1 and 2 threads (each thread its own instances of the same two
//! classes): parking_lot vs lockdep vs tracing-mutex, and lockdep with the mode off.
//!
//! Built without the `enabled` feature (`cargo bench --no-default-features --bench nest`) it
//! measures the feature-off newtypes against parking_lot instead (group `nest_featoff`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

mod loops;

#[cfg(feature = "enabled")]
mod common;
#[cfg(feature = "enabled")]
use common::{with_mode, Workers};

static CLASS_A: lockdep::LockClass = lockdep::LockClass::new("bench-nest-A");
static CLASS_B: lockdep::LockClass = lockdep::LockClass::new("bench-nest-B");

#[inline(never)]
fn nest_parking_lot(a: &parking_lot::Mutex<u64>, b: &parking_lot::Mutex<u64>) {
    let mut ga = a.lock();
    let mut gb = b.lock();
    *gb += 1;
    *ga += 1;
    drop(gb);
    drop(ga);
}

#[inline(never)]
fn nest_lockdep(a: &lockdep::Mutex<u64>, b: &lockdep::Mutex<u64>) {
    let mut ga = a.lock();
    let mut gb = b.lock();
    *gb += 1;
    *ga += 1;
    drop(gb);
    drop(ga);
}

#[cfg(feature = "enabled")]
#[inline(never)]
fn nest_tracing(
    a: &tracing_mutex::stdsync::tracing::Mutex<u64>,
    b: &tracing_mutex::stdsync::tracing::Mutex<u64>,
) {
    let mut ga = a.lock().unwrap();
    let mut gb = b.lock().unwrap();
    *gb += 1;
    *ga += 1;
    drop(gb);
    drop(ga);
}

fn parking_lot_op() -> impl FnMut() {
    let a = Box::new(parking_lot::Mutex::new(0u64));
    let b = Box::new(parking_lot::Mutex::new(0u64));
    move || nest_parking_lot(black_box(&a), black_box(&b))
}

fn lockdep_op() -> impl FnMut() {
    let a = Box::new(lockdep::Mutex::with_class(0u64, &CLASS_A));
    let b = Box::new(lockdep::Mutex::with_class(0u64, &CLASS_B));
    move || nest_lockdep(black_box(&a), black_box(&b))
}

#[cfg(feature = "enabled")]
fn tracing_op() -> impl FnMut() {
    let a = Box::new(tracing_mutex::stdsync::tracing::Mutex::new(0u64));
    let b = Box::new(tracing_mutex::stdsync::tracing::Mutex::new(0u64));
    move || nest_tracing(black_box(&a), black_box(&b))
}

/// `op` timed on this thread, at the spread of stack depths of [`loops::at_stack_depths`].
fn on_one_thread(mut op: impl FnMut()) -> impl FnMut(u64) -> Duration {
    move |iters| {
        loops::at_stack_depths(iters, |part| {
            let start = Instant::now();
            for _ in 0..part {
                op();
            }
            start.elapsed()
        })
    }
}

#[cfg(feature = "enabled")]
fn nest(c: &mut Criterion) {
    lockdep::set_mode(lockdep::Mode::Collect);
    for threads in [1usize, 2] {
        let mut g = c.benchmark_group(format!("nest_{threads}t"));
        if threads == 1 {
            g.bench_function("parking_lot", |b| {
                b.iter_custom(on_one_thread(parking_lot_op()))
            });
            g.bench_function("lockdep", |b| b.iter_custom(on_one_thread(lockdep_op())));
            g.bench_function("lockdep_mode_off", |b| {
                with_mode(lockdep::Mode::Off, || {
                    b.iter_custom(on_one_thread(lockdep_op()))
                })
            });
            g.bench_function("tracing_mutex", |b| {
                b.iter_custom(on_one_thread(tracing_op()))
            });
        } else {
            let w = Workers::new(threads, |_| parking_lot_op());
            g.bench_function("parking_lot", |b| b.iter_custom(|n| w.run(n)));
            drop(w);
            let w = Workers::new(threads, |_| lockdep_op());
            g.bench_function("lockdep", |b| b.iter_custom(|n| w.run(n)));
            drop(w);
            with_mode(lockdep::Mode::Off, || {
                let w = Workers::new(threads, |_| lockdep_op());
                g.bench_function("lockdep_mode_off", |b| b.iter_custom(|n| w.run(n)));
            });
            let w = Workers::new(threads, |_| tracing_op());
            g.bench_function("tracing_mutex", |b| b.iter_custom(|n| w.run(n)));
        }
        g.finish();
    }
    assert!(
        lockdep::violations().is_empty(),
        "the nest bench must not provoke violations"
    );
}

#[cfg(not(feature = "enabled"))]
fn nest(c: &mut Criterion) {
    println!(
        "SIZEOF lockdep::Mutex<u64>={} parking_lot::Mutex<u64>={} lockdep::RwLock<u64>={} parking_lot::RwLock<u64>={}",
        std::mem::size_of::<lockdep::Mutex<u64>>(),
        std::mem::size_of::<parking_lot::Mutex<u64>>(),
        std::mem::size_of::<lockdep::RwLock<u64>>(),
        std::mem::size_of::<parking_lot::RwLock<u64>>(),
    );
    let mut g = c.benchmark_group("nest_featoff_1t");
    g.bench_function("parking_lot", |b| {
        b.iter_custom(on_one_thread(parking_lot_op()))
    });
    g.bench_function("lockdep", |b| b.iter_custom(on_one_thread(lockdep_op())));
    g.finish();
}

criterion_group!(benches, nest);
criterion_main!(benches);
