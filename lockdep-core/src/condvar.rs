//! `Condvar`, working with this crate's [`MutexGuard`].

use std::panic::Location;
use std::time::{Duration, Instant};

use crate::hook::lock_map::{untracked_scope, LockMap};
use crate::raw_mutex::deadline;
use crate::{ClassKind, MutexGuard, RawMutex};

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
/// [`WaitDeadlock`](crate::ViolationKind::WaitDeadlock) (see the repository's book/src/waits.md).
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
    raw: RawCondvar,
}

/// The raw condition variable a [`Condvar`] is made of (parking_lot 0.13's `RawCondvar`),
/// checked as a `Condvar` is, for code built on the raw locks: it waits with a
/// [`RawMutex`] that the caller holds.
///
/// Its class is its creation site ([`new`](RawCondvar::new)); one made by
/// [`INIT`](RawCondvar::INIT) has no site, and its class is where it is first waited for or
/// notified: the first frame of the user's code there (as a raw mutex made by `lock_api`'s
/// `INIT`).
///
/// # Examples
///
/// ```
/// use lockdep::{Mutex, RawCondvar};
/// use std::time::Duration;
///
/// let (m, cv) = (Mutex::new(()), RawCondvar::new());
/// let guard = m.lock();
/// // SAFETY: this thread holds the mutex, through `guard`, which is not used meanwhile.
/// let timed_out = unsafe { cv.wait_for(m.raw(), &Duration::from_millis(1)) };
/// assert!(timed_out);
/// drop(guard);
/// assert!(!cv.notify_one());
/// ```
#[cfg_attr(not(feature = "enabled"), repr(transparent))]
pub struct RawCondvar {
    raw: lockdep_raw::RawCondvar,
    /// The event class: every condition variable created at one site.
    map: LockMap,
}

impl RawCondvar {
    /// A condition variable with no creation site (`lock_api`'s `INIT`): its class is where it
    /// is first used. Prefer [`new`](RawCondvar::new).
    ///
    /// # Examples
    ///
    /// ```
    /// static CV: lockdep::RawCondvar = lockdep::RawCondvar::INIT;
    /// assert_eq!(CV.notify_all(), 0);
    /// ```
    #[allow(clippy::declare_interior_mutable_const)]
    pub const INIT: RawCondvar = RawCondvar {
        raw: lockdep_raw::RawCondvar::new(),
        map: LockMap::unkeyed(crate::ClassKind::Event),
    };

    /// A new condition variable, whose class is the caller's source location.
    ///
    /// # Examples
    ///
    /// ```
    /// let cv = lockdep::RawCondvar::new();
    /// assert!(!cv.notify_one());
    /// ```
    #[track_caller]
    #[inline]
    pub const fn new() -> RawCondvar {
        RawCondvar {
            raw: lockdep_raw::RawCondvar::new(),
            map: LockMap::untyped_at_site(ClassKind::Event, Location::caller()),
        }
    }

    /// Waits with `mutex` released until woken or `deadline` passes (`None`: no deadline);
    /// true if the time ran out. `mutex` leaves the held stack meanwhile and is validated and
    /// held again, as acquired at `site`.
    ///
    /// # Safety
    ///
    /// The calling thread holds `mutex`, and does not touch the data it guards until this
    /// returns.
    #[inline]
    unsafe fn wait_at(
        &self,
        mutex: &RawMutex,
        deadline: Option<Instant>,
        site: &'static Location<'static>,
    ) -> bool {
        let waited = mutex.around_wait(&self.map, site, |mutex| {
            // SAFETY: `mutex` is locked by this thread (our caller's promise);
            // `try_wait_until` releases it while parked and re-takes it before returning, or,
            // refusing the wait, leaves it locked.
            unsafe { self.raw.try_wait_until(mutex, deadline) }
        });
        match waited {
            Ok(timed_out) => timed_out,
            // parking_lot's panic, once the mutex is held again on the held stack too: a
            // guard releases it as it unwinds.
            Err(different) => panic!("{different}"),
        }
    }

    /// Releases `mutex`, sleeps until notified, and takes `mutex` again.
    ///
    /// # Safety
    ///
    /// The calling thread holds `mutex` (through a guard it does not use meanwhile, or
    /// raw); it holds it again when this returns.
    ///
    /// # Panics
    ///
    /// If other threads wait on this condition variable with another mutex; `mutex` is still
    /// held then.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{Mutex, RawCondvar};
    /// let (m, cv) = (Mutex::new(false), RawCondvar::new());
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         *m.lock() = true;
    ///         cv.notify_one();
    ///     });
    ///     let guard = m.lock();
    ///     while !*guard {
    ///         // SAFETY: this thread holds `m` through `guard`, unused during the wait.
    ///         unsafe { cv.wait(m.raw()) };
    ///     }
    /// });
    /// ```
    #[track_caller]
    #[inline]
    pub unsafe fn wait(&self, mutex: &RawMutex) {
        // SAFETY: forwarded from our caller.
        unsafe { self.wait_at(mutex, None, Location::caller()) };
    }

    /// Like [`wait`](RawCondvar::wait), giving up at `timeout`; true if the time ran out.
    ///
    /// # Safety
    ///
    /// As for [`wait`](RawCondvar::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let (m, cv) = (lockdep::Mutex::new(()), lockdep::RawCondvar::new());
    /// let _guard = m.lock();
    /// let deadline = Instant::now() + Duration::from_millis(1);
    /// // SAFETY: this thread holds `m` through `_guard`, unused during the wait.
    /// assert!(unsafe { cv.wait_until(m.raw(), &deadline) });
    /// ```
    #[track_caller]
    #[inline]
    pub unsafe fn wait_until(&self, mutex: &RawMutex, timeout: &Instant) -> bool {
        // SAFETY: forwarded from our caller.
        unsafe { self.wait_at(mutex, Some(*timeout), Location::caller()) }
    }

    /// Like [`wait`](RawCondvar::wait), giving up after `timeout`; true if the time ran out.
    ///
    /// # Safety
    ///
    /// As for [`wait`](RawCondvar::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let (m, cv) = (lockdep::Mutex::new(()), lockdep::RawCondvar::new());
    /// let _guard = m.lock();
    /// // SAFETY: this thread holds `m` through `_guard`, unused during the wait.
    /// assert!(unsafe { cv.wait_for(m.raw(), &Duration::from_millis(1)) });
    /// ```
    #[track_caller]
    #[inline]
    pub unsafe fn wait_for(&self, mutex: &RawMutex, timeout: &Duration) -> bool {
        // SAFETY: forwarded from our caller.
        unsafe { self.wait_at(mutex, Some(deadline(*timeout)), Location::caller()) }
    }

    /// Wakes one waiter; true if one was woken.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!lockdep::RawCondvar::new().notify_one());
    /// ```
    #[track_caller]
    #[inline]
    pub fn notify_one(&self) -> bool {
        self.map.notify_event(Location::caller());
        // The parking table a wake-up may create is not the caller's allocation.
        untracked_scope(|| self.raw.notify_one())
    }

    /// Wakes all waiters; returns how many.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(lockdep::RawCondvar::new().notify_all(), 0);
    /// ```
    #[track_caller]
    #[inline]
    pub fn notify_all(&self) -> usize {
        self.map.notify_event(Location::caller());
        untracked_scope(|| self.raw.notify_all())
    }
}

impl Default for RawCondvar {
    /// A new condition variable, of the caller's class.
    #[track_caller]
    #[inline]
    fn default() -> RawCondvar {
        RawCondvar::new()
    }
}

impl std::fmt::Debug for RawCondvar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawCondvar { .. }")
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
    pub const fn timed_out(self) -> bool {
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
            raw: RawCondvar::new(),
        }
    }

    /// The raw condition variable (parking_lot 0.13's `Condvar::raw`).
    ///
    /// # Examples
    ///
    /// ```
    /// let cv = lockdep::Condvar::new();
    /// assert!(!cv.raw().notify_one());
    /// ```
    #[inline]
    pub fn raw(&self) -> &RawCondvar {
        &self.raw
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
        // for the wait, on this thread; the guard stays valid throughout, and the data is not
        // touched meanwhile (the guard is borrowed by this call).
        unsafe {
            let raw = MutexGuard::mutex(guard).raw();
            self.raw.wait_at(raw, deadline, site)
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
        self.raw.notify_one()
    }

    /// Wakes all waiters; returns how many.
    #[track_caller]
    #[inline]
    pub fn notify_all(&self) -> usize {
        self.raw.notify_all()
    }
}

impl std::fmt::Debug for Condvar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Condvar { .. }")
    }
}
