//! The only door to atomics and thread parking.
//!
//! Every lock in this crate reaches its state word and the parking lot through this module.
//! In a normal build it is a set of plain re-exports — `core::sync::atomic` and
//! `parking_lot_core` — so it costs nothing. Under `--cfg loom` it swaps in loom's atomics
//! and `model`, a small parking lot built from loom primitives with the same contract as
//! `parking_lot_core`, so the model checker sees (and permutes) every memory access and every
//! park/unpark the locks make.

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
#[cfg(not(loom))]
pub(crate) use parking_lot_core::{park, unpark_filter, unpark_one, SpinWait};

/// Whether `atomic.compare_exchange(current, new, success, failure)` (or its `_weak` form,
/// which may fail spuriously) succeeded: the fast paths' one atomic step.
///
/// In an unoptimised build (a test build with this crate at its default level), the method is
/// a call that calls the intrinsic's wrapper, which matches the orderings at run time, and
/// the `Result`'s `is_ok` a third: about 80 instructions for one `lock cmpxchg`, twice per
/// lock and unlock. There, on x86-64 (debug assertions standing for an unoptimised build),
/// this is that instruction itself, always inlined, which an unoptimised build honours:
/// `lock cmpxchg` is a sequentially consistent compare-and-exchange, at least as strong as
/// any ordering asked for, and a strong one serves where a weak one is asked for (never
/// failing spuriously is allowed). Elsewhere it is the method.
#[inline(always)]
pub(crate) fn exchanged_u8(
    atomic: &AtomicU8,
    current: u8,
    new: u8,
    success: Ordering,
    failure: Ordering,
    weak: bool,
) -> bool {
    #[cfg(all(target_arch = "x86_64", debug_assertions, not(miri), not(loom)))]
    {
        let _ = (success, failure, weak);
        let ok: u8;
        // SAFETY: one atomic compare-and-exchange of the byte of a live `AtomicU8`, which is
        // only ever accessed atomically (an `AtomicU8` has the layout of a `u8`); `al` holds
        // the expected value and is overwritten with the one found. The block is a compiler
        // barrier (neither `nomem` nor `readonly`), as a sequentially consistent operation
        // must be; it touches no stack, and the flags it changes are declared (no
        // `preserves_flags`).
        unsafe {
            core::arch::asm!(
                "lock cmpxchg byte ptr [{atomic}], {new}",
                "sete {ok}",
                atomic = in(reg) atomic as *const AtomicU8,
                new = in(reg_byte) new,
                ok = lateout(reg_byte) ok,
                inout("al") current => _,
                options(nostack),
            );
        }
        ok != 0
    }
    #[cfg(not(all(target_arch = "x86_64", debug_assertions, not(miri), not(loom))))]
    if weak {
        atomic
            .compare_exchange_weak(current, new, success, failure)
            .is_ok()
    } else {
        atomic
            .compare_exchange(current, new, success, failure)
            .is_ok()
    }
}

#[cfg(loom)]
pub(crate) use loom::sync::atomic::Ordering;
#[cfg(loom)]
pub(crate) use model::{park, unpark_filter, unpark_one, AtomicU8, AtomicUsize, SpinWait};

/// The loom stand-ins. Timeouts are not modelled: a deadline is ignored and `park` waits
/// until it is unparked, so model tests must not rely on a timed wait timing out.
///
/// A lock's loom atomic is created on its first use (see `lazy_atomic!`); loom treats that
/// creation as a plain write, so a model test must use each lock once on the thread that
/// creates it before sharing it (e.g. call `is_locked()`), or loom reports a (false)
/// causality violation.
#[cfg(loom)]
mod model {
    use crate::sync::Ordering;
    use loom::sync::{Arc, Condvar, Mutex};
    use parking_lot_core::{FilterOp, ParkResult, ParkToken, UnparkResult, UnparkToken};
    use std::sync::OnceLock;
    use std::time::Instant;

    /// Declares a loom atomic that can be built in a `const` context, as the locks'
    /// `const fn new` and `lock_api`'s `INIT` require: loom's own atomics must be created
    /// inside a model run, so the real one is created on first use.
    macro_rules! lazy_atomic {
        ($name:ident, $int:ty) => {
            pub(crate) struct $name {
                init: $int,
                cell: OnceLock<loom::sync::atomic::$name>,
            }

            #[allow(dead_code)]
            impl $name {
                pub(crate) const fn new(init: $int) -> Self {
                    Self {
                        init,
                        cell: OnceLock::new(),
                    }
                }
                fn get(&self) -> &loom::sync::atomic::$name {
                    self.cell
                        .get_or_init(|| loom::sync::atomic::$name::new(self.init))
                }
                pub(crate) fn load(&self, order: Ordering) -> $int {
                    self.get().load(order)
                }
                pub(crate) fn store(&self, value: $int, order: Ordering) {
                    self.get().store(value, order)
                }
                pub(crate) fn compare_exchange(
                    &self,
                    current: $int,
                    new: $int,
                    success: Ordering,
                    failure: Ordering,
                ) -> Result<$int, $int> {
                    self.get().compare_exchange(current, new, success, failure)
                }
                pub(crate) fn compare_exchange_weak(
                    &self,
                    current: $int,
                    new: $int,
                    success: Ordering,
                    failure: Ordering,
                ) -> Result<$int, $int> {
                    self.get()
                        .compare_exchange_weak(current, new, success, failure)
                }
                pub(crate) fn fetch_add(&self, value: $int, order: Ordering) -> $int {
                    self.get().fetch_add(value, order)
                }
                pub(crate) fn fetch_sub(&self, value: $int, order: Ordering) -> $int {
                    self.get().fetch_sub(value, order)
                }
                pub(crate) fn fetch_and(&self, value: $int, order: Ordering) -> $int {
                    self.get().fetch_and(value, order)
                }
                pub(crate) fn fetch_or(&self, value: $int, order: Ordering) -> $int {
                    self.get().fetch_or(value, order)
                }
            }
        };
    }

    lazy_atomic!(AtomicU8, u8);
    lazy_atomic!(AtomicUsize, usize);

    /// Never spins: under the model, spinning only multiplies interleavings, and every
    /// caller treats `false` as "stop spinning and park", which is the path worth checking.
    pub(crate) struct SpinWait;

    impl SpinWait {
        pub(crate) fn new() -> Self {
            SpinWait
        }
        pub(crate) fn spin(&mut self) -> bool {
            false
        }
        pub(crate) fn reset(&mut self) {}
    }

    /// One parked thread. `token` is written once, by the unparker, under `token`'s mutex.
    struct Waiter {
        key: usize,
        park_token: ParkToken,
        token: Mutex<Option<UnparkToken>>,
        wake: Condvar,
    }

    loom::lazy_static! {
        /// The whole parking lot: one FIFO queue for all keys. Holding this mutex plays the
        /// part of holding the bucket lock in `parking_lot_core`.
        static ref QUEUE: Mutex<Vec<Arc<Waiter>>> = Mutex::new(Vec::new());
    }

    /// Same contract as `parking_lot_core::park`: `validate` runs under the queue lock and
    /// the thread is queued only if it returns true; `before_sleep` runs after the queue lock
    /// is released. `_timed_out`/`_timeout` are unused (no timeouts in the model).
    pub(crate) unsafe fn park(
        key: usize,
        validate: impl FnOnce() -> bool,
        before_sleep: impl FnOnce(),
        _timed_out: impl FnOnce(usize, bool),
        park_token: ParkToken,
        _timeout: Option<Instant>,
    ) -> ParkResult {
        let waiter = Arc::new(Waiter {
            key,
            park_token,
            token: Mutex::new(None),
            wake: Condvar::new(),
        });
        {
            let mut queue = QUEUE.lock().unwrap();
            if !validate() {
                return ParkResult::Invalid;
            }
            queue.push(waiter.clone());
        }
        before_sleep();
        let mut token = waiter.token.lock().unwrap();
        loop {
            if let Some(token) = *token {
                return ParkResult::Unparked(token);
            }
            token = waiter.wake.wait(token).unwrap();
        }
    }

    /// Same contract as `parking_lot_core::unpark_filter`: `filter` and `callback` run under
    /// the queue lock, the selected threads wake with the callback's token.
    pub(crate) unsafe fn unpark_filter(
        key: usize,
        mut filter: impl FnMut(ParkToken) -> FilterOp,
        callback: impl FnOnce(UnparkResult) -> UnparkToken,
    ) -> UnparkResult {
        let mut queue = QUEUE.lock().unwrap();
        let mut woken = Vec::new();
        let mut have_more_threads = false;
        let mut i = 0;
        while i < queue.len() {
            if queue[i].key != key {
                i += 1;
                continue;
            }
            match filter(queue[i].park_token) {
                FilterOp::Unpark => woken.push(queue.remove(i)),
                FilterOp::Skip => {
                    have_more_threads = true;
                    i += 1;
                }
                FilterOp::Stop => {
                    have_more_threads = true;
                    break;
                }
            }
        }
        let mut result = UnparkResult::default();
        result.unparked_threads = woken.len();
        result.have_more_threads = have_more_threads;
        let token = callback(result);
        for waiter in woken {
            *waiter.token.lock().unwrap() = Some(token);
            waiter.wake.notify_one();
        }
        drop(queue);
        result
    }

    /// Same contract as `parking_lot_core::unpark_one`.
    pub(crate) unsafe fn unpark_one(
        key: usize,
        callback: impl FnOnce(UnparkResult) -> UnparkToken,
    ) -> UnparkResult {
        let mut first = true;
        let filter = |_| {
            if std::mem::replace(&mut first, false) {
                FilterOp::Unpark
            } else {
                FilterOp::Stop
            }
        };
        // SAFETY: same contract as ours, forwarded.
        unsafe { unpark_filter(key, filter, callback) }
    }
}
