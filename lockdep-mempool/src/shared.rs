//! What a pool and its outstanding elements share: the reserve, the allocation and free
//! functions, and the pool's class. An element keeps it alive, so that it can be returned
//! after the pool is gone.

use lockdep_raw::{Condvar, Mutex, MutexGuard};

use lockdep_core::{untracked_scope, LockdepMap};

pub(crate) type AllocFn<T> = Box<dyn Fn() -> Option<T> + Send + Sync>;
pub(crate) type FreeFn<T> = Box<dyn Fn(T) + Send + Sync>;

/// What the pool and its outstanding elements share.
pub(crate) struct Shared<T> {
    reserve: Mutex<Reserve<T>>,
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
    pub(crate) fn lock_reserve(&self) -> MutexGuard<'_, Reserve<T>> {
        self.reserve
            .try_lock()
            .unwrap_or_else(|| untracked_scope(|| self.reserve.lock()))
    }

    /// An element came back: refill the reserve up to `min_nr`, else free it (the kernel's
    /// `mempool_free`).
    pub(crate) fn give_back(&self, value: T) {
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
