//! [`OwnedSemaphorePermit`]: permits of a tokio-shaped [`Semaphore`] through an `Arc`, and
//! the acquisitions that return them; one hold per group, as a [`SemaphorePermit`]'s.
//!
//! [`SemaphorePermit`]: super::permit::SemaphorePermit

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::sync::Arc;

use ::tokio::sync::{AcquireError, TryAcquireError};

use super::class::Held;
use super::permit::{join, split_hold};
use super::semaphore::Semaphore;
use crate::hook::lock_map::untracked_scope;

/// Permits acquired from a [`Semaphore`] through an `Arc` (tokio's `OwnedSemaphorePermit`),
/// `'static`: dropping it gives the permits back and ends the hold, on whichever task or
/// thread.
///
/// # Examples
///
/// ```
/// use lockdep::tokio::sync::Semaphore;
/// use std::sync::Arc;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let semaphore = Arc::new(Semaphore::new(1));
/// let permit = semaphore.clone().acquire_owned().await.unwrap();
/// tokio::spawn(async move { drop(permit) }).await.unwrap(); // given back by the task
/// assert_eq!(semaphore.available_permits(), 1);
/// # }
/// ```
#[must_use]
#[clippy::has_significant_drop]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    permits: usize,
    hold: Held,
}

impl Semaphore {
    /// [`acquire`](Semaphore::acquire) through an `Arc`, returning an owned permit.
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
    /// As [`acquire`](Semaphore::acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let semaphore = Arc::new(Semaphore::new(3));
    /// let permit = semaphore.clone().acquire_owned().await.unwrap();
    /// tokio::spawn(async move {
    ///     // ... the work ...
    ///     drop(permit); // released in the task
    /// })
    /// .await
    /// .unwrap();
    /// assert_eq!(semaphore.available_permits(), 3);
    /// # }
    /// ```
    ///
    /// The permit is held by the task that acquired it until it is dropped, wherever it
    /// went meanwhile: a task that hands permits to tasks it spawns and awaits the next
    /// permit (tokio's own example of this method) is reported as pool recursion, as a
    /// thread that hands mempool elements on without `hand_off` is.
    ///
    /// ```text
    /// for _ in 0..5 {
    ///     let permit = semaphore.clone().acquire_owned().await.unwrap(); // reported
    ///     tokio::spawn(async move { drop(permit) });
    /// }
    /// ```
    #[track_caller]
    pub fn acquire_owned(
        self: Arc<Self>,
    ) -> impl Future<Output = Result<OwnedSemaphorePermit, AcquireError>> {
        let site = Location::caller();
        async move {
            let validated = self.validate(1, site);
            self.ll_sem.acquire().await?.forget();
            let hold = self.handed_over(validated);
            Ok(OwnedSemaphorePermit::new(self, 1, hold))
        }
    }

    /// [`acquire_many`](Semaphore::acquire_many) through an `Arc`, returning an owned permit.
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
    /// As [`acquire_many`](Semaphore::acquire_many).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let semaphore = Arc::new(Semaphore::new(10));
    /// let permit = semaphore.clone().acquire_many_owned(4).await.unwrap();
    /// assert_eq!((permit.num_permits(), semaphore.available_permits()), (4, 6));
    /// # }
    /// ```
    #[track_caller]
    pub fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> impl Future<Output = Result<OwnedSemaphorePermit, AcquireError>> {
        let site = Location::caller();
        async move {
            let validated = self.validate(n, site);
            self.ll_sem.acquire_many(n).await?.forget();
            let hold = self.handed_over(validated);
            Ok(OwnedSemaphorePermit::new(self, n as usize, hold))
        }
    }

    /// [`try_acquire`](Semaphore::try_acquire) through an `Arc`, returning an owned permit.
    ///
    /// # Errors
    ///
    /// tokio's [`TryAcquireError`]: `Closed`, or `NoPermits` when none is free.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(Semaphore::new(1));
    /// let permit = semaphore.clone().try_acquire_owned().unwrap();
    /// assert!(semaphore.clone().try_acquire_owned().is_err());
    /// # drop(permit);
    /// ```
    #[track_caller]
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.ll_sem.try_acquire()?.forget();
        let hold = Held::NONE; // owned: held by nobody (see `AsyncClass::handed_over`)
        Ok(OwnedSemaphorePermit::new(self, 1, hold))
    }

    /// [`try_acquire_many`](Semaphore::try_acquire_many) through an `Arc`, returning an owned
    /// permit.
    ///
    /// # Errors
    ///
    /// tokio's [`TryAcquireError`]: `Closed`, or `NoPermits` when fewer than `n` are free.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(Semaphore::new(4));
    /// let permit = semaphore.clone().try_acquire_many_owned(3).unwrap();
    /// assert_eq!(semaphore.available_permits(), 1);
    /// # drop(permit);
    /// ```
    #[track_caller]
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.ll_sem.try_acquire_many(n)?.forget();
        let hold = Held::NONE; // owned: held by nobody (see `AsyncClass::handed_over`)
        Ok(OwnedSemaphorePermit::new(self, n as usize, hold))
    }

    /// [`blocking_acquire`](Semaphore::blocking_acquire) through an `Arc`, returning an owned
    /// permit.
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
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(Semaphore::new(1));
    /// let permit = semaphore.clone().blocking_acquire_owned().unwrap();
    /// assert_eq!(semaphore.available_permits(), 0);
    /// # drop(permit);
    /// ```
    #[track_caller]
    pub fn blocking_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        let validated = self.validate(1, Location::caller());
        untracked_scope(|| self.ll_sem.blocking_acquire())?.forget();
        let hold = self.handed_over(validated);
        Ok(OwnedSemaphorePermit::new(self, 1, hold))
    }

    /// [`blocking_acquire_many`](Semaphore::blocking_acquire_many) through an `Arc`,
    /// returning an owned permit.
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
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(Semaphore::new(5));
    /// let permit = semaphore.clone().blocking_acquire_many_owned(3).unwrap();
    /// assert_eq!(semaphore.available_permits(), 2);
    /// # drop(permit);
    /// ```
    #[track_caller]
    pub fn blocking_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        let validated = self.validate(n, Location::caller());
        untracked_scope(|| self.ll_sem.blocking_acquire_many(n))?.forget();
        let hold = self.handed_over(validated);
        Ok(OwnedSemaphorePermit::new(self, n as usize, hold))
    }
}

impl OwnedSemaphorePermit {
    /// A group of `permits` permits of `sem`, taken for good, and its hold.
    #[inline]
    pub(super) fn new(sem: Arc<Semaphore>, permits: usize, hold: Held) -> Self {
        OwnedSemaphorePermit { sem, permits, hold }
    }

    /// Forgets the permits: they are not given back to the semaphore (its capacity shrinks).
    /// The hold ends.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(Semaphore::new(10));
    /// sem.clone().try_acquire_many_owned(3).unwrap().forget();
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
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(Semaphore::new(3));
    /// let mut permit = sem.clone().try_acquire_owned().unwrap();
    /// permit.merge(sem.clone().try_acquire_many_owned(2).unwrap());
    /// assert_eq!(permit.num_permits(), 3);
    /// ```
    #[track_caller]
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            Arc::ptr_eq(&self.sem, &other.sem),
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
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(Semaphore::new(3));
    /// let mut p1 = sem.clone().try_acquire_many_owned(3).unwrap();
    /// let p2 = p1.split(2).unwrap();
    /// assert_eq!((p1.num_permits(), p2.num_permits()), (1, 2));
    /// ```
    #[track_caller]
    pub fn split(&mut self, n: usize) -> Option<Self> {
        if n > self.permits {
            return None;
        }
        self.permits -= n;
        let (sem, site) = (&self.sem, Location::caller());
        let hold = split_hold(&mut self.hold, n, self.permits, || sem.tried_at(1, site));
        Some(OwnedSemaphorePermit {
            sem: Arc::clone(&self.sem),
            permits: n,
            hold,
        })
    }

    /// The `Arc` of the semaphore these permits are of.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(Semaphore::new(1));
    /// let permit = sem.clone().try_acquire_owned().unwrap();
    /// assert!(Arc::ptr_eq(permit.semaphore(), &sem));
    /// ```
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }

    /// The number of permits in this group.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    /// use std::sync::Arc;
    ///
    /// let sem = Arc::new(Semaphore::new(4));
    /// assert_eq!(sem.try_acquire_many_owned(3).unwrap().num_permits(), 3);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }
}

impl Drop for OwnedSemaphorePermit {
    #[inline]
    fn drop(&mut self) {
        self.hold.end();
        self.sem.ll_sem.add_permits(self.permits);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    /// tokio's format: the semaphore and the number of permits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("sem", &self.sem)
            .field("permits", &self.permits)
            .finish()
    }
}
