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
