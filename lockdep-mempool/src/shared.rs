//! What a pool and its outstanding elements share: the reserve, the allocation and free
//! functions, and the pool's class. An element keeps it alive, so that it can be returned
//! after the pool is gone.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};

use lockdep_raw::{Condvar, Mutex, MutexGuard};

use lockdep_core::{untracked_scope, LockdepMap};

pub(crate) type AllocFn<T> = Box<dyn Fn() -> Option<T> + Send + Sync>;
pub(crate) type FreeFn<T> = Box<dyn Fn(T) + Send + Sync>;

/// What the pool and its outstanding elements share.
pub(crate) struct Shared<T> {
    reserve: Mutex<Reserve<T>>,
    /// The reserve keeps no more elements (it is full, or closed), as of its last unlock:
    /// a returned element is then freed without taking the lock, as the kernel's
    /// `mempool_free` reads `curr_nr` first. Stored with `Release` at every unlock of the
    /// reserve and read with `Acquire`, so a thread returning an element that came out of the
    /// reserve sees the reserve as that take left it, or as a later unlock did.
    full: AtomicBool,
    /// Signalled when an element goes back into the reserve.
    pub(crate) returned: Condvar,
    pub(crate) alloc: AllocFn<T>,
    free: Option<FreeFn<T>>,
    pub(crate) class: LockdepMap,
}

/// The preallocated elements, and how many the pool keeps.
pub(crate) struct Reserve<T> {
    pub(crate) elements: Vec<T>,
    pub(crate) min_nr: usize,
    /// The pool was dropped: returned elements are freed.
    pub(crate) closed: bool,
}

impl<T> Shared<T> {
    /// The state of a pool of class `class` whose reserve is `elements`, kept at `min_nr`.
    pub(crate) fn new(
        elements: Vec<T>,
        min_nr: usize,
        alloc: AllocFn<T>,
        free: Option<FreeFn<T>>,
        class: LockdepMap,
    ) -> Shared<T> {
        Shared {
            reserve: Mutex::new(Reserve {
                elements,
                min_nr,
                closed: false,
            }),
            full: AtomicBool::new(false),
            returned: Condvar::new(),
            alloc,
            free,
            class,
        }
    }

    /// Frees an object the pool does not keep: with the pool's free callback, else by dropping
    /// it.
    pub(crate) fn free_object(&self, value: T) {
        match &self.free {
            Some(free) => free(value),
            None => drop(value),
        }
    }

    /// The reserve, locked; a contended lock parks as the checker's own work.
    pub(crate) fn lock_reserve(&self) -> ReserveGuard<'_, T> {
        let guard = self
            .reserve
            .try_lock()
            .unwrap_or_else(|| untracked_scope(|| self.reserve.lock()));
        ReserveGuard {
            guard,
            full: &self.full,
        }
    }

    /// An element came back: refill the reserve up to `min_nr`, else free it (the kernel's
    /// `mempool_free`). A full reserve is seen without its lock.
    pub(crate) fn give_back(&self, value: T) {
        if self.full.load(Ordering::Acquire) {
            self.free_object(value);
            return;
        }
        let mut reserve = self.lock_reserve();
        if !reserve.closed && reserve.elements.len() < reserve.min_nr {
            reserve.elements.push(value);
            drop(reserve);
            untracked_scope(|| self.returned.notify_one());
        } else {
            drop(reserve);
            self.free_object(value);
        }
    }
}

/// The locked reserve. Every unlock records whether the reserve is full (`Shared::full`), so
/// that no change to it can leave that stale.
pub(crate) struct ReserveGuard<'a, T> {
    guard: MutexGuard<'a, Reserve<T>>,
    full: &'a AtomicBool,
}

impl<'a, T> ReserveGuard<'a, T> {
    /// The raw guard, for a wait on the pool's condition variable (which unlocks and locks
    /// it again: whoever changes the reserve meanwhile records its state at their unlock).
    pub(crate) fn raw(&mut self) -> &mut MutexGuard<'a, Reserve<T>> {
        &mut self.guard
    }
}

impl<T> Deref for ReserveGuard<'_, T> {
    type Target = Reserve<T>;
    #[inline]
    fn deref(&self) -> &Reserve<T> {
        &self.guard
    }
}

impl<T> DerefMut for ReserveGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Reserve<T> {
        &mut self.guard
    }
}

impl<T> Drop for ReserveGuard<'_, T> {
    /// Runs before the lock is released (the guard field is dropped after this body).
    #[inline]
    fn drop(&mut self) {
        let r = &*self.guard;
        self.full
            .store(r.closed || r.elements.len() >= r.min_nr, Ordering::Release);
    }
}
