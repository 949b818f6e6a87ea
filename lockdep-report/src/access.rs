//! How a lock is acquired, in the kernel's terms: the vocabulary the lock types speak to the
//! checker in, and reports show.

/// How a class is acquired or held: the kernel's `hlock->read`.
///
/// # Examples
///
/// ```
/// use lockdep_report::Access;
///
/// assert!(Access::Read.is_shared());
/// assert_eq!(Access::RecursiveRead.as_str(), "recursive_read");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Access {
    /// Exclusive: `lock()`, `write()`, a pool element, `ALLOC`.
    Write = 0,
    /// Non-recursive shared: `RwLock::read()`, an upgradable read (it queues behind a waiting
    /// writer).
    Read = 1,
    /// Recursive shared: `RwLock::read_recursive()` (never waits behind a writer while
    /// readers hold the lock).
    RecursiveRead = 2,
}

impl Access {
    /// Held shared (the kernel's `S` in `-(S?)->`).
    #[inline]
    pub fn is_shared(self) -> bool {
        self != Access::Write
    }

    /// A stable name, for JSON: `write`, `read` or `recursive_read`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Access::Write => "write",
            Access::Read => "read",
            Access::RecursiveRead => "recursive_read",
        }
    }
}
