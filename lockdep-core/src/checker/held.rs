//! The held-lock stack of a thread or a task (the kernel's `current->held_locks[]`), with what
//! goes with it: a [`Context`].
//!
//! A thread's context lives in a `const`-initialised thread-local without a destructor, so it
//! is reachable at any point of a thread's life, including thread start-up, TLS teardown and
//! from inside the global allocator, and access compiles to a plain TLS offset. With the
//! `tokio` feature, code running in a tokio task uses that task's context instead (see
//! `checker::tasks`): [`with_context`] picks it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::panic::Location;

use super::chain_key;
use super::inbox::Inbox;
use super::notify_path::NotifyPath;
use super::types::{Access, ClassId, Instance};
use crate::thin::{get, set};

/// The kernel's `MAX_LOCK_DEPTH` (48 there): real Rust programs hold every shard of a sharded
/// map at once (salsa makes 4 × cores shards and locks them all), so 512.
pub(crate) const MAX_LOCK_DEPTH: usize = 512;
/// Entries kept in the thread-local itself (the kernel's whole depth); the deeper ones are in
/// a block allocated the first time the thread holds more. The C library sets up a new
/// thread's thread-locals in pages of its stack mapping that are often fresh: a 16 KiB held
/// stack there cost a suite that starts 200,000 threads 460,000 more page faults (measured).
const INLINE_DEPTH: usize = 48;
/// Slots in the block of a thread that goes deeper than [`INLINE_DEPTH`].
const DEEP_SLOTS: usize = MAX_LOCK_DEPTH - INLINE_DEPTH;
/// Entries of the thread-local cache of validated chain keys (direct-mapped).
const CHAIN_CACHE_SIZE: usize = 256;

/// What a context's chain cache knows of a chain.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Cached {
    /// Not validated here.
    No,
    /// Validated.
    Yes,
    /// Validated between classes; its acquisition, a lock nested in another of its class, is
    /// still to be checked against the order among the locks of the class.
    ByInstance,
}

/// [`Context::chain_cache_word`] of a chain validated here ([`Cached::Yes`]).
pub(crate) const CACHED_YES: u64 = 0;
/// [`Context::chain_cache_word`] of a chain validated here whose acquisition is still to be
/// checked against the order among the locks of its class ([`Cached::ByInstance`]).
pub(crate) const CACHED_BY_INSTANCE: u64 = 1;

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
    /// zeros at thread start: see [`Context`]).
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

/// A slot of the held stack: an entry's fields in cells of their own, read and written one
/// by one, the small ones packed in one word. A `Cell<HeldLock>` is copied whole, and a
/// whole-entry load right after the narrow stores that wrote it waits for them to reach the
/// cache (a store-forwarding stall: 4 to 10 ns on a pool element's path, measured); most
/// operations need one field anyway. Four words written by a push, not seven narrow fields:
/// in an unoptimised build each is a call.
struct HeldSlot {
    /// `class | access << 30 | linked_below << 40 | count << 48`: see [`head`].
    head: Cell<u64>,
    instance: Cell<Instance>,
    site: Cell<Option<&'static Location<'static>>>,
    chain_key: Cell<u64>,
}

/// The packed small fields of an entry: its acquisition word (`chain_key::acquisition`),
/// the flag and the count above it.
#[inline(always)]
fn head(class: ClassId, access: Access, linked_below: bool, count: u16) -> u64 {
    chain_key::acquisition(class, access) | head_flags(linked_below, count)
}

/// The bits of a [`head`] above its acquisition word: the flag and the count.
#[inline(always)]
const fn head_flags(linked_below: bool, count: u16) -> u64 {
    (linked_below as u64) << 40 | (count as u64) << COUNT_SHIFT
}

/// The bit of a [`head`] that holds `linked_below`, and the shift of its count.
const LINKED_BELOW: u64 = 1 << 40;
const COUNT_SHIFT: u32 = 48;

/// The class that a [`head`] packed.
#[inline(always)]
fn head_class(head: u64) -> ClassId {
    chain_key::class_of(head)
}

/// The access that a [`head`] packed.
#[inline(always)]
fn head_access(head: u64) -> Access {
    chain_key::access_of(head)
}

impl HeldSlot {
    /// An empty slot, all zeros: see [`Context`].
    const fn empty() -> HeldSlot {
        HeldSlot {
            head: Cell::new(0),
            instance: Cell::new(EMPTY.instance),
            site: Cell::new(EMPTY.site),
            chain_key: Cell::new(EMPTY.chain_key),
        }
    }

    #[inline(always)]
    fn class(&self) -> ClassId {
        head_class(self.head.get())
    }

    #[inline(always)]
    fn access(&self) -> Access {
        head_access(self.head.get())
    }

    #[inline(always)]
    fn count(&self) -> u16 {
        (self.head.get() >> COUNT_SHIFT) as u16
    }

    #[inline(always)]
    fn set_count(&self, count: u16) {
        let head = self.head.get() & !(u64::from(u16::MAX) << COUNT_SHIFT);
        self.head.set(head | u64::from(count) << COUNT_SHIFT);
    }

    #[inline(always)]
    fn get(&self) -> HeldLock {
        let head = self.head.get();
        HeldLock {
            class: head_class(head),
            access: head_access(head),
            linked_below: head & LINKED_BELOW != 0,
            count: (head >> COUNT_SHIFT) as u16,
            instance: self.instance.get(),
            site: self.site.get(),
            chain_key: self.chain_key.get(),
        }
    }

    #[inline(always)]
    fn set(&self, held: HeldLock) {
        self.head
            .set(head(held.class, held.access, held.linked_below, held.count));
        self.instance.set(held.instance);
        self.site.set(held.site);
        self.chain_key.set(held.chain_key);
    }
}

/// Whether a lock of `class` held as `access` is of the class `acq_class` of an acquisition
/// as `acq_access`, and that acquisition may wait for it: any hold, but a shared one when it
/// is a recursive read.
#[inline(always)]
pub(crate) fn waits_for_own_class(
    class: ClassId,
    access: Access,
    acq_class: ClassId,
    acq_access: Access,
) -> bool {
    waits_for_own_class_word(
        chain_key::acquisition(class, access),
        chain_key::acquisition(acq_class, acq_access),
    )
}

/// [`waits_for_own_class`] of the held lock's and the acquisition's
/// [`chain_key::acquisition`] words (or words that carry one in their low 32 bits, as a
/// [`head`] does), compared as they are: the quiet path has them so, and splitting one is a
/// `match` in an unoptimised build.
#[inline(always)]
pub(crate) fn waits_for_own_class_word(held: u64, acq: u64) -> bool {
    use chain_key::{access_bits, ACCESS_MASK};
    chain_key::same_class(held, acq)
        && (acq & ACCESS_MASK != const { access_bits(Access::RecursiveRead) }
            || held & ACCESS_MASK == const { access_bits(Access::Write) })
}

/// The checker's state of one thread, or of one tokio task: its held stack and what goes with
/// it.
///
/// Its initial value is all zeros, so that the thread-local lands in `.tbss` (no
/// initialization image to copy), and it is kept to about 4 KiB: a test suite may start
/// threads by the hundred thousand.
pub(crate) struct Context {
    depth: Cell<usize>,
    /// Entry `i` of the stack is in slot `i + 1`; slot 0 is a sentinel whose chain key is the
    /// empty stack's (0), so that the top's key is read without a branch. Slots past
    /// `INLINE_DEPTH` are in `deep`.
    stack: [HeldSlot; INLINE_DEPTH + 1],
    /// Slots `INLINE_DEPTH + 1 ..= MAX_LOCK_DEPTH`, from the system allocator (this state is
    /// used inside the global allocator), or null until the thread first holds more than
    /// `INLINE_DEPTH` entries. Freed by [`clear`](Context::clear) at thread exit: the
    /// thread-local has no destructor.
    deep: Cell<*mut HeldSlot>,
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
    /// The last chain key computed by [`next_key`](Context::next_key): the stack's key,
    /// the acquisition (class and read state) and the key with it on top. Validation computes
    /// the key before blocking and the push after finds it here instead of hashing again.
    memo_prev: Cell<u64>,
    memo_acq: Cell<u64>,
    memo_key: Cell<u64>,
    /// `epoch + 1` while this context is quiet in checking epoch `epoch`, else 0: it is a
    /// thread's own context, that thread runs its own code (no task, no task switch under
    /// way), the checker is not running on it, it has no entries made through a `Hold`
    /// (which another thread may end), and its thread's exit hook is registered. Whatever
    /// ends one of these sets it to 0 (see [`unquiet`](Context::unquiet)); a push on the full
    /// path sets it again ([`note_quiet`](Context::note_quiet)). A quiet context takes a lock
    /// on a known chain, and releases its top entry, with one check for all of these.
    quiet: Cell<u32>,
    /// What this thread acquired since it last waited for an event: the way to its next
    /// notify.
    pub(crate) notify_path: NotifyPath,
    /// The declared order keys of the keyed locks held (see `OrderMemo`), by instance: null
    /// until the context first holds one; freed at thread exit.
    keys: Cell<*mut Vec<(Instance, u64)>>,
    /// The bookkeeping of tokio tasks: as a task's context, whose it is; as a thread's, which
    /// task's context the thread used last.
    pub(crate) task: super::task_state::TaskState,
}

thread_local! {
    static THREAD: Context = const { Context::new() };
}

/// Runs `f` with this thread's own context.
#[inline(always)]
pub(crate) fn with_thread<R>(f: impl FnOnce(&Context) -> R) -> R {
    f(this_thread())
}

/// This thread's own context.
///
/// `LocalKey::try_with` is given only a closure that takes the address, so that it inlines
/// to a TLS offset; given more it is instantiated out of line, reaching the variable through
/// `LocalKey`'s accessor by an indirect call on every lock operation.
#[inline(always)]
pub(crate) fn this_thread() -> &'static Context {
    // `try_with`, not `with` (one call less in a test build): a `const`-initialised
    // thread-local without destructor is never inaccessible. The closure always inlined: in
    // an unoptimised build `try_with` calls it through `FnOnce::call_once`, which then calls
    // its body as one more function.
    match THREAD.try_with(
        #[inline(always)]
        |t| {
            // SAFETY: the variable is `const`-initialised and has no destructor, so its storage
            // is valid for the whole life of this thread (thread-local destructors included); a
            // `Context` is not `Sync`, so the reference cannot reach another thread. A
            // reference's lifetime changed, not a raw pointer dereferenced: a debug build checks
            // the alignment of every raw pointer it goes through.
            unsafe { std::mem::transmute::<&Context, &'static Context>(t) }
        },
    ) {
        Ok(t) => t,
        Err(_) => unreachable!("a thread-local without destructor is always accessible"),
    }
}

/// Marks the checker as running on this thread until dropped (also on unwind).
pub(crate) struct Reentry<'a>(&'a Context);

impl Drop for Reentry<'_> {
    fn drop(&mut self) {
        self.0.reentry.set(false);
    }
}

impl Context {
    const fn new() -> Self {
        Context {
            depth: Cell::new(0),
            stack: [const { HeldSlot::empty() }; INLINE_DEPTH + 1],
            deep: Cell::new(std::ptr::null_mut()),
            chain_cache: [const { Cell::new(0) }; CHAIN_CACHE_SIZE],
            reentry: Cell::new(false),
            noreclaim: Cell::new(0),
            hold_entries: Cell::new(0),
            inbox: Cell::new(None),
            inbox_generation: Cell::new(0),
            epoch: Cell::new(0),
            exit_hook: Cell::new(false),
            quiet: Cell::new(0),
            memo_prev: Cell::new(0),
            // 0 is no acquisition's word (class 0 is no class): the memo is empty.
            memo_acq: Cell::new(0),
            memo_key: Cell::new(0),
            notify_path: NotifyPath::new(),
            keys: Cell::new(std::ptr::null_mut()),
            task: super::task_state::TaskState::new(),
        }
    }

    /// Forgets the stack if checking was turned off and on again since it was built: while
    /// off, releases were not seen, so its entries may be locks released long ago.
    #[inline(always)]
    pub(crate) fn sync_epoch(&self) {
        self.sync_epoch_to(crate::mode::epoch());
    }

    /// [`sync_epoch`](Context::sync_epoch) with the current epoch, `epoch`, known.
    #[inline(always)]
    pub(crate) fn sync_epoch_to(&self, epoch: u32) {
        if !self.in_epoch(epoch) {
            self.forget_stale(epoch);
        }
    }

    /// Whether the stack belongs to checking epoch `epoch` (syncing to it does nothing).
    #[inline(always)]
    pub(crate) fn in_epoch(&self, epoch: u32) -> bool {
        get(&self.epoch) == epoch
    }

    #[cold]
    fn forget_stale(&self, epoch: u32) {
        self.unquiet();
        self.epoch.set(epoch);
        self.depth.set(0);
        self.hold_entries.set(0);
        self.task.forget();
    }

    /// Whether this context is quiet (see `quiet`) in checking epoch `epoch`.
    #[inline(always)]
    pub(crate) fn quiet_in(&self, epoch: u32) -> bool {
        get(&self.quiet) == epoch.wrapping_add(1)
    }

    /// Whether this context is quiet in some checking epoch (a release does not look at the
    /// epoch: a stale stack is forgotten by the next acquisition).
    #[inline(always)]
    pub(crate) fn is_quiet(&self) -> bool {
        get(&self.quiet) != 0
    }

    /// This context may no longer be quiet (see `quiet`).
    #[inline(always)]
    pub(crate) fn unquiet(&self) {
        self.quiet.set(0);
    }

    /// After a push on the full path: this context is quiet again if it is (see `quiet`),
    /// in the epoch its stack belongs to.
    #[inline]
    pub(crate) fn note_quiet(&self) {
        let task = &self.task;
        if !self.reentry.get()
            && self.hold_entries.get() == 0
            && self.exit_hook.get()
            && !task.of_task.get()
            && !task.busy.get()
            && task.scoped.get() == 0
            && task.last_task.get() == 0
        {
            self.quiet.set(self.epoch.get().wrapping_add(1));
        }
    }

    /// Enters the checker; `None` if it is already running on this thread. The context is no
    /// longer quiet.
    #[inline]
    pub(crate) fn enter(&self) -> Option<Reentry<'_>> {
        self.unquiet();
        if self.reentry.replace(true) {
            None
        } else {
            Some(Reentry(self))
        }
    }

    #[inline(always)]
    pub(crate) fn depth(&self) -> usize {
        get(&self.depth)
    }

    /// Slot `s` (entry `s - 1`, or the sentinel), which must be at most the depth.
    #[inline(always)]
    fn slot(&self, s: usize) -> &HeldSlot {
        if s <= INLINE_DEPTH {
            &self.stack[s]
        } else {
            self.deep_slot(s)
        }
    }

    /// Slot `s` past `INLINE_DEPTH`, which a push has made.
    #[cold]
    #[inline(never)]
    fn deep_slot(&self, s: usize) -> &HeldSlot {
        let block = self.deep.get();
        assert!(
            !block.is_null() && (INLINE_DEPTH + 1..=MAX_LOCK_DEPTH).contains(&s),
            "held-lock slot {s} read beyond the stack"
        );
        // SAFETY: `block` holds `DEEP_SLOTS` initialised slots (allocated zeroed: empty
        // entries), and `s - INLINE_DEPTH - 1 < DEEP_SLOTS` by the assertion.
        unsafe { &*block.add(s - INLINE_DEPTH - 1) }
    }

    fn deep_layout() -> Layout {
        Layout::new::<[HeldSlot; DEEP_SLOTS]>()
    }

    /// Chain key of the whole stack.
    #[inline(always)]
    pub(crate) fn top_key(&self) -> u64 {
        get(&self.slot(get(&self.depth)).chain_key)
    }

    #[inline(always)]
    pub(crate) fn get(&self, idx: usize) -> HeldLock {
        self.slot(idx + 1).get()
    }

    /// A copy of the stack, bottom first.
    pub(crate) fn snapshot(&self) -> Vec<HeldLock> {
        (1..=self.depth.get()).map(|s| self.slot(s).get()).collect()
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
        // Not `bool::then`: a closure is a call of its own in an unoptimised build.
        if self.memo_prev.get() == prev && self.memo_acq.get() == acq {
            Some(self.memo_key.get())
        } else {
            None
        }
    }

    /// [`next_key`](Context::next_key) when the memo does not have it.
    #[inline(always)]
    fn next_key_unmemoized(&self, prev: u64, acq: u64) -> u64 {
        let key = chain_key::extend(prev, acq);
        self.memo_prev.set(prev);
        self.memo_acq.set(acq);
        self.memo_key.set(key);
        key
    }

    /// [`next_key`](Context::next_key) where the memo is expected to have it (the push
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
    pub(crate) fn push(&self, held: HeldLock) -> bool {
        self.push_inline(held) || self.push_deep(held)
    }

    /// [`push`](Context::push) while the stack is within `INLINE_DEPTH`; false (and
    /// nothing done) past it. The fast path: it gives nothing in memory to a call.
    #[inline(always)]
    pub(crate) fn push_inline(&self, held: HeldLock) -> bool {
        let d = self.depth.get();
        if !Self::inline_room(d) {
            return false;
        }
        self.put_on_top(&self.stack[d + 1], d, held);
        true
    }

    /// [`push_inline`](Context::push_inline) of a lock's blocking acquisition (one unit,
    /// linked below) given field by field, whose chain key (of the stack with it on top) is
    /// `key`: no entry built and copied, which an unoptimised build does in memory.
    #[inline(always)]
    pub(crate) fn push_lock(
        &self,
        class: ClassId,
        access: Access,
        instance: Instance,
        site: &'static Location<'static>,
        key: u64,
    ) -> bool {
        let d = get(&self.depth);
        if !Self::inline_room(d) {
            return false;
        }
        self.push_lock_word(
            d,
            chain_key::acquisition(class, access),
            instance,
            site,
            key,
        );
        true
    }

    /// Whether a stack `d` deep (its [`depth`](Context::depth)) has room for one more entry
    /// in its inline slots.
    #[inline(always)]
    pub(crate) fn inline_room(d: usize) -> bool {
        d < INLINE_DEPTH
    }

    /// The chain key with the acquisition `acq` (a [`chain_key::acquisition`] word) on top of
    /// the stack, `d` deep, which has [`inline_room`](Context::inline_room). The depth and the
    /// key are not returned together: an `Option` of the pair goes through memory in an
    /// unoptimised build.
    #[inline(always)]
    pub(crate) fn inline_next_key(&self, d: usize, acq: u64) -> u64 {
        chain_key::extend(get(&self.stack[d].chain_key), acq)
    }

    /// [`push_lock`](Context::push_lock) of the acquisition `acq` (a
    /// [`chain_key::acquisition`] word) on a stack `d` deep, which has
    /// [`inline_room`](Context::inline_room).
    #[inline(always)]
    pub(crate) fn push_lock_word(
        &self,
        d: usize,
        acq: u64,
        instance: Instance,
        site: &'static Location<'static>,
        key: u64,
    ) {
        // The new depth computed once: each `+` is an overflow check in an unoptimised build.
        let top = d + 1;
        let slot = &self.stack[top];
        // The flags as a constant: computed at run time in an unoptimised build otherwise.
        set(&slot.head, acq | const { head_flags(true, 1) });
        set(&slot.instance, instance);
        set(&slot.site, Some(site));
        set(&slot.chain_key, key);
        set(&self.depth, top);
    }

    /// Fills `slot`, the one above a stack `d` deep, with `held` and its chain key, and makes
    /// it the top.
    #[inline(always)]
    fn put_on_top(&self, slot: &HeldSlot, d: usize, mut held: HeldLock) {
        held.chain_key = self.next_key_expected(held.class, held.access);
        slot.set(held);
        self.depth.set(d + 1);
    }

    /// [`push`](Context::push) past `INLINE_DEPTH`, allocating the deep block on the
    /// first such push; false past `MAX_LOCK_DEPTH`, or when the block cannot be allocated
    /// (as full: the overflow is reported).
    #[cold]
    #[inline(never)]
    pub(crate) fn push_deep(&self, held: HeldLock) -> bool {
        let d = self.depth.get();
        if d >= MAX_LOCK_DEPTH {
            return false;
        }
        if self.deep.get().is_null() {
            // SAFETY: the layout's size is not zero. The system allocator does not call back
            // into the checker.
            let block = unsafe { System.alloc_zeroed(Self::deep_layout()) };
            if block.is_null() {
                return false;
            }
            self.deep.set(block.cast());
        }
        self.put_on_top(self.deep_slot(d + 1), d, held);
        true
    }

    /// Removes the topmost entry for `instance`, if any (the top one first: releases are
    /// mostly in order); whether there was one.
    #[inline(always)]
    pub(crate) fn release(&self, instance: Instance) -> bool {
        let d = get(&self.depth);
        if d == 0 {
            return false;
        }
        if get(&self.slot(d).instance) == instance {
            set(&self.depth, d - 1);
            true
        } else if d >= 2 && get(&self.slot(d - 1).instance) == instance {
            // A hand-over-hand walk releases the entry below the top at each step.
            self.remove_below_top();
            true
        } else {
            self.release_deeper(instance)
        }
    }

    /// [`release`](Context::release) of the top entry, in the inline slots; false (and
    /// nothing done) for any other.
    #[inline(always)]
    pub(crate) fn release_top(&self, instance: Instance) -> bool {
        let d = get(&self.depth);
        // The depth after, which is below `INLINE_DEPTH` only when `d` is at least 1 (0 wraps
        // to the largest value): one compare for both bounds, and no second subtraction
        // (with its overflow check in an unoptimised build).
        let below = d.wrapping_sub(1);
        if below < INLINE_DEPTH && get(&self.stack[d].instance) == instance {
            set(&self.depth, below);
            return true;
        }
        false
    }

    /// An out-of-order release deeper than below the top (normal Rust, but rarer): out of
    /// line.
    #[cold]
    #[inline(never)]
    fn release_deeper(&self, instance: Instance) -> bool {
        let Some(i) = self.find(instance) else {
            return false;
        };
        self.remove(i);
        true
    }

    /// Index of the topmost entry for `instance`.
    #[inline]
    pub(crate) fn find(&self, instance: Instance) -> Option<usize> {
        (0..self.depth.get())
            .rev()
            .find(|&i| self.slot(i + 1).instance.get() == instance)
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
        if idx + 2 == d {
            self.remove_below_top();
            return;
        }
        let removed = self.slot(idx + 1).class();
        self.depth.set(idx);
        for i in idx + 1..d {
            let mut held = self.get(i);
            // An entry of the same class above the removed one was a recursive acquisition,
            // which recorded no dependency: later validations must not stop at it once the
            // lower entry, which told them so, is gone.
            if held.class == removed {
                held.linked_below = false;
            }
            self.push(held);
        }
    }

    /// [`remove`](Context::remove) of the entry right below the top (a list walked hand over
    /// hand releases it each step): the top moves down into its slot. Taken the same way as
    /// the removed entry, the top gets the removed entry's chain key (both are the key of
    /// the stack below with that acquisition on it), else its key is computed.
    #[inline]
    fn remove_below_top(&self) {
        let d = self.depth.get();
        let (removed, top) = (self.slot(d - 1), self.slot(d));
        let same_class = top.class() == removed.class();
        if !(same_class && top.access() == removed.access()) {
            let acquisition = chain_key::acquisition(top.class(), top.access());
            removed.chain_key.set(chain_key::extend(
                self.slot(d - 2).chain_key.get(),
                acquisition,
            ));
        }
        // A lock of the removed one's class above it was taken while a lock of its class was
        // held (see `remove`): not linked below.
        let head = top.head.get();
        removed.head.set(if same_class {
            head & !LINKED_BELOW
        } else {
            head
        });
        removed.instance.set(top.instance.get());
        removed.site.set(top.site.get());
        self.depth.set(d - 1);
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
        let slot = self.slot(i + 1);
        slot.set_count(slot.count().saturating_add(1));
        true
    }

    /// Ends one hold of `instance` made through a `Hold`: a unit of a counted class (the entry
    /// goes when its count does) or a lock's own entry. The top entry of one unit, the common
    /// case (holds ended in the reverse order of their acquisitions), is popped here; any other
    /// is found out of line.
    #[inline]
    pub(crate) fn release_hold(&self, instance: Instance) {
        let d = get(&self.depth);
        // As `release_top`: one compare for both bounds of the inline slots.
        if d.wrapping_sub(1) < INLINE_DEPTH {
            let top = &self.stack[d];
            if get(&top.instance) == instance && top.count() == 1 {
                set(&self.depth, d - 1);
                self.hold_entries
                    .set(self.hold_entries.get().saturating_sub(1));
                return;
            }
        }
        self.release_hold_in_full(instance);
    }

    /// [`release_hold`](Context::release_hold) of any entry but a top one of one unit: found
    /// on the stack.
    #[cold]
    #[inline(never)]
    fn release_hold_in_full(&self, instance: Instance) {
        let Some(i) = self.find(instance) else {
            return;
        };
        let slot = self.slot(i + 1);
        if slot.count() > 1 {
            slot.set_count(slot.count() - 1);
        } else {
            self.remove(i);
            self.hold_entries
                .set(self.hold_entries.get().saturating_sub(1));
        }
    }

    /// Applies the releases of this context's holds and locks that other threads posted to its
    /// inbox.
    pub(crate) fn apply_posted(&self) {
        if let Some(inbox) = self.inbox.get() {
            let posted = inbox.take();
            for instance in posted.holds {
                self.release_hold(instance);
            }
            for instance in posted.locks {
                self.release(instance);
            }
        }
    }

    /// Empties the stack and frees its deep block (thread exit). A thread that goes deep
    /// again afterwards (a later thread-local destructor holding that many locks) gets a new
    /// block, which is never freed.
    pub(crate) fn clear(&self) {
        self.depth.set(0);
        self.hold_entries.set(0);
        let keys = self.keys.replace(std::ptr::null_mut());
        if !keys.is_null() {
            // SAFETY: made by `Box::into_raw` in `note_key`, and no longer reachable.
            drop(unsafe { Box::from_raw(keys) });
        }
        let block = self.deep.replace(std::ptr::null_mut());
        if !block.is_null() {
            // SAFETY: `block` came from `System.alloc_zeroed` with this layout, and no slot
            // of it is referenced any more (the depth is 0).
            unsafe { System.dealloc(block.cast(), Self::deep_layout()) };
        }
    }

    /// Notes that this context holds the keyed lock `instance`, of declared order key `key`.
    /// Allocates: the caller has entered the checker.
    pub(crate) fn note_key(&self, instance: Instance, key: u64) {
        let mut keys = self.keys.get();
        if keys.is_null() {
            keys = Box::into_raw(Box::default());
            self.keys.set(keys);
        }
        // SAFETY: `keys` is this context's own list (made above or before), only touched on
        // the thread that uses the context, and no other reference to it is alive.
        unsafe { &mut *keys }.push((instance, key));
    }

    /// This context released the keyed lock `instance`.
    pub(crate) fn forget_key(&self, instance: Instance) {
        // SAFETY: as in `note_key`.
        if let Some(keys) = unsafe { self.keys.get().as_mut() } {
            if let Some(i) = keys.iter().rposition(|(held, _)| *held == instance) {
                keys.swap_remove(i);
            }
        }
    }

    /// The declared order key of the lock `instance` this context holds, if it is keyed.
    pub(crate) fn key_of(&self, instance: Instance) -> Option<u64> {
        // SAFETY: as in `note_key`.
        let keys = unsafe { self.keys.get().as_ref() }?;
        keys.iter()
            .rev()
            .find(|(held, _)| *held == instance)
            .map(|&(_, key)| key)
    }

    #[inline(always)]
    fn cache_slot(&self, key: u64) -> &Cell<u64> {
        &self.chain_cache[(key >> 7) as usize % CHAIN_CACHE_SIZE]
    }

    /// Whether this context already knows the chain `key` to be validated, and whether its
    /// acquisition is still to be checked against the order among the locks of its class.
    #[inline(always)]
    pub(crate) fn chain_cached(&self, key: u64) -> Cached {
        match self.chain_cache_word(key) {
            CACHED_YES => Cached::Yes,
            CACHED_BY_INSTANCE => Cached::ByInstance,
            _ => Cached::No,
        }
    }

    /// [`chain_cached`](Context::chain_cached)'s answer as the word it is made from:
    /// [`CACHED_YES`], [`CACHED_BY_INSTANCE`] or any other value for [`Cached::No`]. For the
    /// quiet path, which matches it at once: a `Cached` made and then matched is a dozen
    /// instructions more in an unoptimised build.
    #[inline(always)]
    pub(crate) fn chain_cache_word(&self, key: u64) -> u64 {
        // A cached key's lowest bit says whether the instance check is due (the chains that
        // differ in that bit alone are taken for one: 1 in 2^63).
        get(self.cache_slot(key)) ^ (key & !1)
    }

    /// Caches the chain `key` as validated (`by_instance`: its acquisition still checked
    /// against the order among the locks of its class each time).
    #[inline]
    pub(crate) fn cache_chain(&self, key: u64, by_instance: bool) {
        self.cache_slot(key)
            .set((key & !1) | u64::from(by_instance));
    }

    /// The topmost entry that the acquisition `acq` (a [`chain_key::acquisition`] word) may
    /// wait for among the locks of its class (see [`waits_for_own_class`]): its instance, or
    /// [`Instance::NONE`].
    /// A plain loop reading each slot's packed word once: a lock nested in another of its
    /// class looks on every acquisition, and an iterator's adapters are calls of their own
    /// in an unoptimised build.
    #[inline(always)]
    pub(crate) fn nearest_of_own_class(&self, acq: u64) -> Instance {
        let mut s = get(&self.depth);
        while s > 0 {
            let slot = self.slot(s);
            if waits_for_own_class_word(get(&slot.head), acq) {
                return get(&slot.instance);
            }
            s -= 1;
        }
        Instance::NONE
    }
}

#[cfg(test)]
mod tests {
    use crate::checker::held::*;

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
        let t = Context::new();
        for e in entries {
            assert!(t.push(*e));
        }
        let keys = keys(&t);
        t.clear();
        keys
    }

    fn keys(t: &Context) -> Vec<u64> {
        t.snapshot().iter().map(|h| h.chain_key).collect()
    }

    #[test]
    fn an_out_of_order_release_rekeys_the_entries_above() {
        let (a, b, c) = (
            entry(1, Access::Write),
            entry(2, Access::Read),
            entry(3, Access::Write),
        );
        let t = Context::new();
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
        let t = Context::new();
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
        let t = Context::new();
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
        let t = Context::new();
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
        let t = Context::new();
        for class in 1..=MAX_LOCK_DEPTH as ClassId {
            assert!(t.push(entry(class, Access::Write)));
        }
        assert!(!t.push(entry(999, Access::Write)));
        assert_eq!(t.depth(), MAX_LOCK_DEPTH);
        t.clear();
        assert_eq!((t.depth(), t.top_key()), (0, 0));
    }

    #[test]
    fn a_thread_state_fits_in_a_few_pages() {
        // Every new thread sets it up: see `INLINE_DEPTH`.
        let size = std::mem::size_of::<Context>();
        assert!(size <= 4608, "{size} bytes");
    }

    #[test]
    fn entries_past_the_inline_depth_behave_as_the_others() {
        let entries: Vec<HeldLock> = (1..=INLINE_DEPTH as ClassId + 3)
            .map(|class| entry(class, Access::Write))
            .collect();
        let t = Context::new();
        for round in 0..2 {
            for e in &entries {
                assert!(t.push(*e));
            }
            assert_eq!(keys(&t), fresh_keys(&entries), "round {round}");
            // An out-of-order release below the boundary moves deep entries down into the
            // inline slots, re-keyed.
            t.release(entries[INLINE_DEPTH - 2].instance);
            let mut rest = entries.clone();
            rest.remove(INLINE_DEPTH - 2);
            assert_eq!(keys(&t), fresh_keys(&rest), "round {round}");
            assert_eq!(t.get(INLINE_DEPTH).class, rest[INLINE_DEPTH].class);
            t.release(rest[INLINE_DEPTH + 1].instance); // the top, in a deep slot
            assert_eq!(t.depth(), INLINE_DEPTH + 1);
            // Freed, and made again by the next round's deep push.
            t.clear();
            assert!(t.deep.get().is_null());
        }
    }

    #[test]
    fn a_context_is_quiet_only_while_the_full_path_has_nothing_to_do() {
        let t = Context::new();
        t.note_quiet();
        assert!(!t.is_quiet(), "no exit hook registered yet");
        t.exit_hook.set(true);
        t.note_quiet();
        assert!(
            t.quiet_in(0) && !t.quiet_in(1),
            "quiet in its stack's epoch only"
        );
        {
            let _in_checker = t.enter();
            assert!(!t.is_quiet(), "the checker runs");
            t.note_quiet();
            assert!(!t.is_quiet());
        }
        t.note_quiet();
        assert!(t.is_quiet());
        t.forget_stale(3);
        assert!(!t.is_quiet(), "a new epoch");
        t.note_quiet();
        assert!(t.quiet_in(3));
        t.hold_entries.set(1);
        t.note_quiet();
        t.unquiet();
        t.note_quiet();
        assert!(!t.is_quiet(), "a hold another thread may end");
        t.hold_entries.set(0);
        t.task.scoped.set(7);
        t.note_quiet();
        assert!(!t.is_quiet(), "a task runs");
        t.task.scoped.set(0);
        t.task.of_task.set(true);
        t.note_quiet();
        assert!(!t.is_quiet(), "a task's context");
    }

    #[test]
    fn a_head_is_the_acquisition_word_with_its_flag_and_count() {
        for access in [Access::Write, Access::Read, Access::RecursiveRead] {
            assert_eq!(
                head(9, access, true, 1),
                chain_key::acquisition(9, access) | LINKED_BELOW | 1 << COUNT_SHIFT
            );
        }
    }

    #[test]
    fn own_class_waits_compare_words_as_the_fields_would() {
        let all = [Access::Write, Access::Read, Access::RecursiveRead];
        for class in [1, 2] {
            for access in all {
                for acq_access in all {
                    // A held entry's head, its flag and count above the acquisition word.
                    let held = head(class, access, true, 3);
                    let acq = chain_key::acquisition(1, acq_access);
                    let waits = class == 1
                        && (acq_access != Access::RecursiveRead || access == Access::Write);
                    assert_eq!(waits_for_own_class_word(held, acq), waits);
                    assert_eq!(waits_for_own_class(class, access, 1, acq_access), waits);
                }
            }
        }
    }

    #[test]
    fn the_memo_gives_the_key_that_hashing_gives() {
        let t = Context::new();
        let key = t.next_key(5, Access::Read);
        assert_eq!(
            key,
            chain_key::extend(0, chain_key::acquisition(5, Access::Read))
        );
        assert!(t.push(entry(5, Access::Read)));
        assert_eq!(t.top_key(), key);
    }
}
