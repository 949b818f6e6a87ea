//! Pool options.

use std::panic::Location;
use std::sync::Arc;

use lockdep_core::{ClassKind, LockdepMap};

use crate::shared::{AllocFn, FreeFn, Shared};
use crate::{Mempool, PoolError};

/// Options for a [`Mempool`]: its name, a free callback, and whether it is on the reclaim
/// path.
///
/// # Examples
///
/// ```
/// use lockdep::mempool::Mempool;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
///
/// let freed = Arc::new(AtomicUsize::new(0));
/// let f = Arc::clone(&freed);
/// let pool = Mempool::builder(1, || Some(String::from("request")))
///     .name("doc-builder-requests")
///     .free(move |_s| { f.fetch_add(1, Ordering::Relaxed); })
///     .reclaim_path(false)
///     .build()
///     .unwrap();
/// // Both made by the allocation function. (A second *blocking* `alloc()` while this thread
/// // holds an element of the pool would be reported: pool recursion.)
/// let (a, b) = (pool.alloc(), pool.try_alloc().unwrap());
/// drop((a, b)); // the reserve is still full: both are freed
/// assert_eq!(freed.load(Ordering::Relaxed), 2);
/// ```
#[must_use = "a builder does nothing until .build()"]
pub struct Builder<T> {
    min_nr: usize,
    alloc: AllocFn<T>,
    free: Option<FreeFn<T>>,
    name: Option<String>,
    reclaim_path: bool,
    site: &'static Location<'static>,
}

/// The ways to create a pool: all go through a [`Builder`].
impl<T> Mempool<T> {
    /// A pool of `min_nr` elements made by `alloc`, whose class is the caller's location.
    ///
    /// # Panics
    ///
    /// If `alloc` cannot preallocate `min_nr` elements; use [`Mempool::builder`] for a
    /// `Result`.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = lockdep::mempool::Mempool::new(2, || Some(0u64));
    /// assert_eq!(pool.min_nr(), 2);
    /// ```
    #[track_caller]
    pub fn new(min_nr: usize, alloc: impl Fn() -> Option<T> + Send + Sync + 'static) -> Self {
        Self::builder(min_nr, alloc)
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// A pool whose class is `name`; pools with the same name share a class.
    ///
    /// # Panics
    ///
    /// If `alloc` cannot preallocate `min_nr` elements.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = lockdep::mempool::Mempool::named("doc-named-pool", 1, || Some('x'));
    /// assert_eq!(*pool.alloc(), 'x');
    /// ```
    #[track_caller]
    pub fn named(
        name: impl AsRef<str>,
        min_nr: usize,
        alloc: impl Fn() -> Option<T> + Send + Sync + 'static,
    ) -> Self {
        Self::builder(min_nr, alloc)
            .name(name)
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Options: name, free callback, reclaim path. See [`Builder`].
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = lockdep::mempool::Mempool::builder(1, || Some(1u8))
    ///     .reclaim_path(false)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(pool.free_count(), 1);
    /// ```
    #[track_caller]
    pub fn builder(
        min_nr: usize,
        alloc: impl Fn() -> Option<T> + Send + Sync + 'static,
    ) -> Builder<T> {
        Builder::new(min_nr, Box::new(alloc), Location::caller())
    }
}

impl<T> Builder<T> {
    fn new(min_nr: usize, alloc: AllocFn<T>, site: &'static Location<'static>) -> Builder<T> {
        Builder {
            min_nr,
            alloc,
            free: None,
            name: None,
            reclaim_path: true,
            site,
        }
    }

    /// Names the pool's class (else its class is the creation site). Pools with the same name
    /// share a class.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = lockdep::mempool::Mempool::builder(1, || Some(0u8)).name("doc-shared").build().unwrap();
    /// let b = lockdep::mempool::Mempool::builder(1, || Some(0u8)).name("doc-shared").build().unwrap();
    /// assert_eq!(a.class_name(), b.class_name());
    /// ```
    pub fn name(mut self, name: impl AsRef<str>) -> Self {
        self.name = Some(name.as_ref().to_owned());
        self
    }

    /// Called with each object the pool frees (when an element is dropped with the reserve
    /// full, or the pool is dropped). Without it the object is simply dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let freed = Arc::new(AtomicUsize::new(0));
    /// let f = Arc::clone(&freed);
    /// let pool = lockdep::mempool::Mempool::builder(2, || Some(0u8))
    ///     .free(move |_| { f.fetch_add(1, Ordering::Relaxed); })
    ///     .build()
    ///     .unwrap();
    /// drop(pool); // frees the reserve
    /// assert_eq!(freed.load(Ordering::Relaxed), 2);
    /// ```
    pub fn free(mut self, free: impl Fn(T) + Send + Sync + 'static) -> Self {
        self.free = Some(Box::new(free));
        self
    }

    /// Whether memory reclaim may wait for this pool's elements (default `true`): such a pool
    /// gets the dependency `ALLOC → pool`. A pool that reclaim never uses can say `false`; it
    /// still takes part in ordinary lock cycles.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::{might_alloc, Mutex};
    /// # lockdep::set_mode(lockdep::Mode::Collect);
    ///
    /// // A pool of request tags that memory reclaim never uses.
    /// let tags = lockdep::mempool::Mempool::builder(4, || Some(0u16))
    ///     .name("doc-tags")
    ///     .reclaim_path(false)
    ///     .build()
    ///     .unwrap();
    /// let queue = Mutex::new(());
    /// drop((tags.alloc(), queue.lock())); // tags → queue
    /// let q = queue.lock();
    /// might_alloc(); // queue → ALLOC: no livelock, reclaim does not wait for tags
    /// drop(q);
    /// assert!(!lockdep::violations().iter().any(|v| v.involves("doc-tags")));
    /// ```
    pub fn reclaim_path(mut self, on_reclaim_path: bool) -> Self {
        self.reclaim_path = on_reclaim_path;
        self
    }

    /// Creates the pool, preallocating `min_nr` elements; fails if the allocation function
    /// cannot make them all (those it made are freed).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockdep::mempool::Mempool;
    /// assert!(Mempool::builder(2, || Some(0u8)).build().is_ok());
    /// assert!(Mempool::<u8>::builder(2, || None).build().is_err());
    /// ```
    pub fn build(self) -> Result<Mempool<T>, PoolError> {
        let class = match &self.name {
            Some(name) => LockdepMap::named_at(name, ClassKind::Pool, self.site),
            None => LockdepMap::at(ClassKind::Pool, self.site),
        };
        if self.reclaim_path {
            class.needed_by_reclaim();
        }
        let mut elements = Vec::with_capacity(self.min_nr);
        while elements.len() < self.min_nr {
            match (self.alloc)() {
                Some(value) => elements.push(value),
                None => {
                    let got = elements.len();
                    if let Some(free) = &self.free {
                        elements.into_iter().for_each(free);
                    }
                    return Err(PoolError {
                        wanted: self.min_nr,
                        got,
                    });
                }
            }
        }
        let shared = Shared::new(elements, self.min_nr, self.alloc, self.free, class);
        Ok(Mempool::with_shared(Arc::new(shared)))
    }
}

impl<T> std::fmt::Debug for Builder<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("min_nr", &self.min_nr)
            .field("name", &self.name)
            .field("reclaim_path", &self.reclaim_path)
            .field("site", &self.site)
            .finish_non_exhaustive()
    }
}
