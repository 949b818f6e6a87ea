//! A raw lock paired with its lock map: what the checked raw mutex and reader-writer lock
//! share. The pair's address is the lock's identity on the held stack, and every raw
//! operation goes through here with its bookkeeping: a blocking acquisition is validated
//! before it blocks and parks as the checker's own work, a release leaves the held stack
//! before the raw unlock.
//!
//! A lock's first hold may be before anyone else can reach it (`book/src/rules.md`): until its
//! second acquisition settles that, its acquisitions tell the checker first. A settled lock
//! costs one load of a byte beside the raw lock per acquisition.

use std::panic::Location;

use super::lock_map::{untracked_scope, LockMap};
#[cfg(feature = "enabled")]
use crate::checker::entry;
use lockdep_report::Access;

/// `raw`, checked through `map`. Without the `enabled` feature the map is zero-sized and
/// this is `raw` itself.
#[cfg_attr(not(feature = "enabled"), repr(transparent))]
#[derive(Debug)]
pub(crate) struct Checked<R> {
    pub(crate) raw: R,
    pub(crate) map: LockMap,
    /// Whether the lock's first hold is settled: its second acquisition happened, or its
    /// first held nothing back (`checker::first_hold`).
    #[cfg(feature = "enabled")]
    first_hold: entry::FirstHold,
}

/// A lock that is gone leaves the order among the locks of its class (its address may next
/// hold an unrelated lock), and what its first hold held back.
#[cfg(feature = "enabled")]
impl<R> Drop for Checked<R> {
    #[inline]
    fn drop(&mut self) {
        if self.first_hold.is_pending() {
            entry::forget_first_hold(self.instance());
        }
        self.map.forget(self.instance());
    }
}

impl<R> Checked<R> {
    #[inline]
    pub(crate) const fn new(raw: R, map: LockMap) -> Checked<R> {
        Checked {
            raw,
            map,
            #[cfg(feature = "enabled")]
            first_hold: entry::FirstHold::new(),
        }
    }

    /// The held-stack identity of this lock: its address.
    #[inline(always)]
    pub(crate) fn instance(&self) -> usize {
        self as *const Checked<R> as usize
    }

    /// A blocking acquisition as `access`, nesting subclass `subclass`, at `site`: `fast` is
    /// the raw try, `slow` the raw blocking (or timed) call, parked as the checker's own work
    /// (parking allocates the first time a thread parks, and that is not the user's
    /// allocation), and `untake` the raw release of what `fast` took. Whether the lock was
    /// taken.
    ///
    /// Tried first: in plain checking (see `mode::Hot`), a lock whose first hold is settled,
    /// taken by `fast` as nesting subclass 0 (nobody held it), is held at once if this
    /// context validated its chain before (`LockMap::held_at_once`), in one step into the
    /// checker: a known chain reports nothing, so it needs no validation before the lock is
    /// taken. Any other acquisition (a chain not known here yet, a nesting subclass, the lock
    /// busy, a first hold not settled, lock_stat, mode off) is validated before it may block,
    /// as `LockMap::acquire` does: what `fast` took is given back first, so that a report (a
    /// panic in mode `panic`) comes with the lock free. The fast path calls `fast` directly,
    /// builds no closure: in an unoptimised build each layer is a call of its own.
    #[inline(always)]
    pub(crate) fn acquire(
        &self,
        subclass: u32,
        access: Access,
        site: &'static Location<'static>,
        fast: impl Fn(&R) -> bool,
        slow: impl FnOnce(&R) -> bool,
        untake: impl FnOnce(&R),
    ) -> bool {
        #[cfg(feature = "enabled")]
        {
            let hot = crate::mode::hot();
            let settled = self.first_hold.is_settled();
            if hot.plain() && subclass == 0 && settled && fast(&self.raw) {
                if self
                    .map
                    .held_at_once(self.instance(), access, site, hot.epoch())
                {
                    return true;
                }
                untake(&self.raw);
            }
            let lock = || fast(&self.raw) || self.wait(access, site, slow);
            if !settled {
                return self.acquire_unsettled(subclass, access, site, lock);
            }
            self.map
                .acquire_in(hot, self.instance(), subclass, access, site, lock)
        }
        #[cfg(not(feature = "enabled"))]
        {
            let _ = untake;
            self.map
                .acquire(self.instance(), subclass, access, site, || {
                    fast(&self.raw) || self.wait(access, site, slow)
                })
        }
    }

    /// [`acquire`](Checked::acquire) of a lock whose first hold is not settled: the checker
    /// settles it now, or holds the dependencies into it back while this, its first
    /// acquisition, is validated.
    #[cfg(feature = "enabled")]
    #[cold]
    #[inline(never)]
    fn acquire_unsettled(
        &self,
        subclass: u32,
        access: Access,
        site: &'static Location<'static>,
        lock: impl FnOnce() -> bool,
    ) -> bool {
        let instance = self.instance();
        if !entry::first_hold(instance, &self.first_hold, true, access, site) {
            return self.map.acquire(instance, subclass, access, site, lock);
        }
        let locked = self.map.acquire(instance, subclass, access, site, lock);
        entry::first_hold_end(instance, &self.first_hold);
        locked
    }

    /// A blocking acquisition as `access` at `site` under the nest lock at `outer` (see
    /// `LockMap::acquire_under`).
    #[inline]
    pub(crate) fn acquire_under(
        &self,
        outer: usize,
        access: Access,
        site: &'static Location<'static>,
        fast: impl FnOnce(&R) -> bool,
        slow: impl FnOnce(&R) -> bool,
    ) -> bool {
        self.map
            .acquire_under(self.instance(), outer, access, site, || {
                fast(&self.raw) || self.wait(access, site, slow)
            })
    }

    /// The blocking part of an acquisition as `access` at `site`: `slow`, the raw lock's
    /// contended path, parked as the checker's own work (parking allocates the first time a
    /// thread parks, and that is not the user's allocation), known to the watchdog.
    #[inline(never)]
    fn wait(
        &self,
        access: Access,
        site: &'static Location<'static>,
        slow: impl FnOnce(&R) -> bool,
    ) -> bool {
        self.map.waiting(self.instance(), access, site, || {
            untracked_scope(|| slow(&self.raw))
        })
    }

    /// A try-acquisition as `access` at `site`. It never adds a dependency, but it settles a
    /// first hold: this thread reached the lock.
    #[inline(always)]
    pub(crate) fn try_acquire(
        &self,
        access: Access,
        site: &'static Location<'static>,
        try_lock: impl FnOnce(&R) -> bool,
    ) -> bool {
        #[cfg(feature = "enabled")]
        if !self.first_hold.is_settled() {
            entry::first_hold(self.instance(), &self.first_hold, false, access, site);
        }
        self.map
            .try_acquire(self.instance(), 0, access, site, || try_lock(&self.raw))
    }

    /// A blocking upgradable read at `site` is next: it may wait for another upgradable read,
    /// which the checker is told first (an upgradable read is validated as a read).
    #[inline]
    pub(crate) fn upgradable_read_at(&self, site: &'static Location<'static>) {
        #[cfg(feature = "enabled")]
        if let Some(class) = self.map.checked_class() {
            crate::checker::entry::upgradable_read(class, site);
        }
        #[cfg(not(feature = "enabled"))]
        let _ = site;
    }

    /// Records the dependencies of an acquisition as `access` at `site` without taking the
    /// lock.
    #[inline]
    pub(crate) fn might_acquire(&self, access: Access, site: &'static Location<'static>) {
        self.map.might_acquire(self.instance(), access, site);
    }

    /// An upgrade of this thread's read hold to a write at `site`: validated as a write with
    /// the read hold set aside, `fast` and `slow` as for [`acquire`](Checked::acquire).
    /// Whether it upgraded.
    #[inline]
    pub(crate) fn upgrade(
        &self,
        site: &'static Location<'static>,
        fast: impl FnOnce(&R) -> bool,
        slow: impl FnOnce(&R) -> bool,
    ) -> bool {
        self.map.upgrade(self.instance(), site, || {
            fast(&self.raw) || self.wait(Access::Write, site, slow)
        })
    }

    /// Changes how this thread holds the lock, in place (a downgrade, or an upgrade that
    /// needed no wait).
    #[inline]
    pub(crate) fn change_access(&self, access: Access) {
        self.map.change_access(self.instance(), access);
    }

    /// Takes this thread's hold off the held stack, then runs the raw release. Always
    /// inlined, into the raw lock's (non-generic) unlock: in an unoptimised build a generic
    /// `#[inline]` function is a call of its own.
    #[inline(always)]
    pub(crate) fn release(&self, unlock: impl FnOnce(&R)) {
        self.map.release(self.instance());
        unlock(&self.raw);
    }

    /// A bump, for the checker a release and a re-acquisition as `access` at `site`: the
    /// re-acquisition, with whatever was taken after this lock still held, is validated
    /// (whether or not a waiter got in).
    #[inline]
    pub(crate) fn bump(
        &self,
        access: Access,
        site: &'static Location<'static>,
        bump: impl FnOnce(&R),
    ) {
        self.map.release(self.instance());
        untracked_scope(|| bump(&self.raw));
        self.map.acquire(self.instance(), 0, access, site, || true);
    }

    /// Panics unless this thread holds this lock (when checking).
    #[track_caller]
    pub(crate) fn assert_held(&self) {
        self.map.assert_held(self.instance());
    }

    /// Panics if this thread holds this lock (when checking).
    #[track_caller]
    pub(crate) fn assert_not_held(&self) {
        self.map.assert_not_held(self.instance());
    }
}
