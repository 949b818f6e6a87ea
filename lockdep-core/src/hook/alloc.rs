//! The `ALLOC` node: memory allocation and reclaim as one pseudo-lock, like the kernel's
//! `fs_reclaim` map.
//!
//! - An allocation that may enter reclaim, while holding `X`, records `X → ALLOC`
//!   ([`might_alloc`], every allocation through [`TrackingAllocator`]).
//! - Code that runs as reclaim holds `ALLOC` ([`reclaim_scope`]): what it takes gets
//!   `ALLOC → L`.
//! - [`noreclaim_scope`] is the kernel's `memalloc_noio_save()`: allocations inside cannot
//!   enter reclaim and record nothing.

//!
//! Written once for both builds: without the `enabled` feature each is the bare operation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::panic::Location;

#[cfg(feature = "enabled")]
use crate::checker::entry;

/// Declares that the code here may allocate memory, and so may wait for memory reclaim: every
/// lock held now gets the dependency `lock → ALLOC`.
///
/// Call it on paths that allocate only sometimes, so that the dependency is known before the
/// rare path runs (the kernel's `might_alloc()`). With [`TrackingAllocator`] installed, every
/// real allocation does this by itself.
///
/// # Examples
///
/// ```
/// use lockdep::{might_alloc, Mutex};
///
/// let cache = Mutex::new(Vec::<u8>::new());
/// let mut c = cache.lock();
/// might_alloc(); // records "cache lock → ALLOC"
/// c.reserve(4096);
/// ```
#[inline]
#[track_caller]
pub fn might_alloc() {
    might_alloc_at(Location::caller());
}

/// [`might_alloc`] with an explicit site.
#[inline(always)]
fn might_alloc_at(site: &'static Location<'static>) {
    #[cfg(feature = "enabled")]
    if crate::mode::is_checking() {
        entry::might_alloc(site);
    }
    #[cfg(not(feature = "enabled"))]
    let _ = site;
}

/// True when this thread runs as memory reclaim now (inside a [`reclaim_scope`], while
/// checking). An allocator's own code asks it to skip [`might_alloc`] there: reclaim does not
/// recurse into reclaim (the kernel's `PF_MEMALLOC`), as a mempool's `alloc()` does not.
///
/// # Examples
///
/// ```
/// use lockdep::{in_reclaim_scope, reclaim_scope};
///
/// assert!(!in_reclaim_scope());
/// # #[cfg(feature = "enabled")]
/// assert!(reclaim_scope(in_reclaim_scope));
/// ```
pub fn in_reclaim_scope() -> bool {
    #[cfg(feature = "enabled")]
    return crate::mode::is_checking() && entry::in_reclaim();
    #[cfg(not(feature = "enabled"))]
    false
}

/// Runs `f` as memory reclaim (a shrinker, a writeback path, an eviction callback): locks
/// taken and pool elements allocated inside get the dependency `ALLOC → …`, because an
/// allocation anywhere may have to wait for this code.
///
/// Allocating memory that may itself enter reclaim inside is reported as reclaim recursion,
/// unless done inside [`noreclaim_scope`].
///
/// # Examples
///
/// ```
/// use lockdep::{reclaim_scope, Mutex};
///
/// let lru = Mutex::new(vec![1, 2, 3]);
/// let freed = reclaim_scope(|| lru.lock().drain(..).count()); // records ALLOC → lru
/// assert_eq!(freed, 3);
/// ```
#[track_caller]
pub fn reclaim_scope<R>(f: impl FnOnce() -> R) -> R {
    let _reclaim = ReclaimHold::enter(Location::caller());
    f()
}

/// `ALLOC` held for the duration of a [`reclaim_scope`] (when it was taken while checking).
struct ReclaimHold {
    #[cfg(feature = "enabled")]
    held: bool,
}

impl ReclaimHold {
    #[inline]
    fn enter(site: &'static Location<'static>) -> ReclaimHold {
        #[cfg(feature = "enabled")]
        {
            ReclaimHold {
                held: crate::mode::is_checking() && entry::enter_reclaim(site),
            }
        }
        #[cfg(not(feature = "enabled"))]
        {
            let _ = site;
            ReclaimHold {}
        }
    }
}

impl Drop for ReclaimHold {
    #[inline]
    fn drop(&mut self) {
        #[cfg(feature = "enabled")]
        if self.held {
            entry::leave_reclaim();
        }
    }
}

/// Runs `f` with allocations that cannot enter reclaim (the kernel's `memalloc_noio_save()`,
/// `GFP_NOIO`): they record no dependency on `ALLOC`. The way to allocate while holding a
/// mempool element or a lock that reclaim takes.
///
/// # Examples
///
/// ```
/// use lockdep::{might_alloc, noreclaim_scope, reclaim_scope};
///
/// reclaim_scope(|| {
///     noreclaim_scope(|| might_alloc()); // fine: this allocation cannot recurse into reclaim
/// });
/// ```
#[inline]
pub fn noreclaim_scope<R>(f: impl FnOnce() -> R) -> R {
    /// Leaves the scope, also on unwind.
    struct Restore;
    impl Drop for Restore {
        #[inline]
        fn drop(&mut self) {
            #[cfg(feature = "enabled")]
            entry::leave_noreclaim();
        }
    }
    #[cfg(feature = "enabled")]
    entry::enter_noreclaim();
    let _restore = Restore;
    f()
}

/// A `#[global_allocator]` that wraps [`System`] and treats every allocation as
/// [`might_alloc`]: a `Vec` growing under a lock that memory reclaim takes is caught without
/// annotating anything.
///
/// With no lock held it costs one relaxed load and one thread-local read per allocation. It
/// is safe during thread start-up and teardown, and the checker's own allocations do not
/// re-enter it.
///
/// # Examples
///
/// ```no_run
/// #[global_allocator]
/// static ALLOC: lockdep::TrackingAllocator = lockdep::TrackingAllocator;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TrackingAllocator;

/// The site recorded for an allocation through [`TrackingAllocator`].
#[cfg(feature = "enabled")]
const TRACKING_SITE: &Location<'static> = entry::ALLOCATOR_SITE;
#[cfg(not(feature = "enabled"))]
const TRACKING_SITE: &Location<'static> = Location::caller();

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the hook
// before it neither allocates through this allocator re-entrantly (the checker's re-entry
// guard) nor touches the memory.
unsafe impl GlobalAlloc for TrackingAllocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        might_alloc_at(TRACKING_SITE);
        // SAFETY: forwarded contract of `GlobalAlloc::alloc`.
        unsafe { System.alloc(layout) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        might_alloc_at(TRACKING_SITE);
        // SAFETY: forwarded contract of `GlobalAlloc::alloc_zeroed`.
        unsafe { System.alloc_zeroed(layout) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract of `GlobalAlloc::dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            might_alloc_at(TRACKING_SITE);
        }
        // SAFETY: forwarded contract of `GlobalAlloc::realloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
