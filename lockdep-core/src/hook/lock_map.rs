//! The per-lock handle on the checker (the kernel's `struct lockdep_map`): which class a lock
//! belongs to, with the class id cached in the lock after first use, and the calls a lock
//! makes around its raw operations.
//!
//! Written once for both builds: without the `enabled` feature a `LockMap` is a zero-sized
//! type and every call is the raw operation alone.

use std::panic::Location;

#[cfg(feature = "enabled")]
use super::hold::Hold;
use crate::{ClassKind, LockClass};
use lockdep_report::Access;

#[cfg(feature = "enabled")]
use crate::checker::entry::{self, Acquisition, ClassId, Instance, Pending};
#[cfg(feature = "enabled")]
use std::sync::atomic::{
    AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
};

/// An acquisition validated on [`LockMap::acquire`]'s out-of-line path.
#[cfg(feature = "enabled")]
struct Other {
    pending: Pending,
    class: ClassId,
    access: Access,
    site: &'static Location<'static>,
    /// Counted for lock_stat.
    stat: bool,
}

/// How a lock names its class.
#[cfg(feature = "enabled")]
#[derive(Clone, Copy, Debug)]
enum MapKey {
    /// Every lock (or other primitive of the kind) created at this site for data of this type
    /// (`core::any::type_name`).
    Site(&'static Location<'static>, fn() -> &'static str, ClassKind),
    /// A named class.
    Static(&'static LockClass),
    /// A class named at run time, registered when the map was made (0 if the class table
    /// was full: then not checked).
    Registered(ClassId, ClassKind),
    /// No class given: made by `lock_api`'s `INIT`, which knows no creation site. The class
    /// is the first frame of the user's code where the lock is first used.
    Unkeyed(ClassKind),
}

/// The class id cached in a map whose class could not be found (an unkeyed lock first used
/// where the stack has no frame of the user's code): not checked, not looked for again.
#[cfg(feature = "enabled")]
const NO_CLASS: ClassId = ClassId::MAX;

/// A lock's class and cached class id.
///
/// In C's order, the words an acquisition reads last: the checked lock puts its raw lock
/// right after them, and the value follows the raw lock, so that a lock and a small value
/// share one cache line with what its acquisition reads (a contended lock moves one line
/// between CPUs, as parking_lot's does, not two).
#[derive(Debug)]
#[cfg_attr(feature = "enabled", repr(C))]
pub(crate) struct LockMap {
    #[cfg(feature = "enabled")]
    key: MapKey,
    /// Who holds the lock exclusively (feature `send_guard`: its guard may be released on
    /// another thread, which then ends the hold there).
    #[cfg(all(feature = "enabled", feature = "send_guard"))]
    holder: entry::HolderCell,
    /// Which lock of its class this lock was last validated nested under, and its declared
    /// order key, if any (see `checker::entry::OrderMemo`).
    #[cfg(feature = "enabled")]
    order: entry::OrderMemo,
    /// The base class's id once registered (0 before), published with `Release`.
    #[cfg(feature = "enabled")]
    class: AtomicU32,
    /// Whether the lock's first hold is settled: its second acquisition happened, or its
    /// first held nothing back (`checker::first_hold`). Kept by the checked lock.
    #[cfg(feature = "enabled")]
    pub(crate) first_hold: entry::FirstHold,
    /// Whether the lock has a declared order key (`order` has it): fixed when the map is made,
    /// so a plain read, which every acquisition and release makes, not an atomic load (a call
    /// of its own in an unoptimised build). In the padding after `first_hold`.
    #[cfg(feature = "enabled")]
    keyed: bool,
}

impl LockMap {
    /// The map of a lock named by `key`, its class id `class` if known (0 if not), of
    /// declared order key `order_key`, if any.
    #[cfg(feature = "enabled")]
    #[inline]
    const fn from_key(key: MapKey, class: ClassId, order_key: Option<u64>) -> Self {
        LockMap {
            key,
            #[cfg(feature = "send_guard")]
            holder: entry::HolderCell::new(),
            order: entry::OrderMemo::new(order_key),
            class: AtomicU32::new(class),
            first_hold: entry::FirstHold::new(),
            keyed: order_key.is_some(),
        }
    }

    /// The class of all locks created at `site` for data of type `T`.
    #[inline]
    // Without the checker there is no class, and `T` is not needed.
    #[cfg_attr(not(feature = "enabled"), allow(clippy::extra_unused_type_parameters))]
    pub(crate) const fn at_site<T: ?Sized>(site: &'static Location<'static>) -> Self {
        LockMap::of_kind_at_site(ClassKind::Lock, site, core::any::type_name::<T>)
    }

    /// The class of all primitives of `kind` created at `site` for data of the type that
    /// `data_type` names.
    #[inline]
    pub(crate) const fn of_kind_at_site(
        kind: ClassKind,
        site: &'static Location<'static>,
        data_type: fn() -> &'static str,
    ) -> Self {
        #[cfg(not(feature = "enabled"))]
        let _ = (kind, site, data_type);
        #[cfg(feature = "enabled")]
        return LockMap::from_key(MapKey::Site(site, data_type, kind), 0, None);
        #[cfg(not(feature = "enabled"))]
        LockMap {}
    }

    /// The class of all primitives of `kind` created at `site`, named by the site alone (a
    /// condition variable or a `LockdepMap` guards no data of its own).
    #[inline]
    pub(crate) const fn untyped_at_site(kind: ClassKind, site: &'static Location<'static>) -> Self {
        /// No data type: the class's name is the site's.
        const fn untyped() -> &'static str {
            ""
        }
        LockMap::of_kind_at_site(kind, site, untyped)
    }

    /// The class named `name`, of `kind`, registered now (classes are looked up by name and
    /// kind: maps made with one name share their class).
    pub(crate) fn named(name: &str, kind: ClassKind, site: &'static Location<'static>) -> Self {
        #[cfg(feature = "enabled")]
        {
            let id = entry::named_class(name, kind.into(), site).unwrap_or(0);
            LockMap::from_key(MapKey::Registered(id, kind), id, None)
        }
        #[cfg(not(feature = "enabled"))]
        {
            let _ = (name, kind, site);
            LockMap {}
        }
    }

    /// A named class.
    #[inline]
    pub(crate) const fn with_class(class: &'static LockClass) -> Self {
        #[cfg(not(feature = "enabled"))]
        let _ = class;
        #[cfg(feature = "enabled")]
        return LockMap::from_key(MapKey::Static(class), 0, None);
        #[cfg(not(feature = "enabled"))]
        LockMap {}
    }

    /// A named class, this lock of declared order key `key`: two keyed locks of one class nest
    /// by increasing key.
    #[inline]
    pub(crate) const fn with_class_key(class: &'static LockClass, key: u64) -> Self {
        #[cfg(not(feature = "enabled"))]
        let _ = (class, key);
        #[cfg(feature = "enabled")]
        return LockMap::from_key(MapKey::Static(class), 0, Some(key));
        #[cfg(not(feature = "enabled"))]
        LockMap {}
    }

    /// No class given (`lock_api`'s `INIT`, which has no site): a primitive of `kind`, whose
    /// class is where it is first used (see [`MapKey::Unkeyed`]).
    #[inline]
    pub(crate) const fn unkeyed(kind: ClassKind) -> Self {
        #[cfg(not(feature = "enabled"))]
        let _ = kind;
        #[cfg(feature = "enabled")]
        return LockMap::from_key(MapKey::Unkeyed(kind), 0, None);
        #[cfg(not(feature = "enabled"))]
        LockMap {}
    }

    /// This map, or the class of all locks created at `site` for data of type `T` if it has
    /// none (a raw lock made by `lock_api`'s `INIT`, then given a creation site by a typed
    /// lock's `const_new`). A map's cached class id is not kept: it is looked up again.
    #[inline]
    #[cfg_attr(not(feature = "enabled"), allow(clippy::extra_unused_type_parameters))]
    pub(crate) const fn or_site<T: ?Sized>(&self, site: &'static Location<'static>) -> Self {
        #[cfg(feature = "enabled")]
        return match self.key {
            MapKey::Unkeyed(_) => LockMap::at_site::<T>(site),
            key => LockMap::from_key(key, 0, None),
        };
        #[cfg(not(feature = "enabled"))]
        {
            let _ = site;
            LockMap {}
        }
    }

    /// A blocking acquisition: validated before `lock` blocks, held after it succeeds (it
    /// returns false when it gave up, e.g. a timed lock).
    #[inline(always)]
    pub(crate) fn acquire(
        &self,
        instance: usize,
        subclass: u32,
        access: Access,
        site: &'static Location<'static>,
        lock: impl FnOnce() -> bool,
    ) -> bool {
        #[cfg(feature = "enabled")]
        return self.acquire_in(crate::mode::hot(), instance, subclass, access, site, lock);
        #[cfg(not(feature = "enabled"))]
        {
            let _ = (instance, subclass, access, site);
            lock()
        }
    }

    /// [`acquire`](LockMap::acquire) in the state `hot`, loaded by the caller.
    #[cfg(feature = "enabled")]
    #[inline(always)]
    pub(crate) fn acquire_in(
        &self,
        hot: crate::mode::Hot,
        instance: usize,
        subclass: u32,
        access: Access,
        site: &'static Location<'static>,
        lock: impl FnOnce() -> bool,
    ) -> bool {
        // One load decides. lock_stat's path is out of line and does not take `lock`
        // (which would make the fast path build its closure in memory), so that it costs
        // nothing here when off.
        if !hot.plain() {
            if hot.off() {
                return lock();
            }
            let other = self.begin_other(instance, subclass, access, site);
            let locked = lock();
            if other.is_some() {
                self.end_other(other, instance, locked);
            }
            return locked;
        }
        let Some(acq) = self.acquisition_of(instance, subclass, access, site) else {
            return lock();
        };
        let pending = Self::begin(acq, subclass);
        let locked = lock();
        self.end(pending, instance, access, locked);
        locked
    }

    /// The validation of the blocking acquisition `acq` (nesting subclass `subclass`), before
    /// the lock is taken.
    #[cfg(feature = "enabled")]
    #[inline(always)]
    fn begin(acq: Acquisition, subclass: u32) -> Pending {
        if subclass != 0 {
            entry::check_same_lock(&acq);
        }
        Pending::validated(acq)
    }

    /// After the lock call: held if `locked`.
    #[cfg(feature = "enabled")]
    #[inline(always)]
    fn end(&self, pending: Pending, instance: usize, access: Access, locked: bool) -> bool {
        let held = locked && pending.commit(Instance::lock(instance));
        if held {
            self.now_held(instance, access);
        }
        held
    }

    /// [`acquire`](LockMap::acquire)'s validation in any state but plain checking or off:
    /// lock_stat, the mode not read yet, off after a fault. `None` when not checking.
    #[cfg(feature = "enabled")]
    #[cold]
    #[inline(never)]
    fn begin_other(
        &self,
        instance: usize,
        subclass: u32,
        access: Access,
        site: &'static Location<'static>,
    ) -> Option<Other> {
        let acq = self.acquisition(instance, subclass, access, site)?;
        let (class, stat) = (acq.class, crate::mode::stat_on());
        Some(Other {
            pending: Self::begin(acq, subclass),
            class,
            access,
            site,
            stat,
        })
    }

    /// The end of [`begin_other`](LockMap::begin_other)'s acquisition: held if `locked`, and
    /// counted with lock_stat.
    #[cfg(feature = "enabled")]
    #[cold]
    #[inline(never)]
    fn end_other(&self, other: Option<Other>, instance: usize, locked: bool) {
        let Some(o) = other else { return };
        if self.end(o.pending, instance, o.access, locked) && o.stat {
            entry::stat_acquired(o.class, o.access, instance, o.site, true);
        }
    }

    /// The lock at `instance` is gone (dropped): the checker forgets what it knew of this
    /// lock as opposed to its class.
    #[cfg(feature = "enabled")]
    #[inline]
    pub(crate) fn forget(&self, instance: usize) {
        if self.class.load(Relaxed) != 0 {
            entry::forget_lock(Instance::lock(instance));
        }
    }

    /// A try-acquisition: never validated (it cannot deadlock), but held once it succeeds,
    /// so later acquisitions depend on it.
    #[inline(always)]
    pub(crate) fn try_acquire(
        &self,
        instance: usize,
        subclass: u32,
        access: Access,
        site: &'static Location<'static>,
        try_lock: impl FnOnce() -> bool,
    ) -> bool {
        let locked = try_lock();
        #[cfg(feature = "enabled")]
        if locked {
            if let Some(acq) = self.acquisition(instance, subclass, access, site) {
                if Pending::tried(acq).commit(Instance::lock(instance)) {
                    self.now_held(instance, access);
                }
            }
        }
        #[cfg(not(feature = "enabled"))]
        let _ = (instance, subclass, access, site);
        locked
    }

    /// Records the dependencies of a blocking acquisition without taking the lock (the
    /// kernel's `might_lock()`).
    #[inline]
    pub(crate) fn might_acquire(
        &self,
        instance: usize,
        access: Access,
        site: &'static Location<'static>,
    ) {
        #[cfg(feature = "enabled")]
        if let Some(acq) = self.acquisition(instance, 0, access, site) {
            let _validated_only = Pending::validated(acq);
        }
        #[cfg(not(feature = "enabled"))]
        let _ = (instance, access, site);
    }

    /// The lock at `instance` was released: it leaves this thread's held stack (from any
    /// position). Not looked at while checking is off: the stack is forgotten when checking
    /// resumes (`Context::sync_epoch`), so a release missed now leaves nothing stale.
    /// Out of line in a test build, see [`acquisition`](LockMap::acquisition).
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn release(&self, instance: usize) {
        self.release_in::<false>(instance);
    }

    /// [`release`](LockMap::release) with its checking out of line in an optimised build:
    /// for `lockdep::sync`'s guards (see `RawMutex::unlock_apart`).
    #[cfg(feature = "enabled")]
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn release_apart(&self, instance: usize) {
        self.release_in::<true>(instance);
    }

    /// [`release`](LockMap::release), its checking out of line if `APART`.
    #[inline(always)]
    fn release_in<const APART: bool>(&self, instance: usize) {
        #[cfg(feature = "enabled")]
        {
            // Mode off first: one compare with zero there, one more here when checking.
            let hot = crate::mode::hot();
            if hot.off() {
                return;
            }
            if !hot.plain() {
                self.release_other(instance);
            } else if APART {
                self.release_checked_apart(instance);
            } else {
                self.release_checked(instance);
            }
        }
        #[cfg(not(feature = "enabled"))]
        let _ = instance;
    }

    /// [`release_checked`](LockMap::release_checked), out of line in an optimised build.
    #[cfg(feature = "enabled")]
    #[cfg_attr(not(debug_assertions), inline(never))]
    #[cfg_attr(debug_assertions, inline(always))]
    fn release_checked_apart(&self, instance: usize) {
        self.release_checked(instance);
    }

    /// [`release`](LockMap::release) in any state but plain checking (see
    /// [`begin_other`](LockMap::begin_other)).
    #[cfg(feature = "enabled")]
    #[cold]
    #[inline(never)]
    fn release_other(&self, instance: usize) {
        if crate::mode::is_checking() {
            self.release_checked(instance);
            if crate::mode::stat_on() {
                entry::stat_released(instance);
            }
        }
    }

    /// Takes the lock at `instance` off this context's held stack.
    #[cfg(feature = "enabled")]
    #[inline(always)]
    fn release_checked(&self, instance: usize) {
        {
            if self.keyed {
                entry::release_key(Instance::lock(instance));
            }
            let released = entry::release(Instance::lock(instance));
            // Not held here: its guard was sent to this thread. The holder ends the hold.
            #[cfg(feature = "send_guard")]
            if !released {
                entry::released_elsewhere(Instance::lock(instance), self.holder.get());
            }
            #[cfg(not(feature = "send_guard"))]
            let _ = released;
        }
    }

    /// The bookkeeping of a lock this context just took (at `instance`, as `access`): its
    /// declared order key, and (feature `send_guard`) who holds it, for an exclusive hold (a
    /// shared hold has several holders).
    #[cfg(feature = "enabled")]
    #[inline(always)]
    fn now_held(&self, instance: usize, access: Access) {
        if self.keyed {
            if let Some(key) = self.order.key() {
                entry::hold_key(Instance::lock(instance), key);
            }
        }
        #[cfg(feature = "send_guard")]
        self.holder.set(match access {
            Access::Write => entry::this_holder(),
            Access::Read | Access::RecursiveRead => None,
        });
        #[cfg(not(feature = "send_guard"))]
        let _ = access;
    }

    /// A blocking acquisition under the nest lock at `outer` (a lock of another class held
    /// by this context, which serialises the nesting of the locks of this lock's class: the
    /// kernel's `mutex_lock_nest_lock`): validated without the order among those locks.
    #[inline]
    pub(crate) fn acquire_under(
        &self,
        instance: usize,
        outer: usize,
        access: Access,
        site: &'static Location<'static>,
        lock: impl FnOnce() -> bool,
    ) -> bool {
        #[cfg(feature = "enabled")]
        {
            let Some(acq) = self.acquisition(instance, 0, access, site) else {
                return lock();
            };
            let pending = Pending::validated_under(acq, Instance::lock(outer));
            let locked = lock();
            if locked && pending.commit(Instance::lock(instance)) {
                self.now_held(instance, access);
            }
            locked
        }
        #[cfg(not(feature = "enabled"))]
        {
            let _ = (instance, outer, access, site);
            lock()
        }
    }

    /// Runs `wait`, which releases the lock and takes it again (a condition-variable wait):
    /// the lock is off the held stack meanwhile, and validated and held again after, as
    /// acquired at `site`.
    #[inline]
    pub(crate) fn around_wait<R>(
        &self,
        instance: usize,
        site: &'static Location<'static>,
        wait: impl FnOnce() -> R,
    ) -> R {
        #[cfg(feature = "enabled")]
        {
            let instance = Instance::lock(instance);
            let suspended = entry::suspend(instance);
            let result = wait();
            if let Some((class, access)) = suspended {
                if crate::mode::is_checking() {
                    Pending::validated(Acquisition::blocking(class, access, site, instance))
                        .commit(instance);
                }
            }
            result
        }
        #[cfg(not(feature = "enabled"))]
        {
            let _ = (instance, site);
            wait()
        }
    }

    /// Runs `wait`, a wait at `site` for the event this map stands for: validated first with
    /// what this thread holds (`held → event`), after which what it acquired before is no
    /// longer on its way to a notify (see `checker::event`).
    #[inline]
    pub(crate) fn wait_event<R>(
        &self,
        site: &'static Location<'static>,
        wait: impl FnOnce() -> R,
    ) -> R {
        #[cfg(feature = "enabled")]
        let _waiting = self.checked_class().map(|class| {
            entry::wait_event(class, site);
            entry::waiting(class, Instance::class(class), Access::Write, site)
        });
        #[cfg(not(feature = "enabled"))]
        let _ = site;
        wait()
    }

    /// Runs `wait`, the blocking part of an acquisition of the lock at `instance` as `access`
    /// at `site` (a contended lock's slow path): the watchdog (`LOCKDEP_WATCHDOG`) knows of
    /// it meanwhile.
    #[inline]
    pub(crate) fn waiting<R>(
        &self,
        instance: usize,
        access: Access,
        site: &'static Location<'static>,
        wait: impl FnOnce() -> R,
    ) -> R {
        #[cfg(feature = "enabled")]
        let class = self.checked_class();
        #[cfg(feature = "enabled")]
        let _waiting =
            class.map(|class| entry::waiting(class, Instance::lock(instance), access, site));
        // Dropped first, when the wait is over: its time is the wait's.
        #[cfg(feature = "enabled")]
        let _timed = class
            .filter(|_| crate::mode::stat_on())
            .map(|class| entry::stat_contended(class, access, instance, site));
        #[cfg(not(feature = "enabled"))]
        let _ = (instance, access, site);
        wait()
    }

    /// This thread notifies the event this map stands for, at `site`: the event depends on
    /// what the thread acquired on its way here (see `checker::event`).
    #[inline]
    pub(crate) fn notify_event(&self, site: &'static Location<'static>) {
        #[cfg(feature = "enabled")]
        if let Some(class) = self.checked_class() {
            entry::notify_event(class, site);
        }
        #[cfg(not(feature = "enabled"))]
        let _ = site;
    }

    /// A blocking (or timed) upgrade of this thread's shared hold of `instance` to exclusive:
    /// the upgrade waits for the other readers, so it is validated as an exclusive
    /// acquisition with the shared hold set aside, and held exclusively after. When `upgrade`
    /// gives up (false), the shared hold is put back.
    #[inline]
    pub(crate) fn upgrade(
        &self,
        instance: usize,
        site: &'static Location<'static>,
        upgrade: impl FnOnce() -> bool,
    ) -> bool {
        #[cfg(feature = "enabled")]
        {
            let instance = Instance::lock(instance);
            let held = entry::suspend(instance);
            let pending = match held {
                Some((class, _)) if crate::mode::is_checking() => {
                    Pending::validated(Acquisition::blocking(class, Access::Write, site, instance))
                }
                _ => Pending::UNTRACKED,
            };
            let upgraded = upgrade();
            if upgraded {
                pending.commit(instance);
            } else if let Some((class, access)) = held {
                Pending::tried(Acquisition::blocking(class, access, site, instance))
                    .commit(instance);
            }
            upgraded
        }
        #[cfg(not(feature = "enabled"))]
        {
            let _ = (instance, site);
            upgrade()
        }
    }

    /// The hold of `instance` becomes `access` (a downgrade: weaker, so nothing to validate).
    #[inline]
    pub(crate) fn change_access(&self, instance: usize, access: Access) {
        #[cfg(feature = "enabled")]
        entry::change_access(Instance::lock(instance), access);
        #[cfg(not(feature = "enabled"))]
        let _ = (instance, access);
    }

    /// Panics unless this thread holds `instance` (when checking).
    #[track_caller]
    pub(crate) fn assert_held(&self, instance: usize) {
        #[cfg(feature = "enabled")]
        if self.is_checked() && !entry::holds(Instance::lock(instance)) {
            panic!("lockdep: lock {} is not held by this thread", self.name());
        }
        #[cfg(not(feature = "enabled"))]
        let _ = instance;
    }

    /// Panics if this thread holds `instance` (when checking).
    #[track_caller]
    pub(crate) fn assert_not_held(&self, instance: usize) {
        #[cfg(feature = "enabled")]
        if self.is_checked() && entry::holds(Instance::lock(instance)) {
            panic!("lockdep: lock {} is held by this thread", self.name());
        }
        #[cfg(not(feature = "enabled"))]
        let _ = instance;
    }
}

#[cfg(feature = "enabled")]
impl LockMap {
    /// Validates an acquisition of `instance` as `access` at `site` that is not held after:
    /// a wait for what this map stands for that does not take it (a complete one-time
    /// initialization). It records the held locks' dependencies on the class, and so nothing
    /// when this thread holds none, which is looked at first (one thread-local read, instead
    /// of a chain-key lookup).
    #[inline]
    pub(crate) fn validate_only(
        &self,
        instance: usize,
        access: Access,
        site: &'static Location<'static>,
    ) {
        if crate::mode::is_checking() && entry::holds_any() {
            self.acquire(instance, 0, access, site, || false);
        }
    }

    /// True when the checker is on and this thread holds `instance` (its held stack has it).
    pub(crate) fn holds(&self, instance: usize) -> bool {
        self.is_checked() && entry::holds(Instance::lock(instance))
    }

    /// True when this lock is checked now (it has a class and the checker is on).
    fn is_checked(&self) -> bool {
        crate::mode::is_checking() && self.class(0).is_some()
    }

    /// Holds the lock at `instance`, just taken as `access` at `site` without waiting,
    /// checking being on (in epoch `epoch`), if its chain is one this context validated
    /// before (or it is not tracked); false when it is to be validated first (see
    /// `Checked::acquire`).
    ///
    /// Out of line where debug assertions are on (see [`acquisition`](LockMap::acquisition)
    /// for why), everything below it inlined into it: the whole of an uncontended
    /// acquisition in a test build is this one call into the crate.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(crate) fn held_at_once(
        &self,
        instance: usize,
        access: Access,
        site: &'static Location<'static>,
        epoch: u32,
    ) -> bool {
        let class = crate::thin::load_u32(&self.class, Acquire);
        if class.wrapping_add(1) <= 1 {
            // Not registered yet (the validated path registers it), or without a class (not
            // tracked).
            return class == NO_CLASS;
        }
        let memo = &self.order as *const entry::OrderMemo as usize;
        match entry::acquired(class, access, site, Instance::lock(instance), memo, epoch) {
            entry::Acquired::Held => {
                self.now_held(instance, access);
                true
            }
            entry::Acquired::Untracked => true,
            entry::Acquired::Unknown => false,
        }
    }

    /// The acquisition of the lock at `instance` (0: none, for `might_lock`), when checking.
    ///
    /// Inlined only where debug assertions are off. A test build has them on: there the
    /// caller's crate, which instantiates the generic lock paths, is usually unoptimised,
    /// and everything `#[inline]` is compiled into it at its level (five times parking_lot's
    /// cost for a nest of two locks, measured); called out of line, this runs as this crate
    /// was compiled, optimised under `cargo lockdep` and the user guide's profile advice
    /// (`book/src/performance.md`). The same holds for [`release`](LockMap::release) and
    /// [`Pending`]'s steps.
    #[cfg_attr(not(debug_assertions), inline)]
    fn acquisition(
        &self,
        instance: usize,
        subclass: u32,
        access: Access,
        site: &'static Location<'static>,
    ) -> Option<Acquisition> {
        if !crate::mode::is_checking() {
            return None;
        }
        self.acquisition_of(instance, subclass, access, site)
    }

    /// [`acquisition`](LockMap::acquisition) once the caller knows the checker is on.
    #[cfg_attr(not(debug_assertions), inline)]
    fn acquisition_of(
        &self,
        instance: usize,
        subclass: u32,
        access: Access,
        site: &'static Location<'static>,
    ) -> Option<Acquisition> {
        let class = self.class(subclass)?;
        Some(Acquisition::of_lock(
            class,
            access,
            site,
            Instance::lock(instance),
            &self.order,
        ))
    }

    #[inline]
    fn class(&self, subclass: u32) -> Option<ClassId> {
        let base = match self.class.load(Acquire) {
            0 => self.register()?,
            NO_CLASS => return None,
            base => base,
        };
        if subclass == 0 {
            Some(base)
        } else {
            entry::subclass(base, subclass)
        }
    }

    #[cold]
    fn register(&self) -> Option<ClassId> {
        let id = match self.key {
            MapKey::Site(site, data_type, kind) => {
                entry::site_class(site, kind.into(), data_type())
            }
            MapKey::Static(class) => entry::static_class(class),
            MapKey::Unkeyed(kind) => {
                let id = entry::class_of_first_use(kind.into());
                self.class.store(id.unwrap_or(NO_CLASS), Release);
                return id;
            }
            MapKey::Registered(0, _) => return None,
            MapKey::Registered(id, _) => return Some(id),
        };
        self.class.store(id?, Release);
        id
    }

    /// The class's printed name.
    pub(crate) fn name(&self) -> String {
        match self.key {
            MapKey::Site(site, data_type, _) => entry::site_name(site, data_type()),
            MapKey::Static(class) => class.name().to_owned(),
            MapKey::Registered(0, _) => "<no class>".to_owned(),
            MapKey::Registered(id, _) => entry::class_name(id).to_owned(),
            MapKey::Unkeyed(_) => match self.class.load(Acquire) {
                0 | NO_CLASS => "<no class>".to_owned(),
                id => entry::class_name(id).to_owned(),
            },
        }
    }

    /// The class's id when checking is on (registering it on first use).
    #[inline]
    pub(crate) fn checked_class(&self) -> Option<ClassId> {
        if crate::mode::is_checking() {
            self.class(0)
        } else {
            None
        }
    }

    /// An acquisition of this map's own class (a `LockdepMap`'s) as `access` at `site`, when
    /// checking: the map's address is the instance of a lock.
    #[inline]
    pub(crate) fn own_acquisition(
        &self,
        access: Access,
        trylock: bool,
        site: &'static Location<'static>,
    ) -> Option<Acquisition> {
        let class = self.checked_class()?;
        let instance = self.own_instance(class);
        let acq = Acquisition::blocking(class, access, site, instance);
        Some(if trylock { acq.by_try() } else { acq })
    }

    /// Validates the blocking acquisition `acq` of this map's class (nothing held after); of
    /// an event, a wait that may happen.
    #[inline]
    pub(crate) fn validate_own(&self, acq: &Acquisition) {
        entry::might_acquire(acq, self.kind().into());
    }

    /// lock_stat: a blocking acquisition `acq` of this map's class (its instance the map's
    /// address) has to wait, timed until the value returned is dropped; `None` unless
    /// lock_stat is on.
    #[cfg(feature = "tokio")] // used by the tokio drop-in only
    #[inline]
    pub(crate) fn stat_wait(&self, acq: &Acquisition) -> Option<entry::StatWait> {
        crate::mode::stat_on()
            .then(|| entry::stat_contended(acq.class, acq.access, self.own_address(), acq.site))
    }

    /// lock_stat: `acq`, an acquisition of this map's class, took it (its hold is not timed:
    /// it ends wherever its guard or permit is dropped).
    #[cfg(feature = "tokio")] // used by the tokio drop-in only
    #[inline]
    pub(crate) fn stat_acquired(&self, acq: &Acquisition) {
        if crate::mode::stat_on() {
            entry::stat_acquired(acq.class, acq.access, self.own_address(), acq.site, false);
        }
    }

    /// This map's address: lock_stat's instance for the map's own class.
    #[cfg(feature = "tokio")]
    fn own_address(&self) -> usize {
        self as *const LockMap as usize
    }

    /// The hold of `acq`, taken now: an event is never held.
    #[inline]
    pub(crate) fn begin_hold(&self, acq: &Acquisition) -> Hold {
        match self.kind() {
            ClassKind::Event => Hold::untracked(),
            kind => Hold::begin(acq, kind == ClassKind::Pool),
        }
    }

    /// A blocking acquisition of this map's class as `access` at `site` that took what it
    /// wanted without waiting: validated and held at once (an event is never held).
    #[cfg(feature = "tokio")] // used by the tokio drop-in only
    #[inline]
    pub(crate) fn acquired_at_once(
        &self,
        access: Access,
        site: &'static Location<'static>,
    ) -> Option<Hold> {
        let acq = self.own_acquisition(access, false, site)?;
        Some(match self.kind() {
            ClassKind::Event => {
                self.validate_own(&acq);
                Hold::untracked()
            }
            kind => Hold::validate_and_begin(&acq, kind == ClassKind::Pool),
        })
    }

    /// A hold of this map's class taken by a try at `site` (receiving never blocks).
    pub(crate) fn hold_at(&self, site: &'static Location<'static>) -> Hold {
        match self.own_acquisition(Access::Write, true, site) {
            Some(acq) => self.begin_hold(&acq),
            None => Hold::untracked(),
        }
    }

    /// `ALLOC → class`: memory reclaim may wait for this class (its units are freed by
    /// reclaim), at the class's creation site (else `site`). Recorded whatever the mode, as
    /// the graph must know it if checking is turned on later; not after a fault.
    pub(crate) fn add_reclaim_dependency(&self, site: &'static Location<'static>) {
        if crate::mode::faulted() {
            return;
        }
        if let Some(class) = self.class(0) {
            let site = entry::class_site(class).unwrap_or(site);
            entry::add_reclaim_dependency(class, site, self.own_instance(class));
        }
    }

    /// Reports this map's class dropped with `outstanding` holds still out (a pool's
    /// elements), naming the class's creation site (else `site`).
    pub(crate) fn report_outstanding(&self, outstanding: usize, site: &'static Location<'static>) {
        if let Some(pool) = self.checked_class() {
            entry::report_outstanding(pool, outstanding, site);
        }
    }

    /// The class's registered name (registering it now), or `<no class>`.
    pub(crate) fn class_name(&self) -> &'static str {
        match self.class(0) {
            Some(id) => entry::class_name(id),
            None => "<no class>",
        }
    }

    /// What this map (a `LockdepMap`'s, of class `class`) is as a held entry: for a lock, the
    /// map's own address; for a counted class or an event, the class (their holds are per
    /// class).
    #[inline]
    fn own_instance(&self, class: ClassId) -> Instance {
        match self.kind() {
            ClassKind::Lock => Instance::lock(self as *const LockMap as usize),
            _ => Instance::class(class),
        }
    }

    /// What the class stands for, from the key (no registry lookup: the kind is part of it).
    #[inline]
    fn kind(&self) -> ClassKind {
        match self.key {
            MapKey::Site(_, _, kind) | MapKey::Registered(_, kind) => kind,
            MapKey::Static(class) => class.kind(),
            MapKey::Unkeyed(kind) => kind,
        }
    }
}

/// Runs `f` as a primitive's own bookkeeping, which the checker does not look at: the waits
/// and wake-ups inside a primitive built on `parking_lot_core` or `lockdep_raw` (the first
/// park of a thread allocates parking_lot_core's thread data and may grow its table, and
/// under a [`TrackingAllocator`](crate::TrackingAllocator) that would otherwise be charged to
/// the locks this thread holds). Nothing inside is validated or recorded: locks, allocations,
/// waits. The kernel's `lockdep_off()`/`lockdep_on()` around one call.
///
/// # Examples
///
/// ```
/// use lockdep::untracked_scope;
///
/// let raw = lockdep_raw::Condvar::new();
/// untracked_scope(|| raw.notify_all()); // a primitive's internal wake-up
/// ```
#[inline]
pub fn untracked_scope<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(feature = "enabled")]
    return entry::untracked(f);
    #[cfg(not(feature = "enabled"))]
    f()
}
