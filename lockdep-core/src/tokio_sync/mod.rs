//! `lockdep::tokio::sync` with the `enabled` feature: the types of `tokio::sync` that wait
//! for one another's release (`Mutex`, `RwLock`, `Semaphore` and their guards and permits),
//! with tokio's names and signatures, checked; the rest of `tokio::sync` re-exported.
//!
//! Each type is built as tokio builds its own, on tokio's (public) semaphore, plus a class
//! (`class`): a lock's is a lock class, a semaphore's a counted class, as a mempool's. A
//! blocking acquisition is validated at the first poll of its future, held once it
//! completes, and its hold (`Hold`) ends when the guard or permit is dropped, on whichever
//! task or thread.

mod class;
mod error;
mod mutex;
mod mutex_guard;
mod owned_mutex_guard;
mod owned_permit;
mod permit;
mod rwlock;
mod semaphore;

pub use self::mutex::Mutex;
pub use self::mutex_guard::{MappedMutexGuard, MutexGuard};
pub use self::owned_mutex_guard::{OwnedMappedMutexGuard, OwnedMutexGuard};
pub use self::owned_permit::OwnedSemaphorePermit;
pub use self::permit::SemaphorePermit;
pub use self::rwlock::owned_read_guard::OwnedRwLockReadGuard;
pub use self::rwlock::owned_write_guard::OwnedRwLockWriteGuard;
pub use self::rwlock::owned_write_guard_mapped::OwnedRwLockMappedWriteGuard;
pub use self::rwlock::read_guard::RwLockReadGuard;
pub use self::rwlock::write_guard::RwLockWriteGuard;
pub use self::rwlock::write_guard_mapped::RwLockMappedWriteGuard;
pub use self::rwlock::RwLock;
pub use self::semaphore::Semaphore;

// Everything else of `tokio::sync` (1.54), as tokio's own items: the channels, `Notify`,
// `Barrier`, the cells, and the error types, so that code matching on them compiles
// unchanged.
pub use ::tokio::sync::{
    broadcast, futures, mpsc, oneshot, watch, AcquireError, Barrier, BarrierWaitResult, Notify,
    OnceCell, SetError, SetOnce, SetOnceError, TryAcquireError, TryLockError,
};
