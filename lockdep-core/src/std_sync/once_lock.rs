//! `sync::OnceLock`: std's `OnceLock`, whose initialization is a class (see `hook::init_class`).

use crate::shape;
use std::fmt;
use std::panic::Location;

use crate::hook::init_class::InitClass;

/// A cell written once, with the API of [`std::sync::OnceLock`], checked as a class: the
/// class is its creation site, held while an initializer runs, and every call that may wait
/// for an initialization (`get_or_init`, `set`, `wait`) is validated as an acquisition of
/// it, also once the cell is full. Calls that never wait (`get`, `get_mut`, `take`,
/// `into_inner`) record nothing.
///
/// Built without the `enabled` feature, `lockdep::sync::OnceLock` is `std::sync::OnceLock`
/// itself.
///
/// # Examples
///
/// ```
/// use lockdep::sync::OnceLock;
///
/// static CONFIG: OnceLock<String> = OnceLock::new();
/// assert!(CONFIG.get().is_none());
/// assert_eq!(CONFIG.get_or_init(|| "ready".to_owned()), "ready");
/// assert_eq!(CONFIG.get().map(String::as_str), Some("ready"));
/// ```
pub struct OnceLock<T> {
    inner: std::sync::OnceLock<T>,
    class: InitClass,
}

impl<T> OnceLock<T> {
    /// A new empty cell, whose class is the caller's source location.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = lockdep::sync::OnceLock::<u32>::new();
    /// assert_eq!(cell.get(), None);
    /// ```
    #[track_caller]
    #[inline]
    pub const fn new() -> OnceLock<T> {
        OnceLock {
            inner: std::sync::OnceLock::new(),
            class: InitClass::at_site::<shape::OnceLock<T>>(Location::caller()),
        }
    }

    /// The held-stack identity of this cell.
    #[inline]
    fn instance(&self) -> usize {
        self as *const OnceLock<T> as usize
    }

    /// The value, if the cell is full. Never blocks: nothing is recorded.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = lockdep::sync::OnceLock::new();
    /// assert_eq!(cell.get(), None);
    /// cell.set(1).unwrap();
    /// assert_eq!(cell.get(), Some(&1));
    /// ```
    #[inline]
    pub fn get(&self) -> Option<&T> {
        self.inner.get()
    }

    /// The value, mutably, if the cell is full.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut cell = lockdep::sync::OnceLock::from(1);
    /// *cell.get_mut().unwrap() += 1;
    /// assert_eq!(cell.get(), Some(&2));
    /// ```
    #[inline]
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.inner.get_mut()
    }

    /// Blocks until the cell is full; validated as an acquisition of its class.
    ///
    /// # Panics
    ///
    /// When this thread is running the cell's initializer (reported first).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::sync::{Arc, OnceLock};
    ///
    /// let cell = Arc::new(OnceLock::new());
    /// let writer = Arc::clone(&cell);
    /// std::thread::spawn(move || writer.set(7).unwrap());
    /// assert_eq!(*cell.wait(), 7);
    /// ```
    #[track_caller]
    #[inline]
    pub fn wait(&self) -> &T {
        match self.check_wait(Location::caller()) {
            Some(value) => value,
            None => self.inner.wait(),
        }
    }

    /// Fills the cell with `value` unless it is full; may wait for another thread's
    /// initializer (as std's), so it is validated as an acquisition of the class.
    ///
    /// # Errors
    ///
    /// `value`, when the cell was full.
    ///
    /// # Panics
    ///
    /// When this thread is running the cell's initializer (reported first).
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = lockdep::sync::OnceLock::new();
    /// assert_eq!(cell.set(1), Ok(()));
    /// assert_eq!(cell.set(2), Err(2));
    /// ```
    #[track_caller]
    #[inline]
    pub fn set(&self, value: T) -> Result<(), T> {
        let mut value = Some(value);
        self.get_or_init_at(Location::caller(), || value.take().unwrap());
        match value {
            None => Ok(()),
            Some(value) => Err(value),
        }
    }

    /// The value, running `f` with the class held to fill the cell if it is empty (at most
    /// one thread runs an initializer; the others wait for it).
    ///
    /// # Panics
    ///
    /// When `f` panics (the panic goes on, the cell stays empty). When `f` calls into this
    /// same cell (reported first; std would deadlock).
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = lockdep::sync::OnceLock::new();
    /// assert_eq!(*cell.get_or_init(|| 92), 92);
    /// assert_eq!(*cell.get_or_init(|| unreachable!()), 92);
    /// ```
    #[track_caller]
    #[inline]
    pub fn get_or_init<F: FnOnce() -> T>(&self, f: F) -> &T {
        self.get_or_init_at(Location::caller(), f)
    }

    /// [`get_or_init`](OnceLock::get_or_init) called at `site`.
    #[inline]
    pub(super) fn get_or_init_at(
        &self,
        site: &'static Location<'static>,
        f: impl FnOnce() -> T,
    ) -> &T {
        match self.check_wait(site) {
            Some(value) => value,
            None => self
                .inner
                .get_or_init(|| self.class.run(self.instance(), site, true, f)),
        }
    }

    /// The value, running `f` with the class held to fill the cell if it is empty: with
    /// exclusive access no one waits for it, so only what `f` takes is recorded.
    #[inline]
    pub(super) fn get_mut_or_init_at(
        &mut self,
        site: &'static Location<'static>,
        f: impl FnOnce() -> T,
    ) -> &mut T {
        if self.inner.get().is_none() {
            let value = self.class.run(self.instance(), site, false, f);
            // Cannot fail: the cell is empty and borrowed mutably.
            let _ = self.inner.set(value);
        }
        self.inner
            .get_mut()
            .expect("the cell was filled just above")
    }

    /// Validates a call at `site` that may wait for this cell; its value if it is full (the
    /// call has nothing left to do).
    #[inline]
    fn check_wait(&self, site: &'static Location<'static>) -> Option<&T> {
        let value = self.inner.get();
        self.class.wait(self.instance(), site, value.is_some());
        value
    }

    /// Consumes the cell, returning its value if it was full.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = lockdep::sync::OnceLock::from("hello".to_owned());
    /// assert_eq!(cell.into_inner().as_deref(), Some("hello"));
    /// ```
    #[inline]
    pub fn into_inner(self) -> Option<T> {
        self.inner.into_inner()
    }

    /// Empties the cell, returning its value if it was full.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut cell = lockdep::sync::OnceLock::from(1);
    /// assert_eq!(cell.take(), Some(1));
    /// assert_eq!(cell.get(), None);
    /// ```
    #[inline]
    pub fn take(&mut self) -> Option<T> {
        self.inner.take()
    }
}

impl<T> Default for OnceLock<T> {
    /// An empty cell, whose class is the caller's source location.
    #[track_caller]
    #[inline]
    fn default() -> OnceLock<T> {
        OnceLock::new()
    }
}

impl<T> From<T> for OnceLock<T> {
    /// A full cell, whose class is the caller's source location.
    #[track_caller]
    #[inline]
    fn from(value: T) -> OnceLock<T> {
        OnceLock {
            inner: std::sync::OnceLock::from(value),
            class: InitClass::at_site::<shape::OnceLock<T>>(Location::caller()),
        }
    }
}

impl<T: Clone> Clone for OnceLock<T> {
    /// A cell holding a clone of the value, if any, whose class is the caller's source
    /// location.
    #[track_caller]
    #[inline]
    fn clone(&self) -> OnceLock<T> {
        match self.get() {
            Some(value) => OnceLock::from(value.clone()),
            None => OnceLock::new(),
        }
    }
}

impl<T: PartialEq> PartialEq for OnceLock<T> {
    /// Equal when both are empty, or both full of equal values.
    #[inline]
    fn eq(&self, other: &OnceLock<T>) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceLock<T> {}

impl<T: fmt::Debug> fmt::Debug for OnceLock<T> {
    /// As std's: `OnceLock(value)` or `OnceLock(<uninit>)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}
