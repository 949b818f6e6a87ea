//! The raw fair mutex: the checked [`RawMutex`] whose every unlock is a fair unlock (the lock
//! is handed to the next waiter, parking_lot's `RawFairMutex`). For the checker it is the
//! same lock: fairness changes who gets the lock next, never which orders can deadlock.
//!
//! Its methods are inlined only without debug assertions: in a test build they run out of
//! line, as this crate was compiled (see `LockMap::acquisition` for why).

use std::time::{Duration, Instant};

use lock_api::RawMutexFair as _;

use crate::raw_mutex::{CheckedRawMutex, RawMutex, Sealed};

/// A raw mutex checked by lockdep that always unlocks fairly: what
/// [`FairMutex`](crate::FairMutex) is built on.
///
/// # Examples
///
/// ```
/// let m = lockdep::FairMutex::new(1);
/// *m.lock() += 1; // released fairly on drop
/// assert_eq!(*m.lock(), 2);
/// ```
#[repr(transparent)]
#[derive(Debug)]
pub struct RawFairMutex(RawMutex);

impl RawFairMutex {
    /// `raw`, unlocking fairly.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) const fn from_raw(raw: RawMutex) -> RawFairMutex {
        RawFairMutex(raw)
    }

    /// The checked raw mutex inside.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) const fn into_raw(self) -> RawMutex {
        // SAFETY: `RawFairMutex` is a `repr(transparent)` newtype of `RawMutex`; the value is
        // moved whole, not taken apart (which a `const fn` cannot do: it has a destructor).
        unsafe { std::mem::transmute::<RawFairMutex, RawMutex>(self) }
    }
}

impl Sealed for RawFairMutex {}

impl CheckedRawMutex for RawFairMutex {
    // Always: called from the typed mutex's generic methods, in the caller's crate.
    #[inline(always)]
    fn checked(&self) -> &RawMutex {
        &self.0
    }
}

// SAFETY: every operation is the checked `RawMutex`'s, with `unlock` made `unlock_fair`
// (which has the same contract).
unsafe impl lock_api::RawMutex for RawFairMutex {
    const INIT: RawFairMutex = RawFairMutex(RawMutex::INIT);
    type GuardMarker = <RawMutex as lock_api::RawMutex>::GuardMarker;

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn lock(&self) {
        self.0.lock();
    }

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock(&self) -> bool {
        self.0.try_lock()
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock(&self) {
        // SAFETY: the caller holds the lock (this trait method's contract).
        unsafe { self.0.unlock_fair() }
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn is_locked(&self) -> bool {
        self.0.is_locked()
    }
}

// SAFETY: forwarded to the checked `RawMutex`.
unsafe impl lock_api::RawMutexFair for RawFairMutex {
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_fair(&self) {
        // SAFETY: the caller holds the lock.
        unsafe { self.0.unlock_fair() }
    }

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn bump(&self) {
        // SAFETY: the caller holds the lock.
        unsafe { self.0.bump() }
    }
}

// SAFETY: forwarded to the checked `RawMutex`.
unsafe impl lock_api::RawMutexTimed for RawFairMutex {
    type Duration = Duration;
    type Instant = Instant;

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_for(&self, timeout: Duration) -> bool {
        self.0.try_lock_for(timeout)
    }

    #[track_caller]
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_until(&self, deadline: Instant) -> bool {
        self.0.try_lock_until(deadline)
    }
}
