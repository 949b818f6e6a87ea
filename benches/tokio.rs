//! `lockdep::tokio::sync` against `tokio::sync` (issue 23): an uncontended lock and unlock of
//! the `Mutex` (and, for the record, a nest of two, a write of the `RwLock` and a permit of the
//! `Semaphore`), awaited inside a current-thread runtime's `block_on`, tokio's and lockdep's
//! side by side in one process: lockdep checking (mode collect) and with the mode off.
//!
//! Each variant times a loop of `iters` operations inside one `block_on`, so the runtime's
//! own cost per iteration (tokio's cooperative budget makes the future yield once every 128
//! acquisitions, for both) is the same for both. Built without the `enabled` feature,
//! `lockdep::tokio::sync` is `tokio::sync`: group `tokio_mutex_featoff` measures that it is.

use std::future::Future;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

#[cfg(feature = "enabled")]
mod common;
#[cfg(feature = "enabled")]
use common::with_mode;

/// Times `op` run `iters` times in one `block_on` of a current-thread runtime.
fn timed<F: Future<Output = ()>>(iters: u64, mut op: impl FnMut() -> F) -> Duration {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            op().await;
        }
        start.elapsed()
    })
}

/// One lock and unlock of a mutex made by `$new` (a `Mutex::new` path), `iters` times.
macro_rules! mutex_loop {
    ($new:path, $iters:expr) => {{
        let m = $new(0u64);
        timed($iters, || async { *black_box(&m).lock().await += 1 })
    }};
}

/// A nest of two mutexes (lock A, lock B, unlock B, unlock A), `iters` times.
macro_rules! nest_loop {
    ($new:path, $iters:expr) => {{
        let (a, b) = ($new(0u64), $new(0u64));
        timed($iters, || async {
            let mut ga = black_box(&a).lock().await;
            let mut gb = black_box(&b).lock().await;
            *gb += 1;
            *ga += 1;
        })
    }};
}

/// A write lock and unlock of a reader-writer lock, `iters` times.
macro_rules! rwlock_loop {
    ($new:path, $iters:expr) => {{
        let l = $new(0u64);
        timed($iters, || async { *black_box(&l).write().await += 1 })
    }};
}

/// One permit acquired and given back, `iters` times.
macro_rules! semaphore_loop {
    ($new:path, $iters:expr) => {{
        let s = $new(4);
        timed($iters, || async {
            drop(black_box(&s).acquire().await.unwrap());
        })
    }};
}

fn tokio_mutex(iters: u64) -> Duration {
    mutex_loop!(tokio::sync::Mutex::new, iters)
}
fn lockdep_mutex(iters: u64) -> Duration {
    mutex_loop!(lockdep::tokio::sync::Mutex::new, iters)
}
fn tokio_nest(iters: u64) -> Duration {
    nest_loop!(tokio::sync::Mutex::new, iters)
}
fn lockdep_nest(iters: u64) -> Duration {
    nest_loop!(lockdep::tokio::sync::Mutex::new, iters)
}
fn tokio_rwlock(iters: u64) -> Duration {
    rwlock_loop!(tokio::sync::RwLock::new, iters)
}
fn lockdep_rwlock(iters: u64) -> Duration {
    rwlock_loop!(lockdep::tokio::sync::RwLock::new, iters)
}
fn tokio_semaphore(iters: u64) -> Duration {
    semaphore_loop!(tokio::sync::Semaphore::new, iters)
}
fn lockdep_semaphore(iters: u64) -> Duration {
    semaphore_loop!(lockdep::tokio::sync::Semaphore::new, iters)
}

/// One group per operation: tokio, lockdep, and lockdep with the mode off.
#[cfg(feature = "enabled")]
fn tokio_sync(c: &mut Criterion) {
    lockdep::set_mode(lockdep::Mode::Collect);
    type Loop = fn(u64) -> Duration;
    let groups: [(&str, Loop, Loop); 4] = [
        ("tokio_mutex", tokio_mutex, lockdep_mutex),
        ("tokio_mutex_nest", tokio_nest, lockdep_nest),
        ("tokio_rwlock_write", tokio_rwlock, lockdep_rwlock),
        ("tokio_semaphore", tokio_semaphore, lockdep_semaphore),
    ];
    for (group, base, checked) in groups {
        let mut g = c.benchmark_group(group);
        g.bench_function("tokio", |b| b.iter_custom(base));
        g.bench_function("lockdep", |b| b.iter_custom(checked));
        g.bench_function("lockdep_mode_off", |b| {
            with_mode(lockdep::Mode::Off, || b.iter_custom(checked))
        });
        g.finish();
    }
    assert!(
        lockdep::violations().is_empty(),
        "the tokio bench must not provoke violations"
    );
}

#[cfg(not(feature = "enabled"))]
fn tokio_sync(c: &mut Criterion) {
    // `lockdep::tokio::sync` is `tokio::sync` here.
    let _ = (tokio_nest, lockdep_nest, tokio_rwlock, lockdep_rwlock);
    let _ = (tokio_semaphore, lockdep_semaphore);
    let mut g = c.benchmark_group("tokio_mutex_featoff");
    g.bench_function("tokio", |b| b.iter_custom(tokio_mutex));
    g.bench_function("lockdep", |b| b.iter_custom(lockdep_mutex));
    g.finish();
}

criterion_group!(benches, tokio_sync);
criterion_main!(benches);
