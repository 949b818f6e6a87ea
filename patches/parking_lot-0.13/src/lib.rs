//! `parking_lot` 0.13, checked by lockdep: every public item of parking_lot 0.13, with
//! lockdep's types behind the names, so that `[patch.crates-io] parking_lot = …` validates
//! every parking_lot lock of a dependency tree (see lockdep's README, "One line for the whole
//! dependency tree").
//!
//! parking_lot 0.13 differs from 0.12 by: `lock_api` 0.5 (whose `RwLock` has no recursive
//! reads, and which has a `Condvar`), `RecursiveRwLock` (an `RwLock` whose `read` is
//! recursive) over `RawRwLockRecursive`, `RawCondvar`, and no `const_*` functions.
//!
//! Where this package differs from parking_lot 0.13, besides what the 0.12 patch documents:
//! - `lock_api` is `lock_api` 0.4, which lockdep's locks and guards are made of: code that
//!   names `parking_lot::lock_api::MutexGuard<'_, parking_lot::RawMutex, T>` builds; code that
//!   uses `lock_api` 0.5 directly with parking_lot's raw locks does not.
//! - `RawCondvar` (only usable with `lock_api` 0.5's `Condvar`) is absent.
//!
//! ```
//! let m = parking_lot::Mutex::new(1);
//! *m.lock() += 1;
//! assert!(lockdep::is_checking());
//! ```
#![warn(missing_docs)]

pub use lockdep::{
    Condvar, FairMutex, FairMutexGuard, MappedFairMutexGuard, MappedMutexGuard,
    MappedReentrantMutexGuard, MappedRwLockReadGuard, MappedRwLockWriteGuard, Mutex, MutexGuard,
    Once, OnceState, RawFairMutex, RawMutex, RawRwLock, RawThreadId, ReentrantMutex,
    ReentrantMutexGuard, RwLock, RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard,
    WaitTimeoutResult,
};

pub use lockdep::{
    MappedRecursiveRwLockReadGuard, MappedRecursiveRwLockWriteGuard, RawRwLockRecursive,
    RecursiveRwLock, RecursiveRwLockReadGuard, RecursiveRwLockUpgradableReadGuard,
    RecursiveRwLockWriteGuard,
};

/// `lock_api` 0.4, which the locks and guards are made of (parking_lot 0.13's is 0.5).
pub use lockdep::lock_api;

#[cfg(feature = "arc_lock")]
pub use lockdep::{
    ArcMutexGuard, ArcReentrantMutexGuard, ArcRwLockReadGuard, ArcRwLockUpgradableReadGuard,
    ArcRwLockWriteGuard,
};

/// parking_lot_core's deadlock detector (feature `deadlock_detection`).
#[cfg(feature = "deadlock_detection")]
pub mod deadlock {
    pub use parking_lot_core::deadlock::check_deadlock;
}
