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
///
/// The raw lock comes last, after the map's hot words and just before the value of the
/// typed lock that holds this (see [`LockMap`]'s layout).
#[cfg_attr(not(feature = "enabled"), repr(transparent))]
#[cfg_attr(feature = "enabled", repr(C))]
#[derive(Debug)]
pub(crate) struct Checked<R> {
    pub(crate) map: LockMap,
    pub(crate) raw: R,
}

/// A lock that is gone leaves the order among the locks of its class (its address may next
/// hold an unrelated lock), and what its first hold held back.
#[cfg(feature = "enabled")]
impl<R> Drop for Checked<R> {
    #[inline]
    fn drop(&mut self) {
        if self.map.first_hold.is_pending() {
            entry::forget_first_hold(self.instance());
        }
        self.map.forget(self.instance());
    }
}

impl<R> Checked<R> {
    #[inline]
    pub(crate) const fn new(raw: R, map: LockMap) -> Checked<R> {
        Checked { map, raw }
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
    /// taken exclusively by `fast` as nesting subclass 0 (nobody held it), is held at once if this
    /// context validated its chain before (`LockMap::held_at_once`), in one step into the
    /// checker: a known chain reports nothing, so it needs no validation before the lock is
    /// taken. Any other acquisition (a chain not known here yet, a nesting subclass, a shared
    /// one, the lock busy, a first hold not settled, lock_stat) is validated before it may block, as
    /// `LockMap::acquire` does: what `fast` took is given back first, so that a report (a
    /// panic in mode `panic`) comes with the lock free. Mode off is the raw lock alone.
    ///
    /// The fast path calls `fast` directly, builds no closure: in an unoptimised build each
    /// layer is a call of its own. The three are `Copy` (what they capture is a reference or
    /// a `Copy` value): a closure of a type that may need dropping, moved on one path and not
    /// another, has a drop flag that an unoptimised build sets and tests on every acquisition.
    #[inline(always)]
    pub(crate) fn acquire(
        &self,
        subclass: u32,
        access: Access,
        site: &'static Location<'static>,
        fast: impl Fn(&R) -> bool + Copy,
        slow: impl FnOnce(&R) -> bool + Copy,
        untake: impl FnOnce(&R) + Copy,
    ) -> bool {
        #[cfg(feature = "enabled")]
        {
            let hot = crate::mode::hot();
            // Mode off: the raw lock alone. Nothing is tracked, parking's allocation
            // neither: no untracked scope.
            if hot.off() {
                return fast(&self.raw) || slow(&self.raw);
            }
            // The raw lock's atomic operation comes before anything of this lock's cache
            // line is read: a load first fetches the line shared, the operation then fetches
            // it again to write it (under contention, twice the traffic of parking_lot's
            // lock); and a thread that releases and takes a lock again at once keeps it, as
            // with parking_lot, instead of handing it to a waiter while it validates. Not a
            // shared acquisition: readers overlap, and validating inside a read hold would
            // lengthen every hold a writer waits out (a read-mostly lock contended by 8
            // threads: 1.55x parking_lot so, 1.35x validated first).
            // `matches!`, not `==`: the derived `eq` is a call in an unoptimised build.
            if hot.plain() && subclass == 0 && matches!(access, Access::Write) && fast(&self.raw) {
                if self.map.first_hold.is_settled()
                    && self
                        .map
                        .held_at_once(self.instance(), access, site, hot.epoch())
                {
                    return true;
                }
                untake(&self.raw);
            }
            let lock = move || fast(&self.raw) || self.wait(access, site, slow);
            if !self.map.first_hold.is_settled() {
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
        if !entry::first_hold(instance, &self.map.first_hold, true, access, site) {
            return self.map.acquire(instance, subclass, access, site, lock);
        }
        let locked = self.map.acquire(instance, subclass, access, site, lock);
        entry::first_hold_end(instance, &self.map.first_hold);
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
        if !self.map.first_hold.is_settled() {
            entry::first_hold(self.instance(), &self.map.first_hold, false, access, site);
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

    /// Takes this thread's hold off the held stack, then runs the raw release. In that
    /// order: the lock may be freed once it is released; and under contention the thread
    /// that releases takes the lock again soonest when nothing is left to do between its
    /// release and its next acquisition (bookkeeping after the unlock hands the lock to a
    /// parked waiter more often: measured 20% slower with 8 threads on 2 cores). Always
    /// inlined, into the raw lock's (non-generic) unlock: in an unoptimised build a generic
    /// `#[inline]` function is a call of its own.
    #[inline(always)]
    pub(crate) fn release(&self, unlock: impl FnOnce(&R)) {
        self.map.release(self.instance());
        unlock(&self.raw);
    }

    /// [`release`](Checked::release) with its checking out of line in an optimised build
    /// (see `RawMutex::unlock_apart`).
    #[cfg(feature = "enabled")]
    #[inline(always)]
    pub(crate) fn release_apart(&self, unlock: impl FnOnce(&R)) {
        self.map.release_apart(self.instance());
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

// `send_guard`'s holder cell makes the map 16 bytes larger.
#[cfg(all(test, feature = "enabled", not(feature = "send_guard")))]
mod tests {
    use std::mem::{offset_of, size_of};

    /// A contended lock moves one cache line between CPUs when its raw lock, the words its
    /// acquisition reads and a small value fit one line, as parking_lot's do: a lock on a
    /// line of its own holds its value on the same line.
    #[test]
    fn a_lock_and_a_small_value_fit_one_cache_line() {
        type Mutex = super::Checked<lockdep_raw::RawMutex>;
        type RwLock = super::Checked<lockdep_raw::RawRwLock>;
        // A typed lock is its raw lock then its value.
        assert!(
            size_of::<Mutex>() + size_of::<u64>() <= 64,
            "{}",
            size_of::<Mutex>()
        );
        assert!(
            size_of::<RwLock>() + size_of::<u64>() <= 64,
            "{}",
            size_of::<RwLock>()
        );
        // The raw lock last, just before the value.
        assert_eq!(offset_of!(Mutex, raw), size_of::<super::LockMap>());
        assert_eq!(offset_of!(RwLock, raw), size_of::<super::LockMap>());
    }
}
