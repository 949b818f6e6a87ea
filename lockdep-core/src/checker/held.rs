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
    /// Acquired without recording dependencies on the entries below: a try-lock, or a
    /// recursive acquisition whose lower entry of the same class was released first.
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
    /// Entry `i` of the stack is in slot `i + 1`; slot 0 is a sentinel whose chain key is the
    /// empty stack's (0), so that the top's key is read without a branch.
    stack: [Cell<HeldLock>; MAX_LOCK_DEPTH + 1],
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
    /// The generation of `inbox` this thread owns.
    pub inbox_generation: Cell<u64>,
    /// Whether the thread-exit hook is registered.
    pub exit_hook: Cell<bool>,
    /// The last chain key computed by [`next_key`](ThreadState::next_key): the stack's key,
    /// the acquisition (class and read state) and the key with it on top. Validation computes
    /// the key before blocking and the push after finds it here instead of hashing again.
    memo_prev: Cell<u64>,
    memo_acq: Cell<u64>,
    memo_key: Cell<u64>,
}

thread_local! {
    static THREAD: ThreadState = const { ThreadState::new() };
}

/// Runs `f` with this thread's state.
///
/// `LocalKey::with` is given only a closure that takes the address, so that it inlines to a
/// TLS offset; given `f` itself it is instantiated out of line, reaching the variable through
/// `LocalKey`'s accessor by an indirect call on every lock operation.
#[inline(always)]
pub(crate) fn with_thread<R>(f: impl FnOnce(&ThreadState) -> R) -> R {
    let t: *const ThreadState = THREAD.with(|t| t as *const ThreadState);
    // SAFETY: the variable is `const`-initialised and has no destructor, so its storage is
    // valid for the whole life of this thread, and `f` runs now on this thread.
    f(unsafe { &*t })
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
            stack: [const { Cell::new(EMPTY) }; MAX_LOCK_DEPTH + 1],
            chain_cache: [const { Cell::new(0) }; CHAIN_CACHE_SIZE],
            reentry: Cell::new(false),
            noreclaim: Cell::new(0),
            pool_entries: Cell::new(0),
            inbox: Cell::new(std::ptr::null()),
            inbox_generation: Cell::new(0),
            exit_hook: Cell::new(false),
            memo_prev: Cell::new(0),
            memo_acq: Cell::new(u64::MAX),
            memo_key: Cell::new(0),
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
        self.stack[self.depth.get()].get().chain_key
    }

    #[inline(always)]
    pub(crate) fn get(&self, idx: usize) -> HeldLock {
        self.stack[idx + 1].get()
    }

    /// A copy of the stack, bottom first.
    pub(crate) fn snapshot(&self) -> Vec<HeldLock> {
        self.stack[1..=self.depth.get()]
            .iter()
            .map(Cell::get)
            .collect()
    }

    /// The chain key of the stack with `class` acquired as `read` on top, memoized for the
    /// push that follows validation.
    #[inline(always)]
    pub(crate) fn next_key(&self, class: ClassId, read: Access) -> u64 {
        let prev = self.top_key();
        let acq = chain_key::acquisition(class, read);
        match self.memoized(prev, acq) {
            Some(key) => key,
            None => self.next_key_unmemoized(prev, acq),
        }
    }

    /// The memo's key, if it is for `acq` on a stack of key `prev`.
    #[inline(always)]
    fn memoized(&self, prev: u64, acq: u64) -> Option<u64> {
        (self.memo_prev.get() == prev && self.memo_acq.get() == acq).then(|| self.memo_key.get())
    }

    /// [`next_key`](ThreadState::next_key) when the memo does not have it.
    #[inline(always)]
    fn next_key_unmemoized(&self, prev: u64, acq: u64) -> u64 {
        let key = chain_key::extend(prev, acq);
        self.memo_prev.set(prev);
        self.memo_acq.set(acq);
        self.memo_key.set(key);
        key
    }

    /// [`next_key`](ThreadState::next_key) where the memo is expected to have it (the push
    /// after validation): the miss is out of line.
    #[inline(always)]
    fn next_key_expected(&self, class: ClassId, read: Access) -> u64 {
        let prev = self.top_key();
        let acq = chain_key::acquisition(class, read);
        match self.memoized(prev, acq) {
            Some(key) => key,
            None => self.next_key_cold(prev, acq),
        }
    }

    #[cold]
    #[inline(never)]
    fn next_key_cold(&self, prev: u64, acq: u64) -> u64 {
        self.next_key_unmemoized(prev, acq)
    }

    /// Pushes an entry (its chain key computed here); false when the stack is full.
    #[inline]
    pub(crate) fn push(&self, mut held: HeldLock) -> bool {
        let d = self.depth.get();
        if d >= MAX_LOCK_DEPTH {
            return false;
        }
        held.chain_key = self.next_key_expected(held.class, held.read);
        self.stack[d + 1].set(held);
        self.depth.set(d + 1);
        true
    }

    /// Removes the topmost entry for `instance`, if any (the top one first: releases are
    /// mostly in order).
    #[inline]
    pub(crate) fn release(&self, instance: usize) {
        let d = self.depth.get();
        if d == 0 {
            return;
        }
        if self.stack[d].get().instance == instance {
            self.depth.set(d - 1);
        } else {
            self.release_below_top(instance);
        }
    }

    /// An out-of-order release (normal Rust, but rarer): out of line.
    #[cold]
    #[inline(never)]
    fn release_below_top(&self, instance: usize) {
        if let Some(i) = self.find(instance) {
            self.remove(i);
        }
    }

    /// Index of the topmost entry for `instance`.
    #[inline]
    pub(crate) fn find(&self, instance: usize) -> Option<usize> {
        (0..self.depth.get())
            .rev()
            .find(|&i| self.stack[i + 1].get().instance == instance)
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
        let removed = self.stack[idx + 1].get().class;
        self.depth.set(idx);
        for i in idx + 1..d {
            let mut held = self.stack[i + 1].get();
            // An entry of the same class above the removed one was a recursive acquisition,
            // which recorded no dependency: marked like a try-lock, so that later validations
            // do not stop at it once the lower entry, which told them so, is gone.
            if held.class == removed {
                held.trylock = true;
            }
            self.push(held);
        }
    }

    /// Sets the `count` of entry `idx`.
    pub(crate) fn set_count(&self, idx: usize, count: u16) {
        let mut held = self.stack[idx + 1].get();
        held.count = count;
        self.stack[idx + 1].set(held);
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
