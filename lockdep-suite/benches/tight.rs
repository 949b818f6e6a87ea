//! The tight-loop nest of issue 14: two `Mutex<u64>`s made by `Mutex::new` (creation-site
//! classes) in a function of this crate, nested in a plain `for` loop with nothing between
//! the loop and the lock calls (no `#[inline(never)]` wrapper, no boxed indirection), on 1
//! and 2 threads; and one lock and unlock alone. parking_lot, lockdep, lockdep with the mode
//! off and tracing-mutex side by side, so that the nanoseconds lockdep adds per acquisition
//! show beside the ratio (`scripts/bench-summary`).
//!
//! The same nest with the locks made by an `#[inline(never)]` function (group
//! `tight_opaque_1t`), as a user's locks are made out of the loop's sight.
//!
//! Built without the `enabled` feature it measures the compiled-out newtypes against
//! parking_lot (groups `tight_featoff_1t`, `tight_opaque_featoff_1t`).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

#[macro_use]
mod loops;
use loops::at_stack_depths;
#[cfg(feature = "enabled")]
use loops::two_threads;

#[cfg(feature = "enabled")]
mod common;
#[cfg(feature = "enabled")]
use common::with_mode;

fn parking_lot_pair() -> (parking_lot::Mutex<u64>, parking_lot::Mutex<u64>) {
    (parking_lot::Mutex::new(0), parking_lot::Mutex::new(0))
}

fn lockdep_pair() -> (lockdep::Mutex<u64>, lockdep::Mutex<u64>) {
    (lockdep::Mutex::new(0), lockdep::Mutex::new(0))
}

/// [`parking_lot_pair`] where the loop cannot see the locks made (issue 24, target 4): a
/// user's locks are mostly made elsewhere, so that their fields are not known constants.
#[inline(never)]
fn parking_lot_pair_opaque() -> (parking_lot::Mutex<u64>, parking_lot::Mutex<u64>) {
    parking_lot_pair()
}

/// [`lockdep_pair`], made out of the loop's sight as [`parking_lot_pair_opaque`].
#[inline(never)]
fn lockdep_pair_opaque() -> (lockdep::Mutex<u64>, lockdep::Mutex<u64>) {
    lockdep_pair()
}

fn parking_lot_tight_opaque(iters: u64) -> Duration {
    let (a, b) = parking_lot_pair_opaque();
    tight_loop!(a, b, iters, |m| m.lock())
}

fn lockdep_tight_opaque(iters: u64) -> Duration {
    let (a, b) = lockdep_pair_opaque();
    tight_loop!(a, b, iters, |m| m.lock())
}

/// The tight nest with the locks made out of its sight, as group `group`.
fn tight_opaque(c: &mut Criterion, group: &str) {
    let mut g = c.benchmark_group(group);
    g.bench_function("parking_lot", |b| {
        b.iter_custom(|n| at_stack_depths(n, parking_lot_tight_opaque))
    });
    g.bench_function("lockdep", |b| {
        b.iter_custom(|n| at_stack_depths(n, lockdep_tight_opaque))
    });
    g.finish();
}

fn parking_lot_tight(iters: u64) -> Duration {
    let (a, b) = parking_lot_pair();
    tight_loop!(a, b, iters, |m| m.lock())
}

fn lockdep_tight(iters: u64) -> Duration {
    let (a, b) = lockdep_pair();
    tight_loop!(a, b, iters, |m| m.lock())
}

#[cfg(feature = "enabled")]
fn tracing_tight(iters: u64) -> Duration {
    let a = tracing_mutex::stdsync::tracing::Mutex::new(0u64);
    let b = tracing_mutex::stdsync::tracing::Mutex::new(0u64);
    tight_loop!(a, b, iters, |m| m.lock().unwrap())
}

#[cfg(feature = "enabled")]
fn tight(c: &mut Criterion) {
    lockdep::set_mode(lockdep::Mode::Collect);
    let mut g = c.benchmark_group("tight_1t");
    g.bench_function("parking_lot", |b| {
        b.iter_custom(|n| at_stack_depths(n, parking_lot_tight))
    });
    g.bench_function("lockdep", |b| {
        b.iter_custom(|n| at_stack_depths(n, lockdep_tight))
    });
    g.bench_function("lockdep_mode_off", |b| {
        with_mode(lockdep::Mode::Off, || {
            b.iter_custom(|n| at_stack_depths(n, lockdep_tight))
        })
    });
    g.bench_function("tracing_mutex", |b| {
        b.iter_custom(|n| at_stack_depths(n, tracing_tight))
    });
    g.finish();
    tight_opaque(c, "tight_opaque_1t");

    let mut g = c.benchmark_group("tight_2t");
    for (name, f) in [
        ("parking_lot", parking_lot_tight as fn(u64) -> Duration),
        ("lockdep", lockdep_tight),
        ("tracing_mutex", tracing_tight),
    ] {
        g.bench_function(name, |b| b.iter_custom(|iters| two_threads(f, iters)));
    }
    g.finish();

    single(c, "single_1t");
    assert!(
        lockdep::violations().is_empty(),
        "the tight bench must not provoke violations"
    );
}

#[cfg(not(feature = "enabled"))]
fn tight(c: &mut Criterion) {
    let mut g = c.benchmark_group("tight_featoff_1t");
    g.bench_function("parking_lot", |b| {
        b.iter_custom(|n| at_stack_depths(n, parking_lot_tight))
    });
    g.bench_function("lockdep", |b| {
        b.iter_custom(|n| at_stack_depths(n, lockdep_tight))
    });
    g.finish();
    tight_opaque(c, "tight_opaque_featoff_1t");
    single(c, "single_featoff_1t");
}

/// One lock and unlock per iteration, parking_lot and lockdep, as group `group`.
fn single(c: &mut Criterion, group: &str) {
    let mut g = c.benchmark_group(group);
    g.bench_function("parking_lot", |b| {
        b.iter_custom(|n| {
            at_stack_depths(n, |n| {
                single_loop!(parking_lot::Mutex::new(0u64), n, |m| m.lock())
            })
        })
    });
    g.bench_function("lockdep", |b| {
        b.iter_custom(|n| {
            at_stack_depths(n, |n| {
                single_loop!(lockdep::Mutex::new(0u64), n, |m| m.lock())
            })
        })
    });
    g.finish();
}

criterion_group!(benches, tight);
criterion_main!(benches);
