//! `Condvar`, working with this crate's [`MutexGuard`].

use std::time::{Duration, Instant};

use crate::MutexGuard;
use parking_lot::WaitTimeoutResult;

/// A condition variable with the API of `parking_lot::Condvar`.
///
/// While waiting, the mutex leaves the thread's held stack; it is validated and held again
/// when re-acquired, so waiting never produces a report of its own.
///
/// ```
/// use lockdep_core::{Condvar, Mutex};
/// use std::sync::Arc;
///
/// let pair = Arc::new((Mutex::new(false), Condvar::new()));
/// let pair2 = Arc::clone(&pair);
/// let t = std::thread::spawn(move || {
///     *pair2.0.lock() = true;
///     pair2.1.notify_one();
/// });
/// let mut ready = pair.0.lock();
/// while !*ready {
///     pair.1.wait(&mut ready);
/// }
/// t.join().unwrap();
/// ```
#[derive(Default)]
#[repr(transparent)]
pub struct Condvar {
    inner: parking_lot::Condvar,
}

impl Condvar {
    /// A new condition variable.
    #[inline]
    pub const fn new() -> Condvar {
        Condvar {
            inner: parking_lot::Condvar::new(),
        }
    }

    /// Runs a parking_lot wait with the mutex off the held stack, then validates and holds
    /// it again.
    #[inline]
    fn around_wait<T: ?Sized, R>(
        guard: &mut MutexGuard<'_, T>,
        wait: impl FnOnce(&mut parking_lot::MutexGuard<'_, T>) -> R,
    ) -> R {
        let instance = guard.instance();
        let suspended = guard.held.suspend(instance);
        let result = wait(&mut guard.inner);
        guard.held = suspended.resume(instance);
        result
    }

    /// Blocks until notified; the mutex is released while waiting and re-acquired after.
    #[inline]
    pub fn wait<T: ?Sized>(&self, guard: &mut MutexGuard<'_, T>) {
        Self::around_wait(guard, |g| self.inner.wait(g));
    }

    /// Like [`wait`](Condvar::wait), giving up after `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (m, cv) = (lockdep_core::Mutex::new(()), lockdep_core::Condvar::new());
    /// let mut g = m.lock();
    /// assert!(cv.wait_for(&mut g, Duration::from_millis(1)).timed_out());
    /// ```
    #[inline]
    pub fn wait_for<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        timeout: Duration,
    ) -> WaitTimeoutResult {
        Self::around_wait(guard, |g| self.inner.wait_for(g, timeout))
    }

    /// Like [`wait`](Condvar::wait), giving up at `deadline`.
    #[inline]
    pub fn wait_until<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        deadline: Instant,
    ) -> WaitTimeoutResult {
        Self::around_wait(guard, |g| self.inner.wait_until(g, deadline))
    }

    /// Blocks while `condition` holds.
    #[inline]
    pub fn wait_while<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        mut condition: impl FnMut(&mut T) -> bool,
    ) {
        while condition(&mut **guard) {
            self.wait(guard);
        }
    }

    /// Wakes one waiter; true if one was woken.
    #[inline]
    pub fn notify_one(&self) -> bool {
        self.inner.notify_one()
    }

    /// Wakes all waiters; returns how many.
    #[inline]
    pub fn notify_all(&self) -> usize {
        self.inner.notify_all()
    }
}

impl std::fmt::Debug for Condvar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Condvar { .. }")
    }
}
