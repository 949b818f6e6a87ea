//! Typed, *untracked* locks for the checker's own internals: `lock_api` wrappers over the raw
//! locks, and a [`Condvar`] for their guards. Nothing here reports to lockdep.

use crate::condvar::RawCondvar;
use crate::mutex::RawMutex;
use crate::rwlock::RawRwLock;
use core::fmt;
use std::time::{Duration, Instant};

/// A mutex protecting a `T`, not tracked by lockdep.
///
/// # Examples
///
/// ```
/// let m = lockdep_raw::Mutex::new(vec![1]);
/// m.lock().push(2);
/// assert_eq!(*m.lock(), [1, 2]);
/// ```
pub type Mutex<T> = lock_api::Mutex<RawMutex, T>;

/// Guard of a locked [`Mutex`].
pub type MutexGuard<'a, T> = lock_api::MutexGuard<'a, RawMutex, T>;

/// A reader-writer lock protecting a `T`, not tracked by lockdep. See [`RawRwLock`] for the
/// exact semantics (writer preference, recursive and upgradable reads).
///
/// # Examples
///
/// ```
/// let l = lockdep_raw::RwLock::new(5);
/// assert_eq!(*l.read(), 5);
/// *l.write() += 1;
/// assert_eq!(*l.read_recursive(), 6);
/// ```
pub type RwLock<T> = lock_api::RwLock<RawRwLock, T>;

/// Shared guard of a [`RwLock`].
pub type RwLockReadGuard<'a, T> = lock_api::RwLockReadGuard<'a, RawRwLock, T>;

/// Exclusive guard of a [`RwLock`].
pub type RwLockWriteGuard<'a, T> = lock_api::RwLockWriteGuard<'a, RawRwLock, T>;

/// Upgradable guard of a [`RwLock`].
pub type RwLockUpgradableReadGuard<'a, T> = lock_api::RwLockUpgradableReadGuard<'a, RawRwLock, T>;

/// A [`Mutex`] built in a `const` context, e.g. for a `static`.
///
/// # Examples
///
/// ```
/// static COUNT: lockdep_raw::Mutex<u32> = lockdep_raw::const_mutex(0);
/// *COUNT.lock() += 1;
/// assert_eq!(*COUNT.lock(), 1);
/// ```
pub const fn const_mutex<T>(value: T) -> Mutex<T> {
    Mutex::const_new(RawMutex::new(), value)
}

/// A [`RwLock`] built in a `const` context, e.g. for a `static`.
///
/// # Examples
///
/// ```
/// static TABLE: lockdep_raw::RwLock<[u8; 2]> = lockdep_raw::const_rwlock([0; 2]);
/// TABLE.write()[1] = 7;
/// assert_eq!(TABLE.read()[1], 7);
/// ```
pub const fn const_rwlock<T>(value: T) -> RwLock<T> {
    RwLock::const_new(RawRwLock::new(), value)
}

/// A condition variable for [`MutexGuard`]s, over [`RawCondvar`] (see there for the
/// guarantees: no lost wake-ups, and why callers must still wait in a loop).
///
/// # Examples
///
/// ```
/// use lockdep_raw::{Condvar, Mutex};
/// use std::sync::Arc;
///
/// let pair = Arc::new((Mutex::new(false), Condvar::new()));
/// let other = pair.clone();
/// let t = std::thread::spawn(move || {
///     let (ready, condvar) = &*other;
///     *ready.lock() = true;
///     condvar.notify_one();
/// });
/// let (ready, condvar) = &*pair;
/// let mut guard = ready.lock();
/// while !*guard {
///     condvar.wait(&mut guard);
/// }
/// t.join().unwrap();
/// ```
#[derive(Default)]
pub struct Condvar {
    raw: RawCondvar,
}

impl Condvar {
    /// A new condition variable.
    ///
    /// # Examples
    ///
    /// ```
    /// static READY: lockdep_raw::Condvar = lockdep_raw::Condvar::new();
    /// assert_eq!(READY.notify_all(), 0);
    /// ```
    pub const fn new() -> Self {
        Condvar {
            raw: RawCondvar::new(),
        }
    }

    /// Unlocks the guard's mutex, sleeps until notified, locks it again.
    ///
    /// # Examples
    ///
    /// ```
    /// # use lockdep_raw::{Condvar, Mutex};
    /// let (queue, condvar) = (Mutex::new(Vec::<u32>::new()), Condvar::new());
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         queue.lock().push(1);
    ///         condvar.notify_one();
    ///     });
    ///     let mut guard = queue.lock();
    ///     while guard.is_empty() {
    ///         condvar.wait(&mut guard);
    ///     }
    ///     assert_eq!(guard.pop(), Some(1));
    /// });
    /// ```
    pub fn wait<T: ?Sized>(&self, guard: &mut MutexGuard<'_, T>) {
        // SAFETY: the guard proves this thread holds the mutex, and `wait` holds it again
        // when it returns, so the guard stays valid.
        unsafe { self.raw.wait(lock_api::MutexGuard::mutex(guard).raw()) }
    }

    /// Like [`wait`](Self::wait), but gives up at `deadline`. Returns true if it timed out.
    ///
    /// # Examples
    ///
    /// ```
    /// # use lockdep_raw::{Condvar, Mutex};
    /// # use std::time::{Duration, Instant};
    /// let (m, c) = (Mutex::new(()), Condvar::new());
    /// let mut guard = m.lock();
    /// assert!(c.wait_until(&mut guard, Instant::now() + Duration::from_millis(10)));
    /// ```
    pub fn wait_until<T: ?Sized>(&self, guard: &mut MutexGuard<'_, T>, deadline: Instant) -> bool {
        // SAFETY: as in `wait`.
        unsafe {
            self.raw
                .wait_until(lock_api::MutexGuard::mutex(guard).raw(), Some(deadline))
        }
    }

    /// Like [`wait`](Self::wait), but gives up after `timeout`. Returns true if it timed out.
    ///
    /// # Examples
    ///
    /// ```
    /// # use lockdep_raw::{Condvar, Mutex};
    /// # use std::time::Duration;
    /// let (m, c) = (Mutex::new(()), Condvar::new());
    /// let mut guard = m.lock();
    /// assert!(c.wait_for(&mut guard, Duration::from_millis(10)));
    /// ```
    pub fn wait_for<T: ?Sized>(&self, guard: &mut MutexGuard<'_, T>, timeout: Duration) -> bool {
        // An unrepresentable deadline means "wait forever".
        let deadline = Instant::now().checked_add(timeout);
        // SAFETY: as in `wait`.
        unsafe {
            self.raw
                .wait_until(lock_api::MutexGuard::mutex(guard).raw(), deadline)
        }
    }

    /// Wakes one waiting thread, if any. Returns whether one was woken.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!lockdep_raw::Condvar::new().notify_one());
    /// ```
    #[inline]
    pub fn notify_one(&self) -> bool {
        self.raw.notify_one()
    }

    /// Wakes every waiting thread. Returns how many were woken.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(lockdep_raw::Condvar::new().notify_all(), 0);
    /// ```
    #[inline]
    pub fn notify_all(&self) -> usize {
        self.raw.notify_all()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar").field("raw", &self.raw).finish()
    }
}
