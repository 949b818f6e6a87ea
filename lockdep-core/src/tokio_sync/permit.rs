//! [`SemaphorePermit`]: permits of a tokio-shaped [`Semaphore`], borrowed, and the
//! acquisitions that return them. A permit is a group of permits with one hold: merging two
//! drops the other's hold, splitting off some makes a hold for them.

use std::fmt;
use std::future::Future;
use std::mem;
use std::panic::Location;

use ::tokio::sync::{AcquireError, TryAcquireError};

use super::class::Held;
use super::semaphore::Semaphore;
use crate::hook::lock_map::untracked_scope;

/// Permits acquired from a [`Semaphore`] (tokio's `SemaphorePermit`), one group with one
/// hold: dropping it gives the permits back and ends the hold, on whichever task or thread.
///
/// # Examples
///
/// ```
/// use lockdep::tokio::sync::Semaphore;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let semaphore = Semaphore::new(2);
/// {
///     let permit = semaphore.acquire().await.unwrap();
///     assert_eq!(semaphore.available_permits(), 1);
///     # drop(permit);
/// }
/// assert_eq!(semaphore.available_permits(), 2);
/// # }
/// ```
#[must_use]
#[clippy::has_significant_drop]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    permits: usize,
    hold: Held,
}

impl Semaphore {
    /// Acquires a permit, the current task yielding until one is free (tokio's `async fn
    /// acquire`): validated at the first poll, at the caller's site, held once it completes.
    ///
    /// # Cancel safety
    ///
    /// As tokio's: a cancelled call loses its place in the queue, and holds nothing.
    ///
    /// # Errors
    ///
    /// tokio's [`AcquireError`] when the semaphore is closed.
    ///
    /// # Panics
    ///
    /// In `panic` mode, at its first poll, when this acquisition closes a cycle or this
    /// context holds a permit of the class already (pool recursion).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let semaphore = Semaphore::new(2);
    /// let permit = semaphore.acquire().await.unwrap();
    /// assert_eq!(semaphore.available_permits(), 1);
    /// # drop(permit);
    /// # }
    /// ```
    #[track_caller]
    pub fn acquire(&self) -> impl Future<Output = Result<SemaphorePermit<'_>, AcquireError>> {
        self.acquire_permit(1, Location::caller())
    }

    /// Acquires `n` permits as one group (one hold), the current task yielding until they
    /// are free. Validated at the first poll (`n == 0` never waits: not validated, nothing
    /// held).
    ///
    /// # Cancel safety
    ///
    /// As tokio's: a cancelled call loses its place in the queue, and holds nothing.
    ///
    /// # Errors
    ///
    /// tokio's [`AcquireError`] when the semaphore is closed.
    ///
    /// # Panics
    ///
    /// As [`acquire`](Semaphore::acquire); and as tokio's, when `n` is more than
    /// [`MAX_PERMITS`](Semaphore::MAX_PERMITS).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let semaphore = Semaphore::new(5);
    /// let permit = semaphore.acquire_many(3).await.unwrap();
    /// assert_eq!((permit.num_permits(), semaphore.available_permits()), (3, 2));
    /// # }
    /// ```
    #[track_caller]
    pub fn acquire_many(
        &self,
        n: u32,
    ) -> impl Future<Output = Result<SemaphorePermit<'_>, AcquireError>> {
        self.acquire_permit(n, Location::caller())
    }

    /// Takes `n` permits as a blocking acquisition at `site` (taken at once when they are
    /// free: validated and held in one step), held in this context; `n == 0` never waits: not
    /// validated, nothing held. The future of `acquire` and `acquire_many` itself, not one
    /// awaited in theirs: each layer of future adds its own state to what the caller moves.
    ///
    /// # Errors
    ///
    /// tokio's [`AcquireError`] when the semaphore is closed: nothing is held.
    async fn acquire_permit(
        &self,
        n: u32,
        site: &'static Location<'static>,
    ) -> Result<SemaphorePermit<'_>, AcquireError> {
        if n == 0 {
            self.ll_sem.acquire_many(0).await?.forget();
            return Ok(SemaphorePermit::new(self, 0, Held::NONE));
        }
        let validated = match self.at_first_poll(n, site) {
            Ok(held) => return Ok(SemaphorePermit::new(self, n as usize, held)),
            Err(validated) => validated,
        };
        self.ll_sem.acquire_many(n).await?.forget();
        let held = self.hold(Some(validated));
        Ok(SemaphorePermit::new(self, n as usize, held))
    }

    /// Tries to acquire a permit without waiting: held once taken, never validated or
    /// reported.
    ///
    /// # Errors
    ///
    /// tokio's [`TryAcquireError`]: `Closed`, or `NoPermits` when none is free.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{Semaphore, TryAcquireError};
    ///
    /// let semaphore = Semaphore::new(1);
    /// let permit = semaphore.try_acquire().unwrap();
    /// assert_eq!(semaphore.try_acquire().err(), Some(TryAcquireError::NoPermits));
    /// # drop(permit);
    /// ```
    #[track_caller]
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.ll_sem.try_acquire()?.forget();
        Ok(SemaphorePermit::new(self, 1, self.tried(1)))
    }

    /// Tries to acquire `n` permits as one group without waiting: held once taken, never
    /// validated or reported.
    ///
    /// # Errors
    ///
    /// tokio's [`TryAcquireError`]: `Closed`, or `NoPermits` when fewer than `n` are free.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    ///
    /// let semaphore = Semaphore::new(4);
    /// let permit = semaphore.try_acquire_many(3).unwrap();
    /// assert!(semaphore.try_acquire_many(2).is_err());
    /// assert_eq!(permit.num_permits(), 3);
    /// ```
    #[track_caller]
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.ll_sem.try_acquire_many(n)?.forget();
        Ok(SemaphorePermit::new(self, n as usize, self.tried(n)))
    }

    /// Acquires a permit from a thread outside any asynchronous context, blocking it until
    /// one is free: a blocking acquisition, validated first.
    ///
    /// # Errors
    ///
    /// tokio's [`AcquireError`] when the semaphore is closed.
    ///
    /// # Panics
    ///
    /// As tokio's, when called within an asynchronous execution context (tokio's message). In
    /// `panic` mode, as [`acquire`](Semaphore::acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    ///
    /// let semaphore = Semaphore::new(1);
    /// let permit = semaphore.blocking_acquire().unwrap();
    /// assert_eq!(semaphore.available_permits(), 0);
    /// drop(permit);
    /// assert_eq!(semaphore.available_permits(), 1);
    /// ```
    #[track_caller]
    pub fn blocking_acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        let validated = self.validate(1, Location::caller());
        untracked_scope(|| self.ll_sem.blocking_acquire())?.forget();
        Ok(SemaphorePermit::new(self, 1, self.hold(validated)))
    }

    /// Acquires `n` permits as one group from a thread outside any asynchronous context,
    /// blocking it until they are free.
    ///
    /// # Errors
    ///
    /// tokio's [`AcquireError`] when the semaphore is closed.
    ///
    /// # Panics
    ///
    /// As [`blocking_acquire`](Semaphore::blocking_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    ///
    /// let semaphore = Semaphore::new(5);
    /// let permit = semaphore.blocking_acquire_many(3).unwrap();
    /// assert_eq!(semaphore.available_permits(), 2);
    /// # drop(permit);
    /// ```
    #[track_caller]
    pub fn blocking_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        let validated = self.validate(n, Location::caller());
        untracked_scope(|| self.ll_sem.blocking_acquire_many(n))?.forget();
        Ok(SemaphorePermit::new(self, n as usize, self.hold(validated)))
    }
}

impl<'a> SemaphorePermit<'a> {
    /// A group of `permits` permits of `sem`, taken for good, and its hold.
    #[inline]
    pub(super) fn new(sem: &'a Semaphore, permits: usize, hold: Held) -> Self {
        SemaphorePermit { sem, permits, hold }
    }

    /// Forgets the permits: they are not given back to the semaphore (its capacity shrinks).
    /// The hold ends.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(10);
    /// sem.try_acquire_many(3).unwrap().forget();
    /// assert_eq!(sem.available_permits(), 7);
    /// ```
    pub fn forget(mut self) {
        self.hold.end();
        self.permits = 0;
    }

    /// Merges `other`'s permits into this group; `other`'s hold ends (this group's holds them
    /// all).
    ///
    /// # Panics
    ///
    /// As tokio's, when the permits are of different semaphores, or their number overflows.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// let mut permit = sem.try_acquire().unwrap();
    /// permit.merge(sem.try_acquire_many(2).unwrap());
    /// assert_eq!(permit.num_permits(), 3);
    /// ```
    #[track_caller]
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            std::ptr::eq(self.sem, other.sem),
            "merging permits from different semaphore instances"
        );
        let had = self.permits;
        self.permits = had
            .checked_add(other.permits)
            .expect("number of permits overflowed");
        join(&mut self.hold, had, &mut other.hold, other.permits);
        other.permits = 0;
    }

    /// Splits `n` permits off into a group of their own, `None` when this one has fewer. The
    /// new group is held as taken by a try at the caller's site (or takes this group's hold
    /// when it takes all its permits).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// let mut p1 = sem.try_acquire_many(3).unwrap();
    /// let p2 = p1.split(1).unwrap();
    /// assert_eq!((p1.num_permits(), p2.num_permits()), (2, 1));
    /// assert!(p1.split(5).is_none());
    /// ```
    #[track_caller]
    pub fn split(&mut self, n: usize) -> Option<Self> {
        if n > self.permits {
            return None;
        }
        self.permits -= n;
        let (sem, site) = (self.sem, Location::caller());
        let hold = split_hold(&mut self.hold, n, self.permits, || sem.tried_at(1, site));
        Some(SemaphorePermit {
            sem: self.sem,
            permits: n,
            hold,
        })
    }

    /// The semaphore these permits are of.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(1);
    /// let permit = sem.try_acquire().unwrap();
    /// assert!(std::ptr::eq(permit.semaphore(), &sem));
    /// ```
    pub fn semaphore(&self) -> &Semaphore {
        self.sem
    }

    /// The number of permits in this group.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(4);
    /// assert_eq!(sem.try_acquire_many(3).unwrap().num_permits(), 3);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }
}

/// Merges the hold of a group of `other_permits` permits (`other`) into the hold of a group
/// that `had` permits: one hold for both. A group without permits holds nothing, so an empty
/// group takes `other`'s hold; `other` keeps what is left, to end when it is dropped.
pub(super) fn join(hold: &mut Held, had: usize, other: &mut Held, other_permits: usize) {
    if had == 0 && other_permits != 0 {
        mem::swap(hold, other);
    }
}

/// The hold of `n` permits split off a group (`hold`, which keeps `left`): the group's own
/// hold when they are all of it, none for no permits, else a new one (`new_hold`, a try).
pub(super) fn split_hold(
    hold: &mut Held,
    n: usize,
    left: usize,
    new_hold: impl FnOnce() -> Held,
) -> Held {
    match (n, left) {
        (0, _) => Held::NONE,
        (_, 0) => hold.take(),
        _ => new_hold(),
    }
}

impl Drop for SemaphorePermit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.hold.end();
        self.sem.ll_sem.add_permits(self.permits);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    /// tokio's format: the semaphore and the number of permits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("sem", &self.sem)
            .field("permits", &self.permits)
            .finish()
    }
}
