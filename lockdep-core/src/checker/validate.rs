//! Validation of one acquisition against the thread's held locks: the fast path (chain key in
//! the thread-local cache), and the slow path (the kernel's `validate_chain`: `check_deadlock`
//! then `check_prevs_add` under the graph lock).

use std::panic::Location;

use super::chain_key;
use super::chains;
use super::exit;
use super::first_hold::{self, Provisional};
use super::graph::{self, dep, Added, Full};
use super::held::{
    this_thread, waits_for_own_class, Cached, Context, HeldLock, CACHED_BY_INSTANCE, CACHED_YES,
    MAX_LOCK_DEPTH,
};
use super::instance_order::{self, Ordered};
use super::registry;
use super::stack_trace::StackTrace;
use super::store;
use super::tasks;
use super::types::{Access, ClassId, Instance, NodeKind};
use super::violation::{Detail, HeldBack, Link, LockDesc, ViolationData};
use crate::thin::get;
use lockdep_report::ViolationKind;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// One acquisition of a class: a lock, a pool element or `ALLOC`.
#[derive(Clone, Copy)]
pub(crate) struct Acquisition {
    pub(crate) class: ClassId,
    pub(crate) access: Access,
    /// Taken by a try (never blocks): records no dependency of its own.
    pub(crate) trylock: bool,
    pub(crate) site: &'static Location<'static>,
    /// What is taken: the held entry's identity once it is held.
    pub(crate) instance: Instance,
    /// The taken lock's [`OrderMemo`] (its address; 0 for none): a lock nested in another of
    /// its class is validated again only when the one held is not the one the memo names.
    /// An address, so that an acquisition stays `Send`.
    pub(crate) memo: usize,
    /// The declared order key of the nearest held lock of the acquisition's class (see
    /// [`OrderMemo`]), found by the slow path.
    held_key: Option<u64>,
    /// Taken under a nest lock this context holds (the kernel's `mutex_lock_nest_lock`): the
    /// locks of its class taken under that one are serialised by it, so their order among
    /// themselves is not checked.
    serialised: bool,
}

/// What a lock keeps about the order among the locks of its class: the memo of the lock it
/// was last validated nested under (`instance_order::memo_key`, 0 for none), and its declared
/// order key, if it has one. Two keyed locks of one class nest by increasing key: a
/// nesting against it is reported the first time it is seen (the kernel's `lock_set_cmp_fn`).
///
/// Sixteen bytes, so that a lock's hot words and a small value fit one cache line with its
/// raw lock (a contended lock moves one line between CPUs, not two): whether there is a key
/// is the memo word's top bit, which the memo's 63 bits of hash leave free.
#[derive(Debug)]
pub(crate) struct OrderMemo {
    /// [`KEYED`] or not, and the memo key's low 63 bits.
    memo: AtomicU64,
    /// The declared order key, when [`KEYED`] is set.
    key: u64,
}

/// The memo word's bit that says the lock has a declared order key.
const KEYED: u64 = 1 << 63;

impl OrderMemo {
    /// The memo of a lock of declared order key `key`, if any.
    pub(crate) const fn new(key: Option<u64>) -> OrderMemo {
        match key {
            Some(key) => OrderMemo {
                memo: AtomicU64::new(KEYED),
                key,
            },
            None => OrderMemo {
                memo: AtomicU64::new(0),
                key: 0,
            },
        }
    }

    /// The memo at `addr` (an acquisition's `memo`), or none for 0. A call in an unoptimised
    /// build: not `bool::then`, whose closure would be one more.
    ///
    /// # Safety
    ///
    /// `addr` is 0 or the address of an `OrderMemo` that lives as long as `'a` (the lock
    /// being taken, which outlives its acquisition).
    #[inline(always)]
    unsafe fn at<'a>(addr: usize) -> Option<&'a OrderMemo> {
        if addr == 0 {
            None
        } else {
            // SAFETY: the caller's promise.
            Some(unsafe { &*(addr as *const OrderMemo) })
        }
    }

    /// The declared order key, if any. Always inlined: every lock's acquisition and release
    /// asks, and an unoptimised build would make it a call.
    #[inline(always)]
    pub(crate) fn key(&self) -> Option<u64> {
        (self.memo.load(Relaxed) & KEYED != 0).then_some(self.key)
    }

    /// Whether the memo names `memo_key` (an `instance_order::memo_key`).
    #[inline(always)]
    fn names(&self, memo_key: u64) -> bool {
        (crate::thin::load_u64(&self.memo, Relaxed) ^ memo_key) & !KEYED == 0
    }

    /// The memo names `memo_key` from now on (the key bit is kept).
    #[inline]
    fn remember(&self, memo_key: u64) {
        let keyed = self.memo.load(Relaxed) & KEYED;
        self.memo.store(keyed | (memo_key & !KEYED), Relaxed);
    }
}

impl Acquisition {
    /// A blocking acquisition of `instance`, of class `class`, as `access` at `site`.
    #[inline(always)]
    pub(crate) fn blocking(
        class: ClassId,
        access: Access,
        site: &'static Location<'static>,
        instance: Instance,
    ) -> Acquisition {
        Acquisition {
            class,
            access,
            trylock: false,
            site,
            instance,
            memo: 0,
            held_key: None,
            serialised: false,
        }
    }

    /// This acquisition, made by a try (it never blocks).
    #[inline(always)]
    pub(crate) fn by_try(self) -> Acquisition {
        Acquisition {
            trylock: true,
            ..self
        }
    }

    /// [`blocking`](Acquisition::blocking), of a lock whose [`OrderMemo`] is `memo`.
    #[inline(always)]
    pub(crate) fn of_lock(
        class: ClassId,
        access: Access,
        site: &'static Location<'static>,
        instance: Instance,
        memo: &OrderMemo,
    ) -> Acquisition {
        Acquisition {
            memo: memo as *const OrderMemo as usize,
            ..Acquisition::blocking(class, access, site, instance)
        }
    }

    /// The taken lock's [`OrderMemo`], if it has one.
    #[inline(always)]
    fn memo(&self) -> Option<&OrderMemo> {
        // SAFETY: an acquisition's memo is 0 or its lock's, which outlives the acquisition.
        unsafe { OrderMemo::at(self.memo) }
    }
}

/// An acquisition validated (if it blocks) and not yet on the held stack: the real lock is
/// taken between the two steps, so that nothing the real lock does while blocking is
/// attributed to the lock being waited for.
///
/// It carries this thread's state, so that [`commit`](Pending::commit), inlined into the lock
/// call (out of line in a test build, as `LockMap::acquisition` says why), does not look the
/// thread-local up again; the chain key computed while validating is
/// memoized in the thread's state. Not `Send` (a raw pointer to this thread's state), so it is
/// committed on the thread that prepared it.
#[must_use]
pub(crate) struct Pending {
    /// This thread's state; null when there is nothing to track.
    thread: *const Context,
    class: ClassId,
    access: Access,
    trylock: bool,
    site: &'static Location<'static>,
}

impl Pending {
    /// Nothing to track.
    pub(crate) const UNTRACKED: Pending = Pending {
        thread: std::ptr::null(),
        class: 0,
        access: Access::Write,
        trylock: false,
        site: Location::caller(),
    };

    /// Validates the blocking acquisition `acq` now, before blocking, as taken under the nest
    /// lock `outer` (a lock of another class that serialises the nesting of the locks of
    /// `acq`'s class): when this context holds `outer`, the order among those locks is not
    /// checked. Out of line: such acquisitions are the rare ones.
    #[cold]
    #[inline(never)]
    pub(crate) fn validated_under(acq: Acquisition, outer: Instance) -> Pending {
        let thread = with_context(|t| {
            if t.reentry.get() {
                return std::ptr::null();
            }
            t.sync_epoch();
            let acq = Acquisition {
                serialised: t.find(outer).is_some(),
                ..acq
            };
            validate(t, &acq);
            t as *const Context
        });
        Pending {
            thread,
            class: acq.class,
            access: acq.access,
            trylock: false,
            site: acq.site,
        }
    }

    /// Validates the blocking acquisition `acq` now, before blocking.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn validated(acq: Acquisition) -> Pending {
        Pending {
            thread: validate_blocking(acq.class, acq.access, acq.site, acq.instance, acq.memo),
            class: acq.class,
            access: acq.access,
            trylock: false,
            site: acq.site,
        }
    }

    /// A try-acquisition that succeeded: never validated, but held from now on.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn tried(acq: Acquisition) -> Pending {
        Pending {
            thread: thread_unless_reentered(),
            class: acq.class,
            access: acq.access,
            trylock: true,
            site: acq.site,
        }
    }

    /// Puts the acquisition on the held stack as `instance` (the acquisition's: passed again
    /// rather than kept, so that the lock call keeps less live across the raw lock); false
    /// when it is not tracked.
    #[cfg_attr(not(debug_assertions), inline)]
    pub(crate) fn commit(self, instance: Instance) -> bool {
        if self.thread.is_null() {
            return false;
        }
        // SAFETY: `thread` is the context this acquisition was validated in, on this thread
        // (a `Pending` is not `Send`): a thread's own (a thread-local without destructor that
        // lives as long as the thread) or a task's (never freed).
        let t = unsafe { &*self.thread };
        let acq = Acquisition {
            class: self.class,
            access: self.access,
            trylock: self.trylock,
            site: self.site,
            instance,
            memo: 0,
            held_key: None,
            serialised: false,
        };
        let committed = !t.reentry.get() && commit(t, &acq);
        if committed && t.task.is_task() {
            t.task.blocking_taken(self.class, self.site);
        }
        if committed {
            t.note_quiet();
        }
        committed
    }
}

/// Runs `f` with the context of the code running now: the current tokio task's (with the
/// `tokio` feature, inside a task: see `checker::tasks`), else this thread's.
#[inline(always)]
pub(crate) fn with_context<R>(f: impl FnOnce(&Context) -> R) -> R {
    f(context())
}

/// The context of the code running now (see [`with_context`]). It lives as long as this
/// thread runs (a thread's is a thread-local without destructor, a task's is never freed),
/// and a `Context` is not `Sync`: the reference stays on this thread.
#[inline(always)]
pub(crate) fn context() -> &'static Context {
    context_in(this_thread())
}

/// [`context`] on the thread whose own context is `thread`.
#[inline(always)]
fn context_in(thread: &'static Context) -> &'static Context {
    match tasks::cached(thread) {
        Ok(context) => context,
        Err(task) => switch_context(thread, task),
    }
}

/// This thread now runs `task` (0: its own code): its context; the task the thread ran last
/// is reported if it suspended holding a blocking lock.
#[cold]
#[inline(never)]
fn switch_context(thread: &'static Context, task: u64) -> &'static Context {
    let (context, left) = tasks::switch(thread, task);
    if let Some(left) = left {
        if let Some(_in_checker) = thread.enter() {
            store::held_across_await(left);
        }
    }
    context
}

/// [`Pending::validated`]'s work: this thread's state after validating, or null when the
/// checker is running on this thread.
///
/// Given scalars, not an `Acquisition` in memory, so that the result comes back in a
/// register. Out of line in an optimised build: compiled here, the thread-local access is a
/// plain TLS offset (inlined into the caller's crate it would go through `LocalKey`'s
/// accessor by an indirect call). Inlined in a test build, whose callers are out of line
/// already (`Pending::validated`): there every call is a call, even one of a few
/// instructions.
#[cfg_attr(debug_assertions, inline(always))]
fn validate_blocking(
    class: ClassId,
    access: Access,
    site: &'static Location<'static>,
    instance: Instance,
    memo: usize,
) -> *const Context {
    let t = context();
    if t.reentry.get() {
        return std::ptr::null();
    }
    let acq = Acquisition {
        class,
        access,
        trylock: false,
        site,
        instance,
        memo,
        held_key: None,
        serialised: false,
    };
    validate(t, &acq);
    t as *const Context
}

/// What [`acquired`] did with a lock taken without waiting.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Acquired {
    /// Its chain was validated before: it is held now.
    Held,
    /// Nothing is tracked (the checker is running on this thread, the held stack is full).
    Untracked,
    /// To be validated before it is held (released first by the caller, see
    /// `Checked::acquire`).
    Unknown,
}

/// The lock `instance`, of class `class`, was just taken as `access` at `site` without
/// waiting in checking epoch `epoch` (its [`OrderMemo`] at `memo`, 0 for none): held at once if this context validated
/// its chain before, as a validation would only find it in the cache.
/// [`Acquired::Unknown`], and nothing done that the validation would not do again, when that
/// is not known: a chain not in the cache, an instance order not in the lock's memo, releases
/// posted by other threads to apply first, or this thread switching to another task's
/// context (which may report the task it leaves).
///
/// Given the class and access as one word (the chain key's [`chain_key::acquisition`]) to
/// [`acquired_word`]: the caller has them at hand, and one value less is kept across the
/// thread-local access.
#[inline(always)]
pub(crate) fn acquired(
    class: ClassId,
    access: Access,
    site: &'static Location<'static>,
    instance: Instance,
    memo: usize,
    epoch: u32,
) -> Acquired {
    acquired_word(
        chain_key::acquisition(class, access),
        site,
        instance,
        memo,
        epoch,
    )
}

/// [`acquired`] of the acquisition word `acq`. Always inlined. In an optimised build, into
/// the lock path in the caller's crate, where its thread-local accesses are still plain TLS
/// offsets (x86-64 Linux, looked at): out of line, the call and the five registers it
/// saved and restored around its work were a fifth of an acquisition (callgrind, a nest of
/// two with their releases, with [`release`] inlined too: 268 instructions out of line,
/// 209 inlined; the tight nest 1.41x parking_lot -> 1.16x, averaged over stack placements).
/// In a test build, into `LockMap::held_at_once`, which is out of line already.
#[inline(always)]
fn acquired_word(
    acq: u64,
    site: &'static Location<'static>,
    instance: Instance,
    memo: usize,
    epoch: u32,
) -> Acquired {
    // A quiet context (`Context::quiet`) needs none of the checks of the full path but the
    // chain's, the notify path's and the stack's room; it pushes when the full path would
    // (its notify path as it is, no exit hook to register, not a task's context). Every
    // other case goes the full path, before anything is done.
    let t = this_thread();
    if t.quiet_in(epoch) && tasks::runs_own(t) && !has_posts(t) {
        let d = t.depth();
        if Context::inline_room(d) {
            let key = t.inline_next_key(d, acq);
            let known = match t.chain_cache_word(key) {
                CACHED_YES => true,
                CACHED_BY_INSTANCE => order_memoized(t, acq, instance, memo),
                _ => false,
            };
            if known && t.notify_path.noted_acquisition(acq) {
                t.push_lock_word(d, acq, instance, site, key);
                return Acquired::Held;
            }
        }
    }
    let (class, access) = chain_key::split(acq);
    acquired_in_full(class, access, site, instance, memo, epoch)
}

/// Puts the blocking acquisition `acq` on `t`'s held stack as a hold (`entry::validate_and_hold`,
/// `t` the context of the code running now), when validating it would find nothing to do:
/// true then, and the entry is pushed as `commit` would push it; false, and nothing done,
/// otherwise. Nothing to do: not inside the checker, the stack of the current epoch, no
/// releases posted to apply first, a chain this context validated before (not one whose
/// instance order is still to check: the acquisition of a map's own class has no order
/// memo), its class noted on the way to the next notify, no thread exit hook to register,
/// and for a unit of a counted class, no entry of its class to join (the caller's to count
/// then). The stack's inline depth only, as the quiet path.
#[cfg(feature = "tokio")]
#[inline(always)]
pub(crate) fn hold_known(t: &Context, acq: &Acquisition, counted: bool) -> bool {
    debug_assert!(!acq.trylock, "a blocking acquisition");
    if get(&t.reentry)
        || !t.in_epoch(crate::mode::epoch())
        || t.inbox.get().is_some_and(|inbox| inbox.has_posts())
        || !get(&t.exit_hook)
    {
        return false;
    }
    let d = t.depth();
    if !Context::inline_room(d) || (counted && t.find(acq.instance).is_some()) {
        return false;
    }
    let word = chain_key::acquisition(acq.class, acq.access);
    let key = t.inline_next_key(d, word);
    if t.chain_cache_word(key) != CACHED_YES || !t.notify_path.noted_acquisition(word) {
        return false;
    }
    t.push_lock_word(d, word, acq.instance, acq.site, key);
    true
}

/// Whether other threads posted releases of this context's locks to its inbox (only
/// `send_guard` makes guards `Send`): they are applied on the full path.
#[inline(always)]
fn has_posts(t: &Context) -> bool {
    #[cfg(feature = "send_guard")]
    if t.inbox.get().is_some_and(|inbox| inbox.has_posts()) {
        return true;
    }
    let _ = t;
    false
}

/// [`acquired`] with every check: the context not quiet, the stack deep, a chain not known,
/// a class not noted on the notify path.
#[cold]
#[inline(never)]
fn acquired_in_full(
    class: ClassId,
    access: Access,
    site: &'static Location<'static>,
    instance: Instance,
    memo: usize,
    epoch: u32,
) -> Acquired {
    let thread = this_thread();
    let Ok(t) = tasks::cached(thread) else {
        return Acquired::Unknown;
    };
    if get(&t.reentry) {
        return Acquired::Untracked;
    }
    t.sync_epoch_to(epoch);
    if get(&t.hold_entries) != 0 || has_posts(t) {
        return Acquired::Unknown;
    }
    // Not the memoized key: it is pushed right here, and a validation after `Unknown`
    // hashes again.
    let acq = chain_key::acquisition(class, access);
    let key = chain_key::extend(t.top_key(), acq);
    match t.chain_cached(key) {
        Cached::Yes => {}
        Cached::ByInstance if order_memoized(t, acq, instance, memo) => {}
        Cached::ByInstance | Cached::No => return Acquired::Unknown,
    }
    t.notify_path.note(class, access, site);
    if !(t.push_lock(class, access, instance, site, key)
        || commit_deep(t, class, access, false, site, instance))
    {
        // The held stack is full (reported).
        return Acquired::Untracked;
    }
    hook_thread_exit(t);
    if is_task_context(t, thread) {
        t.task.blocking_taken(class, site);
    }
    t.note_quiet();
    Acquired::Held
}

/// Whether `t`, the context of the code running on the thread whose own context is `thread`,
/// is a task's. A thread's own context is never one (no task claims it): only another is
/// asked, after a compare of addresses (`is_task` reads two fields, an atomic one a call of
/// its own in an unoptimised build).
#[inline(always)]
// Addresses compared as such: `std::ptr::eq` is a call of its own in an unoptimised build.
#[allow(clippy::ptr_eq)]
fn is_task_context(t: &Context, thread: &Context) -> bool {
    t as *const Context != thread as *const Context && t.task.is_task()
}

/// This thread's state, or null when the checker is running on this thread.
fn thread_unless_reentered() -> *const Context {
    with_context(|t| {
        if t.reentry.get() {
            std::ptr::null()
        } else {
            t.sync_epoch();
            t as *const Context
        }
    })
}

/// Removes `instance`'s topmost entry from this thread's held stack, if it is there (any
/// position: out-of-order release is normal Rust). Always inlined, as [`acquired_word`] (in
/// a test build into `LockMap::release`, out of line there); its full path is not.
/// `lockdep::sync`'s guards release through an out-of-line unlock instead (see
/// `RawMutex::unlock_apart`).
#[inline(always)]
pub(crate) fn release(instance: Instance) -> bool {
    // A quiet context's top entry: no task to tell (see `Context::quiet`).
    let t = this_thread();
    if t.is_quiet() && tasks::runs_own(t) && t.release_top(instance) {
        return true;
    }
    release_in_full(instance)
}

/// [`release`] with every check: a context not quiet, an entry below the top.
#[cold]
#[inline(never)]
fn release_in_full(instance: Instance) -> bool {
    let thread = this_thread();
    let t = context_in(thread);
    let released = t.release(instance);
    if released && is_task_context(t, thread) {
        t.task.blocking_released();
        tasks::give_back_if_empty(t);
    }
    released
}

/// Takes `instance` off the held stack for a wait that releases it (a condition variable),
/// returning how it was held, to be validated and held again after the wait.
pub(crate) fn suspend(instance: Instance) -> Option<(ClassId, Access)> {
    with_context(|t| {
        let i = t.find(instance)?;
        let held = t.get(i);
        t.remove(i);
        if t.task.is_task() {
            t.task.blocking_released();
        }
        Some((held.class, held.access))
    })
}

/// Changes how `instance` is held, in place (`downgrade`): no new dependency, as the hold
/// only gets weaker.
pub(crate) fn change_access(instance: Instance, access: Access) {
    with_context(|t| {
        if let Some(i) = t.find(instance) {
            t.set_access(i, access);
        }
    })
}

/// Whether this thread's held stack has any entry (stale ones too: the caller then takes the
/// full path, which forgets them). Not `#[inline]`, see [`validate_blocking`].
pub(crate) fn holds_any() -> bool {
    with_context(|t| t.depth() != 0)
}

/// Whether `instance` is on this thread's held stack.
pub(crate) fn holds(instance: Instance) -> bool {
    with_context(|t| {
        // An empty stack stays empty when stale entries are forgotten: the common answer,
        // for a pool's every allocation (`in_reclaim_scope`), without the epoch's load.
        if t.depth() == 0 {
            return false;
        }
        t.sync_epoch();
        t.find(instance).is_some()
    })
}

/// Validates `acq` against the held stack, unless this exact chain was validated before.
/// The chain key with `acq` on top is memoized for the push that follows.
#[inline(always)]
pub(crate) fn validate(t: &Context, acq: &Acquisition) {
    t.notify_path.note(acq.class, acq.access, acq.site);
    validate_unnoted(t, acq);
}

/// [`validate`] without noting the acquisition on the thread's way to its next notify: for a
/// wait for an event, which is not something a notifier takes.
#[inline(always)]
pub(crate) fn validate_unnoted(t: &Context, acq: &Acquisition) {
    sync_held(t);
    let key = t.next_key(acq.class, acq.access);
    match t.chain_cached(key) {
        Cached::Yes => {}
        Cached::ByInstance => check_instance(t, acq, key),
        Cached::No => validate_slow(t, acq, key),
    }
}

/// A chain validated at the class level whose acquisition is a lock nested in another of its
/// class: validated again only when the held lock is not the one the taken lock's memo
/// names (a hand-over-hand walk, shards locked in order, a transfer repeated in one order
/// find it there).
#[inline(never)]
fn check_instance(t: &Context, acq: &Acquisition, key: u64) {
    if acq.serialised
        || order_memoized(
            t,
            chain_key::acquisition(acq.class, acq.access),
            acq.instance,
            acq.memo,
        )
    {
        return;
    }
    validate_slow(t, acq, key);
}

/// Whether the lock `instance` (taken as the acquisition word `acq`, its [`OrderMemo`] at
/// `memo`, 0 for none) was last validated nested under the nearest lock of its class that
/// this context holds, and is not that lock: then its order among the locks of its class is
/// known. Given scalars: an `Acquisition` built for it is copied in memory in an unoptimised
/// build.
#[inline(always)]
fn order_memoized(t: &Context, acq: u64, instance: Instance, memo: usize) -> bool {
    // SAFETY: `memo` is an acquisition's: 0 or its lock's, which outlives the acquisition.
    let Some(memo) = (unsafe { OrderMemo::at(memo) }) else {
        return false;
    };
    let held = t.nearest_of_own_class(acq);
    held != Instance::NONE && held != instance && memo.names(instance_order::memo_key(held))
}

/// Brings the held stack up to date: forgotten if checking was off meanwhile, without the
/// elements that other threads returned.
#[inline(always)]
pub(crate) fn sync_held(t: &Context) {
    t.sync_epoch();
    if t.hold_entries.get() != 0 {
        apply_remote_releases(t);
    }
    // A guard of this context's sent to another thread and dropped there (only `send_guard`
    // makes guards `Send`): its release waits here.
    #[cfg(feature = "send_guard")]
    if t.inbox.get().is_some_and(|inbox| inbox.has_posts()) {
        apply_remote_releases(t);
    }
}

/// [`Context::apply_posted`], out of line.
#[cold]
fn apply_remote_releases(t: &Context) {
    t.apply_posted();
}

/// Pushes `acq`; false (and a fault report) when the held stack is full.
#[inline]
pub(crate) fn commit(t: &Context, acq: &Acquisition) -> bool {
    // The deep path is given scalars: an `Acquisition` or entry passed to a call is built in
    // memory on the fast path too, and the stores delay the lock's atomic instruction after
    // it (8 ns of a two-lock nest, measured).
    let pushed = t.push_inline(held_entry(acq))
        || commit_deep(
            t,
            acq.class,
            acq.access,
            acq.trylock,
            acq.site,
            acq.instance,
        );
    if pushed {
        hook_thread_exit(t);
    }
    pushed
}

/// After a push: a context holding something has its thread's exit hook registered (the
/// verdict on what a thread still holds when it exits), once.
#[inline(always)]
fn hook_thread_exit(t: &Context) {
    if !get(&t.exit_hook) {
        exit::register_thread_exit_hook(t);
    }
}

/// The held-stack entry of `acq`.
#[inline(always)]
fn held_entry(acq: &Acquisition) -> HeldLock {
    HeldLock {
        class: acq.class,
        access: acq.access,
        linked_below: !acq.trylock,
        count: 1,
        instance: acq.instance,
        site: Some(acq.site),
        chain_key: 0,
    }
}

/// [`commit`] past the held stack's inline depth; a fault report when it is full.
#[cold]
#[inline(never)]
fn commit_deep(
    t: &Context,
    class: ClassId,
    access: Access,
    trylock: bool,
    site: &'static Location<'static>,
    instance: Instance,
) -> bool {
    let acq = Acquisition {
        class,
        access,
        trylock,
        site,
        instance,
        memo: 0,
        held_key: None,
        serialised: false,
    };
    if t.push_deep(held_entry(&acq)) {
        return true;
    }
    depth_overflow(t, acq);
    false
}

fn depth_overflow(t: &Context, acq: Acquisition) {
    let Some(_in_checker) = t.enter() else {
        return;
    };
    let mut held: Vec<LockDesc> = t.snapshot().iter().map(LockDesc::from).collect();
    held.push(LockDesc {
        class: acq.class,
        access: acq.access,
        count: 1,
        site: acq.site,
    });
    store::fault(
        ViolationKind::HeldDepthOverflow,
        Detail::Overflow {
            what: "depth of the held-lock stack (MAX_LOCK_DEPTH)",
            limit: MAX_LOCK_DEPTH,
        },
        held,
    );
}

#[cold]
#[inline(never)]
fn validate_slow(t: &Context, acq: &Acquisition, key: u64) {
    let Some(_in_checker) = t.enter() else {
        return;
    };
    // A thread's first acquisition of a class is always its first of some chain: here.
    first_hold::note_acquired(acq.class);
    let held = t.snapshot();
    // A lock taken while a lock of its class is held is also ordered by instance (or is that
    // very lock), which a chain key (classes only) cannot stand for: such a chain is cached as
    // one whose instance check is still to be made, each time (`check_instance`).
    let nearest = held
        .iter()
        .rposition(|h| waits_for_own_class(h.class, h.access, acq.class, acq.access));
    let by_instance = registry::info(acq.class).kind == NodeKind::Lock && nearest.is_some();
    // The declared order keys are the context's: the slow path takes the held one's along.
    let keyed;
    let acq = match (nearest, acq.memo().and_then(OrderMemo::key)) {
        (Some(i), Some(_)) => {
            keyed = Acquisition {
                held_key: t.key_of(held[i].instance),
                ..*acq
            };
            &keyed
        }
        _ => acq,
    };
    if chains::is_validated(key) {
        t.cache_chain(key, by_instance);
        if by_instance {
            let trying = desc_of(acq);
            let (Deadlock::Continue(found) | Deadlock::Stop(found)) =
                check_deadlock(&held, acq, &trying);
            store::record_all(found);
        }
        return;
    }
    let (found, complete) = check_chain(&held, acq);
    // A chain whose class-level dependencies were not all added (the very lock taken again,
    // a full table) is validated again next time.
    if complete {
        chains::mark_validated(key);
        t.cache_chain(key, by_instance);
    }
    store::record_all(found);
}

/// `acq` as reports show it.
fn desc_of(acq: &Acquisition) -> LockDesc {
    LockDesc {
        class: acq.class,
        access: acq.access,
        count: 1,
        site: acq.site,
    }
}

/// What the kernel's `check_deadlock` found.
enum Deadlock {
    /// Go on to the dependencies (`check_prevs_add`), with what was found so far.
    Continue(Vec<ViolationData>),
    /// Stop there: the class is already held in a way that adds no dependency, or that is
    /// the violation.
    Stop(Vec<ViolationData>),
}

/// The kernel's `check_deadlock` for `acq` (described as `trying`) on top of `held`: the
/// class already held, unless a recursive read on a read hold, or another lock of the class,
/// which is ordered by instance instead.
fn check_deadlock(held: &[HeldLock], acq: &Acquisition, trying: &LockDesc) -> Deadlock {
    let class_kind = registry::info(acq.class).kind;
    match held
        .iter()
        .rposition(|h| waits_for_own_class(h.class, h.access, acq.class, acq.access))
    {
        Some(i) if class_kind == NodeKind::Lock && held[i].instance != acq.instance => {
            Deadlock::Continue(
                check_instance_order(held, i, acq, trying)
                    .into_iter()
                    .collect(),
            )
        }
        Some(i) => {
            let kind = match class_kind {
                NodeKind::Pool => ViolationKind::PoolRecursion,
                NodeKind::Lock => ViolationKind::SameLockTwice,
                // An event is never held: only `ALLOC` is left.
                NodeKind::Alloc | NodeKind::Event => ViolationKind::RecursiveLock,
            };
            let detail = Detail::Recursive {
                trying: trying.clone(),
                holding: LockDesc::from(&held[i]),
            };
            Deadlock::Stop(vec![ViolationData::new(
                kind,
                detail,
                held.iter().map(LockDesc::from).collect(),
                StackTrace::capture(),
            )])
        }
        // Already holding the class for read: no new dependency (kernel: ret == 2).
        None if held.iter().any(|h| h.class == acq.class) => Deadlock::Stop(Vec::new()),
        None => Deadlock::Continue(Vec::new()),
    }
}

/// The kernel's `check_deadlock` and `check_prevs_add` for `acq` on top of `held`: every
/// violation the acquisition shows, and whether every dependency between classes it makes was
/// added (false when `check_deadlock` stopped it, or a table is full). Each new dependency
/// that closes a cycle is one violation (and is recorded all the same, so that later cycles
/// through it are found too); so an acquisition may close several.
pub(crate) fn check_chain(held: &[HeldLock], acq: &Acquisition) -> (Vec<ViolationData>, bool) {
    let trying = desc_of(acq);
    let held_descs = || held.iter().map(LockDesc::from).collect::<Vec<_>>();
    let mut found = if acq.access == Access::Write {
        first_write(held, acq.class, acq.site)
    } else {
        Vec::new()
    };
    match check_deadlock(held, acq, &trying) {
        Deadlock::Continue(more) => found.extend(more),
        Deadlock::Stop(more) => {
            found.extend(more);
            // A first write may have added dependencies.
            found.extend(one_thread_cycles(held_descs()));
            return (found, false);
        }
    }

    // check_prevs_add: from each held entry down to and including the first non-trylock one.
    // A held lock of the acquired class adds no dependency (a class is not its own), and the
    // entries below it do not reach the acquisition through it: they get their own.
    let mut trace: Option<StackTrace> = None;
    // At a lock's first acquisition, the dependencies from every lock held exclusively (any
    // may have published it) are held back with it (`first_hold`); the entries below one of
    // them do not reach the acquisition through it.
    let in_first_hold = first_hold::is_first(acq.instance);
    let mut graph = graph::lock();
    // Each is held back, even one the graph has already: the locks held then are what says
    // whether the thread that next takes the lock may have found it through one of them.
    let held_back: Vec<bool> = held
        .iter()
        .map(|h| in_first_hold && h.class != acq.class && may_publish(h))
        .collect();
    // Made again and again when first holds are never counted (each object made under its
    // registry): their stack, the same, is kept once.
    let mut trace_of = |from: ClassId| {
        first_hold::kept_trace(from, acq.class, acq.site)
            .unwrap_or_else(|| trace.get_or_insert_with(StackTrace::capture).clone())
    };
    let provisional: Vec<Provisional> = held
        .iter()
        .zip(&held_back)
        .filter(|(_, &back)| back)
        .map(|(h, _)| Provisional {
            from: h.class,
            held_site: h.site(),
            to: acq.class,
            acquired: acq.access,
            site: acq.site,
            trace: trace_of(h.class),
        })
        .collect();
    for (i, h) in held.iter().enumerate().rev() {
        if h.class == acq.class || held_back[i] {
            continue;
        }
        let mut capture = || trace.get_or_insert_with(StackTrace::capture).clone();
        match graph.add(
            h.class,
            h.access,
            h.site(),
            acq.class,
            acq.access,
            acq.site,
            &mut capture,
        ) {
            Ok(Added::Known | Added::New) => {}
            Ok(Added::Cycle(cycle)) => {
                let current = trace.get_or_insert_with(StackTrace::capture).clone();
                let closing = Link {
                    from: h.class,
                    to: acq.class,
                    deps: dep::of(h.access, acq.access),
                    site: acq.site,
                    trace: current.clone(),
                };
                let ring = ring_of(&graph, closing, &cycle.path);
                let detail = Detail::Cycle {
                    trying: trying.clone(),
                    holding: LockDesc::from(h),
                    ring,
                    held_back: None,
                };
                found.push(cycle_violation(detail, held_descs(), current));
            }
            Err(Full) => {
                drop(graph);
                graph_full(held_descs());
                return (found, false);
            }
        }
        // Entries below a blocking acquisition reach `acq` through it (they added their own
        // dependency on it, kept even when it closed a cycle) — unless it is a recursive
        // read: a path entering a class by a recursive read and leaving it while it is held
        // shared is not strong, so the lower entries need their own dependency (found by the
        // differential test against a reference without this shortcut).
        // Nor when its class is held below it: then its own acquisition was recursive (reported
        // as such, ordered by instance, or a recursive read on a read hold) and recorded no
        // dependency between classes at all (once
        // the lower entry is released, `Context::remove` unlinks it). Found by
        // tests/differential_scopes.rs: after an AA report, later cycles through the entries
        // below were lost.
        // The same for a non-recursive read of a class no writer waited for yet, which the
        // order takes as a recursive read until one does (`book/src/rules.md`).
        let entered_as_recursive = h.access == Access::RecursiveRead
            || (h.access == Access::Read && !graph.is_written(h.class));
        // Nor when the dependencies into it are held back in its first hold.
        if h.linked_below
            && !entered_as_recursive
            && !held[..i].iter().any(|below| below.class == h.class)
            && !first_hold::holds_back(h.instance)
        {
            break;
        }
    }
    drop(graph);
    let complete = provisional.is_empty();
    // Not validated for good: a later acquisition of the chain, not a first one, records them.
    if let Err(counted) = first_hold::hold_back(acq.instance, provisional) {
        // Another thread took the lock meanwhile: they count.
        found.extend(count_provisional(counted, None, held_descs()));
    }
    found.extend(one_thread_cycles(held_descs()));
    (found, complete)
}

/// The dependencies this thread held back in first holds that would close a cycle now, while
/// no other thread has taken their held class: they count (one thread cannot tell whether
/// the lock was private), and the cycles they close are reported.
fn one_thread_cycles(held: Vec<LockDesc>) -> Vec<ViolationData> {
    let mut found = Vec::new();
    // Counting one may make another close a cycle: until none does.
    loop {
        let counted = {
            let mut graph = graph::lock();
            first_hold::mine_alone(&mut *graph)
        };
        if counted.is_empty() {
            return found;
        }
        let held_back = HeldBack::FirstHold {
            by: None,
            by_holder: true,
        };
        found.extend(count_provisional(counted, Some(held_back), held.clone()));
    }
}

/// Whether `h` is held so that a lock first taken under it may have been made and published
/// under it: a lock held exclusively (a registry's write lock); a reader publishes nothing.
fn may_publish(h: &HeldLock) -> bool {
    h.access == Access::Write && registry::info(h.class).kind == NodeKind::Lock
}

/// The graph is full: a fault report (the reporting thread holding `held`), which turns the
/// checker off.
fn graph_full(held: Vec<LockDesc>) {
    store::fault(
        ViolationKind::TableOverflow,
        Detail::Overflow {
            what: "lock dependencies (MAX_LOCKDEP_ENTRIES)",
            limit: graph::MAX_EDGES,
        },
        held,
    );
}

/// Records the dependencies `deps`, held back in a lock's first hold, which count now
/// (`held_back`: the acquisition that made them count, and whether by the thread that first
/// took the lock); the violations of the cycles they close (the reporting thread holding
/// `held`).
fn count_provisional(
    deps: Vec<Provisional>,
    held_back: Option<HeldBack>,
    held: Vec<LockDesc>,
) -> Vec<ViolationData> {
    let mut found = Vec::new();
    let mut graph = graph::lock();
    for d in deps {
        first_hold::counted(d.from, d.to);
        let added = graph.add_held_back(&d);
        match added {
            Ok(Added::Known | Added::New) => {}
            Ok(Added::Cycle(cycle)) => {
                let closing = Link {
                    from: d.from,
                    to: d.to,
                    deps: dep::of(Access::Write, d.acquired),
                    site: d.site,
                    trace: d.trace,
                };
                let detail = Detail::Cycle {
                    ring: ring_of(&graph, closing, &cycle.path),
                    trying: LockDesc {
                        class: d.to,
                        access: d.acquired,
                        count: 1,
                        site: d.site,
                    },
                    holding: LockDesc {
                        class: d.from,
                        access: Access::Write,
                        count: 1,
                        site: d.held_site,
                    },
                    held_back: held_back.clone(),
                };
                found.push(cycle_violation(detail, held.clone(), StackTrace::capture()));
            }
            Err(Full) => {
                drop(graph);
                graph_full(held);
                return found;
            }
        }
    }
    found
}

/// An acquisition of the lock `instance` (blocking, or a try) as `access` at `site` while its
/// first hold, `state`, was not settled (`first_hold`): whether it is its first (the
/// dependencies into it are held back while it is validated, until [`first_hold::end`]);
/// else the lock is settled now, the dependencies held back counting or not, and the cycles
/// of those that count reported.
pub(crate) fn unsettled_acquisition(
    instance: Instance,
    state: &first_hold::FirstHold,
    blocking: bool,
    access: Access,
    site: &'static Location<'static>,
) -> bool {
    with_context(|t| {
        // The checker's own work (an allocation inside it): not looked at.
        let Some(_in_checker) = t.enter() else {
            state.settle_new();
            return false;
        };
        // Checking off: the lock's first hold is not looked at.
        if !crate::mode::is_checking() {
            state.settle(instance);
            return false;
        }
        match first_hold::acquire(instance, state, blocking, t.depth() != 0) {
            first_hold::Acquired::First => true,
            first_hold::Acquired::Nothing => false,
            first_hold::Acquired::Settles { counted, by_holder } => {
                if let Some(class) = counted.first().map(|d| d.to) {
                    let held: Vec<LockDesc> = t.snapshot().iter().map(LockDesc::from).collect();
                    let by = LockDesc {
                        class,
                        access,
                        count: 1,
                        site,
                    };
                    let held_back = HeldBack::FirstHold {
                        by: Some(by),
                        by_holder,
                    };
                    let mut found = count_provisional(counted, Some(held_back), held.clone());
                    found.extend(one_thread_cycles(held));
                    store::record_all(found);
                }
                false
            }
        }
    })
}

/// A cycle's violation: a circular dependency, or the kind its classes make it
/// (`lockdep_report::cycle_kind`).
fn cycle_violation(detail: Detail, held: Vec<LockDesc>, trace: StackTrace) -> ViolationData {
    let Detail::Cycle { ring, .. } = &detail else {
        unreachable!("a cycle's detail");
    };
    let kind = lockdep_report::cycle_kind(ring.iter().map(|l| registry::info(l.to).kind));
    ViolationData::new(kind, detail, held, trace)
}

/// The cycle the dependency `closing` closes along `path` (classes, from its acquired class
/// back to its held class), as links: `closing` first, then the existing path.
fn ring_of(graph: &graph::Graph, closing: Link, path: &[ClassId]) -> Vec<Link> {
    let site = closing.site;
    let mut ring = vec![closing];
    for pair in path.windows(2) {
        let edge = graph.edge(pair[0], pair[1]);
        ring.push(Link {
            from: pair[0],
            to: pair[1],
            deps: edge.map_or(dep::EN, |e| e.deps),
            site: edge.map_or(site, |e| e.site),
            trace: edge.map(|e| e.trace.clone()).unwrap_or_default(),
        });
    }
    ring
}

/// A writer waits for `class` at `site` (with `held` held): when none did before, a read of
/// it may wait behind a writer from now on, so the dependencies held back on its reads count,
/// and each cycle they close is a violation found now (`book/src/rules.md`, "reads of a class
/// nobody writes"). The caller has entered the checker.
fn first_write(
    held: &[HeldLock],
    class: ClassId,
    site: &'static Location<'static>,
) -> Vec<ViolationData> {
    if registry::is_written(class) {
        return Vec::new();
    }
    let mut graph = graph::lock();
    let released = graph.write(class, site);
    registry::mark_written(class);
    if released.is_empty() {
        return Vec::new();
    }
    let current = StackTrace::capture();
    let write = LockDesc {
        class,
        access: Access::Write,
        count: 1,
        site,
    };
    released
        .into_iter()
        .map(|(released, held_at)| {
            let read = graph
                .edge(released.from, class)
                .expect("a held-back read is a recorded dependency");
            let holding = LockDesc {
                class: released.from,
                access: if released.deps & dep::EN != 0 {
                    Access::Write
                } else {
                    Access::Read
                },
                count: 1,
                site: held_at,
            };
            let trying = LockDesc {
                access: Access::Read,
                site: read.site,
                ..write.clone()
            };
            let closing = Link {
                from: released.from,
                to: class,
                deps: dep::of(holding.access, trying.access),
                site: read.site,
                trace: read.trace.clone(),
            };
            let detail = Detail::Cycle {
                ring: ring_of(&graph, closing, &released.path),
                trying,
                holding,
                held_back: Some(HeldBack::FirstWrite(write.clone())),
            };
            cycle_violation(
                detail,
                held.iter().map(LockDesc::from).collect(),
                current.clone(),
            )
        })
        .collect()
}

/// Orders `acq` after `held[i]`, the nearest held lock of its class (see
/// [`instance_order`]): the violation when the two locks were also taken in the opposite
/// order, directly or through other locks of the class.
fn check_instance_order(
    held: &[HeldLock],
    i: usize,
    acq: &Acquisition,
    trying: &LockDesc,
) -> Option<ViolationData> {
    let holding = &held[i];
    let remember = || {
        if let Some(memo) = acq.memo() {
            memo.remember(instance_order::memo_key(holding.instance));
        }
    };
    // Two keyed locks: their keys say the order, at first sight.
    if let (Some(key), Some(held_key)) = (acq.memo().and_then(OrderMemo::key), acq.held_key) {
        if held_key < key {
            remember();
            return None;
        }
        return Some(ViolationData::new(
            ViolationKind::DeclaredOrder,
            Detail::DeclaredOrder {
                trying: trying.clone(),
                holding: LockDesc::from(holding),
                trying_key: key,
                holding_key: held_key,
            },
            held.iter().map(LockDesc::from).collect(),
            StackTrace::capture(),
        ));
    }
    let mut current: Option<StackTrace> = None;
    let mut capture = || current.get_or_insert_with(StackTrace::capture).clone();
    let back = match instance_order::add(holding.instance, acq.instance, acq.site, &mut capture) {
        Ordered::Known | Ordered::New => {
            remember();
            return None;
        }
        Ordered::Cycle(back) => back,
        Ordered::Full => {
            store::fault(
                ViolationKind::TableOverflow,
                Detail::Overflow {
                    what: "dependencies between locks of one class",
                    limit: instance_order::MAX_INSTANCE_EDGES,
                },
                held.iter().map(LockDesc::from).collect(),
            );
            return None;
        }
    };
    let current = capture();
    let class = acq.class;
    let mut ring = vec![Link {
        from: class,
        to: class,
        deps: dep::of(holding.access, acq.access),
        site: acq.site,
        trace: current.clone(),
    }];
    ring.extend(back.into_iter().map(|edge| Link {
        from: class,
        to: class,
        deps: dep::EN,
        site: edge.site,
        trace: edge.trace,
    }));
    Some(ViolationData::new(
        ViolationKind::CircularDependency,
        Detail::Cycle {
            trying: trying.clone(),
            holding: LockDesc::from(holding),
            ring,
            held_back: None,
        },
        held.iter().map(LockDesc::from).collect(),
        current,
    ))
}

/// A nested acquisition (subclass > 0) of a lock this thread already holds, under any
/// subclass: a certain self-deadlock that the class-level check cannot see (the subclass is
/// another class), so it is looked for by instance, on every such acquisition. Reported
/// before blocking. Out of line: nested acquisitions are the rare ones.
#[cold]
#[inline(never)]
pub(crate) fn check_same_lock(acq: &Acquisition) {
    with_context(|t| {
        t.sync_epoch();
        let Some(i) = t.find(acq.instance) else {
            return;
        };
        let Some(_in_checker) = t.enter() else {
            return;
        };
        let held = t.snapshot();
        store::record(ViolationData::new(
            ViolationKind::SameLockTwice,
            Detail::Recursive {
                trying: LockDesc {
                    class: acq.class,
                    access: acq.access,
                    count: 1,
                    site: acq.site,
                },
                holding: LockDesc::from(&held[i]),
            },
            held.iter().map(LockDesc::from).collect(),
            StackTrace::capture(),
        ));
    });
}

/// A blocking upgradable read of `class` at `site`. Two upgradable reads exclude each other,
/// so one may wait for another even where no writer waits: for the rule on reads of classes
/// nobody writes, it counts as a writer (a cycle through reads of the class may block), and
/// must be said so here, before validation, which cannot tell it from a plain read (their
/// chains are one).
pub(crate) fn upgradable_read(class: ClassId, site: &'static Location<'static>) {
    if registry::is_written(class) {
        return;
    }
    with_context(|t| {
        let Some(_in_checker) = t.enter() else {
            return;
        };
        let held = t.snapshot();
        let mut found = first_write(&held, class, site);
        if !found.is_empty() {
            found.extend(one_thread_cycles(held.iter().map(LockDesc::from).collect()));
        }
        store::record_all(found);
    });
}

/// This thread may allocate memory at `site`: `held → ALLOC`.
#[inline(always)]
pub(crate) fn might_alloc(t: &Context, site: &'static Location<'static>) {
    // Nothing held: no dependency can come of it. Inside the checker: its own allocations.
    if t.depth() == 0 || t.noreclaim.get() != 0 || t.reentry.get() {
        return;
    }
    validate_alloc(t, site);
}

/// `held → ALLOC`, out of line: with nothing held, an allocation costs only the checks above.
#[inline(never)]
fn validate_alloc(t: &Context, site: &'static Location<'static>) {
    let alloc = registry::alloc_class();
    validate(
        t,
        &Acquisition::blocking(alloc, Access::Write, site, Instance::class(alloc)),
    );
}

/// The dependency `from → acq` seen outside any thread's held stack (a reclaim-path pool's
/// `ALLOC → pool`), checked like any new dependency: it may close a cycle.
pub(crate) fn add_dependency(from: ClassId, acq: Acquisition) {
    with_context(|t| {
        let Some(_in_checker) = t.enter() else {
            return;
        };
        store::record_all(check_dependency(from, acq.site, &acq));
    });
}

/// The dependency `from → acq` on its own, as if `from` alone were held (exclusively, since
/// `from_site`): the violations it shows. The caller has entered the checker.
pub(crate) fn check_dependency(
    from: ClassId,
    from_site: &'static Location<'static>,
    acq: &Acquisition,
) -> Vec<ViolationData> {
    let from = HeldLock {
        class: from,
        access: Access::Write,
        linked_below: true,
        count: 1,
        instance: Instance::class(from),
        site: Some(from_site),
        chain_key: 0,
    };
    check_chain(&[from], acq).0
}
