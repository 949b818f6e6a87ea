//! `sync::LazyLock`: a value computed on first access, whose initialization is a class (see
//! `hook::init_class`), on this module's [`OnceLock`].

use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::{Location, RefUnwindSafe, UnwindSafe};

use super::once_lock::OnceLock;

/// A value initialized on first access, with the API of [`std::sync::LazyLock`], checked as
/// a class: the class is its creation site, held while the initializer runs, and every
/// access that may wait for the initialization (`force`, `*lazy`) is validated as an
/// acquisition of it, also once the value exists. An initializer that takes a lock `L`,
/// and a dereference made while holding `L`, make a cycle that is reported without the
/// deadlock having to happen.
///
/// Built without the `enabled` feature, `lockdep::sync::LazyLock` is `std::sync::LazyLock`
/// itself.
///
/// # Examples
///
/// ```
/// use lockdep::sync::LazyLock;
/// use std::collections::HashMap;
///
/// static PRIMES: LazyLock<HashMap<u32, bool>> =
///     LazyLock::new(|| [2, 3, 5, 7].into_iter().map(|p| (p, true)).collect());
/// assert!(PRIMES.contains_key(&5));
/// ```
pub struct LazyLock<T, F = fn() -> T> {
    cell: OnceLock<T>,
    /// The initializer until it is taken, by the one thread that runs the cell's
    /// initialization (or by `&mut` access). `None` afterwards: if the value is still
    /// missing then, the initializer panicked and the `LazyLock` is poisoned.
    init: UnsafeCell<Option<F>>,
}

// SAFETY: `init` is used, through `&self`, only by the thread that runs the cell's
// initialization, which `OnceLock` makes one at a time (so `F` only needs to be `Send`);
// the value is shared as `OnceLock<T>` shares it (`T: Sync + Send`). As std's.
unsafe impl<T: Sync + Send, F: Send> Sync for LazyLock<T, F> {}

// As std's.
impl<T: RefUnwindSafe + UnwindSafe, F: UnwindSafe> RefUnwindSafe for LazyLock<T, F> {}
impl<T: UnwindSafe, F: UnwindSafe> UnwindSafe for LazyLock<T, F> {}

impl<T, F: FnOnce() -> T> LazyLock<T, F> {
    /// A new `LazyLock` that will compute its value with `f`; its class is the caller's
    /// source location.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::LazyLock;
    ///
    /// let lazy = LazyLock::new(|| 6 * 7);
    /// assert_eq!(*lazy, 42);
    /// ```
    #[track_caller]
    #[inline]
    pub const fn new(f: F) -> LazyLock<T, F> {
        LazyLock {
            cell: OnceLock::new(),
            init: UnsafeCell::new(Some(f)),
        }
    }

    /// The value, computed first if needed (with the class held; other threads wait for
    /// it). Validated as an acquisition of the class, as is `*lazy`.
    ///
    /// # Panics
    ///
    /// When the initializer panics, and on every access after that (poisoned), as std. When
    /// the initializer reaches this same `LazyLock` (reported first; std would deadlock).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::LazyLock;
    ///
    /// let lazy = LazyLock::new(|| 92);
    /// assert_eq!(LazyLock::force(&lazy), &92);
    /// ```
    #[track_caller]
    #[inline]
    pub fn force(this: &LazyLock<T, F>) -> &T {
        this.cell.get_or_init_at(Location::caller(), || {
            // SAFETY: only the one thread that runs the cell's initialization gets here, and
            // nothing else touches `init` through a shared reference (see the `Sync` impl).
            let init = unsafe { &mut *this.init.get() };
            call(init)
        })
    }

    /// The value, mutably, computed first if needed (exclusive access: no one waits, only
    /// what the initializer takes is recorded).
    ///
    /// # Panics
    ///
    /// When the initializer panics, and on every access after that (poisoned).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::LazyLock;
    ///
    /// let mut lazy = LazyLock::new(|| vec![1]);
    /// LazyLock::force_mut(&mut lazy).push(2);
    /// assert_eq!(*lazy, [1, 2]);
    /// ```
    #[track_caller]
    #[inline]
    pub fn force_mut(this: &mut LazyLock<T, F>) -> &mut T {
        let init = this.init.get_mut();
        this.cell
            .get_mut_or_init_at(Location::caller(), || call(init))
    }
}

/// Takes and runs the initializer.
///
/// # Panics
///
/// When it was taken before: an earlier run panicked, the `LazyLock` is poisoned.
fn call<T, F: FnOnce() -> T>(init: &mut Option<F>) -> T {
    match init.take() {
        Some(f) => f(),
        None => panic!("LazyLock instance has previously been poisoned"),
    }
}

impl<T, F> LazyLock<T, F> {
    /// The value, if it was computed. Never blocks: nothing is recorded.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::LazyLock;
    ///
    /// let lazy = LazyLock::new(|| 1);
    /// assert_eq!(LazyLock::get(&lazy), None);
    /// let _ = *lazy;
    /// assert_eq!(LazyLock::get(&lazy), Some(&1));
    /// ```
    #[inline]
    pub fn get(this: &LazyLock<T, F>) -> Option<&T> {
        this.cell.get()
    }

    /// The value, mutably, if it was computed.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::LazyLock;
    ///
    /// let mut lazy = LazyLock::new(|| 1);
    /// assert_eq!(LazyLock::get_mut(&mut lazy), None);
    /// LazyLock::force(&lazy);
    /// *LazyLock::get_mut(&mut lazy).unwrap() = 2;
    /// assert_eq!(*lazy, 2);
    /// ```
    #[inline]
    pub fn get_mut(this: &mut LazyLock<T, F>) -> Option<&mut T> {
        this.cell.get_mut()
    }
}

impl<T, F: FnOnce() -> T> Deref for LazyLock<T, F> {
    type Target = T;

    /// [`LazyLock::force`].
    #[track_caller]
    #[inline]
    fn deref(&self) -> &T {
        LazyLock::force(self)
    }
}

impl<T, F: FnOnce() -> T> DerefMut for LazyLock<T, F> {
    /// [`LazyLock::force_mut`].
    #[track_caller]
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        LazyLock::force_mut(self)
    }
}

impl<T: Default> Default for LazyLock<T> {
    /// A `LazyLock` of `T::default()`, whose class is the caller's source location.
    #[track_caller]
    #[inline]
    fn default() -> LazyLock<T> {
        LazyLock::new(T::default)
    }
}

impl<T: fmt::Debug, F> fmt::Debug for LazyLock<T, F> {
    /// As std's: `LazyLock(value)` or `LazyLock(<uninit>)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_tuple("LazyLock");
        match LazyLock::get(self) {
            Some(value) => d.field(value),
            None => d.field(&format_args!("<uninit>")),
        };
        d.finish()
    }
}
