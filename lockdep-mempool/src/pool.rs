//! The pool: a reserve of preallocated elements, refilled by returned elements.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lockdep_core::{untracked_scope, Acquiring, Hold};

use crate::shared::Shared;
use crate::{Element, ResizeError};

/// How long a blocked `alloc()` sleeps before trying the allocation function again, in case
/// memory came back without any element being returned (the kernel waits 5 s).
const RETRY_ALLOCATOR_EVERY: Duration = Duration::from_millis(200);

/// A pool of preallocated elements that guarantees its users forward progress when memory is
/// short, checked by lockdep against the mempool rule.
///
/// Its class is its creation site, or its name ([`Mempool::named`]).
///
/// # Examples
///
/// ```
/// use lockdep::mempool::Mempool;
///
/// let pool = Mempool::named("doc-bio-pool", 4, || Some([0u8; 512]));
/// let bio = pool.alloc();           // blocks only if memory and the reserve are both empty
/// assert_eq!(bio.len(), 512);
/// assert!(pool.try_alloc().is_some()); // never blocks
/// ```
pub struct Mempool<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Mempool<T> {
    /// The pool over `shared`.
    pub(crate) fn with_shared(shared: Arc<Shared<T>>) -> Self {
        Mempool { shared }
    }

    /// An element: from the allocation function if it has memory, else from the reserve, else
    /// waits until another element is returned (the kernel's `mempool_alloc`). Never fails.
    ///
    /// For lockdep this is a blocking acquisition of the pool's class (it reports pool
    /// recursion and lock cycles through the pool) and an allocation (held locks → `ALLOC`);
    /// the thread holds the class until the element is dropped, handed off, or adopted by
    /// another thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = lockdep::mempool::Mempool::new(1, || Some(String::new()));
    /// let mut s = pool.alloc();
    /// s.push_str("hello");
    /// ```
    #[track_caller]
    pub fn alloc(&self) -> Element<T> {
        let acquiring = self.before_alloc();
        let value = loop {
            if let Some(value) = self.wait_for_value(None) {
                break value;
            }
        };
        self.element(value, acquiring.acquired())
    }

    /// The start of a blocking allocation, at the caller's site: validated as an acquisition
    /// of the pool (`held → pool`, pool recursion included) and, as the kernel's
    /// `mempool_alloc()` starts with `might_alloc()`, as an allocation (`held → ALLOC`),
    /// unless this thread is reclaiming, whose allocations do not recurse into reclaim.
    #[track_caller]
    #[inline]
    fn before_alloc(&self) -> Acquiring<'_> {
        let acquiring = self.shared.class.acquire();
        if !lockdep_core::in_reclaim_scope() {
            lockdep_core::might_alloc();
        }
        acquiring
    }

    /// Like [`alloc`](Mempool::alloc), giving up after `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// // No reserve and no memory: nothing can come.
    /// let pool = lockdep::mempool::Mempool::new(0, || None::<u8>);
    /// assert!(pool.alloc_timeout(Duration::from_millis(5)).is_none());
    /// ```
    #[track_caller]
    pub fn alloc_timeout(&self, timeout: Duration) -> Option<Element<T>> {
        let acquiring = self.before_alloc();
        let value = match Instant::now().checked_add(timeout) {
            Some(deadline) => self.wait_for_value(Some(deadline))?,
            // Too far away to represent: as good as forever.
            None => loop {
                if let Some(value) = self.wait_for_value(None) {
                    break value;
                }
            },
        };
        Some(self.element(value, acquiring.acquired()))
    }

    /// An element if one is available now, from the allocation function or the reserve; never
    /// blocks. Not validated as an acquisition (it cannot wait), and not an allocation that may
    /// enter reclaim (the kernel's `GFP_NOWAIT`), but the element is held from now on.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// // Memory for exactly one object: the reserve gets it.
    /// let memory = AtomicBool::new(true);
    /// let pool = lockdep::mempool::Mempool::new(1, move || memory.swap(false, Ordering::Relaxed).then_some(0u8));
    /// let e = pool.try_alloc().expect("the reserved element");
    /// assert!(pool.try_alloc().is_none()); // nothing left: no waiting
    /// drop(e);
    /// assert!(pool.try_alloc().is_some());
    /// ```
    #[track_caller]
    pub fn try_alloc(&self) -> Option<Element<T>> {
        let value = self.take_now()?;
        Some(self.element(value, self.shared.class.try_acquired()))
    }

    /// The allocation function (which must not enter reclaim: the kernel's first attempt drops
    /// `__GFP_DIRECT_RECLAIM`), then the reserve.
    fn take_now(&self) -> Option<T> {
        lockdep_core::noreclaim_scope(|| (self.shared.alloc)())
            .or_else(|| self.shared.lock_reserve().elements.pop())
    }

    /// Waits (until `deadline`, or for one retry period) for an element's value. The wait
    /// for a returned element is a wait for the pool's event: its notifiers are the element
    /// holders, whose way to the return the pool's class already stands for.
    fn wait_for_value(&self, deadline: Option<Instant>) -> Option<T> {
        loop {
            if let Some(value) = self.take_now() {
                return Some(value);
            }
            let now = Instant::now();
            let retry_at = now + RETRY_ALLOCATOR_EVERY;
            let wake_at = deadline.map_or(retry_at, |d| d.min(retry_at));
            let mut reserve = self.shared.lock_reserve();
            // Checked under the lock that returns take: no wake-up can be lost.
            if reserve.elements.is_empty() {
                self.shared.class.wait(|| {
                    untracked_scope(|| self.shared.returned.wait_until(reserve.raw(), wake_at))
                });
            }
            if let Some(value) = reserve.elements.pop() {
                return Some(value);
            }
            drop(reserve);
            match deadline {
                Some(d) if Instant::now() >= d => return None,
                Some(_) => {}
                None => return None,
            }
        }
    }

    fn element(&self, value: T, hold: Hold) -> Element<T> {
        Element::new(value, Arc::clone(&self.shared), hold)
    }

    /// Changes the reserve size (the kernel's `mempool_resize`). Shrinking frees the extra
    /// reserved elements; growing preallocates new ones, which may allocate memory.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = lockdep::mempool::Mempool::new(2, || Some(0u32));
    /// pool.resize(5).unwrap();
    /// assert_eq!((pool.min_nr(), pool.free_count()), (5, 5));
    /// pool.resize(1).unwrap();
    /// assert_eq!((pool.min_nr(), pool.free_count()), (1, 1));
    /// ```
    #[track_caller]
    pub fn resize(&self, new_min_nr: usize) -> Result<(), ResizeError> {
        let mut reserve = self.shared.lock_reserve();
        if new_min_nr <= reserve.min_nr {
            reserve.min_nr = new_min_nr;
            let keep = reserve.elements.len().min(new_min_nr);
            let extra = reserve.elements.split_off(keep);
            drop(reserve);
            extra.into_iter().for_each(|v| self.shared.free_object(v));
            return Ok(());
        }
        let missing = new_min_nr.saturating_sub(reserve.elements.len());
        drop(reserve);
        lockdep_core::might_alloc();
        let mut fresh = Vec::with_capacity(missing);
        for _ in 0..missing {
            match (self.shared.alloc)() {
                Some(value) => fresh.push(value),
                None => {
                    let reserved = self.free_count();
                    fresh.into_iter().for_each(|v| self.shared.free_object(v));
                    return Err(ResizeError {
                        wanted: new_min_nr,
                        reserved,
                    });
                }
            }
        }
        let mut reserve = self.shared.lock_reserve();
        reserve.min_nr = new_min_nr;
        reserve.elements.extend(fresh);
        let keep = reserve.elements.len().min(new_min_nr);
        let extra = reserve.elements.split_off(keep);
        drop(reserve);
        untracked_scope(|| self.shared.returned.notify_all());
        extra.into_iter().for_each(|v| self.shared.free_object(v));
        Ok(())
    }

    /// The reserve size the pool maintains.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = lockdep::mempool::Mempool::new(3, || Some(0u8));
    /// assert_eq!(pool.min_nr(), 3);
    /// ```
    pub fn min_nr(&self) -> usize {
        self.shared.lock_reserve().min_nr
    }

    /// Elements in the reserve now.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = lockdep::mempool::Mempool::new(2, || Some(0u8));
    /// assert_eq!(pool.free_count(), 2);
    /// let pool = lockdep::mempool::Mempool::new(0, || Some(0u8));
    /// let e = pool.alloc(); // from the allocation function: the reserve is untouched
    /// assert_eq!(pool.free_count(), 0);
    /// drop(e); // the reserve is full (min_nr = 0): freed
    /// assert_eq!(pool.free_count(), 0);
    /// ```
    pub fn free_count(&self) -> usize {
        self.shared.lock_reserve().elements.len()
    }

    /// Elements handed out and not yet dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = lockdep::mempool::Mempool::new(1, || Some(()));
    /// let e = pool.alloc();
    /// assert_eq!(pool.outstanding(), 1);
    /// drop(e);
    /// assert_eq!(pool.outstanding(), 0);
    /// ```
    pub fn outstanding(&self) -> usize {
        // Every element keeps the shared state alive: no counter of its own to update.
        Arc::strong_count(&self.shared) - 1
    }

    /// The name of the pool's class as reports print it (empty without the checker).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = lockdep::mempool::Mempool::named("doc-class-name", 1, || Some(0u8));
    /// # #[cfg(feature = "enabled")]
    /// assert_eq!(pool.class_name(), "doc-class-name");
    /// let unnamed = lockdep::mempool::Mempool::new(1, || Some(0u8));
    /// # #[cfg(feature = "enabled")]
    /// assert!(unnamed.class_name().contains(".rs:")); // its creation site
    /// ```
    pub fn class_name(&self) -> &'static str {
        self.shared.class.name()
    }
}

impl<T> Drop for Mempool<T> {
    /// Frees the reserve. Elements still out are reported (a bookkeeping fault, never a
    /// panic); they stay valid and are freed when dropped.
    fn drop(&mut self) {
        let mut reserve = self.shared.lock_reserve();
        reserve.closed = true;
        let elements = std::mem::take(&mut reserve.elements);
        drop(reserve);
        elements
            .into_iter()
            .for_each(|v| self.shared.free_object(v));
        let outstanding = self.outstanding();
        if outstanding > 0 {
            self.shared.class.report_outstanding(outstanding);
        }
    }
}

impl<T> fmt::Debug for Mempool<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mempool")
            .field("class", &self.class_name())
            .field("min_nr", &self.min_nr())
            .field("free_count", &self.free_count())
            .field("outstanding", &self.outstanding())
            .finish()
    }
}
