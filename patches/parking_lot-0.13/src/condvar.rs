//! parking_lot 0.13's `Condvar` (`lock_api::Condvar<RawCondvar>` there): lockdep's
//! [`Condvar`](lockdep::Condvar) with 0.13's `wait_while_until`, which looks at the condition
//! once more after the time ran out and reports a timeout only if it still holds (0.12's
//! reports the timeout at once), and 0.13's [`WaitTimeoutResult`].

use std::fmt;
use std::time::{Duration, Instant};

use crate::{MutexGuard, RawCondvar};

/// Whether a timed wait on a [`Condvar`] returned because its time ran out (0.13's, from
/// `lock_api` 0.5).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let (m, cv) = (parking_lot::Mutex::new(()), parking_lot::Condvar::new());
/// let result: parking_lot::WaitTimeoutResult = cv.wait_for(&mut m.lock(), Duration::ZERO);
/// assert!(result.timed_out());
/// ```
#[derive(Debug, PartialEq, Eq, Copy, Clone)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    /// True when the wait timed out.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let (m, cv) = (parking_lot::Mutex::new(()), parking_lot::Condvar::new());
    /// let deadline = Instant::now() + Duration::from_millis(1);
    /// assert!(cv.wait_until(&mut m.lock(), deadline).timed_out());
    /// ```
    #[inline]
    pub const fn timed_out(self) -> bool {
        self.0
    }
}

/// A condition variable: parking_lot 0.13's, checked by lockdep as
/// [`lockdep::Condvar`] is (a wait is a wait for its event class, the mutex leaves the held
/// stack meanwhile). Used with one mutex at a time: a wait with another mutex while threads
/// wait with the first one panics.
///
/// # Examples
///
/// ```
/// use parking_lot::{Condvar, Mutex};
/// use std::sync::Arc;
///
/// let pair = Arc::new((Mutex::new(false), Condvar::new()));
/// let pair2 = Arc::clone(&pair);
/// let t = std::thread::spawn(move || {
///     *pair2.0.lock() = true;
///     pair2.1.notify_one();
/// });
/// let mut started = pair.0.lock();
/// pair.1.wait_while(&mut started, |started| !*started);
/// t.join().unwrap();
/// ```
pub struct Condvar(lockdep::Condvar);

impl Condvar {
    /// A new condition variable, whose class is the caller's source location.
    ///
    /// # Examples
    ///
    /// ```
    /// static READY: parking_lot::Condvar = parking_lot::Condvar::new();
    /// assert!(!READY.notify_one());
    /// ```
    #[track_caller]
    #[inline]
    pub const fn new() -> Condvar {
        Condvar(lockdep::Condvar::new())
    }

    /// The raw condition variable.
    ///
    /// # Examples
    ///
    /// ```
    /// let cv = parking_lot::Condvar::new();
    /// assert_eq!(cv.raw().notify_all(), 0);
    /// ```
    #[inline]
    pub fn raw(&self) -> &RawCondvar {
        self.0.raw()
    }

    /// Wakes one waiting thread; true if one was woken.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!parking_lot::Condvar::new().notify_one());
    /// ```
    #[track_caller]
    #[inline]
    pub fn notify_one(&self) -> bool {
        self.0.notify_one()
    }

    /// Wakes every waiting thread; returns how many.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(parking_lot::Condvar::new().notify_all(), 0);
    /// ```
    #[track_caller]
    #[inline]
    pub fn notify_all(&self) -> usize {
        self.0.notify_all()
    }

    /// Blocks until notified, the guard's mutex released meanwhile.
    ///
    /// # Panics
    ///
    /// If other threads wait on this condition variable with another mutex.
    ///
    /// # Examples
    ///
    /// ```
    /// use parking_lot::{Condvar, Mutex};
    /// let (m, cv) = (Mutex::new(false), Condvar::new());
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         *m.lock() = true;
    ///         cv.notify_one();
    ///     });
    ///     let mut ready = m.lock();
    ///     while !*ready {
    ///         cv.wait(&mut ready);
    ///     }
    /// });
    /// ```
    #[track_caller]
    #[inline]
    pub fn wait<T: ?Sized>(&self, mutex_guard: &mut MutexGuard<'_, T>) {
        self.0.wait(mutex_guard);
    }

    /// Blocks while `condition` holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let (m, cv) = (parking_lot::Mutex::new(0), parking_lot::Condvar::new());
    /// cv.wait_while(&mut m.lock(), |n| *n > 0); // returns at once
    /// ```
    #[track_caller]
    #[inline]
    pub fn wait_while<T, F>(&self, mutex_guard: &mut MutexGuard<'_, T>, condition: F)
    where
        T: ?Sized,
        F: FnMut(&mut T) -> bool,
    {
        self.0.wait_while(mutex_guard, condition);
    }

    /// Like [`wait`](Condvar::wait), giving up at `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// let (m, cv) = (parking_lot::Mutex::new(()), parking_lot::Condvar::new());
    /// assert!(cv.wait_until(&mut m.lock(), Instant::now()).timed_out());
    /// ```
    #[track_caller]
    #[inline]
    pub fn wait_until<T: ?Sized>(
        &self,
        mutex_guard: &mut MutexGuard<'_, T>,
        timeout: Instant,
    ) -> WaitTimeoutResult {
        WaitTimeoutResult(self.0.wait_until(mutex_guard, timeout).timed_out())
    }

    /// Like [`wait`](Condvar::wait), giving up after `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let (m, cv) = (parking_lot::Mutex::new(()), parking_lot::Condvar::new());
    /// assert!(cv.wait_for(&mut m.lock(), Duration::from_millis(1)).timed_out());
    /// ```
    #[track_caller]
    #[inline]
    pub fn wait_for<T: ?Sized>(
        &self,
        mutex_guard: &mut MutexGuard<'_, T>,
        timeout: Duration,
    ) -> WaitTimeoutResult {
        WaitTimeoutResult(self.0.wait_for(mutex_guard, timeout).timed_out())
    }

    /// Blocks while `condition` holds, giving up at `timeout`: timed out only if the
    /// condition, looked at once more after the time ran out, still holds (0.13's rule).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// let (m, cv) = (parking_lot::Mutex::new(()), parking_lot::Condvar::new());
    /// let mut calls = 0;
    /// let result = cv.wait_while_until(&mut m.lock(), |_| { calls += 1; calls == 1 }, Instant::now());
    /// assert!(!result.timed_out()); // false the second time it was asked
    /// assert_eq!(calls, 2);
    /// ```
    #[track_caller]
    #[inline]
    pub fn wait_while_until<T, F>(
        &self,
        mutex_guard: &mut MutexGuard<'_, T>,
        mut condition: F,
        timeout: Instant,
    ) -> WaitTimeoutResult
    where
        T: ?Sized,
        F: FnMut(&mut T) -> bool,
    {
        let mut timed_out = false;
        loop {
            if !condition(&mut **mutex_guard) {
                return WaitTimeoutResult(false);
            }
            if timed_out {
                return WaitTimeoutResult(true);
            }
            timed_out = self.0.wait_until(mutex_guard, timeout).timed_out();
        }
    }

    /// Blocks while `condition` holds, giving up after `timeout` (as
    /// [`wait_while_until`](Condvar::wait_while_until)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let (m, cv) = (parking_lot::Mutex::new(1), parking_lot::Condvar::new());
    /// let result = cv.wait_while_for(&mut m.lock(), |n| *n > 0, Duration::from_millis(1));
    /// assert!(result.timed_out());
    /// ```
    #[track_caller]
    #[inline]
    pub fn wait_while_for<T, F>(
        &self,
        mutex_guard: &mut MutexGuard<'_, T>,
        condition: F,
        timeout: Duration,
    ) -> WaitTimeoutResult
    where
        T: ?Sized,
        F: FnMut(&mut T) -> bool,
    {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.wait_while_until(mutex_guard, condition, deadline),
            None => {
                self.wait_while(mutex_guard, condition);
                WaitTimeoutResult(false)
            }
        }
    }
}

impl Default for Condvar {
    /// A new condition variable, of the caller's class.
    #[track_caller]
    #[inline]
    fn default() -> Condvar {
        Condvar::new()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Condvar { .. }")
    }
}
