//! `lockdep::tokio::sync` against `tokio::sync` (issue 23): an uncontended lock and unlock of
//! the `Mutex` (and, for the record, a nest of two, a write of the `RwLock` and a permit of the
//! `Semaphore`), awaited inside a current-thread runtime's `block_on`, tokio's and lockdep's
//! side by side in one process: lockdep checking (mode collect) and with the mode off.
//!
//! Each variant times a loop of `iters` operations inside one `block_on` of its own
//! current-thread runtime, on objects made once, so the runtime's own cost per iteration
//! (tokio's cooperative budget makes the future yield once every 128 acquisitions, for both)
//! is the same for both. Built without the `enabled` feature,
//! `lockdep::tokio::sync` is `tokio::sync`: group `tokio_mutex_featoff` measures that it is.

use std::future::Future;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

#[cfg(feature = "enabled")]
mod common;
#[cfg(feature = "enabled")]
use common::with_mode;

/// Times `op` run `iters` times in one `block_on` of `rt`.
fn timed<F: Future<Output = ()>>(
    rt: &tokio::runtime::Runtime,
    iters: u64,
    mut op: impl FnMut() -> F,
) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            op().await;
        }
        start.elapsed()
    })
}

/// A measured loop: the operation on objects made once (so that every sample measures the
/// steady state), `iters` times in one `block_on` of a current-thread runtime made once.
type Loop = Box<dyn FnMut(u64) -> Duration>;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// The loop of one lock and unlock of a mutex made by `$new` (a `Mutex::new` path).
macro_rules! mutex_loop {
    ($new:path) => {{
        let (rt, m) = (runtime(), $new(0u64));
        Box::new(move |iters| timed(&rt, iters, || async { *black_box(&m).lock().await += 1 }))
            as Loop
    }};
}

/// The loop of a nest of two mutexes (lock A, lock B, unlock B, unlock A). The two are made
/// by the caller's expressions, at two sites: two classes, as the nest of `benches/nest.rs`
/// (made in this macro's body, they would share the invocation's site and be one class,
/// whose nesting is checked lock by lock, every time).
macro_rules! nest_loop {
    ($a:expr, $b:expr) => {{
        let (rt, a, b) = (runtime(), $a, $b);
        Box::new(move |iters| {
            timed(&rt, iters, || async {
                let mut ga = black_box(&a).lock().await;
                let mut gb = black_box(&b).lock().await;
                *gb += 1;
                *ga += 1;
            })
        }) as Loop
    }};
}

/// The loop of a write lock and unlock of a reader-writer lock.
macro_rules! rwlock_loop {
    ($new:path) => {{
        let (rt, l) = (runtime(), $new(0u64));
        Box::new(move |iters| timed(&rt, iters, || async { *black_box(&l).write().await += 1 }))
            as Loop
    }};
}

/// The loop of one permit acquired and given back.
macro_rules! semaphore_loop {
    ($new:path) => {{
        let (rt, s) = (runtime(), $new(4));
        Box::new(move |iters| {
            timed(&rt, iters, || async {
                drop(black_box(&s).acquire().await.unwrap());
            })
        }) as Loop
    }};
}

/// One group per operation: tokio, lockdep, and lockdep with the mode off.
#[cfg(feature = "enabled")]
fn tokio_sync(c: &mut Criterion) {
    lockdep::set_mode(lockdep::Mode::Collect);
    let groups: [(&str, Loop, Loop); 4] = [
        (
            "tokio_mutex",
            mutex_loop!(tokio::sync::Mutex::new),
            mutex_loop!(lockdep::tokio::sync::Mutex::new),
        ),
        (
            "tokio_mutex_nest",
            nest_loop!(tokio::sync::Mutex::new(0u64), tokio::sync::Mutex::new(0u64)),
            nest_loop!(
                lockdep::tokio::sync::Mutex::new(0u64),
                lockdep::tokio::sync::Mutex::new(0u64)
            ),
        ),
        (
            "tokio_rwlock_write",
            rwlock_loop!(tokio::sync::RwLock::new),
            rwlock_loop!(lockdep::tokio::sync::RwLock::new),
        ),
        (
            "tokio_semaphore",
            semaphore_loop!(tokio::sync::Semaphore::new),
            semaphore_loop!(lockdep::tokio::sync::Semaphore::new),
        ),
    ];
    for (group, mut base, mut checked) in groups {
        let mut g = c.benchmark_group(group);
        g.bench_function("tokio", |b| b.iter_custom(&mut base));
        g.bench_function("lockdep", |b| b.iter_custom(&mut checked));
        g.bench_function("lockdep_mode_off", |b| {
            with_mode(lockdep::Mode::Off, || b.iter_custom(&mut checked))
        });
        g.finish();
        interleaved(group, &mut base, &mut checked);
    }
    assert!(
        lockdep::violations().is_empty(),
        "the tokio bench must not provoke violations"
    );
}

/// The three variants of `group` measured in turn, round after round (200 rounds of 20,000
/// operations each), printed as the fastest, the 10th percentile and the median round per
/// operation: on a shared machine whose load changes while criterion measures one variant
/// after the other, a ratio of these is the steadier figure.
#[cfg(feature = "enabled")]
fn interleaved(group: &str, base: &mut Loop, checked: &mut Loop) {
    const ROUNDS: usize = 200;
    const OPS: u64 = 20_000;
    let mut rounds: [Vec<f64>; 3] = Default::default();
    for _ in 0..ROUNDS {
        for (variant, times) in rounds.iter_mut().enumerate() {
            let elapsed = match variant {
                0 => base(OPS),
                1 => checked(OPS),
                _ => with_mode(lockdep::Mode::Off, || checked(OPS)),
            };
            times.push(elapsed.as_nanos() as f64 / OPS as f64);
        }
    }
    let [tokio, lockdep, mode_off] = rounds.map(|mut times| {
        times.sort_by(f64::total_cmp);
        [times[0], times[ROUNDS / 10], times[ROUNDS / 2]]
    });
    let show = |t: [f64; 3]| format!("{:.1}/{:.1}/{:.1}", t[0], t[1], t[2]);
    println!(
        "INTERLEAVED {group} ns per op min/p10/median: tokio {} lockdep {} ({:.2}x at p10) \
         lockdep_mode_off {} ({:.2}x at p10)",
        show(tokio),
        show(lockdep),
        lockdep[1] / tokio[1],
        show(mode_off),
        mode_off[1] / tokio[1],
    );
}

/// `lockdep::tokio::sync` is `tokio::sync` here: the same lock twice, as a check of that.
#[cfg(not(feature = "enabled"))]
fn tokio_sync(c: &mut Criterion) {
    let (mut base, mut ours) = (
        mutex_loop!(tokio::sync::Mutex::new),
        mutex_loop!(lockdep::tokio::sync::Mutex::new),
    );
    let _unused = (
        nest_loop!(tokio::sync::Mutex::new(0u64), tokio::sync::Mutex::new(0u64)),
        rwlock_loop!(tokio::sync::RwLock::new),
        semaphore_loop!(tokio::sync::Semaphore::new),
    );
    let mut g = c.benchmark_group("tokio_mutex_featoff");
    g.bench_function("tokio", |b| b.iter_custom(&mut base));
    g.bench_function("lockdep", |b| b.iter_custom(&mut ours));
    g.finish();
}

criterion_group!(benches, tokio_sync);
criterion_main!(benches);
