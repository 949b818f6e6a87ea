//! `Condvar`, working with this crate's [`MutexGuard`].

use std::panic::Location;
use std::time::{Duration, Instant};

use crate::hook::lock_map::{untracked_scope, LockMap};
use crate::raw_mutex::deadline;
use crate::{ClassKind, MutexGuard};

/// A condition variable with the API of `parking_lot::Condvar`.
///
/// While waiting, the mutex leaves the thread's held stack; it is validated and held again
/// when re-acquired, as acquired at the `wait` call.
///
/// As parking_lot's, a condition variable is used with one mutex at a time: a wait with
/// another mutex while threads wait with the first one panics (with the guard still locked).
/// Once no thread waits, the next wait may use any mutex.
///
/// A condition variable is also an event class (its creation site's): a wait while holding
/// another lock `L` records `L → wait`, and a notify records `wait → X` for every lock `X` the
/// notifying thread holds or took since it last waited, so that a thread waiting while
/// holding a lock its notifier needs is reported as a
/// [`WaitDeadlock`](crate::ViolationKind::WaitDeadlock) (see the crate's docs/waits.md).
///
/// # Examples
///
/// ```
/// use lockdep::{Condvar, Mutex};
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
// Without the checker the map is zero-sized: then a `Condvar` is parking_lot's.
#[cfg_attr(not(feature = "enabled"), repr(transparent))]
pub struct Condvar {
    raw: lockdep_raw::RawCondvar,
    /// The event class: every condition variable created at one site.
    map: LockMap,
}

impl Default for Condvar {
    /// A new condition variable, of the caller's class.
    #[track_caller]
    #[inline]
    fn default() -> Condvar {
        Condvar::new()
    }
}

/// Whether a timed wait on a [`Condvar`] returned because its time ran out.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let (m, cv) = (lockdep::Mutex::new(()), lockdep::Condvar::new());
/// let mut g = m.lock();
/// assert!(cv.wait_for(&mut g, Duration::from_millis(1)).timed_out());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    /// True when the wait timed out.
    #[inline]
    pub fn timed_out(self) -> bool {
        self.0
    }
}

impl Condvar {
    /// A new condition variable.
    ///
    /// # Examples
    ///
    /// ```
    /// static READY: lockdep::Condvar = lockdep::Condvar::new();
    /// assert!(!READY.notify_one());
    /// ```
    #[track_caller]
    #[inline]
    pub const fn new() -> Condvar {
        Condvar {
            raw: lockdep_raw::RawCondvar::new(),
            map: LockMap::untyped_at_site(ClassKind::Event, Location::caller()),
        }
    }

    /// Waits with `guard`'s mutex released until woken or `deadline` passes (`None`: no
    /// deadline); true if the time ran out.
    #[inline]
    fn wait_raw<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        deadline: Option<Instant>,
        site: &'static Location<'static>,
    ) -> bool {
        // SAFETY: the raw mutex is used only to release and re-take the lock this guard holds
        // for the wait, on this thread; the guard stays valid throughout.
        let raw = unsafe { MutexGuard::mutex(guard).raw() };
        let waited = raw.around_wait(&self.map, site, |mutex| {
            // SAFETY: `mutex` is locked by this thread (through `guard`); `try_wait_until`
            // releases it while parked and re-takes it before returning, or, refusing the
            // wait, leaves it locked.
            unsafe { self.raw.try_wait_until(mutex, deadline) }
        });
        match waited {
            Ok(timed_out) => timed_out,
            // parking_lot's panic, once the mutex is held again on the held stack too: the
            // guard releases it as it unwinds.
            Err(different) => panic!("{different}"),
        }
    }

    /// Blocks until notified; the mutex is released while waiting and re-acquired after.
    /// Wake-ups may be spurious: wait in a loop on the condition, or use
    /// [`wait_while`](Condvar::wait_while).
    ///
    /// # Panics
    ///
    /// If other threads wait on this condition variable with another mutex (parking_lot's
    /// "attempted to use a condition variable with more than one mutex"); so do every
    /// `wait_*` method.
    #[track_caller]
    #[inline]
    pub fn wait<T: ?Sized>(&self, guard: &mut MutexGuard<'_, T>) {
        self.wait_raw(guard, None, Location::caller());
    }

    /// Like [`wait`](Condvar::wait), giving up after `timeout`.
    #[track_caller]
    #[inline]
    pub fn wait_for<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        timeout: Duration,
    ) -> WaitTimeoutResult {
        WaitTimeoutResult(self.wait_raw(guard, Some(deadline(timeout)), Location::caller()))
    }

    /// Like [`wait`](Condvar::wait), giving up at `deadline`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let (m, cv) = (lockdep::Mutex::new(()), lockdep::Condvar::new());
    /// let mut g = m.lock();
    /// let deadline = Instant::now() + Duration::from_millis(1);
    /// assert!(cv.wait_until(&mut g, deadline).timed_out());
    /// ```
    #[track_caller]
    #[inline]
    pub fn wait_until<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        deadline: Instant,
    ) -> WaitTimeoutResult {
        WaitTimeoutResult(self.wait_raw(guard, Some(deadline), Location::caller()))
    }

    /// Blocks while `condition` holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{Condvar, Mutex};
    /// let (m, cv) = (Mutex::new(0), Condvar::new());
    /// let mut g = m.lock();
    /// cv.wait_while(&mut g, |n| *n > 0); // returns at once: the condition is false
    /// ```
    #[track_caller]
    #[inline]
    pub fn wait_while<T, F>(&self, guard: &mut MutexGuard<'_, T>, condition: F)
    where
        T: ?Sized,
        F: FnMut(&mut T) -> bool,
    {
        self.wait_while_raw(guard, condition, None, Location::caller());
    }

    /// Blocks while `condition` holds, giving up at `deadline`; the result says whether the
    /// time ran out (with the condition still true).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let (m, cv) = (lockdep::Mutex::new(1), lockdep::Condvar::new());
    /// let mut g = m.lock();
    /// let deadline = Instant::now() + Duration::from_millis(1);
    /// assert!(cv.wait_while_until(&mut g, |n| *n > 0, deadline).timed_out());
    /// ```
    #[track_caller]
    #[inline]
    pub fn wait_while_until<T, F>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        condition: F,
        deadline: Instant,
    ) -> WaitTimeoutResult
    where
        T: ?Sized,
        F: FnMut(&mut T) -> bool,
    {
        self.wait_while_raw(guard, condition, Some(deadline), Location::caller())
    }

    /// Blocks while `condition` holds, giving up after `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let (m, cv) = (lockdep::Mutex::new(0), lockdep::Condvar::new());
    /// let mut g = m.lock();
    /// assert!(!cv.wait_while_for(&mut g, |n| *n > 0, Duration::from_secs(1)).timed_out());
    /// ```
    #[track_caller]
    #[inline]
    pub fn wait_while_for<T, F>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        condition: F,
        timeout: Duration,
    ) -> WaitTimeoutResult
    where
        T: ?Sized,
        F: FnMut(&mut T) -> bool,
    {
        self.wait_while_raw(
            guard,
            condition,
            Some(deadline(timeout)),
            Location::caller(),
        )
    }

    /// The loop of the `wait_while` family (parking_lot's): waits while `condition` holds,
    /// until a wait times out at `deadline` (`None`: none).
    #[inline]
    fn wait_while_raw<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        mut condition: impl FnMut(&mut T) -> bool,
        deadline: Option<Instant>,
        site: &'static Location<'static>,
    ) -> WaitTimeoutResult {
        let mut timed_out = false;
        while !timed_out && condition(&mut **guard) {
            timed_out = self.wait_raw(guard, deadline, site);
        }
        WaitTimeoutResult(timed_out)
    }

    /// Wakes one waiter; true if one was woken.
    #[track_caller]
    #[inline]
    pub fn notify_one(&self) -> bool {
        self.map.notify_event(Location::caller());
        // The parking table a wake-up may create is not the caller's allocation.
        untracked_scope(|| self.raw.notify_one())
    }

    /// Wakes all waiters; returns how many.
    #[track_caller]
    #[inline]
    pub fn notify_all(&self) -> usize {
        self.map.notify_event(Location::caller());
        untracked_scope(|| self.raw.notify_all())
    }
}

impl std::fmt::Debug for Condvar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Condvar { .. }")
    }
}
