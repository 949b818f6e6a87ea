//! # lockdep-mempool
//!
//! A mempool (the Linux kernel's `mm/mempool.c`, in Rust) whose users are checked by lockdep
//! against the **mempool rule**: between taking an element and returning it, a thread must not
//! block on a lock that any thread holds while allocating memory.
//!
//! A [`Mempool`] keeps `min_nr` preallocated elements. [`Mempool::alloc`] first tries the
//! allocation function, then a reserved element, and otherwise waits until an element is
//! returned: so its users make progress even when memory is short, as long as returning an
//! element never waits for memory. An [`Element`] returns itself to the pool when dropped, on
//! any thread.
//!
//! For the checker a pool is a class that a thread holds from `alloc()` until the element is
//! dropped or [handed off](Element::hand_off); a thread that receives an element to work on it
//! [adopts](Element::adopt) it and holds the class in its turn (see [`Element`] for the
//! rule). A pool on the reclaim path (the default) also
//! has the dependency `ALLOC → pool`: memory reclaim may wait for its elements. Then
//! `pool.alloc(); b.lock()` on one thread and `b.lock(); <allocate>` on another close the
//! cycle `pool → b → ALLOC → pool`, reported as a mempool livelock the first time both halves
//! are seen.
//!
//! ```
//! use lockdep::mempool::Mempool;
//!
//! let pool = Mempool::new(2, || Some(vec![0u8; 64]));
//! assert_eq!(pool.free_count(), 2);
//! let mut buf = pool.alloc();
//! buf[0] = 1;
//! drop(buf); // back to the reserve, or freed if the reserve is full
//! ```
//!
//! The mempool rule, checked: both halves are seen once, on any threads, and the livelock is
//! reported although it never happened.
//!
//! ```
//! use lockdep::{might_alloc, LockClass, Mutex, ViolationKind};
//! use lockdep::mempool::Mempool;
//! # lockdep::set_mode(lockdep::Mode::Collect);
//!
//! static JOURNAL: LockClass = LockClass::new("doc-journal");
//! let bios = Mempool::named("doc-bio_pool", 1, || Some([0u8; 512]));
//! let journal = Mutex::with_class((), &JOURNAL);
//!
//! // taskA: takes an element, then the journal.
//! let bio = bios.alloc();
//! drop(journal.lock()); // bio_pool → journal
//! drop(bio);
//!
//! // taskB: allocates memory under the journal.
//! let j = journal.lock();
//! might_alloc(); // journal → ALLOC, and reclaim needs bios: ALLOC → bio_pool
//! drop(j);
//!
//! # #[cfg(feature = "enabled")]
//! // Taken: a violation this program expected does not fail its exit status.
//! assert!(lockdep::take_violations()
//!     .iter()
//!     .any(|v| v.kind() == ViolationKind::MempoolLivelock && v.involves("doc-bio_pool")));
//! ```
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![deny(unsafe_op_in_unsafe_fn)]

mod builder;
mod element;
mod error;
mod pool;
mod shared;

pub use builder::Builder;
pub use element::Element;
pub use error::{PoolError, ResizeError};
pub use pool::Mempool;
