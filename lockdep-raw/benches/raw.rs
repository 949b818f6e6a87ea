//! `lockdep-raw` against `parking_lot`: uncontended mutex and rwlock lock+unlock, and a
//! two-thread contended mutex and rwlock.
//!
//! `cargo bench -p lockdep-raw --bench raw -- --measurement-time 2`

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

type RawMutexLock = lock_api::Mutex<lockdep_raw::RawMutex, u64>;
type RawRwLock = lock_api::RwLock<lockdep_raw::RawRwLock, u64>;

fn uncontended(c: &mut Criterion) {
    let mut g = c.benchmark_group("uncontended");

    let ours = RawMutexLock::new(0);
    g.bench_function(BenchmarkId::new("mutex", "lockdep_raw"), |b| {
        b.iter(|| *black_box(&ours).lock() += 1)
    });
    let theirs = parking_lot::Mutex::new(0u64);
    g.bench_function(BenchmarkId::new("mutex", "parking_lot"), |b| {
        b.iter(|| *black_box(&theirs).lock() += 1)
    });

    let ours = RawRwLock::new(0);
    g.bench_function(BenchmarkId::new("rwlock_read", "lockdep_raw"), |b| {
        b.iter(|| *black_box(&ours).read())
    });
    let theirs = parking_lot::RwLock::new(0u64);
    g.bench_function(BenchmarkId::new("rwlock_read", "parking_lot"), |b| {
        b.iter(|| *black_box(&theirs).read())
    });

    g.bench_function(BenchmarkId::new("rwlock_write", "lockdep_raw"), |b| {
        b.iter(|| *black_box(&ours).write() += 1)
    });
    g.bench_function(BenchmarkId::new("rwlock_write", "parking_lot"), |b| {
        b.iter(|| *black_box(&theirs).write() += 1)
    });
    g.finish();
}

/// Total time for two threads to do `iters / 2` operations each, reported per operation.
fn two_threads(iters: u64, op: impl Fn(u64) + Sync) -> Duration {
    let per_thread = iters.div_ceil(2);
    let start_line = Barrier::new(2);
    let start = Instant::now();
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                start_line.wait();
                for i in 0..per_thread {
                    op(i);
                }
            });
        }
    });
    start.elapsed()
}

fn contended(c: &mut Criterion) {
    let mut g = c.benchmark_group("contended_2_threads");

    let ours = RawMutexLock::new(0);
    g.bench_function(BenchmarkId::new("mutex", "lockdep_raw"), |b| {
        b.iter_custom(|iters| two_threads(iters, |_| *ours.lock() += 1))
    });
    let theirs = parking_lot::Mutex::new(0u64);
    g.bench_function(BenchmarkId::new("mutex", "parking_lot"), |b| {
        b.iter_custom(|iters| two_threads(iters, |_| *theirs.lock() += 1))
    });

    // One write per 8 operations, the rest reads.
    let ours = RawRwLock::new(0);
    g.bench_function(BenchmarkId::new("rwlock_mixed", "lockdep_raw"), |b| {
        b.iter_custom(|iters| {
            two_threads(iters, |i| {
                if i % 8 == 0 {
                    *ours.write() += 1;
                } else {
                    black_box(*ours.read());
                }
            })
        })
    });
    let theirs = parking_lot::RwLock::new(0u64);
    g.bench_function(BenchmarkId::new("rwlock_mixed", "parking_lot"), |b| {
        b.iter_custom(|iters| {
            two_threads(iters, |i| {
                if i % 8 == 0 {
                    *theirs.write() += 1;
                } else {
                    black_box(*theirs.read());
                }
            })
        })
    });
    g.finish();
}

criterion_group!(benches, uncontended, contended);
criterion_main!(benches);
