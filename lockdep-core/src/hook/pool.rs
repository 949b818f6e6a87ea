//! Pool classes: the hooks through which `lockdep-mempool` puts mempools in the graph.
//!
//! A pool is a class whose "hold" lasts from taking an element to returning it. Holds of one
//! pool class collapse into one held entry with a count. An element may be dropped on another
//! thread: the release is then posted to the allocating thread's inbox, which that thread
//! drains before its next validation.

use parking_lot::Mutex;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use super::alloc::{class_instance, in_reclaim, might_alloc_in};
use super::held::{with_thread, Access, HeldLock, ThreadState};
use super::registry::{self, alloc_class, ClassId, ClassKey, NodeKind, NodeKindKey};
use super::stack_trace::StackTrace;
use super::validator::{check_chain, commit, validate, Acquire};
use super::violation::{Detail, LockDesc, ViolationData};
use crate::ViolationKind;

/// Releases posted to a thread by other threads.
///
/// Inboxes live for the rest of the process and are reused by later threads, so that an
/// element refers to its thread's inbox by a plain reference (no reference count to touch per
/// element). The generation, bumped when a thread exits, keeps a late release from reaching
/// the next thread that uses the inbox.
pub struct Inbox {
    pending: AtomicBool,
    state: Mutex<InboxState>,
}

struct InboxState {
    generation: u64,
    released: Vec<ClassId>,
}

/// Inboxes of exited threads, for reuse.
static FREE_INBOXES: Mutex<Vec<&'static Inbox>> = parking_lot::const_mutex(Vec::new());

/// The class of a mempool.
#[derive(Clone, Copy, Debug)]
pub struct PoolClass {
    id: ClassId,
}

impl PoolClass {
    /// The class of pools created at `site`, or named `name`. `reclaim_path` pools get the
    /// implicit dependency `ALLOC → pool`: memory reclaim may wait for their elements.
    pub fn register(
        name: Option<&str>,
        site: &'static Location<'static>,
        reclaim_path: bool,
    ) -> PoolClass {
        let id = match name {
            Some(name) => registry::register(
                ClassKey::Named(name.to_owned(), NodeKindKey::Pool),
                NodeKind::Pool,
                Some(site),
                || name.to_owned(),
            ),
            None => registry::site_class(site, NodeKindKey::Pool),
        };
        let Some(id) = id else {
            super::store::class_table_full();
            return PoolClass { id: 0 };
        };
        // Added whatever the mode: the graph must know it if checking is turned on later.
        if reclaim_path && !crate::mode::faulted() {
            add_reclaim_dependency(id, site);
        }
        PoolClass { id }
    }

    /// The class's printed name.
    pub fn name(&self) -> &'static str {
        if self.id == 0 {
            "<untracked pool>"
        } else {
            registry::info(self.id).name
        }
    }

    fn acquisition(&self, trylock: bool, site: &'static Location<'static>) -> Option<Acquire> {
        (self.id != 0 && crate::mode::checking()).then_some(Acquire {
            trylock,
            ..Acquire::blocking(self.id, Access::Write, site)
        })
    }

    /// Before a blocking `alloc()`: validates "held → pool" (pool recursion included) and, as
    /// the kernel's `mempool_alloc()` starts with `might_alloc()`, "held → ALLOC" unless this
    /// thread is itself reclaiming.
    pub fn before_alloc(&self, site: &'static Location<'static>) {
        let Some(acq) = self.acquisition(false, site) else {
            return;
        };
        with_thread(|t| {
            if t.reentry.get() {
                return;
            }
            validate(t, &acq);
            if !in_reclaim(t) {
                might_alloc_in(t, site);
            }
        });
    }

    /// An element was taken (blocking or not): this thread holds the pool until the returned
    /// hold is released.
    pub fn hold(&self, trylock: bool, site: &'static Location<'static>) -> ElementHold {
        let Some(acq) = self.acquisition(trylock, site) else {
            return ElementHold::untracked();
        };
        with_thread(|t| {
            if t.reentry.get() {
                return ElementHold::untracked();
            }
            let instance = class_instance(self.id);
            match t.find(instance) {
                Some(i) => {
                    let count = t.get(i).count;
                    t.set_count(i, count.saturating_add(1));
                }
                None => {
                    if !commit(t, &acq, instance) {
                        return ElementHold::untracked();
                    }
                    t.pool_entries.set(t.pool_entries.get() + 1);
                }
            }
            let (owner, generation) = inbox(t);
            ElementHold {
                class: AtomicU32::new(self.id),
                owner: Some(owner),
                generation,
            }
        })
    }

    /// Reports a pool dropped with `outstanding` elements still out.
    pub fn report_outstanding(&self, outstanding: usize, site: &'static Location<'static>) {
        if self.id == 0 || !crate::mode::checking() {
            return;
        }
        with_thread(|t| {
            let Some(_in_checker) = t.enter() else {
                return;
            };
            let held = t.snapshot().iter().map(LockDesc::from).collect();
            super::store::record(ViolationData::new(
                ViolationKind::PoolDroppedWithOutstanding,
                Detail::PoolOutstanding {
                    pool: self.id,
                    outstanding,
                    site,
                },
                held,
                StackTrace::default(),
            ));
        });
    }
}

/// `ALLOC → pool`, checked like any new dependency (it may close a cycle that other pools of
/// the class, not on the reclaim path, built).
fn add_reclaim_dependency(pool: ClassId, site: &'static Location<'static>) {
    with_thread(|t| {
        let Some(_in_checker) = t.enter() else {
            return;
        };
        let alloc = alloc_class();
        let reclaim = HeldLock {
            class: alloc,
            read: Access::Write,
            trylock: false,
            count: 1,
            instance: class_instance(alloc),
            site,
            chain_key: 0,
        };
        let acq = Acquire::blocking(pool, Access::Write, site);
        if let Some(violation) = check_chain(&[reclaim], &acq) {
            super::store::record(violation);
        }
    });
}

/// This thread's hold on one element; `Send` and `Sync`, so the element can travel. The class
/// is swapped to 0 by whoever releases it first, so a release through `&self` happens once.
#[derive(Debug)]
pub struct ElementHold {
    class: AtomicU32,
    owner: Option<&'static Inbox>,
    generation: u64,
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Inbox")
    }
}

impl ElementHold {
    /// A hold that tracks nothing (checker off).
    pub fn untracked() -> ElementHold {
        ElementHold {
            class: AtomicU32::new(0),
            owner: None,
            generation: 0,
        }
    }

    /// Ends the hold, on whichever thread: the element was handed off. Idempotent.
    pub fn release(&self) {
        let class = self.class.swap(0, Ordering::AcqRel);
        self.release_class(class);
    }

    fn release_class(&self, class: ClassId) {
        let Some(owner) = self.owner else {
            return;
        };
        if class == 0 {
            return;
        }
        with_thread(|t| {
            if std::ptr::eq(t.inbox.get(), owner) && t.inbox_generation.get() == self.generation {
                release_local(t, class);
            } else {
                let mut state = owner.state.lock();
                // An older generation's thread has exited: its holds went with it.
                if state.generation == self.generation {
                    state.released.push(class);
                    owner.pending.store(true, Ordering::Release);
                }
            }
        });
    }
}

impl Drop for ElementHold {
    /// The element was returned: ends the hold unless handed off before. No atomic operation,
    /// as nothing else can see the hold any more.
    fn drop(&mut self) {
        let class = std::mem::take(self.class.get_mut());
        self.release_class(class);
    }
}

fn release_local(t: &ThreadState, class: ClassId) {
    if let Some(i) = t.find(class_instance(class)) {
        let count = t.get(i).count;
        if count > 1 {
            t.set_count(i, count - 1);
        } else {
            t.remove(i);
            t.pool_entries.set(t.pool_entries.get().saturating_sub(1));
        }
    }
}

/// Applies releases other threads posted to this thread.
pub(crate) fn drain_remote(t: &ThreadState) {
    let ptr = t.inbox.get();
    if ptr.is_null() {
        return;
    }
    // SAFETY: a non-null `inbox` came from `Box::leak`: it lives for the rest of the process.
    let inbox: &'static Inbox = unsafe { &*ptr };
    if inbox.pending.swap(false, Ordering::Acquire) {
        let released = std::mem::take(&mut inbox.state.lock().released);
        for class in released {
            release_local(t, class);
        }
    }
}

/// This thread's inbox (reused from an exited thread, or created) and its generation.
fn inbox(t: &ThreadState) -> (&'static Inbox, u64) {
    let ptr = t.inbox.get();
    if !ptr.is_null() {
        // SAFETY: a non-null `inbox` came from `Box::leak`: it lives for the rest of the process.
        return (unsafe { &*ptr }, t.inbox_generation.get());
    }
    let _in_checker = t.enter();
    let inbox = FREE_INBOXES.lock().pop().unwrap_or_else(|| {
        Box::leak(Box::new(Inbox {
            pending: AtomicBool::new(false),
            state: Mutex::new(InboxState {
                generation: 0,
                released: Vec::new(),
            }),
        }))
    });
    let generation = inbox.state.lock().generation;
    t.inbox.set(inbox);
    t.inbox_generation.set(generation);
    (inbox, generation)
}

/// Gives this thread's inbox back for reuse (thread exit): releases still in flight for this
/// thread are dropped.
pub(crate) fn drop_inbox(t: &ThreadState) {
    let ptr = t.inbox.replace(std::ptr::null());
    if ptr.is_null() {
        return;
    }
    // SAFETY: a non-null `inbox` came from `Box::leak`: it lives for the rest of the process.
    let inbox: &'static Inbox = unsafe { &*ptr };
    {
        let mut state = inbox.state.lock();
        state.generation += 1;
        state.released.clear();
    }
    inbox.pending.store(false, Ordering::Relaxed);
    FREE_INBOXES.lock().push(inbox);
}
