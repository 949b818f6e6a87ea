//! Named lock classes.

/// A named lock class: every lock created with it shares one node in the dependency graph, so
/// what is learned from one instance applies to all (the kernel's `lock_class_key`).
///
/// Without a `LockClass`, a lock's class is its creation site (`file.rs:LINE:COL`).
///
/// # Examples
///
/// ```
/// use lockdep::{LockClass, Mutex};
///
/// static INODE_LOCK: LockClass = LockClass::new("inode->i_lock");
///
/// let a = Mutex::with_class(1, &INODE_LOCK);
/// let b = Mutex::with_class(2, &INODE_LOCK);
/// assert_eq!(INODE_LOCK.name(), "inode->i_lock");
/// # drop((a, b));
/// ```
pub struct LockClass {
    name: &'static str,
    #[cfg(feature = "enabled")]
    pub(crate) id: std::sync::atomic::AtomicU32,
}

impl LockClass {
    /// A class with this name. Usable in a `static`.
    pub const fn new(name: &'static str) -> Self {
        LockClass {
            name,
            #[cfg(feature = "enabled")]
            id: std::sync::atomic::AtomicU32::new(0),
        }
    }

    /// The class's name, as printed in reports.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// A class whose name is only known at run time (for generated code and benchmarks). The
    /// class lives for the rest of the process, like every class.
    ///
    /// # Examples
    ///
    /// ```
    /// let class = lockdep::LockClass::leak(format!("shard-{}", 3));
    /// assert_eq!(class.name(), "shard-3");
    /// ```
    pub fn leak(name: String) -> &'static LockClass {
        Box::leak(Box::new(LockClass::new(Box::leak(name.into_boxed_str()))))
    }
}

impl std::fmt::Debug for LockClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("LockClass").field(&self.name).finish()
    }
}
