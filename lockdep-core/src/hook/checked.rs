//! A raw lock paired with its lock map: what the checked raw mutex and reader-writer lock
//! share. The pair's address is the lock's identity on the held stack, and every raw
//! operation goes through here with its bookkeeping: a blocking acquisition is validated
//! before it blocks and parks as the checker's own work, a release leaves the held stack
//! before the raw unlock.

use std::panic::Location;

use super::lock_map::{untracked_scope, LockMap};
use lockdep_report::Access;

/// `raw`, checked through `map`. Without the `enabled` feature the map is zero-sized and
/// this is `raw` itself.
#[cfg_attr(not(feature = "enabled"), repr(transparent))]
#[derive(Debug)]
pub(crate) struct Checked<R> {
    pub(crate) raw: R,
    pub(crate) map: LockMap,
}

/// A lock that is gone leaves the order among the locks of its class: its address may next
/// hold an unrelated lock.
#[cfg(feature = "enabled")]
impl<R> Drop for Checked<R> {
    #[inline]
    fn drop(&mut self) {
        self.map.forget(self.instance());
    }
}

impl<R> Checked<R> {
    #[inline]
    pub(crate) const fn new(raw: R, map: LockMap) -> Checked<R> {
        Checked { raw, map }
    }

    /// The held-stack identity of this lock: its address.
    #[inline(always)]
    pub(crate) fn instance(&self) -> usize {
        self as *const Checked<R> as usize
    }

    /// A blocking acquisition as `access`, nesting subclass `subclass`, at `site`: `fast` is
    /// the raw try, `slow` the raw blocking (or timed) call, parked as the checker's own work
    /// (parking allocates the first time a thread parks, and that is not the user's
    /// allocation). Whether the lock was taken.
    #[inline(always)]
    pub(crate) fn acquire(
        &self,
        subclass: u32,
        access: Access,
        site: &'static Location<'static>,
        fast: impl FnOnce(&R) -> bool,
        slow: impl FnOnce(&R) -> bool,
    ) -> bool {
        self.map
            .acquire(self.instance(), subclass, access, site, || {
                fast(&self.raw) || untracked_scope(|| slow(&self.raw))
            })
    }

    /// A try-acquisition as `access` at `site`.
    #[inline(always)]
    pub(crate) fn try_acquire(
        &self,
        access: Access,
        site: &'static Location<'static>,
        try_lock: impl FnOnce(&R) -> bool,
    ) -> bool {
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
            fast(&self.raw) || untracked_scope(|| slow(&self.raw))
        })
    }

    /// Changes how this thread holds the lock, in place (a downgrade, or an upgrade that
    /// needed no wait).
    #[inline]
    pub(crate) fn change_access(&self, access: Access) {
        self.map.change_access(self.instance(), access);
    }

    /// Takes this thread's hold off the held stack, then runs the raw release.
    #[inline]
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
