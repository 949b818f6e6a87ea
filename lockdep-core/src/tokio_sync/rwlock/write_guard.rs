//! [`RwLockWriteGuard`]: an exclusive hold of a tokio-shaped [`RwLock`](super::RwLock),
//! borrowed; it maps to a [`RwLockMappedWriteGuard`] and downgrades to a read guard.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops;
use std::panic::Location;

use ::tokio::sync::{Semaphore, TryLockError};

use super::read_guard::RwLockReadGuard;
use super::write_guard_mapped::RwLockMappedWriteGuard;
use super::RwLock;
use crate::tokio_sync::class::AsyncClass;
use crate::tokio_sync::class::Held;
use lockdep_report::Access;

/// An exclusive hold of a [`RwLock`](super::RwLock) (tokio's `RwLockWriteGuard`): dropping
/// it releases the write and ends the hold, on whichever task or thread.
/// [`downgrade`](RwLockWriteGuard::downgrade) makes it a read without letting a writer in;
/// the hold becomes shared.
///
/// # Examples
///
/// ```
/// use lockdep::tokio::sync::{RwLock, RwLockWriteGuard};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let lock = RwLock::new(1);
/// let mut guard: RwLockWriteGuard<'_, i32> = lock.write().await;
/// *guard += 1;
/// drop(guard);
/// assert_eq!(*lock.read().await, 2);
/// # }
/// ```
#[clippy::has_significant_drop]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    permits_acquired: u32,
    s: &'a Semaphore,
    class: &'a AsyncClass,
    data: *mut T,
    hold: Held,
    marker: PhantomData<&'a mut T>,
}

// SAFETY: as tokio's: the guard gives `&mut T` on whichever thread has it, and `&T` to those
// it is shared with.
unsafe impl<T> Send for RwLockWriteGuard<'_, T> where T: ?Sized + Send + Sync {}
// SAFETY: as above.
unsafe impl<T> Sync for RwLockWriteGuard<'_, T> where T: ?Sized + Send + Sync {}

/// The parts of a write guard, which no longer releases anything.
struct Parts<'a, T: ?Sized> {
    permits_acquired: u32,
    s: &'a Semaphore,
    class: &'a AsyncClass,
    data: *mut T,
    hold: Held,
}

impl<T: ?Sized> RwLock<T> {
    /// Locks this lock for writing, the current task yielding until it can (tokio's `async
    /// fn write`). Validated as an exclusive acquisition at the first poll, at the caller's
    /// site; held once it completes.
    ///
    /// # Cancel safety
    ///
    /// As tokio's: a cancelled call loses its place in the queue, and holds nothing.
    ///
    /// # Panics
    ///
    /// In `panic` mode, at its first poll, when this acquisition closes a cycle or takes a
    /// lock this context holds already.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::RwLock;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = RwLock::new(1);
    /// let mut n = lock.write().await;
    /// *n = 2;
    /// # }
    /// ```
    #[track_caller]
    pub fn write(&self) -> impl Future<Output = RwLockWriteGuard<'_, T>> {
        let site = Location::caller();
        async move {
            let tried = self.s.try_acquire_many(self.mr);
            let validated = match self.class.at_first_poll(tried, Access::Write, site) {
                Ok(held) => return self.write_guard(held),
                Err(validated) => validated,
            };
            Self::keep(self.s.acquire_many(self.mr).await);
            self.write_guard(self.class.acquired(validated))
        }
    }

    /// Locks this lock for writing from a thread outside any asynchronous context, blocking
    /// it until it can: a blocking acquisition, validated first.
    ///
    /// # Panics
    ///
    /// As tokio's, when called within an asynchronous execution context (tokio's message). In
    /// `panic` mode, when this acquisition closes a cycle.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::RwLock;
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let rwlock = Arc::new(RwLock::new(1));
    /// let read_lock = rwlock.read().await;
    /// let writer = Arc::clone(&rwlock);
    /// let blocking_task = tokio::task::spawn_blocking(move || {
    ///     // Blocks the thread until the read guard below is dropped.
    ///     let mut write_lock = writer.blocking_write();
    ///     *write_lock = 2;
    /// });
    /// assert_eq!(*read_lock, 1);
    /// drop(read_lock);
    /// blocking_task.await.unwrap();
    /// assert_eq!(*rwlock.read().await, 2);
    /// # }
    /// ```
    #[track_caller]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        let validated = self.class.validate(Access::Write, Location::caller());
        self.blocking_acquire(self.mr);
        self.write_guard(self.class.acquired(validated))
    }

    /// Tries to lock this lock for writing without waiting: held once taken, with no
    /// dependency of its own.
    ///
    /// # Errors
    ///
    /// tokio's [`TryLockError`] when the lock is held (read or written) or waited for.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::RwLock;
    ///
    /// let rw = RwLock::new(1);
    /// let v = rw.try_read().unwrap();
    /// assert!(rw.try_write().is_err());
    /// drop(v);
    /// assert_eq!(*rw.try_write().unwrap(), 1);
    /// ```
    #[track_caller]
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        self.try_acquire(self.mr)?;
        Ok(self.write_guard(self.class.tried(Access::Write, Location::caller())))
    }

    /// The write guard of this lock, whose permits (all of them) were taken, and its hold.
    #[inline]
    fn write_guard(&self, hold: Held) -> RwLockWriteGuard<'_, T> {
        RwLockWriteGuard::new(self.mr, &self.s, &self.class, self.c.get(), hold)
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// The guard of a write of `data`, whose `permits_acquired` permits of `s` were taken,
    /// its lock's class, and its hold.
    #[inline]
    pub(crate) fn new(
        permits_acquired: u32,
        s: &'a Semaphore,
        class: &'a AsyncClass,
        data: *mut T,
        hold: Held,
    ) -> Self {
        RwLockWriteGuard {
            permits_acquired,
            s,
            class,
            data,
            hold,
            marker: PhantomData,
        }
    }

    /// The parts, the guard forgotten (it no longer releases).
    #[inline]
    fn into_parts(self) -> Parts<'a, T> {
        let mut me = ManuallyDrop::new(self);
        Parts {
            permits_acquired: me.permits_acquired,
            s: me.s,
            class: me.class,
            data: me.data,
            hold: me.hold.take(),
        }
    }

    /// A write guard of a part of the data, the write still held (it cannot be downgraded).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{RwLock, RwLockWriteGuard};
    ///
    /// #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    /// struct Foo(u32);
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = RwLock::new(Foo(1));
    /// {
    ///     let mut mapped = RwLockWriteGuard::map(lock.write().await, |f| &mut f.0);
    ///     *mapped = 2;
    /// }
    /// assert_eq!(Foo(2), *lock.read().await);
    /// # }
    /// ```
    #[inline]
    pub fn map<F, U: ?Sized>(mut this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = f(&mut *this) as *mut U;
        let parts = this.into_parts();
        RwLockMappedWriteGuard::new(parts.permits_acquired, parts.s, data, parts.hold)
    }

    /// Downgrades to a read guard of a part of the data: writers stay out, readers may come
    /// in, and the hold becomes shared (in the context that holds it).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{RwLock, RwLockWriteGuard};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = RwLock::new((1, 2));
    /// let mut guard = lock.write().await;
    /// guard.1 = 3;
    /// let second = RwLockWriteGuard::downgrade_map(guard, |p| &p.1);
    /// assert_eq!(*lock.try_read().unwrap(), (1, 3)); // readers come in
    /// assert_eq!(*second, 3);
    /// # }
    /// ```
    #[inline]
    pub fn downgrade_map<F, U: ?Sized>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data = f(&*this) as *const U;
        this.into_parts().downgrade(data)
    }

    /// [`map`](RwLockWriteGuard::map) when `f` finds the part; else the guard back.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{RwLock, RwLockWriteGuard};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = RwLock::new(vec![1]);
    /// let mut first = RwLockWriteGuard::try_map(lock.write().await, |v| v.first_mut())
    ///     .ok()
    ///     .unwrap();
    /// *first = 2;
    /// drop(first);
    /// let back = RwLockWriteGuard::try_map(lock.write().await, |v| v.get_mut(5));
    /// assert_eq!(*back.unwrap_err(), [2]);
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
        let parts = this.into_parts();
        Ok(RwLockMappedWriteGuard::new(
            parts.permits_acquired,
            parts.s,
            data,
            parts.hold,
        ))
    }

    /// [`downgrade_map`](RwLockWriteGuard::downgrade_map) when `f` finds the part; else the
    /// write guard back.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{RwLock, RwLockWriteGuard};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = RwLock::new(vec![1]);
    /// let first = RwLockWriteGuard::try_downgrade_map(lock.write().await, |v| v.first())
    ///     .ok()
    ///     .unwrap();
    /// assert_eq!((*first, lock.try_read().unwrap().len()), (1, 1));
    /// # }
    /// ```
    #[inline]
    pub fn try_downgrade_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let data = match f(&*this) {
            Some(data) => data as *const U,
            None => return Err(this),
        };
        Ok(this.into_parts().downgrade(data))
    }

    /// This guard as a mapped write guard of the whole data (which cannot be downgraded).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{RwLock, RwLockWriteGuard};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = RwLock::new(1);
    /// let mut mapped = RwLockWriteGuard::into_mapped(lock.write().await);
    /// *mapped = 2;
    /// drop(mapped);
    /// assert_eq!(*lock.read().await, 2);
    /// # }
    /// ```
    #[inline]
    pub fn into_mapped(this: Self) -> RwLockMappedWriteGuard<'a, T> {
        RwLockWriteGuard::map(this, |me| me)
    }

    /// Downgrades to a read guard: writers stay out, readers may come in, and the hold
    /// becomes shared (in the context that holds it; nothing new to validate).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::RwLock;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = RwLock::new(1);
    /// let mut n = lock.write().await;
    /// *n = 2;
    /// let n = n.downgrade();
    /// assert_eq!(*n, 2, "the write is seen");
    /// assert_eq!(*lock.try_read().unwrap(), 2, "readers come in");
    /// assert!(lock.try_write().is_err(), "writers do not");
    /// # }
    /// ```
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let parts = self.into_parts();
        let data = parts.data as *const T;
        parts.downgrade(data)
    }
}

impl<'a, T: ?Sized> Parts<'a, T> {
    /// The read guard of `data` that this write becomes: the hold shared, every permit but
    /// one released.
    fn downgrade<U: ?Sized>(self, data: *const U) -> RwLockReadGuard<'a, U> {
        self.class.downgrade();
        let guard = RwLockReadGuard::new(self.s, data, self.hold);
        self.s.add_permits((self.permits_acquired - 1) as usize);
        guard
    }
}

impl<T: ?Sized> ops::Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: `data` points into the data of a lock this guard holds for writing.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> ops::DerefMut for RwLockWriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`, and `&mut self` makes this the only reference through it.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.hold.end();
        self.s.add_permits(self.permits_acquired as usize);
    }
}
