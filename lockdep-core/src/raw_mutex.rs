//! The raw mutex that reports to the checker: `lockdep-raw`'s [`RawMutex`] plus a lock map.
//! It implements `lock_api`'s raw traits, so `lock_api` supplies the guard API (map,
//! mapped guards, unlocked, bump); [`Mutex`](crate::Mutex) adds creation-site classes and
//! acquisition sites on top.
//!
//! Its methods are inlined only without debug assertions: in a test build they run out of
//! line, as this crate was compiled (see `LockMap::acquisition` for why).

use std::panic::Location;
use std::time::{Duration, Instant};

use lock_api::RawMutex as _;

use crate::hook::checked::Checked;
use crate::hook::lock_map::{untracked_scope, LockMap};
use lockdep_report::Access;

/// The guards' `Send`-ness. Not `Send` by default, as parking_lot's. With the `send_guard`
/// feature (parking_lot's), guards are `Send`: a guard released on another thread ends the
/// hold of the thread that took it (posted to it, for an exclusive hold; a shared hold sent
/// away stays with its reader), and a thread that exits while a guard it sent away lives on
/// is judged at process exit, when that guard has been dropped or leaked.
#[cfg(not(feature = "send_guard"))]
pub(crate) type GuardMarker = lock_api::GuardNoSend;
/// See the other definition.
#[cfg(feature = "send_guard")]
pub(crate) type GuardMarker = lock_api::GuardSend;

/// A raw mutex checked by lockdep: what [`Mutex`](crate::Mutex) is built on, for code that
/// uses `lock_api::Mutex<lockdep::RawMutex, T>` directly.
///
/// Every acquisition through the `lock_api` traits is validated and held, and every release
/// leaves the held stack. Its class comes from the [`Mutex`](crate::Mutex) constructor that
/// made it; one made by `lock_api`'s `INIT` (e.g. `lock_api::Mutex::new`) has no creation
/// site, so it has no class and is not checked.
///
/// # Examples
///
/// ```
/// let m = lockdep::Mutex::new(1);
/// let guard = m.lock();
/// // lock_api's guard API comes with it:
/// let mapped = lockdep::MutexGuard::map(guard, |v| v);
/// assert_eq!(*mapped, 1);
/// ```
#[cfg_attr(not(feature = "enabled"), repr(transparent))]
#[derive(Debug)]
pub struct RawMutex {
    lock: Checked<lockdep_raw::RawMutex>,
}

impl RawMutex {
    /// An unlocked raw mutex of the class `map` names.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) const fn with_map(map: LockMap) -> RawMutex {
        RawMutex {
            lock: Checked::new(lockdep_raw::RawMutex::INIT, map),
        }
    }

    /// This raw mutex, of the class of `site` if it has none (one made by `INIT`, given to a
    /// typed mutex's `const_new` or `from_raw`).
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) const fn or_site<T: ?Sized>(mut self, site: &'static Location<'static>) -> RawMutex {
        // In place: a lock is not taken apart in a `const fn` (it has a destructor).
        self.lock.map = self.lock.map.or_site::<T>(site);
        self
    }

    /// A blocking acquisition as nesting subclass `subclass`, at `site`.
    ///
    /// The fast path's closures are always inlined: in an unoptimised build each would be a
    /// call of its own, on every lock and unlock.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(crate) fn lock_at(&self, subclass: u32, site: &'static Location<'static>) {
        self.lock.acquire(
            subclass,
            Access::Write,
            site,
            #[inline(always)]
            |r| r.try_lock_fast(),
            |r| {
                r.lock_contended();
                true
            },
            // SAFETY: called right after `try_lock_fast` took it.
            #[inline(always)]
            |r| unsafe { r.unlock() },
        );
    }

    /// A blocking acquisition at `site` under the nest lock `outer` (this crate's raw mutex or
    /// rwlock, at that address; see `LockMap::acquire_under`).
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn lock_under_at(&self, outer: usize, site: &'static Location<'static>) {
        self.lock.acquire_under(
            outer,
            Access::Write,
            site,
            |r| r.try_lock(),
            |r| {
                r.lock();
                true
            },
        );
    }

    /// The address that names this lock on held stacks.
    #[inline]
    pub(crate) fn instance(&self) -> usize {
        self.lock.instance()
    }

    /// [`unlock`](lock_api::RawMutex::unlock) with its checking out of line in an optimised
    /// build, for `lockdep::sync`'s guard: the compiler inlines that guard's drop glue
    /// (poisoning, then the release) only while it is small, and a guard dropped out of line
    /// lives in memory, stored before the next acquisition's atomic exchange, which waits for
    /// the stores (callgrind, a `lockdep::sync::Mutex` nest with the mode off: 91
    /// instructions so, 113 with the whole release in the glue, 101 with the whole unlock out
    /// of line). The lock_api guards' unlock stays inline.
    ///
    /// # Safety
    ///
    /// As `unlock`'s: this thread holds the lock.
    #[cfg(feature = "enabled")]
    #[inline(always)]
    pub(crate) unsafe fn unlock_apart(&self) {
        // SAFETY: the caller's.
        self.lock.release_apart(
            #[inline(always)]
            |r| unsafe { r.unlock() },
        );
    }

    /// A try-acquisition at `site`.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn try_lock_at(&self, site: &'static Location<'static>) -> bool {
        self.lock.try_acquire(Access::Write, site, |r| r.try_lock())
    }

    /// A timed acquisition at `site`: validated like a blocking one (a timed wait in a
    /// deadlock is a stall).
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn try_lock_until_at(
        &self,
        deadline: Instant,
        site: &'static Location<'static>,
    ) -> bool {
        self.lock.acquire(
            0,
            Access::Write,
            site,
            |r| r.try_lock_fast(),
            |r| r.lock_contended_until(deadline),
            // SAFETY: called right after `try_lock_fast` took it.
            |r| unsafe { r.unlock() },
        )
    }

    /// Records the dependencies of `lock()` at `site` without taking the lock.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn might_lock_at(&self, site: &'static Location<'static>) {
        self.lock.might_acquire(Access::Write, site);
    }

    /// Runs `wait`, which releases this (locked) mutex and takes it again, a wait for the
    /// event of `event` at `site`: the hold is off the held stack meanwhile, the wait is
    /// validated with what else is held, and the mutex is validated and held again after.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn around_wait<R>(
        &self,
        event: &LockMap,
        site: &'static Location<'static>,
        wait: impl FnOnce(&lockdep_raw::RawMutex) -> R,
    ) -> R {
        let lock = &self.lock;
        lock.map.around_wait(lock.instance(), site, || {
            event.wait_event(site, || untracked_scope(|| wait(&lock.raw)))
        })
    }

    /// Panics unless this thread holds this mutex (when checking).
    #[track_caller]
    pub(crate) fn assert_held(&self) {
        self.lock.assert_held();
    }

    /// Panics if this thread holds this mutex (when checking).
    #[track_caller]
    pub(crate) fn assert_not_held(&self) {
        self.lock.assert_not_held();
    }
}

// SAFETY: mutual exclusion is `lockdep_raw::RawMutex`'s, whose every operation is forwarded
// unchanged; the checker's bookkeeping around them touches only this thread's held stack.
unsafe impl lock_api::RawMutex for RawMutex {
    const INIT: RawMutex = RawMutex::with_map(LockMap::unkeyed(crate::ClassKind::Lock));
    type GuardMarker = GuardMarker;

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn lock(&self) {
        self.lock_at(0, Location::caller());
    }

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock(&self) -> bool {
        self.try_lock_at(Location::caller())
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock(&self) {
        // SAFETY: the caller holds the lock (this trait method's contract). Always inlined, as
        // `lock_at`'s closures.
        self.lock.release(
            #[inline(always)]
            |r| unsafe { r.unlock() },
        );
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn is_locked(&self) -> bool {
        self.lock.raw.is_locked()
    }
}

// SAFETY: as for `RawMutex`: forwarded to `lockdep_raw::RawMutex`.
unsafe impl lock_api::RawMutexFair for RawMutex {
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_fair(&self) {
        // SAFETY: the caller holds the lock. Always inlined, as `lock_at`'s closures.
        self.lock.release(
            #[inline(always)]
            |r| unsafe { r.unlock_fair() },
        );
    }

    /// For the checker a bump is an unlock and a lock (a re-lock, validated as one).
    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn bump(&self) {
        // SAFETY: the caller holds the lock.
        self.lock
            .bump(Access::Write, Location::caller(), |r| unsafe { r.bump() });
    }
}

// SAFETY: as for `RawMutex`: forwarded to `lockdep_raw::RawMutex`.
unsafe impl lock_api::RawMutexTimed for RawMutex {
    type Duration = Duration;
    type Instant = Instant;

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_for(&self, timeout: Duration) -> bool {
        self.try_lock_until_at(deadline(timeout), Location::caller())
    }

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_until(&self, deadline: Instant) -> bool {
        self.try_lock_until_at(deadline, Location::caller())
    }
}

/// A raw mutex of this crate: [`RawMutex`] or [`RawFairMutex`](crate::RawFairMutex), the
/// second parameter of [`Mutex`](crate::Mutex). Sealed: the typed mutex reaches the checker
/// through it.
///
/// # Examples
///
/// ```
/// fn is_checked<R: lockdep::CheckedRawMutex>() {}
/// is_checked::<lockdep::RawMutex>();
/// is_checked::<lockdep::RawFairMutex>();
/// ```
pub trait CheckedRawMutex:
    lock_api::RawMutexFair + lock_api::RawMutexTimed<Duration = Duration, Instant = Instant> + Sealed
{
    /// The checked raw mutex inside (for the checker; fair or not only matters on unlock).
    #[doc(hidden)]
    fn checked(&self) -> &RawMutex;
}

impl CheckedRawMutex for RawMutex {
    // Always: called from the typed mutex's generic methods, in the caller's crate.
    #[inline(always)]
    fn checked(&self) -> &RawMutex {
        self
    }
}

/// Seals [`CheckedRawMutex`]: only this crate's raw mutexes carry a lock map.
pub trait Sealed {}
impl Sealed for RawMutex {}

/// `now + timeout`, saturating far in the future.
#[inline]
pub(crate) fn deadline(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(60 * 60 * 24 * 365 * 100))
}
