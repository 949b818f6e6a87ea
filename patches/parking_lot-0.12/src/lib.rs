//! `parking_lot` 0.12, checked by lockdep: every public item of parking_lot 0.12, with
//! lockdep's types behind the names, so that `[patch.crates-io] parking_lot = …` validates
//! every parking_lot lock of a dependency tree (see lockdep's user guide,
//! `book/src/parking-lot.md`, "The patch by hand").
//!
//! Where it differs from parking_lot:
//! - `Mutex<T>`, `FairMutex<T>`, `RwLock<T>` and `ReentrantMutex<T>` are lockdep's types, not
//!   aliases of `lock_api`'s: their constructors are `#[track_caller]`, so that each lock's
//!   class is its creation site. Their guards are `lock_api`'s, as in parking_lot.
//! - A lock made by `lock_api::Mutex::<parking_lot::RawMutex, _>::new` (`RawMutex::INIT`) has
//!   no creation site: it has no class and is not checked.
//! - Guards are not `Send` unless the `send_guard` feature is on; a guard released on another
//!   thread leaves its hold on the thread that took it.
//! - Feature `serde` gives the locks `Serialize`/`Deserialize` as parking_lot's; a
//!   deserialized lock's class is the one of every lock of its type deserialized with data of
//!   its type (there is no caller's site to give it).
//! - Features `owning_ref`, `nightly` and `hardware-lock-elision` are accepted and do nothing.
//!
//! ```
//! let m = parking_lot::Mutex::new(1);
//! *m.lock() += 1;
//! assert!(lockdep::is_checking());
//! ```
#![warn(missing_docs)]

pub use lockdep::{
    const_fair_mutex, const_mutex, const_reentrant_mutex, const_rwlock, Condvar, FairMutex,
    FairMutexGuard, MappedFairMutexGuard, MappedMutexGuard, MappedReentrantMutexGuard,
    MappedRwLockReadGuard, MappedRwLockWriteGuard, Mutex, MutexGuard, Once, OnceState,
    RawFairMutex, RawMutex, RawRwLock, RawThreadId, ReentrantMutex, ReentrantMutexGuard, RwLock,
    RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard, WaitTimeoutResult,
};

/// `lock_api` 0.4, which the locks and guards are made of.
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
