//! Pool classes: the hooks through which `lockdep-mempool` puts mempools in the graph.
//!
//! A pool is a class whose "hold" lasts from taking an element to returning it. Holds of one
//! pool class collapse into one held entry with a count. The hold belongs to one thread at a
//! time: the one that took the element, or the one that last adopted it
//! ([`ElementHold::adopt`]). An element may be dropped or adopted on another thread than its
//! holder: the release is then posted to the holder's inbox, which that thread drains before
//! its next validation.
//!
//! Written once for both builds: without the `enabled` feature a `PoolClass` and an
//! `ElementHold` are empty and every call does nothing.

use std::panic::Location;

#[cfg(feature = "enabled")]
use crate::checker::{
    held::with_thread,
    inbox::Inbox,
    registry::{self, ClassKey},
    stack_trace::StackTrace,
    store,
    types::{Access, ClassId, Instance, NodeKind},
    validate::{self, commit, validate, Acquisition},
    violation::{Detail, LockDesc, ViolationData},
};
#[cfg(feature = "enabled")]
use crate::ViolationKind;
#[cfg(feature = "enabled")]
use std::sync::atomic::{AtomicU32, Ordering};

#[cfg(feature = "enabled")]
use super::alloc::{in_reclaim, might_alloc_in};

/// Runs `park`, a wait on or a wake-up of a pool's internal lock or condition variable, as
/// the checker's own work: parking and unparking allocate (the parking table, when the
/// process's first park or unpark creates it or a new thread grows it), and that is not the
/// user's allocation, so it must not be charged to what the thread holds.
#[inline]
pub fn parking<R>(park: impl FnOnce() -> R) -> R {
    super::lock_map::contended(park)
}

/// The class of a mempool.
#[derive(Clone, Copy, Debug)]
pub struct PoolClass {
    /// 0 when the pool is not tracked (the class table was full).
    #[cfg(feature = "enabled")]
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
        #[cfg(feature = "enabled")]
        {
            let id = with_thread(|t| {
                // Registration allocates: a `TrackingAllocator` must not come back in here.
                let _in_checker = t.enter();
                match name {
                    Some(name) => registry::register(
                        ClassKey::Named(name.to_owned(), NodeKind::Pool),
                        NodeKind::Pool,
                        Some(site),
                        || name.to_owned(),
                    ),
                    None => registry::site_class(site, NodeKind::Pool, ""),
                }
            });
            let Some(id) = id else {
                store::class_table_full();
                return PoolClass { id: 0 };
            };
            // Added whatever the mode: the graph must know it if checking is turned on later.
            if reclaim_path && !crate::mode::faulted() {
                let alloc = registry::alloc_class();
                validate::add_dependency(
                    alloc,
                    Acquisition::blocking(id, Access::Write, site, Instance::class(id)),
                );
            }
            PoolClass { id }
        }
        #[cfg(not(feature = "enabled"))]
        {
            let _ = (name, site, reclaim_path);
            PoolClass {}
        }
    }

    /// The class's printed name (empty when the checker is compiled out).
    pub fn name(&self) -> &'static str {
        #[cfg(feature = "enabled")]
        if self.id != 0 {
            return registry::info(self.id).name;
        }
        "<untracked pool>"
    }

    /// Before a blocking `alloc()`: validates "held → pool" (pool recursion included) and, as
    /// the kernel's `mempool_alloc()` starts with `might_alloc()`, "held → ALLOC" unless this
    /// thread is itself reclaiming.
    #[inline]
    pub fn before_alloc(&self, site: &'static Location<'static>) {
        #[cfg(feature = "enabled")]
        if let Some(acq) = self.acquisition(false, site) {
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
        #[cfg(not(feature = "enabled"))]
        let _ = site;
    }

    /// An element was taken (blocking or not): this thread holds the pool until the returned
    /// hold is released.
    #[inline]
    pub fn hold(&self, trylock: bool, site: &'static Location<'static>) -> ElementHold {
        #[cfg(feature = "enabled")]
        {
            let Some(acq) = self.acquisition(trylock, site) else {
                return ElementHold::untracked();
            };
            with_thread(|t| {
                if t.reentry.get() {
                    return ElementHold::untracked();
                }
                t.sync_epoch();
                if !t.add_pool_hold(self.id) {
                    if !commit(t, &acq) {
                        return ElementHold::untracked();
                    }
                    t.pool_entries.set(t.pool_entries.get() + 1);
                }
                let (owner, generation) = match t.inbox.get() {
                    Some(inbox) => (inbox, t.inbox_generation.get()),
                    None => {
                        let _in_checker = t.enter();
                        let (inbox, generation) = Inbox::open();
                        t.inbox.set(Some(inbox));
                        t.inbox_generation.set(generation);
                        (inbox, generation)
                    }
                };
                ElementHold {
                    class: AtomicU32::new(self.id),
                    owner: Some(owner),
                    generation,
                }
            })
        }
        #[cfg(not(feature = "enabled"))]
        {
            let _ = (trylock, site);
            ElementHold {}
        }
    }

    /// Reports a pool dropped with `outstanding` elements still out.
    pub fn report_outstanding(&self, outstanding: usize, site: &'static Location<'static>) {
        #[cfg(feature = "enabled")]
        if self.id != 0 && crate::mode::is_checking() {
            with_thread(|t| {
                let Some(_in_checker) = t.enter() else {
                    return;
                };
                let held = t.snapshot().iter().map(LockDesc::from).collect();
                store::record(ViolationData::new(
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
        #[cfg(not(feature = "enabled"))]
        let _ = (outstanding, site);
    }
}

#[cfg(feature = "enabled")]
impl PoolClass {
    fn acquisition(&self, trylock: bool, site: &'static Location<'static>) -> Option<Acquisition> {
        (self.id != 0 && crate::mode::is_checking()).then_some(Acquisition {
            trylock,
            ..Acquisition::blocking(self.id, Access::Write, site, Instance::class(self.id))
        })
    }
}

/// The hold on one element by the thread that took or adopted it; `Send` and `Sync`, so the
/// element can travel. The class is swapped to 0 by whoever releases it first, so a release
/// through `&self` happens once; `owner` and `generation` change only through `&mut self`
/// (adoption), when no other thread can see the hold.
#[derive(Debug)]
pub struct ElementHold {
    #[cfg(feature = "enabled")]
    class: AtomicU32,
    #[cfg(feature = "enabled")]
    owner: Option<&'static Inbox>,
    #[cfg(feature = "enabled")]
    generation: u64,
}

impl ElementHold {
    /// A hold that tracks nothing (checker off).
    pub fn untracked() -> ElementHold {
        ElementHold {
            #[cfg(feature = "enabled")]
            class: AtomicU32::new(0),
            #[cfg(feature = "enabled")]
            owner: None,
            #[cfg(feature = "enabled")]
            generation: 0,
        }
    }

    /// Ends the hold, on whichever thread: the element was handed off. Idempotent.
    #[inline]
    pub fn release(&self) {
        #[cfg(feature = "enabled")]
        self.release_class(self.class.swap(0, Ordering::AcqRel));
    }

    /// Makes this thread the holder of an element of the pool `class`: the element was
    /// received by the thread that will use it.
    ///
    /// The previous holder's hold, if any, ends as if the element had been dropped there (on
    /// another thread: posted to that thread's inbox). This thread then holds the class as a
    /// try-acquisition at `site`: receiving an element never blocks, so it records no
    /// dependency into the pool, while what this thread blocks on or allocates afterwards
    /// records `pool → …`. Nothing happens when this thread holds the element already, or
    /// (beyond ending the old hold) when the class is untracked or checking is off.
    #[inline]
    pub fn adopt(&mut self, class: &PoolClass, site: &'static Location<'static>) {
        #[cfg(feature = "enabled")]
        if !self.held_here() {
            self.adopt_slow(class, site);
        }
        #[cfg(not(feature = "enabled"))]
        let _ = (class, site);
    }
}

#[cfg(feature = "enabled")]
impl ElementHold {
    /// True when the hold is live and belongs to this thread (its inbox, in the generation
    /// this thread owns). Adopting is then a no-op: releasing and taking the hold again would
    /// keep the count right but move the thread's pool entry to the top of its stack as a
    /// try-acquisition, changing which held locks get the dependencies of later acquisitions.
    #[inline]
    fn held_here(&self) -> bool {
        let Some(owner) = self.owner else {
            return false;
        };
        if self.class.load(Ordering::Relaxed) == 0 {
            return false;
        }
        with_thread(|t| {
            t.inbox
                .get()
                .is_some_and(|inbox| std::ptr::eq(inbox, owner))
                && t.inbox_generation.get() == self.generation
        })
    }

    #[cold]
    #[inline(never)]
    fn adopt_slow(&mut self, class: &PoolClass, site: &'static Location<'static>) {
        // The old hold ends before the new one starts: when both are of this thread (a stale
        // generation of its own inbox), the post is dropped and the new hold stands alone.
        let old = std::mem::take(self.class.get_mut());
        self.release_class(old);
        // The replaced hold was released above: its drop sees class 0 and does nothing.
        *self = class.hold(true, site);
    }

    fn release_class(&self, class: ClassId) {
        let Some(owner) = self.owner else {
            return;
        };
        if class == 0 {
            return;
        }
        with_thread(|t| {
            let own = t
                .inbox
                .get()
                .is_some_and(|inbox| std::ptr::eq(inbox, owner));
            if own && t.inbox_generation.get() == self.generation {
                t.release_pool_hold(class);
            } else {
                // Posting allocates: as the checker's own work, or a `TrackingAllocator`
                // would validate (and drain this thread's inbox) under the owner's inbox lock.
                let _in_checker = t.enter();
                owner.post(self.generation, class);
            }
        });
    }
}

impl Drop for ElementHold {
    /// The element was returned: ends the hold unless handed off before. No atomic operation,
    /// as nothing else can see the hold any more.
    #[inline]
    fn drop(&mut self) {
        #[cfg(feature = "enabled")]
        {
            let class = std::mem::take(self.class.get_mut());
            self.release_class(class);
        }
    }
}
