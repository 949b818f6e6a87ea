//! Poisoning as `std::sync` does it: a flag per lock, set when a guard that can modify the
//! data is dropped while its thread panics (and was not already panicking when it took the
//! lock); every later acquisition returns its guard inside a [`PoisonError`].
//!
//! std's own `poison::Flag` is private, so this is its twin; the error types are std's.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{LockResult, PoisonError};
use std::thread;

/// Whether a lock's data may be left half-modified by a panic.
///
/// `Relaxed` is enough, as in std: the flag is read and written under the lock it belongs
/// to (or through `&mut`), whose own acquire/release orders it.
#[derive(Debug)]
pub(crate) struct Flag {
    failed: AtomicBool,
}

/// What a guard that can poison remembers: whether its thread was already panicking when it
/// took the lock (a guard taken during unwinding does not poison on drop).
#[derive(Debug)]
pub(crate) struct Guard {
    panicking: bool,
}

impl Flag {
    #[inline]
    pub(crate) const fn new() -> Flag {
        Flag {
            failed: AtomicBool::new(false),
        }
    }

    /// True once poisoned (and not cleared).
    #[inline]
    pub(crate) fn get(&self) -> bool {
        self.failed.load(Relaxed)
    }

    #[inline]
    pub(crate) fn clear(&self) {
        self.failed.store(false, Relaxed);
    }

    /// The poison state of a guard taken now.
    #[inline]
    pub(crate) fn guard(&self) -> Guard {
        Guard {
            panicking: thread::panicking(),
        }
    }

    /// A guard that can poison is being dropped: poisons the lock if its thread started
    /// panicking since it took the lock.
    #[inline]
    pub(crate) fn done(&self, guard: &Guard) {
        if !guard.panicking && thread::panicking() {
            self.failed.store(true, Relaxed);
        }
    }

    /// `value` as the result of an acquisition: `Err` when the lock is poisoned.
    #[inline]
    pub(crate) fn result<G>(&self, value: G) -> LockResult<G> {
        if self.get() {
            Err(PoisonError::new(value))
        } else {
            Ok(value)
        }
    }
}

/// `result` with `f` applied to what it carries, `Ok` or poisoned (std's
/// `poison::map_result`).
#[inline]
pub(crate) fn map_result<T, U>(result: LockResult<T>, f: impl FnOnce(T) -> U) -> LockResult<U> {
    match result {
        Ok(t) => Ok(f(t)),
        Err(poisoned) => Err(PoisonError::new(f(poisoned.into_inner()))),
    }
}
