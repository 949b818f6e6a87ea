//! Differential testing: random programs run through the real checker and through a
//! deliberately naive reference model, which must agree on whether a violation happens, where,
//! and of what kind.
//!
//! The reference records a dependency from *every* held entry to each blocking acquisition
//! (no chain cache, no "stop at the first non-trylock entry" shortcut, no pool-entry
//! collapsing), keeps every edge, and looks for a closed strong path by breadth-first search
//! over (class, entered-by-recursive-read) states, as the kernel's lockdep-design.rst states the
//! rule. The real checker is run op by op; after each op the violations recorded for the case's
//! classes are compared with the reference's verdict — every verdict of the program, not only
//! the first: a dependency that closes a cycle stays in both graphs, and later ones are judged
//! against it.
//!
//! A dependency `h → n` closes a cycle when the state it enters reaches back to the state of
//! `h` it leaves from. The checker must report it when `h` did not already reach `n` before
//! the acquisition: then the two are newly on a cycle. When `h` did, they were on one already
//! (reported when it closed), and the checker must not report it again: with classes taken in
//! one order and one inverted pair, every later dependency among the classes between them
//! would otherwise be another report of the same mistake.
//!
//! A non-recursive read of a class no writer has waited for (no blocking write of it was
//! validated yet) blocks only as a recursive read does (`book/src/rules.md`): the reference keeps
//! every dependency as it was made and judges reachability with such reads as recursive
//! ones; the first blocking write of a class makes the dependencies into it count as they are,
//! in the order they were first made, each judged as a new dependency then. Such a dependency
//! keeps its recursive state too (the checker's order inserted it so; a read may still wait
//! behind a writer that holds the class), which a cycle may later pass through.
//!
//! A lock's first acquisition while its thread holds something may be before anyone else can
//! reach it (`book/src/rules.md`): the dependencies into it from locks held exclusively are held
//! back with the lock; its next acquisition (blocking or a try) settles them: by the thread
//! that first took it, they count; by another, they count unless that thread had acquired one
//! of their held classes (blocking) before. One held back per pair of classes also counts as
//! soon as its maker, acquiring, closes a new cycle through it while no other thread has
//! acquired its held class. Counting, each is judged as a new dependency then.
//!
//! Two locks of one class nested in each other are ordered by instance, not by class: the
//! reference keeps the dependencies between lock instances (from the nearest held lock of the
//! class that the acquisition may wait for) and looks for a closed path among them the same
//! naive way; such a cycle is a circular dependency over the one class.
//!
//! One interpreter drives both, so that decisions that are not the checker's (which guard an
//! `Unlock` drops, skipping a lock this thread already holds, which would really deadlock) are
//! taken once.
#![cfg(feature = "enabled")]

mod common;
use common::{AnyGuard, AnyLock};
use lockdep::mempool::{Element, Mempool};
use lockdep::{LockClass, Mode};
use lockdep::{Violation, ViolationKind};
use proptest::prelude::*;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};

const LOCK_CLASSES: usize = 3;
const INSTANCES: usize = 2;
const POOLS: usize = 2;

/// How a lock is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum How {
    Lock,
    Write,
    Read,
    ReadRecursive,
    TryLock,
    TryWrite,
}

/// One operation of a logical thread.
#[derive(Clone, Debug)]
enum Op {
    /// Take instance `instance` of lock class `class` (class 0 is a `Mutex`, others `RwLock`).
    Take {
        class: usize,
        instance: usize,
        how: How,
    },
    /// Release the `n`-th (mod count) guard held, in any order.
    Unlock(usize),
    Alloc(usize),
    TryAlloc(usize),
    /// Drop the `n`-th (mod count) element.
    DropElement(usize),
    HandOff(usize),
    MightAlloc,
    Reclaim(Vec<Op>),
    NoReclaim(Vec<Op>),
}

// ---------------------------------------------------------------------------------------------
// The reference model.

/// A node of the reference graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Node {
    Lock(usize),
    Pool(usize),
    Alloc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode3 {
    Exclusive,
    Shared,
    SharedRecursive,
}

#[derive(Clone, Copy, Debug)]
struct Held {
    node: Node,
    mode: Mode3,
    /// The lock's key (`lock_key`); `NO_INSTANCE` for pool elements and `ALLOC`.
    instance: usize,
    /// Identity for `Unlock`/`DropElement` bookkeeping.
    id: usize,
}

/// The instance of a pool element or `ALLOC` hold, which are held per class.
const NO_INSTANCE: usize = usize::MAX;

/// The reference's verdict for one acquisition.
#[derive(Clone, Debug, PartialEq)]
enum Verdict {
    Recursive(Node),
    /// The new dependency `from → to` closes a cycle that the checker must report (unless it
    /// reported one on the same classes before: each violation is reported once; or, when the
    /// flag says the two classes were cyclic with each other already, through another state
    /// of `to`, the same cycle's report may have been made by another of their violations).
    Cycle(Node, Node, bool),
    /// Dependencies close cycles, each among classes already on one: not reported again.
    KnownCycle,
    /// The new dependency between two locks of this class closes a cycle of this many locks.
    InstanceCycle(Node, usize),
}

#[derive(Default)]
struct Reference {
    /// (from, to, from held shared, to acquired recursively).
    edges: HashSet<(Node, Node, bool, bool)>,
    /// Dependencies between two locks of one class: (held lock, acquired lock) keys.
    instance_edges: HashSet<(usize, usize)>,
    /// Classes a writer has waited for.
    written: HashSet<Node>,
    /// Non-recursive dependencies into classes not yet written, in the order first made.
    held_back: Vec<(Node, Node)>,
    /// The dependencies held back once, which enter their class in both states now.
    released: HashSet<(Node, Node)>,
    /// The logical thread running now.
    thread: usize,
    /// Each lock's first hold, by lock key; none before the lock's first acquisition.
    first_holds: HashMap<usize, FirstHold>,
    /// The logical threads that have acquired each class (blocking).
    acquirers: HashMap<Node, HashSet<usize>>,
    /// One dependency held back per pair of classes, in the order made: (held class, the
    /// lock's class, taken as a recursive read, the thread that made it).
    pairs: Vec<(Node, Node, bool, usize)>,
    /// The numbers of dependencies, pairs, classes written, and dependencies held back on
    /// reads and released when the pairs were last looked at for cycles: only a change of one
    /// can close one.
    pairs_checked: (usize, usize, usize, usize, usize),
}

/// Where a lock's first hold stands.
enum FirstHold {
    /// Taken once, by `holder`, the dependencies into it from locks held exclusively then
    /// held back: (held class, the lock's class, taken as a recursive read).
    Pending {
        holder: usize,
        held_back: Vec<(Node, Node, bool)>,
    },
    /// Its second acquisition happened, or its first held nothing back.
    Settled,
}

impl Reference {
    fn new() -> Self {
        let mut r = Reference::default();
        // Pool 0 is on the reclaim path: ALLOC → P0.
        r.edges.insert((Node::Alloc, Node::Pool(0), false, false));
        r
    }

    /// A blocking acquisition of `node` (lock `instance`) as `mode` with `held` on the stack.
    fn acquire(&mut self, held: &[Held], node: Node, mode: Mode3, instance: usize) -> Vec<Verdict> {
        let mut verdicts = Vec::new();
        let first = instance != NO_INSTANCE && {
            verdicts.extend(self.settle(instance));
            self.begin_first_hold(instance, !held.is_empty())
        };
        self.acquirers.entry(node).or_default().insert(self.thread);
        if mode == Mode3::Exclusive {
            verdicts.extend(self.first_write(node));
        }
        verdicts.extend(self.acquire_written(held, node, mode, instance, first));
        verdicts.extend(self.one_thread_cycles());
        if let Some(FirstHold::Pending { held_back, .. }) = self.first_holds.get(&instance) {
            if held_back.is_empty() {
                self.first_holds.insert(instance, FirstHold::Settled);
            }
        }
        verdicts
    }

    /// A try-acquisition of the lock `instance`: it settles the lock's first hold.
    fn try_acquire(&mut self, instance: usize) -> Vec<Verdict> {
        let verdicts = self.settle(instance);
        self.first_holds.insert(instance, FirstHold::Settled);
        verdicts
    }

    /// An acquisition of the lock `instance` by this thread, if the lock is in its first
    /// hold: the dependencies held back count if this thread took it first, or had taken none
    /// of their held classes before; each is judged as a new dependency.
    fn settle(&mut self, instance: usize) -> Vec<Verdict> {
        if !matches!(
            self.first_holds.get(&instance),
            Some(FirstHold::Pending { .. })
        ) {
            return Vec::new();
        }
        let Some(FirstHold::Pending { holder, held_back }) =
            self.first_holds.insert(instance, FirstHold::Settled)
        else {
            unreachable!("pending, as just seen");
        };
        let thread = self.thread;
        let found_through = holder != thread
            && held_back.iter().any(|(from, ..)| {
                self.acquirers
                    .get(from)
                    .is_some_and(|t| t.contains(&thread))
            });
        if held_back.is_empty() {
            return Vec::new();
        }
        if found_through {
            FIRST_HOLDS_DROPPED.fetch_add(1, Ordering::Relaxed);
            return Vec::new();
        }
        if holder != thread {
            FIRST_HOLDS_COUNTED.fetch_add(1, Ordering::Relaxed);
        }
        let mut verdicts = Vec::new();
        for (from, to, recursive) in held_back {
            verdicts.extend(self.count(from, to, recursive));
        }
        verdicts.extend(self.one_thread_cycles());
        verdicts
    }

    /// A dependency held back, `from` held exclusively, that counts now: judged as new.
    fn count(&mut self, from: Node, to: Node, recursive: bool) -> Option<Verdict> {
        self.pairs.retain(|&(f, t, _, _)| (f, t) != (from, to));
        let held = Held {
            node: from,
            mode: Mode3::Exclusive,
            instance: NO_INSTANCE,
            id: 0,
        };
        let verdict = self.add_dependencies(&[held], to, recursive);
        if matches!(verdict, Some(Verdict::Cycle(..))) {
            FIRST_HOLD_CYCLES.fetch_add(1, Ordering::Relaxed);
        }
        verdict
    }

    /// The dependencies this thread held back (one per pair of classes) that would close a new
    /// cycle while no other thread has acquired their held class: they count now.
    fn one_thread_cycles(&mut self) -> Vec<Verdict> {
        let state = |r: &Reference| {
            (
                r.edges.len(),
                r.pairs.len(),
                r.written.len(),
                r.held_back.len(),
                r.released.len(),
            )
        };
        if self.pairs_checked == state(self) {
            return Vec::new();
        }
        // Counting one may make another close a cycle: until none does.
        let mut verdicts = Vec::new();
        loop {
            let counted = self.count_closing_pairs();
            if counted.is_empty() {
                break;
            }
            verdicts.extend(counted);
        }
        self.pairs_checked = state(self);
        verdicts
    }

    /// [`one_thread_cycles`](Reference::one_thread_cycles), looked at.
    fn count_closing_pairs(&mut self) -> Vec<Verdict> {
        let alone = |r: &Reference, from: Node, maker: usize| {
            r.acquirers
                .get(&from)
                .is_none_or(|threads| threads.iter().all(|&t| t == maker))
        };
        let closing: Vec<(Node, Node, bool)> = self
            .pairs
            .iter()
            .filter(|&&(from, to, rec, maker)| {
                maker == self.thread
                    && alone(self, from, maker)
                    && matches!(
                        self.judge(from, &[false, true], to, rec),
                        Some(Verdict::Cycle(..))
                    )
            })
            .map(|&(from, to, rec, _)| (from, to, rec))
            .collect();
        let several = closing.len() > 1;
        let mut verdicts = Vec::new();
        for (from, to, rec) in closing {
            match self.count(from, to, rec) {
                // Counted together, in an order of the checker's own: which of them closes a
                // new cycle, and which one among classes already on it, may differ.
                Some(Verdict::Cycle(f, t, _)) if several => {
                    verdicts.push(Verdict::Cycle(f, t, true))
                }
                verdict => verdicts.extend(verdict),
            }
        }
        verdicts
    }

    /// Whether an acquisition of the lock `instance` (with something held: `holds_any`) is
    /// its first, whose dependencies from locks held exclusively are held back.
    fn begin_first_hold(&mut self, instance: usize, holds_any: bool) -> bool {
        if self.first_holds.contains_key(&instance) {
            return false;
        }
        let first = if holds_any {
            FirstHold::Pending {
                holder: self.thread,
                held_back: Vec::new(),
            }
        } else {
            FirstHold::Settled
        };
        self.first_holds.insert(instance, first);
        holds_any
    }

    /// The first blocking write of `node`: the dependencies held back on its reads count as
    /// they are, each judged as a new dependency from its held class.
    fn first_write(&mut self, node: Node) -> Vec<Verdict> {
        if !self.written.insert(node) {
            return Vec::new();
        }
        let froms: Vec<Node> = self
            .held_back
            .iter()
            .filter(|&&(_, to)| to == node)
            .map(|&(from, _)| from)
            .collect();
        let mut verdicts = Vec::new();
        for from in froms {
            // Its states as the dependencies into `node` leave them: exclusively held ones
            // leave both. Judged while still held back, then counted.
            let exclusive = self.edges.contains(&(from, node, false, false));
            let states: &[bool] = if exclusive { &[false, true] } else { &[false] };
            let verdict = self.judge(from, states, node, false);
            if matches!(verdict, Some(Verdict::Cycle(..))) {
                WRITE_RELEASED.fetch_add(1, Ordering::Relaxed);
            }
            verdicts.extend(verdict);
            self.held_back
                .retain(|&dependency| dependency != (from, node));
            self.released.insert((from, node));
        }
        // Released together, in an order of the checker's own, which records a read only from
        // the held entries down to the first blocking one (the others reach it through that
        // one, released with it): which of them closes a new cycle, and which one among
        // classes already on it, may differ.
        let cycles = verdicts
            .iter()
            .filter(|v| matches!(v, Verdict::Cycle(..)))
            .count();
        if cycles > 1 {
            for verdict in &mut verdicts {
                if let Verdict::Cycle(.., cyclic) = verdict {
                    *cyclic = true;
                }
            }
        }
        verdicts
    }

    /// [`acquire`](Reference::acquire) once `node` is known written or not, and whether this
    /// is the lock's `first` hold.
    fn acquire_written(
        &mut self,
        held: &[Held],
        node: Node,
        mode: Mode3,
        instance: usize,
        first: bool,
    ) -> Vec<Verdict> {
        let recursive = mode == Mode3::SharedRecursive;
        // Held entries of the class this acquisition may wait for: all but shared holds, for
        // a recursive read.
        let waits_for = |h: &&Held| h.node == node && !(recursive && h.mode != Mode3::Exclusive);
        let mut verdicts = Vec::new();
        match (node, held.iter().rev().find(waits_for)) {
            (Node::Lock(_), Some(h)) => {
                // (The interpreter never takes a lock its thread holds.)
                verdicts.extend(self.order_instances(node, h.instance, instance));
            }
            (_, Some(_)) => return vec![Verdict::Recursive(node)],
            (_, None) if held.iter().any(|h| h.node == node) => return Vec::new(), // read recursion
            (_, None) => {}
        }
        let mut others: Vec<Held> = held.iter().filter(|h| h.node != node).copied().collect();
        if first {
            // Held exclusively, a lock may have published this one: held back.
            let publishers =
                |h: &Held| matches!(h.node, Node::Lock(_)) && h.mode == Mode3::Exclusive;
            let held_back: Vec<(Node, Node, bool)> = others
                .iter()
                .filter(|h| publishers(h))
                .map(|h| (h.node, node, recursive))
                .collect();
            others.retain(|h| !publishers(h));
            for &(from, to, rec) in &held_back {
                if !self.pairs.iter().any(|&(f, t, _, _)| (f, t) == (from, to)) {
                    self.pairs.push((from, to, rec, self.thread));
                }
            }
            if let Some(FirstHold::Pending {
                held_back: list, ..
            }) = self.first_holds.get_mut(&instance)
            {
                list.extend(held_back);
            }
        }
        verdicts.extend(self.add_dependencies(&others, node, recursive));
        verdicts
    }

    /// The dependency `from → to` between two locks of class `node`: a cycle when `to`
    /// already reached `from`.
    fn order_instances(&mut self, node: Node, from: usize, to: usize) -> Option<Verdict> {
        if !self.instance_edges.insert((from, to)) {
            return None;
        }
        // Breadth-first: the length of the shortest path back, which the report shows.
        let mut dist = HashMap::from([(to, 0usize)]);
        let mut queue = VecDeque::from([to]);
        while let Some(at) = queue.pop_front() {
            if at == from {
                return Some(Verdict::InstanceCycle(node, dist[&at] + 1));
            }
            for &(a, b) in &self.instance_edges {
                if a == at && (a, b) != (from, to) && !dist.contains_key(&b) {
                    dist.insert(b, dist[&at] + 1);
                    queue.push_back(b);
                }
            }
        }
        None
    }

    /// The dependencies from every entry of `held` (none of `node`'s class) to `node`.
    fn add_dependencies(&mut self, held: &[Held], node: Node, recursive: bool) -> Option<Verdict> {
        let mut verdict = None;
        for h in held {
            // The states of `h` the dependency leaves from: entered normally, and entered by a
            // recursive read when `h` is held exclusively.
            let states: &[bool] = if h.mode == Mode3::Exclusive {
                &[false, true]
            } else {
                &[false]
            };
            match self.judge(h.node, states, node, recursive) {
                Some(Verdict::KnownCycle) if verdict.is_some() => {}
                Some(v) => verdict = Some(v),
                None => {}
            }
        }
        for h in held {
            let shared = h.mode != Mode3::Exclusive;
            if self.edges.insert((h.node, node, shared, recursive))
                && !recursive
                && !self.written.contains(&node)
                && !self.held_back.contains(&(h.node, node))
            {
                self.held_back.push((h.node, node));
            }
        }
        verdict
    }

    /// The verdict of a dependency from `from` (leaving its `states`) into `node`, entered
    /// as `recursive` (a read as recursive while `node` is not written), judged on the
    /// dependencies recorded before it: a path back from the state `node` is entered in never
    /// passes through that state again, so no dependency into it can be on it.
    fn judge(&self, from: Node, states: &[bool], node: Node, recursive: bool) -> Option<Verdict> {
        let target = (node, recursive || !self.written.contains(&node));
        let mut verdict = None;
        for &entered_r in states {
            let source = (from, entered_r);
            if !self.reaches(target, source) {
                continue;
            }
            // Known when the two already reached each other: through this very dependency,
            // or through others the checker may have recorded instead (it records those
            // from the top held entries only).
            if !self.reaches(source, target) {
                // The two classes may be cyclic with each other already, through other
                // states: then the checker merges `target` into their cycle, and reports
                // it unless a report on the same classes was made before.
                let cyclic = [false, true]
                    .iter()
                    .any(|&r| self.reaches((node, r), source) && self.reaches(source, (node, r)));
                verdict = Some(Verdict::Cycle(from, node, cyclic));
            } else if verdict.is_none() {
                verdict = Some(Verdict::KnownCycle);
            }
        }
        verdict
    }

    /// Is there a strong path from state `from` to state `to`, a dependency held back
    /// entering its class as a recursive read?
    fn reaches(&self, from: (Node, bool), to: (Node, bool)) -> bool {
        reaches(&self.edges, &self.held_back, &self.released, from, to)
    }
}

/// Is there a strong path from state `from` to state `to`? A state is a node and whether it
/// was entered by a recursive read (or by a dependency `held_back`, or `released`: in both
/// states); leaving a state entered by a recursive read needs a dependency whose first class
/// is held exclusively.
fn reaches(
    edges: &HashSet<(Node, Node, bool, bool)>,
    held_back: &[(Node, Node)],
    released: &HashSet<(Node, Node)>,
    from: (Node, bool),
    to: (Node, bool),
) -> bool {
    let mut seen = HashSet::new();
    let mut queue = VecDeque::from([from]);
    while let Some((n, entered_r)) = queue.pop_front() {
        if (n, entered_r) == to {
            return true;
        }
        if !seen.insert((n, entered_r)) {
            continue;
        }
        for &(a, b, s, r) in edges {
            if a == n && !(entered_r && s) {
                queue.push_back((b, r || held_back.contains(&(a, b))));
                if released.contains(&(a, b)) {
                    queue.push_back((b, true));
                }
            }
        }
    }
    false
}

// ---------------------------------------------------------------------------------------------
// The interpreter.

struct World {
    names: Vec<String>,
    locks: Vec<Vec<AnyLock>>,
    pools: Vec<Mempool<u8>>,
}

static CASE: AtomicUsize = AtomicUsize::new(0);
/// Acquisitions compared, and the verdicts among them, for the summary.
static VERDICTS: AtomicUsize = AtomicUsize::new(0);
static RECURSIVE: AtomicUsize = AtomicUsize::new(0);
static CYCLES: AtomicUsize = AtomicUsize::new(0);
static KNOWN_CYCLES: AtomicUsize = AtomicUsize::new(0);
static INSTANCE_CYCLES: AtomicUsize = AtomicUsize::new(0);
/// New cycles closed by dependencies held back on reads until a class's first write.
static WRITE_RELEASED: AtomicUsize = AtomicUsize::new(0);
/// Locks' first holds settled by another thread: their dependencies dropped (it had taken a
/// lock held then), or counted; new cycles closed by first holds' dependencies counting then
/// or because one thread alone took their held class.
static FIRST_HOLDS_DROPPED: AtomicUsize = AtomicUsize::new(0);
static FIRST_HOLDS_COUNTED: AtomicUsize = AtomicUsize::new(0);
static FIRST_HOLD_CYCLES: AtomicUsize = AtomicUsize::new(0);
/// New cycles in a case that had reported something already.
static LATER_CYCLES: AtomicUsize = AtomicUsize::new(0);
/// Reclaim recursion is reported once per process; each case takes its violations at its end.
static ALLOC_RECURSION_SEEN: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

impl World {
    fn new() -> World {
        let case = CASE.fetch_add(1, Ordering::Relaxed);
        let mut names = Vec::new();
        let locks = (0..LOCK_CLASSES)
            .map(|c| {
                let name = format!("diff{case}-L{c}");
                names.push(name.clone());
                let class = LockClass::leak(name);
                (0..INSTANCES)
                    .map(|_| AnyLock::with_class(c == 0, class))
                    .collect()
            })
            .collect();
        let pools = (0..POOLS)
            .map(|p| {
                let name = format!("diff{case}-P{p}");
                names.push(name.clone());
                let made = AtomicUsize::new(0);
                // 64 preallocated elements, then no memory: every element is from the reserve.
                Mempool::builder(64, move || {
                    (made.fetch_add(1, Ordering::Relaxed) < 64).then_some(0u8)
                })
                .name(name)
                .reclaim_path(p == 0)
                .build()
                .unwrap()
            })
            .collect();
        World {
            names,
            locks,
            pools,
        }
    }

    fn violations(&self) -> Vec<Violation> {
        lockdep::violations()
            .into_iter()
            .filter(|v| self.names.iter().any(|n| v.involves(n)))
            .collect()
    }

    fn node_name(&self, n: Node) -> String {
        match n {
            Node::Lock(c) => self.names[c].clone(),
            Node::Pool(p) => self.names[LOCK_CLASSES + p].clone(),
            Node::Alloc => "ALLOC".to_owned(),
        }
    }
}

/// Per logical thread: the real guards and elements beside the model's held entries.
struct Thread<'w> {
    guards: Vec<(usize, usize, AnyGuard<'w>)>, // (held id, lock instance key, guard)
    elements: Vec<(usize, Element<u8>, bool)>, // (held id, element, handed off)
    held: Vec<Held>,
    next_id: usize,
    in_reclaim: bool,
    noreclaim: usize,
}

/// The comparison state of one run.
struct Run<'w> {
    world: &'w World,
    reference: Reference,
    /// Classes whose recursive locking was reported: each violation is reported once per
    /// process, so a second one on the same class is not reported again.
    recursion_reported: HashSet<Node>,
}

impl<'w> Run<'w> {
    /// Asks the reference about an acquisition and checks the real checker said the same.
    fn check(
        &mut self,
        held: &[Held],
        node: Node,
        mode: Mode3,
        instance: usize,
        op: &dyn Fn(),
    ) -> Result<(), String> {
        let pending = self.pre(|r| r.acquire(held, node, mode, instance));
        op();
        self.post(pending)
    }

    /// Before the real operation: the number of real violations so far and the reference's
    /// verdicts.
    fn pre(
        &mut self,
        verdicts: impl FnOnce(&mut Reference) -> Vec<Verdict>,
    ) -> (usize, Vec<Verdict>) {
        let before = self.world.violations().len();
        (before, verdicts(&mut self.reference))
    }

    /// After the real operation: did it report what the reference says it must, and nothing
    /// the reference says it may not?
    fn post(&mut self, (before, verdicts): (usize, Vec<Verdict>)) -> Result<(), String> {
        let mut verdicts = verdicts;
        if let Some(i) = verdicts
            .iter()
            .position(|v| *v == Verdict::Recursive(Node::Alloc))
        {
            // Reclaim recursion is on the one global ALLOC class, reported once per process
            // (by whichever case got there first): it must be on record, and it adds no
            // dependency on either side.
            let on_record = ALLOC_RECURSION_SEEN.load(Ordering::Relaxed)
                || lockdep::violations()
                    .iter()
                    .any(|v| v.kind() == ViolationKind::RecursiveLock && v.involves("ALLOC"));
            ALLOC_RECURSION_SEEN.fetch_or(on_record, Ordering::Relaxed);
            if !on_record {
                return Err("lost reclaim recursion".to_owned());
            }
            verdicts.remove(i);
        }
        let after = self.world.violations();
        let new = &after[before..];
        VERDICTS.fetch_add(1, Ordering::Relaxed);
        for verdict in &verdicts {
            let counter = match verdict {
                Verdict::Recursive(_) => &RECURSIVE,
                Verdict::Cycle(..) if before > 0 => &LATER_CYCLES,
                Verdict::Cycle(..) => &CYCLES,
                Verdict::KnownCycle => &KNOWN_CYCLES,
                Verdict::InstanceCycle(..) => &INSTANCE_CYCLES,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        for verdict in &verdicts {
            let must = match verdict {
                Verdict::Recursive(node) => !self.recursion_reported.contains(node),
                Verdict::Cycle(_, _, true) => false,
                Verdict::Cycle(from, to, false) => !after[..before].iter().any(|v| {
                    v.kind() != ViolationKind::RecursiveLock
                        && v.involves(&self.world.node_name(*from))
                        && v.involves(&self.world.node_name(*to))
                }),
                Verdict::KnownCycle => false,
                // Reported once per class and length (a violation's signature is its kind
                // and classes).
                Verdict::InstanceCycle(..) => !after[..before]
                    .iter()
                    .any(|v| self.compare(verdict, v).is_ok()),
            };
            if must && !new.iter().any(|real| self.compare(verdict, real).is_ok()) {
                return Err(format!("lost violation {verdict:?}; reported: {new:?}"));
            }
        }
        let reportable: Vec<&Verdict> = verdicts
            .iter()
            .filter(|v| !matches!(v, Verdict::KnownCycle))
            .collect();
        for real in new {
            let errors: Vec<String> = reportable
                .iter()
                .filter_map(|v| self.compare(v, real).err())
                .collect();
            if errors.len() == reportable.len() {
                return Err(format!("false report {real}: {errors:?}"));
            }
        }
        for verdict in verdicts {
            if let Verdict::Recursive(node) = verdict {
                self.recursion_reported.insert(node);
            }
        }
        Ok(())
    }

    fn compare(&self, verdict: &Verdict, real: &Violation) -> Result<(), String> {
        match verdict {
            Verdict::Recursive(node) => {
                let want = match node {
                    Node::Pool(_) => ViolationKind::PoolRecursion,
                    _ => ViolationKind::RecursiveLock,
                };
                if real.kind() != want || !real.involves(&self.world.node_name(*node)) {
                    return Err(format!("expected {want:?} on {node:?}, got {real:?}"));
                }
            }
            Verdict::InstanceCycle(node, len) => {
                let name = self.world.node_name(*node);
                let classes = real.classes();
                if real.kind() != ViolationKind::CircularDependency
                    || classes.len() != *len
                    || classes.iter().any(|c| *c != name)
                {
                    return Err(format!(
                        "expected a cycle of {len} locks of {name}, got {real:?}"
                    ));
                }
            }
            Verdict::Cycle(..) | Verdict::KnownCycle => {
                let classes = real.classes();
                let has_alloc = classes.contains(&"ALLOC");
                let has_pool = classes.iter().any(|c| c.contains("-P"));
                let want = if has_alloc && has_pool {
                    ViolationKind::MempoolLivelock
                } else {
                    ViolationKind::CircularDependency
                };
                if real.kind() != want {
                    return Err(format!("cycle {classes:?} reported as {:?}", real.kind()));
                }
                // Every dependency of the reported ring is one the reference recorded.
                let node_of = |name: &str| -> Node {
                    if name == "ALLOC" {
                        return Node::Alloc;
                    }
                    let i = self.world.names.iter().position(|n| n == name).unwrap();
                    if i < LOCK_CLASSES {
                        Node::Lock(i)
                    } else {
                        Node::Pool(i - LOCK_CLASSES)
                    }
                };
                for i in 0..classes.len() {
                    let (a, b) = (
                        node_of(classes[i]),
                        node_of(classes[(i + 1) % classes.len()]),
                    );
                    if !self
                        .reference
                        .edges
                        .iter()
                        .any(|&(x, y, _, _)| x == a && y == b)
                    {
                        return Err(format!(
                            "reported ring {classes:?} has {a:?} → {b:?}, unknown to the reference"
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

fn lock_key(class: usize, instance: usize) -> usize {
    class * INSTANCES + instance
}

fn run_ops<'w>(run: &mut Run<'w>, t: &mut Thread<'w>, ops: &[Op]) -> Result<(), String> {
    for op in ops {
        run_op(run, t, op)?;
    }
    Ok(())
}

fn run_op<'w>(run: &mut Run<'w>, t: &mut Thread<'w>, op: &Op) -> Result<(), String> {
    let world = run.world;
    match op {
        Op::Take {
            class,
            instance,
            how,
        } => {
            let key = lock_key(*class, *instance);
            if t.guards.iter().any(|g| g.1 == key) {
                return Ok(()); // this thread holds it: taking it again would really deadlock
            }
            let lock = &world.locks[*class][*instance];
            let mode = match how {
                _ if *class == 0 => Mode3::Exclusive, // a Mutex is always taken exclusively
                How::Read => Mode3::Shared,
                How::ReadRecursive => Mode3::SharedRecursive,
                _ => Mode3::Exclusive,
            };
            let node = Node::Lock(*class);
            let guard = match how {
                How::TryLock | How::TryWrite => {
                    let pending = run.pre(|r| r.try_acquire(key));
                    let guard = match lock {
                        AnyLock::M(m) => m.try_lock().map(AnyGuard::M),
                        AnyLock::R(r) => r.try_write().map(AnyGuard::W),
                    };
                    run.post(pending)?;
                    guard
                }
                _ => {
                    let take = || match (lock, how) {
                        (AnyLock::M(m), _) => AnyGuard::M(m.lock()),
                        (AnyLock::R(r), How::Read) => AnyGuard::R(r.read()),
                        (AnyLock::R(r), How::ReadRecursive) => AnyGuard::R(r.read_recursive()),
                        (AnyLock::R(r), _) => AnyGuard::W(r.write()),
                    };
                    let cell = std::cell::RefCell::new(None);
                    run.check(&t.held, node, mode, key, &|| {
                        *cell.borrow_mut() = Some(take())
                    })?;
                    cell.into_inner()
                }
            };
            if let Some(g) = guard {
                let id = t.next_id;
                t.next_id += 1;
                t.held.push(Held {
                    node,
                    mode,
                    instance: key,
                    id,
                });
                t.guards.push((id, key, g));
            }
        }
        Op::Unlock(n) => {
            if !t.guards.is_empty() {
                let (id, _, g) = t.guards.remove(n % t.guards.len());
                drop(g);
                t.held.retain(|h| h.id != id);
            }
        }
        Op::Alloc(p) => {
            let node = Node::Pool(*p);
            let pool = &world.pools[*p];
            // Validated as an acquisition of the pool, then (`mempool_alloc` starts with
            // `might_alloc`) as an allocation, unless this is reclaim itself.
            let allocates = !t.in_reclaim && t.noreclaim == 0 && !t.held.is_empty();
            let held = t.held.clone();
            let pending = run.pre(|r| {
                let mut verdicts = r.acquire(&held, node, Mode3::Exclusive, NO_INSTANCE);
                if allocates {
                    verdicts.extend(r.acquire(&held, Node::Alloc, Mode3::Exclusive, NO_INSTANCE));
                }
                verdicts
            });
            let e = pool.alloc();
            run.post(pending)?;
            let id = t.next_id;
            t.next_id += 1;
            t.held.push(Held {
                node,
                mode: Mode3::Exclusive,
                instance: NO_INSTANCE,
                id,
            });
            t.elements.push((id, e, false));
        }
        Op::TryAlloc(p) => {
            if let Some(e) = world.pools[*p].try_alloc() {
                let id = t.next_id;
                t.next_id += 1;
                t.held.push(Held {
                    node: Node::Pool(*p),
                    mode: Mode3::Exclusive,
                    instance: NO_INSTANCE,
                    id,
                });
                t.elements.push((id, e, false));
            }
        }
        Op::DropElement(n) => {
            if !t.elements.is_empty() {
                let (id, e, _) = t.elements.remove(n % t.elements.len());
                drop(e);
                t.held.retain(|h| h.id != id);
            }
        }
        Op::HandOff(n) => {
            if !t.elements.is_empty() {
                let i = n % t.elements.len();
                let (id, e, handed) = &mut t.elements[i];
                e.hand_off();
                *handed = true;
                let id = *id;
                t.held.retain(|h| h.id != id);
            }
        }
        Op::MightAlloc => {
            if t.noreclaim == 0 && !t.held.is_empty() {
                run.check(
                    &t.held,
                    Node::Alloc,
                    Mode3::Exclusive,
                    NO_INSTANCE,
                    &lockdep::might_alloc,
                )?;
            }
        }
        Op::Reclaim(body) => {
            if t.noreclaim > 0 || t.in_reclaim {
                return Ok(()); // kept out: nested scopes are not what this compares
            }
            let id = t.next_id;
            t.next_id += 1;
            let mut result = Ok(());
            let held = t.held.clone();
            let pending = run.pre(|r| r.acquire(&held, Node::Alloc, Mode3::Exclusive, NO_INSTANCE));
            t.held.push(Held {
                node: Node::Alloc,
                mode: Mode3::Exclusive,
                instance: NO_INSTANCE,
                id,
            });
            t.in_reclaim = true;
            let (guards_before, elements_before) = (t.guards.len(), t.elements.len());
            lockdep::reclaim_scope(|| {
                result = run.post(pending).and_then(|()| run_ops(run, t, body));
                close_scope(t, guards_before, elements_before);
            });
            t.in_reclaim = false;
            t.held.retain(|h| h.id != id);
            result?;
        }
        Op::NoReclaim(body) => {
            let mut result = Ok(());
            t.noreclaim += 1;
            let (guards_before, elements_before) = (t.guards.len(), t.elements.len());
            lockdep::noreclaim_scope(|| {
                result = run_ops(run, t, body);
                close_scope(t, guards_before, elements_before);
            });
            t.noreclaim -= 1;
            result?;
        }
    }
    Ok(())
}

/// What a scope's body took is released at its end.
fn close_scope(t: &mut Thread<'_>, guards: usize, elements: usize) {
    while t.guards.len() > guards {
        let (id, _, g) = t.guards.pop().unwrap();
        drop(g);
        t.held.retain(|h| h.id != id);
    }
    while t.elements.len() > elements {
        let (id, e, _) = t.elements.pop().unwrap();
        drop(e);
        t.held.retain(|h| h.id != id);
    }
}

/// Runs the logical threads one after the other, each on a real thread of its own.
fn run_program(threads: &[Vec<Op>]) -> Result<(), String> {
    lockdep::set_mode(Mode::Collect);
    let world = World::new();
    let mut run = Run {
        world: &world,
        reference: Reference::new(),
        recursion_reported: HashSet::new(),
    };
    for (thread, ops) in threads.iter().enumerate() {
        run.reference.thread = thread;
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut t = Thread {
                    guards: Vec::new(),
                    elements: Vec::new(),
                    held: Vec::new(),
                    next_id: 0,
                    in_reclaim: false,
                    noreclaim: 0,
                };
                let result = run_ops(&mut run, &mut t, ops);
                close_scope(&mut t, 0, 0);
                result
            })
            .join()
            .unwrap()
        })?;
    }
    // This binary runs one case at a time (one proptest): what the case recorded is taken, so
    // that the record stays small.
    let taken = lockdep::take_violations();
    if taken
        .iter()
        .any(|v| v.kind() == ViolationKind::RecursiveLock && v.involves("ALLOC"))
    {
        ALLOC_RECURSION_SEEN.store(true, Ordering::Relaxed);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Generation.

fn how() -> impl Strategy<Value = How> {
    prop_oneof![
        3 => Just(How::Lock),
        2 => Just(How::Write),
        2 => Just(How::Read),
        2 => Just(How::ReadRecursive),
        1 => Just(How::TryLock),
        1 => Just(How::TryWrite),
    ]
}

fn leaf_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0..LOCK_CLASSES, 0..INSTANCES, how())
            .prop_map(|(class, instance, how)| Op::Take { class, instance, how }),
        5 => (0..4usize).prop_map(Op::Unlock),
        2 => (0..POOLS).prop_map(Op::Alloc),
        1 => (0..POOLS).prop_map(Op::TryAlloc),
        2 => (0..4usize).prop_map(Op::DropElement),
        1 => (0..4usize).prop_map(Op::HandOff),
        2 => Just(Op::MightAlloc),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => leaf_op(),
        1 => prop::collection::vec(leaf_op(), 1..5).prop_map(Op::Reclaim),
        1 => prop::collection::vec(leaf_op(), 1..5).prop_map(Op::NoReclaim),
    ]
}

fn program() -> impl Strategy<Value = Vec<Vec<Op>>> {
    prop::collection::vec(prop::collection::vec(op(), 1..10), 1..4)
}

/// Cases run: 10,000 by default; `TEST_LOCKDEP_DIFF_CASES` for more (or fewer).
fn cases() -> u32 {
    std::env::var("TEST_LOCKDEP_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// Minimal programs the proptest found (each was a real disagreement), run before the random
/// ones. Everything runs in one test, one case at a time: each case takes its violations.
fn regressions() -> Vec<Vec<Vec<Op>>> {
    vec![
        // L0 and ALLOC are cyclic (thread 1); ALLOC → L2 is a read of L2, held back until L2's
        // first write, which closes L2 → ALLOC → L2; then L2, held for write, → L0: a cycle
        // through the state in which the held-back read entered L2 first (a recursive read,
        // kept), among classes not all on one cycle together. A reference bug: it forgot
        // that state once the read counted as it is.
        vec![
            vec![
                Op::Take {
                    class: 0,
                    instance: 0,
                    how: How::Lock,
                },
                Op::Reclaim(vec![Op::Take {
                    class: 0,
                    instance: 1,
                    how: How::Lock,
                }]),
            ],
            vec![
                Op::Take {
                    class: 2,
                    instance: 1,
                    how: How::Read,
                },
                Op::Reclaim(vec![Op::Take {
                    class: 2,
                    instance: 0,
                    how: How::Read,
                }]),
                Op::Take {
                    class: 2,
                    instance: 0,
                    how: How::Lock,
                },
                Op::Take {
                    class: 0,
                    instance: 0,
                    how: How::Lock,
                },
            ],
        ],
        // The same reference bug as the next case, found by another run: P0 → L2 entered by
        // a recursive read, P0 and L2 already cyclic with each other through ALLOC.
        vec![vec![
            Op::Alloc(1),
            Op::Reclaim(vec![
                Op::DropElement(0),
                Op::Take {
                    class: 2,
                    instance: 0,
                    how: How::Lock,
                },
                Op::Alloc(1),
            ]),
            Op::Alloc(0),
            Op::Reclaim(vec![
                Op::Alloc(0),
                Op::Take {
                    class: 2,
                    instance: 0,
                    how: How::ReadRecursive,
                },
            ]),
        ]],
        // L1 and ALLOC are cyclic with each other (L1 → ALLOC, ALLOC → L1), and so are P0 and
        // ALLOC (reclaim path): P0 → L1 entered by a recursive read closes a new strong cycle
        // through L1.R, but of classes already cyclic with each other, whose report the
        // checker made already (same classes): a reference bug, which demanded a new one.
        vec![vec![
            Op::Take {
                class: 1,
                instance: 0,
                how: How::Lock,
            },
            Op::TryAlloc(0),
            Op::Reclaim(vec![
                Op::Unlock(0),
                Op::Take {
                    class: 1,
                    instance: 1,
                    how: How::Lock,
                },
                Op::Alloc(0),
                Op::Take {
                    class: 1,
                    instance: 0,
                    how: How::ReadRecursive,
                },
            ]),
        ]],
        vec![
            vec![
                Op::Take {
                    class: 1,
                    instance: 1,
                    how: How::Lock,
                },
                Op::Alloc(0),
                Op::Take {
                    class: 1,
                    instance: 0,
                    how: How::Lock,
                },
                Op::Take {
                    class: 0,
                    instance: 0,
                    how: How::Lock,
                },
            ],
            vec![Op::Reclaim(vec![
                Op::Take {
                    class: 1,
                    instance: 0,
                    how: How::Lock,
                },
                Op::Take {
                    class: 1,
                    instance: 1,
                    how: How::ReadRecursive,
                },
            ])],
        ],
        // A recursive read on top hid the element below from a later allocation: `P → ALLOC`
        // is a direct dependency, `P → L1 → ALLOC` is not a strong path. (A checker bug: the
        // kernel's stop-at-the-first-non-trylock shortcut must not stop at a recursive read.)
        vec![vec![
            Op::Alloc(0),
            Op::Take {
                class: 1,
                instance: 0,
                how: How::ReadRecursive,
            },
            Op::MightAlloc,
        ]],
        // A `Mutex` taken by a "read" op is exclusive: its class twice is recursive locking.
        vec![vec![
            Op::Take {
                class: 0,
                instance: 1,
                how: How::Read,
            },
            Op::Take {
                class: 0,
                instance: 0,
                how: How::ReadRecursive,
            },
        ]],
        // Reclaim recursion on the global ALLOC class, reported once per process.
        vec![vec![
            Op::Take {
                class: 1,
                instance: 0,
                how: How::Lock,
            },
            Op::Reclaim(vec![Op::MightAlloc]),
        ]],
        // L0#0 is first taken under L1 and L2 (thread 2), L1 → L0 known already (thread 1);
        // thread 3, which took L1 before, takes it: it may have found L0#0 through L1, so
        // neither dependency counts. A checker bug: it held back only the dependencies the
        // graph did not have, lost L1 from what the lock was taken under, and counted L2 → L0.
        vec![
            vec![
                Op::NoReclaim(vec![Op::Take {
                    class: 2,
                    instance: 0,
                    how: How::Lock,
                }]),
                Op::NoReclaim(vec![
                    Op::Take {
                        class: 1,
                        instance: 0,
                        how: How::Lock,
                    },
                    Op::Take {
                        class: 0,
                        instance: 1,
                        how: How::Lock,
                    },
                    Op::Alloc(0),
                ]),
                Op::Take {
                    class: 0,
                    instance: 1,
                    how: How::Lock,
                },
            ],
            vec![
                Op::Take {
                    class: 1,
                    instance: 0,
                    how: How::Lock,
                },
                Op::Alloc(0),
                Op::Alloc(0),
                Op::NoReclaim(vec![
                    Op::Take {
                        class: 2,
                        instance: 0,
                        how: How::Lock,
                    },
                    Op::Take {
                        class: 0,
                        instance: 0,
                        how: How::Lock,
                    },
                ]),
            ],
            vec![
                Op::Take {
                    class: 1,
                    instance: 0,
                    how: How::Lock,
                },
                Op::Reclaim(vec![Op::Take {
                    class: 0,
                    instance: 0,
                    how: How::Lock,
                }]),
            ],
        ],
        // L2 → ALLOC and ALLOC → L2 (reported), L2 read → P1; then on another thread, under
        // P1 and ALLOC, a read of L2, held back (no writer yet), and the first blocking write
        // of L2: the reads released close P1 → L2 → P1 and ALLOC → L2 → ALLOC. The checker
        // recorded the read from ALLOC alone (the top held entry; P1 reaches L2 through it),
        // whose cycle it reported before: a reference bug, which judged the read from P1 first,
        // as if released alone.
        vec![
            vec![
                Op::Take {
                    class: 2,
                    instance: 0,
                    how: How::TryLock,
                },
                Op::Reclaim(vec![
                    Op::Unlock(0),
                    Op::Take {
                        class: 2,
                        instance: 0,
                        how: How::ReadRecursive,
                    },
                ]),
                Op::Alloc(1),
            ],
            vec![
                Op::Alloc(1),
                Op::Reclaim(vec![
                    Op::Take {
                        class: 2,
                        instance: 0,
                        how: How::Read,
                    },
                    Op::Take {
                        class: 2,
                        instance: 1,
                        how: How::Lock,
                    },
                ]),
            ],
        ],
        // The reference bug of the case before, found by another run: thread 0 holds a P1
        // element and a try-write of L2#0, and reads L2#1 in reclaim (reads from ALLOC and
        // P1 held back); thread 1's first blocking write of L2 releases them together.
        vec![
            vec![
                Op::Alloc(1),
                Op::Take {
                    class: 2,
                    instance: 0,
                    how: How::TryLock,
                },
                Op::Reclaim(vec![Op::Take {
                    class: 2,
                    instance: 1,
                    how: How::Read,
                }]),
            ],
            vec![
                Op::Take {
                    class: 2,
                    instance: 0,
                    how: How::Read,
                },
                Op::NoReclaim(vec![Op::Alloc(1), Op::Unlock(0)]),
                Op::Take {
                    class: 2,
                    instance: 0,
                    how: How::Lock,
                },
            ],
        ],
    ]
}

#[test]
fn checker_agrees_with_reference() {
    for threads in regressions() {
        if let Err(e) = run_program(&threads) {
            panic!("regression {threads:#?}: {e}");
        }
    }
    let config = ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let result = runner.run(&program(), |threads| {
        run_program(&threads).map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let count = |c: &AtomicUsize| c.load(Ordering::Relaxed);
    println!(
        "{} cases, {} acquisitions compared: {} recursive, {} first cycles, {} new cycles \
         after an earlier report, {} cycles among classes already on one, {} cycles among \
         locks of one class, {} cycles closed by a class's first write; locks' first holds \
         settled by another thread: {} dropped (found through a lock held then), {} counted; \
         {} cycles closed by first holds' dependencies counting",
        count(&CASE),
        count(&VERDICTS),
        count(&RECURSIVE),
        count(&CYCLES),
        count(&LATER_CYCLES),
        count(&KNOWN_CYCLES),
        count(&INSTANCE_CYCLES),
        count(&WRITE_RELEASED),
        count(&FIRST_HOLDS_DROPPED),
        count(&FIRST_HOLDS_COUNTED),
        count(&FIRST_HOLD_CYCLES)
    );
    // Nor would one that never sees a first hold settled either way, or closing a cycle.
    assert!(
        count(&FIRST_HOLDS_DROPPED) > count(&CASE) / 200
            && count(&FIRST_HOLDS_COUNTED) > count(&CASE) / 200
            && count(&FIRST_HOLD_CYCLES) > count(&CASE) / 200,
        "too few first holds settled to compare"
    );
    // Nor would one that never sees a read's cycle wait for a writer.
    assert!(
        count(&WRITE_RELEASED) > count(&CASE) / 200,
        "too few cycles closed by a first write to compare"
    );
    // Nor would one that never meets two locks of one class taken in both orders.
    assert!(
        count(&INSTANCE_CYCLES) > count(&CASE) / 200,
        "too few cycles among locks of one class to compare"
    );
    // A comparison that never meets a cycle after the first would test nothing new.
    assert!(
        count(&LATER_CYCLES) > count(&CASE) / 50,
        "too few later cycles to compare"
    );
}
