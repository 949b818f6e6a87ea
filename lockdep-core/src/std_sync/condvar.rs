//! `sync::Condvar`: `std::sync::Condvar`'s API over the checked [`crate::Condvar`], working
//! with [`sync::MutexGuard`](super::MutexGuard).

use std::fmt;
use std::sync::{LockResult, OnceLock, PoisonError, WaitTimeoutResult};
use std::time::{Duration, Instant};

use super::mutex::MutexGuard;
use super::poison;

/// A condition variable with the API of [`std::sync::Condvar`].
///
/// While waiting, the mutex leaves the thread's held stack; it is validated and held again
/// when re-acquired, as acquired at the `wait` call (as for
/// [`lockdep::Condvar`](crate::Condvar), which this is). Built without the `enabled` feature,
/// `lockdep::sync::Condvar` is `std::sync::Condvar` itself.
///
/// # Examples
///
/// ```
/// use lockdep::sync::{Arc, Condvar, Mutex};
/// use std::thread;
///
/// let pair = Arc::new((Mutex::new(false), Condvar::new()));
/// let pair2 = Arc::clone(&pair);
/// thread::spawn(move || {
///     *pair2.0.lock().unwrap() = true;
///     pair2.1.notify_one();
/// });
/// let (lock, cvar) = &*pair;
/// let started = cvar.wait_while(lock.lock().unwrap(), |started| !*started).unwrap();
/// assert!(*started);
/// ```
pub struct Condvar {
    inner: crate::Condvar,
}

impl Default for Condvar {
    /// A new condition variable, of the caller's class.
    #[track_caller]
    #[inline]
    fn default() -> Condvar {
        Condvar::new()
    }
}

impl Condvar {
    /// A new condition variable.
    ///
    /// # Examples
    ///
    /// ```
    /// static READY: lockdep::sync::Condvar = lockdep::sync::Condvar::new();
    /// READY.notify_all();
    /// ```
    #[track_caller]
    #[inline]
    pub const fn new() -> Condvar {
        Condvar {
            inner: crate::Condvar::new(),
        }
    }

    /// Blocks until notified, with the guard's mutex released meanwhile; returns the guard,
    /// re-acquired. Wake-ups may be spurious: wait in a loop on the condition, or use
    /// [`wait_while`](Condvar::wait_while).
    ///
    /// # Errors
    ///
    /// When the mutex is poisoned once re-acquired; the error carries the guard.
    ///
    /// # Panics
    ///
    /// When used with two different mutexes at once (as std may).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::{Arc, Condvar, Mutex};
    ///
    /// let pair = Arc::new((Mutex::new(0), Condvar::new()));
    /// let pair2 = Arc::clone(&pair);
    /// std::thread::spawn(move || {
    ///     *pair2.0.lock().unwrap() = 1;
    ///     pair2.1.notify_one();
    /// });
    /// let mut n = pair.0.lock().unwrap();
    /// while *n == 0 {
    ///     n = pair.1.wait(n).unwrap();
    /// }
    /// ```
    #[track_caller]
    #[inline]
    pub fn wait<'a, T>(&self, mut guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        self.inner.wait(&mut guard.inner);
        guard.after_wait()
    }

    /// Blocks while `condition` is true of the data, waiting as [`wait`](Condvar::wait).
    ///
    /// # Errors
    ///
    /// When the mutex is poisoned once re-acquired; the error carries the guard.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::{Condvar, Mutex};
    ///
    /// let (m, cv) = (Mutex::new(0), Condvar::new());
    /// let g = cv.wait_while(m.lock().unwrap(), |n| *n > 0).unwrap(); // false: no wait
    /// assert_eq!(*g, 0);
    /// ```
    #[track_caller]
    #[inline]
    pub fn wait_while<'a, T, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: F,
    ) -> LockResult<MutexGuard<'a, T>>
    where
        F: FnMut(&mut T) -> bool,
    {
        while condition(&mut *guard) {
            guard = self.wait(guard)?;
        }
        Ok(guard)
    }

    /// Like [`wait_timeout`](Condvar::wait_timeout), `ms` milliseconds; the flag is true when
    /// the time ran out.
    ///
    /// # Errors
    ///
    /// When the mutex is poisoned once re-acquired.
    ///
    /// # Examples
    ///
    /// ```
    /// # #![allow(deprecated)]
    /// use lockdep::sync::{Condvar, Mutex};
    ///
    /// let (m, cv) = (Mutex::new(()), Condvar::new());
    /// let (_g, timed_out) = cv.wait_timeout_ms(m.lock().unwrap(), 1).unwrap();
    /// # let _ = timed_out; // a spurious wake-up is allowed
    /// ```
    #[deprecated(note = "replaced by `wait_timeout` (as in std)")]
    #[track_caller]
    #[inline]
    pub fn wait_timeout_ms<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        ms: u32,
    ) -> LockResult<(MutexGuard<'a, T>, bool)> {
        let result = self.wait_timeout(guard, Duration::from_millis(u64::from(ms)));
        poison::map_result(result, |(guard, timeout)| (guard, timeout.timed_out()))
    }

    /// Blocks until notified or `dur` has passed, with the mutex released meanwhile.
    ///
    /// # Errors
    ///
    /// When the mutex is poisoned once re-acquired; the error carries the guard and the
    /// result.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::{Condvar, Mutex};
    /// use std::time::Duration;
    ///
    /// let (m, cv) = (Mutex::new(()), Condvar::new());
    /// let (_g, result) = cv.wait_timeout(m.lock().unwrap(), Duration::from_millis(1)).unwrap();
    /// # let _ = result.timed_out(); // a spurious wake-up is allowed
    /// ```
    #[track_caller]
    #[inline]
    pub fn wait_timeout<'a, T>(
        &self,
        mut guard: MutexGuard<'a, T>,
        dur: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        let timed_out = self.inner.wait_for(&mut guard.inner, dur).timed_out();
        poison::map_result(guard.after_wait(), |guard| {
            (guard, wait_timeout_result(timed_out))
        })
    }

    /// Blocks while `condition` is true of the data, for at most `dur` in all; the result
    /// says whether the time ran out with the condition still true.
    ///
    /// # Errors
    ///
    /// When the mutex is poisoned once re-acquired.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::{Condvar, Mutex};
    /// use std::time::Duration;
    ///
    /// let (m, cv) = (Mutex::new(true), Condvar::new());
    /// let (g, result) = cv
    ///     .wait_timeout_while(m.lock().unwrap(), Duration::from_millis(2), |busy| *busy)
    ///     .unwrap();
    /// assert!(result.timed_out() && *g);
    /// ```
    #[track_caller]
    #[inline]
    pub fn wait_timeout_while<'a, T, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        dur: Duration,
        mut condition: F,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)>
    where
        F: FnMut(&mut T) -> bool,
    {
        // std's loop: the time left is what remains of `dur` since the first call.
        let start = Instant::now();
        loop {
            if !condition(&mut *guard) {
                return Ok((guard, wait_timeout_result(false)));
            }
            let Some(timeout) = dur.checked_sub(start.elapsed()) else {
                return Ok((guard, wait_timeout_result(true)));
            };
            guard = self.wait_timeout(guard, timeout)?.0;
        }
    }

    /// Wakes one waiter, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// lockdep::sync::Condvar::new().notify_one(); // no waiter: nothing happens
    /// ```
    #[track_caller]
    #[inline]
    pub fn notify_one(&self) {
        self.inner.notify_one();
    }

    /// Wakes all waiters.
    ///
    /// # Examples
    ///
    /// ```
    /// lockdep::sync::Condvar::new().notify_all();
    /// ```
    #[track_caller]
    #[inline]
    pub fn notify_all(&self) {
        self.inner.notify_all();
    }
}

impl fmt::Debug for Condvar {
    /// As std's: `Condvar { .. }`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar").finish_non_exhaustive()
    }
}

/// std's own [`WaitTimeoutResult`] saying `timed_out`, so that code written against std
/// (`result.timed_out()`, a field of that type) compiles unchanged.
///
/// The type has no public constructor; std's `wait_timeout_while` returns one of each value
/// deterministically without waiting for anyone: with a false condition it returns `false`
/// at once, with a true one and a zero duration it returns `true` once the (zero) time is
/// up. Made once per process, on a private std mutex and condition variable.
fn wait_timeout_result(timed_out: bool) -> WaitTimeoutResult {
    static RESULTS: OnceLock<[WaitTimeoutResult; 2]> = OnceLock::new();
    RESULTS.get_or_init(|| {
        let (mutex, condvar) = (std::sync::Mutex::new(()), std::sync::Condvar::new());
        let guard = mutex.lock().unwrap_or_else(PoisonError::into_inner);
        let wait = |guard, condition| {
            condvar
                .wait_timeout_while(guard, Duration::ZERO, |_| condition)
                .unwrap_or_else(PoisonError::into_inner)
        };
        let (guard, woken) = wait(guard, false);
        let (guard, timed_out) = wait(guard, true);
        drop(guard);
        debug_assert!(!woken.timed_out() && timed_out.timed_out());
        [woken, timed_out]
    })[usize::from(timed_out)]
}
