//! The per-thread held-lock stack (the kernel's `current->held_locks[]`).
//!
//! It lives in a `const`-initialised thread-local without a destructor, so it is reachable at
//! any point of a thread's life, including thread start-up, TLS teardown and from inside the
//! global allocator, and access compiles to a plain TLS offset.

use std::cell::Cell;
use std::panic::Location;

use super::chain_key;
use super::inbox::Inbox;
use super::notify_path::NotifyPath;
use super::types::{Access, ClassId, Instance};

/// The kernel's `MAX_LOCK_DEPTH` (48 there): real Rust programs hold every shard of a sharded
/// map at once (salsa makes 4 × cores shards and locks them all), so 512. The stack is a
/// thread-local array of 32-byte entries: 16 KiB per thread.
pub(crate) const MAX_LOCK_DEPTH: usize = 512;
/// Entries of the thread-local cache of validated chain keys (direct-mapped).
const CHAIN_CACHE_SIZE: usize = 256;

/// One held lock, pool element or `ALLOC` hold.
#[derive(Clone, Copy)]
pub(crate) struct HeldLock {
    pub(crate) class: ClassId,
    pub(crate) access: Access,
    /// Its acquisition recorded a dependency from every entry below it, so those reach later
    /// acquisitions through it (the kernel's `!hlock->trylock` in `check_prevs_add`). False
    /// for a try-lock, and for a recursive acquisition once the same-class entry below it,
    /// which made it record nothing, is released.
    pub(crate) linked_below: bool,
    /// Number of elements of one pool held (pool entries collapse into one).
    pub(crate) count: u16,
    pub(crate) instance: Instance,
    /// Where it was acquired: `None` only in an empty slot (so that the whole thread state is
    /// zeros at thread start: see [`ThreadState`]).
    pub(crate) site: Option<&'static Location<'static>>,
    /// Chain key of the stack up to and including this entry.
    pub(crate) chain_key: u64,
}

impl HeldLock {
    /// Where it was acquired.
    #[inline]
    pub(crate) fn site(&self) -> &'static Location<'static> {
        // Every pushed entry has its site; an empty slot is never read as an entry.
        self.site.unwrap_or(Location::caller())
    }
}

/// An empty slot: all zeros.
const EMPTY: HeldLock = HeldLock {
    class: 0,
    access: Access::Write,
    linked_below: false,
    count: 0,
    instance: Instance::NONE,
    site: None,
    chain_key: 0,
};

/// All per-thread state of the checker.
///
/// Its initial value is all zeros, so that the thread-local lands in `.tbss`: a new thread
/// then maps its 22 KiB lazily instead of copying an initialization image (a test suite may
/// start threads by the hundred thousand).
pub(crate) struct ThreadState {
    depth: Cell<usize>,
    /// Entry `i` of the stack is in slot `i + 1`; slot 0 is a sentinel whose chain key is the
    /// empty stack's (0), so that the top's key is read without a branch.
    stack: [Cell<HeldLock>; MAX_LOCK_DEPTH + 1],
    chain_cache: [Cell<u64>; CHAIN_CACHE_SIZE],
    /// Set while the checker itself runs on this thread: its own allocations and locks are not
    /// checked (re-entry through `TrackingAllocator`).
    pub(crate) reentry: Cell<bool>,
    /// Depth of `noreclaim_scope`s.
    pub(crate) noreclaim: Cell<u32>,
    /// Number of entries on the stack made through a `Hold` (pool units, lockdep-map holds),
    /// which another thread may end: only then are remote releases looked for.
    pub(crate) hold_entries: Cell<u32>,
    /// This thread's inbox for elements dropped on other threads.
    pub(crate) inbox: Cell<Option<&'static Inbox>>,
    /// The generation of `inbox` this thread owns.
    pub(crate) inbox_generation: Cell<u64>,
    /// The checking epoch this stack belongs to (see `mode::epoch`).
    epoch: Cell<u32>,
    /// Whether the thread-exit hook is registered.
    pub(crate) exit_hook: Cell<bool>,
    /// The last chain key computed by [`next_key`](ThreadState::next_key): the stack's key,
    /// the acquisition (class and read state) and the key with it on top. Validation computes
    /// the key before blocking and the push after finds it here instead of hashing again.
    memo_prev: Cell<u64>,
    memo_acq: Cell<u64>,
    memo_key: Cell<u64>,
    /// What this thread acquired since it last waited for an event: the way to its next
    /// notify.
    pub(crate) notify_path: NotifyPath,
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
            hold_entries: Cell::new(0),
            inbox: Cell::new(None),
            inbox_generation: Cell::new(0),
            epoch: Cell::new(0),
            exit_hook: Cell::new(false),
            memo_prev: Cell::new(0),
            // 0 is no acquisition's word (class 0 is no class): the memo is empty.
            memo_acq: Cell::new(0),
            memo_key: Cell::new(0),
            notify_path: NotifyPath::new(),
        }
    }

    /// Forgets the stack if checking was turned off and on again since it was built: while
    /// off, releases were not seen, so its entries may be locks released long ago.
    #[inline(always)]
    pub(crate) fn sync_epoch(&self) {
        let epoch = crate::mode::epoch();
        if self.epoch.get() != epoch {
            self.forget_stale(epoch);
        }
    }

    #[cold]
    fn forget_stale(&self, epoch: u32) {
        self.epoch.set(epoch);
        self.depth.set(0);
        self.hold_entries.set(0);
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

    /// The chain key of the stack with `class` acquired as `access` on top, memoized for the
    /// push that follows validation.
    #[inline(always)]
    pub(crate) fn next_key(&self, class: ClassId, access: Access) -> u64 {
        let prev = self.top_key();
        let acq = chain_key::acquisition(class, access);
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
    fn next_key_expected(&self, class: ClassId, access: Access) -> u64 {
        let prev = self.top_key();
        let acq = chain_key::acquisition(class, access);
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
        held.chain_key = self.next_key_expected(held.class, held.access);
        self.stack[d + 1].set(held);
        self.depth.set(d + 1);
        true
    }

    /// Removes the topmost entry for `instance`, if any (the top one first: releases are
    /// mostly in order).
    #[inline]
    pub(crate) fn release(&self, instance: Instance) {
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
    fn release_below_top(&self, instance: Instance) {
        if let Some(i) = self.find(instance) {
            self.remove(i);
        }
    }

    /// Index of the topmost entry for `instance`.
    #[inline]
    pub(crate) fn find(&self, instance: Instance) -> Option<usize> {
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
            // which recorded no dependency: later validations must not stop at it once the
            // lower entry, which told them so, is gone.
            if held.class == removed {
                held.linked_below = false;
            }
            self.push(held);
        }
    }

    /// Changes how entry `idx` is held (a downgrade, or an upgrade once validated); the
    /// chain keys from it up are recomputed (the kernel's `lock_set_class` re-keying).
    pub(crate) fn set_access(&self, idx: usize, access: Access) {
        let d = self.depth.get();
        debug_assert!(idx < d);
        // In place: entry `i` is read before the push of that same entry overwrites its slot.
        self.depth.set(idx);
        for i in idx..d {
            let mut held = self.get(i);
            if i == idx {
                held.access = access;
            }
            self.push(held);
        }
    }

    /// Takes one more unit of the counted class `class` (the units one thread holds collapse
    /// into one entry with a count); false when `class` has no entry yet.
    pub(crate) fn add_pool_hold(&self, class: ClassId) -> bool {
        let Some(i) = self.find(Instance::class(class)) else {
            return false;
        };
        let mut held = self.stack[i + 1].get();
        held.count = held.count.saturating_add(1);
        self.stack[i + 1].set(held);
        true
    }

    /// Ends one hold of `instance` made through a `Hold`: a unit of a counted class (the entry
    /// goes when its count does) or a lock's own entry.
    pub(crate) fn release_hold(&self, instance: Instance) {
        let Some(i) = self.find(instance) else {
            return;
        };
        let mut held = self.stack[i + 1].get();
        if held.count > 1 {
            held.count -= 1;
            self.stack[i + 1].set(held);
        } else {
            self.remove(i);
            self.hold_entries
                .set(self.hold_entries.get().saturating_sub(1));
        }
    }

    /// Empties the stack (thread exit).
    pub(crate) fn clear(&self) {
        self.depth.set(0);
        self.hold_entries.set(0);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(class: ClassId, access: Access) -> HeldLock {
        HeldLock {
            class,
            access,
            linked_below: true,
            instance: Instance::lock(class as usize * 64),
            site: Some(Location::caller()),
            ..EMPTY
        }
    }

    /// The chain keys of a stack built by pushing `entries` on an empty one.
    fn fresh_keys(entries: &[HeldLock]) -> Vec<u64> {
        let t = ThreadState::new();
        for e in entries {
            assert!(t.push(*e));
        }
        t.snapshot().iter().map(|h| h.chain_key).collect()
    }

    fn keys(t: &ThreadState) -> Vec<u64> {
        t.snapshot().iter().map(|h| h.chain_key).collect()
    }

    #[test]
    fn an_out_of_order_release_rekeys_the_entries_above() {
        let (a, b, c) = (
            entry(1, Access::Write),
            entry(2, Access::Read),
            entry(3, Access::Write),
        );
        let t = ThreadState::new();
        for e in [a, b, c] {
            assert!(t.push(e));
        }
        t.release(b.instance);
        assert_eq!(t.depth(), 2);
        assert_eq!(keys(&t), fresh_keys(&[a, c]));
        assert_eq!(t.top_key(), fresh_keys(&[a, c])[1]);
    }

    #[test]
    fn release_takes_the_topmost_entry_of_an_instance() {
        let a = entry(1, Access::RecursiveRead);
        let b = entry(2, Access::Write);
        let t = ThreadState::new();
        for e in [a, b, a] {
            assert!(t.push(e));
        }
        t.release(a.instance);
        assert_eq!(keys(&t), fresh_keys(&[a, b]));
        t.release(Instance::lock(12345)); // not held: nothing happens
        assert_eq!(t.depth(), 2);
    }

    #[test]
    fn a_recursive_entry_is_unlinked_when_the_entry_below_goes() {
        let a = entry(1, Access::RecursiveRead);
        let mut a2 = entry(1, Access::RecursiveRead);
        a2.instance = Instance::lock(4096);
        let t = ThreadState::new();
        for e in [a, entry(2, Access::Write), a2] {
            assert!(t.push(e));
        }
        assert!(t.get(2).linked_below);
        t.release(a.instance);
        assert!(
            !t.get(1).linked_below,
            "its own acquisition recorded no dependency"
        );
        assert!(t.get(0).linked_below, "another class stays linked");
    }

    #[test]
    fn changing_access_rekeys_from_that_entry_up() {
        let (a, b, c) = (
            entry(1, Access::Write),
            entry(2, Access::Write),
            entry(3, Access::Write),
        );
        let t = ThreadState::new();
        for e in [a, b, c] {
            assert!(t.push(e));
        }
        let before = keys(&t);
        t.set_access(1, Access::Read);
        let b_read = HeldLock {
            access: Access::Read,
            ..b
        };
        assert_eq!(keys(&t), fresh_keys(&[a, b_read, c]));
        assert_eq!(keys(&t)[0], before[0]);
        assert_ne!(keys(&t)[1], before[1]);
        t.set_access(1, Access::Write);
        assert_eq!(keys(&t), before);
    }

    #[test]
    fn the_stack_refuses_entries_past_its_depth() {
        let t = ThreadState::new();
        for class in 1..=MAX_LOCK_DEPTH as ClassId {
            assert!(t.push(entry(class, Access::Write)));
        }
        assert!(!t.push(entry(999, Access::Write)));
        assert_eq!(t.depth(), MAX_LOCK_DEPTH);
        t.clear();
        assert_eq!((t.depth(), t.top_key()), (0, 0));
    }

    #[test]
    fn the_memo_gives_the_key_that_hashing_gives() {
        let t = ThreadState::new();
        let key = t.next_key(5, Access::Read);
        assert_eq!(
            key,
            chain_key::extend(0, chain_key::acquisition(5, Access::Read))
        );
        assert!(t.push(entry(5, Access::Read)));
        assert_eq!(t.top_key(), key);
    }
}
