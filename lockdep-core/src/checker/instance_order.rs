//! The order among the locks of one class.
//!
//! Rust programs nest locks of one class all the time, and nearly always in one consistent
//! order: every shard of a map in index order, a list walked hand over hand, two fields of a
//! struct made by one `#[derive(Default)]`. Those cannot deadlock against each other. Two
//! locks of one class taken in opposite orders can (a bank `transfer(from, to)` that locks
//! `from`, then `to`). The kernel cannot tell these apart, reports them all as recursive
//! locking and asks for `lock_nested` / `nest_lock` annotations; we order the locks
//! themselves.
//!
//! A nested acquisition of a lock of a class already held records no dependency at the class
//! level (a class never depends on itself) but the dependency `held lock → new lock` between
//! the two locks, from the nearest held lock of the class (the ones below it reach the new
//! lock through it). A cycle among the locks of a class is a possible deadlock, reported the
//! first time it closes, whichever threads contributed its dependencies.
//!
//! Locks are named by address, so a lock leaves the order when it is dropped: the address may
//! next hold an unrelated lock of the same class.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet, VecDeque};
use std::panic::Location;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;

use once_cell::sync::Lazy;

use super::stack_trace::StackTrace;
use super::types::{lock, Instance};

/// The most dependencies between locks of one class kept at once (as `MAX_EDGES` for
/// classes): beyond it, nested locks of one class are no longer ordered, and a fault says so.
pub(crate) const MAX_INSTANCE_EDGES: usize = 1 << 20;

/// Where and how the dependency `from → to` between two locks was first seen.
#[derive(Clone)]
pub(crate) struct InstanceEdge {
    /// Where `to` was acquired.
    pub(crate) site: &'static Location<'static>,
    pub(crate) trace: StackTrace,
}

/// What adding a dependency between two locks did.
pub(crate) enum Ordered {
    /// Recorded before.
    Known,
    /// Recorded; it closes no cycle.
    New,
    /// Recorded, and it closes a cycle: the dependencies of the path back from the new lock to
    /// the held one, in order.
    Cycle(Vec<InstanceEdge>),
    /// The table is full: nothing was recorded.
    Full,
}

#[derive(Default)]
struct InstanceOrder {
    out: HashMap<Instance, Vec<Instance>>,
    inn: HashMap<Instance, Vec<Instance>>,
    edges: HashMap<(Instance, Instance), InstanceEdge>,
}

static ORDER: Lazy<Mutex<InstanceOrder>> = Lazy::new(Default::default);

/// The number of dependencies in the order: a lock's drop looks the order up only when it is
/// not empty, so that programs that never nest a class pay one relaxed load per drop.
static EDGES: AtomicUsize = AtomicUsize::new(0);

/// Bumped whenever a lock with dependencies leaves the order: its address may next hold
/// another lock, which a memo naming the address must not be taken for (see [`memo_key`]).
static FORGOTTEN: AtomicU64 = AtomicU64::new(0);

/// What a lock's memo holds when the dependency from the lock at `held` to it is in the
/// order: the address and the number of locks forgotten so far, mixed (a memo made before a
/// lock at that address was forgotten no longer matches; a memo compares 63 bits of it, and
/// two mixes coincide 1 in 2^63).
/// Locks keep it so that a lock nested again under the same lock of its class (a list walked
/// hand over hand, shards locked in order) is known without the order's lock.
#[inline(always)]
pub(crate) fn memo_key(held: Instance) -> u64 {
    let forgotten = crate::thin::load_u64(&FORGOTTEN, Relaxed);
    (held.addr() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ forgotten.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ 1
}

/// Records `from → to` (`from` held, `to` acquired, two locks of one class) at `site`;
/// `trace` is called only for a new dependency.
pub(crate) fn add(
    from: Instance,
    to: Instance,
    site: &'static Location<'static>,
    trace: &mut dyn FnMut() -> StackTrace,
) -> Ordered {
    let mut order = lock(&ORDER);
    if order.edges.contains_key(&(from, to)) {
        return Ordered::Known;
    }
    if order.edges.len() >= MAX_INSTANCE_EDGES {
        return Ordered::Full;
    }
    let back = order.path(to, from);
    order.edges.insert(
        (from, to),
        InstanceEdge {
            site,
            trace: trace(),
        },
    );
    order.out.entry(from).or_default().push(to);
    order.inn.entry(to).or_default().push(from);
    EDGES.store(order.edges.len(), Relaxed);
    match back {
        None => Ordered::New,
        Some(path) => Ordered::Cycle(
            path.windows(2)
                .map(|pair| order.edges[&(pair[0], pair[1])].clone())
                .collect(),
        ),
    }
}

/// The lock at `instance` is gone: it leaves the order.
#[inline]
pub(crate) fn forget(instance: Instance) {
    if EDGES.load(Relaxed) != 0 {
        forget_slow(instance);
    }
}

#[cold]
fn forget_slow(instance: Instance) {
    let mut order = lock(&ORDER);
    if order.out.contains_key(&instance) || order.inn.contains_key(&instance) {
        FORGOTTEN.fetch_add(1, Relaxed);
    }
    for to in order.out.remove(&instance).unwrap_or_default() {
        order.edges.remove(&(instance, to));
        order.unlink(Side::In, to, instance);
    }
    for from in order.inn.remove(&instance).unwrap_or_default() {
        order.edges.remove(&(from, instance));
        order.unlink(Side::Out, from, instance);
    }
    EDGES.store(order.edges.len(), Relaxed);
}

/// Which adjacency of a lock.
#[derive(Clone, Copy)]
enum Side {
    Out,
    In,
}

impl InstanceOrder {
    /// Removes `gone` from `at`'s `side` neighbours.
    fn unlink(&mut self, side: Side, at: Instance, gone: Instance) {
        let map = match side {
            Side::Out => &mut self.out,
            Side::In => &mut self.inn,
        };
        if let Entry::Occupied(mut e) = map.entry(at) {
            e.get_mut().retain(|&i| i != gone);
            if e.get().is_empty() {
                e.remove();
            }
        }
    }

    /// A shortest path of dependencies from `start` to `goal`, as the locks on it (both ends
    /// included); `None` if `goal` is unreachable.
    fn path(&self, start: Instance, goal: Instance) -> Option<Vec<Instance>> {
        let mut parent: HashMap<Instance, Instance> = HashMap::new();
        let mut seen: HashSet<Instance> = HashSet::from([start]);
        let mut queue = VecDeque::from([start]);
        while let Some(at) = queue.pop_front() {
            if at == goal {
                let mut path = vec![goal];
                let mut i = goal;
                while let Some(&p) = parent.get(&i) {
                    path.push(p);
                    i = p;
                }
                path.reverse();
                return Some(path);
            }
            for &next in self.out.get(&at).into_iter().flatten() {
                if seen.insert(next) {
                    parent.insert(next, at);
                    queue.push_back(next);
                }
            }
        }
        None
    }
}
