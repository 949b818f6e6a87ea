//! The owned guards of a tokio-shaped [`Mutex`] (through an `Arc`): [`OwnedMutexGuard`] and
//! what [`OwnedMutexGuard::map`] makes of it, [`OwnedMappedMutexGuard`].

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::ptr;
use std::sync::Arc;

use std::future::Future;
use std::panic::Location;

use ::tokio::sync::TryLockError;

use super::class::Held;
use super::mutex::Mutex;
use lockdep_report::Access;

/// An owned handle to a held [`Mutex`] (tokio's `OwnedMutexGuard`): it keeps an `Arc` of the
/// mutex instead of borrowing it, so it is `'static` when `T` is. Dropping it releases the
/// lock and ends the hold, on whichever task or thread.
///
/// # Examples
///
/// ```
/// use lockdep::tokio::sync::Mutex;
/// use std::sync::Arc;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mutex = Arc::new(Mutex::new(0));
/// let mut guard = mutex.clone().lock_owned().await;
/// tokio::spawn(async move { *guard += 1 }).await.unwrap(); // released in the task
/// assert_eq!(*mutex.lock().await, 1);
/// # }
/// ```
#[clippy::has_significant_drop]
pub struct OwnedMutexGuard<T: ?Sized> {
    lock: Arc<Mutex<T>>,
    hold: Held,
}

/// An owned handle to a held [`Mutex`] that has had a function applied to it through
/// [`OwnedMutexGuard::map`].
///
/// # Examples
///
/// ```
/// use lockdep::tokio::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};
/// use std::sync::Arc;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pair = Arc::new(Mutex::new((1, 2)));
/// let mut first: OwnedMappedMutexGuard<(i32, i32), i32> =
///     OwnedMutexGuard::map(pair.clone().lock_owned().await, |p| &mut p.0);
/// *first = 5;
/// drop(first);
/// assert_eq!(*pair.lock().await, (5, 2));
/// # }
/// ```
#[clippy::has_significant_drop]
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct OwnedMappedMutexGuard<T: ?Sized, U: ?Sized = T> {
    data: *mut U,
    lock: Arc<Mutex<T>>,
    hold: Held,
}

// SAFETY: as tokio's: the guard gives `&T`, so sharing it needs `T: Sync`; the `Arc` needs
// the mutex `Send + Sync`, which it is when `T: Send`.
unsafe impl<T> Sync for OwnedMutexGuard<T> where T: ?Sized + Send + Sync {}
// SAFETY: as tokio's: the mapped guard is the `Arc` of the mutex and `&mut U` into it.
unsafe impl<T, U> Sync for OwnedMappedMutexGuard<T, U>
where
    T: ?Sized + Send + Sync,
    U: ?Sized + Send + Sync,
{
}
// SAFETY: as above.
unsafe impl<T, U> Send for OwnedMappedMutexGuard<T, U>
where
    T: ?Sized + Send,
    U: ?Sized + Send,
{
}

impl<T: ?Sized> Mutex<T> {
    /// Locks this mutex through an `Arc`, returning an owned guard (`'static` when `T` is),
    /// validated and held as [`lock`](Mutex::lock).
    ///
    /// # Cancel safety
    ///
    /// As [`lock`](Mutex::lock).
    ///
    /// # Panics
    ///
    /// As [`lock`](Mutex::lock).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Mutex;
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mutex = Arc::new(Mutex::new(1));
    /// let mut n = mutex.clone().lock_owned().await;
    /// *n = 2;
    /// drop(n);
    /// assert_eq!(*mutex.lock().await, 2);
    /// # }
    /// ```
    #[track_caller]
    pub fn lock_owned(self: Arc<Self>) -> impl Future<Output = OwnedMutexGuard<T>> {
        let site = Location::caller();
        async move {
            let validated = self.class.validate(Access::Write, site);
            Self::keep(self.s.acquire().await);
            let hold = self.class.handed_over(validated);
            OwnedMutexGuard::new(self, hold)
        }
    }

    /// [`blocking_lock`](Mutex::blocking_lock) through an `Arc`, returning an owned guard.
    ///
    /// # Panics
    ///
    /// As [`blocking_lock`](Mutex::blocking_lock).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Mutex;
    /// use std::sync::Arc;
    ///
    /// let mutex = Arc::new(Mutex::new(1));
    /// let mut guard = mutex.clone().blocking_lock_owned();
    /// *guard += 1;
    /// drop(guard);
    /// assert_eq!(*mutex.try_lock().unwrap(), 2);
    /// ```
    #[track_caller]
    pub fn blocking_lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        let validated = self.class.validate(Access::Write, Location::caller());
        self.blocking_acquire();
        let hold = self.class.handed_over(validated);
        OwnedMutexGuard::new(self, hold)
    }

    /// [`try_lock`](Mutex::try_lock) through an `Arc`, returning an owned guard.
    ///
    /// # Errors
    ///
    /// tokio's [`TryLockError`] when the mutex is locked.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Mutex;
    /// use std::sync::Arc;
    ///
    /// let mutex = Arc::new(Mutex::new(1));
    /// let n = mutex.clone().try_lock_owned().unwrap();
    /// assert_eq!(*n, 1);
    /// assert!(mutex.try_lock().is_err());
    /// ```
    #[track_caller]
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        self.try_acquire()?;
        // Owned: held by nobody (see `AsyncClass::handed_over`).
        let hold = Held::NONE;
        Ok(OwnedMutexGuard::new(self, hold))
    }
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The guard of `lock`, whose permit was taken, and its hold.
    #[inline]
    pub(super) fn new(lock: Arc<Mutex<T>>, hold: Held) -> Self {
        OwnedMutexGuard { lock, hold }
    }

    /// The `Arc` and the hold, the guard forgotten (it no longer releases).
    #[inline]
    fn into_parts(self) -> (Arc<Mutex<T>>, Held) {
        let mut me = ManuallyDrop::new(self);
        let hold = me.hold.take();
        // SAFETY: `me` is never used or dropped again: the `Arc` is moved out once.
        let lock = unsafe { ptr::read(&me.lock) };
        (lock, hold)
    }

    /// A guard of a part of the data, the lock still held (the hold goes with it).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{Mutex, OwnedMutexGuard};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let foo = Arc::new(Mutex::new((1u32, "a")));
    /// {
    ///     let mut mapped = OwnedMutexGuard::map(foo.clone().lock_owned().await, |f| &mut f.0);
    ///     *mapped = 2;
    /// }
    /// assert_eq!(foo.lock().await.0, 2);
    /// # }
    /// ```
    #[inline]
    pub fn map<U, F>(mut this: Self, f: F) -> OwnedMappedMutexGuard<T, U>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = f(&mut *this) as *mut U;
        let (lock, hold) = this.into_parts();
        OwnedMappedMutexGuard { data, lock, hold }
    }

    /// [`map`](OwnedMutexGuard::map) when `f` finds the part; else the guard back.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{Mutex, OwnedMutexGuard};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let list = Arc::new(Mutex::new(vec![1]));
    /// let back = OwnedMutexGuard::try_map(list.lock_owned().await, |l| l.get_mut(1));
    /// assert_eq!(*back.unwrap_err(), [1]);
    /// # }
    /// ```
    #[inline]
    pub fn try_map<U, F>(mut this: Self, f: F) -> Result<OwnedMappedMutexGuard<T, U>, Self>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data = match f(&mut *this) {
            Some(data) => data as *mut U,
            None => return Err(this),
        };
        let (lock, hold) = this.into_parts();
        Ok(OwnedMappedMutexGuard { data, lock, hold })
    }

    /// The `Arc` of the mutex this guard locks.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{Mutex, OwnedMutexGuard};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mutex = Arc::new(Mutex::new(0u32));
    /// let guard = mutex.clone().lock_owned().await;
    /// assert!(Arc::ptr_eq(&mutex, OwnedMutexGuard::mutex(&guard)));
    /// # }
    /// ```
    #[inline]
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.lock
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    #[inline]
    fn drop(&mut self) {
        self.hold.end();
        self.lock.s.add_permits(1);
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &Self::Target {
        // SAFETY: the guard owns the mutex's one permit: no other access to the data.
        unsafe { &*self.lock.c.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Self::Target {
        // SAFETY: as for `deref`, and `&mut self` makes this the only reference through it.
        unsafe { &mut *self.lock.c.get() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized> OwnedMappedMutexGuard<T, U> {
    /// The `Arc` and the hold, the guard forgotten (it no longer releases).
    #[inline]
    fn into_parts(self) -> (Arc<Mutex<T>>, Held) {
        let mut me = ManuallyDrop::new(self);
        let hold = me.hold.take();
        // SAFETY: `me` is never used or dropped again: the `Arc` is moved out once.
        let lock = unsafe { ptr::read(&me.lock) };
        (lock, hold)
    }

    /// A guard of a part of this part, the lock still held.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let nested = Arc::new(Mutex::new(((1, 2), 3)));
    /// let inner = OwnedMutexGuard::map(nested.clone().lock_owned().await, |n| &mut n.0);
    /// let mut first = OwnedMappedMutexGuard::map(inner, |i| &mut i.0);
    /// *first = 10;
    /// drop(first);
    /// assert_eq!(*nested.lock().await, ((10, 2), 3));
    /// # }
    /// ```
    #[inline]
    pub fn map<S, F>(mut this: Self, f: F) -> OwnedMappedMutexGuard<T, S>
    where
        F: FnOnce(&mut U) -> &mut S,
    {
        let data = f(&mut *this) as *mut S;
        let (lock, hold) = this.into_parts();
        OwnedMappedMutexGuard { data, lock, hold }
    }

    /// [`map`](OwnedMappedMutexGuard::map) when `f` finds the part; else the guard back.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lists = Arc::new(Mutex::new((vec![1], 0)));
    /// let list = OwnedMutexGuard::map(lists.lock_owned().await, |l| &mut l.0);
    /// let missing = OwnedMappedMutexGuard::try_map(list, |l| l.get_mut(3));
    /// assert_eq!(*missing.unwrap_err(), [1]);
    /// # }
    /// ```
    #[inline]
    pub fn try_map<S, F>(mut this: Self, f: F) -> Result<OwnedMappedMutexGuard<T, S>, Self>
    where
        F: FnOnce(&mut U) -> Option<&mut S>,
    {
        let data = match f(&mut *this) {
            Some(data) => data as *mut S,
            None => return Err(this),
        };
        let (lock, hold) = this.into_parts();
        Ok(OwnedMappedMutexGuard { data, lock, hold })
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedMappedMutexGuard<T, U> {
    #[inline]
    fn drop(&mut self) {
        self.hold.end();
        self.lock.s.add_permits(1);
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedMappedMutexGuard<T, U> {
    type Target = U;
    #[inline]
    fn deref(&self) -> &Self::Target {
        // SAFETY: `data` points into the data of the mutex whose permit this guard owns, which
        // the `Arc` keeps alive.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized, U: ?Sized> DerefMut for OwnedMappedMutexGuard<T, U> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Self::Target {
        // SAFETY: as for `deref`, and `&mut self` makes this the only reference through it.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Debug> fmt::Debug for OwnedMappedMutexGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Display> fmt::Display for OwnedMappedMutexGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
