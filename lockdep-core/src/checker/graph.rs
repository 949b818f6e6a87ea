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
//! # Every cycle, not only the first
//!
//! An edge that closes a cycle is reported *and kept*: a later dependency may close another
//! cycle through it (B → A, then A → B reported, then C → A, then B → C closes A → B → C → A),
//! and the exported graph must show the cycle. So the split graph is not kept acyclic; its
//! strongly connected components are: each set of split nodes that reach each other is one
//! component, and the order is kept over components. A new edge between two components
//! closes a cycle exactly when it goes against the order and the search finds a path back;
//! then every component on such a path merges into one, and the cycle is reported.
//!
//! A new edge inside one component closes cycles too, but only among classes already on a
//! reported cycle, and through its dependencies: with classes taken in one global order and
//! one inverted pair, every later dependency among the classes between them would close
//! another. Those are not reported again (fixing the reported cycle changes them); a cycle is
//! reported when classes *become* cyclic with each other, which is what each independent
//! mistake does.

//! # Incremental topological order
//!
//! The order of components is maintained incrementally, after Pearce–Kelly: adding an edge
//! that agrees with the order costs O(1); otherwise only the region of the order between the
//! two ends is searched, forward from the head and backward from the tail *in turns*, and the
//! side that completes first (the smaller) is moved past the other end into a gap of the
//! order's keys. Searching in turns matters because of hubs: `ALLOC` reaches every pool and
//! every lock taken in reclaim, and a new lock held while allocating must not cost a walk over
//! all of that. That keeps new dependencies cheap on graphs of 100,000 edges, where the kernel's
//! full BFS per new dependency would be quadratic. A closed cycle (rare: each is a report)
//! searches both sides in full, to find every component to merge.

use std::collections::{BTreeMap, HashMap};
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
    edges: HashMap<(ClassId, ClassId), Edge>,
    /// Split-node adjacency (node = class * 2 + entered-recursively).
    out: Vec<Vec<u32>>,
    inn: Vec<Vec<u32>>,
    /// Each split node's component: the representative node of its strongly connected
    /// component, itself when it is on no cycle. Always the representative itself, never a
    /// chain to it (merging rewrites every member).
    comp: Vec<u32>,
    /// The members of each merged component, by representative; empty for a node alone.
    members: Vec<Vec<u32>>,
    /// Topological key of each component, by representative (keys have gaps, so that
    /// components can move between neighbours; a merged-away node's entry is stale), and the
    /// representatives by key.
    ord: Vec<u64>,
    by_ord: BTreeMap<u64, u32>,
    /// Visit stamps of the forward and backward searches (by representative), with the
    /// current stamp.
    fmark: Vec<u32>,
    bmark: Vec<u32>,
    stamp: u32,
}

/// Spacing of the order's keys when nodes are appended or the order is renumbered.
const KEY_GAP: u64 = 1 << 40;

/// The spacing of keys a relabelled window of the order must reach, for a window of `width`
/// neighbours on each side: the wider the window, the less slack it must leave (the density
/// thresholds of list labelling), so that a crowded part of the order is relabelled in
/// windows that grow with it rather than in full each time.
fn spacing_wanted(width: usize) -> u64 {
    let halvings = 2 * width.trailing_zeros().min(19);
    (KEY_GAP >> halvings).max(1)
}

#[inline]
fn node(class: ClassId, recursive: bool) -> u32 {
    class * 2 + recursive as u32
}

/// The split nodes of component `c`, given the members of every component: `c` alone unless
/// it was merged.
fn group<'a>(members: &'a [Vec<u32>], c: &'a u32) -> &'a [u32] {
    match members[*c as usize].as_slice() {
        [] => std::slice::from_ref(c),
        merged => merged,
    }
}

/// A search over components, one edge at a time: the components found so far (marked),
/// and the position of the next edge to follow (component, member of it, edge of that).
struct Search {
    dir: Dir,
    goal: u32,
    bound: u64,
    stamp: u32,
    found: Vec<u32>,
    next: usize,
    member: usize,
    edge: usize,
}

impl Search {
    fn new(dir: Dir, start: u32, goal: u32, bound: u64, stamp: u32) -> Search {
        Search {
            dir,
            goal,
            bound,
            stamp,
            found: vec![start],
            next: 0,
            member: 0,
            edge: 0,
        }
    }
}

/// What following one edge did.
enum Step {
    /// It leads to the goal.
    Goal,
    /// Followed; more to follow.
    Going,
    /// Nothing left to follow.
    Done,
}

/// Which way a search follows the edges.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    /// Along the edges (what a component reaches), bounded above.
    Forward,
    /// Against them (what reaches a component), bounded below.
    Backward,
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
        let lists: usize = self
            .out
            .iter()
            .chain(self.inn.iter())
            .chain(self.members.iter())
            .map(|v| v.capacity() * 4 + std::mem::size_of::<Vec<u32>>())
            .sum();
        edges
            + lists
            + self.ord.capacity() * 8
            + self.by_ord.len() * 24
            + (self.comp.capacity() + self.fmark.capacity() + self.bmark.capacity()) * 4
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
            self.comp.push(node);
            self.members.push(Vec::new());
            self.fmark.push(0);
            self.bmark.push(0);
        }
    }

    /// Records "`to` acquired as `acquired` while `from` held as `held`", and says whether it
    /// closes a cycle. A dependency that closes a cycle is recorded all the same: later ones
    /// may close other cycles through it.
    ///
    /// # Errors
    ///
    /// [`Full`] when a new dependency does not fit (nothing is recorded).
    pub(crate) fn add(
        &mut self,
        from: ClassId,
        held: Access,
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
        self.ensure_class(from.max(to));
        let target = node(to, acquired == Access::RecursiveRead);
        let sources: &[u32] = if held.is_shared() {
            &[node(from, false)]
        } else {
            &[node(from, false), node(from, true)]
        };
        let mut cycle = None;
        for &source in sources {
            if let Some(path) = self.insert_split(source, target) {
                cycle.get_or_insert_with(|| Cycle {
                    path: path.iter().map(|n| n / 2).collect(),
                });
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
        Ok(cycle.map_or(Added::New, Added::Cycle))
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

    /// The topological key of `n`'s component.
    #[inline]
    fn key(&self, n: u32) -> u64 {
        self.ord[self.comp[n as usize] as usize]
    }

    /// Inserts the split edge `x → y` (unless present), keeping the order of components
    /// topological. Returns the path `y → … → x` when the edge closes a new cycle: when `x`
    /// and `y` were not on one before (a self-loop is reported and never inserted).
    fn insert_split(&mut self, x: u32, y: u32) -> Option<Vec<u32>> {
        if x == y {
            return Some(vec![y]);
        }
        if self.out[x as usize].contains(&y) {
            return None;
        }
        let (cx, cy) = (self.comp[x as usize], self.comp[y as usize]);
        let (lb, ub) = (self.ord[cy as usize], self.ord[cx as usize]);
        // In one component (lb == ub) the two ends already reach each other: a known knot,
        // nothing new to report (see the module's docs). Against the order, the search
        // either reorders (no path back) or finds a path back: a new cycle.
        let mut cycle = None;
        if lb < ub {
            if let Some(searches) = self.reorder_unless_path(cx, cy) {
                cycle = Some(self.find_path(y, x, lb, ub));
                self.merge(cx, cy, searches);
            }
        }
        self.out[x as usize].push(y);
        self.inn[y as usize].push(x);
        cycle
    }

    /// For a new edge from component `cx` to component `cy` placed after it: repairs the
    /// order so that `cx` comes first, unless `cy` reaches `cx`; then nothing is moved, and the
    /// two searches, forward from `cy` and backward from `cx`, are returned as they stand, for
    /// [`merge`](Graph::merge) to go on with.
    fn reorder_unless_path(&mut self, cx: u32, cy: u32) -> Option<(Search, Search)> {
        let (lb, ub) = (self.ord[cy as usize], self.ord[cx as usize]);
        // Every path cy → cx lies between them in the order. Search forward from cy and
        // backward from cx in turns, an edge at a time (so that a hub on one side costs no
        // more than the other side's whole search), until one side is complete.
        let stamp = self.next_stamp();
        self.fmark[cy as usize] = stamp;
        self.bmark[cx as usize] = stamp;
        let mut forward = Search::new(Dir::Forward, cy, cx, ub, stamp);
        let mut backward = Search::new(Dir::Backward, cx, cy, lb, stamp);
        let moved_forward = loop {
            match self.advance(&mut forward) {
                Step::Goal => return Some((forward, backward)),
                Step::Done => break true,
                Step::Going => {}
            }
            match self.advance(&mut backward) {
                Step::Goal => return Some((forward, backward)),
                Step::Done => break false,
                Step::Going => {}
            }
        };
        // No path back. Everything cy reaches (within the region) moves to just after cx, or
        // everything that reaches cx moves to just before cy, in its own order: whichever set
        // is complete, so whichever is smaller.
        if moved_forward {
            self.move_after(cx, forward.found);
        } else {
            self.move_before(cy, backward.found);
        }
        None
    }

    /// Follows the search's next edge: marks and queues the component it leads to when that
    /// is unmarked and strictly inside the search's bound (below it forward, above it
    /// backward). The goal is never queued: a search may go on past it.
    fn advance(&mut self, search: &mut Search) -> Step {
        let (adjacent, mark) = match search.dir {
            Dir::Forward => (&self.out, &mut self.fmark),
            Dir::Backward => (&self.inn, &mut self.bmark),
        };
        loop {
            let Some(&c) = search.found.get(search.next) else {
                return Step::Done;
            };
            let Some(&n) = group(&self.members, &c).get(search.member) else {
                (search.next, search.member, search.edge) = (search.next + 1, 0, 0);
                continue;
            };
            let Some(&m) = adjacent[n as usize].get(search.edge) else {
                (search.member, search.edge) = (search.member + 1, 0);
                continue;
            };
            search.edge += 1;
            let cm = self.comp[m as usize];
            if cm == search.goal {
                return Step::Goal;
            }
            let key = self.ord[cm as usize];
            let inside = match search.dir {
                Dir::Forward => key < search.bound,
                Dir::Backward => key > search.bound,
            };
            if inside && mark[cm as usize] != search.stamp {
                mark[cm as usize] = search.stamp;
                search.found.push(cm);
            }
            return Step::Going;
        }
    }

    /// `cy` reaches `cx` and a new edge `cx → cy` closes the cycle: every component on a path
    /// from `cy` to `cx` becomes one.
    ///
    /// What `cy` reaches inside the region and what reaches `cx` are searched on from where
    /// [`reorder_unless_path`](Graph::reorder_unless_path) found the path back, in turns, an
    /// edge at a time, until one side is complete (the smaller: a hub on one side costs no
    /// more than the other). Say the forward side: of what `cy` reaches, the components that
    /// also reach `cx` are on a path (found in reverse order of keys, each by an edge into one
    /// already found, `cx` first); they merge into `cx`, keeping its key, and the rest moves to
    /// just after it, in its own order. Backward, mirrored: the merged component keeps `cy`'s
    /// key and the rest moves to just before it. Either way the order stays topological:
    /// Pearce–Kelly's move of one side, with the cycle collapsed into its end.
    #[cold]
    fn merge(&mut self, cx: u32, cy: u32, (mut forward, mut backward): (Search, Search)) {
        let stamp = forward.stamp;
        let (dir, mut side) = loop {
            if matches!(self.advance(&mut forward), Step::Done) {
                break (Dir::Forward, forward.found);
            }
            if matches!(self.advance(&mut backward), Step::Done) {
                break (Dir::Backward, backward.found);
            }
        };
        // The far end is marked by the other side's marks, which also mark what that side's
        // partial search found: all of it is on the far end's side too.
        let (far, adjacent, on_path) = match dir {
            Dir::Forward => (cx, &self.out, &mut self.bmark),
            Dir::Backward => (cy, &self.inn, &mut self.fmark),
        };
        side.sort_unstable_by_key(|&c| self.ord[c as usize]);
        if dir == Dir::Forward {
            side.reverse();
        }
        for &c in &side {
            let next_to_path = group(&self.members, &c).iter().any(|&n| {
                adjacent[n as usize]
                    .iter()
                    .any(|&m| on_path[self.comp[m as usize] as usize] == stamp)
            });
            if next_to_path {
                on_path[c as usize] = stamp;
            }
        }
        let (merged, mut rest): (Vec<u32>, Vec<u32>) = side
            .into_iter()
            .partition(|&c| on_path[c as usize] == stamp);

        let mut all = std::mem::take(&mut self.members[far as usize]);
        if all.is_empty() {
            all.push(far);
        }
        for &c in &merged {
            self.by_ord.remove(&self.ord[c as usize]);
            match std::mem::take(&mut self.members[c as usize]) {
                alone if alone.is_empty() => all.push(c),
                group => all.extend(group),
            }
        }
        for &n in &all {
            self.comp[n as usize] = far;
        }
        self.members[far as usize] = all;

        if !rest.is_empty() {
            rest.sort_unstable_by_key(|&c| self.ord[c as usize]);
            match dir {
                Dir::Forward => self.move_after(far, rest),
                Dir::Backward => self.move_before(far, rest),
            }
        }
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

    /// Gives `nodes`, in the order of their current keys, new keys strictly between `lo` and
    /// `hi` (`None`: no upper neighbour).
    ///
    /// When the gap is too narrow, the neighbours on both sides are spread out with them, over
    /// a window twice as wide each time until its keys can be [`spacing_wanted`] apart: the
    /// list-labelling scheme of order-maintenance structures. Relabelling stays local, where
    /// renumbering the whole order would cost every class each time a hub's neighbourhood
    /// fills up.
    fn place_between(&mut self, lo: u64, hi: Option<u64>, mut nodes: Vec<u32>) {
        nodes.sort_unstable_by_key(|&n| self.ord[n as usize]);
        for &n in &nodes {
            self.by_ord.remove(&self.ord[n as usize]);
        }
        let k = nodes.len() as u64;
        let hi_key = hi.unwrap_or(lo.saturating_add(KEY_GAP * (k + 1)));
        if hi_key - lo > k {
            return self.spread(lo, hi_key, &nodes);
        }
        let mut width = 1;
        loop {
            let mut left: Vec<u32> = self
                .by_ord
                .range(..=lo)
                .rev()
                .take(width)
                .map(|(_, &n)| n)
                .collect();
            left.reverse();
            let right: Vec<u32> = self
                .by_ord
                .range(hi_key..)
                .take(width)
                .map(|(_, &n)| n)
                .collect();
            // The window's bounds: the keys of the next neighbours out, or open ends.
            let start = match left.first() {
                Some(&first) if left.len() == width => {
                    let first = self.ord[first as usize];
                    self.by_ord
                        .range(..first)
                        .next_back()
                        .map_or(0, |(&key, _)| key)
                }
                _ => 0,
            };
            let count = (left.len() + nodes.len() + right.len()) as u64;
            let end = match right.last() {
                Some(&last) if right.len() == width => {
                    let last = self.ord[last as usize];
                    self.by_ord.range(last + 1..).next().map(|(&key, _)| key)
                }
                _ => None,
            }
            .unwrap_or(start + KEY_GAP * (count + 1));
            if (end - start) / (count + 1) >= spacing_wanted(width) {
                for n in left.iter().chain(&right) {
                    self.by_ord.remove(&self.ord[*n as usize]);
                }
                let window: Vec<u32> = left.into_iter().chain(nodes).chain(right).collect();
                return self.spread(start, end, &window);
            }
            width *= 2;
        }
    }

    /// Gives `nodes`, in this order, evenly spaced keys strictly between `lo` and `hi`.
    fn spread(&mut self, lo: u64, hi: u64, nodes: &[u32]) {
        let step = (hi - lo) / (nodes.len() as u64 + 1);
        for (i, &n) in nodes.iter().enumerate() {
            let key = lo + step * (i as u64 + 1);
            self.ord[n as usize] = key;
            self.by_ord.insert(key, n);
        }
    }

    /// A path `from → … → to` in the split graph (which must exist), among the nodes whose
    /// component is keyed between `lb` and `ub`, where every such path lies. Searched from both
    /// ends in turns, an edge at a time, so that a hub at one end (`ALLOC`) costs no more than
    /// the other end's search: short, though not always the shortest.
    fn find_path(&self, from: u32, to: u32, lb: u64, ub: u64) -> Vec<u32> {
        let mut forward = PathSearch::new(Dir::Forward, from);
        let mut backward = PathSearch::new(Dir::Backward, to);
        let meet = loop {
            let f = self.path_step(&mut forward, &backward, lb, ub);
            if let Some(meet) = f {
                break meet;
            }
            let b = self.path_step(&mut backward, &forward, lb, ub);
            if let Some(meet) = b {
                break meet;
            }
            if forward.done() && backward.done() {
                // Unreachable while the order is topological; a report with the new
                // dependency alone beats no report.
                debug_assert!(false, "no path {from} → {to}");
                return vec![from, to];
            }
        };
        let mut path = forward.trail(meet);
        path.reverse();
        path.extend(backward.trail(meet).into_iter().skip(1));
        path
    }

    /// Follows `search`'s next edge inside the keys `lb..=ub`; the node where it meets
    /// `other`, if it does.
    fn path_step(
        &self,
        search: &mut PathSearch,
        other: &PathSearch,
        lb: u64,
        ub: u64,
    ) -> Option<u32> {
        let adjacent = match search.dir {
            Dir::Forward => &self.out,
            Dir::Backward => &self.inn,
        };
        loop {
            let &n = search.queue.get(search.next)?;
            let Some(&m) = adjacent[n as usize].get(search.edge) else {
                (search.next, search.edge) = (search.next + 1, 0);
                continue;
            };
            search.edge += 1;
            if !(lb..=ub).contains(&self.key(m)) || search.parent.contains_key(&m) {
                return None;
            }
            search.parent.insert(m, n);
            search.queue.push(m);
            return other.parent.contains_key(&m).then_some(m);
        }
    }
}

/// One side of [`Graph::find_path`]: the nodes found, each with the node it was found from.
struct PathSearch {
    dir: Dir,
    parent: HashMap<u32, u32>,
    queue: Vec<u32>,
    next: usize,
    edge: usize,
}

impl PathSearch {
    fn new(dir: Dir, start: u32) -> PathSearch {
        PathSearch {
            dir,
            parent: HashMap::from([(start, start)]),
            queue: vec![start],
            next: 0,
            edge: 0,
        }
    }

    fn done(&self) -> bool {
        self.next == self.queue.len()
    }

    /// The nodes from `n` back to where the search started.
    fn trail(&self, mut n: u32) -> Vec<u32> {
        let mut trail = vec![n];
        while self.parent[&n] != n {
            n = self.parent[&n];
            trail.push(n);
        }
        trail
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashSet, VecDeque};

    fn site() -> &'static Location<'static> {
        Location::caller()
    }

    fn add(g: &mut Graph, a: ClassId, ar: Access, b: ClassId, br: Access) -> Added {
        match g.add(a, ar, b, br, site(), &mut StackTrace::default) {
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
