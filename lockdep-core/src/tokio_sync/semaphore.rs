//! `tokio::sync::Semaphore`'s API over tokio's own, validated by the checker: the semaphore
//! is a counted class, as a mempool is. This module is the semaphore itself; its
//! acquisitions are with the permits they return (`permit`: `acquire`, `try_acquire`,
//! `blocking_acquire` and their `_many`; `owned_permit`: the `_owned` ones), so that the
//! permits' modules depend on this one and not the other way round.

use std::fmt;
use std::panic::Location;

use super::class::Held;
use super::class::{AsyncClass, Validated};
use lockdep_report::Access;

/// A counting semaphore with the API of [`tokio::sync::Semaphore`], validated by the checker.
///
/// Its class is its creation site, and a counted one ([`ClassKind::Pool`](crate::ClassKind),
/// as a mempool's): the permits a task or thread holds are one held entry of the class. Awaiting a permit is a
/// blocking acquisition, validated when the future is first polled and held once it
/// completes: awaiting one while holding a lock records `lock → semaphore`, taking a lock
/// while holding a permit records `semaphore → lock`, and a cycle through the two is a
/// [`CircularDependency`](crate::ViolationKind::CircularDependency). Awaiting a permit while
/// holding one of the same class is [`PoolRecursion`](crate::ViolationKind::PoolRecursion):
/// when every permit is held so, all their holders wait for one another. The `try_*` calls
/// never wait and never report; what they take is held. A permit ends its hold when it is
/// dropped or forgotten, on whichever task or thread.
///
/// Built without the `enabled` feature, `lockdep::tokio::sync::Semaphore` is
/// `tokio::sync::Semaphore` itself.
///
/// # Examples
///
/// ```
/// use lockdep::tokio::sync::{Semaphore, TryAcquireError};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let semaphore = Semaphore::new(3);
/// let two_permits = semaphore.acquire_many(2).await.unwrap();
/// let a_permit = semaphore.try_acquire().unwrap(); // a try: never waits
/// assert_eq!(semaphore.available_permits(), 0);
/// let permit_attempt = semaphore.try_acquire();
/// assert_eq!(permit_attempt.err(), Some(TryAcquireError::NoPermits));
/// // Awaiting one more while holding these would be reported as pool recursion: three tasks
/// // that each held one permit and awaited two more would wait for one another.
/// # drop((a_permit, two_permits));
/// # }
/// ```
pub struct Semaphore {
    class: AsyncClass,
    pub(super) ll_sem: ::tokio::sync::Semaphore,
}

impl Semaphore {
    /// The most permits a semaphore can hold (tokio's).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    ///
    /// assert_eq!(Semaphore::MAX_PERMITS, tokio::sync::Semaphore::MAX_PERMITS);
    /// ```
    pub const MAX_PERMITS: usize = ::tokio::sync::Semaphore::MAX_PERMITS;

    /// A new semaphore with `permits` permits, whose class is the caller's source location.
    ///
    /// # Panics
    ///
    /// As tokio's, when `permits` is more than [`MAX_PERMITS`](Semaphore::MAX_PERMITS).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    ///
    /// let semaphore = Semaphore::new(3);
    /// assert_eq!(semaphore.available_permits(), 3);
    /// ```
    #[track_caller]
    pub fn new(permits: usize) -> Self {
        Semaphore {
            class: AsyncClass::semaphore(Location::caller()),
            ll_sem: ::tokio::sync::Semaphore::new(permits),
        }
    }

    /// A new semaphore, in a constant expression: its class is the caller's source location
    /// (for a `static`, the static's).
    ///
    /// # Panics
    ///
    /// As tokio's, when `permits` is more than [`MAX_PERMITS`](Semaphore::MAX_PERMITS).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    ///
    /// static SEM: Semaphore = Semaphore::const_new(10);
    /// assert_eq!(SEM.available_permits(), 10);
    /// ```
    #[track_caller]
    pub const fn const_new(permits: usize) -> Self {
        Semaphore {
            class: AsyncClass::semaphore(Location::caller()),
            ll_sem: ::tokio::sync::Semaphore::const_new(permits),
        }
    }

    /// The number of permits available now.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    ///
    /// let semaphore = Semaphore::new(2);
    /// let permit = semaphore.try_acquire().unwrap();
    /// assert_eq!(semaphore.available_permits(), 1);
    /// # drop(permit);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.ll_sem.available_permits()
    }

    /// Adds `n` new permits (waking waiters). Nothing is held or released for the checker:
    /// the permits are new.
    ///
    /// # Panics
    ///
    /// As tokio's, when the permits would be more than [`MAX_PERMITS`](Semaphore::MAX_PERMITS).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    ///
    /// let semaphore = Semaphore::new(0);
    /// semaphore.add_permits(2);
    /// assert_eq!(semaphore.available_permits(), 2);
    /// ```
    pub fn add_permits(&self, n: usize) {
        self.ll_sem.add_permits(n);
    }

    /// Takes up to `n` available permits away for good, returning how many.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    ///
    /// let semaphore = Semaphore::new(3);
    /// assert_eq!(semaphore.forget_permits(5), 3);
    /// assert_eq!(semaphore.available_permits(), 0);
    /// ```
    pub fn forget_permits(&self, n: usize) -> usize {
        self.ll_sem.forget_permits(n)
    }

    /// Closes the semaphore: no more permits are issued, and the waiters get an
    /// [`AcquireError`](::tokio::sync::AcquireError). Permits already held stay valid (and
    /// held).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{Semaphore, TryAcquireError};
    ///
    /// let semaphore = Semaphore::new(1);
    /// semaphore.close();
    /// assert_eq!(semaphore.try_acquire().err(), Some(TryAcquireError::Closed));
    /// ```
    pub fn close(&self) {
        self.ll_sem.close();
    }

    /// True when the semaphore is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::Semaphore;
    ///
    /// let semaphore = Semaphore::new(1);
    /// semaphore.close();
    /// assert!(semaphore.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.ll_sem.is_closed()
    }

    /// Validates an acquisition of `n` permits at `site` (none for `n == 0`, which never
    /// waits).
    #[inline]
    pub(super) fn validate(&self, n: u32, site: &'static Location<'static>) -> Option<Validated> {
        (n != 0).then(|| self.class.validate(Access::Write, site))
    }

    /// The first poll of a blocking acquisition of `n` permits (at least one) at `site`: a
    /// try, the permits it took validated and held at once (`Ok`); else the acquisition
    /// validated, for the caller to wait and then hold it with [`hold`](Semaphore::hold) (see
    /// `AsyncClass::at_first_poll`).
    #[inline]
    pub(super) fn at_first_poll(
        &self,
        n: u32,
        site: &'static Location<'static>,
    ) -> Result<Held, Validated> {
        let tried = self.ll_sem.try_acquire_many(n);
        self.class.at_first_poll(tried, Access::Write, site)
    }

    /// The hold of a validated acquisition that succeeded.
    #[inline]
    pub(super) fn hold(&self, validated: Option<Validated>) -> Held {
        validated.map_or(Held::NONE, |validated| self.class.acquired(validated))
    }

    /// The hold of a validated acquisition of owned permits: none (see
    /// `AsyncClass::handed_over`).
    #[inline]
    pub(super) fn handed_over(&self, validated: Option<Validated>) -> Held {
        validated.map_or(Held::NONE, |validated| self.class.handed_over(validated))
    }

    /// The hold of a try that took `n` permits, at the caller's site.
    #[track_caller]
    #[inline]
    pub(super) fn tried(&self, n: u32) -> Held {
        self.tried_at(n, Location::caller())
    }

    /// The hold of a try that took `n` permits at `site` (none for no permits).
    #[inline]
    pub(super) fn tried_at(&self, n: u32, site: &'static Location<'static>) -> Held {
        match n {
            0 => Held::NONE,
            _ => self.class.tried(Access::Write, site),
        }
    }
}

impl fmt::Debug for Semaphore {
    /// tokio's format (the class is not shown).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.ll_sem, f)
    }
}
