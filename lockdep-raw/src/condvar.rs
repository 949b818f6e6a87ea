//! [`RawCondvar`]: a condition variable for [`RawMutex`].

use crate::mutex::RawMutex;
use crate::sync::{self, AtomicUsize, Ordering::*};
use core::fmt;
use lock_api::RawMutex as _;
use parking_lot_core::{FilterOp, ParkResult, ParkToken, UnparkResult, UnparkToken};
use std::time::Instant;

/// A raw condition variable that works with [`RawMutex`].
///
/// Waiters park on the condition variable's address. `mutex` is the address of the mutex the
/// queued waiters wait with, 0 when none is queued (parking_lot's one word): it is only changed
/// while that queue is locked, set by a waiter as it queues into an empty queue and cleared by
/// whoever removes the last one (a notifier, or its own timeout), so it is non-zero exactly
/// while the queue has waiters.
///
/// No lost wake-up: a waiter queues itself *before* releasing the mutex (the release happens
/// in `park`'s `before_sleep`). A notifier that changed the condition under the mutex therefore
/// acquired the mutex after the waiter was queued, sees `mutex` set, and wakes it. As with
/// every condition variable, a condition changed *without* holding the mutex can be missed.
///
/// Waiters wait with one mutex at a time: a wait with another mutex while there are waiters
/// is refused (parking_lot's rule): [`wait_until`](Self::wait_until) panics, leaving the
/// mutex locked. Once the queue is empty, any mutex will do.
///
/// Woken waiters re-lock the mutex themselves (no requeueing onto the mutex), so
/// [`notify_all`](Self::notify_all) makes them compete for it. This implementation does not
/// wake a waiter without a notification or a timeout, but callers must still re-check their
/// condition in a loop: another thread may have run first and changed it again, and portable
/// condition-variable code must tolerate spurious wake-ups.
///
/// Prefer the typed [`crate::Condvar`]; this is for code built on raw locks.
///
/// # Examples
///
/// ```
/// use lock_api::RawMutex as _;
/// use lockdep_raw::{RawCondvar, RawMutex};
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
///
/// let shared = Arc::new((RawMutex::new(), RawCondvar::new(), AtomicBool::new(false)));
/// let other = shared.clone();
/// let t = std::thread::spawn(move || {
///     let (mutex, condvar, ready) = &*other;
///     mutex.lock();
///     ready.store(true, Ordering::Relaxed);
///     // SAFETY: this thread holds `mutex`.
///     unsafe { mutex.unlock() };
///     condvar.notify_one();
/// });
/// let (mutex, condvar, ready) = &*shared;
/// mutex.lock();
/// while !ready.load(Ordering::Relaxed) {
///     // SAFETY: this thread holds `mutex`.
///     unsafe { condvar.wait(mutex) };
/// }
/// // SAFETY: this thread holds `mutex`.
/// unsafe { mutex.unlock() };
/// t.join().unwrap();
/// ```
pub struct RawCondvar {
    /// The address of the mutex the queued waiters wait with; 0 when none is queued.
    mutex: AtomicUsize,
}

/// A wait refused because other threads wait on the condition variable with another mutex
/// ([`RawCondvar::try_wait_until`]); the mutex was not released.
///
/// # Examples
///
/// ```
/// let e = lockdep_raw::DifferentMutex;
/// assert_eq!(e.to_string(), "attempted to use a condition variable with more than one mutex");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DifferentMutex;

impl fmt::Display for DifferentMutex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // parking_lot's words, which its users' tests match.
        f.write_str("attempted to use a condition variable with more than one mutex")
    }
}

impl std::error::Error for DifferentMutex {}

impl RawCondvar {
    /// A new condition variable with no waiters.
    ///
    /// # Examples
    ///
    /// ```
    /// static CONDVAR: lockdep_raw::RawCondvar = lockdep_raw::RawCondvar::new();
    /// assert!(!CONDVAR.notify_one());
    /// ```
    pub const fn new() -> Self {
        RawCondvar {
            mutex: AtomicUsize::new(0),
        }
    }

    #[inline]
    fn key(&self) -> usize {
        self as *const Self as usize
    }

    /// Releases `mutex`, sleeps until notified, re-acquires `mutex`.
    ///
    /// # Safety
    ///
    /// The calling thread must hold `mutex`. It holds it again when this returns.
    ///
    /// # Examples
    ///
    /// ```
    /// use lock_api::RawMutex as _;
    /// use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    /// let (mutex, condvar) = (lockdep_raw::RawMutex::new(), lockdep_raw::RawCondvar::new());
    /// let done = AtomicBool::new(false); // only changed under `mutex`
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         mutex.lock();
    ///         done.store(true, Relaxed);
    ///         condvar.notify_one();
    ///         // SAFETY: this thread holds `mutex`.
    ///         unsafe { mutex.unlock() };
    ///     });
    ///     mutex.lock();
    ///     while !done.load(Relaxed) {
    ///         // SAFETY: this thread holds `mutex`.
    ///         unsafe { condvar.wait(&mutex) };
    ///     }
    ///     // SAFETY: we hold it again.
    ///     unsafe { mutex.unlock() };
    /// });
    /// ```
    pub unsafe fn wait(&self, mutex: &RawMutex) {
        // SAFETY: forwarded from our caller.
        unsafe { self.wait_until(mutex, None) };
    }

    /// Like [`wait`](Self::wait), but gives up at `deadline` (`None`: never). Returns true if
    /// it timed out rather than being notified. `mutex` is re-acquired either way.
    ///
    /// # Safety
    ///
    /// The calling thread must hold `mutex`. It holds it again when this returns.
    ///
    /// # Panics
    ///
    /// If other threads wait on this condition variable with another mutex (see
    /// [`try_wait_until`](Self::try_wait_until)); `mutex` is still held then.
    ///
    /// # Examples
    ///
    /// ```
    /// use lock_api::RawMutex as _;
    /// use std::time::{Duration, Instant};
    /// let (mutex, condvar) = (lockdep_raw::RawMutex::new(), lockdep_raw::RawCondvar::new());
    /// mutex.lock();
    /// let deadline = Instant::now() + Duration::from_millis(20);
    /// // SAFETY: this thread holds `mutex`.
    /// let timed_out = unsafe { condvar.wait_until(&mutex, Some(deadline)) };
    /// assert!(timed_out && Instant::now() >= deadline);
    /// assert!(mutex.is_locked());
    /// // SAFETY: we hold it again.
    /// unsafe { mutex.unlock() };
    /// ```
    pub unsafe fn wait_until(&self, mutex: &RawMutex, deadline: Option<Instant>) -> bool {
        // SAFETY: forwarded from our caller.
        match unsafe { self.try_wait_until(mutex, deadline) } {
            Ok(timed_out) => timed_out,
            Err(different) => panic!("{different}"),
        }
    }

    /// [`wait_until`](Self::wait_until), or `Err` at once, `mutex` still held and not
    /// released meanwhile, when other threads wait on this condition variable with another
    /// mutex.
    ///
    /// # Safety
    ///
    /// The calling thread must hold `mutex`. It holds it when this returns.
    ///
    /// # Examples
    ///
    /// ```
    /// use lock_api::RawMutex as _;
    /// use std::time::Instant;
    /// let (mutex, condvar) = (lockdep_raw::RawMutex::new(), lockdep_raw::RawCondvar::new());
    /// mutex.lock();
    /// // SAFETY: this thread holds `mutex`.
    /// let timed_out = unsafe { condvar.try_wait_until(&mutex, Some(Instant::now())) };
    /// assert_eq!(timed_out, Ok(true)); // nobody waits with another mutex
    /// // SAFETY: it holds it again.
    /// unsafe { mutex.unlock() };
    /// ```
    pub unsafe fn try_wait_until(
        &self,
        mutex: &RawMutex,
        deadline: Option<Instant>,
    ) -> Result<bool, DifferentMutex> {
        let address = mutex as *const RawMutex as usize;
        let validate = || {
            // Under the queue lock, where `mutex` changes.
            let current = self.mutex.load(Relaxed);
            if current == 0 {
                self.mutex.store(address, Relaxed);
            } else if current != address {
                return false;
            }
            true
        };
        // SAFETY: our caller holds `mutex`; we are queued (and counted) by now, so a notifier
        // that takes the mutex after this unlock will find us.
        let before_sleep = || unsafe { mutex.unlock() };
        let timed_out = |_key, was_last_thread: bool| self.dequeued(!was_last_thread);
        // SAFETY: the key is this condvar's address; `validate` and `timed_out` neither panic
        // nor call into the parking lot (`before_sleep` may, and does, by design).
        let result = unsafe {
            sync::park(
                self.key(),
                validate,
                before_sleep,
                timed_out,
                ParkToken(0),
                deadline,
            )
        };
        if result == ParkResult::Invalid {
            return Err(DifferentMutex);
        }
        mutex.lock();
        Ok(result == ParkResult::TimedOut)
    }

    /// Waiters left the queue (called under the queue lock): when none is left
    /// (`have_more_threads` false), the mutex's address goes with the last one.
    #[inline]
    fn dequeued(&self, have_more_threads: bool) {
        if !have_more_threads {
            self.mutex.store(0, Relaxed);
        }
    }

    /// Wakes one waiting thread, if any. Returns whether one was woken.
    ///
    /// # Examples
    ///
    /// ```
    /// let condvar = lockdep_raw::RawCondvar::new();
    /// assert!(!condvar.notify_one()); // nobody waits: the notification is not kept
    /// ```
    #[inline]
    pub fn notify_one(&self) -> bool {
        // See the type's docs for why this check cannot miss a waiter that matters.
        if self.mutex.load(Relaxed) == 0 {
            return false;
        }
        self.notify_one_slow()
    }

    #[cold]
    fn notify_one_slow(&self) -> bool {
        let callback = |result: UnparkResult| {
            self.dequeued(result.have_more_threads);
            UnparkToken(0)
        };
        // SAFETY: the key is this condvar's address; the callback neither panics nor calls
        // into the parking lot.
        let result = unsafe { sync::unpark_one(self.key(), callback) };
        result.unparked_threads != 0
    }

    /// Wakes every waiting thread. Returns how many were woken.
    ///
    /// # Examples
    ///
    /// ```
    /// let condvar = lockdep_raw::RawCondvar::new();
    /// assert_eq!(condvar.notify_all(), 0);
    /// ```
    #[inline]
    pub fn notify_all(&self) -> usize {
        if self.mutex.load(Relaxed) == 0 {
            return 0;
        }
        self.notify_all_slow()
    }

    #[cold]
    fn notify_all_slow(&self) -> usize {
        let callback = |result: UnparkResult| {
            self.dequeued(result.have_more_threads);
            UnparkToken(0)
        };
        // SAFETY: the key is this condvar's address; the callbacks neither panic nor call into
        // the parking lot.
        let result = unsafe { sync::unpark_filter(self.key(), |_| FilterOp::Unpark, callback) };
        result.unparked_threads
    }
}

impl Default for RawCondvar {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RawCondvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawCondvar")
            .field("mutex", &(self.mutex.load(Relaxed) as *const RawMutex))
            .finish()
    }
}
