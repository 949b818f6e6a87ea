//! # lockdep
//!
//! A runtime lock-dependency validator for Rust, in the spirit of the Linux kernel's lockdep,
//! that also understands **mempools**. Swap `parking_lot`/`std` locks and object pools for the
//! ones here in test builds, run the tests, and get a kernel-grade report of every *possible*
//! deadlock and every mempool livelock the run made provable, before it happens in production.
//!
//! ```
//! use lockdep::{Mutex, ViolationKind};
//! # lockdep::set_mode(lockdep::Mode::Collect);
//!
//! let a = Mutex::new(());
//! let b = Mutex::new(());
//! drop((a.lock(), b.lock()));       // a → b
//! { let _b = b.lock(); let _a = a.lock(); } // b → a: reported, no deadlock needed
//! # #[cfg(feature = "enabled")]
//! // Taken: a violation this program expected does not fail its exit status.
//! assert!(lockdep::take_violations().iter().any(|v| v.kind() == ViolationKind::CircularDependency));
//! ```
//!
//! See the crate README for the mempool rule, the reports and the set-up.
#![warn(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

pub use lockdep_core::{
    as_task, assert_no_violations, graph_dot, graph_json, in_reclaim_scope, is_checking,
    might_alloc, mode, noreclaim_scope, reclaim_scope, report, set_mode, take_violations,
    untracked_scope, violations, Condvar, LockClass, Mode, RawCondvar, TrackingAllocator,
    Violation, ViolationKind, WaitTimeoutResult,
};

// The class API for primitives of one's own (the kernel's `lockdep_map`).
pub use lockdep_core::{Acquiring, ClassKind, Hold, LockdepMap};

// The parking_lot 0.12 API (item by item: `tests/parking_lot_api.rs`).
pub use lockdep_core::{
    const_fair_mutex, const_mutex, const_reentrant_mutex, const_rwlock, CheckedRawMutex, FairMutex,
    FairMutexGuard, MappedFairMutexGuard, MappedMutexGuard, MappedReentrantMutexGuard,
    MappedRwLockReadGuard, MappedRwLockWriteGuard, Mutex, MutexGuard, Once, OnceState,
    RawFairMutex, RawMutex, RawRwLock, RawThreadId, ReentrantMutex, ReentrantMutexGuard, RwLock,
    RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard,
};

// parking_lot 0.13's additions.
pub use lockdep_core::{
    MappedRecursiveRwLockReadGuard, MappedRecursiveRwLockWriteGuard, RawRwLockRecursive,
    RecursiveRwLock, RecursiveRwLockReadGuard, RecursiveRwLockUpgradableReadGuard,
    RecursiveRwLockWriteGuard,
};

/// The owned guards of the `arc_lock` feature (`lock_api`'s, as parking_lot re-exports them).
#[cfg(feature = "arc_lock")]
pub use lock_api::{
    ArcMutexGuard, ArcReentrantMutexGuard, ArcRwLockReadGuard, ArcRwLockUpgradableReadGuard,
    ArcRwLockWriteGuard,
};

/// `lock_api` 0.4, which this crate's locks and guards are made of (parking_lot re-exports
/// it too): `lock_api::RawMutex` for `INIT`, `lock_api::MutexGuard` for the guard API.
pub use lock_api;

/// Sizes of the checker's tables (classes, dependencies, chains, graph bytes), for benchmarks
/// and tests. Not a stable API.
#[cfg(feature = "enabled")]
#[doc(hidden)]
pub use lockdep_core::{__stats, Stats};

pub use lockdep_core::sync;

// `tokio` (`lockdep::tokio::sync`), present whenever lockdep-core is built with its `tokio`
// feature (this crate's `tokio` feature turns it on; so does a build of lockdep-core's own
// doctests with it). Without it the glob brings nothing, which the lints would flag.
#[allow(unused_imports, unreachable_pub)]
pub use lockdep_core::optional::*;

/// Mempools: preallocated element pools whose users are checked against the mempool rule.
pub mod mempool {
    pub use lockdep_mempool::*;
}
