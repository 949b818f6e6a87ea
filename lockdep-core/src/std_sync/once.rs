//! `sync::Once`: std's `Once`, whose initialization is a class (see `hook::init_class`).

use crate::shape;
use std::fmt;
use std::panic::Location;
use std::sync::OnceState;

use crate::hook::init_class::InitClass;

/// A one-time initialization with the API of [`std::sync::Once`], checked as a class: the
/// class is its creation site, held while the closure of `call_once` runs, and every call that
/// may wait for it (`call_once`, `call_once_force`, `wait`, `wait_force`) is validated as an
/// acquisition of it, also once it is complete. So an initializer that takes a lock which is
/// held elsewhere around a call on the same `Once` is reported as a circular dependency,
/// without the deadlock having to happen.
///
/// A closure that calls into its own `Once` is reported as the same lock taken twice, then
/// panics (std would deadlock). Built without the `enabled` feature,
/// `lockdep::sync::Once` is `std::sync::Once` itself.
///
/// # Examples
///
/// ```
/// use lockdep::sync::Once;
///
/// static INIT: Once = Once::new();
/// let mut runs = 0;
/// INIT.call_once(|| runs += 1);
/// INIT.call_once(|| runs += 1);
/// assert_eq!(runs, 1);
/// assert!(INIT.is_completed());
/// ```
pub struct Once {
    inner: std::sync::Once,
    class: InitClass,
}

/// A [`Once`] with no class, never checked: all its copies would share the one class of
/// this constant's definition. Use [`Once::new`].
///
/// # Examples
///
/// ```
/// # #![allow(deprecated)]
/// static START: lockdep::sync::Once = lockdep::sync::ONCE_INIT;
/// START.call_once(|| {});
/// ```
#[deprecated(note = "the `Once::new()` function is now preferred (as in std)")]
#[allow(clippy::declare_interior_mutable_const)] // std's constant, for code that names it
pub const ONCE_INIT: Once = Once {
    inner: std::sync::Once::new(),
    class: InitClass::unkeyed(),
};

impl Once {
    /// A new `Once`, whose class is the caller's source location.
    ///
    /// # Examples
    ///
    /// ```
    /// static INIT: lockdep::sync::Once = lockdep::sync::Once::new();
    /// assert!(!INIT.is_completed());
    /// ```
    #[track_caller]
    #[inline]
    #[allow(clippy::new_without_default)] // std's `Once` has no `Default`
    pub const fn new() -> Once {
        Once {
            inner: std::sync::Once::new(),
            class: InitClass::at_site::<shape::Once>(Location::caller()),
        }
    }

    /// The held-stack identity of this `Once`.
    #[inline]
    fn instance(&self) -> usize {
        self as *const Once as usize
    }

    /// Validates a call at `site` that may wait for this `Once`; whether it is complete (the
    /// call has nothing left to do).
    #[inline]
    fn check_wait(&self, site: &'static Location<'static>) -> bool {
        let complete = self.inner.is_completed();
        self.class.wait(self.instance(), site, complete);
        complete
    }

    /// Runs `f` if no closure ran to completion on this `Once` yet, else waits for the one
    /// running; `f` runs with this `Once`'s class held.
    ///
    /// # Panics
    ///
    /// When the `Once` is poisoned (an earlier closure panicked), as std. When `f` calls into
    /// this same `Once` (reported first).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::Once;
    ///
    /// static mut VALUE: usize = 0;
    /// static INIT: Once = Once::new();
    /// INIT.call_once(|| {
    ///     // SAFETY: written once, under the `Once`, before any read.
    ///     unsafe { VALUE = 42 }
    /// });
    /// ```
    #[track_caller]
    #[inline]
    pub fn call_once<F: FnOnce()>(&self, f: F) {
        let site = Location::caller();
        if !self.check_wait(site) {
            self.inner
                .call_once(|| self.class.run(self.instance(), site, true, f));
        }
    }

    /// Like [`call_once`](Once::call_once), but runs also when the `Once` is poisoned; the
    /// closure is told so by its [`OnceState`].
    ///
    /// # Panics
    ///
    /// When `f` calls into this same `Once` (reported first).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::Once;
    ///
    /// let once = Once::new();
    /// let _ = std::panic::catch_unwind(|| once.call_once(|| panic!("poisons once")));
    /// once.call_once_force(|state| assert!(state.is_poisoned()));
    /// assert!(once.is_completed());
    /// ```
    #[track_caller]
    #[inline]
    pub fn call_once_force<F: FnOnce(&OnceState)>(&self, f: F) {
        let site = Location::caller();
        if !self.check_wait(site) {
            self.inner
                .call_once_force(|state| self.class.run(self.instance(), site, true, || f(state)));
        }
    }

    /// True once a closure ran to completion on this `Once`. Never blocks: nothing is
    /// recorded.
    ///
    /// # Examples
    ///
    /// ```
    /// let once = lockdep::sync::Once::new();
    /// assert!(!once.is_completed());
    /// once.call_once(|| {});
    /// assert!(once.is_completed());
    /// ```
    #[inline]
    pub fn is_completed(&self) -> bool {
        self.inner.is_completed()
    }

    /// Blocks until a closure ran to completion on this `Once`; validated as an acquisition
    /// of its class.
    ///
    /// # Panics
    ///
    /// When the `Once` is poisoned, as std; when this thread is running its closure
    /// (reported first).
    ///
    /// # Examples
    ///
    /// ```
    /// let once = lockdep::sync::Once::new();
    /// once.call_once(|| {});
    /// once.wait(); // complete: returns at once
    /// ```
    #[track_caller]
    #[inline]
    pub fn wait(&self) {
        if !self.check_wait(Location::caller()) {
            self.inner.wait();
        }
    }

    /// Like [`wait`](Once::wait), ignoring poisoning: waits until a closure runs to
    /// completion (after a panic, one of [`call_once_force`](Once::call_once_force)).
    ///
    /// # Panics
    ///
    /// When this thread is running its closure (reported first).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::Once;
    ///
    /// let once = Once::new();
    /// let _ = std::panic::catch_unwind(|| once.call_once(|| panic!("poisons once")));
    /// std::thread::scope(|s| {
    ///     s.spawn(|| once.call_once_force(|state| assert!(state.is_poisoned())));
    ///     once.wait_force(); // poisoned: waits for the recovery, does not panic
    /// });
    /// assert!(once.is_completed());
    /// ```
    #[track_caller]
    #[inline]
    pub fn wait_force(&self) {
        if !self.check_wait(Location::caller()) {
            self.inner.wait_force();
        }
    }
}

impl fmt::Debug for Once {
    /// As std's: `Once { .. }`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Once").finish_non_exhaustive()
    }
}
