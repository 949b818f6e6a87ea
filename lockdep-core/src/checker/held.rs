//! The per-thread held-lock stack (the kernel's `current->held_locks[]`).
//!
//! It lives in a `const`-initialised thread-local without a destructor, so it is reachable at
//! any point of a thread's life, including thread start-up, TLS teardown and from inside the
//! global allocator, and access compiles to a plain TLS offset.

use std::cell::Cell;
use std::panic::Location;

use super::chain_key;
use super::registry::ClassId;

/// The kernel's `MAX_LOCK_DEPTH`.
pub(crate) const MAX_LOCK_DEPTH: usize = 48;
/// Entries of the thread-local cache of validated chain keys (direct-mapped).
const CHAIN_CACHE_SIZE: usize = 256;

/// How a class is acquired or held: the kernel's `hlock->read`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Access {
    /// Exclusive: `lock()`, `write()`, a pool element, `ALLOC`.
    Write = 0,
    /// Non-recursive shared: `RwLock::read()` (blocks behind a queued writer).
    Read = 1,
    /// Recursive shared: `RwLock::read_recursive()` (never blocks on another reader).
    RecursiveRead = 2,
}

impl Access {
    /// Held shared (the kernel's `S` in `-(S?)->`).
    #[inline]
    pub(crate) fn is_shared(self) -> bool {
        self != Access::Write
    }
}

/// One held lock, pool element or `ALLOC` hold.
#[derive(Clone, Copy)]
pub(crate) struct HeldLock {
    pub class: ClassId,
    pub read: Access,
    pub trylock: bool,
    /// Number of elements of one pool held (pool entries collapse into one).
    pub count: u16,
    /// Identity of the instance: the lock's address, or the class id for pools and `ALLOC`.
    pub instance: usize,
    pub site: &'static Location<'static>,
    /// Chain key of the stack up to and including this entry.
    pub chain_key: u64,
}

const EMPTY: HeldLock = HeldLock {
    class: 0,
    read: Access::Write,
    trylock: false,
    count: 0,
    instance: 0,
    site: Location::caller(),
    chain_key: 0,
};

/// All per-thread state of the checker.
pub(crate) struct ThreadState {
    depth: Cell<usize>,
    stack: [Cell<HeldLock>; MAX_LOCK_DEPTH],
    chain_cache: [Cell<u64>; CHAIN_CACHE_SIZE],
    /// Set while the checker itself runs on this thread: its own allocations and locks are not
    /// checked (re-entry through `TrackingAllocator`).
    pub reentry: Cell<bool>,
    /// Depth of `noreclaim_scope`s.
    pub noreclaim: Cell<u32>,
    /// Number of pool entries on the stack (only then are remote releases looked for).
    pub pool_entries: Cell<u32>,
    /// This thread's inbox for elements dropped on other threads (an `Arc::into_raw`).
    pub inbox: Cell<*const super::pool::Inbox>,
    /// Whether the thread-exit hook is registered.
    pub exit_hook: Cell<bool>,
}

thread_local! {
    static THREAD: ThreadState = const { ThreadState::new() };
}

/// Runs `f` with this thread's state.
#[inline(always)]
pub(crate) fn with_thread<R>(f: impl FnOnce(&ThreadState) -> R) -> R {
    THREAD.with(f)
}

/// Marks the checker as running on this thread until dropped (also on unwind).
pub(crate) struct Reentry<'a>(&'a ThreadState);

impl Drop for Reentry<'_> {
    fn drop(&mut self) {
        self.0.reentry.set(false);
    }
}

impl ThreadState {
    const fn new() -> Self {
        ThreadState {
            depth: Cell::new(0),
            stack: [const { Cell::new(EMPTY) }; MAX_LOCK_DEPTH],
            chain_cache: [const { Cell::new(0) }; CHAIN_CACHE_SIZE],
            reentry: Cell::new(false),
            noreclaim: Cell::new(0),
            pool_entries: Cell::new(0),
            inbox: Cell::new(std::ptr::null()),
            exit_hook: Cell::new(false),
        }
    }

    /// Enters the checker; `None` if it is already running on this thread.
    #[inline]
    pub(crate) fn enter(&self) -> Option<Reentry<'_>> {
        if self.reentry.replace(true) {
            None
        } else {
            Some(Reentry(self))
        }
    }

    #[inline(always)]
    pub(crate) fn depth(&self) -> usize {
        self.depth.get()
    }

    /// Chain key of the whole stack.
    #[inline(always)]
    pub(crate) fn top_key(&self) -> u64 {
        match self.depth.get() {
            0 => 0,
            d => self.stack[d - 1].get().chain_key,
        }
    }

    #[inline(always)]
    pub(crate) fn get(&self, idx: usize) -> HeldLock {
        self.stack[idx].get()
    }

    /// A copy of the stack, bottom first.
    pub(crate) fn snapshot(&self) -> Vec<HeldLock> {
        self.stack[..self.depth.get()]
            .iter()
            .map(Cell::get)
            .collect()
    }

    /// Pushes an entry; false when the stack is full.
    #[inline]
    pub(crate) fn push(&self, mut held: HeldLock) -> bool {
        let d = self.depth.get();
        if d >= MAX_LOCK_DEPTH {
            return false;
        }
        held.chain_key = chain_key::extend(self.top_key(), held.class, held.read);
        self.stack[d].set(held);
        self.depth.set(d + 1);
        true
    }

    /// Index of the topmost entry for `instance`.
    #[inline]
    pub(crate) fn find(&self, instance: usize) -> Option<usize> {
        (0..self.depth.get())
            .rev()
            .find(|&i| self.stack[i].get().instance == instance)
    }

    /// Removes entry `idx`; entries above move down and get their chain keys recomputed, as
    /// the kernel's `__lock_release` rebuilds the chain after an out-of-order release.
    #[inline]
    pub(crate) fn remove(&self, idx: usize) {
        let d = self.depth.get();
        debug_assert!(idx < d);
        if idx + 1 == d {
            self.depth.set(idx);
            return;
        }
        self.depth.set(idx);
        for i in idx + 1..d {
            let held = self.stack[i].get();
            self.push(held);
        }
    }

    /// Sets the `count` of entry `idx`.
    pub(crate) fn set_count(&self, idx: usize, count: u16) {
        let mut held = self.stack[idx].get();
        held.count = count;
        self.stack[idx].set(held);
    }

    /// Empties the stack (thread exit).
    pub(crate) fn clear(&self) {
        self.depth.set(0);
        self.pool_entries.set(0);
    }

    #[inline(always)]
    fn cache_slot(&self, key: u64) -> &Cell<u64> {
        &self.chain_cache[(key >> 7) as usize % CHAIN_CACHE_SIZE]
    }

    /// True when this thread already knows the chain `key` to be validated.
    #[inline(always)]
    pub(crate) fn chain_cached(&self, key: u64) -> bool {
        self.cache_slot(key).get() == key
    }

    #[inline]
    pub(crate) fn cache_chain(&self, key: u64) {
        self.cache_slot(key).set(key);
    }
}
