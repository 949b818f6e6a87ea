//! `sync::Mutex`: `std::sync::Mutex`'s API and poisoning over the checked [`crate::Mutex`].

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::{LockResult, TryLockError, TryLockResult};

use super::poison::{self, Flag};

/// A mutual-exclusion lock with the API of [`std::sync::Mutex`], poisoning included,
/// validated by the checker.
///
/// Its class is its creation site, as for [`lockdep::Mutex`](crate::Mutex): it is that lock
/// plus std's poison flag. Built without the `enabled` feature, `lockdep::sync::Mutex` is
/// `std::sync::Mutex` itself.
///
/// # Examples
///
/// ```
/// use lockdep::sync::{Arc, Mutex};
/// use std::thread;
///
/// let counter = Arc::new(Mutex::new(0));
/// let handles: Vec<_> = (0..4)
///     .map(|_| {
///         let counter = Arc::clone(&counter);
///         thread::spawn(move || *counter.lock().unwrap() += 1)
///     })
///     .collect();
/// for h in handles {
///     h.join().unwrap();
/// }
/// assert_eq!(*counter.lock().unwrap(), 4);
/// ```
pub struct Mutex<T: ?Sized> {
    poison: Flag,
    inner: crate::Mutex<T>,
}

/// The guard of a locked [`Mutex`] (std's shape: it cannot be sent to another thread); the
/// lock is released, and leaves the held stack, on drop. Dropped while its thread panics, it
/// poisons the mutex.
///
/// # Examples
///
/// ```
/// let m = lockdep::sync::Mutex::new(vec![1]);
/// let mut guard = m.lock().unwrap();
/// guard.push(2);
/// assert_eq!(*guard, [1, 2]);
/// ```
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized + 'a> {
    poison: &'a Flag,
    panicking: poison::Guard,
    /// The hold, released by `Drop::drop` after it set the poison flag (the flag is set while
    /// locked), never dropped itself: a guard whose fields are dropped after its `drop` has a
    /// drop glue with an unwinding path of its own, which kept it out of line, and an
    /// out-of-line guard lives in memory: its stores came before the next acquisition's atomic
    /// exchange, which waits for them (mode off: 1.15x std's mutex).
    pub(super) inner: ManuallyDrop<crate::MutexGuard<'a, T>>,
}

// As std's: a panic while a guard is held poisons the lock, which makes unwinding safe to
// observe.
impl<T: ?Sized> UnwindSafe for Mutex<T> {}
impl<T: ?Sized> RefUnwindSafe for Mutex<T> {}
impl<T: ?Sized> UnwindSafe for MutexGuard<'_, T> {}
impl<T: ?Sized> RefUnwindSafe for MutexGuard<'_, T> {}

impl<T> Mutex<T> {
    /// A new unlocked mutex whose class is the caller's source location.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::Mutex;
    ///
    /// static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());
    /// LOG.lock().unwrap().push("started".into());
    /// ```
    #[track_caller]
    #[inline]
    pub const fn new(t: T) -> Mutex<T> {
        Mutex {
            poison: Flag::new(),
            inner: crate::Mutex::new(t),
        }
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Acquires the mutex, blocking until it is available. Validated before blocking, as
    /// [`lockdep::Mutex::lock`](crate::Mutex::lock).
    ///
    /// # Errors
    ///
    /// When the mutex is poisoned (a thread panicked while holding it): the error carries the
    /// guard, the lock is held all the same.
    ///
    /// # Panics
    ///
    /// In `panic` mode, when this acquisition closes a cycle. (std may panic or deadlock when
    /// the lock is already held by this thread; here that is reported first.)
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockdep::sync::Mutex::new(1);
    /// *m.lock().unwrap() += 1;
    /// assert_eq!(*m.lock().unwrap(), 2);
    /// ```
    #[track_caller]
    #[inline]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        let inner = self.inner.lock();
        self.guard(inner)
    }

    /// Tries to acquire the mutex without blocking (not validated, held once taken).
    ///
    /// # Errors
    ///
    /// [`TryLockError::WouldBlock`] when the mutex is locked, [`TryLockError::Poisoned`] (with
    /// the guard: the lock is taken) when it is poisoned.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::{Mutex, TryLockError};
    ///
    /// let m = Mutex::new(());
    /// let g = m.try_lock().unwrap();
    /// assert!(matches!(m.try_lock(), Err(TryLockError::WouldBlock)));
    /// drop(g);
    /// ```
    #[track_caller]
    #[inline]
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        match self.inner.try_lock() {
            Some(inner) => Ok(self.guard(inner)?),
            None => Err(TryLockError::WouldBlock),
        }
    }

    /// The std-shaped guard of `inner`, which this thread just took, poisoned or not.
    #[inline]
    fn guard<'a>(&'a self, inner: crate::MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        self.poison.result(MutexGuard {
            poison: &self.poison,
            panicking: self.poison.guard(),
            inner: ManuallyDrop::new(inner),
        })
    }

    /// True when the mutex is poisoned.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::Mutex;
    ///
    /// let m = Mutex::new(0);
    /// let _ = std::panic::catch_unwind(|| {
    ///     let _g = m.lock().unwrap();
    ///     panic!("poisons m");
    /// });
    /// assert!(m.is_poisoned());
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
    /// use lockdep::sync::Mutex;
    ///
    /// let m = Mutex::new(0);
    /// let _ = std::panic::catch_unwind(|| {
    ///     let _g = m.lock().unwrap();
    ///     panic!("poisons m");
    /// });
    /// let recovered = m.lock().unwrap_or_else(|e| e.into_inner());
    /// drop(recovered);
    /// m.clear_poison();
    /// assert!(!m.is_poisoned());
    /// ```
    #[inline]
    pub fn clear_poison(&self) {
        self.poison.clear();
    }

    /// Consumes the mutex, returning the data.
    ///
    /// # Errors
    ///
    /// When the mutex is poisoned; the error carries the data.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(lockdep::sync::Mutex::new(7).into_inner().unwrap(), 7);
    /// ```
    #[inline]
    pub fn into_inner(self) -> LockResult<T>
    where
        T: Sized,
    {
        let Mutex { poison, inner } = self;
        poison.result(inner.into_inner())
    }

    /// Mutable access without locking: the borrow proves no one else has it.
    ///
    /// # Errors
    ///
    /// When the mutex is poisoned; the error carries the reference.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut m = lockdep::sync::Mutex::new(1);
    /// *m.get_mut().unwrap() = 2;
    /// assert_eq!(*m.lock().unwrap(), 2);
    /// ```
    #[inline]
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        let Mutex { poison, inner } = self;
        poison.result(inner.get_mut())
    }
}

impl<T: Default> Default for Mutex<T> {
    /// A mutex of `T::default()`, whose class is the caller's source location.
    #[track_caller]
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    /// A mutex of `t`, whose class is the caller's source location.
    #[track_caller]
    fn from(t: T) -> Mutex<T> {
        Mutex::new(t)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    /// As std's: `Mutex { data: .., poisoned: .., .. }`, `<locked>` when it is held.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(TryLockError::Poisoned(err)) => d.field("data", &&**err.get_ref()),
            Err(TryLockError::WouldBlock) => d.field("data", &format_args!("<locked>")),
        };
        d.field("poisoned", &self.poison.get());
        d.finish_non_exhaustive()
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// This guard, back from a condition-variable wait that released and re-took its lock,
    /// with the lock's poison state now (std's `wait` reports a poisoning that happened
    /// during the wait).
    #[inline]
    pub(super) fn after_wait(self) -> LockResult<MutexGuard<'a, T>> {
        let poison = self.poison;
        poison.result(self)
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    /// Poisons the mutex if this thread started panicking while holding it, then releases
    /// the lock (std's order).
    #[inline]
    fn drop(&mut self) {
        self.poison.done(&self.panicking);
        // SAFETY: this guard holds the lock, released once, here; `inner`, which stands for
        // the hold, is never dropped. Released out of line (see `RawMutex::unlock_apart`).
        unsafe { crate::MutexGuard::mutex(&self.inner).raw().unlock_apart() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

/// As serde's for `std::sync::Mutex` (lockdep's feature `serde`): the data, serialized under
/// the lock; an error if the lock is poisoned.
#[cfg(feature = "serde")]
impl<T: ?Sized + serde::Serialize> serde::Serialize for Mutex<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.lock() {
            Ok(locked) => locked.serialize(serializer),
            Err(_) => Err(serde::ser::Error::custom(
                "lock poison error while serializing",
            )),
        }
    }
}

/// As serde's for `std::sync::Mutex`: a new lock over the deserialized data. Its class is the
/// one of every lock deserialized with data of type `T` (their creation site is here).
#[cfg(feature = "serde")]
impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Mutex<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Mutex::new)
    }
}

impl<T> crate::named::Named<T> for Mutex<T> {
    #[track_caller]
    fn named(name: &str, t: T) -> Mutex<T> {
        Mutex {
            poison: Flag::new(),
            inner: crate::Mutex::named(name, t),
        }
    }
}
