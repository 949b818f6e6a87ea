//! `Once`: parking_lot's one-time initialization, as a class of the graph.
//!
//! A thread that calls `call_once` either runs the initializer, or waits for the thread
//! that does, or (complete) returns: each is validated as a blocking acquisition of the
//! `Once`'s class, the last too, since in another run that call could have come first and
//! waited; the initializer runs with the class held. So an initializer that takes lock `L`
//! records `Once → L`, a call made while holding `L` records `L → Once`, and the two
//! together are the deadlock they are. The rule is `lockdep::sync`'s (`hook::init_class`).

use crate::shape;
use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::hook::init_class::InitClass;
use crate::LockClass;

/// The state of a [`Once`] (parking_lot's `OnceState`).
///
/// # Examples
///
/// ```
/// use lockdep::{Once, OnceState};
/// let once = Once::new();
/// assert_eq!(once.state(), OnceState::New);
/// once.call_once(|| {});
/// assert!(once.state().done());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnceState {
    /// No initializer has run yet.
    New,
    /// An initializer panicked: `call_once` panics, `call_once_force` runs again.
    Poisoned,
    /// An initializer is running.
    InProgress,
    /// An initializer completed.
    Done,
}

impl OnceState {
    /// True if an initializer panicked (parking_lot 0.13's name; also
    /// [`poisoned`](OnceState::poisoned)).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(lockdep::OnceState::Poisoned.is_poisoned());
    /// ```
    #[inline]
    pub const fn is_poisoned(self) -> bool {
        matches!(self, OnceState::Poisoned)
    }

    /// True if an initializer panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(lockdep::OnceState::Poisoned.poisoned());
    /// ```
    #[inline]
    pub const fn poisoned(self) -> bool {
        self.is_poisoned()
    }

    /// True if an initializer completed (parking_lot 0.13's name; also
    /// [`done`](OnceState::done)).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(lockdep::OnceState::Done.is_completed());
    /// ```
    #[inline]
    pub const fn is_completed(self) -> bool {
        matches!(self, OnceState::Done)
    }

    /// True if an initializer completed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(lockdep::OnceState::Done.done());
    /// ```
    #[inline]
    pub const fn done(self) -> bool {
        self.is_completed()
    }

    const fn from_u8(state: u8) -> OnceState {
        match state {
            0 => OnceState::New,
            1 => OnceState::Poisoned,
            2 => OnceState::InProgress,
            _ => OnceState::Done,
        }
    }
}

/// A one-time initialization with the API of `parking_lot::Once`, whose initialization
/// order is validated by the checker (see the module docs): its class is its creation site,
/// or a [`LockClass`].
///
/// # Examples
///
/// ```
/// use lockdep::Once;
///
/// static INIT: Once = Once::new();
/// let mut runs = 0;
/// INIT.call_once(|| runs += 1);
/// INIT.call_once(|| runs += 1);
/// assert_eq!(runs, 1);
/// ```
pub struct Once {
    /// Exclusion and waiting: std's `Once`, which has parking_lot's semantics (poisoning
    /// included).
    once: std::sync::Once,
    /// The [`OnceState`] for `state()`, which std does not tell: written only by the thread
    /// running the initializer.
    state: AtomicU8,
    class: InitClass,
}

impl Once {
    /// A new `Once` whose class is the caller's source location.
    ///
    /// # Examples
    ///
    /// ```
    /// let once = lockdep::Once::new();
    /// assert!(!once.state().done());
    /// ```
    #[track_caller]
    #[inline]
    pub const fn new() -> Once {
        Once::with_init_class(InitClass::at_site::<shape::Once>(Location::caller()))
    }

    /// A `Once` already complete (parking_lot 0.13's): no initializer ever runs, and no call
    /// waits. Its class is the caller's source location.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{Once, OnceState};
    /// static READY: Once = Once::new_completed();
    /// assert_eq!(READY.state(), OnceState::Done);
    /// READY.call_once(|| unreachable!());
    /// READY.wait();
    /// ```
    #[track_caller]
    #[inline]
    pub const fn new_completed() -> Once {
        let once = Once::with_init_class(InitClass::at_site::<shape::Once>(Location::caller()));
        Once {
            state: AtomicU8::new(OnceState::Done as u8),
            ..once
        }
    }

    /// A new `Once` of the named class `class`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{LockClass, Once};
    /// static CONFIG: LockClass = LockClass::new("config init");
    /// let once = Once::with_class(&CONFIG);
    /// once.call_once(|| {});
    /// ```
    #[inline]
    pub const fn with_class(class: &'static LockClass) -> Once {
        Once::with_init_class(InitClass::with_class(class))
    }

    const fn with_init_class(class: InitClass) -> Once {
        Once {
            once: std::sync::Once::new(),
            state: AtomicU8::new(OnceState::New as u8),
            class,
        }
    }

    /// The held-stack identity of this `Once`: its address.
    #[inline]
    fn instance(&self) -> usize {
        self as *const Once as usize
    }

    /// The current state.
    ///
    /// # Examples
    ///
    /// ```
    /// let once = lockdep::Once::new();
    /// once.call_once(|| {});
    /// assert_eq!(once.state(), lockdep::OnceState::Done);
    /// ```
    #[inline]
    pub fn state(&self) -> OnceState {
        OnceState::from_u8(self.state.load(Ordering::Acquire))
    }

    /// True once an initializer completed (or for a [`new_completed`](Once::new_completed)
    /// `Once`); false while none has, one is running, or the last one panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// let once = lockdep::Once::new();
    /// assert!(!once.is_completed());
    /// once.call_once(|| {});
    /// assert!(once.is_completed());
    /// ```
    #[inline]
    pub fn is_completed(&self) -> bool {
        self.state.load(Ordering::Acquire) == OnceState::Done as u8
    }

    /// Blocks until an initializer has completed (parking_lot 0.13's `wait`), validated as a
    /// blocking acquisition of this `Once`'s class, as `call_once` is.
    ///
    /// # Panics
    ///
    /// If the `Once` is poisoned (an initializer panicked and none has completed since); see
    /// [`wait_force`](Once::wait_force).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::Once;
    /// static READY: Once = Once::new();
    /// let waiter = std::thread::spawn(|| READY.wait());
    /// READY.call_once(|| {});
    /// waiter.join().unwrap();
    /// ```
    #[track_caller]
    #[inline]
    pub fn wait(&self) {
        if self.waited(Location::caller()) {
            self.once.wait();
        }
    }

    /// Like [`wait`](Once::wait), but a poisoned `Once` is waited for too, until an
    /// initializer completes.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::Once;
    /// use std::sync::Arc;
    /// let once = Arc::new(Once::new());
    /// let _ = std::panic::catch_unwind(|| once.call_once(|| panic!("init failed")));
    /// let other = Arc::clone(&once);
    /// let waiter = std::thread::spawn(move || other.wait_force());
    /// once.call_once_force(|state| assert!(state.is_poisoned()));
    /// waiter.join().unwrap();
    /// ```
    #[track_caller]
    #[inline]
    pub fn wait_force(&self) {
        if self.waited(Location::caller()) {
            self.once.wait_force();
        }
    }

    /// Runs `f` if no initializer has completed, else returns at once; when another thread is
    /// running one, waits for it. Validated as a blocking acquisition of this `Once`'s class
    /// (which records nothing when this thread holds no lock); `f` runs with the class held.
    ///
    /// # Panics
    ///
    /// If an earlier initializer panicked (the `Once` is poisoned), and with `f`'s panic.
    ///
    /// # Examples
    ///
    /// ```
    /// static INIT: lockdep::Once = lockdep::Once::new();
    /// INIT.call_once(|| println!("once"));
    /// ```
    #[track_caller]
    #[inline]
    pub fn call_once<F: FnOnce()>(&self, f: F) {
        let site = Location::caller();
        if self.waited(site) {
            self.once.call_once(|| self.run(site, f));
        }
    }

    /// Like [`call_once`](Once::call_once), but also runs on a poisoned `Once`; `f` is told the
    /// state (`New` or `Poisoned`).
    ///
    /// # Examples
    ///
    /// ```
    /// let once = lockdep::Once::new();
    /// let _ = std::panic::catch_unwind(|| once.call_once(|| panic!("init failed")));
    /// assert!(once.state().poisoned());
    /// once.call_once_force(|state| assert!(state.poisoned()));
    /// assert!(once.state().done());
    /// ```
    #[track_caller]
    #[inline]
    pub fn call_once_force<F: FnOnce(OnceState)>(&self, f: F) {
        let site = Location::caller();
        if self.waited(site) {
            self.once.call_once_force(|std_state| {
                let state = match std_state.is_poisoned() {
                    true => OnceState::Poisoned,
                    false => OnceState::New,
                };
                self.run(site, || f(state))
            });
        }
    }

    /// Validates a call at `site` that may wait for the initialization; whether it is still
    /// to be run (or waited for).
    #[inline]
    fn waited(&self, site: &'static Location<'static>) -> bool {
        // Ours, not std's: a `new_completed` one never ran std's.
        let complete = self.is_completed();
        self.class.wait(self.instance(), site, complete);
        !complete
    }

    /// Runs the initializer `f` with the class held, keeping `state` up to date.
    fn run(&self, site: &'static Location<'static>, f: impl FnOnce()) {
        /// Marks the `Once` poisoned if the initializer unwinds.
        struct Poison<'a>(&'a AtomicU8);
        impl Drop for Poison<'_> {
            fn drop(&mut self) {
                self.0.store(OnceState::Poisoned as u8, Ordering::Release);
            }
        }
        self.state
            .store(OnceState::InProgress as u8, Ordering::Release);
        let poison = Poison(&self.state);
        self.class.run(self.instance(), site, true, f);
        std::mem::forget(poison);
        self.state.store(OnceState::Done as u8, Ordering::Release);
    }
}

impl Default for Once {
    #[track_caller]
    fn default() -> Once {
        Once::new()
    }
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Once")
            .field("state", &self.state())
            .finish()
    }
}
