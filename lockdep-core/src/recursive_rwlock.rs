//! `RecursiveRwLock`: an [`RwLock`] whose every `read` is a recursive read (parking_lot
//! 0.13's `RecursiveRwLock`, over `RawRwLockRecursive`). A recursive read never waits behind
//! a queued writer while readers hold the lock, so reads nest on one thread, and cycles
//! through them count only if they are strong paths (the kernel's `read_lock` on `rwlock_t`).

use crate::shape;
use std::fmt;
use std::ops::Deref;
use std::panic::Location;

use crate::hook::lock_map::LockMap;
use crate::raw_rwlock::{RawRwLock, RawRwLockRecursive};
use crate::{LockClass, RwLock};

/// Shared guard of a [`RecursiveRwLock`] (`lock_api`'s).
pub type RecursiveRwLockReadGuard<'a, T> = lock_api::RwLockReadGuard<'a, RawRwLockRecursive, T>;
/// Exclusive guard of a [`RecursiveRwLock`].
pub type RecursiveRwLockWriteGuard<'a, T> = lock_api::RwLockWriteGuard<'a, RawRwLockRecursive, T>;
/// Upgradable read guard of a [`RecursiveRwLock`].
pub type RecursiveRwLockUpgradableReadGuard<'a, T> =
    lock_api::RwLockUpgradableReadGuard<'a, RawRwLockRecursive, T>;
/// A [`RecursiveRwLockReadGuard`] mapped to a part of the data.
pub type MappedRecursiveRwLockReadGuard<'a, T> =
    lock_api::MappedRwLockReadGuard<'a, RawRwLockRecursive, T>;
/// A [`RecursiveRwLockWriteGuard`] mapped to a part of the data.
pub type MappedRecursiveRwLockWriteGuard<'a, T> =
    lock_api::MappedRwLockWriteGuard<'a, RawRwLockRecursive, T>;

/// A reader-writer lock whose reads are recursive, with the API of parking_lot 0.13's
/// `RecursiveRwLock`, validated by the checker.
///
/// It is an [`RwLock`] whose `read`, `try_read` and timed reads are recursive reads, with
/// constructors of its own, and dereferences to it for every other method.
///
/// # Examples
///
/// ```
/// use lockdep::RecursiveRwLock;
///
/// let l = RecursiveRwLock::new(1);
/// let a = l.read();
/// let b = l.read(); // nests: never waits behind a writer while `a` is held
/// assert_eq!(*a + *b, 2);
/// ```
#[repr(transparent)]
pub struct RecursiveRwLock<T: ?Sized> {
    inner: RwLock<T, true>,
}

impl<T> RecursiveRwLock<T> {
    /// A new unlocked lock whose class is the caller's source location.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockdep::RecursiveRwLock::new(0);
    /// assert_eq!(*l.read(), 0);
    /// ```
    #[track_caller]
    #[inline]
    pub const fn new(value: T) -> Self {
        RecursiveRwLock::with_map(
            LockMap::at_site::<shape::RecursiveRwLock<T>>(Location::caller()),
            value,
        )
    }

    /// A new unlocked lock of the named class `class`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{LockClass, RecursiveRwLock};
    /// static TABLE: LockClass = LockClass::new("recursive table");
    /// let l = RecursiveRwLock::with_class(0, &TABLE);
    /// assert_eq!(*l.read(), 0);
    /// ```
    #[inline]
    pub const fn with_class(value: T, class: &'static LockClass) -> Self {
        RecursiveRwLock::with_map(LockMap::with_class(class), value)
    }

    #[inline]
    const fn with_map(map: LockMap, value: T) -> Self {
        RecursiveRwLock {
            inner: RwLock::with_raw(RawRwLock::with_map(map), value),
        }
    }

    /// Consumes the lock, returning the data.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(lockdep::RecursiveRwLock::new(4).into_inner(), 4);
    /// ```
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RecursiveRwLock<T> {
    /// Mutable access without locking.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut l = lockdep::RecursiveRwLock::new(1);
    /// *l.get_mut() = 3;
    /// assert_eq!(*l.read(), 3);
    /// ```
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }
}

impl<T: ?Sized> Deref for RecursiveRwLock<T> {
    type Target = RwLock<T, true>;

    #[inline]
    fn deref(&self) -> &RwLock<T, true> {
        &self.inner
    }
}

impl<T: Default> Default for RecursiveRwLock<T> {
    #[track_caller]
    fn default() -> Self {
        RecursiveRwLock::new(T::default())
    }
}

impl<T> From<T> for RecursiveRwLock<T> {
    #[track_caller]
    fn from(value: T) -> Self {
        RecursiveRwLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RecursiveRwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// As `lock_api`'s (parking_lot's feature `serde`): the data, serialized under a read lock.
#[cfg(feature = "serde")]
impl<T: ?Sized + serde::Serialize> serde::Serialize for RecursiveRwLock<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.inner.serialize(serializer)
    }
}

/// As `lock_api`'s: a new lock over the deserialized data. Its class is the one of every
/// recursive lock deserialized with data of type `T` (their creation site is here).
#[cfg(feature = "serde")]
impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for RecursiveRwLock<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(RecursiveRwLock::new)
    }
}
