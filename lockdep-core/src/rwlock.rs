//! `RwLock`: `lock_api`'s reader-writer lock over the checked [`RawRwLock`], with
//! creation-site classes, acquisition sites and the kernel's read/write rules.

use crate::shape;
use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

use lock_api::{RawRwLock as _, RawRwLockRecursive as _, RawRwLockUpgrade as _};

use crate::hook::lock_map::LockMap;
use crate::raw_mutex::deadline;
use crate::raw_rwlock::RawRwLock;
use lockdep_report::Access;

/// The guards of an `RwLock<T, RECURSIVE>` (the public aliases are those of `RECURSIVE =
/// false`).
type ReadGuard<'a, T, const R: bool> = lock_api::RwLockReadGuard<'a, RawRwLock<R>, T>;
type WriteGuard<'a, T, const R: bool> = lock_api::RwLockWriteGuard<'a, RawRwLock<R>, T>;
type UpgradableGuard<'a, T, const R: bool> =
    lock_api::RwLockUpgradableReadGuard<'a, RawRwLock<R>, T>;
use crate::LockClass;

#[cfg(feature = "arc_lock")]
use lock_api::{ArcRwLockReadGuard, ArcRwLockUpgradableReadGuard, ArcRwLockWriteGuard};
#[cfg(feature = "arc_lock")]
use std::sync::Arc;

/// Shared guard of an [`RwLock`] (`lock_api`'s: `map`, `unlocked`, `bump` come with it).
pub type RwLockReadGuard<'a, T> = lock_api::RwLockReadGuard<'a, RawRwLock, T>;
/// Exclusive guard of an [`RwLock`] (`lock_api`'s: also `downgrade`,
/// `downgrade_to_upgradable`).
pub type RwLockWriteGuard<'a, T> = lock_api::RwLockWriteGuard<'a, RawRwLock, T>;
/// Upgradable read guard of an [`RwLock`] (`lock_api`'s: `upgrade`, `try_upgrade`,
/// `downgrade`).
pub type RwLockUpgradableReadGuard<'a, T> = lock_api::RwLockUpgradableReadGuard<'a, RawRwLock, T>;
/// A read guard mapped to a part of the data.
pub type MappedRwLockReadGuard<'a, T> = lock_api::MappedRwLockReadGuard<'a, RawRwLock, T>;
/// A write guard mapped to a part of the data.
pub type MappedRwLockWriteGuard<'a, T> = lock_api::MappedRwLockWriteGuard<'a, RawRwLock, T>;

/// A reader-writer lock with the API of `parking_lot::RwLock`, validated by the checker.
///
/// The ways in follow the kernel's rules:
/// - [`write`](RwLock::write): exclusive.
/// - [`read`](RwLock::read): a *non-recursive* read: it queues behind a waiting writer, so
///   taking it twice on one thread can deadlock (the kernel's `down_read`), and it is reported.
/// - [`read_recursive`](RwLock::read_recursive): a recursive read that never waits for another
///   reader's writer (the kernel's `read_lock` on `rwlock_t`): nesting it is fine, and cycles
///   through it count only if they are strong paths.
/// - [`upgradable_read`](RwLock::upgradable_read): ordered like `read` (it queues behind a
///   waiting writer); upgrading it is validated as a write.
///
/// # Examples
///
/// ```
/// use lockdep::RwLock;
///
/// let config = RwLock::new(String::from("v1"));
/// assert_eq!(*config.read(), "v1");
/// config.write().push('!');
/// let a = config.read_recursive();
/// let b = config.read_recursive(); // recursive reads nest
/// assert_eq!(*a, *b);
/// ```
///
/// `RECURSIVE`: every `read` is a recursive read (the lock of a
/// [`RecursiveRwLock`](crate::RecursiveRwLock), which dereferences to it).
#[repr(transparent)]
pub struct RwLock<T: ?Sized, const RECURSIVE: bool = false> {
    inner: lock_api::RwLock<RawRwLock<RECURSIVE>, T>,
}

/// A reader-writer lock whose class is its creation site: [`RwLock::new`] as a free function
/// (parking_lot's `const_rwlock`).
///
/// # Examples
///
/// ```
/// static L: lockdep::RwLock<u8> = lockdep::const_rwlock(0);
/// assert_eq!(*L.read(), 0);
/// ```
#[track_caller]
#[inline]
pub const fn const_rwlock<T>(value: T) -> RwLock<T> {
    RwLock::new(value)
}

impl<T> RwLock<T> {
    /// A new unlocked lock whose class is the caller's source location.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockdep::RwLock::new(0);
    /// assert_eq!(*l.read(), 0);
    /// ```
    #[track_caller]
    #[inline]
    pub const fn new(value: T) -> Self {
        RwLock {
            inner: lock_api::RwLock::const_new(
                RawRwLock::with_map(LockMap::at_site::<shape::RwLock<T>>(Location::caller())),
                value,
            ),
        }
    }

    /// A new unlocked lock of the named class `class`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{LockClass, RwLock};
    /// static TABLE: LockClass = LockClass::new("table rwlock");
    /// let t = RwLock::with_class(0, &TABLE);
    /// assert_eq!(*t.read(), 0);
    /// ```
    #[inline]
    pub const fn with_class(value: T, class: &'static LockClass) -> Self {
        RwLock {
            inner: lock_api::RwLock::const_new(
                RawRwLock::with_map(LockMap::with_class(class)),
                value,
            ),
        }
    }

    /// A new unlocked lock of the named class `class`, with the declared order key `key`:
    /// see [`Mutex::with_class_key`](crate::Mutex::with_class_key).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{LockClass, RwLock};
    /// static SHARD: LockClass = LockClass::new("doc-rw-shard");
    /// let shards: Vec<RwLock<u32>> = (0..4).map(|i| RwLock::with_class_key(0, &SHARD, i)).collect();
    /// let _first = shards[0].write();
    /// let _second = shards[1].write(); // by increasing key: as declared
    /// ```
    #[inline]
    pub const fn with_class_key(value: T, class: &'static LockClass, key: u64) -> Self {
        RwLock {
            inner: lock_api::RwLock::const_new(
                RawRwLock::with_map(LockMap::with_class_key(class, key)),
                value,
            ),
        }
    }

    /// A new unlocked lock of the class named `name`, registered now: every lock made with
    /// one name (and kind) is one class, as with a [`LockClass`] of that name.
    #[cfg(feature = "enabled")]
    #[track_caller]
    pub(crate) fn named(name: &str, value: T) -> Self {
        RwLock {
            inner: lock_api::RwLock::const_new(
                RawRwLock::with_map(LockMap::named(
                    name,
                    crate::ClassKind::Lock,
                    Location::caller(),
                )),
                value,
            ),
        }
    }

    /// A lock over `raw_rwlock` (`lock_api`'s `const_new`); one made by `INIT` gets the
    /// caller's source location as its class.
    ///
    /// # Examples
    ///
    /// ```
    /// use lock_api::RawRwLock as _;
    /// static L: lockdep::RwLock<u8> = lockdep::RwLock::const_new(lockdep::RawRwLock::INIT, 1);
    /// assert_eq!(*L.read(), 1);
    /// ```
    #[track_caller]
    #[inline]
    pub const fn const_new(raw_rwlock: RawRwLock, value: T) -> Self {
        RwLock {
            inner: lock_api::RwLock::const_new(
                raw_rwlock.or_site::<shape::RwLock<T>>(Location::caller()),
                value,
            ),
        }
    }

    /// The same as [`const_new`](RwLock::const_new) (`lock_api`'s `from_raw`).
    ///
    /// # Examples
    ///
    /// ```
    /// use lock_api::RawRwLock as _;
    /// let l = lockdep::RwLock::from_raw(lockdep::RawRwLock::INIT, 2);
    /// assert_eq!(*l.read(), 2);
    /// ```
    #[track_caller]
    #[inline]
    pub const fn from_raw(raw_rwlock: RawRwLock, value: T) -> Self {
        RwLock {
            inner: lock_api::RwLock::const_new(
                raw_rwlock.or_site::<shape::RwLock<T>>(Location::caller()),
                value,
            ),
        }
    }
}

impl<T, const RECURSIVE: bool> RwLock<T, RECURSIVE> {
    /// A lock over `raw`, whose class is the one `raw` was made with.
    #[inline]
    pub(crate) const fn with_raw(raw: RawRwLock<RECURSIVE>, value: T) -> Self {
        RwLock {
            inner: lock_api::RwLock::const_new(raw, value),
        }
    }

    /// Consumes the lock, returning the data.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(lockdep::RwLock::new(4).into_inner(), 4);
    /// ```
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized, const RECURSIVE: bool> RwLock<T, RECURSIVE> {
    // Always inlined, as the guards' constructors: these generic methods are compiled in the
    // caller's crate, where an unoptimised build would make each a call of its own.
    #[inline(always)]
    fn raw_lock(&self) -> &RawRwLock<RECURSIVE> {
        // SAFETY: only used to lock through the checker and to query; the guards made after a
        // successful acquisition are what unlock.
        unsafe { self.inner.raw() }
    }

    #[inline(always)]
    fn read_guard(&self) -> ReadGuard<'_, T, RECURSIVE> {
        // SAFETY: called right after this thread took a shared lock.
        unsafe { self.inner.make_read_guard_unchecked() }
    }

    #[inline(always)]
    fn write_guard(&self) -> WriteGuard<'_, T, RECURSIVE> {
        // SAFETY: called right after this thread took the exclusive lock.
        unsafe { self.inner.make_write_guard_unchecked() }
    }

    #[inline(always)]
    fn upgradable_guard(&self) -> UpgradableGuard<'_, T, RECURSIVE> {
        // SAFETY: called right after this thread took the upgradable lock.
        unsafe { self.inner.make_upgradable_guard_unchecked() }
    }

    /// Shared access, non-recursive: may wait behind a queued writer, so taking it while this
    /// thread already reads the same class is reported (`down_read` twice).
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockdep::RwLock::new(1);
    /// assert_eq!(*l.read(), 1);
    /// ```
    #[track_caller]
    #[inline]
    pub fn read(&self) -> ReadGuard<'_, T, RECURSIVE> {
        self.raw_lock().lock_shared_at(0, Location::caller());
        self.read_guard()
    }

    /// Shared access that never waits for a queued writer when another reader holds the lock
    /// (parking_lot's `read_recursive`): may nest on one thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockdep::RwLock::new(1);
    /// let (a, b) = (l.read_recursive(), l.read_recursive());
    /// assert_eq!(*a + *b, 2);
    /// ```
    #[track_caller]
    #[inline]
    pub fn read_recursive(&self) -> ReadGuard<'_, T, RECURSIVE> {
        self.raw_lock()
            .lock_shared_recursive_at(0, Location::caller());
        self.read_guard()
    }

    /// Exclusive access.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockdep::RwLock::new(1);
    /// *l.write() += 1;
    /// assert_eq!(*l.read(), 2);
    /// ```
    #[track_caller]
    #[inline]
    pub fn write(&self) -> WriteGuard<'_, T, RECURSIVE> {
        self.raw_lock().lock_exclusive_at(0, Location::caller());
        self.write_guard()
    }

    /// Exclusive access as nesting subclass `subclass` (see
    /// [`Mutex::lock_nested`](crate::Mutex::lock_nested)).
    #[track_caller]
    #[inline]
    pub fn write_nested(&self, subclass: u32) -> WriteGuard<'_, T, RECURSIVE> {
        self.raw_lock()
            .lock_exclusive_at(subclass, Location::caller());
        self.write_guard()
    }

    /// Shared access (non-recursive) as nesting subclass `subclass`.
    #[track_caller]
    #[inline]
    pub fn read_nested(&self, subclass: u32) -> ReadGuard<'_, T, RECURSIVE> {
        self.raw_lock().lock_shared_at(subclass, Location::caller());
        self.read_guard()
    }

    /// Upgradable shared access: excludes writers and other upgradable readers, admits plain
    /// readers; ordered like [`read`](RwLock::read). Upgrade it with
    /// [`RwLockUpgradableReadGuard::upgrade`].
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{RwLock, RwLockUpgradableReadGuard};
    /// let l = RwLock::new(1);
    /// let up = l.upgradable_read();
    /// // Readers on other threads still get in.
    /// std::thread::scope(|s| s.spawn(|| assert_eq!(*l.read(), 1)).join().unwrap());
    /// *RwLockUpgradableReadGuard::upgrade(up) = 2;
    /// assert_eq!(*l.read(), 2);
    /// ```
    #[track_caller]
    #[inline]
    pub fn upgradable_read(&self) -> UpgradableGuard<'_, T, RECURSIVE> {
        self.raw_lock().lock_upgradable_at(Location::caller());
        self.upgradable_guard()
    }

    /// Shared access without blocking; not validated, held afterwards.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockdep::RwLock::new(1);
    /// let w = l.write();
    /// assert!(l.try_read().is_none());
    /// drop(w);
    /// assert!(l.try_read().is_some());
    /// ```
    #[track_caller]
    #[inline]
    pub fn try_read(&self) -> Option<ReadGuard<'_, T, RECURSIVE>> {
        self.raw_lock()
            .try_read_at(Location::caller())
            .then(|| self.read_guard())
    }

    /// Recursive shared access without blocking.
    #[track_caller]
    #[inline]
    pub fn try_read_recursive(&self) -> Option<ReadGuard<'_, T, RECURSIVE>> {
        self.raw_lock()
            .try_at(Access::RecursiveRead, Location::caller(), |r| {
                r.try_lock_shared_recursive()
            })
            .then(|| self.read_guard())
    }

    /// Exclusive access without blocking; not validated, held afterwards.
    #[track_caller]
    #[inline]
    pub fn try_write(&self) -> Option<WriteGuard<'_, T, RECURSIVE>> {
        self.raw_lock()
            .try_at(Access::Write, Location::caller(), |r| {
                r.try_lock_exclusive()
            })
            .then(|| self.write_guard())
    }

    /// Upgradable access without blocking.
    #[track_caller]
    #[inline]
    pub fn try_upgradable_read(&self) -> Option<UpgradableGuard<'_, T, RECURSIVE>> {
        self.raw_lock()
            .try_at(Access::Read, Location::caller(), |r| {
                r.try_lock_upgradable()
            })
            .then(|| self.upgradable_guard())
    }

    /// Shared access, giving up after `timeout`; validated like [`read`](RwLock::read).
    #[track_caller]
    #[inline]
    pub fn try_read_for(&self, timeout: Duration) -> Option<ReadGuard<'_, T, RECURSIVE>> {
        self.try_read_until(deadline(timeout))
    }

    /// Shared access, giving up at `deadline`; validated like [`read`](RwLock::read).
    #[track_caller]
    #[inline]
    pub fn try_read_until(&self, deadline: Instant) -> Option<ReadGuard<'_, T, RECURSIVE>> {
        self.raw_lock()
            .timed_read_at(deadline, Location::caller())
            .then(|| self.read_guard())
    }

    /// Exclusive access, giving up after `timeout`; validated like [`write`](RwLock::write).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let l = lockdep::RwLock::new(());
    /// assert!(l.try_write_for(Duration::from_millis(1)).is_some());
    /// ```
    #[track_caller]
    #[inline]
    pub fn try_write_for(&self, timeout: Duration) -> Option<WriteGuard<'_, T, RECURSIVE>> {
        self.try_write_until(deadline(timeout))
    }

    /// Exclusive access, giving up at `deadline`; validated like [`write`](RwLock::write).
    #[track_caller]
    #[inline]
    pub fn try_write_until(&self, deadline: Instant) -> Option<WriteGuard<'_, T, RECURSIVE>> {
        self.raw_lock()
            .timed_write_at(deadline, Location::caller())
            .then(|| self.write_guard())
    }

    /// Recursive shared access, giving up after `timeout`; validated like
    /// [`read_recursive`](RwLock::read_recursive).
    #[track_caller]
    #[inline]
    pub fn try_read_recursive_for(&self, timeout: Duration) -> Option<ReadGuard<'_, T, RECURSIVE>> {
        self.try_read_recursive_until(deadline(timeout))
    }

    /// Recursive shared access, giving up at `deadline`.
    #[track_caller]
    #[inline]
    pub fn try_read_recursive_until(
        &self,
        deadline: Instant,
    ) -> Option<ReadGuard<'_, T, RECURSIVE>> {
        self.raw_lock()
            .timed_recursive_read_at(deadline, Location::caller())
            .then(|| self.read_guard())
    }

    /// Upgradable access, giving up after `timeout`; validated like
    /// [`upgradable_read`](RwLock::upgradable_read).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let l = lockdep::RwLock::new(());
    /// let up = l.try_upgradable_read_for(Duration::from_millis(1)).unwrap();
    /// // Another thread gives up: upgradable reads exclude each other.
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(l.try_upgradable_read_for(Duration::from_millis(1)).is_none()));
    /// });
    /// drop(up);
    /// ```
    #[track_caller]
    #[inline]
    pub fn try_upgradable_read_for(
        &self,
        timeout: Duration,
    ) -> Option<UpgradableGuard<'_, T, RECURSIVE>> {
        self.try_upgradable_read_until(deadline(timeout))
    }

    /// Upgradable access, giving up at `deadline`.
    #[track_caller]
    #[inline]
    pub fn try_upgradable_read_until(
        &self,
        deadline: Instant,
    ) -> Option<UpgradableGuard<'_, T, RECURSIVE>> {
        self.raw_lock()
            .timed_upgradable_at(deadline, Location::caller())
            .then(|| self.upgradable_guard())
    }

    /// Records the dependencies of `write()` now without taking the lock.
    #[track_caller]
    pub fn might_lock(&self) {
        self.raw_lock()
            .might_lock_at(Access::Write, Location::caller());
    }

    /// Records the dependencies of `read()` now without taking the lock.
    #[track_caller]
    pub fn might_lock_read(&self) {
        self.raw_lock()
            .might_lock_at(Access::Read, Location::caller());
    }

    /// Checks that this thread holds this lock (read or write).
    ///
    /// # Panics
    ///
    /// When the checker is on and this thread does not hold it.
    #[track_caller]
    pub fn assert_held(&self) {
        self.raw_lock().assert_held();
    }

    /// Checks that this thread does not hold this lock.
    ///
    /// # Panics
    ///
    /// When the checker is on and this thread holds it.
    #[track_caller]
    pub fn assert_not_held(&self) {
        self.raw_lock().assert_not_held();
    }

    /// True if some thread holds the lock in any mode.
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.raw_lock().is_locked()
    }

    /// True if some thread holds the lock exclusively.
    #[inline]
    pub fn is_locked_exclusive(&self) -> bool {
        self.raw_lock().is_locked_exclusive()
    }

    /// Mutable access without locking.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut l = lockdep::RwLock::new(1);
    /// *l.get_mut() = 3;
    /// assert_eq!(*l.read(), 3);
    /// ```
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// A raw pointer to the data, for code that synchronises by other means.
    #[inline]
    pub fn data_ptr(&self) -> *mut T {
        self.inner.data_ptr()
    }

    /// The raw lock, for `lock_api`-level code.
    ///
    /// # Safety
    ///
    /// It must not be unlocked unless this thread holds it through a guard it gave up.
    ///
    /// # Examples
    ///
    /// ```
    /// use lock_api::RawRwLock as _;
    /// let l = lockdep::RwLock::new(());
    /// // SAFETY: only queried.
    /// assert!(!unsafe { l.raw() }.is_locked());
    /// ```
    #[inline]
    pub unsafe fn raw(&self) -> &RawRwLock<RECURSIVE> {
        self.raw_lock()
    }

    /// Forcibly releases a shared hold (for a read guard given up with `mem::forget`); the
    /// checker sees the release on this thread.
    ///
    /// # Safety
    ///
    /// This thread must hold the lock shared, through a read guard it forgot.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockdep::RwLock::new(());
    /// std::mem::forget(l.read());
    /// // SAFETY: read-locked by the guard forgotten just above, on this thread.
    /// unsafe { l.force_unlock_read() };
    /// assert!(!l.is_locked());
    /// ```
    #[inline]
    pub unsafe fn force_unlock_read(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.inner.force_unlock_read() }
    }

    /// Forcibly releases the exclusive hold (for a write guard given up with `mem::forget`).
    ///
    /// # Safety
    ///
    /// This thread must hold the lock exclusively, through a write guard it forgot.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = lockdep::RwLock::new(());
    /// std::mem::forget(l.write());
    /// // SAFETY: write-locked by the guard forgotten just above, on this thread.
    /// unsafe { l.force_unlock_write() };
    /// assert!(!l.is_locked());
    /// ```
    #[inline]
    pub unsafe fn force_unlock_write(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.inner.force_unlock_write() }
    }

    /// [`force_unlock_read`](RwLock::force_unlock_read) with a fair unlock.
    ///
    /// # Safety
    ///
    /// As for `force_unlock_read`.
    #[inline]
    pub unsafe fn force_unlock_read_fair(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.inner.force_unlock_read_fair() }
    }

    /// [`force_unlock_write`](RwLock::force_unlock_write) with a fair unlock.
    ///
    /// # Safety
    ///
    /// As for `force_unlock_write`.
    #[inline]
    pub unsafe fn force_unlock_write_fair(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.inner.force_unlock_write_fair() }
    }

    /// A read guard for a shared hold this thread has without one.
    ///
    /// # Safety
    ///
    /// This thread must hold the lock shared, and no guard may exist for that hold.
    #[inline]
    pub unsafe fn make_read_guard_unchecked(&self) -> ReadGuard<'_, T, RECURSIVE> {
        // SAFETY: forwarded contract.
        unsafe { self.inner.make_read_guard_unchecked() }
    }

    /// A write guard for an exclusive hold this thread has without one.
    ///
    /// # Safety
    ///
    /// This thread must hold the lock exclusively, and no guard may exist for that hold.
    ///
    /// # Examples
    ///
    /// ```
    /// use lock_api::RawRwLock as _;
    /// let l = lockdep::RwLock::new(1);
    /// // SAFETY: write-locked here, on this thread, with no guard.
    /// let mut w = unsafe {
    ///     l.raw().lock_exclusive();
    ///     l.make_write_guard_unchecked()
    /// };
    /// *w = 2;
    /// ```
    #[inline]
    pub unsafe fn make_write_guard_unchecked(&self) -> WriteGuard<'_, T, RECURSIVE> {
        // SAFETY: forwarded contract.
        unsafe { self.inner.make_write_guard_unchecked() }
    }

    /// An upgradable guard for an upgradable hold this thread has without one.
    ///
    /// # Safety
    ///
    /// This thread must hold the lock upgradable, and no guard may exist for that hold.
    #[inline]
    pub unsafe fn make_upgradable_guard_unchecked(&self) -> UpgradableGuard<'_, T, RECURSIVE> {
        // SAFETY: forwarded contract.
        unsafe { self.inner.make_upgradable_guard_unchecked() }
    }
}

/// The owned guards (feature `arc_lock`): each method is its borrowed namesake without `_arc`,
/// validated the same way, with a guard that owns an `Arc` of the lock.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// let l = Arc::new(lockdep::RwLock::new(1));
/// let r = l.read_arc();
/// assert_eq!(*r, 1);
/// drop(r);
/// *l.write_arc() += 1;
/// assert_eq!(*l.upgradable_read_arc(), 2);
/// ```
#[cfg(feature = "arc_lock")]
impl<T: ?Sized, const RECURSIVE: bool> RwLock<T, RECURSIVE> {
    /// An `Arc` of the `lock_api` lock inside, sharing `self`'s count.
    #[inline]
    fn arc(self: &Arc<Self>) -> Arc<lock_api::RwLock<RawRwLock<RECURSIVE>, T>> {
        let ptr =
            Arc::into_raw(Arc::clone(self)) as *const lock_api::RwLock<RawRwLock<RECURSIVE>, T>;
        // SAFETY: a pointer from `Arc::into_raw`, to an `RwLock`, which is
        // `repr(transparent)` over `lock_api::RwLock<RawRwLock, T>` (same size and alignment).
        unsafe { Arc::from_raw(ptr) }
    }

    #[inline]
    fn arc_read_guard(self: &Arc<Self>) -> ArcRwLockReadGuard<RawRwLock<RECURSIVE>, T> {
        // SAFETY: called right after this thread took a shared lock.
        unsafe { self.arc().make_arc_read_guard_unchecked() }
    }

    #[inline]
    fn arc_write_guard(self: &Arc<Self>) -> ArcRwLockWriteGuard<RawRwLock<RECURSIVE>, T> {
        // SAFETY: called right after this thread took the exclusive lock.
        unsafe { self.arc().make_arc_write_guard_unchecked() }
    }

    #[inline]
    fn arc_upgradable_guard(
        self: &Arc<Self>,
    ) -> ArcRwLockUpgradableReadGuard<RawRwLock<RECURSIVE>, T> {
        // SAFETY: called right after this thread took the upgradable lock.
        unsafe { self.arc().make_upgradable_arc_guard_unchecked() }
    }

    /// [`read`](RwLock::read), owned.
    #[track_caller]
    #[inline]
    pub fn read_arc(self: &Arc<Self>) -> ArcRwLockReadGuard<RawRwLock<RECURSIVE>, T> {
        self.raw_lock().lock_shared_at(0, Location::caller());
        self.arc_read_guard()
    }

    /// [`try_read`](RwLock::try_read), owned.
    #[track_caller]
    #[inline]
    pub fn try_read_arc(self: &Arc<Self>) -> Option<ArcRwLockReadGuard<RawRwLock<RECURSIVE>, T>> {
        self.raw_lock()
            .try_read_at(Location::caller())
            .then(|| self.arc_read_guard())
    }

    /// [`try_read_for`](RwLock::try_read_for), owned.
    #[track_caller]
    #[inline]
    pub fn try_read_arc_for(
        self: &Arc<Self>,
        timeout: Duration,
    ) -> Option<ArcRwLockReadGuard<RawRwLock<RECURSIVE>, T>> {
        self.try_read_arc_until(deadline(timeout))
    }

    /// [`try_read_until`](RwLock::try_read_until), owned.
    #[track_caller]
    #[inline]
    pub fn try_read_arc_until(
        self: &Arc<Self>,
        deadline: Instant,
    ) -> Option<ArcRwLockReadGuard<RawRwLock<RECURSIVE>, T>> {
        self.raw_lock()
            .timed_read_at(deadline, Location::caller())
            .then(|| self.arc_read_guard())
    }

    /// [`read_recursive`](RwLock::read_recursive), owned.
    #[track_caller]
    #[inline]
    pub fn read_arc_recursive(self: &Arc<Self>) -> ArcRwLockReadGuard<RawRwLock<RECURSIVE>, T> {
        self.raw_lock()
            .lock_shared_recursive_at(0, Location::caller());
        self.arc_read_guard()
    }

    /// [`try_read_recursive`](RwLock::try_read_recursive), owned.
    #[track_caller]
    #[inline]
    pub fn try_read_recursive_arc(
        self: &Arc<Self>,
    ) -> Option<ArcRwLockReadGuard<RawRwLock<RECURSIVE>, T>> {
        self.raw_lock()
            .try_at(Access::RecursiveRead, Location::caller(), |r| {
                r.try_lock_shared_recursive()
            })
            .then(|| self.arc_read_guard())
    }

    /// [`try_read_recursive_for`](RwLock::try_read_recursive_for), owned.
    #[track_caller]
    #[inline]
    pub fn try_read_arc_recursive_for(
        self: &Arc<Self>,
        timeout: Duration,
    ) -> Option<ArcRwLockReadGuard<RawRwLock<RECURSIVE>, T>> {
        self.try_read_arc_recursive_until(deadline(timeout))
    }

    /// [`try_read_recursive_until`](RwLock::try_read_recursive_until), owned.
    #[track_caller]
    #[inline]
    pub fn try_read_arc_recursive_until(
        self: &Arc<Self>,
        deadline: Instant,
    ) -> Option<ArcRwLockReadGuard<RawRwLock<RECURSIVE>, T>> {
        self.raw_lock()
            .timed_recursive_read_at(deadline, Location::caller())
            .then(|| self.arc_read_guard())
    }

    /// [`write`](RwLock::write), owned.
    #[track_caller]
    #[inline]
    pub fn write_arc(self: &Arc<Self>) -> ArcRwLockWriteGuard<RawRwLock<RECURSIVE>, T> {
        self.raw_lock().lock_exclusive_at(0, Location::caller());
        self.arc_write_guard()
    }

    /// [`try_write`](RwLock::try_write), owned.
    #[track_caller]
    #[inline]
    pub fn try_write_arc(self: &Arc<Self>) -> Option<ArcRwLockWriteGuard<RawRwLock<RECURSIVE>, T>> {
        self.raw_lock()
            .try_at(Access::Write, Location::caller(), |r| {
                r.try_lock_exclusive()
            })
            .then(|| self.arc_write_guard())
    }

    /// [`try_write_for`](RwLock::try_write_for), owned.
    #[track_caller]
    #[inline]
    pub fn try_write_arc_for(
        self: &Arc<Self>,
        timeout: Duration,
    ) -> Option<ArcRwLockWriteGuard<RawRwLock<RECURSIVE>, T>> {
        self.try_write_arc_until(deadline(timeout))
    }

    /// [`try_write_until`](RwLock::try_write_until), owned.
    #[track_caller]
    #[inline]
    pub fn try_write_arc_until(
        self: &Arc<Self>,
        deadline: Instant,
    ) -> Option<ArcRwLockWriteGuard<RawRwLock<RECURSIVE>, T>> {
        self.raw_lock()
            .timed_write_at(deadline, Location::caller())
            .then(|| self.arc_write_guard())
    }

    /// [`upgradable_read`](RwLock::upgradable_read), owned.
    #[track_caller]
    #[inline]
    pub fn upgradable_read_arc(
        self: &Arc<Self>,
    ) -> ArcRwLockUpgradableReadGuard<RawRwLock<RECURSIVE>, T> {
        self.raw_lock().lock_upgradable_at(Location::caller());
        self.arc_upgradable_guard()
    }

    /// [`try_upgradable_read`](RwLock::try_upgradable_read), owned.
    #[track_caller]
    #[inline]
    pub fn try_upgradable_read_arc(
        self: &Arc<Self>,
    ) -> Option<ArcRwLockUpgradableReadGuard<RawRwLock<RECURSIVE>, T>> {
        self.raw_lock()
            .try_at(Access::Read, Location::caller(), |r| {
                r.try_lock_upgradable()
            })
            .then(|| self.arc_upgradable_guard())
    }

    /// [`try_upgradable_read_for`](RwLock::try_upgradable_read_for), owned.
    #[track_caller]
    #[inline]
    pub fn try_upgradable_read_arc_for(
        self: &Arc<Self>,
        timeout: Duration,
    ) -> Option<ArcRwLockUpgradableReadGuard<RawRwLock<RECURSIVE>, T>> {
        self.try_upgradable_read_arc_until(deadline(timeout))
    }

    /// [`try_upgradable_read_until`](RwLock::try_upgradable_read_until), owned.
    #[track_caller]
    #[inline]
    pub fn try_upgradable_read_arc_until(
        self: &Arc<Self>,
        deadline: Instant,
    ) -> Option<ArcRwLockUpgradableReadGuard<RawRwLock<RECURSIVE>, T>> {
        self.raw_lock()
            .timed_upgradable_at(deadline, Location::caller())
            .then(|| self.arc_upgradable_guard())
    }
}

impl<T: Default> Default for RwLock<T> {
    #[track_caller]
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    #[track_caller]
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug, const RECURSIVE: bool> fmt::Debug for RwLock<T, RECURSIVE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// As `lock_api`'s (parking_lot's feature `serde`): the data, serialized under a read lock.
#[cfg(feature = "serde")]
impl<T, const RECURSIVE: bool> serde::Serialize for RwLock<T, RECURSIVE>
where
    T: ?Sized + serde::Serialize,
{
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.read().serialize(serializer)
    }
}

/// As `lock_api`'s: a new lock over the deserialized data. Its class is the one of every
/// lock deserialized with data of type `T` (their creation site is here).
#[cfg(feature = "serde")]
impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for RwLock<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(RwLock::new)
    }
}
