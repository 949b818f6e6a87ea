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
//! assert!(lockdep::violations().iter().any(|v| v.kind() == ViolationKind::CircularDependency));
//! ```
//!
//! See the crate README for the mempool rule, the reports and the set-up.
#![warn(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

pub use lockdep_core::{
    assert_no_violations, graph_dot, graph_json, is_checking, might_alloc, mode, noreclaim_scope,
    reclaim_scope, report, set_mode, take_violations, violations, Condvar, LockClass,
    MappedMutexGuard, MappedRwLockReadGuard, MappedRwLockWriteGuard, Mode, Mutex, MutexGuard,
    RawMutex, RawRwLock, RwLock, RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard,
    TrackingAllocator, Violation, ViolationKind, WaitTimeoutResult,
};

/// Sizes of the checker's tables (classes, dependencies, chains, graph bytes), for benchmarks
/// and tests. Not a stable API.
#[cfg(feature = "enabled")]
#[doc(hidden)]
pub use lockdep_core::{__stats, Stats};

pub use lockdep_core::sync;

/// Mempools: preallocated element pools whose users are checked against the mempool rule.
pub mod mempool {
    pub use lockdep_mempool::*;
}
