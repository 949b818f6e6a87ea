//! `RwLock`: `lock_api`'s reader-writer lock over the checked [`RawRwLock`], with
//! creation-site classes, acquisition sites and the kernel's read/write rules.

use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

use lock_api::{RawRwLock as _, RawRwLockRecursive as _, RawRwLockUpgrade as _};

use crate::access::Access;
use crate::hook::lock_map::LockMap;
use crate::raw_mutex::deadline;
use crate::raw_rwlock::RawRwLock;
use crate::LockClass;

/// Shared guard of an [`RwLock`] (`lock_api`'s: `map`, `unlocked`, `bump` come with it).
pub type RwLockReadGuard<'a, T> = lock_api::RwLockReadGuard<'a, RawRwLock, T>;
/// Exclusive guard of an [`RwLock`] (`lock_api`'s: also `downgrade`,
/// `downgrade_to_upgradable`).
pub type RwLockWriteGuard<'a, T> = lock_api::RwLockWriteGuard<'a, RawRwLock, T>;
/// Upgradable read guard of an [`RwLock`] (`lock_api`'s: `upgrade`, `try_upgrade`,
/// `downgrade`).
pub type RwLockUpgradableReadGuard<'a, T> = lock_api::RwLockUpgradableReadGuard<'a, RawRwLock, T>;
/// A read guard mapped to a part of the data.
pub type MappedRwLockReadGuard<'a, T> = lock_api::MappedRwLockReadGuard<'a, RawRwLock, T>;
/// A write guard mapped to a part of the data.
pub type MappedRwLockWriteGuard<'a, T> = lock_api::MappedRwLockWriteGuard<'a, RawRwLock, T>;

/// A reader-writer lock with the API of `parking_lot::RwLock`, validated by the checker.
///
/// The ways in follow the kernel's rules:
/// - [`write`](RwLock::write): exclusive.
/// - [`read`](RwLock::read): a *non-recursive* read: it queues behind a waiting writer, so
///   taking it twice on one thread can deadlock (the kernel's `down_read`), and it is reported.
/// - [`read_recursive`](RwLock::read_recursive): a recursive read that never waits for another
///   reader's writer (the kernel's `read_lock` on `rwlock_t`): nesting it is fine, and cycles
///   through it count only if they are strong paths.
/// - [`upgradable_read`](RwLock::upgradable_read): ordered like `read` (it queues behind a
///   waiting writer); upgrading it is validated as a write.
///
/// # Examples
///
/// ```
/// use lockdep::RwLock;
///
/// let config = RwLock::new(String::from("v1"));
/// assert_eq!(*config.read(), "v1");
/// config.write().push('!');
/// let a = config.read_recursive();
/// let b = config.read_recursive(); // recursive reads nest
/// assert_eq!(*a, *b);
/// ```
#[repr(transparent)]
pub struct RwLock<T: ?Sized> {
    inner: lock_api::RwLock<RawRwLock, T>,
}

impl<T> RwLock<T> {
    /// A new unlocked lock whose class is the caller's source location.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockdep::RwLock::new(0);
    /// assert_eq!(*l.read(), 0);
    /// ```
    #[track_caller]
    #[inline]
    pub const fn new(value: T) -> Self {
        RwLock {
            inner: lock_api::RwLock::const_new(
                RawRwLock::with_map(LockMap::at_site::<T>(Location::caller())),
                value,
            ),
        }
    }

    /// A new unlocked lock of the named class `class`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{LockClass, RwLock};
    /// static TABLE: LockClass = LockClass::new("table rwlock");
    /// let t = RwLock::with_class(0, &TABLE);
    /// assert_eq!(*t.read(), 0);
    /// ```
    #[inline]
    pub const fn with_class(value: T, class: &'static LockClass) -> Self {
        RwLock {
            inner: lock_api::RwLock::const_new(
                RawRwLock::with_map(LockMap::with_class(class)),
                value,
            ),
        }
    }

    /// Consumes the lock, returning the data.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(lockdep::RwLock::new(4).into_inner(), 4);
    /// ```
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    #[inline]
    fn raw_lock(&self) -> &RawRwLock {
        // SAFETY: only used to lock through the checker and to query; the guards made after a
        // successful acquisition are what unlock.
        unsafe { self.inner.raw() }
    }

    #[inline]
    fn read_guard(&self) -> RwLockReadGuard<'_, T> {
        // SAFETY: called right after this thread took a shared lock.
        unsafe { self.inner.make_read_guard_unchecked() }
    }

    #[inline]
    fn write_guard(&self) -> RwLockWriteGuard<'_, T> {
        // SAFETY: called right after this thread took the exclusive lock.
        unsafe { self.inner.make_write_guard_unchecked() }
    }

    #[inline]
    fn upgradable_guard(&self) -> RwLockUpgradableReadGuard<'_, T> {
        // SAFETY: called right after this thread took the upgradable lock.
        unsafe { self.inner.make_upgradable_guard_unchecked() }
    }

    /// Shared access, non-recursive: may wait behind a queued writer, so taking it while this
    /// thread already reads the same class is reported (`down_read` twice).
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockdep::RwLock::new(1);
    /// assert_eq!(*l.read(), 1);
    /// ```
    #[track_caller]
    #[inline]
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        self.raw_lock().lock_shared_at(0, Location::caller());
        self.read_guard()
    }

    /// Shared access that never waits for a queued writer when another reader holds the lock
    /// (parking_lot's `read_recursive`): may nest on one thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockdep::RwLock::new(1);
    /// let (a, b) = (l.read_recursive(), l.read_recursive());
    /// assert_eq!(*a + *b, 2);
    /// ```
    #[track_caller]
    #[inline]
    pub fn read_recursive(&self) -> RwLockReadGuard<'_, T> {
        self.raw_lock().lock_shared_recursive_at(Location::caller());
        self.read_guard()
    }

    /// Exclusive access.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockdep::RwLock::new(1);
    /// *l.write() += 1;
    /// assert_eq!(*l.read(), 2);
    /// ```
    #[track_caller]
    #[inline]
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.raw_lock().lock_exclusive_at(0, Location::caller());
        self.write_guard()
    }

    /// Exclusive access as nesting subclass `subclass` (see
    /// [`Mutex::lock_nested`](crate::Mutex::lock_nested)).
    #[track_caller]
    #[inline]
    pub fn write_nested(&self, subclass: u32) -> RwLockWriteGuard<'_, T> {
        self.raw_lock()
            .lock_exclusive_at(subclass, Location::caller());
        self.write_guard()
    }

    /// Shared access (non-recursive) as nesting subclass `subclass`.
    #[track_caller]
    #[inline]
    pub fn read_nested(&self, subclass: u32) -> RwLockReadGuard<'_, T> {
        self.raw_lock().lock_shared_at(subclass, Location::caller());
        self.read_guard()
    }

    /// Upgradable shared access: excludes writers and other upgradable readers, admits plain
    /// readers; ordered like [`read`](RwLock::read). Upgrade it with
    /// [`RwLockUpgradableReadGuard::upgrade`].
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{RwLock, RwLockUpgradableReadGuard};
    /// let l = RwLock::new(1);
    /// let up = l.upgradable_read();
    /// // Readers on other threads still get in.
    /// std::thread::scope(|s| s.spawn(|| assert_eq!(*l.read(), 1)).join().unwrap());
    /// *RwLockUpgradableReadGuard::upgrade(up) = 2;
    /// assert_eq!(*l.read(), 2);
    /// ```
    #[track_caller]
    #[inline]
    pub fn upgradable_read(&self) -> RwLockUpgradableReadGuard<'_, T> {
        self.raw_lock().lock_upgradable_at(Location::caller());
        self.upgradable_guard()
    }

    /// Shared access without blocking; not validated, held afterwards.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockdep::RwLock::new(1);
    /// let w = l.write();
    /// assert!(l.try_read().is_none());
    /// drop(w);
    /// assert!(l.try_read().is_some());
    /// ```
    #[track_caller]
    #[inline]
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        self.raw_lock()
            .try_at(Access::Read, Location::caller(), |r| r.try_lock_shared())
            .then(|| self.read_guard())
    }

    /// Recursive shared access without blocking.
    #[track_caller]
    #[inline]
    pub fn try_read_recursive(&self) -> Option<RwLockReadGuard<'_, T>> {
        self.raw_lock()
            .try_at(Access::RecursiveRead, Location::caller(), |r| {
                r.try_lock_shared_recursive()
            })
            .then(|| self.read_guard())
    }

    /// Exclusive access without blocking; not validated, held afterwards.
    #[track_caller]
    #[inline]
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        self.raw_lock()
            .try_at(Access::Write, Location::caller(), |r| {
                r.try_lock_exclusive()
            })
            .then(|| self.write_guard())
    }

    /// Upgradable access without blocking.
    #[track_caller]
    #[inline]
    pub fn try_upgradable_read(&self) -> Option<RwLockUpgradableReadGuard<'_, T>> {
        self.raw_lock()
            .try_at(Access::Read, Location::caller(), |r| {
                r.try_lock_upgradable()
            })
            .then(|| self.upgradable_guard())
    }

    /// Shared access, giving up after `timeout`; validated like [`read`](RwLock::read).
    #[track_caller]
    #[inline]
    pub fn try_read_for(&self, timeout: Duration) -> Option<RwLockReadGuard<'_, T>> {
        self.try_read_until(deadline(timeout))
    }

    /// Shared access, giving up at `deadline`; validated like [`read`](RwLock::read).
    #[track_caller]
    #[inline]
    pub fn try_read_until(&self, deadline: Instant) -> Option<RwLockReadGuard<'_, T>> {
        use lock_api::RawRwLockTimed as _;
        self.raw_lock()
            .timed_at(
                Access::Read,
                Location::caller(),
                |r| r.try_lock_shared(),
                |r| r.try_lock_shared_until(deadline),
            )
            .then(|| self.read_guard())
    }

    /// Exclusive access, giving up after `timeout`; validated like [`write`](RwLock::write).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let l = lockdep::RwLock::new(());
    /// assert!(l.try_write_for(Duration::from_millis(1)).is_some());
    /// ```
    #[track_caller]
    #[inline]
    pub fn try_write_for(&self, timeout: Duration) -> Option<RwLockWriteGuard<'_, T>> {
        self.try_write_until(deadline(timeout))
    }

    /// Exclusive access, giving up at `deadline`; validated like [`write`](RwLock::write).
    #[track_caller]
    #[inline]
    pub fn try_write_until(&self, deadline: Instant) -> Option<RwLockWriteGuard<'_, T>> {
        use lock_api::RawRwLockTimed as _;
        self.raw_lock()
            .timed_at(
                Access::Write,
                Location::caller(),
                |r| r.try_lock_exclusive(),
                |r| r.try_lock_exclusive_until(deadline),
            )
            .then(|| self.write_guard())
    }

    /// Records the dependencies of `write()` now without taking the lock.
    #[track_caller]
    pub fn might_lock(&self) {
        self.raw_lock()
            .might_lock_at(Access::Write, Location::caller());
    }

    /// Records the dependencies of `read()` now without taking the lock.
    #[track_caller]
    pub fn might_lock_read(&self) {
        self.raw_lock()
            .might_lock_at(Access::Read, Location::caller());
    }

    /// Checks that this thread holds this lock (read or write).
    ///
    /// # Panics
    ///
    /// When the checker is on and this thread does not hold it.
    #[track_caller]
    pub fn assert_held(&self) {
        self.raw_lock().assert_held();
    }

    /// Checks that this thread does not hold this lock.
    ///
    /// # Panics
    ///
    /// When the checker is on and this thread holds it.
    #[track_caller]
    pub fn assert_not_held(&self) {
        self.raw_lock().assert_not_held();
    }

    /// True if some thread holds the lock in any mode.
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.raw_lock().is_locked()
    }

    /// True if some thread holds the lock exclusively.
    #[inline]
    pub fn is_locked_exclusive(&self) -> bool {
        self.raw_lock().is_locked_exclusive()
    }

    /// Mutable access without locking.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut l = lockdep::RwLock::new(1);
    /// *l.get_mut() = 3;
    /// assert_eq!(*l.read(), 3);
    /// ```
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// A raw pointer to the data, for code that synchronises by other means.
    #[inline]
    pub fn data_ptr(&self) -> *mut T {
        self.inner.data_ptr()
    }
}

impl<T: Default> Default for RwLock<T> {
    #[track_caller]
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    #[track_caller]
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}
