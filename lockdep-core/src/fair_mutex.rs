//! `FairMutex`: a [`Mutex`] over the [`RawFairMutex`], whose every unlock is fair
//! (parking_lot's `FairMutex`). It orders like a `Mutex`: fairness decides who gets the lock
//! next, never which orders can deadlock.

use crate::shape;
use std::fmt;
use std::ops::Deref;
use std::panic::Location;

use crate::hook::lock_map::LockMap;
use crate::raw_fair_mutex::RawFairMutex;
use crate::raw_mutex::RawMutex;
use crate::{LockClass, Mutex};

#[cfg(feature = "arc_lock")]
use lock_api::ArcMutexGuard;
#[cfg(feature = "arc_lock")]
use std::sync::Arc;
#[cfg(feature = "arc_lock")]
use std::time::{Duration, Instant};

/// The guard of a locked [`FairMutex`] (`lock_api`'s).
pub type FairMutexGuard<'a, T> = lock_api::MutexGuard<'a, RawFairMutex, T>;

/// A [`FairMutexGuard`] mapped to a part of the data.
pub type MappedFairMutexGuard<'a, T> = lock_api::MappedMutexGuard<'a, RawFairMutex, T>;

/// A mutual-exclusion lock that is always unlocked fairly, with the API of
/// `parking_lot::FairMutex`, validated by the checker.
///
/// It is a [`Mutex`] over [`RawFairMutex`] with constructors of its own, and dereferences to
/// it for every other method (`lock`, `try_lock`, `lock_nested`, …).
///
/// # Examples
///
/// ```
/// use lockdep::FairMutex;
///
/// static TICKETS: FairMutex<u32> = FairMutex::new(0); // class: this file:line:col
/// *TICKETS.lock() += 1;
/// assert_eq!(*TICKETS.lock(), 1);
/// ```
#[repr(transparent)]
pub struct FairMutex<T: ?Sized> {
    inner: Mutex<T, RawFairMutex>,
}

/// A fair mutex whose class is its creation site: [`FairMutex::new`] as a free function
/// (parking_lot's `const_fair_mutex`).
///
/// # Examples
///
/// ```
/// static M: lockdep::FairMutex<u8> = lockdep::const_fair_mutex(0);
/// assert_eq!(*M.lock(), 0);
/// ```
#[track_caller]
#[inline]
pub const fn const_fair_mutex<T>(value: T) -> FairMutex<T> {
    FairMutex::new(value)
}

impl<T> FairMutex<T> {
    /// A new unlocked fair mutex whose class is the caller's source location.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockdep::FairMutex::new(5);
    /// assert_eq!(*m.lock(), 5);
    /// ```
    #[track_caller]
    #[inline]
    pub const fn new(value: T) -> Self {
        FairMutex::with_map(
            LockMap::at_site::<shape::FairMutex<T>>(Location::caller()),
            value,
        )
    }

    /// A new unlocked fair mutex of the named class `class`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{FairMutex, LockClass};
    /// static QUEUE: LockClass = LockClass::new("fair queue lock");
    /// let m = FairMutex::with_class(0, &QUEUE);
    /// assert_eq!(*m.lock(), 0);
    /// ```
    #[inline]
    pub const fn with_class(value: T, class: &'static LockClass) -> Self {
        FairMutex::with_map(LockMap::with_class(class), value)
    }

    /// A fair mutex over `raw_mutex` (`lock_api`'s `const_new`); one made by `INIT` gets the
    /// caller's source location as its class.
    ///
    /// # Examples
    ///
    /// ```
    /// use lock_api::RawMutex as _;
    /// let m = lockdep::FairMutex::const_new(lockdep::RawFairMutex::INIT, 1);
    /// assert_eq!(*m.lock(), 1);
    /// ```
    #[track_caller]
    #[inline]
    pub const fn const_new(raw_mutex: RawFairMutex, value: T) -> Self {
        FairMutex {
            inner: Mutex::with_raw(
                RawFairMutex::from_raw(
                    raw_mutex
                        .into_raw()
                        .or_site::<shape::FairMutex<T>>(Location::caller()),
                ),
                value,
            ),
        }
    }

    #[inline]
    const fn with_map(map: LockMap, value: T) -> Self {
        FairMutex {
            inner: Mutex::with_raw(RawFairMutex::from_raw(RawMutex::with_map(map)), value),
        }
    }

    /// Consumes the mutex, returning the data.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(lockdep::FairMutex::new(7).into_inner(), 7);
    /// ```
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> FairMutex<T> {
    /// Mutable access without locking.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut m = lockdep::FairMutex::new(1);
    /// *m.get_mut() = 2;
    /// assert_eq!(*m.lock(), 2);
    /// ```
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }
}

#[cfg(feature = "arc_lock")]
impl<T: ?Sized> FairMutex<T> {
    /// An `Arc` of the [`Mutex`] inside, sharing `self`'s count.
    #[inline]
    fn arc(self: &Arc<Self>) -> Arc<Mutex<T, RawFairMutex>> {
        let ptr = Arc::into_raw(Arc::clone(self)) as *const Mutex<T, RawFairMutex>;
        // SAFETY: a pointer from `Arc::into_raw`, to a `FairMutex`, which is
        // `repr(transparent)` over `Mutex<T, RawFairMutex>` (same size and alignment).
        unsafe { Arc::from_raw(ptr) }
    }

    /// [`Mutex::lock_arc`] (feature `arc_lock`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(lockdep::FairMutex::new(1));
    /// assert_eq!(*m.lock_arc(), 1);
    /// ```
    #[track_caller]
    #[inline]
    pub fn lock_arc(self: &Arc<Self>) -> ArcMutexGuard<RawFairMutex, T> {
        self.arc().lock_arc()
    }

    /// [`Mutex::try_lock_arc`] (feature `arc_lock`).
    #[track_caller]
    #[inline]
    pub fn try_lock_arc(self: &Arc<Self>) -> Option<ArcMutexGuard<RawFairMutex, T>> {
        self.arc().try_lock_arc()
    }

    /// [`Mutex::try_lock_arc_for`] (feature `arc_lock`).
    #[track_caller]
    #[inline]
    pub fn try_lock_arc_for(
        self: &Arc<Self>,
        timeout: Duration,
    ) -> Option<ArcMutexGuard<RawFairMutex, T>> {
        self.arc().try_lock_arc_for(timeout)
    }

    /// [`Mutex::try_lock_arc_until`] (feature `arc_lock`).
    #[track_caller]
    #[inline]
    pub fn try_lock_arc_until(
        self: &Arc<Self>,
        deadline: Instant,
    ) -> Option<ArcMutexGuard<RawFairMutex, T>> {
        self.arc().try_lock_arc_until(deadline)
    }
}

impl<T: ?Sized> Deref for FairMutex<T> {
    type Target = Mutex<T, RawFairMutex>;

    #[inline]
    fn deref(&self) -> &Mutex<T, RawFairMutex> {
        &self.inner
    }
}

impl<T: Default> Default for FairMutex<T> {
    #[track_caller]
    fn default() -> Self {
        FairMutex::new(T::default())
    }
}

impl<T> From<T> for FairMutex<T> {
    #[track_caller]
    fn from(value: T) -> Self {
        FairMutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for FairMutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// As `lock_api`'s (parking_lot's feature `serde`): the data, serialized under the lock.
#[cfg(feature = "serde")]
impl<T: ?Sized + serde::Serialize> serde::Serialize for FairMutex<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.lock().serialize(serializer)
    }
}

/// As `lock_api`'s: a new fair mutex over the deserialized data. Its class is the one of
/// every fair mutex deserialized with data of type `T` (their creation site is here).
#[cfg(feature = "serde")]
impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for FairMutex<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(FairMutex::new)
    }
}
