//! `lockdep::sync` with the `enabled` feature: the types of `std::sync` that block, with
//! std's names, signatures and poisoning, checked as the parking_lot-shaped locks of this
//! crate are; the rest of `std::sync` re-exported.
//!
//! Each type is a thin layer: `Mutex` and `RwLock` are [`crate::Mutex`] and
//! [`crate::RwLock`] plus std's poison flag, `Condvar` is [`crate::Condvar`]; `Once`,
//! `OnceLock` and `LazyLock` are std's own (which do the synchronisation) plus a class
//! (`hook::init_class`).

mod condvar;
mod lazy_lock;
mod mutex;
mod once;
mod once_lock;
mod poison;
mod rwlock;

pub use self::condvar::Condvar;
pub use self::lazy_lock::LazyLock;
pub use self::mutex::{Mutex, MutexGuard};
#[allow(deprecated)]
pub use self::once::{Once, ONCE_INIT};
pub use self::once_lock::OnceLock;
pub use self::rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};

// Everything else that is stable in `std::sync` (rustc 1.95), as std's own items: the error
// and result types are std's, so that code matching on them compiles unchanged. Unstable
// items are left out, the ones that pair with a replaced type above all (`MappedMutexGuard`,
// `nonpoison`, `ReentrantLock`...).
pub use std::sync::{
    atomic, mpsc, Arc, Barrier, BarrierWaitResult, LockResult, OnceState, PoisonError,
    TryLockError, TryLockResult, WaitTimeoutResult, Weak,
};
