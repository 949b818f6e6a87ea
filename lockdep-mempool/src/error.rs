//! Errors of pool creation and resizing.

use std::fmt;

/// Creating a pool failed: the allocation function could not preallocate `min_nr` elements.
///
/// # Examples
///
/// ```
/// use lockdep::mempool::Mempool;
/// let err = Mempool::<u8>::builder(3, || None).build().unwrap_err();
/// assert_eq!(err.to_string(), "mempool: could preallocate only 0 of 3 elements");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolError {
    pub(crate) wanted: usize,
    pub(crate) got: usize,
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "mempool: could preallocate only {} of {} elements",
            self.got, self.wanted
        )
    }
}

impl std::error::Error for PoolError {}

/// Growing a pool failed: the allocation function returned `None` before the reserve reached
/// the new `min_nr`. The pool keeps its old `min_nr` and reserve.
///
/// # Examples
///
/// ```
/// use lockdep::mempool::Mempool;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// let budget = AtomicUsize::new(2);
/// let pool = Mempool::new(2, move || budget.fetch_sub(1, Ordering::Relaxed).checked_sub(1).map(|_| 0u8));
/// assert!(pool.resize(4).is_err());
/// assert_eq!(pool.min_nr(), 2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResizeError {
    pub(crate) wanted: usize,
    pub(crate) reserved: usize,
}

impl fmt::Display for ResizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "mempool: cannot grow the reserve to {} elements (have {})",
            self.wanted, self.reserved
        )
    }
}

impl std::error::Error for ResizeError {}
