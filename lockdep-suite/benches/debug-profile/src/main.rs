//! lockdep against parking_lot, both unoptimised (cargo's default `dev` profile, no profile
//! settings): the two-class nest (locks made by an `#[inline(never)]` function), a pair of
//! one class nested, and one lock contended by 2 threads. Checking on (mode warn).
//!
//! `lockdep-debug-profile [ITERS [ROUNDS]]` prints a `DEBUG` line per shape: the median
//! and range of the ratio and of the nanoseconds added per acquisition (with its release)
//! over the rounds, each round the variants in turn. `lockdep-debug-profile ITERS 1 VARIANT`
//! runs one variant alone (`nest_pl`, `nest_ld`, `same_ld`, `cont_pl`, `cont_ld`), for
//! instruction counts (`valgrind --tool=callgrind`: the difference between ITERS and
//! 2 * ITERS is per iteration, two acquisitions in a nest, one on each of 2 threads when
//! contended; valgrind runs one thread at a time, so the contended counts are indicative).
//! `scripts/debug-profile-callgrind` prints those counts for every shape.

use std::hint::black_box;
use std::time::{Duration, Instant};

static PAIR: lockdep::LockClass = lockdep::LockClass::new("debug-profile-same-class-pair");

#[inline(never)]
fn parking_lot_pair() -> (parking_lot::Mutex<u64>, parking_lot::Mutex<u64>) {
    (parking_lot::Mutex::new(0), parking_lot::Mutex::new(0))
}

#[inline(never)]
fn lockdep_pair() -> (lockdep::Mutex<u64>, lockdep::Mutex<u64>) {
    (lockdep::Mutex::new(0), lockdep::Mutex::new(0))
}

#[inline(never)]
fn lockdep_same_class_pair() -> (lockdep::Mutex<u64>, lockdep::Mutex<u64>) {
    (
        lockdep::Mutex::with_class(0, &PAIR),
        lockdep::Mutex::with_class(0, &PAIR),
    )
}

/// The nest, written once for both lock types.
macro_rules! nest {
    ($a:expr, $b:expr, $n:expr) => {{
        let start = Instant::now();
        for _ in 0..$n {
            let mut ga = $a.lock();
            let mut gb = $b.lock();
            *gb += 1;
            *ga += 1;
            drop(gb);
            drop(ga);
        }
        black_box(($a, $b));
        start.elapsed()
    }};
}

/// `n` lock-unlocks of `m` on each of 2 threads at once: the slower thread's time.
macro_rules! contended {
    ($m:expr, $n:expr) => {{
        let start = std::sync::Barrier::new(2);
        std::thread::scope(|s| {
            let run = || {
                start.wait();
                let t = Instant::now();
                for _ in 0..$n {
                    *$m.lock() += 1;
                }
                t.elapsed()
            };
            let other = s.spawn(run);
            run().max(other.join().unwrap())
        })
    }};
}

#[inline(never)]
fn nest_parking_lot(a: &parking_lot::Mutex<u64>, b: &parking_lot::Mutex<u64>, n: u64) -> Duration {
    nest!(a, b, n)
}

#[inline(never)]
fn nest_lockdep(a: &lockdep::Mutex<u64>, b: &lockdep::Mutex<u64>, n: u64) -> Duration {
    nest!(a, b, n)
}

#[inline(never)]
fn contended_parking_lot(m: &parking_lot::Mutex<u64>, n: u64) -> Duration {
    contended!(m, n)
}

#[inline(never)]
fn contended_lockdep(m: &lockdep::Mutex<u64>, n: u64) -> Duration {
    contended!(m, n)
}

/// Median, min and max.
fn spread(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().map_or(200_000, |s| s.parse().expect("ITERS"));
    let rounds: usize = args.next().map_or(5, |s| s.parse().expect("ROUNDS"));
    let (pa, pb) = parking_lot_pair();
    let (la, lb) = lockdep_pair();
    let (sa, sb) = lockdep_same_class_pair();
    let (pc, lc) = (parking_lot::Mutex::new(0u64), lockdep::Mutex::new(0u64));
    // The orders seen once: the rounds measure the steady state.
    nest_lockdep(&la, &lb, 1);
    nest_lockdep(&sa, &sb, 1);
    if let Some(variant) = args.next() {
        match variant.as_str() {
            "nest_pl" => nest_parking_lot(&pa, &pb, n),
            "nest_ld" => nest_lockdep(&la, &lb, n),
            "same_ld" => nest_lockdep(&sa, &sb, n),
            "cont_pl" => contended_parking_lot(&pc, n),
            "cont_ld" => contended_lockdep(&lc, n),
            other => panic!("unknown variant {other:?}"),
        };
        return;
    }
    // ns per acquisition, [parking_lot, lockdep] per shape.
    let mut shapes: [(&str, Vec<f64>, Vec<f64>); 3] = [
        ("nest", vec![], vec![]),
        ("same_class", vec![], vec![]),
        ("contended", vec![], vec![]),
    ];
    let per = |d: Duration, acquisitions: u64| d.as_nanos() as f64 / acquisitions as f64;
    for _ in 0..rounds {
        shapes[0].1.push(per(nest_parking_lot(&pa, &pb, n), 2 * n));
        shapes[0].2.push(per(nest_lockdep(&la, &lb, n), 2 * n));
        shapes[1].1.push(per(nest_parking_lot(&pa, &pb, n), 2 * n));
        shapes[1].2.push(per(nest_lockdep(&sa, &sb, n), 2 * n));
        shapes[2].1.push(per(contended_parking_lot(&pc, n), n));
        shapes[2].2.push(per(contended_lockdep(&lc, n), n));
    }
    for (name, pl, ld) in shapes {
        let ratio = spread(ld.iter().zip(&pl).map(|(l, p)| l / p).collect());
        let added = spread(ld.iter().zip(&pl).map(|(l, p)| l - p).collect());
        let ((base, _, _), (own, _, _)) = (spread(pl), spread(ld));
        println!(
            "DEBUG {name} ratio={:.2} ratio_min={:.2} ratio_max={:.2} added_ns={:.1} \
             added_min={:.1} added_max={:.1} parking_lot_ns={base:.1} lockdep_ns={own:.1}",
            ratio.0, ratio.1, ratio.2, added.0, added.1, added.2
        );
    }
    assert!(lockdep::violations().is_empty(), "no violation expected");
}
