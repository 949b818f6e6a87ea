//! The borrowed guards of a tokio-shaped [`Mutex`]: [`MutexGuard`] and what
//! [`MutexGuard::map`] makes of it, [`MappedMutexGuard`].

use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};

use std::future::Future;
use std::panic::Location;

use ::tokio::sync::{Semaphore, TryLockError};

use super::class::Held;
use super::mutex::Mutex;
use lockdep_report::Access;

/// A handle to a held [`Mutex`], `Send` so that it can be held across an `.await` (tokio's
/// `MutexGuard`). Dropping it releases the lock and ends the hold, on whichever task or
/// thread.
///
/// # Examples
///
/// ```
/// use lockdep::tokio::sync::Mutex;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mutex = Mutex::new(vec![1]);
/// let mut guard = mutex.lock().await;
/// guard.push(2);
/// assert_eq!(*guard, [1, 2]);
/// # }
/// ```
#[clippy::has_significant_drop]
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
    hold: Held,
}

/// A handle to a held [`Mutex`] that has had a function applied to it through
/// [`MutexGuard::map`]: a part of the data, the whole lock held.
///
/// # Examples
///
/// ```
/// use lockdep::tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pair = Mutex::new((1, 2));
/// let mut second: MappedMutexGuard<'_, i32> = MutexGuard::map(pair.lock().await, |p| &mut p.1);
/// *second += 1;
/// drop(second);
/// assert_eq!(*pair.lock().await, (1, 3));
/// # }
/// ```
#[clippy::has_significant_drop]
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MappedMutexGuard<'a, T: ?Sized> {
    s: &'a Semaphore,
    data: *mut T,
    hold: Held,
    marker: PhantomData<&'a mut T>,
}

// SAFETY: as tokio's: the guard gives `&T` (and `&mut T` through `&mut`), so sharing it needs
// `T: Sync`; the mutex it borrows is `Sync` when `T: Send`.
unsafe impl<T> Sync for MutexGuard<'_, T> where T: ?Sized + Send + Sync {}
// SAFETY: as tokio's: the mapped guard is `&mut T` with a release to do.
unsafe impl<'a, T> Sync for MappedMutexGuard<'a, T> where T: ?Sized + Sync + 'a {}
// SAFETY: as above.
unsafe impl<'a, T> Send for MappedMutexGuard<'a, T> where T: ?Sized + Send + 'a {}

impl<T: ?Sized> Mutex<T> {
    /// Locks this mutex, the current task yielding until the lock is acquired (tokio's
    /// `async fn lock`). The acquisition is validated when the future is first polled, at the
    /// caller's site, and held once it completes.
    ///
    /// # Cancel safety
    ///
    /// As tokio's: a queue distributes the lock fairly in the order of the requests, and
    /// cancelling a call loses its place. A cancelled call holds nothing.
    ///
    /// # Panics
    ///
    /// In `panic` mode, at its first poll, when this acquisition closes a cycle or takes a
    /// lock this context holds already.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Mutex;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mutex = Mutex::new(1);
    /// let mut n = mutex.lock().await;
    /// *n = 2;
    /// # }
    /// ```
    #[track_caller]
    pub fn lock(&self) -> impl Future<Output = MutexGuard<'_, T>> {
        let site = Location::caller();
        async move {
            let tried = self.s.try_acquire();
            let validated = match self.class.at_first_poll(tried, Access::Write, site) {
                Ok(held) => return MutexGuard::new(self, held),
                Err(validated) => validated,
            };
            Self::keep(self.s.acquire().await);
            MutexGuard::new(self, self.class.acquired(validated))
        }
    }

    /// Locks this mutex from a thread outside any asynchronous context, blocking it until the
    /// lock is acquired: a blocking acquisition, validated first.
    ///
    /// # Panics
    ///
    /// As tokio's, when called within an asynchronous execution context (the message is
    /// tokio's; the location it names is in lockdep, the backtrace has the caller). In
    /// `panic` mode, when this acquisition closes a cycle.
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
    /// let lock = mutex.lock().await;
    /// let mutex1 = Arc::clone(&mutex);
    /// let blocking_task = tokio::task::spawn_blocking(move || {
    ///     // This blocks the thread until the async task below releases the lock.
    ///     let mut n = mutex1.blocking_lock();
    ///     *n = 2;
    /// });
    /// assert_eq!(*lock, 1);
    /// drop(lock);
    /// blocking_task.await.unwrap();
    /// assert_eq!(*mutex.lock().await, 2);
    /// # }
    /// ```
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        let validated = self.class.validate(Access::Write, Location::caller());
        self.blocking_acquire();
        MutexGuard::new(self, self.class.acquired(validated))
    }

    /// Tries to lock this mutex without waiting: held once taken, with no dependency of its
    /// own (a try cannot deadlock).
    ///
    /// # Errors
    ///
    /// tokio's [`TryLockError`] when the mutex is locked.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Mutex;
    ///
    /// let mutex = Mutex::new(1);
    /// let n = mutex.try_lock().unwrap();
    /// assert_eq!(*n, 1);
    /// assert!(mutex.try_lock().is_err());
    /// ```
    #[track_caller]
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        self.try_acquire()?;
        let hold = self.class.tried(Access::Write, Location::caller());
        Ok(MutexGuard::new(self, hold))
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The guard of `lock`, whose permit was taken, and its hold.
    #[inline]
    pub(super) fn new(lock: &'a Mutex<T>, hold: Held) -> Self {
        MutexGuard { lock, hold }
    }

    /// The lock and the hold, the guard forgotten (it no longer releases).
    #[inline]
    fn into_parts(self) -> (&'a Mutex<T>, Held) {
        let mut me = ManuallyDrop::new(self);
        let hold = me.hold.take();
        (me.lock, hold)
    }

    /// A guard of a part of the data, the lock still held (the hold goes with it).
    ///
    /// An associated function, as tokio's: `MutexGuard::map(guard, …)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{Mutex, MutexGuard};
    ///
    /// #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    /// struct Foo(u32);
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let foo = Mutex::new(Foo(1));
    /// {
    ///     let mut mapped = MutexGuard::map(foo.lock().await, |f| &mut f.0);
    ///     *mapped = 2;
    /// }
    /// assert_eq!(Foo(2), *foo.lock().await);
    /// # }
    /// ```
    #[inline]
    pub fn map<U, F>(mut this: Self, f: F) -> MappedMutexGuard<'a, U>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = f(&mut *this) as *mut U;
        let (lock, hold) = this.into_parts();
        MappedMutexGuard {
            s: &lock.s,
            data,
            hold,
            marker: PhantomData,
        }
    }

    /// [`map`](MutexGuard::map) when `f` finds the part; else the guard back.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{Mutex, MutexGuard};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let list = Mutex::new(vec![1, 2]);
    /// let mut first = MutexGuard::try_map(list.lock().await, |l| l.first_mut())
    ///     .ok()
    ///     .unwrap();
    /// *first = 10;
    /// drop(first);
    /// let none = MutexGuard::try_map(list.lock().await, |l| l.get_mut(5));
    /// assert_eq!(*none.unwrap_err(), [10, 2]);
    /// # }
    /// ```
    #[inline]
    pub fn try_map<U, F>(mut this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data = match f(&mut *this) {
            Some(data) => data as *mut U,
            None => return Err(this),
        };
        let (lock, hold) = this.into_parts();
        Ok(MappedMutexGuard {
            s: &lock.s,
            data,
            hold,
            marker: PhantomData,
        })
    }

    /// The mutex this guard locks.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{Mutex, MutexGuard};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mutex = Mutex::new(0u32);
    /// let guard = mutex.lock().await;
    /// assert!(std::ptr::eq(MutexGuard::mutex(&guard), &mutex));
    /// # }
    /// ```
    #[inline]
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.lock
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.hold.end();
        self.lock.s.add_permits(1);
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &Self::Target {
        // SAFETY: the guard owns the mutex's one permit: no other access to the data.
        unsafe { &*self.lock.c.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Self::Target {
        // SAFETY: as for `deref`, and `&mut self` makes this the only reference through it.
        unsafe { &mut *self.lock.c.get() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<'a, T: ?Sized> MappedMutexGuard<'a, T> {
    /// The semaphore and the hold, the guard forgotten (it no longer releases).
    #[inline]
    fn into_parts(self) -> (&'a Semaphore, Held) {
        let mut me = ManuallyDrop::new(self);
        let hold = me.hold.take();
        (me.s, hold)
    }

    /// A guard of a part of this part, the lock still held.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let nested = Mutex::new(((1, 2), 3));
    /// let inner = MutexGuard::map(nested.lock().await, |n| &mut n.0);
    /// let mut second = MappedMutexGuard::map(inner, |i| &mut i.1);
    /// *second = 20;
    /// drop(second);
    /// assert_eq!(*nested.lock().await, ((1, 20), 3));
    /// # }
    /// ```
    #[inline]
    pub fn map<U, F>(mut this: Self, f: F) -> MappedMutexGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = f(&mut *this) as *mut U;
        let (s, hold) = this.into_parts();
        MappedMutexGuard {
            s,
            data,
            hold,
            marker: PhantomData,
        }
    }

    /// [`map`](MappedMutexGuard::map) when `f` finds the part; else the guard back.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lists = Mutex::new((vec![1], 0));
    /// let list = MutexGuard::map(lists.lock().await, |l| &mut l.0);
    /// let missing = MappedMutexGuard::try_map(list, |l| l.get_mut(3));
    /// assert_eq!(*missing.unwrap_err(), [1]);
    /// # }
    /// ```
    #[inline]
    pub fn try_map<U, F>(mut this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data = match f(&mut *this) {
            Some(data) => data as *mut U,
            None => return Err(this),
        };
        let (s, hold) = this.into_parts();
        Ok(MappedMutexGuard {
            s,
            data,
            hold,
            marker: PhantomData,
        })
    }
}

impl<T: ?Sized> Drop for MappedMutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.hold.end();
        self.s.add_permits(1);
    }
}

impl<T: ?Sized> Deref for MappedMutexGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &Self::Target {
        // SAFETY: `data` points into the data of a mutex whose permit this guard owns.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for MappedMutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Self::Target {
        // SAFETY: as for `deref`, and `&mut self` makes this the only reference through it.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MappedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MappedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
