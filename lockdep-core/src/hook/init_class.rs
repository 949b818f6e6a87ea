//! One-time initialization as a class (parking_lot's `Once`; std's `Once`, `OnceLock`,
//! `LazyLock`): running the
//! initializer holds the class, and every call that may wait for an initialization is
//! validated as an acquisition of it.
//!
//! So a lock `L` taken inside an initializer records `O → L`, and a call that may block on
//! the initialization (`call_once`, `get_or_init`, `force`, `wait`, `set`) made while holding
//! `L` records `L → O`, **also once the initialization is complete**: in another run that
//! call could come first and wait, as a lock acquisition that happened not to contend could
//! have. An initializer that takes `L` while another thread holds `L` and waits for the same
//! initialization is a deadlock, and the cycle `O → L → O` is reported the first time both
//! halves are seen, in either order.

use std::panic::Location;

use crate::hook::lock_map::LockMap;
use crate::LockClass;
use lockdep_report::Access;

/// The class of one `Once`-like object, and its calls into the checker. The object's address
/// is its identity on the held stack.
#[derive(Debug)]
pub(crate) struct InitClass {
    map: LockMap,
}

impl InitClass {
    /// The class of every initialization of a value of type `T` created at `site` (`()` for a
    /// `Once`, which makes none).
    #[inline]
    pub(crate) const fn at_site<T: ?Sized>(site: &'static Location<'static>) -> InitClass {
        InitClass {
            map: LockMap::at_site::<T>(site),
        }
    }

    /// The named class `class`.
    #[inline]
    pub(crate) const fn with_class(class: &'static LockClass) -> InitClass {
        InitClass {
            map: LockMap::with_class(class),
        }
    }

    /// No class: never checked (the deprecated `ONCE_INIT`, which has no creation site of
    /// its own: all its copies would be one class).
    #[cfg(feature = "enabled")] // `lockdep::sync` is std's own without the checker
    #[inline]
    pub(crate) const fn unkeyed() -> InitClass {
        InitClass {
            map: LockMap::unkeyed(crate::ClassKind::Lock),
        }
    }

    /// A call at `site` that may wait for the initialization of `instance` (or run it),
    /// before it does: validated as an acquisition of the class (not held). When `complete`,
    /// the call will not wait now, but it depends on the class all the same; that is the fast
    /// path: with no lock held, one thread-local read; else thread-local work only once the
    /// chain was validated.
    ///
    /// # Panics
    ///
    /// When the initialization is not complete and this thread is running it (a recursive
    /// initialization, reported first), if the checker is on.
    #[inline]
    pub(crate) fn wait(&self, instance: usize, site: &'static Location<'static>, complete: bool) {
        #[cfg(feature = "enabled")]
        {
            self.map.validate_only(instance, Access::Write, site);
            if !complete {
                self.not_recursive(instance, site);
            }
        }
        #[cfg(not(feature = "enabled"))]
        let _ = (instance, site, complete);
    }

    /// The call would wait for an initialization that this very thread is running: it would
    /// deadlock (or std would panic). Validation reported the same lock taken twice; panic
    /// instead of hanging.
    #[cfg(feature = "enabled")]
    #[cold]
    fn not_recursive(&self, instance: usize, site: &'static Location<'static>) {
        if self.map.holds(instance) {
            panic!(
                "lockdep: recursive initialization of {} at {site}: this thread is running its \
                 initializer, and waiting for it would deadlock",
                self.map.name()
            );
        }
    }

    /// Runs the initializer `init` of `instance` with the class held, so that what it takes
    /// depends on the class. `blocking`: the call could have waited for another thread's
    /// initialization (validated again, a chain-cache hit after
    /// [`wait`](InitClass::wait)); else it had exclusive access (`&mut`) and
    /// records no dependency on the class, as a try-lock.
    #[inline]
    pub(crate) fn run<R>(
        &self,
        instance: usize,
        site: &'static Location<'static>,
        blocking: bool,
        init: impl FnOnce() -> R,
    ) -> R {
        if blocking {
            self.map.acquire(instance, 0, Access::Write, site, || true);
        } else {
            self.map
                .try_acquire(instance, 0, Access::Write, site, || true);
        }
        // Released on the way out, also when `init` panics (the object is then poisoned or
        // left uninitialized, and this thread no longer runs its initializer).
        let _held = Held {
            map: &self.map,
            instance,
        };
        init()
    }
}

/// The hold of an initialization class while its initializer runs.
struct Held<'a> {
    map: &'a LockMap,
    instance: usize,
}

impl Drop for Held<'_> {
    #[inline]
    fn drop(&mut self) {
        self.map.release(self.instance);
    }
}
