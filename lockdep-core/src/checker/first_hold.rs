//! Locks in their first hold (`book/src/rules.md`, "a lock taken before anyone else can see
//! it"): a lock first taken while its thread held another lock exclusively may have been made
//! and published under that lock (a registry's write lock), when nobody else could reach it,
//! and nobody waits for a lock nobody else can reach. The dependencies into it made then are
//! held back here, with the lock, until its next acquisition settles them: by the same thread
//! (which kept it), or by another thread that had taken none of the classes held then (it
//! reached the lock some other way), they count; by another thread that had taken one of them
//! (it may have found the lock through it), they are dropped.
//!
//! A lock is settled at its second acquisition, or at its first when nothing is held back: the
//! lock keeps where it is in a [`FirstHold`] beside the raw lock (`hook::checked`), changed
//! only here, under the records' lock, and a settled lock never comes here again.
//!
//! One thread that takes both orders cannot tell whether the lock was private: a dependency
//! held back counts as soon as the thread that made it closes a cycle through it while no
//! other thread has taken the held class (the kernel's verdict, at the moment the kernel would
//! give it), and at process exit (for the report file) in the same case. Each held-back
//! dependency is kept once per pair of classes for that: [`mine_alone`], and [`alone_at_exit`].

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::panic::Location;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
use std::sync::Mutex;

use once_cell::sync::Lazy;

use super::fast_hash::FastHash;
use super::stack_trace::StackTrace;
use super::types::{lock, tid, Access, ClassId, Instance};

/// A dependency into a lock, made at the lock's first acquisition, held back.
#[derive(Clone)]
pub(crate) struct Provisional {
    /// The class held (exclusively), and where it was taken.
    pub(crate) from: ClassId,
    pub(crate) held_site: &'static Location<'static>,
    /// The lock's class, how and where it was first acquired, and the stack then.
    pub(crate) to: ClassId,
    pub(crate) acquired: Access,
    pub(crate) site: &'static Location<'static>,
    pub(crate) trace: StackTrace,
}

/// A lock in its first hold: which thread took it, and the dependencies held back.
struct Record {
    holder: u64,
    held_back: Vec<Provisional>,
}

/// The locks in their first hold, by instance. Taken only on a lock's first two acquisitions,
/// and on the slow path's look at a held stack with such a lock on it; inside the graph's lock
/// when both are taken.
static RECORDS: Lazy<Mutex<HashMap<Instance, Record, FastHash>>> = Lazy::new(Default::default);

/// A dependency held back per pair of classes (held, acquired), with the thread that made it.
type ByPair = HashMap<(ClassId, ClassId), (Provisional, u64), FastHash>;

/// Per class, the thread that first acquired it, and whether another one has since.
type Acquirers = HashMap<ClassId, (u64, bool), FastHash>;

/// One dependency held back per pair of classes (held, acquired), with the thread that made
/// it: the ones [`mine_alone`] looks at. Taken inside the graph's lock.
static PAIRS: Lazy<Mutex<ByPair>> = Lazy::new(Default::default);

/// Which thread first acquired each class, and whether another one has since.
static ACQUIRERS: Lazy<Mutex<Acquirers>> = Lazy::new(Default::default);

thread_local! {
    /// The lock this thread is acquiring for the first time, `Instance::NONE` when none: its
    /// validation holds the dependencies into it back.
    static FIRST: Cell<Instance> = const { Cell::new(Instance::NONE) };
    /// The classes this thread has acquired (blocking, so validated): a lock first held under
    /// one of them may have been found through it.
    static ACQUIRED: RefCell<HashSet<ClassId, FastHash>> = RefCell::new(HashSet::default());
    /// The pairs of classes of the dependencies this thread held back first (in `PAIRS`):
    /// the ones it may close a cycle through alone.
    static MADE: RefCell<Vec<Made>> = const { RefCell::new(Vec::new()) };
    /// The graph's version when [`mine_alone`] last found none of this thread's pairs to
    /// count (`u64::MAX`: not yet).
    static LOOKED_ALL: Cell<u64> = const { Cell::new(u64::MAX) };
}

/// A pair of classes this thread held a dependency back for first, and the graph's version
/// when [`mine_alone`] last found it not to count (`None`: not looked at yet).
struct Made {
    from: ClassId,
    to: ClassId,
    looked: Option<u64>,
}

/// What [`mine_alone`] asks of the graph about the dependencies held back.
pub(crate) trait Verdicts {
    /// The graph's version now.
    fn version(&self) -> u64;
    /// Whether `class` changed since the graph's version was `version`: a dependency from or
    /// to a class that did not change closes no cycle that it did not close then.
    fn changed_since(&self, class: ClassId, version: u64) -> bool;
    /// Whether `d` would close a new cycle now.
    fn closes(&mut self, d: &Provisional) -> bool;
}

/// Where a lock is in its first hold, kept in the lock: a lock never taken, one whose first
/// hold held dependencies back (there is a record of it here), or a settled one (one load of
/// this per acquisition).
#[derive(Debug)]
pub(crate) struct FirstHold(AtomicU8);

/// Never acquired (checked).
const NEW: u8 = 0;
/// First held, with dependencies held back in [`RECORDS`].
const PENDING: u8 = 1;
/// Settled: its acquisitions are like any other.
const SETTLED: u8 = 2;

impl FirstHold {
    /// A lock not yet acquired.
    #[inline]
    pub(crate) const fn new() -> FirstHold {
        FirstHold(AtomicU8::new(NEW))
    }

    /// Whether the lock is settled (a relaxed load: at worst a stale value sends an
    /// acquisition to [`acquire`], which looks again under the records' lock).
    #[inline(always)]
    pub(crate) fn is_settled(&self) -> bool {
        crate::thin::load_u8(&self.0, Relaxed) == SETTLED
    }

    /// Whether dependencies are held back with the lock, which is being dropped.
    #[inline]
    pub(crate) fn is_pending(&mut self) -> bool {
        *self.0.get_mut() == PENDING
    }

    /// The lock is settled from now on (checking is off: its first hold is not looked at).
    /// What it held back is dropped after the records' lock is released: a deallocation may
    /// come back to the checker.
    pub(crate) fn settle(&self, instance: Instance) {
        let mut records = lock(&RECORDS);
        let gone = match self.0.swap(SETTLED, Relaxed) {
            PENDING => records.remove(&instance),
            _ => None,
        };
        drop(records);
        drop(gone);
    }

    /// A lock never acquired is settled from now on (it is acquired inside the checker's
    /// own work, which must not take the records' lock): it holds nothing back.
    pub(crate) fn settle_new(&self) {
        let _ = self.0.compare_exchange(NEW, SETTLED, Relaxed, Relaxed);
    }
}

/// What the acquisition of a lock not yet settled is.
pub(crate) enum Acquired {
    /// Its first, by this thread while it holds something: the dependencies into the lock that
    /// its validation holds back are kept until [`end`] says whether there are any.
    First,
    /// The one that settles it: these dependencies made at its first acquisition count now
    /// (all of them or none; `by_holder` when this thread is the one that first took it).
    Settles {
        counted: Vec<Provisional>,
        by_holder: bool,
    },
    /// Settled now (its first, with nothing that could be held back; one moved since its
    /// first hold, whose record is at its old address) or meanwhile, with nothing to count.
    Nothing,
}

/// An acquisition (blocking, or a try: `blocking`) of the lock `instance`, not settled when
/// its `state` was loaded, by this thread, which holds something if `holds_any`.
pub(crate) fn acquire(
    instance: Instance,
    state: &FirstHold,
    blocking: bool,
    holds_any: bool,
) -> Acquired {
    let me = tid();
    let mut records = lock(&RECORDS);
    match state.0.load(Relaxed) {
        NEW => {
            // A record at this address is a lock's that was moved away in its first hold: this
            // lock never made one.
            records.remove(&instance);
            if !blocking || !holds_any {
                state.0.store(SETTLED, Relaxed);
                return Acquired::Nothing;
            }
            state.0.store(PENDING, Relaxed);
            records.insert(
                instance,
                Record {
                    holder: me,
                    held_back: Vec::new(),
                },
            );
            FIRST.with(|f| f.set(instance));
            Acquired::First
        }
        PENDING => {
            state.0.store(SETTLED, Relaxed);
            // A first acquisition that never ended (it panicked) is over.
            FIRST.with(|f| {
                if f.get() == instance {
                    f.set(Instance::NONE);
                }
            });
            // None: the lock was moved since its first hold.
            let Some(record) = records.remove(&instance) else {
                return Acquired::Nothing;
            };
            drop(records);
            let by_holder = record.holder == me;
            // Through one of the locks held when it was first taken, this thread may have
            // found it, published under it: then it was private when first taken.
            let found_through =
                !by_holder && record.held_back.iter().any(|d| acquired_before(d.from));
            let counted = if found_through {
                Vec::new()
            } else {
                record.held_back
            };
            Acquired::Settles { counted, by_holder }
        }
        _ => Acquired::Nothing,
    }
}

/// The end of the first acquisition of `instance` ([`Acquired::First`]), whose `state` says
/// whether it is settled: settled now when nothing was held back.
pub(crate) fn end(instance: Instance, state: &FirstHold) {
    FIRST.with(|f| f.set(Instance::NONE));
    let mut records = lock(&RECORDS);
    // No record: another thread settled the lock meanwhile (a shared first hold).
    if records
        .get(&instance)
        .is_some_and(|record| record.held_back.is_empty())
    {
        records.remove(&instance);
        state.0.store(SETTLED, Relaxed);
    }
}

/// Whether `instance` is the lock this thread is acquiring for the first time.
#[inline]
pub(crate) fn is_first(instance: Instance) -> bool {
    instance != Instance::NONE && FIRST.with(|f| f.get()) == instance
}

/// Holds `deps` back with the lock `instance`, in its first acquisition by this thread; gives
/// them back when the lock was settled meanwhile (another thread took it while this one was
/// validating: they count).
pub(crate) fn hold_back(
    instance: Instance,
    deps: Vec<Provisional>,
) -> Result<(), Vec<Provisional>> {
    let me = tid();
    match lock(&RECORDS).get_mut(&instance) {
        Some(record) if record.holder == me => {
            let mut pairs = lock(&PAIRS);
            for d in &deps {
                pairs.entry((d.from, d.to)).or_insert_with(|| {
                    let _ = MADE.try_with(|made| {
                        made.borrow_mut().push(Made {
                            from: d.from,
                            to: d.to,
                            looked: None,
                        })
                    });
                    (d.clone(), me)
                });
            }
            record.held_back.extend(deps);
            Ok(())
        }
        _ => Err(deps),
    }
}

/// Whether the dependency `kept` held back (with the thread that made it) has a held class
/// that no thread but that one has acquired.
fn is_alone(acquirers: &Acquirers, (d, maker): &(Provisional, u64)) -> bool {
    acquirers
        .get(&d.from)
        .is_none_or(|&(first, many)| first == *maker && !many)
}

/// The dependencies this thread held back whose held class no other thread has acquired, and
/// which would close a cycle in `graph` now: they are kept no more, and given. A pair found
/// not to count is asked again only once one of its classes changed in the graph (or it
/// counts through another thread meanwhile, [`counted`]): that is what keeps this cheap after
/// every new dependency.
pub(crate) fn mine_alone(graph: &mut impl Verdicts) -> Vec<Provisional> {
    let Ok(mut made) = MADE.try_with(|made| std::mem::take(&mut *made.borrow_mut())) else {
        return Vec::new();
    };
    let mut counted = Vec::new();
    if !made.is_empty() {
        let mut pairs = lock(&PAIRS);
        let acquirers = lock(&ACQUIRERS);
        let start = graph.version();
        let look = |m: &mut Made| {
            let unchanged = |v| !graph.changed_since(m.from, v) && !graph.changed_since(m.to, v);
            if m.looked.is_some_and(unchanged) {
                return true;
            }
            let pair = (m.from, m.to);
            // Gone: it counted through another acquisition.
            let Some(kept) = pairs.get(&pair) else {
                return false;
            };
            if is_alone(&acquirers, kept) && graph.closes(&kept.0) {
                counted.extend(pairs.remove(&pair).map(|(d, _)| d));
                return false;
            }
            m.looked = Some(graph.version());
            true
        };
        // The graph as it was when all were last looked at: only the new ones (the pairs
        // made since, at the end) need a look.
        if LOOKED_ALL.get() == start {
            let first_new = made
                .iter()
                .rposition(|m| m.looked.is_some())
                .map_or(0, |i| i + 1);
            let mut new = made.split_off(first_new);
            new.retain_mut(look);
            made.append(&mut new);
        } else {
            made.retain_mut(look);
        }
        // Unless a question moved the order meanwhile (an answer given before may be about a
        // class it moved).
        if graph.version() == start {
            LOOKED_ALL.set(start);
        }
    }
    let _ = MADE.try_with(|kept| {
        let mut kept = kept.borrow_mut();
        made.append(&mut kept);
        *kept = made;
    });
    counted
}

/// The dependencies held back by any thread whose held class no other thread has acquired,
/// at process exit: they are kept no more, and given.
pub(crate) fn alone_at_exit() -> Vec<Provisional> {
    let mut pairs = lock(&PAIRS);
    let acquirers = lock(&ACQUIRERS);
    let alone: Vec<(ClassId, ClassId)> = pairs
        .iter()
        .filter(|(_, kept)| is_alone(&acquirers, kept))
        .map(|(&pair, _)| pair)
        .collect();
    alone
        .into_iter()
        .filter_map(|pair| pairs.remove(&pair).map(|(d, _)| d))
        .collect()
}

/// The stack kept with the dependency held back from `from` into `to` acquired at `site`, if
/// one is kept.
pub(crate) fn kept_trace(
    from: ClassId,
    to: ClassId,
    site: &'static Location<'static>,
) -> Option<StackTrace> {
    lock(&PAIRS)
        .get(&(from, to))
        .filter(|(d, _)| std::ptr::eq(d.site, site))
        .map(|(d, _)| d.trace.clone())
}

/// The pair of classes of a dependency that counts now, from wherever: kept no more.
pub(crate) fn counted(from: ClassId, to: ClassId) {
    lock(&PAIRS).remove(&(from, to));
    let _ = MADE.try_with(|made| made.borrow_mut().retain(|m| (m.from, m.to) != (from, to)));
}

/// Whether the lock `instance` is held back in its first hold by this thread: the entries
/// below it on the held stack do not reach later acquisitions through it.
pub(crate) fn holds_back(instance: Instance) -> bool {
    lock(&RECORDS)
        .get(&instance)
        .is_some_and(|record| record.holder == tid() && !record.held_back.is_empty())
}

/// The lock `instance` is gone: what was held back with it goes too (it was held once, by one
/// thread, and by nobody else).
pub(crate) fn forget(instance: Instance) {
    // Dropped after the records' lock is released: a deallocation may come back here.
    let gone = lock(&RECORDS).remove(&instance);
    drop(gone);
}

/// This thread acquires (blocking) a lock of `class`. The caller has entered the checker.
pub(crate) fn note_acquired(class: ClassId) {
    // During thread-local teardown there is nothing left to settle for this thread.
    let first_time = ACQUIRED
        .try_with(|acquired| acquired.borrow_mut().insert(class))
        .unwrap_or(false);
    if first_time {
        let me = tid();
        let mut acquirers = lock(&ACQUIRERS);
        let (first, many) = acquirers.entry(class).or_insert((me, false));
        *many |= *first != me;
    }
}

/// Whether this thread has acquired a lock of `class` (blocking) before.
fn acquired_before(class: ClassId) -> bool {
    ACQUIRED
        .try_with(|acquired| acquired.borrow().contains(&class))
        .unwrap_or(false)
}
