//! The order of the dependency graph, without its payload: which classes reach which, kept as
//! an incremental topological order of strongly connected components, with cycle detection in
//! the kernel's read/write-aware sense. The process's graph (`checker/graph.rs`) keeps the
//! dependencies' sites and stack traces and asks this order about each new one;
//! `cargo-lockdep` replays the dependencies of many processes' report files through the same
//! type, so that a merged graph is judged by exactly the in-process rules.
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
//! # Reads of a class nobody waits to write
//!
//! A non-recursive read (`X -(? N)-> Y`, `Y` taken by `read()`) waits behind a writer that
//! holds `Y` or waits for it. A writer that holds `Y` and waits for something else is a
//! dependency out of `Y` held exclusively, which leaves from `Y.R` too. So until a writer has
//! *waited* for `Y` (a blocking or timed write, an upgrade: [`write`](DependencyOrder::write)),
//! a non-recursive read of `Y` blocks exactly when a recursive one would: it is inserted as
//! one (into `Y.R`), and held back. When `Y` is first written, the held-back dependencies are
//! inserted as they are (into `Y.N`), closing the cycles that needed a read of `Y` to block
//! behind a waiting writer then. A class that is only ever read (a configuration behind an
//! `RwLock`) is never on a cycle through its reads.
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
//!
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

/// A class, by number: the checker's class id, or a merger's own numbering.
type ClassId = u32;

/// Dependency type bits, as the kernel's `DEP_*_BIT`: how the first class was held (E/S) and
/// how the second was acquired (R = recursive read, N = anything else).
///
/// # Examples
///
/// ```
/// use lockdep_report::dep;
///
/// assert_eq!(dep::names(dep::EN | dep::SR), ["EN", "SR"]);
/// assert_eq!(dep::from_name("ER"), Some(dep::ER));
/// ```
pub mod dep {
    use crate::Access;

    /// Held shared, acquired as a recursive read.
    pub const SR: u8 = 1 << 0;
    /// Held exclusively, acquired as a recursive read.
    pub const ER: u8 = 1 << 1;
    /// Held shared, acquired non-recursively.
    pub const SN: u8 = 1 << 2;
    /// Held exclusively, acquired non-recursively.
    pub const EN: u8 = 1 << 3;

    const NAMES: [(u8, &str); 4] = [(EN, "EN"), (ER, "ER"), (SN, "SN"), (SR, "SR")];

    /// The names of the types in `bits` (`EN`, `ER`, `SN`, `SR`, in this order), as JSON and
    /// DOT write them.
    pub fn names(bits: u8) -> Vec<&'static str> {
        NAMES
            .iter()
            .filter(|(b, _)| bits & b != 0)
            .map(|&(_, n)| n)
            .collect()
    }

    /// The bit of a type's name, as [`names`] writes it; `None` for anything else.
    pub fn from_name(name: &str) -> Option<u8> {
        NAMES.iter().find(|(_, n)| *n == name).map(|&(b, _)| b)
    }

    /// The dependency type of "the first class held as `held`, then the second acquired as
    /// `acquired`".
    ///
    /// ```
    /// use lockdep_report::{dep, Access};
    ///
    /// assert_eq!(dep::of(Access::Read, Access::RecursiveRead), dep::SR);
    /// assert_eq!(dep::of(Access::Write, Access::Read), dep::EN);
    /// ```
    #[inline]
    pub fn of(held: Access, acquired: Access) -> u8 {
        match (held.is_shared(), acquired == Access::RecursiveRead) {
            (true, true) => SR,
            (false, true) => ER,
            (true, false) => SN,
            (false, false) => EN,
        }
    }

    /// `-(?R)->`: the second class was acquired as a recursive read (in some types of `bits`).
    pub fn into_recursive(bits: u8) -> bool {
        bits & (SR | ER) != 0
    }

    /// The types of `bits` in which the second class was acquired non-recursively (`EN`,
    /// `SN`).
    pub fn non_recursive(bits: u8) -> u8 {
        bits & (EN | SN)
    }

    /// `bits` with each non-recursive acquisition turned into a recursive read (`EN` into
    /// `ER`, `SN` into `SR`): how a read of a class no writer waits for blocks.
    ///
    /// ```
    /// use lockdep_report::dep;
    ///
    /// assert_eq!(dep::as_recursive(dep::EN | dep::SR), dep::ER | dep::SR);
    /// ```
    pub fn as_recursive(bits: u8) -> u8 {
        // EN and SN are ER and SR two bits up.
        (bits & (SR | ER)) | (non_recursive(bits) >> 2)
    }

    /// How the two classes of a dependency of types `bits` are known to have been taken, at
    /// the strongest: the first held exclusively if any type says so (else shared), the
    /// second acquired non-recursively if any type says so (else as a recursive read). A
    /// non-recursive read and a write are one type: told apart only where the acquisition
    /// itself is known.
    ///
    /// ```
    /// use lockdep_report::{dep, Access};
    ///
    /// assert_eq!(dep::accesses(dep::SR), (Access::Read, Access::RecursiveRead));
    /// assert_eq!(dep::accesses(dep::SR | dep::EN), (Access::Write, Access::Write));
    /// ```
    pub fn accesses(bits: u8) -> (Access, Access) {
        let held = if bits & (EN | ER) != 0 {
            Access::Write
        } else {
            Access::Read
        };
        let acquired = if bits & (EN | SN) != 0 {
            Access::Write
        } else {
            Access::RecursiveRead
        };
        (held, acquired)
    }
}

/// The split-node order of a dependency graph: which classes reach which (the payload-free
/// part of the graph), kept topological over strongly connected components.
///
/// [`insert`](DependencyOrder::insert) adds a dependency and returns the path it closes when
/// its classes *become* cyclic with each other; [`write`](DependencyOrder::write) says a
/// writer waited for a class, which may close the cycles held back on its reads (see the
/// module's docs). Not a stable API: it is exported (hidden) for `cargo-lockdep`, which
/// merges report files by the in-process rules.
///
/// # Examples
///
/// ```
/// use lockdep_report::{dep, DependencyOrder};
///
/// let mut order = DependencyOrder::default();
/// for class in 1..=3 {
///     order.write(class);
/// }
/// assert_eq!(order.insert(1, 2, dep::EN), None);
/// // 2 → 1 closes 1 → 2: the path from 1 back to 2.
/// assert_eq!(order.insert(2, 1, dep::EN), Some(vec![1, 2]));
/// // 4 taken as a recursive read under 3, and 3 taken under 4 held shared: 4 is entered by a
/// // recursive read and left shared, so this is no strong cycle (the kernel's rlock_ABBA2).
/// assert_eq!(order.insert(3, 4, dep::ER), None);
/// assert_eq!(order.insert(4, 3, dep::SN), None);
/// // 5 read under 3 held exclusively, and 3 taken under 5 held for read: a deadlock only
/// // when a writer waits for 5 (the kernel's rwsem_ABBA2), found when one first does.
/// assert_eq!(order.insert(3, 5, dep::EN), None);
/// assert_eq!(order.insert(5, 3, dep::SN), None);
/// let closed = order.write(5);
/// assert_eq!(closed.len(), 1);
/// assert_eq!((closed[0].from, closed[0].path.clone()), (3, vec![5, 3]));
/// ```
#[derive(Default, Debug)]
pub struct DependencyOrder {
    /// Which classes a writer has waited for (see [`write`](DependencyOrder::write)), by
    /// class; a class past the end has not been written.
    written: Vec<bool>,
    /// The non-recursive types of the dependencies into each class not yet written, inserted
    /// as recursive reads meanwhile: `(from, types)` by the acquired class.
    held_back: HashMap<ClassId, Vec<(ClassId, u8)>>,
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
    /// Bumped whenever components move past each other or merge, a class is added or first
    /// written: while it is unchanged, no [`closes`](DependencyOrder::closes) answered
    /// `false` can turn `true` (a dependency inserted without moving anything runs along the
    /// order, and a path back against it would need one that does not).
    version: u64,
    /// By class, the version at which it was added, written, or a component of its nodes last
    /// moved or merged (see [`changed_since`](DependencyOrder::changed_since)).
    changed: Vec<u64>,
}

/// A dependency held back on a read until its class was written, which closes a cycle now
/// that it is inserted (see [`DependencyOrder::write`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Released {
    /// The class held.
    pub from: ClassId,
    /// Its types that were held back (`EN`, `SN`).
    pub deps: u8,
    /// The path it closes, from the written class back to `from`.
    pub path: Vec<ClassId>,
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

/// In `changed` (by class, see `DependencyOrder::changed`), `class` changed at `version`.
fn mark(changed: &mut Vec<u64>, class: ClassId, version: u64) {
    let index = class as usize;
    if changed.len() <= index {
        changed.resize(index + 1, 0);
    }
    changed[index] = version;
}

#[inline]
fn node(class: ClassId, recursive: bool) -> u32 {
    class * 2 + recursive as u32
}

/// The split edges of the dependency `from → to` of types `deps`: `X -(a b)-> Y` is an edge
/// into `Y.b` from `X.N`, and from `X.R` too when `a = E` (see the module's docs).
fn split_edges(from: ClassId, to: ClassId, deps: u8) -> impl Iterator<Item = (u32, u32)> {
    [(dep::EN | dep::SN, false), (dep::ER | dep::SR, true)]
        .into_iter()
        .filter(move |&(bits, _)| deps & bits != 0)
        .flat_map(move |(bits, recursive)| {
            let target = node(to, recursive);
            let exclusive = deps & bits & (dep::EN | dep::ER) != 0;
            let sources = [Some(node(from, false)), exclusive.then(|| node(from, true))];
            sources
                .into_iter()
                .flatten()
                .map(move |source| (source, target))
        })
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

impl DependencyOrder {
    /// Records the dependency `from → to` with the dependency types `deps` (any union of the
    /// [`dep`] bits), and returns the path it closes, if its classes were not on one cycle
    /// before: the classes from `to` back to `from` (`path[0] == to`, `path.last() == from`;
    /// `[to]` for a dependency of a class on itself). The dependency is recorded either way:
    /// later ones may close other cycles through it. Recording a dependency type again changes
    /// nothing and returns `None`.
    ///
    /// The classes are numbers; the order grows to the largest one it is given (keep them
    /// dense).
    ///
    /// ```
    /// use lockdep_report::{dep, DependencyOrder};
    ///
    /// let mut order = DependencyOrder::default();
    /// for (from, to) in [(4, 3), (3, 2), (2, 1)] {
    ///     assert_eq!(order.insert(from, to, dep::EN), None);
    /// }
    /// assert_eq!(order.insert(1, 4, dep::EN), Some(vec![4, 3, 2, 1]));
    /// // Inside the reported cycle: nothing new.
    /// assert_eq!(order.insert(3, 1, dep::EN), None);
    /// ```
    ///
    /// A non-recursive acquisition of a class no writer has waited for yet is inserted as a
    /// recursive read, and held back until one does (see [`write`](DependencyOrder::write)).
    #[inline]
    pub fn insert(&mut self, from: ClassId, to: ClassId, deps: u8) -> Option<Vec<ClassId>> {
        let now = self.hold_back_reads(from, to, deps);
        self.insert_types(from, to, now)
    }

    /// Whether a writer has waited for `class` (see [`write`](DependencyOrder::write)).
    pub fn is_written(&self, class: ClassId) -> bool {
        self.written.get(class as usize).copied().unwrap_or(false)
    }

    /// The order's version: while it is unchanged, a [`closes`](DependencyOrder::closes)
    /// that answered `false` still would. It changes when the order moves (an insertion
    /// against it, a cycle collapsed, a question that repaired it), a class is added or
    /// first written.
    ///
    /// ```
    /// use lockdep_report::{dep, DependencyOrder};
    ///
    /// let mut order = DependencyOrder::default();
    /// for class in 1..=3 {
    ///     order.write(class);
    /// }
    /// order.insert(1, 3, dep::EN);
    /// let before = order.version();
    /// // Along the order: nothing moves.
    /// order.insert(2, 3, dep::EN);
    /// assert_eq!(order.version(), before);
    /// // Against it, with no path back: the question repairs the order, once.
    /// assert!(!order.closes(2, 1, dep::EN));
    /// let repaired = order.version();
    /// assert!(repaired > before);
    /// assert!(!order.closes(2, 1, dep::EN));
    /// assert_eq!(order.version(), repaired);
    /// ```
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Whether `class` was added or first written, or its place in the order may have moved
    /// past another class's, after the order's version was `version`: a
    /// [`closes`](DependencyOrder::closes) of `from → to` that answered `false` at `version`
    /// answers `false` still, unless `from` or `to` changed since.
    ///
    /// ```
    /// use lockdep_report::{dep, DependencyOrder};
    ///
    /// let mut order = DependencyOrder::default();
    /// for class in 1..=4 {
    ///     order.write(class);
    /// }
    /// order.insert(1, 4, dep::EN);
    /// assert!(!order.closes(1, 2, dep::EN));
    /// let asked = order.version();
    /// // 3 → 4 moves 3 (or 4) but neither 1 nor 2.
    /// order.insert(4, 3, dep::EN);
    /// assert!(!order.changed_since(1, asked) && !order.changed_since(2, asked));
    /// ```
    pub fn changed_since(&self, class: ClassId, version: u64) -> bool {
        self.changed
            .get(class as usize)
            .is_none_or(|&changed| changed > version)
    }

    /// A writer waited for `class` (a blocking or timed write, an upgrade), so that a read of
    /// it may now wait behind one: the dependencies held back on its reads are inserted as
    /// they are, and each cycle they close is returned, in the order they were first held
    /// back. Nothing happens for a class written before.
    ///
    /// ```
    /// use lockdep_report::{dep, DependencyOrder};
    ///
    /// let mut order = DependencyOrder::default();
    /// order.write(1);
    /// // 2 is read under 1, and 1 taken under 2 held for read: no writer waits for 2 yet.
    /// assert_eq!(order.insert(1, 2, dep::EN), None);
    /// assert_eq!(order.insert(2, 1, dep::SN), None);
    /// let closed = order.write(2);
    /// assert_eq!(closed[0].deps, dep::EN);
    /// assert!(order.write(2).is_empty());
    /// ```
    pub fn write(&mut self, class: ClassId) -> Vec<Released> {
        let index = class as usize;
        if self.written.len() <= index {
            self.written.resize(index + 1, false);
        }
        if std::mem::replace(&mut self.written[index], true) {
            return Vec::new();
        }
        self.version += 1;
        self.mark(class);
        let held_back = self.held_back.remove(&class).unwrap_or_default();
        held_back
            .into_iter()
            .filter_map(|(from, deps)| {
                let path = self.insert_types(from, class, deps)?;
                Some(Released { from, deps, path })
            })
            .collect()
    }

    /// The types of `from → to` to insert now: `deps`, but while no writer has waited for
    /// `to`, its non-recursive types as recursive reads, those held back.
    fn hold_back_reads(&mut self, from: ClassId, to: ClassId, deps: u8) -> u8 {
        let reads = dep::non_recursive(deps);
        if reads == 0 || self.is_written(to) {
            return deps;
        }
        let held_back = self.held_back.entry(to).or_default();
        match held_back.iter_mut().find(|(f, _)| *f == from) {
            Some((_, types)) => *types |= reads,
            None => held_back.push((from, reads)),
        }
        dep::as_recursive(deps)
    }

    /// [`insert`](DependencyOrder::insert) of exactly the types `deps`.
    fn insert_types(&mut self, from: ClassId, to: ClassId, deps: u8) -> Option<Vec<ClassId>> {
        self.ensure_class(from.max(to));
        let mut cycle = None;
        for (source, target) in split_edges(from, to, deps) {
            if let Some(path) = self.insert_split(source, target) {
                cycle.get_or_insert_with(|| path.iter().map(|n| n / 2).collect());
            }
        }
        cycle
    }

    /// Whether [`insert`](DependencyOrder::insert) of `from → to` with the types `deps`
    /// would close a new cycle, without inserting it.
    ///
    /// Asking takes `&mut self` because a question against the order that finds no path moves
    /// the order as the insertion would (still topological, nothing else changed), so that
    /// asking again is answered by the keys alone: the checker asks this of every dependency
    /// held back in a first hold, each time the graph changes.
    ///
    /// ```
    /// use lockdep_report::{dep, DependencyOrder};
    ///
    /// let mut order = DependencyOrder::default();
    /// order.write(1);
    /// order.write(2);
    /// order.insert(1, 2, dep::EN);
    /// assert!(order.closes(2, 1, dep::EN));
    /// assert!(!order.closes(1, 2, dep::EN));
    /// assert_eq!(order.insert(2, 1, dep::EN), Some(vec![1, 2]));
    /// ```
    pub fn closes(&mut self, from: ClassId, to: ClassId, deps: u8) -> bool {
        let deps = if self.is_written(to) {
            deps
        } else {
            dep::as_recursive(deps)
        };
        split_edges(from, to, deps).any(|(x, y)| self.split_closes(x, y))
    }

    /// Whether the split edge `x → y` would close a new cycle: `y`'s component reaches
    /// `x`'s, and they are two (a self-loop always does). When it would not, `x`'s component
    /// comes before `y`'s in the order afterwards.
    fn split_closes(&mut self, x: u32, y: u32) -> bool {
        if x == y {
            return true;
        }
        let known = |n: u32| (n as usize) < self.comp.len();
        if !known(x) || !known(y) || self.out[x as usize].contains(&y) {
            return false;
        }
        let (cx, cy) = (self.comp[x as usize], self.comp[y as usize]);
        // Against the order, the insertion's own search: a path back, or the order repaired.
        cx != cy
            && self.ord[cy as usize] < self.ord[cx as usize]
            && self.reorder_unless_path(cx, cy).is_some()
    }

    /// Approximate heap bytes held by the order.
    ///
    /// ```
    /// let mut order = lockdep_report::DependencyOrder::default();
    /// order.insert(1, 2, lockdep_report::dep::EN);
    /// assert!(order.heap_bytes() > 0);
    /// ```
    pub fn heap_bytes(&self) -> usize {
        let lists: usize = self
            .out
            .iter()
            .chain(self.inn.iter())
            .chain(self.members.iter())
            .map(|v| v.capacity() * 4 + std::mem::size_of::<Vec<u32>>())
            .sum();
        lists
            + self.ord.capacity() * 8
            + self.by_ord.len() * 24
            + self.written.capacity()
            + self
                .held_back
                .values()
                .map(|v| v.capacity() * 8 + 40)
                .sum::<usize>()
            + (self.comp.capacity() + self.fmark.capacity() + self.bmark.capacity()) * 4
    }

    fn ensure_class(&mut self, class: ClassId) {
        let needed = (class as usize + 1) * 2;
        if self.ord.len() >= needed {
            return;
        }
        self.version += 1;
        for new in self.ord.len() as u32 / 2..=class {
            self.mark(new);
        }
        self.make_room_at_top();
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

    /// `class` changed at the current version.
    fn mark(&mut self, class: ClassId) {
        mark(&mut self.changed, class, self.version);
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
    /// [`merge`](DependencyOrder::merge) to go on with.
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
    /// [`reorder_unless_path`](DependencyOrder::reorder_unless_path) found the path back, in
    /// turns, an edge at a time, until one side is complete (the smaller: a hub on one side
    /// costs no more than the other). Say the forward side: of what `cy` reaches, the components that
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
        self.version += 1;
        for &n in &all {
            self.comp[n as usize] = far;
            self.mark(n / 2);
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
        self.make_room_at_top();
        let lo = self.ord[anchor as usize];
        let hi = self.by_ord.range(lo + 1..).next().map(|(&k, _)| k);
        self.place_between(lo, hi, nodes);
    }

    /// Renumbers the order from the bottom when its top key has climbed past half the keys:
    /// each class added, and each move after the last component, takes keys above it, and
    /// with nothing to stop them they would overflow in a long run. The order of components
    /// stays as it is (so no answer changes); every gap is [`KEY_GAP`] again (less for an
    /// order too large for that, which the class limits rule out).
    fn make_room_at_top(&mut self) {
        if self
            .by_ord
            .keys()
            .next_back()
            .is_none_or(|&top| top <= u64::MAX / 2)
        {
            return;
        }
        let components: Vec<u32> = std::mem::take(&mut self.by_ord).into_values().collect();
        let gap = KEY_GAP.min(u64::MAX / 4 / (components.len() as u64 + 1));
        for (i, c) in components.into_iter().enumerate() {
            let key = gap * (i as u64 + 1);
            self.ord[c as usize] = key;
            self.by_ord.insert(key, c);
        }
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
        // These components move past others; their neighbours, spread with them, keep their
        // order with everything.
        self.version += 1;
        for &c in &nodes {
            for &n in group(&self.members, &c) {
                mark(&mut self.changed, n / 2, self.version);
            }
        }
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

/// One side of [`DependencyOrder::find_path`]: the nodes found, each with the node it was
/// found from.
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
    use std::collections::{BTreeSet, VecDeque};

    use proptest::prelude::*;

    use crate::order::{dep, node, DependencyOrder, Released, KEY_GAP};

    /// The order's semantics, naively: the split graph as a set of edges, reachability by a
    /// full search each time; the dependencies as recorded, each read of a class no writer
    /// waited for as a recursive one.
    #[derive(Default)]
    struct Model {
        split: BTreeSet<(u32, u32)>,
        classes: BTreeSet<(u32, u32)>,
        /// Every dependency with its types, as recorded.
        deps: BTreeSet<(u32, u32, u8)>,
        written: BTreeSet<u32>,
    }

    impl Model {
        fn reaches(&self, from: u32, to: u32) -> bool {
            let mut seen = BTreeSet::from([from]);
            let mut queue = VecDeque::from([from]);
            while let Some(n) = queue.pop_front() {
                if n == to {
                    return true;
                }
                for &(_, next) in self.split.range((n, 0)..=(n, u32::MAX)) {
                    if seen.insert(next) {
                        queue.push_back(next);
                    }
                }
            }
            false
        }

        /// Whether the dependency closes a cycle among classes that were not on one
        /// together: one of its split edges goes from a node that its target reaches, and
        /// the two did not reach each other before (a dependency of a class on itself always
        /// does).
        fn insert(&mut self, from: u32, to: u32, deps: u8) -> bool {
            self.deps.insert((from, to, deps));
            self.classes.insert((from, to));
            let deps = if self.written.contains(&to) {
                deps
            } else {
                dep::as_recursive(deps)
            };
            self.insert_split(from, to, deps)
        }

        /// Whether writing `class` closes a cycle: its non-recursive dependencies are now
        /// what they are.
        fn write(&mut self, class: u32) -> bool {
            if !self.written.insert(class) {
                return false;
            }
            let into: Vec<(u32, u8)> = self
                .deps
                .iter()
                .filter(|&&(_, to, _)| to == class)
                .map(|&(from, _, deps)| (from, dep::non_recursive(deps)))
                .collect();
            let mut closes = false;
            for (from, deps) in into {
                closes |= self.insert_split(from, class, deps);
            }
            closes
        }

        fn insert_split(&mut self, from: u32, to: u32, deps: u8) -> bool {
            let mut closes = false;
            for (bits, recursive) in [(dep::EN | dep::SN, false), (dep::ER | dep::SR, true)] {
                if deps & bits == 0 {
                    continue;
                }
                let target = node(to, recursive);
                let sources = if deps & bits & (dep::EN | dep::ER) != 0 {
                    vec![node(from, false), node(from, true)]
                } else {
                    vec![node(from, false)]
                };
                for source in sources {
                    if source == target {
                        closes = true;
                        continue;
                    }
                    if self.split.contains(&(source, target)) {
                        continue;
                    }
                    let knot = self.reaches(source, target) && self.reaches(target, source);
                    closes |= !knot && self.reaches(target, source);
                    self.split.insert((source, target));
                }
            }
            closes
        }
    }

    /// A dependency, or (types 0) a writer waiting for a class.
    fn operations() -> impl Strategy<Value = Vec<(u32, u32, u8)>> {
        let op = prop_oneof![
            4 => (0u32..7, 0u32..7, 1u8..16),
            1 => (0u32..7).prop_map(|class| (class, class, 0)),
        ];
        prop::collection::vec(op, 1..48)
    }

    /// Checks that `path` runs from `to` back to `from` along dependencies the model has.
    fn check_path(model: &Model, from: u32, to: u32, path: &[u32]) -> Result<(), TestCaseError> {
        prop_assert_eq!(path[0], to);
        prop_assert_eq!(*path.last().unwrap(), from);
        for pair in path.windows(2) {
            prop_assert!(
                model.classes.contains(&(pair[0], pair[1])),
                "{:?} is no dependency, in {:?}",
                pair,
                path
            );
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Every verdict of the order is the naive model's, and every path it reports runs
        /// from the new dependency's acquired class back to its held class along recorded
        /// dependencies; a write's too.
        #[test]
        fn every_verdict_is_the_naive_models(ops in operations()) {
            let mut order = DependencyOrder::default();
            let mut model = Model::default();
            for (i, &(from, to, bits)) in ops.iter().enumerate() {
                if bits == 0 {
                    let released = order.write(to);
                    prop_assert_eq!(!released.is_empty(), model.write(to), "write {} of {:?}", i, ops);
                    for r in released {
                        check_path(&model, r.from, to, &r.path)?;
                    }
                    continue;
                }
                let predicted = order.closes(from, to, bits);
                let got = order.insert(from, to, bits);
                prop_assert_eq!(predicted, got.is_some(), "closes() at {} of {:?}", i, ops);
                let want = model.insert(from, to, bits);
                prop_assert_eq!(got.is_some(), want, "dependency {} of {:?}", i, ops);
                if let Some(path) = got {
                    check_path(&model, from, to, &path)?;
                }
            }
        }

        /// A question answered "no" is answered "no" again, and moves nothing, while neither
        /// of its classes changed (what lets the checker skip asking again).
        #[test]
        fn a_no_stands_while_its_classes_do(ops in operations()) {
            let mut order = DependencyOrder::default();
            let mut noes: Vec<(u32, u32, u8, u64)> = Vec::new();
            for &(from, to, bits) in &ops {
                if bits == 0 {
                    order.write(to);
                } else {
                    order.insert(from, to, bits);
                }
                noes.retain(|&(f, t, _, v)| !order.changed_since(f, v) && !order.changed_since(t, v));
                for &(f, t, b, _) in &noes {
                    let version = order.version();
                    prop_assert!(!order.closes(f, t, b), "{} -> {} ({}) in {:?}", f, t, b, ops);
                    prop_assert_eq!(order.version(), version);
                }
                let asked = if bits == 0 { dep::EN } else { bits };
                for (f, t) in [(to, from), (from, to)] {
                    if !order.closes(f, t, asked) {
                        noes.push((f, t, asked, order.version()));
                    }
                }
            }
        }
    }

    /// An order in which writers have waited for classes `0..n`.
    fn written(n: u32) -> DependencyOrder {
        let mut order = DependencyOrder::default();
        for class in 0..n {
            assert!(order.write(class).is_empty());
        }
        order
    }

    /// Keys near the top of the range (a long run's appends and moves after the last
    /// component climb there): the order is renumbered, and its verdicts stay the model's.
    #[test]
    fn the_order_is_renumbered_before_its_keys_overflow() {
        let mut order = written(11);
        let mut model = Model::default();
        for class in 0..11 {
            model.write(class);
        }
        assert_eq!(
            order.insert(0, 1, dep::EN),
            model.insert(0, 1, dep::EN).then(|| vec![1, 0])
        );
        // Lift every key to just below the top, keeping their order.
        let lift = u64::MAX - KEY_GAP - *order.by_ord.keys().next_back().unwrap();
        let keys: Vec<(u64, u32)> = std::mem::take(&mut order.by_ord).into_iter().collect();
        for (key, c) in keys {
            order.ord[c as usize] = key + lift;
            order.by_ord.insert(key + lift, c);
        }
        // New classes appended, and components moved after the last one.
        for (from, to) in [(9, 2), (3, 9), (10, 9), (2, 3), (7, 6), (6, 10), (10, 7)] {
            assert_eq!(
                order.insert(from, to, dep::EN).is_some(),
                model.insert(from, to, dep::EN)
            );
        }
        assert!(*order.by_ord.keys().next_back().unwrap() < u64::MAX / 2);
    }

    #[test]
    fn a_cycle_is_reported_once_when_its_classes_become_cyclic() {
        let mut order = written(5);
        assert_eq!(order.insert(1, 2, dep::EN), None);
        assert_eq!(order.insert(2, 3, dep::EN), None);
        assert_eq!(order.insert(3, 1, dep::EN), Some(vec![1, 2, 3]));
        // Among classes already on the reported cycle: nothing new.
        assert_eq!(order.insert(1, 3, dep::EN), None);
        assert_eq!(order.insert(3, 2, dep::EN), None);
        // A type seen again changes nothing.
        assert_eq!(order.insert(1, 2, dep::EN), None);
        // A new class joining the knot closes a new cycle.
        assert_eq!(order.insert(3, 4, dep::EN), None);
        let path = order.insert(4, 1, dep::EN).expect("a new cycle");
        assert_eq!((path[0], path[path.len() - 1]), (1, 4), "{path:?}");
    }

    #[test]
    fn only_strong_paths_are_cycles() {
        let mut order = written(3);
        // 2 entered by a recursive read and left while held shared: not strong.
        assert_eq!(order.insert(1, 2, dep::ER), None);
        assert_eq!(order.insert(2, 1, dep::SN), None);
        // Left while held exclusively: strong.
        assert_eq!(order.insert(2, 1, dep::EN), Some(vec![1, 2]));
    }

    #[test]
    fn a_read_cycle_is_held_back_until_a_writer_waits() {
        // rwsem_ABBA2: 2 read under 1, then 1 taken under 2 held for read.
        let mut order = written(2);
        assert_eq!(order.insert(1, 2, dep::EN), None);
        assert_eq!(order.insert(2, 1, dep::SN), None);
        assert!(!order.is_written(2));
        let released = order.write(2);
        assert_eq!(
            released,
            vec![Released {
                from: 1,
                deps: dep::EN,
                path: vec![2, 1]
            }]
        );
        assert!(order.is_written(2));
        // Inserted now: the cycle is known, a write again changes nothing.
        assert!(order.write(2).is_empty());
        assert_eq!(order.insert(1, 2, dep::EN), None);
    }

    #[test]
    fn a_class_only_ever_read_is_on_no_cycle_through_its_reads() {
        let mut order = written(2);
        // 2 is read under 1 and under 3, and held for read while 1 and 3 are taken.
        for (from, to, deps) in [(1, 2, dep::EN), (2, 1, dep::SN), (3, 2, dep::SN)] {
            assert_eq!(order.insert(from, to, deps), None);
        }
        order.write(3);
        assert_eq!(order.insert(2, 3, dep::SN), None);
        assert_eq!(order.insert(1, 3, dep::EN), None);
        assert_eq!(order.insert(3, 1, dep::EN), Some(vec![1, 3]));
    }

    #[test]
    fn a_writer_that_holds_an_unwritten_class_closes_cycles_at_once() {
        // 2 taken by a try-write (never waited for) and held while 1 is taken; 2 read under 1.
        let mut order = written(2);
        assert_eq!(order.insert(1, 2, dep::EN), None);
        assert_eq!(order.insert(2, 1, dep::EN), Some(vec![1, 2]));
        // A writer waiting for 2 makes the read block behind it too: another state of 2 joins
        // the cycle, over the same classes (a report is made once per set of classes).
        assert_eq!(order.write(2)[0].path, vec![2, 1]);
    }

    #[test]
    fn a_class_on_itself_is_a_cycle_every_time() {
        let mut order = written(6);
        assert_eq!(order.insert(5, 5, dep::EN), Some(vec![5]));
        assert_eq!(order.insert(5, 5, dep::EN), Some(vec![5]));
    }

    #[test]
    fn a_long_chain_then_its_closing_dependency() {
        let mut order = written(1001);
        for c in 0..1000 {
            assert_eq!(order.insert(c, c + 1, dep::EN), None);
        }
        let path = order.insert(1000, 0, dep::EN).expect("a cycle");
        assert_eq!(path, (0..=1000).collect::<Vec<_>>());
    }
}
