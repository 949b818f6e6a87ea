//! The checker proper (built with the `enabled` feature).
//!
//! Internal lock order, outermost first (all plain `parking_lot`, never instrumented):
//! class registry → graph → violation store → a thread's inbox. Nothing is called back into
//! user code while any of them is held, except `tracing` events, emitted after the store lock
//! is released.

mod alloc;
mod chain_key;
mod exit;
mod export;
mod graph;
mod held;
mod lock_map;
pub mod pool;
mod registry;
mod report;
mod stack_trace;
mod store;
mod validator;
mod violation;

use once_cell::sync::Lazy;
use parking_lot::{Mutex, MutexGuard};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

pub use alloc::{might_alloc, noreclaim_scope, reclaim_scope, TrackingAllocator};
pub(crate) use exit::on_mode_initialized;
pub(crate) use held::Access;
pub(crate) use lock_map::LockMap;
pub(crate) use validator::{HeldToken, Pending};
pub use violation::Violation;

static GRAPH: Lazy<Mutex<graph::Graph>> = Lazy::new(Default::default);

pub(crate) fn graph_lock() -> MutexGuard<'static, graph::Graph> {
    GRAPH.lock()
}

/// A small number naming this thread in reports (the kernel's pid).
pub(crate) fn tid() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local!(static TID: Cell<u64> = const { Cell::new(0) });
    TID.with(|id| {
        if id.get() == 0 {
            id.set(NEXT.fetch_add(1, Relaxed));
        }
        id.get()
    })
}

/// A snapshot of the violations recorded and not yet taken.
///
/// ```
/// # lockdep_core::set_mode(lockdep_core::Mode::Collect);
/// let mine: Vec<_> = lockdep_core::violations()
///     .into_iter()
///     .filter(|v| v.involves("some class of this test"))
///     .collect();
/// assert!(mine.is_empty());
/// ```
pub fn violations() -> Vec<Violation> {
    store::pending()
}

/// Removes and returns the recorded violations. Taken violations are not printed at exit.
/// Each problem is reported once per process, so a taken violation does not come back.
pub fn take_violations() -> Vec<Violation> {
    store::take()
}

/// Panics with the full report if any violation is recorded and not taken.
///
/// The graph and the record are per process: in a test binary whose other tests provoke
/// violations on purpose, filter with [`Violation::involves`] instead.
///
/// ```
/// lockdep_core::assert_no_violations();
/// ```
#[track_caller]
pub fn assert_no_violations() {
    let pending = store::pending();
    if !pending.is_empty() {
        panic!(
            "lockdep: {} violation(s) recorded\n{}",
            pending.len(),
            report()
        );
    }
}

/// The full text report of every recorded violation (empty when there is none).
pub fn report() -> String {
    let pending = store::pending();
    if pending.is_empty() {
        return String::new();
    }
    let mut out = format!("lockdep: {} violation(s) recorded\n\n", pending.len());
    for v in &pending {
        out.push_str(&v.to_string());
        out.push('\n');
    }
    out
}

/// The whole dependency graph as JSON: `{"classes":[{"id","name","kind","site"}],
/// "edges":[{"from","to","deps","site"}]}`.
///
/// ```
/// let json = lockdep_core::graph_json();
/// assert!(json.starts_with("{\"classes\":["));
/// ```
pub fn graph_json() -> String {
    export::graph_json()
}

/// The whole dependency graph as a Graphviz DOT digraph.
///
/// ```
/// assert!(lockdep_core::graph_dot().starts_with("digraph lockdep {"));
/// ```
pub fn graph_dot() -> String {
    export::graph_dot()
}

/// Size of the checker's state, for benchmarks and tests.
#[doc(hidden)]
pub fn __stats() -> Stats {
    let graph = graph_lock();
    Stats {
        classes: registry::count() as usize,
        edges: graph.edge_count(),
        chains: chain_key::count(),
        graph_bytes: graph.heap_bytes(),
    }
}

/// Counts of the checker's tables.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    /// Classes registered.
    pub classes: usize,
    /// Dependencies between classes.
    pub edges: usize,
    /// Validated chains.
    pub chains: usize,
    /// Approximate heap bytes of the graph, stack traces included.
    pub graph_bytes: usize,
}
