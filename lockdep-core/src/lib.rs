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
//! use lockdep_core::{Mutex, ViolationKind};
//! # lockdep_core::set_mode(lockdep_core::Mode::Collect);
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
//! assert!(lockdep_core::violations()
//!     .iter()
//!     .any(|v| v.kind() == ViolationKind::CircularDependency));
//! ```
//!
//! Built without the `enabled` feature, every type here is a thin `#[repr(transparent)]` newtype
//! over `parking_lot` and every function is a no-op.
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

mod class;
mod condvar;
mod guard;
mod kind;
mod mode;
mod mutex;
mod rwlock;

#[cfg(feature = "enabled")]
mod checker;
#[cfg(not(feature = "enabled"))]
#[path = "disabled.rs"]
mod checker;

pub use class::LockClass;
pub use condvar::Condvar;
pub use kind::ViolationKind;
pub use mode::{mode, set_mode, Mode};
pub use mutex::{Mutex, MutexGuard};
pub use parking_lot::WaitTimeoutResult;
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};

pub use checker::{
    assert_no_violations, graph_dot, graph_json, might_alloc, noreclaim_scope, reclaim_scope,
    report, take_violations, violations, TrackingAllocator, Violation,
};

#[cfg(feature = "enabled")]
#[doc(hidden)]
pub use checker::{__stats, Stats};

/// Hooks for crates that add their own kinds of classes (the mempool crate). Not a stable API.
#[doc(hidden)]
pub use checker::pool as __pool;
