//! The raw reader-writer lock that reports to the checker: `lockdep-raw`'s [`RawRwLock`] plus
//! a lock map. It implements `lock_api`'s raw traits, so `lock_api` supplies the guard API
//! (map, upgradable reads, downgrade, bump); [`RwLock`](crate::RwLock) adds creation-site
//! classes and acquisition sites on top.
//!
//! How each way in is held, in the kernel's terms:
//! - `write`: exclusive;
//! - `read`: a non-recursive read (it queues behind a waiting writer);
//! - `read_recursive`: a recursive read (never waits behind a writer while readers hold it);
//! - `upgradable_read`: a non-recursive read. It excludes writers and other upgradable
//!   readers, and queues behind a waiting writer, so a cycle through it is a deadlock exactly
//!   when one through a `read` is; two upgradable reads of one class on one thread are
//!   reported as recursive locking, which they are. As it may wait for another upgradable
//!   read, a blocking one counts as a writer for the rule on reads of classes nobody writes
//!   (`book/src/rules.md`).
//! - `upgrade`: an exclusive acquisition with the read hold set aside, as it waits for the
//!   other readers; `downgrade` turns the hold into a read.
//!
//! Its methods are inlined only without debug assertions: in a test build they run out of
//! line, as this crate was compiled (see `LockMap::acquisition` for why).

use std::panic::Location;
use std::time::{Duration, Instant};

use lock_api::{RawRwLock as _, RawRwLockRecursive as _, RawRwLockUpgrade as _};

use lockdep_raw::RwRequest;

use crate::hook::checked::Checked;
use crate::hook::lock_map::LockMap;
use crate::raw_mutex::{deadline, GuardMarker};
use lockdep_report::Access;

/// A raw reader-writer lock checked by lockdep: what [`RwLock`](crate::RwLock) is built on.
///
/// # Examples
///
/// ```
/// use lockdep::{RwLock, RwLockUpgradableReadGuard};
/// let l = RwLock::new(1);
/// let up = l.upgradable_read();
/// let mut w = RwLockUpgradableReadGuard::upgrade(up);
/// *w += 1;
/// assert_eq!(*lockdep::RwLockWriteGuard::downgrade(w), 2);
/// ```
///
/// `RECURSIVE` (parking_lot 0.13's `RawRwLock<RECURSIVE>`): every shared acquisition is a
/// recursive read (`lock_shared` is `lock_shared_recursive`), as [`RawRwLockRecursive`].
#[cfg_attr(not(feature = "enabled"), repr(transparent))]
#[derive(Debug)]
pub struct RawRwLock<const RECURSIVE: bool = false> {
    lock: Checked<lockdep_raw::RawRwLock>,
}

/// A raw reader-writer lock whose every shared acquisition is a recursive read: what
/// [`RecursiveRwLock`](crate::RecursiveRwLock) is built on (parking_lot 0.13's).
pub type RawRwLockRecursive = RawRwLock<true>;

/// Releases the hold that `try_lock_fast(request)` just took: a blocking acquisition tried
/// first gives it back when it is to be validated before it may block (see
/// `Checked::acquire`).
///
/// # Safety
///
/// This thread holds `raw` as `request` took it.
#[inline(always)]
unsafe fn untake(raw: &lockdep_raw::RawRwLock, request: RwRequest) {
    // SAFETY: the caller holds it so.
    unsafe {
        match request {
            RwRequest::Exclusive => raw.unlock_exclusive(),
            RwRequest::Upgradable => raw.unlock_upgradable(),
            RwRequest::Shared | RwRequest::SharedRecursive => raw.unlock_shared(),
        }
    }
}

impl<const RECURSIVE: bool> RawRwLock<RECURSIVE> {
    /// [`unlock_shared`](lock_api::RawRwLock::unlock_shared) with its checking out of line
    /// in an optimised build, for `lockdep::sync`'s guards (see `RawMutex::unlock_apart`).
    ///
    /// # Safety
    ///
    /// As `unlock_shared`'s: this thread holds the lock shared.
    #[cfg(feature = "enabled")]
    #[inline(always)]
    pub(crate) unsafe fn unlock_shared_apart(&self) {
        // SAFETY: the caller's.
        self.lock.release_apart(
            #[inline(always)]
            |r| unsafe { r.unlock_shared() },
        );
    }

    /// [`unlock_exclusive`](lock_api::RawRwLock::unlock_exclusive) with its checking out of
    /// line in an optimised build, for `lockdep::sync`'s guards (see
    /// `RawMutex::unlock_apart`).
    ///
    /// # Safety
    ///
    /// As `unlock_exclusive`'s: this thread holds the lock exclusively.
    #[cfg(feature = "enabled")]
    #[inline(always)]
    pub(crate) unsafe fn unlock_exclusive_apart(&self) {
        // SAFETY: the caller's.
        self.lock.release_apart(
            #[inline(always)]
            |r| unsafe { r.unlock_exclusive() },
        );
    }

    /// An unlocked lock of the class `map` names.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) const fn with_map(map: LockMap) -> Self {
        RawRwLock {
            lock: Checked::new(lockdep_raw::RawRwLock::INIT, map),
        }
    }

    /// This raw lock, of the class of `site` if it has none (one made by `INIT`, given to a
    /// typed lock's `const_new` or `from_raw`).
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) const fn or_site<T: ?Sized>(mut self, site: &'static Location<'static>) -> Self {
        // In place: a lock is not taken apart in a `const fn` (it has a destructor).
        self.lock.map = self.lock.map.or_site::<T>(site);
        self
    }

    /// `read()` at `site` (a recursive read if `RECURSIVE`).
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn lock_shared_at(&self, subclass: u32, site: &'static Location<'static>) {
        if RECURSIVE {
            return self.lock_shared_recursive_at(subclass, site);
        }
        self.blocking_at(subclass, Access::Read, site, RwRequest::Shared);
    }

    /// `read_recursive()` at `site`.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn lock_shared_recursive_at(&self, subclass: u32, site: &'static Location<'static>) {
        self.blocking_at(
            subclass,
            Access::RecursiveRead,
            site,
            RwRequest::SharedRecursive,
        );
    }

    /// `write()` at `site`.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn lock_exclusive_at(&self, subclass: u32, site: &'static Location<'static>) {
        self.blocking_at(subclass, Access::Write, site, RwRequest::Exclusive);
    }

    /// `upgradable_read()` at `site`.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn lock_upgradable_at(&self, site: &'static Location<'static>) {
        self.lock.upgradable_read_at(site);
        self.blocking_at(0, Access::Read, site, RwRequest::Upgradable);
    }

    /// A try-acquisition as `access` at `site`.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn try_at(
        &self,
        access: Access,
        site: &'static Location<'static>,
        try_lock: impl FnOnce(&lockdep_raw::RawRwLock) -> bool,
    ) -> bool {
        self.lock.try_acquire(access, site, try_lock)
    }

    /// A blocking acquisition `request`, held as `access`, nesting subclass `subclass`, at
    /// `site`: the raw lock's one uncontended attempt, then its contended path (as the raw
    /// `lock_*` call, without trying twice).
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn blocking_at(
        &self,
        subclass: u32,
        access: Access,
        site: &'static Location<'static>,
        request: RwRequest,
    ) {
        // `move`: a closure that borrowed `request` would keep it in memory, a store before
        // every acquisition's atomic exchange, which waits for it (measured: 1.16x
        // parking_lot's write lock with the mode off, against 1.03x for the mutex). Always
        // inlined, as `RawMutex::lock_at`'s.
        self.lock.acquire(
            subclass,
            access,
            site,
            #[inline(always)]
            move |r| r.try_lock_fast(request),
            move |r| {
                r.lock_contended(request);
                true
            },
            // SAFETY: called right after `try_lock_fast(request)` took it.
            #[inline(always)]
            move |r| unsafe { untake(r, request) },
        );
    }

    /// A timed acquisition `request` until `deadline`, held as `access` at `site`, validated
    /// like a blocking one.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn timed_at(
        &self,
        access: Access,
        site: &'static Location<'static>,
        request: RwRequest,
        deadline: Instant,
    ) -> bool {
        self.lock.acquire(
            0,
            access,
            site,
            // `move`, as in `blocking_at`.
            move |r| r.try_lock_fast(request),
            move |r| r.lock_contended_until(request, deadline),
            // SAFETY: called right after `try_lock_fast(request)` took it.
            move |r| unsafe { untake(r, request) },
        )
    }

    /// `try_read()` at `site` (a recursive read if `RECURSIVE`).
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn try_read_at(&self, site: &'static Location<'static>) -> bool {
        if RECURSIVE {
            return self.try_at(Access::RecursiveRead, site, |r| {
                r.try_lock_shared_recursive()
            });
        }
        self.try_at(Access::Read, site, |r| r.try_lock_shared())
    }

    /// A timed `read()` at `site` (a recursive read if `RECURSIVE`).
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn timed_read_at(
        &self,
        deadline: Instant,
        site: &'static Location<'static>,
    ) -> bool {
        if RECURSIVE {
            return self.timed_recursive_read_at(deadline, site);
        }
        self.timed_at(Access::Read, site, RwRequest::Shared, deadline)
    }

    /// A timed `read_recursive()` at `site`.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn timed_recursive_read_at(
        &self,
        deadline: Instant,
        site: &'static Location<'static>,
    ) -> bool {
        self.timed_at(
            Access::RecursiveRead,
            site,
            RwRequest::SharedRecursive,
            deadline,
        )
    }

    /// A timed `write()` at `site`.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn timed_write_at(
        &self,
        deadline: Instant,
        site: &'static Location<'static>,
    ) -> bool {
        self.timed_at(Access::Write, site, RwRequest::Exclusive, deadline)
    }

    /// A timed `upgradable_read()` at `site`.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn timed_upgradable_at(
        &self,
        deadline: Instant,
        site: &'static Location<'static>,
    ) -> bool {
        self.lock.upgradable_read_at(site);
        self.timed_at(Access::Read, site, RwRequest::Upgradable, deadline)
    }

    /// Records the dependencies of an acquisition as `access` without taking the lock.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn might_lock_at(&self, access: Access, site: &'static Location<'static>) {
        self.lock.might_acquire(access, site);
    }

    /// Panics unless this thread holds this lock (when checking).
    #[track_caller]
    pub(crate) fn assert_held(&self) {
        self.lock.assert_held();
    }

    /// Panics if this thread holds this lock (when checking).
    #[track_caller]
    pub(crate) fn assert_not_held(&self) {
        self.lock.assert_not_held();
    }
}

// SAFETY: here and in every `lock_api` trait below, exclusion is `lockdep_raw::RawRwLock`'s,
// whose operations are forwarded unchanged; the checker's bookkeeping around them touches only
// this thread's held stack. Each `unsafe` call below is made under the same contract as the
// trait method making it (the caller holds the lock in the stated mode).
unsafe impl<const RECURSIVE: bool> lock_api::RawRwLock for RawRwLock<RECURSIVE> {
    const INIT: Self = Self::with_map(LockMap::unkeyed(crate::ClassKind::Lock));
    type GuardMarker = GuardMarker;

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn lock_shared(&self) {
        self.lock_shared_at(0, Location::caller());
    }

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_shared(&self) -> bool {
        self.try_read_at(Location::caller())
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_shared(&self) {
        // SAFETY: the caller holds a shared lock.
        // Always inlined, as `RawMutex`'s unlock.
        self.lock.release(
            #[inline(always)]
            |r| unsafe { r.unlock_shared() },
        );
    }

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn lock_exclusive(&self) {
        self.lock_exclusive_at(0, Location::caller());
    }

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_exclusive(&self) -> bool {
        self.try_at(Access::Write, Location::caller(), |r| {
            r.try_lock_exclusive()
        })
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_exclusive(&self) {
        // SAFETY: the caller holds the exclusive lock.
        // Always inlined, as `RawMutex`'s unlock.
        self.lock.release(
            #[inline(always)]
            |r| unsafe { r.unlock_exclusive() },
        );
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn is_locked(&self) -> bool {
        self.lock.raw.is_locked()
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn is_locked_exclusive(&self) -> bool {
        self.lock.raw.is_locked_exclusive()
    }
}

// SAFETY: see the first `unsafe impl` above.
unsafe impl<const RECURSIVE: bool> lock_api::RawRwLockFair for RawRwLock<RECURSIVE> {
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_shared_fair(&self) {
        // SAFETY: the caller holds a shared lock.
        self.lock.release(|r| unsafe { r.unlock_shared_fair() });
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_exclusive_fair(&self) {
        // SAFETY: the caller holds the exclusive lock.
        self.lock.release(|r| unsafe { r.unlock_exclusive_fair() });
    }

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn bump_shared(&self) {
        let access = match RECURSIVE {
            true => Access::RecursiveRead,
            false => Access::Read,
        };
        // SAFETY: the caller holds a shared lock.
        self.lock
            .bump(access, Location::caller(), |r| unsafe { r.bump_shared() });
    }

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn bump_exclusive(&self) {
        // SAFETY: the caller holds the exclusive lock.
        self.lock
            .bump(Access::Write, Location::caller(), |r| unsafe {
                r.bump_exclusive()
            });
    }
}

// SAFETY: see the first `unsafe impl` above.
unsafe impl<const RECURSIVE: bool> lock_api::RawRwLockDowngrade for RawRwLock<RECURSIVE> {
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn downgrade(&self) {
        self.lock.change_access(Access::Read);
        // SAFETY: the caller holds the exclusive lock.
        unsafe { self.lock.raw.downgrade() }
    }
}

// SAFETY: see the first `unsafe impl` above.
unsafe impl<const RECURSIVE: bool> lock_api::RawRwLockTimed for RawRwLock<RECURSIVE> {
    type Duration = Duration;
    type Instant = Instant;

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_shared_for(&self, timeout: Duration) -> bool {
        self.try_lock_shared_until(deadline(timeout))
    }

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_shared_until(&self, deadline: Instant) -> bool {
        self.timed_read_at(deadline, Location::caller())
    }

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_exclusive_for(&self, timeout: Duration) -> bool {
        self.try_lock_exclusive_until(deadline(timeout))
    }

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_exclusive_until(&self, deadline: Instant) -> bool {
        self.timed_write_at(deadline, Location::caller())
    }
}

// SAFETY: see the first `unsafe impl` above.
unsafe impl<const RECURSIVE: bool> lock_api::RawRwLockRecursive for RawRwLock<RECURSIVE> {
    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn lock_shared_recursive(&self) {
        self.lock_shared_recursive_at(0, Location::caller());
    }

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_shared_recursive(&self) -> bool {
        self.try_at(Access::RecursiveRead, Location::caller(), |r| {
            r.try_lock_shared_recursive()
        })
    }
}

// SAFETY: see the first `unsafe impl` above.
unsafe impl<const RECURSIVE: bool> lock_api::RawRwLockRecursiveTimed for RawRwLock<RECURSIVE> {
    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_shared_recursive_for(&self, timeout: Duration) -> bool {
        self.try_lock_shared_recursive_until(deadline(timeout))
    }

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_shared_recursive_until(&self, deadline: Instant) -> bool {
        self.timed_recursive_read_at(deadline, Location::caller())
    }
}

// SAFETY: see the first `unsafe impl` above.
unsafe impl<const RECURSIVE: bool> lock_api::RawRwLockUpgrade for RawRwLock<RECURSIVE> {
    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn lock_upgradable(&self) {
        self.lock_upgradable_at(Location::caller());
    }

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_upgradable(&self) -> bool {
        self.try_at(Access::Read, Location::caller(), |r| {
            r.try_lock_upgradable()
        })
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_upgradable(&self) {
        // SAFETY: the caller holds the upgradable lock.
        self.lock.release(|r| unsafe { r.unlock_upgradable() });
    }

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn upgrade(&self) {
        self.lock.upgrade(
            Location::caller(),
            // SAFETY: the caller holds the upgradable lock.
            |r| unsafe { r.try_upgrade() },
            |r| {
                // SAFETY: as above; after the failed try it still does.
                unsafe { r.upgrade() };
                true
            },
        );
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn try_upgrade(&self) -> bool {
        // SAFETY: the caller holds the upgradable lock.
        let upgraded = unsafe { self.lock.raw.try_upgrade() };
        if upgraded {
            self.lock.change_access(Access::Write);
        }
        upgraded
    }
}

// SAFETY: see the first `unsafe impl` above.
unsafe impl<const RECURSIVE: bool> lock_api::RawRwLockUpgradeFair for RawRwLock<RECURSIVE> {
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_upgradable_fair(&self) {
        // SAFETY: the caller holds the upgradable lock.
        self.lock.release(|r| unsafe { r.unlock_upgradable_fair() });
    }

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn bump_upgradable(&self) {
        // SAFETY: the caller holds the upgradable lock.
        self.lock
            .bump(Access::Read, Location::caller(), |r| unsafe {
                r.bump_upgradable()
            });
    }
}

// SAFETY: see the first `unsafe impl` above.
unsafe impl<const RECURSIVE: bool> lock_api::RawRwLockUpgradeDowngrade for RawRwLock<RECURSIVE> {
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn downgrade_upgradable(&self) {
        // Held as a read already: nothing changes for the checker.
        // SAFETY: the caller holds the upgradable lock.
        unsafe { self.lock.raw.downgrade_upgradable() }
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn downgrade_to_upgradable(&self) {
        self.lock.change_access(Access::Read);
        // SAFETY: the caller holds the exclusive lock.
        unsafe { self.lock.raw.downgrade_to_upgradable() }
    }
}

// SAFETY: see the first `unsafe impl` above.
unsafe impl<const RECURSIVE: bool> lock_api::RawRwLockUpgradeTimed for RawRwLock<RECURSIVE> {
    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_upgradable_for(&self, timeout: Duration) -> bool {
        self.try_lock_upgradable_until(deadline(timeout))
    }

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_upgradable_until(&self, deadline: Instant) -> bool {
        self.timed_upgradable_at(deadline, Location::caller())
    }

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn try_upgrade_for(&self, timeout: Duration) -> bool {
        // SAFETY: the caller holds the upgradable lock.
        unsafe { self.try_upgrade_until(deadline(timeout)) }
    }

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn try_upgrade_until(&self, deadline: Instant) -> bool {
        self.lock.upgrade(
            Location::caller(),
            // SAFETY: the caller holds the upgradable lock.
            |r| unsafe { r.try_upgrade() },
            // SAFETY: as above; after the failed try it still does.
            |r| unsafe { r.try_upgrade_until(deadline) },
        )
    }
}
