//! `RwLock`: a `parking_lot::RwLock` that tells the checker what it does, with the kernel's
//! read/write rules.

use std::fmt;
use std::panic::Location;

use crate::checker::{Access, HeldToken, LockMap, Pending};
use crate::guard::guard_impls;
use crate::LockClass;

/// A reader-writer lock with the API of `parking_lot::RwLock`, validated by the checker.
///
/// The three ways in follow the kernel's rules:
/// - [`write`](RwLock::write): exclusive.
/// - [`read`](RwLock::read): a *non-recursive* read: it queues behind a waiting writer, so
///   taking it twice on one thread can deadlock (the kernel's `down_read`), and it is reported.
/// - [`read_recursive`](RwLock::read_recursive): a recursive read that never waits for another
///   reader's writer (the kernel's `read_lock` on `rwlock_t`): nesting it is fine, and cycles
///   through it count only if they are strong paths.
///
/// ```
/// use lockdep_core::RwLock;
///
/// let config = RwLock::new(String::from("v1"));
/// assert_eq!(*config.read(), "v1");
/// config.write().push('!');
/// let a = config.read_recursive();
/// let b = config.read_recursive(); // recursive reads nest
/// assert_eq!(*a, *b);
/// ```
#[cfg_attr(not(feature = "enabled"), repr(transparent))]
pub struct RwLock<T: ?Sized> {
    map: LockMap,
    inner: parking_lot::RwLock<T>,
}

/// Shared guard of an [`RwLock`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    inner: parking_lot::RwLockReadGuard<'a, T>,
    held: HeldToken,
}

/// Exclusive guard of an [`RwLock`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    inner: parking_lot::RwLockWriteGuard<'a, T>,
    held: HeldToken,
}

guard_impls!(RwLockReadGuard, parking_lot::RwLockReadGuard::rwlock);
guard_impls!(
    RwLockWriteGuard,
    parking_lot::RwLockWriteGuard::rwlock,
    mutable
);

impl<T> RwLock<T> {
    /// A new unlocked lock whose class is the caller's source location.
    #[track_caller]
    #[inline]
    pub const fn new(value: T) -> Self {
        RwLock {
            map: LockMap::at_site(Location::caller()),
            inner: parking_lot::RwLock::new(value),
        }
    }

    /// A new unlocked lock of the named class `class`.
    ///
    /// ```
    /// use lockdep_core::{LockClass, RwLock};
    /// static TABLE: LockClass = LockClass::new("table rwlock");
    /// let t = RwLock::with_class(0, &TABLE);
    /// assert_eq!(*t.read(), 0);
    /// ```
    #[inline]
    pub const fn with_class(value: T, class: &'static LockClass) -> Self {
        RwLock {
            map: LockMap::with_class(class),
            inner: parking_lot::RwLock::new(value),
        }
    }

    /// Consumes the lock, returning the data.
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    #[inline]
    fn instance(&self) -> usize {
        &self.inner as *const parking_lot::RwLock<T> as *const () as usize
    }

    #[inline]
    fn read_guard<'a>(
        &'a self,
        pending: Pending,
        inner: parking_lot::RwLockReadGuard<'a, T>,
    ) -> RwLockReadGuard<'a, T> {
        RwLockReadGuard {
            inner,
            held: pending.commit(self.instance()),
        }
    }

    #[inline]
    fn write_guard<'a>(
        &'a self,
        pending: Pending,
        inner: parking_lot::RwLockWriteGuard<'a, T>,
    ) -> RwLockWriteGuard<'a, T> {
        RwLockWriteGuard {
            inner,
            held: pending.commit(self.instance()),
        }
    }

    /// Shared access, non-recursive: may wait behind a queued writer, so taking it while this
    /// thread already reads the same class is reported (`down_read` twice).
    #[track_caller]
    #[inline]
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        let pending = self.map.prepare(0, Access::Read, Location::caller());
        self.read_guard(pending, self.inner.read())
    }

    /// Shared access that never waits for a queued writer when another reader holds the lock
    /// (parking_lot's `read_recursive`): may nest on one thread.
    #[track_caller]
    #[inline]
    pub fn read_recursive(&self) -> RwLockReadGuard<'_, T> {
        let pending = self
            .map
            .prepare(0, Access::RecursiveRead, Location::caller());
        self.read_guard(pending, self.inner.read_recursive())
    }

    /// Exclusive access.
    #[track_caller]
    #[inline]
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        let pending = self.map.prepare(0, Access::Write, Location::caller());
        self.write_guard(pending, self.inner.write())
    }

    /// Exclusive access as nesting subclass `subclass` (see [`Mutex::lock_nested`](crate::Mutex::lock_nested)).
    #[track_caller]
    #[inline]
    pub fn write_nested(&self, subclass: u32) -> RwLockWriteGuard<'_, T> {
        let pending = self
            .map
            .prepare(subclass, Access::Write, Location::caller());
        self.write_guard(pending, self.inner.write())
    }

    /// Shared access (non-recursive) as nesting subclass `subclass`.
    #[track_caller]
    #[inline]
    pub fn read_nested(&self, subclass: u32) -> RwLockReadGuard<'_, T> {
        let pending = self.map.prepare(subclass, Access::Read, Location::caller());
        self.read_guard(pending, self.inner.read())
    }

    /// Shared access without blocking; not validated, held afterwards.
    ///
    /// ```
    /// let l = lockdep_core::RwLock::new(1);
    /// let w = l.write();
    /// assert!(l.try_read().is_none());
    /// drop(w);
    /// assert!(l.try_read().is_some());
    /// ```
    #[track_caller]
    #[inline]
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        let inner = self.inner.try_read()?;
        let pending = self.map.prepare_try(0, Access::Read, Location::caller());
        Some(self.read_guard(pending, inner))
    }

    /// Recursive shared access without blocking.
    #[track_caller]
    #[inline]
    pub fn try_read_recursive(&self) -> Option<RwLockReadGuard<'_, T>> {
        let inner = self.inner.try_read_recursive()?;
        let pending = self
            .map
            .prepare_try(0, Access::RecursiveRead, Location::caller());
        Some(self.read_guard(pending, inner))
    }

    /// Exclusive access without blocking; not validated, held afterwards.
    #[track_caller]
    #[inline]
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        let inner = self.inner.try_write()?;
        let pending = self.map.prepare_try(0, Access::Write, Location::caller());
        Some(self.write_guard(pending, inner))
    }

    /// Records the dependencies of `write()` now without taking the lock.
    #[track_caller]
    pub fn might_lock(&self) {
        let _validated_only = self.map.prepare(0, Access::Write, Location::caller());
    }

    /// Records the dependencies of `read()` now without taking the lock.
    #[track_caller]
    pub fn might_lock_read(&self) {
        let _validated_only = self.map.prepare(0, Access::Read, Location::caller());
    }

    /// Panics unless this thread holds this lock (read or write). No-op when not checking.
    #[track_caller]
    pub fn assert_held(&self) {
        self.map.assert_held(self.instance());
    }

    /// Panics if this thread holds this lock. No-op when not checking.
    #[track_caller]
    pub fn assert_not_held(&self) {
        self.map.assert_not_held(self.instance());
    }

    /// Mutable access without locking.
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }
}

impl<T: Default> Default for RwLock<T> {
    #[track_caller]
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner.try_read() {
            Some(g) => f.debug_struct("RwLock").field("data", &&*g).finish(),
            None => f.debug_struct("RwLock").field("data", &"<locked>").finish(),
        }
    }
}
