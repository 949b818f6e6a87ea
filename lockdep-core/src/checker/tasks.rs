//! Held sets per tokio task (feature `tokio`): the locks a task holds are its own, not its
//! worker thread's. A task takes turns with others on a worker and moves between workers,
//! so a held stack per thread would invent dependencies between tasks that take turns (task 1
//! holds `A` across an await, task 2 takes `B` on the same worker: not `A → B`) and lose a
//! task's holds when it moves.
//!
//! The context of the code running now is the current task's (`tokio::task::try_id()`), else
//! the thread's own. A task's [`Context`] is claimed from a table the first time the task
//! acquires something, stays the task's while it holds anything (wherever it runs next: it
//! finds its context in the table again), and is given back the moment it holds nothing (a
//! task that ends holding nothing leaves nothing behind). Each thread caches the task it ran
//! last with its context and that context's generation, so that repeated acquisitions in one
//! poll cost a look at tokio's current task id and two compares.
//!
//! # Who touches a task's context
//!
//! Only the thread polling the task (tokio polls a task on one thread at a time, and hands it
//! between threads with a happens-before), and, through atomics only, another thread asking
//! whether the task it ran last holds a blocking lock. A context changes hands only when its
//! task holds nothing, on the thread that polls the task, and every change bumps its
//! generation, which makes every thread's cached pointer to it stale.
//!
//! # Held across an await
//!
//! When a thread goes from one task's context to another's (or its own), the task it ran
//! last has suspended (or ended). If that task still holds a blocking lock (one of lockdep's
//! locks, as opposed to an async lock or a pool element) and has not been picked up by another
//! thread since, it suspended with the lock held: [`HeldAcrossAwait`]. Found when the next
//! acquisition on that thread comes, with no hook into the runtime.
//!
//! [`HeldAcrossAwait`]: lockdep_report::ViolationKind::HeldAcrossAwait

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
#[cfg(feature = "tokio")]
use std::hash::{Hash, Hasher};
use std::panic::Location;
use std::sync::atomic::{AtomicPtr, Ordering::*};
use std::sync::Mutex;

use super::held::Context;
use super::task_state::TaskState;
use super::types::{lock, tid, ClassId};

/// Slots of the table of task contexts, and how far a task looks for its own or a free one
/// before it takes one of the overflow's.
const SLOTS: usize = 1024;
const PROBE: usize = 8;

static TABLE: [AtomicPtr<Context>; SLOTS] = [const { AtomicPtr::new(std::ptr::null_mut()) }; SLOTS];

/// Contexts of tasks that found no slot, by task, and contexts given back by such tasks.
static OVERFLOW: Mutex<Option<HashMap<u64, usize>>> = Mutex::new(None);
static SPARE: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// The task running on the thread whose task state is `state`: the one a `lockdep::AsTask`
/// wrapper runs, else (feature `tokio`) tokio's current task, else 0.
#[inline(always)]
fn current_task(state: &TaskState) -> u64 {
    let scoped = crate::thin::get(&state.scoped);
    if scoped != 0 {
        return scoped;
    }
    #[cfg(feature = "tokio")]
    {
        state.busy.set(true);
        let id = tokio::task::try_id();
        state.busy.set(false);
        id.map_or(0, task_number)
    }
    #[cfg(not(feature = "tokio"))]
    0
}

/// Numbers of the tasks `lockdep::AsTask` makes: above any tokio task's (tokio counts up
/// from 1).
static NEXT_SCOPED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1 << 63);

/// A number for a new `lockdep::AsTask` task.
pub(crate) fn new_scoped_task() -> u64 {
    NEXT_SCOPED.fetch_add(1, Relaxed)
}

/// The `lockdep::AsTask` task `task` runs on the thread whose own context is `thread` until
/// [`leave_scoped`]; returns the one that ran before (wrappers may nest).
pub(crate) fn enter_scoped(thread: &Context, task: u64) -> u64 {
    thread.unquiet();
    thread.task.scoped.replace(task)
}

/// The end of [`enter_scoped`]: `previous` runs again.
pub(crate) fn leave_scoped(thread: &Context, previous: u64) {
    thread.unquiet();
    thread.task.scoped.set(previous);
}

/// The task's number, as tokio has it (`Id` hashes as its one `u64`).
#[cfg(feature = "tokio")]
fn task_number(id: tokio::task::Id) -> u64 {
    /// Keeps the last `u64` written: `Id`'s hash is its number.
    struct Number(u64);
    impl Hasher for Number {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.0 = self.0.rotate_left(8) ^ u64::from(b);
            }
        }
        fn write_u64(&mut self, n: u64) {
            self.0 = n;
        }
    }
    let mut number = Number(0);
    id.hash(&mut number);
    // Never 0, which means "no task".
    number.0.max(1)
}

/// The context of the code running on the thread whose own context is `thread`, when it is
/// the one the thread used last: the current task's, else `thread`. `Err(task)` when the
/// thread has switched to `task` (0: its own code): then [`switch`].
#[inline(always)]
pub(crate) fn cached(thread: &Context) -> Result<&Context, u64> {
    let state = &thread.task;
    // Without tokio the task running is the scoped one alone: when none runs now and none ran
    // last, the thread's own context (busy or not), in one compare, as below.
    #[cfg(not(feature = "tokio"))]
    if (crate::thin::get(&state.scoped) | crate::thin::get(&state.last_task)) == 0 {
        return Ok(thread);
    }
    // Inside a switch (its allocations come back here): the thread's own.
    if crate::thin::get(&state.busy) {
        return Ok(thread);
    }
    let task = current_task(state);
    if task == crate::thin::get(&state.last_task) {
        if task == 0 {
            return Ok(thread);
        }
        // SAFETY: a context, once made, is never freed (see `new_context`).
        let context = unsafe { &*state.last_context.get().cast::<Context>() };
        if context.task.generation.load(Relaxed) == state.last_generation.get() {
            return Ok(context);
        }
    }
    Err(task)
}

/// Whether the code running on the thread whose own context is `thread` runs in that
/// context, for a context that is quiet (`Context::quiet`): with the `tokio` feature, tokio's
/// current task is asked (a quiet context does not see a task start); without it, a quiet
/// context says so (no `lockdep::AsTask` task runs, no task ran last).
#[inline(always)]
pub(crate) fn runs_own(thread: &Context) -> bool {
    !cfg!(feature = "tokio")
        || matches!(cached(thread), Ok(context) if std::ptr::eq(context, thread))
}

/// A task that suspended holding a blocking lock: the lock's class, where it was taken, and
/// what the thread ran next (a task, or 0: its own code).
pub(crate) struct Left {
    pub(crate) task: u64,
    pub(crate) class: ClassId,
    pub(crate) site: &'static Location<'static>,
    pub(crate) next: u64,
}

/// This thread now runs `task` (0: its own code): `task`'s context, found or claimed, and the
/// task it ran last if that one suspended holding a blocking lock.
#[cold]
#[inline(never)]
pub(crate) fn switch(thread: &Context, task: u64) -> (&Context, Option<Left>) {
    let state = &thread.task;
    // Not quiet from here (`enter` says so too): the thread runs another context.
    thread.unquiet();
    state.busy.set(true);
    let _in_checker = thread.enter();
    let previous = state.last_task.get();
    let mut left = None;
    if previous != 0 && previous != task {
        // SAFETY: a context, once made, is never freed.
        let context = unsafe { &*state.last_context.get().cast::<Context>() };
        left = check_left(context, previous, state.last_generation.get(), task);
    }
    let context = if task == 0 {
        thread
    } else {
        let context = claim(task);
        context.task.running_on.store(tid(), Release);
        context
    };
    state.last_task.set(task);
    state.last_context.set((context as *const Context).cast());
    state
        .last_generation
        .set(context.task.generation.load(Relaxed));
    state.busy.set(false);
    (context, left)
}

/// The context of task `previous` (in `generation`) was left for `next`'s on this thread: if
/// it still holds a blocking lock, and no other thread has picked the task up since, the task
/// suspended holding it.
fn check_left(left: &Context, previous: u64, generation: u64, next: u64) -> Option<Left> {
    let t = &left.task;
    if t.blocking.load(Acquire) == 0
        || t.running_on.load(Relaxed) != tid()
        || t.owner.load(Relaxed) != previous
        || t.generation.load(Relaxed) != generation
    {
        return None;
    }
    let class = t.blocking_class.load(Relaxed);
    let site = t.blocking_site.load(Relaxed);
    if class == 0 || site.is_null() {
        return None;
    }
    Some(Left {
        task: previous,
        class,
        // SAFETY: the site was stored from a `&'static Location`.
        site: unsafe { &*site },
        next,
    })
}

/// The index of `task`'s first slot.
fn slot_of(task: u64) -> usize {
    (task.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize % SLOTS
}

/// `task`'s context: the one it holds something in (it may come from another thread), else a
/// free one, claimed for it.
fn claim(task: u64) -> &'static Context {
    let first = slot_of(task);
    let slots = || (0..PROBE).map(|p| &TABLE[(first + p) % SLOTS]);
    for slot in slots() {
        let context = slot.load(Acquire);
        if context.is_null() {
            continue;
        }
        // SAFETY: a context, once made, is never freed.
        let c = unsafe { &*context };
        if c.task.owner.load(Acquire) == task {
            return c;
        }
    }
    for slot in slots() {
        let mut context = slot.load(Acquire);
        if context.is_null() {
            let made = new_context();
            match slot.compare_exchange(std::ptr::null_mut(), made, AcqRel, Acquire) {
                Ok(_) => context = made,
                Err(theirs) => {
                    lock(&SPARE).push(made as usize);
                    context = theirs;
                }
            }
        }
        // SAFETY: a context, once made, is never freed.
        let c = unsafe { &*context };
        if c.task
            .owner
            .compare_exchange(0, task, AcqRel, Relaxed)
            .is_ok()
        {
            claimed(c);
            return c;
        }
    }
    claim_overflow(task)
}

/// `task`'s context outside the table (its slots were all taken by other tasks).
#[cold]
fn claim_overflow(task: u64) -> &'static Context {
    let mut overflow = lock(&OVERFLOW);
    let map = overflow.get_or_insert_with(HashMap::new);
    if let Some(&context) = map.get(&task) {
        // SAFETY: a context, once made, is never freed.
        return unsafe { &*(context as *const Context) };
    }
    let context = lock(&SPARE).pop().unwrap_or_else(|| new_context() as usize);
    map.insert(task, context);
    // SAFETY: a context, once made, is never freed.
    let c = unsafe { &*(context as *const Context) };
    c.task.owner.store(task, Release);
    c.task.spilled.store(true, Relaxed);
    claimed(c);
    c
}

/// A context now claimed by a new task: nothing of its last task's stays on its way to a
/// notify.
fn claimed(context: &Context) {
    context.notify_path.restart();
    context.task.blocking.store(0, Relaxed);
}

/// A new, empty context. From the system allocator (this runs inside the global allocator's
/// hook too), all zeros (an empty context), and never freed: a thread may hold a pointer to
/// it in its cache, which the generation tells is stale, so the memory must stay a context.
fn new_context() -> *mut Context {
    let layout = Layout::new::<Context>();
    // SAFETY: the layout's size is not zero; an all-zeros `Context` is an empty one (its
    // initial value is all zeros, see `Context`).
    let context = unsafe { System.alloc_zeroed(layout) }.cast::<Context>();
    if context.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    // SAFETY: just allocated, and not shared yet.
    unsafe { (*context).task.of_task.set(true) };
    context
}

/// Gives the task context `context` back if its task holds nothing any more. Called on the
/// thread polling its task, after a release.
#[inline]
pub(crate) fn give_back_if_empty(context: &Context) {
    if context.task.is_task() && context.depth() == 0 && context.hold_entries.get() == 0 {
        give_back(context);
    }
}

#[inline]
fn give_back(context: &Context) {
    let t = &context.task;
    let spilled = t.spilled.load(Relaxed);
    if context.inbox.get().is_some() || spilled {
        close_inbox(context);
    }
    t.blocking.store(0, Relaxed);
    t.generation.store(t.generation.load(Relaxed) + 1, Relaxed);
    if spilled {
        give_back_spilled(context);
    } else {
        t.owner.store(0, Release);
    }
}

/// Closes a context's inbox: late releases for its task go nowhere (it holds nothing).
#[cold]
fn close_inbox(context: &Context) {
    if let Some(inbox) = context.inbox.take() {
        let _in_checker = context.enter();
        inbox.close();
    }
}

/// [`give_back`] of a context of the overflow table: out of the table, then free, then spare
/// (in that order: a spare context is claimed by whoever takes it).
#[cold]
fn give_back_spilled(context: &Context) {
    let _in_checker = context.enter();
    let t = &context.task;
    t.spilled.store(false, Relaxed);
    if let Some(map) = lock(&OVERFLOW).as_mut() {
        map.remove(&t.owner.load(Relaxed));
    }
    t.owner.store(0, Release);
    lock(&SPARE).push(context as *const Context as usize);
}
