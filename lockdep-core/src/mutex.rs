//! `Mutex`: a `parking_lot::Mutex` that tells the checker what it does.

use std::fmt;
use std::panic::Location;
use std::time::Duration;

use crate::checker::{Access, HeldToken, LockMap};
use crate::guard::guard_impls;
use crate::LockClass;

/// A mutual-exclusion lock with the API of `parking_lot::Mutex`, validated by the checker.
///
/// Its class is its creation site, or the [`LockClass`] given to [`with_class`](Mutex::with_class).
///
/// ```
/// use lockdep_core::Mutex;
///
/// static COUNTER: Mutex<u64> = Mutex::new(0); // class: this file:line:col
///
/// *COUNTER.lock() += 1;
/// assert_eq!(*COUNTER.lock(), 1);
/// ```
#[cfg_attr(not(feature = "enabled"), repr(transparent))]
pub struct Mutex<T: ?Sized> {
    map: LockMap,
    inner: parking_lot::Mutex<T>,
}

/// The guard of a locked [`Mutex`]; the lock is released (and leaves the held stack) on drop.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    pub(crate) inner: parking_lot::MutexGuard<'a, T>,
    pub(crate) held: HeldToken,
}

impl<T> Mutex<T> {
    /// A new unlocked mutex whose class is the caller's source location.
    ///
    /// ```
    /// let m = lockdep_core::Mutex::new(5);
    /// assert_eq!(*m.lock(), 5);
    /// ```
    #[track_caller]
    #[inline]
    pub const fn new(value: T) -> Self {
        Mutex {
            map: LockMap::at_site(Location::caller()),
            inner: parking_lot::Mutex::new(value),
        }
    }

    /// A new unlocked mutex of the named class `class`.
    ///
    /// ```
    /// use lockdep_core::{LockClass, Mutex};
    /// static QUEUE: LockClass = LockClass::new("queue lock");
    /// let m = Mutex::with_class(Vec::<u32>::new(), &QUEUE);
    /// assert!(m.lock().is_empty());
    /// ```
    #[inline]
    pub const fn with_class(value: T, class: &'static LockClass) -> Self {
        Mutex {
            map: LockMap::with_class(class),
            inner: parking_lot::Mutex::new(value),
        }
    }

    /// Consumes the mutex, returning the data.
    ///
    /// ```
    /// assert_eq!(lockdep_core::Mutex::new(7).into_inner(), 7);
    /// ```
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    #[inline]
    fn instance(&self) -> usize {
        &self.inner as *const parking_lot::Mutex<T> as *const () as usize
    }

    #[inline]
    fn locked(&self, subclass: u32, site: &'static Location<'static>) -> MutexGuard<'_, T> {
        let pending = self.map.prepare(subclass, Access::Write, site);
        let inner = self.inner.lock();
        MutexGuard {
            inner,
            held: pending.commit(self.instance()),
        }
    }

    /// Acquires the mutex, blocking until it is available. Validated before blocking: a
    /// possible deadlock is reported even if this call would not deadlock now.
    ///
    /// ```
    /// let m = lockdep_core::Mutex::new(1);
    /// *m.lock() += 1;
    /// assert_eq!(*m.lock(), 2);
    /// ```
    #[track_caller]
    #[inline]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.locked(0, Location::caller())
    }

    /// Acquires the mutex as nesting subclass `subclass` (the kernel's `mutex_lock_nested`):
    /// for taking two locks of one class in a fixed order, e.g. parent then child. Subclasses
    /// are classes of their own, printed `name/N`; 0 is the class itself, at most 7.
    ///
    /// ```
    /// use lockdep_core::{LockClass, Mutex};
    /// static NODE: LockClass = LockClass::new("doc-node");
    /// let (parent, child) = (Mutex::with_class(0, &NODE), Mutex::with_class(1, &NODE));
    /// let _p = parent.lock();
    /// let _c = child.lock_nested(1); // not recursive locking
    /// ```
    #[track_caller]
    #[inline]
    pub fn lock_nested(&self, subclass: u32) -> MutexGuard<'_, T> {
        self.locked(subclass, Location::caller())
    }

    /// Tries to acquire the mutex without blocking. A try-lock is not validated (it cannot
    /// deadlock), but what it takes is held: later acquisitions depend on it.
    ///
    /// ```
    /// let m = lockdep_core::Mutex::new(());
    /// let g = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_none());
    /// drop(g);
    /// ```
    #[track_caller]
    #[inline]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        let inner = self.inner.try_lock()?;
        let pending = self.map.prepare_try(0, Access::Write, Location::caller());
        Some(MutexGuard {
            inner,
            held: pending.commit(self.instance()),
        })
    }

    /// Acquires the mutex, giving up after `timeout`. Validated like [`lock`](Mutex::lock):
    /// a timed wait in a deadlock is a stall.
    ///
    /// ```
    /// use std::time::Duration;
    /// let m = lockdep_core::Mutex::new(());
    /// assert!(m.try_lock_for(Duration::from_millis(1)).is_some());
    /// ```
    #[track_caller]
    #[inline]
    pub fn try_lock_for(&self, timeout: Duration) -> Option<MutexGuard<'_, T>> {
        let pending = self.map.prepare(0, Access::Write, Location::caller());
        let inner = self.inner.try_lock_for(timeout)?;
        Some(MutexGuard {
            inner,
            held: pending.commit(self.instance()),
        })
    }

    /// Records the dependencies of taking this lock now, without taking it (the kernel's
    /// `might_lock()`): for locks taken only on rare paths.
    ///
    /// ```
    /// let m = lockdep_core::Mutex::new(());
    /// m.might_lock(); // as if locked and unlocked here
    /// ```
    #[track_caller]
    #[inline]
    pub fn might_lock(&self) {
        let _validated_only = self.map.prepare(0, Access::Write, Location::caller());
    }

    /// Panics unless this thread holds this mutex (the kernel's `lockdep_assert_held()`).
    /// Does nothing when the checker is off.
    ///
    /// ```
    /// let m = lockdep_core::Mutex::new(());
    /// let _g = m.lock();
    /// m.assert_held();
    /// ```
    #[track_caller]
    pub fn assert_held(&self) {
        self.map.assert_held(self.instance());
    }

    /// Panics if this thread holds this mutex (the kernel's `lockdep_assert_not_held()`).
    /// Does nothing when the checker is off.
    ///
    /// ```
    /// let m = lockdep_core::Mutex::new(());
    /// m.assert_not_held();
    /// ```
    #[track_caller]
    pub fn assert_not_held(&self) {
        self.map.assert_not_held(self.instance());
    }

    /// True if some thread holds the mutex.
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// Mutable access without locking: the borrow checker proves no one else has it.
    ///
    /// ```
    /// let mut m = lockdep_core::Mutex::new(1);
    /// *m.get_mut() = 2;
    /// assert_eq!(*m.lock(), 2);
    /// ```
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    #[track_caller]
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    #[track_caller]
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner.try_lock() {
            Some(g) => f.debug_struct("Mutex").field("data", &&*g).finish(),
            None => f.debug_struct("Mutex").field("data", &"<locked>").finish(),
        }
    }
}

guard_impls!(MutexGuard, parking_lot::MutexGuard::mutex, mutable);
