//! Bench 3 of issue 5: `TrackingAllocator` (installed as the global allocator) vs calling
//! `System` directly: a small allocation and its free, with no lock held and with one lock held.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};

#[global_allocator]
static A: lockdep::TrackingAllocator = lockdep::TrackingAllocator;

static HELD: lockdep::LockClass = lockdep::LockClass::new("bench-alloc-held");

const LAYOUT: Layout = match Layout::from_size_align(32, 8) {
    Ok(l) => l,
    Err(_) => panic!("bad layout"),
};

#[inline(never)]
fn system_alloc_free() {
    // SAFETY: a non-zero-size layout, freed with the same layout.
    unsafe {
        let p = System.alloc(black_box(LAYOUT));
        black_box(p);
        System.dealloc(p, LAYOUT);
    }
}

#[inline(never)]
fn global_alloc_free() {
    // SAFETY: a non-zero-size layout, freed with the same layout.
    unsafe {
        let p = std::alloc::alloc(black_box(LAYOUT));
        black_box(p);
        std::alloc::dealloc(p, LAYOUT);
    }
}

fn alloc(c: &mut Criterion) {
    lockdep::set_mode(lockdep::Mode::Collect);
    let lock = lockdep::Mutex::with_class(0u64, &HELD);
    let mut g = c.benchmark_group("alloc");
    g.bench_function("system", |b| b.iter(system_alloc_free));
    g.bench_function("tracking", |b| b.iter(global_alloc_free));
    g.bench_function("system_lock_held", |b| {
        let _held = lock.lock();
        b.iter(system_alloc_free)
    });
    g.bench_function("tracking_lock_held", |b| {
        let _held = lock.lock();
        b.iter(global_alloc_free)
    });
    g.finish();
    assert!(lockdep::violations().is_empty());
}

criterion_group!(benches, alloc);
criterion_main!(benches);
