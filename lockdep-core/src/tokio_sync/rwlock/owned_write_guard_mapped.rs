//! [`OwnedRwLockMappedWriteGuard`]: an exclusive hold of a tokio-shaped [`RwLock`] through
//! an `Arc` and a part of its data.

use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops;
use std::ptr;
use std::sync::Arc;

use super::RwLock;
use crate::tokio_sync::class::Held;

/// An exclusive hold of a [`RwLock`] that keeps an `Arc` of it, through a part `U` of its
/// data (tokio's `OwnedRwLockMappedWriteGuard`, made by
/// [`OwnedRwLockWriteGuard::map`](super::owned_write_guard::OwnedRwLockWriteGuard::map); it
/// cannot be downgraded).
///
/// # Examples
///
/// ```
/// use lockdep::tokio::sync::{OwnedRwLockMappedWriteGuard, OwnedRwLockWriteGuard, RwLock};
/// use std::sync::Arc;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let lock = Arc::new(RwLock::new((1, 2)));
/// let mut second: OwnedRwLockMappedWriteGuard<(i32, i32), i32> =
///     OwnedRwLockWriteGuard::map(lock.clone().write_owned().await, |p| &mut p.1);
/// *second = 4;
/// drop(second);
/// assert_eq!(*lock.read().await, (1, 4));
/// # }
/// ```
#[clippy::has_significant_drop]
pub struct OwnedRwLockMappedWriteGuard<T: ?Sized, U: ?Sized = T> {
    permits_acquired: u32,
    lock: Arc<RwLock<T>>,
    data: *mut U,
    hold: Held,
    _p: PhantomData<T>,
}

// SAFETY: as tokio's: the guard is the `Arc` of the lock and `&mut U` into it.
unsafe impl<T, U> Send for OwnedRwLockMappedWriteGuard<T, U>
where
    T: ?Sized + Send + Sync,
    U: ?Sized + Send + Sync,
{
}
// SAFETY: as above.
unsafe impl<T, U> Sync for OwnedRwLockMappedWriteGuard<T, U>
where
    T: ?Sized + Send + Sync,
    U: ?Sized + Send + Sync,
{
}

impl<T: ?Sized, U: ?Sized> OwnedRwLockMappedWriteGuard<T, U> {
    /// The guard of a write through `data` in `lock`, `permits_acquired` permits taken, and
    /// its hold.
    #[inline]
    pub(super) fn from_parts(
        permits_acquired: u32,
        lock: Arc<RwLock<T>>,
        data: *mut U,
        hold: Held,
    ) -> Self {
        OwnedRwLockMappedWriteGuard {
            permits_acquired,
            lock,
            data,
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

    /// A guard of a part of this part, the write still held.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{OwnedRwLockMappedWriteGuard, OwnedRwLockWriteGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = Arc::new(RwLock::new(((1, 2), 3)));
    /// let inner = OwnedRwLockWriteGuard::map(lock.clone().write_owned().await, |n| &mut n.0);
    /// let mut second = OwnedRwLockMappedWriteGuard::map(inner, |i| &mut i.1);
    /// *second = 20;
    /// drop(second);
    /// assert_eq!(*lock.read().await, ((1, 20), 3));
    /// # }
    /// ```
    #[inline]
    pub fn map<F, V: ?Sized>(mut this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, V>
    where
        F: FnOnce(&mut U) -> &mut V,
    {
        let data = f(&mut *this) as *mut V;
        let (permits_acquired, lock, hold) = this.into_parts();
        OwnedRwLockMappedWriteGuard::from_parts(permits_acquired, lock, data, hold)
    }

    /// [`map`](OwnedRwLockMappedWriteGuard::map) when `f` finds the part; else the guard
    /// back.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{OwnedRwLockMappedWriteGuard, OwnedRwLockWriteGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = Arc::new(RwLock::new((vec![1], 0)));
    /// let list = OwnedRwLockWriteGuard::map(lock.write_owned().await, |l| &mut l.0);
    /// let back = OwnedRwLockMappedWriteGuard::try_map(list, |l| l.get_mut(3));
    /// assert_eq!(*back.unwrap_err(), [1]);
    /// # }
    /// ```
    #[inline]
    pub fn try_map<F, V: ?Sized>(
        mut this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, V>, Self>
    where
        F: FnOnce(&mut U) -> Option<&mut V>,
    {
        let data = match f(&mut *this) {
            Some(data) => data as *mut V,
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

    /// The `Arc` of the lock this guard writes.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{OwnedRwLockMappedWriteGuard, OwnedRwLockWriteGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = Arc::new(RwLock::new((1, 2)));
    /// let guard = OwnedRwLockWriteGuard::map(lock.clone().write_owned().await, |p| &mut p.0);
    /// assert!(Arc::ptr_eq(&lock, OwnedRwLockMappedWriteGuard::rwlock(&guard)));
    /// # }
    /// ```
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }
}

impl<T: ?Sized, U: ?Sized> ops::Deref for OwnedRwLockMappedWriteGuard<T, U> {
    type Target = U;

    #[inline]
    fn deref(&self) -> &U {
        // SAFETY: `data` points into the data of the lock this guard holds for writing, which
        // the `Arc` keeps alive.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized, U: ?Sized> ops::DerefMut for OwnedRwLockMappedWriteGuard<T, U> {
    #[inline]
    fn deref_mut(&mut self) -> &mut U {
        // SAFETY: as for `deref`, and `&mut self` makes this the only reference through it.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized, U: ?Sized> fmt::Debug for OwnedRwLockMappedWriteGuard<T, U>
where
    U: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized> fmt::Display for OwnedRwLockMappedWriteGuard<T, U>
where
    U: fmt::Display,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedRwLockMappedWriteGuard<T, U> {
    #[inline]
    fn drop(&mut self) {
        self.hold.end();
        self.lock.s.add_permits(self.permits_acquired as usize);
    }
}
