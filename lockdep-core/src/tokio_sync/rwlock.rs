//! `tokio::sync::RwLock`'s API over tokio's semaphore (one permit per reader, all of them for
//! a writer), validated by the checker: a read is the kernel's non-recursive read, a write an
//! exclusive acquisition. This module is the lock itself; its acquisitions are with the
//! guards they return (`read_guard`: `read`, `try_read`, `blocking_read`; `write_guard`,
//! `owned_read_guard`, `owned_write_guard` likewise), so that the guards' modules depend on
//! this one and not the other way round.

use crate::shape;
use std::cell::UnsafeCell;
use std::fmt;
use std::panic::Location;

use ::tokio::sync::{AcquireError, Semaphore, SemaphorePermit, TryLockError};

use super::class::AsyncClass;
use super::error::would_block;
use crate::hook::lock_map::untracked_scope;

pub(super) mod owned_read_guard;
pub(super) mod owned_write_guard;
pub(super) mod owned_write_guard_mapped;
pub(super) mod read_guard;
pub(super) mod write_guard;
pub(super) mod write_guard_mapped;

/// tokio's limit on readers (a writer takes them all).
const MAX_READS: u32 = u32::MAX >> 3;

/// An asynchronous reader-writer lock with the API of [`tokio::sync::RwLock`], validated by
/// the checker.
///
/// Its class is its creation site (with the data type), and it takes part in the one
/// dependency graph of every lock, task or thread. tokio's lock is fair: a read waits behind
/// a waiting writer, so a read is the kernel's non-recursive read: a task that reads a lock
/// it already reads may deadlock with a writer in between, and is reported; two tasks that each read one lock and
/// then wait to write the other's close a cycle. Awaiting [`read`](RwLock::read) or
/// [`write`](RwLock::write) is a blocking acquisition, validated at the future's first poll
/// and held once it completes; the `try_*` calls never wait and record no dependency of their
/// own. A downgrade makes the hold shared (weaker: nothing new to validate).
///
/// Built without the `enabled` feature, `lockdep::tokio::sync::RwLock` is
/// `tokio::sync::RwLock` itself.
///
/// # Examples
///
/// ```
/// use lockdep::tokio::sync::RwLock;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let lock = RwLock::new(5);
/// {
///     let r1 = lock.read().await;
///     assert_eq!(*r1, 5);
/// }
/// {
///     let mut w = lock.write().await;
///     *w += 1;
///     assert_eq!(*w, 6);
/// }
/// # }
/// ```
pub struct RwLock<T: ?Sized> {
    /// The permits a writer takes: the most readers at once.
    mr: u32,
    class: AsyncClass,
    s: Semaphore,
    c: UnsafeCell<T>,
}

// SAFETY: as tokio's: sending the lock sends `T`.
unsafe impl<T> Send for RwLock<T> where T: ?Sized + Send {}
// SAFETY: as tokio's: readers share `&T` across threads (`T: Sync`), a writer's `&mut T` may
// be used on another thread than the data came from (`T: Send`).
unsafe impl<T> Sync for RwLock<T> where T: ?Sized + Send + Sync {}

impl<T: ?Sized> RwLock<T> {
    /// A new unlocked reader-writer lock whose class is the caller's source location.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::RwLock;
    ///
    /// let lock = RwLock::new(5);
    /// ```
    #[track_caller]
    pub fn new(value: T) -> RwLock<T>
    where
        T: Sized,
    {
        RwLock {
            mr: MAX_READS,
            class: AsyncClass::lock::<shape::RwLock<T>>(Location::caller()),
            s: Semaphore::new(MAX_READS as usize),
            c: UnsafeCell::new(value),
        }
    }

    /// A new unlocked reader-writer lock that lets at most `max_reads` readers in at once.
    ///
    /// # Panics
    ///
    /// As tokio's, when `max_reads` is 0 or more than `u32::MAX >> 3`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::RwLock;
    ///
    /// let lock = RwLock::with_max_readers(5, 1024);
    /// ```
    #[track_caller]
    pub fn with_max_readers(value: T, max_reads: u32) -> RwLock<T>
    where
        T: Sized,
    {
        assert_ne!(max_reads, 0, "a RwLock may not be created with 0 readers");
        assert!(
            max_reads <= MAX_READS,
            "a RwLock may not be created with more than {MAX_READS} readers"
        );
        RwLock {
            mr: max_reads,
            class: AsyncClass::lock::<shape::RwLock<T>>(Location::caller()),
            s: Semaphore::new(max_reads as usize),
            c: UnsafeCell::new(value),
        }
    }

    /// A new unlocked reader-writer lock, in a constant expression: its class is the caller's
    /// source location (for a `static`, the static's).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::RwLock;
    ///
    /// static LOCK: RwLock<i32> = RwLock::const_new(5);
    /// ```
    #[track_caller]
    pub const fn const_new(value: T) -> RwLock<T>
    where
        T: Sized,
    {
        RwLock {
            mr: MAX_READS,
            class: AsyncClass::lock::<shape::RwLock<T>>(Location::caller()),
            s: Semaphore::const_new(MAX_READS as usize),
            c: UnsafeCell::new(value),
        }
    }

    /// [`with_max_readers`](RwLock::with_max_readers) in a constant expression.
    ///
    /// # Panics
    ///
    /// As tokio's, when `max_reads` is 0 or more than `u32::MAX >> 3` (at compile time in a
    /// `static`).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::RwLock;
    ///
    /// static LOCK: RwLock<i32> = RwLock::const_with_max_readers(5, 1024);
    /// ```
    #[track_caller]
    pub const fn const_with_max_readers(value: T, max_reads: u32) -> RwLock<T>
    where
        T: Sized,
    {
        assert!(max_reads != 0, "a RwLock may not be created with 0 readers");
        assert!(max_reads <= MAX_READS);
        RwLock {
            mr: max_reads,
            class: AsyncClass::lock::<shape::RwLock<T>>(Location::caller()),
            s: Semaphore::const_new(max_reads as usize),
            c: UnsafeCell::new(value),
        }
    }

    /// A mutable reference to the data: the `&mut` proves that no guard exists, so nothing
    /// is locked or checked.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::RwLock;
    ///
    /// let mut lock = RwLock::new(1);
    /// *lock.get_mut() = 2;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.c.get_mut()
    }

    /// Consumes the lock, returning the data.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::RwLock;
    ///
    /// assert_eq!(RwLock::new(1).into_inner(), 1);
    /// ```
    pub fn into_inner(self) -> T
    where
        T: Sized,
    {
        self.c.into_inner()
    }

    /// Keeps for good the permits that awaiting the semaphore's `acquire_many` took (the guard
    /// gives them back), as `Mutex::keep` does: no future of its own in every acquisition's.
    fn keep(acquired: Result<SemaphorePermit<'_>, AcquireError>) {
        match acquired {
            Ok(permit) => permit.forget(),
            Err(_) => unreachable!("the semaphore of a RwLock is never closed"),
        }
    }

    /// Takes `n` permits for good, blocking this thread: tokio's wait, as the primitive's own
    /// work (its first wait on a thread allocates the thread's parker).
    fn blocking_acquire(&self, n: u32) {
        match untracked_scope(|| self.s.blocking_acquire_many(n)) {
            Ok(permit) => permit.forget(),
            Err(_) => unreachable!("the semaphore of a RwLock is never closed"),
        }
    }

    /// Takes `n` permits for good if they are free now.
    fn try_acquire(&self, n: u32) -> Result<(), TryLockError> {
        match self.s.try_acquire_many(n) {
            Ok(permit) => {
                permit.forget();
                Ok(())
            }
            Err(_) => Err(would_block()),
        }
    }
}

impl<T> From<T> for RwLock<T> {
    /// [`RwLock::new`], whose class is the site of this conversion.
    #[track_caller]
    fn from(s: T) -> Self {
        Self::new(s)
    }
}

impl<T> Default for RwLock<T>
where
    T: Default,
{
    /// [`RwLock::new`] of the default value, whose class is the caller's site.
    #[track_caller]
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for RwLock<T>
where
    T: fmt::Debug,
{
    /// tokio's format: the data, or `<locked>` while a writer holds the lock or waits for it.
    /// Looks through a try of the bare semaphore, which the checker does not see.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.s.try_acquire() {
            // SAFETY: the permit keeps writers out while the data is read.
            Ok(_permit) => d.field("data", &unsafe { &*self.c.get() }),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}
