//! [`RwLockMappedWriteGuard`]: an exclusive hold of a tokio-shaped [`RwLock`](super::RwLock)
//! through a part of its data.

use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops;

use ::tokio::sync::Semaphore;

use crate::tokio_sync::class::Held;

/// An exclusive hold of a [`RwLock`](super::RwLock) through a part of its data, made by
/// [`RwLockWriteGuard::map`](super::write_guard::RwLockWriteGuard::map) (tokio's
/// `RwLockMappedWriteGuard`: a type of its own so that it cannot be downgraded).
///
/// # Examples
///
/// ```
/// use lockdep::tokio::sync::{RwLock, RwLockMappedWriteGuard, RwLockWriteGuard};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let lock = RwLock::new((1, 2));
/// let mut second: RwLockMappedWriteGuard<'_, i32> =
///     RwLockWriteGuard::map(lock.write().await, |p| &mut p.1);
/// *second = 5;
/// drop(second);
/// assert_eq!(*lock.read().await, (1, 5));
/// # }
/// ```
#[clippy::has_significant_drop]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockMappedWriteGuard<'a, T: ?Sized> {
    permits_acquired: u32,
    s: &'a Semaphore,
    data: *mut T,
    hold: Held,
    marker: PhantomData<&'a mut T>,
}

// SAFETY: as tokio's: the guard gives `&mut T` on whichever thread has it, and `&T` to those
// it is shared with.
unsafe impl<T> Send for RwLockMappedWriteGuard<'_, T> where T: ?Sized + Send + Sync {}
// SAFETY: as above.
unsafe impl<T> Sync for RwLockMappedWriteGuard<'_, T> where T: ?Sized + Send + Sync {}

impl<'a, T: ?Sized> RwLockMappedWriteGuard<'a, T> {
    /// The guard of a write through `data`, whose `permits_acquired` permits of `s` were
    /// taken, and its hold.
    #[inline]
    pub(super) fn new(permits_acquired: u32, s: &'a Semaphore, data: *mut T, hold: Held) -> Self {
        RwLockMappedWriteGuard {
            permits_acquired,
            s,
            data,
            hold,
            marker: PhantomData,
        }
    }

    /// The permit count, the semaphore and the hold, the guard forgotten.
    #[inline]
    fn into_parts(self) -> (u32, &'a Semaphore, Held) {
        let mut me = ManuallyDrop::new(self);
        let hold = me.hold.take();
        (me.permits_acquired, me.s, hold)
    }

    /// A guard of a part of this part, the write still held.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{RwLock, RwLockMappedWriteGuard, RwLockWriteGuard};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = RwLock::new(((1, 2), 3));
    /// let inner = RwLockWriteGuard::map(lock.write().await, |n| &mut n.0);
    /// let mut first = RwLockMappedWriteGuard::map(inner, |i| &mut i.0);
    /// *first = 10;
    /// drop(first);
    /// assert_eq!(*lock.read().await, ((10, 2), 3));
    /// # }
    /// ```
    #[inline]
    pub fn map<F, U: ?Sized>(mut this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = f(&mut *this) as *mut U;
        let (permits_acquired, s, hold) = this.into_parts();
        RwLockMappedWriteGuard::new(permits_acquired, s, data, hold)
    }

    /// [`map`](RwLockMappedWriteGuard::map) when `f` finds the part; else the guard back.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{RwLock, RwLockMappedWriteGuard, RwLockWriteGuard};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = RwLock::new((vec![1], 0));
    /// let list = RwLockWriteGuard::map(lock.write().await, |l| &mut l.0);
    /// let back = RwLockMappedWriteGuard::try_map(list, |l| l.get_mut(3));
    /// assert_eq!(*back.unwrap_err(), [1]);
    /// # }
    /// ```
    #[inline]
    pub fn try_map<F, U: ?Sized>(
        mut this: Self,
        f: F,
    ) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data = match f(&mut *this) {
            Some(data) => data as *mut U,
            None => return Err(this),
        };
        let (permits_acquired, s, hold) = this.into_parts();
        Ok(RwLockMappedWriteGuard::new(permits_acquired, s, data, hold))
    }
}

impl<T: ?Sized> ops::Deref for RwLockMappedWriteGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: `data` points into the data of a lock this guard holds for writing.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> ops::DerefMut for RwLockMappedWriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`, and `&mut self` makes this the only reference through it.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockMappedWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockMappedWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> Drop for RwLockMappedWriteGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.hold.end();
        self.s.add_permits(self.permits_acquired as usize);
    }
}
