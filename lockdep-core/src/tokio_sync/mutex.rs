//! `tokio::sync::Mutex`'s API over tokio's semaphore (one permit), validated by the checker:
//! the lock itself. Its acquisitions are with the guards they return (`mutex_guard`:
//! `lock`, `try_lock`, `blocking_lock`; `owned_mutex_guard`: the `_owned` ones), so that the
//! guards' modules depend on this one and not the other way round.

use crate::shape;
use std::cell::UnsafeCell;
use std::fmt;
use std::panic::Location;

use ::tokio::sync::{AcquireError, Semaphore, SemaphorePermit, TryLockError};

use super::class::AsyncClass;
use super::error::would_block;
use crate::hook::lock_map::untracked_scope;

/// An asynchronous mutual-exclusion lock with the API of [`tokio::sync::Mutex`], validated by
/// the checker.
///
/// Its class is its creation site (with the data type), as for
/// [`lockdep::Mutex`](crate::Mutex), and it takes part in the same dependency graph as every
/// blocking lock and pool: a task that holds it and takes another lock records that
/// dependency, and the opposite order taken anywhere else, by a task or a thread, is a
/// [`CircularDependency`](crate::ViolationKind::CircularDependency). Awaiting
/// [`lock`](Mutex::lock) is a blocking acquisition, validated when the future is first polled
/// (before it waits) and held once it completes; [`try_lock`](Mutex::try_lock) never waits and
/// records no dependency of its own. A guard ends its hold when it is dropped, on whichever
/// task or thread.
///
/// Like tokio's, it is fair (a queue of waiters), does not poison, and its guards are `Send`
/// so that they can be held across an `.await`. It is built as tokio builds its own: a
/// semaphore with one permit and the data. Built without the `enabled` feature,
/// `lockdep::tokio::sync::Mutex` is `tokio::sync::Mutex` itself.
///
/// # Examples
///
/// ```
/// use lockdep::tokio::sync::Mutex;
/// use std::sync::Arc;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let count = Arc::new(Mutex::new(0));
/// let tasks: Vec<_> = (0..4)
///     .map(|_| {
///         let count = Arc::clone(&count);
///         tokio::spawn(async move { *count.lock().await += 1 })
///     })
///     .collect();
/// for task in tasks {
///     task.await.unwrap();
/// }
/// assert_eq!(*count.lock().await, 4);
/// # }
/// ```
pub struct Mutex<T: ?Sized> {
    pub(super) class: AsyncClass,
    pub(super) s: Semaphore,
    pub(super) c: UnsafeCell<T>,
}

// SAFETY: as tokio's: the data is reached only through a guard, which the semaphore's one
// permit makes exclusive, so sharing or sending the mutex sends only `T`.
unsafe impl<T> Send for Mutex<T> where T: ?Sized + Send {}
// SAFETY: as above.
unsafe impl<T> Sync for Mutex<T> where T: ?Sized + Send {}

impl<T: ?Sized> Mutex<T> {
    /// A new unlocked mutex whose class is the caller's source location.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Mutex;
    ///
    /// let lock = Mutex::new(5);
    /// ```
    #[track_caller]
    pub fn new(t: T) -> Self
    where
        T: Sized,
    {
        Mutex {
            class: AsyncClass::lock::<shape::Mutex<T>>(Location::caller()),
            s: Semaphore::new(1),
            c: UnsafeCell::new(t),
        }
    }

    /// A new unlocked mutex, in a constant expression: its class is the caller's source
    /// location, as with [`new`](Mutex::new) (for a `static`, the static's).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Mutex;
    ///
    /// static LOCK: Mutex<i32> = Mutex::const_new(5);
    /// ```
    #[track_caller]
    pub const fn const_new(t: T) -> Self
    where
        T: Sized,
    {
        Mutex {
            class: AsyncClass::lock::<shape::Mutex<T>>(Location::caller()),
            s: Semaphore::const_new(1),
            c: UnsafeCell::new(t),
        }
    }

    /// Keeps for good the permit that awaiting the semaphore's `acquire` took (the guard gives
    /// it back). Applied to the awaited result rather than an `async fn` around the wait: a
    /// future of its own would add its state to every `lock` future, which is moved whole
    /// when awaited.
    pub(super) fn keep(acquired: Result<SemaphorePermit<'_>, AcquireError>) {
        match acquired {
            Ok(permit) => permit.forget(),
            Err(_) => unreachable!("the semaphore of a mutex is never closed"),
        }
    }

    /// Takes the semaphore's permit for good, blocking this thread: tokio's wait, as the
    /// primitive's own work (its first wait on a thread allocates the thread's parker).
    pub(super) fn blocking_acquire(&self) {
        match untracked_scope(|| self.s.blocking_acquire()) {
            Ok(permit) => permit.forget(),
            Err(_) => unreachable!("the semaphore of a mutex is never closed"),
        }
    }

    /// Takes the semaphore's permit for good if it is free now.
    pub(super) fn try_acquire(&self) -> Result<(), TryLockError> {
        match self.s.try_acquire() {
            Ok(permit) => {
                permit.forget();
                Ok(())
            }
            Err(_) => Err(would_block()),
        }
    }

    /// A mutable reference to the data: the `&mut` proves that no guard exists, so nothing
    /// is locked or checked.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Mutex;
    ///
    /// let mut mutex = Mutex::new(1);
    /// *mutex.get_mut() = 2;
    /// assert_eq!(mutex.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.c.get_mut()
    }

    /// Consumes the mutex, returning the data.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Mutex;
    ///
    /// let mutex = Mutex::new(1);
    /// assert_eq!(mutex.into_inner(), 1);
    /// ```
    pub fn into_inner(self) -> T
    where
        T: Sized,
    {
        self.c.into_inner()
    }
}

impl<T> From<T> for Mutex<T> {
    /// [`Mutex::new`], whose class is the site of this conversion.
    #[track_caller]
    fn from(s: T) -> Self {
        Self::new(s)
    }
}

impl<T> Default for Mutex<T>
where
    T: Default,
{
    /// [`Mutex::new`] of the default value, whose class is the caller's site.
    #[track_caller]
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for Mutex<T>
where
    T: fmt::Debug,
{
    /// tokio's format: the data, or `<locked>`. Looks through a try of the bare semaphore,
    /// which the checker does not see.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.s.try_acquire() {
            // SAFETY: the permit makes this the only access to the data while it lives.
            Ok(_permit) => d.field("data", &unsafe { &*self.c.get() }),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}
