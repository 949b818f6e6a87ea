//! `Mutex`: `lock_api`'s mutex over the checked [`RawMutex`], with creation-site classes and
//! acquisition sites.

use crate::shape;
use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

use crate::hook::lock_map::LockMap;
use crate::raw_mutex::{deadline, CheckedRawMutex, RawMutex};
use crate::LockClass;

#[cfg(feature = "arc_lock")]
use std::sync::Arc;

#[cfg(feature = "arc_lock")]
use lock_api::ArcMutexGuard;

/// The guard of a locked [`Mutex`] (`lock_api`'s, so `map`, `try_map`, `unlocked`, `bump`
/// and `unlock_fair` come with it); the lock is released, and leaves the held stack, on drop.
pub type MutexGuard<'a, T> = lock_api::MutexGuard<'a, RawMutex, T>;

/// A [`MutexGuard`] mapped to a part of the data with [`MutexGuard::map`].
pub type MappedMutexGuard<'a, T> = lock_api::MappedMutexGuard<'a, RawMutex, T>;

/// A mutual-exclusion lock with the API of `parking_lot::Mutex`, validated by the checker.
///
/// Its class is its creation site, or the [`LockClass`] given to [`with_class`](Mutex::with_class).
///
/// `R` is the raw lock: [`RawMutex`], or [`RawFairMutex`](crate::RawFairMutex) for a
/// [`FairMutex`](crate::FairMutex) (whose every unlock is fair); the methods are the same.
///
/// # Examples
///
/// ```
/// use lockdep::Mutex;
///
/// static COUNTER: Mutex<u64> = Mutex::new(0); // class: this file:line:col
///
/// *COUNTER.lock() += 1;
/// assert_eq!(*COUNTER.lock(), 1);
/// ```
#[repr(transparent)]
pub struct Mutex<T: ?Sized, R = RawMutex> {
    inner: lock_api::Mutex<R, T>,
}

/// A mutex whose class is its creation site: [`Mutex::new`], as a free function (parking_lot's
/// `const_mutex`, from before `Mutex::new` was `const`).
///
/// # Examples
///
/// ```
/// static M: lockdep::Mutex<u8> = lockdep::const_mutex(0);
/// assert_eq!(*M.lock(), 0);
/// ```
#[track_caller]
#[inline]
pub const fn const_mutex<T>(value: T) -> Mutex<T> {
    Mutex::new(value)
}

impl<T> Mutex<T> {
    /// A new unlocked mutex whose class is the caller's source location.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockdep::Mutex::new(5);
    /// assert_eq!(*m.lock(), 5);
    /// ```
    #[track_caller]
    #[inline]
    pub const fn new(value: T) -> Self {
        Mutex {
            inner: lock_api::Mutex::const_new(
                RawMutex::with_map(LockMap::at_site::<shape::Mutex<T>>(Location::caller())),
                value,
            ),
        }
    }

    /// A new unlocked mutex of the named class `class`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{LockClass, Mutex};
    /// static QUEUE: LockClass = LockClass::new("queue lock");
    /// let m = Mutex::with_class(Vec::<u32>::new(), &QUEUE);
    /// assert!(m.lock().is_empty());
    /// ```
    #[inline]
    pub const fn with_class(value: T, class: &'static LockClass) -> Self {
        Mutex {
            inner: lock_api::Mutex::const_new(
                RawMutex::with_map(LockMap::with_class(class)),
                value,
            ),
        }
    }

    /// A new unlocked mutex of the named class `class`, with the declared order key `key`
    /// (an account number, an index, an address): two locks of one class that both have keys
    /// nest by increasing key, and a nesting against that order is reported
    /// ([`DeclaredOrder`](crate::ViolationKind::DeclaredOrder)) the first time it is seen,
    /// without waiting for another thread to take them in the other order (the kernel's
    /// `lock_set_cmp_fn`). Locks of the class without a key are ordered as observed.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{LockClass, Mutex};
    /// static ACCOUNT: LockClass = LockClass::new("doc-account");
    ///
    /// struct Account { id: u64, balance: Mutex<i64> }
    /// impl Account {
    ///     fn new(id: u64) -> Account {
    ///         Account { id, balance: Mutex::with_class_key(0, &ACCOUNT, id) }
    ///     }
    /// }
    ///
    /// /// Locks both accounts by increasing id, whatever the direction of the transfer.
    /// fn transfer(from: &Account, to: &Account, amount: i64) {
    ///     let (first, second) = if from.id < to.id { (from, to) } else { (to, from) };
    ///     let (mut a, mut b) = (first.balance.lock(), second.balance.lock());
    ///     let (src, dst) = if from.id < to.id { (&mut *a, &mut *b) } else { (&mut *b, &mut *a) };
    ///     *src -= amount;
    ///     *dst += amount;
    /// }
    ///
    /// let (alice, bob) = (Account::new(1), Account::new(2));
    /// transfer(&alice, &bob, 10);
    /// transfer(&bob, &alice, 5);
    /// assert_eq!(*bob.balance.lock(), 5);
    /// ```
    #[inline]
    pub const fn with_class_key(value: T, class: &'static LockClass, key: u64) -> Self {
        Mutex {
            inner: lock_api::Mutex::const_new(
                RawMutex::with_map(LockMap::with_class_key(class, key)),
                value,
            ),
        }
    }

    /// A new unlocked mutex of the class named `name`, registered now: every lock made with
    /// one name (and kind) is one class, as with a [`LockClass`] of that name.
    #[cfg(feature = "enabled")]
    #[track_caller]
    pub(crate) fn named(name: &str, value: T) -> Self {
        Mutex {
            inner: lock_api::Mutex::const_new(
                RawMutex::with_map(LockMap::named(
                    name,
                    crate::ClassKind::Lock,
                    Location::caller(),
                )),
                value,
            ),
        }
    }

    /// A mutex over `raw` (`lock_api`'s `const_new`). A raw mutex made by
    /// `<RawMutex as lock_api::RawMutex>::INIT` has no class: it gets the caller's source
    /// location, as with [`new`](Mutex::new).
    ///
    /// # Examples
    ///
    /// ```
    /// use lock_api::RawMutex as _;
    /// static M: lockdep::Mutex<u8> = lockdep::Mutex::const_new(lockdep::RawMutex::INIT, 1);
    /// assert_eq!(*M.lock(), 1);
    /// ```
    #[track_caller]
    #[inline]
    pub const fn const_new(raw_mutex: RawMutex, value: T) -> Self {
        Mutex::with_raw(
            raw_mutex.or_site::<shape::Mutex<T>>(Location::caller()),
            value,
        )
    }

    /// The same as [`const_new`](Mutex::const_new) (`lock_api`'s `from_raw`).
    ///
    /// # Examples
    ///
    /// ```
    /// use lock_api::RawMutex as _;
    /// let m = lockdep::Mutex::from_raw(lockdep::RawMutex::INIT, 2);
    /// assert_eq!(*m.lock(), 2);
    /// ```
    #[track_caller]
    #[inline]
    pub const fn from_raw(raw_mutex: RawMutex, value: T) -> Self {
        Mutex::with_raw(
            raw_mutex.or_site::<shape::Mutex<T>>(Location::caller()),
            value,
        )
    }
}

impl<T, R> Mutex<T, R> {
    /// A mutex over `raw`, whose class is the one `raw` was made with.
    #[inline]
    pub(crate) const fn with_raw(raw: R, value: T) -> Self {
        Mutex {
            inner: lock_api::Mutex::const_new(raw, value),
        }
    }
}

impl<T, R: CheckedRawMutex> Mutex<T, R> {
    /// Consumes the mutex, returning the data.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(lockdep::Mutex::new(7).into_inner(), 7);
    /// ```
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized, R: CheckedRawMutex> Mutex<T, R> {
    // Always inlined, as `guard`: these generic methods are compiled in the caller's crate,
    // where an unoptimised build would make each a call of its own on every lock.
    #[inline(always)]
    fn raw_mutex(&self) -> &RawMutex {
        // SAFETY: only used to lock through the checker and to query; the guard made after a
        // successful lock is the one thing that unlocks.
        unsafe { self.inner.raw() }.checked()
    }

    /// A guard for the lock this thread just took.
    #[inline(always)]
    fn guard(&self) -> lock_api::MutexGuard<'_, R, T> {
        // SAFETY: called right after this thread locked the raw mutex.
        unsafe { self.inner.make_guard_unchecked() }
    }

    /// An `Arc` of the `lock_api` mutex inside, sharing `self`'s count.
    #[cfg(feature = "arc_lock")]
    #[inline]
    fn arc(self: &Arc<Self>) -> Arc<lock_api::Mutex<R, T>> {
        let ptr = Arc::into_raw(Arc::clone(self)) as *const lock_api::Mutex<R, T>;
        // SAFETY: a pointer from `Arc::into_raw`, to a `Mutex`, which is `repr(transparent)`
        // over `lock_api::Mutex<R, T>` (same size and alignment, as `from_raw` requires).
        unsafe { Arc::from_raw(ptr) }
    }

    /// Acquires the mutex, blocking until it is available. Validated before blocking: a
    /// possible deadlock is reported even if this call would not deadlock now.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockdep::Mutex::new(1);
    /// *m.lock() += 1;
    /// assert_eq!(*m.lock(), 2);
    /// ```
    #[track_caller]
    #[inline]
    pub fn lock(&self) -> lock_api::MutexGuard<'_, R, T> {
        self.raw_mutex().lock_at(0, Location::caller());
        self.guard()
    }

    /// Acquires the mutex as nesting subclass `subclass` (the kernel's `mutex_lock_nested`):
    /// for taking two locks of one class in a fixed order, e.g. parent then child. Subclasses
    /// are classes of their own, printed `name/N`; 0 is the class itself, at most 7.
    ///
    /// # Panics
    ///
    /// Never; a subclass of 8 or more is reported as a fault (the kernel's
    /// `MAX_LOCKDEP_SUBCLASSES`) and turns the checker off.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{LockClass, Mutex};
    /// static NODE: LockClass = LockClass::new("doc-node");
    /// let (parent, child) = (Mutex::with_class(0, &NODE), Mutex::with_class(1, &NODE));
    /// let _p = parent.lock();
    /// let _c = child.lock_nested(1); // not recursive locking
    /// ```
    #[track_caller]
    #[inline]
    pub fn lock_nested(&self, subclass: u32) -> lock_api::MutexGuard<'_, R, T> {
        self.raw_mutex().lock_at(subclass, Location::caller());
        self.guard()
    }

    /// Acquires the mutex under `outer`, a mutex of another class that this thread holds and
    /// that serialises the nesting of the locks of this mutex's class (the kernel's
    /// `mutex_lock_nest_lock`): their order among themselves is not checked then, as no two
    /// threads can nest them at once. Every other check is made as by [`lock`](Mutex::lock).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{LockClass, Mutex};
    /// static ACCOUNT: LockClass = LockClass::new("doc-nest-account");
    /// let bank = Mutex::new(()); // held by every transfer
    /// let (a, b) = (Mutex::with_class(1, &ACCOUNT), Mutex::with_class(2, &ACCOUNT));
    /// for (from, to) in [(&a, &b), (&b, &a)] {
    ///     let all = bank.lock();
    ///     let _from = from.lock_nest(&all);
    ///     let _to = to.lock_nest(&all); // both orders, serialised by `bank`: not reported
    /// }
    /// ```
    #[track_caller]
    #[inline]
    pub fn lock_nest<U: ?Sized, R2: CheckedRawMutex>(
        &self,
        outer: &lock_api::MutexGuard<'_, R2, U>,
    ) -> lock_api::MutexGuard<'_, R, T> {
        let outer_mutex = lock_api::MutexGuard::mutex(outer);
        // SAFETY: only read for its address, which names the outer lock on held stacks.
        let outer = unsafe { outer_mutex.raw() }.checked().instance();
        self.raw_mutex().lock_under_at(outer, Location::caller());
        self.guard()
    }

    /// Tries to acquire the mutex without blocking. A try-lock is not validated (it cannot
    /// deadlock), but what it takes is held: later acquisitions depend on it.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockdep::Mutex::new(());
    /// let g = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_none());
    /// drop(g);
    /// ```
    #[track_caller]
    #[inline]
    pub fn try_lock(&self) -> Option<lock_api::MutexGuard<'_, R, T>> {
        self.raw_mutex()
            .try_lock_at(Location::caller())
            .then(|| self.guard())
    }

    /// Acquires the mutex, giving up after `timeout`. Validated like [`lock`](Mutex::lock):
    /// a timed wait in a deadlock is a stall.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let m = lockdep::Mutex::new(());
    /// assert!(m.try_lock_for(Duration::from_millis(1)).is_some());
    /// ```
    #[track_caller]
    #[inline]
    pub fn try_lock_for(&self, timeout: Duration) -> Option<lock_api::MutexGuard<'_, R, T>> {
        self.raw_mutex()
            .try_lock_until_at(deadline(timeout), Location::caller())
            .then(|| self.guard())
    }

    /// Acquires the mutex, giving up at `deadline`. Validated like [`lock`](Mutex::lock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let m = lockdep::Mutex::new(());
    /// let _g = m.lock();
    /// // Held here: another thread gives up at its deadline.
    /// let deadline = Instant::now() + Duration::from_millis(1);
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(m.try_lock_until(deadline).is_none()));
    /// });
    /// ```
    #[track_caller]
    #[inline]
    pub fn try_lock_until(&self, deadline: Instant) -> Option<lock_api::MutexGuard<'_, R, T>> {
        self.raw_mutex()
            .try_lock_until_at(deadline, Location::caller())
            .then(|| self.guard())
    }

    /// Records the dependencies of taking this lock now, without taking it (the kernel's
    /// `might_lock()`): for locks taken only on rare paths.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockdep::Mutex::new(());
    /// m.might_lock(); // as if locked and unlocked here
    /// ```
    #[track_caller]
    #[inline]
    pub fn might_lock(&self) {
        self.raw_mutex().might_lock_at(Location::caller());
    }

    /// Checks that this thread holds this mutex (the kernel's `lockdep_assert_held()`).
    ///
    /// # Panics
    ///
    /// When the checker is on and this thread does not hold it.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockdep::Mutex::new(());
    /// let _g = m.lock();
    /// m.assert_held();
    /// ```
    #[track_caller]
    pub fn assert_held(&self) {
        self.raw_mutex().assert_held();
    }

    /// Checks that this thread does not hold this mutex (the kernel's
    /// `lockdep_assert_not_held()`).
    ///
    /// # Panics
    ///
    /// When the checker is on and this thread holds it.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockdep::Mutex::new(());
    /// m.assert_not_held();
    /// ```
    #[track_caller]
    pub fn assert_not_held(&self) {
        self.raw_mutex().assert_not_held();
    }

    /// True if some thread holds the mutex.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockdep::Mutex::new(());
    /// let g = m.lock();
    /// assert!(m.is_locked());
    /// drop(g);
    /// assert!(!m.is_locked());
    /// ```
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// Mutable access without locking: the borrow checker proves no one else has it.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut m = lockdep::Mutex::new(1);
    /// *m.get_mut() = 2;
    /// assert_eq!(*m.lock(), 2);
    /// ```
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// A raw pointer to the data, for code that synchronises by other means.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockdep::Mutex::new(3);
    /// let g = m.lock();
    /// // SAFETY: the guard is held.
    /// assert_eq!(unsafe { *m.data_ptr() }, 3);
    /// # drop(g);
    /// ```
    #[inline]
    pub fn data_ptr(&self) -> *mut T {
        self.inner.data_ptr()
    }

    /// Forcibly unlocks the mutex (for a guard given up with `mem::forget`). The checker
    /// sees the release on this thread.
    ///
    /// # Safety
    ///
    /// The mutex must be locked, by a guard that was forgotten on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockdep::Mutex::new(());
    /// std::mem::forget(m.lock());
    /// // SAFETY: locked by the guard forgotten just above, on this thread.
    /// unsafe { m.force_unlock() };
    /// assert!(!m.is_locked());
    /// ```
    #[inline]
    pub unsafe fn force_unlock(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.inner.force_unlock() }
    }

    /// Forcibly unlocks the mutex with a fair unlock (see [`force_unlock`](Mutex::force_unlock)).
    ///
    /// # Safety
    ///
    /// The mutex must be locked, by a guard that was forgotten on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockdep::Mutex::new(());
    /// std::mem::forget(m.lock());
    /// // SAFETY: locked by the guard forgotten just above, on this thread.
    /// unsafe { m.force_unlock_fair() };
    /// assert!(!m.is_locked());
    /// ```
    #[inline]
    pub unsafe fn force_unlock_fair(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.inner.force_unlock_fair() }
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
    /// use lock_api::RawMutex as _;
    /// let m = lockdep::Mutex::new(());
    /// // SAFETY: only queried.
    /// assert!(!unsafe { m.raw() }.is_locked());
    /// ```
    #[inline]
    pub unsafe fn raw(&self) -> &R {
        // SAFETY: forwarded contract.
        unsafe { self.inner.raw() }
    }

    /// A guard for a lock this thread holds without one (e.g. taken through
    /// [`raw`](Mutex::raw)).
    ///
    /// # Safety
    ///
    /// This thread must hold the lock, and no other guard may exist for that hold.
    ///
    /// # Examples
    ///
    /// ```
    /// use lock_api::RawMutex as _;
    /// let m = lockdep::Mutex::new(4);
    /// // SAFETY: locked here, on this thread, with no guard.
    /// let g = unsafe {
    ///     m.raw().lock();
    ///     m.make_guard_unchecked()
    /// };
    /// assert_eq!(*g, 4);
    /// ```
    #[inline]
    pub unsafe fn make_guard_unchecked(&self) -> lock_api::MutexGuard<'_, R, T> {
        // SAFETY: forwarded contract.
        unsafe { self.inner.make_guard_unchecked() }
    }

    /// Like [`lock`](Mutex::lock), with a guard that owns an `Arc` of the mutex (feature
    /// `arc_lock`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(lockdep::Mutex::new(1));
    /// let g = m.lock_arc();
    /// assert_eq!(*g, 1);
    /// ```
    #[cfg(feature = "arc_lock")]
    #[track_caller]
    #[inline]
    pub fn lock_arc(self: &Arc<Self>) -> ArcMutexGuard<R, T> {
        // `lock_api` makes no owned guard for a lock taken elsewhere (its
        // `make_arc_guard_unchecked` is private for mutexes), so the dependencies are recorded
        // here, with the caller's site, and `lock_api`'s acquisition after is the same chain
        // (found in the chain cache).
        self.might_lock();
        self.arc().lock_arc()
    }

    /// Like [`try_lock`](Mutex::try_lock), with an owned guard (feature `arc_lock`).
    #[cfg(feature = "arc_lock")]
    #[track_caller]
    #[inline]
    pub fn try_lock_arc(self: &Arc<Self>) -> Option<ArcMutexGuard<R, T>> {
        self.arc().try_lock_arc()
    }

    /// Like [`try_lock_for`](Mutex::try_lock_for), with an owned guard (feature `arc_lock`).
    #[cfg(feature = "arc_lock")]
    #[track_caller]
    #[inline]
    pub fn try_lock_arc_for(self: &Arc<Self>, timeout: Duration) -> Option<ArcMutexGuard<R, T>> {
        self.try_lock_arc_until(deadline(timeout))
    }

    /// Like [`try_lock_until`](Mutex::try_lock_until), with an owned guard (feature
    /// `arc_lock`).
    #[cfg(feature = "arc_lock")]
    #[track_caller]
    #[inline]
    pub fn try_lock_arc_until(self: &Arc<Self>, deadline: Instant) -> Option<ArcMutexGuard<R, T>> {
        // As in `lock_arc`.
        self.might_lock();
        self.arc().try_lock_arc_until(deadline)
    }
}

impl<T: Default> Default for Mutex<T> {
    #[track_caller]
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    #[track_caller]
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug, R: CheckedRawMutex> fmt::Debug for Mutex<T, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// As `lock_api`'s (parking_lot's feature `serde`): the data, serialized under the lock.
#[cfg(feature = "serde")]
impl<T, R> serde::Serialize for Mutex<T, R>
where
    T: ?Sized + serde::Serialize,
    R: CheckedRawMutex,
{
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.lock().serialize(serializer)
    }
}

/// As `lock_api`'s: a new mutex over the deserialized data. Its class is the one of every
/// mutex deserialized with data of type `T` (their creation site is here).
#[cfg(feature = "serde")]
impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Mutex<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Mutex::new)
    }
}
