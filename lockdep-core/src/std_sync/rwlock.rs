//! `sync::RwLock`: `std::sync::RwLock`'s API and poisoning over the checked
//! [`crate::RwLock`].

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::ptr::NonNull;
use std::sync::{LockResult, TryLockError, TryLockResult};

use super::poison::{self, Flag};

/// A reader-writer lock with the API of [`std::sync::RwLock`], poisoning included, validated
/// by the checker.
///
/// Its class is its creation site, as for [`lockdep::RwLock`](crate::RwLock).
/// [`read`](RwLock::read) is checked as the kernel's non-recursive read (`down_read`): std
/// documents that a read may block while a writer waits, depending on the platform (and on
/// Linux, std's own futex lock does prefer a waiting writer), so a read taken twice on one
/// thread, or a read in a cycle with a writer, can deadlock, and is reported. Built without
/// the `enabled` feature, `lockdep::sync::RwLock` is `std::sync::RwLock` itself.
///
/// # Examples
///
/// ```
/// use lockdep::sync::RwLock;
///
/// let config = RwLock::new(String::from("v1"));
/// assert_eq!(*config.read().unwrap(), "v1");
/// config.write().unwrap().push('!');
/// assert_eq!(*config.read().unwrap(), "v1!");
/// ```
pub struct RwLock<T: ?Sized> {
    poison: Flag,
    inner: crate::RwLock<T>,
}

/// Shared guard of an [`RwLock`]; dropped, it releases the read lock. It does not poison.
///
/// # Examples
///
/// ```
/// let l = lockdep::sync::RwLock::new(5);
/// let r = l.read().unwrap();
/// assert_eq!(*r, 5);
/// ```
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized + 'a> {
    /// The data, shared. A pointer rather than a borrow of the lock, which holds `T` in an
    /// `UnsafeCell`: so the guard is covariant in `T`, as std's (a
    /// `RwLockReadGuard<'_, &'static str>` is a `RwLockReadGuard<'_, &'a str>`).
    data: NonNull<T>,
    /// The lock, shared-locked by this guard: released (and off the held stack) on drop.
    raw: &'a crate::RawRwLock,
}

// As std's: shared across threads when `T` is, never sent (the release must happen on the
// thread whose held stack has the hold).
// SAFETY: the guard gives only `&T` to its users; with `T: Sync` sharing that is sound.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// The guard for the shared hold that `inner` has, taken over from it.
    #[inline]
    fn new(inner: crate::RwLockReadGuard<'a, T>) -> Self {
        let lock = crate::RwLockReadGuard::rwlock(&inner);
        let data = NonNull::from(&*inner);
        // SAFETY: the raw lock is only used to release the shared hold `inner` has, once, in
        // our `Drop`: `inner` is forgotten, so it does not release it too.
        let raw = unsafe { lock.raw() };
        std::mem::forget(inner);
        RwLockReadGuard { data, raw }
    }
}

/// Exclusive guard of an [`RwLock`]; dropped, it releases the lock, and poisons it if its
/// thread started panicking while holding it.
///
/// # Examples
///
/// ```
/// let l = lockdep::sync::RwLock::new(5);
/// *l.write().unwrap() += 1;
/// assert_eq!(*l.read().unwrap(), 6);
/// ```
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized + 'a> {
    poison: &'a Flag,
    panicking: poison::Guard,
    /// Released after `Drop::drop` set the poison flag, or turned into a read guard by
    /// `downgrade` (which then does not run `Drop::drop`).
    inner: ManuallyDrop<crate::RwLockWriteGuard<'a, T>>,
}

// As std's.
impl<T: ?Sized> UnwindSafe for RwLock<T> {}
impl<T: ?Sized> RefUnwindSafe for RwLock<T> {}
impl<T: ?Sized + RefUnwindSafe> UnwindSafe for RwLockReadGuard<'_, T> {}
impl<T: ?Sized + RefUnwindSafe> RefUnwindSafe for RwLockReadGuard<'_, T> {}
impl<T: ?Sized> UnwindSafe for RwLockWriteGuard<'_, T> {}
impl<T: ?Sized> RefUnwindSafe for RwLockWriteGuard<'_, T> {}

impl<T> RwLock<T> {
    /// A new unlocked lock whose class is the caller's source location.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::RwLock;
    ///
    /// static TABLE: RwLock<Vec<u32>> = RwLock::new(Vec::new());
    /// TABLE.write().unwrap().push(1);
    /// assert_eq!(TABLE.read().unwrap().len(), 1);
    /// ```
    #[track_caller]
    #[inline]
    pub const fn new(t: T) -> RwLock<T> {
        RwLock {
            poison: Flag::new(),
            inner: crate::RwLock::new(t),
        }
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Shared access, blocking while a writer holds the lock (or, depending on the platform,
    /// waits for it). Checked as the kernel's non-recursive read.
    ///
    /// # Errors
    ///
    /// When the lock is poisoned: the error carries the guard (the lock is held).
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockdep::sync::RwLock::new(1);
    /// let (a, b) = (l.read().unwrap(), l.try_read().unwrap());
    /// assert_eq!(*a + *b, 2);
    /// ```
    #[track_caller]
    #[inline]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        let inner = self.inner.read();
        self.poison.result(RwLockReadGuard::new(inner))
    }

    /// Shared access if it can be had without blocking.
    ///
    /// # Errors
    ///
    /// [`TryLockError::WouldBlock`] when a writer holds the lock, [`TryLockError::Poisoned`]
    /// (with the guard) when it is poisoned.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::{RwLock, TryLockError};
    ///
    /// let l = RwLock::new(1);
    /// let w = l.write().unwrap();
    /// assert!(matches!(l.try_read(), Err(TryLockError::WouldBlock)));
    /// drop(w);
    /// ```
    #[track_caller]
    #[inline]
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        match self.inner.try_read() {
            Some(inner) => Ok(self.poison.result(RwLockReadGuard::new(inner))?),
            None => Err(TryLockError::WouldBlock),
        }
    }

    /// Exclusive access, blocking until no one else holds the lock.
    ///
    /// # Errors
    ///
    /// When the lock is poisoned: the error carries the guard (the lock is held).
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockdep::sync::RwLock::new(1);
    /// *l.write().unwrap() += 1;
    /// assert_eq!(*l.read().unwrap(), 2);
    /// ```
    #[track_caller]
    #[inline]
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        let inner = self.inner.write();
        self.write_guard(inner)
    }

    /// Exclusive access if it can be had without blocking.
    ///
    /// # Errors
    ///
    /// [`TryLockError::WouldBlock`] when the lock is held, [`TryLockError::Poisoned`] (with
    /// the guard) when it is poisoned.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::{RwLock, TryLockError};
    ///
    /// let l = RwLock::new(1);
    /// let r = l.read().unwrap();
    /// assert!(matches!(l.try_write(), Err(TryLockError::WouldBlock)));
    /// drop(r);
    /// assert!(l.try_write().is_ok());
    /// ```
    #[track_caller]
    #[inline]
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        match self.inner.try_write() {
            Some(inner) => Ok(self.write_guard(inner)?),
            None => Err(TryLockError::WouldBlock),
        }
    }

    #[inline]
    fn write_guard<'a>(
        &'a self,
        inner: crate::RwLockWriteGuard<'a, T>,
    ) -> LockResult<RwLockWriteGuard<'a, T>> {
        self.poison.result(RwLockWriteGuard {
            poison: &self.poison,
            panicking: self.poison.guard(),
            inner: ManuallyDrop::new(inner),
        })
    }

    /// True when the lock is poisoned (a writer panicked).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::RwLock;
    ///
    /// let l = RwLock::new(0);
    /// let _ = std::panic::catch_unwind(|| {
    ///     let _w = l.write().unwrap();
    ///     panic!("poisons l");
    /// });
    /// assert!(l.is_poisoned());
    /// ```
    #[inline]
    pub fn is_poisoned(&self) -> bool {
        self.poison.get()
    }

    /// Clears the poisoned state.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::RwLock;
    ///
    /// let l = RwLock::new(0);
    /// let _ = std::panic::catch_unwind(|| {
    ///     let _w = l.write().unwrap();
    ///     panic!("poisons l");
    /// });
    /// l.clear_poison();
    /// assert!(l.read().is_ok());
    /// ```
    #[inline]
    pub fn clear_poison(&self) {
        self.poison.clear();
    }

    /// Consumes the lock, returning the data.
    ///
    /// # Errors
    ///
    /// When the lock is poisoned; the error carries the data.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(lockdep::sync::RwLock::new(7).into_inner().unwrap(), 7);
    /// ```
    #[inline]
    pub fn into_inner(self) -> LockResult<T>
    where
        T: Sized,
    {
        let RwLock { poison, inner } = self;
        poison.result(inner.into_inner())
    }

    /// Mutable access without locking.
    ///
    /// # Errors
    ///
    /// When the lock is poisoned; the error carries the reference.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut l = lockdep::sync::RwLock::new(1);
    /// *l.get_mut().unwrap() = 2;
    /// assert_eq!(*l.read().unwrap(), 2);
    /// ```
    #[inline]
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        let RwLock { poison, inner } = self;
        poison.result(inner.get_mut())
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns the write lock into a read lock without letting a writer in between (the
    /// checker's hold becomes a read in place: nothing to validate).
    ///
    /// As std's, a downgrade does not poison and the read guard it returns carries no error.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::{RwLock, RwLockWriteGuard};
    ///
    /// let l = RwLock::new(1);
    /// let mut w = l.write().unwrap();
    /// *w = 2;
    /// let r = RwLockWriteGuard::downgrade(w);
    /// assert_eq!(*r, 2);
    /// assert!(l.try_read().is_ok());
    /// ```
    pub fn downgrade(s: Self) -> RwLockReadGuard<'a, T> {
        let mut s = ManuallyDrop::new(s);
        // SAFETY: `s` is never dropped (`ManuallyDrop`), so `inner` is taken out exactly once
        // and `Drop::drop` does not see it again.
        let inner = unsafe { ManuallyDrop::take(&mut s.inner) };
        RwLockReadGuard::new(crate::RwLockWriteGuard::downgrade(inner))
    }
}

impl<T: Default> Default for RwLock<T> {
    /// A lock of `T::default()`, whose class is the caller's source location.
    #[track_caller]
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    /// A lock of `t`, whose class is the caller's source location.
    #[track_caller]
    fn from(t: T) -> RwLock<T> {
        RwLock::new(t)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    /// As std's: `RwLock { data: .., poisoned: .., .. }`, `<locked>` when write-locked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(TryLockError::Poisoned(err)) => d.field("data", &&**err.get_ref()),
            Err(TryLockError::WouldBlock) => d.field("data", &format_args!("<locked>")),
        };
        d.field("poisoned", &self.poison.get());
        d.finish_non_exhaustive()
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: `data` points at the lock's data, which this guard's shared hold keeps
        // from any writer until it drops.
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: this guard holds the lock shared, on this thread (it is not `Send`); the
        // hold is released here only. Out of line (see `RawMutex::unlock_apart`).
        unsafe { self.raw.unlock_shared_apart() }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    /// Poisons the lock if this thread started panicking while holding it, then releases it.
    #[inline]
    fn drop(&mut self) {
        self.poison.done(&self.panicking);
        // SAFETY: this guard holds the lock exclusively, released here only, once:
        // `downgrade`, the other place that takes `inner`, never lets this destructor run;
        // `inner`, which stands for the hold, is never dropped. Out of line (see
        // `RawMutex::unlock_apart`).
        unsafe {
            crate::RwLockWriteGuard::rwlock(&self.inner)
                .raw()
                .unlock_exclusive_apart()
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

/// As serde's for `std::sync::RwLock` (lockdep's feature `serde`): the data, serialized under
/// the lock; an error if the lock is poisoned.
#[cfg(feature = "serde")]
impl<T: ?Sized + serde::Serialize> serde::Serialize for RwLock<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.read() {
            Ok(locked) => locked.serialize(serializer),
            Err(_) => Err(serde::ser::Error::custom(
                "lock poison error while serializing",
            )),
        }
    }
}

/// As serde's for `std::sync::RwLock`: a new lock over the deserialized data. Its class is the
/// one of every lock deserialized with data of type `T` (their creation site is here).
#[cfg(feature = "serde")]
impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for RwLock<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(RwLock::new)
    }
}

impl<T> crate::named::Named<T> for RwLock<T> {
    #[track_caller]
    fn named(name: &str, t: T) -> RwLock<T> {
        RwLock {
            poison: Flag::new(),
            inner: crate::RwLock::named(name, t),
        }
    }
}
