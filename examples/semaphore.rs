//! A counting semaphore of your own, put in the graph as a counted class: a permit is held
//! from `acquire` to its drop, on any thread, and the permits one thread holds count as one
//! hold.
//!
//! The story: a worker holds a permit while it takes the `config` lock; the reloader holds
//! `config` while it acquires a permit. With every permit out, the reloader waits for a permit
//! that a worker returns only after it gets `config`: a deadlock. The run below has permits
//! to spare and never hangs; the checker reports the cycle from the two halves it saw.
//!
//! Run: `cargo run --example semaphore`

use std::sync::{Condvar, Mutex as StdMutex};

use lockdep::{ClassKind, Hold, LockdepMap, Mode, Mutex, ViolationKind};

/// A counting semaphore on the standard library's (unchecked) mutex and condition variable.
pub struct Semaphore {
    permits: StdMutex<usize>,
    freed: Condvar,
    map: LockdepMap,
}

/// One permit: returned when dropped, on whichever thread.
pub struct Permit<'a> {
    semaphore: &'a Semaphore,
    _hold: Hold,
}

impl Semaphore {
    /// A semaphore of `permits` permits, whose class is the caller's site.
    #[track_caller]
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            permits: StdMutex::new(permits),
            freed: Condvar::new(),
            map: LockdepMap::new(ClassKind::Pool),
        }
    }

    /// Takes a permit, waiting while there is none.
    #[track_caller]
    pub fn acquire(&self) -> Permit<'_> {
        let acquiring = self.map.acquire(); // validated before it can block
        let mut permits = self
            .freed
            .wait_while(self.permits.lock().unwrap(), |n| *n == 0)
            .unwrap();
        *permits -= 1;
        Permit {
            semaphore: self,
            _hold: acquiring.acquired(),
        }
    }

    /// Takes a permit if one is free now.
    #[track_caller]
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        let mut permits = self.permits.lock().unwrap();
        if *permits == 0 {
            return None;
        }
        *permits -= 1;
        Some(Permit {
            semaphore: self,
            _hold: self.map.try_acquired(),
        })
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *self.semaphore.permits.lock().unwrap() += 1;
        self.semaphore.freed.notify_one();
    }
}

/// The story above, on two threads that take turns; returns the violations about `config`.
pub fn permit_holder_waits_for_the_reloader(config_name: &'static str) -> Vec<lockdep::Violation> {
    let config = Mutex::with_class(0u32, lockdep::LockClass::leak(config_name.to_owned()));
    let semaphore = Semaphore::new(2);
    std::thread::scope(|s| {
        s.spawn(|| {
            let _permit = semaphore.acquire();
            *config.lock() += 1; // a permit holder takes config
        })
        .join()
        .unwrap();
        s.spawn(|| {
            let _config = config.lock();
            let _permit = semaphore.acquire(); // config held while waiting for a permit
        })
        .join()
        .unwrap();
    });
    // A snapshot, not `take_violations()`: other threads (tests) may have violations of
    // their own recorded meanwhile.
    lockdep::violations()
        .into_iter()
        .filter(|v| v.involves(config_name))
        .collect()
}

#[allow(dead_code)] // also compiled into tests/lockdep_map.rs, which has its own main
fn main() {
    lockdep::set_mode(Mode::Collect);
    let found = permit_holder_waits_for_the_reloader("semaphore-config");
    for v in &found {
        println!("{v}");
    }
    lockdep::take_violations(); // reported above: the example exits 0
    assert!(found
        .iter()
        .any(|v| v.kind() == ViolationKind::CircularDependency));
    println!("semaphore: the permit/config deadlock was reported before it could happen.");
}
