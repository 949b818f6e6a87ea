//! [`RawMutex`]: a one-byte mutex on the parking lot.
//!
//! The lock operations are inlined only without debug assertions. A test build has them on,
//! and its crates are usually unoptimised: inlined, the fast paths would be compiled into the
//! caller at its level (its atomics as calls); out of line they run as this crate was
//! compiled, which `cargo lockdep` and lockdep's profile advice optimise.

use crate::sync::{self, AtomicU8, Ordering::*, SpinWait};
use core::fmt;
use parking_lot_core::{ParkResult, ParkToken, UnparkResult, UnparkToken};
use std::time::{Duration, Instant};

// State word. Invariants:
//
// * `LOCKED` is set exactly while some thread owns the mutex. It is set by the acquiring
//   thread (CAS from a state without it), or — in a fair hand-off — left set by the unlocker
//   on behalf of the waiter it wakes. Only the owner clears it.
// * `PARKED` is set while some thread is queued, or about to queue, on the mutex's key. A
//   waiter sets it (CAS, only while `LOCKED` is set) before parking; it is cleared only while
//   the key's queue is locked: by the unlocker when no waiter is left, or by the last waiter
//   to time out.
//
// No lost wake-up: a waiter parks only if `validate`, run under the queue lock, still sees
// `LOCKED | PARKED`. The unlock fast path (`LOCKED -> 0`) fails while `PARKED` is set, so the
// owner then takes the queue lock to unlock: either the waiter is already queued and gets
// woken, or its `validate` runs afterwards, sees the new state and it retries instead of
// sleeping.

/// Set while the mutex is owned.
const LOCKED: u8 = 0b01;
/// Set while threads are (or are about to be) parked on the mutex.
const PARKED: u8 = 0b10;

/// The woken waiter must retry: the mutex was released, not given to it.
const TOKEN_NORMAL: UnparkToken = UnparkToken(0);
/// The woken waiter owns the mutex: the unlocker left `LOCKED` set for it.
const TOKEN_HANDOFF: UnparkToken = UnparkToken(1);

/// A raw mutex: one byte, parks waiters in `parking_lot_core`.
///
/// Use it through [`lock_api::Mutex`] (see [`crate::Mutex`]). Lock and unlock are one
/// compare-and-swap each when uncontended. Contended waiters spin briefly, then park.
///
/// Fairness: an ordinary unlock releases the mutex and wakes one waiter, which then competes
/// with any thread arriving meanwhile (barging keeps throughput high). [`unlock_fair`] instead
/// hands the mutex directly to the oldest waiter, so nobody can barge in; `parking_lot_core`
/// also makes an ordinary unlock fair about every 0.5 ms, so no waiter starves.
///
/// [`unlock_fair`]: lock_api::RawMutexFair::unlock_fair
///
/// # Examples
///
/// ```
/// use lock_api::RawMutex as _;
/// use lockdep_raw::RawMutex;
///
/// let raw = RawMutex::new();
/// raw.lock();
/// assert!(raw.is_locked());
/// assert!(!raw.try_lock());
/// // SAFETY: this thread holds the lock.
/// unsafe { raw.unlock() };
/// assert!(!raw.is_locked());
/// ```
pub struct RawMutex {
    state: AtomicU8,
}

impl RawMutex {
    /// A new, unlocked mutex.
    ///
    /// # Examples
    ///
    /// ```
    /// static RAW: lockdep_raw::RawMutex = lockdep_raw::RawMutex::new();
    /// assert!(!lock_api::RawMutex::is_locked(&RAW));
    /// ```
    pub const fn new() -> Self {
        RawMutex {
            state: AtomicU8::new(0),
        }
    }

    /// The parking key: the mutex's address, unique while it lives.
    #[cfg_attr(not(debug_assertions), inline)]
    fn key(&self) -> usize {
        self as *const Self as usize
    }

    /// What [`lock`] tries first: one compare-and-swap from unlocked to locked, as
    /// parking_lot's fast path. False when the mutex is held or has waiters (or, rarely,
    /// spuriously); then [`lock_contended`] finishes the acquisition.
    ///
    /// A wrapper that does its own work around the contended path only (lockdep parks as
    /// the checker's own work) calls these two instead of [`lock`], so that a contended
    /// acquisition costs what parking_lot's does: one failed compare-and-swap, then the spin
    /// and park loop. [`try_lock`] first would add a load of the contended cache line and
    /// [`lock`]'s own attempt a second compare-and-swap, each a transfer of that line.
    ///
    /// [`lock`]: lock_api::RawMutex::lock
    /// [`try_lock`]: lock_api::RawMutex::try_lock
    /// [`lock_contended`]: RawMutex::lock_contended
    ///
    /// # Examples
    ///
    /// ```
    /// let raw = lockdep_raw::RawMutex::new();
    /// if !raw.try_lock_fast() {
    ///     raw.lock_contended();
    /// }
    /// assert!(lock_api::RawMutex::is_locked(&raw));
    /// # unsafe { lock_api::RawMutex::unlock(&raw) };
    /// ```
    #[cfg_attr(not(debug_assertions), inline)]
    pub fn try_lock_fast(&self) -> bool {
        sync::exchanged_u8(&self.state, 0, LOCKED, Acquire, Relaxed, true)
    }

    /// [`lock`]'s contended path: spins a little, then parks until it owns the mutex (see
    /// [`try_lock_fast`]). Also correct, only slower, when the mutex is free.
    ///
    /// [`lock`]: lock_api::RawMutex::lock
    /// [`try_lock_fast`]: RawMutex::try_lock_fast
    #[cfg_attr(not(debug_assertions), inline)]
    pub fn lock_contended(&self) {
        self.lock_slow(None);
    }

    /// [`lock_contended`](RawMutex::lock_contended) until `deadline`: whether it acquired
    /// the mutex before the deadline passed.
    #[cfg_attr(not(debug_assertions), inline)]
    pub fn lock_contended_until(&self, deadline: Instant) -> bool {
        self.lock_slow(Some(deadline))
    }

    /// Acquires the mutex, parking if needed. Returns false if `deadline` passed first.
    #[cold]
    fn lock_slow(&self, deadline: Option<Instant>) -> bool {
        let mut spin = SpinWait::new();
        let mut state = self.state.load(Relaxed);
        loop {
            if state & LOCKED == 0 {
                match self
                    .state
                    .compare_exchange_weak(state, state | LOCKED, Acquire, Relaxed)
                {
                    Ok(_) => return true,
                    Err(now) => state = now,
                }
                continue;
            }
            if state & PARKED == 0 {
                // Nobody is parked: spin a little, the owner may be about to leave.
                if spin.spin() {
                    state = self.state.load(Relaxed);
                    continue;
                }
                if let Err(now) =
                    self.state
                        .compare_exchange_weak(state, state | PARKED, Relaxed, Relaxed)
                {
                    state = now;
                    continue;
                }
            }

            let validate = || self.state.load(Relaxed) == LOCKED | PARKED;
            let timed_out = |_key, was_last_thread| {
                if was_last_thread {
                    self.state.fetch_and(!PARKED, Relaxed);
                }
            };
            // SAFETY: the key is this mutex's address; the callbacks neither panic nor call
            // back into the parking lot.
            let result = unsafe {
                sync::park(
                    self.key(),
                    validate,
                    || {},
                    timed_out,
                    ParkToken(0),
                    deadline,
                )
            };
            match result {
                // The unlocker left `LOCKED` set for us; unpark happens-before this return.
                ParkResult::Unparked(TOKEN_HANDOFF) => return true,
                ParkResult::TimedOut => return false,
                ParkResult::Unparked(_) | ParkResult::Invalid => {}
            }
            spin.reset();
            state = self.state.load(Relaxed);
        }
    }

    /// Unlocks with `PARKED` set: wakes one waiter, handing the mutex over if `force_fair`
    /// (or if `parking_lot_core` says it is time to be fair).
    #[cold]
    fn unlock_slow(&self, force_fair: bool) {
        let callback = |result: UnparkResult| {
            // Runs under the queue lock, so `PARKED` cannot be cleared by anyone else now; a
            // racing waiter may set it, but its `validate` will then see our store and retry.
            if result.unparked_threads != 0 && (force_fair || result.be_fair) {
                if !result.have_more_threads {
                    self.state.store(LOCKED, Release);
                }
                return TOKEN_HANDOFF;
            }
            let parked = if result.have_more_threads { PARKED } else { 0 };
            self.state.store(parked, Release);
            TOKEN_NORMAL
        };
        // SAFETY: the key is this mutex's address; the callback neither panics nor calls back
        // into the parking lot.
        unsafe { sync::unpark_one(self.key(), callback) };
    }

    #[cold]
    fn bump_slow(&self) {
        self.unlock_slow(true);
        lock_api::RawMutex::lock(self);
    }
}

impl Default for RawMutex {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RawMutex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Relaxed);
        f.debug_struct("RawMutex")
            .field("locked", &(state & LOCKED != 0))
            .field("parked", &(state & PARKED != 0))
            .finish()
    }
}

// SAFETY: `LOCKED` is owned by one thread at a time: it is only set from a state without it
// (or kept set for the single woken waiter in a hand-off), with Acquire, and only cleared by
// the owner, with Release.
unsafe impl lock_api::RawMutex for RawMutex {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = RawMutex::new();

    type GuardMarker = lock_api::GuardNoSend;

    #[cfg_attr(not(debug_assertions), inline)]
    fn lock(&self) {
        if !self.try_lock_fast() {
            self.lock_slow(None);
        }
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock(&self) -> bool {
        let mut state = self.state.load(Relaxed);
        loop {
            if state & LOCKED != 0 {
                return false;
            }
            match self
                .state
                .compare_exchange_weak(state, state | LOCKED, Acquire, Relaxed)
            {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock(&self) {
        if !sync::exchanged_u8(&self.state, LOCKED, 0, Release, Relaxed, false) {
            self.unlock_slow(false);
        }
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn is_locked(&self) -> bool {
        self.state.load(Relaxed) & LOCKED != 0
    }
}

// SAFETY: as for `RawMutex`; a fair unlock hands ownership to exactly one woken waiter.
unsafe impl lock_api::RawMutexFair for RawMutex {
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_fair(&self) {
        if !sync::exchanged_u8(&self.state, LOCKED, 0, Release, Relaxed, false) {
            self.unlock_slow(true);
        }
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn bump(&self) {
        if self.state.load(Relaxed) & PARKED != 0 {
            self.bump_slow();
        }
    }
}

// SAFETY: a timed-out lock attempt returns false without having taken `LOCKED`.
unsafe impl lock_api::RawMutexTimed for RawMutex {
    type Duration = Duration;
    type Instant = Instant;

    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_for(&self, timeout: Duration) -> bool {
        lock_api::RawMutex::try_lock(self) || self.lock_slow(Instant::now().checked_add(timeout))
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_until(&self, timeout: Instant) -> bool {
        lock_api::RawMutex::try_lock(self) || self.lock_slow(Some(timeout))
    }
}
