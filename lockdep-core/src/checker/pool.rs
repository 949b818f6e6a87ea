//! Pool classes: the hooks through which `lockdep-mempool` puts mempools in the graph.
//!
//! A pool is a class whose "hold" lasts from taking an element to returning it. Holds of one
//! pool class collapse into one held entry with a count. An element may be dropped on another
//! thread: the release is then posted to the allocating thread's inbox, which that thread
//! drains before its next validation.

use parking_lot::Mutex;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use super::alloc::{class_instance, in_reclaim, might_alloc_in};
use super::held::{with_thread, Access, HeldLock, ThreadState};
use super::registry::{self, alloc_class, ClassId, ClassKey, NodeKind, NodeKindKey};
use super::stack_trace::StackTrace;
use super::validator::{check_chain, commit, validate, Acquire};
use super::violation::{Detail, LockDesc, ViolationData};
use crate::ViolationKind;

/// Releases posted to a thread by other threads.
#[derive(Default)]
pub struct Inbox {
    pending: AtomicBool,
    released: Mutex<Vec<ClassId>>,
}

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
            class: self.id,
            read: Access::Write,
            trylock,
            site,
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
            ElementHold {
                class: AtomicU32::new(self.id),
                owner: Some(inbox(t)),
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
        let acq = Acquire {
            class: pool,
            read: Access::Write,
            trylock: false,
            site,
        };
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
    owner: Option<Arc<Inbox>>,
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
        }
    }

    /// Ends the hold, on whichever thread: the element was returned or handed off.
    /// Idempotent.
    pub fn release(&self) {
        let class = self.class.swap(0, Ordering::AcqRel);
        let Some(owner) = &self.owner else {
            return;
        };
        if class == 0 {
            return;
        }
        with_thread(|t| {
            if std::ptr::eq(t.inbox.get(), Arc::as_ptr(owner)) {
                release_local(t, class);
            } else {
                owner.released.lock().push(class);
                owner.pending.store(true, Ordering::Release);
            }
        });
    }
}

impl Drop for ElementHold {
    fn drop(&mut self) {
        self.release();
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
    // SAFETY: a non-null `inbox` is an `Arc::into_raw` this thread owns until `drop_inbox`.
    let inbox = unsafe { &*ptr };
    if inbox.pending.swap(false, Ordering::Acquire) {
        let released = std::mem::take(&mut *inbox.released.lock());
        for class in released {
            release_local(t, class);
        }
    }
}

/// This thread's inbox, created on first use.
fn inbox(t: &ThreadState) -> Arc<Inbox> {
    let mut ptr = t.inbox.get();
    if ptr.is_null() {
        let _in_checker = t.enter();
        ptr = Arc::into_raw(Arc::new(Inbox::default()));
        t.inbox.set(ptr);
    }
    // SAFETY: `ptr` came from `Arc::into_raw` and this thread still owns that reference, so
    // the count is at least one while we add ours.
    unsafe {
        Arc::increment_strong_count(ptr);
        Arc::from_raw(ptr)
    }
}

/// Drops this thread's reference to its inbox (thread exit).
pub(crate) fn drop_inbox(t: &ThreadState) {
    let ptr = t.inbox.replace(std::ptr::null());
    if !ptr.is_null() {
        // SAFETY: the reference `inbox` leaked with `Arc::into_raw`, given back exactly once.
        drop(unsafe { Arc::from_raw(ptr) });
    }
}
