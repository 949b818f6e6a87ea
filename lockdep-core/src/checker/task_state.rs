//! What a thread's or a task's [`Context`] keeps about tasks (tokio's, or futures given a
//! context of their own by `lockdep::AsTask`): as a
//! task's context, whose it is and what blocking locks it holds; as a thread's, which task's
//! context the thread used last. The table of task contexts and the rules of who may touch
//! one are `checker::tasks`'.

use std::cell::Cell;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering::*};

use super::types::ClassId;

/// What a context keeps about tasks.
pub(crate) struct TaskState {
    /// As a task's context: the task it belongs to (0: a thread's context, or free).
    pub(crate) owner: AtomicU64,
    /// Bumped each time the context changes hands: a thread's cached pointer to it is good
    /// for the generation it was taken in only.
    pub(crate) generation: AtomicU64,
    /// The thread that polls the task now (its `tid`), or polled it last.
    pub(crate) running_on: AtomicU64,
    /// Blocking locks the task holds (entries of a lock's own acquisition, not holds), and the
    /// latest one's class and site: read by other threads.
    pub(crate) blocking: AtomicU32,
    pub(crate) blocking_class: AtomicU32,
    pub(crate) blocking_site: AtomicPtr<Location<'static>>,
    /// As a thread's context: the task this thread ran last (0: none, or its own code), with
    /// that task's context and the generation it was in.
    pub(crate) last_task: Cell<u64>,
    /// (A `*const Context`: this module sits below the contexts it is a part of.)
    pub(crate) last_context: Cell<*const ()>,
    pub(crate) last_generation: Cell<u64>,
    /// Set while this thread asks tokio which task runs, or switches contexts: an allocation
    /// in there (tokio's thread-local, the overflow table) must not ask again.
    pub(crate) busy: Cell<bool>,
    /// As a thread's context: the task a `lockdep::AsTask` wrapper runs on this thread now
    /// (0: none), which wins over tokio's.
    pub(crate) scoped: Cell<u64>,
    /// A context of the overflow table (not of a slot).
    pub(crate) spilled: AtomicBool,
    /// Made for tasks (set once, before the context is published; false in a thread's own
    /// context, which no task claims): a thread's own context is known not to be a task's
    /// without the atomic load of `owner`, which is a call of its own in an unoptimised
    /// build.
    pub(crate) of_task: Cell<bool>,
}

impl TaskState {
    pub(crate) const fn new() -> TaskState {
        TaskState {
            owner: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            running_on: AtomicU64::new(0),
            blocking: AtomicU32::new(0),
            blocking_class: AtomicU32::new(0),
            blocking_site: AtomicPtr::new(std::ptr::null_mut()),
            last_task: Cell::new(0),
            last_context: Cell::new(std::ptr::null()),
            last_generation: Cell::new(0),
            busy: Cell::new(false),
            scoped: Cell::new(0),
            spilled: AtomicBool::new(false),
            of_task: Cell::new(false),
        }
    }

    /// Whether this is a task's context (claimed by a task).
    #[inline(always)]
    pub(crate) fn is_task(&self) -> bool {
        crate::thin::get(&self.of_task) && self.owner.load(Relaxed) != 0
    }

    /// A blocking lock of `class` was taken at `site` in this (task's) context.
    #[inline]
    pub(crate) fn blocking_taken(&self, class: ClassId, site: &'static Location<'static>) {
        self.blocking_class.store(class, Relaxed);
        self.blocking_site
            .store(site as *const _ as *mut _, Relaxed);
        self.blocking
            .store(self.blocking.load(Relaxed) + 1, Release);
    }

    /// A blocking lock was released in this (task's) context.
    #[inline]
    pub(crate) fn blocking_released(&self) {
        let n = self.blocking.load(Relaxed);
        self.blocking.store(n.saturating_sub(1), Release);
    }

    /// The held stack was forgotten (checking was off meanwhile).
    pub(crate) fn forget(&self) {
        self.blocking.store(0, Relaxed);
    }
}
