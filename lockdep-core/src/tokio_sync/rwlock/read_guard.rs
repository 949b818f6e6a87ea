//! [`RwLockReadGuard`]: a shared hold of a tokio-shaped [`RwLock`](super::RwLock), borrowed.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops;
use std::panic::Location;

use ::tokio::sync::{Semaphore, TryLockError};

use super::RwLock;
use crate::tokio_sync::class::Held;
use lockdep_report::Access;

/// A shared hold of a [`RwLock`](super::RwLock) (tokio's `RwLockReadGuard`): dropping it
/// releases the read and ends the hold, on whichever task or thread. A mapped read guard is
/// a read guard of the part.
///
/// # Examples
///
/// ```
/// use lockdep::tokio::sync::{RwLock, RwLockReadGuard};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let lock = RwLock::new(vec![1, 2]);
/// let guard: RwLockReadGuard<'_, Vec<i32>> = lock.read().await;
/// assert_eq!(guard.len(), 2);
/// # }
/// ```
#[clippy::has_significant_drop]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    s: &'a Semaphore,
    data: *const T,
    hold: Held,
    marker: PhantomData<&'a T>,
}

// SAFETY: as tokio's: the guard is `&T` with a release to do.
unsafe impl<T> Send for RwLockReadGuard<'_, T> where T: ?Sized + Sync {}
// SAFETY: as tokio's.
unsafe impl<T> Sync for RwLockReadGuard<'_, T> where T: ?Sized + Send + Sync {}

impl<T: ?Sized> RwLock<T> {
    /// Locks this lock for reading, the current task yielding until it can (tokio's `async
    /// fn read`): behind the writers already waiting, as tokio's lock is fair. Validated as a
    /// (non-recursive) read at the first poll, at the caller's site; held once it completes.
    ///
    /// # Cancel safety
    ///
    /// As tokio's: a cancelled call loses its place in the queue, and holds nothing.
    ///
    /// # Panics
    ///
    /// In `panic` mode, at its first poll, when this acquisition closes a cycle or reads a
    /// lock this context holds already.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::RwLock;
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main]
    /// # async fn main() {
    /// let lock = Arc::new(RwLock::new(1));
    /// let n = lock.read().await;
    /// let other = Arc::clone(&lock);
    /// tokio::spawn(async move {
    ///     let r = other.read().await; // another task reads at the same time
    ///     assert_eq!(*r, 1);
    /// })
    /// .await
    /// .unwrap();
    /// assert_eq!(*n, 1);
    /// # }
    /// ```
    #[track_caller]
    pub fn read(&self) -> impl Future<Output = RwLockReadGuard<'_, T>> {
        let site = Location::caller();
        async move {
            let tried = self.s.try_acquire_many(1);
            let validated = match self.class.at_first_poll(tried, Access::Read, site) {
                Ok(held) => return RwLockReadGuard::new(&self.s, self.c.get(), held),
                Err(validated) => validated,
            };
            Self::keep(self.s.acquire_many(1).await);
            RwLockReadGuard::new(&self.s, self.c.get(), self.class.acquired(validated))
        }
    }

    /// Locks this lock for reading from a thread outside any asynchronous context, blocking
    /// it until it can: a blocking read, validated first.
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
    /// let mut write_lock = rwlock.write().await;
    /// let reader = Arc::clone(&rwlock);
    /// let blocking_task = tokio::task::spawn_blocking(move || {
    ///     // Blocks the thread until the write guard below is dropped.
    ///     let read_lock = reader.blocking_read();
    ///     assert_eq!(*read_lock, 0);
    /// });
    /// *write_lock -= 1;
    /// drop(write_lock);
    /// blocking_task.await.unwrap();
    /// # }
    /// ```
    #[track_caller]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        let validated = self.class.validate(Access::Read, Location::caller());
        self.blocking_acquire(1);
        RwLockReadGuard::new(&self.s, self.c.get(), self.class.acquired(validated))
    }

    /// Tries to lock this lock for reading without waiting: held once taken, with no
    /// dependency of its own.
    ///
    /// # Errors
    ///
    /// tokio's [`TryLockError`] when a writer holds the lock or waits for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::RwLock;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = RwLock::new(1);
    /// let v = lock.try_read().unwrap();
    /// assert_eq!(*v, 1);
    /// drop(v);
    /// let w = lock.write().await;
    /// assert!(lock.try_read().is_err());
    /// # drop(w);
    /// # }
    /// ```
    #[track_caller]
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        self.try_acquire(1)?;
        let hold = self.class.tried(Access::Read, Location::caller());
        Ok(RwLockReadGuard::new(&self.s, self.c.get(), hold))
    }
}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// The guard of a read of `data`, whose permit of `s` was taken, and its hold.
    #[inline]
    pub(crate) fn new(s: &'a Semaphore, data: *const T, hold: Held) -> Self {
        RwLockReadGuard {
            s,
            data,
            hold,
            marker: PhantomData,
        }
    }

    /// The semaphore and the hold, the guard forgotten (it no longer releases).
    #[inline]
    fn into_parts(self) -> (&'a Semaphore, Held) {
        let mut me = ManuallyDrop::new(self);
        let hold = me.hold.take();
        (me.s, hold)
    }

    /// A read guard of a part of the data, the read still held (the hold goes with it).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{RwLock, RwLockReadGuard};
    ///
    /// #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    /// struct Foo(u32);
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = RwLock::new(Foo(1));
    /// let guard = lock.read().await;
    /// let guard = RwLockReadGuard::map(guard, |f| &f.0);
    /// assert_eq!(1, *guard);
    /// # }
    /// ```
    #[inline]
    pub fn map<F, U: ?Sized>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data = f(&*this) as *const U;
        let (s, hold) = this.into_parts();
        RwLockReadGuard::new(s, data, hold)
    }

    /// [`map`](RwLockReadGuard::map) when `f` finds the part; else the guard back.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{RwLock, RwLockReadGuard};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = RwLock::new(vec![1]);
    /// let first = RwLockReadGuard::try_map(lock.read().await, |v| v.first()).ok().unwrap();
    /// assert_eq!(*first, 1);
    /// drop(first);
    /// let back = RwLockReadGuard::try_map(lock.read().await, |v| v.get(7));
    /// assert_eq!(*back.unwrap_err(), [1]);
    /// # }
    /// ```
    #[inline]
    pub fn try_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let data = match f(&*this) {
            Some(data) => data as *const U,
            None => return Err(this),
        };
        let (s, hold) = this.into_parts();
        Ok(RwLockReadGuard::new(s, data, hold))
    }
}

impl<T: ?Sized> ops::Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: `data` points into the data of a lock this guard holds a read of.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.hold.end();
        self.s.add_permits(1);
    }
}
