//! The drop-ins against what they replace (issue 14, item 4): the tight two-lock nest of
//! `benches/tight.rs` with `lockdep::sync::{Mutex, RwLock}` against `std::sync`'s, and with
//! `lockdep::RwLock` against parking_lot's (the `Mutex` is `tight`'s), on 1 and 2 threads,
//! side by side in one process (`scripts/bench-summary`).
//!
//! Built without the `enabled` feature, `lockdep::sync` *is* `std::sync`, so only the
//! parking_lot-shaped `RwLock` is measured then (group `dropin_pl_rwlock_featoff_1t`).

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

// Each pair is made by `new` here, so lockdep's classes are these creation sites.

fn std_mutex(iters: u64) -> Duration {
    let (a, b) = (std::sync::Mutex::new(0u64), std::sync::Mutex::new(0u64));
    tight_loop!(a, b, iters, |m| m.lock().unwrap())
}

#[cfg(feature = "enabled")]
fn lockdep_mutex(iters: u64) -> Duration {
    let (a, b) = (
        lockdep::sync::Mutex::new(0u64),
        lockdep::sync::Mutex::new(0u64),
    );
    tight_loop!(a, b, iters, |m| m.lock().unwrap())
}

fn std_rwlock_write(iters: u64) -> Duration {
    let (a, b) = (std::sync::RwLock::new(0u64), std::sync::RwLock::new(0u64));
    tight_loop!(a, b, iters, |m| m.write().unwrap())
}

#[cfg(feature = "enabled")]
fn lockdep_rwlock_write(iters: u64) -> Duration {
    let (a, b) = (
        lockdep::sync::RwLock::new(0u64),
        lockdep::sync::RwLock::new(0u64),
    );
    tight_loop!(a, b, iters, |m| m.write().unwrap())
}

fn pl_rwlock_write(iters: u64) -> Duration {
    let (a, b) = (
        parking_lot::RwLock::new(0u64),
        parking_lot::RwLock::new(0u64),
    );
    tight_loop!(a, b, iters, |m| m.write())
}

fn lockdep_pl_rwlock_write(iters: u64) -> Duration {
    let (a, b) = (lockdep::RwLock::new(0u64), lockdep::RwLock::new(0u64));
    tight_loop!(a, b, iters, |m| m.write())
}

/// One group per lock kind and thread count: the baseline, lockdep, and (1 thread) lockdep
/// with the mode off.
#[cfg(feature = "enabled")]
fn dropin(c: &mut Criterion) {
    lockdep::set_mode(lockdep::Mode::Collect);
    type Loop = fn(u64) -> Duration;
    let kinds: [(&str, &str, Loop, Loop); 3] = [
        ("std_mutex", "std", std_mutex, lockdep_mutex),
        ("std_rwlock", "std", std_rwlock_write, lockdep_rwlock_write),
        (
            "pl_rwlock",
            "parking_lot",
            pl_rwlock_write,
            lockdep_pl_rwlock_write,
        ),
    ];
    for (kind, base_name, base, checked) in kinds {
        let mut g = c.benchmark_group(format!("dropin_{kind}_1t"));
        g.bench_function(base_name, |b| b.iter_custom(|n| at_stack_depths(n, base)));
        g.bench_function("lockdep", |b| {
            b.iter_custom(|n| at_stack_depths(n, checked))
        });
        g.bench_function("lockdep_mode_off", |b| {
            with_mode(lockdep::Mode::Off, || {
                b.iter_custom(|n| at_stack_depths(n, checked))
            })
        });
        g.finish();
        let mut g = c.benchmark_group(format!("dropin_{kind}_2t"));
        g.bench_function(base_name, |b| {
            b.iter_custom(|iters| two_threads(base, iters))
        });
        g.bench_function("lockdep", |b| {
            b.iter_custom(|iters| two_threads(checked, iters))
        });
        g.finish();
    }
    assert!(
        lockdep::violations().is_empty(),
        "the drop-in bench must not provoke violations"
    );
}

#[cfg(not(feature = "enabled"))]
fn dropin(c: &mut Criterion) {
    // `lockdep::sync` is `std::sync` here: nothing to compare but parking_lot's shape.
    let _ = (std_mutex, std_rwlock_write);
    let mut g = c.benchmark_group("dropin_pl_rwlock_featoff_1t");
    g.bench_function("parking_lot", |b| {
        b.iter_custom(|n| at_stack_depths(n, pl_rwlock_write))
    });
    g.bench_function("lockdep", |b| {
        b.iter_custom(|n| at_stack_depths(n, lockdep_pl_rwlock_write))
    });
    g.finish();
}

criterion_group!(benches, dropin);
criterion_main!(benches);
