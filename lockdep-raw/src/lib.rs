//! # lockdep-raw
//!
//! The raw locks lockdep's tracked locks are built on, implemented directly on
//! `parking_lot_core` (no dependency on the `parking_lot` package), plus untracked typed
//! wrappers for the checker's own internals.
//!
//! * [`RawMutex`] — one byte; implements `lock_api`'s `RawMutex`, `RawMutexFair`,
//!   `RawMutexTimed`.
//! * [`RawRwLock`] — one word; implements every `lock_api` reader-writer trait (fair,
//!   downgrade, timed, recursive, upgradable). Its semantics — in particular writer preference,
//!   which makes `read` twice on one thread a possible deadlock — are those of
//!   `parking_lot::RwLock` and are documented on the type.
//! * [`RawCondvar`] — a condition variable for [`RawMutex`].
//! * [`Mutex`], [`RwLock`], [`Condvar`], [`const_mutex`], … — untracked typed locks.
//!
//! ```
//! use lockdep_raw::{Condvar, Mutex, RwLock};
//!
//! let counter = Mutex::new(0u64);
//! std::thread::scope(|s| {
//!     for _ in 0..4 {
//!         s.spawn(|| *counter.lock() += 1);
//!     }
//! });
//! assert_eq!(*counter.lock(), 4);
//!
//! let table = RwLock::new(vec![1, 2]);
//! assert_eq!(table.read().len(), 2);
//! table.write().push(3);
//! # let _ = Condvar::new();
//! ```
//!
//! ## How the locks work
//!
//! Each lock is an atomic state word with a `PARKED` bit: a thread that has to wait sets
//! the bit, then parks in `parking_lot_core` with a `validate` callback that re-checks, under
//! the parking lot's bucket lock, that the bit is still set and the lock still refused. An
//! unlocker that sees the bit wakes waiters under the same bucket lock, so a wake-up cannot
//! slip between a waiter's last check and its sleep. The per-lock comments state every bit's
//! invariant and the no-lost-wake-up argument.
//!
//! ## Validation
//!
//! * Unit tests and doctests: `cargo test -p lockdep-raw`.
//! * Stress (bounded time, every case under a watchdog): `cargo test -p lockdep-raw --release
//!   --test stress`.
//! * Model check with [loom](https://docs.rs/loom): all atomics and all parking go through
//!   an internal shim that, under `--cfg loom`, uses loom's atomics and a loom-built parking
//!   lot with `parking_lot_core`'s contract (timeouts are not modelled):
//!
//!   ```text
//!   RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=/work/target-loom \
//!       cargo test -p lockdep-raw --release --test loom
//!   ```
//!
//!   Use a separate target directory: the flag changes every crate's build. On a 2-core
//!   machine the cold build takes about 2 minutes and the 16 models about 10 seconds.
//! * Benchmark against `parking_lot`: `cargo bench -p lockdep-raw --bench raw`.

#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod condvar;
mod mutex;
mod parking;
mod rwlock;
mod sync;
mod untracked;

pub use condvar::{DifferentMutex, RawCondvar};
pub use mutex::RawMutex;
pub use parking::init_parking;
pub use rwlock::{RawRwLock, RwRequest};
pub use untracked::{
    const_mutex, const_rwlock, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard,
    RwLockUpgradableReadGuard, RwLockWriteGuard,
};
