//! [`LockdepMap`]: the kernel's `struct lockdep_map` for any primitive, so that what it
//! blocks on takes part in the one dependency graph.

use std::panic::Location;

use crate::hook::hold::Hold;
use crate::hook::lock_map::LockMap;
use crate::{ClassKind, LockClass};
use lockdep_report::Access;

/// A class handle for a primitive of your own (the kernel's `lockdep_map`): a lock, a
/// counted resource (a semaphore, an object pool), or an event (a channel's free space, a
/// completion). The primitive marks what it does with it, and the checker puts it in the
/// same graph as every `Mutex` and `Mempool`:
///
/// | the primitive | marks | records |
/// |---|---|---|
/// | blocks to take it | [`acquire`](Self::acquire), then [`Acquiring::acquired`] | `held → class`, then holds it |
/// | takes it without blocking | [`try_acquired`](Self::try_acquired) | holds it |
/// | may block to take it | [`might_acquire`](Self::might_acquire) | `held → class` |
/// | gives it back | drops the [`Hold`] | (ends the hold, on any thread) |
/// | waits for its event | [`wait`](Self::wait) | `held → class` |
/// | signals its event | [`notify`](Self::notify) | `class → X` for what this thread took since it last waited |
///
/// What the class is ([`ClassKind`]) decides how holds count and how a cycle through it is
/// reported. `Mempool` is built on this type alone.
///
/// # Examples
///
/// A counting semaphore whose permits are a class:
///
/// ```
/// use lockdep::{ClassKind, Hold, LockdepMap};
/// use std::sync::{Condvar, Mutex};
///
/// struct Semaphore {
///     permits: Mutex<usize>,
///     freed: Condvar,
///     map: LockdepMap,
/// }
///
/// struct Permit<'a>(&'a Semaphore, Hold);
///
/// impl Semaphore {
///     #[track_caller]
///     fn new(permits: usize) -> Semaphore {
///         let map = LockdepMap::new(ClassKind::Pool); // the caller's site is the class
///         Semaphore { permits: Mutex::new(permits), freed: Condvar::new(), map }
///     }
///
///     #[track_caller]
///     fn acquire(&self) -> Permit<'_> {
///         let acquiring = self.map.acquire(); // validated before blocking
///         let mut n = self.freed.wait_while(self.permits.lock().unwrap(), |n| *n == 0).unwrap();
///         *n -= 1;
///         Permit(self, acquiring.acquired())
///     }
/// }
///
/// impl Drop for Permit<'_> {
///     fn drop(&mut self) {
///         *self.0.permits.lock().unwrap() += 1;
///         self.0.freed.notify_one();
///     }
/// }
///
/// let sem = Semaphore::new(2);
/// let permit = sem.acquire();
/// std::thread::scope(|s| {
///     s.spawn(|| drop(sem.acquire())); // another thread's permit
/// });
/// drop(permit);
/// // (A second `acquire()` while holding `permit` would be reported as pool recursion: with
/// // every permit held so, all holders wait for each other.)
/// ```
#[derive(Debug)]
pub struct LockdepMap {
    map: LockMap,
}

/// A blocking acquisition validated by [`LockdepMap::acquire`], not yet held: the primitive
/// blocks, then calls [`acquired`](Acquiring::acquired). Dropping it instead means the
/// primitive gave up (a timeout): nothing is held.
///
/// # Examples
///
/// ```
/// let map = lockdep::LockdepMap::new(lockdep::ClassKind::Lock);
/// let acquiring = map.acquire();
/// // ... block until the resource is ours ...
/// let hold = acquiring.acquired();
/// drop(hold);
/// ```
#[must_use = "an acquisition is held only once `acquired` is called"]
pub struct Acquiring<'a> {
    map: &'a LockdepMap,
    #[cfg(feature = "enabled")]
    acq: Option<crate::checker::entry::Acquisition>,
}

impl LockdepMap {
    /// A map whose class is the caller's location (with `kind`): every map made there is one
    /// class. Give the primitive's constructor `#[track_caller]` to make its callers' sites
    /// the classes instead. Usable in a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{ClassKind, LockdepMap};
    ///
    /// static SHUTDOWN: LockdepMap = LockdepMap::new(ClassKind::Event);
    /// SHUTDOWN.notify();
    /// ```
    #[track_caller]
    #[inline]
    pub const fn new(kind: ClassKind) -> LockdepMap {
        LockdepMap {
            map: LockMap::untyped_at_site(kind, Location::caller()),
        }
    }

    /// A map whose class is `site` (with `kind`): for a constructor that took its caller's
    /// site earlier (a builder's). Usable in a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{ClassKind, LockdepMap};
    /// use std::panic::Location;
    ///
    /// struct Builder { site: &'static Location<'static> }
    /// impl Builder {
    ///     #[track_caller]
    ///     fn new() -> Builder { Builder { site: Location::caller() } }
    ///     fn build(self) -> LockdepMap { LockdepMap::at(ClassKind::Pool, self.site) }
    /// }
    /// let map = Builder::new().build();
    /// # #[cfg(feature = "enabled")]
    /// assert!(map.name().contains(".rs:"));
    /// ```
    #[inline]
    pub const fn at(kind: ClassKind, site: &'static Location<'static>) -> LockdepMap {
        LockdepMap {
            map: LockMap::untyped_at_site(kind, site),
        }
    }

    /// A map of the named class `class` (its kind is the class's). Usable in a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{LockClass, LockdepMap};
    ///
    /// static DEVICE: LockClass = LockClass::new("device");
    /// let a = LockdepMap::with_class(&DEVICE);
    /// let b = LockdepMap::with_class(&DEVICE);
    /// assert_eq!(a.name(), b.name());
    /// ```
    #[inline]
    pub const fn with_class(class: &'static LockClass) -> LockdepMap {
        LockdepMap {
            map: LockMap::with_class(class),
        }
    }

    /// A map of the class named `name` at run time, with `kind`: maps made with one name and
    /// kind share their class (as `Mempool::named` pools do).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{ClassKind, LockdepMap};
    ///
    /// let a = LockdepMap::named("conn-pool", ClassKind::Pool);
    /// let b = LockdepMap::named("conn-pool", ClassKind::Pool);
    /// # #[cfg(feature = "enabled")]
    /// assert_eq!(a.name(), "conn-pool");
    /// assert_eq!(a.name(), b.name());
    /// ```
    #[track_caller]
    pub fn named(name: &str, kind: ClassKind) -> LockdepMap {
        LockdepMap::named_at(name, kind, Location::caller())
    }

    /// [`named`](Self::named), first made at `site` (reports print where a named class was
    /// first made): for a constructor that took its caller's site earlier.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{ClassKind, LockdepMap};
    /// let map = LockdepMap::named_at("bios", ClassKind::Pool, std::panic::Location::caller());
    /// # #[cfg(feature = "enabled")]
    /// assert_eq!(map.name(), "bios");
    /// ```
    pub fn named_at(name: &str, kind: ClassKind, site: &'static Location<'static>) -> LockdepMap {
        LockdepMap {
            map: LockMap::named(name, kind, site),
        }
    }

    /// The class's name, as reports print it (`<no class>` when the checker is compiled out
    /// or its class table was full).
    ///
    /// # Examples
    ///
    /// ```
    /// let map = lockdep::LockdepMap::named("queue space", lockdep::ClassKind::Event);
    /// # #[cfg(feature = "enabled")]
    /// assert_eq!(map.name(), "queue space");
    /// ```
    pub fn name(&self) -> &'static str {
        #[cfg(feature = "enabled")]
        return self.map.class_name();
        #[cfg(not(feature = "enabled"))]
        "<no class>"
    }

    /// A blocking acquisition of the class, exclusive, at the caller's site: validated now,
    /// before the primitive blocks (`held → class`, and a class already held is reported).
    /// For an event, this is a wait: nothing is held after.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = lockdep::LockdepMap::new(lockdep::ClassKind::Lock);
    /// let hold = lock.acquire().acquired();
    /// drop(hold); // released
    /// ```
    #[track_caller]
    #[inline]
    pub fn acquire(&self) -> Acquiring<'_> {
        self.acquire_as(Access::Write, Location::caller())
    }

    /// [`acquire`](Self::acquire), shared (a reader: another shared hold does not wait for
    /// it, a writer waiting in between may).
    ///
    /// # Examples
    ///
    /// ```
    /// let rw = lockdep::LockdepMap::new(lockdep::ClassKind::Lock);
    /// let reader = rw.acquire_shared().acquired();
    /// drop(reader);
    /// ```
    #[track_caller]
    #[inline]
    pub fn acquire_shared(&self) -> Acquiring<'_> {
        self.acquire_as(Access::Read, Location::caller())
    }

    fn acquire_as(&self, access: Access, site: &'static Location<'static>) -> Acquiring<'_> {
        #[cfg(feature = "enabled")]
        {
            // Built in the return slot and validated there: an `Acquisition` made on the
            // stack and copied out after validation is read back as whole words over its
            // narrower field stores, a store-forwarding stall (6 ns of a pool's 50, measured).
            let acquiring = Acquiring {
                map: self,
                acq: self.map.own_acquisition(access, false, site),
            };
            if let Some(acq) = &acquiring.acq {
                self.map.validate_own(acq);
            }
            acquiring
        }
        #[cfg(not(feature = "enabled"))]
        {
            let _ = (access, site);
            Acquiring { map: self }
        }
    }

    /// A try-acquisition that succeeded, at the caller's site: held from now on, without a
    /// dependency of its own (a try never waits).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = lockdep::LockdepMap::new(lockdep::ClassKind::Pool);
    /// let element = pool.try_acquired();
    /// drop(element);
    /// ```
    #[track_caller]
    #[inline]
    pub fn try_acquired(&self) -> Hold {
        #[cfg(feature = "enabled")]
        return self.map.hold_at(Location::caller());
        #[cfg(not(feature = "enabled"))]
        Hold::untracked()
    }

    /// Records the dependencies of a blocking acquisition without holding anything (the
    /// kernel's `might_lock()`): for paths that block only sometimes, so that the dependency
    /// is known before the rare path runs.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = lockdep::LockdepMap::new(lockdep::ClassKind::Lock);
    /// lock.might_acquire();
    /// ```
    #[track_caller]
    #[inline]
    pub fn might_acquire(&self) {
        let _validated_only = self.acquire();
    }

    /// Runs `wait`, a wait for this class's event at the caller's site: validated first with
    /// what this thread holds (`held → event`). What the thread acquired before the wait is
    /// no longer on its way to a later [`notify`](Self::notify) of any event.
    ///
    /// A primitive that waits inside a lock it releases for the wait (a condition variable's
    /// mutex) must release that lock's hold first, as `Condvar` does.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{ClassKind, LockdepMap};
    /// use std::sync::mpsc;
    ///
    /// let item = LockdepMap::new(ClassKind::Event);
    /// let (tx, rx) = mpsc::channel();
    /// tx.send(1).unwrap();
    /// item.notify();
    /// assert_eq!(item.wait(|| rx.recv().unwrap()), 1);
    /// ```
    #[track_caller]
    #[inline]
    pub fn wait<R>(&self, wait: impl FnOnce() -> R) -> R {
        self.map.wait_event(Location::caller(), wait)
    }

    /// This thread signals the class's event, at the caller's site: the event depends on
    /// every lock this thread holds (taken blocking) and every class it acquired blocking
    /// since it last waited for an event. A thread that waits for the event while holding one
    /// of them is a [`WaitDeadlock`](crate::ViolationKind::WaitDeadlock).
    ///
    /// # Examples
    ///
    /// ```
    /// let done = lockdep::LockdepMap::new(lockdep::ClassKind::Event);
    /// done.notify();
    /// ```
    #[track_caller]
    #[inline]
    pub fn notify(&self) {
        self.map.notify_event(Location::caller());
    }

    /// Declares that memory reclaim may wait for this class (`ALLOC → class`): a pool whose
    /// elements reclaim needs, a lock a shrinker takes. Recorded at once, whatever the mode,
    /// at the class's creation site (else the caller's).
    ///
    /// # Examples
    ///
    /// ```
    /// let bios = lockdep::LockdepMap::new(lockdep::ClassKind::Pool);
    /// bios.needed_by_reclaim();
    /// ```
    #[track_caller]
    pub fn needed_by_reclaim(&self) {
        #[cfg(feature = "enabled")]
        self.map.add_reclaim_dependency(Location::caller());
    }

    /// Reports the class's primitive dropped with `outstanding` holds still out (a pool with
    /// elements in use), as
    /// [`PoolDroppedWithOutstanding`](crate::ViolationKind::PoolDroppedWithOutstanding),
    /// naming the class's creation site (else the caller's).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = lockdep::LockdepMap::new(lockdep::ClassKind::Pool);
    /// # lockdep::set_mode(lockdep::Mode::Collect);
    /// pool.report_outstanding(1);
    /// # lockdep::take_violations();
    /// # lockdep::set_mode(lockdep::Mode::Warn);
    /// ```
    #[track_caller]
    pub fn report_outstanding(&self, outstanding: usize) {
        #[cfg(feature = "enabled")]
        self.map.report_outstanding(outstanding, Location::caller());
        #[cfg(not(feature = "enabled"))]
        let _ = outstanding;
    }
}

impl std::fmt::Debug for Acquiring<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acquiring")
            .field("class", &self.map.name())
            .finish()
    }
}

impl Acquiring<'_> {
    /// The primitive has it: held from now on, until the returned [`Hold`] ends.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = lockdep::LockdepMap::new(lockdep::ClassKind::Pool);
    /// let hold = map.acquire().acquired();
    /// drop(hold);
    /// ```
    #[inline]
    pub fn acquired(self) -> Hold {
        #[cfg(feature = "enabled")]
        return match &self.acq {
            Some(acq) => self.map.map.begin_hold(acq),
            None => Hold::untracked(),
        };
        #[cfg(not(feature = "enabled"))]
        {
            let _ = self.map;
            Hold::untracked()
        }
    }
}

impl Hold {
    /// Makes this thread the holder: what the hold stands for (a pool element, a permit) was
    /// received by the thread that will use it.
    ///
    /// The previous holder's hold, if any, ends as if released there. This thread then holds
    /// `map`'s class as a try-acquisition at the caller's site: receiving never blocks, so it
    /// records no dependency into the class, while what this thread blocks on afterwards
    /// records `class → …`. Nothing happens when this thread holds it already, or (beyond
    /// ending the old hold) when checking is off.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = lockdep::LockdepMap::new(lockdep::ClassKind::Pool);
    /// let mut hold = map.try_acquired();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| hold.adopt(&map)); // the worker holds it now
    /// });
    /// ```
    #[track_caller]
    #[inline]
    pub fn adopt(&mut self, map: &LockdepMap) {
        #[cfg(feature = "enabled")]
        if !self.held_here() {
            self.end();
            *self = map.map.hold_at(Location::caller());
        }
        #[cfg(not(feature = "enabled"))]
        let _ = map;
    }
}
