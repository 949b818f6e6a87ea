//! Validation of one acquisition against the thread's held locks: the fast path (chain key in
//! the thread-local cache), and the slow path (the kernel's `validate_chain`: `check_deadlock`
//! then `check_prevs_add` under the graph lock).

use std::panic::Location;

use super::chain_key;
use super::graph::{dep, AddError};
use super::held::{with_thread, Access, HeldLock, ThreadState, MAX_LOCK_DEPTH};
use super::registry::{self, ClassId, NodeKind};
use super::stack_trace::StackTrace;
use super::store;
use super::violation::{Detail, Link, LockDesc, ViolationData};
use crate::ViolationKind;

/// One acquisition of a class: a lock, a pool element or `ALLOC`.
#[derive(Clone, Copy)]
pub(crate) struct Acquire {
    pub class: ClassId,
    pub read: Access,
    pub trylock: bool,
    pub site: &'static Location<'static>,
}

impl Acquire {
    /// A blocking acquisition of `class` as `read` at `site`.
    #[inline(always)]
    pub(crate) fn blocking(
        class: ClassId,
        read: Access,
        site: &'static Location<'static>,
    ) -> Acquire {
        Acquire {
            class,
            read,
            trylock: false,
            site,
        }
    }
}

/// An acquisition validated (if it blocks) and not yet on the held stack: the real lock is
/// taken between the two steps, so that nothing the real lock does while blocking (parking_lot
/// may allocate) is attributed to the lock being waited for.
///
/// It carries this thread's state, so that [`commit`](Pending::commit), inlined into the lock
/// call, does not look the thread-local up again; the chain key computed while validating is
/// memoized in the thread's state. Not `Send` (a raw pointer to this thread's state), so it is
/// committed on the thread that prepared it.
#[must_use]
pub(crate) struct Pending {
    /// This thread's state; null when there is nothing to track.
    thread: *const ThreadState,
    acq: Acquire,
}

/// Whether a guard's acquisition is on the held stack (it is not when taken with the checker
/// off, re-entered, or past a fault).
#[derive(Debug)]
pub(crate) struct HeldToken {
    tracked: bool,
}

impl Pending {
    /// Nothing to track.
    pub(crate) const UNTRACKED: Pending = Pending {
        thread: std::ptr::null(),
        acq: Acquire {
            class: 0,
            read: Access::Write,
            trylock: false,
            site: Location::caller(),
        },
    };

    /// Validates a blocking acquisition of `acq` now (before blocking).
    #[inline]
    pub(crate) fn blocking(acq: Acquire) -> Pending {
        Pending {
            thread: validate_blocking(acq.class, acq.read, acq.site),
            acq,
        }
    }

    /// A try-acquisition that succeeded: never validated, but held from now on.
    #[inline]
    pub(crate) fn tried(acq: Acquire) -> Pending {
        Pending {
            thread: thread_unless_reentered(),
            acq: Acquire {
                trylock: true,
                ..acq
            },
        }
    }

    /// Puts the acquisition on the held stack, identified by `instance`.
    #[inline]
    pub(crate) fn commit(self, instance: usize) -> HeldToken {
        if self.thread.is_null() {
            return HeldToken { tracked: false };
        }
        // SAFETY: `thread` is this thread's state (a `Pending` is not `Send`), a thread-local
        // without destructor that lives as long as the thread.
        let t = unsafe { &*self.thread };
        HeldToken {
            tracked: !t.reentry.get() && commit(t, &self.acq, instance),
        }
    }
}

/// [`Pending::blocking`]'s work: this thread's state after validating, or null when the
/// checker is running on this thread.
///
/// Not `#[inline]`, and given scalars, not an `Acquire` in memory: compiled here, the
/// thread-local access is a plain TLS offset (inlined into the caller's crate it would go
/// through `LocalKey`'s accessor by an indirect call), and the result comes back in a register.
fn validate_blocking(
    class: ClassId,
    read: Access,
    site: &'static Location<'static>,
) -> *const ThreadState {
    with_thread(|t| {
        if t.reentry.get() {
            return std::ptr::null();
        }
        validate(t, &Acquire::blocking(class, read, site));
        t as *const ThreadState
    })
}

/// This thread's state, or null when the checker is running on this thread.
fn thread_unless_reentered() -> *const ThreadState {
    with_thread(|t| {
        if t.reentry.get() {
            std::ptr::null()
        } else {
            t as *const ThreadState
        }
    })
}

impl HeldToken {
    /// A token that releases nothing.
    pub(crate) const UNTRACKED: HeldToken = HeldToken { tracked: false };

    /// Removes `instance`'s entry from the held stack (any position: out-of-order release is
    /// normal Rust).
    #[inline]
    pub(crate) fn release(&mut self, instance: usize) {
        if std::mem::take(&mut self.tracked) {
            release_instance(instance);
        }
    }

    /// Releases `instance` for a condition-variable wait, keeping what to re-acquire after.
    pub(crate) fn suspend(&mut self, instance: usize) -> Suspended {
        if !std::mem::take(&mut self.tracked) {
            return Suspended(None);
        }
        Suspended(with_thread(|t| {
            let i = t.find(instance)?;
            let held = t.get(i);
            t.remove(i);
            Some(Acquire::blocking(held.class, held.read, held.site))
        }))
    }
}

/// Removes `instance`'s entry from this thread's held stack. Not `#[inline]`, see
/// [`Pending::blocking`].
fn release_instance(instance: usize) {
    with_thread(|t| t.release(instance));
}

/// A hold released for a condition-variable wait.
pub(crate) struct Suspended(Option<Acquire>);

impl Suspended {
    /// The lock was re-acquired after the wait: validated and held again, on top of the stack.
    pub(crate) fn resume(self, instance: usize) -> HeldToken {
        match self.0 {
            Some(acq) if crate::mode::checking() => Pending::blocking(acq).commit(instance),
            _ => HeldToken::UNTRACKED,
        }
    }
}

/// Validates `acq` against the held stack, unless this exact chain was validated before.
/// The chain key with `acq` on top is memoized for the push that follows.
#[inline]
pub(crate) fn validate(t: &ThreadState, acq: &Acquire) {
    if t.pool_entries.get() != 0 {
        super::pool::drain_remote(t);
    }
    let key = t.next_key(acq.class, acq.read);
    if !t.chain_cached(key) {
        validate_slow(t, acq, key);
    }
}

/// Pushes `acq`; false (and a fault report) when the held stack is full.
#[inline]
pub(crate) fn commit(t: &ThreadState, acq: &Acquire, instance: usize) -> bool {
    let pushed = t.push(HeldLock {
        class: acq.class,
        read: acq.read,
        trylock: acq.trylock,
        count: 1,
        instance,
        site: acq.site,
        chain_key: 0,
    });
    if !pushed {
        // By value: a reference would make the caller keep `acq` in memory on the fast path.
        depth_overflow(t, *acq);
        return false;
    }
    if !t.exit_hook.get() {
        super::exit::register_thread_exit_hook(t);
    }
    true
}

#[cold]
#[inline(never)]
fn depth_overflow(t: &ThreadState, acq: Acquire) {
    let Some(_in_checker) = t.enter() else {
        return;
    };
    let mut held: Vec<LockDesc> = t.snapshot().iter().map(LockDesc::from).collect();
    held.push(LockDesc {
        class: acq.class,
        read: acq.read,
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
fn validate_slow(t: &ThreadState, acq: &Acquire, key: u64) {
    let Some(_in_checker) = t.enter() else {
        return;
    };
    if chain_key::is_validated(key) {
        t.cache_chain(key);
        return;
    }
    let held = t.snapshot();
    let found = check_chain(&held, acq);
    if !chain_key::mark_validated(key) {
        store::fault(
            ViolationKind::TableOverflow,
            Detail::Overflow {
                what: "validated lock chains (MAX_LOCKDEP_CHAINS)",
                limit: chain_key::MAX_CHAINS,
            },
            held.iter().map(LockDesc::from).collect(),
        );
        return;
    }
    t.cache_chain(key);
    if let Some(violation) = found {
        store::record(violation);
    }
}

/// The kernel's `check_deadlock` and `check_prevs_add` for `acq` on top of `held`.
pub(crate) fn check_chain(held: &[HeldLock], acq: &Acquire) -> Option<ViolationData> {
    let trying = LockDesc {
        class: acq.class,
        read: acq.read,
        count: 1,
        site: acq.site,
    };
    let held_descs = || held.iter().map(LockDesc::from).collect::<Vec<_>>();

    // check_deadlock: the class already held, unless a recursive read on a read hold.
    let mut recursive_read = false;
    for h in held.iter().rev().filter(|h| h.class == acq.class) {
        if acq.read == Access::RecursiveRead && h.read.is_shared() {
            recursive_read = true;
            continue;
        }
        let kind = match registry::info(acq.class).kind {
            NodeKind::Pool => ViolationKind::PoolRecursion,
            _ => ViolationKind::RecursiveLock,
        };
        let detail = Detail::Recursive {
            trying,
            holding: LockDesc::from(h),
        };
        return Some(ViolationData::new(
            kind,
            detail,
            held_descs(),
            StackTrace::capture(),
        ));
    }
    if recursive_read {
        // Already holding the class for read: no new dependency (kernel: ret == 2).
        return None;
    }

    // check_prevs_add: from each held entry down to and including the first non-trylock one.
    let mut trace: Option<StackTrace> = None;
    let mut graph = super::graph_lock();
    for (i, h) in held.iter().enumerate().rev() {
        let mut capture = || trace.get_or_insert_with(StackTrace::capture).clone();
        match graph.add(h.class, h.read, acq.class, acq.read, acq.site, &mut capture) {
            Ok(_) => {}
            Err(AddError::Cycle(cycle)) => {
                let current = trace.get_or_insert_with(StackTrace::capture).clone();
                let mut ring = vec![Link {
                    from: h.class,
                    to: acq.class,
                    recursive: acq.read == Access::RecursiveRead,
                    site: acq.site,
                    trace: current.clone(),
                }];
                for pair in cycle.path.windows(2) {
                    let edge = graph.edge(pair[0], pair[1]);
                    ring.push(Link {
                        from: pair[0],
                        to: pair[1],
                        recursive: edge.is_some_and(|e| dep::into_recursive(e.deps)),
                        site: edge.map_or(acq.site, |e| e.site),
                        trace: edge.map(|e| e.trace.clone()).unwrap_or_default(),
                    });
                }
                drop(graph);
                let kind = cycle_kind(&ring);
                let detail = Detail::Cycle {
                    trying,
                    holding: LockDesc::from(h),
                    ring,
                };
                return Some(ViolationData::new(kind, detail, held_descs(), current));
            }
            Err(AddError::Full) => {
                drop(graph);
                store::fault(
                    ViolationKind::TableOverflow,
                    Detail::Overflow {
                        what: "lock dependencies (MAX_LOCKDEP_ENTRIES)",
                        limit: super::graph::MAX_EDGES,
                    },
                    held_descs(),
                );
                return None;
            }
        }
        // Entries below a blocking acquisition reach `acq` through it (they added their own
        // dependency on it) — unless it is a recursive read: a path entering a class by a
        // recursive read and leaving it while it is held shared is not strong, so the lower
        // entries need their own dependency (found by the differential test against a
        // reference without this shortcut).
        // Nor when its class is held below it: then its own acquisition was recursive (reported
        // as such, or a recursive read on a read hold) and recorded no dependency at all (once
        // the lower entry is released, `ThreadState::remove` marks it `trylock`). Found by
        // tests/differential_scopes.rs: after an AA report, later cycles through the entries
        // below were lost.
        if !h.trylock
            && h.read != Access::RecursiveRead
            && !held[..i].iter().any(|below| below.class == h.class)
        {
            break;
        }
    }
    None
}

/// A cycle through `ALLOC` and a pool is the mempool livelock; any other is a deadlock.
fn cycle_kind(ring: &[Link]) -> ViolationKind {
    let kinds: Vec<NodeKind> = ring.iter().map(|l| registry::info(l.to).kind).collect();
    if kinds.contains(&NodeKind::Alloc) && kinds.contains(&NodeKind::Pool) {
        ViolationKind::MempoolLivelock
    } else {
        ViolationKind::CircularDependency
    }
}

/// Whether `class` (any instance) is on this thread's held stack. `None` when not checking.
pub(crate) fn holds_instance(instance: usize) -> Option<bool> {
    if !crate::mode::checking() {
        return None;
    }
    Some(with_thread(|t| t.find(instance).is_some()))
}
