//! The timed loops shared by the lock benches (`mod loops;` with `#[macro_use]`): a two-lock
//! nest and a single lock, written once for every lock type, and a 2-thread runner.
#![allow(dead_code, unused_macros)] // each bench uses some of them

use std::time::Duration;

/// The loop, written once for every lock type: `$lock` is how a guard is taken.
#[macro_export]
macro_rules! tight_loop {
    ($a:expr, $b:expr, $iters:expr, |$m:ident| $lock:expr) => {{
        let (a, b) = ($a, $b);
        let start = std::time::Instant::now();
        for _ in 0..$iters {
            let mut ga = {
                let $m = &a;
                $lock
            };
            let mut gb = {
                let $m = &b;
                $lock
            };
            *gb += 1;
            *ga += 1;
            drop(gb);
            drop(ga);
        }
        std::hint::black_box((&a, &b));
        start.elapsed()
    }};
}

/// One lock and unlock per iteration.
#[macro_export]
macro_rules! single_loop {
    ($a:expr, $iters:expr, |$m:ident| $lock:expr) => {{
        let a = $a;
        let start = std::time::Instant::now();
        for _ in 0..$iters {
            let mut ga = {
                let $m = &a;
                $lock
            };
            *ga += 1;
            drop(ga);
        }
        std::hint::black_box(&a);
        start.elapsed()
    }};
}

/// Runs `tight(iters)` on 2 threads at once (each with its own locks, of the same classes
/// for lockdep: both call the same creation sites); the slower thread's time, each timed
/// inside its loop so that starting the threads is not counted.
pub fn two_threads(tight: fn(u64) -> Duration, iters: u64) -> Duration {
    let start = std::sync::Barrier::new(2);
    std::thread::scope(|s| {
        let run = || {
            start.wait();
            tight(iters)
        };
        let other = s.spawn(run);
        run().max(other.join().unwrap())
    })
}

/// Runs `iters` iterations of `run` (given a count, it returns their time) split over 8 stack
/// depths, 64 bytes apart, and returns the total time.
///
/// Why: a load whose address matches a store still in flight in its low 12 bits waits for
/// that store (4K aliasing), so a lock whose address sits a multiple of 4 KiB from the
/// stack frames that take it is slower for as long as the two stay put. Where the locks
/// and the loop's frames lie is fixed by the code around them (locks on the stack) or by
/// the allocator, so one placement can cost a whole run about a third more (measured here:
/// a same-class pair with the mode off, 29.5 ns against 23.5 ns with the loop's frames 200
/// bytes lower, the code unchanged). Taking every lock type at the same spread of depths
/// averages that lottery out, for the baseline and for lockdep alike.
pub fn at_stack_depths(iters: u64, mut run: impl FnMut(u64) -> Duration) -> Duration {
    /// A frame of `N` bytes more below the caller's, then `run`.
    #[inline(never)]
    fn below<const N: usize>(run: &mut dyn FnMut() -> Duration) -> Duration {
        let pad = [0u8; N];
        std::hint::black_box(&pad);
        let elapsed = run();
        std::hint::black_box(&pad);
        elapsed
    }
    type Below = fn(&mut dyn FnMut() -> Duration) -> Duration;
    const DEPTHS: [Below; 8] = [
        below::<8>,
        below::<72>,
        below::<136>,
        below::<200>,
        below::<264>,
        below::<328>,
        below::<392>,
        below::<456>,
    ];
    let n = DEPTHS.len() as u64;
    DEPTHS
        .iter()
        .enumerate()
        .map(|(i, below)| {
            // The first depth takes the remainder.
            let part = iters / n + if i == 0 { iters % n } else { 0 };
            below(&mut || run(part))
        })
        .sum()
}
