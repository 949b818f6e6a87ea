//! A second, independently written differential test (beside `tests/differential.rs`), aimed at
//! what that one leaves out: `reclaim_scope` and `noreclaim_scope` nested in each other in
//! every way (the kernel's fs_reclaim selftests: wrong nesting, protected nesting), scopes
//! whose guards outlive them, five lock classes (two `Mutex`, three `RwLock`), and pool
//! elements that outlive their logical thread and are dropped or handed off by a later one (a
//! stale release reaching a reused inbox).
//!
//! Each case runs a random program (logical threads run one after the other, each on an OS
//! thread of its own, so nothing can deadlock) through the real checker, with fresh classes,
//! and through a naive reference written from the rules alone: every held entry → each
//! blocking acquisition (no chain cache, no shortcut), trylocks and `try_alloc` add no incoming
//! dependency, a blocking `alloc` is also an allocation (held → ALLOC) unless in reclaim,
//! reclaim-path pools have ALLOC → pool, `reclaim_scope` holds ALLOC (a blocking acquisition,
//! so nesting it is recursion on ALLOC), `might_alloc` is an acquisition of ALLOC unless inside
//! `noreclaim_scope`; a recursive read on a read hold is allowed and adds nothing; a cycle
//! counts when it is a strong path (no `-(?R)->` followed by `-(S?)->`, around the wrap too),
//! found by BFS over (class, entered by a recursive read). After each operation the new real
//! reports are compared with the reference's first verdict: none when it has none, else the
//! same kind on the same class, or a cycle every dependency of which the reference recorded.
//! After the first violation of a case the two graphs legitimately differ (the real checker
//! keeps out the dependency that closed the cycle), so the comparison stops there, except for
//! recursion on ALLOC, which adds no dependency on either side (and is reported once per
//! process, whichever case gets there first).
//!
//! Two locks of one class nested in each other are ordered by instance (the dependency from
//! the nearest held lock of the class the acquisition may wait for); a cycle among them is a
//! circular dependency over the one class, and, like a cycle of classes, ends the comparison.
//!
//! `TEST_LOCKDEP_DIFF_SCOPES_CASES=<n>` runs more (or fewer) cases than the default 5,000. Failing
//! programs are kept by proptest in `tests/differential_scopes.proptest-regressions`.
#![cfg(feature = "enabled")]

mod common;
use common::{AnyGuard, AnyLock};
use lockdep::mempool::{Element, Mempool};
use lockdep::{LockClass, Mode, Mutex};
use lockdep::{Violation, ViolationKind};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Lock classes: 0 and 1 are `Mutex`es, the others `RwLock`s.
const LOCKS: usize = 5;
const MUTEXES: usize = 2;
/// Instances per lock class.
const INSTANCES: usize = 2;
/// Pools: pool 0 is on the reclaim path, pool 1 is not.
const POOLS: usize = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum How {
    /// `lock()` on a `Mutex`, `write()` on an `RwLock`.
    Excl,
    Read,
    ReadRec,
    TryExcl,
    TryRead,
}

#[derive(Clone, Debug)]
enum Op {
    Lock(usize, usize, How),
    /// Drops the `n % len`-th guard this thread holds.
    Unlock(usize),
    Alloc(usize),
    TryAlloc(usize),
    /// Drops the `n % len`-th element this thread took.
    Drop(usize),
    HandOff(usize),
    /// Drops the `n % len`-th element left over by earlier logical threads.
    DropCarried(usize),
    HandOffCarried(usize),
    MightAlloc,
    Reclaim(Vec<Op>),
    NoReclaim(Vec<Op>),
}

// ---------------------------------------------------------------------------------------------
// The reference.

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Node {
    Lock(usize),
    Pool(usize),
    Alloc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Held {
    Excl,
    Read,
    ReadRec,
}

impl Held {
    fn shared(self) -> bool {
        self != Held::Excl
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Verdict {
    /// The class is already held (pool recursion, reclaim recursion).
    Again(Node),
    /// A closed strong cycle.
    Cycle,
    /// A closed cycle among the locks of this class.
    InstanceCycle(Node),
}

/// A held entry for the reference: its class, how it is held, and which lock it is
/// (`(class, instance)`; `None` for pool elements and ALLOC, held per class).
type Entry = (Node, Held, Option<(usize, usize)>);

/// A dependency: `from` held as `from_shared`, then `to` acquired (`to_rec`: as a recursive
/// read).
type Dep = (Node, bool, Node, bool);

struct Reference {
    deps: BTreeSet<Dep>,
    /// Dependencies between two locks of one class: (held, acquired).
    lock_deps: BTreeSet<((usize, usize), (usize, usize))>,
}

impl Reference {
    fn new() -> Reference {
        let mut deps = BTreeSet::new();
        deps.insert((Node::Alloc, false, Node::Pool(0), false));
        Reference {
            deps,
            lock_deps: BTreeSet::new(),
        }
    }

    /// Is there a strong path from `start` (entered by a recursive read if `start_rec`) to
    /// `goal`, such that the dependency `goal -(goal_shared)-> start` closes a strong cycle?
    fn strong_path(&self, start: Node, start_rec: bool, goal: Node, goal_shared: bool) -> bool {
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::new();
        queue.push_back((start, start_rec));
        while let Some((node, entered_rec)) = queue.pop_front() {
            if !seen.insert((node, entered_rec)) {
                continue;
            }
            // Leaving `goal` by the new dependency: not if entered by a recursive read and
            // held shared.
            if node == goal && !(entered_rec && goal_shared) {
                return true;
            }
            for &(from, from_shared, to, to_rec) in &self.deps {
                if from == node && !(entered_rec && from_shared) {
                    queue.push_back((to, to_rec));
                }
            }
        }
        false
    }

    /// A blocking acquisition of `node` (lock `lock`, as `how`) with `held` on the stack: the
    /// first violation it makes, if any; its dependencies are recorded.
    fn acquire(
        &mut self,
        held: &[Entry],
        node: Node,
        how: Held,
        lock: Option<(usize, usize)>,
    ) -> Option<Verdict> {
        let rec = how == Held::ReadRec;
        // The held entries of the class this acquisition may wait for.
        let waits = |h: &&Entry| h.0 == node && !(rec && h.1.shared());
        let mut verdict = None;
        match (lock, held.iter().rev().find(waits)) {
            (Some(to), Some(&(_, _, Some(from)))) => {
                // Another lock of the class (the interpreter never retakes a held one).
                if self.lock_deps.insert((from, to)) && self.lock_path(to, from) {
                    verdict = Some(Verdict::InstanceCycle(node));
                }
            }
            (_, Some(_)) => return Some(Verdict::Again(node)),
            (_, None) if held.iter().any(|h| h.0 == node) => {
                return None; // a recursive read on a read hold: no new dependency
            }
            (_, None) => {}
        }
        for &(h, h_how, _) in held.iter().filter(|h| h.0 != node) {
            if verdict.is_none() && self.strong_path(node, rec, h, h_how.shared()) {
                verdict = Some(Verdict::Cycle);
            }
            self.deps.insert((h, h_how.shared(), node, rec));
        }
        verdict
    }

    /// Is there a path of dependencies between locks from `start` to `goal`?
    fn lock_path(&self, start: (usize, usize), goal: (usize, usize)) -> bool {
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([start]);
        while let Some(at) = queue.pop_front() {
            if at == goal {
                return true;
            }
            if seen.insert(at) {
                queue.extend(self.lock_deps.iter().filter(|d| d.0 == at).map(|d| d.1));
            }
        }
        false
    }

    fn has_dep(&self, from: Node, to: Node) -> bool {
        self.deps.iter().any(|d| d.0 == from && d.2 == to)
    }
}

// ---------------------------------------------------------------------------------------------
// The real side and the interpreter.

struct World {
    names: Vec<String>,
    locks: Vec<Vec<AnyLock>>,
    pools: Vec<Mempool<u8>>,
}

static CASE: AtomicUsize = AtomicUsize::new(0);
/// Whether recursion on ALLOC was ever reported in this process (it is reported once).
static ALLOC_AGAIN_SEEN: AtomicBool = AtomicBool::new(false);
/// Cycles among the locks of one class that the reference found and the checker reported.
static INSTANCE_CYCLES: AtomicUsize = AtomicUsize::new(0);
/// Cases run one at a time: each takes its violations at its end.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl World {
    fn new() -> World {
        let case = CASE.fetch_add(1, Ordering::Relaxed);
        let mut names = Vec::new();
        let locks = (0..LOCKS)
            .map(|c| {
                let name = format!("scopes{case}-L{c}");
                let class = LockClass::leak(name.clone());
                names.push(name);
                (0..INSTANCES)
                    .map(|_| AnyLock::with_class(c < MUTEXES, class))
                    .collect()
            })
            .collect();
        let pools = (0..POOLS)
            .map(|p| {
                let name = format!("scopes{case}-P{p}");
                names.push(name.clone());
                Mempool::builder(2, || Some(0u8))
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

    fn node(&self, name: &str) -> Option<Node> {
        if name == "ALLOC" {
            return Some(Node::Alloc);
        }
        let i = self.names.iter().position(|n| n == name)?;
        Some(if i < LOCKS {
            Node::Lock(i)
        } else {
            Node::Pool(i - LOCKS)
        })
    }

    fn name(&self, node: Node) -> &str {
        match node {
            Node::Lock(c) => &self.names[c],
            Node::Pool(p) => &self.names[LOCKS + p],
            Node::Alloc => "ALLOC",
        }
    }
}

struct Thread<'w> {
    /// (entry id, lock instance, guard)
    guards: Vec<(usize, (usize, usize), AnyGuard<'w>)>,
    /// (entry id, element)
    elements: Vec<(usize, Element<u8>)>,
    /// The reference's held stack: (entry id, entry).
    held: Vec<(usize, Entry)>,
    next_id: usize,
    noreclaim: usize,
}

impl Thread<'_> {
    fn stack(&self) -> Vec<Entry> {
        self.held.iter().map(|h| h.1).collect()
    }

    fn push(&mut self, node: Node, how: Held, lock: Option<(usize, usize)>) -> usize {
        let id = self.next_id;
        self.next_id += 1;
        self.held.push((id, (node, how, lock)));
        id
    }

    fn forget(&mut self, id: usize) {
        self.held.retain(|h| h.0 != id);
    }

    fn in_reclaim(&self) -> bool {
        self.held.iter().any(|h| h.1 .0 == Node::Alloc)
    }
}

struct Case<'w> {
    world: &'w World,
    reference: Reference,
    /// Set at the first cycle: the comparison stops.
    done: bool,
    /// Classes whose recursion was reported in this case (each problem is reported once).
    again_reported: BTreeSet<Node>,
    /// Elements left by earlier logical threads.
    carried: Vec<Element<u8>>,
}

impl Case<'_> {
    /// Runs `real` (one operation of the real program) and checks that what it reported is
    /// what the reference says about it (`verdicts`, computed before, in the order the real
    /// checker validates).
    fn compare(&mut self, verdicts: Vec<Verdict>, real: impl FnOnce()) -> Result<(), String> {
        let before = lockdep::violations().len();
        real();
        self.check(before, verdicts)
    }

    /// [`compare`](Case::compare) for an operation that ran after `before` reports.
    fn check(&mut self, before: usize, verdicts: Vec<Verdict>) -> Result<(), String> {
        if self.done {
            return Ok(());
        }
        let new: Vec<Violation> = lockdep::violations().split_off(before);
        let mut actual = new.iter().peekable();
        for verdict in verdicts {
            match verdict {
                Verdict::Again(node) => {
                    // Adds no dependency on either side: the comparison goes on after it. Each
                    // problem is reported once (once per process for ALLOC).
                    let already = self.again_reported.contains(&node)
                        || (node == Node::Alloc && ALLOC_AGAIN_SEEN.load(Ordering::Relaxed));
                    match actual.peek() {
                        Some(real) if self.is_again(real, node) => {
                            actual.next();
                            self.again_reported.insert(node);
                            if node == Node::Alloc {
                                ALLOC_AGAIN_SEEN.store(true, Ordering::Relaxed);
                            }
                        }
                        _ if already => {}
                        Some(real) => {
                            return Err(format!("expected {verdict:?}, got {real:?}\n{real}"))
                        }
                        None => return Err(format!("lost violation: {verdict:?}")),
                    }
                }
                Verdict::Cycle => {
                    // The real checker keeps the closing dependency out (and the ones after
                    // it): the graphs differ from here, the comparison stops.
                    self.done = true;
                    let Some(real) = actual.next() else {
                        return Err("lost violation: Cycle".to_owned());
                    };
                    return self.check_cycle(real);
                }
                Verdict::InstanceCycle(node) => {
                    self.done = true;
                    let name = self.world.name(node);
                    return match actual.next() {
                        Some(real)
                            if real.kind() == ViolationKind::CircularDependency
                                && real.classes().iter().all(|c| *c == name) =>
                        {
                            INSTANCE_CYCLES.fetch_add(1, Ordering::Relaxed);
                            Ok(())
                        }
                        Some(real) => Err(format!("expected {verdict:?}, got {real:?}\n{real}")),
                        None => Err(format!("lost violation: {verdict:?}")),
                    };
                }
            }
        }
        match actual.next() {
            None => Ok(()),
            Some(v) => Err(format!("false report: {v:?}\n{v}")),
        }
    }

    fn is_again(&self, real: &Violation, node: Node) -> bool {
        let want = match node {
            Node::Pool(_) => ViolationKind::PoolRecursion,
            _ => ViolationKind::RecursiveLock,
        };
        real.kind() == want && real.classes().iter().all(|c| *c == self.world.name(node))
    }

    fn check_cycle(&self, real: &Violation) -> Result<(), String> {
        let ring: Vec<Node> = real
            .classes()
            .iter()
            .map(|c| self.world.node(c).ok_or(format!("unknown class {c}")))
            .collect::<Result<_, _>>()?;
        let livelock =
            ring.contains(&Node::Alloc) && ring.iter().any(|n| matches!(n, Node::Pool(_)));
        let want = if livelock {
            ViolationKind::MempoolLivelock
        } else {
            ViolationKind::CircularDependency
        };
        if real.kind() != want {
            return Err(format!("{ring:?} reported as {real:?}"));
        }
        for (i, &from) in ring.iter().enumerate() {
            let to = ring[(i + 1) % ring.len()];
            if !self.reference.has_dep(from, to) {
                return Err(format!(
                    "reported ring {ring:?}: {from:?} → {to:?} is not a dependency"
                ));
            }
        }
        Ok(())
    }
}

fn run_ops<'w>(case: &mut Case<'w>, t: &mut Thread<'w>, ops: &[Op]) -> Result<(), String> {
    for op in ops {
        run_op(case, t, op)?;
    }
    Ok(())
}

fn run_op<'w>(case: &mut Case<'w>, t: &mut Thread<'w>, op: &Op) -> Result<(), String> {
    let world = case.world;
    match *op {
        Op::Lock(class, instance, how) => {
            if t.guards.iter().any(|g| g.1 == (class, instance)) {
                return Ok(()); // this instance is held here: taking it would really deadlock
            }
            let lock = &world.locks[class][instance];
            let held_as = match (lock, how) {
                (AnyLock::M(_), _) | (_, How::Excl | How::TryExcl) => Held::Excl,
                (_, How::Read | How::TryRead) => Held::Read,
                (_, How::ReadRec) => Held::ReadRec,
            };
            let guard = match how {
                How::TryExcl | How::TryRead => match lock {
                    AnyLock::M(m) => m.try_lock().map(AnyGuard::M),
                    AnyLock::R(r) if how == How::TryRead => r.try_read().map(AnyGuard::R),
                    AnyLock::R(r) => r.try_write().map(AnyGuard::W),
                },
                _ => {
                    let verdict = if case.done {
                        None
                    } else {
                        case.reference.acquire(
                            &t.stack(),
                            Node::Lock(class),
                            held_as,
                            Some((class, instance)),
                        )
                    };
                    let mut guard = None;
                    case.compare(verdict.into_iter().collect(), || {
                        guard = Some(match (lock, how) {
                            (AnyLock::M(m), _) => AnyGuard::M(m.lock()),
                            (AnyLock::R(r), How::Read) => AnyGuard::R(r.read()),
                            (AnyLock::R(r), How::ReadRec) => AnyGuard::R(r.read_recursive()),
                            (AnyLock::R(r), _) => AnyGuard::W(r.write()),
                        })
                    })?;
                    guard
                }
            };
            if let Some(guard) = guard {
                let id = t.push(Node::Lock(class), held_as, Some((class, instance)));
                t.guards.push((id, (class, instance), guard));
            }
        }
        Op::Unlock(n) => {
            if !t.guards.is_empty() {
                let (id, _, guard) = t.guards.remove(n % t.guards.len());
                drop(guard);
                t.forget(id);
            }
        }
        Op::Alloc(p) => {
            let mut verdicts = Vec::new();
            if !case.done {
                let stack = t.stack();
                verdicts.extend(
                    case.reference
                        .acquire(&stack, Node::Pool(p), Held::Excl, None),
                );
                // `mempool_alloc()` starts with `might_alloc()`, except in reclaim itself.
                if !t.in_reclaim() && t.noreclaim == 0 && verdicts != [Verdict::Cycle] {
                    verdicts.extend(
                        case.reference
                            .acquire(&stack, Node::Alloc, Held::Excl, None),
                    );
                }
            }
            let mut element = None;
            case.compare(verdicts, || element = Some(world.pools[p].alloc()))?;
            let id = t.push(Node::Pool(p), Held::Excl, None);
            t.elements.push((id, element.unwrap()));
        }
        Op::TryAlloc(p) => {
            if let Some(e) = world.pools[p].try_alloc() {
                let id = t.push(Node::Pool(p), Held::Excl, None);
                t.elements.push((id, e));
            }
        }
        Op::Drop(n) => {
            if !t.elements.is_empty() {
                let (id, e) = t.elements.remove(n % t.elements.len());
                drop(e);
                t.forget(id);
            }
        }
        Op::HandOff(n) => {
            if !t.elements.is_empty() {
                let (id, e) = &t.elements[n % t.elements.len()];
                e.hand_off();
                let id = *id;
                t.forget(id);
            }
        }
        Op::DropCarried(n) => {
            if !case.carried.is_empty() {
                let e = case.carried.remove(n % case.carried.len());
                case.compare(Vec::new(), || drop(e))?;
            }
        }
        Op::HandOffCarried(n) => {
            if !case.carried.is_empty() {
                let e = &case.carried[n % case.carried.len()];
                e.hand_off();
            }
        }
        Op::MightAlloc => {
            let verdict = (!case.done && t.noreclaim == 0)
                .then(|| {
                    case.reference
                        .acquire(&t.stack(), Node::Alloc, Held::Excl, None)
                })
                .flatten();
            case.compare(verdict.into_iter().collect(), lockdep::might_alloc)?;
        }
        Op::Reclaim(ref body) => {
            let verdict = (!case.done)
                .then(|| {
                    case.reference
                        .acquire(&t.stack(), Node::Alloc, Held::Excl, None)
                })
                .flatten();
            let mut result = Ok(());
            let mut entered = false;
            let before = lockdep::violations().len();
            lockdep::reclaim_scope(|| {
                entered = true;
                // The scope's own acquisition was validated on entry.
                result = case.check(before, verdict.into_iter().collect());
                let id = t.push(Node::Alloc, Held::Excl, None);
                if result.is_ok() {
                    result = run_ops(case, t, body);
                }
                t.forget(id);
            });
            assert!(entered);
            result?;
        }
        Op::NoReclaim(ref body) => {
            t.noreclaim += 1;
            let result = lockdep::noreclaim_scope(|| run_ops(case, t, body));
            t.noreclaim -= 1;
            result?;
        }
    }
    Ok(())
}

/// Runs one program: its logical threads one after the other, each on an OS thread.
fn run_program(threads: &[Vec<Op>]) -> Result<(), String> {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    lockdep::set_mode(Mode::Collect);
    let world = World::new();
    let mut case = Case {
        world: &world,
        reference: Reference::new(),
        done: false,
        again_reported: BTreeSet::new(),
        carried: Vec::new(),
    };
    let mut result = Ok(());
    for ops in threads {
        let carried = std::thread::scope(|s| {
            s.spawn(|| {
                let mut t = Thread {
                    guards: Vec::new(),
                    elements: Vec::new(),
                    held: Vec::new(),
                    next_id: 0,
                    noreclaim: 0,
                };
                let r = run_ops(&mut case, &mut t, ops);
                // Guards end with their thread; elements outlive it.
                t.guards.clear();
                (
                    r,
                    t.elements.into_iter().map(|(_, e)| e).collect::<Vec<_>>(),
                )
            })
            .join()
            .unwrap()
        });
        case.carried.extend(carried.1);
        if carried.0.is_err() {
            result = carried.0;
            break;
        }
    }
    // A report at exit of a logical thread, or when the case ends, would be a false one.
    let leftover = case.carried.len();
    case.carried.clear();
    let taken = lockdep::take_violations();
    if ALLOC_AGAIN_SEEN.load(Ordering::Relaxed)
        || taken
            .iter()
            .any(|v| v.kind() == ViolationKind::RecursiveLock && v.classes() == ["ALLOC"])
    {
        ALLOC_AGAIN_SEEN.store(true, Ordering::Relaxed);
    }
    if let Some(fault) = taken.iter().find(|v| v.kind().turns_checker_off()) {
        panic!("the checker turned itself off: {fault:?}\n{fault}");
    }
    result?;
    let prefix = format!("{}-", &world.names[0][..world.names[0].len() - 3]);
    let unexplained: Vec<_> = taken
        .iter()
        .filter(|v| {
            matches!(
                v.kind(),
                ViolationKind::LockHeldAtExit | ViolationKind::PoolDroppedWithOutstanding
            ) && v.classes().iter().any(|c| c.starts_with(&prefix))
        })
        .collect();
    if !unexplained.is_empty() {
        return Err(format!(
            "false reports at thread exit ({leftover} elements carried): {unexplained:?}"
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Generation.

fn how() -> impl Strategy<Value = How> {
    prop_oneof![
        4 => Just(How::Excl),
        2 => Just(How::Read),
        2 => Just(How::ReadRec),
        1 => Just(How::TryExcl),
        1 => Just(How::TryRead),
    ]
}

fn leaf() -> BoxedStrategy<Op> {
    prop_oneof![
        8 => (0..LOCKS, 0..INSTANCES, how()).prop_map(|(c, i, h)| Op::Lock(c, i, h)),
        4 => (0..4usize).prop_map(Op::Unlock),
        2 => (0..POOLS).prop_map(Op::Alloc),
        1 => (0..POOLS).prop_map(Op::TryAlloc),
        2 => (0..4usize).prop_map(Op::Drop),
        1 => (0..4usize).prop_map(Op::HandOff),
        1 => (0..4usize).prop_map(Op::DropCarried),
        1 => (0..4usize).prop_map(Op::HandOffCarried),
        3 => Just(Op::MightAlloc),
    ]
    .boxed()
}

fn scoped(inner: BoxedStrategy<Op>) -> BoxedStrategy<Op> {
    prop_oneof![
        6 => inner.clone(),
        1 => prop::collection::vec(inner.clone(), 1..5).prop_map(Op::Reclaim),
        1 => prop::collection::vec(inner, 1..5).prop_map(Op::NoReclaim),
    ]
    .boxed()
}

fn program() -> impl Strategy<Value = Vec<Vec<Op>>> {
    // Scopes nest two deep, in every combination.
    let op = scoped(scoped(leaf()));
    prop::collection::vec(prop::collection::vec(op, 1..10), 1..4)
}

/// Cases per process: 5,000 by default, `TEST_LOCKDEP_DIFF_SCOPES_CASES` for more, at most 40,000:
/// each case registers up to 7 fresh classes, and past the class table's 262,144 the checker
/// turns itself off (as it should), which would be reported here as lost violations.
fn cases() -> u32 {
    std::env::var("TEST_LOCKDEP_DIFF_SCOPES_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000)
        .min(40_000)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn checker_agrees_with_reference_on_scopes_and_carried_elements(threads in program()) {
        run_program(&threads).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn two_locks_of_one_class_in_both_orders() {
    let found = INSTANCE_CYCLES.load(Ordering::Relaxed);
    run_program(&[
        vec![Op::Lock(3, 0, How::Excl), Op::Lock(3, 1, How::Read)],
        vec![Op::Lock(3, 1, How::Excl), Op::Lock(3, 0, How::Excl)],
    ])
    .unwrap();
    assert!(INSTANCE_CYCLES.load(Ordering::Relaxed) > found);
}

// ---------------------------------------------------------------------------------------------
// The kernel's fs_reclaim selftests, as programs.

#[test]
fn reclaim_wrong_nesting_is_recursion_on_alloc() {
    let lock_then_reclaim = vec![Op::Lock(0, 0, How::Excl), Op::Reclaim(vec![Op::MightAlloc])];
    run_program(&[lock_then_reclaim]).unwrap();
    run_program(&[vec![Op::Reclaim(vec![Op::Reclaim(vec![])])]]).unwrap();
}

#[test]
fn reclaim_protected_nesting_is_fine() {
    run_program(&[vec![
        Op::Lock(2, 0, How::Read),
        Op::Reclaim(vec![Op::NoReclaim(vec![Op::MightAlloc, Op::Alloc(1)])]),
    ]])
    .unwrap();
}

#[test]
fn element_carried_to_a_later_thread_does_not_end_its_hold() {
    run_program(&[
        vec![Op::Alloc(1)],
        vec![
            Op::Alloc(1),
            Op::DropCarried(0), // a stale release for the first thread
            Op::Alloc(1),       // still holding this thread's element: pool recursion
        ],
    ])
    .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Minimal programs of the checker bugs this test found (fixed in lockdep-core's `check_chain`
// and `ThreadState::remove`): an acquisition of a class already held (reported as recursive,
// or, for another lock of the class, ordered by instance) records no dependency between
// classes, so later validations must not stop at its entry as if the entries below reached the
// new lock through it.

#[test]
fn entries_below_an_aa_report_still_get_their_dependencies() {
    // P0 (no reclaim) ; try L3 ; another L3 ; reclaim: [P0, L3, L3'] → ALLOC must record
    // P0 → ALLOC, which with ALLOC → P0 is the mempool livelock.
    run_program(&[vec![
        Op::NoReclaim(vec![
            Op::Alloc(0),
            Op::Lock(3, 0, How::TryExcl),
            Op::Lock(3, 1, How::Excl),
        ]),
        Op::Reclaim(vec![Op::Lock(0, 0, How::Excl)]),
    ]])
    .unwrap();
}

#[test]
fn an_aa_entry_stays_transparent_after_its_lower_entry_is_released() {
    // L2 → L0 and L0 → L1 recorded; another L2 and then the first L2 and L0 released: the
    // stack is [L1, L2'], and taking L0 must record L1 → L0, closing L0 → L1 → L0.
    run_program(&[vec![
        Op::Reclaim(vec![Op::Lock(2, 1, How::Excl), Op::Lock(0, 1, How::Excl)]),
        Op::NoReclaim(vec![Op::Lock(1, 0, How::Excl)]),
        Op::NoReclaim(vec![Op::Lock(2, 0, How::Excl), Op::Unlock(0)]),
        Op::Unlock(0),
        Op::Lock(0, 0, How::Excl),
    ]])
    .unwrap();
}

/// Known limitation, kept as documentation: the checker goes on after a report (the kernel
/// turns itself off), but the acquisition that closed a cycle recorded none of its
/// dependencies, and later validations stop at its entry. A later cycle that needs a
/// dependency through it (here A → C, via the rejected A → B) goes unreported.
/// `cargo test --test differential_scopes -- --ignored`
#[test]
#[ignore = "known limitation: dependencies through the acquisition that closed a reported cycle"]
fn a_later_cycle_through_the_acquisition_that_closed_one() {
    lockdep::set_mode(Mode::Collect);
    let class = |n: &str| LockClass::leak(format!("scopes-after-cycle-{n}"));
    let (a, b, c) = (
        Mutex::with_class((), class("A")),
        Mutex::with_class((), class("B")),
        Mutex::with_class((), class("C")),
    );
    drop((b.lock(), a.lock())); // B → A
    {
        let _a = a.lock();
        let _b = b.lock(); // A → B closes B → A: reported, and A → B is not recorded
        let _c = c.lock(); // B → C recorded; A → C is not (A "reaches C through B")
    }
    drop((c.lock(), a.lock())); // C → A: with A → C, a cycle
    let found: Vec<_> = lockdep::violations()
        .into_iter()
        .filter(|v| v.involves("scopes-after-cycle-C"))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
}
