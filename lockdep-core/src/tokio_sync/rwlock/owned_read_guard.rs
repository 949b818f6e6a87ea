//! [`OwnedRwLockReadGuard`]: a shared hold of a tokio-shaped [`RwLock`] through an `Arc`.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops;
use std::panic::Location;
use std::ptr;
use std::sync::Arc;

use ::tokio::sync::TryLockError;

use super::RwLock;
use crate::tokio_sync::class::Held;
use lockdep_report::Access;

/// A shared hold of a [`RwLock`] that keeps an `Arc` of it (tokio's `OwnedRwLockReadGuard`),
/// of the data or (mapped) of a part `U` of it: dropping it releases the read and ends the
/// hold, on whichever task or thread.
///
/// # Examples
///
/// ```
/// use lockdep::tokio::sync::{OwnedRwLockReadGuard, RwLock};
/// use std::sync::Arc;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let lock = Arc::new(RwLock::new(1));
/// let guard: OwnedRwLockReadGuard<i32> = lock.read_owned().await;
/// tokio::spawn(async move { assert_eq!(*guard, 1) }).await.unwrap();
/// # }
/// ```
#[clippy::has_significant_drop]
pub struct OwnedRwLockReadGuard<T: ?Sized, U: ?Sized = T> {
    lock: Arc<RwLock<T>>,
    data: *const U,
    hold: Held,
    _p: PhantomData<T>,
}

// SAFETY: as tokio's: the guard is the `Arc` of the lock and `&U` into it.
unsafe impl<T, U> Send for OwnedRwLockReadGuard<T, U>
where
    T: ?Sized + Send + Sync,
    U: ?Sized + Sync,
{
}
// SAFETY: as above.
unsafe impl<T, U> Sync for OwnedRwLockReadGuard<T, U>
where
    T: ?Sized + Send + Sync,
    U: ?Sized + Send + Sync,
{
}

impl<T: ?Sized> RwLock<T> {
    /// [`read`](RwLock::read) through an `Arc`, returning an owned guard.
    ///
    /// # Cancel safety
    ///
    /// As [`read`](RwLock::read).
    ///
    /// # Panics
    ///
    /// As [`read`](RwLock::read).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::RwLock;
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = Arc::new(RwLock::new(1));
    /// let n = lock.clone().read_owned().await;
    /// assert_eq!(*n, 1);
    /// # }
    /// ```
    #[track_caller]
    pub fn read_owned(self: Arc<Self>) -> impl Future<Output = OwnedRwLockReadGuard<T>> {
        let site = Location::caller();
        async move {
            let validated = self.class.validate(Access::Read, site);
            Self::keep(self.s.acquire_many(1).await);
            let hold = self.class.handed_over(validated);
            OwnedRwLockReadGuard::new(self, hold)
        }
    }

    /// [`try_read`](RwLock::try_read) through an `Arc`, returning an owned guard.
    ///
    /// # Errors
    ///
    /// tokio's [`TryLockError`] when a writer holds the lock or waits for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::RwLock;
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let v = lock.clone().try_read_owned().unwrap();
    /// assert_eq!(*v, 1);
    /// assert!(lock.try_write().is_err());
    /// ```
    #[track_caller]
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        self.try_acquire(1)?;
        // Owned: held by nobody (see `AsyncClass::handed_over`).
        let hold = Held::NONE;
        Ok(OwnedRwLockReadGuard::new(self, hold))
    }
}

impl<T: ?Sized> OwnedRwLockReadGuard<T> {
    /// The guard of a read of `lock`, whose permit was taken, and its hold.
    #[inline]
    pub(crate) fn new(lock: Arc<RwLock<T>>, hold: Held) -> Self {
        let data = lock.c.get() as *const T;
        OwnedRwLockReadGuard::from_parts(lock, data, hold)
    }
}

impl<T: ?Sized, U: ?Sized> OwnedRwLockReadGuard<T, U> {
    /// The guard of a read of `data` in `lock`, whose permit was taken, and its hold.
    #[inline]
    pub(super) fn from_parts(lock: Arc<RwLock<T>>, data: *const U, hold: Held) -> Self {
        OwnedRwLockReadGuard {
            lock,
            data,
            hold,
            _p: PhantomData,
        }
    }

    /// The `Arc` and the hold, the guard forgotten (it no longer releases).
    #[inline]
    fn into_parts(self) -> (Arc<RwLock<T>>, Held) {
        let mut me = ManuallyDrop::new(self);
        let hold = me.hold.take();
        // SAFETY: `me` is never used or dropped again: the `Arc` is moved out once.
        let lock = unsafe { ptr::read(&me.lock) };
        (lock, hold)
    }

    /// A read guard of a part of the data, the read still held (the hold goes with it).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{OwnedRwLockReadGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = Arc::new(RwLock::new((1, 2)));
    /// let second = OwnedRwLockReadGuard::map(lock.read_owned().await, |p| &p.1);
    /// assert_eq!(*second, 2);
    /// # }
    /// ```
    #[inline]
    pub fn map<F, V: ?Sized>(this: Self, f: F) -> OwnedRwLockReadGuard<T, V>
    where
        F: FnOnce(&U) -> &V,
    {
        let data = f(&*this) as *const V;
        let (lock, hold) = this.into_parts();
        OwnedRwLockReadGuard::from_parts(lock, data, hold)
    }

    /// [`map`](OwnedRwLockReadGuard::map) when `f` finds the part; else the guard back.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{OwnedRwLockReadGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = Arc::new(RwLock::new(vec![1]));
    /// let back = OwnedRwLockReadGuard::try_map(lock.read_owned().await, |v| v.get(4));
    /// assert_eq!(*back.unwrap_err(), [1]);
    /// # }
    /// ```
    #[inline]
    pub fn try_map<F, V: ?Sized>(this: Self, f: F) -> Result<OwnedRwLockReadGuard<T, V>, Self>
    where
        F: FnOnce(&U) -> Option<&V>,
    {
        let data = match f(&*this) {
            Some(data) => data as *const V,
            None => return Err(this),
        };
        let (lock, hold) = this.into_parts();
        Ok(OwnedRwLockReadGuard::from_parts(lock, data, hold))
    }

    /// The `Arc` of the lock this guard reads.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{OwnedRwLockReadGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = Arc::new(RwLock::new(1));
    /// let guard = lock.clone().read_owned().await;
    /// assert!(Arc::ptr_eq(&lock, OwnedRwLockReadGuard::rwlock(&guard)));
    /// # }
    /// ```
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }
}

impl<T: ?Sized, U: ?Sized> ops::Deref for OwnedRwLockReadGuard<T, U> {
    type Target = U;

    #[inline]
    fn deref(&self) -> &U {
        // SAFETY: `data` points into the data of the lock this guard holds a read of, which
        // the `Arc` keeps alive.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized, U: ?Sized> fmt::Debug for OwnedRwLockReadGuard<T, U>
where
    U: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized> fmt::Display for OwnedRwLockReadGuard<T, U>
where
    U: fmt::Display,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedRwLockReadGuard<T, U> {
    #[inline]
    fn drop(&mut self) {
        self.hold.end();
        self.lock.s.add_permits(1);
    }
}
