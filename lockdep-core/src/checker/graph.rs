//! The dependency graph over classes, with cycle detection in the kernel's read/write-aware
//! sense.
//!
//! # Strong paths as plain reachability
//!
//! Kernel lockdep (since 5.10) reports a cycle only if it is a *strong* path: no class on it is
//! entered by a recursive-read acquisition (`-(?R)->`) and left while held shared (`-(S?)->`).
//! We turn that into plain reachability by splitting every class `X` into two nodes: `X.N`
//! (entered by a non-recursive acquisition) and `X.R` (entered by a recursive read). A
//! dependency `X -(a b)-> Y` becomes edges into `Y.b` from `X.N`, and also from `X.R` when
//! `a = E` (held exclusively). A path in the split graph is exactly a strong path of classes,
//! and a cycle in it exactly a closed strong path, i.e. a possible deadlock.
//!
//! # Incremental topological order
//!
//! The split graph is kept acyclic (an edge that would close a cycle is reported and not
//! added), with a topological order maintained incrementally, after Pearce–Kelly: adding an
//! edge that agrees with the order costs O(1); otherwise only the region of the order between
//! the two ends is searched, forward from the head and backward from the tail *in turns*, and
//! the side that completes first (the smaller) is moved past the other end into a gap of the
//! order's keys. Searching in turns matters because of hubs: `ALLOC` reaches every pool and
//! every lock taken in reclaim, and a new lock held while allocating must not cost a walk over
//! all of that. That keeps new dependencies cheap on graphs of 100,000 edges, where the kernel's
//! full BFS per new dependency would be quadratic.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::panic::Location;
use std::sync::{Mutex, MutexGuard};

use once_cell::sync::Lazy;

use super::stack_trace::StackTrace;
use super::types::{lock as lock_internal, Access, ClassId};

/// The kernel's `MAX_LOCKDEP_ENTRIES` analogue (dependencies between classes).
pub(crate) const MAX_EDGES: usize = 1 << 20;

/// Dependency type bits, as the kernel's `DEP_*_BIT`: how the first class was held (E/S) and
/// how the second was acquired (R = recursive read, N = anything else).
pub(crate) mod dep {
    use super::Access;

    pub(crate) const SR: u8 = 1 << 0;
    pub(crate) const ER: u8 = 1 << 1;
    pub(crate) const SN: u8 = 1 << 2;
    pub(crate) const EN: u8 = 1 << 3;

    /// The dependency type of "`prev` held as `held`, then `next` acquired as `acquired`".
    pub(crate) fn of(held: Access, acquired: Access) -> u8 {
        match (held.is_shared(), acquired == Access::RecursiveRead) {
            (true, true) => SR,
            (false, true) => ER,
            (true, false) => SN,
            (false, false) => EN,
        }
    }

    /// `-(?R)->`: the second class was acquired as a recursive read.
    pub(crate) fn into_recursive(bits: u8) -> bool {
        bits & (SR | ER) != 0
    }

    /// Names, for JSON and DOT.
    pub(crate) fn names(bits: u8) -> Vec<&'static str> {
        [(EN, "EN"), (ER, "ER"), (SN, "SN"), (SR, "SR")]
            .iter()
            .filter(|(b, _)| bits & b != 0)
            .map(|&(_, n)| n)
            .collect()
    }
}

/// One dependency `from → to`, with where and how it was first seen.
pub(crate) struct Edge {
    /// Union of the dependency types seen.
    pub(crate) deps: u8,
    /// Where `to` was acquired when the dependency was first recorded.
    pub(crate) site: &'static Location<'static>,
    /// Stack when the dependency was first recorded.
    pub(crate) trace: StackTrace,
}

/// A closed strong cycle found when adding `from → to`: the existing path from `to` back to
/// `from`, as classes (`path[0] == to`, `path.last() == from`).
pub(crate) struct Cycle {
    pub(crate) path: Vec<ClassId>,
}

/// Why a dependency could not be added.
pub(crate) enum AddError {
    Cycle(Cycle),
    Full,
}

static GRAPH: Lazy<Mutex<Graph>> = Lazy::new(Default::default);

/// The process's graph, locked: taken only on the slow path (a chain no thread validated
/// before), and for export. Nothing is called back into user code while it is held.
pub(crate) fn lock() -> MutexGuard<'static, Graph> {
    lock_internal(&GRAPH)
}

/// The graph. Lives behind one global lock, taken only on the slow path.
#[derive(Default)]
pub(crate) struct Graph {
    edges: HashMap<(ClassId, ClassId), Edge>,
    /// Split-node adjacency (node = class * 2 + entered-recursively).
    out: Vec<Vec<u32>>,
    inn: Vec<Vec<u32>>,
    /// Topological key of each split node (keys have gaps, so that nodes can move between
    /// neighbours), and the nodes by key.
    ord: Vec<u64>,
    by_ord: BTreeMap<u64, u32>,
    /// Visit stamps of the forward and backward searches, with the current stamp.
    fmark: Vec<u32>,
    bmark: Vec<u32>,
    stamp: u32,
}

/// Spacing of the order's keys when nodes are appended or the order is renumbered.
const KEY_GAP: u64 = 1 << 40;

#[inline]
fn node(class: ClassId, recursive: bool) -> u32 {
    class * 2 + recursive as u32
}

impl Graph {
    /// Number of class dependencies.
    pub(crate) fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// Every dependency, for export.
    pub(crate) fn edges(&self) -> impl Iterator<Item = (&(ClassId, ClassId), &Edge)> {
        self.edges.iter()
    }

    /// The dependency `from → to`, if recorded.
    pub(crate) fn edge(&self, from: ClassId, to: ClassId) -> Option<&Edge> {
        self.edges.get(&(from, to))
    }

    /// Approximate heap bytes held by the graph, stack traces included (each counted once per
    /// edge that refers to it, so shared traces are over-counted).
    pub(crate) fn heap_bytes(&self) -> usize {
        let edge_entry = std::mem::size_of::<((ClassId, ClassId), Edge)>() + 8;
        let edges: usize = self
            .edges
            .values()
            .map(|e| edge_entry + e.trace.heap_bytes())
            .sum();
        let adjacency: usize = self
            .out
            .iter()
            .chain(self.inn.iter())
            .map(|v| v.capacity() * 4 + std::mem::size_of::<Vec<u32>>())
            .sum();
        edges
            + adjacency
            + self.ord.capacity() * 8
            + self.by_ord.len() * 24
            + (self.fmark.capacity() + self.bmark.capacity()) * 4
    }

    fn ensure_class(&mut self, class: ClassId) {
        let needed = (class as usize + 1) * 2;
        while self.ord.len() < needed {
            let node = self.ord.len() as u32;
            let key = self
                .by_ord
                .keys()
                .next_back()
                .map_or(KEY_GAP, |k| k + KEY_GAP);
            self.ord.push(key);
            self.by_ord.insert(key, node);
            self.out.push(Vec::new());
            self.inn.push(Vec::new());
            self.fmark.push(0);
            self.bmark.push(0);
        }
    }

    /// Adds "`to` acquired as `acquired` while `from` held as `held`". Returns whether anything
    /// new was recorded, or the cycle it would close (then nothing of it is kept).
    pub(crate) fn add(
        &mut self,
        from: ClassId,
        held: Access,
        to: ClassId,
        acquired: Access,
        site: &'static Location<'static>,
        trace: &mut dyn FnMut() -> StackTrace,
    ) -> Result<bool, AddError> {
        let bits = dep::of(held, acquired);
        if let Some(edge) = self.edges.get(&(from, to)) {
            if edge.deps & bits != 0 {
                return Ok(false);
            }
        } else if self.edges.len() >= MAX_EDGES {
            return Err(AddError::Full);
        }
        self.ensure_class(from.max(to));
        let target = node(to, acquired == Access::RecursiveRead);
        let sources: &[u32] = if held.is_shared() {
            &[node(from, false)]
        } else {
            &[node(from, false), node(from, true)]
        };
        for &source in sources {
            if let Some(path) = self.insert_split(source, target) {
                return Err(AddError::Cycle(Cycle {
                    path: path.iter().map(|n| n / 2).collect(),
                }));
            }
        }
        let trace = trace();
        self.edges
            .entry((from, to))
            .and_modify(|e| e.deps |= bits)
            .or_insert(Edge {
                deps: bits,
                site,
                trace,
            });
        Ok(true)
    }

    fn next_stamp(&mut self) -> u32 {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.fmark.iter_mut().for_each(|m| *m = 0);
            self.bmark.iter_mut().for_each(|m| *m = 0);
            self.stamp = 1;
        }
        self.stamp
    }

    /// Insertion of `x → y` keeping the order topological. `None` when inserted (or
    /// present); otherwise the path `y → … → x` that the edge would close into a cycle.
    fn insert_split(&mut self, x: u32, y: u32) -> Option<Vec<u32>> {
        if x == y {
            return Some(vec![y]);
        }
        if self.out[x as usize].contains(&y) {
            return None;
        }
        let (lb, ub) = (self.ord[y as usize], self.ord[x as usize]);
        if lb < ub {
            // Every path y → x lies between them in the order. Search forward from y and
            // backward from x in turns, until one side is complete.
            let stamp = self.next_stamp();
            let (mut forward, mut backward) = (vec![y], vec![x]);
            let (mut fnext, mut bnext) = (0, 0);
            self.fmark[y as usize] = stamp;
            self.bmark[x as usize] = stamp;
            let moved_forward = loop {
                if fnext == forward.len() {
                    break true;
                }
                if bnext == backward.len() {
                    break false;
                }
                let n = forward[fnext] as usize;
                fnext += 1;
                for &m in &self.out[n] {
                    if m == x {
                        return Some(self.shortest_path(y, x));
                    }
                    if self.ord[m as usize] < ub && self.fmark[m as usize] != stamp {
                        self.fmark[m as usize] = stamp;
                        forward.push(m);
                    }
                }
                let n = backward[bnext] as usize;
                bnext += 1;
                for &m in &self.inn[n] {
                    if m == y {
                        return Some(self.shortest_path(y, x));
                    }
                    if self.ord[m as usize] > lb && self.bmark[m as usize] != stamp {
                        self.bmark[m as usize] = stamp;
                        backward.push(m);
                    }
                }
            };
            // No cycle. Everything y reaches (within the region) moves to just after x, or
            // everything that reaches x moves to just before y, in its own order: whichever
            // set is complete, so whichever is smaller.
            if moved_forward {
                self.move_after(x, forward);
            } else {
                self.move_before(y, backward);
            }
        }
        self.out[x as usize].push(y);
        self.inn[y as usize].push(x);
        None
    }

    /// Moves `nodes` (keeping their relative order) to keys just after `anchor`'s.
    fn move_after(&mut self, anchor: u32, nodes: Vec<u32>) {
        let lo = self.ord[anchor as usize];
        let hi = self.by_ord.range(lo + 1..).next().map(|(&k, _)| k);
        self.place_between(lo, hi, nodes);
    }

    /// Moves `nodes` (keeping their relative order) to keys just before `anchor`'s.
    fn move_before(&mut self, anchor: u32, nodes: Vec<u32>) {
        let hi = self.ord[anchor as usize];
        let lo = self.by_ord.range(..hi).next_back().map_or(0, |(&k, _)| k);
        self.place_between(lo, Some(hi), nodes);
    }

    /// Gives `nodes`, sorted by their current keys, new keys strictly between `lo` and `hi`
    /// (`None`: no upper neighbour), renumbering the whole order first if the gap is too small.
    fn place_between(&mut self, lo: u64, hi: Option<u64>, mut nodes: Vec<u32>) {
        let k = nodes.len() as u64;
        let hi_key = hi.unwrap_or(lo.saturating_add(KEY_GAP * (k + 1)));
        if hi_key - lo <= k {
            // Out of room: spread every key out again, then place.
            let anchor_lo = self.by_ord.get(&lo).copied();
            let anchor_hi = hi.and_then(|h| self.by_ord.get(&h).copied());
            self.renumber();
            let lo = anchor_lo.map_or(0, |n| self.ord[n as usize]);
            let hi = anchor_hi.map(|n| self.ord[n as usize]);
            return self.place_between(lo, hi, nodes);
        }
        nodes.sort_unstable_by_key(|&n| self.ord[n as usize]);
        for &n in &nodes {
            self.by_ord.remove(&self.ord[n as usize]);
        }
        let step = (hi_key - lo) / (k + 1);
        for (i, &n) in nodes.iter().enumerate() {
            let key = lo + step * (i as u64 + 1);
            self.ord[n as usize] = key;
            self.by_ord.insert(key, n);
        }
    }

    /// Keys `KEY_GAP` apart again, in the same order.
    #[cold]
    fn renumber(&mut self) {
        let order: Vec<u32> = self.by_ord.values().copied().collect();
        self.by_ord.clear();
        for (i, n) in order.into_iter().enumerate() {
            let key = (i as u64 + 1) * KEY_GAP;
            self.ord[n as usize] = key;
            self.by_ord.insert(key, n);
        }
    }

    /// Shortest path `from → … → to` in the split graph (which must exist), searching only the
    /// part of the order between them, where every such path lies.
    fn shortest_path(&mut self, from: u32, to: u32) -> Vec<u32> {
        let (lb, ub) = (self.ord[from as usize], self.ord[to as usize]);
        let mut parent: HashMap<u32, u32> = HashMap::new();
        let mut queue = VecDeque::from([from]);
        let stamp = self.next_stamp();
        self.fmark[from as usize] = stamp;
        while let Some(n) = queue.pop_front() {
            if n == to {
                break;
            }
            for &m in &self.out[n as usize] {
                let o = self.ord[m as usize];
                if (lb..=ub).contains(&o) && self.fmark[m as usize] != stamp {
                    self.fmark[m as usize] = stamp;
                    parent.insert(m, n);
                    queue.push_back(m);
                }
            }
        }
        let mut path = vec![to];
        let mut n = to;
        while n != from {
            n = parent[&n];
            path.push(n);
        }
        path.reverse();
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> &'static Location<'static> {
        Location::caller()
    }

    fn add(
        g: &mut Graph,
        a: ClassId,
        ar: Access,
        b: ClassId,
        br: Access,
    ) -> Result<bool, AddError> {
        g.add(a, ar, b, br, site(), &mut StackTrace::default)
    }

    #[test]
    fn abba_is_a_cycle_and_is_not_kept() {
        let mut g = Graph::default();
        assert!(matches!(
            add(&mut g, 1, Access::Write, 2, Access::Write),
            Ok(true)
        ));
        match add(&mut g, 2, Access::Write, 1, Access::Write) {
            Err(AddError::Cycle(c)) => assert_eq!(c.path, vec![1, 2]),
            _ => panic!("expected a cycle"),
        }
        assert_eq!(g.edge_count(), 1);
    }

    #[test]
    fn recursive_reads_on_both_sides_are_not_a_strong_cycle() {
        // rlock_ABBA2: RL(X); L(Y) then L(Y); RL(X).
        let mut g = Graph::default();
        assert!(add(&mut g, 1, Access::RecursiveRead, 2, Access::Write).is_ok());
        assert!(add(&mut g, 2, Access::Write, 1, Access::RecursiveRead).is_ok());
    }

    #[test]
    fn reordering_keeps_long_cycles_visible() {
        let mut g = Graph::default();
        // Insert against the creation order so that Pearce–Kelly has to reorder.
        assert!(add(&mut g, 4, Access::Write, 3, Access::Write).is_ok());
        assert!(add(&mut g, 3, Access::Write, 2, Access::Write).is_ok());
        assert!(add(&mut g, 2, Access::Write, 1, Access::Write).is_ok());
        match add(&mut g, 1, Access::Write, 4, Access::Write) {
            Err(AddError::Cycle(c)) => assert_eq!(c.path, vec![4, 3, 2, 1]),
            _ => panic!("expected a cycle"),
        }
    }
}
