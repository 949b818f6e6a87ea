//! `ReentrantMutex`: `lock_api`'s reentrant mutex over the checked [`RawMutex`]
//! (parking_lot's `ReentrantMutex`).
//!
//! `lock_api` counts the owner's re-entries and takes the raw mutex only on the first, so the
//! checker sees one acquisition per outermost hold: re-entry by the owner is never reported,
//! and the mutex orders against other locks exactly like a [`Mutex`](crate::Mutex).

use crate::shape;
use std::fmt;
use std::num::NonZeroUsize;
use std::ops::Deref;
use std::panic::Location;

use crate::hook::lock_map::LockMap;
use crate::raw_mutex::RawMutex;
use crate::LockClass;

#[cfg(feature = "arc_lock")]
use lock_api::ArcReentrantMutexGuard;
#[cfg(feature = "arc_lock")]
use std::sync::Arc;
#[cfg(feature = "arc_lock")]
use std::time::{Duration, Instant};

/// The thread identity a [`ReentrantMutex`] records its owner by (parking_lot's
/// `RawThreadId`): the address of a thread-local, unique among live threads.
///
/// # Examples
///
/// ```
/// use lock_api::GetThreadId as _;
/// let here = lockdep::RawThreadId.nonzero_thread_id();
/// let there = std::thread::spawn(|| lockdep::RawThreadId.nonzero_thread_id()).join().unwrap();
/// assert_eq!(here, lockdep::RawThreadId.nonzero_thread_id());
/// # let _ = there;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct RawThreadId;

// SAFETY: a thread-local's address is non-zero and distinct among live threads: no two
// threads that exist at the same time get the same id.
unsafe impl lock_api::GetThreadId for RawThreadId {
    const INIT: RawThreadId = RawThreadId;

    #[inline]
    fn nonzero_thread_id(&self) -> NonZeroUsize {
        thread_local!(static KEY: u8 = const { 0 });
        KEY.with(|key| {
            NonZeroUsize::new(key as *const u8 as usize).expect("a thread-local is not at 0")
        })
    }
}

/// The guard of a locked [`ReentrantMutex`] (`lock_api`'s; shared access only).
pub type ReentrantMutexGuard<'a, T> = lock_api::ReentrantMutexGuard<'a, RawMutex, RawThreadId, T>;

/// A [`ReentrantMutexGuard`] mapped to a part of the data.
pub type MappedReentrantMutexGuard<'a, T> =
    lock_api::MappedReentrantMutexGuard<'a, RawMutex, RawThreadId, T>;

/// A mutex that its owner may lock again (parking_lot's `ReentrantMutex`), validated by the
/// checker: the outermost acquisition orders like a [`Mutex`](crate::Mutex)'s, re-entries
/// are not acquisitions at all.
///
/// It dereferences to `lock_api`'s reentrant mutex for every method it does not define
/// itself (`try_lock`, `try_lock_for`, `is_owned_by_current_thread`, `raw`, …).
///
/// # Examples
///
/// ```
/// use lockdep::ReentrantMutex;
/// use std::cell::Cell;
///
/// let m = ReentrantMutex::new(Cell::new(0));
/// let outer = m.lock();
/// let inner = m.lock(); // re-entry: no deadlock, no report
/// inner.set(outer.get() + 1);
/// drop((inner, outer));
/// assert_eq!(m.lock().get(), 1);
/// ```
#[repr(transparent)]
pub struct ReentrantMutex<T: ?Sized> {
    inner: lock_api::ReentrantMutex<RawMutex, RawThreadId, T>,
}

/// A reentrant mutex whose class is its creation site: [`ReentrantMutex::new`] as a free
/// function (parking_lot's `const_reentrant_mutex`).
///
/// # Examples
///
/// ```
/// static M: lockdep::ReentrantMutex<u8> = lockdep::const_reentrant_mutex(0);
/// assert_eq!(*M.lock(), 0);
/// ```
#[track_caller]
#[inline]
pub const fn const_reentrant_mutex<T>(value: T) -> ReentrantMutex<T> {
    ReentrantMutex::new(value)
}

impl<T> ReentrantMutex<T> {
    /// A new unlocked reentrant mutex whose class is the caller's source location.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockdep::ReentrantMutex::new(5);
    /// assert_eq!(*m.lock(), 5);
    /// ```
    #[track_caller]
    #[inline]
    pub const fn new(value: T) -> Self {
        ReentrantMutex::const_new(
            RawMutex::with_map(LockMap::at_site::<shape::ReentrantMutex<T>>(
                Location::caller(),
            )),
            RawThreadId,
            value,
        )
    }

    /// A new unlocked reentrant mutex of the named class `class`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{LockClass, ReentrantMutex};
    /// static LOG: LockClass = LockClass::new("log lock");
    /// let m = ReentrantMutex::with_class(0, &LOG);
    /// assert_eq!(*m.lock(), 0);
    /// ```
    #[inline]
    pub const fn with_class(value: T, class: &'static LockClass) -> Self {
        ReentrantMutex::const_new(
            RawMutex::with_map(LockMap::with_class(class)),
            RawThreadId,
            value,
        )
    }

    /// A reentrant mutex over `raw_mutex` (`lock_api`'s `const_new`); one made by `INIT`
    /// gets the caller's source location as its class.
    ///
    /// # Examples
    ///
    /// ```
    /// use lock_api::RawMutex as _;
    /// let m = lockdep::ReentrantMutex::const_new(lockdep::RawMutex::INIT, lockdep::RawThreadId, 1);
    /// assert_eq!(*m.lock(), 1);
    /// ```
    #[track_caller]
    #[inline]
    pub const fn const_new(raw_mutex: RawMutex, get_thread_id: RawThreadId, value: T) -> Self {
        ReentrantMutex {
            inner: lock_api::ReentrantMutex::const_new(
                raw_mutex.or_site::<shape::ReentrantMutex<T>>(Location::caller()),
                get_thread_id,
                value,
            ),
        }
    }

    /// Consumes the mutex, returning the data.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(lockdep::ReentrantMutex::new(7).into_inner(), 7);
    /// ```
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> ReentrantMutex<T> {
    /// The checked raw mutex, to validate with the caller's site: `lock_api` takes the raw
    /// mutex from its own code, which is all a `#[track_caller]` raw lock could name.
    #[inline]
    fn raw_mutex(&self) -> &RawMutex {
        // SAFETY: only used to record dependencies, never to lock or unlock.
        unsafe { self.inner.raw() }
    }

    /// Acquires the mutex, blocking unless this thread already owns it. The outermost
    /// acquisition is validated before blocking, at the caller's site; a re-entry is not an
    /// acquisition.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockdep::ReentrantMutex::new(1);
    /// let (a, b) = (m.lock(), m.lock());
    /// assert_eq!(*a + *b, 2);
    /// ```
    #[track_caller]
    #[inline]
    pub fn lock(&self) -> ReentrantMutexGuard<'_, T> {
        if !self.inner.is_owned_by_current_thread() {
            self.raw_mutex().might_lock_at(Location::caller());
        }
        self.inner.lock()
    }

    /// Mutable access without locking.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut m = lockdep::ReentrantMutex::new(1);
    /// *m.get_mut() = 2;
    /// assert_eq!(*m.lock(), 2);
    /// ```
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }
}

#[cfg(feature = "arc_lock")]
impl<T: ?Sized> ReentrantMutex<T> {
    /// An `Arc` of the `lock_api` mutex inside, sharing `self`'s count.
    #[inline]
    fn arc(self: &Arc<Self>) -> Arc<lock_api::ReentrantMutex<RawMutex, RawThreadId, T>> {
        let ptr = Arc::into_raw(Arc::clone(self))
            as *const lock_api::ReentrantMutex<RawMutex, RawThreadId, T>;
        // SAFETY: a pointer from `Arc::into_raw`, to a `ReentrantMutex`, which is
        // `repr(transparent)` over the `lock_api` mutex (same size and alignment).
        unsafe { Arc::from_raw(ptr) }
    }

    /// Like [`lock`](ReentrantMutex::lock), with a guard that owns an `Arc` of the mutex
    /// (feature `arc_lock`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(lockdep::ReentrantMutex::new(1));
    /// let (a, b) = (m.lock_arc(), m.lock_arc());
    /// assert_eq!(*a + *b, 2);
    /// ```
    #[track_caller]
    #[inline]
    pub fn lock_arc(self: &Arc<Self>) -> ArcReentrantMutexGuard<RawMutex, RawThreadId, T> {
        if !self.inner.is_owned_by_current_thread() {
            self.raw_mutex().might_lock_at(Location::caller());
        }
        self.arc().lock_arc()
    }

    /// Tries to acquire the mutex without blocking, with an owned guard (feature `arc_lock`).
    #[inline]
    pub fn try_lock_arc(
        self: &Arc<Self>,
    ) -> Option<ArcReentrantMutexGuard<RawMutex, RawThreadId, T>> {
        self.arc().try_lock_arc()
    }

    /// Acquires the mutex, giving up after `timeout`, with an owned guard (feature
    /// `arc_lock`).
    #[track_caller]
    #[inline]
    pub fn try_lock_arc_for(
        self: &Arc<Self>,
        timeout: Duration,
    ) -> Option<ArcReentrantMutexGuard<RawMutex, RawThreadId, T>> {
        self.try_lock_arc_until(crate::raw_mutex::deadline(timeout))
    }

    /// Acquires the mutex, giving up at `deadline`, with an owned guard (feature
    /// `arc_lock`).
    #[track_caller]
    #[inline]
    pub fn try_lock_arc_until(
        self: &Arc<Self>,
        deadline: Instant,
    ) -> Option<ArcReentrantMutexGuard<RawMutex, RawThreadId, T>> {
        if !self.inner.is_owned_by_current_thread() {
            self.raw_mutex().might_lock_at(Location::caller());
        }
        self.arc().try_lock_arc_until(deadline)
    }
}

impl<T: ?Sized> Deref for ReentrantMutex<T> {
    type Target = lock_api::ReentrantMutex<RawMutex, RawThreadId, T>;

    #[inline]
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl<T: Default> Default for ReentrantMutex<T> {
    #[track_caller]
    fn default() -> Self {
        ReentrantMutex::new(T::default())
    }
}

impl<T> From<T> for ReentrantMutex<T> {
    #[track_caller]
    fn from(value: T) -> Self {
        ReentrantMutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for ReentrantMutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// As `lock_api`'s (parking_lot's feature `serde`): the data, serialized under the lock.
#[cfg(feature = "serde")]
impl<T: ?Sized + serde::Serialize> serde::Serialize for ReentrantMutex<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.lock().serialize(serializer)
    }
}

/// As `lock_api`'s: a new reentrant mutex over the deserialized data. Its class is the one
/// of every reentrant mutex deserialized with data of type `T` (their creation site is here).
#[cfg(feature = "serde")]
impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for ReentrantMutex<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(ReentrantMutex::new)
    }
}
