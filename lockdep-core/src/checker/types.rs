//! The checker's plain vocabulary: class ids, how a class is acquired, what a graph node
//! stands for, how a held entry names its instance, and which thread is which. Nothing here
//! has state beyond a thread-id counter.

use std::cell::Cell;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Dense id of a class (the kernel's `lock_class` index); 0 is "no class".
pub(crate) type ClassId = u32;

pub(crate) use lockdep_report::{Access, NodeKind};

impl From<crate::ClassKind> for NodeKind {
    fn from(kind: crate::ClassKind) -> NodeKind {
        match kind {
            crate::ClassKind::Lock => NodeKind::Lock,
            crate::ClassKind::Pool => NodeKind::Pool,
            crate::ClassKind::Event => NodeKind::Event,
        }
    }
}

/// Which instance a held entry stands for: a lock's address, or, for a pool element or an
/// `ALLOC` hold (held per class, not per object), the class itself.
///
/// Invariant: a class instance is `!class`, in the top 2^32 values of the address space,
/// where no lock lives, so the two never compare equal.
#[derive(Clone, Copy, Debug, Eq)]
pub(crate) struct Instance(usize);

/// Written out, not derived: a release compares instances, and a derived `eq` is a call of
/// its own in an unoptimised build (as is the default `ne`, which calls it).
impl PartialEq for Instance {
    #[inline(always)]
    fn eq(&self, other: &Instance) -> bool {
        self.0 == other.0
    }

    #[inline(always)]
    #[allow(clippy::partialeq_ne_impl)]
    fn ne(&self, other: &Instance) -> bool {
        self.0 != other.0
    }
}

/// As the derived one would (the address alone), beside the `PartialEq` written out.
impl std::hash::Hash for Instance {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl Instance {
    /// The lock at `addr`.
    #[inline(always)]
    pub(crate) fn lock(addr: usize) -> Instance {
        Instance(addr)
    }

    /// The per-class hold of `class` (pools and `ALLOC`).
    #[inline(always)]
    pub(crate) fn class(class: ClassId) -> Instance {
        Instance(!(class as usize))
    }

    /// The empty slot's instance, which no lock or class has.
    pub(crate) const NONE: Instance = Instance(0);

    /// The lock's address (or the class's mark).
    #[inline(always)]
    pub(crate) fn addr(self) -> usize {
        self.0
    }
}

/// The acquisition site of every allocation seen through `TrackingAllocator` (a violation
/// found there must never unwind: that would unwind out of the global allocator).
pub(crate) const ALLOCATOR_SITE: &Location<'static> = Location::caller();

/// A small number naming this thread in reports (the kernel's pid).
pub(crate) fn tid() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local!(static TID: Cell<u64> = const { Cell::new(0) });
    TID.with(|id| {
        if id.get() == 0 {
            id.set(NEXT.fetch_add(1, Relaxed));
        }
        id.get()
    })
}

/// `name/tid` of the current thread, as the kernel prints `comm/pid`; in a tokio task (with
/// the `tokio` feature), `task N on name/tid`.
pub(crate) fn current_thread_name() -> String {
    let thread = thread_name(&std::thread::current(), tid());
    #[cfg(feature = "tokio")]
    if let Some(task) = tokio::task::try_id() {
        return format!("task {task} on {thread}");
    }
    thread
}

/// `name/tid` of `thread`, numbered `tid`.
pub(crate) fn thread_name(thread: &std::thread::Thread, tid: u64) -> String {
    format!("{}/{tid}", thread.name().unwrap_or("<unnamed>"))
}

/// Locks one of the checker's internal mutexes. A panic while one is held (a bug of the
/// checker, or an allocation failure) must not take the rest of the checker down with it:
/// the data is kept consistent by each critical section, so poisoning is ignored.
#[inline]
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
