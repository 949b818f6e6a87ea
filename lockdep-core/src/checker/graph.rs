//! The process's dependency graph over classes: every dependency with where and how it was
//! first seen, and the [`DependencyOrder`] of the classes, which finds the cycles (strong
//! paths in the kernel's read/write-aware sense; see `src/order.rs` for how, and why every
//! cycle is found, not only the first), and which classes a writer has waited for (a read of
//! any other blocks only as a recursive one does: `book/src/rules.md`).

use std::collections::HashMap;
use std::panic::Location;
use std::sync::{Mutex, MutexGuard};

use once_cell::sync::Lazy;

use super::fast_hash::FastHash;
use super::first_hold;
use super::stack_trace::StackTrace;
use super::types::{lock as lock_internal, Access, ClassId};
use lockdep_report::{DependencyOrder, Released};

pub(crate) use lockdep_report::dep;

/// The kernel's `MAX_LOCKDEP_ENTRIES` analogue (dependencies between classes).
pub(crate) const MAX_EDGES: usize = 1 << 20;

/// One dependency `from → to`, with where and how it was first seen.
pub(crate) struct Edge {
    /// Union of the dependency types seen.
    pub(crate) deps: u8,
    /// Where `to` was acquired when the dependency was first recorded.
    pub(crate) site: &'static Location<'static>,
    /// Stack when the dependency was first recorded.
    pub(crate) trace: StackTrace,
}

/// A closed strong cycle found when adding `from → to`: the path from `to` back to `from`
/// that the new dependency closes, as classes (`path[0] == to`, `path.last() == from`).
pub(crate) struct Cycle {
    pub(crate) path: Vec<ClassId>,
}

/// What adding a dependency did.
pub(crate) enum Added {
    /// Recorded before with this dependency type: nothing changed.
    Known,
    /// Recorded; it closes no cycle.
    New,
    /// Recorded, and it closes this cycle: a possible deadlock.
    Cycle(Cycle),
}

/// The dependency table is full: nothing was recorded.
pub(crate) struct Full;

static GRAPH: Lazy<Mutex<Graph>> = Lazy::new(Default::default);

/// The process's graph, locked: taken only on the slow path (a chain no thread validated
/// before), and for export. Nothing is called back into user code while it is held.
pub(crate) fn lock() -> MutexGuard<'static, Graph> {
    lock_internal(&GRAPH)
}

/// The graph. Lives behind one global lock, taken only on the slow path.
#[derive(Default)]
pub(crate) struct Graph {
    edges: HashMap<(ClassId, ClassId), Edge, FastHash>,
    /// Which classes reach which, and the cycles.
    order: DependencyOrder,
    /// Where a writer first waited for each written class.
    first_writes: HashMap<ClassId, &'static Location<'static>, FastHash>,
    /// Where the held class was acquired, for each dependency held back on a read of a class
    /// not yet written: what a report shows if a write releases it.
    read_holders: HashMap<(ClassId, ClassId), &'static Location<'static>, FastHash>,
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
        let per_class = std::mem::size_of::<(ClassId, &Location)>() + 8;
        edges
            + self.order.heap_bytes()
            + (self.first_writes.len() + self.read_holders.len()) * per_class
    }

    /// Whether recording "`to` acquired as `acquired` while `from` held as `held`" would
    /// close a new cycle (nothing is recorded; the order may move, see
    /// [`DependencyOrder::closes`]).
    pub(crate) fn closes(
        &mut self,
        from: ClassId,
        held: Access,
        to: ClassId,
        acquired: Access,
    ) -> bool {
        self.order.closes(from, to, dep::of(held, acquired))
    }

    /// Whether a writer has waited for `class`: then a non-recursive read of it may wait
    /// behind one.
    pub(crate) fn is_written(&self, class: ClassId) -> bool {
        self.order.is_written(class)
    }

    /// Where a writer first waited for `class`, if one has.
    pub(crate) fn first_write(&self, class: ClassId) -> Option<&'static Location<'static>> {
        self.first_writes.get(&class).copied()
    }

    /// A writer waits for `class`, at `site`: the first time, the dependencies held back on
    /// its reads count as they are, and the cycles they close are returned, each with where
    /// its held class was acquired.
    pub(crate) fn write(
        &mut self,
        class: ClassId,
        site: &'static Location<'static>,
    ) -> Vec<(Released, &'static Location<'static>)> {
        if self.order.is_written(class) {
            return Vec::new();
        }
        self.first_writes.insert(class, site);
        let released = self.order.write(class);
        // Reads released, or one held back in a lock's first hold, may close a cycle now.
        let held_at = |from| self.read_holders.get(&(from, class)).copied();
        let released = released
            .into_iter()
            .map(|r| {
                let at = held_at(r.from).unwrap_or(site);
                (r, at)
            })
            .collect();
        self.read_holders.retain(|&(_, to), _| to != class);
        released
    }

    /// Records a dependency held back in a lock's first hold, which counts now (its held
    /// lock was held exclusively), as [`add`](Graph::add).
    ///
    /// # Errors
    ///
    /// [`Full`] when it does not fit.
    pub(crate) fn add_held_back(&mut self, d: &first_hold::Provisional) -> Result<Added, Full> {
        self.add(
            d.from,
            Access::Write,
            d.held_site,
            d.to,
            d.acquired,
            d.site,
            &mut || d.trace.clone(),
        )
    }

    /// Records "`to` acquired as `acquired` while `from` held as `held` (acquired at
    /// `held_site`)", and says whether it closes a cycle. A dependency that closes a cycle is
    /// recorded all the same: later ones may close other cycles through it.
    ///
    /// # Errors
    ///
    /// [`Full`] when a new dependency does not fit (nothing is recorded).
    // One argument per part of a dependency: a struct for them would be built only here.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add(
        &mut self,
        from: ClassId,
        held: Access,
        held_site: &'static Location<'static>,
        to: ClassId,
        acquired: Access,
        site: &'static Location<'static>,
        trace: &mut dyn FnMut() -> StackTrace,
    ) -> Result<Added, Full> {
        let bits = dep::of(held, acquired);
        if let Some(edge) = self.edges.get(&(from, to)) {
            if edge.deps & bits != 0 {
                return Ok(Added::Known);
            }
        } else if self.edges.len() >= MAX_EDGES {
            return Err(Full);
        }
        if dep::non_recursive(bits) != 0 && !self.order.is_written(to) {
            self.read_holders.entry((from, to)).or_insert(held_site);
        }
        let cycle = self.order.insert(from, to, bits).map(|path| Cycle { path });
        let trace = trace();
        self.edges
            .entry((from, to))
            .and_modify(|e| e.deps |= bits)
            .or_insert(Edge {
                deps: bits,
                site,
                trace,
            });
        Ok(cycle.map_or(Added::New, Added::Cycle))
    }
}

/// The first-hold rule's questions about the dependencies held back, answered by the order:
/// its version and which classes changed since one ([`DependencyOrder::changed_since`]).
impl first_hold::Verdicts for Graph {
    fn version(&self) -> u64 {
        self.order.version()
    }

    fn changed_since(&self, class: ClassId, version: u64) -> bool {
        self.order.changed_since(class, version)
    }

    fn closes(&mut self, d: &first_hold::Provisional) -> bool {
        self.closes(d.from, Access::Write, d.to, d.acquired)
    }
}

#[cfg(test)]
mod tests {
    use crate::checker::graph::*;
    use std::collections::{HashSet, VecDeque};

    fn site() -> &'static Location<'static> {
        Location::caller()
    }

    /// `b` acquired as `br` with `a` held as `ar`; a writer waits for `b` first if `br` is
    /// a write, as the checker says before adding the dependency.
    fn add(g: &mut Graph, a: ClassId, ar: Access, b: ClassId, br: Access) -> Added {
        if br == Access::Write {
            g.write(b, site());
        }
        match g.add(a, ar, site(), b, br, site(), &mut StackTrace::default) {
            Ok(added) => added,
            Err(Full) => panic!("graph full"),
        }
    }

    fn write(g: &mut Graph, a: ClassId, b: ClassId) -> Added {
        add(g, a, Access::Write, b, Access::Write)
    }

    fn cycle(added: Added) -> Vec<ClassId> {
        match added {
            Added::Cycle(c) => c.path,
            Added::New => panic!("expected a cycle, got a new edge"),
            Added::Known => panic!("expected a cycle, got a known edge"),
        }
    }

    fn no_cycle(added: Added) {
        assert!(!matches!(added, Added::Cycle(_)), "unexpected cycle");
    }

    #[test]
    fn abba_is_a_cycle_and_is_kept() {
        let mut g = Graph::default();
        assert!(matches!(write(&mut g, 1, 2), Added::New));
        assert_eq!(cycle(write(&mut g, 2, 1)), vec![1, 2]);
        assert_eq!(g.edge_count(), 2);
        // Recorded: seen again, it is known, not a second report.
        assert!(matches!(write(&mut g, 2, 1), Added::Known));
    }

    #[test]
    fn recursive_reads_on_both_sides_are_not_a_strong_cycle() {
        // rlock_ABBA2: RL(X); L(Y) then L(Y); RL(X).
        let mut g = Graph::default();
        no_cycle(add(&mut g, 1, Access::RecursiveRead, 2, Access::Write));
        no_cycle(add(&mut g, 2, Access::Write, 1, Access::RecursiveRead));
    }

    #[test]
    fn a_read_cycle_waits_for_the_first_writer() {
        // rwsem_ABBA2: 2 read under 1, 1 taken under 2 held for read; no writer waits for 2.
        let mut g = Graph::default();
        no_cycle(add(&mut g, 1, Access::Write, 2, Access::Read));
        no_cycle(add(&mut g, 2, Access::Read, 1, Access::Write));
        assert!(!g.is_written(2));
        let write_site = Location::caller();
        let released = g.write(2, write_site);
        assert_eq!(released.len(), 1);
        assert_eq!((released[0].0.from, released[0].0.deps), (1, dep::EN));
        assert_eq!(released[0].0.path, vec![2, 1]);
        assert_eq!(g.first_write(2), Some(write_site));
        assert!(g.write(2, write_site).is_empty());
    }

    #[test]
    fn reordering_keeps_long_cycles_visible() {
        let mut g = Graph::default();
        // Insert against the creation order so that Pearce–Kelly has to reorder.
        no_cycle(write(&mut g, 4, 3));
        no_cycle(write(&mut g, 3, 2));
        no_cycle(write(&mut g, 2, 1));
        assert_eq!(cycle(write(&mut g, 1, 4)), vec![4, 3, 2, 1]);
    }

    #[test]
    fn a_cycle_through_a_reported_edge_is_found() {
        // B → A, A → B (reported), C → A, then B → C closes A → B → C → A.
        let (a, b, c) = (1, 2, 3);
        let mut g = Graph::default();
        no_cycle(write(&mut g, b, a));
        assert_eq!(cycle(write(&mut g, a, b)), vec![b, a]);
        no_cycle(write(&mut g, c, a));
        assert_eq!(cycle(write(&mut g, b, c)), vec![c, a, b]);
    }

    #[test]
    fn an_edge_inside_a_reported_cycle_is_not_reported_again() {
        // Classes 1..=5 in order, then 5 → 1: one cycle. Later dependencies among them follow
        // the order and close cycles only through 5 → 1: nothing new to report.
        let mut g = Graph::default();
        for i in 1..5 {
            no_cycle(write(&mut g, i, i + 1));
        }
        assert_eq!(cycle(write(&mut g, 5, 1)), vec![1, 2, 3, 4, 5]);
        no_cycle(write(&mut g, 1, 3));
        no_cycle(write(&mut g, 2, 5));
        assert_eq!(g.edge_count(), 7);
        // A class that becomes cyclic with them is a new cycle.
        no_cycle(write(&mut g, 6, 1));
        assert_eq!(cycle(write(&mut g, 3, 6)), vec![6, 1, 2, 3]);
    }

    #[test]
    fn components_merge_and_keep_the_rest_ordered() {
        // 5 → {1, 2} (a cycle) → 6, then 6 → 7: no cycle; 7 → 5 closes one through the
        // merged component.
        let mut g = Graph::default();
        no_cycle(write(&mut g, 5, 1));
        no_cycle(write(&mut g, 1, 2));
        cycle(write(&mut g, 2, 1));
        no_cycle(write(&mut g, 2, 6));
        no_cycle(write(&mut g, 6, 7));
        no_cycle(write(&mut g, 5, 7));
        assert_eq!(cycle(write(&mut g, 7, 5)), vec![5, 7]);
        // Everything above is one component now; an unrelated class is still free.
        no_cycle(write(&mut g, 8, 5));
        no_cycle(write(&mut g, 7, 9));
        assert_eq!(cycle(write(&mut g, 9, 8)), vec![8, 5, 7, 9]);
    }

    #[test]
    fn a_recursive_read_into_a_cycle_closes_another() {
        // L2 → L1, L1 → ALLOC, ALLOC → L2 (a cycle), then ALLOC → L2 as a recursive read:
        // L2.R → L1 → ALLOC → L2.R.
        let (alloc, l1, l2) = (1, 3, 4);
        let mut g = Graph::default();
        no_cycle(write(&mut g, l2, l1));
        no_cycle(write(&mut g, l1, alloc));
        cycle(write(&mut g, alloc, l2));
        let path = cycle(add(&mut g, alloc, Access::Write, l2, Access::RecursiveRead));
        assert_eq!(path, vec![l2, l1, alloc]);
    }

    /// Random dependencies against a reference that keeps every edge and answers each new one
    /// by breadth-first search: every verdict agrees, before and after the first cycle.
    #[test]
    fn every_verdict_agrees_with_plain_search() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut rand = move |n: u32| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as u32
        };
        let mut cycles = 0;
        for round in 0..400 {
            let classes = 3 + round % 40;
            let mut g = Graph::default();
            let mut reference: HashSet<(u32, u32)> = HashSet::new();
            for _ in 0..classes * 3 {
                let (a, b) = (1 + rand(classes), 1 + rand(classes));
                if a == b || reference.contains(&(a, b)) {
                    continue;
                }
                // A new cycle: b reaches a, and a did not reach b (they were not on one).
                let closes = reaches(&reference, b, a) && !reaches(&reference, a, b);
                reference.insert((a, b));
                match write(&mut g, a, b) {
                    Added::Cycle(c) => {
                        assert!(closes, "round {round}: false cycle {a} → {b}");
                        cycles += 1;
                        assert_eq!((c.path[0], *c.path.last().unwrap()), (b, a));
                        for pair in c.path.windows(2) {
                            assert!(reference.contains(&(pair[0], pair[1])));
                        }
                    }
                    _ => assert!(!closes, "round {round}: lost cycle {a} → {b}"),
                }
            }
        }
        assert!(
            cycles > 100,
            "only {cycles} cycles: the test lost its teeth"
        );
    }

    fn reaches(edges: &HashSet<(u32, u32)>, from: u32, to: u32) -> bool {
        let mut seen = HashSet::from([from]);
        let mut queue = VecDeque::from([from]);
        while let Some(n) = queue.pop_front() {
            if n == to {
                return true;
            }
            for &(a, b) in edges {
                if a == n && seen.insert(b) {
                    queue.push_back(b);
                }
            }
        }
        false
    }
}
