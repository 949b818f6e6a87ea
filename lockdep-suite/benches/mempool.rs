//! Bench 4 of issue 5: `Mempool::alloc` + drop of the element vs a plain
//! `parking_lot::Mutex<Vec<T>>` free list (pop, or make one; push back).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use lockdep::mempool::Mempool;

/// The baseline: a free list behind one lock.
struct FreeList<T> {
    free: parking_lot::Mutex<Vec<T>>,
    make: fn() -> T,
}

impl<T> FreeList<T> {
    fn new(n: usize, make: fn() -> T) -> Self {
        FreeList {
            free: parking_lot::Mutex::new((0..n).map(|_| make()).collect()),
            make,
        }
    }

    #[inline]
    fn get(&self) -> T {
        let popped = self.free.lock().pop();
        popped.unwrap_or_else(self.make)
    }

    #[inline]
    fn put(&self, value: T) {
        self.free.lock().push(value);
    }
}

fn mempool(c: &mut Criterion) {
    lockdep::set_mode(lockdep::Mode::Collect);
    let pool = Mempool::new(16, || Some(black_box(0u64)));
    let list = FreeList::new(16, || black_box(0u64));
    let mut g = c.benchmark_group("mempool");
    g.bench_function("free_list", |b| {
        b.iter(|| {
            let mut v = list.get();
            v += 1;
            list.put(black_box(v));
        })
    });
    g.bench_function("mempool", |b| {
        b.iter(|| {
            let mut e = pool.alloc();
            *e += 1;
            drop(black_box(e));
        })
    });
    g.finish();
    assert!(lockdep::violations().is_empty());
}

criterion_group!(benches, mempool);
criterion_main!(benches);
