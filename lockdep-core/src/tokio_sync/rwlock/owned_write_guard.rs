//! [`OwnedRwLockWriteGuard`]: an exclusive hold of a tokio-shaped [`RwLock`] through an
//! `Arc`; it maps to an [`OwnedRwLockMappedWriteGuard`] and downgrades to a read guard.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops;
use std::panic::Location;
use std::ptr;
use std::sync::Arc;

use ::tokio::sync::TryLockError;
use lockdep_report::Access;

use super::owned_read_guard::OwnedRwLockReadGuard;
use super::owned_write_guard_mapped::OwnedRwLockMappedWriteGuard;
use super::RwLock;
use crate::tokio_sync::class::Held;

/// An exclusive hold of a [`RwLock`] that keeps an `Arc` of it (tokio's
/// `OwnedRwLockWriteGuard`): dropping it releases the write and ends the hold, on whichever
/// task or thread.
///
/// # Examples
///
/// ```
/// use lockdep::tokio::sync::{OwnedRwLockWriteGuard, RwLock};
/// use std::sync::Arc;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let lock = Arc::new(RwLock::new(1));
/// let mut guard: OwnedRwLockWriteGuard<i32> = lock.clone().write_owned().await;
/// tokio::spawn(async move { *guard += 1 }).await.unwrap();
/// assert_eq!(*lock.read().await, 2);
/// # }
/// ```
#[clippy::has_significant_drop]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    permits_acquired: u32,
    lock: Arc<RwLock<T>>,
    data: *mut T,
    hold: Held,
    _p: PhantomData<T>,
}

// SAFETY: as tokio's: the guard is the `Arc` of the lock and `&mut T` into it.
unsafe impl<T> Send for OwnedRwLockWriteGuard<T> where T: ?Sized + Send + Sync {}
// SAFETY: as above.
unsafe impl<T> Sync for OwnedRwLockWriteGuard<T> where T: ?Sized + Send + Sync {}

impl<T: ?Sized> RwLock<T> {
    /// [`write`](RwLock::write) through an `Arc`, returning an owned guard.
    ///
    /// # Cancel safety
    ///
    /// As [`write`](RwLock::write).
    ///
    /// # Panics
    ///
    /// As [`write`](RwLock::write).
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
    /// let mut n = lock.clone().write_owned().await;
    /// *n = 2;
    /// drop(n);
    /// assert_eq!(*lock.read().await, 2);
    /// # }
    /// ```
    #[track_caller]
    pub fn write_owned(self: Arc<Self>) -> impl Future<Output = OwnedRwLockWriteGuard<T>> {
        let site = Location::caller();
        async move {
            let validated = self.class.validate(Access::Write, site);
            Self::keep(self.s.acquire_many(self.mr).await);
            let hold = self.class.handed_over(validated);
            OwnedRwLockWriteGuard::new(self, hold)
        }
    }

    /// [`try_write`](RwLock::try_write) through an `Arc`, returning an owned guard.
    ///
    /// # Errors
    ///
    /// tokio's [`TryLockError`] when the lock is held (read or written) or waited for.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::RwLock;
    /// use std::sync::Arc;
    ///
    /// let rw = Arc::new(RwLock::new(1));
    /// let mut w = rw.clone().try_write_owned().unwrap();
    /// *w = 2;
    /// assert!(rw.try_read().is_err());
    /// ```
    #[track_caller]
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        self.try_acquire(self.mr)?;
        // Owned: held by nobody (see `AsyncClass::handed_over`).
        let hold = Held::NONE;
        Ok(OwnedRwLockWriteGuard::new(self, hold))
    }
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// The guard of a write of `lock`, all of whose permits were taken, and its hold.
    #[inline]
    pub(crate) fn new(lock: Arc<RwLock<T>>, hold: Held) -> Self {
        OwnedRwLockWriteGuard {
            permits_acquired: lock.mr,
            data: lock.c.get(),
            lock,
            hold,
            _p: PhantomData,
        }
    }

    /// The permit count, the `Arc` and the hold, the guard forgotten (it no longer releases).
    #[inline]
    fn into_parts(self) -> (u32, Arc<RwLock<T>>, Held) {
        let mut me = ManuallyDrop::new(self);
        let hold = me.hold.take();
        // SAFETY: `me` is never used or dropped again: the `Arc` is moved out once.
        let lock = unsafe { ptr::read(&me.lock) };
        (me.permits_acquired, lock, hold)
    }

    /// A write guard of a part of the data, the write still held (it cannot be downgraded).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{OwnedRwLockWriteGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = Arc::new(RwLock::new((1, 2)));
    /// let mut first = OwnedRwLockWriteGuard::map(lock.clone().write_owned().await, |p| &mut p.0);
    /// *first = 3;
    /// drop(first);
    /// assert_eq!(*lock.read().await, (3, 2));
    /// # }
    /// ```
    #[inline]
    pub fn map<F, U: ?Sized>(mut this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = f(&mut *this) as *mut U;
        let (permits_acquired, lock, hold) = this.into_parts();
        OwnedRwLockMappedWriteGuard::from_parts(permits_acquired, lock, data, hold)
    }

    /// Downgrades to a read guard of a part of the data: writers stay out, readers may come
    /// in, and the hold becomes shared (in the context that holds it).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{OwnedRwLockWriteGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = Arc::new(RwLock::new((1, 2)));
    /// let guard = lock.clone().write_owned().await;
    /// let second = OwnedRwLockWriteGuard::downgrade_map(guard, |p| &p.1);
    /// assert_eq!((*second, lock.try_read().unwrap().0), (2, 1));
    /// # }
    /// ```
    #[inline]
    pub fn downgrade_map<F, U: ?Sized>(this: Self, f: F) -> OwnedRwLockReadGuard<T, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data = f(&*this) as *const U;
        let (permits_acquired, lock, hold) = this.into_parts();
        downgrade(permits_acquired, lock, data, hold)
    }

    /// [`map`](OwnedRwLockWriteGuard::map) when `f` finds the part; else the guard back.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{OwnedRwLockWriteGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = Arc::new(RwLock::new(vec![1]));
    /// let back = OwnedRwLockWriteGuard::try_map(lock.write_owned().await, |v| v.get_mut(2));
    /// assert_eq!(*back.unwrap_err(), [1]);
    /// # }
    /// ```
    #[inline]
    pub fn try_map<F, U: ?Sized>(
        mut this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data = match f(&mut *this) {
            Some(data) => data as *mut U,
            None => return Err(this),
        };
        let (permits_acquired, lock, hold) = this.into_parts();
        Ok(OwnedRwLockMappedWriteGuard::from_parts(
            permits_acquired,
            lock,
            data,
            hold,
        ))
    }

    /// [`downgrade_map`](OwnedRwLockWriteGuard::downgrade_map) when `f` finds the part; else
    /// the write guard back.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{OwnedRwLockWriteGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = Arc::new(RwLock::new(vec![1]));
    /// let guard = lock.write_owned().await;
    /// let first = OwnedRwLockWriteGuard::try_downgrade_map(guard, |v| v.first());
    /// assert_eq!(*first.ok().unwrap(), 1);
    /// # }
    /// ```
    #[inline]
    pub fn try_downgrade_map<F, U: ?Sized>(
        this: Self,
        f: F,
    ) -> Result<OwnedRwLockReadGuard<T, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let data = match f(&*this) {
            Some(data) => data as *const U,
            None => return Err(this),
        };
        let (permits_acquired, lock, hold) = this.into_parts();
        Ok(downgrade(permits_acquired, lock, data, hold))
    }

    /// This guard as a mapped write guard of the whole data (which cannot be downgraded).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{OwnedRwLockWriteGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = Arc::new(RwLock::new(1));
    /// let mut mapped = OwnedRwLockWriteGuard::into_mapped(lock.clone().write_owned().await);
    /// *mapped = 2;
    /// drop(mapped);
    /// assert_eq!(*lock.read().await, 2);
    /// # }
    /// ```
    #[inline]
    pub fn into_mapped(this: Self) -> OwnedRwLockMappedWriteGuard<T> {
        Self::map(this, |me| me)
    }

    /// Downgrades to a read guard: writers stay out, readers may come in, and the hold
    /// becomes shared (in the context that holds it; nothing new to validate).
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
    /// let mut n = lock.clone().write_owned().await;
    /// *n = 2;
    /// let n = n.downgrade();
    /// assert_eq!((*n, *lock.try_read().unwrap()), (2, 2));
    /// assert!(lock.try_write().is_err());
    /// # }
    /// ```
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        let (permits_acquired, lock, hold) = self.into_parts();
        let data = lock.c.get() as *const T;
        downgrade(permits_acquired, lock, data, hold)
    }

    /// The `Arc` of the lock this guard writes.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{OwnedRwLockWriteGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = Arc::new(RwLock::new(1));
    /// let guard = lock.clone().write_owned().await;
    /// assert!(Arc::ptr_eq(&lock, OwnedRwLockWriteGuard::rwlock(&guard)));
    /// # }
    /// ```
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }
}

/// The read guard of `data` that a write of `lock` (`permits_acquired` permits, `hold`)
/// becomes: the hold shared, every permit but one released.
fn downgrade<T: ?Sized, U: ?Sized>(
    permits_acquired: u32,
    lock: Arc<RwLock<T>>,
    data: *const U,
    hold: Held,
) -> OwnedRwLockReadGuard<T, U> {
    lock.class.downgrade();
    let guard = OwnedRwLockReadGuard::from_parts(lock, data, hold);
    OwnedRwLockReadGuard::rwlock(&guard)
        .s
        .add_permits((permits_acquired - 1) as usize);
    guard
}

impl<T: ?Sized> ops::Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: `data` points into the data of the lock this guard holds for writing, which
        // the `Arc` keeps alive.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> ops::DerefMut for OwnedRwLockWriteGuard<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`, and `&mut self` makes this the only reference through it.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> fmt::Debug for OwnedRwLockWriteGuard<T>
where
    T: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized> fmt::Display for OwnedRwLockWriteGuard<T>
where
    T: fmt::Display,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> Drop for OwnedRwLockWriteGuard<T> {
    #[inline]
    fn drop(&mut self) {
        self.hold.end();
        self.lock.s.add_permits(self.permits_acquired as usize);
    }
}
