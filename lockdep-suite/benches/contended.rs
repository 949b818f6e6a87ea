//! Contention (issue 24, target 2): one lock shared by 2 and 8 threads, each thread doing a
//! fixed number of lock/increment/unlock operations, so that the time is throughput: the
//! figure per iteration is the wall time for every thread to do one operation (from releasing
//! them together to the last one done, over the iterations), so per acquisition it is that
//! divided by the number of threads. parking_lot's `Mutex`/`RwLock` against `lockdep::Mutex`/`lockdep::RwLock`
//! (checking, and with `Mode::Off`), side by side in one process:
//!
//! * `contended_mutex_{2,8}t`: `*m.lock() += 1`;
//! * `contended_rwlock_write_{2,8}t`: `*l.write() += 1`;
//! * `contended_rwlock_read_{2,8}t`: read-mostly, one write in 16 operations, the rest reads.
//!
//! And a thread storm (`storm`): 20,000 short threads, 100 at a time, each nesting two locks
//! shared by all of them; one iteration is the whole storm.
//!
//! Built without the `enabled` feature (`cargo bench --no-default-features --bench contended`)
//! it measures the compiled-out newtypes against parking_lot instead (groups
//! `contended_featoff_*` and `storm_featoff`). `scripts/bench-summary` turns both into rows.

use std::hint::black_box;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode};

#[cfg(feature = "enabled")]
mod common;
#[cfg(feature = "enabled")]
use common::with_mode;

/// Thread counts of the contended groups.
const THREADS: [usize; 2] = [2, 8];
/// The read-mostly case writes once in this many operations.
const WRITE_EVERY: u64 = 16;
/// The storm: this many threads in all, started and joined this many at a time.
const STORM_THREADS: usize = 20_000;
const STORM_BATCH: usize = 100;

/// `n` threads started once, sharing one lock: each request has every thread run `iters`
/// operations, all released together, and is timed from that release until the last thread
/// is done. Wall time, so throughput whether the threads overlapped or, on a loaded machine,
/// ran one after another (`common::Workers` times each thread's own loop, which then reads
/// as if there had been no contention).
struct Team {
    start: Arc<Barrier>,
    jobs: Vec<Sender<Option<u64>>>,
    done: Receiver<()>,
    threads: Vec<JoinHandle<()>>,
}

/// The shared lock on cache lines of its own (two, for the adjacent-line prefetcher), so that
/// where the heap puts it (beside what else, across which line boundary) is not a difference
/// between the variants.
#[repr(align(128))]
struct Alone<L>(L);

impl Team {
    /// `n` threads sharing the lock `make` makes, each running `op` on it (`op`'s second
    /// argument counts the thread's operations).
    fn new<L: Send + Sync + 'static>(n: usize, make: fn() -> L, op: fn(&L, u64)) -> Team {
        let lock = Arc::new(Alone(make()));
        let start = Arc::new(Barrier::new(n + 1));
        let (done_tx, done) = channel();
        let (mut jobs, mut threads) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let (tx, rx) = channel::<Option<u64>>();
            let (lock, start, done_tx) = (lock.clone(), start.clone(), done_tx.clone());
            threads.push(std::thread::spawn(move || {
                while let Ok(Some(iters)) = rx.recv() {
                    start.wait();
                    for i in 0..iters {
                        op(&lock.0, i);
                    }
                    done_tx.send(()).unwrap();
                }
            }));
            jobs.push(tx);
        }
        Team {
            start,
            jobs,
            done,
            threads,
        }
    }

    fn run(&self, iters: u64) -> Duration {
        for j in &self.jobs {
            j.send(Some(iters)).unwrap();
        }
        self.start.wait();
        let start = Instant::now();
        for _ in &self.jobs {
            self.done.recv().unwrap();
        }
        start.elapsed()
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        for j in &self.jobs {
            let _ = j.send(None);
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// One variant of a contended group: `n` threads sharing the lock `make` makes, running `op`.
fn bench_case<L: Send + Sync + 'static>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    n: usize,
    make: fn() -> L,
    op: fn(&L, u64),
) {
    g.bench_function(name, |b| {
        let team = Team::new(n, make, op);
        b.iter_custom(|iters| team.run(iters))
    });
}

// Each lock is made here, by `new`: lockdep's class is this creation site.

fn pl_mutex() -> parking_lot::Mutex<u64> {
    parking_lot::Mutex::new(0)
}
fn lockdep_mutex() -> lockdep::Mutex<u64> {
    lockdep::Mutex::new(0)
}
fn pl_rwlock() -> parking_lot::RwLock<u64> {
    parking_lot::RwLock::new(0)
}
fn lockdep_rwlock() -> lockdep::RwLock<u64> {
    lockdep::RwLock::new(0)
}

/// The operations, written once for both kinds of lock.
macro_rules! ops {
    ($mutex:ident, $write:ident, $read_mostly:ident, $M:ty, $R:ty) => {
        fn $mutex(m: &$M, _: u64) {
            *m.lock() += 1;
        }
        fn $write(l: &$R, _: u64) {
            *l.write() += 1;
        }
        fn $read_mostly(l: &$R, i: u64) {
            if i % WRITE_EVERY == 0 {
                *l.write() += 1;
            } else {
                black_box(*l.read());
            }
        }
    };
}
ops!(
    pl_mutex_op,
    pl_write_op,
    pl_read_mostly_op,
    parking_lot::Mutex<u64>,
    parking_lot::RwLock<u64>
);
ops!(
    lockdep_mutex_op,
    lockdep_write_op,
    lockdep_read_mostly_op,
    lockdep::Mutex<u64>,
    lockdep::RwLock<u64>
);

/// A contended group: every sample the same number of iterations (flat sampling), each long
/// enough that releasing the threads together is a small part of it, where criterion's
/// default (linear) sampling starts with samples of a few operations per thread.
fn group(c: &mut Criterion, name: String) -> BenchmarkGroup<'_, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sampling_mode(SamplingMode::Flat);
    g
}

/// The contended groups, `prefix` naming the build (`contended` or `contended_featoff`).
fn contended_groups(c: &mut Criterion, prefix: &str) {
    for n in THREADS {
        let mut g = group(c, format!("{prefix}_mutex_{n}t"));
        bench_case(&mut g, "parking_lot", n, pl_mutex, pl_mutex_op);
        lockdep_cases(&mut g, n, lockdep_mutex, lockdep_mutex_op);
        g.finish();
        let mut g = group(c, format!("{prefix}_rwlock_write_{n}t"));
        bench_case(&mut g, "parking_lot", n, pl_rwlock, pl_write_op);
        lockdep_cases(&mut g, n, lockdep_rwlock, lockdep_write_op);
        g.finish();
        let mut g = group(c, format!("{prefix}_rwlock_read_{n}t"));
        bench_case(&mut g, "parking_lot", n, pl_rwlock, pl_read_mostly_op);
        lockdep_cases(&mut g, n, lockdep_rwlock, lockdep_read_mostly_op);
        g.finish();
    }
}

/// lockdep's variants of a group: checking, and with `Mode::Off` (compiled out: the one).
fn lockdep_cases<L: Send + Sync + 'static>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    n: usize,
    make: fn() -> L,
    op: fn(&L, u64),
) {
    bench_case(g, "lockdep", n, make, op);
    #[cfg(feature = "enabled")]
    with_mode(lockdep::Mode::Off, || {
        bench_case(g, "lockdep_mode_off", n, make, op)
    });
}

/// The storm: `STORM_THREADS` threads, `STORM_BATCH` at a time, each taking `a` then `b`
/// (two classes: two creation sites), `iters` times over.
macro_rules! storm {
    ($a:expr, $b:expr, $iters:expr) => {{
        let (a, b) = ($a, $b);
        let start = Instant::now();
        for _ in 0..$iters {
            for _ in 0..STORM_THREADS / STORM_BATCH {
                std::thread::scope(|s| {
                    for _ in 0..STORM_BATCH {
                        s.spawn(|| {
                            let mut ga = a.lock();
                            let mut gb = b.lock();
                            *gb += 1;
                            *ga += 1;
                        });
                    }
                });
            }
        }
        black_box((&a, &b));
        start.elapsed()
    }};
}

fn storm_parking_lot(iters: u64) -> Duration {
    storm!(
        parking_lot::Mutex::new(0u64),
        parking_lot::Mutex::new(0u64),
        iters
    )
}

fn storm_lockdep(iters: u64) -> Duration {
    storm!(lockdep::Mutex::new(0u64), lockdep::Mutex::new(0u64), iters)
}

fn storm_group(c: &mut Criterion, group: &str) {
    let mut g = c.benchmark_group(group);
    // One iteration is a whole storm (about half a second): ten of them per variant.
    g.sampling_mode(SamplingMode::Flat).sample_size(10);
    g.bench_function("parking_lot", |b| b.iter_custom(storm_parking_lot));
    g.bench_function("lockdep", |b| b.iter_custom(storm_lockdep));
    #[cfg(feature = "enabled")]
    g.bench_function("lockdep_mode_off", |b| {
        with_mode(lockdep::Mode::Off, || b.iter_custom(storm_lockdep))
    });
    g.finish();
}

#[cfg(feature = "enabled")]
fn contended(c: &mut Criterion) {
    lockdep::set_mode(lockdep::Mode::Collect);
    contended_groups(c, "contended");
    storm_group(c, "storm");
    assert!(
        lockdep::violations().is_empty(),
        "the contended bench must not provoke violations"
    );
}

#[cfg(not(feature = "enabled"))]
fn contended(c: &mut Criterion) {
    contended_groups(c, "contended_featoff");
    storm_group(c, "storm_featoff");
}

criterion_group!(benches, contended);
criterion_main!(benches);
