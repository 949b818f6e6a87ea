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

/// Runs `iters` iterations of `run` (given a count, it returns their time) split over 64
/// stack depths, 64 bytes apart (a whole page of them), and returns the total time.
///
/// Why: a load whose address matches a store still in flight in its low 12 bits waits for
/// that store (4K aliasing), so a lock whose address sits a multiple of 4 KiB from what the
/// lock path stores to (its frames, the thread's held stack) or loads (the mode word) is
/// slower for as long as the two stay put. Where a bench's locks lie is fixed by the code
/// around them (locks on the stack) or by the allocator, so one placement could cost a
/// whole row a third more (measured here: a same-class pair with the mode off, 29.5 ns
/// against 23.5 ns with the loop's frames 200 bytes lower, the code unchanged). Taking every
/// lock type at every page offset of the stack averages that lottery out, for the baseline
/// and for lockdep alike.
pub fn at_stack_depths(iters: u64, mut run: impl FnMut(u64) -> Duration) -> Duration {
    /// A frame of `N` bytes more below the caller's, then `run`.
    #[inline(never)]
    fn below<const N: usize>(run: &mut dyn FnMut() -> Duration) -> Duration {
        // Uninitialised: only its place on the stack matters.
        let pad = [std::mem::MaybeUninit::<u8>::uninit(); N];
        std::hint::black_box(&pad);
        let elapsed = run();
        std::hint::black_box(&pad);
        elapsed
    }
    type Below = fn(&mut dyn FnMut() -> Duration) -> Duration;
    /// `below` at 8 + 64 * k bytes for each k given.
    macro_rules! depths {
        ($($k:literal)*) => { [$(below::<{ 8 + 64 * $k }>),*] };
    }
    const DEPTHS: [Below; 64] = depths!(
        0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
        32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60
        61 62 63
    );
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
