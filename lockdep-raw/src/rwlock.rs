//! [`RawRwLock`]: a one-word reader-writer lock on the parking lot.
//!
//! The lock operations are inlined only without debug assertions. A test build has them on,
//! and its crates are usually unoptimised: inlined, the fast paths would be compiled into the
//! caller at its level (its atomics as calls); out of line they run as this crate was
//! compiled, which `cargo lockdep` and lockdep's profile advice optimise.

use crate::sync::{self, AtomicUsize, Ordering::*, SpinWait};
use core::cell::Cell;
use core::fmt;
use parking_lot_core::{FilterOp, ParkResult, ParkToken, UnparkResult, UnparkToken};
use std::time::{Duration, Instant};

// State word (one `usize`), low bits first. Invariants:
//
// * `PARKED`: threads are (or are about to be) parked on the main key (the lock's address),
//   waiting for `WRITER` or `UPGRADABLE` to clear. Set by such a waiter (CAS) before it parks;
//   cleared only while the main key's queue is locked, when no waiter is left (by an unlocker's
//   unpark callback or by the last waiter to time out).
// * `WRITER_PARKED`: the thread holding `WRITER` is (or is about to be) parked on the writer key
//   (address + 1), waiting for the readers to leave. Only that thread sets it (CAS, only while
//   readers remain); the reader that brings the count to zero clears it under the writer key's
//   queue lock while waking it, and the writer clears it when it stops waiting.
// * `UPGRADABLE`: an upgradable reader holds the lock. It is also counted in the readers.
//   Excludes `WRITER` and other upgradable readers, admits plain readers.
// * `WRITER`: a writer holds the lock, or owns the right to it and waits for the readers to
//   drain (`WRITER` with a non-zero reader count). Set only from a state without `WRITER` and
//   `UPGRADABLE` (or by an upgrade, which trades `UPGRADABLE` for it). While it is set no new
//   non-recursive reader, upgradable reader or writer gets in; recursive readers still do while
//   the reader count is non-zero, so the count never goes from zero back up under `WRITER`.
// * `READERS` (the rest): the number of shared holders, upgradable one included.
//
// The lock is held exclusively iff `WRITER` is set and the reader count is zero.
//
// No lost wake-up, main key: a thread parks there only if `validate`, under the queue lock,
// sees `PARKED` set and its request still refused; refusal means `WRITER` or `UPGRADABLE` is
// held. Every transition that clears one of them reads `PARKED` in the same atomic step (or
// runs under the queue lock) and, if set, wakes the queue (see `select`): in queue order the
// readers up to and including the first writer or upgradable reader, and after an upgradable
// reader the other readers. So a parked thread is either woken or queued behind a woken
// writer with `PARKED` left set: whoever holds `WRITER` or `UPGRADABLE` next (that writer or
// a thread that barged in before it) wakes the queue again when it lets go, and if nobody
// takes them, the woken writer does, as nothing else refuses it. Writer key: the writer parks only if `validate` sees readers and
// `WRITER_PARKED`; a reader leaving reads both in its `fetch_sub` and, if it was the last
// one, wakes the writer key. Stale wake-ups there are harmless: the writer re-checks.

/// Threads are parked on the main key.
const PARKED: usize = 0b0001;
/// The `WRITER` holder is parked on the writer key, waiting for readers to drain.
const WRITER_PARKED: usize = 0b0010;
/// An upgradable reader holds the lock (and is counted in `READERS`).
const UPGRADABLE: usize = 0b0100;
/// A writer holds the lock or waits for the readers to drain.
const WRITER: usize = 0b1000;
/// One reader in the reader count.
const ONE_READER: usize = 0b1_0000;
/// The reader count.
const READERS: usize = !(ONE_READER - 1);

/// The woken thread must retry its acquisition.
const TOKEN_NORMAL: UnparkToken = UnparkToken(0);
/// The woken thread has been granted what it asked for (its park token was added to the state).
const TOKEN_HANDOFF: UnparkToken = UnparkToken(1);

const OVERFLOW: &str = "RawRwLock reader count overflow";

/// What a blocking acquisition of a [`RawRwLock`] asks for: the argument of
/// [`RawRwLock::try_lock_fast`] and [`RawRwLock::lock_contended`].
///
/// Inside, also what a thread parked on the main key is waiting for: its park token is
/// `grant()`, the amount to add to the state when it is granted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RwRequest {
    /// A read (`lock_shared`): waits behind a writer that holds or has claimed the lock.
    Shared,
    /// A recursive read (`lock_shared_recursive`): waits only while a writer holds the lock.
    SharedRecursive,
    /// An upgradable read (`lock_upgradable`).
    Upgradable,
    /// A write (`lock_exclusive`).
    Exclusive,
}

impl RwRequest {
    /// Whether `state` admits the request now (for `Exclusive`: admits taking `WRITER`,
    /// after which the writer waits for the readers).
    #[cfg_attr(not(debug_assertions), inline)]
    fn admits(self, state: usize) -> bool {
        match self {
            RwRequest::Shared => state & WRITER == 0,
            RwRequest::SharedRecursive => state & WRITER == 0 || state & READERS != 0,
            RwRequest::Upgradable | RwRequest::Exclusive => state & (WRITER | UPGRADABLE) == 0,
        }
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn grant(self) -> usize {
        match self {
            RwRequest::Shared | RwRequest::SharedRecursive => ONE_READER,
            RwRequest::Upgradable => ONE_READER | UPGRADABLE,
            RwRequest::Exclusive => WRITER,
        }
    }
}

/// Wake-up policy for the main key, parking_lot's: in queue order, the readers up to and
/// including the first writer or upgradable reader; after a writer nothing more (whoever it
/// finds queued behind it waits for its unlock), after an upgradable reader the remaining
/// readers too. `granted` accumulates the park tokens of the selected threads; the selection
/// is always compatible (at most one `WRITER`/`UPGRADABLE`), so it can also be handed over as
/// a whole.
///
/// Waking the readers queued behind a writer as well (as this lock once did) only makes them
/// run into the writer and park again: under a write-heavy load, a context switch each.
fn select(granted: &Cell<usize>, ParkToken(token): ParkToken) -> FilterOp {
    let so_far = granted.get();
    if so_far & WRITER != 0 {
        FilterOp::Stop
    } else if token & (WRITER | UPGRADABLE) != 0 && so_far & UPGRADABLE != 0 {
        FilterOp::Skip
    } else {
        granted.set(so_far.wrapping_add(token));
        FilterOp::Unpark
    }
}

/// A raw reader-writer lock: one word, parks waiters in `parking_lot_core`.
///
/// Use it through [`lock_api::RwLock`] (see [`crate::RwLock`]). Uncontended read lock, read
/// unlock, write lock and write unlock are one atomic read-modify-write each.
///
/// # Semantics (those of `parking_lot::RwLock`)
///
/// * **Writer preference.** A writer first claims the lock (once no writer or upgradable reader
///   holds it), then waits for the readers to leave. From the claim on, new *non-recursive*
///   readers ([`lock_shared`], `RwLock::read`) block until the writer is done. Hence a thread
///   that takes `read` twice can deadlock if a writer arrives between the two — lockdep
///   reports read-read recursion on this lock for exactly that reason.
/// * **Recursive reads.** [`lock_shared_recursive`] succeeds whenever the lock is held only
///   by readers, even with a writer waiting; it blocks only while a writer holds the lock.
/// * **Upgradable reads.** An upgradable reader excludes writers and other upgradable readers
///   but admits plain readers. [`upgrade`] claims the lock as a writer and waits for the other
///   readers to leave; the `downgrade*` operations are as documented by `lock_api`. A writer
///   waiting behind an upgradable reader does not block new readers (it has not claimed the
///   lock yet).
/// * **Fairness.** An ordinary unlock releases the lock and wakes the parked threads that
///   could use it (in queue order, the readers up to and including the first parked writer or
///   upgradable reader; after an upgradable reader, the other readers too), which then compete
///   with newcomers. A *fair* unlock ([`unlock_exclusive_fair`],
///   [`unlock_upgradable_fair`], the `bump_*` operations) hands the lock straight to that same
///   set of waiters, in queue order, so no newcomer can barge in; `parking_lot_core` also turns
///   an ordinary unlock into a fair one about every 0.5 ms. A reader leaving never wakes the main
///   queue (no waiter there waits for readers), so [`unlock_shared_fair`] is `unlock_shared`.
/// * [`is_locked_exclusive`] is true only while a writer *holds* the lock, not while it still
///   waits for readers.
///
/// [`lock_shared`]: lock_api::RawRwLock::lock_shared
/// [`lock_shared_recursive`]: lock_api::RawRwLockRecursive::lock_shared_recursive
/// [`upgrade`]: lock_api::RawRwLockUpgrade::upgrade
/// [`unlock_exclusive_fair`]: lock_api::RawRwLockFair::unlock_exclusive_fair
/// [`unlock_upgradable_fair`]: lock_api::RawRwLockUpgradeFair::unlock_upgradable_fair
/// [`unlock_shared_fair`]: lock_api::RawRwLockFair::unlock_shared_fair
/// [`is_locked_exclusive`]: lock_api::RawRwLock::is_locked_exclusive
///
/// # Examples
///
/// ```
/// use lockdep_raw::RwLock;
///
/// let lock = RwLock::new(1);
/// {
///     let a = lock.read();
///     let b = lock.read_recursive();
///     assert_eq!(*a + *b, 2);
/// }
/// let up = lock.upgradable_read();
/// let _reader = lock.try_read().expect("an upgradable read admits readers");
/// assert!(lock.try_upgradable_read().is_none());
/// drop(_reader);
/// let mut w = lock_api::RwLockUpgradableReadGuard::upgrade(up);
/// *w += 1;
/// let r = lock_api::RwLockWriteGuard::downgrade(w);
/// assert_eq!(*r, 2);
/// ```
pub struct RawRwLock {
    state: AtomicUsize,
}

impl RawRwLock {
    /// A new, unlocked lock.
    ///
    /// # Examples
    ///
    /// ```
    /// static RAW: lockdep_raw::RawRwLock = lockdep_raw::RawRwLock::new();
    /// assert!(!lock_api::RawRwLock::is_locked(&RAW));
    /// ```
    pub const fn new() -> Self {
        RawRwLock {
            state: AtomicUsize::new(0),
        }
    }

    /// Main parking key: readers, upgradable readers and writers waiting for `WRITER` or
    /// `UPGRADABLE` to clear.
    #[cfg_attr(not(debug_assertions), inline)]
    fn key(&self) -> usize {
        self as *const Self as usize
    }

    /// Writer parking key: the `WRITER` holder waiting for the readers to drain. Inside this
    /// lock's own word, so no other lock uses it.
    #[cfg_attr(not(debug_assertions), inline)]
    fn writer_key(&self) -> usize {
        self.key() + 1
    }

    /// What the blocking acquisition `request` tries first: one compare-and-swap from a state
    /// that admits it, as parking_lot's fast paths (for a write, from unlocked). False when
    /// the lock refuses it or the compare-and-swap loses a race; then
    /// [`lock_contended`](RawRwLock::lock_contended) finishes the acquisition.
    ///
    /// A wrapper that does its own work around the contended path only (lockdep parks as
    /// the checker's own work) calls these two instead of `lock_shared`, `lock_exclusive`,
    /// …, so that a contended acquisition costs what parking_lot's does. Trying the
    /// `try_lock_*` operation first would add compare-and-swap retries on the contended
    /// word, and the blocking call its own attempt, each a transfer of the cache line.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep_raw::{RawRwLock, RwRequest};
    ///
    /// let raw = RawRwLock::new();
    /// if !raw.try_lock_fast(RwRequest::Exclusive) {
    ///     raw.lock_contended(RwRequest::Exclusive);
    /// }
    /// assert!(lock_api::RawRwLock::is_locked_exclusive(&raw));
    /// # unsafe { lock_api::RawRwLock::unlock_exclusive(&raw) };
    /// ```
    #[cfg_attr(not(debug_assertions), inline)]
    pub fn try_lock_fast(&self, request: RwRequest) -> bool {
        match request {
            RwRequest::Exclusive => self
                .state
                .compare_exchange_weak(0, WRITER, Acquire, Relaxed)
                .is_ok(),
            _ => self.try_shared_fast(request),
        }
    }

    /// The contended path of the blocking acquisition `request`: spins a little, then parks
    /// until it is granted (see [`try_lock_fast`](RawRwLock::try_lock_fast)). Also correct,
    /// only slower, when the lock is free.
    #[cfg_attr(not(debug_assertions), inline)]
    pub fn lock_contended(&self, request: RwRequest) {
        self.lock_contended_inner(request, None);
    }

    /// [`lock_contended`](RawRwLock::lock_contended) until `deadline`: whether `request` was
    /// granted before the deadline passed.
    #[cfg_attr(not(debug_assertions), inline)]
    pub fn lock_contended_until(&self, request: RwRequest, deadline: Instant) -> bool {
        self.lock_contended_inner(request, Some(deadline))
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn lock_contended_inner(&self, request: RwRequest, deadline: Option<Instant>) -> bool {
        match request {
            RwRequest::Exclusive => self.lock_exclusive_slow(deadline),
            _ => self.acquire_slow(request, deadline),
        }
    }

    /// One CAS attempt at a shared lock; false on refusal or contention.
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_shared_fast(&self, request: RwRequest) -> bool {
        let state = self.state.load(Relaxed);
        if !request.admits(state) {
            return false;
        }
        match state.checked_add(request.grant()) {
            Some(new) => self
                .state
                .compare_exchange_weak(state, new, Acquire, Relaxed)
                .is_ok(),
            None => false,
        }
    }

    /// Try-lock for shared and upgradable requests: retries on contention, fails on refusal.
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_acquire(&self, request: RwRequest) -> bool {
        let mut state = self.state.load(Relaxed);
        loop {
            if !request.admits(state) {
                return false;
            }
            let new = state.checked_add(request.grant()).expect(OVERFLOW);
            match self
                .state
                .compare_exchange_weak(state, new, Acquire, Relaxed)
            {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
    }

    /// Acquires `request` on the main key, parking while refused. Returns false if `deadline`
    /// passed first. For `Exclusive` this only claims `WRITER`: see [`Self::wait_for_readers`].
    #[cold]
    fn acquire_slow(&self, request: RwRequest, deadline: Option<Instant>) -> bool {
        let mut spin = SpinWait::new();
        let mut state = self.state.load(Relaxed);
        loop {
            if request.admits(state) {
                let new = state.checked_add(request.grant()).expect(OVERFLOW);
                match self
                    .state
                    .compare_exchange_weak(state, new, Acquire, Relaxed)
                {
                    Ok(_) => return true,
                    Err(now) => state = now,
                }
                continue;
            }
            // Spin only while nobody is parked: not behind queued threads, nor behind a writer
            // that has parked to wait for its readers (it will not be done soon).
            if state & (PARKED | WRITER_PARKED) == 0 && spin.spin() {
                state = self.state.load(Relaxed);
                continue;
            }
            if state & PARKED == 0 {
                if let Err(now) =
                    self.state
                        .compare_exchange_weak(state, state | PARKED, Relaxed, Relaxed)
                {
                    state = now;
                    continue;
                }
            }

            let validate = || {
                let state = self.state.load(Relaxed);
                state & PARKED != 0 && !request.admits(state)
            };
            let timed_out = |_key, was_last_thread| {
                if was_last_thread {
                    self.state.fetch_and(!PARKED, Relaxed);
                }
            };
            // SAFETY: the key is this lock's address; the callbacks neither panic nor call
            // back into the parking lot.
            let result = unsafe {
                sync::park(
                    self.key(),
                    validate,
                    || {},
                    timed_out,
                    ParkToken(request.grant()),
                    deadline,
                )
            };
            match result {
                // The unlocker added our grant to the state; unpark happens-before this return.
                ParkResult::Unparked(TOKEN_HANDOFF) => return true,
                ParkResult::TimedOut => return false,
                ParkResult::Unparked(_) | ParkResult::Invalid => {}
            }
            spin.reset();
            state = self.state.load(Relaxed);
        }
    }

    /// Called by the `WRITER` holder: waits until the reader count is zero, then owns the lock
    /// exclusively. If `deadline` passes first, gives `WRITER` up for `restore` (0 for a writer,
    /// `UPGRADABLE | ONE_READER` for a failed upgrade), wakes the main queue, returns false.
    fn wait_for_readers(&self, deadline: Option<Instant>, restore: usize) -> bool {
        let mut spin = SpinWait::new();
        let mut state = self.state.load(Acquire);
        while state & READERS != 0 {
            if state & WRITER_PARKED == 0 {
                if spin.spin() {
                    state = self.state.load(Acquire);
                    continue;
                }
                // Fails if the count changed meanwhile, so a reader leaving later sees the bit.
                if let Err(now) =
                    self.state
                        .compare_exchange_weak(state, state | WRITER_PARKED, Acquire, Acquire)
                {
                    state = now;
                    continue;
                }
            }

            let validate = || {
                let state = self.state.load(Relaxed);
                state & READERS != 0 && state & WRITER_PARKED != 0
            };
            let timed_out = |_key, _was_last_thread| {
                self.state.fetch_and(!WRITER_PARKED, Relaxed);
            };
            // SAFETY: the key is inside this lock's word; the callbacks neither panic nor call
            // back into the parking lot.
            let result = unsafe {
                sync::park(
                    self.writer_key(),
                    validate,
                    || {},
                    timed_out,
                    ParkToken(WRITER),
                    deadline,
                )
            };
            if result == ParkResult::TimedOut {
                let old = self.state.fetch_add(restore.wrapping_sub(WRITER), Relaxed);
                if old & PARKED != 0 {
                    self.wake_parked();
                }
                return false;
            }
            spin.reset();
            state = self.state.load(Acquire);
        }
        if state & WRITER_PARKED != 0 {
            // Readers are gone and cannot come back while we hold `WRITER`; a late waker may
            // clear the bit concurrently, which is the same result.
            self.state.fetch_and(!WRITER_PARKED, Relaxed);
        }
        true
    }

    /// Exclusive lock, slow path: claim `WRITER`, then wait for the readers.
    #[cold]
    fn lock_exclusive_slow(&self, deadline: Option<Instant>) -> bool {
        self.acquire_slow(RwRequest::Exclusive, deadline) && self.wait_for_readers(deadline, 0)
    }

    /// Upgrade: trade `UPGRADABLE` and our read for `WRITER`, then wait for the other readers.
    fn upgrade_until(&self, deadline: Option<Instant>) -> bool {
        let trade = WRITER.wrapping_sub(UPGRADABLE | ONE_READER);
        let old = self.state.fetch_add(trade, Acquire);
        old & READERS == ONE_READER || self.wait_for_readers(deadline, UPGRADABLE | ONE_READER)
    }

    /// Releases `held` (`WRITER`, or `UPGRADABLE | ONE_READER`) while `PARKED` may be set,
    /// under the main queue's lock, and wakes the waiters [`select`] picks. If `force_fair` (or
    /// `parking_lot_core` says it is time to be fair) and someone is woken, their grants are
    /// added to the state in the same atomic step: the lock passes to them without ever
    /// being free.
    #[cold]
    fn release_slow(&self, held: usize, force_fair: bool) {
        let granted = Cell::new(0);
        let filter = |token| select(&granted, token);
        let callback = |result: UnparkResult| {
            let handoff = result.unparked_threads != 0 && (force_fair || result.be_fair);
            let grant = if handoff { granted.get() } else { 0 };
            let parked = if result.have_more_threads { PARKED } else { 0 };
            // Readers may come and go concurrently (while `UPGRADABLE` is released), so this
            // is a CAS loop. `held` leaves no `WRITER`/`UPGRADABLE` behind and `grant` holds at
            // most one of them, so the sum cannot carry into another field.
            let mut state = self.state.load(Relaxed);
            loop {
                let new = ((state - held).wrapping_add(grant) & !PARKED) | parked;
                match self
                    .state
                    .compare_exchange_weak(state, new, Release, Relaxed)
                {
                    Ok(_) => break,
                    Err(now) => state = now,
                }
            }
            if handoff {
                TOKEN_HANDOFF
            } else {
                TOKEN_NORMAL
            }
        };
        // SAFETY: the key is this lock's address; the callbacks neither panic nor call back
        // into the parking lot.
        unsafe { sync::unpark_filter(self.key(), filter, callback) };
    }

    /// After a transition that cleared `WRITER` or `UPGRADABLE` and saw `PARKED`: wakes the
    /// waiters [`select`] picks (they retry), clearing `PARKED` if none is left.
    #[cold]
    fn wake_parked(&self) {
        let granted = Cell::new(0);
        let filter = |token| select(&granted, token);
        let callback = |result: UnparkResult| {
            if !result.have_more_threads {
                self.state.fetch_and(!PARKED, Relaxed);
            }
            TOKEN_NORMAL
        };
        // SAFETY: the key is this lock's address; the callbacks neither panic nor call back
        // into the parking lot.
        unsafe { sync::unpark_filter(self.key(), filter, callback) };
    }

    /// The last reader left while the `WRITER` holder was parked: wake it.
    #[cold]
    fn wake_writer(&self) {
        let callback = |_result: UnparkResult| {
            self.state.fetch_and(!WRITER_PARKED, Relaxed);
            TOKEN_NORMAL
        };
        // SAFETY: the key is inside this lock's word; the callback neither panics nor calls
        // back into the parking lot.
        unsafe { sync::unpark_one(self.writer_key(), callback) };
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn unlock_upgradable_inner(&self, force_fair: bool) {
        let mut state = self.state.load(Relaxed);
        while state & PARKED == 0 {
            match self.state.compare_exchange_weak(
                state,
                state - (UPGRADABLE | ONE_READER),
                Release,
                Relaxed,
            ) {
                Ok(_) => return,
                Err(now) => state = now,
            }
        }
        self.release_slow(UPGRADABLE | ONE_READER, force_fair);
    }

    #[cold]
    fn bump_shared_slow(&self) {
        // SAFETY: forwarded from `bump_shared`: we hold a shared lock.
        unsafe { lock_api::RawRwLock::unlock_shared(self) };
        lock_api::RawRwLock::lock_shared(self);
    }

    #[cold]
    fn bump_exclusive_slow(&self) {
        self.release_slow(WRITER, true);
        lock_api::RawRwLock::lock_exclusive(self);
    }

    #[cold]
    fn bump_upgradable_slow(&self) {
        self.release_slow(UPGRADABLE | ONE_READER, true);
        lock_api::RawRwLockUpgrade::lock_upgradable(self);
    }
}

impl Default for RawRwLock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RawRwLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Relaxed);
        f.debug_struct("RawRwLock")
            .field("readers", &(state / ONE_READER))
            .field("writer", &(state & WRITER != 0))
            .field("upgradable", &(state & UPGRADABLE != 0))
            .field("parked", &(state & PARKED != 0))
            .field("writer_parked", &(state & WRITER_PARKED != 0))
            .finish()
    }
}

// SAFETY: exclusive ownership is `WRITER` with a zero reader count, which no other request
// admits; shared holders are counted and excluded by `WRITER` (see the state invariants).
// Acquisitions are Acquire RMWs, releases Release RMWs.
unsafe impl lock_api::RawRwLock for RawRwLock {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = RawRwLock::new();

    type GuardMarker = lock_api::GuardNoSend;

    #[cfg_attr(not(debug_assertions), inline)]
    fn lock_shared(&self) {
        if !self.try_shared_fast(RwRequest::Shared) {
            self.acquire_slow(RwRequest::Shared, None);
        }
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_shared(&self) -> bool {
        self.try_acquire(RwRequest::Shared)
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_shared(&self) {
        let old = self.state.fetch_sub(ONE_READER, Release);
        debug_assert!(old & READERS != 0, "unlock_shared without a reader");
        if old & (READERS | WRITER_PARKED) == ONE_READER | WRITER_PARKED {
            self.wake_writer();
        }
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn lock_exclusive(&self) {
        if !self.try_lock_fast(RwRequest::Exclusive) {
            self.lock_exclusive_slow(None);
        }
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_exclusive(&self) -> bool {
        let mut state = self.state.load(Relaxed);
        loop {
            if state & (WRITER | UPGRADABLE | READERS) != 0 {
                return false;
            }
            match self
                .state
                .compare_exchange_weak(state, state | WRITER, Acquire, Relaxed)
            {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_exclusive(&self) {
        if self
            .state
            .compare_exchange(WRITER, 0, Release, Relaxed)
            .is_err()
        {
            self.release_slow(WRITER, false);
        }
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn is_locked(&self) -> bool {
        self.state.load(Relaxed) & (WRITER | UPGRADABLE | READERS) != 0
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn is_locked_exclusive(&self) -> bool {
        self.state.load(Relaxed) & (WRITER | READERS) == WRITER
    }
}

// SAFETY: fair unlocks release the same ownership as the plain ones; a hand-off adds to the
// state exactly the compatible set of grants the woken threads asked for.
unsafe impl lock_api::RawRwLockFair for RawRwLock {
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_shared_fair(&self) {
        // SAFETY: forwarded; see the type's docs on why a reader has nothing to hand over.
        unsafe { lock_api::RawRwLock::unlock_shared(self) }
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_exclusive_fair(&self) {
        if self
            .state
            .compare_exchange(WRITER, 0, Release, Relaxed)
            .is_err()
        {
            self.release_slow(WRITER, true);
        }
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn bump_shared(&self) {
        // Only useful when we are the last reader and a writer waits for us.
        if self.state.load(Relaxed) & (READERS | WRITER) == ONE_READER | WRITER {
            self.bump_shared_slow();
        }
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn bump_exclusive(&self) {
        if self.state.load(Relaxed) & PARKED != 0 {
            self.bump_exclusive_slow();
        }
    }
}

// SAFETY: `WRITER -> ONE_READER` in one atomic step keeps the holder's access.
unsafe impl lock_api::RawRwLockDowngrade for RawRwLock {
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn downgrade(&self) {
        let old = self.state.fetch_add(ONE_READER - WRITER, Release);
        if old & PARKED != 0 {
            self.wake_parked();
        }
    }
}

// SAFETY: timed-out attempts return false having released whatever they claimed.
unsafe impl lock_api::RawRwLockTimed for RawRwLock {
    type Duration = Duration;
    type Instant = Instant;

    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_shared_for(&self, timeout: Duration) -> bool {
        self.try_shared_fast(RwRequest::Shared)
            || self.acquire_slow(RwRequest::Shared, Instant::now().checked_add(timeout))
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_shared_until(&self, timeout: Instant) -> bool {
        self.try_shared_fast(RwRequest::Shared)
            || self.acquire_slow(RwRequest::Shared, Some(timeout))
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_exclusive_for(&self, timeout: Duration) -> bool {
        lock_api::RawRwLock::try_lock_exclusive(self)
            || self.lock_exclusive_slow(Instant::now().checked_add(timeout))
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_exclusive_until(&self, timeout: Instant) -> bool {
        lock_api::RawRwLock::try_lock_exclusive(self) || self.lock_exclusive_slow(Some(timeout))
    }
}

// SAFETY: a recursive read is only admitted alongside other readers or without a writer.
unsafe impl lock_api::RawRwLockRecursive for RawRwLock {
    #[cfg_attr(not(debug_assertions), inline)]
    fn lock_shared_recursive(&self) {
        if !self.try_shared_fast(RwRequest::SharedRecursive) {
            self.acquire_slow(RwRequest::SharedRecursive, None);
        }
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_shared_recursive(&self) -> bool {
        self.try_acquire(RwRequest::SharedRecursive)
    }
}

// SAFETY: as for `RawRwLockRecursive` and `RawRwLockTimed`.
unsafe impl lock_api::RawRwLockRecursiveTimed for RawRwLock {
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_shared_recursive_for(&self, timeout: Duration) -> bool {
        self.try_shared_fast(RwRequest::SharedRecursive)
            || self.acquire_slow(
                RwRequest::SharedRecursive,
                Instant::now().checked_add(timeout),
            )
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_shared_recursive_until(&self, timeout: Instant) -> bool {
        self.try_shared_fast(RwRequest::SharedRecursive)
            || self.acquire_slow(RwRequest::SharedRecursive, Some(timeout))
    }
}

// SAFETY: `UPGRADABLE` is held by one thread at a time; `upgrade` trades it for `WRITER` in
// one atomic step and then waits for the other readers like any writer.
unsafe impl lock_api::RawRwLockUpgrade for RawRwLock {
    #[cfg_attr(not(debug_assertions), inline)]
    fn lock_upgradable(&self) {
        if !self.try_shared_fast(RwRequest::Upgradable) {
            self.acquire_slow(RwRequest::Upgradable, None);
        }
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_upgradable(&self) -> bool {
        self.try_acquire(RwRequest::Upgradable)
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_upgradable(&self) {
        self.unlock_upgradable_inner(false);
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn upgrade(&self) {
        self.upgrade_until(None);
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn try_upgrade(&self) -> bool {
        let trade = WRITER.wrapping_sub(UPGRADABLE | ONE_READER);
        let mut state = self.state.load(Relaxed);
        loop {
            if state & READERS != ONE_READER {
                return false;
            }
            match self.state.compare_exchange_weak(
                state,
                state.wrapping_add(trade),
                Acquire,
                Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
    }
}

// SAFETY: as for `RawRwLockUpgrade` and `RawRwLockFair`.
unsafe impl lock_api::RawRwLockUpgradeFair for RawRwLock {
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn unlock_upgradable_fair(&self) {
        self.unlock_upgradable_inner(true);
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn bump_upgradable(&self) {
        if self.state.load(Relaxed) & PARKED != 0 {
            self.bump_upgradable_slow();
        }
    }
}

// SAFETY: each downgrade is one atomic step that keeps the holder's (reduced) access.
unsafe impl lock_api::RawRwLockUpgradeDowngrade for RawRwLock {
    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn downgrade_upgradable(&self) {
        let old = self.state.fetch_sub(UPGRADABLE, Release);
        if old & PARKED != 0 {
            self.wake_parked();
        }
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn downgrade_to_upgradable(&self) {
        let old = self
            .state
            .fetch_add((ONE_READER | UPGRADABLE) - WRITER, Release);
        if old & PARKED != 0 {
            self.wake_parked();
        }
    }
}

// SAFETY: a timed-out upgrade gives `WRITER` back for `UPGRADABLE` and our read.
unsafe impl lock_api::RawRwLockUpgradeTimed for RawRwLock {
    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_upgradable_for(&self, timeout: Duration) -> bool {
        self.try_shared_fast(RwRequest::Upgradable)
            || self.acquire_slow(RwRequest::Upgradable, Instant::now().checked_add(timeout))
    }

    #[cfg_attr(not(debug_assertions), inline)]
    fn try_lock_upgradable_until(&self, timeout: Instant) -> bool {
        self.try_shared_fast(RwRequest::Upgradable)
            || self.acquire_slow(RwRequest::Upgradable, Some(timeout))
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn try_upgrade_for(&self, timeout: Duration) -> bool {
        self.upgrade_until(Instant::now().checked_add(timeout))
    }

    #[cfg_attr(not(debug_assertions), inline)]
    unsafe fn try_upgrade_until(&self, timeout: Instant) -> bool {
        self.upgrade_until(Some(timeout))
    }
}
