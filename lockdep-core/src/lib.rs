//! # lockdep-core
//!
//! The heart of [lockdep](https://docs.rs/lockdep): a runtime lock-dependency validator in the
//! spirit of the Linux kernel's lockdep. Every lock belongs to a *class* (its creation site or a
//! named [`LockClass`]); every time a lock is taken while others are held, the dependency
//! `held → new` is added to one global graph over classes, and a cycle in that graph is reported
//! the first time it becomes possible, whichever threads contributed its edges and however long
//! ago.
//!
//! The graph also has one pseudo-class, `ALLOC`, that stands for the memory allocator and memory
//! reclaim (the kernel's `fs_reclaim` map): see [`might_alloc`], [`reclaim_scope`] and
//! [`noreclaim_scope`]. Mempools (crate `lockdep-mempool`) plug in as one more kind of class.
//!
//! ```
//! use lockdep::{Mutex, ViolationKind};
//! # lockdep::set_mode(lockdep::Mode::Collect);
//!
//! let a = Mutex::new(0);
//! let b = Mutex::new(0);
//! {
//!     let _a = a.lock();
//!     let _b = b.lock(); // records a → b
//! }
//! {
//!     let _b = b.lock();
//!     let _a = a.lock(); // b → a closes the cycle: reported, without any deadlock
//! }
//! # #[cfg(feature = "enabled")]
//! // Taken: a violation this program expected does not fail its exit status.
//! assert!(lockdep::take_violations()
//!     .iter()
//!     .any(|v| v.kind() == ViolationKind::CircularDependency));
//! ```
//!
//! Built without the `enabled` feature, every lock here is a thin `#[repr(transparent)]`
//! newtype over `lock_api` and the raw locks of `lockdep-raw` (the size and speed of
//! parking_lot's), and every function is a no-op.
//!
//! The layers, each using only those below it (`tests/layers.rs` checks it), are described
//! in the repository's `ARCHITECTURE.md`: the checker (`checker`, built with `enabled`), the
//! hooks that locks, pools and the allocator call (`hook`), the checked raw locks, the typed
//! locks, and this facade.
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![deny(unsafe_op_in_unsafe_fn)]

mod class;
mod condvar;
mod env;
mod fair_mutex;
mod hook;
mod lockdep_map;
mod mode;
mod mutex;
mod named;
mod once;
mod raw_fair_mutex;
mod raw_mutex;
mod raw_rwlock;
mod recursive_rwlock;
mod remutex;
mod rwlock;
mod shape;
#[cfg(feature = "enabled")]
mod std_sync;
#[cfg(all(feature = "tokio", feature = "enabled"))]
mod tokio_sync;
mod violation;

#[cfg(feature = "enabled")]
mod checker;
#[cfg(feature = "enabled")]
mod thin;

pub use class::{ClassKind, LockClass};
pub use condvar::{Condvar, RawCondvar, WaitTimeoutResult};
pub use fair_mutex::{const_fair_mutex, FairMutex, FairMutexGuard, MappedFairMutexGuard};
pub use hook::alloc::{
    in_reclaim_scope, might_alloc, noreclaim_scope, reclaim_scope, TrackingAllocator,
};
pub use hook::hold::Hold;
pub use hook::lock_map::untracked_scope;
pub use hook::task::{as_task, AsTask};
pub use lockdep_map::{Acquiring, LockdepMap};
pub use lockdep_report::ViolationKind;
pub use mode::{is_checking, mode, set_mode, Mode};
pub use mutex::{const_mutex, MappedMutexGuard, Mutex, MutexGuard};
pub use once::{Once, OnceState};
pub use raw_fair_mutex::RawFairMutex;
pub use raw_mutex::{CheckedRawMutex, RawMutex};
pub use raw_rwlock::{RawRwLock, RawRwLockRecursive};
pub use recursive_rwlock::{
    MappedRecursiveRwLockReadGuard, MappedRecursiveRwLockWriteGuard, RecursiveRwLock,
    RecursiveRwLockReadGuard, RecursiveRwLockUpgradableReadGuard, RecursiveRwLockWriteGuard,
};
pub use remutex::{
    const_reentrant_mutex, MappedReentrantMutexGuard, RawThreadId, ReentrantMutex,
    ReentrantMutexGuard,
};
pub use rwlock::{
    const_rwlock, MappedRwLockReadGuard, MappedRwLockWriteGuard, RwLock, RwLockReadGuard,
    RwLockUpgradableReadGuard, RwLockWriteGuard,
};
pub use violation::Violation;

/// A drop-in for `std::sync`: `use lockdep::sync::{Mutex, Condvar, OnceLock, …}` in place of
/// `use std::sync::{…}`, with no other edit, and every lock is checked.
///
/// `Mutex`, `RwLock` and `Condvar` have std's names, signatures (`lock()` returns a
/// [`LockResult`](std::sync::LockResult), `Condvar::wait` takes and returns the guard) and
/// poisoning; each is checked as [`Mutex`], [`RwLock`] and [`Condvar`] are, its class being
/// its creation site. `Once`, `OnceLock` and `LazyLock` are classes too: their initializer
/// runs with the class held, and every call that may wait for an initialization is validated
/// as an acquisition of it, so an initializer that takes a lock held elsewhere around an
/// access to the same cell is reported as a circular dependency. Everything else stable in
/// `std::sync` (`Arc`, `mpsc`, `atomic`, `Barrier`, `PoisonError`, `WaitTimeoutResult`, …)
/// is std's own item.
///
/// One addition is lockdep's own: [`Named`](sync::Named), which gives a lock a class by name
/// (`Mutex::named("ledger", value)`), as [`LockClass`] does for [`Mutex`].
///
/// Built without the `enabled` feature, this module is `std::sync` (`pub use std::sync::*`):
/// std's own types, at no cost (and `Named::named` is `new`).
///
/// # Examples
///
/// ```
/// use lockdep::sync::{Arc, Condvar, LazyLock, Mutex};
/// use std::thread;
///
/// static GREETING: LazyLock<String> = LazyLock::new(|| "hello".to_owned());
///
/// let pair = Arc::new((Mutex::new(None), Condvar::new()));
/// let pair2 = Arc::clone(&pair);
/// thread::spawn(move || {
///     *pair2.0.lock().unwrap() = Some(GREETING.len());
///     pair2.1.notify_one();
/// });
/// let (lock, cvar) = &*pair;
/// let len = cvar.wait_while(lock.lock().unwrap(), |len| len.is_none()).unwrap();
/// assert_eq!(*len, Some(5));
/// ```
pub mod sync {
    pub use crate::named::Named;
    #[cfg(feature = "enabled")]
    pub use crate::std_sync::*;
    #[cfg(not(feature = "enabled"))]
    pub use std::sync::*;
}

/// tokio, checked (feature `tokio`).
#[cfg(feature = "tokio")]
pub mod tokio {
    /// A drop-in for `tokio::sync`: `use lockdep::tokio::sync::{Mutex, RwLock, Semaphore, …}`
    /// in place of `use tokio::sync::{…}`, with no other edit, and every lock and semaphore is
    /// checked, in the one dependency graph of the blocking locks and pools.
    ///
    /// `Mutex`, `RwLock` and `Semaphore`, their guards and permits have tokio's names and
    /// signatures (except that `lock()`, `read()`, `write()`, `acquire()`, … are `fn`s that
    /// return a future, the same calls with the same meaning: tokio's are `async fn`s). Each
    /// lock is a class, its creation site; awaiting it is a blocking acquisition, validated
    /// when the future is first polled and held once it completes; a `try_*` never waits and
    /// records no dependency of its own; `blocking_*` is a blocking acquisition of a thread.
    /// A read is the kernel's non-recursive read (tokio's lock is fair: a read queues behind a
    /// waiting writer). A semaphore is a counted class, as a mempool: awaiting a permit of a
    /// semaphore while holding one of it is [`PoolRecursion`](crate::ViolationKind::PoolRecursion).
    /// A guard or permit ends its hold when dropped, on whichever task or thread. Everything
    /// else (`mpsc`, `oneshot`, `watch`, `broadcast`, `Notify`, `Barrier`, `OnceCell`,
    /// `SetOnce`, the error types, …) is tokio's own item.
    ///
    /// Built without the `enabled` feature, this module is `tokio::sync`
    /// (`pub use tokio::sync::*`): tokio's own types, at no cost.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::tokio::sync::{mpsc, Mutex, Semaphore};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let state = Arc::new(Mutex::new(Vec::new()));
    /// let workers = Arc::new(Semaphore::new(2));
    /// let (tx, mut rx) = mpsc::channel(4);
    /// for i in 0..4 {
    ///     let (state, workers, tx) = (state.clone(), workers.clone(), tx.clone());
    ///     tokio::spawn(async move {
    ///         let _permit = workers.acquire().await.unwrap();
    ///         state.lock().await.push(i);
    ///         tx.send(i).await.unwrap();
    ///     });
    /// }
    /// drop(tx);
    /// let mut sent = 0;
    /// while rx.recv().await.is_some() {
    ///     sent += 1;
    /// }
    /// assert_eq!((sent, state.lock().await.len()), (4, 4));
    /// # }
    /// ```
    pub mod sync {
        #[cfg(feature = "enabled")]
        pub use crate::tokio_sync::*;
        #[cfg(not(feature = "enabled"))]
        pub use ::tokio::sync::*;
    }
}

/// The modules of lockdep-core's optional features (`tokio`), for the facade to re-export
/// whenever lockdep-core is built with them (a glob: nothing when it is not).
#[doc(hidden)]
pub mod optional {
    #[cfg(feature = "tokio")]
    pub use crate::tokio;
}

#[cfg(feature = "enabled")]
use checker::entry;

/// A snapshot of the violations recorded and not yet taken (always empty without the
/// `enabled` feature). Violations that the suppression file (`lockdep.toml`, or the file
/// `LOCKDEP_SUPPRESSIONS` names) suppresses are not recorded: they are counted for their
/// entry, printed at exit as such, and written to the report file (see `book/src/suppressions.md`
/// in the repository).
///
/// # Examples
///
/// ```
/// # lockdep::set_mode(lockdep::Mode::Collect);
/// let mine: Vec<_> = lockdep::violations()
///     .into_iter()
///     .filter(|v| v.involves("some class of this test"))
///     .collect();
/// assert!(mine.is_empty());
/// ```
pub fn violations() -> Vec<Violation> {
    #[cfg(feature = "enabled")]
    return entry::violations()
        .into_iter()
        .map(Violation::new)
        .collect();
    #[cfg(not(feature = "enabled"))]
    {
        // Variables set for a checker that is not there are worth a word.
        env::check_once();
        Vec::new()
    }
}

/// Removes and returns the recorded violations. Taken violations are not printed at exit and
/// do not make the process exit with status 66 (`LOCKDEP_EXIT_CODE`): a test that provokes a
/// violation on purpose takes it.
/// Each problem is reported once per process, so a taken violation does not come back.
///
/// # Examples
///
/// ```
/// # lockdep::set_mode(lockdep::Mode::Collect);
/// let taken = lockdep::take_violations();
/// assert!(lockdep::violations().is_empty());
/// # drop(taken);
/// ```
pub fn take_violations() -> Vec<Violation> {
    #[cfg(feature = "enabled")]
    return entry::take_violations()
        .into_iter()
        .map(Violation::new)
        .collect();
    #[cfg(not(feature = "enabled"))]
    {
        // Variables set for a checker that is not there are worth a word.
        env::check_once();
        Vec::new()
    }
}

/// Checks that no violation is recorded (and not taken).
///
/// The graph and the record are per process: in a test binary whose other tests provoke
/// violations on purpose, filter with [`Violation::involves`] instead.
///
/// # Panics
///
/// With the full report, if any violation is recorded.
///
/// # Examples
///
/// ```
/// lockdep::assert_no_violations();
/// ```
#[track_caller]
pub fn assert_no_violations() {
    let report = report();
    if !report.is_empty() {
        panic!("{report}");
    }
}

/// The full text report of every recorded violation (empty when there is none).
///
/// # Examples
///
/// ```
/// # lockdep::set_mode(lockdep::Mode::Collect);
/// let text = lockdep::report();
/// assert!(text.is_empty() || text.starts_with("lockdep: "));
/// ```
pub fn report() -> String {
    #[cfg(feature = "enabled")]
    return entry::report_text();
    #[cfg(not(feature = "enabled"))]
    {
        // Variables set for a checker that is not there are worth a word.
        env::check_once();
        String::new()
    }
}

/// The whole dependency graph as JSON: `{"classes":[{"id","name","kind","site"}],
/// "edges":[{"from","to","deps","site","backtrace"}]}`, an edge's `from` and `to` being
/// class ids; the fields are described in `book/src/json.md` in the repository. Every
/// dependency's stack trace is resolved to symbols, which is slow: call it for a report, not
/// in a loop. Without the `enabled` feature, `{"classes":[],"edges":[]}`.
///
/// # Examples
///
/// ```
/// use lockdep::{LockClass, Mutex};
/// static OUTER: LockClass = LockClass::new("doc-graph-outer");
/// static INNER: LockClass = LockClass::new("doc-graph-inner");
/// let (outer, inner) = (Mutex::with_class((), &OUTER), Mutex::with_class((), &INNER));
/// drop((outer.lock(), inner.lock()));
///
/// let json = lockdep::graph_json();
/// assert!(json.starts_with("{\"classes\":["));
/// # #[cfg(feature = "enabled")]
/// assert!(json.contains("\"name\":\"doc-graph-inner\",\"kind\":\"lock\""));
/// ```
pub fn graph_json() -> String {
    #[cfg(feature = "enabled")]
    return entry::graph_json();
    #[cfg(not(feature = "enabled"))]
    {
        // Variables set for a checker that is not there are worth a word.
        env::check_once();
        String::from("{\"classes\":[],\"edges\":[]}")
    }
}

/// The whole dependency graph as a Graphviz DOT digraph.
///
/// # Examples
///
/// ```
/// assert!(lockdep::graph_dot().starts_with("digraph lockdep {"));
/// ```
pub fn graph_dot() -> String {
    #[cfg(feature = "enabled")]
    return entry::graph_dot();
    #[cfg(not(feature = "enabled"))]
    {
        // Variables set for a checker that is not there are worth a word.
        env::check_once();
        String::from("digraph lockdep {\n}\n")
    }
}

/// Size of the checker's state, for benchmarks and tests.
#[cfg(feature = "enabled")]
#[doc(hidden)]
pub fn __stats() -> Stats {
    let (classes, edges, chains, graph_bytes) = entry::table_sizes();
    Stats {
        classes,
        edges,
        chains,
        graph_bytes,
    }
}

/// Counts of the checker's tables.
#[cfg(feature = "enabled")]
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
