//! `parking_lot` 0.13, checked by lockdep: every public item of parking_lot 0.13, with
//! lockdep's types behind the names, so that `[patch.crates-io] parking_lot = …` validates
//! every parking_lot lock of a dependency tree (see lockdep's user guide,
//! `book/src/parking-lot.md`, "The patch by hand").
//!
//! parking_lot 0.13 differs from 0.12 by: `lock_api` 0.5 (whose `RwLock` has no recursive
//! reads, and which has a `Condvar`), `RecursiveRwLock` (an `RwLock` whose `read` is
//! recursive) over `RawRwLockRecursive`, `RawCondvar`, `Once::wait`, and no `const_*`
//! functions.
//!
//! Where this package differs from parking_lot 0.13, besides what the 0.12 patch documents:
//! - `lock_api` is `lock_api` 0.4, which lockdep's locks and guards are made of: code that
//!   names `parking_lot::lock_api::MutexGuard<'_, parking_lot::RawMutex, T>` builds; code that
//!   uses `lock_api` 0.5 directly with parking_lot's raw locks does not. So the guards'
//!   methods are 0.4's (`try_map_or_else`, not 0.5's `try_map_or_err`), `into_inner_with_raw`
//!   is absent, and `RawCondvar`'s methods are its own (`wait(&self, mutex: &RawMutex)`,
//!   `wait_until`, `wait_for`, `notify_one`, `notify_all`, `INIT`) rather than those of
//!   `lock_api` 0.5's `RawCondvar` trait, whose guard state it has no part in.
//! - `Condvar` and `WaitTimeoutResult` are this package's (0.13's `wait_while_until` looks at
//!   the condition again after the time ran out), over lockdep's checked condition variable;
//!   `Once` and `OnceState` are lockdep's, which have 0.13's `new_completed`, `wait`,
//!   `wait_force`, `is_completed` and `is_poisoned`.
//! - `RwLock` keeps 0.12's `read_recursive` family, which 0.13 moved to `RecursiveRwLock`.
//! - Feature `serde` gives the locks `Serialize`/`Deserialize` as parking_lot's; features
//!   `owning_ref` and `nightly` are accepted and do nothing.
//!
//! ```
//! let m = parking_lot::Mutex::new(1);
//! *m.lock() += 1;
//! assert!(lockdep::is_checking());
//! ```
#![warn(missing_docs)]

mod condvar;

pub use condvar::{Condvar, WaitTimeoutResult};

pub use lockdep::{
    FairMutex, FairMutexGuard, MappedFairMutexGuard, MappedMutexGuard, MappedReentrantMutexGuard,
    MappedRwLockReadGuard, MappedRwLockWriteGuard, Mutex, MutexGuard, Once, OnceState,
    RawFairMutex, RawMutex, RawRwLock, RawThreadId, ReentrantMutex, ReentrantMutexGuard, RwLock,
    RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard,
};

pub use lockdep::{
    MappedRecursiveRwLockReadGuard, MappedRecursiveRwLockWriteGuard, RawCondvar,
    RawRwLockRecursive, RecursiveRwLock, RecursiveRwLockReadGuard,
    RecursiveRwLockUpgradableReadGuard, RecursiveRwLockWriteGuard,
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
